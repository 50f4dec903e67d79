/* meeting/minutes_api — see minutes_api.h. */
#include "meeting/minutes_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/text.h"
#include "content/content_check.h"
#include "crypto/crypto.h"
#include "http/reply.h"
#include "meeting/meeting_rules.h"
#include "org/org_job.h"
#include "storage/doc_type.h"
#include "storage/files.h"
#include "storage/storage_api.h"
#include "store/store_meeting.h"
#include "store/store_minutes.h"

#define NAME_MAX_CHARS   100
#define MULTIPART_SLACK  (64 * 1024)
#define ATTACHMENT_FIELD "file"
#define MINUTES_MAX_BODY (256 * 1024)

/* The caller's place on meeting id (read into *m): reader (on it, approver, admin) and writer
 * (host, admin). false when the job failed (804, 506 for a non-reader, 502). */
static bool load(org_job_t *job, store_t *store, int64_t id, store_meeting_t *m, bool *writer)
{
    store_rc rc = store_meeting_get(store, id, m);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "minutes meeting");
        return false;
    }
    *writer = m->host_id == job->user.id || store_member_is_admin(&job->member);
    return true;
}

/* Whether the caller may read meeting m: on it (one attendee query), its approver, or an admin. */
typedef struct reader_walk {
    int64_t user_id;
    bool on;
} reader_walk_t;

static store_rc find_reader(const store_attendee_t *a, void *ctx)
{
    reader_walk_t *w = ctx;
    w->on |= a->user_id == w->user_id;
    return STORE_OK;
}

static bool may_read(org_job_t *job, store_t *store, const store_meeting_t *m)
{
    if (store_member_is_admin(&job->member) || m->host_id == job->user.id ||
        (m->approver_id != 0 && m->approver_id == job->user.id))
        return true;
    reader_walk_t w = {job->user.id, false};
    store_rc rc = store_meeting_attendees(store, m->id, find_reader, &w);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "minutes readers");
        return false;
    }
    if (!w.on)
        org_fail(job, API_NO_PERMISSION, NULL);
    return w.on;
}

/* The meeting's minutes may be written now: ended (6), not archived. */
static bool writable(org_job_t *job, const store_meeting_t *m)
{
    int shown = meeting_state_at(m->state, m->start_at, m->end_at, job->now);
    if (shown != STORE_MEETING_ENDED) {
        org_fail(job, API_MEETING_STATE, "会议结束后、归档前才能填写纪要和附件");
        return false;
    }
    return true;
}

/* The directory of the attachments' files. */
static void attachment_dir(const org_job_t *job, char *dir, size_t size)
{
    snprintf(dir, size, "%s/%s", job->app->config->storage_dir, STORAGE_ATTACHMENTS_DIR);
}

static store_meeting_t *meeting_buffer(org_job_t *job)
{
    store_meeting_t *m = malloc(sizeof *m);
    if (m == NULL || job->nowned >= ORG_JOB_MAX_OWNED) {
        free(m);
        org_fail(job, API_SERIOUS, NULL);
        return NULL;
    }
    job->owned[job->nowned++] = m;
    return m;
}

/* ---- POST /wx/meeting/minutes {id, text} ---- */

static void run_minutes_set(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    const char *text;
    bool writer = false;
    store_meeting_t *m;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") ||
        !org_param_text(job, "text", true, 0, STORE_MINUTES_MAX_CHARS, true, &text, "纪要须为0到20000个字符") ||
        (m = meeting_buffer(job)) == NULL || !load(job, store, id, m, &writer))
        return;
    if (!writer) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return;
    }
    if (!writable(job, m))
        return;
    store_rc rc = store_minutes_set(store, id, text, job->user.id, job->now);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "minutes set");
        return;
    }
    job->data = json_pack("{s:I, s:o}", "meetingId", (json_int_t)id, "updateTime", org_time_json(job->now));
}
static const content_field_t MINUTES_TEXTS[] = {{"text", "会议纪要", 3}, {NULL, NULL, 0}};
ORG_ENDPOINT_CHECKED(minutes_set, ORG_MEMBER, run_minutes_set, MINUTES_TEXTS)

/* ---- GET /wx/meeting/minutes?id= ---- */

static json_t *attachment_json(const store_attachment_t *a)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:o}", "id", (json_int_t)a->id, "name", a->name, "contentType",
                     a->content_type, "size", (json_int_t)a->size, "addTime", org_time_json(a->created_at));
}

static store_rc add_attachment(const store_attachment_t *a, void *ctx)
{
    return json_array_append_new(ctx, attachment_json(a)) == 0 ? STORE_OK : STORE_ERROR;
}

