/* meeting/meeting_rules — see meeting_rules.h. */
#include "meeting/meeting_rules.h"

#include "store/store_meeting.h"

#define BIT(s) (1u << (s))

int meeting_state_at(int stored_state, int64_t start_at, int64_t end_at, int64_t now)
{
    if (stored_state != STORE_MEETING_APPROVED)
        return stored_state;
    if (now >= end_at)
        return STORE_MEETING_ENDED;
    if (now >= start_at)
        return STORE_MEETING_IN_PROGRESS;
    return STORE_MEETING_APPROVED;
}

const char *meeting_state_name(int state)
{
    static const char *const names[] = {"已取消", "新建", "待审核", "驳回", "待开", "进行中", "已结束", "归档"};
    return state >= 0 && state <= 7 ? names[state] : "";
}

const char *meeting_action_name(meeting_action_t action)
{
    static const char *const names[] = {"update", "submit", "approve", "reject", "cancel", "archive", "feedback"};
    return action < MEETING_ACTION_COUNT ? names[action] : "";
}

bool meeting_may_read(const meeting_facts_t *f)
{
    return f->my_role >= 0 || f->is_approver || f->is_admin;
}

unsigned meeting_action_from(meeting_action_t action)
{
    switch (action) {
    case MEETING_UPDATE:
    case MEETING_SUBMIT:
        return BIT(STORE_MEETING_DRAFT) | BIT(STORE_MEETING_REJECTED);
    case MEETING_APPROVE:
    case MEETING_REJECT:
        return BIT(STORE_MEETING_SUBMITTED);
    case MEETING_CANCEL:
        return BIT(STORE_MEETING_DRAFT) | BIT(STORE_MEETING_SUBMITTED) | BIT(STORE_MEETING_REJECTED) |
               BIT(STORE_MEETING_APPROVED);
    case MEETING_ARCHIVE:
    case MEETING_FEEDBACK:
        return BIT(STORE_MEETING_APPROVED);
    default:
        return 0;
    }
}

int meeting_action_to(meeting_action_t action)
{
    switch (action) {
    case MEETING_SUBMIT:
        return STORE_MEETING_SUBMITTED;
    case MEETING_APPROVE:
        return STORE_MEETING_APPROVED;
    case MEETING_REJECT:
        return STORE_MEETING_REJECTED;
    case MEETING_CANCEL:
        return STORE_MEETING_CANCELLED;
    case MEETING_ARCHIVE:
        return STORE_MEETING_ARCHIVED;
    default:
        return -1; /* update and feedback change no state */
    }
}

/* Whether the caller's relation to the meeting ever allows action. */
static bool permitted(const meeting_facts_t *f, meeting_action_t action)
{
    bool host = f->my_role == STORE_ATTENDEE_HOST;
    switch (action) {
    case MEETING_UPDATE:
    case MEETING_SUBMIT:
        return host;
    case MEETING_APPROVE:
    case MEETING_REJECT:
        return f->is_approver || f->is_admin;
    case MEETING_CANCEL:
    case MEETING_ARCHIVE:
        return host || f->is_admin;
    case MEETING_FEEDBACK:
        return f->my_role == STORE_ATTENDEE_PARTICIPANT || f->my_role == STORE_ATTENDEE_OBSERVER;
    default:
        return false;
    }
}

api_errno_t meeting_check(const meeting_facts_t *f, meeting_action_t action, int64_t now)
{
    if (!permitted(f, action))
        return API_NO_PERMISSION;
    if ((meeting_action_from(action) & BIT(f->state)) == 0)
        return API_MEETING_STATE;
    int shown = meeting_state_at(f->state, f->start_at, f->end_at, now);
    switch (action) {
    case MEETING_SUBMIT:
        return f->start_at > now ? API_OK : API_MEETING_STARTED;
    case MEETING_CANCEL:
        return now < f->end_at ? API_OK : API_MEETING_STATE;
    case MEETING_ARCHIVE:
        return shown == STORE_MEETING_ENDED ? API_OK : API_MEETING_STATE;
    case MEETING_FEEDBACK:
        return shown == STORE_MEETING_APPROVED || shown == STORE_MEETING_IN_PROGRESS ? API_OK : API_MEETING_STATE;
    default:
        return API_OK;
    }
}
