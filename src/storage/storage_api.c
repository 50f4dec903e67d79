/*
 * storage/storage_api — see storage_api.h.
 *
 * Upload: on the loop, after auth_require, the body is parsed (storage/multipart.h) and the
 * file judged by its bytes (storage/image_type.h); only then are the bytes copied into a
 * job (the request, and the body h2o buffered for it, may be gone before the job is back)
 * and handed to a database-pool worker, which writes "<dir>/.upload-KEY", fsyncs it and
 * renames it to "<dir>/KEY". Back on the loop the URL is answered.
 *
 * Fetch: the key is checked against its exact shape on the loop (no file-system call is
 * made for anything else); a worker opens "<dir>/KEY" (O_NOFOLLOW: a symlink planted in the
 * directory is not followed), checks it is a regular file and reads it whole into a
 * malloc'd buffer, which is handed to h2o without a copy and freed with the request's pool.
 */
#include "storage/storage_api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "auth/caller.h"
#include "common/log.h"
#include "content/content_check.h"
#include "crypto/crypto.h"
#include "guard/rate_guard.h"
#include "http/reply.h"
#include "storage/files.h"
#include "storage/image_type.h"
#include "storage/multipart.h"
#include "storage/signed_url.h"

#define KEY_RANDOM_BYTES 16
#define KEY_HEX_LEN      (2 * KEY_RANDOM_BYTES)
#define KEY_SIZE         STORAGE_KEY_SIZE
#define HOST_MAX_LEN     255

size_t storage_upload_body_limit(const config_t *config)
{
    return config->storage_max_bytes + STORAGE_BODY_SLACK;
}

/* ---- keys ---- */

/* The image type named by a key of exactly the shape ^[0-9a-f]{32}\.(png|jpg|webp)$, or NULL. */
static const image_type_t *key_type(const char *key, size_t len)
{
    if (len <= KEY_HEX_LEN + 1 || key[KEY_HEX_LEN] != '.')
        return NULL;
    for (size_t i = 0; i < KEY_HEX_LEN; i++)
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
            return NULL;
    return image_type_by_ext(key + KEY_HEX_LEN + 1, len - KEY_HEX_LEN - 1);
}

bool storage_key_valid(const char *name, size_t len)
{
    return key_type(name, len) != NULL;
}

static bool key_new(char key[KEY_SIZE], const image_type_t *type)
{
    uint8_t random[KEY_RANDOM_BYTES];
    if (!crypto_random(random, sizeof(random)))
        return false;
    crypto_hex(random, sizeof(random), key);
    snprintf(key + KEY_HEX_LEN, KEY_SIZE - KEY_HEX_LEN, ".%s", type->ext);
    return true;
}

/* ---- upload ---- */

typedef struct upload_job {
    db_job_t db; /* first */
    http_pending_t pending;
    const app_t *app;
    int64_t user_id;
    char openid[STORE_OPENID_SIZE];
    uint8_t *bytes;
    size_t len;
    char key[KEY_SIZE];
    bool stored;
} upload_job_t;

static void run_upload(db_job_t *db, store_t *store)
{
    upload_job_t *job = (upload_job_t *)db;
    const char *step;
    char why[128];
    job->stored = storage_file_write(job->app->config->storage_dir, job->key, job->bytes, job->len, &step) == 0;
    if (!job->stored)
        log_error("upload of user %lld not stored: cannot %s in %s: %s", (long long)job->user_id, step,
                  job->app->config->storage_dir, storage_error_text(errno, why, sizeof(why)));
    else
        log_info("upload of user %lld stored as %s (%zu bytes)", (long long)job->user_id, job->key, job->len);
}

