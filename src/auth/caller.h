/*
 * auth/caller — who is calling: the token check in front of every logged-in endpoint.
 *
 * auth_require() finds the token (the configured header, else `Authorization: Bearer`),
 * and answers the request itself when there is no valid session: 501 for a missing,
 * malformed, unknown, expired or logged-out token; 720/721 for a disabled or closed
 * user; 502 when the database fails. Otherwise it calls next() with the caller, at once
 * when the session cache knows the token (no database work), or after one database read.
 * next() runs on the loop thread and must answer (now or later).
 *
 * The token is hashed under each data key in turn (auth/token.h: the current one, then the
 * previous ones) until a session is found: first in the session cache for every key, then in
 * the database for every key. The caller records the key that matched: its session_key is
 * sealed under the same data key. A token whose session was found recently is in the session
 * cache's memo (session_cache.h), which gives its hash and key without hashing it again.
 *
 * Concurrent checks of one token that the cache cannot answer share one database read
 * (session_cache.h: single-flight reads): the check that came first reads, the others wait for it
 * (while it is younger than oa.token.cache-seconds and no logout happened since it began) and
 * are answered from its result, each on its own loop thread, as if they had read it themselves.
 *
 * Last use: the database read of a session (at most once per oa.token.cache-seconds per process
 * while it is in use) also records when and from which IP it was used, when the row's
 * last_used_at is a minute old or more (store_session_touch): no write per request.
 *
 * Renewal (oa.token.renew-threshold-seconds, default a quarter of expire-seconds, 0 = off): a
 * valid token whose expiry is nearer than the threshold is replaced, before next() runs, by a new
 * session of the same user (its session_key sealed again for the new token, created_at and the
 * login IP carried over; store_session_renew, off the loop), and the answer carries the headers
 *   X-OA-Token-Renewed: <the new token>
 *   X-OA-Token-Expire:  <its expiry, ISO-8601 as login's tokenExpire>
 * The old token keeps working for STORE_SESSION_RENEW_GRACE_SECONDS (60 s; never longer than
 * its own expiry), so requests already in flight with it succeed, and it never renews again:
 * the renewal marks it (renewed_at) in the same transaction that makes the new session, so of
 * two requests near the threshold at once (on one process or several) exactly one renews and
 * the other goes through with the old token, unrenewed. Another process that cached the old
 * session before the renewal may let it live up to oa.token.cache-seconds past the grace. When
 * the request that renewed is gone before its answer (the client went away), the renewal is
 * undone (store_session_unrenew), so the old token renews again next time; a renewed answer lost
 * on the network cannot be seen: the client then logs in again after the grace.
 * auth_require_no_renew() is for the endpoints that end sessions (logout): never renewed.
 */
#ifndef MEETOA_AUTH_CALLER_H
#define MEETOA_AUTH_CALLER_H

#include <h2o.h>

#include "app/app.h"
#include "auth/token.h"
#include "guard/ip_addr.h"
#include "store/store.h"

typedef struct auth_caller {
    uint8_t token_hash[TOKEN_HASH_SIZE]; /* the hash the session is stored under */
    int key_index;                       /* the data key of that hash (token_data_key) */
    int64_t expires_at;
    bool renewed; /* a renewal replaced this session: it lives out its grace */
    /* From the cache: id, openid, unionid, nickname, avatar, mobile, gender, user_level, status
     * and deleted (session_cache.h); username, last_login_ip and the times may be empty. */
    store_user_t user;
} auth_caller_t;

typedef void (*auth_next_fn)(h2o_req_t *req, app_t *app, const auth_caller_t *caller);

/* Whether a user may log in or act: API_OK, or API_USER_CLOSED (status 2 or deleted) or
 * API_USER_DISABLED (any other status but 0). The one place that maps a user's state to an errno. */
api_errno_t auth_user_refusal(const store_user_t *user);

/* The client's IP as text (server.trusted-proxies decide whether X-Forwarded-For is believed). */
void auth_client_ip(h2o_req_t *req, const app_t *app, char out[IP_TEXT_SIZE]);

/* Always returns 0 (the request is answered now or later). */
int auth_require(h2o_req_t *req, app_t *app, auth_next_fn next);
/* auth_require() that never renews the token: for the endpoints that end sessions. */
int auth_require_no_renew(h2o_req_t *req, app_t *app, auth_next_fn next);

/* auth_require_no_renew() whose refusals (every errno it would answer in the envelope: 501, 720,
 * 721, 502) go to refuse(req, code) instead, which must answer req: for GET /wx/auth/verify,
 * which answers bare HTTP statuses to a proxy's auth_request. */
typedef void (*auth_refuse_fn)(h2o_req_t *req, api_errno_t code);
int auth_require_refuse(h2o_req_t *req, app_t *app, auth_next_fn next, auth_refuse_fn refuse);

/* auth_require() whose next() also gets ctx: a pointer the caller keeps valid (usually
 * constant data: it is not freed, whatever the outcome). */
typedef void (*auth_next_ctx_fn)(h2o_req_t *req, app_t *app, const auth_caller_t *caller, const void *ctx);
int auth_require_ctx(h2o_req_t *req, app_t *app, auth_next_ctx_fn next, const void *ctx);

#endif
