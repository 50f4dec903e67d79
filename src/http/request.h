/*
 * http/request — reading what a request carries: its JSON body, headers, client address.
 * Everything here runs on the loop thread and allocates, if at all, from req->pool.
 */
#ifndef MEETOA_HTTP_REQUEST_H
#define MEETOA_HTTP_REQUEST_H

#include <h2o.h>
#include <jansson.h>

#include "api/errno.h"

/*
 * Parses the body as a JSON object. On failure returns NULL and sets *code:
 * API_BAD_ARGUMENT for an empty body, bad syntax or a non-object; API_BAD_ARGUMENT_VALUE
 * for text that is not valid UTF-8 (including a \u0000 or lone surrogate escape).
 * The caller owns the returned reference.
 */
json_t *http_read_json(h2o_req_t *req, api_errno_t *code);
/* The value of the first header named name (case-insensitive); {NULL,0} when absent. */
h2o_iovec_t http_header(h2o_req_t *req, const char *name, size_t name_len);
/* The peer's address as text ("127.0.0.1", "::1"); "" when unknown. */
#define HTTP_IP_SIZE 64
void http_client_ip(h2o_req_t *req, char out[HTTP_IP_SIZE]);

#endif
