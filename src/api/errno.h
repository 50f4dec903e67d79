/*
 * api/errno — every errno MeetOA answers, with its errmsg. One table, one place.
 *
 * litemall's conventions: HTTP 200 and {"errno":N,"errmsg":"...","data":...}; 0 is
 * success; 401/402 bad arguments; 501 "please log in"; 502 server fault. 7xx are the
 * auth module's (litemall uses 700-709; MeetOA's own start at 710); 8xx the
 * organization's and meetings' (docs/api.md, ../shared/meeting-oa.md). docs/api.md lists
 * them all and must change with this file.
 */
#ifndef MEETOA_API_ERRNO_H
#define MEETOA_API_ERRNO_H

typedef enum api_errno {
    API_OK = 0,
    API_BAD_ARGUMENT = 401,          /* 参数不对: malformed JSON, wrong type, missing field */
    API_BAD_ARGUMENT_VALUE = 402,    /* 参数值不对: out of range, not valid UTF-8, too long */
    API_NOT_FOUND = 404,             /* 接口不存在 (HTTP 404) */
    API_METHOD_NOT_ALLOWED = 405,    /* 请求方法不支持 (HTTP 405) */
    API_BODY_TOO_LARGE = 413,        /* 请求体过大 (HTTP 413) */
    API_TOO_MANY_REQUESTS = 429,     /* 请求过于频繁 (HTTP 429 with Retry-After): an oa.rate-limit.* is reached */
    API_UNLOGIN = 501,               /* 请登录 */
    API_SERIOUS = 502,               /* 系统内部错误 */
    API_STALE_UPDATE = 504,          /* litemall's 更新数据已失效: the version sent is not the current one */
    API_NO_PERMISSION = 506,         /* litemall's 无操作权限 */
    API_MOBILE_REGISTERED = 705,     /* litemall AUTH_MOBILE_REGISTERED: 手机号已注册 */
    API_WX_CODE_INVALID = 710,       /* WeChat 40029: code wrong, expired or of another app */
    API_WX_CODE_USED = 711,          /* WeChat 40163: code already used */
    API_WX_BUSY = 712,               /* WeChat -1: system busy */
    API_WX_RATE_LIMITED = 713,       /* WeChat 45011: too many logins */
    API_WX_USER_BLOCKED = 714,       /* WeChat 40226: high-risk user blocked by WeChat */
    API_WX_UNAVAILABLE = 715,        /* WeChat unreachable, timed out, or answered nonsense */
    API_USER_DISABLED = 720,         /* wx_user.status = 1 */
    API_USER_CLOSED = 721,           /* wx_user.status = 2, or deleted */
    API_WX_PHONE_CODE_INVALID = 730, /* getuserphonenumber 40029: not a phone code (often the wx.login code) */
    API_WX_PHONE_QUOTA = 731,        /* getuserphonenumber 1400001: the paid phone quota is used up */
    API_WX_WRONG_APP = 732,          /* the data's watermark.appid is not ours */
    API_SESSION_KEY_STALE = 733,     /* legacy data no longer matches the stored session_key: log in again */
    API_BAD_SIGNATURE = 734,         /* rawData signature does not match */
    API_UPLOAD_TYPE = 740,           /* not a real PNG, JPEG or WebP */
    API_UPLOAD_TOO_LARGE = 741,      /* the file is over oa.storage.max-bytes */
    API_ROOM_OCCUPIED = 801,         /* the room is held by another meeting at an overlapping time */
    API_NOT_MEMBER = 802,            /* the caller is not a member of the organization */
    API_MEETING_STATE = 803,         /* the action is not allowed in the meeting's state */
    API_NO_SUCH_OBJECT = 804,        /* no such meeting, room, member, request or invite */
    API_INVITE_INVALID = 805,        /* invite code unknown, revoked, expired or used up */
    API_ALREADY_MEMBER = 806,        /* join by a member */
    API_LAST_ADMIN = 807,            /* removing or demoting the last admin */
    API_ATTENDEE_NOT_MEMBER = 808,   /* a participant, observer or approver who is not a member */
    API_MEETING_STARTED = 809,       /* submitting a meeting whose start is not in the future */
    API_CHECKIN_CODE_INVALID = 810,  /* a sign-in scene that is no meeting's */
    API_CHECKIN_CODE_EXPIRED = 811,  /* a rotating sign-in code past its window and overlap */
    API_CHECKIN_CLOSED = 812,        /* sign-in outside its window (before it opens, after the end) */
    API_VOTE_ALREADY = 813,          /* a second ballot of one person on one question */
    API_VOTE_STATE = 814,            /* a vote not open (casting), or not in the state an action needs */
    API_CONTENT_RISKY = 815,         /* WeChat's content check judged a text risky (oa.wx.content-check) */
    API_ACCOUNT_HOSTS_MEETINGS = 816, /* closing an account whose owner hosts meetings not ended (data: list) */
} api_errno_t;

/* The errmsg of an errno (Chinese, as the mini program shows it). Never NULL. */
const char *api_errmsg(api_errno_t code);
/* The HTTP status that goes with an errno: 200 for all but 404, 405, 413 and 429. */
int api_http_status(api_errno_t code);

#endif
