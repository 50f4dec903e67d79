/*
 * auth/auth_api — login with a wx.login() code, who am I, logout.
 *
 * Login is three hops, none of which blocks the loop:
 *   1. on the loop: check the body, hand the code to the WeChat client;
 *   2. back on the loop with WeChat's answer: map an error to its errno (wx_error_lookup),
 *      or mint the token, seal the session_key under the data key (AES-256-GCM, bound to
 *      the token hash) and hand the upsert to a database worker;
 *   3. back on the loop with the user row: refuse a disabled or closed user, else cache
 *      the session and answer the token.
 * The session_key exists in clear only inside the job between hops 1 and 2 and is wiped
 * there; it is never logged or answered.
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
#include "common/log.h"
#include "common/text.h"
#include "crypto/crypto.h"
#include "http/fields.h"
#include "http/reply.h"
#include "http/request.h"

#define NICKNAME_MAX_CHARS     63
#define AVATAR_MAX_CHARS       255
#define PROFILE_TEXT_MAX_CHARS 63

typedef struct login_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    wx_code2session_req_t wx;
    /* from the request */
    char ip[HTTP_IP_SIZE];
    bool has_profile;
    char nickname[STORE_NICKNAME_SIZE];
    char avatar[STORE_AVATAR_SIZE];
    int gender;
    /* made on the loop after WeChat answered */
    char token[TOKEN_TEXT_LEN + 1];
    store_session_t session;
    int64_t now;
    /* from the database worker */
    store_rc rc;
    bool session_created;
    store_user_t user;
} login_job_t;

static void login_job_free(login_job_t *job)
{
    explicit_bzero(job->wx.result.session_key, sizeof(job->wx.result.session_key));
    explicit_bzero(job->token, sizeof(job->token));
    free(job);
}

/* Every end of a login: the answer goes to the leader's request, if it is still there, and
 * to every request that joined it. */
static void login_finish(login_job_t *job, http_answer_t answer)
{
    login_flights_finish(job->app->flights, job->wx.code, &answer);
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL)
        http_send_answer(req, &answer);
    http_answer_free(&answer);
    login_job_free(job);
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
    api_errno_t code = API_OK;
    if (job->rc != STORE_OK)
        code = API_SERIOUS;
    else if (job->user.deleted || job->user.status == STORE_USER_CLOSED)
        code = API_USER_CLOSED;
    else if (job->user.status != STORE_USER_ACTIVE)
        code = API_USER_DISABLED;
    login_finish(job, http_answer_make(code, NULL, code == API_OK ? login_answer(job) : NULL));
}

static void run_login_store(db_job_t *db, store_t *store)
{
    login_job_t *job = (login_job_t *)db;
    store_login_t in = {
        .openid = job->wx.result.openid,
        .unionid = job->wx.result.unionid,
        .has_profile = job->has_profile,
        .nickname = job->nickname,
        .avatar = job->avatar,
        .gender = job->gender,
        .ip = job->ip,
        .now = job->now,
    };
    job->rc = store_user_login(store, &in, &job->user);
    if (job->rc == STORE_OK && job->user.status == STORE_USER_ACTIVE && !job->user.deleted) {
        job->session.user_id = job->user.id;
        job->rc = store_session_insert(store, &job->session);
        job->session_created = job->rc == STORE_OK;
    }
    if (job->rc != STORE_OK)
        log_error("login of user %lld not stored: %s", (long long)job->user.id, store_last_error(store));
}

/* ---- hop 2: WeChat answered ---- */

static bool seal_session(login_job_t *job)
{
    const app_t *app = job->app;
    if (!token_new(job->token))
        return false;
    token_hash(app->token_key, job->token, TOKEN_TEXT_LEN, job->session.token_hash);
    job->now = time(NULL);
    job->session.created_at = job->now;
    job->session.expires_at = job->now + app->config->token_expire_seconds;
    size_t key_len = strlen(job->wx.result.session_key);
    job->session.session_key_sealed_len = CRYPTO_SEAL_SIZE(key_len);
    bool ok = crypto_seal(app->config->data_key, job->session.token_hash, TOKEN_HASH_SIZE, job->wx.result.session_key,
                          key_len, job->session.session_key_sealed);
    explicit_bzero(job->wx.result.session_key, sizeof(job->wx.result.session_key));
    return ok;
}

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
        else
            log_info("login refused by WeChat: outcome %d errcode %ld http %d", (int)result->outcome, result->errcode,
                     result->http_status);
        login_finish(job, http_answer_make(error->api_errno, error->errmsg, NULL));
        return;
    }
    if (!seal_session(job)) {
        log_error("cannot make a session: the random source or AES-GCM failed");
        login_finish(job, http_answer_make(API_SERIOUS, NULL, NULL));
        return;
    }
    job->db.run = run_login_store;
    loop_msg_init(&job->db.msg, job->wx.msg.reply_to, on_login_stored);
    db_pool_submit(job->app->db, &job->db);
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

