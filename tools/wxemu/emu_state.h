/*
 * emu_state — what wxemu remembers: configured apps, wx.login() codes and phone codes, the users'
 * current session_keys (by (app, user) and by openid) and when they last visited, the apps'
 * access_tokens, subscription templates, quotas and sent messages, content-security words, the media
 * checks accepted, injected faults and call counters. Pure logic: no I/O, no clock, no h2o.
 *
 * Contract:
 * - Time is passed in by the caller (now_ms, any monotonic millisecond clock), so tests can move it.
 * - Text comes in as slices (pointer + length, not NUL-terminated); a slice with base == NULL means
 *   "the parameter was absent", which WeChat answers differently from an empty value.
 * - Memory is bounded: at most EMU_MAX_CODES live codes (login and phone codes together; expired ones
 *   are purged on every issue and exchange), EMU_MAX_SESSIONS remembered session_keys (the oldest
 *   user is forgotten first), per app and token API, one current access_token plus at most
 *   EMU_TOKEN_OLD_MAX superseded ones still in their grace period, EMU_SUB_QUOTAS_MAX subscription
 *   quotas and the last EMU_SUB_SENT_MAX sent messages and EMU_MEDIA_LOG_MAX accepted media checks
 *   (the oldest is forgotten first).
 * - Ownership: emu_state_new() returns an object owned by the caller, freed by emu_state_free().
 *   Every output is copied into caller-provided buffers; nothing returned points into the state.
 * - Not thread-safe: one emu_state_t is used by one thread (wxemu runs a single event loop).
 * - Secrets (app secrets, session_keys, access_tokens) are only ever copied into the caller's
 *   buffers, never logged.
 */
#ifndef WXEMU_EMU_STATE_H
#define WXEMU_EMU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_APPID_MAX        64
#define EMU_SECRET_MAX       128
#define EMU_USER_MAX         64
#define EMU_PATH_MAX         64
#define EMU_CODE_LEN         32 /* base64url of 24 random bytes */
#define EMU_OPENID_LEN       28 /* 'o' + 27 base64url characters, like WeChat's */
#define EMU_SESSION_KEY_LEN  24 /* base64 of 16 bytes */
#define EMU_CODE_TTL_MS      (5 * 60 * 1000)
#define EMU_MAX_APPS         16
#define EMU_MAX_FAULTS       64
#define EMU_MAX_STAT_PATHS   32
#define EMU_MAX_CODES        (1u << 18)
#define EMU_MAX_SESSIONS     (1u << 18)
#define EMU_TOKEN_LEN        128 /* base64url of 96 random bytes (WeChat's are up to 512) */
#define EMU_TOKEN_TTL_MS     (7200 * 1000)
#define EMU_TOKEN_GRACE_MS   (5 * 60 * 1000) /* a superseded token keeps working this long */
#define EMU_TOKEN_OLD_MAX    16              /* superseded tokens kept per app and API */
#define EMU_FORCE_PER_DAY    20              /* stable_token force_refresh: per app, any 24 hours */
#define EMU_FORCE_SPACING_MS 30000           /* and this far apart */
#define EMU_DAY_MS           (24 * 3600 * 1000)
#define EMU_PHONE_MAX        20  /* digits of a phone number */
#define EMU_COUNTRY_MAX      4   /* digits of a country code */
#define EMU_SIGNATURE_LEN    64  /* hex of HMAC-SHA256 */
#define EMU_FAULT_CODE_MAX   128 /* a fault's code filter (MeetOA sends codes of at most 128 bytes) */

typedef struct emu_slice {
    const char *base; /* NULL: absent */
    size_t len;
} emu_slice_t;

/* A slice of a NUL-terminated string (NULL gives an absent slice). */
emu_slice_t emu_slice_cstr(const char *s);

typedef enum emu_status {
    EMU_OK = 0,
    EMU_EINVAL,  /* missing, empty or too long input */
    EMU_EEXIST,  /* the app is already configured */
    EMU_ENOENT,  /* no such app / code */
    EMU_EFULL,   /* a bound was reached */
    EMU_ERANDOM, /* the OS random source failed */
    EMU_ENOUSER, /* the openid is not one wxemu issued in that app (no wx.login() code for the user) */
    EMU_ENOTPL   /* no such subscription template in that app */
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
 * Like wx.login() at WeChat it rotates the user's session_key: a new one is made, becomes the user's
 * current one for that app at once, and is what exchanging this code answers.
 * EMU_ENOENT for an unconfigured appid, EMU_EINVAL for an empty or too long user, EMU_EFULL when
 * EMU_MAX_CODES unexpired codes exist, EMU_ERANDOM when the random source failed. */
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
 * used already, -1 out of memory. On 0, out is filled with the session_key made when the code was
 * issued, the code is consumed and that key is recorded as the user's current one for that app (it
 * already is, unless a newer code was issued since). On error, nothing changes.
 */
