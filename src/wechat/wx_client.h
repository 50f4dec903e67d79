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

/*
 * POST /cgi-bin/message/subscribe/send: one subscription message (订阅消息) to touser.
 * data_json is the text of the "data" object ({"thing1":{"value":"..."},...}), built by the
 * caller; it is borrowed until on_done. A message is never retried (but once with a fresh token
 * on 40001/42001/40014, which WeChat refused before sending anything), nor sent on a reused
 * connection that might repeat it. msgid is WeChat's id of the message, read as a 64-bit integer
 * (its values pass 2^53). Refused without a call: touser empty or unterminated (40003), a
 * template_id empty (40037), a page starting with '/' (41030).
 */
#define WX_TEMPLATE_ID_MAX 128

typedef struct wx_subscribe_req {
    loop_msg_t msg;
    char touser[WX_ID_SIZE];
    char template_id[WX_TEMPLATE_ID_MAX + 1];
    char page[WX_PAGE_MAX + 1 + 64]; /* "pages/meeting/detail/detail?id=7"; "" = none */
    char miniprogram_state[16];      /* developer | trial | formal; "" = not sent */
    char lang[8];                    /* zh_CN, ...; "" = not sent */
    const char *data_json;
    /* the result */
    wx_outcome_t outcome;
    long errcode;
    int http_status;
    bool token_failed; /* as in wx_phone_result_t */
    int64_t msgid;
    wx_submission_t _submission; /* internal */
    int _attempts;               /* internal */
} wx_subscribe_req_t;

void wx_send_subscribe(wx_client_t *client, wx_subscribe_req_t *req);

/* Reads an answer of subscribe/send: WX_OK with *msgid (an integer, or a string of digits),
 * WX_ERRCODE, or WX_BAD_RESPONSE (not JSON, errcode 0 without a msgid). */
void wx_parse_subscribe(const char *body, size_t len, wx_outcome_t *outcome, long *errcode, int64_t *msgid);

/*
 * Content security (内容安全), version 2 (/work/shared/wechat-more-apis.md §1.3). Both need the
 * openid of a user who opened the mini program within the last 2 hours (else errcode 61010) and a
 * scene: 1 资料 (profile), 2 评论 (comment), 3 论坛 (forum), 4 社交日志 (social log). They are retried
 * only once with a fresh token on 40001/42001/40014. Neither the content, the media URL nor the
 * openid is ever logged. Their errors: wx_error_lookup_api(WX_API_MSG_SEC_CHECK or
 * WX_API_MEDIA_CHECK, or WX_API_TOKEN when token_failed); 61010 is API_SESSION_KEY_STALE (log in
 * again: wx.login records the visit WeChat lost).
 */
#define WX_SEC_SCENE_MIN    1
#define WX_SEC_SCENE_MAX    4
#define WX_SEC_CONTENT_MAX  2500 /* code points of msg_sec_check's content */
#define WX_TRACE_ID_SIZE    64   /* WeChat's trace_id: 1..63 visible ASCII characters */
#define WX_MEDIA_URL_MAX    2048 /* bytes */
#define WX_MEDIA_TYPE_AUDIO 1
#define WX_MEDIA_TYPE_IMAGE 2

/* WeChat's verdict (result.suggest). WX_SUGGEST_NONE: no verdict (outcome is not WX_OK). */
typedef enum wx_suggest {
    WX_SUGGEST_NONE = 0,
    WX_SUGGEST_PASS = 1,   /* "pass" */
    WX_SUGGEST_REVIEW = 2, /* "review": a human should look (or block it: the caller's policy) */
    WX_SUGGEST_RISKY = 3,  /* "risky": block it */
} wx_suggest_t;

typedef struct wx_msg_sec_check_result {
    wx_outcome_t outcome; /* WX_OK: suggest is PASS, REVIEW or RISKY */
    long errcode;
    int http_status;
    bool token_failed; /* as in wx_phone_result_t */
    wx_suggest_t suggest;
    long label;                      /* result.label (100 normal, 20001 politics, ...); 0 when absent */
    char trace_id[WX_TRACE_ID_SIZE]; /* "" when WeChat sent none (or one that is no sane id) */
} wx_msg_sec_check_result_t;

