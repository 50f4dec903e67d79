/*
 * emu_http — wxemu's one h2o handler: routing, call counting, fault injection, latency, and the
 * wire format of every answer.
 *
 * A request is matched on its normalized path against the WeChat routes (emu_wx.c) and then the
 * control routes (emu_ctl.c). A WeChat call is read (query, body, the code it carries), checked
 * against the fault queue (a fault may target one code only) and counted, then
 * answered: the answer is computed at once (so a code is consumed when the call arrives, as at
 * WeChat) and sent either immediately or after latency + fault delay. Delays use h2o timeouts on the
 * loop (one h2o_timeout_t per distinct duration, created on first use), so any number of requests can
 * wait at the same time without blocking the others.
 *
 * A delayed answer lives in the request's pool (h2o_mem_alloc_shared), so it disappears with the
 * request; its dispose callback unlinks it from the timer and the pending list.
 *
 * A route's answer is JSON, or (a route with blob_fn: getwxacodeunlimit's image) binary bytes that are
 * copied into the request's pool like the JSON text, with the route's content type.
 *
 * "drop" faults shut the connection's socket down (shutdown(2)) and then finish the request; the
 * write fails and h2o closes the connection, so the client sees the connection end without a reply.
 */
#include "emu_server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <h2o/http1.h>

#include "common/log.h"
#include "common/text.h"

typedef struct emu_handler {
    h2o_handler_t super;
    emu_server_t *srv;
} emu_handler_t;

/* What goes on the wire. body lives in the request's pool. */
typedef struct emu_answer {
    int status;
    const char *content_type;
    h2o_iovec_t body;
    bool drop;
} emu_answer_t;

typedef struct emu_pending {
    h2o_timeout_entry_t timer;
    h2o_linklist_t link; /* in srv->pending */
    h2o_req_t *req;
    emu_answer_t answer;
} emu_pending_t;

/* Query strings ---------------------------------------------------------------------------------- */

