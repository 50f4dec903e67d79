/*
 * auth/caller — see caller.h. The fast path (a cached, recently confirmed session of a token
 * in the session cache's memo) takes one SipHash tag of the token and three shard locks (memo,
 * session, user), no HMAC; a token the memo does not know yet costs one HMAC per data key tried.
 * The slow path reads wx_session joined with wx_user on a database worker and refreshes the
 * cache; checks of the same token meanwhile queue a caller_waiter_t on that read (its flight) and
 * get its outcome from the leader's loop (directly when on the same loop, else as a loop_msg).
 * The client's address is kept as bytes and only made text when the read records the last use. While previous data keys
 * are configured, a token that is not a current one costs one HMAC and one cache probe per key, and one database read
 * per key when the cache does not know it (once: then the memo has its key).
 *
 * Timing: the cache compares token hashes and tags in constant time (crypto_equal; tests/ct proves it).
 * The database finds the row by an index on the hash, whose search does leak, through timing,
 * how close a presented hash is to stored ones. That is harmless: the hash is an HMAC under a
 * key derived from the data key, so an attacker cannot compute the hash of a guessed token,
 * and learning how a hash they cannot choose compares tells them nothing about any token.
 *
 * Renewal (caller.h) is one more database job between the check and next(), once per session
 * near its expiry: the request waits for it, then next() runs with the old session as the caller.
 */
#include "auth/caller.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/session_key.h"
#include "common/log.h"
#include "common/text.h"
#include "http/reply.h"
#include "http/request.h"
#include "store/store_sessions.h"

/* What runs after the check. */
typedef struct auth_then {
    auth_next_fn next;         /* one of next and next_ctx */
    auth_next_ctx_fn next_ctx; /* called with ctx */
    const void *ctx;
    bool may_renew;
    auth_refuse_fn refuse; /* NULL = the envelope (http_reply_error) */
} auth_then_t;

typedef struct caller_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    auth_then_t then;
    store_rc rc;
    store_session_t session;
    int nkeys;
    int key_base;                                    /* the data key index of hashes[0] */
    uint8_t hashes[TOKEN_KEYS_MAX][TOKEN_HASH_SIZE]; /* the token under each data key (from key_base) */
    auth_caller_t caller;                            /* token_hash and key_index: the one found */
    ip_addr_t ip;                  /* the client's, for last_ip (text only when the use is recorded) */
    uint64_t removals;             /* session_cache_removals() before the read */
    session_cache_flight_t flight; /* this read, which other checks of the token may wait for */
} caller_job_t;

/* A check that waits for another's read of the same token (session_cache.h: single-flight), and
 * then is answered from it on its own loop. */
typedef struct caller_waiter {
    loop_msg_t msg; /* first */
    session_cache_waiter_t link;
    http_pending_t pending;
    app_t *app;
    auth_then_t then;
    api_errno_t code;     /* the read's outcome: API_OK, API_UNLOGIN or API_SERIOUS */
    auth_caller_t caller; /* API_OK: who */
} caller_waiter_t;

typedef struct renew_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    auth_then_t then;
    auth_caller_t caller; /* the old session */
    h2o_multithread_receiver_t *reply_to;
    char ip[IP_TEXT_SIZE];
    char token[TOKEN_TEXT_LEN + 1]; /* the new one */
    store_session_t fresh;
    int64_t now;
    store_rc rc;
    bool renewed;
} renew_job_t;

static h2o_iovec_t find_token(h2o_req_t *req, app_t *app)
{
    h2o_iovec_t v = http_header(req, app->token_header, app->token_header_len);
    if (v.base != NULL)
        return v;
    v = http_header(req, H2O_STRLIT("authorization"));
    static const char bearer[] = "Bearer ";
    if (v.base != NULL && v.len > sizeof(bearer) - 1 && strncasecmp(v.base, bearer, sizeof(bearer) - 1) == 0)
        return h2o_iovec_init(v.base + sizeof(bearer) - 1, v.len - (sizeof(bearer) - 1));
    return h2o_iovec_init(NULL, 0);
}

