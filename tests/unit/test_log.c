/*
 * test_log — log.h seen from outside: lines are sent to a pipe or a temporary file and
 * read back, then checked for the documented format, the level threshold, thread names,
 * the safe cut of long messages, one-event-one-line, and that lines of concurrent
 * threads never interleave. The log file (logging.file.name): appended to, created 0640
 * and close-on-exec, reopened after a rename (logrotate) without losing or splitting a
 * line of threads that keep writing, a failed reopen keeping the old file.
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

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

/* ---- the log file ------------------------------------------------------------------------ */

typedef struct {
    pipe_t pipe; /* first: the pipe helpers work on it */
    char dir[64];
    char path[128];
} file_fixture_t;

static int setup_file(void **state)
{
    if (setup_pipe(state) != 0)
        return -1;
    file_fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->pipe = *(pipe_t *)*state;
    free(*state);
    snprintf(f->dir, sizeof(f->dir), "/tmp/meetoa-test-logfile-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/meetoa.log", f->dir);
    *state = f;
    return 0;
}

static int teardown_file(void **state)
{
    file_fixture_t *f = *state;
    char cmd[128];
    log_set_fd(2); /* closes the log file */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    pipe_t *p = malloc(sizeof(*p));
    *p = f->pipe;
    free(f);
    *state = p;
    return teardown_pipe(state);
}

/* The whole file as a NUL-terminated string (caller frees); NULL when it cannot be read. */
static char *slurp(const char *path)
{
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf != NULL && (n = fread(buf + len, 1, cap - 1 - len, in)) > 0) {
        len += n;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(in);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

/* The fd of this process that is open on path (by device and inode), -1 when none. */
static int fd_on(const char *path)
{
    struct stat want, have;
    if (stat(path, &want) != 0)
        return -1;
    for (int fd = 0; fd < 1024; fd++)
        if (fstat(fd, &have) == 0 && have.st_dev == want.st_dev && have.st_ino == want.st_ino)
            return fd;
    return -1;
}

static void test_file_appends(void **state)
{
    file_fixture_t *f = *state;
    char err[256], got[8];
    FILE *old = fopen(f->path, "w");
    assert_non_null(old);
    fputs("an earlier line\n", old);
    fclose(old);
    assert_int_equal(log_open_file(f->path, err, sizeof(err)), 0);
    log_file_path(got, sizeof(got));
    assert_memory_equal(got, f->path, sizeof(got) - 1); /* cut to the buffer */
    assert_int_equal(got[sizeof(got) - 1], '\0');
    log_info("to the file");
    char *text = slurp(f->path);
    assert_non_null(text);
    assert_matches(text, "^an earlier line\n[^\n]+ INFO \\[main\\] to the file\n$");
    free(text);
    char buf[64];
    assert_int_equal(drain(&f->pipe, buf, sizeof(buf)), 0); /* nothing went to the old fd */
}

static void test_file_created_0640_cloexec(void **state)
{
    file_fixture_t *f = *state;
    char err[256];
    mode_t old_mask = umask(022);
    int rc = log_open_file(f->path, err, sizeof(err));
    umask(old_mask);
    assert_int_equal(rc, 0);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    int fd = fd_on(f->path);
    assert_true(fd > 2);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(fd, F_GETFL) & O_APPEND);
    log_close_file();
    assert_int_equal(fd_on(f->path), -1); /* closed */
    char none[8] = "x";
    log_file_path(none, sizeof(none));
    assert_string_equal(none, "");
}

