/*
 * auth/account_api — see account_api.h.
 *
 * Closing an account is three hops, none of which blocks the loop: the token check and the
 * body on the loop, then WeChat's code2session (the confirmation), then a database worker
 * (account_close), and back on the loop the session cache forgets the user before the answer.
 * The export is one worker job that reads every part and renders the file.
 */
#include "auth/account_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/caller.h"
#include "auth/session_bus.h"
#include "auth/sessions_api.h"
#include "common/log.h"
#include "guard/rate_guard.h"
#include "http/fields.h"
#include "http/reply.h"
#include "http/request.h"
#include "meeting/meeting_rules.h"
#include "org/org_job.h"
#include "storage/storage_api.h"
#include "store/store_minutes.h"
#include "store/store_org.h"
#include "store/store_sessions.h"
#include "wechat/wx_client.h"

#define EXPORT_LOGIN_LOG_MAX 100000 /* rows of the login log an export holds (kept 180 days) */

store_rc account_close(store_t *store, const config_t *config, int64_t user_id, int64_t now, store_hosted_fn fn,
                       void *ctx, store_refusal_t *why)
{
    char avatar[STORE_AVATAR_SIZE];
    store_rc rc = store_account_delete(store, user_id, now, fn, ctx, avatar, why);
    if (rc == STORE_OK && *why == STORE_REFUSED_NOT)
        storage_remove_avatar(config, avatar);
    return rc;
}

/* ---- POST /wx/auth/delete_account {code} ---- */

typedef struct delete_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    wx_code2session_req_t wx;
    int64_t user_id;
    char openid[STORE_OPENID_SIZE];
    /* from the worker */
    store_rc rc;
    store_refusal_t why;
    json_t *hosted; /* the meetings of a refusal */
} delete_job_t;

static store_rc add_hosted(const store_hosted_meeting_t *m, void *ctx)
{
    json_t *item = json_pack("{s:I, s:s, s:o}", "id", (json_int_t)m->id, "title", m->title, "startTime",
                             org_time_json(m->start_at));
    return item != NULL && json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

static void run_delete(db_job_t *db, store_t *store)
{
    delete_job_t *job = (delete_job_t *)db;
    job->hosted = json_array();
    job->rc = job->hosted == NULL ? STORE_ERROR
                                  : account_close(store, job->app->config, job->user_id, (int64_t)time(NULL),
                                                  add_hosted, job->hosted, &job->why);
    if (job->rc == STORE_ERROR)
        log_error("account of user %lld not closed: %s", (long long)job->user_id, store_last_error(store));
    else if (job->rc == STORE_OK && job->why == STORE_REFUSED_NOT)
        log_info("account of user %lld closed", (long long)job->user_id);
}

static void on_deleted(loop_msg_t *msg)
{
    delete_job_t *job = (delete_job_t *)msg;
    bool closed = job->rc == STORE_OK && job->why == STORE_REFUSED_NOT;
    if (closed) {
        /* the sessions are gone from the database: none may be answered from the cache again */
        session_cache_remove_user(job->app->sessions, job->user_id);
        /* the other instances at once */
        session_bus_user_ended(job->app, job->user_id);
        org_write_bump(); /* cached meeting pages show the old name */
    }
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL) {
        if (closed)
            http_reply_ok(req, NULL);
        else if (job->rc == STORE_NOT_FOUND)
            http_reply_error(req, API_UNLOGIN); /* closed meanwhile */
        else if (job->rc != STORE_OK)
            http_reply_error(req, API_SERIOUS);
        else if (job->why == STORE_REFUSED_LAST_ADMIN)
            http_reply_error_msg(req, API_LAST_ADMIN, "您是组织唯一的管理员，请先任命其他管理员");
        else {
            http_answer_t answer =
                http_answer_make(API_ACCOUNT_HOSTS_MEETINGS, NULL, json_pack("{s:O}", "list", job->hosted));
            http_send_answer(req, &answer);
            http_answer_free(&answer);
        }
    }
    json_decref(job->hosted);
    free(job);
}

