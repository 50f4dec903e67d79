/*
 * test_wxemu_subscribe — wxemu's subscription messages and content security, the pure parts: the
 * keyword value rules (emu_keyword.c: every type, its bounds, Unicode counting, times and dates and
 * their ranges), the templates, the one-time quotas, subscribeMessage.send's errcodes in their order,
 * msgids above 2^53 that never repeat, the record of sent messages and its bound; msgSecCheck's
 * errcodes in their order, the visit window (2 hours, settable, a stale mark) and the verdicts of
 * risky and review words; mediaCheckAsync's errcodes and verdicts, the log of accepted checks (its
 * fields, its bound, clearing, refused input) and the push settings. The push
 * itself (signatures, safe mode) is checked from outside, by a receiver in tests/blackbox/wxemu.test.mjs.
 *
 * The sources are compiled in directly, as test_wxemu_state does. Time is simulated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../tools/wxemu/emu_keyword.c"
#include "../../tools/wxemu/emu_state.c"

#define APP_A    "wx00000000000000aa"
#define SECRET_A "secret-of-app-a"
#define APP_B    "wx00000000000000bb"
#define SECRET_B "secret-of-app-b"
#define T0       1000000
#define TPL      "tpl-meeting-notice"

static emu_slice_t S(const char *s)
{
    return emu_slice_cstr(s);
}

typedef struct fixture {
    emu_state_t *st;
    char token_a[EMU_TOKEN_LEN + 1], token_b[EMU_TOKEN_LEN + 1];
    char alice[EMU_OPENID_LEN + 1], bob[EMU_OPENID_LEN + 1]; /* in app A */
    char alice_b[EMU_OPENID_LEN + 1];                        /* alice in app B */
} fixture_t;

static void login(emu_state_t *st, const char *appid, const char *user, int64_t now, char openid[EMU_OPENID_LEN + 1])
{
    emu_login_t l;
    assert_int_equal(emu_state_issue_code(st, S(appid), S(user), now, &l), EMU_OK);
    memcpy(openid, l.openid, EMU_OPENID_LEN + 1);
}

static void token(emu_state_t *st, const char *appid, const char *secret, char out[EMU_TOKEN_LEN + 1])
{
    emu_token_request_t rq = {S("client_credential"), S(appid), S(secret), false};
    emu_token_result_t r;
    assert_int_equal(emu_state_token(st, &rq, T0, &r), 0);
    memcpy(out, r.access_token, EMU_TOKEN_LEN + 1);
}

static int setup(void **ctx)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->st = emu_state_new();
    assert_non_null(f->st);
    assert_int_equal(emu_state_add_app(f->st, S(APP_A), S(SECRET_A)), EMU_OK);
    assert_int_equal(emu_state_add_app(f->st, S(APP_B), S(SECRET_B)), EMU_OK);
    token(f->st, APP_A, SECRET_A, f->token_a);
    token(f->st, APP_B, SECRET_B, f->token_b);
    login(f->st, APP_A, "alice", T0, f->alice);
    login(f->st, APP_A, "bob", T0, f->bob);
    login(f->st, APP_B, "alice", T0, f->alice_b);
    const emu_slice_t kws[] = {S("thing1"), S("time2"), S("phrase3")};
    const emu_sub_template_t t = {S(TPL), kws, 3};
    assert_int_equal(emu_state_sub_set_templates(f->st, S(APP_A), &t, 1), EMU_OK);
    *ctx = f;
    return 0;
}

static int teardown(void **ctx)
{
    fixture_t *f = *ctx;
    emu_state_free(f->st);
    free(f);
    return 0;
}

/* Keyword rules ------------------------------------------------------------------------------------- */

static void test_keyword_types(void **ctx)
{
    (void)ctx;
    static const struct {
        const char *name;
        emu_kw_type_t type;
    } cases[] = {
        {"thing1", EMU_KW_THING},
        {"thing12", EMU_KW_THING},
        {"number3", EMU_KW_NUMBER},
        {"letter4", EMU_KW_LETTER},
        {"symbol5", EMU_KW_SYMBOL},
        {"character_string6", EMU_KW_CHARACTER_STRING},
        {"time7", EMU_KW_TIME},
        {"date8", EMU_KW_DATE},
        {"amount9", EMU_KW_AMOUNT},
        {"phone_number10", EMU_KW_PHONE_NUMBER},
        {"car_number11", EMU_KW_CAR_NUMBER},
        {"name12", EMU_KW_NAME},
        {"phrase13", EMU_KW_PHRASE},
        {"enum14", EMU_KW_ENUM},
        {"thing", EMU_KW_NONE},
        {"thing1234", EMU_KW_NONE},
        {"things1", EMU_KW_NONE},
        {"Thing1", EMU_KW_NONE},
        {"1", EMU_KW_NONE},
        {"", EMU_KW_NONE},
        {"character1", EMU_KW_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        if (emu_keyword_type(cases[i].name, strlen(cases[i].name)) != cases[i].type)
            fail_msg("keyword %s", cases[i].name);
    }
}

typedef struct value_case {
    emu_kw_type_t type;
    const char *value;
    bool ok;
} value_case_t;

static void check_values(const value_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        bool ok = emu_keyword_value_ok(cases[i].type, cases[i].value, strlen(cases[i].value));
        if (ok != cases[i].ok)
            fail_msg("type %d value \"%s\": expected %s", (int)cases[i].type, cases[i].value,
                     cases[i].ok ? "ok" : "invalid");
    }
}

