/*
 * store — URL dispatch and the thin public layer over the backends.
 *
 * store_open() picks the backend from the URL's scheme; every other public verb checks
 * its arguments once here (so backends can rely on them) and forwards through the
 * backend's vtable (store_backend.h). Nothing here knows SQL. No global mutable state:
 * the backend table is constant and each store_t carries its own error text.
 */
#include "store/store_backend.h"
#include "store/migrations.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *prefix; /* scheme with its colon; the rest of the URL goes to the backend */
    store_backend_open_fn open;
} backends[] = {
    {"sqlite:", store_sqlite_open},
    {"mysql:", store_mysql_open},
    {"mariadb:", store_mysql_open},
};

store_t *store_open(const char *url, char *err, size_t err_size)
{
    if (url == NULL) {
        snprintf(err, err_size, "store: no datasource url");
        return NULL;
    }
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        size_t n = strlen(backends[i].prefix);
        if (strncmp(url, backends[i].prefix, n) != 0)
            continue;
        if (url[n] == '\0') {
            snprintf(err, err_size, "store: datasource url '%s' names no database", backends[i].prefix);
            return NULL;
        }
        return backends[i].open(url + n, err, err_size);
    }
    snprintf(err, err_size,
             "store: unknown datasource url scheme (expected sqlite:PATH or mysql://user[:password]@host[:port]/db)");
    return NULL;
}

void store_close(store_t *store)
{
    if (store != NULL)
        store->ops->close(store);
}

const char *store_last_error(store_t *store)
{
    return store != NULL ? store->error : "store: no store";
}

const char *store_backend_name(store_t *store)
{
    return store->ops->name;
}