static void on_delete_wechat(loop_msg_t *msg)
{
    delete_job_t *job = H2O_STRUCT_FROM_MEMBER(delete_job_t, wx.msg, msg);
    wx_session_result_t *result = &job->wx.result;
    explicit_bzero(result->session_key, sizeof result->session_key); /* a confirmation needs no key */
    api_errno_t code = API_OK;
    const char *errmsg = NULL;
    if (result->outcome != WX_OK) {
        const wx_error_t *error = wx_error_lookup(result->outcome, result->errcode);
        code = error->api_errno;
        errmsg = error->errmsg;
        log_info("account closing of user %lld not confirmed by WeChat: outcome %d errcode %ld",
                 (long long)job->user_id, (int)result->outcome, result->errcode);
    } else if (strcmp(result->openid, job->openid) != 0) {
        code = API_NO_PERMISSION;
        errmsg = "请使用本人的微信确认注销";
        log_warn("account closing of user %lld refused: the confirming code is another WeChat user's",
                 (long long)job->user_id);
    }
    if (code != API_OK) {
        h2o_req_t *req = http_pending_take(&job->pending);
        if (req != NULL)
            http_reply_error_msg(req, code, errmsg != NULL ? errmsg : api_errmsg(code));
        free(job);
        return;
    }
    db_pool_run(job->app->db, &job->db, run_delete, job->wx.msg.reply_to, on_deleted);
}

static void do_delete(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    api_errno_t err = API_BAD_ARGUMENT;
    json_t *body = http_read_json(req, &err);
    const char *code;
    if (body == NULL || !fields_token(body, "code", true, 1, WX_CODE_MAX, &code, &err)) {
        json_decref(body);
        http_reply_error(req, err);
        return;
    }
    delete_job_t *job = calloc(1, sizeof *job);
    if (job == NULL) {
        json_decref(body);
        http_reply_error(req, API_SERIOUS);
        return;
    }
    job->app = app;
    job->user_id = caller->user.id;
    snprintf(job->openid, sizeof job->openid, "%s", caller->user.openid);
    snprintf(job->wx.code, sizeof job->wx.code, "%s", code);
    json_decref(body);
    loop_msg_init(&job->wx.msg, http_receiver(req), on_delete_wechat);
    http_pending_attach(&job->pending, req);
    wx_code2session(app->wx, &job->wx);
}

static void delete_authorize(h2o_req_t *req, void *app, const void *arg)
{
    (void)arg;
    auth_require_no_renew(req, app, do_delete);
}

static int auth_delete_account(h2o_req_t *req, void *app_)
{
    app_t *app = app_;
    /* each one costs a call to WeChat, like a login */
    rate_guard_client(req, app->limits[APP_LIMIT_LOGIN_IP], &app->config->trusted_proxies, delete_authorize, app, NULL,
                      0);
    return 0;
}

/* ---- GET /wx/auth/export ---- */

typedef struct export_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    auth_caller_t caller;
    char *text; /* the rendered file, NULL when the export failed */
    size_t len;
} export_job_t;

static const char *const ROLE_NAMES[] = {"host", "participant", "observer"};
static const char *const ANSWER_NAMES[] = {"none", "attend", "decline"};

static const char *name_of(const char *const *names, size_t n, int i)
{
    return i >= 0 && (size_t)i < n ? names[i] : "";
}

typedef struct export_ctx {
    json_t *list;
    const uint8_t *current; /* the caller's token hash */
    json_t *last_vote;      /* the ballot object being filled (named votes: one row per choice) */
    int64_t last_vote_id;
} export_ctx_t;

static store_rc add_item(export_ctx_t *x, json_t *item)
{
    return item != NULL && json_array_append_new(x->list, item) == 0 ? STORE_OK : STORE_ERROR;
}

