/*
 * redis/redis_url — oa.redis.url, the Redis server shared by the instances.
 *
 * Forms:
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]     TCP; HOST a name, an IPv4 address or an
 *                                                  IPv6 address in brackets ([::1]); PORT
 *                                                  1..65535, default 6379; DB 0..15, default 0
 *   unix://[[USER]:PASSWORD@]/PATH[?db=DB]         a Unix socket (PATH absolute, < 108 bytes)
 * USER and PASSWORD are percent-decoded (%40 = '@'); a USER makes the client send
 * `AUTH USER PASSWORD` (Redis 6 ACLs), a PASSWORD alone `AUTH PASSWORD`. rediss:// (TLS) is
 * refused: the client library of this build (hiredis 0.14) has no TLS.
 *
 * redis_url_parse() fills *out or fails with one line in err that never repeats the password.
 * The parsed URL holds the password: redis_url_wipe() clears it. Pure functions, any thread.
 */
#ifndef MEETOA_REDIS_REDIS_URL_H
#define MEETOA_REDIS_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#define REDIS_URL_HOST_MAX 256
#define REDIS_URL_PATH_MAX 108 /* sun_path */
#define REDIS_URL_AUTH_MAX 256

typedef struct redis_url {
    bool is_unix;
    char host[REDIS_URL_HOST_MAX]; /* TCP: without brackets */
    int port;
    char path[REDIS_URL_PATH_MAX]; /* unix */
    char user[REDIS_URL_AUTH_MAX];
    char password[REDIS_URL_AUTH_MAX]; /* secret */
    bool has_password;
    int db;
} redis_url_t;

/* Parses text; false and one line in err when it is not one of the forms above. */
bool redis_url_parse(const char *text, redis_url_t *out, char *err, size_t err_size);
/* "host:port" / "[::1]:port" / "unix:/path" and "/db": for log lines (no user, no password). */
void redis_url_describe(const redis_url_t *url, char *out, size_t size);
/* Clears the password (and everything else). */
void redis_url_wipe(redis_url_t *url);

#endif
