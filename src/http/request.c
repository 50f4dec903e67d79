/* http/request — see request.h. */
#include "http/request.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/text.h"
#include "http/fields.h"

json_t *http_read_json(h2o_req_t *req, api_errno_t *code)
{
    return fields_parse_body(req->entity.base, req->entity.base != NULL ? req->entity.len : 0, code);
}

h2o_iovec_t http_header(h2o_req_t *req, const char *name, size_t name_len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, name_len, -1);
    if (i < 0)
        return h2o_iovec_init(NULL, 0);
    return req->headers.entries[i].value;
}

void http_client_ip_pick(const ip_addr_t *peer, const ip_ranges_t *trusted, const h2o_iovec_t *xff, size_t n,
                         ip_addr_t *out)
{
    *out = *peer;
    if (peer->family == 0 || !ip_ranges_contains(trusted, peer))
        return;
    for (size_t i = n; i-- > 0;)
        if (!ip_forwarded_walk(trusted, xff[i].base, xff[i].len, out))
            return;
}

bool http_client_addr(h2o_req_t *req, const ip_ranges_t *trusted, ip_addr_t *out)
{
    struct sockaddr_storage ss;
    ip_addr_t peer;
    memset(out, 0, sizeof(*out));
    if (req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) == 0 ||
        !ip_addr_from_sockaddr((struct sockaddr *)&ss, &peer))
        return false;
    if (!ip_ranges_contains(trusted, &peer)) { /* the common case: no header is read */
        *out = peer;
        return true;
    }
    h2o_iovec_t *xff = h2o_mem_alloc_pool(&req->pool, sizeof(*xff) * (req->headers.size + 1));
    size_t n = 0;
    for (size_t i = 0; i < req->headers.size; i++)
        if (req->headers.entries[i].name == &H2O_TOKEN_X_FORWARDED_FOR->buf)
            xff[n++] = req->headers.entries[i].value;
    http_client_ip_pick(&peer, trusted, xff, n, out);
    return true;
}

json_t *http_read_query(h2o_req_t *req, api_errno_t *code)
{
    json_t *obj = json_object();
    if (obj == NULL) {
        *code = API_SERIOUS;
        return NULL;
    }
    if (req->query_at == SIZE_MAX || req->query_at + 1 >= req->path.len)
        return obj;
    const char *q = req->path.base + req->query_at + 1;
    size_t len = req->path.len - req->query_at - 1;
    size_t start = 0;
    while (start <= len) {
        size_t end = start;
        while (end < len && q[end] != '&')
            end++;
        if (end > start) {
            const char *eq = memchr(q + start, '=', end - start);
            size_t name_len = eq != NULL ? (size_t)(eq - (q + start)) : end - start;
            size_t nlen = 0, vlen = 0;
            char *name = text_percent_decode(q + start, name_len, true, &nlen);
            char *value =
                eq != NULL ? text_percent_decode(eq + 1, (size_t)(q + end - eq - 1), true, &vlen) : strdup("");
            bool ok = name != NULL && value != NULL && text_utf8_valid(name, nlen) && text_utf8_valid(value, vlen);
            if (ok && json_object_get(obj, name) == NULL)
                ok = json_object_set_new(obj, name, json_stringn(value, vlen)) == 0;
            free(name);
            free(value);
            if (!ok) {
                json_decref(obj);
                *code = API_BAD_ARGUMENT_VALUE;
                return NULL;
            }
        }
        start = end + 1;
    }
    return obj;
}
