/* http/request — see request.h. */
#include "http/request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/text.h"

/* True when no object or array in the text nests deeper than HTTP_JSON_MAX_DEPTH. Brackets
 * inside strings do not count; the text need not be valid JSON (jansson judges that). */
static bool json_depth_ok(const char *s, size_t len)
{
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character, never a closing quote */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > HTTP_JSON_MAX_DEPTH)
                return false;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return true;
}

json_t *http_read_json(h2o_req_t *req, api_errno_t *code)
{
    const char *body = req->entity.base;
    size_t len = body != NULL ? req->entity.len : 0;
    if (len == 0) {
        *code = API_BAD_ARGUMENT;
        return NULL;
    }
    /* Bytes that are not UTF-8 are a bad value, not bad syntax: check them first. */
    if (!text_utf8_valid(body, len)) {
        *code = API_BAD_ARGUMENT_VALUE;
        return NULL;
    }
    /* Too deep is malformed, as jansson's own (far deeper) limit would say: checked first,
     * because jansson's parser spends a stack frame per level. */
    if (!json_depth_ok(body, len)) {
        *code = API_BAD_ARGUMENT;
        return NULL;
    }
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        /* jansson refuses \u0000 and lone surrogate escapes as invalid Unicode. */
        *code = strstr(error.text, "nicode") != NULL || strstr(error.text, "NUL") != NULL ||
                        json_error_code(&error) == json_error_invalid_utf8 ||
                        json_error_code(&error) == json_error_null_character
                    ? API_BAD_ARGUMENT_VALUE
                    : API_BAD_ARGUMENT;
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *code = API_BAD_ARGUMENT;
        return NULL;
    }
    return root;
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
    *out = peer;
    if (!ip_ranges_contains(trusted, &peer))
        return true;
    for (size_t i = req->headers.size; i-- > 0;) { /* the last header first, as http_client_ip_pick */
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name == &H2O_TOKEN_X_FORWARDED_FOR->buf && !ip_forwarded_walk(trusted, h->value.base, h->value.len, out))
            break;
    }
    return true;
}

void http_client_ip(h2o_req_t *req, const ip_ranges_t *trusted, char out[HTTP_IP_SIZE])
{
    ip_addr_t addr;
    out[0] = '\0';
    if (http_client_addr(req, trusted, &addr))
        ip_addr_text(&addr, out);
}
