/* push/push_api — see push_api.h. */
#include "push/push_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/session_bus.h"
#include "common/log.h"
#include "content/content_check.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/server.h"
#include "notify/notify_api.h"
#include "push/push_crypto.h"
#include "push/push_message.h"
#include "runtime/db_pool.h"
#include "storage/files.h"
#include "storage/storage_api.h"
#include "store/store.h"
#include "store/store_content.h"
#include "store/store_minutes.h"
#include "store/store_notify.h"

#define PUSH_MAX_SKEW_SECONDS 300 /* a packet signed longer ago (or ahead) than this is refused */
#define PUSH_SEEN_SLOTS       4096
#define PUSH_KEY_SIZE         160
#define PUSH_ITEMS_MAX        8 /* items of a subscription event acted on (a popup holds at most 5 templates) */

/* ---- answers that are not the envelope ---- */

static void reply_text(h2o_req_t *req, int status, const char *text)
{
    if (status == 200) {
        http_reply_bytes(req, "text/plain; charset=utf-8", NULL, text, strlen(text));
        return;
    }
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = status == 403 ? "Forbidden" : (status == 400 ? "Bad Request" : "Service Unavailable");
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; charset=utf-8"));
    req->res.content_length = strlen(text);
    h2o_start_response(req, &generator);
    h2o_iovec_t body = h2o_iovec_init(text, strlen(text));
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

/* ---- packets already handled: WeChat re-sends a packet it got no answer for in time ---- */

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen[PUSH_SEEN_SLOTS][PUSH_KEY_SIZE];
static size_t seen_next;

static bool seen_has(const char *key)
{
    bool found = false;
    pthread_mutex_lock(&seen_lock);
    for (size_t i = 0; i < PUSH_SEEN_SLOTS && !found; i++)
        found = seen[i][0] != '\0' && strcmp(seen[i], key) == 0;
    pthread_mutex_unlock(&seen_lock);
    return found;
}

static void seen_add(const char *key)
{
    pthread_mutex_lock(&seen_lock);
    snprintf(seen[seen_next], PUSH_KEY_SIZE, "%s", key);
    seen_next = (seen_next + 1) % PUSH_SEEN_SLOTS;
    pthread_mutex_unlock(&seen_lock);
}

/* ---- events ---- */

typedef enum push_action {
    PUSH_NOTHING,
    PUSH_REVOKE,
    PUSH_CANCELLATION,
    PUSH_MEDIA_CHECK,
    PUSH_SUB_POPUP,  /* subscribe_msg_popup_event: the accepts of a popup */
    PUSH_SUB_CHANGE, /* subscribe_msg_change_event: templates refused under 服务通知 */
    PUSH_SUB_SENT,   /* subscribe_msg_sent_event: how sent messages were delivered */
} push_action_t;

/* One item of a subscription event's List, for a configured template (others are ignored). */
typedef struct push_sub_item {
    char template_id[STORE_TEMPLATE_ID_SIZE];
    bool yes;      /* popup: accepted; change: refused; sent: the user refused to receive it */
    int64_t msgid; /* sent */
    long errcode;  /* sent: ErrorCode, 0 delivered */
} push_sub_item_t;

typedef struct push_job {
    db_job_t db; /* first */
    const app_t *app;
    http_pending_t pending;
    push_action_t action;
    char openid[STORE_OPENID_SIZE];
    bool profile, phone; /* what a revocation withdrew */
    char trace_id[64];   /* a media check's */
    char verdict[16];    /* its suggest: pass, review, risky */
    char key[PUSH_KEY_SIZE];
    push_sub_item_t items[PUSH_ITEMS_MAX];
    int nitems;
    bool failed;
    int64_t changed_user; /* revoked or cancelled: its cached sessions and profile are dropped everywhere */
} push_job_t;

/* RevokeInfo: "6" nickname and avatar, "8" phone number (a number, or a list of them). */
static void read_revoke_info(const char *info, push_job_t *job)
{
    const char *p = info;
    while (p != NULL && *p != '\0') {
        long v = strtol(p, (char **)&p, 10);
        job->profile |= v == 6;
        job->phone |= v == 8;
        while (*p != '\0' && (*p < '0' || *p > '9'))
            p++;
    }
}

/* A risky attachment image (file "attachments/KEY"): its row and file deleted. */
static store_rc take_down_attachment(push_job_t *job, store_t *store, const char *file, int64_t user_id)
{
    const char *key = file + strlen(STORAGE_ATTACHMENTS_DIR "/");
    store_attachment_t a;
    store_rc rc = store_attachment_get_by_key(store, key, &a);
    if (rc == STORE_OK)
        rc = store_attachment_delete(store, a.id);
    if (rc == STORE_NOT_FOUND)
        rc = STORE_OK; /* deleted by its host meanwhile */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", job->app->config->storage_dir, STORAGE_ATTACHMENTS_DIR);
    if (rc == STORE_OK && storage_file_remove(dir, key) != 0)
        log_warn("push: the risky attachment %s could not be removed", key);
    if (rc == STORE_OK)
        log_info("push: a risky attachment image of user %lld taken down", (long long)user_id);
    return rc;
}

/* A risky avatar image (an upload's key): the file deleted and taken off its owner's avatar. */
static store_rc take_down_upload(push_job_t *job, store_t *store, const char *key, int64_t user_id, int64_t now)
{
    if (storage_key_valid(key, strlen(key)) && storage_file_remove(job->app->config->storage_dir, key) != 0)
        log_warn("push: the risky image %s could not be removed", key);
    store_user_t user;
    store_rc rc = store_user_get(store, user_id, &user);
    if (rc == STORE_OK && strstr(user.avatar, key) != NULL)
        rc = store_user_update_profile(store, user_id, NULL, "", -1, now);
    if (rc == STORE_OK)
        log_info("push: a risky image of user %lld taken down", (long long)user_id);
    return rc;
}

/* A media check's verdict (store_content.h) on an image: a risky one is deleted (an avatar taken
 * off its owner, an attachment off its meeting); one to review is flagged for an admin. */
static void run_media_verdict(push_job_t *job, store_t *store, int64_t now)
{
    int64_t user_id = 0;
    char key[STORE_FLAG_KEY_SIZE];
    store_rc rc = store_media_check_done(store, job->trace_id, job->verdict, now, &user_id, key);
    if (rc == STORE_NOT_FOUND)
        return; /* not ours, or a verdict we have already */
    bool attachment = strncmp(key, STORAGE_ATTACHMENTS_DIR "/", strlen(STORAGE_ATTACHMENTS_DIR "/")) == 0;
    if (rc == STORE_OK && strcmp(job->verdict, "risky") == 0) {
        rc = attachment ? take_down_attachment(job, store, key, user_id)
                        : take_down_upload(job, store, key, user_id, now);
    } else if (rc == STORE_OK && strcmp(job->verdict, "review") == 0) {
        int64_t object_id = 0;
        store_attachment_t a;
        if (attachment && store_attachment_get_by_key(store, key + strlen(STORAGE_ATTACHMENTS_DIR "/"), &a) == STORE_OK)
            object_id = a.id;
        store_content_flag_t f;
        content_media_flag(&f, key, user_id, object_id, attachment ? "/wx/meeting/attachment" : "/wx/storage/upload",
                           "review");
        snprintf(f.trace_id, sizeof f.trace_id, "%s", job->trace_id);
        rc = store_content_flag_add(store, &f, now);
    }
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        log_error("push: a media check's verdict could not be applied: %s", store_last_error(store));
        job->failed = true;
    }
}

