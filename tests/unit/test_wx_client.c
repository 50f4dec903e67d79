/*
 * test_wx_client — the WeChat client thread end to end, against a tiny HTTP server started inside
 * the test on 127.0.0.1, with replies received on a real h2o event loop through loop_msg.
 *
 * The fake server answers GET /sns/jscode2session by the js_code's prefix:
 *   ok*, slow* (after fake->slow_ms): success (openid "o" + the code's letters and digits);
 *   nounion*: success without unionid; e<N>: errcode N; h500: HTTP 500; junk: not JSON;
 *   big: 100 KiB with Content-Length; bigstream: 100 KiB without Content-Length.
 * It records every request (method, target, body) so tests can count upstream calls and check
 * the query and the body.
 *
 * The calls that need an access_token meet a fake token service (its state under fake->lock):
 *   GET /cgi-bin/token mints a new token each time ("TKN+/=&<n>": it needs escaping);
 *   POST /cgi-bin/stable_token returns the current token, minting one only when there is none or
 *     the body says "force_refresh":true;
 *   both answer token_errcode instead when it is set, HTTP token_status when set, after token_delay_ms.
 *   POST /wxa/business/getuserphonenumber and GET /wxa/checksession refuse (refuse_errcode, default
 *   40001) a token that was never minted, is listed in refused[], or any token when refuse_all; then
 *   answer by the phone code (ok<N>: +86 number from N; slow<N>: the same after slow_ms, the token
 *   judged then; num<N>: countryCode as a number; e<N>: errcode N; junk: not JSON) or the
 *   signature (stale: 87009; anything else: ok).
 *   POST /wxa/msg_sec_check and /wxa/media_check_async refuse tokens the same way, then answer by
 *   the content or the media_url (fake_msg_sec_check, fake_media_check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/log.h"
#include "wechat/wx_client.h"

#define SECRET         "TOPSECRET-9f8e7d6c+/=&"
#define SECRET_ESCAPED "TOPSECRET-9f8e7d6c%2B%2F%3D%26"
#define APPID          "wx4f4bc4dec97d474b"
#define SESSION_KEY    "tiihtNczf5v6AKRyjwEUhQ=="
#define MAX_TARGETS    1024
#define TOKEN_PREFIX   "TKN+/=&"
#define TOKEN_ESCAPED  "TKN%2B%2F%3D%26"

/* ---- the fake WeChat ------------------------------------------------------------------ */

typedef struct fake {
    int listen_fd;
    int port;
    int stop_pipe[2];
    pthread_t acceptor;
    atomic_int slow_ms;
    atomic_int connections; /* live connection threads */
    atomic_int accepted;    /* connections accepted in all */
    pthread_mutex_t lock;
    char *targets[MAX_TARGETS];
    char *bodies[MAX_TARGETS]; /* "" for none */
    char methods[MAX_TARGETS][8];
    int n_targets;
    /* the token service */
    char current[64]; /* "" until one is minted */
    int minted;
    int expires_in;
    long token_errcode;
    int token_status;
    int token_delay_ms;
    char refused[4][64];
    bool refuse_all;
    long refuse_errcode;
} fake_t;

typedef struct fake_conn {
    fake_t *fake;
    int fd;
} fake_conn_t;

/* Waits for fd to be readable, up to timeout_ms. 1 readable, 0 timeout, -1 the server is stopping. */
static int fake_wait(fake_t *fake, int fd, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = fake->stop_pipe[0], .events = POLLIN}};
    int n = poll(fds, 2, timeout_ms);
    if (n > 0 && fds[1].revents != 0)
        return -1;
    return n > 0 ? 1 : 0;
}

static void fake_send(int fd, int status, const char *body, size_t len, bool with_length)
{
    char head[256];
    int n =
        with_length
            ? snprintf(head, sizeof(head),
                       "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", status, len)
            : snprintf(head, sizeof(head),
                       "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n", status);
    send(fd, head, (size_t)n, MSG_NOSIGNAL);
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

/* The js_code of a target, as sent (escaped), into out. */
static void fake_js_code(const char *target, char *out, size_t size)
{
    const char *p = strstr(target, "js_code=");
    size_t n = 0;
    if (p != NULL) {
        p += strlen("js_code=");
        while (p[n] != '\0' && p[n] != '&' && n + 1 < size)
            n++;
        memcpy(out, p, n);
    }
    out[n] = '\0';
}

/* Answers one request. Returns false when the connection must close. */
static bool fake_answer(fake_t *fake, int fd, const char *target)
{
    char code[256], body[512], openid[64] = "o";
    fake_js_code(target, code, sizeof(code));
    for (size_t i = 0, n = 1; code[i] != '\0' && n < 40; i++) {
        if ((code[i] >= 'a' && code[i] <= 'z') || (code[i] >= 'A' && code[i] <= 'Z') ||
            (code[i] >= '0' && code[i] <= '9'))
            openid[n++] = code[i], openid[n] = '\0';
    }
    if (strncmp(code, "vanish", 6) == 0)
        return false; /* the connection ends without an answer (as a keep-alive one closed by the server) */
    if (strncmp(code, "slow", 4) == 0 && fake_wait(fake, fd, atomic_load(&fake->slow_ms)) != 0)
        return false; /* the client gave up (or the server stops): nothing to answer */
    if (strncmp(code, "ok", 2) == 0 || strncmp(code, "slow", 4) == 0) {
        int n =
            snprintf(body, sizeof(body), "{\"openid\":\"%s\",\"session_key\":\"" SESSION_KEY "\",\"unionid\":\"u%s\"}",
                     openid, openid + 1);
        fake_send(fd, 200, body, (size_t)n, true);
    } else if (strncmp(code, "nounion", 7) == 0) {
        int n = snprintf(body, sizeof(body), "{\"errcode\":0,\"openid\":\"%s\",\"session_key\":\"" SESSION_KEY "\"}",
                         openid);
        fake_send(fd, 200, body, (size_t)n, true);
    } else if (code[0] == 'e') {
        int n = snprintf(body, sizeof(body), "{\"errcode\":%ld,\"errmsg\":\"fake\"}", strtol(code + 1, NULL, 10));
        fake_send(fd, 200, body, (size_t)n, true);
    } else if (strcmp(code, "h500") == 0) {
        fake_send(fd, 500, "{\"errcode\":0}", 13, true);
    } else if (strncmp(code, "big", 3) == 0) {
        size_t len = 100 * 1024;
        char *big = malloc(len);
        memset(big, ' ', len);
        big[0] = '{';
        big[len - 1] = '}';
        bool stream = strcmp(code, "bigstream") == 0;
        fake_send(fd, 200, big, len, !stream);
        free(big);
        return !stream;
    } else {
        fake_send(fd, 200, "<html>not json</html>", 21, true);
    }
    return true;
}

static void fake_record(fake_t *fake, const char *method, const char *target, const char *body)
{
    pthread_mutex_lock(&fake->lock);
    if (fake->n_targets < MAX_TARGETS) {
        snprintf(fake->methods[fake->n_targets], sizeof(fake->methods[0]), "%s", method);
        fake->bodies[fake->n_targets] = strdup(body);
        fake->targets[fake->n_targets++] = strdup(target);
    }
    pthread_mutex_unlock(&fake->lock);
}

/* ---- the fake token service and the APIs that need a token ---------------------------- */

static void fake_sendf(int fd, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fake_sendf(int fd, int status, const char *fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    fake_send(fd, status, body, (size_t)n, true);
}

/* Under lock: a new current token. */
static void fake_mint(fake_t *fake)
{
    snprintf(fake->current, sizeof(fake->current), TOKEN_PREFIX "%d", ++fake->minted);
}

static bool fake_token(fake_t *fake, int fd, bool stable, const char *body)
{
    char token[64];
    pthread_mutex_lock(&fake->lock);
    int delay = fake->token_delay_ms, status = fake->token_status;
    long errcode = fake->token_errcode;
    pthread_mutex_unlock(&fake->lock);
    if (delay > 0 && fake_wait(fake, fd, delay) != 0)
        return false;
    if (status != 0) {
        fake_sendf(fd, status, "<html>%d</html>", status);
        return true;
    }
    if (errcode != 0) {
        fake_sendf(fd, 200, "{\"errcode\":%ld,\"errmsg\":\"fake\"}", errcode);
        return true;
    }
    pthread_mutex_lock(&fake->lock);
    if (!stable || fake->current[0] == '\0' || strstr(body, "\"force_refresh\":true") != NULL)
        fake_mint(fake);
    snprintf(token, sizeof(token), "%s", fake->current);
    int expires_in = fake->expires_in;
    pthread_mutex_unlock(&fake->lock);
    fake_sendf(fd, 200, "{\"access_token\":\"%s\",\"expires_in\":%d}", token, expires_in);
    return true;
}

/* The value of name= in a query, %-decoded, into out ("" when absent). */
static void fake_query(const char *target, const char *name, char *out, size_t size)
{
    char needle[64];
    size_t n = 0;
    snprintf(needle, sizeof(needle), "%s=", name);
    const char *q = strchr(target, '?');
    for (const char *p = q; p != NULL; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, needle, strlen(needle)) != 0)
            continue;
        for (p += 1 + strlen(needle); *p != '\0' && *p != '&' && n + 1 < size; p++) {
            unsigned int c = (unsigned char)*p;
            if (c == '%' && sscanf(p + 1, "%2x", &c) == 1)
                p += 2;
            out[n++] = (char)c;
        }
        break;
    }
    out[n] = '\0';
}

/* Sends the refusal and returns true when the call's access_token is not good. */
static bool fake_refuses(fake_t *fake, int fd, const char *target)
{
    char token[128];
    fake_query(target, "access_token", token, sizeof(token));
    pthread_mutex_lock(&fake->lock);
    bool minted = strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0 && atoi(token + strlen(TOKEN_PREFIX)) >= 1 &&
                  atoi(token + strlen(TOKEN_PREFIX)) <= fake->minted;
    bool refused = !minted || fake->refuse_all;
    for (int i = 0; i < 4; i++)
        refused = refused || strcmp(token, fake->refused[i]) == 0;
    long errcode = fake->refuse_errcode != 0 ? fake->refuse_errcode : 40001;
    pthread_mutex_unlock(&fake->lock);
    if (refused)
        fake_sendf(fd, 200, "{\"errcode\":%ld,\"errmsg\":\"invalid credential\"}", errcode);
    return refused;
}

static void fake_phone(fake_t *fake, int fd, const char *target, const char *body)
{
    json_error_t error;
    json_t *root = json_loads(body, 0, &error);
    const char *code = json_string_value(json_object_get(root, "code"));
    if (code != NULL && strncmp(code, "slow", 4) == 0) { /* the token is judged after the wait */
        if (fake_wait(fake, fd, atomic_load(&fake->slow_ms)) != 0)
            goto done;
        code += 2; /* "ow<N>": answered like ok<N> */
    }
    if (fake_refuses(fake, fd, target))
        goto done;
    if (code == NULL) {
        fake_sendf(fd, 200, "{\"errcode\":41008,\"errmsg\":\"missing code\"}");
    } else if (strncmp(code, "ok", 2) == 0 || strncmp(code, "ow", 2) == 0) {
        fake_sendf(
            fd, 200,
            "{\"errcode\":0,\"errmsg\":\"ok\",\"phone_info\":{\"phoneNumber\":\"+86 138%08d\",\"purePhoneNumber\":"
            "\"138%08d\",\"countryCode\":\"86\",\"watermark\":{\"timestamp\":1637744274,\"appid\":\"" APPID "\"}}}",
            atoi(code + 2), atoi(code + 2));
    } else if (strncmp(code, "num", 3) == 0) {
        fake_sendf(fd, 200,
                   "{\"phone_info\":{\"purePhoneNumber\":\"4155550%03d\",\"countryCode\":1,\"watermark\":{\"appid\":"
                   "\"" APPID "\"}}}",
                   atoi(code + 3));
    } else if (code[0] == 'e') {
        fake_sendf(fd, 200, "{\"errcode\":%ld,\"errmsg\":\"fake\"}", strtol(code + 1, NULL, 10));
    } else {
        fake_sendf(fd, 200, "not json");
    }
done:
    json_decref(root);
}

