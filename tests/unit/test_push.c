/*
 * test_push — push/push_crypto.h and push/push_message.h: the official URL-verification vectors of WeChat's
 * message push (/work/shared/wechat-more-apis.md §1.3.3), the string (not numeric) sort, and
 * safe mode: EncodingAESKey to key, a round trip, and every way a packet is refused (another
 * key, another appid, tampered bytes, bad base64, a length that does not fit); packets in JSON
 * and in XML (CDATA, plain values, malformed ones).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "push/push_crypto.h"
#include "push/push_message.h"

static void test_official_vectors(void **state)
{
    (void)state;
    char sig[PUSH_SIGNATURE_SIZE];
    const char *a[] = {"AAAAA", "1714036504", "1514711492"};
    push_signature(a, 3, sig);
    assert_string_equal(sig, "f464b24fc39322e44b38aa78f5edd27bd1441696");
    assert_true(push_signature_ok(a, 3, "f464b24fc39322e44b38aa78f5edd27bd1441696"));
    assert_true(push_signature_ok(a, 3, "F464B24FC39322E44B38AA78F5EDD27BD1441696")); /* hex case */
    /* sorted as strings: "1714037059" < "486452656" although 486452656 is the smaller number */
    const char *b[] = {"AAAAA", "1714037059", "486452656"};
    push_signature(b, 3, sig);
    assert_string_equal(sig, "899cf89e464efb63f54ddac96b0a0a235f53aa78");
    /* the order given does not matter */
    const char *c[] = {"486452656", "AAAAA", "1714037059"};
    assert_true(push_signature_ok(c, 3, "899cf89e464efb63f54ddac96b0a0a235f53aa78"));
    assert_false(push_signature_ok(b, 3, "899cf89e464efb63f54ddac96b0a0a235f53aa79"));
    assert_false(push_signature_ok(b, 3, "899cf89e"));
    assert_false(push_signature_ok(b, 3, NULL));
    const char *other_token[] = {"AAAAB", "1714037059", "486452656"};
    assert_false(push_signature_ok(other_token, 3, "899cf89e464efb63f54ddac96b0a0a235f53aa78"));
}

