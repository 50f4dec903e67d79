/*
 * emu_push — events POSTed to an app's push URL (see emu_push.h).
 *
 * A push is a job: linked in push->jobs, it waits on an h2o timeout for the app's delay, then reads
 * the app's push settings, builds the signed request, connects (h2o_socket_connect, non-blocking),
 * writes it, reads the answer until the receiver closes or a whole response (by Content-Length) has
 * arrived, and logs the outcome; the same timer entry bounds the exchange (EMU_PUSH_DEADLINE_MS).
 * finish() is the one way out: it unlinks the timer, closes the socket, logs and frees the job.
 */
#include "emu_push.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "crypto/crypto.h"
#include "push/push_crypto.h"

#define EMU_PUSH_RESPONSE_MAX 8192 /* bytes of an answer read (headers and body) */

typedef struct emu_push_job {
    h2o_linklist_t link; /* in push->jobs */
    h2o_timeout_entry_t timer;
    emu_server_t *srv;
    h2o_socket_t *sock;
    char appid[EMU_APPID_MAX + 1];
    char trace_id[64];
    char url[EMU_PUSH_URL_MAX + 1];
    bool safe;
    char *event;
    char *request;
    h2o_iovec_t wbuf;
    char response[EMU_PUSH_RESPONSE_MAX + 1];
    size_t response_len;
} emu_push_job_t;

typedef struct emu_push_record {
    emu_push_entry_t entry;
    char text[]; /* the entry's strings */
} emu_push_record_t;

struct emu_push {
    h2o_linklist_t jobs;
    size_t njobs;
    emu_push_record_t *log[EMU_PUSH_LOG_MAX];
    size_t log_head, nlog;
    uint64_t made_up_ids; /* the last N of "ev-N" */
};

emu_push_t *emu_push_new(void)
{
    emu_push_t *push = calloc(1, sizeof(*push));
    if (push != NULL)
        h2o_linklist_init_anchor(&push->jobs);
    return push;
}

void emu_push_free(emu_push_t *push)
{
    if (push == NULL)
        return;
    emu_push_log_clear(push);
    free(push);
}

void emu_push_original_id(const char *appid, char out[EMU_PUSH_ORIGINAL_ID])
{
    uint8_t digest[32];
    char hex[65];
    crypto_sha256(appid, strlen(appid), digest);
    crypto_hex(digest, sizeof(digest), hex);
    snprintf(out, EMU_PUSH_ORIGINAL_ID, "gh_%.12s", hex);
}

/* The log ------------------------------------------------------------------------------------------- */

static void log_delivery(emu_push_t *push, const emu_push_job_t *job, int status, const char *error, const char *answer)
{
    const char *parts[] = {job->appid,
                           job->trace_id,
                           job->url,
                           job->event != NULL ? job->event : "{}",
                           answer != NULL ? answer : "",
                           error != NULL ? error : NULL};
    size_t size = 0, at = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); ++i)
        size += parts[i] != NULL ? strlen(parts[i]) + 1 : 0;
    emu_push_record_t *r = malloc(sizeof(*r) + size);
    if (r == NULL)
        return;
    const char *copies[sizeof(parts) / sizeof(parts[0])];
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); ++i) {
        copies[i] = NULL;
        if (parts[i] == NULL)
            continue;
        size_t n = strlen(parts[i]);
        memcpy(r->text + at, parts[i], n + 1);
        copies[i] = r->text + at;
        at += n + 1;
    }
    r->entry = (emu_push_entry_t){copies[0], copies[1], copies[2], copies[3],          copies[4],
                                  copies[5], job->safe, status,    (int64_t)time(NULL)};
    if (push->nlog == EMU_PUSH_LOG_MAX) {
        free(push->log[push->log_head]);
        push->log[push->log_head] = r;
        push->log_head = (push->log_head + 1) % EMU_PUSH_LOG_MAX;
        return;
    }
    push->log[(push->log_head + push->nlog) % EMU_PUSH_LOG_MAX] = r;
    ++push->nlog;
}

size_t emu_push_log_count(const emu_push_t *push)
{
    return push->nlog;
}

bool emu_push_log_at(const emu_push_t *push, size_t i, emu_push_entry_t *out)
{
    if (i >= push->nlog)
        return false;
    *out = push->log[(push->log_head + i) % EMU_PUSH_LOG_MAX]->entry;
    return true;
}

size_t emu_push_pending(const emu_push_t *push)
{
    return push->njobs;
}

size_t emu_push_log_clear(emu_push_t *push)
{
    size_t n = push->nlog;
    for (size_t i = 0; i < n; ++i) {
        size_t slot = (push->log_head + i) % EMU_PUSH_LOG_MAX;
        free(push->log[slot]);
        push->log[slot] = NULL;
    }
    push->nlog = 0;
    push->log_head = 0;
    return n;
}

