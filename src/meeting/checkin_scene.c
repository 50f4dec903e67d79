/* meeting/checkin_scene — see checkin_scene.h. */
#include "meeting/checkin_scene.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* The token of code's window: 8 characters of HMAC-SHA256(key, "checkin:" code ":" window). */
static void window_token(const uint8_t key[32], const char *code, int64_t window, char out[CHECKIN_TOKEN_LENGTH + 1])
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "checkin:%s:%lld", code, (long long)window);
    uint8_t mac[32];
    crypto_hmac_sha256_key32(key, msg, (size_t)n, mac);
    for (int i = 0; i < CHECKIN_TOKEN_LENGTH; i++) /* 4 bytes each: the modulo bias is below 2^-25 */
        out[i] = alphabet[((uint32_t)mac[4 * i] << 24 | (uint32_t)mac[4 * i + 1] << 16 | (uint32_t)mac[4 * i + 2] << 8 |
                           mac[4 * i + 3]) %
                          62];
    out[CHECKIN_TOKEN_LENGTH] = '\0';
}

void checkin_scene_make(const uint8_t key[32], const char *code, bool rotating, const checkin_clock_t *clock,
                        char out[CHECKIN_SCENE_SIZE])
{
    if (!rotating) {
        snprintf(out, CHECKIN_SCENE_SIZE, "%s", code);
        return;
    }
    char token[CHECKIN_TOKEN_LENGTH + 1];
    window_token(key, code, checkin_window(clock->now, clock->rotate_seconds), token);
    snprintf(out, CHECKIN_SCENE_SIZE, "%s.%s", code, token);
}

int checkin_scene_ttl(const checkin_clock_t *clock)
{
    return (int)(clock->rotate_seconds - clock->now % clock->rotate_seconds);
}

static bool alnum_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || strchr(alphabet, s[i]) == NULL)
            return false;
    return true;
}

bool checkin_scene_split(const char *scene, char code[CHECKIN_CODE_LENGTH + 1], const char **token)
{
    size_t len = strlen(scene);
    *token = NULL;
    if (len < CHECKIN_CODE_LENGTH || !alnum_run(scene, CHECKIN_CODE_LENGTH))
        return false;
    if (len == CHECKIN_CODE_LENGTH) {
        /* the code alone */
    } else if (len == CHECKIN_CODE_LENGTH + 1 + CHECKIN_TOKEN_LENGTH && scene[CHECKIN_CODE_LENGTH] == '.' &&
               alnum_run(scene + CHECKIN_CODE_LENGTH + 1, CHECKIN_TOKEN_LENGTH)) {
        *token = scene + CHECKIN_CODE_LENGTH + 1;
    } else {
        return false;
    }
    memcpy(code, scene, CHECKIN_CODE_LENGTH);
    code[CHECKIN_CODE_LENGTH] = '\0';
    return true;
}

bool checkin_token_valid(const uint8_t key[32], const char *code, const char *token, const checkin_clock_t *clock)
{
    if (token == NULL || strlen(token) != CHECKIN_TOKEN_LENGTH)
        return false;
    int64_t window = checkin_window(clock->now, clock->rotate_seconds);
    char expected[CHECKIN_TOKEN_LENGTH + 1];
    window_token(key, code, window, expected);
    bool ok = crypto_equal(expected, token, CHECKIN_TOKEN_LENGTH);
    int64_t into = clock->now - window * clock->rotate_seconds; /* seconds since this window began */
    if (into < clock->overlap_seconds) {
        window_token(key, code, window - 1, expected);
        ok |= crypto_equal(expected, token, CHECKIN_TOKEN_LENGTH);
    }
    return ok;
}
