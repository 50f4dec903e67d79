/*
 * test_log — log.h seen from outside: lines are sent to a pipe or a temporary file and
 * read back, then checked for the documented format, the level threshold, thread names,
 * the safe cut of long messages, one-event-one-line, and that lines of concurrent
 * threads never interleave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    int rd, wr;
} pipe_t;

static int setup_pipe(void **state)
{
    pipe_t *p = calloc(1, sizeof(*p));
    int fds[2];
    if (p == NULL || pipe(fds) != 0)
        return -1;
    p->rd = fds[0];
    p->wr = fds[1];
    fcntl(p->rd, F_SETFL, O_NONBLOCK);
    log_set_fd(p->wr);
    log_set_level(LOG_INFO);
    log_set_thread_name("main");
    *state = p;
    return 0;
}

static int teardown_pipe(void **state)
{
    pipe_t *p = *state;
    log_set_fd(2);
    log_set_level(LOG_INFO);
    close(p->rd);
    close(p->wr);
    free(p);
    return 0;
}

/* Everything written to the pipe so far, NUL-terminated (up to cap-1 bytes). */
static size_t drain(pipe_t *p, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(p->rd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", text, pattern);
}

static void test_level_parse(void **state)
{
    static const struct {
        const char *name;
        int want;
    } cases[] = {
        {"error", LOG_ERROR},
        {"ERROR", LOG_ERROR},
        {"warn", LOG_WARN},
        {"Warn", LOG_WARN},
        {"info", LOG_INFO},
        {"INFO", LOG_INFO},
        {"debug", LOG_DEBUG},
        {"DeBuG", LOG_DEBUG},
        {"warning", -1},
        {"trace", -1},
        {"", -1},
        {"info ", -1},
        {"inf", -1},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        if (log_level_parse(cases[i].name) != cases[i].want)
            fail_msg("log_level_parse(\"%s\") != %d", cases[i].name, cases[i].want);
    }
    assert_int_equal(log_level_parse(NULL), -1);
}

static void test_line_format(void **state)
{
    char buf[4096];
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    errno = EAGAIN;
    log_info("hello %d %s", 42, "world");
    assert_int_equal(errno, EAGAIN); /* errno survives */
    drain(*state, buf, sizeof(buf));
    assert_matches(buf, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\+08:00 INFO \\[main\\] "
                        "hello 42 world\n$");
    /* The timestamp is now: its date is today's in the same zone (taken again if midnight passed). */
    char today[11];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    if (memcmp(buf, today, 10) != 0) {
        t -= 2;
        localtime_r(&t, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    }
    assert_memory_equal(buf, today, 10);

    log_error("e");
    log_warn("w");
    drain(*state, buf, sizeof(buf));
    assert_matches(buf, "^[^\n]* ERROR \\[main\\] e\n[^\n]* WARN \\[main\\] w\n$");
}

static void test_threshold(void **state)
{
    char buf[4096];
    assert_int_equal(log_get_level(), LOG_INFO);
    log_debug("hidden");
    log_info("shown");
    drain(*state, buf, sizeof(buf));
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, "INFO [main] shown\n"));

    log_set_level(LOG_DEBUG);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_debug("now shown");
    drain(*state, buf, sizeof(buf));
    assert_non_null(strstr(buf, " DEBUG [main] now shown\n"));

    log_set_level(LOG_ERROR);
    log_warn("w");
    log_info("i");
    log_error("only this");
    drain(*state, buf, sizeof(buf));
    assert_null(strstr(buf, "WARN"));
    assert_null(strstr(buf, "INFO"));
    assert_non_null(strstr(buf, " ERROR [main] only this\n"));

    log_set_level((log_level_t)7); /* out of range: ignored */
    assert_int_equal(log_get_level(), LOG_ERROR);
}

static void *named_thread(void *arg)
{
    log_set_thread_name(arg);
    log_info("from thread");
    return NULL;
}

static void *unnamed_thread(void *arg)
{
    log_info("anonymous");
    return NULL;
}

