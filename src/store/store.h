/*
 * store — MeetOA's persistent state behind one small interface.
 *
 * A store_t is ONE database connection. It is not thread-safe: each database worker
 * thread opens its own (see runtime/db_pool.h). The handlers never see SQL; they call
 * the verbs below, which mean the same thing on every backend: SQLite (store_sqlite.c)
 * and MariaDB/MySQL (store_mysql.c), beside each other behind one vtable
 * (store_backend.h); PostgreSQL can join them the same way without touching any caller.
 *
 * Tables (see migrations in the backend files; docs/schema.md):
 *   wx_user      — exactly the original system's columns (id, username, password, gender,
 *                  birthday, last_login_time, last_login_ip, user_level, nickname, mobile,
 *                  avatar, weixin_openid, status, add_time, update_time, deleted,
 *                  share_user_id) plus unionid; unique key on weixin_openid and username.
 *   wx_session   — one row per login token: token_hash (32 bytes, primary key), user_id,
 *                  created_at, expires_at (epoch seconds), session_key_sealed (the WeChat
 *                  session_key, AES-256-GCM-sealed by the caller; the store never sees it
 *                  in clear); since step 14 last_used_at, login_ip, last_ip, renewed_at
 *                  (store/store_sessions.h).
 *   schema_version — the number of the last migration applied.
 *
 * Datetimes in wx_user are local time 'YYYY-MM-DD HH:MM:SS' text (MySQL DATETIME);
 * the struct fields carry epoch seconds (0 = NULL).
 *
 * All SQL is prepared with bound parameters; no caller text is ever pasted into SQL.
 * Error texts (store_last_error) name the operation and the database's message, never
 * a parameter value.
 */
#ifndef MEETOA_STORE_STORE_H
#define MEETOA_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

typedef enum store_rc {
    STORE_OK = 0,
    STORE_NOT_FOUND = 1, /* no such row */
    STORE_CONFLICT = 2,  /* a uniqueness rule refused the change (e.g. mobile bound elsewhere) */
    STORE_ERROR = 3,     /* the database failed; see store_last_error() */
} store_rc;

/* Why a verb changed nothing (it returned STORE_OK; everything it would have written was rolled back). */
typedef enum store_refusal {
    STORE_REFUSED_NOT = 0,    /* not refused: the change is made */
    STORE_REFUSED_INVITE,     /* the invite code is unknown, revoked, expired or used up */
    STORE_REFUSED_ALREADY,    /* the user is a member already */
    STORE_REFUSED_LAST_ADMIN, /* the change would leave the organization without an admin */
    STORE_REFUSED_NAME_TAKEN, /* another room has that name */
    STORE_REFUSED_ROOM_BUSY,  /* a meeting holds the room */
    STORE_REFUSED_STALE,      /* the row's version is not the one given */
    STORE_REFUSED_STATE,      /* the row's state does not allow the change */
    STORE_REFUSED_NOT_MEMBER, /* a person named is not a member */
    STORE_REFUSED_FULL,       /* a limit of rows (attachments of a meeting) is reached */
} store_refusal_t;

/* User status values of the original system. */
enum { STORE_USER_ACTIVE = 0, STORE_USER_DISABLED = 1, STORE_USER_CLOSED = 2 };

/* Sizes hold the column's characters at up to 4 bytes each (utf8mb4), plus NUL. */
#define STORE_OPENID_SIZE   64
#define STORE_NICKNAME_SIZE 256  /* varchar(63) */
#define STORE_AVATAR_SIZE   1024 /* varchar(255) */
#define STORE_MOBILE_SIZE   24   /* varchar(20) */
#define STORE_IP_SIZE       64
#define STORE_SEALED_MAX    128

typedef struct store_user {
    int64_t id;
    char username[STORE_OPENID_SIZE];
    char openid[STORE_OPENID_SIZE];  /* weixin_openid */
    char unionid[STORE_OPENID_SIZE]; /* "" when WeChat gave none */
    char nickname[STORE_NICKNAME_SIZE];
    char avatar[STORE_AVATAR_SIZE];
    char mobile[STORE_MOBILE_SIZE];
    char last_login_ip[STORE_IP_SIZE];
    int gender;     /* 0 unknown, 1 male, 2 female */
    int user_level; /* 0 ordinary */
    int status;     /* STORE_USER_* */
    bool deleted;
    int64_t add_time, update_time, last_login_time; /* epoch seconds, 0 = NULL */
} store_user_t;