static void run_minutes_get(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    bool writer = false;
    store_meeting_t *m;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") || (m = meeting_buffer(job)) == NULL ||
        !load(job, store, id, m, &writer) || !may_read(job, store, m))
        return;
    store_minutes_t minutes;
    store_rc rc = store_minutes_get(store, id, &minutes);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        org_fail_store(job, store, rc, "minutes get");
        return;
    }
    json_t *list = json_array();
    store_rc lrc = store_attachment_list(store, id, add_attachment, list);
    if (lrc != STORE_OK) {
        free(minutes.text);
        json_decref(list);
        org_fail_store(job, store, lrc, "attachment list");
        return;
    }
    job->data = json_pack("{s:I, s:s, s:s, s:o, s:o}", "meetingId", (json_int_t)id, "text",
                          minutes.text != NULL ? minutes.text : "", "authorName", minutes.author_name, "updateTime",
                          org_time_json(minutes.updated_at), "attachments", list);
    free(minutes.text);
}
ORG_ENDPOINT(minutes_get, ORG_MEMBER, run_minutes_get)

/* ---- POST /wx/meeting/attachment (multipart: id, file) ---- */

/* The display name of an upload: its filename's last path segment, cut to 100 characters,
 * without control characters; the type's extension when there is none. */
static void attachment_name(const char *raw, const doc_type_t *type, char *out, size_t size)
{
    const char *base = raw;
    for (const char *p = raw; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = 0, chars = 0, len = strlen(base);
    if (!text_utf8_valid(base, len))
        len = 0;
    for (size_t i = 0; i < len && chars < NAME_MAX_CHARS && n + 5 < size;) {
        size_t step = 1;
        while (i + step < len && ((unsigned char)base[i + step] & 0xc0) == 0x80)
            step++;
        if ((unsigned char)base[i] >= 0x20 && base[i] != 0x7f && base[i] != '"') {
            memcpy(out + n, base + i, step);
            n += step;
            chars++;
        }
        i += step;
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, size, "附件.%s", type->ext);
}

static void run_attachment_add(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    bool writer = false;
    store_meeting_t *m;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") || (m = meeting_buffer(job)) == NULL ||
        !load(job, store, id, m, &writer))
        return;
    if (!writer) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return;
    }
    if (!writable(job, m))
        return;
    const config_t *config = job->app->config;
    if (job->blob_len == 0) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "附件为空");
        return;
    }
    if (job->blob_len > config->minutes_max_attachment_bytes) {
        org_fail(job, API_UPLOAD_TOO_LARGE, "附件不能超过 %zu 字节", config->minutes_max_attachment_bytes);
        return;
    }
    const doc_type_t *type = doc_type_detect(job->blob, job->blob_len);
    if (type == NULL) {
        org_fail(job, API_UPLOAD_TYPE, "附件须为 PDF、PNG、JPEG、DOCX、XLSX 或 PPTX");
        return;
    }
    store_attachment_t a = {
        .meeting_id = id, .size = (int64_t)job->blob_len, .uploaded_by = job->user.id, .created_at = job->now};
    attachment_name(job->blob_name, type, a.name, sizeof a.name);
    snprintf(a.content_type, sizeof a.content_type, "%s", type->content_type);
    char hex[33];
    if (!crypto_random_alnum(hex, 32)) {
        org_fail(job, API_SERIOUS, NULL);
        return;
    }
    snprintf(a.file_key, sizeof a.file_key, "%s.%s", hex, type->ext);
    char dir[1024], why[128];
    attachment_dir(job, dir, sizeof dir);
    const char *step = "";
    if (storage_file_write(dir, a.file_key, job->blob, job->blob_len, &step) != 0) {
        log_error("attachment of meeting %lld not stored: cannot %s: %s", (long long)id, step,
                  storage_error_text(errno, why, sizeof why));
        org_fail(job, API_SERIOUS, NULL);
        return;
    }
    store_refusal_t refusal;
    store_rc rc = store_attachment_add(store, &a, config->minutes_max_attachments, &refusal);
    if (rc != STORE_OK || refusal != STORE_REFUSED_NOT) {
        storage_file_remove(dir, a.file_key);
        if (rc != STORE_OK)
            org_fail_store(job, store, rc, "attachment add");
        else
            org_fail(job, API_BAD_ARGUMENT_VALUE, "每个会议最多 %d 个附件", config->minutes_max_attachments);
        return;
    }
    job->data = attachment_json(&a);
    snprintf(job->file_key, sizeof job->file_key, "%s", a.file_key);
}

/* Back on the loop: an image attachment goes to WeChat's media check (content/content_check.h)
 * through a signed link, since attachments are never public (storage_signed_attachment_url). */
