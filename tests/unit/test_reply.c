/* Unit tests of http/reply's answer writer: valid JSON that reads back as what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http/reply.h"

static void round_trip(json_t *data)
{
    json_t *expected = json_deep_copy(data);
    http_answer_t answer = http_answer_make(API_OK, NULL, data);
    assert_non_null(answer.text);
    assert_int_equal(answer.status, 200);
    json_error_t error;
    json_t *back = json_loadb(answer.text, answer.len, JSON_REJECT_DUPLICATES, &error);
    if (back == NULL)
        fail_msg("not JSON (%s): %.*s", error.text, (int)answer.len, answer.text);
    assert_int_equal(json_integer_value(json_object_get(back, "errno")), 0);
    assert_string_equal(json_string_value(json_object_get(back, "errmsg")), "成功");
    assert_true(json_equal(json_object_get(back, "data"), expected));
    json_decref(back);
    json_decref(expected);
    http_answer_free(&answer);
}

static void envelope_in_litemall_order(void **state)
{
    http_answer_t answer = http_answer_make(API_UNLOGIN, NULL, NULL);
    assert_string_equal(answer.text, "{\"errno\":501,\"errmsg\":\"请登录\"}");
    assert_int_equal(answer.len, strlen(answer.text));
    http_answer_free(&answer);
    answer = http_answer_make(API_NOT_FOUND, "x", NULL);
    assert_int_equal(answer.status, 404);
    assert_string_equal(answer.text, "{\"errno\":404,\"errmsg\":\"x\"}");
    http_answer_free(&answer);
}

static void strings_that_need_escapes(void **state)
{
    json_t *data = json_object();
    json_object_set_new(data, "quote\"key", json_string("a \"quoted\" \\ back\\slash"));
    json_object_set_new(data, "controls", json_string("tab\t nl\n cr\r bell\x07 esc\x1b del\x7f"));
    json_object_set_new(data, "emoji", json_string("Alice 🌸🚀👩‍💻 中文"));
    json_object_set_new(data, "empty", json_string(""));
    round_trip(data);
}

static void numbers_nesting_and_literals(void **state)
{
    json_t *data = json_pack("{s:I,s:I,s:I,s:i,s:b,s:b,s:n,s:[i,s,{s:[]}],s:{}}", "max", (json_int_t)INT64_MAX, "min",
                             (json_int_t)INT64_MIN, "neg", (json_int_t)-42, "zero", 0, "t", 1, "f", 0, "nul", "list", 7,
                             "x", "deep", "obj");
    assert_non_null(data);
    round_trip(data);
}

static void key_order_is_insertion_order(void **state)
{
    json_t *data = json_object();
    json_object_set_new(data, "token", json_string("t"));
    json_object_set_new(data, "tokenExpire", json_string("e"));
    json_object_set_new(data, "userInfo", json_object());
    http_answer_t answer = http_answer_make(API_OK, NULL, data);
    assert_string_equal(
        answer.text,
        "{\"errno\":0,\"errmsg\":\"成功\",\"data\":{\"token\":\"t\",\"tokenExpire\":\"e\",\"userInfo\":{}}}");
    http_answer_free(&answer);
}

/* http_answer_open's constant envelope is the one http_answer_make writes. */
static void open_and_make_agree(void **state)
{
    json_out_t o = JSON_OUT_INIT;
    http_answer_open(&o);
    json_out_lit(&o, "[1,\"x\"]");
    http_answer_t opened = http_answer_close(&o);
    http_answer_t made = http_answer_make(API_OK, NULL, json_pack("[i,s]", 1, "x"));
    assert_string_equal(opened.text, made.text);
    assert_int_equal(opened.len, made.len);
    http_answer_free(&opened);
    http_answer_free(&made);
}

/* A fixed writer fills its buffer and fails on the first write that does not fit. */
static void fixed_writer_fails_when_full(void **state)
{
    char buf[8];
    json_out_t o;
    json_out_fixed(&o, buf, sizeof(buf));
    json_out_cstr(&o, "abcd"); /* 6 bytes */
    assert_false(json_out_failed(&o));
    json_out_lit(&o, "12");
    assert_false(json_out_failed(&o));
    assert_memory_equal(buf, "\"abcd\"12", 8);
    json_out_lit(&o, "3");
    assert_true(json_out_failed(&o));
    json_out_free(&o); /* does not free buf */
}

/* The escape of one byte as json_out writes it (the reference for the word-at-a-time scan). */
static size_t escape_byte(unsigned char c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    if (c == '"' || c == '\\')
        return (size_t)(out[0] = '\\', out[1] = (char)c, 2);
    if (c == '\n' || c == '\t' || c == '\r')
        return (size_t)(out[0] = '\\', out[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r', 2);
    if (c < 0x20)
        return (size_t)(out[0] = '\\', out[1] = 'u', out[2] = '0', out[3] = '0', out[4] = hex[c >> 4],
                        out[5] = hex[c & 15], 6);
    out[0] = (char)c;
    return 1;
}

/* Every byte value at every place of strings of 0..24 bytes (plain ASCII and UTF-8 around it, so
 * the special byte falls in a whole word, at its edges and in the tail) is written as the
 * byte-by-byte reference writes it. */
static void every_byte_at_every_place(void **state)
{
    static const char fill[] = "ab\xc3\xa9\xe4\xb8\xadxyz0123456789ABCDEFGHIJKLMN";
    for (size_t len = 0; len <= 24; len++)
        for (size_t at = 0; at <= len; at++)
            for (int c = 0; c < 256; c++) {
                char in[32], expected[256];
                memcpy(in, fill, len);
                if (at < len)
                    in[at] = (char)c;
                size_t e = 0;
                expected[e++] = '"';
                for (size_t i = 0; i < len; i++)
                    e += escape_byte((unsigned char)in[i], expected + e);
                expected[e++] = '"';
                json_out_t o = JSON_OUT_INIT;
                json_out_string(&o, in, len);
                assert_false(json_out_failed(&o));
                assert_int_equal(o.len, e);
                assert_memory_equal(o.base, expected, e);
                json_out_free(&o);
                if (at == len)
                    break; /* no special byte: once */
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(envelope_in_litemall_order),   cmocka_unit_test(strings_that_need_escapes),
        cmocka_unit_test(every_byte_at_every_place),    cmocka_unit_test(open_and_make_agree),
        cmocka_unit_test(fixed_writer_fails_when_full), cmocka_unit_test(numbers_nesting_and_literals),
        cmocka_unit_test(key_order_is_insertion_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
