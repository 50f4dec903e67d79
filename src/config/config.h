/*
 * config — MeetOA's settings: application.yml, then the environment, then checks.
 *
 * The YAML file uses the original Spring Boot application's keys plus ours. Every key, its
 * default and its rule (README "Configuration" repeats this):
 *
 *   key                      default                     rule
 *   server.host              127.0.0.1                   non-empty
 *   server.port              8080                        0..65535 (0 = any free port)
 *   server.threads           0 (one per core)            0..256
 *   server.max-body-bytes    65536                       1024..67108864
 *   logging.level            info                        error|warn|info|debug, any case; Spring's
 *                                                        logging.level.root is read when it is absent
 *   oa.wx.app-id             required                    non-empty
 *   oa.wx.app-secret         required, secret            non-empty
 *   oa.wx.msgDataFormat      JSON                        JSON|XML
 *   oa.wx.api-base           https://api.weixin.qq.com   http:// or https://; trailing '/' removed
 *   oa.wx.timeout-ms         5000                        100..120000
 *   oa.wx.ca-file            none (system CA store)      a readable file; "" = none
 *   oa.token.header          X-OA-Token                  an HTTP header name (RFC 9110 token), <= 64 chars
 *   oa.token.expire-seconds  7200                        1..31536000
 *   oa.token.cache-seconds   5                           0..3600
 *   oa.datasource.url        sqlite:data/meetoa.db       non-empty; secret (it may hold a password)
 *   oa.datasource.pool-size  4                           1..64
 *   oa.security.data-key     required, secret            base64 of exactly 32 bytes
 *   oa.wx.token-api          stable                      stable (POST /cgi-bin/stable_token) | token
 *                                                        (GET /cgi-bin/token): how access_token is got
 *   oa.phone.allow-shared    false                       true|false: may two users bind one number
 *   oa.storage.dir           data/uploads                where uploaded avatars are kept
 *   oa.storage.max-bytes     2097152                     1024..67108864: largest upload
 *   oa.storage.base-url      none (from the Host header) http(s):// base of the upload URLs answered
 *
 * Numbers are whole decimal numbers (a YAML int or a quoted string: "80x", "", "1e3",
 * "+80" are refused). Keys in the file are compared as Spring compares them: per
 * segment, case-insensitive, '-' and '_' ignored (msgDataFormat = msg-data-format), and
 * may be nested (`oa: {wx: {app-id: x}}`) or dotted (`oa.wx.app-id: x`). An empty value,
 * `~` or `null` counts as not given. Only one YAML document per file; sequences and
 * aliases are refused for our keys; `${...}` placeholders are refused (use the environment).
 *
 * Environment overrides follow Spring Boot's relaxed binding: the key upper-cased, '.'
 * becoming '_', and '-' either removed or becoming '_' (both are accepted; when both are
 * set they must agree), so `oa.wx.app-secret` is OA_WX_APPSECRET or OA_WX_APP_SECRET and
 * `server.port` is SERVER_PORT; oa.wx.msgDataFormat is OA_WX_MSGDATAFORMAT or OA_WX_MSG_DATA_FORMAT;
 * logging.level is LOGGING_LEVEL (or LOGGING_LEVEL_ROOT). The environment wins over the file,
 * the file over the defaults.
 *
 * config_load() either fills the whole struct or fails with one line that names the key
 * and where the value came from ("oa.security.data-key: must be the base64 of 32 bytes
 * (environment OA_SECURITY_DATA_KEY)"; non-secret values are quoted). Unknown keys under
 * `server` and `oa` are refused the same way, as is a key given twice, so a typo does not
 * pass silently; other top-level sections of a Spring Boot file (spring, mybatis,
 * logging.file, ...) are ignored. A missing file names the path; a YAML syntax error names
 * the path and line.
 *
 * Error texts never contain a secret's value (app-secret, data-key, datasource url).
 * Thread-safety: config_load reads the environment (getenv): call it at start-up, before
 * other threads run. A loaded config_t is read-only and may then be shared by all threads.
 */
#ifndef MEETOA_CONFIG_CONFIG_H
#define MEETOA_CONFIG_CONFIG_H

#include <stdbool.h>
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
    /* oa.wx.token-api, oa.phone, oa.storage */
    char *wx_token_api;       /* "stable" or "token" */
    bool phone_allow_shared;  /* oa.phone.allow-shared */
    char *storage_dir;        /* oa.storage.dir */
    size_t storage_max_bytes; /* oa.storage.max-bytes */
    char *storage_base_url;   /* oa.storage.base-url, NULL = http://<Host header> */
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
