/* wx_legacy — see wx_legacy.h. */
#include "wechat/wx_legacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

wx_legacy_rc wx_legacy_decrypt(const char *session_key, const char *encrypted, size_t encrypted_len, const char *iv,
                               size_t iv_len, const char *app_id, json_t **out)
{
    uint8_t key[18], ivb[18];
    *out = NULL;
    if (crypto_b64_decode(session_key, strlen(session_key), key, sizeof(key)) != 16)
        return WX_LEGACY_STALE; /* a stored key of the wrong shape cannot open anything */
    if (iv_len != 24 || crypto_b64_decode(iv, iv_len, ivb, sizeof(ivb)) != 16 || encrypted_len == 0 ||
        encrypted_len > WX_ENCRYPTED_MAX) {
        explicit_bzero(key, sizeof(key));
        return WX_LEGACY_BAD_INPUT;
    }
    size_t cap = encrypted_len / 4 * 3 + 3;
    uint8_t *cipher = malloc(cap), *plain = malloc(cap);
    wx_legacy_rc rc = WX_LEGACY_BAD_INPUT;
    long clen = cipher != NULL && plain != NULL ? crypto_b64_decode(encrypted, encrypted_len, cipher, cap) : -1;
    if (clen <= 0 || clen % 16 != 0)
        goto done;
    rc = WX_LEGACY_STALE;
    long plen = crypto_aes128cbc_decrypt(key, ivb, cipher, (size_t)clen, plain);
    if (plen <= 0)
        goto done;
    json_t *data = json_loadb((const char *)plain, (size_t)plen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(data)) {
        json_decref(data);
        goto done;
    }
    const char *watermark = json_string_value(json_object_get(json_object_get(data, "watermark"), "appid"));
    if (watermark == NULL || strcmp(watermark, app_id) != 0) {
        json_decref(data);
        rc = WX_LEGACY_WRONG_APP;
        goto done;
    }
    *out = data;
    rc = WX_LEGACY_OK;
done:
    explicit_bzero(key, sizeof(key));
    if (plain != NULL)
        explicit_bzero(plain, cap);
    free(cipher);
    free(plain);
    return rc;
}

bool wx_legacy_signature_ok(const char *raw_data, size_t raw_len, const char *session_key, const char *signature,
                            size_t signature_len)
{
    if (signature_len != 40)
        return false;
    size_t key_len = strlen(session_key);
    char *joined = malloc(raw_len + key_len);
    if (joined == NULL)
        return false;
    memcpy(joined, raw_data, raw_len);
    memcpy(joined + raw_len, session_key, key_len);
    uint8_t digest[20];
    char hex[41];
    crypto_sha1(joined, raw_len + key_len, digest);
    explicit_bzero(joined, raw_len + key_len);
    free(joined);
    crypto_hex(digest, sizeof(digest), hex);
    char given[41];
    for (size_t i = 0; i < 40; i++) /* WeChat's is lowercase; accept either case */
        given[i] = (char)(signature[i] >= 'A' && signature[i] <= 'F' ? signature[i] + 32 : signature[i]);
    return crypto_equal(hex, given, 40);
}

void wx_legacy_checksession_signature(const char *session_key, char out[65])
{
    uint8_t mac[32];
    crypto_hmac_sha256(session_key, strlen(session_key), "", 0, mac);
    crypto_hex(mac, sizeof(mac), out);
}

static bool digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool wx_legacy_phone(json_t *data, const char *app_id, wx_phone_result_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *pure = json_string_value(json_object_get(data, "purePhoneNumber"));
    const char *full = json_string_value(json_object_get(data, "phoneNumber"));
    json_t *cc = json_object_get(data, "countryCode");
    if (pure == NULL || !digits(pure, 1, 20))
        return false;
    if (json_is_string(cc) && digits(json_string_value(cc), 1, 4))
        snprintf(out->country_code, sizeof(out->country_code), "%s", json_string_value(cc));
    else if (json_is_integer(cc) && json_integer_value(cc) > 0 && json_integer_value(cc) < 10000)
        snprintf(out->country_code, sizeof(out->country_code), "%lld", (long long)json_integer_value(cc));
    else
        return false;
    snprintf(out->pure_phone_number, sizeof(out->pure_phone_number), "%s", pure);
    if (full != NULL && strlen(full) < sizeof(out->phone_number))
        snprintf(out->phone_number, sizeof(out->phone_number), "%s", full);
    else
        snprintf(out->phone_number, sizeof(out->phone_number), "%s", pure);
    snprintf(out->watermark_appid, sizeof(out->watermark_appid), "%s", app_id);
    out->outcome = WX_OK;
    return true;
}
