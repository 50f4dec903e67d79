/*
 * store_meeting — the meetings' verbs: create, update, change of state (with the room booking
 * check), answers, detail reads and the lists of the 会议 tab (tables oa_meeting, oa_attendee,
 * oa_meeting_log of migration step 3; docs/schema.md).
 *
 * Written once for every backend on the statement layer (store_sql.h); the rules of store.h
 * and store_org.h hold (STORE_NOT_FOUND for a missing row, refusals as store_refusal_t with
 * nothing written). The verbs store what they are given: who may do what, and when, is the
 * meeting module's business (meeting/meeting_rules.h), checked against the row the caller read;
 * every writing verb takes the version the caller read and refuses (STALE) when the row
 * changed since, so a check and its change never race.
 *
 * States: stored are 0 cancelled, 1 draft, 2 submitted, 3 rejected, 4 approved, 7 archived;
 * 5 and 6 are an approved meeting read after its start and after its end (never stored).
 * The copies of the meeting's state, start, end and visibility in oa_attendee (m_*) are kept
 * in step by these verbs, in the transaction that changes the meeting.
 */
#ifndef MEETOA_STORE_STORE_MEETING_H
#define MEETOA_STORE_STORE_MEETING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_org.h"

enum {
    STORE_MEETING_CANCELLED = 0,
    STORE_MEETING_DRAFT = 1,
    STORE_MEETING_SUBMITTED = 2,
    STORE_MEETING_REJECTED = 3,
    STORE_MEETING_APPROVED = 4,
    STORE_MEETING_IN_PROGRESS = 5, /* read only */
    STORE_MEETING_ENDED = 6,       /* read only */
    STORE_MEETING_ARCHIVED = 7,
};
enum { STORE_ATTENDEE_HOST = 0, STORE_ATTENDEE_PARTICIPANT = 1, STORE_ATTENDEE_OBSERVER = 2 };
enum { STORE_ANSWER_NONE = 0, STORE_ANSWER_ATTEND = 1, STORE_ANSWER_DECLINE = 2 };

#define STORE_MEETING_TITLE_SIZE    (100 * 4 + 1)
#define STORE_MEETING_CONTENT_SIZE  (5000 * 4 + 1)
#define STORE_MEETING_LOCATION_SIZE (100 * 4 + 1)
#define STORE_MEETING_MAX_PEOPLE    500 /* on one meeting, the host included */
#define STORE_MEETING_MAX_SECONDS   86400
#define STORE_CHECKIN_CODE_SIZE     17 /* up to 16 characters */

typedef struct store_meeting {
    int64_t id, host_id;
    int64_t approver_id; /* 0 = any admin */
    int64_t room_id;     /* 0 = elsewhere (location) */
    char title[STORE_MEETING_TITLE_SIZE];
    char content[STORE_MEETING_CONTENT_SIZE];
    char location[STORE_MEETING_LOCATION_SIZE];
    int64_t start_at, end_at;
    int state; /* as stored */
    int64_t version;
    int remind_minutes;
    char reason[STORE_REASON_SIZE];
    int64_t approved_at, attendee_count, created_at, updated_at;
    char checkin_code[STORE_CHECKIN_CODE_SIZE]; /* "" until the host first asks for the sign-in code */
    bool checkin_rotating;                      /* its code changes every oa.checkin.rotate-seconds */
    /* read with it, for answers */
    char room_name[STORE_ROOM_NAME_SIZE];
    char host_name[STORE_MEMBER_NAME_SIZE];
    char host_avatar[STORE_AVATAR_SIZE];
    char approver_name[STORE_MEMBER_NAME_SIZE];
} store_meeting_t;

/* What create and update write. Ids are checked by the caller to be distinct and not the host. */
typedef struct store_meeting_input {
    int64_t host_id, approver_id, room_id; /* 0 = none */
    const char *title, *content, *location;
    int64_t start_at, end_at;
    int remind_minutes;
    bool checkin_rotating;
    const int64_t *participants;
    size_t nparticipants;
    const int64_t *observers;
    size_t nobservers;
} store_meeting_input_t;