static void test_keyword_values_text_kinds(void **ctx)
{
    (void)ctx;
    static const value_case_t cases[] = {
        {EMU_KW_THING, "周例会 Room 301", true},
        {EMU_KW_THING, "一二三四五六七八九十一二三四五六七八九十", true},    /* 20 characters, 60 bytes */
        {EMU_KW_THING, "一二三四五六七八九十一二三四五六七八九十一", false}, /* 21 */
        {EMU_KW_THING, "abcdefghijklmnopqrst", true},
        {EMU_KW_THING, "abcdefghijklmnopqrstu", false},
        {EMU_KW_THING, "line\nbreak", false},
        {EMU_KW_THING, "", false},
        {EMU_KW_NUMBER, "42", true},
        {EMU_KW_NUMBER, "3.14", true},
        {EMU_KW_NUMBER, "12345678901234567890123456789012", true},
        {EMU_KW_NUMBER, "123456789012345678901234567890123", false},
        {EMU_KW_NUMBER, "1.2.3", false},
        {EMU_KW_NUMBER, ".5", false},
        {EMU_KW_NUMBER, "5.", false},
        {EMU_KW_NUMBER, "-1", false},
        {EMU_KW_NUMBER, "1e5", false},
        {EMU_KW_LETTER, "abcXYZ", true},
        {EMU_KW_LETTER, "abc1", false},
        {EMU_KW_LETTER, "ab cd", false},
        {EMU_KW_LETTER, "abcdefghijklmnopqrstuvwxyzabcdefg", false}, /* 33 */
        {EMU_KW_SYMBOL, "!@#", true},
        {EMU_KW_SYMBOL, "！？。", true},
        {EMU_KW_SYMBOL, "!!!!!!", false},
        {EMU_KW_SYMBOL, "a!", false},
        {EMU_KW_CHARACTER_STRING, "AB-2025/06_01#7", true},
        {EMU_KW_CHARACTER_STRING, "12345678901234567890123456789012", true},
        {EMU_KW_CHARACTER_STRING, "123456789012345678901234567890123", false},
        {EMU_KW_CHARACTER_STRING, "a b", false},
        {EMU_KW_CHARACTER_STRING, "会议1", false},
        {EMU_KW_PHRASE, "已取消", true},
        {EMU_KW_PHRASE, "五个汉字呀", true},
        {EMU_KW_PHRASE, "六个汉字呀呀", false},
        {EMU_KW_PHRASE, "ok", false},
        {EMU_KW_PHRASE, "已 取消", false},
        {EMU_KW_NAME, "张三", true},
        {EMU_KW_NAME, "欧阳娜娜娜娜娜娜娜娜", true},      /* 10 */
        {EMU_KW_NAME, "欧阳娜娜娜娜娜娜娜娜娜", false},   /* 11 */
        {EMU_KW_NAME, "Alexander Hamilton J", true},      /* 20 ASCII */
        {EMU_KW_NAME, "Alexander Hamilton Jr", false},    /* 21 */
        {EMU_KW_NAME, "张三 Zhang San", false},           /* mixed: 12 > 10 */
        {EMU_KW_NAME, "张三 Zhang", true},                /* mixed: 8 */
        {EMU_KW_PHONE_NUMBER, "+86-0766-66888866", true}, /* 17 */
        {EMU_KW_PHONE_NUMBER, "+86-0766-668888661", false},
        {EMU_KW_PHONE_NUMBER, "138 0013 8000", true},
        {EMU_KW_PHONE_NUMBER, "1380013800x", false},
        {EMU_KW_AMOUNT, "¥100.00", true},
        {EMU_KW_AMOUNT, "100元", true},
        {EMU_KW_AMOUNT, "￥3.5元", true},
        {EMU_KW_AMOUNT, "$1234567890", true},
        {EMU_KW_AMOUNT, "$12345678901", false},
        {EMU_KW_AMOUNT, "1.234", false},
        {EMU_KW_AMOUNT, "¥", false},
        {EMU_KW_AMOUNT, "元", false},
        {EMU_KW_CAR_NUMBER, "粤A12345", true},
        {EMU_KW_CAR_NUMBER, "粤AD12345", true},
        {EMU_KW_CAR_NUMBER, "粤B1234学", true},
        {EMU_KW_CAR_NUMBER, "粤A1234567", false}, /* 9 */
        {EMU_KW_CAR_NUMBER, "粤A-1234", false},
        {EMU_KW_CAR_NUMBER, "粤粤1234", false},
        {EMU_KW_ENUM, "任何值", true},
        {EMU_KW_ENUM, "a value far longer than any bounded rule would allow, and then some more text", true},
        {EMU_KW_ENUM, "tab\there", false},
    };
    check_values(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_keyword_values_time_and_date(void **ctx)
{
    (void)ctx;
    static const value_case_t cases[] = {
        {EMU_KW_TIME, "15:01", true},
        {EMU_KW_TIME, "9:05", true},
        {EMU_KW_TIME, "15:01:59", true},
        {EMU_KW_TIME, "2019年10月1日 15:01", true},
        {EMU_KW_TIME, "2025年06月01日 14:00", true},
        {EMU_KW_TIME, "2025年06月01日14:00", true},
        {EMU_KW_TIME, "2019-10-01 15:01", true},
        {EMU_KW_TIME, "2019/10/01 15:01", true},
        {EMU_KW_TIME, "10月1日 15:01", true},
        {EMU_KW_TIME, "2025年06月01日 14:00~15:30", true},
        {EMU_KW_TIME, "2025年06月01日 14:00 ~ 2025年06月02日 09:00", true},
        {EMU_KW_TIME, "14:00～15:30", true},
        {EMU_KW_TIME, "2019年10月1日", false}, /* a time needs the clock */
        {EMU_KW_TIME, "24:00", false},
        {EMU_KW_TIME, "12:60", false},
        {EMU_KW_TIME, "12:5", false},
        {EMU_KW_TIME, "123:00", false},
        {EMU_KW_TIME, "15:01~", false},
        {EMU_KW_TIME, "15:01~16:00~17:00", false},
        {EMU_KW_TIME, "2019-13-01 15:01", false},
        {EMU_KW_TIME, "2019-10/01 15:01", false},
        {EMU_KW_TIME, "tomorrow", false},
        {EMU_KW_TIME, "3pm", false},
        {EMU_KW_DATE, "2019年10月1日", true},
        {EMU_KW_DATE, "2019年10月1日 15:01", true},
        {EMU_KW_DATE, "2019-10-01", true},
        {EMU_KW_DATE, "2019.10.01", true},
        {EMU_KW_DATE, "10月1日", true},
        {EMU_KW_DATE, "2019年10月1日~2019年10月3日", true},
        {EMU_KW_DATE, "2025年06月01日 14:00~15:30", true},
        {EMU_KW_DATE, "15:01", false}, /* a date needs the date */
        {EMU_KW_DATE, "2019年10月32日", false},
        {EMU_KW_DATE, "2019年0月1日", false},
        {EMU_KW_DATE, "19-10-01", false},
        {EMU_KW_DATE, "2019年10月1日 25:00", false},
    };
    check_values(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Templates and quotas ------------------------------------------------------------------------------ */

static void test_templates_are_validated_and_replaced(void **ctx)
{
    fixture_t *f = *ctx;
    emu_sub_template_info_t info[EMU_SUB_TEMPLATES_MAX];
    size_t n = 0;
    const emu_slice_t good[] = {S("thing1"), S("number2")};
    const emu_slice_t unknown_type[] = {S("thing1"), S("color2")};
    const emu_slice_t repeated[] = {S("thing1"), S("thing1")};
    const emu_sub_template_t bad[] = {
        {S(""), good, 2},          {S("has space"), good, 2}, {S("T"), good, 0},
        {S("T"), unknown_type, 2}, {S("T"), repeated, 2},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        assert_int_equal(emu_state_sub_set_templates(f->st, S(APP_A), &bad[i], 1), EMU_EINVAL);
    const emu_sub_template_t twice[] = {{S("T"), good, 2}, {S("T"), good, 1}};
    assert_int_equal(emu_state_sub_set_templates(f->st, S(APP_A), twice, 2), EMU_EINVAL);
    assert_int_equal(emu_state_sub_set_templates(f->st, S("wxnone"), twice, 1), EMU_ENOENT);
    assert_int_equal(emu_state_sub_templates(f->st, S(APP_A), info, &n), EMU_OK);
    assert_int_equal(n, 1);
    assert_string_equal(info[0].id, TPL); /* nothing changed */
    assert_int_equal(info[0].nkeywords, 3);
    assert_string_equal(info[0].keywords[1], "time2");

    const emu_sub_template_t replaced[] = {{S("T2"), good, 2}, {S("T3"), good, 1}};
    assert_int_equal(emu_state_sub_set_templates(f->st, S(APP_A), replaced, 2), EMU_OK);
    assert_int_equal(emu_state_sub_templates(f->st, S(APP_A), info, &n), EMU_OK);
    assert_int_equal(n, 2);
    assert_string_equal(info[1].id, "T3");
    assert_false(emu_state_sub_has_template(f->st, S(APP_A), S(TPL)));
    assert_true(emu_state_sub_has_template(f->st, S(APP_A), S("T2")));
    assert_false(emu_state_sub_has_template(f->st, S(APP_B), S("T2")));
}

static void test_quota_accept_adds_up(void **ctx)
{
    fixture_t *f = *ctx;
    uint64_t q = 99;
    assert_int_equal(emu_state_sub_quota(f->st, S(APP_A), S(f->alice), S(TPL), &q), EMU_OK);
    assert_int_equal(q, 0);
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice), S(TPL), 1, &q), EMU_OK);
    assert_int_equal(q, 1);
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice), S(TPL), 3, &q), EMU_OK);
    assert_int_equal(q, 4);
    assert_int_equal(emu_state_sub_quota(f->st, S(APP_A), S(f->bob), S(TPL), &q), EMU_OK);
    assert_int_equal(q, 0); /* per user */
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice), S(TPL), 0, &q), EMU_EINVAL);
    assert_int_equal(emu_state_sub_accept(f->st, S("wxnone"), S(f->alice), S(TPL), 1, &q), EMU_ENOENT);
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice_b), S(TPL), 1, &q), EMU_ENOUSER);
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S("oNOTISSUED000000000000000000"), S(TPL), 1, &q),
                     EMU_ENOUSER);
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice), S("nope"), 1, &q), EMU_ENOTPL);
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice), S(TPL), EMU_SUB_QUOTA_MAX, &q), EMU_OK);
    assert_int_equal(q, EMU_SUB_QUOTA_MAX); /* capped */
    assert_int_equal(emu_state_sub_quota_count(f->st), 1);
}

