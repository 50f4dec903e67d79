/*
 * auth/auth_api — login with a wx.login() code, who am I, logout.
 *
 * Login is a few hops, none of which blocks the loop:
 *   1. on the loop: check the body, hand the code to the WeChat client;
 *   2. back on the loop with WeChat's answer: map an error to its errno (wx_error_lookup);
 *      check the legacy profile data (rawData + signature, or encryptedData + iv) with the
 *      fresh session_key; when a phoneCode came along, ask WeChat for the number first
 *      (2b); then mint the token, seal the session_key under the data key (AES-256-GCM,
 *      bound to the token hash) and hand the upsert to a database worker; with
 *      oa.wx.content-check a nickname the login brings goes through WeChat's msg_sec_check
 *      before the upsert (2c, after the seal: the session_key is not kept in clear meanwhile);
 *   3. back on the loop with the user row: refuse a disabled or closed user, or a number
 *      bound to someone else, else cache the session and answer the token.
 * The session_key exists in clear only inside the job until it is sealed, and is wiped
 * there; it is never logged or answered.
 *
 * The nickname's check never refuses a login: a risky nickname is dropped (a new user gets an
 * empty one; a returning user's is never changed by a login anyway), a review or a failed
 * check is stored and flagged for admins, in the upsert's job, when this login creates the
 * row (only then is the nickname stored; the row is looked up first, only when there is a flag).
 *
 * Each stored login writes the login log (store/store_sessions.h): "login" (and "phone" when it
 * bound a number), or "refused" with the errno for a user who may not log in; a logout writes
 * "logout". Logins refused before the user is known (WeChat's errors, a number bound elsewhere,
 * which rolls the whole login back) write nothing.
 *
 * A request whose code is already being logged in by another request joins that login
 * (auth/login_flight.h) and gets the same answer; the leader always finishes its login,
 * even when its own client went away, because followers may be waiting on it.
 */
#include "auth/auth_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/caller.h"
#include "auth/login_flight.h"
#include "auth/phone_api.h"
#include "auth/profile.h"
#include "auth/session_bus.h"
#include "auth/session_key.h"
#include "common/clock.h"
#include "common/log.h"
#include "metrics/metrics.h"

#include <stdatomic.h>
#include "common/text.h"
#include "content/content_check.h"
#include "crypto/crypto.h"
#include "guard/rate_guard.h"
#include "http/fields.h"
#include "http/reply.h"
#include "http/request.h"
#include "store/store_sessions.h"
#include "wechat/wx_legacy.h"

#define RAW_DATA_MAX_CHARS 4096

typedef struct login_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    wx_code2session_req_t wx;
    wx_phone_req_t phone; /* only when a phoneCode came along */
    /* oa.rate-limit.login-openid, after WeChat answered */
    shared_check_t openid_check;
    /* from the request */
    char ip[IP_TEXT_SIZE];
    profile_t profile;
    bool has_phone_code;
    char *raw_data, *encrypted; /* legacy profile, copies (may be NULL) */
    char signature[41], iv[25];
    /* made on the loop after WeChat answered */
    char mobile[STORE_MOBILE_SIZE]; /* to bind, "" = none */
    char token[TOKEN_TEXT_LEN + 1];
    store_session_t session;
    int64_t now;
    content_outcome_t *checked; /* the nickname's content flags, NULL when none */
    /* from the database worker */
    store_rc rc;
    bool mobile_conflict;
    bool session_created;
    store_user_t user;
} login_job_t;

static void login_job_free(login_job_t *job)
{
    explicit_bzero(job->wx.result.session_key, sizeof(job->wx.result.session_key));
    explicit_bzero(job->token, sizeof(job->token));
    free(job->raw_data);
    free(job->encrypted);
    free(job->checked);
    free(job);
}

/* meetoa_logins_total and meetoa_login_refusals_total{reason} (docs/metrics.md): one per login
 * that reached WeChat or its checks (requests that joined a login in flight share its count). */
