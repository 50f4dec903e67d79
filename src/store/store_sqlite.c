/*
 * store_sqlite — the SQLite backend of the store (store_backend.h).
 *
 * One sq_store_t is one sqlite3 connection, used by one thread at a time (the database
 * pool gives each worker its own). The connection runs in WAL mode (readers never block
 * the writer), synchronous=NORMAL (durable across process crashes; a power cut may lose
 * the last commits, never corrupt), a 5 s busy timeout and foreign keys on, and no memory map
 * (PRAGMA mmap_size = 0: pages are read with pread into SQLite's page cache. A map made every
 * page read count in the process's resident memory once per connection (970 MiB with 1,000,000
 * sessions stored, bench/RESULTS.md), and each connection re-mapped the file as it grew, which
 * cost the writes more than the map saved the reads).
 *
 * Statements: every statement text lives in sq_sql[] and is prepared on its first use
 * on a connection (SQLITE_PREPARE_PERSISTENT), then reused: after each use it is reset
 * and its bindings cleared, so no statement holds a read transaction between calls.
 * They are prepared lazily because the tables they name may not exist until
 * store_migrate() ran. Values are always bound, never pasted. The only SQL run without
 * the cache is the migration DDL, which runs once per database and takes no parameters.
 *
 * Concurrency between connections (threads or processes): everything that reads and
 * then writes runs inside BEGIN IMMEDIATE, which takes the database's write lock up
 * front, so the read and the write see the same state: two first logins of one openid,
 * or two processes migrating one file, are serialised and the second sees the first's
 * work. A lock held longer than the busy timeout becomes STORE_ERROR with a message
 * saying so. Group commit (store_batch_begin/_end, store.h): one BEGIN IMMEDIATE and one COMMIT
 * around the verbs of many logins, whose own BEGIN/COMMIT/ROLLBACK are then skipped (sq_begin,
 * sq_finish); a commit writes each changed page to the WAL once for all of them, which is
 * most of a login's cost on its own (WAL frames, and the checkpoints that copy them back).
 * The pool's connections checkpoint after the answers, not inside a COMMIT (store_defer_upkeep,
 * sq_upkeep): a batch's logins no longer wait for the 1,000 pages copied back after it.
 *
 * Failures of the file itself (SQLITE_FULL, SQLITE_IOERR: a full disk, a file size limit
 * (EFBIG: main.c ignores SIGXFSZ), an I/O error) become STORE_ERROR saying the file's I/O
 * failed, with SQLite's extended code (and the errno when SQLite still has it). A
 * failed statement inside a transaction is rolled back (sq_finish; SQLite may have done it
 * already), and every statement is reset after use, so the connection is usable again as
 * soon as the file can be written: no reopen, no restart. Each store call is one
 * transaction, and a whole login (user row, mobile, session) is one store call
 * (store_login_session), so a full disk never leaves a user row without its session.
 *
 * Error texts: "operation: sqlite's message". SQLite's messages name tables, columns and
 * constraints, never bound values, so no parameter reaches a log through them.
 */
#include "store/store_backend.h"
#include "store/migrations.h"
#include "common/text.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SQ_BUSY_TIMEOUT_MS     5000
#define SQ_BATCH_BEGIN_WAIT_MS 200 /* store_batch_begin()'s wait for the write lock */

enum sq_stmt_id {
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_HAS_VERSION_TABLE,
    SQ_VERSION,
    SQ_VERSION_ADD,
    SQ_USER_UPSERT,
    SQ_USER_BY_ID,
    SQ_USER_BY_OPENID,
    SQ_USER_SET_STATUS,
    SQ_USER_UPDATE_PROFILE,
    SQ_USER_MOBILE_TAKEN,
    SQ_USER_SET_MOBILE,
    SQ_SESSION_INSERT,
    SQ_SESSION_GET,
    SQ_SESSION_DELETE,
    SQ_SESSION_PURGE,
    SQ_COUNT
};

/* The wx_user columns of store_user_t, in the order sq_read_user() reads them. */
#define SQ_USER_COLS                                                                                                   \
    "u.id, u.username, u.weixin_openid, u.unionid, u.nickname, u.avatar, u.mobile, u.last_login_ip, u.gender, "        \
    "u.user_level, u.status, u.deleted, u.add_time, u.update_time, u.last_login_time"
#define SQ_USER_NCOLS 15

