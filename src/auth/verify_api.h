/*
 * auth/verify_api — GET /wx/auth/verify, the token check for other services behind the same
 * proxy (nginx's auth_request; docs/nginx.md).
 *
 * A valid token (the configured header or Authorization: Bearer, as every endpoint) answers
 *   200, no body, with
 *     X-OA-User-Id:      the wx_user id
 *     X-OA-Member-Role:  member | admin | none  (none: no membership, pending, rejected, removed)
 *     X-OA-Member-Name:  the member's name in the organization, UTF-8 percent-encoded (every byte
 *                        but A-Z a-z 0-9 - . _ ~); only with member or admin
 * A missing, malformed, unknown, expired or logged-out token, or a disabled or closed user,
 * answers 401 with no body; a database failure 502 (nginx turns both into 500 for the client;
 * the request never reaches the service). Cache-Control: no-store.
 *
 * It never renews the token: a proxy's subrequest answer does not reach the client, so a
 * renewed token would be lost and the old one cut to its grace (auth/caller.h).
 *
 * As fast as /wx/auth/info: the token check is the session cache's (auth_require_refuse), and
 * the membership comes from a small cache of this file (VERIFY_MEMBER_SLOTS slots in sets of
 * four under sharded mutexes; a user new to a full set replaces its oldest read): an entry answers for
 * oa.token.cache-seconds after the database read that made it, and only while this process has
 * made no write since (org_write_epoch), so a change made through this instance shows at once
 * and one made elsewhere (another instance, `meetoa user role`) within cache-seconds, as a
 * logout does. cache-seconds 0 reads the membership every time.
 */
#ifndef MEETOA_AUTH_VERIFY_API_H
#define MEETOA_AUTH_VERIFY_API_H

#include <stdbool.h>
#include <stddef.h>

#include "app/module.h"

#define VERIFY_MEMBER_SLOTS 32768 /* about 9 MiB when all in use */

extern const app_module_t verify_module;

/* UTF-8 text[0..len) percent-encoded into out (room for 3 * len + 1 bytes), NUL-terminated;
 * returns the length written. */
size_t verify_percent_encode(const char *text, size_t len, char *out);

#endif
