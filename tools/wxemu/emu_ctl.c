/*
 * emu_ctl — wxemu's control API, the side of the test that plays the phone and the network:
 *
 *   POST   /__emu/code       {"appid","user"}        -> {"code","openid","unionid"}  what wx.login() gives
 *   POST   /__emu/phone_code {"appid","user","phone"} -> {"code","openid"}   what getPhoneNumber gives
 *   POST   /__emu/encrypted  {"appid","user","kind"}  -> {"encryptedData","iv","rawData","signature"}
 *   POST   /__emu/expire     {"code"}                 -> {"expired":true}              skip the 5 minutes
 *   POST   /__emu/tokens     {"appid","action"}       -> {"invalidated"|"expired":N}  kill access_tokens
 *   POST   /__emu/wxacode    {"appid",["limit_per_minute"],["pages"]} -> the app's getwxacodeunlimit settings
 *   POST   /__emu/subscribe/templates {"appid","templates"}      -> the app's subscription templates, replaced
 *   POST   /__emu/subscribe/accept {"appid","user"|"openid","template_id",["count"]}
 *                                                 -> {"openid","template_id","quota"}   the user taps 允许
 *   POST   /__emu/subscribe/reject {"appid","user"|"openid","template_id"}
 *                                                 -> {"openid","template_id","quota":0}   拒收 in 服务通知
 *   GET    /__emu/subscribe/quota?appid=&openid=|user=&template_id=    -> {"quota"}
 *   GET    /__emu/subscribe/sent[?appid=]         -> {"list":[...]}   messages sent, oldest first
 *   DELETE /__emu/subscribe/sent                  -> {"cleared":N}
 *   POST   /__emu/seccheck {"appid",["risky"],["review"],["label"],["visit_window_seconds"]} -> the settings
 *   POST   /__emu/visit    {"appid","user"|"openid",["stale"]}     -> {"openid","visited"}
 *   POST   /__emu/push     {"appid",["url"],["token"],["encoding_aes_key"],["delay_ms"]} -> the push settings
 *   GET    /__emu/push/log[?appid=]               -> {"pending":N,"list":[...]}   pushes attempted
 *   DELETE /__emu/push/log                        -> {"cleared":N}
 *   GET    /__emu/media[?appid=]                  -> {"list":[...]}   media checks accepted, oldest first
 *   DELETE /__emu/media                           -> {"cleared":N}
 *   POST   /__emu/push/event {"appid","user"|"openid","event",["revoke_info"]} -> {"queued":true}
 *                                                 user_authorization_revoke / _cancellation pushed
 *   POST   /__emu/faults     {"path",...[,"code"]}    -> {"queued":N}   next calls (with that code) fail
 *   DELETE /__emu/faults                              -> {"cleared":N}
 *   GET    /__emu/stats                               -> {path:N,...}                  calls per endpoint
 *   DELETE /__emu/stats                               -> {"reset":true}
 *   GET    /__emu/state                  -> {"codes","sessions","faults","tokens","quotas","sent"}
 *
 * Each endpoint is a row in emu_ctl_routes[] and a function from the JSON body to (status, answer).
 * Bodies are checked strictly (json_unpack with '!'), so a misspelt field is a 400, not a silent default.
 *
 * With a push URL (POST /__emu/push) the phone's side is also pushed as WeChat pushes it: each tap of
 * accept is a subscribe_msg_popup_event (so count is at most CTL_POPUP_PUSHES_MAX then), a reject a
 * subscribe_msg_change_event; /__emu/push/event pushes the authorization events (emu_push.h).
 *
 * /__emu/encrypted plays the phone's legacy APIs (wx.getUserInfo, the old getPhoneNumber): it encrypts
 * with the user's current session_key exactly as WeChat does (AES-128-CBC, PKCS#7, key = the decoded
 * session_key, a random iv), so a stale key on the server side fails as it would in production.
 */
#include "emu_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "emu_push.h"

#define CTL_NICKNAME_MAX     256
#define CTL_AVATAR_MAX       1024
#define CTL_DEFAULT_AVATAR   "https://thirdwx.qlogo.cn/mmopen/vi_32/wxemu/132"
#define CTL_POPUP_PUSHES_MAX 100 /* taps of one accept when each is pushed */
#define CTL_REVOKE_INFO_MAX  64  /* bytes of a revoke_info */

static int ctl_error(json_t **answer, int status, const char *fmt, const char *detail)
{
    char message[256];
    snprintf(message, sizeof(message), fmt, detail);
    *answer = json_pack("{s:s}", "error", message);
    return status;
}

/* A body string as a slice; NULL (an optional member left out) gives an absent slice. */
static emu_slice_t slice_of(const char *s)
{
    return emu_slice_cstr(s);
}

/* POST /__emu/code {"appid":"...","user":"alice"} */
static int ctl_code(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid, *user;
    json_error_t err;
    emu_login_t login;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s:s!}", "appid", &appid, "user", &user) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    switch (emu_state_issue_code(srv->state, slice_of(appid), slice_of(user), clock_monotonic_ms(), &login)) {
    case EMU_OK:
        *answer = json_pack("{s:s,s:s,s:s}", "code", login.code, "openid", login.openid, "unionid", login.unionid);
        return 200;
    case EMU_ENOENT:
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    case EMU_EINVAL:
        return ctl_error(answer, 400, "%s", "user must be 1 to 64 bytes");
    case EMU_EFULL:
        return ctl_error(answer, 503, "%s", "too many live codes");
    default:
        return ctl_error(answer, 500, "%s", "random source failed");
    }
}

/* POST /__emu/phone_code {"appid","user","phone","country_code"?,"country_code_as_number"?,
 * "watermark_appid"?} -> {"code","openid"} */
static int ctl_phone_code(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid, *user, *phone, *country = NULL, *watermark = NULL;
    int as_number = 0;
    json_error_t err;
    char code[EMU_CODE_LEN + 1], openid[EMU_OPENID_LEN + 1];

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s:s,s:s,s?s,s?b,s?s!}", "appid", &appid, "user", &user, "phone",
                       &phone, "country_code", &country, "country_code_as_number", &as_number, "watermark_appid",
                       &watermark) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    emu_phone_spec_t spec = {slice_of(phone), slice_of(country), as_number != 0, slice_of(watermark)};
    switch (
        emu_state_issue_phone_code(srv->state, slice_of(appid), slice_of(user), &spec, clock_monotonic_ms(), code)) {
    case EMU_OK:
        emu_openid(slice_of(appid), slice_of(user), openid);
        *answer = json_pack("{s:s,s:s}", "code", code, "openid", openid);
        return 200;
    case EMU_ENOENT:
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    case EMU_EINVAL:
        return ctl_error(answer, 400, "%s",
                         "user must be 1 to 64 bytes, phone 1 to 20 digits, country_code 1 to 4 digits, "
                         "watermark_appid 1 to 64 bytes");
    case EMU_EFULL:
        return ctl_error(answer, 503, "%s", "too many live codes");
    default:
        return ctl_error(answer, 500, "%s", "random source failed");
    }
}

