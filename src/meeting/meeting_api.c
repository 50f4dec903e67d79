/* meeting/meeting_api — see meeting_api.h. */
#include "meeting/meeting_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/caller.h"
#include "common/clock.h"
#include "common/text.h"
#include "content/content_check.h"
#include "meeting/list_cache.h"
#include "meeting/meeting_rules.h"
#include "notify/notify_api.h"
#include "org/org_job.h"
#include "store/store_meeting.h"
#include "store/store_minutes.h"

/* A meeting's form at its limits: 5,000 characters of content sent as JSON escapes (up to 12
 * bytes each for an emoji), 500 ids, the other fields: above server.max-body-bytes' default. */
#define MEETING_FORM_MAX_BODY (256 * 1024)

/* ---- names ---- */

static const char *attendee_role_name(int role)
{
    switch (role) {
    case STORE_ATTENDEE_HOST:
        return "host";
    case STORE_ATTENDEE_PARTICIPANT:
        return "participant";
    case STORE_ATTENDEE_OBSERVER:
        return "observer";
    default:
        return "";
    }
}

static const char *answer_name(int answer)
{
    return answer == STORE_ANSWER_ATTEND ? "attend" : (answer == STORE_ANSWER_DECLINE ? "decline" : "none");
}

/* myRole: the caller's role on it, else "approver", "admin" or "". */
static const char *my_role_name(const meeting_facts_t *f)
{
    if (f->my_role >= 0)
        return attendee_role_name(f->my_role);
    return f->is_approver ? "approver" : (f->is_admin ? "admin" : "");
}

static meeting_facts_t facts_of(const org_job_t *job, int state, int64_t start_at, int64_t end_at, int64_t approver_id,
                                int my_role)
{
    return (meeting_facts_t){.state = state,
                             .start_at = start_at,
                             .end_at = end_at,
                             .my_role = my_role,
                             .is_approver = approver_id != 0 && approver_id == job->user.id,
                             .is_admin = store_member_is_admin(&job->member)};
}

/* ---- reading a meeting and the caller's place on it ---- */

typedef struct meeting_view {
    store_meeting_t *m;
    json_t *attendees; /* the detail's list (NULL = not wanted) */
    int64_t attend, decline, none;
    int64_t present, late; /* signed in; of them late */
    int64_t expected;      /* everyone on it */
    int my_role;
    int64_t *participants, *observers; /* the current lists (update) */
    size_t nparticipants, nobservers;
} meeting_view_t;

static store_rc on_attendee(const store_attendee_t *a, void *ctx)
{
    meeting_view_t *v = ctx;
    if (a->user_id == 0)
        return STORE_OK;
    if (a->role == STORE_ATTENDEE_PARTICIPANT && v->participants != NULL)
        v->participants[v->nparticipants++] = a->user_id;
    if (a->role == STORE_ATTENDEE_OBSERVER && v->observers != NULL)
        v->observers[v->nobservers++] = a->user_id;
    v->expected++;
    if (a->checkin_at != 0) {
        v->present++;
        v->late += a->checkin_late;
    }
    if (a->answer == STORE_ANSWER_ATTEND)
        v->attend++;
    else if (a->answer == STORE_ANSWER_DECLINE)
        v->decline++;
    else
        v->none++;
    if (v->attendees != NULL) {
        json_t *item = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b}", "userId",
                                 (json_int_t)a->user_id, "name", a->name, "department", a->department, "avatar",
                                 a->avatar, "role", attendee_role_name(a->role), "answer", answer_name(a->answer),
                                 "reason", a->reason, "answerTime", org_time_json(a->answered_at), "checkinTime",
                                 org_time_json(a->checkin_at), "late", a->checkin_late, "makeup", a->checkin_by != 0);
        if (json_array_append_new(v->attendees, item) != 0)
            return STORE_ERROR;
    }
    return STORE_OK;
}

/* The caller's role, found while the attendees are read: a wrapper of on_attendee. */
typedef struct role_walk {
    meeting_view_t *v;
    int64_t user_id;
} role_walk_t;

static store_rc on_attendee_role(const store_attendee_t *a, void *ctx)
{
    role_walk_t *w = ctx;
    if (a->user_id == w->user_id)
        w->v->my_role = a->role;
    return on_attendee(a, w->v);
}

