/*
 * app — the running MeetOA server: its settings and the shared services every handler
 * uses (WeChat client, database pool, session cache, token key), and the modules
 * (app/module.h) whose routes it serves.
 *
 * app_start() migrates the database, starts the services and the HTTP loops;
 * app_stop() stops them in the reverse order (HTTP first, so nothing new arrives).
 * Handlers receive the app_t as their `void *app` and only read it.
 */
#ifndef MEETOA_APP_APP_H
#define MEETOA_APP_APP_H

#include <stddef.h>
#include <stdint.h>

#include "auth/login_flight.h"
#include "auth/session_cache.h"
#include "auth/token.h"
#include "config/config.h"
#include "guard/shared_limit.h"
#include "redis/redis_client.h"
#include "http/server.h"
#include "runtime/db_pool.h"
#include "wechat/wx_client.h"

/* The rate limits (oa.rate-limit.*), indexes of app_t.limits. */
typedef enum app_limit {
    APP_LIMIT_LOGIN_IP,
    APP_LIMIT_LOGIN_OPENID,
    APP_LIMIT_PHONE_IP,
    APP_LIMIT_PHONE_OPENID,
    APP_LIMIT_UPLOAD_IP,
    APP_LIMIT_UPLOAD_OPENID,
    APP_LIMITS
} app_limit_t;

typedef struct app {
    const config_t *config;
    wx_client_t *wx;
    db_pool_t *db;
    session_cache_t *sessions;
    login_flights_t *flights;
    http_server_t *http;
    struct app_sweeper *sweeper; /* deletes expired sessions now and then */
    /* the rate limits, made from the config at start, freed at stop */
    shared_limit_t *limits[APP_LIMITS];
    /* oa.redis.url (guard/shared_limit.h, auth/session_bus.h); NULL without it */
    redis_client_t *redis;
    /* this process's id in session_bus messages */
    char redis_origin[17];
    http_route_t *routes; /* every module's routes (app/module.h), with their body limits */
    size_t nroutes;
    size_t modules_started;                 /* app_modules[0..modules_started) were started */
    uint8_t token_keys[TOKEN_KEYS_MAX][32]; /* token hash keys: [0] of data-key, then of previous-data-keys */
    int token_key_count;
    char token_header[128]; /* lower case, as h2o stores request header names */
    size_t token_header_len;
} app_t;

/* Starts everything. -1 and one line in err on failure (nothing left running). */
int app_start(app_t *app, const config_t *config, char *err, size_t err_size);
/* Graceful stop: requests in flight get up to grace_ms to finish. */
void app_stop(app_t *app, int grace_ms);

/* The WeChat client's settings from config (strings borrowed from config). */
wx_client_config_t app_wx_config(const config_t *config);

/* Opens the database of config, applies migrations, reports versions. For `meetoa migrate` and start-up. */
int app_migrate(const config_t *config, int *from, int *to, char *err, size_t err_size);

#endif