/* subscribeMessage.send ----------------------------------------------------------------------------- */

typedef struct send_case {
    emu_sub_value_t values[8];
    emu_sub_send_request_t rq;
} send_case_t;

/* A valid request to alice in app A (data: the three keywords). */
static void good_send(const fixture_t *f, send_case_t *c)
{
    memset(c, 0, sizeof(*c));
    c->values[0] = (emu_sub_value_t){S("thing1"), EMU_SUB_TEXT, S("周例会")};
    c->values[1] = (emu_sub_value_t){S("time2"), EMU_SUB_TEXT, S("2025年06月01日 14:00~15:30")};
    c->values[2] = (emu_sub_value_t){S("phrase3"), EMU_SUB_TEXT, S("已变更")};
    c->rq = (emu_sub_send_request_t){
        .access_token = S(f->token_a),
        .touser = S(f->alice),
        .template_id = S(TPL),
        .page = S("pages/meeting/detail?id=7"),
        .has_data = true,
        .values = c->values,
        .nvalues = 3,
        .data_json = S("{\"x\":1}"),
        .wall_s = 1700000000,
    };
}

static int send(fixture_t *f, send_case_t *c, emu_sub_send_result_t *out)
{
    return emu_state_sub_send(f->st, &c->rq, T0 + 1, out);
}

