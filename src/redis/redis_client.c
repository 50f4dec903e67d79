/*
 * redis/redis_client — see redis_client.h.
 *
 * One queue (under lock) holds evals (the caller's ops) and publishes (a pub_t of ours, whose
 * op has no script): the command thread takes up to BATCH_MAX of them, appends them all to the
 * hiredis output buffer, reads the replies in order, then runs EVAL for the evals that met
 * NOSCRIPT. The connections are blocking with SO_RCVTIMEO/SO_SNDTIMEO = timeout_ms (hiredis
 * 0.14 counts a timed-out read as a broken connection, which is what we want for commands);
 * the subscriber never blocks in a read: it poll()s its socket and a wake pipe, and reads only
 * when the socket is readable.
 */
#include "redis/redis_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "common/clock.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "metrics/metrics.h"

#define BATCH_MAX        256
#define QUEUE_MAX        8192 /* ops waiting for the command thread; more are answered UNAVAILABLE */
#define PING_EVERY_MS    1000
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   2000
#define STABLE_MS        10000 /* a connection that lasted this long resets the backoff */
#define WHY_SIZE         160

typedef struct pub {
    redis_op_t op; /* first; op.script NULL */
    char *channel;
    char *payload;
    size_t len;
} pub_t;

struct redis_client {
    redis_url_t url;
    int timeout_ms;
    char *channel;
    void (*on_message)(void *ctx, const char *payload, size_t len);
    void (*on_subscribed)(void *ctx, bool again);
    void *ctx;
    char where[REDIS_URL_HOST_MAX + 32];

    pthread_mutex_t lock; /* the queue and stopping */
    pthread_cond_t wake;
    bool stopping;
    redis_op_t *head, *tail;
    size_t queued;
    pthread_t cmd_tid, sub_tid;
    bool cmd_started, sub_started;
    int wake_pipe[2]; /* the subscriber's: written by stop */

    metrics_family_t *up_gauge; /* meetoa_redis_up */
    metrics_family_t *messages; /* meetoa_redis_session_messages_total{way} */
    pthread_mutex_t state_lock; /* the shared mode */
    bool cmd_up, sub_up, announced_down;
    atomic_bool up;
};

void redis_script_init(redis_script_t *script, const char *text)
{
    uint8_t digest[20];
    script->text = text;
    crypto_sha1(text, strlen(text), digest);
    for (int i = 0; i < 20; i++) /* not a secret: the plain table is fine */
        snprintf(script->sha1 + 2 * i, 3, "%02x", digest[i]);
}

/* ---- the shared mode ---- */

/* One of the connections (sub: the subscriber's) is up or down now; logs the transitions. */
static void state_set(redis_client_t *c, bool sub, bool up, const char *why)
{
    pthread_mutex_lock(&c->state_lock);
    bool before = atomic_load(&c->up);
    if (sub)
        c->sub_up = up;
    else
        c->cmd_up = up;
    bool now = c->cmd_up && (c->channel == NULL || c->sub_up);
    atomic_store(&c->up, now);
    metrics_gauge_set(c->up_gauge, 0, now ? 1 : 0);
    if (!before && now) {
        log_info("redis %s: shared mode on: rate limits shared by the instances, session ends published", c->where);
        c->announced_down = false;
    } else if (!now && !up && !c->announced_down) {
        log_warn("redis %s: shared mode %s (%s): rate limits per process and cached sessions trusted up to "
                 "oa.token.cache-seconds until it is back",
                 c->where, before ? "lost" : "not available", why != NULL ? why : "unknown");
        c->announced_down = true;
    }
    pthread_mutex_unlock(&c->state_lock);
}

bool redis_client_up(const redis_client_t *client)
{
    return client != NULL && atomic_load(&client->up);
}

/* ---- connections ---- */