/* The fields of POST /__emu/encrypted. */
typedef struct ctl_encrypted {
    const char *appid, *user, *kind;
    const char *phone, *country_code, *nickname, *avatar, *watermark;
    json_int_t gender;
    bool has_gender;
} ctl_encrypted_t;

/* Reads and checks the body; NULL or the reason it is refused (in why). */
static const char *parse_encrypted(const json_t *body, ctl_encrypted_t *e, char *why, size_t why_size)
{
    json_t *gender = NULL;
    json_error_t err;

    memset(e, 0, sizeof(*e));
    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s:s,s:s,s?s,s?s,s?s,s?s,s?o,s?s!}", "appid", &e->appid, "user",
                       &e->user, "kind", &e->kind, "phone", &e->phone, "country_code", &e->country_code, "nickName",
                       &e->nickname, "avatarUrl", &e->avatar, "gender", &gender, "watermark_appid",
                       &e->watermark) != 0) {
        snprintf(why, why_size, "bad body: %s", err.text);
        return why;
    }
    bool phone_kind = strcmp(e->kind, "phone") == 0;
    if (!phone_kind && strcmp(e->kind, "userinfo") != 0)
        return "kind must be \"phone\" or \"userinfo\"";
    if (phone_kind && (e->nickname != NULL || e->avatar != NULL || gender != NULL))
        return "nickName, avatarUrl and gender go with kind \"userinfo\"";
    if (!phone_kind && (e->phone != NULL || e->country_code != NULL))
        return "phone and country_code go with kind \"phone\"";
    if (gender != NULL &&
        (!json_is_integer(gender) || json_integer_value(gender) < 0 || json_integer_value(gender) > 2))
        return "gender must be 0, 1 or 2";
    e->has_gender = gender != NULL;
    e->gender = gender != NULL ? json_integer_value(gender) : 0;
    if ((e->nickname != NULL && strlen(e->nickname) > CTL_NICKNAME_MAX) ||
        (e->avatar != NULL && strlen(e->avatar) > CTL_AVATAR_MAX))
        return "nickName is at most 256 bytes, avatarUrl at most 1024";
    return NULL;
}

/* The userinfo profile as wx.getUserInfo's rawData gives it (no openId, unionId or watermark). */
static json_t *userinfo_raw(const ctl_encrypted_t *e)
{
    return json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s}", "nickName", e->nickname != NULL ? e->nickname : e->user, "gender",
                     e->gender, "language", "zh_CN", "city", "", "province", "", "country", "", "avatarUrl",
                     e->avatar != NULL ? e->avatar : CTL_DEFAULT_AVATAR);
}

static json_t *watermark_json(const char *appid)
{
    return json_pack("{s:I,s:s}", "timestamp", (json_int_t)time(NULL), "appid", appid);
}

/* rawData of the encrypted data: for userinfo the profile (as wx.getUserInfo gives it), for phone the
 * number without its watermark (WeChat gives no rawData there; wxemu does, so both kinds look alike). */
static json_t *encrypted_raw(const ctl_encrypted_t *e, const json_t *plain)
{
    if (strcmp(e->kind, "userinfo") == 0)
        return userinfo_raw(e);
    json_t *raw = json_deep_copy(plain);
    if (raw != NULL)
        json_object_del(raw, "watermark");
    return raw;
}

/* The plaintext of the encrypted data: the userinfo or phone JSON object; NULL with *why on a bad field. */
static json_t *encrypted_plain(const ctl_encrypted_t *e, const char **why)
{
    const char *wm = e->watermark != NULL ? e->watermark : e->appid;
    char openid[EMU_OPENID_LEN + 1], unionid[EMU_OPENID_LEN + 1];

    if (strcmp(e->kind, "phone") == 0) {
        emu_phone_spec_t spec = {emu_slice_cstr(e->phone != NULL ? e->phone : "13800138000"), slice_of(e->country_code),
                                 false, emu_slice_cstr(wm)};
        emu_phone_info_t info;
        if (emu_phone_info_make(slice_of(e->appid), &spec, &info) != EMU_OK) {
            *why = "phone must be 1 to 20 digits, country_code 1 to 4 digits, watermark_appid 1 to 64 bytes";
            return NULL;
        }
        return json_pack("{s:s,s:s,s:s,s:o}", "phoneNumber", info.phone_number, "purePhoneNumber",
                         info.pure_phone_number, "countryCode", info.country_code, "watermark", watermark_json(wm));
    }
    json_t *raw = userinfo_raw(e), *plain = json_object();
    emu_openid(slice_of(e->appid), slice_of(e->user), openid);
    emu_unionid(slice_of(e->user), unionid);
    json_object_set_new(plain, "openId", json_string(openid));
    json_object_update(plain, raw);
    json_object_set_new(plain, "unionId", json_string(unionid));
    json_object_set_new(plain, "watermark", watermark_json(wm));
    json_decref(raw);
    return plain;
}

/* Encrypts text with the session_key (base64 text) into {"encryptedData","iv"}; NULL on failure. */
static json_t *encrypt_json(const char *session_key, const char *text)
{
    uint8_t key[16], iv[16];
    size_t len = strlen(text);
    uint8_t *cipher = malloc(len + 16);
    char *b64 = malloc(CRYPTO_B64_SIZE(len + 16));
    char iv_b64[CRYPTO_B64_SIZE(16)];
    json_t *out = NULL;
    long n;

    if (cipher == NULL || b64 == NULL || crypto_b64_decode(session_key, strlen(session_key), key, sizeof(key)) != 16 ||
        !crypto_random(iv, sizeof(iv)))
        goto done;
    if ((n = crypto_aes128cbc_encrypt(key, iv, (const uint8_t *)text, len, cipher)) < 0)
        goto done;
    crypto_b64_encode(cipher, (size_t)n, b64);
    crypto_b64_encode(iv, sizeof(iv), iv_b64);
    out = json_pack("{s:s,s:s}", "encryptedData", b64, "iv", iv_b64);
done:
    explicit_bzero(key, sizeof(key));
    free(cipher);
    free(b64);
    return out;
}

