/* auth/profile — see profile.h. */
#include "auth/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/caller.h"
#include "common/log.h"
#include "content/content_check.h"
#include "http/fields.h"
#include "http/reply.h"
#include "http/request.h"
#include "storage/storage_api.h"

#define PROFILE_TEXT_MAX_CHARS 63
#define UPLOAD_PATH            "/wx/storage/fetch/"

bool profile_read(json_t *obj, profile_t *out, api_errno_t *err)
{
    const char *nickname, *avatar, *ignored;
    long gender = 0;
    bool has_gender;
    static const char *const texts[] = {"language", "city", "province", "country"};
    if (!fields_string(obj, "nickName", false, 0, PROFILE_NICKNAME_MAX_CHARS, &nickname, err) ||
        !fields_string(obj, "avatarUrl", false, 0, PROFILE_AVATAR_MAX_CHARS, &avatar, err) ||
        !fields_int(obj, "gender", false, 0, 2, &gender, &has_gender, err))
        return false;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (!fields_string(obj, texts[i], false, 0, PROFILE_TEXT_MAX_CHARS, &ignored, err))
            return false;
    out->present = true;
    snprintf(out->nickname, sizeof(out->nickname), "%s", nickname != NULL ? nickname : "");
    snprintf(out->avatar, sizeof(out->avatar), "%s", avatar != NULL ? avatar : "");
    out->gender = (int)gender;
    return true;
}

/*
 * An avatar may be an https URL, or a file uploaded here: its key, its path, or the URL the
 * upload answered (oa.storage.base-url or http://Host, then the path). Any other http URL is
 * refused, so an avatar cannot point at plain-text hosts that merely look like ours.
 * For an upload, *key gets its key (else ""), and *stored the full URL to keep, so that
 * clients always get a URL they can show.
 */
