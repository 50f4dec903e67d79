/* store_notify — see store_notify.h. */
#include "store/store_notify.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_sql.h"

#define ARGS           STORE_ARGS
#define NARGS          STORE_NARGS
#define EXEC(sql, ...) store_sql_exec(store, (sql), ARGS(__VA_ARGS__), NARGS(__VA_ARGS__), NULL, NULL, NULL)

#define QUOTA_MAX 1000

/* ---- queueing, inside a meeting's transition ---- */

/* Rows for the meeting's attendees of the roles in (?, ?), due at ?. */
static const store_sql_t SQL_QUEUE_ATTENDEES = {
    .op = "reminder_queue",
    .sqlite = "INSERT INTO oa_reminder (meeting_id, user_id, kind, due_at, result, reason, template_id, created_at)"
              " SELECT meeting_id, user_id, ?, ?, ?, ?, ?, ? FROM oa_attendee WHERE meeting_id = ? AND role IN (?, ?)"
              " ORDER BY user_id",
};
static const store_sql_t SQL_DROP_PENDING = {
    .op = "reminder_drop",
    .sqlite = "UPDATE oa_reminder SET state = 5, done_at = ? WHERE meeting_id = ? AND state = 0",
};
static const store_sql_t SQL_MEETING_TIMES = {
    .op = "reminder_meeting",
    .sqlite = "SELECT start_at, remind_minutes FROM oa_meeting WHERE id = ?",
};

static store_rc read_times(const store_row_t *row, void *ctx)
{
    int64_t *v = ctx;
    v[0] = store_row_int(row, 0);
    v[1] = store_row_int(row, 1);
    return STORE_OK;
}

static bool configured(const store_remind_plan_t *plan, int kind)
{
    return plan != NULL && plan->templates[kind] != NULL && plan->templates[kind][0] != '\0';
}

/* Queues kind for the roles lo..hi (STORE_ATTENDEE_*) of the meeting, due at due. */
static store_rc queue(store_t *store, const store_remind_plan_t *plan, int kind, int64_t meeting_id, int role_a,
                      int role_b, int64_t due, const char *result, const char *reason, int64_t now)
{
    if (!configured(plan, kind))
        return STORE_OK;
    return EXEC(&SQL_QUEUE_ATTENDEES, store_arg_int(kind), store_arg_int(due), store_arg_text(result),
                store_arg_text(reason != NULL ? reason : ""), store_arg_text(plan->templates[kind]), store_arg_int(now),
                store_arg_int(meeting_id), store_arg_int(role_a), store_arg_int(role_b));
}

store_rc store_notify_queue_txn(store_t *store, const store_remind_plan_t *plan, int64_t meeting_id, int from_state,
                                int to_state, const char *reason, int64_t now)
{
    const int host = STORE_ATTENDEE_HOST, part = STORE_ATTENDEE_PARTICIPANT, obs = STORE_ATTENDEE_OBSERVER;
    store_rc rc = STORE_OK;
    if (to_state == STORE_MEETING_APPROVED) {
        rc = queue(store, plan, STORE_REMIND_INVITATION, meeting_id, part, obs, now, "会议邀请", "", now);
        if (rc == STORE_OK)
            rc = queue(store, plan, STORE_REMIND_APPROVAL, meeting_id, host, host, now, "已通过", reason, now);
        int64_t t[2] = {0, 0};
        if (rc == STORE_OK && configured(plan, STORE_REMIND_STARTING))
            rc = store_sql_row(store, &SQL_MEETING_TIMES, ARGS(store_arg_int(meeting_id)), 1, read_times, t);
        if (rc == STORE_OK && t[1] > 0 && t[0] > now) {
            int64_t due = t[0] - t[1] * 60 > now ? t[0] - t[1] * 60 : now;
            rc = queue(store, plan, STORE_REMIND_STARTING, meeting_id, host, part, due, "即将开始", "", now);
            if (rc == STORE_OK)
                rc = queue(store, plan, STORE_REMIND_STARTING, meeting_id, obs, obs, due, "即将开始", "", now);
        }
    } else if (to_state == STORE_MEETING_REJECTED) {
        rc = queue(store, plan, STORE_REMIND_APPROVAL, meeting_id, host, host, now, "已驳回", reason, now);
    } else if (to_state == STORE_MEETING_CANCELLED && from_state == STORE_MEETING_APPROVED) {
        rc = EXEC(&SQL_DROP_PENDING, store_arg_int(now), store_arg_int(meeting_id));
        if (rc == STORE_OK)
            rc = queue(store, plan, STORE_REMIND_CHANGED, meeting_id, part, obs, now, "已取消", reason, now);
    }
    return rc;
}

