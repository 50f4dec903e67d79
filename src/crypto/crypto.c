/*
 * crypto — MeetOA's primitives on OpenSSL 3 libcrypto (see crypto.h for the contract).
 *
 * Base64 is our own code rather than EVP_EncodeBlock/EVP_DecodeBlock: OpenSSL's decoder
 * skips whitespace and accepts text after the padding, while we must be strict (WeChat
 * values are compared and stored, so one text must mean one byte string) and must read a
 * space as '+' (the form-decoding pitfall of wechat-api.md §5). The decoders refuse:
 * a length that is not a multiple of 4 (standard) or that is 1 mod 4 (URL-safe), any
 * character outside the alphabet, '=' anywhere but the last one or two places, and
 * non-zero bits in the unused low bits of the last character (non-canonical text).
 *
 * The hash functions return void: with EVP's built-in providers they can fail only when
 * memory runs out, and returning an unfilled digest would be worse than stopping, so they
 * abort() then. Everything else reports failure to the caller.
 *
 * Buffers that held plaintext are cleansed when an open/decrypt fails, so a caller that
 * ignores the result never reads half-decrypted secrets.
 */
/* crypto_hmac_sha256_key32 uses the low-level SHA256_* functions (deprecated in OpenSSL 3, kept
 * for the 3.x series), which keep a hash state in a plain struct that can be copied. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/crypto.h"

#include <endian.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN   16
#define AES_BLOCK     16

/* Larger inputs are refused by the ciphers: EVP takes int lengths. */
#define CRYPTO_MAX_CIPHER_LEN ((size_t)INT_MAX - 64)

bool crypto_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, chunk) != 1)
            return false;
        p += chunk;
        len -= (size_t)chunk;
    }
    return true;
}

/* ---- base64 ------------------------------------------------------------------------ */

