/* guard/rate_guard — see rate_guard.h. */
#include "guard/rate_guard.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/server.h"
#include "metrics/metrics.h"

/* A check waiting for Redis, with the continuation and a copy of its argument. */
typedef struct guard_job {
    shared_check_t check; /* first */
    http_pending_t pending;
    rate_guard_then then;
    void *app;
    size_t arg_size;
    alignas(max_align_t) unsigned char arg[];
} guard_job_t;

void rate_guard_count_refusal(const shared_limit_t *rl)
{
    /* The limits' names as app.c gives them (oa.rate-limit.*), and "other". */
    static const char *const names[] = {"login-ip",  "login-openid",  "phone-ip", "phone-openid",
                                        "upload-ip", "upload-openid", "other"};
    enum { NNAMES = sizeof(names) / sizeof(names[0]) };
    static metrics_family_t *_Atomic family;
    metrics_family_t *f = atomic_load(&family);
    if (f == NULL) {
        metrics_label_t label = {"limit", names, NNAMES};
        f = metrics_counter("meetoa_rate_limited_total",
                            "Requests refused by a rate limit (429), by oa.rate-limit key.", &label, 1);
        atomic_store(&family, f);
    }
    metrics_inc(f, metrics_label_index(f, 0, shared_limit_name(rl), NNAMES - 1));
}

static void refuse(h2o_req_t *req, const shared_limit_t *rl, unsigned retry_after)
{
    rate_guard_count_refusal(rl);
    h2o_iovec_t path = req->path_normalized;
    log_debug("%.*s refused by the rate limit %s: retry in %u s", (int)(path.len < 100 ? path.len : 100), path.base,
              shared_limit_name(rl), retry_after);
    http_reply_too_many(req, retry_after);
}

static void on_checked(shared_check_t *check)
{
    guard_job_t *job = (guard_job_t *)check;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL) {
        if (check->allowed)
            job->then(req, job->app, job->arg_size > 0 ? job->arg : NULL);
        else
            refuse(req, check->limit, check->retry_after_s);
    }
    free(job);
}

/* Takes a token for key, then runs then or answers 429. */
static void take(h2o_req_t *req, shared_limit_t *rl, const char *key, size_t len, rate_guard_then then, void *app,
                 const void *arg, size_t arg_size)
{
    guard_job_t *job = NULL;
    if (shared_limit_remote(rl) && (job = malloc(sizeof(*job) + arg_size)) != NULL) {
        job->then = then;
        job->app = app;
        job->arg_size = arg_size;
        if (arg_size > 0)
            memcpy(job->arg, arg, arg_size);
        http_pending_attach(&job->pending, req);
        if (shared_limit_take(rl, key, len, &job->check, http_receiver(req), on_checked))
            on_checked(&job->check); /* the shared mode ended just now: answered here */
        return;
    }
    unsigned retry_after;
    if (shared_limit_take_now(rl, key, len, &retry_after))
        then(req, app, arg);
    else
        refuse(req, rl, retry_after);
}

void rate_guard_addr(h2o_req_t *req, shared_limit_t *rl, const ip_addr_t *client, rate_guard_then then, void *app,
                     const void *arg, size_t arg_size)
{
    char key[IP_KEY_SIZE];
    size_t len = shared_limit_off(rl) ? 0 : ip_addr_limit_key(client, key);
    if (len == 0)
        then(req, app, arg);
    else
        take(req, rl, key, len, then, app, arg, arg_size);
}

void rate_guard_client(h2o_req_t *req, shared_limit_t *rl, const ip_ranges_t *trusted, rate_guard_then then, void *app,
                       const void *arg, size_t arg_size)
{
    ip_addr_t client;
    if (shared_limit_off(rl)) {
        then(req, app, arg);
        return;
    }
    http_client_addr(req, trusted, &client);
    rate_guard_addr(req, rl, &client, then, app, arg, arg_size);
}

void rate_guard_key(h2o_req_t *req, shared_limit_t *rl, const char *key, rate_guard_then then, void *app,
                    const void *arg, size_t arg_size)
{
    if (shared_limit_off(rl))
        then(req, app, arg);
    else
        take(req, rl, key, strlen(key), then, app, arg, arg_size);
}