/* ---- claiming ---- */

static const store_sql_t SQL_INTERRUPTED = {
    .op = "reminder_interrupted",
    .sqlite = "UPDATE oa_reminder SET state = 3, errcode = ?, done_at = ? WHERE state = 1 AND claimed_at < ?",
};
static const store_sql_t SQL_DUE = {
    .op = "reminder_due",
    .sqlite = "SELECT id, user_id, template_id FROM oa_reminder WHERE state = 0 AND due_at <= ?"
              " ORDER BY due_at, id LIMIT ?",
    .mysql = "SELECT id, user_id, template_id FROM oa_reminder WHERE state = 0 AND due_at <= ?"
             " ORDER BY due_at, id LIMIT ? FOR UPDATE",
};
static const store_sql_t SQL_TAKE_QUOTA = {
    .op = "reminder_take_quota",
    .sqlite = "UPDATE oa_subscribe_quota SET quota = quota - 1, updated_at = ?"
              " WHERE user_id = ? AND template_id = ? AND quota > 0",
};
static const store_sql_t SQL_CLAIM = {
    .op = "reminder_claim",
    .sqlite = "UPDATE oa_reminder SET state = 1, claimed_by = ?, claimed_at = ? WHERE id = ? AND state = 0",
};
static const store_sql_t SQL_END = {
    .op = "reminder_end",
    .sqlite = "UPDATE oa_reminder SET state = ?, errcode = ?, done_at = ? WHERE id = ?",
};
static const store_sql_t SQL_DETAIL = {
    .op = "reminder_detail",
    .sqlite = "SELECT r.id, r.meeting_id, r.user_id, r.kind, r.template_id, coalesce(u.weixin_openid, ''), r.result,"
              " r.reason, m.title, coalesce(rm.name, m.location), coalesce(h.name, ''), m.start_at, m.end_at,"
              " coalesce(a.answer, 0), coalesce(u.deleted, 0)"
              " FROM oa_reminder r JOIN oa_meeting m ON m.id = r.meeting_id"
              " LEFT JOIN wx_user u ON u.id = r.user_id"
              " LEFT JOIN oa_room rm ON rm.id = m.room_id"
              " LEFT JOIN oa_member h ON h.user_id = m.host_id"
              " LEFT JOIN oa_attendee a ON a.meeting_id = r.meeting_id AND a.user_id = r.user_id"
              " WHERE r.id = ?",
};

typedef struct due_row {
    int64_t id, user_id;
    char template_id[STORE_TEMPLATE_ID_SIZE];
} due_row_t;

typedef struct claim_txn {
    const char *claimer;
    int64_t now;
    int limit;
    due_row_t *due;
    int ndue;
    /* out: the claimed rows' details */
    store_reminder_t *got;
    int ngot;
} claim_txn_t;

static store_rc read_due(const store_row_t *row, void *ctx)
{
    claim_txn_t *x = ctx;
    if (x->ndue >= x->limit)
        return STORE_OK;
    due_row_t *d = &x->due[x->ndue];
    d->id = store_row_int(row, 0);
    d->user_id = store_row_int(row, 1);
    if (!store_row_copy(row, 2, d->template_id, sizeof d->template_id))
        return STORE_ERROR;
    x->ndue++;
    return STORE_OK;
}

typedef struct detail {
    store_reminder_t r;
    int answer;
    bool deleted;
} detail_t;

static store_rc read_detail(const store_row_t *row, void *ctx)
{
    detail_t *d = ctx;
    store_reminder_t *r = &d->r;
    memset(d, 0, sizeof *d);
    r->id = store_row_int(row, 0);
    r->meeting_id = store_row_int(row, 1);
    r->user_id = store_row_int(row, 2);
    r->kind = (int)store_row_int(row, 3);
    if (!store_row_copy(row, 4, r->template_id, sizeof r->template_id) ||
        !store_row_copy(row, 5, r->openid, sizeof r->openid) || !store_row_copy(row, 6, r->result, sizeof r->result) ||
        !store_row_copy(row, 7, r->reason, sizeof r->reason) || !store_row_copy(row, 8, r->title, sizeof r->title) ||
        !store_row_copy(row, 9, r->place, sizeof r->place) ||
        !store_row_copy(row, 10, r->host_name, sizeof r->host_name))
        return STORE_ERROR;
    r->start_at = store_row_int(row, 11);
    r->end_at = store_row_int(row, 12);
    d->answer = (int)store_row_int(row, 13);
    d->deleted = store_row_int(row, 14) != 0;
    return STORE_OK;
}

