/*
 * auth/verify_api — GET /wx/auth/verify (contract in verify_api.h): the token check, then the
 * membership from the cache below or one database read, then a bodiless answer.
 */
#include "auth/verify_api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <h2o.h>

#include "app/app.h"
#include "auth/caller.h"
#include "common/clock.h"
#include "common/log.h"
#include "org/org_job.h"
#include "runtime/db_pool.h"
#include "store/store_org.h"

/* ---- the membership cache ---- */

#define MEMBER_SHARDS 64

enum { ROLE_NONE, ROLE_MEMBER, ROLE_ADMIN };
static const h2o_iovec_t ROLE_NAMES[] = {{H2O_STRLIT("none")}, {H2O_STRLIT("member")}, {H2O_STRLIT("admin")}};

/* A member's name as X-OA-Member-Name carries it: percent-encoded (3 bytes a byte at most). */
#define NAME_TEXT_SIZE (3 * (STORE_MEMBER_NAME_SIZE - 1) + 1)

typedef struct member_slot {
    int64_t user_id; /* 0 = empty */
    uint64_t epoch;  /* org_write_epoch() before the read */
    int64_t at_ms;   /* when the read began */
    int role;
    size_t name_len;           /* of name */
    char name[NAME_TEXT_SIZE]; /* percent-encoded once, when kept; "" with ROLE_NONE */
} member_slot_t;

/* What an answer says of the membership: the role, and the encoded name in the request's pool. */
typedef struct member_view {
    int role;
    h2o_iovec_t name;
} member_view_t;

static member_slot_t member_slots[VERIFY_MEMBER_SLOTS];
static pthread_mutex_t member_locks[MEMBER_SHARDS] = {[0 ... MEMBER_SHARDS - 1] = PTHREAD_MUTEX_INITIALIZER};

#define MEMBER_WAYS 4 /* slots of a set: a user's entry is in one of its set's */
#define MEMBER_SETS (VERIFY_MEMBER_SLOTS / MEMBER_WAYS)