/* Reads userInfo into the job. False (and *err) when it is malformed. */
static bool read_profile(json_t *body, login_job_t *job, api_errno_t *err)
{
    json_t *info;
    if (!fields_object(body, "userInfo", false, &info, err))
        return false;
    if (info == NULL)
        return true;
    const char *nickname, *avatar, *ignored;
    long gender = 0;
    bool has_gender;
    static const char *const texts[] = {"language", "city", "province", "country"};
    if (!fields_string(info, "nickName", false, 0, NICKNAME_MAX_CHARS, &nickname, err) ||
        !fields_string(info, "avatarUrl", false, 0, AVATAR_MAX_CHARS, &avatar, err) ||
        !fields_int(info, "gender", false, 0, 2, &gender, &has_gender, err))
        return false;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (!fields_string(info, texts[i], false, 0, PROFILE_TEXT_MAX_CHARS, &ignored, err))
            return false;
    job->has_profile = true;
    if (nickname != NULL)
        snprintf(job->nickname, sizeof(job->nickname), "%s", nickname);
    if (avatar != NULL)
        snprintf(job->avatar, sizeof(job->avatar), "%s", avatar);
    job->gender = (int)gender;
    return true;
}

int auth_login_by_weixin(h2o_req_t *req, void *app_)
{
    app_t *app = app_;
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
    if (!read_profile(body, job, &err))
        goto refuse;
    if (join_login(req, app, code)) {
        free(job);
        json_decref(body);
        return 0;
    }
    job->app = app;
    snprintf(job->wx.code, sizeof(job->wx.code), "%s", code);
    http_client_ip(req, job->ip);
    json_decref(body);

    loop_msg_init(&job->wx.msg, http_receiver(req), on_login_wechat);
    http_pending_attach(&job->pending, req);
    wx_code2session(app->wx, &job->wx);
    return 0;

refuse:
    free(job);
    json_decref(body);
    http_reply_error(req, err);
    return 0;
}

/* ---- info ---- */

static void answer_info(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    json_t *data = json_object();
    json_object_set_new(data, "nickName", json_string(caller->user.nickname));
    json_object_set_new(data, "avatar", json_string(caller->user.avatar));
    json_object_set_new(data, "gender", json_integer(caller->user.gender));
    json_object_set_new(data, "mobile", json_string(caller->user.mobile));
    http_reply_ok(req, data);
}

int auth_info(h2o_req_t *req, void *app)
{
    return auth_require(req, app, answer_info);
}

/* ---- logout ---- */

typedef struct logout_job {
    db_job_t db; /* first */
    http_pending_t pending;
    uint8_t token_hash[TOKEN_HASH_SIZE];
    store_rc rc;
} logout_job_t;

static void run_logout(db_job_t *db, store_t *store)
{
    logout_job_t *job = (logout_job_t *)db;
    job->rc = store_session_delete(store, job->token_hash);
    if (job->rc == STORE_ERROR)
        log_error("logout not stored: %s", store_last_error(store));
}

static void on_logout(loop_msg_t *msg)
{
    logout_job_t *job = (logout_job_t *)msg;
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
    memcpy(job->token_hash, caller->token_hash, TOKEN_HASH_SIZE);
    job->db.run = run_logout;
    loop_msg_init(&job->db.msg, http_receiver(req), on_logout);
    http_pending_attach(&job->pending, req);
    db_pool_submit(app->db, &job->db);
}

int auth_logout(h2o_req_t *req, void *app)
{
    return auth_require(req, app, do_logout);
}
