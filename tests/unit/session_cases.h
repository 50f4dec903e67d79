/*
 * session_cases — store/store_sessions.h's checks on every backend, shared by test_store.c (SQLite)
 * and test_store_mysql.c (MariaDB/MySQL): the sessions list (live, not replaced, newest first, the
 * login IP), the throttled last use, logout everywhere, renewal (what the new row carries, the old
 * one's grace, once only, from several connections at once, undone, a reseal that fails), and the
 * login log (rows, pages, the sweep).
 *
 * Included after store_cases.h (it uses its helpers open_migrated, login_of, login_ok, session_of,
 * and the test file's fixture_t, NOW and N_THREADS). Lists its cases with SESSION_CASES(setup, teardown).
 */
#ifndef MEETOA_TESTS_SESSION_CASES_H
#define MEETOA_TESTS_SESSION_CASES_H

#include "store/store_sessions.h"

typedef struct rows_seen {
    int n;
    store_session_row_t row[8];
} rows_seen_t;

static store_rc see_session(const store_session_row_t *row, void *ctx)
{
    rows_seen_t *seen = ctx;
    if (seen->n < 8)
        seen->row[seen->n] = *row;
    seen->n++;
    return STORE_OK;
}

static rows_seen_t list_of(store_t *store, int64_t user_id, int64_t now)
{
    rows_seen_t seen = {0};
    if (store_session_list(store, user_id, now, see_session, &seen) != STORE_OK)
        fail_msg("store_session_list: %s", store_last_error(store));
    return seen;
}

/* A session of user_id made at created_at, its login from ip. */
static store_session_t session_from(int64_t user_id, uint8_t tag, int64_t created_at, const char *ip)
{
    store_session_t s = session_of(user_id, tag, created_at + 7200);
    s.created_at = created_at;
    snprintf(s.ip, sizeof s.ip, "%s", ip);
    return s;
}

