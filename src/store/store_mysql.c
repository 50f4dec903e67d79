/*
 * store_mysql — the MariaDB/MySQL backend of the store (store_backend.h), on MariaDB
 * Connector/C.
 *
 * URL (after the "mysql:" or "mariadb:" scheme):
 *   //user[:password]@host[:port]/dbname            TCP (port 3306 by default)
 *   //user[:password]@localhost/dbname?socket=PATH  unix socket
 * user, password, dbname and PATH are percent-decoded. Without ":password" the password is
 * read from the environment variable MEETOA_DB_PASSWORD (none when it is unset too), so it
 * need not sit in a config file; "user:@host" means an empty password. The password never
 * appears in an error text.
 *
 * One my_store_t is one server connection, used by one thread at a time (store.h). The
 * connection speaks utf8mb4 (MYSQL_SET_CHARSET_NAME plus SET NAMES ... utf8mb4_unicode_ci),
 * in strict SQL mode, REPEATABLE READ, autocommit on, no automatic reconnect, no LOCAL
 * INFILE. Timeouts keep a dead or wedged server from hanging a worker: connect
 * MY_CONNECT_TIMEOUT_S, each read and write MY_IO_TIMEOUT_S, and InnoDB lock waits
 * MY_LOCK_WAIT_TIMEOUT_S (shorter than the read timeout, so a lock held by another
 * connection ends as "database is busy", not as a lost connection).
 *
 * Statements: every statement that carries a value is a server-side prepared statement
 * with bound parameters, prepared on its first use on a connection and cached until the
 * connection closes; results are buffered (mysql_stmt_store_result) and freed after each
 * use. Nothing from a caller is pasted into SQL. Fixed text without values (the session
 * settings at connect, and the migration DDL) runs through mysql_real_query.
 * Datetimes go in as local-time 'YYYY-MM-DD HH:MM:SS' text (text_sqltime) and come back as
 * MYSQL_TIME; wx_session times are BIGINT epoch seconds.
 *
 * Idle connections: a database worker's connection may sit unused for hours, and the server
 * closes it after its wait_timeout (8 h by default, often much less), or an administrator,
 * a restart or a proxy kills it. So every call first checks its connection, before sending
 * anything (my_ready): (1) a healthy idle connection has nothing to read (the server speaks
 * only when asked), so input waiting on its socket (poll with no wait, one system call and
 * no round trip) means the server closed it or said its last words: a timeout, a KILL, a
 * shutdown; (2) a connection idle for MY_IDLE_PING_S, or for half the wait_timeout the
 * server gave it at connect when that is shorter, is pinged (one round trip, only after
 * idleness): this finds what leaves no trace on the socket (a dropped NAT or firewall
 * entry), and a call never races the server's own idle timer, since a successful ping
 * restarts that timer. Input on the socket is pinged too rather than taken as a death
 * (under TLS it may be a record the library has not read yet). When the check fails the
 * connection is closed and opened again, its statements prepared again on first use (no
 * MYSQL_OPT_RECONNECT: the library's reconnect loses the prepared statements), so a request
 * never fails only because its pooled connection idled out.
 *
 * A connection lost during a call (server gone, connection killed, timeout) does not wedge
 * the store either: the failing call returns STORE_ERROR with "op: database unavailable:
 * ..." and marks the connection broken; the next call closes it and connects again. Such a
 * call is not retried by the store, not even a read: once the check above has passed, a loss
 * during the call means the server died or hangs (a retry would add a connect timeout and a
 * read timeout to a request that already waited), or a kill that raced the call by
 * milliseconds; and a write whose answer was lost may or may not have happened (a session
 * insert run twice would end in a duplicate key), so the caller decides.
 *
 * Concurrency between connections: the login upsert is INSERT ... ON DUPLICATE KEY
 * UPDATE inside a transaction (InnoDB locks the unique key, so concurrent first logins of
 * one openid make one row); the mobile check is SELECT ... FOR UPDATE (next-key locks on
 * the mobile index) before the UPDATE. A whole login (upsert, mobile, session) is one
 * transaction with one commit (store_login_session). InnoDB resolves the deadlocks such transactions can
 * run into by rolling one back (error 1213); that transaction is retried, up to
 * MY_DEADLOCK_RETRIES times. Migrations run on a dedicated connection with a long read
 * timeout (DDL on a big table takes time), serialised across processes by
 * GET_LOCK('meetoa_migrate', 30); the version is read after the lock is held. DDL commits
 * implicitly on MySQL, so a step is not atomic there (docs/schema.md).
 *
 * Error texts: "operation: server's message". The messages that can quote a value (a
 * duplicate key, an invalid string or date) are replaced by a fixed text naming the error.
 */
#include "store/store_backend.h"
#include "common/clock.h"
#include "store/migrations.h"
#include "common/text.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdatomic.h>
#include <unistd.h>

#include "metrics/metrics.h"

/* meetoa_db_connection_errors_total{kind}: connects that failed, connections found gone
 * (registered once per process; docs/metrics.md). */
static metrics_family_t *my_connection_errors(void)
{
    static metrics_family_t *_Atomic family;
    static const char *const kinds[] = {"connect", "lost"};
    metrics_family_t *f = atomic_load(&family);
    if (f == NULL) {
        metrics_label_t label = {"kind", kinds, 2};
        f = metrics_counter("meetoa_db_connection_errors_total",
                            "MariaDB/MySQL connections that could not be made (connect) or broke (lost).", &label, 1);
        atomic_store(&family, f);
    }
    return f;
}

#define MY_CONNECT_TIMEOUT_S    5
#define MY_IO_TIMEOUT_S         10
#define MY_LOCK_WAIT_TIMEOUT_S  5
#define MY_MIGRATE_IO_TIMEOUT_S 600
#define MY_MIGRATE_LOCK_WAIT_S  30
#define MY_DEADLOCK_RETRIES     20
#define MY_IDLE_PING_S          30
#define MY_DEFAULT_PORT         3306
#define MY_PASSWORD_ENV         "MEETOA_DB_PASSWORD"
#define MY_STR(x)               #x
#define MY_XSTR(x)              MY_STR(x)

enum my_stmt_id {
    MY_BEGIN,
    MY_COMMIT,
    MY_ROLLBACK,
    MY_HAS_VERSION_TABLE,
    MY_VERSION,
    MY_VERSION_ADD,
    MY_GET_LOCK,
    MY_RELEASE_LOCK,
    MY_USER_UPSERT,
    MY_USER_LOGIN_UPDATE,
    MY_USER_BY_ID,
    MY_USER_BY_OPENID,
    MY_USER_ID_EXISTS,
    MY_USER_OPENID_EXISTS,
    MY_USER_SET_STATUS,
    MY_USER_UPDATE_PROFILE,
    MY_USER_MOBILE_TAKEN,
    MY_USER_SET_MOBILE,
    MY_SESSION_INSERT,
    MY_SESSION_GET,
    MY_SESSION_DELETE,
    MY_SESSION_PURGE,
    MY_COUNT
};

/* The wx_user columns of store_user_t, in the order my_bind_user() binds them. */
#define MY_USER_COLS                                                                                                   \
    "u.id, u.username, u.weixin_openid, u.unionid, u.nickname, u.avatar, u.mobile, u.last_login_ip, u.gender, "        \
    "u.user_level, u.status, u.deleted, u.add_time, u.update_time, u.last_login_time"
#define MY_USER_NCOLS 15
#define MY_SAME_USER  "weixin_openid = VALUES(weixin_openid)"