/*
 * Reads meeting id and its attendees into v (v->m allocated and owned by the job), and the
 * caller's facts into *f. false when the job failed (804 unknown, 506 may not read it, 502).
 */
static bool load_meeting_as(org_job_t *job, store_t *store, int64_t id, meeting_view_t *v, meeting_facts_t *f)
{
    if (job->nowned + 3 > ORG_JOB_MAX_OWNED) {
        org_fail(job, API_SERIOUS, NULL);
        return false;
    }
    v->m = malloc(sizeof *v->m);
    if (v->m == NULL) {
        org_fail(job, API_SERIOUS, NULL);
        return false;
    }
    job->owned[job->nowned++] = v->m;
    store_rc rc = store_meeting_get(store, id, v->m);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "meeting get");
        return false;
    }
    v->my_role = -1;
    role_walk_t w = {v, job->user.id};
    rc = store_meeting_attendees(store, id, on_attendee_role, &w);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "meeting attendees");
        return false;
    }
    *f = facts_of(job, v->m->state, v->m->start_at, v->m->end_at, v->m->approver_id, v->my_role);
    if (!meeting_may_read(f)) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return false;
    }
    return true;
}

/* {id, version, state, stateName} of a meeting after a change. */
static json_t *change_json(int64_t id, int64_t version, int state, int64_t start_at, int64_t end_at, int64_t now)
{
    int shown = meeting_state_at(state, start_at, end_at, now);
    return json_pack("{s:I, s:I, s:i, s:s}", "id", (json_int_t)id, "version", (json_int_t)version, "state", shown,
                     "stateName", meeting_state_name(shown));
}

/* The refusals of the store's meeting verbs, as errnos. */
static void fail_refusal(org_job_t *job, store_refusal_t why, const store_clash_t *clash)
{
    switch (why) {
    case STORE_REFUSED_STALE:
        org_fail(job, API_STALE_UPDATE, NULL);
        break;
    case STORE_REFUSED_STATE:
        org_fail(job, API_MEETING_STATE, NULL);
        break;
    case STORE_REFUSED_NOT_MEMBER:
        org_fail(job, API_ATTENDEE_NOT_MEMBER, NULL);
        break;
    case STORE_REFUSED_ROOM_BUSY: {
        char from[TEXT_SQLTIME_SIZE] = "", to[TEXT_SQLTIME_SIZE] = "";
        if (clash != NULL) {
            text_sqltime(clash->start_at, from);
            text_sqltime(clash->end_at, to);
        }
        org_fail(job, API_ROOM_OCCUPIED, "会议室已被占用：%s 至 %s", from, to);
        break;
    }
    default:
        org_fail(job, API_SERIOUS, NULL);
        break;
    }
}

/* ---- create and update: the form ---- */

/*
 * Reads the meeting's fields over *in (for update, in holds the meeting as it is; for create,
 * zeros) and checks them. lists: the current participants and observers (update), replaced by
 * the ones given.
 */
