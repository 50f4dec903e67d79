/*
 * test_store_mysql — the store's verbs on the MariaDB/MySQL backend, against a live server
 * named by MEETOA_TEST_MYSQL_URL (mysql://user:password@host:port/db; scripts/mariadb.sh
 * start makes a private one). Without that variable the test FAILS: a skipped backend test
 * would pass silently. Every test starts from an empty database (the store's tables are
 * dropped before and after it).
 *
 * The backend-independent checks are store_cases.h (the same as test_store.c's); this file
 * adds what is MySQL's own: tables in InnoDB/utf8mb4 with byte-compared openids, a migration
 * step that failed half-way (DDL is not transactional) run again, prepared
 * statements cached per connection, a lock held past the lock wait timeout, a pooled
 * connection that idled past the server's wait_timeout or was killed while idle (the next
 * call works at once), one killed during a call (that call's STORE_ERROR, then success), a
 * server that
 * never answers (fails within the timeouts), the password from MEETOA_DB_PASSWORD,
 * percent-decoding, the unix socket form of the URL, and refused URLs whose error texts
 * carry no password. Direct checks use a separate client connection (text protocol); the
 * wait_timeout case also needs root on the server's unix socket (SET GLOBAL), which the
 * private server of scripts/mariadb.sh gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <mysql.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/text.h"
#include "store/migrations.h"
#include "store/store.h"

#define NOW       INT64_C(1795000000) /* 2026-11-18, a fixed "now" */
#define N_THREADS 8
#define URL_ENV   "MEETOA_TEST_MYSQL_URL"

typedef struct fixture {
    char url[512]; /* the datasource url under test */
    char user[64], password[128], host[128], db[64];
    unsigned port;
    int64_t saved_wait_timeout; /* > 0: the global wait_timeout to put back at teardown */
} fixture_t;

/* ---- fixture and direct access ---- */

typedef MYSQL raw_t;

static raw_t *raw_open(const fixture_t *f)
{
    MYSQL *db = mysql_init(NULL);
    assert_non_null(db);
    unsigned timeout = 10;
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &timeout);
    if (mysql_real_connect(db, f->host, f->user, f->password, f->db, f->port, NULL, 0) == NULL)
        fail_msg("direct connection to %s:%u: %s", f->host, f->port, mysql_error(db));
    return db;
}

static void raw_close(raw_t *db)
{
    mysql_close(db);
}

