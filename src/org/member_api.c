/* org/member_api — see member_api.h. */
#include "org/member_api.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "org/org_job.h"

#define NAME_RULE       "姓名须为1到20个字符"
#define DEPARTMENT_RULE "部门须为0到50个字符"
#define REASON_RULE     "原因须为0到200个字符"
#define DAY_SECONDS     86400

/* ---- answers ---- */

static const char *role_name(const store_member_t *m)
{
    return store_member_is_admin(m) ? "admin" : (store_member_is_active(m) ? "member" : "");
}

/* GET /wx/member/me: the caller's membership, for anyone logged in. */
static void run_member_me(org_job_t *job, store_t *store)
{
    (void)store;
    const store_member_t *m = &job->member;
    bool listed = m->status == STORE_MEMBER_PENDING || m->status == STORE_MEMBER_ACTIVE;
    bool named = m->user_id != 0 && listed;
    job->data = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "membership", org_membership_name(m), "userId",
                          (json_int_t)job->user.id, "name", named ? m->name : "", "department",
                          named ? m->department : "", "role", role_name(m), "rejectReason",
                          m->user_id != 0 && m->status == STORE_MEMBER_REJECTED ? m->reason : "");
}
ORG_ENDPOINT(member_me, ORG_VISITOR, run_member_me)

/* POST /wx/member/join {name, department?, inviteCode?} */
static void run_member_join(org_job_t *job, store_t *store)
{
    const char *name, *department, *code;
    if (!org_param_text(job, "name", true, 1, 20, false, &name, NAME_RULE) ||
        !org_param_text(job, "department", false, 0, 50, false, &department, DEPARTMENT_RULE) ||
        !org_param_text(job, "inviteCode", false, 0, 32, false, &code, "邀请码无效"))
        return;
    if (store_member_is_active(&job->member)) {
        org_fail(job, API_ALREADY_MEMBER, NULL);
        return;
    }
    store_member_t m;
    store_refusal_t why;
    store_rc rc =
        store_member_join(store, job->user.id, name, department != NULL ? department : "", code, job->now, &m, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "member join");
        return;
    }
    if (why == STORE_REFUSED_INVITE) {
        org_fail(job, API_INVITE_INVALID, NULL);
        return;
    }
    if (why == STORE_REFUSED_ALREADY) {
        org_fail(job, API_ALREADY_MEMBER, NULL);
        return;
    }
    job->data =
        json_pack("{s:s, s:s, s:s}", "membership", org_membership_name(&m), "name", m.name, "department", m.department);
}
ORG_ENDPOINT(member_join, ORG_VISITOR, run_member_join)

static store_rc add_request(const store_member_row_t *row, void *ctx)
{
    json_t *item = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "userId", (json_int_t)row->member.user_id, "name",
                             row->member.name, "department", row->member.department, "nickName", row->nickname,
                             "avatar", row->avatar, "requestTime", org_time_json(row->member.requested_at));
    return json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

/* GET /wx/member/requests?page=&limit= (admin) */
static void run_member_requests(org_job_t *job, store_t *store)
{
    org_page_t page;
    if (!org_param_page(job, 20, &page))
        return;
    json_t *list = json_array();
    int64_t total = 0;
    store_rc rc = store_member_requests(store, page.offset, page.limit, add_request, list, &total);
    org_answer_page(job, store, rc, list, total, &page, "member requests");
}
ORG_ENDPOINT(member_requests, ORG_ADMIN, run_member_requests)

/* POST /wx/member/approve {userId, approve, reason?} (admin) */
static void run_member_approve(org_job_t *job, store_t *store)
{
    int64_t user_id = 0;
    bool approve = false;
    const char *reason;
    if (!org_param_id(job, "userId", true, &user_id, NULL, "userId 无效") ||
        !org_param_bool(job, "approve", true, &approve, NULL) ||
        !org_param_text(job, "reason", false, 0, 200, false, &reason, REASON_RULE))
        return;
    store_rc rc = store_member_decide(store, user_id, approve, reason, job->now);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "member decide");
        return;
    }
    job->data = json_pack("{s:I, s:s}", "userId", (json_int_t)user_id, "membership", approve ? "member" : "none");
}
ORG_ENDPOINT(member_approve, ORG_ADMIN, run_member_approve)

/* POST /wx/member/role {userId, role: "admin" | "member"} (admin) */
static void run_member_role(org_job_t *job, store_t *store)
{
    int64_t user_id = 0;
    const char *role;
    if (!org_param_id(job, "userId", true, &user_id, NULL, "userId 无效") ||
        !org_param_text(job, "role", true, 1, 10, false, &role, "role 须为 admin 或 member"))
        return;
    if (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "role 须为 admin 或 member");
        return;
    }
    store_refusal_t why;
    store_rc rc = store_member_set_role(
        store, user_id, strcmp(role, "admin") == 0 ? STORE_ROLE_ADMIN : STORE_ROLE_MEMBER, job->now, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "member role");
        return;
    }
    if (why == STORE_REFUSED_LAST_ADMIN) {
        org_fail(job, API_LAST_ADMIN, NULL);
        return;
    }
    job->data = json_pack("{s:I, s:s}", "userId", (json_int_t)user_id, "role", role);
}
ORG_ENDPOINT(member_role, ORG_ADMIN, run_member_role)

