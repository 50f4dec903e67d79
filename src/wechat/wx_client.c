/*
 * wx_client — the thread that talks to WeChat's servers (see wx_client.h for the contract).
 *
 * Design:
 * - One thread owns a libcurl multi handle and sleeps in curl_multi_poll(). Loops submit work
 *   by appending a wx_submission_t to a mutex-protected queue and calling curl_multi_wakeup();
 *   the thread takes the whole queue at once and runs each submission's start() on itself. So
 *   everything below the queue (calls, the single-flight map, the handle pool) belongs to the
 *   client thread alone and needs no lock.
 * - A generic call (wx_call_start: method, path, query parameters, optional JSON body, and a
 *   completion) does the HTTP part: builds the URL with escaped values, sets the safety options
 *   on a pooled easy handle, collects at most WX_RESPONSE_MAX bytes and ends with one
 *   wx_answer_t given to the completion, which parses and delivers. Connections are kept alive
 *   by the multi's connection cache; easy handles are reused from a small idle pool.
 * - At most once (code2Session, which spends the code): libcurl re-sends a request by itself
 *   when a reused keep-alive connection ends before any answer, and has no switch for that. So
 *   every call counts libcurl's sends (CURLOPT_PREREQFUNCTION, right before a request goes out
 *   on a connection): a second send of an at-most-once call is aborted, and the call ends as
 *   WX_UNREACHABLE, like a fresh connection lost before the answer. Such calls still reuse
 *   connections (a connect, and with https a TLS handshake, saved per login), but only ones idle
 *   for under WX_AT_MOST_ONCE_IDLE_S, so they do not race a server closing an idle connection.
 * - code2Session is one user of it: identical codes in flight share one call (a small hash map
 *   code -> flight; waiters chain on req->_next), and every waiter gets a copy of the result.
 *   It is never retried.
 * - The calls that need the access_token (getuserphonenumber, checksession: wx_apis.c) go
 *   through the token manager (wx_token.c), which also lives on this thread.
 * - Shared types and the internal functions other files use are in wx_internal.h.
 * - Secrets: the URL holds the app secret (and later tokens), so it is never logged: log lines
 *   carry the method and path only. URLs, bodies and answers are wiped before they are freed.
 * - Stopping: wx_client_stop() sets a flag and wakes the thread, which starts what was queued,
 *   ends every call in flight as WX_UNREACHABLE (delivering it), and exits; stop joins it.
 */
#include "wechat/wx_client.h"
#include "common/clock.h"
#include "wechat/wx_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "metrics/metrics.h"

#ifndef MEETOA_VERSION
#define MEETOA_VERSION "dev"
#endif

#define WX_RESPONSE_MAX (64 * 1024) /* bigger answers are not WeChat's: WX_BAD_RESPONSE */
#define WX_POLL_MAX_MS  1000
/* A call that must reach WeChat at most once reuses only a connection idle for less than this
 * (seconds): well below the idle timeouts of HTTP servers (nginx 75 s), so such a connection is
 * not one the server is closing just as the request goes out. */
#define WX_AT_MOST_ONCE_IDLE_S 5L

struct wx_call {
    struct wx_call *prev, *next; /* calls in flight */
    CURL *easy;
    const char *method, *path;
    char *url;  /* holds secrets */
    char *body; /* may hold secrets */
    struct curl_slist *headers;
    char *data; /* the answer so far */
    size_t len, cap;
    size_t max_len; /* the largest answer accepted */
    int64_t started_ms;
    bool at_most_once;
    int sends; /* times libcurl was about to send the request (wx_on_prereq) */
    wx_call_done_cb on_done;
    void *ctx;
    char errbuf[CURL_ERROR_SIZE];
};

void wx_free_secret(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* ---- building a call -------------------------------------------------------------------- */

static size_t wx_on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    wx_call_t *call = userdata;
    size_t n = size * nmemb;
    if (n > call->max_len - call->len)
        return 0; /* CURLE_WRITE_ERROR: too big to be WeChat's */
    if (call->len + n > call->cap) {
        size_t cap = call->cap == 0 ? 1024 : call->cap;
        while (cap < call->len + n)
            cap *= 2;
        char *data = malloc(cap);
        if (data == NULL)
            return 0;
        if (call->len > 0)
            memcpy(data, call->data, call->len);
        if (call->data != NULL) {
            explicit_bzero(call->data, call->cap);
            free(call->data);
        }
        call->data = data;
        call->cap = cap;
    }
    memcpy(call->data + call->len, ptr, n);
    call->len += n;
    return n;
}

