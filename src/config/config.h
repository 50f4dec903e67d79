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
 *   server.trusted-proxies   none                        comma-separated IPv4/IPv6 addresses or CIDR
 *                                                        ranges ("127.0.0.1, 10.0.0.0/8, ::1"): peers
 *                                                        whose X-Forwarded-For is believed
 *   server.max-body-bytes    65536                       1024..67108864
 *   server.max-connections   10000                       1..1000000: open connections per process
 *   server.request-timeout-ms 10000                      100..600000: a request's headers and body
 *                                                        must arrive within it (from its first byte)
 *   server.idle-timeout-ms   30000                       100..3600000: a keep-alive connection with
 *                                                        no request in progress is closed after it
 *   management.server.port   -1 (off)                    -1..65535: the management listener (GET /metrics);
 *                                                        0 = any free port (logged), -1 = none
 *   management.server.address 127.0.0.1                  non-empty: the address it binds
 *   logging.level            info                        error|warn|info|debug, any case; Spring's
 *                                                        logging.level.root is read when it is absent
 *   logging.file.name        none (stderr)               a file the log lines are appended to, reopened
 *                                                        on SIGHUP; Spring Boot 1.x's logging.file (a
 *                                                        plain path) is read when it is absent
 *   logging.format           text                        text|json, any case: one JSON object per line
 *                                                        (common/log.h) for log shippers
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
 *   oa.security.previous-data-keys  none, secret         up to 4 comma-separated base64 32-byte keys,
 *                                                        each unlike data-key and the others: tokens and
 *                                                        session_keys of those keys still open (rotation)
 *   oa.wx.token-api          stable                      stable (POST /cgi-bin/stable_token) | token
 *                                                        (GET /cgi-bin/token): how access_token is got
 *   oa.phone.allow-shared    false                       true|false: may two users bind one number
 *   oa.storage.dir           data/uploads                where uploaded avatars are kept
 *   oa.storage.max-bytes     2097152                     1024..67108864: largest upload
 *   oa.storage.base-url      none (from the Host header) http(s):// base of the upload URLs answered
 *   oa.rate-limit.login-ip      600                      0..1000000 requests per minute (0 = off), per
 *   oa.rate-limit.login-openid  20                       client IP (IPv6: per /64) or per openid, on
 *   oa.rate-limit.phone-ip      120                      login, bindPhone and upload; over it: errno
 *   oa.rate-limit.phone-openid  10                       429 (HTTP 429, Retry-After)
 *   oa.rate-limit.upload-ip     120
 *   oa.rate-limit.upload-openid 20
 *   oa.redis.url             none (per process)          redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or
 *                                                        unix://[[USER]:PASSWORD@]/PATH[?db=N]; secret:
 *                                                        rate limits shared, session ends published
 *   oa.redis.timeout-ms      250                         10..10000: connect, each command; slower = down
 *   oa.wx.content-check      false                       true|false: meetings', votes' and minutes' texts
 *                                                        go through WeChat's msg_sec_check before they are stored
 *   oa.subscribe.KIND.template-id  none (KIND off)        KIND: invitation, approval, starting, changed;
 *   oa.subscribe.KIND.data      required with the id     "keyword=field, ..." (notify/notify_values.h)
 *   oa.subscribe.page           pages/meeting/detail/detail  the page a message opens (?id= added)
 *   oa.subscribe.miniprogram-state formal                formal|trial|developer
 *   oa.subscribe.lang           zh_CN                    zh_CN|en_US|zh_HK|zh_TW
 *   oa.subscribe.poll-ms        1000                     100..600000: due reminders claimed this often
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
 * logging.pattern, logging.file.path, ...) are ignored. A missing file names the path; a
 * YAML syntax error names the path and line.
 *
 * Error texts never contain a secret's value (app-secret, data-key, datasource url).
 * Thread-safety: config_load reads the environment (getenv): call it at start-up, before
 * other threads run. A loaded config_t is read-only and may then be shared by all threads.
 */
#ifndef MEETOA_CONFIG_CONFIG_H
#define MEETOA_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "guard/ip_addr.h"

/* Most keys oa.security.previous-data-keys may hold. */
#define CONFIG_PREVIOUS_DATA_KEYS_MAX 4

/* Data keys of earlier rotations, in the order listed. */
typedef struct config_key_list {
    uint8_t key[CONFIG_PREVIOUS_DATA_KEYS_MAX][32];
    int count;
} config_key_list_t;

