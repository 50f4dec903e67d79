/* Unit tests of notify/notify_values (keyword mappings, each keyword type's cut, times, the data
 * object) and of wechat's subscribe/send answer parser (msgid above 2^53). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify/notify_values.h"
#include "wechat/wx_client.h"

static const char *fit(const char *keyword, const char *value)
{
    static char out[256];
    memset(out, 'Z', sizeof out);
    notify_value_fit(keyword, value, out, sizeof out);
    return out;
}

static void test_map_parse(void **state)
{
    (void)state;
    notify_map_t m;
    char err[200];
    assert_true(
        notify_map_parse(" thing1=title, time2 = time,thing3=place,name4=host ,phrase5=result", &m, err, sizeof err));
    assert_int_equal(m.n, 5);
    assert_string_equal(m.keyword[0], "thing1");
    assert_int_equal(m.field[0], NOTIFY_TITLE);
    assert_string_equal(m.keyword[1], "time2");
    assert_int_equal(m.field[1], NOTIFY_TIME);
    assert_string_equal(m.keyword[3], "name4");
    assert_int_equal(m.field[3], NOTIFY_HOST);
    assert_int_equal(m.field[4], NOTIFY_RESULT);
    assert_true(notify_map_parse("character_string12=start", &m, err, sizeof err));
    assert_int_equal(m.field[0], NOTIFY_START);

    const char *bad[] = {"",
                         "thing1",
                         "thing=title",
                         "1thing=title",
                         "thingy1=title",
                         "thing1=nickname",
                         "thing1=title,thing1=place",
                         "thing1=title,,",
                         "THING1=title"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(notify_map_parse(bad[i], &m, err, sizeof err));
        assert_true(strlen(err) > 0);
    }
    assert_non_null(strstr(err, "THING1"));
    assert_false(notify_map_parse("thing1=title,thing2=title,thing3=title,thing4=title,thing5=title,thing6=title,"
                                  "thing7=title,thing8=title,thing9=title,thing10=title,thing11=title",
                                  &m, err, sizeof err));
}

static void test_fit_types(void **state)
{
    (void)state;
    /* thing: 20 code points; longer keeps 19 and an ellipsis */
    assert_string_equal(fit("thing1", "季度经营分析会"), "季度经营分析会");
    assert_string_equal(fit("thing1", "一二三四五六七八九十一二三四五六七八九十"),
                        "一二三四五六七八九十一二三四五六七八九十");
    assert_string_equal(fit("thing1", "一二三四五六七八九十一二三四五六七八九十X"),
                        "一二三四五六七八九十一二三四五六七八九…");
    assert_string_equal(fit("thing2", "🎉 party 🎉"), "🎉 party 🎉");
    assert_string_equal(fit("thing1", ""), "无");
    /* phrase: Chinese only, 5 */
    assert_string_equal(fit("phrase3", "已取消"), "已取消");
    assert_string_equal(fit("phrase3", "OK已通过!"), "已通过");
    assert_string_equal(fit("phrase3", "一二三四五六"), "一二三四五");
    assert_string_equal(fit("phrase3", "abc"), "无");
    /* name: 10 with any non-ASCII, else 20 */
    assert_string_equal(fit("name4", "张三"), "张三");
    assert_string_equal(fit("name4", "张三Alexander"), "张三Alexande");
    assert_string_equal(fit("name4", "Alexander the Great!!"), "Alexander the Great!");
    /* character_string: printable ASCII without spaces, 32 */
    assert_string_equal(fit("character_string5", "A-1 b_2 会议"), "A-1b_2");
    assert_string_equal(fit("character_string5", "会议"), "-");
    /* number: digits and one '.' */
    assert_string_equal(fit("number6", "3.14.15 人"), "3.1415");
    assert_string_equal(fit("number6", "无"), "0");
    assert_string_equal(fit("letter7", "ab1c 二d"), "abcd");
    assert_string_equal(fit("symbol8", "a!@#$%^&b"), "!@#$%");
    assert_string_equal(fit("phone_number9", "+86 138-0013-8000 x"), "+86 138-0013-8000");
    /* time, date: as they are */
    assert_string_equal(fit("time2", "2026年12月07日 14:00~15:30"), "2026年12月07日 14:00~15:30");
    assert_string_equal(fit("date3", ""), "无");
    /* the cut never splits a character and stays within the buffer */
    char small[12];
    notify_value_fit("thing1", "一二三四五六七八九十", small, sizeof small);
    assert_true(strlen(small) < sizeof small);
    assert_int_equal(strlen(small) % 3, 0);
}

