/*
 * auth/session_cache — three sharded chained hash tables (see session_cache.h).
 *
 * Sessions are small fixed entries keyed by the 32-byte token hash (already uniformly
 * random, so its first 8 bytes are the hash value). Users are keyed by id and hold only what
 * authenticated calls use (id, status, gender, level, and openid, unionid, nickname, avatar and
 * mobile packed in one allocation with the entry: about 250 bytes for a typical user, where a
 * whole store_user_t was 1.8 KB); several sessions of one user share its entry. The token memo
 * is keyed by a token's 128-bit tag and holds its hash. A shard's bucket array doubles when it
 * holds more entries than buckets.
 *
 * Token hashes and tags are compared with crypto_equal (constant time, checked by tests/ct).
 * The bucket is chosen by the hash's (the tag's) first bytes, which is no leak worth closing:
 * the hash is an HMAC under a server key and the tag a PRF under a random key of this process,
 * so a caller can neither choose nor compute the hash or tag of a token it presents.
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

/* The user fields of store_user_t that the cache keeps (session_cache.h); the strings follow the
 * entry, each NUL-terminated, in this order. */
enum { U_OPENID, U_UNIONID, U_NICKNAME, U_AVATAR, U_MOBILE, U_STRINGS };

typedef struct user_entry {
    struct user_entry *next;
    int64_t id;
    int64_t confirmed_at;
    int32_t gender, user_level, status;
    bool deleted;
    uint16_t len[U_STRINGS]; /* each string's length without its NUL */
    char text[];             /* the strings */
} user_entry_t;

typedef struct memo_entry {
    struct memo_entry *next;
    uint8_t tag[SESSION_CACHE_TAG_SIZE];
    uint8_t hash[32];
    int64_t used_at;
    int key_index;
} memo_entry_t;

typedef struct shard {
    pthread_mutex_t lock;
    void **buckets;  /* session_entry_t* or user_entry_t* chains */
    size_t nbuckets; /* power of two */
    size_t count;
} shard_t;

typedef struct flight_shard {
    pthread_mutex_t lock;
    session_cache_flight_t *head; /* newest first */
    long count;
} flight_shard_t;

struct session_cache {
    shard_t sessions[SHARDS];
    shard_t users[SHARDS];
    shard_t memo[SHARDS];
    flight_shard_t flights[SHARDS];
    uint8_t tag_keys[2][16];   /* two independent SipHash keys, random per cache */
    _Atomic uint64_t removals; /* bumped before every removal takes its locks */
};

static uint64_t session_key(const uint8_t *hash) /* its first 8 bytes */
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
    return user_key(((const user_entry_t *)e)->id);
}

static uint64_t memo_key_of(const chained_t *e)
{
    return session_key(((const memo_entry_t *)e)->tag);
}

/* Takes *slot out of its chain and frees it. */
static void unlink_chained(shard_t *shard, chained_t **slot)
{
    chained_t *e = *slot;
    *slot = e->next;
    shard->count--;
    free(e);
}

/* Drops, under the shard's lock, the entries for which drop(entry, arg) holds; returns how many. */
static long drop_where(shard_t *shard, bool (*drop)(const chained_t *e, const void *arg), const void *arg)
{
    long dropped = 0;
    pthread_mutex_lock(&shard->lock);
    for (size_t b = 0; b < shard->nbuckets; b++) {
        chained_t **slot = (chained_t **)&shard->buckets[b];
        while (*slot != NULL) {
            if (drop(*slot, arg)) {
                unlink_chained(shard, slot);
                dropped++;
            } else {
                slot = &(*slot)->next;
            }
        }
    }
    pthread_mutex_unlock(&shard->lock);
    return dropped;
}

/* The entries of a table's shards. */
static long count_of(shard_t shards[SHARDS])
{
    long n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&shards[i].lock);
        n += (long)shards[i].count;
        pthread_mutex_unlock(&shards[i].lock);
    }
    return n;
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
    if (!crypto_random(cache->tag_keys, sizeof(cache->tag_keys))) {
        free(cache);
        return NULL;
    }
    for (int i = 0; i < SHARDS; i++) {
        shard_init(&cache->sessions[i]);
        shard_init(&cache->users[i]);
        shard_init(&cache->memo[i]);
        pthread_mutex_init(&cache->flights[i].lock, NULL);
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
        shard_free(&cache->memo[i]);
        pthread_mutex_destroy(&cache->flights[i].lock); /* reads under way are their leaders' */
    }
    explicit_bzero(cache->tag_keys, sizeof(cache->tag_keys));
    free(cache);
}

/* ---- users ---- */

