/*
 * guard/shared_limit — a rate limit (guard/rate_limit.h's token bucket: N per minute per key)
 * whose buckets live in Redis while the shared mode is on (redis/redis_client.h), so that every
 * instance draws from the same bucket, and in this process's rate_limit_t otherwise.
 *
 * Shared: one EVALSHA per check runs SHARED_LIMIT_SCRIPT, the same bucket as rate_limit.c in
 * the same units (1/60000 token, N units refilled per millisecond, exact in Lua's doubles up
 * to the largest N, 1000000), read and written in one atomic step on the server, on the
 * server's clock (TIME), so the instances' clocks do not matter. A bucket is a hash {l: level,
 * a: ms} that expires after a minute without use (a full bucket is an absent one). Every
 * instance must be configured with the same per-minute numbers (the check sends its own).
 *
 * Keys: `meetoa:rl:NAME:HEX`, NAME the limit (login-ip, login-openid, phone-ip, ...) and HEX the
 * first 16 bytes of HMAC-SHA256(K, client key), K derived from oa.security.data-key
 * (HMAC-SHA256(data key, "meetoa redis key v1")): Redis and its operators never see an IP
 * address or an openid, only which limit a bucket belongs to and how full it is; instances
 * with the same data key agree on the names, a rotated data key starts fresh buckets.
 *
 * Fallback: when Redis is not up, or a check fails or times out, the check is answered by the
 * local limiter (limits per process; its buckets start full when the shared mode is lost) and
 * counted in meetoa_redis_fallback_checks_total. The local limiter is not charged while the
 * shared mode answers.
 *
 * Thread-safety: shared_limit_take from a loop thread (its answer comes back to a loop);
 * shared_limit_take_now and the accessors from any thread.
 */
#ifndef MEETOA_GUARD_SHARED_LIMIT_H
#define MEETOA_GUARD_SHARED_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard/rate_limit.h"
#include "redis/redis_client.h"

/* The bucket, in Lua: KEYS[1] the bucket, ARGV[1] per minute; returns 0 (allowed) or the
 * whole seconds (>= 1) until the next token. */
extern const char SHARED_LIMIT_SCRIPT[];

typedef struct shared_limit shared_limit_t;
typedef struct shared_check shared_check_t;
typedef void (*shared_check_cb)(shared_check_t *check);

struct shared_check {
    redis_op_t op; /* first (internal) */
    shared_limit_t *limit;
    shared_check_cb on_done;
    char key[RATE_LIMIT_KEY_MAX]; /* the client key, for the fallback */
    size_t key_len;
    bool allowed;           /* out */
    unsigned retry_after_s; /* out: 0 when allowed */
    bool shared;            /* out: Redis answered (false: the local limiter did) */
};

/* A limit named name (a few [a-z-] characters, kept) of per_minute per key (0 = off); redis
 * NULL = local only; key_key 32 bytes (copied). NULL when out of memory. */
shared_limit_t *shared_limit_new(const char *name, unsigned per_minute, redis_client_t *redis,
                                 const uint8_t key_key[32]);
void shared_limit_free(shared_limit_t *limit);
/* K of the keys from the data key. */
void shared_limit_derive_key(const uint8_t data_key[32], uint8_t key_key[32]);

/* True when off (NULL or 0 per minute): callers may skip computing the key. */
bool shared_limit_off(const shared_limit_t *limit);
/* True when a check would go to Redis now. */
bool shared_limit_remote(const shared_limit_t *limit);
const char *shared_limit_name(const shared_limit_t *limit);
/* The per-process limiter (the sweeper sweeps it). */
rate_limit_t *shared_limit_local(shared_limit_t *limit);

/* A check of the local limiter only (rate_limit_take at the monotonic now; counted as answered by
 * the process when Redis is configured). */
bool shared_limit_take_now(shared_limit_t *limit, const char *key, size_t len, unsigned *retry_after_s);
/*
 * Takes one token for key. True when answered at once (off, or not shared: check->allowed etc.
 * filled, on_done not called); false when the check went to Redis: then
 * on_done(check) runs later on reply_to's loop, exactly once, with the answer (the local
 * limiter's when Redis failed). check belongs to the caller and must live until then.
 */
bool shared_limit_take(shared_limit_t *limit, const char *key, size_t len, shared_check_t *check,
                       h2o_multithread_receiver_t *reply_to, shared_check_cb on_done);

#endif
