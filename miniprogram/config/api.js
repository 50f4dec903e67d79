// config/api.js — where MeetOA answers, and the paths of the endpoints the mini program calls.
//
// ApiRootUrl is the one setting to change for a deployment: the /wx/ root of the MeetOA server
// (`make run` serves it on http://127.0.0.1:8080; in production an https:// domain that is listed
// as a "request 合法域名" of the mini program). Every URL below is built from it, so nothing else
// names a host. TokenHeader must match the server's oa.token.header.

const ApiRootUrl = 'http://127.0.0.1:8080/wx/';

module.exports = {
  ApiRootUrl,
  TokenHeader: 'X-OA-Token',

  AuthLoginByWeixin: ApiRootUrl + 'auth/login_by_weixin', // {code, userInfo?} -> {token, tokenExpire, userInfo}
  AuthInfo: ApiRootUrl + 'auth/info', // -> {nickName, avatar, gender, mobile}
  AuthLogout: ApiRootUrl + 'auth/logout',
  AuthBindPhone: ApiRootUrl + 'auth/bindPhone', // {code} of the getPhoneNumber button
  AuthProfile: ApiRootUrl + 'auth/profile', // any of {nickname, avatar, gender}
  AuthCheckSession: ApiRootUrl + 'auth/check_session',
  // The user's own account (我的 → 隐私与账号).
  AuthSessions: ApiRootUrl + 'auth/sessions', // -> {list: [{id, createdAt, lastUsedAt, expireTime, ip, current}], ...}
  AuthLogoutSession: ApiRootUrl + 'auth/logout_session', // {id}: ends one of the caller's sessions; 804 unknown
  AuthLogoutAll: ApiRootUrl + 'auth/logout_all', // -> {ended}: every session of the caller, this one too
  AuthLoginLog: ApiRootUrl + 'auth/login_log', // ?page=&limit= -> page of {id, event, errno, ip, time}
  AuthExport: ApiRootUrl + 'auth/export', // GET -> the file meetoa-export.json (application/json, attachment)
  AuthDeleteAccount: ApiRootUrl + 'auth/delete_account', // {code} of a fresh wx.login(); 816 hosts meetings, 807 last admin
  StorageUpload: ApiRootUrl + 'storage/upload', // multipart field `file` (chooseAvatar)

  // The organization (docs/api.md, "The organization and its meetings"): members only, 802 for a visitor.
  MemberMe: ApiRootUrl + 'member/me', // -> {membership, userId, name, department, role, rejectReason}
  MemberJoin: ApiRootUrl + 'member/join', // {name, department?, inviteCode?} -> {membership, name, department}
  MemberRequests: ApiRootUrl + 'member/requests', // (admin) ?page=&limit= -> page of join requests
  MemberApprove: ApiRootUrl + 'member/approve', // (admin) {userId, approve, reason?}
  MemberRole: ApiRootUrl + 'member/role', // (admin) {userId, role}
  MemberRemove: ApiRootUrl + 'member/remove', // (admin) {userId}
  MemberInvite: ApiRootUrl + 'member/invite', // (admin) {maxUses, expireDays} -> {id, code, ...}
  MemberInvites: ApiRootUrl + 'member/invites', // (admin) ?page=&limit=
  MemberInviteRevoke: ApiRootUrl + 'member/invite/revoke', // (admin) {id}
  MemberList: ApiRootUrl + 'member/list', // ?keyword=&page=&limit= -> page of {id, name, department, avatar, role}

  RoomList: ApiRootUrl + 'room/list', // ?page=&limit= -> page of rooms
  RoomSchedule: ApiRootUrl + 'room/schedule', // ?date=YYYY-MM-DD -> {date, list: [{..., busy: [...]}]}

  MeetingCreate: ApiRootUrl + 'meeting/create', // -> {id, version}, a draft
  MeetingUpdate: ApiRootUrl + 'meeting/update', // {id, version, ...} -> {id, version}; 504 when stale
  MeetingSubmit: ApiRootUrl + 'meeting/submit', // {id, version?}
  MeetingApprove: ApiRootUrl + 'meeting/approve', // {id, approve, reason?, version?}
  MeetingCancel: ApiRootUrl + 'meeting/cancel', // {id, reason, version?}
  MeetingArchive: ApiRootUrl + 'meeting/archive', // {id, version?}
  MeetingFeedback: ApiRootUrl + 'meeting/feedback', // {id, attend, reason?}
  MeetingDetail: ApiRootUrl + 'meeting/detail', // ?id=
  MeetingCheckin: ApiRootUrl + 'meeting/checkin', // POST {scene}: the page a sign-in code opens
  MeetingList: ApiRootUrl + 'meeting/list', // ?view=&page=&limit=

  // Minutes and attachments (会议纪要): written by the host or an admin once the meeting has ended.
  MeetingMinutes: ApiRootUrl + 'meeting/minutes', // GET ?id= -> {text, authorName, updateTime, attachments}; POST {id, text}
  MeetingAttachment: ApiRootUrl + 'meeting/attachment', // POST multipart (formData id, file `file`); GET ?id= -> the file itself
  MeetingAttachmentDelete: ApiRootUrl + 'meeting/attachment/delete', // {id}

  // Votes (投票) of a meeting.
  VoteCreate: ApiRootUrl + 'vote/create', // {meetingId, title, options, multiple?, maxChoices?, anonymous?, passRule?}
  VoteOpen: ApiRootUrl + 'vote/open', // {id}: draft -> open
  VoteClose: ApiRootUrl + 'vote/close', // {id}: open -> closed
  VoteCast: ApiRootUrl + 'vote/cast', // {id, optionIds}; 813 a second ballot, 814 not open
  VoteResult: ApiRootUrl + 'vote/result', // ?id= -> {..., options: [{id, text, count, voters?, passed?}], myChoices, voted, passed?}
  VoteList: ApiRootUrl + 'vote/list', // ?meetingId= -> {meetingId, list}

  // Subscription reminders (订阅消息).
  SubscribeTemplates: ApiRootUrl + 'subscribe/templates', // -> {invitation, approval, starting, changed}: template ids or null
  SubscribeReport: ApiRootUrl + 'subscribe/report', // {results: the success object of wx.requestSubscribeMessage} -> {quotas}
};
