/* meeting/vote_api — see vote_api.h. */
#include "meeting/vote_api.h"

#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "content/content_check.h"
#include "meeting/meeting_rules.h"
#include "org/org_job.h"
#include "store/store_meeting.h"
#include "store/store_vote.h"

/* ---- the meeting behind a vote, and the caller's place on it ---- */

typedef struct place {
    store_meeting_t *m; /* owned by the job */
    int my_role;        /* STORE_ATTENDEE_*, -1 = not on it */
    int64_t present;    /* people signed in */
    bool may_read, may_manage;
} place_t;

/* Reads meeting id and the caller's place on it; false when the job failed (804, 506, 502). */
static bool load_place(org_job_t *job, store_t *store, int64_t meeting_id, place_t *p)
{
    memset(p, 0, sizeof *p);
    p->my_role = -1;
    if (job->nowned >= ORG_JOB_MAX_OWNED || (p->m = malloc(sizeof *p->m)) == NULL) {
        org_fail(job, API_SERIOUS, NULL);
        return false;
    }
    job->owned[job->nowned++] = p->m;
    store_rc rc = store_meeting_get(store, meeting_id, p->m);
    if (rc == STORE_OK)
        rc = store_meeting_place(store, meeting_id, job->user.id, &p->my_role, &p->present);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "vote meeting");
        return false;
    }
    bool admin = store_member_is_admin(&job->member);
    p->may_manage = p->my_role == STORE_ATTENDEE_HOST || admin;
    p->may_read = p->my_role >= 0 || admin || (p->m->approver_id != 0 && p->m->approver_id == job->user.id);
    if (!p->may_read) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return false;
    }
    return true;
}

static const char *vote_state_name(int state)
{
    return state == STORE_VOTE_OPEN ? "open" : (state == STORE_VOTE_CLOSED ? "closed" : "draft");
}

static const char *pass_rule_name(int rule)
{
    return rule == STORE_PASS_MAJORITY ? "majority" : (rule == STORE_PASS_TWO_THIRDS ? "two_thirds" : "none");
}

/* Whether count meets the rule among present people (only meaningful for a closed vote). */
static bool passes(int rule, int64_t count, int64_t present)
{
    if (present <= 0)
        return false;
    if (rule == STORE_PASS_MAJORITY)
        return count * 2 > present;
    if (rule == STORE_PASS_TWO_THIRDS)
        return count * 3 >= present * 2;
    return false;
}

/* ---- POST /wx/vote/create ---- */