static void test_send_errors_in_order(void **ctx)
{
    fixture_t *f = *ctx;
    send_case_t c;
    emu_sub_send_result_t out;

    good_send(f, &c);
    c.rq.access_token = S("");
    assert_int_equal(send(f, &c, &out), 41001);
    c.rq.access_token = S("nope");
    assert_int_equal(send(f, &c, &out), 40001);

    good_send(f, &c);
    c.rq.touser = (emu_slice_t){NULL, 0};
    c.rq.template_id = S("nope");
    assert_int_equal(send(f, &c, &out), 40003); /* touser before template_id */
    c.rq.touser = S(f->alice_b);                /* alice's openid of app B */
    assert_int_equal(send(f, &c, &out), 40003);
    c.rq.touser = S(f->alice);
    c.rq.access_token = S(f->token_b); /* app B's token: alice's openid of A is not B's */
    assert_int_equal(send(f, &c, &out), 40003);
    c.rq.access_token = S(f->token_a);
    assert_int_equal(send(f, &c, &out), 40037);
    c.rq.template_id = (emu_slice_t){NULL, 0};
    assert_int_equal(send(f, &c, &out), 40037);

    good_send(f, &c);
    c.rq.page = S("/pages/index/index");
    c.rq.lang = S("fr_FR");
    assert_int_equal(send(f, &c, &out), 41030); /* page before the arguments */
    c.rq.page = S("");                          /* no page: the card does not jump */
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! lang invalid");
    c.rq.lang = S("zh_TW");
    c.rq.miniprogram_state = S("release");
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! miniprogram_state invalid");
    c.rq.miniprogram_state = S("trial");

    c.rq.has_data = false;
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! data is emtpy");
    c.rq.has_data = true;
    c.values[0].text = S("一二三四五六七八九十一二三四五六七八九十一");
    c.values[1].kind = EMU_SUB_EMPTY;
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! data.thing1.value invalid"); /* template order */
    c.values[0].text = S("周例会");
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! data.time2.value is emtpy");
    c.values[1] = c.values[2]; /* time2 missing altogether */
    c.rq.nvalues = 2;
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! data.time2.value is emtpy");

    good_send(f, &c);
    c.values[2].kind = EMU_SUB_OTHER; /* a boolean, say */
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! data.phrase3.value invalid");
    good_send(f, &c);
    c.values[3] = (emu_sub_value_t){S("thing9"), EMU_SUB_TEXT, S("x")};
    c.rq.nvalues = 4;
    assert_int_equal(send(f, &c, &out), 47003);
    assert_string_equal(out.errmsg, "argument invalid! data.thing9 is not a keyword of the template");

    good_send(f, &c);
    assert_int_equal(send(f, &c, &out), 43101); /* everything right, but no quota */
    assert_int_equal(emu_state_sub_sent_count(f->st), 0);
}

