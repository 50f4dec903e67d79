/*
 * store_cases — the store's behaviour checks that hold on every backend, shared by
 * test_store.c (SQLite) and test_store_mysql.c (MariaDB/MySQL): migrations (fresh,
 * idempotent, upgrade of a v1 database with its rows, refusal of a newer schema, several
 * connections migrating at once), the login upsert (columns and defaults of a new row, what
 * a returning login changes, one row under concurrent first logins from several threads and
 * from several processes, a username taken by another row), the whole login in one
 * transaction (store_login_session: a mobile conflict, a failed session insert or a
 * disabled user), group commit (store_batch_begin/_end: together or not at all), sessions, status, profile,
 * mobile binding (also by several connections at once) and 4-byte emoji round trips.
 *
 * Included once by a test file (not a real header: it defines static functions). Before
 * including it, the test file defines:
 *   fixture_t            its per-test state, with a `url` member (the datasource url) that
 *                        points at an EMPTY database when a test starts;
 *   raw_t                a direct connection for checks the store's API does not offer, with
 *     raw_open(f), raw_close(db), raw_exec(db, sql), raw_int(db, sql) (a NULL answer reads
 *     as -1), raw_text(db, sql, out, size) ("(null)" for NULL);
 *   raw_schema_objects(db)   how many of wx_user, wx_session and the indexes wx_session_user_id,
 *                            wx_session_expires_at, wx_user_mobile exist;
 *   raw_check_datetime_column(db, openid)  asserts that wx_user.add_time of that user is
 *                            stored as DATETIME (text on SQLite);
 *   RAW_CHAR_LENGTH(col), RAW_BYTE_LENGTH(col)  SQL text (string literals) of a column's
 *                            length in characters and in bytes;
 *   STORE_CASES_BACKEND      store_backend_name() of the backend ("sqlite", "mysql");
 *   NOW, N_THREADS;
 * and lists the cases in its main() with STORE_CASES(setup, teardown).
 * Every SQL text here is valid on both SQLite and MySQL. TZ must be fixed by main().
 */
#ifndef MEETOA_TESTS_STORE_CASES_H
#define MEETOA_TESTS_STORE_CASES_H

/* ---- helpers ---- */

/*
 * A race of N_THREADS workers released at once: race_init() before the workers are filled in
 * (each keeps &race.barrier and waits on it before its first statement), then race_run()
 * starts run() on each of workers[0..N_THREADS) (size bytes apart) and joins them all before
 * any check of their outcomes may fail.
 */
typedef struct race {
    pthread_barrier_t barrier;
    pthread_t threads[N_THREADS];
} race_t;

static void race_init(race_t *race)
{
    assert_int_equal(pthread_barrier_init(&race->barrier, NULL, N_THREADS), 0);
}

static void race_run(race_t *race, void *(*run)(void *), void *workers, size_t size)
{
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&race->threads[i], NULL, run, (char *)workers + (size_t)i * size), 0);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(race->threads[i], NULL), 0);
    pthread_barrier_destroy(&race->barrier);
}

static store_t *open_store(const fixture_t *f)
{
    char err[256] = "";
    store_t *store = store_open(f->url, err, sizeof err);
    if (store == NULL)
        fail_msg("store_open: %s", err);
    return store;
}

static store_t *open_migrated(const fixture_t *f)
{
    store_t *store = open_store(f);
    if (store_migrate(store, NULL, NULL) != STORE_OK)
        fail_msg("store_migrate: %s", store_last_error(store));
    return store;
}

/* A direct connection for checks the store's API does not offer. */
static store_login_t login_of(const char *openid, int64_t now)
{
    store_login_t in = {.openid = openid, .unionid = "", .ip = "10.0.0.1", .now = now};
    return in;
}

static store_user_t login_ok(store_t *store, const store_login_t *in)
{
    store_user_t u;
    if (store_user_login(store, in, &u) != STORE_OK)
        fail_msg("store_user_login: %s", store_last_error(store));
    return u;
}

static void assert_same_user(const store_user_t *a, const store_user_t *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->username, b->username);
    assert_string_equal(a->openid, b->openid);
    assert_string_equal(a->unionid, b->unionid);
    assert_string_equal(a->nickname, b->nickname);
    assert_string_equal(a->avatar, b->avatar);
    assert_string_equal(a->mobile, b->mobile);
    assert_string_equal(a->last_login_ip, b->last_login_ip);
    assert_int_equal(a->gender, b->gender);
    assert_int_equal(a->user_level, b->user_level);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->deleted, b->deleted);
    assert_int_equal(a->add_time, b->add_time);
    assert_int_equal(a->update_time, b->update_time);
    assert_int_equal(a->last_login_time, b->last_login_time);
}

/* ---- migrations ---- */

static void test_migrate_fresh_and_rerun(void **state)
{
    fixture_t *f = *state;
    assert_true(store_schema_latest() >= 2);
    store_t *store = open_store(f);
    assert_string_equal(store_backend_name(store), STORE_CASES_BACKEND);
    int version = -1, from = -1, to = -1;
    assert_int_equal(store_schema_version(store, &version), STORE_OK);
    assert_int_equal(version, 0);

    assert_int_equal(store_migrate(store, &from, &to), STORE_OK);
    assert_int_equal(from, 0);
    assert_int_equal(to, store_schema_latest());
    assert_int_equal(store_schema_version(store, &version), STORE_OK);
    assert_int_equal(version, store_schema_latest());

    /* Idempotent: nothing to do, nothing recorded twice. */
    assert_int_equal(store_migrate(store, &from, &to), STORE_OK);
    assert_int_equal(from, store_schema_latest());
    assert_int_equal(to, store_schema_latest());
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), store_schema_latest());
    assert_int_equal(raw_schema_objects(db), 5);
    raw_close(db);
    store_close(store);

    /* A second process (here: connection) opening the migrated file finds nothing to do. */
    store = open_store(f);
    assert_int_equal(store_migrate(store, &from, &to), STORE_OK);
    assert_int_equal(from, store_schema_latest());
    store_close(store);
}

