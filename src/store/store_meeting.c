/*
 * store_meeting — the meetings' verbs (store_meeting.h) on the statement layer (store_sql.h).
 *
 * Locking, for the booking rule (no two meetings in state 2 or 4 hold one room at overlapping
 * times): on SQLite every transaction is BEGIN IMMEDIATE, the database's one write lock. On
 * MariaDB a transition that books locks the meeting's row, then the room's row (FOR UPDATE):
 * every booking of one room, and its deletion, is serialized on that row, whichever instance
 * runs it; the clash check after it is a locking read, so it sees every booking committed
 * before the lock was granted.
 */
#include "store/store_meeting.h"

#include <stdio.h>
#include <string.h>

#include "store/store_notify.h"
#include "store/store_sql.h"

#define ARGS           STORE_ARGS
#define NARGS          STORE_NARGS
#define EXEC(sql, ...) store_sql_exec(store, (sql), ARGS(__VA_ARGS__), NARGS(__VA_ARGS__), NULL, NULL, NULL)

static store_arg_t id_or_null(int64_t id)
{
    return id != 0 ? store_arg_int(id) : store_arg_null();
}

/* ---- reading a meeting ---- */

#define MEETING_COLS                                                                                                   \
    "m.id, m.host_id, m.approver_id, m.room_id, m.title, m.content, m.location, m.start_at, m.end_at, m.state,"        \
    " m.version, m.remind_minutes, m.reason, m.approved_at, m.attendee_count, m.created_at, m.updated_at,"             \
    " coalesce(m.checkin_code, ''), m.checkin_rotating"

static store_rc read_meeting_cols(const store_row_t *row, store_meeting_t *m)
{
    m->id = store_row_int(row, 0);
    m->host_id = store_row_int(row, 1);
    m->approver_id = store_row_int(row, 2);
    m->room_id = store_row_int(row, 3);
    if (!store_row_copy(row, 4, m->title, sizeof m->title) || !store_row_copy(row, 5, m->content, sizeof m->content) ||
        !store_row_copy(row, 6, m->location, sizeof m->location) ||
        !store_row_copy(row, 12, m->reason, sizeof m->reason))
        return STORE_ERROR;
    m->start_at = store_row_int(row, 7);
    m->end_at = store_row_int(row, 8);
    m->state = (int)store_row_int(row, 9);
    m->version = store_row_int(row, 10);
    m->remind_minutes = (int)store_row_int(row, 11);
    m->approved_at = store_row_int(row, 13);
    m->attendee_count = store_row_int(row, 14);
    m->created_at = store_row_int(row, 15);
    m->updated_at = store_row_int(row, 16);
    if (!store_row_copy(row, 17, m->checkin_code, sizeof m->checkin_code))
        return STORE_ERROR;
    m->checkin_rotating = store_row_int(row, 18) != 0;
    return STORE_OK;
}

static store_rc read_meeting_row(const store_row_t *row, void *ctx)
{
    return read_meeting_cols(row, ctx);
}

static store_rc read_meeting_full(const store_row_t *row, void *ctx)
{
    store_meeting_t *m = ctx;
    store_rc rc = read_meeting_cols(row, m);
    if (rc != STORE_OK)
        return rc;
    if (!store_row_copy(row, 19, m->room_name, sizeof m->room_name) ||
        !store_row_copy(row, 20, m->host_name, sizeof m->host_name) ||
        !store_row_copy(row, 21, m->host_avatar, sizeof m->host_avatar) ||
        !store_row_copy(row, 22, m->approver_name, sizeof m->approver_name))
        return STORE_ERROR;
    return STORE_OK;
}

static const store_sql_t SQL_MEETING_GET = {
    .op = "meeting_get",
    .sqlite = "SELECT " MEETING_COLS ", coalesce(r.name, ''), coalesce(hm.name, ''), coalesce(hu.avatar, ''),"
              " coalesce(am.name, '') FROM oa_meeting m"
              " LEFT JOIN oa_room r ON r.id = m.room_id"
              " LEFT JOIN oa_member hm ON hm.user_id = m.host_id"
              " LEFT JOIN wx_user hu ON hu.id = m.host_id"
              " LEFT JOIN oa_member am ON am.user_id = m.approver_id"
              " WHERE m.id = ?",
};
static const store_sql_t SQL_MEETING_LOCK = {
    .op = "meeting_lock",
    .sqlite = "SELECT " MEETING_COLS " FROM oa_meeting m WHERE m.id = ?",
    .mysql = "SELECT " MEETING_COLS " FROM oa_meeting m WHERE m.id = ? FOR UPDATE",
};

store_rc store_meeting_get(store_t *store, int64_t id, store_meeting_t *out)
{
    memset(out, 0, sizeof *out);
    return store_sql_row(store, &SQL_MEETING_GET, ARGS(store_arg_int(id)), 1, read_meeting_full, out);
}

/* In a transaction: locks and reads meeting id. */
static store_rc meeting_lock(store_t *store, int64_t id, store_meeting_t *out)
{
    memset(out, 0, sizeof *out);
    return store_sql_row(store, &SQL_MEETING_LOCK, ARGS(store_arg_int(id)), 1, read_meeting_row, out);
}

/* ---- checks inside transactions ---- */

static const store_sql_t SQL_ROOM_BOOKABLE = {
    .op = "room_bookable",
    .sqlite = "SELECT count(*) FROM oa_room WHERE id = ? AND deleted = 0 AND enabled = 1",
    .mysql = "SELECT count(*) FROM oa_room WHERE id = ? AND deleted = 0 AND enabled = 1 FOR UPDATE",
};
static const store_sql_t SQL_ACTIVE_MEMBER = {
    .op = "member_active",
    .sqlite = "SELECT count(*) FROM oa_member WHERE user_id = ? AND status = 1",
};
/* Attendees of a meeting who are not active members (at most one is enough). */
static const store_sql_t SQL_ATTENDEE_NOT_MEMBER = {
    .op = "attendee_not_member",
    .sqlite = "SELECT count(*) FROM oa_attendee a LEFT JOIN oa_member m ON m.user_id = a.user_id AND m.status = 1"
              " WHERE a.meeting_id = ? AND m.user_id IS NULL",
};

