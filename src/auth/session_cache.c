/*
 * auth/session_cache — two sharded chained hash tables (see session_cache.h).
 *
 * Sessions are small fixed entries keyed by the 32-byte token hash (already uniformly
 * random, so its first 8 bytes are the hash value). Users are keyed by id and hold a
 * copy of store_user_t; several sessions of one user share its entry. A shard's bucket
 * array doubles when it holds more entries than buckets.
 *
 * Token hashes are compared with crypto_equal (constant time, checked by tests/ct). The
 * bucket is chosen by the hash's first bytes, which is no leak worth closing: the hash is an
 * HMAC under a server key, so a caller can neither choose nor compute the hash of a token it
 * presents.
 */
#include "auth/session_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "metrics/metrics.h"

static void metrics_register(session_cache_t *cache);

#define SHARDS 64

typedef struct session_entry {
    struct session_entry *next;
    uint8_t hash[32];
    int64_t user_id;
    int64_t expires_at;
    int64_t confirmed_at;
    bool renewed;
} session_entry_t;

typedef struct user_entry {
    struct user_entry *next;
    int64_t confirmed_at;
    store_user_t user;
} user_entry_t;

typedef struct shard {
    pthread_mutex_t lock;
    void **buckets;  /* session_entry_t* or user_entry_t* chains */
    size_t nbuckets; /* power of two */
    size_t count;
} shard_t;

struct session_cache {
    shard_t sessions[SHARDS];
    shard_t users[SHARDS];
    _Atomic uint64_t removals; /* bumped before every removal takes its locks */
};

static uint64_t session_key(const uint8_t hash[32])
{
    uint64_t k;
    memcpy(&k, hash, sizeof(k));
    return k;
}

