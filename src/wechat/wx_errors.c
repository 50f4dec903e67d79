/*
 * wx_errors — the one table that turns the end of a WeChat call into MeetOA's answer.
 *
 * Every place that answers a client after a WeChat call asks wx_error_lookup(); nothing else
 * maps WeChat errcodes. Codes a client can fix get their own errno and a message telling the
 * user what to do (always: get a fresh code, since a code is single-use); codes that mean our
 * own configuration is wrong are API_SERIOUS and flagged WX_FAULT_CONFIG so that the caller
 * logs them loudly; everything else (timeouts, unreachable, nonsense, unknown errcodes) is
 * API_WX_UNAVAILABLE.
 *
 * The other APIs (wx_error_lookup_api) have their own tables, since the same errcode means
 * something else there (40029 is "not a phone code" for getuserphonenumber). Their messages are
 * api_errmsg()'s unless one reads better for that API; since api_errmsg() is a function, those
 * tables are completed once (pthread_once) and never change afterwards.
 */
#include "wechat/wx_client.h"

#include <pthread.h>
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

/* ---- the APIs that need an access_token ------------------------------------------------------ */

#define WX_MSG_TRY_LATER "微信服务暂时不可用，请稍后重试" /* no code to fetch again */
#define WX_COUNT(a)      (sizeof(a) / sizeof((a)[0]))

/* errmsg NULL: api_errmsg(api_errno), filled in by wx_api_tables_complete(). */
static wx_error_t wx_phone_table[] = {
    {40029, API_WX_PHONE_CODE_INVALID, NULL, WX_FAULT_CLIENT},
    {1400001, API_WX_PHONE_QUOTA, NULL, WX_FAULT_CONFIG}, /* the paid quota: the operator must act */
    {45011, API_WX_RATE_LIMITED, "获取手机号过于频繁，请稍后再试", WX_FAULT_CLIENT},
    {-1, API_WX_BUSY, NULL, WX_FAULT_TRANSIENT},
    {40013, API_SERIOUS, NULL, WX_FAULT_CONFIG},           /* invalid appid */
    {40125, API_SERIOUS, NULL, WX_FAULT_CONFIG},           /* invalid app secret */
    {41002, API_SERIOUS, NULL, WX_FAULT_CONFIG},           /* appid missing */
    {41004, API_SERIOUS, NULL, WX_FAULT_CONFIG},           /* secret missing */
    {40164, API_SERIOUS, NULL, WX_FAULT_CONFIG},           /* our IP is not whitelisted */
    {45009, API_SERIOUS, NULL, WX_FAULT_CONFIG},           /* daily API quota used up */
    {40001, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT}, /* token refused even after a refresh */
    {42001, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT},
    {40014, API_WX_UNAVAILABLE, NULL, WX_FAULT_TRANSIENT},
};

