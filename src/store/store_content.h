/*
 * store_content — texts that WeChat's content check (msg_sec_check) did not clear, kept for an
 * admin (table oa_content_flag of migration step 10; docs/schema.md).
 *
 * A flag names who wrote what where: the route that stored it ("/wx/meeting/create"), the
 * object's id (the meeting, vote, ...), the field ("title"), the first 40 characters of the text
 * (an image: its key),
 * and the verdict: "review" (WeChat asks for a human look: stored, flagged) or "unchecked" (the
 * check failed or timed out: stored, flagged), with WeChat's label, errcode and trace_id. An
 * admin resolves a flag once looked at.
 */
#ifndef MEETOA_STORE_STORE_CONTENT_H
#define MEETOA_STORE_STORE_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_org.h"

#define STORE_FLAG_EXCERPT_SIZE (40 * 4 + 1)

typedef struct store_content_flag {
    int64_t id, user_id, object_id;
    char route[65];
    char field[33];
    char excerpt[STORE_FLAG_EXCERPT_SIZE];
    char verdict[17]; /* "review" | "unchecked" */
    long label, errcode;
    char trace_id[64];
    int64_t created_at, resolved_at;
    char user_name[STORE_MEMBER_NAME_SIZE]; /* the member's name, else the nickname */
} store_content_flag_t;

/* Adds a flag (id, created_at, resolved_at and user_name of f are ignored; excerpt is cut). */
store_rc store_content_flag_add(store_t *store, const store_content_flag_t *f, int64_t now);

typedef store_rc (*store_content_flag_fn)(const store_content_flag_t *f, void *ctx);
/* Flags newest first: the open ones only (open_only) or all; *total gets their count. */
store_rc store_content_flags(store_t *store, bool open_only, int64_t offset, int64_t limit, store_content_flag_fn fn,
                             void *ctx, int64_t *total);
/* Marks flag id resolved by user_id at now; STORE_NOT_FOUND when there is no such open flag. */
store_rc store_content_flag_resolve(store_t *store, int64_t id, int64_t user_id, int64_t now);

/*
 * Images sent to WeChat's media_check_async (table oa_media_check, step 11): the trace_id WeChat
 * answered, whose image (file_key, an upload of oa.storage.dir) of which user. The verdict comes
 * later, through the message push: store_media_check_done() records it once and tells what it
 * was about.
 */
store_rc store_media_check_add(store_t *store, const char *trace_id, int64_t user_id, const char *file_key,
                               int64_t now);
/* Records verdict ("pass", "review", "risky") for trace_id if it has none yet: *user_id and
 * file_key (STORE_FLAG_KEY_SIZE) get what it was about. STORE_NOT_FOUND when trace_id is unknown
 * or already has a verdict (a re-sent push). */
#define STORE_FLAG_KEY_SIZE 64
store_rc store_media_check_done(store_t *store, const char *trace_id, const char *verdict, int64_t now,
                                int64_t *user_id, char file_key[STORE_FLAG_KEY_SIZE]);

#endif