static store_rc add_session(const store_session_row_t *row, void *ctx)
{
    export_ctx_t *x = ctx;
    char id[AUTH_SESSION_ID_SIZE];
    auth_session_id(row->token_hash, id);
    return add_item(x, json_pack("{s:s, s:o, s:o, s:o, s:s, s:s, s:b}", "id", id, "createdAt",
                                 org_time_json(row->created_at), "lastUsedAt",
                                 org_time_json(row->last_used_at != 0 ? row->last_used_at : row->created_at),
                                 "expireTime", org_time_json(row->expires_at), "ip", row->last_ip, "loginIp",
                                 row->login_ip, "current", memcmp(row->token_hash, x->current, 32) == 0));
}

static store_rc add_login_event(const store_login_log_row_t *row, void *ctx)
{
    return add_item(ctx, json_pack("{s:s, s:i, s:s, s:o}", "event", row->event, "errno", row->err, "ip", row->ip,
                                   "time", org_time_json(row->created_at)));
}

static store_rc add_meeting(const store_account_meeting_t *m, void *ctx)
{
    return add_item(ctx, json_pack("{s:I, s:s, s:i, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:b, s:b}", "id",
                                   (json_int_t)m->id, "title", m->title, "state", m->state, "stateName",
                                   meeting_state_name(m->state), "startTime", org_time_json(m->start_at), "endTime",
                                   org_time_json(m->end_at), "role", name_of(ROLE_NAMES, 3, m->role), "answer",
                                   name_of(ANSWER_NAMES, 3, m->answer), "reason", m->reason, "answerTime",
                                   org_time_json(m->answered_at), "checkinTime", org_time_json(m->checkin_at),
                                   "checkinLate", m->checkin_late, "checkinMakeup", m->checkin_makeup));
}

static store_rc add_ballot(const store_account_ballot_t *b, void *ctx)
{
    export_ctx_t *x = ctx;
    if (x->last_vote == NULL || x->last_vote_id != b->vote_id) {
        x->last_vote = json_pack("{s:I, s:I, s:s, s:b, s:[]}", "voteId", (json_int_t)b->vote_id, "meetingId",
                                 (json_int_t)b->meeting_id, "title", b->title, "anonymous", b->anonymous, "choices");
        x->last_vote_id = b->vote_id;
        if (add_item(x, x->last_vote) != STORE_OK)
            return STORE_ERROR;
    }
    if (b->option[0] == '\0')
        return STORE_OK; /* an anonymous vote: that the user voted, never what */
    return json_array_append_new(json_object_get(x->last_vote, "choices"), json_string(b->option)) == 0 ? STORE_OK
                                                                                                        : STORE_ERROR;
}

static store_rc add_upload(const store_attachment_t *a, void *ctx)
{
    return add_item(ctx, json_pack("{s:I, s:I, s:s, s:s, s:I, s:o}", "id", (json_int_t)a->id, "meetingId",
                                   (json_int_t)a->meeting_id, "name", a->name, "contentType", a->content_type, "size",
                                   (json_int_t)a->size, "addTime", org_time_json(a->created_at)));
}

static json_t *profile_json(const store_user_t *u)
{
    return json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:o, s:o, s:s}", "id", (json_int_t)u->id, "nickName",
                     u->nickname, "avatar", u->avatar, "gender", u->gender, "mobile", u->mobile, "openid", u->openid,
                     "unionId", u->unionid, "addTime", org_time_json(u->add_time), "lastLoginTime",
                     org_time_json(u->last_login_time), "lastLoginIp", u->last_login_ip);
}

static json_t *membership_json(const store_member_t *m)
{
    if (m->user_id == 0)
        return json_null();
    static const char *const STATUS_NAMES[] = {"pending", "active", "rejected", "removed"};
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", m->name, "department", m->department, "status",
                     name_of(STATUS_NAMES, 4, m->status), "role", m->role == STORE_ROLE_ADMIN ? "admin" : "member",
                     "requestTime", org_time_json(m->requested_at), "joinTime", org_time_json(m->joined_at));
}

