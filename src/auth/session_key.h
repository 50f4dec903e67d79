/*
 * auth/session_key — the WeChat session_key at rest.
 *
 * It is stored only sealed (AES-256-GCM under oa.security.data-key), bound to its session
 * by the token hash as associated data, so a sealed key copied onto another session's row,
 * or read with another data key, does not open. After a data-key rotation the callers open
 * an older session's key with the previous data key its token was found under (auth/token.h). In clear it lives only in
 * short-lived buffers that the callers wipe.
 */
#ifndef MEETOA_AUTH_SESSION_KEY_H
#define MEETOA_AUTH_SESSION_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "wechat/wx_client.h"

/* Seals session_key (base64 text) into session->session_key_sealed, bound to session->token_hash. */
bool session_key_seal(const uint8_t data_key[32], const char *session_key, store_session_t *session);
/* Opens it into out (NUL-terminated). False when the data key, the binding or the bytes differ. */
bool session_key_open(const uint8_t data_key[32], const store_session_t *session, char out[WX_SESSION_KEY_SIZE]);

#endif
