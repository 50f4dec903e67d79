/*
 * wx_internal — what the files of src/wechat share and nothing outside it uses (the unit tests
 * excepted: they call the pure functions below directly).
 *
 * Threads: everything here but the pure functions (wx_parse_*, wx_json_build, wx_force_ration_*,
 * wx_token_lifetime_ms) and wx_submit() belongs to the client thread alone. The only state read
 * from other threads is the submission queue (under client->lock) and the token status snapshot
 * (under token.status_lock).
 *
 * Ownership: a wx_call_spec_t is read during wx_call_start() only (its body and parameter values
 * are copied); an answer's body is valid during the completion only. Secrets (app secret, the
 * access_token, session_key) live in buffers that are wiped before they are freed.
 */
#ifndef MEETOA_WECHAT_WX_INTERNAL_H
#define MEETOA_WECHAT_WX_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>

#include "wechat/wx_client.h"

#define WX_TOKEN_MAX        512    /* longest access_token accepted (WeChat: up to 512 characters) */
#define WX_TOKEN_MARGIN_MS  300000 /* a token is replaced this long before it expires... */
#define WX_FORCE_PER_DAY    20     /* stable_token force_refresh=true: at most this many a UTC day */
#define WX_FORCE_SPACING_MS 30000  /* ...and this far apart */
#define WX_FLIGHT_BUCKETS   64     /* single-flight map of code2Session */
#define WX_IDLE_MAX         16     /* easy handles kept for reuse */

/* ---- the generic HTTP call (wx_client.c) ---------------------------------------------------- */

/* How a call ended at the HTTP level. outcome is WX_OK when an answer arrived (any status). */
typedef struct wx_answer {
    wx_outcome_t outcome;
    int http_status;
    const char *body;
    size_t len;
} wx_answer_t;

/* Runs on the client thread once per call, always. The answer's body is valid during the call. */
typedef void (*wx_call_done_cb)(wx_client_t *client, void *ctx, const wx_answer_t *answer);

typedef struct wx_param {
    const char *name;  /* literal, URL-safe */
    const char *value; /* escaped by wx_call_start */
} wx_param_t;

typedef struct wx_call_spec {
    const char *method; /* "GET" or "POST" (a literal) */
    const char *path;   /* "/sns/jscode2session" (a literal; the only part of a URL ever logged) */
    const wx_param_t *params;
    size_t n_params;
    const char *json_body; /* POST only; copied (may hold secrets: wiped after) */
    /* The request must reach WeChat at most once (code2Session spends the code). libcurl
     * silently re-sends a request whose reused keep-alive connection died before any answer
     * and has no switch for that, so such a re-send is aborted (the call ends WX_UNREACHABLE)
     * and such calls reuse only recently used connections (wx_client.c). */
    bool at_most_once;
    size_t max_response; /* the largest answer accepted; 0 = 64 KiB (JSON answers) */
    wx_call_done_cb on_done;
    void *ctx;
} wx_call_spec_t;

typedef struct wx_call wx_call_t;
typedef struct wx_flight wx_flight_t;

/*
 * Starts an HTTP call to WeChat. Always ends in exactly one spec->on_done on the client thread:
 * later, or at once (WX_UNREACHABLE) when the call cannot even start. Client thread only.
 */
void wx_call_start(wx_client_t *client, const wx_call_spec_t *spec);

/* Queues a submission for the client thread. Returns false (nothing queued) once stopping. Any thread. */
bool wx_submit(wx_client_t *client, wx_submission_t *submission);

void wx_free_secret(char *s);

/* ---- calls that need the access_token (wx_token.c) ------------------------------------------ */

/* meetoa_wechat_token_refreshes_total{outcome} (registered on first use; docs/metrics.md). */
struct metrics_family *wx_token_metric(void);

typedef struct wx_authed wx_authed_t;

/* What the token manager needs from one kind of call (getuserphonenumber, checksession). */
typedef struct wx_authed_ops {
    /* Sends the call with token (valid during this function only); its completion reports
     * through wx_authed_retry() and then delivers. */
    void (*send)(wx_client_t *client, wx_authed_t *call, const char *token);
    /* Ends the call without sending it (again): fills the request's result, replies to its
     * loop and frees call. token_failed: the access_token could not be had. */
    void (*fail)(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status, bool token_failed);
} wx_authed_ops_t;

/* One call that needs a token, from its submission to its delivery. Allocated by its kind. */
struct wx_authed {
    wx_authed_t *next; /* in the list of calls waiting for a token */
    const wx_authed_ops_t *ops;
    void *req;          /* the loop's request */
    int *attempts;      /* the request's _attempts: sends so far */
    uint64_t token_gen; /* which token the last send used */
};

/* A day's budget of stable_token force refreshes. */
typedef struct wx_force_ration {
    int64_t day;     /* UTC day (epoch seconds / 86400) that count is for */
    long count;      /* force refreshes made that day */
    bool used;       /* one was ever made: last_ms is meaningful */
    int64_t last_ms; /* CLOCK_MONOTONIC of the last one */
} wx_force_ration_t;

