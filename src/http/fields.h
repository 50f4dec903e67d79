/*
 * http/fields — checking the fields of a JSON request body, the same way everywhere:
 * a missing required field or a wrong type is API_BAD_ARGUMENT (401); a value out of
 * range, empty when it must not be, or too long is API_BAD_ARGUMENT_VALUE (402).
 * A field whose value is JSON null counts as absent.
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