static bool read_form(org_job_t *job, store_meeting_input_t *in, bool create)
{
    const char *title, *content, *location;
    int64_t start = in->start_at, end = in->end_at, approver = in->approver_id, room = in->room_id;
    bool has_room = false, has_approver = false;
    long remind = create ? 15 : in->remind_minutes;
    bool rotating = create ? false : in->checkin_rotating;
    int64_t *parts = NULL, *obs = NULL;
    size_t nparts = 0, nobs = 0;
    bool has_parts = false, has_obs = false;
    if (!org_param_text(job, "title", create, 1, 100, false, &title, "标题须为1到100个字符") ||
        !org_param_text(job, "content", false, 0, 5000, true, &content, "内容须为0到5000个字符") ||
        !org_param_time(job, "startTime", create, &start, NULL, "开始时间须为 YYYY-MM-DD HH:MM:SS") ||
        !org_param_time(job, "endTime", create, &end, NULL, "结束时间须为 YYYY-MM-DD HH:MM:SS") ||
        !org_param_id(job, "roomId", false, &room, &has_room, "roomId 无效") ||
        !org_param_text(job, "location", false, 1, 100, false, &location, "地点须为1到100个字符") ||
        !org_param_ids(job, "participantIds", create, STORE_MEETING_MAX_PEOPLE, &parts, &nparts, &has_parts,
                       "participantIds 须为成员id的数组") ||
        !org_param_ids(job, "observerIds", false, STORE_MEETING_MAX_PEOPLE, &obs, &nobs, &has_obs,
                       "observerIds 须为成员id的数组") ||
        !org_param_id(job, "approverId", false, &approver, &has_approver, "approverId 无效") ||
        !org_param_int(job, "remindMinutes", false, 0, 1440, &remind, NULL, "remindMinutes 须为0到1440") ||
        !org_param_bool(job, "checkinRotating", false, &rotating, NULL))
        return false;
    in->checkin_rotating = rotating;
    if (has_room && location != NULL) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "会议室与地点只能选一个");
        return false;
    }
    if (has_room) {
        in->room_id = room;
        in->location = "";
    } else if (location != NULL) {
        in->room_id = 0;
        in->location = location;
    } else if (create) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "请选择会议室或填写地点");
        return false;
    }
    /* approverId: null (or absent on create) = any admin */
    json_t *given = json_object_get(job->params, "approverId");
    in->approver_id = has_approver ? approver : (given != NULL || create ? 0 : in->approver_id);
    if (in->approver_id == in->host_id) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "审批人不能是发起人");
        return false;
    }
    if (title != NULL)
        in->title = title;
    if (content != NULL)
        in->content = content;
    else if (create)
        in->content = "";
    in->start_at = start;
    in->end_at = end;
    in->remind_minutes = (int)remind;
    if (in->end_at <= in->start_at) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "结束时间须晚于开始时间");
        return false;
    }
    if (in->end_at - in->start_at > STORE_MEETING_MAX_SECONDS) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "会议时长不能超过24小时");
        return false;
    }
    if (has_parts || create) {
        in->participants = parts;
        in->nparticipants = nparts;
    }
    if (has_obs || create) {
        in->observers = obs;
        in->nobservers = nobs;
    }
    if (1 + in->nparticipants + in->nobservers > STORE_MEETING_MAX_PEOPLE) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "参会人数不能超过500");
        return false;
    }
    /* nobody twice, the host not among them: at most 500 ids, a quadratic check is cheap */
    size_t n = in->nparticipants + in->nobservers;
    for (size_t i = 0; i < n; i++) {
        int64_t a = i < in->nparticipants ? in->participants[i] : in->observers[i - in->nparticipants];
        if (a == in->host_id) {
            org_fail(job, API_BAD_ARGUMENT_VALUE, "发起人无需列为参会人");
            return false;
        }
        for (size_t j = i + 1; j < n; j++) {
            int64_t b = j < in->nparticipants ? in->participants[j] : in->observers[j - in->nparticipants];
            if (a == b) {
                org_fail(job, API_BAD_ARGUMENT_VALUE, "参会人不能重复");
                return false;
            }
        }
    }
    return true;
}

static void store_write_failed(org_job_t *job, store_t *store, store_rc rc, store_refusal_t why, const char *what)
{
    if (rc != STORE_OK)
        org_fail_store(job, store, rc, what);
    else
        fail_refusal(job, why, NULL);
}

/* POST /wx/meeting/create (member) */
static void run_meeting_create(org_job_t *job, store_t *store)
{
    store_meeting_input_t in = {.host_id = job->user.id};
    if (!read_form(job, &in, true))
        return;
    int64_t id = 0;
    store_refusal_t why;
    store_rc rc = store_meeting_create(store, &in, job->now, &id, &why);
    if (rc != STORE_OK || why != STORE_REFUSED_NOT) {
        store_write_failed(job, store, rc, why, "meeting create");
        return;
    }
    job->data = json_pack("{s:I, s:I}", "id", (json_int_t)id, "version", (json_int_t)1);
}
/* What WeChat's content check reads of a meeting's form (content/content_check.h). */
static const content_field_t MEETING_TEXTS[] = {{"title", "标题", 3}, {"content", "内容", 3}, {NULL, NULL, 0}};

ORG_ENDPOINT_CHECKED(meeting_create, ORG_MEMBER, run_meeting_create, MEETING_TEXTS)

/* The version the request gives, when it gives one: false (job failed 504) when it is stale. */
static bool version_current(org_job_t *job, int64_t current)
{
    long version = 0;
    bool present = false;
    if (!org_param_int(job, "version", false, 1, 2147483647L, &version, &present, "version 无效"))
        return false;
    if (present && version != current) {
        org_fail(job, API_STALE_UPDATE, NULL);
        return false;
    }
    return true;
}