/*
 * Creates a draft hosted by in->host_id (who is on it as host, answer attend); *id gets its id.
 * Refused (nothing written): NOT_MEMBER when the approver or an attendee is not an active
 * member; STORE_NOT_FOUND when the room is unknown, deleted or disabled.
 */
store_rc store_meeting_create(store_t *store, const store_meeting_input_t *in, int64_t now, int64_t *id,
                              store_refusal_t *why);
/*
 * Rewrites meeting id from in (host_id is not changed) when its version is still version;
 * the attendees become in's lists (the answers of people who stay are kept). *new_version gets
 * the new version. Refused: STALE, STATE (not draft or rejected), NOT_MEMBER; STORE_NOT_FOUND
 * as create (or an unknown meeting).
 */
store_rc store_meeting_update(store_t *store, int64_t id, int64_t version, const store_meeting_input_t *in, int64_t now,
                              int64_t *new_version, store_refusal_t *why);

/* A change of state, as the meeting module decided it may happen. */
typedef struct store_transition {
    int64_t id, version;  /* the meeting, and the version its check read */
    unsigned from_states; /* bit s set: the stored state s allows the change */
    int to_state;
    int64_t user_id;    /* who, for the history */
    const char *reason; /* kept in the meeting's reason when not NULL; logged */
    bool book_room;     /* check that no other meeting in state 2 or 4 holds the room then */
    int64_t now;
    /* the subscription reminders the change queues (store_notify.h); NULL = none */
    const struct store_remind_plan *remind;
} store_transition_t;

/* The meeting that holds the room, when a booking is refused ROOM_BUSY. */
typedef struct store_clash {
    int64_t meeting_id, start_at, end_at;
} store_clash_t;

/* Changes the state (version + 1, history row, attendees' copies, the reminders of t->remind:
 * store_notify_queue_txn). Refused: STALE, STATE,
 * ROOM_BUSY (*clash says by what). *new_version gets the new version. */
store_rc store_meeting_transition(store_t *store, const store_transition_t *t, int64_t *new_version,
                                  store_clash_t *clash, store_refusal_t *why);

/* user_id's answer on meeting id (a participant or observer; STORE_NOT_FOUND otherwise) while
 * the meeting is approved and has not ended at now (else STATE). */
store_rc store_meeting_answer(store_t *store, int64_t id, int64_t user_id, int answer, const char *reason, int64_t now,
                              store_refusal_t *why);

/* Meeting id with its room's, host's and approver's names. */
store_rc store_meeting_get(store_t *store, int64_t id, store_meeting_t *out);

typedef struct store_attendee {
    int64_t user_id;
    int role, answer;
    char reason[STORE_REASON_SIZE];
    int64_t answered_at;
    char name[STORE_MEMBER_NAME_SIZE];
    char department[STORE_DEPARTMENT_SIZE];
    char avatar[STORE_AVATAR_SIZE];
    int64_t checkin_at; /* 0 = not signed in */
    bool checkin_late;
    int64_t checkin_by; /* a make-up sign-in: the host who made it (else 0) */
    char checkin_reason[STORE_REASON_SIZE];
} store_attendee_t;
typedef store_rc (*store_attendee_fn)(const store_attendee_t *a, void *ctx);
/* The people on meeting id, host first, then by role and name: one query. */
store_rc store_meeting_attendees(store_t *store, int64_t id, store_attendee_fn fn, void *ctx);

/* user_id's place on meeting id in one query: *role its STORE_ATTENDEE_* (-1 = not on it) and
 * *present the people signed in (index-only: no names read, unlike store_meeting_attendees). */
store_rc store_meeting_place(store_t *store, int64_t id, int64_t user_id, int *role, int64_t *present);

