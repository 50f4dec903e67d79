/* org/org_job — see org_job.h. */
#include "org/org_job.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/caller.h"
#include "common/log.h"
#include "common/text.h"
#include "content/content_check.h"
#include "http/fields.h"
#include "http/reply.h"
#include "http/request.h"
#include "storage/multipart.h"

/* ---- the job ---- */

static _Atomic uint64_t write_epoch = 1;

uint64_t org_write_epoch(void)
{
    return atomic_load(&write_epoch);
}

void org_write_bump(void)
{
    atomic_fetch_add(&write_epoch, 1);
}

static void job_free(org_job_t *job)
{
    json_decref(job->params);
    json_decref(job->data);
    if (job->has_answer)
        http_answer_free(&job->answer);
    for (int i = 0; i < job->nowned; i++)
        free(job->owned[i]);
    free(job->blob);
    free(job->checked);
    free(job);
}

/* The id of what run() stored: data.id, else the request's id or meetingId; 0 when none. */
static int64_t object_id(const org_job_t *job)
{
    const char *keys[] = {"id", "meetingId"};
    json_t *v = json_object_get(job->data, "id");
    if (json_is_integer(v))
        return json_integer_value(v);
    for (size_t i = 0; i < 2; i++) {
        v = json_object_get(job->params, keys[i]);
        if (json_is_integer(v))
            return json_integer_value(v);
        if (json_is_string(v))
            return strtoll(json_string_value(v), NULL, 10);
    }
    return 0;
}

/* Worker, after a run() that stored the texts: the content check's flags. */
/* Worker: the membership check, then the endpoint. */
/* Forgets what a run() set: a batched job runs again alone after its batch rolled back. */
static void reset_outcome(org_job_t *job)
{
    job->err = API_OK;
    job->errmsg[0] = '\0';
    json_decref(job->data);
    job->data = NULL;
    if (job->has_answer)
        http_answer_free(&job->answer);
    job->has_answer = false;
    for (int i = 0; i < job->nowned; i++)
        free(job->owned[i]);
    job->nowned = 0;
    job->file_key[0] = '\0';
}

static void run_job(db_job_t *db, store_t *store)
{
    org_job_t *job = (org_job_t *)db;
    reset_outcome(job);
    store_rc rc = store_member_get(store, job->user.id, &job->member);
    if (rc == STORE_NOT_FOUND) {
        memset(&job->member, 0, sizeof job->member);
    } else if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "membership");
        return;
    }
    switch (job->endpoint->access) {
    case ORG_VISITOR:
        break;
    case ORG_MEMBER:
        if (!store_member_is_active(&job->member)) {
            org_fail(job, API_NOT_MEMBER, NULL);
            return;
        }
        break;
    case ORG_ADMIN:
        if (!store_member_is_active(&job->member)) {
            org_fail(job, API_NOT_MEMBER, NULL);
            return;
        }
        if (!store_member_is_admin(&job->member)) {
            org_fail(job, API_NO_PERMISSION, NULL);
            return;
        }
        break;
    }
    job->endpoint->run(job, store);
    if (job->checked != NULL && !org_failed(job))
        content_flags_store(store, job->checked, job->route, job->user.id, object_id(job), job->now);
    if (!job->is_get && !job->endpoint->batched)
        org_write_bump(); /* after its commits: what was read before may be stale */
}

static void on_job_done(loop_msg_t *msg);

/* Queues the job on the database pool, in a batch when its endpoint allows. */
static void submit(org_job_t *job)
{
    if (job->endpoint->batched)
        db_pool_run_batched(job->app->db, &job->db, run_job, job->reply_to, on_job_done);
    else
        db_pool_run(job->app->db, &job->db, run_job, job->reply_to, on_job_done);
}

static void on_job_done(loop_msg_t *msg)
{
    org_job_t *job = (org_job_t *)msg;
    if (!job->is_get && job->endpoint->batched)
        org_write_bump(); /* the batch has committed (run_job bumps the others') */
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL && job->err == API_OK && job->endpoint->then != NULL && job->endpoint->then(job, req))
        req = NULL; /* then() answers it */
    if (req != NULL) {
        if (job->err != API_OK) {
            if (job->errmsg[0] != '\0')
                http_reply_error_msg(req, job->err, job->errmsg);
            else
                http_reply_error(req, job->err);
        } else if (job->has_answer) {
            http_send_answer(req, &job->answer);
        } else {
            http_reply_ok(req, job->data);
            job->data = NULL; /* stolen */
        }
    }
    job_free(job);
}