int emu_state_jscode2session(emu_state_t *st, const emu_j2s_request_t *rq, int64_t now_ms, emu_j2s_result_t *out);

/* The user's current session_key for appid: the one of their latest wx.login() code, or of the code
 * exchanged last if that came later. Returns false when there is none (no code was ever issued to the
 * user in that app, or the record was forgotten). out must hold EMU_SESSION_KEY_LEN + 1. */
bool emu_state_session_key(const emu_state_t *st, emu_slice_t appid, emu_slice_t user,
                           char out[EMU_SESSION_KEY_LEN + 1]);
size_t emu_state_session_count(const emu_state_t *st);

/* Faults ---------------------------------------------------------------------------------------- */

typedef struct emu_fault {
    char path[EMU_PATH_MAX + 1];       /* exact request path, no query */
    int errcode;                       /* != 0: answer {"errcode":N,...} instead of calling the endpoint */
    uint32_t delay_ms;                 /* stall the answer this long */
    int http_status;                   /* != 0: answer this HTTP status with a non-JSON body */
    bool malformed;                    /* answer 200 with broken JSON */
    bool drop;                         /* close the connection without answering */
    uint32_t count;                    /* how many calls it still applies to (>= 1 when added) */
    char code[EMU_FAULT_CODE_MAX + 1]; /* non-empty: only calls carrying this code (see below) */
} emu_fault_t;

/* Queues a fault (copied). Faults on one path apply in the order they were added. EMU_EINVAL when
 * the path is empty, too long or does not start with '/', count is 0, or code is not NUL-terminated;
 * EMU_EFULL past EMU_MAX_FAULTS. */
emu_status_t emu_state_add_fault(emu_state_t *st, const emu_fault_t *fault);
void emu_state_clear_faults(emu_state_t *st);
/* If a fault is queued for path, copies it into out (out->count: how many remain after this one),
 * counts it down (dropping it at zero) and returns true. Same as emu_state_take_fault_for with an
 * absent code: faults with a code filter are passed by. */
bool emu_state_take_fault(emu_state_t *st, emu_slice_t path, emu_fault_t *out);
/* As emu_state_take_fault for a call that carries code (the js_code of jscode2session, the code of
 * getuserphonenumber; absent: the call has none): the first fault queued for path that has no code
 * filter or whose filter equals code applies; faults filtering on another code are passed by and
 * keep their count, so other users' calls go through while one code fails. */
bool emu_state_take_fault_for(emu_state_t *st, emu_slice_t path, emu_slice_t code, emu_fault_t *out);
size_t emu_state_fault_count(const emu_state_t *st);

/* Call counters ----------------------------------------------------------------------------------- */

/* Counts one call on path (paths beyond EMU_MAX_STAT_PATHS distinct ones are not counted). */
void emu_state_count_call(emu_state_t *st, emu_slice_t path);
uint64_t emu_state_calls(const emu_state_t *st, emu_slice_t path);
/* Iteration: the i-th counted path (NUL-terminated, valid until the next reset) and its count. */
size_t emu_state_stat_paths(const emu_state_t *st);
const char *emu_state_stat_at(const emu_state_t *st, size_t i, uint64_t *calls);
void emu_state_reset_stats(emu_state_t *st);

/* access_token --------------------------------------------------------------------------------- */

/* Lifetime of every access_token minted from now on (default EMU_TOKEN_TTL_MS); ttl_ms > 0. */
void emu_state_set_token_ttl(emu_state_t *st, int64_t ttl_ms);

typedef struct emu_token_request {
    emu_slice_t grant_type, appid, secret;
    bool force_refresh; /* stable_token only */
} emu_token_request_t;

typedef struct emu_token_result {
    char access_token[EMU_TOKEN_LEN + 1];
    int64_t expires_in; /* seconds left */
} emu_token_result_t;