/* Adds "rawData" and "signature" = hex(SHA-1(rawData + session_key)) to answer. */
static bool add_raw_signature(json_t *answer, const char *raw, const char *session_key)
{
    size_t raw_len = strlen(raw), key_len = strlen(session_key);
    char *signed_text = malloc(raw_len + key_len);
    uint8_t digest[20];
    char hex[41];

    if (signed_text == NULL)
        return false;
    memcpy(signed_text, raw, raw_len);
    memcpy(signed_text + raw_len, session_key, key_len);
    crypto_sha1(signed_text, raw_len + key_len, digest);
    explicit_bzero(signed_text, raw_len + key_len);
    free(signed_text);
    crypto_hex(digest, sizeof(digest), hex);
    return json_object_set_new(answer, "rawData", json_string(raw)) == 0 &&
           json_object_set_new(answer, "signature", json_string(hex)) == 0;
}

/* POST /__emu/encrypted {"appid","user","kind":"phone"|"userinfo",...} -> {"encryptedData","iv","rawData",
 * "signature"}: made with the user's current session_key for that app. */
static int ctl_encrypted(emu_server_t *srv, const json_t *body, json_t **answer)
{
    ctl_encrypted_t e;
    char why[256], session_key[EMU_SESSION_KEY_LEN + 1];
    const char *refused = parse_encrypted(body, &e, why, sizeof(why));
    char *plain_text = NULL, *raw_text = NULL;
    json_t *plain = NULL, *raw = NULL;
    int status = 500;

    *answer = NULL;
    if (refused != NULL)
        return ctl_error(answer, 400, "%s", refused);
    if (!emu_state_has_app(srv->state, slice_of(e.appid)))
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    if (!emu_state_session_key(srv->state, slice_of(e.appid), slice_of(e.user), session_key))
        return ctl_error(
            answer, 400, "%s",
            "the user has no session_key in this app yet: issue them a wx.login() code first (POST /__emu/code)");
    if ((plain = encrypted_plain(&e, &refused)) == NULL) {
        status =
            refused != NULL ? ctl_error(answer, 400, "%s", refused) : ctl_error(answer, 500, "%s", "out of memory");
        goto done;
    }
    if ((plain_text = json_dumps(plain, JSON_COMPACT)) == NULL ||
        (*answer = encrypt_json(session_key, plain_text)) == NULL)
        goto fail;
    if ((raw = encrypted_raw(&e, plain)) == NULL || (raw_text = json_dumps(raw, JSON_COMPACT)) == NULL ||
        !add_raw_signature(*answer, raw_text, session_key))
        goto fail;
    status = 200;
    goto done;
fail:
    json_decref(*answer);
    status = ctl_error(answer, 500, "%s", "out of memory or random source failed");
done:
    explicit_bzero(session_key, sizeof(session_key));
    free(plain_text);
    free(raw_text);
    json_decref(plain);
    json_decref(raw);
    return status;
}

/* POST /__emu/tokens {"appid","action":"invalidate"|"expire"} -> {"invalidated":N} | {"expired":N} */
static int ctl_tokens(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid, *action;
    json_error_t err;
    size_t n = 0;
    emu_status_t st;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s:s!}", "appid", &appid, "action", &action) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if (strcmp(action, "invalidate") == 0)
        st = emu_state_invalidate_tokens(srv->state, slice_of(appid), &n);
    else if (strcmp(action, "expire") == 0)
        st = emu_state_expire_tokens(srv->state, slice_of(appid), clock_monotonic_ms(), &n);
    else
        return ctl_error(answer, 400, "%s", "action must be \"invalidate\" or \"expire\"");
    if (st != EMU_OK)
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    *answer = json_pack("{s:I}", action[0] == 'i' ? "invalidated" : "expired", (json_int_t)n);
    return 200;
}

/* POST /__emu/expire {"code":"..."} */
static int ctl_expire(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *code;
    json_error_t err;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s!}", "code", &code) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if (emu_state_expire_code(srv->state, slice_of(code), clock_monotonic_ms()) != EMU_OK)
        return ctl_error(answer, 404, "%s", "no such code (never issued, or purged after expiry)");
    *answer = json_pack("{s:b}", "expired", 1);
    return 200;
}

/* The answer of /__emu/wxacode: the app's settings now. */
static json_t *wxacode_json(emu_server_t *srv, const char *appid)
{
    emu_wxacode_info_t info;
    if (emu_state_wxacode_info(srv->state, slice_of(appid), clock_monotonic_ms(), &info) != EMU_OK)
        return NULL;
    json_t *pages = info.published ? json_array() : json_null();
    for (size_t i = 0; info.published && i < info.npages; ++i)
        json_array_append_new(pages, json_string(info.pages[i]));
    return json_pack("{s:s,s:I,s:I,s:o,s:s}", "appid", appid, "limit_per_minute", (json_int_t)info.limit_per_minute,
                     "calls_this_minute", (json_int_t)info.calls_this_window, "pages", pages, "home",
                     emu_state_wxacode_home(srv->state, slice_of(appid)));
}

/* POST /__emu/wxacode {"appid","limit_per_minute"?:N,"pages"?:[...]|null} -> {"appid","limit_per_minute",
 * "calls_this_minute","pages","home"}: sets what is given (a limit also starts a new window), answers
 * the settings. pages null: no published list (every well-formed page passes check_path). */
static int ctl_wxacode(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid;
    json_int_t limit = 0;
    json_t *pages = NULL;
    json_error_t err;
    emu_slice_t list[EMU_WXACODE_PAGES_MAX];
    size_t npages = 0;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s?I,s?o!}", "appid", &appid, "limit_per_minute", &limit, "pages",
                       &pages) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if (!emu_state_has_app(srv->state, slice_of(appid)))
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    if (json_object_get(body, "limit_per_minute") != NULL && (limit < 1 || limit > EMU_WXACODE_LIMIT_MAX))
        return ctl_error(answer, 400, "%s", "limit_per_minute must be 1..1000000");
    if (pages != NULL && !json_is_null(pages)) {
        size_t i;
        json_t *page;
        if (!json_is_array(pages) || json_array_size(pages) > EMU_WXACODE_PAGES_MAX)
            return ctl_error(answer, 400, "%s", "pages must be null or an array of at most 32 page paths");
        json_array_foreach(pages, i, page)
        {
            if (!json_is_string(page))
                return ctl_error(answer, 400, "%s", "pages must hold strings");
            list[npages++] = (emu_slice_t){json_string_value(page), json_string_length(page)};
        }
    }
    if (pages != NULL &&
        emu_state_wxacode_set_pages(srv->state, slice_of(appid), !json_is_null(pages), list, npages) != EMU_OK)
        return ctl_error(answer, 400, "%s",
                         "a page is 1..128 bytes, without a leading '/', a '?' or a NUL (e.g. pages/checkin/index)");
    if (json_object_get(body, "limit_per_minute") != NULL)
        emu_state_wxacode_set_limit(srv->state, slice_of(appid), (uint32_t)limit);
    *answer = wxacode_json(srv, appid);
    return *answer != NULL ? 200 : ctl_error(answer, 500, "%s", "out of memory");
}