static void raw_exec(raw_t *db, const char *sql)
{
    if (mysql_query(db, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(db));
    MYSQL_RES *res = mysql_store_result(db);
    if (res != NULL)
        mysql_free_result(res);
}

/* The one row of sql's answer (fails the test when there is none). */
static MYSQL_RES *raw_row(raw_t *db, const char *sql, MYSQL_ROW *row)
{
    if (mysql_query(db, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(db));
    MYSQL_RES *res = mysql_store_result(db);
    assert_non_null(res);
    *row = mysql_fetch_row(res);
    if (*row == NULL)
        fail_msg("%s: no row", sql);
    return res;
}

static int64_t raw_int(raw_t *db, const char *sql)
{
    MYSQL_ROW row;
    MYSQL_RES *res = raw_row(db, sql, &row);
    int64_t v = row[0] == NULL ? -1 : strtoll(row[0], NULL, 10);
    mysql_free_result(res);
    return v;
}

static void raw_text(raw_t *db, const char *sql, char *out, size_t size)
{
    MYSQL_ROW row;
    MYSQL_RES *res = raw_row(db, sql, &row);
    snprintf(out, size, "%s", row[0] != NULL ? row[0] : "(null)");
    mysql_free_result(res);
}

static int raw_schema_objects(raw_t *db)
{
    return (int)(raw_int(db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
                             " AND table_name IN ('wx_user', 'wx_session')") +
                 raw_int(db, "SELECT count(DISTINCT index_name) FROM information_schema.statistics"
                             " WHERE table_schema = DATABASE() AND index_name IN ('wx_session_user_id',"
                             " 'wx_session_expires_at', 'wx_user_mobile')"));
}

static void raw_check_datetime_column(raw_t *db, const char *openid)
{
    char type[32];
    raw_text(db,
             "SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE()"
             " AND table_name = 'wx_user' AND column_name = 'add_time'",
             type, sizeof type);
    assert_string_equal(type, "datetime");
    (void)openid; /* the type is the column's, the same for every row */
}

#define RAW_CHAR_LENGTH(col) "char_length(" col ")"
#define RAW_BYTE_LENGTH(col) "length(" col ")"
#define STORE_CASES_BACKEND  "mysql"

static void drop_tables(const fixture_t *f)
{
    raw_t *db = raw_open(f);
    raw_exec(db, "DROP TABLE IF EXISTS oa_login_log, oa_media_check, oa_content_flag, oa_subscribe_quota, oa_reminder, "
                 "oa_attachment, oa_minutes, "
                 "oa_vote_choice, "
                 "oa_vote_ballot, oa_vote_option, "
                 "oa_vote, oa_meeting_log, "
                 "oa_attendee, oa_meeting, oa_room, oa_invite, oa_member, "
                 "wx_session, wx_user,"
                 " schema_version");
    raw_close(db);
}

/* Reads the url of URL_ENV into f; the format is the one scripts/mariadb.sh prints. */
static void fixture_parse(fixture_t *f, const char *url)
{
    snprintf(f->url, sizeof f->url, "%s", url);
    if (sscanf(url, "mysql://%63[^:@]:%127[^@]@%127[^:/]:%u/%63[^?]", f->user, f->password, f->host, &f->port, f->db) !=
        5)
        fail_msg("%s must look like mysql://user:password@host:port/db", URL_ENV);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fixture_parse(f, getenv(URL_ENV));
    unsetenv("MEETOA_DB_PASSWORD");
    drop_tables(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    drop_tables(f);
    free(f);
    return 0;
}

#include "store_cases.h"
#include "org_cases.h"
#include "session_cases.h"

/* ---- MySQL only ---- */

static void test_tables_innodb_utf8mb4(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
                                 " AND table_name IN ('wx_user', 'wx_session', 'schema_version')"
                                 " AND engine = 'InnoDB' AND table_collation LIKE 'utf8mb4%'"),
                     3);
    assert_int_equal(raw_int(db,
                             "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE()"
                             " AND table_name = 'wx_user' AND column_name IN ('username', 'weixin_openid', 'unionid')"
                             " AND collation_name = 'utf8mb4_bin'"),
                     3);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE()"
                                 " AND table_name = 'wx_user' AND column_name = 'nickname'"
                                 " AND character_set_name = 'utf8mb4'"),
                     1);
    raw_close(db);

    /* openids differing only in case are two users (byte comparison). */
    store_login_t in = login_of("o-Case", NOW);
    store_user_t upper = login_ok(store, &in);
    in.openid = "o-case";
    store_user_t lower = login_ok(store, &in);
    assert_true(upper.id != lower.id);
    assert_string_equal(lower.openid, "o-case");
    store_close(store);
}

/* Step 2 failed after its first statement (DDL is not transactional here): a rerun completes it. */
static void test_migrate_rerun_after_partial_step(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_store(f);
    assert_int_equal(store_migrate_to(store, 1, NULL, NULL), STORE_OK);
    raw_t *db = raw_open(f);
    raw_exec(db, store_migration_get(2)->mysql[0]); /* what the failed run left behind */
    raw_exec(db, "INSERT INTO wx_user (username, weixin_openid, nickname) VALUES ('o-kept', 'o-kept', 'Kept')");
    int from = -1, to = -1;
    assert_int_equal(store_migrate(store, &from, &to), STORE_OK);
    assert_int_equal(from, 1);
    assert_int_equal(to, store_schema_latest());
    assert_int_equal(raw_schema_objects(db), 5);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), store_schema_latest());
    store_user_t u;
    assert_int_equal(store_user_get_by_openid(store, "o-kept", &u), STORE_OK);
    assert_string_equal(u.nickname, "Kept");

    /* The whole step ran but its version row is missing: the rerun stops, clearly. */
    raw_exec(db, "DELETE FROM schema_version WHERE version >= 2");
    assert_int_equal(store_migrate(store, &from, &to), STORE_ERROR);
    assert_int_equal(to, 1);
    if (strstr(store_last_error(store), "migrate: step 2 (") == NULL ||
        strstr(store_last_error(store), "unionid") == NULL)
        fail_msg("unexpected error text: %s", store_last_error(store));
    raw_close(db);
    store_close(store);
}

static int64_t global_status(raw_t *db, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT variable_value FROM information_schema.global_status WHERE variable_name = '%s'",
             name);
    return raw_int(db, sql);
}

