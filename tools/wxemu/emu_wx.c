/*
 * emu_wx — the WeChat API endpoints wxemu answers, as WeChat does: JSON, HTTP 200 even for errors,
 * {"errcode":N,"errmsg":"<text>, rid: <id>"} on failure.
 *
 *   GET  /sns/jscode2session               code2Session
 *   GET  /cgi-bin/token                    access_token, a new one per call
 *   POST /cgi-bin/stable_token             access_token shared by every caller, force_refresh rationed
 *   POST /wxa/business/getuserphonenumber  phone number of a getPhoneNumber code
 *   GET  /wxa/checksession                 is this session_key signature the user's current one?
 *   POST /wxa/getwxacodeunlimit            a mini program code: a PNG of a QR code of the scene
 *
 * getwxacodeunlimit answers its image with Content-Type image/png and its errors (JSON, HTTP 200)
 * with "application/json; encoding=utf-8", as WeChat does; its scene is the "code" a fault may target.
 * Each endpoint is a row in emu_wx_routes[] and a function that turns the request's query and body
 * into the answer; the state logic (and every errcode decision) lives in emu_state.c. The JSON bodies
 * are read leniently, as WeChat does (unknown members ignored), but a member of the wrong type or a
 * body that is not a JSON object is 47001. Clock: expiry uses clock_monotonic_ms(); the watermark timestamp is
 * wall-clock seconds, like WeChat's.
 */
#include "emu_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto/crypto.h"
#include "emu_qr.h"

#define WXACODE_JSON_TYPE     "application/json; encoding=utf-8" /* getwxacodeunlimit's errors */
#define WXACODE_WIDTH_MIN     280
#define WXACODE_WIDTH_MAX     1280
#define WXACODE_WIDTH_DEFAULT 430

/* errmsg texts WeChat uses (without their request ids). */
static const struct {
    int errcode;
    const char *errmsg;
} WX_ERRMSGS[] = {
    {-1, "system error"},
    {40001, "invalid credential, access_token is invalid or not latest"},
    {40002, "invalid grant_type"},
    {40003, "invalid openid"},
    {40013, "invalid appid"},
    {40014, "invalid access_token"},
    {40029, "invalid code"},
    {40097, "invalid args"},
    {40125, "invalid appsecret"},
    {40129, "invalid scene"},
    {40163, "code been used"},
    {40164, "invalid ip, not in whitelist"},
    {40169, "invalid length for scene, or the data is not json string"},
    {40226, "high risk user"},
    {41001, "access_token missing"},
    {41002, "appid missing"},
    {41004, "appsecret missing"},
    {41008, "missing code"},
    {41009, "missing openid"},
    {41030, "invalid page"},
    {42001, "access_token expired"},
    {45009, "reach max api daily quota limit"},
    {45011, "api minute-quota reach limit  mustslower  retry next minute"},
    {47001, "data format error"},
    {87008, "invalid sig_method"},
    {87009, "invalid signature"},
    {1400001, "the phone number quota of this mini program is used up"},
};

static const char *wx_errmsg(int errcode)
{
    for (size_t i = 0; i < sizeof(WX_ERRMSGS) / sizeof(WX_ERRMSGS[0]); ++i)
        if (WX_ERRMSGS[i].errcode == errcode)
            return WX_ERRMSGS[i].errmsg;
    return "emulated error";
}

static json_t *wx_error_text(int errcode, const char *text)
{
    uint32_t rid[3] = {0, 0, 0};
    char errmsg[160];

    crypto_random(rid, sizeof(rid)); /* a request id only: zeros are fine if it fails */
    snprintf(errmsg, sizeof(errmsg), "%s, rid: %08x-%08x-%08x", text, rid[0], rid[1], rid[2]);
    return json_pack("{s:i,s:s}", "errcode", errcode, "errmsg", errmsg);
}

json_t *emu_wx_error(int errcode)
{
    return wx_error_text(errcode, wx_errmsg(errcode));
}

