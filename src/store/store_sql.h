/*
 * store_sql — the portable statement layer that the store's domain verbs are written on
 * (internal to src/store: handlers never see SQL, they call the verbs of store.h and of the
 * domain headers such as store_org.h).
 *
 * Why: the login verbs were written twice, once per backend, with each backend's own
 * binding code (store_sqlite.c, store_mysql.c). The organization and meeting verbs are many
 * more, so they are written once (store_org.c, store_meeting.c) over this layer, and each
 * backend implements only the layer: run one statement with bound values and hand each row
 * to a callback, and run a function inside one transaction. A statement's text is given per
 * dialect only where the dialects differ (an upsert, FOR UPDATE); most text is the same.
 *
 * Statements: a store_sql_t is constant data with static storage (a file-scope `static const`),
 * because backends cache the prepared statement per connection keyed by its address: it is
 * prepared on its first use on a connection and reused after. Placeholders are `?` only, in
 * the order of the args. Values are always bound, never pasted into SQL.
 *
 * Rows: on_row runs once per result row, in order, and may stop the walk by returning
 * anything but STORE_OK (that rc is returned). The row and its texts are valid only during the
 * call: copy what you keep. Columns are read as what they are in the schema: store_row_int for
 * integer columns (and aggregates like count(*)), store_row_text for text and blob columns.
 * Times are integer epoch seconds in every table written on this layer. An on_row that fails
 * may return STORE_ERROR without an error text: store_last_error() then says a row could not
 * be read (a text longer than its field, as store_row_copy reports).
 *
 * Transactions: store_sql_transaction() runs fn inside one transaction (SQLite: BEGIN
 * IMMEDIATE, so the write lock is taken first and what fn reads stays true until it commits;
 * MySQL/MariaDB: START TRANSACTION, REPEATABLE READ, with locking reads written FOR UPDATE in
 * the MySQL text). fn's STORE_OK commits, anything else rolls back. On MySQL a transaction
 * that InnoDB rolled back to break a deadlock is run again from the start, so fn must not
 * keep side effects outside the database between attempts (reset its outputs first).
 * Transactions do not nest: fn calls store_sql_exec, never store_sql_transaction.
 *
 * Errors: as every store verb (store.h): STORE_ERROR with store_last_error() naming sql->op
 * and the database's message; a unique or foreign key refusal is STORE_CONFLICT.
 */
#ifndef MEETOA_STORE_STORE_SQL_H
#define MEETOA_STORE_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct store_sql {
    const char *op;     /* names the statement in error texts, e.g. "meeting_get" */
    const char *sqlite; /* SQLite's text ('?' placeholders) */
    const char *mysql;  /* MySQL/MariaDB's text; NULL = the same as sqlite */
} store_sql_t;

typedef enum store_arg_kind { STORE_ARG_NULL, STORE_ARG_INT, STORE_ARG_TEXT, STORE_ARG_BLOB } store_arg_kind;

/* One bound value. Texts and blobs are borrowed for the call. */
typedef struct store_arg {
    store_arg_kind kind;
    int64_t i;
    const void *p;
    size_t len;
} store_arg_t;

static inline store_arg_t store_arg_int(int64_t v)
{
    return (store_arg_t){.kind = STORE_ARG_INT, .i = v};
}
/* A NUL-terminated text; NULL binds SQL NULL. */
store_arg_t store_arg_text(const char *text);
static inline store_arg_t store_arg_blob(const void *p, size_t len)
{
    return (store_arg_t){.kind = STORE_ARG_BLOB, .p = p, .len = len};
}
static inline store_arg_t store_arg_null(void)
{
    return (store_arg_t){.kind = STORE_ARG_NULL};
}

/* One column of the current row, as the backend hands it over. */
typedef struct store_value {
    bool is_null;
    int64_t i;        /* integer columns (0 for NULL) */
    const char *text; /* text and blob columns: NUL-terminated (blobs may hold NULs: use len); NULL otherwise */
    size_t len;
} store_value_t;

#define STORE_ROW_MAX_COLUMNS 64

typedef struct store_row {
    int ncols;
    const store_value_t *cols;
} store_row_t;

/* Column col of row (0-based): its integer (0 when NULL; a text column's number if it is one). */
int64_t store_row_int(const store_row_t *row, int col);
bool store_row_null(const store_row_t *row, int col);
/* Its text, never NULL ("" for NULL); *len (may be NULL) gets the length in bytes. */
const char *store_row_text(const store_row_t *row, int col, size_t *len);
/* Copies its text into dst (size bytes, NUL-terminated); false (dst = "") when it does not fit. */
bool store_row_copy(const store_row_t *row, int col, char *dst, size_t size);

typedef store_rc (*store_row_fn)(const store_row_t *row, void *ctx);

/* What a statement changed. */
typedef struct store_sql_result {
    int64_t changes;   /* rows inserted, updated or deleted */
    int64_t insert_id; /* the AUTO_INCREMENT / rowid of the last insert */
} store_sql_result_t;

/*
 * Runs sql with args[0..nargs) bound in order; on_row (may be NULL) gets each row; result
 * (may be NULL) what the statement changed. At most 32 args.
 */
store_rc store_sql_exec(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs,
                        store_row_fn on_row, void *ctx, store_sql_result_t *result);
/* store_sql_exec of a statement whose answer is one integer (count(*), a max, an id):
 * STORE_NOT_FOUND (no error text) when it returns no row. NULL reads as 0. */
store_rc store_sql_int(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs, int64_t *value);

/* store_sql_exec of a statement that answers at most one row (a get by key): STORE_NOT_FOUND
 * (no error text) when it answers none. */
store_rc store_sql_row(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs,
                       store_row_fn on_row, void *ctx);

typedef store_rc (*store_txn_fn)(store_t *store, void *arg);
/* Runs fn(store, arg) in one transaction (see the top comment); op names it in errors. */
store_rc store_sql_transaction(store_t *store, const char *op, store_txn_fn fn, void *arg);

#define STORE_SQL_MAX_ARGS 32

/* A literal array of args and its length, for store_sql_exec(store, &SQL, STORE_ARGS(a, b), ...). */
#define STORE_ARGS(...)  ((const store_arg_t[]){__VA_ARGS__})
#define STORE_NARGS(...) (sizeof((const store_arg_t[]){__VA_ARGS__}) / sizeof(store_arg_t))

/* The rc a transaction function returns to refuse: everything rolls back, and
 * store_sql_refusable() answers STORE_OK with the refusal fn put in *why. */
#define STORE_SQL_REFUSED STORE_CONFLICT
/* store_sql_transaction for verbs that may refuse (store_refusal_t): sets *why to
 * STORE_REFUSED_NOT, then runs fn, which sets *why and returns STORE_SQL_REFUSED to refuse. */
store_rc store_sql_refusable(store_t *store, const char *op, store_txn_fn fn, void *arg, store_refusal_t *why);

#endif