/* base + path + "?" + name=escaped(value)&...; NULL when out of memory. The result holds secrets. */
static char *wx_build_url(CURL *easy, const char *base, const char *path, const wx_param_t *params, size_t n)
{
    char *escaped[8] = {NULL};
    char *url = NULL;
    size_t size = strlen(base) + strlen(path) + 2;

    if (n > sizeof(escaped) / sizeof(escaped[0]))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if ((escaped[i] = curl_easy_escape(easy, params[i].value, 0)) == NULL)
            goto done;
        size += strlen(params[i].name) + strlen(escaped[i]) + 2;
    }
    if ((url = malloc(size)) == NULL)
        goto done;
    size_t off = (size_t)snprintf(url, size, "%s%s", base, path);
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(url + off, size - off, "%c%s=%s", i == 0 ? '?' : '&', params[i].name, escaped[i]);
done:
    for (size_t i = 0; i < n; i++) {
        if (escaped[i] != NULL) {
            explicit_bzero(escaped[i], strlen(escaped[i]));
            curl_free(escaped[i]);
        }
    }
    return url;
}

static CURL *wx_easy_take(wx_client_t *client)
{
    if (client->n_idle > 0)
        return client->idle[--client->n_idle];
    return curl_easy_init();
}

static void wx_easy_give(wx_client_t *client, CURL *easy)
{
    if (easy == NULL)
        return;
    if (client->n_idle < WX_IDLE_MAX) {
        curl_easy_reset(easy); /* keeps the DNS cache and session IDs; connections live in the multi */
        client->idle[client->n_idle++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/*
 * Called by libcurl on a connection (new or reused) right before it sends the request. A second
 * call for one transfer is libcurl re-sending it on its own: it does that when a reused
 * keep-alive connection ended before any answer, and the first copy may have reached WeChat.
 * A call that must reach WeChat at most once (a code spends itself) is then ended instead
 * (CURLE_ABORTED_BY_CALLBACK: WX_UNREACHABLE, as a fresh connection lost before the answer).
 */
static int wx_on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                        int conn_local_port)
{
    (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
    wx_call_t *call = userdata;
    return ++call->sends > 1 && call->at_most_once ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

/* Sets every option of a call. Returns false when libcurl refuses one. */
static bool wx_call_setopts(wx_client_t *client, wx_call_t *call)
{
    CURL *e = call->easy;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, call->url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, client->timeout_ms) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)call->max_len) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_USERAGENT, "MeetOA/" MEETOA_VERSION) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, wx_on_data) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEDATA, call) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PRIVATE, call) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, wx_on_prereq) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PREREQDATA, call) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, call->at_most_once ? WX_AT_MOST_ONCE_IDLE_S : 118L) == CURLE_OK;
    if (ok && client->ca_file != NULL)
        ok = curl_easy_setopt(e, CURLOPT_CAINFO, client->ca_file) == CURLE_OK;
    if (ok && call->body != NULL) {
        call->headers = curl_slist_append(NULL, "Content-Type: application/json");
        ok = call->headers != NULL && curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(call->body)) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body) == CURLE_OK;
    }
    return ok;
}

/* Frees a call that is no longer in the multi nor in the list. */
static void wx_call_free(wx_client_t *client, wx_call_t *call)
{
    wx_easy_give(client, call->easy);
    wx_free_secret(call->url);
    wx_free_secret(call->body);
    curl_slist_free_all(call->headers);
    if (call->data != NULL) {
        explicit_bzero(call->data, call->cap);
        free(call->data);
    }
    free(call);
}

static void wx_call_unlink(wx_client_t *client, wx_call_t *call)
{
    if (call->prev != NULL)
        call->prev->next = call->next;
    else
        client->calls = call->next;
    if (call->next != NULL)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
}

