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
 * A lookup that read the database before a removal of this process (a logout, the end of every
 * session of a user) must not put the session it read back after the removal: every removal
 * counts in session_cache_removals(), and session_cache_put_unless_removed() puts nothing when
 * the count moved since the read began (a removal anywhere: the next lookup just reads again).
 *
 * A cached user keeps what authenticated calls use: id, openid, unionid, nickname, avatar,
 * mobile, gender, user_level, status and deleted. A lookup fills those fields of *user_out and
 * leaves username and last_login_ip "" and the three times 0.
 *
 * The token memo. A token's hash (auth/token.h: HMAC-SHA256, two SHA-256 compressions) was most
 * of the cost of a cached check, so the cache also remembers, for the tokens it has recently
 * seen, their hash and data key, under the token's tag: two SipHash-2-4 of the token under two
 * independent 128-bit keys drawn from the OS random source when the cache is made (a 128-bit
 * PRF output; a tag means nothing outside this process and nobody can compute one without the
 * keys, so presenting another token with a known token's tag is a 2^-128 guess). A token's hash
 * never changes, so an entry needs no confirmation by the database: it is only remembered after
 * the token's hash was computed and found a session (in the cache or the database), forgotten
 * when the database no longer knows the session, and dropped by the sweep when unused for
 * max(max_age, SESSION_CACHE_MEMO_SECONDS).
 *
 * Single-flight reads. When many requests for one token find its entry stale (or missing) at
 * once, one of them reads the database and the others wait for that read and are answered from
 * it: session_cache_flight_enter() either registers the caller's read (the caller is its leader,
 * reads, and session_cache_flight_end() hands it the waiters) or queues the caller's waiter on a
 * read of the same token already under way. A read is joined only while it is as fresh as a
 * cached entry would have to be: begun less than max_age seconds ago (so max_age 0 never joins:
 * every check reads), and with no removal (session_cache_removals) since it began: a request
 * that comes after a logout of this process never gets the answer of a read from before it.
 *
 * Counting (meetoa_session_cache_lookups_total, docs/metrics.md): session_cache_lookup() counts
 * its own answer; session_cache_probe() counts nothing, for a caller that counts one outcome per
 * token check with session_cache_note() (a stale entry whose check joined another's read counts
 * as "joined", not "revalidate": revalidate counts the database reads of stale entries).
 *
 * All functions are thread-safe. Strings are copied in and out; nothing returned points
 * into the cache.
 */
#ifndef MEETOA_AUTH_SESSION_CACHE_H
#define MEETOA_AUTH_SESSION_CACHE_H

#include <stdbool.h>
#include <stddef.h>
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

/* Caches (or refreshes) a session and its user as confirmed by the database at `now`; a session
 * with renewed_at != 0 is cached as renewed (session_cache_hit_t). */
void session_cache_put(session_cache_t *cache, const store_session_t *session, const store_user_t *user, int64_t now);
/* How many removals (session_cache_remove, session_cache_remove_user) this cache has seen. */
uint64_t session_cache_removals(session_cache_t *cache);
/* session_cache_put() unless a removal happened since session_cache_removals() answered `since`;
 * true when it put the session. */
bool session_cache_put_unless_removed(session_cache_t *cache, const store_session_t *session, const store_user_t *user,
                                      int64_t now, uint64_t since);
/* Replaces the cached user (after a profile change), keeping its confirmation time. No-op when not cached. */
void session_cache_update_user(session_cache_t *cache, const store_user_t *user);
/* What a HIT knows of the session besides its user. */
typedef struct session_cache_hit {
    int64_t expires_at;
    bool renewed; /* a renewal replaced it: it lives out a short grace and is not renewed again */
} session_cache_hit_t;
/* Looks a session up; on HIT fills *user_out and *hit (when not NULL). */
session_cache_rc session_cache_lookup(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                      store_user_t *user_out, session_cache_hit_t *hit);
/* session_cache_lookup() that counts nothing; on a MISS, *stale (when not NULL) says whether the
 * session was cached but confirmed max_age ago or earlier (or its user was). */