/* Checks action for the caller: 506 first, then a stale version (504), then the state's errno. */
static bool action_allowed(org_job_t *job, const meeting_facts_t *f, meeting_action_t action, int64_t version)
{
    api_errno_t err = meeting_check(f, action, job->now);
    if (err == API_NO_PERMISSION) {
        org_fail(job, err, NULL);
        return false;
    }
    if (!version_current(job, version))
        return false;
    if (err != API_OK) {
        org_fail(job, err, NULL);
        return false;
    }
    return true;
}

/* POST /wx/meeting/update {id, version, ...} (host; draft or rejected) */
static void run_meeting_update(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    long version = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") ||
        !org_param_int(job, "version", true, 1, 2147483647L, &version, NULL, "version 无效"))
        return;
    int64_t *parts = calloc(STORE_MEETING_MAX_PEOPLE, sizeof(int64_t));
    int64_t *obs = calloc(STORE_MEETING_MAX_PEOPLE, sizeof(int64_t));
    if (parts == NULL || obs == NULL || job->nowned + 5 > ORG_JOB_MAX_OWNED) {
        free(parts);
        free(obs);
        org_fail(job, API_SERIOUS, NULL);
        return;
    }
    job->owned[job->nowned++] = parts;
    job->owned[job->nowned++] = obs;
    meeting_view_t v = {.participants = parts, .observers = obs};
    meeting_facts_t f;
    if (!load_meeting_as(job, store, id, &v, &f) || !action_allowed(job, &f, MEETING_UPDATE, v.m->version))
        return;
    const store_meeting_t *m = v.m;
    store_meeting_input_t in = {.host_id = m->host_id,
                                .approver_id = m->approver_id,
                                .room_id = m->room_id,
                                .title = m->title,
                                .content = m->content,
                                .location = m->location,
                                .start_at = m->start_at,
                                .end_at = m->end_at,
                                .remind_minutes = m->remind_minutes,
                                .checkin_rotating = m->checkin_rotating,
                                .participants = parts,
                                .nparticipants = v.nparticipants,
                                .observers = obs,
                                .nobservers = v.nobservers};
    if (!read_form(job, &in, false))
        return;
    int64_t new_version = 0;
    store_refusal_t why;
    store_rc rc = store_meeting_update(store, id, version, &in, job->now, &new_version, &why);
    if (rc != STORE_OK || why != STORE_REFUSED_NOT) {
        store_write_failed(job, store, rc, why, "meeting update");
        return;
    }
    job->data = change_json(id, new_version, m->state, in.start_at, in.end_at, job->now);
}
ORG_ENDPOINT_CHECKED(meeting_update, ORG_MEMBER, run_meeting_update, MEETING_TEXTS)

/* ---- changes of state ---- */

/* Archiving needs the minutes (会议纪要): 803 without them. */
static bool has_minutes(org_job_t *job, store_t *store, int64_t id)
{
    store_minutes_t minutes;
    store_rc rc = store_minutes_get(store, id, &minutes);
    bool written = rc == STORE_OK && minutes.text != NULL && minutes.text[0] != '\0';
    free(minutes.text);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        org_fail_store(job, store, rc, "minutes");
        return false;
    }
    if (!written)
        org_fail(job, API_MEETING_STATE, "归档前请先填写会议纪要");
    return written;
}

/* Reads meeting id, checks action for the caller and makes the change. */
static void change_state(org_job_t *job, store_t *store, int64_t id, meeting_action_t action, const char *reason)
{
    meeting_view_t v = {0};
    meeting_facts_t f;
    if (!load_meeting_as(job, store, id, &v, &f) || !action_allowed(job, &f, action, v.m->version))
        return;
    if (action == MEETING_ARCHIVE && !has_minutes(job, store, id))
        return;
    store_transition_t t = {.id = id,
                            .version = v.m->version,
                            .from_states = meeting_action_from(action),
                            .to_state = meeting_action_to(action),
                            .user_id = job->user.id,
                            .reason = reason,
                            .book_room = action == MEETING_SUBMIT || action == MEETING_APPROVE,
                            .now = job->now,
                            .remind = notify_plan()};
    int64_t new_version = 0;
    store_clash_t clash;
    store_refusal_t why;
    store_rc rc = store_meeting_transition(store, &t, &new_version, &clash, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "meeting transition");
        return;
    }
    if (why != STORE_REFUSED_NOT) {
        fail_refusal(job, why, &clash);
        return;
    }
    if (t.remind != NULL)
        notify_wake(); /* what the change queued due now goes out at once */
    job->data = change_json(id, new_version, t.to_state, v.m->start_at, v.m->end_at, job->now);
}

