/* store_content — see store_content.h. */
#include "store/store_content.h"

#include <stdio.h>
#include <string.h>

#include "common/text.h"
#include "store/store_sql.h"

#define ARGS STORE_ARGS

static const store_sql_t SQL_FLAG_ADD = {
    .op = "content_flag_add",
    .sqlite = "INSERT INTO oa_content_flag (user_id, route, object_id, field, excerpt, verdict, label, errcode,"
              " trace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
};

/* The first 40 code points of s into out (never splitting a character). */
static void excerpt_of(const char *s, char *out, size_t size)
{
    size_t n = text_utf8_prefix(s, 40);
    if (n >= size) /* more bytes than out holds: fewer whole characters */
        n = text_utf8_prefix(s, (size - 1) / 4);
    memcpy(out, s, n);
    out[n] = '\0';
}

store_rc store_content_flag_add(store_t *store, const store_content_flag_t *f, int64_t now)
{
    char excerpt[STORE_FLAG_EXCERPT_SIZE];
    excerpt_of(f->excerpt, excerpt, sizeof excerpt);
    return store_sql_exec(store, &SQL_FLAG_ADD,
                          ARGS(store_arg_int(f->user_id), store_arg_text(f->route), store_arg_int(f->object_id),
                               store_arg_text(f->field), store_arg_text(excerpt), store_arg_text(f->verdict),
                               store_arg_int(f->label), store_arg_int(f->errcode), store_arg_text(f->trace_id),
                               store_arg_int(now)),
                          10, NULL, NULL, NULL);
}

#define FLAG_COLS                                                                                                      \
    "f.id, f.user_id, f.object_id, f.route, f.field, f.excerpt, f.verdict, f.label, f.errcode, f.trace_id,"            \
    " f.created_at, f.resolved_at, coalesce(m.name, u.nickname, '')"
#define FLAG_FROM                                                                                                      \
    " FROM oa_content_flag f LEFT JOIN oa_member m ON m.user_id = f.user_id LEFT JOIN wx_user u ON u.id = f.user_id"

static const store_sql_t SQL_FLAGS_OPEN = {
    .op = "content_flags",
    .sqlite = "SELECT " FLAG_COLS FLAG_FROM " WHERE f.resolved_at = 0 ORDER BY f.id DESC LIMIT ? OFFSET ?",
};
static const store_sql_t SQL_FLAGS_ALL = {
    .op = "content_flags",
    .sqlite = "SELECT " FLAG_COLS FLAG_FROM " ORDER BY f.id DESC LIMIT ? OFFSET ?",
};
static const store_sql_t SQL_FLAGS_COUNT_OPEN = {
    .op = "content_flags_count",
    .sqlite = "SELECT count(*) FROM oa_content_flag WHERE resolved_at = 0",
};
static const store_sql_t SQL_FLAGS_COUNT_ALL = {
    .op = "content_flags_count",
    .sqlite = "SELECT count(*) FROM oa_content_flag",
};

typedef struct flags_walk {
    store_content_flag_fn fn;
    void *ctx;
} flags_walk_t;

static store_rc read_flag(const store_row_t *row, void *ctx)
{
    flags_walk_t *w = ctx;
    store_content_flag_t f;
    memset(&f, 0, sizeof f);
    f.id = store_row_int(row, 0);
    f.user_id = store_row_int(row, 1);
    f.object_id = store_row_int(row, 2);
    if (!store_row_copy(row, 3, f.route, sizeof f.route) || !store_row_copy(row, 4, f.field, sizeof f.field) ||
        !store_row_copy(row, 5, f.excerpt, sizeof f.excerpt) || !store_row_copy(row, 6, f.verdict, sizeof f.verdict) ||
        !store_row_copy(row, 9, f.trace_id, sizeof f.trace_id) ||
        !store_row_copy(row, 12, f.user_name, sizeof f.user_name))
        return STORE_ERROR;
    f.label = (long)store_row_int(row, 7);
    f.errcode = (long)store_row_int(row, 8);
    f.created_at = store_row_int(row, 10);
    f.resolved_at = store_row_int(row, 11);
    return w->fn(&f, w->ctx);
}

