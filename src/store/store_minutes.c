/* store_minutes — see store_minutes.h. */
#include "store/store_minutes.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_sql.h"

#define ARGS STORE_ARGS

static const store_sql_t SQL_MINUTES_UPSERT = {
    .op = "minutes_set",
    .sqlite = "INSERT INTO oa_minutes (meeting_id, text, author_id, updated_at) VALUES (?, ?, ?, ?)"
              " ON CONFLICT (meeting_id) DO UPDATE SET text = excluded.text, author_id = excluded.author_id,"
              " updated_at = excluded.updated_at",
    .mysql = "INSERT INTO oa_minutes (meeting_id, text, author_id, updated_at) VALUES (?, ?, ?, ?)"
             " ON DUPLICATE KEY UPDATE text = VALUES(text), author_id = VALUES(author_id),"
             " updated_at = VALUES(updated_at)",
};

store_rc store_minutes_set(store_t *store, int64_t id, const char *text, int64_t author_id, int64_t now)
{
    return store_sql_exec(store, &SQL_MINUTES_UPSERT,
                          ARGS(store_arg_int(id), store_arg_text(text), store_arg_int(author_id), store_arg_int(now)),
                          4, NULL, NULL, NULL);
}

static const store_sql_t SQL_MINUTES_GET = {
    .op = "minutes_get",
    .sqlite = "SELECT n.text, n.author_id, n.updated_at, coalesce(m.name, '') FROM oa_minutes n"
              " LEFT JOIN oa_member m ON m.user_id = n.author_id WHERE n.meeting_id = ?",
};

static store_rc read_minutes(const store_row_t *row, void *ctx)
{
    store_minutes_t *m = ctx;
    size_t len = 0;
    const char *text = store_row_text(row, 0, &len);
    if ((m->text = malloc(len + 1)) == NULL)
        return STORE_ERROR;
    memcpy(m->text, text, len);
    m->text[len] = '\0';
    m->author_id = store_row_int(row, 1);
    m->updated_at = store_row_int(row, 2);
    return store_row_copy(row, 3, m->author_name, sizeof m->author_name) ? STORE_OK : STORE_ERROR;
}

store_rc store_minutes_get(store_t *store, int64_t id, store_minutes_t *out)
{
    memset(out, 0, sizeof *out);
    store_rc rc = store_sql_row(store, &SQL_MINUTES_GET, ARGS(store_arg_int(id)), 1, read_minutes, out);
    if (rc != STORE_OK) {
        free(out->text);
        out->text = NULL;
    }
    return rc;
}

#define ATTACHMENT_COLS "id, meeting_id, name, file_key, content_type, size, uploaded_by, created_at"

static store_rc read_attachment(const store_row_t *row, void *ctx)
{
    store_attachment_t *a = ctx;
    memset(a, 0, sizeof *a);
    a->id = store_row_int(row, 0);
    a->meeting_id = store_row_int(row, 1);
    if (!store_row_copy(row, 2, a->name, sizeof a->name) || !store_row_copy(row, 3, a->file_key, sizeof a->file_key) ||
        !store_row_copy(row, 4, a->content_type, sizeof a->content_type))
        return STORE_ERROR;
    a->size = store_row_int(row, 5);
    a->uploaded_by = store_row_int(row, 6);
    a->created_at = store_row_int(row, 7);
    return STORE_OK;
}

static const store_sql_t SQL_MEETING_LOCK_ID = {
    .op = "attachment_meeting_lock",
    .sqlite = "SELECT count(*) FROM oa_meeting WHERE id = ?",
    .mysql = "SELECT count(*) FROM oa_meeting WHERE id = ? FOR UPDATE",
};
static const store_sql_t SQL_ATTACHMENT_COUNT = {
    .op = "attachment_count",
    .sqlite = "SELECT count(*) FROM oa_attachment WHERE meeting_id = ?",
};
static const store_sql_t SQL_ATTACHMENT_INSERT = {
    .op = "attachment_insert",
    .sqlite = "INSERT INTO oa_attachment (meeting_id, name, file_key, content_type, size, uploaded_by, created_at)"
              " VALUES (?, ?, ?, ?, ?, ?, ?)",
};

typedef struct add_txn {
    store_attachment_t *a;
    int max;
    store_refusal_t *why;
} add_txn_t;