static const char *const sq_sql[SQ_COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_HAS_VERSION_TABLE] = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
    [SQ_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
    [SQ_VERSION_ADD] = "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
    [SQ_USER_UPSERT] = "INSERT INTO wx_user (username, weixin_openid, unionid, nickname, avatar, gender, status,"
                       " last_login_time, last_login_ip, add_time, update_time)"
                       " VALUES (?1, ?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?6, ?6)"
                       " ON CONFLICT (weixin_openid) DO UPDATE SET"
                       " last_login_time = excluded.last_login_time,"
                       " last_login_ip = excluded.last_login_ip,"
                       " update_time = excluded.update_time,"
                       " unionid = CASE WHEN excluded.unionid <> '' THEN excluded.unionid ELSE wx_user.unionid END",
    [SQ_USER_BY_ID] = "SELECT " SQ_USER_COLS " FROM wx_user u WHERE u.id = ?1",
    [SQ_USER_BY_OPENID] = "SELECT " SQ_USER_COLS " FROM wx_user u WHERE u.weixin_openid = ?1",
    [SQ_USER_SET_STATUS] = "UPDATE wx_user SET status = ?1, update_time = ?2 WHERE weixin_openid = ?3",
    [SQ_USER_UPDATE_PROFILE] = "UPDATE wx_user SET nickname = coalesce(?1, nickname), avatar = coalesce(?2, avatar),"
                               " gender = CASE WHEN ?3 >= 0 THEN ?3 ELSE gender END, update_time = ?4 WHERE id = ?5",
    [SQ_USER_MOBILE_TAKEN] =
        "SELECT 1 FROM wx_user WHERE mobile = ?1 AND id <> ?2 AND coalesce(deleted, 0) = 0 LIMIT 1",
    [SQ_USER_SET_MOBILE] = "UPDATE wx_user SET mobile = ?1, update_time = ?2 WHERE id = ?3",
    [SQ_SESSION_INSERT] = "INSERT INTO wx_session (token_hash, user_id, created_at, expires_at, session_key_sealed,"
                          " last_used_at, login_ip, last_ip) VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?6, ?6)",
    [SQ_SESSION_GET] = "SELECT ws.user_id, ws.created_at, ws.expires_at, ws.session_key_sealed, ws.last_used_at,"
                       " ws.renewed_at, " SQ_USER_COLS
                       " FROM wx_session ws JOIN wx_user u ON u.id = ws.user_id WHERE ws.token_hash = ?1",
    [SQ_SESSION_DELETE] = "DELETE FROM wx_session WHERE token_hash = ?1",
    [SQ_SESSION_PURGE] = "DELETE FROM wx_session WHERE expires_at < ?1",
};

/* Statements of the statement layer (store_sql.h), keyed by their store_sql_t's address:
 * an open-addressing table; when it is full a statement is prepared for one use only. */
#define SQ_QCACHE_SIZE 256

typedef struct sq_qcache_entry {
    const store_sql_t *sql;
    sqlite3_stmt *st;
} sq_qcache_entry_t;

typedef struct sq_store {
    struct store base; /* first: a store_t * is a sq_store_t * */
    sqlite3 *db;
    sqlite3_stmt *stmts[SQ_COUNT]; /* NULL until first use */
    sq_qcache_entry_t qcache[SQ_QCACHE_SIZE];
    /* store_defer_upkeep(): the WAL's length after this connection's last commit, the length at
     * which it checkpoints next, and whether that is due (sq_wal_hook, sq_upkeep) */
    int wal_pages, checkpoint_at;
    bool checkpoint_due;
} sq_store_t;

static sq_store_t *sq_of(store_t *store)
{
    return (sq_store_t *)store;
}

/* ---- errors, statements, transactions ---- */

/* Records the connection's current error for op; returns the store_rc it maps to. */
static store_rc sq_fail(sq_store_t *s, const char *op, int rc)
{
    int primary = rc & 0xff;
    if (rc == SQLITE_BUSY_SNAPSHOT)
        return store_error_set(&s->base, STORE_ERROR, op,
                               "database is busy: another connection wrote since this transaction began (%s)",
                               sqlite3_errmsg(s->db));
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return store_error_set(&s->base, STORE_ERROR, op,
                               "database is busy: another connection held its lock longer than the %d ms busy "
                               "timeout (%s)",
                               SQ_BUSY_TIMEOUT_MS, sqlite3_errmsg(s->db));
    if (primary == SQLITE_FULL || primary == SQLITE_IOERR) {
        int err = sqlite3_system_errno(s->db); /* often 0 by now: the rollback reset it */
        return store_error_set(&s->base, STORE_ERROR, op,
                               "database file I/O failed: %s (sqlite code %d%s%s); is the disk full or the file "
                               "size limited?",
                               sqlite3_errmsg(s->db), rc, err != 0 ? ", " : "", err != 0 ? strerror(err) : "");
    }
    store_rc mapped = primary == SQLITE_CONSTRAINT ? STORE_CONFLICT : STORE_ERROR;
    return store_error_set(&s->base, mapped, op, "%s", sqlite3_errmsg(s->db));
}

/* The cached statement id, prepared on first use. */
static store_rc sq_stmt(sq_store_t *s, enum sq_stmt_id id, const char *op, sqlite3_stmt **out)
{
    if (s->stmts[id] == NULL) {
        int rc = sqlite3_prepare_v3(s->db, sq_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL);
        if (rc != SQLITE_OK)
            return sq_fail(s, op, rc);
    }
    *out = s->stmts[id];
    return STORE_OK;
}