/*
 * GET /cgi-bin/token. Returns WeChat's errcode, in this order: 41002 appid missing, 41004 secret
 * missing, 40013 unknown appid, 40001 wrong secret, 40002 grant_type not "client_credential", -1
 * random source failure. On 0 a new token is minted (expires_in = the whole TTL); the app's previous
 * /cgi-bin/token token keeps working EMU_TOKEN_GRACE_MS more (or until its own expiry, if sooner).
 */
int emu_state_token(emu_state_t *st, const emu_token_request_t *rq, int64_t now_ms, emu_token_result_t *out);

/*
 * POST /cgi-bin/stable_token: the same parameter checks, but 40125 for a wrong secret. Its tokens are
 * independent of /cgi-bin/token's. Normal mode answers the app's current stable token, expires_in
 * being the seconds it has left, until it is within the refresh window of its expiry
 * (EMU_TOKEN_GRACE_MS, or half the TTL when that is shorter) or gone; then it mints a new one.
 * force_refresh mints a new one at most EMU_FORCE_PER_DAY times in any 24 hours (else 45009) and
 * EMU_FORCE_SPACING_MS apart (else 45011). A superseded token keeps its grace, as above.
 */
int emu_state_stable_token(emu_state_t *st, const emu_token_request_t *rq, int64_t now_ms, emu_token_result_t *out);

/* Checks an access_token: 0 when it is an app's current token or a superseded one in its grace,
 * 41001 when absent or empty, 42001 when its lifetime is over (within its grace), 40001 otherwise
 * (unknown, invalidated, superseded past its grace). On 0 and appid != NULL, the app's id is copied
 * there (EMU_APPID_MAX + 1 bytes). */
int emu_state_check_token(const emu_state_t *st, emu_slice_t token, int64_t now_ms, char *appid);

/* Control: drops every access_token of the app (next use: 40001), or makes them all expired as of
 * now_ms (next use: 42001). *count: how many tokens were affected. EMU_ENOENT for an unknown app. */
emu_status_t emu_state_invalidate_tokens(emu_state_t *st, emu_slice_t appid, size_t *count);
emu_status_t emu_state_expire_tokens(emu_state_t *st, emu_slice_t appid, int64_t now_ms, size_t *count);
/* access_tokens held (current and superseded, both APIs, all apps). */
size_t emu_state_token_count(const emu_state_t *st);

/* Phone numbers -------------------------------------------------------------------------------- */

/* What a phone code (or legacy encrypted phone data) stands for. */
typedef struct emu_phone_spec {
    emu_slice_t phone;           /* digits, 1..EMU_PHONE_MAX */
    emu_slice_t country_code;    /* digits, 1..EMU_COUNTRY_MAX; absent: "86" */
    bool country_code_as_number; /* getuserphonenumber sends countryCode as a JSON number */
    emu_slice_t watermark_appid; /* absent: the app's own appid (set it to test the server's check) */
} emu_phone_spec_t;

/* phone_info as WeChat gives it (without the watermark's timestamp, which the caller adds). */
typedef struct emu_phone_info {
    char phone_number[EMU_COUNTRY_MAX + EMU_PHONE_MAX + 3]; /* "13800138000" for 86, else "+CC NUMBER" */
    char pure_phone_number[EMU_PHONE_MAX + 1];
    char country_code[EMU_COUNTRY_MAX + 1];
    bool country_code_as_number;
    char watermark_appid[EMU_APPID_MAX + 1];
} emu_phone_info_t;

/* Formats spec for app appid into out. EMU_EINVAL for a phone or country code that is not 1..max
 * digits, or a watermark appid that is empty or too long. */
emu_status_t emu_phone_info_make(emu_slice_t appid, const emu_phone_spec_t *spec, emu_phone_info_t *out);

/* What <button open-type="getPhoneNumber"> gives user: a single-use phone code valid EMU_CODE_TTL_MS.
 * code must hold EMU_CODE_LEN + 1. EMU_ENOENT for an unconfigured appid, EMU_EINVAL for a bad user
 * or spec, EMU_EFULL when EMU_MAX_CODES unexpired codes exist, EMU_ERANDOM. */
emu_status_t emu_state_issue_phone_code(emu_state_t *st, emu_slice_t appid, emu_slice_t user,
                                        const emu_phone_spec_t *spec, int64_t now_ms, char code[EMU_CODE_LEN + 1]);