static void run_vote_create(org_job_t *job, store_t *store)
{
    int64_t meeting_id = 0;
    const char *title, *rule_name;
    bool multiple = false, anonymous = false;
    long max_choices = 0;
    bool has_max = false;
    if (!org_param_id(job, "meetingId", true, &meeting_id, NULL, "meetingId 无效") ||
        !org_param_text(job, "title", true, 1, 100, false, &title, "投票标题须为1到100个字符") ||
        !org_param_bool(job, "multiple", false, &multiple, NULL) ||
        !org_param_int(job, "maxChoices", false, 1, STORE_VOTE_MAX_OPTIONS, &max_choices, &has_max,
                       "maxChoices 无效") ||
        !org_param_bool(job, "anonymous", false, &anonymous, NULL) ||
        !org_param_text(job, "passRule", false, 1, 20, false, &rule_name, "passRule 须为 none、majority 或 two_thirds"))
        return;
    int rule = STORE_PASS_NONE;
    if (rule_name != NULL) {
        if (strcmp(rule_name, "majority") == 0)
            rule = STORE_PASS_MAJORITY;
        else if (strcmp(rule_name, "two_thirds") == 0)
            rule = STORE_PASS_TWO_THIRDS;
        else if (strcmp(rule_name, "none") != 0) {
            org_fail(job, API_BAD_ARGUMENT_VALUE, "passRule 须为 none、majority 或 two_thirds");
            return;
        }
    }
    json_t *options = json_object_get(job->params, "options");
    if (!json_is_array(options)) {
        org_fail(job, API_BAD_ARGUMENT, "options 须为2到20个选项的数组");
        return;
    }
    size_t n = json_array_size(options);
    if (n < 2 || n > STORE_VOTE_MAX_OPTIONS) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "options 须为2到20个选项的数组");
        return;
    }
    const char *texts[STORE_VOTE_MAX_OPTIONS];
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(options, i);
        if (!json_is_string(o)) {
            org_fail(job, API_BAD_ARGUMENT, "选项须为文字");
            return;
        }
        const char *t = json_string_value(o);
        size_t len = json_string_length(o), chars = text_utf8_length(t, len);
        if (!text_utf8_valid(t, len) || chars < 1 || chars > 50 || strlen(t) != len) {
            org_fail(job, API_BAD_ARGUMENT_VALUE, "选项须为1到50个字符");
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(texts[j], t) == 0) {
                org_fail(job, API_BAD_ARGUMENT_VALUE, "选项不能重复");
                return;
            }
        texts[i] = t;
    }
    if (!multiple && has_max && max_choices != 1) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "单选投票的 maxChoices 只能为1");
        return;
    }
    if (multiple && has_max && (max_choices < 2 || (size_t)max_choices > n)) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "多选投票的 maxChoices 须为2到选项数");
        return;
    }
    place_t p;
    if (!load_place(job, store, meeting_id, &p))
        return;
    if (!p.may_manage) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return;
    }
    int shown = meeting_state_at(p.m->state, p.m->start_at, p.m->end_at, job->now);
    if (shown == STORE_MEETING_CANCELLED || shown == STORE_MEETING_ENDED || shown == STORE_MEETING_ARCHIVED) {
        org_fail(job, API_MEETING_STATE, NULL);
        return;
    }
    store_vote_t v = {.meeting_id = meeting_id,
                      .multiple = multiple,
                      .max_choices = multiple ? (has_max ? (int)max_choices : (int)n) : 1,
                      .anonymous = anonymous,
                      .pass_rule = rule,
                      .created_by = job->user.id,
                      .created_at = job->now};
    snprintf(v.title, sizeof v.title, "%s", title);
    int64_t ids[STORE_VOTE_MAX_OPTIONS];
    store_rc rc = store_vote_create(store, &v, texts, n, ids);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "vote create");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:I, s:s}", "id", (json_int_t)ids[i], "text", texts[i]));
    job->data = json_pack("{s:I, s:o, s:s}", "id", (json_int_t)v.id, "options", list, "state", "draft");
}
static const content_field_t VOTE_TEXTS[] = {{"title", "投票标题", 3}, {"options", "选项", 3}, {NULL, NULL, 0}};
ORG_ENDPOINT_CHECKED(vote_create, ORG_MEMBER, run_vote_create, VOTE_TEXTS)

/* Reads vote id and its meeting's place; false when the job failed. */
static bool load_vote(org_job_t *job, store_t *store, int64_t id, store_vote_t *v, store_vote_option_t *options,
                      size_t *n, place_t *p)
{
    store_rc rc = store_vote_get(store, id, v, options, n);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "vote get");
        return false;
    }
    return load_place(job, store, v->meeting_id, p);
}

/* ---- POST /wx/vote/open, /wx/vote/close ---- */

static void move_vote(org_job_t *job, store_t *store, int from, int to)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_vote_t v;
    size_t n = 0;
    place_t p;
    if (!load_vote(job, store, id, &v, NULL, &n, &p))
        return;
    if (!p.may_manage) {
        org_fail(job, API_NO_PERMISSION, NULL);
        return;
    }
    int shown = meeting_state_at(p.m->state, p.m->start_at, p.m->end_at, job->now);
    if (to == STORE_VOTE_OPEN && shown != STORE_MEETING_APPROVED && shown != STORE_MEETING_IN_PROGRESS) {
        org_fail(job, API_MEETING_STATE, "会议未通过审批或已结束，不能开始投票");
        return;
    }
    store_refusal_t why;
    store_rc rc = store_vote_move(store, id, from, to, job->now, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "vote move");
        return;
    }
    if (why != STORE_REFUSED_NOT) {
        org_fail(job, API_VOTE_STATE, to == STORE_VOTE_OPEN ? "投票已开始或已结束" : "投票未开始或已结束");
        return;
    }
    job->data = json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", vote_state_name(to));
}

