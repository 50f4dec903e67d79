/*
 * http/server — h2o loops on threads, listeners, routing, graceful stop, and the guard
 * that keeps a late answer away from a request h2o has already disposed of.
 *
 * One h2o_globalconf_t is shared read-only by every loop. Each loop thread owns an
 * http_loop_t: its h2o context (whose multithread queue also carries our loop_msgs), its
 * listener on the shared port (SO_REUSEPORT) and a count of requests waiting on
 * off-loop work, which the graceful stop waits for.
 */
#include "http/server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "http/reply.h"
#include "runtime/loop_msg.h"

typedef struct http_loop {
    h2o_context_t ctx; /* first: http_loop_of() relies on it */
    h2o_accept_ctx_t accept_ctx;
    h2o_multithread_receiver_t receiver;
    h2o_socket_t *listener;
    int listen_fd;
    int index;
    pthread_t tid;
    long pending; /* requests waiting on off-loop work; loop thread only */
    http_server_t *server;
} http_loop_t;

typedef struct route_handler {
    h2o_handler_t super;
    http_server_t *server;
} route_handler_t;

struct http_server {
    http_server_config_t config;
    h2o_globalconf_t globalconf;
    http_loop_t *loops;
    int nloops;
    int port;
    atomic_int stopping;
    int grace_ms;
};

static http_server_t *volatile stopped_server; /* see http_server_stop */

struct http_pending_guard {
    http_pending_t *pending; /* NULL once taken */
    http_loop_t *loop;
};

static http_loop_t *http_loop_of(h2o_req_t *req)
{
    return (http_loop_t *)req->conn->ctx;
}

h2o_multithread_receiver_t *http_receiver(h2o_req_t *req)
{
    return &http_loop_of(req)->receiver;
}

h2o_loop_t *http_loop(h2o_req_t *req)
{
    return req->conn->ctx->loop;
}

/* ---- pending requests ---- */

static void on_guard_dispose(void *p)
{
    struct http_pending_guard *guard = p;
    if (guard->pending != NULL) {
        /* The request is going away before its work came back. */
        guard->pending->req = NULL;
        guard->pending->guard = NULL;
        guard->loop->pending--;
    }
}

void http_pending_attach(http_pending_t *pending, h2o_req_t *req)
{
    struct http_pending_guard *guard = h2o_mem_alloc_shared(&req->pool, sizeof(*guard), on_guard_dispose);
    guard->pending = pending;
    guard->loop = http_loop_of(req);
    pending->req = req;
    pending->guard = guard;
    http_loop_of(req)->pending++;
}

h2o_req_t *http_pending_take(http_pending_t *pending)
{
    h2o_req_t *req = pending->req;
    if (pending->guard != NULL) {
        pending->guard->pending = NULL;
        pending->guard->loop->pending--;
    }
    pending->guard = NULL;
    pending->req = NULL;
    return req;
}

/* ---- routing ---- */

static bool method_is(h2o_req_t *req, const char *method)
{
    return h2o_memis(req->method.base, req->method.len, method, strlen(method));
}

static bool route_matches(const char *route_path, h2o_iovec_t path)
{
    size_t len = strlen(route_path);
    if (len > 0 && route_path[len - 1] == '/') /* a prefix route: something must follow */
        return path.len > len && memcmp(path.base, route_path, len) == 0;
    return h2o_memis(path.base, path.len, route_path, len);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_server_t *server = ((route_handler_t *)self)->server;
    const http_server_config_t *config = &server->config;
    h2o_iovec_t path = req->path_normalized;
    char allow[64] = "";
    bool path_known = false;

    for (size_t i = 0; i < config->nroutes; i++) {
        const http_route_t *route = &config->routes[i];
        if (!route_matches(route->path, path))
            continue;
        path_known = true;
        if (method_is(req, route->method)) {
            size_t limit = route->max_body_bytes != 0 ? route->max_body_bytes : config->max_body_bytes;
            if (req->entity.base != NULL && req->entity.len > limit) {
                http_reply_error(req, API_BODY_TOO_LARGE);
                return 0;
            }
            return route->handler(req, config->app);
        }
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "", route->method);
    }
    if (!path_known) {
        http_reply_error(req, API_NOT_FOUND);
        return 0;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, h2o_strdup(&req->pool, allow, SIZE_MAX).base,
                   strlen(allow));
    http_reply_error(req, API_METHOD_NOT_ALLOWED);
    return 0;
}

