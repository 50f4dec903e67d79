/*
 * test_checkin_scene — meeting/checkin_scene.h: the scenes of sign-in codes. A fixed code is
 * its 12 characters; a rotating one adds the window's token, which changes with the window,
 * depends on the key and the code, and is accepted for the overlap after its window only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "meeting/checkin_scene.h"

static const uint8_t KEY[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char CODE[] = "AbCdEf123456";
#define T0 INT64_C(1796605200) /* a multiple of 30 */

static checkin_clock_t at(int64_t now)
{
    return (checkin_clock_t){.now = now, .rotate_seconds = 30, .overlap_seconds = 10};
}

static void test_fixed_scene(void **state)
{
    (void)state;
    char scene[CHECKIN_SCENE_SIZE], code[CHECKIN_CODE_LENGTH + 1];
    const char *token = "x";
    checkin_clock_t c = at(T0);
    checkin_scene_make(KEY, CODE, false, &c, scene);
    assert_string_equal(scene, CODE);
    assert_true(checkin_scene_split(scene, code, &token));
    assert_string_equal(code, CODE);
    assert_null(token);
}

static void test_rotating_scene(void **state)
{
    (void)state;
    char a[CHECKIN_SCENE_SIZE], b[CHECKIN_SCENE_SIZE], code[CHECKIN_CODE_LENGTH + 1];
    const char *token;
    checkin_clock_t c = at(T0 + 5);
    checkin_scene_make(KEY, CODE, true, &c, a);
    assert_int_equal(strlen(a), CHECKIN_CODE_LENGTH + 1 + CHECKIN_TOKEN_LENGTH); /* 21 <= WeChat's 32 */
    assert_true(checkin_scene_split(a, code, &token));
    assert_string_equal(code, CODE);
    assert_non_null(token);
    for (const char *p = a; *p; p++) /* WeChat's allowed characters */
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.", *p));
    /* the same window, the same scene; the next window, another one */
    c = at(T0 + 29);
    checkin_scene_make(KEY, CODE, true, &c, b);
    assert_string_equal(a, b);
    c = at(T0 + 30);
    checkin_scene_make(KEY, CODE, true, &c, b);
    assert_string_not_equal(a, b);
    assert_int_equal(checkin_scene_ttl(&c), 30);
    c = at(T0 + 41);
    assert_int_equal(checkin_scene_ttl(&c), 19);
    /* another key or code: another token */
    uint8_t other[32];
    memcpy(other, KEY, 32);
    other[0] ^= 1;
    c = at(T0 + 5);
    checkin_scene_make(other, CODE, true, &c, b);
    assert_string_not_equal(a, b);
    checkin_scene_make(KEY, "AbCdEf123457", true, &c, b);
    assert_string_not_equal(a + CHECKIN_CODE_LENGTH, b + CHECKIN_CODE_LENGTH);
}

static void test_token_windows(void **state)
{
    (void)state;
    char scene[CHECKIN_SCENE_SIZE], code[CHECKIN_CODE_LENGTH + 1];
    const char *token;
    checkin_clock_t made = at(T0 + 3); /* window w */
    checkin_scene_make(KEY, CODE, true, &made, scene);
    assert_true(checkin_scene_split(scene, code, &token));
    checkin_clock_t c = at(T0 + 29);
    assert_true(checkin_token_valid(KEY, CODE, token, &c)); /* its own window */
    c = at(T0 + 30 + 9);
    assert_true(checkin_token_valid(KEY, CODE, token, &c)); /* the overlap after it */
    c = at(T0 + 30 + 10);
    assert_false(checkin_token_valid(KEY, CODE, token, &c)); /* past the overlap */
    c = at(T0 + 60 + 1);
    assert_false(checkin_token_valid(KEY, CODE, token, &c)); /* two windows on: never */
    c = at(T0 - 1);
    assert_false(checkin_token_valid(KEY, CODE, token, &c)); /* a future window's token */
    c = at(T0 + 3);
    assert_false(checkin_token_valid(KEY, "AbCdEf123457", token, &c)); /* another meeting */
    assert_false(checkin_token_valid(KEY, CODE, NULL, &c));
    assert_false(checkin_token_valid(KEY, CODE, "short", &c));
}

static void test_split_refuses(void **state)
{
    (void)state;
    char code[CHECKIN_CODE_LENGTH + 1];
    const char *token;
    static const char *bad[] = {
        "",
        "AbCdEf12345",            /* 11 */
        "AbCdEf1234567",          /* 13 */
        "AbCdEf12345!",           /* outside [A-Za-z0-9] */
        "AbCdEf123456.",          /* an empty token */
        "AbCdEf123456.abcdefg",   /* 7 */
        "AbCdEf123456.abcdefghi", /* 9 */
        "AbCdEf123456-abcdefgh",  /* not a dot */
        "AbCdEf123456.abcd-fgh",
        "m=1&t=AbCdEf123456",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (checkin_scene_split(bad[i], code, &token))
            fail_msg("checkin_scene_split accepted \"%s\"", bad[i]);
    assert_true(checkin_scene_split("AbCdEf123456.abcdefgh", code, &token));
    assert_string_equal(token, "abcdefgh");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_scene),
        cmocka_unit_test(test_rotating_scene),
        cmocka_unit_test(test_token_windows),
        cmocka_unit_test(test_split_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
