/*
 * store_sessions — a user's own sessions (wx_session, the columns of migration step 14) and their
 * login log (oa_login_log), for auth/sessions_api.h and the token check (auth/caller.h). Written on
 * the portable statement layer (store_sql.h); the rules of store.h.
 *
 * wx_session, beside what store.h says:
 *   last_used_at, last_ip  when and from where a request last used the session. Not written per
 *                          request: the token check, which reads the row anyway when its cache entry
 *                          is older than oa.token.cache-seconds, calls store_session_touch() only when
 *                          the row's last_used_at is STORE_SESSION_TOUCH_SECONDS old or more. So a
 *                          session in use costs at most one write a minute, whatever its traffic.
 *   login_ip               the client IP of the login (carried over by a renewal).
 *   renewed_at             when store_session_renew() replaced the session by a new one (0 = not).
 *                          A replaced session lives at most STORE_SESSION_RENEW_GRACE_SECONDS more and
 *                          is never renewed again; it is left out of store_session_list().
 *
 * oa_login_log: one row per event of a user (STORE_LOGIN_EVENT_*), with its errno (refused) and the
 * client IP; rows older than oa.auth.login-log-days are deleted by store_login_log_purge().
 */
#ifndef MEETOA_STORE_STORE_SESSIONS_H
#define MEETOA_STORE_STORE_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_SESSION_TOUCH_SECONDS       60 /* last_used_at is written at most this often per session */
#define STORE_SESSION_RENEW_GRACE_SECONDS 60 /* a renewed token keeps working this long (at most) */

/* The events of the login log (oa_login_log.event). */
#define STORE_LOGIN_EVENT_LOGIN      "login"
#define STORE_LOGIN_EVENT_LOGOUT     "logout"
#define STORE_LOGIN_EVENT_LOGOUT_ALL "logout_all"
#define STORE_LOGIN_EVENT_PHONE      "phone"
#define STORE_LOGIN_EVENT_DELETED    "deleted"
#define STORE_LOGIN_EVENT_REFUSED    "refused"
#define STORE_LOGIN_EVENT_SIZE       17

/* One live session of a user, as the sessions list shows it. */
typedef struct store_session_row {
    uint8_t token_hash[32]; /* never answered: auth/sessions_api.h derives the session's id from it */
    int64_t created_at, last_used_at, expires_at;
    char login_ip[STORE_IP_SIZE], last_ip[STORE_IP_SIZE];
} store_session_row_t;

typedef store_rc (*store_session_row_fn)(const store_session_row_t *row, void *ctx);
/* User user_id's sessions that are live at now and not replaced by a renewal, newest first. */
store_rc store_session_list(store_t *store, int64_t user_id, int64_t now, store_session_row_fn fn, void *ctx);
/* Records a use of the session at now from ip, unless its last_used_at is less than
 * STORE_SESSION_TOUCH_SECONDS old (then nothing is written: another process did it). STORE_OK either way. */
store_rc store_session_touch(store_t *store, const uint8_t token_hash[32], int64_t now, const char *ip);
/* Deletes every session of the user (logout everywhere); *ended gets how many of them were live and
 * not replaced (the ones store_session_list showed). */
store_rc store_session_delete_user(store_t *store, int64_t user_id, int64_t now, long *ended);

/*
 * Renewal: replaces the session old_hash, in one transaction, by *fresh (its token_hash,
 * expires_at and, through reseal, session_key_sealed given by the caller; user_id, created_at and
 * login_ip are the old session's, last_used_at = now, last_ip = ip), and marks the old one renewed
 * at now with its expiry cut to now + grace (never lengthened).
 * reseal(ctx, old, fresh) runs inside the transaction with the old row's sealed session_key in
 * *old (token_hash, user_id, sealed key): it seals the same key for *fresh (session_key_sealed and
 * its length); false rolls everything back (STORE_ERROR). The store never sees the key in clear.
 * Outcomes: STORE_OK with *renewed true: done; STORE_OK with *renewed false: nothing written, the
 * session was renewed already (by a concurrent request, here or in another process) or has
 * expired; STORE_NOT_FOUND: no such session (logged out); else the database failed.
 */
typedef bool (*store_reseal_fn)(void *ctx, const store_session_t *old, store_session_t *fresh);
store_rc store_session_renew(store_t *store, const uint8_t old_hash[32], int64_t now, int grace, const char *ip,
                             store_session_t *fresh, store_reseal_fn reseal, void *ctx, bool *renewed);
/* Undoes a renewal whose new token never reached its client: deletes the session fresh_hash and gives
 * the old one back its expiry old_expires_at and renewed_at 0, so the old token renews again later. */
store_rc store_session_unrenew(store_t *store, const uint8_t old_hash[32], int64_t old_expires_at,
                               const uint8_t fresh_hash[32]);

/* ---- the login log ---- */

typedef struct store_login_log_row {
    int64_t id;
    char event[STORE_LOGIN_EVENT_SIZE];
    int err; /* the errno of a refused login, else 0 */
    char ip[STORE_IP_SIZE];
    int64_t created_at;
} store_login_log_row_t;

/* Adds a row: event one of STORE_LOGIN_EVENT_*, err the errno of a refusal (else 0), ip "" or NULL
 * when unknown. */
store_rc store_login_log_add(store_t *store, int64_t user_id, const char *event, int err, const char *ip, int64_t now);
typedef store_rc (*store_login_log_fn)(const store_login_log_row_t *row, void *ctx);
/* The user's rows, newest first: limit of them from offset; *total gets how many there are. */
store_rc store_login_log_list(store_t *store, int64_t user_id, int64_t offset, int64_t limit, store_login_log_fn fn,
                              void *ctx, int64_t *total);
/* Deletes the rows created before `before`; *deleted (may be NULL) gets the count. */
store_rc store_login_log_purge(store_t *store, int64_t before, long *deleted);

#endif
