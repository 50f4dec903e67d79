/*
 * test_store — the store's verbs on the SQLite backend, against real database files in a
 * fresh temporary folder per test: migrations (fresh, idempotent, upgrade of a v1 database
 * with its rows, refusal of a newer schema, several connections migrating at once), the
 * login upsert (columns and defaults of a new row, what a returning login changes, one row
 * under concurrent first logins from several threads and from several processes),
 * sessions, status, profile, mobile binding (also by several connections at once), 4-byte
 * emoji, WAL mode, deferred checkpoints, open failures, a lock held past the busy timeout, and
 * error texts that carry no parameter value. Columns the struct does not carry are read with
 * direct sqlite3 queries. TZ is fixed so DATETIME text is predictable. The checks that hold on every
 * backend live in store_cases.h (shared with test_store_mysql.c); this file adds the
 * SQLite-only ones (busy timeout, WAL, file paths, :memory:).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/text.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_sql.h"

#define NOW       INT64_C(1795000000) /* 2026-11-18, a fixed "now" */
#define N_THREADS 8

typedef struct fixture {
    char dir[64];   /* the temporary folder */
    char path[128]; /* dir/sub/meetoa.db: "sub" does not exist yet */
    char url[160];  /* "sqlite:" path */
    char wal[136];  /* path "-wal": the WAL next to it */
} fixture_t;

/* ---- fixture and direct access ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/meetoa-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/sub/meetoa.db", f->dir);
    snprintf(f->url, sizeof f->url, "sqlite:%s", f->path);
    snprintf(f->wal, sizeof f->wal, "%s-wal", f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

typedef sqlite3 raw_t;

static raw_t *raw_open(const fixture_t *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void raw_exec(raw_t *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* The one integer answer of sql (a NULL answer reads as -1). */
static int64_t raw_int(raw_t *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The one text answer of sql, copied to out ("(null)" for NULL). */
static void raw_text(raw_t *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", t != NULL ? (const char *)t : "(null)");
    sqlite3_finalize(st);
}

static void raw_close(raw_t *db)
{
    sqlite3_close(db);
}

static int raw_schema_objects(raw_t *db)
{
    return (int)raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('wx_user', 'wx_session', "
                            "'wx_session_user_id', 'wx_session_expires_at', 'wx_user_mobile')");
}

/* SQLite has no DATETIME type: the column holds text, as in the original system's dumps. */
static void raw_check_datetime_column(raw_t *db, const char *openid)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT typeof(add_time) FROM wx_user WHERE weixin_openid = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, openid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "text");
    sqlite3_finalize(st);
}

#define RAW_CHAR_LENGTH(col) "length(" col ")"
#define RAW_BYTE_LENGTH(col) "length(CAST(" col " AS blob))"
#define STORE_CASES_BACKEND  "sqlite"

#include "store_cases.h"
#include "org_cases.h"
#include "session_cases.h"

/* ---- SQLite only ---- */

static void test_login_busy_beyond_timeout(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    raw_t *db = raw_open(f);
    raw_exec(db, "BEGIN IMMEDIATE");
    store_login_t in = login_of("o-busy-secret", NOW);
    store_user_t u;
    time_t t0 = time(NULL);
    assert_int_equal(store_user_login(store, &in, &u), STORE_ERROR);
    assert_true(time(NULL) - t0 >= 4);
    const char *msg = store_last_error(store);
    if (strstr(msg, "user_login: database is busy") == NULL)
        fail_msg("unexpected error text: %s", msg);
    assert_null(strstr(msg, "o-busy-secret"));
    raw_exec(db, "ROLLBACK");
    login_ok(store, &in);
    sqlite3_close(db);
    store_close(store);
}

static void test_wal_mode(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-wal", NOW);
    login_ok(store, &in);
    raw_t *db = raw_open(f);
    char mode[16];
    raw_text(db, "PRAGMA journal_mode", mode, sizeof mode); /* WAL is recorded in the file */
    assert_string_equal(mode, "wal");
    sqlite3_close(db);
    struct stat sb;
    assert_int_equal(stat(f->wal, &sb), 0); /* the store's connection still has it open */
    store_close(store);
}

/* ---- deferred checkpoints (store_defer_upkeep, store_upkeep) ---- */

#define FRAME_BYTES (4096 + 24) /* a WAL frame: a page and its header */

static long wal_bytes(const fixture_t *f)
{
    struct stat sb;
    return stat(f->wal, &sb) == 0 ? (long)sb.st_size : 0;
}

/* n rows of about a page each, one commit each; with upkeep, store_upkeep after every commit. */
static void put_pages(store_t *store, int n, bool upkeep)
{
    static const store_sql_t put = {"filler_put", "INSERT INTO filler (body) VALUES (?)", NULL};
    static uint8_t body[3000];
    for (int i = 0; i < n; i++) {
        memcpy(body, &i, sizeof i);
        assert_int_equal(
            store_sql_exec(store, &put, STORE_ARGS(store_arg_blob(body, sizeof body)), 1, NULL, NULL, NULL), STORE_OK);
        if (upkeep)
            assert_int_equal(store_upkeep(store), STORE_OK);
    }
}

