/*
 * emu_state — wxemu's memory of apps, codes, session_keys, access_tokens, faults and counters
 * (see emu_state.h).
 *
 * Codes live in a chained hash table keyed by the code text, and also in a FIFO list in issue
 * order. Every code gets the same lifetime, so the FIFO is also in expiry order: purging pops the
 * head while it has expired, which keeps the table bounded at O(1) amortised cost per call. A code
 * expired early by emu_state_expire_code() stays in place until it reaches the head (at most
 * EMU_CODE_TTL_MS later); lookups check the expiry time, never the position.
 *
 * Used codes are kept until they expire so that a second exchange is told 40163 (used) rather
 * than 40029 (unknown), as WeChat does.
 *
 * A user's session_key is made when a wx.login() code is issued, as the phone's wx.login() rotates it
 * at WeChat: it becomes the user's current key at once (so /__emu/encrypted, playing the phone's
 * getUserInfo right after wx.login, encrypts with the key the server will get), travels with the code,
 * and is what exchanging the code answers (the exchange records it as current again, in case a newer
 * code was issued meanwhile).
 *
 * Phone codes (what the getPhoneNumber button gives) share the code table and its FIFO: they have the
 * same lifetime, and one table makes "a wx.login() code sent to getuserphonenumber" (and the reverse)
 * a plain kind check, answered 40029 like an unknown code. A phone code carries its phone_info.
 *
 * Session records (app, user) -> current session_key sit in a second hash table with a FIFO in
 * creation order; past EMU_MAX_SESSIONS the oldest record is forgotten. Each record is also chained
 * in a third table keyed by its openid, so checksession finds the user from the openid alone.
 *
 * access_tokens: each app has two token lines, one per API (/cgi-bin/token and stable_token), each
 * with a current token and a small array of superseded ones that keep working until their grace ends
 * (superseded time + EMU_TOKEN_GRACE_MS, and never past their own expiry). There are at most
 * EMU_MAX_APPS * 2 * (1 + EMU_TOKEN_OLD_MAX) tokens, so a token is checked by a linear scan with a
 * constant-time comparison. The force_refresh ration is a per-app ring of the last
 * EMU_FORCE_PER_DAY force times (a rolling 24 hours: wxemu has no calendar).
 *
 * Faults are a small array kept in insertion order; counters a small array of (path, calls).
 *
 * getwxacodeunlimit: each app has a call ration per window (a counter and the window's start: a
 * window begins with the first call after the previous one ended) and an optional list of published
 * pages (a small fixed array; no list means "every well-formed page is published").
 *
 * Subscription messages: each app has a small fixed array of templates (id, keywords and their
 * types). Quotas are a chained hash table keyed by (app, openid, template id text), bounded by
 * EMU_SUB_QUOTAS_MAX; a quota that reaches 0 stays (it is small and may be accepted again). Sent
 * messages are a ring of EMU_SUB_SENT_MAX records (one allocation each, strings inline), oldest
 * overwritten first; msgids count up from EMU_SUB_MSGID_FIRST and never repeat within a run.
 *
 * Media checks: the log is a ring of EMU_MEDIA_LOG_MAX fixed-size slots allocated with the state
 * (so logging an accepted check cannot fail), oldest overwritten first.
 *
 * Visits and content security: a session record carries when its user last visited (set when a
 * wx.login() code is issued, or by the control API); each app has its risky and review words (small
 * fixed arrays, matched as byte substrings), the label of their verdicts and its visit window.
 */
#include "emu_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "emu_keyword.h"

#define EMU_CODE_BUCKETS    (1u << 16)
#define EMU_SESSION_BUCKETS (1u << 16)
#define EMU_QUOTA_BUCKETS   (1u << 12)

typedef struct emu_token {
    char text[EMU_TOKEN_LEN + 1];
    int64_t expires_at_ms;
    int64_t valid_until_ms; /* INT64_MAX while current; end of the grace once superseded */
} emu_token_t;

typedef struct emu_token_line {
    bool has_current;
    emu_token_t current;
    emu_token_t old[EMU_TOKEN_OLD_MAX]; /* superseded, oldest first */
    size_t nold;
} emu_token_line_t;

enum { EMU_LINE_TOKEN = 0, EMU_LINE_STABLE = 1, EMU_LINES = 2 };

typedef struct emu_tpl {
    char id[EMU_SUB_TEMPLATE_ID + 1];
    size_t nkeywords;
    char keywords[EMU_SUB_KEYWORDS_MAX][EMU_SUB_KEYWORD_MAX + 1];
    emu_kw_type_t types[EMU_SUB_KEYWORDS_MAX];
} emu_tpl_t;

typedef struct emu_quota {
    struct emu_quota *next;
    size_t app;
    char openid[EMU_OPENID_LEN + 1];
    char template_id[EMU_SUB_TEMPLATE_ID + 1];
    uint64_t count;
} emu_quota_t;

/* A sent message: the strings point into text[] (NULL for absent fields). */
typedef struct emu_sub_record {
    uint64_t msgid;
    size_t app;
    int64_t time_s;
    const char *touser, *template_id, *page, *data_json, *miniprogram_state, *lang;
    char text[];
} emu_sub_record_t;

/* A logged media check. */
typedef struct emu_media_slot {
    size_t app;
    int media_type, scene;
    int64_t time_s;
    char openid[EMU_OPENID_LEN + 1];
    char trace_id[EMU_MEDIA_TRACE_MAX + 1];
    char media_url[EMU_MEDIA_URL_MAX + 1];
} emu_media_slot_t;

typedef struct emu_app {
    char appid[EMU_APPID_MAX + 1];
    size_t appid_len;
    char secret[EMU_SECRET_MAX + 1];
    size_t secret_len;
    emu_token_line_t lines[EMU_LINES];
    int64_t forced_at_ms[EMU_FORCE_PER_DAY]; /* force_refresh times, oldest first */
    size_t nforced;
    uint32_t wxacode_limit;          /* getwxacodeunlimit calls per window */
    uint32_t wxacode_calls;          /* admitted in the current window */
    int64_t wxacode_window_start_ms; /* when the current window began (meaningful when calls > 0) */
    bool wxacode_published;          /* has a published page list */
    size_t wxacode_npages;
    char wxacode_pages[EMU_WXACODE_PAGES_MAX][EMU_WXACODE_PAGE_MAX + 1];
    emu_tpl_t templates[EMU_SUB_TEMPLATES_MAX];
    size_t ntemplates;
    char sec_risky[EMU_SEC_WORDS_MAX][EMU_SEC_WORD_MAX + 1];
    char sec_review[EMU_SEC_WORDS_MAX][EMU_SEC_WORD_MAX + 1];
    size_t nrisky, nreview;
    int sec_label;
    int64_t visit_window_ms;
    emu_push_config_t push;
} emu_app_t;

typedef struct emu_code {
    struct emu_code *hnext; /* bucket chain */
    struct emu_code *qnext; /* FIFO, issue order */
    char code[EMU_CODE_LEN + 1];
    size_t app;
    char user[EMU_USER_MAX + 1];
    size_t user_len;
    int64_t expires_at_ms;
    bool used;
    emu_phone_info_t *phone;                   /* NULL for a wx.login() code */
    char session_key[EMU_SESSION_KEY_LEN + 1]; /* a wx.login() code's session_key */
} emu_code_t;

typedef struct emu_session {
    struct emu_session *hnext;
    struct emu_session *onext; /* chain of the openid table */
    struct emu_session *qnext; /* FIFO, creation order */
    size_t app;
    char user[EMU_USER_MAX + 1];
    size_t user_len;
    char openid[EMU_OPENID_LEN + 1];
    char session_key[EMU_SESSION_KEY_LEN + 1];
    bool visited;       /* false: stale (no visit within any window) */
    int64_t visited_ms; /* the last visit */
} emu_session_t;

typedef struct emu_stat {
    char path[EMU_PATH_MAX + 1];
    uint64_t calls;
} emu_stat_t;

struct emu_state {
    emu_app_t apps[EMU_MAX_APPS];
    size_t napps;

    emu_code_t **code_buckets;
    emu_code_t *code_head, *code_tail;
    size_t ncodes;

    emu_session_t **session_buckets;
    emu_session_t **openid_buckets;
    emu_session_t *session_head, *session_tail;
    size_t nsessions;

    int64_t token_ttl_ms;

    emu_fault_t faults[EMU_MAX_FAULTS];
    size_t nfaults;

    emu_stat_t stats[EMU_MAX_STAT_PATHS];
    size_t nstats;

    emu_quota_t **quota_buckets;
    size_t nquotas;
    emu_sub_record_t **sent; /* ring of EMU_SUB_SENT_MAX */
    size_t sent_head, nsent; /* the oldest record's slot, and how many */
    uint64_t next_msgid;

    emu_media_slot_t *media;   /* ring of EMU_MEDIA_LOG_MAX */
    size_t media_head, nmedia; /* the oldest slot, and how many */
};

/* Helpers ---------------------------------------------------------------------------------------- */

emu_slice_t emu_slice_cstr(const char *s)
{
    return (emu_slice_t){s, s != NULL ? strlen(s) : 0};
}

static bool slice_eq(emu_slice_t s, const char *str, size_t len)
{
    return s.base != NULL && s.len == len && memcmp(s.base, str, len) == 0;
}

