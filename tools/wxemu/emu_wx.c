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
 *   POST /cgi-bin/message/subscribe/send   a subscription message, against the user's one-time quota;
 *                                          with a push URL, its subscribe_msg_sent_event is pushed
 *   POST /wxa/msg_sec_check                content security of a text (version 2)
 *   POST /wxa/media_check_async            content security of an image or audio (version 2): its
 *                                          verdict is pushed to the app's push URL (emu_push.c)
 *
 * getwxacodeunlimit answers its image with Content-Type image/png and its errors (JSON, HTTP 200)
 * with "application/json; encoding=utf-8", as WeChat does; its scene is the "code" a fault may target
 * (on subscribe/send the touser, on msg_sec_check and media_check_async the openid, so that one user's
 * calls can be made to fail).
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
#include "emu_push.h"
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
    {40037, "invalid template_id"},
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
    {43101, "user refuse to accept the msg"},
    {44002, "empty post data"},
    {45009, "reach max api daily quota limit"},
    {45011, "api minute-quota reach limit  mustslower  retry next minute"},
    {47001, "data format error"},
    {47003, "argument invalid!"},
    {61010, "code is expired"},
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
    char errmsg[256]; /* text (at most 200 bytes: the callers' messages) and the rid */

    crypto_random(rid, sizeof(rid)); /* a request id only: zeros are fine if it fails */
    snprintf(errmsg, sizeof(errmsg), "%.200s, rid: %08x-%08x-%08x", text, rid[0], rid[1], rid[2]);
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

/* The text of a data.<key>.value that is a number (its JSON text, to free); NULL when out of memory. */
static char *number_text(const json_t *v)
{
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
}

/* Reads data's entries into values (json_object_size(data) of them), in data's order; the number texts
 * made are put in texts[] (to free). *n: the entries read. False when out of memory. */
static bool sub_values(const json_t *data, emu_sub_value_t *values, char **texts, size_t *n)
{
    const char *key;
    json_t *entry;
    *n = 0;
    json_object_foreach((json_t *)data, key, entry)
    {
        emu_sub_value_t *v = &values[*n];
        const json_t *value = json_is_object(entry) ? json_object_get(entry, "value") : NULL;
        texts[*n] = NULL;
        *v = (emu_sub_value_t){emu_slice_cstr(key), EMU_SUB_EMPTY, {NULL, 0}};
        ++*n;
        if (json_is_string(value) && json_string_length(value) > 0) {
            v->kind = EMU_SUB_TEXT;
            v->text = (emu_slice_t){json_string_value(value), json_string_length(value)};
        } else if (json_is_number(value)) {
            if ((texts[*n - 1] = number_text(value)) == NULL)
                return false;
            v->kind = EMU_SUB_TEXT;
            v->text = emu_slice_cstr(texts[*n - 1]);
        } else if (value != NULL && !json_is_null(value) && !json_is_string(value)) {
            v->kind = EMU_SUB_OTHER;
        }
    }
    return true;
}

/* POST /cgi-bin/message/subscribe/send?access_token= {"touser","template_id","page"?,"data",
 * "miniprogram_state"?,"lang"?}: the token first, then 47001 for a body that is not a JSON object or a
 * member of the wrong type (a string member that is not a string, data not an object), then the checks
 * of emu_state_sub_send. */
