/* auth/token — see token.h. */
#include "auth/token.h"

#include "crypto/crypto.h"

void token_derive_key(const uint8_t data_key[32], uint8_t token_key[32])
{
    static const char label[] = "meetoa token hash v1";
    crypto_hmac_sha256(data_key, 32, label, sizeof(label) - 1, token_key);
}

const uint8_t *token_data_key(const config_t *config, int i)
{
    if (i == 0)
        return config->data_key;
    if (i < 0 || i > config->previous_data_keys.count)
        return NULL;
    return config->previous_data_keys.key[i - 1];
}

int token_derive_keys(const config_t *config, uint8_t token_keys[TOKEN_KEYS_MAX][32])
{
    int n = 0;
    for (const uint8_t *key; n < TOKEN_KEYS_MAX && (key = token_data_key(config, n)) != NULL; n++)
        token_derive_key(key, token_keys[n]);
    return n;
}

bool token_new(char out[TOKEN_TEXT_LEN + 1])
{
    uint8_t raw[TOKEN_BYTES];
    if (!crypto_random(raw, sizeof(raw)))
        return false;
    crypto_b64url_encode(raw, sizeof(raw), out);
    return true;
}

/* The URL-safe base64 alphabet (A-Z a-z 0-9 - _), as a 256-entry table: one load a character. */
static const bool url_safe[256] = {
    ['-'] = true, ['_'] = true,
#define R(a) [a] = true, [a + 1] = true, [a + 2] = true, [a + 3] = true, [a + 4] = true
    R('0'),       R('5'),       R('A'), R('F'), R('K'), R('P'), R('U'),
    ['Z'] = true, R('a'),       R('f'), R('k'), R('p'), R('u'), ['z'] = true,
#undef R
};

bool token_well_formed(const char *text, size_t len)
{
    if (len != TOKEN_TEXT_LEN)
        return false;
    bool ok = true;
    for (size_t i = 0; i < TOKEN_TEXT_LEN; i++)
        ok &= url_safe[(unsigned char)text[i]];
    return ok;
}

void token_hash(const uint8_t token_key[32], const char *text, size_t len, uint8_t hash[TOKEN_HASH_SIZE])
{
    crypto_hmac_sha256_key32(token_key, text, len, hash);
}