typedef struct emu_phone_request {
    emu_slice_t access_token, code, openid; /* openid optional */
} emu_phone_request_t;

/*
 * POST /wxa/business/getuserphonenumber. Returns WeChat's errcode, in this order: the access_token
 * (41001, 40001, 42001, see emu_state_check_token), 41008 code missing or empty, 40029 code unknown,
 * expired, used already, of another app, a wx.login() code, or issued to another user than a given
 * openid. On 0 the code is spent and out filled. On error nothing changes.
 */
int emu_state_phone_number(emu_state_t *st, const emu_phone_request_t *rq, int64_t now_ms, emu_phone_info_t *out);

/* Session checks ------------------------------------------------------------------------------- */

/* The current session_key of the user whose openid (in app appid) this is; false when none. */
bool emu_state_session_key_by_openid(const emu_state_t *st, emu_slice_t appid, emu_slice_t openid,
                                     char out[EMU_SESSION_KEY_LEN + 1]);

typedef struct emu_checksession_request {
    emu_slice_t access_token, openid, signature, sig_method;
} emu_checksession_request_t;

/*
 * GET /wxa/checksession. Returns WeChat's errcode, in this order: the access_token (41001, 40001,
 * 42001), 41009 openid missing or empty, 40003 openid not of WeChat's shape, 87008 sig_method not
 * "hmac_sha256", 87009 signature is not hex(HMAC-SHA256(key = the user's current session_key text,
 * message = "")) (a stale key, or no session of that openid in the token's app). 0: the key is current.
 */
int emu_state_check_session(const emu_state_t *st, const emu_checksession_request_t *rq, int64_t now_ms);

/* hex(HMAC-SHA256(key = session_key text, message = "")): what checksession expects. */
void emu_checksession_signature(const char *session_key, char out[EMU_SIGNATURE_LEN + 1]);

/* Mini program codes (getwxacodeunlimit) ---------------------------------------------------------- */

#define EMU_WXACODE_PER_MINUTE 5000    /* WeChat's ration per app and minute */
#define EMU_WXACODE_LIMIT_MAX  1000000 /* the most the control API may set */
#define EMU_WXACODE_WINDOW_MS  60000
#define EMU_WXACODE_SCENE_MAX  32                  /* characters */
#define EMU_WXACODE_PAGE_MAX   128                 /* bytes of a page path */
#define EMU_WXACODE_PAGES_MAX  32                  /* published pages per app */
#define EMU_WXACODE_HOME       "pages/index/index" /* the home page of an app with no published list */

/*
 * Admits a getwxacodeunlimit call: the access_token first (41001, 40001, 42001, as
 * emu_state_check_token), then the app's ration: 45009 when the app was admitted its limit of calls
 * (EMU_WXACODE_PER_MINUTE unless set) in the current window. A window starts at the first call
 * admitted after the previous one ended and lasts EMU_WXACODE_WINDOW_MS (so a test that sets a limit
 * never straddles a calendar minute). On 0 the call is counted against the ration and the app's id
 * copied to appid (EMU_APPID_MAX + 1 bytes); a refused call (45009 included) is not counted.
 */
int emu_state_wxacode_admit(emu_state_t *st, emu_slice_t token, int64_t now_ms, char *appid);

typedef struct emu_wxacode_request {
    emu_slice_t scene;       /* absent: missing */
    emu_slice_t page;        /* absent or empty: the home page */
    bool check_path;         /* WeChat's default is true */
    emu_slice_t env_version; /* absent: "release" */
} emu_wxacode_request_t;

/*
 * The parameter checks of getwxacodeunlimit for app appid, in this order: 40169 scene missing, empty
 * or over EMU_WXACODE_SCENE_MAX characters (UTF-8 code points); 40129 a scene character that is not a
 * digit, an ASCII letter or one of !#$&'()*+,/:;=?@-._~ ; 41030 a page that starts with '/', holds a
 * '?', is over EMU_WXACODE_PAGE_MAX bytes or holds a NUL, and, with check_path, a page (the home page
 * when absent) that is not one of the app's published pages (any well-formed page when the app has no
 * published list; none when its list is empty: an unpublished app); 40097 env_version not "release",
 * "trial" or "develop" ("" included); 40013 appid not configured. 0: the code may be drawn.
 */
int emu_state_wxacode_check(const emu_state_t *st, emu_slice_t appid, const emu_wxacode_request_t *rq);

