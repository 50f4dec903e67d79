/*
 * http/json_out — compact JSON text written straight into a growing buffer.
 *
 * Used where an answer is big or hot enough that building a jansson tree and dumping it
 * costs more than the answer's content: the envelope of every answer (http/reply), a
 * meeting list page (an item is written as the row is read, no tree, one buffer).
 * Output: compact JSON, strings as UTF-8 with only '"', '\\' and control characters
 * escaped (never \u-escaped otherwise), integers in decimal.
 *
 * The caller writes keys, commas and brackets itself (json_out_lit(o, ",\"title\":")),
 * which is what makes it cheap; json_out_value() writes a whole jansson value where a
 * tree is at hand. An allocation failure marks the writer failed: later calls do nothing
 * and json_out_failed() tells it once at the end. Not thread-safe (one writer, one thread).
 */
#ifndef MEETOA_HTTP_JSON_OUT_H
#define MEETOA_HTTP_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct json_out {
    char *base; /* malloc'd (NULL until the first write), or the caller's (fixed) */
    size_t len, cap;
    bool failed;
    bool fixed; /* base is the caller's buffer of cap bytes: never grown nor freed */
} json_out_t;

#define JSON_OUT_INIT                                                                                                  \
    {                                                                                                                  \
        NULL, 0, 0, false, false                                                                                       \
    }

/* Starts o on the caller's buffer buf[0..cap): a write that does not fit marks o failed. */
void json_out_fixed(json_out_t *o, char *buf, size_t cap);

/* Makes room for more bytes (a hint: writes grow the buffer anyway). */
void json_out_reserve(json_out_t *o, size_t more);
/* Raw bytes, already JSON. */
void json_out_bytes(json_out_t *o, const char *s, size_t n);
#define json_out_lit(o, lit) json_out_bytes((o), (lit), sizeof(lit) - 1)
/* A JSON string of s[0..n) (UTF-8 as it is), and of a NUL-terminated s. */
void json_out_string(json_out_t *o, const char *s, size_t n);
void json_out_cstr(json_out_t *o, const char *s);
void json_out_int(json_out_t *o, int64_t v);
/* Any jansson value (objects' keys in their order). */
void json_out_value(json_out_t *o, const json_t *v);

static inline bool json_out_failed(const json_out_t *o)
{
    return o->failed;
}
/* Frees the buffer (not a fixed one) and resets o to empty. */
void json_out_free(json_out_t *o);

#endif
