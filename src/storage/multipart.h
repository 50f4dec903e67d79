/*
 * storage/multipart — a strict, bounded parser of multipart/form-data (RFC 7578 over
 * RFC 2046) that finds one named part in a request body.
 *
 * Contract:
 * - Pure: no allocation, no I/O, no global state; safe from any thread. Built to be fed
 *   arbitrary bytes (a libFuzzer target can call multipart_find directly).
 * - Inputs are slices (pointer + length) of bytes off the wire: nothing is assumed to be
 *   NUL-terminated and nothing outside [base, base + len) is ever read. A NULL pointer with
 *   length 0 is an empty input.
 * - Outputs are slices into the caller's body: they live as long as the body does. A slice
 *   whose base is NULL is absent (an empty but present value has a non-NULL base, len 0).
 * - Strict: the boundary must be 1..70 characters of RFC 2046's bchars; the body must hold
 *   an opening delimiter and a closing one; each part's header block is at most
 *   MULTIPART_HEADERS_MAX bytes of CRLF-terminated lines (no folding, no control
 *   characters), with exactly one Content-Disposition "form-data" with a name; at most
 *   MULTIPART_PARTS_MAX parts; the wanted name at most once.
 * - A boundary string inside a part's data that is not a delimiter (not at a line start,
 *   or not followed by "--" or by optional blanks and CRLF) is data, as RFC 2046 reads it.
 * - Parameter values are returned raw: a quoted value is the text between the quotes with
 *   any backslash escapes left in place (the caller only compares or ignores them).
 */
#ifndef MEETOA_STORAGE_MULTIPART_H
#define MEETOA_STORAGE_MULTIPART_H

#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 */
#define MULTIPART_HEADERS_MAX  4096 /* bytes of one part's header block, blank line included */
#define MULTIPART_PARTS_MAX    16

typedef struct multipart_slice {
    const char *base; /* NULL = absent */
    size_t len;
} multipart_slice_t;

typedef struct multipart_part {
    multipart_slice_t data;         /* the part's bytes, without the CRLF before the next delimiter */
    multipart_slice_t filename;     /* Content-Disposition filename (raw), absent when not given */
    multipart_slice_t content_type; /* the part's Content-Type value (trimmed), absent when not given */
} multipart_part_t;

typedef enum multipart_rc {
    MULTIPART_OK = 0,
    MULTIPART_NOT_MULTIPART,    /* Content-Type missing, not multipart/form-data, or a bad boundary */
    MULTIPART_MALFORMED,        /* no delimiter, truncated, no closing delimiter, bad part headers */
    MULTIPART_HEADERS_TOO_LONG, /* a part's header block is over MULTIPART_HEADERS_MAX */
    MULTIPART_TOO_MANY_PARTS,   /* more than MULTIPART_PARTS_MAX parts */
    MULTIPART_DUPLICATE,        /* the wanted name appears in more than one part */
    MULTIPART_NO_PART,          /* well formed, but no part has the wanted name */
} multipart_rc;

/*
 * Reads the boundary parameter of a Content-Type value ("multipart/form-data; boundary=X",
 * media type case-insensitive, boundary quoted or not, given once). On success *boundary
 * points into content_type (inside the quotes when quoted) and MULTIPART_OK is returned;
 * otherwise MULTIPART_NOT_MULTIPART.
 */
multipart_rc multipart_boundary(const char *content_type, size_t content_type_len, multipart_slice_t *boundary);

/*
 * Parses body (the whole request body) as multipart/form-data under content_type and
 * finds the part whose Content-Disposition name is exactly name (a NUL-terminated string
 * of the caller's). The whole body is checked, up to the closing delimiter, even after the
 * part is found; anything after the closing delimiter (the epilogue) is ignored, as is
 * anything before the first delimiter (the preamble). *out is filled only on MULTIPART_OK.
 */
multipart_rc multipart_find(const char *content_type, size_t content_type_len, const char *body, size_t body_len,
                            const char *name, multipart_part_t *out);

/* A short English description of rc, for logs. Never NULL. */
const char *multipart_rc_text(multipart_rc rc);

#endif
