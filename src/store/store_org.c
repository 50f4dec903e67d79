/*
 * store_org — the organization's verbs (store_org.h) on the statement layer (store_sql.h):
 * one text per statement for both backends unless the dialects differ.
 */
#include "store/store_org.h"

#include <stdio.h>
#include <string.h>

#include "store/store_sql.h"

/* ---- members ---- */

#define MEMBER_COLS                                                                                                    \
    "user_id, status, role, name, department, reason, invite_id, requested_at, joined_at, updated_at, list_gen"

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
    m->list_gen = store_row_int(row, 10);
    m->updated_at = store_row_int(row, 9);
    return STORE_OK;
}

store_rc store_member_get(store_t *store, int64_t user_id, store_member_t *out)
{
    memset(out, 0, sizeof *out);
    store_rc rc = store_sql_row(store, &SQL_MEMBER_GET, STORE_ARGS(store_arg_int(user_id)), 1, read_member, out);
    if (rc != STORE_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- the helpers of this file ---- */

#define ARGS(...)            ((const store_arg_t[]){__VA_ARGS__})
#define NARGS(...)           (sizeof((const store_arg_t[]){__VA_ARGS__}) / sizeof(store_arg_t))
#define EXEC(sql, ...)       store_sql_exec(store, (sql), ARGS(__VA_ARGS__), NARGS(__VA_ARGS__), NULL, NULL, NULL)
#define COUNT(sql, out, ...) store_sql_int(store, (sql), ARGS(__VA_ARGS__), NARGS(__VA_ARGS__), (out))

/* LIKE's pattern "%keyword%" with '!' escaping the wildcards; false when it does not fit. */
static bool like_pattern(const char *keyword, char *out, size_t size)
{
    size_t n = 0;
    if (size < 3)
        return false;
    out[n++] = '%';
    for (const char *p = keyword; *p; p++) {
        if (n + 3 >= size)
            return false;
        if (*p == '%' || *p == '_' || *p == '!')
            out[n++] = '!';
        out[n++] = *p;
    }
    out[n++] = '%';
    out[n] = '\0';
    return true;
}

/* ---- members: join, decide, role, remove, grant ---- */

static const store_sql_t SQL_MEMBER_LOCK = {
    .op = "member_lock",
    .sqlite = "SELECT " MEMBER_COLS " FROM oa_member WHERE user_id = ?",
    .mysql = "SELECT " MEMBER_COLS " FROM oa_member WHERE user_id = ? FOR UPDATE",
};
static const store_sql_t SQL_INVITE_TAKE = {
    .op = "invite_take",
    .sqlite = "UPDATE oa_invite SET used = used + 1"
              " WHERE code = ? AND revoked = 0 AND expires_at > ? AND used < max_uses",
};
static const store_sql_t SQL_INVITE_ID = {
    .op = "invite_id",
    .sqlite = "SELECT id FROM oa_invite WHERE code = ?",
};
static const store_sql_t SQL_MEMBER_INSERT = {
    .op = "member_insert",
    .sqlite = "INSERT INTO oa_member (user_id, status, role, name, department, reason, invite_id, requested_at,"
              " joined_at, updated_at) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?)",
};
static const store_sql_t SQL_MEMBER_REWRITE = {
    .op = "member_rewrite",
    .sqlite = "UPDATE oa_member SET status = ?, role = ?, name = ?, department = ?, reason = '', invite_id = ?,"
              " requested_at = ?, joined_at = ?, updated_at = ?, list_gen = list_gen + 1 WHERE user_id = ?",
};

/* Locks and reads user_id's row into *m (zeroed, STORE_OK, when there is none). */
static store_rc member_lock(store_t *store, int64_t user_id, store_member_t *m)
{
    memset(m, 0, sizeof *m);
    store_rc rc = store_sql_row(store, &SQL_MEMBER_LOCK, ARGS(store_arg_int(user_id)), 1, read_member, m);
    if (rc != STORE_OK)
        memset(m, 0, sizeof *m);
    return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

/* The generations (store_member_t.list_gen) of the people of the live approved meetings that a
 * member hosts (their pages show the host's name), or that are held in a room (its name). */
static const store_sql_t SQL_LISTS_OF_HOST = {
    .op = "lists_of_host",
    .sqlite = "UPDATE oa_member SET list_gen = list_gen + 1 WHERE user_id IN (SELECT a.user_id FROM oa_meeting m"
              " JOIN oa_attendee a ON a.meeting_id = m.id WHERE m.host_id = ? AND m.state = 4 AND m.end_at > ?)",
};
static const store_sql_t SQL_LISTS_OF_ROOM = {
    .op = "lists_of_room",
    .sqlite = "UPDATE oa_member SET list_gen = list_gen + 1 WHERE user_id IN (SELECT a.user_id FROM oa_meeting m"
              " JOIN oa_attendee a ON a.meeting_id = m.id WHERE m.room_id = ? AND m.state = 4 AND m.end_at > ?)",
};

/* Writes *m: a new row when exists is false, else a rewrite of the row (its name may change:
 * the pages that show it as a host's are bumped). */
static store_rc member_write(store_t *store, const store_member_t *m, bool exists)
{
    store_arg_t invite = m->invite_id != 0 ? store_arg_int(m->invite_id) : store_arg_null();
    if (!exists)
        return EXEC(&SQL_MEMBER_INSERT, store_arg_int(m->user_id), store_arg_int(m->status), store_arg_int(m->role),
                    store_arg_text(m->name), store_arg_text(m->department), invite, store_arg_int(m->requested_at),
                    store_arg_int(m->joined_at), store_arg_int(m->updated_at));
    store_rc rc = EXEC(&SQL_MEMBER_REWRITE, store_arg_int(m->status), store_arg_int(m->role), store_arg_text(m->name),
                       store_arg_text(m->department), invite, store_arg_int(m->requested_at),
                       store_arg_int(m->joined_at), store_arg_int(m->updated_at), store_arg_int(m->user_id));
    return rc == STORE_OK ? EXEC(&SQL_LISTS_OF_HOST, store_arg_int(m->user_id), store_arg_int(m->updated_at)) : rc;
}

typedef struct join_txn {
    int64_t user_id, now;
    const char *name, *department, *invite_code;
    store_member_t *out;
    store_refusal_t *why;
} join_txn_t;

static store_rc join_fn(store_t *store, void *arg)
{
    join_txn_t *t = arg;
    store_member_t m;
    store_rc rc = member_lock(store, t->user_id, &m);
    if (rc != STORE_OK)
        return rc;
    bool exists = m.user_id != 0;
    if (store_member_is_active(&m)) {
        *t->why = STORE_REFUSED_ALREADY;
        return STORE_SQL_REFUSED;
    }
    bool pending = exists && m.status == STORE_MEMBER_PENDING;
    int64_t invite_id = 0;
    if (t->invite_code != NULL && t->invite_code[0] != '\0') {
        store_sql_result_t res = {0};
        rc = store_sql_exec(store, &SQL_INVITE_TAKE, ARGS(store_arg_text(t->invite_code), store_arg_int(t->now)), 2,
                            NULL, NULL, &res);
        if (rc != STORE_OK)
            return rc;
        if (res.changes != 1) {
            *t->why = STORE_REFUSED_INVITE;
            return STORE_SQL_REFUSED;
        }
        rc = COUNT(&SQL_INVITE_ID, &invite_id, store_arg_text(t->invite_code));
        if (rc != STORE_OK)
            return rc;
    }
    store_member_t w = {.user_id = t->user_id, .role = STORE_ROLE_MEMBER, .updated_at = t->now};
    snprintf(w.name, sizeof w.name, "%s", t->name);
    snprintf(w.department, sizeof w.department, "%s", t->department != NULL ? t->department : "");
    w.requested_at = pending ? m.requested_at : t->now;
    if (invite_id != 0) {
        w.status = STORE_MEMBER_ACTIVE;
        w.invite_id = invite_id;
        w.joined_at = t->now;
    } else {
        w.status = STORE_MEMBER_PENDING;
    }
    rc = member_write(store, &w, exists);
    if (rc == STORE_OK)
        *t->out = w;
    return rc;
}

store_rc store_member_join(store_t *store, int64_t user_id, const char *name, const char *department,
                           const char *invite_code, int64_t now, store_member_t *out, store_refusal_t *why)
{
    memset(out, 0, sizeof *out);
    join_txn_t t = {user_id, now, name, department, invite_code, out, why};
    return store_sql_refusable(store, "member_join", join_fn, &t, why);
}

static const store_sql_t SQL_MEMBER_DECIDE = {
    .op = "member_decide",
    .sqlite = "UPDATE oa_member SET status = ?, reason = ?, joined_at = ?, updated_at = ?, list_gen = list_gen + 1"
              " WHERE user_id = ? AND status = 0",
};

store_rc store_member_decide(store_t *store, int64_t user_id, bool approve, const char *reason, int64_t now)
{
    store_sql_result_t res = {0};
    store_rc rc = store_sql_exec(store, &SQL_MEMBER_DECIDE,
                                 ARGS(store_arg_int(approve ? STORE_MEMBER_ACTIVE : STORE_MEMBER_REJECTED),
                                      store_arg_text(approve || reason == NULL ? "" : reason),
                                      store_arg_int(approve ? now : 0), store_arg_int(now), store_arg_int(user_id)),
                                 5, NULL, NULL, &res);
    if (rc == STORE_OK && res.changes == 0)
        return STORE_NOT_FOUND;
    return rc;
}

static const store_sql_t SQL_ADMIN_COUNT = {
    .op = "admin_count",
    .sqlite = "SELECT count(*) FROM oa_member WHERE status = 1 AND role = 1",
    .mysql = "SELECT count(*) FROM oa_member WHERE status = 1 AND role = 1 FOR UPDATE",
};
static const store_sql_t SQL_MEMBER_SET = {
    .op = "member_set",
    .sqlite = "UPDATE oa_member SET status = ?, role = ?, updated_at = ?, list_gen = list_gen + 1 WHERE user_id = ?",
};

typedef struct change_txn {
    int64_t user_id, now;
    int status, role; /* the row's new status and role */
    store_refusal_t *why;
} change_txn_t;

static store_rc change_fn(store_t *store, void *arg)
{
    change_txn_t *t = arg;
    store_member_t m;
    store_rc rc = member_lock(store, t->user_id, &m);
    if (rc != STORE_OK)
        return rc;
    if (!store_member_is_active(&m))
        return STORE_NOT_FOUND;
    bool stays_admin = t->status == STORE_MEMBER_ACTIVE && t->role == STORE_ROLE_ADMIN;
    if (m.role == STORE_ROLE_ADMIN && !stays_admin) {
        int64_t admins = 0;
        rc = COUNT(&SQL_ADMIN_COUNT, &admins, );
        if (rc != STORE_OK)
            return rc;
        if (admins <= 1) {
            *t->why = STORE_REFUSED_LAST_ADMIN;
            return STORE_SQL_REFUSED;
        }
    }
    return EXEC(&SQL_MEMBER_SET, store_arg_int(t->status), store_arg_int(t->role), store_arg_int(t->now),
                store_arg_int(t->user_id));
}

store_rc store_member_set_role(store_t *store, int64_t user_id, int role, int64_t now, store_refusal_t *why)
{
    change_txn_t t = {user_id, now, STORE_MEMBER_ACTIVE, role, why};
    return store_sql_refusable(store, "member_set_role", change_fn, &t, why);
}

store_rc store_member_remove(store_t *store, int64_t user_id, int64_t now, store_refusal_t *why)
{
    change_txn_t t = {user_id, now, STORE_MEMBER_REMOVED, STORE_ROLE_MEMBER, why};
    return store_sql_refusable(store, "member_remove", change_fn, &t, why);
}

typedef struct grant_txn {
    int64_t user_id, now;
    int role;
    const char *name;
} grant_txn_t;

static store_rc grant_fn(store_t *store, void *arg)
{
    grant_txn_t *t = arg;
    store_member_t m;
    store_rc rc = member_lock(store, t->user_id, &m);
    if (rc != STORE_OK)
        return rc;
    bool exists = m.user_id != 0;
    if (!exists) {
        m.user_id = t->user_id;
        snprintf(m.name, sizeof m.name, "%s", t->name);
        m.requested_at = t->now;
    }
    if (!store_member_is_active(&m))
        m.joined_at = t->now;
    m.status = STORE_MEMBER_ACTIVE;
    m.role = t->role;
    m.updated_at = t->now;
    return member_write(store, &m, exists);
}

store_rc store_member_grant(store_t *store, int64_t user_id, int role, const char *name, int64_t now)
{
    grant_txn_t t = {user_id, now, role, name};
    return store_sql_transaction(store, "member_grant", grant_fn, &t);
}

/* ---- member lists ---- */

#define MEMBER_ROW_COLS                                                                                                \
    "m.user_id, m.status, m.role, m.name, m.department, m.reason, m.invite_id, m.requested_at, m.joined_at,"           \
    " m.updated_at, m.list_gen, u.nickname, u.avatar"

typedef struct member_walk {
    store_member_fn fn;
    void *ctx;
} member_walk_t;

static store_rc read_member_row(const store_row_t *row, void *ctx)
{
    member_walk_t *w = ctx;
    store_member_row_t r;
    memset(&r, 0, sizeof r);
    store_rc rc = read_member(row, &r.member);
    if (rc != STORE_OK)
        return rc;
    if (!store_row_copy(row, 11, r.nickname, sizeof r.nickname) || !store_row_copy(row, 12, r.avatar, sizeof r.avatar))
        return STORE_ERROR;
    return w->fn(&r, w->ctx);
}

static const store_sql_t SQL_REQUESTS_COUNT = {
    .op = "member_requests_count",
    .sqlite = "SELECT count(*) FROM oa_member WHERE status = 0",
};
static const store_sql_t SQL_REQUESTS = {
    .op = "member_requests",
    .sqlite = "SELECT " MEMBER_ROW_COLS " FROM oa_member m JOIN wx_user u ON u.id = m.user_id"
              " WHERE m.status = 0 ORDER BY m.requested_at, m.user_id LIMIT ? OFFSET ?",
};

store_rc store_member_requests(store_t *store, int64_t offset, int64_t limit, store_member_fn fn, void *ctx,
                               int64_t *total)
{
    store_rc rc = COUNT(&SQL_REQUESTS_COUNT, total, );
    if (rc != STORE_OK)
        return rc;
    member_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_REQUESTS, ARGS(store_arg_int(limit), store_arg_int(offset)), 2, read_member_row,
                          &w, NULL);
}

static const store_sql_t SQL_MEMBERS_COUNT = {
    .op = "member_list_count",
    .sqlite = "SELECT count(*) FROM oa_member WHERE status = 1",
};
static const store_sql_t SQL_MEMBERS = {
    .op = "member_list",
    .sqlite = "SELECT " MEMBER_ROW_COLS " FROM oa_member m JOIN wx_user u ON u.id = m.user_id"
              " WHERE m.status = 1 ORDER BY m.name, m.user_id LIMIT ? OFFSET ?",
};
static const store_sql_t SQL_MEMBERS_LIKE_COUNT = {
    .op = "member_search_count",
    .sqlite = "SELECT count(*) FROM oa_member WHERE status = 1"
              " AND (name LIKE ? ESCAPE '!' OR department LIKE ? ESCAPE '!')",
};
static const store_sql_t SQL_MEMBERS_LIKE = {
    .op = "member_search",
    .sqlite = "SELECT " MEMBER_ROW_COLS " FROM oa_member m JOIN wx_user u ON u.id = m.user_id"
              " WHERE m.status = 1 AND (m.name LIKE ? ESCAPE '!' OR m.department LIKE ? ESCAPE '!')"
              " ORDER BY m.name, m.user_id LIMIT ? OFFSET ?",
};

store_rc store_member_list(store_t *store, const char *keyword, int64_t offset, int64_t limit, store_member_fn fn,
                           void *ctx, int64_t *total)
{
    member_walk_t w = {fn, ctx};
    if (keyword == NULL || keyword[0] == '\0') {
        store_rc rc = COUNT(&SQL_MEMBERS_COUNT, total, );
        if (rc != STORE_OK)
            return rc;
        return store_sql_exec(store, &SQL_MEMBERS, ARGS(store_arg_int(limit), store_arg_int(offset)), 2,
                              read_member_row, &w, NULL);
    }
    char pattern[2 * STORE_DEPARTMENT_SIZE + 3];
    if (!like_pattern(keyword, pattern, sizeof pattern))
        return STORE_NOT_FOUND;
    store_rc rc = COUNT(&SQL_MEMBERS_LIKE_COUNT, total, store_arg_text(pattern), store_arg_text(pattern));
    if (rc != STORE_OK)
        return rc;
    return store_sql_exec(
        store, &SQL_MEMBERS_LIKE,
        ARGS(store_arg_text(pattern), store_arg_text(pattern), store_arg_int(limit), store_arg_int(offset)), 4,
        read_member_row, &w, NULL);
}

/* ---- invite codes ---- */

#define INVITE_COLS                                                                                                    \
    "i.id, i.code, i.max_uses, i.used, i.expires_at, i.revoked, i.created_by, i.created_at, coalesce(m.name, '')"

static const store_sql_t SQL_INVITE_INSERT = {
    .op = "invite_insert",
    .sqlite = "INSERT INTO oa_invite (code, max_uses, used, expires_at, revoked, created_by, created_at)"
              " VALUES (?, ?, 0, ?, 0, ?, ?)",
};

store_rc store_invite_create(store_t *store, store_invite_t *in)
{
    store_sql_result_t res = {0};
    store_rc rc =
        store_sql_exec(store, &SQL_INVITE_INSERT,
                       ARGS(store_arg_text(in->code), store_arg_int(in->max_uses), store_arg_int(in->expires_at),
                            store_arg_int(in->created_by), store_arg_int(in->created_at)),
                       5, NULL, NULL, &res);
    if (rc == STORE_OK)
        in->id = res.insert_id;
    return rc;
}

typedef struct invite_walk {
    store_invite_fn fn;
    void *ctx;
} invite_walk_t;

static store_rc read_invite(const store_row_t *row, void *ctx)
{
    invite_walk_t *w = ctx;
    store_invite_t inv;
    memset(&inv, 0, sizeof inv);
    inv.id = store_row_int(row, 0);
    if (!store_row_copy(row, 1, inv.code, sizeof inv.code) ||
        !store_row_copy(row, 8, inv.creator_name, sizeof inv.creator_name))
        return STORE_ERROR;
    inv.max_uses = store_row_int(row, 2);
    inv.used = store_row_int(row, 3);
    inv.expires_at = store_row_int(row, 4);
    inv.revoked = store_row_int(row, 5) != 0;
    inv.created_by = store_row_int(row, 6);
    inv.created_at = store_row_int(row, 7);
    return w->fn(&inv, w->ctx);
}

static const store_sql_t SQL_INVITES_COUNT = {
    .op = "invite_list_count",
    .sqlite = "SELECT count(*) FROM oa_invite",
};
static const store_sql_t SQL_INVITES = {
    .op = "invite_list",
    .sqlite = "SELECT " INVITE_COLS " FROM oa_invite i LEFT JOIN oa_member m ON m.user_id = i.created_by"
              " ORDER BY i.id DESC LIMIT ? OFFSET ?",
};

store_rc store_invite_list(store_t *store, int64_t offset, int64_t limit, store_invite_fn fn, void *ctx, int64_t *total)
{
    store_rc rc = COUNT(&SQL_INVITES_COUNT, total, );
    if (rc != STORE_OK)
        return rc;
    invite_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_INVITES, ARGS(store_arg_int(limit), store_arg_int(offset)), 2, read_invite, &w,
                          NULL);
}

static const store_sql_t SQL_INVITE_EXISTS = {
    .op = "invite_exists",
    .sqlite = "SELECT count(*) FROM oa_invite WHERE id = ?",
};
static const store_sql_t SQL_INVITE_REVOKE = {
    .op = "invite_revoke",
    .sqlite = "UPDATE oa_invite SET revoked = 1 WHERE id = ?",
};

store_rc store_invite_revoke(store_t *store, int64_t id)
{
    int64_t n = 0;
    store_rc rc = COUNT(&SQL_INVITE_EXISTS, &n, store_arg_int(id));
    if (rc != STORE_OK)
        return rc;
    if (n == 0)
        return STORE_NOT_FOUND;
    return EXEC(&SQL_INVITE_REVOKE, store_arg_int(id));
}

/* ---- rooms ---- */

#define ROOM_COLS "id, name, location, capacity, equipment, enabled, created_at, updated_at"

static store_rc read_room(const store_row_t *row, store_room_t *r)
{
    memset(r, 0, sizeof *r);
    r->id = store_row_int(row, 0);
    if (!store_row_copy(row, 1, r->name, sizeof r->name) || !store_row_copy(row, 2, r->location, sizeof r->location) ||
        !store_row_copy(row, 4, r->equipment, sizeof r->equipment))
        return STORE_ERROR;
    r->capacity = store_row_int(row, 3);
    r->enabled = store_row_int(row, 5) != 0;
    r->created_at = store_row_int(row, 6);
    r->updated_at = store_row_int(row, 7);
    return STORE_OK;
}

static store_rc read_room_into(const store_row_t *row, void *ctx)
{
    return read_room(row, ctx);
}

static const store_sql_t SQL_ROOM_GET = {
    .op = "room_get",
    .sqlite = "SELECT " ROOM_COLS " FROM oa_room WHERE id = ? AND deleted = 0",
};
static const store_sql_t SQL_ROOM_LOCK = {
    .op = "room_lock",
    .sqlite = "SELECT " ROOM_COLS " FROM oa_room WHERE id = ? AND deleted = 0",
    .mysql = "SELECT " ROOM_COLS " FROM oa_room WHERE id = ? AND deleted = 0 FOR UPDATE",
};

store_rc store_room_get(store_t *store, int64_t id, store_room_t *out)
{
    memset(out, 0, sizeof *out);
    return store_sql_row(store, &SQL_ROOM_GET, ARGS(store_arg_int(id)), 1, read_room_into, out);
}

/* In a transaction: locks and reads room id (STORE_NOT_FOUND when unknown or deleted). */
static store_rc room_lock(store_t *store, int64_t id, store_room_t *out)
{
    memset(out, 0, sizeof *out);
    return store_sql_row(store, &SQL_ROOM_LOCK, ARGS(store_arg_int(id)), 1, read_room_into, out);
}

static const store_sql_t SQL_ROOM_NAME_USED = {
    .op = "room_name_used",
    .sqlite = "SELECT count(*) FROM oa_room WHERE name = ? AND deleted = 0 AND id <> ?",
    .mysql = "SELECT count(*) FROM oa_room WHERE name = ? AND deleted = 0 AND id <> ? FOR UPDATE",
};
static const store_sql_t SQL_ROOM_INSERT = {
    .op = "room_insert",
    .sqlite = "INSERT INTO oa_room (name, location, capacity, equipment, enabled, deleted, created_at, updated_at)"
              " VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
};
static const store_sql_t SQL_ROOM_UPDATE = {
    .op = "room_update",
    .sqlite = "UPDATE oa_room SET name = ?, location = ?, capacity = ?, equipment = ?, enabled = ?, updated_at = ?"
              " WHERE id = ?",
};

typedef struct room_txn {
    store_room_t *room;
    int64_t now;
    store_refusal_t *why;
} room_txn_t;

static store_rc room_save_fn(store_t *store, void *arg)
{
    room_txn_t *t = arg;
    store_room_t *r = t->room, old;
    store_rc rc;
    if (r->id != 0 && (rc = room_lock(store, r->id, &old)) != STORE_OK)
        return rc;
    int64_t used = 0;
    rc = COUNT(&SQL_ROOM_NAME_USED, &used, store_arg_text(r->name), store_arg_int(r->id));
    if (rc != STORE_OK)
        return rc;
    if (used > 0) {
        *t->why = STORE_REFUSED_NAME_TAKEN;
        return STORE_SQL_REFUSED;
    }
    r->updated_at = t->now;
    if (r->id == 0) {
        r->created_at = t->now;
        store_sql_result_t res = {0};
        rc = store_sql_exec(store, &SQL_ROOM_INSERT,
                            ARGS(store_arg_text(r->name), store_arg_text(r->location), store_arg_int(r->capacity),
                                 store_arg_text(r->equipment), store_arg_int(r->enabled), store_arg_int(t->now),
                                 store_arg_int(t->now)),
                            7, NULL, NULL, &res);
        if (rc == STORE_OK)
            r->id = res.insert_id;
        return rc;
    }
    r->created_at = old.created_at;
    rc = EXEC(&SQL_ROOM_UPDATE, store_arg_text(r->name), store_arg_text(r->location), store_arg_int(r->capacity),
              store_arg_text(r->equipment), store_arg_int(r->enabled), store_arg_int(t->now), store_arg_int(r->id));
    if (rc == STORE_OK && strcmp(old.name, r->name) != 0)
        rc = EXEC(&SQL_LISTS_OF_ROOM, store_arg_int(r->id), store_arg_int(t->now));
    return rc;
}

store_rc store_room_save(store_t *store, store_room_t *room, int64_t now, store_refusal_t *why)
{
    int64_t id = room->id;
    room_txn_t t = {room, now, why};
    store_rc rc = store_sql_refusable(store, "room_save", room_save_fn, &t, why);
    if (rc != STORE_OK || *why != STORE_REFUSED_NOT)
        room->id = id; /* a rolled-back insert has no id */
    return rc;
}

static const store_sql_t SQL_ROOM_HELD = {
    .op = "room_held",
    .sqlite = "SELECT count(*) FROM oa_meeting WHERE room_id = ? AND state IN (2, 4) AND end_at > ?",
};
static const store_sql_t SQL_ROOM_DELETE = {
    .op = "room_delete",
    .sqlite = "UPDATE oa_room SET deleted = 1, enabled = 0, updated_at = ? WHERE id = ?",
};

typedef struct room_delete_txn {
    int64_t id, now;
    store_refusal_t *why;
} room_delete_txn_t;

static store_rc room_delete_fn(store_t *store, void *arg)
{
    room_delete_txn_t *t = arg;
    store_room_t old;
    store_rc rc = room_lock(store, t->id, &old); /* bookings lock the room too: none can start meanwhile */
    if (rc != STORE_OK)
        return rc;
    int64_t held = 0;
    rc = COUNT(&SQL_ROOM_HELD, &held, store_arg_int(t->id), store_arg_int(t->now));
    if (rc != STORE_OK)
        return rc;
    if (held > 0) {
        *t->why = STORE_REFUSED_ROOM_BUSY;
        return STORE_SQL_REFUSED;
    }
    return EXEC(&SQL_ROOM_DELETE, store_arg_int(t->now), store_arg_int(t->id));
}

store_rc store_room_delete(store_t *store, int64_t id, int64_t now, store_refusal_t *why)
{
    room_delete_txn_t t = {id, now, why};
    return store_sql_refusable(store, "room_delete", room_delete_fn, &t, why);
}

typedef struct room_walk {
    store_room_fn fn;
    void *ctx;
} room_walk_t;

static store_rc walk_room(const store_row_t *row, void *ctx)
{
    room_walk_t *w = ctx;
    store_room_t r;
    store_rc rc = read_room(row, &r);
    return rc != STORE_OK ? rc : w->fn(&r, w->ctx);
}

static const store_sql_t SQL_ROOMS_COUNT = {
    .op = "room_list_count",
    .sqlite = "SELECT count(*) FROM oa_room WHERE deleted = 0 AND enabled >= ?",
};
static const store_sql_t SQL_ROOMS = {
    .op = "room_list",
    .sqlite = "SELECT " ROOM_COLS " FROM oa_room WHERE deleted = 0 AND enabled >= ? ORDER BY name, id LIMIT ? OFFSET ?",
};

store_rc store_room_list(store_t *store, bool all, int64_t offset, int64_t limit, store_room_fn fn, void *ctx,
                         int64_t *total)
{
    int64_t min_enabled = all ? 0 : 1;
    store_rc rc = COUNT(&SQL_ROOMS_COUNT, total, store_arg_int(min_enabled));
    if (rc != STORE_OK)
        return rc;
    room_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_ROOMS,
                          ARGS(store_arg_int(min_enabled), store_arg_int(limit), store_arg_int(offset)), 3, walk_room,
                          &w, NULL);
}

