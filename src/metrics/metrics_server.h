/*
 * metrics/metrics_server — the management listener: GET /metrics on its own address and port
 * (management.server.address / management.server.port), served by one thread of its own.
 *
 * It never touches the event loops: a scrape renders the counters (metrics_render sums the
 * shards without a lock) on this thread while the loops go on counting. It answers one
 * connection at a time, HTTP/1.0 style (the answer ends with Connection: close): GET or HEAD
 * /metrics (a query string is ignored) 200 in text format 0.0.4, any other path 404, any
 * other method 405. A client that has not sent its request head (at most 8 KiB) within 2 s, or
 * does not read the answer within 5 s, is dropped, so a stuck client delays the next scrape by
 * at most that and never a request of the API.
 */
#ifndef MEETOA_METRICS_METRICS_SERVER_H
#define MEETOA_METRICS_METRICS_SERVER_H

#include <stddef.h>

typedef struct metrics_server metrics_server_t;

/* Binds host:port (0 = any free port), starts the thread. NULL and one line in err on failure. */
metrics_server_t *metrics_server_start(const char *host, int port, char *err, size_t err_size);
/* The port bound. */
int metrics_server_port(const metrics_server_t *server);
/* Stops the thread (an answer being written is cut), closes the listener, frees. NULL: no-op. */
void metrics_server_stop(metrics_server_t *server);

#endif
