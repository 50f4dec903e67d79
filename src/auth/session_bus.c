/* auth/session_bus — see session_bus.h. */
#include "auth/session_bus.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "crypto/crypto.h"

size_t session_bus_format_session(const uint8_t token_hash[32], const char *origin, char out[SESSION_BUS_MSG_SIZE])
{
    char hex[65];
    crypto_hex(token_hash, 32, hex);
    return (size_t)snprintf(out, SESSION_BUS_MSG_SIZE, "s %s %s", hex, origin);
}

size_t session_bus_format_user(int64_t user_id, const char *origin, char out[SESSION_BUS_MSG_SIZE])
{
    return (size_t)snprintf(out, SESSION_BUS_MSG_SIZE, "u %" PRId64 " %s", user_id, origin);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The origin after the payload: 1..16 of [0-9a-z], to the end. */
static bool origin_ok(const char *p, const char *end)
{
    if (p >= end || end - p > 16)
        return false;
    for (; p < end; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')))
            return false;
    return true;
}

bool session_bus_apply(session_cache_t *cache, const char *self, const char *msg, size_t len)
{
    const char *end = msg + len;
    if (len < 4 || msg[1] != ' ')
        return false;
    if (msg[0] == 's') {
        uint8_t hash[32];
        if (len < 2 + 64 + 1 || msg[2 + 64] != ' ' || !origin_ok(msg + 2 + 64 + 1, end))
            return false;
        for (int i = 0; i < 32; i++) {
            int hi = hex_digit(msg[2 + 2 * i]), lo = hex_digit(msg[3 + 2 * i]);
            if (hi < 0 || lo < 0)
                return false;
            hash[i] = (uint8_t)(hi << 4 | lo);
        }
        const char *origin = msg + 2 + 64 + 1;
        if (strlen(self) != (size_t)(end - origin) || memcmp(origin, self, (size_t)(end - origin)) != 0)
            session_cache_remove(cache, hash);
        return true;
    }
    if (msg[0] == 'u') {
        const char *p = msg + 2;
        int64_t id = 0;
        int digits = 0;
        for (; p < end && *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
            id = id * 10 + (*p - '0');
        if (digits == 0 || p >= end || *p != ' ' || !origin_ok(p + 1, end))
            return false;
        const char *origin = p + 1;
        if (strlen(self) != (size_t)(end - origin) || memcmp(origin, self, (size_t)(end - origin)) != 0)
            session_cache_remove_user(cache, id);
        return true;
    }
    return false;
}

void session_bus_session_ended(const struct app *app, const uint8_t token_hash[32])
{
    if (app->redis == NULL)
        return;
    char msg[SESSION_BUS_MSG_SIZE];
    size_t len = session_bus_format_session(token_hash, app->redis_origin, msg);
    redis_client_publish(app->redis, SESSION_BUS_CHANNEL, msg, len);
}

void session_bus_user_ended(const struct app *app, int64_t user_id)
{
    if (app->redis == NULL)
        return;
    char msg[SESSION_BUS_MSG_SIZE];
    size_t len = session_bus_format_user(user_id, app->redis_origin, msg);
    redis_client_publish(app->redis, SESSION_BUS_CHANNEL, msg, len);
}