static void test_file_open_failure(void **state)
{
    file_fixture_t *f = *state;
    char err[256], path[160], buf[256];
    snprintf(path, sizeof(path), "%s/no/such/dir/meetoa.log", f->dir);
    assert_int_equal(log_open_file(path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(log_open_file("", err, sizeof(err)), -1);
    log_info("still here");
    drain(&f->pipe, buf, sizeof(buf));
    assert_non_null(strstr(buf, "[main] still here\n")); /* lines keep going where they went */
}

static void test_reopen_without_file(void **state)
{
    char err[64] = "";
    assert_int_equal(log_reopen(err, sizeof(err)), 1);
}

static void test_reopen_after_rename(void **state)
{
    file_fixture_t *f = *state;
    char err[256], rotated[160];
    snprintf(rotated, sizeof(rotated), "%s.1", f->path);
    assert_int_equal(log_open_file(f->path, err, sizeof(err)), 0);
    int fd = fd_on(f->path);
    log_info("one");
    assert_int_equal(rename(f->path, rotated), 0);
    log_info("two"); /* before the reopen: still the renamed file */
    assert_int_equal(log_reopen(err, sizeof(err)), 0);
    log_info("three");
    assert_int_equal(fd_on(f->path), fd); /* same fd number, now on the new file */
    assert_int_equal(fd_on(rotated), -1); /* the old one is closed */
    char *old = slurp(rotated), *now = slurp(f->path);
    assert_non_null(old);
    assert_non_null(now);
    assert_matches(old, "^[^\n]+ \\[main\\] one\n[^\n]+ \\[main\\] two\n$");
    assert_matches(now, "^[^\n]+ \\[main\\] three\n$");
    free(old);
    free(now);
}

static void test_reopen_failure_keeps_old_file(void **state)
{
    file_fixture_t *f = *state;
    char err[256], rotated[160];
    snprintf(rotated, sizeof(rotated), "%s.1", f->path);
    assert_int_equal(log_open_file(f->path, err, sizeof(err)), 0);
    assert_int_equal(rename(f->path, rotated), 0);
    assert_int_equal(mkdir(f->path, 0700), 0); /* the path is now a folder: open fails */
    assert_int_equal(log_reopen(err, sizeof(err)), -1);
    assert_non_null(strstr(err, f->path));
    log_info("after the failed reopen");
    char *old = slurp(rotated);
    assert_non_null(old);
    assert_non_null(strstr(old, "[main] after the failed reopen\n"));
    free(old);
    rmdir(f->path);
}

#define ROTATIONS 12

typedef struct {
    int id;
    atomic_int *stop;
    int written;
} rotation_writer_t;

/* Logs numbered lines until told to stop (at least LINES of them). */
static void *rotation_writer(void *arg)
{
    rotation_writer_t *w = arg;
    char name[16], payload[600];
    snprintf(name, sizeof(name), "w-%d", w->id);
    log_set_thread_name(name);
    memset(payload, 'a' + w->id, sizeof(payload) - 1);
    payload[sizeof(payload) - 1] = '\0';
    while (w->written < LINES || !atomic_load(w->stop))
        log_info("%d %s", w->written++, payload);
    return NULL;
}

static void test_reopen_under_load(void **state)
{
    file_fixture_t *f = *state;
    char err[256], rotated[ROTATIONS][160];
    assert_int_equal(log_open_file(f->path, err, sizeof(err)), 0);

    pthread_t th[WRITERS];
    rotation_writer_t w[WRITERS];
    atomic_int stop = 0;
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (rotation_writer_t){i, &stop, 0};
        assert_int_equal(pthread_create(&th[i], NULL, rotation_writer, &w[i]), 0);
    }
    for (int r = 0; r < ROTATIONS; r++) { /* logrotate, while the writers write */
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        snprintf(rotated[r], sizeof(rotated[r]), "%s.%d", f->path, r);
        assert_int_equal(rename(f->path, rotated[r]), 0);
        assert_int_equal(log_reopen(err, sizeof(err)), 0);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);

    /* The files in rotation order, then the current one: each thread's lines, whole, in
     * order, every one of them once. */
    int seen[WRITERS] = {0}, files_written = 0;
    for (int r = 0; r <= ROTATIONS; r++) {
        char *text = slurp(r < ROTATIONS ? rotated[r] : f->path);
        assert_non_null(text);
        files_written += text[0] != '\0';
        for (char *line = text, *end; *line; line = end + 1) {
            end = strchr(line, '\n');
            assert_non_null(end); /* no line cut at the end of a file */
            *end = '\0';
            int id = -1, n = -1;
            char *tag = strstr(line, " INFO [w-");
            assert_non_null(tag);
            assert_int_equal(sscanf(tag, " INFO [w-%d] %d ", &id, &n), 2);
            assert_true(id >= 0 && id < WRITERS);
            assert_int_equal(n, seen[id]);
            seen[id]++;
            char *payload = strchr(strchr(tag, ']') + 2, ' ') + 1;
            assert_int_equal(strlen(payload), 599);
            assert_int_equal(strspn(payload, (char[]){(char)('a' + id), 0}), 599);
        }
        free(text);
    }
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(seen[i], w[i].written);
    assert_true(files_written > ROTATIONS / 2); /* the writers did write across the rotations */
}

/* ---- the limit of repeated lines, on a test clock ------------------------------------------ */

#define SECOND INT64_C(1000000000)

static _Atomic int64_t fake_now;
static _Atomic int64_t fake_step; /* added on each reading: a clock that runs with the calls */

static int64_t fake_clock(void)
{
    return atomic_fetch_add(&fake_now, atomic_load(&fake_step));
}

/* A fresh, frozen test clock well after every window seen so far, nothing pending, lines to a
 * temporary file (a flood does not fit a pipe). */
static int setup_limit(void **state)
{
    if (setup_pipe(state) != 0)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t real = (int64_t)ts.tv_sec * SECOND + ts.tv_nsec, fake = atomic_load(&fake_now);
    atomic_store(&fake_now, (real > fake ? real : fake) + 1000 * SECOND);
    atomic_store(&fake_step, 0);
    log_set_clock_for_test(fake_clock);
    log_flush_suppressed(); /* counts left by the tests before */

    char path[] = "/tmp/meetoa-test-limit-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    if (fcntl(fd, F_SETFL, O_APPEND) != 0)
        return -1;
    log_set_fd(fd);
    pipe_t *p = *state;
    close(p->rd); /* the pipe's read end is not used: the file's fd takes its place */
    p->rd = fd;
    setenv("TZ", "Asia/Shanghai", 1); /* a 29-byte timestamp */
    tzset();
    return 0;
}

static int teardown_limit(void **state)
{
    log_set_clock_for_test(NULL);
    return teardown_pipe(state); /* closes the file and the pipe's write end */
}

/* Everything logged since the last take (caller frees). */
static char *take_lines(void **state)
{
    int fd = ((pipe_t *)*state)->rd;
    off_t end = lseek(fd, 0, SEEK_END);
    char *text = malloc((size_t)end + 1);
    assert_non_null(text);
    assert_int_equal(pread(fd, text, (size_t)end, 0), end);
    text[end] = '\0';
    assert_int_equal(ftruncate(fd, 0), 0);
    return text;
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The sum of the counts of the report lines about the format fmt. */
static long reported(const char *text, const char *fmt)
{
    char tail[160];
    long sum = 0;
    snprintf(tail, sizeof(tail), " more lines like \"%s\" suppressed in the last ", fmt);
    for (const char *p = text; (p = strstr(p, tail)) != NULL; p += strlen(tail)) {
        const char *start = p;
        while (start > text && start[-1] >= '0' && start[-1] <= '9')
            start--;
        assert_true(start < p && start[-1] == ' ');
        sum += strtol(start, NULL, 10);
    }
    return sum;
}

static void burst_site(int i)
{
    log_error("limit burst %d", i);
}

static void test_limit_burst_then_count(void **state)
{
    char want[128];
    for (int i = 0; i < LOG_LIMIT_PER_SECOND + 5; i++) {
        errno = EIO;
        burst_site(i);
        assert_int_equal(errno, EIO); /* written or counted, errno survives */
    }
    char *text = take_lines(state);
    /* The first N lines, byte for byte as without the limit; nothing about the others yet. */
    const char *line = text;
    for (int i = 0; i < LOG_LIMIT_PER_SECOND; i++) {
        snprintf(want, sizeof(want), " ERROR [main] limit burst %d\n", i);
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        assert_matches(line, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[-+][0-9]{2}:[0-9]{2} ");
        assert_memory_equal(end + 1 - strlen(want), want, strlen(want));
        assert_int_equal(end + 1 - strlen(want) - line, 29); /* the timestamp, then the line */
        line = end + 1;
    }
    assert_string_equal(line, "");
    free(text);

    /* 5 s later, the same call site: first the count, then its line. */
    atomic_fetch_add(&fake_now, 5 * SECOND);
    burst_site(100);
    text = take_lines(state);
    assert_matches(text, "^[^\n]{29} ERROR \\[main\\] 5 more lines like \"limit burst %d\" suppressed in the last 5 s\n"
                         "[^\n]{29} ERROR \\[main\\] limit burst 100\n$");
    free(text);

    /* A new window: N lines again (the one above included), then counted again. */
    for (int i = 101; i < 101 + LOG_LIMIT_PER_SECOND; i++)
        burst_site(i);
    text = take_lines(state);
    assert_int_equal(count_of(text, "limit burst 1"), LOG_LIMIT_PER_SECOND - 1);
    assert_null(strstr(text, "limit burst 110"));
    assert_null(strstr(text, "suppressed"));
    free(text);
    atomic_fetch_add(&fake_now, SECOND / 2); /* the window is not over: a flush reports anyway */
    log_flush_suppressed();
    text = take_lines(state);
    assert_matches(text,
                   "^[^\n]{29} ERROR \\[main\\] 1 more lines like \"limit burst %d\" suppressed in the last 1 s\n$");
    free(text);
    log_flush_suppressed(); /* nothing left: nothing written */
    text = take_lines(state);
    assert_string_equal(text, "");
    free(text);
}

static void test_limit_sites_independent(void **state)
{
    log_set_level(LOG_DEBUG);
    for (int i = 0; i < 3 * LOG_LIMIT_PER_SECOND; i++)
        log_error("independent a %d", i);
    for (int i = 0; i < LOG_LIMIT_PER_SECOND; i++)
        log_warn("independent b %d", i);
    for (int i = 0; i < 5 * LOG_LIMIT_PER_SECOND; i++) { /* INFO and DEBUG are not limited */
        log_info("independent c %d", i);
        log_debug("independent d %d", i);
    }
    char *text = take_lines(state);
    assert_int_equal(count_of(text, " ERROR [main] independent a "), LOG_LIMIT_PER_SECOND);
    assert_int_equal(count_of(text, " WARN [main] independent b "), LOG_LIMIT_PER_SECOND);
    assert_int_equal(count_of(text, " INFO [main] independent c "), 5 * LOG_LIMIT_PER_SECOND);
    assert_int_equal(count_of(text, " DEBUG [main] independent d "), 5 * LOG_LIMIT_PER_SECOND);
    assert_null(strstr(text, "suppressed")); /* a's window is not over */
    free(text);

    /* Once a's second is over, the next line from anywhere reports it, at a's level. */
    atomic_fetch_add(&fake_now, 2 * SECOND);
    log_info("independent e");
    text = take_lines(state);
    assert_matches(text,
                   "^[^\n]{29} INFO \\[main\\] independent e\n"
                   "[^\n]{29} ERROR \\[main\\] 20 more lines like \"independent a %d\" suppressed in the last 2 s\n$");
    free(text);

    /* A long format is cut to 80 bytes in the report; its arguments never appear there. */
    for (int i = 0; i < LOG_LIMIT_PER_SECOND + 1; i++)
        log_warn("independent f: a format longer than eighty bytes, so that the report has to cut it %s", "ARG");
    log_flush_suppressed();
    text = take_lines(state);
    assert_int_equal(count_of(text, "ARG"), LOG_LIMIT_PER_SECOND);
    assert_non_null(strstr(text, " WARN [main] 1 more lines like \"independent f: a format longer than eighty "
                                 "bytes, so that the report has to c...\" suppressed in the last 1 s\n"));
    free(text);
}

#define SITES      300 /* more than the table holds */
#define SITE_LINES (LOG_LIMIT_PER_SECOND + 5)

static char site_fmts[SITES][32];

static void test_limit_collisions(void **state)
{
    for (int s = 0; s < SITES; s++)
        snprintf(site_fmts[s], sizeof(site_fmts[s]), "site %03d line %%d", s);
    for (int i = 0; i < SITE_LINES; i++) /* all at once, in the same second */
        for (int s = 0; s < SITES; s++)
            log_write(LOG_WARN, site_fmts[s], i);
    atomic_fetch_add(&fake_now, 2 * SECOND);
    log_flush_suppressed();
    char *text = take_lines(state);

    /* Every site wrote at least N lines: sites that share slots do not starve each other, and
     * those that found no slot were not limited. Each line written or counted, none lost. */
    int limited = 0, unlimited = -1;
    char prefix[32];
    for (int s = 0; s < SITES; s++) {
        snprintf(prefix, sizeof(prefix), "] site %03d line ", s);
        int written = count_of(text, prefix);
        long counted = reported(text, site_fmts[s]);
        if (written < LOG_LIMIT_PER_SECOND || written + counted != SITE_LINES)
            fail_msg("site %d: %d written, %ld counted", s, written, counted);
        if (written == LOG_LIMIT_PER_SECOND)
            limited++;
        else if (unlimited < 0)
            unlimited = s;
    }
    free(text);
    assert_true(limited >= 64);  /* the table was used... */
    assert_true(limited <= 128); /* ...it has 128 slots... */
    assert_true(unlimited >= 0); /* ...so some sites were not limited */

    /* Once the others' windows are over, a site that found no slot is limited too. */
    for (int i = 0; i < SITE_LINES; i++)
        log_write(LOG_WARN, site_fmts[unlimited], i);
    log_flush_suppressed();
    text = take_lines(state);
    snprintf(prefix, sizeof(prefix), "] site %03d line ", unlimited);
    assert_int_equal(count_of(text, prefix), LOG_LIMIT_PER_SECOND);
    assert_int_equal(reported(text, site_fmts[unlimited]), SITE_LINES - LOG_LIMIT_PER_SECOND);
    free(text);
}

#define HAMMERS      8
#define HAMMER_LINES 2000

static void *hammer(void *arg)
{
    log_set_thread_name("hammer");
    for (int i = 0; i < HAMMER_LINES; i++)
        log_error("hammered %d", i);
    return NULL;
}

static void run_hammers(void)
{
    pthread_t th[HAMMERS];
    for (int i = 0; i < HAMMERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < HAMMERS; i++)
        pthread_join(th[i], NULL);
}

static void test_limit_threads(void **state)
{
    /* A frozen clock: one window, exactly N written, every other line counted. */
    run_hammers();
    atomic_fetch_add(&fake_now, SECOND);
    log_flush_suppressed();
    char *text = take_lines(state);
    assert_int_equal(count_of(text, "] hammered "), LOG_LIMIT_PER_SECOND);
    assert_int_equal(reported(text, "hammered %d"), HAMMERS * HAMMER_LINES - LOG_LIMIT_PER_SECOND);
    free(text);

    /* A clock that runs 1 ms per reading: windows end while the threads log; written plus
     * counted is still every line, and no window wrote more than N. */
    int64_t start = atomic_load(&fake_now);
    atomic_store(&fake_step, SECOND / 1000);
    run_hammers();
    atomic_store(&fake_step, 0);
    int64_t windows = (atomic_load(&fake_now) - start) / SECOND + 1;
    log_flush_suppressed();
    text = take_lines(state);
    int written = count_of(text, "] hammered ");
    long counted = reported(text, "hammered %d");
    assert_int_equal(written + counted, HAMMERS * HAMMER_LINES);
    assert_true(written > LOG_LIMIT_PER_SECOND);
    assert_true(written <= LOG_LIMIT_PER_SECOND * windows);
    assert_true(count_of(text, " suppressed in the last ") > 1); /* reported as the windows ended */
    free(text);
}

/* ---- logging.format: json ---- */

static void test_format_parse(void **state)
{
    (void)state;
    assert_int_equal(log_format_parse("text"), LOG_FORMAT_TEXT);
    assert_int_equal(log_format_parse("JSON"), LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("Json"), LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("logfmt"), -1);
    assert_int_equal(log_format_parse(""), -1);
    assert_int_equal(log_format_parse(NULL), -1);
}

/* One line of the pipe as a JSON object with exactly the four fields; the caller decrefs it. */
static json_t *json_line(pipe_t *p, char *buf, size_t cap)
{
    size_t len = drain(p, buf, cap);
    assert_true(len > 0 && buf[len - 1] == '\n');
    assert_null(memchr(buf, '\n', len - 1)); /* one line */
    assert_true(len <= 2048);
    json_error_t error;
    json_t *o = json_loadb(buf, len - 1, 0, &error);
    if (o == NULL)
        fail_msg("not JSON (%s): %s", error.text, buf);
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), 4);
    for (const char *const *k = (const char *const[]){"time", "level", "thread", "message", NULL}; *k; k++)
        if (!json_is_string(json_object_get(o, *k)))
            fail_msg("no string %s in %s", *k, buf);
    return o;
}

static void test_json_line(void **state)
{
    char buf[8192];
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    log_set_format(LOG_FORMAT_JSON);
    errno = EAGAIN;
    log_warn("said \"hi\" \\ back%cslash\nnew\ttab\r%c%c %s", '/', 1, 0x7f, "张三 🌸");
    assert_int_equal(errno, EAGAIN);
    json_t *o = json_line(*state, buf, sizeof(buf));
    assert_matches(json_string_value(json_object_get(o, "time")),
                   "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\+08:00$");
    assert_string_equal(json_string_value(json_object_get(o, "level")), "WARN");
    assert_string_equal(json_string_value(json_object_get(o, "thread")), "main");
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        "said \"hi\" \\ back/slash\nnew\ttab\r\x01\x7f 张三 🌸");
    json_decref(o);
    /* the escapes themselves, as written */
    log_info("a\x01"
             "b");
    drain(*state, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\"message\":\"a\\u0001b\"}\n"));
    log_set_format(LOG_FORMAT_TEXT);
    log_info("plain");
    drain(*state, buf, sizeof(buf));
    assert_matches(buf, " INFO \\[main\\] plain\n$");
}