static void test_thread_names(void **state)
{
    char buf[4096];
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, named_thread, "db-1"), 0);
    pthread_join(th, NULL);
    drain(*state, buf, sizeof(buf));
    assert_non_null(strstr(buf, " INFO [db-1] from thread\n"));

    /* The name is per thread: ours is still "main". */
    log_info("back");
    drain(*state, buf, sizeof(buf));
    assert_non_null(strstr(buf, " INFO [main] back\n"));

    /* A thread that never named itself is shown by its id. */
    assert_int_equal(pthread_create(&th, NULL, unnamed_thread, NULL), 0);
    pthread_join(th, NULL);
    drain(*state, buf, sizeof(buf));
    assert_matches(buf, " INFO \\[tid-[0-9]+\\] anonymous\n$");

    /* Long names are cut, and copied (the caller's buffer may change). */
    char name[64];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    log_set_thread_name(name);
    name[0] = 'X';
    log_info("x");
    drain(*state, buf, sizeof(buf));
    assert_matches(buf, " INFO \\[n{1,15}\\] x\n$");
    log_set_thread_name("main");
}

static void test_long_line_cut(void **state)
{
    static char big[10000];
    char buf[16384];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_info("start %s", big);
    size_t len = drain(*state, buf, sizeof(buf));
    assert_true(len > 1000);
    assert_true(len <= 4096);             /* fits one atomic pipe write */
    assert_int_equal(buf[len - 1], '\n'); /* still a whole line */
    assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
    assert_memory_equal(buf + len - 4, "...", 3); /* marked as cut */
    assert_non_null(strstr(buf, "[main] start aaaa"));
}

static void test_control_chars_neutralised(void **state)
{
    char buf[4096];
    log_info("user said: %s", "hi\n2026-01-01T00:00:00.000+08:00 ERROR [main] forged\r\x1b[31m");
    size_t len = drain(*state, buf, sizeof(buf));
    assert_ptr_equal(strchr(buf, '\n'), buf + len - 1); /* one event, one line */
    assert_null(strchr(buf, '\r'));
    assert_null(strchr(buf, '\x1b'));
    assert_non_null(strstr(buf, "hi 2026-01-01T00:00:00.000+08:00 ERROR [main] forged"));
    /* UTF-8 is left alone. */
    log_info("%s", "\xe4\xbc\x9a\xe8\xae\xae\xf0\x9f\x93\x85");
    drain(*state, buf, sizeof(buf));
    assert_non_null(strstr(buf, "[main] \xe4\xbc\x9a\xe8\xae\xae\xf0\x9f\x93\x85\n"));
}

/* ---- concurrency, through a temporary file -------------------------------------------- */

#define WRITERS 8
#define LINES   300

static void *busy_writer(void *arg)
{
    char name[16], payload[600];
    int id = (int)(intptr_t)arg;
    snprintf(name, sizeof(name), "w-%d", id);
    log_set_thread_name(name);
    memset(payload, 'a' + id, sizeof(payload) - 1);
    payload[sizeof(payload) - 1] = '\0';
    for (int i = 0; i < LINES; i++)
        log_info("%d %s", i, payload);
    return NULL;
}

static void test_threads_do_not_interleave(void **state)
{
    char path[] = "/tmp/meetoa-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(fcntl(fd, F_SETFL, O_APPEND), 0);
    log_set_fd(fd);

    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, busy_writer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    log_set_fd(((pipe_t *)*state)->wr);

    FILE *f = fdopen(fd, "r");
    assert_non_null(f);
    rewind(f);
    char line[2048];
    int seen[WRITERS] = {0};
    while (fgets(line, sizeof(line), f)) {
        int id = -1, n = -1;
        char *tag = strstr(line, " INFO [w-");
        assert_non_null(tag);
        assert_int_equal(sscanf(tag, " INFO [w-%d] %d ", &id, &n), 2);
        assert_true(id >= 0 && id < WRITERS);
        assert_int_equal(n, seen[id]); /* each thread's lines arrive whole and in order */
        seen[id]++;
        /* The payload is 599 copies of this thread's letter, then the newline. */
        char *payload = strchr(strchr(tag, ']') + 2, ' ') + 1;
        assert_int_equal(strspn(payload, (char[]){(char)('a' + id), 0}), 599);
        assert_string_equal(payload + 599, "\n");
    }
    fclose(f);
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(seen[i], LINES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test_setup_teardown(test_line_format, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_threshold, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_thread_names, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_long_line_cut, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_control_chars_neutralised, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_threads_do_not_interleave, setup_pipe, teardown_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
