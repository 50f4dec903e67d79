/* meeting/checkin_api — see checkin_api.h. */
#include "meeting/checkin_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "crypto/crypto.h"
#include "http/reply.h"
#include "meeting/checkin_codes.h"
#include "meeting/checkin_scene.h"
#include "meeting/meeting_rules.h"
#include "org/org_job.h"
#include "store/store_meeting.h"
#include "wechat/wx_client.h"

static checkin_clock_t clock_of(const org_job_t *job)
{
    const config_t *c = job->app->config;
    return (checkin_clock_t){job->now, c->checkin_rotate_seconds, c->checkin_overlap_seconds};
}

/* When sign-in opens for m. */
static int64_t opens_at(const org_job_t *job, const store_meeting_t *m)
{
    return m->start_at - (int64_t)job->app->config->checkin_open_minutes * 60;
}

/* Reads meeting id into a job-owned struct; the caller must be its host or an admin. */
static store_meeting_t *host_meeting(org_job_t *job, store_t *store, int64_t id)
{
    if (job->nowned >= ORG_JOB_MAX_OWNED) {
        org_fail(job, API_SERIOUS, NULL);
        return NULL;
    }
    store_meeting_t *m = malloc(sizeof *m);
    if (m == NULL) {
        org_fail(job, API_SERIOUS, NULL);
        return NULL;
    }
    job->owned[job->nowned++] = m;
    store_rc rc = store_meeting_get(store, id, m);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "meeting get");
        return NULL;
    }
    if (m->host_id != job->user.id && !store_member_is_admin(&job->member)) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return NULL;
    }
    return m;
}

/* ---- GET /wx/meeting/checkin-code?id= ---- */

static void run_checkin_code(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_meeting_t *m = host_meeting(job, store, id);
    if (m == NULL)
        return;
    if (m->state != STORE_MEETING_APPROVED || job->now >= m->end_at) {
        org_fail(job, API_MEETING_STATE, "会议未通过审批或已结束，不能签到");
        return;
    }
    char code[STORE_CHECKIN_CODE_SIZE];
    snprintf(code, sizeof code, "%s", m->checkin_code);
    if (code[0] == '\0') {
        char candidate[CHECKIN_CODE_LENGTH + 1];
        store_rc rc = crypto_random_alnum(candidate, CHECKIN_CODE_LENGTH)
                          ? store_meeting_checkin_code(store, id, candidate, code)
                          : STORE_ERROR;
        if (rc != STORE_OK) {
            org_fail_store(job, store, rc, "checkin code");
            return;
        }
    }
    job->data =
        json_pack("{s:s, s:b, s:I}", "code", code, "rotating", m->checkin_rotating, "end", (json_int_t)m->end_at);
}

static bool then_checkin_code(org_job_t *job, h2o_req_t *req)
{
    const char *code = json_string_value(json_object_get(job->data, "code"));
    bool rotating = json_is_true(json_object_get(job->data, "rotating"));
    int64_t end = json_integer_value(json_object_get(job->data, "end"));
    checkin_clock_t clock = clock_of(job);
    char scene[CHECKIN_SCENE_SIZE];
    checkin_scene_make(job->app->config->data_key, code, rotating, &clock, scene);
    int ttl = rotating ? checkin_scene_ttl(&clock) : 3600;
    int64_t expires_at = rotating ? job->now + ttl : (end < job->now + 86400 ? end : job->now + 86400);
    checkin_codes_serve(job->app, req, scene, expires_at, ttl);
    return true;
}
ORG_ENDPOINT_THEN(checkin_code, ORG_MEMBER, run_checkin_code, then_checkin_code)

/* ---- sign-in ---- */

static json_t *checkin_json(const store_meeting_t *m, int64_t user_id, int64_t at, bool late, bool already, bool makeup)
{
    return json_pack("{s:I, s:s, s:I, s:o, s:b, s:b, s:b}", "meetingId", (json_int_t)m->id, "title", m->title, "userId",
                     (json_int_t)user_id, "checkinTime", org_time_json(at), "late", late, "already", already, "makeup",
                     makeup);
}