static void fake_checksession(fake_t *fake, int fd, const char *target)
{
    char signature[128];
    if (fake_refuses(fake, fd, target))
        return;
    fake_query(target, "signature", signature, sizeof(signature));
    if (strcmp(signature, "stale") == 0)
        fake_sendf(fd, 200, "{\"errcode\":87009,\"errmsg\":\"invalid signature\"}");
    else
        fake_sendf(fd, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}");
}

/* msg_sec_check: the token first, then by content: "slow..." passes after slow_ms (the token judged
 * before the wait), "e<N>" errcode N, "junk" not JSON, "nosuggest" errcode 0 without a verdict,
 * anything holding "risky" risky (label 20002, a number), "review" review (label "20001", a string),
 * else pass (label "100"). */
static void fake_msg_sec_check(fake_t *fake, int fd, const char *target, const char *body)
{
    json_error_t error;
    json_t *root = json_loads(body, 0, &error);
    const char *content = json_string_value(json_object_get(root, "content"));
    if (fake_refuses(fake, fd, target))
        goto done;
    if (content == NULL) {
        fake_sendf(fd, 200, "{\"errcode\":44002,\"errmsg\":\"empty post data\"}");
    } else if (strncmp(content, "slow", 4) == 0) {
        if (fake_wait(fake, fd, atomic_load(&fake->slow_ms)) == 0)
            fake_sendf(fd, 200, "{\"errcode\":0,\"trace_id\":\"t-slow\",\"result\":{\"suggest\":\"pass\"}}");
    } else if (content[0] == 'e') {
        fake_sendf(fd, 200, "{\"errcode\":%ld,\"errmsg\":\"fake\"}", strtol(content + 1, NULL, 10));
    } else if (strcmp(content, "junk") == 0) {
        fake_sendf(fd, 200, "<html>busy</html>");
    } else if (strcmp(content, "nosuggest") == 0) {
        fake_sendf(fd, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"trace_id\":\"t-none\"}");
    } else if (strstr(content, "risky") != NULL) {
        fake_sendf(fd, 200,
                   "{\"errcode\":0,\"errmsg\":\"ok\",\"detail\":[{\"strategy\":\"keyword\",\"errcode\":0,"
                   "\"suggest\":\"risky\",\"label\":20002,\"prob\":90,\"keyword\":\"risky\"}],\"trace_id\":"
                   "\"t-risky\",\"result\":{\"suggest\":\"risky\",\"label\":20002}}");
    } else if (strstr(content, "review") != NULL) {
        fake_sendf(fd, 200,
                   "{\"errcode\":0,\"trace_id\":\"t-review\",\"result\":{\"suggest\":\"review\",\"label\":"
                   "\"20001\"}}");
    } else {
        fake_sendf(fd, 200,
                   "{\"errcode\":0,\"errmsg\":\"ok\",\"detail\":[{\"strategy\":\"content_model\",\"errcode\":0,"
                   "\"suggest\":\"pass\",\"label\":100,\"prob\":90},{\"strategy\":\"keyword\",\"errcode\":0}],"
                   "\"trace_id\":\"81e82bd9-f1f85f0a-d9cc4d46\",\"result\":{\"suggest\":\"pass\",\"label\":"
                   "\"100\"}}");
    }
done:
    json_decref(root);
}

/* media_check_async: the token first, then by media_url: holding "slow" accepted after slow_ms,
 * "/e<N>." errcode N, "notrace" errcode 0 without a trace_id, else accepted with a new trace_id. */
static void fake_media_check(fake_t *fake, int fd, const char *target, const char *body)
{
    static atomic_int traces;
    json_error_t error;
    json_t *root = json_loads(body, 0, &error);
    const char *url = json_string_value(json_object_get(root, "media_url"));
    const char *e = url != NULL ? strstr(url, "/e") : NULL;
    if (fake_refuses(fake, fd, target))
        goto done;
    if (url == NULL) {
        fake_sendf(fd, 200, "{\"errcode\":44002,\"errmsg\":\"empty post data\"}");
    } else if (strstr(url, "slow") != NULL) {
        if (fake_wait(fake, fd, atomic_load(&fake->slow_ms)) == 0)
            fake_sendf(fd, 200, "{\"errcode\":0,\"trace_id\":\"m-slow\"}");
    } else if (e != NULL && e[2] >= '0' && e[2] <= '9') {
        fake_sendf(fd, 200, "{\"errcode\":%ld,\"errmsg\":\"fake\"}", strtol(e + 2, NULL, 10));
    } else if (strstr(url, "notrace") != NULL) {
        fake_sendf(fd, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}");
    } else {
        fake_sendf(fd, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"trace_id\":\"690b03d2-1a2b3c4d-%08d\"}",
                   atomic_fetch_add(&traces, 1) + 1);
    }
done:
    json_decref(root);
}

/* Answers one request by its path. Returns false when the connection must close. */
static bool fake_route(fake_t *fake, int fd, const char *target, const char *body)
{
    size_t path_len = strcspn(target, "?");
    if (path_len == strlen("/cgi-bin/token") && strncmp(target, "/cgi-bin/token", path_len) == 0)
        return fake_token(fake, fd, false, body);
    if (strcmp(target, "/cgi-bin/stable_token") == 0)
        return fake_token(fake, fd, true, body);
    if (strncmp(target, "/wxa/business/getuserphonenumber?", 33) == 0)
        fake_phone(fake, fd, target, body);
    else if (strncmp(target, "/wxa/checksession?", 18) == 0)
        fake_checksession(fake, fd, target);
    else if (strncmp(target, "/wxa/msg_sec_check?", 19) == 0)
        fake_msg_sec_check(fake, fd, target, body);
    else if (strncmp(target, "/wxa/media_check_async?", 23) == 0)
        fake_media_check(fake, fd, target, body);
    else
        return fake_answer(fake, fd, target);
    return true;
}

/* Content-Length of a request head, 0 when none. */
static size_t fake_content_length(const char *head)
{
    const char *p = strcasestr(head, "\r\ncontent-length:");
    return p == NULL ? 0 : (size_t)strtoul(p + 17, NULL, 10);
}

/* One keep-alive connection: read a request (head and body), record it, answer, repeat. */
static void *fake_conn_main(void *arg)
{
    fake_conn_t *conn = arg;
    char buf[16384];
    size_t len = 0;

    for (;;) {
        char *end;
        buf[len] = '\0';
        while ((end = strstr(buf, "\r\n\r\n")) == NULL || len < (size_t)(end + 4 - buf) + fake_content_length(buf)) {
            if (len + 1 >= sizeof(buf) || fake_wait(conn->fake, conn->fd, 10000) != 1)
                goto done;
            ssize_t r = recv(conn->fd, buf + len, sizeof(buf) - 1 - len, 0);
            if (r <= 0)
                goto done;
            len += (size_t)r;
            buf[len] = '\0';
        }
        char method[8] = "", target[4096] = "";
        size_t head_len = (size_t)(end + 4 - buf), body_len = fake_content_length(buf);
        sscanf(buf, "%7s %4095s HTTP/1.1", method, target);
        char *body = strndup(end + 4, body_len);
        fake_record(conn->fake, method, target, body);
        bool keep = fake_route(conn->fake, conn->fd, target, body);
        free(body);
        len -= head_len + body_len;
        memmove(buf, buf + head_len + body_len, len);
        if (!keep)
            goto done;
    }
done:
    close(conn->fd);
    atomic_fetch_sub(&conn->fake->connections, 1);
    free(conn);
    return NULL;
}

static void *fake_accept_main(void *arg)
{
    fake_t *fake = arg;
    while (fake_wait(fake, fake->listen_fd, -1) == 1) {
        int fd = accept(fake->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        fake_conn_t *conn = malloc(sizeof(*conn));
        *conn = (fake_conn_t){fake, fd};
        pthread_t tid;
        atomic_fetch_add(&fake->connections, 1);
        atomic_fetch_add(&fake->accepted, 1);
        pthread_create(&tid, NULL, fake_conn_main, conn);
        pthread_detach(tid);
    }
    return NULL;
}

/* Listens on 127.0.0.1 on a free port. */
static void fake_start(fake_t *fake)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof(addr);

    memset(fake, 0, sizeof(*fake));
    fake->expires_in = 7200;
    pthread_mutex_init(&fake->lock, NULL);
    assert_int_equal(pipe(fake->stop_pipe), 0);
    fake->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fake->listen_fd >= 0);
    assert_int_equal(bind(fake->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(fake->listen_fd, 512), 0);
    assert_int_equal(getsockname(fake->listen_fd, (struct sockaddr *)&addr, &addr_len), 0);
    fake->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&fake->acceptor, NULL, fake_accept_main, fake), 0);
}

static void fake_stop(fake_t *fake)
{
    assert_int_equal(write(fake->stop_pipe[1], "x", 1), 1);
    pthread_join(fake->acceptor, NULL);
    for (int64_t deadline = clock_monotonic_ms() + 5000;
         atomic_load(&fake->connections) > 0 && clock_monotonic_ms() < deadline;)
        usleep(1000);
    assert_int_equal(atomic_load(&fake->connections), 0);
    close(fake->listen_fd);
    close(fake->stop_pipe[0]);
    close(fake->stop_pipe[1]);
    for (int i = 0; i < fake->n_targets; i++) {
        free(fake->targets[i]);
        free(fake->bodies[i]);
    }
    pthread_mutex_destroy(&fake->lock);
}

/* How many requests carried exactly this (escaped) js_code. */
static int fake_count(fake_t *fake, const char *code)
{
    char needle[300];
    int count = 0;
    snprintf(needle, sizeof(needle), "js_code=%s&", code);
    pthread_mutex_lock(&fake->lock);
    for (int i = 0; i < fake->n_targets; i++)
        count += strstr(fake->targets[i], needle) != NULL;
    pthread_mutex_unlock(&fake->lock);
    return count;
}

static int fake_total(fake_t *fake)
{
    pthread_mutex_lock(&fake->lock);
    int n = fake->n_targets;
    pthread_mutex_unlock(&fake->lock);
    return n;
}

/* ---- the loop side -------------------------------------------------------------------- */

/*
 * One event loop and queue for the whole program, never destroyed: libh2o-evloop 2.2.5's
 * h2o_multithread_destroy_queue() does not free the queue, which LeakSanitizer would report.
 */
static h2o_evloop_t *test_loop;
static h2o_multithread_queue_t *test_queue;

typedef struct harness {
    fake_t fake;
    h2o_evloop_t *loop;
    h2o_multithread_receiver_t receiver;
    pthread_t loop_thread;
    wx_client_t *client;
    int replies;
} harness_t;

typedef struct call {
    wx_code2session_req_t req;
    harness_t *h;
    int64_t submitted_ms, done_ms;
    int done; /* times on_done ran */
} call_t;

static void on_done(loop_msg_t *msg)
{
    call_t *call = H2O_STRUCT_FROM_MEMBER(call_t, req.msg, msg);
    assert_true(pthread_equal(pthread_self(), call->h->loop_thread)); /* back on the loop's thread */
    call->done++;
    call->done_ms = clock_monotonic_ms();
    call->h->replies++;
}

static wx_client_t *client_start_with(int port, int timeout_ms, bool stable)
{
    char base[64], err[256] = "";
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/", port); /* a trailing '/' is tolerated */
    wx_client_config_t config = {.api_base = base,
                                 .app_id = APPID,
                                 .app_secret = SECRET,
                                 .ca_file = NULL,
                                 .timeout_ms = timeout_ms,
                                 .use_stable_token = stable};
    wx_client_t *client = wx_client_start(&config, err, sizeof(err));
    assert_non_null(client);
    return client;
}

static wx_client_t *client_start(int port, int timeout_ms)
{
    return client_start_with(port, timeout_ms, false);
}

