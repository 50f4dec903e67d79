/*
 * log — one line per event on stderr (or a file), safe from any thread.
 *
 * Format: `2026-11-24T10:00:00.123+08:00 LEVEL [thread] message` (local time, LEVEL one of
 * ERROR WARN INFO DEBUG). A line is written with one write(2) of at most 2048 bytes, so
 * lines of different threads never interleave; a longer message is cut and ends in "...".
 * Control characters in the message (newlines included) become spaces: one event, one line.
 * log_write never changes errno.
 *
 * Contract: callers never pass secrets (app secret, session_key, tokens, data keys) to
 * these functions; the log module cannot know what a secret is. Review rule, enforced
 * by the black-box tests that grep the logs for every secret they know.
 */
#ifndef MEETOA_COMMON_LOG_H
#define MEETOA_COMMON_LOG_H

typedef enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 } log_level_t;

/* Parses "error", "warn", "info", "debug" (case-insensitive). Returns -1 if unknown. */
int log_level_parse(const char *name);
/* Sets the threshold (default LOG_INFO); a value outside the enum is ignored. */
void log_set_level(log_level_t level);
log_level_t log_get_level(void);
/* Sends lines to fd (default 2). The fd stays owned by the caller. */
void log_set_fd(int fd);
/* Names the calling thread in its log lines ("main", "loop-0", "db-1", "wx"). Copied, cut to 15
 * bytes. A thread that never named itself shows as "tid-<kernel thread id>". */
void log_set_thread_name(const char *name);

void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)

#endif