session_cache_rc session_cache_probe(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                     store_user_t *user_out, session_cache_hit_t *hit, bool *stale);
/* The outcomes a token check is counted under (the `result` label). */
typedef enum session_cache_outcome {
    SESSION_CACHE_COUNT_HIT,
    SESSION_CACHE_COUNT_MISS,       /* not cached: the database is read */
    SESSION_CACHE_COUNT_REVALIDATE, /* cached too long ago: the database is read again */
    SESSION_CACHE_COUNT_EXPIRED,
    SESSION_CACHE_COUNT_JOINED, /* not cached or stale: answered by a read of the same token under way */
} session_cache_outcome;
/* Counts one token check under outcome. */
void session_cache_note(session_cache_outcome outcome);
/* session_cache_lookup() that gives only the expiry (*expires_at when not NULL). */
session_cache_rc session_cache_get(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                   store_user_t *user_out, int64_t *expires_at);
/* Marks a cached session renewed, its expiry cut to expires_at (never lengthened). No-op when not cached. */
void session_cache_mark_renewed(session_cache_t *cache, const uint8_t token_hash[32], int64_t expires_at);
/* Forgets a session (logout). */
void session_cache_remove(session_cache_t *cache, const uint8_t token_hash[32]);
/* Forgets every session of a user, and the user (logout everywhere, account deletion). Walks the
 * whole cache: for rare events only. */
void session_cache_remove_user(session_cache_t *cache, int64_t user_id);
/*
 * Drops every entry that can no longer answer a lookup: sessions past their expiry, and
 * sessions and users confirmed max_age seconds ago or earlier (a lookup would re-read them
 * anyway). Keeps the cache to what was used in the last max_age seconds. Returns the number
 * of sessions dropped.
 */
long session_cache_sweep(session_cache_t *cache, int64_t now, int max_age);
/* Number of cached sessions (for logs and tests). */
long session_cache_count(session_cache_t *cache);

/* ---- the token memo (see above) ---- */
#define SESSION_CACHE_TAG_SIZE     16
#define SESSION_CACHE_MEMO_SECONDS 600 /* an unused entry lives at least this long */
/* The tag of token[0..len) under this cache's keys. */
void session_cache_tag(const session_cache_t *cache, const char *token, size_t len,
                       uint8_t tag[SESSION_CACHE_TAG_SIZE]);
/* The hash and data key index remembered for tag (true), marked used at now; false when none. */
bool session_cache_recall(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE], int64_t now,
                          uint8_t hash[32], int *key_index);
/* Remembers that the token of tag has this hash under data key key_index. */
void session_cache_remember(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE], const uint8_t hash[32],
                            int key_index, int64_t now);
/* Forgets tag's entry (its session is gone). */
void session_cache_forget(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE]);
/* Number of memo entries (for tests). */
long session_cache_memo_count(session_cache_t *cache);

/* ---- single-flight reads (see above) ---- */
typedef struct session_cache_waiter {
    struct session_cache_waiter *next;
} session_cache_waiter_t;
/* A read under way; the leader owns the memory (usually in its job) until flight_end(). */
typedef struct session_cache_flight {
    struct session_cache_flight *next; /* the cache's */
    uint8_t tag[SESSION_CACHE_TAG_SIZE];
    int64_t started_at;
    uint64_t removals;               /* session_cache_removals() when it began */
    session_cache_waiter_t *waiters; /* the cache's until flight_end() */
} session_cache_flight_t;
/*
 * For a token (its tag) the cache could not answer at `now`: when a read of it is under way, begun
 * less than max_age seconds ago and with no removal since, queues waiter on it and returns true;
 * otherwise registers *flight as the token's read, begun at now with session_cache_removals() at
 * `since` (taken before the cache was asked; a removal since then makes the flight unjoinable),
 * and returns false: the caller reads the database, then calls session_cache_flight_end().
 */
bool session_cache_flight_enter(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE], int64_t now,
                                int max_age, uint64_t since, session_cache_flight_t *flight,
                                session_cache_waiter_t *waiter);
/* Ends the read of *flight (nobody joins it any more) and returns its waiters, in arrival order. */
session_cache_waiter_t *session_cache_flight_end(session_cache_t *cache, session_cache_flight_t *flight);
/* Number of reads under way (for tests). */
long session_cache_flight_count(session_cache_t *cache);

#endif