static const store_sql_t SQL_ROOM_BUSY = {
    .op = "room_busy",
    .sqlite = "SELECT m.room_id, m.id, m.start_at, m.end_at, m.state, m.title FROM oa_meeting m"
              " WHERE m.state IN (2, 4) AND m.room_id IS NOT NULL AND m.start_at < ? AND m.end_at > ?"
              " AND m.start_at > ? ORDER BY m.room_id, m.start_at",
};

typedef struct busy_walk {
    store_room_busy_fn fn;
    void *ctx;
} busy_walk_t;

static store_rc walk_busy(const store_row_t *row, void *ctx)
{
    busy_walk_t *w = ctx;
    store_room_busy_t b;
    memset(&b, 0, sizeof b);
    b.room_id = store_row_int(row, 0);
    b.meeting_id = store_row_int(row, 1);
    b.start_at = store_row_int(row, 2);
    b.end_at = store_row_int(row, 3);
    b.state = (int)store_row_int(row, 4);
    if (!store_row_copy(row, 5, b.title, sizeof b.title))
        return STORE_ERROR;
    return w->fn(&b, w->ctx);
}

store_rc store_room_busy(store_t *store, int64_t from, int64_t to, store_room_busy_fn fn, void *ctx)
{
    busy_walk_t w = {fn, ctx};
    /* A meeting lasts at most a day: start_at > from - 1 day bounds the index range. */
    return store_sql_exec(store, &SQL_ROOM_BUSY,
                          ARGS(store_arg_int(to), store_arg_int(from), store_arg_int(from - 86400)), 3, walk_busy, &w,
                          NULL);
}