/* The room (when any) is bookable and the approver (when any) a member: else refused. */
static store_rc check_room_and_approver(store_t *store, const store_meeting_input_t *in, store_refusal_t *why)
{
    int64_t n = 0;
    store_rc rc;
    if (in->room_id != 0) {
        rc = store_sql_int(store, &SQL_ROOM_BOOKABLE, ARGS(store_arg_int(in->room_id)), 1, &n);
        if (rc != STORE_OK)
            return rc;
        if (n == 0)
            return STORE_NOT_FOUND;
    }
    if (in->approver_id != 0) {
        rc = store_sql_int(store, &SQL_ACTIVE_MEMBER, ARGS(store_arg_int(in->approver_id)), 1, &n);
        if (rc != STORE_OK)
            return rc;
        if (n == 0) {
            *why = STORE_REFUSED_NOT_MEMBER;
            return STORE_SQL_REFUSED;
        }
    }
    return STORE_OK;
}

static store_rc check_attendees_members(store_t *store, int64_t meeting_id, store_refusal_t *why)
{
    int64_t n = 0;
    store_rc rc = store_sql_int(store, &SQL_ATTENDEE_NOT_MEMBER, ARGS(store_arg_int(meeting_id)), 1, &n);
    if (rc != STORE_OK)
        return rc;
    if (n > 0) {
        *why = STORE_REFUSED_NOT_MEMBER;
        return STORE_SQL_REFUSED;
    }
    return STORE_OK;
}

/* Whether someone in role sees a meeting in state (with approved_at) in lists. */
static int visible(int role, int state, int64_t approved_at)
{
    return role == STORE_ATTENDEE_HOST || state == STORE_MEETING_APPROVED || state == STORE_MEETING_ARCHIVED ||
           (state == STORE_MEETING_CANCELLED && approved_at != 0);
}

/* ---- create and update ---- */

static const store_sql_t SQL_MEETING_INSERT = {
    .op = "meeting_insert",
    .sqlite = "INSERT INTO oa_meeting (host_id, approver_id, room_id, title, content, location, start_at, end_at,"
              " state, version, remind_minutes, reason, approved_at, attendee_count, created_at, updated_at,"
              " checkin_rotating) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, '', 0, ?, ?, ?, ?)",
};
static const store_sql_t SQL_ATTENDEE_INSERT = {
    .op = "attendee_insert",
    .sqlite = "INSERT INTO oa_attendee (meeting_id, user_id, role, answer, reason, answered_at, m_state, m_start,"
              " m_end, m_visible) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
};
static const store_sql_t SQL_MEETING_LOG = {
    .op = "meeting_log",
    .sqlite = "INSERT INTO oa_meeting_log (meeting_id, user_id, from_state, to_state, reason, created_at)"
              " VALUES (?, ?, ?, ?, ?, ?)",
};

/* The generations of the pages (store_member_t.list_gen) of a meeting's people, and of one
 * user's: bumped in the transaction of every verb that writes what lists show. */
static const store_sql_t SQL_LISTS_OF_MEETING = {
    .op = "lists_of_meeting",
    .sqlite = "UPDATE oa_member SET list_gen = list_gen + 1"
              " WHERE user_id IN (SELECT user_id FROM oa_attendee WHERE meeting_id = ?)",
};
static const store_sql_t SQL_LISTS_OF_USER = {
    .op = "lists_of_user",
    .sqlite = "UPDATE oa_member SET list_gen = list_gen + 1 WHERE user_id = ?",
};

static int64_t people_of(const store_meeting_input_t *in)
{
    return 1 + (int64_t)in->nparticipants + (int64_t)in->nobservers;
}

typedef struct create_txn {
    const store_meeting_input_t *in;
    int64_t now;
    int64_t *id;
    store_refusal_t *why;
} create_txn_t;

static store_rc insert_attendee(store_t *store, int64_t meeting_id, int64_t user_id, int role, int state,
                                const store_meeting_input_t *in, int64_t now)
{
    bool host = role == STORE_ATTENDEE_HOST;
    return EXEC(&SQL_ATTENDEE_INSERT, store_arg_int(meeting_id), store_arg_int(user_id), store_arg_int(role),
                store_arg_int(host ? STORE_ANSWER_ATTEND : STORE_ANSWER_NONE), store_arg_int(host ? now : 0),
                store_arg_int(state), store_arg_int(in->start_at), store_arg_int(in->end_at),
                store_arg_int(visible(role, state, 0)));
}

/* An attendee insert refused by a key: the id is no user at all (foreign key), so no member. */
static store_rc attendee_refused(store_rc rc, store_refusal_t *why)
{
    if (rc == STORE_CONFLICT) {
        *why = STORE_REFUSED_NOT_MEMBER;
        return STORE_SQL_REFUSED;
    }
    return rc;
}

