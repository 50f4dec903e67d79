/*
 * test_signed_url — storage/signed_url.h: expiring links to private files. A link made for a
 * file checks for that file until its expiry and not a second after; another file, another
 * data key, a stretched expiry, a changed or cut signature, extra or missing parameters and
 * malformed expiries are all refused; the two parameters may come in either order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "storage/signed_url.h"

static const uint8_t KEY[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char FILE_[] = "attachments/AbCdEfGhIjKlMnOpQrStUvWxYz012345.png";

/* The query of a link made for file until expires (into q). */
static void make(const uint8_t key[32], const char *file, int64_t expires, char *q, size_t size)
{
    char path[512];
    assert_true(signed_url_make(key, file, expires, path, sizeof path));
    assert_int_equal(strncmp(path, STORAGE_SIGNED_PREFIX, strlen(STORAGE_SIGNED_PREFIX)), 0);
    const char *at = strchr(path, '?');
    assert_non_null(at);
    assert_int_equal((size_t)(at - path), strlen(STORAGE_SIGNED_PREFIX) + strlen(file));
    assert_memory_equal(path + strlen(STORAGE_SIGNED_PREFIX), file, strlen(file));
    snprintf(q, size, "%s", at + 1);
}

static bool check(const uint8_t key[32], const char *file, const char *q, int64_t now)
{
    return signed_url_check(key, file, strlen(file), q, strlen(q), now);
}

static void test_valid_until_expiry(void **state)
{
    (void)state;
    char q[256];
    make(KEY, FILE_, 1000000, q, sizeof q);
    assert_true(check(KEY, FILE_, q, 1000000 - 3600));
    assert_true(check(KEY, FILE_, q, 1000000));
    assert_false(check(KEY, FILE_, q, 1000001));
}

static void test_bound_to_file_and_key(void **state)
{
    (void)state;
    char q[256];
    make(KEY, FILE_, 1000000, q, sizeof q);
    assert_false(check(KEY, "attachments/AbCdEfGhIjKlMnOpQrStUvWxYz012346.png", q, 0));
    uint8_t other[32];
    memcpy(other, KEY, 32);
    other[31] ^= 1;
    assert_false(check(other, FILE_, q, 0));
}

static void test_tampering_refused(void **state)
{
    (void)state;
    char q[256], bad[300];
    make(KEY, FILE_, 1000000, q, sizeof q);
    const char *sig = strstr(q, "sig=") + 4;
    /* a stretched expiry with the old signature */
    snprintf(bad, sizeof bad, "exp=2000000&sig=%s", sig);
    assert_false(check(KEY, FILE_, bad, 0));
    /* one hex digit changed */
    snprintf(bad, sizeof bad, "%s", q);
    char *s = strstr(bad, "sig=") + 4;
    s[10] = s[10] == '0' ? '1' : '0';
    assert_false(check(KEY, FILE_, bad, 0));
    /* cut, upper-cased, missing, extra parameter */
    snprintf(bad, sizeof bad, "%.*s", (int)strlen(q) - 1, q);
    assert_false(check(KEY, FILE_, bad, 0));
    snprintf(bad, sizeof bad, "exp=1000000&sig=%s", sig);
    for (char *p = strstr(bad, "sig=") + 4; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_false(strcmp(bad, q) != 0 && check(KEY, FILE_, bad, 0));
    assert_false(check(KEY, FILE_, "exp=1000000", 0));
    assert_false(check(KEY, FILE_, "", 0));
    snprintf(bad, sizeof bad, "%s&x=1", q);
    assert_false(check(KEY, FILE_, bad, 0));
}

static void test_either_order_and_bad_expiry(void **state)
{
    (void)state;
    char q[256], swapped[300];
    make(KEY, FILE_, 1000000, q, sizeof q);
    snprintf(swapped, sizeof swapped, "sig=%s&exp=1000000", strstr(q, "sig=") + 4);
    assert_true(check(KEY, FILE_, swapped, 0));
    const char *sig = strstr(q, "sig=") + 4;
    const char *exps[] = {"01000000", "-1", "1e6", "", "1000000000000000000000"};
    for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++) {
        snprintf(swapped, sizeof swapped, "exp=%s&sig=%s", exps[i], sig);
        assert_false(check(KEY, FILE_, swapped, 0));
    }
    char path[64];
    assert_false(signed_url_make(KEY, FILE_, 1000000, path, sizeof path)); /* does not fit */
    assert_false(signed_url_make(KEY, "", 1000000, path, sizeof path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_until_expiry),
        cmocka_unit_test(test_bound_to_file_and_key),
        cmocka_unit_test(test_tampering_refused),
        cmocka_unit_test(test_either_order_and_bad_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
