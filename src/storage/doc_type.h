/*
 * storage/doc_type — what a meeting attachment really is, judged by its bytes alone (never
 * its name or the Content-Type the client sent). Accepted:
 *   PDF   "%PDF-1." or "%PDF-2." first, "%%EOF" within its last 1,024 bytes;
 *   PNG, JPEG   as storage/image_type.h judges them (whole-container checks);
 *   DOCX, XLSX, PPTX   a ZIP whose end-of-central-directory record and every central
 *         directory entry fit in the file, that holds "[Content_Types].xml" and a part under
 *         word/, xl/ or ppt/ (the first one found decides).
 * Anything else (scripts, HTML, executables, old binary Office files, other archives) is
 * refused. Pure functions over a slice; safe from any thread.
 */
#ifndef MEETOA_STORAGE_DOC_TYPE_H
#define MEETOA_STORAGE_DOC_TYPE_H

#include <stddef.h>

typedef struct doc_type {
    const char *ext;          /* "pdf", "png", "jpg", "docx", "xlsx", "pptx" */
    const char *content_type; /* its media type */
} doc_type_t;

/* The type of data[0..len), or NULL. */
const doc_type_t *doc_type_detect(const void *data, size_t len);
/* The type of extension ext (NUL-terminated), or NULL. */
const doc_type_t *doc_type_by_ext(const char *ext);

#endif
