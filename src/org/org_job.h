/*
 * org/org_job — the shape of every endpoint of the organization and its meetings
 * (/wx/member/, /wx/room/, /wx/meeting/): one function that runs on a database worker.
 *
 *   on the loop:   the token check (auth_require_ctx: 501, 720, 721), then the request's
 *                  parameters read into one JSON object (the body of a POST: 401/402 as
 *                  http/fields.h; the query string of a GET, as strings), the endpoint's texts
 *                  through WeChat's content check when it names some (815 for a risky one;
 *                  content/content_check.h), and a job queued on the database pool;
 *   on a worker:   the caller's membership read (store_member_get) and checked against the
 *                  endpoint's access: ORG_MEMBER needs a member (802), ORG_ADMIN an admin
 *                  (802 for visitors, 506 for members), ORG_VISITOR anyone logged in; then the
 *                  endpoint's run(job, store), which checks its parameters (org_param_*),
 *                  calls store verbs and sets the answer: job->data, or org_fail();
 *   on the loop:   the answer, through http/reply.h.
 * So an endpoint is written as straight-line code with no callbacks, and every endpoint
 * answers the same errnos the same way. The worker never touches the request (it may be gone
 * when the job comes back: http_pending).
 *
 * Declaring one (a route's handler, for the module's route table):
 *   static void run_room_list(org_job_t *job, store_t *store) { ... }
 *   ORG_ENDPOINT(room_list, ORG_MEMBER, run_room_list)   // defines static int room_list(req, app)
 *
 * Ownership: the job owns params and data (json references) and the arrays org_param_ids
 * returns; all are freed with the job. run() may build JSON freely: the objects are handed
 * to the loop whole, never shared between threads while built.
 */
#ifndef MEETOA_ORG_ORG_JOB_H
#define MEETOA_ORG_ORG_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>
#include <jansson.h>

#include "api/errno.h"
#include "app/app.h"
#include "http/json_out.h"
#include "http/reply.h"
#include "runtime/db_pool.h"
#include "store/store.h"
#include "store/store_minutes.h"
#include "store/store_org.h"

typedef enum org_access {
    ORG_VISITOR, /* anyone logged in (member/me, member/join) */
    ORG_MEMBER,  /* members and admins; 802 for the others */
    ORG_ADMIN,   /* admins; 506 for members, 802 for the others */
} org_access_t;

struct auth_caller;
typedef struct org_job org_job_t;
typedef void (*org_run_fn)(org_job_t *job, store_t *store);
/* Back on the loop after a run() that succeeded: may answer req itself (an image, a CSV, or
 * after a WeChat call), returning true; false lets the job answer job->data as JSON. */
typedef bool (*org_then_fn)(org_job_t *job, h2o_req_t *req);

typedef struct org_endpoint {
    org_access_t access;
    org_run_fn run;
    org_then_fn then; /* NULL = answer job->data */
    /* A multipart/form-data POST (a file upload): the part named file_field becomes job->blob
     * (its filename job->blob_name), and the parts named in text_fields (NULL-terminated)
     * become params as strings. NULL = a JSON body (or the query of a GET). */
    const char *file_field;
    const char *const *text_fields;
    /* The request's texts that go through WeChat's content check before run() (when
     * oa.wx.content-check is on): a list ended by {NULL}; NULL = none (content/content_check.h).
     * A risky one answers 815 without run(); review and unchecked ones are flagged after it. */
    const struct content_field *content;
    /* An answer made on the loop, before any database work (a cached page): true when it
     * answered req; false sends the request on its way. NULL = none. */
    bool (*on_loop)(h2o_req_t *req, app_t *app, const struct auth_caller *caller, const json_t *params);
    /* The job may share one transaction and one commit with other such jobs (group commit,
     * runtime/db_pool.h: a sign-in, a ballot). Then run() may run twice: after a batch that
     * rolled back (a job of it failed or was refused) each job runs again alone; the outcome
     * of the first run is dropped before (data, errno, answer, owned). The write epoch is
     * bumped back on the loop, after the batch's commit. */
    bool batched;
} org_endpoint_t;

