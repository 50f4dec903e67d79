/* Unit tests of auth/token: shape, randomness, keyed hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth/token.h"

static void new_tokens_are_43_urlsafe_chars_and_differ(void **state)
{
    char a[TOKEN_TEXT_LEN + 1], b[TOKEN_TEXT_LEN + 1];
    assert_true(token_new(a));
    assert_true(token_new(b));
    assert_int_equal(strlen(a), 43);
    assert_true(token_well_formed(a, strlen(a)));
    assert_string_not_equal(a, b);
}

static void malformed_tokens_are_refused(void **state)
{
    char t[TOKEN_TEXT_LEN + 1];
    assert_true(token_new(t));
    assert_false(token_well_formed(t, 42));
    assert_false(token_well_formed(NULL, 0));
    t[5] = '+';
    assert_false(token_well_formed(t, 43));
    t[5] = '\0';
    assert_false(token_well_formed(t, 43));
    assert_false(token_well_formed("0123456789012345678901234567890123456789012=", 44));
}

/* Every byte value in a token's place: accepted exactly when it is in the URL-safe alphabet. */
static void every_byte_checked(void **state)
{
    char t[TOKEN_TEXT_LEN + 1];
    assert_true(token_new(t));
    for (int c = 0; c < 256; c++) {
        bool alphabet =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        for (size_t at = 0; at < TOKEN_TEXT_LEN; at += 21) {
            char u[TOKEN_TEXT_LEN + 1];
            memcpy(u, t, sizeof(u));
            u[at] = (char)c;
            assert_int_equal(token_well_formed(u, TOKEN_TEXT_LEN), alphabet);
        }
    }
}

static void hash_depends_on_token_and_key(void **state)
{
    uint8_t k1[32] = {1}, k2[32] = {2}, key1[32], key2[32];
    token_derive_key(k1, key1);
    token_derive_key(k2, key2);
    assert_memory_not_equal(key1, key2, 32);
    assert_memory_not_equal(key1, k1, 32);

    char t[TOKEN_TEXT_LEN + 1];
    assert_true(token_new(t));
    uint8_t h1[32], h1again[32], h2[32], other[32];
    token_hash(key1, t, 43, h1);
    token_hash(key1, t, 43, h1again);
    token_hash(key2, t, 43, h2);
    t[0] = t[0] == 'A' ? 'B' : 'A';
    token_hash(key1, t, 43, other);
    assert_memory_equal(h1, h1again, 32);
    assert_memory_not_equal(h1, h2, 32);
    assert_memory_not_equal(h1, other, 32);
}

/* The data keys in index order: data-key, then previous-data-keys; a hashing key for each. */
static void every_data_key_gets_a_hashing_key(void **state)
{
    config_t config = {0};
    for (int i = 0; i < 32; i++) {
        config.data_key[i] = (uint8_t)i;
        config.previous_data_keys.key[0][i] = (uint8_t)(100 + i);
        config.previous_data_keys.key[1][i] = (uint8_t)(200 + i);
    }
    uint8_t keys[TOKEN_KEYS_MAX][32], want[32];

    assert_ptr_equal(token_data_key(&config, 0), config.data_key);
    assert_null(token_data_key(&config, 1));
    assert_null(token_data_key(&config, -1));
    assert_int_equal(token_derive_keys(&config, keys), 1);
    token_derive_key(config.data_key, want);
    assert_memory_equal(keys[0], want, 32);

    config.previous_data_keys.count = 2;
    assert_ptr_equal(token_data_key(&config, 1), config.previous_data_keys.key[0]);
    assert_ptr_equal(token_data_key(&config, 2), config.previous_data_keys.key[1]);
    assert_null(token_data_key(&config, 3));
    assert_int_equal(token_derive_keys(&config, keys), 3);
    for (int i = 0; i < 3; i++) {
        token_derive_key(token_data_key(&config, i), want);
        assert_memory_equal(keys[i], want, 32);
    }
    assert_memory_not_equal(keys[0], keys[1], 32);
    assert_memory_not_equal(keys[1], keys[2], 32);

    config.previous_data_keys.count = CONFIG_PREVIOUS_DATA_KEYS_MAX;
    assert_int_equal(token_derive_keys(&config, keys), TOKEN_KEYS_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_tokens_are_43_urlsafe_chars_and_differ),
        cmocka_unit_test(malformed_tokens_are_refused),
        cmocka_unit_test(every_byte_checked),
        cmocka_unit_test(hash_depends_on_token_and_key),
        cmocka_unit_test(every_data_key_gets_a_hashing_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
