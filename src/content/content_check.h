/*
 * content/content_check — users' texts through WeChat's content check (msg_sec_check v2) before
 * they are stored, when oa.wx.content-check is true (docs/api.md "Content checks").
 *
 * An endpoint names the fields of its request to check (content_field_t: the parameter, its
 * name in the errmsg, WeChat's scene). content_check_start() sends each field found in the
 * request (a string, or an array of strings joined by newlines), cut in pieces of 2,500
 * characters (WeChat's limit), with the author's openid, all at once; when every answer is in,
 * done() runs on the same loop with the outcome:
 *   risky      a piece judged "risky": the request is refused (errno 815, the errmsg names the
 *              field: "标题含有违规内容，请修改后再提交"), nothing is stored;
 *   flags      fields judged "review", and fields whose check failed (WeChat down, slow past
 *              oa.wx.timeout-ms, 61010, ...): stored, and flagged for an admin (store_content.h).
 * So WeChat down or slow never blocks publishing for longer than oa.wx.timeout-ms, and what was
 * not checked is visible to admins. Texts are never logged.
 *
 * Threads: start and done on one loop thread (the WeChat client answers there).
 */
#ifndef MEETOA_CONTENT_CONTENT_CHECK_H
#define MEETOA_CONTENT_CONTENT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>
#include <jansson.h>

#include "app/app.h"
#include "http/server.h"
#include "store/store_content.h"

typedef struct content_field {
    const char *param; /* "title" */
    const char *name;  /* "标题": the errmsg names it */
    int scene;         /* WeChat's: 1 profile, 2 comment, 3 forum, 4 social log */
} content_field_t;

#define CONTENT_FLAGS_MAX 8

typedef struct content_outcome {
    bool risky;
    char risky_name[64];                           /* the field judged risky (its name) */
    store_content_flag_t flags[CONTENT_FLAGS_MAX]; /* route, object_id and user_id left for the caller */
    int nflags;
} content_outcome_t;

typedef void (*content_done_fn)(void *ctx, const content_outcome_t *outcome);

/* Starts the checks of fields (a list ended by {NULL}) present in params for the author openid;
 * false when there is nothing to check (done is not called: go on at once). */
bool content_check_start(app_t *app, h2o_multithread_receiver_t *loop, const json_t *params,
                         const content_field_t *fields, const char *openid, content_done_fn done, void *ctx);

/* When outcome is risky: answers the request of pending (if it is still there) 815 with the
 * errmsg naming the field ("昵称含有违规内容，请修改后再提交") and returns true (the caller frees its
 * job); else false. */
bool content_refuse_risky(http_pending_t *pending, const content_outcome_t *outcome);

/* A copy of outcome's flags to keep until the texts are stored (malloc'd; free() it); NULL when
 * it has none (or there is no memory: logged, the texts are stored unflagged). */
content_outcome_t *content_outcome_keep(const content_outcome_t *outcome);

/* Worker, once the texts are stored: adds the flags of outcome (NULL: none) for what route
 * stored as object_id, written by user_id; a flag not stored is logged (never the text). */
void content_flags_store(store_t *store, const content_outcome_t *outcome, const char *route, int64_t user_id,
                         int64_t object_id, int64_t now);

/*
 * An uploaded image through WeChat's media_check_async, when oa.wx.content-check is true. url
 * is where WeChat downloads it (an avatar's public URL, an attachment's signed link); key names
 * the file in oa_media_check: an avatar's key, or STORAGE_ATTACHMENTS_DIR "/" KEY for an
 * attachment. The trace_id WeChat answers is kept and the verdict arrives later through the
 * message push (push/push_api.c: a risky image is deleted, and taken off the user's avatar or
 * the meeting's attachments; a review flagged). A call that fails is flagged "unchecked" under
 * route and object_id. Fire and forget, from a loop thread; the strings are copied (route is a
 * string literal, kept).
 */
typedef struct content_media {
    int64_t user_id;   /* the uploader */
    int64_t object_id; /* what holds the image (an attachment's id), 0 for an avatar */
    const char *openid, *key, *url, *route;
    int scene; /* WeChat's, as above */
} content_media_t;
void content_media_check(app_t *app, h2o_multithread_receiver_t *loop, const content_media_t *media);
/* Fills *f, the flag of an image (key as content_media_t's) with verdict ("review",
 * "unchecked"): field "file", excerpt the file's name (its key without the folder). */
void content_media_flag(store_content_flag_t *f, const char *key, int64_t user_id, int64_t object_id, const char *route,
                        const char *verdict);

#endif