/* Makes a statement ready for its next use. */
static void sq_release(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* For a failed bind: records the error and releases the statement. */
static store_rc sq_bind_failed(sq_store_t *s, sqlite3_stmt *st, const char *op)
{
    store_rc ret = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    sq_release(st);
    return ret;
}

/* Runs a statement that returns no row; *changes (may be NULL) gets the rows it changed.
 * Always releases the statement. */
static store_rc sq_step_done(sq_store_t *s, sqlite3_stmt *st, const char *op, int *changes)
{
    int rc = sqlite3_step(st);
    store_rc ret = STORE_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    else if (changes != NULL)
        *changes = sqlite3_changes(s->db);
    sq_release(st);
    return ret;
}

/* Runs a cached statement that takes no parameter (BEGIN, COMMIT, ROLLBACK). */
static store_rc sq_run(sq_store_t *s, enum sq_stmt_id id, const char *op)
{
    sqlite3_stmt *st = NULL;
    store_rc rc = sq_stmt(s, id, op, &st);
    return rc != STORE_OK ? rc : sq_step_done(s, st, op, NULL);
}

/* Opens a verb's transaction; inside a batch (store.h) the batch's is used instead. */
static store_rc sq_begin(sq_store_t *s, const char *op)
{
    return s->base.batch ? STORE_OK : sq_run(s, SQ_BEGIN, op);
}

/* Rolls back the open transaction, if any; keeps the store's error text as it was. */
static void sq_rollback(sq_store_t *s)
{
    if (sqlite3_get_autocommit(s->db))
        return; /* no transaction open (SQLite may have rolled it back itself) */
    char saved[STORE_ERROR_SIZE];
    memcpy(saved, s->base.error, sizeof saved);
    (void)sq_run(s, SQ_ROLLBACK, "rollback");
    memcpy(s->base.error, saved, sizeof saved);
}

/* Commits when rc is STORE_OK, else rolls back; returns the final rc. */
static store_rc sq_finish(sq_store_t *s, const char *op, store_rc rc)
{
    if (s->base.batch) { /* the batch commits or rolls back everything at its end */
        if (rc != STORE_OK)
            s->base.batch_failed = true;
        return rc;
    }
    if (rc == STORE_OK)
        rc = sq_run(s, SQ_COMMIT, op);
    if (rc != STORE_OK)
        sq_rollback(s);
    return rc;
}

/* ---- binding and reading values ---- */

static int sq_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
}

/* Binds epoch seconds as local DATETIME text; 0 binds NULL. */
static int sq_bind_time(sqlite3_stmt *st, int i, int64_t epoch)
{
    if (epoch == 0)
        return sqlite3_bind_null(st, i);
    char text[TEXT_SQLTIME_SIZE];
    text_sqltime(epoch, text);
    return sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

static bool sq_column_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    if (text == NULL) {
        dst[0] = '\0';
        return sqlite3_column_type(st, col) == SQLITE_NULL; /* else out of memory */
    }
    return text_copy(dst, size, (const char *)text, (size_t)sqlite3_column_bytes(st, col));
}

static bool sq_column_time(sqlite3_stmt *st, int col, int64_t *epoch)
{
    *epoch = 0;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return true;
    const char *text = (const char *)sqlite3_column_text(st, col);
    return text != NULL && text_sqltime_parse(text, epoch);
}

/* Reads the SQ_USER_COLS starting at column col0 of the current row. */
static store_rc sq_read_user(sq_store_t *s, sqlite3_stmt *st, int col0, const char *op, store_user_t *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, col0);
    bool ok = sq_column_copy(st, col0 + 1, out->username, sizeof out->username) &&
              sq_column_copy(st, col0 + 2, out->openid, sizeof out->openid) &&
              sq_column_copy(st, col0 + 3, out->unionid, sizeof out->unionid) &&
              sq_column_copy(st, col0 + 4, out->nickname, sizeof out->nickname) &&
              sq_column_copy(st, col0 + 5, out->avatar, sizeof out->avatar) &&
              sq_column_copy(st, col0 + 6, out->mobile, sizeof out->mobile) &&
              sq_column_copy(st, col0 + 7, out->last_login_ip, sizeof out->last_login_ip);
    if (!ok)
        return store_error_set(&s->base, STORE_ERROR, op, "a wx_user text column is longer than its field");
    out->gender = sqlite3_column_int(st, col0 + 8);
    out->user_level = sqlite3_column_int(st, col0 + 9);
    out->status = sqlite3_column_int(st, col0 + 10);
    out->deleted = sqlite3_column_int(st, col0 + 11) != 0;
    ok = sq_column_time(st, col0 + 12, &out->add_time) && sq_column_time(st, col0 + 13, &out->update_time) &&
         sq_column_time(st, col0 + 14, &out->last_login_time);
    if (!ok)
        return store_error_set(&s->base, STORE_ERROR, op, "a wx_user datetime column is malformed");
    return STORE_OK;
}

/* Steps a bound user query and reads its row. Always releases the statement. */
static store_rc sq_user_row(sq_store_t *s, sqlite3_stmt *st, const char *op, store_user_t *out)
{
    int rc = sqlite3_step(st);
    store_rc ret;
    if (rc == SQLITE_ROW)
        ret = sq_read_user(s, st, 0, op, out);
    else if (rc == SQLITE_DONE)
        ret = store_error_set(&s->base, STORE_NOT_FOUND, op, "no such user");
    else
        ret = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    sq_release(st);
    return ret;
}

/* ---- opening and closing ---- */

/* mkdir -p of the folder holding path. */
static int sq_make_parent(const char *path, char *err, size_t err_size)
{
    char *dir = strdup(path);
    if (dir == NULL) {
        snprintf(err, err_size, "store: out of memory");
        return -1;
    }
    int ret = 0;
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; ret == 0; p++) {
            bool last = *p == '\0';
            if (*p != '/' && !last)
                continue;
            *p = '\0';
            if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
                snprintf(err, err_size, "store: cannot create folder '%s': %s", dir, strerror(errno));
                ret = -1;
            }
            if (last)
                break;
            *p = '/';
        }
    }
    free(dir);
    return ret;
}