static void test_send_spends_quota_and_records(void **ctx)
{
    fixture_t *f = *ctx;
    send_case_t c;
    emu_sub_send_result_t out;
    emu_sub_sent_t m;
    uint64_t q;

    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice), S(TPL), 2, &q), EMU_OK);
    good_send(f, &c);
    c.rq.miniprogram_state = S("developer");
    c.rq.lang = S("en_US");
    assert_int_equal(send(f, &c, &out), 0);
    assert_true(out.msgid == EMU_SUB_MSGID_FIRST);
    assert_true(out.msgid > (1ull << 53));
    c.rq.page = (emu_slice_t){NULL, 0};
    c.rq.miniprogram_state = (emu_slice_t){NULL, 0};
    c.rq.lang = (emu_slice_t){NULL, 0};
    assert_int_equal(send(f, &c, &out), 0);
    assert_true(out.msgid == EMU_SUB_MSGID_FIRST + 1);
    assert_int_equal(emu_state_sub_quota(f->st, S(APP_A), S(f->alice), S(TPL), &q), EMU_OK);
    assert_int_equal(q, 0);
    assert_int_equal(send(f, &c, &out), 43101);
    assert_int_equal(out.msgid, 0);

    assert_int_equal(emu_state_sub_sent_count(f->st), 2);
    assert_true(emu_state_sub_sent_at(f->st, 0, &m));
    assert_true(m.msgid == EMU_SUB_MSGID_FIRST);
    assert_string_equal(m.appid, APP_A);
    assert_string_equal(m.touser, f->alice);
    assert_string_equal(m.template_id, TPL);
    assert_string_equal(m.page, "pages/meeting/detail?id=7");
    assert_string_equal(m.data_json, "{\"x\":1}");
    assert_string_equal(m.miniprogram_state, "developer");
    assert_string_equal(m.lang, "en_US");
    assert_int_equal(m.time_s, 1700000000);
    assert_true(emu_state_sub_sent_at(f->st, 1, &m));
    assert_null(m.page);
    assert_null(m.miniprogram_state);
    assert_null(m.lang);
    assert_false(emu_state_sub_sent_at(f->st, 2, &m));

    assert_int_equal(emu_state_sub_clear_sent(f->st), 2);
    assert_int_equal(emu_state_sub_sent_count(f->st), 0);
    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->alice), S(TPL), 1, &q), EMU_OK);
    assert_int_equal(send(f, &c, &out), 0);
    assert_true(out.msgid == EMU_SUB_MSGID_FIRST + 2); /* msgids never repeat */
}

static void test_sent_record_is_bounded(void **ctx)
{
    fixture_t *f = *ctx;
    send_case_t c;
    emu_sub_send_result_t out;
    emu_sub_sent_t m;
    uint64_t q;
    const uint32_t extra = 5;

    assert_int_equal(emu_state_sub_accept(f->st, S(APP_A), S(f->bob), S(TPL), EMU_SUB_SENT_MAX + extra, &q), EMU_OK);
    good_send(f, &c);
    c.rq.touser = S(f->bob);
    for (uint32_t i = 0; i < EMU_SUB_SENT_MAX + extra; ++i)
        assert_int_equal(send(f, &c, &out), 0);
    assert_int_equal(emu_state_sub_sent_count(f->st), EMU_SUB_SENT_MAX);
    assert_true(emu_state_sub_sent_at(f->st, 0, &m));
    assert_true(m.msgid == EMU_SUB_MSGID_FIRST + extra); /* the oldest were forgotten */
    assert_true(emu_state_sub_sent_at(f->st, EMU_SUB_SENT_MAX - 1, &m));
    assert_true(m.msgid == out.msgid);
}

/* msgSecCheck ------------------------------------------------------------------------------------- */

static emu_sec_request_t good_check(const fixture_t *f, const char *content)
{
    return (emu_sec_request_t){.access_token = S(f->token_a),
                               .has_version = true,
                               .version = 2,
                               .has_scene = true,
                               .scene = 2,
                               .content = S(content),
                               .openid = S(f->alice)};
}

static void test_sec_errors_in_order(void **ctx)
{
    fixture_t *f = *ctx;
    emu_sec_result_t out;
    char long_text[3 * (EMU_SEC_CONTENT_MAX + 1) + 1];

    emu_sec_request_t rq = good_check(f, "hello");
    rq.access_token = S("nope");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 40001);
    rq = good_check(f, "hello");
    rq.bad_format = true;
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 47001);
    rq = good_check(f, "");
    rq.version = 1;
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 47001); /* format before emptiness */
    rq.has_version = false;
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 47001);
    /* 2500 characters pass (7500 bytes), 2501 do not */
    for (size_t i = 0; i < EMU_SEC_CONTENT_MAX; ++i)
        memcpy(long_text + 3 * i, "字", 3);
    long_text[3 * EMU_SEC_CONTENT_MAX] = '\0';
    rq = good_check(f, long_text);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    memcpy(long_text + 3 * EMU_SEC_CONTENT_MAX, "字", 4);
    rq = good_check(f, long_text);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 47001);

    rq = good_check(f, "");
    rq.scene = 9;
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 44002); /* emptiness before the scene */
    rq = good_check(f, "hello");
    rq.openid = (emu_slice_t){NULL, 0};
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 44002);
    rq = good_check(f, "hello");
    for (int64_t scene = 1; scene <= 4; ++scene) {
        rq.scene = scene;
        assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    }
    rq.scene = 0;
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 40129);
    rq.scene = 5;
    rq.openid = S(f->alice_b);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 40129); /* the scene before the openid */
    rq.has_scene = false;
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 40129);
    rq = good_check(f, "hello");
    rq.openid = S(f->alice_b);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 40003);
    rq.openid = S("not-an-openid");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 40003);
}