typedef struct store_session {
    uint8_t token_hash[32];
    int64_t user_id;
    int64_t created_at, expires_at; /* epoch seconds */
    uint8_t session_key_sealed[STORE_SEALED_MAX];
    size_t session_key_sealed_len;
    /* migration step 14 (store/store_sessions.h): read by store_session_get, written by the insert */
    int64_t last_used_at;   /* when a request last used it (0 = not since its login); insert: created_at */
    int64_t renewed_at;     /* when a renewal replaced it (0 = not replaced); insert: 0 */
    char ip[STORE_IP_SIZE]; /* insert only: the client IP of the login, its login_ip and last_ip ("" = none) */
} store_session_t;

/* What a login brings to store_login_session() and store_user_login(). Strings are
 * NUL-terminated and already validated by the caller (lengths within the column sizes,
 * valid UTF-8). */
typedef struct store_login {
    const char *openid;
    const char *unionid;  /* "" or NULL when none */
    bool has_profile;     /* userInfo was sent: use the three fields below for a NEW user */
    const char *nickname; /* only read when has_profile */
    const char *avatar;
    int gender;
    const char *ip;
    int64_t now;
} store_login_t;

/*
 * Opens url: "sqlite:PATH" (PATH relative to the working directory; its parent folder is
 * created if missing), "sqlite::memory:" for tests; "mysql://user:password@host:port/db" or
 * "mysql://user@localhost/db?socket=/path" (the password may come from MEETOA_DB_PASSWORD
 * instead; see docs/schema.md).
 * Returns NULL and writes one line to err on failure. Does not migrate.
 */
store_t *store_open(const char *url, char *err, size_t err_size);
void store_close(store_t *store);
/* The last error's text, for logs. Valid until the next call on this store. */
const char *store_last_error(store_t *store);
/* The backend's name: "sqlite" (or "mysql"). */
const char *store_backend_name(store_t *store);

/* The schema version in the database (0 = empty database). */
store_rc store_schema_version(store_t *store, int *version);
/* The newest schema version this binary knows. */
int store_schema_latest(void);
/*
 * Applies every migration newer than the database's version, each in its own transaction.
 * *from and *to (may be NULL) receive the versions before and after. A database newer than
 * this binary is refused with STORE_ERROR and a clear store_last_error().
 * Safe when several processes start at once.
 */
store_rc store_migrate(store_t *store, int *from, int *to);

/* Whether a user may log in and act: status STORE_USER_ACTIVE and not deleted. */
bool store_user_may_login(const store_user_t *user);

/*
 * A whole login, in ONE transaction: all of it is written or none of it.
 *   1. The upsert: the first login of an openid inserts a wx_user row (username = openid,
 *      status 0, add_time = last_login_time = now, the profile when has_profile, else ''
 *      and gender 0); a later login updates last_login_time, last_login_ip, update_time
 *      and, when given, unionid (the profile is left alone). Two concurrent first logins
 *      of one openid (even from two processes) make exactly one row.
 *   2. Only when the user may log in (store_user_may_login()):
 *      a. when mobile is not "", binds it as store_user_bind_mobile(allow_shared) does;
 *      b. inserts *session, its user_id set to the user's id.
 * Outcomes:
 *   STORE_OK, session->user_id == out->id: the login and its session are committed; *out
 *     is the row after the change (mobile included).
 *   STORE_OK, session->user_id == 0: the user may not log in (disabled, closed or
 *     deleted); the upsert of step 1 is committed (as the original system records every
 *     login attempt's last_login_time), nothing else. *out is the row: the caller refuses.
 *   STORE_CONFLICT with *mobile_conflict true: mobile is bound to another live user and
 *     allow_shared is false. Everything was rolled back: a new openid has no row, a
 *     returning user's row is unchanged, no session.
 *   any other rc (*mobile_conflict false): nothing was written (STORE_CONFLICT: a unique
 *     key refused the upsert or the session's token hash; STORE_ERROR: the database failed).
 * On every outcome but the first, session->user_id is 0; on every failure *out is zeroed.
 * mobile must not be NULL ("" = none); mobile_conflict may be NULL.
 */
store_rc store_login_session(store_t *store, const store_login_t *in, const char *mobile, bool allow_shared,
                             store_session_t *session, store_user_t *out, bool *mobile_conflict);