static const char *const my_sql[MY_COUNT] = {
    [MY_BEGIN] = "START TRANSACTION",
    [MY_COMMIT] = "COMMIT",
    [MY_ROLLBACK] = "ROLLBACK",
    [MY_HAS_VERSION_TABLE] = "SELECT count(*) FROM information_schema.tables"
                             " WHERE table_schema = DATABASE() AND table_name = 'schema_version'",
    [MY_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
    [MY_VERSION_ADD] = "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
    [MY_GET_LOCK] = "SELECT GET_LOCK('meetoa_migrate', " MY_XSTR(MY_MIGRATE_LOCK_WAIT_S) ")",
    [MY_RELEASE_LOCK] = "SELECT RELEASE_LOCK('meetoa_migrate')",
    /* Every assignment is guarded: when the duplicate is another row's username (not our
     * openid), the row is left alone and my_login_upsert() reports the conflict. */
    [MY_USER_UPSERT] = "INSERT INTO wx_user (username, weixin_openid, unionid, nickname, avatar, gender, status,"
                       " last_login_time, last_login_ip, add_time, update_time)"
                       " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)"
                       " ON DUPLICATE KEY UPDATE"
                       " last_login_time = IF(" MY_SAME_USER ", VALUES(last_login_time), last_login_time),"
                       " last_login_ip = IF(" MY_SAME_USER ", VALUES(last_login_ip), last_login_ip),"
                       " update_time = IF(" MY_SAME_USER ", VALUES(update_time), update_time),"
                       " unionid = IF(" MY_SAME_USER " AND VALUES(unionid) <> '', VALUES(unionid), unionid)",
    [MY_USER_LOGIN_UPDATE] = "UPDATE wx_user SET last_login_time = ?, last_login_ip = ?, update_time = ?,"
                             " unionid = IF(? <> '', ?, unionid) WHERE weixin_openid = ?",
    [MY_USER_BY_ID] = "SELECT " MY_USER_COLS " FROM wx_user u WHERE u.id = ?",
    [MY_USER_BY_OPENID] = "SELECT " MY_USER_COLS " FROM wx_user u WHERE u.weixin_openid = ?",
    [MY_USER_ID_EXISTS] = "SELECT count(*) FROM wx_user WHERE id = ?",
    [MY_USER_OPENID_EXISTS] = "SELECT count(*) FROM wx_user WHERE weixin_openid = ?",
    [MY_USER_SET_STATUS] = "UPDATE wx_user SET status = ?, update_time = ? WHERE weixin_openid = ?",
    [MY_USER_UPDATE_PROFILE] = "UPDATE wx_user SET nickname = coalesce(?, nickname), avatar = coalesce(?, avatar),"
                               " gender = IF(? >= 0, ?, gender), update_time = ? WHERE id = ?",
    [MY_USER_MOBILE_TAKEN] = "SELECT id FROM wx_user WHERE mobile = ? AND id <> ? AND coalesce(deleted, 0) = 0"
                             " LIMIT 1 FOR UPDATE",
    [MY_USER_SET_MOBILE] = "UPDATE wx_user SET mobile = ?, update_time = ? WHERE id = ?",
    [MY_SESSION_INSERT] = "INSERT INTO wx_session (token_hash, user_id, created_at, expires_at, session_key_sealed,"
                          " last_used_at, login_ip, last_ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [MY_SESSION_GET] = "SELECT ws.user_id, ws.created_at, ws.expires_at, ws.session_key_sealed, ws.last_used_at,"
                       " ws.renewed_at, " MY_USER_COLS
                       " FROM wx_session ws JOIN wx_user u ON u.id = ws.user_id WHERE ws.token_hash = ?",
    [MY_SESSION_DELETE] = "DELETE FROM wx_session WHERE token_hash = ?",
    [MY_SESSION_PURGE] = "DELETE FROM wx_session WHERE expires_at < ?",
};

/* Run once on every new connection, in this order. */
static const char *const my_session_setup[] = {
    "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION'",
    "SET SESSION innodb_lock_wait_timeout = " MY_XSTR(MY_LOCK_WAIT_TIMEOUT_S),
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "SET SESSION autocommit = 1",
};

/* The parsed URL; all strings are owned (free with my_url_free). */
typedef struct my_url {
    char *user;
    char *password; /* NULL: none */
    char *host;     /* NULL: the socket (or localhost) */
    char *db;
    char *socket; /* NULL: TCP */
    unsigned port;
} my_url_t;

/* Statements of the statement layer (store_sql.h) on one connection, keyed by their
 * store_sql_t's address (open addressing); when it is full a statement is prepared for one use. */
#define MY_QCACHE_SIZE 256

typedef struct my_qcache_entry {
    const store_sql_t *sql;
    MYSQL_STMT *st;
} my_qcache_entry_t;

typedef struct my_conn {
    MYSQL *db;   /* NULL: not connected; the next use connects */
    bool broken; /* the server connection is lost: closed at the next use */
    unsigned last_errno;
    int64_t last_used_ms;        /* clock_monotonic_ms() when the last call started (or the connection opened) */
    int64_t idle_ping_ms;        /* a connection idle this long is pinged before use */
    MYSQL_STMT *stmts[MY_COUNT]; /* NULL until first use on this connection */
    my_qcache_entry_t qcache[MY_QCACHE_SIZE];
} my_conn_t;

typedef struct my_store {
    struct store base; /* first: a store_t * is a my_store_t * */
    my_url_t url;
    my_conn_t conn;
    bool in_txn; /* inside store_sql_transaction: statements use the connection as it is */
} my_store_t;

static my_store_t *my_of(store_t *store)
{
    return (my_store_t *)store;
}

/* ---- the URL ---- */

static void my_url_free(my_url_t *u)
{
    free(u->user);
    if (u->password != NULL)
        explicit_bzero(u->password, strlen(u->password));
    free(u->password);
    free(u->host);
    free(u->db);
    free(u->socket);
    memset(u, 0, sizeof *u);
}

/* host[:port] or [v6][:port] of s[0..len). Returns NULL on success, else the reason. */
static const char *my_parse_host(my_url_t *u, const char *s, size_t len)
{
    const char *host = s, *colon = NULL;
    size_t host_len = len;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return "unterminated [IPv6] host";
        host = s + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return "unexpected text after the [IPv6] host";
            colon = close + 1;
        }
    } else if ((colon = memchr(s, ':', len)) != NULL) {
        host_len = (size_t)(colon - s);
    }
    if (colon != NULL) {
        unsigned long port = 0;
        const char *p = colon + 1, *end = s + len;
        if (p == end || end - p > 5)
            return "bad port";
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return "bad port";
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (port == 0 || port > 65535)
            return "bad port";
        u->port = (unsigned)port;
    }
    if (host_len > 0 && (u->host = text_percent_decode(host, host_len, false, NULL)) == NULL)
        return "bad host";
    return NULL;
}

/* user[:password] of s[0..len). Returns NULL on success, else the reason. */
static const char *my_parse_userinfo(my_url_t *u, const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    size_t user_len = colon != NULL ? (size_t)(colon - s) : len;
    if (user_len == 0)
        return "no user name";
    if ((u->user = text_percent_decode(s, user_len, false, NULL)) == NULL)
        return "bad percent-encoding in the user name";
    if (colon != NULL) {
        if ((u->password = text_percent_decode(colon + 1, len - user_len - 1, false, NULL)) == NULL)
            return "bad percent-encoding in the password";
    } else {
        const char *env = getenv(MY_PASSWORD_ENV);
        if (env != NULL && (u->password = strdup(env)) == NULL)
            return "out of memory";
    }
    return NULL;
}

/* The query string: only "socket=PATH". Returns NULL on success, else the reason. */
static const char *my_parse_query(my_url_t *u, const char *q)
{
    if (*q == '\0')
        return NULL;
    if (strncmp(q, "socket=", 7) != 0 || strchr(q, '&') != NULL)
        return "unknown parameter (only ?socket=PATH is known)";
    if (q[7] == '\0' || (u->socket = text_percent_decode(q + 7, strlen(q + 7), false, NULL)) == NULL)
        return "bad socket path";
    return NULL;
}

/* Parses "//user[:password]@host[:port]/db[?socket=PATH]". Returns NULL, else the reason. */
static const char *my_url_parse(my_url_t *u, const char *location)
{
    memset(u, 0, sizeof *u);
    u->port = MY_DEFAULT_PORT;
    if (strncmp(location, "//", 2) != 0)
        return "expected mysql://user[:password]@host[:port]/dbname";
    const char *auth = location + 2;
    const char *slash = strchr(auth, '/');
    if (slash == NULL)
        return "no database name";
    const char *at = NULL;
    for (const char *p = auth; p < slash; p++)
        if (*p == '@')
            at = p;
    if (at == NULL)
        return "no user name (expected user@host)";
    const char *why = my_parse_userinfo(u, auth, (size_t)(at - auth));
    if (why == NULL)
        why = my_parse_host(u, at + 1, (size_t)(slash - at - 1));
    if (why != NULL)
        return why;
    const char *query = strchr(slash, '?');
    size_t db_len = query != NULL ? (size_t)(query - slash - 1) : strlen(slash + 1);
    if (db_len == 0)
        return "no database name";
    if ((u->db = text_percent_decode(slash + 1, db_len, false, NULL)) == NULL)
        return "bad database name";
    if (query != NULL && (why = my_parse_query(u, query + 1)) != NULL)
        return why;
    if (u->host == NULL && u->socket == NULL)
        return "no host";
    return NULL;
}