/* Jobs ---------------------------------------------------------------------------------------------- */

static void free_job(emu_push_job_t *job)
{
    free(job->event);
    if (job->request != NULL) {
        explicit_bzero(job->request, strlen(job->request));
        free(job->request);
    }
    free(job);
}

static void answer_body(const char *response, char out[EMU_PUSH_ANSWER_MAX + 1]);

/* The one way out of a job: logs the outcome (status 0: none, error says why) and frees the job. */
static void finish(emu_push_job_t *job, int status, const char *error)
{
    emu_push_t *push = job->srv->push;
    char answer[EMU_PUSH_ANSWER_MAX + 1] = "";

    if (h2o_timeout_is_linked(&job->timer))
        h2o_timeout_unlink(&job->timer);
    if (job->sock != NULL) {
        job->sock->data = NULL;
        h2o_socket_close(job->sock);
        job->sock = NULL;
    }
    if (status != 0)
        answer_body(job->response, answer);
    if (status == 0)
        log_info("wxemu: push of %s not delivered: %s", job->trace_id, error);
    else
        log_info("wxemu: push of %s answered HTTP %d", job->trace_id, status);
    log_delivery(push, job, status, error, answer);
    h2o_linklist_unlink(&job->link);
    --push->njobs;
    free_job(job);
}

static void on_deadline(h2o_timeout_entry_t *entry)
{
    finish(H2O_STRUCT_FROM_MEMBER(emu_push_job_t, timer, entry), 0, "no answer within 5000 ms");
}

/* The value of header name (lowercase, with its ':') in the head of response (up to end), NULL if none. */
static const char *header_value(const char *response, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = strstr(response, "\r\n"); line != NULL && line < end; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, name, n) == 0)
            return line + 2 + n + strspn(line + 2 + n, " \t");
    return NULL;
}

static bool is_chunked(const char *response, const char *end)
{
    const char *te = header_value(response, end, "transfer-encoding:");
    return te != NULL && strncasecmp(te, "chunked", 7) == 0;
}

/* The status of a complete answer in job->response, 0 while it is incomplete. *done: complete (or the
 * receiver closed, or the buffer is full). */
static int parse_answer(const emu_push_job_t *job, bool closed, bool *done)
{
    int status = 0;
    const char *end = strstr(job->response, "\r\n\r\n");
    *done = closed || job->response_len == EMU_PUSH_RESPONSE_MAX;
    if (end == NULL || sscanf(job->response, "HTTP/1.%*1[01] %3d", &status) != 1)
        return 0;
    const char *body = end + 4, *cl = header_value(job->response, end, "content-length:");
    size_t body_len = job->response_len - (size_t)(body - job->response);
    if (is_chunked(job->response, end))
        *done = *done || strncmp(body, "0\r\n", 3) == 0 || strstr(body, "\r\n0\r\n") != NULL;
    else if (cl != NULL)
        *done = *done || body_len >= strtoul(cl, NULL, 10);
    return status;
}

/* The body of the answer (chunked transfer decoded) into out, at most EMU_PUSH_ANSWER_MAX bytes. */
static void answer_body(const char *response, char out[EMU_PUSH_ANSWER_MAX + 1])
{
    const char *end = strstr(response, "\r\n\r\n");
    size_t n = 0;
    out[0] = '\0';
    if (end == NULL)
        return;
    const char *p = end + 4;
    if (!is_chunked(response, end)) {
        snprintf(out, EMU_PUSH_ANSWER_MAX + 1, "%s", p);
        return;
    }
    for (;;) {
        char *tail;
        unsigned long size = strtoul(p, &tail, 16);
        const char *data = strstr(tail, "\r\n");
        if (size == 0 || data == NULL || strlen(data + 2) < size)
            break;
        data += 2;
        size_t take = size < EMU_PUSH_ANSWER_MAX - n ? size : EMU_PUSH_ANSWER_MAX - n;
        memcpy(out + n, data, take);
        n += take;
        p = data + size + 2;
        if (n == EMU_PUSH_ANSWER_MAX || strlen(data) < size + 2)
            break;
    }
    out[n] = '\0';
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    emu_push_job_t *job = sock->data;
    size_t room = EMU_PUSH_RESPONSE_MAX - job->response_len;
    size_t n = sock->input->size < room ? sock->input->size : room;
    bool done;

    memcpy(job->response + job->response_len, sock->input->bytes, n);
    job->response_len += n;
    job->response[job->response_len] = '\0';
    h2o_buffer_consume(&sock->input, sock->input->size);
    int status = parse_answer(job, err != NULL, &done);
    if (done)
        finish(job, status, status == 0 ? (err != NULL ? err : "not an HTTP answer") : NULL);
}