/* See wx_internal.h. */
void wx_call_start(wx_client_t *client, const wx_call_spec_t *spec)
{
    wx_call_t *call = calloc(1, sizeof(*call));
    if (call == NULL)
        goto fail;
    call->method = spec->method;
    call->path = spec->path;
    call->on_done = spec->on_done;
    call->ctx = spec->ctx;
    call->at_most_once = spec->at_most_once;
    call->max_len = spec->max_response != 0 ? spec->max_response : WX_RESPONSE_MAX;
    if ((call->easy = wx_easy_take(client)) == NULL)
        goto fail;
    if ((call->url = wx_build_url(call->easy, client->api_base, spec->path, spec->params, spec->n_params)) == NULL)
        goto fail;
    if (spec->json_body != NULL && (call->body = strdup(spec->json_body)) == NULL)
        goto fail;
    if (!wx_call_setopts(client, call) || curl_multi_add_handle(client->multi, call->easy) != CURLM_OK)
        goto fail;
    call->started_ms = clock_monotonic_ms();
    call->next = client->calls;
    if (client->calls != NULL)
        client->calls->prev = call;
    client->calls = call;
    return;

fail:
    log_error("wx: %s %s could not start (out of memory or libcurl refused an option)", spec->method, spec->path);
    if (call != NULL)
        wx_call_free(client, call);
    spec->on_done(client, spec->ctx, &(wx_answer_t){.outcome = WX_UNREACHABLE});
}

static wx_outcome_t wx_outcome_of(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return WX_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return WX_TIMEOUT;
    case CURLE_WRITE_ERROR:        /* answer bigger than the call's max_len */
    case CURLE_FILESIZE_EXCEEDED:  /* the same, announced by Content-Length */
    case CURLE_WEIRD_SERVER_REPLY: /* not HTTP */
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return WX_BAD_RESPONSE;
    default: /* DNS, connect, TLS (certificate refused included), connection lost */
        return WX_UNREACHABLE;
    }
}

/* libcurl's message for a failure, unless it might quote the URL (and so a secret). */
static const char *wx_safe_error(const wx_client_t *client, const wx_call_t *call, CURLcode rc)
{
    if (call->errbuf[0] == '\0' || strchr(call->errbuf, '?') != NULL || strstr(call->errbuf, client->app_secret))
        return curl_easy_strerror(rc);
    return call->errbuf;
}

/* ---- metrics (docs/metrics.md) ---- */

static const char *const wx_metric_apis[] = {"/sns/jscode2session",
                                             "/wxa/business/getuserphonenumber",
                                             "/wxa/checksession",
                                             "/cgi-bin/token",
                                             "/cgi-bin/stable_token",
                                             "/wxa/getwxacodeunlimit",
                                             "/cgi-bin/message/subscribe/send",
                                             "/wxa/msg_sec_check",
                                             "/wxa/media_check_async",
                                             "other"};
#define WX_METRIC_APIS (sizeof(wx_metric_apis) / sizeof(wx_metric_apis[0]))
typedef enum wx_metric_outcome {
    WXM_OK,            /* HTTP 200, errcode 0 or none */
    WXM_ERRCODE_BUSY,  /* errcode -1: system busy */
    WXM_ERRCODE_TOKEN, /* 40001, 40014, 42001: the access_token refused */
    WXM_ERRCODE_OTHER, /* any other errcode: the request refused */
    WXM_HTTP_STATUS,   /* not HTTP 200 */
    WXM_TIMEOUT,       /* oa.wx.timeout-ms passed */
    WXM_TRANSPORT,     /* DNS, connect, TLS, connection lost, aborted */
    WXM_BAD_RESPONSE,  /* too big, not HTTP */
} wx_metric_outcome_t;
static const char *const wx_metric_outcomes[] = {"ok",          "errcode_busy", "errcode_token", "errcode_other",
                                                 "http_status", "timeout",      "transport",     "bad_response"};
static metrics_family_t *wx_m_calls, *wx_m_duration;

static void wx_metrics_register(void)
{
    metrics_label_t labels[] = {{"api", wx_metric_apis, WX_METRIC_APIS},
                                {"outcome", wx_metric_outcomes, sizeof(wx_metric_outcomes) / sizeof(char *)}};
    wx_m_calls =
        metrics_counter("meetoa_wechat_calls_total", "Calls to WeChat's API, by API path and outcome.", labels, 2);
    wx_m_duration =
        metrics_histogram("meetoa_wechat_call_duration_seconds", "Duration of calls to WeChat, by API path.", labels, 1,
                          metrics_duration_buckets, metrics_duration_nbuckets);
    wx_token_metric(); /* its zeros shown from the start */
}

