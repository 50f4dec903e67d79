/*
 * emu_tls — wxemu's optional HTTPS: the OpenSSL server context made from --tls-cert/--tls-key, and
 * the TLS handshake of each accepted connection.
 *
 * Why wxemu does the handshake itself instead of letting h2o_accept() do it: h2o 2.2.5 keeps the
 * connections that are still handshaking in private structures, so a shutdown could neither see nor
 * close them, and h2o_context_dispose() asserts that its handshake timeout list is empty. Here each
 * handshake is an emu_handshake_t on srv->handshakes (and on h2o's handshake timeout, so a client that
 * stalls is dropped after config.handshake_timeout); shutdown closes the ones still in progress.
 *
 * A successful handshake hands the socket to h2o's HTTP/1.1 server (ALPN offers only "http/1.1"), so
 * everything after it (routing, faults, latency, drain) is the same as over plain HTTP. A failed one
 * (the client refused the certificate, spoke plain HTTP, ...) is logged at info level and closed.
 */
#include "emu_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include <h2o/http1.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"

typedef struct emu_handshake {
    h2o_timeout_entry_t timer; /* on srv->ctx.handshake_timeout */
    h2o_linklist_t link;       /* in srv->handshakes */
    emu_server_t *srv;
    h2o_socket_t *sock;
    struct timeval connected_at;
} emu_handshake_t;

static const h2o_iovec_t alpn_protocols[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};

/* Never prompt for a passphrase on the terminal: an encrypted key is refused instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    return 0;
}

/* Writes "what FILE: <OpenSSL's reason>" into err and clears OpenSSL's error queue. */
static void tls_error(char *err, size_t err_size, const char *what, const char *file)
{
    char reason[256] = "unknown error";
    unsigned long code = ERR_peek_error(); /* the first is the cause */
    if (code != 0)
        ERR_error_string_n(code, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, err_size, "%s %s: %s", what, file, reason);
}

SSL_CTX *emu_tls_context_new(const char *cert_file, const char *key_file, char *err, size_t err_size)
{
    SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (ssl_ctx == NULL) {
        tls_error(err, err_size, "cannot create the TLS context for", cert_file);
        return NULL;
    }
    SSL_CTX_set_default_passwd_cb(ssl_ctx, no_passphrase);
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION) != 1) {
        tls_error(err, err_size, "cannot require TLS 1.2 for", cert_file);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cert_file) != 1) {
        tls_error(err, err_size, "cannot load the certificate chain", cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ssl_ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        tls_error(err, err_size, "cannot load the private key", key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
        tls_error(err, err_size, "the private key does not match the certificate", cert_file);
        goto fail;
    }
    h2o_ssl_register_alpn_protocols(ssl_ctx, alpn_protocols);
    return ssl_ctx;

fail:
    SSL_CTX_free(ssl_ctx);
    return NULL;
}

static void handshake_free(emu_handshake_t *hs)
{
    if (h2o_timeout_is_linked(&hs->timer))
        h2o_timeout_unlink(&hs->timer);
    if (h2o_linklist_is_linked(&hs->link))
        h2o_linklist_unlink(&hs->link);
    free(hs);
}

static void on_handshake(h2o_socket_t *sock, const char *err)
{
    emu_handshake_t *hs = sock->data;
    emu_server_t *srv = hs->srv;
    struct timeval connected_at = hs->connected_at;

    sock->data = NULL;
    handshake_free(hs);
    if (err != NULL) {
        log_info("wxemu: TLS handshake failed: %s", err);
        h2o_socket_close(sock);
        return;
    }
    h2o_http1_accept(&srv->accept_ctx, sock, connected_at);
}

static void on_handshake_timeout(h2o_timeout_entry_t *entry)
{
    emu_handshake_t *hs = H2O_STRUCT_FROM_MEMBER(emu_handshake_t, timer, entry);
    h2o_socket_t *sock = hs->sock;

    log_info("wxemu: TLS handshake timed out");
    handshake_free(hs);
    h2o_socket_close(sock);
}

void emu_tls_accept(emu_server_t *srv, h2o_socket_t *sock)
{
    emu_handshake_t *hs = calloc(1, sizeof(*hs));
    if (hs == NULL) {
        log_warn("wxemu: out of memory; connection refused");
        h2o_socket_close(sock);
        return;
    }
    hs->srv = srv;
    hs->sock = sock;
    gettimeofday(&hs->connected_at, NULL);
    hs->timer.cb = on_handshake_timeout;
    h2o_linklist_insert(&srv->handshakes, &hs->link);
    h2o_timeout_link(srv->ctx.loop, &srv->ctx.handshake_timeout, &hs->timer);
    sock->data = hs;
    h2o_socket_ssl_handshake(sock, srv->accept_ctx.ssl_ctx, NULL, on_handshake);
}

void emu_tls_abort_handshakes(emu_server_t *srv)
{
    while (!h2o_linklist_is_empty(&srv->handshakes)) {
        emu_handshake_t *hs = H2O_STRUCT_FROM_MEMBER(emu_handshake_t, link, srv->handshakes.next);
        h2o_socket_t *sock = hs->sock;
        handshake_free(hs);
        h2o_socket_close(sock);
    }
}