static struct timeval ms_tv(int ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* True when reply is the status (or string) text. */
static bool reply_is(const redisReply *r, int type, const char *text)
{
    return r != NULL && r->type == type && r->str != NULL && strcasecmp(r->str, text) == 0;
}

/* Runs one command whose reply must be +OK / +PONG (want); false with why otherwise. */
static bool expect(redisContext *ctx, redisReply *r, const char *want, const char *what, char *why, size_t size)
{
    bool ok = reply_is(r, REDIS_REPLY_STATUS, want);
    if (!ok) {
        if (r == NULL)
            snprintf(why, size, "%s: %s", what, ctx->errstr[0] ? ctx->errstr : "no answer");
        else if (r->type == REDIS_REPLY_ERROR) /* the server's words, never the password */
            snprintf(why, size, "%s refused: %.100s", what, r->str);
        else
            snprintf(why, size, "%s: unexpected answer", what);
    }
    if (r != NULL)
        freeReplyObject(r);
    return ok;
}

/* A connection, authenticated, on the URL's database, answering PING. NULL with why. */
static redisContext *connect_server(const redis_url_t *url, int timeout_ms, char *why, size_t size)
{
    struct timeval tv = ms_tv(timeout_ms);
    redisContext *ctx =
        url->is_unix ? redisConnectUnixWithTimeout(url->path, tv) : redisConnectWithTimeout(url->host, url->port, tv);
    if (ctx == NULL) {
        snprintf(why, size, "out of memory");
        return NULL;
    }
    if (ctx->err) {
        snprintf(why, size, "%s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    bool ok = redisSetTimeout(ctx, tv) == REDIS_OK;
    if (!ok)
        snprintf(why, size, "cannot set the socket timeout");
    if (ok && url->has_password)
        ok = expect(ctx,
                    url->user[0] != '\0' ? redisCommand(ctx, "AUTH %s %s", url->user, url->password)
                                         : redisCommand(ctx, "AUTH %s", url->password),
                    "OK", "AUTH", why, size);
    if (ok && url->db != 0)
        ok = expect(ctx, redisCommand(ctx, "SELECT %d", url->db), "OK", "SELECT", why, size);
    if (ok)
        ok = expect(ctx, redisCommand(ctx, "PING"), "PONG", "PING", why, size);
    if (!ok) {
        redisFree(ctx);
        return NULL;
    }
    return ctx;
}

static int backoff_next(int backoff)
{
    return backoff == 0 ? BACKOFF_FIRST_MS : backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
}

/* The wait before reconnecting after a connection made at connected_at broke at now: the backoff
 * goes on growing unless it had lasted STABLE_MS, so a server that accepts and then fails at once
 * (flapping) is retried, and its loss logged, at most every BACKOFF_MAX_MS. */
static int backoff_after_loss(int *backoff, int64_t connected_at, int64_t now)
{
    *backoff = now - connected_at >= STABLE_MS ? BACKOFF_FIRST_MS : backoff_next(*backoff);
    return *backoff;
}

/* ---- the command thread ---- */

/* Hands an op back: an eval to its loop, a publish freed. */
static void op_finish(redis_op_t *op)
{
    if (op->script != NULL) {
        loop_msg_reply(&op->msg);
        return;
    }
    pub_t *pub = (pub_t *)op;
    free(pub->channel);
    free(pub->payload);
    free(pub);
}

static void ops_fail(redis_op_t *ops)
{
    while (ops != NULL) {
        redis_op_t *next = ops->_next;
        ops->status = REDIS_OP_UNAVAILABLE;
        op_finish(ops);
        ops = next;
    }
}

static void append_eval(redisContext *ctx, const redis_op_t *op, bool with_text)
{
    const char *argv[4 + REDIS_ARGS_MAX];
    size_t lens[4 + REDIS_ARGS_MAX];
    char nums[REDIS_ARGS_MAX][24];
    int n = 0;
    argv[n] = with_text ? "EVAL" : "EVALSHA";
    lens[n] = strlen(argv[n]);
    n++;
    argv[n] = with_text ? op->script->text : op->script->sha1;
    lens[n] = strlen(argv[n]);
    n++;
    argv[n] = "1";
    lens[n++] = 1;
    argv[n] = op->key;
    lens[n++] = op->key_len;
    for (int i = 0; i < op->nargs && i < REDIS_ARGS_MAX; i++) {
        lens[n] = (size_t)snprintf(nums[i], sizeof nums[i], "%lld", op->args[i]);
        argv[n++] = nums[i];
    }
    redisAppendCommandArgv(ctx, n, argv, lens);
}

static void append_op(redisContext *ctx, const redis_op_t *op)
{
    if (op->script != NULL) {
        append_eval(ctx, op, false);
        return;
    }
    const pub_t *pub = (const pub_t *)op;
    const char *argv[3] = {"PUBLISH", pub->channel, pub->payload};
    size_t lens[3] = {7, strlen(pub->channel), pub->len};
    redisAppendCommandArgv(ctx, 3, argv, lens);
}

/* Reads an eval's reply into op; true when it was NOSCRIPT (run it again with EVAL). */
static bool read_eval(const redisReply *r, redis_op_t *op)
{
    if (r->type == REDIS_REPLY_INTEGER) {
        op->status = REDIS_OP_OK;
        op->result = r->integer;
        return false;
    }
    op->status = REDIS_OP_UNAVAILABLE;
    if (r->type == REDIS_REPLY_ERROR && r->str != NULL && strncmp(r->str, "NOSCRIPT", 8) == 0)
        return true;
    log_warn("redis: a script answered %s: %.100s", r->type == REDIS_REPLY_ERROR ? "an error" : "no integer",
             r->str != NULL ? r->str : "");
    return false;
}

/* Reads the replies of ops (sent in this order) and finishes each; with again_tail, a script op
 * that answered NOSCRIPT goes on that list instead (to be sent again with EVAL). False (why set)
 * when the connection broke: the ops not answered yet fail. */
static bool read_replies(redisContext *ctx, redis_op_t *ops, redis_op_t ***again_tail, char *why, size_t size)
{
    bool ok = true;
    while (ops != NULL) {
        redis_op_t *op = ops;
        void *reply = NULL;
        if (ok && redisGetReply(ctx, &reply) != REDIS_OK) {
            snprintf(why, size, "%s", ctx->errstr[0] ? ctx->errstr : "connection lost");
            ok = false;
        }
        ops = op->_next;
        op->_next = NULL;
        if (!ok) {
            op->status = REDIS_OP_UNAVAILABLE;
            op_finish(op);
            continue;
        }
        if (op->script != NULL && read_eval(reply, op) && again_tail != NULL) {
            **again_tail = op;
            *again_tail = &op->_next;
        } else {
            op_finish(op);
        }
        freeReplyObject(reply);
    }
    return ok;
}

/* Runs a batch; false (why set) when the connection broke: the ops not answered yet fail. */
static bool run_batch(redisContext *ctx, redis_op_t *ops, char *why, size_t size)
{
    redis_op_t *again = NULL, **again_tail = &again;
    for (redis_op_t *op = ops; op != NULL; op = op->_next)
        append_op(ctx, op);
    if (!read_replies(ctx, ops, &again_tail, why, size)) {
        ops_fail(again);
        return false;
    }
    for (redis_op_t *op = again; op != NULL; op = op->_next)
        append_eval(ctx, op, true);
    return read_replies(ctx, again, NULL, why, size);
}

/* Takes up to BATCH_MAX queued ops (lock held). */
static redis_op_t *take_batch(redis_client_t *c)
{
    redis_op_t *ops = c->head, *last = NULL;
    size_t n = 0;
    for (redis_op_t *op = c->head; op != NULL && n < BATCH_MAX; op = op->_next, n++)
        last = op;
    if (last == NULL)
        return NULL;
    c->head = last->_next;
    if (c->head == NULL)
        c->tail = NULL;
    last->_next = NULL;
    c->queued -= n;
    return ops;
}

static void wait_ms(redis_client_t *c, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&c->wake, &c->lock, &until);
}

static void *cmd_main(void *arg)
{
    redis_client_t *c = arg;
    log_set_thread_name("redis");
    pthread_setname_np(pthread_self(), "redis"); /* for ps and /proc: which threads exist */
    redisContext *ctx = NULL;
    int backoff = 0;
    int64_t next_try = 0, last_io = 0, connected_at = 0;
    char why[WHY_SIZE];
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        int64_t now = clock_monotonic_ms();
        if (ctx == NULL && now >= next_try) {
            pthread_mutex_unlock(&c->lock);
            ctx = connect_server(&c->url, c->timeout_ms, why, sizeof why);
            if (ctx != NULL) {
                connected_at = last_io = clock_monotonic_ms();
            } else {
                backoff = backoff_next(backoff);
                next_try = clock_monotonic_ms() + backoff;
                log_debug("redis %s: connection failed: %s", c->where, why);
            }
            state_set(c, false, ctx != NULL, why);
            pthread_mutex_lock(&c->lock);
            continue;
        }
        if (ctx == NULL) { /* down: whatever was queued meanwhile falls back now */
            redis_op_t *ops = c->head;
            c->head = c->tail = NULL;
            c->queued = 0;
            pthread_mutex_unlock(&c->lock);
            ops_fail(ops);
            pthread_mutex_lock(&c->lock);
            if (c->head == NULL && !c->stopping)
                wait_ms(c, next_try - now);
            continue;
        }
        redis_op_t *ops = take_batch(c);
        if (ops == NULL) {
            if (now - last_io < PING_EVERY_MS) {
                wait_ms(c, PING_EVERY_MS - (now - last_io));
                continue;
            }
            pthread_mutex_unlock(&c->lock); /* idle: is it still there? */
            bool ok = expect(ctx, redisCommand(ctx, "PING"), "PONG", "PING", why, sizeof why);
            last_io = clock_monotonic_ms();
            if (!ok) {
                redisFree(ctx);
                ctx = NULL;
                next_try = last_io + backoff_after_loss(&backoff, connected_at, last_io);
                state_set(c, false, false, why);
            }
            pthread_mutex_lock(&c->lock);
            continue;
        }
        pthread_mutex_unlock(&c->lock);
        bool ok = run_batch(ctx, ops, why, sizeof why);
        last_io = clock_monotonic_ms();
        if (!ok) {
            redisFree(ctx);
            ctx = NULL;
            next_try = last_io + backoff_after_loss(&backoff, connected_at, last_io);
            state_set(c, false, false, why);
        }
        pthread_mutex_lock(&c->lock);
    }
    redis_op_t *ops = c->head;
    c->head = c->tail = NULL;
    c->queued = 0;
    pthread_mutex_unlock(&c->lock);
    ops_fail(ops);
    if (ctx != NULL)
        redisFree(ctx);
    return NULL;
}

static void enqueue(redis_client_t *c, redis_op_t *op)
{
    op->_next = NULL;
    pthread_mutex_lock(&c->lock);
    bool full = c->stopping || c->queued >= QUEUE_MAX;
    if (!full) {
        if (c->tail != NULL)
            c->tail->_next = op;
        else
            c->head = op;
        c->tail = op;
        c->queued++;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
    if (full) {
        op->status = REDIS_OP_UNAVAILABLE;
        op_finish(op);
    }
}

void redis_client_eval(redis_client_t *client, redis_op_t *op)
{
    enqueue(client, op);
}

/* The values of meetoa_redis_session_messages_total's label way. */
enum { WAY_PUBLISHED, WAY_UNPUBLISHED, WAY_RECEIVED };
static const char *const WAYS[] = {"published", "unpublished", "received"};

void redis_client_publish(redis_client_t *client, const char *channel, const char *payload, size_t len)
{
    if (client == NULL)
        return;
    if (!redis_client_up(client)) { /* the others are bound by oa.token.cache-seconds */
        metrics_inc(client->messages, metrics_series(client->messages, WAY_UNPUBLISHED, 0));
        return;
    }
    metrics_inc(client->messages, metrics_series(client->messages, WAY_PUBLISHED, 0));
    pub_t *pub = calloc(1, sizeof(*pub));
    if (pub == NULL || (pub->channel = strdup(channel)) == NULL || (pub->payload = malloc(len + 1)) == NULL) {
        if (pub != NULL)
            free(pub->channel);
        free(pub);
        return;
    }
    memcpy(pub->payload, payload, len);
    pub->payload[len] = '\0';
    pub->len = len;
    enqueue(client, &pub->op);
}

/* ---- the subscriber ---- */

static bool sub_stopping(redis_client_t *c)
{
    pthread_mutex_lock(&c->lock);
    bool stopping = c->stopping;
    pthread_mutex_unlock(&c->lock);
    return stopping;
}

/* Waits ms on the wake pipe; true when stopping. */
static bool sub_wait(redis_client_t *c, int ms)
{
    struct pollfd p = {.fd = c->wake_pipe[0], .events = POLLIN};
    poll(&p, 1, ms);
    return sub_stopping(c);
}

static bool is_array_of(const redisReply *r, const char *kind, size_t min)
{
    return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= min &&
           r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, kind) == 0;
}

/* Hands the messages buffered in ctx's reader to on_message; false when the stream is broken. */
static bool sub_drain(redis_client_t *c, redisContext *ctx, char *why, size_t size)
{
    for (;;) {
        void *reply = NULL;
        if (redisGetReplyFromReader(ctx, &reply) != REDIS_OK) {
            snprintf(why, size, "%s", ctx->errstr[0] ? ctx->errstr : "protocol error");
            return false;
        }
        if (reply == NULL)
            return true;
        redisReply *r = reply;
        if (is_array_of(r, "message", 3) && r->element[2]->type == REDIS_REPLY_STRING && c->on_message != NULL) {
            metrics_inc(c->messages, metrics_series(c->messages, WAY_RECEIVED, 0));
            c->on_message(c->ctx, r->element[2]->str, r->element[2]->len);
        }
        freeReplyObject(r);
    }
}

/* Writes what ctx has buffered (a PING); false when it cannot. */
static bool sub_flush(redisContext *ctx)
{
    int done = 0;
    while (!done)
        if (redisBufferWrite(ctx, &done) != REDIS_OK)
            return false;
    return true;
}

/* One subscribed session, until it breaks (why set) or stop. */
static void sub_session(redis_client_t *c, redisContext *ctx, char *why, size_t size)
{
    int64_t last_rx = clock_monotonic_ms(), ping_sent = 0;
    int64_t silence_max = c->timeout_ms * 2 > 2000 ? c->timeout_ms * 2 : 2000;
    struct pollfd p[2] = {{.fd = ctx->fd, .events = POLLIN}, {.fd = c->wake_pipe[0], .events = POLLIN}};
    if (!sub_drain(c, ctx, why, size))
        return;
    while (!sub_stopping(c)) {
        int n = poll(p, 2, 250);
        if (n < 0 && errno != EINTR) {
            snprintf(why, size, "poll: %s", strerror(errno));
            return;
        }
        int64_t now = clock_monotonic_ms();
        if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (redisBufferRead(ctx) != REDIS_OK) {
                snprintf(why, size, "%s", ctx->errstr[0] ? ctx->errstr : "connection lost");
                return;
            }
            if (!sub_drain(c, ctx, why, size))
                return;
            last_rx = now;
            ping_sent = 0;
        }
        if (ping_sent != 0 && now - ping_sent >= silence_max) {
            snprintf(why, size, "no answer to PING for %lld ms", (long long)(now - ping_sent));
            return;
        }
        if (ping_sent == 0 && now - last_rx >= PING_EVERY_MS) {
            redisAppendCommand(ctx, "PING");
            if (!sub_flush(ctx)) {
                snprintf(why, size, "%s", ctx->errstr[0] ? ctx->errstr : "write failed");
                return;
            }
            ping_sent = now;
        }
    }
}

