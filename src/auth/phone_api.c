/*
 * auth/phone_api — see phone_api.h.
 *
 * bindPhone with a code: loop -> WeChat client (getuserphonenumber) -> loop -> database
 * worker (bind) -> loop. With encryptedData: loop -> database worker (read the sealed
 * session_key, open it, decrypt, bind, all on the worker) -> loop. The session_key is in
 * clear only on the worker, in a stack buffer wiped before the job returns. A number bound
 * writes "phone" to the login log (store/store_sessions.h).
 */
#include "auth/phone_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/caller.h"
#include "auth/session_key.h"
#include "common/log.h"
#include "guard/rate_guard.h"
#include "http/fields.h"
#include "http/reply.h"
#include "http/request.h"
#include "store/store_sessions.h"
#include "wechat/wx_legacy.h"

typedef struct phone_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    auth_caller_t caller;
    wx_phone_req_t wx;
    char *encrypted; /* legacy request, else NULL */
    char iv[25];
    wx_phone_result_t phone; /* the number, from WeChat or decrypted */
    char ip[IP_TEXT_SIZE];   /* the client's, for the login log */
    api_errno_t err;         /* set by the worker */
} phone_job_t;

static void phone_job_free(phone_job_t *job)
{
    free(job->encrypted);
    free(job);
}

/* Reads the caller's session_key into out on a worker, opened with the data key its token
 * was found under (key_index, see auth/token.h). API_OK, or the errno to answer. */
static api_errno_t load_session_key(store_t *store, const app_t *app, const uint8_t token_hash[32], int key_index,
                                    char out[WX_SESSION_KEY_SIZE])
{
    store_session_t session;
    store_rc rc = store_session_get(store, token_hash, &session, NULL);
    if (rc == STORE_NOT_FOUND)
        return API_UNLOGIN; /* logged out meanwhile */
    if (rc != STORE_OK) {
        log_error("session read failed: %s", store_last_error(store));
        return API_SERIOUS;
    }
    const uint8_t *data_key = token_data_key(app->config, key_index);
    if (data_key == NULL || !session_key_open(data_key, &session, out)) {
        log_error("a stored session_key does not open: was oa.security.data-key changed?");
        return API_SESSION_KEY_STALE;
    }
    return API_OK;
}

/* ---- bind ---- */

static void run_bind(db_job_t *db, store_t *store)
{
    phone_job_t *job = (phone_job_t *)db;
    if (job->encrypted != NULL) {
        char session_key[WX_SESSION_KEY_SIZE];
        json_t *data = NULL;
        job->err = load_session_key(store, job->app, job->caller.token_hash, job->caller.key_index, session_key);
        if (job->err == API_OK) {
            switch (wx_legacy_decrypt(session_key, job->encrypted, strlen(job->encrypted), job->iv, strlen(job->iv),
                                      job->app->config->wx_app_id, &data)) {
            case WX_LEGACY_OK:
                job->err =
                    wx_legacy_phone(data, job->app->config->wx_app_id, &job->phone) ? API_OK : API_BAD_ARGUMENT_VALUE;
                break;
            case WX_LEGACY_BAD_INPUT:
                job->err = API_BAD_ARGUMENT_VALUE;
                break;
            case WX_LEGACY_STALE:
                job->err = API_SESSION_KEY_STALE;
                break;
            case WX_LEGACY_WRONG_APP:
                job->err = API_WX_WRONG_APP;
                break;
            }
        }
        explicit_bzero(session_key, sizeof(session_key));
        json_decref(data);
        if (job->err != API_OK)
            return;
    }
    store_rc rc = store_user_bind_mobile(store, job->caller.user.id, job->phone.pure_phone_number,
                                         job->app->config->phone_allow_shared, time(NULL));
    job->err = rc == STORE_OK ? API_OK : rc == STORE_CONFLICT ? API_MOBILE_REGISTERED : API_SERIOUS;
    if (rc == STORE_ERROR || rc == STORE_NOT_FOUND)
        log_error("phone of user %lld not stored: %s", (long long)job->caller.user.id, store_last_error(store));
    if (rc == STORE_OK &&
        store_login_log_add(store, job->caller.user.id, STORE_LOGIN_EVENT_PHONE, 0, job->ip, time(NULL)) != STORE_OK)
        log_warn("login log not written: %s", store_last_error(store));
}