/* The start of one of the export's lists: an empty array (NULL leaves *rc failed). */
static export_ctx_t export_list(const export_job_t *job, store_rc *rc)
{
    export_ctx_t x = {.list = json_array(), .current = job->caller.token_hash};
    if (x.list == NULL && *rc == STORE_OK)
        *rc = STORE_ERROR;
    return x;
}

static void run_export(db_job_t *db, store_t *store)
{
    export_job_t *job = (export_job_t *)db;
    int64_t id = job->caller.user.id, now = (int64_t)time(NULL), total = 0;
    store_user_t user;
    store_member_t member;
    store_rc rc = store_user_get(store, id, &user);
    if (rc == STORE_OK && (rc = store_member_get(store, id, &member)) == STORE_NOT_FOUND)
        rc = STORE_OK; /* never a member: membership null */
    export_ctx_t sessions = export_list(job, &rc), log = export_list(job, &rc), meetings = export_list(job, &rc),
                 ballots = export_list(job, &rc), uploads = export_list(job, &rc);
    if (rc == STORE_OK)
        rc = store_session_list(store, id, now, add_session, &sessions);
    if (rc == STORE_OK)
        rc = store_login_log_list(store, id, 0, EXPORT_LOGIN_LOG_MAX, add_login_event, &log, &total);
    if (rc == STORE_OK)
        rc = store_account_meetings(store, id, add_meeting, &meetings);
    if (rc == STORE_OK)
        rc = store_account_ballots(store, id, add_ballot, &ballots);
    if (rc == STORE_OK)
        rc = store_attachment_list_by_uploader(store, id, add_upload, &uploads);
    json_t *file = NULL;
    if (rc == STORE_OK)
        file = json_pack("{s:s, s:i, s:o, s:o, s:o, s:O, s:O, s:O, s:O, s:{s:s, s:O}}", "format", "meetoa-export",
                         "version", 1, "exportTime", org_time_json(now), "profile", profile_json(&user), "membership",
                         membership_json(&member), "sessions", sessions.list, "loginLog", log.list, "meetings",
                         meetings.list, "votes", ballots.list, "uploads", "avatar", user.avatar, "attachments",
                         uploads.list);
    if (rc != STORE_OK)
        log_error("export of user %lld failed: %s", (long long)id, store_last_error(store));
    else if (file != NULL && (job->text = json_dumps(file, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL)
        job->len = strlen(job->text);
    json_decref(file);
    json_decref(sessions.list);
    json_decref(log.list);
    json_decref(meetings.list);
    json_decref(ballots.list);
    json_decref(uploads.list);
}

static void on_exported(loop_msg_t *msg)
{
    export_job_t *job = (export_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL && job->text == NULL) {
        http_reply_error(req, API_SERIOUS);
    } else if (req != NULL) {
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-disposition"), 0, NULL,
                              H2O_STRLIT("attachment; filename=\"meetoa-export.json\""));
        http_reply_bytes(req, "application/json; charset=utf-8", NULL, job->text, job->len);
    }
    free(job->text);
    free(job);
}

static void do_export(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    export_job_t *job = calloc(1, sizeof *job);
    if (job == NULL) {
        http_reply_error(req, API_SERIOUS);
        return;
    }
    job->app = app;
    job->caller = *caller;
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_export, http_receiver(req), on_exported);
}

static int auth_export(h2o_req_t *req, void *app)
{
    return auth_require(req, app, do_export);
}

/* ---- the module (app/module.h) ---- */

static const http_route_t account_routes[] = {
    {"POST", "/wx/auth/delete_account", auth_delete_account},
    {"GET", "/wx/auth/export", auth_export},
};

const app_module_t account_module = {.name = "account", APP_MODULE_ROUTES_FIELDS(account_routes)};
