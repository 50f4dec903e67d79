/*
 * test_wx_parse — WeChat's code2Session answers read into results, and the one table that maps
 * outcomes and errcodes to MeetOA's errnos and messages. Pure functions, table-driven cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "wechat/wx_client.h"

#define KEY    "tiihtNczf5v6AKRyjwEUhQ=="
#define OPENID "oGZUI0egBJY1zhBYw2KhdUfwVJJE"
#define ID63   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
#define ID64   ID63 "-"

typedef struct parse_case {
    const char *body;
    wx_outcome_t outcome;
    long errcode;
    const char *openid;  /* expected when WX_OK */
    const char *unionid; /* expected when WX_OK */
} parse_case_t;

static const parse_case_t parse_cases[] = {
    /* successes */
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\",\"unionid\":\"ocMvos6NjeKLIBqg5Mr9QjxrP1FA\"}", WX_OK, 0,
     OPENID, "ocMvos6NjeKLIBqg5Mr9QjxrP1FA"},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"}", WX_OK, 0, OPENID, ""},
    {"{\"errcode\":0,\"errmsg\":\"ok\",\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"}", WX_OK, 0, OPENID, ""},
    {"{\"session_key\":\"" KEY "\",\"openid\":\"" ID63 "\",\"unionid\":null}", WX_OK, 0, ID63, ""},
    {"{\"openid\":\"a\",\"session_key\":\"" KEY "\",\"unionid\":\"\"}", WX_OK, 0, "a", ""},
    {" \n{\"openid\":\"x-y_z\",\"session_key\":\"ab+/cdefghijklmnopqrsA==\"} ", WX_OK, 0, "x-y_z", ""},
    /* WeChat errors */
    {"{\"errcode\":40029,\"errmsg\":\"invalid code\"}", WX_ERRCODE, 40029, NULL, NULL},
    {"{\"errcode\":-1,\"errmsg\":\"system error\"}", WX_ERRCODE, -1, NULL, NULL},
    {"{\"errcode\":40163,\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"}", WX_ERRCODE, 40163, NULL, NULL},
    /* not JSON, not an object */
    {"", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"<html>502 Bad Gateway</html>", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"[\"" OPENID "\"]", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"null", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"a\",\"openid\":\"b\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    /* errcode of the wrong type */
    {"{\"errcode\":\"0\",\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"errcode\":0.0,\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"errcode\":null,\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    /* openid missing, mistyped, empty, too long, odd characters */
    {"{\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"errcode\":0,\"openid\":12345,\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" ID64 "\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"o penid\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"o'; drop\",\"session_key\":\"" KEY "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    /* session_key missing, mistyped, wrong length, not base64 of 16 bytes */
    {"{\"openid\":\"" OPENID "\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":null}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":[\"" KEY "\"]}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"tiihtNczf5v6AKRyjwEUhQ=\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"tiihtNczf5v6AKRyjwEUhQ===\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"tiihtNczf5v6AKRyjwEUhQab\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"tiihtNczf5v6AKRy-wEUhQ==\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"\"}", WX_BAD_RESPONSE, 0, NULL, NULL},
    /* unionid present but unusable */
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\",\"unionid\":7}", WX_BAD_RESPONSE, 0, NULL, NULL},
    {"{\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\",\"unionid\":\"" ID64 "\"}", WX_BAD_RESPONSE, 0, NULL,
     NULL},
};

static void test_parse_cases(void **state)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t *c = &parse_cases[i];
        wx_session_result_t r;
        memset(&r, 'Z', sizeof(r)); /* garbage must not survive */
        r.http_status = 200;
        print_message("case %zu: %s\n", i, c->body);
        wx_parse_code2session(c->body, strlen(c->body), &r);
        assert_int_equal(r.outcome, c->outcome);
        assert_int_equal(r.errcode, c->errcode);
        assert_int_equal(r.http_status, 200); /* left alone */
        if (c->outcome == WX_OK) {
            assert_string_equal(r.openid, c->openid);
            assert_string_equal(r.unionid, c->unionid);
            assert_int_equal(strlen(r.session_key), 24);
            assert_memory_equal(r.session_key, strstr(c->body, "\"session_key\":\"") + 15, 24);
        } else {
            assert_string_equal(r.openid, "");
            assert_string_equal(r.unionid, "");
            assert_string_equal(r.session_key, "");
        }
    }
}

/* The body is a slice: bytes after len are not part of it. */
static void test_parse_uses_length_not_nul(void **state)
{
    const char body[] = "{\"openid\":\"" OPENID "\",\"session_key\":\"" KEY "\"}GARBAGE";
    wx_session_result_t r;
    wx_parse_code2session(body, sizeof(body) - 1 - strlen("GARBAGE"), &r);
    assert_int_equal(r.outcome, WX_OK);
    assert_string_equal(r.openid, OPENID);
    wx_parse_code2session(body, sizeof(body) - 1, &r);
    assert_int_equal(r.outcome, WX_BAD_RESPONSE);
    /* cut inside the JSON */
    wx_parse_code2session(body, 20, &r);
    assert_int_equal(r.outcome, WX_BAD_RESPONSE);
}