/* Runs a PRAGMA and copies its one-row answer (if any) into answer. */
static int sq_pragma(sqlite3 *db, const char *sql, char *answer, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    answer[0] = '\0';
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);
        snprintf(answer, size, "%s", text != NULL ? (const char *)text : "");
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

#define SQ_MMAP_BYTES "0" /* no memory map (see the top of this file) */

/* Applies the connection settings; writes the reason to err and returns false on failure. */
static bool sq_configure(sqlite3 *db, bool memory, char *err, size_t err_size)
{
    char answer[32];
    const char *step = "busy_timeout";
    int rc = sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK) {
        step = "journal_mode";
        /* Another connection opening the file at the same moment (recovering its WAL) can make
         * this SQLITE_BUSY at once, without the busy handler: tried again for the busy timeout. */
        for (int waited_ms = 0;; waited_ms++) {
            rc = sq_pragma(db, "PRAGMA journal_mode = WAL", answer, sizeof answer);
            if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= SQ_BUSY_TIMEOUT_MS)
                break;
            usleep(1000);
        }
    }
    if (rc == SQLITE_OK && strcasecmp(answer, memory ? "memory" : "wal") != 0) {
        snprintf(err, err_size, "WAL mode did not take (journal_mode is '%s')", answer);
        return false;
    }
    if (rc == SQLITE_OK) {
        step = "synchronous";
        rc = sq_pragma(db, "PRAGMA synchronous = NORMAL", answer, sizeof answer);
    }
    if (rc == SQLITE_OK && !memory) {
        step = "mmap_size";
        rc = sq_pragma(db, "PRAGMA mmap_size = " SQ_MMAP_BYTES, answer, sizeof answer);
    }
    if (rc == SQLITE_OK) {
        step = "foreign_keys";
        rc = sq_pragma(db, "PRAGMA foreign_keys = ON", answer, sizeof answer);
    }
    if (rc == SQLITE_OK)
        rc = sq_pragma(db, "PRAGMA foreign_keys", answer, sizeof answer);
    if (rc == SQLITE_OK && strcmp(answer, "1") != 0) {
        snprintf(err, err_size, "foreign keys could not be enabled");
        return false;
    }
    if (rc != SQLITE_OK)
        snprintf(err, err_size, "%s: %s", step, sqlite3_errmsg(db));
    return rc == SQLITE_OK;
}

static void sq_close(store_t *store)
{
    sq_store_t *s = sq_of(store);
    for (int i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    for (int i = 0; i < SQ_QCACHE_SIZE; i++)
        sqlite3_finalize(s->qcache[i].st);
    sqlite3_close(s->db);
    free(s);
}

static const store_backend_ops_t sq_ops;

/* A new database file is made 0600 before SQLite opens it (it holds sealed session keys and
 * personal data); SQLite gives its -wal and -shm files the database file's mode. An existing
 * file keeps the mode its owner gave it. An empty file is an empty database. */
static int sq_create_private(const char *location, char *err, size_t err_size)
{
    int fd = open(location, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    snprintf(err, err_size, "store: cannot open sqlite database '%s': %s", location, strerror(errno));
    return -1;
}

store_t *store_sqlite_open(const char *location, char *err, size_t err_size)
{
    bool memory = strcmp(location, ":memory:") == 0;
    if (!memory && (sq_make_parent(location, err, err_size) != 0 || sq_create_private(location, err, err_size) != 0))
        return NULL;
    sq_store_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, err_size, "store: out of memory");
        return NULL;
    }
    s->base.ops = &sq_ops;
    char why[STORE_ERROR_SIZE];
    int rc = sqlite3_open_v2(location, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(why, sizeof why, "%s", s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    if (!sq_configure(s->db, memory, why, sizeof why))
        goto fail;
    return &s->base;

fail:
    snprintf(err, err_size, "store: cannot open sqlite database '%s': %s", location, why);
    sq_close(&s->base);
    return NULL;
}

/* ---- schema version and migrations ---- */

static store_rc sq_read_version(sq_store_t *s, const char *op, int *version)
{
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_HAS_VERSION_TABLE, op, &st);
    if (ret != STORE_OK)
        return ret;
    int rc = sqlite3_step(st);
    bool exists = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    if (rc != SQLITE_ROW)
        ret = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    sq_release(st);
    *version = 0;
    if (ret != STORE_OK || !exists)
        return ret;
    if ((ret = sq_stmt(s, SQ_VERSION, op, &st)) != STORE_OK)
        return ret;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    else
        ret = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    sq_release(st);
    return ret;
}

static store_rc sq_schema_version(store_t *store, int *version)
{
    return sq_read_version(sq_of(store), "schema_version", version);
}

/* Runs migration step `version` and records it; inside the caller's transaction. */
static store_rc sq_apply_step(sq_store_t *s, int version)
{
    static const char op[] = "migrate";
    const store_migration_t *m = store_migration_get(version);
    for (const char *const *sql = m->sqlite; *sql != NULL; sql++) {
        int rc = sqlite3_exec(s->db, *sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return store_error_set(&s->base, STORE_ERROR, op, "step %d (%s): %s", version, m->summary,
                                   sqlite3_errmsg(s->db));
    }
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_VERSION_ADD, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sqlite3_bind_int(st, 1, version) != SQLITE_OK || sq_bind_time(st, 2, (int64_t)time(NULL)) != SQLITE_OK) {
        return sq_bind_failed(s, st, op);
    }
    return sq_step_done(s, st, op, NULL);
}

/*
 * One transaction: takes the write lock, reads the version (*before), and when it is
 * below target applies the next step (*after = *before + 1). The version is read after
 * the lock is held, so a process that waited for another one's migration sees its result.
 */
static store_rc sq_migrate_once(sq_store_t *s, int target, int *before, int *after)
{
    static const char op[] = "migrate";
    *before = *after = 0;
    store_rc rc = sq_begin(s, op);
    if (rc != STORE_OK)
        return rc;
    if (sqlite3_exec(s->db, store_migration_bootstrap_sqlite, NULL, NULL, NULL) != SQLITE_OK)
        rc = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    if (rc == STORE_OK)
        rc = sq_read_version(s, op, before);
    *after = *before;
    if (rc == STORE_OK && *before > store_schema_latest())
        rc = store_error_set(&s->base, STORE_ERROR, op,
                             "database schema version %d is newer than this meetoa (%d); upgrade meetoa", *before,
                             store_schema_latest());
    if (rc == STORE_OK && *before < target && (rc = sq_apply_step(s, *before + 1)) == STORE_OK)
        *after = *before + 1;
    return sq_finish(s, op, rc);
}

static store_rc sq_migrate_to(store_t *store, int target, int *from, int *to)
{
    sq_store_t *s = sq_of(store);
    int before = 0, after = 0;
    store_rc rc = sq_migrate_once(s, target, &before, &after);
    *from = before;
    while (rc == STORE_OK && after > before && after < target)
        rc = sq_migrate_once(s, target, &before, &after);
    *to = after;
    return rc;
}

/* ---- users ---- */

static store_rc sq_user_upsert(sq_store_t *s, const store_login_t *in, const char *op)
{
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_USER_UPSERT, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sq_bind_text(st, 1, in->openid) != SQLITE_OK ||
        sq_bind_text(st, 2, in->unionid != NULL ? in->unionid : "") != SQLITE_OK ||
        sq_bind_text(st, 3, in->has_profile ? in->nickname : "") != SQLITE_OK ||
        sq_bind_text(st, 4, in->has_profile ? in->avatar : "") != SQLITE_OK ||
        sqlite3_bind_int(st, 5, in->has_profile ? in->gender : 0) != SQLITE_OK ||
        sq_bind_time(st, 6, in->now) != SQLITE_OK || sq_bind_text(st, 7, in->ip != NULL ? in->ip : "") != SQLITE_OK) {
        return sq_bind_failed(s, st, op);
    }
    return sq_step_done(s, st, op, NULL);
}