/* The openid of a control body's "user" or "openid" (exactly one of them): into openid; NULL or the
 * reason it is refused. */
static const char *user_openid(const char *appid, const char *user, const char *openid_in,
                               char openid[EMU_OPENID_LEN + 1])
{
    if ((user == NULL) == (openid_in == NULL))
        return "give exactly one of user and openid";
    if (user != NULL) {
        if (user[0] == '\0' || strlen(user) > EMU_USER_MAX)
            return "user must be 1 to 64 bytes";
        emu_openid(slice_of(appid), slice_of(user), openid);
        return NULL;
    }
    if (strlen(openid_in) != EMU_OPENID_LEN)
        return "openid is not one wxemu issued in this app (POST /__emu/code issues one)";
    memcpy(openid, openid_in, EMU_OPENID_LEN + 1);
    return NULL;
}

/* The 400 message of a state status about an (app, user, template) target. */
static int target_error(json_t **answer, emu_status_t status)
{
    switch (status) {
    case EMU_ENOENT:
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    case EMU_ENOUSER:
        return ctl_error(
            answer, 400, "%s",
            "the user has no openid in this app yet: issue them a wx.login() code first (POST /__emu/code)");
    case EMU_ENOTPL:
        return ctl_error(answer, 400, "%s",
                         "template_id is not a template of this app (POST /__emu/subscribe/templates)");
    case EMU_EINVAL:
        return ctl_error(answer, 400, "%s", "count must be 1..1000000");
    case EMU_EFULL:
        return ctl_error(answer, 503, "%s", "too many quotas");
    default:
        return ctl_error(answer, 500, "%s", "unexpected state error");
    }
}

/* user_openid of a configured app: 0, or the status of the refusal (its answer in *answer). */
static int who_openid(emu_server_t *srv, const char *appid, const char *user, const char *openid_in,
                      char openid[EMU_OPENID_LEN + 1], json_t **answer)
{
    const char *why;
    if (!emu_state_has_app(srv->state, slice_of(appid)))
        return target_error(answer, EMU_ENOENT);
    if ((why = user_openid(appid, user, openid_in, openid)) != NULL)
        return ctl_error(answer, 400, "%s", why);
    return 0;
}

/* The app's templates: [{"id","keywords":[...]}]. */
static json_t *templates_json(emu_server_t *srv, const char *appid)
{
    emu_sub_template_info_t info[EMU_SUB_TEMPLATES_MAX];
    size_t n = 0;
    json_t *list = json_array();
    if (emu_state_sub_templates(srv->state, slice_of(appid), info, &n) != EMU_OK)
        n = 0;
    for (size_t i = 0; i < n; ++i) {
        json_t *keywords = json_array();
        for (size_t k = 0; k < info[i].nkeywords; ++k)
            json_array_append_new(keywords, json_string(info[i].keywords[k]));
        json_array_append_new(list, json_pack("{s:s,s:o}", "id", info[i].id, "keywords", keywords));
    }
    return list;
}

/* POST /__emu/subscribe/templates {"appid","templates":[{"id","keywords":["thing1","time2",...]}]} ->
 * {"appid","templates"}: replaces the app's subscription templates. */
static int ctl_sub_templates(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid;
    json_t *list, *item;
    json_error_t err;
    size_t i, n = 0;
    emu_slice_t keywords[EMU_SUB_TEMPLATES_MAX][EMU_SUB_KEYWORDS_MAX];
    emu_sub_template_t templates[EMU_SUB_TEMPLATES_MAX];

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s:o!}", "appid", &appid, "templates", &list) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if (!emu_state_has_app(srv->state, slice_of(appid)))
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    if (!json_is_array(list) || json_array_size(list) > EMU_SUB_TEMPLATES_MAX)
        return ctl_error(answer, 400, "%s", "templates must be an array of at most 32 templates");
    json_array_foreach(list, i, item)
    {
        const char *id;
        json_t *kws, *kw;
        size_t k;
        if (json_unpack_ex(item, &err, 0, "{s:s,s:o!}", "id", &id, "keywords", &kws) != 0)
            return ctl_error(answer, 400, "bad template: %s", err.text);
        if (!json_is_array(kws) || json_array_size(kws) == 0 || json_array_size(kws) > EMU_SUB_KEYWORDS_MAX)
            return ctl_error(answer, 400, "%s", "keywords must be an array of 1 to 20 keywords");
        json_array_foreach(kws, k, kw)
        {
            if (!json_is_string(kw))
                return ctl_error(answer, 400, "%s", "keywords must hold strings");
            keywords[n][k] = (emu_slice_t){json_string_value(kw), json_string_length(kw)};
        }
        templates[n] = (emu_sub_template_t){slice_of(id), keywords[n], json_array_size(kws)};
        ++n;
    }
    if (emu_state_sub_set_templates(srv->state, slice_of(appid), templates, n) != EMU_OK)
        return ctl_error(answer, 400, "%s",
                         "a template id is 1..64 printable ASCII bytes, ids are distinct, and each keyword is a "
                         "type (thing, number, letter, symbol, character_string, time, date, amount, phone_number, "
                         "car_number, name, phrase, enum) and 1..3 digits, distinct within its template");
    *answer = json_pack("{s:s,s:o}", "appid", appid, "templates", templates_json(srv, appid));
    return *answer != NULL ? 200 : ctl_error(answer, 500, "%s", "out of memory");
}

/* The target of a subscription control body {"appid","user"|"openid","template_id"} (and "count" when
 * count is not NULL): 0, or the status of the refusal (its answer in *answer). */
