/* guard/rate_guard — see rate_guard.h. */
#include "guard/rate_guard.h"

#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "http/reply.h"
#include "http/request.h"

/* Takes a token for key; answers 429 when there is none. */
static bool take(h2o_req_t *req, rate_limit_t *rl, const char *key, size_t len)
{
    unsigned retry_after;
    if (rate_limit_take(rl, key, len, clock_monotonic_ms(), &retry_after))
        return true;
    h2o_iovec_t path = req->path_normalized;
    log_debug("%.*s refused by a rate limit: retry in %u s", (int)(path.len < 100 ? path.len : 100), path.base,
              retry_after);
    http_reply_too_many(req, retry_after);
    return false;
}

bool rate_guard_addr(h2o_req_t *req, rate_limit_t *rl, const ip_addr_t *client)
{
    char key[IP_KEY_SIZE];
    if (rate_limit_off(rl))
        return true;
    size_t len = ip_addr_limit_key(client, key);
    return len == 0 || take(req, rl, key, len);
}

bool rate_guard_client(h2o_req_t *req, rate_limit_t *rl, const ip_ranges_t *trusted)
{
    ip_addr_t client;
    if (rate_limit_off(rl))
        return true;
    http_client_addr(req, trusted, &client);
    return rate_guard_addr(req, rl, &client);
}

bool rate_guard_key(h2o_req_t *req, rate_limit_t *rl, const char *key)
{
    return rate_limit_off(rl) || take(req, rl, key, strlen(key));
}
