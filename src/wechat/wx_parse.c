/*
 * wx_parse — reading WeChat's JSON answers into results. Pure: no I/O, no globals, so the
 * unit tests drive every branch directly.
 *
 * WeChat's conventions (docs in /work/shared/wechat-api.md): an error answer carries a non-zero
 * integer errcode; a success answer carries errcode 0 or none at all, and still has to hold every
 * field we need, with sane values: anything we would store or use as a key is checked here, so
 * the rest of MeetOA never sees a malformed openid or session_key.
 *
 * Also here: the answers of the access_token endpoints, getuserphonenumber and checksession
 * (declared in wx_internal.h), of subscribe/send, msg_sec_check and media_check_async (declared
 * in wx_client.h), and the writer of the small JSON request bodies (which escapes values itself
 * so that no library keeps an unwiped copy of the app secret).
 */
#include "wechat/wx_client.h"
#include "wechat/wx_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WX_SESSION_KEY_LEN 24 /* base64 of 16 bytes */

static bool wx_is_id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool wx_is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* An openid or unionid: 1..WX_ID_SIZE-1 characters of [A-Za-z0-9_-]. */
static bool wx_id_valid(const char *s, size_t len)
{
    if (len == 0 || len >= WX_ID_SIZE)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!wx_is_id_char(s[i]))
            return false;
    }
    return true;
}

/* base64 of exactly 16 bytes: 22 alphabet characters then "==". */
static bool wx_session_key_valid(const char *s, size_t len)
{
    if (len != WX_SESSION_KEY_LEN || s[22] != '=' || s[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++) {
        if (!wx_is_base64_char(s[i]))
            return false;
    }
    return true;
}

/*
 * Reads the errcode every WeChat answer may carry. Returns false when it is present but not an
 * integer; *errcode is 0 when absent.
 */
static bool wx_parse_errcode(const json_t *root, long *errcode)
{
    const json_t *value = json_object_get(root, "errcode");
    *errcode = 0;
    if (value == NULL)
        return true;
    if (!json_is_integer(value))
        return false;
    *errcode = (long)json_integer_value(value);
    return true;
}

/* Copies root[name] (a string accepted by valid) into dst. Returns false when absent, mistyped or invalid. */
static bool wx_take_string(const json_t *root, const char *name, bool (*valid)(const char *, size_t), char *dst,
                           size_t size)
{
    const json_t *value = json_object_get(root, name);
    if (!json_is_string(value))
        return false;
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    if (!valid(s, len) || len >= size)
        return false;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

/* The optional unionid: absent, null or "" give ""; anything else must look like an openid. */
static bool wx_take_unionid(const json_t *root, char *dst, size_t size)
{
    const json_t *value = json_object_get(root, "unionid");
    dst[0] = '\0';
    if (value == NULL || json_is_null(value) || (json_is_string(value) && json_string_length(value) == 0))
        return true;
    return wx_take_string(root, "unionid", wx_id_valid, dst, size);
}

static void wx_session_fields_clear(wx_session_result_t *out)
{
    out->openid[0] = '\0';
    out->unionid[0] = '\0';
    explicit_bzero(out->session_key, sizeof(out->session_key));
}

void wx_parse_code2session(const char *body, size_t len, wx_session_result_t *out)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    long errcode = 0;

    out->errcode = 0;
    wx_session_fields_clear(out);
    out->outcome = WX_BAD_RESPONSE;
    if (!json_is_object(root) || !wx_parse_errcode(root, &errcode))
        goto done;
    if (errcode != 0) {
        out->outcome = WX_ERRCODE;
        out->errcode = errcode;
        goto done;
    }
    if (!wx_take_string(root, "openid", wx_id_valid, out->openid, sizeof(out->openid)) ||
        !wx_take_string(root, "session_key", wx_session_key_valid, out->session_key, sizeof(out->session_key)) ||
        !wx_take_unionid(root, out->unionid, sizeof(out->unionid))) {
        wx_session_fields_clear(out);
        goto done;
    }
    out->outcome = WX_OK;
done:
    json_decref(root); /* the tree held the session_key too; jansson frees it without wiping */
}

/* ---- access_token ---------------------------------------------------------------------------- */

/* 1..WX_TOKEN_MAX visible ASCII characters (WeChat's are [A-Za-z0-9_-]; be lenient, not naive). */
static bool wx_token_valid(const char *s, size_t len)
{
    if (len == 0 || len > WX_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    }
    return true;
}

void wx_parse_token(const char *body, size_t len, wx_token_answer_t *out)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    const json_t *expires;

    explicit_bzero(out, sizeof(*out));
    out->outcome = WX_BAD_RESPONSE;
    if (!json_is_object(root) || !wx_parse_errcode(root, &out->errcode))
        goto done;
    if (out->errcode != 0) {
        out->outcome = WX_ERRCODE;
        goto done;
    }
    expires = json_object_get(root, "expires_in");
    if (!json_is_integer(expires) || json_integer_value(expires) < 1 || json_integer_value(expires) > 86400 ||
        !wx_take_string(root, "access_token", wx_token_valid, out->token, sizeof(out->token))) {
        explicit_bzero(out->token, sizeof(out->token));
        goto done;
    }
    out->expires_in = (long)json_integer_value(expires);
    out->outcome = WX_OK;
done:
    json_decref(root); /* jansson frees its copy of the token without wiping: nothing to be done */
}

