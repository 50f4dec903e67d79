/*
 * guard/rate_limit — sharded tables of token buckets (see rate_limit.h).
 *
 * A bucket's level is kept in units of 1/60000 token, so that a limiter of N per minute
 * refills exactly N units per millisecond and a token is UNIT units: no floating point, no
 * rounding drift. A bucket stores its level at the time `at`; reading it at a later time
 * adds the refill, capped at the capacity (N tokens). A minute without use fills any bucket.
 *
 * Each of the 16 shards (chosen by the top bits of the key's SipHash) is a chained hash table
 * whose buckets live in one dense array, chained by index: removal moves the last bucket into
 * the hole, and eviction can sample consecutive slots from a random start in O(1). The
 * arrays grow by doubling up to the shard's bound and are freed when a sweep empties them.
 */
#include "guard/rate_limit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define SHARD_BITS    4
#define SHARDS        (1u << SHARD_BITS)
#define MS_PER_MINUTE 60000
#define UNIT          ((int64_t)MS_PER_MINUTE) /* units per token */
#define EVICT_SAMPLE  8
#define MIN_HEADS     16
#define RESWEEP_MS    1000 /* a full shard drops its refilled buckets at most this often */

typedef struct bucket {
    uint64_t hash;
    int64_t level; /* units at `at` */
    int64_t at;    /* ms */
    int32_t next;  /* index of the next bucket of the chain, -1 at the end */
    uint8_t key_len;
    char key[RATE_LIMIT_KEY_MAX];
} bucket_t;

typedef struct shard {
    pthread_mutex_t lock;
    bucket_t *v; /* dense: v[0..n) */
    size_t n, cap;
    int32_t *heads; /* chain heads, nheads a power of two (0 before the first bucket) */
    size_t nheads;
    uint64_t rng;     /* xorshift state for the eviction sample */
    int64_t swept_at; /* last time the shard dropped its refilled buckets */
    bool swept;       /* swept_at is set */
} shard_t;

struct rate_limit {
    int64_t per_minute; /* units refilled per ms */
    int64_t full;       /* capacity in units */
    size_t shard_max;   /* buckets per shard */
    uint64_t sip[2];
    shard_t shards[SHARDS];
};

/* ---- SipHash-2-4 (Aumasson and Bernstein): a keyed hash that clients cannot aim at one chain ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13) ^ v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17) ^ v[2];
    v[2] = ROTL(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

static uint64_t siphash(const uint64_t k[2], const uint8_t *in, size_t len)
{
    uint64_t v[4] = {k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL, k[0] ^ 0x6c7967656e657261ULL,
                     k[1] ^ 0x7465646279746573ULL};
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = 0;
        for (int j = 7; j >= 0; j--)
            m = m << 8 | in[i + (size_t)j];
        sip_block(v, m);
    }
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t j = 0; i + j < len; j++)
        last |= (uint64_t)in[i + j] << (8 * j);
    sip_block(v, last);
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- buckets ---- */

/* The level of b at now (b unchanged). */
static int64_t level_at(const rate_limit_t *rl, const bucket_t *b, int64_t now)
{
    if (now <= b->at)
        return b->level;
    if (now - b->at >= MS_PER_MINUTE)
        return rl->full;
    int64_t level = b->level + (now - b->at) * rl->per_minute;
    return level < rl->full ? level : rl->full;
}

static bucket_t *shard_find(shard_t *s, uint64_t hash, const char *key, size_t len)
{
    if (s->nheads == 0)
        return NULL;
    for (int32_t i = s->heads[hash & (s->nheads - 1)]; i >= 0; i = s->v[i].next) {
        bucket_t *b = &s->v[i];
        if (b->hash == hash && b->key_len == len && memcmp(b->key, key, len) == 0)
            return b;
    }
    return NULL;
}

/* The link (a head or a next field) that points at bucket i. */
static int32_t *link_to(shard_t *s, size_t i)
{
    int32_t *p = &s->heads[s->v[i].hash & (s->nheads - 1)];
    while (*p != (int32_t)i)
        p = &s->v[*p].next;
    return p;
}

/* Removes bucket i; the last bucket moves into its slot. */
static void shard_remove(shard_t *s, size_t i)
{
    int32_t *p = link_to(s, i);
    *p = s->v[i].next;
    size_t last = s->n - 1;
    if (i != last) {
        *link_to(s, last) = (int32_t)i;
        s->v[i] = s->v[last];
    }
    s->n--;
}

static void shard_release(shard_t *s)
{
    free(s->v);
    free(s->heads);
    s->v = NULL;
    s->heads = NULL;
    s->n = s->cap = s->nheads = 0;
}

/* Drops the buckets that are full at now. */
static void shard_drop_refilled(const rate_limit_t *rl, shard_t *s, int64_t now)
{
    for (size_t i = s->n; i-- > 0;) /* from the end: what moves into slot i was already kept */
        if (level_at(rl, &s->v[i], now) >= rl->full)
            shard_remove(s, i);
    s->swept_at = now;
    s->swept = true;
    if (s->n == 0)
        shard_release(s);
}

static uint64_t shard_random(shard_t *s)
{
    uint64_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return s->rng = x;
}

/* The shard is at its bound: drop refilled buckets (at most once a RESWEEP_MS), else evict
 * the fullest of EVICT_SAMPLE consecutive buckets from a random start. */
