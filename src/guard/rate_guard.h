/*
 * guard/rate_guard — a rate limit in front of a handler: take a token for the request's
 * client (its address, see http_client_addr) or for a key (an openid), and when the bucket
 * is empty answer errno 429 (HTTP 429, Retry-After: seconds) right away.
 *
 * Contract: each function returns true when the request may go on (the caller continues),
 * false when it has been answered (the caller returns and does nothing else: no WeChat call,
 * no database work). An off limiter (NULL or 0 per minute) costs nothing and returns true.
 * Loop thread only (they answer the request); the limiters themselves are thread-safe.
 */
#ifndef MEETOA_GUARD_RATE_GUARD_H
#define MEETOA_GUARD_RATE_GUARD_H

#include <stdbool.h>

#include <h2o.h>

#include "guard/ip_addr.h"
#include "guard/rate_limit.h"

/* Per client address: IPv4 by address, IPv6 by /64. An unknown address is not limited. */
bool rate_guard_addr(h2o_req_t *req, rate_limit_t *rl, const ip_addr_t *client);
/* The same, finding the client address behind the trusted proxies first. */
bool rate_guard_client(h2o_req_t *req, rate_limit_t *rl, const ip_ranges_t *trusted);
/* Per key (NUL-terminated, e.g. an openid). */
bool rate_guard_key(h2o_req_t *req, rate_limit_t *rl, const char *key);

#endif