#define ORG_JOB_MAX_OWNED 8

struct org_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    const org_endpoint_t *endpoint;
    store_user_t user;     /* the caller's wx_user row, as the token check found it */
    store_member_t member; /* the caller's membership (zero when none), read before run */
    json_t *params;        /* the body object, or the query's name -> string pairs */
    int64_t now;           /* epoch seconds when the request arrived */
    /* the outcome, set by run() */
    api_errno_t err;
    char errmsg[256]; /* "" = the errno's own */
    json_t *data;     /* NULL = no data */
    /* or the whole answer already rendered (org_answer_text: a page written as text) */
    bool has_answer;
    http_answer_t answer;
    void *owned[ORG_JOB_MAX_OWNED];
    int nowned;
    /* bytes in or out: an upload's file (file_field), or a then()'s binary answer; freed with the job */
    uint8_t *blob;
    size_t blob_len;
    char blob_name[256];                /* the upload's filename (raw, as the client sent it), else "" */
    char file_key[STORE_FILE_KEY_SIZE]; /* run() to then(): the key of a file run() stored, else "" */
    /* the content check's flags to store after run() (NULL = none), the route, the loop */
    struct content_outcome *checked;
    char route[65];
    h2o_multithread_receiver_t *reply_to;
    uint64_t epoch; /* org_write_epoch() when the request arrived (before any read of the job) */
    bool is_get;
};

/* This process's write epoch: +1 after every job of a non-GET endpoint ran (its writes are
 * committed then). A value read before a database read and still current later means that no
 * write of this process came in between (meeting/list_cache.h's answers on the loop). Any thread. */
uint64_t org_write_epoch(void);
/* Bumps the write epoch for a write made outside an org endpoint (an account closed), after its
 * commit. Any thread. */
void org_write_bump(void);

