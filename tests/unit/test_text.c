/*
 * test_text — UTF-8 validation against RFC 3629's edge cases (4-byte emoji, overlongs,
 * surrogates, the U+10FFFF ceiling, truncated sequences, NUL), and the local-time formats
 * under fixed TZ settings (set in each test with setenv + tzset) so results are the same
 * on every machine: +08:00, +05:30, UTC and New York's DST transitions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/text.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A byte string with an explicit length (some cases hold a NUL). */
typedef struct {
    const char *s;
    size_t len;
    const char *what;
} bytes_t;
#define B(lit, what)                                                                                                   \
    {                                                                                                                  \
        lit, sizeof(lit) - 1, what                                                                                     \
    }

static void use_tz(const char *tz)
{
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

static void test_utf8_valid_accepted(void **state)
{
    static const bytes_t good[] = {
        B("", "empty"),
        B("hello", "ASCII"),
        B("\x01\x7f", "lowest and highest ASCII but NUL"),
        B("\xc2\x80", "U+0080, smallest 2-byte"),
        B("caf\xc3\xa9", "e acute"),
        B("\xdf\xbf", "U+07FF, largest 2-byte"),
        B("\xe0\xa0\x80", "U+0800, smallest 3-byte"),
        B("\xe4\xb8\xad\xe6\x96\x87", "Chinese"),
        B("\xed\x9f\xbf", "U+D7FF, just below the surrogates"),
        B("\xee\x80\x80", "U+E000, just above the surrogates"),
        B("\xef\xbf\xbf", "U+FFFF"),
        B("\xf0\x90\x80\x80", "U+10000, smallest 4-byte"),
        B("\xf0\x9f\x98\x80", "emoji U+1F600"),
        B("nick\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd!", "emoji with skin tone modifier"),
        B("\xf4\x8f\xbf\xbf", "U+10FFFF, the ceiling"),
    };
    for (size_t i = 0; i < COUNT(good); i++) {
        if (!text_utf8_valid(good[i].s, good[i].len))
            fail_msg("refused valid UTF-8: %s", good[i].what);
    }
}

static void test_utf8_invalid_refused(void **state)
{
    static const bytes_t bad[] = {
        B("a\0b", "NUL inside"),
        B("\0", "lone NUL"),
        B("\xc0\x80", "overlong NUL"),
        B("\xc0\xaf", "overlong '/'"),
        B("\xc1\xbf", "overlong 2-byte"),
        B("\xe0\x80\xaf", "overlong 3-byte '/'"),
        B("\xe0\x9f\xbf", "overlong 3-byte U+07FF"),
        B("\xf0\x80\x80\xaf", "overlong 4-byte '/'"),
        B("\xf0\x8f\xbf\xbf", "overlong 4-byte U+FFFF"),
        B("\xed\xa0\x80", "high surrogate U+D800"),
        B("\xed\xbf\xbf", "low surrogate U+DFFF"),
        B("\xed\xa0\xbd\xed\xb8\x80", "CESU-8 emoji (surrogate pair)"),
        B("\xf4\x90\x80\x80", "U+110000"),
        B("\xf5\x80\x80\x80", "lead F5"),
        B("\xf8\x88\x80\x80\x80", "5-byte form"),
        B("\xfe", "FE"),
        B("\xff", "FF"),
        B("\x80", "lone continuation"),
        B("a\xbf", "continuation after ASCII"),
        B("\xc3", "truncated 2-byte"),
        B("\xe4\xb8", "truncated 3-byte"),
        B("\xf0\x9f\x98", "truncated emoji"),
        B("ok\xf0\x9f", "emoji cut at the end"),
        B("\xf0\x9f\x98"
          "a",
          "emoji missing its last byte, then ASCII"),
        B("\xe4\x41\xad", "ASCII where a continuation belongs"),
        B("\xc3\xc3", "lead where a continuation belongs"),
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        if (text_utf8_valid(bad[i].s, bad[i].len))
            fail_msg("accepted invalid UTF-8: %s", bad[i].what);
    }
    /* The length argument is honoured: a valid prefix of an invalid buffer is valid. */
    assert_true(text_utf8_valid("ab\xff", 2));
    assert_false(text_utf8_valid("ab\xff", 3));
    /* An emoji cut by the length, not by the string. */
    assert_false(text_utf8_valid("\xf0\x9f\x98\x80", 3));
}

static void test_utf8_length(void **state)
{
    assert_int_equal(text_utf8_length("", 0), 0);
    assert_int_equal(text_utf8_length("abc", 3), 3);
    const char s[] = "h\xc3\xa9llo\xf0\x9f\x98\x80\xe4\xb8\xad"; /* h é l l o 😀 中 */
    assert_int_equal(sizeof(s) - 1, 13);
    assert_int_equal(text_utf8_length(s, sizeof(s) - 1), 7);
    /* prefixes end on character boundaries */
    assert_int_equal(text_utf8_prefix("", 5), 0);
    assert_int_equal(text_utf8_prefix("abc", 2), 2);
    assert_int_equal(text_utf8_prefix("abc", 9), 3);
    assert_int_equal(text_utf8_prefix("\xe4\xbc\x9a\xe8\xae\xae\xf0\x9f\x8e\x89x", 0), 0);
    assert_int_equal(text_utf8_prefix("\xe4\xbc\x9a\xe8\xae\xae\xf0\x9f\x8e\x89x", 1), 3);
    assert_int_equal(text_utf8_prefix("\xe4\xbc\x9a\xe8\xae\xae\xf0\x9f\x8e\x89x", 3), 10);
    assert_int_equal(text_utf8_prefix("\xe4\xbc\x9a\xe8\xae\xae\xf0\x9f\x8e\x89x", 4), 11);
    assert_int_equal(text_utf8_length("\xf4\x8f\xbf\xbf\xc2\x80", 6), 2);
}

/* 2026-11-24T10:00:00Z */
#define T_NOV24 INT64_C(1795514400)

static void test_iso8601_offsets(void **state)
{
    static const struct {
        const char *tz;
        int64_t t;
        const char *want;
    } cases[] = {
        {"Asia/Shanghai", T_NOV24, "2026-11-24T18:00:00+08:00"},
        {"UTC", T_NOV24, "2026-11-24T10:00:00+00:00"},
        {"Asia/Kolkata", T_NOV24, "2026-11-24T15:30:00+05:30"},
        {"America/New_York", T_NOV24, "2026-11-24T05:00:00-05:00"},
        /* DST starts 2026-03-08 02:00 local: the clock jumps from 01:59:59 to 03:00:00. */
        {"America/New_York", INT64_C(1772953199), "2026-03-08T01:59:59-05:00"},
        {"America/New_York", INT64_C(1772953200), "2026-03-08T03:00:00-04:00"},
        {"UTC", 0, "1970-01-01T00:00:00+00:00"},
        {"UTC", -1, "1969-12-31T23:59:59+00:00"},
        {"Asia/Shanghai", INT64_C(1709208000), "2024-02-29T20:00:00+08:00"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char out[TEXT_ISO8601_SIZE];
        use_tz(cases[i].tz);
        text_iso8601(cases[i].t, out);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_sqltime_format_and_parse(void **state)
{
    char out[TEXT_SQLTIME_SIZE];
    int64_t t = 0;
    use_tz("Asia/Shanghai");
    text_sqltime(T_NOV24, out);
    assert_string_equal(out, "2026-11-24 18:00:00");
    assert_true(text_sqltime_parse("2026-11-24 18:00:00", &t));
    assert_int_equal(t, T_NOV24);

    use_tz("UTC");
    text_sqltime(T_NOV24, out);
    assert_string_equal(out, "2026-11-24 10:00:00");
    assert_true(text_sqltime_parse("2026-11-24 10:00:00", &t));
    assert_int_equal(t, T_NOV24);
    /* -1 is a real time (one second before the epoch), not an error. */
    assert_true(text_sqltime_parse("1969-12-31 23:59:59", &t));
    assert_int_equal(t, -1);
    assert_true(text_sqltime_parse("2024-02-29 12:00:00", &t));
    assert_int_equal(t, INT64_C(1709208000));
}

static void test_sqltime_round_trip(void **state)
{
    static const char *const zones[] = {"Asia/Shanghai", "America/New_York", "Asia/Kolkata"};
    for (size_t z = 0; z < COUNT(zones); z++) {
        use_tz(zones[z]);
        /* Every 7 hours 13 minutes 7 seconds over about three years, crossing DST changes. */
        for (int64_t t = INT64_C(1700000000); t < INT64_C(1800000000); t += 26000 + 7) {
            char out[TEXT_SQLTIME_SIZE];
            int64_t back = 0;
            text_sqltime(t, out);
            assert_int_equal(strlen(out), 19);
            assert_true(text_sqltime_parse(out, &back));
            /* A time in the repeated hour of autumn may come back as its twin, an hour away. */
            if (back != t)
                assert_true(back - t == 3600 || t - back == 3600);
        }
    }
}

/* The per-thread day cache gives mktime()'s answer: every 17 minutes 3 seconds through the DST
 * changes of two years in three zones, each time read twice (the second from the cache), and
 * again after the TZ changed under the cache (a time read in one zone, then in another). */
static int64_t by_mktime(const char *text)
{
    struct tm tm = {.tm_isdst = -1};
    assert_int_equal(
        sscanf(text, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
        6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)mktime(&tm);
}

/* got is want, or (in the repeated hour of autumn, where mktime itself answers either, by its
 * history) want's twin an hour away, which reads as the same text. */
static bool same_local_time(int64_t got, int64_t want, const char *text)
{
    char again[TEXT_SQLTIME_SIZE];
    text_sqltime(got, again);
    return got == want || ((got - want == 3600 || want - got == 3600) && strcmp(again, text) == 0);
}

static void test_sqltime_parse_matches_mktime(void **state)
{
    static const char *const zones[] = {"America/New_York", "Europe/London", "Asia/Shanghai"};
    for (int pass = 0; pass < 2; pass++)
        for (size_t z = 0; z < COUNT(zones); z++) {
            use_tz(zones[z]);
            for (int64_t t = INT64_C(1709000000); t < INT64_C(1762000000); t += 1023) {
                char out[TEXT_SQLTIME_SIZE];
                text_sqltime(t, out);
                int64_t want = by_mktime(out), first = 0, second = 0;
                assert_true(text_sqltime_parse(out, &first));
                assert_true(text_sqltime_parse(out, &second));
                if (!same_local_time(first, want, out) || !same_local_time(second, want, out))
                    fail_msg("%s in %s: %lld, %lld, mktime %lld", out, zones[z], (long long)first, (long long)second,
                             (long long)want);
            }
        }
    int64_t a = 0, b = 0;
    use_tz("Asia/Shanghai");
    assert_true(text_sqltime_parse("2026-06-01 12:00:00", &a));
    use_tz("America/New_York");
    assert_true(text_sqltime_parse("2026-06-01 12:00:00", &b));
    assert_int_equal(b - a, 12 * 3600); /* UTC+8 against UTC-4 (EDT) */
}

static void test_sqltime_parse_ambiguous_hour(void **state)
{
    /* 2026-11-01 01:30 happens twice in New York (EDT, then EST): either instant is right. */
    int64_t t = 0;
    use_tz("America/New_York");
    assert_true(text_sqltime_parse("2026-11-01 01:30:00", &t));
    assert_true(t == INT64_C(1793511000) || t == INT64_C(1793514600));
}

static void test_sqltime_parse_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-11-24",
        "2026-11-24T18:00:00",
        "2026-11-24 18:00",
        "2026-11-24 18:00:00Z",
        "2026-11-24 18:00:00 ",
        " 2026-11-24 18:00:00",
        "2026-1-24 18:00:00",
        "2026/11/24 18:00:00",
        "+026-11-24 18:00:00",
        "2026-11-24 18:0a:00",
        "2026-00-10 00:00:00",
        "2026-13-01 00:00:00",
        "2026-11-00 00:00:00",
        "2026-11-31 00:00:00",
        "2026-02-29 00:00:00", /* not a leap year */
        "2100-02-29 00:00:00", /* century, not a leap year */
        "2026-11-24 24:00:00",
        "2026-11-24 18:60:00",
        "2026-11-24 18:00:60",
        "0000-01-01 00:00:00",
    };
    use_tz("Asia/Shanghai");
    for (size_t i = 0; i < COUNT(bad); i++) {
        int64_t t = 12345;
        if (text_sqltime_parse(bad[i], &t))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(t, 12345);
    }
    int64_t t = 0;
    assert_true(text_sqltime_parse("2000-02-29 00:00:00", &t)); /* 400-year leap */
}

static void test_time_out_of_range(void **state)
{
    char iso[TEXT_ISO8601_SIZE], sql[TEXT_SQLTIME_SIZE];
    use_tz("UTC");
    memset(iso, 'x', sizeof(iso));
    memset(sql, 'x', sizeof(sql));
    text_iso8601(INT64_MAX, iso);
    text_sqltime(INT64_C(253402300800), sql); /* 10000-01-01 */
    assert_string_equal(iso, "");
    assert_string_equal(sql, "");
    text_sqltime(INT64_C(253402300799), sql); /* 9999-12-31 23:59:59 still fits */
    assert_string_equal(sql, "9999-12-31 23:59:59");
}

static void test_copy(void **state)
{
    char dst[6];
    assert_true(text_copy(dst, sizeof(dst), "hello world", 5));
    assert_string_equal(dst, "hello");
    assert_true(text_copy(dst, sizeof(dst), "abc", 2));
    assert_string_equal(dst, "ab");
    assert_true(text_copy(dst, sizeof(dst), NULL, 0));
    assert_string_equal(dst, "");
    memcpy(dst, "keep!", 6);
    assert_false(text_copy(dst, sizeof(dst), "hello!", 6)); /* needs 7 bytes */
    assert_string_equal(dst, "");
    assert_false(text_copy(dst, 0, "a", 1));
}

/* Collects the items of a comma list as "[item]" strings. */
static void list_items(const char *text, char *out, size_t size)
{
    size_t pos = 0, len, used = 0;
    const char *item;
    out[0] = '\0';
    while (text_list_next(text, strlen(text), &pos, &item, &len))
        used += (size_t)snprintf(out + used, size - used, "[%.*s]", (int)len, item);
}

static void test_list(void **state)
{
    char got[128];
    list_items("a, b ,\tc", got, sizeof(got));
    assert_string_equal(got, "[a][b][c]");
    list_items("one", got, sizeof(got));
    assert_string_equal(got, "[one]");
    list_items("a,,b,", got, sizeof(got)); /* empty items are items: the caller refuses them */
    assert_string_equal(got, "[a][][b][]");
    list_items("", got, sizeof(got));
    assert_string_equal(got, "[]");
    list_items(" x y ", got, sizeof(got)); /* only the ends are trimmed */
    assert_string_equal(got, "[x y]");
    assert_true(text_blank("", 0));
    assert_true(text_blank(" \t ", 3));
    assert_false(text_blank(" , ", 3));
}

static int64_t time_of(const char *s)
{
    int64_t t = -1;
    if (!text_time_parse(s, strlen(s), &t))
        fail_msg("text_time_parse refused %s", s);
    return t;
}

/* Meeting times: local "YYYY-MM-DD HH:MM:SS" in the process's zone, or ISO 8601 with an offset. */
static void test_time_parse_forms(void **state)
{
    (void)state;
    use_tz("Asia/Shanghai");
    const int64_t t = 1796605200; /* 2026-12-07 09:00:00 +08:00 */
    assert_int_equal(time_of("2026-12-07 09:00:00"), t);
    assert_int_equal(time_of("2026-12-07T09:00:00+08:00"), t);
    assert_int_equal(time_of("2026-12-07T09:00:00+0800"), t);
    assert_int_equal(time_of("2026-12-07T09:00:00+08"), t);
    assert_int_equal(time_of("2026-12-07T01:00:00Z"), t);
    assert_int_equal(time_of("2026-12-07T01:00:00.250Z"), t); /* the fraction is ignored */
    assert_int_equal(time_of("2026-12-06T20:00:00-05:00"), t);
    use_tz("UTC");
    assert_int_equal(time_of("2026-12-07 01:00:00"), t); /* the local form follows the zone */
    assert_int_equal(time_of("2026-12-07T09:00:00+08:00"), t);
}

static void test_time_parse_refused(void **state)
{
    (void)state;
    use_tz("Asia/Shanghai");
    static const char *bad[] = {
        "",
        "2026-12-07",
        "2026-12-07 09:00",
        "2026-12-07 9:00:00",
        "2026-13-07 09:00:00",
        "2026-02-30 09:00:00",
        "2026-12-07 24:00:00",
        "2026-12-07 09:60:00",
        "2026-12-07T09:00:00+25:00",
        "2026-12-07T09:00:00Y",
        "2026-12-07 09:00:00 ",
        "2026/12/07 09:00:00",
        "tomorrow",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 7;
        if (text_time_parse(bad[i], strlen(bad[i]), &t))
            fail_msg("text_time_parse accepted \"%s\"", bad[i]);
    }
    int64_t t;
    assert_false(text_time_parse("2026-12-07 09:00:00", 10, &t)); /* len is honoured */
}

static void test_date_parse(void **state)
{
    (void)state;
    use_tz("Asia/Shanghai");
    int64_t start = 0, end = 0;
    assert_true(text_date_parse("2026-12-07", 10, &start, &end));
    assert_int_equal(start, time_of("2026-12-07 00:00:00"));
    assert_int_equal(end - start, 86400);
    use_tz("Europe/Berlin"); /* clocks go back on 2026-10-25: a 25-hour day */
    assert_true(text_date_parse("2026-10-25", 10, &start, &end));
    assert_int_equal(end - start, 25 * 3600);
    assert_false(text_date_parse("2026-10-32", 10, &start, &end));
    assert_false(text_date_parse("2026-10-2", 9, &start, &end));
    assert_false(text_date_parse("2026-10-25 00:00:00", 19, &start, &end));
}

static void test_percent_decode(void **state)
{
    (void)state;
    size_t n = 0;
    char *s = text_percent_decode("a%20b+c%E4%BC%9A", 16, true, &n);
    assert_non_null(s);
    assert_string_equal(s, "a b c\xe4\xbc\x9a");
    assert_int_equal(n, 8);
    free(s);
    s = text_percent_decode("p+w%2Bd", 7, false, NULL); /* userinfo: '+' stays */
    assert_string_equal(s, "p+w+d");
    free(s);
    static const char *bad[] = {"%", "%4", "a%4", "%zz", "%00", "x%0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (text_percent_decode(bad[i], strlen(bad[i]), true, NULL) != NULL)
            fail_msg("text_percent_decode accepted \"%s\"", bad[i]);
    assert_int_equal(text_hex_value('f'), 15);
    assert_int_equal(text_hex_value('G'), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_accepted),
        cmocka_unit_test(test_utf8_invalid_refused),
        cmocka_unit_test(test_utf8_length),
        cmocka_unit_test(test_iso8601_offsets),
        cmocka_unit_test(test_sqltime_format_and_parse),
        cmocka_unit_test(test_sqltime_round_trip),
        cmocka_unit_test(test_sqltime_parse_ambiguous_hour),
        cmocka_unit_test(test_sqltime_parse_matches_mktime),
        cmocka_unit_test(test_sqltime_parse_malformed),
        cmocka_unit_test(test_time_out_of_range),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_time_parse_forms),
        cmocka_unit_test(test_time_parse_refused),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_percent_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