static void login_count(int code)
{
    static const struct {
        int code;
        const char *reason;
    } reasons[] = {{API_WX_CODE_INVALID, "wx_code_invalid"},
                   {API_WX_CODE_USED, "wx_code_used"},
                   {API_WX_BUSY, "wx_busy"},
                   {API_WX_RATE_LIMITED, "wx_rate_limited"},
                   {API_WX_USER_BLOCKED, "wx_user_blocked"},
                   {API_WX_UNAVAILABLE, "wx_unavailable"},
                   {API_USER_DISABLED, "user_disabled"},
                   {API_USER_CLOSED, "user_closed"},
                   {API_TOO_MANY_REQUESTS, "rate_limited"},
                   {API_MOBILE_REGISTERED, "mobile_registered"},
                   {API_SERIOUS, "server_error"}};
    enum { NREASONS = sizeof(reasons) / sizeof(reasons[0]) };
    static metrics_family_t *_Atomic logins, *_Atomic refusals;
    if (atomic_load(&refusals) == NULL) { /* the first login: registration is idempotent */
        const char *names[NREASONS + 1];
        for (size_t i = 0; i < NREASONS; i++)
            names[i] = reasons[i].reason;
        names[NREASONS] = "other";
        metrics_label_t label = {"reason", names, NREASONS + 1};
        atomic_store(&logins, metrics_counter("meetoa_logins_total", "Logins answered with a token.", NULL, 0));
        atomic_store(&refusals,
                     metrics_counter("meetoa_login_refusals_total", "Logins refused, by reason.", &label, 1));
    }
    if (code == API_OK) {
        metrics_inc(atomic_load(&logins), 0);
        return;
    }
    size_t i = 0;
    while (i < NREASONS && reasons[i].code != code)
        i++;
    metrics_inc(atomic_load(&refusals), i);
}

/* Every end of a login: the answer goes to the leader's request, if it is still there, and
 * to every request that joined it. */
static void login_finish(login_job_t *job, http_answer_t answer)
{
    login_count(http_answer_errno(&answer));
    login_flights_finish(job->app->flights, job->wx.code, &answer);
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL)
        http_send_answer(req, &answer);
    http_answer_free(&answer);
    login_job_free(job);
}

static void login_fail(login_job_t *job, api_errno_t code)
{
    login_finish(job, http_answer_make(code, NULL, NULL));
}

/* ---- hop 3: the user row is back ---- */

static json_t *login_answer(const login_job_t *job)
{
    char expire[TEXT_ISO8601_SIZE];
    text_iso8601(job->session.expires_at, expire);
    json_t *user = json_object();
    json_object_set_new(user, "nickName", json_string(job->user.nickname));
    json_object_set_new(user, "avatarUrl", json_string(job->user.avatar));
    json_object_set_new(user, "gender", json_integer(job->user.gender));
    json_t *data = json_object();
    json_object_set_new(data, "token", json_string(job->token));
    json_object_set_new(data, "tokenExpire", json_string(expire));
    json_object_set_new(data, "userInfo", user);
    return data;
}

static void on_login_stored(loop_msg_t *msg)
{
    login_job_t *job = (login_job_t *)msg;
    if (job->session_created)
        session_cache_put(job->app->sessions, &job->session, &job->user, job->now);
    api_errno_t code = job->rc != STORE_OK ? API_SERIOUS : auth_user_refusal(&job->user);
    if (code == API_OK && job->mobile_conflict)
        code = API_MOBILE_REGISTERED;
    login_finish(job, http_answer_make(code, NULL, code == API_OK ? login_answer(job) : NULL));
}

/* The login log's rows of a stored login (store/store_sessions.h): the login and the number it
 * bound, or the refusal of a user who may not log in. A failure is logged, never the login's. */
static void log_login_events(store_t *store, const login_job_t *job)
{
    store_rc rc;
    if (job->session_created) {
        rc = store_login_log_add(store, job->user.id, STORE_LOGIN_EVENT_LOGIN, 0, job->ip, job->now);
        if (rc == STORE_OK && job->mobile[0] != '\0')
            rc = store_login_log_add(store, job->user.id, STORE_LOGIN_EVENT_PHONE, 0, job->ip, job->now);
    } else {
        rc = store_login_log_add(store, job->user.id, STORE_LOGIN_EVENT_REFUSED, (int)auth_user_refusal(&job->user),
                                 job->ip, job->now);
    }
    if (rc != STORE_OK)
        log_warn("login log not written: %s", store_last_error(store));
}

