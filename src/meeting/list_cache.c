/* meeting/list_cache — see list_cache.h. */
#include "meeting/list_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS  16
#define BUCKETS 1024 /* per shard; chains grow beyond */

typedef struct entry {
    list_cache_key_t key;
    int64_t gen, bound;
    uint64_t hash;
    struct entry *chain;         /* the bucket's next */
    struct entry *newer, *older; /* the shard's use order */
    size_t len;
    char text[]; /* len bytes and a NUL */
} entry_t;

/* A member's list generation as a worker read it (list_cache_note_gen). */
typedef struct gen_note {
    int64_t user_id, gen;
    uint64_t epoch;
    int64_t at_ms;
    struct gen_note *chain;
} gen_note_t;

#define GEN_BUCKETS 1024 /* per shard */
#define GEN_MAX     4096 /* notes per shard: 65,536 members in all; others take the worker's path */

typedef struct shard {
    pthread_mutex_t lock;
    entry_t *buckets[BUCKETS];
    gen_note_t *gens[GEN_BUCKETS];
    int ngens;
    entry_t *newest, *oldest;
    size_t bytes;
    long count;
} shard_t;

struct list_cache {
    size_t shard_max; /* bytes per shard */
    shard_t shards[SHARDS];
};

static uint64_t hash_of(const list_cache_key_t *k)
{
    /* splitmix64 over the key's fields */
    uint64_t h = (uint64_t)k->user_id * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)k->view + ((uint64_t)k->page << 8) + ((uint64_t)k->limit << 40);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static bool same_key(const list_cache_key_t *a, const list_cache_key_t *b)
{
    return a->user_id == b->user_id && a->view == b->view && a->page == b->page && a->limit == b->limit;
}

static size_t entry_bytes(size_t len)
{
    return sizeof(entry_t) + len + 1;
}

list_cache_t *list_cache_new(size_t max_bytes)
{
    list_cache_t *cache = calloc(1, sizeof *cache);
    if (cache == NULL)
        return NULL;
    cache->shard_max = max_bytes / SHARDS;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&cache->shards[i].lock, NULL);
    return cache;
}

void list_cache_free(list_cache_t *cache)
{
    if (cache == NULL)
        return;
    for (int i = 0; i < SHARDS; i++) {
        shard_t *s = &cache->shards[i];
        for (entry_t *e = s->newest, *next; e != NULL; e = next) {
            next = e->older;
            free(e);
        }
        for (int b = 0; b < GEN_BUCKETS; b++)
            for (gen_note_t *g = s->gens[b], *next; g != NULL; g = next) {
                next = g->chain;
                free(g);
            }
        pthread_mutex_destroy(&s->lock);
    }
    free(cache);
}

