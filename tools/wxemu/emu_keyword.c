/*
 * emu_keyword — subscription-message keyword value rules (see emu_keyword.h).
 *
 * A value is decoded into code points first (at most KW_CP_MAX: every bounded rule is far below it;
 * only enum, which has no bound here, is checked while decoding). The time and date rules are a
 * small recursive-descent parser over those code points, with backtracking between the few
 * alternatives (a time point may or may not start with a date).
 */
#include "emu_keyword.h"

#include <stdint.h>
#include <string.h>

#define KW_CP_MAX 64

static const struct {
    const char *name;
    emu_kw_type_t type;
} KW_TYPES[] = {
    {"thing", EMU_KW_THING},
    {"number", EMU_KW_NUMBER},
    {"letter", EMU_KW_LETTER},
    {"symbol", EMU_KW_SYMBOL},
    {"character_string", EMU_KW_CHARACTER_STRING},
    {"time", EMU_KW_TIME},
    {"date", EMU_KW_DATE},
    {"amount", EMU_KW_AMOUNT},
    {"phone_number", EMU_KW_PHONE_NUMBER},
    {"car_number", EMU_KW_CAR_NUMBER},
    {"name", EMU_KW_NAME},
    {"phrase", EMU_KW_PHRASE},
    {"enum", EMU_KW_ENUM},
};

emu_kw_type_t emu_keyword_type(const char *name, size_t len)
{
    size_t digits = 0;
    while (digits < len && name[len - 1 - digits] >= '0' && name[len - 1 - digits] <= '9')
        ++digits;
    if (digits == 0 || digits > 3)
        return EMU_KW_NONE;
    size_t base = len - digits;
    for (size_t i = 0; i < sizeof(KW_TYPES) / sizeof(KW_TYPES[0]); ++i)
        if (strlen(KW_TYPES[i].name) == base && memcmp(KW_TYPES[i].name, name, base) == 0)
            return KW_TYPES[i].type;
    return EMU_KW_NONE;
}

/* Code points ------------------------------------------------------------------------------------- */