/* The access_token manager: client thread only, but for the snapshot under status_lock. */
typedef struct wx_token_mgr {
    bool stable;                  /* POST /cgi-bin/stable_token, else GET /cgi-bin/token */
    char token[WX_TOKEN_MAX + 1]; /* secret; meaningful when have */
    bool have;                    /* token is usable until refresh_at_ms */
    uint64_t gen;                 /* bumped at every token installed */
    int64_t refresh_at_ms;        /* CLOCK_MONOTONIC */
    int64_t expires_at;           /* epoch seconds, as WeChat said */
    bool refreshing;              /* a fetch is in flight (only ever one) */
    bool forcing;                 /* ...and it is a force_refresh=true one */
    wx_authed_t *waiters;         /* calls waiting for the fetch, in arrival order */
    wx_authed_t **waiters_tail;
    char refused[WX_TOKEN_MAX + 1]; /* secret: the token a call was just refused with */
    long refused_errcode;           /* that call's errcode; 0 when no refusal is pending */
    wx_force_ration_t ration;
    long fetches, failures, last_errcode;

    pthread_mutex_t status_lock;
    wx_token_status_t status; /* snapshot for wx_client_token_status() */
    int64_t status_force_day; /* the UTC day of status.force_refreshes_today */
} wx_token_mgr_t;

void wx_token_init(wx_token_mgr_t *mgr, bool stable);
void wx_token_destroy(wx_token_mgr_t *mgr);

/* Sends call with the current token, or makes it wait for the (single) fetch in flight. */
void wx_authed_run(wx_client_t *client, wx_authed_t *call);
/*
 * Asks whether an answer wants the call again with a fresh token (40001, 42001, 40014 on the
 * first send). If so, takes call over (marks its token bad when still current, refreshes, resends)
 * and returns true: the caller must not touch call again. Otherwise returns false.
 */
bool wx_authed_retry(wx_client_t *client, wx_authed_t *call, wx_outcome_t outcome, long errcode);

/* Pure: how long a token of expires_in seconds is used: expires_in less 300 s, or less half of
 * expires_in when that is shorter. */
int64_t wx_token_lifetime_ms(long expires_in);
/* Pure: takes one force refresh from the ration if it allows one now (at most WX_FORCE_PER_DAY a
 * UTC day, WX_FORCE_SPACING_MS apart). Returns false, changing nothing, when it does not. */
bool wx_force_ration_take(wx_force_ration_t *ration, int64_t now_epoch_s, int64_t now_mono_ms);
/* Pure: force refreshes made on the UTC day of now_epoch_s. */
long wx_force_ration_today(const wx_force_ration_t *ration, int64_t now_epoch_s);

/* ---- the client ----------------------------------------------------------------------------- */

struct wx_client {
    /* fixed after start */
    char *api_base;
    char *app_id;
    char *app_secret;
    char *ca_file;
    long timeout_ms;
    CURLM *multi;
    pthread_t thread;

    /* shared: under lock */
    pthread_mutex_t lock;
    wx_submission_t *queue_head;
    wx_submission_t **queue_tail;
    bool stopping;

    /* client thread only */
    wx_call_t *calls;
    CURL *idle[WX_IDLE_MAX];
    size_t n_idle;
    wx_flight_t *flights[WX_FLIGHT_BUCKETS];
    wx_token_mgr_t token; /* its snapshot has its own lock */
};

/* ---- JSON in and out (wx_parse.c): pure ------------------------------------------------------ */

/* An access_token answer. token is a secret: wipe the struct after use. */
typedef struct wx_token_answer {
    wx_outcome_t outcome;
    long errcode;
    long expires_in;
    char token[WX_TOKEN_MAX + 1];
} wx_token_answer_t;

/* The body of an HTTP 200 answer of /cgi-bin/token or /cgi-bin/stable_token: WX_OK needs an
 * access_token of 1..512 visible ASCII characters and an integer expires_in of 1..86400. */
void wx_parse_token(const char *body, size_t len, wx_token_answer_t *out);

/* The body of an HTTP 200 answer of getuserphonenumber. Sets outcome, errcode and the text fields
 * (all "" unless WX_OK); leaves http_status and token_failed alone. WX_OK needs phone_info with
 * purePhoneNumber (1..20 digits), countryCode (1..4 digits, as a string or a number) and
 * watermark.appid (1..63 characters of [A-Za-z0-9_-]); phoneNumber is optional (digits, '+', ' ',
 * '-'; 1..31 characters) and built from the others when absent: the pure number for country 86,
 * "+CC PURE" otherwise. */
void wx_parse_phone_number(const char *body, size_t len, wx_phone_result_t *out);

/* An answer that is only {errcode, errmsg} (checksession): WX_OK for errcode 0 or none, WX_ERRCODE
 * for another integer, WX_BAD_RESPONSE for anything else. */
void wx_parse_status(const char *body, size_t len, wx_outcome_t *outcome, long *errcode);

/* One member of a JSON object to build: a string value (escaped) or a raw literal ("false"). */
typedef struct wx_json_member {
    const char *name;   /* literal, needs no escaping */
    const char *string; /* escaped; NULL: use raw */
    const char *raw;
} wx_json_member_t;

/* {"name":value,...} in a malloc'd string (NULL when out of memory). It may hold secrets: the
 * caller wipes it (wx_free_secret). No library copy of the values is made. */
char *wx_json_build(const wx_json_member_t *members, size_t n);

#endif
