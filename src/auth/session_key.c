/* auth/session_key — see session_key.h. */
#include "auth/session_key.h"

#include <string.h>

#include "crypto/crypto.h"

bool session_key_seal(const uint8_t data_key[32], const char *session_key, store_session_t *session)
{
    size_t len = strlen(session_key);
    if (CRYPTO_SEAL_SIZE(len) > sizeof(session->session_key_sealed))
        return false;
    session->session_key_sealed_len = CRYPTO_SEAL_SIZE(len);
    return crypto_seal(data_key, session->token_hash, sizeof(session->token_hash), session_key, len,
                       session->session_key_sealed);
}

bool session_key_open(const uint8_t data_key[32], const store_session_t *session, char out[WX_SESSION_KEY_SIZE])
{
    size_t sealed = session->session_key_sealed_len;
    if (sealed <= CRYPTO_SEAL_OVERHEAD || sealed - CRYPTO_SEAL_OVERHEAD >= WX_SESSION_KEY_SIZE)
        return false;
    if (!crypto_open(data_key, session->token_hash, sizeof(session->token_hash), session->session_key_sealed, sealed,
                     (uint8_t *)out))
        return false;
    out[sealed - CRYPTO_SEAL_OVERHEAD] = '\0';
    return true;
}
