// utils/org.js — the organization: membership, the member directory, join requests, invite
// codes, rooms (docs/api.md, "The organization and its meetings").
//
// Every function resolves the answer's `data` or rejects the Error of utils/util.js
// ({errno, errmsg, message}); the silent re-login on 501 happens inside util.request.
// Membership is `none` (a visitor), `pending` (asked to join), `member` or `admin`.

const util = require('./util.js');
const api = require('../config/api.js');

const NOT_MEMBER_ERRNO = 802;
const INVITE_INVALID_ERRNO = 805;
const ALREADY_MEMBER_ERRNO = 806;

const MEMBERSHIP_TEXT = { none: '未加入', pending: '待审核', member: '成员', admin: '管理员' };

/** Is this membership one of the organization's (member or admin)? */
function isMember(membership) {
  return membership === 'member' || membership === 'admin';
}

const KEY_MEMBER = 'member';

/** GET /wx/member/me: {membership, userId, name, department, role, rejectReason}; kept as storage `member`. */
function me() {
  return util.request(api.MemberMe).then((data) => {
    wx.setStorageSync(KEY_MEMBER, data);
    return data;
  });
}

/** The last answer of me() on this phone (forgotten with the login), or null. */
function storedMe() {
  return wx.getStorageSync(KEY_MEMBER) || null;
}

/** POST /wx/member/join {name, department?, inviteCode?}: resolves {membership, name, department}. */
function join({ name, department, inviteCode }) {
  const body = { name };
  if (department) body.department = department;
  if (inviteCode) body.inviteCode = inviteCode;
  return util.request(api.MemberJoin, body, 'POST');
}

/** GET /wx/member/list: a page of {id, name, department, avatar, role} whose name or department matches keyword. */
function memberList({ keyword = '', page = 1, limit = 20 } = {}) {
  const query = { page, limit };
  if (keyword) query.keyword = keyword;
  return util.request(api.MemberList, query);
}

/** (admin) GET /wx/member/requests: a page of {userId, name, department, nickName, avatar, requestTime}. */
function requests({ page = 1, limit = 20 } = {}) {
  return util.request(api.MemberRequests, { page, limit });
}

/** (admin) POST /wx/member/approve: approve (true) or reject (false, with an optional reason). */
function decide(userId, approve, reason) {
  const body = { userId, approve };
  if (reason) body.reason = reason;
  return util.request(api.MemberApprove, body, 'POST');
}

/** (admin) POST /wx/member/role {userId, role: 'admin' | 'member'}. */
function setRole(userId, role) {
  return util.request(api.MemberRole, { userId, role }, 'POST');
}

/** (admin) POST /wx/member/invite: a new code {id, code, maxUses, used, expireTime}. */
function createInvite(maxUses, expireDays) {
  return util.request(api.MemberInvite, { maxUses, expireDays }, 'POST');
}

/** (admin) GET /wx/member/invites: a page of codes, newest first. */
function invites({ page = 1, limit = 20 } = {}) {
  return util.request(api.MemberInvites, { page, limit });
}

/** (admin) POST /wx/member/invite/revoke {id}. */
function revokeInvite(id) {
  return util.request(api.MemberInviteRevoke, { id }, 'POST');
}

/** GET /wx/room/list: a page of rooms {id, name, location, capacity, equipment, enabled}. */
function roomList({ page = 1, limit = 100 } = {}) {
  return util.request(api.RoomList, { page, limit });
}

/** GET /wx/room/schedule?date=: {date, list: [{id, name, location, capacity, busy: [{meetingId, title, startTime, endTime, state}]}]}. */
function roomSchedule(date) {
  return util.request(api.RoomSchedule, { date });
}

module.exports = {
  NOT_MEMBER_ERRNO,
  INVITE_INVALID_ERRNO,
  ALREADY_MEMBER_ERRNO,
  MEMBERSHIP_TEXT,
  isMember,
  me,
  storedMe,
  join,
  memberList,
  requests,
  decide,
  setRole,
  createInvite,
  invites,
  revokeInvite,
  roomList,
  roomSchedule,
};