/* ---- listeners and loops ---- */

static int open_listener(const char *host, int port, char *err, size_t err_size, int *bound_port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, err_size, "server.host: cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(err, err_size, "server.port: cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sslen);
    *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    http_loop_t *loop = listener->data;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock != NULL)
        h2o_accept(&loop->accept_ctx, sock);
}

static void *loop_main(void *p)
{
    http_loop_t *loop = p;
    char name[16];
    snprintf(name, sizeof(name), "loop-%d", loop->index);
    log_set_thread_name(name);

    h2o_context_init(&loop->ctx, h2o_evloop_create(), &loop->server->globalconf);
    loop->accept_ctx.ctx = &loop->ctx;
    loop->accept_ctx.hosts = loop->server->globalconf.hosts;
    loop_msg_register(loop->ctx.queue, &loop->receiver);
    loop->listener = h2o_evloop_socket_create(loop->ctx.loop, loop->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    loop->listener->data = loop;
    h2o_socket_read_start(loop->listener, on_accept);

    uint64_t deadline = 0;
    for (;;) {
        h2o_evloop_run(loop->ctx.loop, 50);
        if (!atomic_load(&loop->server->stopping))
            continue;
        if (loop->listener != NULL) {
            h2o_socket_read_stop(loop->listener);
            h2o_socket_close(loop->listener);
            loop->listener = NULL;
            deadline = h2o_now(loop->ctx.loop) + (uint64_t)loop->server->grace_ms;
        }
        if (loop->pending <= 0 || h2o_now(loop->ctx.loop) >= deadline)
            break;
    }
    h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->receiver);
    return NULL;
}

http_server_t *http_server_start(const http_server_config_t *config, char *err, size_t err_size)
{
    http_server_t *server = calloc(1, sizeof(*server));
    server->config = *config;
    server->nloops = config->threads;
    server->loops = calloc((size_t)server->nloops, sizeof(*server->loops));

    h2o_config_init(&server->globalconf);
    server->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("meetoa"));
    /* Bodies up to 4x the limit are read and answered 413 in our envelope; h2o itself
     * refuses anything larger before reading it. */
    size_t largest = config->max_body_bytes;
    for (size_t i = 0; i < config->nroutes; i++)
        if (config->routes[i].max_body_bytes > largest)
            largest = config->routes[i].max_body_bytes;
    server->globalconf.max_request_entity_size = largest * 4;
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&server->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    route_handler_t *handler = (route_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->server = server;

    int port = config->port;
    for (int i = 0; i < server->nloops; i++) {
        http_loop_t *loop = &server->loops[i];
        loop->index = i;
        loop->server = server;
        loop->listen_fd = open_listener(config->host, port, err, err_size, &port);
        if (loop->listen_fd < 0) {
            for (int j = 0; j < i; j++)
                close(server->loops[j].listen_fd);
            h2o_config_dispose(&server->globalconf);
            free(server->loops);
            free(server);
            return NULL;
        }
    }
    server->port = port;
    for (int i = 0; i < server->nloops; i++)
        pthread_create(&server->loops[i].tid, NULL, loop_main, &server->loops[i]);
    log_info("listening on http://%s%s%s:%d with %d threads", strchr(config->host, ':') ? "[" : "", config->host,
             strchr(config->host, ':') ? "]" : "", port, server->nloops);
    return server;
}

int http_server_port(const http_server_t *server)
{
    return server->port;
}

void http_server_stop(http_server_t *server, int grace_ms)
{
    server->grace_ms = grace_ms;
    atomic_store(&server->stopping, 1);
    for (int i = 0; i < server->nloops; i++)
        pthread_join(server->loops[i].tid, NULL);
    /* h2o 2.2 cannot tear down a context that still has (idle keep-alive) connections; the
     * process is about to exit, so the contexts and their loops are left to it, kept
     * reachable here so that leak checkers do not report them. */
    stopped_server = server;
}
