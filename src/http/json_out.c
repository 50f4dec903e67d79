/* http/json_out — see json_out.h. */
#include "http/json_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_out_fixed(json_out_t *o, char *buf, size_t cap)
{
    *o = (json_out_t){.base = buf, .cap = cap, .fixed = true};
}

void json_out_reserve(json_out_t *o, size_t more)
{
    if (o->failed || o->len + more <= o->cap)
        return;
    if (o->fixed) {
        o->failed = true;
        return;
    }
    size_t cap = o->cap ? o->cap * 2 : 256;
    while (cap < o->len + more)
        cap *= 2;
    char *base = realloc(o->base, cap);
    if (base == NULL) {
        o->failed = true;
        return;
    }
    o->base = base;
    o->cap = cap;
}

void json_out_bytes(json_out_t *o, const char *s, size_t n)
{
    json_out_reserve(o, n);
    if (o->failed)
        return;
    memcpy(o->base + o->len, s, n);
    o->len += n;
}

/* Whether c needs an escape: a control character, '"' or '\\'. */
static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* The index of the first byte of s[i..n) that needs an escape, or n. Eight bytes at a time: a
 * word with none of them (no byte below 0x20, none equal to '"' or '\\') is skipped at once;
 * the bit tricks may flag a word that has none, which the byte loop then passes over. */
static size_t next_escape(const char *s, size_t i, size_t n)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
        uint64_t flagged = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
        if (flagged & highs)
            break;
    }
    for (; i < n && !needs_escape((unsigned char)s[i]); i++)
        ;
    return i;
}

void json_out_string(json_out_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    json_out_reserve(o, n + 2);
    json_out_lit(o, "\"");
    size_t plain = 0; /* start of the run of bytes that need no escape */
    for (size_t i; (i = next_escape(s, plain, n)) < n;) {
        unsigned char c = (unsigned char)s[i];
        json_out_bytes(o, s + plain, i - plain);
        plain = i + 1;
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        switch (c) {
        case '"':
        case '\\':
            json_out_bytes(o, esc, 2);
            break;
        case '\n':
            json_out_lit(o, "\\n");
            break;
        case '\t':
            json_out_lit(o, "\\t");
            break;
        case '\r':
            json_out_lit(o, "\\r");
            break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            json_out_bytes(o, esc, 6);
        }
    }
    json_out_bytes(o, s + plain, n - plain);
    json_out_lit(o, "\"");
}

void json_out_cstr(json_out_t *o, const char *s)
{
    json_out_string(o, s, strlen(s));
}

void json_out_int(json_out_t *o, int64_t v)
{
    char buf[24], *p = buf + sizeof(buf);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    json_out_bytes(o, p, (size_t)(buf + sizeof(buf) - p));
}

void json_out_value(json_out_t *o, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        json_out_lit(o, "{");
        json_object_foreach((json_t *)v, key, item)
        {
            if (!first)
                json_out_lit(o, ",");
            first = false;
            json_out_cstr(o, key);
            json_out_lit(o, ":");
            json_out_value(o, item);
        }
        json_out_lit(o, "}");
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        json_out_lit(o, "[");
        json_array_foreach(v, i, item)
        {
            if (i > 0)
                json_out_lit(o, ",");
            json_out_value(o, item);
        }
        json_out_lit(o, "]");
        break;
    }
    case JSON_STRING:
        json_out_string(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        json_out_int(o, json_integer_value(v));
        break;
    case JSON_REAL: {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        json_out_bytes(o, buf, (size_t)n);
        break;
    }
    case JSON_TRUE:
        json_out_lit(o, "true");
        break;
    case JSON_FALSE:
        json_out_lit(o, "false");
        break;
    case JSON_NULL:
        json_out_lit(o, "null");
        break;
    }
}

void json_out_free(json_out_t *o)
{
    if (!o->fixed)
        free(o->base);
    *o = (json_out_t)JSON_OUT_INIT;
}