/* The page a code of appid leads to when rq->page is absent or empty: the first published page, else
 * EMU_WXACODE_HOME. Valid until the app's pages change. */
const char *emu_state_wxacode_home(const emu_state_t *st, emu_slice_t appid);

/* Control: the app's ration per window (1..EMU_WXACODE_LIMIT_MAX, else EMU_EINVAL); starts a new
 * window (nothing counted yet). EMU_ENOENT for an unknown app. */
emu_status_t emu_state_wxacode_set_limit(emu_state_t *st, emu_slice_t appid, uint32_t per_minute);
/* Control: the app's published pages. published false: no list (check_path accepts every well-formed
 * page, the default); true: exactly pages[0..npages) (npages 0: the app is unpublished). EMU_EINVAL for
 * a page that is empty or malformed (see above), EMU_EFULL past EMU_WXACODE_PAGES_MAX, EMU_ENOENT for
 * an unknown app; on error nothing changes. */
emu_status_t emu_state_wxacode_set_pages(emu_state_t *st, emu_slice_t appid, bool published, const emu_slice_t *pages,
                                         size_t npages);

typedef struct emu_wxacode_info {
    uint32_t limit_per_minute;
    uint32_t calls_this_window; /* admitted in the current window (0 once it is over) */
    bool published;             /* the app has a published list */
    size_t npages;
    const char *pages[EMU_WXACODE_PAGES_MAX]; /* valid until the app's pages change */
} emu_wxacode_info_t;

/* Control: the app's settings. EMU_ENOENT for an unknown app. */
emu_status_t emu_state_wxacode_info(const emu_state_t *st, emu_slice_t appid, int64_t now_ms, emu_wxacode_info_t *out);

/* Visits (the 2-hour rule of the content-security APIs) ---------------------------------------- */

#define EMU_VISIT_WINDOW_MS  (2 * 3600 * 1000) /* msgSecCheck wants a visit within the last 2 hours */
#define EMU_VISIT_WINDOW_MAX (30 * 86400)      /* seconds, the most the control API may set */

/* Is openid one wxemu issued in app appid, i.e. does it have a session record (a wx.login() code was
 * issued for its user and the record was not forgotten since)? */
bool emu_state_openid_known(const emu_state_t *st, emu_slice_t appid, emu_slice_t openid);

/* Control: the user of openid visits the mini program now (stale false; a wx.login() code issued to
 * them does the same), or has not visited within any window (stale true). EMU_ENOENT for an unknown
 * app, EMU_ENOUSER for an openid not issued in it. */
emu_status_t emu_state_visit(emu_state_t *st, emu_slice_t appid, emu_slice_t openid, bool stale, int64_t now_ms);

/* Subscription messages (subscribeMessage.send) ----------------------------------------------- */

#define EMU_SUB_TEMPLATES_MAX 32 /* templates per app */
#define EMU_SUB_TEMPLATE_ID   64 /* bytes of a template id (WeChat's are 43) */
#define EMU_SUB_KEYWORDS_MAX  20 /* keywords per template */
#define EMU_SUB_KEYWORD_MAX   24 /* bytes of a keyword name ("character_string123") */
#define EMU_SUB_QUOTAS_MAX    (1u << 16)
#define EMU_SUB_QUOTA_MAX     1000000000u /* one (app, openid, template) quota never exceeds this */
#define EMU_SUB_SENT_MAX      10000u
#define EMU_SUB_MSGID_FIRST   1988810812324364291ull /* above 2^53, like WeChat's msgids */
#define EMU_SUB_ERRMSG_MAX    160
#define EMU_SUB_PAGE_MAX      1024 /* bytes */

typedef struct emu_sub_template {
    emu_slice_t id;
    const emu_slice_t *keywords;
    size_t nkeywords;
} emu_sub_template_t;

/* Control: replaces the app's templates with t[0..n). EMU_EINVAL for an id that is not 1..
 * EMU_SUB_TEMPLATE_ID printable ASCII bytes, a repeated id, no keywords, a keyword that is not a known
 * type and 1..3 digits (emu_keyword.h) or a repeated keyword; EMU_EFULL past EMU_SUB_TEMPLATES_MAX
 * templates or EMU_SUB_KEYWORDS_MAX keywords; EMU_ENOENT for an unknown app. On error nothing changes.
 * Quotas are kept by template id, so re-registering a template keeps its quotas. */
