/*
 * store_org — the organization's verbs (store_org.h) on the statement layer (store_sql.h):
 * one text per statement for both backends unless the dialects differ.
 */
#include "store/store_org.h"

#include <string.h>

#include "store/store_sql.h"

/* ---- members ---- */

#define MEMBER_COLS "user_id, status, role, name, department, reason, invite_id, requested_at, joined_at, updated_at"

static const store_sql_t SQL_MEMBER_GET = {
    .op = "member_get",
    .sqlite = "SELECT " MEMBER_COLS " FROM oa_member WHERE user_id = ?",
};

/* Reads a row of MEMBER_COLS. */
static store_rc read_member(const store_row_t *row, void *ctx)
{
    store_member_t *m = ctx;
    m->user_id = store_row_int(row, 0);
    m->status = (int)store_row_int(row, 1);
    m->role = (int)store_row_int(row, 2);
    if (!store_row_copy(row, 3, m->name, sizeof m->name) ||
        !store_row_copy(row, 4, m->department, sizeof m->department) ||
        !store_row_copy(row, 5, m->reason, sizeof m->reason))
        return STORE_ERROR;
    m->invite_id = store_row_int(row, 6);
    m->requested_at = store_row_int(row, 7);
    m->joined_at = store_row_int(row, 8);
    m->updated_at = store_row_int(row, 9);
    return STORE_OK;
}

store_rc store_member_get(store_t *store, int64_t user_id, store_member_t *out)
{
    memset(out, 0, sizeof *out);
    store_arg_t args[] = {store_arg_int(user_id)};
    store_rc rc = store_sql_exec(store, &SQL_MEMBER_GET, args, 1, read_member, out, NULL);
    if (rc == STORE_OK && out->user_id == 0)
        return STORE_NOT_FOUND;
    if (rc != STORE_OK)
        memset(out, 0, sizeof *out);
    return rc;
}
