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

#include "api/errno.h"
#include "runtime/loop_msg.h"

typedef struct wx_client wx_client_t;

typedef struct wx_client_config {
    const char *api_base; /* "https://api.weixin.qq.com" or the emulator's base; no trailing '/' */
    const char *app_id;
    const char *app_secret; /* secret */
    const char *ca_file;    /* NULL = system store */
    int timeout_ms;
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

#endif