static bool host_valid(h2o_iovec_t host)
{
    if (host.len == 0 || host.len > HOST_MAX_LEN)
        return false;
    for (size_t i = 0; i < host.len; i++) {
        char c = host.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == ':' ||
              c == '-' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

h2o_iovec_t storage_url_base(h2o_req_t *req, const config_t *config)
{
    if (config->storage_base_url != NULL)
        return h2o_iovec_init(config->storage_base_url, strlen(config->storage_base_url));
    h2o_iovec_t host = req->authority;
    /* h2o puts its own host name there when the request had none: not a name clients know. */
    if (host.base == NULL || host.base == req->hostconf->authority.hostport.base || !host_valid(host))
        return h2o_iovec_init(H2O_STRLIT(""));
    return h2o_concat(&req->pool, h2o_iovec_init(H2O_STRLIT("http://")), host);
}

/* Whether url is absolute (http:// or https://): WeChat downloads images only from those. */
static bool url_absolute(h2o_iovec_t url)
{
    return (url.len > 7 && strncmp(url.base, "http://", 7) == 0) ||
           (url.len > 8 && strncmp(url.base, "https://", 8) == 0);
}

static void on_upload_done(loop_msg_t *msg)
{
    upload_job_t *job = (upload_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL && !job->stored) {
        http_reply_error(req, API_SERIOUS);
    } else if (req != NULL) {
        h2o_iovec_t url =
            h2o_concat(&req->pool, storage_url_base(req, job->app->config),
                       h2o_iovec_init(H2O_STRLIT(STORAGE_FETCH_PREFIX)), h2o_iovec_init(job->key, strlen(job->key)));
        json_t *data = json_object();
        json_object_set_new(data, "url", json_stringn(url.base, url.len));
        json_object_set_new(data, "key", json_string(job->key));
        /* WeChat downloads the image to check it: only with an absolute URL */
        if (job->app->config->content_check && job->openid[0] != '\0' && url_absolute(url)) {
            char *text = h2o_mem_alloc_pool(&req->pool, url.len + 1);
            memcpy(text, url.base, url.len);
            text[url.len] = '\0';
            content_media_t media = {.user_id = job->user_id,
                                     .openid = job->openid,
                                     .key = job->key,
                                     .url = text,
                                     .route = "/wx/storage/upload",
                                     .scene = 1}; /* 资料: a profile picture */
            content_media_check((app_t *)job->app, http_receiver(req), &media);
        }
        http_reply_ok(req, data);
    }
    free(job->bytes);
    free(job);
}

/* Checks the upload on the loop: 0 and the file's bytes and type, or the errno to answer. */
static api_errno_t upload_check(h2o_req_t *req, const app_t *app, multipart_slice_t *file, const image_type_t **type)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    h2o_iovec_t content_type = i >= 0 ? req->headers.entries[i].value : h2o_iovec_init(NULL, 0);
    size_t body_len = req->entity.base != NULL ? req->entity.len : 0;
    multipart_part_t part;
    multipart_rc rc = multipart_find(content_type.base, content_type.len, req->entity.base, body_len, "file", &part);
    if (rc != MULTIPART_OK) {
        log_debug("upload refused: %s", multipart_rc_text(rc));
        return API_BAD_ARGUMENT;
    }
    if (part.data.len == 0)
        return API_BAD_ARGUMENT_VALUE;
    if (part.data.len > app->config->storage_max_bytes)
        return API_UPLOAD_TOO_LARGE;
    if ((*type = image_type_detect(part.data.base, part.data.len)) == NULL)
        return API_UPLOAD_TYPE;
    *file = part.data;
    return API_OK;
}

/* After both rate limits: arg is the caller. */
static void upload_start(h2o_req_t *req, void *app_, const void *arg)
{
    app_t *app = app_;
    const auth_caller_t *caller = arg;
    multipart_slice_t file;
    const image_type_t *type;
    api_errno_t err = upload_check(req, app, &file, &type);
    if (err != API_OK) {
        http_reply_error(req, err);
        return;
    }
    upload_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL || (job->bytes = malloc(file.len)) == NULL || !key_new(job->key, type)) {
        log_error("upload of user %lld refused: out of memory or no randomness", (long long)caller->user.id);
        if (job != NULL)
            free(job->bytes);
        free(job);
        http_reply_error(req, API_SERIOUS);
        return;
    }
    memcpy(job->bytes, file.base, file.len);
    job->len = file.len;
    job->app = app;
    job->user_id = caller->user.id;
    snprintf(job->openid, sizeof job->openid, "%s", caller->user.openid);
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_upload, http_receiver(req), on_upload_done);
}

