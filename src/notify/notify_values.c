/* notify_values — see notify_values.h. */
#include "notify/notify_values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/json_out.h"

static const char *const FIELD_NAMES[NOTIFY_FIELDS] = {"title", "time", "start", "place", "host", "result", "reason"};

static void set_err(char *err, size_t size, const char *fmt, const char *arg)
{
    if (err != NULL && size > 0)
        snprintf(err, size, fmt, arg);
}

/* The type of a keyword: its name without the trailing digits ("thing1" -> "thing"). */
static size_t type_len(const char *keyword)
{
    size_t n = strlen(keyword);
    while (n > 0 && keyword[n - 1] >= '0' && keyword[n - 1] <= '9')
        n--;
    return n;
}

static bool type_is(const char *keyword, const char *type)
{
    size_t n = type_len(keyword);
    return n == strlen(type) && strncmp(keyword, type, n) == 0;
}

static const char *const TYPES[] = {"thing", "number", "letter", "symbol",       "character_string",
                                    "time",  "date",   "amount", "phone_number", "car_number",
                                    "name",  "phrase", "enum"};

static bool keyword_ok(const char *k, size_t len)
{
    if (len == 0 || len >= NOTIFY_KEYWORD_SIZE)
        return false;
    size_t t = 0;
    while (t < len && ((k[t] >= 'a' && k[t] <= 'z') || k[t] == '_'))
        t++;
    if (t == len || t == 0)
        return false; /* a type and a number */
    for (size_t i = t; i < len; i++)
        if (k[i] < '0' || k[i] > '9')
            return false;
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strlen(TYPES[i]) == t && strncmp(k, TYPES[i], t) == 0)
            return true;
    return false;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

bool notify_map_parse(const char *text, notify_map_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        char pair[96];
        snprintf(pair, sizeof pair, "%.*s", (int)(end - p), p);
        if (eq == NULL) {
            set_err(err, err_size, "'%s' is not keyword=field", pair);
            return false;
        }
        const char *ks = p, *ke = eq, *fs = eq + 1, *fe = end;
        trim(&ks, &ke);
        trim(&fs, &fe);
        if (!keyword_ok(ks, (size_t)(ke - ks))) {
            set_err(err, err_size, "'%s': the keyword is a WeChat keyword type and its number, e.g. thing1", pair);
            return false;
        }
        int field = -1;
        for (int f = 0; f < NOTIFY_FIELDS; f++)
            if (strlen(FIELD_NAMES[f]) == (size_t)(fe - fs) && strncmp(fs, FIELD_NAMES[f], (size_t)(fe - fs)) == 0)
                field = f;
        if (field < 0) {
            set_err(err, err_size, "'%s': the field is one of title, time, start, place, host, result, reason", pair);
            return false;
        }
        if (out->n == NOTIFY_KEYWORDS_MAX) {
            set_err(err, err_size, "%s", "at most 10 keywords");
            return false;
        }
        snprintf(out->keyword[out->n], NOTIFY_KEYWORD_SIZE, "%.*s", (int)(ke - ks), ks);
        for (int i = 0; i < out->n; i++)
            if (strcmp(out->keyword[i], out->keyword[out->n]) == 0) {
                set_err(err, err_size, "'%s': the keyword is given twice", pair);
                return false;
            }
        out->field[out->n++] = (notify_field_t)field;
        p = *end == ',' ? end + 1 : end;
    }
    if (out->n == 0) {
        set_err(err, err_size, "%s", "no keyword=field pair");
        return false;
    }
    return true;
}

/* The code point at s (valid UTF-8 expected; a bad byte reads as itself) and its length. */
static unsigned next_cp(const unsigned char *s, size_t *len)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *len = 1;
            return c;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *len = (size_t)n;
    return cp;
}

typedef bool (*keep_fn)(unsigned cp);

static bool keep_any(unsigned cp)
{
    return cp >= 0x20 && cp != 0x7F;
}
static bool keep_han(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF);
}
static bool keep_ascii_graph(unsigned cp)
{
    return cp > 0x20 && cp < 0x7F;
}
static bool keep_letter(unsigned cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}
static bool keep_symbol(unsigned cp)
{
    return keep_ascii_graph(cp) && !keep_letter(cp) && !(cp >= '0' && cp <= '9');
}
static bool keep_phone(unsigned cp)
{
    return (cp >= '0' && cp <= '9') || cp == '+' || cp == '-' || cp == ' ';
}
static bool keep_number(unsigned cp)
{
    return (cp >= '0' && cp <= '9') || cp == '.';
}

