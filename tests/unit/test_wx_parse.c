/*
 * test_wx_parse — WeChat's code2Session, getuserphonenumber, checksession, msg_sec_check and
 * media_check_async answers read into results, and the tables that map outcomes and errcodes to
 * MeetOA's errnos and messages (one per API). Pure functions, table-driven cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/errno.h"
#include "wechat/wx_client.h"
#include "wechat/wx_internal.h"

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

/* ---- getuserphonenumber ---- */

#define APPID "wx4f4bc4dec97d474b"
#define WM    "\"watermark\":{\"timestamp\":1637744274,\"appid\":\"" APPID "\"}"

typedef struct phone_case {
    const char *body;
    wx_outcome_t outcome;
    long errcode;
    const char *phone, *pure, *country, *appid; /* expected when WX_OK */
} phone_case_t;

static const phone_case_t phone_cases[] = {
    /* successes: countryCode as a string or a number; phoneNumber optional */
    {"{\"errcode\":0,\"errmsg\":\"ok\",\"phone_info\":{\"phoneNumber\":\"+86 13800138000\",\"purePhoneNumber\":"
     "\"13800138000\",\"countryCode\":\"86\"," WM "}}",
     WX_OK, 0, "+86 13800138000", "13800138000", "86", APPID},
    {"{\"phone_info\":{\"phoneNumber\":\"13800138000\",\"purePhoneNumber\":\"13800138000\",\"countryCode\":86," WM "}}",
     WX_OK, 0, "13800138000", "13800138000", "86", APPID},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":86," WM "}}", WX_OK, 0, "13800138000",
     "13800138000", "86", APPID},
    {"{\"phone_info\":{\"phoneNumber\":null,\"purePhoneNumber\":\"4155550100\",\"countryCode\":\"1\"," WM "}}", WX_OK,
     0, "+1 4155550100", "4155550100", "1", APPID},
    {"{\"phone_info\":{\"purePhoneNumber\":\"85212345678\",\"countryCode\":1234,\"watermark\":{\"appid\":\"a\"}}}",
     WX_OK, 0, "+1234 85212345678", "85212345678", "1234", "a"},
    {"{\"phone_info\":{\"phoneNumber\":\"+1 415-555-0100\",\"purePhoneNumber\":\"12345678901234567890\","
     "\"countryCode\":\"0001\"," WM "}}",
     WX_OK, 0, "+1 415-555-0100", "12345678901234567890", "0001", APPID},
    /* WeChat errors */
    {"{\"errcode\":40029,\"errmsg\":\"invalid code\"}", WX_ERRCODE, 40029, NULL, NULL, NULL, NULL},
    {"{\"errcode\":1400001,\"errmsg\":\"quota\"}", WX_ERRCODE, 1400001, NULL, NULL, NULL, NULL},
    {"{\"errcode\":45011}", WX_ERRCODE, 45011, NULL, NULL, NULL, NULL},
    {"{\"errcode\":40001,\"errmsg\":\"invalid credential\"}", WX_ERRCODE, 40001, NULL, NULL, NULL, NULL},
    {"{\"errcode\":-1}", WX_ERRCODE, -1, NULL, NULL, NULL, NULL},
    {"{\"errcode\":40013,\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\"," WM "}}",
     WX_ERRCODE, 40013, NULL, NULL, NULL, NULL},
    /* not JSON, or no phone_info */
    {"", WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"<html/>", WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"errcode\":0,\"errmsg\":\"ok\"}", WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":\"13800138000\"}", WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"errcode\":\"0\",\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\"," WM "}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    /* purePhoneNumber missing, mistyped, empty, too long, not digits */
    {"{\"phone_info\":{\"countryCode\":\"86\"," WM "}}", WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":13800138000,\"countryCode\":\"86\"," WM "}}", WX_BAD_RESPONSE, 0, NULL, NULL,
     NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"\",\"countryCode\":\"86\"," WM "}}", WX_BAD_RESPONSE, 0, NULL, NULL, NULL,
     NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"123456789012345678901\",\"countryCode\":\"86\"," WM "}}", WX_BAD_RESPONSE,
     0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"1380013800a\",\"countryCode\":\"86\"," WM "}}", WX_BAD_RESPONSE, 0, NULL,
     NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"+8613800138000\",\"countryCode\":\"86\"," WM "}}", WX_BAD_RESPONSE, 0,
     NULL, NULL, NULL, NULL},
    /* countryCode missing, mistyped, out of range */
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\"," WM "}}", WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":86.0," WM "}}", WX_BAD_RESPONSE, 0, NULL,
     NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":null," WM "}}", WX_BAD_RESPONSE, 0, NULL,
     NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"+86\"," WM "}}", WX_BAD_RESPONSE, 0, NULL,
     NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"12345\"," WM "}}", WX_BAD_RESPONSE, 0,
     NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"\"," WM "}}", WX_BAD_RESPONSE, 0, NULL,
     NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":10000," WM "}}", WX_BAD_RESPONSE, 0, NULL,
     NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":-86," WM "}}", WX_BAD_RESPONSE, 0, NULL,
     NULL, NULL, NULL},
    /* phoneNumber present but unusable */
    {"{\"phone_info\":{\"phoneNumber\":13800138000,\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\"," WM "}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"phoneNumber\":\"\",\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\"," WM "}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"phoneNumber\":\"138<b>\",\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\"," WM "}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"phoneNumber\":\"+86 1380013800012345678901234567\",\"purePhoneNumber\":\"13800138000\","
     "\"countryCode\":\"86\"," WM "}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    /* watermark or its appid missing, mistyped, empty, too long */
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\"}}", WX_BAD_RESPONSE, 0, NULL, NULL,
     NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\",\"watermark\":\"" APPID "\"}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\",\"watermark\":{\"timestamp\":1}}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\",\"watermark\":{\"appid\":7}}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\",\"watermark\":{\"appid\":\"\"}}"
     "}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
    {"{\"phone_info\":{\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\",\"watermark\":{\"appid\":\"" ID64
     "\"}}}",
     WX_BAD_RESPONSE, 0, NULL, NULL, NULL, NULL},
};

