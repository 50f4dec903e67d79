/* storage/signed_url — see signed_url.h. */
#include "storage/signed_url.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

#define SIG_HEX_LEN 64
#define EXP_MAX_LEN 12 /* digits: far past any expiry, far from int64's limit */

static void signature(const uint8_t data_key[32], const char *file, size_t len, int64_t expires,
                      char hex[SIG_HEX_LEN + 1])
{
    static const char label[] = "meetoa signed url v1";
    uint8_t key[32], mac[32];
    crypto_hmac_sha256(data_key, 32, label, sizeof label - 1, key);
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%.*s\n%lld", (int)len, file, (long long)expires);
    crypto_hmac_sha256(key, sizeof key, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : 0, mac);
    crypto_hex(mac, sizeof mac, hex);
    memset(key, 0, sizeof key);
}

bool signed_url_make(const uint8_t data_key[32], const char *file, int64_t expires, char *out, size_t size)
{
    size_t len = strlen(file);
    if (len == 0 || len > 256 || expires <= 0)
        return false;
    char sig[SIG_HEX_LEN + 1];
    signature(data_key, file, len, expires, sig);
    int n = snprintf(out, size, "%s%s?exp=%lld&sig=%s", STORAGE_SIGNED_PREFIX, file, (long long)expires, sig);
    return n > 0 && (size_t)n < size;
}

/* The value of name in query[0..len) ("a=1&b=2"), or NULL; *vlen gets its length. */
static const char *query_value(const char *query, size_t len, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && query[end] != '&')
            end++;
        if (end - i > nlen && memcmp(query + i, name, nlen) == 0 && query[i + nlen] == '=') {
            *vlen = end - i - nlen - 1;
            return query + i + nlen + 1;
        }
        i = end + 1;
    }
    return NULL;
}

bool signed_url_check(const uint8_t data_key[32], const char *file, size_t len, const char *query, size_t query_len,
                      int64_t now)
{
    size_t elen = 0, slen = 0;
    const char *exp = query_value(query, query_len, "exp", &elen);
    const char *sig = query_value(query, query_len, "sig", &slen);
    /* exactly exp and sig: "exp=" E "&sig=" S in either order */
    if (exp == NULL || sig == NULL || elen == 0 || elen > EXP_MAX_LEN || slen != SIG_HEX_LEN ||
        query_len != elen + slen + 9 || len == 0 || len > 256)
        return false;
    int64_t expires = 0;
    for (size_t i = 0; i < elen; i++) {
        if (exp[i] < '0' || exp[i] > '9' || (i == 0 && exp[i] == '0'))
            return false;
        expires = expires * 10 + (exp[i] - '0');
    }
    if (expires < now)
        return false;
    char want[SIG_HEX_LEN + 1];
    signature(data_key, file, len, expires, want);
    return crypto_equal(want, sig, SIG_HEX_LEN);
}