/* POST /wx/meeting/submit {id, version?} (host) */
static void run_meeting_submit(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (org_param_id(job, "id", true, &id, NULL, "id 无效"))
        change_state(job, store, id, MEETING_SUBMIT, NULL);
}
ORG_ENDPOINT(meeting_submit, ORG_MEMBER, run_meeting_submit)

/* POST /wx/meeting/approve {id, approve, reason?, version?} (approver or admin) */
static void run_meeting_approve(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    bool approve = false;
    const char *reason;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") || !org_param_bool(job, "approve", true, &approve, NULL) ||
        !org_param_text(job, "reason", false, approve ? 0 : 1, 200, false, &reason, "驳回须填写1到200个字符的原因"))
        return;
    if (!approve && reason == NULL) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "驳回须填写1到200个字符的原因");
        return;
    }
    change_state(job, store, id, approve ? MEETING_APPROVE : MEETING_REJECT, approve ? NULL : reason);
}
ORG_ENDPOINT(meeting_approve, ORG_MEMBER, run_meeting_approve)

/* POST /wx/meeting/cancel {id, reason, version?} (host or admin, before the end) */
static void run_meeting_cancel(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    const char *reason;
    if (org_param_id(job, "id", true, &id, NULL, "id 无效") &&
        org_param_text(job, "reason", true, 1, 200, false, &reason, "取消须填写1到200个字符的原因"))
        change_state(job, store, id, MEETING_CANCEL, reason);
}
ORG_ENDPOINT(meeting_cancel, ORG_MEMBER, run_meeting_cancel)

/* POST /wx/meeting/archive {id, version?} (host or admin, after the end) */
static void run_meeting_archive(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (org_param_id(job, "id", true, &id, NULL, "id 无效"))
        change_state(job, store, id, MEETING_ARCHIVE, NULL);
}
ORG_ENDPOINT(meeting_archive, ORG_MEMBER, run_meeting_archive)

/* POST /wx/meeting/feedback {id, attend, reason?} (participant or observer; approved, not ended) */
static void run_meeting_feedback(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    bool attend = false;
    const char *reason;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") || !org_param_bool(job, "attend", true, &attend, NULL) ||
        !org_param_text(job, "reason", false, attend ? 0 : 1, 200, false, &reason, "请假须填写1到200个字符的原因"))
        return;
    if (!attend && reason == NULL) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "请假须填写1到200个字符的原因");
        return;
    }
    meeting_view_t v = {0};
    meeting_facts_t f;
    if (!load_meeting_as(job, store, id, &v, &f))
        return;
    api_errno_t err = meeting_check(&f, MEETING_FEEDBACK, job->now);
    if (err != API_OK) {
        org_fail(job, err, NULL);
        return;
    }
    store_refusal_t why;
    store_rc rc = store_meeting_answer(store, id, job->user.id, attend ? STORE_ANSWER_ATTEND : STORE_ANSWER_DECLINE,
                                       attend ? "" : reason, job->now, &why);
    if (rc == STORE_NOT_FOUND) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return;
    }
    if (rc != STORE_OK || why != STORE_REFUSED_NOT) {
        store_write_failed(job, store, rc, why, "meeting answer");
        return;
    }
    job->data = change_json(id, v.m->version, v.m->state, v.m->start_at, v.m->end_at, job->now);
    json_object_set_new(job->data, "answer", json_string(attend ? "attend" : "decline"));
}
ORG_ENDPOINT(meeting_feedback, ORG_MEMBER, run_meeting_feedback)

/* ---- the detail ---- */

