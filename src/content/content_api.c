/* content_api — see content_api.h. */
#include "content/content_api.h"

#include "org/org_job.h"
#include "store/store_content.h"

static store_rc on_flag(const store_content_flag_t *f, void *ctx)
{
    json_t *item =
        json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:b}", "id", (json_int_t)f->id,
                  "userId", (json_int_t)f->user_id, "userName", f->user_name, "route", f->route, "objectId",
                  (json_int_t)f->object_id, "field", f->field, "excerpt", f->excerpt, "verdict", f->verdict, "label",
                  (json_int_t)f->label, "errcode", (json_int_t)f->errcode, "traceId", f->trace_id, "addTime",
                  org_time_json(f->created_at), "resolved", f->resolved_at != 0);
    return json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

static void run_flags(org_job_t *job, store_t *store)
{
    bool all = false;
    org_page_t page;
    if (!org_param_bool(job, "all", false, &all, NULL) || !org_param_page(job, 20, &page))
        return;
    json_t *list = json_array();
    int64_t total = 0;
    store_rc rc = store_content_flags(store, !all, page.offset, page.limit, on_flag, list, &total);
    org_answer_page(job, store, rc, list, total, &page, "content flags");
}
ORG_ENDPOINT(content_flags, ORG_ADMIN, run_flags)

static void run_resolve(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_rc rc = store_content_flag_resolve(store, id, job->user.id, job->now);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "content flag resolve");
        return;
    }
    job->data = json_pack("{s:I, s:b}", "id", (json_int_t)id, "resolved", 1);
}
ORG_ENDPOINT(content_resolve, ORG_ADMIN, run_resolve)

static const http_route_t content_routes[] = {
    {"GET", "/wx/content/flags", content_flags},
    {"POST", "/wx/content/flags/resolve", content_resolve},
};

const app_module_t content_module = {
    .name = "content",
    APP_MODULE_ROUTES_FIELDS(content_routes),
};