static void *sub_main(void *arg)
{
    redis_client_t *c = arg;
    log_set_thread_name("redis-sub");
    pthread_setname_np(pthread_self(), "redis-sub");
    int backoff = 0;
    bool again = false;
    char why[WHY_SIZE];
    while (!sub_stopping(c)) {
        redisContext *ctx = connect_server(&c->url, c->timeout_ms, why, sizeof why);
        if (ctx != NULL) {
            redisReply *r = redisCommand(ctx, "SUBSCRIBE %s", c->channel);
            if (!is_array_of(r, "subscribe", 3)) {
                snprintf(why, sizeof why, "SUBSCRIBE: %s",
                         r == NULL                      ? ctx->errstr
                         : r->type == REDIS_REPLY_ERROR ? r->str
                                                        : "unexpected answer");
                redisFree(ctx);
                ctx = NULL;
            }
            if (r != NULL)
                freeReplyObject(r);
        }
        if (ctx == NULL) {
            log_debug("redis %s: subscription failed: %s", c->where, why);
            state_set(c, true, false, why);
            backoff = backoff_next(backoff);
            sub_wait(c, backoff);
            continue;
        }
        int64_t connected_at = clock_monotonic_ms();
        if (c->on_subscribed != NULL)
            c->on_subscribed(c->ctx, again);
        again = true;
        state_set(c, true, true, NULL);
        snprintf(why, sizeof why, "stopping");
        sub_session(c, ctx, why, sizeof why);
        redisFree(ctx);
        if (sub_stopping(c))
            break; /* a stop is not a loss: no WARN */
        state_set(c, true, false, why);
        sub_wait(c, backoff_after_loss(&backoff, connected_at, clock_monotonic_ms()));
    }
    return NULL;
}