static void test_times(void **state)
{
    (void)state;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    char out[80];
    /* 2026-12-07 14:00 +08:00 = 06:00Z */
    int64_t start = 1796623200;
    notify_time_point(start, out, sizeof out);
    assert_string_equal(out, "2026年12月07日 14:00");
    notify_time_range(start, start + 90 * 60, out, sizeof out);
    assert_string_equal(out, "2026年12月07日 14:00~15:30");
    notify_time_range(start, start + 11 * 3600, out, sizeof out);
    assert_string_equal(out, "2026年12月07日 14:00~2026年12月08日 01:00");
}

static void test_data_json(void **state)
{
    (void)state;
    notify_map_t m;
    char err[200];
    assert_true(notify_map_parse("thing1=title, time2=time, thing3=reason, phrase4=result", &m, err, sizeof err));
    const char *values[NOTIFY_FIELDS] = {[NOTIFY_TITLE] = "周会 \"A\"\\B",
                                         [NOTIFY_TIME] = "2026年12月07日 14:00~15:30",
                                         [NOTIFY_REASON] = "",
                                         [NOTIFY_RESULT] = "已通过"};
    char *json = notify_data_json(&m, values);
    assert_non_null(json);
    assert_string_equal(json, "{\"thing1\":{\"value\":\"周会 \\\"A\\\"\\\\B\"},\"time2\":{\"value\":\"2026年12月07日 "
                              "14:00~15:30\"},\"thing3\":{\"value\":\"无\"},\"phrase4\":{\"value\":\"已通过\"}}");
    free(json);
}

static void test_parse_subscribe(void **state)
{
    (void)state;
    wx_outcome_t o;
    long errcode;
    int64_t msgid;
    const char *ok = "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":1988810812324364291}";
    wx_parse_subscribe(ok, strlen(ok), &o, &errcode, &msgid);
    assert_int_equal(o, WX_OK);
    assert_int_equal(msgid, INT64_C(1988810812324364291)); /* not rounded as a double would be */
    const char *str = "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"9007199254740993\"}";
    wx_parse_subscribe(str, strlen(str), &o, &errcode, &msgid);
    assert_int_equal(o, WX_OK);
    assert_int_equal(msgid, INT64_C(9007199254740993));
    const char *refused = "{\"errcode\":43101,\"errmsg\":\"user refuse to accept the msg\"}";
    wx_parse_subscribe(refused, strlen(refused), &o, &errcode, &msgid);
    assert_int_equal(o, WX_ERRCODE);
    assert_int_equal(errcode, 43101);
    assert_int_equal(msgid, 0);
    const char *bad[] = {"{\"errcode\":0,\"errmsg\":\"ok\"}", "{\"errcode\":0,\"msgid\":\"12a\"}",
                         "{\"errcode\":0,\"msgid\":-5}", "not json", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wx_parse_subscribe(bad[i], strlen(bad[i]), &o, &errcode, &msgid);
        assert_int_equal(o, WX_BAD_RESPONSE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_parse), cmocka_unit_test(test_fit_types),       cmocka_unit_test(test_times),
        cmocka_unit_test(test_data_json), cmocka_unit_test(test_parse_subscribe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