static store_rc sq_user_by_openid(sq_store_t *s, const char *openid, const char *op, store_user_t *out)
{
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_USER_BY_OPENID, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sq_bind_text(st, 1, openid) != SQLITE_OK) {
        return sq_bind_failed(s, st, op);
    }
    return sq_user_row(s, st, op, out);
}

static store_rc sq_user_get(store_t *store, int64_t id, store_user_t *out)
{
    static const char op[] = "user_get";
    sq_store_t *s = sq_of(store);
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_USER_BY_ID, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        return sq_bind_failed(s, st, op);
    }
    return sq_user_row(s, st, op, out);
}

static store_rc sq_user_get_by_openid(store_t *store, const char *openid, store_user_t *out)
{
    return sq_user_by_openid(sq_of(store), openid, "user_get_by_openid", out);
}

/* Steps a bound UPDATE/DELETE; STORE_NOT_FOUND (with what) when it changed no row. */
static store_rc sq_change_one(sq_store_t *s, sqlite3_stmt *st, const char *op, const char *what)
{
    int changes = 0;
    store_rc ret = sq_step_done(s, st, op, &changes);
    if (ret == STORE_OK && changes == 0)
        ret = store_error_set(&s->base, STORE_NOT_FOUND, op, "no such %s", what);
    return ret;
}

static store_rc sq_user_set_status(store_t *store, const char *openid, int status, int64_t now)
{
    static const char op[] = "user_set_status";
    sq_store_t *s = sq_of(store);
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_USER_SET_STATUS, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sqlite3_bind_int(st, 1, status) != SQLITE_OK || sq_bind_time(st, 2, now) != SQLITE_OK ||
        sq_bind_text(st, 3, openid) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    return sq_change_one(s, st, op, "user");
}

static store_rc sq_user_update_profile(store_t *store, int64_t id, const char *nickname, const char *avatar, int gender,
                                       int64_t now)
{
    static const char op[] = "user_update_profile";
    sq_store_t *s = sq_of(store);
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_USER_UPDATE_PROFILE, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sq_bind_text(st, 1, nickname) != SQLITE_OK || sq_bind_text(st, 2, avatar) != SQLITE_OK ||
        sqlite3_bind_int(st, 3, gender) != SQLITE_OK || sq_bind_time(st, 4, now) != SQLITE_OK ||
        sqlite3_bind_int64(st, 5, id) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    return sq_change_one(s, st, op, "user");
}