/* ---- connections ---- */

static pthread_once_t my_library_once = PTHREAD_ONCE_INIT;
static int my_library_rc = -1; /* written once, under my_library_once */

static void my_library_init(void)
{
    my_library_rc = mysql_library_init(0, NULL, NULL);
}

static void my_conn_close(my_conn_t *c)
{
    for (int i = 0; i < MY_COUNT; i++) {
        if (c->stmts[i] != NULL)
            mysql_stmt_close(c->stmts[i]);
        c->stmts[i] = NULL;
    }
    for (int i = 0; i < MY_QCACHE_SIZE; i++) {
        if (c->qcache[i].st != NULL)
            mysql_stmt_close(c->qcache[i].st);
        c->qcache[i].sql = NULL;
        c->qcache[i].st = NULL;
    }
    if (c->db != NULL)
        mysql_close(c->db);
    c->db = NULL;
    c->broken = false;
}

/* Sets the connection options; false when the library refuses one. */
static bool my_set_options(MYSQL *db, unsigned io_timeout)
{
    unsigned connect_timeout = MY_CONNECT_TIMEOUT_S, zero = 0;
    my_bool off = 0;
    return mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4") == 0 &&
           mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout) == 0 &&
           mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &io_timeout) == 0 &&
           mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout) == 0 &&
           mysql_options(db, MYSQL_OPT_RECONNECT, &off) == 0 && mysql_options(db, MYSQL_OPT_LOCAL_INFILE, &zero) == 0;
}

/* Reads the session's wait_timeout and sets c's idle ping interval from it: half of it, at
 * most MY_IDLE_PING_S. False when the query fails. */
static bool my_read_idle_limit(my_conn_t *c)
{
    static const char sql[] = "SELECT @@SESSION.wait_timeout";
    if (mysql_real_query(c->db, sql, sizeof sql - 1) != 0)
        return false;
    MYSQL_RES *res = mysql_store_result(c->db);
    if (res == NULL)
        return false;
    MYSQL_ROW row = mysql_fetch_row(res);
    long long wait_timeout = row != NULL && row[0] != NULL ? strtoll(row[0], NULL, 10) : 0;
    mysql_free_result(res);
    c->idle_ping_ms = MY_IDLE_PING_S * 1000;
    if (wait_timeout > 0 && wait_timeout < MY_IDLE_PING_S * 2)
        c->idle_ping_ms = (int64_t)wait_timeout * 500;
    return true;
}

/* Connects c (which must be closed) and applies the session settings; false with why set. */
static bool my_connect(const my_url_t *u, unsigned io_timeout, my_conn_t *c, char *why, size_t why_size)
{
    pthread_once(&my_library_once, my_library_init);
    if (my_library_rc != 0) {
        snprintf(why, why_size, "the MariaDB client library did not initialise");
        return false;
    }
    c->db = mysql_init(NULL);
    if (c->db == NULL) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    if (!my_set_options(c->db, io_timeout)) {
        snprintf(why, why_size, "the client library refused an option: %s", mysql_error(c->db));
        goto fail;
    }
    const char *host = u->socket != NULL && u->host == NULL ? "localhost" : u->host;
    if (mysql_real_connect(c->db, host, u->user, u->password, u->db, u->port, u->socket, 0) == NULL) {
        metrics_inc(my_connection_errors(), 0);
        snprintf(why, why_size, "%s", mysql_error(c->db));
        goto fail;
    }
    for (size_t i = 0; i < sizeof my_session_setup / sizeof my_session_setup[0]; i++) {
        if (mysql_real_query(c->db, my_session_setup[i], strlen(my_session_setup[i])) != 0) {
            snprintf(why, why_size, "session setup: %s", mysql_error(c->db));
            goto fail;
        }
    }
    if (!my_read_idle_limit(c)) {
        snprintf(why, why_size, "session setup: reading wait_timeout: %s", mysql_error(c->db));
        goto fail;
    }
    c->last_used_ms = clock_monotonic_ms();
    return true;

fail:
    my_conn_close(c);
    return false;
}

/* ---- errors, statements, transactions ---- */

/* Errors that mean the connection is gone: the next call reconnects. */
static bool my_error_is_gone(unsigned err)
{
    switch (err) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
    case ER_NET_READ_ERROR:
    case 4031: /* MySQL 8: the client was disconnected by the server because of inactivity */
        return true;
    default:
        return false;
    }
}

/* Records error err (message msg) of connection c for op; returns the store_rc it maps to. */
static store_rc my_fail_with(my_store_t *s, my_conn_t *c, const char *op, unsigned err, const char *msg)
{
    c->last_errno = err;
    if (my_error_is_gone(err)) {
        if (!c->broken)
            metrics_inc(my_connection_errors(), 1);
        c->broken = true;
        return store_error_set(&s->base, STORE_ERROR, op, "database unavailable: %s", msg);
    }
    switch (err) {
    case ER_DUP_ENTRY:
    case ER_DUP_ENTRY_WITH_KEY_NAME: /* the server's text quotes the duplicate value */
        return store_error_set(&s->base, STORE_CONFLICT, op, "a unique key refused the change (error %u)", err);
    case ER_NO_REFERENCED_ROW_2:
        return store_error_set(&s->base, STORE_CONFLICT, op, "%s", msg);
    case ER_LOCK_WAIT_TIMEOUT:
        return store_error_set(&s->base, STORE_ERROR, op,
                               "database is busy: another connection held a lock longer than the %d s lock wait "
                               "timeout (%s)",
                               MY_LOCK_WAIT_TIMEOUT_S, msg);
    case ER_LOCK_DEADLOCK:
        return store_error_set(&s->base, STORE_ERROR, op, "database is busy: %s", msg);
    case ER_TRUNCATED_WRONG_VALUE:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case WARN_DATA_TRUNCATED: /* these texts quote the refused value */
        return store_error_set(&s->base, STORE_ERROR, op, "a value was refused by its column (error %u)", err);
    default:
        return store_error_set(&s->base, STORE_ERROR, op, "%s", msg);
    }
}

static store_rc my_fail(my_store_t *s, my_conn_t *c, const char *op)
{
    return my_fail_with(s, c, op, mysql_errno(c->db), mysql_error(c->db));
}

static store_rc my_stmt_fail(my_store_t *s, my_conn_t *c, MYSQL_STMT *st, const char *op)
{
    return my_fail_with(s, c, op, mysql_stmt_errno(st), mysql_stmt_error(st));
}

/* True when the idle connection c has input waiting (or its socket is unusable): the
 * server closed it or told something unasked. No wait, no round trip. */
static bool my_conn_has_input(const my_conn_t *c)
{
    struct pollfd p = {.fd = (int)mysql_get_socket(c->db), .events = POLLIN};
    if (p.fd < 0)
        return true;
    return poll(&p, 1, 0) != 0; /* readable, EOF, hang-up, error; or poll itself failed */
}

/* Whether the open connection c can be used after its idleness (see the top comment). */
static bool my_conn_alive(my_conn_t *c)
{
    if (!my_conn_has_input(c) && clock_monotonic_ms() - c->last_used_ms < c->idle_ping_ms)
        return true;
    return mysql_ping(c->db) == 0;
}

/* Makes sure c is connected and alive at the start of a call: a broken, closed or dead
 * one is (re)opened. */