/* GET /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code */
static json_t *wx_jscode2session(emu_server_t *srv, const emu_wx_call_t *call)
{
    const emu_query_t *query = &call->query;
    if (call->body_bad)
        return emu_wx_error(47001);
    emu_j2s_request_t rq = {
        .appid = emu_query_get(query, "appid"),
        .secret = emu_query_get(query, "secret"),
        .js_code = emu_query_get(query, "js_code"),
        .grant_type = emu_query_get(query, "grant_type"),
    };
    emu_j2s_result_t out;
    int errcode = emu_state_jscode2session(srv->state, &rq, clock_monotonic_ms(), &out);
    if (errcode != 0)
        return emu_wx_error(errcode);
    json_t *answer =
        json_pack("{s:s,s:s,s:s}", "session_key", out.session_key, "openid", out.openid, "unionid", out.unionid);
    explicit_bzero(out.session_key, sizeof(out.session_key));
    return answer;
}

/* {"access_token","expires_in"}; the token is wiped from out. */
static json_t *token_answer(emu_token_result_t *out)
{
    json_t *answer =
        json_pack("{s:s,s:I}", "access_token", out->access_token, "expires_in", (json_int_t)out->expires_in);
    explicit_bzero(out->access_token, sizeof(out->access_token));
    return answer;
}

/* GET /cgi-bin/token?grant_type=client_credential&appid=&secret= */
static json_t *wx_token(emu_server_t *srv, const emu_wx_call_t *call)
{
    emu_token_request_t rq = {
        .grant_type = emu_query_get(&call->query, "grant_type"),
        .appid = emu_query_get(&call->query, "appid"),
        .secret = emu_query_get(&call->query, "secret"),
    };
    emu_token_result_t out;
    int errcode = emu_state_token(srv->state, &rq, clock_monotonic_ms(), &out);
    return errcode != 0 ? emu_wx_error(errcode) : token_answer(&out);
}

/* The string member name of body into *out (absent: base NULL). False when it is not a string. */
static bool body_string(const json_t *body, const char *name, emu_slice_t *out)
{
    const json_t *v = json_object_get(body, name);
    *out = (emu_slice_t){NULL, 0};
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    *out = (emu_slice_t){json_string_value(v), json_string_length(v)};
    return true;
}

/* POST /cgi-bin/stable_token {"grant_type":"client_credential","appid","secret","force_refresh":false} */
static json_t *wx_stable_token(emu_server_t *srv, const emu_wx_call_t *call)
{
    emu_token_request_t rq = {0};
    const json_t *force;
    emu_token_result_t out;

    if (call->body == NULL || !body_string(call->body, "grant_type", &rq.grant_type) ||
        !body_string(call->body, "appid", &rq.appid) || !body_string(call->body, "secret", &rq.secret))
        return emu_wx_error(47001);
    force = json_object_get(call->body, "force_refresh");
    if (force != NULL && !json_is_boolean(force) && !json_is_null(force))
        return emu_wx_error(47001);
    rq.force_refresh = json_is_true(force);
    int errcode = emu_state_stable_token(srv->state, &rq, clock_monotonic_ms(), &out);
    if (errcode == 45011)
        return wx_error_text(errcode, "api freq out of limit");
    return errcode != 0 ? emu_wx_error(errcode) : token_answer(&out);
}

static bool stable_token_forced(const emu_wx_call_t *call)
{
    return call->body != NULL && json_is_true(json_object_get(call->body, "force_refresh"));
}

/* The phone_info object of a getuserphonenumber answer. */
static json_t *phone_info_json(const emu_phone_info_t *info)
{
    json_t *country = info->country_code_as_number ? json_integer(strtol(info->country_code, NULL, 10))
                                                   : json_string(info->country_code);
    return json_pack("{s:s,s:s,s:o,s:{s:I,s:s}}", "phoneNumber", info->phone_number, "purePhoneNumber",
                     info->pure_phone_number, "countryCode", country, "watermark", "timestamp", (json_int_t)time(NULL),
                     "appid", info->watermark_appid);
}

/* POST /wxa/business/getuserphonenumber?access_token= {"code","openid"?}: the token is checked first,
 * then the body. */
