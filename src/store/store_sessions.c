/* store_sessions — see store_sessions.h. */
#include "store/store_sessions.h"

#include <string.h>

#include "store/store_backend.h" /* store_error_set */
#include "store/store_sql.h"

#define ARGS STORE_ARGS

/* ---- sessions ---- */

static const store_sql_t SQL_SESSION_LIST = {
    .op = "session_list",
    .sqlite = "SELECT token_hash, created_at, last_used_at, expires_at, login_ip, last_ip FROM wx_session"
              " WHERE user_id = ? AND expires_at > ? AND renewed_at = 0 ORDER BY created_at DESC, token_hash",
};

typedef struct session_walk {
    store_session_row_fn fn;
    void *ctx;
} session_walk_t;

static store_rc walk_session(const store_row_t *row, void *ctx)
{
    session_walk_t *w = ctx;
    store_session_row_t s;
    memset(&s, 0, sizeof s);
    size_t len = 0;
    const char *hash = store_row_text(row, 0, &len);
    if (len != sizeof s.token_hash)
        return STORE_ERROR;
    memcpy(s.token_hash, hash, len);
    s.created_at = store_row_int(row, 1);
    s.last_used_at = store_row_int(row, 2);
    s.expires_at = store_row_int(row, 3);
    if (!store_row_copy(row, 4, s.login_ip, sizeof s.login_ip) || !store_row_copy(row, 5, s.last_ip, sizeof s.last_ip))
        return STORE_ERROR;
    return w->fn(&s, w->ctx);
}

store_rc store_session_list(store_t *store, int64_t user_id, int64_t now, store_session_row_fn fn, void *ctx)
{
    session_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_SESSION_LIST, ARGS(store_arg_int(user_id), store_arg_int(now)), 2, walk_session,
                          &w, NULL);
}

static const store_sql_t SQL_SESSION_TOUCH = {
    .op = "session_touch",
    .sqlite = "UPDATE wx_session SET last_used_at = ?, last_ip = ? WHERE token_hash = ? AND last_used_at <= ?",
};

store_rc store_session_touch(store_t *store, const uint8_t token_hash[32], int64_t now, const char *ip)
{
    return store_sql_exec(store, &SQL_SESSION_TOUCH,
                          ARGS(store_arg_int(now), store_arg_text(ip != NULL ? ip : ""), store_arg_blob(token_hash, 32),
                               store_arg_int(now - STORE_SESSION_TOUCH_SECONDS)),
                          4, NULL, NULL, NULL);
}

static const store_sql_t SQL_SESSION_COUNT_LIVE = {
    .op = "session_delete_user",
    .sqlite = "SELECT count(*) FROM wx_session WHERE user_id = ? AND expires_at > ? AND renewed_at = 0",
    .mysql = "SELECT count(*) FROM wx_session WHERE user_id = ? AND expires_at > ? AND renewed_at = 0 FOR UPDATE",
};
static const store_sql_t SQL_SESSION_DELETE_USER = {
    .op = "session_delete_user",
    .sqlite = "DELETE FROM wx_session WHERE user_id = ?",
};

typedef struct delete_user_txn {
    int64_t user_id, now;
    long *ended;
} delete_user_txn_t;

static store_rc delete_user_fn(store_t *store, void *arg)
{
    delete_user_txn_t *t = arg;
    int64_t n = 0;
    store_rc rc =
        store_sql_int(store, &SQL_SESSION_COUNT_LIVE, ARGS(store_arg_int(t->user_id), store_arg_int(t->now)), 2, &n);
    if (rc == STORE_OK)
        rc = store_sql_exec(store, &SQL_SESSION_DELETE_USER, ARGS(store_arg_int(t->user_id)), 1, NULL, NULL, NULL);
    *t->ended = rc == STORE_OK ? (long)n : 0;
    return rc;
}

store_rc store_session_delete_user(store_t *store, int64_t user_id, int64_t now, long *ended)
{
    long ignored;
    delete_user_txn_t t = {user_id, now, ended != NULL ? ended : &ignored};
    return store_sql_transaction(store, "session_delete_user", delete_user_fn, &t);
}

/* ---- renewal ---- */

