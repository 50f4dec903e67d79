/*
 * redis/redis_client — the connection to the Redis server the instances share (oa.redis.url),
 * off the event loops.
 *
 * Two threads, each with its own blocking hiredis connection:
 * - "redis" runs the commands: a loop queues an op (redis_client_eval, redis_client_publish)
 *   and goes on; the thread takes every queued op at once, pipelines them (one write, then the
 *   replies in order) and sends each eval's answer back through its loop_msg
 *   (runtime/loop_msg.h), so op->msg.on_done runs on the loop that asked. Every read and write
 *   has oa.redis.timeout-ms; an idle connection is PINGed every second.
 * - "redis-sub" SUBSCRIBEs to one channel and hands every message to on_message (on its own
 *   thread: what it calls must be thread-safe). It PINGs every second and counts the server
 *   gone when no answer came within two seconds (a stopped or unreachable server sends no EOF).
 *
 * Shared mode: redis_client_up() is true while both connections work (and the script is
 * loaded). Any failure (refused connection, EOF, an error reply to a command that cannot
 * fail, a timeout) closes that connection; the ops in its batch and those queued while it is
 * down are answered REDIS_OP_UNAVAILABLE at once (the caller falls back), publishes are
 * dropped. The threads reconnect by themselves with a backoff (100 ms doubling to 2 s) and
 * resubscribe (a connection that breaks within 10 s of being made does not reset the backoff, so
 * a flapping server is retried, and its loss logged, at most every 2 s); on_subscribed runs after every successful
 * SUBSCRIBE (again = true after the first) so the owner can forget what it may have missed. Losing the shared mode logs
 * one WARN line, getting it back one INFO line (never one per request); the gauge meetoa_redis_up says the same.
 *
 * Scripts: an eval names a redis_script_t made by redis_script_init (its SHA-1 computed
 * here); the thread sends EVALSHA and, on NOSCRIPT (a restarted or flushed server), EVAL with
 * the text, which loads it again.
 *
 * Ownership: ops are the caller's (usually inside a job); the client borrows an eval op until
 * its on_done runs, and copies a publish. Secrets: the password is sent by AUTH only and never
 * logged; log lines name the server as redis_url_describe does.
 */
#ifndef MEETOA_REDIS_REDIS_CLIENT_H
#define MEETOA_REDIS_REDIS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis/redis_url.h"
#include "runtime/loop_msg.h"

typedef struct redis_client redis_client_t;

typedef struct redis_script {
    const char *text;
    char sha1[41];
} redis_script_t;

/* Computes script->sha1 of text (kept, not copied: a string literal). */
void redis_script_init(redis_script_t *script, const char *text);

typedef struct redis_client_config {
    const redis_url_t *url; /* copied */
    int timeout_ms;         /* connect, each read and write */
    const char *channel;    /* subscribed to; NULL = no subscriber thread */
    /* On the subscriber thread: a message of channel (payload, not NUL-terminated). */
    void (*on_message)(void *ctx, const char *payload, size_t len);
    /* On the subscriber thread, after each SUBSCRIBE succeeded; again is false the first time. */
    void (*on_subscribed)(void *ctx, bool again);
    void *ctx;
} redis_client_config_t;

typedef enum redis_op_status {
    REDIS_OP_OK = 0,          /* the script answered an integer: op->result */
    REDIS_OP_UNAVAILABLE = 1, /* not connected, failed, timed out or an unexpected reply: fall back */
} redis_op_status_t;

#define REDIS_KEY_MAX  128
#define REDIS_ARGS_MAX 2

typedef struct redis_op {
    loop_msg_t msg; /* first: on_done gets &op->msg */
    const redis_script_t *script;
    char key[REDIS_KEY_MAX];
    size_t key_len;
    long long args[REDIS_ARGS_MAX];
    int nargs;
    redis_op_status_t status; /* out */
    long long result;         /* out */
    struct redis_op *_next;
} redis_op_t;

/* Starts the threads (they connect in the background: a server down at start is the fallback,
 * not an error). NULL and one line in err when out of memory or threads. */
redis_client_t *redis_client_start(const redis_client_config_t *config, char *err, size_t err_size);
/* Stops the threads; queued evals are answered REDIS_OP_UNAVAILABLE. */
void redis_client_stop(redis_client_t *client);
/* True in shared mode (see above). Any thread. */
bool redis_client_up(const redis_client_t *client);
/* Queues EVALSHA op->script 1 op->key op->args...; op->msg must be set with loop_msg_init. Any thread. */
void redis_client_eval(redis_client_t *client, redis_op_t *op);
/* Queues PUBLISH channel payload (copied); dropped when not connected. Any thread. */
void redis_client_publish(redis_client_t *client, const char *channel, const char *payload, size_t len);

/* One blocking PUBLISH on a connection of its own (the CLI): 0, or -1 and one line in err. */
int redis_publish_once(const redis_url_t *url, int timeout_ms, const char *channel, const char *payload, size_t len,
                       char *err, size_t err_size);

#endif