static store_rc my_ready(my_store_t *s, const char *op)
{
    my_conn_t *c = &s->conn;
    if (s->base.batch) { /* checked when the batch began; a reconnect would lose its transaction */
        if (c->db == NULL || c->broken)
            return store_error_set(&s->base, STORE_ERROR, op, "database unavailable: the connection was lost");
        return STORE_OK;
    }
    if (c->db != NULL && !c->broken && !my_conn_alive(c))
        c->broken = true;
    if (c->broken)
        my_conn_close(c);
    if (c->db == NULL) {
        char why[STORE_ERROR_SIZE];
        if (!my_connect(&s->url, MY_IO_TIMEOUT_S, c, why, sizeof why))
            return store_error_set(&s->base, STORE_ERROR, op, "database unavailable: %s", why);
    }
    c->last_used_ms = clock_monotonic_ms();
    return STORE_OK;
}

/* The cached statement id of c, prepared on first use. */
static store_rc my_stmt(my_store_t *s, my_conn_t *c, enum my_stmt_id id, const char *op, MYSQL_STMT **out)
{
    if (c->stmts[id] == NULL) {
        MYSQL_STMT *st = mysql_stmt_init(c->db);
        if (st == NULL)
            return my_fail(s, c, op);
        if (mysql_stmt_prepare(st, my_sql[id], strlen(my_sql[id])) != 0) {
            store_rc rc = my_stmt_fail(s, c, st, op);
            mysql_stmt_close(st);
            return rc;
        }
        c->stmts[id] = st;
    }
    *out = c->stmts[id];
    return STORE_OK;
}

/*
 * Binds params (may be NULL when the statement has none) and executes the cached statement
 * id; a result set is buffered. *out gets the statement: the caller reads it and then calls
 * mysql_stmt_free_result(). On failure nothing is left to free.
 */
static store_rc my_exec(my_store_t *s, my_conn_t *c, enum my_stmt_id id, const char *op, MYSQL_BIND *params,
                        MYSQL_STMT **out)
{
    MYSQL_STMT *st = NULL;
    store_rc rc = my_stmt(s, c, id, op, &st);
    if (rc != STORE_OK)
        return rc;
    if ((params != NULL && mysql_stmt_bind_param(st, params) != 0) || mysql_stmt_execute(st) != 0 ||
        (mysql_stmt_field_count(st) > 0 && mysql_stmt_store_result(st) != 0)) {
        rc = my_stmt_fail(s, c, st, op);
        mysql_stmt_free_result(st);
        return rc;
    }
    *out = st;
    return STORE_OK;
}

/* Executes a statement that returns no row; *changed (may be NULL) gets the affected rows. */
static store_rc my_exec_done(my_store_t *s, my_conn_t *c, enum my_stmt_id id, const char *op, MYSQL_BIND *params,
                             uint64_t *changed)
{
    MYSQL_STMT *st = NULL;
    store_rc rc = my_exec(s, c, id, op, params, &st);
    if (rc != STORE_OK)
        return rc;
    if (changed != NULL)
        *changed = (uint64_t)mysql_stmt_affected_rows(st);
    mysql_stmt_free_result(st);
    return STORE_OK;
}

/*
 * Fetches the one row of an executed statement into result (the row's buffers) and frees
 * the result. STORE_NOT_FOUND (without an error text) when there is no row.
 */
static store_rc my_fetch(my_store_t *s, my_conn_t *c, MYSQL_STMT *st, const char *op, MYSQL_BIND *result)
{
    store_rc rc = STORE_OK;
    if (mysql_stmt_bind_result(st, result) != 0) {
        rc = my_stmt_fail(s, c, st, op);
    } else {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA)
            rc = STORE_NOT_FOUND;
        else if (f == MYSQL_DATA_TRUNCATED)
            rc = store_error_set(&s->base, STORE_ERROR, op, "a column is longer than its field");
        else if (f != 0)
            rc = my_stmt_fail(s, c, st, op);
    }
    mysql_stmt_free_result(st);
    return rc;
}

/* Runs a statement whose answer is one integer (count, version, GET_LOCK); NULL reads as -1.
 * STORE_NOT_FOUND (without an error text) when there is no row. */
static store_rc my_query_row(my_store_t *s, my_conn_t *c, enum my_stmt_id id, const char *op, MYSQL_BIND *params,
                             int64_t *value)
{
    MYSQL_STMT *st = NULL;
    store_rc rc = my_exec(s, c, id, op, params, &st);
    if (rc != STORE_OK)
        return rc;
    my_bool is_null = 0;
    MYSQL_BIND out = {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = value, .is_null = &is_null};
    *value = 0;
    rc = my_fetch(s, c, st, op, &out);
    if (rc == STORE_OK && is_null)
        *value = -1;
    return rc;
}

/* my_query_row() for a statement that always returns a row. */
static store_rc my_query_int(my_store_t *s, my_conn_t *c, enum my_stmt_id id, const char *op, MYSQL_BIND *params,
                             int64_t *value)
{
    store_rc rc = my_query_row(s, c, id, op, params, value);
    if (rc == STORE_NOT_FOUND)
        rc = store_error_set(&s->base, STORE_ERROR, op, "the query returned no row");
    return rc;
}

/* Rolls back the open transaction, if the connection still works; keeps the error text. */
static void my_rollback(my_store_t *s)
{
    if (s->conn.broken || s->conn.db == NULL)
        return;
    char saved[STORE_ERROR_SIZE];
    unsigned saved_errno = s->conn.last_errno;
    memcpy(saved, s->base.error, sizeof saved);
    (void)my_exec_done(s, &s->conn, MY_ROLLBACK, "rollback", NULL, NULL);
    memcpy(s->base.error, saved, sizeof saved);
    s->conn.last_errno = saved_errno;
}

typedef store_rc (*my_txn_fn)(my_store_t *s, void *arg);

/*
 * Runs fn inside a transaction: commits when it returns STORE_OK, else rolls back. A
 * transaction InnoDB rolled back to break a deadlock is run again, a few times.
 */
static store_rc my_transaction(my_store_t *s, const char *op, my_txn_fn fn, void *arg)
{
    store_rc rc = my_ready(s, op);
    if (s->base.batch) { /* inside the batch's transaction (store.h): no retry, the batch is */
        if (rc == STORE_OK)
            rc = fn(s, arg);
        if (rc != STORE_OK)
            s->base.batch_failed = true;
        return rc;
    }
    for (int attempt = 0; rc == STORE_OK; attempt++) {
        s->conn.last_errno = 0;
        rc = my_exec_done(s, &s->conn, MY_BEGIN, op, NULL, NULL);
        if (rc == STORE_OK)
            rc = fn(s, arg);
        if (rc == STORE_OK)
            rc = my_exec_done(s, &s->conn, MY_COMMIT, op, NULL, NULL);
        if (rc == STORE_OK)
            return rc;
        my_rollback(s);
        if (s->conn.last_errno != ER_LOCK_DEADLOCK || attempt >= MY_DEADLOCK_RETRIES)
            return rc;
        usleep((useconds_t)(1000 * (attempt + 1)));
        rc = STORE_OK;
    }
    return rc;
}

/* ---- binding values ---- */

static void my_in_text(MYSQL_BIND *b, const char *text)
{
    memset(b, 0, sizeof *b);
    if (text == NULL) {
        b->buffer_type = MYSQL_TYPE_NULL;
        return;
    }
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *)text;
    b->buffer_length = strlen(text);
}

static void my_in_blob(MYSQL_BIND *b, const void *data, size_t len)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = MYSQL_TYPE_BLOB;
    b->buffer = (void *)data;
    b->buffer_length = len;
}

static void my_in_i64(MYSQL_BIND *b, const int64_t *v)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = MYSQL_TYPE_LONGLONG;
    b->buffer = (void *)v;
}

static void my_in_int(MYSQL_BIND *b, const int *v)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = MYSQL_TYPE_LONG;
    b->buffer = (void *)v;
}

/* Binds epoch seconds as local DATETIME text kept in text; 0 binds NULL. */
static void my_in_time(MYSQL_BIND *b, int64_t epoch, char text[TEXT_SQLTIME_SIZE])
{
    if (epoch == 0) {
        my_in_text(b, NULL);
        return;
    }
    text_sqltime(epoch, text);
    my_in_text(b, text);
}