static bool avatar_resolve(h2o_req_t *req, const config_t *config, const char *avatar, char key[STORAGE_KEY_SIZE],
                           h2o_iovec_t *stored)
{
    size_t len = strlen(avatar), prefix = strlen(STORAGE_FETCH_PREFIX);
    const char *path = strstr(avatar, STORAGE_FETCH_PREFIX);
    h2o_iovec_t base = storage_url_base(req, config);
    key[0] = '\0';
    *stored = h2o_iovec_init(avatar, len);
    const char *name = NULL;
    if (storage_key_valid(avatar, len))
        name = avatar;
    else if (path != NULL && storage_key_valid(path + prefix, strlen(path + prefix)) &&
             (path == avatar || ((size_t)(path - avatar) == base.len && memcmp(avatar, base.base, base.len) == 0)))
        name = path + prefix;
    if (name != NULL) {
        snprintf(key, STORAGE_KEY_SIZE, "%s", name);
        *stored = h2o_concat(&req->pool, base, h2o_iovec_init(H2O_STRLIT(STORAGE_FETCH_PREFIX)),
                             h2o_iovec_init(name, strlen(name)));
        return stored->len <= PROFILE_AVATAR_MAX_CHARS;
    }
    if (strncmp(avatar, "https://", 8) != 0 || avatar[8] == '\0')
        return false;
    for (const char *p = avatar; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    return true;
}

typedef struct profile_job {
    db_job_t db; /* first */
    http_pending_t pending;
    app_t *app;
    h2o_multithread_receiver_t *loop; /* the request's */
    int64_t user_id;
    bool has_nickname, has_avatar;
    char nickname[STORE_NICKNAME_SIZE];
    char avatar[STORE_AVATAR_SIZE];
    int gender;                        /* -1 = unchanged */
    char upload_key[STORAGE_KEY_SIZE]; /* the avatar is this upload: it must exist */
    content_outcome_t *checked;        /* the nickname's content flags, NULL when none */
    int64_t now;
    store_rc rc;
    store_user_t user;
} profile_job_t;

static void run_profile(db_job_t *db, store_t *store)
{
    profile_job_t *job = (profile_job_t *)db;
    if (job->upload_key[0] != '\0' && !storage_exists(job->app->config, job->upload_key)) {
        job->rc = STORE_NOT_FOUND; /* a key that was never uploaded */
        return;
    }
    job->rc = store_user_update_profile(store, job->user_id, job->has_nickname ? job->nickname : NULL,
                                        job->has_avatar ? job->avatar : NULL, job->gender, job->now);
    if (job->rc == STORE_OK) {
        content_flags_store(store, job->checked, "/wx/auth/profile", job->user_id, job->user_id, job->now);
        job->rc = store_user_get(store, job->user_id, &job->user);
    }
    if (job->rc == STORE_ERROR)
        log_error("profile of user %lld not stored: %s", (long long)job->user_id, store_last_error(store));
}

static void on_profile(loop_msg_t *msg)
{
    profile_job_t *job = (profile_job_t *)msg;
    h2o_req_t *req = http_pending_take(&job->pending);
    if (job->rc == STORE_OK)
        session_cache_update_user(job->app->sessions, &job->user);
    if (req != NULL) {
        if (job->rc == STORE_NOT_FOUND) {
            http_reply_error(req, API_BAD_ARGUMENT_VALUE);
        } else if (job->rc != STORE_OK) {
            http_reply_error(req, API_SERIOUS);
        } else {
            json_t *data = json_object();
            json_object_set_new(data, "nickName", json_string(job->user.nickname));
            json_object_set_new(data, "avatar", json_string(job->user.avatar));
            json_object_set_new(data, "gender", json_integer(job->user.gender));
            http_reply_ok(req, data);
        }
    }
    free(job->checked);
    free(job);
}

const content_field_t profile_nickname_check[] = {{"nickname", "昵称", 1}, {NULL, NULL, 0}};

/* Loop: the nickname's check is back; a risky one is refused (815), else the update goes on. */
static void on_nickname_checked(void *ctx, const content_outcome_t *outcome)
{
    profile_job_t *job = ctx;
    if (content_refuse_risky(&job->pending, outcome)) {
        free(job);
        return;
    }
    job->checked = content_outcome_keep(outcome);
    db_pool_run(job->app->db, &job->db, run_profile, job->loop, on_profile);
}

static void update_profile(h2o_req_t *req, app_t *app, const auth_caller_t *caller)
{
    api_errno_t err = API_BAD_ARGUMENT;
    json_t *body = http_read_json(req, &err);
    const char *nickname = NULL, *avatar = NULL;
    long gender = -1;
    bool has_gender = false;
    profile_job_t *job = NULL;
    if (body == NULL || !fields_string(body, "nickname", false, 1, PROFILE_NICKNAME_MAX_CHARS, &nickname, &err) ||
        !fields_string(body, "avatar", false, 1, PROFILE_AVATAR_MAX_CHARS, &avatar, &err) ||
        !fields_int(body, "gender", false, 0, 2, &gender, &has_gender, &err))
        goto refuse;
    if (nickname == NULL && avatar == NULL && !has_gender) {
        err = API_BAD_ARGUMENT; /* nothing to change */
        goto refuse;
    }
    char upload_key[STORAGE_KEY_SIZE] = "";
    h2o_iovec_t stored = {NULL, 0};
    if (avatar != NULL && !avatar_resolve(req, app->config, avatar, upload_key, &stored)) {
        err = API_BAD_ARGUMENT_VALUE;
        goto refuse;
    }
    if ((job = calloc(1, sizeof(*job))) == NULL) {
        err = API_SERIOUS;
        goto refuse;
    }
    job->app = app;
    job->user_id = caller->user.id;
    job->has_nickname = nickname != NULL;
    job->has_avatar = avatar != NULL;
    snprintf(job->nickname, sizeof(job->nickname), "%s", nickname != NULL ? nickname : "");
    snprintf(job->avatar, sizeof(job->avatar), "%.*s", (int)stored.len, stored.base != NULL ? stored.base : "");
    snprintf(job->upload_key, sizeof(job->upload_key), "%s", upload_key);
    job->gender = has_gender ? (int)gender : -1;
    job->now = (int64_t)time(NULL);
    http_pending_attach(&job->pending, req);
    job->loop = http_receiver(req);
    bool checking = nickname != NULL && app->config->content_check && caller->user.openid[0] != '\0' &&
                    content_check_start(app, job->loop, body, profile_nickname_check, caller->user.openid,
                                        on_nickname_checked, job);
    json_decref(body); /* the check keeps copies of its texts */
    if (!checking)
        db_pool_run(app->db, &job->db, run_profile, job->loop, on_profile);
    return;

refuse:
    json_decref(body);
    http_reply_error(req, err);
}

int auth_profile(h2o_req_t *req, void *app)
{
    return auth_require(req, app, update_profile);
}
