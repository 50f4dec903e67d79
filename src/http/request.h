/*
 * http/request — reading what a request carries: its JSON body, headers, client address.
 * Everything here runs on the loop thread and allocates, if at all, from req->pool.
 */
#ifndef MEETOA_HTTP_REQUEST_H
#define MEETOA_HTTP_REQUEST_H

#include <h2o.h>
#include <jansson.h>

#include "api/errno.h"
#include "guard/ip_addr.h"

/* The body as a JSON object: fields_parse_body (http/fields.h) of req->entity, same errnos. */
json_t *http_read_json(h2o_req_t *req, api_errno_t *code);
/* The query string as an object of name -> string (percent-decoded, '+' a space; the first of
 * repeated names wins); NULL with *code 402 for bad escapes or text that is not UTF-8. */
json_t *http_read_query(h2o_req_t *req, api_errno_t *code);
/* The value of the first header named name (case-insensitive); {NULL,0} when absent. */
h2o_iovec_t http_header(h2o_req_t *req, const char *name, size_t name_len);
/*
 * The client's address. It is the peer's (the TCP connection's), unless the peer is one of
 * trusted (server.trusted-proxies; NULL or empty = none): then X-Forwarded-For is believed,
 * walked from the right (every such header in order, each a comma list) past the addresses
 * that are themselves trusted proxies, and the first untrusted address is the client. When
 * the walk runs out (no header, or only trusted addresses) or meets an entry that is not a
 * plain address (empty, "unknown", with a port, garbage), the client is the last address
 * walked: the trusted hop nearest to the client, which is the peer when there is no header.
 * A client cannot choose its address by sending the header: what it sends is only read
 * behind a trusted proxy, and only left of what the proxies appended.
 * False (out->family 0) when the peer's address is unknown.
 */
bool http_client_addr(h2o_req_t *req, const ip_ranges_t *trusted, ip_addr_t *out);
/* The choice of http_client_addr, given the peer's address and the n X-Forwarded-For values
 * in header order (http_client_addr collects them; unit tests call it directly). */
void http_client_ip_pick(const ip_addr_t *peer, const ip_ranges_t *trusted, const h2o_iovec_t *xff, size_t n,
                         ip_addr_t *out);

#endif