/* Percent-decodes s[0..len) into out (which holds len + 1); invalid escapes are kept as they are. */
static size_t url_decode(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; ++i) {
        int hi, lo;
        if (s[i] == '+') {
            out[n++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && (hi = text_hex_value(s[i + 1])) >= 0 &&
                   (lo = text_hex_value(s[i + 2])) >= 0) {
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return n;
}

emu_slice_t emu_query_get(const emu_query_t *q, const char *name)
{
    size_t name_len = strlen(name);
    const char *p = q->text.base, *end = q->text.base + q->text.len;

    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *key_end = eq != NULL ? eq : pair_end;
        if ((size_t)(key_end - p) == name_len && memcmp(p, name, name_len) == 0) {
            const char *value = eq != NULL ? eq + 1 : pair_end;
            size_t value_len = (size_t)(pair_end - value);
            char *out = h2o_mem_alloc_pool(q->pool, value_len + 1);
            return (emu_slice_t){out, url_decode(value, value_len, out)};
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    return (emu_slice_t){NULL, 0};
}

/* Timeouts --------------------------------------------------------------------------------------- */

h2o_timeout_t *emu_http_timeout(emu_server_t *srv, uint64_t ms)
{
    for (size_t i = 0; i < srv->ntimeouts; ++i)
        if (srv->timeouts[i].ms == ms)
            return srv->timeouts[i].timeout;
    if (srv->ntimeouts == EMU_MAX_TIMEOUTS)
        return NULL;
    h2o_timeout_t *timeout = h2o_mem_alloc(sizeof(*timeout));
    h2o_timeout_init(srv->ctx.loop, timeout, ms);
    srv->timeouts[srv->ntimeouts].ms = ms;
    srv->timeouts[srv->ntimeouts].timeout = timeout;
    ++srv->ntimeouts;
    return timeout;
}

void emu_http_dispose_timeouts(emu_server_t *srv)
{
    for (size_t i = 0; i < srv->ntimeouts; ++i) {
        h2o_timeout_dispose(srv->ctx.loop, srv->timeouts[i].timeout);
        free(srv->timeouts[i].timeout);
    }
    srv->ntimeouts = 0;
}

/* Sending ------------------------------------------------------------------------------------------ */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Emulated";
    }
}

static void send_answer(h2o_req_t *req, const emu_answer_t *a)
{
    if (a->drop) {
        h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
        if (sock != NULL)
            shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
        req->http1_is_persistent = 0;
    }
    req->res.status = a->status;
    req->res.reason = reason_phrase(a->status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, a->content_type,
                   strlen(a->content_type));
    req->res.content_length = a->body.len;
    h2o_send_inline(req, a->body.base, a->body.len);
}

/* Serializes obj (and releases it) into the request's pool. A NULL obj becomes a 500. */
static void answer_json(h2o_req_t *req, emu_answer_t *a, int status, json_t *obj)
{
    char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    a->content_type = "application/json";
    if (text == NULL) {
        a->status = 500;
        a->body = h2o_strdup(&req->pool, H2O_STRLIT("{\"error\":\"out of memory\"}"));
        return;
    }
    a->status = status;
    a->body = h2o_strdup(&req->pool, text, SIZE_MAX);
    free(text);
}

static void pending_dispose(void *p)
{
    emu_pending_t *pending = p;
    if (h2o_timeout_is_linked(&pending->timer))
        h2o_timeout_unlink(&pending->timer);
    if (h2o_linklist_is_linked(&pending->link))
        h2o_linklist_unlink(&pending->link);
}

static void pending_fire(emu_pending_t *pending)
{
    if (h2o_timeout_is_linked(&pending->timer))
        h2o_timeout_unlink(&pending->timer);
    if (h2o_linklist_is_linked(&pending->link))
        h2o_linklist_unlink(&pending->link);
    send_answer(pending->req, &pending->answer);
}

static void on_pending_timeout(h2o_timeout_entry_t *entry)
{
    pending_fire(H2O_STRUCT_FROM_MEMBER(emu_pending_t, timer, entry));
}

/* Sends a now or after delay_ms (the timeout was reserved when the delay was configured; if it cannot
 * be had, the answer goes out at once rather than never). */
static void send_later(emu_server_t *srv, h2o_req_t *req, const emu_answer_t *a, uint64_t delay_ms)
{
    h2o_timeout_t *timeout = delay_ms > 0 ? emu_http_timeout(srv, delay_ms) : NULL;
    if (timeout == NULL) {
        if (delay_ms > 0)
            log_warn("wxemu: no timer slot for a %llu ms delay; answering now", (unsigned long long)delay_ms);
        send_answer(req, a);
        return;
    }
    emu_pending_t *pending = h2o_mem_alloc_shared(&req->pool, sizeof(*pending), pending_dispose);
    memset(pending, 0, sizeof(*pending));
    pending->req = req;
    pending->answer = *a;
    pending->timer.cb = on_pending_timeout;
    h2o_linklist_insert(&srv->pending, &pending->link);
    h2o_timeout_link(srv->ctx.loop, timeout, &pending->timer);
}

/* WeChat API calls ------------------------------------------------------------------------------- */

static const char MALFORMED_BODY[] = "{\"errcode\":0,\"errmsg\":\"ok\",\"session_key\":\"";
static const char HTTP_FAULT_BODY[] = "<html><body>wxemu: injected upstream failure</body></html>\n";

/* Parses a request body as JSON; *ok is false when there is a body and it is not a JSON object. */
static json_t *parse_body(h2o_req_t *req, bool *ok)
{
    *ok = true;
    if (req->entity.base == NULL || req->entity.len == 0)
        return NULL;
    json_t *body = json_loadb(req->entity.base, req->entity.len, 0, NULL);
    if (body == NULL || !json_is_object(body)) {
        json_decref(body);
        *ok = false;
        return NULL;
    }
    return body;
}

/* The call's query and body; *body (to release) is the parsed body. */
static void read_wx_call(h2o_req_t *req, emu_wx_call_t *call, json_t **body)
{
    bool body_ok;
    *body = parse_body(req, &body_ok);
    call->query = (emu_query_t){&req->pool, h2o_iovec_init(NULL, 0)};
    if (req->query_at != SIZE_MAX)
        call->query.text = h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
    call->body = *body;
    call->body_bad = !body_ok;
    call->content_type = (emu_slice_t){NULL, 0};
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ct != -1)
        call->content_type = (emu_slice_t){req->headers.entries[ct].value.base, req->headers.entries[ct].value.len};
}

