/*
 * store_minutes — a meeting's minutes (会议纪要) and attachments: tables oa_minutes and
 * oa_attachment of migration step 6 (docs/schema.md). The attachments' bytes are files under
 * oa.storage.dir (storage/files.h); the rows name them by file_key. The rules of store.h.
 */
#ifndef MEETOA_STORE_STORE_MINUTES_H
#define MEETOA_STORE_STORE_MINUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_org.h"

#define STORE_MINUTES_MAX_CHARS    20000
#define STORE_ATTACHMENT_NAME_SIZE (100 * 4 + 1)
#define STORE_FILE_KEY_SIZE        65

typedef struct store_minutes {
    char *text; /* malloc'd (the caller frees it); NULL when there are none */
    int64_t author_id, updated_at;
    char author_name[STORE_MEMBER_NAME_SIZE];
} store_minutes_t;

typedef struct store_attachment {
    int64_t id, meeting_id;
    char name[STORE_ATTACHMENT_NAME_SIZE];
    char file_key[STORE_FILE_KEY_SIZE];
    char content_type[101];
    int64_t size, uploaded_by, created_at;
} store_attachment_t;

/* Writes meeting id's minutes (replacing them). */
store_rc store_minutes_set(store_t *store, int64_t id, const char *text, int64_t author_id, int64_t now);
/* Reads them; STORE_NOT_FOUND (out->text NULL) when none were written. */
store_rc store_minutes_get(store_t *store, int64_t id, store_minutes_t *out);

/* Adds an attachment row (a->id set) unless meeting a->meeting_id has max already (FULL: refused). */
store_rc store_attachment_add(store_t *store, store_attachment_t *a, int max, store_refusal_t *why);
store_rc store_attachment_get(store_t *store, int64_t id, store_attachment_t *out);
/* The attachment whose file is file_key; STORE_NOT_FOUND when none. */
store_rc store_attachment_get_by_key(store_t *store, const char *file_key, store_attachment_t *out);
store_rc store_attachment_delete(store_t *store, int64_t id);
typedef store_rc (*store_attachment_fn)(const store_attachment_t *a, void *ctx);
/* Meeting id's attachments, oldest first. */
store_rc store_attachment_list(store_t *store, int64_t meeting_id, store_attachment_fn fn, void *ctx);
/* The attachments user_id uploaded, oldest first (a data export). */
store_rc store_attachment_list_by_uploader(store_t *store, int64_t user_id, store_attachment_fn fn, void *ctx);

#endif