static store_rc create_fn(store_t *store, void *arg)
{
    create_txn_t *t = arg;
    const store_meeting_input_t *in = t->in;
    store_rc rc = check_room_and_approver(store, in, t->why);
    if (rc != STORE_OK)
        return rc;
    store_sql_result_t res = {0};
    rc = store_sql_exec(store, &SQL_MEETING_INSERT,
                        ARGS(store_arg_int(in->host_id), id_or_null(in->approver_id), id_or_null(in->room_id),
                             store_arg_text(in->title), store_arg_text(in->content), store_arg_text(in->location),
                             store_arg_int(in->start_at), store_arg_int(in->end_at), store_arg_int(in->remind_minutes),
                             store_arg_int(people_of(in)), store_arg_int(t->now), store_arg_int(t->now),
                             store_arg_int(in->checkin_rotating)),
                        13, NULL, NULL, &res);
    if (rc != STORE_OK)
        return rc;
    int64_t id = res.insert_id;
    rc = insert_attendee(store, id, in->host_id, STORE_ATTENDEE_HOST, STORE_MEETING_DRAFT, in, t->now);
    for (size_t i = 0; rc == STORE_OK && i < in->nparticipants; i++)
        rc = insert_attendee(store, id, in->participants[i], STORE_ATTENDEE_PARTICIPANT, STORE_MEETING_DRAFT, in,
                             t->now);
    for (size_t i = 0; rc == STORE_OK && i < in->nobservers; i++)
        rc = insert_attendee(store, id, in->observers[i], STORE_ATTENDEE_OBSERVER, STORE_MEETING_DRAFT, in, t->now);
    rc = attendee_refused(rc, t->why);
    if (rc == STORE_OK)
        rc = check_attendees_members(store, id, t->why);
    if (rc == STORE_OK)
        rc = EXEC(&SQL_MEETING_LOG, store_arg_int(id), store_arg_int(in->host_id), store_arg_int(STORE_MEETING_DRAFT),
                  store_arg_int(STORE_MEETING_DRAFT), store_arg_text(""), store_arg_int(t->now));
    if (rc == STORE_OK)
        rc = EXEC(&SQL_LISTS_OF_MEETING, store_arg_int(id));
    if (rc == STORE_OK)
        *t->id = id;
    return rc;
}

store_rc store_meeting_create(store_t *store, const store_meeting_input_t *in, int64_t now, int64_t *id,
                              store_refusal_t *why)
{
    *id = 0;
    create_txn_t t = {in, now, id, why};
    return store_sql_refusable(store, "meeting_create", create_fn, &t, why);
}

static const store_sql_t SQL_MEETING_REWRITE = {
    .op = "meeting_rewrite",
    .sqlite = "UPDATE oa_meeting SET approver_id = ?, room_id = ?, title = ?, content = ?, location = ?,"
              " start_at = ?, end_at = ?, remind_minutes = ?, attendee_count = ?, version = version + 1,"
              " updated_at = ?, checkin_rotating = ? WHERE id = ?",
};
/* Marks the guests (everyone but the host) as leaving; those who stay get their role back. */
static const store_sql_t SQL_ATTENDEES_MARK = {
    .op = "attendees_mark",
    .sqlite = "UPDATE oa_attendee SET role = 9 WHERE meeting_id = ? AND role <> 0",
};
static const store_sql_t SQL_ATTENDEE_KEEP = {
    .op = "attendee_keep",
    .sqlite = "UPDATE oa_attendee SET role = ? WHERE meeting_id = ? AND user_id = ? AND role = 9",
};
static const store_sql_t SQL_ATTENDEES_DROP = {
    .op = "attendees_drop",
    .sqlite = "DELETE FROM oa_attendee WHERE meeting_id = ? AND role = 9",
};
static const store_sql_t SQL_ATTENDEES_TIMES = {
    .op = "attendees_times",
    .sqlite = "UPDATE oa_attendee SET m_start = ?, m_end = ? WHERE meeting_id = ?",
};

typedef struct update_txn {
    int64_t id, version, now;
    const store_meeting_input_t *in;
    int64_t *new_version;
    store_refusal_t *why;
} update_txn_t;

static store_rc keep_or_add(store_t *store, int64_t id, int64_t user_id, int role, const store_meeting_t *m,
                            const store_meeting_input_t *in, int64_t now)
{
    store_sql_result_t res = {0};
    store_rc rc =
        store_sql_exec(store, &SQL_ATTENDEE_KEEP, ARGS(store_arg_int(role), store_arg_int(id), store_arg_int(user_id)),
                       3, NULL, NULL, &res);
    if (rc != STORE_OK || res.changes > 0)
        return rc;
    return insert_attendee(store, id, user_id, role, m->state, in, now);
}

static store_rc update_fn(store_t *store, void *arg)
{
    update_txn_t *t = arg;
    const store_meeting_input_t *in = t->in;
    store_meeting_t m;
    store_rc rc = meeting_lock(store, t->id, &m);
    if (rc != STORE_OK)
        return rc;
    if (m.version != t->version) {
        *t->why = STORE_REFUSED_STALE;
        return STORE_SQL_REFUSED;
    }
    if (m.state != STORE_MEETING_DRAFT && m.state != STORE_MEETING_REJECTED) {
        *t->why = STORE_REFUSED_STATE;
        return STORE_SQL_REFUSED;
    }
    if ((rc = check_room_and_approver(store, in, t->why)) != STORE_OK)
        return rc;
    rc = EXEC(&SQL_MEETING_REWRITE, id_or_null(in->approver_id), id_or_null(in->room_id), store_arg_text(in->title),
              store_arg_text(in->content), store_arg_text(in->location), store_arg_int(in->start_at),
              store_arg_int(in->end_at), store_arg_int(in->remind_minutes), store_arg_int(people_of(in)),
              store_arg_int(t->now), store_arg_int(in->checkin_rotating), store_arg_int(t->id));
    if (rc == STORE_OK)
        rc = EXEC(&SQL_ATTENDEES_MARK, store_arg_int(t->id));
    for (size_t i = 0; rc == STORE_OK && i < in->nparticipants; i++)
        rc = keep_or_add(store, t->id, in->participants[i], STORE_ATTENDEE_PARTICIPANT, &m, in, t->now);
    for (size_t i = 0; rc == STORE_OK && i < in->nobservers; i++)
        rc = keep_or_add(store, t->id, in->observers[i], STORE_ATTENDEE_OBSERVER, &m, in, t->now);
    rc = attendee_refused(rc, t->why);
    if (rc == STORE_OK) /* before the drop: the people leaving are bumped too */
        rc = EXEC(&SQL_LISTS_OF_MEETING, store_arg_int(t->id));
    if (rc == STORE_OK)
        rc = EXEC(&SQL_ATTENDEES_DROP, store_arg_int(t->id));
    if (rc == STORE_OK)
        rc = EXEC(&SQL_ATTENDEES_TIMES, store_arg_int(in->start_at), store_arg_int(in->end_at), store_arg_int(t->id));
    if (rc == STORE_OK)
        rc = check_attendees_members(store, t->id, t->why);
    if (rc == STORE_OK)
        *t->new_version = m.version + 1;
    return rc;
}