static void test_json_not_utf8(void **state)
{
    char buf[8192];
    log_set_format(LOG_FORMAT_JSON);
    log_info("bad \xff, cut \xe4\xb8, overlong \xc0\xaf, surrogate \xed\xa0\x80, ok \xe4\xb8\xad");
    json_t *o = json_line(*state, buf, sizeof(buf));
    const char *m = json_string_value(json_object_get(o, "message"));
    assert_string_equal(m, "bad \xef\xbf\xbd, cut \xef\xbf\xbd\xef\xbf\xbd, overlong \xef\xbf\xbd\xef\xbf\xbd, "
                           "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd, ok \xe4\xb8\xad");
    json_decref(o);
    log_set_format(LOG_FORMAT_TEXT);
}

static void test_json_long_cut(void **state)
{
    char buf[16384], msg[5000];
    log_set_format(LOG_FORMAT_JSON);
    static const char *const fills[] = {"\"", "中", "\x01", "a"}; /* escapes of 2, 3 (raw), 6, 1 bytes */
    for (size_t f = 0; f < COUNT(fills); f++) {
        size_t n = strlen(fills[f]), len = 0;
        while (len + n < sizeof(msg))
            memcpy(msg + len, fills[f], n), len += n;
        msg[len] = '\0';
        log_error("%s", msg);
        json_t *o = json_line(*state, buf, sizeof(buf));
        const char *m = json_string_value(json_object_get(o, "message"));
        size_t mlen = strlen(m);
        assert_true(mlen > 300);
        assert_string_equal(m + mlen - 3, "...");
        assert_memory_equal(m, msg, mlen - 3); /* a prefix of whole characters */
        json_decref(o);
    }
    log_set_format(LOG_FORMAT_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test_setup_teardown(test_json_line, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_json_not_utf8, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_json_long_cut, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_line_format, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_threshold, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_thread_names, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_long_line_cut, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_control_chars_neutralised, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_threads_do_not_interleave, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_file_appends, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_file_created_0640_cloexec, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_file_open_failure, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_reopen_without_file, setup_pipe, teardown_pipe),
        cmocka_unit_test_setup_teardown(test_reopen_after_rename, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_reopen_failure_keeps_old_file, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_reopen_under_load, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_limit_burst_then_count, setup_limit, teardown_limit),
        cmocka_unit_test_setup_teardown(test_limit_sites_independent, setup_limit, teardown_limit),
        cmocka_unit_test_setup_teardown(test_limit_collisions, setup_limit, teardown_limit),
        cmocka_unit_test_setup_teardown(test_limit_threads, setup_limit, teardown_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
