/*
 * wx_apis — the WeChat APIs that need the access_token: getuserphonenumber, checksession,
 * getwxacodeunlimit, subscribe/send, msg_sec_check and media_check_async
 * (contract in wx_client.h; WeChat's side in /work/shared/wechat-api.md §3 and §4, and
 * /work/shared/wechat-more-apis.md §1.3 for the content checks).
 *
 * Each request becomes a wx_authed_t on the client thread; the token manager (wx_token.c) sends
 * it when a token is at hand, and its completion here parses the answer, gives the manager its
 * one chance to retry with a fresh token (40001, 42001, 40014), and otherwise delivers the result
 * to the submitting loop. Nothing else is retried: a phone code is single-use (and each success
 * is billed), so its calls also never share or reuse a connection that might re-send them.
 *
 * Values too broken to send are refused without a call, with the errcode WeChat would give
 * them: an empty or unterminated phone code 40029, openid 40003, signature 87009; for the content
 * checks 44002, 40129, 40003 and 47001 (wx_client.h). The content checks' texts, URLs and openids
 * are the users': no log line holds them (only the path and WeChat's errcode are logged).
 */
#include "wechat/wx_client.h"
#include "wechat/wx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/text.h"

static bool wx_text_ok(const char *s, size_t size, bool may_be_empty)
{
    size_t len = strnlen(s, size);
    return len < size && (may_be_empty || len > 0);
}

static wx_authed_t *wx_authed_new(const wx_authed_ops_t *ops, void *req, int *attempts)
{
    wx_authed_t *call = calloc(1, sizeof(*call));
    if (call != NULL) {
        call->ops = ops;
        call->req = req;
        call->attempts = attempts;
    }
    return call;
}

/* ---- getuserphonenumber ---------------------------------------------------------------------- */

/* Fills the result of a call that ends without a (further) answer, and delivers it. */
static void wx_phone_fail(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status, bool token_failed)
{
    wx_phone_req_t *req = call->req;
    memset(&req->result, 0, sizeof(req->result));
    req->result.outcome = outcome;
    req->result.errcode = errcode;
    req->result.http_status = http_status;
    req->result.token_failed = token_failed;
    free(call);
    loop_msg_reply(&req->msg);
}

static void wx_phone_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_authed_t *call = ctx;
    wx_phone_req_t *req = call->req;
    wx_phone_result_t result = {.outcome = answer->outcome, .http_status = answer->http_status};

    if (answer->outcome == WX_OK) {
        if (answer->http_status == 200)
            wx_parse_phone_number(answer->body, answer->len, &result);
        else
            result.outcome = WX_BAD_RESPONSE;
    }
    if (wx_authed_retry(client, call, result.outcome, result.errcode))
        return;
    if (result.outcome == WX_ERRCODE)
        log_info("wx: getuserphonenumber answered errcode %ld", result.errcode);
    req->result = result;
    free(call);
    loop_msg_reply(&req->msg);
}

static void wx_phone_send(wx_client_t *client, wx_authed_t *call, const char *token)
{
    wx_phone_req_t *req = call->req;
    const wx_json_member_t members[] = {{"code", req->code, NULL}, {"openid", req->openid, NULL}};
    char *body = wx_json_build(members, req->openid[0] != '\0' ? 2 : 1);
    const wx_param_t params[] = {{"access_token", token}};

    if (body == NULL) {
        log_error("wx: POST /wxa/business/getuserphonenumber could not start: out of memory");
        wx_phone_fail(call, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_call_start(client, &(wx_call_spec_t){.method = "POST",
                                            .path = "/wxa/business/getuserphonenumber",
                                            .params = params,
                                            .n_params = 1,
                                            .json_body = body,
                                            .at_most_once = true,
                                            .on_done = wx_phone_done,
                                            .ctx = call});
    wx_free_secret(body);
}

static const wx_authed_ops_t wx_phone_ops = {.send = wx_phone_send, .fail = wx_phone_fail};

static void wx_phone_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_phone_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_phone_req_t, _submission, submission);
    wx_authed_t *call = wx_authed_new(&wx_phone_ops, req, &req->_attempts);
    if (call == NULL) {
        log_error("wx: POST /wxa/business/getuserphonenumber could not start: out of memory");
        req->result.outcome = WX_UNREACHABLE;
        loop_msg_reply(&req->msg);
        return;
    }
    wx_authed_run(client, call);
}

