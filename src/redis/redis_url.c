/* redis/redis_url — see redis_url.h. */
#include "redis/redis_url.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/text.h"

static bool fail(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t size, const char *fmt, ...)
{
    if (err != NULL && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Percent-decodes s[0..len) into out (cap bytes with the NUL); false on a bad escape, a NUL or no room. */
static bool decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < len ? text_hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? text_hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || n + 1 >= cap)
            return false;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return true;
}

/* A whole decimal number in s[0..len) within [min, max]. */
static bool number(const char *s, size_t len, long min, long max, int *out)
{
    if (len == 0 || len > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_userinfo(const char *s, size_t len, redis_url_t *out, char *err, size_t size)
{
    const char *colon = memchr(s, ':', len);
    if (colon == NULL)
        return fail(err, size, "a user needs a password (USER:PASSWORD@ or :PASSWORD@)");
    size_t ulen = (size_t)(colon - s);
    if (!decode(s, ulen, out->user, sizeof out->user))
        return fail(err, size, "the user is not valid (percent-escapes, at most %d bytes)", REDIS_URL_AUTH_MAX - 1);
    if (!decode(colon + 1, len - ulen - 1, out->password, sizeof out->password) || out->password[0] == '\0')
        return fail(err, size, "the password is empty or not valid (percent-escapes, at most %d bytes)",
                    REDIS_URL_AUTH_MAX - 1);
    out->has_password = true;
    return true;
}

static bool parse_tcp(const char *s, redis_url_t *out, char *err, size_t size)
{
    const char *end = s + strlen(s);
    const char *at = NULL;
    for (const char *p = s; p < end; p++) /* the last '@' ends the user info */
        if (*p == '@')
            at = p;
    if (at != NULL) {
        if (!parse_userinfo(s, (size_t)(at - s), out, err, size))
            return false;
        s = at + 1;
    }
    const char *host = s, *host_end;
    if (*s == '[') {
        host = s + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL)
            return fail(err, size, "an IPv6 address needs its closing ']'");
        s = host_end + 1;
    } else {
        host_end = s + strcspn(s, ":/?#");
        s = host_end;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return fail(err, size, "no host (redis://HOST[:PORT][/DB])");
    if (hlen >= sizeof out->host)
        return fail(err, size, "the host is longer than %d bytes", REDIS_URL_HOST_MAX - 1);
    for (size_t i = 0; i < hlen; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '@' || host[i] == '[' || host[i] == ']' || host[i] == '%')
            return fail(err, size, "the host holds a character a host name cannot hold");
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->port = 6379;
    if (*s == ':') {
        const char *p = s + 1;
        size_t plen = strcspn(p, "/?#");
        if (!number(p, plen, 1, 65535, &out->port))
            return fail(err, size, "the port must be a number 1..65535");
        s = p + plen;
    }
    if (*s == '/') {
        const char *d = s + 1;
        size_t dlen = strlen(d);
        if (dlen > 0 && !number(d, dlen, 0, 15, &out->db))
            return fail(err, size, "the database must be a number 0..15 (redis://HOST:PORT/DB)");
        s = d + dlen;
    }
    if (*s != '\0')
        return fail(err, size, "unexpected text after the host and port (redis://HOST[:PORT][/DB])");
    return true;
}

static bool parse_unix(const char *s, redis_url_t *out, char *err, size_t size)
{
    if (*s != '/') {
        const char *at = strstr(s, "@/");
        if (at == NULL)
            return fail(err, size, "the socket path must be absolute (unix:///PATH)");
        if (!parse_userinfo(s, (size_t)(at - s), out, err, size))
            return false;
        s = at + 1;
    }
    size_t plen = strcspn(s, "?");
    if (plen < 2)
        return fail(err, size, "no socket path (unix:///PATH)");
    if (plen >= sizeof out->path)
        return fail(err, size, "the socket path is longer than %d bytes", REDIS_URL_PATH_MAX - 1);
    memcpy(out->path, s, plen);
    out->path[plen] = '\0';
    out->is_unix = true;
    s += plen;
    if (*s == '?') {
        if (strncmp(s, "?db=", 4) != 0 || !number(s + 4, strlen(s + 4), 0, 15, &out->db))
            return fail(err, size, "the only query is ?db=N with N 0..15");
    }
    return true;
}

bool redis_url_parse(const char *text, redis_url_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    bool ok;
    if (text == NULL || text[0] == '\0')
        ok = fail(err, err_size, "empty");
    else if (strncmp(text, "redis://", 8) == 0)
        ok = parse_tcp(text + 8, out, err, err_size);
    else if (strncmp(text, "unix://", 7) == 0)
        ok = parse_unix(text + 7, out, err, err_size);
    else if (strncmp(text, "rediss://", 9) == 0)
        ok = fail(err, err_size,
                  "rediss:// (TLS) is not supported: use redis:// on a trusted network or a unix:// "
                  "socket");
    else
        ok = fail(err, err_size, "must start with redis:// or unix://");
    if (!ok)
        redis_url_wipe(out);
    return ok;
}

void redis_url_describe(const redis_url_t *url, char *out, size_t size)
{
    if (url->is_unix)
        snprintf(out, size, "unix:%s/%d", url->path, url->db);
    else if (strchr(url->host, ':') != NULL)
        snprintf(out, size, "[%s]:%d/%d", url->host, url->port, url->db);
    else
        snprintf(out, size, "%s:%d/%d", url->host, url->port, url->db);
}

void redis_url_wipe(redis_url_t *url)
{
    explicit_bzero(url, sizeof(*url));
}
