/*
 * meeting/checkin_scene — the scene of a meeting's sign-in code (签到码): what the mini program
 * code holds, and what POST /wx/meeting/checkin gets back from the page the scan opened.
 *
 * A meeting's sign-in code is 12 random characters of [A-Za-z0-9] stored with the meeting
 * (never its id: a scene cannot be guessed from a meeting id, nor the other way). A meeting
 * with a rotating code adds "." and 8 characters derived from the data key, the code and the
 * current window (epoch seconds / rotate-seconds): HMAC-SHA256, so only the server can make
 * the token of a window, and a photo of the code stops working once its window and the
 * overlap after it have passed. Every scene is at most 21 characters of WeChat's allowed set.
 *
 * Pure functions, any thread.
 */
#ifndef MEETOA_MEETING_CHECKIN_SCENE_H
#define MEETOA_MEETING_CHECKIN_SCENE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECKIN_CODE_LENGTH  12
#define CHECKIN_TOKEN_LENGTH 8
#define CHECKIN_SCENE_SIZE   (CHECKIN_CODE_LENGTH + 1 + CHECKIN_TOKEN_LENGTH + 1)

typedef struct checkin_clock {
    int64_t now;
    int rotate_seconds;  /* oa.checkin.rotate-seconds */
    int overlap_seconds; /* oa.checkin.overlap-seconds */
} checkin_clock_t;

/* The window of time t. */
static inline int64_t checkin_window(int64_t t, int rotate_seconds)
{
    return t / rotate_seconds;
}

/* The scene for code now: the code alone, or code "." token of now's window when rotating. */
void checkin_scene_make(const uint8_t key[32], const char *code, bool rotating, const checkin_clock_t *clock,
                        char out[CHECKIN_SCENE_SIZE]);
/* Seconds until the scene made now changes (rotating), for the page's refresh. */
int checkin_scene_ttl(const checkin_clock_t *clock);

/* Splits a scene into its code (out, CHECKIN_CODE_LENGTH + 1 bytes) and *token (NULL when
 * none; points into scene). false when it has not that shape. */
bool checkin_scene_split(const char *scene, char code[CHECKIN_CODE_LENGTH + 1], const char **token);

/* Whether token is the one of now's window, or of the previous window while now is within
 * overlap_seconds of its end. Constant time in the token's bytes. */
bool checkin_token_valid(const uint8_t key[32], const char *code, const char *token, const checkin_clock_t *clock);

#endif