static bool slice_ok(emu_slice_t s, size_t max)
{
    return s.base != NULL && s.len > 0 && s.len <= max && memchr(s.base, '\0', s.len) == NULL;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define FNV_SEED 14695981039346656037ull

static size_t code_bucket(emu_slice_t code)
{
    return (size_t)(fnv1a(FNV_SEED, code.base, code.len) & (EMU_CODE_BUCKETS - 1));
}

static size_t session_bucket(size_t app, emu_slice_t user)
{
    uint64_t h = fnv1a(FNV_SEED, &app, sizeof(app));
    return (size_t)(fnv1a(h, user.base, user.len) & (EMU_SESSION_BUCKETS - 1));
}

static size_t openid_bucket(emu_slice_t openid)
{
    return (size_t)(fnv1a(FNV_SEED, openid.base, openid.len) & (EMU_SESSION_BUCKETS - 1));
}

static int find_app(const emu_state_t *st, emu_slice_t appid)
{
    for (size_t i = 0; i < st->napps; ++i)
        if (slice_eq(appid, st->apps[i].appid, st->apps[i].appid_len))
            return (int)i;
    return -1;
}

static void free_code(emu_code_t *c)
{
    explicit_bzero(c->session_key, sizeof(c->session_key));
    free(c->phone);
    free(c);
}

/* Lifetime ----------------------------------------------------------------------------------------- */

emu_state_t *emu_state_new(void)
{
    emu_state_t *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->code_buckets = calloc(EMU_CODE_BUCKETS, sizeof(*st->code_buckets));
    st->session_buckets = calloc(EMU_SESSION_BUCKETS, sizeof(*st->session_buckets));
    st->openid_buckets = calloc(EMU_SESSION_BUCKETS, sizeof(*st->openid_buckets));
    st->quota_buckets = calloc(EMU_QUOTA_BUCKETS, sizeof(*st->quota_buckets));
    st->sent = calloc(EMU_SUB_SENT_MAX, sizeof(*st->sent));
    st->media = calloc(EMU_MEDIA_LOG_MAX, sizeof(*st->media));
    if (st->code_buckets == NULL || st->session_buckets == NULL || st->openid_buckets == NULL ||
        st->quota_buckets == NULL || st->sent == NULL || st->media == NULL) {
        emu_state_free(st);
        return NULL;
    }
    st->token_ttl_ms = EMU_TOKEN_TTL_MS;
    st->next_msgid = EMU_SUB_MSGID_FIRST;
    return st;
}

void emu_state_free(emu_state_t *st)
{
    if (st == NULL)
        return;
    for (emu_code_t *c = st->code_head, *next; c != NULL; c = next) {
        next = c->qnext;
        free_code(c);
    }
    for (emu_session_t *s = st->session_head, *next; s != NULL; s = next) {
        next = s->qnext;
        explicit_bzero(s->session_key, sizeof(s->session_key));
        free(s);
    }
    for (size_t b = 0; st->quota_buckets != NULL && b < EMU_QUOTA_BUCKETS; ++b) {
        for (emu_quota_t *q = st->quota_buckets[b], *next; q != NULL; q = next) {
            next = q->next;
            free(q);
        }
    }
    if (st->sent != NULL)
        emu_state_sub_clear_sent(st);
    free(st->quota_buckets);
    free(st->sent);
    free(st->media);
    explicit_bzero(st->apps, sizeof(st->apps));
    free(st->code_buckets);
    free(st->session_buckets);
    free(st->openid_buckets);
    free(st);
}

/* Apps ------------------------------------------------------------------------------------------ */

emu_status_t emu_state_add_app(emu_state_t *st, emu_slice_t appid, emu_slice_t secret)
{
    if (!slice_ok(appid, EMU_APPID_MAX) || !slice_ok(secret, EMU_SECRET_MAX) || memchr(appid.base, ':', appid.len))
        return EMU_EINVAL;
    if (find_app(st, appid) >= 0)
        return EMU_EEXIST;
    if (st->napps == EMU_MAX_APPS)
        return EMU_EFULL;
    emu_app_t *app = &st->apps[st->napps++];
    memcpy(app->appid, appid.base, appid.len);
    app->appid[appid.len] = '\0';
    app->appid_len = appid.len;
    memcpy(app->secret, secret.base, secret.len);
    app->secret[secret.len] = '\0';
    app->secret_len = secret.len;
    app->wxacode_limit = EMU_WXACODE_PER_MINUTE;
    app->sec_label = EMU_SEC_LABEL_DEFAULT;
    app->visit_window_ms = EMU_VISIT_WINDOW_MS;
    app->push.delay_ms = EMU_PUSH_DELAY_MS;
    return EMU_OK;
}

bool emu_state_has_app(const emu_state_t *st, emu_slice_t appid)
{
    return find_app(st, appid) >= 0;
}

size_t emu_state_app_count(const emu_state_t *st)
{
    return st->napps;
}

/* Identities ------------------------------------------------------------------------------------ */

/* 'o' + the first 27 base64url characters of SHA-256(label NUL a NUL b); a and b are clamped to
 * their maximum lengths (callers validate them first). */
static void derive_id(const char *label, emu_slice_t a, emu_slice_t b, char out[EMU_OPENID_LEN + 1])
{
    char buf[32 + EMU_APPID_MAX + 1 + EMU_USER_MAX];
    size_t label_len = strlen(label) + 1; /* with its NUL */
    size_t alen = a.len < EMU_APPID_MAX ? a.len : EMU_APPID_MAX;
    size_t blen = b.len < EMU_USER_MAX ? b.len : EMU_USER_MAX;
    size_t n = 0;
    uint8_t digest[32];
    char text[CRYPTO_B64URL_SIZE(32)];

    memcpy(buf, label, label_len);
    n += label_len;
    if (alen > 0)
        memcpy(buf + n, a.base, alen);
    n += alen;
    buf[n++] = '\0';
    if (blen > 0)
        memcpy(buf + n, b.base, blen);
    n += blen;
    crypto_sha256(buf, n, digest);
    crypto_b64url_encode(digest, sizeof(digest), text);
    out[0] = 'o';
    memcpy(out + 1, text, EMU_OPENID_LEN - 1);
    out[EMU_OPENID_LEN] = '\0';
}

void emu_openid(emu_slice_t appid, emu_slice_t user, char out[EMU_OPENID_LEN + 1])
{
    derive_id("wxemu-openid", appid, user, out);
}

void emu_unionid(emu_slice_t user, char out[EMU_OPENID_LEN + 1])
{
    derive_id("wxemu-unionid", (emu_slice_t){"", 0}, user, out);
}

/* Codes ------------------------------------------------------------------------------------------- */

static emu_code_t *find_code(const emu_state_t *st, emu_slice_t code)
{
    if (code.base == NULL || code.len != EMU_CODE_LEN)
        return NULL;
    for (emu_code_t *c = st->code_buckets[code_bucket(code)]; c != NULL; c = c->hnext)
        if (memcmp(c->code, code.base, EMU_CODE_LEN) == 0)
            return c;
    return NULL;
}

static void unlink_code(emu_state_t *st, emu_code_t *code)
{
    emu_code_t **slot = &st->code_buckets[code_bucket((emu_slice_t){code->code, EMU_CODE_LEN})];
    while (*slot != code)
        slot = &(*slot)->hnext;
    *slot = code->hnext;
}

size_t emu_state_purge(emu_state_t *st, int64_t now_ms)
{
    size_t purged = 0;
    while (st->code_head != NULL && st->code_head->expires_at_ms <= now_ms) {
        emu_code_t *c = st->code_head;
        st->code_head = c->qnext;
        if (st->code_head == NULL)
            st->code_tail = NULL;
        unlink_code(st, c);
        free_code(c);
        --st->ncodes;
        ++purged;
    }
    return purged;
}

size_t emu_state_code_count(const emu_state_t *st)
{
    return st->ncodes;
}

/* Draws a fresh code text that is not in the table. */
static bool new_code_text(const emu_state_t *st, char out[EMU_CODE_LEN + 1])
{
    uint8_t raw[EMU_CODE_LEN * 3 / 4];
    for (int attempt = 0; attempt < 4; ++attempt) {
        if (!crypto_random(raw, sizeof(raw)))
            return false;
        crypto_b64url_encode(raw, sizeof(raw), out);
        if (find_code(st, (emu_slice_t){out, EMU_CODE_LEN}) == NULL)
            return true;
    }
    return false;
}

/* Adds a code of app for user (phone: NULL for a login code, else taken over) and points *out at it.
 * On error phone is freed. */
static emu_status_t add_code(emu_state_t *st, size_t app, emu_slice_t user, emu_phone_info_t *phone, int64_t now_ms,
                             emu_code_t **out)
{
    emu_state_purge(st, now_ms);
    if (st->ncodes >= EMU_MAX_CODES) {
        free(phone);
        return EMU_EFULL;
    }
    emu_code_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        free(phone);
        return EMU_EFULL;
    }
    c->phone = phone;
    if (!new_code_text(st, c->code)) {
        free_code(c);
        return EMU_ERANDOM;
    }
    c->app = app;
    memcpy(c->user, user.base, user.len);
    c->user_len = user.len;
    c->expires_at_ms = now_ms + EMU_CODE_TTL_MS;

    size_t b = code_bucket((emu_slice_t){c->code, EMU_CODE_LEN});
    c->hnext = st->code_buckets[b];
    st->code_buckets[b] = c;
    if (st->code_tail != NULL)
        st->code_tail->qnext = c;
    else
        st->code_head = c;
    st->code_tail = c;
    ++st->ncodes;
    *out = c;
    return EMU_OK;
}