static void do_upload(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    rate_guard_key(req, app->limits[APP_LIMIT_UPLOAD_OPENID], caller->user.openid, upload_start, app, caller,
                   sizeof *caller);
}

static void upload_authorize(h2o_req_t *req, void *app, const void *arg)
{
    (void)arg;
    auth_require(req, app, do_upload);
}

int storage_upload(h2o_req_t *req, void *app_)
{
    app_t *app = app_;
    rate_guard_client(req, app->limits[APP_LIMIT_UPLOAD_IP], &app->config->trusted_proxies, upload_authorize, app, NULL,
                      0);
    return 0;
}

/* ---- fetch ---- */

typedef struct fetch_job {
    db_job_t db; /* first */
    http_pending_t pending;
    const char *dir;
    const char *subdir; /* under dir, or NULL */
    const char *cache_control;
    const image_type_t *type;
    char key[KEY_SIZE];
    fetch_outcome_t outcome;
    uint8_t *bytes;
    size_t len;
} fetch_job_t;

static void run_fetch(db_job_t *db, store_t *store)
{
    fetch_job_t *job = (fetch_job_t *)db;
    char dir[PATH_MAX];
    if (job->subdir != NULL && snprintf(dir, sizeof dir, "%s/%s", job->dir, job->subdir) >= (int)sizeof dir) {
        job->outcome = FETCH_MISSING;
        return;
    }
    job->outcome = storage_file_read(job->subdir != NULL ? dir : job->dir, job->key, &job->bytes, &job->len);
}

static void free_slot(void *slot)
{
    free(*(void **)slot);
}

/* Sends the image; the buffer now belongs to the request's pool. */
static void send_image(h2o_req_t *req, const image_type_t *type, const char *cache_control, uint8_t *bytes, size_t len)
{
    /* h2o_send_inline's way, without its copy; h2o only reads the (empty) generator. */
    static h2o_generator_t generator = {NULL, NULL};
    void **slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), free_slot);
    *slot = bytes;
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type->content_type,
                   strlen(type->content_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache_control, strlen(cache_control));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL,
                          H2O_STRLIT("default-src 'none'; sandbox"));
    h2o_start_response(req, &generator);
    h2o_iovec_t body = h2o_iovec_init(bytes, len);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void on_fetch_done(loop_msg_t *msg)
{
    fetch_job_t *job = (fetch_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (req != NULL && job->outcome == FETCH_FOUND) {
        send_image(req, job->type, job->cache_control, job->bytes, job->len);
        job->bytes = NULL;
    } else if (req != NULL) {
        http_reply_error(req, job->outcome == FETCH_MISSING ? API_NOT_FOUND : API_SERIOUS);
    }
    free(job->bytes);
    free(job);
}

/* Reads key (of type; NULL answers 404) from oa.storage.dir (or its subdir) on a worker and
 * answers it with cache_control. */
static int fetch_start(h2o_req_t *req, const app_t *app, const char *key, size_t len, const image_type_t *type,
                       const char *subdir, const char *cache_control)
{
    if (type == NULL) {
        http_reply_error(req, API_NOT_FOUND);
        return 0;
    }
    fetch_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        http_reply_error(req, API_SERIOUS);
        return 0;
    }
    memcpy(job->key, key, len); /* < KEY_SIZE: the callers checked its shape */
    job->dir = app->config->storage_dir;
    job->subdir = subdir;
    job->cache_control = cache_control;
    job->type = type;
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_fetch, http_receiver(req), on_fetch_done);
    return 0;
}

int storage_fetch(h2o_req_t *req, void *app_)
{
    const app_t *app = app_;
    h2o_iovec_t path = req->path_normalized;
    size_t prefix_len = strlen(STORAGE_FETCH_PREFIX);
    const image_type_t *type = NULL;
    if (path.len > prefix_len && memcmp(path.base, STORAGE_FETCH_PREFIX, prefix_len) == 0)
        type = key_type(path.base + prefix_len, path.len - prefix_len);
    /* a key never changes content */
    return fetch_start(req, app, path.base + prefix_len, path.len - prefix_len, type, NULL,
                       "public, max-age=31536000, immutable");
}

/* ---- signed links to attachments' images ---- */

