/*
 * wx_client — MeetOA's calls to WeChat's servers, event-driven, off the event loops.
 *
 * One thread runs a libcurl multi handle; any number of calls wait on WeChat at once
 * without holding a thread each. A loop submits a request (from its own thread) and gets
 * the answer back through its loop_msg (runtime/loop_msg.h): the request's msg.on_done
 * runs on the submitting loop with the result filled in.
 *
 * Guarantees:
 * - HTTPS with certificate and host checks always on (CURLOPT_SSL_VERIFYPEER/HOST);
 *   an optional CA file replaces the system store (tests use it with a private CA).
 *   Plain http:// bases are allowed (the local emulator).
 * - Each call has the configured total timeout; a timed-out call ends as WX_TIMEOUT.
 * - code2Session is never retried (a code is single-use). Identical codes in flight at
 *   once share one upstream call: every waiter gets a copy of the same result.
 * - Secrets (app secret, session_key) never reach a log line: URLs are logged without
 *   their query string.
 */
#ifndef MEETOA_WECHAT_WX_CLIENT_H
#define MEETOA_WECHAT_WX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/errno.h"
#include "runtime/loop_msg.h"

typedef struct wx_client wx_client_t;

typedef struct wx_client_config {
    const char *api_base; /* "https://api.weixin.qq.com" or the emulator's base; no trailing '/' */
    const char *app_id;
    const char *app_secret; /* secret */
    const char *ca_file;    /* NULL = system store */
    int timeout_ms;
    bool use_stable_token; /* access_token from POST /cgi-bin/stable_token (true) or GET /cgi-bin/token */
} wx_client_config_t;

/* How a call ended. */
typedef enum wx_outcome {
    WX_OK = 0,           /* WeChat answered 200 with errcode 0 (or none) and every field needed */
    WX_ERRCODE = 1,      /* WeChat answered an errcode != 0 (in result.errcode) */
    WX_TIMEOUT = 2,      /* no complete answer within timeout_ms */
    WX_UNREACHABLE = 3,  /* DNS, connect or TLS failure (certificate refused included) */
    WX_BAD_RESPONSE = 4, /* HTTP status not 200, not JSON, or a needed field missing */
} wx_outcome_t;

#define WX_CODE_MAX         128 /* longest js_code accepted */
#define WX_ID_SIZE          64  /* openid / unionid buffer */
#define WX_SESSION_KEY_SIZE 32

typedef struct wx_session_result {
    wx_outcome_t outcome;
    long errcode;    /* WeChat's errcode when outcome == WX_ERRCODE */
    int http_status; /* 0 when none was received */
    char openid[WX_ID_SIZE];
    char unionid[WX_ID_SIZE];              /* "" when WeChat sent none */
    char session_key[WX_SESSION_KEY_SIZE]; /* base64 text, 24 chars; secret */
} wx_session_result_t;

/* Internal: how a request waits in the client's submission queue until its thread takes it. */
typedef struct wx_submission {
    struct wx_submission *next;
    void (*start)(wx_client_t *client, struct wx_submission *submission);
} wx_submission_t;

/* A code2Session call. Allocate it (e.g. inside a job), fill msg with loop_msg_init() and
 * code, then submit. The client owns nothing in it; it must stay alive until on_done. */
typedef struct wx_code2session_req {
    loop_msg_t msg;
    char code[WX_CODE_MAX + 1];
    wx_session_result_t result;
    struct wx_code2session_req *_next; /* internal: other waiters on the same code */
    wx_submission_t _submission;       /* internal: set by wx_code2session() */
} wx_code2session_req_t;

/* Starts the client thread. NULL and one line in err on failure. */
wx_client_t *wx_client_start(const wx_client_config_t *config, char *err, size_t err_size);
/* Stops the thread; calls still in flight end with WX_UNREACHABLE and are delivered first. */
void wx_client_stop(wx_client_t *client);

