/*
 * store_backend — the internal interface a database backend implements (not for callers).
 *
 * store.c parses the URL, calls the backend's open function and from then on forwards
 * every public store_* verb through the backend's vtable. A backend allocates a struct
 * that starts with `struct store` (so a store_t * is also a pointer to the backend's
 * own struct), fills in `ops`, and frees it in ops->close. Adding MariaDB/MySQL is
 * adding store_mysql.c with a store_mysql_open() and one line in store.c's URL table:
 * no caller changes.
 *
 * Contract for every op: the store is used by one thread at a time (see store.h); on
 * failure the op sets the error text with store_error_set() (operation name + database
 * message, never a parameter value) and returns STORE_ERROR, STORE_CONFLICT or
 * STORE_NOT_FOUND with the meaning given in store.h. Arguments are already checked for
 * NULL pointers by store.c where the contract says they must not be NULL.
 */
#ifndef MEETOA_STORE_STORE_BACKEND_H
#define MEETOA_STORE_STORE_BACKEND_H

#include "store/store.h"
#include "store/store_sql.h"

#define STORE_ERROR_SIZE 256

typedef struct store_backend_ops {
    const char *name; /* "sqlite", "mysql" */
    void (*close)(store_t *store);
    store_rc (*schema_version)(store_t *store, int *version);
    /* Applies the migrations numbered (version, target], each in its own transaction. */
    store_rc (*migrate_to)(store_t *store, int target, int *from, int *to);
    /* store_login_session(); session NULL: step 1 only (store_user_login), mobile is then "".
     * store.c sets session->user_id = 0 and *mobile_conflict = false before the call and
     * enforces the outcome rules of store.h after it; the backend sets *mobile_conflict
     * only when the mobile check refused the binding. */
    store_rc (*login)(store_t *store, const store_login_t *in, const char *mobile, bool allow_shared,
                      store_session_t *session, store_user_t *out, bool *mobile_conflict);
    store_rc (*user_get)(store_t *store, int64_t id, store_user_t *out);
    store_rc (*user_get_by_openid)(store_t *store, const char *openid, store_user_t *out);
    store_rc (*user_set_status)(store_t *store, const char *openid, int status, int64_t now);
    store_rc (*user_update_profile)(store_t *store, int64_t id, const char *nickname, const char *avatar, int gender,
                                    int64_t now);
    store_rc (*user_bind_mobile)(store_t *store, int64_t id, const char *mobile, bool allow_shared, int64_t now);
    store_rc (*session_insert)(store_t *store, const store_session_t *session);
    store_rc (*session_get)(store_t *store, const uint8_t token_hash[32], store_session_t *session, store_user_t *user);
    store_rc (*session_delete)(store_t *store, const uint8_t token_hash[32]);
    store_rc (*session_purge)(store_t *store, int64_t now, long *deleted);
    /* The statement layer of store_sql.h (store.c has checked the arguments). */
    store_rc (*sql_exec)(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs,
                         store_row_fn on_row, void *ctx, store_sql_result_t *result);
    store_rc (*sql_transaction)(store_t *store, const char *op, store_txn_fn fn, void *arg);
    /* Group commit (store_batch_begin/_end of store.h): opens the batch's transaction; ends it,
     * committing when commit is true (STORE_OK only when the commit succeeded), else rolling it
     * back. Between the two, store->batch is true and the backend's own verbs neither begin nor
     * commit nor roll back: a verb whose transaction would have been rolled back (any rc but
     * STORE_OK at its end) sets store->batch_failed instead, and so does store_error_set() for
     * STORE_ERROR and STORE_CONFLICT; a connection found broken is not reopened in a batch. */
    store_rc (*batch_begin)(store_t *store);
    store_rc (*batch_end)(store_t *store, bool commit);
    /* store_defer_upkeep() and store_upkeep() of store.h; NULL when the backend has no such work. */
    void (*defer_upkeep)(store_t *store);
    store_rc (*upkeep)(store_t *store);
} store_backend_ops_t;

/* The common head of every backend's connection struct. */
struct store {
    const store_backend_ops_t *ops;
    char error[STORE_ERROR_SIZE]; /* store_last_error() */
    bool batch;                   /* inside store_batch_begin() .. store_batch_end() */
    bool batch_failed;            /* something in the batch failed: it is rolled back, not committed */
};

/*
 * Opens a backend. `location` is the URL without its scheme ("data/meetoa.db",
 * ":memory:"). Returns NULL and writes one line to err on failure.
 */
typedef store_t *(*store_backend_open_fn)(const char *location, char *err, size_t err_size);

store_t *store_sqlite_open(const char *location, char *err, size_t err_size);
store_t *store_mysql_open(const char *location, char *err, size_t err_size);

/* Sets the store's error text to "op: <formatted message>" and returns rc. */
store_rc store_error_set(store_t *store, store_rc rc, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