/* POST /wx/member/remove {userId} (admin) */
static void run_member_remove(org_job_t *job, store_t *store)
{
    int64_t user_id = 0;
    if (!org_param_id(job, "userId", true, &user_id, NULL, "userId 无效"))
        return;
    store_refusal_t why;
    store_rc rc = store_member_remove(store, user_id, job->now, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "member remove");
        return;
    }
    if (why == STORE_REFUSED_LAST_ADMIN) {
        org_fail(job, API_LAST_ADMIN, NULL);
        return;
    }
    job->data = json_pack("{s:I, s:s}", "userId", (json_int_t)user_id, "membership", "none");
}
ORG_ENDPOINT(member_remove, ORG_ADMIN, run_member_remove)

/* ---- invite codes ---- */

#define INVITE_CODE_LENGTH 16

static json_t *invite_json(const store_invite_t *inv)
{
    return json_pack("{s:I, s:s, s:I, s:I, s:o, s:b, s:o, s:s}", "id", (json_int_t)inv->id, "code", inv->code,
                     "maxUses", (json_int_t)inv->max_uses, "used", (json_int_t)inv->used, "expireTime",
                     org_time_json(inv->expires_at), "revoked", inv->revoked, "addTime", org_time_json(inv->created_at),
                     "creatorName", inv->creator_name);
}

/* POST /wx/member/invite {maxUses, expireDays} (admin) */
static void run_member_invite(org_job_t *job, store_t *store)
{
    long max_uses = 0, days = 0;
    if (!org_param_int(job, "maxUses", true, 1, 10000, &max_uses, NULL, "maxUses 须为1到10000") ||
        !org_param_int(job, "expireDays", true, 1, 365, &days, NULL, "expireDays 须为1到365"))
        return;
    store_invite_t inv = {.max_uses = max_uses,
                          .expires_at = job->now + (int64_t)days * DAY_SECONDS,
                          .created_by = job->user.id,
                          .created_at = job->now};
    snprintf(inv.creator_name, sizeof inv.creator_name, "%s", job->member.name);
    store_rc rc = STORE_CONFLICT;
    for (int attempt = 0; attempt < 3 && rc == STORE_CONFLICT; attempt++) {
        if (!crypto_random_alnum(inv.code, INVITE_CODE_LENGTH)) {
            org_fail(job, API_SERIOUS, NULL);
            return;
        }
        rc = store_invite_create(store, &inv);
    }
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "invite create");
        return;
    }
    job->data = invite_json(&inv);
}
ORG_ENDPOINT(member_invite, ORG_ADMIN, run_member_invite)

static store_rc add_invite(const store_invite_t *inv, void *ctx)
{
    return json_array_append_new(ctx, invite_json(inv)) == 0 ? STORE_OK : STORE_ERROR;
}

/* GET /wx/member/invites?page=&limit= (admin) */
static void run_member_invites(org_job_t *job, store_t *store)
{
    org_page_t page;
    if (!org_param_page(job, 20, &page))
        return;
    json_t *list = json_array();
    int64_t total = 0;
    store_rc rc = store_invite_list(store, page.offset, page.limit, add_invite, list, &total);
    org_answer_page(job, store, rc, list, total, &page, "invite list");
}
ORG_ENDPOINT(member_invites, ORG_ADMIN, run_member_invites)

/* POST /wx/member/invite/revoke {id} (admin) */
static void run_invite_revoke(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_rc rc = store_invite_revoke(store, id);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "invite revoke");
        return;
    }
    job->data = json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", true);
}
ORG_ENDPOINT(invite_revoke, ORG_ADMIN, run_invite_revoke)

/* ---- the member list ---- */

static store_rc add_member(const store_member_row_t *row, void *ctx)
{
    json_t *item =
        json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)row->member.user_id, "name", row->member.name,
                  "department", row->member.department, "avatar", row->avatar, "role", role_name(&row->member));
    return json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

/* GET /wx/member/list?keyword=&page=&limit= (member) */
static void run_member_list(org_job_t *job, store_t *store)
{
    org_page_t page;
    const char *keyword;
    if (!org_param_text(job, "keyword", false, 0, 20, false, &keyword, "keyword 须为0到20个字符") ||
        !org_param_page(job, 20, &page))
        return;
    json_t *list = json_array();
    int64_t total = 0;
    store_rc rc = store_member_list(store, keyword, page.offset, page.limit, add_member, list, &total);
    org_answer_page(job, store, rc, list, total, &page, "member list");
}
ORG_ENDPOINT(member_list, ORG_MEMBER, run_member_list)

static const http_route_t member_routes[] = {
    {"GET", "/wx/member/me", member_me},
    {"POST", "/wx/member/join", member_join},
    {"GET", "/wx/member/requests", member_requests},
    {"POST", "/wx/member/approve", member_approve},
    {"POST", "/wx/member/role", member_role},
    {"POST", "/wx/member/remove", member_remove},
    {"POST", "/wx/member/invite", member_invite},
    {"GET", "/wx/member/invites", member_invites},
    {"POST", "/wx/member/invite/revoke", invite_revoke},
    {"GET", "/wx/member/list", member_list},
};

const app_module_t member_module = {.name = "member", APP_MODULE_ROUTES_FIELDS(member_routes)};
