/*
 * guard/rate_guard — a rate limit in front of a handler: take a token for the request's
 * client (its address, see http_client_addr) or for a key (an openid), and when the bucket
 * is empty answer errno 429 (HTTP 429, Retry-After: seconds) right away.
 *
 * Asynchronous by design: with Redis configured (guard/shared_limit.h) the bucket is on the
 * Redis server, and the event loop never waits for it. So a guard does not return a verdict;
 * it takes the rest of the handler as a continuation, then(req, app, arg), and either
 *   - runs it at once (the limit is off, or answered by the local limiter: no Redis, or the
 *     shared mode is down), exactly as a synchronous check would, or
 *   - sends the check to the Redis thread and returns: the request is pending (http_pending)
 *     and then() runs on the same loop when the answer is back, or the request is answered
 *     429, or nothing happens when the client went away meanwhile.
 * arg (arg_size bytes, may be NULL/0) is what then() needs from the caller's frame (a copy of
 * the caller, a client address): it is copied when the check has to wait, so the caller's
 * pointer need not outlive the call. then() must not assume it runs inside the handler's call.
 * After the guard returns the caller does nothing else with req (no WeChat call, no database
 * work): whatever follows belongs in then().
 *
 * An off limiter (NULL or 0 per minute) costs nothing. Loop thread only (they answer the
 * request); the limiters themselves are thread-safe.
 */
#ifndef MEETOA_GUARD_RATE_GUARD_H
#define MEETOA_GUARD_RATE_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

#include "guard/ip_addr.h"
#include "guard/shared_limit.h"

/* The rest of a handler, run when the request passed the limit. */
typedef void (*rate_guard_then)(h2o_req_t *req, void *app, const void *arg);

/* Per client address: IPv4 by address, IPv6 by /64. An unknown address is not limited. */
void rate_guard_addr(h2o_req_t *req, shared_limit_t *rl, const ip_addr_t *client, rate_guard_then then, void *app,
                     const void *arg, size_t arg_size);
/* The same, finding the client address behind the trusted proxies first. */
void rate_guard_client(h2o_req_t *req, shared_limit_t *rl, const ip_ranges_t *trusted, rate_guard_then then, void *app,
                       const void *arg, size_t arg_size);
/* Per key (NUL-terminated, e.g. an openid). */
void rate_guard_key(h2o_req_t *req, shared_limit_t *rl, const char *key, rate_guard_then then, void *app,
                    const void *arg, size_t arg_size);

/* Counts a refusal of rl in meetoa_rate_limited_total{limit} (the guards do; a caller that
 * refuses by a limit itself, as the login's openid check, calls it). */
void rate_guard_count_refusal(const shared_limit_t *rl);

#endif
