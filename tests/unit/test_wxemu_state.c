/*
 * test_wxemu_state — the pure state logic of wxemu: apps, single-use expiring codes, code2Session's
 * error codes, stable openids/unionids, a new session_key per exchange, fault countdown, counters;
 * access_tokens (minting, the grace of a superseded token, stable_token reuse and the force_refresh
 * ration, invalidate/expire), phone codes (single use, expiry, kind, app and openid checks, the
 * phone_info format), session_key lookup by openid and the checksession signature.
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

#include "../../tools/wxemu/emu_keyword.c"
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

static void test_login_code_rotates_session_key_at_issue(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_login_t l1, l2;
    emu_j2s_result_t o1, o2;
    char k1[EMU_SESSION_KEY_LEN + 1], k2[EMU_SESSION_KEY_LEN + 1], current[EMU_SESSION_KEY_LEN + 1];

    assert_false(emu_state_session_key(st, S(APP_A), S("alice"), current));
    /* wx.login() on the phone: a new key, current at once, before any exchange */
    issue(st, APP_A, "alice", T0, &l1);
    assert_true(emu_state_session_key(st, S(APP_A), S("alice"), k1));
    issue(st, APP_A, "alice", T0, &l2);
    assert_true(emu_state_session_key(st, S(APP_A), S("alice"), k2));
    assert_string_not_equal(k1, k2);
    /* each exchange answers its own code's key and records it as current */
    emu_j2s_request_t r2 = j2s(APP_A, SECRET_A, l2.code), r1 = j2s(APP_A, SECRET_A, l1.code);
    assert_int_equal(emu_state_jscode2session(st, &r2, T0, &o2), 0);
    assert_string_equal(o2.session_key, k2);
    assert_int_equal(emu_state_jscode2session(st, &r1, T0, &o1), 0);
    assert_string_equal(o1.session_key, k1);
    assert_true(emu_state_session_key(st, S(APP_A), S("alice"), current));
    assert_string_equal(current, k1);
    /* a phone code does not rotate it */
    char phone_code[EMU_CODE_LEN + 1];
    emu_phone_spec_t spec = {S("13800138000"), S(NULL), false, S(NULL)};
    assert_int_equal(emu_state_issue_phone_code(st, S(APP_A), S("alice"), &spec, T0, phone_code), EMU_OK);
    assert_true(emu_state_session_key(st, S(APP_A), S("alice"), current));
    assert_string_equal(current, k1);
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

/* A fault with a code filter applies to that code's calls only; other codes' calls pass it by
 * (it keeps its count), and a plain fault queued after it still applies to them in order. */
