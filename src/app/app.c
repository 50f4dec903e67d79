/*
 * app — wiring: the modules whose routes make docs/api.md, and the start/stop order of the services.
 */
#include "app/app.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "app/module.h"
#include "auth/account_api.h"
#include "auth/auth_api.h"
#include "auth/session_bus.h"
#include "auth/sessions_api.h"
#include "auth/verify_api.h"
#include "meeting/checkin_api.h"
#include "meeting/meeting_api.h"
#include "content/content_api.h"
#include "health/health_api.h"
#include "metrics/metrics_api.h"
#include "notify/notify_api.h"
#include "meeting/minutes_api.h"
#include "meeting/vote_api.h"
#include "push/push_api.h"
#include "org/member_api.h"
#include "org/room_api.h"
#include "storage/storage_api.h"
#include "auth/token.h"
#include "common/clock.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "store/store_sessions.h"

/* The modules, in start order (app/module.h). */
const app_module_t *const app_modules[] = {&auth_module,    &sessions_module, &account_module, &storage_module,
                                           &member_module,  &room_module,     &content_module, &notify_module,
                                           &meeting_module, &checkin_module,  &vote_module,    &minutes_module,
                                           &push_module,    &health_module,   &metrics_module, &verify_module};
const size_t app_module_count = sizeof(app_modules) / sizeof(app_modules[0]);

/* Collects every module's routes into app->routes, with the body limits from the config. */
static bool routes_collect(app_t *app, const config_t *config)
{
    size_t n = 0;
    for (size_t m = 0; m < app_module_count; m++)
        n += app_modules[m]->nroutes;
    if ((app->routes = calloc(n > 0 ? n : 1, sizeof(*app->routes))) == NULL)
        return false;
    for (size_t m = 0; m < app_module_count; m++) {
        const app_module_t *mod = app_modules[m];
        for (size_t i = 0; i < mod->nroutes; i++) {
            http_route_t *r = &app->routes[app->nroutes++];
            *r = mod->routes[i];
            size_t limit = mod->body_limit != NULL ? mod->body_limit(config, r) : 0;
            if (limit > 0)
                r->max_body_bytes = limit;
        }
    }
    return true;
}

/* Stops the started modules' services, in reverse order (modules_release frees the rest). */
static void modules_stop(app_t *app)
{
    for (size_t i = app->modules_started; i > 0; i--)
        if (app_modules[i - 1]->stop != NULL)
            app_modules[i - 1]->stop(app);
}

/* After the database pool stopped: what the started modules' jobs could still read. */
static void modules_release(app_t *app)
{
    while (app->modules_started > 0) {
        const app_module_t *mod = app_modules[--app->modules_started];
        if (mod->release != NULL)
            mod->release(app);
    }
}

static int modules_start(app_t *app, char *err, size_t err_size)
{
    for (; app->modules_started < app_module_count; app->modules_started++) {
        const app_module_t *mod = app_modules[app->modules_started];
        if (mod->start != NULL && mod->start(app, err, err_size) != 0) {
            modules_stop(app);
            modules_release(app); /* no request has run yet */
            return -1;
        }
    }
    return 0;
}

/*
 * ---- the sweeper ----
 * Every CACHE_SWEEP_SECONDS it drops from the session cache what can no longer answer a
 * lookup (expired, or older than oa.token.cache-seconds), so the cache holds only recently
 * used sessions, and from the rate limits the buckets that are full again; every
 * DB_SWEEP_SECONDS (and at start) it deletes expired wx_session rows and the login log's rows
 * older than oa.auth.login-log-days.
 */

#define CACHE_SWEEP_SECONDS 30
#define DB_SWEEP_SECONDS    600

struct app_sweeper {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    store_t *store; /* its own connection: the sweep never waits behind requests */
    session_cache_t *cache;
    int cache_seconds;
    int login_log_days;
    shared_limit_t *const *limits; /* APP_LIMITS of them, app_t's */
};