static const char B64_STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encodes in[0..len) with alphabet; pads with '=' when pad. Returns the length written. */
static size_t b64_encode(const char *alphabet, bool pad, const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    size_t rest = len - i;
    if (rest > 0) {
        uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        if (rest == 2)
            out[o++] = alphabet[v >> 6 & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

size_t crypto_b64_encode(const void *in, size_t len, char *out)
{
    return b64_encode(B64_STD, true, in, len, out);
}

size_t crypto_b64url_encode(const void *in, size_t len, char *out)
{
    return b64_encode(B64_URL, false, in, len, out);
}

/* Value of one character of the standard (url = false) or URL-safe alphabet, or -1. */
static int b64_value(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (url)
        return c == '-' ? 62 : c == '_' ? 63 : -1;
    if (c == '+' || c == ' ') /* a space is a '+' that went through form decoding */
        return 62;
    return c == '/' ? 63 : -1;
}

/*
 * Decodes n data characters (no padding) of in. Returns the decoded length or -1.
 * n % 4 must not be 1; the low bits left over by a partial group must be zero.
 */
static long b64_decode_chars(const char *in, size_t n, bool url, uint8_t *out, size_t cap)
{
    if (n % 4 == 1)
        return -1;
    size_t outlen = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    if (outlen > cap || outlen > (size_t)LONG_MAX)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(in[i], url);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1; /* non-canonical: unused bits set */
    return (long)o;
}

long crypto_b64_decode(const char *in, size_t len, void *out, size_t cap)
{
    if (len % 4 != 0)
        return -1;
    size_t n = len;
    if (n > 0 && in[n - 1] == '=')
        n--;
    if (n > 0 && in[n - 1] == '=')
        n--;
    /* After stripping the padding, one or two '=' must leave a partial group of 3 or 2. */
    if (len - n != (4 - n % 4) % 4)
        return -1;
    return b64_decode_chars(in, n, false, out, cap);
}

long crypto_b64url_decode(const char *in, size_t len, void *out, size_t cap)
{
    return b64_decode_chars(in, len, true, out, cap);
}

/* ---- hashes ------------------------------------------------------------------------ */

static void digest(const EVP_MD *md, const void *in, size_t len, uint8_t *out)
{
    static const uint8_t empty = 0;
    if (EVP_Digest(len ? in : &empty, len, out, NULL, md, NULL) != 1)
        abort(); /* allocation failure inside OpenSSL; see the top comment */
}

void crypto_sha1(const void *in, size_t len, uint8_t out[20])
{
    digest(EVP_sha1(), in, len, out);
}

void crypto_sha256(const void *in, size_t len, uint8_t out[32])
{
    digest(EVP_sha256(), in, len, out);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[32])
{
    static const uint8_t empty = 0;
    unsigned int out_len = 0;
    if (key_len > (size_t)INT_MAX)
        abort();
    if (HMAC(EVP_sha256(), key_len ? key : &empty, (int)key_len, msg_len ? msg : &empty, msg_len, out, &out_len) ==
            NULL ||
        out_len != 32)
        abort();
}

/*
 * The keyed HMAC of the hot path (the token hash of every request). HMAC(K, m) is
 * SHA256((K ^ opad) || SHA256((K ^ ipad) || m)): the two SHA-256 states after the key's pad
 * blocks depend on the key alone, so each thread computes them once per key and a call copies
 * them and hashes only the message and the inner digest (two compressions for a token). The
 * low-level SHA256_* functions do exactly that on a plain struct; EVP_MAC (and HMAC()) costs
 * three times as much per call in provider dispatch, context copies and cleanses. The digest is
 * HMAC-SHA256's, byte for byte (tests/unit/test_crypto.c: RFC 4231 and the one-shot HMAC).
 */
typedef struct hmac_cache {
    uint8_t key[32];
    bool ready;
    SHA256_CTX inner, outer; /* after (K ^ ipad) and (K ^ opad) */
} hmac_cache_t;

static pthread_key_t hmac_cache_key; /* frees (and cleanses) a thread's cache when it ends */
static pthread_once_t hmac_cache_once = PTHREAD_ONCE_INIT;
static _Thread_local hmac_cache_t *hmac_cache_mine;

static void hmac_cache_free(void *p)
{
    OPENSSL_cleanse(p, sizeof(hmac_cache_t));
    free(p);
}

static void hmac_cache_init(void)
{
    if (pthread_key_create(&hmac_cache_key, hmac_cache_free) != 0)
        abort();
}

/* Constant-time equality of two 32-byte keys (word by word, no early exit). */
static bool key32_equal(const uint8_t a[32], const uint8_t b[32])
{
    uint64_t diff = 0;
    for (int i = 0; i < 32; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    return diff == 0;
}

static const hmac_cache_t *hmac_keyed(const uint8_t key[32])
{
    hmac_cache_t *cache = hmac_cache_mine;
    if (cache == NULL) {
        pthread_once(&hmac_cache_once, hmac_cache_init);
        if ((cache = calloc(1, sizeof(*cache))) == NULL || pthread_setspecific(hmac_cache_key, cache) != 0)
            abort();
        hmac_cache_mine = cache;
    }
    if (cache->ready && key32_equal(cache->key, key))
        return cache;
    uint8_t pad[64];
    memset(pad, 0x36, sizeof(pad));
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    SHA256_Init(&cache->inner);
    SHA256_Update(&cache->inner, pad, sizeof(pad));
    memset(pad, 0x5c, sizeof(pad));
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    SHA256_Init(&cache->outer);
    SHA256_Update(&cache->outer, pad, sizeof(pad));
    OPENSSL_cleanse(pad, sizeof(pad));
    memcpy(cache->key, key, 32);
    cache->ready = true;
    return cache;
}

void crypto_hmac_sha256_key32(const uint8_t key[32], const void *msg, size_t msg_len, uint8_t out[32])
{
    const hmac_cache_t *cache = hmac_keyed(key);
    SHA256_CTX ctx = cache->inner;
    uint8_t inner[32];
    SHA256_Update(&ctx, msg, msg_len);
    SHA256_Final(inner, &ctx);
    ctx = cache->outer;
    SHA256_Update(&ctx, inner, sizeof(inner));
    SHA256_Final(out, &ctx);
    explicit_bzero(&ctx, sizeof(ctx)); /* a keyed state: as good as the key for making MACs */
}

/* ---- SipHash-2-4 --------------------------------------------------------------------- */

static uint64_t load64_le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                                       \
    do {                                                                                                               \
        v0 += v1, v1 = ROTL64(v1, 13), v1 ^= v0, v0 = ROTL64(v0, 32);                                                  \
        v2 += v3, v3 = ROTL64(v3, 16), v3 ^= v2;                                                                       \
        v0 += v3, v3 = ROTL64(v3, 21), v3 ^= v0;                                                                       \
        v2 += v1, v1 = ROTL64(v1, 17), v1 ^= v2, v2 = ROTL64(v2, 32);                                                  \
    } while (0)

uint64_t crypto_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
    const uint8_t *in = msg;
    uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
    uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575), v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261), v3 = k1 ^ UINT64_C(0x7465646279746573);
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load64_le(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++)
        last |= (uint64_t)in[whole + i] << (8 * i);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* The hex digit of a nibble without a branch or a table: '0' + n, plus the distance from
 * '9' + 1 to 'a' when n > 9 (the mask is all ones exactly when 9 - n is negative). */
static char hex_digit(unsigned n)
{
    unsigned above9 = (9u - n) >> 8 & 0xffu;
    return (char)('0' + n + (above9 & ('a' - '0' - 10)));
}

void crypto_hex(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digit(in[i] >> 4);
        out[2 * i + 1] = hex_digit(in[i] & 15u);
    }
    out[2 * len] = '\0';
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
    /* ORs the XORs of all bytes, eight at a time, with no early exit (OpenSSL's CRYPTO_memcmp
     * does the same a byte at a time: a 32-byte hash compare was 270 instructions). */
    const unsigned char *x = a, *y = b;
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        diff |= u ^ v;
    }
    for (; i < len; i++)
        diff |= (uint64_t)(x[i] ^ y[i]);
    CRYPTO_DECLASSIFY(&diff, sizeof(diff));
    return diff == 0;
}