static store_rc on_history(const store_meeting_log_t *l, void *ctx)
{
    json_t *item = json_pack("{s:i, s:i, s:I, s:s, s:s, s:o}", "from", l->from_state, "to", l->to_state, "userId",
                             (json_int_t)l->user_id, "userName", l->user_name, "reason", l->reason, "time",
                             org_time_json(l->created_at));
    return json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

/* GET /wx/meeting/detail?id= (people on it, its approver, admins) */
static void run_meeting_detail(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    json_t *attendees = json_array();
    meeting_view_t v = {.attendees = attendees};
    meeting_facts_t f;
    if (!load_meeting_as(job, store, id, &v, &f)) {
        json_decref(attendees);
        return;
    }
    json_t *history = json_array();
    store_rc rc = store_meeting_history(store, id, on_history, history);
    if (rc != STORE_OK) {
        json_decref(attendees);
        json_decref(history);
        org_fail_store(job, store, rc, "meeting history");
        return;
    }
    const store_meeting_t *m = v.m;
    int shown = meeting_state_at(m->state, m->start_at, m->end_at, job->now);
    json_t *actions = json_array();
    for (int a = 0; a < MEETING_ACTION_COUNT; a++)
        if (meeting_check(&f, (meeting_action_t)a, job->now) == API_OK)
            json_array_append_new(actions, json_string(meeting_action_name((meeting_action_t)a)));
    json_t *approver = m->approver_id != 0
                           ? json_pack("{s:I, s:s}", "id", (json_int_t)m->approver_id, "name", m->approver_name)
                           : json_null();
    job->data = json_pack(
        "{s:I, s:I, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:s, s:s, s:i, s:{s:I, s:s, s:s}, s:o, s:o,"
        " s:{s:I, s:I, s:I}, s:o, s:s, s:s, s:o, s:o, s:o}",
        "id", (json_int_t)m->id, "version", (json_int_t)m->version, "title", m->title, "content", m->content, "state",
        shown, "stateName", meeting_state_name(shown), "startTime", org_time_json(m->start_at), "endTime",
        org_time_json(m->end_at), "roomId", m->room_id != 0 ? json_integer(m->room_id) : json_null(), "roomName",
        m->room_name, "location", m->location, "remindMinutes", m->remind_minutes, "host", "id", (json_int_t)m->host_id,
        "name", m->host_name, "avatar", m->host_avatar, "approver", approver, "attendees", attendees, "answers",
        "attend", (json_int_t)v.attend, "decline", (json_int_t)v.decline, "none", (json_int_t)v.none, "history",
        history, "reason", m->reason, "myRole", my_role_name(&f), "actions", actions, "addTime",
        org_time_json(m->created_at), "updateTime", org_time_json(m->updated_at));
    if (job->data == NULL) {
        org_fail(job, API_SERIOUS, NULL);
        return;
    }
    double rate = v.expected > 0 ? (double)v.present / (double)v.expected : 0.0;
    json_object_set_new(job->data, "checkinRotating", json_boolean(m->checkin_rotating));
    store_minutes_t minutes;
    rc = store_minutes_get(store, id, &minutes);
    json_object_set_new(job->data, "hasMinutes", json_boolean(rc == STORE_OK && minutes.text[0] != '\0'));
    free(minutes.text);
    json_object_set_new(job->data, "attendance",
                        json_pack("{s:I, s:I, s:I, s:I, s:f}", "expected", (json_int_t)v.expected, "present",
                                  (json_int_t)v.present, "late", (json_int_t)v.late, "absent",
                                  (json_int_t)(v.expected - v.present), "rate",
                                  (double)((int)(rate * 1000 + 0.5)) / 1000));
}
ORG_ENDPOINT(meeting_detail, ORG_MEMBER, run_meeting_detail)

/* ---- the lists ---- */

/* The answered upcoming and notice pages of this process (meeting/list_cache.h); NULL = none
 * (oa.meeting.list-cache-bytes 0, or before start). Shared by the database workers. */
static list_cache_t *list_pages;

typedef struct list_walk {
    org_job_t *job;
    json_out_t out;
    bool first;
} list_walk_t;

static void out_time(json_out_t *o, int64_t epoch)
{
    char text[TEXT_SQLTIME_SIZE] = "";
    if (epoch != 0)
        text_sqltime(epoch, text);
    json_out_cstr(o, text);
}

/* One item, written as text straight into the page (a page is hot: no jansson tree). */
static store_rc on_item(const store_meeting_item_t *it, void *ctx)
{
    list_walk_t *w = ctx;
    json_out_t *o = &w->out;
    meeting_facts_t f = facts_of(w->job, it->state, it->start_at, it->end_at, it->approver_id, it->my_role);
    int shown = meeting_state_at(it->state, it->start_at, it->end_at, w->job->now);
    json_out_reserve(o, 512);
    if (!w->first)
        json_out_lit(o, ",");
    w->first = false;
    json_out_lit(o, "{\"id\":");
    json_out_int(o, it->id);
    json_out_lit(o, ",\"title\":");
    json_out_cstr(o, it->title);
    json_out_lit(o, ",\"state\":");
    json_out_int(o, shown);
    json_out_lit(o, ",\"stateName\":");
    json_out_cstr(o, meeting_state_name(shown));
    json_out_lit(o, ",\"startTime\":");
    out_time(o, it->start_at);
    json_out_lit(o, ",\"endTime\":");
    out_time(o, it->end_at);
    json_out_lit(o, ",\"roomId\":");
    if (it->room_id != 0)
        json_out_int(o, it->room_id);
    else
        json_out_lit(o, "null");
    json_out_lit(o, ",\"roomName\":");
    json_out_cstr(o, it->room_name);
    json_out_lit(o, ",\"location\":");
    json_out_cstr(o, it->location);
    json_out_lit(o, ",\"hostId\":");
    json_out_int(o, it->host_id);
    json_out_lit(o, ",\"hostName\":");
    json_out_cstr(o, it->host_name);
    json_out_lit(o, ",\"myRole\":");
    json_out_cstr(o, my_role_name(&f));
    json_out_lit(o, ",\"myAnswer\":");
    json_out_cstr(o, it->my_role >= 0 ? answer_name(it->my_answer) : "");
    json_out_lit(o, ",\"attendeeCount\":");
    json_out_int(o, it->attendee_count);
    json_out_lit(o, "}");
    return json_out_failed(o) ? STORE_ERROR : STORE_OK;
}

static bool view_of(const char *name, store_meeting_view_t *out)
{
    static const struct {
        const char *name;
        store_meeting_view_t view;
    } views[] = {
        {"mine", STORE_VIEW_MINE},         {"approval", STORE_VIEW_APPROVAL}, {"notice", STORE_VIEW_NOTICE},
        {"upcoming", STORE_VIEW_UPCOMING}, {"history", STORE_VIEW_HISTORY},   {"all", STORE_VIEW_ALL},
    };
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        if (strcmp(name, views[i].name) == 0) {
            *out = views[i].view;
            return true;
        }
    return false;
}

/* GET /wx/meeting/list?view=&page=&limit= (member) */
static void run_meeting_list(org_job_t *job, store_t *store)
{
    const char *view_name;
    org_page_t page;
    store_meeting_view_t view = STORE_VIEW_UPCOMING;
    if (!org_param_text(job, "view", false, 1, 20, false, &view_name, "view 无效") || !org_param_page(job, 20, &page))
        return;
    if (view_name != NULL && !view_of(view_name, &view)) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "view 须为 mine、approval、notice、upcoming、history 或 all");
        return;
    }
    store_meeting_query_t q = {.view = view,
                               .user_id = job->user.id,
                               .is_admin = store_member_is_admin(&job->member),
                               .now = job->now,
                               .offset = page.offset,
                               .limit = page.limit};
    list_cache_key_t key = {job->user.id, (int)view, page.page, page.limit};
    char *text;
    size_t len;
    if (list_pages != NULL)
        list_cache_note_gen(list_pages, job->user.id, job->member.list_gen, job->epoch, clock_monotonic_ms());
    if (list_pages != NULL && list_cache_get(list_pages, &key, job->member.list_gen, job->now, &text, &len)) {
        org_answer_text(job, (http_answer_t){.status = 200, .text = text, .len = len});
        return;
    }
    list_walk_t w = {job, JSON_OUT_INIT, true};
    store_meeting_page_t got;
    org_page_text_open(&w.out);
    store_rc rc = store_meeting_list(store, &q, on_item, &w, &got);
    if (rc != STORE_OK) {
        json_out_free(&w.out);
        org_fail_store(job, store, rc, "meeting list");
        return;
    }
    http_answer_t answer = org_page_text_close(&w.out, got.total, &page);
    /* upcoming and notice only: their clock bound is known (store_meeting_page_t) */
    if (list_pages != NULL && answer.text != NULL && got.clock_bound > job->now)
        list_cache_put(list_pages, &key, job->member.list_gen, got.clock_bound, answer.text, answer.len);
    org_answer_text(job, answer);
}
/* A page number or limit of the query as org_param_page reads it: absent (dflt), or 1..max in
 * decimal digits; false for anything else (the worker's path answers it). */
