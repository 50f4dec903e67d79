/*
 * test_redis_url — oa.redis.url's forms (redis/redis_url.h): TCP with and without user,
 * password, port, database; IPv6 in brackets; unix sockets with ?db=; percent-escapes; every
 * refusal with its message, none of which repeats the password; describe() without secrets.
 * And the session-end messages of auth/session_bus.h: their exact text, and what applying one
 * (or a malformed one, or this process's own) does to a session cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/session_bus.h"
#include "auth/session_cache.h"
#include "redis/redis_url.h"

static redis_url_t parsed(const char *text)
{
    redis_url_t u;
    char err[200] = "";
    if (!redis_url_parse(text, &u, err, sizeof err))
        fail_msg("%s refused: %s", text, err);
    return u;
}

static void tcp_forms(void **state)
{
    redis_url_t u = parsed("redis://127.0.0.1");
    assert_false(u.is_unix);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_false(u.has_password);

    u = parsed("redis://cache.internal:6380/3");
    assert_string_equal(u.host, "cache.internal");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 3);

    u = parsed("redis://:s3cret@10.0.0.5:7000/");
    assert_true(u.has_password);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 0);

    u = parsed("redis://meetoa:p%40ss%3Aw%2Fd@[::1]:6379/15");
    assert_string_equal(u.user, "meetoa");
    assert_string_equal(u.password, "p@ss:w/d");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.db, 15);

    u = parsed("redis://:a@b@host"); /* the last '@' ends the user info */
    assert_string_equal(u.password, "a@b");
    assert_string_equal(u.host, "host");
}

static void unix_forms(void **state)
{
    redis_url_t u = parsed("unix:///run/redis/redis.sock");
    assert_true(u.is_unix);
    assert_string_equal(u.path, "/run/redis/redis.sock");
    assert_int_equal(u.db, 0);
    u = parsed("unix://:pw@/tmp/r.sock?db=2");
    assert_string_equal(u.path, "/tmp/r.sock");
    assert_string_equal(u.password, "pw");
    assert_int_equal(u.db, 2);
}

static void refused_forms(void **state)
{
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"", "empty"},
        {"http://127.0.0.1:6379", "must start with redis:// or unix://"},
        {"rediss://h:6380", "rediss:// (TLS) is not supported"},
        {"redis://", "no host"},
        {"redis://:6379", "no host"},
        {"redis://h:0", "the port must be a number 1..65535"},
        {"redis://h:65536", "the port must be a number 1..65535"},
        {"redis://h:63x9", "the port must be a number 1..65535"},
        {"redis://h:", "the port must be a number 1..65535"},
        {"redis://h/16", "the database must be a number 0..15"},
        {"redis://h/x", "the database must be a number 0..15"},
        {"redis://h?db=1", "unexpected text after the host"},
        {"redis://[::1:6379", "closing ']'"},
        {"redis://user@h", "a user needs a password"},
        {"redis://:@h", "the password is empty or not valid"},
        {"redis://:pa%4@h", "the password is empty or not valid"},
        {"redis://:pa%00ss@h", "the password is empty or not valid"},
        {"redis://h st", "a character a host name cannot hold"},
        {"unix://relative.sock", "must be absolute"},
        {"unix:///", "no socket path"},
        {"unix:///tmp/r.sock?database=1", "the only query is ?db=N"},
        {"unix:///tmp/r.sock?db=99", "the only query is ?db=N"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        redis_url_t u;
        char err[200] = "";
        if (redis_url_parse(cases[i].text, &u, err, sizeof err))
            fail_msg("%s accepted", cases[i].text);
        if (strstr(err, cases[i].why) == NULL)
            fail_msg("%s: \"%s\" does not say \"%s\"", cases[i].text, err, cases[i].why);
        assert_string_equal(u.password, ""); /* wiped */
    }
    char long_path[200] = "unix:///";
    memset(long_path + 8, 'p', 120);
    redis_url_t u;
    char err[200];
    assert_false(redis_url_parse(long_path, &u, err, sizeof err));
    assert_non_null(strstr(err, "longer than 107 bytes"));
}

static void errors_never_show_the_password(void **state)
{
    const char *const texts[] = {"redis://:hunter2hunter2@h:99999", "redis://u:hunter2hunter2@h/77",
                                 "unix://:hunter2hunter2@relative"};
    for (size_t i = 0; i < 3; i++) {
        redis_url_t u;
        char err[200] = "";
        assert_false(redis_url_parse(texts[i], &u, err, sizeof err));
        assert_null(strstr(err, "hunter2"));
    }
}