/* A subscription event of user (store_notify.h): a popup's accepts add to the quota (paired
 * with the client's report of the same tap), a refusal under 服务通知 ends it, a sent message
 * WeChat could not deliver fails its reminder (and ends the quota when the user refused it). */
static store_rc run_subscription(push_job_t *job, store_t *store, const store_user_t *user, int64_t now)
{
    store_rc rc = STORE_OK;
    for (int i = 0; rc == STORE_OK && i < job->nitems; i++) {
        const push_sub_item_t *it = &job->items[i];
        int64_t quota = 0;
        bool found = false;
        if (job->action == PUSH_SUB_POPUP && it->yes)
            rc = store_notify_grant(store, user->id, it->template_id, 1, STORE_GRANT_PUSH, now, &quota);
        else if (job->action == PUSH_SUB_CHANGE && it->yes)
            rc = store_notify_refused(store, user->id, it->template_id, now);
        else if (job->action == PUSH_SUB_SENT) {
            rc = store_notify_delivery(store, it->msgid, it->errcode, now, &found);
            if (rc == STORE_OK && it->errcode != 0)
                log_info("push: message %lld of user %lld not delivered (ErrorCode %ld)%s", (long long)it->msgid,
                         (long long)user->id, it->errcode, found ? "" : ", no reminder of ours");
            if (rc == STORE_OK && it->yes)
                rc = store_notify_refused(store, user->id, it->template_id, now);
        }
    }
    return rc;
}

