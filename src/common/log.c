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
 *
 * The limit of repeated lines: a fixed table of LOG_SLOTS slots, each with its own mutex,
 * owned by one call site (its format string's address, hashed; open addressing over
 * LOG_PROBES slots). A slot holds the site's current one-second window (its start and the
 * lines written in it) and the lines counted since the last report. A slot is taken over by
 * another site once its window is over (its count, if any, reported by the taker first);
 * a site that finds no slot free is simply not limited. The slot keeps a copy of the start
 * of the format, so a report never reads the caller's string after the call. log_pending
 * counts the slots with an unreported count: while it is 0, a written line costs one atomic
 * load more than before; otherwise it looks for windows that ended (LOG_SLOTS relaxed loads,
 * a lock only on slots with a count) so that a flood that stopped is reported at the next
 * line from anywhere, not only at the next line of the same site.
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
static _Atomic int log_format = LOG_FORMAT_TEXT;
static _Atomic int log_fd = 2;
static __thread char log_thread[LOG_THREAD_MAX];

#define LOG_FILE_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)
#define LOG_FILE_MODE  0640

static pthread_mutex_t log_file_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_file_fd = -1;         /* the log file's fd (== log_fd), -1: none; under the lock */
static char log_file_name[PATH_MAX]; /* its path; under the lock */

static const char *const LEVEL_NAMES[] = {"ERROR", "WARN", "INFO", "DEBUG"};

#define LOG_SLOTS     128 /* a power of two */
#define LOG_PROBES    8
#define LOG_WINDOW_NS 1000000000LL
#define LOG_TEXT_MAX  81 /* the format's start kept for the report, NUL included */

typedef struct log_slot {
    pthread_mutex_t lock;
    const char *fmt;         /* the owning call site, NULL: none; compared, never read */
    char text[LOG_TEXT_MAX]; /* the start of its format, for the report */
    int level;
    int64_t window_start;    /* ns, when the current window's first line came */
    int written;             /* lines written in the current window */
    int64_t since;           /* ns, when the first unreported suppressed line came */
    _Atomic long suppressed; /* lines counted and not reported yet; read unlocked by the sweep */
} log_slot_t;

/* A count taken out of a slot, to be reported once its lock is released. */
typedef struct log_report {
    long count;
    int level;
    int64_t since;
    char text[LOG_TEXT_MAX];
} log_report_t;

static log_slot_t log_slots[LOG_SLOTS] = {[0 ... LOG_SLOTS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};
static _Atomic long log_pending;           /* slots whose suppressed count is not 0 */
static int64_t (*_Atomic log_clock)(void); /* NULL: CLOCK_MONOTONIC */

int log_level_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < (int)(sizeof(LEVEL_NAMES) / sizeof(LEVEL_NAMES[0])); i++)
        if (strcasecmp(name, LEVEL_NAMES[i]) == 0)
            return i;
    return -1;
}

int log_format_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "text") == 0)
        return LOG_FORMAT_TEXT;
    if (strcasecmp(name, "json") == 0)
        return LOG_FORMAT_JSON;
    return -1;
}

void log_set_format(log_format_t format)
{
    if (format == LOG_FORMAT_TEXT || format == LOG_FORMAT_JSON)
        atomic_store(&log_format, (int)format);
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

/* Formats and writes one text line (the single write(2) of the contract). */
static void log_text_line(int level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    size_t len = put_timestamp(line);
    len += (size_t)snprintf(line + len, sizeof(line) - len, " %s ", LEVEL_NAMES[level]);
    len += put_thread(line + len, sizeof(line) - len);

    size_t msg_start = len, room = sizeof(line) - len - 1; /* keep one byte for '\n' */
    int n = vsnprintf(line + len, room, fmt, ap);          /* room includes vsnprintf's NUL */
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
}

/* The length of the UTF-8 character at s[0..len), 0 when the bytes there are not one. */
static size_t utf8_char_len(const char *s, size_t len)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    return n > 0 && n <= len && text_utf8_valid(s, n) ? n : 0;
}

/* Appends msg[0..len) as the inside of a JSON string to out[0..*o), leaving room bytes free
 * at the end of size; a message that does not fit is cut on a character and ends in "...". */