static emu_session_t *upsert_session(emu_state_t *st, size_t app, emu_slice_t user);
static emu_session_t *find_session(const emu_state_t *st, size_t app, emu_slice_t user);

/* What the phone's wx.login() does at WeChat: a new session_key for the code's user, current at once. */
static emu_status_t rotate_session_key(emu_state_t *st, emu_code_t *c)
{
    uint8_t raw[16];
    emu_session_t *s = upsert_session(st, c->app, (emu_slice_t){c->user, c->user_len});
    if (s == NULL)
        return EMU_EFULL;
    if (!crypto_random(raw, sizeof(raw)))
        return EMU_ERANDOM;
    crypto_b64_encode(raw, sizeof(raw), c->session_key);
    explicit_bzero(raw, sizeof(raw));
    memcpy(s->session_key, c->session_key, sizeof(s->session_key));
    return EMU_OK;
}

/* The user's visit: a wx.login() code is issued when the mini program opens. */
static void record_visit(emu_state_t *st, emu_code_t *c, int64_t now_ms)
{
    emu_session_t *s = find_session(st, c->app, (emu_slice_t){c->user, c->user_len});
    if (s != NULL) {
        s->visited = true;
        s->visited_ms = now_ms;
    }
}

emu_status_t emu_state_issue_code(emu_state_t *st, emu_slice_t appid, emu_slice_t user, int64_t now_ms,
                                  emu_login_t *out)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if (!slice_ok(user, EMU_USER_MAX))
        return EMU_EINVAL;
    emu_code_t *c;
    emu_status_t status = add_code(st, (size_t)app, user, NULL, now_ms, &c);
    if (status != EMU_OK)
        return status;
    status = rotate_session_key(st, c);
    if (status != EMU_OK) {
        c->expires_at_ms = now_ms; /* never usable; purged with the others */
        return status;
    }
    record_visit(st, c, now_ms);
    memcpy(out->code, c->code, sizeof(out->code));
    emu_openid(appid, user, out->openid);
    emu_unionid(user, out->unionid);
    return EMU_OK;
}

emu_status_t emu_state_expire_code(emu_state_t *st, emu_slice_t code, int64_t now_ms)
{
    emu_code_t *c = find_code(st, code);
    if (c == NULL)
        return EMU_ENOENT;
    if (c->expires_at_ms > now_ms)
        c->expires_at_ms = now_ms;
    return EMU_OK;
}

/* Sessions ------------------------------------------------------------------------------------------ */

static emu_session_t *find_session(const emu_state_t *st, size_t app, emu_slice_t user)
{
    for (emu_session_t *s = st->session_buckets[session_bucket(app, user)]; s != NULL; s = s->hnext)
        if (s->app == app && slice_eq(user, s->user, s->user_len))
            return s;
    return NULL;
}

static void evict_oldest_session(emu_state_t *st)
{
    emu_session_t *s = st->session_head;
    st->session_head = s->qnext;
    if (st->session_head == NULL)
        st->session_tail = NULL;
    emu_session_t **slot = &st->session_buckets[session_bucket(s->app, (emu_slice_t){s->user, s->user_len})];
    while (*slot != s)
        slot = &(*slot)->hnext;
    *slot = s->hnext;
    slot = &st->openid_buckets[openid_bucket((emu_slice_t){s->openid, EMU_OPENID_LEN})];
    while (*slot != s)
        slot = &(*slot)->onext;
    *slot = s->onext;
    explicit_bzero(s->session_key, sizeof(s->session_key));
    free(s);
    --st->nsessions;
}

/* Finds or creates the (app, user) record; NULL when out of memory. */
static emu_session_t *upsert_session(emu_state_t *st, size_t app, emu_slice_t user)
{
    emu_session_t *s = find_session(st, app, user);
    if (s != NULL)
        return s;
    if (st->nsessions >= EMU_MAX_SESSIONS)
        evict_oldest_session(st);
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return NULL;
    s->app = app;
    memcpy(s->user, user.base, user.len);
    s->user_len = user.len;
    emu_openid((emu_slice_t){st->apps[app].appid, st->apps[app].appid_len}, user, s->openid);
    size_t b = session_bucket(app, user);
    s->hnext = st->session_buckets[b];
    st->session_buckets[b] = s;
    b = openid_bucket((emu_slice_t){s->openid, EMU_OPENID_LEN});
    s->onext = st->openid_buckets[b];
    st->openid_buckets[b] = s;
    if (st->session_tail != NULL)
        st->session_tail->qnext = s;
    else
        st->session_head = s;
    st->session_tail = s;
    ++st->nsessions;
    return s;
}

bool emu_state_session_key(const emu_state_t *st, emu_slice_t appid, emu_slice_t user,
                           char out[EMU_SESSION_KEY_LEN + 1])
{
    int app = find_app(st, appid);
    if (app < 0 || !slice_ok(user, EMU_USER_MAX))
        return false;
    const emu_session_t *s = find_session(st, (size_t)app, user);
    if (s == NULL)
        return false;
    memcpy(out, s->session_key, EMU_SESSION_KEY_LEN + 1);
    return true;
}

size_t emu_state_session_count(const emu_state_t *st)
{
    return st->nsessions;
}

/* code2Session ----------------------------------------------------------------------------------- */

static bool secret_matches(const emu_app_t *app, emu_slice_t secret)
{
    return secret.len == app->secret_len && crypto_equal(secret.base, app->secret, secret.len);
}

/* Parameter checks, in WeChat's order; returns 0 and the app index when they pass. */
static int check_j2s_params(const emu_state_t *st, const emu_j2s_request_t *rq, size_t *app)
{
    if (rq->appid.base == NULL || rq->appid.len == 0)
        return 41002;
    if (rq->secret.base == NULL || rq->secret.len == 0)
        return 41004;
    if (rq->js_code.base == NULL || rq->js_code.len == 0)
        return 41008;
    int found = find_app(st, rq->appid);
    if (found < 0)
        return 40013;
    if (!secret_matches(&st->apps[found], rq->secret))
        return 40125;
    if (!slice_eq(rq->grant_type, "authorization_code", sizeof("authorization_code") - 1))
        return 40002;
    *app = (size_t)found;
    return 0;
}

int emu_state_jscode2session(emu_state_t *st, const emu_j2s_request_t *rq, int64_t now_ms, emu_j2s_result_t *out)
{
    size_t app;
    int err = check_j2s_params(st, rq, &app);
    if (err != 0)
        return err;

    emu_state_purge(st, now_ms);
    emu_code_t *c = find_code(st, rq->js_code);
    if (c == NULL || c->app != app || c->expires_at_ms <= now_ms || c->phone != NULL)
        return 40029;
    if (c->used)
        return 40163;

    emu_slice_t user = {c->user, c->user_len};
    emu_session_t *s = upsert_session(st, app, user); /* found, unless forgotten since the code was issued */
    if (s == NULL)
        return -1;
    memcpy(s->session_key, c->session_key, sizeof(s->session_key));
    c->used = true;

    emu_openid(rq->appid, user, out->openid);
    emu_unionid(user, out->unionid);
    memcpy(out->session_key, s->session_key, sizeof(out->session_key));
    return 0;
}

/* access_token ------------------------------------------------------------------------------------ */

void emu_state_set_token_ttl(emu_state_t *st, int64_t ttl_ms)
{
    if (ttl_ms > 0)
        st->token_ttl_ms = ttl_ms;
}

/* Seconds until expires_at_ms, rounded up (a token with 0.5 s left is not reported as expired). */
static int64_t seconds_left(int64_t expires_at_ms, int64_t now_ms)
{
    int64_t left = expires_at_ms - now_ms;
    return left > 0 ? (left + 999) / 1000 : 0;
}

/* Forgets superseded tokens whose grace is over (they answer 40001 either way). */
static void prune_old_tokens(emu_token_line_t *line, int64_t now_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < line->nold; ++i)
        if (line->old[i].valid_until_ms > now_ms)
            line->old[kept++] = line->old[i];
    for (size_t i = kept; i < line->nold; ++i)
        explicit_bzero(&line->old[i], sizeof(line->old[i]));
    line->nold = kept;
}

/* Makes a new current token; the previous one (if any) keeps working EMU_TOKEN_GRACE_MS more.
 * False when the random source failed (then nothing changed). */
static bool mint_token(emu_state_t *st, emu_token_line_t *line, int64_t now_ms)
{
    uint8_t raw[EMU_TOKEN_LEN * 3 / 4];
    emu_token_t fresh;

    if (!crypto_random(raw, sizeof(raw)))
        return false;
    crypto_b64url_encode(raw, sizeof(raw), fresh.text);
    explicit_bzero(raw, sizeof(raw));
    fresh.expires_at_ms = now_ms + st->token_ttl_ms;
    fresh.valid_until_ms = INT64_MAX;

    prune_old_tokens(line, now_ms);
    if (line->has_current) {
        if (line->nold == EMU_TOKEN_OLD_MAX) { /* forget the oldest, still in its grace */
            memmove(&line->old[0], &line->old[1], (EMU_TOKEN_OLD_MAX - 1) * sizeof(line->old[0]));
            --line->nold;
        }
        line->current.valid_until_ms = now_ms + EMU_TOKEN_GRACE_MS;
        line->old[line->nold++] = line->current;
    }
    line->current = fresh;
    line->has_current = true;
    explicit_bzero(&fresh, sizeof(fresh));
    return true;
}

