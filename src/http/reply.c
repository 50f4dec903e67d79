/* http/reply — see reply.h. */
#include "http/reply.h"

#include <stdlib.h>
#include <string.h>

static const char out_of_memory[] = "{\"errno\":502,\"errmsg\":\"系统内部错误\"}";

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    default:
        return "Error";
    }
}

void http_send_answer(h2o_req_t *req, const http_answer_t *answer)
{
    req->res.status = answer->status;
    req->res.reason = reason_of(answer->status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json;charset=UTF-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    if (answer->text == NULL)
        h2o_send_inline(req, out_of_memory, sizeof(out_of_memory) - 1);
    else
        h2o_send_inline(req, answer->text, answer->len); /* copies into req->pool */
}

http_answer_t http_answer_make(api_errno_t code, const char *errmsg, json_t *data)
{
    json_t *body = json_object();
    json_object_set_new(body, "errno", json_integer(code));
    json_object_set_new(body, "errmsg", json_string(errmsg != NULL ? errmsg : api_errmsg(code)));
    if (data != NULL)
        json_object_set_new(body, "data", data);
    http_answer_t answer = {.status = api_http_status(code)};
    answer.text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    answer.len = answer.text != NULL ? strlen(answer.text) : 0;
    json_decref(body);
    return answer;
}

void http_answer_free(http_answer_t *answer)
{
    free(answer->text);
    answer->text = NULL;
}

static void send_made(h2o_req_t *req, http_answer_t answer)
{
    http_send_answer(req, &answer);
    http_answer_free(&answer);
}

void http_reply_ok(h2o_req_t *req, json_t *data)
{
    send_made(req, http_answer_make(API_OK, NULL, data));
}

void http_reply_error_msg(h2o_req_t *req, api_errno_t code, const char *errmsg)
{
    send_made(req, http_answer_make(code, errmsg, NULL));
}

void http_reply_error(h2o_req_t *req, api_errno_t code)
{
    send_made(req, http_answer_make(code, NULL, NULL));
}