typedef struct store_meeting_log {
    int64_t user_id;
    int from_state, to_state;
    char reason[STORE_REASON_SIZE];
    int64_t created_at;
    char user_name[STORE_MEMBER_NAME_SIZE];
} store_meeting_log_t;
typedef store_rc (*store_meeting_log_fn)(const store_meeting_log_t *l, void *ctx);
/* Meeting id's history, oldest first. */
store_rc store_meeting_history(store_t *store, int64_t id, store_meeting_log_fn fn, void *ctx);

/* ---- sign-in ---- */

/* Gives meeting id the sign-in code candidate unless it has one; out gets the meeting's code
 * either way (a race of two hosts' first views ends with one code). */
store_rc store_meeting_checkin_code(store_t *store, int64_t id, const char *candidate,
                                    char out[STORE_CHECKIN_CODE_SIZE]);
/* The meeting whose sign-in code is code. */
store_rc store_meeting_by_checkin_code(store_t *store, const char *code, store_meeting_t *out);

/* A sign-in of user_id on meeting id, once: by (0 = the user by scan, else the host of a
 * make-up sign-in) with reason. STORE_NOT_FOUND when user_id is not on the meeting; STATE when
 * the meeting is not approved. When the user had signed in already nothing changes and
 * *already is true. *at and *late get the sign-in that counts. */
store_rc store_meeting_checkin(store_t *store, int64_t id, int64_t user_id, int64_t now, bool late, int64_t by,
                               const char *reason, int64_t *at, bool *late_out, bool *already, store_refusal_t *why);

/* ---- lists ---- */

typedef enum store_meeting_view {
    STORE_VIEW_MINE,     /* hosted by the caller; newest start first */
    STORE_VIEW_APPROVAL, /* submitted, the caller approves them (admins: all); soonest first */
    STORE_VIEW_NOTICE,   /* invited, not answered, approved and not ended; soonest first */
    STORE_VIEW_UPCOMING, /* on it, approved and not ended; soonest first */
    STORE_VIEW_HISTORY,  /* on it, ended or archived; newest first */
    STORE_VIEW_ALL,      /* on it and visible to the caller; newest first */
} store_meeting_view_t;

typedef struct store_meeting_item {
    int64_t id, host_id, room_id, approver_id;
    char title[STORE_MEETING_TITLE_SIZE];
    int state; /* as stored */
    int64_t start_at, end_at, attendee_count;
    char room_name[STORE_ROOM_NAME_SIZE];
    char location[STORE_MEETING_LOCATION_SIZE];
    char host_name[STORE_MEMBER_NAME_SIZE];
    int my_role;   /* STORE_ATTENDEE_*, -1 = not on it */
    int my_answer; /* STORE_ANSWER_* */
} store_meeting_item_t;
typedef store_rc (*store_meeting_item_fn)(const store_meeting_item_t *item, void *ctx);

typedef struct store_meeting_query {
    store_meeting_view_t view;
    int64_t user_id;
    bool is_admin;
    int64_t now, offset, limit;
} store_meeting_query_t;

/* What a page tells besides its items. */
typedef struct store_meeting_page {
    int64_t total; /* rows of the view in all */
    /* upcoming and notice: the first time after q->now from which the clock alone could make
     * the page read differently (a counted meeting ends, an item starts); until then only a
     * write changes it, and every such write bumps the caller's store_member_t.list_gen.
     * STORE_MEETING_PAGE_STEADY: no such time (an empty view). 0 for the other views (the
     * clock changes them in ways the page does not bound). */
    int64_t clock_bound;
} store_meeting_page_t;
#define STORE_MEETING_PAGE_STEADY INT64_MAX

/* One page of a view (one query for the page, one for the count). */
store_rc store_meeting_list(store_t *store, const store_meeting_query_t *q, store_meeting_item_fn fn, void *ctx,
                            store_meeting_page_t *out);

#endif