/* Submits GET /sns/jscode2session for req->code. Thread-safe; never blocks on the network.
 * Without a call to WeChat: a code that is empty or not NUL-terminated within code[] ends as
 * WX_ERRCODE 40029 (what WeChat answers to a bad code; callers should reject such codes first),
 * and a submission after wx_client_stop() has begun ends as WX_UNREACHABLE. Either way on_done
 * still runs on the submitting loop. */
void wx_code2session(wx_client_t *client, wx_code2session_req_t *req);

/*
 * Parsing of WeChat's answers: pure functions, any thread (the client thread uses them; the
 * unit tests call them directly).
 *
 * wx_parse_code2session reads the body of an HTTP 200 answer to code2Session and sets
 * out->outcome, errcode, openid, unionid and session_key (http_status is left alone):
 * - WX_OK: errcode absent or 0, openid of 1..63 characters [A-Za-z0-9_-], session_key of
 *   exactly 24 characters of base64 of 16 bytes (22 base64 characters and "=="), unionid
 *   absent, null or "" (-> "") or like openid;
 * - WX_ERRCODE: an integer errcode != 0 (out->errcode);
 * - WX_BAD_RESPONSE: anything else (not a JSON object, wrong types, missing or insane fields).
 * On any outcome but WX_OK the three text fields are "".
 */
void wx_parse_code2session(const char *body, size_t len, wx_session_result_t *out);

/*
 * ---- APIs that need the server's access_token ----
 *
 * The client keeps one access_token for the app, on its own thread: fetched when first
 * needed, reused until shortly before its expires_in, refreshed by exactly one call however
 * many requests need it at once (requests that arrive meanwhile wait for that call). A call
 * answered 40001, 42001 or 40014 refreshes the token once and is retried once. With
 * stable_token the refresh first asks with force_refresh=false (another instance may have
 * the current token already) and uses force_refresh=true only when WeChat keeps returning
 * the token it just refused, at most 20 times a day and 30 s apart, as WeChat allows. The
 * token itself is never logged; refreshes are logged with their expiry.
 */

/* POST /wxa/business/getuserphonenumber: the code of <button open-type="getPhoneNumber">. */
typedef struct wx_phone_result {
    wx_outcome_t outcome;
    long errcode;
    int http_status;
    char phone_number[32];      /* "+86 13800138000" or "13800138000" */
    char pure_phone_number[24]; /* "13800138000" */
    char country_code[8];       /* "86": a string, whether WeChat sent a string or a number */
    char watermark_appid[WX_ID_SIZE];
    /* The call was never made: fetching the access_token failed, and outcome/errcode are that
     * fetch's. Look them up with WX_API_TOKEN (40001 there is our bad secret, not a stale token). */
    bool token_failed;
} wx_phone_result_t;

typedef struct wx_phone_req {
    loop_msg_t msg;
    char code[WX_CODE_MAX + 1];
    char openid[WX_ID_SIZE]; /* "" = not sent; else binds the code to that user */
    wx_phone_result_t result;
    wx_submission_t _submission; /* internal */
    int _attempts;               /* internal */
} wx_phone_req_t;

void wx_get_phone_number(wx_client_t *client, wx_phone_req_t *req);

/* GET /wxa/checksession: is the session_key we hold for openid still the valid one?
 * signature = hex(HMAC-SHA256(key = session_key base64 TEXT, message = "")). */
typedef struct wx_checksession_req {
    loop_msg_t msg;
    char openid[WX_ID_SIZE];
    char signature[65];
    wx_outcome_t outcome; /* WX_OK: valid; WX_ERRCODE with errcode 87009: stale */
    long errcode;
    int http_status;
    bool token_failed;           /* as in wx_phone_result_t */
    wx_submission_t _submission; /* internal */
    int _attempts;               /* internal */
} wx_checksession_req_t;

void wx_check_session(wx_client_t *client, wx_checksession_req_t *req);

