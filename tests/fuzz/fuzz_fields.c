/*
 * fuzz_fields — libFuzzer target for the request-body path of http/request.c (UTF-8 check, then
 * json_loadb with JSON_REJECT_DUPLICATES) and the field checks of http/fields.c, called with the
 * keys and limits the API handlers use (auth_api.c, phone_api.c, profile.c). http_read_json needs
 * an h2o_req_t, so its two steps are replayed here on the raw bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/text.h"
#include "http/fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_string(const char *s, size_t max_chars)
{
    if (s == NULL)
        return;
    size_t len = strlen(s);
    if (!text_utf8_valid(s, len) || text_utf8_length(s, len) > max_chars)
        abort(); /* fields_string let through what its contract refuses */
}

static void fuzz_check_token(const char *s, size_t max_len)
{
    if (s == NULL)
        return;
    size_t len = strlen(s);
    if (len > max_len)
        abort();
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            abort();
}

static void fuzz_fields_of(json_t *obj)
{
    api_errno_t err = API_OK;
    const char *s = NULL;
    json_t *sub = NULL;
    long n = 0;
    bool present = false;

    if (fields_token(obj, "code", true, 1, 128, &s, &err))
        fuzz_check_token(s, 128);
    if (fields_token(obj, "signature", false, 40, 40, &s, &err) && s != NULL && strlen(s) != 40)
        abort();
    if (fields_string(obj, "rawData", false, 1, 4096, &s, &err))
        fuzz_check_string(s, 4096);
    if (fields_string(obj, "iv", false, 1, 24, &s, &err))
        fuzz_check_string(s, 24);
    if (fields_string(obj, "nickName", false, 0, 64, &s, &err))
        fuzz_check_string(s, 64);
    if (fields_int(obj, "gender", false, 0, 2, &n, &present, &err) && present && (n < 0 || n > 2))
        abort();
    if (fields_int(obj, "page", true, -5, 1000000, &n, &present, &err) && (!present || n < -5 || n > 1000000))
        abort();
    if (fields_object(obj, "userInfo", false, &sub, &err) && sub != NULL) {
        if (!json_is_object(sub))
            abort();
        if (fields_string(sub, "nickName", false, 0, 64, &s, &err))
            fuzz_check_string(s, 64);
        if (fields_string(sub, "avatarUrl", false, 0, 512, &s, &err))
            fuzz_check_string(s, 512);
        (void)fields_int(sub, "gender", false, 0, 2, &n, &present, &err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    if (!text_utf8_valid(body, size))
        return 0; /* http_read_json answers 402 before parsing */
    json_error_t error;
    json_t *root = json_loadb(body, size, JSON_REJECT_DUPLICATES, &error);
    if (json_is_object(root))
        fuzz_fields_of(root);
    json_decref(root);
    return 0;
}