static user_entry_t **user_slot(shard_t *shard, int64_t id)
{
    user_entry_t **slot = (user_entry_t **)&shard->buckets[(user_key(id) / SHARDS) & (shard->nbuckets - 1)];
    while (*slot != NULL && (*slot)->id != id)
        slot = &(*slot)->next;
    return slot;
}

/* A new entry holding user's kept fields; NULL when out of memory. */
static user_entry_t *user_entry_new(const store_user_t *user, int64_t confirmed_at)
{
    const char *text[U_STRINGS] = {user->openid, user->unionid, user->nickname, user->avatar, user->mobile};
    const size_t cap[U_STRINGS] = {sizeof(user->openid), sizeof(user->unionid), sizeof(user->nickname),
                                   sizeof(user->avatar), sizeof(user->mobile)};
    size_t len[U_STRINGS], total = 0;
    for (int i = 0; i < U_STRINGS; i++)
        total += (len[i] = strnlen(text[i], cap[i] - 1)) + 1;
    user_entry_t *e = malloc(sizeof(*e) + total);
    if (e == NULL)
        return NULL;
    *e = (user_entry_t){.id = user->id,
                        .confirmed_at = confirmed_at,
                        .gender = user->gender,
                        .user_level = user->user_level,
                        .status = user->status,
                        .deleted = user->deleted};
    char *p = e->text;
    for (int i = 0; i < U_STRINGS; i++) {
        e->len[i] = (uint16_t)len[i];
        memcpy(p, text[i], len[i]);
        p[len[i]] = '\0';
        p += len[i] + 1;
    }
    return e;
}

/* Fills *out from e: the kept fields, the others empty (session_cache.h). */
static void user_entry_out(const user_entry_t *e, store_user_t *out)
{
    char *dest[U_STRINGS] = {out->openid, out->unionid, out->nickname, out->avatar, out->mobile};
    out->id = e->id;
    out->gender = e->gender;
    out->user_level = e->user_level;
    out->status = e->status;
    out->deleted = e->deleted;
    out->username[0] = '\0';
    out->last_login_ip[0] = '\0';
    out->add_time = out->update_time = out->last_login_time = 0;
    const char *p = e->text;
    for (int i = 0; i < U_STRINGS; i++) {
        memcpy(dest[i], p, (size_t)e->len[i] + 1);
        p += e->len[i] + 1;
    }
}

/* Puts a copy of user in place of its entry, or as a new one confirmed at `now`; with keep_time,
 * the old entry's confirmation time stays and nothing is put when there is no entry. */
static void store_user_entry(session_cache_t *cache, const store_user_t *user, bool keep_time, int64_t now)
{
    shard_t *shard = &cache->users[user_key(user->id) % SHARDS];
    pthread_mutex_lock(&shard->lock);
    user_entry_t **slot = user_slot(shard, user->id);
    user_entry_t *old = *slot;
    user_entry_t *e =
        old != NULL || !keep_time ? user_entry_new(user, old != NULL && keep_time ? old->confirmed_at : now) : NULL;
    if (e != NULL && old != NULL) { /* in the old one's place */
        e->next = old->next;
        *slot = e;
        free(old);
    } else if (e != NULL) {
        *slot = e;
        if (++shard->count > shard->nbuckets)
            shard_grow(shard, user_key_of);
    }
    pthread_mutex_unlock(&shard->lock);
}

static void put_user(session_cache_t *cache, const store_user_t *user, int64_t now)
{
    store_user_entry(cache, user, false, now);
}

void session_cache_update_user(session_cache_t *cache, const store_user_t *user)
{
    store_user_entry(cache, user, true, 0);
}

/* Copies the user out when it was confirmed within max_age. */
static bool get_user(session_cache_t *cache, int64_t id, int64_t now, int max_age, store_user_t *out)
{
    shard_t *shard = &cache->users[user_key(id) % SHARDS];
    bool fresh = false;
    pthread_mutex_lock(&shard->lock);
    user_entry_t *e = *user_slot(shard, id);
    if (e != NULL && now - e->confirmed_at < max_age) {
        user_entry_out(e, out);
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

/* ---- the token memo ---- */

void session_cache_tag(const session_cache_t *cache, const char *token, size_t len, uint8_t tag[SESSION_CACHE_TAG_SIZE])
{
    uint64_t a = crypto_siphash24(cache->tag_keys[0], token, len);
    uint64_t b = crypto_siphash24(cache->tag_keys[1], token, len);
    memcpy(tag, &a, 8);
    memcpy(tag + 8, &b, 8);
}

static shard_t *memo_shard(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE])
{
    return &cache->memo[session_key(tag) % SHARDS];
}

static memo_entry_t **memo_slot(shard_t *shard, const uint8_t tag[SESSION_CACHE_TAG_SIZE])
{
    memo_entry_t **slot = (memo_entry_t **)&shard->buckets[(session_key(tag) / SHARDS) & (shard->nbuckets - 1)];
    while (*slot != NULL && !crypto_equal((*slot)->tag, tag, SESSION_CACHE_TAG_SIZE))
        slot = &(*slot)->next;
    return slot;
}

bool session_cache_recall(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE], int64_t now,
                          uint8_t hash[32], int *key_index)
{
    shard_t *shard = memo_shard(cache, tag);
    pthread_mutex_lock(&shard->lock);
    memo_entry_t *e = *memo_slot(shard, tag);
    if (e != NULL) {
        memcpy(hash, e->hash, 32);
        *key_index = e->key_index;
        e->used_at = now;
    }
    pthread_mutex_unlock(&shard->lock);
    return e != NULL;
}