static int sub_target(emu_server_t *srv, const json_t *body, const char **appid, char openid[EMU_OPENID_LEN + 1],
                      const char **template_id, json_int_t *count, json_t **answer)
{
    const char *user = NULL, *openid_in = NULL;
    json_error_t err;

    if (json_unpack_ex((json_t *)body, &err, 0, count != NULL ? "{s:s,s?s,s?s,s:s,s?I!}" : "{s:s,s?s,s?s,s:s!}",
                       "appid", appid, "user", &user, "openid", &openid_in, "template_id", template_id, "count",
                       count) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    return who_openid(srv, *appid, user, openid_in, openid, answer);
}

/* Pushes the subscription event of openid's answer for template_id: a tap in the popup (accept) or 拒收
 * in 服务通知 (reject), "List":[{"TemplateId","SubscribeStatusString"(,"PopupScene":"0")}]. */
static bool push_subscribe_status(emu_server_t *srv, const char *appid, const char *openid, const char *template_id,
                                  bool accept)
{
    json_t *item =
        json_pack("{s:s,s:s}", "TemplateId", template_id, "SubscribeStatusString", accept ? "accept" : "reject");
    if (accept)
        json_object_set_new(item, "PopupScene", json_string("0")); /* inside a page of the mini program */
    return emu_push_event(srv, appid, slice_of(openid),
                          accept ? "subscribe_msg_popup_event" : "subscribe_msg_change_event", NULL,
                          json_pack("{s:[o]}", "List", item));
}

/* POST /__emu/subscribe/accept {"appid","user"|"openid","template_id","count"?} -> {"openid",
 * "template_id","quota"}: the user taps 允许 count times (default 1); each tap is pushed when the app has
 * a push URL. */
static int ctl_sub_accept(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid, *template_id;
    json_int_t count = 1;
    char openid[EMU_OPENID_LEN + 1];
    uint64_t quota = 0;
    int refused = sub_target(srv, body, &appid, openid, &template_id, &count, answer);

    if (refused != 0)
        return refused;
    if (count < 1 || count > 1000000)
        return target_error(answer, EMU_EINVAL);
    bool push = emu_push_has_url(srv, appid);
    if (push && count > CTL_POPUP_PUSHES_MAX)
        return ctl_error(answer, 400, "%s", "count must be 1..100 when the app has a push URL (each tap is pushed)");
    emu_status_t status = emu_state_sub_accept(srv->state, slice_of(appid), slice_of(openid), slice_of(template_id),
                                               (uint32_t)count, &quota);
    if (status != EMU_OK)
        return target_error(answer, status);
    for (json_int_t i = 0; push && i < count; ++i)
        if (!push_subscribe_status(srv, appid, openid, template_id, true))
            return ctl_error(answer, 500, "%s", "out of memory");
    *answer = json_pack("{s:s,s:s,s:I}", "openid", openid, "template_id", template_id, "quota", (json_int_t)quota);
    return 200;
}

/* POST /__emu/subscribe/reject {"appid","user"|"openid","template_id"} -> {"openid","template_id",
 * "quota":0}: the user sets 拒收 for the template; pushed when the app has a push URL. */
static int ctl_sub_reject(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid, *template_id;
    char openid[EMU_OPENID_LEN + 1];
    int refused = sub_target(srv, body, &appid, openid, &template_id, NULL, answer);

    if (refused != 0)
        return refused;
    emu_status_t status = emu_state_sub_reject(srv->state, slice_of(appid), slice_of(openid), slice_of(template_id));
    if (status != EMU_OK)
        return target_error(answer, status);
    if (emu_push_has_url(srv, appid) && !push_subscribe_status(srv, appid, openid, template_id, false))
        return ctl_error(answer, 500, "%s", "out of memory");
    *answer = json_pack("{s:s,s:s,s:i}", "openid", openid, "template_id", template_id, "quota", 0);
    return 200;
}

/* A query parameter as a NUL-terminated string, NULL when absent. */
static const char *query_text(const emu_query_t *query, const char *name)
{
    emu_slice_t v = emu_query_get(query, name);
    return v.base != NULL && strlen(v.base) == v.len ? v.base : NULL;
}

/* GET /__emu/subscribe/quota?appid=&openid=|user=&template_id= -> {"quota"} */
static int ctl_sub_quota(emu_server_t *srv, const emu_query_t *query, json_t **answer)
{
    const char *appid = query_text(query, "appid"), *template_id = query_text(query, "template_id");
    char openid[EMU_OPENID_LEN + 1];
    uint64_t quota = 0;
    int refused;

    if (appid == NULL || template_id == NULL)
        return ctl_error(answer, 400, "%s", "query: appid, template_id and one of openid and user");
    if ((refused = who_openid(srv, appid, query_text(query, "user"), query_text(query, "openid"), openid, answer)) != 0)
        return refused;
    emu_status_t status =
        emu_state_sub_quota(srv->state, slice_of(appid), slice_of(openid), slice_of(template_id), &quota);
    if (status != EMU_OK)
        return target_error(answer, status);
    *answer = json_pack("{s:I}", "quota", (json_int_t)quota);
    return 200;
}

/* A string, or null for NULL. */
static json_t *string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* GET /__emu/subscribe/sent[?appid=] -> {"list":[{"msgid","appid","touser","template_id","page","data",
 * "miniprogram_state","lang","time"}]}: the messages sent (of that app), oldest first. */
static int ctl_sub_sent(emu_server_t *srv, const emu_query_t *query, json_t **answer)
{
    const char *appid = query_text(query, "appid");
    emu_sub_sent_t m;
    json_t *list;

    if (appid != NULL && !emu_state_has_app(srv->state, slice_of(appid)))
        return target_error(answer, EMU_ENOENT);
    list = json_array();
    for (size_t i = 0; emu_state_sub_sent_at(srv->state, i, &m); ++i) {
        if (appid != NULL && strcmp(appid, m.appid) != 0)
            continue;
        json_t *data = json_loads(m.data_json, 0, NULL);
        json_array_append_new(list, json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:I}", "msgid", (json_int_t)m.msgid,
                                              "appid", m.appid, "touser", m.touser, "template_id", m.template_id,
                                              "page", string_or_null(m.page), "data", data != NULL ? data : json_null(),
                                              "miniprogram_state", string_or_null(m.miniprogram_state), "lang",
                                              string_or_null(m.lang), "time", (json_int_t)m.time_s));
    }
    *answer = json_pack("{s:o}", "list", list);
    return *answer != NULL ? 200 : ctl_error(answer, 500, "%s", "out of memory");
}

/* DELETE /__emu/subscribe/sent -> {"cleared":N} */
static int ctl_sub_sent_clear(emu_server_t *srv, const json_t *body, json_t **answer)
{
    *answer = json_pack("{s:I}", "cleared", (json_int_t)emu_state_sub_clear_sent(srv->state));
    return 200;
}

/* Reads an array of at most EMU_SEC_WORDS_MAX strings into words; false when it is not one. */
static bool word_list(const json_t *list, emu_slice_t words[EMU_SEC_WORDS_MAX], size_t *n)
{
    size_t i;
    json_t *w;
    *n = 0;
    if (!json_is_array(list) || json_array_size(list) > EMU_SEC_WORDS_MAX)
        return false;
    json_array_foreach((json_t *)list, i, w)
    {
        if (!json_is_string(w))
            return false;
        words[(*n)++] = (emu_slice_t){json_string_value(w), json_string_length(w)};
    }
    return true;
}

static json_t *strings_json(const char *const *s, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; ++i)
        json_array_append_new(list, json_string(s[i]));
    return list;
}

/* POST /__emu/seccheck {"appid","risky"?:[...],"review"?:[...],"label"?,"visit_window_seconds"?} ->
 * {"appid","risky","review","label","visit_window_seconds"}: sets what is given, answers the settings. */
