// utils/meeting.js — meetings: publish (create, update, submit), approve or reject, cancel,
// archive, answer an invitation, read one, the six lists (docs/api.md, "Meetings"), and the
// minutes and their attachments ("Minutes and attachments").
//
// Every function resolves the answer's `data` or rejects the Error of utils/util.js. A state
// change answers {id, version, state, stateName}; a `version` that is stale is refused with
// errno 504 (STALE_ERRNO), nothing changed: the page reloads and tells the user.

const util = require('./util.js');
const api = require('../config/api.js');

const STALE_ERRNO = 504;
const NO_PERMISSION_ERRNO = 506;
const ROOM_BUSY_ERRNO = 801;
const BAD_STATE_ERRNO = 803;
const START_PASSED_ERRNO = 809;

const MINUTES_MAX = 20000; // characters of the minutes (the server's limit)

/** state -> its name (the server sends stateName too; this is for pages that have only the code). */
const STATE_NAMES = { 0: '已取消', 1: '新建', 2: '待审核', 3: '驳回', 4: '待开', 5: '进行中', 6: '已结束', 7: '归档' };

/** The lists of the 会议 tab, in the order of its tabs. */
const VIEWS = [
  { view: 'mine', text: '我的会议' },
  { view: 'approval', text: '我的审批' },
  { view: 'notice', text: '会议通知' },
  { view: 'upcoming', text: '待开会议' },
  { view: 'history', text: '历史会议' },
  { view: 'all', text: '所有会议' },
];

const ROLE_TEXT = { host: '主持人', participant: '参与者', observer: '列席者', approver: '审批人', admin: '管理员' };
const ANSWER_TEXT = { attend: '参加', decline: '不参加', none: '未答复' };

/** GET /wx/meeting/list: a page {list, total, page, limit, pages} of one view. */
function list(view = 'upcoming', page = 1, limit = 20) {
  return util.request(api.MeetingList, { view, page, limit });
}

/** POST /wx/meeting/checkin {scene}: {meetingId, title, userId, checkinTime, late, already, makeup}. */
function checkin(scene) {
  return util.request(api.MeetingCheckin, { scene }, 'POST');
}

/** GET /wx/meeting/detail?id= */
function detail(id) {
  return util.request(api.MeetingDetail, { id });
}

/**
 * POST /wx/meeting/create with the fields of the edit page: {title, content, startTime, endTime,
 * roomId | location, participantIds, observerIds, approverId, remindMinutes}. Resolves {id, version}.
 */
function create(fields) {
  return util.request(api.MeetingCreate, fields, 'POST');
}

/** POST /wx/meeting/update {id, version, ...fields}: resolves {id, version}; 504 when `version` is stale. */
function update(id, version, fields) {
  return util.request(api.MeetingUpdate, Object.assign({}, fields, { id, version }), 'POST');
}

/** Adds `version` to a body when the caller knows it (the server then refuses a stale one). */
function withVersion(body, version) {
  if (version !== undefined && version !== null) body.version = version;
  return body;
}

/** POST /wx/meeting/submit: 1, 3 -> 2 (送审). */
function submit(id, version) {
  return util.request(api.MeetingSubmit, withVersion({ id }, version), 'POST');
}

/** POST /wx/meeting/approve: 2 -> 4 (approve) or 3 (reject; a reason is required). */
function approve(id, yes, reason, version) {
  const body = { id, approve: yes };
  if (reason) body.reason = reason;
  return util.request(api.MeetingApprove, withVersion(body, version), 'POST');
}

/** POST /wx/meeting/cancel with a reason (1–200 characters). */
function cancel(id, reason, version) {
  return util.request(api.MeetingCancel, withVersion({ id, reason }, version), 'POST');
}

/** POST /wx/meeting/archive: 6 -> 7. */
function archive(id, version) {
  return util.request(api.MeetingArchive, withVersion({ id }, version), 'POST');
}

/** POST /wx/meeting/feedback: attend (true) or decline (false, a reason is required). */
function feedback(id, attend, reason) {
  const body = { id, attend };
  if (reason) body.reason = reason;
  return util.request(api.MeetingFeedback, body, 'POST');
}

/** GET /wx/meeting/minutes?id=: {meetingId, text, authorName, updateTime, attachments: [{id, name, contentType, size, addTime}]}. */
function minutes(id) {
  return util.request(api.MeetingMinutes, { id });
}

/** POST /wx/meeting/minutes {id, text}: rewrites the minutes (0–20,000 characters); {meetingId, updateTime}. */
function saveMinutes(id, text) {
  return util.request(api.MeetingMinutes, { id, text }, 'POST');
}

/** POST /wx/meeting/attachment: the local file (chooseMessageFile's path) as `file`, the meeting as formData `id`. */
function uploadAttachment(id, filePath) {
  return util.uploadFile(api.MeetingAttachment, filePath, 'file', { formData: { id: String(id) } });
}

/** POST /wx/meeting/attachment/delete {id}. */
function deleteAttachment(id) {
  return util.request(api.MeetingAttachmentDelete, { id }, 'POST');
}

/** GET /wx/meeting/attachment?id= with the token: resolves {tempFilePath, contentType}. */
function downloadAttachment(id) {
  return util.downloadFile(api.MeetingAttachment, { id });
}

/** A size in bytes as the pages show it: "820 B", "12.5 KB", "3.2 MB". */
function sizeText(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
  return (n / 1024 / 1024).toFixed(1) + ' MB';
}

/** The fileType of wx.openDocument for an attachment's contentType (or its name), '' for images. */
function documentType(contentType, name) {
  const byType = {
    'application/pdf': 'pdf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  };
  const type = String(contentType || '').split(';')[0].trim().toLowerCase();
  if (byType[type]) return byType[type];
  if (type.indexOf('image/') === 0) return '';
  const m = /\.([A-Za-z0-9]+)$/.exec(name || '');
  return m ? m[1].toLowerCase() : '';
}

/** A list row as the pages show it: adds `timeText` ("12-07 09:00–10:00") and `place`. */
function listItem(m) {
  return Object.assign({}, m, {
    timeText: util.meetingTime(m.startTime, m.endTime),
    place: m.roomName || m.location || '',
    stateName: m.stateName || STATE_NAMES[m.state] || '',
  });
}

module.exports = {
  STALE_ERRNO,
  NO_PERMISSION_ERRNO,
  ROOM_BUSY_ERRNO,
  BAD_STATE_ERRNO,
  START_PASSED_ERRNO,
  MINUTES_MAX,
  STATE_NAMES,
  VIEWS,
  ROLE_TEXT,
  ANSWER_TEXT,
  list,
  checkin,
  detail,
  create,
  update,
  submit,
  approve,
  cancel,
  archive,
  feedback,
  minutes,
  saveMinutes,
  uploadAttachment,
  deleteAttachment,
  downloadAttachment,
  sizeText,
  documentType,
  listItem,
};