typedef struct config {
    /* server */
    char *host;                  /* default "127.0.0.1" */
    int port;                    /* default 8080; 0 = any free port (the bound port is logged) */
    int threads;                 /* default 0 = one per core */
    ip_ranges_t trusted_proxies; /* server.trusted-proxies, default none (n = 0) */
    size_t max_body_bytes;       /* server.max-body-bytes, default 65536 (JSON request bodies) */
    int max_connections;         /* server.max-connections, default 10000 (see docs/limits.md) */
    int request_timeout_ms;      /* server.request-timeout-ms, default 10000 */
    int idle_timeout_ms;         /* server.idle-timeout-ms, default 30000 */
    int management_port;         /* management.server.port, default -1 = no management listener */
    char *management_address;    /* management.server.address, default "127.0.0.1" */
    char *log_level;             /* logging.level, default "info" */
    char *log_file;              /* logging.file.name (or Spring 1.x logging.file), NULL = stderr */
    char *log_format;            /* logging.format, default "text": "text" or "json" (common/log.h) */
    /* oa.wx */
    char *wx_app_id;          /* required */
    char *wx_app_secret;      /* required, secret */
    char *wx_msg_data_format; /* default "JSON" */
    char *wx_api_base;        /* default "https://api.weixin.qq.com", no trailing '/' */
    int wx_timeout_ms;        /* oa.wx.timeout-ms, default 5000 */
    char *wx_ca_file;         /* oa.wx.ca-file, default NULL = system CA store */
    /* oa.token */
    char *token_header;                /* default "X-OA-Token" */
    int token_expire_seconds;          /* default 7200 */
    int token_cache_seconds;           /* oa.token.cache-seconds, default 5: how long a cached session is trusted
                                          before it is checked against the database again */
    int token_renew_threshold_seconds; /* oa.token.renew-threshold-seconds: a token closer to its expiry is
                                          renewed (auth/caller.h); default a quarter of expire-seconds, 0 = off */
    int login_log_days;                /* oa.auth.login-log-days, default 180: how long login log rows are kept */
    /* oa.datasource */
    char *datasource_url; /* default "sqlite:data/meetoa.db" */
    int db_pool_size;     /* oa.datasource.pool-size, default 4: database worker threads */
    /* oa.security */
    uint8_t data_key[32];                 /* oa.security.data-key: base64 of exactly 32 bytes; required */
    config_key_list_t previous_data_keys; /* oa.security.previous-data-keys: default none */
    /* oa.wx.token-api, oa.phone, oa.storage */
    char *wx_token_api; /* "stable" or "token" */
    char *time_zone;    /* oa.time-zone, default "Asia/Shanghai": the organization's local time */
    /* oa.wx.push: WeChat's message push (消息推送) to /wx/wechat/push; NULL = not configured */
    char *push_token;            /* the Token of the push configuration (secret) */
    char *push_aes_key;          /* its EncodingAESKey (43 characters; secret): safe mode */
    char *push_previous_aes_key; /* the one before, still accepted while WeChat switches (secret) */
    /* oa.minutes: a meeting's minutes and attachments */
    size_t minutes_max_attachment_bytes; /* the largest attachment (10 MiB) */
    int minutes_max_attachments;         /* attachments of one meeting (20) */
    /* oa.meeting.list-cache-bytes: answered upcoming/notice pages kept (64 MiB; 0 = none) */
    size_t meeting_list_cache_bytes;
    bool content_check; /* oa.wx.content-check: users' texts go through WeChat's msg_sec_check (false) */
    /* oa.subscribe: reminders by subscription messages (notify/notify_api.h); [kind] is
     * store_remind_kind_t's 1 invitation, 2 approval, 3 starting, 4 changed ([0] unused) */
    char *subscribe_template[5]; /* oa.subscribe.<kind>.template-id; NULL = that kind is off */
    char *subscribe_data[5];     /* oa.subscribe.<kind>.data: "thing1=title, time2=time, ..." */
    char *subscribe_page;        /* the page a message opens, with ?id=<meeting> ("pages/meeting/detail/detail") */
    char *subscribe_state;       /* miniprogram_state: formal | trial | developer */
    char *subscribe_lang;        /* zh_CN | en_US | zh_HK | zh_TW */
    int subscribe_poll_ms;       /* how often due reminders are claimed (1000) */
    /* oa.checkin: sign-in by the meeting's mini program code */
    int checkin_open_minutes;    /* sign-in opens this long before the start (30) and closes at the end */
    int checkin_rotate_seconds;  /* a rotating code changes this often (30) */
    int checkin_overlap_seconds; /* ...and the previous one is still accepted this long (10) */
    char *checkin_page;          /* the page the code opens ("pages/checkin/index") */
    char *checkin_env_version;   /* release | trial | develop */
    bool checkin_check_path;     /* WeChat checks that the page is in the published version */
    bool phone_allow_shared;     /* oa.phone.allow-shared */
    char *storage_dir;           /* oa.storage.dir */
    size_t storage_max_bytes;    /* oa.storage.max-bytes */
    char *storage_base_url;      /* oa.storage.base-url, NULL = http://<Host header> */
    /* oa.rate-limit: requests per minute, 0 = off */
    int rate_login_ip, rate_login_openid;
    int rate_phone_ip, rate_phone_openid;
    int rate_upload_ip, rate_upload_openid;
    /* oa.redis (redis/redis_url.h) */
    char *redis_url;      /* NULL = no Redis: everything per process */
    int redis_timeout_ms; /* 250 */
} config_t;

/*
 * Loads path (NULL = no file: defaults and environment only), applies the environment,
 * validates. On failure returns -1, writes one line (no trailing newline) to err and
 * leaves *cfg freed (config_free need not be called). On success returns 0; free with
 * config_free().
 */
int config_load(config_t *cfg, const char *path, char *err, size_t err_size);
void config_free(config_t *cfg);

/*
 * `meetoa check-config`: loads path as config_load does (same checks, same one-line error and -1
 * on failure), then writes to out one line per key, in the table's order:
 *   <key> <effective value>  (<where it came from: "FILE line N", "environment NAME", "default", "not set">)
 * Secrets are masked: keys as "********", a URL's password as "****" (mysql://u:****@h/db).
 */
int config_print(const char *path, FILE *out, char *err, size_t err_size);

#endif