static store_rc end_reminder(store_t *store, int64_t id, int state, long errcode, int64_t now)
{
    return EXEC(&SQL_END, store_arg_int(state), store_arg_int(errcode), store_arg_int(now), store_arg_int(id));
}

static store_rc claim_fn(store_t *store, void *arg)
{
    claim_txn_t *x = arg;
    x->ndue = 0;
    x->ngot = 0;
    store_rc rc =
        store_sql_exec(store, &SQL_DUE, ARGS(store_arg_int(x->now), store_arg_int(x->limit)), 2, read_due, x, NULL);
    for (int i = 0; rc == STORE_OK && i < x->ndue; i++) {
        const due_row_t *d = &x->due[i];
        detail_t det;
        rc = store_sql_row(store, &SQL_DETAIL, ARGS(store_arg_int(d->id)), 1, read_detail, &det);
        if (rc != STORE_OK)
            break;
        long skip = 0;
        if (det.deleted || det.r.openid[0] == '\0')
            skip = STORE_REMIND_ERR_NO_OPENID;
        else if (det.r.kind == STORE_REMIND_STARTING && det.answer == STORE_ANSWER_DECLINE)
            skip = STORE_REMIND_ERR_DECLINED;
        if (skip == 0) {
            store_sql_result_t took = {0};
            rc = store_sql_exec(store, &SQL_TAKE_QUOTA,
                                ARGS(store_arg_int(x->now), store_arg_int(d->user_id), store_arg_text(d->template_id)),
                                3, NULL, NULL, &took);
            if (rc != STORE_OK)
                break;
            if (took.changes != 1)
                skip = 43101; /* what WeChat would answer: no subscription left */
        }
        if (skip != 0) {
            rc = end_reminder(store, d->id, STORE_REMIND_SKIPPED, skip, x->now);
            continue;
        }
        store_sql_result_t claimed = {0};
        rc = store_sql_exec(store, &SQL_CLAIM,
                            ARGS(store_arg_text(x->claimer), store_arg_int(x->now), store_arg_int(d->id)), 3, NULL,
                            NULL, &claimed);
        if (rc == STORE_OK && claimed.changes != 1)
            rc = STORE_CONFLICT; /* another process claimed it after we read it: roll back, try later */
        if (rc == STORE_OK)
            x->got[x->ngot++] = det.r;
    }
    return rc;
}

store_rc store_notify_interrupted(store_t *store, int64_t stale_before, int64_t now, int64_t *ended)
{
    store_sql_result_t r = {0};
    store_rc rc = store_sql_exec(
        store, &SQL_INTERRUPTED,
        ARGS(store_arg_int(STORE_REMIND_ERR_INTERRUPTED), store_arg_int(now), store_arg_int(stale_before)), 3, NULL,
        NULL, &r);
    *ended = rc == STORE_OK ? r.changes : 0;
    return rc;
}

store_rc store_notify_claim(store_t *store, const char *claimer, int64_t now, int limit, store_reminder_fn fn,
                            void *ctx, int *claimed)
{
    *claimed = 0;
    if (limit <= 0)
        return STORE_OK;
    claim_txn_t x = {claimer, now,
                     limit,   calloc((size_t)limit, sizeof(due_row_t)),
                     0,       calloc((size_t)limit, sizeof(store_reminder_t)),
                     0};
    store_rc rc = STORE_ERROR;
    if (x.due != NULL && x.got != NULL)
        rc = store_sql_transaction(store, "reminder_claim", claim_fn, &x);
    for (int i = 0; rc == STORE_OK && i < x.ngot; i++) {
        (*claimed)++;
        rc = fn(&x.got[i], ctx);
    }
    free(x.due);
    free(x.got);
    return rc;
}

/* ---- outcomes and quotas ---- */

