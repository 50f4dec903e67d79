/*
 * text — UTF-8 checks and local-time formats (see text.h for the contract).
 *
 * UTF-8 is checked against the table of RFC 3629 §4 rather than by decoding and then
 * range-checking: each lead byte fixes the exact range allowed for the second byte, which
 * is what excludes overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF)
 * and code points above U+10FFFF (F4 90..BF, F5..FF). NUL is refused too, because these
 * strings end up in C strings and database columns where a NUL would cut them short.
 *
 * Times are local (the process's TZ): localtime_r gives the fields and tm_gmtoff the
 * offset, so no global state is touched. Parsing goes back through mktime with
 * tm_isdst = -1, letting the C library decide whether daylight saving time applies.
 */
#include "common/text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Length of the well-formed sequence starting at s[0] (s has avail bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0x01 && c <= 0x7f)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong below U+0800 */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates U+D800..DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0; /* NUL, continuation byte, C0/C1 overlong leads, F5..FF */
    if (avail < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return need;
}

bool text_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t text_utf8_length(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) /* every byte but a continuation starts one */
            count++;
    return count;
}

size_t text_utf8_prefix(const char *s, size_t max_points)
{
    size_t i = 0, points = 0;
    while (s[i] != '\0' && points < max_points) {
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80) /* continuation bytes of the same character */
            i++;
        points++;
    }
    return i;
}

/* Local broken-down time of epoch_seconds; false outside time_t or years 0001..9999. */
static bool local_tm(int64_t epoch_seconds, struct tm *tm)
{
    time_t t = (time_t)epoch_seconds;
    if ((int64_t)t != epoch_seconds || localtime_r(&t, tm) == NULL)
        return false;
    return tm->tm_year + 1900 >= 1 && tm->tm_year + 1900 <= 9999;
}

/* Writes v (0 <= v < 10^n) as n digits at p; returns p + n. */
static char *put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Writes "YYYY-MM-DD<sep>HH:MM:SS" (19 chars, no NUL) at p; returns p + 19. */
static char *put_datetime(char *p, const struct tm *tm, char sep)
{
    p = put_digits(p, tm->tm_year + 1900, 4);
    *p++ = '-';
    p = put_digits(p, tm->tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, tm->tm_mday, 2);
    *p++ = sep;
    p = put_digits(p, tm->tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, tm->tm_min, 2);
    *p++ = ':';
    return put_digits(p, tm->tm_sec, 2); /* 60 for a leap second is kept as is */
}

void text_iso8601(int64_t epoch_seconds, char out[TEXT_ISO8601_SIZE])
{
    struct tm tm;
    if (!local_tm(epoch_seconds, &tm)) {
        out[0] = '\0';
        return;
    }
    long off = tm.tm_gmtoff / 60; /* ISO-8601 offsets have minutes; historic LMT seconds are dropped */
    char *p = put_datetime(out, &tm, 'T');
    *p++ = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    p = put_digits(p, (int)(off / 60 % 100), 2);
    *p++ = ':';
    p = put_digits(p, (int)(off % 60), 2);
    *p = '\0';
}

void text_sqltime(int64_t epoch_seconds, char out[TEXT_SQLTIME_SIZE])
{
    struct tm tm;
    if (!local_tm(epoch_seconds, &tm)) {
        out[0] = '\0';
        return;
    }
    *put_datetime(out, &tm, ' ') = '\0';
}

/* Reads n decimal digits at s (stopping at a NUL, which is not a digit). -1 if any is not a digit. */
static int read_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Days from 1970-01-01 to year-mon-day of the proleptic Gregorian calendar (civil date). */
static int64_t days_from_civil(int year, int mon, int day)
{
    year -= mon <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* mktime() of a local time (tm_isdst -1); false when it is no time at all. */
static bool local_mktime(int year, int mon, int day, int hour, int min, int sec, int64_t *out)
{
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec,
                    .tm_isdst = -1};
    time_t t = mktime(&tm);
    if (t == (time_t)-1) {
        /* -1 is also one second before the epoch: it is an error only if that is not the time asked for. */
        struct tm check;
        if (localtime_r(&t, &check) == NULL || check.tm_year != year - 1900 || check.tm_mon != mon - 1 ||
            check.tm_mday != day || check.tm_hour != hour || check.tm_min != min || check.tm_sec != sec)
            return false;
    }
    *out = (int64_t)t;
    return true;
}

/*
 * The local days whose UTC offset is the same all day long, per thread: mktime() reads the zone
 * (and TZ) on every call, about 2,800 instructions, and a database row has three times. A day is
 * kept when its midnight, its noon and the next midnight have one offset (no transition in the
 * day: DST changes are once a day at most), under the TZ value it was computed with; any other
 * day or TZ goes through mktime() as before.
 */
typedef struct zone_day {
    int64_t days; /* days_from_civil of the local date */
    int64_t offset;
    char tz[48]; /* getenv("TZ") when computed ("" = unset); a longer TZ is never cached */
    bool valid;
} zone_day_t;

static _Thread_local zone_day_t zone_days[8];

static bool same_offset_all_day(int year, int mon, int day, int64_t days, int64_t *offset)
{
    int64_t midnight, noon, next;
    if (!local_mktime(year, mon, day, 0, 0, 0, &midnight) || !local_mktime(year, mon, day, 12, 0, 0, &noon) ||
        !local_mktime(year, mon, day + 1, 0, 0, 0, &next)) /* mktime normalises day + 1 */
        return false;
    int64_t base = days * 86400;
    *offset = base - midnight;
    return base + 43200 - noon == *offset && base + 86400 - next == *offset;
}

