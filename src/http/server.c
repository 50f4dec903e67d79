/*
 * http/server — h2o loops on threads, listeners, routing, graceful stop, connection limits,
 * and the guard that keeps a late answer away from a request h2o has already disposed of.
 *
 * One h2o_globalconf_t is shared read-only by every loop. Each loop thread owns an
 * http_loop_t: its h2o context (whose multithread queue also carries our loop_msgs), its
 * listener on the shared port (SO_REUSEPORT), the list of its open connections and a count
 * of requests waiting on off-loop work, which the graceful stop waits for.
 *
 * Why the timeouts are ours: h2o 2.2.5 has one HTTP/1 timer per connection (req_timeout),
 * armed when the connection is ready for a request (accepted, or its previous answer sent)
 * and disarmed when the request's body is complete. It is not re-armed by reads, so it does
 * stop a slowloris, but it covers the keep-alive wait and the request together: it cannot
 * give an idle connection 30 s and a request 10 s from its first byte. So each connection
 * gets an http_conn_t (hung on the socket's on_close, which also keeps the count), and a
 * sweep on each loop reads its state from the socket: reading with an empty buffer = idle,
 * reading with bytes buffered = a request arriving, not reading = h2o is answering; an
 * answer written (sock->bytes_written grew) starts a new phase even when the sweep missed
 * the request in between. A phase that lasts longer than its timeout (idle: the idle
 * timeout; arriving: the request timeout; answering: none) gets shutdown(2) on the socket:
 * h2o then reads EOF and closes the connection itself (closing it under h2o's feet would
 * free what it still uses). h2o's own req_timeout stays as a backstop at idle + request.
 *
 * The connection count is one atomic per process. A loop that finds it at the limit stops
 * reading its listener (h2o's own server does the same); every loop resumes as soon as the
 * count is below the limit again (checked when one of its connections closes, and after
 * every turn of its event loop, at most 50 ms apart).
 */
#include "http/server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "http/reply.h"
#include "metrics/metrics.h"
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
    h2o_linklist_t conns;     /* http_conn_t.link of this loop's open connections */
    bool accept_paused;       /* listener not read: at max_connections, or out of fds */
    uint64_t accept_retry_at; /* not before (h2o_now) when paused for lack of fds */
    uint64_t next_sweep;
    uint64_t last_full_warn; /* rate limit of the "max-connections reached" warning */
} http_loop_t;

/* Where a connection is, as its socket shows it (see conn_phase). */
typedef enum conn_phase { CONN_IDLE, CONN_RECEIVING, CONN_BUSY } conn_phase_t;

/* One accepted connection; freed by on_conn_close when h2o closes its socket. */
typedef struct http_conn {
    h2o_linklist_t link;
    h2o_socket_t *sock;
    http_loop_t *loop;
    conn_phase_t phase;
    uint64_t phase_since; /* h2o_now when the sweep saw this phase begin */
    size_t written;       /* sock->bytes_written then: a change means an answer went out */
    bool shut;            /* shutdown(2) done, waiting for h2o to close it */
} http_conn_t;

/* The request metrics (docs/metrics.md): the route label's values are the distinct route paths
 * (a prefix route's with "*" appended) and "unmatched"; the errno label's every errno of
 * api/errno.h, "none" (an answer outside the envelope: a file, an image) and "aborted" (the
 * request went away unanswered). */
typedef struct http_metrics {
    metrics_family_t *requests;    /* meetoa_http_requests_total{route, errno} */
    metrics_family_t *duration;    /* meetoa_http_request_duration_seconds{route} */
    metrics_family_t *in_flight;   /* meetoa_http_requests_in_flight */
    metrics_family_t *connections; /* meetoa_http_connections */
    size_t *route_label;           /* config.routes[i] -> its route label value */
    size_t unmatched;              /* the route label of a path no route has */
    size_t errno_label[1000];      /* errno -> its errno label value */
    size_t errno_none, errno_aborted;
} http_metrics_t;

/* A request being counted: made in on_req, counted when h2o disposes of the request. */
typedef struct req_stat {
    http_metrics_t *metrics;
    size_t route;
    size_t errno_value; /* SIZE_MAX until an envelope answer notes it */
    bool answered;      /* h2o_start_response ran */
    double start;
} req_stat_t;

