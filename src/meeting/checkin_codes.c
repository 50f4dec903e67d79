/* meeting/checkin_codes — see checkin_codes.h. */
#include "meeting/checkin_codes.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "http/reply.h"
#include "http/server.h"
#include "storage/image_type.h"
#include "wechat/wx_client.h"

#define CACHE_SLOTS 256

/* An image, shared by the cache and the requests it is being sent to. */
typedef struct code_image {
    atomic_int refs;
    const char *content_type;
    size_t len;
    unsigned char bytes[];
} code_image_t;

typedef struct waiter waiter_t;

typedef struct slot {
    char scene[WX_SCENE_MAX + 1]; /* "" = free */
    int64_t expires_at;
    code_image_t *image; /* NULL while its fetch is in flight */
    waiter_t *waiters;   /* requests waiting for that fetch */
    int64_t used_at;
} slot_t;

/* A request waiting for a fetch, answered on its own loop. */
struct waiter {
    loop_msg_t msg; /* first */
    waiter_t *next;
    http_pending_t pending;
    int ttl_seconds;
    code_image_t *image;   /* the result, a reference; NULL on failure */
    const wx_error_t *err; /* the failure */
};

/* The fetch of one scene. */
typedef struct fetch {
    wx_wxacode_req_t wx; /* first: its msg comes back to the loop that started it */
    app_t *app;
} fetch_t;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static slot_t cache[CACHE_SLOTS];

static void image_unref(code_image_t *image)
{
    if (image != NULL && atomic_fetch_sub(&image->refs, 1) == 1)
        free(image);
}

static code_image_t *image_ref(code_image_t *image)
{
    atomic_fetch_add(&image->refs, 1);
    return image;
}

/* Under cache_lock: the slot of scene, or NULL. */
static slot_t *slot_find(const char *scene, int64_t now)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        slot_t *s = &cache[i];
        if (s->scene[0] != '\0' && strcmp(s->scene, scene) == 0 && (s->image == NULL || s->expires_at > now))
            return s;
    }
    return NULL;
}

/* Under cache_lock: a slot for a new fetch: a free or expired one, else the least recently
 * used one that is not in flight. NULL when every slot is in flight. */
static slot_t *slot_take(int64_t now)
{
    slot_t *best = NULL;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        slot_t *s = &cache[i];
        if (s->scene[0] == '\0' || (s->image != NULL && s->expires_at <= now)) {
            best = s;
            break;
        }
        if (s->image != NULL && (best == NULL || s->used_at < best->used_at))
            best = s;
    }
    if (best != NULL) {
        image_unref(best->image);
        memset(best, 0, sizeof *best);
    }
    return best;
}

static void send_image(h2o_req_t *req, const code_image_t *image, int ttl_seconds)
{
    char cache_control[48], refresh[16];
    snprintf(cache_control, sizeof cache_control, "private, max-age=%d", ttl_seconds);
    snprintf(refresh, sizeof refresh, "%d", ttl_seconds);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-oa-checkin-refresh"), 0, NULL,
                          h2o_strdup(&req->pool, refresh, SIZE_MAX).base, strlen(refresh));
    http_reply_bytes(req, image->content_type, h2o_strdup(&req->pool, cache_control, SIZE_MAX).base, image->bytes,
                     image->len);
}

static void on_waiter_done(loop_msg_t *msg)
{
    waiter_t *w = (waiter_t *)msg;
    h2o_req_t *req = http_pending_take(&w->pending);
    if (req != NULL) {
        if (w->image != NULL)
            send_image(req, w->image, w->ttl_seconds);
        else
            http_reply_error_msg(req, w->err->api_errno, w->err->errmsg);
    }
    image_unref(w->image);
    free(w);
}

