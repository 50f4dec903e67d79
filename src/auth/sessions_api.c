/*
 * auth/sessions_api — see sessions_api.h. Each endpoint: the token check on the loop, one job on
 * a database worker (which builds the answer's data), the session cache's part and the answer
 * back on the loop.
 */
#include "auth/sessions_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/caller.h"
#include "auth/session_bus.h"
#include "common/log.h"
#include "common/text.h"
#include "crypto/crypto.h"
#include "http/fields.h"
#include "http/reply.h"
#include "http/request.h"
#include "org/org_job.h"
#include "store/store_sessions.h"

#define LOG_DEFAULT_LIMIT 20
#define LOG_MAX_LIMIT     100
#define LOG_MAX_PAGE      1000000

void auth_session_id(const uint8_t token_hash[32], char out[AUTH_SESSION_ID_SIZE])
{
    static const char label[] = "meetoa session id v1";
    uint8_t in[sizeof(label) - 1 + 32], digest[32];
    memcpy(in, label, sizeof(label) - 1);
    memcpy(in + sizeof(label) - 1, token_hash, 32);
    crypto_sha256(in, sizeof(in), digest);
    crypto_hex(digest, (AUTH_SESSION_ID_SIZE - 1) / 2, out);
    out[AUTH_SESSION_ID_SIZE - 1] = '\0';
}

typedef struct sessions_job sessions_job_t;
typedef void (*sessions_done_fn)(sessions_job_t *job, h2o_req_t *req);

struct sessions_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    sessions_done_fn done; /* on the loop, after the worker; req may be NULL */
    int64_t user_id;
    uint8_t current[32]; /* the caller's token hash */
    char ip[IP_TEXT_SIZE];
    int64_t now;
    char id[AUTH_SESSION_ID_SIZE]; /* logout_session: the one to end */
    int64_t page, limit;           /* login_log */
    /* from the worker */
    api_errno_t err;
    json_t *data;
    bool found;
    uint8_t ended[32]; /* logout_session: its token hash */
};

static void on_done(loop_msg_t *msg)
{
    sessions_job_t *job = (sessions_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    job->done(job, req);
    if (req != NULL) {
        if (job->err != API_OK)
            http_reply_error(req, job->err);
        else {
            http_reply_ok(req, job->data);
            job->data = NULL;
        }
    }
    json_decref(job->data);
    free(job);
}

static void done_nothing(sessions_job_t *job, h2o_req_t *req)
{
    (void)job;
    (void)req;
}

/* A job for caller; NULL (and the request answered) when out of memory. */
static sessions_job_t *job_new(h2o_req_t *req, app_t *app, const auth_caller_t *caller, sessions_done_fn done)
{
    sessions_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        http_reply_error(req, API_SERIOUS);
        return NULL;
    }
    job->app = app;
    job->done = done;
    job->user_id = caller->user.id;
    memcpy(job->current, caller->token_hash, 32);
    auth_client_ip(req, app, job->ip);
    job->now = time(NULL);
    return job;
}

static void job_start(h2o_req_t *req, sessions_job_t *job, void (*run)(db_job_t *, store_t *))
{
    http_pending_attach(&job->pending, req);
    db_pool_run(job->app->db, &job->db, run, http_receiver(req), on_done);
}

/* The worker's end for a store failure. */
static void job_fail_store(sessions_job_t *job, store_t *store, const char *what)
{
    log_error("%s failed: %s", what, store_last_error(store));
    job->err = API_SERIOUS;
}

static json_t *page_json(json_t *list, int64_t total, int64_t page, int64_t limit)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "list", list);
    json_object_set_new(obj, "total", json_integer(total));
    json_object_set_new(obj, "page", json_integer(page));
    json_object_set_new(obj, "limit", json_integer(limit));
    json_object_set_new(obj, "pages", json_integer(limit > 0 ? (total + limit - 1) / limit : 0));
    return obj;
}

/* ---- GET /wx/auth/sessions ---- */

