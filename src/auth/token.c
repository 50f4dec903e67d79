/* auth/token — see token.h. */
#include "auth/token.h"

#include "crypto/crypto.h"

void token_derive_key(const uint8_t data_key[32], uint8_t token_key[32])
{
    static const char label[] = "meetoa token hash v1";
    crypto_hmac_sha256(data_key, 32, label, sizeof(label) - 1, token_key);
}

bool token_new(char out[TOKEN_TEXT_LEN + 1])
{
    uint8_t raw[TOKEN_BYTES];
    if (!crypto_random(raw, sizeof(raw)))
        return false;
    crypto_b64url_encode(raw, sizeof(raw), out);
    return true;
}

bool token_well_formed(const char *text, size_t len)
{
    if (len != TOKEN_TEXT_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

void token_hash(const uint8_t token_key[32], const char *text, size_t len, uint8_t hash[TOKEN_HASH_SIZE])
{
    crypto_hmac_sha256_key32(token_key, text, len, hash);
}
