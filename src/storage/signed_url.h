/*
 * storage/signed_url — expiring links to a private file, for a reader that has no login:
 * WeChat's media check (media_check_async) downloads a meeting attachment's image through one.
 *
 *   STORAGE_SIGNED_PREFIX FILE "?exp=" E "&sig=" S
 *
 * FILE is "DIR/KEY" (a folder under oa.storage.dir and a file's key), E the expiry in epoch
 * seconds, S the 64 lowercase hex digits of HMAC-SHA256(K, FILE "\n" E) with
 * K = HMAC-SHA256(data_key, "meetoa signed url v1"): only this server (or one sharing its
 * oa.security.data-key) makes them, nobody can stretch E or point one at another file, and a
 * data-key rotation ends every link made before it (they live an hour). Pure functions; any
 * thread.
 */
#ifndef MEETOA_STORAGE_SIGNED_URL_H
#define MEETOA_STORAGE_SIGNED_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORAGE_SIGNED_PREFIX  "/wx/storage/signed/"
#define STORAGE_SIGNED_SECONDS 3600 /* how long a link made for WeChat works */

/* Writes the path (prefix, file, query) of a link to file valid until expires; false when it
 * does not fit in size bytes. */
bool signed_url_make(const uint8_t data_key[32], const char *file, int64_t expires, char *out, size_t size);

/* Whether query (the part after '?', exp and sig in any order, nothing else) signs file[0..len)
 * and its expiry is not past at now. Signatures are compared in constant time. */
bool signed_url_check(const uint8_t data_key[32], const char *file, size_t len, const char *query, size_t query_len,
                      int64_t now);

#endif
