/*
 * meeting/list_cache — answered meeting-list pages, kept so that a member who opens the
 * 会议 tab again gets the page without its count, its query and its joins.
 *
 * An entry is the whole rendered answer of one (user, view, page, limit), stored with
 *   gen    the member's list generation it was built under (store_member_t.list_gen, read
 *          before the page's queries), and
 *   bound  the page's clock bound (store_meeting_page_t.clock_bound).
 * A lookup answers the entry only while the member's generation read now is the same and now
 * is before the bound. Every write that can change the page bumps that generation in its own
 * transaction, in whichever process makes it, so an answered page is the page the database
 * would give at the generation read: on one instance, or on many sharing one database. Only
 * the views whose clock changes a page bounds (upcoming, notice) are put here. The generation
 * is read by the worker, or trusted on the loop for a bounded time (list_cache_note_gen below).
 *
 * The cache holds at most max_bytes of entries (texts and bookkeeping); when a put would go
 * past it, the least recently used entries go. max_bytes 0 makes a cache that keeps nothing.
 * Thread-safe (the database workers share it): the table is split in shards, each with its
 * own mutex, least-recently-used list and share of max_bytes.
 */
#ifndef MEETOA_MEETING_LIST_CACHE_H
#define MEETOA_MEETING_LIST_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct list_cache list_cache_t;

typedef struct list_cache_key {
    int64_t user_id;
    int view; /* store_meeting_view_t */
    int64_t page, limit;
} list_cache_key_t;

/* NULL when out of memory. */
list_cache_t *list_cache_new(size_t max_bytes);
void list_cache_free(list_cache_t *cache);

/* The page of key when cached under gen and now < its bound: *text (malloc'd, the caller
 * frees it; NUL-terminated) and *len; false otherwise (a stale entry is dropped). */
bool list_cache_get(list_cache_t *cache, const list_cache_key_t *key, int64_t gen, int64_t now, char **text,
                    size_t *len);
/* Keeps text[0..len) as key's page under gen until bound (replacing what key had). A text too
 * big for a shard is not kept. */
void list_cache_put(list_cache_t *cache, const list_cache_key_t *key, int64_t gen, int64_t bound, const char *text,
                    size_t len);

/*
 * Answers on the loop, without the worker's read of the member's row. A worker that read a
 * member's list_gen notes it with the write epoch it saw before its read (org_write_epoch(): +1
 * after every write job of this process) and the time. The loop may then trust that generation,
 * instead of reading it, while the epoch is still the same (no write of this process since: a
 * change made here shows at once) and for less than max_age_ms (oa.token.cache-seconds: a change
 * made by another process on the database shows within it, as a logout or a ban does); each
 * member's trust ends at a point of the last quarter of max_age_ms chosen by their id, so that notes
 * made at one moment do not all end at one moment. At most
 * 65,536 members are noted; the others always take the worker's path.
 */
void list_cache_note_gen(list_cache_t *cache, int64_t user_id, int64_t gen, uint64_t epoch, int64_t now_ms);
/* The generation of user_id to trust at now_ms, when noted under epoch less than max_age_ms ago. */
bool list_cache_trusted_gen(list_cache_t *cache, int64_t user_id, uint64_t epoch, int64_t now_ms, int64_t max_age_ms,
                            int64_t *gen);

/* Entries and bytes held (logs, tests). */
long list_cache_count(list_cache_t *cache);
size_t list_cache_bytes(list_cache_t *cache);

#endif
