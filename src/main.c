/*
 * meetoa — the command line: serve, migrate, user administration, --help, --version.
 *
 * `serve` blocks SIGTERM, SIGINT and SIGHUP in every thread and waits for them here with
 * sigwait(): SIGTERM/SIGINT stop gracefully (requests in flight get 5 s); SIGHUP is
 * logged and ignored (logs go to stderr; the supervisor owns the file).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "common/log.h"
#include "config/config.h"
#include "store/store.h"

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
    return 0;
}

static int cmd_serve(const char *path)
{
    config_t config;
    if (load_config(&config, path) != 0)
        return 1;

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
        config_free(&config);
        return 1;
    }
    log_info("meetoa %s ready (database: %s)", MEETOA_VERSION,
             strncmp(config.datasource_url, "sqlite:", 7) == 0 ? "sqlite" : "mysql");
    for (;;) {
        int sig = 0;
        sigwait(&signals, &sig);
        if (sig == SIGHUP) {
            log_info("SIGHUP: nothing to reopen (logs go to stderr)");
            continue;
        }
        log_info("signal %d: stopping (up to %d ms for requests in flight)", sig, GRACE_MS);
        break;
    }
    app_stop(&app, GRACE_MS);
    log_info("stopped");
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

static int cmd_user(const char *path, int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[0], "status") != 0 || strlen(argv[2]) != 1 || argv[2][0] < '0' || argv[2][0] > '2') {
        fprintf(stderr, "meetoa: usage: meetoa user status OPENID 0|1|2\n");
        return 2;
    }
    config_t config;
    if (load_config(&config, path) != 0)
        return 1;
    char err[512];
    int rc = 1;
    store_t *store = store_open(config.datasource_url, err, sizeof(err));
    if (store == NULL) {
        fprintf(stderr, "meetoa: %s\n", err);
    } else if (store_migrate(store, NULL, NULL) != STORE_OK) {
        fprintf(stderr, "meetoa: %s\n", store_last_error(store));
    } else {
        store_rc src = store_user_set_status(store, argv[1], argv[2][0] - '0', time(NULL));
        if (src == STORE_OK) {
            printf("user %s: status %s\n", argv[1], argv[2]);
            rc = 0;
        } else if (src == STORE_NOT_FOUND) {
            fprintf(stderr, "meetoa: no user with openid %s\n", argv[1]);
        } else {
            fprintf(stderr, "meetoa: %s\n", store_last_error(store));
        }
    }
    if (store != NULL)
        store_close(store);
    config_free(&config);
    return rc;
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
    fprintf(stderr, "meetoa: unknown command or arguments: %s\n", command);
    usage(stderr);
    return 2;
}
