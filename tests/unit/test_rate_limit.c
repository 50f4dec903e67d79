/*
 * test_rate_limit — guard/rate_limit with time passed in: N requests allowed then refused,
 * Retry-After exact and at least 1 s, continuous refill capped at the capacity, per_minute 0
 * (and NULL) as off, keys independent (also when one is a prefix of another), time going
 * backwards refills nothing, the sweep drops exactly the buckets that are full again, the
 * bound on the number of buckets (a drained key survives a flood of new ones), and several
 * threads taking from one key never get more than its tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "guard/rate_limit.h"

#define T0 1000000 /* an arbitrary monotonic start, in ms */

static bool take(rate_limit_t *rl, const char *key, int64_t now, unsigned *retry)
{
    return rate_limit_take(rl, key, strlen(key), now, retry);
}

/* Takes n tokens of key at now; all must be allowed. */
static void drain(rate_limit_t *rl, const char *key, int64_t now, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (!take(rl, key, now, NULL))
            fail_msg("take %u of %u of %s refused", i + 1, n, key);
}

static void n_allowed_then_refused(void **state)
{
    rate_limit_t *rl = rate_limit_new(3);
    assert_non_null(rl);
    unsigned retry = 99;
    for (int i = 0; i < 3; i++) {
        assert_true(take(rl, "1.2.3.4", T0, &retry));
        assert_int_equal(retry, 0);
    }
    assert_false(take(rl, "1.2.3.4", T0, &retry));
    assert_int_equal(retry, 20); /* 3 a minute: one token every 20 s */
    assert_false(take(rl, "1.2.3.4", T0 + 100, &retry));
    assert_int_equal(retry, 20); /* 19.9 s, rounded up */
    assert_int_equal(rate_limit_count(rl), 1);
    rate_limit_free(rl);
}

static void retry_after_counts_down_and_is_at_least_one(void **state)
{
    rate_limit_t *rl = rate_limit_new(3);
    unsigned retry;
    drain(rl, "k", T0, 3);
    assert_false(take(rl, "k", T0 + 19000, &retry));
    assert_int_equal(retry, 1);
    assert_false(take(rl, "k", T0 + 19999, &retry));
    assert_int_equal(retry, 1); /* 1 ms left: still one whole second */
    assert_true(take(rl, "k", T0 + 20000, &retry));
    assert_false(take(rl, "k", T0 + 20000, &retry));
    assert_int_equal(retry, 20);
    rate_limit_free(rl);

    /* 120000 a minute: a token every 0.5 ms, yet never a Retry-After of 0 */
    rl = rate_limit_new(120000);
    drain(rl, "fast", T0, 120000);
    assert_false(take(rl, "fast", T0, &retry));
    assert_int_equal(retry, 1);
    assert_true(take(rl, "fast", T0 + 1, &retry)); /* 1 ms = 2 tokens */
    assert_true(take(rl, "fast", T0 + 1, &retry));
    assert_false(take(rl, "fast", T0 + 1, &retry));
    rate_limit_free(rl);
}

static void refill_is_continuous_and_capped(void **state)
{
    rate_limit_t *rl = rate_limit_new(60); /* one token a second */
    unsigned retry;
    drain(rl, "k", T0, 60);
    assert_false(take(rl, "k", T0, &retry));
    assert_int_equal(retry, 1);
    assert_false(take(rl, "k", T0 + 999, NULL));
    assert_true(take(rl, "k", T0 + 1000, NULL));
    assert_false(take(rl, "k", T0 + 1000, NULL));
    drain(rl, "k", T0 + 4000, 3); /* 3 s later: 3 tokens, no more */
    assert_false(take(rl, "k", T0 + 4000, NULL));
    /* ten minutes idle: full, but not more than the capacity */
    drain(rl, "k", T0 + 600000, 60);
    assert_false(take(rl, "k", T0 + 600000, &retry));
    assert_int_equal(retry, 1);
    rate_limit_free(rl);
}

static void time_going_backwards_refills_nothing(void **state)
{
    rate_limit_t *rl = rate_limit_new(60);
    drain(rl, "k", T0, 60);
    assert_false(take(rl, "k", T0 - 5000, NULL));
    assert_false(take(rl, "k", T0 + 500, NULL)); /* the refill still counts from T0 */
    assert_true(take(rl, "k", T0 + 1000, NULL));
    rate_limit_free(rl);
}

static void zero_per_minute_is_off(void **state)
{
    rate_limit_t *rl = rate_limit_new(0);
    assert_non_null(rl);
    assert_true(rate_limit_off(rl));
    unsigned retry = 99;
    for (int i = 0; i < 1000; i++)
        assert_true(take(rl, "k", T0, &retry));
    assert_int_equal(retry, 0);
    assert_int_equal(rate_limit_count(rl), 0); /* nothing is even stored */
    rate_limit_sweep(rl, T0);
    rate_limit_free(rl);

    assert_true(rate_limit_off(NULL));
    assert_true(take(NULL, "k", T0, &retry));
    rate_limit_sweep(NULL, T0);
    assert_int_equal(rate_limit_count(NULL), 0);
    rate_limit_free(NULL);

    rl = rate_limit_new(1);
    assert_false(rate_limit_off(rl));
    rate_limit_free(rl);
}

