/*
 * fuzz_multipart — libFuzzer target for storage/multipart (multipart_boundary, multipart_find),
 * the parser of avatar upload bodies. Input: a Content-Type line, '\n', then the body.
 * Checks the contract: every returned slice lies inside the caller's buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/multipart.h"

static void fuzz_check_inside(multipart_slice_t s, const char *base, size_t len)
{
    if (s.base == NULL)
        return;
    if (s.base < base || s.len > len || (size_t)(s.base - base) > len - s.len)
        abort(); /* a slice outside the input breaks the header's contract */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t ct_len = nl != NULL ? (size_t)(nl - in) : size;
    /* Copies so that ASan sees reads past either slice (the input buffer is one block). */
    char *ct = malloc(ct_len + 1);
    size_t body_len = nl != NULL ? size - ct_len - 1 : 0;
    char *body = malloc(body_len + 1);
    if (ct == NULL || body == NULL)
        abort();
    memcpy(ct, in, ct_len);
    if (body_len > 0)
        memcpy(body, nl + 1, body_len);

    multipart_slice_t boundary = {0};
    if (multipart_boundary(ct, ct_len, &boundary) == MULTIPART_OK) {
        fuzz_check_inside(boundary, ct, ct_len);
        if (boundary.len < 1 || boundary.len > MULTIPART_BOUNDARY_MAX)
            abort();
    }
    multipart_part_t part;
    memset(&part, 0, sizeof(part));
    multipart_rc rc = multipart_find(ct, ct_len, body, body_len, "file", &part);
    if (multipart_rc_text(rc) == NULL)
        abort();
    if (rc == MULTIPART_OK) {
        if (part.data.base == NULL)
            abort();
        fuzz_check_inside(part.data, body, body_len);
        fuzz_check_inside(part.filename, body, body_len);
        fuzz_check_inside(part.content_type, body, body_len);
    }
    free(ct);
    free(body);
    return 0;
}