store_rc store_meeting_update(store_t *store, int64_t id, int64_t version, const store_meeting_input_t *in, int64_t now,
                              int64_t *new_version, store_refusal_t *why)
{
    *new_version = 0;
    update_txn_t t = {id, version, now, in, new_version, why};
    return store_sql_refusable(store, "meeting_update", update_fn, &t, why);
}

/* ---- changes of state ---- */

static const store_sql_t SQL_ROOM_LOCK_ROW = {
    .op = "room_lock_row",
    .sqlite = "SELECT count(*) FROM oa_room WHERE id = ?",
    .mysql = "SELECT count(*) FROM oa_room WHERE id = ? FOR UPDATE",
};
static const store_sql_t SQL_ROOM_CLASH = {
    .op = "room_clash",
    .sqlite = "SELECT id, start_at, end_at FROM oa_meeting WHERE room_id = ? AND state IN (2, 4) AND id <> ?"
              " AND start_at < ? AND end_at > ? AND start_at > ? ORDER BY start_at LIMIT 1",
    .mysql = "SELECT id, start_at, end_at FROM oa_meeting WHERE room_id = ? AND state IN (2, 4) AND id <> ?"
             " AND start_at < ? AND end_at > ? AND start_at > ? ORDER BY start_at LIMIT 1 FOR UPDATE",
};
static const store_sql_t SQL_MEETING_STATE = {
    .op = "meeting_state",
    .sqlite = "UPDATE oa_meeting SET state = ?, version = version + 1, reason = ?, approved_at = ?, updated_at = ?"
              " WHERE id = ?",
};
static const store_sql_t SQL_ATTENDEES_STATE = {
    .op = "attendees_state",
    .sqlite = "UPDATE oa_attendee SET m_state = ?,"
              " m_visible = CASE WHEN role = 0 OR ? = 1 THEN 1 ELSE 0 END WHERE meeting_id = ?",
};

typedef struct transition_txn {
    const store_transition_t *t;
    int64_t *new_version;
    store_clash_t *clash;
    store_refusal_t *why;
} transition_txn_t;

static store_rc read_clash(const store_row_t *row, void *ctx)
{
    store_clash_t *c = ctx;
    c->meeting_id = store_row_int(row, 0);
    c->start_at = store_row_int(row, 1);
    c->end_at = store_row_int(row, 2);
    return STORE_OK;
}

static store_rc transition_fn(store_t *store, void *arg)
{
    transition_txn_t *x = arg;
    const store_transition_t *t = x->t;
    memset(x->clash, 0, sizeof *x->clash);
    store_meeting_t m;
    store_rc rc = meeting_lock(store, t->id, &m);
    if (rc != STORE_OK)
        return rc;
    if (m.version != t->version) {
        *x->why = STORE_REFUSED_STALE;
        return STORE_SQL_REFUSED;
    }
    if ((t->from_states & (1u << m.state)) == 0) {
        *x->why = STORE_REFUSED_STATE;
        return STORE_SQL_REFUSED;
    }
    if (t->book_room && m.room_id != 0) {
        int64_t n = 0;
        rc = store_sql_int(store, &SQL_ROOM_LOCK_ROW, ARGS(store_arg_int(m.room_id)), 1, &n);
        if (rc != STORE_OK)
            return rc;
        rc = store_sql_exec(store, &SQL_ROOM_CLASH,
                            ARGS(store_arg_int(m.room_id), store_arg_int(m.id), store_arg_int(m.end_at),
                                 store_arg_int(m.start_at), store_arg_int(m.start_at - STORE_MEETING_MAX_SECONDS)),
                            5, read_clash, x->clash, NULL);
        if (rc != STORE_OK)
            return rc;
        if (x->clash->meeting_id != 0) {
            *x->why = STORE_REFUSED_ROOM_BUSY;
            return STORE_SQL_REFUSED;
        }
    }
    int64_t approved_at = t->to_state == STORE_MEETING_APPROVED ? t->now : m.approved_at;
    const char *reason = t->reason != NULL ? t->reason : m.reason;
    rc = EXEC(&SQL_MEETING_STATE, store_arg_int(t->to_state), store_arg_text(reason), store_arg_int(approved_at),
              store_arg_int(t->now), store_arg_int(t->id));
    if (rc == STORE_OK)
        rc = EXEC(&SQL_ATTENDEES_STATE, store_arg_int(t->to_state),
                  store_arg_int(visible(STORE_ATTENDEE_PARTICIPANT, t->to_state, approved_at)), store_arg_int(t->id));
    if (rc == STORE_OK)
        rc = EXEC(&SQL_LISTS_OF_MEETING, store_arg_int(t->id));
    if (rc == STORE_OK)
        rc =
            EXEC(&SQL_MEETING_LOG, store_arg_int(t->id), store_arg_int(t->user_id), store_arg_int(m.state),
                 store_arg_int(t->to_state), store_arg_text(t->reason != NULL ? t->reason : ""), store_arg_int(t->now));
    if (rc == STORE_OK && t->remind != NULL)
        rc = store_notify_queue_txn(store, t->remind, t->id, m.state, t->to_state, t->reason, t->now);
    if (rc == STORE_OK)
        *x->new_version = m.version + 1;
    return rc;
}

