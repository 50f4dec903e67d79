/*
 * emu_push — wxemu's side of WeChat's message push (消息推送): the events it pushes (the result of a
 * media check, "wxa_media_check"; the subscription message events "subscribe_msg_popup_event",
 * "subscribe_msg_change_event", "subscribe_msg_sent_event"; "user_authorization_revoke" and
 * "user_authorization_cancellation") are POSTed to the app's push URL (POST /__emu/push), signed as
 * WeChat signs them, in plaintext or safe mode, and every delivery is logged for tests to read back.
 *
 * Contract:
 * - On the event loop's thread only, like the rest of the HTTP side: the delay is an h2o timeout, the
 *   exchange a non-blocking h2o socket, so a slow or dead receiver never holds up the emulator.
 * - The request: POST URL?signature=S&timestamp=T&nonce=N with S = hex(SHA-1(sorted Token, T, N)), a
 *   JSON body, Connection: close. Safe mode (an EncodingAESKey is set) adds encrypt_type=aes and
 *   msg_signature = hex(SHA-1(sorted Token, T, N, Encrypt)), the body being {"ToUserName","Encrypt"},
 *   Encrypt = base64(AES-256-CBC(random(16) | length | event | appid)) as src/push/push_crypto.c has it.
 * - Only http:// URLs with an IPv4 literal or "localhost" as host (wxemu has no TLS client or resolver);
 *   the whole exchange is bounded by EMU_PUSH_DEADLINE_MS.
 * - Every event is its own push (wxemu never merges or re-sends), in WeChat's JSON format: the common
 *   members ToUserName (the app's original id), FromUserName (the openid), CreateTime (wall-clock
 *   seconds), MsgType "event" and Event, then the event's own (emu_push_event).
 * - The log keeps the last EMU_PUSH_LOG_MAX deliveries (oldest forgotten first), with the event in
 *   plaintext and the receiver's status and first bytes of its answer; never the Token or the key.
 *   An event that carries no trace_id of its own is logged under a made-up "ev-N" (N counting up).
 * - Ownership: emu_push_new() is owned by the server (freed by emu_push_free() after emu_push_abort()
 *   and before the loop is destroyed).
 */
#ifndef WXEMU_EMU_PUSH_H
#define WXEMU_EMU_PUSH_H

#include "emu_server.h"

#define EMU_PUSH_DEADLINE_MS 5000
#define EMU_PUSH_LOG_MAX     256
#define EMU_PUSH_ANSWER_MAX  256 /* bytes of the receiver's answer kept in the log */
#define EMU_PUSH_ORIGINAL_ID 16  /* "gh_" + 12 hex digits, and a NUL */

typedef struct emu_push emu_push_t;

emu_push_t *emu_push_new(void);
void emu_push_free(emu_push_t *push);

/* The app's original id (原始ID, the push's ToUserName): "gh_" + 12 hex digits of SHA-256(appid). */
void emu_push_original_id(const char *appid, char out[EMU_PUSH_ORIGINAL_ID]);

/* Can url be pushed to: "http://HOST[:PORT][/path][?query]" with HOST an IPv4 address or localhost? */
bool emu_push_url_ok(const char *url);

/* Queues event_json (a JSON object's text, copied) of appid for its push URL, sent after the app's
 * delay with the push settings of that moment; trace_id (copied) names it in the log. False when out
 * of memory. */
bool emu_push_schedule(emu_server_t *srv, const char *appid, const char *trace_id, const char *event_json);
/* Queues the event Event of openid in appid (emu_push_schedule): the common members, then those of
 * members (a JSON object, taken; NULL counts as out of memory). trace_id names it in the log (NULL: a
 * made-up "ev-N"). False when out of memory. */
bool emu_push_event(emu_server_t *srv, const char *appid, emu_slice_t openid, const char *event, const char *trace_id,
                    json_t *members);
/* Does appid have a push URL now? (The events of the control API are pushed only then.) */
bool emu_push_has_url(const emu_server_t *srv, const char *appid);
/* Shutdown: every push not finished is logged as stopped and dropped (before the timeouts are
 * disposed). */
void emu_push_abort(emu_server_t *srv);

/* A delivery; strings valid until the next one is logged or the log is cleared. */
typedef struct emu_push_entry {
    const char *appid, *trace_id, *url, *event, *answer, *error; /* url "" when none was set */
    bool safe;
    int status;     /* the receiver's HTTP status; 0 when there was no answer (error says why) */
    int64_t time_s; /* wall-clock seconds of the attempt */
} emu_push_entry_t;

size_t emu_push_log_count(const emu_push_t *push);
bool emu_push_log_at(const emu_push_t *push, size_t i, emu_push_entry_t *out);
/* Pushes scheduled and not finished yet. */
size_t emu_push_pending(const emu_push_t *push);
size_t emu_push_log_clear(emu_push_t *push);

#endif
