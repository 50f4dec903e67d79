/*
 * health/health_api — /healthz and /readyz (contract in health_api.h).
 *
 * A readyz request is one ready_job_t, owned by the loop that took the request: the database
 * job and the token probe are sent off with it and come back to that loop, and its timer runs
 * on that loop, so its fields are only touched there (the worker writes the database results
 * before it replies). The request is answered once: when both checks are back, or when the
 * timer fires first. The job is freed when it is answered and nothing is still out.
 */
#include "health/health_api.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <h2o.h>
#include <jansson.h>

#include "app/app.h"
#include "common/clock.h"
#include "common/log.h"
#include "http/server.h"
#include "runtime/db_pool.h"
#include "store/store.h"
#include "wechat/wx_client.h"

#define REASON_SIZE 96

/* ---- answers ---- */

static void send_json(h2o_req_t *req, int status, const char *reason, json_t *body)
{
    static h2o_generator_t generator = {NULL, NULL};
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    size_t len = text != NULL ? strlen(text) : 0;
    char *copy = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(copy, text != NULL ? text : "", len + 1);
    free(text);
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_start_response(req, &generator);
    h2o_iovec_t buf = h2o_iovec_init(copy, len);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

static int healthz(h2o_req_t *req, void *app)
{
    (void)app;
    json_t *body = json_pack("{s:s}", "status", "ok");
    send_json(req, 200, "OK", body);
    return 0;
}

/* ---- readyz ---- */

/* The last failed token probe of this process (HEALTH_WX_FAIL_MEMORY_MS). */
static pthread_mutex_t wx_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t wx_fail_at_ms = INT64_MIN / 2;
static char wx_fail_reason[REASON_SIZE];

static atomic_int db_jobs_late; /* readyz database jobs whose request timed out, not back yet */

/* The timer of each loop (h2o 2.2's timeouts are per loop and per duration). */
static _Thread_local h2o_timeout_t ready_timeout;
static _Thread_local h2o_loop_t *ready_timeout_loop;

typedef enum check_state { CHECK_WAITING, CHECK_OK, CHECK_FAILED } check_state_t;

typedef struct ready_job {
    db_job_t db; /* first */
    wx_token_probe_req_t probe;
    http_pending_t pending;
    h2o_timeout_entry_t timer;
    int out; /* of the database job and the probe, those not back yet */
    bool answered;
    bool db_out;  /* the database job is not back */
    bool db_late; /* ...and counted in db_jobs_late */
    /* written by the worker, read back on the loop */
    store_rc db_rc;
    int db_version;
    /* on the loop */
    check_state_t database, migrations, wechat;
    char database_reason[REASON_SIZE], migrations_reason[REASON_SIZE], wechat_reason[REASON_SIZE];
} ready_job_t;

static void check_fail(check_state_t *state, char *reason, const char *text)
{
    *state = CHECK_FAILED;
    snprintf(reason, REASON_SIZE, "%s", text);
}

static void put_check(json_t *checks, json_t *failed, const char *name, check_state_t state, const char *reason)
{
    if (state == CHECK_OK) {
        json_object_set_new(checks, name, json_string("ok"));
        return;
    }
    char late[64];
    if (state == CHECK_WAITING) {
        snprintf(late, sizeof late, "no answer within %d ms", HEALTH_READY_TIMEOUT_MS);
        reason = late;
    }
    json_object_set_new(checks, name, json_string(reason));
    json_array_append_new(failed, json_string(name));
}

static void ready_answer(ready_job_t *job)
{
    job->answered = true;
    if (h2o_timeout_is_linked(&job->timer))
        h2o_timeout_unlink(&job->timer);
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req == NULL)
        return;
    if (job->database == CHECK_WAITING) /* nothing is known of the schema without the database */
        check_fail(&job->migrations, job->migrations_reason, "unknown");
    json_t *checks = json_object(), *failed = json_array();
    put_check(checks, failed, "database", job->database, job->database_reason);
    put_check(checks, failed, "migrations", job->migrations, job->migrations_reason);
    put_check(checks, failed, "wechat", job->wechat, job->wechat_reason);
    bool ready = json_array_size(failed) == 0;
    json_t *body = json_pack("{s:s,s:o}", "status", ready ? "ready" : "not ready", "checks", checks);
    if (ready)
        json_decref(failed);
    else
        json_object_set_new(body, "failed", failed);
    send_json(req, ready ? 200 : 503, ready ? "OK" : "Service Unavailable", body);
}

/* One of the outstanding parts is back: answer when it was the last, free when answered. */
static void ready_part_done(ready_job_t *job)
{
    job->out--;
    if (!job->answered && job->out == 0)
        ready_answer(job);
    if (job->answered && job->out == 0)
        free(job);
}

static void on_ready_timeout(h2o_timeout_entry_t *entry)
{
    ready_job_t *job = H2O_STRUCT_FROM_MEMBER(ready_job_t, timer, entry);
    if (job->db_out) {
        job->db_late = true;
        atomic_fetch_add(&db_jobs_late, 1);
    }
    if (!job->answered)
        ready_answer(job);
    if (job->out == 0)
        free(job);
}

