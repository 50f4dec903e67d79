/*
 * storage/multipart — see multipart.h.
 *
 * The body is read as RFC 2046 lays it out:
 *   preamble, dash-boundary, then for each part: padding CRLF, header lines, CRLF, data,
 *   delimiter (CRLF "--" boundary); the last delimiter is followed by "--" and the epilogue.
 * The parser never copies: it searches the delimiter with memmem() (linear), checks what
 * follows each candidate ("--", or blanks then CRLF; anything else means the candidate was
 * data), and reads each part's header lines inside a window of MULTIPART_HEADERS_MAX
 * bytes. Every index is compared with the slice's length before it is used.
 */
#include "storage/multipart.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* A position in a slice of header text. */
typedef struct cursor {
    const char *p;
    size_t len;
    size_t i;
} cursor_t;

typedef struct parser {
    const char *body;
    size_t len;
    char delim[4 + MULTIPART_BOUNDARY_MAX]; /* CRLF "--" boundary */
    size_t delim_len;
} parser_t;

typedef struct part_headers {
    bool has_disposition;
    multipart_slice_t name;
    multipart_slice_t filename;
    multipart_slice_t content_type;
} part_headers_t;

/* ---- characters ---- */

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars (bcharsnospace and space). */
static bool is_bchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

/* RFC 9110 qdtext: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text. */
static bool is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/* A byte allowed in a header line (field-vchar, SP, HTAB): no control character. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool slice_ieq(multipart_slice_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.base, lit, n) == 0;
}

/* ---- header-value tokens ---- */

static void skip_ows(cursor_t *c)
{
    while (c->i < c->len && (c->p[c->i] == ' ' || c->p[c->i] == '\t'))
        c->i++;
}

static bool read_token(cursor_t *c, multipart_slice_t *out)
{
    size_t start = c->i;
    while (c->i < c->len && is_tchar((unsigned char)c->p[c->i]))
        c->i++;
    *out = (multipart_slice_t){c->p + start, c->i - start};
    return c->i > start;
}

/* A quoted-string; *out is the raw text between the quotes (escapes left in). */
static bool read_quoted(cursor_t *c, multipart_slice_t *out)
{
    if (c->i >= c->len || c->p[c->i] != '"')
        return false;
    size_t start = ++c->i;
    while (c->i < c->len) {
        unsigned char ch = (unsigned char)c->p[c->i];
        if (ch == '"') {
            *out = (multipart_slice_t){c->p + start, c->i - start};
            c->i++;
            return true;
        }
        if (ch == '\\') {
            if (c->i + 1 >= c->len || !is_field_char((unsigned char)c->p[c->i + 1]))
                return false;
            c->i += 2;
            continue;
        }
        if (!is_qdtext(ch))
            return false;
        c->i++;
    }
    return false; /* no closing quote */
}

/*
 * One parameter: OWS ";" OWS name "=" (token | quoted-string). Returns 1 when one was read,
 * 0 at the end of the value (trailing blanks allowed), -1 when malformed.
 */
static int next_param(cursor_t *c, multipart_slice_t *name, multipart_slice_t *value)
{
    skip_ows(c);
    if (c->i == c->len)
        return 0;
    if (c->p[c->i] != ';')
        return -1;
    c->i++;
    skip_ows(c);
    if (!read_token(c, name) || c->i >= c->len || c->p[c->i] != '=')
        return -1;
    c->i++;
    bool quoted = c->i < c->len && c->p[c->i] == '"';
    if (quoted ? !read_quoted(c, value) : !read_token(c, value))
        return -1;
    return 1;
}

/* ---- the request's Content-Type ---- */

static bool boundary_valid(multipart_slice_t b)
{
    if (b.len < 1 || b.len > MULTIPART_BOUNDARY_MAX || b.base[b.len - 1] == ' ')
        return false;
    for (size_t i = 0; i < b.len; i++)
        if (!is_bchar((unsigned char)b.base[i]))
            return false; /* also refuses the backslash of a quoted-pair */
    return true;
}

