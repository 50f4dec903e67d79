/*
 * wx_legacy — WeChat's older client-side data: encryptedData/iv and rawData/signature,
 * and the check-session signature (../shared/wechat-api.md §4, §5). Pure functions: no I/O,
 * no logging, thread-safe; the session_key is the base64 text WeChat gave (24 chars).
 *
 * Base64 inputs that went through form decoding (spaces where '+' belonged) are repaired.
 */
#ifndef MEETOA_WECHAT_WX_LEGACY_H
#define MEETOA_WECHAT_WX_LEGACY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "wechat/wx_client.h"

typedef enum wx_legacy_rc {
    WX_LEGACY_OK = 0,
    WX_LEGACY_BAD_INPUT, /* encryptedData or iv is not base64 of a sane length */
    WX_LEGACY_STALE,     /* does not decrypt to JSON with this session_key: it rotated (log in again) */
    WX_LEGACY_WRONG_APP, /* watermark.appid is missing or not ours */
} wx_legacy_rc;

#define WX_ENCRYPTED_MAX 8192 /* longest encryptedData text accepted */

/*
 * Decrypts encryptedData (AES-128-CBC, PKCS#7; key = base64-decode(session_key),
 * iv = base64-decode(iv)) and checks the watermark. On WX_LEGACY_OK *out is the decrypted
 * JSON object (caller owns it).
 */
wx_legacy_rc wx_legacy_decrypt(const char *session_key, const char *encrypted, size_t encrypted_len, const char *iv,
                               size_t iv_len, const char *app_id, json_t **out);
/* True when signature is hex(SHA-1(rawData + session_key)) (compared in constant time). */
bool wx_legacy_signature_ok(const char *raw_data, size_t raw_len, const char *session_key, const char *signature,
                            size_t signature_len);
/* The /wxa/checksession signature: hex(HMAC-SHA256(key = session_key TEXT, message = "")). */
void wx_legacy_checksession_signature(const char *session_key, char out[65]);
/* Reads phoneNumber / purePhoneNumber / countryCode (string or number) of a decrypted phone
 * object into a wx_phone_result_t (outcome WX_OK). False when a field is missing or malformed. */
bool wx_legacy_phone(json_t *data, const char *app_id, wx_phone_result_t *out);

#endif