/* Once a connection prepared its statements, using them again prepares nothing. */
static void test_statements_prepared_once(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-cache", NOW);
    store_user_t u = login_ok(store, &in);
    login_ok(store, &in); /* a login that changes nothing also prepares its fallback update */
    assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    raw_t *db = raw_open(f); /* text protocol: prepares nothing itself */
    int64_t prepared = global_status(db, "COM_STMT_PREPARE");
    int64_t executed = global_status(db, "COM_STMT_EXECUTE");
    for (int i = 0; i < 5; i++) {
        in.now = NOW + 1 + i;
        login_ok(store, &in);
        assert_int_equal(store_user_get(store, u.id, &u), STORE_OK);
    }
    assert_int_equal(global_status(db, "COM_STMT_PREPARE"), prepared);
    assert_true(global_status(db, "COM_STMT_EXECUTE") >= executed + 5 * 5); /* begin, upsert, select, commit, get */
    raw_close(db);
    store_close(store);
}

/* Our user's connections other than db's own: their count, and the highest id in *id. */
static int64_t other_connections(raw_t *db, int64_t *id)
{
    MYSQL_ROW row;
    MYSQL_RES *res = raw_row(db,
                             "SELECT count(*), coalesce(max(id), 0) FROM information_schema.processlist"
                             " WHERE id <> CONNECTION_ID() AND user = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
                             &row);
    int64_t count = strtoll(row[0], NULL, 10);
    *id = strtoll(row[1], NULL, 10);
    mysql_free_result(res);
    return count;
}

/* The id of the store's connection: the one other connection of our user (a migration's
 * connection that is still closing is waited for). */
static int64_t store_connection_id(raw_t *db)
{
    int64_t id = 0;
    for (int i = 0; i < 100 && other_connections(db, &id) > 1; i++)
        usleep(20 * 1000);
    assert_int_equal(other_connections(db, &id), 1);
    return id;
}

/* Waits (up to 10 s) until the server has closed connection id. */
static void wait_connection_gone(raw_t *db, int64_t id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM information_schema.processlist WHERE id = %lld", (long long)id);
    for (int i = 0; i < 500 && raw_int(db, sql) > 0; i++)
        usleep(20 * 1000);
    assert_int_equal(raw_int(db, sql), 0);
}

/* Kills every other connection of our user (the store's) and waits until they are gone. */
static void kill_store_connections(raw_t *db)
{
    static const char others[] = "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID()"
                                 " AND user = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)";
    if (mysql_query(db, others) != 0)
        fail_msg("%s", mysql_error(db));
    MYSQL_RES *res = mysql_store_result(db);
    assert_non_null(res);
    assert_true(mysql_num_rows(res) >= 1);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        char sql[64];
        snprintf(sql, sizeof sql, "KILL CONNECTION %lld", strtoll(row[0], NULL, 10));
        if (mysql_query(db, sql) != 0 && mysql_errno(db) != 1094 /* already gone */)
            fail_msg("%s: %s", sql, mysql_error(db));
    }
    mysql_free_result(res);
    int64_t id = 0;
    for (int i = 0; i < 100 && other_connections(db, &id) > 0; i++)
        usleep(20 * 1000);
    assert_int_equal(other_connections(db, &id), 0);
}

static void assert_unavailable(store_t *store, const char *op)
{
    const char *msg = store_last_error(store);
    char expected[64];
    snprintf(expected, sizeof expected, "%s: database unavailable: ", op);
    if (strstr(msg, expected) == NULL)
        fail_msg("unexpected error text: %s", msg);
}

/* Root on the unix socket of the server db is connected to (scripts/mariadb.sh makes
 * root@localhost without a password). */