/* Signs user_id in on m (checked: approved, the window open); the outcome in job. */
static void sign_in(org_job_t *job, store_t *store, const store_meeting_t *m, int64_t user_id, int64_t by,
                    const char *reason)
{
    bool late = by == 0 && job->now > m->start_at, late_out = false, already = false;
    int64_t at = 0;
    store_refusal_t why;
    store_rc rc =
        store_meeting_checkin(store, m->id, user_id, job->now, late, by, reason, &at, &late_out, &already, &why);
    if (rc == STORE_NOT_FOUND) {
        org_fail(job, by == 0 ? API_NO_PERMISSION : API_NO_SUCH_OBJECT,
                 by == 0 ? "您不在本次会议的参会名单中" : "该成员不在本次会议的参会名单中");
        return;
    }
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "checkin");
        return;
    }
    if (why != STORE_REFUSED_NOT) {
        org_fail(job, API_MEETING_STATE, NULL);
        return;
    }
    job->data = checkin_json(m, user_id, at, late_out, already, by != 0 && !already);
}

/* The window check: 812 naming the window. */
static bool window_open(org_job_t *job, const store_meeting_t *m)
{
    if (job->now >= opens_at(job, m) && job->now < m->end_at)
        return true;
    char from[TEXT_SQLTIME_SIZE], to[TEXT_SQLTIME_SIZE];
    text_sqltime(opens_at(job, m), from);
    text_sqltime(m->end_at, to);
    org_fail(job, API_CHECKIN_CLOSED, "不在签到时间内（%s 至 %s）", from, to);
    return false;
}

/* POST /wx/meeting/checkin {scene} */
static void run_checkin(org_job_t *job, store_t *store)
{
    const char *scene, *token = NULL;
    char code[CHECKIN_CODE_LENGTH + 1];
    if (!org_param_text(job, "scene", true, 1, WX_SCENE_MAX, false, &scene, "scene 无效"))
        return;
    if (!checkin_scene_split(scene, code, &token)) {
        org_fail(job, API_CHECKIN_CODE_INVALID, NULL);
        return;
    }
    store_meeting_t *m = malloc(sizeof *m);
    if (m == NULL || job->nowned >= ORG_JOB_MAX_OWNED) {
        free(m);
        org_fail(job, API_SERIOUS, NULL);
        return;
    }
    job->owned[job->nowned++] = m;
    store_rc rc = store_meeting_by_checkin_code(store, code, m);
    if (rc == STORE_NOT_FOUND) {
        org_fail(job, API_CHECKIN_CODE_INVALID, NULL);
        return;
    }
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "meeting by checkin code");
        return;
    }
    checkin_clock_t clock = clock_of(job);
    if (m->checkin_rotating != (token != NULL)) {
        /* a fixed code with a token, or a rotating meeting's bare code (from before it rotated) */
        org_fail(job, m->checkin_rotating ? API_CHECKIN_CODE_EXPIRED : API_CHECKIN_CODE_INVALID, NULL);
        return;
    }
    if (token != NULL && !checkin_token_valid(job->app->config->data_key, code, token, &clock)) {
        org_fail(job, API_CHECKIN_CODE_EXPIRED, NULL);
        return;
    }
    if (m->state != STORE_MEETING_APPROVED) {
        org_fail(job, API_MEETING_STATE, NULL);
        return;
    }
    if (window_open(job, m))
        sign_in(job, store, m, job->user.id, 0, NULL);
}
ORG_ENDPOINT_BATCHED(checkin, ORG_MEMBER, run_checkin)

/* POST /wx/meeting/checkin/makeup {id, userId, reason} (host or admin) */
static void run_checkin_makeup(org_job_t *job, store_t *store)
{
    int64_t id = 0, user_id = 0;
    const char *reason;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") ||
        !org_param_id(job, "userId", true, &user_id, NULL, "userId 无效") ||
        !org_param_text(job, "reason", true, 1, 200, false, &reason, "补签须填写1到200个字符的原因"))
        return;
    store_meeting_t *m = host_meeting(job, store, id);
    if (m == NULL)
        return;
    if (m->state != STORE_MEETING_APPROVED) {
        org_fail(job, API_MEETING_STATE, NULL);
        return;
    }
    if (job->now < opens_at(job, m)) {
        char from[TEXT_SQLTIME_SIZE];
        text_sqltime(opens_at(job, m), from);
        org_fail(job, API_CHECKIN_CLOSED, "签到尚未开始（%s 开始）", from);
        return;
    }
    sign_in(job, store, m, user_id, job->user.id, reason);
}
ORG_ENDPOINT(checkin_makeup, ORG_MEMBER, run_checkin_makeup)