static const store_sql_t SQL_SESSION_FOR_RENEWAL = {
    .op = "session_renew",
    .sqlite = "SELECT user_id, created_at, expires_at, renewed_at, session_key_sealed, login_ip FROM wx_session"
              " WHERE token_hash = ?",
    .mysql = "SELECT user_id, created_at, expires_at, renewed_at, session_key_sealed, login_ip FROM wx_session"
             " WHERE token_hash = ? FOR UPDATE",
};
static const store_sql_t SQL_SESSION_MARK_RENEWED = {
    .op = "session_renew",
    .sqlite = "UPDATE wx_session SET renewed_at = ?, expires_at = CASE WHEN expires_at > ? THEN ? ELSE expires_at END"
              " WHERE token_hash = ?",
};
static const store_sql_t SQL_SESSION_INSERT_RENEWED = {
    .op = "session_renew",
    .sqlite = "INSERT INTO wx_session (token_hash, user_id, created_at, expires_at, session_key_sealed, last_used_at,"
              " login_ip, last_ip, renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
};

typedef struct renew_row {
    store_session_t old;
    char login_ip[STORE_IP_SIZE];
} renew_row_t;

static store_rc read_renew_row(const store_row_t *row, void *ctx)
{
    renew_row_t *r = ctx;
    r->old.user_id = store_row_int(row, 0);
    r->old.created_at = store_row_int(row, 1);
    r->old.expires_at = store_row_int(row, 2);
    r->old.renewed_at = store_row_int(row, 3);
    size_t len = 0;
    const char *sealed = store_row_text(row, 4, &len);
    if (len > sizeof r->old.session_key_sealed)
        return STORE_ERROR;
    memcpy(r->old.session_key_sealed, sealed, len);
    r->old.session_key_sealed_len = len;
    return store_row_copy(row, 5, r->login_ip, sizeof r->login_ip) ? STORE_OK : STORE_ERROR;
}

typedef struct renew_txn {
    const uint8_t *old_hash;
    int64_t now;
    int grace;
    const char *ip;
    store_session_t *fresh;
    store_reseal_fn reseal;
    void *ctx;
    bool *renewed;
} renew_txn_t;

static store_rc renew_fn(store_t *store, void *arg)
{
    renew_txn_t *t = arg;
    *t->renewed = false; /* MySQL may run this again after a deadlock */
    renew_row_t r;
    memset(&r, 0, sizeof r);
    memcpy(r.old.token_hash, t->old_hash, 32);
    store_rc rc =
        store_sql_row(store, &SQL_SESSION_FOR_RENEWAL, ARGS(store_arg_blob(t->old_hash, 32)), 1, read_renew_row, &r);
    if (rc != STORE_OK || r.old.renewed_at != 0 || r.old.expires_at <= t->now)
        return rc;
    store_session_t *fresh = t->fresh;
    fresh->user_id = r.old.user_id;
    fresh->created_at = r.old.created_at;
    fresh->last_used_at = t->now;
    fresh->renewed_at = 0;
    if (!t->reseal(t->ctx, &r.old, fresh))
        return store_error_set(store, STORE_ERROR, "session_renew", "the session key could not be sealed again");
    int64_t until = t->now + t->grace;
    rc = store_sql_exec(
        store, &SQL_SESSION_MARK_RENEWED,
        ARGS(store_arg_int(t->now), store_arg_int(until), store_arg_int(until), store_arg_blob(t->old_hash, 32)), 4,
        NULL, NULL, NULL);
    if (rc == STORE_OK)
        rc = store_sql_exec(store, &SQL_SESSION_INSERT_RENEWED,
                            ARGS(store_arg_blob(fresh->token_hash, 32), store_arg_int(fresh->user_id),
                                 store_arg_int(fresh->created_at), store_arg_int(fresh->expires_at),
                                 store_arg_blob(fresh->session_key_sealed, fresh->session_key_sealed_len),
                                 store_arg_int(t->now), store_arg_text(r.login_ip), store_arg_text(t->ip)),
                            8, NULL, NULL, NULL);
    if (rc == STORE_OK)
        *t->renewed = true;
    return rc;
}

store_rc store_session_renew(store_t *store, const uint8_t old_hash[32], int64_t now, int grace, const char *ip,
                             store_session_t *fresh, store_reseal_fn reseal, void *ctx, bool *renewed)
{
    *renewed = false;
    renew_txn_t t = {old_hash, now, grace, ip != NULL ? ip : "", fresh, reseal, ctx, renewed};
    store_rc rc = store_sql_transaction(store, "session_renew", renew_fn, &t);
    if (rc != STORE_OK)
        *renewed = false;
    return rc;
}

static const store_sql_t SQL_SESSION_DELETE_ONE = {
    .op = "session_unrenew",
    .sqlite = "DELETE FROM wx_session WHERE token_hash = ?",
};
static const store_sql_t SQL_SESSION_UNMARK = {
    .op = "session_unrenew",
    .sqlite = "UPDATE wx_session SET renewed_at = 0, expires_at = ? WHERE token_hash = ?",
};

