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
 * sealed under the same data key.
 */
#ifndef MEETOA_AUTH_CALLER_H
#define MEETOA_AUTH_CALLER_H

#include <h2o.h>

#include "app/app.h"
#include "auth/token.h"
#include "store/store.h"

typedef struct auth_caller {
    uint8_t token_hash[TOKEN_HASH_SIZE]; /* the hash the session is stored under */
    int key_index;                       /* the data key of that hash (token_data_key) */
    int64_t expires_at;
    store_user_t user;
} auth_caller_t;

typedef void (*auth_next_fn)(h2o_req_t *req, app_t *app, const auth_caller_t *caller);

/* Whether a user may log in or act: API_OK, or API_USER_CLOSED (status 2 or deleted) or
 * API_USER_DISABLED (any other status but 0). The one place that maps a user's state to an errno. */
api_errno_t auth_user_refusal(const store_user_t *user);

/* Always returns 0 (the request is answered now or later). */
int auth_require(h2o_req_t *req, app_t *app, auth_next_fn next);

/* auth_require() whose next() also gets ctx: a pointer the caller keeps valid (usually
 * constant data: it is not freed, whatever the outcome). */
typedef void (*auth_next_ctx_fn)(h2o_req_t *req, app_t *app, const auth_caller_t *caller, const void *ctx);
int auth_require_ctx(h2o_req_t *req, app_t *app, auth_next_ctx_fn next, const void *ctx);

#endif