/* ---- start, stop ---- */

static void client_free(redis_client_t *c)
{
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->state_lock);
    if (c->wake_pipe[0] >= 0)
        close(c->wake_pipe[0]);
    if (c->wake_pipe[1] >= 0)
        close(c->wake_pipe[1]);
    free(c->channel);
    redis_url_wipe(&c->url);
    free(c);
}

redis_client_t *redis_client_start(const redis_client_config_t *config, char *err, size_t err_size)
{
    redis_client_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    c->url = *config->url;
    c->timeout_ms = config->timeout_ms;
    c->on_message = config->on_message;
    c->on_subscribed = config->on_subscribed;
    c->ctx = config->ctx;
    c->wake_pipe[0] = c->wake_pipe[1] = -1;
    redis_url_describe(&c->url, c->where, sizeof c->where);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->state_lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    atomic_init(&c->up, false);
    static const metrics_label_t way = {"way", WAYS, sizeof WAYS / sizeof WAYS[0]};
    c->up_gauge = metrics_gauge("meetoa_redis_up",
                                "1 while the shared mode through oa.redis.url works (rate limits shared, session ends "
                                "published and received), 0 while this process falls back to itself",
                                NULL, 0);
    c->messages = metrics_counter("meetoa_redis_session_messages_total",
                                  "Session-end messages: published, not published (Redis down) and received", &way, 1);
    metrics_gauge_set(c->up_gauge, 0, 0);
    if ((config->channel != NULL && (c->channel = strdup(config->channel)) == NULL) ||
        pipe2(c->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, err_size, "out of memory or file descriptors");
        client_free(c);
        return NULL;
    }
    c->cmd_started = pthread_create(&c->cmd_tid, NULL, cmd_main, c) == 0;
    c->sub_started = c->cmd_started && c->channel != NULL && pthread_create(&c->sub_tid, NULL, sub_main, c) == 0;
    if (!c->cmd_started || (c->channel != NULL && !c->sub_started)) {
        snprintf(err, err_size, "cannot start the redis threads");
        redis_client_stop(c);
        return NULL;
    }
    return c;
}