/* The route's answer to call into a: JSON (fn, or blob_fn's error) or blob_fn's binary body. */
static void answer_route(emu_server_t *srv, const emu_wx_route_t *route, const emu_wx_call_t *call, h2o_req_t *req,
                         emu_answer_t *a)
{
    const char *json_type = route->json_type != NULL ? route->json_type : "application/json";
    if (route->fn != NULL) {
        answer_json(req, a, 200, route->fn(srv, call));
        a->content_type = json_type;
        return;
    }
    emu_wx_blob_t blob = {NULL, 0, NULL};
    json_t *error = route->blob_fn(srv, call, &blob);
    if (error != NULL || blob.data == NULL) {
        answer_json(req, a, 200, error); /* NULL: out of memory, a 500 */
        if (a->status == 200)
            a->content_type = json_type;
        free(blob.data);
        return;
    }
    char *body = h2o_mem_alloc_pool(&req->pool, blob.len);
    memcpy(body, blob.data, blob.len);
    free(blob.data);
    a->status = 200;
    a->content_type = blob.content_type;
    a->body = h2o_iovec_init(body, blob.len);
}

static void handle_wx(emu_server_t *srv, const emu_wx_route_t *route, h2o_req_t *req)
{
    emu_slice_t path = {req->path_normalized.base, req->path_normalized.len};
    emu_fault_t fault;
    emu_answer_t a = {200, "application/json", {NULL, 0}, false};
    emu_wx_call_t call;
    json_t *body;

    read_wx_call(req, &call, &body);
    emu_slice_t code = route->code_of != NULL ? route->code_of(&call) : (emu_slice_t){NULL, 0};
    bool faulted = emu_state_take_fault_for(srv->state, path, code, &fault);
    emu_state_count_call(srv->state, path);
    if (route->substat != NULL && route->substat_applies(&call))
        emu_state_count_call(srv->state, emu_slice_cstr(route->substat));
    if (!faulted) {
        answer_route(srv, route, &call, req, &a);
        json_decref(body);
        send_later(srv, req, &a, srv->latency_ms);
        return;
    }
    log_info("wxemu: fault on %s (%u more)", route->path, (unsigned)fault.count);
    if (fault.drop) {
        a.drop = true;
    } else if (fault.http_status != 0) {
        a.status = fault.http_status;
        a.content_type = "text/html";
        a.body = h2o_iovec_init(HTTP_FAULT_BODY, sizeof(HTTP_FAULT_BODY) - 1);
    } else if (fault.malformed) {
        a.body = h2o_iovec_init(MALFORMED_BODY, sizeof(MALFORMED_BODY) - 1);
    } else if (fault.errcode != 0) {
        answer_json(req, &a, 200, emu_wx_error(fault.errcode));
        if (route->json_type != NULL)
            a.content_type = route->json_type;
    } else {
        answer_route(srv, route, &call, req, &a);
    }
    json_decref(body);
    send_later(srv, req, &a, (uint64_t)srv->latency_ms + fault.delay_ms);
}

/* Control calls ----------------------------------------------------------------------------------- */

static json_t *error_object(const char *message)
{
    return json_pack("{s:s}", "error", message);
}

