/*
 * wxemu — a stand-in for api.weixin.qq.com, so MeetOA's server, tests, demo and benchmarks run
 * without the internet. This file is the program: command line, listening socket, signals, the
 * event loop and an orderly shutdown. The HTTP side is in emu_http.c, the endpoints in emu_wx.c
 * (WeChat API) and emu_ctl.c (control API), the state in emu_state.c, HTTPS in emu_tls.c, the message
 * pushes wxemu sends in emu_push.c, the subscription keyword rules in emu_keyword.c.
 * See docs/wxemu.md.
 *
 * One thread, one h2o event loop. SIGTERM/SIGINT write a byte to a self-pipe watched by the loop, so
 * shutdown runs on the loop thread: stop accepting, answer the delayed requests, close idle
 * connections, wait (bounded) for the rest to close, free everything, exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

#include "common/log.h"
#include "emu_push.h"
#include "emu_server.h"

typedef struct emu_options {
    const char *host;
    unsigned port;
    unsigned latency_ms;
    unsigned token_ttl_s;
    const char *port_file;
    const char *tls_cert; /* both or neither: HTTPS */
    const char *tls_key;
} emu_options_t;

/* Write end of the self-pipe: set once before the handlers are installed, only read afterwards. */
static int signal_pipe_wr = -1;

static void usage(FILE *out)
{
    fputs("usage: wxemu [--port N] [--host 127.0.0.1] --app APPID:SECRET [--app ...]\n"
          "             [--latency-ms N] [--port-file PATH] [--log-level error|warn|info|debug]\n"
          "             [--tls-cert FILE --tls-key FILE] [--token-ttl-seconds N]\n"
          "\n"
          "Emulates api.weixin.qq.com (code2Session, access_token, getuserphonenumber, checksession,\n"
          "getwxacodeunlimit, subscribeMessage.send, msgSecCheck, mediaCheckAsync and its push)\n"
          "plus a control API under /__emu/ (see docs/wxemu.md).\n"
          "  --port N          port to listen on; 0 (the default) picks a free one\n"
          "  --host ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
          "  --app ID:SECRET   a mini program wxemu knows (repeatable)\n"
          "  --latency-ms N    delay every WeChat API answer by N ms (0..60000)\n"
          "  --port-file PATH  write the bound port to PATH once listening\n"
          "  --log-level L     log threshold on stderr (default info)\n"
          "  --tls-cert FILE   speak HTTPS with this PEM certificate chain (server certificate first)\n"
          "  --tls-key FILE    and this PEM private key (unencrypted); both or neither\n"
          "  --token-ttl-seconds N  lifetime of the access_tokens minted (1..86400, default 7200)\n",
          out);
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-')
        return false;
    *out = (unsigned)v;
    return true;
}

/* "APPID:SECRET" -> the state. The secret is never printed. */
static bool add_app(emu_state_t *state, const char *spec)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL) {
        fprintf(stderr, "wxemu: --app wants APPID:SECRET\n");
        return false;
    }
    emu_slice_t appid = {spec, (size_t)(colon - spec)};
    emu_status_t st = emu_state_add_app(state, appid, emu_slice_cstr(colon + 1));
    if (st != EMU_OK) {
        fprintf(stderr, "wxemu: cannot add app '%.*s': %s\n", (int)appid.len, appid.base,
                st == EMU_EEXIST  ? "configured twice"
                : st == EMU_EFULL ? "too many apps"
                                  : "appid 1..64 bytes, secret 1..128 bytes");
        return false;
    }
    return true;
}

/* Prints "wxemu: what[: detail]" on stderr; returns 2 (a usage error). */
static int usage_error(const char *what, const char *detail)
{
    fprintf(stderr, "wxemu: %s%s%s\n", what, detail != NULL ? ": " : "", detail != NULL ? detail : "");
    return 2;
}