static void token_answer(const emu_token_t *token, int64_t now_ms, emu_token_result_t *out)
{
    memcpy(out->access_token, token->text, sizeof(out->access_token));
    out->expires_in = seconds_left(token->expires_at_ms, now_ms);
}

/* The parameter checks shared by both token APIs; bad_secret is the API's errcode for a wrong secret. */
static int check_token_params(const emu_state_t *st, const emu_token_request_t *rq, int bad_secret, size_t *app)
{
    if (rq->appid.base == NULL || rq->appid.len == 0)
        return 41002;
    if (rq->secret.base == NULL || rq->secret.len == 0)
        return 41004;
    int found = find_app(st, rq->appid);
    if (found < 0)
        return 40013;
    if (!secret_matches(&st->apps[found], rq->secret))
        return bad_secret;
    if (!slice_eq(rq->grant_type, "client_credential", sizeof("client_credential") - 1))
        return 40002;
    *app = (size_t)found;
    return 0;
}

int emu_state_token(emu_state_t *st, const emu_token_request_t *rq, int64_t now_ms, emu_token_result_t *out)
{
    size_t app;
    int err = check_token_params(st, rq, 40001, &app);
    if (err != 0)
        return err;
    emu_token_line_t *line = &st->apps[app].lines[EMU_LINE_TOKEN];
    if (!mint_token(st, line, now_ms))
        return -1;
    token_answer(&line->current, now_ms, out);
    return 0;
}

/* The force_refresh ration of app: 0 when one more is allowed now, else 45009 or 45011. */
static int force_ration_check(emu_app_t *app, int64_t now_ms)
{
    size_t recent = 0;
    for (size_t i = 0; i < app->nforced; ++i)
        if (app->forced_at_ms[i] > now_ms - EMU_DAY_MS)
            app->forced_at_ms[recent++] = app->forced_at_ms[i];
    app->nforced = recent;
    if (recent >= EMU_FORCE_PER_DAY)
        return 45009;
    if (recent > 0 && now_ms - app->forced_at_ms[recent - 1] < EMU_FORCE_SPACING_MS)
        return 45011;
    return 0;
}

int emu_state_stable_token(emu_state_t *st, const emu_token_request_t *rq, int64_t now_ms, emu_token_result_t *out)
{
    size_t app;
    int err = check_token_params(st, rq, 40125, &app);
    if (err != 0)
        return err;
    emu_app_t *a = &st->apps[app];
    emu_token_line_t *line = &a->lines[EMU_LINE_STABLE];

    if (rq->force_refresh) {
        if ((err = force_ration_check(a, now_ms)) != 0)
            return err;
        if (!mint_token(st, line, now_ms))
            return -1;
        a->forced_at_ms[a->nforced++] = now_ms;
    } else {
        int64_t window = st->token_ttl_ms / 2 < EMU_TOKEN_GRACE_MS ? st->token_ttl_ms / 2 : EMU_TOKEN_GRACE_MS;
        bool reuse = line->has_current && line->current.expires_at_ms - now_ms > window;
        if (!reuse && !mint_token(st, line, now_ms))
            return -1;
    }
    token_answer(&line->current, now_ms, out);
    return 0;
}

/* The errcode of token against one stored token: 0 valid, 42001 expired, 40001 past its grace,
 * -1 not this one. */
static int match_token(const emu_token_t *stored, emu_slice_t token, int64_t now_ms)
{
    if (!crypto_equal(stored->text, token.base, EMU_TOKEN_LEN))
        return -1;
    if (stored->valid_until_ms <= now_ms)
        return 40001;
    return stored->expires_at_ms <= now_ms ? 42001 : 0;
}

static int find_token(const emu_state_t *st, emu_slice_t token, int64_t now_ms, size_t *app)
{
    if (token.base == NULL || token.len == 0)
        return 41001;
    if (token.len != EMU_TOKEN_LEN)
        return 40001;
    for (size_t i = 0; i < st->napps; ++i) {
        for (int l = 0; l < EMU_LINES; ++l) {
            const emu_token_line_t *line = &st->apps[i].lines[l];
            int err = line->has_current ? match_token(&line->current, token, now_ms) : -1;
            for (size_t k = 0; err < 0 && k < line->nold; ++k)
                err = match_token(&line->old[k], token, now_ms);
            if (err >= 0) {
                *app = i;
                return err;
            }
        }
    }
    return 40001;
}

int emu_state_check_token(const emu_state_t *st, emu_slice_t token, int64_t now_ms, char *appid)
{
    size_t app;
    int err = find_token(st, token, now_ms, &app);
    if (err == 0 && appid != NULL)
        memcpy(appid, st->apps[app].appid, st->apps[app].appid_len + 1);
    return err;
}

emu_status_t emu_state_invalidate_tokens(emu_state_t *st, emu_slice_t appid, size_t *count)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    *count = 0;
    for (int l = 0; l < EMU_LINES; ++l) {
        emu_token_line_t *line = &st->apps[app].lines[l];
        *count += line->nold + (line->has_current ? 1 : 0);
        explicit_bzero(line, sizeof(*line));
    }
    return EMU_OK;
}

emu_status_t emu_state_expire_tokens(emu_state_t *st, emu_slice_t appid, int64_t now_ms, size_t *count)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    *count = 0;
    for (int l = 0; l < EMU_LINES; ++l) {
        emu_token_line_t *line = &st->apps[app].lines[l];
        if (line->has_current && line->current.expires_at_ms > now_ms) {
            line->current.expires_at_ms = now_ms;
            ++*count;
        }
        for (size_t k = 0; k < line->nold; ++k) {
            if (line->old[k].expires_at_ms > now_ms) {
                line->old[k].expires_at_ms = now_ms;
                ++*count;
            }
        }
    }
    return EMU_OK;
}

size_t emu_state_token_count(const emu_state_t *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->napps; ++i)
        for (int l = 0; l < EMU_LINES; ++l)
            n += st->apps[i].lines[l].nold + (st->apps[i].lines[l].has_current ? 1 : 0);
    return n;
}

/* Phone numbers ------------------------------------------------------------------------------------ */

static bool digits_ok(emu_slice_t s, size_t max)
{
    if (s.base == NULL || s.len == 0 || s.len > max)
        return false;
    for (size_t i = 0; i < s.len; ++i)
        if (s.base[i] < '0' || s.base[i] > '9')
            return false;
    return true;
}

emu_status_t emu_phone_info_make(emu_slice_t appid, const emu_phone_spec_t *spec, emu_phone_info_t *out)
{
    emu_slice_t cc = spec->country_code.base != NULL ? spec->country_code : emu_slice_cstr("86");
    emu_slice_t wm = spec->watermark_appid.base != NULL ? spec->watermark_appid : appid;

    if (!digits_ok(spec->phone, EMU_PHONE_MAX) || !digits_ok(cc, EMU_COUNTRY_MAX) || !slice_ok(wm, EMU_APPID_MAX))
        return EMU_EINVAL;
    memset(out, 0, sizeof(*out));
    memcpy(out->pure_phone_number, spec->phone.base, spec->phone.len);
    memcpy(out->country_code, cc.base, cc.len);
    memcpy(out->watermark_appid, wm.base, wm.len);
    out->country_code_as_number = spec->country_code_as_number;
    if (slice_eq(cc, "86", 2))
        memcpy(out->phone_number, spec->phone.base, spec->phone.len); /* mainland: no prefix (WeChat's sample) */
    else
        snprintf(out->phone_number, sizeof(out->phone_number), "+%s %s", out->country_code, out->pure_phone_number);
    return EMU_OK;
}

emu_status_t emu_state_issue_phone_code(emu_state_t *st, emu_slice_t appid, emu_slice_t user,
                                        const emu_phone_spec_t *spec, int64_t now_ms, char code[EMU_CODE_LEN + 1])
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if (!slice_ok(user, EMU_USER_MAX))
        return EMU_EINVAL;
    emu_phone_info_t *phone = malloc(sizeof(*phone));
    if (phone == NULL)
        return EMU_EFULL;
    if (emu_phone_info_make(appid, spec, phone) != EMU_OK) {
        free(phone);
        return EMU_EINVAL;
    }
    emu_code_t *c;
    emu_status_t status = add_code(st, (size_t)app, user, phone, now_ms, &c); /* takes phone */
    if (status == EMU_OK)
        memcpy(code, c->code, EMU_CODE_LEN + 1);
    return status;
}

int emu_state_phone_number(emu_state_t *st, const emu_phone_request_t *rq, int64_t now_ms, emu_phone_info_t *out)
{
    size_t app;
    int err = find_token(st, rq->access_token, now_ms, &app);
    if (err != 0)
        return err;
    if (rq->code.base == NULL || rq->code.len == 0)
        return 41008;
    emu_state_purge(st, now_ms);
    emu_code_t *c = find_code(st, rq->code);
    if (c == NULL || c->phone == NULL || c->app != app || c->expires_at_ms <= now_ms || c->used)
        return 40029;
    if (rq->openid.base != NULL && rq->openid.len > 0) {
        char openid[EMU_OPENID_LEN + 1];
        emu_openid((emu_slice_t){st->apps[app].appid, st->apps[app].appid_len}, (emu_slice_t){c->user, c->user_len},
                   openid);
        if (!slice_eq(rq->openid, openid, EMU_OPENID_LEN))
            return 40029;
    }
    c->used = true;
    *out = *c->phone;
    return 0;
}