/* The errcode of a JSON answer ("errcode":N anywhere at its top; 0 when there is none). */
static long wx_metric_errcode(const char *body, size_t len)
{
    const char *p = body != NULL ? memmem(body, len, "\"errcode\"", 9) : NULL;
    if (p == NULL)
        return 0;
    p += 9;
    while (p < body + len && (*p == ' ' || *p == ':'))
        p++;
    return p < body + len ? strtol(p, NULL, 10) : 0;
}

static void wx_metrics_count(const wx_call_t *call, const wx_answer_t *answer, int64_t elapsed_ms)
{
    size_t api = 0;
    while (api < WX_METRIC_APIS - 1 && strcmp(wx_metric_apis[api], call->path) != 0)
        api++;
    wx_metric_outcome_t outcome = WXM_TRANSPORT;
    if (answer->outcome == WX_OK && answer->http_status != 200) {
        outcome = WXM_HTTP_STATUS;
    } else if (answer->outcome == WX_OK) {
        long errcode = wx_metric_errcode(answer->body, answer->len);
        outcome = errcode == 0                                               ? WXM_OK
                  : errcode == -1                                            ? WXM_ERRCODE_BUSY
                  : errcode == 40001 || errcode == 40014 || errcode == 42001 ? WXM_ERRCODE_TOKEN
                                                                             : WXM_ERRCODE_OTHER;
    } else if (answer->outcome == WX_TIMEOUT) {
        outcome = WXM_TIMEOUT;
    } else if (answer->outcome == WX_BAD_RESPONSE) {
        outcome = WXM_BAD_RESPONSE;
    }
    metrics_inc(wx_m_calls, metrics_series(wx_m_calls, api, outcome));
    metrics_observe(wx_m_duration, api, (double)elapsed_ms / 1000.0);
}

/* Ends a call: takes it out of the multi, logs (path only), runs its completion, frees it. */
static void wx_call_end(wx_client_t *client, wx_call_t *call, CURLcode rc, bool aborted)
{
    wx_answer_t answer = {.outcome = aborted ? WX_UNREACHABLE : wx_outcome_of(rc)};
    long status = 0;
    int64_t elapsed = clock_monotonic_ms() - call->started_ms;

    curl_multi_remove_handle(client->multi, call->easy);
    wx_call_unlink(client, call);
    if (answer.outcome == WX_OK) {
        curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
        answer.http_status = (int)status;
        answer.body = call->data != NULL ? call->data : "";
        answer.len = call->len;
        if (status == 200)
            log_debug("wx: %s %s -> HTTP 200 in %lld ms", call->method, call->path, (long long)elapsed);
        else
            log_warn("wx: %s %s -> HTTP %ld in %lld ms", call->method, call->path, status, (long long)elapsed);
    } else if (aborted) {
        log_warn("wx: %s %s aborted after %lld ms: client stopping", call->method, call->path, (long long)elapsed);
    } else {
        log_warn("wx: %s %s failed after %lld ms: %s", call->method, call->path, (long long)elapsed,
                 wx_safe_error(client, call, rc));
    }
    wx_metrics_count(call, &answer, elapsed);
    call->on_done(client, call->ctx, &answer);
    wx_call_free(client, call);
}

/* Ends every call libcurl has finished. */
static void wx_reap(wx_client_t *client)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(client->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *private = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &private);
        wx_call_t *call = (wx_call_t *)private;
        CURLcode rc = msg->data.result;
        wx_call_end(client, call, rc, false); /* msg is invalid from here on */
    }
}

/* ---- code2Session ----------------------------------------------------------------------- */

/* One upstream code2Session call and everyone waiting on it. */
struct wx_flight {
    wx_flight_t *next_in_bucket;
    wx_code2session_req_t *waiters; /* the first request; the others chain on _next */
};

static size_t wx_flight_bucket(const char *code)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *code != '\0'; code++)
        h = (h ^ (uint8_t)*code) * 16777619u;
    return h % WX_FLIGHT_BUCKETS;
}

static wx_flight_t *wx_flight_find(wx_client_t *client, const char *code)
{
    for (wx_flight_t *f = client->flights[wx_flight_bucket(code)]; f != NULL; f = f->next_in_bucket) {
        if (strcmp(f->waiters->code, code) == 0)
            return f;
    }
    return NULL;
}