/* ---- AES-256-GCM ------------------------------------------------------------------- */

bool crypto_seal(const uint8_t key[32], const void *aad, size_t aad_len, const void *plain, size_t len, uint8_t *out)
{
    bool ok = false;
    int n = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *nonce = out, *body = out + GCM_NONCE_LEN, *tag = out + GCM_NONCE_LEN + len;

    if (len > CRYPTO_MAX_CIPHER_LEN || aad_len > CRYPTO_MAX_CIPHER_LEN || !crypto_random(nonce, GCM_NONCE_LEN))
        goto done;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto done;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
        goto done;
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto done;
    if (len > 0 && EVP_EncryptUpdate(ctx, body, &n, plain, (int)len) != 1)
        goto done;
    if (EVP_EncryptFinal_ex(ctx, body + len, &n) != 1)
        goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, tag) != 1)
        goto done;
    ok = true;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

bool crypto_open(const uint8_t key[32], const void *aad, size_t aad_len, const uint8_t *sealed, size_t sealed_len,
                 uint8_t *out)
{
    bool ok = false;
    int n = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    if (sealed_len < CRYPTO_SEAL_OVERHEAD || sealed_len > CRYPTO_MAX_CIPHER_LEN || aad_len > CRYPTO_MAX_CIPHER_LEN)
        return false;
    size_t len = sealed_len - CRYPTO_SEAL_OVERHEAD;
    const uint8_t *nonce = sealed, *body = sealed + GCM_NONCE_LEN, *tag = sealed + GCM_NONCE_LEN + len;
    uint8_t tag_copy[GCM_TAG_LEN];
    memcpy(tag_copy, tag, sizeof(tag_copy)); /* the ctrl takes a non-const pointer */

    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto done;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
        goto done;
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto done;
    if (len > 0 && EVP_DecryptUpdate(ctx, out, &n, body, (int)len) != 1)
        goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag_copy) != 1)
        goto done;
    if (EVP_DecryptFinal_ex(ctx, out + len, &n) != 1)
        goto done;
    ok = true;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (!ok && len > 0)
        OPENSSL_cleanse(out, len);
    return ok;
}

/* ---- AES-128-CBC / PKCS#7 ---------------------------------------------------------- */

/* Length of the PKCS#7 padding at the end of buf[0..len), or 0 when it is malformed.
 * Looks at all 16 last bytes whatever the pad length, without data-dependent branches. */