static void run_login_store(db_job_t *db, store_t *store)
{
    login_job_t *job = (login_job_t *)db;
    store_login_t in = {
        .openid = job->wx.result.openid,
        .unionid = job->wx.result.unionid,
        .has_profile = job->profile.present,
        .nickname = job->profile.nickname,
        .avatar = job->profile.avatar,
        .gender = job->profile.gender,
        .ip = job->ip,
        .now = job->now,
    };
    /* a flag is stored only when this login creates the row: only then is the nickname stored */
    store_user_t was;
    bool existed = job->checked != NULL && store_user_get_by_openid(store, in.openid, &was) == STORE_OK;
    /* One transaction: the user row, the number and the session are all written, or none
     * (a user who may not log in gets the upsert only, and no session: refused on the loop). */
    job->rc = store_login_session(store, &in, job->mobile, job->app->config->phone_allow_shared, &job->session,
                                  &job->user, &job->mobile_conflict);
    if (job->rc == STORE_CONFLICT && job->mobile_conflict) {
        job->rc = STORE_OK; /* nothing written; the login is refused with 705 */
        return;
    }
    job->session_created = job->rc == STORE_OK && job->session.user_id != 0;
    if (job->rc != STORE_OK) {
        log_error("login not stored: %s", store_last_error(store));
        return;
    }
    log_login_events(store, job);
    /* (two first logins of one user at once may both see no row: flagged once each) */
    if (job->checked != NULL && !existed && strcmp(job->user.nickname, job->profile.nickname) == 0)
        content_flags_store(store, job->checked, "/wx/auth/login_by_weixin", job->user.id, job->user.id, job->now);
}

/* Hands the login to a database worker. Without a number to bind it may share one transaction
 * and one commit with other logins (group commit, runtime/db_pool.h; run_login_store gives the
 * same outcome when run again alone after a rolled-back batch); a number's binding can be
 * refused (705), which would roll a whole batch back, so such a login runs alone. */
static void login_submit(login_job_t *job)
{
    if (job->mobile[0] == '\0')
        db_pool_run_batched(job->app->db, &job->db, run_login_store, job->wx.msg.reply_to, on_login_stored);
    else
        db_pool_run(job->app->db, &job->db, run_login_store, job->wx.msg.reply_to, on_login_stored);
}

/* ---- hop 2c: the nickname's check is back ---- */

static void on_nickname_checked(void *ctx, const content_outcome_t *outcome)
{
    login_job_t *job = ctx;
    if (outcome->risky) {
        /* the login goes on without it; the user sets another one through the profile API */
        job->profile.nickname[0] = '\0';
        log_info("a nickname judged risky was left out of a login");
    } else {
        job->checked = content_outcome_keep(outcome);
    }
    login_submit(job);
}

/* True when the nickname's check was started (the login goes on in on_nickname_checked). */
static bool check_nickname(login_job_t *job)
{
    if (!job->app->config->content_check || !job->profile.present || job->profile.nickname[0] == '\0')
        return false;
    json_t *params = json_pack("{s:s}", "nickname", job->profile.nickname);
    bool started = params != NULL && content_check_start(job->app, job->wx.msg.reply_to, params, profile_nickname_check,
                                                         job->wx.result.openid, on_nickname_checked, job);
    json_decref(params);
    return started;
}

static void login_store(login_job_t *job)
{
    const app_t *app = job->app;
    if (!token_new(job->token)) {
        log_error("cannot make a session: the random source failed");
        login_fail(job, API_SERIOUS);
        return;
    }
    token_hash(app->token_keys[0], job->token, TOKEN_TEXT_LEN, job->session.token_hash); /* the current data key */
    job->now = time(NULL);
    job->session.created_at = job->now;
    snprintf(job->session.ip, sizeof(job->session.ip), "%s", job->ip);
    job->session.expires_at = job->now + app->config->token_expire_seconds;
    bool sealed = session_key_seal(app->config->data_key, job->wx.result.session_key, &job->session);
    explicit_bzero(job->wx.result.session_key, sizeof(job->wx.result.session_key));
    if (!sealed) {
        log_error("cannot make a session: AES-GCM failed");
        login_fail(job, API_SERIOUS);
        return;
    }
    if (check_nickname(job))
        return;
    login_submit(job);
}

/* ---- hop 2b: WeChat answered the phone code ---- */

