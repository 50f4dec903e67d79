/*
 * meetoa — the command line: serve, migrate, user administration, --help, --version.
 *
 * `serve` blocks SIGTERM, SIGINT and SIGHUP in every thread and waits for them here with
 * sigwait(): SIGTERM/SIGINT stop gracefully (requests in flight get 5 s); SIGHUP reopens
 * the log file of logging.file.name (after logrotate moved it; see log.h), or is logged
 * and ignored when the logs go to stderr (the supervisor owns that file).
 *
 * With a log file, or a logging.level of error or warn, the "listening on http://HOST:PORT"
 * line is written to stderr as well (scripts and the test harness read the port from there);
 * everything else goes to the file, or under the level. Errors that stop the start-up are printed on stderr either way.
 *
 * SIGXFSZ is ignored by every command: a write past RLIMIT_FSIZE (a file size quota, a
 * full disk emulated with prlimit) then fails with EFBIG, which SQLite reports as an
 * I/O error the request answers with 502, instead of the signal killing the server.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "common/log.h"
#include "common/text.h"
#include "runtime/loop_msg.h"
#include "wechat/wx_client.h"
#include "config/config.h"
#include "store/store.h"
#include "store/store_org.h"
#include "auth/account_api.h"
#include "auth/session_bus.h"
#include "redis/redis_client.h"

#define GRACE_MS 5000

static void usage(FILE *out)
{
    fputs("Usage: meetoa COMMAND [--config FILE]\n"
          "\n"
          "The login backend of the MeetOA mini program (wx.login code -> user -> token).\n"
          "\n"
          "Commands:\n"
          "  serve                      run the HTTP server (migrates the database first)\n"
          "  migrate                    apply database migrations and exit\n"
          "  user status OPENID N       set a user's status: 0 active, 1 disabled, 2 closed\n"
          "  user role OPENID ROLE      make a user a member of the organization as admin or member\n"
          "                             (how the first admin is made; they must have logged in once)\n"
          "  user delete OPENID         close a user's account (注销) as the user can in the mini program:\n"
          "                             personal data erased, sessions ended, a tombstone left\n"
          "  wx-token                   check that WeChat gives this app an access_token (never printed)\n"
          "  check-config               validate the configuration and print what would be used\n"
          "                             (every key, its value and where it came from; secrets masked)\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE          application.yml (Spring Boot keys; see README)\n"
          "  -h, --help                 this text\n"
          "  -V, --version              the version\n"
          "\n"
          "Every setting can come from the environment instead (SERVER_PORT, OA_WX_APP_SECRET, ...).\n",
          out);
}

static int load_config(config_t *config, const char *path)
{
    char err[512];
    if (config_load(config, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "meetoa: %s\n", err);
        return -1;
    }
    int level = log_level_parse(config->log_level);
    log_set_level(level >= 0 ? (log_level_t)level : LOG_INFO);
    log_set_format(log_format_parse(config->log_format) == LOG_FORMAT_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
    /* The organization's local time (oa.time-zone): every time the API and wx_user show. Set
     * before any thread starts, so the C library's localtime_r/mktime read it race-free. */
    setenv("TZ", config->time_zone, 1);
    tzset();
    return 0;
}

/* Sends the log lines to logging.file.name, when set. -1 (and a line on stderr) on failure. */
static int open_log_file(const config_t *config)
{
    char err[PATH_MAX + 128];
    if (config->log_file == NULL)
        return 0;
    if (log_open_file(config->log_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "meetoa: logging.file.name: %s\n", err);
        return -1;
    }
    return 0;
}

/* SIGHUP: reopens the log file (logrotate renamed it), or says there is nothing to reopen. */
static void reopen_logs(void)
{
    char err[PATH_MAX + 128];
    int rc = log_reopen(err, sizeof(err));
    if (rc > 0)
        log_info("SIGHUP: nothing to reopen (logs go to stderr)");
    else if (rc == 0)
        log_info("SIGHUP: log file reopened");
    else
        log_error("SIGHUP: %s; still logging to the file that was open", err);
}

