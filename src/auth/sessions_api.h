/*
 * auth/sessions_api — the caller's own sessions and login log (docs/api.md "Sessions"):
 *
 *   GET  /wx/auth/sessions        the caller's live sessions, newest first:
 *                                 {list:[{id, createdAt, lastUsedAt, expireTime, ip, loginIp, current}],
 *                                  total, page: 1, limit: total, pages: 1}
 *   POST /wx/auth/logout_all      ends every session of the caller, this one too: {ended: N}
 *   POST /wx/auth/logout_session  {id}: ends that one (804 when it is not one of the caller's live ones)
 *   GET  /wx/auth/login_log       ?page=&limit= (1.., 1..100, default 1 and 20): the caller's login log,
 *                                 newest first: {list:[{id, event, errno, ip, time}], total, page, limit, pages}
 *
 * A session's id is the first 8 bytes of SHA-256("meetoa session id v1" || token hash), in hex:
 * stable for the session, opaque, and neither the token nor its hash (a renewal makes a new
 * session, with a new id). The list leaves out the sessions a renewal replaced (they live out a
 * grace of a minute; auth/caller.h); lastUsedAt is as fresh as a minute plus oa.token.cache-seconds
 * (store/store_sessions.h), ip is the IP of the last use (loginIp that of the login).
 *
 * An ended session is refused at once by this process (the session cache forgets it before the
 * database row goes, and again after, so a token check that read the row in between cannot put it
 * back) and within oa.token.cache-seconds by every other process on the database (they read the
 * row again by then). These endpoints never renew the token (auth_require_no_renew): a renewal
 * just before a logout would leave a new session behind. Each ending writes the login log:
 * "logout_all", or "logout" for one session.
 *
 * Times are "YYYY-MM-DD HH:MM:SS" in oa.time-zone.
 */
#ifndef MEETOA_AUTH_SESSIONS_API_H
#define MEETOA_AUTH_SESSIONS_API_H

#include <stdint.h>

#include "app/module.h"

#define AUTH_SESSION_ID_SIZE 17 /* 16 hex digits + NUL */

/* The module: the four routes above. */
extern const app_module_t sessions_module;

/* The id that the API shows for the session stored under token_hash. */
void auth_session_id(const uint8_t token_hash[32], char out[AUTH_SESSION_ID_SIZE]);

#endif
