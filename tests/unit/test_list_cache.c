/* Unit tests of meeting/list_cache: generations, clock bounds, keys, the byte budget and its
 * least-recently-used eviction, a cache that keeps nothing, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meeting/list_cache.h"

static list_cache_key_t key_of(int64_t user)
{
    return (list_cache_key_t){.user_id = user, .view = 3, .page = 1, .limit = 20};
}

/* Whether key's page is answered under gen at now, and equal to want (when given). */
static bool hit(list_cache_t *c, list_cache_key_t k, int64_t gen, int64_t now, const char *want)
{
    char *text = NULL;
    size_t len = 7;
    bool ok = list_cache_get(c, &k, gen, now, &text, &len);
    if (!ok) {
        assert_null(text);
        assert_int_equal(len, 0);
        return false;
    }
    if (want != NULL) {
        assert_int_equal(len, strlen(want));
        assert_string_equal(text, want);
    }
    free(text);
    return true;
}

static void answers_only_under_the_same_generation_before_the_bound(void **state)
{
    (void)state;
    list_cache_t *c = list_cache_new(1 << 20);
    list_cache_key_t k = key_of(7);
    assert_false(hit(c, k, 1, 100, NULL));
    list_cache_put(c, &k, 1, 200, "{\"page\":\"一\"}", strlen("{\"page\":\"一\"}"));
    assert_true(hit(c, k, 1, 100, "{\"page\":\"一\"}"));
    assert_true(hit(c, k, 1, 199, "{\"page\":\"一\"}"));
    assert_false(hit(c, k, 1, 200, NULL)); /* the bound: dropped */
    assert_int_equal(list_cache_count(c), 0);
    list_cache_put(c, &k, 1, 200, "a", 1);
    assert_false(hit(c, k, 2, 100, NULL)); /* a newer generation: dropped */
    assert_false(hit(c, k, 1, 100, NULL));
    assert_int_equal(list_cache_count(c), 0);
    assert_int_equal(list_cache_bytes(c), 0);
    list_cache_free(c);
}

static void keys_are_whole_and_puts_replace(void **state)
{
    (void)state;
    list_cache_t *c = list_cache_new(1 << 20);
    list_cache_key_t k = key_of(7), other_user = key_of(8), other_view = k, other_page = k, other_limit = k;
    other_view.view = 1;
    other_page.page = 2;
    other_limit.limit = 10;
    list_cache_put(c, &k, 5, 1000, "k", 1);
    assert_false(hit(c, other_user, 5, 1, NULL));
    assert_false(hit(c, other_view, 5, 1, NULL));
    assert_false(hit(c, other_page, 5, 1, NULL));
    assert_false(hit(c, other_limit, 5, 1, NULL));
    list_cache_put(c, &other_page, 5, 1000, "p2", 2);
    list_cache_put(c, &k, 6, 1000, "k6", 2);
    assert_int_equal(list_cache_count(c), 2);
    assert_true(hit(c, k, 6, 1, "k6"));
    assert_true(hit(c, other_page, 5, 1, "p2"));
    list_cache_free(c);
}

static void stays_within_its_bytes_dropping_the_least_recently_used(void **state)
{
    (void)state;
    enum { PAGE = 6000, BUDGET = 1 << 20 };
    char *page = malloc(PAGE);
    memset(page, 'x', PAGE);
    list_cache_t *c = list_cache_new(BUDGET);
    /* user 1 is read after every put: it stays; the others come and go */
    list_cache_key_t first = key_of(1);
    list_cache_put(c, &first, 1, 1000, page, PAGE);
    for (int64_t u = 2; u < 2000; u++) {
        list_cache_key_t k = key_of(u);
        list_cache_put(c, &k, 1, 1000, page, PAGE);
        assert_true(hit(c, first, 1, 1, NULL));
        assert_true(list_cache_bytes(c) <= BUDGET);
    }
    long n = list_cache_count(c);
    assert_true(n > BUDGET / PAGE / 2 && n <= BUDGET / PAGE);
    assert_false(hit(c, key_of(2), 1, 1, NULL)); /* long gone */
    assert_true(hit(c, key_of(1999), 1, 1, NULL));
    /* a page bigger than a shard's share is not kept */
    char *huge = malloc(BUDGET);
    memset(huge, 'y', BUDGET);
    list_cache_key_t big = key_of(5000);
    list_cache_put(c, &big, 1, 1000, huge, BUDGET);
    assert_false(hit(c, big, 1, 1, NULL));
    free(huge);
    free(page);
    list_cache_free(c);
}