static wx_error_t wx_checksession_table[] = {
    {87009, API_SESSION_KEY_STALE, NULL, WX_FAULT_CLIENT}, /* signature of a session_key that rotated */
    {87008, API_SERIOUS, NULL, WX_FAULT_CONFIG},           /* bad sig_method: our request is wrong */
    {45011, API_WX_RATE_LIMITED, "操作过于频繁，请稍后再试", WX_FAULT_CLIENT},
    {-1, API_WX_BUSY, "微信系统繁忙，请稍后重试", WX_FAULT_TRANSIENT},
    {40013, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40125, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {41002, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {41004, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40164, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {45009, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40001, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
    {42001, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
    {40014, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
};

/* getwxacodeunlimit: our scene or page is wrong (a bug or the app not published), or quotas. */
static wx_error_t wx_wxacode_table[] = {
    {41030, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* the page is not in the published version */
    {40169, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* scene refused: our bug */
    {40129, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40097, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* env_version */
    {47001, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {48001, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* the app may not use this API */
    {45009, API_WX_RATE_LIMITED, "签到码生成过于频繁，请稍后再试", WX_FAULT_TRANSIENT},
    {-1, API_WX_BUSY, "微信系统繁忙，请稍后重试", WX_FAULT_TRANSIENT},
    {40013, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40125, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40164, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40001, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
    {42001, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
    {40014, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
};

/*
 * msg_sec_check and media_check_async. Their requests are built by us from checked values, so a
 * format, scene or empty-value refusal is our bug; the openid is one WeChat gave us, so 40003 and
 * 43104 mean the app changed under us. 61010 ("code is expired": the user has not opened the mini
 * program within 2 hours, WeChat's record of the visit is gone) is the user's: logging in again
 * (wx.login) records a visit, and then the same submit goes through.
 */
static wx_error_t wx_sec_check_table[] = {
    {61010, API_SESSION_KEY_STALE, NULL, WX_FAULT_CLIENT}, /* 登录状态已失效，请重新登录后再试 */
    {-1, API_WX_BUSY, "微信系统繁忙，请稍后重试", WX_FAULT_TRANSIENT},
    {45009, API_WX_RATE_LIMITED, "内容检查过于频繁，请稍后再试", WX_FAULT_TRANSIENT}, /* per-minute/day limits */
    {45011, API_WX_RATE_LIMITED, "内容检查过于频繁，请稍后再试", WX_FAULT_TRANSIENT},
    {44002, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* empty content, media_url or openid: our bug */
    {47001, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* data format: too long, bad version/type/URL */
    {40129, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* scene not 1..4 */
    {40003, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* an openid WeChat does not know for this app */
    {43104, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* appid and openid do not match */
    {43302, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* not a POST */
    {48001, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* the app may not use the API (permission set 18) */
    {40013, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40125, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40164, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {41002, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {41004, API_SERIOUS, NULL, WX_FAULT_CONFIG},
    {40001, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT}, /* refused even after a refresh */
    {42001, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
    {40014, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT},
};

/* Fetching the access_token itself: every errcode it documents is our configuration or quota. */
static wx_error_t wx_token_table[] = {
    {40013, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* invalid appid */
    {40125, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* invalid app secret */
    {40001, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* /cgi-bin/token: bad secret */
    {40164, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* our IP is not whitelisted */
    {45009, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* daily token quota used up */
    {40002, API_SERIOUS, NULL, WX_FAULT_CONFIG}, /* bad grant_type: our request is wrong */
    {41002, API_SERIOUS, NULL, WX_FAULT_CONFIG}, {41004, API_SERIOUS, NULL, WX_FAULT_CONFIG},
};

/* The rest: timeouts, unreachable, bad answers, unknown errcodes. A phone code may have been spent:
 * the user gets a fresh one; a check-session or token failure only needs a later try. */
static const wx_error_t wx_phone_unavailable = {0, API_WX_UNAVAILABLE, WX_MSG_UNAVAILABLE, WX_FAULT_TRANSIENT};
static const wx_error_t wx_later_unavailable = {0, API_WX_UNAVAILABLE, WX_MSG_TRY_LATER, WX_FAULT_TRANSIENT};

static pthread_once_t wx_api_tables_once = PTHREAD_ONCE_INIT;

static void wx_table_complete(wx_error_t *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].errmsg == NULL)
            table[i].errmsg = api_errmsg(table[i].api_errno);
    }
}

static void wx_api_tables_complete(void)
{
    wx_table_complete(wx_phone_table, WX_COUNT(wx_phone_table));
    wx_table_complete(wx_checksession_table, WX_COUNT(wx_checksession_table));
    wx_table_complete(wx_token_table, WX_COUNT(wx_token_table));
    wx_table_complete(wx_wxacode_table, WX_COUNT(wx_wxacode_table));
    wx_table_complete(wx_sec_check_table, WX_COUNT(wx_sec_check_table));
}

static const wx_error_t *wx_table_find(const wx_error_t *table, size_t n, long errcode, const wx_error_t *otherwise)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].errcode == errcode)
            return &table[i];
    }
    return otherwise;
}

const wx_error_t *wx_error_lookup_api(wx_api_t api, wx_outcome_t outcome, long errcode)
{
    if (outcome == WX_OK)
        return NULL;
    if (api == WX_API_CODE2SESSION)
        return wx_error_lookup(outcome, errcode);
    pthread_once(&wx_api_tables_once, wx_api_tables_complete);
    const wx_error_t *otherwise = api == WX_API_PHONE ? &wx_phone_unavailable : &wx_later_unavailable;
    if (outcome != WX_ERRCODE)
        return otherwise;
    switch (api) {
    case WX_API_PHONE:
        return wx_table_find(wx_phone_table, WX_COUNT(wx_phone_table), errcode, otherwise);
    case WX_API_CHECKSESSION:
        return wx_table_find(wx_checksession_table, WX_COUNT(wx_checksession_table), errcode, otherwise);
    case WX_API_TOKEN:
        return wx_table_find(wx_token_table, WX_COUNT(wx_token_table), errcode, otherwise);
    case WX_API_WXACODE:
        return wx_table_find(wx_wxacode_table, WX_COUNT(wx_wxacode_table), errcode, otherwise);
    case WX_API_MSG_SEC_CHECK:
    case WX_API_MEDIA_CHECK:
        return wx_table_find(wx_sec_check_table, WX_COUNT(wx_sec_check_table), errcode, otherwise);
    default:
        return otherwise;
    }
}
