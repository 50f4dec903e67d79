/*
 * crypto — the few primitives MeetOA needs, on OpenSSL libcrypto.
 *
 * - randomness from the OS source (RAND_bytes, seeded by getrandom);
 * - base64 (standard alphabet with padding; URL-safe alphabet without padding);
 * - SHA-1 (WeChat's rawData signature), SHA-256, HMAC-SHA256;
 * - AES-256-GCM sealing of small secrets (session_key at rest);
 * - AES-128-CBC/PKCS#7 opening of WeChat's legacy encryptedData;
 * - constant-time comparison.
 *
 * No function logs, and no function keeps a copy of a key after it returns.
 * Every function is safe to call from any thread.
 */
#ifndef MEETOA_CRYPTO_CRYPTO_H
#define MEETOA_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fills buf with len random bytes. Returns false only if the OS source failed. */
bool crypto_random(void *buf, size_t len);
/* n characters of [A-Za-z0-9] from the OS source, without modulo bias, and a NUL (out holds
 * n + 1). false when the source fails. */
bool crypto_random_alnum(char *out, size_t n);

/* Encoded sizes including the NUL terminator. */
#define CRYPTO_B64_SIZE(n)    ((((n) + 2) / 3) * 4 + 1)
#define CRYPTO_B64URL_SIZE(n) (((n)*4 + 2) / 3 + 1)

/* Standard base64 with '=' padding. out must hold CRYPTO_B64_SIZE(len). Returns the length written. */
size_t crypto_b64_encode(const void *in, size_t len, char *out);
/* URL-safe base64 without padding. out must hold CRYPTO_B64URL_SIZE(len). */
size_t crypto_b64url_encode(const void *in, size_t len, char *out);
/* Decodes standard base64 (padding required, no whitespace, nothing after the padding,
 * unused low bits of the last character zero, so one byte string has exactly one text).
 * Spaces are read as '+', repairing values that went through form decoding.
 * Writes at most cap bytes to out; returns the decoded length, or -1 when the text is not
 * valid base64 or does not fit. */
long crypto_b64_decode(const char *in, size_t len, void *out, size_t cap);
/* Decodes URL-safe base64 without padding; -1 on any other character, a non-canonical
 * text, or if it does not fit. */
long crypto_b64url_decode(const char *in, size_t len, void *out, size_t cap);

/* The hash functions cannot fail short of memory exhaustion inside OpenSSL; they abort() then. */
void crypto_sha1(const void *in, size_t len, uint8_t out[20]);
void crypto_sha256(const void *in, size_t len, uint8_t out[32]);
void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[32]);
/* The same for a 32-byte key used again and again (the token hash key): each thread keeps the
 * SHA-256 states after the key's two pad blocks, so a call only hashes the message (two
 * compressions for up to 55 bytes). The one exception to "no copy of a key is kept": the calling
 * thread holds this key and its states until it ends (then they are cleansed) or uses another key. */
void crypto_hmac_sha256_key32(const uint8_t key[32], const void *msg, size_t msg_len, uint8_t out[32]);
/* SipHash-2-4 (Aumasson and Bernstein) of msg under a 128-bit key: a fast PRF with a 64-bit
 * output for short inputs (about 250 instructions for a 43-byte token, against 4,500 for
 * HMAC-SHA256). The key is little-endian k0 || k1 as in the reference code. */
uint64_t crypto_siphash24(const uint8_t key[16], const void *msg, size_t len);
/* Lowercase hex of len bytes; out must hold 2*len+1. Constant time (no table lookup): it
 * writes out expected signatures that are then compared with crypto_equal. */
void crypto_hex(const uint8_t *in, size_t len, char *out);

/* Constant-time equality of two equal-length buffers: the time taken and the memory touched
 * depend on len only, never on the bytes. Use it for every token, hash, signature, MAC or key. */
bool crypto_equal(const void *a, const void *b, size_t len);

/*
 * Constant-time validation (tests/ct): built with MEETOA_CT_VALIDATION, valgrind's memcheck
 * is told that a value computed from secrets is public from here on (the answer "equal or
 * not" is meant to be acted upon), so that memcheck reports only the branches and memory
 * indexes that depend on the secret bytes themselves. Otherwise it does nothing.
 */
#ifdef MEETOA_CT_VALIDATION
#include <valgrind/memcheck.h>
#define CRYPTO_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define CRYPTO_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/*
 * AES-256-GCM. The sealed form is nonce(12) || ciphertext(len) || tag(16), so
 * CRYPTO_SEAL_SIZE(len) bytes. aad (may be NULL/0) is authenticated, not stored.
 */
#define CRYPTO_SEAL_OVERHEAD (12 + 16)
#define CRYPTO_SEAL_SIZE(n)  ((n) + CRYPTO_SEAL_OVERHEAD)
bool crypto_seal(const uint8_t key[32], const void *aad, size_t aad_len, const void *plain, size_t len, uint8_t *out);
/* Opens a sealed buffer of sealed_len bytes into out (sealed_len - CRYPTO_SEAL_OVERHEAD bytes).
 * Returns false when it is too short, was tampered with, or the key or aad differ; out is then
 * wiped (no partial plaintext is left in it). */
bool crypto_open(const uint8_t key[32], const void *aad, size_t aad_len, const uint8_t *sealed, size_t sealed_len,
                 uint8_t *out);

/* AES-128-CBC decryption with PKCS#7 padding (WeChat encryptedData). out must hold len bytes.
 * Returns the plaintext length, or -1 when len is not a positive multiple of 16 or the padding is bad
 * (out is then wiped). */
long crypto_aes128cbc_decrypt(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out);
/* AES-128-CBC encryption with PKCS#7 padding (used by wxemu). out must hold len + 16 bytes.
 * Returns the ciphertext length, or -1 on failure. */
long crypto_aes128cbc_encrypt(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out);
/* AES-256-CBC with PKCS#7 padding to 32 bytes (WeChat's message push safe mode): the same
 * contracts; encryption's out holds len + 32 bytes. */
long crypto_aes256cbc32_decrypt(const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len,
                                uint8_t *out);
long crypto_aes256cbc32_encrypt(const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len,
                                uint8_t *out);

#endif