/* Returns 0 to run, 1 for --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, emu_options_t *opt, emu_state_t *state)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'H'},
        {"app", required_argument, NULL, 'a'},
        {"latency-ms", required_argument, NULL, 'l'},
        {"port-file", required_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, 'L'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {"token-ttl-seconds", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, level;

    *opt = (emu_options_t){"127.0.0.1", 0, 0, EMU_TOKEN_TTL_MS / 1000, NULL, NULL, NULL};
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (!parse_uint(optarg, 65535, &opt->port))
                return usage_error("bad --port (0..65535)", NULL);
            break;
        case 'H':
            opt->host = optarg;
            break;
        case 'a':
            if (!add_app(state, optarg))
                return 2;
            break;
        case 'l':
            if (!parse_uint(optarg, EMU_MAX_DELAY_MS, &opt->latency_ms))
                return usage_error("bad --latency-ms (0..60000)", NULL);
            break;
        case 'f':
            opt->port_file = optarg;
            break;
        case 'L':
            if ((level = log_level_parse(optarg)) < 0)
                return usage_error("bad --log-level", NULL);
            log_set_level((log_level_t)level);
            break;
        case 'c':
            opt->tls_cert = optarg;
            break;
        case 'k':
            opt->tls_key = optarg;
            break;
        case 't':
            if (!parse_uint(optarg, 86400, &opt->token_ttl_s) || opt->token_ttl_s == 0)
                return usage_error("bad --token-ttl-seconds (1..86400)", NULL);
            emu_state_set_token_ttl(state, (int64_t)opt->token_ttl_s * 1000);
            break;
        case 'h':
            return 1;
        default:
            return 2;
        }
    }
    if (optind != argc)
        return usage_error("unexpected argument", argv[optind]);
    if ((opt->tls_cert == NULL) != (opt->tls_key == NULL))
        return usage_error("--tls-cert and --tls-key go together", NULL);
    return 0;
}

/* Listening ------------------------------------------------------------------------------------------ */

static void on_accept(h2o_socket_t *listener, const char *err)
{
    emu_server_t *srv = listener->data;
    h2o_socket_t *sock;

    if (err != NULL || srv->stopping)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    if (srv->accept_ctx.ssl_ctx != NULL)
        emu_tls_accept(srv, sock);
    else
        h2o_accept(&srv->accept_ctx, sock);
}

/* Binds and listens; returns the bound port, or -1 with a message on stderr. */
static int open_listener(emu_server_t *srv, const emu_options_t *opt)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt->port)};
    socklen_t addr_len = sizeof(addr);
    int fd = -1, one = 1;

    if (inet_pton(AF_INET, opt->host, &addr.sin_addr) != 1) {
        fprintf(stderr, "wxemu: --host must be an IPv4 address\n");
        return -1;
    }
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        fprintf(stderr, "wxemu: cannot listen on %s:%u: %s\n", opt->host, opt->port, strerror(errno));
        if (fd != -1)
            close(fd);
        return -1;
    }
    srv->listener = h2o_evloop_socket_create(srv->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    srv->listener->data = srv;
    h2o_socket_read_start(srv->listener, on_accept);
    return ntohs(addr.sin_port);
}

/* Writes the port to path atomically (temporary file + rename), so a reader never sees half of it. */
static bool write_port_file(const char *path, int port)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return false;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return false;
    bool ok = fprintf(f, "%d\n", port) > 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0;
}

/* Signals ------------------------------------------------------------------------------------------- */

static void on_signal(int signo)
{
    int saved = errno;
    char byte = (char)signo;
    if (write(signal_pipe_wr, &byte, 1) < 0) {
        /* the pipe is full: a stop is pending already */
    }
    errno = saved;
}

static void on_signal_pipe(h2o_socket_t *sock, const char *err)
{
    emu_server_t *srv = sock->data;
    if (sock->input->size > 0)
        h2o_buffer_consume(&sock->input, sock->input->size);
    srv->stopping = true;
}

static bool watch_signals(emu_server_t *srv)
{
    int fds[2];
    struct sigaction sa;

    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return false;
    signal_pipe_wr = fds[1];
    srv->signal_sock = h2o_evloop_socket_create(srv->ctx.loop, fds[0], 0);
    srv->signal_sock->data = srv;
    h2o_socket_read_start(srv->signal_sock, on_signal_pipe);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return true;
}

/* HTTPS: the TLS context of --tls-cert/--tls-key, before init_server() (which keeps it). */
static bool load_tls(emu_server_t *srv, const emu_options_t *opt)
{
    char err[512];
    srv->accept_ctx.ssl_ctx = emu_tls_context_new(opt->tls_cert, opt->tls_key, err, sizeof(err));
    if (srv->accept_ctx.ssl_ctx == NULL) {
        fprintf(stderr, "wxemu: %s\n", err);
        return false;
    }
    return true;
}

/* Lifecycle ------------------------------------------------------------------------------------------ */

