// utils/account.js — the user's own account, for 我的 → 隐私与账号 (pages/account): the live
// sessions (登录设备) and ending them, the login log, the data export and the account deletion.
// Every function resolves or rejects a promise; rejections are Error objects with errno and
// errmsg (and `data` when the server gave some), as utils/util.js makes them.
//
// Every call goes through util.request / util.downloadFile: the token header, the envelope, a
// renewed token kept (X-OA-Token-Renewed) and the silent re-login on 501, except where it is
// turned off on purpose:
//   - logout_all ends this session too: logging in again to log out makes no sense;
//   - delete_account's body is a fresh wx.login() code the user confirmed with, for the login
//     the token names. A refused token (501) is not renewed by a silent login followed by the same
//     deletion: the call rejects 501 and the page sends the user to the login page, to log in and
//     confirm again. (The server never renews a token on delete_account either: it may end
//     every session, src/auth/account_api.c.)
//   - the export is a file (application/json with Content-Disposition: attachment), which
//     util.downloadFile keeps as a file; a refused token is renewed once as for every call.

const util = require('./util.js');
const api = require('../config/api.js');

const NOT_LOGGED_IN_ERRNO = util.NOT_LOGGED_IN_ERRNO;
const HOSTS_MEETINGS_ERRNO = 816; // delete_account: the user hosts upcoming meetings (data.list)
const LAST_ADMIN_ERRNO = 807; // delete_account: the last admin cannot go
const EXPORT_FILE_NAME = 'meetoa-export.json';

const EVENT_TEXT = {
  login: '登录',
  logout: '退出登录',
  logout_all: '退出全部设备',
  phone: '绑定手机号',
  deleted: '注销账号',
  refused: '登录被拒绝',
};

// ---------------------------------------------------------------------------------------------
// Sessions and the login log

/** A session row as the page shows it. */
function sessionView(row) {
  return {
    id: row.id,
    current: row.current === true,
    ip: row.ip || '',
    createdText: String(row.createdAt || '').slice(0, 16),
    lastUsedText: String(row.lastUsedAt || '').slice(0, 16),
  };
}

/** GET /wx/auth/sessions: resolves the rows for the page, newest first (as the server lists them). */
function sessions() {
  return util.request(api.AuthSessions).then((data) => ((data && data.list) || []).map(sessionView));
}

/** POST /wx/auth/logout_session {id}: ends one session (another device's). */
function logoutSession(id) {
  return util.request(api.AuthLogoutSession, { id }, 'POST');
}

/**
 * POST /wx/auth/logout_all: ends every session, this one too, so the stored login is forgotten
 * (never a silent re-login for this call). Resolves the number ended; a token already refused
 * (501) counts as done.
 */
function logoutAll() {
  return util.request(api.AuthLogoutAll, {}, 'POST', { relogin: false }).then(
    (data) => {
      util.clearLogin();
      return (data && data.ended) || 0;
    },
    (err) => {
      if (err.errno !== NOT_LOGGED_IN_ERRNO) throw err;
      util.clearLogin();
      return 0;
    },
  );
}

/** A login-log row as the page shows it. */
function logView(row) {
  let text = EVENT_TEXT[row.event] || row.event;
  if (row.event === 'refused' && row.errno) text += '（错误 ' + row.errno + '）';
  return { id: row.id, text, time: String(row.time || ''), ip: row.ip || '' };
}

/** GET /wx/auth/login_log?page=&limit=: resolves {list (for the page), page, pages, total}. */
function loginLog(page, limit) {
  return util.request(api.AuthLoginLog, { page, limit }).then((data) => ({
    list: ((data && data.list) || []).map(logView),
    page: (data && data.page) || page,
    pages: (data && data.pages) || 0,
    total: (data && data.total) || 0,
  }));
}

// ---------------------------------------------------------------------------------------------
// Export

/** The counts the page shows of an export: [{key, count}] for its top-level lists and objects. */
function exportSummary(data) {
  const out = [];
  for (const key of Object.keys(data || {})) {
    const v = data[key];
    if (Array.isArray(v)) out.push({ key, count: v.length });
    else if (v && typeof v === 'object') out.push({ key, count: Object.keys(v).length });
  }
  return out;
}

/** The export file at `tempFilePath` read back as JSON: {data, text}, or null when it is not an object. */
function readExport(tempFilePath) {
  try {
    const text = wx.getFileSystemManager().readFileSync(tempFilePath, 'utf8');
    const data = JSON.parse(text);
    return data !== null && typeof data === 'object' ? { data, text } : null;
  } catch (e) {
    return null;
  }
}

/**
 * GET /wx/auth/export: downloads the file with util.downloadFile (the token; a refused token
 * renewed once, a renewed one kept, as every other call). Resolves {tempFilePath, fileName,
 * bytes, data, summary}.
 */
function exportData() {
  return util.downloadFile(api.AuthExport).then((file) => {
    const read = readExport(file.tempFilePath);
    if (read === null) throw util.apiError(util.BAD_ANSWER_ERRNO, '导出文件无法读取，请重试');
    const bytes = typeof file.dataLength === 'number' ? file.dataLength : read.text.length;
    return { tempFilePath: file.tempFilePath, fileName: EXPORT_FILE_NAME, bytes, data: read.data, summary: exportSummary(read.data) };
  });
}

// ---------------------------------------------------------------------------------------------
// Deletion

/**
 * 注销账号: a fresh wx.login() code (the server checks it is this user's WeChat account, so a
 * stolen token alone cannot delete it), then POST /wx/auth/delete_account {code}, once: no silent
 * re-login (a 501 rejects; the stored login is left as it is, the page opens the login page). On
 * success the stored login is forgotten. A refusal rejects with the server's `data` when it gave
 * some (816: err.data = {list: [{id, title, startTime}]}).
 */
function deleteAccount() {
  return util
    .wxLogin()
    .then((res) => util.request(api.AuthDeleteAccount, { code: res.code }, 'POST', { relogin: false }))
    .then((data) => {
      util.clearLogin();
      return data;
    });
}

module.exports = {
  HOSTS_MEETINGS_ERRNO,
  LAST_ADMIN_ERRNO,
  EXPORT_FILE_NAME,
  EVENT_TEXT,
  sessions,
  logoutSession,
  logoutAll,
  loginLog,
  exportData,
  exportSummary,
  deleteAccount,
};
