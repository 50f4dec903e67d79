/*
 * auth/session_bus — session ends reach the session cache of every instance at once, through
 * Redis publish/subscribe (oa.redis.url; redis/redis_client.h), instead of within
 * oa.token.cache-seconds.
 *
 * Whoever ends sessions (logout, logout_session, logout_all, account deletion, a ban or a
 * closing by `meetoa user status|delete`) first applies it to the database and its own cache,
 * then publishes one message on the channel SESSION_BUS_CHANNEL; every instance's subscriber
 * removes the named entries from its cache (session_cache_remove / session_cache_remove_user,
 * which also stop a token check that read the database before from putting the entry back),
 * and the next request with such a token reads the database again. Messages (ASCII, one line):
 *   "s HEX64 ORIGIN"   one session: the token hash (HMAC of the token, the key of the cache and
 *                      of wx_session; never the token), of a row that is deleted already
 *   "u ID ORIGIN"      every session of user ID and the user's cached profile and status
 * ORIGIN is the publishing process's random id (16 hex; "cli" for the command line): a process
 * skips its own messages. A message says only "read the database again": a forged one can make
 * an instance re-read, never accept a token. Without Redis, or while it is down, publishing
 * does nothing and the other instances see the end within oa.token.cache-seconds; after every
 * (re)subscription the cache is emptied, so an end published while this instance was not
 * listening is not missed for longer than the outage.
 *
 * Thread-safety: everything from any thread (the cache and the client are thread-safe).
 */
#ifndef MEETOA_AUTH_SESSION_BUS_H
#define MEETOA_AUTH_SESSION_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/session_cache.h"

#define SESSION_BUS_CHANNEL     "meetoa:sessions"
#define SESSION_BUS_ORIGIN_SIZE 17 /* 16 hex + NUL */
#define SESSION_BUS_MSG_SIZE    96

struct app;

/* The messages; return their length. */
size_t session_bus_format_session(const uint8_t token_hash[32], const char *origin, char out[SESSION_BUS_MSG_SIZE]);
size_t session_bus_format_user(int64_t user_id, const char *origin, char out[SESSION_BUS_MSG_SIZE]);
/* Applies msg to cache unless its origin is self. False for a message that is not one of the
 * forms above (ignored). */
bool session_bus_apply(session_cache_t *cache, const char *self, const char *msg, size_t len);

/* Publishes that a session ended / every session of a user ended (no-op without Redis). */
void session_bus_session_ended(const struct app *app, const uint8_t token_hash[32]);
void session_bus_user_ended(const struct app *app, int64_t user_id);

#endif
