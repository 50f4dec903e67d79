/*
 * test_wx_token — the pure rules of the access_token manager: how long a token is used, the
 * force_refresh ration (20 a UTC day, 30 s apart), the reading of token answers, and the JSON
 * bodies written for WeChat. (The manager itself, over HTTP, is in test_wx_client.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wechat/wx_internal.h"

static void test_lifetime(void **state)
{
    assert_int_equal(wx_token_lifetime_ms(7200), 6900 * 1000); /* 300 s before the end */
    assert_int_equal(wx_token_lifetime_ms(601), 301 * 1000);   /* still 300 s: half is 300.5 s */
    assert_int_equal(wx_token_lifetime_ms(600), 300 * 1000);   /* both rules agree */
    assert_int_equal(wx_token_lifetime_ms(301), 150500);       /* half is shorter */
    assert_int_equal(wx_token_lifetime_ms(2), 1000);           /* half */
    assert_int_equal(wx_token_lifetime_ms(1), 500);
}

#define DAY   86400
#define T0    (20000 * (int64_t)DAY + 3600) /* 01:00 UTC on some day */
#define MS(s) ((int64_t)(s)*1000)

static void test_ration_spacing(void **state)
{
    wx_force_ration_t r = {0};
    assert_int_equal(wx_force_ration_today(&r, T0), 0);
    assert_true(wx_force_ration_take(&r, T0, MS(1000)));
    assert_int_equal(wx_force_ration_today(&r, T0), 1);
    /* 30 s apart, by the monotonic clock */
    assert_false(wx_force_ration_take(&r, T0 + 29, MS(1029)));
    assert_false(wx_force_ration_take(&r, T0 + 100, MS(1029) + 999)); /* wall clock jumped: not trusted */
    assert_int_equal(wx_force_ration_today(&r, T0), 1);
    assert_true(wx_force_ration_take(&r, T0 + 30, MS(1030)));
    assert_int_equal(wx_force_ration_today(&r, T0 + 30), 2);
}

static void test_ration_per_day(void **state)
{
    wx_force_ration_t r = {0};
    int64_t now = T0, mono = MS(5000);
    for (int i = 0; i < 20; i++, now += 31, mono += MS(31))
        assert_true(wx_force_ration_take(&r, now, mono));
    assert_int_equal(wx_force_ration_today(&r, now), 20);
    assert_false(wx_force_ration_take(&r, now, mono));
    assert_false(wx_force_ration_take(&r, now + 3600, mono + MS(3600)));
    /* the next UTC day (00:00:00 UTC) starts a new count */
    int64_t midnight = (T0 / DAY + 1) * DAY;
    assert_false(wx_force_ration_take(&r, midnight - 1, mono + MS(midnight - 1 - now)));
    assert_int_equal(wx_force_ration_today(&r, midnight), 0);
    assert_true(wx_force_ration_take(&r, midnight, mono + MS(midnight - now)));
    assert_int_equal(wx_force_ration_today(&r, midnight), 1);
    assert_int_equal(wx_force_ration_today(&r, midnight - 1), 0); /* a count is of its own day only */
}

#define TOKEN512                                                                                                       \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct token_case {
    const char *body;
    wx_outcome_t outcome;
    long errcode;
    long expires_in;
} token_case_t;

static const token_case_t token_cases[] = {
    {"{\"access_token\":\"ACCESS_TOKEN\",\"expires_in\":7200}", WX_OK, 0, 7200},
    {"{\"errcode\":0,\"access_token\":\"a-b_c\",\"expires_in\":1}", WX_OK, 0, 1},
    {"{\"access_token\":\"" TOKEN512 "\",\"expires_in\":86400}", WX_OK, 0, 86400},
    {"{\"errcode\":40013,\"errmsg\":\"invalid appid\"}", WX_ERRCODE, 40013, 0},
    {"{\"errcode\":-1,\"access_token\":\"x\",\"expires_in\":7200}", WX_ERRCODE, -1, 0},
    {"{\"access_token\":\"" TOKEN512 "x\",\"expires_in\":7200}", WX_BAD_RESPONSE, 0, 0}, /* 513 */
    {"{\"access_token\":\"\",\"expires_in\":7200}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"a b\",\"expires_in\":7200}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"a\\nb\",\"expires_in\":7200}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":7,\"expires_in\":7200}", WX_BAD_RESPONSE, 0, 0},
    {"{\"expires_in\":7200}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"t\"}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"t\",\"expires_in\":\"7200\"}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"t\",\"expires_in\":0}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"t\",\"expires_in\":-5}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"t\",\"expires_in\":86401}", WX_BAD_RESPONSE, 0, 0},
    {"{\"access_token\":\"t\",\"expires_in\":7200.0}", WX_BAD_RESPONSE, 0, 0},
    {"{\"errcode\":\"40013\"}", WX_BAD_RESPONSE, 0, 0},
    {"<html></html>", WX_BAD_RESPONSE, 0, 0},
    {"[]", WX_BAD_RESPONSE, 0, 0},
};

static void test_parse_token(void **state)
{
    for (size_t i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); i++) {
        const token_case_t *c = &token_cases[i];
        wx_token_answer_t a;
        memset(&a, 'Z', sizeof(a));
        print_message("case %zu: %.80s\n", i, c->body);
        wx_parse_token(c->body, strlen(c->body), &a);
        assert_int_equal(a.outcome, c->outcome);
        assert_int_equal(a.errcode, c->errcode);
        assert_int_equal(a.expires_in, c->expires_in);
        if (c->outcome == WX_OK) {
            const char *start = strstr(c->body, "\"access_token\":\"") + 16;
            assert_int_equal(strlen(a.token), strchr(start, '"') - start);
            assert_memory_equal(a.token, start, strlen(a.token));
        } else {
            assert_string_equal(a.token, "");
        }
    }
}

/* What wx_json_build writes is JSON that reads back as exactly the values given. */
static void test_json_build(void **state)
{
    const char *nasty = "se\"cr\\et/\x01\x1f\x7f+&=中文";
    const wx_json_member_t members[] = {
        {"grant_type", "client_credential", NULL},
        {"secret", nasty, NULL},
        {"empty", "", NULL},
        {"force_refresh", NULL, "true"},
    };
    char *body = wx_json_build(members, 4);
    assert_non_null(body);
    print_message("%s\n", body);
    json_error_t error;
    json_t *root = json_loads(body, JSON_REJECT_DUPLICATES, &error);
    assert_non_null(root);
    assert_int_equal(json_object_size(root), 4);
    assert_string_equal(json_string_value(json_object_get(root, "grant_type")), "client_credential");
    assert_string_equal(json_string_value(json_object_get(root, "secret")), nasty);
    assert_string_equal(json_string_value(json_object_get(root, "empty")), "");
    assert_true(json_is_true(json_object_get(root, "force_refresh")));
    json_decref(root);
    free(body);

    body = wx_json_build(members, 1);
    assert_string_equal(body, "{\"grant_type\":\"client_credential\"}");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifetime),       cmocka_unit_test(test_ration_spacing),
        cmocka_unit_test(test_ration_per_day), cmocka_unit_test(test_parse_token),
        cmocka_unit_test(test_json_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