/* The port always reaches stderr, where scripts read it: the info line of http/server does
 * not when lines go to a file or the level is error or warn. */
static void announce_port(const config_t *config, const app_t *app)
{
    if (config->log_file == NULL && log_get_level() >= LOG_INFO)
        return;
    const char *host = config->host;
    bool v6 = strchr(host, ':') != NULL;
    if (config->log_file == NULL && strcmp(config->log_format, "json") == 0) { /* stderr holds JSON only */
        log_write_always(LOG_INFO, "listening on http://%s%s%s:%d (log lines at level %s)", v6 ? "[" : "", host,
                         v6 ? "]" : "", http_server_port(app->http), config->log_level);
        return;
    }
    fprintf(stderr, "meetoa: listening on http://%s%s%s:%d (log lines %s%s)\n", v6 ? "[" : "", host, v6 ? "]" : "",
            http_server_port(app->http), config->log_file != NULL ? "go to " : "at level ",
            config->log_file != NULL ? config->log_file : config->log_level);
    fflush(stderr);
}

static int cmd_serve(const char *path)
{
    config_t config;
    if (load_config(&config, path) != 0)
        return 1;
    if (open_log_file(&config) != 0) {
        config_free(&config);
        return 1;
    }

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);

    app_t app;
    char err[512];
    if (app_start(&app, &config, err, sizeof(err)) != 0) {
        fprintf(stderr, "meetoa: %s\n", err);
        log_close_file();
        config_free(&config);
        return 1;
    }
    log_info("meetoa %s ready (database: %s)", MEETOA_VERSION,
             strncmp(config.datasource_url, "sqlite:", 7) == 0 ? "sqlite" : "mysql");
    announce_port(&config, &app);
    for (;;) {
        int sig = 0;
        sigwait(&signals, &sig);
        if (sig == SIGHUP) {
            reopen_logs();
            continue;
        }
        log_info("signal %d: stopping (up to %d ms for requests in flight)", sig, GRACE_MS);
        break;
    }
    app_stop(&app, GRACE_MS);
    log_flush_suppressed(); /* counts of the last second, before the last line */
    log_info("stopped");
    log_close_file();
    config_free(&config);
    return 0;
}

static int cmd_migrate(const char *path)
{
    config_t config;
    if (load_config(&config, path) != 0)
        return 1;
    char err[512];
    int from = 0, to = 0;
    int rc = app_migrate(&config, &from, &to, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "meetoa: %s\n", err);
    else if (from == to)
        printf("database schema is up to date (version %d)\n", to);
    else
        printf("database schema migrated from version %d to %d\n", from, to);
    config_free(&config);
    return rc == 0 ? 0 : 1;
}

static store_rc print_hosted(const store_hosted_meeting_t *m, void *ctx)
{
    (void)ctx;
    char start[TEXT_SQLTIME_SIZE];
    text_sqltime(m->start_at, start);
    fprintf(stderr, "  meeting %lld at %s: %s\n", (long long)m->id, start, m->title);
    return STORE_OK;
}

/* With oa.redis.url, tells every instance to forget user_id's cached sessions and profile now
 * (auth/session_bus.h); returns how soon the instances see the change, for the message. */
static const char *publish_user_ended(const config_t *config, int64_t user_id)
{
    static const char *const later = "within oa.token.cache-seconds";
    if (config->redis_url == NULL)
        return later;
    redis_url_t url;
    char err[300], msg[SESSION_BUS_MSG_SIZE];
    size_t len = session_bus_format_user(user_id, "cli", msg);
    int rc = redis_url_parse(config->redis_url, &url, err, sizeof err)
                 ? redis_publish_once(&url, config->redis_timeout_ms, SESSION_BUS_CHANNEL, msg, len, err, sizeof err)
                 : -1;
    redis_url_wipe(&url);
    if (rc == 0)
        return "at once (published through Redis)";
    fprintf(stderr, "meetoa: warning: not published: %s\n", err);
    return later;
}