/* How http_request_errno finds the req_stat_t of a request (h2o keeps its prefilters). */
typedef struct stat_prefilter {
    h2o_req_prefilter_t super;
    req_stat_t *stat;
} stat_prefilter_t;

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
    atomic_int connections; /* open accepted connections, all loops */
    int max_connections;
    uint64_t request_timeout_ms, idle_timeout_ms, sweep_ms;
    http_metrics_t metrics;
    size_t *route_len; /* strlen of config.routes[i].path */
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

/* Whether path is route_path's (len bytes: measured once at start, not per request). */
static bool route_matches(const char *route_path, size_t len, h2o_iovec_t path)
{
    if (len > 0 && route_path[len - 1] == '/') /* a prefix route: something must follow */
        return path.len > len && memcmp(path.base, route_path, len) == 0;
    return h2o_memis(path.base, path.len, route_path, len);
}

/* ---- request metrics ---- */

static void on_stat_ostream(h2o_req_prefilter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    ((stat_prefilter_t *)self)->stat->answered = true;
    h2o_setup_next_prefilter(self, req, slot);
}

static void on_stat_dispose(void *p)
{
    req_stat_t *stat = p;
    http_metrics_t *m = stat->metrics;
    size_t errno_value = stat->errno_value != SIZE_MAX ? stat->errno_value
                         : stat->answered              ? m->errno_none
                                                       : m->errno_aborted;
    metrics_inc(m->requests, metrics_series(m->requests, stat->route, errno_value));
    metrics_observe(m->duration, stat->route, metrics_now() - stat->start);
    metrics_gauge_add(m->in_flight, 0, -1);
}

/* Starts counting req (its route known later: stat_route). */
static req_stat_t *stat_begin(http_server_t *server, h2o_req_t *req)
{
    http_metrics_t *m = &server->metrics;
    if (m->requests == NULL)
        return NULL;
    req_stat_t *stat = h2o_mem_alloc_shared(&req->pool, sizeof(*stat), on_stat_dispose);
    *stat = (req_stat_t){.metrics = m, .route = m->unmatched, .errno_value = SIZE_MAX, .start = metrics_now()};
    stat_prefilter_t *prefilter = (stat_prefilter_t *)h2o_add_prefilter(req, sizeof(*prefilter));
    prefilter->super.on_setup_ostream = on_stat_ostream;
    prefilter->stat = stat;
    metrics_gauge_add(m->in_flight, 0, 1);
    return stat;
}

void http_request_errno(h2o_req_t *req, int code)
{
    for (h2o_req_prefilter_t *p = req->prefilters; p != NULL; p = p->next)
        if (p->on_setup_ostream == on_stat_ostream) {
            req_stat_t *stat = ((stat_prefilter_t *)p)->stat;
            stat->errno_value = code >= 0 && code < 1000 ? stat->metrics->errno_label[code] : SIZE_MAX;
            if (stat->errno_value == SIZE_MAX)
                stat->errno_value = stat->metrics->errno_none;
            return;
        }
}