void wx_get_phone_number(wx_client_t *client, wx_phone_req_t *req)
{
    memset(&req->result, 0, sizeof(req->result));
    req->_attempts = 0;
    if (!wx_text_ok(req->code, sizeof(req->code), false) || !wx_text_ok(req->openid, sizeof(req->openid), true)) {
        req->result.outcome = WX_ERRCODE;
        req->result.errcode = wx_text_ok(req->code, sizeof(req->code), false) ? 40003 : 40029;
        loop_msg_reply(&req->msg);
        return;
    }
    req->_submission.start = wx_phone_start;
    if (!wx_submit(client, &req->_submission)) {
        req->result.outcome = WX_UNREACHABLE;
        loop_msg_reply(&req->msg);
    }
}

/* ---- checksession ---------------------------------------------------------------------------- */

static void wx_checksession_end(wx_checksession_req_t *req, wx_outcome_t outcome, long errcode, int http_status,
                                bool token_failed)
{
    req->outcome = outcome;
    req->errcode = errcode;
    req->http_status = http_status;
    req->token_failed = token_failed;
    loop_msg_reply(&req->msg);
}

static void wx_checksession_fail(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status,
                                 bool token_failed)
{
    wx_checksession_req_t *req = call->req;
    free(call);
    wx_checksession_end(req, outcome, errcode, http_status, token_failed);
}

static void wx_checksession_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_authed_t *call = ctx;
    wx_outcome_t outcome = answer->outcome;
    long errcode = 0;

    if (answer->outcome == WX_OK) {
        if (answer->http_status == 200)
            wx_parse_status(answer->body, answer->len, &outcome, &errcode);
        else
            outcome = WX_BAD_RESPONSE;
    }
    if (wx_authed_retry(client, call, outcome, errcode))
        return;
    wx_checksession_fail(call, outcome, errcode, answer->http_status, false);
}

static void wx_checksession_send(wx_client_t *client, wx_authed_t *call, const char *token)
{
    wx_checksession_req_t *req = call->req;
    const wx_param_t params[] = {
        {"access_token", token},
        {"openid", req->openid},
        {"signature", req->signature},
        {"sig_method", "hmac_sha256"},
    };
    wx_call_start(client, &(wx_call_spec_t){.method = "GET",
                                            .path = "/wxa/checksession",
                                            .params = params,
                                            .n_params = sizeof(params) / sizeof(params[0]),
                                            .on_done = wx_checksession_done,
                                            .ctx = call});
}

static const wx_authed_ops_t wx_checksession_ops = {.send = wx_checksession_send, .fail = wx_checksession_fail};