/* A string holding a NUL byte is not an openid. */
static void test_parse_rejects_embedded_nul(void **state)
{
    const char *body = "{\"openid\":\"abc\\u0000def\",\"session_key\":\"" KEY "\"}";
    wx_session_result_t r;
    wx_parse_code2session(body, strlen(body), &r);
    assert_int_equal(r.outcome, WX_BAD_RESPONSE);
    assert_string_equal(r.openid, "");
}

typedef struct error_case {
    wx_outcome_t outcome;
    long errcode;
    api_errno_t api_errno;
    const char *errmsg;
    wx_fault_t fault;
} error_case_t;

#define MSG_CONFIG      "系统内部错误"
#define MSG_UNAVAILABLE "微信服务暂时不可用，请重新获取 code 后重试"

static const error_case_t error_cases[] = {
    {WX_ERRCODE, 40029, API_WX_CODE_INVALID, "登录凭证 code 无效或已过期，请重新调用 wx.login 获取", WX_FAULT_CLIENT},
    {WX_ERRCODE, 40163, API_WX_CODE_USED, "登录凭证 code 已被使用，请重新调用 wx.login 获取", WX_FAULT_CLIENT},
    {WX_ERRCODE, -1, API_WX_BUSY, "微信系统繁忙，请重新获取 code 后重试", WX_FAULT_TRANSIENT},
    {WX_ERRCODE, 45011, API_WX_RATE_LIMITED, "登录过于频繁，请稍后重新获取 code 再试", WX_FAULT_CLIENT},
    {WX_ERRCODE, 40226, API_WX_USER_BLOCKED, "该微信用户存在风险，已被微信拦截登录", WX_FAULT_CLIENT},
    {WX_ERRCODE, 40013, API_SERIOUS, MSG_CONFIG, WX_FAULT_CONFIG},
    {WX_ERRCODE, 40125, API_SERIOUS, MSG_CONFIG, WX_FAULT_CONFIG},
    {WX_ERRCODE, 41002, API_SERIOUS, MSG_CONFIG, WX_FAULT_CONFIG},
    {WX_ERRCODE, 41004, API_SERIOUS, MSG_CONFIG, WX_FAULT_CONFIG},
    {WX_ERRCODE, 41008, API_SERIOUS, MSG_CONFIG, WX_FAULT_CONFIG},
    {WX_ERRCODE, 40002, API_SERIOUS, MSG_CONFIG, WX_FAULT_CONFIG},
    {WX_ERRCODE, 12345, API_WX_UNAVAILABLE, MSG_UNAVAILABLE, WX_FAULT_TRANSIENT},
    {WX_ERRCODE, 40001, API_WX_UNAVAILABLE, MSG_UNAVAILABLE, WX_FAULT_TRANSIENT},
    {WX_TIMEOUT, 0, API_WX_UNAVAILABLE, MSG_UNAVAILABLE, WX_FAULT_TRANSIENT},
    {WX_UNREACHABLE, 0, API_WX_UNAVAILABLE, MSG_UNAVAILABLE, WX_FAULT_TRANSIENT},
    {WX_BAD_RESPONSE, 0, API_WX_UNAVAILABLE, MSG_UNAVAILABLE, WX_FAULT_TRANSIENT},
    /* the errcode only counts for WX_ERRCODE */
    {WX_TIMEOUT, 40029, API_WX_UNAVAILABLE, MSG_UNAVAILABLE, WX_FAULT_TRANSIENT},
    {WX_BAD_RESPONSE, 40013, API_WX_UNAVAILABLE, MSG_UNAVAILABLE, WX_FAULT_TRANSIENT},
};

static void test_error_table(void **state)
{
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const error_case_t *c = &error_cases[i];
        print_message("case %zu: outcome %d errcode %ld\n", i, (int)c->outcome, c->errcode);
        const wx_error_t *e = wx_error_lookup(c->outcome, c->errcode);
        assert_non_null(e);
        assert_int_equal(e->api_errno, c->api_errno);
        assert_string_equal(e->errmsg, c->errmsg);
        assert_int_equal(e->fault, c->fault);
        if (c->outcome == WX_ERRCODE && c->api_errno != API_WX_UNAVAILABLE)
            assert_int_equal(e->errcode, c->errcode);
    }
}

static void test_error_table_ok_is_null(void **state)
{
    assert_null(wx_error_lookup(WX_OK, 0));
    assert_null(wx_error_lookup(WX_OK, 40029));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cases),
        cmocka_unit_test(test_parse_uses_length_not_nul),
        cmocka_unit_test(test_parse_rejects_embedded_nul),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_error_table_ok_is_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