static void keys_are_independent(void **state)
{
    rate_limit_t *rl = rate_limit_new(2);
    drain(rl, "a", T0, 2);
    assert_false(take(rl, "a", T0, NULL));
    drain(rl, "ab", T0, 2); /* a key that starts with another is another key */
    drain(rl, "b", T0, 2);
    assert_true(rate_limit_take(rl, "a\0x", 3, T0, NULL)); /* bytes, not C strings */
    assert_true(rate_limit_take(rl, "a\0y", 3, T0, NULL));
    assert_false(take(rl, "b", T0, NULL));
    assert_int_equal(rate_limit_count(rl), 5);
    rate_limit_free(rl);
}

static void sweep_drops_only_refilled_buckets(void **state)
{
    rate_limit_t *rl = rate_limit_new(60);
    drain(rl, "drained", T0, 60); /* full again at T0 + 60 s */
    drain(rl, "once", T0, 1);     /* full again at T0 + 1 s */
    rate_limit_sweep(rl, T0 + 999);
    assert_int_equal(rate_limit_count(rl), 2);
    rate_limit_sweep(rl, T0 + 1000);
    assert_int_equal(rate_limit_count(rl), 1);
    rate_limit_sweep(rl, T0 + 59999);
    assert_int_equal(rate_limit_count(rl), 1);
    assert_false(take(rl, "drained", T0 + 500, NULL)); /* what was kept still counts */
    rate_limit_sweep(rl, T0 + 60500);
    assert_int_equal(rate_limit_count(rl), 0);
    /* a dropped bucket is as good as a full one: 60 again */
    drain(rl, "drained", T0 + 60500, 60);
    assert_false(take(rl, "drained", T0 + 60500, NULL));
    rate_limit_free(rl);
}

static void the_number_of_buckets_is_bounded(void **state)
{
    enum { BOUND = 128, FLOOD = 20000 };
    rate_limit_t *rl = rate_limit_new_bounded(5, BOUND);
    assert_non_null(rl);
    drain(rl, "abuser", T0, 5);
    char key[32];
    for (int i = 0; i < FLOOD; i++) {
        snprintf(key, sizeof(key), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        assert_true(take(rl, key, T0, NULL)); /* a new key is never refused for lack of room */
        assert_true(rate_limit_count(rl) <= BOUND);
    }
    assert_int_equal(rate_limit_count(rl), BOUND); /* every shard filled, not more */
    /* the eviction took fuller buckets: the drained one is still refused */
    assert_false(take(rl, "abuser", T0, NULL));

    /* a minute later every flood bucket is full again: dropped first, so the new keys and the
     * abuser's (refilled too, and so forgotten) all start full */
    for (int i = 0; i < FLOOD; i++) {
        snprintf(key, sizeof(key), "11.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        assert_true(take(rl, key, T0 + 60000, NULL));
    }
    assert_true(rate_limit_count(rl) <= BOUND);
    rate_limit_free(rl);

    /* the production bound */
    rl = rate_limit_new(5);
    for (int i = 0; i < RATE_LIMIT_MAX_BUCKETS + 5000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        take(rl, key, T0, NULL);
    }
    assert_int_equal(rate_limit_count(rl), RATE_LIMIT_MAX_BUCKETS);
    rate_limit_free(rl);
}

static void long_keys_count_by_their_first_bytes(void **state)
{
    char a[RATE_LIMIT_KEY_MAX + 10], b[RATE_LIMIT_KEY_MAX + 10];
    memset(a, 'x', sizeof(a));
    memcpy(b, a, sizeof(b));
    b[sizeof(b) - 1] = 'y';
    rate_limit_t *rl = rate_limit_new(1);
    assert_true(rate_limit_take(rl, a, sizeof(a), T0, NULL));
    assert_false(rate_limit_take(rl, b, sizeof(b), T0, NULL));
    rate_limit_free(rl);
}

/* ---- threads ---- */

enum { THREADS = 4, TAKES = 1500, SHARED_TOKENS = 2000 };

typedef struct worker {
    pthread_t tid;
    rate_limit_t *rl;
    int id;
    int shared_allowed, own_allowed;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    char own[16];
    snprintf(own, sizeof(own), "own-%d", w->id);
    for (int i = 0; i < TAKES; i++) {
        w->shared_allowed += take(w->rl, "shared", T0, NULL);
        w->own_allowed += take(w->rl, own, T0, NULL);
        if (i % 100 == 0)
            rate_limit_sweep(w->rl, T0); /* sweeps race with takes */
    }
    return NULL;
}

static void threads_share_one_bucket_exactly(void **state)
{
    rate_limit_t *rl = rate_limit_new(SHARED_TOKENS);
    worker_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.rl = rl, .id = i};
        assert_int_equal(pthread_create(&w[i].tid, NULL, worker_main, &w[i]), 0);
    }
    int shared = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].tid, NULL);
        shared += w[i].shared_allowed;
        assert_int_equal(w[i].own_allowed, TAKES); /* 1500 of its own 2000 */
    }
    assert_int_equal(shared, SHARED_TOKENS); /* 6000 attempts, exactly the 2000 tokens */
    assert_int_equal(rate_limit_count(rl), THREADS + 1);
    rate_limit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(n_allowed_then_refused),
        cmocka_unit_test(retry_after_counts_down_and_is_at_least_one),
        cmocka_unit_test(refill_is_continuous_and_capped),
        cmocka_unit_test(time_going_backwards_refills_nothing),
        cmocka_unit_test(zero_per_minute_is_off),
        cmocka_unit_test(keys_are_independent),
        cmocka_unit_test(sweep_drops_only_refilled_buckets),
        cmocka_unit_test(the_number_of_buckets_is_bounded),
        cmocka_unit_test(long_keys_count_by_their_first_bytes),
        cmocka_unit_test(threads_share_one_bucket_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