static raw_t *root_open(raw_t *db)
{
    char sock[256];
    raw_text(db, "SELECT @@socket", sock, sizeof sock);
    MYSQL *root = mysql_init(NULL);
    assert_non_null(root);
    unsigned timeout = 10;
    mysql_options(root, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(root, MYSQL_OPT_READ_TIMEOUT, &timeout);
    if (mysql_real_connect(root, "localhost", "root", "", NULL, 0, sock, 0) == NULL)
        fail_msg("root on %s: %s (this case needs the private server of scripts/mariadb.sh)", sock, mysql_error(root));
    return root;
}

/* Puts back the global wait_timeout that test_idle_past_wait_timeout changed. */
static int teardown_wait_timeout(void **state)
{
    fixture_t *f = *state;
    if (f->saved_wait_timeout > 0) {
        raw_t *db = raw_open(f), *root = root_open(db);
        char sql[64];
        snprintf(sql, sizeof sql, "SET GLOBAL wait_timeout = %lld", (long long)f->saved_wait_timeout);
        raw_exec(root, sql);
        raw_close(root);
        raw_close(db);
    }
    return teardown(state);
}

/*
 * Issue 7: a pooled connection idle past the server's wait_timeout (2 s here) failed the
 * first call made on it. Now each call checks its connection first: idle past half the
 * wait_timeout it is pinged and kept; closed by the server it is opened again, and the call
 * works at once. Takes about 5 s.
 */
static void test_idle_past_wait_timeout(void **state)
{
    fixture_t *f = *state;
    store_close(open_migrated(f));
    raw_t *db = raw_open(f), *root = root_open(db);
    f->saved_wait_timeout = raw_int(root, "SELECT @@GLOBAL.wait_timeout");
    raw_exec(root, "SET GLOBAL wait_timeout = 2"); /* for the connections opened from now on */
    store_t *store = open_store(f);
    store_login_t in = login_of("o-idle", NOW);
    store_user_t u = login_ok(store, &in), again;
    int64_t first = store_connection_id(db);

    /* Used again at once: no ping (COM_PING counts as an admin command; ours send none). */
    int64_t pings = global_status(db, "COM_ADMIN_COMMANDS");
    assert_int_equal(store_user_get(store, u.id, &again), STORE_OK);
    assert_int_equal(global_status(db, "COM_ADMIN_COMMANDS"), pings);

    /* Idle past the ping interval (1 s), not past the timeout: one ping, the connection kept. */
    usleep(1300 * 1000);
    assert_int_equal(store_user_get(store, u.id, &again), STORE_OK);
    assert_same_user(&u, &again);
    assert_int_equal(global_status(db, "COM_ADMIN_COMMANDS"), pings + 1);
    assert_int_equal(store_connection_id(db), first);

    /* Idle until the server closed it: a login (a transaction) works on the first try. */
    wait_connection_gone(db, first);
    in.now = NOW + 10;
    if (store_user_login(store, &in, &again) != STORE_OK)
        fail_msg("first login after the wait_timeout: %s", store_last_error(store));
    assert_int_equal(again.id, u.id);
    assert_int_equal(again.last_login_time, NOW + 10);
    int64_t second = store_connection_id(db);
    assert_true(second != first);

    /* And a read, after the new connection timed out too. */
    wait_connection_gone(db, second);
    if (store_user_get(store, u.id, &again) != STORE_OK)
        fail_msg("first read after the wait_timeout: %s", store_last_error(store));
    assert_int_equal(again.last_login_time, NOW + 10);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 1);
    store_close(store);
    raw_close(root);
    raw_close(db);
}

/* Connections killed while idle (an administrator, a proxy): each next call works at once. */
static void test_reconnect_after_kill_while_idle(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-kill", NOW);
    store_user_t u = login_ok(store, &in), again;
    raw_t *db = raw_open(f);

    /* A read. */
    kill_store_connections(db);
    time_t t0 = time(NULL);
    if (store_user_get(store, u.id, &again) != STORE_OK)
        fail_msg("user_get after a kill: %s", store_last_error(store));
    assert_true(time(NULL) - t0 <= 2);
    assert_same_user(&u, &again);

    /* A transaction (the login), and no second row. */
    kill_store_connections(db);
    in.now = NOW + 10;
    again = login_ok(store, &in);
    assert_int_equal(again.id, u.id);
    assert_int_equal(again.last_login_time, NOW + 10);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 1);

    /* The schema version, and a session's insert and read. */
    kill_store_connections(db);
    int version = -1;
    assert_int_equal(store_schema_version(store, &version), STORE_OK);
    assert_int_equal(version, store_schema_latest());
    store_session_t s = session_of(u.id, 40, NOW + 100), got;
    kill_store_connections(db);
    assert_int_equal(store_session_insert(store, &s), STORE_OK);
    kill_store_connections(db);
    assert_int_equal(store_session_get(store, s.token_hash, &got, NULL), STORE_OK);
    assert_memory_equal(got.session_key_sealed, s.session_key_sealed, s.session_key_sealed_len);
    raw_close(db);
    store_close(store);
}

typedef struct blocked_login {
    store_t *store;
    store_login_t in;
    store_rc rc;
} blocked_login_t;

static void *blocked_login_run(void *arg)
{
    blocked_login_t *b = arg;
    store_user_t u;
    b->rc = store_user_login(b->store, &b->in, &u);
    return NULL;
}

