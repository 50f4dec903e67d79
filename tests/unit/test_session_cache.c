/* Unit tests of auth/session_cache: hits, freshness, expiry, removal (of one session, of a user, and
 * the put of a read older than a removal), renewed sessions, growth, threads, single-flight reads
 * (joined while fresh and no removal since, one leader among concurrent checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/session_cache.h"

static store_session_t session_of(uint32_t n, int64_t user_id, int64_t expires_at)
{
    store_session_t s = {0};
    /* spread n over the hash like a real HMAC would */
    for (int i = 0; i < 32; i++)
        s.token_hash[i] = (uint8_t)((n * 2654435761u) >> (i % 4 * 8)) ^ (uint8_t)i;
    memcpy(s.token_hash + 28, &n, sizeof(n));
    s.user_id = user_id;
    s.expires_at = expires_at;
    return s;
}

static store_user_t user_of(int64_t id, const char *nickname)
{
    store_user_t u = {0};
    u.id = id;
    snprintf(u.nickname, sizeof(u.nickname), "%s", nickname);
    u.gender = 2;
    return u;
}

static void hit_returns_the_user_and_expiry(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t s = session_of(1, 42, 2000);
    store_user_t u = user_of(42, "Alice 🌸");
    session_cache_put(c, &s, &u, 1000);

    store_user_t out;
    int64_t expires = 0;
    assert_int_equal(session_cache_get(c, s.token_hash, 1001, 5, &out, &expires), SESSION_CACHE_HIT);
    assert_int_equal(out.id, 42);
    assert_string_equal(out.nickname, "Alice 🌸");
    assert_int_equal(out.gender, 2);
    assert_int_equal(expires, 2000);
    session_cache_free(c);
}

static void unknown_token_misses(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t s = session_of(1, 42, 2000), other = session_of(2, 42, 2000);
    store_user_t u = user_of(42, "a");
    session_cache_put(c, &s, &u, 1000);
    store_user_t out;
    assert_int_equal(session_cache_get(c, other.token_hash, 1000, 5, &out, NULL), SESSION_CACHE_MISS);
    session_cache_free(c);
}