/* Copies the characters of value that keep() accepts, at most max of them (max-1 and '…' when
 * more would follow and ellipsis), within size bytes. */
static void cut(const char *value, keep_fn keep, size_t max, bool ellipsis, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)value;
    size_t kept = 0, o = 0, total = 0;
    for (const unsigned char *q = p; *q != '\0';) {
        size_t n;
        if (keep(next_cp(q, &n)))
            total++;
        q += n;
    }
    bool dots = ellipsis && total > max;
    size_t room = dots ? max - 1 : max;
    bool seen_dot = false;
    while (*p != '\0' && kept < room) {
        size_t n;
        unsigned cp = next_cp(p, &n);
        if (keep(cp) && !(keep == keep_number && cp == '.' && seen_dot)) {
            if (o + n + 4 > size)
                break;
            memcpy(out + o, p, n);
            o += n;
            kept++;
            seen_dot = seen_dot || cp == '.';
        }
        p += n;
    }
    if (dots && o + 3 < size) {
        memcpy(out + o, "\xE2\x80\xA6", 3);
        o += 3;
    }
    out[o] = '\0';
}

void notify_value_fit(const char *keyword, const char *value, char *out, size_t size)
{
    const char *empty = "无";
    if (type_is(keyword, "thing")) {
        cut(value, keep_any, 20, true, out, size);
    } else if (type_is(keyword, "name")) {
        bool ascii = true;
        for (const char *c = value; *c != '\0'; c++)
            ascii = ascii && (unsigned char)*c < 0x80;
        cut(value, keep_any, ascii ? 20 : 10, false, out, size);
    } else if (type_is(keyword, "phrase")) {
        cut(value, keep_han, 5, false, out, size);
    } else if (type_is(keyword, "character_string")) {
        cut(value, keep_ascii_graph, 32, false, out, size);
        empty = "-";
    } else if (type_is(keyword, "number")) {
        cut(value, keep_number, 32, false, out, size);
        empty = "0";
    } else if (type_is(keyword, "letter")) {
        cut(value, keep_letter, 32, false, out, size);
        empty = "x";
    } else if (type_is(keyword, "symbol")) {
        cut(value, keep_symbol, 5, false, out, size);
        empty = "-";
    } else if (type_is(keyword, "phone_number")) {
        cut(value, keep_phone, 17, false, out, size);
        empty = "-";
    } else if (type_is(keyword, "car_number")) {
        cut(value, keep_any, 8, false, out, size);
        empty = "x";
    } else {
        /* time, date, amount, enum: as they are (ours are well formed) */
        cut(value, keep_any, 64, false, out, size);
        if (type_is(keyword, "amount"))
            empty = "0";
    }
    if (out[0] == '\0')
        snprintf(out, size, "%s", empty);
}

static bool local(int64_t at, struct tm *tm)
{
    time_t t = (time_t)at;
    return localtime_r(&t, tm) != NULL;
}

void notify_time_point(int64_t at, char *out, size_t size)
{
    struct tm tm;
    if (!local(at, &tm)) {
        snprintf(out, size, "%s", "");
        return;
    }
    snprintf(out, size, "%04d年%02d月%02d日 %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min);
}

void notify_time_range(int64_t start_at, int64_t end_at, char *out, size_t size)
{
    struct tm a, b;
    char first[40];
    notify_time_point(start_at, first, sizeof first);
    if (!local(start_at, &a) || !local(end_at, &b)) {
        snprintf(out, size, "%s", first);
    } else if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday) {
        snprintf(out, size, "%s~%02d:%02d", first, b.tm_hour, b.tm_min);
    } else {
        char second[40];
        notify_time_point(end_at, second, sizeof second);
        snprintf(out, size, "%s~%s", first, second);
    }
}

char *notify_data_json(const notify_map_t *map, const char *const values[NOTIFY_FIELDS])
{
    json_out_t o = JSON_OUT_INIT;
    char fitted[512];
    json_out_lit(&o, "{");
    for (int i = 0; i < map->n; i++) {
        const char *v = values[map->field[i]];
        notify_value_fit(map->keyword[i], v != NULL ? v : "", fitted, sizeof fitted);
        if (i > 0)
            json_out_lit(&o, ",");
        json_out_cstr(&o, map->keyword[i]);
        json_out_lit(&o, ":{\"value\":");
        json_out_cstr(&o, fitted);
        json_out_lit(&o, "}");
    }
    json_out_lit(&o, "}");
    json_out_bytes(&o, "", 1); /* the NUL */
    if (json_out_failed(&o)) {
        json_out_free(&o);
        return NULL;
    }
    return o.base;
}
