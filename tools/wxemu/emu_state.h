/*
 * emu_state — what wxemu remembers: configured apps, wx.login() codes, the users' current
 * session_keys, injected faults and call counters. Pure logic: no I/O, no clock, no h2o.
 *
 * Contract:
 * - Time is passed in by the caller (now_ms, any monotonic millisecond clock), so tests can move it.
 * - Text comes in as slices (pointer + length, not NUL-terminated); a slice with base == NULL means
 *   "the parameter was absent", which WeChat answers differently from an empty value.
 * - Memory is bounded: at most EMU_MAX_CODES live codes (expired ones are purged on every issue
 *   and exchange) and EMU_MAX_SESSIONS remembered session_keys (the oldest user is forgotten first).
 * - Ownership: emu_state_new() returns an object owned by the caller, freed by emu_state_free().
 *   Every output is copied into caller-provided buffers; nothing returned points into the state.
 * - Not thread-safe: one emu_state_t is used by one thread (wxemu runs a single event loop).
 * - Secrets (app secrets, session_keys) are only ever copied into the caller's buffers, never logged.
 */
#ifndef WXEMU_EMU_STATE_H
#define WXEMU_EMU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_APPID_MAX       64
#define EMU_SECRET_MAX      128
#define EMU_USER_MAX        64
#define EMU_PATH_MAX        64
#define EMU_CODE_LEN        32 /* base64url of 24 random bytes */
#define EMU_OPENID_LEN      28 /* 'o' + 27 base64url characters, like WeChat's */
#define EMU_SESSION_KEY_LEN 24 /* base64 of 16 bytes */
#define EMU_CODE_TTL_MS     (5 * 60 * 1000)
#define EMU_MAX_APPS        16
#define EMU_MAX_FAULTS      64
#define EMU_MAX_STAT_PATHS  32
#define EMU_MAX_CODES       (1u << 18)
#define EMU_MAX_SESSIONS    (1u << 18)

typedef struct emu_slice {
    const char *base; /* NULL: absent */
    size_t len;
} emu_slice_t;

/* A slice of a NUL-terminated string (NULL gives an absent slice). */
emu_slice_t emu_slice_cstr(const char *s);

typedef enum emu_status {
    EMU_OK = 0,
    EMU_EINVAL, /* missing, empty or too long input */
    EMU_EEXIST, /* the app is already configured */
    EMU_ENOENT, /* no such app / code */
    EMU_EFULL,  /* a bound was reached */
    EMU_ERANDOM /* the OS random source failed */
} emu_status_t;

typedef struct emu_state emu_state_t;

emu_state_t *emu_state_new(void);
void emu_state_free(emu_state_t *st);

/* Apps ------------------------------------------------------------------------------------------ */

/* Adds an app. appid: 1..EMU_APPID_MAX bytes, secret: 1..EMU_SECRET_MAX bytes, neither with ':' in
 * the appid nor NUL bytes. EMU_EEXIST when the appid is configured already, EMU_EFULL past EMU_MAX_APPS. */
emu_status_t emu_state_add_app(emu_state_t *st, emu_slice_t appid, emu_slice_t secret);
bool emu_state_has_app(const emu_state_t *st, emu_slice_t appid);
size_t emu_state_app_count(const emu_state_t *st);

/* Identities ------------------------------------------------------------------------------------ */

/* openid of user in app appid: 'o' + base64url(SHA-256(appid, user))[0..27). Deterministic, so stable
 * across exchanges and restarts. out must hold EMU_OPENID_LEN + 1. */
void emu_openid(emu_slice_t appid, emu_slice_t user, char out[EMU_OPENID_LEN + 1]);
/* unionid of user, the same in every app. out must hold EMU_OPENID_LEN + 1. */
void emu_unionid(emu_slice_t user, char out[EMU_OPENID_LEN + 1]);

/* Codes (the phone's side) --------------------------------------------------------------------- */

typedef struct emu_login {
    char code[EMU_CODE_LEN + 1];
    char openid[EMU_OPENID_LEN + 1];
    char unionid[EMU_OPENID_LEN + 1];
} emu_login_t;