/* The id of our user's other connection that is executing a statement; 0 after ~3 s without. */
static int64_t executing_connection(raw_t *db)
{
    static const char sql[] = "SELECT coalesce(max(id), 0) FROM information_schema.processlist"
                              " WHERE id <> CONNECTION_ID() AND user = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"
                              " AND command = 'Execute'";
    int64_t id = 0;
    for (int i = 0; i < 150 && (id = raw_int(db, sql)) == 0; i++)
        usleep(20 * 1000);
    return id;
}

/* A connection killed during a call (a login waiting for a row lock): that call fails with
 * "database unavailable" (the store does not repeat a write whose fate it cannot know), no
 * change is left behind, and the next call works. */
static void test_connection_lost_during_call(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-lost", NOW);
    store_user_t u = login_ok(store, &in);
    raw_t *db = raw_open(f);
    raw_exec(db, "START TRANSACTION");
    raw_exec(db, "UPDATE wx_user SET nickname = 'held' WHERE weixin_openid = 'o-lost'");
    blocked_login_t b = {.store = store, .in = in};
    b.in.now = NOW + 10;
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, blocked_login_run, &b), 0);
    int64_t id = executing_connection(db);
    char sql[64];
    snprintf(sql, sizeof sql, "KILL CONNECTION %lld", (long long)id);
    if (id == 0 || mysql_query(db, sql) != 0)
        fail_msg("no login to kill (%lld): %s", (long long)id, mysql_error(db));
    assert_int_equal(pthread_join(thread, NULL), 0);
    raw_exec(db, "ROLLBACK");
    assert_int_equal(b.rc, STORE_ERROR);
    assert_unavailable(store, "user_login");
    store_user_t again;
    assert_int_equal(store_user_get(store, u.id, &again), STORE_OK); /* the next call works */
    assert_int_equal(again.last_login_time, NOW);                    /* the killed login left nothing */
    in.now = NOW + 20;
    again = login_ok(store, &in);
    assert_int_equal(again.id, u.id);
    assert_int_equal(again.last_login_time, NOW + 20);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM wx_user"), 1);
    raw_close(db);
    store_close(store);
}

/* A row lock held longer than the lock wait timeout: STORE_ERROR that says so. Takes ~5 s. */
static void test_login_busy_beyond_lock_wait(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-busy-secret", NOW);
    login_ok(store, &in);
    raw_t *db = raw_open(f);
    raw_exec(db, "START TRANSACTION");
    raw_exec(db, "UPDATE wx_user SET nickname = 'held' WHERE weixin_openid = 'o-busy-secret'");
    store_user_t u;
    time_t t0 = time(NULL);
    assert_int_equal(store_user_login(store, &in, &u), STORE_ERROR);
    assert_true(time(NULL) - t0 >= 4);
    assert_true(time(NULL) - t0 <= 9);
    const char *msg = store_last_error(store);
    if (strstr(msg, "user_login: database is busy") == NULL)
        fail_msg("unexpected error text: %s", msg);
    assert_null(strstr(msg, "o-busy-secret"));
    raw_exec(db, "ROLLBACK");
    u = login_ok(store, &in); /* the connection was not lost */
    assert_string_equal(u.nickname, "");
    raw_close(db);
    store_close(store);
}

/* A server that accepts TCP connections but never speaks: store_open gives up in time. */
static void test_silent_server_fails_fast(void **state)
{
    fixture_t *f = *state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    char url[256], err[256] = "";
    snprintf(url, sizeof url, "mysql://%s:pw-secret-1@127.0.0.1:%u/%s", f->user, ntohs(addr.sin_port), f->db);
    time_t t0 = time(NULL);
    assert_null(store_open(url, err, sizeof err));
    time_t spent = time(NULL) - t0;
    close(fd);
    if (spent > 12)
        fail_msg("store_open took %lld s", (long long)spent);
    assert_non_null(strstr(err, "cannot connect"));
    assert_null(strstr(err, "pw-secret-1"));

    /* Nothing listens at all: refused at once. */
    t0 = time(NULL);
    assert_null(store_open(url, err, sizeof err));
    assert_true(time(NULL) - t0 <= 2);
    assert_non_null(strstr(err, "cannot connect"));
    assert_null(strstr(err, "pw-secret-1"));
}

static void open_ok(const char *url)
{
    char err[256] = "";
    store_t *store = store_open(url, err, sizeof err);
    if (store == NULL)
        fail_msg("store_open: %s", err);
    int version = -1;
    assert_int_equal(store_schema_version(store, &version), STORE_OK);
    assert_int_equal(version, 0);
    assert_string_equal(store_backend_name(store), "mysql");
    store_close(store);
}