/* meetoa user delete OPENID: account_close, as POST /wx/auth/delete_account does. */
static int user_delete(store_t *store, const config_t *config, const char *openid)
{
    store_user_t user;
    store_refusal_t why = STORE_REFUSED_NOT;
    store_rc src = store_user_get_by_openid(store, openid, &user);
    if (src == STORE_OK && user.status == STORE_USER_CLOSED)
        src = STORE_NOT_FOUND;
    if (src == STORE_OK)
        src = account_close(store, config, user.id, time(NULL), print_hosted, NULL, &why);
    if (src == STORE_NOT_FOUND) {
        fprintf(stderr, "meetoa: no open account with openid %s\n", openid);
        return 1;
    }
    if (src != STORE_OK) {
        fprintf(stderr, "meetoa: %s\n", store_last_error(store));
        return 1;
    }
    if (why == STORE_REFUSED_STATE) {
        fprintf(stderr, "meetoa: user %s hosts the meetings above: hand them over or cancel them first\n", openid);
        return 1;
    }
    if (why == STORE_REFUSED_LAST_ADMIN) {
        fprintf(stderr, "meetoa: user %s is the last admin: make another admin first\n", openid);
        return 1;
    }
    const char *when = publish_user_ended(config, user.id);
    printf("user %s: account closed (user %lld is a tombstone; the instances refuse its tokens %s)\n", openid,
           (long long)user.id, when);
    return 0;
}

/* meetoa user status OPENID N | meetoa user role OPENID admin|member | meetoa user delete OPENID */
static int user_command(store_t *store, const config_t *config, char **argv)
{
    if (strcmp(argv[0], "delete") == 0)
        return user_delete(store, config, argv[1]);
    if (strcmp(argv[0], "status") == 0) {
        store_rc src = store_user_set_status(store, argv[1], argv[2][0] - '0', time(NULL));
        store_user_t user;
        if (src == STORE_OK && store_user_get_by_openid(store, argv[1], &user) == STORE_OK) {
            const char *when = publish_user_ended(config, user.id);
            printf("user %s: status %s (the instances see it %s)\n", argv[1], argv[2], when);
            return 0;
        }
        if (src == STORE_NOT_FOUND)
            fprintf(stderr, "meetoa: no user with openid %s\n", argv[1]);
        else
            fprintf(stderr, "meetoa: %s\n", store_last_error(store));
        return 1;
    }
    store_user_t user;
    store_rc src = store_user_get_by_openid(store, argv[1], &user);
    if (src == STORE_NOT_FOUND) {
        fprintf(stderr, "meetoa: no user with openid %s (they must log in once first)\n", argv[1]);
        return 1;
    }
    char name[STORE_MEMBER_NAME_SIZE];
    const char *nick = user.nickname[0] != '\0' ? user.nickname : "管理员";
    snprintf(name, sizeof name, "%.*s", (int)text_utf8_prefix(nick, 20), nick);
    int role = strcmp(argv[2], "admin") == 0 ? STORE_ROLE_ADMIN : STORE_ROLE_MEMBER;
    if (src == STORE_OK)
        src = store_member_grant(store, user.id, role, name, time(NULL));
    if (src != STORE_OK) {
        fprintf(stderr, "meetoa: %s\n", store_last_error(store));
        return 1;
    }
    printf("user %s: %s of the organization\n", argv[1], argv[2]);
    return 0;
}