static uint64_t user_key(int64_t id)
{
    uint64_t k = (uint64_t)id;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static void shard_init(shard_t *shard)
{
    pthread_mutex_init(&shard->lock, NULL);
    shard->nbuckets = 16;
    shard->buckets = calloc(shard->nbuckets, sizeof(void *));
}

/* Chains share the layout "next pointer first", so one grow routine serves both tables. */
typedef struct chained {
    struct chained *next;
} chained_t;

static void shard_grow(shard_t *shard, uint64_t (*key_of)(const chained_t *))
{
    size_t n = shard->nbuckets * 2;
    void **buckets = calloc(n, sizeof(void *));
    if (buckets == NULL)
        return; /* keep the longer chains */
    for (size_t i = 0; i < shard->nbuckets; i++) {
        chained_t *e = shard->buckets[i];
        while (e != NULL) {
            chained_t *next = e->next;
            size_t b = (key_of(e) / SHARDS) & (n - 1);
            e->next = buckets[b];
            buckets[b] = e;
            e = next;
        }
    }
    free(shard->buckets);
    shard->buckets = buckets;
    shard->nbuckets = n;
}

static uint64_t session_key_of(const chained_t *e)
{
    return session_key(((const session_entry_t *)e)->hash);
}

static uint64_t user_key_of(const chained_t *e)
{
    return user_key(((const user_entry_t *)e)->user.id);
}

static void shard_free(shard_t *shard)
{
    for (size_t i = 0; i < shard->nbuckets; i++) {
        chained_t *e = shard->buckets[i];
        while (e != NULL) {
            chained_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(shard->buckets);
    pthread_mutex_destroy(&shard->lock);
}

session_cache_t *session_cache_new(void)
{
    session_cache_t *cache = calloc(1, sizeof(*cache));
    if (cache == NULL)
        return NULL;
    atomic_init(&cache->removals, 0);
    for (int i = 0; i < SHARDS; i++) {
        shard_init(&cache->sessions[i]);
        shard_init(&cache->users[i]);
    }
    metrics_register(cache);
    return cache;
}

void session_cache_free(session_cache_t *cache)
{
    if (cache == NULL)
        return;
    for (int i = 0; i < SHARDS; i++) {
        shard_free(&cache->sessions[i]);
        shard_free(&cache->users[i]);
    }
    free(cache);
}

/* ---- users ---- */

static user_entry_t **user_slot(shard_t *shard, int64_t id)
{
    user_entry_t **slot = (user_entry_t **)&shard->buckets[(user_key(id) / SHARDS) & (shard->nbuckets - 1)];
    while (*slot != NULL && (*slot)->user.id != id)
        slot = &(*slot)->next;
    return slot;
}

static void put_user(session_cache_t *cache, const store_user_t *user, int64_t now)
{
    shard_t *shard = &cache->users[user_key(user->id) % SHARDS];
    pthread_mutex_lock(&shard->lock);
    user_entry_t **slot = user_slot(shard, user->id);
    if (*slot == NULL) {
        user_entry_t *e = calloc(1, sizeof(*e));
        if (e != NULL) {
            e->user.id = user->id; /* the key must be in place before a grow rehashes it */
            *slot = e;
            if (++shard->count > shard->nbuckets)
                shard_grow(shard, user_key_of);
            slot = user_slot(shard, user->id);
        }
    }
    if (*slot != NULL) {
        (*slot)->user = *user;
        (*slot)->confirmed_at = now;
    }
    pthread_mutex_unlock(&shard->lock);
}

void session_cache_update_user(session_cache_t *cache, const store_user_t *user)
{
    shard_t *shard = &cache->users[user_key(user->id) % SHARDS];
    pthread_mutex_lock(&shard->lock);
    user_entry_t *e = *user_slot(shard, user->id);
    if (e != NULL)
        e->user = *user;
    pthread_mutex_unlock(&shard->lock);
}

/* Copies the user out when it was confirmed within max_age. */
static bool get_user(session_cache_t *cache, int64_t id, int64_t now, int max_age, store_user_t *out)
{
    shard_t *shard = &cache->users[user_key(id) % SHARDS];
    bool fresh = false;
    pthread_mutex_lock(&shard->lock);
    user_entry_t *e = *user_slot(shard, id);
    if (e != NULL && now - e->confirmed_at < max_age) {
        *out = e->user;
        fresh = true;
    }
    pthread_mutex_unlock(&shard->lock);
    return fresh;
}

/* ---- sessions ---- */

static session_entry_t **session_slot(shard_t *shard, const uint8_t hash[32])
{
    session_entry_t **slot = (session_entry_t **)&shard->buckets[(session_key(hash) / SHARDS) & (shard->nbuckets - 1)];
    while (*slot != NULL && !crypto_equal((*slot)->hash, hash, 32))
        slot = &(*slot)->next;
    return slot;
}

static shard_t *session_shard(session_cache_t *cache, const uint8_t hash[32])
{
    return &cache->sessions[session_key(hash) % SHARDS];
}

uint64_t session_cache_removals(session_cache_t *cache)
{
    return atomic_load(&cache->removals);
}

/* Puts the session unless check is set and the removal count is no longer since (checked under
 * the shard's lock: a removal bumps the count before it takes the lock, so either this put sees
 * the new count or the removal finds the entry). */
static bool put_session(session_cache_t *cache, const store_session_t *session, const store_user_t *user, int64_t now,
                        bool check, uint64_t since)
{
    put_user(cache, user, now);
    shard_t *shard = session_shard(cache, session->token_hash);
    pthread_mutex_lock(&shard->lock);
    if (check && atomic_load(&cache->removals) != since) {
        pthread_mutex_unlock(&shard->lock);
        return false;
    }
    session_entry_t **slot = session_slot(shard, session->token_hash);
    if (*slot == NULL) {
        session_entry_t *e = calloc(1, sizeof(*e));
        if (e != NULL) {
            memcpy(e->hash, session->token_hash, 32);
            *slot = e;
            if (++shard->count > shard->nbuckets)
                shard_grow(shard, session_key_of);
            slot = session_slot(shard, session->token_hash);
        }
    }
    if (*slot != NULL) {
        (*slot)->user_id = session->user_id;
        (*slot)->expires_at = session->expires_at;
        (*slot)->confirmed_at = now;
        (*slot)->renewed = session->renewed_at != 0;
    }
    pthread_mutex_unlock(&shard->lock);
    return true;
}

void session_cache_put(session_cache_t *cache, const store_session_t *session, const store_user_t *user, int64_t now)
{
    put_session(cache, session, user, now, false, 0);
}

bool session_cache_put_unless_removed(session_cache_t *cache, const store_session_t *session, const store_user_t *user,
                                      int64_t now, uint64_t since)
{
    return put_session(cache, session, user, now, true, since);
}

static void unlink_session(shard_t *shard, session_entry_t **slot)
{
    session_entry_t *e = *slot;
    *slot = e->next;
    shard->count--;
    free(e);
}

/* ---- metrics (docs/metrics.md) ---- */

static session_cache_rc lookup(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                               store_user_t *user_out, session_cache_hit_t *hit, bool *cached);

enum { LOOKUP_HIT, LOOKUP_MISS, LOOKUP_REVALIDATE, LOOKUP_EXPIRED };
static metrics_family_t *_Atomic lookups;

static double entries_of(void *cache)
{
    return (double)session_cache_count(cache);
}

/* The lookups counter, and the entries gauge of the first cache made (one per server). */
static void metrics_register(session_cache_t *cache)
{
    static const char *const results[] = {"hit", "miss", "revalidate", "expired"};
    metrics_label_t label = {"result", results, 4};
    atomic_store(&lookups, metrics_counter("meetoa_session_cache_lookups_total",
                                           "Token checks by the session cache's answer: hit, miss (not cached), "
                                           "revalidate (cached longer than oa.token.cache-seconds: the database is "
                                           "read again), expired.",
                                           &label, 1));
    static atomic_flag entries_registered = ATOMIC_FLAG_INIT;
    if (!atomic_flag_test_and_set(&entries_registered))
        metrics_gauge_fn("meetoa_session_cache_entries", "Sessions held by the session cache.", entries_of, cache);
}

session_cache_rc session_cache_lookup(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                      store_user_t *user_out, session_cache_hit_t *hit)
{
    bool cached = false;
    session_cache_rc rc = lookup(cache, token_hash, now, max_age, user_out, hit, &cached);
    metrics_inc(atomic_load_explicit(&lookups, memory_order_relaxed), rc == SESSION_CACHE_HIT       ? LOOKUP_HIT
                                                                      : rc == SESSION_CACHE_EXPIRED ? LOOKUP_EXPIRED
                                                                      : cached                      ? LOOKUP_REVALIDATE
                                                                                                    : LOOKUP_MISS);
    return rc;
}

/* *cached: the session was there, not expired, but too old to trust (or its user was). */
static session_cache_rc lookup(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                               store_user_t *user_out, session_cache_hit_t *hit, bool *cached)
{
    shard_t *shard = session_shard(cache, token_hash);
    int64_t user_id = 0, expires = 0;
    bool renewed = false;
    session_cache_rc rc = SESSION_CACHE_MISS;
    pthread_mutex_lock(&shard->lock);
    session_entry_t **slot = session_slot(shard, token_hash);
    if (*slot != NULL) {
        *cached = true;
        if ((*slot)->expires_at <= now) {
            unlink_session(shard, slot);
            rc = SESSION_CACHE_EXPIRED;
        } else if (now - (*slot)->confirmed_at < max_age) {
            user_id = (*slot)->user_id;
            expires = (*slot)->expires_at;
            renewed = (*slot)->renewed;
            rc = SESSION_CACHE_HIT;
        }
    }
    pthread_mutex_unlock(&shard->lock);
    if (rc != SESSION_CACHE_HIT)
        return rc;
    if (!get_user(cache, user_id, now, max_age, user_out))
        return SESSION_CACHE_MISS;
    if (hit != NULL) {
        hit->expires_at = expires;
        hit->renewed = renewed;
    }
    return SESSION_CACHE_HIT;
}

session_cache_rc session_cache_get(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                   store_user_t *user_out, int64_t *expires_at)
{
    session_cache_hit_t hit;
    session_cache_rc rc = session_cache_lookup(cache, token_hash, now, max_age, user_out, &hit);
    if (rc == SESSION_CACHE_HIT && expires_at != NULL)
        *expires_at = hit.expires_at;
    return rc;
}

void session_cache_mark_renewed(session_cache_t *cache, const uint8_t token_hash[32], int64_t expires_at)
{
    shard_t *shard = session_shard(cache, token_hash);
    pthread_mutex_lock(&shard->lock);
    session_entry_t *e = *session_slot(shard, token_hash);
    if (e != NULL) {
        e->renewed = true;
        if (expires_at < e->expires_at)
            e->expires_at = expires_at;
    }
    pthread_mutex_unlock(&shard->lock);
}

void session_cache_remove(session_cache_t *cache, const uint8_t token_hash[32])
{
    atomic_fetch_add(&cache->removals, 1);
    shard_t *shard = session_shard(cache, token_hash);
    pthread_mutex_lock(&shard->lock);
    session_entry_t **slot = session_slot(shard, token_hash);
    if (*slot != NULL)
        unlink_session(shard, slot);
    pthread_mutex_unlock(&shard->lock);
}

/* Drops, under the shard's lock, the sessions for which drop(entry, arg) holds; returns how many. */
static long drop_sessions(shard_t *shard, bool (*drop)(const session_entry_t *e, const void *arg), const void *arg)
{
    long dropped = 0;
    pthread_mutex_lock(&shard->lock);
    for (size_t b = 0; b < shard->nbuckets; b++) {
        session_entry_t **slot = (session_entry_t **)&shard->buckets[b];
        while (*slot != NULL) {
            if (drop(*slot, arg)) {
                unlink_session(shard, slot);
                dropped++;
            } else {
                slot = &(*slot)->next;
            }
        }
    }
    pthread_mutex_unlock(&shard->lock);
    return dropped;
}

static void unlink_user(shard_t *shard, user_entry_t **slot)
{
    user_entry_t *e = *slot;
    *slot = e->next;
    shard->count--;
    free(e);
}

static bool of_user(const session_entry_t *e, const void *arg)
{
    return e->user_id == *(const int64_t *)arg;
}

void session_cache_remove_user(session_cache_t *cache, int64_t user_id)
{
    atomic_fetch_add(&cache->removals, 1);
    for (int i = 0; i < SHARDS; i++)
        drop_sessions(&cache->sessions[i], of_user, &user_id);
    shard_t *shard = &cache->users[user_key(user_id) % SHARDS];
    pthread_mutex_lock(&shard->lock);
    user_entry_t **slot = user_slot(shard, user_id);
    if (*slot != NULL)
        unlink_user(shard, slot);
    pthread_mutex_unlock(&shard->lock);
}

typedef struct sweep_arg {
    int64_t now;
    int max_age;
} sweep_arg_t;

static bool cannot_answer(const session_entry_t *e, const void *arg)
{
    const sweep_arg_t *a = arg;
    return e->expires_at <= a->now || a->now - e->confirmed_at >= a->max_age;
}

long session_cache_sweep(session_cache_t *cache, int64_t now, int max_age)
{
    long dropped = 0;
    sweep_arg_t arg = {now, max_age};
    for (int i = 0; i < SHARDS; i++) {
        dropped += drop_sessions(&cache->sessions[i], cannot_answer, &arg);

        shard_t *shard = &cache->users[i];
        pthread_mutex_lock(&shard->lock);
        for (size_t b = 0; b < shard->nbuckets; b++) {
            user_entry_t **slot = (user_entry_t **)&shard->buckets[b];
            while (*slot != NULL) {
                if (now - (*slot)->confirmed_at >= max_age)
                    unlink_user(shard, slot);
                else
                    slot = &(*slot)->next;
            }
        }
        pthread_mutex_unlock(&shard->lock);
    }
    return dropped;
}

long session_cache_count(session_cache_t *cache)
{
    long n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&cache->sessions[i].lock);
        n += (long)cache->sessions[i].count;
        pthread_mutex_unlock(&cache->sessions[i].lock);
    }
    return n;
}
