/*
 * log — one line per event, written with a single write(2) (see log.h for the contract).
 *
 * Each call formats its whole line in a stack buffer of LOG_LINE_MAX bytes and hands it
 * to the kernel in one write: no lock, no stdio buffer shared between threads, and since
 * a line is shorter than PIPE_BUF, lines from different threads never interleave on a
 * pipe (or on a file opened with O_APPEND). A message too long for the buffer is cut and
 * ends with "...", never overflowing it.
 *
 * Control characters in the message (a newline in a value that came from outside, say)
 * are replaced with spaces, so one event is always one line and nobody can forge lines.
 *
 * The threshold and the fd are process-wide atomics; the thread name lives in a __thread
 * buffer. log_write keeps errno as it found it, so it can be called in error paths
 * before errno is reported.
 *
 * A log file (log_open_file) is reopened in place: the new file is opened on a fresh fd,
 * then dup3() makes the fd in use refer to it (atomically: the number never points at a
 * closed file), then the fresh fd is closed. A writer in another thread either wrote its
 * line to the old file just before or writes it to the new one; since every line is one
 * write(2) on an O_APPEND file, none is lost, none is split across the two. The path and
 * the file's fd are guarded by log_file_lock; writers never take it.
 */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/text.h"

/* Whole line, newline included; below PIPE_BUF (4096 on Linux) so pipe writes are atomic. */
#define LOG_LINE_MAX   2048
#define LOG_THREAD_MAX 16

static _Atomic int log_level = LOG_INFO;
static _Atomic int log_fd = 2;
static __thread char log_thread[LOG_THREAD_MAX];

#define LOG_FILE_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)
#define LOG_FILE_MODE  0640

static pthread_mutex_t log_file_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_file_fd = -1;         /* the log file's fd (== log_fd), -1: none; under the lock */
static char log_file_name[PATH_MAX]; /* its path; under the lock */

static const char *const LEVEL_NAMES[] = {"ERROR", "WARN", "INFO", "DEBUG"};

int log_level_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < (int)(sizeof(LEVEL_NAMES) / sizeof(LEVEL_NAMES[0])); i++)
        if (strcasecmp(name, LEVEL_NAMES[i]) == 0)
            return i;
    return -1;
}

void log_set_level(log_level_t level)
{
    if ((int)level >= (int)LOG_ERROR && (int)level <= (int)LOG_DEBUG)
        atomic_store(&log_level, (int)level);
}

log_level_t log_get_level(void)
{
    return (log_level_t)atomic_load(&log_level);
}

/* Closes the log file, if any, after sending the lines to fd. Under log_file_lock. */
static void log_file_drop(int fd)
{
    atomic_store(&log_fd, fd);
    if (log_file_fd >= 0 && log_file_fd != fd)
        close(log_file_fd);
    log_file_fd = -1;
    log_file_name[0] = '\0';
}

void log_set_fd(int fd)
{
    pthread_mutex_lock(&log_file_lock);
    log_file_drop(fd);
    pthread_mutex_unlock(&log_file_lock);
}

static void set_err(char *err, size_t size, const char *what, const char *path, int errnum)
{
    if (err != NULL && size > 0)
        snprintf(err, size, "%s %s: %s", what, path, strerror(errnum));
}

int log_open_file(const char *path, char *err, size_t err_size)
{
    if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(log_file_name)) {
        set_err(err, err_size, "cannot open", path != NULL ? path : "(null)",
                path == NULL || path[0] == '\0' ? ENOENT : ENAMETOOLONG);
        return -1;
    }
    int fd = open(path, LOG_FILE_FLAGS, LOG_FILE_MODE);
    if (fd < 0) {
        set_err(err, err_size, "cannot open", path, errno);
        return -1;
    }
    pthread_mutex_lock(&log_file_lock);
    if (log_file_fd >= 0 && dup3(fd, log_file_fd, O_CLOEXEC) >= 0) {
        close(fd); /* the old file's fd number now refers to the new file */
    } else {
        log_file_drop(fd);
        log_file_fd = fd;
    }
    memcpy(log_file_name, path, strlen(path) + 1);
    pthread_mutex_unlock(&log_file_lock);
    return 0;
}

int log_reopen(char *err, size_t err_size)
{
    int ret = 0;
    pthread_mutex_lock(&log_file_lock);
    if (log_file_fd < 0) {
        ret = 1;
        goto done;
    }
    int fd = open(log_file_name, LOG_FILE_FLAGS, LOG_FILE_MODE);
    if (fd < 0) {
        set_err(err, err_size, "cannot reopen", log_file_name, errno);
        ret = -1;
        goto done;
    }
    if (dup3(fd, log_file_fd, O_CLOEXEC) < 0) {
        set_err(err, err_size, "cannot reopen", log_file_name, errno);
        ret = -1;
    }
    close(fd);
done:
    pthread_mutex_unlock(&log_file_lock);
    return ret;
}

void log_file_path(char *out, size_t size)
{
    if (size == 0)
        return;
    pthread_mutex_lock(&log_file_lock);
    snprintf(out, size, "%s", log_file_name);
    pthread_mutex_unlock(&log_file_lock);
}

void log_close_file(void)
{
    log_set_fd(2);
}

void log_set_thread_name(const char *name)
{
    size_t len = name ? strnlen(name, LOG_THREAD_MAX - 1) : 0;
    memcpy(log_thread, name ? name : "", len);
    log_thread[len] = '\0';
}

/* Writes "2026-11-24T10:00:00.123+08:00" (29 chars) at p; returns the length written. */
static size_t put_timestamp(char *p)
{
    struct timespec now;
    char iso[TEXT_ISO8601_SIZE];
    clock_gettime(CLOCK_REALTIME, &now);
    text_iso8601((int64_t)now.tv_sec, iso);
    size_t len = strlen(iso);
    if (len < 19) { /* out of range: cannot happen with a sane clock */
        memcpy(p, "0000-00-00T00:00:00", 19);
        return 19;
    }
    long ms = now.tv_nsec / 1000000;
    memcpy(p, iso, 19);
    p[19] = '.';
    p[20] = (char)('0' + ms / 100);
    p[21] = (char)('0' + ms / 10 % 10);
    p[22] = (char)('0' + ms % 10);
    memcpy(p + 23, iso + 19, len - 19); /* the offset */
    return 23 + (len - 19);
}

/* Appends the thread name, or "tid-N" for a thread that never named itself. */
static size_t put_thread(char *p, size_t room)
{
    int n = log_thread[0] ? snprintf(p, room, "[%s] ", log_thread) : snprintf(p, room, "[tid-%d] ", (int)gettid());
    return n < 0 ? 0 : (size_t)n >= room ? room - 1 : (size_t)n;
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere to report a failing log */
        p += n;
        len -= (size_t)n;
    }
}

void log_write(log_level_t level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level) || (int)level < (int)LOG_ERROR)
        return;
    int saved_errno = errno;
    char line[LOG_LINE_MAX];
    size_t len = put_timestamp(line);
    len += (size_t)snprintf(line + len, sizeof(line) - len, " %s ", LEVEL_NAMES[level]);
    len += put_thread(line + len, sizeof(line) - len);

    size_t msg_start = len, room = sizeof(line) - len - 1; /* keep one byte for '\n' */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + len, room, fmt, ap); /* room includes vsnprintf's NUL */
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= room) { /* cut: mark it */
        len += room - 1;
        memcpy(line + len - 3, "...", 3);
    } else
        len += (size_t)n;
    for (size_t i = msg_start; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = ' ';
    line[len++] = '\n';
    write_all(atomic_load(&log_fd), line, len);
    errno = saved_errno;
}