static void shard_make_room(const rate_limit_t *rl, shard_t *s, int64_t now)
{
    if (!s->swept || now - s->swept_at >= RESWEEP_MS || now < s->swept_at) {
        shard_drop_refilled(rl, s, now);
        if (s->n < rl->shard_max)
            return;
    }
    size_t start = (size_t)(shard_random(s) % s->n), best = start;
    int64_t best_level = -1;
    for (size_t k = 0; k < EVICT_SAMPLE && k < s->n; k++) {
        size_t i = (start + k) % s->n;
        int64_t level = level_at(rl, &s->v[i], now);
        if (level > best_level) {
            best = i;
            best_level = level;
        }
    }
    shard_remove(s, best);
}

static bool shard_rehash(shard_t *s, size_t nheads)
{
    int32_t *heads = malloc(nheads * sizeof(*heads));
    if (heads == NULL)
        return false;
    for (size_t i = 0; i < nheads; i++)
        heads[i] = -1;
    for (size_t i = 0; i < s->n; i++) {
        int32_t *h = &heads[s->v[i].hash & (nheads - 1)];
        s->v[i].next = *h;
        *h = (int32_t)i;
    }
    free(s->heads);
    s->heads = heads;
    s->nheads = nheads;
    return true;
}

/* Room for one more bucket in the arrays. False when out of memory. */
static bool shard_reserve(const rate_limit_t *rl, shard_t *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : MIN_HEADS;
        if (cap > rl->shard_max)
            cap = rl->shard_max;
        bucket_t *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        s->v = v;
        s->cap = cap;
    }
    if (s->n >= s->nheads && !shard_rehash(s, s->nheads ? s->nheads * 2 : MIN_HEADS))
        return false;
    return true;
}

/* A new full bucket for key, making room first when the shard is at its bound. NULL when out of memory. */
static bucket_t *shard_add(const rate_limit_t *rl, shard_t *s, uint64_t hash, const char *key, size_t len, int64_t now)
{
    if (s->n >= rl->shard_max)
        shard_make_room(rl, s, now);
    if (!shard_reserve(rl, s))
        return NULL;
    bucket_t *b = &s->v[s->n];
    int32_t *head = &s->heads[hash & (s->nheads - 1)];
    *b = (bucket_t){.hash = hash, .level = rl->full, .at = now, .next = *head, .key_len = (uint8_t)len};
    memcpy(b->key, key, len);
    *head = (int32_t)s->n++;
    return b;
}

/* ---- public ---- */

rate_limit_t *rate_limit_new_bounded(unsigned per_minute, size_t max_buckets)
{
    rate_limit_t *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    uint64_t seeds[SHARDS];
    if (!crypto_random(rl->sip, sizeof(rl->sip)) || !crypto_random(seeds, sizeof(seeds))) {
        free(rl);
        return NULL;
    }
    rl->per_minute = per_minute;
    rl->full = (int64_t)per_minute * UNIT;
    rl->shard_max = max_buckets / SHARDS > 0 ? max_buckets / SHARDS : 1;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&rl->shards[i].lock, NULL);
        rl->shards[i].rng = seeds[i] | 1; /* xorshift needs a non-zero state */
    }
    return rl;
}

rate_limit_t *rate_limit_new(unsigned per_minute)
{
    return rate_limit_new_bounded(per_minute, RATE_LIMIT_MAX_BUCKETS);
}

void rate_limit_free(rate_limit_t *rl)
{
    if (rl == NULL)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        shard_release(&rl->shards[i]);
        pthread_mutex_destroy(&rl->shards[i].lock);
    }
    explicit_bzero(rl->sip, sizeof(rl->sip));
    free(rl);
}

bool rate_limit_off(const rate_limit_t *rl)
{
    return rl == NULL || rl->per_minute == 0;
}

bool rate_limit_take(rate_limit_t *rl, const char *key, size_t key_len, int64_t now_ms, unsigned *retry_after_s)
{
    if (retry_after_s != NULL)
        *retry_after_s = 0;
    if (rate_limit_off(rl))
        return true;
    if (key_len > RATE_LIMIT_KEY_MAX)
        key_len = RATE_LIMIT_KEY_MAX;
    uint64_t hash = siphash(rl->sip, (const uint8_t *)key, key_len);
    shard_t *s = &rl->shards[hash >> (64 - SHARD_BITS)];
    bool allowed = true;
    pthread_mutex_lock(&s->lock);
    bucket_t *b = shard_find(s, hash, key, key_len);
    if (b == NULL)
        b = shard_add(rl, s, hash, key, key_len, now_ms);
    if (b != NULL) { /* NULL: out of memory, allowed */
        int64_t level = level_at(rl, b, now_ms);
        if (now_ms > b->at)
            b->at = now_ms;
        allowed = level >= UNIT;
        b->level = allowed ? level - UNIT : level;
        if (!allowed && retry_after_s != NULL) {
            int64_t ms = (UNIT - level + rl->per_minute - 1) / rl->per_minute;
            int64_t secs = (ms + 999) / 1000;
            *retry_after_s = secs < 1 ? 1 : (unsigned)secs;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return allowed;
}

void rate_limit_sweep(rate_limit_t *rl, int64_t now_ms)
{
    if (rate_limit_off(rl))
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&rl->shards[i].lock);
        shard_drop_refilled(rl, &rl->shards[i], now_ms);
        pthread_mutex_unlock(&rl->shards[i].lock);
    }
}

size_t rate_limit_count(rate_limit_t *rl)
{
    size_t n = 0;
    if (rl == NULL)
        return 0;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&rl->shards[i].lock);
        n += rl->shards[i].n;
        pthread_mutex_unlock(&rl->shards[i].lock);
    }
    return n;
}
