/*
 * auth/account_api — the caller's own account as a whole (docs/api.md "Account"):
 *
 *   POST /wx/auth/delete_account {code}   closes the caller's account (注销). code is a fresh
 *        wx.login() code: it goes to WeChat (code2session) and must name the caller's openid,
 *        so a stolen token alone cannot close an account (another WeChat user's code: 506;
 *        WeChat's refusals: the login's errnos, 710, 711, ...). The session_key WeChat answers
 *        is wiped at once, never kept. Refused while the caller hosts meetings that have not
 *        ended (816, data {list: [{id, title, startTime}]}) or is the last admin (807). Then
 *        store/store_account.h makes the row a tombstone and erases the personal data; the
 *        uploaded avatar file is deleted; every token of the user is refused at once here
 *        (the session cache forgets the user's sessions and holds the closed row) and within
 *        oa.token.cache-seconds on other instances (their sessions are gone from the database).
 *   GET  /wx/auth/export                  a JSON file (Content-Disposition: attachment;
 *        filename="meetoa-export.json") of everything kept about the caller: profile,
 *        membership, sessions, login log, meetings with role, answer and sign-in, ballots (the
 *        choices of named votes), uploads. Its shape is documented in docs/api.md ("format":
 *        "meetoa-export", "version": 1) and changes only with a new version. Never a token, a
 *        token hash or a session_key.
 *
 * account_close() is the one way to close an account: the endpoint's worker and the
 * operator's `meetoa user delete OPENID` both call it.
 */
#ifndef MEETOA_AUTH_ACCOUNT_API_H
#define MEETOA_AUTH_ACCOUNT_API_H

#include <stdint.h>

#include "app/module.h"
#include "config/config.h"
#include "store/store.h"
#include "store/store_account.h"

extern const app_module_t account_module;

/* Closes user_id's account (store_account_delete) and, once committed, deletes its uploaded
 * avatar file. Blocking: a worker or the CLI. Outcomes as store_account_delete's. */
store_rc account_close(store_t *store, const config_t *config, int64_t user_id, int64_t now, store_hosted_fn fn,
                       void *ctx, store_refusal_t *why);

#endif