multipart_rc multipart_boundary(const char *content_type, size_t content_type_len, multipart_slice_t *boundary)
{
    if (content_type == NULL)
        return MULTIPART_NOT_MULTIPART;
    cursor_t c = {content_type, content_type_len, 0};
    multipart_slice_t type, subtype, name, value, found = {NULL, 0};
    skip_ows(&c);
    if (!read_token(&c, &type) || c.i >= c.len || c.p[c.i] != '/')
        return MULTIPART_NOT_MULTIPART;
    c.i++;
    if (!read_token(&c, &subtype) || !slice_ieq(type, "multipart") || !slice_ieq(subtype, "form-data"))
        return MULTIPART_NOT_MULTIPART;
    int more;
    while ((more = next_param(&c, &name, &value)) == 1) {
        if (!slice_ieq(name, "boundary"))
            continue;
        if (found.base != NULL || !boundary_valid(value))
            return MULTIPART_NOT_MULTIPART;
        found = value;
    }
    if (more < 0 || found.base == NULL)
        return MULTIPART_NOT_MULTIPART;
    *boundary = found;
    return MULTIPART_OK;
}

/* ---- part headers ---- */

static multipart_rc read_disposition(multipart_slice_t value, part_headers_t *h)
{
    cursor_t c = {value.base, value.len, 0};
    multipart_slice_t type, name, v;
    if (h->has_disposition || !read_token(&c, &type) || !slice_ieq(type, "form-data"))
        return MULTIPART_MALFORMED;
    h->has_disposition = true;
    int more;
    while ((more = next_param(&c, &name, &v)) == 1) {
        multipart_slice_t *slot = NULL;
        if (slice_ieq(name, "name"))
            slot = &h->name;
        else if (slice_ieq(name, "filename"))
            slot = &h->filename;
        if (slot == NULL)
            continue; /* filename* and other extensions are not used */
        if (slot->base != NULL)
            return MULTIPART_MALFORMED;
        *slot = v;
    }
    if (more < 0 || h->name.base == NULL)
        return MULTIPART_MALFORMED;
    return MULTIPART_OK;
}