static void wx_checksession_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_checksession_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_checksession_req_t, _submission, submission);
    wx_authed_t *call = wx_authed_new(&wx_checksession_ops, req, &req->_attempts);
    if (call == NULL) {
        log_error("wx: GET /wxa/checksession could not start: out of memory");
        wx_checksession_end(req, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_authed_run(client, call);
}

void wx_check_session(wx_client_t *client, wx_checksession_req_t *req)
{
    req->_attempts = 0;
    if (!wx_text_ok(req->openid, sizeof(req->openid), false)) {
        wx_checksession_end(req, WX_ERRCODE, 40003, 0, false);
        return;
    }
    if (!wx_text_ok(req->signature, sizeof(req->signature), false)) {
        wx_checksession_end(req, WX_ERRCODE, 87009, 0, false);
        return;
    }
    req->outcome = WX_UNREACHABLE;
    req->errcode = 0;
    req->http_status = 0;
    req->token_failed = false;
    req->_submission.start = wx_checksession_start;
    if (!wx_submit(client, &req->_submission))
        wx_checksession_end(req, WX_UNREACHABLE, 0, 0, false);
}

/* ---- getwxacodeunlimit ------------------------------------------------------------------- */

static void wx_wxacode_end(wx_wxacode_req_t *req, wx_outcome_t outcome, long errcode, int http_status,
                           bool token_failed)
{
    req->outcome = outcome;
    req->errcode = errcode;
    req->http_status = http_status;
    req->token_failed = token_failed;
    loop_msg_reply(&req->msg);
}

static void wx_wxacode_fail(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status, bool token_failed)
{
    wx_wxacode_req_t *req = call->req;
    free(call);
    wx_wxacode_end(req, outcome, errcode, http_status, token_failed);
}

/* Whether body (after leading white space) is a JSON object: WeChat's error answer. */
static bool wx_looks_like_json(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    return i < len && body[i] == '{';
}

static void wx_wxacode_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_authed_t *call = ctx;
    wx_wxacode_req_t *req = call->req;
    wx_outcome_t outcome = answer->outcome;
    long errcode = 0;
    bool image = false;

    if (answer->outcome == WX_OK) {
        if (answer->http_status != 200 || answer->len == 0) {
            outcome = WX_BAD_RESPONSE;
        } else if (wx_looks_like_json(answer->body, answer->len)) {
            wx_parse_status(answer->body, answer->len, &outcome, &errcode);
            if (outcome == WX_OK) /* JSON without an errcode is no image either */
                outcome = WX_BAD_RESPONSE;
        } else {
            image = true;
        }
    }
    if (wx_authed_retry(client, call, outcome, errcode))
        return;
    if (image) {
        req->image = malloc(answer->len);
        if (req->image == NULL) {
            wx_wxacode_fail(call, WX_UNREACHABLE, 0, answer->http_status, false);
            return;
        }
        memcpy(req->image, answer->body, answer->len);
        req->image_len = answer->len;
    } else if (outcome == WX_ERRCODE) {
        log_info("wx: getwxacodeunlimit answered errcode %ld", errcode);
    }
    wx_wxacode_fail(call, outcome, errcode, answer->http_status, false);
}