static void run_push(db_job_t *db, store_t *store)
{
    push_job_t *job = (push_job_t *)db;
    int64_t now = (int64_t)time(NULL);
    if (job->action == PUSH_MEDIA_CHECK) {
        run_media_verdict(job, store, now);
        return;
    }
    store_user_t user;
    store_rc rc = store_user_get_by_openid(store, job->openid, &user);
    if (rc == STORE_NOT_FOUND)
        return; /* nobody we know: nothing to delete */
    bool subscription = job->action == PUSH_SUB_POPUP || job->action == PUSH_SUB_CHANGE || job->action == PUSH_SUB_SENT;
    if (rc == STORE_OK && subscription) {
        rc = run_subscription(job, store, &user, now);
        if (rc != STORE_OK) {
            log_error("push: a subscription event could not be applied: %s", store_last_error(store));
            job->failed = true;
        }
        return;
    }
    if (rc == STORE_OK && job->action == PUSH_REVOKE && job->profile) {
        rc = store_user_update_profile(store, user.id, "", "", -1, now);
        if (rc == STORE_OK)
            storage_remove_avatar(job->app->config, user.avatar);
    }
    if (rc == STORE_OK && job->action == PUSH_REVOKE && job->phone && user.mobile[0] != '\0')
        rc = store_user_bind_mobile(store, user.id, "", true, now);
    if (rc == STORE_OK && job->action == PUSH_CANCELLATION)
        rc = store_user_set_status(store, job->openid, 2, now);
    if (rc != STORE_OK) {
        log_error("push: the event of a user could not be applied: %s", store_last_error(store));
        job->failed = true;
        return;
    }
    log_info("push: %s applied for user %lld", job->action == PUSH_REVOKE ? "authorization revoke" : "cancellation",
             (long long)user.id);
    job->changed_user = user.id;
}

static void on_push_done(loop_msg_t *msg)
{
    push_job_t *job = (push_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (job->changed_user != 0) { /* the new status and profile: read again here and, with Redis, everywhere */
        session_cache_remove_user(job->app->sessions, job->changed_user);
        session_bus_user_ended(job->app, job->changed_user);
    }
    if (!job->failed)
        seen_add(job->key);
    if (req != NULL)
        reply_text(req, job->failed ? 503 : 200, job->failed ? "retry" : "success"); /* 503: WeChat re-sends */
    free(job);
}

/* The verdict of a wxa_media_check event: v2's result.suggest (an object in JSON, the element's
 * text in XML), or v1's isrisky; "pass" when neither says otherwise. */
static void media_verdict(json_t *msg, char *out, size_t size)
{
    json_t *result = json_object_get(msg, "result");
    const char *suggest = json_string_value(json_object_get(result, "suggest"));
    const char *text = suggest != NULL ? suggest : json_string_value(result);
    char b[16];
    const char *risky = push_message_text(msg, "isrisky", b, sizeof b);
    if ((text != NULL && strstr(text, "risky") != NULL) || (risky != NULL && strcmp(risky, "1") == 0))
        snprintf(out, size, "%s", "risky");
    else if (text != NULL && strstr(text, "review") != NULL)
        snprintf(out, size, "%s", "review");
    else
        snprintf(out, size, "%s", "pass");
}

static const struct {
    const char *event, *wrapper;
    push_action_t action;
} SUB_EVENTS[] = {
    {"subscribe_msg_popup_event", "SubscribeMsgPopupEvent", PUSH_SUB_POPUP},
    {"subscribe_msg_change_event", "SubscribeMsgChangeEvent", PUSH_SUB_CHANGE},
    {"subscribe_msg_sent_event", "SubscribeMsgSentEvent", PUSH_SUB_SENT},
};

/* The items of a subscription event that concern configured templates, into job. */
static void read_sub_items(json_t *msg, const char *wrapper, push_job_t *job)
{
    json_t *list = push_message_list(msg, wrapper);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char b[4][32];
        const char *tpl = push_message_text(item, "TemplateId", b[0], sizeof b[0]);
        const char *status = push_message_text(item, "SubscribeStatusString", b[1], sizeof b[1]);
        const char *msgid = push_message_text(item, "MsgID", b[2], sizeof b[2]);
        const char *code = push_message_text(item, "ErrorCode", b[3], sizeof b[3]);
        const char *error_status = json_string_value(json_object_get(item, "ErrorStatus"));
        if (job->nitems == PUSH_ITEMS_MAX || tpl == NULL || strlen(tpl) >= STORE_TEMPLATE_ID_SIZE ||
            !notify_template_configured(tpl))
            continue;
        push_sub_item_t *it = &job->items[job->nitems++];
        snprintf(it->template_id, sizeof it->template_id, "%s", tpl);
        if (job->action == PUSH_SUB_POPUP)
            it->yes = notify_status_accepts(status);
        else if (job->action == PUSH_SUB_CHANGE)
            it->yes = status != NULL && strcmp(status, "reject") == 0;
        else {
            it->msgid = msgid != NULL ? strtoll(msgid, NULL, 10) : 0;
            it->errcode = code != NULL ? strtol(code, NULL, 10) : 0;
            /* ErrorStatus's texts are not documented; "fail: user refuse to accept the msg" is seen */
            it->yes = it->errcode != 0 && error_status != NULL && strstr(error_status, "refuse") != NULL;
        }
    }
    json_decref(list);
}