static void on_login_phone(loop_msg_t *msg)
{
    login_job_t *job = H2O_STRUCT_FROM_MEMBER(login_job_t, phone.msg, msg);
    const wx_phone_result_t *result = &job->phone.result;
    if (result->outcome != WX_OK) {
        const wx_error_t *error =
            wx_error_lookup_api(result->token_failed ? WX_API_TOKEN : WX_API_PHONE, result->outcome, result->errcode);
        if (error->fault == WX_FAULT_CONFIG)
            log_error("WeChat refused the phone number request (errcode %ld)", result->errcode);
        login_finish(job, http_answer_make(error->api_errno, error->errmsg, NULL));
        return;
    }
    if (strcmp(result->watermark_appid, job->app->config->wx_app_id) != 0) {
        login_fail(job, API_WX_WRONG_APP);
        return;
    }
    snprintf(job->mobile, sizeof(job->mobile), "%s", result->pure_phone_number);
    login_store(job);
}

/* ---- hop 2: WeChat answered the login code ---- */

/* Applies the legacy profile data with the fresh session_key; API_OK when there is none or it holds. */
static api_errno_t check_legacy_profile(login_job_t *job)
{
    const wx_session_result_t *wx = &job->wx.result;
    const char *app_id = job->app->config->wx_app_id;
    json_t *data = NULL;
    api_errno_t code = API_OK;
    if (job->encrypted != NULL) {
        switch (wx_legacy_decrypt(wx->session_key, job->encrypted, strlen(job->encrypted), job->iv, strlen(job->iv),
                                  app_id, &data)) {
        case WX_LEGACY_OK:
            break;
        case WX_LEGACY_BAD_INPUT:
            return API_BAD_ARGUMENT_VALUE;
        case WX_LEGACY_STALE:
            return API_SESSION_KEY_STALE;
        case WX_LEGACY_WRONG_APP:
            return API_WX_WRONG_APP;
        }
        const char *openid = json_string_value(json_object_get(data, "openId"));
        if (openid != NULL && strcmp(openid, wx->openid) != 0)
            code = API_BAD_SIGNATURE; /* another user's data */
    } else if (job->raw_data != NULL) {
        if (!wx_legacy_signature_ok(job->raw_data, strlen(job->raw_data), wx->session_key, job->signature,
                                    strlen(job->signature)))
            return API_BAD_SIGNATURE;
        data = json_loads(job->raw_data, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(data))
            code = API_BAD_ARGUMENT_VALUE;
    } else {
        return API_OK;
    }
    if (code == API_OK && !profile_read(data, &job->profile, &code))
        code = code == API_BAD_ARGUMENT ? API_BAD_ARGUMENT_VALUE : code;
    json_decref(data);
    return code;
}

static void on_login_openid_checked(shared_check_t *check);

static void on_login_wechat(loop_msg_t *msg)
{
    login_job_t *job = H2O_STRUCT_FROM_MEMBER(login_job_t, wx.msg, msg);
    const wx_session_result_t *result = &job->wx.result;
    if (result->outcome != WX_OK) {
        const wx_error_t *error = wx_error_lookup(result->outcome, result->errcode);
        if (error->fault == WX_FAULT_CONFIG)
            log_error("WeChat refused our request (errcode %ld): check the configuration of oa.wx.app-id and "
                      "oa.wx.app-secret",
                      result->errcode);
        else if (error->fault == WX_FAULT_TRANSIENT) /* WeChat's trouble: WARN, so an outage is rate-limited */
            log_warn("WeChat failed a login: outcome %d errcode %ld http %d", (int)result->outcome, result->errcode,
                     result->http_status);
        else
            log_info("login refused by WeChat: outcome %d errcode %ld http %d", (int)result->outcome, result->errcode,
                     result->http_status);
        login_finish(job, http_answer_make(error->api_errno, error->errmsg, NULL));
        return;
    }
    /* oa.rate-limit.login-openid: the openid is known only now; nothing is written yet */
    if (shared_limit_take(job->app->limits[APP_LIMIT_LOGIN_OPENID], result->openid, strlen(result->openid),
                          &job->openid_check, job->wx.msg.reply_to, on_login_openid_checked))
        on_login_openid_checked(&job->openid_check);
}

/* The openid's rate limit answered (at once, or from Redis on this loop). */
static void on_login_openid_checked(shared_check_t *check)
{
    login_job_t *job = H2O_STRUCT_FROM_MEMBER(login_job_t, openid_check, check);
    const wx_session_result_t *result = &job->wx.result;
    if (!check->allowed) {
        rate_guard_count_refusal(job->app->limits[APP_LIMIT_LOGIN_OPENID]);
        login_finish(job, http_answer_too_many(check->retry_after_s));
        return;
    }
    api_errno_t code = check_legacy_profile(job);
    if (code != API_OK) {
        login_fail(job, code);
        return;
    }
    if (job->has_phone_code) {
        snprintf(job->phone.openid, sizeof(job->phone.openid), "%s", result->openid);
        loop_msg_init(&job->phone.msg, job->wx.msg.reply_to, on_login_phone);
        wx_get_phone_number(job->app->wx, &job->phone);
        return;
    }
    login_store(job);
}