static void harness_start_with(harness_t *h, int timeout_ms, bool stable)
{
    memset(h, 0, sizeof(*h));
    fake_start(&h->fake);
    h->loop = test_loop;
    loop_msg_register(test_queue, &h->receiver);
    h->loop_thread = pthread_self();
    h->client = client_start_with(h->fake.port, timeout_ms, stable);
}

static void harness_start(harness_t *h, int timeout_ms)
{
    harness_start_with(h, timeout_ms, false);
}

static void harness_stop(harness_t *h)
{
    wx_client_stop(h->client); /* closes the keep-alive connections: the fake's threads end */
    fake_stop(&h->fake);
    h2o_multithread_unregister_receiver(test_queue, &h->receiver);
}

static void submit(harness_t *h, wx_client_t *client, call_t *call, const char *code)
{
    memset(call, 0, sizeof(*call));
    call->h = h;
    loop_msg_init(&call->req.msg, &h->receiver, on_done);
    snprintf(call->req.code, sizeof(call->req.code), "%s", code);
    call->submitted_ms = clock_monotonic_ms();
    wx_code2session(client, &call->req);
}

/* Runs the loop until n replies have arrived in all, or deadline_ms passes. */
static bool wait_replies(harness_t *h, int n, int deadline_ms)
{
    int64_t deadline = clock_monotonic_ms() + deadline_ms;
    while (h->replies < n && clock_monotonic_ms() < deadline)
        h2o_evloop_run(h->loop, 100);
    return h->replies >= n;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_success(void **state)
{
    harness_t h;
    call_t a, b, c;
    harness_start(&h, 2000);
    submit(&h, h.client, &a, "okABC");
    submit(&h, h.client, &b, "nounion1");
    submit(&h, h.client, &c, "ok+/=&?x y");
    assert_true(wait_replies(&h, 3, 5000));

    assert_int_equal(a.done, 1);
    assert_int_equal(a.req.result.outcome, WX_OK);
    assert_int_equal(a.req.result.http_status, 200);
    assert_string_equal(a.req.result.openid, "ookABC");
    assert_string_equal(a.req.result.unionid, "uokABC");
    assert_string_equal(a.req.result.session_key, SESSION_KEY);
    assert_null(wx_error_lookup(a.req.result.outcome, a.req.result.errcode));

    assert_int_equal(b.req.result.outcome, WX_OK);
    assert_string_equal(b.req.result.openid, "onounion1");
    assert_string_equal(b.req.result.unionid, "");

    /* the code is escaped, and so are appid and secret */
    assert_int_equal(c.req.result.outcome, WX_OK);
    assert_int_equal(fake_count(&h.fake, "ok%2B%2F%3D%26%3Fx%20y"), 1);
    pthread_mutex_lock(&h.fake.lock);
    assert_int_equal(h.fake.n_targets, 3);
    for (int i = 0; i < h.fake.n_targets; i++) {
        const char *t = h.fake.targets[i];
        assert_true(strncmp(t, "/sns/jscode2session?", 20) == 0);
        assert_non_null(strstr(t, "appid=" APPID "&"));
        assert_non_null(strstr(t, "&secret=" SECRET_ESCAPED "&"));
        assert_non_null(strstr(t, "&grant_type=authorization_code"));
    }
    pthread_mutex_unlock(&h.fake.lock);
    harness_stop(&h);
}

static void test_errcode(void **state)
{
    harness_t h;
    call_t a, b;
    harness_start(&h, 2000);
    submit(&h, h.client, &a, "e40029");
    submit(&h, h.client, &b, "e-1");
    assert_true(wait_replies(&h, 2, 5000));
    assert_int_equal(a.req.result.outcome, WX_ERRCODE);
    assert_int_equal(a.req.result.errcode, 40029);
    assert_int_equal(a.req.result.http_status, 200);
    assert_string_equal(a.req.result.openid, "");
    assert_int_equal(wx_error_lookup(a.req.result.outcome, a.req.result.errcode)->api_errno, API_WX_CODE_INVALID);
    assert_int_equal(b.req.result.outcome, WX_ERRCODE);
    assert_int_equal(b.req.result.errcode, -1);
    harness_stop(&h);
}

static void test_bad_answers(void **state)
{
    harness_t h;
    call_t a, b, c, d;
    harness_start(&h, 2000);
    submit(&h, h.client, &a, "h500");
    submit(&h, h.client, &b, "junk");
    submit(&h, h.client, &c, "big");
    submit(&h, h.client, &d, "bigstream");
    assert_true(wait_replies(&h, 4, 5000));
    assert_int_equal(a.req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(a.req.result.http_status, 500);
    assert_int_equal(b.req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(b.req.result.http_status, 200);
    assert_int_equal(c.req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(d.req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(fake_total(&h.fake), 4);
    harness_stop(&h);
}

static void test_timeout(void **state)
{
    harness_t h;
    call_t a;
    harness_start(&h, 300);
    atomic_store(&h.fake.slow_ms, 5000);
    submit(&h, h.client, &a, "slowT");
    assert_true(wait_replies(&h, 1, 3000));
    assert_int_equal(a.req.result.outcome, WX_TIMEOUT);
    assert_int_equal(a.req.result.http_status, 0);
    int64_t elapsed = a.done_ms - a.submitted_ms;
    print_message("timed out after %lld ms\n", (long long)elapsed);
    assert_true(elapsed >= 250);
    assert_true(elapsed < 1300);
    assert_int_equal(fake_count(&h.fake, "slowT"), 1); /* never retried */
    harness_stop(&h);
}

static void test_connection_refused(void **state)
{
    harness_t h;
    call_t a;
    harness_start(&h, 2000);
    /* a port that was free a moment ago and has no listener now */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    wx_client_t *refused = client_start(ntohs(addr.sin_port), 2000);
    submit(&h, refused, &a, "okR");
    assert_true(wait_replies(&h, 1, 3000));
    assert_int_equal(a.req.result.outcome, WX_UNREACHABLE);
    assert_int_equal(a.req.result.http_status, 0);
    assert_int_equal(wx_error_lookup(a.req.result.outcome, 0)->api_errno, API_WX_UNAVAILABLE);
    wx_client_stop(refused);
    harness_stop(&h);
}

/* code2Session reuses keep-alive connections, and a request whose reused connection ends
 * before the answer is not sent again (the code may be spent): it ends WX_UNREACHABLE. */
static void test_code_reuses_connections_at_most_once(void **state)
{
    harness_t h;
    call_t a, b, c, d;
    harness_start(&h, 2000);
    submit(&h, h.client, &a, "okReuse1");
    assert_true(wait_replies(&h, 1, 3000));
    submit(&h, h.client, &b, "okReuse2");
    assert_true(wait_replies(&h, 2, 3000));
    assert_int_equal(a.req.result.outcome, WX_OK);
    assert_int_equal(b.req.result.outcome, WX_OK);
    assert_int_equal(atomic_load(&h.fake.accepted), 1); /* the second went on the first's connection */

    submit(&h, h.client, &c, "vanish1"); /* on the reused connection, which then ends unanswered */
    assert_true(wait_replies(&h, 3, 3000));
    assert_int_equal(c.req.result.outcome, WX_UNREACHABLE);
    assert_int_equal(fake_count(&h.fake, "vanish1"), 1); /* libcurl's own re-send was stopped */

    submit(&h, h.client, &d, "okReuse3"); /* the client goes on with a new connection */
    assert_true(wait_replies(&h, 4, 3000));
    assert_int_equal(d.req.result.outcome, WX_OK);
    assert_int_equal(fake_total(&h.fake), 4); /* (libcurl connected again for its re-send, which never went out) */
    harness_stop(&h);
}

static void test_bad_code_is_not_sent(void **state)
{
    harness_t h;
    call_t a, b;
    harness_start(&h, 2000);
    submit(&h, h.client, &a, "");
    memset(&b, 0, sizeof(b));
    b.h = &h;
    loop_msg_init(&b.req.msg, &h.receiver, on_done);
    memset(b.req.code, 'x', sizeof(b.req.code)); /* no NUL inside code[] */
    wx_code2session(h.client, &b.req);
    assert_true(wait_replies(&h, 2, 3000));
    assert_int_equal(a.req.result.outcome, WX_ERRCODE);
    assert_int_equal(a.req.result.errcode, 40029);
    assert_int_equal(b.done, 1);
    assert_int_equal(b.req.result.outcome, WX_ERRCODE);
    assert_int_equal(b.req.result.errcode, 40029);
    assert_int_equal(fake_total(&h.fake), 0);
    harness_stop(&h);
}

static void test_single_flight(void **state)
{
    harness_t h;
    call_t a1, a2, b, a3;
    harness_start(&h, 2000);
    atomic_store(&h.fake.slow_ms, 300);
    submit(&h, h.client, &a1, "slowSame");
    submit(&h, h.client, &b, "slowOther");
    usleep(50 * 1000); /* the first call is surely on its way */
    submit(&h, h.client, &a2, "slowSame");
    assert_true(wait_replies(&h, 3, 5000));
    assert_int_equal(fake_count(&h.fake, "slowSame"), 1);
    assert_int_equal(fake_count(&h.fake, "slowOther"), 1);
    assert_int_equal(a1.done, 1);
    assert_int_equal(a2.done, 1);
    assert_int_equal(a1.req.result.outcome, WX_OK);
    assert_int_equal(a2.req.result.outcome, WX_OK);
    assert_string_equal(a1.req.result.openid, "oslowSame");
    assert_string_equal(a2.req.result.openid, "oslowSame");
    assert_string_equal(a2.req.result.session_key, SESSION_KEY);
    assert_string_equal(b.req.result.openid, "oslowOther");

    /* once answered, the same code makes a new call (WeChat would say 40163) */
    submit(&h, h.client, &a3, "slowSame");
    assert_true(wait_replies(&h, 4, 5000));
    assert_int_equal(fake_count(&h.fake, "slowSame"), 2);
    harness_stop(&h);
}

#define N_CONCURRENT 100

static void test_concurrency(void **state)
{
    harness_t h;
    call_t *calls = calloc(N_CONCURRENT, sizeof(*calls));
    char code[32];
    harness_start(&h, 5000);
    atomic_store(&h.fake.slow_ms, 100);
    int64_t start = clock_monotonic_ms();
    for (int i = 0; i < N_CONCURRENT; i++) {
        snprintf(code, sizeof(code), "slow%d", i);
        submit(&h, h.client, &calls[i], code);
    }
    assert_true(wait_replies(&h, N_CONCURRENT, 10000));
    int64_t elapsed = clock_monotonic_ms() - start;
    print_message("%d calls delayed 100 ms each took %lld ms\n", N_CONCURRENT, (long long)elapsed);
    assert_true(elapsed < 3000);
    for (int i = 0; i < N_CONCURRENT; i++) {
        char openid[40];
        snprintf(openid, sizeof(openid), "oslow%d", i);
        assert_int_equal(calls[i].done, 1);
        assert_int_equal(calls[i].req.result.outcome, WX_OK);
        assert_string_equal(calls[i].req.result.openid, openid);
    }
    assert_int_equal(fake_total(&h.fake), N_CONCURRENT);
    harness_stop(&h);
    free(calls);
}

static void test_stop_delivers_calls_in_flight(void **state)
{
    harness_t h;
    call_t calls[5];
    char code[32];
    harness_start(&h, 10000);
    atomic_store(&h.fake.slow_ms, 8000);
    for (int i = 0; i < 5; i++) {
        snprintf(code, sizeof(code), "slowStop%d", i);
        submit(&h, h.client, &calls[i], code);
    }
    for (int64_t deadline = clock_monotonic_ms() + 3000; fake_total(&h.fake) < 5 && clock_monotonic_ms() < deadline;)
        usleep(1000);
    assert_int_equal(fake_total(&h.fake), 5);

    int64_t start = clock_monotonic_ms();
    wx_client_stop(h.client);
    assert_true(clock_monotonic_ms() - start < 2000);
    for (int i = 0; i < 5; i++) /* results were written before stop returned */
        assert_int_equal(calls[i].req.result.outcome, WX_UNREACHABLE);
    assert_true(wait_replies(&h, 5, 2000));
    for (int i = 0; i < 5; i++)
        assert_int_equal(calls[i].done, 1);

    h.client = client_start(h.fake.port, 1000); /* harness_stop stops a client */
    harness_stop(&h);
}

static char *read_all(FILE *f)
{
    fflush(f);
    long size = ftell(f);
    char *text = calloc(1, (size_t)size + 1);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    return text;
}

static void test_log_never_shows_secrets(void **state)
{
    harness_t h;
    call_t calls[6];
    FILE *logf = tmpfile();
    assert_non_null(logf);
    log_set_fd(fileno(logf));
    log_set_level(LOG_DEBUG);

    harness_start(&h, 300);
    atomic_store(&h.fake.slow_ms, 3000);
    submit(&h, h.client, &calls[0], "okLog");
    submit(&h, h.client, &calls[1], "e40125");
    submit(&h, h.client, &calls[2], "h500");
    submit(&h, h.client, &calls[3], "slowLog");
    submit(&h, h.client, &calls[4], "bigstream");
    wx_client_t *refused = client_start(1, 300);
    submit(&h, refused, &calls[5], "okRefused");
    assert_true(wait_replies(&h, 6, 5000));
    wx_client_stop(refused);
    harness_stop(&h);
    log_set_fd(2);
    log_set_level(LOG_INFO);

    char *text = read_all(logf);
    fclose(logf);
    print_message("log:\n%s", text);
    assert_non_null(strstr(text, "/sns/jscode2session")); /* the calls were logged... */
    assert_null(strstr(text, "TOPSECRET"));               /* ...but never the secret */
    assert_null(strstr(text, "secret="));
    assert_null(strstr(text, "tiihtNczf5v6AKRyjwEUhQ")); /* nor the session_key */
    assert_null(strstr(text, "js_code"));
    assert_null(strstr(text, "okLog"));
    free(text);
}

/* ---- calls that need the access_token ------------------------------------------------- */

typedef struct phone_call {
    wx_phone_req_t req;
    harness_t *h;
    int done;
} phone_call_t;

typedef struct session_call {
    wx_checksession_req_t req;
    harness_t *h;
    int done;
} session_call_t;

static void on_phone_done(loop_msg_t *msg)
{
    phone_call_t *call = H2O_STRUCT_FROM_MEMBER(phone_call_t, req.msg, msg);
    assert_true(pthread_equal(pthread_self(), call->h->loop_thread));
    call->done++;
    call->h->replies++;
}

static void on_session_done(loop_msg_t *msg)
{
    session_call_t *call = H2O_STRUCT_FROM_MEMBER(session_call_t, req.msg, msg);
    assert_true(pthread_equal(pthread_self(), call->h->loop_thread));
    call->done++;
    call->h->replies++;
}

static void submit_phone(harness_t *h, phone_call_t *call, const char *code, const char *openid)
{
    memset(call, 0, sizeof(*call));
    call->h = h;
    loop_msg_init(&call->req.msg, &h->receiver, on_phone_done);
    snprintf(call->req.code, sizeof(call->req.code), "%s", code);
    snprintf(call->req.openid, sizeof(call->req.openid), "%s", openid);
    wx_get_phone_number(h->client, &call->req);
}

static void submit_session(harness_t *h, session_call_t *call, const char *openid, const char *signature)
{
    memset(call, 0, sizeof(*call));
    call->h = h;
    loop_msg_init(&call->req.msg, &h->receiver, on_session_done);
    snprintf(call->req.openid, sizeof(call->req.openid), "%s", openid);
    snprintf(call->req.signature, sizeof(call->req.signature), "%s", signature);
    wx_check_session(h->client, &call->req);
}

/* Requests whose target starts with prefix. */
static int fake_count_prefix(fake_t *fake, const char *prefix)
{
    int count = 0;
    pthread_mutex_lock(&fake->lock);
    for (int i = 0; i < fake->n_targets; i++)
        count += strncmp(fake->targets[i], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&fake->lock);
    return count;
}

/* Requests whose body holds needle. */
static int fake_count_body(fake_t *fake, const char *needle)
{
    int count = 0;
    pthread_mutex_lock(&fake->lock);
    for (int i = 0; i < fake->n_targets; i++)
        count += strstr(fake->bodies[i], needle) != NULL;
    pthread_mutex_unlock(&fake->lock);
    return count;
}

#define TOKEN_CALLS(h)                                                                                                 \
    (fake_count_prefix(&(h)->fake, "/cgi-bin/token") + fake_count_prefix(&(h)->fake, "/cgi-bin/stable_token"))
#define PHONE_CALLS(h) fake_count_prefix(&(h)->fake, "/wxa/business/getuserphonenumber")

/* Changes the fake's behaviour under its lock. */
#define FAKE_SET(fake, field, value)                                                                                   \
    do {                                                                                                               \
        pthread_mutex_lock(&(fake)->lock);                                                                             \
        (fake)->field = (value);                                                                                       \
        pthread_mutex_unlock(&(fake)->lock);                                                                           \
    } while (0)

static void fake_refuse(fake_t *fake, int slot, const char *token, long errcode)
{
    pthread_mutex_lock(&fake->lock);
    snprintf(fake->refused[slot], sizeof(fake->refused[slot]), "%s", token);
    fake->refuse_errcode = errcode;
    pthread_mutex_unlock(&fake->lock);
}

static void fake_current(fake_t *fake, char *out, size_t size)
{
    pthread_mutex_lock(&fake->lock);
    snprintf(out, size, "%s", fake->current);
    pthread_mutex_unlock(&fake->lock);
}

static void assert_phone_ok(const phone_call_t *call, int n)
{
    char pure[32];
    snprintf(pure, sizeof(pure), "138%08d", n);
    assert_int_equal(call->done, 1);
    assert_int_equal(call->req.result.outcome, WX_OK);
    assert_int_equal(call->req.result.http_status, 200);
    assert_false(call->req.result.token_failed);
    assert_string_equal(call->req.result.pure_phone_number, pure);
    assert_string_equal(call->req.result.country_code, "86");
    assert_string_equal(call->req.result.watermark_appid, APPID);
    assert_null(wx_error_lookup_api(WX_API_PHONE, call->req.result.outcome, call->req.result.errcode));
}

/* The status snapshot holds no byte sequence of the token. */
static void assert_status_has_no_token(const wx_token_status_t *status, const char *token)
{
    assert_true(strlen(token) > 0);
    assert_null(memmem(status, sizeof(*status), token, strlen(token)));
    assert_null(memmem(status, sizeof(*status), TOKEN_PREFIX, strlen(TOKEN_PREFIX)));
}

#define N_PHONE 100

static void test_token_fetched_once_for_many(void **state)
{
    harness_t h;
    phone_call_t *calls = calloc(N_PHONE + 3, sizeof(*calls));
    session_call_t sessions[2];
    char code[32], token[64];
    wx_token_status_t status;

    harness_start_with(&h, 5000, true);
    wx_client_token_status(h.client, &status);
    assert_false(status.have_token);
    assert_int_equal(status.fetches, 0);
    assert_int_equal(status.expires_at, 0);
    assert_string_equal(status.api, "stable_token");
    assert_int_equal(TOKEN_CALLS(&h), 0); /* lazily: nothing fetched before a call needs it */

    FAKE_SET(&h.fake, token_delay_ms, 200); /* every call arrives while the one fetch is on its way */
    for (int i = 0; i < N_PHONE; i++) {
        snprintf(code, sizeof(code), "ok%d", i);
        submit_phone(&h, &calls[i], code, "");
    }
    assert_true(wait_replies(&h, N_PHONE, 8000));
    for (int i = 0; i < N_PHONE; i++)
        assert_phone_ok(&calls[i], i);
    assert_int_equal(fake_count_prefix(&h.fake, "/cgi-bin/stable_token"), 1);
    assert_int_equal(TOKEN_CALLS(&h), 1);
    assert_int_equal(PHONE_CALLS(&h), N_PHONE);

    /* the cached token serves later calls too */
    for (int i = 0; i < 3; i++) {
        snprintf(code, sizeof(code), "ok%d", 500 + i);
        submit_phone(&h, &calls[N_PHONE + i], code, "");
    }
    submit_session(&h, &sessions[0], "oUser", "good");
    submit_session(&h, &sessions[1], "oUser", "stale");
    assert_true(wait_replies(&h, N_PHONE + 5, 5000));
    for (int i = 0; i < 3; i++)
        assert_phone_ok(&calls[N_PHONE + i], 500 + i);
    assert_int_equal(sessions[0].req.outcome, WX_OK);
    assert_int_equal(sessions[1].req.outcome, WX_ERRCODE);
    assert_int_equal(sessions[1].req.errcode, 87009);
    assert_int_equal(TOKEN_CALLS(&h), 1);

    /* the stable_token request: JSON with our credentials, nothing in the URL */
    pthread_mutex_lock(&h.fake.lock);
    for (int i = 0; i < h.fake.n_targets; i++) {
        if (strcmp(h.fake.targets[i], "/cgi-bin/stable_token") != 0)
            continue;
        assert_string_equal(h.fake.methods[i], "POST");
        json_error_t error;
        json_t *body = json_loads(h.fake.bodies[i], JSON_REJECT_DUPLICATES, &error);
        assert_non_null(body);
        assert_int_equal(json_object_size(body), 4);
        assert_string_equal(json_string_value(json_object_get(body, "grant_type")), "client_credential");
        assert_string_equal(json_string_value(json_object_get(body, "appid")), APPID);
        assert_string_equal(json_string_value(json_object_get(body, "secret")), SECRET);
        assert_true(json_is_false(json_object_get(body, "force_refresh")));
        json_decref(body);
    }
    pthread_mutex_unlock(&h.fake.lock);

    time_t now = time(NULL);
    wx_client_token_status(h.client, &status);
    assert_true(status.have_token);
    assert_int_equal(status.fetches, 1);
    assert_int_equal(status.failures, 0);
    assert_int_equal(status.last_errcode, 0);
    assert_int_equal(status.force_refreshes_today, 0);
    assert_true(status.expires_at >= now + 7200 - 10 && status.expires_at <= now + 7200);
    fake_current(&h.fake, token, sizeof(token));
    assert_status_has_no_token(&status, token);
    harness_stop(&h);
    free(calls);
}

static void test_token_get_mode_and_requests(void **state)
{
    harness_t h;
    phone_call_t a, b;
    session_call_t s1, s2;
    wx_token_status_t status;

    harness_start(&h, 2000);
    submit_phone(&h, &a, "ok1", "oBound_1");
    assert_true(wait_replies(&h, 1, 3000));
    assert_phone_ok(&a, 1);
    assert_string_equal(a.req.result.phone_number, "+86 13800000001");
    submit_phone(&h, &b, "num7", "");
    submit_session(&h, &s1, "o+/=&penid", "good");
    submit_session(&h, &s2, "oUser", "stale");
    assert_true(wait_replies(&h, 4, 3000));
    assert_int_equal(b.req.result.outcome, WX_OK);
    assert_string_equal(b.req.result.country_code, "1"); /* a number at WeChat, a string here */
    assert_string_equal(b.req.result.pure_phone_number, "4155550007");
    assert_string_equal(b.req.result.phone_number, "+1 4155550007"); /* built: WeChat sent none */
    assert_int_equal(s1.req.outcome, WX_OK);
    assert_int_equal(s1.req.http_status, 200);
    assert_int_equal(s2.req.outcome, WX_ERRCODE);
    assert_int_equal(s2.req.errcode, 87009);
    assert_false(s2.req.token_failed);
    const wx_error_t *stale = wx_error_lookup_api(WX_API_CHECKSESSION, s2.req.outcome, s2.req.errcode);
    assert_int_equal(stale->api_errno, API_SESSION_KEY_STALE);
    assert_int_equal(stale->fault, WX_FAULT_CLIENT);

    pthread_mutex_lock(&h.fake.lock);
    assert_int_equal(h.fake.n_targets, 5);
    assert_string_equal(h.fake.methods[0], "GET");
    assert_string_equal(h.fake.targets[0],
                        "/cgi-bin/token?grant_type=client_credential&appid=" APPID "&secret=" SECRET_ESCAPED);
    for (int i = 1; i < h.fake.n_targets; i++) {
        const char *t = h.fake.targets[i];
        if (strncmp(t, "/wxa/business/getuserphonenumber", 32) == 0) {
            assert_string_equal(h.fake.methods[i], "POST");
            assert_string_equal(t, "/wxa/business/getuserphonenumber?access_token=" TOKEN_ESCAPED "1");
            const char *body = h.fake.bodies[i];
            assert_true(strcmp(body, "{\"code\":\"ok1\",\"openid\":\"oBound_1\"}") == 0 ||
                        strcmp(body, "{\"code\":\"num7\"}") == 0); /* no openid when there is none */
        } else {
            assert_string_equal(h.fake.methods[i], "GET");
            assert_true(strcmp(t, "/wxa/checksession?access_token=" TOKEN_ESCAPED "1&openid=o%2B%2F%3D%26penid"
                                  "&signature=good&sig_method=hmac_sha256") == 0 ||
                        strcmp(t, "/wxa/checksession?access_token=" TOKEN_ESCAPED
                                  "1&openid=oUser&signature=stale&sig_method=hmac_sha256") == 0);
        }
    }
    pthread_mutex_unlock(&h.fake.lock);
    assert_int_equal(TOKEN_CALLS(&h), 1);
    wx_client_token_status(h.client, &status);
    assert_string_equal(status.api, "token");
    assert_int_equal(status.fetches, 1);
    harness_stop(&h);
}

static void test_phone_answers(void **state)
{
    harness_t h;
    phone_call_t calls[6];
    harness_start(&h, 2000);
    submit_phone(&h, &calls[0], "e40029", "");
    submit_phone(&h, &calls[1], "e1400001", "");
    submit_phone(&h, &calls[2], "e45011", "");
    submit_phone(&h, &calls[3], "junk", "");
    submit_phone(&h, &calls[4], "", "");               /* refused before any call */
    submit_phone(&h, &calls[5], "ok\"\\\n\x01", "oX"); /* escaped into JSON */
    assert_true(wait_replies(&h, 6, 3000));
    assert_int_equal(calls[0].req.result.outcome, WX_ERRCODE);
    assert_int_equal(calls[0].req.result.errcode, 40029);
    assert_int_equal(wx_error_lookup_api(WX_API_PHONE, WX_ERRCODE, 40029)->api_errno, API_WX_PHONE_CODE_INVALID);
    assert_int_equal(calls[1].req.result.errcode, 1400001);
    assert_int_equal(wx_error_lookup_api(WX_API_PHONE, WX_ERRCODE, 1400001)->fault, WX_FAULT_CONFIG);
    assert_int_equal(calls[2].req.result.errcode, 45011);
    assert_int_equal(calls[3].req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(calls[3].req.result.http_status, 200);
    assert_string_equal(calls[3].req.result.pure_phone_number, "");
    assert_int_equal(calls[4].req.result.outcome, WX_ERRCODE);
    assert_int_equal(calls[4].req.result.errcode, 40029);
    assert_phone_ok(&calls[5], 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(calls[i].req._attempts, i == 4 ? 0 : 1); /* never retried */
    assert_int_equal(PHONE_CALLS(&h), 5);
    assert_int_equal(fake_count_body(&h.fake, "{\"code\":\"ok\\\"\\\\\\u000a\\u0001\",\"openid\":\"oX\"}"), 1);
    assert_int_equal(TOKEN_CALLS(&h), 1);
    harness_stop(&h);
}

static void test_token_refreshed_near_expiry(void **state)
{
    harness_t h;
    phone_call_t calls[4];
    wx_token_status_t status;
    harness_start(&h, 2000);
    FAKE_SET(&h.fake, expires_in, 2); /* used for 1 s: half of expires_in is shorter than 300 s */
    submit_phone(&h, &calls[0], "ok0", "");
    assert_true(wait_replies(&h, 1, 3000));
    submit_phone(&h, &calls[1], "ok1", "");
    assert_true(wait_replies(&h, 2, 3000));
    assert_int_equal(TOKEN_CALLS(&h), 1);
    usleep(1100 * 1000);
    submit_phone(&h, &calls[2], "ok2", "");
    assert_true(wait_replies(&h, 3, 3000));
    assert_int_equal(TOKEN_CALLS(&h), 2);
    submit_phone(&h, &calls[3], "ok3", "");
    assert_true(wait_replies(&h, 4, 3000));
    assert_int_equal(TOKEN_CALLS(&h), 2);
    for (int i = 0; i < 4; i++)
        assert_phone_ok(&calls[i], i);
    assert_int_equal(PHONE_CALLS(&h), 4); /* no call was made with a token due for renewal */
    wx_client_token_status(h.client, &status);
    assert_int_equal(status.fetches, 2);
    harness_stop(&h);
}

static void test_token_refused_then_retried_once(void **state)
{
    static const long errcodes[] = {40001, 42001, 40014};
    harness_t h;
    phone_call_t first, calls[5];
    session_call_t session;
    char token[64], code[16];
    harness_start(&h, 2000);
    submit_phone(&h, &first, "ok9", "");
    assert_true(wait_replies(&h, 1, 3000));
    int replies = 1;
    for (int round = 0; round < 3; round++) {
        /* WeChat stops taking the current token: every call in flight sees it refused, one fetch follows */
        fake_current(&h.fake, token, sizeof(token));
        fake_refuse(&h.fake, round, token, errcodes[round]);
        int tokens = TOKEN_CALLS(&h), phones = PHONE_CALLS(&h);
        for (int i = 0; i < 5; i++) {
            snprintf(code, sizeof(code), "ok%d", round * 10 + i);
            submit_phone(&h, &calls[i], code, "");
        }
        replies += 5;
        assert_true(wait_replies(&h, replies, 3000));
        for (int i = 0; i < 5; i++) {
            assert_phone_ok(&calls[i], round * 10 + i);
            assert_int_equal(calls[i].req._attempts, 2);
        }
        assert_int_equal(TOKEN_CALLS(&h), tokens + 1);
        assert_int_equal(PHONE_CALLS(&h), phones + 10);
    }
    /* checksession retries the same way */
    fake_current(&h.fake, token, sizeof(token));
    fake_refuse(&h.fake, 3, token, 40001);
    submit_session(&h, &session, "oUser", "good");
    assert_true(wait_replies(&h, replies + 1, 3000));
    assert_int_equal(session.req.outcome, WX_OK);
    assert_int_equal(session.req._attempts, 2);
    assert_int_equal(TOKEN_CALLS(&h), 5);
    harness_stop(&h);
}

/* A refusal of a token that is no longer current does not throw away the newer one. */
static void test_late_refusal_keeps_newer_token(void **state)
{
    harness_t h;
    phone_call_t first, slow, quick;
    char token[64];
    harness_start(&h, 3000);
    submit_phone(&h, &first, "ok1", "");
    assert_true(wait_replies(&h, 1, 3000));
    atomic_store(&h.fake.slow_ms, 400);
    submit_phone(&h, &slow, "slow2", ""); /* sent with token 1, refused only after 400 ms */
    for (int64_t deadline = clock_monotonic_ms() + 2000; PHONE_CALLS(&h) < 2 && clock_monotonic_ms() < deadline;)
        usleep(1000);
    fake_current(&h.fake, token, sizeof(token));
    fake_refuse(&h.fake, 0, token, 40001);
    submit_phone(&h, &quick, "ok3", ""); /* refused at once: token 2 is fetched */
    assert_true(wait_replies(&h, 2, 3000));
    assert_phone_ok(&quick, 3);
    assert_int_equal(TOKEN_CALLS(&h), 2);
    assert_int_equal(slow.done, 0);
    assert_true(wait_replies(&h, 3, 3000));
    assert_phone_ok(&slow, 2); /* retried with token 2... */
    assert_int_equal(slow.req._attempts, 2);
    assert_int_equal(TOKEN_CALLS(&h), 2); /* ...which it did not discard */
    harness_stop(&h);
}

static void test_token_refused_twice_is_final(void **state)
{
    harness_t h;
    phone_call_t a;
    session_call_t s;
    harness_start(&h, 2000);
    FAKE_SET(&h.fake, refuse_all, true);
    submit_phone(&h, &a, "ok1", "");
    assert_true(wait_replies(&h, 1, 3000));
    assert_int_equal(a.req.result.outcome, WX_ERRCODE);
    assert_int_equal(a.req.result.errcode, 40001);
    assert_false(a.req.result.token_failed);
    assert_int_equal(a.req._attempts, 2);
    const wx_error_t *e = wx_error_lookup_api(WX_API_PHONE, a.req.result.outcome, a.req.result.errcode);
    assert_int_equal(e->api_errno, API_WX_UNAVAILABLE);
    assert_int_equal(e->fault, WX_FAULT_TRANSIENT);
    assert_int_equal(PHONE_CALLS(&h), 2);
    assert_int_equal(TOKEN_CALLS(&h), 2);

    FAKE_SET(&h.fake, refuse_errcode, 42001);
    submit_session(&h, &s, "oUser", "good");
    assert_true(wait_replies(&h, 2, 3000));
    assert_int_equal(s.req.outcome, WX_ERRCODE);
    assert_int_equal(s.req.errcode, 42001);
    assert_int_equal(fake_count_prefix(&h.fake, "/wxa/checksession"), 2);
    assert_int_equal(TOKEN_CALLS(&h), 3);
    harness_stop(&h);
}

static void test_stable_token_force_refresh_rationed(void **state)
{
    harness_t h;
    phone_call_t a, b, c, d;
    char s1[64], s2[64];
    wx_token_status_t status;

    harness_start_with(&h, 2000, true);
    submit_phone(&h, &a, "ok1", "");
    assert_true(wait_replies(&h, 1, 3000));
    assert_phone_ok(&a, 1);
    fake_current(&h.fake, s1, sizeof(s1));

    /* refused, and stable_token keeps returning the same token: one force_refresh=true */
    fake_refuse(&h.fake, 0, s1, 40001);
    submit_phone(&h, &b, "ok2", "");
    assert_true(wait_replies(&h, 2, 3000));
    assert_phone_ok(&b, 2);
    assert_int_equal(b.req._attempts, 2);
    fake_current(&h.fake, s2, sizeof(s2));
    assert_string_not_equal(s1, s2);
    assert_int_equal(fake_count_prefix(&h.fake, "/cgi-bin/stable_token"), 3);
    assert_int_equal(fake_count_body(&h.fake, "\"force_refresh\":true"), 1);
    assert_int_equal(fake_count_body(&h.fake, "\"force_refresh\":false"), 2);
    pthread_mutex_lock(&h.fake.lock); /* the force came last, after the plain refresh */
    assert_non_null(strstr(h.fake.bodies[h.fake.n_targets - 2], "\"force_refresh\":true"));
    pthread_mutex_unlock(&h.fake.lock);
    wx_client_token_status(h.client, &status);
    assert_int_equal(status.force_refreshes_today, 1);

    /* refused again within 30 s: no second force; the call fails with WeChat's errcode */
    fake_refuse(&h.fake, 1, s2, 40001);
    submit_phone(&h, &c, "ok3", "");
    assert_true(wait_replies(&h, 3, 3000));
    assert_int_equal(c.req.result.outcome, WX_ERRCODE);
    assert_int_equal(c.req.result.errcode, 40001);
    assert_false(c.req.result.token_failed);
    assert_int_equal(fake_count_body(&h.fake, "\"force_refresh\":true"), 1);
    assert_int_equal(fake_count_prefix(&h.fake, "/cgi-bin/stable_token"), 4);

    /* and again: still no loop, no force */
    submit_phone(&h, &d, "ok4", "");
    assert_true(wait_replies(&h, 4, 3000));
    assert_int_equal(d.req.result.outcome, WX_ERRCODE);
    assert_int_equal(d.req.result.errcode, 40001);
    assert_int_equal(fake_count_body(&h.fake, "\"force_refresh\":true"), 1);
    assert_int_equal(d.req._attempts, 1);
    assert_int_equal(fake_count_prefix(&h.fake, "/cgi-bin/stable_token"), 5);
    assert_int_equal(PHONE_CALLS(&h), 5);
    wx_client_token_status(h.client, &status);
    assert_int_equal(status.force_refreshes_today, 1);
    assert_status_has_no_token(&status, s2);
    harness_stop(&h);
}

static void test_token_fetch_errors_fail_all_waiters(void **state)
{
    harness_t h;
    phone_call_t calls[10], late;
    session_call_t sessions[2];
    wx_token_status_t status;
    char code[16];

    harness_start_with(&h, 2000, true);
    FAKE_SET(&h.fake, token_errcode, 40125);
    FAKE_SET(&h.fake, token_delay_ms, 200);
    for (int i = 0; i < 10; i++) {
        snprintf(code, sizeof(code), "ok%d", i);
        submit_phone(&h, &calls[i], code, "");
    }
    submit_session(&h, &sessions[0], "oUser", "good");
    submit_session(&h, &sessions[1], "oUser", "good");
    assert_true(wait_replies(&h, 12, 3000));
    for (int i = 0; i < 10; i++) {
        assert_int_equal(calls[i].done, 1);
        assert_int_equal(calls[i].req.result.outcome, WX_ERRCODE);
        assert_int_equal(calls[i].req.result.errcode, 40125);
        assert_true(calls[i].req.result.token_failed);
        assert_int_equal(calls[i].req._attempts, 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sessions[i].req.outcome, WX_ERRCODE);
        assert_int_equal(sessions[i].req.errcode, 40125);
        assert_true(sessions[i].req.token_failed);
    }
    const wx_error_t *e = wx_error_lookup_api(WX_API_TOKEN, WX_ERRCODE, 40125);
    assert_int_equal(e->api_errno, API_SERIOUS);
    assert_int_equal(e->fault, WX_FAULT_CONFIG);
    assert_int_equal(TOKEN_CALLS(&h), 1);
    assert_int_equal(PHONE_CALLS(&h), 0);
    wx_client_token_status(h.client, &status);
    assert_false(status.have_token);
    assert_int_equal(status.fetches, 0);
    assert_int_equal(status.failures, 1);
    assert_int_equal(status.last_errcode, 40125);

    /* a failed fetch is not cached: the next need asks again */
    FAKE_SET(&h.fake, token_errcode, 0);
    FAKE_SET(&h.fake, token_status, 500);
    submit_phone(&h, &late, "ok1", "");
    assert_true(wait_replies(&h, 13, 3000));
    assert_int_equal(late.req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(late.req.result.http_status, 500);
    assert_true(late.req.result.token_failed);
    assert_int_equal(wx_error_lookup_api(WX_API_TOKEN, WX_BAD_RESPONSE, 0)->api_errno, API_WX_UNAVAILABLE);
    FAKE_SET(&h.fake, token_status, 0);
    submit_phone(&h, &late, "ok2", "");
    assert_true(wait_replies(&h, 14, 3000));
    assert_phone_ok(&late, 2);
    wx_client_token_status(h.client, &status);
    assert_true(status.have_token);
    assert_int_equal(status.fetches, 1);
    assert_int_equal(status.failures, 2);
    assert_int_equal(TOKEN_CALLS(&h), 3);
    harness_stop(&h);
}

static void test_stop_fails_token_waiters(void **state)
{
    harness_t h;
    phone_call_t a;
    session_call_t s;
    harness_start(&h, 10000);
    FAKE_SET(&h.fake, token_delay_ms, 8000);
    submit_phone(&h, &a, "ok1", "");
    submit_session(&h, &s, "oUser", "good");
    for (int64_t deadline = clock_monotonic_ms() + 3000; TOKEN_CALLS(&h) < 1 && clock_monotonic_ms() < deadline;)
        usleep(1000);
    int64_t start = clock_monotonic_ms();
    wx_client_stop(h.client);
    assert_true(clock_monotonic_ms() - start < 2000);
    assert_true(wait_replies(&h, 2, 2000));
    assert_int_equal(a.req.result.outcome, WX_UNREACHABLE);
    assert_int_equal(s.req.outcome, WX_UNREACHABLE);
    assert_int_equal(PHONE_CALLS(&h), 0);

    h.client = client_start(h.fake.port, 1000); /* harness_stop stops a client */
    harness_stop(&h);
}

static void test_token_log_never_shows_secrets(void **state)
{
    harness_t h;
    phone_call_t a, b, c;
    session_call_t s;
    char s1[64];
    FILE *logf = tmpfile();
    assert_non_null(logf);
    log_set_fd(fileno(logf));
    log_set_level(LOG_DEBUG);

    harness_start_with(&h, 2000, true);
    FAKE_SET(&h.fake, token_errcode, 40125);
    submit_phone(&h, &a, "PHONECODE-a", "oLogUser");
    assert_true(wait_replies(&h, 1, 3000));
    FAKE_SET(&h.fake, token_errcode, 0);
    submit_phone(&h, &b, "okPHONECODE-b", "oLogUser");
    assert_true(wait_replies(&h, 2, 3000));
    fake_current(&h.fake, s1, sizeof(s1));
    fake_refuse(&h.fake, 0, s1, 40001);
    submit_phone(&h, &c, "okPHONECODE-c", "oLogUser"); /* refused, same token again, force_refresh */
    submit_session(&h, &s, "oLogUser", "SIGNATURE-ab12");
    assert_true(wait_replies(&h, 4, 3000));
    assert_int_equal(fake_count_body(&h.fake, "\"force_refresh\":true"), 1);
    harness_stop(&h);
    log_set_fd(2);
    log_set_level(LOG_INFO);

    assert_true(a.req.result.token_failed);
    assert_int_equal(b.req.result.outcome, WX_OK);
    assert_int_equal(c.req.result.outcome, WX_OK);
    char *text = read_all(logf), *lines = strdup(text);
    fclose(logf);
    for (char *line = strtok(lines, "\n"); line != NULL; line = strtok(NULL, "\n"))
        print_message("log: %s\n", line); /* line by line: print_message cuts long text */
    free(lines);
    assert_non_null(strstr(text, "stable_token"));    /* fetches were logged... */
    assert_non_null(strstr(text, "expires_in 7200")); /* ...with their expiry... */
    assert_non_null(strstr(text, "errcode 40125"));   /* ...and failures */
    assert_non_null(strstr(text, "force_refresh"));
    assert_non_null(strstr(text, "/wxa/business/getuserphonenumber"));
    assert_null(strstr(text, "TKN")); /* never the token */
    assert_null(strstr(text, "access_token="));
    assert_null(strstr(text, "TOPSECRET")); /* nor the secret */
    assert_null(strstr(text, "secret="));
    assert_null(strstr(text, "PHONECODE")); /* nor the phone code */
    assert_null(strstr(text, "SIGNATURE-ab12"));
    free(text);
}

/* ---- content security: msg_sec_check and media_check_async ---------------------------- */

typedef struct sec_call {
    wx_msg_sec_check_req_t req;
    harness_t *h;
    int done;
} sec_call_t;

typedef struct media_call {
    wx_media_check_req_t req;
    harness_t *h;
    int done;
} media_call_t;

static void on_sec_done(loop_msg_t *msg)
{
    sec_call_t *call = H2O_STRUCT_FROM_MEMBER(sec_call_t, req.msg, msg);
    assert_true(pthread_equal(pthread_self(), call->h->loop_thread));
    call->done++;
    call->h->replies++;
}

static void on_media_done(loop_msg_t *msg)
{
    media_call_t *call = H2O_STRUCT_FROM_MEMBER(media_call_t, req.msg, msg);
    assert_true(pthread_equal(pthread_self(), call->h->loop_thread));
    call->done++;
    call->h->replies++;
}

/* content is borrowed: it must outlive the call (the tests use literals or buffers that do). */
static void submit_sec(harness_t *h, sec_call_t *call, const char *content, int scene, const char *openid)
{
    memset(call, 0, sizeof(*call));
    call->h = h;
    loop_msg_init(&call->req.msg, &h->receiver, on_sec_done);
    call->req.content = content;
    call->req.scene = scene;
    snprintf(call->req.openid, sizeof(call->req.openid), "%s", openid);
    wx_msg_sec_check(h->client, &call->req);
}

static void submit_media(harness_t *h, media_call_t *call, const char *url, int type, int scene, const char *openid)
{
    memset(call, 0, sizeof(*call));
    call->h = h;
    loop_msg_init(&call->req.msg, &h->receiver, on_media_done);
    snprintf(call->req.media_url, sizeof(call->req.media_url), "%s", url);
    call->req.media_type = type;
    call->req.scene = scene;
    snprintf(call->req.openid, sizeof(call->req.openid), "%s", openid);
    wx_media_check_async(h->client, &call->req);
}

#define SEC_CALLS(h)   fake_count_prefix(&(h)->fake, "/wxa/msg_sec_check?")
#define MEDIA_CALLS(h) fake_count_prefix(&(h)->fake, "/wxa/media_check_async?")

/* The body of the one recorded request whose target starts with prefix and whose body holds needle. */
static json_t *fake_body_json(fake_t *fake, const char *prefix, const char *needle)
{
    json_t *found = NULL;
    json_error_t error;
    pthread_mutex_lock(&fake->lock);
    for (int i = 0; i < fake->n_targets; i++) {
        if (strncmp(fake->targets[i], prefix, strlen(prefix)) == 0 && strstr(fake->bodies[i], needle) != NULL) {
            assert_null(found);
            assert_string_equal(fake->methods[i], "POST");
            found = json_loads(fake->bodies[i], JSON_REJECT_DUPLICATES, &error);
            assert_non_null(found);
        }
    }
    pthread_mutex_unlock(&fake->lock);
    assert_non_null(found);
    return found;
}

static void test_msg_sec_check_answers(void **state)
{
    harness_t h;
    sec_call_t pass, risky, review, full, e61010, busy, junk, nosuggest;
    harness_start(&h, 2000);
    submit_sec(&h, &pass, "周五下午三点开会", 2, "oSecUser_1");
    submit_sec(&h, &risky, "something risky here", 3, "oSecUser_1");
    submit_sec(&h, &review, "please review", 4, "oSecUser_1");
    memset(&full, 0, sizeof(full));
    full.h = &h;
    loop_msg_init(&full.req.msg, &h.receiver, on_sec_done);
    full.req.content = "个人简介 \"quoted\"\n";
    full.req.scene = 1;
    snprintf(full.req.openid, sizeof(full.req.openid), "oSecUser_2");
    full.req.title = "标题";
    full.req.nickname = "小明";
    full.req.signature = "签名";
    wx_msg_sec_check(h.client, &full.req);
    submit_sec(&h, &e61010, "e61010", 2, "oSecUser_1");
    submit_sec(&h, &busy, "e-1", 2, "oSecUser_1");
    submit_sec(&h, &junk, "junk", 2, "oSecUser_1");
    submit_sec(&h, &nosuggest, "nosuggest", 2, "oSecUser_1");
    assert_true(wait_replies(&h, 8, 5000));

    assert_int_equal(pass.done, 1);
    assert_int_equal(pass.req.result.outcome, WX_OK);
    assert_int_equal(pass.req.result.http_status, 200);
    assert_false(pass.req.result.token_failed);
    assert_int_equal(pass.req.result.suggest, WX_SUGGEST_PASS);
    assert_int_equal(pass.req.result.label, 100); /* sent as a string */
    assert_string_equal(pass.req.result.trace_id, "81e82bd9-f1f85f0a-d9cc4d46");
    assert_null(wx_error_lookup_api(WX_API_MSG_SEC_CHECK, pass.req.result.outcome, pass.req.result.errcode));

    assert_int_equal(risky.req.result.outcome, WX_OK);
    assert_int_equal(risky.req.result.suggest, WX_SUGGEST_RISKY);
    assert_int_equal(risky.req.result.label, 20002); /* sent as a number */
    assert_string_equal(risky.req.result.trace_id, "t-risky");
    assert_int_equal(review.req.result.outcome, WX_OK);
    assert_int_equal(review.req.result.suggest, WX_SUGGEST_REVIEW);
    assert_int_equal(review.req.result.label, 20001);
    assert_int_equal(full.req.result.outcome, WX_OK);
    assert_int_equal(full.req.result.suggest, WX_SUGGEST_PASS);

    assert_int_equal(e61010.req.result.outcome, WX_ERRCODE);
    assert_int_equal(e61010.req.result.errcode, 61010);
    assert_int_equal(e61010.req.result.http_status, 200);
    assert_int_equal(e61010.req.result.suggest, WX_SUGGEST_NONE);
    const wx_error_t *e = wx_error_lookup_api(WX_API_MSG_SEC_CHECK, WX_ERRCODE, 61010);
    assert_int_equal(e->api_errno, API_SESSION_KEY_STALE);
    assert_int_equal(e->fault, WX_FAULT_CLIENT);
    assert_int_equal(busy.req.result.outcome, WX_ERRCODE);
    assert_int_equal(busy.req.result.errcode, -1);
    assert_int_equal(wx_error_lookup_api(WX_API_MSG_SEC_CHECK, WX_ERRCODE, -1)->api_errno, API_WX_BUSY);
    assert_int_equal(junk.req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(junk.req.result.http_status, 200);
    assert_int_equal(nosuggest.req.result.outcome, WX_BAD_RESPONSE);
    assert_int_equal(nosuggest.req.result.suggest, WX_SUGGEST_NONE);
    assert_string_equal(nosuggest.req.result.trace_id, "");
    sec_call_t *all[] = {&pass, &risky, &review, &full, &e61010, &busy, &junk, &nosuggest};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        assert_int_equal(all[i]->req._attempts, 1); /* nothing retried but for the token */
    assert_int_equal(SEC_CALLS(&h), 8);
    assert_int_equal(TOKEN_CALLS(&h), 1);

    /* the bodies: version 2, the scene as a number, optional members only when given */
    json_t *body = fake_body_json(&h.fake, "/wxa/msg_sec_check?access_token=" TOKEN_ESCAPED "1", "oSecUser_2");
    assert_int_equal(json_object_size(body), 7);
    assert_string_equal(json_string_value(json_object_get(body, "content")), "个人简介 \"quoted\"\n");
    assert_int_equal(json_integer_value(json_object_get(body, "version")), 2);
    assert_int_equal(json_integer_value(json_object_get(body, "scene")), 1);
    assert_string_equal(json_string_value(json_object_get(body, "openid")), "oSecUser_2");
    assert_string_equal(json_string_value(json_object_get(body, "title")), "标题");
    assert_string_equal(json_string_value(json_object_get(body, "nickname")), "小明");
    assert_string_equal(json_string_value(json_object_get(body, "signature")), "签名");
    json_decref(body);
    body = fake_body_json(&h.fake, "/wxa/msg_sec_check?", "周五下午三点开会");
    assert_int_equal(json_object_size(body), 4);
    assert_true(json_is_integer(json_object_get(body, "version")));
    assert_int_equal(json_integer_value(json_object_get(body, "scene")), 2);
    assert_string_equal(json_string_value(json_object_get(body, "openid")), "oSecUser_1");
    json_decref(body);
    harness_stop(&h);
}

static void test_media_check_answers(void **state)
{
    harness_t h;
    media_call_t image, audio, e61010, e47001, notrace;
    harness_start(&h, 2000);
    submit_media(&h, &image, "https://oa.example.com/uploads/a1b2.png?x=1&y=\"2\"", WX_MEDIA_TYPE_IMAGE, 2, "oMedia_1");
    submit_media(&h, &audio, "http://oa.example.com/uploads/v.mp3", WX_MEDIA_TYPE_AUDIO, 4, "oMedia_2");
    submit_media(&h, &e61010, "https://oa.example.com/e61010.png", WX_MEDIA_TYPE_IMAGE, 2, "oMedia_1");
    submit_media(&h, &e47001, "HTTPS://oa.example.com/e47001.png", WX_MEDIA_TYPE_IMAGE, 2, "oMedia_1");
    submit_media(&h, &notrace, "https://oa.example.com/notrace.png", WX_MEDIA_TYPE_IMAGE, 2, "oMedia_1");
    assert_true(wait_replies(&h, 5, 5000));

    assert_int_equal(image.done, 1);
    assert_int_equal(image.req.result.outcome, WX_OK);
    assert_int_equal(image.req.result.http_status, 200);
    assert_false(image.req.result.token_failed);
    assert_true(strncmp(image.req.result.trace_id, "690b03d2-1a2b3c4d-", 18) == 0);
    assert_int_equal(strlen(image.req.result.trace_id), 26);
    assert_int_equal(audio.req.result.outcome, WX_OK);
    assert_string_not_equal(audio.req.result.trace_id, image.req.result.trace_id);
    assert_null(wx_error_lookup_api(WX_API_MEDIA_CHECK, image.req.result.outcome, 0));
    assert_int_equal(e61010.req.result.outcome, WX_ERRCODE);
    assert_int_equal(e61010.req.result.errcode, 61010);
    assert_string_equal(e61010.req.result.trace_id, "");
    assert_int_equal(wx_error_lookup_api(WX_API_MEDIA_CHECK, WX_ERRCODE, 61010)->api_errno, API_SESSION_KEY_STALE);
    assert_int_equal(e47001.req.result.outcome, WX_ERRCODE); /* sent: the scheme's case does not matter */
    assert_int_equal(e47001.req.result.errcode, 47001);
    assert_int_equal(wx_error_lookup_api(WX_API_MEDIA_CHECK, WX_ERRCODE, 47001)->fault, WX_FAULT_CONFIG);
    assert_int_equal(notrace.req.result.outcome, WX_BAD_RESPONSE); /* accepted, but never to be matched */
    assert_int_equal(notrace.req.result.http_status, 200);
    assert_int_equal(MEDIA_CALLS(&h), 5);
    assert_int_equal(TOKEN_CALLS(&h), 1);

    json_t *body = fake_body_json(&h.fake, "/wxa/media_check_async?access_token=" TOKEN_ESCAPED "1", "oMedia_2");
    assert_int_equal(json_object_size(body), 5);
    assert_string_equal(json_string_value(json_object_get(body, "media_url")), "http://oa.example.com/uploads/v.mp3");
    assert_int_equal(json_integer_value(json_object_get(body, "media_type")), 1);
    assert_int_equal(json_integer_value(json_object_get(body, "version")), 2);
    assert_int_equal(json_integer_value(json_object_get(body, "scene")), 4);
    assert_string_equal(json_string_value(json_object_get(body, "openid")), "oMedia_2");
    json_decref(body);
    body = fake_body_json(&h.fake, "/wxa/media_check_async?", "a1b2.png");
    assert_string_equal(json_string_value(json_object_get(body, "media_url")),
                        "https://oa.example.com/uploads/a1b2.png?x=1&y=\"2\"");
    assert_int_equal(json_integer_value(json_object_get(body, "media_type")), 2);
    json_decref(body);
    harness_stop(&h);
}

/* Values WeChat would refuse end with its errcode, without a call (nor a token fetch). */
static void test_content_checks_refused_without_a_call(void **state)
{
    enum { N_SEC = 10, N_MEDIA = 11 };
    harness_t h;
    sec_call_t sec[N_SEC], edge;
    media_call_t media[N_MEDIA];
    /* 2500 code points of 3 bytes each is allowed; 2501 is not, nor 2501 ASCII characters */
    char *cjk2500 = malloc(2500 * 3 + 1), *cjk2501 = malloc(2501 * 3 + 1), ascii2501[2502];
    for (int i = 0; i < 2501; i++)
        memcpy(cjk2501 + i * 3, "中", 3);
    cjk2501[2501 * 3] = '\0';
    memcpy(cjk2500, cjk2501, 2500 * 3);
    cjk2500[2500 * 3] = '\0';
    memset(ascii2501, 'a', 2501);
    ascii2501[2501] = '\0';
    char long_url[WX_MEDIA_URL_MAX + 1];
    harness_start(&h, 2000);

    submit_sec(&h, &sec[0], NULL, 2, "oUser");
    submit_sec(&h, &sec[1], "", 2, "oUser");
    submit_sec(&h, &sec[2], "hello", 0, "oUser");
    submit_sec(&h, &sec[3], "hello", 5, "oUser");
    submit_sec(&h, &sec[4], "hello", -1, "oUser");
    submit_sec(&h, &sec[5], "hello", 2, "");
    submit_sec(&h, &sec[6], cjk2501, 2, "oUser");
    submit_sec(&h, &sec[7], ascii2501, 2, "oUser");
    submit_sec(&h, &sec[8], "bad \xff utf-8", 2, "oUser");
    memset(&sec[9], 0, sizeof(sec[9]));
    sec[9].h = &h;
    loop_msg_init(&sec[9].req.msg, &h.receiver, on_sec_done);
    sec[9].req.content = "hello";
    sec[9].req.scene = 1;
    memset(sec[9].req.openid, 'o', sizeof(sec[9].req.openid)); /* no NUL inside openid[] */
    wx_msg_sec_check(h.client, &sec[9].req);
    static const long sec_expected[N_SEC] = {44002, 44002, 40129, 40129, 40129, 40003, 47001, 47001, 47001, 40003};

    submit_media(&h, &media[0], "", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
    submit_media(&h, &media[1], "ftp://oa.example.com/a.png", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
    submit_media(&h, &media[2], "cloud://env-1.a/b.png", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
    submit_media(&h, &media[3], "https://", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
    submit_media(&h, &media[4], "https://oa.example.com/a b.png", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
    submit_media(&h, &media[5], "https://oa.example.com/a.png", 0, 2, "oUser");
    submit_media(&h, &media[6], "https://oa.example.com/a.png", 3, 2, "oUser");
    submit_media(&h, &media[7], "https://oa.example.com/a.png", WX_MEDIA_TYPE_IMAGE, 0, "oUser");
    submit_media(&h, &media[8], "https://oa.example.com/a.png", WX_MEDIA_TYPE_IMAGE, 5, "oUser");
    submit_media(&h, &media[9], "https://oa.example.com/a.png", WX_MEDIA_TYPE_IMAGE, 2, "");
    memset(&media[10], 0, sizeof(media[10]));
    media[10].h = &h;
    loop_msg_init(&media[10].req.msg, &h.receiver, on_media_done);
    memset(media[10].req.media_url, 'x', sizeof(media[10].req.media_url)); /* no NUL inside media_url[] */
    memcpy(media[10].req.media_url, "https://", 8);
    media[10].req.media_type = WX_MEDIA_TYPE_IMAGE;
    media[10].req.scene = 2;
    snprintf(media[10].req.openid, sizeof(media[10].req.openid), "oUser");
    wx_media_check_async(h.client, &media[10].req);
    static const long media_expected[N_MEDIA] = {47001, 47001, 47001, 47001, 47001, 47001,
                                                 47001, 40129, 40129, 40003, 47001};

    assert_true(wait_replies(&h, N_SEC + N_MEDIA, 3000));
    for (int i = 0; i < N_SEC; i++) {
        print_message("msg_sec_check refusal %d\n", i);
        assert_int_equal(sec[i].done, 1);
        assert_int_equal(sec[i].req.result.outcome, WX_ERRCODE);
        assert_int_equal(sec[i].req.result.errcode, sec_expected[i]);
        assert_int_equal(sec[i].req.result.http_status, 0);
        assert_false(sec[i].req.result.token_failed);
        assert_int_equal(sec[i].req.result.suggest, WX_SUGGEST_NONE);
        assert_int_equal(sec[i].req._attempts, 0);
    }
    for (int i = 0; i < N_MEDIA; i++) {
        print_message("media_check_async refusal %d\n", i);
        assert_int_equal(media[i].done, 1);
        assert_int_equal(media[i].req.result.outcome, WX_ERRCODE);
        assert_int_equal(media[i].req.result.errcode, media_expected[i]);
        assert_int_equal(media[i].req.result.http_status, 0);
        assert_string_equal(media[i].req.result.trace_id, "");
        assert_int_equal(media[i].req._attempts, 0);
    }
    assert_int_equal(fake_total(&h.fake), 0);

    /* the limits themselves go through: 2500 code points (7500 bytes), a URL of WX_MEDIA_URL_MAX bytes */
    submit_sec(&h, &edge, cjk2500, 1, "oUser");
    memset(long_url, 'p', sizeof(long_url));
    memcpy(long_url, "https://oa.example.com/", 23);
    long_url[WX_MEDIA_URL_MAX] = '\0';
    submit_media(&h, &media[0], long_url, WX_MEDIA_TYPE_IMAGE, 1, "oUser");
    assert_true(wait_replies(&h, N_SEC + N_MEDIA + 2, 3000));
    assert_int_equal(edge.req.result.outcome, WX_OK);
    assert_int_equal(edge.req.result.suggest, WX_SUGGEST_PASS);
    assert_int_equal(media[0].req.result.outcome, WX_OK);
    assert_int_equal(SEC_CALLS(&h), 1);
    assert_int_equal(MEDIA_CALLS(&h), 1);
    json_t *body = fake_body_json(&h.fake, "/wxa/msg_sec_check?", "\"scene\":1");
    assert_string_equal(json_string_value(json_object_get(body, "content")), cjk2500);
    json_decref(body);
    harness_stop(&h);
    free(cjk2500);
    free(cjk2501);
}

/* 40001/42001/40014: one fresh token, one retry; the second refusal is final. */
static void test_content_checks_token_refused_then_retried(void **state)
{
    harness_t h;
    sec_call_t first, sec[3], twice;
    media_call_t media[3], media_twice;
    static const long errcodes[] = {40001, 42001, 40014};
    char token[64];
    harness_start(&h, 2000);
    submit_sec(&h, &first, "hello", 2, "oUser");
    assert_true(wait_replies(&h, 1, 3000));
    assert_int_equal(first.req.result.outcome, WX_OK);
    int replies = 1;
    for (int round = 0; round < 3; round++) {
        fake_current(&h.fake, token, sizeof(token));
        fake_refuse(&h.fake, round, token, errcodes[round]);
        int tokens = TOKEN_CALLS(&h);
        submit_sec(&h, &sec[round], "risky words", 2, "oUser");
        submit_media(&h, &media[round], "https://oa.example.com/a.png", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
        replies += 2;
        assert_true(wait_replies(&h, replies, 3000));
        assert_int_equal(sec[round].req.result.outcome, WX_OK);
        assert_int_equal(sec[round].req.result.suggest, WX_SUGGEST_RISKY);
        assert_int_equal(sec[round].req.result.label, 20002);
        assert_int_equal(sec[round].req._attempts, 2);
        assert_int_equal(media[round].req.result.outcome, WX_OK);
        assert_true(media[round].req.result.trace_id[0] != '\0');
        assert_int_equal(media[round].req._attempts, 2);
        assert_int_equal(TOKEN_CALLS(&h), tokens + 1); /* one fetch for both */
    }
    assert_int_equal(SEC_CALLS(&h), 1 + 3 * 2);
    assert_int_equal(MEDIA_CALLS(&h), 3 * 2);

    FAKE_SET(&h.fake, refuse_all, true);
    FAKE_SET(&h.fake, refuse_errcode, 40001);
    submit_sec(&h, &twice, "hello", 2, "oUser");
    submit_media(&h, &media_twice, "https://oa.example.com/a.png", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
    assert_true(wait_replies(&h, replies + 2, 3000));
    assert_int_equal(twice.req.result.outcome, WX_ERRCODE);
    assert_int_equal(twice.req.result.errcode, 40001);
    assert_false(twice.req.result.token_failed);
    assert_int_equal(twice.req.result.suggest, WX_SUGGEST_NONE);
    assert_int_equal(twice.req._attempts, 2);
    assert_int_equal(media_twice.req.result.outcome, WX_ERRCODE);
    assert_int_equal(media_twice.req.result.errcode, 40001);
    assert_int_equal(media_twice.req._attempts, 2);
    const wx_error_t *e = wx_error_lookup_api(WX_API_MSG_SEC_CHECK, WX_ERRCODE, 40001);
    assert_int_equal(e->api_errno, API_WX_UNAVAILABLE);
    assert_int_equal(e->fault, WX_FAULT_TRANSIENT);
    assert_int_equal(SEC_CALLS(&h), 1 + 3 * 2 + 2);
    assert_int_equal(MEDIA_CALLS(&h), 3 * 2 + 2);

    /* the token cannot be had: token_failed, no call */
    FAKE_SET(&h.fake, refuse_all, false);
    FAKE_SET(&h.fake, token_errcode, 40125);
    fake_current(&h.fake, token, sizeof(token));
    fake_refuse(&h.fake, 3, token, 40001);
    submit_sec(&h, &twice, "hello", 2, "oUser");
    assert_true(wait_replies(&h, replies + 3, 3000));
    assert_int_equal(twice.req.result.outcome, WX_ERRCODE);
    assert_int_equal(twice.req.result.errcode, 40125);
    assert_true(twice.req.result.token_failed);
    harness_stop(&h);
}

static void test_content_checks_timeout(void **state)
{
    harness_t h;
    sec_call_t warm, sec;
    media_call_t media;
    harness_start(&h, 300);
    submit_sec(&h, &warm, "hello", 2, "oUser"); /* the token is at hand before the clock matters */
    assert_true(wait_replies(&h, 1, 3000));
    assert_int_equal(warm.req.result.outcome, WX_OK);
    atomic_store(&h.fake.slow_ms, 5000);
    int64_t start = clock_monotonic_ms();
    submit_sec(&h, &sec, "slow text", 2, "oUser");
    submit_media(&h, &media, "https://oa.example.com/slow.png", WX_MEDIA_TYPE_IMAGE, 2, "oUser");
    assert_true(wait_replies(&h, 3, 3000));
    int64_t elapsed = clock_monotonic_ms() - start;
    print_message("timed out after %lld ms\n", (long long)elapsed);
    assert_true(elapsed >= 250 && elapsed < 1300);
    assert_int_equal(sec.req.result.outcome, WX_TIMEOUT);
    assert_int_equal(sec.req.result.http_status, 0);
    assert_int_equal(sec.req.result.suggest, WX_SUGGEST_NONE);
    assert_int_equal(sec.req._attempts, 1);
    assert_int_equal(media.req.result.outcome, WX_TIMEOUT);
    assert_string_equal(media.req.result.trace_id, "");
    assert_int_equal(media.req._attempts, 1);
    const wx_error_t *e = wx_error_lookup_api(WX_API_MSG_SEC_CHECK, WX_TIMEOUT, 0);
    assert_int_equal(e->api_errno, API_WX_UNAVAILABLE);
    assert_int_equal(e->fault, WX_FAULT_TRANSIENT);
    assert_int_equal(wx_error_lookup_api(WX_API_MEDIA_CHECK, WX_TIMEOUT, 0)->api_errno, API_WX_UNAVAILABLE);
    assert_int_equal(SEC_CALLS(&h), 2); /* never retried */
    assert_int_equal(MEDIA_CALLS(&h), 1);
    harness_stop(&h);
}

/* Neither the users' texts, their media URLs nor their openids reach a log line. */
static void test_content_checks_log_nothing_of_the_user(void **state)
{
    harness_t h;
    sec_call_t a, b, c, d;
    media_call_t m, n;
    FILE *logf = tmpfile();
    assert_non_null(logf);
    log_set_fd(fileno(logf));
    log_set_level(LOG_DEBUG);

    harness_start(&h, 300);
    atomic_store(&h.fake.slow_ms, 3000);
    submit_sec(&h, &a, "USERTEXT-pass", 2, "oLOGOPENID");
    submit_sec(&h, &b, "e61010", 2, "oLOGOPENID");
    submit_sec(&h, &c, "junk", 2, "oLOGOPENID");
    assert_true(wait_replies(&h, 3, 3000));
    submit_sec(&h, &d, "slow USERTEXT", 2, "oLOGOPENID");
    submit_media(&h, &m, "https://USERURL.example.com/e61010.png", WX_MEDIA_TYPE_IMAGE, 2, "oLOGOPENID");
    submit_media(&h, &n, "https://USERURL.example.com/ok.png", WX_MEDIA_TYPE_IMAGE, 2, "oLOGOPENID");
    assert_true(wait_replies(&h, 6, 3000));
    harness_stop(&h);
    log_set_fd(2);
    log_set_level(LOG_INFO);

    assert_int_equal(a.req.result.outcome, WX_OK);
    assert_int_equal(d.req.result.outcome, WX_TIMEOUT);
    assert_int_equal(m.req.result.errcode, 61010);
    char *text = read_all(logf), *lines = strdup(text);
    fclose(logf);
    for (char *line = strtok(lines, "\n"); line != NULL; line = strtok(NULL, "\n"))
        print_message("log: %s\n", line);
    free(lines);
    assert_non_null(strstr(text, "/wxa/msg_sec_check")); /* the calls were logged... */
    assert_non_null(strstr(text, "/wxa/media_check_async"));
    assert_non_null(strstr(text, "errcode 61010"));
    assert_null(strstr(text, "USERTEXT")); /* ...but nothing of the user */
    assert_null(strstr(text, "USERURL"));
    assert_null(strstr(text, "LOGOPENID"));
    assert_null(strstr(text, "TKN"));
    assert_null(strstr(text, "access_token="));
    free(text);
}

static void test_start_refuses_bad_config(void **state)
{
    char err[256] = "";
    wx_client_config_t config = {
        .api_base = "ftp://example.com", .app_id = APPID, .app_secret = SECRET, .timeout_ms = 1000};
    assert_null(wx_client_start(&config, err, sizeof(err)));
    assert_non_null(strstr(err, "api_base"));
    config.api_base = "https://api.weixin.qq.com";
    config.app_secret = "";
    assert_null(wx_client_start(&config, err, sizeof(err)));
    assert_non_null(strstr(err, "app_secret"));
    assert_null(strstr(err, "TOPSECRET"));
    config.app_secret = SECRET;
    config.timeout_ms = 0;
    assert_null(wx_client_start(&config, err, sizeof(err)));
    assert_non_null(strstr(err, "timeout"));
}

int main(void)
{
    test_loop = h2o_evloop_create();
    test_queue = h2o_multithread_create_queue(test_loop);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_errcode),
        cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_code_reuses_connections_at_most_once),
        cmocka_unit_test(test_bad_code_is_not_sent),
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_stop_delivers_calls_in_flight),
        cmocka_unit_test(test_log_never_shows_secrets),
        cmocka_unit_test(test_start_refuses_bad_config),
        cmocka_unit_test(test_token_fetched_once_for_many),
        cmocka_unit_test(test_token_get_mode_and_requests),
        cmocka_unit_test(test_phone_answers),
        cmocka_unit_test(test_token_refreshed_near_expiry),
        cmocka_unit_test(test_token_refused_then_retried_once),
        cmocka_unit_test(test_late_refusal_keeps_newer_token),
        cmocka_unit_test(test_token_refused_twice_is_final),
        cmocka_unit_test(test_stable_token_force_refresh_rationed),
        cmocka_unit_test(test_token_fetch_errors_fail_all_waiters),
        cmocka_unit_test(test_stop_fails_token_waiters),
        cmocka_unit_test(test_token_log_never_shows_secrets),
        cmocka_unit_test(test_msg_sec_check_answers),
        cmocka_unit_test(test_media_check_answers),
        cmocka_unit_test(test_content_checks_refused_without_a_call),
        cmocka_unit_test(test_content_checks_token_refused_then_retried),
        cmocka_unit_test(test_content_checks_timeout),
        cmocka_unit_test(test_content_checks_log_nothing_of_the_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