bool text_sqltime_parse(const char *s, int64_t *epoch_seconds)
{
    /* "YYYY-MM-DD HH:MM:SS": fixed positions; the checks stop at the first NUL. */
    int year = read_digits(s, 4);
    if (year < 0 || s[4] != '-')
        return false;
    int mon = read_digits(s + 5, 2);
    if (mon < 0 || s[7] != '-')
        return false;
    int day = read_digits(s + 8, 2);
    if (day < 0 || s[10] != ' ')
        return false;
    int hour = read_digits(s + 11, 2);
    if (hour < 0 || s[13] != ':')
        return false;
    int min = read_digits(s + 14, 2);
    if (min < 0 || s[16] != ':')
        return false;
    int sec = read_digits(s + 17, 2);
    if (sec < 0 || s[19] != '\0')
        return false;
    if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 || min > 59 ||
        sec > 59)
        return false;

    int64_t days = days_from_civil(year, mon, day), in_day = hour * 3600 + min * 60 + sec;
    const char *tz = getenv("TZ");
    if (tz == NULL)
        tz = "";
    zone_day_t *z = &zone_days[days & 7];
    if (!(z->valid && z->days == days && strcmp(z->tz, tz) == 0)) {
        int64_t offset;
        size_t tz_len = strlen(tz);
        if (tz_len >= sizeof(z->tz) || !same_offset_all_day(year, mon, day, days, &offset))
            return local_mktime(year, mon, day, hour, min, sec, epoch_seconds);
        *z = (zone_day_t){.days = days, .offset = offset, .valid = true};
        memcpy(z->tz, tz, tz_len + 1);
    }
    *epoch_seconds = days * 86400 + in_day - z->offset;
    return true;
}

bool text_time_parse(const char *s, size_t len, int64_t *epoch_seconds)
{
    char head[TEXT_SQLTIME_SIZE];
    if (len < 19 || (s[10] != ' ' && s[10] != 'T'))
        return false;
    memcpy(head, s, 19);
    head[10] = ' ';
    head[19] = '\0';
    int64_t local;
    if (memchr(head, '\0', 19) != NULL || !text_sqltime_parse(head, &local))
        return false;
    size_t i = 19;
    if (i < len && s[i] == '.') { /* a fraction of a second: dropped */
        size_t digits = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
        if (digits == 0 || digits > 9)
            return false;
    }
    if (i == len) {
        *epoch_seconds = local;
        return true;
    }
    if (s[10] != 'T') /* an offset only with ISO 8601's T */
        return false;
    long offset = 0;
    if (s[i] == 'Z' && i + 1 == len) {
        offset = 0;
    } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        const char *o = s + i + 1;
        size_t rest = len - i - 1;
        int hh, mm;
        if (rest == 5 && o[2] == ':') {
            char t[6] = {o[0], o[1], '\0', o[3], o[4], '\0'};
            hh = read_digits(t, 2);
            mm = read_digits(t + 3, 2);
        } else if (rest == 4 || rest == 2) {
            char t[5] = {o[0], o[1], rest == 4 ? o[2] : '0', rest == 4 ? o[3] : '0', '\0'};
            hh = read_digits(t, 2);
            mm = read_digits(t + 2, 2);
        } else {
            return false;
        }
        if (hh < 0 || mm < 0 || hh > 23 || mm > 59)
            return false;
        offset = sign * (hh * 3600L + mm * 60L);
    } else {
        return false;
    }
    int year = read_digits(head, 4), mon = read_digits(head + 5, 2), day = read_digits(head + 8, 2);
    int hour = read_digits(head + 11, 2), min = read_digits(head + 14, 2), sec = read_digits(head + 17, 2);
    *epoch_seconds = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
    return true;
}

bool text_date_parse(const char *s, size_t len, int64_t *day_start, int64_t *day_end)
{
    char text[TEXT_SQLTIME_SIZE];
    if (len != 10 || memchr(s, '\0', len) != NULL)
        return false;
    memcpy(text, s, 10);
    memcpy(text + 10, " 00:00:00", 10);
    int64_t start;
    if (!text_sqltime_parse(text, &start))
        return false;
    /* The next midnight: noon of this day plus a day is always in the next day. */
    struct tm tm;
    if (!local_tm(start + 36 * 3600, &tm))
        return false;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t next = mktime(&tm);
    if (next == (time_t)-1 || next <= start)
        return false;
    *day_start = start;
    *day_end = (int64_t)next;
    return true;
}

bool text_copy(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size) {
        if (size > 0)
            dst[0] = '\0';
        return false;
    }
    if (len > 0)
        memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool text_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_blank(s[i]))
            return false;
    return true;
}

bool text_list_next(const char *text, size_t len, size_t *pos, const char **item, size_t *item_len)
{
    if (*pos > len)
        return false;
    const char *a = text + *pos, *comma = memchr(a, ',', len - *pos);
    const char *b = comma != NULL ? comma : text + len;
    *pos = (size_t)(b - text) + 1; /* past the comma; past the end after the last item */
    while (a < b && is_blank(*a))
        a++;
    while (b > a && is_blank(b[-1]))
        b--;
    *item = a;
    *item_len = (size_t)(b - a);
    return true;
}

int text_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *text_percent_decode(const char *s, size_t len, bool plus_space, size_t *out_len)
{
    char *out = malloc(len + 1);
    size_t n = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' && plus_space) {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? text_hex_value(s[i + 1]) : -1; /* both digits must be there */
            int lo = i + 2 < len ? text_hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                explicit_bzero(out, len + 1);
                free(out);
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (out_len != NULL)
        *out_len = n;
    return out;
}
