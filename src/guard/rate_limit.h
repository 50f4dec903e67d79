/*
 * guard/rate_limit — keyed token buckets: "at most N requests per minute per key".
 *
 * Contract:
 * - A limiter of per_minute N gives each key a bucket of N tokens, refilled continuously at
 *   N/60 tokens per second (exact integer arithmetic, no drift), and full when first seen.
 *   Every rate_limit_take() costs one token; with none left it is refused and says how many
 *   whole seconds (>= 1) until the next token. per_minute 0 means off: take always allows.
 * - Time is passed in by the caller as monotonic milliseconds (clock_monotonic_ms() in
 *   production, any value in tests). Time that goes backwards refills nothing.
 * - Keys are bytes compared exactly; only their first RATE_LIMIT_KEY_MAX bytes count (the
 *   callers pass IP addresses, /64 prefixes and openids, all shorter).
 * - Memory is bounded: a limiter holds at most max_buckets buckets (RATE_LIMIT_MAX_BUCKETS
 *   by rate_limit_new; the bound is split evenly over 16 shards). A bucket that is full
 *   again is equivalent to an absent one, so rate_limit_sweep() drops those. When a new key
 *   finds its shard full, the shard first drops its refilled buckets (at most once a
 *   second), and if none is, it evicts the fullest of a small sample of buckets (Redis'
 *   approximated eviction), so a key that drained its bucket is kept while fresh ones are
 *   dropped. It never fails open on a full table; the price of the bound is that an attacker
 *   with more than max_buckets addresses active at once can get some buckets forgotten.
 *   An allocation failure allows the request (fails open) rather than refusing everyone.
 * - Thread-safety: every function may be called from any thread at any time, except
 *   rate_limit_free (no other call may run or follow). The table is split into shards, each
 *   with its own mutex; there is no global lock. The hash is SipHash-2-4 under a random key
 *   per limiter, so a client cannot choose keys that collide.
 * - A NULL limiter is accepted everywhere and behaves as off.
 */
#ifndef MEETOA_GUARD_RATE_LIMIT_H
#define MEETOA_GUARD_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE_LIMIT_KEY_MAX     64
#define RATE_LIMIT_MAX_BUCKETS 65536

typedef struct rate_limit rate_limit_t;

/* A limiter of per_minute requests per key (0 = off), holding at most RATE_LIMIT_MAX_BUCKETS
 * buckets. NULL when out of memory or without randomness for the hash key. */
rate_limit_t *rate_limit_new(unsigned per_minute);
/* The same with another bound (rounded down to a multiple of 16, at least 16): for tests. */
rate_limit_t *rate_limit_new_bounded(unsigned per_minute, size_t max_buckets);
void rate_limit_free(rate_limit_t *rl);

/* True when the limiter is off (NULL or per_minute 0): callers may skip computing the key. */
bool rate_limit_off(const rate_limit_t *rl);
/*
 * Takes one token from key's bucket at now_ms. True when allowed (*retry_after_s = 0);
 * false when the bucket is empty, with *retry_after_s = the whole seconds, at least 1, until
 * a token is back. retry_after_s may be NULL.
 */
bool rate_limit_take(rate_limit_t *rl, const char *key, size_t key_len, int64_t now_ms, unsigned *retry_after_s);
/* Drops every bucket that is full again at now_ms (it would behave as an absent one). */
void rate_limit_sweep(rate_limit_t *rl, int64_t now_ms);
/* Number of buckets held (for logs and tests). */
size_t rate_limit_count(rate_limit_t *rl);

#endif
