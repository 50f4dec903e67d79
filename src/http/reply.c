/* http/reply — see reply.h. */
#include "http/reply.h"

#include <stdlib.h>
#include <string.h>

static void send_json(h2o_req_t *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    req->res.status = status;
    req->res.reason = status == 200 ? "OK" : status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed"
                                                                         : status == 413 ? "Payload Too Large"
                                                                                         : "Error";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json;charset=UTF-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    if (text == NULL) { /* out of memory */
        h2o_send_inline(req, H2O_STRLIT("{\"errno\":502,\"errmsg\":\"系统内部错误\"}"));
        return;
    }
    h2o_send_inline(req, text, strlen(text)); /* copies into req->pool */
    free(text);
}

static json_t *envelope(api_errno_t code, const char *errmsg)
{
    json_t *body = json_object();
    json_object_set_new(body, "errno", json_integer(code));
    json_object_set_new(body, "errmsg", json_string(errmsg));
    return body;
}

void http_reply_ok(h2o_req_t *req, json_t *data)
{
    json_t *body = envelope(API_OK, api_errmsg(API_OK));
    if (data != NULL)
        json_object_set_new(body, "data", data);
    send_json(req, 200, body);
}

void http_reply_error_msg(h2o_req_t *req, api_errno_t code, const char *errmsg)
{
    send_json(req, api_http_status(code), envelope(code, errmsg));
}

void http_reply_error(h2o_req_t *req, api_errno_t code)
{
    http_reply_error_msg(req, code, api_errmsg(code));
}