static void on_written(h2o_socket_t *sock, const char *err)
{
    emu_push_job_t *job = sock->data;
    if (err != NULL) {
        finish(job, 0, err);
        return;
    }
    h2o_socket_read_start(sock, on_read);
}

static void on_connect(h2o_socket_t *sock, const char *err)
{
    emu_push_job_t *job = sock->data;
    if (err != NULL) {
        finish(job, 0, err);
        return;
    }
    h2o_socket_write(sock, &job->wbuf, 1, on_written);
}

/* "http://HOST[:PORT][/PATH]": the address and the request target ("/" when there is no path).
 * HOST is an IPv4 literal or "localhost". */
static bool parse_url(const char *url, struct sockaddr_in *addr, char host[64], const char **target)
{
    const char *p = url + strlen("http://"), *slash = strchr(p, '/'), *qmark = strchr(p, '?');
    const char *end = slash != NULL ? slash : qmark != NULL ? qmark : p + strlen(p);
    if (slash != NULL && qmark != NULL && qmark < slash)
        end = qmark;
    size_t len = (size_t)(end - p);
    char hostport[64];
    unsigned long port = 80;

    if (len == 0 || len >= sizeof(hostport))
        return false;
    memcpy(hostport, p, len);
    hostport[len] = '\0';
    char *colon = strchr(hostport, ':');
    if (colon != NULL) {
        char *tail;
        port = strtoul(colon + 1, &tail, 10);
        if (colon[1] == '\0' || *tail != '\0' || port == 0 || port > 65535)
            return false;
        *colon = '\0';
    }
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    if (strcmp(hostport, "localhost") == 0)
        addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, hostport, &addr->sin_addr) != 1)
        return false;
    snprintf(host, 64, "%.*s", (int)len, p);
    *target = end;
    return true;
}

bool emu_push_url_ok(const char *url)
{
    struct sockaddr_in addr;
    char host[64];
    const char *target;
    return strncmp(url, "http://", 7) == 0 && parse_url(url, &addr, host, &target);
}