/* Session checks ----------------------------------------------------------------------------------- */

static const emu_session_t *find_session_by_openid(const emu_state_t *st, size_t app, emu_slice_t openid)
{
    if (openid.base == NULL || openid.len != EMU_OPENID_LEN)
        return NULL;
    for (const emu_session_t *s = st->openid_buckets[openid_bucket(openid)]; s != NULL; s = s->onext)
        if (s->app == app && memcmp(s->openid, openid.base, EMU_OPENID_LEN) == 0)
            return s;
    return NULL;
}

bool emu_state_session_key_by_openid(const emu_state_t *st, emu_slice_t appid, emu_slice_t openid,
                                     char out[EMU_SESSION_KEY_LEN + 1])
{
    int app = find_app(st, appid);
    const emu_session_t *s = app >= 0 ? find_session_by_openid(st, (size_t)app, openid) : NULL;
    if (s == NULL)
        return false;
    memcpy(out, s->session_key, EMU_SESSION_KEY_LEN + 1);
    return true;
}

void emu_checksession_signature(const char *session_key, char out[EMU_SIGNATURE_LEN + 1])
{
    uint8_t mac[32];
    crypto_hmac_sha256(session_key, strlen(session_key), "", 0, mac);
    crypto_hex(mac, sizeof(mac), out);
}

int emu_state_check_session(const emu_state_t *st, const emu_checksession_request_t *rq, int64_t now_ms)
{
    size_t app;
    int err = find_token(st, rq->access_token, now_ms, &app);
    if (err != 0)
        return err;
    if (rq->openid.base == NULL || rq->openid.len == 0)
        return 41009;
    if (rq->openid.len != EMU_OPENID_LEN || rq->openid.base[0] != 'o')
        return 40003;
    if (!slice_eq(rq->sig_method, "hmac_sha256", sizeof("hmac_sha256") - 1))
        return 87008;
    const emu_session_t *s = find_session_by_openid(st, app, rq->openid);
    if (s == NULL || rq->signature.base == NULL || rq->signature.len != EMU_SIGNATURE_LEN)
        return 87009;
    char expected[EMU_SIGNATURE_LEN + 1];
    emu_checksession_signature(s->session_key, expected);
    return crypto_equal(expected, rq->signature.base, EMU_SIGNATURE_LEN) ? 0 : 87009;
}

/* Faults ------------------------------------------------------------------------------------------ */

emu_status_t emu_state_add_fault(emu_state_t *st, const emu_fault_t *fault)
{
    size_t len = strnlen(fault->path, sizeof(fault->path));
    if (len == 0 || len > EMU_PATH_MAX || fault->path[0] != '/' || fault->count == 0 ||
        strnlen(fault->code, sizeof(fault->code)) > EMU_FAULT_CODE_MAX)
        return EMU_EINVAL;
    if (st->nfaults == EMU_MAX_FAULTS)
        return EMU_EFULL;
    st->faults[st->nfaults++] = *fault;
    return EMU_OK;
}

void emu_state_clear_faults(emu_state_t *st)
{
    st->nfaults = 0;
}

/* Does fault f apply to a call carrying code (absent: no code)? */
static bool fault_matches_code(const emu_fault_t *f, emu_slice_t code)
{
    size_t len = strnlen(f->code, sizeof(f->code));
    if (len == 0)
        return true;
    return code.base != NULL && slice_eq(code, f->code, len);
}

bool emu_state_take_fault(emu_state_t *st, emu_slice_t path, emu_fault_t *out)
{
    return emu_state_take_fault_for(st, path, (emu_slice_t){NULL, 0}, out);
}

bool emu_state_take_fault_for(emu_state_t *st, emu_slice_t path, emu_slice_t code, emu_fault_t *out)
{
    for (size_t i = 0; i < st->nfaults; ++i) {
        emu_fault_t *f = &st->faults[i];
        if (!slice_eq(path, f->path, strlen(f->path)) || !fault_matches_code(f, code))
            continue;
        --f->count;
        *out = *f;
        if (f->count == 0) {
            memmove(f, f + 1, (st->nfaults - i - 1) * sizeof(*f));
            --st->nfaults;
        }
        return true;
    }
    return false;
}

size_t emu_state_fault_count(const emu_state_t *st)
{
    return st->nfaults;
}

/* Counters --------------------------------------------------------------------------------------- */

void emu_state_count_call(emu_state_t *st, emu_slice_t path)
{
    if (!slice_ok(path, EMU_PATH_MAX))
        return;
    for (size_t i = 0; i < st->nstats; ++i) {
        if (slice_eq(path, st->stats[i].path, strlen(st->stats[i].path))) {
            ++st->stats[i].calls;
            return;
        }
    }
    if (st->nstats == EMU_MAX_STAT_PATHS)
        return;
    emu_stat_t *s = &st->stats[st->nstats++];
    memcpy(s->path, path.base, path.len);
    s->path[path.len] = '\0';
    s->calls = 1;
}

uint64_t emu_state_calls(const emu_state_t *st, emu_slice_t path)
{
    for (size_t i = 0; i < st->nstats; ++i)
        if (slice_eq(path, st->stats[i].path, strlen(st->stats[i].path)))
            return st->stats[i].calls;
    return 0;
}

size_t emu_state_stat_paths(const emu_state_t *st)
{
    return st->nstats;
}

const char *emu_state_stat_at(const emu_state_t *st, size_t i, uint64_t *calls)
{
    if (i >= st->nstats)
        return NULL;
    *calls = st->stats[i].calls;
    return st->stats[i].path;
}

void emu_state_reset_stats(emu_state_t *st)
{
    st->nstats = 0;
}

/* Mini program codes ------------------------------------------------------------------------------- */

int emu_state_wxacode_admit(emu_state_t *st, emu_slice_t token, int64_t now_ms, char *appid)
{
    size_t app;
    int err = find_token(st, token, now_ms, &app);
    if (err != 0)
        return err;
    emu_app_t *a = &st->apps[app];
    if (a->wxacode_calls == 0 || now_ms - a->wxacode_window_start_ms >= EMU_WXACODE_WINDOW_MS) {
        a->wxacode_window_start_ms = now_ms;
        a->wxacode_calls = 0;
    }
    if (a->wxacode_calls >= a->wxacode_limit)
        return 45009;
    ++a->wxacode_calls;
    if (appid != NULL)
        memcpy(appid, a->appid, a->appid_len + 1);
    return 0;
}

/* UTF-8 code points of s (bytes that are not continuation bytes). */
static size_t utf8_length(emu_slice_t s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; ++i)
        n += ((unsigned char)s.base[i] & 0xc0u) != 0x80u;
    return n;
}

static bool scene_char_ok(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c != '\0' && strchr("!#$&'()*+,/:;=?@-._~", c) != NULL);
}

/* A page path as WeChat takes it: 1..EMU_WXACODE_PAGE_MAX bytes, no leading '/', no '?', no NUL. */
static bool page_ok(emu_slice_t page)
{
    return slice_ok(page, EMU_WXACODE_PAGE_MAX) && page.base[0] != '/' && memchr(page.base, '?', page.len) == NULL;
}

static const char *app_home(const emu_app_t *a)
{
    return a->wxacode_published && a->wxacode_npages > 0 ? a->wxacode_pages[0] : EMU_WXACODE_HOME;
}

static bool page_published(const emu_app_t *a, emu_slice_t page)
{
    if (!a->wxacode_published)
        return true;
    for (size_t i = 0; i < a->wxacode_npages; ++i)
        if (slice_eq(page, a->wxacode_pages[i], strlen(a->wxacode_pages[i])))
            return true;
    return false;
}

int emu_state_wxacode_check(const emu_state_t *st, emu_slice_t appid, const emu_wxacode_request_t *rq)
{
    int app = find_app(st, appid);
    if (rq->scene.base == NULL || rq->scene.len == 0 || utf8_length(rq->scene) > EMU_WXACODE_SCENE_MAX)
        return 40169;
    for (size_t i = 0; i < rq->scene.len; ++i)
        if (!scene_char_ok(rq->scene.base[i]))
            return 40129;
    if (app < 0)
        return 40013;
    const emu_app_t *a = &st->apps[app];
    emu_slice_t page = rq->page;
    if (page.base == NULL || page.len == 0)
        page = emu_slice_cstr(app_home(a));
    else if (!page_ok(page))
        return 41030;
    if (rq->check_path && (!page_published(a, page) || (a->wxacode_published && a->wxacode_npages == 0)))
        return 41030;
    if (rq->env_version.base != NULL && !slice_eq(rq->env_version, "release", 7) &&
        !slice_eq(rq->env_version, "trial", 5) && !slice_eq(rq->env_version, "develop", 7))
        return 40097;
    return 0;
}

const char *emu_state_wxacode_home(const emu_state_t *st, emu_slice_t appid)
{
    int app = find_app(st, appid);
    return app >= 0 ? app_home(&st->apps[app]) : EMU_WXACODE_HOME;
}