static const store_sql_t SQL_RECORD = {
    .op = "reminder_record",
    .sqlite = "UPDATE oa_reminder SET state = ?, msgid = ?, errcode = ?, done_at = ? WHERE id = ? AND state = 1",
};
static const store_sql_t SQL_QUOTA_ZERO = {
    .op = "quota_zero",
    .sqlite = "UPDATE oa_subscribe_quota SET quota = 0, updated_at = ? WHERE user_id = ? AND template_id = ?",
};
static const store_sql_t SQL_QUOTA_ADD = {
    .op = "quota_add",
    .sqlite = "INSERT INTO oa_subscribe_quota (user_id, template_id, quota, updated_at) VALUES (?, ?, ?, ?)"
              " ON CONFLICT (user_id, template_id) DO UPDATE SET"
              " quota = min(oa_subscribe_quota.quota + excluded.quota, 1000), updated_at = excluded.updated_at",
    .mysql = "INSERT INTO oa_subscribe_quota (user_id, template_id, quota, updated_at) VALUES (?, ?, ?, ?)"
             " ON DUPLICATE KEY UPDATE quota = LEAST(quota + VALUES(quota), 1000), updated_at = VALUES(updated_at)",
};

typedef struct record_txn {
    int64_t id, user_id, msgid, now;
    const char *template_id;
    bool sent, give_back;
    long errcode;
} record_txn_t;

static store_rc record_fn(store_t *store, void *arg)
{
    record_txn_t *x = arg;
    store_rc rc = EXEC(&SQL_RECORD, store_arg_int(x->sent ? STORE_REMIND_SENT : STORE_REMIND_FAILED),
                       store_arg_int(x->msgid), store_arg_int(x->errcode), store_arg_int(x->now), store_arg_int(x->id));
    if (rc == STORE_OK && !x->sent && x->errcode == 43101)
        rc = EXEC(&SQL_QUOTA_ZERO, store_arg_int(x->now), store_arg_int(x->user_id), store_arg_text(x->template_id));
    else if (rc == STORE_OK && !x->sent && x->give_back)
        rc = EXEC(&SQL_QUOTA_ADD, store_arg_int(x->user_id), store_arg_text(x->template_id), store_arg_int(1),
                  store_arg_int(x->now));
    return rc;
}

store_rc store_notify_record(store_t *store, int64_t id, int64_t user_id, const char *template_id, bool sent,
                             int64_t msgid, long errcode, bool give_back, int64_t now)
{
    record_txn_t x = {id, user_id, msgid, now, template_id, sent, give_back, errcode};
    return store_sql_transaction(store, "reminder_record", record_fn, &x);
}

static const store_sql_t SQL_QUOTA_LOCK = {
    .op = "quota_lock",
    .sqlite = "SELECT quota, unpaired, unpaired_at FROM oa_subscribe_quota WHERE user_id = ? AND template_id = ?",
    .mysql = "SELECT quota, unpaired, unpaired_at FROM oa_subscribe_quota WHERE user_id = ? AND template_id = ?"
             " FOR UPDATE",
};
static const store_sql_t SQL_QUOTA_PUT = {
    .op = "quota_put",
    .sqlite = "INSERT INTO oa_subscribe_quota (user_id, template_id, quota, unpaired, unpaired_at, updated_at)"
              " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, template_id) DO UPDATE SET quota = excluded.quota,"
              " unpaired = excluded.unpaired, unpaired_at = excluded.unpaired_at, updated_at = excluded.updated_at",
    .mysql = "INSERT INTO oa_subscribe_quota (user_id, template_id, quota, unpaired, unpaired_at, updated_at)"
             " VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE quota = VALUES(quota), unpaired = VALUES(unpaired),"
             " unpaired_at = VALUES(unpaired_at), updated_at = VALUES(updated_at)",
};

typedef struct grant_txn {
    int64_t user_id, now;
    const char *template_id;
    int n, road;
    int64_t *quota;
} grant_txn_t;

static store_rc read_quota_row(const store_row_t *row, void *ctx)
{
    int64_t *v = ctx;
    for (int i = 0; i < 3; i++)
        v[i] = store_row_int(row, i);
    return STORE_OK;
}

