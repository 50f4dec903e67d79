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
 */
#include "common/log.h"

#include <errno.h>
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

void log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
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
