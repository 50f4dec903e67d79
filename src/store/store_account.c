/* store_account — see store_account.h. */
#include "store/store_account.h"

#include <stdio.h>
#include <string.h>

#include "common/text.h"
#include "store/store_org.h"
#include "store/store_sessions.h"
#include "store/store_sql.h"

#define ARGS             STORE_ARGS
#define HOSTED_LIST_MAX  20
#define TOMBSTONE_ID_MAX (sizeof STORE_TOMBSTONE_PREFIX + 20)

/* ---- closing ---- */

static const store_sql_t SQL_USER_LOCK = {
    .op = "account_user_lock",
    .sqlite = "SELECT status, avatar FROM wx_user WHERE id = ?",
    .mysql = "SELECT status, avatar FROM wx_user WHERE id = ? FOR UPDATE",
};
static const store_sql_t SQL_HOSTED = {
    .op = "account_hosted",
    .sqlite = "SELECT id, start_at, title FROM oa_meeting WHERE host_id = ? AND state IN (1, 2, 3, 4) AND end_at > ?"
              " ORDER BY start_at, id LIMIT 20",
};
static const store_sql_t SQL_MEMBER_ROLE = {
    .op = "account_member",
    .sqlite = "SELECT status * 10 + role FROM oa_member WHERE user_id = ?",
    .mysql = "SELECT status * 10 + role FROM oa_member WHERE user_id = ? FOR UPDATE",
};
static const store_sql_t SQL_ADMINS = {
    .op = "account_admins",
    .sqlite = "SELECT count(*) FROM oa_member WHERE status = 1 AND role = 1",
    .mysql = "SELECT count(*) FROM oa_member WHERE status = 1 AND role = 1 FOR UPDATE",
};
/* before the member row changes: everyone on a meeting with the user (the user included) */
static const store_sql_t SQL_LISTS = {
    .op = "account_lists",
    .sqlite = "UPDATE oa_member SET list_gen = list_gen + 1 WHERE user_id IN (SELECT a.user_id FROM oa_attendee a"
              " WHERE a.meeting_id IN (SELECT meeting_id FROM oa_attendee WHERE user_id = ?)) OR user_id = ?",
};
static const store_sql_t SQL_MEMBER_TOMBSTONE = {
    .op = "account_member_tombstone",
    .sqlite = "UPDATE oa_member SET name = ?, department = '', reason = '', role = 0,"
              " status = CASE WHEN status = 1 THEN 3 ELSE status END, updated_at = ? WHERE user_id = ?",
};
static const store_sql_t SQL_USER_TOMBSTONE = {
    .op = "account_user_tombstone",
    .sqlite = "UPDATE wx_user SET username = ?, weixin_openid = ?, unionid = '', nickname = '', avatar = '',"
              " mobile = '', password = '', gender = 0, birthday = NULL, last_login_ip = '', share_user_id = NULL,"
              " status = 2, deleted = 1, update_time = ? WHERE id = ?",
};
/* what is the user's alone, and goes with the account (one id parameter each) */
static const store_sql_t SQL_ERASE[] = {
    {.op = "account_sessions", .sqlite = "DELETE FROM wx_session WHERE user_id = ?"},
    {.op = "account_choices", .sqlite = "DELETE FROM oa_vote_choice WHERE user_id = ?"},
    {.op = "account_reminders", .sqlite = "DELETE FROM oa_reminder WHERE user_id = ?"},
    {.op = "account_quotas", .sqlite = "DELETE FROM oa_subscribe_quota WHERE user_id = ?"},
    {.op = "account_media",
     .sqlite = "DELETE FROM oa_media_check WHERE user_id = ? AND file_key NOT LIKE 'attachments/%'"},
    {.op = "account_flags", .sqlite = "DELETE FROM oa_content_flag WHERE user_id = ? AND field = 'nickname'"},
    {.op = "account_login_log", .sqlite = "DELETE FROM oa_login_log WHERE user_id = ?"},
};

typedef struct delete_txn {
    int64_t user_id, now;
    store_hosted_fn fn;
    void *ctx;
    char *avatar;
    store_refusal_t *why;
} delete_txn_t;

