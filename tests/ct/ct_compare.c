/*
 * ct_compare — proves, deterministically, that MeetOA compares its secrets in constant time.
 *
 * Run under valgrind's memcheck (tests/ct/run.sh). The secret bytes are marked undefined with
 * VALGRIND_MAKE_MEM_UNDEFINED; memcheck then reports every conditional jump and every memory
 * address computed from them ("Conditional jump or move depends on uninitialised value(s)",
 * "Use of uninitialised value"), which is exactly what makes a comparison's time or cache
 * footprint depend on the secret. The answer of a comparison (equal or not) is public: the
 * code declassifies it (CRYPTO_DECLASSIFY, built in with MEETOA_CT_VALIDATION) before acting
 * on it. A timing statistic could miss a leak or flake; this cannot.
 *
 *   ct_compare server   the functions the server uses: crypto_equal (tokens, signatures,
 *                       keys), crypto_hex (writes the expected rawData signature that
 *                       crypto_equal then compares), and the session cache's lookup, removal
 *                       and insertion by token hash. memcheck must stay silent.
 *   ct_compare control  the same harness on a plain early-exit loop (what memcmp does):
 *                       memcheck must report, which proves the harness can fail.
 *
 * Either mode exits 2 when a comparison gives a wrong answer, and 3 when not run under
 * valgrind (the check would prove nothing). It is built without sanitizers: valgrind cannot
 * run ASan binaries.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "auth/session_cache.h"
#include "crypto/crypto.h"

typedef bool (*equal_fn)(const void *a, const void *b, size_t len);

static int failures;

static void expect(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "ct_compare: wrong answer: %s\n", what);
        failures++;
    }
}

/* Marks len secret bytes at p undefined: from here on memcheck tracks what depends on them. */
static void secret(const void *p, size_t len)
{
    (void)VALGRIND_MAKE_MEM_UNDEFINED(p, len);
}

/* A result computed from secrets, made public before the harness looks at it. */
static bool declassified(bool v)
{
    (void)VALGRIND_MAKE_MEM_DEFINED(&v, sizeof(v));
    return v;
}

/* The control: compares byte by byte and stops at the first difference. */
__attribute__((noinline)) static bool early_exit_equal(const void *a, const void *b, size_t len)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < len; i++)
        if (x[i] != y[i])
            return false;
    return true;
}

/* Equal, first byte different, last byte different, one bit different in the middle: both
 * sides secret. */
static void check_equal(equal_fn equal, const char *name)
{
    static const size_t flips[] = {(size_t)-1, 0, 31, 17};
    for (size_t f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
        unsigned char a[32], b[32];
        for (int i = 0; i < 32; i++)
            a[i] = b[i] = (unsigned char)(i * 37 + 11);
        if (flips[f] != (size_t)-1)
            b[flips[f]] ^= f == 3 ? 0x10 : 0xff;
        secret(a, sizeof(a));
        secret(b, sizeof(b));
        bool same = declassified(equal(a, b, sizeof(a)));
        char what[64];
        snprintf(what, sizeof(what), "%s, case %zu", name, f);
        expect(same == (flips[f] == (size_t)-1), what);
    }
}

/* crypto_hex of a secret digest, then compared as wx_legacy_signature_ok does. */
static void check_hex(void)
{
    unsigned char digest[20];
    char hex[41], want[41], given[41];
    for (int i = 0; i < 20; i++)
        digest[i] = (unsigned char)(i * 13 + 250);
    for (int i = 0; i < 20; i++)
        snprintf(want + 2 * i, 3, "%02x", digest[i]);
    memcpy(given, want, sizeof(given));
    secret(digest, sizeof(digest));
    crypto_hex(digest, sizeof(digest), hex);
    expect(declassified(crypto_equal(hex, given, 40)), "crypto_hex + crypto_equal, same");
    given[39] = given[39] == '0' ? '1' : '0';
    expect(!declassified(crypto_equal(hex, given, 40)), "crypto_hex + crypto_equal, last digit differs");
    (void)VALGRIND_MAKE_MEM_DEFINED(hex, sizeof(hex));
    expect(strcmp(hex, want) == 0, "crypto_hex digits");
}

/* A token hash whose first 8 bytes (the bucket, see session_cache.c) are fixed and public, so
 * that all these sessions share one chain and every lookup compares against each of them. */
static store_session_t session_numbered(int n)
{
    store_session_t s = {0};
    for (int i = 0; i < 32; i++)
        s.token_hash[i] = (uint8_t)(i < 8 ? 0x5a : i * 7 + n);
    s.user_id = 42;
    s.expires_at = 5000;
    return s;
}

/* The presented hash: its bytes past the bucket marked secret (an HMAC nobody can compute). */
static void presented(const store_session_t *s, int flip, uint8_t out[32])
{
    memcpy(out, s->token_hash, 32);
    if (flip >= 0)
        out[flip] ^= 0x01;
    secret(out + 8, 24);
}

static void check_session_cache(void)
{
    session_cache_t *cache = session_cache_new();
    store_user_t user = {.id = 42};
    store_user_t out;
    uint8_t hash[32];
    for (int n = 0; n < 4; n++) {
        store_session_t s = session_numbered(n);
        session_cache_put(cache, &s, &user, 1000);
    }
    store_session_t s = session_numbered(2);
    presented(&s, -1, hash);
    expect(session_cache_get(cache, hash, 1001, 5, &out, NULL) == SESSION_CACHE_HIT, "cache: the same hash hits");
    presented(&s, 31, hash);
    expect(session_cache_get(cache, hash, 1001, 5, &out, NULL) == SESSION_CACHE_MISS, "cache: last byte differs");
    presented(&s, 8, hash);
    expect(session_cache_get(cache, hash, 1001, 5, &out, NULL) == SESSION_CACHE_MISS, "cache: 9th byte differs");

    /* insertion and removal walk the chain with the same comparison */
    store_session_t fresh = session_numbered(9);
    secret(fresh.token_hash + 8, 24); /* stored from here on as a secret too */
    session_cache_put(cache, &fresh, &user, 1000);
    presented(&s, -1, hash);
    session_cache_remove(cache, hash);
    expect(session_cache_count(cache) == 4, "cache: one removed, one added");
    presented(&s, -1, hash);
    expect(session_cache_get(cache, hash, 1001, 5, &out, NULL) == SESSION_CACHE_MISS, "cache: removed");
    session_cache_free(cache);
}

int main(int argc, char **argv)
{
    if (!RUNNING_ON_VALGRIND) {
        fprintf(stderr, "ct_compare: run me under valgrind (tests/ct/run.sh); alone I prove nothing\n");
        return 3;
    }
    if (argc == 2 && strcmp(argv[1], "server") == 0) {
        check_equal(crypto_equal, "crypto_equal");
        check_hex();
        check_session_cache();
    } else if (argc == 2 && strcmp(argv[1], "control") == 0) {
        check_equal(early_exit_equal, "early_exit_equal");
    } else {
        fprintf(stderr, "usage: ct_compare server|control\n");
        return 3;
    }
    return failures == 0 ? 0 : 2;
}
