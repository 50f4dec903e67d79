/*
 * test_crypto — crypto.h against published vectors (WeChat's official samples of
 * wechat-api.md §4-§5, RFC 4648 base64) and its refusal rules: strict base64, GCM
 * tampering, wrong keys, short input, bad PKCS#7 padding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"

/* ---- WeChat's official vectors (wechat-api.md §5) ---------------------------------- */

static const char WX_SESSION_KEY[] = "tiihtNczf5v6AKRyjwEUhQ==";
static const char WX_IV[] = "r7BXXKkLb8qrSNn05n0qiA==";
static const char WX_ENCRYPTED[] =
    "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVb"
    "JSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COx"
    "Fvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4"
    "ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwT"
    "yrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5"
    "oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==";
static const char WX_PLAIN[] =
    "{\"openId\":\"oGZUI0egBJY1zhBYw2KhdUfwVJJE\",\"nickName\":\"Band\",\"gender\":1,\"language\":\"zh_CN"
    "\",\"city\":\"Guangzhou\",\"province\":\"Guangdong\",\"country\":\"CN\",\"avatarUrl\":\"http://wx.ql"
    "ogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnf"
    "N5pRjl1p8HQ/0\",\"unionId\":\"ocMvos6NjeKLIBqg5Mr9QjxrP1FA\",\"watermark\":{\"timestamp\":1477314187"
    ",\"appid\":\"wx4f4bc4dec97d474b\"}}";