/* The text fields and the file of a multipart upload into params and job; 0 or an errno. */
static api_errno_t read_upload(h2o_req_t *req, const org_endpoint_t *endpoint, json_t *params, org_job_t *job)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    h2o_iovec_t type = i >= 0 ? req->headers.entries[i].value : h2o_iovec_init(NULL, 0);
    const char *body = req->entity.base;
    size_t len = body != NULL ? req->entity.len : 0;
    multipart_part_t part;
    for (const char *const *f = endpoint->text_fields; f != NULL && *f != NULL; f++) {
        multipart_rc rc = multipart_find(type.base, type.len, body, len, *f, &part);
        if (rc == MULTIPART_NO_PART)
            continue;
        if (rc != MULTIPART_OK)
            return API_BAD_ARGUMENT;
        if (!text_utf8_valid(part.data.base, part.data.len) || memchr(part.data.base, '\0', part.data.len) != NULL)
            return API_BAD_ARGUMENT_VALUE;
        json_object_set_new(params, *f, json_stringn(part.data.base, part.data.len));
    }
    if (multipart_find(type.base, type.len, body, len, endpoint->file_field, &part) != MULTIPART_OK)
        return API_BAD_ARGUMENT;
    if ((job->blob = malloc(part.data.len > 0 ? part.data.len : 1)) == NULL)
        return API_SERIOUS;
    memcpy(job->blob, part.data.base, part.data.len);
    job->blob_len = part.data.len;
    if (part.filename.base != NULL)
        snprintf(job->blob_name, sizeof job->blob_name, "%.*s", (int)part.filename.len, part.filename.base);
    return API_OK;
}

/* Loop: the content check's outcome; a risky text is refused, else the job goes on. */
static void on_content_checked(void *ctx, const content_outcome_t *outcome)
{
    org_job_t *job = ctx;
    if (content_refuse_risky(&job->pending, outcome)) {
        job_free(job);
        return;
    }
    job->checked = content_outcome_keep(outcome);
    submit(job);
}

static void start_job(h2o_req_t *req, app_t *app, const auth_caller_t *caller, const void *ctx)
{
    const org_endpoint_t *endpoint = ctx;
    api_errno_t code = API_BAD_ARGUMENT;
    org_job_t *job = calloc(1, sizeof(*job));
    json_t *params = NULL;
    if (job == NULL) {
        code = API_SERIOUS;
    } else if (endpoint->file_field != NULL) {
        params = json_object();
        code = params == NULL ? API_SERIOUS : read_upload(req, endpoint, params, job);
        if (code != API_OK) {
            json_decref(params);
            params = NULL;
        }
    } else {
        params = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ? http_read_query(req, &code)
                                                                                 : http_read_json(req, &code);
    }
    if (params == NULL) {
        if (job != NULL) {
            free(job->blob);
            free(job);
        }
        http_reply_error(req, code);
        return;
    }
    if (endpoint->on_loop != NULL && endpoint->on_loop(req, app, caller, params)) {
        json_decref(params);
        free(job->blob);
        free(job);
        return;
    }
    job->is_get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    job->epoch = org_write_epoch();
    job->app = app;
    job->endpoint = endpoint;
    job->user = caller->user;
    job->params = params;
    job->now = (int64_t)time(NULL);
    job->reply_to = http_receiver(req);
    snprintf(job->route, sizeof job->route, "%.*s", (int)req->path_normalized.len, req->path_normalized.base);
    http_pending_attach(&job->pending, req);
    if (endpoint->content != NULL && app->config->content_check && caller->user.openid[0] != '\0' &&
        content_check_start(app, job->reply_to, params, endpoint->content, caller->user.openid, on_content_checked,
                            job))
        return; /* the job goes on in on_content_checked */
    submit(job);
}

int org_handle(h2o_req_t *req, void *app, const org_endpoint_t *endpoint)
{
    return auth_require_ctx(req, app, start_job, endpoint);
}