/* A follower's copy of the leader's answer is back on its loop. */
static void on_follower_answer(loop_msg_t *msg)
{
    login_follower_t *follower = (login_follower_t *)msg;
    h2o_req_t *req = http_pending_take(&follower->pending);
    if (req != NULL)
        http_send_answer(req, &follower->answer);
    http_answer_free(&follower->answer);
    free(follower);
}

/* Joins the login of the same code if one is in flight. True when it did (the request will
 * be answered by the leader). */
static bool join_login(h2o_req_t *req, app_t *app, const char *code)
{
    login_follower_t *follower = calloc(1, sizeof(*follower));
    if (follower == NULL)
        return false;
    loop_msg_init(&follower->msg, http_receiver(req), on_follower_answer);
    http_pending_attach(&follower->pending, req);
    if (login_flights_join(app->flights, code, follower))
        return true;
    http_pending_take(&follower->pending);
    free(follower);
    return false;
}

/* ---- hop 1: the request ---- */

/* Reads the optional parts of a login body into the job. False (and *err) when malformed. */
static bool read_login_body(json_t *body, login_job_t *job, api_errno_t *err)
{
    json_t *info;
    const char *phone_code, *raw, *signature, *encrypted, *iv;
    if (!fields_object(body, "userInfo", false, &info, err) ||
        (info != NULL && !profile_read(info, &job->profile, err)) ||
        !fields_token(body, "phoneCode", false, 1, WX_CODE_MAX, &phone_code, err) ||
        !fields_string(body, "rawData", false, 1, RAW_DATA_MAX_CHARS, &raw, err) ||
        !fields_token(body, "signature", raw != NULL, 40, 40, &signature, err) ||
        !fields_string(body, "encryptedData", false, 1, WX_ENCRYPTED_MAX, &encrypted, err) ||
        !fields_string(body, "iv", encrypted != NULL, 1, 24, &iv, err))
        return false;
    if (phone_code != NULL) {
        job->has_phone_code = true;
        snprintf(job->phone.code, sizeof(job->phone.code), "%s", phone_code);
    }
    if (raw != NULL) {
        job->raw_data = strdup(raw);
        snprintf(job->signature, sizeof(job->signature), "%s", signature);
    }
    if (encrypted != NULL) {
        job->encrypted = strdup(encrypted);
        snprintf(job->iv, sizeof(job->iv), "%s", iv);
    }
    if ((raw != NULL && job->raw_data == NULL) || (encrypted != NULL && job->encrypted == NULL)) {
        *err = API_SERIOUS;
        return false;
    }
    return true;
}

/* After the IP's rate limit: arg is the client address. */
static void login_start(h2o_req_t *req, void *app_, const void *arg)
{
    app_t *app = app_;
    const ip_addr_t *client = arg;
    api_errno_t err = API_BAD_ARGUMENT;
    login_job_t *job = NULL;
    json_t *body = http_read_json(req, &err);
    const char *code;
    if (body == NULL || !fields_token(body, "code", true, 1, WX_CODE_MAX, &code, &err))
        goto refuse;
    if ((job = calloc(1, sizeof(*job))) == NULL) {
        err = API_SERIOUS;
        goto refuse;
    }
    if (!read_login_body(body, job, &err))
        goto refuse;
    if (join_login(req, app, code)) {
        login_job_free(job);
        json_decref(body);
        return;
    }
    job->app = app;
    snprintf(job->wx.code, sizeof(job->wx.code), "%s", code);
    ip_addr_text(client, job->ip);
    json_decref(body);

    loop_msg_init(&job->wx.msg, http_receiver(req), on_login_wechat);
    http_pending_attach(&job->pending, req);
    wx_code2session(app->wx, &job->wx);
    return;

refuse:
    if (job != NULL)
        login_job_free(job);
    json_decref(body);
    http_reply_error(req, err);
}