emu_status_t emu_state_sub_set_templates(emu_state_t *st, emu_slice_t appid, const emu_sub_template_t *t, size_t n);

typedef struct emu_sub_template_info {
    const char *id;
    size_t nkeywords;
    const char *keywords[EMU_SUB_KEYWORDS_MAX];
} emu_sub_template_info_t;

/* Control: the app's templates (pointers valid until they change) into out, their number in *n.
 * EMU_ENOENT for an unknown app. */
emu_status_t emu_state_sub_templates(const emu_state_t *st, emu_slice_t appid,
                                     emu_sub_template_info_t out[EMU_SUB_TEMPLATES_MAX], size_t *n);
bool emu_state_sub_has_template(const emu_state_t *st, emu_slice_t appid, emu_slice_t template_id);

/* Control: the user of openid taps 允许 count times for template_id (wx.requestSubscribeMessage's
 * "accept"): the (app, openid, template) quota grows by count (capped at EMU_SUB_QUOTA_MAX); the new
 * quota in *quota. EMU_ENOENT unknown app, EMU_ENOUSER openid not issued there, EMU_ENOTPL template
 * not registered, EMU_EINVAL count 0, EMU_EFULL past EMU_SUB_QUOTAS_MAX quotas. */
emu_status_t emu_state_sub_accept(emu_state_t *st, emu_slice_t appid, emu_slice_t openid, emu_slice_t template_id,
                                  uint32_t count, uint64_t *quota);
/* Control: the user of openid sets 拒收 for template_id under 服务通知: the quota becomes 0 (the next send
 * is 43101). The same errors as emu_state_sub_accept, but never EMU_EINVAL or EMU_EFULL. */
emu_status_t emu_state_sub_reject(emu_state_t *st, emu_slice_t appid, emu_slice_t openid, emu_slice_t template_id);
/* The quota now (0 when none). The same errors as emu_state_sub_accept, but never EMU_EFULL. */
emu_status_t emu_state_sub_quota(const emu_state_t *st, emu_slice_t appid, emu_slice_t openid, emu_slice_t template_id,
                                 uint64_t *quota);

/* What a data.<key> entry of the request holds. */
typedef enum emu_sub_value_kind {
    EMU_SUB_EMPTY = 0, /* the entry is not an object, has no "value", or it is null or "" */
    EMU_SUB_TEXT,      /* a string, or a number (text: its JSON text) */
    EMU_SUB_OTHER      /* a boolean, an array or an object */
} emu_sub_value_kind_t;

typedef struct emu_sub_value {
    emu_slice_t key;
    emu_sub_value_kind_t kind;
    emu_slice_t text;
} emu_sub_value_t;

typedef struct emu_sub_send_request {
    emu_slice_t access_token;
    emu_slice_t touser, template_id, page, miniprogram_state, lang; /* absent: base NULL */
    bool has_data;                                                  /* data is present (an object) */
    const emu_sub_value_t *values;                                  /* data's entries, in its order */
    size_t nvalues;
    emu_slice_t data_json; /* data as sent (compact JSON), recorded with the message */
    int64_t wall_s;        /* wall-clock seconds, recorded with the message */
} emu_sub_send_request_t;

typedef struct emu_sub_send_result {
    uint64_t msgid;
    char errmsg[EMU_SUB_ERRMSG_MAX]; /* for 47003: WeChat's text naming the argument */
} emu_sub_send_result_t;

/*
 * POST /cgi-bin/message/subscribe/send. Returns WeChat's errcode, in this order: the access_token
 * (41001, 40001, 42001); 40003 touser missing, empty, or not an openid issued in the token's app;
 * 40037 template_id missing or not one of the app's templates; 41030 a page that starts with '/', is
 * over EMU_SUB_PAGE_MAX bytes or holds a NUL (an empty page is no page: the card does not jump);
 * 47003 miniprogram_state not developer, trial or formal, lang not zh_CN, en_US, zh_HK or zh_TW, no
 * data, then each keyword of the template in its order (EMU_SUB_EMPTY: "is emtpy", EMU_SUB_OTHER or a
 * value that breaks its type's rule: "invalid"), then a data key that is not a keyword of the
 * template; 43101 no quota left; -1 out of memory. On 0 the quota is decremented, a new msgid
 * (EMU_SUB_MSGID_FIRST, then counting up) is answered and the message recorded. On error nothing
 * changes; out->errmsg holds the 47003 text (else "").
 */
