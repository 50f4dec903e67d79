/* api/errno — the errmsg and HTTP status of every errno (see errno.h and docs/api.md). */
#include "api/errno.h"

const char *api_errmsg(api_errno_t code)
{
    switch (code) {
    case API_OK:
        return "成功";
    case API_BAD_ARGUMENT:
        return "参数不对";
    case API_BAD_ARGUMENT_VALUE:
        return "参数值不对";
    case API_NOT_FOUND:
        return "接口不存在";
    case API_METHOD_NOT_ALLOWED:
        return "请求方法不支持";
    case API_BODY_TOO_LARGE:
        return "请求体过大";
    case API_TOO_MANY_REQUESTS:
        return "请求过于频繁，请稍后再试";
    case API_UNLOGIN:
        return "请登录";
    case API_SERIOUS:
        return "系统内部错误";
    case API_MOBILE_REGISTERED:
        return "手机号已注册";
    case API_WX_CODE_INVALID:
        return "登录凭证 code 无效或已过期，请重新调用 wx.login 获取";
    case API_WX_CODE_USED:
        return "登录凭证 code 已被使用，请重新调用 wx.login 获取";
    case API_WX_BUSY:
        return "微信系统繁忙，请重新获取 code 后重试";
    case API_WX_RATE_LIMITED:
        return "登录过于频繁，请稍后重新获取 code 再试";
    case API_WX_USER_BLOCKED:
        return "该微信用户存在风险，已被微信拦截登录";
    case API_WX_UNAVAILABLE:
        return "微信服务暂时不可用，请重新获取 code 后重试";
    case API_USER_DISABLED:
        return "账号已被禁用";
    case API_USER_CLOSED:
        return "账号已注销";
    case API_WX_PHONE_CODE_INVALID:
        return "手机号获取凭证 code 无效或已过期，请使用手机号按钮（getPhoneNumber）返回的 code 重试，不是 wx.login 的 "
               "code";
    case API_WX_PHONE_QUOTA:
        return "手机号快速验证额度已用完，请联系管理员";
    case API_WX_WRONG_APP:
        return "数据不属于本小程序";
    case API_SESSION_KEY_STALE:
        return "登录状态已失效，请重新登录后再试";
    case API_BAD_SIGNATURE:
        return "用户数据签名校验失败";
    case API_UPLOAD_TYPE:
        return "只能上传 PNG、JPEG 或 WebP 图片";
    case API_UPLOAD_TOO_LARGE:
        return "文件过大";
    case API_STALE_UPDATE:
        return "更新数据已失效";
    case API_NO_PERMISSION:
        return "无操作权限";
    case API_ROOM_OCCUPIED:
        return "会议室已被占用";
    case API_NOT_MEMBER:
        return "请先加入组织";
    case API_MEETING_STATE:
        return "会议当前状态不允许该操作";
    case API_NO_SUCH_OBJECT:
        return "数据不存在";
    case API_INVITE_INVALID:
        return "邀请码无效或已失效";
    case API_ALREADY_MEMBER:
        return "已加入组织";
    case API_LAST_ADMIN:
        return "至少需要保留一位管理员";
    case API_ATTENDEE_NOT_MEMBER:
        return "参会人须为组织成员";
    case API_MEETING_STARTED:
        return "会议开始时间已过";
    case API_CHECKIN_CODE_INVALID:
        return "签到码无效";
    case API_CHECKIN_CODE_EXPIRED:
        return "签到码已过期，请重新扫码";
    case API_CHECKIN_CLOSED:
        return "不在签到时间内";
    case API_VOTE_ALREADY:
        return "您已投过票";
    case API_VOTE_STATE:
        return "投票未开始或已结束";
    case API_CONTENT_RISKY:
        return "内容含有违规信息，请修改后再提交";
    case API_ACCOUNT_HOSTS_MEETINGS:
        return "您还主持着未结束的会议，请先取消后再注销";
    }
    return "系统内部错误";
}

int api_http_status(api_errno_t code)
{
    switch (code) {
    case API_NOT_FOUND:
        return 404;
    case API_METHOD_NOT_ALLOWED:
        return 405;
    case API_BODY_TOO_LARGE:
        return 413;
    case API_TOO_MANY_REQUESTS:
        return 429;
    default:
        return 200;
    }
}