static void test_migrate_upgrade_v1_keeps_rows(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_store(f);
    int from = -1, to = -1, version = -1;
    assert_int_equal(store_migrate_to(store, 1, &from, &to), STORE_OK);
    assert_int_equal(from, 0);
    assert_int_equal(to, 1);
    store_close(store);

    /* What an older meetoa left behind: a v1 schema with rows in it. */
    raw_t *db = raw_open(f);
    assert_int_equal(raw_schema_objects(db), 1); /* wx_user only */
    raw_exec(db, "INSERT INTO wx_user (username, weixin_openid, nickname, gender, mobile, add_time, last_login_time)"
                 " VALUES ('o-old-1', 'o-old-1', 'Old One', 1, '13900000001', '2025-01-02 03:04:05',"
                 " '2025-01-02 03:04:05'),"
                 " ('o-old-2', 'o-old-2', 'Old Two', 2, '', '2025-02-03 04:05:06', NULL)");

    store = open_store(f);
    assert_int_equal(store_schema_version(store, &version), STORE_OK);
    assert_int_equal(version, 1);
    assert_int_equal(store_migrate(store, &from, &to), STORE_OK);
    assert_int_equal(from, 1);
    assert_int_equal(to, store_schema_latest());

    store_user_t u;
    assert_int_equal(store_user_get_by_openid(store, "o-old-1", &u), STORE_OK);
    assert_string_equal(u.nickname, "Old One");
    assert_string_equal(u.mobile, "13900000001");
    assert_string_equal(u.unionid, ""); /* the new column's default */
    assert_int_equal(u.gender, 1);
    int64_t expected;
    assert_true(text_sqltime_parse("2025-01-02 03:04:05", &expected));
    assert_int_equal(u.add_time, expected);
    assert_int_equal(store_user_get_by_openid(store, "o-old-2", &u), STORE_OK);
    assert_string_equal(u.nickname, "Old Two");
    assert_int_equal(u.last_login_time, 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 2);

    /* The upgraded database works: a returning login, a session for an old user. */
    store_login_t in = login_of("o-old-1", NOW);
    in.unionid = "un-1";
    u = login_ok(store, &in);
    assert_string_equal(u.nickname, "Old One");
    assert_string_equal(u.unionid, "un-1");
    store_session_t s = {.user_id = u.id, .created_at = NOW, .expires_at = NOW + 60};
    s.token_hash[0] = 1;
    assert_int_equal(store_session_insert(store, &s), STORE_OK);
    raw_close(db);
    store_close(store);
}

static void test_migrate_refuses_newer_schema(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    raw_t *db = raw_open(f);
    char sql[128];
    int newer = store_schema_latest() + 1;
    snprintf(sql, sizeof sql, "INSERT INTO schema_version (version, applied_at) VALUES (%d, '2030-01-01 00:00:00')",
             newer);
    raw_exec(db, sql);

    int from = -1, to = -1, version = -1;
    assert_int_equal(store_migrate(store, &from, &to), STORE_ERROR);
    char expected[160];
    snprintf(expected, sizeof expected, "database schema version %d is newer than this meetoa (%d); upgrade meetoa",
             newer, store_schema_latest());
    if (strstr(store_last_error(store), expected) == NULL)
        fail_msg("unexpected error text: %s", store_last_error(store));
    assert_int_equal(from, newer);
    assert_int_equal(store_schema_version(store, &version), STORE_OK);
    assert_int_equal(version, newer);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), store_schema_latest() + 1);
    raw_close(db);
    store_close(store);

    /* store_migrate_to refuses a target this binary does not know. */
    store = open_store(f);
    assert_int_equal(store_migrate_to(store, newer, NULL, NULL), STORE_ERROR);
    store_close(store);
}

typedef struct worker {
    const fixture_t *f;
    pthread_barrier_t *barrier;
    const char *openid; /* NULL: migrate only */
    int index;          /* makes its session's token hash unique */
    store_rc rc;
    int from, to;
    int64_t id;
    char error[256];
} worker_t;

/* Opens its own connection, waits for the others, then migrates (and logs in). */
static void *worker_run(void *arg)
{
    worker_t *w = arg;
    char err[256] = "";
    store_t *store = store_open(w->f->url, err, sizeof err);
    pthread_barrier_wait(w->barrier);
    if (store == NULL) {
        w->rc = STORE_ERROR;
        snprintf(w->error, sizeof w->error, "%s", err);
        return NULL;
    }
    w->rc = store_migrate(store, &w->from, &w->to);
    if (w->rc == STORE_OK && w->openid != NULL) {
        store_login_t in = login_of(w->openid, NOW);
        store_session_t session = {.created_at = NOW, .expires_at = NOW + 60};
        memset(session.token_hash, 0xa0 + w->index, sizeof session.token_hash);
        store_user_t u;
        w->rc = store_login_session(store, &in, "", false, &session, &u, NULL);
        w->id = u.id;
        if (w->rc == STORE_OK && session.user_id != u.id)
            w->rc = STORE_ERROR; /* reported with whatever error text is there */
    }
    snprintf(w->error, sizeof w->error, "%s", store_last_error(store));
    store_close(store);
    return NULL;
}

/* N_THREADS connections to one new file start at once; returns how many migrated from 0. */
static int run_workers(const fixture_t *f, const char *openid, worker_t *w)
{
    race_t race;
    race_init(&race);
    for (int i = 0; i < N_THREADS; i++)
        w[i] = (worker_t){.f = f, .barrier = &race.barrier, .openid = openid, .index = i, .from = -1, .to = -1};
    race_run(&race, worker_run, w, sizeof w[0]);
    int fresh = 0;
    for (int i = 0; i < N_THREADS; i++) {
        if (w[i].rc != STORE_OK)
            fail_msg("worker %d: %s", i, w[i].error);
        assert_int_equal(w[i].to, store_schema_latest());
        fresh += w[i].from == 0;
    }
    return fresh;
}