store_rc store_meeting_transition(store_t *store, const store_transition_t *t, int64_t *new_version,
                                  store_clash_t *clash, store_refusal_t *why)
{
    *new_version = 0;
    transition_txn_t x = {t, new_version, clash, why};
    return store_sql_refusable(store, "meeting_transition", transition_fn, &x, why);
}

/* ---- answers ---- */

static const store_sql_t SQL_ATTENDEE_LOCK = {
    .op = "attendee_lock",
    .sqlite = "SELECT role, m_state, m_end FROM oa_attendee WHERE meeting_id = ? AND user_id = ?",
    .mysql = "SELECT role, m_state, m_end FROM oa_attendee WHERE meeting_id = ? AND user_id = ? FOR UPDATE",
};
static const store_sql_t SQL_ATTENDEE_ANSWER = {
    .op = "attendee_answer",
    .sqlite = "UPDATE oa_attendee SET answer = ?, reason = ?, answered_at = ? WHERE meeting_id = ? AND user_id = ?",
};

typedef struct answer_txn {
    int64_t id, user_id, now;
    int answer;
    const char *reason;
    store_refusal_t *why;
} answer_txn_t;

typedef struct attendee_state {
    bool found;
    int role, m_state;
    int64_t m_end;
} attendee_state_t;

static store_rc read_attendee_state(const store_row_t *row, void *ctx)
{
    attendee_state_t *a = ctx;
    a->found = true;
    a->role = (int)store_row_int(row, 0);
    a->m_state = (int)store_row_int(row, 1);
    a->m_end = store_row_int(row, 2);
    return STORE_OK;
}

static store_rc answer_fn(store_t *store, void *arg)
{
    answer_txn_t *t = arg;
    attendee_state_t a = {0};
    store_rc rc = store_sql_exec(store, &SQL_ATTENDEE_LOCK, ARGS(store_arg_int(t->id), store_arg_int(t->user_id)), 2,
                                 read_attendee_state, &a, NULL);
    if (rc != STORE_OK)
        return rc;
    if (!a.found || a.role == STORE_ATTENDEE_HOST)
        return STORE_NOT_FOUND;
    if (a.m_state != STORE_MEETING_APPROVED || a.m_end <= t->now) {
        *t->why = STORE_REFUSED_STATE;
        return STORE_SQL_REFUSED;
    }
    rc = EXEC(&SQL_ATTENDEE_ANSWER, store_arg_int(t->answer), store_arg_text(t->reason != NULL ? t->reason : ""),
              store_arg_int(t->now), store_arg_int(t->id), store_arg_int(t->user_id));
    return rc == STORE_OK ? EXEC(&SQL_LISTS_OF_USER, store_arg_int(t->user_id)) : rc;
}

store_rc store_meeting_answer(store_t *store, int64_t id, int64_t user_id, int answer, const char *reason, int64_t now,
                              store_refusal_t *why)
{
    answer_txn_t t = {id, user_id, now, answer, reason, why};
    return store_sql_refusable(store, "meeting_answer", answer_fn, &t, why);
}

/* ---- the detail's lists ---- */

static const store_sql_t SQL_ATTENDEES = {
    .op = "meeting_attendees",
    .sqlite = "SELECT a.user_id, a.role, a.answer, a.reason, a.answered_at, coalesce(m.name, ''),"
              " coalesce(m.department, ''), coalesce(u.avatar, ''), a.checkin_at, a.checkin_late,"
              " a.checkin_by, a.checkin_reason FROM oa_attendee a"
              " LEFT JOIN oa_member m ON m.user_id = a.user_id LEFT JOIN wx_user u ON u.id = a.user_id"
              " WHERE a.meeting_id = ? ORDER BY a.role, m.name, a.user_id",
};

typedef struct attendee_walk {
    store_attendee_fn fn;
    void *ctx;
} attendee_walk_t;

static store_rc walk_attendee(const store_row_t *row, void *ctx)
{
    attendee_walk_t *w = ctx;
    store_attendee_t a;
    memset(&a, 0, sizeof a);
    a.user_id = store_row_int(row, 0);
    a.role = (int)store_row_int(row, 1);
    a.answer = (int)store_row_int(row, 2);
    a.answered_at = store_row_int(row, 4);
    if (!store_row_copy(row, 3, a.reason, sizeof a.reason) || !store_row_copy(row, 5, a.name, sizeof a.name) ||
        !store_row_copy(row, 6, a.department, sizeof a.department) ||
        !store_row_copy(row, 7, a.avatar, sizeof a.avatar) ||
        !store_row_copy(row, 11, a.checkin_reason, sizeof a.checkin_reason))
        return STORE_ERROR;
    a.checkin_at = store_row_int(row, 8);
    a.checkin_late = store_row_int(row, 9) != 0;
    a.checkin_by = store_row_int(row, 10);
    return w->fn(&a, w->ctx);
}

store_rc store_meeting_attendees(store_t *store, int64_t id, store_attendee_fn fn, void *ctx)
{
    attendee_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_ATTENDEES, ARGS(store_arg_int(id)), 1, walk_attendee, &w, NULL);
}

static const store_sql_t SQL_PLACE = {
    .op = "meeting_place",
    .sqlite = "SELECT coalesce((SELECT role FROM oa_attendee WHERE meeting_id = ? AND user_id = ?), -1),"
              " (SELECT count(*) FROM oa_attendee WHERE meeting_id = ? AND checkin_at <> 0)",
};

typedef struct place_read {
    int *role;
    int64_t *present;
} place_read_t;

static store_rc read_place(const store_row_t *row, void *ctx)
{
    place_read_t *p = ctx;
    *p->role = (int)store_row_int(row, 0);
    *p->present = store_row_int(row, 1);
    return STORE_OK;
}

