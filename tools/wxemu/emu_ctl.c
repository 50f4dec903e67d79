/*
 * emu_ctl — wxemu's control API, the side of the test that plays the phone and the network:
 *
 *   POST   /__emu/code    {"appid","user"}  -> {"code","openid","unionid"}  what wx.login() gives
 *   POST   /__emu/expire  {"code"}          -> {"expired":true}              skip the 5 minutes
 *   POST   /__emu/faults  {"path",...}      -> {"queued":N}                  next calls fail
 *   DELETE /__emu/faults                    -> {"cleared":N}
 *   GET    /__emu/stats                     -> {path:N,...}                  calls per endpoint
 *   DELETE /__emu/stats                     -> {"reset":true}
 *   GET    /__emu/state                     -> {"codes","sessions","faults"}
 *
 * Each endpoint is a row in emu_ctl_routes[] and a function from the JSON body to (status, answer).
 * Bodies are checked strictly (json_unpack with '!'), so a misspelt field is a 400, not a silent default.
 */
#include "emu_server.h"

#include <stdio.h>
#include <string.h>

static int ctl_error(json_t **answer, int status, const char *fmt, const char *detail)
{
    char message[256];
    snprintf(message, sizeof(message), fmt, detail);
    *answer = json_pack("{s:s}", "error", message);
    return status;
}

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
    switch (emu_state_issue_code(srv->state, slice_of(appid), slice_of(user), emu_now_ms(), &login)) {
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

/* POST /__emu/expire {"code":"..."} */
static int ctl_expire(emu_server_t *srv, const json_t *body, json_t **answer)
{
    const char *code;
    json_error_t err;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s!}", "code", &code) != 0)
        return ctl_error(answer, 400, "bad body: %s", err.text);
    if (emu_state_expire_code(srv->state, slice_of(code), emu_now_ms()) != EMU_OK)
        return ctl_error(answer, 404, "%s", "no such code (never issued, or purged after expiry)");
    *answer = json_pack("{s:b}", "expired", 1);
    return 200;
}

/* Reads the fault body into f; returns NULL or the reason it is refused. */
static const char *parse_fault(emu_server_t *srv, const json_t *body, emu_fault_t *f, char *why, size_t why_size)
{
    const char *path;
    json_int_t errcode = 0, delay_ms = 0, count = 1, http_status = 0;
    int malformed = 0, drop = 0;
    json_error_t err;

    if (json_unpack_ex((json_t *)body, &err, 0, "{s:s,s?I,s?I,s?I,s?I,s?b,s?b!}", "path", &path, "errcode", &errcode,
                       "delay_ms", &delay_ms, "count", &count, "http_status", &http_status, "malformed", &malformed,
                       "drop", &drop) != 0) {
        snprintf(why, why_size, "bad body: %s", err.text);
        return why;
    }
    if (!emu_wx_is_route(path))
        return "path is not a WeChat API endpoint of wxemu";
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
 * faulted ones included; every endpoint is listed, with 0 before its first call. */
static int ctl_stats(emu_server_t *srv, const json_t *body, json_t **answer)
{
    *answer = json_object();
    for (size_t i = 0; i < emu_wx_route_count; ++i) {
        uint64_t n = emu_state_calls(srv->state, emu_slice_cstr(emu_wx_routes[i].path));
        json_object_set_new(*answer, emu_wx_routes[i].path, json_integer((json_int_t)n));
    }
    return 200;
}

/* GET /__emu/state -> {"codes":N,"sessions":N,"faults":N}: what the emulator holds (memory bounds). */
static int ctl_state(emu_server_t *srv, const json_t *body, json_t **answer)
{
    emu_state_purge(srv->state, emu_now_ms());
    *answer = json_pack("{s:I,s:I,s:I}", "codes", (json_int_t)emu_state_code_count(srv->state), "sessions",
                        (json_int_t)emu_state_session_count(srv->state), "faults",
                        (json_int_t)emu_state_fault_count(srv->state));
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
    {"POST", "/__emu/code", ctl_code},         {"POST", "/__emu/expire", ctl_expire},
    {"POST", "/__emu/faults", ctl_faults_add}, {"DELETE", "/__emu/faults", ctl_faults_clear},
    {"GET", "/__emu/stats", ctl_stats},        {"DELETE", "/__emu/stats", ctl_stats_reset},
    {"GET", "/__emu/state", ctl_state},
};
const size_t emu_ctl_route_count = sizeof(emu_ctl_routes) / sizeof(emu_ctl_routes[0]);