static json_t *wx_subscribe_send(emu_server_t *srv, const emu_wx_call_t *call)
{
    emu_sub_send_request_t rq = {.access_token = emu_query_get(&call->query, "access_token"), .wall_s = time(NULL)};
    emu_sub_send_result_t out;
    char appid[EMU_APPID_MAX + 1];
    int64_t now = clock_monotonic_ms();
    int errcode = emu_state_check_token(srv->state, rq.access_token, now, appid);
    const json_t *data;

    if (errcode != 0)
        return emu_wx_error(errcode);
    if (call->body == NULL || !body_string(call->body, "touser", &rq.touser) ||
        !body_string(call->body, "template_id", &rq.template_id) || !body_string(call->body, "page", &rq.page) ||
        !body_string(call->body, "miniprogram_state", &rq.miniprogram_state) ||
        !body_string(call->body, "lang", &rq.lang))
        return emu_wx_error(47001);
    data = json_object_get(call->body, "data");
    if (data != NULL && !json_is_null(data) && !json_is_object(data))
        return emu_wx_error(47001);

    bool has_data = json_is_object(data);
    size_t size = has_data ? json_object_size(data) : 0, n = 0;
    emu_sub_value_t *values = calloc(size > 0 ? size : 1, sizeof(*values));
    char **texts = calloc(size > 0 ? size : 1, sizeof(*texts));
    char *data_json = has_data ? json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_t *answer;
    if (values == NULL || texts == NULL || (has_data && (data_json == NULL || !sub_values(data, values, texts, &n)))) {
        answer = emu_wx_error(-1);
        goto done;
    }
    rq.has_data = has_data;
    rq.values = values;
    rq.nvalues = n;
    rq.data_json = emu_slice_cstr(data_json);
    errcode = emu_state_sub_send(srv->state, &rq, now, &out);
    if (errcode == 47003)
        answer = wx_error_text(errcode, out.errmsg);
    else if (errcode != 0)
        answer = emu_wx_error(errcode);
    else
        answer = json_pack("{s:i,s:s,s:I}", "errcode", 0, "errmsg", "ok", "msgid", (json_int_t)out.msgid);
    if (errcode == 0 && emu_push_has_url(srv, appid))
        emu_push_event(srv, appid, rq.touser, "subscribe_msg_sent_event", NULL,
                       json_pack("{s:[{s:s%,s:I,s:i,s:s}]}", "List", "TemplateId", rq.template_id.base,
                                 rq.template_id.len, "MsgID", (json_int_t)out.msgid, "ErrorCode", 0, "ErrorStatus",
                                 "success")); /* out of memory: the message is sent all the same */
done:
    for (size_t i = 0; texts != NULL && i < n; ++i)
        free(texts[i]);
    free(texts);
    free(values);
    free(data_json);
    return answer;
}

/* An integer member into *out and *has (absent or null: has false). False when it is another type. */
static bool body_int(const json_t *body, const char *name, bool *has, int64_t *out)
{
    const json_t *v = json_object_get(body, name);
    *has = false;
    *out = 0;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_integer(v))
        return false;
    *has = true;
    *out = json_integer_value(v);
    return true;
}

static const char *sec_suggest_text(emu_sec_suggest_t s)
{
    return s == EMU_SEC_RISKY ? "risky" : s == EMU_SEC_REVIEW ? "review" : "pass";
}

/* The answer of a checked text: result, detail (content_model, then keyword) and a trace_id. The
 * keyword entry has no suggest or label when no word matched, as WeChat's sample shows. */
static json_t *sec_answer(const emu_sec_result_t *r)
{
    uint32_t rid[3] = {0, 0, 0};
    char trace_id[32];
    const char *suggest = sec_suggest_text(r->suggest);
    json_t *keyword;

    crypto_random(rid, sizeof(rid)); /* an id only: zeros are fine if it fails */
    snprintf(trace_id, sizeof(trace_id), "%08x-%08x-%08x", rid[0], rid[1], rid[2]);
    if (r->suggest == EMU_SEC_PASS)
        keyword = json_pack("{s:s,s:i}", "strategy", "keyword", "errcode", 0);
    else
        keyword = json_pack("{s:s,s:i,s:s,s:i,s:i,s:s}", "strategy", "keyword", "errcode", 0, "suggest", suggest,
                            "label", r->label, "prob", 90, "keyword", r->keyword);
    return json_pack("{s:i,s:s,s:s,s:{s:s,s:i},s:[{s:s,s:i,s:s,s:i,s:i},o]}", "errcode", 0, "errmsg", "ok", "trace_id",
                     trace_id, "result", "suggest", suggest, "label", r->label, "detail", "strategy", "content_model",
                     "errcode", 0, "suggest", suggest, "label", r->label, "prob", 90, keyword);
}

/* POST /wxa/msg_sec_check?access_token= {"content","version":2,"scene","openid","title"?,"nickname"?,
 * "signature"?}: the token first, then emu_state_msg_sec_check (a body that is not a JSON object, or a
 * member of the wrong type, is its bad_format). */
static json_t *wx_msg_sec_check(emu_server_t *srv, const emu_wx_call_t *call)
{
    emu_sec_request_t rq = {.access_token = emu_query_get(&call->query, "access_token")};
    emu_sec_result_t out;
    emu_slice_t signature;
    int64_t now = clock_monotonic_ms();
    int errcode = emu_state_check_token(srv->state, rq.access_token, now, NULL);

    if (errcode != 0)
        return emu_wx_error(errcode);
    rq.bad_format = call->body == NULL || !body_string(call->body, "content", &rq.content) ||
                    !body_string(call->body, "openid", &rq.openid) || !body_string(call->body, "title", &rq.title) ||
                    !body_string(call->body, "nickname", &rq.nickname) ||
                    !body_string(call->body, "signature", &signature) ||
                    !body_int(call->body, "version", &rq.has_version, &rq.version) ||
                    !body_int(call->body, "scene", &rq.has_scene, &rq.scene);
    if ((errcode = emu_state_msg_sec_check(srv->state, &rq, now, &out)) != 0)
        return emu_wx_error(errcode);
    return sec_answer(&out);
}