/* What wx.login() gives user on the phone: a fresh single-use code valid EMU_CODE_TTL_MS from now_ms.
 * EMU_ENOENT for an unconfigured appid, EMU_EINVAL for an empty or too long user, EMU_EFULL when
 * EMU_MAX_CODES unexpired codes exist. */
emu_status_t emu_state_issue_code(emu_state_t *st, emu_slice_t appid, emu_slice_t user, int64_t now_ms,
                                  emu_login_t *out);
/* Makes code expired as of now_ms (a test shortcut for waiting 5 minutes). EMU_ENOENT if unknown. */
emu_status_t emu_state_expire_code(emu_state_t *st, emu_slice_t code, int64_t now_ms);
/* Forgets codes that expired at or before now_ms; returns how many. Called by issue and exchange. */
size_t emu_state_purge(emu_state_t *st, int64_t now_ms);
/* Codes held (used or not) that have not been purged yet. */
size_t emu_state_code_count(const emu_state_t *st);

/* code2Session ---------------------------------------------------------------------------------- */

typedef struct emu_j2s_request {
    emu_slice_t appid, secret, js_code, grant_type;
} emu_j2s_request_t;

typedef struct emu_j2s_result {
    char openid[EMU_OPENID_LEN + 1];
    char unionid[EMU_OPENID_LEN + 1];
    char session_key[EMU_SESSION_KEY_LEN + 1];
} emu_j2s_result_t;

/*
 * GET /sns/jscode2session. Returns WeChat's errcode, checked in this order: 41002 appid missing,
 * 41004 secret missing, 41008 js_code missing, 40013 unknown appid, 40125 wrong secret, 40002
 * grant_type not "authorization_code", 40029 code unknown / expired / of another app, 40163 code
 * used already, -1 random source failure. On 0, out is filled, the code is consumed and the new
 * session_key becomes the user's current one for that app. On error, nothing changes.
 */
int emu_state_jscode2session(emu_state_t *st, const emu_j2s_request_t *rq, int64_t now_ms, emu_j2s_result_t *out);

/* The user's current session_key for appid (the one the last successful exchange gave).
 * Returns false when there is none. out must hold EMU_SESSION_KEY_LEN + 1. */
bool emu_state_session_key(const emu_state_t *st, emu_slice_t appid, emu_slice_t user,
                           char out[EMU_SESSION_KEY_LEN + 1]);
size_t emu_state_session_count(const emu_state_t *st);

/* Faults ---------------------------------------------------------------------------------------- */

typedef struct emu_fault {
    char path[EMU_PATH_MAX + 1]; /* exact request path, no query */
    int errcode;                 /* != 0: answer {"errcode":N,...} instead of calling the endpoint */
    uint32_t delay_ms;           /* stall the answer this long */
    int http_status;             /* != 0: answer this HTTP status with a non-JSON body */
    bool malformed;              /* answer 200 with broken JSON */
    bool drop;                   /* close the connection without answering */
    uint32_t count;              /* how many calls it still applies to (>= 1 when added) */
} emu_fault_t;

/* Queues a fault (copied). Faults on one path apply in the order they were added. EMU_EINVAL when
 * the path is empty, too long or does not start with '/', or count is 0; EMU_EFULL past EMU_MAX_FAULTS. */
emu_status_t emu_state_add_fault(emu_state_t *st, const emu_fault_t *fault);
void emu_state_clear_faults(emu_state_t *st);
/* If a fault is queued for path, copies it into out (out->count: how many remain after this one),
 * counts it down (dropping it at zero) and returns true. */
bool emu_state_take_fault(emu_state_t *st, emu_slice_t path, emu_fault_t *out);
size_t emu_state_fault_count(const emu_state_t *st);

/* Call counters ----------------------------------------------------------------------------------- */

/* Counts one call on path (paths beyond EMU_MAX_STAT_PATHS distinct ones are not counted). */
void emu_state_count_call(emu_state_t *st, emu_slice_t path);
uint64_t emu_state_calls(const emu_state_t *st, emu_slice_t path);
/* Iteration: the i-th counted path (NUL-terminated, valid until the next reset) and its count. */
size_t emu_state_stat_paths(const emu_state_t *st);
const char *emu_state_stat_at(const emu_state_t *st, size_t i, uint64_t *calls);
void emu_state_reset_stats(emu_state_t *st);

#endif
