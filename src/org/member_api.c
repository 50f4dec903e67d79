/* org/member_api — see member_api.h. */
#include "org/member_api.h"

#include "org/org_job.h"

/* GET /wx/member/me: the caller's membership, for anyone logged in. */
static void run_member_me(org_job_t *job, store_t *store)
{
    (void)store;
    const store_member_t *m = &job->member;
    const char *membership = org_membership_name(m);
    bool listed = m->status == STORE_MEMBER_PENDING || m->status == STORE_MEMBER_ACTIVE;
    job->data = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "membership", membership, "userId",
                          (json_int_t)job->user.id, "name", m->user_id != 0 && listed ? m->name : "", "department",
                          m->user_id != 0 && listed ? m->department : "", "role",
                          store_member_is_admin(m) ? "admin" : (store_member_is_active(m) ? "member" : ""),
                          "rejectReason", m->user_id != 0 && m->status == STORE_MEMBER_REJECTED ? m->reason : "");
}
ORG_ENDPOINT(member_me, ORG_VISITOR, run_member_me)

static const http_route_t member_routes[] = {
    {"GET", "/wx/member/me", member_me},
};

const app_module_t member_module = {.name = "member", APP_MODULE_ROUTES_FIELDS(member_routes)};
