/*
 * fuzz_fields — libFuzzer target for the request-body parser (fields_parse_body: UTF-8 check,
 * nesting depth scan, json_loadb with JSON_REJECT_DUPLICATES; http_read_json is a thin wrapper)
 * and the field checks of http/fields.c, called with the keys and limits the API handlers use
 * (auth_api.c, phone_api.c, profile.c). The parser is checked against a reference: jansson
 * alone plus the depth of the tree it built. Where jansson accepts an object no deeper than
 * FIELDS_JSON_MAX_DEPTH, fields_parse_body must accept it too (the text scan must not count
 * brackets inside strings); what it accepts must be such an object.
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

/* Levels of objects and arrays in a parsed tree (a scalar is 0). */
static size_t tree_depth(json_t *v)
{
    size_t deepest = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            size_t d = tree_depth(child);
            deepest = d > deepest ? d : deepest;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            size_t d = tree_depth(child);
            deepest = d > deepest ? d : deepest;
        }
    } else {
        return 0;
    }
    return deepest + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    api_errno_t code = API_OK;
    json_t *root = fields_parse_body(body, size, &code);

    /* The reference: jansson alone, on UTF-8 input (the depth limit keeps its recursion short
     * enough only when the text is not deeper than a few thousand levels: libFuzzer's inputs are). */
    json_t *ref = NULL;
    if (size > 0 && text_utf8_valid(body, size)) {
        json_error_t error;
        ref = json_loadb(body, size, JSON_REJECT_DUPLICATES, &error);
    }
    bool ref_ok = json_is_object(ref) && tree_depth(ref) <= FIELDS_JSON_MAX_DEPTH;
    if (root != NULL) {
        if (!json_is_object(root) || tree_depth(root) > FIELDS_JSON_MAX_DEPTH || !ref_ok || code != API_OK)
            abort(); /* accepted what the contract refuses */
        fuzz_fields_of(root);
    } else if (ref_ok || (code != API_BAD_ARGUMENT && code != API_BAD_ARGUMENT_VALUE)) {
        abort(); /* refused a valid object within the depth limit, or without a 401/402 */
    }
    json_decref(root);
    json_decref(ref);
    return 0;
}