static json_t *wx_phone_number(emu_server_t *srv, const emu_wx_call_t *call)
{
    emu_phone_request_t rq = {.access_token = emu_query_get(&call->query, "access_token")};
    emu_phone_info_t info;
    int64_t now = clock_monotonic_ms();
    int errcode = emu_state_check_token(srv->state, rq.access_token, now, NULL);

    if (errcode != 0)
        return emu_wx_error(errcode);
    if (call->body == NULL || !body_string(call->body, "code", &rq.code) ||
        !body_string(call->body, "openid", &rq.openid))
        return emu_wx_error(47001);
    if ((errcode = emu_state_phone_number(srv->state, &rq, now, &info)) != 0)
        return emu_wx_error(errcode);
    return json_pack("{s:i,s:s,s:o}", "errcode", 0, "errmsg", "ok", "phone_info", phone_info_json(&info));
}

/* GET /wxa/checksession?access_token=&openid=&signature=&sig_method=hmac_sha256 */
static json_t *wx_checksession(emu_server_t *srv, const emu_wx_call_t *call)
{
    emu_checksession_request_t rq = {
        .access_token = emu_query_get(&call->query, "access_token"),
        .openid = emu_query_get(&call->query, "openid"),
        .signature = emu_query_get(&call->query, "signature"),
        .sig_method = emu_query_get(&call->query, "sig_method"),
    };
    int errcode = emu_state_check_session(srv->state, &rq, clock_monotonic_ms());
    if (errcode != 0)
        return emu_wx_error(errcode);
    return json_pack("{s:i,s:s}", "errcode", 0, "errmsg", "ok");
}

/* Does the Content-Type say a form (which getwxacodeunlimit refuses with 47001)? */
static bool is_form(emu_slice_t content_type)
{
    static const char *const FORMS[] = {"application/x-www-form-urlencoded", "multipart/form-data"};
    for (size_t i = 0; content_type.base != NULL && i < sizeof(FORMS) / sizeof(FORMS[0]); ++i) {
        size_t n = strlen(FORMS[i]);
        if (content_type.len >= n && strncasecmp(content_type.base, FORMS[i], n) == 0)
            return true;
    }
    return false;
}

/* The boolean member name of body into *out (absent or null: dflt). False when it is another type. */
static bool body_bool(const json_t *body, const char *name, bool dflt, bool *out)
{
    const json_t *v = json_object_get(body, name);
    *out = dflt;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_boolean(v))
        return false;
    *out = json_is_true(v);
    return true;
}

/* One channel of line_color: an integer or a string of digits (WxJava sends "0"), 0..255; absent 0. */
static bool color_channel(const json_t *color, const char *name, uint8_t *out)
{
    const json_t *v = json_object_get(color, name);
    json_int_t n = 0;

    if (v == NULL || json_is_null(v)) {
        n = 0;
    } else if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len == 0 || len > 3 || strspn(s, "0123456789") != len)
            return false;
        n = strtol(s, NULL, 10);
    } else {
        return false;
    }
    if (n < 0 || n > 255)
        return false;
    *out = (uint8_t)n;
    return true;
}

/* line_color {"r","g","b"} (absent or null: black). False when it is not such an object. */
static bool body_color(const json_t *body, emu_rgb_t *out)
{
    const json_t *v = json_object_get(body, "line_color");
    *out = (emu_rgb_t){0, 0, 0};
    if (v == NULL || json_is_null(v))
        return true;
    return json_is_object(v) && color_channel(v, "r", &out->r) && color_channel(v, "g", &out->g) &&
           color_channel(v, "b", &out->b);
}

/* width in pixels: a JSON number, its integer part clamped to WeChat's 280..1280; absent or null 430.
 * False when it is another type. */
static bool body_width(const json_t *body, uint32_t *out)
{
    const json_t *v = json_object_get(body, "width");
    *out = WXACODE_WIDTH_DEFAULT;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_number(v))
        return false;
    double w = json_number_value(v);
    *out = w < WXACODE_WIDTH_MIN ? WXACODE_WIDTH_MIN : w > WXACODE_WIDTH_MAX ? WXACODE_WIDTH_MAX : (uint32_t)w;
    return true;
}

static json_t *wxacode_error(int errcode)
{
    if (errcode == 45009)
        return wx_error_text(errcode, "reach max api minute quota limit"); /* this API's ration is per minute */
    return emu_wx_error(errcode);
}

/* POST /wxa/getwxacodeunlimit?access_token= {"scene","page","check_path","env_version","width",
 * "auto_color","line_color","is_hyaline"}: the token and the app's ration first (emu_state.c), then
 * the body: 47001 for a form post or a member of the wrong type, 40169 for a body that is not a JSON
 * object (or a scene that is not a string), then the parameters (emu_state_wxacode_check). */