/* Once deferred, a commit no longer checkpoints (SQLite's autocheckpoint would have started the
 * WAL over at 1,000 pages); store_upkeep does, so the WAL is started over again and again and
 * its file stops growing; a reader that holds an old snapshot keeps it from being copied back,
 * and store_upkeep neither fails nor waits long for it; once the reader is gone, the WAL is
 * copied back whole and started over. No row is lost. */
static void test_deferred_checkpoint(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    raw_t *db = raw_open(f);
    raw_exec(db, "CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)");
    store_defer_upkeep(store);

    put_pages(store, 1500, false);
    long grown = wal_bytes(f);
    assert_true(grown >= 1500L * FRAME_BYTES);

    /* about three pages a commit (the row's, the tree's, the header's): 9,000 more without a
     * start over; with them, the file holds the WAL as it was (and the first commit's) */
    put_pages(store, 3000, true);
    assert_true(wal_bytes(f) <= grown + 10L * FRAME_BYTES);

    raw_exec(db, "BEGIN");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM filler"), 4500); /* a snapshot held */
    time_t t0 = time(NULL);
    put_pages(store, 4500, true);
    assert_true(time(NULL) - t0 < 10); /* RESTART waited 200 ms for the reader at most, once per 1,000 pages */
    long held = wal_bytes(f);
    assert_true(held >= 4500L * FRAME_BYTES);
    raw_exec(db, "COMMIT");

    put_pages(store, 6000, true);
    assert_true(wal_bytes(f) < held + 2000L * FRAME_BYTES); /* not 6,000 pages more: started over */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM filler"), 15000);
    sqlite3_close(db);
    store_close(store);
}

/* A new database file, and the WAL next to it, are private to the service user; an existing
 * file keeps the mode its owner chose. */
static void test_new_file_is_private(void **state)
{
    fixture_t *f = *state;
    mode_t old = umask(022);
    store_t *store = open_migrated(f);
    store_login_t in = login_of("o-private", NOW);
    login_ok(store, &in);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(stat(f->wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    store_close(store);

    assert_int_equal(chmod(f->path, 0640), 0);
    store = open_migrated(f);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    store_close(store);
    umask(old);
}

static void test_open_failures(void **state)
{
    fixture_t *f = *state;
    char err[256];

    /* The parent "folder" is a regular file: the folder cannot be made. */
    char file[128], url[192];
    snprintf(file, sizeof file, "%s/plain-file", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(url, sizeof url, "sqlite:%s/sub/meetoa.db", file);
    err[0] = '\0';
    assert_null(store_open(url, err, sizeof err));
    assert_non_null(strstr(err, "cannot create folder"));

    /* The file's own folder is a regular file. */
    snprintf(url, sizeof url, "sqlite:%s/meetoa.db", file);
    err[0] = '\0';
    assert_null(store_open(url, err, sizeof err));
    assert_non_null(strstr(err, "cannot open sqlite database"));

    /* The database path is a folder. */
    snprintf(url, sizeof url, "sqlite:%s", f->dir);
    err[0] = '\0';
    assert_null(store_open(url, err, sizeof err));
    assert_non_null(strstr(err, "cannot open sqlite database"));

    err[0] = '\0';
    assert_null(store_open("sqlite:", err, sizeof err));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_null(store_open("postgres://db/meetoa", err, sizeof err));
    assert_non_null(strstr(err, "unknown datasource url scheme"));
    err[0] = '\0';
    assert_null(store_open(NULL, err, sizeof err));
    assert_true(err[0] != '\0');
}

static void test_memory_database(void **state)
{
    char err[256] = "";
    store_t *store = store_open("sqlite::memory:", err, sizeof err);
    if (store == NULL)
        fail_msg("store_open: %s", err);
    int from = -1, to = -1;
    assert_int_equal(store_migrate(store, &from, &to), STORE_OK);
    assert_int_equal(from, 0);
    assert_int_equal(to, store_schema_latest());
    store_login_t in = login_of("o-mem", NOW);
    store_user_t u = login_ok(store, &in), again;
    assert_int_equal(store_user_get_by_openid(store, "o-mem", &again), STORE_OK);
    assert_same_user(&u, &again);
    store_close(store);
}

int main(void)
{
    setenv("TZ", "CST-8", 1); /* China Standard Time, no DST */
    tzset();
    const struct CMUnitTest tests[] = {
        STORE_CASES(setup, teardown),
        ORG_CASES(setup, teardown),
        SESSION_CASES(setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_busy_beyond_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_file_is_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
        cmocka_unit_test(test_memory_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
