/*
 * store_account — a user's account as a whole: closing it (注销) and reading everything kept
 * about it for an export (auth/account_api.h; docs/api.md "Account"). Written on the portable
 * statement layer (store_sql.h); the rules of store.h.
 *
 * Closing, store_account_delete(), in one transaction:
 *   refused (nothing written) while the user hosts a meeting that has not ended and is not
 *   cancelled (states 1-4 with end_at > now: STORE_REFUSED_STATE, the meetings handed to fn),
 *   or is the last active admin (STORE_REFUSED_LAST_ADMIN); else
 *   - wx_user becomes a tombstone: status 2 (closed), deleted 1; nickname, avatar, mobile,
 *     unionid, gender, birthday, last login IP cleared; weixin_openid and username replaced by
 *     STORE_TOMBSTONE_PREFIX and the id (a colon: never a WeChat openid), so a later login with
 *     the same WeChat account makes a new user, and the row keeps meetings, votes and minutes
 *     pointing somewhere;
 *   - oa_member (when there is one): name STORE_TOMBSTONE_NAME, department and reason cleared,
 *     role member, status removed (3) if it was active;
 *   - every session deleted (the tokens stop working: at once on this instance, through the
 *     caller's cache, and on others at their next revalidation);
 *   - named votes become anonymous: the user's oa_vote_choice rows deleted (the counts stay);
 *   - the user's reminders and subscription quotas deleted, the avatar's media checks and the
 *     content flags of the user's nickname deleted, the login log's rows replaced by one
 *     "deleted" row without an IP;
 *   - the list generation (store_member_t.list_gen) of everyone who shares a meeting with the
 *     user bumped, so no cached meeting list keeps the old name.
 * The old avatar is answered so the caller can delete its uploaded file after the commit.
 */
#ifndef MEETOA_STORE_STORE_ACCOUNT_H
#define MEETOA_STORE_STORE_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_meeting.h"

#define STORE_TOMBSTONE_PREFIX "deleted:"
#define STORE_TOMBSTONE_NAME   "已注销用户"

/* A meeting the user hosts that keeps the account from closing. */
typedef struct store_hosted_meeting {
    int64_t id, start_at;
    char title[STORE_MEETING_TITLE_SIZE];
} store_hosted_meeting_t;
typedef store_rc (*store_hosted_fn)(const store_hosted_meeting_t *m, void *ctx);

/* Closes user_id's account at now as above. STORE_OK with *why STORE_REFUSED_NOT: closed, and
 * avatar (STORE_AVATAR_SIZE) has the avatar it had; with another *why: refused, nothing
 * written (fn got the meetings for STORE_REFUSED_STATE, at most 20). STORE_NOT_FOUND: no such
 * user, or closed already. */
store_rc store_account_delete(store_t *store, int64_t user_id, int64_t now, store_hosted_fn fn, void *ctx,
                              char avatar[STORE_AVATAR_SIZE], store_refusal_t *why);

/* ---- the export: what the user did, beside the rows other modules read ---- */

/* One meeting the user is on: its role there, answer, sign-in. */
typedef struct store_account_meeting {
    int64_t id, start_at, end_at;
    int state; /* as stored */
    char title[STORE_MEETING_TITLE_SIZE];
    int role, answer; /* STORE_ATTENDEE_*, STORE_ANSWER_* */
    char reason[STORE_REASON_SIZE];
    int64_t answered_at, checkin_at;
    bool checkin_late, checkin_makeup; /* makeup: signed in by the host (补签) */
} store_account_meeting_t;
typedef store_rc (*store_account_meeting_fn)(const store_account_meeting_t *m, void *ctx);
/* The meetings user_id is on, by start. */
store_rc store_account_meetings(store_t *store, int64_t user_id, store_account_meeting_fn fn, void *ctx);

/* One ballot of the user: which vote, and for a named vote the option chosen (one row per
 * option; an anonymous vote's ballot comes once, with option "" — nothing links it to a choice). */
typedef struct store_account_ballot {
    int64_t vote_id, meeting_id;
    char title[STORE_MEETING_TITLE_SIZE];
    bool anonymous;
    char option[STORE_MEETING_TITLE_SIZE];
} store_account_ballot_t;
typedef store_rc (*store_account_ballot_fn)(const store_account_ballot_t *b, void *ctx);
store_rc store_account_ballots(store_t *store, int64_t user_id, store_account_ballot_fn fn, void *ctx);

#endif