static int cmd_user(const char *path, int argc, char **argv)
{
    bool status_ok =
        argc == 3 && strcmp(argv[0], "status") == 0 && strlen(argv[2]) == 1 && argv[2][0] >= '0' && argv[2][0] <= '2';
    bool role_ok =
        argc == 3 && strcmp(argv[0], "role") == 0 && (strcmp(argv[2], "admin") == 0 || strcmp(argv[2], "member") == 0);
    bool delete_ok = argc == 2 && strcmp(argv[0], "delete") == 0;
    if (!status_ok && !role_ok && !delete_ok) {
        fprintf(stderr, "meetoa: usage: meetoa user status OPENID 0|1|2 | meetoa user role OPENID admin|member"
                        " | meetoa user delete OPENID\n");
        return 2;
    }
    config_t config;
    if (load_config(&config, path) != 0)
        return 1;
    char err[512];
    int rc = 1;
    store_t *store = store_open(config.datasource_url, err, sizeof(err));
    if (store == NULL)
        fprintf(stderr, "meetoa: %s\n", err);
    else if (store_migrate(store, NULL, NULL) != STORE_OK)
        fprintf(stderr, "meetoa: %s\n", store_last_error(store));
    else
        rc = user_command(store, &config, argv);
    if (store != NULL)
        store_close(store);
    config_free(&config);
    return rc;
}

static volatile int probe_done;

static void on_probe(loop_msg_t *msg)
{
    probe_done = 1;
}

/* meetoa wx-token: fetches the access_token the way the server would and prints its state. */
static int cmd_wx_token(const char *path)
{
    config_t config;
    if (load_config(&config, path) != 0)
        return 1;
    char err[512];
    wx_client_config_t wx_config = app_wx_config(&config);
    wx_client_t *wx = wx_client_start(&wx_config, err, sizeof(err));
    if (wx == NULL) {
        fprintf(stderr, "meetoa: %s\n", err);
        config_free(&config);
        return 1;
    }
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_multithread_queue_t *queue = h2o_multithread_create_queue(loop);
    h2o_multithread_receiver_t receiver;
    loop_msg_register(queue, &receiver);
    wx_token_probe_req_t probe = {0};
    loop_msg_init(&probe.msg, &receiver, on_probe);
    wx_probe_token(wx, &probe);
    while (!probe_done)
        h2o_evloop_run(loop, 100);

    wx_token_status_t status;
    wx_client_token_status(wx, &status);
    int rc = 0;
    if (probe.outcome == WX_OK) {
        char expires[TEXT_ISO8601_SIZE];
        text_iso8601(status.expires_at, expires);
        printf("access_token: ok via %s, expires %s (in %lld s)\n", status.api, expires,
               (long long)(status.expires_at - time(NULL)));
    } else {
        const wx_error_t *error = wx_error_lookup_api(WX_API_TOKEN, probe.outcome, probe.errcode);
        printf("access_token: FAILED via %s: outcome %d, errcode %ld, http %d: %s\n", status.api, (int)probe.outcome,
               probe.errcode, probe.http_status, error->errmsg);
        rc = 1;
    }
    wx_client_stop(wx);
    h2o_multithread_unregister_receiver(queue, &receiver);
    h2o_multithread_destroy_queue(queue);
    h2o_evloop_destroy(loop);
    config_free(&config);
    return rc;
}

/* meetoa check-config: the configuration validated and printed (config_print), exit 0, or its error, exit 1. */
static int cmd_check_config(const char *path)
{
    char err[512];
    if (config_print(path, stdout, err, sizeof(err)) != 0) {
        fprintf(stderr, "meetoa: %s\n", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int c;
    log_set_thread_name("main");
    signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of death past RLIMIT_FSIZE */
    /* GNU getopt permutes: options may stand before or after the command. */
    while ((c = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("meetoa %s\n", MEETOA_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *command = argv[optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    if (strcmp(command, "serve") == 0 && nargs == 0)
        return cmd_serve(config_path);
    if (strcmp(command, "migrate") == 0 && nargs == 0)
        return cmd_migrate(config_path);
    if (strcmp(command, "user") == 0)
        return cmd_user(config_path, nargs, args);
    if (strcmp(command, "wx-token") == 0 && nargs == 0)
        return cmd_wx_token(config_path);
    if (strcmp(command, "check-config") == 0 && nargs == 0)
        return cmd_check_config(config_path);
    fprintf(stderr, "meetoa: unknown command or arguments: %s\n", command);
    usage(stderr);
    return 2;
}