/* ---- getuserphonenumber ---------------------------------------------------------------------- */

static bool wx_digits_valid(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static bool wx_pure_phone_valid(const char *s, size_t len)
{
    return wx_digits_valid(s, len, 20);
}

static bool wx_country_code_valid(const char *s, size_t len)
{
    return wx_digits_valid(s, len, 4);
}

/* "+86 13800138000", "13800138000", "+1 415-555-0100": digits, '+', ' ', '-', with a digit. */
static bool wx_phone_valid(const char *s, size_t len)
{
    bool digit = false;
    if (len == 0 || len > 31)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digit = true;
        else if (s[i] != '+' && s[i] != ' ' && s[i] != '-')
            return false;
    }
    return digit;
}

/* countryCode: documented as a string, seen as a number. Either way dst gets the digits. */
static bool wx_take_country_code(const json_t *info, char *dst, size_t size)
{
    const json_t *value = json_object_get(info, "countryCode");
    if (json_is_integer(value)) {
        json_int_t n = json_integer_value(value);
        if (n < 0 || n > 9999)
            return false;
        snprintf(dst, size, "%d", (int)n);
        return true;
    }
    return wx_take_string(info, "countryCode", wx_country_code_valid, dst, size);
}

/* phoneNumber, or when WeChat sent none (or null): the pure number, "+CC " first unless CC is 86. */
static bool wx_take_phone_number(const json_t *info, wx_phone_result_t *out)
{
    const json_t *value = json_object_get(info, "phoneNumber");
    if (value != NULL && !json_is_null(value))
        return wx_take_string(info, "phoneNumber", wx_phone_valid, out->phone_number, sizeof(out->phone_number));
    if (strcmp(out->country_code, "86") == 0)
        snprintf(out->phone_number, sizeof(out->phone_number), "%s", out->pure_phone_number);
    else
        snprintf(out->phone_number, sizeof(out->phone_number), "+%.4s %.20s", out->country_code,
                 out->pure_phone_number);
    return true;
}

static void wx_phone_fields_clear(wx_phone_result_t *out)
{
    out->phone_number[0] = '\0';
    out->pure_phone_number[0] = '\0';
    out->country_code[0] = '\0';
    out->watermark_appid[0] = '\0';
}

/* The fields of phone_info, in the order their checks depend on each other. */
static bool wx_take_phone_info(const json_t *info, wx_phone_result_t *out)
{
    const json_t *watermark = json_object_get(info, "watermark");
    return json_is_object(info) && json_is_object(watermark) &&
           wx_take_string(info, "purePhoneNumber", wx_pure_phone_valid, out->pure_phone_number,
                          sizeof(out->pure_phone_number)) &&
           wx_take_country_code(info, out->country_code, sizeof(out->country_code)) &&
           wx_take_phone_number(info, out) &&
           wx_take_string(watermark, "appid", wx_id_valid, out->watermark_appid, sizeof(out->watermark_appid));
}