static store_rc read_lock(const store_row_t *row, void *ctx)
{
    delete_txn_t *t = ctx;
    if (store_row_int(row, 0) == STORE_USER_CLOSED)
        return STORE_NOT_FOUND;
    return store_row_copy(row, 1, t->avatar, STORE_AVATAR_SIZE) ? STORE_OK : STORE_ERROR;
}

static store_rc read_hosted(const store_row_t *row, void *ctx)
{
    delete_txn_t *t = ctx;
    store_hosted_meeting_t m = {.id = store_row_int(row, 0), .start_at = store_row_int(row, 1)};
    if (!store_row_copy(row, 2, m.title, sizeof m.title))
        return STORE_ERROR;
    *t->why = STORE_REFUSED_STATE;
    return t->fn != NULL ? t->fn(&m, t->ctx) : STORE_OK;
}

/* The refusals, read before anything is written. */
static store_rc delete_check(store_t *store, delete_txn_t *t)
{
    store_rc rc = store_sql_exec(store, &SQL_HOSTED, ARGS(store_arg_int(t->user_id), store_arg_int(t->now)), 2,
                                 read_hosted, t, NULL);
    if (rc != STORE_OK || *t->why != STORE_REFUSED_NOT)
        return rc != STORE_OK ? rc : STORE_SQL_REFUSED;
    int64_t member = -1, admins = 0;
    rc = store_sql_int(store, &SQL_MEMBER_ROLE, ARGS(store_arg_int(t->user_id)), 1, &member);
    if (rc == STORE_NOT_FOUND)
        return STORE_OK; /* never a member */
    if (rc != STORE_OK || member != STORE_MEMBER_ACTIVE * 10 + STORE_ROLE_ADMIN)
        return rc;
    rc = store_sql_int(store, &SQL_ADMINS, NULL, 0, &admins);
    if (rc == STORE_OK && admins <= 1) {
        *t->why = STORE_REFUSED_LAST_ADMIN;
        return STORE_SQL_REFUSED;
    }
    return rc;
}

static store_rc delete_fn(store_t *store, void *arg)
{
    delete_txn_t *t = arg;
    store_rc rc = store_sql_row(store, &SQL_USER_LOCK, ARGS(store_arg_int(t->user_id)), 1, read_lock, t);
    if (rc == STORE_OK)
        rc = delete_check(store, t);
    if (rc == STORE_OK)
        rc = store_sql_exec(store, &SQL_LISTS, ARGS(store_arg_int(t->user_id), store_arg_int(t->user_id)), 2, NULL,
                            NULL, NULL);
    if (rc == STORE_OK)
        rc =
            store_sql_exec(store, &SQL_MEMBER_TOMBSTONE,
                           ARGS(store_arg_text(STORE_TOMBSTONE_NAME), store_arg_int(t->now), store_arg_int(t->user_id)),
                           3, NULL, NULL, NULL);
    for (size_t i = 0; rc == STORE_OK && i < sizeof SQL_ERASE / sizeof SQL_ERASE[0]; i++)
        rc = store_sql_exec(store, &SQL_ERASE[i], ARGS(store_arg_int(t->user_id)), 1, NULL, NULL, NULL);
    char tombstone[TOMBSTONE_ID_MAX], when[TEXT_SQLTIME_SIZE];
    snprintf(tombstone, sizeof tombstone, "%s%lld", STORE_TOMBSTONE_PREFIX, (long long)t->user_id);
    text_sqltime(t->now, when);
    if (rc == STORE_OK)
        rc = store_sql_exec(
            store, &SQL_USER_TOMBSTONE,
            ARGS(store_arg_text(tombstone), store_arg_text(tombstone), store_arg_text(when), store_arg_int(t->user_id)),
            4, NULL, NULL, NULL);
    if (rc == STORE_OK)
        rc = store_login_log_add(store, t->user_id, STORE_LOGIN_EVENT_DELETED, 0, "", t->now);
    return rc;
}

