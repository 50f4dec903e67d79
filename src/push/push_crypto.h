/*
 * push/push_crypto — WeChat's message push (消息推送) signatures and safe mode (安全模式),
 * as /work/shared/wechat-more-apis.md §1.3.3 has them:
 *   signature      = hex(sha1(concat(sorted strings [Token, timestamp, nonce])))
 *   msg_signature  = hex(sha1(concat(sorted [Token, timestamp, nonce, Encrypt])))   (safe mode)
 *   AESKey         = base64_decode(EncodingAESKey + "=")  (43 characters -> 32 bytes)
 *   Encrypt        = base64(AES-256-CBC(key AESKey, IV AESKey[0..16), PKCS#7 to 32 bytes,
 *                           random(16) | msg_len (4 bytes, big endian) | msg | appid))
 * "sorted" is byte order (strcmp), not numeric. CBC alone does not detect tampering: a packet is
 * trusted only after its msg_signature checked out, before push_decrypt is called. Pure functions, any thread; secrets
 * (the token, the key) are never copied anywhere but the caller's buffers.
 */
#ifndef MEETOA_PUSH_PUSH_CRYPTO_H
#define MEETOA_PUSH_PUSH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUSH_SIGNATURE_SIZE 41 /* 40 hex digits and NUL */

/* The signature of the n strings parts[0..n) (n <= 4), into out (lowercase hex). */
void push_signature(const char *const *parts, size_t n, char out[PUSH_SIGNATURE_SIZE]);
/* Whether given is the signature of parts (constant time in the digits). */
bool push_signature_ok(const char *const *parts, size_t n, const char *given);

/* An EncodingAESKey (43 characters of [A-Za-z0-9]) into its 32-byte key; false when malformed. */
bool push_aes_key(const char *encoding_aes_key, uint8_t key[32]);

/*
 * Opens a safe-mode Encrypt value (base64 text) with key: *msg (malloc'd, NUL-terminated, the
 * caller frees it) and *msg_len get the message. false when anything is wrong: not base64, not
 * a multiple of the block, bad padding, a length that does not fit, or a trailing appid that is
 * not app_id.
 */
bool push_decrypt(const uint8_t key[32], const char *app_id, const char *encrypt, size_t encrypt_len, char **msg,
                  size_t *msg_len);
/* The other way (tests and wxemu): a malloc'd base64 Encrypt of msg for app_id, with random from
 * the OS source. NULL on failure. */
char *push_encrypt(const uint8_t key[32], const char *app_id, const char *msg, size_t msg_len);

#endif