static void test_sec_visit_window(void **ctx)
{
    fixture_t *f = *ctx;
    emu_sec_result_t out;
    emu_sec_request_t rq = good_check(f, "hello");

    emu_state_set_token_ttl(f->st, 4 * EMU_VISIT_WINDOW_MS); /* the token outlives the window */
    token(f->st, APP_A, SECRET_A, f->token_a);
    rq.access_token = S(f->token_a);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0 + EMU_VISIT_WINDOW_MS - 1, &out), 0);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0 + EMU_VISIT_WINDOW_MS, &out), 61010);
    /* a new wx.login() code is a visit */
    char again[EMU_OPENID_LEN + 1];
    login(f->st, APP_A, "alice", T0 + EMU_VISIT_WINDOW_MS, again);
    assert_string_equal(again, f->alice);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0 + EMU_VISIT_WINDOW_MS + 1, &out), 0);
    /* the control API: stale, then a visit; a shorter window */
    assert_int_equal(emu_state_visit(f->st, S(APP_A), S(f->alice), true, T0), EMU_OK);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0 + 1, &out), 61010);
    assert_int_equal(emu_state_visit(f->st, S(APP_A), S(f->alice), false, T0 + 10), EMU_OK);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0 + 11, &out), 0);
    assert_int_equal(emu_state_sec_set(f->st, S(APP_A), NULL, 0, NULL, 0, 0, 1000), EMU_OK);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0 + 1009, &out), 0);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0 + 1010, &out), 61010);
    assert_int_equal(emu_state_visit(f->st, S(APP_A), S(f->alice_b), false, T0), EMU_ENOUSER);
    assert_int_equal(emu_state_visit(f->st, S("wxnone"), S(f->alice), false, T0), EMU_ENOENT);
}

static void test_sec_verdicts(void **ctx)
{
    fixture_t *f = *ctx;
    emu_sec_result_t out;
    emu_sec_info_t info = {0};
    const emu_slice_t risky[] = {S("赌博"), S("scam")};
    const emu_slice_t review[] = {S("maybe"), S("scam")};
    const emu_slice_t empty_word[] = {S("")};

    emu_sec_request_t rq = good_check(f, "周会改到三点");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_PASS);
    assert_int_equal(out.label, EMU_SEC_LABEL_PASS);
    assert_string_equal(out.keyword, "");

    assert_int_equal(emu_state_sec_set(f->st, S(APP_A), empty_word, 1, NULL, 0, 0, 0), EMU_EINVAL);
    assert_int_equal(emu_state_sec_set(f->st, S("wxnone"), risky, 2, NULL, 0, 0, 0), EMU_ENOENT);
    assert_int_equal(emu_state_sec_set(f->st, S(APP_A), risky, EMU_SEC_WORDS_MAX + 1, NULL, 0, 0, 0), EMU_EFULL);
    assert_int_equal(emu_state_sec_set(f->st, S(APP_A), risky, 2, review, 2, 0, 0), EMU_OK);
    assert_int_equal(emu_state_sec_info(f->st, S(APP_A), &info), EMU_OK);
    assert_int_equal(info.nrisky, 2);
    assert_string_equal(info.risky[0], "赌博");
    assert_int_equal(info.label, EMU_SEC_LABEL_DEFAULT);
    assert_int_equal(info.visit_window_ms, EMU_VISIT_WINDOW_MS);

    rq = good_check(f, "一起去赌博吧");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_RISKY);
    assert_int_equal(out.label, EMU_SEC_LABEL_DEFAULT);
    assert_string_equal(out.keyword, "赌博");
    rq = good_check(f, "this is a scam, maybe");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_RISKY); /* risky wins over review */
    assert_string_equal(out.keyword, "scam");
    rq = good_check(f, "maybe later");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_REVIEW);
    rq = good_check(f, "clean text");
    rq.title = S("a scam title");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_RISKY); /* the title counts */
    rq.title = (emu_slice_t){NULL, 0};
    rq.nickname = S("maybe_bot");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_REVIEW); /* the nickname counts */

    /* another label; another app has no words */
    assert_int_equal(emu_state_sec_set(f->st, S(APP_A), NULL, 0, NULL, 0, 20006, 0), EMU_OK);
    rq = good_check(f, "赌博");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.label, 20006);
    rq.access_token = S(f->token_b);
    rq.openid = S(f->alice_b);
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_PASS);
    /* an empty list clears */
    assert_int_equal(emu_state_sec_set(f->st, S(APP_A), risky, 0, NULL, 0, 0, 0), EMU_OK);
    rq = good_check(f, "赌博");
    assert_int_equal(emu_state_msg_sec_check(f->st, &rq, T0, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_PASS);
}

/* mediaCheckAsync and the push settings ------------------------------------------------------------ */

static emu_media_request_t good_media(const fixture_t *f, const char *url)
{
    return (emu_media_request_t){.access_token = S(f->token_a),
                                 .has_version = true,
                                 .version = 2,
                                 .has_scene = true,
                                 .scene = 1,
                                 .has_media_type = true,
                                 .media_type = 2,
                                 .media_url = S(url),
                                 .openid = S(f->alice)};
}