store_rc store_account_delete(store_t *store, int64_t user_id, int64_t now, store_hosted_fn fn, void *ctx,
                              char avatar[STORE_AVATAR_SIZE], store_refusal_t *why)
{
    avatar[0] = '\0';
    delete_txn_t t = {user_id, now, fn, ctx, avatar, why};
    store_rc rc = store_sql_refusable(store, "account_delete", delete_fn, &t, why);
    if (rc != STORE_OK || *why != STORE_REFUSED_NOT)
        avatar[0] = '\0';
    return rc;
}

/* ---- the export ---- */

static const store_sql_t SQL_MEETINGS = {
    .op = "account_meetings",
    .sqlite = "SELECT m.id, m.start_at, m.end_at, m.state, m.title, a.role, a.answer, a.reason, a.answered_at,"
              " a.checkin_at, a.checkin_late, coalesce(a.checkin_by, 0) FROM oa_attendee a"
              " JOIN oa_meeting m ON m.id = a.meeting_id WHERE a.user_id = ? ORDER BY m.start_at, m.id",
};

typedef struct meetings_ctx {
    store_account_meeting_fn fn;
    void *ctx;
    int64_t user_id;
} meetings_ctx_t;

static store_rc read_meeting(const store_row_t *row, void *ctx)
{
    meetings_ctx_t *r = ctx;
    store_account_meeting_t m;
    memset(&m, 0, sizeof m);
    m.id = store_row_int(row, 0);
    m.start_at = store_row_int(row, 1);
    m.end_at = store_row_int(row, 2);
    m.state = (int)store_row_int(row, 3);
    m.role = (int)store_row_int(row, 5);
    m.answer = (int)store_row_int(row, 6);
    m.answered_at = store_row_int(row, 8);
    m.checkin_at = store_row_int(row, 9);
    m.checkin_late = store_row_int(row, 10) != 0;
    int64_t by = store_row_int(row, 11);
    m.checkin_makeup = by != 0 && by != r->user_id;
    if (!store_row_copy(row, 4, m.title, sizeof m.title) || !store_row_copy(row, 7, m.reason, sizeof m.reason))
        return STORE_ERROR;
    return r->fn(&m, r->ctx);
}

store_rc store_account_meetings(store_t *store, int64_t user_id, store_account_meeting_fn fn, void *ctx)
{
    meetings_ctx_t r = {fn, ctx, user_id};
    return store_sql_exec(store, &SQL_MEETINGS, ARGS(store_arg_int(user_id)), 1, read_meeting, &r, NULL);
}

/* A named vote's choices, one row each; an anonymous vote's ballot once, with no option. */
static const store_sql_t SQL_BALLOTS = {
    .op = "account_ballots",
    .sqlite = "SELECT v.id, v.meeting_id, v.title, v.anonymous, coalesce(o.text, '') FROM oa_vote_ballot b"
              " JOIN oa_vote v ON v.id = b.vote_id"
              " LEFT JOIN oa_vote_choice c ON c.vote_id = b.vote_id AND c.user_id = b.user_id AND v.anonymous = 0"
              " LEFT JOIN oa_vote_option o ON o.id = c.option_id"
              " WHERE b.user_id = ? ORDER BY v.id, o.position",
};

typedef struct ballots_ctx {
    store_account_ballot_fn fn;
    void *ctx;
} ballots_ctx_t;

static store_rc read_ballot(const store_row_t *row, void *ctx)
{
    ballots_ctx_t *r = ctx;
    store_account_ballot_t b;
    memset(&b, 0, sizeof b);
    b.vote_id = store_row_int(row, 0);
    b.meeting_id = store_row_int(row, 1);
    b.anonymous = store_row_int(row, 3) != 0;
    if (!store_row_copy(row, 2, b.title, sizeof b.title) || !store_row_copy(row, 4, b.option, sizeof b.option))
        return STORE_ERROR;
    return r->fn(&b, r->ctx);
}

store_rc store_account_ballots(store_t *store, int64_t user_id, store_account_ballot_fn fn, void *ctx)
{
    ballots_ctx_t r = {fn, ctx};
    return store_sql_exec(store, &SQL_BALLOTS, ARGS(store_arg_int(user_id)), 1, read_ballot, &r, NULL);
}
