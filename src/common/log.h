/*
 * log — one line per event on stderr (or a file), safe from any thread.
 *
 * Format: `2026-11-24T10:00:00.123+08:00 LEVEL [thread] message` (local time, LEVEL one of
 * ERROR WARN INFO DEBUG). A line is written with one write(2) of at most 2048 bytes, so
 * lines of different threads never interleave; a longer message is cut and ends in "...".
 * Control characters in the message (newlines included) become spaces: one event, one line.
 * log_write never changes errno.
 *
 * JSON format (logging.format: json, log_set_format): the same fields as one JSON object per
 * line, for log shippers:
 *   {"time":"2026-11-24T10:00:00.123+08:00","level":"INFO","thread":"loop-0","message":"..."}
 * The message is escaped as JSON (" and \ escaped, control characters as \n, \t, \r or \u00XX,
 * bytes that are not UTF-8 as \ufffd), so a newline in a value stays inside one string; a message
 * too long for the line is cut on a character and ends in "...", the object always complete.
 *
 * Repeated lines (a flood during an outage: "login not stored: ..." per failed request) are
 * limited per call site: at most LOG_LIMIT_PER_SECOND ERROR or WARN lines a second from one
 * call site are written; the others of that second are counted, not formatted or written.
 * The count is never lost: before the next line of that call site in a later second, or at
 * the next line written from anywhere once that second is over, or at log_flush_suppressed(),
 * one line at the same level reports it:
 *   `... ERROR [db-1] 1234 more lines like "login not stored: %s" suppressed in the last 5 s`
 * (the call site's format text, cut to 80 bytes, never its arguments). A call site is its
 * format string's address: each log_write call with its own literal (the compiler may merge
 * identical literals, which then share a limit; pass a literal, never a built string). The
 * sites are kept in a fixed table (128 slots, no allocation); a site that finds the 8 slots
 * where it may go all in use by sites that logged within the second is not limited, so two
 * sites never starve each other. INFO and DEBUG are not limited: they are per-event records
 * the operator asked for by choosing the level (one line per upload stored, one per WeChat
 * call at debug), and a count cannot stand in for the user id or the key in each of them.
 * Time for the limit comes from CLOCK_MONOTONIC (log_set_clock_for_test replaces it).
 *
 * Log file (logging.file.name): log_open_file() appends lines to a file instead; after
 * logrotate renamed it, log_reopen() (SIGHUP) opens the path again and dup3()s the new
 * file onto the fd in use, so a writer in another thread never sees a closed fd: a line
 * goes whole to the old file or whole to the new one, none is lost or split.
 *
 * Thread-safety: log_write, log_set_level, log_set_thread_name and log_flush_suppressed from
 * any thread (each limit slot has its own mutex, taken only for ERROR and WARN lines and for
 * reporting counts).
 * log_open_file and log_reopen from any thread (a lock serialises them), typically the
 * main thread. log_set_fd and log_close_file only while no other thread logs (start-up,
 * shutdown, tests): the fd they replace may be closed under a writer.
 *
 * Contract: callers never pass secrets (app secret, session_key, tokens, data keys) to
 * these functions; the log module cannot know what a secret is. Review rule, enforced
 * by the black-box tests that grep the logs for every secret they know.
 */
#ifndef MEETOA_COMMON_LOG_H
#define MEETOA_COMMON_LOG_H

#include <stddef.h>
#include <stdint.h>

/* ERROR or WARN lines a second from one call site that are written; the rest are counted. */
#define LOG_LIMIT_PER_SECOND 10

typedef enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 } log_level_t;

typedef enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 } log_format_t;

/* Parses "text" or "json" (case-insensitive). Returns -1 if unknown. */
int log_format_parse(const char *name);
/* Sets the line format (default LOG_FORMAT_TEXT); any thread, takes effect at the next line. */
void log_set_format(log_format_t format);

/* Parses "error", "warn", "info", "debug" (case-insensitive). Returns -1 if unknown. */
int log_level_parse(const char *name);
/* Sets the threshold (default LOG_INFO); a value outside the enum is ignored. */
void log_set_level(log_level_t level);
log_level_t log_get_level(void);
/* Sends lines to fd (default 2). The fd stays owned by the caller. Forgets a log file
 * opened by log_open_file without closing it: use log_close_file for that. */
void log_set_fd(int fd);
/* Appends lines to path from now on (O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, mode 0640 before
 * the umask); the path is copied, the fd owned by the log module. Replaces a log file opened
 * before (closed). -1 with "cannot open PATH: reason" in err (one line) when the file cannot
 * be opened; the lines then keep going where they went. */
int log_open_file(const char *path, char *err, size_t err_size);
/* Opens the log file's path again (a new file when it was renamed or removed) and puts it in
 * place of the old one with dup3, keeping the fd number. 0 when reopened, 1 when no log file
 * is in use (nothing to reopen), -1 with the reason in err when the path cannot be opened
 * (the old file stays in use). */
int log_reopen(char *err, size_t err_size);
/* The path of the log file in use (copied into out, cut to size), or "" for none. */
void log_file_path(char *out, size_t size);
/* Back to stderr: closes the log file, if one is open. */
void log_close_file(void);
/* Names the calling thread in its log lines ("main", "loop-0", "db-1", "wx"). Copied, cut to 15
 * bytes. A thread that never named itself shows as "tid-<kernel thread id>". */
void log_set_thread_name(const char *name);

/* Writes now the report line of every call site with lines counted and not reported yet,
 * whether its second is over or not (at shutdown: "stopped" should not be the last word). */
void log_flush_suppressed(void);
/* Tests only: the clock of the limit, in nanoseconds, instead of CLOCK_MONOTONIC (NULL: back to
 * it). A test sets it while no other thread logs. */
void log_set_clock_for_test(int64_t (*now_ns)(void));

void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line at level whatever the threshold, never limited: for the few lines that must be seen
 * where the logs go (the port a JSON-logging server listens on at level warn). */
void log_write_always(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)

#endif