static void test_migrate_concurrent(void **state)
{
    fixture_t *f = *state;
    worker_t w[N_THREADS];
    int fresh = run_workers(f, NULL, w);
    assert_true(fresh >= 1); /* at least the first one found an empty database */
    raw_t *db = raw_open(f);
    /* Each step ran once: one row per version, no failed duplicate. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), store_schema_latest());
    raw_close(db);
}

/* ---- the login upsert ---- */

static void test_login_first_inserts(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-first", NOW);
    in.unionid = "un-first";
    in.has_profile = true;
    in.nickname = "Alice";
    in.avatar = "https://example.com/a.png";
    in.gender = 2;
    in.ip = "192.0.2.7";
    store_user_t u = login_ok(store, &in);
    assert_true(u.id > 0);
    assert_string_equal(u.username, "o-first");
    assert_string_equal(u.openid, "o-first");
    assert_string_equal(u.unionid, "un-first");
    assert_string_equal(u.nickname, "Alice");
    assert_string_equal(u.avatar, "https://example.com/a.png");
    assert_string_equal(u.mobile, "");
    assert_string_equal(u.last_login_ip, "192.0.2.7");
    assert_int_equal(u.gender, 2);
    assert_int_equal(u.user_level, 0);
    assert_int_equal(u.status, STORE_USER_ACTIVE);
    assert_false(u.deleted);
    assert_int_equal(u.add_time, NOW);
    assert_int_equal(u.last_login_time, NOW);
    assert_int_equal(u.update_time, NOW);

    store_user_t again;
    assert_int_equal(store_user_get(store, u.id, &again), STORE_OK);
    assert_same_user(&u, &again);
    assert_int_equal(store_user_get_by_openid(store, "o-first", &again), STORE_OK);
    assert_same_user(&u, &again);

    /* The columns the struct does not carry, and the stored DATETIME text. */
    raw_t *db = raw_open(f);
    char text[64], expected[TEXT_SQLTIME_SIZE];
    text_sqltime(NOW, expected);
    raw_text(db, "SELECT password FROM wx_user WHERE weixin_openid = 'o-first'", text, sizeof text);
    assert_string_equal(text, "");
    raw_text(db, "SELECT add_time FROM wx_user WHERE weixin_openid = 'o-first'", text, sizeof text);
    assert_string_equal(text, expected);
    raw_text(db, "SELECT last_login_time FROM wx_user WHERE weixin_openid = 'o-first'", text, sizeof text);
    assert_string_equal(text, expected);
    raw_check_datetime_column(db, "o-first");
    assert_int_equal(raw_int(db, "SELECT user_level FROM wx_user WHERE weixin_openid = 'o-first'"), 0);
    assert_int_equal(raw_int(db, "SELECT deleted FROM wx_user WHERE weixin_openid = 'o-first'"), 0);
    assert_int_equal(raw_int(db, "SELECT status FROM wx_user WHERE weixin_openid = 'o-first'"), 0);
    assert_int_equal(raw_int(db, "SELECT share_user_id FROM wx_user WHERE weixin_openid = 'o-first'"), -1);
    assert_int_equal(raw_int(db, "SELECT birthday FROM wx_user WHERE weixin_openid = 'o-first'"), -1);

    /* Without userInfo: empty profile, gender 0, and NULL unionid/ip read as "". */
    store_login_t bare = {.openid = "o-bare", .now = NOW};
    u = login_ok(store, &bare);
    assert_string_equal(u.nickname, "");
    assert_string_equal(u.avatar, "");
    assert_string_equal(u.unionid, "");
    assert_string_equal(u.last_login_ip, "");
    assert_int_equal(u.gender, 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 2);
    raw_close(db);
    store_close(store);
}

static void test_login_returning_updates_login_fields_only(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-back", NOW);
    in.has_profile = true;
    in.nickname = "Bob";
    in.avatar = "a1";
    in.gender = 1;
    store_user_t first = login_ok(store, &in);
    assert_string_equal(first.unionid, "");

    in.now = NOW + 100;
    in.ip = "198.51.100.9";
    in.unionid = "un-back";
    in.nickname = "Robert";
    in.avatar = "a2";
    in.gender = 2;
    store_user_t second = login_ok(store, &in);
    assert_int_equal(second.id, first.id);
    assert_string_equal(second.nickname, "Bob");
    assert_string_equal(second.avatar, "a1");
    assert_int_equal(second.gender, 1);
    assert_int_equal(second.add_time, NOW);
    assert_int_equal(second.last_login_time, NOW + 100);
    assert_int_equal(second.update_time, NOW + 100);
    assert_string_equal(second.last_login_ip, "198.51.100.9");
    assert_string_equal(second.unionid, "un-back");

    /* No unionid this time: the known one stays. */
    in.now = NOW + 200;
    in.unionid = NULL;
    store_user_t third = login_ok(store, &in);
    assert_string_equal(third.unionid, "un-back");
    assert_int_equal(third.last_login_time, NOW + 200);

    /* A disabled user's row comes back as it is: the caller decides. */
    assert_int_equal(store_user_set_status(store, "o-back", STORE_USER_DISABLED, NOW + 250), STORE_OK);
    in.now = NOW + 300;
    store_user_t fourth = login_ok(store, &in);
    assert_int_equal(fourth.status, STORE_USER_DISABLED);
    assert_int_equal(fourth.last_login_time, NOW + 300);
    store_close(store);
}

static void test_login_concurrent_first_logins(void **state)
{
    fixture_t *f = *state;
    worker_t w[N_THREADS];
    run_workers(f, "o-race", w); /* each thread also migrates the new file at the same time */
    for (int i = 1; i < N_THREADS; i++)
        assert_int_equal(w[i].id, w[0].id);
    assert_true(w[0].id > 0);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user WHERE weixin_openid = 'o-race'"), 1);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM wx_session WHERE user_id = %lld", (long long)w[0].id);
    assert_int_equal(raw_int(db, sql), N_THREADS); /* every login got its session */
    raw_close(db);
}