/* A short hash of the whole packet: two events of one user in one second are two packets,
 * while WeChat's re-sends of one are the same text. */
static unsigned long packet_hash(json_t *msg)
{
    char *text = json_dumps(msg, JSON_SORT_KEYS | JSON_COMPACT);
    unsigned long h = 2166136261u;
    for (const char *p = text; p != NULL && *p != '\0'; p++)
        h = ((h ^ (unsigned char)*p) * 16777619u) & 0xffffffffu;
    free(text);
    return h;
}

/* Acts on one verified, decrypted packet; answers req. */
static void handle_message(h2o_req_t *req, app_t *app, json_t *msg)
{
    char buf[3][32];
    const char *event = push_message_text(msg, "Event", buf[0], sizeof buf[0]);
    const char *trace = push_message_text(msg, "trace_id", buf[1], sizeof buf[1]);
    const char *from = push_message_text(msg, "FromUserName", buf[2], sizeof buf[2]);
    char created[32];
    const char *create_time = push_message_text(msg, "CreateTime", created, sizeof created);
    char key[PUSH_KEY_SIZE];
    if (trace != NULL)
        snprintf(key, sizeof key, "t:%s", trace);
    else
        snprintf(key, sizeof key, "e:%.40s|%.40s|%.20s|%08lx", event ? event : "", from ? from : "",
                 create_time ? create_time : "", packet_hash(msg));
    if (seen_has(key)) {
        reply_text(req, 200, "success"); /* a re-send of a packet already handled */
        return;
    }
    push_action_t action = PUSH_NOTHING;
    if (event != NULL && strcmp(event, "user_authorization_revoke") == 0)
        action = PUSH_REVOKE;
    else if (event != NULL && strcmp(event, "user_authorization_cancellation") == 0)
        action = PUSH_CANCELLATION;
    else if (event != NULL && strcmp(event, "wxa_media_check") == 0 && trace != NULL && strlen(trace) < 64)
        action = PUSH_MEDIA_CHECK;
    const char *wrapper = NULL;
    for (size_t i = 0; event != NULL && i < sizeof SUB_EVENTS / sizeof SUB_EVENTS[0]; i++)
        if (strcmp(event, SUB_EVENTS[i].event) == 0) {
            action = SUB_EVENTS[i].action;
            wrapper = SUB_EVENTS[i].wrapper;
        }
    char obuf[32];
    const char *openid = push_message_text(msg, "OpenID", obuf, sizeof obuf);
    if (openid == NULL)
        openid = from;
    if (action != PUSH_MEDIA_CHECK &&
        (action == PUSH_NOTHING || openid == NULL || strlen(openid) >= STORE_OPENID_SIZE)) {
        log_info("push: event %s received, nothing to do", event != NULL ? event : "(none)");
        seen_add(key);
        reply_text(req, 200, "success");
        return;
    }
    push_job_t *job = calloc(1, sizeof *job);
    if (job == NULL) {
        reply_text(req, 503, "retry");
        return;
    }
    job->action = action;
    job->app = app;
    if (wrapper != NULL)
        read_sub_items(msg, wrapper, job);
    snprintf(job->openid, sizeof job->openid, "%s", openid != NULL ? openid : "");
    if (action == PUSH_MEDIA_CHECK) {
        snprintf(job->trace_id, sizeof job->trace_id, "%s", trace);
        media_verdict(msg, job->verdict, sizeof job->verdict);
    }
    snprintf(job->key, sizeof job->key, "%s", key);
    char rbuf[32];
    const char *info = push_message_text(msg, "RevokeInfo", rbuf, sizeof rbuf);
    read_revoke_info(info, job);
    http_pending_attach(&job->pending, req);
    db_pool_run(app->db, &job->db, run_push, http_receiver(req), on_push_done);
}