emu_status_t emu_state_wxacode_set_limit(emu_state_t *st, emu_slice_t appid, uint32_t per_minute)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if (per_minute == 0 || per_minute > EMU_WXACODE_LIMIT_MAX)
        return EMU_EINVAL;
    st->apps[app].wxacode_limit = per_minute;
    st->apps[app].wxacode_calls = 0;
    return EMU_OK;
}

emu_status_t emu_state_wxacode_set_pages(emu_state_t *st, emu_slice_t appid, bool published, const emu_slice_t *pages,
                                         size_t npages)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if (!published)
        npages = 0;
    if (npages > EMU_WXACODE_PAGES_MAX)
        return EMU_EFULL;
    for (size_t i = 0; i < npages; ++i)
        if (!page_ok(pages[i]))
            return EMU_EINVAL;
    emu_app_t *a = &st->apps[app];
    memset(a->wxacode_pages, 0, sizeof(a->wxacode_pages));
    for (size_t i = 0; i < npages; ++i)
        memcpy(a->wxacode_pages[i], pages[i].base, pages[i].len);
    a->wxacode_npages = npages;
    a->wxacode_published = published;
    return EMU_OK;
}

emu_status_t emu_state_wxacode_info(const emu_state_t *st, emu_slice_t appid, int64_t now_ms, emu_wxacode_info_t *out)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    const emu_app_t *a = &st->apps[app];
    memset(out, 0, sizeof(*out));
    out->limit_per_minute = a->wxacode_limit;
    out->calls_this_window =
        a->wxacode_calls > 0 && now_ms - a->wxacode_window_start_ms < EMU_WXACODE_WINDOW_MS ? a->wxacode_calls : 0;
    out->published = a->wxacode_published;
    out->npages = a->wxacode_npages;
    for (size_t i = 0; i < a->wxacode_npages; ++i)
        out->pages[i] = a->wxacode_pages[i];
    return EMU_OK;
}

/* Visits --------------------------------------------------------------------------------------------- */

static emu_session_t *session_of_openid(const emu_state_t *st, size_t app, emu_slice_t openid)
{
    return (emu_session_t *)find_session_by_openid(st, app, openid);
}

bool emu_state_openid_known(const emu_state_t *st, emu_slice_t appid, emu_slice_t openid)
{
    int app = find_app(st, appid);
    return app >= 0 && session_of_openid(st, (size_t)app, openid) != NULL;
}

emu_status_t emu_state_visit(emu_state_t *st, emu_slice_t appid, emu_slice_t openid, bool stale, int64_t now_ms)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    emu_session_t *s = session_of_openid(st, (size_t)app, openid);
    if (s == NULL)
        return EMU_ENOUSER;
    s->visited = !stale;
    s->visited_ms = now_ms;
    return EMU_OK;
}

/* Subscription messages ---------------------------------------------------------------------------- */

static const emu_tpl_t *find_tpl(const emu_app_t *a, emu_slice_t id)
{
    for (size_t i = 0; i < a->ntemplates; ++i)
        if (slice_eq(id, a->templates[i].id, strlen(a->templates[i].id)))
            return &a->templates[i];
    return NULL;
}

static bool template_id_ok(emu_slice_t id)
{
    if (id.base == NULL || id.len == 0 || id.len > EMU_SUB_TEMPLATE_ID)
        return false;
    for (size_t i = 0; i < id.len; ++i)
        if (id.base[i] < 0x21 || id.base[i] > 0x7e)
            return false;
    return true;
}

/* Checks t and fills out; EMU_OK, EMU_EINVAL or EMU_EFULL. */
static emu_status_t make_tpl(const emu_sub_template_t *t, emu_tpl_t *out)
{
    if (!template_id_ok(t->id) || t->nkeywords == 0)
        return EMU_EINVAL;
    if (t->nkeywords > EMU_SUB_KEYWORDS_MAX)
        return EMU_EFULL;
    memset(out, 0, sizeof(*out));
    memcpy(out->id, t->id.base, t->id.len);
    for (size_t k = 0; k < t->nkeywords; ++k) {
        emu_slice_t kw = t->keywords[k];
        if (!slice_ok(kw, EMU_SUB_KEYWORD_MAX) || (out->types[k] = emu_keyword_type(kw.base, kw.len)) == EMU_KW_NONE)
            return EMU_EINVAL;
        for (size_t j = 0; j < k; ++j)
            if (slice_eq(kw, out->keywords[j], strlen(out->keywords[j])))
                return EMU_EINVAL;
        memcpy(out->keywords[k], kw.base, kw.len);
    }
    out->nkeywords = t->nkeywords;
    return EMU_OK;
}

emu_status_t emu_state_sub_set_templates(emu_state_t *st, emu_slice_t appid, const emu_sub_template_t *t, size_t n)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if (n > EMU_SUB_TEMPLATES_MAX)
        return EMU_EFULL;
    emu_tpl_t *made = calloc(n > 0 ? n : 1, sizeof(*made));
    if (made == NULL)
        return EMU_EFULL;
    for (size_t i = 0; i < n; ++i) {
        emu_status_t status = make_tpl(&t[i], &made[i]);
        for (size_t j = 0; status == EMU_OK && j < i; ++j)
            if (strcmp(made[j].id, made[i].id) == 0)
                status = EMU_EINVAL;
        if (status != EMU_OK) {
            free(made);
            return status;
        }
    }
    emu_app_t *a = &st->apps[app];
    memset(a->templates, 0, sizeof(a->templates));
    if (n > 0)
        memcpy(a->templates, made, n * sizeof(*made));
    a->ntemplates = n;
    free(made);
    return EMU_OK;
}

emu_status_t emu_state_sub_templates(const emu_state_t *st, emu_slice_t appid,
                                     emu_sub_template_info_t out[EMU_SUB_TEMPLATES_MAX], size_t *n)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    const emu_app_t *a = &st->apps[app];
    for (size_t i = 0; i < a->ntemplates; ++i) {
        out[i].id = a->templates[i].id;
        out[i].nkeywords = a->templates[i].nkeywords;
        for (size_t k = 0; k < a->templates[i].nkeywords; ++k)
            out[i].keywords[k] = a->templates[i].keywords[k];
    }
    *n = a->ntemplates;
    return EMU_OK;
}

bool emu_state_sub_has_template(const emu_state_t *st, emu_slice_t appid, emu_slice_t template_id)
{
    int app = find_app(st, appid);
    return app >= 0 && find_tpl(&st->apps[app], template_id) != NULL;
}

static size_t quota_bucket(size_t app, emu_slice_t openid, emu_slice_t template_id)
{
    uint64_t h = fnv1a(FNV_SEED, &app, sizeof(app));
    h = fnv1a(h, openid.base, openid.len);
    h = fnv1a(h, "", 1);
    return (size_t)(fnv1a(h, template_id.base, template_id.len) & (EMU_QUOTA_BUCKETS - 1));
}

static emu_quota_t *find_quota(const emu_state_t *st, size_t app, emu_slice_t openid, emu_slice_t template_id)
{
    for (emu_quota_t *q = st->quota_buckets[quota_bucket(app, openid, template_id)]; q != NULL; q = q->next)
        if (q->app == app && slice_eq(openid, q->openid, strlen(q->openid)) &&
            slice_eq(template_id, q->template_id, strlen(q->template_id)))
            return q;
    return NULL;
}

/* The checks shared by accept, reject and quota: the app index in *app. */
static emu_status_t quota_target(const emu_state_t *st, emu_slice_t appid, emu_slice_t openid, emu_slice_t template_id,
                                 size_t *app)
{
    int found = find_app(st, appid);
    if (found < 0)
        return EMU_ENOENT;
    if (session_of_openid(st, (size_t)found, openid) == NULL)
        return EMU_ENOUSER;
    if (find_tpl(&st->apps[found], template_id) == NULL)
        return EMU_ENOTPL;
    *app = (size_t)found;
    return EMU_OK;
}

emu_status_t emu_state_sub_accept(emu_state_t *st, emu_slice_t appid, emu_slice_t openid, emu_slice_t template_id,
                                  uint32_t count, uint64_t *quota)
{
    size_t app;
    emu_status_t status = quota_target(st, appid, openid, template_id, &app);
    if (status != EMU_OK)
        return status;
    if (count == 0)
        return EMU_EINVAL;
    emu_quota_t *q = find_quota(st, app, openid, template_id);
    if (q == NULL) {
        if (st->nquotas >= EMU_SUB_QUOTAS_MAX || (q = calloc(1, sizeof(*q))) == NULL)
            return EMU_EFULL;
        q->app = app;
        memcpy(q->openid, openid.base, openid.len); /* EMU_OPENID_LEN: a known openid */
        memcpy(q->template_id, template_id.base, template_id.len);
        size_t b = quota_bucket(app, openid, template_id);
        q->next = st->quota_buckets[b];
        st->quota_buckets[b] = q;
        ++st->nquotas;
    }
    q->count += count;
    if (q->count > EMU_SUB_QUOTA_MAX)
        q->count = EMU_SUB_QUOTA_MAX;
    *quota = q->count;
    return EMU_OK;
}

