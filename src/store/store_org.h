/*
 * store_org — the organization's verbs: members and their join requests, invite codes, rooms
 * (tables oa_member, oa_invite, oa_room of migration step 3; docs/schema.md).
 *
 * Written once for every backend on the statement layer (store_sql.h); the same rules as
 * store.h: one store_t per thread, bound values only, STORE_NOT_FOUND for a missing row,
 * error texts that never quote a value. Times are epoch seconds. Strings in and out are
 * NUL-terminated UTF-8, already checked by the caller (lengths within the column sizes).
 *
 * Membership (oa_member.status): PENDING asked to join; ACTIVE a member (role MEMBER or
 * ADMIN); REJECTED an admin refused the request (reason kept); REMOVED an admin removed them.
 * A user without a row, REJECTED or REMOVED is a visitor ("none").
 */
#ifndef MEETOA_STORE_STORE_ORG_H
#define MEETOA_STORE_STORE_ORG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum { STORE_MEMBER_PENDING = 0, STORE_MEMBER_ACTIVE = 1, STORE_MEMBER_REJECTED = 2, STORE_MEMBER_REMOVED = 3 };
enum { STORE_ROLE_MEMBER = 0, STORE_ROLE_ADMIN = 1 };

/* Column sizes: characters at up to 4 bytes each, plus NUL. */
#define STORE_MEMBER_NAME_SIZE (20 * 4 + 1)
#define STORE_DEPARTMENT_SIZE  (50 * 4 + 1)
#define STORE_REASON_SIZE      (200 * 4 + 1)

typedef struct store_member {
    int64_t user_id;
    int status; /* STORE_MEMBER_* */
    int role;   /* STORE_ROLE_* */
    char name[STORE_MEMBER_NAME_SIZE];
    char department[STORE_DEPARTMENT_SIZE];
    char reason[STORE_REASON_SIZE]; /* why a request was rejected, else "" */
    int64_t invite_id;              /* the invite it joined with, 0 = none */
    int64_t requested_at, joined_at, updated_at;
    /* The generation of the member's upcoming and notice pages: every write that can change
     * what they show bumps it in its own transaction (the meeting verbs for the meeting's
     * people, a room's rename for the people of its live meetings, a member's rewrite for
     * the people of the meetings they host, any change of the member's own row). */
    int64_t list_gen;
} store_member_t;

/* Whether m (as read by store_member_get) is a member, and an admin. */
static inline bool store_member_is_active(const store_member_t *m)
{
    return m->user_id != 0 && m->status == STORE_MEMBER_ACTIVE;
}
static inline bool store_member_is_admin(const store_member_t *m)
{
    return store_member_is_active(m) && m->role == STORE_ROLE_ADMIN;
}

/* The membership row of user_id; STORE_NOT_FOUND (and *out zeroed) when there is none. */
store_rc store_member_get(store_t *store, int64_t user_id, store_member_t *out);

/* A membership with what the lists show of its user (wx_user.nickname, avatar). */
typedef struct store_member_row {
    store_member_t member;
    char nickname[STORE_NICKNAME_SIZE];
    char avatar[STORE_AVATAR_SIZE];
} store_member_row_t;

/* Called once per row of a list, in order; anything but STORE_OK stops the walk (and is returned). */
typedef store_rc (*store_member_fn)(const store_member_row_t *row, void *ctx);

/*
 * A visitor asks to join (invite_code NULL or "") or joins with an invite code. In one
 * transaction: an active member is refused (ALREADY); a code must exist, not be revoked, not be
 * expired at now and have uses left (else INVITE, nothing written), and one use is taken; then
 * the row is written: ACTIVE role MEMBER with invite_id for a code, else PENDING (a pending
 * request again keeps its requested_at). *out gets the row as written.
 */
store_rc store_member_join(store_t *store, int64_t user_id, const char *name, const char *department,
                           const char *invite_code, int64_t now, store_member_t *out, store_refusal_t *why);
/* The pending requests, oldest first: offset/limit page, *total all of them. */
store_rc store_member_requests(store_t *store, int64_t offset, int64_t limit, store_member_fn fn, void *ctx,
                               int64_t *total);
/* Approves (ACTIVE, role MEMBER) or rejects (REJECTED with reason) user_id's pending request;
 * STORE_NOT_FOUND when there is none. */
