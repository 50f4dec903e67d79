/* push/push_message — see push_message.h. */
#include "push/push_message.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* The elements up to close ("</xml>") into obj; the end of close, or NULL when it is not that
 * shape. A repeated element keeps its first value. */
static const char *parse_elements(const char *p, const char *end, const char *close_all, json_t *obj)
{
    size_t close_all_len = strlen(close_all);
    for (;;) {
        p = skip_space(p, end);
        if ((size_t)(end - p) >= close_all_len && memcmp(p, close_all, close_all_len) == 0)
            return p + close_all_len;
        if (p >= end || *p != '<')
            return NULL;
        const char *name = ++p;
        while (p < end && *p != '>' && *p != ' ' && *p != '/')
            p++;
        size_t name_len = (size_t)(p - name);
        if (p >= end || *p != '>' || name_len == 0 || name_len > 64)
            return NULL;
        p++;
        char close[70];
        snprintf(close, sizeof close, "</%.*s>", (int)name_len, name);
        size_t close_len = strlen(close);
        const char *value = p, *value_end = NULL;
        if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            value = p + 9;
            const char *q = value;
            while (q + 3 <= end && memcmp(q, "]]>", 3) != 0)
                q++;
            if (q + 3 > end)
                return NULL;
            value_end = q;
            p = q + 3;
            if ((size_t)(end - p) < close_len || memcmp(p, close, close_len) != 0)
                return NULL;
        } else {
            const char *q = value;
            while (q + close_len <= end && memcmp(q, close, close_len) != 0)
                q++;
            if (q + close_len > end)
                return NULL;
            value_end = q;
            p = q;
        }
        p += close_len;
        char key[65];
        memcpy(key, name, name_len);
        key[name_len] = '\0';
        if (json_object_get(obj, key) == NULL &&
            json_object_set_new(obj, key, json_stringn(value, (size_t)(value_end - value))) != 0)
            return NULL;
    }
}

/* <xml>...</xml> into obj; false when it is not that shape. */
static bool parse_xml(const char *p, const char *end, json_t *obj)
{
    p = skip_space(p, end);
    if (end - p < 5 || memcmp(p, "<xml>", 5) != 0)
        return false;
    return parse_elements(p + 5, end, "</xml>", obj) != NULL;
}

json_t *push_message_parse(const char *body, size_t len)
{
    const char *end = body + len, *p = skip_space(body, end);
    if (p < end && *p == '{') {
        json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(obj))
            return obj;
        json_decref(obj);
        return NULL;
    }
    json_t *obj = json_object();
    if (obj != NULL && !parse_xml(p, end, obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

const char *push_message_text(json_t *msg, const char *name, char *buf, size_t size)
{
    json_t *v = json_object_get(msg, name);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* Appends the items of v (an object, or an array of objects) to list. */
static void append_items(json_t *list, json_t *v)
{
    if (json_is_object(v)) {
        json_array_append(list, v);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) if (json_is_object(item)) json_array_append(list, item);
}

json_t *push_message_list(json_t *msg, const char *wrapper)
{
    json_t *list = json_array();
    if (list == NULL)
        return NULL;
    json_t *outer = json_object_get(msg, wrapper);
    if (json_is_object(outer))
        append_items(list, json_object_get(outer, "List"));
    else if (!json_is_string(outer))
        append_items(list, json_object_get(msg, "List"));
    const char *p = json_string_value(outer), *end = p != NULL ? p + json_string_length(outer) : NULL;
    while (p != NULL) { /* XML: <List>...</List><List>...</List> */
        p = skip_space(p, end);
        if (end - p < 6 || memcmp(p, "<List>", 6) != 0)
            break;
        json_t *item = json_object();
        p = item != NULL ? parse_elements(p + 6, end, "</List>", item) : NULL;
        if (p != NULL)
            json_array_append(list, item);
        json_decref(item);
    }
    return list;
}