static void test_media_check(void **ctx)
{
    fixture_t *f = *ctx;
    emu_sec_result_t out;
    char appid[EMU_APPID_MAX + 1] = "";
    const emu_slice_t risky[] = {S("nsfw")};
    const emu_slice_t review[] = {S("blur")};

    emu_media_request_t rq = good_media(f, "https://x/a.png");
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 0);
    assert_string_equal(appid, APP_A);
    assert_int_equal(out.suggest, EMU_SEC_PASS);
    assert_int_equal(out.label, EMU_SEC_LABEL_PASS);
    rq.media_type = 1;
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 0);
    rq.media_type = 3;
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 47001);
    rq = good_media(f, "");
    rq.has_media_type = false;
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 47001); /* format before emptiness */
    rq = good_media(f, "");
    rq.scene = 7;
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 44002);
    rq = good_media(f, "https://x/a.png");
    rq.scene = 7;
    rq.openid = S(f->alice_b);
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 40129);
    rq.scene = 3;
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 40003);
    rq = good_media(f, "https://x/a.png");
    assert_int_equal(emu_state_visit(f->st, S(APP_A), S(f->alice), true, T0), EMU_OK);
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 61010);
    assert_int_equal(emu_state_visit(f->st, S(APP_A), S(f->alice), false, T0), EMU_OK);
    rq.access_token = S("");
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 41001);

    assert_int_equal(emu_state_sec_set(f->st, S(APP_A), risky, 1, review, 1, 0, 0), EMU_OK);
    rq = good_media(f, "https://x/nsfw/blur.png");
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_RISKY);
    assert_int_equal(out.label, EMU_SEC_LABEL_DEFAULT);
    rq = good_media(f, "https://x/blur.png");
    assert_int_equal(emu_state_media_check(f->st, &rq, T0, appid, &out), 0);
    assert_int_equal(out.suggest, EMU_SEC_REVIEW);
}

static void test_media_log_records_fields_in_order(void **ctx)
{
    fixture_t *f = *ctx;
    emu_media_entry_t m = {0};
    emu_media_request_t rq = good_media(f, "https://oa.example/att/1?sig=ab%2Fc&exp=99");

    assert_int_equal(emu_state_media_log_count(f->st), 0);
    assert_false(emu_state_media_log_at(f->st, 0, &m));
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("trace-1"), 1700000000), EMU_OK);
    rq = good_media(f, "https://oa.example/voice.mp3");
    rq.access_token = S(f->token_b);
    rq.openid = S(f->alice_b);
    rq.media_type = 1;
    rq.scene = 4;
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_B), &rq, S("trace-2"), 1700000001), EMU_OK);

    assert_int_equal(emu_state_media_log_count(f->st), 2);
    const emu_media_entry_t want[] = {
        {APP_A, f->alice, "https://oa.example/att/1?sig=ab%2Fc&exp=99", "trace-1", 2, 1, 1700000000},
        {APP_B, f->alice_b, "https://oa.example/voice.mp3", "trace-2", 1, 4, 1700000001},
    };
    for (size_t i = 0; i < 2; ++i) {
        assert_true(emu_state_media_log_at(f->st, i, &m));
        assert_string_equal(m.appid, want[i].appid);
        assert_string_equal(m.openid, want[i].openid);
        assert_string_equal(m.media_url, want[i].media_url);
        assert_string_equal(m.trace_id, want[i].trace_id);
        assert_int_equal(m.media_type, want[i].media_type);
        assert_int_equal(m.scene, want[i].scene);
        assert_int_equal(m.time_s, want[i].time_s);
    }
    assert_false(emu_state_media_log_at(f->st, 2, &m));

    assert_int_equal(emu_state_media_log_clear(f->st), 2);
    assert_int_equal(emu_state_media_log_count(f->st), 0);
    assert_false(emu_state_media_log_at(f->st, 0, &m));
    assert_int_equal(emu_state_media_log_clear(f->st), 0);
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("trace-3"), 5), EMU_OK);
    assert_true(emu_state_media_log_at(f->st, 0, &m)); /* logging starts over after a clear */
    assert_string_equal(m.trace_id, "trace-3");
}

static void test_media_log_is_bounded(void **ctx)
{
    fixture_t *f = *ctx;
    emu_media_entry_t m = {0};
    char url[64], trace[16];
    const size_t extra = 3;

    for (size_t i = 0; i < EMU_MEDIA_LOG_MAX + extra; ++i) {
        snprintf(url, sizeof(url), "https://x/%zu.png", i);
        snprintf(trace, sizeof(trace), "t%zu", i);
        emu_media_request_t rq = good_media(f, url);
        assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S(trace), (int64_t)i), EMU_OK);
    }
    assert_int_equal(emu_state_media_log_count(f->st), EMU_MEDIA_LOG_MAX);
    for (size_t i = 0; i < EMU_MEDIA_LOG_MAX; ++i) { /* the oldest were forgotten, the rest in order */
        assert_true(emu_state_media_log_at(f->st, i, &m));
        snprintf(url, sizeof(url), "https://x/%zu.png", i + extra);
        snprintf(trace, sizeof(trace), "t%zu", i + extra);
        assert_string_equal(m.media_url, url);
        assert_string_equal(m.trace_id, trace);
        assert_int_equal(m.time_s, (int64_t)(i + extra));
    }
    assert_int_equal(emu_state_media_log_clear(f->st), EMU_MEDIA_LOG_MAX);
}

