/*
 * test_wxemu_state — the pure state logic of wxemu: apps, single-use expiring codes, code2Session's
 * error codes, stable openids/unionids, a new session_key per exchange, fault countdown, counters.
 *
 * The state file is compiled into this test directly (CMake links tests against meetoa_core only).
 * Time is simulated: every call takes now_ms from the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../tools/wxemu/emu_state.c"

#define APP_A    "wx00000000000000aa"
#define SECRET_A "secret-of-app-a"
#define APP_B    "wx00000000000000bb"
#define SECRET_B "secret-of-app-b"
#define T0       1000000

static emu_slice_t S(const char *s)
{
    return emu_slice_cstr(s);
}

static int setup(void **ctx)
{
    emu_state_t *st = emu_state_new();
    assert_non_null(st);
    assert_int_equal(emu_state_add_app(st, S(APP_A), S(SECRET_A)), EMU_OK);
    assert_int_equal(emu_state_add_app(st, S(APP_B), S(SECRET_B)), EMU_OK);
    *ctx = st;
    return 0;
}

static int teardown(void **ctx)
{
    emu_state_free(*ctx);
    return 0;
}

static emu_j2s_request_t j2s(const char *appid, const char *secret, const char *code)
{
    return (emu_j2s_request_t){S(appid), S(secret), S(code), S("authorization_code")};
}

static void issue(emu_state_t *st, const char *appid, const char *user, int64_t now, emu_login_t *login)
{
    assert_int_equal(emu_state_issue_code(st, S(appid), S(user), now, login), EMU_OK);
}

static void test_add_app_validates(void **ctx)
{
    emu_state_t *st = *ctx;
    char long_id[EMU_APPID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';

    assert_int_equal(emu_state_add_app(st, S(APP_A), S("other")), EMU_EEXIST);
    assert_int_equal(emu_state_add_app(st, S(""), S("s")), EMU_EINVAL);
    assert_int_equal(emu_state_add_app(st, S("wxc"), S("")), EMU_EINVAL);
    assert_int_equal(emu_state_add_app(st, S("wx:c"), S("s")), EMU_EINVAL);
    assert_int_equal(emu_state_add_app(st, S(long_id), S("s")), EMU_EINVAL);
    assert_int_equal(emu_state_app_count(st), 2);
    assert_true(emu_state_has_app(st, S(APP_B)));
    assert_false(emu_state_has_app(st, S("wxnone")));
}

static void test_issue_code_checks_app_and_user(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t login;
    char long_user[EMU_USER_MAX + 2];
    memset(long_user, 'u', sizeof(long_user) - 1);
    long_user[sizeof(long_user) - 1] = '\0';

    assert_int_equal(emu_state_issue_code(st, S("wxnone"), S("alice"), T0, &login), EMU_ENOENT);
    assert_int_equal(emu_state_issue_code(st, S(APP_A), S(""), T0, &login), EMU_EINVAL);
    assert_int_equal(emu_state_issue_code(st, S(APP_A), S(long_user), T0, &login), EMU_EINVAL);
    assert_int_equal(emu_state_code_count(st), 0);

    issue(st, APP_A, "alice", T0, &login);
    assert_int_equal(strlen(login.code), EMU_CODE_LEN);
    assert_int_equal(strlen(login.openid), EMU_OPENID_LEN);
    assert_int_equal(login.openid[0], 'o');
    assert_int_equal(emu_state_code_count(st), 1);
}

static void test_exchange_success(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t login;
    emu_j2s_result_t out;
    uint8_t raw[32];

    issue(st, APP_A, "alice", T0, &login);
    emu_j2s_request_t rq = j2s(APP_A, SECRET_A, login.code);
    assert_int_equal(emu_state_jscode2session(st, &rq, T0 + 10, &out), 0);
    assert_string_equal(out.openid, login.openid);
    assert_string_equal(out.unionid, login.unionid);
    assert_int_equal(strlen(out.session_key), EMU_SESSION_KEY_LEN);
    assert_int_equal(crypto_b64_decode(out.session_key, strlen(out.session_key), raw, sizeof(raw)), 16);

    char current[EMU_SESSION_KEY_LEN + 1];
    assert_true(emu_state_session_key(st, S(APP_A), S("alice"), current));
    assert_string_equal(current, out.session_key);
    assert_false(emu_state_session_key(st, S(APP_B), S("alice"), current));
}

static void test_code_is_single_use(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t login;
    emu_j2s_result_t out;

    issue(st, APP_A, "alice", T0, &login);
    emu_j2s_request_t rq = j2s(APP_A, SECRET_A, login.code);
    assert_int_equal(emu_state_jscode2session(st, &rq, T0 + 1, &out), 0);
    assert_int_equal(emu_state_jscode2session(st, &rq, T0 + 2, &out), 40163);
}

static void test_code_expires_after_five_minutes(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t late, in_time;
    emu_j2s_result_t out;

    issue(st, APP_A, "alice", T0, &late);
    issue(st, APP_A, "bob", T0, &in_time);
    emu_j2s_request_t rq_in_time = j2s(APP_A, SECRET_A, in_time.code);
    emu_j2s_request_t rq_late = j2s(APP_A, SECRET_A, late.code);
    assert_int_equal(emu_state_jscode2session(st, &rq_in_time, T0 + EMU_CODE_TTL_MS - 1, &out), 0);
    assert_int_equal(emu_state_jscode2session(st, &rq_late, T0 + EMU_CODE_TTL_MS, &out), 40029);
}

static void test_expire_code_shortcut(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t login;
    emu_j2s_result_t out;

    issue(st, APP_A, "alice", T0, &login);
    assert_int_equal(emu_state_expire_code(st, S(login.code), T0 + 5), EMU_OK);
    emu_j2s_request_t rq = j2s(APP_A, SECRET_A, login.code);
    assert_int_equal(emu_state_jscode2session(st, &rq, T0 + 5, &out), 40029);
    assert_int_equal(emu_state_expire_code(st, S("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), T0), EMU_ENOENT);
    assert_int_equal(emu_state_expire_code(st, S("short"), T0), EMU_ENOENT);
}

static void test_unknown_code_and_code_of_other_app(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t login;
    emu_j2s_result_t out;

    issue(st, APP_A, "alice", T0, &login);
    emu_j2s_request_t unknown = j2s(APP_A, SECRET_A, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(emu_state_jscode2session(st, &unknown, T0, &out), 40029);
    emu_j2s_request_t other_app = j2s(APP_B, SECRET_B, login.code);
    assert_int_equal(emu_state_jscode2session(st, &other_app, T0, &out), 40029);
    /* the failed attempt did not consume it */
    emu_j2s_request_t own_app = j2s(APP_A, SECRET_A, login.code);
    assert_int_equal(emu_state_jscode2session(st, &own_app, T0, &out), 0);
}