void redis_client_stop(redis_client_t *client)
{
    if (client == NULL)
        return;
    pthread_mutex_lock(&client->lock);
    client->stopping = true;
    pthread_cond_broadcast(&client->wake);
    pthread_mutex_unlock(&client->lock);
    if (write(client->wake_pipe[1], "x", 1) < 0) { /* full pipe: it is awake anyway */
    }
    if (client->cmd_started)
        pthread_join(client->cmd_tid, NULL);
    if (client->sub_started)
        pthread_join(client->sub_tid, NULL);
    client_free(client);
}

/* ---- the CLI's publish ---- */

int redis_publish_once(const redis_url_t *url, int timeout_ms, const char *channel, const char *payload, size_t len,
                       char *err, size_t err_size)
{
    char why[WHY_SIZE], where[REDIS_URL_HOST_MAX + 32];
    redis_url_describe(url, where, sizeof where);
    redisContext *ctx = connect_server(url, timeout_ms, why, sizeof why);
    if (ctx == NULL) {
        snprintf(err, err_size, "redis %s: %s", where, why);
        return -1;
    }
    redisReply *r = redisCommand(ctx, "PUBLISH %s %b", channel, payload, len);
    int rc = r != NULL && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc != 0)
        snprintf(err, err_size, "redis %s: PUBLISH: %s", where,
                 r == NULL                      ? ctx->errstr
                 : r->type == REDIS_REPLY_ERROR ? r->str
                                                : "unexpected answer");
    if (r != NULL)
        freeReplyObject(r);
    redisFree(ctx);
    return rc;
}
