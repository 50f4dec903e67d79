/*
 * auth/token — MeetOA's login tokens.
 *
 * A token is 32 bytes from the OS random source, written as 43 characters of URL-safe
 * base64: opaque, nothing inside it. The server keeps only its hash,
 * HMAC-SHA256(token_key, token), where token_key is derived from the configured data key,
 * so a leaked database lets nobody check guessed tokens offline, and a token minted under
 * another data key is simply unknown. The same hash is the key of the session cache and
 * of the wx_session row.
 *
 * Data-key rotation: new tokens are always hashed under oa.security.data-key (key index 0);
 * a presented token is also looked up under each of oa.security.previous-data-keys (indexes
 * 1..), so the sessions made before a rotation live on until they expire, and their sealed
 * session_key opens with the data key of the same index.
 *
 * All functions are thread-safe; none keeps a copy of a key.
 */
#ifndef MEETOA_AUTH_TOKEN_H
#define MEETOA_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define TOKEN_BYTES     32
#define TOKEN_TEXT_LEN  43 /* base64url of 32 bytes, no padding */
#define TOKEN_HASH_SIZE 32
#define TOKEN_KEYS_MAX  (1 + CONFIG_PREVIOUS_DATA_KEYS_MAX) /* data-key, then previous-data-keys */

/* Derives the hashing key from the data key (HMAC-SHA256(data_key, "meetoa token hash v1")). */
void token_derive_key(const uint8_t data_key[32], uint8_t token_key[32]);
/* The data key of index i (0 = oa.security.data-key, i = entry i of previous-data-keys), or
 * NULL past the last. Points into config. */
const uint8_t *token_data_key(const config_t *config, int i);
/* Derives the hashing key of every data key of config, in index order; returns how many (>= 1). */
int token_derive_keys(const config_t *config, uint8_t token_keys[TOKEN_KEYS_MAX][32]);
/* Mints a token: out gets TOKEN_TEXT_LEN chars + NUL. False only if the OS random source failed. */
bool token_new(char out[TOKEN_TEXT_LEN + 1]);
/* True when text[0..len) has a token's shape (43 URL-safe base64 characters). */
bool token_well_formed(const char *text, size_t len);
/* The stored hash of a token. */
void token_hash(const uint8_t token_key[32], const char *text, size_t len, uint8_t hash[TOKEN_HASH_SIZE]);

#endif