static void test_media_log_refuses_bad_input(void **ctx)
{
    fixture_t *f = *ctx;
    static char long_url[EMU_MEDIA_URL_MAX + 2];
    emu_media_entry_t m = {0};
    emu_media_request_t rq = good_media(f, "https://x/a.png");

    memset(long_url, 'u', EMU_MEDIA_URL_MAX + 1);
    assert_int_equal(emu_state_media_log_add(f->st, S("wxnone"), &rq, S("t"), 1), EMU_ENOENT);
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S(""), 1), EMU_EINVAL);
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("123456789012345678901234567890123"), 1),
                     EMU_EINVAL); /* EMU_MEDIA_TRACE_MAX + 1 bytes */
    rq.media_url = S(long_url);
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("t"), 1), EMU_EINVAL);
    rq.media_url = (emu_slice_t){long_url, EMU_MEDIA_URL_MAX}; /* the longest a check accepts */
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("t"), 1), EMU_OK);
    assert_true(emu_state_media_log_at(f->st, 0, &m));
    assert_int_equal(strlen(m.media_url), EMU_MEDIA_URL_MAX);
    rq = good_media(f, "https://x/\0.png");
    rq.media_url.len = sizeof("https://x/\0.png") - 1; /* with its NUL */
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("t"), 1), EMU_EINVAL);
    rq = good_media(f, "https://x/a.png");
    rq.openid = S("");
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("t"), 1), EMU_EINVAL);
    rq = good_media(f, "https://x/a.png");
    rq.media_type = 3;
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("t"), 1), EMU_EINVAL);
    rq = good_media(f, "https://x/a.png");
    rq.has_scene = false;
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("t"), 1), EMU_EINVAL);
    rq.has_scene = true;
    rq.scene = 5;
    assert_int_equal(emu_state_media_log_add(f->st, S(APP_A), &rq, S("t"), 1), EMU_EINVAL);
    assert_int_equal(emu_state_media_log_count(f->st), 1); /* only the good one */
}

static void test_push_settings(void **ctx)
{
    fixture_t *f = *ctx;
    emu_push_config_t c;
    const char *key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const emu_slice_t none = {NULL, 0};

    assert_int_equal(emu_state_push_config(f->st, S(APP_A), &c), EMU_OK);
    assert_false(c.configured);
    assert_int_equal(c.delay_ms, EMU_PUSH_DELAY_MS);
    assert_int_equal(emu_state_push_set(f->st, S(APP_A), S("https://127.0.0.1/p"), S("tok"), none, 0), EMU_EINVAL);
    assert_int_equal(emu_state_push_set(f->st, S(APP_A), S("http://127.0.0.1/p"), S("to"), none, 0), EMU_EINVAL);
    assert_int_equal(emu_state_push_set(f->st, S(APP_A), S("http://127.0.0.1/p"), S("tok-en"), none, 0), EMU_EINVAL);
    assert_int_equal(emu_state_push_set(f->st, S(APP_A), S("http://127.0.0.1/a b"), S("token"), none, 0), EMU_EINVAL);
    assert_int_equal(emu_state_push_set(f->st, S(APP_A), S("http://127.0.0.1/p"), S("token"), S("short"), 0),
                     EMU_EINVAL);
    assert_int_equal(emu_state_push_set(f->st, S(APP_A), S("http://127.0.0.1/p"), S("token"), none, 60001), EMU_EINVAL);
    assert_int_equal(emu_state_push_set(f->st, S("wxnone"), none, none, none, 0), EMU_ENOENT);
    assert_int_equal(emu_state_push_config(f->st, S(APP_A), &c), EMU_OK);
    assert_false(c.configured); /* nothing changed */

    assert_int_equal(emu_state_push_set(f->st, S(APP_A), S("http://127.0.0.1:8080/p"), S("token"), S(key), 250),
                     EMU_OK);
    assert_int_equal(emu_state_push_config(f->st, S(APP_A), &c), EMU_OK);
    assert_true(c.configured);
    assert_string_equal(c.url, "http://127.0.0.1:8080/p");
    assert_string_equal(c.token, "token");
    assert_string_equal(c.aes_key, key);
    assert_int_equal(c.delay_ms, 250);
    assert_int_equal(emu_state_push_set(f->st, S(APP_A), none, none, none, 10), EMU_OK);
    assert_int_equal(emu_state_push_config(f->st, S(APP_A), &c), EMU_OK);
    assert_false(c.configured);
    assert_string_equal(c.token, "");
    assert_int_equal(c.delay_ms, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyword_types),
        cmocka_unit_test(test_keyword_values_text_kinds),
        cmocka_unit_test(test_keyword_values_time_and_date),
        cmocka_unit_test_setup_teardown(test_templates_are_validated_and_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_accept_adds_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_errors_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_spends_quota_and_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sent_record_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sec_errors_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sec_visit_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sec_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_log_records_fields_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_log_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_log_refuses_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_settings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
