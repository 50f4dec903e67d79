/*
 * storage/files — the files kept under oa.storage.dir (avatars, meeting attachments): written
 * whole through a temporary name and rename(2), so a reader never sees half a file; read whole,
 * regular files only (O_NOFOLLOW: a symlink planted in the directory is not followed), at most
 * 64 MiB. Blocking I/O: database-pool workers only, never a loop thread. Keys are names
 * without '/' (the callers make them from random hex and a known extension).
 */
#ifndef MEETOA_STORAGE_FILES_H
#define MEETOA_STORAGE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fetch_outcome { FETCH_FOUND, FETCH_MISSING, FETCH_ERROR } fetch_outcome_t;

/* Writes bytes as dir/key (dir created when missing, 0755; the file 0644). 0, or -1 with errno
 * and *step naming what failed ("create the file", ...). */
int storage_file_write(const char *dir, const char *key, const uint8_t *bytes, size_t len, const char **step);
/* Reads dir/key whole into a malloc'd *bytes (the caller frees it). Errors are logged. */
fetch_outcome_t storage_file_read(const char *dir, const char *key, uint8_t **bytes, size_t *len);
/* Whether dir/key is a regular file (not a link). */
bool storage_file_exists(const char *dir, const char *key);
/* Removes dir/key; 0 also when it was not there, else -1 with errno. */
int storage_file_remove(const char *dir, const char *key);
/* strerror_r's text of err in buf. */
const char *storage_error_text(int err, char *buf, size_t size);

#endif