static void wx_flight_remove(wx_client_t *client, wx_flight_t *flight)
{
    wx_flight_t **p = &client->flights[wx_flight_bucket(flight->waiters->code)];
    while (*p != flight)
        p = &(*p)->next_in_bucket;
    *p = flight->next_in_bucket;
}

/* Gives result to every request of the chain and sends each back to its loop. */
static void wx_c2s_deliver(wx_code2session_req_t *req, const wx_session_result_t *result)
{
    while (req != NULL) {
        wx_code2session_req_t *next = req->_next; /* req belongs to its loop once replied */
        req->_next = NULL;
        req->result = *result;
        loop_msg_reply(&req->msg);
        req = next;
    }
}

static void wx_c2s_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_flight_t *flight = ctx;
    wx_session_result_t result = {.outcome = answer->outcome, .http_status = answer->http_status};

    if (answer->outcome == WX_OK) {
        if (answer->http_status == 200)
            wx_parse_code2session(answer->body, answer->len, &result);
        else
            result.outcome = WX_BAD_RESPONSE;
    }
    wx_flight_remove(client, flight);
    wx_c2s_deliver(flight->waiters, &result);
    explicit_bzero(&result, sizeof(result));
    free(flight);
}

/* The start() of a code2Session submission, on the client thread. */
static void wx_c2s_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_code2session_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_code2session_req_t, _submission, submission);
    wx_flight_t *flight = wx_flight_find(client, req->code);

    if (flight != NULL) { /* the same code is on its way: wait for that answer */
        req->_next = flight->waiters->_next;
        flight->waiters->_next = req;
        return;
    }
    if ((flight = calloc(1, sizeof(*flight))) == NULL) {
        log_error("wx: GET /sns/jscode2session could not start: out of memory");
        wx_c2s_deliver(req, &(wx_session_result_t){.outcome = WX_UNREACHABLE});
        return;
    }
    req->_next = NULL;
    flight->waiters = req;
    size_t bucket = wx_flight_bucket(req->code);
    flight->next_in_bucket = client->flights[bucket];
    client->flights[bucket] = flight;

    const wx_param_t params[] = {
        {"appid", client->app_id},
        {"secret", client->app_secret},
        {"js_code", req->code},
        {"grant_type", "authorization_code"},
    };
    wx_call_start(client, &(wx_call_spec_t){.method = "GET",
                                            .path = "/sns/jscode2session",
                                            .params = params,
                                            .n_params = sizeof(params) / sizeof(params[0]),
                                            .at_most_once = true,
                                            .on_done = wx_c2s_done,
                                            .ctx = flight});
}

/* ---- submission queue and thread -------------------------------------------------------- */

/*
 * Queues a submission for the client thread. Returns false (nothing queued) once stopping.
 * The wakeup happens under the lock, so wx_client_stop() cannot free the multi meanwhile.
 */
bool wx_submit(wx_client_t *client, wx_submission_t *submission)
{
    pthread_mutex_lock(&client->lock);
    bool accepted = !client->stopping;
    if (accepted) {
        submission->next = NULL;
        *client->queue_tail = submission;
        client->queue_tail = &submission->next;
        curl_multi_wakeup(client->multi);
    }
    pthread_mutex_unlock(&client->lock);
    return accepted;
}

void wx_code2session(wx_client_t *client, wx_code2session_req_t *req)
{
    size_t len = strnlen(req->code, sizeof(req->code));
    memset(&req->result, 0, sizeof(req->result));
    req->_next = NULL;
    if (len == 0 || len == sizeof(req->code)) {
        req->result.outcome = WX_ERRCODE;
        req->result.errcode = 40029;
        loop_msg_reply(&req->msg);
        return;
    }
    req->_submission.start = wx_c2s_start;
    if (!wx_submit(client, &req->_submission)) {
        req->result.outcome = WX_UNREACHABLE;
        loop_msg_reply(&req->msg);
    }
}

/* Takes everything queued so far, and whether the client is stopping. */
static wx_submission_t *wx_queue_take(wx_client_t *client, bool *stopping)
{
    pthread_mutex_lock(&client->lock);
    wx_submission_t *batch = client->queue_head;
    client->queue_head = NULL;
    client->queue_tail = &client->queue_head;
    *stopping = client->stopping;
    pthread_mutex_unlock(&client->lock);
    return batch;
}