static void a_cache_of_no_bytes_keeps_nothing(void **state)
{
    (void)state;
    list_cache_t *c = list_cache_new(0);
    list_cache_key_t k = key_of(1);
    list_cache_put(c, &k, 1, 1000, "a", 1);
    assert_false(hit(c, k, 1, 1, NULL));
    assert_int_equal(list_cache_count(c), 0);
    list_cache_free(c);
}

#define THREADS 4
#define ROUNDS  20000

static void *hammer(void *arg)
{
    list_cache_t *c = arg;
    char text[64];
    for (int i = 0; i < ROUNDS; i++) {
        list_cache_key_t k = key_of(i % 500);
        int64_t gen = i % 3;
        int n = snprintf(text, sizeof text, "{\"user\":%d,\"gen\":%lld}", i % 500, (long long)gen);
        if (i % 2 == 0) {
            list_cache_put(c, &k, gen, 1000, text, (size_t)n);
        } else {
            char *got;
            size_t len;
            if (list_cache_get(c, &k, gen, 1, &got, &len)) {
                /* whatever is answered is the page of that key and generation */
                assert_int_equal(len, (size_t)n);
                assert_string_equal(got, text);
                free(got);
            }
        }
    }
    return NULL;
}

static void threads_never_see_another_keys_or_generations_page(void **state)
{
    (void)state;
    list_cache_t *c = list_cache_new(64 * 1024);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, c), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_true(list_cache_bytes(c) <= 64 * 1024);
    list_cache_free(c);
}

/* A noted generation is trusted under the same write epoch, for less than max_age_ms. */
static void noted_generations_are_trusted_within_their_epoch_and_age(void **state)
{
    (void)state;
    list_cache_t *c = list_cache_new(64 * 1024);
    int64_t gen = -1;
    assert_false(list_cache_trusted_gen(c, 7, 1, 1000, 5000, &gen)); /* never noted */
    list_cache_note_gen(c, 7, 42, 1, 1000);
    assert_true(list_cache_trusted_gen(c, 7, 1, 1000, 5000, &gen));
    assert_int_equal(gen, 42);
    assert_true(list_cache_trusted_gen(c, 7, 1, 3499, 5000, &gen));  /* the first half: always */
    assert_false(list_cache_trusted_gen(c, 7, 1, 6000, 5000, &gen)); /* too old */
    assert_false(list_cache_trusted_gen(c, 7, 2, 1001, 5000, &gen)); /* a write since */
    assert_false(list_cache_trusted_gen(c, 8, 1, 1001, 5000, &gen)); /* another member */
    assert_false(list_cache_trusted_gen(c, 7, 1, 999, 5000, &gen));  /* a clock before the note */
    /* a read made under the newer epoch replaces it; an older read never does */
    list_cache_note_gen(c, 7, 43, 2, 2000);
    assert_true(list_cache_trusted_gen(c, 7, 2, 2000, 5000, &gen));
    assert_int_equal(gen, 43);
    list_cache_note_gen(c, 7, 42, 1, 2500);
    assert_true(list_cache_trusted_gen(c, 7, 2, 2600, 5000, &gen));
    assert_int_equal(gen, 43);
    assert_false(list_cache_trusted_gen(c, 7, 1, 2600, 5000, &gen));
    /* trust ends within the last quarter of max_age, spread over members */
    int64_t ends[2] = {INT64_MAX, 0};
    for (int64_t u = 10000; u < 10200; u++) {
        list_cache_note_gen(c, u, 1, 2, 0);
        int64_t t = 0;
        while (list_cache_trusted_gen(c, u, 2, t, 1000, &gen))
            t++;
        assert_true(t >= 750 && t <= 1000);
        ends[0] = t < ends[0] ? t : ends[0];
        ends[1] = t > ends[1] ? t : ends[1];
    }
    assert_true(ends[1] - ends[0] > 125); /* not one moment */
    /* many members: each its own */
    for (int64_t u = 100; u < 5100; u++)
        list_cache_note_gen(c, u, u * 3, 2, 3000);
    int trusted = 0;
    for (int64_t u = 100; u < 5100; u++)
        if (list_cache_trusted_gen(c, u, 2, 3000, 5000, &gen)) {
            assert_int_equal(gen, u * 3);
            trusted++;
        }
    assert_int_equal(trusted, 5000);
    list_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_only_under_the_same_generation_before_the_bound),
        cmocka_unit_test(keys_are_whole_and_puts_replace),
        cmocka_unit_test(stays_within_its_bytes_dropping_the_least_recently_used),
        cmocka_unit_test(a_cache_of_no_bytes_keeps_nothing),
        cmocka_unit_test(threads_never_see_another_keys_or_generations_page),
        cmocka_unit_test(noted_generations_are_trusted_within_their_epoch_and_age),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