/* The PKCS#7 pad length of buf (block: 16 for AES, 32 for WeChat's message push), 0 when the
 * padding is bad. Constant time in the pad's value. */
static size_t pkcs7_pad_len(const uint8_t *buf, size_t len, unsigned block)
{
    unsigned pad = buf[len - 1];
    unsigned bad = (unsigned)(pad == 0) | (unsigned)(pad > block) | (unsigned)(pad > len);
    for (unsigned i = 1; i <= block && i <= len; i++) {
        unsigned in_pad = (unsigned)(i <= pad);
        bad |= in_pad & (unsigned)(buf[len - i] != pad);
    }
    return bad ? 0 : pad;
}

/* CBC decryption of in[0..len) (a multiple of 16) with PKCS#7 padding to pad_block. */
static long cbc_decrypt(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t iv[16], const uint8_t *in,
                        size_t len, uint8_t *out, unsigned pad_block)
{
    long result = -1;
    int n1 = 0, n2 = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    if (len == 0 || len % AES_BLOCK != 0 || len > CRYPTO_MAX_CIPHER_LEN)
        return -1;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto done;
    /* Padding off: EVP then writes exactly len bytes, and we check PKCS#7 ourselves. */
    if (EVP_DecryptInit_ex(ctx, cipher, NULL, key, iv) != 1 || EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        goto done;
    if (EVP_DecryptUpdate(ctx, out, &n1, in, (int)len) != 1 || EVP_DecryptFinal_ex(ctx, out + n1, &n2) != 1)
        goto done;
    if ((size_t)n1 + (size_t)n2 != len)
        goto done;
    size_t pad = pkcs7_pad_len(out, len, pad_block);
    if (pad == 0)
        goto done;
    result = (long)(len - pad);
done:
    EVP_CIPHER_CTX_free(ctx);
    if (result < 0)
        OPENSSL_cleanse(out, len);
    return result;
}

/* CBC encryption with PKCS#7 padding to pad_block (a multiple of 16); out holds len + pad_block. */
static long cbc_encrypt(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t iv[16], const uint8_t *in,
                        size_t len, uint8_t *out, unsigned pad_block)
{
    long result = -1;
    int n1 = 0, n2 = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    if (len > CRYPTO_MAX_CIPHER_LEN)
        return -1;
    size_t pad = pad_block - len % pad_block, total = len + pad;
    uint8_t *plain = malloc(total);
    if (plain == NULL)
        return -1;
    memcpy(plain, in, len);
    memset(plain + len, (int)pad, pad);
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto done;
    if (EVP_EncryptInit_ex(ctx, cipher, NULL, key, iv) != 1 || EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        goto done;
    if (EVP_EncryptUpdate(ctx, out, &n1, plain, (int)total) != 1 || EVP_EncryptFinal_ex(ctx, out + n1, &n2) != 1)
        goto done;
    result = (long)n1 + n2;
done:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(plain, total);
    free(plain);
    return result;
}

long crypto_aes128cbc_decrypt(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out)
{
    return cbc_decrypt(EVP_aes_128_cbc(), key, iv, in, len, out, AES_BLOCK);
}

long crypto_aes128cbc_encrypt(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out)
{
    return cbc_encrypt(EVP_aes_128_cbc(), key, iv, in, len, out, AES_BLOCK);
}

long crypto_aes256cbc32_decrypt(const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len,
                                uint8_t *out)
{
    return cbc_decrypt(EVP_aes_256_cbc(), key, iv, in, len, out, 32);
}

long crypto_aes256cbc32_encrypt(const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len,
                                uint8_t *out)
{
    return cbc_encrypt(EVP_aes_256_cbc(), key, iv, in, len, out, 32);
}

bool crypto_random_alnum(char *out, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t done = 0;
    while (done < n) {
        unsigned char bytes[32];
        if (!crypto_random(bytes, sizeof bytes))
            return false;
        for (size_t i = 0; i < sizeof bytes && done < n; i++)
            if (bytes[i] < 248) /* 248 = 4 * 62: the bytes above would favour the first letters */
                out[done++] = alphabet[bytes[i] % 62];
    }
    out[n] = '\0';
    return true;
}