static void *wx_thread_main(void *arg)
{
    wx_client_t *client = arg;
    bool stopping = false;
    int running;

    log_set_thread_name("wx");
    while (!stopping) {
        wx_submission_t *batch = wx_queue_take(client, &stopping);
        while (batch != NULL) {
            wx_submission_t *next = batch->next; /* start() may deliver, and so free, the request */
            batch->start(client, batch);
            batch = next;
        }
        if (stopping)
            break;
        curl_multi_perform(client->multi, &running);
        wx_reap(client);
        curl_multi_poll(client->multi, NULL, 0, WX_POLL_MAX_MS, NULL);
    }
    while (client->calls != NULL)
        wx_call_end(client, client->calls, CURLE_OK, true);
    return NULL;
}

/* ---- start and stop --------------------------------------------------------------------- */

static bool wx_config_check(const wx_client_config_t *config, char *err, size_t err_size)
{
    const char *problem = NULL;
    if (config->api_base == NULL ||
        (strncmp(config->api_base, "https://", 8) != 0 && strncmp(config->api_base, "http://", 7) != 0))
        problem = "wechat api_base must start with https:// or http://";
    else if (config->app_id == NULL || config->app_id[0] == '\0')
        problem = "wechat app_id is missing";
    else if (config->app_secret == NULL || config->app_secret[0] == '\0')
        problem = "wechat app_secret is missing";
    else if (config->timeout_ms <= 0)
        problem = "wechat timeout_ms must be positive";
    if (problem != NULL)
        snprintf(err, err_size, "%s", problem);
    return problem == NULL;
}

static void wx_client_free(wx_client_t *client)
{
    for (size_t i = 0; i < client->n_idle; i++)
        curl_easy_cleanup(client->idle[i]);
    if (client->multi != NULL)
        curl_multi_cleanup(client->multi);
    free(client->api_base);
    free(client->app_id);
    wx_free_secret(client->app_secret);
    free(client->ca_file);
    wx_token_destroy(&client->token);
    free(client);
}

wx_client_t *wx_client_start(const wx_client_config_t *config, char *err, size_t err_size)
{
    wx_client_t *client = NULL;
    int rc;

    if (!wx_config_check(config, err, err_size))
        return NULL;
    wx_metrics_register();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, err_size, "libcurl could not initialise");
        return NULL;
    }
    if ((client = calloc(1, sizeof(*client))) == NULL)
        goto oom;
    wx_token_init(&client->token, config->use_stable_token);
    client->timeout_ms = config->timeout_ms;
    client->queue_tail = &client->queue_head;
    if ((client->api_base = strdup(config->api_base)) == NULL || (client->app_id = strdup(config->app_id)) == NULL ||
        (client->app_secret = strdup(config->app_secret)) == NULL ||
        (config->ca_file != NULL && (client->ca_file = strdup(config->ca_file)) == NULL) ||
        (client->multi = curl_multi_init()) == NULL)
        goto oom;
    size_t base_len = strlen(client->api_base);
    while (base_len > 0 && client->api_base[base_len - 1] == '/')
        client->api_base[--base_len] = '\0';
    pthread_mutex_init(&client->lock, NULL);
    if ((rc = pthread_create(&client->thread, NULL, wx_thread_main, client)) != 0) {
        snprintf(err, err_size, "cannot start the wechat thread: %s", strerror(rc));
        pthread_mutex_destroy(&client->lock);
        wx_client_free(client);
        curl_global_cleanup();
        return NULL;
    }
    return client;

oom:
    snprintf(err, err_size, "out of memory starting the wechat client");
    if (client != NULL)
        wx_client_free(client);
    curl_global_cleanup();
    return NULL;
}

void wx_client_stop(wx_client_t *client)
{
    if (client == NULL)
        return;
    pthread_mutex_lock(&client->lock);
    client->stopping = true;
    pthread_mutex_unlock(&client->lock);
    curl_multi_wakeup(client->multi);
    pthread_join(client->thread, NULL);
    pthread_mutex_destroy(&client->lock);
    wx_client_free(client);
    curl_global_cleanup();
}
