/*
 * test_fields — the request-body parser (fields_parse_body) and the field checks of
 * http/fields: which bodies become an object, and which errno every refusal gets. The depth
 * limit is tested at its edge, with brackets inside strings and escaped quotes, because the
 * depth is counted on the text before jansson parses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/fields.h"

/* {"a":[[...[1]...]]}: the object is level 1, so `levels` is the whole depth. */
static char *nested(size_t levels, const char *inner)
{
    size_t arrays = levels - 1, len = strlen(inner);
    char *s = malloc(arrays * 2 + len + 8);
    assert_non_null(s);
    char *p = s;
    p += sprintf(p, "{\"a\":");
    memset(p, '[', arrays);
    p += arrays;
    memcpy(p, inner, len);
    p += len;
    memset(p, ']', arrays);
    p += arrays;
    strcpy(p, "}");
    return s;
}

static api_errno_t refusal(const char *body, size_t len)
{
    api_errno_t code = API_OK;
    json_t *root = fields_parse_body(body, len, &code);
    if (root != NULL) {
        json_decref(root);
        return API_OK;
    }
    assert_int_not_equal(code, API_OK);
    return code;
}

#define REFUSAL(lit) refusal(lit, sizeof(lit) - 1)

static void test_depth_at_the_limit(void **state)
{
    char *ok = nested(FIELDS_JSON_MAX_DEPTH, "1");
    char *over = nested(FIELDS_JSON_MAX_DEPTH + 1, "1");
    char *far = nested(5000, "1");
    assert_int_equal(refusal(ok, strlen(ok)), API_OK);
    assert_int_equal(refusal(over, strlen(over)), API_BAD_ARGUMENT);
    assert_int_equal(refusal(far, strlen(far)), API_BAD_ARGUMENT);
    free(ok);
    free(over);
    free(far);
}

static void test_brackets_in_strings_do_not_count(void **state)
{
    /* 40 brackets inside a string, an escaped quote before them, and an escaped backslash
     * that ends the string: all at depth 1. */
    const char body[] = "{\"a\":\"\\\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{\",\"b\":\"\\\\\",\"c\":\"]]]]\"}";
    assert_int_equal(REFUSAL(body), API_OK);
    /* The same depth as the limit, with a string full of closers inside: still the limit. */
    char *edge = nested(FIELDS_JSON_MAX_DEPTH, "\"]]]]}}}}\"");
    assert_int_equal(refusal(edge, strlen(edge)), API_OK);
    free(edge);
}

static void test_refusals_and_their_errnos(void **state)
{
    assert_int_equal(refusal(NULL, 0), API_BAD_ARGUMENT);
    assert_int_equal(REFUSAL(""), API_BAD_ARGUMENT);
    assert_int_equal(REFUSAL("[1]"), API_BAD_ARGUMENT);
    assert_int_equal(REFUSAL("\"text\""), API_BAD_ARGUMENT);
    assert_int_equal(REFUSAL("{\"a\":1"), API_BAD_ARGUMENT);
    assert_int_equal(REFUSAL("{\"a\":1} x"), API_BAD_ARGUMENT);
    assert_int_equal(REFUSAL("{\"a\":1,\"a\":2}"), API_BAD_ARGUMENT);            /* key twice */
    assert_int_equal(REFUSAL("{\"a\":99999999999999999999}"), API_BAD_ARGUMENT); /* beyond 64 bits */
    assert_int_equal(REFUSAL("{\"a\":\"x\\u0000y\"}"), API_BAD_ARGUMENT_VALUE);  /* NUL escape */
    assert_int_equal(REFUSAL("{\"a\":\"\\ud800\"}"), API_BAD_ARGUMENT_VALUE);    /* lone surrogate */
    assert_int_equal(REFUSAL("{\"a\":\"\xc3\x28\"}"), API_BAD_ARGUMENT_VALUE);   /* not UTF-8 */
    assert_int_equal(REFUSAL("{\"a\":\"x\"}\0"), API_BAD_ARGUMENT_VALUE);        /* a raw NUL is not text */
    assert_int_equal(REFUSAL("{\"a\":\"\xf0\x9f\x8c\xb8\"}"), API_OK);           /* emoji */
}

static void test_fields_on_a_parsed_body(void **state)
{
    const char body[] = "{\"code\":\"abc\",\"nick\":\"\xf0\x9f\x8c\xb8x\",\"n\":3,\"o\":{},\"z\":null}";
    api_errno_t err = API_OK;
    json_t *root = fields_parse_body(body, sizeof(body) - 1, &err);
    assert_non_null(root);
    const char *s = NULL;
    long n = 0;
    bool present = false;
    json_t *o = NULL;
    assert_true(fields_token(root, "code", true, 1, 3, &s, &err));
    assert_string_equal(s, "abc");
    assert_false(fields_token(root, "code", true, 1, 2, &s, &err));
    assert_int_equal(err, API_BAD_ARGUMENT_VALUE);
    assert_true(fields_string(root, "nick", true, 2, 2, &s, &err)); /* an emoji is one character */
    assert_false(fields_string(root, "nick", true, 0, 1, &s, &err));
    assert_int_equal(err, API_BAD_ARGUMENT_VALUE);
    assert_false(fields_string(root, "n", true, 0, 9, &s, &err)); /* wrong type */
    assert_int_equal(err, API_BAD_ARGUMENT);
    assert_true(fields_int(root, "n", true, 0, 3, &n, &present, &err));
    assert_true(present);
    assert_int_equal(n, 3);
    assert_true(fields_object(root, "o", true, &o, &err));
    assert_non_null(o);
    assert_true(fields_string(root, "z", false, 0, 9, &s, &err)); /* null counts as absent */
    assert_null(s);
    assert_false(fields_string(root, "z", true, 0, 9, &s, &err));
    assert_int_equal(err, API_BAD_ARGUMENT);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_at_the_limit),
        cmocka_unit_test(test_brackets_in_strings_do_not_count),
        cmocka_unit_test(test_refusals_and_their_errnos),
        cmocka_unit_test(test_fields_on_a_parsed_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