void session_cache_remember(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE], const uint8_t hash[32],
                            int key_index, int64_t now)
{
    shard_t *shard = memo_shard(cache, tag);
    pthread_mutex_lock(&shard->lock);
    memo_entry_t **slot = memo_slot(shard, tag);
    if (*slot == NULL) {
        memo_entry_t *e = calloc(1, sizeof(*e));
        if (e != NULL) {
            memcpy(e->tag, tag, SESSION_CACHE_TAG_SIZE);
            *slot = e;
            if (++shard->count > shard->nbuckets)
                shard_grow(shard, memo_key_of);
            slot = memo_slot(shard, tag);
        }
    }
    if (*slot != NULL) {
        memcpy((*slot)->hash, hash, 32);
        (*slot)->key_index = key_index;
        (*slot)->used_at = now;
    }
    pthread_mutex_unlock(&shard->lock);
}

void session_cache_forget(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE])
{
    shard_t *shard = memo_shard(cache, tag);
    pthread_mutex_lock(&shard->lock);
    memo_entry_t **slot = memo_slot(shard, tag);
    if (*slot != NULL)
        unlink_chained(shard, (chained_t **)slot);
    pthread_mutex_unlock(&shard->lock);
}

long session_cache_memo_count(session_cache_t *cache)
{
    return count_of(cache->memo);
}

/* ---- single-flight reads ---- */

static flight_shard_t *flight_shard(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE])
{
    return &cache->flights[session_key(tag) % SHARDS];
}

bool session_cache_flight_enter(session_cache_t *cache, const uint8_t tag[SESSION_CACHE_TAG_SIZE], int64_t now,
                                int max_age, uint64_t since, session_cache_flight_t *flight,
                                session_cache_waiter_t *waiter)
{
    flight_shard_t *shard = flight_shard(cache, tag);
    pthread_mutex_lock(&shard->lock);
    uint64_t removals = atomic_load(&cache->removals);
    session_cache_flight_t *f = shard->head;
    while (f != NULL && !crypto_equal(f->tag, tag, SESSION_CACHE_TAG_SIZE))
        f = f->next;
    /* the newest read of the token (a newer one is put in front of an unjoinable older one) */
    bool join = f != NULL && now - f->started_at < max_age && f->removals == removals;
    if (join) { /* at the end: arrival order */
        session_cache_waiter_t **w = &f->waiters;
        while (*w != NULL)
            w = &(*w)->next;
        waiter->next = NULL;
        *w = waiter;
    } else {
        memcpy(flight->tag, tag, SESSION_CACHE_TAG_SIZE);
        flight->started_at = now;
        flight->removals = since;
        flight->waiters = NULL;
        flight->next = shard->head;
        shard->head = flight;
        shard->count++;
    }
    pthread_mutex_unlock(&shard->lock);
    return join;
}

session_cache_waiter_t *session_cache_flight_end(session_cache_t *cache, session_cache_flight_t *flight)
{
    flight_shard_t *shard = flight_shard(cache, flight->tag);
    pthread_mutex_lock(&shard->lock);
    session_cache_flight_t **slot = &shard->head;
    while (*slot != NULL && *slot != flight)
        slot = &(*slot)->next;
    if (*slot != NULL) {
        *slot = flight->next;
        shard->count--;
    }
    session_cache_waiter_t *waiters = flight->waiters;
    flight->waiters = NULL;
    pthread_mutex_unlock(&shard->lock);
    return waiters;
}

long session_cache_flight_count(session_cache_t *cache)
{
    long n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&cache->flights[i].lock);
        n += cache->flights[i].count;
        pthread_mutex_unlock(&cache->flights[i].lock);
    }
    return n;
}

/* ---- metrics (docs/metrics.md) ---- */

static session_cache_rc lookup(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                               store_user_t *user_out, session_cache_hit_t *hit, bool *cached);