/* STORE_CONFLICT when another live user holds mobile; inside the caller's transaction. */
static store_rc sq_mobile_check(sq_store_t *s, int64_t id, const char *mobile, const char *op)
{
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_USER_MOBILE_TAKEN, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sq_bind_text(st, 1, mobile) != SQLITE_OK || sqlite3_bind_int64(st, 2, id) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        ret = store_error_set(&s->base, STORE_CONFLICT, op, "the mobile number is bound to another user");
    else if (rc != SQLITE_DONE)
        ret = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    sq_release(st);
    return ret;
}

static store_rc sq_mobile_set(sq_store_t *s, int64_t id, const char *mobile, int64_t now, const char *op)
{
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_USER_SET_MOBILE, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sq_bind_text(st, 1, mobile) != SQLITE_OK || sq_bind_time(st, 2, now) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, id) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    return sq_change_one(s, st, op, "user");
}

/* An empty mobile unbinds: it is never "held" by another user. */
static store_rc sq_user_bind_mobile(store_t *store, int64_t id, const char *mobile, bool allow_shared, int64_t now)
{
    static const char op[] = "user_bind_mobile";
    sq_store_t *s = sq_of(store);
    store_rc rc = sq_begin(s, op);
    if (rc != STORE_OK)
        return rc;
    if (!allow_shared && mobile[0] != '\0')
        rc = sq_mobile_check(s, id, mobile, op);
    if (rc == STORE_OK)
        rc = sq_mobile_set(s, id, mobile, now, op);
    return sq_finish(s, op, rc);
}

/* ---- sessions ---- */

/* Inserts a session; inside the caller's transaction or on its own. */
static store_rc sq_session_add(sq_store_t *s, const store_session_t *session, const char *op)
{
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_SESSION_INSERT, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sqlite3_bind_blob(st, 1, session->token_hash, 32, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, session->user_id) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, session->created_at) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, session->expires_at) != SQLITE_OK ||
        sqlite3_bind_blob(st, 5, session->session_key_sealed, (int)session->session_key_sealed_len, SQLITE_STATIC) !=
            SQLITE_OK ||
        sqlite3_bind_text(st, 6, session->ip, -1, SQLITE_STATIC) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    ret = sq_step_done(s, st, op, NULL);
    if (ret == STORE_CONFLICT && sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        ret = store_error_set(&s->base, STORE_NOT_FOUND, op, "no such user");
    return ret;
}

static store_rc sq_session_insert(store_t *store, const store_session_t *session)
{
    return sq_session_add(sq_of(store), session, "session_insert");
}

/* ---- the login: upsert, mobile, session in one transaction ---- */

/* Steps 2a and 2b of store_login_session(), inside its transaction, for a user who may log in. */
static store_rc sq_login_finish(sq_store_t *s, const store_login_t *in, const char *mobile, bool allow_shared,
                                store_session_t *session, store_user_t *out, bool *mobile_conflict, const char *op)
{
    store_rc rc = STORE_OK;
    if (mobile[0] != '\0') {
        if (!allow_shared && (rc = sq_mobile_check(s, out->id, mobile, op)) == STORE_CONFLICT)
            *mobile_conflict = true;
        if (rc == STORE_OK)
            rc = sq_mobile_set(s, out->id, mobile, in->now, op);
        if (rc != STORE_OK)
            return rc;
        snprintf(out->mobile, sizeof out->mobile, "%s", mobile);
        out->update_time = in->now;
    }
    session->user_id = out->id;
    return sq_session_add(s, session, op);
}

/*
 * BEGIN IMMEDIATE takes the write lock before the upsert reads anything, so concurrent
 * first logins of one openid (threads or processes) are serialised: one inserts, the
 * others update its row. The whole login commits once.
 */
static store_rc sq_login(store_t *store, const store_login_t *in, const char *mobile, bool allow_shared,
                         store_session_t *session, store_user_t *out, bool *mobile_conflict)
{
    const char *op = session != NULL ? "login_session" : "user_login";
    sq_store_t *s = sq_of(store);
    store_rc rc = sq_begin(s, op);
    if (rc != STORE_OK)
        return rc;
    rc = sq_user_upsert(s, in, op);
    if (rc == STORE_OK)
        rc = sq_user_by_openid(s, in->openid, op, out);
    if (rc == STORE_OK && session != NULL && store_user_may_login(out))
        rc = sq_login_finish(s, in, mobile, allow_shared, session, out, mobile_conflict, op);
    return sq_finish(s, op, rc);
}

/* Reads the current row of SQ_SESSION_GET. */
static store_rc sq_read_session(sq_store_t *s, sqlite3_stmt *st, const char *op, store_session_t *session,
                                store_user_t *user)
{
    session->user_id = sqlite3_column_int64(st, 0);
    session->created_at = sqlite3_column_int64(st, 1);
    session->expires_at = sqlite3_column_int64(st, 2);
    const void *sealed = sqlite3_column_blob(st, 3);
    int len = sqlite3_column_bytes(st, 3);
    if (len < 0 || (size_t)len > STORE_SEALED_MAX || (sealed == NULL && len > 0))
        return store_error_set(&s->base, STORE_ERROR, op, "session_key_sealed is longer than %d bytes",
                               STORE_SEALED_MAX);
    if (len > 0)
        memcpy(session->session_key_sealed, sealed, (size_t)len);
    session->session_key_sealed_len = (size_t)len;
    session->last_used_at = sqlite3_column_int64(st, 4);
    session->renewed_at = sqlite3_column_int64(st, 5);
    return user != NULL ? sq_read_user(s, st, 6, op, user) : STORE_OK;
}

