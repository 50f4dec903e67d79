/*
 * wx_apis — the WeChat APIs that need the access_token: getuserphonenumber and checksession
 * (contract in wx_client.h; WeChat's side in /work/shared/wechat-api.md §3 and §4).
 *
 * Each request becomes a wx_authed_t on the client thread; the token manager (wx_token.c) sends
 * it when a token is at hand, and its completion here parses the answer, gives the manager its
 * one chance to retry with a fresh token (40001, 42001, 40014), and otherwise delivers the result
 * to the submitting loop. Nothing else is retried: a phone code is single-use (and each success
 * is billed), so its calls also never share or reuse a connection that might re-send them.
 *
 * Values too broken to send are refused without a call, with the errcode WeChat would give
 * them: an empty or unterminated phone code 40029, openid 40003, signature 87009.
 */
#include "wechat/wx_client.h"
#include "wechat/wx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

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