/* ---- the outcome ---- */

void org_fail(org_job_t *job, api_errno_t err, const char *fmt, ...)
{
    if (job->err != API_OK)
        return;
    job->err = err;
    job->errmsg[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(job->errmsg, sizeof job->errmsg, fmt, ap);
        va_end(ap);
    }
}

void org_fail_store(org_job_t *job, store_t *store, store_rc rc, const char *what)
{
    if (rc == STORE_NOT_FOUND) {
        org_fail(job, API_NO_SUCH_OBJECT, NULL);
        return;
    }
    log_error("%s failed: %s", what, store_last_error(store));
    org_fail(job, API_SERIOUS, NULL);
}

/* ---- parameters ---- */

static bool param_refuse(org_job_t *job, api_errno_t err, const char *errmsg)
{
    org_fail(job, err, errmsg != NULL ? "%s" : NULL, errmsg);
    return false;
}

/* The value of key, NULL when absent (JSON null counts as absent). */
static json_t *param_get(org_job_t *job, const char *key)
{
    json_t *v = json_object_get(job->params, key);
    return v == NULL || json_is_null(v) ? NULL : v;
}

/* A strict decimal integer in a string: optional '-', 1..18 digits. */
static bool parse_integer_text(const char *s, long long *out)
{
    const char *p = s;
    bool negative = *p == '-';
    if (negative)
        p++;
    if (*p == '\0' || strlen(p) > 18)
        return false;
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = negative ? -v : v;
    return true;
}

bool org_param_int(org_job_t *job, const char *key, bool required, long min, long max, long *out, bool *present,
                   const char *errmsg)
{
    json_t *v = param_get(job, key);
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return !required || param_refuse(job, API_BAD_ARGUMENT, errmsg);
    long long value;
    if (json_is_integer(v))
        value = json_integer_value(v);
    else if (json_is_string(v) && parse_integer_text(json_string_value(v), &value))
        ;
    else if (json_is_string(v))
        return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
    else
        return param_refuse(job, API_BAD_ARGUMENT, errmsg);
    if (value < min || value > max)
        return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
    *out = (long)value;
    return true;
}

bool org_param_id(org_job_t *job, const char *key, bool required, int64_t *out, bool *present, const char *errmsg)
{
    long value = 0;
    bool here = false;
    if (!org_param_int(job, key, required, 1, 2147483647L, &value, &here, errmsg))
        return false;
    if (present != NULL)
        *present = here;
    if (here)
        *out = value;
    return true;
}

bool org_param_bool(org_job_t *job, const char *key, bool required, bool *out, bool *present)
{
    json_t *v = param_get(job, key);
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return !required || param_refuse(job, API_BAD_ARGUMENT, NULL);
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
            *out = strcmp(s, "true") == 0 || strcmp(s, "1") == 0;
            return true;
        }
        return param_refuse(job, API_BAD_ARGUMENT_VALUE, NULL);
    }
    return param_refuse(job, API_BAD_ARGUMENT, NULL);
}

bool org_param_text(org_job_t *job, const char *key, bool required, size_t min, size_t max, bool multiline,
                    const char **out, const char *errmsg)
{
    json_t *v = param_get(job, key);
    *out = NULL;
    if (v == NULL)
        return !required || param_refuse(job, API_BAD_ARGUMENT, errmsg);
    if (!json_is_string(v))
        return param_refuse(job, API_BAD_ARGUMENT, errmsg);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (!text_utf8_valid(s, len))
        return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) || c == 0x7f)
            return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
    }
    size_t chars = text_utf8_length(s, len);
    if (chars < min || chars > max)
        return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
    *out = s;
    return true;
}

bool org_param_time(org_job_t *job, const char *key, bool required, int64_t *out, bool *present, const char *errmsg)
{
    json_t *v = param_get(job, key);
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return !required || param_refuse(job, API_BAD_ARGUMENT, errmsg);
    if (!json_is_string(v))
        return param_refuse(job, API_BAD_ARGUMENT, errmsg);
    if (!text_time_parse(json_string_value(v), json_string_length(v), out))
        return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
    return true;
}