int emu_state_sub_send(emu_state_t *st, const emu_sub_send_request_t *rq, int64_t now_ms, emu_sub_send_result_t *out);

/* A recorded message; the pointers are valid until the next send or clear. Absent fields are NULL. */
typedef struct emu_sub_sent {
    uint64_t msgid;
    const char *appid, *touser, *template_id, *page, *data_json, *miniprogram_state, *lang;
    int64_t time_s;
} emu_sub_sent_t;

/* The recorded messages, oldest first: how many, and the i-th. */
size_t emu_state_sub_sent_count(const emu_state_t *st);
bool emu_state_sub_sent_at(const emu_state_t *st, size_t i, emu_sub_sent_t *out);
/* Forgets every recorded message (msgids keep counting up); returns how many there were. */
size_t emu_state_sub_clear_sent(emu_state_t *st);
size_t emu_state_sub_quota_count(const emu_state_t *st);

/* Content security (msgSecCheck v2) -------------------------------------------------------------- */

#define EMU_SEC_CONTENT_MAX   2500 /* characters (UTF-8 code points) */
#define EMU_SEC_WORDS_MAX     32   /* risky words and review words, each, per app */
#define EMU_SEC_WORD_MAX      64   /* bytes of a word */
#define EMU_SEC_LABEL_DEFAULT 20001
#define EMU_SEC_LABEL_PASS    100

typedef struct emu_sec_request {
    emu_slice_t access_token;
    bool bad_format; /* the route's finding: no JSON object, or a member of the wrong type */
    bool has_version, has_scene;
    int64_t version, scene;
    emu_slice_t content, openid, title, nickname; /* absent: base NULL */
} emu_sec_request_t;

typedef enum emu_sec_suggest { EMU_SEC_PASS = 0, EMU_SEC_REVIEW, EMU_SEC_RISKY } emu_sec_suggest_t;

typedef struct emu_sec_result {
    emu_sec_suggest_t suggest;
    int label;                          /* EMU_SEC_LABEL_PASS for a pass */
    char keyword[EMU_SEC_WORD_MAX + 1]; /* the word that matched ("" for a pass) */
} emu_sec_result_t;

/*
 * POST /wxa/msg_sec_check (version 2). Returns WeChat's errcode, in this order: the access_token
 * (41001, 40001, 42001); 47001 bad_format, version absent or not 2, content over EMU_SEC_CONTENT_MAX
 * characters; 44002 content or openid absent or empty; 40129 scene absent or not 1..4; 40003 openid not
 * issued in the token's app; 61010 its user has not visited within the app's window (2 hours unless
 * set). On 0, out holds the verdict: risky when content, title or nickname contains one of the app's
 * risky words, else review for a review word, else pass (the first word in list order is named).
 */
int emu_state_msg_sec_check(const emu_state_t *st, const emu_sec_request_t *rq, int64_t now_ms, emu_sec_result_t *out);

/* Control: the app's words (a list replaces the old one; NULL leaves it as it is), the label of a
 * risky or review verdict (> 0, 0 leaves it) and the visit window in ms (> 0, 0 leaves it). EMU_EINVAL
 * for a word that is not 1..EMU_SEC_WORD_MAX bytes without NUL, EMU_EFULL past EMU_SEC_WORDS_MAX
 * words, EMU_ENOENT for an unknown app; on error nothing changes. */
emu_status_t emu_state_sec_set(emu_state_t *st, emu_slice_t appid, const emu_slice_t *risky, size_t nrisky,
                               const emu_slice_t *review, size_t nreview, int label, int64_t visit_window_ms);

typedef struct emu_sec_info {
    size_t nrisky, nreview;
    const char *risky[EMU_SEC_WORDS_MAX], *review[EMU_SEC_WORDS_MAX];
    int label;
    int64_t visit_window_ms;
} emu_sec_info_t;

emu_status_t emu_state_sec_info(const emu_state_t *st, emu_slice_t appid, emu_sec_info_t *out);

/* Media checks (mediaCheckAsync v2) and the message push ---------------------------------------- */

#define EMU_PUSH_URL_MAX     512 /* bytes of a push URL */
#define EMU_PUSH_TOKEN_MAX   32  /* the Token: 3..32 ASCII letters and digits, as WeChat's form takes */
#define EMU_PUSH_TOKEN_MIN   3
#define EMU_PUSH_AES_KEY_LEN 43 /* an EncodingAESKey: 43 ASCII letters and digits */
#define EMU_PUSH_DELAY_MS    1000
#define EMU_MEDIA_URL_MAX    2048