static bool page_number(const json_t *params, const char *key, long dflt, long max, long *out)
{
    const json_t *v = json_object_get(params, key);
    if (v == NULL || json_is_null(v)) {
        *out = dflt;
        return true;
    }
    const char *s = json_string_value(v);
    if (s == NULL || s[0] == '\0' || strlen(s) > 9)
        return false;
    long n = 0;
    for (const char *c = s; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return false;
        n = n * 10 + (*c - '0');
    }
    *out = n;
    return n >= 1 && n <= max;
}

/* On the loop: a cached upcoming or notice page of a member whose generation the loop may trust
 * (list_cache_trusted_gen: no write of this process since a worker read it, less than
 * oa.token.cache-seconds ago), answered without the worker. Anything else goes to the worker. */
static bool meeting_list_on_loop(h2o_req_t *req, app_t *app, const auth_caller_t *caller, const json_t *params)
{
    int64_t max_age_ms = (int64_t)app->config->token_cache_seconds * 1000;
    if (list_pages == NULL || max_age_ms == 0)
        return false;
    const json_t *v = json_object_get(params, "view");
    store_meeting_view_t view = STORE_VIEW_UPCOMING;
    if (v != NULL && !(json_is_string(v) && view_of(json_string_value(v), &view)))
        return false;
    long page = 0, limit = 0;
    if ((view != STORE_VIEW_UPCOMING && view != STORE_VIEW_NOTICE) || !page_number(params, "page", 1, 1000000, &page) ||
        !page_number(params, "limit", 20, ORG_PAGE_MAX_LIMIT, &limit))
        return false;
    int64_t gen = 0;
    if (!list_cache_trusted_gen(list_pages, caller->user.id, org_write_epoch(), clock_monotonic_ms(), max_age_ms, &gen))
        return false;
    list_cache_key_t key = {caller->user.id, (int)view, page, limit};
    char *text;
    size_t len;
    if (!list_cache_get(list_pages, &key, gen, (int64_t)time(NULL), &text, &len))
        return false;
    http_answer_t answer = {.status = 200, .text = text, .len = len};
    http_send_answer(req, &answer);
    http_answer_free(&answer);
    return true;
}

