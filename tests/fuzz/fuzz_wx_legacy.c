/*
 * fuzz_wx_legacy — libFuzzer target for wechat/wx_legacy.c: the legacy encryptedData/iv path
 * (wx_legacy_decrypt, then wx_legacy_phone on what decrypts) and wx_legacy_signature_ok, with a
 * fixed session_key. Input: the iv text, '\n', then the encryptedData text (the two form fields a
 * client sends); with no '\n' the whole input is rawData for the signature check.
 * The seeds are real encryptions under FUZZ_SESSION_KEY so the JSON and watermark paths are hit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wechat/wx_legacy.h"

#define FUZZ_SESSION_KEY "MDEyMzQ1Njc4OWFiY2RlZg==" /* base64 of "0123456789abcdef" */
#define FUZZ_APP_ID      "wx0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_decrypt(const char *iv, size_t iv_len, const char *enc, size_t enc_len)
{
    json_t *out = (json_t *)1;
    wx_legacy_rc rc = wx_legacy_decrypt(FUZZ_SESSION_KEY, enc, enc_len, iv, iv_len, FUZZ_APP_ID, &out);
    if (rc != WX_LEGACY_OK) {
        if (out != NULL)
            abort(); /* *out must be NULL on failure */
        return;
    }
    if (!json_is_object(out))
        abort();
    wx_phone_result_t phone;
    memset(&phone, 0, sizeof(phone));
    if (wx_legacy_phone(out, FUZZ_APP_ID, &phone)) {
        if (phone.outcome != WX_OK || memchr(phone.pure_phone_number, '\0', sizeof(phone.pure_phone_number)) == NULL ||
            memchr(phone.phone_number, '\0', sizeof(phone.phone_number)) == NULL ||
            memchr(phone.country_code, '\0', sizeof(phone.country_code)) == NULL)
            abort();
    }
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1); /* exact-size copy: ASan catches reads past either field */
    if (in == NULL)
        abort();
    if (size > 0)
        memcpy(in, data, size);
    char *nl = memchr(in, '\n', size);
    if (nl != NULL) {
        size_t iv_len = (size_t)(nl - in);
        char *iv = malloc(iv_len + 1), *enc = malloc(size - iv_len);
        if (iv == NULL || enc == NULL)
            abort();
        memcpy(iv, in, iv_len);
        memcpy(enc, nl + 1, size - iv_len - 1);
        fuzz_decrypt(iv, iv_len, enc, size - iv_len - 1);
        free(iv);
        free(enc);
    } else if (size >= 40) {
        /* the last 40 bytes are the signature, the rest rawData */
        (void)wx_legacy_signature_ok(in, size - 40, FUZZ_SESSION_KEY, in + size - 40, 40);
    }
    free(in);
    return 0;
}