static void unlink_use(shard_t *s, entry_t *e)
{
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void link_newest(shard_t *s, entry_t *e)
{
    e->newer = NULL;
    e->older = s->newest;
    if (s->newest != NULL)
        s->newest->newer = e;
    s->newest = e;
    if (s->oldest == NULL)
        s->oldest = e;
}

/* The bucket slot that points at key's entry (or at the NULL ending its chain). */
static entry_t **slot_of(shard_t *s, uint64_t hash, const list_cache_key_t *key)
{
    entry_t **p = &s->buckets[(hash / SHARDS) % BUCKETS];
    while (*p != NULL && !((*p)->hash == hash && same_key(&(*p)->key, key)))
        p = &(*p)->chain;
    return p;
}

static void drop(shard_t *s, entry_t **slot)
{
    entry_t *e = *slot;
    *slot = e->chain;
    unlink_use(s, e);
    s->bytes -= entry_bytes(e->len);
    s->count--;
    free(e);
}

bool list_cache_get(list_cache_t *cache, const list_cache_key_t *key, int64_t gen, int64_t now, char **text,
                    size_t *len)
{
    *text = NULL;
    *len = 0;
    uint64_t hash = hash_of(key);
    shard_t *s = &cache->shards[hash % SHARDS];
    bool hit = false;
    pthread_mutex_lock(&s->lock);
    entry_t **slot = slot_of(s, hash, key);
    entry_t *e = *slot;
    if (e != NULL && (e->gen != gen || now >= e->bound)) {
        drop(s, slot);
    } else if (e != NULL && (*text = malloc(e->len + 1)) != NULL) {
        memcpy(*text, e->text, e->len + 1);
        *len = e->len;
        unlink_use(s, e);
        link_newest(s, e);
        hit = true;
    }
    pthread_mutex_unlock(&s->lock);
    return hit;
}

void list_cache_put(list_cache_t *cache, const list_cache_key_t *key, int64_t gen, int64_t bound, const char *text,
                    size_t len)
{
    size_t need = entry_bytes(len);
    if (need > cache->shard_max)
        return;
    entry_t *e = malloc(need); /* outside the lock */
    if (e == NULL)
        return;
    *e = (entry_t){.key = *key, .gen = gen, .bound = bound, .hash = hash_of(key), .len = len};
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    shard_t *s = &cache->shards[e->hash % SHARDS];
    pthread_mutex_lock(&s->lock);
    entry_t **slot = slot_of(s, e->hash, key);
    if (*slot != NULL)
        drop(s, slot);
    while (s->bytes + need > cache->shard_max && s->oldest != NULL)
        drop(s, slot_of(s, s->oldest->hash, &s->oldest->key));
    slot = slot_of(s, e->hash, key); /* the chain may have changed */
    e->chain = *slot;
    *slot = e;
    link_newest(s, e);
    s->bytes += need;
    s->count++;
    pthread_mutex_unlock(&s->lock);
}

/* ---- members' generations, for answers on the loop ---- */

static uint64_t user_hash(int64_t user_id)
{
    list_cache_key_t k = {.user_id = user_id};
    return hash_of(&k);
}

static gen_note_t **gen_slot(shard_t *s, uint64_t hash, int64_t user_id)
{
    gen_note_t **p = &s->gens[(hash / SHARDS) % GEN_BUCKETS];
    while (*p != NULL && (*p)->user_id != user_id)
        p = &(*p)->chain;
    return p;
}

void list_cache_note_gen(list_cache_t *cache, int64_t user_id, int64_t gen, uint64_t epoch, int64_t now_ms)
{
    uint64_t hash = user_hash(user_id);
    shard_t *s = &cache->shards[hash % SHARDS];
    gen_note_t *fresh = NULL;
    pthread_mutex_lock(&s->lock);
    gen_note_t **slot = gen_slot(s, hash, user_id);
    if (*slot == NULL && s->ngens < GEN_MAX && (fresh = malloc(sizeof *fresh)) != NULL) {
        *fresh = (gen_note_t){.user_id = user_id};
        *slot = fresh;
        s->ngens++;
    }
    gen_note_t *g = *slot;
    /* an older read (smaller epoch) never overwrites a newer one */
    if (g != NULL && (fresh != NULL || epoch >= g->epoch)) {
        g->gen = gen;
        g->epoch = epoch;
        g->at_ms = now_ms;
    }
    pthread_mutex_unlock(&s->lock);
}

bool list_cache_trusted_gen(list_cache_t *cache, int64_t user_id, uint64_t epoch, int64_t now_ms, int64_t max_age_ms,
                            int64_t *gen)
{
    uint64_t hash = user_hash(user_id);
    shard_t *s = &cache->shards[hash % SHARDS];
    bool ok = false;
    pthread_mutex_lock(&s->lock);
    gen_note_t *g = *gen_slot(s, hash, user_id);
    /* each member's trust ends somewhere in the last quarter of max_age_ms (by their hash): notes
     * made together (a busy minute, a warm-up) do not all send their members to the workers at
     * the same moment */
    int64_t limit = max_age_ms - (int64_t)((hash >> 8) % (uint64_t)(max_age_ms / 4 + 1));
    if (g != NULL && g->epoch == epoch && now_ms >= g->at_ms && now_ms - g->at_ms < limit) {
        *gen = g->gen;
        ok = true;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

long list_cache_count(list_cache_t *cache)
{
    long n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&cache->shards[i].lock);
        n += cache->shards[i].count;
        pthread_mutex_unlock(&cache->shards[i].lock);
    }
    return n;
}

size_t list_cache_bytes(list_cache_t *cache)
{
    size_t n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&cache->shards[i].lock);
        n += cache->shards[i].bytes;
        pthread_mutex_unlock(&cache->shards[i].lock);
    }
    return n;
}
