/*
 * emu_state — wxemu's memory of apps, codes, session_keys, faults and counters (see emu_state.h).
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
 * Session records (app, user) -> current session_key sit in a second hash table with a FIFO in
 * creation order; past EMU_MAX_SESSIONS the oldest record is forgotten.
 *
 * Faults are a small array kept in insertion order; counters a small array of (path, calls).
 */
#include "emu_state.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define EMU_CODE_BUCKETS    (1u << 16)
#define EMU_SESSION_BUCKETS (1u << 16)

typedef struct emu_app {
    char appid[EMU_APPID_MAX + 1];
    size_t appid_len;
    char secret[EMU_SECRET_MAX + 1];
    size_t secret_len;
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
} emu_code_t;

typedef struct emu_session {
    struct emu_session *hnext;
    struct emu_session *qnext; /* FIFO, creation order */
    size_t app;
    char user[EMU_USER_MAX + 1];
    size_t user_len;
    char session_key[EMU_SESSION_KEY_LEN + 1];
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
    emu_session_t *session_head, *session_tail;
    size_t nsessions;

    emu_fault_t faults[EMU_MAX_FAULTS];
    size_t nfaults;

    emu_stat_t stats[EMU_MAX_STAT_PATHS];
    size_t nstats;
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

static int find_app(const emu_state_t *st, emu_slice_t appid)
{
    for (size_t i = 0; i < st->napps; ++i)
        if (slice_eq(appid, st->apps[i].appid, st->apps[i].appid_len))
            return (int)i;
    return -1;
}

/* Lifetime ----------------------------------------------------------------------------------------- */

emu_state_t *emu_state_new(void)
{
    emu_state_t *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->code_buckets = calloc(EMU_CODE_BUCKETS, sizeof(*st->code_buckets));
    st->session_buckets = calloc(EMU_SESSION_BUCKETS, sizeof(*st->session_buckets));
    if (st->code_buckets == NULL || st->session_buckets == NULL) {
        emu_state_free(st);
        return NULL;
    }
    return st;
}

void emu_state_free(emu_state_t *st)
{
    if (st == NULL)
        return;
    for (emu_code_t *c = st->code_head, *next; c != NULL; c = next) {
        next = c->qnext;
        free(c);
    }
    for (emu_session_t *s = st->session_head, *next; s != NULL; s = next) {
        next = s->qnext;
        explicit_bzero(s->session_key, sizeof(s->session_key));
        free(s);
    }
    explicit_bzero(st->apps, sizeof(st->apps));
    free(st->code_buckets);
    free(st->session_buckets);
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
        free(c);
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

emu_status_t emu_state_issue_code(emu_state_t *st, emu_slice_t appid, emu_slice_t user, int64_t now_ms,
                                  emu_login_t *out)
{
    int app = find_app(st, appid);
    if (app < 0)
        return EMU_ENOENT;
    if (!slice_ok(user, EMU_USER_MAX))
        return EMU_EINVAL;
    emu_state_purge(st, now_ms);
    if (st->ncodes >= EMU_MAX_CODES)
        return EMU_EFULL;

    emu_code_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return EMU_EFULL;
    if (!new_code_text(st, c->code)) {
        free(c);
        return EMU_ERANDOM;
    }
    c->app = (size_t)app;
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
    size_t b = session_bucket(app, user);
    s->hnext = st->session_buckets[b];
    st->session_buckets[b] = s;
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
    if (c == NULL || c->app != app || c->expires_at_ms <= now_ms)
        return 40029;
    if (c->used)
        return 40163;

    uint8_t raw[16];
    emu_slice_t user = {c->user, c->user_len};
    emu_session_t *s = upsert_session(st, app, user);
    if (s == NULL || !crypto_random(raw, sizeof(raw)))
        return -1;
    crypto_b64_encode(raw, sizeof(raw), s->session_key);
    explicit_bzero(raw, sizeof(raw));
    c->used = true;

    emu_openid(rq->appid, user, out->openid);
    emu_unionid(user, out->unionid);
    memcpy(out->session_key, s->session_key, sizeof(out->session_key));
    return 0;
}

/* Faults ------------------------------------------------------------------------------------------ */

emu_status_t emu_state_add_fault(emu_state_t *st, const emu_fault_t *fault)
{
    size_t len = strnlen(fault->path, sizeof(fault->path));
    if (len == 0 || len > EMU_PATH_MAX || fault->path[0] != '/' || fault->count == 0)
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

bool emu_state_take_fault(emu_state_t *st, emu_slice_t path, emu_fault_t *out)
{
    for (size_t i = 0; i < st->nfaults; ++i) {
        emu_fault_t *f = &st->faults[i];
        if (!slice_eq(path, f->path, strlen(f->path)))
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
