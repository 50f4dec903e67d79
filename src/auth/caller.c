/*
 * auth/caller — see caller.h. The fast path (a cached, recently confirmed session) takes
 * one HMAC and two shard locks; the slow path reads wx_session joined with wx_user on a
 * database worker and refreshes the cache. While previous data keys are configured, a token
 * that is not a current one costs one HMAC and one cache probe per key, and one database read
 * per key when the cache does not know it.
 *
 * Timing: the cache compares token hashes in constant time (crypto_equal; tests/ct proves it).
 * The database finds the row by an index on the hash, whose search does leak, through timing,
 * how close a presented hash is to stored ones. That is harmless: the hash is an HMAC under a
 * key derived from the data key, so an attacker cannot compute the hash of a guessed token,
 * and learning how a hash they cannot choose compares tells them nothing about any token.
 */
#include "auth/caller.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "http/reply.h"
#include "http/request.h"

typedef struct caller_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    auth_next_fn next;         /* one of next and next_ctx */
    auth_next_ctx_fn next_ctx; /* called with ctx */
    const void *ctx;
    store_rc rc;
    store_session_t session;
    int nkeys;
    uint8_t hashes[TOKEN_KEYS_MAX][TOKEN_HASH_SIZE]; /* the token under each data key */
    auth_caller_t caller;                            /* token_hash and key_index: the one found */
} caller_job_t;

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

api_errno_t auth_user_refusal(const store_user_t *user)
{
    if (store_user_may_login(user)) /* the store's rule, which also decides who gets a session */
        return API_OK;
    return user->deleted || user->status == STORE_USER_CLOSED ? API_USER_CLOSED : API_USER_DISABLED;
}

/* Answers for users who may not act; returns false when it answered. */
static bool user_may_act(h2o_req_t *req, const store_user_t *user)
{
    api_errno_t refusal = auth_user_refusal(user);
    if (refusal != API_OK)
        http_reply_error(req, refusal);
    return refusal == API_OK;
}

static void run_lookup(db_job_t *db, store_t *store)
{
    caller_job_t *job = (caller_job_t *)db;
    job->rc = STORE_NOT_FOUND;
    for (int i = 0; i < job->nkeys && job->rc == STORE_NOT_FOUND; i++) {
        job->rc = store_session_get(store, job->hashes[i], &job->session, &job->caller.user);
        job->caller.key_index = i;
        memcpy(job->caller.token_hash, job->hashes[i], TOKEN_HASH_SIZE);
    }
    if (job->rc == STORE_ERROR)
        log_error("session lookup failed: %s", store_last_error(store));
}

static void on_lookup(loop_msg_t *msg)
{
    caller_job_t *job = (caller_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    app_t *app = job->app;
    int64_t now = time(NULL);

    if (job->rc == STORE_OK && job->session.expires_at > now)
        session_cache_put(app->sessions, &job->session, &job->caller.user, now);
    else
        for (int i = 0; i < job->nkeys; i++) /* whichever hash a stale entry is under */
            session_cache_remove(app->sessions, job->hashes[i]);

    if (req != NULL) {
        if (job->rc == STORE_ERROR)
            http_reply_error(req, API_SERIOUS);
        else if (job->rc != STORE_OK || job->session.expires_at <= now)
            http_reply_error(req, API_UNLOGIN);
        else if (user_may_act(req, &job->caller.user)) {
            job->caller.expires_at = job->session.expires_at;
            if (job->next_ctx != NULL)
                job->next_ctx(req, app, &job->caller, job->ctx);
            else
                job->next(req, app, &job->caller);
        }
    }
    free(job);
}

/*
 * Looks the token up in the session cache under each data key. HIT: *caller is filled;
 * MISS: hashes[0..nkeys) hold the token's hash under every key, for the database.
 */
static session_cache_rc cache_lookup(app_t *app, h2o_iovec_t token, int64_t now, auth_caller_t *caller,
                                     uint8_t hashes[TOKEN_KEYS_MAX][TOKEN_HASH_SIZE])
{
    for (int i = 0; i < app->token_key_count; i++) {
        token_hash(app->token_keys[i], token.base, token.len, hashes[i]);
        session_cache_rc rc = session_cache_get(app->sessions, hashes[i], now, app->config->token_cache_seconds,
                                                &caller->user, &caller->expires_at);
        if (rc == SESSION_CACHE_MISS)
            continue;
        memcpy(caller->token_hash, hashes[i], TOKEN_HASH_SIZE);
        caller->key_index = i;
        return rc;
    }
    return SESSION_CACHE_MISS;
}

static int require(h2o_req_t *req, app_t *app, auth_next_fn next, auth_next_ctx_fn next_ctx, const void *ctx)
{
    h2o_iovec_t token = find_token(req, app);
    if (!token_well_formed(token.base, token.len)) {
        http_reply_error(req, API_UNLOGIN);
        return 0;
    }
    auth_caller_t caller;
    uint8_t hashes[TOKEN_KEYS_MAX][TOKEN_HASH_SIZE];
    switch (cache_lookup(app, token, time(NULL), &caller, hashes)) {
    case SESSION_CACHE_HIT:
        if (!user_may_act(req, &caller.user))
            return 0;
        if (next_ctx != NULL)
            next_ctx(req, app, &caller, ctx);
        else
            next(req, app, &caller);
        return 0;
    case SESSION_CACHE_EXPIRED:
        http_reply_error(req, API_UNLOGIN);
        return 0;
    case SESSION_CACHE_MISS:
        break;
    }

    caller_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        http_reply_error(req, API_SERIOUS);
        return 0;
    }
    job->app = app;
    job->next = next;
    job->next_ctx = next_ctx;
    job->ctx = ctx;
    job->nkeys = app->token_key_count;
    memcpy(job->hashes, hashes, (size_t)job->nkeys * TOKEN_HASH_SIZE);
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_lookup, http_receiver(req), on_lookup);
    return 0;
}

int auth_require(h2o_req_t *req, app_t *app, auth_next_fn next)
{
    return require(req, app, next, NULL, NULL);
}

int auth_require_ctx(h2o_req_t *req, app_t *app, auth_next_ctx_fn next, const void *ctx)
{
    return require(req, app, NULL, next, ctx);
}
