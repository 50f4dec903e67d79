/*
 * fuzz_wx_parse — libFuzzer target for wechat/wx_parse.c, the readers of WeChat's answers
 * (code2Session, access_token, getuserphonenumber, checksession). The first input byte picks
 * the parser; the rest is the HTTP body. Checks the documented contracts: text fields are
 * NUL-terminated, empty unless WX_OK, and of the documented shapes when WX_OK.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wechat/wx_client.h"
#include "wechat/wx_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_terminated(const char *s, size_t size)
{
    if (memchr(s, '\0', size) == NULL)
        abort();
}

static void fuzz_session(const char *body, size_t len)
{
    wx_session_result_t r;
    memset(&r, 0x5a, sizeof(r));
    wx_parse_code2session(body, len, &r);
    fuzz_terminated(r.openid, sizeof(r.openid));
    fuzz_terminated(r.unionid, sizeof(r.unionid));
    fuzz_terminated(r.session_key, sizeof(r.session_key));
    if (r.outcome == WX_OK) {
        if (r.openid[0] == '\0' || strlen(r.session_key) != 24)
            abort();
    } else if (r.outcome != WX_ERRCODE && r.outcome != WX_BAD_RESPONSE) {
        abort();
    } else if (r.openid[0] != '\0' || r.unionid[0] != '\0' || r.session_key[0] != '\0') {
        abort(); /* secrets or ids left behind on failure */
    }
    if (r.outcome == WX_ERRCODE && r.errcode == 0)
        abort();
}

static void fuzz_token(const char *body, size_t len)
{
    wx_token_answer_t t;
    memset(&t, 0x5a, sizeof(t));
    wx_parse_token(body, len, &t);
    if (t.outcome == WX_OK) {
        fuzz_terminated(t.token, sizeof(t.token));
        size_t n = strlen(t.token);
        if (n < 1 || n > WX_TOKEN_MAX || t.expires_in < 1 || t.expires_in > 86400)
            abort();
        for (size_t i = 0; i < n; i++)
            if (t.token[i] < 0x21 || t.token[i] > 0x7e)
                abort();
    }
}

static void fuzz_phone(const char *body, size_t len)
{
    wx_phone_result_t p;
    memset(&p, 0x5a, sizeof(p));
    wx_parse_phone_number(body, len, &p);
    fuzz_terminated(p.phone_number, sizeof(p.phone_number));
    fuzz_terminated(p.pure_phone_number, sizeof(p.pure_phone_number));
    fuzz_terminated(p.country_code, sizeof(p.country_code));
    fuzz_terminated(p.watermark_appid, sizeof(p.watermark_appid));
    if (p.outcome == WX_OK) {
        if (p.phone_number[0] == '\0' || p.pure_phone_number[0] == '\0' || p.country_code[0] == '\0' ||
            p.watermark_appid[0] == '\0')
            abort();
    } else if (p.phone_number[0] != '\0' || p.pure_phone_number[0] != '\0' || p.country_code[0] != '\0' ||
               p.watermark_appid[0] != '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    char *body = malloc(len + 1); /* exact-size copy, not NUL-terminated for the parser */
    if (body == NULL)
        abort();
    if (len > 0)
        memcpy(body, data + 1, len);
    wx_outcome_t outcome;
    long errcode;
    switch (data[0] % 4) {
    case 0:
        fuzz_session(body, len);
        break;
    case 1:
        fuzz_token(body, len);
        break;
    case 2:
        fuzz_phone(body, len);
        break;
    default:
        wx_parse_status(body, len, &outcome, &errcode);
        if (outcome == WX_ERRCODE && errcode == 0)
            abort();
        break;
    }
    free(body);
    return 0;
}
