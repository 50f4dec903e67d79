/*
 * emu_server — the pieces of wxemu that share the HTTP side: the server object, the two route
 * tables (WeChat API and control API) and the helpers routes use.
 *
 * Contract:
 * - One emu_server_t per process, owned by main.c, used by the single event-loop thread only
 *   (no locks: nothing here is touched by another thread).
 * - Adding an endpoint is adding a row to emu_wx_routes[] (emu_wx.c) or emu_ctl_routes[] (emu_ctl.c)
 *   and one function. The dispatcher (emu_http.c) does routing, counting, faults, latency and the
 *   wire format; route functions only compute a JSON answer.
 * - JSON objects returned by route functions are owned by the caller (the dispatcher decrefs them).
 * - Route functions never put secrets they were given (app secrets) into answers; session_keys
 *   appear only in the jscode2session answer and access_tokens only in the token APIs' answers, as
 *   at WeChat.
 * - With --tls-cert/--tls-key the listener speaks HTTPS (emu_tls.c); nothing after the handshake
 *   knows the difference.
 */
#ifndef WXEMU_EMU_SERVER_H
#define WXEMU_EMU_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>
#include <jansson.h>

#include "common/clock.h"
#include "emu_state.h"

#define EMU_MAX_TIMEOUTS         64    /* distinct delays (latency + fault delay) */
#define EMU_MAX_DELAY_MS         60000 /* bound on --latency-ms and a fault's delay_ms */
#define EMU_MAX_ENTITY           (64 * 1024)
#define EMU_SHUTDOWN_DEADLINE_MS 2000

typedef struct emu_server {
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    h2o_socket_t *signal_sock; /* read end of the self-pipe the signal handler writes to */
    emu_state_t *state;
    uint32_t latency_ms;
    struct {
        uint64_t ms;
        h2o_timeout_t *timeout;
    } timeouts[EMU_MAX_TIMEOUTS];
    size_t ntimeouts;
    h2o_linklist_t pending;    /* delayed answers not sent yet (emu_http.c) */
    h2o_linklist_t handshakes; /* TLS handshakes in progress (emu_tls.c); empty without TLS */
    struct emu_push *push;     /* message pushes in flight and their log (emu_push.c) */
    bool stopping;
} emu_server_t;

/* The query string of a request, decoded on demand into the request's pool. */
typedef struct emu_query {
    h2o_mem_pool_t *pool;
    h2o_iovec_t text; /* after the '?', not decoded; empty when there is none */
} emu_query_t;

/* The value of the first name=value pair called name, percent-decoded ('+' is a space), NUL-terminated,
 * in q->pool. An absent parameter gives base == NULL; "name" or "name=" gives an empty value. */
emu_slice_t emu_query_get(const emu_query_t *q, const char *name);

/* A WeChat API call as the route sees it. */
typedef struct emu_wx_call {
    emu_query_t query;
    const json_t *body;       /* the request's JSON object; NULL when there is no body or body_bad */
    bool body_bad;            /* there is a body and it is not a JSON object (WeChat: 47001) */
    emu_slice_t content_type; /* the request's Content-Type header as sent (absent: base NULL) */
} emu_wx_call_t;

/* A route's binary answer (the image of a mini program code): data is malloc'd, and the dispatcher
 * frees it once copied; content_type is a static string. */
typedef struct emu_wx_blob {
    uint8_t *data;
    size_t len;
    const char *content_type;
} emu_wx_blob_t;

/* A WeChat API endpoint: returns the JSON answer (sent with HTTP 200), NULL only when out of memory.
 * A route whose success is not JSON has fn NULL and blob_fn instead: it returns the JSON error, or
 * NULL with *out filled (out->data NULL then means out of memory). json_type, when not NULL, is the
 * Content-Type of the route's JSON answers (faulted ones included), else "application/json".
 * substat, when not NULL, is a second counter of /__emu/stats, counted (faulted calls included)
 * for the calls on which substat_applies() is true. code_of, when not NULL, gives the one-time code
 * the call carries (absent slice: none), which a fault's "code" filter is compared with; a route
 * without it takes no code filter. */
typedef struct emu_wx_route {
    const char *method;
    const char *path;
    json_t *(*fn)(emu_server_t *srv, const emu_wx_call_t *call);
    const char *substat;
    bool (*substat_applies)(const emu_wx_call_t *call);
    emu_slice_t (*code_of)(const emu_wx_call_t *call);
    json_t *(*blob_fn)(emu_server_t *srv, const emu_wx_call_t *call, emu_wx_blob_t *out);
    const char *json_type;
} emu_wx_route_t;

/* A control endpoint: sets *answer (a JSON object, owned by the caller) and returns the HTTP status.
 * body is the parsed JSON object of a POST, NULL for other methods. A GET endpoint that reads its query
 * string has fn NULL and query_fn instead. */
typedef struct emu_ctl_route {
    const char *method;
    const char *path;
    int (*fn)(emu_server_t *srv, const json_t *body, json_t **answer);
    int (*query_fn)(emu_server_t *srv, const emu_query_t *query, json_t **answer);
} emu_ctl_route_t;

extern const emu_wx_route_t emu_wx_routes[];
extern const size_t emu_wx_route_count;
extern const emu_ctl_route_t emu_ctl_routes[];
extern const size_t emu_ctl_route_count;

/* WeChat's error answer {"errcode":N,"errmsg":"<WeChat's text> rid: <random>"}. */
json_t *emu_wx_error(int errcode);
/* True when path is one of the WeChat API routes (faults can only target those). */
bool emu_wx_is_route(const char *path);
/* The WeChat API route of path, NULL when there is none. */
const emu_wx_route_t *emu_wx_route_find(const char *path);

/* Registers the dispatcher as the only handler of hostconf. */
void emu_http_register(emu_server_t *srv, h2o_hostconf_t *hostconf);
/* A timeout of ms milliseconds on the server's loop, created on first use; NULL when EMU_MAX_TIMEOUTS
 * distinct values are in use already. */
h2o_timeout_t *emu_http_timeout(emu_server_t *srv, uint64_t ms);
/* Shutdown: answers every delayed request now and closes idle connections. */
void emu_http_flush(emu_server_t *srv);
/* Number of open HTTP/1 connections. */
size_t emu_http_connection_count(emu_server_t *srv);
/* Disposes the timeouts made by emu_http_timeout (before the loop is destroyed). */
void emu_http_dispose_timeouts(emu_server_t *srv);

/* HTTPS (emu_tls.c). srv->accept_ctx.ssl_ctx is NULL for plain HTTP, else the context below, which
 * main.c owns and frees (SSL_CTX_free) after the context is disposed. */
/* A TLS server context (TLS 1.2+, ALPN http/1.1) with the PEM certificate chain and key of these
 * files; NULL with a message in err (file names and OpenSSL's reason, never key material). An
 * encrypted key is refused (no passphrase prompt). */
SSL_CTX *emu_tls_context_new(const char *cert_file, const char *key_file, char *err, size_t err_size);
/* Takes an accepted socket: TLS handshake (bounded by the context's handshake timeout), then HTTP/1.1. */
void emu_tls_accept(emu_server_t *srv, h2o_socket_t *sock);
/* Shutdown: closes the connections still handshaking (before h2o_context_dispose). */
void emu_tls_abort_handshakes(emu_server_t *srv);

#endif