void auth_client_ip(h2o_req_t *req, const app_t *app, char out[IP_TEXT_SIZE])
{
    ip_addr_t client;
    http_client_addr(req, &app->config->trusted_proxies, &client);
    ip_addr_text(&client, out);
}

api_errno_t auth_user_refusal(const store_user_t *user)
{
    if (store_user_may_login(user)) /* the store's rule, which also decides who gets a session */
        return API_OK;
    return user->deleted || user->status == STORE_USER_CLOSED ? API_USER_CLOSED : API_USER_DISABLED;
}

/* Answers a refused check: through then->refuse when given, else in the envelope. */
static void refuse(h2o_req_t *req, const auth_then_t *then, api_errno_t code)
{
    if (then->refuse != NULL)
        then->refuse(req, code);
    else
        http_reply_error(req, code);
}

/* Answers for users who may not act; returns false when it answered. */
static bool user_may_act(h2o_req_t *req, const store_user_t *user, const auth_then_t *then)
{
    api_errno_t refusal = auth_user_refusal(user);
    if (refusal != API_OK)
        refuse(req, then, refusal);
    return refusal == API_OK;
}

static void run_next(h2o_req_t *req, app_t *app, const auth_caller_t *caller, const auth_then_t *then)
{
    if (then->next_ctx != NULL)
        then->next_ctx(req, app, caller, then->ctx);
    else
        then->next(req, app, caller);
}

/* ---- renewal ---- */

/* Seals the old session's session_key again for the new token (inside the renewal's transaction). */
static bool reseal(void *ctx, const store_session_t *old, store_session_t *fresh)
{
    renew_job_t *job = ctx;
    const config_t *config = job->app->config;
    const uint8_t *old_key = token_data_key(config, job->caller.key_index);
    char key[WX_SESSION_KEY_SIZE];
    bool ok = old_key != NULL && session_key_open(old_key, old, key) && session_key_seal(config->data_key, key, fresh);
    explicit_bzero(key, sizeof(key));
    return ok;
}

static void run_renew(db_job_t *db, store_t *store)
{
    renew_job_t *job = (renew_job_t *)db;
    const app_t *app = job->app;
    job->now = time(NULL);
    if (!token_new(job->token)) {
        job->rc = STORE_ERROR;
        log_error("cannot renew a session: the random source failed");
        return;
    }
    token_hash(app->token_keys[0], job->token, TOKEN_TEXT_LEN, job->fresh.token_hash); /* the current data key */
    job->fresh.expires_at = job->now + app->config->token_expire_seconds;
    job->rc = store_session_renew(store, job->caller.token_hash, job->now, STORE_SESSION_RENEW_GRACE_SECONDS, job->ip,
                                  &job->fresh, reseal, job, &job->renewed);
    if (job->rc == STORE_ERROR)
        log_warn("session not renewed: %s", store_last_error(store));
}

static void renew_job_free(renew_job_t *job)
{
    explicit_bzero(job->token, sizeof(job->token));
    explicit_bzero(&job->fresh, sizeof(job->fresh));
    free(job);
}

static void run_unrenew(db_job_t *db, store_t *store)
{
    renew_job_t *job = (renew_job_t *)db;
    if (store_session_unrenew(store, job->caller.token_hash, job->caller.expires_at, job->fresh.token_hash) != STORE_OK)
        log_warn("a renewal nobody received not undone (the old token ends after its grace): %s",
                 store_last_error(store));
}

static void on_unrenewed(loop_msg_t *msg)
{
    renew_job_free((renew_job_t *)msg);
}

static void add_renewal_headers(h2o_req_t *req, const renew_job_t *job)
{
    char expire[TEXT_ISO8601_SIZE];
    text_iso8601(job->fresh.expires_at, expire);
    h2o_iovec_t token = h2o_strdup(&req->pool, job->token, TOKEN_TEXT_LEN);
    h2o_iovec_t until = h2o_strdup(&req->pool, expire, strlen(expire));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-oa-token-renewed"), 0, NULL, token.base,
                          token.len);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-oa-token-expire"), 0, NULL, until.base,
                          until.len);
}

