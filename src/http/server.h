/*
 * http/server — MeetOA's HTTP front: h2o event loops, one per thread, and a route table.
 *
 * Each loop thread has its own h2o context, its own listening socket (SO_REUSEPORT on one
 * port, so the kernel spreads connections) and its own loop_msg receiver, through which
 * off-loop work (database, WeChat) comes back. Handlers run on the loop thread and must
 * never block: they either answer at once or start off-loop work and answer when its
 * message comes back (see http_pending_*).
 *
 * Routing is by path (no query string) then method: a route path ending in '/' matches
 * every path under it ("/wx/storage/fetch/" serves "/wx/storage/fetch/KEY"), the others
 * match exactly. An unknown path is answered 404, a known path with another method 405
 * (with Allow), a body over the route's limit 413, all in the API envelope (http/reply.h).
 *
 * Connection limits (docs/limits.md has the whole table): HTTP/1.1 only (h2c is off).
 *   - max_connections open connections per process, counted across all loops: when it is
 *     reached the listeners stop accepting and newcomers wait in the kernel's backlog until
 *     a connection closes (they are not refused: a burst is served late, not dropped).
 *   - request_timeout_ms: a request's headers and body must all arrive within it, counted
 *     from its first byte; otherwise the connection is closed without an answer (a client
 *     that trickles bytes, "slowloris", holds one connection slot, never a thread).
 *   - idle_timeout_ms: a connection with no request in progress (fresh, or keep-alive
 *     after an answer) is closed after it.
 * Both timeouts are checked by a sweep every tenth of the shorter one, so a connection is
 * closed between the timeout and about a fifth more.
 */
#ifndef MEETOA_HTTP_SERVER_H
#define MEETOA_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

typedef struct http_server http_server_t;

#define HTTP_DEFAULT_MAX_CONNECTIONS    10000
#define HTTP_DEFAULT_REQUEST_TIMEOUT_MS 10000
#define HTTP_DEFAULT_IDLE_TIMEOUT_MS    30000

/* A route's handler. Runs on the loop thread. Returns 0 (it answered, or will answer later). */
typedef int (*http_handler_fn)(h2o_req_t *req, void *app);

typedef struct http_route {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact, e.g. "/wx/auth/info" */
    http_handler_fn handler;
    size_t max_body_bytes; /* 0 = the server's max_body_bytes (uploads allow more) */
} http_route_t;

typedef struct http_server_config {
    const char *host;
    int port; /* 0 = any free port */
    int threads;
    size_t max_body_bytes;
    int max_connections;    /* 0 = HTTP_DEFAULT_MAX_CONNECTIONS */
    int request_timeout_ms; /* 0 = HTTP_DEFAULT_REQUEST_TIMEOUT_MS */
    int idle_timeout_ms;    /* 0 = HTTP_DEFAULT_IDLE_TIMEOUT_MS */
    const http_route_t *routes;
    size_t nroutes;
    void *app; /* passed to every handler */
} http_server_config_t;

/*
 * Binds, starts the loop threads, logs "listening on http://HOST:PORT". NULL and one line in
 * err on failure. Raises the process's soft RLIMIT_NOFILE to fit max_connections when the
 * hard limit allows (a warning is logged when it does not).
 */
http_server_t *http_server_start(const http_server_config_t *config, char *err, size_t err_size);
/* The port actually bound. */
int http_server_port(const http_server_t *server);
/*
 * Graceful stop: every loop closes its listener, then runs until its pending requests are
 * answered or grace_ms passed; then the threads are joined and everything is freed.
 */
void http_server_stop(http_server_t *server, int grace_ms);

/*
 * Request metrics (docs/metrics.md): every request is counted when h2o disposes of it, in
 * meetoa_http_requests_total{route, errno} and meetoa_http_request_duration_seconds{route}
 * (route: the matching route's path, a prefix route's with "*", or "unmatched"; never the raw
 * path), with meetoa_http_requests_in_flight and meetoa_http_connections. The errno is the one
 * http/reply's envelope answered, noted by this call (http_send_answer makes it); "none" for
 * answers outside the envelope, "aborted" when no answer started.
 */
void http_request_errno(h2o_req_t *req, int code);

/* The loop_msg receiver of the loop that runs req (for jobs that must come back to it). */
h2o_multithread_receiver_t *http_receiver(h2o_req_t *req);
/* That loop's h2o event loop (for timers). */
h2o_loop_t *http_loop(h2o_req_t *req);

/*
 * A request waiting on off-loop work. h2o may dispose of a request whose client went away
 * while the work runs; http_pending guards against answering a dead request:
 *   http_pending_attach(&job->pending, req);   // when starting the work
 *   h2o_req_t *req = http_pending_take(&job->pending);  // when the work is back
 *   if (req != NULL) ...answer it...; free(job);
 * take() returns NULL when the request is gone; after take() the job may be freed.
 */
typedef struct http_pending {
    h2o_req_t *req;
    struct http_pending_guard *guard;
} http_pending_t;
void http_pending_attach(http_pending_t *pending, h2o_req_t *req);
h2o_req_t *http_pending_take(http_pending_t *pending);

#endif