static void describe_has_no_secret(void **state)
{
    char out[300];
    redis_url_t u = parsed("redis://meetoa:hunter2@cache:6380/4");
    redis_url_describe(&u, out, sizeof out);
    assert_string_equal(out, "cache:6380/4");
    u = parsed("redis://:hunter2@[fe80::1]:6379");
    redis_url_describe(&u, out, sizeof out);
    assert_string_equal(out, "[fe80::1]:6379/0");
    u = parsed("unix://:hunter2@/run/r.sock?db=1");
    redis_url_describe(&u, out, sizeof out);
    assert_string_equal(out, "unix:/run/r.sock/1");
    redis_url_wipe(&u);
    assert_string_equal(u.password, "");
}

/* ---- session_bus messages ---- */

static store_session_t session_of(uint8_t n, int64_t user_id)
{
    store_session_t s = {0};
    for (int i = 0; i < 32; i++)
        s.token_hash[i] = (uint8_t)(n * 31 + i);
    s.user_id = user_id;
    s.expires_at = 5000;
    return s;
}

static bool cached(session_cache_t *c, const store_session_t *s)
{
    store_user_t out;
    return session_cache_get(c, s->token_hash, 1001, 60, &out, NULL) == SESSION_CACHE_HIT;
}

static void bus_messages_text(void **state)
{
    char msg[SESSION_BUS_MSG_SIZE];
    store_session_t s = session_of(1, 7);
    size_t len = session_bus_format_session(s.token_hash, "00112233aabbccdd", msg);
    assert_int_equal(len, strlen(msg));
    assert_string_equal(msg, "s 1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e 00112233aabbccdd");
    len = session_bus_format_user(123456789012, "cli", msg);
    assert_string_equal(msg, "u 123456789012 cli");
    assert_int_equal(len, strlen(msg));
}

static void bus_apply(void **state)
{
    session_cache_t *c = session_cache_new();
    store_user_t u7 = {.id = 7}, u8 = {.id = 8};
    store_session_t a = session_of(1, 7), b = session_of(2, 7), d = session_of(3, 8);
    session_cache_put(c, &a, &u7, 1000);
    session_cache_put(c, &b, &u7, 1000);
    session_cache_put(c, &d, &u8, 1000);
    char msg[SESSION_BUS_MSG_SIZE];

    /* this process's own message: already applied here, skipped */
    size_t len = session_bus_format_session(a.token_hash, "aaaaaaaaaaaaaaaa", msg);
    assert_true(session_bus_apply(c, "aaaaaaaaaaaaaaaa", msg, len));
    assert_true(cached(c, &a));
    /* another's: that session only */
    assert_true(session_bus_apply(c, "bbbbbbbbbbbbbbbb", msg, len));
    assert_false(cached(c, &a));
    assert_true(cached(c, &b));
    /* a user: every session of theirs, nobody else's */
    len = session_bus_format_user(7, "cli", msg);
    assert_true(session_bus_apply(c, "bbbbbbbbbbbbbbbb", msg, len));
    assert_false(cached(c, &b));
    assert_true(cached(c, &d));

    /* malformed: ignored, nothing removed */
    const char *const bad[] = {
        "",
        "s",
        "x 1 cli",
        "u  cli",
        "u 8",
        "u 8 ",
        "u 8x cli",
        "u 8 CLI",
        "u 8 0123456789abcdef0",
        "s 1f20 cli",
        "s 3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5dZZ cli",
        "s 3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (session_bus_apply(c, "bbbbbbbbbbbbbbbb", bad[i], strlen(bad[i])))
            fail_msg("\"%s\" accepted", bad[i]);
    assert_true(cached(c, &d));
    /* a message with the exact hash of d, as the channel would carry it (not NUL-terminated) */
    len = session_bus_format_session(d.token_hash, "cli", msg);
    msg[len] = '!';
    assert_true(session_bus_apply(c, "bbbbbbbbbbbbbbbb", msg, len));
    assert_false(cached(c, &d));
    session_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_forms),
        cmocka_unit_test(unix_forms),
        cmocka_unit_test(refused_forms),
        cmocka_unit_test(errors_never_show_the_password),
        cmocka_unit_test(describe_has_no_secret),
        cmocka_unit_test(bus_messages_text),
        cmocka_unit_test(bus_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