static bool then_attachment_add(org_job_t *job, h2o_req_t *req)
{
    if (!job->app->config->content_check || job->user.openid[0] == '\0')
        return false;
    char *url = storage_signed_attachment_url(req, job->app->config, job->file_key);
    if (url == NULL)
        return false; /* not an image, or no absolute URL WeChat could download */
    char key[sizeof job->file_key + sizeof STORAGE_ATTACHMENTS_DIR + 1];
    snprintf(key, sizeof key, "%s/%s", STORAGE_ATTACHMENTS_DIR, job->file_key);
    json_int_t id = json_integer_value(json_object_get(job->data, "id"));
    content_media_t media = {.user_id = job->user.id,
                             .object_id = (int64_t)id,
                             .openid = job->user.openid,
                             .key = key,
                             .url = url,
                             .route = "/wx/meeting/attachment",
                             .scene = 3}; /* 论坛: published to the people of a meeting */
    content_media_check(job->app, http_receiver(req), &media);
    return false;
}
static const char *const attachment_fields[] = {"id", NULL};
ORG_UPLOAD_ENDPOINT(attachment_add, ORG_MEMBER, run_attachment_add, then_attachment_add, ATTACHMENT_FIELD,
                    attachment_fields)

/* ---- one attachment and its meeting ---- */

/* Reads the attachment the request's id names, and its meeting (*m, job-owned); false when
 * the job failed (401/402, 804, 502). */
static bool load_attachment(org_job_t *job, store_t *store, store_attachment_t *a, store_meeting_t **m, bool *writer)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return false;
    store_rc rc = store_attachment_get(store, id, a);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "attachment get");
        return false;
    }
    return (*m = meeting_buffer(job)) != NULL && load(job, store, a->meeting_id, *m, writer);
}

/* ---- GET /wx/meeting/attachment?id= ---- */

static void run_attachment_get(org_job_t *job, store_t *store)
{
    bool writer = false;
    store_meeting_t *m;
    store_attachment_t a;
    if (!load_attachment(job, store, &a, &m, &writer) || !may_read(job, store, m))
        return;
    char dir[1024];
    attachment_dir(job, dir, sizeof dir);
    fetch_outcome_t got = storage_file_read(dir, a.file_key, &job->blob, &job->blob_len);
    if (got != FETCH_FOUND) {
        org_fail(job, got == FETCH_MISSING ? API_NO_SUCH_OBJECT : API_SERIOUS, NULL);
        return;
    }
    job->data = json_pack("{s:s, s:s}", "name", a.name, "contentType", a.content_type);
}

/* Content-Disposition: attachment; filename*=UTF-8''<percent-encoded name> (RFC 6266). */
static bool then_attachment_get(org_job_t *job, h2o_req_t *req)
{
    const char *name = json_string_value(json_object_get(job->data, "name"));
    size_t len = strlen(name);
    char *value = h2o_mem_alloc_pool(&req->pool, 40 + 3 * len);
    int n = sprintf(value, "attachment; filename*=UTF-8''");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c))
            value[n++] = (char)c;
        else
            n += sprintf(value + n, "%%%02X", c);
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_DISPOSITION, NULL, value, (size_t)n);
    http_reply_bytes(req, json_string_value(json_object_get(job->data, "contentType")), "private, no-store", job->blob,
                     job->blob_len);
    return true;
}
ORG_ENDPOINT_THEN(attachment_get, ORG_MEMBER, run_attachment_get, then_attachment_get)

/* ---- POST /wx/meeting/attachment/delete {id} ---- */

static void run_attachment_delete(org_job_t *job, store_t *store)
{
    bool writer = false;
    store_meeting_t *m;
    store_attachment_t a;
    if (!load_attachment(job, store, &a, &m, &writer))
        return;
    if (!writer) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return;
    }
    if (!writable(job, m))
        return;
    store_rc rc = store_attachment_delete(store, a.id);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "attachment delete");
        return;
    }
    char dir[1024];
    attachment_dir(job, dir, sizeof dir);
    if (storage_file_remove(dir, a.file_key) != 0)
        log_warn("attachment file %s of meeting %lld could not be removed", a.file_key, (long long)a.meeting_id);
    job->data = json_pack("{s:I}", "id", (json_int_t)a.id);
}
ORG_ENDPOINT(attachment_delete, ORG_MEMBER, run_attachment_delete)

static const http_route_t minutes_routes[] = {
    {"POST", "/wx/meeting/minutes", minutes_set}, /* its limit: minutes_body_limit */
    {"GET", "/wx/meeting/minutes", minutes_get},
    {"POST", "/wx/meeting/attachment", attachment_add}, /* its limit: minutes_body_limit */
    {"GET", "/wx/meeting/attachment", attachment_get},
    {"POST", "/wx/meeting/attachment/delete", attachment_delete},
};

static size_t minutes_body_limit(const config_t *config, const http_route_t *route)
{
    if (route->handler == attachment_add)
        return config->minutes_max_attachment_bytes + MULTIPART_SLACK;
    if (route->handler == minutes_set) /* 20,000 characters as JSON escapes */
        return config->max_body_bytes > MINUTES_MAX_BODY ? config->max_body_bytes : MINUTES_MAX_BODY;
    return 0;
}

const app_module_t minutes_module = {
    .name = "minutes",
    APP_MODULE_ROUTES_FIELDS(minutes_routes),
    .body_limit = minutes_body_limit,
};
