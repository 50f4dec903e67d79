// utils/account.js — the user's own account, for 我的 → 隐私与账号 (pages/account): the live
// sessions (登录设备) and ending them, the login log, the data export and the account deletion.
// Every function resolves or rejects a promise; rejections are Error objects with errno and
// errmsg, as utils/util.js makes them.
//
// Two calls cannot go through util.request/util.downloadFile as they are:
//   - delete_account answers its refusal 816 with data {list: the meetings the user hosts}, and
//     util.request keeps only errno and errmsg of a refusal; and it must not log in again by
//     itself (the user confirmed with this login's code): deleteAccount() sends it with wx.request
//     and rejects an error carrying `data`;
//   - the export is a JSON file (application/json, Content-Disposition: attachment), which
//     util.downloadFile takes for an error envelope: exportData() downloads it with wx.downloadFile
//     and the token header, and tells the file from an envelope by its disposition (an envelope
//     has none). A refused token (501) is renewed once by a util.request of /wx/auth/info (its
//     silent re-login), then the download is tried again.

const util = require('./util.js');
const api = require('../config/api.js');

const NOT_LOGGED_IN_ERRNO = util.NOT_LOGGED_IN_ERRNO;
const HOSTS_MEETINGS_ERRNO = 816; // delete_account: the user hosts upcoming meetings (data.list)
const LAST_ADMIN_ERRNO = 807; // delete_account: the last admin cannot go
const EXPORT_FILE_NAME = 'meetoa-export.json';
const REQUEST_TIMEOUT_MS = 10000;
const DOWNLOAD_TIMEOUT_MS = 60000;

const EVENT_TEXT = {
  login: '登录',
  logout: '退出登录',
  logout_all: '退出全部设备',
  phone: '绑定手机号',
  deleted: '注销账号',
  refused: '登录被拒绝',
};

/** An Error as util.js makes them: message = errmsg; `data` when the server gave some. */
function apiError(errno, errmsg, data) {
  const err = new Error(errmsg || '请求失败');
  err.errno = errno;
  err.errmsg = err.message;
  if (data !== undefined && data !== null) err.data = data;
  return err;
}

function networkError(res) {
  const err = apiError(util.NETWORK_ERRNO, '无法连接服务器，请检查网络后重试');
  err.detail = res && res.errMsg;
  return err;
}

/** The token header of this moment. */
function tokenHeader() {
  const header = {};
  const token = util.getToken();
  if (token) header[api.TokenHeader] = token;
  return header;
}

/** A header's value whatever the case of its name ('' when absent). */
function headerValue(header, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(header || {})) if (k.toLowerCase() === want) return String(header[k]);
  return '';
}

/** MeetOA's envelope in `body` (an object or its JSON text), or null when it is not one. */
function envelopeIn(body) {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (e) {
      return null;
    }
  }
  return value && typeof value === 'object' && typeof value.errno === 'number' ? value : null;
}

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

/** One wx.downloadFile of the export with the token of this moment: resolves {file} or {envelope}. */
function downloadExport() {
  return new Promise((resolve, reject) => {
    let header = {};
    const task = wx.downloadFile({
      url: api.AuthExport,
      header: tokenHeader(),
      timeout: DOWNLOAD_TIMEOUT_MS,
      success: (res) => {
        let text = '';
        try {
          text = wx.getFileSystemManager().readFileSync(res.tempFilePath, 'utf8');
        } catch (e) {
          reject(apiError(util.BAD_ANSWER_ERRNO, '导出文件无法读取，请重试'));
          return;
        }
        const attachment = /attachment/i.test(headerValue(header, 'Content-Disposition'));
        const envelope = attachment ? null : envelopeIn(text);
        if (envelope !== null) {
          resolve({ envelope });
          return;
        }
        let data = null;
        try {
          data = JSON.parse(text);
        } catch (e) {
          data = null;
        }
        if (res.statusCode !== 200 || data === null || typeof data !== 'object') {
          reject(apiError(util.BAD_ANSWER_ERRNO, '服务器应答异常（HTTP ' + res.statusCode + '）'));
          return;
        }
        // dataLength: the downloaded size in bytes, as WeChat reports it.
        const bytes = typeof res.dataLength === 'number' ? res.dataLength : text.length;
        resolve({ file: { tempFilePath: res.tempFilePath, bytes, data } });
      },
      fail: (res) => reject(networkError(res)),
    });
    if (task && typeof task.onHeadersReceived === 'function')
      task.onHeadersReceived((res) => {
        header = (res && res.header) || {};
      });
  });
}

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

/**
 * GET /wx/auth/export: downloads the file (with the token; a refused token renewed once, as every
 * other call is). Resolves {tempFilePath, fileName, bytes, data, summary}.
 */
function exportData() {
  const settle = (answer) => {
    if (answer.file) return answer.file;
    const env = answer.envelope;
    throw apiError(env.errno, env.errmsg, env.data);
  };
  return downloadExport()
    .then((answer) => {
      if (answer.envelope && answer.envelope.errno === NOT_LOGGED_IN_ERRNO)
        return util.request(api.AuthInfo).then(() => downloadExport());
      return answer;
    })
    .then(settle)
    .then((file) => Object.assign({ fileName: EXPORT_FILE_NAME, summary: exportSummary(file.data) }, file));
}

// ---------------------------------------------------------------------------------------------
// Deletion

/**
 * 注销账号: a fresh wx.login() code (the server checks it is this user's WeChat account, so a
 * stolen token alone cannot delete it), then POST /wx/auth/delete_account {code}, once, no silent
 * re-login. On success the stored login is forgotten. Rejects with `data` when the server gave
 * some (816: {list: [{id, title, startTime}]}).
 */
function deleteAccount() {
  return util
    .wxLogin()
    .then(
      (res) =>
        new Promise((resolve, reject) => {
          wx.request({
            url: api.AuthDeleteAccount,
            method: 'POST',
            data: { code: res.code },
            timeout: REQUEST_TIMEOUT_MS,
            header: Object.assign({ 'Content-Type': 'application/json' }, tokenHeader()),
            success: (answer) => {
              const env = envelopeIn(answer.data);
              if (env === null) reject(apiError(util.BAD_ANSWER_ERRNO, '服务器应答异常（HTTP ' + answer.statusCode + '）'));
              else if (env.errno !== 0) reject(apiError(env.errno, env.errmsg, env.data));
              else resolve(env.data);
            },
            fail: (answer) => reject(networkError(answer)),
          });
        }),
    )
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
