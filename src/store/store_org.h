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

#endif