static store_rc sq_session_get(store_t *store, const uint8_t token_hash[32], store_session_t *session,
                               store_user_t *user)
{
    static const char op[] = "session_get";
    sq_store_t *s = sq_of(store);
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_SESSION_GET, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    memset(session, 0, sizeof *session);
    memcpy(session->token_hash, token_hash, 32);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        ret = sq_read_session(s, st, op, session, user);
    else if (rc == SQLITE_DONE)
        ret = store_error_set(&s->base, STORE_NOT_FOUND, op, "no such session");
    else
        ret = sq_fail(s, op, sqlite3_extended_errcode(s->db));
    sq_release(st);
    return ret;
}

static store_rc sq_session_delete(store_t *store, const uint8_t token_hash[32])
{
    static const char op[] = "session_delete";
    sq_store_t *s = sq_of(store);
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_SESSION_DELETE, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    return sq_change_one(s, st, op, "session");
}

static store_rc sq_session_purge(store_t *store, int64_t now, long *deleted)
{
    static const char op[] = "session_purge";
    sq_store_t *s = sq_of(store);
    sqlite3_stmt *st = NULL;
    store_rc ret = sq_stmt(s, SQ_SESSION_PURGE, op, &st);
    if (ret != STORE_OK)
        return ret;
    if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK)
        return sq_bind_failed(s, st, op);
    int changes = 0;
    ret = sq_step_done(s, st, op, &changes);
    *deleted = ret == STORE_OK ? changes : 0;
    return ret;
}

/* ---- the statement layer (store_sql.h) ---- */

/* The cached statement of sql, prepared on first use; *owned is true when the cache is full
 * and the caller must finalize it after this one use. */
static store_rc sq_qstmt(sq_store_t *s, const store_sql_t *sql, sqlite3_stmt **out, bool *owned)
{
    size_t h = ((uintptr_t)sql >> 3) % SQ_QCACHE_SIZE;
    sq_qcache_entry_t *slot = NULL;
    for (size_t i = 0; i < SQ_QCACHE_SIZE; i++) {
        sq_qcache_entry_t *e = &s->qcache[(h + i) % SQ_QCACHE_SIZE];
        if (e->sql == sql) {
            *out = e->st;
            *owned = false;
            return STORE_OK;
        }
        if (e->sql == NULL) {
            slot = e;
            break;
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql->sqlite, -1, slot != NULL ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, sql->op, rc);
    if (slot != NULL) {
        slot->sql = sql;
        slot->st = st;
    }
    *out = st;
    *owned = slot == NULL;
    return STORE_OK;
}

static int sq_bind_arg(sqlite3_stmt *st, int i, const store_arg_t *arg)
{
    switch (arg->kind) {
    case STORE_ARG_INT:
        return sqlite3_bind_int64(st, i, arg->i);
    case STORE_ARG_TEXT:
        return sqlite3_bind_text(st, i, arg->p, (int)arg->len, SQLITE_STATIC);
    case STORE_ARG_BLOB:
        return sqlite3_bind_blob(st, i, arg->len > 0 ? arg->p : "", (int)arg->len, SQLITE_STATIC);
    case STORE_ARG_NULL:
        break;
    }
    return sqlite3_bind_null(st, i);
}

/* The current row of st as store_values (texts point into SQLite's row). */
static int sq_row_values(sqlite3_stmt *st, store_value_t *cols)
{
    int n = sqlite3_column_count(st);
    if (n > STORE_ROW_MAX_COLUMNS)
        n = STORE_ROW_MAX_COLUMNS;
    for (int c = 0; c < n; c++) {
        store_value_t *v = &cols[c];
        memset(v, 0, sizeof *v);
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_NULL:
            v->is_null = true;
            break;
        case SQLITE_INTEGER:
        case SQLITE_FLOAT:
            v->i = sqlite3_column_int64(st, c);
            break;
        case SQLITE_BLOB:
            v->text = sqlite3_column_blob(st, c);
            v->len = (size_t)sqlite3_column_bytes(st, c);
            if (v->text == NULL)
                v->text = "";
            break;
        default:
            v->text = (const char *)sqlite3_column_text(st, c);
            v->len = (size_t)sqlite3_column_bytes(st, c);
            v->i = v->text != NULL ? strtoll(v->text, NULL, 10) : 0;
            if (v->text == NULL)
                v->text = "";
            break;
        }
    }
    return n;
}

static store_rc sq_sql_exec(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs,
                            store_row_fn on_row, void *ctx, store_sql_result_t *result)
{
    sq_store_t *s = sq_of(store);
    sqlite3_stmt *st = NULL;
    bool owned = false;
    store_rc ret = sq_qstmt(s, sql, &st, &owned);
    if (ret != STORE_OK)
        return ret;
    for (size_t i = 0; i < nargs; i++)
        if (sq_bind_arg(st, (int)i + 1, &args[i]) != SQLITE_OK) {
            ret = sq_fail(s, sql->op, sqlite3_extended_errcode(s->db));
            goto done;
        }
    store_value_t cols[STORE_ROW_MAX_COLUMNS];
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            ret = sq_fail(s, sql->op, sqlite3_extended_errcode(s->db));
            goto done;
        }
        if (on_row != NULL) {
            store_row_t row = {.ncols = sq_row_values(st, cols), .cols = cols};
            if ((ret = on_row(&row, ctx)) != STORE_OK)
                goto done;
        }
    }
    result->changes = sqlite3_changes(s->db);
    result->insert_id = sqlite3_last_insert_rowid(s->db);
