/*
 * test_wx_client — the WeChat client thread end to end, against a tiny HTTP server started inside
 * the test on 127.0.0.1, with replies received on a real h2o event loop through loop_msg.
 *
 * The fake server answers GET /sns/jscode2session by the js_code's prefix:
 *   ok*, slow* (after fake->slow_ms): success (openid "o" + the code's letters and digits);
 *   nounion*: success without unionid; e<N>: errcode N; h500: HTTP 500; junk: not JSON;
 *   big: 100 KiB with Content-Length; bigstream: 100 KiB without Content-Length.
 * It records every request target so tests can count upstream calls and check the query.
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

#include "common/log.h"
#include "wechat/wx_client.h"

#define SECRET         "TOPSECRET-9f8e7d6c+/=&"
#define SECRET_ESCAPED "TOPSECRET-9f8e7d6c%2B%2F%3D%26"
#define APPID          "wx4f4bc4dec97d474b"
#define SESSION_KEY    "tiihtNczf5v6AKRyjwEUhQ=="
#define MAX_TARGETS    512

/* ---- the fake WeChat ------------------------------------------------------------------ */

typedef struct fake {
    int listen_fd;
    int port;
    int stop_pipe[2];
    pthread_t acceptor;
    atomic_int slow_ms;
    atomic_int connections; /* live connection threads */
    pthread_mutex_t lock;
    char *targets[MAX_TARGETS];
    int n_targets;
} fake_t;

typedef struct fake_conn {
    fake_t *fake;
    int fd;
} fake_conn_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static void fake_record(fake_t *fake, const char *target)
{
    pthread_mutex_lock(&fake->lock);
    if (fake->n_targets < MAX_TARGETS)
        fake->targets[fake->n_targets++] = strdup(target);
    pthread_mutex_unlock(&fake->lock);
}

/* One keep-alive connection: read a request head, record its target, answer, repeat. */
static void *fake_conn_main(void *arg)
{
    fake_conn_t *conn = arg;
    char buf[8192];
    size_t len = 0;

    for (;;) {
        char *end;
        buf[len] = '\0';
        while ((end = strstr(buf, "\r\n\r\n")) == NULL) {
            if (len + 1 >= sizeof(buf) || fake_wait(conn->fake, conn->fd, 10000) != 1)
                goto done;
            ssize_t r = recv(conn->fd, buf + len, sizeof(buf) - 1 - len, 0);
            if (r <= 0)
                goto done;
            len += (size_t)r;
            buf[len] = '\0';
        }
        char target[4096] = "";
        sscanf(buf, "GET %4095s HTTP/1.1", target);
        fake_record(conn->fake, target);
        len = 0; /* GET only: nothing after the head */
        if (!fake_answer(conn->fake, conn->fd, target))
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
    for (int64_t deadline = now_ms() + 5000; atomic_load(&fake->connections) > 0 && now_ms() < deadline;)
        usleep(1000);
    assert_int_equal(atomic_load(&fake->connections), 0);
    close(fake->listen_fd);
    close(fake->stop_pipe[0]);
    close(fake->stop_pipe[1]);
    for (int i = 0; i < fake->n_targets; i++)
        free(fake->targets[i]);
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
    call->done_ms = now_ms();
    call->h->replies++;
}

static wx_client_t *client_start(int port, int timeout_ms)
{
    char base[64], err[256] = "";
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/", port); /* a trailing '/' is tolerated */
    wx_client_config_t config = {
        .api_base = base, .app_id = APPID, .app_secret = SECRET, .ca_file = NULL, .timeout_ms = timeout_ms};
    wx_client_t *client = wx_client_start(&config, err, sizeof(err));
    assert_non_null(client);
    return client;
}

static void harness_start(harness_t *h, int timeout_ms)
{
    memset(h, 0, sizeof(*h));
    fake_start(&h->fake);
    h->loop = test_loop;
    loop_msg_register(test_queue, &h->receiver);
    h->loop_thread = pthread_self();
    h->client = client_start(h->fake.port, timeout_ms);
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
    call->submitted_ms = now_ms();
    wx_code2session(client, &call->req);
}

/* Runs the loop until n replies have arrived in all, or deadline_ms passes. */
static bool wait_replies(harness_t *h, int n, int deadline_ms)
{
    int64_t deadline = now_ms() + deadline_ms;
    while (h->replies < n && now_ms() < deadline)
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
    int64_t start = now_ms();
    for (int i = 0; i < N_CONCURRENT; i++) {
        snprintf(code, sizeof(code), "slow%d", i);
        submit(&h, h.client, &calls[i], code);
    }
    assert_true(wait_replies(&h, N_CONCURRENT, 10000));
    int64_t elapsed = now_ms() - start;
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
    for (int64_t deadline = now_ms() + 3000; fake_total(&h.fake) < 5 && now_ms() < deadline;)
        usleep(1000);
    assert_int_equal(fake_total(&h.fake), 5);

    int64_t start = now_ms();
    wx_client_stop(h.client);
    assert_true(now_ms() - start < 2000);
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
        cmocka_unit_test(test_bad_code_is_not_sent),
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_stop_delivers_calls_in_flight),
        cmocka_unit_test(test_log_never_shows_secrets),
        cmocka_unit_test(test_start_refuses_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