bool org_param_ids(org_job_t *job, const char *key, bool required, size_t max, int64_t **ids, size_t *n, bool *present,
                   const char *errmsg)
{
    json_t *v = param_get(job, key);
    *ids = NULL;
    *n = 0;
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return !required || param_refuse(job, API_BAD_ARGUMENT, errmsg);
    if (!json_is_array(v))
        return param_refuse(job, API_BAD_ARGUMENT, errmsg);
    size_t count = json_array_size(v);
    for (size_t i = 0; i < count; i++)
        if (!json_is_integer(json_array_get(v, i)))
            return param_refuse(job, API_BAD_ARGUMENT, errmsg);
    if (count > max)
        return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
    if (count == 0)
        return true;
    if (job->nowned >= ORG_JOB_MAX_OWNED) {
        org_fail(job, API_SERIOUS, NULL);
        return false;
    }
    int64_t *out = malloc(count * sizeof(*out));
    if (out == NULL) {
        org_fail(job, API_SERIOUS, NULL);
        return false;
    }
    job->owned[job->nowned++] = out;
    for (size_t i = 0; i < count; i++) {
        json_int_t id = json_integer_value(json_array_get(v, i));
        if (id < 1 || id > 2147483647LL)
            return param_refuse(job, API_BAD_ARGUMENT_VALUE, errmsg);
        out[i] = id;
    }
    *ids = out;
    *n = count;
    return true;
}

/* ---- pages ---- */

bool org_param_page(org_job_t *job, int64_t default_limit, org_page_t *out)
{
    long page = 1, limit = (long)default_limit;
    if (!org_param_int(job, "page", false, 1, 1000000, &page, NULL, "page 须为从1开始的页码") ||
        !org_param_int(job, "limit", false, 1, ORG_PAGE_MAX_LIMIT, &limit, NULL, "limit 须为1到100"))
        return false;
    out->page = page;
    out->limit = limit;
    out->offset = (int64_t)(page - 1) * limit;
    return true;
}

json_t *org_page_json(json_t *list, int64_t total, const org_page_t *page)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "list", list != NULL ? list : json_array());
    json_object_set_new(obj, "total", json_integer(total));
    json_object_set_new(obj, "page", json_integer(page->page));
    json_object_set_new(obj, "limit", json_integer(page->limit));
    json_object_set_new(obj, "pages", json_integer(page->limit > 0 ? (total + page->limit - 1) / page->limit : 0));
    return obj;
}

void org_answer_page(org_job_t *job, store_t *store, store_rc rc, json_t *list, int64_t total, const org_page_t *page,
                     const char *what)
{
    if (rc != STORE_OK) {
        json_decref(list);
        org_fail_store(job, store, rc, what);
        return;
    }
    job->data = org_page_json(list, total, page);
}

void org_page_text_open(json_out_t *o)
{
    http_answer_open(o);
    json_out_lit(o, "{\"list\":[");
}

http_answer_t org_page_text_close(json_out_t *o, int64_t total, const org_page_t *page)
{
    json_out_lit(o, "],\"total\":");
    json_out_int(o, total);
    json_out_lit(o, ",\"page\":");
    json_out_int(o, page->page);
    json_out_lit(o, ",\"limit\":");
    json_out_int(o, page->limit);
    json_out_lit(o, ",\"pages\":");
    json_out_int(o, page->limit > 0 ? (total + page->limit - 1) / page->limit : 0);
    json_out_lit(o, "}");
    return http_answer_close(o);
}

void org_answer_text(org_job_t *job, http_answer_t answer)
{
    if (job->has_answer)
        http_answer_free(&job->answer);
    job->answer = answer;
    job->has_answer = true;
}

/* ---- answers ---- */

json_t *org_time_json(int64_t epoch)
{
    char text[TEXT_SQLTIME_SIZE] = "";
    if (epoch != 0)
        text_sqltime(epoch, text);
    return json_string(text);
}

const char *org_membership_name(const store_member_t *member)
{
    if (member->user_id == 0)
        return "none";
    switch (member->status) {
    case STORE_MEMBER_PENDING:
        return "pending";
    case STORE_MEMBER_ACTIVE:
        return member->role == STORE_ROLE_ADMIN ? "admin" : "member";
    default:
        return "none";
    }
}