void wx_parse_phone_number(const char *body, size_t len, wx_phone_result_t *out)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);

    out->errcode = 0;
    wx_phone_fields_clear(out);
    out->outcome = WX_BAD_RESPONSE;
    if (!json_is_object(root) || !wx_parse_errcode(root, &out->errcode))
        goto done;
    if (out->errcode != 0) {
        out->outcome = WX_ERRCODE;
        goto done;
    }
    if (!wx_take_phone_info(json_object_get(root, "phone_info"), out)) {
        wx_phone_fields_clear(out);
        goto done;
    }
    out->outcome = WX_OK;
done:
    json_decref(root);
}

/* ---- {errcode, errmsg} ----------------------------------------------------------------------- */

void wx_parse_status(const char *body, size_t len, wx_outcome_t *outcome, long *errcode)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);

    *errcode = 0;
    if (!json_is_object(root) || !wx_parse_errcode(root, errcode))
        *outcome = WX_BAD_RESPONSE;
    else
        *outcome = *errcode == 0 ? WX_OK : WX_ERRCODE;
    json_decref(root);
}

void wx_parse_subscribe(const char *body, size_t len, wx_outcome_t *outcome, long *errcode, int64_t *msgid)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    *errcode = 0;
    *msgid = 0;
    if (!json_is_object(root) || !wx_parse_errcode(root, errcode)) {
        *outcome = WX_BAD_RESPONSE;
    } else if (*errcode != 0) {
        *outcome = WX_ERRCODE;
    } else {
        json_t *id = json_object_get(root, "msgid");
        const char *text = json_string_value(id);
        char *end = NULL;
        *outcome = WX_BAD_RESPONSE;
        if (json_is_integer(id) && json_integer_value(id) > 0) {
            *msgid = (int64_t)json_integer_value(id);
            *outcome = WX_OK;
        } else if (text != NULL && text[0] >= '0' && text[0] <= '9') {
            long long v = strtoll(text, &end, 10);
            if (*end == '\0' && v > 0) {
                *msgid = v;
                *outcome = WX_OK;
            }
        }
    }
    json_decref(root);
}

/* ---- msg_sec_check and media_check_async ----------------------------------------------------- */

/* A trace_id: 1..WX_TRACE_ID_SIZE-1 visible ASCII characters ("81e82bd9-f1f85f0a-d9cc4d46"). */
static bool wx_trace_id_valid(const char *s, size_t len)
{
    if (len == 0 || len >= WX_TRACE_ID_SIZE)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    }
    return true;
}

/* result.label: an integer 0..2^31-1, or a string of 1..9 digits (WeChat sends both: 20001, "100");
 * absent or null: 0. False for anything else. */
static bool wx_take_label(const json_t *result, long *label)
{
    const json_t *value = json_object_get(result, "label");
    *label = 0;
    if (value == NULL || json_is_null(value))
        return true;
    if (json_is_integer(value)) {
        json_int_t n = json_integer_value(value);
        if (n < 0 || n > INT32_MAX)
            return false;
        *label = (long)n;
        return true;
    }
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    if (s == NULL || !wx_digits_valid(s, len, 9))
        return false;
    *label = strtol(s, NULL, 10);
    return true;
}

static wx_suggest_t wx_suggest_of(const json_t *value)
{
    const char *s = json_string_value(value);
    if (s == NULL || strlen(s) != json_string_length(value))
        return WX_SUGGEST_NONE;
    if (strcmp(s, "pass") == 0)
        return WX_SUGGEST_PASS;
    if (strcmp(s, "review") == 0)
        return WX_SUGGEST_REVIEW;
    if (strcmp(s, "risky") == 0)
        return WX_SUGGEST_RISKY;
    return WX_SUGGEST_NONE;
}