typedef struct unrenew_txn {
    const uint8_t *old_hash, *fresh_hash;
    int64_t old_expires_at;
} unrenew_txn_t;

static store_rc unrenew_fn(store_t *store, void *arg)
{
    unrenew_txn_t *t = arg;
    store_rc rc =
        store_sql_exec(store, &SQL_SESSION_DELETE_ONE, ARGS(store_arg_blob(t->fresh_hash, 32)), 1, NULL, NULL, NULL);
    if (rc == STORE_OK)
        rc = store_sql_exec(store, &SQL_SESSION_UNMARK,
                            ARGS(store_arg_int(t->old_expires_at), store_arg_blob(t->old_hash, 32)), 2, NULL, NULL,
                            NULL);
    return rc;
}

store_rc store_session_unrenew(store_t *store, const uint8_t old_hash[32], int64_t old_expires_at,
                               const uint8_t fresh_hash[32])
{
    unrenew_txn_t t = {old_hash, fresh_hash, old_expires_at};
    return store_sql_transaction(store, "session_unrenew", unrenew_fn, &t);
}

/* ---- the login log ---- */

static const store_sql_t SQL_LOGIN_LOG_ADD = {
    .op = "login_log_add",
    .sqlite = "INSERT INTO oa_login_log (user_id, event, errno, ip, created_at) VALUES (?, ?, ?, ?, ?)",
};

store_rc store_login_log_add(store_t *store, int64_t user_id, const char *event, int err, const char *ip, int64_t now)
{
    if (event == NULL || strlen(event) >= STORE_LOGIN_EVENT_SIZE)
        return store_error_set(store, STORE_ERROR, "login_log_add", "invalid argument");
    return store_sql_exec(store, &SQL_LOGIN_LOG_ADD,
                          ARGS(store_arg_int(user_id), store_arg_text(event), store_arg_int(err),
                               store_arg_text(ip != NULL ? ip : ""), store_arg_int(now)),
                          5, NULL, NULL, NULL);
}

static const store_sql_t SQL_LOGIN_LOG_COUNT = {
    .op = "login_log_list",
    .sqlite = "SELECT count(*) FROM oa_login_log WHERE user_id = ?",
};
static const store_sql_t SQL_LOGIN_LOG_PAGE = {
    .op = "login_log_list",
    .sqlite = "SELECT id, event, errno, ip, created_at FROM oa_login_log WHERE user_id = ? ORDER BY id DESC"
              " LIMIT ? OFFSET ?",
};

typedef struct log_walk {
    store_login_log_fn fn;
    void *ctx;
} log_walk_t;

static store_rc walk_log(const store_row_t *row, void *ctx)
{
    log_walk_t *w = ctx;
    store_login_log_row_t r;
    memset(&r, 0, sizeof r);
    r.id = store_row_int(row, 0);
    r.err = (int)store_row_int(row, 2);
    r.created_at = store_row_int(row, 4);
    if (!store_row_copy(row, 1, r.event, sizeof r.event) || !store_row_copy(row, 3, r.ip, sizeof r.ip))
        return STORE_ERROR;
    return w->fn(&r, w->ctx);
}

store_rc store_login_log_list(store_t *store, int64_t user_id, int64_t offset, int64_t limit, store_login_log_fn fn,
                              void *ctx, int64_t *total)
{
    store_rc rc = store_sql_int(store, &SQL_LOGIN_LOG_COUNT, ARGS(store_arg_int(user_id)), 1, total);
    if (rc != STORE_OK)
        return rc;
    log_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_LOGIN_LOG_PAGE,
                          ARGS(store_arg_int(user_id), store_arg_int(limit), store_arg_int(offset)), 3, walk_log, &w,
                          NULL);
}

static const store_sql_t SQL_LOGIN_LOG_PURGE = {
    .op = "login_log_purge",
    .sqlite = "DELETE FROM oa_login_log WHERE created_at < ?",
};

store_rc store_login_log_purge(store_t *store, int64_t before, long *deleted)
{
    store_sql_result_t res = {0};
    store_rc rc = store_sql_exec(store, &SQL_LOGIN_LOG_PURGE, ARGS(store_arg_int(before)), 1, NULL, NULL, &res);
    if (deleted != NULL)
        *deleted = rc == STORE_OK ? (long)res.changes : 0;
    return rc;
}
