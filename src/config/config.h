/*
 * config — MeetOA's settings: application.yml, then the environment, then checks.
 *
 * The YAML file uses the original Spring Boot application's keys plus ours (see README
 * "Configuration" for the full list and defaults):
 *
 *   server: {host, port, threads, max-body-bytes}
 *   logging: {level}
 *   oa.wx: {app-id, app-secret, msgDataFormat, api-base, timeout-ms, ca-file}
 *   oa.token: {header, expire-seconds, cache-seconds}
 *   oa.datasource: {url, pool-size}
 *   oa.security: {data-key}
 *
 * Environment overrides follow Spring Boot's relaxed binding: the key upper-cased, '.'
 * becoming '_', and '-' either removed or becoming '_' (both are accepted), so
 * `oa.wx.app-secret` is OA_WX_APPSECRET or OA_WX_APP_SECRET and `server.port` is SERVER_PORT.
 * The environment wins over the file.
 *
 * config_load() either fills the whole struct or fails with one line that names the key
 * ("oa.security.data-key: must be the base64 of 32 bytes"). Unknown keys under `server`
 * and `oa` are refused the same way, so a typo does not pass silently; other top-level
 * sections of a Spring Boot file (spring, mybatis, ...) are ignored.
 *
 * Error texts never contain a secret's value (app-secret, data-key, passwords in urls).
 */
#ifndef MEETOA_CONFIG_CONFIG_H
#define MEETOA_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct config {
    /* server */
    char *host;            /* default "127.0.0.1" */
    int port;              /* default 8080; 0 = any free port (the bound port is logged) */
    int threads;           /* default 0 = one per core */
    size_t max_body_bytes; /* server.max-body-bytes, default 65536 (JSON request bodies) */
    char *log_level;       /* logging.level, default "info" */
    /* oa.wx */
    char *wx_app_id;          /* required */
    char *wx_app_secret;      /* required, secret */
    char *wx_msg_data_format; /* default "JSON" */
    char *wx_api_base;        /* default "https://api.weixin.qq.com", no trailing '/' */
    int wx_timeout_ms;        /* oa.wx.timeout-ms, default 5000 */
    char *wx_ca_file;         /* oa.wx.ca-file, default NULL = system CA store */
    /* oa.token */
    char *token_header;       /* default "X-OA-Token" */
    int token_expire_seconds; /* default 7200 */
    int token_cache_seconds;  /* oa.token.cache-seconds, default 5: how long a cached session is trusted
                                 before it is checked against the database again */
    /* oa.datasource */
    char *datasource_url; /* default "sqlite:data/meetoa.db" */
    int db_pool_size;     /* oa.datasource.pool-size, default 4: database worker threads */
    /* oa.security */
    uint8_t data_key[32]; /* oa.security.data-key: base64 of exactly 32 bytes; required */
} config_t;

/*
 * Loads path (NULL = no file: defaults and environment only), applies the environment,
 * validates. On failure returns -1, writes one line (no trailing newline) to err and
 * leaves *cfg freed (config_free need not be called). On success returns 0; free with
 * config_free().
 */
int config_load(config_t *cfg, const char *path, char *err, size_t err_size);
void config_free(config_t *cfg);

#endif