static void sweep_database(struct app_sweeper *sweeper)
{
    long deleted = 0;
    if (store_session_purge(sweeper->store, time(NULL), &deleted) != STORE_OK)
        log_warn("expired sessions not deleted: %s", store_last_error(sweeper->store));
    else if (deleted > 0)
        log_info("deleted %ld expired sessions", deleted);
    int64_t before = time(NULL) - (int64_t)sweeper->login_log_days * 86400;
    if (store_login_log_purge(sweeper->store, before, &deleted) != STORE_OK)
        log_warn("old login log rows not deleted: %s", store_last_error(sweeper->store));
    else if (deleted > 0)
        log_info("deleted %ld login log rows older than %d days", deleted, sweeper->login_log_days);
}

static void *sweeper_main(void *arg)
{
    struct app_sweeper *sweeper = arg;
    log_set_thread_name("sweeper");
    int64_t next_db_sweep = 0;
    pthread_mutex_lock(&sweeper->lock);
    while (!sweeper->stopping) {
        pthread_mutex_unlock(&sweeper->lock);
        int64_t now = time(NULL);
        long dropped = session_cache_sweep(sweeper->cache, now, sweeper->cache_seconds);
        if (dropped > 0)
            log_debug("session cache: %ld idle or expired entries dropped", dropped);
        for (int i = 0; i < APP_LIMITS; i++)
            rate_limit_sweep(shared_limit_local(sweeper->limits[i]), clock_monotonic_ms());
        if (now >= next_db_sweep) {
            sweep_database(sweeper);
            next_db_sweep = now + DB_SWEEP_SECONDS;
        }
        pthread_mutex_lock(&sweeper->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CACHE_SWEEP_SECONDS;
        while (!sweeper->stopping && pthread_cond_timedwait(&sweeper->wake, &sweeper->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&sweeper->lock);
    return NULL;
}

static struct app_sweeper *sweeper_start(const config_t *config, session_cache_t *cache, shared_limit_t *const *limits,
                                         char *err, size_t err_size)
{
    struct app_sweeper *sweeper = calloc(1, sizeof(*sweeper));
    if (sweeper == NULL || (sweeper->store = store_open(config->datasource_url, err, err_size)) == NULL) {
        free(sweeper);
        return NULL;
    }
    sweeper->cache = cache;
    sweeper->cache_seconds = config->token_cache_seconds;
    sweeper->login_log_days = config->login_log_days;
    sweeper->limits = limits;
    pthread_mutex_init(&sweeper->lock, NULL);
    pthread_cond_init(&sweeper->wake, NULL);
    if (pthread_create(&sweeper->tid, NULL, sweeper_main, sweeper) != 0) {
        store_close(sweeper->store);
        free(sweeper);
        snprintf(err, err_size, "cannot start the session sweeper thread");
        return NULL;
    }
    return sweeper;
}

static void sweeper_stop(struct app_sweeper *sweeper)
{
    if (sweeper == NULL)
        return;
    pthread_mutex_lock(&sweeper->lock);
    sweeper->stopping = true;
    pthread_cond_signal(&sweeper->wake);
    pthread_mutex_unlock(&sweeper->lock);
    pthread_join(sweeper->tid, NULL);
    store_close(sweeper->store);
    pthread_mutex_destroy(&sweeper->lock);
    pthread_cond_destroy(&sweeper->wake);
    free(sweeper);
}

/* ---- Redis (oa.redis.url): the subscriber's callbacks ---- */

static void on_bus_message(void *ctx, const char *payload, size_t len)
{
    app_t *app = ctx;
    if (!session_bus_apply(app->sessions, app->redis_origin, payload, len))
        log_debug("redis: a message on %s that is not a session end ignored", SESSION_BUS_CHANNEL);
}

/* What was published while this instance was not listening is unknown: forget every cached
 * session, each is read again at its next use. */
static void on_bus_subscribed(void *ctx, bool again)
{
    app_t *app = ctx;
    long dropped = session_cache_sweep(app->sessions, time(NULL), 0);
    if (again || dropped > 0)
        log_info("redis: listening for session ends again; %ld cached sessions dropped", dropped);
}

static int redis_start(app_t *app, const config_t *config, char *err, size_t err_size)
{
    uint8_t origin[8];
    if (config->redis_url == NULL)
        return 0;
    redis_url_t url;
    if (!crypto_random(origin, sizeof origin)) {
        snprintf(err, err_size, "no randomness for the redis origin id");
        return -1;
    }
    if (!redis_url_parse(config->redis_url, &url, err, err_size))
        return -1; /* checked by config_load already */
    crypto_hex(origin, sizeof origin, app->redis_origin);
    redis_client_config_t rc = {
        .url = &url,
        .timeout_ms = config->redis_timeout_ms,
        .channel = SESSION_BUS_CHANNEL,
        .on_message = on_bus_message,
        .on_subscribed = on_bus_subscribed,
        .ctx = app,
    };
    app->redis = redis_client_start(&rc, err, err_size);
    redis_url_wipe(&url);
    return app->redis != NULL ? 0 : -1;
}

/* ---- the rate limits ---- */

static const char *const LIMIT_NAMES[APP_LIMITS] = {
    [APP_LIMIT_LOGIN_IP] = "login-ip",   [APP_LIMIT_LOGIN_OPENID] = "login-openid",
    [APP_LIMIT_PHONE_IP] = "phone-ip",   [APP_LIMIT_PHONE_OPENID] = "phone-openid",
    [APP_LIMIT_UPLOAD_IP] = "upload-ip", [APP_LIMIT_UPLOAD_OPENID] = "upload-openid",
};

static bool limits_start(app_t *app, const config_t *config)
{
    const int per_minute[APP_LIMITS] = {
        [APP_LIMIT_LOGIN_IP] = config->rate_login_ip,   [APP_LIMIT_LOGIN_OPENID] = config->rate_login_openid,
        [APP_LIMIT_PHONE_IP] = config->rate_phone_ip,   [APP_LIMIT_PHONE_OPENID] = config->rate_phone_openid,
        [APP_LIMIT_UPLOAD_IP] = config->rate_upload_ip, [APP_LIMIT_UPLOAD_OPENID] = config->rate_upload_openid,
    };
    uint8_t key_key[32];
    shared_limit_derive_key(config->data_key, key_key);
    for (int i = 0; i < APP_LIMITS; i++)
        if ((app->limits[i] = shared_limit_new(LIMIT_NAMES[i], (unsigned)per_minute[i], app->redis, key_key)) == NULL)
            break;
    explicit_bzero(key_key, sizeof key_key);
    if (app->limits[APP_LIMITS - 1] == NULL)
        return false;
    log_info("rate limits per minute, per IP/per user (0 = off): login %d/%d, bindPhone %d/%d, upload %d/%d%s; "
             "trusted proxy entries: %zu",
             per_minute[APP_LIMIT_LOGIN_IP], per_minute[APP_LIMIT_LOGIN_OPENID], per_minute[APP_LIMIT_PHONE_IP],
             per_minute[APP_LIMIT_PHONE_OPENID], per_minute[APP_LIMIT_UPLOAD_IP], per_minute[APP_LIMIT_UPLOAD_OPENID],
             app->redis != NULL ? ", shared through Redis" : "", config->trusted_proxies.n);
    return true;
}

static void limits_stop(app_t *app)
{
    for (int i = 0; i < APP_LIMITS; i++) {
        shared_limit_free(app->limits[i]);
        app->limits[i] = NULL;
    }
}

wx_client_config_t app_wx_config(const config_t *config)
{
    return (wx_client_config_t){
        .api_base = config->wx_api_base,
        .app_id = config->wx_app_id,
        .app_secret = config->wx_app_secret,
        .ca_file = config->wx_ca_file,
        .timeout_ms = config->wx_timeout_ms,
        .use_stable_token = strcmp(config->wx_token_api, "stable") == 0,
    };
}

int app_migrate(const config_t *config, int *from, int *to, char *err, size_t err_size)
{
    store_t *store = store_open(config->datasource_url, err, err_size);
    if (store == NULL)
        return -1;
    int rc = 0;
    if (store_migrate(store, from, to) != STORE_OK) {
        snprintf(err, err_size, "oa.datasource.url: %s", store_last_error(store));
        rc = -1;
    }
    store_close(store);
    return rc;
}

int app_start(app_t *app, const config_t *config, char *err, size_t err_size)
{
    memset(app, 0, sizeof(*app));
    app->config = config;
    app->token_key_count = token_derive_keys(config, app->token_keys);
    for (size_t i = 0; config->token_header[i] != '\0' && i + 1 < sizeof(app->token_header); i++)
        app->token_header[i] = (char)tolower((unsigned char)config->token_header[i]);
    app->token_header_len = strlen(app->token_header);

    int from, to;
    if (app_migrate(config, &from, &to, err, err_size) != 0)
        return -1;
    if (from != to)
        log_info("database schema migrated from version %d to %d", from, to);
    else
        log_info("database schema at version %d", to);

    wx_client_config_t wx = app_wx_config(config);
    int threads = config->threads > 0 ? config->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if ((app->sessions = session_cache_new()) == NULL || (app->flights = login_flights_new()) == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    if ((app->db = db_pool_start(config->datasource_url, config->db_pool_size, err, err_size)) == NULL)
        goto fail;
    if ((app->wx = wx_client_start(&wx, err, err_size)) == NULL)
        goto fail;
    if (redis_start(app, config, err, err_size) != 0)
        goto fail;
    if (!limits_start(app, config)) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    if ((app->sweeper = sweeper_start(config, app->sessions, app->limits, err, err_size)) == NULL)
        goto fail;
    if (!routes_collect(app, config)) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    if (modules_start(app, err, err_size) != 0)
        goto fail;
    http_server_config_t http = {
        .host = config->host,
        .port = config->port,
        .threads = threads,
        .max_body_bytes = config->max_body_bytes,
        .max_connections = config->max_connections,
        .request_timeout_ms = config->request_timeout_ms,
        .idle_timeout_ms = config->idle_timeout_ms,
        .routes = app->routes,
        .nroutes = app->nroutes,
        .app = app,
    };
    if ((app->http = http_server_start(&http, err, err_size)) == NULL)
        goto fail;
    return 0;

fail:
    modules_stop(app);
    free(app->routes);
    sweeper_stop(app->sweeper);
    if (app->wx != NULL)
        wx_client_stop(app->wx);
    if (app->db != NULL)
        db_pool_stop(app->db);
    redis_client_stop(app->redis);
    modules_release(app);
    session_cache_free(app->sessions);
    login_flights_free(app->flights);
    limits_stop(app);
    memset(app, 0, sizeof(*app));
    return -1;
}

void app_stop(app_t *app, int grace_ms)
{
    /* HTTP first: no new work; requests in flight finish within grace_ms. The WeChat
     * client and the database pool deliver what is still queued before they stop. */
    http_server_stop(app->http, grace_ms);
    modules_stop(app);
    free(app->routes);
    app->routes = NULL;
    sweeper_stop(app->sweeper);
    wx_client_stop(app->wx);
    db_pool_stop(app->db);
    redis_client_stop(app->redis); /* before the cache its subscriber writes to is freed */
    app->redis = NULL;
    modules_release(app); /* the workers have stopped: nothing reads the modules' caches now */
    session_cache_free(app->sessions);
    login_flights_free(app->flights);
    limits_stop(app);
    explicit_bzero(app->token_keys, sizeof(app->token_keys));
}