/* An upload endpoint (see org_endpoint_t's file_field), then_ as org_endpoint_t's then (may be NULL). */
#define ORG_UPLOAD_ENDPOINT(name, access_, run_, then_, file_field_, text_fields_)                                     \
    static const org_endpoint_t name##_endpoint = {access_, run_, then_, file_field_, text_fields_};                   \
    static int name(h2o_req_t *req, void *app)                                                                         \
    {                                                                                                                  \
        return org_handle(req, app, &name##_endpoint);                                                                 \
    }

/* Handles req for endpoint (see the top comment). Always returns 0. */
int org_handle(h2o_req_t *req, void *app, const org_endpoint_t *endpoint);

#define ORG_ENDPOINT(name, access_, run_) ORG_ENDPOINT_THEN(name, access_, run_, NULL)
/* An endpoint whose texts content_ (a content_field_t list) are checked first. */
#define ORG_ENDPOINT_CHECKED(name, access_, run_, content_)                                                            \
    static const org_endpoint_t name##_endpoint = {access_, run_, NULL, NULL, NULL, content_};                         \
    static int name(h2o_req_t *req, void *app)                                                                         \
    {                                                                                                                  \
        return org_handle(req, app, &name##_endpoint);                                                                 \
    }
/* An endpoint whose job may be group-committed with others (org_endpoint_t's batched). */
#define ORG_ENDPOINT_BATCHED(name, access_, run_)                                                                      \
    static const org_endpoint_t name##_endpoint = {access_, run_, .batched = true};                                    \
    static int name(h2o_req_t *req, void *app)                                                                         \
    {                                                                                                                  \
        return org_handle(req, app, &name##_endpoint);                                                                 \
    }
/* An endpoint whose answer then() makes on the loop (see org_then_fn). */
#define ORG_ENDPOINT_THEN(name, access_, run_, then_)                                                                  \
    static const org_endpoint_t name##_endpoint = {access_, run_, then_};                                              \
    static int name(h2o_req_t *req, void *app)                                                                         \
    {                                                                                                                  \
        return org_handle(req, app, &name##_endpoint);                                                                 \
    }

/* ---- the outcome (worker side) ---- */

/* Fails the job with err; fmt (printf-like, NULL = the errno's own errmsg) gives the errmsg.
 * The first failure wins: later calls change nothing. */
void org_fail(org_job_t *job, api_errno_t err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fails the job for a store error: STORE_NOT_FOUND is 804, anything else 502 and an ERROR
 * log line naming what (never a value) and store_last_error(). */
void org_fail_store(org_job_t *job, store_t *store, store_rc rc, const char *what);
/* Whether the job has failed. */
static inline bool org_failed(const org_job_t *job)
{
    return job->err != API_OK;
}

/* ---- parameters (worker side) ----
 * Each returns true when the parameter is acceptable (present or absent; *present, when
 * given, tells which); on false the job has failed with 401 (missing, wrong type) or 402 (bad
 * value) and errmsg (NULL = the errno's own). Query values arrive as strings: integers and
 * booleans are parsed from them strictly. */
bool org_param_id(org_job_t *job, const char *key, bool required, int64_t *out, bool *present, const char *errmsg);
bool org_param_int(org_job_t *job, const char *key, bool required, long min, long max, long *out, bool *present,
                   const char *errmsg);
bool org_param_bool(org_job_t *job, const char *key, bool required, bool *out, bool *present);
/* UTF-8 text of min..max characters, without control characters (newline and tab are allowed
 * only when multiline). *out = NULL when absent. */
bool org_param_text(org_job_t *job, const char *key, bool required, size_t min, size_t max, bool multiline,
                    const char **out, const char *errmsg);
/* A time as text_time_parse accepts ("YYYY-MM-DD HH:MM:SS" local, or ISO 8601 with offset). */
bool org_param_time(org_job_t *job, const char *key, bool required, int64_t *out, bool *present, const char *errmsg);
/* An array of at most max positive integer ids (401 when not an array of integers); *ids is
 * owned by the job (NULL when absent or empty). */
bool org_param_ids(org_job_t *job, const char *key, bool required, size_t max, int64_t **ids, size_t *n, bool *present,
                   const char *errmsg);

/* ---- lists in litemall's page shape ---- */

#define ORG_PAGE_MAX_LIMIT 100

typedef struct org_page {
    int64_t page, limit, offset;
} org_page_t;
/* page (from 1, default 1) and limit (1..ORG_PAGE_MAX_LIMIT, default default_limit). */
bool org_param_page(org_job_t *job, int64_t default_limit, org_page_t *out);
/* {"list": list, "total", "page", "limit", "pages"} (list reference stolen). */
json_t *org_page_json(json_t *list, int64_t total, const org_page_t *page);
/* The end of a list endpoint: rc STORE_OK answers the page of list and total, anything else
 * fails the job as org_fail_store(what). list's reference is stolen either way. */
void org_answer_page(org_job_t *job, store_t *store, store_rc rc, json_t *list, int64_t total, const org_page_t *page,
                     const char *what);

/* A page written as JSON text instead (big, hot lists; see http/json_out.h):
 * org_page_text_open(o) writes the envelope and {"list":[ into the empty o, the caller writes
 * the items separated by commas, org_page_text_close(o, ...) writes ],"total":..,"pages":..}
 * and the envelope's end and returns the answer (o's buffer taken), for org_answer_text. */
void org_page_text_open(json_out_t *o);
http_answer_t org_page_text_close(json_out_t *o, int64_t total, const org_page_t *page);
/* Makes answer (taken) the job's answer, sent as it is. */
void org_answer_text(org_job_t *job, http_answer_t answer);

/* ---- answers ---- */

/* A time as the API shows it: "YYYY-MM-DD HH:MM:SS" in oa.time-zone; "" for 0. */
json_t *org_time_json(int64_t epoch);
/* "none", "pending", "member" or "admin". */
const char *org_membership_name(const store_member_t *member);

#endif