/* In a child process: waits for the start signal, migrates, logs in, writes the id. */
static void child_login(const fixture_t *f, int start_fd, int result_fd)
{
    char err[256];
    store_t *store = store_open(f->url, err, sizeof err);
    char go;
    if (store == NULL || read(start_fd, &go, 1) != 0) /* EOF is the start signal */
        _exit(2);
    store_login_t in = login_of("o-proc", NOW);
    store_session_t session = {.created_at = NOW, .expires_at = NOW + 60};
    memcpy(session.token_hash, &(pid_t){getpid()}, sizeof(pid_t)); /* unique among the children */
    store_user_t u;
    if (store_migrate(store, NULL, NULL) != STORE_OK ||
        store_login_session(store, &in, "", false, &session, &u, NULL) != STORE_OK) {
        fprintf(stderr, "child: %s\n", store_last_error(store));
        _exit(3);
    }
    store_close(store);
    _exit(write(result_fd, &u.id, sizeof u.id) == (ssize_t)sizeof u.id ? 0 : 4);
}

/* The same race between processes: each opens, then all migrate and log in at once. */
static void test_login_concurrent_processes(void **state)
{
    fixture_t *f = *state;
    int start[2], result[2];
    assert_int_equal(pipe(start), 0);
    assert_int_equal(pipe(result), 0);
    pid_t pids[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(start[1]);
            close(result[0]);
            child_login(f, start[0], result[1]);
        }
    }
    close(start[0]);
    close(result[1]);
    usleep(200 * 1000); /* let every child open its connection */
    close(start[1]);
    int64_t ids[N_THREADS];
    int failed = 0;
    for (int i = 0; i < N_THREADS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    ssize_t n = read(result[0], ids, sizeof ids);
    close(result[0]);
    assert_int_equal(failed, 0);
    assert_int_equal(n, (ssize_t)sizeof ids);
    for (int i = 1; i < N_THREADS; i++)
        assert_int_equal(ids[i], ids[0]);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), N_THREADS);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), store_schema_latest());
    raw_close(db);
}

static void test_login_username_taken_is_conflict_without_values(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    raw_t *db = raw_open(f);
    /* A row whose username is the new openid but whose openid differs. */
    raw_exec(db, "INSERT INTO wx_user (username, weixin_openid) VALUES ('o-secret-xyz', 'o-other')");
    store_login_t in = login_of("o-secret-xyz", NOW);
    store_user_t u;
    assert_int_equal(store_user_login(store, &in, &u), STORE_CONFLICT);
    const char *msg = store_last_error(store);
    assert_non_null(strstr(msg, "user_login"));
    assert_null(strstr(msg, "o-secret-xyz"));
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 1);
    /* The other row was left alone. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user WHERE last_login_time IS NULL AND update_time IS NULL"
                                 " AND last_login_ip = ''"),
                     1);
    /* The failed transaction was rolled back: the store works on. */
    in.openid = "o-fine";
    login_ok(store, &in);
    raw_close(db);
    store_close(store);
}

/* A write lock held longer than the busy timeout: STORE_ERROR that says so. Takes ~5 s. */
/* ---- sessions ---- */

static store_session_t session_of(int64_t user_id, uint8_t tag, int64_t expires_at)
{
    store_session_t s = {.user_id = user_id, .created_at = NOW, .expires_at = expires_at};
    for (int i = 0; i < 32; i++)
        s.token_hash[i] = (uint8_t)(tag + i);
    s.session_key_sealed_len = 60;
    for (size_t i = 0; i < s.session_key_sealed_len; i++)
        s.session_key_sealed[i] = (uint8_t)(tag ^ i);
    return s;
}