static void test_fault_for_one_code(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_fault_t mine = fault("/sns/jscode2session", 40226, 2), plain = fault("/sns/jscode2session", -1, 1), out;
    snprintf(mine.code, sizeof(mine.code), "%s", "code-of-bob");
    assert_int_equal(emu_state_add_fault(st, &mine), EMU_OK);
    assert_int_equal(emu_state_add_fault(st, &plain), EMU_OK);

    assert_false(emu_state_take_fault_for(st, S("/cgi-bin/token"), S("code-of-bob"), &out)); /* other path */
    assert_true(emu_state_take_fault_for(st, S("/sns/jscode2session"), S("code-of-alice"), &out));
    assert_int_equal(out.errcode, -1); /* alice meets the plain fault, not bob's */
    assert_false(emu_state_take_fault_for(st, S("/sns/jscode2session"), S("code-of-alice"), &out));
    /* A call without a code, or with a code that only starts the same, passes bob's fault by. */
    assert_false(emu_state_take_fault(st, S("/sns/jscode2session"), &out));
    assert_false(emu_state_take_fault_for(st, S("/sns/jscode2session"), S("code-of-bo"), &out));
    assert_int_equal(emu_state_fault_count(st), 1);

    assert_true(emu_state_take_fault_for(st, S("/sns/jscode2session"), S("code-of-bob"), &out));
    assert_int_equal(out.errcode, 40226);
    assert_int_equal(out.count, 1);
    assert_string_equal(out.code, "code-of-bob");
    assert_true(emu_state_take_fault_for(st, S("/sns/jscode2session"), S("code-of-bob"), &out));
    assert_int_equal(out.count, 0);
    assert_false(emu_state_take_fault_for(st, S("/sns/jscode2session"), S("code-of-bob"), &out));
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

/* access_token ------------------------------------------------------------------------------------ */

static emu_token_request_t tok(const char *appid, const char *secret, bool force)
{
    return (emu_token_request_t){S("client_credential"), S(appid), S(secret), force};
}

static void get_token(emu_state_t *st, const char *appid, const char *secret, int64_t now, emu_token_result_t *out)
{
    emu_token_request_t rq = tok(appid, secret, false);
    assert_int_equal(emu_state_token(st, &rq, now, out), 0);
}

static void get_stable(emu_state_t *st, bool force, int64_t now, emu_token_result_t *out)
{
    emu_token_request_t rq = tok(APP_A, SECRET_A, force);
    assert_int_equal(emu_state_stable_token(st, &rq, now, out), 0);
}

static int check(emu_state_t *st, const char *token, int64_t now)
{
    return emu_state_check_token(st, S(token), now, NULL);
}

static void test_token_parameter_errors(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t out;
    const struct {
        emu_token_request_t rq;
        int token_errcode, stable_errcode;
    } cases[] = {
        {{S("client_credential"), S(NULL), S(SECRET_A), false}, 41002, 41002},
        {{S("client_credential"), S(""), S(SECRET_A), false}, 41002, 41002},
        {{S("client_credential"), S(APP_A), S(NULL), false}, 41004, 41004},
        {{S("client_credential"), S("wxnone"), S(SECRET_A), false}, 40013, 40013},
        {{S("client_credential"), S(APP_A), S(SECRET_B), false}, 40001, 40125},
        {{S("authorization_code"), S(APP_A), S(SECRET_A), false}, 40002, 40002},
        {{S(NULL), S(APP_A), S(SECRET_A), false}, 40002, 40002},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        print_message("case %zu\n", i);
        assert_int_equal(emu_state_token(st, &cases[i].rq, T0, &out), cases[i].token_errcode);
        assert_int_equal(emu_state_stable_token(st, &cases[i].rq, T0, &out), cases[i].stable_errcode);
    }
    assert_int_equal(emu_state_token_count(st), 0);
}

static void test_token_each_call_mints_and_old_has_grace(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t t1, t2, t3;
    char appid[EMU_APPID_MAX + 1] = "";

    get_token(st, APP_A, SECRET_A, T0, &t1);
    assert_int_equal(strlen(t1.access_token), EMU_TOKEN_LEN);
    assert_int_equal(t1.expires_in, 7200);
    assert_int_equal(emu_state_check_token(st, S(t1.access_token), T0, appid), 0);
    assert_string_equal(appid, APP_A);

    get_token(st, APP_A, SECRET_A, T0 + 1000, &t2);
    assert_string_not_equal(t1.access_token, t2.access_token);
    /* t1 was superseded at T0 + 1000: it works 5 minutes more, then is "not latest" */
    assert_int_equal(check(st, t1.access_token, T0 + 1000 + EMU_TOKEN_GRACE_MS - 1), 0);
    assert_int_equal(check(st, t1.access_token, T0 + 1000 + EMU_TOKEN_GRACE_MS), 40001);
    assert_int_equal(check(st, t2.access_token, T0 + 1000 + EMU_TOKEN_GRACE_MS), 0);
    /* each superseded token has its own grace */
    get_token(st, APP_A, SECRET_A, T0 + 2000, &t3);
    assert_int_equal(check(st, t2.access_token, T0 + 2000 + EMU_TOKEN_GRACE_MS - 1), 0);
    /* the current one expires after its lifetime */
    assert_int_equal(check(st, t3.access_token, T0 + 2000 + EMU_TOKEN_TTL_MS - 1), 0);
    assert_int_equal(check(st, t3.access_token, T0 + 2000 + EMU_TOKEN_TTL_MS), 42001);
    /* other apps' tokens are their own */
    emu_token_result_t b;
    get_token(st, APP_B, SECRET_B, T0, &b);
    assert_int_equal(emu_state_check_token(st, S(b.access_token), T0, appid), 0);
    assert_string_equal(appid, APP_B);
}

static void test_token_check_errors(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t t;
    char garbage[EMU_TOKEN_LEN + 1];

    get_token(st, APP_A, SECRET_A, T0, &t);
    memcpy(garbage, t.access_token, sizeof(garbage));
    garbage[10] = garbage[10] == 'A' ? 'B' : 'A';
    assert_int_equal(emu_state_check_token(st, S(NULL), T0, NULL), 41001);
    assert_int_equal(emu_state_check_token(st, S(""), T0, NULL), 41001);
    assert_int_equal(check(st, "short", T0), 40001);
    assert_int_equal(check(st, garbage, T0), 40001);
}

static void test_stable_token_is_shared_until_near_expiry(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t s1, s2, s3, plain;

    get_stable(st, false, T0, &s1);
    assert_int_equal(s1.expires_in, 7200);
    get_stable(st, false, T0 + 100 * 1000, &s2);
    assert_string_equal(s1.access_token, s2.access_token); /* the same token for every caller */
    assert_int_equal(s2.expires_in, 7100);                 /* counting down */

    /* /cgi-bin/token is independent: minting there does not disturb the stable token */
    get_token(st, APP_A, SECRET_A, T0 + 200 * 1000, &plain);
    assert_string_not_equal(plain.access_token, s1.access_token);
    get_stable(st, false, T0 + 300 * 1000, &s2);
    assert_string_equal(s1.access_token, s2.access_token);
    assert_int_equal(check(st, plain.access_token, T0 + 300 * 1000), 0);

    /* just outside the last 5 minutes: still the same; inside them: a new one */
    int64_t renew_at = T0 + EMU_TOKEN_TTL_MS - EMU_TOKEN_GRACE_MS;
    get_stable(st, false, renew_at - 1, &s2);
    assert_string_equal(s1.access_token, s2.access_token);
    get_stable(st, false, renew_at + 1000, &s3);
    assert_string_not_equal(s1.access_token, s3.access_token);
    assert_int_equal(s3.expires_in, 7200);
    /* the old one keeps working until its own expiry, which comes before the end of its grace */
    assert_int_equal(check(st, s1.access_token, T0 + EMU_TOKEN_TTL_MS - 1), 0);
    assert_int_equal(check(st, s1.access_token, T0 + EMU_TOKEN_TTL_MS), 42001);
    assert_int_equal(check(st, s1.access_token, renew_at + 1000 + EMU_TOKEN_GRACE_MS), 40001);
}

static void test_stable_token_short_ttl_window(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t s1, s2;

    emu_state_set_token_ttl(st, 10 * 1000); /* a short TTL: the refresh window is half of it */
    get_stable(st, false, T0, &s1);
    assert_int_equal(s1.expires_in, 10);
    get_stable(st, false, T0 + 4999, &s2);
    assert_string_equal(s1.access_token, s2.access_token);
    assert_int_equal(s2.expires_in, 6); /* 5.001 s left, rounded up */
    get_stable(st, false, T0 + 5000, &s2);
    assert_string_not_equal(s1.access_token, s2.access_token);
    assert_int_equal(check(st, s1.access_token, T0 + 9999), 0);
    assert_int_equal(check(st, s1.access_token, T0 + 10000), 42001);
}

static void test_force_refresh_is_rationed(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t normal, forced, again;
    emu_token_request_t force = tok(APP_A, SECRET_A, true);
    int64_t t = T0;

    get_stable(st, false, t, &normal);
    get_stable(st, true, t, &forced);
    assert_string_not_equal(normal.access_token, forced.access_token);
    assert_int_equal(check(st, normal.access_token, t + EMU_TOKEN_GRACE_MS - 1), 0); /* grace */
    assert_int_equal(check(st, normal.access_token, t + EMU_TOKEN_GRACE_MS), 40001);
    get_stable(st, false, t + 1000, &again);
    assert_string_equal(again.access_token, forced.access_token); /* normal mode now gives the new one */

    /* 30 s apart */
    assert_int_equal(emu_state_stable_token(st, &force, t + EMU_FORCE_SPACING_MS - 1, &again), 45011);
    /* 20 in any 24 hours */
    for (int i = 1; i < EMU_FORCE_PER_DAY; ++i) {
        t += EMU_FORCE_SPACING_MS;
        assert_int_equal(emu_state_stable_token(st, &force, t, &again), 0);
    }
    t += EMU_FORCE_SPACING_MS;
    assert_int_equal(emu_state_stable_token(st, &force, t, &again), 45009);
    /* the refusals minted nothing: the current token is the last forced one */
    get_stable(st, false, t, &normal);
    assert_int_equal(check(st, normal.access_token, t), 0);
    /* 24 hours after the first force, one more is allowed */
    assert_int_equal(emu_state_stable_token(st, &force, T0 + EMU_DAY_MS - 1, &again), 45009);
    assert_int_equal(emu_state_stable_token(st, &force, T0 + EMU_DAY_MS, &again), 0);
    /* the ration is per app */
    emu_token_request_t force_b = tok(APP_B, SECRET_B, true);
    assert_int_equal(emu_state_stable_token(st, &force_b, T0 + EMU_DAY_MS, &again), 0);
}

static void test_invalidate_and_expire_tokens(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t t1, t2, s1, b;
    size_t n;

    get_token(st, APP_A, SECRET_A, T0, &t1);
    get_token(st, APP_A, SECRET_A, T0, &t2);
    get_stable(st, false, T0, &s1);
    get_token(st, APP_B, SECRET_B, T0, &b);
    assert_int_equal(emu_state_token_count(st), 4);

    assert_int_equal(emu_state_expire_tokens(st, S(APP_A), T0 + 10, &n), EMU_OK);
    assert_int_equal(n, 3);
    assert_int_equal(check(st, t1.access_token, T0 + 10), 42001);
    assert_int_equal(check(st, t2.access_token, T0 + 10), 42001);
    assert_int_equal(check(st, s1.access_token, T0 + 10), 42001);
    assert_int_equal(check(st, b.access_token, T0 + 10), 0); /* another app is untouched */
    /* stable_token replaces an expired token */
    emu_token_result_t s2;
    get_stable(st, false, T0 + 20, &s2);
    assert_string_not_equal(s1.access_token, s2.access_token);
    assert_int_equal(check(st, s2.access_token, T0 + 20), 0);

    assert_int_equal(emu_state_invalidate_tokens(st, S(APP_A), &n), EMU_OK);
    assert_int_equal(n, 4);
    assert_int_equal(check(st, t2.access_token, T0 + 30), 40001);
    assert_int_equal(check(st, s2.access_token, T0 + 30), 40001);
    assert_int_equal(check(st, b.access_token, T0 + 30), 0);
    assert_int_equal(emu_state_token_count(st), 1);
    assert_int_equal(emu_state_invalidate_tokens(st, S("wxnone"), &n), EMU_ENOENT);
    assert_int_equal(emu_state_expire_tokens(st, S("wxnone"), T0, &n), EMU_ENOENT);
}

/* Phone numbers ------------------------------------------------------------------------------------ */

static emu_phone_spec_t phone_spec(const char *phone)
{
    return (emu_phone_spec_t){S(phone), S(NULL), false, S(NULL)};
}

static void issue_phone(emu_state_t *st, const char *appid, const char *user, int64_t now, char code[EMU_CODE_LEN + 1])
{
    emu_phone_spec_t spec = phone_spec("13800138000");
    assert_int_equal(emu_state_issue_phone_code(st, S(appid), S(user), &spec, now, code), EMU_OK);
}

static void test_phone_info_format(void **ctx)
{
    emu_phone_info_t info;
    emu_phone_spec_t cn = phone_spec("13800138000");
    emu_phone_spec_t us = {S("4155550100"), S("1"), true, S("wxsomeoneelse")};

    assert_int_equal(emu_phone_info_make(S(APP_A), &cn, &info), EMU_OK);
    assert_string_equal(info.phone_number, "13800138000");
    assert_string_equal(info.pure_phone_number, "13800138000");
    assert_string_equal(info.country_code, "86");
    assert_false(info.country_code_as_number);
    assert_string_equal(info.watermark_appid, APP_A);

    assert_int_equal(emu_phone_info_make(S(APP_A), &us, &info), EMU_OK);
    assert_string_equal(info.phone_number, "+1 4155550100");
    assert_string_equal(info.pure_phone_number, "4155550100");
    assert_string_equal(info.country_code, "1");
    assert_true(info.country_code_as_number);
    assert_string_equal(info.watermark_appid, "wxsomeoneelse");

    const emu_phone_spec_t bad[] = {
        phone_spec(""),
        phone_spec("138-0013-8000"),
        phone_spec("123456789012345678901"),
        {S("13800138000"), S("+86"), false, S(NULL)},
        {S("13800138000"), S("12345"), false, S(NULL)},
        {S("13800138000"), S(NULL), false, S("")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        print_message("case %zu\n", i);
        assert_int_equal(emu_phone_info_make(S(APP_A), &bad[i], &info), EMU_EINVAL);
    }
    assert_int_equal(emu_state_issue_phone_code(*ctx, S(APP_A), S("alice"), &bad[1], T0, (char[EMU_CODE_LEN + 1]){0}),
                     EMU_EINVAL);
    assert_int_equal(emu_state_issue_phone_code(*ctx, S("wxnone"), S("alice"), &cn, T0, (char[EMU_CODE_LEN + 1]){0}),
                     EMU_ENOENT);
    assert_int_equal(emu_state_code_count(*ctx), 0);
}

static void test_phone_code_is_single_use(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t t;
    char code[EMU_CODE_LEN + 1];
    emu_phone_info_t info;

    get_token(st, APP_A, SECRET_A, T0, &t);
    issue_phone(st, APP_A, "alice", T0, code);
    emu_phone_request_t rq = {S(t.access_token), S(code), S(NULL)};
    assert_int_equal(emu_state_phone_number(st, &rq, T0 + 1, &info), 0);
    assert_string_equal(info.pure_phone_number, "13800138000");
    assert_string_equal(info.watermark_appid, APP_A);
    assert_int_equal(emu_state_phone_number(st, &rq, T0 + 2, &info), 40029); /* used */
}

static void test_phone_code_checks(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t ta, tb;
    emu_login_t login;
    emu_j2s_result_t j2s_out;
    char code[EMU_CODE_LEN + 1], late[EMU_CODE_LEN + 1], alice[EMU_OPENID_LEN + 1], bob[EMU_OPENID_LEN + 1];
    emu_phone_info_t info;

    get_token(st, APP_A, SECRET_A, T0, &ta);
    get_token(st, APP_B, SECRET_B, T0, &tb);
    issue_phone(st, APP_A, "alice", T0, code);
    issue_phone(st, APP_A, "alice", T0, late);
    issue(st, APP_A, "alice", T0, &login);
    emu_openid(S(APP_A), S("alice"), alice);
    emu_openid(S(APP_A), S("bob"), bob);

    const struct {
        emu_phone_request_t rq;
        int errcode;
    } cases[] = {
        {{S(NULL), S(code), S(NULL)}, 41001},
        {{S("nonsense"), S(code), S(NULL)}, 40001},
        {{S(ta.access_token), S(NULL), S(NULL)}, 41008},
        {{S(ta.access_token), S(""), S(NULL)}, 41008},
        {{S(ta.access_token), S("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), S(NULL)}, 40029},
        {{S(ta.access_token), S(login.code), S(NULL)}, 40029}, /* a wx.login() code */
        {{S(tb.access_token), S(code), S(NULL)}, 40029},       /* the token of another app */
        {{S(ta.access_token), S(code), S(bob)}, 40029},        /* the code is alice's */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        print_message("case %zu\n", i);
        assert_int_equal(emu_state_phone_number(st, &cases[i].rq, T0, &info), cases[i].errcode);
    }
    /* a phone code is no login code either, and none of the above spent anything */
    emu_j2s_request_t as_login = j2s(APP_A, SECRET_A, code);
    assert_int_equal(emu_state_jscode2session(st, &as_login, T0, &j2s_out), 40029);
    emu_phone_request_t right = {S(ta.access_token), S(code), S(alice)};
    assert_int_equal(emu_state_phone_number(st, &right, T0, &info), 0);
    emu_j2s_request_t real_login = j2s(APP_A, SECRET_A, login.code);
    assert_int_equal(emu_state_jscode2session(st, &real_login, T0, &j2s_out), 0);

    /* 5 minutes */
    emu_token_result_t fresh;
    get_token(st, APP_A, SECRET_A, T0 + EMU_CODE_TTL_MS, &fresh);
    emu_phone_request_t expired = {S(fresh.access_token), S(late), S(NULL)};
    assert_int_equal(emu_state_phone_number(st, &expired, T0 + EMU_CODE_TTL_MS, &info), 40029);
}

static void test_phone_code_expires_after_five_minutes(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_token_result_t t;
    char code[EMU_CODE_LEN + 1];
    emu_phone_info_t info;

    issue_phone(st, APP_A, "alice", T0, code);
    get_token(st, APP_A, SECRET_A, T0 + EMU_CODE_TTL_MS - 1, &t);
    emu_phone_request_t rq = {S(t.access_token), S(code), S(NULL)};
    assert_int_equal(emu_state_phone_number(st, &rq, T0 + EMU_CODE_TTL_MS - 1, &info), 0);
    assert_int_equal(emu_state_code_count(st), 1);
    assert_int_equal(emu_state_purge(st, T0 + EMU_CODE_TTL_MS), 1);
}

/* Session checks ----------------------------------------------------------------------------------- */

static void login_user(emu_state_t *st, const char *appid, const char *secret, const char *user, int64_t now,
                       emu_j2s_result_t *out)
{
    emu_login_t login;
    issue(st, appid, user, now, &login);
    emu_j2s_request_t rq = j2s(appid, secret, login.code);
    assert_int_equal(emu_state_jscode2session(st, &rq, now, out), 0);
}

static void test_session_key_by_openid(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_j2s_result_t a1, a2, b1;
    char key[EMU_SESSION_KEY_LEN + 1];

    assert_false(emu_state_session_key_by_openid(st, S(APP_A), S("o123456789012345678901234567"), key));
    login_user(st, APP_A, SECRET_A, "alice", T0, &a1);
    login_user(st, APP_B, SECRET_B, "alice", T0, &b1);
    assert_true(emu_state_session_key_by_openid(st, S(APP_A), S(a1.openid), key));
    assert_string_equal(key, a1.session_key);
    assert_true(emu_state_session_key_by_openid(st, S(APP_B), S(b1.openid), key));
    assert_string_equal(key, b1.session_key);
    assert_false(emu_state_session_key_by_openid(st, S(APP_B), S(a1.openid), key)); /* per app */
    login_user(st, APP_A, SECRET_A, "alice", T0 + 1, &a2);
    assert_true(emu_state_session_key_by_openid(st, S(APP_A), S(a1.openid), key));
    assert_string_equal(key, a2.session_key); /* the current one */
}

static void test_checksession_signature_vector(void **ctx)
{
    char sig[EMU_SIGNATURE_LEN + 1];
    /* printf '' | openssl dgst -sha256 -hmac 'o0q0otL8aEzpcZL/FT9WsQ==' (the key of WeChat's doc example) */
    emu_checksession_signature("o0q0otL8aEzpcZL/FT9WsQ==", sig);
    assert_string_equal(sig, "46e043c5525c2d817c44be603d30837a808a1d930d038f6fdc3e62a201fed128");
}

static void test_checksession(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_j2s_result_t first, second, b;
    emu_token_result_t ta, tb;
    char sig1[EMU_SIGNATURE_LEN + 1], sig2[EMU_SIGNATURE_LEN + 1], upper[EMU_SIGNATURE_LEN + 1];

    login_user(st, APP_A, SECRET_A, "alice", T0, &first);
    login_user(st, APP_B, SECRET_B, "alice", T0, &b);
    get_token(st, APP_A, SECRET_A, T0, &ta);
    get_token(st, APP_B, SECRET_B, T0, &tb);
    emu_checksession_signature(first.session_key, sig1);
    emu_checksession_request_t ok = {S(ta.access_token), S(first.openid), S(sig1), S("hmac_sha256")};
    assert_int_equal(emu_state_check_session(st, &ok, T0), 0);

    for (size_t i = 0; i <= EMU_SIGNATURE_LEN; ++i)
        upper[i] = (char)(sig1[i] >= 'a' && sig1[i] <= 'f' ? sig1[i] - 32 : sig1[i]);
    const struct {
        emu_checksession_request_t rq;
        int errcode;
    } cases[] = {
        {{S(NULL), S(first.openid), S(sig1), S("hmac_sha256")}, 41001},
        {{S("stale"), S(first.openid), S(sig1), S("hmac_sha256")}, 40001},
        {{S(ta.access_token), S(NULL), S(sig1), S("hmac_sha256")}, 41009},
        {{S(ta.access_token), S("not-an-openid"), S(sig1), S("hmac_sha256")}, 40003},
        {{S(ta.access_token), S(first.openid), S(sig1), S("md5")}, 87008},
        {{S(ta.access_token), S(first.openid), S(sig1), S(NULL)}, 87008},
        {{S(ta.access_token), S(first.openid), S(NULL), S("hmac_sha256")}, 87009},
        {{S(ta.access_token), S(first.openid), S(upper), S("hmac_sha256")}, 87009},
        {{S(ta.access_token), S("o123456789012345678901234567"), S(sig1), S("hmac_sha256")}, 87009},
        {{S(tb.access_token), S(first.openid), S(sig1), S("hmac_sha256")}, 87009}, /* app B's token */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        print_message("case %zu\n", i);
        assert_int_equal(emu_state_check_session(st, &cases[i].rq, T0), cases[i].errcode);
    }

    /* a new login rotates the key: the old signature is stale, the new one good */
    login_user(st, APP_A, SECRET_A, "alice", T0 + 1, &second);
    emu_checksession_signature(second.session_key, sig2);
    assert_int_equal(emu_state_check_session(st, &ok, T0 + 1), 87009);
    emu_checksession_request_t now_ok = {S(ta.access_token), S(first.openid), S(sig2), S("hmac_sha256")};
    assert_int_equal(emu_state_check_session(st, &now_ok, T0 + 1), 0);
    /* an expired token is refused before anything else */
    assert_int_equal(emu_state_check_session(st, &now_ok, T0 + EMU_TOKEN_TTL_MS), 42001);
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
        cmocka_unit_test_setup_teardown(test_login_code_rotates_session_key_at_issue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_forgets_expired_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_for_one_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_countdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_validation_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_parameter_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_each_call_mints_and_old_has_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_check_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stable_token_is_shared_until_near_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stable_token_short_ttl_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_refresh_is_rationed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidate_and_expire_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phone_info_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phone_code_is_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phone_code_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phone_code_expires_after_five_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_key_by_openid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksession_signature_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksession, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