static store_rc add_session(const store_session_row_t *row, void *ctx)
{
    sessions_job_t *job = ctx;
    char id[AUTH_SESSION_ID_SIZE];
    auth_session_id(row->token_hash, id);
    json_t *item = json_object();
    json_object_set_new(item, "id", json_string(id));
    json_object_set_new(item, "createdAt", org_time_json(row->created_at));
    json_object_set_new(item, "lastUsedAt",
                        org_time_json(row->last_used_at != 0 ? row->last_used_at : row->created_at));
    json_object_set_new(item, "expireTime", org_time_json(row->expires_at));
    json_object_set_new(item, "ip", json_string(row->last_ip[0] != '\0' ? row->last_ip : row->login_ip));
    json_object_set_new(item, "loginIp", json_string(row->login_ip));
    json_object_set_new(item, "current", json_boolean(crypto_equal(row->token_hash, job->current, 32)));
    json_array_append_new(job->data, item);
    return STORE_OK;
}

static void run_sessions(db_job_t *db, store_t *store)
{
    sessions_job_t *job = (sessions_job_t *)db;
    job->data = json_array();
    if (store_session_list(store, job->user_id, job->now, add_session, job) != STORE_OK) {
        job_fail_store(job, store, "session list");
        return;
    }
    int64_t n = (int64_t)json_array_size(job->data);
    job->data = page_json(job->data, n, 1, n);
}

static void list_sessions(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    sessions_job_t *job = job_new(req, app, caller, done_nothing);
    if (job != NULL)
        job_start(req, job, run_sessions);
}

static int sessions_get(h2o_req_t *req, void *app)
{
    return auth_require(req, app, list_sessions);
}

/* ---- POST /wx/auth/logout_all ---- */

static void run_logout_all(db_job_t *db, store_t *store)
{
    sessions_job_t *job = (sessions_job_t *)db;
    long ended = 0;
    if (store_session_delete_user(store, job->user_id, job->now, &ended) != STORE_OK) {
        job_fail_store(job, store, "logout_all");
        return;
    }
    if (store_login_log_add(store, job->user_id, STORE_LOGIN_EVENT_LOGOUT_ALL, 0, job->ip, job->now) != STORE_OK)
        log_warn("login log not written: %s", store_last_error(store));
    job->data = json_pack("{s:I}", "ended", (json_int_t)ended);
}

/* Again after the rows are gone: a token check that read one before cannot have cached it. */
static void done_logout_all(sessions_job_t *job, h2o_req_t *req)
{
    (void)req;
    session_cache_remove_user(job->app->sessions, job->user_id);
    session_bus_user_ended(job->app, job->user_id); /* the other instances at once */
}

static void logout_all(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    session_cache_remove_user(app->sessions, caller->user.id); /* refused here from now on */
    sessions_job_t *job = job_new(req, app, caller, done_logout_all);
    if (job != NULL)
        job_start(req, job, run_logout_all);
}

static int logout_all_post(h2o_req_t *req, void *app)
{
    return auth_require_no_renew(req, app, logout_all);
}

/* ---- POST /wx/auth/logout_session {id} ---- */

static store_rc find_session(const store_session_row_t *row, void *ctx)
{
    sessions_job_t *job = ctx;
    char id[AUTH_SESSION_ID_SIZE];
    auth_session_id(row->token_hash, id);
    if (!job->found && crypto_equal(id, job->id, AUTH_SESSION_ID_SIZE)) {
        job->found = true;
        memcpy(job->ended, row->token_hash, 32);
    }
    return STORE_OK;
}

static void run_logout_session(db_job_t *db, store_t *store)
{
    sessions_job_t *job = (sessions_job_t *)db;
    if (store_session_list(store, job->user_id, job->now, find_session, job) != STORE_OK) {
        job_fail_store(job, store, "logout_session");
        return;
    }
    store_rc rc = job->found ? store_session_delete(store, job->ended) : STORE_NOT_FOUND;
    if (rc == STORE_NOT_FOUND) { /* none such, or ended meanwhile */
        job->err = API_NO_SUCH_OBJECT;
        return;
    }
    if (rc != STORE_OK) {
        job_fail_store(job, store, "logout_session");
        return;
    }
    if (store_login_log_add(store, job->user_id, STORE_LOGIN_EVENT_LOGOUT, 0, job->ip, job->now) != STORE_OK)
        log_warn("login log not written: %s", store_last_error(store));
    job->data = json_object();
}