store_rc store_content_flags(store_t *store, bool open_only, int64_t offset, int64_t limit, store_content_flag_fn fn,
                             void *ctx, int64_t *total)
{
    *total = 0;
    store_rc rc = store_sql_int(store, open_only ? &SQL_FLAGS_COUNT_OPEN : &SQL_FLAGS_COUNT_ALL, NULL, 0, total);
    if (rc != STORE_OK)
        return rc;
    flags_walk_t w = {fn, ctx};
    return store_sql_exec(store, open_only ? &SQL_FLAGS_OPEN : &SQL_FLAGS_ALL,
                          ARGS(store_arg_int(limit), store_arg_int(offset)), 2, read_flag, &w, NULL);
}

static const store_sql_t SQL_FLAG_RESOLVE = {
    .op = "content_flag_resolve",
    .sqlite = "UPDATE oa_content_flag SET resolved_by = ?, resolved_at = ? WHERE id = ? AND resolved_at = 0",
};

store_rc store_content_flag_resolve(store_t *store, int64_t id, int64_t user_id, int64_t now)
{
    store_sql_result_t r = {0};
    store_rc rc =
        store_sql_exec(store, &SQL_FLAG_RESOLVE, ARGS(store_arg_int(user_id), store_arg_int(now), store_arg_int(id)), 3,
                       NULL, NULL, &r);
    if (rc == STORE_OK && r.changes != 1)
        rc = STORE_NOT_FOUND;
    return rc;
}

/* ---- media checks ---- */

static const store_sql_t SQL_MEDIA_ADD = {
    .op = "media_check_add",
    .sqlite = "INSERT INTO oa_media_check (trace_id, user_id, file_key, created_at) VALUES (?, ?, ?, ?)",
};

store_rc store_media_check_add(store_t *store, const char *trace_id, int64_t user_id, const char *file_key, int64_t now)
{
    return store_sql_exec(
        store, &SQL_MEDIA_ADD,
        ARGS(store_arg_text(trace_id), store_arg_int(user_id), store_arg_text(file_key), store_arg_int(now)), 4, NULL,
        NULL, NULL);
}

static const store_sql_t SQL_MEDIA_DONE = {
    .op = "media_check_done",
    .sqlite = "UPDATE oa_media_check SET verdict = ?, done_at = ? WHERE trace_id = ? AND verdict = ''",
};
static const store_sql_t SQL_MEDIA_GET = {
    .op = "media_check_get",
    .sqlite = "SELECT user_id, file_key FROM oa_media_check WHERE trace_id = ?",
};

typedef struct media_txn {
    const char *trace_id, *verdict;
    int64_t now;
    int64_t *user_id;
    char *file_key;
} media_txn_t;

static store_rc read_media(const store_row_t *row, void *ctx)
{
    media_txn_t *x = ctx;
    *x->user_id = store_row_int(row, 0);
    return store_row_copy(row, 1, x->file_key, STORE_FLAG_KEY_SIZE) ? STORE_OK : STORE_ERROR;
}

static store_rc media_done_fn(store_t *store, void *arg)
{
    media_txn_t *x = arg;
    store_sql_result_t r = {0};
    store_rc rc = store_sql_exec(store, &SQL_MEDIA_DONE,
                                 ARGS(store_arg_text(x->verdict), store_arg_int(x->now), store_arg_text(x->trace_id)),
                                 3, NULL, NULL, &r);
    if (rc == STORE_OK && r.changes != 1)
        return STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = store_sql_row(store, &SQL_MEDIA_GET, ARGS(store_arg_text(x->trace_id)), 1, read_media, x);
    return rc;
}

store_rc store_media_check_done(store_t *store, const char *trace_id, const char *verdict, int64_t now,
                                int64_t *user_id, char file_key[STORE_FLAG_KEY_SIZE])
{
    *user_id = 0;
    file_key[0] = '\0';
    media_txn_t x = {trace_id, verdict, now, user_id, file_key};
    return store_sql_transaction(store, "media_check_done", media_done_fn, &x);
}