static void wx_wxacode_send(wx_client_t *client, wx_authed_t *call, const char *token)
{
    wx_wxacode_req_t *req = call->req;
    char width[16];
    snprintf(width, sizeof width, "%d", req->width);
    wx_json_member_t members[5];
    size_t n = 0;
    members[n++] = (wx_json_member_t){"scene", req->scene, NULL};
    members[n++] = (wx_json_member_t){"page", req->page, NULL};
    members[n++] = (wx_json_member_t){"check_path", NULL, req->check_path ? "true" : "false"};
    if (req->env_version[0] != '\0')
        members[n++] = (wx_json_member_t){"env_version", req->env_version, NULL};
    if (req->width > 0)
        members[n++] = (wx_json_member_t){"width", NULL, width};
    char *body = wx_json_build(members, n);
    const wx_param_t params[] = {{"access_token", token}};
    if (body == NULL) {
        log_error("wx: POST /wxa/getwxacodeunlimit could not start: out of memory");
        wx_wxacode_fail(call, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_call_start(client, &(wx_call_spec_t){.method = "POST",
                                            .path = "/wxa/getwxacodeunlimit",
                                            .params = params,
                                            .n_params = 1,
                                            .json_body = body,
                                            .max_response = WX_WXACODE_MAX_LEN,
                                            .on_done = wx_wxacode_done,
                                            .ctx = call});
    wx_free_secret(body);
}

static const wx_authed_ops_t wx_wxacode_ops = {.send = wx_wxacode_send, .fail = wx_wxacode_fail};

static void wx_wxacode_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_wxacode_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_wxacode_req_t, _submission, submission);
    wx_authed_t *call = wx_authed_new(&wx_wxacode_ops, req, &req->_attempts);
    if (call == NULL) {
        log_error("wx: POST /wxa/getwxacodeunlimit could not start: out of memory");
        wx_wxacode_end(req, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_authed_run(client, call);
}

void wx_get_wxacode(wx_client_t *client, wx_wxacode_req_t *req)
{
    req->_attempts = 0;
    req->image = NULL;
    req->image_len = 0;
    if (!wx_text_ok(req->scene, sizeof(req->scene), false)) {
        wx_wxacode_end(req, WX_ERRCODE, 40169, 0, false);
        return;
    }
    if (!wx_text_ok(req->page, sizeof(req->page), true) || req->page[0] == '/') {
        wx_wxacode_end(req, WX_ERRCODE, 41030, 0, false);
        return;
    }
    req->outcome = WX_UNREACHABLE;
    req->errcode = 0;
    req->http_status = 0;
    req->token_failed = false;
    req->_submission.start = wx_wxacode_start;
    if (!wx_submit(client, &req->_submission))
        wx_wxacode_end(req, WX_UNREACHABLE, 0, 0, false);
}

/* ---- subscribe/send ------------------------------------------------------------------------ */

static void wx_subscribe_end(wx_subscribe_req_t *req, wx_outcome_t outcome, long errcode, int http_status,
                             bool token_failed)
{
    req->outcome = outcome;
    req->errcode = errcode;
    req->http_status = http_status;
    req->token_failed = token_failed;
    loop_msg_reply(&req->msg);
}

static void wx_subscribe_fail(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status, bool token_failed)
{
    wx_subscribe_req_t *req = call->req;
    free(call);
    wx_subscribe_end(req, outcome, errcode, http_status, token_failed);
}

static void wx_subscribe_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_authed_t *call = ctx;
    wx_subscribe_req_t *req = call->req;
    wx_outcome_t outcome = answer->outcome;
    long errcode = 0;
    if (answer->outcome == WX_OK) {
        if (answer->http_status == 200)
            wx_parse_subscribe(answer->body, answer->len, &outcome, &errcode, &req->msgid);
        else
            outcome = WX_BAD_RESPONSE;
    }
    if (wx_authed_retry(client, call, outcome, errcode))
        return;
    wx_subscribe_fail(call, outcome, errcode, answer->http_status, false);
}

static void wx_subscribe_send(wx_client_t *client, wx_authed_t *call, const char *token)
{
    wx_subscribe_req_t *req = call->req;
    wx_json_member_t members[6];
    size_t n = 0;
    members[n++] = (wx_json_member_t){"touser", req->touser, NULL};
    members[n++] = (wx_json_member_t){"template_id", req->template_id, NULL};
    if (req->page[0] != '\0')
        members[n++] = (wx_json_member_t){"page", req->page, NULL};
    members[n++] = (wx_json_member_t){"data", NULL, req->data_json};
    if (req->miniprogram_state[0] != '\0')
        members[n++] = (wx_json_member_t){"miniprogram_state", req->miniprogram_state, NULL};
    if (req->lang[0] != '\0')
        members[n++] = (wx_json_member_t){"lang", req->lang, NULL};
    char *body = wx_json_build(members, n);
    const wx_param_t params[] = {{"access_token", token}};
    if (body == NULL) {
        log_error("wx: POST /cgi-bin/message/subscribe/send could not start: out of memory");
        wx_subscribe_fail(call, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_call_start(client, &(wx_call_spec_t){.method = "POST",
                                            .path = "/cgi-bin/message/subscribe/send",
                                            .params = params,
                                            .n_params = 1,
                                            .json_body = body,
                                            .at_most_once = true,
                                            .on_done = wx_subscribe_done,
                                            .ctx = call});
    wx_free_secret(body);
}

static const wx_authed_ops_t wx_subscribe_ops = {.send = wx_subscribe_send, .fail = wx_subscribe_fail};

static void wx_subscribe_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_subscribe_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_subscribe_req_t, _submission, submission);
    wx_authed_t *call = wx_authed_new(&wx_subscribe_ops, req, &req->_attempts);
    if (call == NULL) {
        log_error("wx: POST /cgi-bin/message/subscribe/send could not start: out of memory");
        wx_subscribe_end(req, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_authed_run(client, call);
}

void wx_send_subscribe(wx_client_t *client, wx_subscribe_req_t *req)
{
    req->_attempts = 0;
    req->msgid = 0;
    if (!wx_text_ok(req->touser, sizeof(req->touser), false)) {
        wx_subscribe_end(req, WX_ERRCODE, 40003, 0, false);
        return;
    }
    if (!wx_text_ok(req->template_id, sizeof(req->template_id), false) || req->data_json == NULL) {
        wx_subscribe_end(req, WX_ERRCODE, 40037, 0, false);
        return;
    }
    if (!wx_text_ok(req->page, sizeof(req->page), true) || req->page[0] == '/') {
        wx_subscribe_end(req, WX_ERRCODE, 41030, 0, false);
        return;
    }
    req->outcome = WX_UNREACHABLE;
    req->errcode = 0;
    req->http_status = 0;
    req->token_failed = false;
    req->_submission.start = wx_subscribe_start;
    if (!wx_submit(client, &req->_submission))
        wx_subscribe_end(req, WX_UNREACHABLE, 0, 0, false);
}

/* ---- msg_sec_check ------------------------------------------------------------------------- */

static bool wx_sec_scene_ok(int scene)
{
    return scene >= WX_SEC_SCENE_MIN && scene <= WX_SEC_SCENE_MAX;
}

/* An optional text of msg_sec_check: NULL or "" (not sent), or valid UTF-8. */
static bool wx_optional_utf8_ok(const char *s)
{
    return s == NULL || text_utf8_valid(s, strlen(s));
}

static void wx_msg_sec_check_end(wx_msg_sec_check_req_t *req, wx_outcome_t outcome, long errcode, int http_status,
                                 bool token_failed)
{
    req->result.outcome = outcome;
    req->result.errcode = errcode;
    req->result.http_status = http_status;
    req->result.token_failed = token_failed;
    if (outcome != WX_OK) {
        req->result.suggest = WX_SUGGEST_NONE;
        req->result.label = 0;
        req->result.trace_id[0] = '\0';
    }
    loop_msg_reply(&req->msg);
}

static void wx_msg_sec_check_fail(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status,
                                  bool token_failed)
{
    wx_msg_sec_check_req_t *req = call->req;
    free(call);
    wx_msg_sec_check_end(req, outcome, errcode, http_status, token_failed);
}

static void wx_msg_sec_check_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_authed_t *call = ctx;
    wx_msg_sec_check_req_t *req = call->req;
    wx_msg_sec_check_result_t result = {.outcome = answer->outcome};

    if (answer->outcome == WX_OK) {
        if (answer->http_status == 200)
            wx_parse_msg_sec_check(answer->body, answer->len, &result);
        else
            result.outcome = WX_BAD_RESPONSE;
    }
    if (wx_authed_retry(client, call, result.outcome, result.errcode))
        return;
    if (result.outcome == WX_ERRCODE)
        log_info("wx: msg_sec_check answered errcode %ld", result.errcode);
    req->result = result;
    wx_msg_sec_check_fail(call, result.outcome, result.errcode, answer->http_status, false);
}

static void wx_msg_sec_check_send(wx_client_t *client, wx_authed_t *call, const char *token)
{
    wx_msg_sec_check_req_t *req = call->req;
    char scene[16];
    snprintf(scene, sizeof scene, "%d", req->scene);
    wx_json_member_t members[7];
    size_t n = 0;
    members[n++] = (wx_json_member_t){"content", req->content, NULL};
    members[n++] = (wx_json_member_t){"version", NULL, "2"};
    members[n++] = (wx_json_member_t){"scene", NULL, scene};
    members[n++] = (wx_json_member_t){"openid", req->openid, NULL};
    if (req->title != NULL && req->title[0] != '\0')
        members[n++] = (wx_json_member_t){"title", req->title, NULL};
    if (req->nickname != NULL && req->nickname[0] != '\0')
        members[n++] = (wx_json_member_t){"nickname", req->nickname, NULL};
    if (req->signature != NULL && req->signature[0] != '\0')
        members[n++] = (wx_json_member_t){"signature", req->signature, NULL};
    char *body = wx_json_build(members, n);
    const wx_param_t params[] = {{"access_token", token}};
    if (body == NULL) {
        log_error("wx: POST /wxa/msg_sec_check could not start: out of memory");
        wx_msg_sec_check_fail(call, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    /* a check changes nothing at WeChat: a connection may be reused (and the call re-sent by libcurl) */
    wx_call_start(client, &(wx_call_spec_t){.method = "POST",
                                            .path = "/wxa/msg_sec_check",
                                            .params = params,
                                            .n_params = 1,
                                            .json_body = body,
                                            .on_done = wx_msg_sec_check_done,
                                            .ctx = call});
    wx_free_secret(body); /* the user's text: wiped like a secret */
}

static const wx_authed_ops_t wx_msg_sec_check_ops = {.send = wx_msg_sec_check_send, .fail = wx_msg_sec_check_fail};

static void wx_msg_sec_check_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_msg_sec_check_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_msg_sec_check_req_t, _submission, submission);
    wx_authed_t *call = wx_authed_new(&wx_msg_sec_check_ops, req, &req->_attempts);
    if (call == NULL) {
        log_error("wx: POST /wxa/msg_sec_check could not start: out of memory");
        wx_msg_sec_check_end(req, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_authed_run(client, call);
}

/* The errcode WeChat would answer to req's values, 0 when they may be sent. */
static long wx_msg_sec_check_refusal(const wx_msg_sec_check_req_t *req)
{
    if (req->content == NULL || req->content[0] == '\0')
        return 44002;
    if (!wx_sec_scene_ok(req->scene))
        return 40129;
    if (!wx_text_ok(req->openid, sizeof(req->openid), false))
        return 40003;
    size_t len = strlen(req->content);
    if (!text_utf8_valid(req->content, len) || text_utf8_length(req->content, len) > WX_SEC_CONTENT_MAX ||
        !wx_optional_utf8_ok(req->title) || !wx_optional_utf8_ok(req->nickname) || !wx_optional_utf8_ok(req->signature))
        return 47001;
    return 0;
}

void wx_msg_sec_check(wx_client_t *client, wx_msg_sec_check_req_t *req)
{
    memset(&req->result, 0, sizeof(req->result));
    req->_attempts = 0;
    long refusal = wx_msg_sec_check_refusal(req);
    if (refusal != 0) {
        wx_msg_sec_check_end(req, WX_ERRCODE, refusal, 0, false);
        return;
    }
    req->result.outcome = WX_UNREACHABLE;
    req->_submission.start = wx_msg_sec_check_start;
    if (!wx_submit(client, &req->_submission))
        wx_msg_sec_check_end(req, WX_UNREACHABLE, 0, 0, false);
}

/* ---- media_check_async --------------------------------------------------------------------- */

static void wx_media_check_end(wx_media_check_req_t *req, wx_outcome_t outcome, long errcode, int http_status,
                               bool token_failed)
{
    req->result.outcome = outcome;
    req->result.errcode = errcode;
    req->result.http_status = http_status;
    req->result.token_failed = token_failed;
    if (outcome != WX_OK)
        req->result.trace_id[0] = '\0';
    loop_msg_reply(&req->msg);
}

static void wx_media_check_fail(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status,
                                bool token_failed)
{
    wx_media_check_req_t *req = call->req;
    free(call);
    wx_media_check_end(req, outcome, errcode, http_status, token_failed);
}

static void wx_media_check_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_authed_t *call = ctx;
    wx_media_check_req_t *req = call->req;
    wx_media_check_result_t result = {.outcome = answer->outcome};

    if (answer->outcome == WX_OK) {
        if (answer->http_status == 200)
            wx_parse_media_check(answer->body, answer->len, &result);
        else
            result.outcome = WX_BAD_RESPONSE;
    }
    if (wx_authed_retry(client, call, result.outcome, result.errcode))
        return;
    if (result.outcome == WX_ERRCODE)
        log_info("wx: media_check_async answered errcode %ld", result.errcode);
    req->result = result;
    wx_media_check_fail(call, result.outcome, result.errcode, answer->http_status, false);
}

static void wx_media_check_send(wx_client_t *client, wx_authed_t *call, const char *token)
{
    wx_media_check_req_t *req = call->req;
    char media_type[16], scene[16];
    snprintf(media_type, sizeof media_type, "%d", req->media_type);
    snprintf(scene, sizeof scene, "%d", req->scene);
    const wx_json_member_t members[] = {
        {"media_url", req->media_url, NULL},
        {"media_type", NULL, media_type},
        {"version", NULL, "2"},
        {"scene", NULL, scene},
        {"openid", req->openid, NULL},
    };
    char *body = wx_json_build(members, sizeof(members) / sizeof(members[0]));
    const wx_param_t params[] = {{"access_token", token}};
    if (body == NULL) {
        log_error("wx: POST /wxa/media_check_async could not start: out of memory");
        wx_media_check_fail(call, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    /* a re-send by libcurl on a reused connection costs one more check and one push whose trace_id
     * nobody waits for: harmless, so connections are reused */
    wx_call_start(client, &(wx_call_spec_t){.method = "POST",
                                            .path = "/wxa/media_check_async",
                                            .params = params,
                                            .n_params = 1,
                                            .json_body = body,
                                            .on_done = wx_media_check_done,
                                            .ctx = call});
    wx_free_secret(body);
}

static const wx_authed_ops_t wx_media_check_ops = {.send = wx_media_check_send, .fail = wx_media_check_fail};

static void wx_media_check_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_media_check_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_media_check_req_t, _submission, submission);
    wx_authed_t *call = wx_authed_new(&wx_media_check_ops, req, &req->_attempts);
    if (call == NULL) {
        log_error("wx: POST /wxa/media_check_async could not start: out of memory");
        wx_media_check_end(req, WX_UNREACHABLE, 0, 0, false);
        return;
    }
    wx_authed_run(client, call);
}

/* An http:// or https:// URL (scheme in any case) with something after the scheme, and no space
 * or control character. */
static bool wx_media_url_ok(const char *url, size_t size)
{
    if (!wx_text_ok(url, size, false))
        return false;
    size_t skip = strncasecmp(url, "https://", 8) == 0 ? 8 : strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
    if (skip == 0 || url[skip] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++) {
        if (*p <= ' ' || *p == 0x7f)
            return false;
    }
    return true;
}

static long wx_media_check_refusal(const wx_media_check_req_t *req)
{
    if (!wx_media_url_ok(req->media_url, sizeof(req->media_url)))
        return 47001;
    if (req->media_type != WX_MEDIA_TYPE_AUDIO && req->media_type != WX_MEDIA_TYPE_IMAGE)
        return 47001;
    if (!wx_sec_scene_ok(req->scene))
        return 40129;
    if (!wx_text_ok(req->openid, sizeof(req->openid), false))
        return 40003;
    return 0;
}

void wx_media_check_async(wx_client_t *client, wx_media_check_req_t *req)
{
    memset(&req->result, 0, sizeof(req->result));
    req->_attempts = 0;
    long refusal = wx_media_check_refusal(req);
    if (refusal != 0) {
        wx_media_check_end(req, WX_ERRCODE, refusal, 0, false);
        return;
    }
    req->result.outcome = WX_UNREACHABLE;
    req->_submission.start = wx_media_check_start;
    if (!wx_submit(client, &req->_submission))
        wx_media_check_end(req, WX_UNREACHABLE, 0, 0, false);
}

/* ---- access_token probe ------------------------------------------------------------------- */

/* A "call" that needs the token and sends nothing: it ends as soon as the manager has one. */
static void wx_probe_end(wx_token_probe_req_t *req, wx_outcome_t outcome, long errcode, int http_status)
{
    req->outcome = outcome;
    req->errcode = errcode;
    req->http_status = http_status;
    loop_msg_reply(&req->msg);
}

static void wx_probe_fail(wx_authed_t *call, wx_outcome_t outcome, long errcode, int http_status, bool token_failed)
{
    wx_token_probe_req_t *req = call->req;
    free(call);
    wx_probe_end(req, outcome, errcode, http_status);
}

static void wx_probe_send(wx_client_t *client, wx_authed_t *call, const char *token)
{
    (void)token;
    wx_probe_fail(call, WX_OK, 0, 200, false);
}

static const wx_authed_ops_t wx_probe_ops = {.send = wx_probe_send, .fail = wx_probe_fail};

static void wx_probe_start(wx_client_t *client, wx_submission_t *submission)
{
    wx_token_probe_req_t *req = H2O_STRUCT_FROM_MEMBER(wx_token_probe_req_t, _submission, submission);
    wx_authed_t *call = wx_authed_new(&wx_probe_ops, req, &req->_attempts);
    if (call == NULL) {
        wx_probe_end(req, WX_UNREACHABLE, 0, 0);
        return;
    }
    wx_authed_run(client, call);
}

void wx_probe_token(wx_client_t *client, wx_token_probe_req_t *req)
{
    req->_attempts = 0;
    req->_submission.start = wx_probe_start;
    if (!wx_submit(client, &req->_submission))
        wx_probe_end(req, WX_UNREACHABLE, 0, 0);
}