static json_t *wx_wxacode(emu_server_t *srv, const emu_wx_call_t *call, emu_wx_blob_t *out)
{
    char appid[EMU_APPID_MAX + 1];
    emu_wxacode_request_t rq = {.check_path = true};
    emu_qr_spec_t spec = {.hyaline = false};
    const json_t *scene;
    bool auto_color;
    int errcode =
        emu_state_wxacode_admit(srv->state, emu_query_get(&call->query, "access_token"), clock_monotonic_ms(), appid);

    if (errcode != 0)
        return wxacode_error(errcode);
    if (call->body == NULL)
        return wxacode_error(call->body_bad && is_form(call->content_type) ? 47001 : 40169);
    if (!body_string(call->body, "page", &rq.page) || !body_bool(call->body, "check_path", true, &rq.check_path) ||
        !body_string(call->body, "env_version", &rq.env_version) || !body_width(call->body, &spec.width) ||
        !body_bool(call->body, "auto_color", false, &auto_color) || !body_color(call->body, &spec.line) ||
        !body_bool(call->body, "is_hyaline", false, &spec.hyaline))
        return wxacode_error(47001);
    scene = json_object_get(call->body, "scene");
    if (json_is_string(scene))
        rq.scene = (emu_slice_t){json_string_value(scene), json_string_length(scene)};
    if ((errcode = emu_state_wxacode_check(srv->state, emu_slice_cstr(appid), &rq)) != 0)
        return wxacode_error(errcode);
    if (auto_color)
        spec.line = (emu_rgb_t){0, 0, 0}; /* wxemu has no page colours to pick from */
    spec.text = rq.scene.base;
    spec.text_len = rq.scene.len;
    out->data = emu_qr_png(&spec, &out->len);
    out->content_type = "image/png";
    return out->data != NULL ? NULL : emu_wx_error(-1);
}

/* The scene of a getwxacodeunlimit call, the "code" a fault may target (absent when not a string). */
static emu_slice_t wxacode_scene(const emu_wx_call_t *call)
{
    const json_t *scene = call->body != NULL ? json_object_get(call->body, "scene") : NULL;
    if (!json_is_string(scene))
        return (emu_slice_t){NULL, 0};
    return (emu_slice_t){json_string_value(scene), json_string_length(scene)};
}

/* The code a call carries, for faults that target one code: js_code of code2Session... */
static emu_slice_t jscode2session_code(const emu_wx_call_t *call)
{
    return emu_query_get(&call->query, "js_code");
}

/* ...and the body's "code" of getuserphonenumber (absent when it is not a string). */
static emu_slice_t phone_number_code(const emu_wx_call_t *call)
{
    const json_t *code = call->body != NULL ? json_object_get(call->body, "code") : NULL;
    if (!json_is_string(code))
        return (emu_slice_t){NULL, 0};
    return (emu_slice_t){json_string_value(code), json_string_length(code)};
}

const emu_wx_route_t emu_wx_routes[] = {
    {"GET", "/sns/jscode2session", wx_jscode2session, NULL, NULL, jscode2session_code},
    {"GET", "/cgi-bin/token", wx_token, NULL, NULL, NULL},
    {"POST", "/cgi-bin/stable_token", wx_stable_token, "/cgi-bin/stable_token#force", stable_token_forced, NULL},
    {"POST", "/wxa/business/getuserphonenumber", wx_phone_number, NULL, NULL, phone_number_code},
    {"GET", "/wxa/checksession", wx_checksession, NULL, NULL, NULL},
    {"POST", "/wxa/getwxacodeunlimit", NULL, NULL, NULL, wxacode_scene, wx_wxacode, WXACODE_JSON_TYPE},
};
const size_t emu_wx_route_count = sizeof(emu_wx_routes) / sizeof(emu_wx_routes[0]);

const emu_wx_route_t *emu_wx_route_find(const char *path)
{
    for (size_t i = 0; i < emu_wx_route_count; ++i)
        if (strcmp(emu_wx_routes[i].path, path) == 0)
            return &emu_wx_routes[i];
    return NULL;
}

bool emu_wx_is_route(const char *path)
{
    return emu_wx_route_find(path) != NULL;
}