static void run_ready_db(db_job_t *db, store_t *store)
{
    ready_job_t *job = (ready_job_t *)db;
    job->db_rc = store_schema_version(store, &job->db_version);
    if (job->db_rc != STORE_OK)
        log_warn("readyz: the database check failed: %s", store_last_error(store));
}

static void on_ready_db(loop_msg_t *msg)
{
    ready_job_t *job = (ready_job_t *)msg;
    job->db_out = false;
    if (job->db_late)
        atomic_fetch_sub(&db_jobs_late, 1);
    if (!job->answered) {
        if (job->db_rc != STORE_OK) {
            check_fail(&job->database, job->database_reason, "error");
            check_fail(&job->migrations, job->migrations_reason, "unknown");
        } else {
            job->database = CHECK_OK;
            int latest = store_schema_latest();
            if (job->db_version >= latest)
                job->migrations = CHECK_OK;
            else {
                job->migrations = CHECK_FAILED;
                snprintf(job->migrations_reason, REASON_SIZE, "pending: database at %d, this binary needs %d",
                         job->db_version, latest);
            }
        }
    }
    ready_part_done(job);
}

/* The probe's outcome as a reason ("" for WX_OK). */
static void wx_reason(const wx_token_probe_req_t *probe, char reason[REASON_SIZE])
{
    switch (probe->outcome) {
    case WX_OK:
        reason[0] = '\0';
        break;
    case WX_ERRCODE:
        snprintf(reason, REASON_SIZE, "no access_token: errcode %ld", probe->errcode);
        break;
    case WX_TIMEOUT:
        snprintf(reason, REASON_SIZE, "no access_token: timeout");
        break;
    case WX_UNREACHABLE:
        snprintf(reason, REASON_SIZE, "no access_token: unreachable");
        break;
    default:
        snprintf(reason, REASON_SIZE, "no access_token: bad response (http %d)", probe->http_status);
        break;
    }
}

static void on_ready_probe(loop_msg_t *msg)
{
    ready_job_t *job = H2O_STRUCT_FROM_MEMBER(ready_job_t, probe, (wx_token_probe_req_t *)msg);
    char reason[REASON_SIZE];
    wx_reason(&job->probe, reason);
    if (job->probe.outcome != WX_OK) {
        pthread_mutex_lock(&wx_fail_lock);
        wx_fail_at_ms = clock_monotonic_ms();
        memcpy(wx_fail_reason, reason, sizeof(reason));
        pthread_mutex_unlock(&wx_fail_lock);
    }
    if (!job->answered) {
        if (job->probe.outcome == WX_OK)
            job->wechat = CHECK_OK;
        else
            check_fail(&job->wechat, job->wechat_reason, reason);
    }
    ready_part_done(job);
}

/* The WeChat check without a probe when the answer is known: a token held, or a recent failure. */
static bool wechat_known(app_t *app, ready_job_t *job)
{
    wx_token_status_t status;
    wx_client_token_status(app->wx, &status);
    if (status.have_token && status.expires_at > (int64_t)time(NULL)) {
        job->wechat = CHECK_OK;
        return true;
    }
    bool known = false;
    pthread_mutex_lock(&wx_fail_lock);
    if (clock_monotonic_ms() - wx_fail_at_ms < HEALTH_WX_FAIL_MEMORY_MS) {
        check_fail(&job->wechat, job->wechat_reason, wx_fail_reason);
        known = true;
    }
    pthread_mutex_unlock(&wx_fail_lock);
    return known;
}

static int readyz(h2o_req_t *req, void *p)
{
    app_t *app = p;
    ready_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        send_json(req, 503, "Service Unavailable", json_pack("{s:s}", "status", "out of memory"));
        return 0;
    }
    http_pending_attach(&job->pending, req);
    h2o_loop_t *loop = http_loop(req);
    if (ready_timeout_loop != loop) {
        h2o_timeout_init(loop, &ready_timeout, HEALTH_READY_TIMEOUT_MS);
        ready_timeout_loop = loop;
    }
    job->timer.cb = on_ready_timeout;
    h2o_timeout_link(loop, &ready_timeout, &job->timer);

    if (atomic_load(&db_jobs_late) >= HEALTH_DB_JOBS_MAX) {
        check_fail(&job->database, job->database_reason, "busy: earlier checks still waiting");
        check_fail(&job->migrations, job->migrations_reason, "unknown");
    } else {
        job->out++;
        job->db_out = true;
        db_pool_run(app->db, &job->db, run_ready_db, http_receiver(req), on_ready_db);
    }
    if (!wechat_known(app, job)) {
        job->out++;
        loop_msg_init(&job->probe.msg, http_receiver(req), on_ready_probe);
        wx_probe_token(app->wx, &job->probe);
    }
    if (job->out == 0) { /* nothing was sent off: answer now */
        ready_answer(job);
        free(job);
    }
    return 0;
}

static const http_route_t health_routes[] = {
    {"GET", "/healthz", healthz},
    {"GET", "/readyz", readyz},
};

const app_module_t health_module = {.name = "health", APP_MODULE_ROUTES_FIELDS(health_routes)};
