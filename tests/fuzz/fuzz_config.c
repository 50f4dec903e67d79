/*
 * fuzz_config — libFuzzer target for config/config.c (config_load), the reader of
 * application.yml (libyaml underneath). config_load takes a path, so each input is written to
 * one temporary file (made in LLVMFuzzerInitialize, removed at exit). The OA_* / SERVER_* /
 * LOGGING_* environment is cleared first so only the file matters. On failure the error line
 * must be NUL-terminated and non-empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

extern char **environ;

static char fuzz_path[64];
static int fuzz_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_cleanup(void)
{
    if (fuzz_fd >= 0)
        unlink(fuzz_path);
}

static void fuzz_clear_env(void)
{
    static const char *prefixes[] = {"OA_", "SERVER_", "LOGGING_"};
    for (size_t again = 1; again;) {
        again = 0;
        for (char **e = environ; *e != NULL && !again; e++)
            for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (strncmp(*e, prefixes[i], strlen(prefixes[i])) == 0) {
                    char name[256];
                    size_t n = strcspn(*e, "=");
                    if (n >= sizeof(name))
                        abort();
                    memcpy(name, *e, n);
                    name[n] = '\0';
                    unsetenv(name);
                    again = 1;
                    break;
                }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_clear_env();
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_path, sizeof(fuzz_path), "%s/meetoa-fuzz-config-XXXXXX",
             tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
    fuzz_fd = mkstemp(fuzz_path);
    if (fuzz_fd < 0)
        abort();
    atexit(fuzz_cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(fuzz_fd, 0) != 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
        abort();
    config_t cfg;
    char err[512];
    memset(err, 0x5a, sizeof(err));
    if (config_load(&cfg, fuzz_path, err, sizeof(err)) == 0) {
        if (cfg.host == NULL || cfg.wx_app_id == NULL || cfg.wx_app_secret == NULL || cfg.port < 0 || cfg.port > 65535)
            abort();
        config_free(&cfg);
    } else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') {
        abort();
    }
    return 0;
}