static int ctl_seccheck(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid;
    json_t *risky = NULL, *review = NULL;
    json_int_t label = 0, window_s = 0;
    json_error_t err;
    emu_slice_t risky_words[EMU_SEC_WORDS_MAX], review_words[EMU_SEC_WORDS_MAX];
    size_t nrisky = 0, nreview = 0;
    emu_sec_info_t info;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s?o,s?o,s?I,s?I!}", "appid", &appid, "risky", &risky, "review",
                       &review, "label", &label, "visit_window_seconds", &window_s) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if (!emu_state_has_app(srv->state, slice_of(appid)))
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    if ((risky != NULL && !word_list(risky, risky_words, &nrisky)) ||
        (review != NULL && !word_list(review, review_words, &nreview)))
        return ctl_error(answer, 400, "%s", "risky and review must be arrays of at most 32 strings");
    if (json_object_get(body, "label") != NULL && (label < 1 || label > 999999))
        return ctl_error(answer, 400, "%s", "label must be 1..999999");
    if (json_object_get(body, "visit_window_seconds") != NULL && (window_s < 1 || window_s > EMU_VISIT_WINDOW_MAX))
        return ctl_error(answer, 400, "%s", "visit_window_seconds must be 1..2592000");
    if (emu_state_sec_set(srv->state, slice_of(appid), risky != NULL ? risky_words : NULL, nrisky,
                          review != NULL ? review_words : NULL, nreview, (int)label,
                          (int64_t)window_s * 1000) != EMU_OK)
        return ctl_error(answer, 400, "%s", "a word is 1..64 bytes");
    emu_state_sec_info(srv->state, slice_of(appid), &info);
    *answer = json_pack("{s:s,s:o,s:o,s:i,s:I}", "appid", appid, "risky", strings_json(info.risky, info.nrisky),
                        "review", strings_json(info.review, info.nreview), "label", info.label, "visit_window_seconds",
                        (json_int_t)(info.visit_window_ms / 1000));
    return *answer != NULL ? 200 : ctl_error(answer, 500, "%s", "out of memory");
}

/* POST /__emu/visit {"appid","user"|"openid","stale"?} -> {"openid","visited"}: the user opens the mini
 * program now (what a wx.login() code also does), or (stale true) has not for longer than any window. */
static int ctl_visit(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid, *user = NULL, *openid_in = NULL;
    int stale = 0, refused;
    json_error_t err;
    char openid[EMU_OPENID_LEN + 1];

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s?s,s?s,s?b!}", "appid", &appid, "user", &user, "openid",
                       &openid_in, "stale", &stale) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if ((refused = who_openid(srv, appid, user, openid_in, openid, answer)) != 0)
        return refused;
    emu_status_t status =
        emu_state_visit(srv->state, slice_of(appid), slice_of(openid), stale != 0, clock_monotonic_ms());
    if (status != EMU_OK)
        return target_error(answer, status);
    *answer = json_pack("{s:s,s:b}", "openid", openid, "visited", stale == 0);
    return 200;
}

/* The answer of /__emu/push: the app's push settings, without the Token and the key. */
static json_t *push_json(emu_server_t *srv, const char *appid)
{
    emu_push_config_t config;
    if (emu_state_push_config(srv->state, slice_of(appid), &config) != EMU_OK)
        return NULL;
    json_t *answer = json_pack("{s:s,s:o,s:s,s:I}", "appid", appid, "url",
                               config.configured ? json_string(config.url) : json_null(), "mode",
                               !config.configured          ? "none"
                               : config.aes_key[0] != '\0' ? "safe"
                                                           : "plaintext",
                               "delay_ms", (json_int_t)config.delay_ms);
    explicit_bzero(&config, sizeof(config));
    return answer;
}

/* POST /__emu/push {"appid","url"?:"http://..."|null,"token"?,"encoding_aes_key"?:"..."|null,"delay_ms"?}
 * -> {"appid","url","mode":"none"|"plaintext"|"safe","delay_ms"}: the app's message push settings; what
 * is not given is kept (a new url needs its token). */
static int ctl_push(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid;
    json_t *url = NULL, *aes = NULL;
    const char *token = NULL;
    json_int_t delay_ms = -1;
    json_error_t err;
    emu_push_config_t config;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s?o,s?s,s?o,s?I!}", "appid", &appid, "url", &url, "token", &token,
                       "encoding_aes_key", &aes, "delay_ms", &delay_ms) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if (emu_state_push_config(srv->state, slice_of(appid), &config) != EMU_OK)
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    if ((url != NULL && !json_is_string(url) && !json_is_null(url)) ||
        (aes != NULL && !json_is_string(aes) && !json_is_null(aes)))
        return ctl_error(answer, 400, "%s", "url and encoding_aes_key are strings or null");
    if (json_object_get(body, "delay_ms") != NULL && (delay_ms < 0 || delay_ms > EMU_MAX_DELAY_MS))
        return ctl_error(answer, 400, "%s", "delay_ms must be 0..60000");
    if (json_is_string(url) && token == NULL)
        return ctl_error(answer, 400, "%s", "a url needs its token");
    if (json_is_string(url) && !emu_push_url_ok(json_string_value(url)))
        return ctl_error(answer, 400, "%s", "url must be http://HOST[:PORT][/path], HOST an IPv4 address or localhost");
    uint32_t delay = json_object_get(body, "delay_ms") != NULL ? (uint32_t)delay_ms : config.delay_ms;
    if (delay > 0 && emu_http_timeout(srv, delay) == NULL)
        return ctl_error(answer, 400, "%s", "too many distinct delays");
    emu_slice_t new_url = url == NULL           ? (config.configured ? slice_of(config.url) : (emu_slice_t){NULL, 0})
                          : json_is_string(url) ? slice_of(json_string_value(url))
                                                : (emu_slice_t){NULL, 0};
    emu_slice_t new_token = token != NULL ? slice_of(token) : slice_of(config.token);
    emu_slice_t new_aes = aes == NULL           ? slice_of(config.aes_key)
                          : json_is_string(aes) ? slice_of(json_string_value(aes))
                                                : (emu_slice_t){NULL, 0};
    emu_status_t status = emu_state_push_set(srv->state, slice_of(appid), new_url, new_token, new_aes, delay);
    explicit_bzero(&config, sizeof(config));
    if (status != EMU_OK)
        return ctl_error(answer, 400, "%s",
                         "url is http://HOST[:PORT][/path] (HOST an IPv4 address or localhost, at most 512 bytes), "
                         "token 3..32 letters and digits, encoding_aes_key 43 letters and digits");
    *answer = push_json(srv, appid);
    return *answer != NULL ? 200 : ctl_error(answer, 500, "%s", "out of memory");
}

