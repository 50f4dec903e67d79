/*
 * wx_parse — reading WeChat's JSON answers into results. Pure: no I/O, no globals, so the
 * unit tests drive every branch directly.
 *
 * WeChat's conventions (docs in /work/shared/wechat-api.md): an error answer carries a non-zero
 * integer errcode; a success answer carries errcode 0 or none at all, and still has to hold every
 * field we need, with sane values: anything we would store or use as a key is checked here, so
 * the rest of MeetOA never sees a malformed openid or session_key.
 */
#include "wechat/wx_client.h"

#include <jansson.h>
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