/* The signed request of job with the app's settings (config): into job->request. */
static const char *build_request(emu_push_job_t *job, const emu_push_config_t *config, const char *host,
                                 const char *target)
{
    char timestamp[24], nonce[16], signature[PUSH_SIGNATURE_SIZE], msg_signature[PUSH_SIGNATURE_SIZE];
    char query[256], original_id[EMU_PUSH_ORIGINAL_ID];
    uint32_t random_nonce = 0;
    char *body = NULL, *encrypt = NULL;

    crypto_random(&random_nonce, sizeof(random_nonce)); /* a nonce only: 0 is fine if it fails */
    snprintf(timestamp, sizeof(timestamp), "%lld", (long long)time(NULL));
    snprintf(nonce, sizeof(nonce), "%u", (unsigned)(random_nonce % 1000000000u));
    const char *parts[] = {config->token, timestamp, nonce, NULL};
    push_signature(parts, 3, signature);
    if (job->safe) {
        uint8_t key[32];
        if (!push_aes_key(config->aes_key, key))
            return "the EncodingAESKey does not decode";
        encrypt = push_encrypt(key, job->appid, job->event, strlen(job->event));
        explicit_bzero(key, sizeof(key));
        if (encrypt == NULL)
            return "out of memory";
        parts[3] = encrypt;
        push_signature(parts, 4, msg_signature);
        emu_push_original_id(job->appid, original_id);
        json_t *outer = json_pack("{s:s,s:s}", "ToUserName", original_id, "Encrypt", encrypt);
        body = outer != NULL ? json_dumps(outer, JSON_COMPACT) : NULL;
        json_decref(outer);
        free(encrypt);
        snprintf(query, sizeof(query), "signature=%s&timestamp=%s&nonce=%s&encrypt_type=aes&msg_signature=%s",
                 signature, timestamp, nonce, msg_signature);
    } else {
        body = strdup(job->event);
        snprintf(query, sizeof(query), "signature=%s&timestamp=%s&nonce=%s", signature, timestamp, nonce);
    }
    if (body == NULL)
        return "out of memory";
    const char *path = target[0] == '\0' || target[0] == '?' ? "/" : "";
    const char *sep = strchr(target, '?') != NULL ? "&" : "?";
    size_t body_len = strlen(body);
    size_t size = strlen(target) + strlen(query) + strlen(host) + body_len + 256;
    if ((job->request = malloc(size)) == NULL) {
        free(body);
        return "out of memory";
    }
    int n = snprintf(job->request, size,
                     "POST %s%s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: wxemu\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     path, target, sep, query, host, body_len, body);
    free(body);
    job->wbuf = h2o_iovec_init(job->request, (size_t)n);
    return NULL;
}

/* The delay is over: read the settings, connect. */
static void on_delay(h2o_timeout_entry_t *entry)
{
    emu_push_job_t *job = H2O_STRUCT_FROM_MEMBER(emu_push_job_t, timer, entry);
    emu_server_t *srv = job->srv;
    emu_push_config_t config;
    struct sockaddr_in addr;
    char host[64];
    const char *target, *error;

    if (emu_state_push_config(srv->state, emu_slice_cstr(job->appid), &config) != EMU_OK || !config.configured) {
        explicit_bzero(&config, sizeof(config));
        finish(job, 0, "the app has no push URL (POST /__emu/push)");
        return;
    }
    snprintf(job->url, sizeof(job->url), "%s", config.url);
    job->safe = config.aes_key[0] != '\0';
    if (!parse_url(config.url, &addr, host, &target)) {
        explicit_bzero(&config, sizeof(config));
        finish(job, 0, "the push URL's host is not an IPv4 address or localhost");
        return;
    }
    error = build_request(job, &config, host, target);
    explicit_bzero(&config, sizeof(config));
    if (error != NULL) {
        finish(job, 0, error);
        return;
    }
    if ((job->sock = h2o_socket_connect(srv->ctx.loop, (struct sockaddr *)&addr, sizeof(addr), on_connect)) == NULL) {
        finish(job, 0, "connection failure");
        return;
    }
    job->sock->data = job;
    job->timer.cb = on_deadline;
    h2o_timeout_t *deadline = emu_http_timeout(srv, EMU_PUSH_DEADLINE_MS);
    if (deadline != NULL)
        h2o_timeout_link(srv->ctx.loop, deadline, &job->timer);
}

bool emu_push_schedule(emu_server_t *srv, const char *appid, const char *trace_id, const char *event_json)
{
    emu_push_config_t config;
    emu_push_job_t *job = calloc(1, sizeof(*job));

    if (job == NULL || (job->event = strdup(event_json)) == NULL) {
        free(job);
        return false;
    }
    job->srv = srv;
    snprintf(job->appid, sizeof(job->appid), "%s", appid);
    snprintf(job->trace_id, sizeof(job->trace_id), "%s", trace_id);
    h2o_linklist_insert(&srv->push->jobs, &job->link);
    ++srv->push->njobs;
    uint32_t delay = emu_state_push_config(srv->state, emu_slice_cstr(appid), &config) == EMU_OK ? config.delay_ms
                                                                                                 : EMU_PUSH_DELAY_MS;
    explicit_bzero(&config, sizeof(config));
    job->timer.cb = on_delay;
    h2o_timeout_t *timeout = emu_http_timeout(srv, delay > 0 ? delay : 1);
    if (timeout == NULL)
        timeout = emu_http_timeout(srv, EMU_PUSH_DELAY_MS); /* reserved when the delay was set; else now */
    if (timeout == NULL) {
        on_delay(&job->timer);
        return true;
    }
    h2o_timeout_link(srv->ctx.loop, timeout, &job->timer);
    return true;
}

bool emu_push_event(emu_server_t *srv, const char *appid, emu_slice_t openid, const char *event, const char *trace_id,
                    json_t *members)
{
    char original_id[EMU_PUSH_ORIGINAL_ID], made_up[32];
    char *text = NULL;

    emu_push_original_id(appid, original_id);
    json_t *packet = json_pack("{s:s,s:s%,s:I,s:s,s:s}", "ToUserName", original_id, "FromUserName", openid.base,
                               openid.len, "CreateTime", (json_int_t)time(NULL), "MsgType", "event", "Event", event);
    if (packet != NULL && members != NULL && json_object_update(packet, members) == 0)
        text = json_dumps(packet, JSON_COMPACT);
    json_decref(packet);
    json_decref(members);
    if (trace_id == NULL) {
        snprintf(made_up, sizeof(made_up), "ev-%llu", (unsigned long long)++srv->push->made_up_ids);
        trace_id = made_up;
    }
    bool queued = text != NULL && emu_push_schedule(srv, appid, trace_id, text);
    free(text);
    return queued;
}

bool emu_push_has_url(const emu_server_t *srv, const char *appid)
{
    emu_push_config_t config;
    bool has = emu_state_push_config(srv->state, emu_slice_cstr(appid), &config) == EMU_OK && config.configured;
    explicit_bzero(&config, sizeof(config));
    return has;
}

void emu_push_abort(emu_server_t *srv)
{
    while (!h2o_linklist_is_empty(&srv->push->jobs)) {
        emu_push_job_t *job = H2O_STRUCT_FROM_MEMBER(emu_push_job_t, link, srv->push->jobs.next);
        finish(job, 0, "wxemu stopped");
    }
}