static metrics_family_t *_Atomic lookups; /* series: session_cache_outcome */

static double entries_of(void *cache)
{
    return (double)session_cache_count(cache);
}

/* The lookups counter, and the entries gauge of the first cache made (one per server). */
static void metrics_register(session_cache_t *cache)
{
    static const char *const results[] = {"hit", "miss", "revalidate", "expired", "joined"};
    metrics_label_t label = {"result", results, 5};
    atomic_store(&lookups, metrics_counter("meetoa_session_cache_lookups_total",
                                           "Token checks by the session cache's answer: hit, miss (not cached), "
                                           "revalidate (cached longer than oa.token.cache-seconds: the database is "
                                           "read again), expired, joined (not cached or stale, answered by a read "
                                           "of the same token already under way).",
                                           &label, 1));
    static atomic_flag entries_registered = ATOMIC_FLAG_INIT;
    if (!atomic_flag_test_and_set(&entries_registered))
        metrics_gauge_fn("meetoa_session_cache_entries", "Sessions held by the session cache.", entries_of, cache);
}

void session_cache_note(session_cache_outcome outcome)
{
    metrics_inc(atomic_load_explicit(&lookups, memory_order_relaxed), (size_t)outcome);
}

session_cache_rc session_cache_probe(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                     store_user_t *user_out, session_cache_hit_t *hit, bool *stale)
{
    bool cached = false;
    session_cache_rc rc = lookup(cache, token_hash, now, max_age, user_out, hit, &cached);
    if (stale != NULL)
        *stale = rc == SESSION_CACHE_MISS && cached;
    return rc;
}

session_cache_rc session_cache_lookup(session_cache_t *cache, const uint8_t token_hash[32], int64_t now, int max_age,
                                      store_user_t *user_out, session_cache_hit_t *hit)
{
    bool stale = false;
    session_cache_rc rc = session_cache_probe(cache, token_hash, now, max_age, user_out, hit, &stale);
    session_cache_note(rc == SESSION_CACHE_HIT       ? SESSION_CACHE_COUNT_HIT
                       : rc == SESSION_CACHE_EXPIRED ? SESSION_CACHE_COUNT_EXPIRED
                       : stale                       ? SESSION_CACHE_COUNT_REVALIDATE
                                                     : SESSION_CACHE_COUNT_MISS);
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
            unlink_chained(shard, (chained_t **)slot);
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
        unlink_chained(shard, (chained_t **)slot);
    pthread_mutex_unlock(&shard->lock);
}

static bool of_user(const chained_t *e, const void *arg)
{
    return ((const session_entry_t *)e)->user_id == *(const int64_t *)arg;
}

void session_cache_remove_user(session_cache_t *cache, int64_t user_id)
{
    atomic_fetch_add(&cache->removals, 1);
    for (int i = 0; i < SHARDS; i++)
        drop_where(&cache->sessions[i], of_user, &user_id);
    shard_t *shard = &cache->users[user_key(user_id) % SHARDS];
    pthread_mutex_lock(&shard->lock);
    user_entry_t **slot = user_slot(shard, user_id);
    if (*slot != NULL)
        unlink_chained(shard, (chained_t **)slot);
    pthread_mutex_unlock(&shard->lock);
}

typedef struct sweep_arg {
    int64_t now;
    int max_age;
} sweep_arg_t;

static bool cannot_answer(const chained_t *c, const void *arg)
{
    const session_entry_t *e = (const session_entry_t *)c;
    const sweep_arg_t *a = arg;
    return e->expires_at <= a->now || a->now - e->confirmed_at >= a->max_age;
}

static bool user_too_old(const chained_t *e, const void *arg)
{
    const sweep_arg_t *a = arg;
    return a->now - ((const user_entry_t *)e)->confirmed_at >= a->max_age;
}

static bool memo_unused(const chained_t *e, const void *arg)
{
    const sweep_arg_t *a = arg;
    int age = a->max_age > SESSION_CACHE_MEMO_SECONDS ? a->max_age : SESSION_CACHE_MEMO_SECONDS;
    return a->now - ((const memo_entry_t *)e)->used_at >= age;
}

long session_cache_sweep(session_cache_t *cache, int64_t now, int max_age)
{
    long dropped = 0;
    sweep_arg_t arg = {now, max_age};
    for (int i = 0; i < SHARDS; i++) {
        dropped += drop_where(&cache->sessions[i], cannot_answer, &arg);
        drop_where(&cache->users[i], user_too_old, &arg);
        drop_where(&cache->memo[i], memo_unused, &arg);
    }
    return dropped;
}

long session_cache_count(session_cache_t *cache)
{
    return count_of(cache->sessions);
}