/* Where a fetched wx_user row lands before my_finish_user() checks and converts it. */
typedef struct my_user_buf {
    store_user_t *user;
    unsigned long len[MY_USER_NCOLS];
    my_bool is_null[MY_USER_NCOLS];
    int deleted;
    MYSQL_TIME times[3]; /* add_time, update_time, last_login_time */
} my_user_buf_t;

static void my_out(MYSQL_BIND *b, enum enum_field_types type, void *buffer, size_t size, unsigned long *len,
                   my_bool *is_null)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = type;
    b->buffer = buffer;
    b->buffer_length = size;
    b->length = len;
    b->is_null = is_null;
}

/* Binds the MY_USER_COLS of a result to buf (b has MY_USER_NCOLS slots). */
static void my_bind_user(MYSQL_BIND *b, my_user_buf_t *buf, store_user_t *u)
{
    memset(buf, 0, sizeof *buf);
    memset(u, 0, sizeof *u);
    buf->user = u;
    char *texts[] = {u->username, u->openid, u->unionid, u->nickname, u->avatar, u->mobile, u->last_login_ip};
    size_t sizes[] = {sizeof u->username, sizeof u->openid, sizeof u->unionid,      sizeof u->nickname,
                      sizeof u->avatar,   sizeof u->mobile, sizeof u->last_login_ip};
    my_out(&b[0], MYSQL_TYPE_LONGLONG, &u->id, 0, &buf->len[0], &buf->is_null[0]);
    for (int i = 0; i < 7; i++)
        my_out(&b[1 + i], MYSQL_TYPE_STRING, texts[i], sizes[i], &buf->len[1 + i], &buf->is_null[1 + i]);
    int *ints[] = {&u->gender, &u->user_level, &u->status, &buf->deleted};
    for (int i = 0; i < 4; i++)
        my_out(&b[8 + i], MYSQL_TYPE_LONG, ints[i], 0, &buf->len[8 + i], &buf->is_null[8 + i]);
    for (int i = 0; i < 3; i++)
        my_out(&b[12 + i], MYSQL_TYPE_DATETIME, &buf->times[i], 0, &buf->len[12 + i], &buf->is_null[12 + i]);
}

/* A fetched DATETIME as epoch seconds; NULL (and MySQL's zero date) is 0. */
static bool my_time_of(const MYSQL_TIME *t, bool is_null, int64_t *epoch)
{
    *epoch = 0;
    if (is_null || t->year == 0)
        return true;
    char text[32];
    snprintf(text, sizeof text, "%04u-%02u-%02u %02u:%02u:%02u", t->year, t->month, t->day, t->hour, t->minute,
             t->second);
    return strlen(text) == TEXT_SQLTIME_SIZE - 1 && text_sqltime_parse(text, epoch);
}

/* NUL-terminates the fetched texts and converts the rest of a fetched user row. */
static store_rc my_finish_user(my_store_t *s, my_user_buf_t *buf, const char *op)
{
    store_user_t *u = buf->user;
    char *texts[] = {u->username, u->openid, u->unionid, u->nickname, u->avatar, u->mobile, u->last_login_ip};
    size_t sizes[] = {sizeof u->username, sizeof u->openid, sizeof u->unionid,      sizeof u->nickname,
                      sizeof u->avatar,   sizeof u->mobile, sizeof u->last_login_ip};
    for (int i = 0; i < 7; i++) {
        unsigned long len = buf->is_null[1 + i] ? 0 : buf->len[1 + i];
        if (len >= sizes[i])
            return store_error_set(&s->base, STORE_ERROR, op, "a wx_user text column is longer than its field");
        texts[i][len] = '\0';
    }
    u->deleted = buf->deleted != 0;
    bool ok = my_time_of(&buf->times[0], buf->is_null[12], &u->add_time) &&
              my_time_of(&buf->times[1], buf->is_null[13], &u->update_time) &&
              my_time_of(&buf->times[2], buf->is_null[14], &u->last_login_time);
    if (!ok)
        return store_error_set(&s->base, STORE_ERROR, op, "a wx_user datetime column is malformed");
    return STORE_OK;
}

/* Executes a bound user query and reads its row. */
static store_rc my_user_query(my_store_t *s, enum my_stmt_id id, const char *op, MYSQL_BIND *params, store_user_t *out)
{
    MYSQL_STMT *st = NULL;
    store_rc rc = my_exec(s, &s->conn, id, op, params, &st);
    if (rc != STORE_OK)
        return rc;
    MYSQL_BIND result[MY_USER_NCOLS];
    my_user_buf_t buf;
    my_bind_user(result, &buf, out);
    rc = my_fetch(s, &s->conn, st, op, result);
    if (rc == STORE_NOT_FOUND)
        return store_error_set(&s->base, STORE_NOT_FOUND, op, "no such user");
    return rc == STORE_OK ? my_finish_user(s, &buf, op) : rc;
}

/* ---- opening and closing ---- */

static void my_close(store_t *store)
{
    my_store_t *s = my_of(store);
    my_conn_close(&s->conn);
    my_url_free(&s->url);
    free(s);
}

static const store_backend_ops_t my_ops;

store_t *store_mysql_open(const char *location, char *err, size_t err_size)
{
    my_store_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, err_size, "store: out of memory");
        return NULL;
    }
    s->base.ops = &my_ops;
    const char *why = my_url_parse(&s->url, location);
    if (why != NULL) {
        snprintf(err, err_size, "store: bad mysql datasource url: %s", why);
        goto fail;
    }
    char reason[STORE_ERROR_SIZE];
    if (!my_connect(&s->url, MY_IO_TIMEOUT_S, &s->conn, reason, sizeof reason)) {
        if (s->url.socket != NULL)
            snprintf(err, err_size, "store: cannot connect to mysql database '%s' at socket '%s': %s", s->url.db,
                     s->url.socket, reason);
        else
            snprintf(err, err_size, "store: cannot connect to mysql database '%s' at %s:%u: %s", s->url.db, s->url.host,
                     s->url.port, reason);
        goto fail;
    }
    return &s->base;

fail:
    my_close(&s->base);
    return NULL;
}

/* ---- schema version and migrations ---- */

static store_rc my_read_version(my_store_t *s, my_conn_t *c, const char *op, int *version)
{
    int64_t value = 0;
    *version = 0;
    store_rc rc = my_query_int(s, c, MY_HAS_VERSION_TABLE, op, NULL, &value);
    if (rc != STORE_OK || value <= 0)
        return rc;
    rc = my_query_int(s, c, MY_VERSION, op, NULL, &value);
    if (rc == STORE_OK)
        *version = (int)value;
    return rc;
}

static store_rc my_schema_version(store_t *store, int *version)
{
    static const char op[] = "schema_version";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    return rc != STORE_OK ? rc : my_read_version(s, &s->conn, op, version);
}

/* Runs migration step `version` (its DDL commits by itself) and records it. */
static store_rc my_apply_step(my_store_t *s, my_conn_t *c, int version)
{
    static const char op[] = "migrate";
    const store_migration_t *m = store_migration_get(version);
    for (const char *const *sql = m->mysql; *sql != NULL; sql++) {
        if (mysql_real_query(c->db, *sql, strlen(*sql)) != 0) {
            (void)my_fail(s, c, op); /* notes a lost connection */
            return store_error_set(&s->base, STORE_ERROR, op, "step %d (%s): %s", version, m->summary,
                                   mysql_error(c->db));
        }
    }
    char now[TEXT_SQLTIME_SIZE];
    MYSQL_BIND params[2];
    my_in_int(&params[0], &version);
    my_in_time(&params[1], (int64_t)time(NULL), now);
    return my_exec_done(s, c, MY_VERSION_ADD, op, params, NULL);
}

/* Under the migration lock: reads the version, refuses a newer one, applies the steps. */
static store_rc my_migrate_locked(my_store_t *s, my_conn_t *c, int target, int *from, int *to)
{
    static const char op[] = "migrate";
    const char *boot = store_migration_bootstrap_mysql;
    if (mysql_real_query(c->db, boot, strlen(boot)) != 0)
        return my_fail(s, c, op);
    int version = 0;
    store_rc rc = my_read_version(s, c, op, &version);
    *from = *to = version;
    if (rc == STORE_OK && version > store_schema_latest())
        return store_error_set(&s->base, STORE_ERROR, op,
                               "database schema version %d is newer than this meetoa (%d); upgrade meetoa", version,
                               store_schema_latest());
    while (rc == STORE_OK && version < target) {
        rc = my_apply_step(s, c, version + 1);
        if (rc == STORE_OK)
            *to = ++version;
    }
    return rc;
}