/*
 * POST /wxa/msg_sec_check: is a user's text acceptable? Sends {content, version: 2, scene, openid}
 * and title, nickname, signature when not NULL or "". The strings are borrowed until on_done.
 * Refused without a call (outcome WX_ERRCODE): content NULL or "" (44002), scene outside 1..4
 * (40129), openid empty or unterminated (40003), content over WX_SEC_CONTENT_MAX code points or
 * content, title, nickname or signature not valid UTF-8 (47001). The error table counts these as
 * our faults: callers check the user's text first (402 for a text too long).
 */
typedef struct wx_msg_sec_check_req {
    loop_msg_t msg;
    const char *content; /* UTF-8, borrowed */
    int scene;           /* 1..4 */
    char openid[WX_ID_SIZE];
    const char *title;     /* NULL or "" = not sent; borrowed */
    const char *nickname;  /* NULL or "" = not sent; borrowed */
    const char *signature; /* NULL or "" = not sent (only meaningful with scene 1); borrowed */
    wx_msg_sec_check_result_t result;
    wx_submission_t _submission; /* internal */
    int _attempts;               /* internal */
} wx_msg_sec_check_req_t;

void wx_msg_sec_check(wx_client_t *client, wx_msg_sec_check_req_t *req);

/* Reads an HTTP 200 answer of msg_sec_check into out (outcome, errcode, suggest, label, trace_id;
 * http_status and token_failed are left alone):
 * - WX_OK: errcode 0 or absent, and result.suggest "pass", "review" or "risky"; result.label
 *   an integer 0..2^31-1 or a string of 1..9 digits (WeChat sends both), or absent/null (0);
 *   trace_id when it is a string of 1..63 visible ASCII characters, else "";
 * - WX_ERRCODE: an integer errcode != 0;
 * - WX_BAD_RESPONSE: not a JSON object, no result or suggest, an unknown suggest, a label of
 *   another kind. Unless WX_OK, suggest is WX_SUGGEST_NONE, label 0 and trace_id "". */
void wx_parse_msg_sec_check(const char *body, size_t len, wx_msg_sec_check_result_t *out);

typedef struct wx_media_check_result {
    wx_outcome_t outcome; /* WX_OK: accepted; the verdict is pushed later (消息推送) with trace_id */
    long errcode;
    int http_status;
    bool token_failed; /* as in wx_phone_result_t */
    char trace_id[WX_TRACE_ID_SIZE];
} wx_media_check_result_t;

/*
 * POST /wxa/media_check_async: asks WeChat to download and check an image or audio file; the
 * verdict arrives within 30 minutes as a wxa_media_check event of the message push, matched by
 * trace_id (store it). Sends {media_url, media_type, version: 2, scene, openid}. Refused without
 * a call (outcome WX_ERRCODE): media_url empty, unterminated, not starting with http:// or
 * https:// or holding a space or control character (47001), media_type not 1 or 2 (47001),
 * scene outside 1..4 (40129), openid empty or unterminated (40003).
 */
typedef struct wx_media_check_req {
    loop_msg_t msg;
    char media_url[WX_MEDIA_URL_MAX + 1]; /* publicly downloadable; its real type must be media_type */
    int media_type;                       /* WX_MEDIA_TYPE_AUDIO or WX_MEDIA_TYPE_IMAGE */
    int scene;                            /* 1..4 */
    char openid[WX_ID_SIZE];
    wx_media_check_result_t result;
    wx_submission_t _submission; /* internal */
    int _attempts;               /* internal */
} wx_media_check_req_t;

void wx_media_check_async(wx_client_t *client, wx_media_check_req_t *req);

/* Reads an HTTP 200 answer of media_check_async (outcome, errcode, trace_id; the rest is left
 * alone): WX_OK needs errcode 0 or absent and a trace_id of 1..63 visible ASCII characters;
 * WX_ERRCODE for an integer errcode != 0; else WX_BAD_RESPONSE. trace_id is "" unless WX_OK. */
void wx_parse_media_check(const char *body, size_t len, wx_media_check_result_t *out);

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
 * 40029 is "not a phone code", 1400001 the quota; for checksession 87009 is "stale"; for the
 * content checks 61010 is "the user has not opened the mini program lately"). */
typedef enum wx_api {
    WX_API_CODE2SESSION,
    WX_API_PHONE,
    WX_API_CHECKSESSION,
    WX_API_TOKEN,
    WX_API_WXACODE,
    WX_API_MSG_SEC_CHECK, /* 61010 (no visit within 2 h): the user logs in again */
    WX_API_MEDIA_CHECK,
} wx_api_t;
const wx_error_t *wx_error_lookup_api(wx_api_t api, wx_outcome_t outcome, long errcode);

#endif