done:
    if (owned)
        sqlite3_finalize(st);
    else
        sq_release(st);
    return ret;
}

static store_rc sq_sql_transaction(store_t *store, const char *op, store_txn_fn fn, void *arg)
{
    sq_store_t *s = sq_of(store);
    store_rc rc = sq_begin(s, op);
    if (rc != STORE_OK)
        return rc;
    return sq_finish(s, op, fn(store, arg));
}

/* Group commit (store.h): one BEGIN IMMEDIATE, one COMMIT. */
static store_rc sq_batch_begin(store_t *store)
{
    sq_store_t *s = sq_of(store);
    /* A short wait only: when another connection holds the lock that long (another process),
     * the caller runs the batch's work piece by piece, each piece waiting the busy timeout on
     * its own connection (runtime/db_pool.c), instead of all of them waiting here first. */
    sqlite3_busy_timeout(s->db, SQ_BATCH_BEGIN_WAIT_MS);
    store_rc rc = sq_run(s, SQ_BEGIN, "batch");
    sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
    return rc;
}

static store_rc sq_batch_end(store_t *store, bool commit)
{
    sq_store_t *s = sq_of(store);
    store_rc rc = commit ? sq_run(s, SQ_COMMIT, "batch") : STORE_ERROR;
    if (rc != STORE_OK)
        sq_rollback(s);
    return rc;
}

/* ---- upkeep: the WAL checkpoint, after the answers (store_defer_upkeep, store.h) ---- */

/* SQLite's own autocheckpoint threshold, kept: the WAL is copied back once it holds this many pages. */
#define SQ_CHECKPOINT_PAGES 1000
/* A WAL this long is copied back whole, the writers held off meanwhile (sq_upkeep). */
#define SQ_WAL_RESTART_PAGES 4000
#define SQ_RESTART_WAIT_MS   200 /* for the writer of the moment, and readers of older snapshots */

/* Called by SQLite at the end of every commit of the connection (in place of its autocheckpoint). */
static int sq_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    sq_store_t *s = arg;
    if (pages < s->wal_pages) /* the WAL was started over */
        s->checkpoint_at = SQ_CHECKPOINT_PAGES;
    s->wal_pages = pages;
    if (pages >= s->checkpoint_at)
        s->checkpoint_due = true;
    return SQLITE_OK;
}

static void sq_defer_upkeep(store_t *store)
{
    sq_store_t *s = sq_of(store);
    s->wal_pages = 0;
    s->checkpoint_at = SQ_CHECKPOINT_PAGES;
    sqlite3_wal_hook(s->db, sq_wal_hook, s); /* replaces the autocheckpoint (wal_autocheckpoint) */
}

static store_rc sq_upkeep(store_t *store)
{
    sq_store_t *s = sq_of(store);
    if (!s->checkpoint_due)
        return STORE_OK;
    s->checkpoint_due = false;
    /* PASSIVE: copies what no reader still needs, without waiting for any lock; writers and
     * readers go on meanwhile. Another connection checkpointing already answers SQLITE_BUSY. */
    int pages = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &pages, &copied);
    /* the next one when SQ_CHECKPOINT_PAGES more were written (not after every commit while the
     * WAL waits to be started over: each checkpoint syncs the files twice) */
    s->checkpoint_at = (pages > 0 ? pages : s->wal_pages) + SQ_CHECKPOINT_PAGES;
    if (rc == SQLITE_OK && pages >= SQ_WAL_RESTART_PAGES && copied >= pages - SQ_CHECKPOINT_PAGES) {
        /* Writers that never stop keep a passive checkpoint from ever copying the whole WAL,
         * and SQLite starts a WAL over only when a writer begins with all of it copied: it
         * would grow without end (60 MB in 10 s of logins). RESTART waits for the writer of the
         * moment, copies the rest with new writers held off, and the next writer starts over.
         * Not while most of the WAL is left: then a reader holds an old snapshot, which RESTART
         * would wait for with the writers held off; the WAL grows meanwhile, as SQLite's does. */
        sqlite3_busy_timeout(s->db, SQ_RESTART_WAIT_MS);
        rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
        sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
    }
    if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY)
        return STORE_OK;
    return sq_fail(s, "checkpoint", sqlite3_extended_errcode(s->db));
}

static const store_backend_ops_t sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .migrate_to = sq_migrate_to,
    .login = sq_login,
    .user_get = sq_user_get,
    .user_get_by_openid = sq_user_get_by_openid,
    .user_set_status = sq_user_set_status,
    .user_update_profile = sq_user_update_profile,
    .user_bind_mobile = sq_user_bind_mobile,
    .session_insert = sq_session_insert,
    .session_get = sq_session_get,
    .session_delete = sq_session_delete,
    .session_purge = sq_session_purge,
    .sql_exec = sq_sql_exec,
    .sql_transaction = sq_sql_transaction,
    .batch_begin = sq_batch_begin,
    .batch_end = sq_batch_end,
    .defer_upkeep = sq_defer_upkeep,
    .upkeep = sq_upkeep,
};