/* GET /__emu/push/log[?appid=] -> {"pending":N,"list":[{"appid","trace_id","url","mode","status","answer",
 * "error","event","time"}]}: the pushes attempted (of that app), oldest first. */
static int ctl_push_log(emu_server_t *srv, const emu_query_t *query, json_t **answer)
{
    const char *appid = query_text(query, "appid");
    emu_push_entry_t e;
    json_t *list;

    if (appid != NULL && !emu_state_has_app(srv->state, slice_of(appid)))
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    list = json_array();
    for (size_t i = 0; emu_push_log_at(srv->push, i, &e); ++i) {
        if (appid != NULL && strcmp(appid, e.appid) != 0)
            continue;
        json_t *event = json_loads(e.event, 0, NULL);
        json_array_append_new(list, json_pack("{s:s,s:s,s:o,s:s,s:i,s:s,s:o,s:o,s:I}", "appid", e.appid, "trace_id",
                                              e.trace_id, "url", e.url[0] != '\0' ? json_string(e.url) : json_null(),
                                              "mode", e.safe ? "safe" : "plaintext", "status", e.status, "answer",
                                              e.answer, "error", string_or_null(e.error), "event",
                                              event != NULL ? event : json_null(), "time", (json_int_t)e.time_s));
    }
    *answer = json_pack("{s:I,s:o}", "pending", (json_int_t)emu_push_pending(srv->push), "list", list);
    return *answer != NULL ? 200 : ctl_error(answer, 500, "%s", "out of memory");
}

/* DELETE /__emu/push/log -> {"cleared":N} */
static int ctl_push_log_clear(emu_server_t *srv, const json_t *body, json_t **answer)
{
    *answer = json_pack("{s:I}", "cleared", (json_int_t)emu_push_log_clear(srv->push));
    return 200;
}

/* GET /__emu/media[?appid=] -> {"list":[{"appid","openid","media_url","media_type","scene","trace_id",
 * "time"}]}: the media checks accepted (of that app), oldest first. */
static int ctl_media_log(emu_server_t *srv, const emu_query_t *query, json_t **answer)
{
    const char *appid = query_text(query, "appid");
    emu_media_entry_t m;
    json_t *list;

    if (appid != NULL && !emu_state_has_app(srv->state, slice_of(appid)))
        return ctl_error(answer, 400, "%s", "appid is not a configured app");
    list = json_array();
    for (size_t i = 0; emu_state_media_log_at(srv->state, i, &m); ++i) {
        if (appid != NULL && strcmp(appid, m.appid) != 0)
            continue;
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:i,s:i,s:s,s:I}", "appid", m.appid, "openid", m.openid,
                                              "media_url", m.media_url, "media_type", m.media_type, "scene", m.scene,
                                              "trace_id", m.trace_id, "time", (json_int_t)m.time_s));
    }
    *answer = json_pack("{s:o}", "list", list);
    return *answer != NULL ? 200 : ctl_error(answer, 500, "%s", "out of memory");
}

/* DELETE /__emu/media -> {"cleared":N} */
static int ctl_media_log_clear(emu_server_t *srv, const json_t *body, json_t **answer)
{
    *answer = json_pack("{s:I}", "cleared", (json_int_t)emu_state_media_log_clear(srv->state));
    return 200;
}

/* Is s a revoke_info: numbers of 1..3 digits separated by commas ("6", "8", "6,8"), 1..64 bytes? */
static bool revoke_info_ok(const char *s)
{
    size_t digits = 0;
    if (s[0] == '\0' || strlen(s) > CTL_REVOKE_INFO_MAX)
        return false;
    for (const char *p = s;; ++p) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 3)
                return false;
        } else if ((*p == ',' || *p == '\0') && digits > 0) {
            if (*p == '\0')
                return true;
            digits = 0;
        } else {
            return false;
        }
    }
}

/* POST /__emu/push/event {"appid","user"|"openid","event":"user_authorization_revoke"|
 * "user_authorization_cancellation","revoke_info"?} -> {"queued":true}: the user withdrew an
 * authorization (revoke_info, revoke only, says which: 6 nickname and avatar, 8 phone number, ...) or
 * closed their WeChat account; pushed with OpenID, AppID (and RevokeInfo). The app needs a push URL. */
static int ctl_push_event(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *appid, *user = NULL, *openid_in = NULL, *event, *revoke_info = NULL;
    json_error_t err;
    char openid[EMU_OPENID_LEN + 1];
    int refused;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s?s,s?s,s:s,s?s!}", "appid", &appid, "user", &user, "openid",
                       &openid_in, "event", &event, "revoke_info", &revoke_info) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if ((refused = who_openid(srv, appid, user, openid_in, openid, answer)) != 0)
        return refused;
    if (!emu_state_openid_known(srv->state, slice_of(appid), slice_of(openid)))
        return target_error(answer, EMU_ENOUSER);
    bool revoke = strcmp(event, "user_authorization_revoke") == 0;
    if (!revoke && strcmp(event, "user_authorization_cancellation") != 0)
        return ctl_error(answer, 400, "%s",
                         "event must be user_authorization_revoke or user_authorization_cancellation");
    if (revoke != (revoke_info != NULL))
        return ctl_error(answer, 400, "%s", "revoke_info goes with user_authorization_revoke, and only with it");
    if (revoke && !revoke_info_ok(revoke_info))
        return ctl_error(answer, 400, "%s", "revoke_info is numbers separated by commas (\"6\", \"8\", \"6,8\")");
    if (!emu_push_has_url(srv, appid))
        return ctl_error(answer, 400, "%s", "the app has no push URL (POST /__emu/push)");
    json_t *members = json_pack("{s:s,s:s}", "OpenID", openid, "AppID", appid);
    if (revoke)
        json_object_set_new(members, "RevokeInfo", json_string(revoke_info));
    if (!emu_push_event(srv, appid, slice_of(openid), event, NULL, members))
        return ctl_error(answer, 500, "%s", "out of memory");
    *answer = json_pack("{s:b}", "queued", 1);
    return 200;
}

