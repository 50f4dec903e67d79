/* http/fields — see fields.h. */
#include "http/fields.h"

#include <string.h>

#include "common/text.h"

/* True when no object or array in the text nests deeper than FIELDS_JSON_MAX_DEPTH. Brackets
 * inside strings do not count; the text need not be valid JSON (jansson judges that). */
static bool json_depth_ok(const char *s, size_t len)
{
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character, never a closing quote */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > FIELDS_JSON_MAX_DEPTH)
                return false;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return true;
}

json_t *fields_parse_body(const char *body, size_t len, api_errno_t *code)
{
    if (body == NULL || len == 0) {
        *code = API_BAD_ARGUMENT;
        return NULL;
    }
    /* Bytes that are not UTF-8 are a bad value, not bad syntax: check them first. */
    if (!text_utf8_valid(body, len)) {
        *code = API_BAD_ARGUMENT_VALUE;
        return NULL;
    }
    /* Too deep is malformed, as jansson's own (far deeper) limit would say. */
    if (!json_depth_ok(body, len)) {
        *code = API_BAD_ARGUMENT;
        return NULL;
    }
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        /* jansson refuses \u0000 and lone surrogate escapes as invalid Unicode. */
        *code = strstr(error.text, "nicode") != NULL || strstr(error.text, "NUL") != NULL ||
                        json_error_code(&error) == json_error_invalid_utf8 ||
                        json_error_code(&error) == json_error_null_character
                    ? API_BAD_ARGUMENT_VALUE
                    : API_BAD_ARGUMENT;
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *code = API_BAD_ARGUMENT;
        return NULL;
    }
    return root;
}

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

/* The common start of the string checks: *s = NULL when absent (true if optional);
 * false (*err = 401) when missing but required or not a string. */
static bool string_of(json_t *obj, const char *key, bool required, const char **s, size_t *len, api_errno_t *err)
{
    json_t *v = lookup(obj, key);
    *s = NULL;
    if (v == NULL)
        return absent(required, err);
    if (!json_is_string(v)) {
        *err = API_BAD_ARGUMENT;
        return false;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return true;
}

static bool refuse_value(api_errno_t *err)
{
    *err = API_BAD_ARGUMENT_VALUE;
    return false;
}

bool fields_string(json_t *obj, const char *key, bool required, size_t min_chars, size_t max_chars, const char **out,
                   api_errno_t *err)
{
    const char *s;
    size_t len = 0;
    *out = NULL;
    if (!string_of(obj, key, required, &s, &len, err))
        return false;
    if (s == NULL) /* absent and optional */
        return true;
    /* jansson guarantees UTF-8; this also refuses NUL */
    if (!text_utf8_valid(s, len))
        return refuse_value(err);
    size_t chars = text_utf8_length(s, len);
    if (chars < min_chars || chars > max_chars)
        return refuse_value(err);
    *out = s;
    return true;
}

bool fields_token(json_t *obj, const char *key, bool required, size_t min_len, size_t max_len, const char **out,
                  api_errno_t *err)
{
    const char *s;
    size_t len = 0;
    *out = NULL;
    if (!string_of(obj, key, required, &s, &len, err))
        return false;
    if (s == NULL) /* absent and optional */
        return true;
    if (len < min_len || len > max_len)
        return refuse_value(err);
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return refuse_value(err);
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