static void on_bound(loop_msg_t *msg)
{
    phone_job_t *job = (phone_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (job->err == API_OK) {
        store_user_t user = job->caller.user;
        snprintf(user.mobile, sizeof(user.mobile), "%s", job->phone.pure_phone_number);
        session_cache_update_user(job->app->sessions, &user);
    }
    if (req != NULL) {
        if (job->err != API_OK) {
            http_reply_error(req, job->err);
        } else {
            json_t *data = json_object();
            json_object_set_new(data, "phone", json_string(job->phone.phone_number));
            json_object_set_new(data, "purePhoneNumber", json_string(job->phone.pure_phone_number));
            json_object_set_new(data, "countryCode", json_string(job->phone.country_code));
            http_reply_ok(req, data);
        }
    }
    phone_job_free(job);
}

static void submit_bind(phone_job_t *job)
{
    db_pool_run(job->app->db, &job->db, run_bind, job->wx.msg.reply_to, on_bound);
}

static void on_phone(loop_msg_t *msg)
{
    phone_job_t *job = H2O_STRUCT_FROM_MEMBER(phone_job_t, wx.msg, msg);
    const wx_phone_result_t *result = &job->wx.result;
    api_errno_t code = API_OK;
    const char *errmsg = NULL;
    if (result->outcome != WX_OK) {
        const wx_error_t *error =
            wx_error_lookup_api(result->token_failed ? WX_API_TOKEN : WX_API_PHONE, result->outcome, result->errcode);
        if (error->fault == WX_FAULT_CONFIG)
            log_error("WeChat refused the phone number request (errcode %ld)", result->errcode);
        code = error->api_errno;
        errmsg = error->errmsg;
    } else if (strcmp(result->watermark_appid, job->app->config->wx_app_id) != 0) {
        code = API_WX_WRONG_APP;
    }
    if (code != API_OK) {
        h2o_req_t *req = http_pending_take(&job->pending);
        if (req != NULL)
            http_reply_error_msg(req, code, errmsg != NULL ? errmsg : api_errmsg(code));
        phone_job_free(job);
        return;
    }
    job->phone = *result;
    submit_bind(job);
}

/* After both rate limits: arg is the caller. */
static void bind_phone_start(h2o_req_t *req, void *app_, const void *arg)
{
    app_t *app = app_;
    const auth_caller_t *caller = arg;
    api_errno_t err = API_BAD_ARGUMENT;
    json_t *body = http_read_json(req, &err);
    const char *code = NULL, *encrypted = NULL, *iv = NULL;
    phone_job_t *job = NULL;
    if (body == NULL || !fields_token(body, "code", false, 1, WX_CODE_MAX, &code, &err) ||
        !fields_string(body, "encryptedData", code == NULL, 1, WX_ENCRYPTED_MAX, &encrypted, &err) ||
        !fields_string(body, "iv", encrypted != NULL && code == NULL, 1, 24, &iv, &err))
        goto refuse;
    if ((job = calloc(1, sizeof(*job))) == NULL) {
        err = API_SERIOUS;
        goto refuse;
    }
    job->app = app;
    job->caller = *caller;
    auth_client_ip(req, app, job->ip);
    loop_msg_init(&job->wx.msg, http_receiver(req), on_phone);
    http_pending_attach(&job->pending, req);
    if (code != NULL) {
        snprintf(job->wx.code, sizeof(job->wx.code), "%s", code);
        snprintf(job->wx.openid, sizeof(job->wx.openid), "%s", caller->user.openid);
        json_decref(body);
        wx_get_phone_number(app->wx, &job->wx);
        return;
    }
    job->encrypted = strdup(encrypted);
    snprintf(job->iv, sizeof(job->iv), "%s", iv);
    json_decref(body);
    if (job->encrypted == NULL) {
        http_pending_take(&job->pending);
        phone_job_free(job);
        http_reply_error(req, API_SERIOUS);
        return;
    }
    submit_bind(job);
    return;

refuse:
    json_decref(body);
    http_reply_error(req, err);
}

static void bind_phone(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    rate_guard_key(req, app->limits[APP_LIMIT_PHONE_OPENID], caller->user.openid, bind_phone_start, app, caller,
                   sizeof *caller);
}

static void bind_phone_authorize(h2o_req_t *req, void *app, const void *arg)
{
    (void)arg;
    auth_require(req, app, bind_phone);
}

int auth_bind_phone(h2o_req_t *req, void *app_)
{
    app_t *app = app_;
    rate_guard_client(req, app->limits[APP_LIMIT_PHONE_IP], &app->config->trusted_proxies, bind_phone_authorize, app,
                      NULL, 0);
    return 0;
}

/* ---- check_session ---- */

typedef struct check_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    uint8_t token_hash[32];
    int key_index;
    api_errno_t err;
    wx_checksession_req_t wx;
} check_job_t;

static void on_checked(loop_msg_t *msg)
{
    check_job_t *job = H2O_STRUCT_FROM_MEMBER(check_job_t, wx.msg, msg);
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL) {
        if (job->wx.outcome == WX_OK || (job->wx.outcome == WX_ERRCODE && job->wx.errcode == 87009)) {
            json_t *data = json_object();
            json_object_set_new(data, "valid", json_boolean(job->wx.outcome == WX_OK));
            http_reply_ok(req, data);
        } else {
            const wx_error_t *error = wx_error_lookup_api(job->wx.token_failed ? WX_API_TOKEN : WX_API_CHECKSESSION,
                                                          job->wx.outcome, job->wx.errcode);
            if (error->fault == WX_FAULT_CONFIG)
                log_error("WeChat refused the checksession request (errcode %ld)", job->wx.errcode);
            http_reply_error_msg(req, error->api_errno, error->errmsg);
        }
    }
    free(job);
}

static void run_sign(db_job_t *db, store_t *store)
{
    check_job_t *job = (check_job_t *)db;
    char session_key[WX_SESSION_KEY_SIZE];
    job->err = load_session_key(store, job->app, job->token_hash, job->key_index, session_key);
    if (job->err == API_OK)
        wx_legacy_checksession_signature(session_key, job->wx.signature);
    explicit_bzero(session_key, sizeof(session_key));
}

static void on_signed(loop_msg_t *msg)
{
    check_job_t *job = (check_job_t *)msg;
    if (job->err != API_OK) {
        h2o_req_t *req = http_pending_take(&job->pending);
        if (req != NULL)
            http_reply_error(req, job->err);
        free(job);
        return;
    }
    loop_msg_init(&job->wx.msg, job->db.msg.reply_to, on_checked);
    wx_check_session(job->app->wx, &job->wx);
}

static void check_session(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    check_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        http_reply_error(req, API_SERIOUS);
        return;
    }
    job->app = app;
    memcpy(job->token_hash, caller->token_hash, sizeof(job->token_hash));
    job->key_index = caller->key_index;
    snprintf(job->wx.openid, sizeof(job->wx.openid), "%s", caller->user.openid);
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_sign, http_receiver(req), on_signed);
}

int auth_check_session(h2o_req_t *req, void *app)
{
    return auth_require(req, app, check_session);
}