/* The loop that started a fetch: keep the image, wake every waiter on its own loop. */
static void on_fetch_done(loop_msg_t *msg)
{
    fetch_t *f = (fetch_t *)msg;
    wx_wxacode_req_t *wx = &f->wx;
    code_image_t *image = NULL;
    const wx_error_t *err = NULL;
    if (wx->outcome == WX_OK) {
        const image_type_t *type = image_type_detect(wx->image, wx->image_len);
        if (type != NULL && (type->kind == IMAGE_PNG || type->kind == IMAGE_JPEG) &&
            (image = malloc(sizeof *image + wx->image_len)) != NULL) {
            atomic_init(&image->refs, 1);
            image->content_type = type->content_type;
            image->len = wx->image_len;
            memcpy(image->bytes, wx->image, wx->image_len);
        } else {
            log_warn("wx: getwxacodeunlimit answered %zu bytes that are no PNG or JPEG image", wx->image_len);
            err = wx_error_lookup_api(WX_API_WXACODE, WX_BAD_RESPONSE, 0);
        }
    } else {
        err = wx->token_failed ? wx_error_lookup_api(WX_API_TOKEN, wx->outcome, wx->errcode)
                               : wx_error_lookup_api(WX_API_WXACODE, wx->outcome, wx->errcode);
        if (err->fault == WX_FAULT_CONFIG)
            log_error("wx: getwxacodeunlimit failed (outcome %d, errcode %ld): check oa.checkin.page, "
                      "oa.checkin.env-version and the app's permissions",
                      (int)wx->outcome, wx->errcode);
        else
            log_warn("wx: getwxacodeunlimit failed (outcome %d, errcode %ld)", (int)wx->outcome, wx->errcode);
    }
    free(wx->image);

    pthread_mutex_lock(&cache_lock);
    waiter_t *waiters = NULL;
    slot_t *s = NULL;
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].image == NULL && strcmp(cache[i].scene, wx->scene) == 0)
            s = &cache[i];
    if (s != NULL) {
        waiters = s->waiters;
        s->waiters = NULL;
        if (image != NULL)
            s->image = image_ref(image);
        else
            memset(s, 0, sizeof *s); /* a failure is not cached: the next view asks again */
    }
    pthread_mutex_unlock(&cache_lock);

    while (waiters != NULL) {
        waiter_t *w = waiters;
        waiters = w->next;
        w->image = image != NULL ? image_ref(image) : NULL;
        w->err = err;
        loop_msg_reply(&w->msg);
    }
    image_unref(image);
    free(f);
}

void checkin_codes_serve(app_t *app, h2o_req_t *req, const char *scene, int64_t expires_at, int ttl_seconds)
{
    int64_t now = (int64_t)time(NULL);
    waiter_t *w = calloc(1, sizeof *w);
    fetch_t *f = calloc(1, sizeof *f);
    if (w == NULL || f == NULL) {
        free(w);
        free(f);
        http_reply_error(req, API_SERIOUS);
        return;
    }
    loop_msg_init(&w->msg, http_receiver(req), on_waiter_done);
    w->ttl_seconds = ttl_seconds;

    pthread_mutex_lock(&cache_lock);
    slot_t *s = slot_find(scene, now);
    code_image_t *hit = NULL;
    bool start = false;
    if (s != NULL && s->image != NULL) {
        s->used_at = now;
        hit = image_ref(s->image);
    } else if (s != NULL) {
        w->next = s->waiters; /* a fetch is in flight: wait for it */
        s->waiters = w;
        http_pending_attach(&w->pending, req);
    } else if ((s = slot_take(now)) != NULL) {
        snprintf(s->scene, sizeof s->scene, "%s", scene);
        s->expires_at = expires_at;
        s->used_at = now;
        s->waiters = w;
        http_pending_attach(&w->pending, req);
        start = true;
    }
    pthread_mutex_unlock(&cache_lock);

    if (hit != NULL || s == NULL) {
        free(w);
        free(f);
        if (hit != NULL)
            send_image(req, hit, ttl_seconds);
        else
            http_reply_error(req, API_WX_BUSY); /* 256 fetches in flight at once */
        image_unref(hit);
        return;
    }
    if (!start) {
        free(f);
        return;
    }
    const config_t *config = app->config;
    f->app = app;
    loop_msg_init(&f->wx.msg, http_receiver(req), on_fetch_done);
    snprintf(f->wx.scene, sizeof f->wx.scene, "%s", scene);
    snprintf(f->wx.page, sizeof f->wx.page, "%s", config->checkin_page);
    snprintf(f->wx.env_version, sizeof f->wx.env_version, "%s", config->checkin_env_version);
    f->wx.check_path = config->checkin_check_path;
    f->wx.width = 430;
    wx_get_wxacode(app->wx, &f->wx);
}

void checkin_codes_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].image != NULL) {
            image_unref(cache[i].image);
            memset(&cache[i], 0, sizeof cache[i]);
        }
    pthread_mutex_unlock(&cache_lock);
}
