/* push/push_crypto — see push_crypto.h. */
#include "push/push_crypto.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define PUSH_MAX_PARTS 4

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void push_signature(const char *const *parts, size_t n, char out[PUSH_SIGNATURE_SIZE])
{
    const char *sorted[PUSH_MAX_PARTS];
    size_t total = 0;
    if (n > PUSH_MAX_PARTS)
        n = PUSH_MAX_PARTS;
    for (size_t i = 0; i < n; i++) {
        sorted[i] = parts[i] != NULL ? parts[i] : "";
        total += strlen(sorted[i]);
    }
    qsort(sorted, n, sizeof sorted[0], cmp_str);
    char *joined = malloc(total + 1);
    uint8_t digest[20] = {0};
    if (joined != NULL) {
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(sorted[i]);
            memcpy(joined + at, sorted[i], len);
            at += len;
        }
        crypto_sha1(joined, total, digest);
        explicit_bzero(joined, total + 1); /* it holds the token */
        free(joined);
    }
    crypto_hex(digest, sizeof digest, out);
    out[PUSH_SIGNATURE_SIZE - 1] = '\0';
}

bool push_signature_ok(const char *const *parts, size_t n, const char *given)
{
    char expected[PUSH_SIGNATURE_SIZE];
    push_signature(parts, n, expected);
    if (given == NULL || strlen(given) != PUSH_SIGNATURE_SIZE - 1)
        return false;
    char lower[PUSH_SIGNATURE_SIZE];
    for (size_t i = 0; i < PUSH_SIGNATURE_SIZE - 1; i++)
        lower[i] = (given[i] >= 'A' && given[i] <= 'F') ? (char)(given[i] - 'A' + 'a') : given[i];
    return crypto_equal(expected, lower, PUSH_SIGNATURE_SIZE - 1);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return -1;
}

/* Decoded by hand: 43 characters are 258 bits, of which the first 256 are the key. WeChat's
 * keys are random letters and digits, so the last 2 bits are often not 0, which a strict
 * base64 decoder refuses (and WeChat's own Java decoder ignores). */
bool push_aes_key(const char *encoding_aes_key, uint8_t key[32])
{
    if (strlen(encoding_aes_key) != 43)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < 43; i++) {
        int v = b64_value(encoding_aes_key[i]);
        if (v < 0) {
            explicit_bzero(key, 32);
            return false;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8 && n < 32) {
            bits -= 8;
            key[n++] = (uint8_t)(acc >> bits);
        }
    }
    acc = 0;
    return n == 32;
}

bool push_decrypt(const uint8_t key[32], const char *app_id, const char *encrypt, size_t encrypt_len, char **msg,
                  size_t *msg_len)
{
    *msg = NULL;
    *msg_len = 0;
    size_t cap = encrypt_len / 4 * 3 + 3;
    uint8_t *cipher = malloc(cap), *plain = malloc(cap);
    bool ok = false;
    if (cipher == NULL || plain == NULL)
        goto done;
    long clen = crypto_b64_decode(encrypt, encrypt_len, cipher, cap);
    if (clen <= 0)
        goto done;
    long plen = crypto_aes256cbc32_decrypt(key, key, cipher, (size_t)clen, plain);
    if (plen < 20)
        goto done;
    uint32_t len = (uint32_t)plain[16] << 24 | (uint32_t)plain[17] << 16 | (uint32_t)plain[18] << 8 | plain[19];
    size_t app_len = strlen(app_id);
    if ((size_t)len > (size_t)plen - 20 || (size_t)plen - 20 - len != app_len ||
        memcmp(plain + 20 + len, app_id, app_len) != 0)
        goto done;
    char *out = malloc((size_t)len + 1);
    if (out == NULL)
        goto done;
    memcpy(out, plain + 20, len);
    out[len] = '\0';
    *msg = out;
    *msg_len = len;
    ok = true;
done:
    if (plain != NULL)
        explicit_bzero(plain, cap);
    free(cipher);
    free(plain);
    return ok;
}

char *push_encrypt(const uint8_t key[32], const char *app_id, const char *msg, size_t msg_len)
{
    size_t app_len = strlen(app_id), len = 20 + msg_len + app_len;
    uint8_t *plain = malloc(len), *cipher = malloc(len + 32);
    char *out = NULL;
    if (plain == NULL || cipher == NULL || !crypto_random(plain, 16))
        goto done;
    plain[16] = (uint8_t)(msg_len >> 24);
    plain[17] = (uint8_t)(msg_len >> 16);
    plain[18] = (uint8_t)(msg_len >> 8);
    plain[19] = (uint8_t)msg_len;
    memcpy(plain + 20, msg, msg_len);
    memcpy(plain + 20 + msg_len, app_id, app_len);
    long clen = crypto_aes256cbc32_encrypt(key, key, plain, len, cipher);
    if (clen <= 0 || (out = malloc(CRYPTO_B64_SIZE((size_t)clen))) == NULL)
        goto done;
    out[crypto_b64_encode(cipher, (size_t)clen, out)] = '\0';
done:
    if (plain != NULL)
        explicit_bzero(plain, len);
    free(plain);
    free(cipher);
    return out;
}