static size_t set_of(int64_t user_id)
{
    return (size_t)(((uint64_t)user_id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (MEMBER_SETS - 1);
}

/* The cached membership of user_id into *out (its name copied into pool) when it may answer. */
static bool member_cached(int64_t user_id, uint64_t epoch, int64_t now_ms, int64_t max_age_ms, h2o_mem_pool_t *pool,
                          member_view_t *out)
{
    size_t set = set_of(user_id);
    pthread_mutex_t *lock = &member_locks[set % MEMBER_SHARDS];
    bool hit = false;
    pthread_mutex_lock(lock);
    for (size_t w = 0; w < MEMBER_WAYS && !hit; w++) {
        const member_slot_t *s = &member_slots[set * MEMBER_WAYS + w];
        hit = s->user_id == user_id && s->epoch == epoch && now_ms - s->at_ms < max_age_ms;
        if (hit) {
            out->role = s->role;
            out->name = h2o_iovec_init(NULL, 0);
            if (s->name_len > 0) {
                out->name = h2o_iovec_init(h2o_mem_alloc_pool(pool, s->name_len), s->name_len);
                memcpy(out->name.base, s->name, s->name_len);
            }
        }
    }
    pthread_mutex_unlock(lock);
    return hit;
}

/* Keeps entry in its set: in the user's own slot, else an empty one, else the oldest read's. */
static void member_keep(const member_slot_t *entry)
{
    size_t set = set_of(entry->user_id);
    pthread_mutex_t *lock = &member_locks[set % MEMBER_SHARDS];
    pthread_mutex_lock(lock);
    member_slot_t *ways = &member_slots[set * MEMBER_WAYS], *into = &ways[0];
    for (size_t w = 0; w < MEMBER_WAYS; w++) {
        if (ways[w].user_id == entry->user_id || ways[w].user_id == 0) {
            into = &ways[w];
            break;
        }
        if (ways[w].at_ms < into->at_ms)
            into = &ways[w];
    }
    *into = *entry;
    pthread_mutex_unlock(lock);
}

/* ---- answers ---- */

size_t verify_percent_encode(const char *text, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

static void send_empty(h2o_req_t *req, int status, const char *reason)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = 0;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_start_response(req, &generator);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

static void verify_refuse(h2o_req_t *req, api_errno_t code)
{
    if (code == API_SERIOUS)
        send_empty(req, 502, "Bad Gateway");
    else
        send_empty(req, 401, "Unauthorized");
}

/* The decimal text of a positive id in the request's pool. */
static h2o_iovec_t id_text(h2o_mem_pool_t *pool, int64_t id)
{
    char digits[20];
    size_t n = 0;
    uint64_t v = (uint64_t)id;
    do {
        digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    char *text = h2o_mem_alloc_pool(pool, n);
    memcpy(text, digits + sizeof(digits) - n, n);
    return h2o_iovec_init(text, n);
}

static void answer_member(h2o_req_t *req, int64_t user_id, const member_view_t *member)
{
    h2o_iovec_t id = id_text(&req->pool, user_id);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-oa-user-id"), 0, NULL, id.base, id.len);
    h2o_iovec_t role = ROLE_NAMES[member->role];
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-oa-member-role"), 0, NULL, role.base, role.len);
    if (member->role != ROLE_NONE)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-oa-member-name"), 0, NULL, member->name.base,
                              member->name.len);
    send_empty(req, 200, "OK");
}

/* ---- the membership read ---- */

typedef struct verify_job {
    db_job_t db; /* first */
    http_pending_t pending;
    int64_t user_id;
    store_rc rc;
    member_slot_t member;
} verify_job_t;

static void run_member(db_job_t *db, store_t *store)
{
    verify_job_t *job = (verify_job_t *)db;
    store_member_t m;
    job->rc = store_member_get(store, job->user_id, &m);
    if (job->rc == STORE_NOT_FOUND)
        job->rc = STORE_OK; /* no row: a visitor */
    else if (job->rc != STORE_OK)
        log_error("verify: membership not read: %s", store_last_error(store));
    else if (store_member_is_active(&m)) {
        job->member.role = store_member_is_admin(&m) ? ROLE_ADMIN : ROLE_MEMBER;
        job->member.name_len = verify_percent_encode(m.name, strnlen(m.name, sizeof(m.name) - 1), job->member.name);
    }
}

static void on_member(loop_msg_t *msg)
{
    verify_job_t *job = (verify_job_t *)msg;
    if (job->rc == STORE_OK)
        member_keep(&job->member);
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL) {
        if (job->rc == STORE_OK) {
            member_view_t view = {job->member.role, h2o_strdup(&req->pool, job->member.name, job->member.name_len)};
            answer_member(req, job->user_id, &view);
        } else {
            verify_refuse(req, API_SERIOUS);
        }
    }
    free(job);
}

static void verify_next(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    uint64_t epoch = org_write_epoch();
    int64_t now_ms = clock_monotonic_ms();
    member_view_t member;
    if (member_cached(caller->user.id, epoch, now_ms, (int64_t)app->config->token_cache_seconds * 1000, &req->pool,
                      &member)) {
        answer_member(req, caller->user.id, &member);
        return;
    }
    verify_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        verify_refuse(req, API_SERIOUS);
        return;
    }
    job->user_id = caller->user.id;
    job->member = (member_slot_t){.user_id = caller->user.id, .role = ROLE_NONE, .epoch = epoch, .at_ms = now_ms};
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_member, http_receiver(req), on_member);
}

static int auth_verify(h2o_req_t *req, void *app)
{
    return auth_require_refuse(req, app, verify_next, verify_refuse);
}

static const http_route_t verify_routes[] = {
    {"GET", "/wx/auth/verify", auth_verify},
};

const app_module_t verify_module = {.name = "verify", APP_MODULE_ROUTES_FIELDS(verify_routes)};