/*
 * Step 1 of store_login_session() alone (its own transaction, same guarantees), whatever
 * the user's status: *out receives the row as it is after the change. For tools and tests;
 * a login answered to a client goes through store_login_session().
 */
store_rc store_user_login(store_t *store, const store_login_t *in, store_user_t *out);
store_rc store_user_get(store_t *store, int64_t id, store_user_t *out);
store_rc store_user_get_by_openid(store_t *store, const char *openid, store_user_t *out);
/* Sets status (STORE_USER_*) of the user with that openid; used by `meetoa user`. */
store_rc store_user_set_status(store_t *store, const char *openid, int status, int64_t now);
/* Updates the profile: NULL (or gender < 0) leaves a field as it is. */
store_rc store_user_update_profile(store_t *store, int64_t id, const char *nickname, const char *avatar, int gender,
                                   int64_t now);
/*
 * Binds mobile to the user. When another live (not deleted) user already has that mobile
 * and allow_shared is false, changes nothing and returns STORE_CONFLICT.
 */
store_rc store_user_bind_mobile(store_t *store, int64_t id, const char *mobile, bool allow_shared, int64_t now);

store_rc store_session_insert(store_t *store, const store_session_t *session);
/* Reads a session and its user. STORE_NOT_FOUND when no such token hash (expired ones are
 * returned: the caller compares expires_at). */
store_rc store_session_get(store_t *store, const uint8_t token_hash[32], store_session_t *session, store_user_t *user);
/* Deletes one session; STORE_NOT_FOUND when there was none. */
store_rc store_session_delete(store_t *store, const uint8_t token_hash[32]);
/* Deletes sessions whose expires_at < now; *deleted (may be NULL) gets the count. */
store_rc store_session_purge(store_t *store, int64_t now, long *deleted);

/*
 * Group commit: several callers' verbs in ONE transaction with one commit (runtime/db_pool.h
 * uses it for logins). store_batch_begin() opens the transaction (on SQLite BEGIN IMMEDIATE: the
 * write lock is held from here; it waits at most 200 ms for it, not the busy timeout); until store_batch_end() every
 * verb on this store, and store_sql_transaction(), runs inside it without beginning, committing or rolling back its own
 * transaction. A verb that fails (STORE_ERROR or STORE_CONFLICT, or any rc but STORE_OK at the
 * end of what would have been its own transaction) marks the batch failed: store_batch_failed()
 * turns true and stays so; the caller should stop adding work. Verbs keep their own outcomes
 * (what they return and fill in), but none of their writes is durable before store_batch_end():
 * STORE_OK when the whole batch was committed; anything else means NOTHING of the batch was
 * written (rolled back because it failed, or the commit failed), and the caller runs each piece
 * of work again on its own. A broken connection is not reopened inside a batch (the verb fails).
 * Batches do not nest; a store is in at most one.
 */
store_rc store_batch_begin(store_t *store);
bool store_batch_failed(const store_t *store);
store_rc store_batch_end(store_t *store);

/*
 * Upkeep after the answers: work that a commit would do at its end, moved to a moment chosen
 * by the caller (runtime/db_pool.h: after the jobs' answers went out, the batch slot given back).
 * store_defer_upkeep() switches the connection over for good; from then on store_upkeep() does
 * that work when it is due, and is cheap when it is not. On SQLite it is the WAL checkpoint
 * (copying the WAL's pages back into the database file), which SQLite otherwise runs inside the
 * COMMIT that leaves the WAL at 1,000 pages or more, so that the commit's callers wait for it;
 * store_upkeep() runs it PASSIVE each time 1,000 more pages were written: it waits for no lock,
 * and other connections read and write meanwhile; when the WAL has reached 4,000 pages (writers
 * that never pause keep a passive checkpoint from ever copying all of it, and the WAL is started
 * over only then) it copies the rest with new writers held off, waiting at most 200 ms for the
 * writer of the moment (not when a reader's old snapshot keeps most of it: then it grows until
 * the reader is gone, as with SQLite's own checkpoints). MariaDB has none (both are no-ops). A
 * connection never switched over keeps SQLite's automatic checkpoints (the CLI commands, tests).
 */
void store_defer_upkeep(store_t *store);
store_rc store_upkeep(store_t *store);

#endif
