/*
 * wx_errors — the one table that turns the end of a WeChat call into MeetOA's answer.
 *
 * Every place that answers a client after a WeChat call asks wx_error_lookup(); nothing else
 * maps WeChat errcodes. Codes a client can fix get their own errno and a message telling the
 * user what to do (always: get a fresh code, since a code is single-use); codes that mean our
 * own configuration is wrong are API_SERIOUS and flagged WX_FAULT_CONFIG so that the caller
 * logs them loudly; everything else (timeouts, unreachable, nonsense, unknown errcodes) is
 * API_WX_UNAVAILABLE.
 */
#include "wechat/wx_client.h"

#include <stddef.h>

#define WX_MSG_CONFIG      "系统内部错误" /* the client learns nothing of our configuration; the log does */
#define WX_MSG_UNAVAILABLE "微信服务暂时不可用，请重新获取 code 后重试"

static const wx_error_t wx_errcode_table[] = {
    {40029, API_WX_CODE_INVALID, "登录凭证 code 无效或已过期，请重新调用 wx.login 获取", WX_FAULT_CLIENT},
    {40163, API_WX_CODE_USED, "登录凭证 code 已被使用，请重新调用 wx.login 获取", WX_FAULT_CLIENT},
    {-1, API_WX_BUSY, "微信系统繁忙，请重新获取 code 后重试", WX_FAULT_TRANSIENT},
    {45011, API_WX_RATE_LIMITED, "登录过于频繁，请稍后重新获取 code 再试", WX_FAULT_CLIENT},
    {40226, API_WX_USER_BLOCKED, "该微信用户存在风险，已被微信拦截登录", WX_FAULT_CLIENT},
    {40013, API_SERIOUS, WX_MSG_CONFIG, WX_FAULT_CONFIG}, /* invalid appid */
    {40125, API_SERIOUS, WX_MSG_CONFIG, WX_FAULT_CONFIG}, /* invalid app secret */
    {41002, API_SERIOUS, WX_MSG_CONFIG, WX_FAULT_CONFIG}, /* appid missing */
    {41004, API_SERIOUS, WX_MSG_CONFIG, WX_FAULT_CONFIG}, /* secret missing */
    {41008, API_SERIOUS, WX_MSG_CONFIG, WX_FAULT_CONFIG}, /* code missing: our request is wrong */
    {40002, API_SERIOUS, WX_MSG_CONFIG, WX_FAULT_CONFIG}, /* invalid grant_type */
};

/* Timeouts, unreachable, bad answers and unknown errcodes. errcode 0: the caller has the real one. */
static const wx_error_t wx_error_unavailable = {0, API_WX_UNAVAILABLE, WX_MSG_UNAVAILABLE, WX_FAULT_TRANSIENT};

const wx_error_t *wx_error_lookup(wx_outcome_t outcome, long errcode)
{
    if (outcome == WX_OK)
        return NULL;
    if (outcome == WX_ERRCODE) {
        for (size_t i = 0; i < sizeof(wx_errcode_table) / sizeof(wx_errcode_table[0]); i++) {
            if (wx_errcode_table[i].errcode == errcode)
                return &wx_errcode_table[i];
        }
    }
    return &wx_error_unavailable;
}
