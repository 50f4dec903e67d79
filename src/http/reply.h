/*
 * http/reply — the one place that builds MeetOA's answers:
 *   {"errno":0,"errmsg":"成功","data":...}   (data left out when NULL)
 * as application/json;charset=UTF-8, UTF-8 text (not \u-escaped), with the HTTP status
 * that api_http_status() gives the errno. Every handler answers through these.
 */
#ifndef MEETOA_HTTP_REPLY_H
#define MEETOA_HTTP_REPLY_H

#include <h2o.h>
#include <jansson.h>

#include "api/errno.h"
#include "http/json_out.h"

/* An answer rendered once, to be sent to one or several requests (a shared login). */
typedef struct http_answer {
    int status;
    char *text; /* NULL when rendering ran out of memory: sent as a 502 */
    size_t len;
    unsigned retry_after; /* > 0: sent as a Retry-After header (seconds) */
} http_answer_t;
/* Renders the envelope (data reference stolen, may be NULL; errmsg NULL = the errno's own). */
http_answer_t http_answer_make(api_errno_t code, const char *errmsg, json_t *data);
/* An errno-0 answer whose data the caller writes as JSON text (no jansson tree: a big page):
 * http_answer_open() writes the envelope up to "data": into o (empty), the caller writes one
 * JSON value with http/json_out, http_answer_close() ends the envelope and takes o's buffer
 * (o is left empty; a writer that failed gives an answer with text NULL, sent as a 502). */
void http_answer_open(json_out_t *o);
http_answer_t http_answer_close(json_out_t *o);
/* An errno-0 answer written straight into req->pool and sent without a copy (a hot path: no
 * malloc, no jansson): http_reply_ok_begin() starts o on a pool buffer that holds the envelope and
 * max_data bytes of data and writes the envelope up to "data":; the caller writes one JSON value;
 * http_reply_ok_end() ends the envelope and sends it. Data longer than max_data fails the writer:
 * answered as a 502. */
void http_reply_ok_begin(h2o_req_t *req, json_out_t *o, size_t max_data);
void http_reply_ok_end(h2o_req_t *req, json_out_t *o);
/* Errno 429 (HTTP 429) with a Retry-After of retry_after_s seconds (at least 1). */
http_answer_t http_answer_too_many(unsigned retry_after_s);
/* The errno an answer carries (502 for one that ran out of memory; -1 if it is no envelope). */
int http_answer_errno(const http_answer_t *answer);
/* Sends it (the text is copied into req->pool). */
void http_send_answer(h2o_req_t *req, const http_answer_t *answer);
void http_answer_free(http_answer_t *answer);

/* Answers errno 0 with data (reference stolen; NULL = no data). */
void http_reply_ok(h2o_req_t *req, json_t *data);
/* Answers code with its standard errmsg. */
void http_reply_error(h2o_req_t *req, api_errno_t code);
/* Answers 429 with Retry-After (see http_answer_too_many). */
void http_reply_too_many(h2o_req_t *req, unsigned retry_after_s);
/* Answers code with a specific errmsg (copied). */
void http_reply_error_msg(h2o_req_t *req, api_errno_t code, const char *errmsg);

/* The few answers that are not the envelope (an image, a CSV file): 200 with bytes[0..len)
 * (copied into req->pool), content_type, cache_control (NULL = no-store) and
 * X-Content-Type-Options: nosniff. Headers added to req->res.headers before are kept. */
void http_reply_bytes(h2o_req_t *req, const char *content_type, const char *cache_control, const void *bytes,
                      size_t len);

#endif