static void on_renewed(loop_msg_t *msg)
{
    renew_job_t *job = (renew_job_t *)msg;
    app_t *app = job->app;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (job->rc == STORE_OK && job->renewed) {
        if (req == NULL) { /* nobody to hand the new token to */
            db_pool_run(app->db, &job->db, run_unrenew, job->reply_to, on_unrenewed);
            return;
        }
        /* (the new session is not cached here: caching it would count as a fresh read of the user) */
        session_cache_mark_renewed(app->sessions, job->caller.token_hash, job->now + STORE_SESSION_RENEW_GRACE_SECONDS);
        add_renewal_headers(req, job);
        job->caller.renewed = true;
    } else if (job->rc == STORE_OK) { /* renewed by another request already, or just expired */
        session_cache_mark_renewed(app->sessions, job->caller.token_hash, job->caller.expires_at);
    } else if (job->rc == STORE_NOT_FOUND) { /* logged out meanwhile */
        session_cache_remove(app->sessions, job->caller.token_hash);
        if (req != NULL)
            refuse(req, &job->then, API_UNLOGIN);
        req = NULL;
    } /* STORE_ERROR: logged; the request goes on with the old token, which is still valid */
    if (req != NULL)
        run_next(req, app, &job->caller, &job->then);
    renew_job_free(job);
}

/* Starts the renewal of caller's session, after which then runs; false when it could not start. */
static bool start_renewal(h2o_req_t *req, app_t *app, const auth_caller_t *caller, const auth_then_t *then)
{
    renew_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL)
        return false;
    job->app = app;
    job->then = *then;
    job->caller = *caller;
    job->reply_to = http_receiver(req);
    auth_client_ip(req, app, job->ip);
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_renew, job->reply_to, on_renewed);
    return true;
}

/* The check passed: renews the token first when it is due, then runs then. */
static void proceed(h2o_req_t *req, app_t *app, const auth_caller_t *caller, const auth_then_t *then)
{
    int threshold = app->config->token_renew_threshold_seconds;
    if (then->may_renew && threshold > 0 && !caller->renewed && caller->expires_at - time(NULL) < threshold &&
        start_renewal(req, app, caller, then))
        return;
    run_next(req, app, caller, then);
}

/* ---- the check ---- */

static void run_lookup(db_job_t *db, store_t *store)
{
    caller_job_t *job = (caller_job_t *)db;
    job->rc = STORE_NOT_FOUND;
    for (int i = 0; i < job->nkeys && job->rc == STORE_NOT_FOUND; i++) {
        job->rc = store_session_get(store, job->hashes[i], &job->session, &job->caller.user);
        job->caller.key_index = job->key_base + i;
        memcpy(job->caller.token_hash, job->hashes[i], TOKEN_HASH_SIZE);
    }
    if (job->rc == STORE_ERROR)
        log_error("session lookup failed: %s", store_last_error(store));
    int64_t now = time(NULL);
    if (job->rc == STORE_OK && job->session.expires_at > now &&
        now - job->session.last_used_at >= STORE_SESSION_TOUCH_SECONDS) {
        char ip[IP_TEXT_SIZE];
        ip_addr_text(&job->ip, ip);
        if (store_session_touch(store, job->caller.token_hash, now, ip) != STORE_OK)
            log_warn("the last use of a session not recorded: %s", store_last_error(store));
    }
}

/* Answers req from a read's outcome (code) and, for API_OK, its caller. */
static void answer_read(h2o_req_t *req, app_t *app, const auth_then_t *then, api_errno_t code,
                        const auth_caller_t *caller)
{
    if (code != API_OK)
        refuse(req, then, code);
    else if (user_may_act(req, &caller->user, then))
        proceed(req, app, caller, then);
}

static void on_waited(loop_msg_t *msg)
{
    caller_waiter_t *w = (caller_waiter_t *)msg;
    h2o_req_t *req = http_pending_take(&w->pending);
    if (req != NULL)
        answer_read(req, w->app, &w->then, w->code, &w->caller);
    free(w);
}

