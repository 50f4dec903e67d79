/* http/fields — see fields.h. */
#include "http/fields.h"

#include "common/text.h"

static json_t *lookup(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static bool absent(bool required, api_errno_t *err)
{
    if (required)
        *err = API_BAD_ARGUMENT;
    return !required;
}

bool fields_string(json_t *obj, const char *key, bool required, size_t min_chars, size_t max_chars, const char **out,
                   api_errno_t *err)
{
    json_t *v = lookup(obj, key);
    *out = NULL;
    if (v == NULL)
        return absent(required, err);
    if (!json_is_string(v)) {
        *err = API_BAD_ARGUMENT;
        return false;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (!text_utf8_valid(s, len)) { /* jansson guarantees UTF-8; this also refuses NUL */
        *err = API_BAD_ARGUMENT_VALUE;
        return false;
    }
    size_t chars = text_utf8_length(s, len);
    if (chars < min_chars || chars > max_chars) {
        *err = API_BAD_ARGUMENT_VALUE;
        return false;
    }
    *out = s;
    return true;
}

bool fields_token(json_t *obj, const char *key, bool required, size_t min_len, size_t max_len, const char **out,
                  api_errno_t *err)
{
    json_t *v = lookup(obj, key);
    *out = NULL;
    if (v == NULL)
        return absent(required, err);
    if (!json_is_string(v)) {
        *err = API_BAD_ARGUMENT;
        return false;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len < min_len || len > max_len) {
        *err = API_BAD_ARGUMENT_VALUE;
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            *err = API_BAD_ARGUMENT_VALUE;
            return false;
        }
    }
    *out = s;
    return true;
}

bool fields_int(json_t *obj, const char *key, bool required, long min, long max, long *out, bool *present,
                api_errno_t *err)
{
    json_t *v = lookup(obj, key);
    *present = false;
    if (v == NULL)
        return absent(required, err);
    if (!json_is_integer(v)) {
        *err = API_BAD_ARGUMENT;
        return false;
    }
    json_int_t n = json_integer_value(v);
    if (n < min || n > max) {
        *err = API_BAD_ARGUMENT_VALUE;
        return false;
    }
    *out = (long)n;
    *present = true;
    return true;
}

bool fields_object(json_t *obj, const char *key, bool required, json_t **out, api_errno_t *err)
{
    json_t *v = lookup(obj, key);
    *out = NULL;
    if (v == NULL)
        return absent(required, err);
    if (!json_is_object(v)) {
        *err = API_BAD_ARGUMENT;
        return false;
    }
    *out = v;
    return true;
}
