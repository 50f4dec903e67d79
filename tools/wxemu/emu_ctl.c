/*
 * emu_ctl — wxemu's control API, the side of the test that plays the phone and the network:
 *
 *   POST   /__emu/code       {"appid","user"}        -> {"code","openid","unionid"}  what wx.login() gives
 *   POST   /__emu/phone_code {"appid","user","phone"} -> {"code","openid"}   what getPhoneNumber gives
 *   POST   /__emu/encrypted  {"appid","user","kind"}  -> {"encryptedData","iv","rawData","signature"}
 *   POST   /__emu/expire     {"code"}                 -> {"expired":true}              skip the 5 minutes
 *   POST   /__emu/tokens     {"appid","action"}       -> {"invalidated"|"expired":N}  kill access_tokens
 *   POST   /__emu/wxacode    {"appid",["limit_per_minute"],["pages"]} -> the app's getwxacodeunlimit settings
 *   POST   /__emu/faults     {"path",...[,"code"]}    -> {"queued":N}   next calls (with that code) fail
 *   DELETE /__emu/faults                              -> {"cleared":N}
 *   GET    /__emu/stats                               -> {path:N,...}                  calls per endpoint
 *   DELETE /__emu/stats                               -> {"reset":true}
 *   GET    /__emu/state                               -> {"codes","sessions","faults","tokens"}
 *
 * Each endpoint is a row in emu_ctl_routes[] and a function from the JSON body to (status, answer).
 * Bodies are checked strictly (json_unpack with '!'), so a misspelt field is a 400, not a silent default.
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

#define CTL_NICKNAME_MAX   256
#define CTL_AVATAR_MAX     1024
#define CTL_DEFAULT_AVATAR "https://thirdwx.qlogo.cn/mmopen/vi_32/wxemu/132"

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
        return "code: only /sns/jscode2session, /wxa/business/getuserphonenumber and /wxa/getwxacodeunlimit (its "
               "scene) calls carry a code";
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

/* GET /__emu/state -> {"codes":N,"sessions":N,"faults":N,"tokens":N}: what the emulator holds (memory
 * bounds). codes counts login and phone codes. */
static int ctl_state(emu_server_t *srv, const json_t *body, json_t **answer)
{
    emu_state_purge(srv->state, clock_monotonic_ms());
    *answer = json_pack("{s:I,s:I,s:I,s:I}", "codes", (json_int_t)emu_state_code_count(srv->state), "sessions",
                        (json_int_t)emu_state_session_count(srv->state), "faults",
                        (json_int_t)emu_state_fault_count(srv->state), "tokens",
                        (json_int_t)emu_state_token_count(srv->state));
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
    {"POST", "/__emu/code", ctl_code},           {"POST", "/__emu/phone_code", ctl_phone_code},
    {"POST", "/__emu/encrypted", ctl_encrypted}, {"POST", "/__emu/tokens", ctl_tokens},
    {"POST", "/__emu/expire", ctl_expire},       {"POST", "/__emu/wxacode", ctl_wxacode},
    {"POST", "/__emu/faults", ctl_faults_add},   {"DELETE", "/__emu/faults", ctl_faults_clear},
    {"GET", "/__emu/stats", ctl_stats},          {"DELETE", "/__emu/stats", ctl_stats_reset},
    {"GET", "/__emu/state", ctl_state},
};
const size_t emu_ctl_route_count = sizeof(emu_ctl_routes) / sizeof(emu_ctl_routes[0]);