static void test_password_from_environment(void **state)
{
    fixture_t *f = *state;
    char url[512], err[256] = "";
    snprintf(url, sizeof url, "mysql://%s@%s:%u/%s", f->user, f->host, f->port, f->db);
    setenv("MEETOA_DB_PASSWORD", f->password, 1);
    open_ok(url);
    setenv("MEETOA_DB_PASSWORD", "wrong-secret-2", 1);
    assert_null(store_open(url, err, sizeof err));
    assert_non_null(strstr(err, "cannot connect"));
    assert_null(strstr(err, "wrong-secret-2"));
    /* A password in the url wins over the environment. */
    open_ok(f->url);
    unsetenv("MEETOA_DB_PASSWORD");
    assert_null(store_open(url, err, sizeof err)); /* no password at all */
}

/* Every byte of user name and password percent-encoded, and "mariadb:" as the scheme. */
static void test_percent_decoding(void **state)
{
    fixture_t *f = *state;
    char url[1024], *p = url;
    p += sprintf(p, "mariadb://");
    for (const char *c = f->user; *c != '\0'; c++)
        p += sprintf(p, "%%%02X", (unsigned char)*c);
    *p++ = ':';
    for (const char *c = f->password; *c != '\0'; c++)
        p += sprintf(p, "%%%02x", (unsigned char)*c);
    sprintf(p, "@%s:%u/%s", f->host, f->port, f->db);
    open_ok(url);
}

static void test_unix_socket(void **state)
{
    fixture_t *f = *state;
    raw_t *db = raw_open(f);
    char sock[256], url[1024];
    raw_text(db, "SELECT @@socket", sock, sizeof sock);
    raw_close(db);
    snprintf(url, sizeof url, "mysql://%s:%s@localhost/%s?socket=%s", f->user, f->password, f->db, sock);
    open_ok(url);
}

static void test_bad_urls(void **state)
{
    static const char *const bad[] = {
        "mysql:",
        "mysql:host/db",
        "mysql://127.0.0.1/meetoa",
        "mysql://u:pw-secret-3@127.0.0.1",
        "mysql://u:pw-secret-3@127.0.0.1/",
        "mysql://u:pw-secret-3@127.0.0.1:0/db",
        "mysql://u:pw-secret-3@127.0.0.1:65536/db",
        "mysql://u:pw-secret-3@127.0.0.1:12a/db",
        "mysql://u:pw-secret-3%zz@127.0.0.1/db",
        "mysql://u:pw-secret-3%4@127.0.0.1/db",
        "mysql://u:pw-secret-3%00@127.0.0.1/db",
        "mysql://:pw-secret-3@127.0.0.1/db",
        "mysql://u:pw-secret-3@/db",
        "mysql://u:pw-secret-3@[::1/db",
        "mysql://u:pw-secret-3@127.0.0.1/db?user=root",
        "mysql://u:pw-secret-3@localhost/db?socket=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        store_t *store = store_open(bad[i], err, sizeof err);
        if (store != NULL)
            fail_msg("accepted: %s", bad[i]);
        if (err[0] == '\0' || strstr(err, "pw-secret-3") != NULL)
            fail_msg("%s: error text '%s'", bad[i], err);
        if (i >= 2 && strstr(err, "bad mysql datasource url") == NULL)
            fail_msg("%s: error text '%s'", bad[i], err);
    }
}

int main(void)
{
    const char *url = getenv(URL_ENV);
    if (url == NULL || url[0] == '\0') {
        fprintf(stderr,
                "test_store_mysql: FAILED: %s is not set. It names the MariaDB/MySQL database to test "
                "(mysql://user:password@host:port/db); start a private server with\n"
                "  set -a; eval \"$(scripts/mariadb.sh start)\"; set +a\n"
                "and stop it afterwards with scripts/mariadb.sh stop\n",
                URL_ENV);
        return 1;
    }
    setenv("TZ", "CST-8", 1); /* China Standard Time, no DST */
    tzset();
    const struct CMUnitTest tests[] = {
        STORE_CASES(setup, teardown),
        ORG_CASES(setup, teardown),
        SESSION_CASES(setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_innodb_utf8mb4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_rerun_after_partial_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements_prepared_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_past_wait_timeout, setup, teardown_wait_timeout),
        cmocka_unit_test_setup_teardown(test_reconnect_after_kill_while_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_lost_during_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_busy_beyond_lock_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_server_fails_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_from_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_percent_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    mysql_library_end();
    return failed;
}