static void test_parse_phone_cases(void **state)
{
    for (size_t i = 0; i < sizeof(phone_cases) / sizeof(phone_cases[0]); i++) {
        const phone_case_t *c = &phone_cases[i];
        wx_phone_result_t r;
        memset(&r, 'Z', sizeof(r)); /* garbage must not survive */
        r.http_status = 200;
        r.token_failed = false;
        print_message("case %zu: %s\n", i, c->body);
        wx_parse_phone_number(c->body, strlen(c->body), &r);
        assert_int_equal(r.outcome, c->outcome);
        assert_int_equal(r.errcode, c->errcode);
        assert_int_equal(r.http_status, 200); /* left alone */
        assert_false(r.token_failed);
        assert_string_equal(r.phone_number, c->outcome == WX_OK ? c->phone : "");
        assert_string_equal(r.pure_phone_number, c->outcome == WX_OK ? c->pure : "");
        assert_string_equal(r.country_code, c->outcome == WX_OK ? c->country : "");
        assert_string_equal(r.watermark_appid, c->outcome == WX_OK ? c->appid : "");
    }
}

static void test_parse_status(void **state)
{
    static const struct {
        const char *body;
        wx_outcome_t outcome;
        long errcode;
    } cases[] = {
        {"{\"errcode\":0,\"errmsg\":\"ok\"}", WX_OK, 0},
        {"{}", WX_OK, 0},
        {"{\"errcode\":87009,\"errmsg\":\"invalid signature\"}", WX_ERRCODE, 87009},
        {"{\"errcode\":\"87009\"}", WX_BAD_RESPONSE, 0},
        {"{\"errcode\":0.5}", WX_BAD_RESPONSE, 0},
        {"ok", WX_BAD_RESPONSE, 0},
        {"[0]", WX_BAD_RESPONSE, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wx_outcome_t outcome = (wx_outcome_t)77;
        long errcode = 77;
        print_message("case %zu: %s\n", i, cases[i].body);
        wx_parse_status(cases[i].body, strlen(cases[i].body), &outcome, &errcode);
        assert_int_equal(outcome, cases[i].outcome);
        assert_int_equal(errcode, cases[i].errcode);
    }
}

/* ---- msg_sec_check and media_check_async ---- */

#define TRACE   "81e82bd9-f1f85f0a-d9cc4d46"
#define TRACE63 ID63
#define TRACE64 ID64
/* §1.3.1's sample answer as WeChat sends it (the trace_id elided there, "…": no sane id) */
#define SEC_SAMPLE(trace)                                                                                              \
    "{\"errcode\":0,\"errmsg\":\"ok\",\"detail\":[{\"strategy\":\"content_model\",\"errcode\":0,\"suggest\":"          \
    "\"review\",\"label\":20001,\"prob\":90},{\"strategy\":\"keyword\",\"errcode\":0}],\"trace_id\":\"" trace          \
    "\",\"result\":{\"suggest\":\"review\",\"label\":20001}}"

typedef struct sec_case {
    const char *body;
    wx_outcome_t outcome;
    long errcode;
    wx_suggest_t suggest;
    long label;
    const char *trace_id;
} sec_case_t;

static const sec_case_t sec_cases[] = {
    /* WeChat's sample, with its elided trace_id and with a real one */
    {SEC_SAMPLE("…"), WX_OK, 0, WX_SUGGEST_REVIEW, 20001, ""},
    {SEC_SAMPLE(TRACE), WX_OK, 0, WX_SUGGEST_REVIEW, 20001, TRACE},
    /* label as a string (the media push's style) and as a number */
    {"{\"errcode\":0,\"errmsg\":\"ok\",\"trace_id\":\"" TRACE "\",\"result\":{\"suggest\":\"pass\",\"label\":\"100\"}}",
     WX_OK, 0, WX_SUGGEST_PASS, 100, TRACE},
    {"{\"errcode\":0,\"trace_id\":\"" TRACE "\",\"result\":{\"suggest\":\"pass\",\"label\":100}}", WX_OK, 0,
     WX_SUGGEST_PASS, 100, TRACE},
    {"{\"errcode\":0,\"result\":{\"suggest\":\"risky\",\"label\":\"20002\"},\"trace_id\":\"t\"}", WX_OK, 0,
     WX_SUGGEST_RISKY, 20002, "t"},
    {"{\"result\":{\"label\":21000,\"suggest\":\"risky\"}}", WX_OK, 0, WX_SUGGEST_RISKY, 21000, ""}, /* no errcode */
    {"{\"result\":{\"suggest\":\"risky\",\"label\":\"0\"}}", WX_OK, 0, WX_SUGGEST_RISKY, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":2147483647}}", WX_OK, 0, WX_SUGGEST_PASS, 2147483647, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":\"999999999\"}}", WX_OK, 0, WX_SUGGEST_PASS, 999999999, ""},
    /* label missing or null: 0, the verdict stands */
    {"{\"errcode\":0,\"result\":{\"suggest\":\"pass\"}}", WX_OK, 0, WX_SUGGEST_PASS, 0, ""},
    {"{\"errcode\":0,\"result\":{\"suggest\":\"review\",\"label\":null}}", WX_OK, 0, WX_SUGGEST_REVIEW, 0, ""},
    /* trace_id: kept up to 63 characters; a strange one is dropped, not the verdict */
    {"{\"trace_id\":\"" TRACE63 "\",\"result\":{\"suggest\":\"pass\",\"label\":100}}", WX_OK, 0, WX_SUGGEST_PASS, 100,
     TRACE63},
    {"{\"trace_id\":\"" TRACE64 "\",\"result\":{\"suggest\":\"pass\",\"label\":100}}", WX_OK, 0, WX_SUGGEST_PASS, 100,
     ""},
    {"{\"trace_id\":12345,\"result\":{\"suggest\":\"pass\",\"label\":100}}", WX_OK, 0, WX_SUGGEST_PASS, 100, ""},
    {"{\"trace_id\":\"a b\",\"result\":{\"suggest\":\"pass\",\"label\":100}}", WX_OK, 0, WX_SUGGEST_PASS, 100, ""},
    {"{\"trace_id\":\"\",\"result\":{\"suggest\":\"pass\",\"label\":100}}", WX_OK, 0, WX_SUGGEST_PASS, 100, ""},
    /* WeChat's errors: the result, if any, is not read */
    {"{\"errcode\":61010,\"errmsg\":\"code is expired\"}", WX_ERRCODE, 61010, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":-1,\"errmsg\":\"system error\"}", WX_ERRCODE, -1, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":87014,\"errmsg\":\"risky content\"}", WX_ERRCODE, 87014, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":40129,\"trace_id\":\"" TRACE "\",\"result\":{\"suggest\":\"pass\",\"label\":100}}", WX_ERRCODE,
     40129, WX_SUGGEST_NONE, 0, ""},
    /* no verdict: no result, no suggest, an unknown or mistyped one */
    {"{\"errcode\":0,\"errmsg\":\"ok\",\"trace_id\":\"" TRACE "\"}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":0,\"result\":{\"label\":100}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":0,\"result\":{}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":0,\"result\":null}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":0,\"result\":\"pass\"}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":0,\"suggest\":\"pass\"}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""}, /* not inside result */
    {"{\"result\":{\"suggest\":\"block\",\"label\":100}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"PASS\",\"label\":100}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"\",\"label\":100}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":1,\"label\":100}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":null}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\\u0000x\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    /* a label of another kind */
    {"{\"result\":{\"suggest\":\"pass\",\"label\":\"abc\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":\"\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":\"-1\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":\"1e3\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":\"1000000000\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":-1}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":2147483648}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":1.5}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":true}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\",\"label\":[100]}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    /* garbage */
    {"", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"<html>502 Bad Gateway</html>", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\"}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"[{\"result\":{\"suggest\":\"pass\"}}]", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"null", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"result\":{\"suggest\":\"pass\"},\"result\":{\"suggest\":\"risky\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0,
     ""},
    {"{\"errcode\":\"0\",\"result\":{\"suggest\":\"pass\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
    {"{\"errcode\":null,\"result\":{\"suggest\":\"pass\"}}", WX_BAD_RESPONSE, 0, WX_SUGGEST_NONE, 0, ""},
};

static void test_parse_msg_sec_check(void **state)
{
    for (size_t i = 0; i < sizeof(sec_cases) / sizeof(sec_cases[0]); i++) {
        const sec_case_t *c = &sec_cases[i];
        wx_msg_sec_check_result_t r;
        memset(&r, 'Z', sizeof(r)); /* garbage must not survive */
        r.http_status = 200;
        r.token_failed = false;
        print_message("case %zu: %s\n", i, c->body);
        wx_parse_msg_sec_check(c->body, strlen(c->body), &r);
        assert_int_equal(r.outcome, c->outcome);
        assert_int_equal(r.errcode, c->errcode);
        assert_int_equal(r.suggest, c->suggest);
        assert_int_equal(r.label, c->label);
        assert_string_equal(r.trace_id, c->trace_id);
        assert_int_equal(r.http_status, 200); /* left alone */
        assert_false(r.token_failed);
    }
    /* the length is what counts, not a NUL */
    static const char longer[] = "{\"result\":{\"suggest\":\"risky\",\"label\":20006}}GARBAGE";
    wx_msg_sec_check_result_t r;
    wx_parse_msg_sec_check(longer, strlen(longer) - 7, &r);
    assert_int_equal(r.outcome, WX_OK);
    assert_int_equal(r.suggest, WX_SUGGEST_RISKY);
    assert_int_equal(r.label, 20006);
    wx_parse_msg_sec_check(longer, strlen(longer), &r);
    assert_int_equal(r.outcome, WX_BAD_RESPONSE);
    assert_int_equal(r.suggest, WX_SUGGEST_NONE);
    assert_int_equal(WX_SUGGEST_NONE, 0); /* a zeroed result is no verdict, never a pass */
}

static void test_parse_media_check(void **state)
{
    static const struct {
        const char *body;
        wx_outcome_t outcome;
        long errcode;
        const char *trace_id;
    } cases[] = {
        {"{\"errcode\":0,\"errmsg\":\"ok\",\"trace_id\":\"690b03d2-1a2b3c4d-5e6f7a8b\"}", WX_OK, 0,
         "690b03d2-1a2b3c4d-5e6f7a8b"},
        {"{\"trace_id\":\"" TRACE "\"}", WX_OK, 0, TRACE}, /* no errcode */
        {"{\"errcode\":0,\"trace_id\":\"" TRACE63 "\"}", WX_OK, 0, TRACE63},
        /* errcode 0 without a usable trace_id: the verdict could never be matched */
        {"{\"errcode\":0,\"errmsg\":\"ok\"}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0,\"traceId\":\"" TRACE "\"}", WX_BAD_RESPONSE, 0, ""}, /* the cloud call's name is not ours */
        {"{\"errcode\":0,\"trace_id\":\"\"}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0,\"trace_id\":null}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0,\"trace_id\":690}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0,\"trace_id\":\"" TRACE64 "\"}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0,\"trace_id\":\"a b\"}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0,\"trace_id\":\"a\\nb\"}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0,\"trace_id\":\"a\\u0000b\"}", WX_BAD_RESPONSE, 0, ""},
        /* WeChat's errors */
        {"{\"errcode\":61010,\"errmsg\":\"code is expired\"}", WX_ERRCODE, 61010, ""},
        {"{\"errcode\":47001,\"errmsg\":\"data format error\",\"trace_id\":\"" TRACE "\"}", WX_ERRCODE, 47001, ""},
        {"{\"errcode\":-1,\"errmsg\":\"system error\"}", WX_ERRCODE, -1, ""},
        /* garbage */
        {"", WX_BAD_RESPONSE, 0, ""},
        {"not json", WX_BAD_RESPONSE, 0, ""},
        {"[\"" TRACE "\"]", WX_BAD_RESPONSE, 0, ""},
        {"{\"trace_id\":\"" TRACE "\"", WX_BAD_RESPONSE, 0, ""},
        {"{\"trace_id\":\"a\",\"trace_id\":\"b\"}", WX_BAD_RESPONSE, 0, ""},
        {"{\"errcode\":0.0,\"trace_id\":\"" TRACE "\"}", WX_BAD_RESPONSE, 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wx_media_check_result_t r;
        memset(&r, 'Z', sizeof(r));
        r.http_status = 200;
        r.token_failed = true;
        print_message("case %zu: %s\n", i, cases[i].body);
        wx_parse_media_check(cases[i].body, strlen(cases[i].body), &r);
        assert_int_equal(r.outcome, cases[i].outcome);
        assert_int_equal(r.errcode, cases[i].errcode);
        assert_string_equal(r.trace_id, cases[i].trace_id);
        assert_int_equal(r.http_status, 200); /* left alone */
        assert_true(r.token_failed);
    }
}

/* ---- the tables of the other APIs ---- */

typedef struct api_error_case {
    wx_api_t api;
    wx_outcome_t outcome;
    long errcode;
    api_errno_t api_errno;
    const char *errmsg; /* NULL: api_errmsg(api_errno) */
    wx_fault_t fault;
    long row_errcode; /* the errcode of the row found: 0 for the fallback (unknown code, no errcode) */
} api_error_case_t;

#define MSG_LATER "微信服务暂时不可用，请稍后重试"

static const api_error_case_t api_error_cases[] = {
    /* getuserphonenumber */
    {WX_API_PHONE, WX_ERRCODE, 40029, API_WX_PHONE_CODE_INVALID, NULL, WX_FAULT_CLIENT, 40029},
    {WX_API_PHONE, WX_ERRCODE, 1400001, API_WX_PHONE_QUOTA, NULL, WX_FAULT_CONFIG, 1400001},
    {WX_API_PHONE, WX_ERRCODE, 45011, API_WX_RATE_LIMITED, "获取手机号过于频繁，请稍后再试", WX_FAULT_CLIENT, 45011},
    {WX_API_PHONE, WX_ERRCODE, -1, API_WX_BUSY, NULL, WX_FAULT_TRANSIENT, -1},
    {WX_API_PHONE, WX_ERRCODE, 40013, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40013},
    {WX_API_PHONE, WX_ERRCODE, 40125, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40125},
    {WX_API_PHONE, WX_ERRCODE, 41002, API_SERIOUS, NULL, WX_FAULT_CONFIG, 41002},
    {WX_API_PHONE, WX_ERRCODE, 41004, API_SERIOUS, NULL, WX_FAULT_CONFIG, 41004},
    {WX_API_PHONE, WX_ERRCODE, 40001, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 40001},
    {WX_API_PHONE, WX_ERRCODE, 42001, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 42001},
    {WX_API_PHONE, WX_ERRCODE, 40014, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 40014},
    {WX_API_PHONE, WX_ERRCODE, 40163, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 0}, /* code2Session's, not ours */
    {WX_API_PHONE, WX_ERRCODE, 99999, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 0},
    {WX_API_PHONE, WX_TIMEOUT, 0, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 0},
    {WX_API_PHONE, WX_UNREACHABLE, 0, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 0},
    {WX_API_PHONE, WX_BAD_RESPONSE, 40029, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 0},
    /* checksession */
    {WX_API_CHECKSESSION, WX_ERRCODE, 87009, API_SESSION_KEY_STALE, NULL, WX_FAULT_CLIENT, 87009},
    {WX_API_CHECKSESSION, WX_ERRCODE, 87008, API_SERIOUS, NULL, WX_FAULT_CONFIG, 87008},
    {WX_API_CHECKSESSION, WX_ERRCODE, 45011, API_WX_RATE_LIMITED, "操作过于频繁，请稍后再试", WX_FAULT_CLIENT, 45011},
    {WX_API_CHECKSESSION, WX_ERRCODE, -1, API_WX_BUSY, "微信系统繁忙，请稍后重试", WX_FAULT_TRANSIENT, -1},
    {WX_API_CHECKSESSION, WX_ERRCODE, 40125, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40125},
    {WX_API_CHECKSESSION, WX_ERRCODE, 42001, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 42001},
    {WX_API_CHECKSESSION, WX_ERRCODE, 40029, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    {WX_API_CHECKSESSION, WX_TIMEOUT, 0, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    /* the access_token fetch */
    {WX_API_TOKEN, WX_ERRCODE, 40013, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40013},
    {WX_API_TOKEN, WX_ERRCODE, 40125, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40125},
    {WX_API_TOKEN, WX_ERRCODE, 40001, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40001},
    {WX_API_TOKEN, WX_ERRCODE, 40164, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40164},
    {WX_API_TOKEN, WX_ERRCODE, 45009, API_SERIOUS, NULL, WX_FAULT_CONFIG, 45009},
    {WX_API_TOKEN, WX_ERRCODE, 40002, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40002},
    {WX_API_TOKEN, WX_ERRCODE, -1, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    {WX_API_TOKEN, WX_ERRCODE, 12345, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    {WX_API_TOKEN, WX_TIMEOUT, 0, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    {WX_API_TOKEN, WX_BAD_RESPONSE, 40013, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    /* msg_sec_check and media_check_async: one table */
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 61010, API_SESSION_KEY_STALE, NULL, WX_FAULT_CLIENT, 61010},
    {WX_API_MEDIA_CHECK, WX_ERRCODE, 61010, API_SESSION_KEY_STALE, NULL, WX_FAULT_CLIENT, 61010},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, -1, API_WX_BUSY, "微信系统繁忙，请稍后重试", WX_FAULT_TRANSIENT, -1},
    {WX_API_MEDIA_CHECK, WX_ERRCODE, -1, API_WX_BUSY, "微信系统繁忙，请稍后重试", WX_FAULT_TRANSIENT, -1},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 44002, API_SERIOUS, NULL, WX_FAULT_CONFIG, 44002},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 47001, API_SERIOUS, NULL, WX_FAULT_CONFIG, 47001},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 40129, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40129},
    {WX_API_MEDIA_CHECK, WX_ERRCODE, 47001, API_SERIOUS, NULL, WX_FAULT_CONFIG, 47001},
    {WX_API_MEDIA_CHECK, WX_ERRCODE, 40129, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40129},
    {WX_API_MEDIA_CHECK, WX_ERRCODE, 44002, API_SERIOUS, NULL, WX_FAULT_CONFIG, 44002},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 40003, API_SERIOUS, NULL, WX_FAULT_CONFIG, 40003},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 43104, API_SERIOUS, NULL, WX_FAULT_CONFIG, 43104},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 48001, API_SERIOUS, NULL, WX_FAULT_CONFIG, 48001},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 45009, API_WX_RATE_LIMITED, "内容检查过于频繁，请稍后再试", WX_FAULT_TRANSIENT,
     45009},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 40001, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 40001},
    {WX_API_MEDIA_CHECK, WX_ERRCODE, 42001, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 42001},
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 87014, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0}, /* v1's */
    {WX_API_MSG_SEC_CHECK, WX_ERRCODE, 40029, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    {WX_API_MSG_SEC_CHECK, WX_TIMEOUT, 0, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    {WX_API_MEDIA_CHECK, WX_UNREACHABLE, 0, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    {WX_API_MEDIA_CHECK, WX_BAD_RESPONSE, 61010, API_WX_UNAVAILABLE, MSG_LATER, WX_FAULT_TRANSIENT, 0},
    /* code2Session: the one table above */
    {WX_API_CODE2SESSION, WX_ERRCODE, 40029, API_WX_CODE_INVALID, NULL, WX_FAULT_CLIENT, 40029},
    {WX_API_CODE2SESSION, WX_ERRCODE, 40163, API_WX_CODE_USED, NULL, WX_FAULT_CLIENT, 40163},
    {WX_API_CODE2SESSION, WX_TIMEOUT, 0, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT, 0},
};

static void test_api_error_tables(void **state)
{
    for (size_t i = 0; i < sizeof(api_error_cases) / sizeof(api_error_cases[0]); i++) {
        const api_error_case_t *c = &api_error_cases[i];
        print_message("case %zu: api %d outcome %d errcode %ld\n", i, (int)c->api, (int)c->outcome, c->errcode);
        const wx_error_t *e = wx_error_lookup_api(c->api, c->outcome, c->errcode);
        assert_non_null(e);
        assert_int_equal(e->api_errno, c->api_errno);
        assert_string_equal(e->errmsg, c->errmsg != NULL ? c->errmsg : api_errmsg(c->api_errno));
        assert_int_equal(e->fault, c->fault);
        assert_int_equal(e->errcode, c->row_errcode);
    }
    /* code2Session through either entry point: the same row */
    assert_ptr_equal(wx_error_lookup_api(WX_API_CODE2SESSION, WX_ERRCODE, 40226), wx_error_lookup(WX_ERRCODE, 40226));
    for (wx_api_t api = WX_API_CODE2SESSION; api <= WX_API_MEDIA_CHECK; api++) {
        assert_null(wx_error_lookup_api(api, WX_OK, 0));
        assert_null(wx_error_lookup_api(api, WX_OK, 40029));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cases),
        cmocka_unit_test(test_parse_uses_length_not_nul),
        cmocka_unit_test(test_parse_rejects_embedded_nul),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_error_table_ok_is_null),
        cmocka_unit_test(test_parse_phone_cases),
        cmocka_unit_test(test_parse_status),
        cmocka_unit_test(test_parse_msg_sec_check),
        cmocka_unit_test(test_parse_media_check),
        cmocka_unit_test(test_api_error_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