store_rc store_meeting_place(store_t *store, int64_t id, int64_t user_id, int *role, int64_t *present)
{
    place_read_t p = {role, present};
    *role = -1;
    *present = 0;
    return store_sql_exec(store, &SQL_PLACE, ARGS(store_arg_int(id), store_arg_int(user_id), store_arg_int(id)), 3,
                          read_place, &p, NULL);
}

static const store_sql_t SQL_HISTORY = {
    .op = "meeting_history",
    .sqlite = "SELECT l.user_id, l.from_state, l.to_state, l.reason, l.created_at, coalesce(m.name, '')"
              " FROM oa_meeting_log l LEFT JOIN oa_member m ON m.user_id = l.user_id"
              " WHERE l.meeting_id = ? ORDER BY l.id",
};

typedef struct log_walk {
    store_meeting_log_fn fn;
    void *ctx;
} log_walk_t;

static store_rc walk_log(const store_row_t *row, void *ctx)
{
    log_walk_t *w = ctx;
    store_meeting_log_t l;
    memset(&l, 0, sizeof l);
    l.user_id = store_row_int(row, 0);
    l.from_state = (int)store_row_int(row, 1);
    l.to_state = (int)store_row_int(row, 2);
    l.created_at = store_row_int(row, 4);
    if (!store_row_copy(row, 3, l.reason, sizeof l.reason) || !store_row_copy(row, 5, l.user_name, sizeof l.user_name))
        return STORE_ERROR;
    return w->fn(&l, w->ctx);
}

store_rc store_meeting_history(store_t *store, int64_t id, store_meeting_log_fn fn, void *ctx)
{
    log_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_HISTORY, ARGS(store_arg_int(id)), 1, walk_log, &w, NULL);
}

/* ---- sign-in ---- */

static const store_sql_t SQL_CHECKIN_CODE_SET = {
    .op = "checkin_code_set",
    .sqlite = "UPDATE oa_meeting SET checkin_code = ? WHERE id = ? AND checkin_code IS NULL",
};
static const store_sql_t SQL_CHECKIN_CODE_GET = {
    .op = "checkin_code_get",
    .sqlite = "SELECT coalesce(checkin_code, '') FROM oa_meeting WHERE id = ?",
};

typedef struct text_out {
    char *dst;
    size_t size;
} text_out_t;

static store_rc read_text(const store_row_t *row, void *ctx)
{
    text_out_t *t = ctx;
    return store_row_copy(row, 0, t->dst, t->size) ? STORE_OK : STORE_ERROR;
}

store_rc store_meeting_checkin_code(store_t *store, int64_t id, const char *candidate,
                                    char out[STORE_CHECKIN_CODE_SIZE])
{
    out[0] = '\0';
    store_rc rc = EXEC(&SQL_CHECKIN_CODE_SET, store_arg_text(candidate), store_arg_int(id));
    if (rc != STORE_OK)
        return rc;
    text_out_t t = {out, STORE_CHECKIN_CODE_SIZE};
    rc = store_sql_row(store, &SQL_CHECKIN_CODE_GET, ARGS(store_arg_int(id)), 1, read_text, &t);
    if (rc == STORE_OK && out[0] == '\0')
        return STORE_ERROR;
    return rc;
}

static const store_sql_t SQL_MEETING_BY_CODE = {
    .op = "meeting_by_checkin_code",
    .sqlite = "SELECT " MEETING_COLS " FROM oa_meeting m WHERE m.checkin_code = ?",
};

store_rc store_meeting_by_checkin_code(store_t *store, const char *code, store_meeting_t *out)
{
    memset(out, 0, sizeof *out);
    return store_sql_row(store, &SQL_MEETING_BY_CODE, ARGS(store_arg_text(code)), 1, read_meeting_row, out);
}

static const store_sql_t SQL_CHECKIN_LOCK = {
    .op = "checkin_lock",
    .sqlite = "SELECT m_state, checkin_at, checkin_late FROM oa_attendee WHERE meeting_id = ? AND user_id = ?",
    .mysql = "SELECT m_state, checkin_at, checkin_late FROM oa_attendee WHERE meeting_id = ? AND user_id = ?"
             " FOR UPDATE",
};
static const store_sql_t SQL_CHECKIN_SET = {
    .op = "checkin_set",
    .sqlite = "UPDATE oa_attendee SET checkin_at = ?, checkin_late = ?, checkin_by = ?, checkin_reason = ?"
              " WHERE meeting_id = ? AND user_id = ?",
};

typedef struct checkin_txn {
    int64_t id, user_id, now, by;
    bool late;
    const char *reason;
    int64_t *at;
    bool *late_out, *already;
    store_refusal_t *why;
} checkin_txn_t;

typedef struct checkin_row {
    bool found;
    int m_state;
    int64_t at;
    bool late;
} checkin_row_t;

static store_rc read_checkin_row(const store_row_t *row, void *ctx)
{
    checkin_row_t *c = ctx;
    c->found = true;
    c->m_state = (int)store_row_int(row, 0);
    c->at = store_row_int(row, 1);
    c->late = store_row_int(row, 2) != 0;
    return STORE_OK;
}

static store_rc checkin_fn(store_t *store, void *arg)
{
    checkin_txn_t *t = arg;
    checkin_row_t c = {0};
    *t->already = false;
    store_rc rc = store_sql_exec(store, &SQL_CHECKIN_LOCK, ARGS(store_arg_int(t->id), store_arg_int(t->user_id)), 2,
                                 read_checkin_row, &c, NULL);
    if (rc != STORE_OK)
        return rc;
    if (!c.found)
        return STORE_NOT_FOUND;
    if (c.m_state != STORE_MEETING_APPROVED) {
        *t->why = STORE_REFUSED_STATE;
        return STORE_SQL_REFUSED;
    }
    if (c.at != 0) {
        *t->already = true;
        *t->at = c.at;
        *t->late_out = c.late;
        return STORE_OK;
    }
    rc = EXEC(&SQL_CHECKIN_SET, store_arg_int(t->now), store_arg_int(t->late), id_or_null(t->by),
              store_arg_text(t->reason != NULL ? t->reason : ""), store_arg_int(t->id), store_arg_int(t->user_id));
    if (rc == STORE_OK) {
        *t->at = t->now;
        *t->late_out = t->late;
    }
    return rc;
}