static void test_sessions(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-sess", NOW);
    store_user_t u = login_ok(store, &in);

    store_session_t a = session_of(u.id, 1, NOW + 100), b = session_of(u.id, 2, NOW + 200),
                    c = session_of(u.id, 3, NOW + 300);
    c.session_key_sealed_len = 0; /* empty blob round trip */
    assert_int_equal(store_session_insert(store, &a), STORE_OK);
    assert_int_equal(store_session_insert(store, &b), STORE_OK);
    assert_int_equal(store_session_insert(store, &c), STORE_OK);
    assert_int_equal(store_session_insert(store, &a), STORE_CONFLICT);
    store_session_t orphan = session_of(u.id + 1000, 9, NOW + 100);
    assert_int_equal(store_session_insert(store, &orphan), STORE_NOT_FOUND);

    store_session_t got;
    store_user_t owner;
    assert_int_equal(store_session_get(store, a.token_hash, &got, &owner), STORE_OK);
    assert_memory_equal(got.token_hash, a.token_hash, 32);
    assert_int_equal(got.user_id, u.id);
    assert_int_equal(got.created_at, NOW);
    assert_int_equal(got.expires_at, NOW + 100);
    assert_int_equal(got.session_key_sealed_len, 60);
    assert_memory_equal(got.session_key_sealed, a.session_key_sealed, 60);
    assert_same_user(&owner, &u);
    assert_int_equal(store_session_get(store, c.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(got.session_key_sealed_len, 0);
    assert_int_equal(got.expires_at, NOW + 300);

    store_session_t missing = session_of(u.id, 77, 0);
    assert_int_equal(store_session_get(store, missing.token_hash, &got, &owner), STORE_NOT_FOUND);
    assert_int_equal(store_session_delete(store, missing.token_hash), STORE_NOT_FOUND);

    /* Expired sessions are still returned; purge removes those before now. */
    assert_int_equal(store_session_get(store, a.token_hash, &got, NULL), STORE_OK);
    long deleted = -1;
    assert_int_equal(store_session_purge(store, NOW + 250, &deleted), STORE_OK);
    assert_int_equal(deleted, 2);
    assert_int_equal(store_session_get(store, a.token_hash, &got, NULL), STORE_NOT_FOUND);
    assert_int_equal(store_session_get(store, b.token_hash, &got, NULL), STORE_NOT_FOUND);
    assert_int_equal(store_session_get(store, c.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(store_session_purge(store, NOW + 250, &deleted), STORE_OK);
    assert_int_equal(deleted, 0);
    assert_int_equal(store_session_purge(store, NOW + 250, NULL), STORE_OK);

    assert_int_equal(store_session_delete(store, c.token_hash), STORE_OK);
    assert_int_equal(store_session_get(store, c.token_hash, &got, NULL), STORE_NOT_FOUND);
    assert_int_equal(store_session_delete(store, c.token_hash), STORE_NOT_FOUND);

    store_session_t too_long = session_of(u.id, 5, NOW);
    too_long.session_key_sealed_len = STORE_SEALED_MAX + 1;
    assert_int_equal(store_session_insert(store, &too_long), STORE_ERROR);
    store_close(store);
}

/* ---- the whole login in one transaction ---- */

/* store_login_session() that must succeed; returns the row. */
static store_user_t login_session_ok(store_t *store, const store_login_t *in, const char *mobile,
                                     store_session_t *session)
{
    store_user_t u;
    bool conflict = true;
    if (store_login_session(store, in, mobile, false, session, &u, &conflict) != STORE_OK)
        fail_msg("store_login_session: %s", store_last_error(store));
    assert_false(conflict);
    return u;
}

/* How many rows a query's count(*) gives for one openid (the text is a test constant). */
static int count_for(raw_t *db, const char *sql_format, const char *openid)
{
    char sql[192];
    snprintf(sql, sizeof sql, sql_format, openid);
    return raw_int(db, sql);
}

static void test_login_session_one_call(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-ls", NOW);
    in.has_profile = true;
    in.nickname = "Lee";
    in.avatar = "av";
    in.gender = 1;
    store_session_t s = session_of(0, 11, NOW + 100);
    store_user_t u = login_session_ok(store, &in, "13600000001", &s);
    assert_true(u.id > 0);
    assert_int_equal(s.user_id, u.id);
    assert_string_equal(u.nickname, "Lee");
    assert_string_equal(u.mobile, "13600000001");
    assert_int_equal(u.last_login_time, NOW);

    /* What was committed: the row (with its number) and the session. */
    store_session_t got;
    store_user_t owner;
    assert_int_equal(store_session_get(store, s.token_hash, &got, &owner), STORE_OK);
    assert_int_equal(got.user_id, u.id);
    assert_int_equal(got.expires_at, NOW + 100);
    assert_memory_equal(got.session_key_sealed, s.session_key_sealed, s.session_key_sealed_len);
    assert_same_user(&owner, &u);

    /* A returning login without a number: same row, a second session, mobile kept. */
    in.now = NOW + 50;
    store_session_t s2 = session_of(0, 12, NOW + 150);
    store_user_t again = login_session_ok(store, &in, "", &s2);
    assert_int_equal(again.id, u.id);
    assert_int_equal(s2.user_id, u.id);
    assert_string_equal(again.mobile, "13600000001");
    assert_int_equal(again.last_login_time, NOW + 50);
    assert_int_equal(store_session_get(store, s2.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(store_session_get(store, s.token_hash, &got, NULL), STORE_OK);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 2);
    raw_close(db);

    /* Bad arguments are refused before any write. */
    assert_int_equal(store_login_session(store, &in, NULL, false, &s2, &again, NULL), STORE_ERROR);
    assert_int_equal(store_login_session(store, &in, "", false, NULL, &again, NULL), STORE_ERROR);
    assert_int_equal(store_login_session(store, &in, "123456789012345678901234567890", false, &s2, &again, NULL),
                     STORE_ERROR);
    store_close(store);
}

static void test_login_session_mobile_conflict_rolls_back(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-holder", NOW);
    store_session_t s = session_of(0, 21, NOW + 100);
    login_session_ok(store, &in, "13600000002", &s);
    in = login_of("o-back2", NOW);
    store_user_t back = login_ok(store, &in);

    /* A new openid claiming the number: no row, no session, a conflict that says so. */
    in = login_of("o-newcomer", NOW + 10);
    store_session_t s2 = session_of(0, 22, NOW + 100);
    store_user_t u;
    bool conflict = false;
    assert_int_equal(store_login_session(store, &in, "13600000002", false, &s2, &u, &conflict), STORE_CONFLICT);
    assert_true(conflict);
    assert_int_equal(s2.user_id, 0);
    assert_int_equal(u.id, 0);
    assert_null(strstr(store_last_error(store), "13600000002"));
    raw_t *db = raw_open(f);
    assert_int_equal(count_for(db, "SELECT count(*) FROM wx_user WHERE weixin_openid = '%s'", "o-newcomer"), 0);
    store_session_t got;
    assert_int_equal(store_session_get(store, s2.token_hash, &got, NULL), STORE_NOT_FOUND);

    /* A returning user claiming it: the row is left as it was. */
    in = login_of("o-back2", NOW + 20);
    in.ip = "203.0.113.5";
    conflict = false;
    assert_int_equal(store_login_session(store, &in, "13600000002", false, &s2, &u, &conflict), STORE_CONFLICT);
    assert_true(conflict);
    store_user_t now;
    assert_int_equal(store_user_get(store, back.id, &now), STORE_OK);
    assert_same_user(&now, &back);
    assert_int_equal(store_session_get(store, s2.token_hash, &got, NULL), STORE_NOT_FOUND);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 1);

    /* With sharing allowed the same login goes through. */
    assert_int_equal(store_login_session(store, &in, "13600000002", true, &s2, &u, &conflict), STORE_OK);
    assert_false(conflict);
    assert_int_equal(s2.user_id, back.id);
    assert_string_equal(u.mobile, "13600000002");
    assert_int_equal(u.last_login_time, NOW + 20);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user WHERE mobile = '13600000002'"), 2);
    raw_close(db);
    store_close(store);
}

static void test_login_session_failed_insert_rolls_back(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-first-tok", NOW);
    store_session_t taken = session_of(0, 31, NOW + 100);
    login_session_ok(store, &in, "", &taken);
    in = login_of("o-return", NOW);
    store_user_t back = login_ok(store, &in);

    /* The session insert fails (its token hash exists): the new user's row goes too. */
    in = login_of("o-dup-tok", NOW + 10);
    store_session_t dup = session_of(0, 31, NOW + 200);
    store_user_t u;
    bool conflict = true;
    assert_int_equal(store_login_session(store, &in, "13600000003", false, &dup, &u, &conflict), STORE_CONFLICT);
    assert_false(conflict); /* not the number's fault */
    assert_int_equal(dup.user_id, 0);
    raw_t *db = raw_open(f);
    assert_int_equal(count_for(db, "SELECT count(*) FROM wx_user WHERE weixin_openid = '%s'", "o-dup-tok"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user WHERE mobile = '13600000003'"), 0);

    /* A returning user: last_login_time, ip and mobile unchanged. */
    in = login_of("o-return", NOW + 20);
    in.ip = "203.0.113.6";
    assert_int_equal(store_login_session(store, &in, "13600000003", false, &dup, &u, &conflict), STORE_CONFLICT);
    assert_false(conflict);
    store_user_t now;
    assert_int_equal(store_user_get(store, back.id, &now), STORE_OK);
    assert_same_user(&now, &back);
    assert_int_equal(now.last_login_time, NOW);

    /* The original session still belongs to its user; the store works on. */
    store_session_t got;
    assert_int_equal(store_session_get(store, taken.token_hash, &got, NULL), STORE_OK);
    assert_int_equal(got.user_id, taken.user_id);
    assert_int_equal(got.expires_at, NOW + 100);
    dup.token_hash[0] ^= 0xff;
    u = login_session_ok(store, &in, "13600000003", &dup);
    assert_int_equal(u.id, back.id);
    assert_int_equal(u.last_login_time, NOW + 20);
    assert_string_equal(u.mobile, "13600000003");
    raw_close(db);
    store_close(store);
}

static void test_login_session_disabled_user_gets_no_session(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-off", NOW);
    store_user_t first = login_ok(store, &in);
    assert_int_equal(store_user_set_status(store, "o-off", STORE_USER_DISABLED, NOW + 1), STORE_OK);

    /* The login is recorded (as before: last_login_time), but no number and no session. */
    in.now = NOW + 30;
    store_session_t s = session_of(0, 41, NOW + 100);
    store_user_t u = login_session_ok(store, &in, "13600000004", &s);
    assert_int_equal(s.user_id, 0);
    assert_int_equal(u.id, first.id);
    assert_int_equal(u.status, STORE_USER_DISABLED);
    assert_false(store_user_may_login(&u));
    assert_int_equal(u.last_login_time, NOW + 30);
    assert_string_equal(u.mobile, "");
    store_session_t got;
    assert_int_equal(store_session_get(store, s.token_hash, &got, NULL), STORE_NOT_FOUND);

    /* Closed and deleted users alike. */
    assert_int_equal(store_user_set_status(store, "o-off", STORE_USER_CLOSED, NOW + 31), STORE_OK);
    u = login_session_ok(store, &in, "", &s);
    assert_int_equal(s.user_id, 0);
    assert_int_equal(store_user_set_status(store, "o-off", STORE_USER_ACTIVE, NOW + 32), STORE_OK);
    raw_t *db = raw_open(f);
    raw_exec(db, "UPDATE wx_user SET deleted = 1 WHERE weixin_openid = 'o-off'");
    u = login_session_ok(store, &in, "", &s);
    assert_int_equal(s.user_id, 0);
    assert_true(u.deleted);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user WHERE mobile = '13600000004'"), 0);

    /* Active again: the same call now logs in. */
    raw_exec(db, "UPDATE wx_user SET deleted = 0 WHERE weixin_openid = 'o-off'");
    u = login_session_ok(store, &in, "13600000004", &s);
    assert_true(store_user_may_login(&u));
    assert_int_equal(s.user_id, first.id);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 1);
    raw_close(db);
    store_close(store);
}

/* ---- status, profile, mobile ---- */

/* Group commit: several logins in one batch are committed together, or not at all. */
static void test_batch_commits_together_or_not_at_all(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    raw_t *db = raw_open(f);
    assert_int_equal(store_batch_end(store), STORE_ERROR); /* no batch open */

    assert_int_equal(store_batch_begin(store), STORE_OK);
    assert_int_equal(store_batch_begin(store), STORE_ERROR); /* batches do not nest */
    store_login_t in = login_of("o-batch-a", NOW);
    store_session_t sa = session_of(0, 41, NOW + 100);
    store_user_t a = login_session_ok(store, &in, "", &sa);
    in = login_of("o-batch-b", NOW);
    store_session_t sb = session_of(0, 42, NOW + 100);
    store_user_t b = login_session_ok(store, &in, "", &sb);
    assert_true(a.id > 0 && b.id > a.id);
    assert_int_equal(sb.user_id, b.id);
    store_session_t got;
    assert_int_equal(store_session_get(store, sa.token_hash, &got, NULL), STORE_OK); /* the batch sees itself */
    if (store_batch_failed(store))
        fail_msg("the batch failed: %s", store_last_error(store));
    /* nothing is visible to another connection before the batch's commit */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 0);
    assert_int_equal(store_batch_end(store), STORE_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 2);

    /* A login that fails (its token hash is taken) fails the batch: nothing of it is written. */
    assert_int_equal(store_batch_begin(store), STORE_OK);
    in = login_of("o-batch-c", NOW + 10);
    store_session_t sc = session_of(0, 43, NOW + 100);
    login_session_ok(store, &in, "", &sc);
    assert_false(store_batch_failed(store));
    in = login_of("o-batch-a", NOW + 10);
    store_session_t dup = session_of(0, 42, NOW + 100);
    store_user_t u;
    assert_int_equal(store_login_session(store, &in, "", false, &dup, &u, NULL), STORE_CONFLICT);
    assert_true(store_batch_failed(store));
    assert_int_equal(store_batch_end(store), STORE_ERROR);
    assert_false(store_batch_failed(store));
    assert_int_equal(count_for(db, "SELECT count(*) FROM wx_user WHERE weixin_openid = '%s'", "o-batch-c"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 2);
    store_user_t now;
    assert_int_equal(store_user_get(store, a.id, &now), STORE_OK);
    assert_same_user(&now, &a); /* a's returning login was rolled back too */

    /* The store works on: the good login alone goes through. */
    in = login_of("o-batch-c", NOW + 10);
    u = login_session_ok(store, &in, "", &sc);
    assert_int_equal(sc.user_id, u.id);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_session"), 3);
    raw_close(db);
    store_close(store);
}

static void test_set_status(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-status", NOW);
    store_user_t u = login_ok(store, &in);
    assert_int_equal(store_user_set_status(store, "o-status", STORE_USER_CLOSED, NOW + 5), STORE_OK);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_int_equal(u.status, STORE_USER_CLOSED);
    assert_int_equal(u.update_time, NOW + 5);
    assert_int_equal(store_user_set_status(store, "o-status", STORE_USER_ACTIVE, NOW + 6), STORE_OK);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_int_equal(u.status, STORE_USER_ACTIVE);
    assert_int_equal(store_user_set_status(store, "o-nobody", STORE_USER_DISABLED, NOW), STORE_NOT_FOUND);
    assert_int_equal(store_user_set_status(store, "o-status", 7, NOW), STORE_ERROR);
    assert_int_equal(store_user_get(store, u.id + 1000, &u), STORE_NOT_FOUND);
    assert_int_equal(store_user_get_by_openid(store, "o-nobody", &u), STORE_NOT_FOUND);
    store_close(store);
}

static void test_update_profile_partial(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-prof", NOW);
    in.has_profile = true;
    in.nickname = "N0";
    in.avatar = "A0";
    in.gender = 1;
    store_user_t u = login_ok(store, &in);

    assert_int_equal(store_user_update_profile(store, u.id, "N1", NULL, -1, NOW + 1), STORE_OK);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_string_equal(u.nickname, "N1");
    assert_string_equal(u.avatar, "A0");
    assert_int_equal(u.gender, 1);
    assert_int_equal(u.update_time, NOW + 1);

    assert_int_equal(store_user_update_profile(store, u.id, NULL, "A2", -1, NOW + 2), STORE_OK);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_string_equal(u.nickname, "N1");
    assert_string_equal(u.avatar, "A2");
    assert_int_equal(u.gender, 1);

    assert_int_equal(store_user_update_profile(store, u.id, NULL, NULL, 0, NOW + 3), STORE_OK);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_string_equal(u.nickname, "N1");
    assert_string_equal(u.avatar, "A2");
    assert_int_equal(u.gender, 0);

    assert_int_equal(store_user_update_profile(store, u.id, "", "", 2, NOW + 4), STORE_OK);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_string_equal(u.nickname, "");
    assert_string_equal(u.avatar, "");
    assert_int_equal(u.gender, 2);
    assert_int_equal(u.update_time, NOW + 4);
    assert_int_equal(u.add_time, NOW);

    assert_int_equal(store_user_update_profile(store, u.id + 1000, "x", NULL, -1, NOW), STORE_NOT_FOUND);
    store_close(store);
}

static void test_bind_mobile(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-m-a", NOW);
    store_user_t a = login_ok(store, &in);
    in.openid = "o-m-b";
    store_user_t b = login_ok(store, &in);
    in.openid = "o-m-c";
    store_user_t c = login_ok(store, &in);

    assert_int_equal(store_user_bind_mobile(store, a.id, "13800000000", false, NOW + 1), STORE_OK);
    assert_int_equal(store_user_bind_mobile(store, a.id, "13800000000", false, NOW + 2), STORE_OK); /* again */
    assert_int_equal(store_user_get(store, a.id, &a), STORE_OK);
    assert_string_equal(a.mobile, "13800000000");
    assert_int_equal(a.update_time, NOW + 2);

    assert_int_equal(store_user_bind_mobile(store, b.id, "13800000000", false, NOW + 3), STORE_CONFLICT);
    assert_null(strstr(store_last_error(store), "13800000000"));
    assert_int_equal(store_user_get(store, b.id, &b), STORE_OK);
    assert_string_equal(b.mobile, "");
    assert_int_equal(b.update_time, NOW); /* nothing changed */

    assert_int_equal(store_user_bind_mobile(store, b.id, "13800000000", true, NOW + 4), STORE_OK);
    assert_int_equal(store_user_get(store, b.id, &b), STORE_OK);
    assert_string_equal(b.mobile, "13800000000");

    /* Only live users hold a number: once a and b are deleted, c may take it. */
    assert_int_equal(store_user_bind_mobile(store, c.id, "13800000000", false, NOW + 5), STORE_CONFLICT);
    raw_t *db = raw_open(f);
    raw_exec(db, "UPDATE wx_user SET deleted = 1 WHERE weixin_openid IN ('o-m-a', 'o-m-b')");
    raw_close(db);
    assert_int_equal(store_user_bind_mobile(store, c.id, "13800000000", false, NOW + 6), STORE_OK);
    assert_int_equal(store_user_get(store, c.id, &c), STORE_OK);
    assert_string_equal(c.mobile, "13800000000");

    /* Unbinding ("") never conflicts, although other users have "" too. */
    in.openid = "o-m-d";
    login_ok(store, &in);
    assert_int_equal(store_user_bind_mobile(store, c.id, "", false, NOW + 7), STORE_OK);
    assert_int_equal(store_user_get(store, c.id, &c), STORE_OK);
    assert_string_equal(c.mobile, "");

    assert_int_equal(store_user_bind_mobile(store, c.id + 1000, "13800000001", false, NOW), STORE_NOT_FOUND);
    store_close(store);
}

typedef struct binder {
    const fixture_t *f;
    pthread_barrier_t *barrier;
    int64_t user_id;
    store_rc rc;
    char error[256];
} binder_t;

static void *binder_run(void *arg)
{
    binder_t *b = arg;
    char err[256] = "";
    store_t *store = store_open(b->f->url, err, sizeof err);
    pthread_barrier_wait(b->barrier);
    if (store == NULL) {
        b->rc = STORE_ERROR;
        snprintf(b->error, sizeof b->error, "%s", err);
        return NULL;
    }
    b->rc = store_user_bind_mobile(store, b->user_id, "13700000000", false, NOW + 1);
    snprintf(b->error, sizeof b->error, "%s", store_last_error(store));
    store_close(store);
    return NULL;
}

/* Several users claim one number at once: exactly one gets it, the others a clean CONFLICT. */
static void test_bind_mobile_concurrent(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    binder_t b[N_THREADS];
    race_t race;
    race_init(&race);
    for (int i = 0; i < N_THREADS; i++) {
        char openid[32];
        snprintf(openid, sizeof openid, "o-claim-%d", i);
        store_login_t in = login_of(openid, NOW);
        b[i] = (binder_t){.f = f, .barrier = &race.barrier, .user_id = login_ok(store, &in).id};
    }
    store_close(store);
    race_run(&race, binder_run, b, sizeof b[0]);
    int ok = 0, conflict = 0;
    for (int i = 0; i < N_THREADS; i++) {
        if (b[i].rc != STORE_OK && b[i].rc != STORE_CONFLICT)
            fail_msg("binder %d: %s", i, b[i].error);
        ok += b[i].rc == STORE_OK;
        conflict += b[i].rc == STORE_CONFLICT;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, N_THREADS - 1);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user WHERE mobile = '13700000000'"), 1);
    raw_close(db);
}

static void test_emoji_nickname_round_trip(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    /* 63 characters (the column's length), each a 4-byte emoji. */
    static const char *const emoji[] = {"\xf0\x9f\x98\x80", "\xf0\x9f\x8e\x89", "\xf0\x9f\xa6\x84", "\xf0\x9f\x91\x8d"};
    char nick[STORE_NICKNAME_SIZE] = "";
    for (int i = 0; i < 63; i++)
        strcat(nick, emoji[i % 4]);
    assert_int_equal(strlen(nick), 252);
    store_login_t in = login_of("o-emoji", NOW);
    in.has_profile = true;
    in.nickname = nick;
    in.avatar = "";
    store_user_t u = login_ok(store, &in);
    assert_int_equal(strlen(u.nickname), 252);
    assert_memory_equal(u.nickname, nick, 253);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_memory_equal(u.nickname, nick, 253);

    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT " RAW_CHAR_LENGTH("nickname") " FROM wx_user WHERE weixin_openid = 'o-emoji'"),
                     63);
    assert_int_equal(raw_int(db, "SELECT " RAW_BYTE_LENGTH("nickname") " FROM wx_user WHERE weixin_openid = 'o-emoji'"),
                     252);
    raw_close(db);

    const char *other = "\xf0\x9f\x90\xb1\xf0\x9f\x90\xb6"; /* cat, dog */
    assert_int_equal(store_user_update_profile(store, u.id, other, NULL, -1, NOW + 1), STORE_OK);
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    assert_memory_equal(u.nickname, other, strlen(other) + 1);
    store_close(store);
}

#define STORE_CASES(setup, teardown)                                                                                   \
    cmocka_unit_test_setup_teardown(test_migrate_fresh_and_rerun, setup, teardown),                                    \
        cmocka_unit_test_setup_teardown(test_migrate_upgrade_v1_keeps_rows, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(test_migrate_refuses_newer_schema, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(test_migrate_concurrent, setup, teardown),                                     \
        cmocka_unit_test_setup_teardown(test_login_first_inserts, setup, teardown),                                    \
        cmocka_unit_test_setup_teardown(test_login_returning_updates_login_fields_only, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_login_concurrent_first_logins, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(test_login_concurrent_processes, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_login_username_taken_is_conflict_without_values, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),                                               \
        cmocka_unit_test_setup_teardown(test_login_session_one_call, setup, teardown),                                 \
        cmocka_unit_test_setup_teardown(test_login_session_mobile_conflict_rolls_back, setup, teardown),               \
        cmocka_unit_test_setup_teardown(test_login_session_failed_insert_rolls_back, setup, teardown),                 \
        cmocka_unit_test_setup_teardown(test_login_session_disabled_user_gets_no_session, setup, teardown),            \
        cmocka_unit_test_setup_teardown(test_batch_commits_together_or_not_at_all, setup, teardown),                   \
        cmocka_unit_test_setup_teardown(test_set_status, setup, teardown),                                             \
        cmocka_unit_test_setup_teardown(test_update_profile_partial, setup, teardown),                                 \
        cmocka_unit_test_setup_teardown(test_bind_mobile, setup, teardown),                                            \
        cmocka_unit_test_setup_teardown(test_bind_mobile_concurrent, setup, teardown),                                 \
        cmocka_unit_test_setup_teardown(test_emoji_nickname_round_trip, setup, teardown)

#endif
