/*
 * text — checks and conversions of text that came from outside, and time formats.
 *
 * All functions take pointer + length (bytes off the wire are not NUL-terminated)
 * and never allocate.
 */
#ifndef MEETOA_COMMON_TEXT_H
#define MEETOA_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..len) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF) and holds no NUL byte. */
bool text_utf8_valid(const char *s, size_t len);
/* Number of code points in well-formed UTF-8 s[0..len). */
size_t text_utf8_length(const char *s, size_t len);
/* Bytes of the first max_points code points of the NUL-terminated well-formed UTF-8 s (all of s
 * when it has fewer): a cut there never splits a character. */
size_t text_utf8_prefix(const char *s, size_t max_points);

/* Local time (the process's TZ) with offset, ISO-8601: "2026-11-24T18:00:00+08:00" (25 chars + NUL).
 * out is "" when the time is outside years 0001..9999. Thread-safe (localtime_r). */
#define TEXT_ISO8601_SIZE 32
void text_iso8601(int64_t epoch_seconds, char out[TEXT_ISO8601_SIZE]);
/* Local time as SQL DATETIME text: "2026-11-24 18:00:00" (19 chars + NUL); "" when out of range. */
#define TEXT_SQLTIME_SIZE 20
void text_sqltime(int64_t epoch_seconds, char out[TEXT_SQLTIME_SIZE]);
/* Parses text_sqltime's format back (local time; s is NUL-terminated, exactly 19 chars). Returns
 * false when malformed or not a real date (2026-02-30); *epoch_seconds is then untouched. */
bool text_sqltime_parse(const char *s, int64_t *epoch_seconds);
/*
 * A time as the API accepts it (../shared/meeting-oa.md): "YYYY-MM-DD HH:MM:SS" in local time
 * (the process's TZ, which meetoa sets from oa.time-zone), or ISO 8601 "YYYY-MM-DDTHH:MM:SS"
 * with an optional fraction of a second (ignored) and an optional offset "Z", "+08:00" or
 * "+0800" (without one it is local time). s[0..len) need not be NUL-terminated. False when
 * malformed or not a real date or time.
 */
bool text_time_parse(const char *s, size_t len, int64_t *epoch_seconds);
/* A date "YYYY-MM-DD": *day_start and *day_end get the local midnights that begin it and the
 * next day (a day may be 23 or 25 hours long where clocks change). */
bool text_date_parse(const char *s, size_t len, int64_t *day_start, int64_t *day_end);

/* The value of the hex digit c, -1 when it is none. */
int text_hex_value(char c);
/* Percent-decodes s[0..len) ('+' as a space when plus_space: query strings) into a new
 * NUL-terminated string the caller frees; *out_len (may be NULL) gets its length. NULL for a
 * bad escape, an escaped NUL (%00) or no memory (what was decoded is wiped first: it may be a
 * password). */
char *text_percent_decode(const char *s, size_t len, bool plus_space, size_t *out_len);

/* Copies at most size-1 bytes of src[0..len) into dst and NUL-terminates.
 * Returns false (and copies nothing; dst becomes "" when size > 0) when len >= size. */
bool text_copy(char *dst, size_t size, const char *src, size_t len);

/* Comma-separated lists ("a, b,c"): the next item of text[0..len) from *pos, without the
 * spaces and tabs around it (it may be empty), as *item and *item_len; *pos moves past its
 * comma. Start with *pos = 0; false once the last item was given. A text of blanks is one
 * empty item: callers that allow an empty list check that first (text_blank). */
bool text_list_next(const char *text, size_t len, size_t *pos, const char **item, size_t *item_len);
/* True when s[0..len) holds nothing but spaces and tabs (or nothing). */
bool text_blank(const char *s, size_t len);

#endif