void wx_parse_msg_sec_check(const char *body, size_t len, wx_msg_sec_check_result_t *out)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    const json_t *result;

    out->errcode = 0;
    out->suggest = WX_SUGGEST_NONE;
    out->label = 0;
    out->trace_id[0] = '\0';
    out->outcome = WX_BAD_RESPONSE;
    if (!json_is_object(root) || !wx_parse_errcode(root, &out->errcode))
        goto done;
    if (out->errcode != 0) {
        out->outcome = WX_ERRCODE;
        goto done;
    }
    result = json_object_get(root, "result");
    if (!json_is_object(result) ||
        (out->suggest = wx_suggest_of(json_object_get(result, "suggest"))) == WX_SUGGEST_NONE ||
        !wx_take_label(result, &out->label)) {
        out->suggest = WX_SUGGEST_NONE;
        out->label = 0;
        goto done;
    }
    /* the trace_id only helps to find the call in WeChat's records: a strange one does not void the verdict */
    if (!wx_take_string(root, "trace_id", wx_trace_id_valid, out->trace_id, sizeof(out->trace_id)))
        out->trace_id[0] = '\0';
    out->outcome = WX_OK;
done:
    json_decref(root);
}

void wx_parse_media_check(const char *body, size_t len, wx_media_check_result_t *out)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);

    out->errcode = 0;
    out->trace_id[0] = '\0';
    out->outcome = WX_BAD_RESPONSE;
    if (!json_is_object(root) || !wx_parse_errcode(root, &out->errcode))
        goto done;
    if (out->errcode != 0) {
        out->outcome = WX_ERRCODE;
        goto done;
    }
    /* the verdict is pushed later with this id: without it the answer is useless */
    if (!wx_take_string(root, "trace_id", wx_trace_id_valid, out->trace_id, sizeof(out->trace_id))) {
        out->trace_id[0] = '\0';
        goto done;
    }
    out->outcome = WX_OK;
done:
    json_decref(root);
}

/* ---- request bodies -------------------------------------------------------------------------- */

/* Writes s as a JSON string (quotes included) at dst, or only counts when dst is NULL. */
static size_t wx_json_put_string(char *dst, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
#define WX_PUT(c)                                                                                                      \
    do {                                                                                                               \
        if (dst != NULL)                                                                                               \
            dst[n] = (c);                                                                                              \
        n++;                                                                                                           \
    } while (0)
    WX_PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            WX_PUT('\\');
            WX_PUT((char)*p);
        } else if (*p < 0x20) {
            WX_PUT('\\');
            WX_PUT('u');
            WX_PUT('0');
            WX_PUT('0');
            WX_PUT(hex[*p >> 4]);
            WX_PUT(hex[*p & 15]);
        } else {
            WX_PUT((char)*p);
        }
    }
    WX_PUT('"');
#undef WX_PUT
    return n;
}

/* Writes the object at dst (or only counts when dst is NULL); returns its length. */
static size_t wx_json_put_object(char *dst, const wx_json_member_t *members, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *prefix = i == 0 ? "{" : ",";
        size_t name_len = strlen(members[i].name);
        if (dst != NULL) {
            dst[off] = prefix[0];
            dst[off + 1] = '"';
            memcpy(dst + off + 2, members[i].name, name_len);
            memcpy(dst + off + 2 + name_len, "\":", 2);
        }
        off += name_len + 4;
        if (members[i].string != NULL) {
            off += wx_json_put_string(dst != NULL ? dst + off : NULL, members[i].string);
        } else {
            size_t raw_len = strlen(members[i].raw);
            if (dst != NULL)
                memcpy(dst + off, members[i].raw, raw_len);
            off += raw_len;
        }
    }
    if (dst != NULL)
        dst[off] = '}';
    return off + 1;
}

char *wx_json_build(const wx_json_member_t *members, size_t n)
{
    if (n == 0)
        return strdup("{}");
    size_t len = wx_json_put_object(NULL, members, n);
    char *json = malloc(len + 1);
    if (json == NULL)
        return NULL;
    wx_json_put_object(json, members, n);
    json[len] = '\0';
    return json;
}