store_rc store_meeting_checkin(store_t *store, int64_t id, int64_t user_id, int64_t now, bool late, int64_t by,
                               const char *reason, int64_t *at, bool *late_out, bool *already, store_refusal_t *why)
{
    checkin_txn_t t = {id, user_id, now, by, late, reason, at, late_out, already, why};
    return store_sql_refusable(store, "meeting_checkin", checkin_fn, &t, why);
}

/* ---- lists ---- */

/* The columns of a list item: the meeting, its room and host names, the caller's attendee row. */
#define ITEM_COLS                                                                                                      \
    "m.id, m.host_id, m.room_id, m.approver_id, m.title, m.state, m.start_at, m.end_at, m.attendee_count,"             \
    " coalesce(r.name, ''), m.location, coalesce(hm.name, ''), coalesce(a.role, -1), coalesce(a.answer, 0)"
#define ITEM_JOINS                                                                                                     \
    " JOIN oa_meeting m ON m.id = a.meeting_id LEFT JOIN oa_room r ON r.id = m.room_id"                                \
    " LEFT JOIN oa_member hm ON hm.user_id = m.host_id"
#define ITEM_FROM_ATTENDEE " FROM oa_attendee a" ITEM_JOINS

/* Each attendee view: its filter on the caller's oa_attendee rows, and its order. */
#define UPCOMING_WHERE " WHERE a.user_id = ? AND a.m_state = 4 AND a.m_start > ? AND a.m_end > ?"
#define NOTICE_WHERE   UPCOMING_WHERE " AND a.role IN (1, 2) AND a.answer = 0"
#define HISTORY_WHERE  " WHERE a.user_id = ? AND (a.m_state = 7 OR (a.m_state = 4 AND a.m_end <= ?))"
#define ALL_WHERE      " WHERE a.user_id = ? AND a.m_visible = 1"
#define MINE_WHERE     " WHERE a.user_id = ? AND a.role = 0"
#define PAGE           " LIMIT ? OFFSET ?"
/* Soonest first, in the order of the index oa_attendee_user_state (no sort). */
#define SOONEST " ORDER BY a.m_start, a.m_end, a.meeting_id"

static const store_sql_t SQL_LIST_UPCOMING = {
    .op = "meeting_list_upcoming",
    .sqlite = "SELECT " ITEM_COLS ITEM_FROM_ATTENDEE UPCOMING_WHERE SOONEST PAGE,
};
/* The count of upcoming and notice, with the first end among them (the page's clock bound). */
static const store_sql_t SQL_COUNT_UPCOMING = {
    .op = "meeting_count_upcoming",
    .sqlite = "SELECT count(*), coalesce(min(a.m_end), 0) FROM oa_attendee a" UPCOMING_WHERE,
};
static const store_sql_t SQL_LIST_NOTICE = {
    .op = "meeting_list_notice",
    .sqlite = "SELECT " ITEM_COLS ITEM_FROM_ATTENDEE NOTICE_WHERE SOONEST PAGE,
};
static const store_sql_t SQL_COUNT_NOTICE = {
    .op = "meeting_count_notice",
    .sqlite = "SELECT count(*), coalesce(min(a.m_end), 0) FROM oa_attendee a" NOTICE_WHERE,
};
static const store_sql_t SQL_LIST_HISTORY = {
    .op = "meeting_list_history",
    .sqlite = "SELECT " ITEM_COLS ITEM_FROM_ATTENDEE HISTORY_WHERE " ORDER BY a.m_start DESC, a.meeting_id DESC" PAGE,
};
static const store_sql_t SQL_COUNT_HISTORY = {
    .op = "meeting_count_history",
    .sqlite = "SELECT count(*) FROM oa_attendee a" HISTORY_WHERE,
};
static const store_sql_t SQL_LIST_ALL = {
    .op = "meeting_list_all",
    .sqlite = "SELECT " ITEM_COLS ITEM_FROM_ATTENDEE ALL_WHERE " ORDER BY a.m_start DESC, a.meeting_id DESC" PAGE,
};
static const store_sql_t SQL_COUNT_ALL = {
    .op = "meeting_count_all",
    .sqlite = "SELECT count(*) FROM oa_attendee a" ALL_WHERE,
};
static const store_sql_t SQL_LIST_MINE = {
    .op = "meeting_list_mine",
    .sqlite = "SELECT " ITEM_COLS ITEM_FROM_ATTENDEE MINE_WHERE " ORDER BY a.m_start DESC, a.meeting_id DESC" PAGE,
};
static const store_sql_t SQL_COUNT_MINE = {
    .op = "meeting_count_mine",
    .sqlite = "SELECT count(*) FROM oa_attendee a" MINE_WHERE,
};
/* approval: from oa_meeting, the caller's attendee row (if any) joined. */
#define APPROVAL_FROM                                                                                                  \
    " FROM oa_meeting m LEFT JOIN oa_attendee a ON a.meeting_id = m.id AND a.user_id = ?"                              \
    " LEFT JOIN oa_room r ON r.id = m.room_id LEFT JOIN oa_member hm ON hm.user_id = m.host_id"
