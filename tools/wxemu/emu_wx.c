/*
 * emu_wx — the WeChat API endpoints wxemu answers, as WeChat does: JSON, HTTP 200 even for errors,
 * {"errcode":N,"errmsg":"<text>, rid: <id>"} on failure.
 *
 * Each endpoint is a row in emu_wx_routes[] and a function that turns the request's query and body
 * into the answer; the state logic lives in emu_state.c. To add /cgi-bin/token and friends, add the
 * row, the function and, in emu_state, whatever they must remember.
 */
#include "emu_server.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

/* errmsg texts WeChat uses (without their request ids). */
static const struct {
    int errcode;
    const char *errmsg;
} WX_ERRMSGS[] = {
    {-1, "system error"},
    {40001, "invalid credential, access_token is invalid or not latest"},
    {40002, "invalid grant_type"},
    {40013, "invalid appid"},
    {40029, "invalid code"},
    {40125, "invalid appsecret"},
    {40163, "code been used"},
    {40164, "invalid ip, not in whitelist"},
    {40226, "high risk user"},
    {41002, "appid missing"},
    {41004, "appsecret missing"},
    {41008, "missing code"},
    {42001, "access_token expired"},
    {45009, "reach max api daily quota limit"},
    {45011, "api minute-quota reach limit  mustslower  retry next minute"},
    {47001, "data format error"},
    {87009, "invalid signature"},
};

static const char *wx_errmsg(int errcode)
{
    for (size_t i = 0; i < sizeof(WX_ERRMSGS) / sizeof(WX_ERRMSGS[0]); ++i)
        if (WX_ERRMSGS[i].errcode == errcode)
            return WX_ERRMSGS[i].errmsg;
    return "emulated error";
}

json_t *emu_wx_error(int errcode)
{
    uint32_t rid[3] = {0, 0, 0};
    char errmsg[160];

    crypto_random(rid, sizeof(rid)); /* a request id only: zeros are fine if it fails */
    snprintf(errmsg, sizeof(errmsg), "%s, rid: %08x-%08x-%08x", wx_errmsg(errcode), rid[0], rid[1], rid[2]);
    return json_pack("{s:i,s:s}", "errcode", errcode, "errmsg", errmsg);
}

/* GET /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code */
static json_t *wx_jscode2session(emu_server_t *srv, const emu_query_t *query, const json_t *body)
{
    emu_j2s_request_t rq = {
        .appid = emu_query_get(query, "appid"),
        .secret = emu_query_get(query, "secret"),
        .js_code = emu_query_get(query, "js_code"),
        .grant_type = emu_query_get(query, "grant_type"),
    };
    emu_j2s_result_t out;
    int errcode = emu_state_jscode2session(srv->state, &rq, emu_now_ms(), &out);
    if (errcode != 0)
        return emu_wx_error(errcode);
    json_t *answer =
        json_pack("{s:s,s:s,s:s}", "session_key", out.session_key, "openid", out.openid, "unionid", out.unionid);
    explicit_bzero(out.session_key, sizeof(out.session_key));
    return answer;
}

const emu_wx_route_t emu_wx_routes[] = {
    {"GET", "/sns/jscode2session", wx_jscode2session},
};
const size_t emu_wx_route_count = sizeof(emu_wx_routes) / sizeof(emu_wx_routes[0]);

bool emu_wx_is_route(const char *path)
{
    for (size_t i = 0; i < emu_wx_route_count; ++i)
        if (strcmp(emu_wx_routes[i].path, path) == 0)
            return true;
    return false;
}
