/*
 * storage/storage_api — avatar upload and download: the /wx/storage/... endpoints.
 *
 *   POST /wx/storage/upload        logged in (X-OA-Token); multipart/form-data with a field
 *                                  `file` (what <button open-type="chooseAvatar"> gives the
 *                                  mini program, sent with wx.uploadFile name "file").
 *        -> {"url": BASE "/wx/storage/fetch/" KEY, "key": KEY}
 *        KEY is 32 random lowercase hex characters and the extension of the type found in
 *        the bytes (png, jpg, webp); BASE is oa.storage.base-url, else "http://" + the
 *        request's Host when it is a plain host[:port], else "" (a relative URL).
 *        Refusals: no token etc. 501 (auth_require); body not multipart/form-data or not
 *        parsable, or no `file` part: 401; empty file: 402; file over oa.storage.max-bytes:
 *        741; content not PNG, JPEG or WebP (whatever the filename or the part's
 *        Content-Type say): 740; a body over storage_upload_body_limit(): HTTP 413 (by
 *        the server's route limit); the disk failing: 502.
 *   GET /wx/storage/fetch/KEY      no login; KEY must match ^[0-9a-f]{32}\.(png|jpg|webp)$,
 *        else 404, so no request names a file outside oa.storage.dir. Answers the bytes
 *        with the extension's image Content-Type, Cache-Control: public,
 *        max-age=31536000, immutable (a key never changes content), X-Content-Type-Options:
 *        nosniff and a Content-Security-Policy that forbids everything (the file is never
 *        run as a document); a missing file is a 404 envelope.
 *   GET /wx/storage/signed/attachments/KEY?exp=&sig=   no login: a meeting attachment's
 *        image through an expiring signed link (storage/signed_url.h), for WeChat's media
 *        check; see storage_fetch_signed.
 *
 * Files are written as oa.storage.dir/KEY (directory created when missing, 0755; files
 * 0644), through a temporary name in the same directory and rename(2), so a reader never
 * sees half a file. All file I/O runs on the database pool's worker threads; the handlers
 * themselves never block. Both handlers are http_handler_fn taking the app_t as `app`.
 */
#ifndef MEETOA_STORAGE_STORAGE_API_H
#define MEETOA_STORAGE_STORAGE_API_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

#include "config/config.h"
#include "app/module.h"

/* The storage module: upload and fetch. */
extern const app_module_t storage_module;

#define STORAGE_FETCH_PREFIX "/wx/storage/fetch/"
#define STORAGE_BODY_SLACK   (64 * 1024) /* multipart framing around the file */

/* The body limit the upload route needs: oa.storage.max-bytes + STORAGE_BODY_SLACK. */
size_t storage_upload_body_limit(const config_t *config);

/* POST /wx/storage/upload. */
int storage_upload(h2o_req_t *req, void *app);
/* The base of the URLs uploads answer: oa.storage.base-url, else http:// and the Host the
 * client used, else "" (a relative URL). Allocated from req->pool. */
h2o_iovec_t storage_url_base(h2o_req_t *req, const config_t *config);
#define STORAGE_KEY_SIZE (32 + 1 + 4 + 1) /* hex "." ext NUL; "webp" is the longest ext */
/* True when a file with this key is stored (a regular file, not a link). Blocking: workers only. */
bool storage_exists(const config_t *config, const char *key);
/* Deletes the uploaded file behind an avatar URL of ours (".../wx/storage/fetch/KEY"); avatars
 * elsewhere (WeChat's own URLs) have nothing of ours. A failure is logged. Blocking: workers only. */
void storage_remove_avatar(const config_t *config, const char *avatar);
/* True when name is an uploaded file's key: 32 lowercase hex characters and .png, .jpg or .webp. */
bool storage_key_valid(const char *name, size_t len);
/* GET /wx/storage/fetch/KEY (registered as the prefix route STORAGE_FETCH_PREFIX). */
int storage_fetch(h2o_req_t *req, void *app);

/* The folder of meeting attachments under oa.storage.dir (meeting/minutes_api.c). */
#define STORAGE_ATTACHMENTS_DIR "attachments"
/* An absolute link (storage/signed_url.h, valid STORAGE_SIGNED_SECONDS) to the attachment image
 * key (PNG or JPEG) for WeChat's media check to download, on req's pool; NULL when the key is no
 * attachment image's or no absolute base URL is known (storage_url_base). */
char *storage_signed_attachment_url(h2o_req_t *req, const config_t *config, const char *key);
/* GET /wx/storage/signed/attachments/KEY?exp=&sig= (the prefix route STORAGE_SIGNED_PREFIX): no
 * login; the image for a valid, unexpired link, Cache-Control: private, no-store; 404 for any
 * other (wrong, forged or expired: one answer). */
int storage_fetch_signed(h2o_req_t *req, void *app);

#endif
