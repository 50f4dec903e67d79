/* http/request — see request.h. */
#include "http/request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/text.h"

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

void http_client_ip(h2o_req_t *req, char out[HTTP_IP_SIZE])
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    out[0] = '\0';
    if (len == 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, HTTP_IP_SIZE);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, HTTP_IP_SIZE);
}