emu_status_t emu_state_sub_reject(emu_state_t *st, emu_slice_t appid, emu_slice_t openid, emu_slice_t template_id)
{
    size_t app;
    emu_status_t status = quota_target(st, appid, openid, template_id, &app);
    emu_quota_t *q = status == EMU_OK ? find_quota(st, app, openid, template_id) : NULL;
    if (q != NULL)
        q->count = 0;
    return status;
}

emu_status_t emu_state_sub_quota(const emu_state_t *st, emu_slice_t appid, emu_slice_t openid, emu_slice_t template_id,
                                 uint64_t *quota)
{
    size_t app;
    emu_status_t status = quota_target(st, appid, openid, template_id, &app);
    if (status != EMU_OK)
        return status;
    const emu_quota_t *q = find_quota(st, app, openid, template_id);
    *quota = q != NULL ? q->count : 0;
    return EMU_OK;
}

size_t emu_state_sub_quota_count(const emu_state_t *st)
{
    return st->nquotas;
}

static bool one_of(emu_slice_t s, const char *const *values)
{
    for (size_t i = 0; values[i] != NULL; ++i)
        if (slice_eq(s, values[i], strlen(values[i])))
            return true;
    return false;
}

static int sub_arg_error(emu_sub_send_result_t *out, const char *what, emu_slice_t key, const char *how)
{
    snprintf(out->errmsg, sizeof(out->errmsg), "argument invalid! %s%.*s%s", what, (int)key.len,
             key.base != NULL ? key.base : "", how);
    return 47003;
}

static const emu_sub_value_t *find_value(const emu_sub_send_request_t *rq, const char *key)
{
    for (size_t i = 0; i < rq->nvalues; ++i)
        if (slice_eq(rq->values[i].key, key, strlen(key)))
            return &rq->values[i];
    return NULL;
}

/* The argument checks after the template was found (47003 with out->errmsg, or 0). */
static int check_sub_arguments(const emu_tpl_t *t, const emu_sub_send_request_t *rq, emu_sub_send_result_t *out)
{
    static const char *const STATES[] = {"developer", "trial", "formal", NULL};
    static const char *const LANGS[] = {"zh_CN", "en_US", "zh_HK", "zh_TW", NULL};
    const emu_slice_t none = {"", 0};

    if (rq->miniprogram_state.base != NULL && !one_of(rq->miniprogram_state, STATES))
        return sub_arg_error(out, "miniprogram_state", none, " invalid");
    if (rq->lang.base != NULL && !one_of(rq->lang, LANGS))
        return sub_arg_error(out, "lang", none, " invalid");
    if (!rq->has_data)
        return sub_arg_error(out, "data", none, " is emtpy");
    for (size_t k = 0; k < t->nkeywords; ++k) {
        const emu_sub_value_t *v = find_value(rq, t->keywords[k]);
        emu_slice_t key = emu_slice_cstr(t->keywords[k]);
        if (v == NULL || v->kind == EMU_SUB_EMPTY || (v->kind == EMU_SUB_TEXT && v->text.len == 0))
            return sub_arg_error(out, "data.", key, ".value is emtpy");
        if (v->kind != EMU_SUB_TEXT || !emu_keyword_value_ok(t->types[k], v->text.base, v->text.len))
            return sub_arg_error(out, "data.", key, ".value invalid");
    }
    for (size_t i = 0; i < rq->nvalues; ++i) {
        bool known = false;
        for (size_t k = 0; !known && k < t->nkeywords; ++k)
            known = slice_eq(rq->values[i].key, t->keywords[k], strlen(t->keywords[k]));
        if (!known)
            return sub_arg_error(out, "data.", rq->values[i].key, " is not a keyword of the template");
    }
    return 0;
}

/* page: absent or "" (no jump), else no leading '/', at most EMU_SUB_PAGE_MAX bytes, no NUL. */
static bool sub_page_ok(emu_slice_t page)
{
    return page.base == NULL || page.len == 0 ||
           (page.len <= EMU_SUB_PAGE_MAX && page.base[0] != '/' && memchr(page.base, '\0', page.len) == NULL);
}

/* Appends slice s to the record's text at *at (NULL for an absent slice). */
static const char *record_text(emu_sub_record_t *r, size_t *at, emu_slice_t s)
{
    if (s.base == NULL)
        return NULL;
    char *p = r->text + *at;
    memcpy(p, s.base, s.len);
    p[s.len] = '\0';
    *at += s.len + 1;
    return p;
}

static emu_sub_record_t *make_record(const emu_sub_send_request_t *rq, size_t app, uint64_t msgid)
{
    emu_slice_t page = rq->page.base != NULL && rq->page.len == 0 ? (emu_slice_t){NULL, 0} : rq->page;
    const emu_slice_t parts[] = {rq->touser, rq->template_id, page, rq->data_json, rq->miniprogram_state, rq->lang};
    size_t size = 0, at = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); ++i)
        size += parts[i].base != NULL ? parts[i].len + 1 : 0;
    emu_sub_record_t *r = malloc(sizeof(*r) + size);
    if (r == NULL)
        return NULL;
    r->msgid = msgid;
    r->app = app;
    r->time_s = rq->wall_s;
    r->touser = record_text(r, &at, parts[0]);
    r->template_id = record_text(r, &at, parts[1]);
    r->page = record_text(r, &at, parts[2]);
    r->data_json = record_text(r, &at, parts[3]);
    r->miniprogram_state = record_text(r, &at, parts[4]);
    r->lang = record_text(r, &at, parts[5]);
    return r;
}

static void add_record(emu_state_t *st, emu_sub_record_t *r)
{
    if (st->nsent == EMU_SUB_SENT_MAX) {
        free(st->sent[st->sent_head]);
        st->sent[st->sent_head] = r;
        st->sent_head = (st->sent_head + 1) % EMU_SUB_SENT_MAX;
        return;
    }
    st->sent[(st->sent_head + st->nsent) % EMU_SUB_SENT_MAX] = r;
    ++st->nsent;
}

int emu_state_sub_send(emu_state_t *st, const emu_sub_send_request_t *rq, int64_t now_ms, emu_sub_send_result_t *out)
{
    size_t app;
    out->msgid = 0;
    out->errmsg[0] = '\0';
    int err = find_token(st, rq->access_token, now_ms, &app);
    if (err != 0)
        return err;
    emu_app_t *a = &st->apps[app];
    if (rq->touser.base == NULL || session_of_openid(st, app, rq->touser) == NULL)
        return 40003;
    const emu_tpl_t *t = rq->template_id.base != NULL ? find_tpl(a, rq->template_id) : NULL;
    if (t == NULL)
        return 40037;
    if (!sub_page_ok(rq->page))
        return 41030;
    if ((err = check_sub_arguments(t, rq, out)) != 0)
        return err;
    emu_quota_t *q = find_quota(st, app, rq->touser, rq->template_id);
    if (q == NULL || q->count == 0)
        return 43101;
    emu_sub_record_t *r = make_record(rq, app, st->next_msgid);
    if (r == NULL)
        return -1;
    add_record(st, r);
    --q->count;
    out->msgid = st->next_msgid++;
    return 0;
}

size_t emu_state_sub_sent_count(const emu_state_t *st)
{
    return st->nsent;
}

bool emu_state_sub_sent_at(const emu_state_t *st, size_t i, emu_sub_sent_t *out)
{
    if (i >= st->nsent)
        return false;
    const emu_sub_record_t *r = st->sent[(st->sent_head + i) % EMU_SUB_SENT_MAX];
    *out = (emu_sub_sent_t){r->msgid,     st->apps[r->app].appid, r->touser, r->template_id, r->page,
                            r->data_json, r->miniprogram_state,   r->lang,   r->time_s};
    return true;
}

size_t emu_state_sub_clear_sent(emu_state_t *st)
{
    size_t n = st->nsent;
    for (size_t i = 0; i < n; ++i) {
        size_t slot = (st->sent_head + i) % EMU_SUB_SENT_MAX;
        free(st->sent[slot]);
        st->sent[slot] = NULL;
    }
    st->nsent = 0;
    st->sent_head = 0;
    return n;
}

/* Content security ---------------------------------------------------------------------------------- */

static bool contains(emu_slice_t haystack, const char *word)
{
    size_t n = strlen(word);
    if (haystack.base == NULL || n == 0 || haystack.len < n)
        return false;
    for (size_t i = 0; i + n <= haystack.len; ++i)
        if (memcmp(haystack.base + i, word, n) == 0)
            return true;
    return false;
}

/* The first of words[0..n) that one of the texts contains, or NULL. */
static const char *first_hit(const char (*words)[EMU_SEC_WORD_MAX + 1], size_t n, const emu_sec_request_t *rq)
{
    for (size_t i = 0; i < n; ++i)
        if (contains(rq->content, words[i]) || contains(rq->title, words[i]) || contains(rq->nickname, words[i]))
            return words[i];
    return NULL;
}