static void test_sessions_list_touch_logout_all(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-list", NOW);
    store_user_t u = login_ok(store, &in);
    in = login_of("o-list-other", NOW);
    store_user_t other = login_ok(store, &in);

    store_session_t older = session_from(u.id, 10, NOW - 100, "10.0.0.1");
    store_session_t newer = session_from(u.id, 20, NOW, "2001:db8::1");
    store_session_t expired = session_from(u.id, 30, NOW - 8000, "10.0.0.3"); /* expired at NOW - 800 */
    store_session_t theirs = session_from(other.id, 40, NOW, "10.0.0.4");
    assert_int_equal(store_session_insert(store, &older), STORE_OK);
    assert_int_equal(store_session_insert(store, &newer), STORE_OK);
    assert_int_equal(store_session_insert(store, &expired), STORE_OK);
    assert_int_equal(store_session_insert(store, &theirs), STORE_OK);

    rows_seen_t seen = list_of(store, u.id, NOW);
    assert_int_equal(seen.n, 2); /* not the expired one, not the other user's */
    assert_memory_equal(seen.row[0].token_hash, newer.token_hash, 32);
    assert_memory_equal(seen.row[1].token_hash, older.token_hash, 32);
    assert_int_equal(seen.row[0].created_at, NOW);
    assert_int_equal(seen.row[0].last_used_at, NOW); /* the insert: last use = login */
    assert_int_equal(seen.row[0].expires_at, NOW + 7200);
    assert_string_equal(seen.row[0].login_ip, "2001:db8::1");
    assert_string_equal(seen.row[0].last_ip, "2001:db8::1");
    assert_string_equal(seen.row[1].login_ip, "10.0.0.1");

    /* the read of the token check gives last_used_at and renewed_at too */
    store_session_t got;
    assert_int_equal(store_session_get(store, newer.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(got.last_used_at, NOW);
    assert_int_equal(got.renewed_at, 0);

    /* a use less than STORE_SESSION_TOUCH_SECONDS after the last writes nothing; one later does */
    assert_int_equal(store_session_touch(store, newer.token_hash, NOW + STORE_SESSION_TOUCH_SECONDS - 1, "10.9.9.9"),
                     STORE_OK);
    seen = list_of(store, u.id, NOW);
    assert_int_equal(seen.row[0].last_used_at, NOW);
    assert_string_equal(seen.row[0].last_ip, "2001:db8::1");
    assert_int_equal(store_session_touch(store, newer.token_hash, NOW + STORE_SESSION_TOUCH_SECONDS, "10.9.9.9"),
                     STORE_OK);
    seen = list_of(store, u.id, NOW);
    assert_int_equal(seen.row[0].last_used_at, NOW + STORE_SESSION_TOUCH_SECONDS);
    assert_string_equal(seen.row[0].last_ip, "10.9.9.9");
    assert_string_equal(seen.row[0].login_ip, "2001:db8::1");

    /* logout everywhere: the live ones are counted, every row of the user goes, nobody else's */
    long ended = -1;
    assert_int_equal(store_session_delete_user(store, u.id, NOW, &ended), STORE_OK);
    assert_int_equal(ended, 2);
    assert_int_equal(store_session_get(store, expired.token_hash, &got, NULL), STORE_NOT_FOUND);
    assert_int_equal(list_of(store, u.id, NOW).n, 0);
    assert_int_equal(list_of(store, other.id, NOW).n, 1);
    assert_int_equal(store_session_delete_user(store, u.id, NOW, &ended), STORE_OK);
    assert_int_equal(ended, 0);
    store_close(store);
}

/* The test's reseal: the old sealed bytes, reversed (what the store keeps is the caller's business). */
static bool reseal_reversed(void *ctx, const store_session_t *old, store_session_t *fresh)
{
    int *calls = ctx;
    (*calls)++;
    fresh->session_key_sealed_len = old->session_key_sealed_len;
    for (size_t i = 0; i < old->session_key_sealed_len; i++)
        fresh->session_key_sealed[i] = old->session_key_sealed[old->session_key_sealed_len - 1 - i];
    return true;
}

static bool reseal_fails(void *ctx, const store_session_t *old, store_session_t *fresh)
{
    (void)ctx;
    (void)old;
    (void)fresh;
    return false;
}

static store_session_t fresh_of(uint8_t tag, int64_t expires_at)
{
    store_session_t s = {.expires_at = expires_at};
    for (int i = 0; i < 32; i++)
        s.token_hash[i] = (uint8_t)(tag * 7 + i);
    return s;
}

static void test_session_renew(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-renew", NOW);
    store_user_t u = login_ok(store, &in);
    store_session_t old = session_from(u.id, 50, NOW - 6000, "10.0.0.5"); /* expires at NOW + 1200 */
    assert_int_equal(store_session_insert(store, &old), STORE_OK);

    /* a reseal that fails rolls everything back */
    store_session_t fresh = fresh_of(1, NOW + 7200);
    bool renewed = true;
    assert_int_equal(
        store_session_renew(store, old.token_hash, NOW, 60, "10.1.1.1", &fresh, reseal_fails, NULL, &renewed),
        STORE_ERROR);
    assert_false(renewed);
    store_session_t got;
    assert_int_equal(store_session_get(store, old.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(got.renewed_at, 0);
    assert_int_equal(got.expires_at, NOW + 1200);
    assert_int_equal(store_session_get(store, fresh.token_hash, &got, NULL), STORE_NOT_FOUND);

    int calls = 0;
    assert_int_equal(
        store_session_renew(store, old.token_hash, NOW, 60, "10.1.1.1", &fresh, reseal_reversed, &calls, &renewed),
        STORE_OK);
    assert_true(renewed);
    assert_int_equal(calls, 1);
    /* the new one: the old one's user, created_at and login IP; used now from the renewing IP */
    store_user_t owner;
    assert_int_equal(store_session_get(store, fresh.token_hash, &got, &owner), STORE_OK);
    assert_int_equal(got.user_id, u.id);
    assert_int_equal(owner.id, u.id);
    assert_int_equal(got.created_at, NOW - 6000);
    assert_int_equal(got.expires_at, NOW + 7200);
    assert_int_equal(got.last_used_at, NOW);
    assert_int_equal(got.renewed_at, 0);
    assert_int_equal(got.session_key_sealed_len, old.session_key_sealed_len);
    assert_int_equal(got.session_key_sealed[0], old.session_key_sealed[old.session_key_sealed_len - 1]);
    rows_seen_t seen = list_of(store, u.id, NOW);
    assert_int_equal(seen.n, 1); /* the replaced one is not listed */
    assert_memory_equal(seen.row[0].token_hash, fresh.token_hash, 32);
    assert_string_equal(seen.row[0].login_ip, "10.0.0.5");
    assert_string_equal(seen.row[0].last_ip, "10.1.1.1");
    /* the old one: renewed, its expiry cut to the grace */
    assert_int_equal(store_session_get(store, old.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(got.renewed_at, NOW);
    assert_int_equal(got.expires_at, NOW + 60);

    /* never twice */
    store_session_t again = fresh_of(2, NOW + 7201);
    assert_int_equal(
        store_session_renew(store, old.token_hash, NOW + 1, 60, "10.1.1.1", &again, reseal_reversed, &calls, &renewed),
        STORE_OK);
    assert_false(renewed);
    assert_int_equal(calls, 1);
    assert_int_equal(store_session_get(store, again.token_hash, &got, NULL), STORE_NOT_FOUND);

    /* undone: the new one gone, the old one as before */
    assert_int_equal(store_session_unrenew(store, old.token_hash, NOW + 1200, fresh.token_hash), STORE_OK);
    assert_int_equal(store_session_get(store, fresh.token_hash, &got, NULL), STORE_NOT_FOUND);
    assert_int_equal(store_session_get(store, old.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(got.renewed_at, 0);
    assert_int_equal(got.expires_at, NOW + 1200);

    /* the grace never lengthens a session: one that ends sooner keeps its own end */
    store_session_t soon = session_from(u.id, 60, NOW - 7190, "10.0.0.6"); /* expires at NOW + 10 */
    assert_int_equal(store_session_insert(store, &soon), STORE_OK);
    store_session_t fresh2 = fresh_of(3, NOW + 7200);
    assert_int_equal(
        store_session_renew(store, soon.token_hash, NOW, 60, "", &fresh2, reseal_reversed, &calls, &renewed), STORE_OK);
    assert_true(renewed);
    assert_int_equal(store_session_get(store, soon.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(got.expires_at, NOW + 10);

    /* an expired session is not renewed; an unknown one is not found */
    store_session_t fresh3 = fresh_of(4, NOW + 7200);
    assert_int_equal(
        store_session_renew(store, soon.token_hash, NOW + 11, 60, "", &fresh3, reseal_reversed, &calls, &renewed),
        STORE_OK);
    assert_false(renewed);
    store_session_t unknown = session_of(u.id, 99, NOW + 100);
    assert_int_equal(
        store_session_renew(store, unknown.token_hash, NOW, 60, "", &fresh3, reseal_reversed, &calls, &renewed),
        STORE_NOT_FOUND);
    assert_false(renewed);
    store_close(store);
}

typedef struct renew_race {
    const fixture_t *f;
    uint8_t old_hash[32];
    int index;
    store_rc rc;
    bool renewed;
} renew_race_t;

static void *renew_racer(void *arg)
{
    renew_race_t *r = arg;
    store_t *store = open_store(r->f);
    store_session_t fresh = fresh_of((uint8_t)(100 + r->index), NOW + 7200);
    int calls = 0;
    r->rc = store_session_renew(store, r->old_hash, NOW, 60, "10.2.2.2", &fresh, reseal_reversed, &calls, &r->renewed);
    store_close(store);
    return NULL;
}

/* N_THREADS connections renew one session at once: exactly one of them makes a new session. */
static void test_session_renew_race(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-renew-race", NOW);
    store_user_t u = login_ok(store, &in);
    store_session_t old = session_from(u.id, 70, NOW - 6000, "10.0.0.7");
    assert_int_equal(store_session_insert(store, &old), STORE_OK);

    pthread_t tid[N_THREADS];
    renew_race_t race[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        race[i] = (renew_race_t){.f = f, .index = i};
        memcpy(race[i].old_hash, old.token_hash, 32);
        assert_int_equal(pthread_create(&tid[i], NULL, renew_racer, &race[i]), 0);
    }
    int renewed = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(race[i].rc, STORE_OK);
        renewed += race[i].renewed;
    }
    assert_int_equal(renewed, 1);
    assert_int_equal(list_of(store, u.id, NOW).n, 1);
    store_close(store);
}

typedef struct log_seen {
    int n;
    store_login_log_row_t row[8];
} log_seen_t;

static store_rc see_log(const store_login_log_row_t *row, void *ctx)
{
    log_seen_t *seen = ctx;
    if (seen->n < 8)
        seen->row[seen->n] = *row;
    seen->n++;
    return STORE_OK;
}

static void test_login_log(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-log", NOW);
    store_user_t u = login_ok(store, &in);
    in = login_of("o-log-other", NOW);
    store_user_t other = login_ok(store, &in);

    assert_int_equal(store_login_log_add(store, u.id, STORE_LOGIN_EVENT_LOGIN, 0, "10.0.0.1", NOW - 200 * 86400),
                     STORE_OK);
    assert_int_equal(store_login_log_add(store, u.id, STORE_LOGIN_EVENT_REFUSED, 720, "10.0.0.2", NOW - 10), STORE_OK);
    assert_int_equal(store_login_log_add(store, u.id, STORE_LOGIN_EVENT_PHONE, 0, NULL, NOW - 5), STORE_OK);
    assert_int_equal(store_login_log_add(store, u.id, STORE_LOGIN_EVENT_LOGOUT_ALL, 0, "::1", NOW), STORE_OK);
    assert_int_equal(store_login_log_add(store, other.id, STORE_LOGIN_EVENT_LOGIN, 0, "10.0.0.9", NOW), STORE_OK);
    assert_int_equal(store_login_log_add(store, u.id, "an event far too long", 0, "", NOW), STORE_ERROR);

    log_seen_t seen = {0};
    int64_t total = -1;
    assert_int_equal(store_login_log_list(store, u.id, 0, 3, see_log, &seen, &total), STORE_OK);
    assert_int_equal(total, 4);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.row[0].event, "logout_all");
    assert_string_equal(seen.row[0].ip, "::1");
    assert_string_equal(seen.row[1].event, "phone");
    assert_string_equal(seen.row[1].ip, "");
    assert_string_equal(seen.row[2].event, "refused");
    assert_int_equal(seen.row[2].err, 720);
    assert_int_equal(seen.row[2].created_at, NOW - 10);
    assert_true(seen.row[0].id > seen.row[1].id);
    seen.n = 0;
    assert_int_equal(store_login_log_list(store, u.id, 3, 3, see_log, &seen, &total), STORE_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.row[0].event, "login");
    assert_int_equal(seen.row[0].err, 0);

    /* the sweep: rows older than the cut go, for everybody; newer ones stay */
    long deleted = -1;
    assert_int_equal(store_login_log_purge(store, NOW - 180 * 86400, &deleted), STORE_OK);
    assert_int_equal(deleted, 1);
    seen.n = 0;
    assert_int_equal(store_login_log_list(store, u.id, 0, 10, see_log, &seen, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(store_login_log_list(store, other.id, 0, 10, see_log, &seen, &total), STORE_OK);
    assert_int_equal(total, 1);
    assert_int_equal(store_login_log_purge(store, NOW - 180 * 86400, &deleted), STORE_OK);
    assert_int_equal(deleted, 0);
    store_close(store);
}

#define SESSION_CASES(setup, teardown)                                                                                 \
    cmocka_unit_test_setup_teardown(test_sessions_list_touch_logout_all, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_session_renew, setup, teardown),                                          \
        cmocka_unit_test_setup_teardown(test_session_renew_race, setup, teardown),                                     \
        cmocka_unit_test_setup_teardown(test_login_log, setup, teardown)

#endif