/* Hands the read's outcome to the checks that waited for it, each on its own loop. */
static void answer_waiters(session_cache_waiter_t *link, api_errno_t code, const auth_caller_t *caller,
                           h2o_multithread_receiver_t *here)
{
    while (link != NULL) {
        caller_waiter_t *w = (caller_waiter_t *)((char *)link - offsetof(caller_waiter_t, link));
        link = link->next;
        w->code = code;
        if (code == API_OK)
            w->caller = *caller;
        if (w->msg.reply_to == here)
            on_waited(&w->msg);
        else
            loop_msg_reply(&w->msg);
    }
}

static void on_lookup(loop_msg_t *msg)
{
    caller_job_t *job = (caller_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    app_t *app = job->app;
    int64_t now = time(NULL);
    /* the cache first (a check that comes now finds the fresh entry), then nobody joins any more */
    api_errno_t code = job->rc == STORE_ERROR                                  ? API_SERIOUS
                       : job->rc != STORE_OK || job->session.expires_at <= now ? API_UNLOGIN
                                                                               : API_OK;
    if (code == API_OK) {
        session_cache_put_unless_removed(app->sessions, &job->session, &job->caller.user, now, job->removals);
        session_cache_remember(app->sessions, job->flight.tag, job->caller.token_hash, job->caller.key_index, now);
        job->caller.expires_at = job->session.expires_at;
        job->caller.renewed = job->session.renewed_at != 0;
    } else {
        for (int i = 0; i < job->nkeys; i++) /* whichever hash a stale entry is under */
            session_cache_remove(app->sessions, job->hashes[i]);
        if (job->rc != STORE_ERROR) /* no such session (any more) */
            session_cache_forget(app->sessions, job->flight.tag);
    }
    session_cache_waiter_t *waiters = session_cache_flight_end(app->sessions, &job->flight);
    if (req != NULL)
        answer_read(req, app, &job->then, code, &job->caller);
    answer_waiters(waiters, code, &job->caller, job->db.msg.reply_to);
    free(job);
}

/* The cache's answer for the token's hash under data key key_index; *caller filled on a HIT; *stale
 * set when a MISS found a stale entry. */
static session_cache_rc cache_get(app_t *app, const uint8_t hash[TOKEN_HASH_SIZE], int key_index, int64_t now,
                                  auth_caller_t *caller, bool *stale)
{
    session_cache_hit_t hit = {0}; /* filled on a HIT only */
    session_cache_rc rc =
        session_cache_probe(app->sessions, hash, now, app->config->token_cache_seconds, &caller->user, &hit, stale);
    if (rc != SESSION_CACHE_MISS) {
        memcpy(caller->token_hash, hash, TOKEN_HASH_SIZE);
        caller->key_index = key_index;
        caller->expires_at = hit.expires_at;
        caller->renewed = hit.renewed;
    }
    return rc;
}

/* What the cache knows of a token, and on a MISS what the database is to be asked. */
typedef struct cache_answer {
    session_cache_rc rc;
    bool stale;          /* MISS: an entry was there, confirmed too long ago */
    int nkeys, key_base; /* MISS: hashes[0..nkeys) are the token under data keys key_base.. */
    uint8_t tag[SESSION_CACHE_TAG_SIZE];
    uint8_t hashes[TOKEN_KEYS_MAX][TOKEN_HASH_SIZE];
} cache_answer_t;

/*
 * Looks the token up in the session cache. A token in the memo (session_cache.h) has its hash
 * and data key from there: one probe, and on a MISS one database read under that key (a token
 * has a session under one key only). Otherwise the token is hashed under each data key in turn
 * and looked up; a HIT remembers the hash. HIT: *caller is filled.
 */
static void cache_lookup(app_t *app, h2o_iovec_t token, int64_t now, auth_caller_t *caller, cache_answer_t *out)
{
    session_cache_tag(app->sessions, token.base, token.len, out->tag);
    out->stale = false;
    int key_index;
    if (session_cache_recall(app->sessions, out->tag, now, out->hashes[0], &key_index)) {
        out->rc = cache_get(app, out->hashes[0], key_index, now, caller, &out->stale);
        out->nkeys = 1;
        out->key_base = key_index;
        return;
    }
    out->nkeys = app->token_key_count;
    out->key_base = 0;
    for (int i = 0; i < app->token_key_count; i++) {
        token_hash(app->token_keys[i], token.base, token.len, out->hashes[i]);
        bool stale = false;
        out->rc = cache_get(app, out->hashes[i], i, now, caller, &stale);
        out->stale |= stale;
        if (out->rc == SESSION_CACHE_HIT)
            session_cache_remember(app->sessions, out->tag, out->hashes[i], i, now);
        if (out->rc != SESSION_CACHE_MISS)
            return;
    }
}

static int require(h2o_req_t *req, app_t *app, const auth_then_t *then)
{
    h2o_iovec_t token = find_token(req, app);
    if (!token_well_formed(token.base, token.len)) {
        refuse(req, then, API_UNLOGIN);
        return 0;
    }
    auth_caller_t caller;
    cache_answer_t answer;
    uint64_t removals = session_cache_removals(app->sessions); /* before the cache is asked */
    int64_t now = time(NULL);
    cache_lookup(app, token, now, &caller, &answer);
    switch (answer.rc) {
    case SESSION_CACHE_HIT:
        session_cache_note(SESSION_CACHE_COUNT_HIT);
        if (user_may_act(req, &caller.user, then))
            proceed(req, app, &caller, then);
        return 0;
    case SESSION_CACHE_EXPIRED:
        session_cache_note(SESSION_CACHE_COUNT_EXPIRED);
        refuse(req, then, API_UNLOGIN);
        return 0;
    case SESSION_CACHE_MISS:
        break;
    }

    /* one allocation for either role: the leader's job, or a waiter (the smaller) */
    caller_job_t *job = malloc(sizeof(*job));
    caller_waiter_t *w = malloc(sizeof(*w));
    if (job == NULL || w == NULL) {
        free(job);
        free(w);
        refuse(req, then, API_SERIOUS);
        return 0;
    }
    h2o_multithread_receiver_t *here = http_receiver(req);
    if (session_cache_flight_enter(app->sessions, answer.tag, now, app->config->token_cache_seconds, removals,
                                   &job->flight, &w->link)) {
        free(job);
        session_cache_note(SESSION_CACHE_COUNT_JOINED);
        w->app = app;
        w->then = *then;
        loop_msg_init(&w->msg, here, on_waited);
        http_pending_attach(&w->pending, req);
        return 0;
    }
    free(w);
    session_cache_note(answer.stale ? SESSION_CACHE_COUNT_REVALIDATE : SESSION_CACHE_COUNT_MISS);
    job->app = app;
    job->then = *then;
    job->removals = removals;
    job->nkeys = answer.nkeys;
    job->key_base = answer.key_base;
    memcpy(job->hashes, answer.hashes, (size_t)job->nkeys * TOKEN_HASH_SIZE);
    http_client_addr(req, &app->config->trusted_proxies, &job->ip);
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_lookup, here, on_lookup);
    return 0;
}

int auth_require(h2o_req_t *req, app_t *app, auth_next_fn next)
{
    auth_then_t then = {.next = next, .may_renew = true};
    return require(req, app, &then);
}

int auth_require_no_renew(h2o_req_t *req, app_t *app, auth_next_fn next)
{
    auth_then_t then = {.next = next, .may_renew = false};
    return require(req, app, &then);
}

int auth_require_ctx(h2o_req_t *req, app_t *app, auth_next_ctx_fn next, const void *ctx)
{
    auth_then_t then = {.next_ctx = next, .ctx = ctx, .may_renew = true};
    return require(req, app, &then);
}

int auth_require_refuse(h2o_req_t *req, app_t *app, auth_next_fn next, auth_refuse_fn refuse_fn)
{
    auth_then_t then = {.next = next, .may_renew = false, .refuse = refuse_fn};
    return require(req, app, &then);
}
