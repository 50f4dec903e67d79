/* guard/shared_limit — see shared_limit.h. */
#include "guard/shared_limit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "crypto/crypto.h"
#include "metrics/metrics.h"

/* rate_limit.c's bucket: level in 1/60000 token, n units per ms, full = n * 60000. */
const char SHARED_LIMIT_SCRIPT[] =
    "local n = tonumber(ARGV[1])\n"
    "local unit = 60000\n"
    "local full = n * unit\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local b = redis.call('HMGET', KEYS[1], 'l', 'a')\n"
    "local level, at = full, now\n"
    "if b[1] and b[2] then\n"
    "  level = math.min(tonumber(b[1]), full)\n"
    "  at = tonumber(b[2])\n"
    "  if now > at then\n"
    "    if now - at >= unit then level = full else level = math.min(full, level + (now - at) * n) end\n"
    "    at = now\n"
    "  end\n"
    "end\n"
    "local wait = 0\n"
    "if level >= unit then\n"
    "  level = level - unit\n"
    "else\n"
    "  local ms = math.floor((unit - level + n - 1) / n)\n"
    "  wait = math.max(1, math.floor((ms + 999) / 1000))\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'l', string.format('%d', level), 'a', string.format('%d', at))\n"
    "redis.call('PEXPIRE', KEYS[1], unit)\n"
    "return wait\n";

#define NAME_MAX_LEN 24
#define KEY_PREFIX   "meetoa:rl:"

struct shared_limit {
    char name[NAME_MAX_LEN + 1];
    unsigned per_minute;
    rate_limit_t *local;
    redis_client_t *redis;
    redis_script_t script;
    uint8_t key_key[32];
    metrics_family_t *checks; /* meetoa_redis_limit_checks_total{answered_by} */
};

enum { BY_REDIS, BY_PROCESS };
static const char *const ANSWERED_BY[] = {"redis", "process"};

void shared_limit_derive_key(const uint8_t data_key[32], uint8_t key_key[32])
{
    static const char label[] = "meetoa redis key v1";
    crypto_hmac_sha256(data_key, 32, label, sizeof label - 1, key_key);
}

shared_limit_t *shared_limit_new(const char *name, unsigned per_minute, redis_client_t *redis,
                                 const uint8_t key_key[32])
{
    shared_limit_t *limit = calloc(1, sizeof(*limit));
    if (limit == NULL || (limit->local = rate_limit_new(per_minute)) == NULL) {
        free(limit);
        return NULL;
    }
    snprintf(limit->name, sizeof limit->name, "%s", name);
    limit->per_minute = per_minute;
    limit->redis = redis;
    memcpy(limit->key_key, key_key, 32);
    redis_script_init(&limit->script, SHARED_LIMIT_SCRIPT);
    if (redis != NULL) {
        static const metrics_label_t by = {"answered_by", ANSWERED_BY, 2};
        limit->checks = metrics_counter("meetoa_redis_limit_checks_total",
                                        "Rate-limit checks with oa.redis.url: answered by Redis (shared), or by this "
                                        "process because Redis was down, slow or failed",
                                        &by, 1);
    }
    return limit;
}

void shared_limit_free(shared_limit_t *limit)
{
    if (limit == NULL)
        return;
    rate_limit_free(limit->local);
    explicit_bzero(limit, sizeof(*limit));
    free(limit);
}

bool shared_limit_off(const shared_limit_t *limit)
{
    return limit == NULL || limit->per_minute == 0;
}

bool shared_limit_remote(const shared_limit_t *limit)
{
    return !shared_limit_off(limit) && redis_client_up(limit->redis);
}

const char *shared_limit_name(const shared_limit_t *limit)
{
    return limit != NULL ? limit->name : "";
}

rate_limit_t *shared_limit_local(shared_limit_t *limit)
{
    return limit != NULL ? limit->local : NULL;
}

static bool take_local(shared_limit_t *limit, const char *key, size_t len, unsigned *retry_after_s)
{
    if (limit != NULL && limit->redis != NULL && limit->per_minute > 0) /* configured, but not answering */
        metrics_inc(limit->checks, metrics_series(limit->checks, BY_PROCESS, 0));
    return rate_limit_take(limit != NULL ? limit->local : NULL, key, len, clock_monotonic_ms(), retry_after_s);
}

bool shared_limit_take_now(shared_limit_t *limit, const char *key, size_t len, unsigned *retry_after_s)
{
    return take_local(limit, key, len, retry_after_s);
}

static void answer_local(shared_check_t *check)
{
    check->shared = false;
    check->allowed = take_local(check->limit, check->key, check->key_len, &check->retry_after_s);
}

static void on_redis(loop_msg_t *msg)
{
    shared_check_t *check = (shared_check_t *)msg;
    if (check->op.status == REDIS_OP_OK && check->op.result >= 0) {
        check->shared = true;
        check->allowed = check->op.result == 0;
        check->retry_after_s = (unsigned)(check->op.result > 3600 ? 3600 : check->op.result);
        metrics_inc(check->limit->checks, metrics_series(check->limit->checks, BY_REDIS, 0));
    } else {
        answer_local(check); /* Redis failed or timed out: this process decides */
    }
    check->on_done(check);
}

bool shared_limit_take(shared_limit_t *limit, const char *key, size_t len, shared_check_t *check,
                       h2o_multithread_receiver_t *reply_to, shared_check_cb on_done)
{
    if (len > RATE_LIMIT_KEY_MAX)
        len = RATE_LIMIT_KEY_MAX;
    memset(check, 0, sizeof(*check));
    check->limit = limit;
    check->on_done = on_done;
    memcpy(check->key, key, len);
    check->key_len = len;
    if (!shared_limit_remote(limit)) {
        answer_local(check);
        return true;
    }
    uint8_t mac[32];
    char hex[65];
    crypto_hmac_sha256(limit->key_key, 32, key, len, mac);
    crypto_hex(mac, 16, hex);
    redis_op_t *op = &check->op;
    op->script = &limit->script;
    op->key_len = (size_t)snprintf(op->key, sizeof op->key, KEY_PREFIX "%s:%s", limit->name, hex);
    op->args[0] = limit->per_minute;
    op->nargs = 1;
    loop_msg_init(&op->msg, reply_to, on_redis);
    redis_client_eval(limit->redis, op);
    return false;
}
