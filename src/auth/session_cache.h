/*
 * auth/session_cache — the sessions and users that token checks are answered from,
 * without the database.
 *
 * Two tables shared by every loop thread, each split into shards with their own mutex:
 *   sessions: token hash -> user id, expiry, when last confirmed by the database;
 *   users:    user id    -> the profile and status that authenticated calls need.
 * An entry is trusted for max_age seconds after the database last confirmed it (the
 * login that created it, or a re-read); after that a lookup answers STALE and the caller
 * re-reads the database and puts the fresh rows back. So a logout or a ban made by
 * another process on the same database is seen within max_age seconds; this process's
 * own logouts and changes are applied to the cache at once.
 *
 * All functions are thread-safe. Strings are copied in and out; nothing returned points
 * into the cache.
 */
#ifndef MEETOA_AUTH_SESSION_CACHE_H
#define MEETOA_AUTH_SESSION_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

typedef struct session_cache session_cache_t;

typedef enum session_cache_rc {
    SESSION_CACHE_HIT = 0, /* session and user known and confirmed within max_age; *out filled */
    SESSION_CACHE_MISS,    /* not cached, or cached longer than max_age ago: ask the database */
    SESSION_CACHE_EXPIRED, /* the session's expiry has passed (the entry is dropped) */
} session_cache_rc;

session_cache_t *session_cache_new(void);
void session_cache_free(session_cache_t *cache);

/* Caches (or refreshes) a session and its user as confirmed by the database at `now`. */
void session_cache_put(session_cache_t *cache, const store_session_t *session, const store_user_t *user, int64_t now);
/* Replaces the cached user (after a profile change), keeping its confirmation time. No-op when not cached. */
void session_cache_update_user(session_cache_t *cache, const store_user_t *user);
/* Looks a session up; on HIT fills *user_out (and *expires_at when not NULL). */
session_cache_rc session_cache_get(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                   store_user_t *user_out, int64_t *expires_at);
/* Forgets a session (logout). */
void session_cache_remove(session_cache_t *cache, const uint8_t token_hash[32]);
/*
 * Drops every entry that can no longer answer a lookup: sessions past their expiry, and
 * sessions and users confirmed max_age seconds ago or earlier (a lookup would re-read them
 * anyway). Keeps the cache to what was used in the last max_age seconds. Returns the number
 * of sessions dropped.
 */
long session_cache_sweep(session_cache_t *cache, int64_t now, int max_age);
/* Number of cached sessions (for logs and tests). */
long session_cache_count(session_cache_t *cache);

#endif