/* ---- GET /wx/meeting/attendance.csv?id= ---- */

typedef struct csv {
    char *text;
    size_t len, cap;
    bool failed;
} csv_t;

static void csv_add(csv_t *c, const char *s, size_t n)
{
    if (c->failed)
        return;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap == 0 ? 4096 : c->cap;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *text = realloc(c->text, cap);
        if (text == NULL) {
            c->failed = true;
            return;
        }
        c->text = text;
        c->cap = cap;
    }
    memcpy(c->text + c->len, s, n);
    c->len += n;
    c->text[c->len] = '\0';
}

/* One field, quoted (RFC 4180); text a spreadsheet would run as a formula gets a leading '. */
static void csv_field(csv_t *c, const char *s, bool last)
{
    csv_add(c, "\"", 1);
    if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')
        csv_add(c, "'", 1);
    for (const char *p = s; *p; p++) {
        csv_add(c, p, 1);
        if (*p == '"')
            csv_add(c, "\"", 1); /* doubled inside quotes */
    }
    csv_add(c, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

static const char *role_text(int role)
{
    return role == STORE_ATTENDEE_HOST ? "主持人" : (role == STORE_ATTENDEE_OBSERVER ? "列席" : "参会人");
}

static store_rc csv_attendee(const store_attendee_t *a, void *ctx)
{
    csv_t *c = ctx;
    char at[TEXT_SQLTIME_SIZE] = "";
    if (a->checkin_at != 0)
        text_sqltime(a->checkin_at, at);
    const char *status =
        a->checkin_at == 0 ? "未签到" : (a->checkin_by != 0 ? "补签" : (a->checkin_late ? "迟到" : "已签到"));
    csv_field(c, a->name, false);
    csv_field(c, a->department, false);
    csv_field(c, role_text(a->role), false);
    csv_field(c, status, false);
    csv_field(c, at, false);
    csv_field(c, a->checkin_reason, true);
    return c->failed ? STORE_ERROR : STORE_OK;
}

static void run_attendance_csv(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_meeting_t *m = host_meeting(job, store, id);
    if (m == NULL)
        return;
    csv_t c = {0};
    csv_add(&c, "\xef\xbb\xbf", 3); /* the BOM: spreadsheet programs then read UTF-8 */
    csv_add(&c, "姓名,部门,角色,状态,签到时间,补签原因\r\n", strlen("姓名,部门,角色,状态,签到时间,补签原因\r\n"));
    store_rc rc = store_meeting_attendees(store, id, csv_attendee, &c);
    if (rc != STORE_OK || c.failed) {
        free(c.text);
        org_fail_store(job, store, rc != STORE_OK ? rc : STORE_ERROR, "attendance csv");
        return;
    }
    job->data = json_pack("{s:s%, s:I}", "csv", c.text, c.len, "id", (json_int_t)id);
    free(c.text);
}

static bool then_attendance_csv(org_job_t *job, h2o_req_t *req)
{
    json_t *csv = json_object_get(job->data, "csv");
    char disposition[96];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"attendance-%lld.csv\"",
             (long long)json_integer_value(json_object_get(job->data, "id")));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_DISPOSITION, NULL,
                   h2o_strdup(&req->pool, disposition, SIZE_MAX).base, strlen(disposition));
    http_reply_bytes(req, "text/csv; charset=utf-8", NULL, json_string_value(csv), json_string_length(csv));
    return true;
}
ORG_ENDPOINT_THEN(attendance_csv, ORG_MEMBER, run_attendance_csv, then_attendance_csv)

static const http_route_t checkin_routes[] = {
    {"GET", "/wx/meeting/checkin-code", checkin_code},
    {"POST", "/wx/meeting/checkin", checkin},
    {"POST", "/wx/meeting/checkin/makeup", checkin_makeup},
    {"GET", "/wx/meeting/attendance.csv", attendance_csv},
};

static void checkin_release(app_t *app)
{
    (void)app;
    checkin_codes_clear();
}

const app_module_t checkin_module = {
    .name = "checkin",
    APP_MODULE_ROUTES_FIELDS(checkin_routes),
    .release = checkin_release,
};