static void init_server(emu_server_t *srv, unsigned latency_ms)
{
    h2o_config_init(&srv->config);
    srv->config.max_request_entity_size = EMU_MAX_ENTITY;
    srv->config.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *hostconf = h2o_config_register_host(&srv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    emu_http_register(srv, hostconf);
    h2o_context_init(&srv->ctx, h2o_evloop_create(), &srv->config);
    srv->accept_ctx.ctx = &srv->ctx;
    srv->accept_ctx.hosts = srv->config.hosts;
    h2o_linklist_init_anchor(&srv->pending);
    h2o_linklist_init_anchor(&srv->handshakes);
    srv->latency_ms = latency_ms;
    if (latency_ms > 0)
        emu_http_timeout(srv, latency_ms);
    emu_http_timeout(srv, EMU_PUSH_DELAY_MS); /* the default push delay always has its timer */
    emu_http_timeout(srv, EMU_PUSH_DEADLINE_MS);
}

/* Stops accepting, finishes what is in flight, waits (bounded) for connections to close.
 * Returns false when some are still open at the deadline (then the loop cannot be freed safely). */
static bool drain(emu_server_t *srv)
{
    h2o_socket_read_stop(srv->listener);
    h2o_socket_close(srv->listener);
    srv->listener = NULL;
    emu_tls_abort_handshakes(srv);
    emu_http_flush(srv);
    emu_push_abort(srv);
    int64_t deadline = clock_monotonic_ms() + EMU_SHUTDOWN_DEADLINE_MS;
    while (emu_http_connection_count(srv) > 0 && clock_monotonic_ms() < deadline)
        h2o_evloop_run(srv->ctx.loop, 50);
    return emu_http_connection_count(srv) == 0;
}

static void dispose_server(emu_server_t *srv)
{
    h2o_evloop_t *loop = srv->ctx.loop;
    if (srv->listener != NULL)
        h2o_socket_close(srv->listener);
    if (srv->signal_sock != NULL)
        h2o_socket_close(srv->signal_sock);
    if (signal_pipe_wr != -1) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        close(signal_pipe_wr);
        signal_pipe_wr = -1;
    }
    emu_tls_abort_handshakes(srv);
    emu_push_abort(srv);
    emu_http_dispose_timeouts(srv);
    h2o_context_dispose(&srv->ctx);
    /* h2o 2.2.5's evloop h2o_multithread_destroy_queue() closes the queue but never frees it */
    free(srv->ctx.queue);
    h2o_evloop_destroy(loop);
    h2o_config_dispose(&srv->config);
    SSL_CTX_free(srv->accept_ctx.ssl_ctx);
    srv->accept_ctx.ssl_ctx = NULL;
}

static int serve(emu_server_t *srv, const emu_options_t *opt)
{
    int port = open_listener(srv, opt);
    if (port < 0 || !watch_signals(srv)) {
        dispose_server(srv);
        return 1;
    }
    if (opt->port_file != NULL && !write_port_file(opt->port_file, port)) {
        fprintf(stderr, "wxemu: cannot write --port-file: %s\n", strerror(errno));
        dispose_server(srv);
        return 1;
    }
    const char *scheme = srv->accept_ctx.ssl_ctx != NULL ? "https" : "http";
    log_info("wxemu: listening on %s://%s:%d, %zu app(s), latency %u ms, token ttl %u s", scheme, opt->host, port,
             emu_state_app_count(srv->state), opt->latency_ms, opt->token_ttl_s);
    printf("wxemu listening on %s://%s:%d\n", scheme, opt->host, port);
    fflush(stdout);

    while (!srv->stopping)
        h2o_evloop_run(srv->ctx.loop, INT32_MAX);

    log_info("wxemu: stopping");
    if (!drain(srv)) {
        log_warn("wxemu: connections still open after %d ms; exiting without freeing them", EMU_SHUTDOWN_DEADLINE_MS);
        return 0;
    }
    dispose_server(srv);
    log_info("wxemu: stopped");
    return 0;
}

int main(int argc, char **argv)
{
    emu_server_t srv;
    emu_options_t opt;
    int rc;

    memset(&srv, 0, sizeof(srv));
    log_set_thread_name("wxemu");
    if ((srv.state = emu_state_new()) == NULL) {
        fprintf(stderr, "wxemu: out of memory\n");
        return 1;
    }
    rc = parse_args(argc, argv, &opt, srv.state);
    if (rc != 0) {
        usage(rc == 1 ? stdout : stderr);
        emu_state_free(srv.state);
        return rc == 1 ? 0 : 2;
    }
    if (emu_state_app_count(srv.state) == 0)
        log_warn("wxemu: no --app given; every code2Session call will answer 40013");
    if (opt.tls_cert != NULL && !load_tls(&srv, &opt)) {
        emu_state_free(srv.state);
        return 1;
    }
    if ((srv.push = emu_push_new()) == NULL) {
        fprintf(stderr, "wxemu: out of memory\n");
        emu_state_free(srv.state);
        return 1;
    }
    init_server(&srv, opt.latency_ms);
    rc = serve(&srv, &opt);
    emu_push_free(srv.push);
    emu_state_free(srv.state);
    return rc;
}
