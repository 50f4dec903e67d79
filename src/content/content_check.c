/* content_check — see content_check.h. */
#include "content/content_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/text.h"
#include "http/reply.h"
#include "runtime/db_pool.h"
#include "wechat/wx_client.h"

typedef struct batch batch_t;

typedef struct piece {
    wx_msg_sec_check_req_t req; /* first: on_done gets &req.msg */
    batch_t *batch;
    const content_field_t *field;
    char *text; /* the piece sent (the first piece of a field is also its excerpt) */
    bool first;
} piece_t;

struct batch {
    int pending;
    content_outcome_t outcome;
    content_done_fn done;
    void *ctx;
};

/* The flag of field in o, made when missing (NULL when full). */
static store_content_flag_t *flag_of(content_outcome_t *o, const content_field_t *field)
{
    for (int i = 0; i < o->nflags; i++)
        if (strcmp(o->flags[i].field, field->param) == 0)
            return &o->flags[i];
    if (o->nflags == CONTENT_FLAGS_MAX)
        return NULL;
    store_content_flag_t *f = &o->flags[o->nflags++];
    memset(f, 0, sizeof *f);
    snprintf(f->field, sizeof f->field, "%s", field->param);
    return f;
}

static void on_checked(loop_msg_t *msg)
{
    piece_t *p = (piece_t *)msg;
    batch_t *b = p->batch;
    content_outcome_t *o = &b->outcome;
    const wx_msg_sec_check_result_t *r = &p->req.result;
    if (r->outcome == WX_OK && r->suggest == WX_SUGGEST_RISKY) {
        if (!o->risky)
            snprintf(o->risky_name, sizeof o->risky_name, "%s", p->field->name);
        o->risky = true;
    } else if (r->outcome != WX_OK || r->suggest == WX_SUGGEST_REVIEW) {
        store_content_flag_t *f = flag_of(o, p->field);
        /* review wins over unchecked: a verdict is worth more than a failure */
        if (f != NULL && (f->verdict[0] == '\0' || r->outcome == WX_OK)) {
            snprintf(f->verdict, sizeof f->verdict, "%s", r->outcome == WX_OK ? "review" : "unchecked");
            f->label = r->label;
            f->errcode = r->outcome == WX_OK        ? 0
                         : r->outcome == WX_ERRCODE ? r->errcode
                         : r->outcome == WX_TIMEOUT ? -3
                                                    : -4;
            snprintf(f->trace_id, sizeof f->trace_id, "%s", r->trace_id);
        }
        if (r->outcome != WX_OK)
            log_warn("content check of a %s not made (%s %ld): stored and flagged for an admin", p->field->param,
                     r->outcome == WX_TIMEOUT   ? "timeout"
                     : r->outcome == WX_ERRCODE ? "errcode"
                                                : "transport",
                     r->outcome == WX_ERRCODE ? r->errcode : 0L);
    }
    if (p->first) {
        store_content_flag_t *f = NULL;
        for (int i = 0; i < o->nflags; i++)
            if (strcmp(o->flags[i].field, p->field->param) == 0)
                f = &o->flags[i];
        if (f != NULL && f->excerpt[0] == '\0')
            snprintf(f->excerpt, sizeof f->excerpt, "%.*s", (int)(sizeof f->excerpt - 1), p->text);
    }
    free(p->text);
    free(p);
    if (--b->pending == 0) {
        /* a flag made by a later piece still wants its excerpt: the field's name then */
        for (int i = 0; i < o->nflags; i++)
            if (o->flags[i].excerpt[0] == '\0')
                snprintf(o->flags[i].excerpt, sizeof o->flags[i].excerpt, "%s", "…");
        b->done(b->ctx, o);
        free(b);
    }
}

/* The text of a field in params: a string, or the strings of an array joined by '\n' (malloc'd);
 * NULL when none. */
static char *field_text(const json_t *params, const char *key)
{
    const json_t *v = json_object_get(params, key);
    if (json_is_string(v))
        return json_string_length(v) > 0 ? strdup(json_string_value(v)) : NULL;
    if (!json_is_array(v))
        return NULL;
    size_t len = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *e = json_array_get(v, i);
        if (json_is_string(e))
            len += json_string_length(e) + 1;
    }
    char *out = len > 0 ? malloc(len + 1) : NULL;
    if (out == NULL)
        return NULL;
    char *w = out;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            continue;
        memcpy(w, json_string_value(e), json_string_length(e));
        w += json_string_length(e);
        *w++ = '\n';
    }
    *w = '\0';
    return out;
}

bool content_check_start(app_t *app, h2o_multithread_receiver_t *loop, const json_t *params,
                         const content_field_t *fields, const char *openid, content_done_fn done, void *ctx)
{
    batch_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return false;
    b->done = done;
    b->ctx = ctx;
    /* pending counts one extra until every piece is submitted: no early done() */
    b->pending = 1;
    int sent = 0;
    for (const content_field_t *f = fields; f->param != NULL; f++) {
        char *text = field_text(params, f->param);
        if (text == NULL)
            continue;
        const char *rest = text;
        bool first = true;
        while (*rest != '\0') {
            size_t n = text_utf8_prefix(rest, WX_SEC_CONTENT_MAX);
            piece_t *p = calloc(1, sizeof *p);
            char *piece = p != NULL ? strndup(rest, n) : NULL;
            if (piece == NULL) {
                free(p);
                break;
            }
            p->batch = b;
            p->field = f;
            p->text = piece;
            p->first = first;
            first = false;
            loop_msg_init(&p->req.msg, loop, on_checked);
            p->req.content = piece;
            p->req.scene = f->scene;
            snprintf(p->req.openid, sizeof p->req.openid, "%s", openid);
            b->pending++;
            sent++;
            wx_msg_sec_check(app->wx, &p->req);
            rest += n;
        }
        free(text);
    }
    if (sent == 0) {
        free(b);
        return false;
    }
    /* the extra count: answers may all have come already (refusals without a call answer at once
     * through the loop's queue, never inline), so done() runs from on_checked as usual */
    b->pending--;
    return true;
}