static store_rc my_migrate_to(store_t *store, int target, int *from, int *to)
{
    static const char op[] = "migrate";
    my_store_t *s = my_of(store);
    my_conn_t m = {0};
    char why[STORE_ERROR_SIZE];
    *from = *to = 0;
    if (!my_connect(&s->url, MY_MIGRATE_IO_TIMEOUT_S, &m, why, sizeof why))
        return store_error_set(&s->base, STORE_ERROR, op, "database unavailable: %s", why);
    int64_t locked = 0;
    store_rc rc = my_query_int(s, &m, MY_GET_LOCK, op, NULL, &locked);
    if (rc == STORE_OK && locked != 1)
        rc = store_error_set(&s->base, STORE_ERROR, op,
                             "another process held the migration lock 'meetoa_migrate' longer than %d s",
                             MY_MIGRATE_LOCK_WAIT_S);
    if (rc == STORE_OK) {
        rc = my_migrate_locked(s, &m, target, from, to);
        if (!m.broken) {
            char saved[STORE_ERROR_SIZE];
            memcpy(saved, s->base.error, sizeof saved);
            store_rc released = my_query_int(s, &m, MY_RELEASE_LOCK, op, NULL, &locked);
            if (rc == STORE_OK)
                rc = released;
            else
                memcpy(s->base.error, saved, sizeof saved);
        }
    }
    my_conn_close(&m); /* also releases the lock on the server if RELEASE_LOCK could not run */
    return rc;
}

/* ---- users ---- */

typedef struct my_login_arg {
    const store_login_t *in;
    const char *mobile;
    bool allow_shared;
    store_session_t *session; /* NULL: the upsert only (store_user_login) */
    store_user_t *out;
    bool *mobile_conflict;
    const char *op;
} my_login_arg_t;

/* The returning login's update, by openid; used when the upsert changed no row. */
static store_rc my_login_update(my_store_t *s, const store_login_t *in, const char *op)
{
    const char *unionid = in->unionid != NULL ? in->unionid : "";
    char now[TEXT_SQLTIME_SIZE];
    MYSQL_BIND p[6];
    my_in_time(&p[0], in->now, now);
    my_in_text(&p[1], in->ip != NULL ? in->ip : "");
    my_in_time(&p[2], in->now, now);
    my_in_text(&p[3], unionid);
    my_in_text(&p[4], unionid);
    my_in_text(&p[5], in->openid);
    return my_exec_done(s, &s->conn, MY_USER_LOGIN_UPDATE, op, p, NULL);
}

/* Step 1 of store_login_session(): the upsert, then the row as it is now. */
static store_rc my_login_upsert(my_store_t *s, const store_login_t *in, const char *op, store_user_t *out)
{
    char now[TEXT_SQLTIME_SIZE];
    int gender = in->has_profile ? in->gender : 0;
    MYSQL_BIND p[10];
    my_in_text(&p[0], in->openid);
    my_in_text(&p[1], in->openid);
    my_in_text(&p[2], in->unionid != NULL ? in->unionid : "");
    my_in_text(&p[3], in->has_profile ? in->nickname : "");
    my_in_text(&p[4], in->has_profile ? in->avatar : "");
    my_in_int(&p[5], &gender);
    my_in_time(&p[6], in->now, now);
    my_in_text(&p[7], in->ip != NULL ? in->ip : "");
    my_in_time(&p[8], in->now, now);
    my_in_time(&p[9], in->now, now);
    uint64_t changed = 0;
    store_rc rc = my_exec_done(s, &s->conn, MY_USER_UPSERT, op, p, &changed);
    /* 1: inserted, 2: our row updated, 0: a duplicate left alone (same values, or the
     * duplicate was another row's username): then update our row, if any, by openid. */
    if (rc == STORE_OK && changed == 0)
        rc = my_login_update(s, in, op);
    if (rc != STORE_OK)
        return rc;
    MYSQL_BIND key;
    my_in_text(&key, in->openid);
    rc = my_user_query(s, MY_USER_BY_OPENID, op, &key, out);
    if (rc == STORE_NOT_FOUND) /* as SQLite's unique username: the openid is another row's username */
        rc = store_error_set(&s->base, STORE_CONFLICT, op, "a unique key refused the change (username)");
    return rc;
}

static store_rc my_user_get(store_t *store, int64_t id, store_user_t *out)
{
    static const char op[] = "user_get";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    if (rc != STORE_OK)
        return rc;
    MYSQL_BIND key;
    my_in_i64(&key, &id);
    return my_user_query(s, MY_USER_BY_ID, op, &key, out);
}

static store_rc my_user_get_by_openid(store_t *store, const char *openid, store_user_t *out)
{
    static const char op[] = "user_get_by_openid";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    if (rc != STORE_OK)
        return rc;
    MYSQL_BIND key;
    my_in_text(&key, openid);
    return my_user_query(s, MY_USER_BY_OPENID, op, &key, out);
}

/*
 * Executes a bound UPDATE of one user. MySQL counts changed rows, not matched ones, so
 * when nothing changed the user's existence is checked with exists_id (bound to key):
 * STORE_NOT_FOUND only when there is no such user, as on SQLite.
 */
static store_rc my_change_user(my_store_t *s, enum my_stmt_id id, const char *op, MYSQL_BIND *params,
                               enum my_stmt_id exists_id, MYSQL_BIND *key)
{
    uint64_t changed = 0;
    store_rc rc = my_exec_done(s, &s->conn, id, op, params, &changed);
    if (rc != STORE_OK || changed > 0)
        return rc;
    int64_t count = 0;
    rc = my_query_int(s, &s->conn, exists_id, op, key, &count);
    if (rc == STORE_OK && count == 0)
        rc = store_error_set(&s->base, STORE_NOT_FOUND, op, "no such user");
    return rc;
}

static store_rc my_user_set_status(store_t *store, const char *openid, int status, int64_t now)
{
    static const char op[] = "user_set_status";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    if (rc != STORE_OK)
        return rc;
    char text[TEXT_SQLTIME_SIZE];
    MYSQL_BIND p[3];
    my_in_int(&p[0], &status);
    my_in_time(&p[1], now, text);
    my_in_text(&p[2], openid);
    return my_change_user(s, MY_USER_SET_STATUS, op, p, MY_USER_OPENID_EXISTS, &p[2]);
}

static store_rc my_user_update_profile(store_t *store, int64_t id, const char *nickname, const char *avatar, int gender,
                                       int64_t now)
{
    static const char op[] = "user_update_profile";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    if (rc != STORE_OK)
        return rc;
    char text[TEXT_SQLTIME_SIZE];
    MYSQL_BIND p[6];
    my_in_text(&p[0], nickname);
    my_in_text(&p[1], avatar);
    my_in_int(&p[2], &gender);
    my_in_int(&p[3], &gender);
    my_in_time(&p[4], now, text);
    my_in_i64(&p[5], &id);
    return my_change_user(s, MY_USER_UPDATE_PROFILE, op, p, MY_USER_ID_EXISTS, &p[5]);
}

typedef struct my_mobile_arg {
    int64_t id;
    const char *mobile;
    bool allow_shared;
    int64_t now;
} my_mobile_arg_t;

/* Inside the caller's transaction: the check locks the mobile's index range, then the
 * update. *conflict is set when another live user holds the number. */