/* The code point at s[*i] (advancing *i), or -1 for invalid UTF-8 (overlong, surrogate, > U+10FFFF). */
static int32_t next_cp(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t left = len - *i, n;
    uint32_t cp, min;

    if (p[0] < 0x80) {
        *i += 1;
        return p[0];
    }
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, cp = p[0] & 0x1fu, min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, cp = p[0] & 0x0fu, min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, cp = p[0] & 0x07u, min = 0x10000;
    } else {
        return -1;
    }
    if (left < n)
        return -1;
    for (size_t k = 1; k < n; ++k) {
        if ((p[k] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += n;
    return (int32_t)cp;
}

static bool is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* Decodes value into cps (at most KW_CP_MAX); -1 when invalid, holding a control character, or longer. */
static long decode(const char *value, size_t len, uint32_t cps[KW_CP_MAX])
{
    size_t i = 0, n = 0;
    while (i < len) {
        int32_t c = next_cp(value, len, &i);
        if (c < 0 || is_control((uint32_t)c) || n == KW_CP_MAX)
            return -1;
        cps[n++] = (uint32_t)c;
    }
    return (long)n;
}

static bool is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_ascii_punct(uint32_t c)
{
    return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* ASCII punctuation, Latin-1 signs, general punctuation, CJK and full-width punctuation and signs. */
static bool is_symbol(uint32_t c)
{
    return is_ascii_punct(c) || (c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7 || (c >= 0x2010 && c <= 0x2027) ||
           (c >= 0x2030 && c <= 0x205e) || (c >= 0x20a0 && c <= 0x20bf) || (c >= 0x3001 && c <= 0x303f) ||
           (c >= 0xff01 && c <= 0xff0f) || (c >= 0xff1a && c <= 0xff20) || (c >= 0xff3b && c <= 0xff40) ||
           (c >= 0xff5b && c <= 0xff65) || (c >= 0xffe0 && c <= 0xffe6);
}

/* CJK ideographs (unified, extension A, compatibility, the supplementary planes' extensions). */
static bool is_chinese(uint32_t c)
{
    return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff) ||
           (c >= 0x20000 && c <= 0x3134f);
}

static bool all_of(const uint32_t *cps, size_t n, bool (*pred)(uint32_t))
{
    for (size_t i = 0; i < n; ++i)
        if (!pred(cps[i]))
            return false;
    return true;
}

static bool is_character_string(uint32_t c)
{
    return c >= 0x21 && c <= 0x7e;
}

static bool is_phone_char(uint32_t c)
{
    return is_digit(c) || c == '+' || c == '-' || c == ' ';
}

static bool is_alnum(uint32_t c)
{
    return is_digit(c) || is_letter(c);
}

/* number: digits with at most one '.', which has digits on both sides; 1..32 digits. */
static bool number_ok(const uint32_t *cps, size_t n)
{
    size_t digits = 0, points = 0;
    for (size_t i = 0; i < n; ++i) {
        if (is_digit(cps[i])) {
            ++digits;
        } else if (cps[i] == '.' && i > 0 && i + 1 < n && points == 0) {
            ++points;
        } else {
            return false;
        }
    }
    return digits >= 1 && digits <= 32;
}

/* amount: [currency sign] 1..10 digits [. 1..2 digits] [元]. */
static bool amount_ok(const uint32_t *cps, size_t n)
{
    size_t i = 0, digits = 0, decimals = 0;
    if (i < n && (cps[i] == '$' || cps[i] == 0xa5 || cps[i] == 0xffe5 || cps[i] == 0x20ac || cps[i] == 0xa3))
        ++i;
    while (i < n && is_digit(cps[i]))
        ++i, ++digits;
    if (digits < 1 || digits > 10)
        return false;
    if (i < n && cps[i] == '.') {
        ++i;
        while (i < n && is_digit(cps[i]))
            ++i, ++decimals;
        if (decimals < 1 || decimals > 2)
            return false;
    }
    if (i < n && cps[i] == 0x5143) /* 元 */
        ++i;
    return i == n;
}

static bool car_number_ok(const uint32_t *cps, size_t n)
{
    if (n < 2 || n > 8)
        return false;
    for (size_t i = 1; i + 1 < n; ++i)
        if (!is_alnum(cps[i]))
            return false;
    return (is_alnum(cps[0]) || is_chinese(cps[0])) && (is_alnum(cps[n - 1]) || is_chinese(cps[n - 1]));
}

static bool name_ok(const uint32_t *cps, size_t n)
{
    bool ascii = true;
    for (size_t i = 0; i < n; ++i)
        ascii = ascii && cps[i] < 0x80;
    return n <= (ascii ? 20u : 10u);
}

/* Times and dates ---------------------------------------------------------------------------------- */

typedef struct kw_cursor {
    const uint32_t *cps;
    size_t n, pos;
} kw_cursor_t;

static bool accept_cp(kw_cursor_t *c, uint32_t cp)
{
    if (c->pos < c->n && c->cps[c->pos] == cp) {
        ++c->pos;
        return true;
    }
    return false;
}

static void skip_spaces(kw_cursor_t *c)
{
    while (c->pos < c->n && (c->cps[c->pos] == ' ' || c->cps[c->pos] == 0x3000))
        ++c->pos;
}

/* min..max digits into *value. */
static bool accept_uint(kw_cursor_t *c, size_t min, size_t max, unsigned *value)
{
    size_t start = c->pos;
    *value = 0;
    while (c->pos < c->n && c->pos - start < max && is_digit(c->cps[c->pos]))
        *value = *value * 10 + (c->cps[c->pos++] - '0');
    if (c->pos - start < min || (c->pos < c->n && is_digit(c->cps[c->pos]))) {
        c->pos = start;
        return false;
    }
    return true;
}

static bool month_day_ok(unsigned month, unsigned day)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* YYYY年M月D日 | YYYY-M-D | YYYY/M/D | YYYY.M.D | M月D日 */
static bool accept_date(kw_cursor_t *c)
{
    size_t start = c->pos;
    unsigned year, month, day;

    if (accept_uint(c, 4, 4, &year)) {
        if (accept_cp(c, 0x5e74 /* 年 */)) {
            if (accept_uint(c, 1, 2, &month) && accept_cp(c, 0x6708 /* 月 */) && accept_uint(c, 1, 2, &day) &&
                accept_cp(c, 0x65e5 /* 日 */) && month_day_ok(month, day))
                return true;
        } else if (c->pos < c->n && (c->cps[c->pos] == '-' || c->cps[c->pos] == '/' || c->cps[c->pos] == '.')) {
            uint32_t sep = c->cps[c->pos++];
            if (accept_uint(c, 1, 2, &month) && accept_cp(c, sep) && accept_uint(c, 1, 2, &day) &&
                month_day_ok(month, day))
                return true;
        }
        c->pos = start;
        return false;
    }
    if (accept_uint(c, 1, 2, &month) && accept_cp(c, 0x6708) && accept_uint(c, 1, 2, &day) && accept_cp(c, 0x65e5) &&
        month_day_ok(month, day))
        return true;
    c->pos = start;
    return false;
}

/* H:MM | H:MM:SS (24-hour) */
static bool accept_clock(kw_cursor_t *c)
{
    size_t start = c->pos;
    unsigned hour, minute, second;

    if (accept_uint(c, 1, 2, &hour) && hour <= 23 && accept_cp(c, ':') && accept_uint(c, 2, 2, &minute) &&
        minute <= 59) {
        size_t before_seconds = c->pos;
        if (!(accept_cp(c, ':') && accept_uint(c, 2, 2, &second) && second <= 59))
            c->pos = before_seconds;
        return true;
    }
    c->pos = start;
    return false;
}

/* date [spaces clock] */
static bool accept_date_point(kw_cursor_t *c, bool clock_required)
{
    size_t start = c->pos;
    if (!accept_date(c))
        return false;
    size_t after_date = c->pos;
    skip_spaces(c);
    if (accept_clock(c))
        return true;
    c->pos = after_date;
    if (clock_required) {
        c->pos = start;
        return false;
    }
    return true;
}

/* The first point: time keywords "[date ]clock", date keywords "date[ clock]". */
static bool accept_first_point(kw_cursor_t *c, emu_kw_type_t type)
{
    if (type == EMU_KW_DATE)
        return accept_date_point(c, false);
    return accept_date_point(c, true) || accept_clock(c);
}

static bool time_or_date_ok(const uint32_t *cps, size_t n, emu_kw_type_t type)
{
    kw_cursor_t c = {cps, n, 0};
    if (!accept_first_point(&c, type))
        return false;
    skip_spaces(&c);
    if (c.pos == n)
        return true;
    if (!accept_cp(&c, '~') && !accept_cp(&c, 0xff5e /* ～ */))
        return false;
    skip_spaces(&c);
    if (!accept_date_point(&c, false) && !accept_clock(&c))
        return false;
    skip_spaces(&c);
    return c.pos == n;
}

/* Every rule ---------------------------------------------------------------------------------------- */

/* enum: any non-empty valid UTF-8 without control characters, however long. */
static bool enum_ok(const char *value, size_t len)
{
    size_t i = 0;
    while (i < len) {
        int32_t c = next_cp(value, len, &i);
        if (c < 0 || is_control((uint32_t)c))
            return false;
    }
    return len > 0;
}

bool emu_keyword_value_ok(emu_kw_type_t type, const char *value, size_t len)
{
    uint32_t cps[KW_CP_MAX];
    if (value == NULL || len == 0)
        return false;
    if (type == EMU_KW_ENUM)
        return enum_ok(value, len);
    long decoded = decode(value, len, cps);
    if (decoded <= 0)
        return false;
    size_t n = (size_t)decoded;
    switch (type) {
    case EMU_KW_THING:
        return n <= 20;
    case EMU_KW_NUMBER:
        return number_ok(cps, n);
    case EMU_KW_LETTER:
        return n <= 32 && all_of(cps, n, is_letter);
    case EMU_KW_SYMBOL:
        return n <= 5 && all_of(cps, n, is_symbol);
    case EMU_KW_CHARACTER_STRING:
        return n <= 32 && all_of(cps, n, is_character_string);
    case EMU_KW_TIME:
    case EMU_KW_DATE:
        return time_or_date_ok(cps, n, type);
    case EMU_KW_AMOUNT:
        return amount_ok(cps, n);
    case EMU_KW_PHONE_NUMBER:
        return n <= 17 && all_of(cps, n, is_phone_char);
    case EMU_KW_CAR_NUMBER:
        return car_number_ok(cps, n);
    case EMU_KW_NAME:
        return name_ok(cps, n);
    case EMU_KW_PHRASE:
        return n <= 5 && all_of(cps, n, is_chinese);
    default:
        return false;
    }
}
