/* http/reply — see reply.h. */
#include "http/reply.h"

#include "http/json_out.h"
#include "http/server.h"

#include <stdbool.h>
#include <stdio.h>
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
    case 429:
        return "Too Many Requests";
    default:
        return "Error";
    }
}

int http_answer_errno(const http_answer_t *answer)
{
    /* The envelope's first member ({"errno":N,...), as envelope_open writes it. */
    static const char prefix[] = "{\"errno\":";
    if (answer->text == NULL)
        return API_SERIOUS;
    if (answer->len > sizeof(prefix) - 1 && memcmp(answer->text, prefix, sizeof(prefix) - 1) == 0)
        return atoi(answer->text + sizeof(prefix) - 1);
    return -1;
}

/* The status and headers of an envelope answer. */
static void answer_head(h2o_req_t *req, int status, unsigned retry_after, int errno_value)
{
    req->res.status = status;
    req->res.reason = reason_of(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json;charset=UTF-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    if (retry_after > 0) {
        char *seconds = h2o_mem_alloc_pool(&req->pool, sizeof(H2O_UINT32_LONGEST_STR));
        size_t len = (size_t)sprintf(seconds, "%u", retry_after);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, seconds, len);
    }
    http_request_errno(req, errno_value);
}

void http_send_answer(h2o_req_t *req, const http_answer_t *answer)
{
    answer_head(req, answer->status, answer->retry_after, http_answer_errno(answer));
    /* With the length known, h2o sends Content-Length instead of chunked encoding. */
    if (answer->text == NULL) {
        req->res.content_length = sizeof(out_of_memory) - 1;
        h2o_send_inline(req, out_of_memory, sizeof(out_of_memory) - 1);
    } else {
        req->res.content_length = answer->len;
        h2o_send_inline(req, answer->text, answer->len); /* copies into req->pool */
    }
}

/* The answer's text: written with http/json_out (jansson's json_dumps formats through printf
 * and a callback per token, which was 40 % of the cost of a cached info request). */

static void envelope_open(json_out_t *o, api_errno_t code, const char *errmsg)
{
    const char *msg = errmsg != NULL ? errmsg : api_errmsg(code);
    json_out_lit(o, "{\"errno\":");
    json_out_int(o, code);
    json_out_lit(o, ",\"errmsg\":");
    json_out_cstr(o, msg);
}

static http_answer_t envelope_close(json_out_t *o, api_errno_t code)
{
    json_out_bytes(o, "}\0", 2); /* NUL-terminated for C callers; the length leaves it out */
    http_answer_t answer = {.status = api_http_status(code)};
    if (json_out_failed(o)) {
        json_out_free(o);
        return answer; /* text NULL: sent as a 502 */
    }
    answer.text = o->base;
    answer.len = o->len - 1;
    *o = (json_out_t)JSON_OUT_INIT;
    return answer;
}

http_answer_t http_answer_make(api_errno_t code, const char *errmsg, json_t *data)
{
    json_out_t o = JSON_OUT_INIT;
    envelope_open(&o, code, errmsg);
    if (data != NULL) {
        json_out_lit(&o, ",\"data\":");
        json_out_value(&o, data);
        json_decref(data);
    }
    return envelope_close(&o, code);
}

/* The envelope of an errno-0 answer up to its data (what envelope_open and ",\"data\":" write;
 * unit.reply compares the two). */
static const char ok_open[] = "{\"errno\":0,\"errmsg\":\"成功\",\"data\":";

void http_answer_open(json_out_t *o)
{
    json_out_lit(o, ok_open);
}

void http_reply_ok_begin(h2o_req_t *req, json_out_t *o, size_t max_data)
{
    size_t cap = sizeof(ok_open) - 1 + max_data + 1; /* the closing brace */
    json_out_fixed(o, h2o_mem_alloc_pool(&req->pool, cap), cap);
    json_out_lit(o, ok_open);
}

void http_reply_ok_end(h2o_req_t *req, json_out_t *o)
{
    static h2o_generator_t generator = {NULL, NULL};
    json_out_lit(o, "}");
    if (json_out_failed(o)) {
        http_send_answer(req, &(http_answer_t){.status = api_http_status(API_SERIOUS)});
        return;
    }
    answer_head(req, api_http_status(API_OK), 0, API_OK);
    req->res.content_length = o->len;
    h2o_start_response(req, &generator);
    h2o_iovec_t body = h2o_iovec_init(o->base, o->len); /* in req->pool: lives as long as the request */
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

http_answer_t http_answer_close(json_out_t *o)
{
    return envelope_close(o, API_OK);
}

http_answer_t http_answer_too_many(unsigned retry_after_s)
{
    http_answer_t answer = http_answer_make(API_TOO_MANY_REQUESTS, NULL, NULL);
    answer.retry_after = retry_after_s > 0 ? retry_after_s : 1;
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

void http_reply_too_many(h2o_req_t *req, unsigned retry_after_s)
{
    send_made(req, http_answer_too_many(retry_after_s));
}

void http_reply_error_msg(h2o_req_t *req, api_errno_t code, const char *errmsg)
{
    send_made(req, http_answer_make(code, errmsg, NULL));
}

void http_reply_error(h2o_req_t *req, api_errno_t code)
{
    send_made(req, http_answer_make(code, NULL, NULL));
}

void http_reply_bytes(h2o_req_t *req, const char *content_type, const char *cache_control, const void *bytes,
                      size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    char *copy = h2o_mem_alloc_pool(&req->pool, len > 0 ? len : 1);
    if (len > 0)
        memcpy(copy, bytes, len);
    if (cache_control == NULL)
        cache_control = "no-store";
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache_control, strlen(cache_control));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_start_response(req, &generator);
    h2o_iovec_t body = h2o_iovec_init(copy, len);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}