/* Registers the request metrics with the route table's paths as the route label. */
static void metrics_register(http_server_t *server)
{
    http_metrics_t *m = &server->metrics;
    const http_server_config_t *config = &server->config;
    const char **routes = calloc(config->nroutes + 1, sizeof(*routes));
    char **owned = calloc(config->nroutes + 1, sizeof(*owned));
    const char *errnos[1002];
    char errno_text[1000][4];
    size_t nroutes = 0, nerrnos = 0;
    m->route_label = calloc(config->nroutes + 1, sizeof(*m->route_label));
    if (routes == NULL || owned == NULL || m->route_label == NULL)
        goto done;
    for (size_t i = 0; i < config->nroutes; i++) {
        const char *path = config->routes[i].path;
        size_t len = strlen(path);
        char *label = malloc(len + 2);
        if (label == NULL)
            goto done;
        snprintf(label, len + 2, "%s%s", path, len > 0 && path[len - 1] == '/' ? "*" : "");
        size_t j = 0;
        while (j < nroutes && strcmp(routes[j], label) != 0)
            j++;
        if (j == nroutes) {
            routes[nroutes] = owned[nroutes] = label;
            nroutes++;
        } else {
            free(label);
        }
        m->route_label[i] = j;
    }
    metrics_operations_publish(routes, nroutes); /* operation i + 1 = route label i */
    m->unmatched = nroutes;
    routes[nroutes++] = "unmatched";
    for (int code = 0; code < 1000; code++) {
        m->errno_label[code] = SIZE_MAX;
        if (code == API_SERIOUS || strcmp(api_errmsg((api_errno_t)code), api_errmsg(API_SERIOUS)) != 0) {
            snprintf(errno_text[code], sizeof(errno_text[code]), "%d", code);
            m->errno_label[code] = nerrnos;
            errnos[nerrnos++] = errno_text[code];
        }
    }
    m->errno_none = nerrnos;
    errnos[nerrnos++] = "none";
    m->errno_aborted = nerrnos;
    errnos[nerrnos++] = "aborted";
    metrics_label_t labels[] = {{"route", routes, nroutes}, {"errno", errnos, nerrnos}};
    m->requests = metrics_counter("meetoa_http_requests_total",
                                  "Requests answered, by route template and the errno of the answer's envelope "
                                  "(none: not an envelope; aborted: the client went away first).",
                                  labels, 2);
    m->duration = metrics_histogram("meetoa_http_request_duration_seconds",
                                    "Time from a request's routing to the end of its answer, by route template.",
                                    labels, 1, metrics_duration_buckets, metrics_duration_nbuckets);
    m->in_flight = metrics_gauge("meetoa_http_requests_in_flight", "Requests routed and not yet answered.", NULL, 0);
    m->connections = metrics_gauge("meetoa_http_connections", "Open HTTP connections.", NULL, 0);
done:
    for (size_t i = 0; owned != NULL && i < nroutes; i++)
        free(owned[i]); /* the registry copied them */
    free(owned);
    free(routes);
    if (m->requests == NULL || m->duration == NULL) {
        m->requests = NULL; /* stat_begin counts nothing */
        free(m->route_label);
        m->route_label = NULL;
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_server_t *server = ((route_handler_t *)self)->server;
    const http_server_config_t *config = &server->config;
    h2o_iovec_t path = req->path_normalized;
    char allow[64] = "";
    bool path_known = false;
    req_stat_t *stat = stat_begin(server, req);

    for (size_t i = 0; i < config->nroutes; i++) {
        const http_route_t *route = &config->routes[i];
        if (!route_matches(route->path, server->route_len[i], path))
            continue;
        if (stat != NULL && !path_known)
            stat->route = server->metrics.route_label[i];
        path_known = true;
        if (method_is(req, route->method)) {
            size_t limit = route->max_body_bytes != 0 ? route->max_body_bytes : config->max_body_bytes;
            if (req->entity.base != NULL && req->entity.len > limit) {
                http_reply_error(req, API_BODY_TOO_LARGE);
                return 0;
            }
            if (stat == NULL)
                return route->handler(req, config->app);
            metrics_operation_set(server->metrics.route_label[i] + 1);
            int rc = route->handler(req, config->app);
            metrics_operation_set(0);
            return rc;
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

/* ---- connections: count, limit, timeouts ---- */

#define ACCEPT_RETRY_MS 100   /* after accept() failed for lack of file descriptors */
#define FULL_WARN_MS    10000 /* at most one "max-connections reached" line per loop per 10 s */
#define FD_RESERVE      256   /* descriptors kept for listeners, database, WeChat, logs */

static void on_accept(h2o_socket_t *listener, const char *err);

/* Takes one of the max_connections slots; false when all are taken. */
static bool conn_slot_take(http_server_t *server)
{
    int n = atomic_load(&server->connections);
    do {
        if (n >= server->max_connections)
            return false;
    } while (!atomic_compare_exchange_weak(&server->connections, &n, n + 1));
    return true;
}

static void accept_pause(http_loop_t *loop, uint64_t retry_ms)
{
    if (!loop->accept_paused)
        h2o_socket_read_stop(loop->listener);
    loop->accept_paused = true;
    loop->accept_retry_at = h2o_now(loop->ctx.loop) + retry_ms;
}

/* Reads the listener again when it was paused and a slot is free. Loop thread. */
static void accept_resume(http_loop_t *loop)
{
    if (!loop->accept_paused || loop->listener == NULL || h2o_now(loop->ctx.loop) < loop->accept_retry_at ||
        atomic_load(&loop->server->connections) >= loop->server->max_connections)
        return;
    loop->accept_paused = false;
    h2o_socket_read_start(loop->listener, on_accept);
}

static void on_conn_close(void *data)
{
    http_conn_t *conn = data;
    http_loop_t *loop = conn->loop;
    h2o_linklist_unlink(&conn->link);
    free(conn);
    atomic_fetch_sub(&loop->server->connections, 1);
    metrics_gauge_add(loop->server->metrics.connections, 0, -1);
    accept_resume(loop);
}

static void warn_full(http_loop_t *loop)
{
    uint64_t now = h2o_now(loop->ctx.loop);
    if (loop->last_full_warn != 0 && now - loop->last_full_warn < FULL_WARN_MS)
        return;
    loop->last_full_warn = now;
    log_warn("server.max-connections (%d) reached: new connections wait until one closes",
             loop->server->max_connections);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    http_loop_t *loop = listener->data;
    http_server_t *server = loop->server;
    if (!conn_slot_take(server)) {
        warn_full(loop);
        accept_pause(loop, 0);
        return;
    }
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    http_conn_t *conn = sock != NULL ? calloc(1, sizeof(*conn)) : NULL;
    if (conn == NULL) {
        int why = errno;
        atomic_fetch_sub(&server->connections, 1);
        if (sock != NULL) {
            h2o_socket_close(sock);
        } else if (why == EMFILE || why == ENFILE || why == ENOBUFS || why == ENOMEM) {
            /* The backlog stays readable: without a pause the loop would spin on accept(). */
            log_warn("accept: %s; new connections wait %d ms", strerror(why), ACCEPT_RETRY_MS);
            accept_pause(loop, ACCEPT_RETRY_MS);
        }
        return;
    }
    conn->sock = sock;
    conn->loop = loop;
    conn->phase = CONN_IDLE;
    conn->phase_since = h2o_now(loop->ctx.loop);
    h2o_linklist_insert(&loop->conns, &conn->link);
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = conn;
    metrics_gauge_add(server->metrics.connections, 0, 1);
    h2o_accept(&loop->accept_ctx, sock);
}

/* h2o's HTTP/1 reads only while it waits for (the rest of) a request, and keeps the
 * request's bytes in sock->input until its answer is sent. */
static conn_phase_t conn_phase(h2o_socket_t *sock)
{
    if (!h2o_socket_is_reading(sock))
        return CONN_BUSY;
    return sock->input->size == 0 ? CONN_IDLE : CONN_RECEIVING;
}

/* Closes connections idle or receiving for longer than allowed. Loop thread. */
static void conns_sweep(http_loop_t *loop)
{
    http_server_t *server = loop->server;
    uint64_t now = h2o_now(loop->ctx.loop);
    for (h2o_linklist_t *node = loop->conns.next; node != &loop->conns; node = node->next) {
        http_conn_t *conn = H2O_STRUCT_FROM_MEMBER(http_conn_t, link, node);
        if (conn->shut)
            continue;
        /* An answer sent since the last sweep ends a phase even when the sweep saw the same
         * phase again (a quick request between two sweeps, or the next one arriving). */
        conn_phase_t phase = conn_phase(conn->sock);
        if (phase != conn->phase || conn->sock->bytes_written != conn->written) {
            conn->phase = phase;
            conn->phase_since = now;
            conn->written = conn->sock->bytes_written;
            continue;
        }
        uint64_t limit = phase == CONN_IDLE        ? server->idle_timeout_ms
                         : phase == CONN_RECEIVING ? server->request_timeout_ms
                                                   : 0;
        if (limit == 0 || now - conn->phase_since < limit)
            continue;
        log_debug("closing a connection %s for %llu ms", phase == CONN_IDLE ? "idle" : "sending a request",
                  (unsigned long long)(now - conn->phase_since));
        /* h2o is reading this socket: it sees the end of the stream and closes it itself. */
        shutdown(h2o_socket_get_fd(conn->sock), SHUT_RDWR);
        conn->shut = true;
    }
}

/* Raises the soft limit on open files to fit max_connections when the hard limit allows. */
static void fit_open_files(int max_connections)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)max_connections + FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (rl.rlim_cur > old && setrlimit(RLIMIT_NOFILE, &rl) != 0)
        rl.rlim_cur = old;
    if (rl.rlim_cur < need)
        log_warn("server.max-connections is %d but only %llu files may be open (ulimit -n): beyond about %llu "
                 "connections new ones wait",
                 max_connections, (unsigned long long)rl.rlim_cur,
                 (unsigned long long)(rl.rlim_cur > FD_RESERVE ? rl.rlim_cur - FD_RESERVE : 0));
}

static void *loop_main(void *p)
{
    http_loop_t *loop = p;
    char name[16];
    snprintf(name, sizeof(name), "loop-%d", loop->index);
    log_set_thread_name(name);

    h2o_linklist_init_anchor(&loop->conns);
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
        accept_resume(loop);
        if (h2o_now(loop->ctx.loop) >= loop->next_sweep) {
            conns_sweep(loop);
            loop->next_sweep = h2o_now(loop->ctx.loop) + loop->server->sweep_ms;
        }
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

/* The connection limits of config (0 = default) into server and h2o's globalconf. */
static void server_limits_init(http_server_t *server, const http_server_config_t *config)
{
    server->max_connections = config->max_connections > 0 ? config->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS;
    server->request_timeout_ms =
        (uint64_t)(config->request_timeout_ms > 0 ? config->request_timeout_ms : HTTP_DEFAULT_REQUEST_TIMEOUT_MS);
    server->idle_timeout_ms =
        (uint64_t)(config->idle_timeout_ms > 0 ? config->idle_timeout_ms : HTTP_DEFAULT_IDLE_TIMEOUT_MS);
    uint64_t shorter =
        server->request_timeout_ms < server->idle_timeout_ms ? server->request_timeout_ms : server->idle_timeout_ms;
    server->sweep_ms = shorter / 10 < 10 ? 10 : shorter / 10 > 1000 ? 1000 : shorter / 10;
    /* h2o's own timer (accept or last answer -> request complete) only as a backstop. */
    server->globalconf.http1.req_timeout = server->idle_timeout_ms + server->request_timeout_ms;
    /* HTTP/1.1 only: the phases conns_sweep reads are HTTP/1's (h2c would look idle). */
    server->globalconf.http1.upgrade_to_http2 = 0;
    fit_open_files(server->max_connections);
}

http_server_t *http_server_start(const http_server_config_t *config, char *err, size_t err_size)
{
    http_server_t *server = calloc(1, sizeof(*server));
    if (server == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    server->config = *config;
    server->nloops = config->threads;
    server->loops = calloc((size_t)server->nloops, sizeof(*server->loops));
    server->route_len = calloc(config->nroutes + 1, sizeof(*server->route_len));
    if (server->loops == NULL || server->route_len == NULL) {
        snprintf(err, err_size, "out of memory");
        free(server->loops);
        free(server->route_len);
        free(server);
        return NULL;
    }
    for (size_t i = 0; i < config->nroutes; i++)
        server->route_len[i] = strlen(config->routes[i].path);

    h2o_config_init(&server->globalconf);
    /* No Server header: it tells a caller nothing it needs, and h2o writes it with a
     * sprintf per answer (about 1,000 instructions of a cached info request's 12,000). */
    server->globalconf.server_name = h2o_iovec_init(H2O_STRLIT(""));
    /* Bodies up to 4x the limit are read and answered 413 in our envelope; h2o itself
     * refuses anything larger before reading it. */
    size_t largest = config->max_body_bytes;
    for (size_t i = 0; i < config->nroutes; i++)
        if (config->routes[i].max_body_bytes > largest)
            largest = config->routes[i].max_body_bytes;
    server->globalconf.max_request_entity_size = largest * 4;
    server_limits_init(server, config);
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&server->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    route_handler_t *handler = (route_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->server = server;
    metrics_register(server);

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
            free(server->route_len);
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