static store_rc add_fn(store_t *store, void *arg)
{
    add_txn_t *t = arg;
    store_attachment_t *a = t->a;
    int64_t n = 0;
    store_rc rc = store_sql_int(store, &SQL_MEETING_LOCK_ID, ARGS(store_arg_int(a->meeting_id)), 1, &n);
    if (rc == STORE_OK && n == 0)
        return STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = store_sql_int(store, &SQL_ATTACHMENT_COUNT, ARGS(store_arg_int(a->meeting_id)), 1, &n);
    if (rc != STORE_OK)
        return rc;
    if (n >= t->max) {
        *t->why = STORE_REFUSED_FULL;
        return STORE_SQL_REFUSED;
    }
    store_sql_result_t res = {0};
    rc = store_sql_exec(store, &SQL_ATTACHMENT_INSERT,
                        ARGS(store_arg_int(a->meeting_id), store_arg_text(a->name), store_arg_text(a->file_key),
                             store_arg_text(a->content_type), store_arg_int(a->size), store_arg_int(a->uploaded_by),
                             store_arg_int(a->created_at)),
                        7, NULL, NULL, &res);
    if (rc == STORE_OK)
        a->id = res.insert_id;
    return rc;
}

store_rc store_attachment_add(store_t *store, store_attachment_t *a, int max, store_refusal_t *why)
{
    add_txn_t t = {a, max, why};
    return store_sql_refusable(store, "attachment_add", add_fn, &t, why);
}

static const store_sql_t SQL_ATTACHMENT_GET = {
    .op = "attachment_get",
    .sqlite = "SELECT " ATTACHMENT_COLS " FROM oa_attachment WHERE id = ?",
};

store_rc store_attachment_get(store_t *store, int64_t id, store_attachment_t *out)
{
    return store_sql_row(store, &SQL_ATTACHMENT_GET, ARGS(store_arg_int(id)), 1, read_attachment, out);
}

static const store_sql_t SQL_ATTACHMENT_BY_KEY = {
    .op = "attachment_by_key",
    .sqlite = "SELECT " ATTACHMENT_COLS " FROM oa_attachment WHERE file_key = ?",
};

store_rc store_attachment_get_by_key(store_t *store, const char *file_key, store_attachment_t *out)
{
    return store_sql_row(store, &SQL_ATTACHMENT_BY_KEY, ARGS(store_arg_text(file_key)), 1, read_attachment, out);
}

static const store_sql_t SQL_ATTACHMENT_DELETE = {
    .op = "attachment_delete",
    .sqlite = "DELETE FROM oa_attachment WHERE id = ?",
};

store_rc store_attachment_delete(store_t *store, int64_t id)
{
    store_sql_result_t res = {0};
    store_rc rc = store_sql_exec(store, &SQL_ATTACHMENT_DELETE, ARGS(store_arg_int(id)), 1, NULL, NULL, &res);
    return rc == STORE_OK && res.changes == 0 ? STORE_NOT_FOUND : rc;
}

static const store_sql_t SQL_ATTACHMENTS = {
    .op = "attachment_list",
    .sqlite = "SELECT " ATTACHMENT_COLS " FROM oa_attachment WHERE meeting_id = ? ORDER BY id",
};

typedef struct walk {
    store_attachment_fn fn;
    void *ctx;
} walk_t;

static store_rc walk_attachment(const store_row_t *row, void *ctx)
{
    walk_t *w = ctx;
    store_attachment_t a;
    store_rc rc = read_attachment(row, &a);
    return rc != STORE_OK ? rc : w->fn(&a, w->ctx);
}

store_rc store_attachment_list(store_t *store, int64_t meeting_id, store_attachment_fn fn, void *ctx)
{
    walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_ATTACHMENTS, ARGS(store_arg_int(meeting_id)), 1, walk_attachment, &w, NULL);
}

static const store_sql_t SQL_ATTACHMENTS_BY_UPLOADER = {
    .op = "attachments_by_uploader",
    .sqlite = "SELECT " ATTACHMENT_COLS " FROM oa_attachment WHERE uploaded_by = ? ORDER BY id",
};

store_rc store_attachment_list_by_uploader(store_t *store, int64_t user_id, store_attachment_fn fn, void *ctx)
{
    walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_ATTACHMENTS_BY_UPLOADER, ARGS(store_arg_int(user_id)), 1, walk_attachment, &w,
                          NULL);
}