/* The members of an accepted media check's push after the common ones, as WeChat's v2 push has them
 * (labels as strings there). */
static json_t *media_members(const char *appid, const char *trace_id, const emu_sec_result_t *r)
{
    char label[16];
    const char *suggest = sec_suggest_text(r->suggest);

    snprintf(label, sizeof(label), "%d", r->label);
    return json_pack("{s:s,s:s,s:i,s:{s:s,s:s},s:[{s:s,s:i,s:s,s:s,s:i}]}", "appid", appid, "trace_id", trace_id,
                     "version", 2, "result", "suggest", suggest, "label", label, "detail", "strategy", "content_model",
                     "errcode", 0, "suggest", suggest, "label", label, "prob", 90);
}

/* POST /wxa/media_check_async?access_token= {"media_url","media_type","version":2,"scene","openid"}: the
 * token first, then emu_state_media_check; on 0 the verdict is pushed to the app's push URL later and
 * the check is logged (GET /__emu/media). */
static json_t *wx_media_check(emu_server_t *srv, const emu_wx_call_t *call)
{
    emu_media_request_t rq = {.access_token = emu_query_get(&call->query, "access_token")};
    emu_sec_result_t out;
    char appid[EMU_APPID_MAX + 1], trace_id[EMU_MEDIA_TRACE_MAX + 1];
    uint32_t rid[3] = {0, 0, 0};
    int64_t now = clock_monotonic_ms();
    int errcode = emu_state_check_token(srv->state, rq.access_token, now, NULL);

    if (errcode != 0)
        return emu_wx_error(errcode);
    rq.bad_format = call->body == NULL || !body_string(call->body, "media_url", &rq.media_url) ||
                    !body_string(call->body, "openid", &rq.openid) ||
                    !body_int(call->body, "version", &rq.has_version, &rq.version) ||
                    !body_int(call->body, "scene", &rq.has_scene, &rq.scene) ||
                    !body_int(call->body, "media_type", &rq.has_media_type, &rq.media_type);
    if ((errcode = emu_state_media_check(srv->state, &rq, now, appid, &out)) != 0)
        return emu_wx_error(errcode);
    crypto_random(rid, sizeof(rid)); /* an id only: zeros are fine if it fails */
    snprintf(trace_id, sizeof(trace_id), "%08x-%08x-%08x", rid[0], rid[1], rid[2]);
    if (!emu_push_event(srv, appid, rq.openid, "wxa_media_check", trace_id, media_members(appid, trace_id, &out)) ||
        emu_state_media_log_add(srv->state, emu_slice_cstr(appid), &rq, emu_slice_cstr(trace_id), time(NULL)) != EMU_OK)
        return emu_wx_error(-1);
    return json_pack("{s:i,s:s,s:s}", "errcode", 0, "errmsg", "ok", "trace_id", trace_id);
}

/* The string member name of the body (absent when it is not a string): the "code" of faults on
 * subscribe/send (touser) and msg_sec_check (openid), so one user's calls can be made to fail. */
static emu_slice_t body_member_code(const emu_wx_call_t *call, const char *name)
{
    const json_t *v = call->body != NULL ? json_object_get(call->body, name) : NULL;
    if (!json_is_string(v))
        return (emu_slice_t){NULL, 0};
    return (emu_slice_t){json_string_value(v), json_string_length(v)};
}

static emu_slice_t subscribe_touser(const emu_wx_call_t *call)
{
    return body_member_code(call, "touser");
}

static emu_slice_t sec_check_openid(const emu_wx_call_t *call)
{
    return body_member_code(call, "openid");
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
    {"POST", "/cgi-bin/message/subscribe/send", wx_subscribe_send, NULL, NULL, subscribe_touser},
    {"POST", "/wxa/msg_sec_check", wx_msg_sec_check, NULL, NULL, sec_check_openid},
    {"POST", "/wxa/media_check_async", wx_media_check, NULL, NULL, sec_check_openid},
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