typedef struct emu_push_config {
    bool configured;                        /* a push URL is set */
    char url[EMU_PUSH_URL_MAX + 1];         /* "http://HOST[:PORT]/path[?query]" */
    char token[EMU_PUSH_TOKEN_MAX + 1];     /* secret */
    char aes_key[EMU_PUSH_AES_KEY_LEN + 1]; /* secret; "" for plaintext mode */
    uint32_t delay_ms;                      /* from an accepted media check to its push */
} emu_push_config_t;

/* Control: the app's message push. url absent: no push URL (events are not delivered); else it must
 * be http:// (wxemu has no TLS client), at most EMU_PUSH_URL_MAX bytes, without spaces or control
 * characters, and token 3..32 ASCII letters and digits; aes_key absent or empty: plaintext mode, else
 * 43 ASCII letters and digits (safe mode). delay_ms 0..60000. EMU_EINVAL for a bad value, EMU_ENOENT
 * for an unknown app; on error nothing changes. */
emu_status_t emu_state_push_set(emu_state_t *st, emu_slice_t appid, emu_slice_t url, emu_slice_t token,
                                emu_slice_t aes_key, uint32_t delay_ms);
/* The app's push settings, secrets included (the caller never puts those into an answer). */
emu_status_t emu_state_push_config(const emu_state_t *st, emu_slice_t appid, emu_push_config_t *out);

typedef struct emu_media_request {
    emu_slice_t access_token;
    bool bad_format; /* the route's finding: no JSON object, or a member of the wrong type */
    bool has_version, has_scene, has_media_type;
    int64_t version, scene, media_type;
    emu_slice_t media_url, openid;
} emu_media_request_t;

/*
 * POST /wxa/media_check_async (version 2). Returns WeChat's errcode, in this order: the access_token
 * (41001, 40001, 42001; on 0 the app's id is copied to appid, EMU_APPID_MAX + 1 bytes); 47001
 * bad_format, version absent or not 2, media_type absent or not 1 (audio) or 2 (image), media_url over
 * EMU_MEDIA_URL_MAX bytes; 44002 media_url or openid absent or empty; 40129 scene absent or not 1..4;
 * 40003 openid not issued in the app; 61010 its user has not visited within the window. On 0, out holds
 * the verdict the push will carry: the app's risky words, then review words, matched in media_url.
 */
int emu_state_media_check(const emu_state_t *st, const emu_media_request_t *rq, int64_t now_ms, char *appid,
                          emu_sec_result_t *out);

/* The media check log: the last EMU_MEDIA_LOG_MAX accepted checks, oldest forgotten first, so tests
 * can read back the exact media_url the server gave (real WeChat downloads it). */
#define EMU_MEDIA_LOG_MAX   256
#define EMU_MEDIA_TRACE_MAX 32 /* bytes of a trace_id */

/* Records a check emu_state_media_check accepted (0): rq's openid, media_url, media_type and scene,
 * trace_id (what the answer named it) and wall_s (wall-clock seconds). The log's slots are allocated
 * with the state, so this never fails for such a check; EMU_ENOENT for an unknown app, EMU_EINVAL for
 * an empty or too long openid (over EMU_OPENID_LEN), media_url (EMU_MEDIA_URL_MAX) or trace_id
 * (EMU_MEDIA_TRACE_MAX), or one holding a NUL, a media_type absent or not 1 or 2, a scene absent or
 * not 1..4; on error nothing changes. */
emu_status_t emu_state_media_log_add(emu_state_t *st, emu_slice_t appid, const emu_media_request_t *rq,
                                     emu_slice_t trace_id, int64_t wall_s);

/* A logged check; the strings are valid until the next one is logged or the log is cleared. */
typedef struct emu_media_entry {
    const char *appid, *openid, *media_url, *trace_id;
    int media_type, scene;
    int64_t time_s;
} emu_media_entry_t;

/* The logged checks, oldest first: how many, and the i-th. */
size_t emu_state_media_log_count(const emu_state_t *st);
bool emu_state_media_log_at(const emu_state_t *st, size_t i, emu_media_entry_t *out);
/* Forgets every logged check; returns how many there were. */
size_t emu_state_media_log_clear(emu_state_t *st);

#endif