static void run_vote_open(org_job_t *job, store_t *store)
{
    move_vote(job, store, STORE_VOTE_DRAFT, STORE_VOTE_OPEN);
}
ORG_ENDPOINT(vote_open, ORG_MEMBER, run_vote_open)

static void run_vote_close(org_job_t *job, store_t *store)
{
    move_vote(job, store, STORE_VOTE_OPEN, STORE_VOTE_CLOSED);
}
ORG_ENDPOINT(vote_close, ORG_MEMBER, run_vote_close)

/* ---- POST /wx/vote/cast {id, optionIds} ---- */

static void run_vote_cast(org_job_t *job, store_t *store)
{
    int64_t id = 0, *chosen = NULL;
    size_t nchosen = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效") ||
        !org_param_ids(job, "optionIds", true, STORE_VOTE_MAX_OPTIONS, &chosen, &nchosen, NULL,
                       "optionIds 须为选项id的数组"))
        return;
    store_vote_t v;
    store_vote_option_t options[STORE_VOTE_MAX_OPTIONS];
    size_t n = 0;
    place_t p;
    if (!load_vote(job, store, id, &v, options, &n, &p))
        return;
    if (p.my_role != STORE_ATTENDEE_HOST && p.my_role != STORE_ATTENDEE_PARTICIPANT) {
        org_fail(job, API_NO_PERMISSION, p.my_role == STORE_ATTENDEE_OBSERVER ? "列席人员不参与投票" : NULL);
        return;
    }
    if (nchosen < 1 || (int)nchosen > v.max_choices) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, v.multiple ? "请选择1到%d项" : "请选择1项", v.max_choices);
        return;
    }
    for (size_t i = 0; i < nchosen; i++) {
        bool known = false;
        for (size_t j = 0; j < n; j++)
            known |= options[j].id == chosen[i];
        for (size_t j = 0; j < i; j++)
            known &= chosen[j] != chosen[i];
        if (!known) {
            org_fail(job, API_BAD_ARGUMENT_VALUE, "选项无效或重复");
            return;
        }
    }
    store_refusal_t why;
    store_rc rc = store_vote_cast(store, id, job->user.id, chosen, nchosen, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "vote cast");
        return;
    }
    if (why == STORE_REFUSED_ALREADY) {
        org_fail(job, API_VOTE_ALREADY, NULL);
        return;
    }
    if (why != STORE_REFUSED_NOT) {
        org_fail(job, API_VOTE_STATE, NULL);
        return;
    }
    job->data = json_pack("{s:I, s:b}", "id", (json_int_t)id, "voted", true);
}
ORG_ENDPOINT_BATCHED(vote_cast, ORG_MEMBER, run_vote_cast)

/* ---- GET /wx/vote/result?id= ---- */

static store_rc add_voter(int64_t option_id, int64_t user_id, const char *name, void *ctx)
{
    json_t *options = ctx;
    size_t i;
    json_t *o;
    json_array_foreach(options, i, o)
    {
        if (json_integer_value(json_object_get(o, "id")) == option_id)
            return json_array_append_new(json_object_get(o, "voters"),
                                         json_pack("{s:I, s:s}", "userId", (json_int_t)user_id, "name", name)) == 0
                       ? STORE_OK
                       : STORE_ERROR;
    }
    return STORE_OK;
}