static void entry_older_than_max_age_misses(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t s = session_of(1, 42, 5000);
    store_user_t u = user_of(42, "a");
    session_cache_put(c, &s, &u, 1000);
    store_user_t out;
    assert_int_equal(session_cache_get(c, s.token_hash, 1004, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_int_equal(session_cache_get(c, s.token_hash, 1005, 5, &out, NULL), SESSION_CACHE_MISS);
    /* max_age 0: never trusted, always re-read */
    assert_int_equal(session_cache_get(c, s.token_hash, 1000, 0, &out, NULL), SESSION_CACHE_MISS);
    /* re-confirmed by the database: trusted again */
    session_cache_put(c, &s, &u, 1005);
    assert_int_equal(session_cache_get(c, s.token_hash, 1006, 5, &out, NULL), SESSION_CACHE_HIT);
    session_cache_free(c);
}

static void expired_session_is_dropped(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t s = session_of(1, 42, 1010);
    store_user_t u = user_of(42, "a");
    session_cache_put(c, &s, &u, 1000);
    store_user_t out;
    assert_int_equal(session_cache_get(c, s.token_hash, 1010, 60, &out, NULL), SESSION_CACHE_EXPIRED);
    assert_int_equal(session_cache_count(c), 0);
    assert_int_equal(session_cache_get(c, s.token_hash, 1010, 60, &out, NULL), SESSION_CACHE_MISS);
    session_cache_free(c);
}

static void removed_session_misses(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t s = session_of(1, 42, 2000);
    store_user_t u = user_of(42, "a");
    session_cache_put(c, &s, &u, 1000);
    session_cache_remove(c, s.token_hash);
    store_user_t out;
    assert_int_equal(session_cache_get(c, s.token_hash, 1000, 5, &out, NULL), SESSION_CACHE_MISS);
    assert_int_equal(session_cache_count(c), 0);
    session_cache_free(c);
}

static void user_update_is_seen_by_every_session(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t a = session_of(1, 42, 2000), b = session_of(2, 42, 2000);
    store_user_t u = user_of(42, "old");
    session_cache_put(c, &a, &u, 1000);
    session_cache_put(c, &b, &u, 1000);
    store_user_t changed = user_of(42, "new");
    changed.status = STORE_USER_DISABLED;
    session_cache_update_user(c, &changed);
    store_user_t out;
    assert_int_equal(session_cache_get(c, a.token_hash, 1001, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_string_equal(out.nickname, "new");
    assert_int_equal(out.status, STORE_USER_DISABLED);
    assert_int_equal(session_cache_get(c, b.token_hash, 1001, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_string_equal(out.nickname, "new");
    session_cache_free(c);
}

static void many_sessions_grow_the_table(void **state)
{
    session_cache_t *c = session_cache_new();
    enum { N = 50000 };
    for (uint32_t i = 0; i < N; i++) {
        store_session_t s = session_of(i, i % 100 + 1, 2000);
        store_user_t u = user_of(i % 100 + 1, "u");
        session_cache_put(c, &s, &u, 1000);
    }
    assert_int_equal(session_cache_count(c), N);
    for (uint32_t i = 0; i < N; i += 97) {
        store_session_t s = session_of(i, 0, 0);
        store_user_t out;
        assert_int_equal(session_cache_get(c, s.token_hash, 1001, 5, &out, NULL), SESSION_CACHE_HIT);
        assert_int_equal(out.id, i % 100 + 1);
    }
    session_cache_free(c);
}

static void sweep_drops_only_what_cannot_answer(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t fresh = session_of(1, 1, 5000), old = session_of(2, 2, 5000), expired = session_of(3, 3, 1003);
    store_user_t u1 = user_of(1, "fresh"), u2 = user_of(2, "old"), u3 = user_of(3, "expired");
    session_cache_put(c, &old, &u2, 990);
    session_cache_put(c, &fresh, &u1, 1000);
    session_cache_put(c, &expired, &u3, 1000);
    /* at 1004 with max_age 5: "old" was confirmed 14 s ago, "expired" has expired */
    assert_int_equal(session_cache_sweep(c, 1004, 5), 2);
    assert_int_equal(session_cache_count(c), 1);
    store_user_t out;
    assert_int_equal(session_cache_get(c, fresh.token_hash, 1004, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_string_equal(out.nickname, "fresh");
    assert_int_equal(session_cache_get(c, old.token_hash, 1004, 5, &out, NULL), SESSION_CACHE_MISS);
    /* a re-read puts it back and it answers again */
    session_cache_put(c, &old, &u2, 1004);
    assert_int_equal(session_cache_get(c, old.token_hash, 1004, 5, &out, NULL), SESSION_CACHE_HIT);
    /* max_age 0 (no caching): everything goes */
    assert_int_equal(session_cache_sweep(c, 1004, 0), 2);
    assert_int_equal(session_cache_count(c), 0);
    session_cache_free(c);
}

typedef struct worker {
    session_cache_t *cache;
    uint32_t base;
    int hits;
} worker_t;

/* Hashes that share their first 24 bytes (so one bucket, one chain) are told apart by the
 * last bytes: the comparison looks at all 32. */
static void hashes_differing_only_at_the_end_are_distinct(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t a = session_of(7, 1, 5000), b = a, d = a;
    b.token_hash[31] ^= 0x01;
    b.user_id = 2;
    d.token_hash[24] ^= 0x80;
    store_user_t ua = user_of(1, "first"), ub = user_of(2, "second");
    session_cache_put(c, &a, &ua, 1000);
    session_cache_put(c, &b, &ub, 1000);
    store_user_t out;
    assert_int_equal(session_cache_get(c, a.token_hash, 1000, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_string_equal(out.nickname, "first");
    assert_int_equal(session_cache_get(c, b.token_hash, 1000, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_string_equal(out.nickname, "second");
    assert_int_equal(session_cache_get(c, d.token_hash, 1000, 5, &out, NULL), SESSION_CACHE_MISS);
    session_cache_remove(c, b.token_hash);
    assert_int_equal(session_cache_get(c, a.token_hash, 1000, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_int_equal(session_cache_get(c, b.token_hash, 1000, 5, &out, NULL), SESSION_CACHE_MISS);
    session_cache_free(c);
}

static void *hammer(void *p)
{
    worker_t *w = p;
    for (uint32_t i = 0; i < 5000; i++) {
        store_session_t s = session_of(w->base + i, 7, 2000);
        store_user_t u = user_of(7, "t");
        store_user_t out;
        session_cache_put(w->cache, &s, &u, 1000);
        if (session_cache_get(w->cache, s.token_hash, 1000, 5, &out, NULL) == SESSION_CACHE_HIT)
            w->hits++;
        if (i % 2)
            session_cache_remove(w->cache, s.token_hash);
    }
    return NULL;
}

static void concurrent_threads_keep_it_consistent(void **state)
{
    session_cache_t *c = session_cache_new();
    pthread_t t[4];
    worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){c, (uint32_t)i * 100000u, 0};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].hits, 5000);
    }
    assert_int_equal(session_cache_count(c), 4 * 2500);
    session_cache_free(c);
}

static void remove_user_drops_every_session_of_that_user_only(void **state)
{
    session_cache_t *c = session_cache_new();
    store_user_t alice = user_of(42, "alice"), bob = user_of(43, "bob");
    store_session_t mine[3], theirs = session_of(100, 43, 2000);
    for (uint32_t i = 0; i < 3; i++) {
        mine[i] = session_of(i + 1, 42, 2000);
        session_cache_put(c, &mine[i], &alice, 1000);
    }
    session_cache_put(c, &theirs, &bob, 1000);
    store_user_t out;
    session_cache_remove_user(c, 42);
    for (int i = 0; i < 3; i++)
        assert_int_equal(session_cache_get(c, mine[i].token_hash, 1001, 5, &out, NULL), SESSION_CACHE_MISS);
    assert_int_equal(session_cache_get(c, theirs.token_hash, 1001, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_int_equal(out.id, 43);
    assert_int_equal(session_cache_count(c), 1);
    session_cache_free(c);
}

static void a_read_older_than_a_removal_is_not_put_back(void **state)
{
    session_cache_t *c = session_cache_new();
    store_user_t u = user_of(42, "a");
    store_session_t s = session_of(1, 42, 2000), other = session_of(2, 42, 2000);
    uint64_t before = session_cache_removals(c);
    assert_true(session_cache_put_unless_removed(c, &s, &u, 1000, before)); /* nothing removed since */
    session_cache_remove(c, other.token_hash);                              /* any removal counts */
    assert_int_not_equal(session_cache_removals(c), before);
    session_cache_remove(c, s.token_hash);
    assert_false(session_cache_put_unless_removed(c, &s, &u, 1000, before));
    store_user_t out;
    assert_int_equal(session_cache_get(c, s.token_hash, 1001, 5, &out, NULL), SESSION_CACHE_MISS);
    uint64_t now = session_cache_removals(c);
    session_cache_remove_user(c, 7);
    assert_false(session_cache_put_unless_removed(c, &s, &u, 1000, now));
    assert_true(session_cache_put_unless_removed(c, &s, &u, 1000, session_cache_removals(c)));
    assert_int_equal(session_cache_get(c, s.token_hash, 1001, 5, &out, NULL), SESSION_CACHE_HIT);
    session_cache_free(c);
}

static void renewed_sessions_are_marked_and_cut(void **state)
{
    session_cache_t *c = session_cache_new();
    store_user_t u = user_of(42, "a");
    store_session_t s = session_of(1, 42, 2000), replaced = session_of(2, 42, 1100);
    replaced.renewed_at = 1000;
    session_cache_put(c, &s, &u, 1000);
    session_cache_put(c, &replaced, &u, 1000);
    store_user_t out;
    session_cache_hit_t hit;
    assert_int_equal(session_cache_lookup(c, s.token_hash, 1001, 5, &out, &hit), SESSION_CACHE_HIT);
    assert_false(hit.renewed);
    assert_int_equal(hit.expires_at, 2000);
    assert_int_equal(session_cache_lookup(c, replaced.token_hash, 1001, 5, &out, &hit), SESSION_CACHE_HIT);
    assert_true(hit.renewed); /* from the row's renewed_at */
    session_cache_mark_renewed(c, s.token_hash, 1060);
    assert_int_equal(session_cache_lookup(c, s.token_hash, 1001, 5, &out, &hit), SESSION_CACHE_HIT);
    assert_true(hit.renewed);
    assert_int_equal(hit.expires_at, 1060);
    session_cache_mark_renewed(c, s.token_hash, 5000); /* never lengthened */
    assert_int_equal(session_cache_lookup(c, s.token_hash, 1001, 5, &out, &hit), SESSION_CACHE_HIT);
    assert_int_equal(hit.expires_at, 1060);
    assert_int_equal(session_cache_lookup(c, s.token_hash, 1060, 5, &out, &hit), SESSION_CACHE_EXPIRED);
    session_cache_free(c);
}

/* A cached user gives back every field authenticated calls use, strings at their longest
 * included, and leaves the others empty. */
static void cached_user_keeps_the_fields_calls_use(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t s = session_of(1, 42, 2000);
    store_user_t u = user_of(42, "");
    memset(u.nickname, 'n', sizeof(u.nickname) - 1);
    memset(u.avatar, 'a', sizeof(u.avatar) - 1);
    snprintf(u.openid, sizeof(u.openid), "%s", "oOpenid-1");
    snprintf(u.unionid, sizeof(u.unionid), "%s", "oUnion-1");
    snprintf(u.mobile, sizeof(u.mobile), "%s", "13800138000");
    snprintf(u.username, sizeof(u.username), "%s", "oOpenid-1");
    snprintf(u.last_login_ip, sizeof(u.last_login_ip), "%s", "203.0.113.9");
    u.user_level = 3;
    u.status = STORE_USER_DISABLED;
    u.deleted = true;
    u.add_time = 7;
    session_cache_put(c, &s, &u, 1000);

    store_user_t out;
    memset(&out, 'x', sizeof(out)); /* nothing left from before */
    assert_int_equal(session_cache_get(c, s.token_hash, 1001, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_int_equal(out.id, 42);
    assert_string_equal(out.nickname, u.nickname);
    assert_string_equal(out.avatar, u.avatar);
    assert_string_equal(out.openid, "oOpenid-1");
    assert_string_equal(out.unionid, "oUnion-1");
    assert_string_equal(out.mobile, "13800138000");
    assert_int_equal(out.gender, 2);
    assert_int_equal(out.user_level, 3);
    assert_int_equal(out.status, STORE_USER_DISABLED);
    assert_true(out.deleted);
    assert_string_equal(out.username, "");
    assert_string_equal(out.last_login_ip, "");
    assert_int_equal(out.add_time, 0);
    assert_int_equal(out.update_time, 0);
    assert_int_equal(out.last_login_time, 0);
    session_cache_free(c);
}

/* An update replaces the user (with a longer nickname: a new packed entry) and keeps its
 * confirmation time. */
static void update_keeps_the_confirmation_time(void **state)
{
    session_cache_t *c = session_cache_new();
    store_session_t s = session_of(1, 42, 5000);
    store_user_t u = user_of(42, "before"), changed = user_of(42, "a much longer nickname than before");
    session_cache_put(c, &s, &u, 1000);
    session_cache_update_user(c, &changed);
    store_user_t out;
    assert_int_equal(session_cache_get(c, s.token_hash, 1004, 5, &out, NULL), SESSION_CACHE_HIT);
    assert_string_equal(out.nickname, "a much longer nickname than before");
    assert_int_equal(session_cache_get(c, s.token_hash, 1005, 5, &out, NULL), SESSION_CACHE_MISS);
    session_cache_free(c);
}

/* The memo: a tag depends on the token and on the cache (its random keys); a remembered tag gives
 * its hash and key index back; forget drops it; the sweep drops entries unused for
 * max(max_age, SESSION_CACHE_MEMO_SECONDS), and a recall counts as a use. */
static void memo_remembers_recalls_forgets_and_sweeps(void **state)
{
    session_cache_t *c = session_cache_new(), *other = session_cache_new();
    const char *t1 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", *t2 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB";
    uint8_t a[SESSION_CACHE_TAG_SIZE], a2[SESSION_CACHE_TAG_SIZE], b[SESSION_CACHE_TAG_SIZE],
        elsewhere[SESSION_CACHE_TAG_SIZE];
    session_cache_tag(c, t1, 43, a);
    session_cache_tag(c, t1, 43, a2);
    session_cache_tag(c, t2, 43, b);
    session_cache_tag(other, t1, 43, elsewhere);
    assert_memory_equal(a, a2, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, elsewhere, sizeof(a));

    store_session_t s1 = session_of(1, 42, 5000), s2 = session_of(2, 42, 5000);
    uint8_t hash[32];
    int key = -1;
    assert_false(session_cache_recall(c, a, 1000, hash, &key));
    session_cache_remember(c, a, s1.token_hash, 0, 1000);
    session_cache_remember(c, b, s2.token_hash, 1, 1000);
    assert_int_equal(session_cache_memo_count(c), 2);
    assert_true(session_cache_recall(c, a, 1000, hash, &key));
    assert_memory_equal(hash, s1.token_hash, 32);
    assert_int_equal(key, 0);
    assert_true(session_cache_recall(c, b, 1000, hash, &key));
    assert_memory_equal(hash, s2.token_hash, 32);
    assert_int_equal(key, 1);
    assert_false(session_cache_recall(other, a, 1000, hash, &key));
    session_cache_forget(c, b);
    assert_false(session_cache_recall(c, b, 1000, hash, &key));
    assert_int_equal(session_cache_memo_count(c), 1);

    /* a's last use at 1000 + SESSION_CACHE_MEMO_SECONDS - 1: kept by the sweep until then */
    assert_true(session_cache_recall(c, a, 1000 + SESSION_CACHE_MEMO_SECONDS - 1, hash, &key));
    session_cache_sweep(c, 1000 + 2 * SESSION_CACHE_MEMO_SECONDS - 2, 5);
    assert_int_equal(session_cache_memo_count(c), 1);
    session_cache_sweep(c, 1000 + 2 * SESSION_CACHE_MEMO_SECONDS - 1, 5);
    assert_int_equal(session_cache_memo_count(c), 0);
    /* a max_age longer than the memo's own lifetime keeps entries that long */
    session_cache_remember(c, a, s1.token_hash, 0, 1000);
    session_cache_sweep(c, 1000 + SESSION_CACHE_MEMO_SECONDS, SESSION_CACHE_MEMO_SECONDS + 10);
    assert_int_equal(session_cache_memo_count(c), 1);
    session_cache_sweep(c, 1000 + SESSION_CACHE_MEMO_SECONDS + 10, SESSION_CACHE_MEMO_SECONDS + 10);
    assert_int_equal(session_cache_memo_count(c), 0);
    session_cache_free(c);
    session_cache_free(other);
}

/* Many tags grow the memo's tables and each still gives its own hash. */
static void many_memo_entries(void **state)
{
    session_cache_t *c = session_cache_new();
    enum { N = 20000 };
    char token[44];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(token, sizeof(token), "%043u", i);
        uint8_t tag[SESSION_CACHE_TAG_SIZE];
        session_cache_tag(c, token, 43, tag);
        store_session_t s = session_of(i, 1, 5000);
        session_cache_remember(c, tag, s.token_hash, (int)(i % 3), 1000);
    }
    assert_int_equal(session_cache_memo_count(c), N);
    for (uint32_t i = 0; i < N; i += 7) {
        snprintf(token, sizeof(token), "%043u", i);
        uint8_t tag[SESSION_CACHE_TAG_SIZE], hash[32];
        int key;
        session_cache_tag(c, token, 43, tag);
        assert_true(session_cache_recall(c, tag, 1001, hash, &key));
        store_session_t s = session_of(i, 1, 5000);
        assert_memory_equal(hash, s.token_hash, 32);
        assert_int_equal(key, (int)(i % 3));
    }
    session_cache_free(c);
}

/* ---- single-flight reads ---- */

static void tag_of(session_cache_t *c, uint32_t n, uint8_t tag[SESSION_CACHE_TAG_SIZE])
{
    char token[44];
    snprintf(token, sizeof(token), "%043u", n);
    session_cache_tag(c, token, 43, tag);
}

static void a_read_under_way_is_joined_and_hands_its_waiters_in_order(void **state)
{
    session_cache_t *c = session_cache_new();
    uint8_t tag[SESSION_CACHE_TAG_SIZE], other[SESSION_CACHE_TAG_SIZE];
    tag_of(c, 1, tag);
    tag_of(c, 2, other);
    session_cache_flight_t lead, lead2, unused;
    session_cache_waiter_t w[3], w2;
    uint64_t since = session_cache_removals(c);
    assert_false(session_cache_flight_enter(c, tag, 1000, 5, since, &lead, &w[0])); /* the leader */
    for (int i = 0; i < 3; i++)
        assert_true(session_cache_flight_enter(c, tag, 1000 + i, 5, since, &unused, &w[i]));
    assert_false(session_cache_flight_enter(c, other, 1000, 5, since, &lead2, &w2)); /* another token: its own */
    assert_int_equal(session_cache_flight_count(c), 2);
    session_cache_waiter_t *got = session_cache_flight_end(c, &lead);
    for (int i = 0; i < 3; i++) {
        assert_ptr_equal(got, &w[i]);
        got = got->next;
    }
    assert_null(got);
    assert_null(session_cache_flight_end(c, &lead2));
    assert_int_equal(session_cache_flight_count(c), 0);
    /* once ended, the next check of the token reads again */
    assert_false(session_cache_flight_enter(c, tag, 1003, 5, since, &lead, &w[0]));
    assert_null(session_cache_flight_end(c, &lead));
    session_cache_free(c);
}

static void a_read_older_than_max_age_is_not_joined(void **state)
{
    session_cache_t *c = session_cache_new();
    uint8_t tag[SESSION_CACHE_TAG_SIZE];
    tag_of(c, 1, tag);
    session_cache_flight_t old, fresh, unused;
    session_cache_waiter_t w, late, next;
    assert_false(session_cache_flight_enter(c, tag, 1000, 5, 0, &old, &w));
    assert_true(session_cache_flight_enter(c, tag, 1004, 5, 0, &unused, &w));
    /* begun 5 s ago, max_age 5: as a cache entry, too old to answer; the check reads itself */
    assert_false(session_cache_flight_enter(c, tag, 1005, 5, 0, &fresh, &late));
    assert_true(session_cache_flight_enter(c, tag, 1005, 5, 0, &unused, &next)); /* the newer one */
    assert_int_equal(session_cache_flight_count(c), 2);
    session_cache_waiter_t *got = session_cache_flight_end(c, &old); /* the older ends first */
    assert_ptr_equal(got, &w);
    assert_null(got->next);
    got = session_cache_flight_end(c, &fresh);
    assert_ptr_equal(got, &next);
    assert_null(got->next);
    /* max_age 0 (cache-seconds 0): never joined, every check reads */
    assert_false(session_cache_flight_enter(c, tag, 2000, 0, 0, &old, &w));
    assert_false(session_cache_flight_enter(c, tag, 2000, 0, 0, &fresh, &late));
    assert_null(session_cache_flight_end(c, &old));
    assert_null(session_cache_flight_end(c, &fresh));
    assert_int_equal(session_cache_flight_count(c), 0);
    session_cache_free(c);
}

static void no_check_after_a_removal_joins_a_read_from_before_it(void **state)
{
    session_cache_t *c = session_cache_new();
    uint8_t tag[SESSION_CACHE_TAG_SIZE];
    tag_of(c, 1, tag);
    store_session_t s = session_of(1, 42, 5000);
    session_cache_flight_t before, after, late, unused;
    session_cache_waiter_t w, w2, w3, w4;
    uint64_t since = session_cache_removals(c);
    assert_false(session_cache_flight_enter(c, tag, 1000, 5, since, &before, &w));
    assert_true(session_cache_flight_enter(c, tag, 1000, 5, since, &unused, &w2));
    session_cache_remove(c, s.token_hash); /* a logout (of any session) while the read is under way */
    uint64_t now_removals = session_cache_removals(c);
    assert_int_not_equal(now_removals, since);
    assert_false(session_cache_flight_enter(c, tag, 1000, 5, now_removals, &after, &w3)); /* reads itself */
    assert_true(session_cache_flight_enter(c, tag, 1000, 5, now_removals, &unused, &w4)); /* the newer read */
    /* a read registered with a count taken before a removal is never joinable */
    session_cache_flight_end(c, &after);
    assert_false(session_cache_flight_enter(c, tag, 1000, 5, since, &late, &w3));
    assert_false(session_cache_flight_enter(c, tag, 1000, 5, now_removals, &after, &w4));
    assert_ptr_equal(session_cache_flight_end(c, &before), &w2);
    assert_null(session_cache_flight_end(c, &late));
    assert_null(session_cache_flight_end(c, &after));
    assert_int_equal(session_cache_flight_count(c), 0);
    session_cache_free(c);
}

enum { FLIGHT_THREADS = 8, FLIGHT_ROUNDS = 2000 };
typedef struct flight_worker {
    session_cache_t *cache;
    int leaders;
    session_cache_flight_t flight;
    session_cache_waiter_t waiter;
} flight_worker_t;

typedef struct flight_round {
    flight_worker_t w[FLIGHT_THREADS];
    pthread_barrier_t start, entered;
    uint8_t tag[SESSION_CACHE_TAG_SIZE];
} flight_round_t;

static flight_round_t round_state;
static void *enter_rounds(void *p)
{
    flight_worker_t *w = p;
    for (int i = 0; i < FLIGHT_ROUNDS; i++) {
        pthread_barrier_wait(&round_state.start);
        if (!session_cache_flight_enter(w->cache, round_state.tag, 1000, 5, 0, &w->flight, &w->waiter))
            w->leaders++;
        pthread_barrier_wait(&round_state.entered);
        pthread_barrier_wait(&round_state.start); /* the main thread ends the round's read */
    }
    return NULL;
}

static void concurrent_checks_of_one_token_make_one_read(void **state)
{
    session_cache_t *c = session_cache_new();
    tag_of(c, 9, round_state.tag);
    pthread_barrier_init(&round_state.start, NULL, FLIGHT_THREADS + 1);
    pthread_barrier_init(&round_state.entered, NULL, FLIGHT_THREADS + 1);
    pthread_t t[FLIGHT_THREADS];
    for (int i = 0; i < FLIGHT_THREADS; i++) {
        round_state.w[i] = (flight_worker_t){.cache = c};
        pthread_create(&t[i], NULL, enter_rounds, &round_state.w[i]);
    }
    int before[FLIGHT_THREADS] = {0};
    for (int r = 0; r < FLIGHT_ROUNDS; r++) {
        pthread_barrier_wait(&round_state.start);
        pthread_barrier_wait(&round_state.entered);
        int leader = -1;
        for (int i = 0; i < FLIGHT_THREADS; i++)
            if (round_state.w[i].leaders != before[i]) {
                assert_int_equal(leader, -1); /* exactly one read a round */
                leader = i;
                before[i] = round_state.w[i].leaders;
            }
        assert_int_not_equal(leader, -1);
        assert_int_equal(session_cache_flight_count(c), 1);
        int waiting = 0;
        for (session_cache_waiter_t *w = session_cache_flight_end(c, &round_state.w[leader].flight); w != NULL;
             w = w->next) {
            assert_ptr_not_equal(w, &round_state.w[leader].waiter);
            waiting++;
        }
        assert_int_equal(waiting, FLIGHT_THREADS - 1); /* every other check waited for it */
        pthread_barrier_wait(&round_state.start);
    }
    for (int i = 0; i < FLIGHT_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&round_state.start);
    pthread_barrier_destroy(&round_state.entered);
    assert_int_equal(session_cache_flight_count(c), 0);
    session_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cached_user_keeps_the_fields_calls_use),
        cmocka_unit_test(update_keeps_the_confirmation_time),
        cmocka_unit_test(memo_remembers_recalls_forgets_and_sweeps),
        cmocka_unit_test(many_memo_entries),
        cmocka_unit_test(hit_returns_the_user_and_expiry),
        cmocka_unit_test(unknown_token_misses),
        cmocka_unit_test(entry_older_than_max_age_misses),
        cmocka_unit_test(expired_session_is_dropped),
        cmocka_unit_test(removed_session_misses),
        cmocka_unit_test(hashes_differing_only_at_the_end_are_distinct),
        cmocka_unit_test(user_update_is_seen_by_every_session),
        cmocka_unit_test(many_sessions_grow_the_table),
        cmocka_unit_test(concurrent_threads_keep_it_consistent),
        cmocka_unit_test(sweep_drops_only_what_cannot_answer),
        cmocka_unit_test(remove_user_drops_every_session_of_that_user_only),
        cmocka_unit_test(a_read_older_than_a_removal_is_not_put_back),
        cmocka_unit_test(renewed_sessions_are_marked_and_cut),
        cmocka_unit_test(a_read_under_way_is_joined_and_hands_its_waiters_in_order),
        cmocka_unit_test(a_read_older_than_max_age_is_not_joined),
        cmocka_unit_test(no_check_after_a_removal_joins_a_read_from_before_it),
        cmocka_unit_test(concurrent_checks_of_one_token_make_one_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
