/* notify_api — see notify_api.h. */
#include "notify/notify_api.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "notify/notify_sender.h"
#include "org/org_job.h"
#include "store/store_meeting.h"

static const char *const KIND_NAMES[] = {"", "invitation", "approval", "starting", "changed"};

static store_remind_plan_t plan;
static bool plan_on;
static notify_sender_t *sender;

const store_remind_plan_t *notify_plan(void)
{
    return plan_on ? &plan : NULL;
}

void notify_wake(void)
{
    notify_sender_wake(sender);
}

/* ---- endpoints ---- */

static void run_templates(org_job_t *job, store_t *store)
{
    (void)store;
    json_t *data = json_object();
    for (int k = 1; k <= STORE_REMIND_KINDS; k++) {
        const char *id = plan.templates[k];
        json_object_set_new(data, KIND_NAMES[k], id != NULL ? json_string(id) : json_null());
    }
    job->data = data;
}
ORG_ENDPOINT(subscribe_templates, ORG_VISITOR, run_templates)

bool notify_status_accepts(const char *status)
{
    /* acceptWithAudio and acceptWithAlert are accepts with a voice or an alert (base library 2.10) */
    return status != NULL && strncmp(status, "accept", 6) == 0 &&
           (status[6] == '\0' || strcmp(status, "acceptWithAudio") == 0 || strcmp(status, "acceptWithAlert") == 0);
}

bool notify_template_configured(const char *template_id)
{
    for (int k = 1; plan_on && template_id != NULL && k <= STORE_REMIND_KINDS; k++)
        if (plan.templates[k] != NULL && strcmp(plan.templates[k], template_id) == 0)
            return true;
    return false;
}

/* Whether template id k is the first kind with that id (kinds may share a template). */
static bool first_of_its_id(int k)
{
    if (plan.templates[k] == NULL)
        return false;
    for (int j = 1; j < k; j++)
        if (plan.templates[j] != NULL && strcmp(plan.templates[j], plan.templates[k]) == 0)
            return false;
    return true;
}

static void run_report(org_job_t *job, store_t *store)
{
    json_t *results = json_object_get(job->params, "results");
    if (results == NULL) {
        org_fail(job, API_BAD_ARGUMENT, "results 不能为空");
        return;
    }
    if (!json_is_object(results)) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "results 应为 wx.requestSubscribeMessage 的结果对象");
        return;
    }
    json_t *quotas = json_object();
    for (int k = 1; k <= STORE_REMIND_KINDS; k++) {
        if (!first_of_its_id(k))
            continue;
        const char *id = plan.templates[k];
        int n = notify_status_accepts(json_string_value(json_object_get(results, id))) ? 1 : 0;
        int64_t quota = 0;
        store_rc rc = store_notify_grant(store, job->user.id, id, n, STORE_GRANT_REPORT, job->now, &quota);
        if (rc != STORE_OK) {
            json_decref(quotas);
            org_fail_store(job, store, rc, "subscription report");
            return;
        }
        json_object_set_new(quotas, id, json_integer(quota));
    }
    job->data = json_pack("{s:o}", "quotas", quotas);
}
ORG_ENDPOINT(subscribe_report, ORG_VISITOR, run_report)

static const char *state_name(int state)
{
    static const char *const names[] = {"pending", "claimed", "sent", "failed", "skipped", "dropped"};
    return state >= 0 && state <= 5 ? names[state] : "";
}

static store_rc on_reminder(const store_reminder_row_t *r, void *ctx)
{
    char msgid[24] = "";
    if (r->msgid != 0)
        snprintf(msgid, sizeof msgid, "%lld", (long long)r->msgid);
    json_t *item = json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:I, s:s}", "id", (json_int_t)r->id, "userId",
                             (json_int_t)r->user_id, "name", r->name, "kind",
                             r->kind >= 1 && r->kind <= STORE_REMIND_KINDS ? KIND_NAMES[r->kind] : "", "state",
                             state_name(r->state), "dueTime", org_time_json(r->due_at), "doneTime",
                             org_time_json(r->done_at), "errcode", (json_int_t)r->errcode, "msgid", msgid);
    return json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

static void run_reminders(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "meetingId", true, &id, NULL, NULL))
        return;
    store_meeting_t m;
    store_rc rc = store_meeting_get(store, id, &m);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "meeting reminders");
        return;
    }
    if (m.host_id != job->user.id && !store_member_is_admin(&job->member)) {
        org_fail(job, API_NO_PERMISSION, "只有主持人和管理员可以查看提醒");
        return;
    }
    json_t *list = json_array();
    rc = store_notify_of_meeting(store, id, on_reminder, list);
    if (rc != STORE_OK) {
        json_decref(list);
        org_fail_store(job, store, rc, "meeting reminders");
        return;
    }
    job->data = json_pack("{s:o}", "list", list);
}
ORG_ENDPOINT(subscribe_reminders, ORG_MEMBER, run_reminders)

static const http_route_t notify_routes[] = {
    {"GET", "/wx/subscribe/templates", subscribe_templates},
    {"POST", "/wx/subscribe/report", subscribe_report},
    {"GET", "/wx/subscribe/reminders", subscribe_reminders},
};

/* ---- start and stop ---- */

static int notify_start(app_t *app, char *err, size_t err_size)
{
    const config_t *c = app->config;
    notify_sender_config_t sc = {
        .datasource_url = c->datasource_url,
        .wx = app->wx,
        .page = c->subscribe_page,
        .miniprogram_state = c->subscribe_state,
        .lang = c->subscribe_lang,
        .poll_ms = c->subscribe_poll_ms,
        .wx_timeout_ms = c->wx_timeout_ms,
    };
    memset(&plan, 0, sizeof plan);
    plan_on = false;
    for (int k = 1; k <= STORE_REMIND_KINDS; k++) {
        if (c->subscribe_template[k] == NULL)
            continue;
        char why[200];
        if (!notify_map_parse(c->subscribe_data[k], &sc.maps[k], why, sizeof why)) {
            snprintf(err, err_size, "oa.subscribe.%s.data: %s", KIND_NAMES[k], why);
            return -1;
        }
        plan.templates[k] = sc.templates[k] = c->subscribe_template[k];
        plan_on = true;
    }
    if (!plan_on)
        return 0; /* no template configured: no reminder is queued, no sender runs */
    if ((sender = notify_sender_start(&sc, err, err_size)) == NULL) {
        plan_on = false;
        return -1;
    }
    log_info("reminders: subscription messages on for %s%s%s%s", plan.templates[1] ? "invitation " : "",
             plan.templates[2] ? "approval " : "", plan.templates[3] ? "starting " : "",
             plan.templates[4] ? "changed" : "");
    return 0;
}

static void notify_stop(app_t *app)
{
    (void)app;
    notify_sender_stop(sender);
    sender = NULL;
    plan_on = false;
    memset(&plan, 0, sizeof plan);
}

const app_module_t notify_module = {
    .name = "notify",
    APP_MODULE_ROUTES_FIELDS(notify_routes),
    .start = notify_start,
    .stop = notify_stop,
};