static void handle_ctl(emu_server_t *srv, const emu_ctl_route_t *route, h2o_req_t *req)
{
    emu_answer_t a = {200, "application/json", {NULL, 0}, false};
    json_t *body = NULL, *answer = NULL;
    int status;

    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        body = json_loadb(req->entity.base != NULL ? req->entity.base : "", req->entity.len, 0, NULL);
        if (body == NULL || !json_is_object(body)) {
            json_decref(body);
            answer_json(req, &a, 400, error_object("the body must be a JSON object"));
            send_answer(req, &a);
            return;
        }
    }
    if (route->fn != NULL) {
        status = route->fn(srv, body, &answer);
    } else {
        emu_query_t query = {&req->pool, h2o_iovec_init(NULL, 0)};
        if (req->query_at != SIZE_MAX)
            query.text = h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
        status = route->query_fn(srv, &query, &answer);
    }
    json_decref(body);
    answer_json(req, &a, status, answer);
    send_answer(req, &a);
}

/* Routing ----------------------------------------------------------------------------------------- */

static bool method_is(h2o_req_t *req, const char *method)
{
    return h2o_memis(req->method.base, req->method.len, method, strlen(method));
}

static bool path_is(h2o_req_t *req, const char *path)
{
    return h2o_memis(req->path_normalized.base, req->path_normalized.len, path, strlen(path));
}

/* Returns 1 when answered, 0 when the path matched but not the method, -1 when the path is unknown. */
static int route_wx(emu_server_t *srv, h2o_req_t *req)
{
    int found = -1;
    for (size_t i = 0; i < emu_wx_route_count; ++i) {
        if (!path_is(req, emu_wx_routes[i].path))
            continue;
        found = 0;
        if (method_is(req, emu_wx_routes[i].method)) {
            handle_wx(srv, &emu_wx_routes[i], req);
            return 1;
        }
    }
    return found;
}

static int route_ctl(emu_server_t *srv, h2o_req_t *req)
{
    int found = -1;
    for (size_t i = 0; i < emu_ctl_route_count; ++i) {
        if (!path_is(req, emu_ctl_routes[i].path))
            continue;
        found = 0;
        if (method_is(req, emu_ctl_routes[i].method)) {
            handle_ctl(srv, &emu_ctl_routes[i], req);
            return 1;
        }
    }
    return found;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    emu_server_t *srv = ((emu_handler_t *)self)->srv;
    emu_answer_t a = {404, "application/json", {NULL, 0}, false};

    /* the path only: query strings carry app secrets */
    log_debug("wxemu: %.*s %.*s", (int)req->method.len, req->method.base, (int)req->path_normalized.len,
              req->path_normalized.base);
    int wx = route_wx(srv, req);
    if (wx == 1)
        return 0;
    int ctl = route_ctl(srv, req);
    if (ctl == 1)
        return 0;
    if (wx == 0 || ctl == 0)
        answer_json(req, &a, 405, error_object("method not allowed"));
    else
        answer_json(req, &a, 404, error_object("no such endpoint"));
    send_answer(req, &a);
    return 0;
}

void emu_http_register(emu_server_t *srv, h2o_hostconf_t *hostconf)
{
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    emu_handler_t *handler = (emu_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->srv = srv;
}

/* Shutdown ---------------------------------------------------------------------------------------- */

static int close_if_idle(h2o_req_t *req, void *cbdata)
{
    if (req->_generator == NULL) {
        h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
        if (sock != NULL)
            shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
    }
    return 0;
}

static int count_request(h2o_req_t *req, void *cbdata)
{
    ++*(size_t *)cbdata;
    return 0;
}

void emu_http_flush(emu_server_t *srv)
{
    srv->ctx.shutdown_requested = 1;
    while (!h2o_linklist_is_empty(&srv->pending)) {
        emu_pending_t *pending = H2O_STRUCT_FROM_MEMBER(emu_pending_t, link, srv->pending.next);
        pending->req->http1_is_persistent = 0;
        pending_fire(pending);
    }
    H2O_HTTP1_CALLBACKS.foreach_request(&srv->ctx, close_if_idle, NULL);
}

size_t emu_http_connection_count(emu_server_t *srv)
{
    size_t n = 0;
    H2O_HTTP1_CALLBACKS.foreach_request(&srv->ctx, count_request, &n);
    return n;
}