static const store_sql_t SQL_LIST_APPROVAL_ADMIN = {
    .op = "meeting_list_approval_admin",
    .sqlite = "SELECT " ITEM_COLS APPROVAL_FROM " WHERE m.state = 2 ORDER BY m.start_at, m.id" PAGE,
};
static const store_sql_t SQL_COUNT_APPROVAL_ADMIN = {
    .op = "meeting_count_approval_admin",
    .sqlite = "SELECT count(*) FROM oa_meeting WHERE state = 2",
};
static const store_sql_t SQL_LIST_APPROVAL = {
    .op = "meeting_list_approval",
    .sqlite =
        "SELECT " ITEM_COLS APPROVAL_FROM " WHERE m.approver_id = ? AND m.state = 2 ORDER BY m.start_at, m.id" PAGE,
};
static const store_sql_t SQL_COUNT_APPROVAL = {
    .op = "meeting_count_approval",
    .sqlite = "SELECT count(*) FROM oa_meeting WHERE approver_id = ? AND state = 2",
};

typedef struct item_walk {
    store_meeting_item_fn fn;
    void *ctx;
    int64_t now, first_start; /* the first start after now among the items (0 = none) */
} item_walk_t;

static store_rc walk_item(const store_row_t *row, void *ctx)
{
    item_walk_t *w = ctx;
    store_meeting_item_t it;
    memset(&it, 0, sizeof it);
    it.id = store_row_int(row, 0);
    it.host_id = store_row_int(row, 1);
    it.room_id = store_row_int(row, 2);
    it.approver_id = store_row_int(row, 3);
    it.state = (int)store_row_int(row, 5);
    it.start_at = store_row_int(row, 6);
    it.end_at = store_row_int(row, 7);
    it.attendee_count = store_row_int(row, 8);
    it.my_role = (int)store_row_int(row, 12);
    it.my_answer = (int)store_row_int(row, 13);
    if (!store_row_copy(row, 4, it.title, sizeof it.title) ||
        !store_row_copy(row, 9, it.room_name, sizeof it.room_name) ||
        !store_row_copy(row, 10, it.location, sizeof it.location) ||
        !store_row_copy(row, 11, it.host_name, sizeof it.host_name))
        return STORE_ERROR;
    if (it.start_at > w->now && (w->first_start == 0 || it.start_at < w->first_start))
        w->first_start = it.start_at;
    return w->fn(&it, w->ctx);
}

typedef struct count_row {
    int64_t total, first_end;
} count_row_t;

static store_rc read_count_row(const store_row_t *row, void *ctx)
{
    count_row_t *c = ctx;
    c->total = store_row_int(row, 0);
    c->first_end = store_row_int(row, 1);
    return STORE_OK;
}

store_rc store_meeting_list(store_t *store, const store_meeting_query_t *q, store_meeting_item_fn fn, void *ctx,
                            store_meeting_page_t *out)
{
    const store_sql_t *list = NULL, *count = NULL;
    store_arg_t args[6];
    size_t nargs = 0, ncount = 0;
    bool soonest = false;                               /* upcoming or notice: the count gives the first end too */
    int64_t since = q->now - STORE_MEETING_MAX_SECONDS; /* a meeting lasts at most a day: bounds the range */
    memset(out, 0, sizeof *out);
    switch (q->view) {
    case STORE_VIEW_UPCOMING:
    case STORE_VIEW_NOTICE:
        list = q->view == STORE_VIEW_UPCOMING ? &SQL_LIST_UPCOMING : &SQL_LIST_NOTICE;
        count = q->view == STORE_VIEW_UPCOMING ? &SQL_COUNT_UPCOMING : &SQL_COUNT_NOTICE;
        soonest = true;
        args[nargs++] = store_arg_int(q->user_id);
        args[nargs++] = store_arg_int(since);
        args[nargs++] = store_arg_int(q->now);
        break;
    case STORE_VIEW_HISTORY:
        list = &SQL_LIST_HISTORY;
        count = &SQL_COUNT_HISTORY;
        args[nargs++] = store_arg_int(q->user_id);
        args[nargs++] = store_arg_int(q->now);
        break;
    case STORE_VIEW_ALL:
    case STORE_VIEW_MINE:
        list = q->view == STORE_VIEW_ALL ? &SQL_LIST_ALL : &SQL_LIST_MINE;
        count = q->view == STORE_VIEW_ALL ? &SQL_COUNT_ALL : &SQL_COUNT_MINE;
        args[nargs++] = store_arg_int(q->user_id);
        break;
    case STORE_VIEW_APPROVAL:
        list = q->is_admin ? &SQL_LIST_APPROVAL_ADMIN : &SQL_LIST_APPROVAL;
        count = q->is_admin ? &SQL_COUNT_APPROVAL_ADMIN : &SQL_COUNT_APPROVAL;
        args[nargs++] = store_arg_int(q->user_id); /* the attendee join */
        if (!q->is_admin)
            args[nargs++] = store_arg_int(q->user_id);
        break;
    }
    if (list == NULL)
        return STORE_NOT_FOUND;
    /* The count takes the same filter args (approval: without the join's). */
    ncount = nargs;
    const store_arg_t *count_args = args;
    if (q->view == STORE_VIEW_APPROVAL) {
        count_args = args + 1;
        ncount = nargs - 1;
    }
    count_row_t c = {0};
    store_rc rc = soonest ? store_sql_row(store, count, count_args, ncount, read_count_row, &c)
                          : store_sql_int(store, count, count_args, ncount, &c.total);
    if (rc != STORE_OK)
        return rc;
    out->total = c.total;
    args[nargs++] = store_arg_int(q->limit);
    args[nargs++] = store_arg_int(q->offset);
    item_walk_t w = {fn, ctx, q->now, 0};
    rc = store_sql_exec(store, list, args, nargs, walk_item, &w, NULL);
    if (rc == STORE_OK && soonest) {
        /* Nothing but a write (which bumps list_gen) changes these pages before a counted
         * meeting ends (it leaves them, the later pages move up) or an item starts (its
         * shown state becomes 5). */
        int64_t at = c.first_end != 0 ? c.first_end : STORE_MEETING_PAGE_STEADY;
        if (w.first_start != 0 && w.first_start < at)
            at = w.first_start;
        out->clock_bound = at;
    }
    return rc;
}