static void put_json_text(char *out, size_t *o, size_t size, size_t room, const char *msg, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t limit = size - room - 3; /* "..." */
    for (size_t i = 0; i < len;) {
        char esc[8];
        size_t n = utf8_char_len(msg + i, len - i), elen;
        unsigned char c = (unsigned char)msg[i];
        if (n == 0) { /* not UTF-8: one byte becomes U+FFFD */
            memcpy(esc, "\\ufffd", 6);
            elen = 6;
            n = 1;
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            elen = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        } else {
            memcpy(esc, msg + i, n);
            elen = n;
        }
        if (*o + elen > limit) {
            memcpy(out + *o, "...", 3);
            *o += 3;
            return;
        }
        memcpy(out + *o, esc, elen);
        *o += elen;
        i += n;
    }
}

/* Formats and writes one JSON line: the same fields as the text line, one object. */
static void log_json_line(int level, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX], line[LOG_LINE_MAX], ts[40];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t msg_len = n < 0 ? 0 : (size_t)n >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)n;
    ts[put_timestamp(ts)] = '\0';
    size_t len =
        (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"thread\":\"", ts, LEVEL_NAMES[level]);
    if (log_thread[0]) /* thread names are ours: short, plain ASCII */
        put_json_text(line, &len, sizeof(line), 64, log_thread, strlen(log_thread));
    else
        len += (size_t)snprintf(line + len, sizeof(line) - len, "tid-%d", (int)gettid());
    memcpy(line + len, "\",\"message\":\"", 13);
    len += 13;
    put_json_text(line, &len, sizeof(line), 3, msg, msg_len); /* room for "}\n */
    memcpy(line + len, "\"}\n", 3);
    len += 3;
    write_all(atomic_load(&log_fd), line, len);
}

/* Formats and writes one line (the single write(2) of the contract). */
static void log_vline(int level, const char *fmt, va_list ap)
{
    if (atomic_load(&log_format) == LOG_FORMAT_JSON)
        log_json_line(level, fmt, ap);
    else
        log_text_line(level, fmt, ap);
}

static void log_line(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(level, fmt, ap);
    va_end(ap);
}

/* ---- the limit of repeated lines ----------------------------------------------------------- */

void log_set_clock_for_test(int64_t (*now_ns)(void))
{
    atomic_store(&log_clock, now_ns);
}