/* Decodes a base64 text that the test knows to be valid; fails the test otherwise. */
static size_t must_b64(const char *text, uint8_t *out, size_t cap)
{
    long n = crypto_b64_decode(text, strlen(text), out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static void test_wechat_decrypt_vector(void **state)
{
    uint8_t key[16], iv[16], cipher[512], plain[512];
    assert_int_equal(must_b64(WX_SESSION_KEY, key, sizeof(key)), 16);
    assert_int_equal(must_b64(WX_IV, iv, sizeof(iv)), 16);
    size_t clen = must_b64(WX_ENCRYPTED, cipher, sizeof(cipher));
    long n = crypto_aes128cbc_decrypt(key, iv, cipher, clen, plain);
    assert_int_equal(n, (long)strlen(WX_PLAIN));
    assert_memory_equal(plain, WX_PLAIN, strlen(WX_PLAIN));
}

static void test_wechat_decrypt_wrong_key_refused(void **state)
{
    uint8_t key[16], iv[16], cipher[512], plain[512];
    must_b64(WX_SESSION_KEY, key, sizeof(key));
    must_b64(WX_IV, iv, sizeof(iv));
    size_t clen = must_b64(WX_ENCRYPTED, cipher, sizeof(cipher));
    /* A rotated session_key: the padding check fails (the data are fixed, so is the outcome). */
    key[0] ^= 0x01;
    memset(plain, 0, sizeof(plain));
    assert_int_equal(crypto_aes128cbc_decrypt(key, iv, cipher, clen, plain), -1);
    for (size_t i = 0; i < clen; i++)
        assert_int_equal(plain[i], 0); /* nothing half-decrypted left behind */
}

static void test_wechat_rawdata_signature(void **state)
{
    const char *raw = "{\"nickName\":\"Band\",\"gender\":1,\"language\":\"zh_CN\",\"city\":\"Guangzhou\",\"province\":"
                      "\"Guangdong\",\"country\":\"CN\",\"avatarUrl\":\"http://wx.qlogo.cn/mmopen/vi_32/"
                      "1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0\"}";
    const char *session_key = "HyVFkGl5F5OQWJZZaNzBBg==";
    char buf[512];
    snprintf(buf, sizeof(buf), "%s%s", raw, session_key);
    uint8_t md[20];
    char hex[41];
    crypto_sha1(buf, strlen(buf), md);
    crypto_hex(md, sizeof(md), hex);
    assert_string_equal(hex, "75e81ceda165f4ffa64f4068af58c64b8f54b88c");
}

static void test_wechat_hmac_example(void **state)
{
    const char *key = "o0q0otL8aEzpcZL/FT9WsQ=="; /* the base64 TEXT is the key (§4) */
    const char *msg = "{\"foo\":\"bar\"}";
    uint8_t mac[32];
    char hex[65];
    crypto_hmac_sha256(key, strlen(key), msg, strlen(msg), mac);
    crypto_hex(mac, sizeof(mac), hex);
    assert_string_equal(hex, "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b");
}

static void test_sha256_vectors(void **state)
{
    uint8_t md[32];
    char hex[65];
    crypto_sha256("abc", 3, md);
    crypto_hex(md, sizeof(md), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256("", 0, md);
    crypto_hex(md, sizeof(md), hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* ---- base64 ------------------------------------------------------------------------ */

static const struct {
    const char *plain, *b64, *b64url;
} RFC4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void test_b64_rfc4648_both_ways(void **state)
{
    for (size_t i = 0; i < sizeof(RFC4648) / sizeof(RFC4648[0]); i++) {
        const char *p = RFC4648[i].plain;
        size_t plen = strlen(p);
        char enc[32];
        uint8_t dec[32];
        assert_int_equal(crypto_b64_encode(p, plen, enc), strlen(RFC4648[i].b64));
        assert_string_equal(enc, RFC4648[i].b64);
        assert_int_equal(crypto_b64url_encode(p, plen, enc), strlen(RFC4648[i].b64url));
        assert_string_equal(enc, RFC4648[i].b64url);
        assert_int_equal(crypto_b64_decode(RFC4648[i].b64, strlen(RFC4648[i].b64), dec, sizeof(dec)), (long)plen);
        assert_memory_equal(dec, p, plen);
        assert_int_equal(crypto_b64url_decode(RFC4648[i].b64url, strlen(RFC4648[i].b64url), dec, sizeof(dec)),
                         (long)plen);
        assert_memory_equal(dec, p, plen);
    }
}

static void test_b64_sizes_and_alphabets(void **state)
{
    const uint8_t bytes[] = {0xfb, 0xff, 0xbf, 0xfe};
    char enc[CRYPTO_B64_SIZE(4)];
    char url[CRYPTO_B64URL_SIZE(4)];
    assert_int_equal(sizeof(enc), 9);
    assert_int_equal(sizeof(url), 7);
    assert_int_equal(crypto_b64_encode(bytes, 4, enc), 8);
    assert_string_equal(enc, "+/+//g==");
    assert_int_equal(crypto_b64url_encode(bytes, 4, url), 6);
    assert_string_equal(url, "-_-__g");
    uint8_t dec[4];
    assert_int_equal(crypto_b64url_decode("-_-__g", 6, dec, sizeof(dec)), 4);
    assert_memory_equal(dec, bytes, 4);
    /* Each alphabet refuses the other's specials. */
    assert_int_equal(crypto_b64url_decode("+/+//g", 6, dec, sizeof(dec)), -1);
    assert_int_equal(crypto_b64_decode("-_-__g==", 8, dec, sizeof(dec)), -1);
}

static void test_b64_bad_refused(void **state)
{
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {
        {"Zg", 2},       /* padding missing */
        {"Zg=", 3},      /* padding incomplete */
        {"Zm9", 3},      /* length not a multiple of 4 */
        {"Zg===", 5},    /* too much padding */
        {"Z===", 4},     /* one data char in a group */
        {"====", 4},     /* only padding */
        {"Zg==Zg==", 8}, /* data after the padding */
        {"Z=g=", 4},     /* '=' in the middle */
        {"Zm9\n", 4},    /* whitespace other than the space */
        {"Zm\t=", 4},    /* ... tab */
        {"Zm9\r", 4},    /* ... carriage return */
        {"Zm9*", 4},     /* character outside the alphabet */
        {"Zm9\xc3", 4},  /* non-ASCII byte */
        {"Zm\0v", 4},    /* NUL inside */
        {"Zh==", 4},     /* non-canonical: unused bits set */
        {"Zm9=", 4},     /* ... and with one '=' */
    };
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(crypto_b64_decode(bad[i].text, bad[i].len, out, sizeof(out)), -1);
    static const char *const bad_url[] = {"Z", "Zg==", "Zm9v+", "Zm9v/", "Zh", "Zm9", "Zm9v.a", "Zm9 "};
    for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
        assert_int_equal(crypto_b64url_decode(bad_url[i], strlen(bad_url[i]), out, sizeof(out)), -1);
}

static void test_b64_does_not_overflow(void **state)
{
    uint8_t out[8];
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(crypto_b64_decode("Zm9vYmFy", 8, out, 5), -1); /* needs 6 */
    assert_int_equal(crypto_b64url_decode("Zm9vYmFy", 8, out, 5), -1);
    assert_int_equal(out[5], 0xaa);
    assert_int_equal(crypto_b64_decode("Zm9vYmFy", 8, out, 6), 6);
    assert_int_equal(out[6], 0xaa);
}

static void test_b64_space_is_plus(void **state)
{
    /* The WeChat vector went through form decoding: every '+' became a space. */
    char damaged[sizeof(WX_ENCRYPTED)];
    memcpy(damaged, WX_ENCRYPTED, sizeof(damaged));
    size_t spaces = 0;
    for (char *p = damaged; *p; p++)
        if (*p == '+') {
            *p = ' ';
            spaces++;
        }
    assert_true(spaces > 0);
    uint8_t a[512], b[512];
    long na = crypto_b64_decode(WX_ENCRYPTED, strlen(WX_ENCRYPTED), a, sizeof(a));
    long nb = crypto_b64_decode(damaged, strlen(damaged), b, sizeof(b));
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na);
}

/* ---- misc ---------------------------------------------------------------------------- */

static void test_hex_and_equal(void **state)
{
    const uint8_t in[] = {0x00, 0x0f, 0xa5, 0xff};
    char hex[9];
    crypto_hex(in, sizeof(in), hex);
    assert_string_equal(hex, "000fa5ff");

    uint8_t a[32], b[32];
    assert_true(crypto_random(a, sizeof(a)));
    memcpy(b, a, sizeof(b));
    assert_true(crypto_equal(a, b, sizeof(a)));
    b[31] ^= 0x80;
    assert_false(crypto_equal(a, b, sizeof(a)));
    b[31] ^= 0x80;
    b[0] ^= 0x01;
    assert_false(crypto_equal(a, b, sizeof(a)));
    assert_true(crypto_equal(a, b, 0));
}

/* crypto_hex computes its digits without a table: every byte value against printf's. */
static void test_hex_every_byte(void **state)
{
    for (unsigned v = 0; v < 256; v++) {
        uint8_t in[2] = {(uint8_t)v, (uint8_t)(255 - v)};
        char hex[5], want[5];
        crypto_hex(in, sizeof(in), hex);
        snprintf(want, sizeof(want), "%02x%02x", in[0], in[1]);
        assert_string_equal(hex, want);
    }
}

static void test_random_differs(void **state)
{
    uint8_t a[32], b[32];
    assert_true(crypto_random(a, sizeof(a)));
    assert_true(crypto_random(b, sizeof(b)));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_true(crypto_random(a, 0));
}

/* ---- AES-256-GCM ----------------------------------------------------------------------- */

static const char SECRET[] = "session-key-goes-here-24";
static const char AAD[] = "user:42";

static void seal_fixture(uint8_t key[32], uint8_t sealed[CRYPTO_SEAL_SIZE(sizeof(SECRET))])
{
    assert_true(crypto_random(key, 32));
    assert_true(crypto_seal(key, AAD, strlen(AAD), SECRET, sizeof(SECRET), sealed));
}

static void test_seal_open_round_trip(void **state)
{
    uint8_t key[32], sealed[CRYPTO_SEAL_SIZE(sizeof(SECRET))], plain[sizeof(SECRET)];
    seal_fixture(key, sealed);
    assert_memory_not_equal(sealed + 12, SECRET, sizeof(SECRET));
    assert_true(crypto_open(key, AAD, strlen(AAD), sealed, sizeof(sealed), plain));
    assert_memory_equal(plain, SECRET, sizeof(SECRET));

    /* Fresh nonce each time: the same input seals differently. */
    uint8_t again[sizeof(sealed)];
    assert_true(crypto_seal(key, AAD, strlen(AAD), SECRET, sizeof(SECRET), again));
    assert_memory_not_equal(sealed, again, 12);

    /* No aad, empty plaintext. */
    uint8_t empty[CRYPTO_SEAL_SIZE(0)];
    assert_true(crypto_seal(key, NULL, 0, "", 0, empty));
    assert_true(crypto_open(key, NULL, 0, empty, sizeof(empty), plain));
}

static void test_open_tampered_refused(void **state)
{
    uint8_t key[32], sealed[CRYPTO_SEAL_SIZE(sizeof(SECRET))], plain[sizeof(SECRET)];
    seal_fixture(key, sealed);
    /* One flipped bit anywhere (nonce, body, tag) breaks it. */
    size_t positions[] = {0, 11, 12, 12 + sizeof(SECRET) - 1, sizeof(sealed) - 16, sizeof(sealed) - 1};
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        sealed[positions[i]] ^= 0x04;
        memset(plain, 0, sizeof(plain));
        assert_false(crypto_open(key, AAD, strlen(AAD), sealed, sizeof(sealed), plain));
        assert_memory_not_equal(plain, SECRET, 8); /* no plaintext left behind */
        sealed[positions[i]] ^= 0x04;
    }
    assert_true(crypto_open(key, AAD, strlen(AAD), sealed, sizeof(sealed), plain));
}

static void test_open_wrong_key_or_aad_refused(void **state)
{
    uint8_t key[32], sealed[CRYPTO_SEAL_SIZE(sizeof(SECRET))], plain[sizeof(SECRET)];
    seal_fixture(key, sealed);
    assert_false(crypto_open(key, "user:43", 7, sealed, sizeof(sealed), plain));
    assert_false(crypto_open(key, NULL, 0, sealed, sizeof(sealed), plain));
    key[5] ^= 0x10;
    assert_false(crypto_open(key, AAD, strlen(AAD), sealed, sizeof(sealed), plain));
}

static void test_open_too_short_refused(void **state)
{
    uint8_t key[32], sealed[CRYPTO_SEAL_SIZE(sizeof(SECRET))], plain[sizeof(SECRET)];
    seal_fixture(key, sealed);
    assert_false(crypto_open(key, AAD, strlen(AAD), sealed, CRYPTO_SEAL_OVERHEAD - 1, plain));
    assert_false(crypto_open(key, AAD, strlen(AAD), sealed, 0, plain));
    /* Truncated by one byte: still long enough to parse, but the tag is wrong. */
    assert_false(crypto_open(key, AAD, strlen(AAD), sealed, sizeof(sealed) - 1, plain));
}

/* ---- AES-128-CBC ----------------------------------------------------------------------- */

static void test_cbc_round_trip_all_lengths(void **state)
{
    uint8_t key[16], iv[16], in[48], cipher[64], out[64];
    assert_true(crypto_random(key, sizeof(key)));
    assert_true(crypto_random(iv, sizeof(iv)));
    assert_true(crypto_random(in, sizeof(in)));
    for (size_t len = 0; len <= sizeof(in); len++) {
        long c = crypto_aes128cbc_encrypt(key, iv, in, len, cipher);
        assert_int_equal(c, (long)((len / 16 + 1) * 16)); /* PKCS#7 always adds 1..16 bytes */
        long p = crypto_aes128cbc_decrypt(key, iv, cipher, (size_t)c, out);
        assert_int_equal(p, (long)len);
        assert_memory_equal(out, in, len);
    }
}

static void test_cbc_bad_padding_refused(void **state)
{
    uint8_t key[16] = {1}, iv[16] = {2}, block[32], cipher[48], out[48];
    /* Encrypt with padding, then craft full blocks whose last bytes are bad padding by
     * encrypting them without padding: we get them by encrypting 16 bytes + stripping
     * the pad block (CBC: the first block's ciphertext does not depend on later ones). */
    static const struct {
        uint8_t last[4]; /* last 4 bytes of the final plaintext block */
    } cases[] = {
        {{1, 2, 3, 0}},    /* pad 0 */
        {{1, 2, 3, 17}},   /* pad > 16 */
        {{9, 9, 2, 3}},    /* pad 3, but the bytes before are not 3 */
        {{0xff, 4, 4, 4}}, /* pad 4 with one wrong byte */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(block, 'x', 16);
        memcpy(block + 12, cases[i].last, 4);
        long c = crypto_aes128cbc_encrypt(key, iv, block, 16, cipher);
        assert_int_equal(c, 32);
        /* The first 16 bytes of cipher are exactly the block, encrypted, unpadded. */
        assert_int_equal(crypto_aes128cbc_decrypt(key, iv, cipher, 16, out), -1);
    }
    /* A correct pad through the same construction is accepted (the check above can fail). */
    memset(block, 'x', 16);
    memset(block + 14, 2, 2);
    assert_int_equal(crypto_aes128cbc_encrypt(key, iv, block, 16, cipher), 32);
    assert_int_equal(crypto_aes128cbc_decrypt(key, iv, cipher, 16, out), 14);
    /* A full block of 16s. */
    memset(block, 16, 16);
    assert_int_equal(crypto_aes128cbc_encrypt(key, iv, block, 16, cipher), 32);
    assert_int_equal(crypto_aes128cbc_decrypt(key, iv, cipher, 16, out), 0);
}

static void test_cbc_bad_length_refused(void **state)
{
    uint8_t key[16] = {0}, iv[16] = {0}, in[48] = {0}, out[48];
    assert_int_equal(crypto_aes128cbc_decrypt(key, iv, in, 0, out), -1);
    assert_int_equal(crypto_aes128cbc_decrypt(key, iv, in, 15, out), -1);
    assert_int_equal(crypto_aes128cbc_decrypt(key, iv, in, 17, out), -1);
}

/* The keyed-once HMAC gives the one-shot HMAC's answer, across key changes and threads. */
static void *hmac_key32_worker(void *arg)
{
    const uint8_t *keys = arg;
    for (int round = 0; round < 200; round++) {
        const uint8_t *key = keys + 32 * (round % 3);
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "token-%d", round);
        uint8_t fast[32], slow[32];
        crypto_hmac_sha256_key32(key, msg, (size_t)n, fast);
        crypto_hmac_sha256(key, 32, msg, (size_t)n, slow);
        if (memcmp(fast, slow, 32) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_hmac_key32_matches_one_shot(void **state)
{
    uint8_t keys[3 * 32];
    assert_true(crypto_random(keys, sizeof(keys)));
    /* RFC 4231 case 2 cannot be used (its key is 4 bytes); compare with the one-shot HMAC,
     * itself checked against WeChat's published example above. */
    assert_null(hmac_key32_worker(keys));
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hmac_key32_worker, keys);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    uint8_t a[32], b[32];
    crypto_hmac_sha256_key32(keys, "", 0, a);
    crypto_hmac_sha256(keys, 32, "", 0, b);
    assert_memory_equal(a, b, 32);
}

/* RFC 4231 cases 1, 2 and 3 through the 32-byte-key function: HMAC pads a short key with zeros to
 * the block size, so the key followed by zeros up to 32 bytes is the same key. */
static void test_hmac_key32_rfc4231(void **state)
{
    static const struct {
        uint8_t key_byte; /* repeated key_len times, unless key_text */
        const char *key_text;
        size_t key_len;
        uint8_t data_byte; /* repeated data_len times, unless data_text */
        const char *data_text;
        size_t data_len;
        const char *mac;
    } cases[] = {
        {0x0b, NULL, 20, 0, "Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {0, "Jefe", 4, 0, "what do ya want for nothing?", 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {0xaa, NULL, 20, 0xdd, NULL, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint8_t key[32] = {0}, data[64], mac[32];
        char hex[65];
        if (cases[c].key_text != NULL)
            memcpy(key, cases[c].key_text, cases[c].key_len);
        else
            memset(key, cases[c].key_byte, cases[c].key_len);
        if (cases[c].data_text != NULL)
            memcpy(data, cases[c].data_text, cases[c].data_len);
        else
            memset(data, cases[c].data_byte, cases[c].data_len);
        crypto_hmac_sha256_key32(key, data, cases[c].data_len, mac);
        crypto_hex(mac, 32, hex);
        assert_string_equal(hex, cases[c].mac);
    }
}

/* Messages of every length across the block boundaries (0..200 bytes) give the one-shot HMAC's
 * digest, under one key used again and again and after a change of key. */
static void test_hmac_key32_lengths(void **state)
{
    uint8_t keys[2][32], msg[200];
    assert_true(crypto_random(keys, sizeof(keys)));
    assert_true(crypto_random(msg, sizeof(msg)));
    for (int k = 0; k < 2; k++)
        for (size_t n = 0; n <= sizeof(msg); n++) {
            uint8_t fast[32], slow[32];
            crypto_hmac_sha256_key32(keys[k], msg, n, fast);
            crypto_hmac_sha256(keys[k], 32, msg, n, slow);
            assert_memory_equal(fast, slow, 32);
        }
}

/* SipHash-2-4's reference vectors (key 00..0f, message 00..len-1): the empty message, 7, 8 and
 * 15 bytes (the paper's example), 63 bytes. */
static void test_siphash24_reference_vectors(void **state)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    assert_true(crypto_siphash24(key, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
    assert_true(crypto_siphash24(key, msg, 7) == UINT64_C(0xab0200f58b01d137));
    assert_true(crypto_siphash24(key, msg, 8) == UINT64_C(0x93f5f5799a932462));
    assert_true(crypto_siphash24(key, msg, 15) == UINT64_C(0xa129ca6149be45e5));
    assert_true(crypto_siphash24(key, msg, 63) == UINT64_C(0x958a324ceb064572));
}

/* crypto_equal finds a difference in any byte, for lengths that are and are not multiples of 8. */
static void test_equal_every_byte(void **state)
{
    uint8_t a[41], b[41];
    assert_true(crypto_random(a, sizeof(a)));
    for (size_t len = 0; len <= sizeof(a); len++) {
        memcpy(b, a, sizeof(a));
        assert_true(crypto_equal(a, b, len));
        for (size_t i = 0; i < len; i++) {
            b[i] ^= 0x80;
            assert_false(crypto_equal(a, b, len));
            b[i] ^= 0x81;
            assert_false(crypto_equal(a, b, len));
            b[i] ^= 0x01;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wechat_decrypt_vector),
        cmocka_unit_test(test_hmac_key32_rfc4231),
        cmocka_unit_test(test_hmac_key32_lengths),
        cmocka_unit_test(test_equal_every_byte),
        cmocka_unit_test(test_siphash24_reference_vectors),
        cmocka_unit_test(test_wechat_decrypt_wrong_key_refused),
        cmocka_unit_test(test_wechat_rawdata_signature),
        cmocka_unit_test(test_wechat_hmac_example),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_b64_rfc4648_both_ways),
        cmocka_unit_test(test_b64_sizes_and_alphabets),
        cmocka_unit_test(test_b64_bad_refused),
        cmocka_unit_test(test_b64_does_not_overflow),
        cmocka_unit_test(test_b64_space_is_plus),
        cmocka_unit_test(test_hex_and_equal),
        cmocka_unit_test(test_hex_every_byte),
        cmocka_unit_test(test_random_differs),
        cmocka_unit_test(test_seal_open_round_trip),
        cmocka_unit_test(test_open_tampered_refused),
        cmocka_unit_test(test_open_wrong_key_or_aad_refused),
        cmocka_unit_test(test_open_too_short_refused),
        cmocka_unit_test(test_cbc_round_trip_all_lengths),
        cmocka_unit_test(test_cbc_bad_padding_refused),
        cmocka_unit_test(test_cbc_bad_length_refused),
        cmocka_unit_test(test_hmac_key32_matches_one_shot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