/*
 * POST /wxa/getwxacodeunlimit: a mini program code (小程序码) that opens page with scene.
 * WeChat answers the image's bytes, or JSON {errcode} on failure: an answer that is a JSON
 * object ends as WX_ERRCODE (or WX_BAD_RESPONSE without an errcode); anything else is WX_OK
 * with the bytes in image (malloc'd, the caller frees it; the caller checks that they are an
 * image: wechat does not judge image formats). Refused without a call: a scene empty, longer
 * than 32 characters or not NUL-terminated (40169, as WeChat), a page starting with '/' (41030).
 */
#define WX_SCENE_MAX       32
#define WX_PAGE_MAX        127
#define WX_WXACODE_MAX_LEN (4 * 1024 * 1024) /* larger answers are not WeChat's */

typedef struct wx_wxacode_req {
    loop_msg_t msg;
    char scene[WX_SCENE_MAX + 1];
    char page[WX_PAGE_MAX + 1]; /* "pages/checkin/index": no leading '/', no query */
    char env_version[16];       /* "release", "trial", "develop"; "" = not sent (release) */
    int width;                  /* 280..1280; 0 = not sent (430) */
    bool check_path;            /* false: the page need not be in the published version */
    /* the result */
    wx_outcome_t outcome;
    long errcode;
    int http_status;
    bool token_failed; /* as in wx_phone_result_t */
    unsigned char *image;
    size_t image_len;
    wx_submission_t _submission; /* internal */
    int _attempts;               /* internal */
} wx_wxacode_req_t;

void wx_get_wxacode(wx_client_t *client, wx_wxacode_req_t *req);

/* Makes sure the manager holds an access_token (fetching one if needed) and reports how that
 * went: outcome WX_OK, or the token fetch's failure. For `meetoa wx-token`. */
typedef struct wx_token_probe_req {
    loop_msg_t msg;
    wx_outcome_t outcome;
    long errcode;
    int http_status;
    wx_submission_t _submission; /* internal */
    int _attempts;               /* internal */
} wx_token_probe_req_t;
void wx_probe_token(wx_client_t *client, wx_token_probe_req_t *req);

/* The access_token manager's state, for logs and `meetoa` output (never the token). */
typedef struct wx_token_status {
    bool have_token;
    int64_t expires_at; /* epoch seconds; 0 when none */
    long fetches;       /* successful token fetches since start */
    long failures;      /* failed token fetches since start */
    long force_refreshes_today;
    long last_errcode; /* of the last failed fetch, 0 if none */
    char api[16];      /* "stable_token" or "token" */
} wx_token_status_t;
/* Thread-safe snapshot. */
void wx_client_token_status(wx_client_t *client, wx_token_status_t *out);

/*
 * The one table that maps a call's end to MeetOA's answer: errno, errmsg, and whether it is
 * a server configuration fault (to be logged loudly). For WX_OK returns NULL.
 */
typedef enum wx_fault { WX_FAULT_CLIENT, WX_FAULT_TRANSIENT, WX_FAULT_CONFIG } wx_fault_t;
typedef struct wx_error {
    long errcode; /* WeChat's, or 0 for the non-errcode outcomes */
    api_errno_t api_errno;
    const char *errmsg; /* what the mini program shows */
    wx_fault_t fault;
} wx_error_t;
const wx_error_t *wx_error_lookup(wx_outcome_t outcome, long errcode);
/* The same for the other APIs, whose codes mean other things to the user (for getuserphonenumber
 * 40029 is "not a phone code", 1400001 the quota; for checksession 87009 is "stale"). */
typedef enum wx_api { WX_API_CODE2SESSION, WX_API_PHONE, WX_API_CHECKSESSION, WX_API_TOKEN, WX_API_WXACODE } wx_api_t;
const wx_error_t *wx_error_lookup_api(wx_api_t api, wx_outcome_t outcome, long errcode);

#endif