static void test_parameter_errors_in_order(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t login;
    emu_j2s_result_t out;
    issue(st, APP_A, "alice", T0, &login);
    const char *c = login.code;
    const struct {
        emu_j2s_request_t rq;
        int errcode;
    } cases[] = {
        {{S(NULL), S(SECRET_A), S(c), S("authorization_code")}, 41002},
        {{S(""), S(SECRET_A), S(c), S("authorization_code")}, 41002},
        {{S(NULL), S(NULL), S(NULL), S(NULL)}, 41002},
        {{S(APP_A), S(NULL), S(c), S("authorization_code")}, 41004},
        {{S(APP_A), S(""), S(NULL), S("authorization_code")}, 41004},
        {{S(APP_A), S(SECRET_A), S(NULL), S("authorization_code")}, 41008},
        {{S(APP_A), S(SECRET_A), S(""), S("authorization_code")}, 41008},
        {{S("wxnone"), S(SECRET_A), S(c), S("authorization_code")}, 40013},
        {{S(APP_A), S(SECRET_B), S(c), S("authorization_code")}, 40125},
        {{S(APP_A), S(SECRET_A "x"), S(c), S("authorization_code")}, 40125},
        {{S(APP_A), S(SECRET_A), S(c), S("client_credential")}, 40002},
        {{S(APP_A), S(SECRET_A), S(c), S(NULL)}, 40002},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        print_message("case %zu\n", i);
        assert_int_equal(emu_state_jscode2session(st, &cases[i].rq, T0, &out), cases[i].errcode);
    }
    /* none of them consumed the code */
    emu_j2s_request_t rq = j2s(APP_A, SECRET_A, c);
    assert_int_equal(emu_state_jscode2session(st, &rq, T0, &out), 0);
}

static void test_ids_are_stable_and_distinct(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t a1, a2, b1, bob;
    emu_j2s_result_t out_a1, out_a2, out_b1, out_bob;

    issue(st, APP_A, "alice", T0, &a1);
    issue(st, APP_A, "alice", T0, &a2);
    issue(st, APP_B, "alice", T0, &b1);
    issue(st, APP_A, "bob", T0, &bob);
    assert_string_not_equal(a1.code, a2.code);
    emu_j2s_request_t r1 = j2s(APP_A, SECRET_A, a1.code), r2 = j2s(APP_A, SECRET_A, a2.code);
    emu_j2s_request_t r3 = j2s(APP_B, SECRET_B, b1.code), r4 = j2s(APP_A, SECRET_A, bob.code);
    assert_int_equal(emu_state_jscode2session(st, &r1, T0, &out_a1), 0);
    assert_int_equal(emu_state_jscode2session(st, &r2, T0, &out_a2), 0);
    assert_int_equal(emu_state_jscode2session(st, &r3, T0, &out_b1), 0);
    assert_int_equal(emu_state_jscode2session(st, &r4, T0, &out_bob), 0);

    assert_string_equal(out_a1.openid, out_a2.openid);        /* stable per (app, user) */
    assert_string_not_equal(out_a1.openid, out_b1.openid);    /* per app */
    assert_string_not_equal(out_a1.openid, out_bob.openid);   /* per user */
    assert_string_equal(out_a1.unionid, out_b1.unionid);      /* one unionid across apps */
    assert_string_not_equal(out_a1.unionid, out_bob.unionid); /* per user */

    /* deterministic: the same inputs give the same id in another state object */
    char again[EMU_OPENID_LEN + 1];
    emu_openid(S(APP_A), S("alice"), again);
    assert_string_equal(again, out_a1.openid);
}