store_rc store_member_decide(store_t *store, int64_t user_id, bool approve, const char *reason, int64_t now);
/* Sets an active member's role; STORE_NOT_FOUND when not active; LAST_ADMIN refuses demoting
 * the last admin. */
store_rc store_member_set_role(store_t *store, int64_t user_id, int role, int64_t now, store_refusal_t *why);
/* Removes an active member (REMOVED); STORE_NOT_FOUND when not active; LAST_ADMIN refuses
 * removing the last admin. */
store_rc store_member_remove(store_t *store, int64_t user_id, int64_t now, store_refusal_t *why);
/* Makes user_id an active member with role (the operator's CLI): a new row named name, or an
 * existing one of any status made ACTIVE (its name kept). */
store_rc store_member_grant(store_t *store, int64_t user_id, int role, const char *name, int64_t now);
/* Active members whose name or department contains keyword (NULL or "" = all), by name. */
store_rc store_member_list(store_t *store, const char *keyword, int64_t offset, int64_t limit, store_member_fn fn,
                           void *ctx, int64_t *total);

/* ---- invite codes ---- */

#define STORE_INVITE_CODE_SIZE 33

typedef struct store_invite {
    int64_t id;
    char code[STORE_INVITE_CODE_SIZE];
    int64_t max_uses, used, expires_at, created_by, created_at;
    bool revoked;
    char creator_name[STORE_MEMBER_NAME_SIZE]; /* lists only: the creator's member name */
} store_invite_t;

typedef store_rc (*store_invite_fn)(const store_invite_t *invite, void *ctx);

/* Stores a new code (in->code, max_uses, expires_at, created_by, created_at); in->id gets its id.
 * STORE_CONFLICT when the code exists (draw another). */
store_rc store_invite_create(store_t *store, store_invite_t *in);
/* The codes, newest first. */
store_rc store_invite_list(store_t *store, int64_t offset, int64_t limit, store_invite_fn fn, void *ctx,
                           int64_t *total);
/* Revokes code id; STORE_NOT_FOUND when there is none. */
store_rc store_invite_revoke(store_t *store, int64_t id);

/* ---- rooms ---- */

#define STORE_ROOM_NAME_SIZE      (50 * 4 + 1)
#define STORE_ROOM_LOCATION_SIZE  (100 * 4 + 1)
#define STORE_ROOM_EQUIPMENT_SIZE (200 * 4 + 1)

typedef struct store_room {
    int64_t id;
    char name[STORE_ROOM_NAME_SIZE];
    char location[STORE_ROOM_LOCATION_SIZE];
    int64_t capacity;
    char equipment[STORE_ROOM_EQUIPMENT_SIZE];
    bool enabled;
    int64_t created_at, updated_at;
} store_room_t;

typedef store_rc (*store_room_fn)(const store_room_t *room, void *ctx);

/* Creates (room->id == 0; room->id gets the new id) or rewrites room (every field but the
 * times; updated_at = now). NAME_TAKEN when another room not deleted has its name;
 * STORE_NOT_FOUND when an id to update is unknown or deleted. */
store_rc store_room_save(store_t *store, store_room_t *room, int64_t now, store_refusal_t *why);
/* Room id (deleted ones are STORE_NOT_FOUND). */
store_rc store_room_get(store_t *store, int64_t id, store_room_t *out);
/* Marks room id deleted; ROOM_BUSY when a meeting in state 2 or 4 that has not ended at now
 * holds it; STORE_NOT_FOUND when unknown. */
store_rc store_room_delete(store_t *store, int64_t id, int64_t now, store_refusal_t *why);
/* Rooms by name (disabled ones too when all). */
store_rc store_room_list(store_t *store, bool all, int64_t offset, int64_t limit, store_room_fn fn, void *ctx,
                         int64_t *total);

/* A meeting that holds a room (state 2 or 4) during an interval. */
typedef struct store_room_busy {
    int64_t room_id, meeting_id, start_at, end_at;
    int state;
    char title[100 * 4 + 1];
} store_room_busy_t;

typedef store_rc (*store_room_busy_fn)(const store_room_busy_t *busy, void *ctx);

/* The meetings in state 2 or 4 holding a room that overlap [from, to), by room then start. */
store_rc store_room_busy(store_t *store, int64_t from, int64_t to, store_room_busy_fn fn, void *ctx);

#endif