/* ---- the endpoint ---- */

static const char *query_text(json_t *query, const char *name)
{
    return json_string_value(json_object_get(query, name));
}

/* The packet of a safe-mode POST: Encrypt checked against msg_signature and opened with the
 * current key, then the previous one. NULL when refused. */
static json_t *open_safe_mode(const config_t *config, json_t *query, json_t *outer)
{
    char ebuf[8];
    const char *encrypt = push_message_text(outer, "Encrypt", ebuf, sizeof ebuf);
    const char *parts[] = {config->push_token, query_text(query, "timestamp"), query_text(query, "nonce"), encrypt};
    if (encrypt == NULL || !push_signature_ok(parts, 4, query_text(query, "msg_signature")))
        return NULL;
    const char *keys[] = {config->push_aes_key, config->push_previous_aes_key};
    for (size_t i = 0; i < 2; i++) {
        uint8_t key[32];
        char *plain = NULL;
        size_t plain_len = 0;
        if (keys[i] == NULL || !push_aes_key(keys[i], key))
            continue;
        bool ok = push_decrypt(key, config->wx_app_id, encrypt, strlen(encrypt), &plain, &plain_len);
        explicit_bzero(key, sizeof key);
        if (ok) {
            json_t *msg = push_message_parse(plain, plain_len);
            free(plain);
            return msg;
        }
    }
    return NULL;
}

static int push_handler(h2o_req_t *req, void *arg)
{
    app_t *app = arg;
    const config_t *config = app->config;
    if (config->push_token == NULL) {
        reply_text(req, 403, "message push is not configured");
        return 0;
    }
    api_errno_t code = API_BAD_ARGUMENT;
    json_t *query = http_read_query(req, &code);
    if (query == NULL) {
        reply_text(req, 400, "bad query");
        return 0;
    }
    const char *timestamp = query_text(query, "timestamp");
    const char *parts[] = {config->push_token, timestamp, query_text(query, "nonce")};
    if (timestamp == NULL || !push_signature_ok(parts, 3, query_text(query, "signature"))) {
        log_warn("push: a request with a wrong signature was refused");
        reply_text(req, 403, "forbidden");
        json_decref(query);
        return 0;
    }
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        const char *echostr = query_text(query, "echostr"); /* URL verification: echostr as is */
        reply_text(req, 200, echostr != NULL ? echostr : "");
        json_decref(query);
        return 0;
    }
    long long ts = strtoll(timestamp, NULL, 10), now = (long long)time(NULL);
    if (ts < now - PUSH_MAX_SKEW_SECONDS || ts > now + PUSH_MAX_SKEW_SECONDS) {
        log_warn("push: a packet signed %lld s away from now was refused", ts - now);
        reply_text(req, 403, "stale");
        json_decref(query);
        return 0;
    }
    json_t *outer = push_message_parse(req->entity.base, req->entity.len);
    const char *encrypt_type = query_text(query, "encrypt_type");
    json_t *msg = NULL;
    if (outer != NULL && encrypt_type != NULL && strcmp(encrypt_type, "aes") == 0 && config->push_aes_key != NULL)
        msg = open_safe_mode(config, query, outer);
    else if (outer != NULL && config->push_aes_key == NULL)
        msg = json_incref(outer); /* plaintext mode: only when no key is configured */
    json_decref(outer);
    json_decref(query);
    if (msg == NULL) {
        log_warn("push: a packet that could not be verified or read was refused");
        reply_text(req, 403, "forbidden");
        return 0;
    }
    handle_message(req, app, msg);
    json_decref(msg);
    return 0;
}

static const http_route_t push_routes[] = {
    {"GET", "/wx/wechat/push", push_handler},
    {"POST", "/wx/wechat/push", push_handler},
};

const app_module_t push_module = {.name = "push", APP_MODULE_ROUTES_FIELDS(push_routes)};