static int64_t log_now(void)
{
    int64_t (*clock)(void) = atomic_load(&log_clock);
    if (clock != NULL)
        return clock();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Fibonacci hashing of the address: literals sit next to each other, this spreads them. */
static unsigned slot_hash(const char *fmt)
{
    return (unsigned)(((uint64_t)(uintptr_t)fmt * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (LOG_SLOTS - 1);
}

/* The slot's window is over. A now taken before another thread started a new window is
 * earlier than its start: not over. */
static int window_over(const log_slot_t *s, int64_t now)
{
    return now - s->window_start >= LOG_WINDOW_NS;
}

/* Moves the slot's unreported count into *out (out->count stays 0 when there is none). Under
 * the slot's lock. */
static void slot_take(log_slot_t *s, log_report_t *out)
{
    long count = atomic_load_explicit(&s->suppressed, memory_order_relaxed);
    if (count == 0)
        return;
    atomic_store_explicit(&s->suppressed, 0, memory_order_relaxed);
    atomic_fetch_sub(&log_pending, 1);
    out->count = count;
    out->level = s->level;
    out->since = s->since;
    memcpy(out->text, s->text, sizeof(out->text));
}

/* Makes the slot fmt's, with a fresh window. Under the slot's lock, its count taken before. */
static void slot_claim(log_slot_t *s, const char *fmt, int level, int64_t now)
{
    size_t len = strnlen(fmt, sizeof(s->text));
    if (len == sizeof(s->text)) { /* cut: mark it */
        len = sizeof(s->text) - 1;
        memcpy(s->text + len - 3, "...", 3);
        memcpy(s->text, fmt, len - 3);
    } else
        memcpy(s->text, fmt, len);
    s->text[len] = '\0';
    s->fmt = fmt;
    s->level = level;
    s->window_start = now;
    s->written = 0;
}

/* 1: the site's line is written, 0: counted. A count of an ended window goes to *report.
 * Under the slot's lock. */
static int slot_admit(log_slot_t *s, int64_t now, log_report_t *report)
{
    if (window_over(s, now)) {
        slot_take(s, report);
        s->window_start = now;
        s->written = 0;
    }
    if (s->written < LOG_LIMIT_PER_SECOND) {
        s->written++;
        return 1;
    }
    if (atomic_fetch_add_explicit(&s->suppressed, 1, memory_order_relaxed) == 0) {
        s->since = now;
        atomic_fetch_add(&log_pending, 1);
    }
    return 0;
}

static int slot_free(const log_slot_t *s, int64_t now)
{
    return s->fmt == NULL || window_over(s, now);
}

/* Takes the free slot at index i for fmt, unless another site was quicker; then as
 * slot_admit, and 1 (not limited) when the slot is no longer free. */
static int slot_try_claim(unsigned i, const char *fmt, int level, int64_t now, log_report_t *report)
{
    log_slot_t *s = &log_slots[i];
    int admit = 1;
    pthread_mutex_lock(&s->lock);
    if (s->fmt != fmt && slot_free(s, now)) {
        slot_take(s, report); /* the previous owner's count */
        slot_claim(s, fmt, level, now);
    }
    if (s->fmt == fmt)
        admit = slot_admit(s, now, report);
    pthread_mutex_unlock(&s->lock);
    return admit;
}

/* 1 when this line of the call site fmt is to be written, 0 when it is only counted. */
static int log_admit(const char *fmt, int level, int64_t now, log_report_t *report)
{
    unsigned h = slot_hash(fmt), free_at = LOG_SLOTS;
    for (unsigned i = 0; i < LOG_PROBES; i++) { /* the site's own slot first */
        log_slot_t *s = &log_slots[(h + i) & (LOG_SLOTS - 1)];
        pthread_mutex_lock(&s->lock);
        if (s->fmt == fmt) {
            int admit = slot_admit(s, now, report);
            pthread_mutex_unlock(&s->lock);
            return admit;
        }
        if (free_at == LOG_SLOTS && slot_free(s, now))
            free_at = (h + i) & (LOG_SLOTS - 1);
        pthread_mutex_unlock(&s->lock);
    }
    return free_at == LOG_SLOTS ? 1 : slot_try_claim(free_at, fmt, level, now, report);
}

static void log_report(const log_report_t *r, int64_t now)
{
    int64_t seconds = (now - r->since + LOG_WINDOW_NS - 1) / LOG_WINDOW_NS;
    log_line(r->level, "%ld more lines like \"%s\" suppressed in the last %lld s", r->count, r->text,
             (long long)(seconds < 1 ? 1 : seconds));
}

/* Reports the counts of windows that are over (all of them when force). */
static void log_sweep(int64_t now, int force)
{
    for (unsigned i = 0; i < LOG_SLOTS; i++) {
        log_slot_t *s = &log_slots[i];
        log_report_t report = {0};
        if (atomic_load_explicit(&s->suppressed, memory_order_relaxed) == 0)
            continue;
        pthread_mutex_lock(&s->lock);
        if (force || window_over(s, now))
            slot_take(s, &report);
        pthread_mutex_unlock(&s->lock);
        if (report.count > 0)
            log_report(&report, now);
    }
}

void log_flush_suppressed(void)
{
    int saved_errno = errno;
    if (atomic_load(&log_pending) > 0)
        log_sweep(log_now(), 1);
    errno = saved_errno;
}

void log_write(log_level_t level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level) || (int)level < (int)LOG_ERROR)
        return;
    int saved_errno = errno;
    int64_t now = 0;
    int admit = 1, limited = level <= LOG_WARN; /* only ERROR and WARN are limited */
    if (limited) {
        log_report_t report = {0};
        now = log_now();
        admit = log_admit(fmt, (int)level, now, &report);
        if (report.count > 0)
            log_report(&report, now);
    }
    if (admit) {
        va_list ap;
        va_start(ap, fmt);
        log_vline((int)level, fmt, ap);
        va_end(ap);
        if (atomic_load(&log_pending) > 0)
            log_sweep(limited ? now : log_now(), 0);
    }
    errno = saved_errno;
}

void log_write_always(log_level_t level, const char *fmt, ...)
{
    if ((int)level > (int)LOG_DEBUG || (int)level < (int)LOG_ERROR)
        return;
    int saved_errno = errno;
    va_list ap;
    va_start(ap, fmt);
    log_vline((int)level, fmt, ap);
    va_end(ap);
    errno = saved_errno;
}