store_rc store_error_set(store_t *store, store_rc rc, const char *op, const char *fmt, ...)
{
    if (store->batch && (rc == STORE_ERROR || rc == STORE_CONFLICT))
        store->batch_failed = true;
    int n = snprintf(store->error, sizeof store->error, "%s: ", op);
    if (n < 0 || (size_t)n >= sizeof store->error)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(store->error + n, sizeof store->error - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

static store_rc bad_argument(store_t *store, const char *op)
{
    if (store == NULL)
        return STORE_ERROR;
    return store_error_set(store, STORE_ERROR, op, "invalid argument");
}

store_rc store_schema_version(store_t *store, int *version)
{
    if (store == NULL || version == NULL)
        return bad_argument(store, "schema_version");
    return store->ops->schema_version(store, version);
}

store_rc store_migrate(store_t *store, int *from, int *to)
{
    return store_migrate_to(store, store_schema_latest(), from, to);
}

store_rc store_migrate_to(store_t *store, int target, int *from, int *to)
{
    if (store == NULL || target < 0 || target > store_schema_latest())
        return bad_argument(store, "migrate");
    int ignored_from, ignored_to;
    return store->ops->migrate_to(store, target, from != NULL ? from : &ignored_from, to != NULL ? to : &ignored_to);
}

bool store_user_may_login(const store_user_t *user)
{
    return user->status == STORE_USER_ACTIVE && !user->deleted;
}

static bool login_args_ok(const store_login_t *in, store_user_t *out)
{
    return in != NULL && out != NULL && in->openid != NULL && in->openid[0] != '\0' &&
           (!in->has_profile || (in->nickname != NULL && in->avatar != NULL));
}

/* Runs the backend's login and makes its outputs follow store.h's outcome rules. */
static store_rc login_run(store_t *store, const store_login_t *in, const char *mobile, bool allow_shared,
                          store_session_t *session, store_user_t *out, bool *mobile_conflict)
{
    *mobile_conflict = false;
    if (session != NULL)
        session->user_id = 0;
    store_rc rc = store->ops->login(store, in, mobile, allow_shared, session, out, mobile_conflict);
    if (rc != STORE_CONFLICT)
        *mobile_conflict = false;
    if (rc != STORE_OK) {
        memset(out, 0, sizeof *out);
        if (session != NULL)
            session->user_id = 0;
    }
    return rc;
}

store_rc store_login_session(store_t *store, const store_login_t *in, const char *mobile, bool allow_shared,
                             store_session_t *session, store_user_t *out, bool *mobile_conflict)
{
    bool ignored;
    if (mobile_conflict == NULL)
        mobile_conflict = &ignored;
    *mobile_conflict = false;
    if (store == NULL || !login_args_ok(in, out) || mobile == NULL ||
        strnlen(mobile, STORE_MOBILE_SIZE) >= STORE_MOBILE_SIZE || session == NULL ||
        session->session_key_sealed_len > STORE_SEALED_MAX)
        return bad_argument(store, "login_session");
    return login_run(store, in, mobile, allow_shared, session, out, mobile_conflict);
}

store_rc store_user_login(store_t *store, const store_login_t *in, store_user_t *out)
{
    if (store == NULL || !login_args_ok(in, out))
        return bad_argument(store, "user_login");
    bool ignored;
    return login_run(store, in, "", false, NULL, out, &ignored);
}

store_rc store_user_get(store_t *store, int64_t id, store_user_t *out)
{
    if (store == NULL || out == NULL)
        return bad_argument(store, "user_get");
    return store->ops->user_get(store, id, out);
}

store_rc store_user_get_by_openid(store_t *store, const char *openid, store_user_t *out)
{
    if (store == NULL || openid == NULL || out == NULL)
        return bad_argument(store, "user_get_by_openid");
    return store->ops->user_get_by_openid(store, openid, out);
}

store_rc store_user_set_status(store_t *store, const char *openid, int status, int64_t now)
{
    if (store == NULL || openid == NULL || status < STORE_USER_ACTIVE || status > STORE_USER_CLOSED)
        return bad_argument(store, "user_set_status");
    return store->ops->user_set_status(store, openid, status, now);
}

store_rc store_user_update_profile(store_t *store, int64_t id, const char *nickname, const char *avatar, int gender,
                                   int64_t now)
{
    if (store == NULL || gender > 2)
        return bad_argument(store, "user_update_profile");
    return store->ops->user_update_profile(store, id, nickname, avatar, gender, now);
}

store_rc store_user_bind_mobile(store_t *store, int64_t id, const char *mobile, bool allow_shared, int64_t now)
{
    if (store == NULL || mobile == NULL)
        return bad_argument(store, "user_bind_mobile");
    return store->ops->user_bind_mobile(store, id, mobile, allow_shared, now);
}

store_rc store_session_insert(store_t *store, const store_session_t *session)
{
    if (store == NULL || session == NULL || session->session_key_sealed_len > STORE_SEALED_MAX)
        return bad_argument(store, "session_insert");
    return store->ops->session_insert(store, session);
}

store_rc store_session_get(store_t *store, const uint8_t token_hash[32], store_session_t *session, store_user_t *user)
{
    if (store == NULL || token_hash == NULL || session == NULL)
        return bad_argument(store, "session_get");
    return store->ops->session_get(store, token_hash, session, user);
}

store_rc store_session_delete(store_t *store, const uint8_t token_hash[32])
{
    if (store == NULL || token_hash == NULL)
        return bad_argument(store, "session_delete");
    return store->ops->session_delete(store, token_hash);
}

store_rc store_session_purge(store_t *store, int64_t now, long *deleted)
{
    if (store == NULL)
        return bad_argument(store, "session_purge");
    long ignored;
    return store->ops->session_purge(store, now, deleted != NULL ? deleted : &ignored);
}

/* ---- the statement layer (store_sql.h) ---- */

store_arg_t store_arg_text(const char *text)
{
    if (text == NULL)
        return store_arg_null();
    return (store_arg_t){.kind = STORE_ARG_TEXT, .p = text, .len = strlen(text)};
}

int64_t store_row_int(const store_row_t *row, int col)
{
    if (col < 0 || col >= row->ncols || row->cols[col].is_null)
        return 0;
    return row->cols[col].i;
}

bool store_row_null(const store_row_t *row, int col)
{
    return col < 0 || col >= row->ncols || row->cols[col].is_null;
}

const char *store_row_text(const store_row_t *row, int col, size_t *len)
{
    if (col < 0 || col >= row->ncols || row->cols[col].is_null || row->cols[col].text == NULL) {
        if (len != NULL)
            *len = 0;
        return "";
    }
    if (len != NULL)
        *len = row->cols[col].len;
    return row->cols[col].text;
}

bool store_row_copy(const store_row_t *row, int col, char *dst, size_t size)
{
    size_t len;
    const char *text = store_row_text(row, col, &len);
    if (len >= size) {
        if (size > 0)
            dst[0] = '\0';
        return false;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
    return true;
}

store_rc store_sql_exec(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs,
                        store_row_fn on_row, void *ctx, store_sql_result_t *result)
{
    if (store == NULL || sql == NULL || sql->sqlite == NULL || (nargs > 0 && args == NULL) ||
        nargs > STORE_SQL_MAX_ARGS)
        return bad_argument(store, sql != NULL && sql->op != NULL ? sql->op : "sql_exec");
    store_sql_result_t ignored;
    if (result == NULL)
        result = &ignored;
    result->changes = result->insert_id = 0;
    store->error[0] = '\0';
    store_rc rc = store->ops->sql_exec(store, sql, args, nargs, on_row, ctx, result);
    if (rc != STORE_OK && store->error[0] == '\0') /* on_row refused a row without saying why */
        store_error_set(store, rc, sql->op, "a row could not be read (a text column is longer than its field)");
    return rc;
}

struct sql_int_answer {
    bool found;
    int64_t value;
};

static store_rc sql_int_row(const store_row_t *row, void *ctx)
{
    struct sql_int_answer *answer = ctx;
    answer->found = true;
    answer->value = store_row_int(row, 0);
    return STORE_OK;
}

store_rc store_sql_int(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs, int64_t *value)
{
    struct sql_int_answer answer = {false, 0};
    store_rc rc = store_sql_exec(store, sql, args, nargs, sql_int_row, &answer, NULL);
    if (rc != STORE_OK)
        return rc;
    if (!answer.found)
        return STORE_NOT_FOUND;
    *value = answer.value;
    return STORE_OK;
}

struct sql_one {
    bool found;
    store_row_fn on_row;
    void *ctx;
};

static store_rc sql_one_row(const store_row_t *row, void *ctx)
{
    struct sql_one *one = ctx;
    one->found = true;
    return one->on_row(row, one->ctx);
}

store_rc store_sql_row(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs,
                       store_row_fn on_row, void *ctx)
{
    struct sql_one one = {false, on_row, ctx};
    store_rc rc = store_sql_exec(store, sql, args, nargs, sql_one_row, &one, NULL);
    if (rc == STORE_OK && !one.found)
        return STORE_NOT_FOUND;
    return rc;
}

store_rc store_sql_transaction(store_t *store, const char *op, store_txn_fn fn, void *arg)
{
    if (store == NULL || fn == NULL)
        return bad_argument(store, op != NULL ? op : "transaction");
    return store->ops->sql_transaction(store, op != NULL ? op : "transaction", fn, arg);
}

store_rc store_sql_refusable(store_t *store, const char *op, store_txn_fn fn, void *arg, store_refusal_t *why)
{
    *why = STORE_REFUSED_NOT;
    store_rc rc = store_sql_transaction(store, op, fn, arg);
    if (rc == STORE_SQL_REFUSED && *why != STORE_REFUSED_NOT)
        return STORE_OK;
    return rc;
}

/* ---- group commit ---- */

store_rc store_batch_begin(store_t *store)
{
    if (store == NULL)
        return STORE_ERROR;
    if (store->batch) { /* refused, but the open batch is not failed by it */
        bool failed = store->batch_failed;
        bad_argument(store, "batch_begin");
        store->batch_failed = failed;
        return STORE_ERROR;
    }
    store_rc rc = store->ops->batch_begin(store);
    if (rc == STORE_OK) {
        store->batch = true;
        store->batch_failed = false;
    }
    return rc;
}

bool store_batch_failed(const store_t *store)
{
    return store->batch_failed;
}

store_rc store_batch_end(store_t *store)
{
    if (store == NULL || !store->batch)
        return bad_argument(store, "batch_end");
    bool commit = !store->batch_failed;
    store->batch = false;
    store->batch_failed = false;
    store_rc rc = store->ops->batch_end(store, commit);
    if (rc == STORE_OK && !commit)
        rc = store_error_set(store, STORE_ERROR, "batch", "rolled back: a statement of the batch failed");
    return rc;
}

/* ---- upkeep ---- */

void store_defer_upkeep(store_t *store)
{
    if (store != NULL && store->ops->defer_upkeep != NULL)
        store->ops->defer_upkeep(store);
}

store_rc store_upkeep(store_t *store)
{
    if (store == NULL || store->batch)
        return bad_argument(store, "upkeep");
    return store->ops->upkeep != NULL ? store->ops->upkeep(store) : STORE_OK;
}