static store_rc grant_fn(store_t *store, void *arg)
{
    grant_txn_t *x = arg;
    int64_t v[3] = {0, 0, 0}; /* quota, unpaired, unpaired_at */
    store_rc rc = store_sql_row(store, &SQL_QUOTA_LOCK, ARGS(store_arg_int(x->user_id), store_arg_text(x->template_id)),
                                2, read_quota_row, v);
    if (rc == STORE_NOT_FOUND)
        rc = STORE_OK;
    *x->quota = v[0];
    if (rc != STORE_OK || x->n <= 0)
        return rc;
    /* unpaired > 0: accepts reported and not pushed yet; < 0 the other way; stale past the window */
    int64_t unpaired = v[2] >= x->now - STORE_GRANT_PAIR_SECONDS ? v[1] : 0;
    int64_t waiting = -unpaired * x->road > 0 ? -unpaired * x->road : 0; /* accepts of the other road */
    int64_t pairs = x->n < waiting ? x->n : waiting, fresh = x->n - pairs;
    unpaired += x->road * (pairs + fresh);
    int64_t quota = v[0] + fresh > QUOTA_MAX ? QUOTA_MAX : v[0] + fresh;
    if (unpaired > QUOTA_MAX || unpaired < -QUOTA_MAX)
        unpaired = unpaired > 0 ? QUOTA_MAX : -QUOTA_MAX;
    /* the window runs from the latest accept left unpaired; a pairing does not extend it */
    int64_t unpaired_at = fresh > 0 ? x->now : v[2];
    rc = EXEC(&SQL_QUOTA_PUT, store_arg_int(x->user_id), store_arg_text(x->template_id), store_arg_int(quota),
              store_arg_int(unpaired), store_arg_int(unpaired_at), store_arg_int(x->now));
    if (rc == STORE_OK)
        *x->quota = quota;
    return rc;
}

store_rc store_notify_grant(store_t *store, int64_t user_id, const char *template_id, int n, store_grant_road_t road,
                            int64_t now, int64_t *quota)
{
    grant_txn_t x = {user_id, now, template_id, n > QUOTA_MAX ? QUOTA_MAX : n, road == STORE_GRANT_PUSH ? -1 : 1,
                     quota};
    return store_sql_transaction(store, "quota_grant", grant_fn, &x);
}

store_rc store_notify_refused(store_t *store, int64_t user_id, const char *template_id, int64_t now)
{
    return EXEC(&SQL_QUOTA_ZERO, store_arg_int(now), store_arg_int(user_id), store_arg_text(template_id));
}

static const store_sql_t SQL_DELIVERY = {
    .op = "reminder_delivery",
    .sqlite = "UPDATE oa_reminder SET state = 3, errcode = ?, done_at = ? WHERE msgid = ? AND state = 2",
};
static const store_sql_t SQL_SENT_WITH = {
    .op = "reminder_by_msgid",
    .sqlite = "SELECT count(*) FROM oa_reminder WHERE msgid = ? AND state IN (2, 3)",
};

store_rc store_notify_delivery(store_t *store, int64_t msgid, long errcode, int64_t now, bool *found)
{
    *found = false;
    if (msgid == 0)
        return STORE_OK;
    int64_t n = 0;
    store_rc rc = STORE_OK;
    if (errcode != 0) {
        store_sql_result_t r = {0, 0};
        rc = store_sql_exec(store, &SQL_DELIVERY,
                            ARGS(store_arg_int(errcode), store_arg_int(now), store_arg_int(msgid)), 3, NULL, NULL, &r);
        n = r.changes;
    }
    if (rc == STORE_OK && n == 0)
        rc = store_sql_int(store, &SQL_SENT_WITH, ARGS(store_arg_int(msgid)), 1, &n);
    *found = rc == STORE_OK && n > 0;
    return rc;
}

static const store_sql_t SQL_OF_MEETING = {
    .op = "reminders_of_meeting",
    .sqlite = "SELECT r.id, r.user_id, r.kind, r.state, coalesce(m.name, ''), r.due_at, r.done_at, r.msgid, r.errcode"
              " FROM oa_reminder r LEFT JOIN oa_member m ON m.user_id = r.user_id WHERE r.meeting_id = ?"
              " ORDER BY r.id",
};

typedef struct of_meeting {
    store_reminder_row_fn fn;
    void *ctx;
} of_meeting_t;

static store_rc read_of_meeting(const store_row_t *row, void *ctx)
{
    of_meeting_t *w = ctx;
    store_reminder_row_t r;
    memset(&r, 0, sizeof r);
    r.id = store_row_int(row, 0);
    r.user_id = store_row_int(row, 1);
    r.kind = (int)store_row_int(row, 2);
    r.state = (int)store_row_int(row, 3);
    if (!store_row_copy(row, 4, r.name, sizeof r.name))
        return STORE_ERROR;
    r.due_at = store_row_int(row, 5);
    r.done_at = store_row_int(row, 6);
    r.msgid = store_row_int(row, 7);
    r.errcode = (long)store_row_int(row, 8);
    return w->fn(&r, w->ctx);
}

store_rc store_notify_of_meeting(store_t *store, int64_t meeting_id, store_reminder_row_fn fn, void *ctx)
{
    of_meeting_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_OF_MEETING, ARGS(store_arg_int(meeting_id)), 1, read_of_meeting, &w, NULL);
}