static store_rc my_mobile_bind(my_store_t *s, int64_t id, const char *mobile, bool allow_shared, int64_t now,
                               const char *op, bool *conflict)
{
    store_rc rc = STORE_OK;
    if (!allow_shared && mobile[0] != '\0') { /* an empty mobile unbinds: never "held" */
        MYSQL_BIND p[2];
        my_in_text(&p[0], mobile);
        my_in_i64(&p[1], &id);
        int64_t holder = 0;
        rc = my_query_row(s, &s->conn, MY_USER_MOBILE_TAKEN, op, p, &holder);
        if (rc == STORE_OK) {
            *conflict = true;
            return store_error_set(&s->base, STORE_CONFLICT, op, "the mobile number is bound to another user");
        }
        if (rc == STORE_NOT_FOUND)
            rc = STORE_OK;
    }
    if (rc != STORE_OK)
        return rc;
    char text[TEXT_SQLTIME_SIZE];
    MYSQL_BIND p[3];
    my_in_text(&p[0], mobile);
    my_in_time(&p[1], now, text);
    my_in_i64(&p[2], &id);
    return my_change_user(s, MY_USER_SET_MOBILE, op, p, MY_USER_ID_EXISTS, &p[2]);
}

static store_rc my_mobile_txn(my_store_t *s, void *arg)
{
    my_mobile_arg_t *a = arg;
    bool conflict = false;
    return my_mobile_bind(s, a->id, a->mobile, a->allow_shared, a->now, "user_bind_mobile", &conflict);
}

static store_rc my_user_bind_mobile(store_t *store, int64_t id, const char *mobile, bool allow_shared, int64_t now)
{
    my_mobile_arg_t arg = {id, mobile, allow_shared, now};
    return my_transaction(my_of(store), "user_bind_mobile", my_mobile_txn, &arg);
}

/* ---- sessions ---- */

/* Inserts a session; inside the caller's transaction or on its own (autocommit). */
static store_rc my_session_add(my_store_t *s, const store_session_t *session, const char *op)
{
    MYSQL_BIND p[8];
    my_in_blob(&p[0], session->token_hash, 32);
    my_in_i64(&p[1], &session->user_id);
    my_in_i64(&p[2], &session->created_at);
    my_in_i64(&p[3], &session->expires_at);
    my_in_blob(&p[4], session->session_key_sealed, session->session_key_sealed_len);
    my_in_i64(&p[5], &session->created_at); /* last_used_at */
    my_in_text(&p[6], session->ip);         /* login_ip */
    my_in_text(&p[7], session->ip);         /* last_ip */
    store_rc rc = my_exec_done(s, &s->conn, MY_SESSION_INSERT, op, p, NULL);
    if (rc == STORE_CONFLICT && s->conn.last_errno == ER_NO_REFERENCED_ROW_2)
        rc = store_error_set(&s->base, STORE_NOT_FOUND, op, "no such user");
    return rc;
}

static store_rc my_session_insert(store_t *store, const store_session_t *session)
{
    static const char op[] = "session_insert";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    return rc != STORE_OK ? rc : my_session_add(s, session, op);
}

/* ---- the login: upsert, mobile, session in one transaction ---- */

/* The whole login; run again from the start when InnoDB rolls it back for a deadlock. */
static store_rc my_login_txn(my_store_t *s, void *arg)
{
    my_login_arg_t *a = arg;
    *a->mobile_conflict = false;
    if (a->session != NULL)
        a->session->user_id = 0;
    store_rc rc = my_login_upsert(s, a->in, a->op, a->out);
    if (rc != STORE_OK || a->session == NULL || !store_user_may_login(a->out))
        return rc;
    if (a->mobile[0] != '\0') {
        rc = my_mobile_bind(s, a->out->id, a->mobile, a->allow_shared, a->in->now, a->op, a->mobile_conflict);
        if (rc != STORE_OK)
            return rc;
        snprintf(a->out->mobile, sizeof a->out->mobile, "%s", a->mobile);
        a->out->update_time = a->in->now;
    }
    a->session->user_id = a->out->id;
    return my_session_add(s, a->session, a->op);
}

/* One transaction, one commit: the row locks of the upsert (and of the mobile check) are
 * held until the session is in. */
static store_rc my_login(store_t *store, const store_login_t *in, const char *mobile, bool allow_shared,
                         store_session_t *session, store_user_t *out, bool *mobile_conflict)
{
    const char *op = session != NULL ? "login_session" : "user_login";
    my_login_arg_t arg = {in, mobile, allow_shared, session, out, mobile_conflict, op};
    return my_transaction(my_of(store), op, my_login_txn, &arg);
}

static store_rc my_session_get(store_t *store, const uint8_t token_hash[32], store_session_t *session,
                               store_user_t *user)
{
    static const char op[] = "session_get";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    if (rc != STORE_OK)
        return rc;
    MYSQL_BIND key;
    my_in_blob(&key, token_hash, 32);
    MYSQL_STMT *st = NULL;
    if ((rc = my_exec(s, &s->conn, MY_SESSION_GET, op, &key, &st)) != STORE_OK)
        return rc;
    memset(session, 0, sizeof *session);
    memcpy(session->token_hash, token_hash, 32);
    store_user_t ignored;
    MYSQL_BIND result[6 + MY_USER_NCOLS];
    my_user_buf_t buf;
    unsigned long sealed_len = 0;
    my_bool sealed_null = 0;
    my_out(&result[0], MYSQL_TYPE_LONGLONG, &session->user_id, 0, NULL, NULL);
    my_out(&result[1], MYSQL_TYPE_LONGLONG, &session->created_at, 0, NULL, NULL);
    my_out(&result[2], MYSQL_TYPE_LONGLONG, &session->expires_at, 0, NULL, NULL);
    my_out(&result[3], MYSQL_TYPE_BLOB, session->session_key_sealed, STORE_SEALED_MAX, &sealed_len, &sealed_null);
    my_out(&result[4], MYSQL_TYPE_LONGLONG, &session->last_used_at, 0, NULL, NULL);
    my_out(&result[5], MYSQL_TYPE_LONGLONG, &session->renewed_at, 0, NULL, NULL);
    my_bind_user(&result[6], &buf, user != NULL ? user : &ignored);
    rc = my_fetch(s, &s->conn, st, op, result);
    if (rc == STORE_NOT_FOUND)
        return store_error_set(&s->base, STORE_NOT_FOUND, op, "no such session");
    if (rc == STORE_OK && sealed_len > STORE_SEALED_MAX)
        return store_error_set(&s->base, STORE_ERROR, op, "session_key_sealed is longer than %d bytes",
                               STORE_SEALED_MAX);
    session->session_key_sealed_len = sealed_null ? 0 : sealed_len;
    return rc == STORE_OK ? my_finish_user(s, &buf, op) : rc;
}

static store_rc my_session_delete(store_t *store, const uint8_t token_hash[32])
{
    static const char op[] = "session_delete";
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, op);
    if (rc != STORE_OK)
        return rc;
    MYSQL_BIND key;
    my_in_blob(&key, token_hash, 32);
    uint64_t changed = 0;
    rc = my_exec_done(s, &s->conn, MY_SESSION_DELETE, op, &key, &changed);
    if (rc == STORE_OK && changed == 0)
        rc = store_error_set(&s->base, STORE_NOT_FOUND, op, "no such session");
    return rc;
}

static store_rc my_session_purge(store_t *store, int64_t now, long *deleted)
{
    static const char op[] = "session_purge";
    my_store_t *s = my_of(store);
    *deleted = 0;
    store_rc rc = my_ready(s, op);
    if (rc != STORE_OK)
        return rc;
    MYSQL_BIND p;
    my_in_i64(&p, &now);
    uint64_t changed = 0;
    rc = my_exec_done(s, &s->conn, MY_SESSION_PURGE, op, &p, &changed);
    if (rc == STORE_OK)
        *deleted = (long)changed;
    return rc;
}

/* ---- the statement layer (store_sql.h) ---- */

/* The cached statement of sql on c, prepared on first use; *owned: the cache is full and the
 * caller closes it after this one use. Result sets report their columns' max_length. */
static store_rc my_qstmt(my_store_t *s, my_conn_t *c, const store_sql_t *sql, MYSQL_STMT **out, bool *owned)
{
    size_t h = ((uintptr_t)sql >> 3) % MY_QCACHE_SIZE;
    my_qcache_entry_t *slot = NULL;
    for (size_t i = 0; i < MY_QCACHE_SIZE; i++) {
        my_qcache_entry_t *e = &c->qcache[(h + i) % MY_QCACHE_SIZE];
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
    const char *text = sql->mysql != NULL ? sql->mysql : sql->sqlite;
    MYSQL_STMT *st = mysql_stmt_init(c->db);
    if (st == NULL)
        return my_fail(s, c, sql->op);
    my_bool on = 1;
    if (mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on) != 0 ||
        mysql_stmt_prepare(st, text, strlen(text)) != 0) {
        store_rc rc = my_stmt_fail(s, c, st, sql->op);
        mysql_stmt_close(st);
        return rc;
    }
    if (slot != NULL) {
        slot->sql = sql;
        slot->st = st;
    }
    *out = st;
    *owned = slot == NULL;
    return STORE_OK;
}