int auth_login_by_weixin(h2o_req_t *req, void *app_)
{
    app_t *app = app_;
    ip_addr_t client;
    http_client_addr(req, &app->config->trusted_proxies, &client);
    /* every attempt counts, before any parsing */
    rate_guard_addr(req, app->limits[APP_LIMIT_LOGIN_IP], &client, login_start, app, &client, sizeof client);
    return 0;
}

/* ---- info ---- */

/* Written straight into the request's memory (http_reply_ok_begin): no jansson tree, no copy,
 * on the hottest logged-in path. Room: each string escaped at worst (6 bytes a byte) and the keys. */
static void answer_info(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    const store_user_t *user = &caller->user;
    size_t nickname = strlen(user->nickname), avatar = strlen(user->avatar), mobile = strlen(user->mobile),
           unionid = strlen(user->unionid);
    json_out_t o;
    http_reply_ok_begin(req, &o, 6 * (nickname + avatar + mobile + unionid) + 128);
    json_out_lit(&o, "{\"nickName\":");
    json_out_string(&o, user->nickname, nickname);
    json_out_lit(&o, ",\"avatar\":");
    json_out_string(&o, user->avatar, avatar);
    json_out_lit(&o, ",\"gender\":");
    json_out_int(&o, user->gender);
    json_out_lit(&o, ",\"mobile\":");
    json_out_string(&o, user->mobile, mobile);
    json_out_lit(&o, ",\"unionId\":");
    json_out_string(&o, user->unionid, unionid);
    json_out_lit(&o, "}");
    http_reply_ok_end(req, &o);
}

int auth_info(h2o_req_t *req, void *app)
{
    return auth_require(req, app, answer_info);
}

/* ---- logout ---- */

typedef struct logout_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    uint8_t token_hash[TOKEN_HASH_SIZE];
    int64_t user_id;
    char ip[IP_TEXT_SIZE];
    store_rc rc;
} logout_job_t;

static void run_logout(db_job_t *db, store_t *store)
{
    logout_job_t *job = (logout_job_t *)db;
    job->rc = store_session_delete(store, job->token_hash);
    if (job->rc == STORE_ERROR)
        log_error("logout not stored: %s", store_last_error(store));
    else if (job->rc == STORE_OK &&
             store_login_log_add(store, job->user_id, STORE_LOGIN_EVENT_LOGOUT, 0, job->ip, time(NULL)) != STORE_OK)
        log_warn("login log not written: %s", store_last_error(store));
}

static void on_logout(loop_msg_t *msg)
{
    logout_job_t *job = (logout_job_t *)msg;
    /* again now that the row is gone: a token check that read it meanwhile cannot have cached it */
    session_cache_remove(job->app->sessions, job->token_hash);
    if (job->rc == STORE_OK)
        session_bus_session_ended(job->app, job->token_hash); /* the other instances at once */
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL) {
        if (job->rc == STORE_ERROR)
            http_reply_error(req, API_SERIOUS);
        else if (job->rc == STORE_NOT_FOUND) /* a concurrent logout of the same token won */
            http_reply_error(req, API_UNLOGIN);
        else
            http_reply_ok(req, NULL);
    }
    free(job);
}

static void do_logout(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    /* Refused here at once; the row goes next, and the answer waits for it. */
    session_cache_remove(app->sessions, caller->token_hash);
    logout_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        http_reply_error(req, API_SERIOUS);
        return;
    }
    job->app = app;
    memcpy(job->token_hash, caller->token_hash, TOKEN_HASH_SIZE);
    job->user_id = caller->user.id;
    auth_client_ip(req, app, job->ip);
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_logout, http_receiver(req), on_logout);
}

int auth_logout(h2o_req_t *req, void *app)
{
    return auth_require_no_renew(req, app, do_logout); /* a renewal would leave a new session behind */
}

/* ---- the module (app/module.h): every /wx/auth/ route ---- */

static const http_route_t auth_routes[] = {
    {"POST", "/wx/auth/login_by_weixin", auth_login_by_weixin},
    {"GET", "/wx/auth/info", auth_info},
    {"POST", "/wx/auth/logout", auth_logout},
    {"POST", "/wx/auth/bindPhone", auth_bind_phone},
    {"POST", "/wx/auth/profile", auth_profile},
    {"GET", "/wx/auth/check_session", auth_check_session},
};

const app_module_t auth_module = {.name = "auth", APP_MODULE_ROUTES_FIELDS(auth_routes)};
