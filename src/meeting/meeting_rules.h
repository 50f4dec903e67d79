/*
 * meeting/meeting_rules — who may do what to a meeting, and when (docs/api.md "Meetings";
 * ../shared/meeting-oa.md). Pure functions of a meeting as read, the caller and the clock:
 * the endpoints check an action with them before asking the store to make the change (which
 * refuses it if the meeting changed since it was read: store_meeting.h), and the detail shows
 * the same answers as its "actions", so the buttons a page shows are the ones that work.
 */
#ifndef MEETOA_MEETING_MEETING_RULES_H
#define MEETOA_MEETING_MEETING_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "api/errno.h"

typedef enum meeting_action {
    MEETING_UPDATE,
    MEETING_SUBMIT,
    MEETING_APPROVE,
    MEETING_REJECT,
    MEETING_CANCEL,
    MEETING_ARCHIVE,
    MEETING_FEEDBACK,
    MEETING_ACTION_COUNT,
} meeting_action_t;

/* What the rules need to know of a meeting and of its caller. */
typedef struct meeting_facts {
    int state; /* as stored */
    int64_t start_at, end_at;
    int my_role;      /* STORE_ATTENDEE_*, -1 when not on it */
    bool is_approver; /* the caller is its named approver */
    bool is_admin;    /* the caller is an admin of the organization */
} meeting_facts_t;

/* The state as the API shows it: an approved meeting is 5 from its start and 6 from its end. */
int meeting_state_at(int stored_state, int64_t start_at, int64_t end_at, int64_t now);
/* 新建, 待审核, 驳回, 待开, 进行中, 已结束, 归档, 已取消. */
const char *meeting_state_name(int state);
/* "submit", "approve", ... (the names of the detail's actions). */
const char *meeting_action_name(meeting_action_t action);

/* Whether the caller may read the meeting: on it, its approver, or an admin. */
bool meeting_may_read(const meeting_facts_t *f);
/*
 * Whether the caller may take action now: API_OK, or the errno that refuses it: 506 when the
 * caller may never take it on this meeting, 803 when the state does not allow it now, 809 for
 * a submit whose start has passed.
 */
api_errno_t meeting_check(const meeting_facts_t *f, meeting_action_t action, int64_t now);
/* The stored states an action may start from (bit s for state s), and where it leads. */
unsigned meeting_action_from(meeting_action_t action);
int meeting_action_to(meeting_action_t action);

#endif