int emu_state_msg_sec_check(const emu_state_t *st, const emu_sec_request_t *rq, int64_t now_ms, emu_sec_result_t *out)
{
    size_t app;
    memset(out, 0, sizeof(*out));
    int err = find_token(st, rq->access_token, now_ms, &app);
    if (err != 0)
        return err;
    if (rq->bad_format || !rq->has_version || rq->version != 2 ||
        (rq->content.base != NULL && utf8_length(rq->content) > EMU_SEC_CONTENT_MAX))
        return 47001;
    if (rq->content.base == NULL || rq->content.len == 0 || rq->openid.base == NULL || rq->openid.len == 0)
        return 44002;
    if (!rq->has_scene || rq->scene < 1 || rq->scene > 4)
        return 40129;
    const emu_session_t *s = find_session_by_openid(st, app, rq->openid);
    if (s == NULL)
        return 40003;
    const emu_app_t *a = &st->apps[app];
    if (!s->visited || now_ms - s->visited_ms >= a->visit_window_ms)
        return 61010;
    const char *word = first_hit(a->sec_risky, a->nrisky, rq);
    out->suggest = EMU_SEC_RISKY;
    if (word == NULL && (word = first_hit(a->sec_review, a->nreview, rq)) != NULL)
        out->suggest = EMU_SEC_REVIEW;
    if (word == NULL) {
        out->suggest = EMU_SEC_PASS;
        out->label = EMU_SEC_LABEL_PASS;
        return 0;
    }
    out->label = a->sec_label;
    snprintf(out->keyword, sizeof(out->keyword), "%s", word);
    return 0;
}

static bool words_ok(const emu_slice_t *words, size_t n)
{
    for (size_t i = 0; words != NULL && i < n; ++i)
        if (!slice_ok(words[i], EMU_SEC_WORD_MAX))
            return false;
    return true;
}

static size_t set_words(char (*dst)[EMU_SEC_WORD_MAX + 1], const emu_slice_t *words, size_t n)
{
    memset(dst, 0, EMU_SEC_WORDS_MAX * sizeof(*dst));
    for (size_t i = 0; i < n; ++i)
        memcpy(dst[i], words[i].base, words[i].len);
    return n;
}

emu_status_t emu_state_sec_set(emu_state_t *st, emu_slice_t appid, const emu_slice_t *risky, size_t nrisky,
                               const emu_slice_t *review, size_t nreview, int label, int64_t visit_window_ms)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if ((risky != NULL && nrisky > EMU_SEC_WORDS_MAX) || (review != NULL && nreview > EMU_SEC_WORDS_MAX))
        return EMU_EFULL;
    if (!words_ok(risky, nrisky) || !words_ok(review, nreview) || label < 0 || visit_window_ms < 0)
        return EMU_EINVAL;
    emu_app_t *a = &st->apps[app];
    if (risky != NULL)
        a->nrisky = set_words(a->sec_risky, risky, nrisky);
    if (review != NULL)
        a->nreview = set_words(a->sec_review, review, nreview);
    if (label > 0)
        a->sec_label = label;
    if (visit_window_ms > 0)
        a->visit_window_ms = visit_window_ms;
    return EMU_OK;
}

emu_status_t emu_state_sec_info(const emu_state_t *st, emu_slice_t appid, emu_sec_info_t *out)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    const emu_app_t *a = &st->apps[app];
    memset(out, 0, sizeof(*out));
    out->nrisky = a->nrisky;
    out->nreview = a->nreview;
    for (size_t i = 0; i < a->nrisky; ++i)
        out->risky[i] = a->sec_risky[i];
    for (size_t i = 0; i < a->nreview; ++i)
        out->review[i] = a->sec_review[i];
    out->label = a->sec_label;
    out->visit_window_ms = a->visit_window_ms;
    return EMU_OK;
}

/* Media checks and the message push ---------------------------------------------------------------- */

static bool alnum_ok(emu_slice_t s, size_t min, size_t max)
{
    if (s.base == NULL || s.len < min || s.len > max)
        return false;
    for (size_t i = 0; i < s.len; ++i) {
        char c = s.base[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

static bool push_url_ok(emu_slice_t url)
{
    static const char SCHEME[] = "http://";
    if (url.len <= sizeof(SCHEME) - 1 || url.len > EMU_PUSH_URL_MAX ||
        memcmp(url.base, SCHEME, sizeof(SCHEME) - 1) != 0)
        return false;
    for (size_t i = 0; i < url.len; ++i)
        if ((unsigned char)url.base[i] <= 0x20 || (unsigned char)url.base[i] >= 0x7f)
            return false;
    return true;
}

emu_status_t emu_state_push_set(emu_state_t *st, emu_slice_t appid, emu_slice_t url, emu_slice_t token,
                                emu_slice_t aes_key, uint32_t delay_ms)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    bool safe = aes_key.base != NULL && aes_key.len > 0;
    if (delay_ms > 60000 ||
        (url.base != NULL && (!push_url_ok(url) || !alnum_ok(token, EMU_PUSH_TOKEN_MIN, EMU_PUSH_TOKEN_MAX))) ||
        (safe && !alnum_ok(aes_key, EMU_PUSH_AES_KEY_LEN, EMU_PUSH_AES_KEY_LEN)))
        return EMU_EINVAL;
    emu_push_config_t *p = &st->apps[app].push;
    explicit_bzero(p, sizeof(*p));
    p->delay_ms = delay_ms;
    if (url.base == NULL)
        return EMU_OK;
    p->configured = true;
    memcpy(p->url, url.base, url.len);
    memcpy(p->token, token.base, token.len);
    if (safe)
        memcpy(p->aes_key, aes_key.base, aes_key.len);
    return EMU_OK;
}

emu_status_t emu_state_push_config(const emu_state_t *st, emu_slice_t appid, emu_push_config_t *out)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    *out = st->apps[app].push;
    return EMU_OK;
}

int emu_state_media_check(const emu_state_t *st, const emu_media_request_t *rq, int64_t now_ms, char *appid,
                          emu_sec_result_t *out)
{
    size_t app;
    memset(out, 0, sizeof(*out));
    int err = find_token(st, rq->access_token, now_ms, &app);
    if (err != 0)
        return err;
    if (rq->bad_format || !rq->has_version || rq->version != 2 || !rq->has_media_type ||
        (rq->media_type != 1 && rq->media_type != 2) ||
        (rq->media_url.base != NULL && rq->media_url.len > EMU_MEDIA_URL_MAX))
        return 47001;
    if (rq->media_url.base == NULL || rq->media_url.len == 0 || rq->openid.base == NULL || rq->openid.len == 0)
        return 44002;
    if (!rq->has_scene || rq->scene < 1 || rq->scene > 4)
        return 40129;
    const emu_session_t *s = find_session_by_openid(st, app, rq->openid);
    if (s == NULL)
        return 40003;
    const emu_app_t *a = &st->apps[app];
    if (!s->visited || now_ms - s->visited_ms >= a->visit_window_ms)
        return 61010;
    emu_sec_request_t text = {.content = rq->media_url};
    const char *word = first_hit(a->sec_risky, a->nrisky, &text);
    out->suggest = EMU_SEC_RISKY;
    if (word == NULL && (word = first_hit(a->sec_review, a->nreview, &text)) != NULL)
        out->suggest = EMU_SEC_REVIEW;
    out->label = word != NULL ? a->sec_label : EMU_SEC_LABEL_PASS;
    if (word == NULL)
        out->suggest = EMU_SEC_PASS;
    else
        snprintf(out->keyword, sizeof(out->keyword), "%s", word);
    if (appid != NULL)
        memcpy(appid, a->appid, a->appid_len + 1);
    return 0;
}

emu_status_t emu_state_media_log_add(emu_state_t *st, emu_slice_t appid, const emu_media_request_t *rq,
                                     emu_slice_t trace_id, int64_t wall_s)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if (!slice_ok(rq->openid, EMU_OPENID_LEN) || !slice_ok(rq->media_url, EMU_MEDIA_URL_MAX) ||
        !slice_ok(trace_id, EMU_MEDIA_TRACE_MAX) || !rq->has_media_type ||
        (rq->media_type != 1 && rq->media_type != 2) || !rq->has_scene || rq->scene < 1 || rq->scene > 4)
        return EMU_EINVAL;
    emu_media_slot_t *m = &st->media[(st->media_head + st->nmedia) % EMU_MEDIA_LOG_MAX];
    if (st->nmedia == EMU_MEDIA_LOG_MAX)
        st->media_head = (st->media_head + 1) % EMU_MEDIA_LOG_MAX; /* m is the oldest slot: forgotten */
    else
        ++st->nmedia;
    m->app = (size_t)app;
    m->media_type = (int)rq->media_type;
    m->scene = (int)rq->scene;
    m->time_s = wall_s;
    memcpy(m->openid, rq->openid.base, rq->openid.len);
    m->openid[rq->openid.len] = '\0';
    memcpy(m->trace_id, trace_id.base, trace_id.len);
    m->trace_id[trace_id.len] = '\0';
    memcpy(m->media_url, rq->media_url.base, rq->media_url.len);
    m->media_url[rq->media_url.len] = '\0';
    return EMU_OK;
}

size_t emu_state_media_log_count(const emu_state_t *st)
{
    return st->nmedia;
}

bool emu_state_media_log_at(const emu_state_t *st, size_t i, emu_media_entry_t *out)
{
    if (i >= st->nmedia)
        return false;
    const emu_media_slot_t *m = &st->media[(st->media_head + i) % EMU_MEDIA_LOG_MAX];
    *out = (emu_media_entry_t){st->apps[m->app].appid, m->openid, m->media_url, m->trace_id,
                               m->media_type,          m->scene,  m->time_s};
    return true;
}

size_t emu_state_media_log_clear(emu_state_t *st)
{
    size_t n = st->nmedia;
    st->nmedia = 0;
    st->media_head = 0;
    return n;
}