static void test_new_session_key_per_exchange(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t l1, l2;
    emu_j2s_result_t o1, o2;
    char current[EMU_SESSION_KEY_LEN + 1];

    issue(st, APP_A, "alice", T0, &l1);
    issue(st, APP_A, "alice", T0, &l2);
    emu_j2s_request_t r1 = j2s(APP_A, SECRET_A, l1.code), r2 = j2s(APP_A, SECRET_A, l2.code);
    assert_int_equal(emu_state_jscode2session(st, &r1, T0, &o1), 0);
    assert_true(emu_state_session_key(st, S(APP_A), S("alice"), current));
    assert_string_equal(current, o1.session_key);
    assert_int_equal(emu_state_jscode2session(st, &r2, T0, &o2), 0);
    assert_string_not_equal(o1.session_key, o2.session_key);
    assert_true(emu_state_session_key(st, S(APP_A), S("alice"), current));
    assert_string_equal(current, o2.session_key);
    assert_int_equal(emu_state_session_count(st), 1);
}

static void test_purge_forgets_expired_codes(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t login;

    for (int i = 0; i < 10; ++i)
        issue(st, APP_A, "alice", T0 + i, &login);
    assert_int_equal(emu_state_code_count(st), 10);
    assert_int_equal(emu_state_purge(st, T0 + EMU_CODE_TTL_MS + 4), 5);
    assert_int_equal(emu_state_code_count(st), 5);
    /* issuing purges as well */
    issue(st, APP_A, "bob", T0 + 2 * EMU_CODE_TTL_MS, &login);
    assert_int_equal(emu_state_code_count(st), 1);
}

static emu_fault_t fault(const char *path, int errcode, uint32_t count)
{
    emu_fault_t f;
    memset(&f, 0, sizeof(f));
    snprintf(f.path, sizeof(f.path), "%s", path);
    f.errcode = errcode;
    f.count = count;
    return f;
}

static void test_fault_countdown(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_fault_t f = fault("/sns/jscode2session", 45011, 2), g = fault("/sns/jscode2session", -1, 1), out;

    assert_int_equal(emu_state_add_fault(st, &f), EMU_OK);
    assert_int_equal(emu_state_add_fault(st, &g), EMU_OK);
    assert_false(emu_state_take_fault(st, S("/cgi-bin/token"), &out));

    assert_true(emu_state_take_fault(st, S("/sns/jscode2session"), &out));
    assert_int_equal(out.errcode, 45011);
    assert_int_equal(out.count, 1);
    assert_true(emu_state_take_fault(st, S("/sns/jscode2session"), &out));
    assert_int_equal(out.errcode, 45011);
    assert_int_equal(out.count, 0);
    assert_true(emu_state_take_fault(st, S("/sns/jscode2session"), &out));
    assert_int_equal(out.errcode, -1);
    assert_false(emu_state_take_fault(st, S("/sns/jscode2session"), &out));
    assert_int_equal(emu_state_fault_count(st), 0);
}

static void test_fault_validation_and_clear(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_fault_t zero = fault("/sns/jscode2session", 1, 0), relative = fault("sns", 1, 1), out;
    emu_fault_t ok = fault("/sns/jscode2session", 1, 5);

    assert_int_equal(emu_state_add_fault(st, &zero), EMU_EINVAL);
    assert_int_equal(emu_state_add_fault(st, &relative), EMU_EINVAL);
    for (int i = 0; i < EMU_MAX_FAULTS; ++i)
        assert_int_equal(emu_state_add_fault(st, &ok), EMU_OK);
    assert_int_equal(emu_state_add_fault(st, &ok), EMU_EFULL);
    emu_state_clear_faults(st);
    assert_false(emu_state_take_fault(st, S("/sns/jscode2session"), &out));
}

static void test_call_counters(void **ctx)
{
    emu_state_t *st = *ctx;
    uint64_t calls;

    emu_state_count_call(st, S("/sns/jscode2session"));
    emu_state_count_call(st, S("/sns/jscode2session"));
    emu_state_count_call(st, S("/cgi-bin/token"));
    assert_int_equal(emu_state_calls(st, S("/sns/jscode2session")), 2);
    assert_int_equal(emu_state_calls(st, S("/cgi-bin/token")), 1);
    assert_int_equal(emu_state_calls(st, S("/wxa/checksession")), 0);
    assert_int_equal(emu_state_stat_paths(st), 2);
    assert_string_equal(emu_state_stat_at(st, 1, &calls), "/cgi-bin/token");
    assert_int_equal(calls, 1);
    assert_null(emu_state_stat_at(st, 2, &calls));
    emu_state_reset_stats(st);
    assert_int_equal(emu_state_calls(st, S("/sns/jscode2session")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_app_validates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_code_checks_app_and_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchange_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_is_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_expires_after_five_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_code_shortcut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_code_and_code_of_other_app, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_errors_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_are_stable_and_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_session_key_per_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_forgets_expired_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_countdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_validation_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_counters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
