/* http/reply — see reply.h. */
#include "http/reply.h"

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

void http_send_answer(h2o_req_t *req, const http_answer_t *answer)
{
    req->res.status = answer->status;
    req->res.reason = reason_of(answer->status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json;charset=UTF-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    if (answer->retry_after > 0) {
        char *seconds = h2o_mem_alloc_pool(&req->pool, sizeof(H2O_UINT32_LONGEST_STR));
        size_t len = (size_t)sprintf(seconds, "%u", answer->retry_after);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, seconds, len);
    }
    /* With the length known, h2o sends Content-Length instead of chunked encoding. */
    if (answer->text == NULL) {
        req->res.content_length = sizeof(out_of_memory) - 1;
        h2o_send_inline(req, out_of_memory, sizeof(out_of_memory) - 1);
    } else {
        req->res.content_length = answer->len;
        h2o_send_inline(req, answer->text, answer->len); /* copies into req->pool */
    }
}

/*
 * The answer's text. A small writer of our own instead of json_dumps(): jansson formats
 * through printf and a callback per token, which was 40 % of the cost of a cached info
 * request. Output is the same compact JSON, keys in insertion order, strings as UTF-8 with
 * only '"', '\\' and control characters escaped.
 */
typedef struct out {
    char *base;
    size_t len, cap;
    bool failed;
} out_t;

static void out_reserve(out_t *o, size_t more)
{
    if (o->failed || o->len + more <= o->cap)
        return;
    size_t cap = o->cap ? o->cap * 2 : 256;
    while (cap < o->len + more)
        cap *= 2;
    char *base = realloc(o->base, cap);
    if (base == NULL) {
        o->failed = true;
        return;
    }
    o->base = base;
    o->cap = cap;
}

static void out_bytes(out_t *o, const char *s, size_t n)
{
    out_reserve(o, n);
    if (o->failed)
        return;
    memcpy(o->base + o->len, s, n);
    o->len += n;
}

#define out_lit(o, lit) out_bytes((o), (lit), sizeof(lit) - 1)

static void out_string(out_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    out_reserve(o, n + 2);
    out_lit(o, "\"");
    size_t plain = 0; /* start of the run of bytes that need no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out_bytes(o, s + plain, i - plain);
        plain = i + 1;
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        switch (c) {
        case '"':
        case '\\':
            out_bytes(o, esc, 2);
            break;
        case '\n':
            out_lit(o, "\\n");
            break;
        case '\t':
            out_lit(o, "\\t");
            break;
        case '\r':
            out_lit(o, "\\r");
            break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            out_bytes(o, esc, 6);
        }
    }
    out_bytes(o, s + plain, n - plain);
    out_lit(o, "\"");
}

static void out_integer(out_t *o, json_int_t v)
{
    char buf[24], *p = buf + sizeof(buf);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    out_bytes(o, p, (size_t)(buf + sizeof(buf) - p));
}

static void out_value(out_t *o, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        out_lit(o, "{");
        json_object_foreach(v, key, item)
        {
            if (!first)
                out_lit(o, ",");
            first = false;
            out_string(o, key, strlen(key));
            out_lit(o, ":");
            out_value(o, item);
        }
        out_lit(o, "}");
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        out_lit(o, "[");
        json_array_foreach(v, i, item)
        {
            if (i > 0)
                out_lit(o, ",");
            out_value(o, item);
        }
        out_lit(o, "]");
        break;
    }
    case JSON_STRING:
        out_string(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        out_integer(o, json_integer_value(v));
        break;
    case JSON_REAL: {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        out_bytes(o, buf, (size_t)n);
        break;
    }
    case JSON_TRUE:
        out_lit(o, "true");
        break;
    case JSON_FALSE:
        out_lit(o, "false");
        break;
    case JSON_NULL:
        out_lit(o, "null");
        break;
    }
}

http_answer_t http_answer_make(api_errno_t code, const char *errmsg, json_t *data)
{
    out_t o = {0};
    const char *msg = errmsg != NULL ? errmsg : api_errmsg(code);
    out_lit(&o, "{\"errno\":");
    out_integer(&o, code);
    out_lit(&o, ",\"errmsg\":");
    out_string(&o, msg, strlen(msg));
    if (data != NULL) {
        out_lit(&o, ",\"data\":");
        out_value(&o, data);
        json_decref(data);
    }
    out_bytes(&o, "}\0", 2); /* NUL-terminated for C callers; the length leaves it out */
    o.len--;
    http_answer_t answer = {.status = api_http_status(code)};
    if (o.failed) {
        free(o.base);
        return answer; /* text NULL: sent as a 502 */
    }
    answer.text = o.base;
    answer.len = o.len;
    return answer;
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
