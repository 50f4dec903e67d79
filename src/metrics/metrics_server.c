/*
 * metrics/metrics_server — see metrics_server.h. One thread polls the listener and an eventfd
 * (the stop signal); each accepted connection is non-blocking and read and written under
 * deadlines, also polling the eventfd, so a stop never waits on a client.
 */
#include "metrics/metrics_server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "metrics/metrics.h"

#define HEAD_MAX         8192
#define READ_TIMEOUT_MS  2000
#define WRITE_TIMEOUT_MS 5000

struct metrics_server {
    int listen_fd;
    int stop_fd;
    int port;
    pthread_t tid;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline; false on timeout, error or a stop. */
static bool wait_fd(metrics_server_t *server, int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = server->stop_fd, .events = POLLIN}};
        int n = poll(p, 2, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (p[1].revents & POLLIN))
            return false;
        return (p[0].revents & (events | POLLHUP | POLLERR)) != 0;
    }
}

static bool send_all(metrics_server_t *server, int fd, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(server, fd, POLLOUT, deadline))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

static void answer(metrics_server_t *server, int fd, int status, const char *reason, const char *type, const char *body,
                   size_t len, bool head_only)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                     "%sConnection: close\r\n\r\n",
                     status, reason, type, len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
    int64_t deadline = now_ms() + WRITE_TIMEOUT_MS;
    if (send_all(server, fd, head, (size_t)n, deadline) && !head_only)
        send_all(server, fd, body, len, deadline);
}

/* Reads one request head and answers it. */
static void serve(metrics_server_t *server, int fd)
{
    char buf[HEAD_MAX + 1];
    size_t got = 0;
    int64_t deadline = now_ms() + READ_TIMEOUT_MS;
    while (got < HEAD_MAX) {
        ssize_t n = recv(fd, buf + got, HEAD_MAX - got, 0);
        if (n > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
                break;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(server, fd, POLLIN, deadline))
                return;
        } else {
            return; /* closed before a whole head */
        }
    }
    buf[got] = '\0';
    char method[16], target[1024];
    if (sscanf(buf, "%15s %1023s HTTP/1.", method, target) != 2) {
        static const char bad[] = "bad request\n";
        answer(server, fd, 400, "Bad Request", "text/plain; charset=utf-8", bad, sizeof(bad) - 1, false);
        return;
    }
    bool head_only = strcmp(method, "HEAD") == 0;
    size_t path_len = strcspn(target, "?");
    if (!(path_len == strlen("/metrics") && memcmp(target, "/metrics", path_len) == 0)) {
        static const char missing[] = "not found: the management listener serves GET /metrics\n";
        answer(server, fd, 404, "Not Found", "text/plain; charset=utf-8", missing, sizeof(missing) - 1, head_only);
        return;
    }
    if (strcmp(method, "GET") != 0 && !head_only) {
        static const char method_msg[] = "method not allowed\n";
        answer(server, fd, 405, "Method Not Allowed", "text/plain; charset=utf-8", method_msg, sizeof(method_msg) - 1,
               false);
        return;
    }
    size_t len = 0;
    char *text = metrics_render(&len);
    if (text == NULL) {
        static const char oom[] = "out of memory\n";
        answer(server, fd, 503, "Service Unavailable", "text/plain; charset=utf-8", oom, sizeof(oom) - 1, head_only);
        return;
    }
    answer(server, fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text, len, head_only);
    free(text);
}

static void *server_main(void *arg)
{
    metrics_server_t *server = arg;
    log_set_thread_name("management");
    for (;;) {
        struct pollfd p[2] = {{.fd = server->listen_fd, .events = POLLIN}, {.fd = server->stop_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("management listener: poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents & POLLIN)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        int fd = accept4(server->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                log_warn("management listener: accept: %s", strerror(errno));
                struct pollfd s = {.fd = server->stop_fd, .events = POLLIN};
                poll(&s, 1, 100); /* the backlog stays readable: do not spin */
            }
            continue;
        }
        serve(server, fd);
        close(fd);
    }
    return NULL;
}

metrics_server_t *metrics_server_start(const char *host, int port, char *err, size_t err_size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, err_size, "management.server.address: cannot resolve %s: %s", host, gai_strerror(gai));
        return NULL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        snprintf(err, err_size, "management.server.port: cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return NULL;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sslen);
    metrics_server_t *server = calloc(1, sizeof(*server));
    if (server == NULL || (server->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
        snprintf(err, err_size, "management listener: out of memory or descriptors");
        free(server);
        close(fd);
        return NULL;
    }
    server->listen_fd = fd;
    server->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                  : ((struct sockaddr_in *)&ss)->sin_port);
    if (pthread_create(&server->tid, NULL, server_main, server) != 0) {
        snprintf(err, err_size, "management listener: cannot start its thread");
        close(server->stop_fd);
        close(fd);
        free(server);
        return NULL;
    }
    log_info("management endpoint GET /metrics at http://%s%s%s:%d/metrics", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", server->port);
    return server;
}

int metrics_server_port(const metrics_server_t *server)
{
    return server->port;
}

void metrics_server_stop(metrics_server_t *server)
{
    if (server == NULL)
        return;
    uint64_t one = 1;
    if (write(server->stop_fd, &one, sizeof(one)) != sizeof(one))
        log_warn("management listener: cannot signal its stop");
    pthread_join(server->tid, NULL);
    close(server->listen_fd);
    close(server->stop_fd);
    free(server);
}