/* The image type of an attachment's key, ^[A-Za-z0-9]{32}\.(png|jpg)$ (minutes_api.c makes them), or NULL. */
static const image_type_t *attachment_image_type(const char *key, size_t len)
{
    if (len <= KEY_HEX_LEN + 1 || key[KEY_HEX_LEN] != '.')
        return NULL;
    for (size_t i = 0; i < KEY_HEX_LEN; i++)
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z')))
            return NULL;
    const image_type_t *type = image_type_by_ext(key + KEY_HEX_LEN + 1, len - KEY_HEX_LEN - 1);
    return type != NULL && strcmp(type->ext, "webp") != 0 ? type : NULL;
}

char *storage_signed_attachment_url(h2o_req_t *req, const config_t *config, const char *key)
{
    char file[STORAGE_KEY_SIZE + sizeof STORAGE_ATTACHMENTS_DIR], path[512];
    snprintf(file, sizeof file, "%s/%s", STORAGE_ATTACHMENTS_DIR, key);
    if (attachment_image_type(key, strlen(key)) == NULL ||
        !signed_url_make(config->data_key, file, (int64_t)time(NULL) + STORAGE_SIGNED_SECONDS, path, sizeof path))
        return NULL;
    h2o_iovec_t base = storage_url_base(req, config);
    if (!url_absolute(base))
        return NULL;
    h2o_iovec_t url = h2o_concat(&req->pool, base, h2o_iovec_init(path, strlen(path)));
    char *text = h2o_mem_alloc_pool(&req->pool, url.len + 1);
    memcpy(text, url.base, url.len);
    text[url.len] = '\0';
    return text;
}

int storage_fetch_signed(h2o_req_t *req, void *app_)
{
    const app_t *app = app_;
    h2o_iovec_t path = req->path_normalized;
    size_t prefix_len = strlen(STORAGE_SIGNED_PREFIX), dir_len = strlen(STORAGE_ATTACHMENTS_DIR "/");
    const char *file = path.base + prefix_len, *key = file + dir_len;
    size_t file_len = path.len > prefix_len ? path.len - prefix_len : 0;
    const image_type_t *type = NULL;
    if (file_len > dir_len && memcmp(file, STORAGE_ATTACHMENTS_DIR "/", dir_len) == 0)
        type = attachment_image_type(key, file_len - dir_len);
    const char *query = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
    size_t query_len = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
    /* one answer for a wrong, forged or expired link: nothing tells them apart */
    if (!signed_url_check(app->config->data_key, file, file_len, query, query_len, (int64_t)time(NULL)))
        type = NULL;
    /* a private file, shown to the link's holder only */
    return fetch_start(req, app, key, type != NULL ? file_len - dir_len : 0, type, STORAGE_ATTACHMENTS_DIR,
                       "private, no-store");
}

void storage_remove_avatar(const config_t *config, const char *avatar)
{
    const char *at = strstr(avatar, STORAGE_FETCH_PREFIX);
    if (at == NULL)
        return; /* WeChat's own URL, or none: nothing of ours */
    const char *key = at + strlen(STORAGE_FETCH_PREFIX);
    if (storage_key_valid(key, strlen(key)) && storage_file_remove(config->storage_dir, key) != 0)
        log_warn("the avatar file %s could not be removed", key);
}

bool storage_exists(const config_t *config, const char *key)
{
    return storage_key_valid(key, strlen(key)) && storage_file_exists(config->storage_dir, key);
}

/* ---- the module (app/module.h) ---- */

static const http_route_t storage_routes[] = {
    {"POST", "/wx/storage/upload", storage_upload},       /* its body limit: storage_body_limit */
    {"GET", STORAGE_FETCH_PREFIX, storage_fetch},         /* "/wx/storage/fetch/", a prefix route */
    {"GET", STORAGE_SIGNED_PREFIX, storage_fetch_signed}, /* "/wx/storage/signed/", a prefix route */
};

static size_t storage_body_limit(const config_t *config, const http_route_t *route)
{
    return route->handler == storage_upload ? storage_upload_body_limit(config) : 0;
}

const app_module_t storage_module = {
    .name = "storage",
    APP_MODULE_ROUTES_FIELDS(storage_routes),
    .body_limit = storage_body_limit,
};