/* 43 characters; decodes to bytes 0..31 with the base64 alphabet's first letters */
static const char AES_KEY[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

static void test_aes_key(void **state)
{
    (void)state;
    uint8_t key[32];
    assert_true(push_aes_key(AES_KEY, key));
    char b64[CRYPTO_B64_SIZE(32)];
    crypto_b64_encode(key, 32, b64);
    assert_int_equal(strncmp(b64, AES_KEY, 42), 0); /* the same bits back */
    assert_false(push_aes_key("abc", key));
    assert_false(push_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF+", key));  /* not [A-Za-z0-9] */
    assert_false(push_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", key)); /* 44 */
}

static void test_safe_mode_round_trip(void **state)
{
    (void)state;
    uint8_t key[32], other[32];
    assert_true(push_aes_key(AES_KEY, key));
    assert_true(push_aes_key("ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut", other));
    const char msg[] = "{\"ToUserName\":\"gh_1\",\"Event\":\"user_authorization_revoke\",\"OpenID\":\"o1\"}";
    for (size_t len = 0; len <= sizeof msg - 1; len += 7) { /* every padding length class */
        char *enc = push_encrypt(key, "wx0123456789abcdef", msg, len);
        assert_non_null(enc);
        char *out = NULL;
        size_t out_len = 99;
        assert_true(push_decrypt(key, "wx0123456789abcdef", enc, strlen(enc), &out, &out_len));
        assert_int_equal(out_len, len);
        assert_memory_equal(out, msg, len);
        assert_int_equal(out[len], '\0');
        free(out);
        assert_false(push_decrypt(other, "wx0123456789abcdef", enc, strlen(enc), &out, &out_len));
        assert_null(out);
        assert_false(push_decrypt(key, "wx0123456789abcdeg", enc, strlen(enc), &out, &out_len)); /* appid */
        free(enc);
    }
    char *enc = push_encrypt(key, "wx0123456789abcdef", msg, sizeof msg - 1);
    char *out = NULL;
    size_t out_len = 0;
    size_t n = strlen(enc);
    /* CBC has no integrity of its own (msg_signature gives it): a flipped bit of the first cipher
     * block flips the same bit of the length field, which then no longer fits. */
    enc[1] = enc[1] == 'A' ? 'B' : 'A';
    assert_false(push_decrypt(key, "wx0123456789abcdef", enc, n, &out, &out_len));
    assert_false(push_decrypt(key, "wx0123456789abcdef", "not base64!", 11, &out, &out_len));
    assert_false(push_decrypt(key, "wx0123456789abcdef", "", 0, &out, &out_len));
    assert_false(push_decrypt(key, "wx0123456789abcdef", enc, n - 4, &out, &out_len)); /* truncated */
    free(enc);
}

static void test_messages(void **state)
{
    (void)state;
    const char xml[] = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n <CreateTime>1714036504</CreateTime>"
                       "<Event><![CDATA[user_authorization_revoke]]></Event><OpenID>o-1</OpenID>"
                       "<RevokeInfo><![CDATA[8]]></RevokeInfo><Encrypt><![CDATA[a<b>c]]></Encrypt></xml>";
    json_t *m = push_message_parse(xml, sizeof xml - 1);
    assert_non_null(m);
    char buf[32];
    assert_string_equal(push_message_text(m, "Event", buf, sizeof buf), "user_authorization_revoke");
    assert_string_equal(push_message_text(m, "CreateTime", buf, sizeof buf), "1714036504");
    assert_string_equal(push_message_text(m, "OpenID", buf, sizeof buf), "o-1");
    assert_string_equal(push_message_text(m, "Encrypt", buf, sizeof buf), "a<b>c");
    assert_null(push_message_text(m, "trace_id", buf, sizeof buf));
    json_decref(m);
    const char js[] = "{\"Event\":\"wxa_media_check\",\"CreateTime\":1762329554,\"trace_id\":\"t-1\"}";
    m = push_message_parse(js, sizeof js - 1);
    assert_non_null(m);
    assert_string_equal(push_message_text(m, "CreateTime", buf, sizeof buf), "1762329554");
    assert_string_equal(push_message_text(m, "trace_id", buf, sizeof buf), "t-1");
    json_decref(m);
    static const char *bad[] = {"",
                                "xml",
                                "<xml><A>1</B></xml>",
                                "<xml><A><![CDATA[1]></A></xml>",
                                "<xml><A>1</A>",
                                "[1]",
                                "{\"a\":1,\"a\":2}",
                                "<xm><A>1</A></xm>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = push_message_parse(bad[i], strlen(bad[i]));
        if (m != NULL)
            fail_msg("push_message_parse accepted %s", bad[i]);
    }
}

/* The List of subscription events: JSON (an object or an array, at the top or in its wrapper)
 * and XML (several <List> inside the wrapper). */
static void test_event_lists(void **state)
{
    (void)state;
    char buf[32];
    const char xml[] = "<xml><Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>"
                       "<List><TemplateId><![CDATA[T-1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]>"
                       "</SubscribeStatusString><PopupScene>0</PopupScene></List>\n <List><TemplateId>T-2</TemplateId>"
                       "<SubscribeStatusString>reject</SubscribeStatusString></List></SubscribeMsgPopupEvent></xml>";
    json_t *m = push_message_parse(xml, sizeof xml - 1);
    assert_non_null(m);
    json_t *list = push_message_list(m, "SubscribeMsgPopupEvent");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(push_message_text(json_array_get(list, 0), "TemplateId", buf, sizeof buf), "T-1");
    assert_string_equal(push_message_text(json_array_get(list, 0), "SubscribeStatusString", buf, sizeof buf), "accept");
    assert_string_equal(push_message_text(json_array_get(list, 1), "TemplateId", buf, sizeof buf), "T-2");
    assert_string_equal(push_message_text(json_array_get(list, 1), "SubscribeStatusString", buf, sizeof buf), "reject");
    json_decref(list);
    json_decref(m);
    static const char *const js[] = {
        "{\"List\":[{\"TemplateId\":\"T-1\",\"MsgID\":1988810812324364291},{\"TemplateId\":\"T-2\"},3]}",
        "{\"List\":{\"TemplateId\":\"T-1\",\"MsgID\":\"1988810812324364291\"}}",
        "{\"SubscribeMsgSentEvent\":{\"List\":{\"TemplateId\":\"T-1\",\"MsgID\":1988810812324364291}}}",
    };
    const size_t want[] = {2, 1, 1};
    for (size_t i = 0; i < sizeof js / sizeof js[0]; i++) {
        m = push_message_parse(js[i], strlen(js[i]));
        list = push_message_list(m, "SubscribeMsgSentEvent");
        assert_int_equal(json_array_size(list), want[i]);
        assert_string_equal(push_message_text(json_array_get(list, 0), "TemplateId", buf, sizeof buf), "T-1");
        assert_string_equal(push_message_text(json_array_get(list, 0), "MsgID", buf, sizeof buf),
                            "1988810812324364291");
        json_decref(list);
        json_decref(m);
    }
    /* no list, or a malformed one: empty */
    const char *none[] = {"{\"Event\":\"x\"}", "<xml><SubscribeMsgSentEvent><Lis>1</Lis></SubscribeMsgSentEvent></xml>",
                          "<xml><SubscribeMsgSentEvent><List><A>1</List></SubscribeMsgSentEvent></xml>"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        m = push_message_parse(none[i], strlen(none[i]));
        assert_non_null(m);
        list = push_message_list(m, "SubscribeMsgSentEvent");
        assert_int_equal(json_array_size(list), 0);
        json_decref(list);
        json_decref(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_vectors),     cmocka_unit_test(test_aes_key),
        cmocka_unit_test(test_safe_mode_round_trip), cmocka_unit_test(test_messages),
        cmocka_unit_test(test_event_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
