/*
 * http/fields — checking the fields of a JSON request body, the same way everywhere:
 * a missing required field or a wrong type is API_BAD_ARGUMENT (401); a value out of
 * range, empty when it must not be, or too long is API_BAD_ARGUMENT_VALUE (402).
 * A field whose value is JSON null counts as absent.
 *
 * fields_parse_body turns the body's bytes into that object, with the same errnos.
 *
 * Each function returns true when the field is acceptable (present or absent); on false,
 * *err says why. Returned strings point into the JSON object and live as long as it does.
 */
#ifndef MEETOA_HTTP_FIELDS_H
#define MEETOA_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "api/errno.h"

/* Objects and arrays nested deeper than this (the body's own object is level 1) are refused. */
#define FIELDS_JSON_MAX_DEPTH 32
/*
 * Parses a request body as a JSON object (no I/O: http_read_json hands it the body). On failure
 * returns NULL and sets *code: API_BAD_ARGUMENT for an empty body, bad syntax, nesting deeper
 * than FIELDS_JSON_MAX_DEPTH (checked on the text before jansson parses it: its parser spends a
 * stack frame per level), a non-object, a key given twice or a number outside 64-bit integers;
 * API_BAD_ARGUMENT_VALUE for text that is not valid UTF-8 (including a \u0000 or lone surrogate
 * escape). The caller owns the returned reference.
 */
json_t *fields_parse_body(const char *body, size_t len, api_errno_t *code);

/* A UTF-8 string of min_chars..max_chars code points. *out = NULL when absent and optional. */
bool fields_string(json_t *obj, const char *key, bool required, size_t min_chars, size_t max_chars, const char **out,
                   api_errno_t *err);
/* A string of printable ASCII (0x21..0x7e) of min_len..max_len bytes. */
bool fields_token(json_t *obj, const char *key, bool required, size_t min_len, size_t max_len, const char **out,
                  api_errno_t *err);
/* A whole number in [min, max]. *present tells whether it was there. */
bool fields_int(json_t *obj, const char *key, bool required, long min, long max, long *out, bool *present,
                api_errno_t *err);
/* An object. *out = NULL when absent and optional. */
bool fields_object(json_t *obj, const char *key, bool required, json_t **out, api_errno_t *err);

#endif