/* One header line (CRLF excluded): name ":" OWS value OWS. */
static multipart_rc read_header_line(const char *line, size_t len, part_headers_t *h)
{
    for (size_t i = 0; i < len; i++)
        if (!is_field_char((unsigned char)line[i]))
            return MULTIPART_MALFORMED;
    cursor_t c = {line, len, 0};
    multipart_slice_t name;
    if (!read_token(&c, &name) || c.i >= c.len || c.p[c.i] != ':') /* also refuses folded lines */
        return MULTIPART_MALFORMED;
    c.i++;
    skip_ows(&c);
    size_t end = len;
    while (end > c.i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        end--;
    multipart_slice_t value = {line + c.i, end - c.i};
    if (slice_ieq(name, "content-disposition"))
        return read_disposition(value, h);
    if (slice_ieq(name, "content-type")) {
        if (h->content_type.base != NULL || value.len == 0)
            return MULTIPART_MALFORMED;
        h->content_type = value;
    }
    return MULTIPART_OK;
}

/* Reads the header block that starts at pos; *data_start is just after its blank line. */
static multipart_rc read_headers(const parser_t *p, size_t pos, part_headers_t *h, size_t *data_start)
{
    size_t limit = p->len - pos > MULTIPART_HEADERS_MAX ? pos + MULTIPART_HEADERS_MAX : p->len;
    size_t line = pos;
    for (;;) {
        const char *eol = memmem(p->body + line, limit - line, "\r\n", 2);
        if (eol == NULL)
            return limit < p->len ? MULTIPART_HEADERS_TOO_LONG : MULTIPART_MALFORMED;
        size_t end = (size_t)(eol - p->body);
        if (end == line)
            break;
        multipart_rc rc = read_header_line(p->body + line, end - line, h);
        if (rc != MULTIPART_OK)
            return rc;
        line = end + 2;
    }
    *data_start = line + 2;
    return h->has_disposition ? MULTIPART_OK : MULTIPART_MALFORMED;
}

/* ---- delimiters ---- */

/* What follows a boundary that ends at q: "--" (close) or blanks then CRLF (open). */
static bool delimiter_end(const parser_t *p, size_t q, size_t *after, bool *close)
{
    if (p->len - q >= 2 && p->body[q] == '-' && p->body[q + 1] == '-') {
        *close = true;
        *after = q + 2;
        return true;
    }
    while (q < p->len && (p->body[q] == ' ' || p->body[q] == '\t'))
        q++;
    if (p->len - q >= 2 && p->body[q] == '\r' && p->body[q + 1] == '\n') {
        *close = false;
        *after = q + 2;
        return true;
    }
    return false;
}

/*
 * The first delimiter at or after from: *start where it begins (the end of the data before
 * it), *after where what follows it begins. At the very start of the body the leading
 * CRLF is not needed (an empty preamble).
 */
static bool find_delimiter(const parser_t *p, size_t from, size_t *start, size_t *after, bool *close)
{
    size_t dash_len = p->delim_len - 2;
    if (from == 0 && p->len >= dash_len && memcmp(p->body, p->delim + 2, dash_len) == 0 &&
        delimiter_end(p, dash_len, after, close)) {
        *start = 0;
        return true;
    }
    while (from < p->len) {
        const char *hit = memmem(p->body + from, p->len - from, p->delim, p->delim_len);
        if (hit == NULL)
            return false;
        size_t s = (size_t)(hit - p->body);
        if (delimiter_end(p, s + p->delim_len, after, close)) {
            *start = s;
            return true;
        }
        from = s + 1; /* the boundary text was data */
    }
    return false;
}

/* ---- the body ---- */

static bool name_is(multipart_slice_t s, const char *name)
{
    size_t n = strlen(name);
    return s.len == n && memcmp(s.base, name, n) == 0;
}

multipart_rc multipart_find(const char *content_type, size_t content_type_len, const char *body, size_t body_len,
                            const char *name, multipart_part_t *out)
{
    multipart_slice_t boundary;
    multipart_rc rc = multipart_boundary(content_type, content_type_len, &boundary);
    if (rc != MULTIPART_OK)
        return rc;
    parser_t p = {.body = body, .len = body != NULL ? body_len : 0};
    memcpy(p.delim, "\r\n--", 4);
    memcpy(p.delim + 4, boundary.base, boundary.len);
    p.delim_len = 4 + boundary.len;

    size_t start, after;
    bool close;
    if (!find_delimiter(&p, 0, &start, &after, &close))
        return MULTIPART_MALFORMED;
    bool found = false;
    multipart_part_t part = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    for (int parts = 1; !close; parts++) {
        if (parts > MULTIPART_PARTS_MAX)
            return MULTIPART_TOO_MANY_PARTS;
        part_headers_t h = {false, {NULL, 0}, {NULL, 0}, {NULL, 0}};
        size_t data_start;
        if ((rc = read_headers(&p, after, &h, &data_start)) != MULTIPART_OK)
            return rc;
        if (!find_delimiter(&p, data_start, &start, &after, &close))
            return MULTIPART_MALFORMED; /* truncated, or no closing delimiter */
        if (!name_is(h.name, name))
            continue;
        if (found)
            return MULTIPART_DUPLICATE;
        found = true;
        part.data = (multipart_slice_t){p.body + data_start, start - data_start};
        part.filename = h.filename;
        part.content_type = h.content_type;
    }
    if (!found)
        return MULTIPART_NO_PART;
    *out = part;
    return MULTIPART_OK;
}

const char *multipart_rc_text(multipart_rc rc)
{
    switch (rc) {
    case MULTIPART_OK:
        return "ok";
    case MULTIPART_NOT_MULTIPART:
        return "not multipart/form-data with a valid boundary";
    case MULTIPART_MALFORMED:
        return "malformed multipart body";
    case MULTIPART_HEADERS_TOO_LONG:
        return "part headers too long";
    case MULTIPART_TOO_MANY_PARTS:
        return "too many parts";
    case MULTIPART_DUPLICATE:
        return "the part appears twice";
    case MULTIPART_NO_PART:
        return "no such part";
    }
    return "unknown";
}
