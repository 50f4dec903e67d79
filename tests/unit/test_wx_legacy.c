/* Unit tests of wechat/wx_legacy with WeChat's official vectors (../shared/wechat-api.md §4, §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "wechat/wx_legacy.h"

#define APPID       "wx4f4bc4dec97d474b"
#define SESSION_KEY "tiihtNczf5v6AKRyjwEUhQ=="
#define IV          "r7BXXKkLb8qrSNn05n0qiA=="
static const char encrypted[] = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJl"
                                "AC+oNPdbB+3hVbJSRgv+4lGOETKUQz6O"
                                "YStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/"
                                "1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/"
                                "YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//"
                                "FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJ"
                                "AYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/"
                                "8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0"
                                "IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==";

static void official_vector_decrypts_and_checks_the_watermark(void **state)
{
    json_t *data = NULL;
    assert_int_equal(wx_legacy_decrypt(SESSION_KEY, encrypted, strlen(encrypted), IV, 24, APPID, &data), WX_LEGACY_OK);
    assert_string_equal(json_string_value(json_object_get(data, "openId")), "oGZUI0egBJY1zhBYw2KhdUfwVJJE");
    assert_string_equal(json_string_value(json_object_get(data, "nickName")), "Band");
    assert_string_equal(json_string_value(json_object_get(data, "unionId")), "ocMvos6NjeKLIBqg5Mr9QjxrP1FA");
    json_decref(data);
}

static void another_app_is_refused(void **state)
{
    json_t *data = NULL;
    assert_int_equal(wx_legacy_decrypt(SESSION_KEY, encrypted, strlen(encrypted), IV, 24, "wx0000000000000000", &data),
                     WX_LEGACY_WRONG_APP);
    assert_null(data);
}

static void rotated_session_key_is_stale_not_garbage(void **state)
{
    json_t *data = NULL;
    assert_int_equal(wx_legacy_decrypt("HyVFkGl5F5OQWJZZaNzBBg==", encrypted, strlen(encrypted), IV, 24, APPID, &data),
                     WX_LEGACY_STALE);
    assert_null(data);
}

static void spaces_from_form_decoding_are_repaired(void **state)
{
    char *spaced = strdup(encrypted);
    for (char *p = spaced; *p; p++)
        if (*p == '+')
            *p = ' ';
    json_t *data = NULL;
    assert_int_equal(wx_legacy_decrypt(SESSION_KEY, spaced, strlen(spaced), IV, 24, APPID, &data), WX_LEGACY_OK);
    json_decref(data);
    free(spaced);
}

static void malformed_inputs_are_bad_input(void **state)
{
    json_t *data = NULL;
    assert_int_equal(wx_legacy_decrypt(SESSION_KEY, "!!!!", 4, IV, 24, APPID, &data), WX_LEGACY_BAD_INPUT);
    assert_int_equal(
        wx_legacy_decrypt(SESSION_KEY, encrypted, strlen(encrypted), "r7BXXKkLb8qrSNn05n0q", 20, APPID, &data),
        WX_LEGACY_BAD_INPUT);
    assert_int_equal(wx_legacy_decrypt(SESSION_KEY, "", 0, IV, 24, APPID, &data), WX_LEGACY_BAD_INPUT);
    /* 16 bytes of base64 that are not a multiple of the block size once cut */
    assert_int_equal(wx_legacy_decrypt(SESSION_KEY, "YWJj", 4, IV, 24, APPID, &data), WX_LEGACY_BAD_INPUT);
    assert_null(data);
}

static void rawdata_signature_vector(void **state)
{
    static const char raw[] =
        "{\"nickName\":\"Band\",\"gender\":1,\"language\":\"zh_CN\",\"city\":\"Guangzhou\",\"province\":\"Guangdong\","
        "\"country\":\"CN\",\"avatarUrl\":\"http://wx.qlogo.cn/mmopen/vi_32/"
        "1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0\"}";
    const char *good = "75e81ceda165f4ffa64f4068af58c64b8f54b88c";
    assert_true(wx_legacy_signature_ok(raw, strlen(raw), "HyVFkGl5F5OQWJZZaNzBBg==", good, 40));
    assert_true(wx_legacy_signature_ok(raw, strlen(raw),
                                       "HyVFkGl5F5OQWJZZaNzBBg==", "75E81CEDA165F4FFA64F4068AF58C64B8F54B88C", 40));
    assert_false(wx_legacy_signature_ok(raw, strlen(raw) - 1, "HyVFkGl5F5OQWJZZaNzBBg==", good, 40));
    assert_false(wx_legacy_signature_ok(raw, strlen(raw), SESSION_KEY, good, 40));
    assert_false(wx_legacy_signature_ok(raw, strlen(raw), "HyVFkGl5F5OQWJZZaNzBBg==", good, 39));
}

static void checksession_signature_uses_the_key_text(void **state)
{
    char sig[65];
    wx_legacy_checksession_signature("o0q0otL8aEzpcZL/FT9WsQ==", sig);
    /* openssl dgst -sha256 -hmac 'o0q0otL8aEzpcZL/FT9WsQ==' of the empty string */
    assert_string_equal(sig, "46e043c5525c2d817c44be603d30837a808a1d930d038f6fdc3e62a201fed128");
}

static void phone_fields_string_or_number(void **state)
{
    wx_phone_result_t out;
    json_t *a = json_loads(
        "{\"phoneNumber\":\"+86 13800138000\",\"purePhoneNumber\":\"13800138000\",\"countryCode\":\"86\"}", 0, NULL);
    json_t *b = json_loads("{\"purePhoneNumber\":\"13800138000\",\"countryCode\":86}", 0, NULL);
    json_t *bad = json_loads("{\"purePhoneNumber\":\"1380013800x\",\"countryCode\":\"86\"}", 0, NULL);
    json_t *nocc = json_loads("{\"purePhoneNumber\":\"13800138000\"}", 0, NULL);
    assert_true(wx_legacy_phone(a, APPID, &out));
    assert_string_equal(out.phone_number, "+86 13800138000");
    assert_string_equal(out.country_code, "86");
    assert_true(wx_legacy_phone(b, APPID, &out));
    assert_string_equal(out.phone_number, "13800138000");
    assert_string_equal(out.country_code, "86");
    assert_false(wx_legacy_phone(bad, APPID, &out));
    assert_false(wx_legacy_phone(nocc, APPID, &out));
    json_decref(a);
    json_decref(b);
    json_decref(bad);
    json_decref(nocc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(official_vector_decrypts_and_checks_the_watermark),
        cmocka_unit_test(another_app_is_refused),
        cmocka_unit_test(rotated_session_key_is_stale_not_garbage),
        cmocka_unit_test(spaces_from_form_decoding_are_repaired),
        cmocka_unit_test(malformed_inputs_are_bad_input),
        cmocka_unit_test(rawdata_signature_vector),
        cmocka_unit_test(checksession_signature_uses_the_key_text),
        cmocka_unit_test(phone_fields_string_or_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
