/*
 * fuzz_b64 — libFuzzer target for crypto_b64_decode and crypto_b64url_decode, which read
 * session keys, iv and encryptedData from outside. Checks the documented canonical form:
 * what decodes re-encodes to the same text (spaces read as '+'), and output never exceeds cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_std(const char *in, size_t size, size_t cap)
{
    uint8_t *out = malloc(cap + 1);
    if (out == NULL)
        abort();
    long n = crypto_b64_decode(in, size, out, cap);
    if (n > (long)cap || n < -1)
        abort();
    if (n >= 0) {
        char *again = malloc(CRYPTO_B64_SIZE((size_t)n));
        if (again == NULL)
            abort();
        size_t m = crypto_b64_encode(out, (size_t)n, again);
        if (m != size)
            abort(); /* not canonical: two texts decode to one byte string */
        for (size_t i = 0; i < size; i++)
            if (again[i] != (in[i] == ' ' ? '+' : in[i]))
                abort();
        free(again);
    }
    free(out);
}

static void fuzz_url(const char *in, size_t size, size_t cap)
{
    uint8_t *out = malloc(cap + 1);
    if (out == NULL)
        abort();
    long n = crypto_b64url_decode(in, size, out, cap);
    if (n > (long)cap || n < -1)
        abort();
    if (n >= 0) {
        char *again = malloc(CRYPTO_B64URL_SIZE((size_t)n));
        if (again == NULL)
            abort();
        size_t m = crypto_b64url_encode(out, (size_t)n, again);
        if (m != size || memcmp(again, in, size) != 0)
            abort();
        free(again);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1); /* exact-size copy */
    if (in == NULL)
        abort();
    if (size > 0)
        memcpy(in, data, size);
    size_t full = size / 4 * 3 + 3;
    fuzz_std(in, size, full);
    fuzz_std(in, size, 16); /* the session_key / iv buffers are small: must never overflow */
    fuzz_url(in, size, full);
    fuzz_url(in, size, 16);
    free(in);
    return 0;
}