static bool my_field_is_integer(enum enum_field_types type)
{
    switch (type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_YEAR:
        return true;
    default:
        return false;
    }
}

/* Fetches every row of the executed st into store_values and hands them to on_row. */
static store_rc my_sql_rows(my_store_t *s, my_conn_t *c, MYSQL_STMT *st, const store_sql_t *sql, store_row_fn on_row,
                            void *ctx)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    if (meta == NULL)
        return my_stmt_fail(s, c, st, sql->op);
    unsigned n = mysql_num_fields(meta);
    if (n > STORE_ROW_MAX_COLUMNS)
        n = STORE_ROW_MAX_COLUMNS;
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    MYSQL_BIND binds[STORE_ROW_MAX_COLUMNS];
    store_value_t cols[STORE_ROW_MAX_COLUMNS];
    unsigned long lens[STORE_ROW_MAX_COLUMNS];
    my_bool nulls[STORE_ROW_MAX_COLUMNS];
    char *buffers[STORE_ROW_MAX_COLUMNS] = {0};
    store_rc rc = STORE_OK;
    memset(binds, 0, sizeof binds);
    for (unsigned i = 0; i < n; i++) {
        memset(&cols[i], 0, sizeof cols[i]);
        if (my_field_is_integer(fields[i].type)) {
            my_out(&binds[i], MYSQL_TYPE_LONGLONG, &cols[i].i, 0, &lens[i], &nulls[i]);
            binds[i].is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
            continue;
        }
        size_t size = (size_t)fields[i].max_length + 1;
        if ((buffers[i] = malloc(size)) == NULL) {
            rc = store_error_set(&s->base, STORE_ERROR, sql->op, "out of memory");
            goto done;
        }
        my_out(&binds[i], MYSQL_TYPE_STRING, buffers[i], size, &lens[i], &nulls[i]);
    }
    if (mysql_stmt_bind_result(st, binds) != 0) {
        rc = my_stmt_fail(s, c, st, sql->op);
        goto done;
    }
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA)
            break;
        if (f == MYSQL_DATA_TRUNCATED) {
            rc = store_error_set(&s->base, STORE_ERROR, sql->op, "a column is longer than its buffer");
            break;
        }
        if (f != 0) {
            rc = my_stmt_fail(s, c, st, sql->op);
            break;
        }
        for (unsigned i = 0; i < n; i++) {
            cols[i].is_null = nulls[i] != 0;
            if (buffers[i] != NULL) {
                size_t len = nulls[i] ? 0 : lens[i];
                buffers[i][len] = '\0';
                cols[i].text = buffers[i];
                cols[i].len = len;
                cols[i].i = nulls[i] ? 0 : strtoll(buffers[i], NULL, 10); /* DECIMAL sums, numeric text */
            } else if (nulls[i]) {
                cols[i].i = 0;
            }
        }
        if (on_row != NULL) {
            store_row_t row = {.ncols = (int)n, .cols = cols};
            if ((rc = on_row(&row, ctx)) != STORE_OK)
                break;
        }
    }
done:
    for (unsigned i = 0; i < n; i++)
        free(buffers[i]);
    mysql_free_result(meta);
    return rc;
}

static store_rc my_sql_exec(store_t *store, const store_sql_t *sql, const store_arg_t *args, size_t nargs,
                            store_row_fn on_row, void *ctx, store_sql_result_t *result)
{
    my_store_t *s = my_of(store);
    my_conn_t *c = &s->conn;
    store_rc rc = s->in_txn ? STORE_OK : my_ready(s, sql->op);
    if (rc != STORE_OK)
        return rc;
    if (c->db == NULL || c->broken)
        return store_error_set(&s->base, STORE_ERROR, sql->op, "database unavailable: the connection was lost");
    MYSQL_STMT *st = NULL;
    bool owned = false;
    if ((rc = my_qstmt(s, c, sql, &st, &owned)) != STORE_OK)
        return rc;
    MYSQL_BIND params[STORE_SQL_MAX_ARGS];
    int64_t ints[STORE_SQL_MAX_ARGS];
    for (size_t i = 0; i < nargs; i++) {
        switch (args[i].kind) {
        case STORE_ARG_INT:
            ints[i] = args[i].i;
            my_in_i64(&params[i], &ints[i]);
            break;
        case STORE_ARG_TEXT:
            memset(&params[i], 0, sizeof params[i]);
            params[i].buffer_type = MYSQL_TYPE_STRING;
            params[i].buffer = (void *)args[i].p;
            params[i].buffer_length = args[i].len;
            break;
        case STORE_ARG_BLOB:
            my_in_blob(&params[i], args[i].len > 0 ? args[i].p : "", args[i].len);
            break;
        case STORE_ARG_NULL:
            my_in_text(&params[i], NULL);
            break;
        }
    }
    if ((nargs > 0 && mysql_stmt_bind_param(st, params) != 0) || mysql_stmt_execute(st) != 0 ||
        (mysql_stmt_field_count(st) > 0 && mysql_stmt_store_result(st) != 0)) {
        rc = my_stmt_fail(s, c, st, sql->op);
    } else {
        if (mysql_stmt_field_count(st) > 0)
            rc = my_sql_rows(s, c, st, sql, on_row, ctx);
        result->changes = (int64_t)mysql_stmt_affected_rows(st);
        result->insert_id = (int64_t)mysql_stmt_insert_id(st);
    }
    mysql_stmt_free_result(st);
    if (owned)
        mysql_stmt_close(st);
    return rc;
}

typedef struct my_sql_txn_arg {
    store_txn_fn fn;
    void *arg;
} my_sql_txn_arg_t;

static store_rc my_sql_txn_body(my_store_t *s, void *arg)
{
    my_sql_txn_arg_t *t = arg;
    s->in_txn = true;
    store_rc rc = t->fn(&s->base, t->arg);
    s->in_txn = false;
    return rc;
}

static store_rc my_sql_transaction(store_t *store, const char *op, store_txn_fn fn, void *arg)
{
    my_sql_txn_arg_t t = {fn, arg};
    return my_transaction(my_of(store), op, my_sql_txn_body, &t);
}

/* Group commit (store.h): START TRANSACTION ... COMMIT around the verbs of several callers. */
static store_rc my_batch_begin(store_t *store)
{
    my_store_t *s = my_of(store);
    store_rc rc = my_ready(s, "batch");
    if (rc == STORE_OK)
        rc = my_exec_done(s, &s->conn, MY_BEGIN, "batch", NULL, NULL);
    return rc;
}

static store_rc my_batch_end(store_t *store, bool commit)
{
    my_store_t *s = my_of(store);
    store_rc rc = STORE_ERROR;
    if (commit && !s->conn.broken && s->conn.db != NULL)
        rc = my_exec_done(s, &s->conn, MY_COMMIT, "batch", NULL, NULL);
    if (rc != STORE_OK)
        my_rollback(s);
    return rc;
}

static const store_backend_ops_t my_ops = {
    .name = "mysql",
    .close = my_close,
    .schema_version = my_schema_version,
    .migrate_to = my_migrate_to,
    .login = my_login,
    .user_get = my_user_get,
    .user_get_by_openid = my_user_get_by_openid,
    .user_set_status = my_user_set_status,
    .user_update_profile = my_user_update_profile,
    .user_bind_mobile = my_user_bind_mobile,
    .session_insert = my_session_insert,
    .session_get = my_session_get,
    .session_delete = my_session_delete,
    .session_purge = my_session_purge,
    .sql_exec = my_sql_exec,
    .sql_transaction = my_sql_transaction,
    .batch_begin = my_batch_begin,
    .batch_end = my_batch_end,
};
