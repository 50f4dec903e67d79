/*
 * meeting/checkin_codes — the sign-in code images (小程序码) a host shows, fetched from WeChat
 * (POST /wxa/getwxacodeunlimit) at most once per scene and process.
 *
 * WeChat allows 5,000 code calls a minute for the app. So codes are cached by scene in this
 * process (a rotating code's scene changes every oa.checkin.rotate-seconds, a fixed one never),
 * and every request for a scene whose fetch is in flight waits for that one call, whichever
 * loop thread it came in on: one call per meeting and window however many hosts, screens and
 * retries view it. Several instances make one call each.
 *
 * The answer's bytes must be a whole PNG or JPEG (storage/image_type.h): WeChat answers JSON
 * on failure, and anything else is refused as a bad answer (502-class errno, never shown).
 *
 * Threads: checkin_codes_serve() runs on a loop thread and answers req on that thread, now or
 * later; the cache is shared by the loops under one mutex (held for lookups only).
 */
#ifndef MEETOA_MEETING_CHECKIN_CODES_H
#define MEETOA_MEETING_CHECKIN_CODES_H

#include <stdint.h>

#include <h2o.h>

#include "app/app.h"

/*
 * Answers req with the image of scene: 200 with its Content-Type, `Cache-Control: private,
 * max-age=ttl_seconds` and `X-OA-Checkin-Refresh: ttl_seconds` (when the page should fetch
 * again); or the envelope with the errno of WeChat's failure. The image is kept until
 * expires_at (epoch seconds).
 */
void checkin_codes_serve(app_t *app, h2o_req_t *req, const char *scene, int64_t expires_at, int ttl_seconds);

/* Frees the cache (app stop; calls still in flight free their own entries). */
void checkin_codes_clear(void);

#endif