/* Reads the fault body into f; returns NULL or the reason it is refused. */
static const char *parse_fault(emu_server_t *srv, const json_t *body, emu_fault_t *f, char *why, size_t why_size)
{
    const char *path, *code = NULL;
    json_int_t errcode = 0, delay_ms = 0, count = 1, http_status = 0;
    int malformed = 0, drop = 0;
    json_error_t err;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s?I,s?I,s?I,s?I,s?b,s?b,s?s!}", "path", &path, "errcode",
                       &errcode, "delay_ms", &delay_ms, "count", &count, "http_status", &http_status, "malformed",
                       &malformed, "drop", &drop, "code", &code) != 0) {
        snprintf(why, why_size, "bad body: %s", err.text);
        return why;
    }
    const emu_wx_route_t *route = emu_wx_route_find(path);
    if (route == NULL)
        return "path is not a WeChat API endpoint of wxemu";
    if (code != NULL && route->code_of == NULL)
        return "code: only /sns/jscode2session, /wxa/business/getuserphonenumber, /wxa/getwxacodeunlimit (its "
               "scene), /cgi-bin/message/subscribe/send (its touser), /wxa/msg_sec_check and /wxa/media_check_async "
               "(their openid) calls carry a code";
    if (code != NULL && (code[0] == '\0' || strlen(code) > EMU_FAULT_CODE_MAX))
        return "code must be 1..128 bytes";
    if (errcode < INT32_MIN || errcode > INT32_MAX)
        return "errcode out of range";
    if (delay_ms < 0 || delay_ms > EMU_MAX_DELAY_MS)
        return "delay_ms must be 0..60000";
    if (count < 1 || count > 1000000)
        return "count must be 1..1000000";
    if (http_status != 0 && (http_status < 200 || http_status > 599))
        return "http_status must be 200..599";
    if (srv->latency_ms + delay_ms > 0 && emu_http_timeout(srv, (uint64_t)(srv->latency_ms + delay_ms)) == NULL)
        return "too many distinct delays";

    memset(f, 0, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->errcode = (int)errcode;
    f->delay_ms = (uint32_t)delay_ms;
    f->count = (uint32_t)count;
    f->http_status = (int)http_status;
    f->malformed = malformed != 0;
    f->drop = drop != 0;
    if (code != NULL)
        memcpy(f->code, code, strlen(code) + 1);
    return NULL;
}

/* POST /__emu/faults {"path":"/sns/jscode2session","errcode":45011,"delay_ms":0,"count":3} */
static int ctl_faults_add(emu_server_t *srv, const json_t *body, json_t **answer)
{
    emu_fault_t fault;
    char why[256];
    const char *refused = parse_fault(srv, body, &fault, why, sizeof(why));

    if (refused != NULL)
        return ctl_error(answer, 400, "%s", refused);
    if (emu_state_add_fault(srv->state, &fault) != EMU_OK)
        return ctl_error(answer, 400, "%s", "too many queued faults (DELETE /__emu/faults)");
    *answer = json_pack("{s:I}", "queued", (json_int_t)emu_state_fault_count(srv->state));
    return 200;
}

/* DELETE /__emu/faults */
static int ctl_faults_clear(emu_server_t *srv, const json_t *body, json_t **answer)
{
    size_t n = emu_state_fault_count(srv->state);
    emu_state_clear_faults(srv->state);
    *answer = json_pack("{s:I}", "cleared", (json_int_t)n);
    return 200;
}

/* GET /__emu/stats -> {"/sns/jscode2session":N,...}: calls per WeChat endpoint since start or reset,
 * faulted ones included; every endpoint is listed, with 0 before its first call, and so are the
 * routes' second counters ("/cgi-bin/stable_token#force"). */
static int ctl_stats(emu_server_t *srv, const json_t *body, json_t **answer)
{
    *answer = json_object();
    for (size_t i = 0; i < emu_wx_route_count; ++i) {
        uint64_t n = emu_state_calls(srv->state, emu_slice_cstr(emu_wx_routes[i].path));
        json_object_set_new(*answer, emu_wx_routes[i].path, json_integer((json_int_t)n));
        if (emu_wx_routes[i].substat != NULL) {
            n = emu_state_calls(srv->state, emu_slice_cstr(emu_wx_routes[i].substat));
            json_object_set_new(*answer, emu_wx_routes[i].substat, json_integer((json_int_t)n));
        }
    }
    return 200;
}

/* GET /__emu/state -> {"codes":N,"sessions":N,"faults":N,"tokens":N,"quotas":N,"sent":N}: what the
 * emulator holds (memory bounds). codes counts login and phone codes. */
static int ctl_state(emu_server_t *srv, const json_t *body, json_t **answer)
{
    emu_state_purge(srv->state, clock_monotonic_ms());
    *answer = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I}", "codes", (json_int_t)emu_state_code_count(srv->state), "sessions",
        (json_int_t)emu_state_session_count(srv->state), "faults", (json_int_t)emu_state_fault_count(srv->state),
        "tokens", (json_int_t)emu_state_token_count(srv->state), "quotas",
        (json_int_t)emu_state_sub_quota_count(srv->state), "sent", (json_int_t)emu_state_sub_sent_count(srv->state));
    return 200;
}

/* DELETE /__emu/stats */
static int ctl_stats_reset(emu_server_t *srv, const json_t *body, json_t **answer)
{
    emu_state_reset_stats(srv->state);
    *answer = json_pack("{s:b}", "reset", 1);
    return 200;
}

const emu_ctl_route_t emu_ctl_routes[] = {
    {"POST", "/__emu/code", ctl_code},
    {"POST", "/__emu/phone_code", ctl_phone_code},
    {"POST", "/__emu/encrypted", ctl_encrypted},
    {"POST", "/__emu/tokens", ctl_tokens},
    {"POST", "/__emu/expire", ctl_expire},
    {"POST", "/__emu/wxacode", ctl_wxacode},
    {"POST", "/__emu/faults", ctl_faults_add},
    {"DELETE", "/__emu/faults", ctl_faults_clear},
    {"GET", "/__emu/stats", ctl_stats},
    {"DELETE", "/__emu/stats", ctl_stats_reset},
    {"GET", "/__emu/state", ctl_state},
    {"POST", "/__emu/subscribe/templates", ctl_sub_templates},
    {"POST", "/__emu/subscribe/accept", ctl_sub_accept},
    {"POST", "/__emu/subscribe/reject", ctl_sub_reject},
    {"GET", "/__emu/subscribe/quota", NULL, ctl_sub_quota},
    {"GET", "/__emu/subscribe/sent", NULL, ctl_sub_sent},
    {"DELETE", "/__emu/subscribe/sent", ctl_sub_sent_clear},
    {"POST", "/__emu/seccheck", ctl_seccheck},
    {"POST", "/__emu/visit", ctl_visit},
    {"POST", "/__emu/push", ctl_push},
    {"GET", "/__emu/push/log", NULL, ctl_push_log},
    {"DELETE", "/__emu/push/log", ctl_push_log_clear},
    {"GET", "/__emu/media", NULL, ctl_media_log},
    {"DELETE", "/__emu/media", ctl_media_log_clear},
    {"POST", "/__emu/push/event", ctl_push_event},
};
const size_t emu_ctl_route_count = sizeof(emu_ctl_routes) / sizeof(emu_ctl_routes[0]);