static const org_endpoint_t meeting_list_endpoint = {
    .access = ORG_MEMBER, .run = run_meeting_list, .on_loop = meeting_list_on_loop};
static int meeting_list(h2o_req_t *req, void *app)
{
    return org_handle(req, app, &meeting_list_endpoint);
}

static const http_route_t meeting_routes[] = {
    {"POST", "/wx/meeting/create", meeting_create}, /* body limit: meeting_body_limit */
    {"POST", "/wx/meeting/update", meeting_update},   {"POST", "/wx/meeting/submit", meeting_submit},
    {"POST", "/wx/meeting/approve", meeting_approve}, {"POST", "/wx/meeting/cancel", meeting_cancel},
    {"POST", "/wx/meeting/archive", meeting_archive}, {"POST", "/wx/meeting/feedback", meeting_feedback},
    {"GET", "/wx/meeting/detail", meeting_detail},    {"GET", "/wx/meeting/list", meeting_list},
};

/* The form routes take at least MEETING_FORM_MAX_BODY, more when server.max-body-bytes is larger. */
static size_t meeting_body_limit(const config_t *config, const http_route_t *route)
{
    if (route->handler != meeting_create && route->handler != meeting_update)
        return 0;
    return config->max_body_bytes > MEETING_FORM_MAX_BODY ? config->max_body_bytes : MEETING_FORM_MAX_BODY;
}

static int meeting_start(app_t *app, char *err, size_t err_size)
{
    size_t bytes = app->config->meeting_list_cache_bytes;
    if (bytes > 0 && (list_pages = list_cache_new(bytes)) == NULL) {
        snprintf(err, err_size, "out of memory for the meeting list cache");
        return -1;
    }
    return 0;
}

static void meeting_release(app_t *app)
{
    (void)app;
    list_cache_free(list_pages);
    list_pages = NULL;
}

const app_module_t meeting_module = {
    .name = "meeting",
    APP_MODULE_ROUTES_FIELDS(meeting_routes),
    .body_limit = meeting_body_limit,
    .start = meeting_start,
    .release = meeting_release,
};