static void done_logout_session(sessions_job_t *job, h2o_req_t *req)
{
    (void)req;
    if (job->found) {
        session_cache_remove(job->app->sessions, job->ended);
        session_bus_session_ended(job->app, job->ended); /* the other instances at once */
    }
}

static bool is_session_id(const char *id)
{
    if (strlen(id) != AUTH_SESSION_ID_SIZE - 1)
        return false;
    for (const char *p = id; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void logout_session(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    api_errno_t err = API_BAD_ARGUMENT;
    json_t *body = http_read_json(req, &err);
    const char *id = NULL;
    if (body == NULL || !fields_token(body, "id", true, 1, 64, &id, &err)) {
        json_decref(body);
        http_reply_error(req, err);
        return;
    }
    if (!is_session_id(id)) { /* no session has such an id */
        json_decref(body);
        http_reply_error(req, API_NO_SUCH_OBJECT);
        return;
    }
    sessions_job_t *job = job_new(req, app, caller, done_logout_session);
    if (job != NULL) {
        snprintf(job->id, sizeof(job->id), "%s", id);
        job_start(req, job, run_logout_session);
    }
    json_decref(body);
}

static int logout_session_post(h2o_req_t *req, void *app)
{
    return auth_require_no_renew(req, app, logout_session);
}

/* ---- GET /wx/auth/login_log ---- */

static store_rc add_log_row(const store_login_log_row_t *row, void *ctx)
{
    json_t *item = json_object();
    json_object_set_new(item, "id", json_integer(row->id));
    json_object_set_new(item, "event", json_string(row->event));
    json_object_set_new(item, "errno", json_integer(row->err));
    json_object_set_new(item, "ip", json_string(row->ip));
    json_object_set_new(item, "time", org_time_json(row->created_at));
    json_array_append_new(ctx, item);
    return STORE_OK;
}

static void run_login_log(db_job_t *db, store_t *store)
{
    sessions_job_t *job = (sessions_job_t *)db;
    json_t *list = json_array();
    int64_t total = 0;
    if (store_login_log_list(store, job->user_id, (job->page - 1) * job->limit, job->limit, add_log_row, list,
                             &total) != STORE_OK) {
        json_decref(list);
        job_fail_store(job, store, "login log");
        return;
    }
    job->data = page_json(list, total, job->page, job->limit);
}

/* A query parameter: absent (*out = def), or a decimal integer in min..max; false when it is not. */
static bool query_int(json_t *query, const char *key, int64_t min, int64_t max, int64_t def, int64_t *out)
{
    const char *text = json_string_value(json_object_get(query, key));
    *out = def;
    if (text == NULL)
        return true;
    int64_t v = 0;
    if (*text == '\0' || strlen(text) > 9)
        return false;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

static void login_log(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    api_errno_t err = API_BAD_ARGUMENT_VALUE;
    json_t *query = http_read_query(req, &err);
    int64_t page, limit;
    bool ok = query != NULL && query_int(query, "page", 1, LOG_MAX_PAGE, 1, &page) &&
              query_int(query, "limit", 1, LOG_MAX_LIMIT, LOG_DEFAULT_LIMIT, &limit);
    json_decref(query);
    if (!ok) {
        http_reply_error(req, API_BAD_ARGUMENT_VALUE);
        return;
    }
    sessions_job_t *job = job_new(req, app, caller, done_nothing);
    if (job != NULL) {
        job->page = page;
        job->limit = limit;
        job_start(req, job, run_login_log);
    }
}

static int login_log_get(h2o_req_t *req, void *app)
{
    return auth_require(req, app, login_log);
}

/* ---- the module ---- */

static const http_route_t sessions_routes[] = {
    {"GET", "/wx/auth/sessions", sessions_get},
    {"POST", "/wx/auth/logout_all", logout_all_post},
    {"POST", "/wx/auth/logout_session", logout_session_post},
    {"GET", "/wx/auth/login_log", login_log_get},
};

const app_module_t sessions_module = {.name = "sessions", APP_MODULE_ROUTES_FIELDS(sessions_routes)};