static json_t *vote_json(const store_vote_t *v, const store_vote_option_t *options, size_t n, int64_t present,
                         json_t *mine, bool voted)
{
    json_t *list = json_array();
    int64_t best = -1, best_count = -1;
    bool tie = false;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)options[i].id, "text", options[i].text, "count",
                              (json_int_t)options[i].votes);
        if (!v->anonymous)
            json_object_set_new(o, "voters", json_array());
        if (v->state == STORE_VOTE_CLOSED && v->pass_rule != STORE_PASS_NONE)
            json_object_set_new(o, "passed", json_boolean(passes(v->pass_rule, options[i].votes, present)));
        json_array_append_new(list, o);
        if (options[i].votes > best_count) {
            best_count = options[i].votes;
            best = (int64_t)i;
            tie = false;
        } else if (options[i].votes == best_count) {
            tie = true;
        }
    }
    json_t *r = json_pack("{s:I, s:I, s:s, s:s, s:b, s:i, s:b, s:s, s:I, s:I, s:o, s:o, s:b}", "id", (json_int_t)v->id,
                          "meetingId", (json_int_t)v->meeting_id, "title", v->title, "state", vote_state_name(v->state),
                          "multiple", v->multiple, "maxChoices", v->max_choices, "anonymous", v->anonymous, "passRule",
                          pass_rule_name(v->pass_rule), "votes", (json_int_t)v->ballots, "present", (json_int_t)present,
                          "options", list, "myChoices", mine != NULL ? mine : json_array(), "voted", voted);
    if (v->state == STORE_VOTE_CLOSED && v->pass_rule != STORE_PASS_NONE)
        json_object_set_new(r, "passed", json_boolean(best >= 0 && !tie && passes(v->pass_rule, best_count, present)));
    return r;
}

static void run_vote_result(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_vote_t v;
    store_vote_option_t options[STORE_VOTE_MAX_OPTIONS];
    size_t n = 0, nmine = 0;
    place_t p;
    if (!load_vote(job, store, id, &v, options, &n, &p))
        return;
    bool voted = false;
    int64_t mine[STORE_VOTE_MAX_OPTIONS];
    store_rc rc = store_vote_ballot(store, id, job->user.id, &voted, v.anonymous ? NULL : mine, &nmine);
    json_t *my = json_array();
    for (size_t i = 0; i < nmine; i++)
        json_array_append_new(my, json_integer(mine[i]));
    json_t *data = vote_json(&v, options, n, p.present, my, voted);
    if (rc == STORE_OK && !v.anonymous)
        rc = store_vote_voters(store, id, add_voter, json_object_get(data, "options"));
    if (rc != STORE_OK) {
        json_decref(data);
        org_fail_store(job, store, rc, "vote result");
        return;
    }
    job->data = data;
}
ORG_ENDPOINT(vote_result, ORG_MEMBER, run_vote_result)

/* ---- GET /wx/vote/list?meetingId= ---- */

static store_rc add_vote(const store_vote_t *v, void *ctx)
{
    json_t *item = json_pack("{s:I, s:s, s:s, s:b, s:b, s:s, s:I}", "id", (json_int_t)v->id, "title", v->title, "state",
                             vote_state_name(v->state), "multiple", v->multiple, "anonymous", v->anonymous, "passRule",
                             pass_rule_name(v->pass_rule), "votes", (json_int_t)v->ballots);
    return json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

static void run_vote_list(org_job_t *job, store_t *store)
{
    int64_t meeting_id = 0;
    if (!org_param_id(job, "meetingId", true, &meeting_id, NULL, "meetingId 无效"))
        return;
    place_t p;
    if (!load_place(job, store, meeting_id, &p))
        return;
    json_t *list = json_array();
    store_rc rc = store_vote_list(store, meeting_id, add_vote, list);
    if (rc != STORE_OK) {
        json_decref(list);
        org_fail_store(job, store, rc, "vote list");
        return;
    }
    job->data = json_pack("{s:I, s:o}", "meetingId", (json_int_t)meeting_id, "list", list);
}
ORG_ENDPOINT(vote_list, ORG_MEMBER, run_vote_list)

static const http_route_t vote_routes[] = {
    {"POST", "/wx/vote/create", vote_create}, {"POST", "/wx/vote/open", vote_open},
    {"POST", "/wx/vote/close", vote_close},   {"POST", "/wx/vote/cast", vote_cast},
    {"GET", "/wx/vote/result", vote_result},  {"GET", "/wx/vote/list", vote_list},
};

const app_module_t vote_module = {.name = "vote", APP_MODULE_ROUTES_FIELDS(vote_routes)};