bool content_refuse_risky(http_pending_t *pending, const content_outcome_t *outcome)
{
    if (!outcome->risky)
        return false;
    h2o_req_t *req = http_pending_take(pending);
    char msg[128];
    snprintf(msg, sizeof msg, "%s含有违规内容，请修改后再提交", outcome->risky_name);
    if (req != NULL)
        http_reply_error_msg(req, API_CONTENT_RISKY, msg);
    return true;
}

content_outcome_t *content_outcome_keep(const content_outcome_t *outcome)
{
    if (outcome->nflags == 0)
        return NULL;
    content_outcome_t *kept = malloc(sizeof *kept);
    if (kept == NULL) {
        log_error("out of memory: %d content flags of a %s lost", outcome->nflags, outcome->flags[0].field);
        return NULL;
    }
    *kept = *outcome;
    return kept;
}

void content_flags_store(store_t *store, const content_outcome_t *outcome, const char *route, int64_t user_id,
                         int64_t object_id, int64_t now)
{
    for (int i = 0; outcome != NULL && i < outcome->nflags; i++) {
        store_content_flag_t f = outcome->flags[i];
        f.user_id = user_id;
        f.object_id = object_id;
        snprintf(f.route, sizeof f.route, "%s", route);
        if (store_content_flag_add(store, &f, now) != STORE_OK)
            log_error("content flag of %s %s not stored: %s", f.route, f.field, store_last_error(store));
    }
}

/* ---- images ---- */

typedef struct media_job {
    wx_media_check_req_t req; /* first: on_done gets &req.msg */
    db_job_t db;              /* then the record, on a worker */
    app_t *app;
    int64_t user_id, object_id;
    char key[STORE_FLAG_KEY_SIZE];
    const char *route; /* a string literal */
} media_job_t;

void content_media_flag(store_content_flag_t *f, const char *key, int64_t user_id, int64_t object_id, const char *route,
                        const char *verdict)
{
    memset(f, 0, sizeof *f);
    f->user_id = user_id;
    f->object_id = object_id;
    const char *slash = strrchr(key, '/');
    snprintf(f->route, sizeof f->route, "%s", route);
    snprintf(f->field, sizeof f->field, "%s", "file");
    snprintf(f->excerpt, sizeof f->excerpt, "%s", slash != NULL ? slash + 1 : key);
    snprintf(f->verdict, sizeof f->verdict, "%s", verdict);
}

static void media_record(db_job_t *db, store_t *store)
{
    media_job_t *m = H2O_STRUCT_FROM_MEMBER(media_job_t, db, db);
    const wx_media_check_result_t *r = &m->req.result;
    int64_t now = (int64_t)time(NULL);
    store_rc rc;
    if (r->outcome == WX_OK) {
        rc = store_media_check_add(store, r->trace_id, m->user_id, m->key, now);
    } else {
        store_content_flag_t f;
        content_media_flag(&f, m->key, m->user_id, m->object_id, m->route, "unchecked");
        f.errcode = r->outcome == WX_ERRCODE ? r->errcode : r->outcome == WX_TIMEOUT ? -3 : -4;
        rc = store_content_flag_add(store, &f, now);
    }
    if (rc != STORE_OK)
        log_error("the image check of upload %s was not recorded: %s", m->key, store_last_error(store));
}

static void media_recorded(loop_msg_t *msg)
{
    media_job_t *m = H2O_STRUCT_FROM_MEMBER(media_job_t, db.msg, msg);
    free(m);
}

static void media_checked(loop_msg_t *msg)
{
    media_job_t *m = (media_job_t *)msg;
    if (m->req.result.outcome != WX_OK)
        log_warn("image check of upload %s not made (outcome %d, errcode %ld): flagged for an admin", m->key,
                 (int)m->req.result.outcome, m->req.result.errcode);
    db_pool_run(m->app->db, &m->db, media_record, m->req.msg.reply_to, media_recorded);
}

void content_media_check(app_t *app, h2o_multithread_receiver_t *loop, const content_media_t *media)
{
    media_job_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return;
    m->app = app;
    m->user_id = media->user_id;
    m->object_id = media->object_id;
    snprintf(m->key, sizeof m->key, "%s", media->key);
    m->route = media->route;
    loop_msg_init(&m->req.msg, loop, media_checked);
    snprintf(m->req.media_url, sizeof m->req.media_url, "%s", media->url);
    m->req.media_type = WX_MEDIA_TYPE_IMAGE;
    m->req.scene = media->scene;
    snprintf(m->req.openid, sizeof m->req.openid, "%s", media->openid);
    wx_media_check_async(app->wx, &m->req);
}
