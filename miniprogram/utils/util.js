// utils/util.js — the one way the mini program talks to MeetOA.
//
// request(url, data, method), uploadFile(url, filePath) and downloadFile(url, data) send the stored token in the
// X-OA-Token header, unwrap MeetOA's {errno, errmsg, data} envelope (resolving `data` when
// errno is 0, rejecting an ApiError otherwise) and handle an expired session without bothering
// the user: on errno 501 (no, expired or logged-out token) they clear the stored login, log in
// again silently with wx.login() once, and retry the call once with the new token. A second 501
// is an error like any other, so a server that keeps refusing can never make the client loop.
// Calls that fail together share one silent login (one wx.login(), one login_by_weixin), and a
// call refused after another one has already renewed the token just retries with the new one.
//
// Token renewal: an answer to a call made with a token near its expiry carries a new token in
// the X-OA-Token-Renewed header and its expiry in X-OA-Token-Expire (docs/api.md); every call
// (request, uploadFile, downloadFile) stores them in place of the token it was sent with, unless
// the stored token has changed meanwhile (another answer renewed it first, or a login replaced
// it: the stored one is as good and newer). So a user who opens the mini program every day keeps
// one login; the old token still works for a minute, so calls in flight with it succeed.
//
// The stored login (wx storage): `token`, `tokenExpire` (ISO-8601 from the server) and
// `userInfo` ({nickName, avatarUrl, gender, mobile?}). saveLogin/clearLogin/getToken/
// getUserInfo/adoptRenewal are the only code that touches those keys. `member` (the caller's last
// /wx/member/me answer, kept by utils/org.js) is forgotten with them.
//
// Errors are Error objects with `errno` and `errmsg`: the server's errno, or NETWORK_ERRNO (-1)
// when the server cannot be reached, BAD_ANSWER_ERRNO (-2) when it answers something that is
// not MeetOA's envelope, WX_LOGIN_ERRNO (-3) when wx.login() fails. `message` is Chinese text
// fit for a toast. A refusal whose envelope has a `data` (not null) carries it as `err.data`
// (delete_account's 816: {list: the meetings the user still hosts}); other errors have none.
//
// Downloads: an answer with `Content-Disposition: attachment` is a file whatever its type (the
// data export is an application/json attachment); any other application/json answer, or one
// whose status is not 200, is read back as MeetOA's envelope (MeetOA answers errors with it and
// HTTP 200), so a refusal of a download rejects like request()'s.

const api = require('../config/api.js');

const NETWORK_ERRNO = -1;
const BAD_ANSWER_ERRNO = -2;
const WX_LOGIN_ERRNO = -3;
const NOT_LOGGED_IN_ERRNO = 501;
const REQUEST_TIMEOUT_MS = 10000;
const UPLOAD_TIMEOUT_MS = 60000; // files of up to 10 MiB (attachments) on a phone's network

const KEY_TOKEN = 'token';
const KEY_TOKEN_EXPIRE = 'tokenExpire';
const KEY_USER_INFO = 'userInfo';
const KEY_MEMBER = 'member'; // the last /wx/member/me answer (utils/org.js), forgotten with the login

/** An Error carrying MeetOA's errno and errmsg (message = errmsg, for toasts). */
function apiError(errno, errmsg, detail) {
  const err = new Error(errmsg || '请求失败');
  err.errno = errno;
  err.errmsg = err.message;
  if (detail !== undefined) err.detail = detail;
  return err;
}

/** The Error of an envelope whose errno is not 0: its errno, errmsg and `data` (when not null). */
function refusalError(answer) {
  const err = apiError(answer.errno, answer.errmsg);
  if (answer.data !== undefined && answer.data !== null) err.data = answer.data;
  return err;
}

// ---------------------------------------------------------------------------------------------
// The stored login

function getToken() {
  return wx.getStorageSync(KEY_TOKEN) || '';
}

function getUserInfo() {
  return wx.getStorageSync(KEY_USER_INFO) || null;
}

function setUserInfo(userInfo) {
  wx.setStorageSync(KEY_USER_INFO, userInfo);
}

/** Stores the answer of login_by_weixin: {token, tokenExpire, userInfo}. */
function saveLogin(data) {
  wx.setStorageSync(KEY_TOKEN, data.token);
  wx.setStorageSync(KEY_TOKEN_EXPIRE, data.tokenExpire || '');
  setUserInfo(data.userInfo || {});
}

/** Forgets the stored login (token, its expiry, the user's profile, their membership). */
function clearLogin() {
  wx.removeStorageSync(KEY_TOKEN);
  wx.removeStorageSync(KEY_TOKEN_EXPIRE);
  wx.removeStorageSync(KEY_USER_INFO);
  wx.removeStorageSync(KEY_MEMBER);
}

function hasLogin() {
  return getToken() !== '';
}

const RENEWED_HEADER = 'X-OA-Token-Renewed';
const RENEWED_EXPIRE_HEADER = 'X-OA-Token-Expire';
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Stores the token an answer's headers renewed (and its expiry) when the call was sent with
 * `sentWith` and that is still the stored token. Returns whether it stored one.
 */
function adoptRenewal(header, sentWith) {
  const renewed = headerValue(header, RENEWED_HEADER);
  if (!TOKEN_SHAPE.test(renewed) || sentWith === '' || getToken() !== sentWith) return false;
  wx.setStorageSync(KEY_TOKEN, renewed);
  wx.setStorageSync(KEY_TOKEN_EXPIRE, headerValue(header, RENEWED_EXPIRE_HEADER));
  return true;
}

// ---------------------------------------------------------------------------------------------
// One HTTP exchange, no re-login

/** The token header of `token` (none when it is ''). */
function authHeader(token) {
  const header = {};
  if (token) header[api.TokenHeader] = token;
  return header;
}

/** MeetOA's envelope from a wx.request/wx.uploadFile answer, or an error. */
function envelopeOf(res) {
  let body = res.data;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch (e) {
      body = null;
    }
  }
  if (body === null || typeof body !== 'object' || typeof body.errno !== 'number')
    return Promise.reject(apiError(BAD_ANSWER_ERRNO, '服务器应答异常（HTTP ' + res.statusCode + '）'));
  return Promise.resolve(body);
}

function networkError(res) {
  return apiError(NETWORK_ERRNO, '无法连接服务器，请检查网络后重试', res && res.errMsg);
}

/** wx.request once, with the token of this moment (unless withToken is false); resolves the envelope. */
function sendRequest(url, data, method, withToken = true) {
  const token = withToken ? getToken() : '';
  return new Promise((resolve, reject) => {
    wx.request({
      url,
      data,
      method,
      timeout: REQUEST_TIMEOUT_MS,
      header: Object.assign({ 'Content-Type': 'application/json' }, authHeader(token)),
      success: (res) => {
        adoptRenewal(res.header, token);
        envelopeOf(res).then(resolve, reject);
      },
      fail: (res) => reject(networkError(res)),
    });
  });
}

/** wx.uploadFile once, with the token of this moment (and formData when given); resolves the envelope. */
function sendUpload(url, filePath, name, formData) {
  const token = getToken();
  return new Promise((resolve, reject) => {
    const opts = {
      url,
      filePath,
      name,
      timeout: UPLOAD_TIMEOUT_MS,
      header: authHeader(token),
      success: (res) => {
        adoptRenewal(res.header, token); // (when the base library gives the headers)
        envelopeOf(res).then(resolve, reject);
      },
      fail: (res) => reject(networkError(res)),
    };
    if (formData) opts.formData = formData;
    wx.uploadFile(opts);
  });
}

/** `url` with `data` as its query string. */
function withQuery(url, data) {
  const query = Object.keys(data || {})
    .map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(String(data[k])))
    .join('&');
  return query ? url + (url.indexOf('?') >= 0 ? '&' : '?') + query : url;
}

/** A header's value whatever the case of its name ('' when absent). */
function headerValue(header, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(header || {})) if (k.toLowerCase() === want) return String(header[k]);
  return '';
}

/** Whether an answer's headers make it a file to keep: Content-Disposition: attachment. */
function isAttachment(header) {
  return /^\s*attachment\s*(;|$)/i.test(headerValue(header, 'Content-Disposition'));
}

/**
 * wx.downloadFile once, with the token of this moment; resolves an envelope: the server's own
 * when it answered one (an error: MeetOA answers errors with the envelope and HTTP 200, known by
 * the answer's Content-Type application/json without an attachment disposition), else
 * {errno: 0, data: {tempFilePath, contentType, dataLength?}}. The headers come from the task's
 * onHeadersReceived (WeChat's success result has none) or the result when it has them.
 */
function sendDownload(url) {
  const token = getToken();
  return new Promise((resolve, reject) => {
    let header = {};
    const task = wx.downloadFile({
      url,
      timeout: UPLOAD_TIMEOUT_MS,
      header: authHeader(token),
      success: (res) => {
        if (res.header) {
          header = res.header;
          adoptRenewal(res.header, token);
        }
        const contentType = headerValue(header, 'Content-Type');
        if (res.statusCode !== 200 || (/^application\/json/i.test(contentType) && !isAttachment(header))) {
          let text = '';
          try {
            text = wx.getFileSystemManager().readFileSync(res.tempFilePath, 'utf8');
          } catch (e) {
            text = '';
          }
          envelopeOf({ data: text, statusCode: res.statusCode }).then(resolve, reject);
          return;
        }
        const file = { tempFilePath: res.tempFilePath, contentType };
        if (typeof res.dataLength === 'number') file.dataLength = res.dataLength; // bytes, as WeChat reports them
        resolve({ errno: 0, data: file });
      },
      fail: (res) => reject(networkError(res)),
    });
    if (task && typeof task.onHeadersReceived === 'function')
      task.onHeadersReceived((res) => {
        header = (res && res.header) || {};
        adoptRenewal(header, token);
      });
  });
}

// ---------------------------------------------------------------------------------------------
// Logging in

/** wx.login() as a promise: resolves its result ({code, errMsg}). */
function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => {
        if (res && res.code) resolve(res);
        else reject(apiError(WX_LOGIN_ERRNO, '微信登录失败，请稍后重试', res && res.errMsg));
      },
      fail: (res) => reject(apiError(WX_LOGIN_ERRNO, '微信登录失败，请稍后重试', res && res.errMsg)),
    });
  });
}

/**
 * wx.login(), then login_by_weixin with the code (and userInfo when given); stores and
 * resolves {token, tokenExpire, userInfo}. Never re-logs in by itself.
 */
function loginWithWeixin(userInfo) {
  return wxLogin()
    .then((res) => {
      const body = { code: res.code };
      if (userInfo) body.userInfo = userInfo;
      return sendRequest(api.AuthLoginByWeixin, body, 'POST', false);
    })
    .then((answer) => {
      if (answer.errno !== 0) throw refusalError(answer);
      saveLogin(answer.data);
      return answer.data;
    });
}

let pendingRelogin = null;

/** One silent login shared by every call that found its token refused meanwhile. */
function reloginSilently() {
  if (pendingRelogin === null) {
    pendingRelogin = loginWithWeixin().then(
      (data) => {
        pendingRelogin = null;
        return data;
      },
      (err) => {
        pendingRelogin = null;
        throw err;
      },
    );
  }
  return pendingRelogin;
}

/**
 * A login to wait for after a call sent with token `sentWith` was refused: the silent login in
 * flight, none when another call has already renewed the token meanwhile, or a new one.
 */
function renewLogin(sentWith) {
  if (pendingRelogin !== null) return pendingRelogin;
  const now = getToken();
  if (now !== '' && now !== sentWith) return Promise.resolve();
  clearLogin();
  return reloginSilently();
}

/**
 * Runs send() (a function answering an envelope; it reads the stored token when called); on 501
 * logs in again once and runs it once more (not with options.relogin false). Resolves `data` of
 * an errno-0 answer, rejects refusalError() otherwise.
 */
function withRelogin(send, options) {
  const relogin = !options || options.relogin !== false;
  const sentWith = getToken();
  return send().then((answer) => {
    if (answer.errno === 0) return answer.data;
    if (answer.errno !== NOT_LOGGED_IN_ERRNO || !relogin) throw refusalError(answer);
    return renewLogin(sentWith)
      .then(() => send())
      .then((again) => {
        if (again.errno !== 0) throw refusalError(again);
        return again.data;
      });
  });
}

// ---------------------------------------------------------------------------------------------
// The public calls

/**
 * Calls MeetOA: url from config/api.js, data (an object; GET sends it as the query), method
 * 'GET' (default) or 'POST'. options.relogin = false turns the silent re-login off (logout
 * uses it: logging in to log out makes no sense; so does delete_account, whose body is a code
 * of the login the user confirmed with). Resolves the answer's `data`; a refusal rejects with
 * the answer's `data` as err.data when it has one.
 */
function request(url, data = {}, method = 'GET', options) {
  return withRelogin(() => sendRequest(url, data, method), options);
}

/**
 * Uploads a local file (a chooseAvatar or chooseMessageFile temporary path) as multipart field
 * `name`; options.formData adds text fields (the attachment's meeting `id`). Resolves `data`.
 */
function uploadFile(url, filePath, name = 'file', options) {
  const formData = options && options.formData;
  return withRelogin(() => sendUpload(url, filePath, name, formData), options);
}

/**
 * Downloads what `url` (with `data` as its query) answers, with the token header (an attachment:
 * never a public URL). Resolves {tempFilePath, contentType, dataLength (bytes, when WeChat gives
 * it)}: any answer with Content-Disposition: attachment, or of another type than application/json;
 * an envelope answered instead (an error) rejects like request() does, with the same silent
 * re-login on 501.
 */
function downloadFile(url, data = {}, options) {
  return withRelogin(() => sendDownload(withQuery(url, data)), options);
}

/** A toast with an error text (no icon, so two lines of text fit). */
function showErrorToast(message) {
  wx.showToast({ title: message || '操作失败', icon: 'none', duration: 2000 });
}

/**
 * Shows what went wrong, as the pages do: errno 501 (the token was refused again after the silent
 * re-login: the user has to log in) opens the login page; anything else is a toast of its errmsg.
 */
function showError(err) {
  if (err && err.errno === NOT_LOGGED_IN_ERRNO) {
    wx.navigateTo({ url: '/pages/login/login' });
    return;
  }
  showErrorToast(err && err.message);
}

const pad2 = (n) => (n < 10 ? '0' : '') + n;

/** A Date -> "YYYY-MM-DD" (the phone's local date; pickers of mode=date use this form). */
function dateString(d) {
  return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
}

/** "YYYY-MM-DD" plus `days` -> "YYYY-MM-DD" (calendar arithmetic, no time zone involved). */
function addDays(date, days) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
  if (!m) return date;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days));
  return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
}

/** The picker values "YYYY-MM-DD" and "HH:MM" -> the API's "YYYY-MM-DD HH:MM:SS". */
function joinDateTime(date, time) {
  return date + ' ' + time + ':00';
}

/** The API's "YYYY-MM-DD HH:MM:SS" -> {date: "YYYY-MM-DD", time: "HH:MM"} for the pickers. */
function splitDateTime(text) {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})/.exec(text || '');
  return m ? { date: m[1], time: m[2] } : { date: '', time: '' };
}

/** "2026-12-07 09:00:00" -> "12-07 09:00"; with `end` "...10:00:00" of the same day -> "12-07 09:00–10:00". */
function meetingTime(start, end) {
  const s = splitDateTime(start);
  if (!s.date) return '';
  const text = s.date.slice(5) + ' ' + s.time;
  if (!end) return text;
  const e = splitDateTime(end);
  return text + '–' + (e.date === s.date ? e.time : e.date.slice(5) + ' ' + e.time);
}

/** "2026-11-24T20:00:00+08:00" -> "2026-11-24 20:00" (display only). */
function formatTime(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso || '');
  return m ? m[1] + ' ' + m[2] : '';
}

/** "13800138000" -> "138****8000" (what the pages show of a phone number). */
function maskPhone(phone) {
  const s = String(phone || '');
  return s.length >= 7 ? s.slice(0, 3) + '****' + s.slice(-4) : s;
}

module.exports = {
  NETWORK_ERRNO,
  BAD_ANSWER_ERRNO,
  WX_LOGIN_ERRNO,
  NOT_LOGGED_IN_ERRNO,
  apiError,
  request,
  uploadFile,
  downloadFile,
  wxLogin,
  loginWithWeixin,
  getToken,
  getUserInfo,
  setUserInfo,
  saveLogin,
  clearLogin,
  hasLogin,
  showErrorToast,
  showError,
  dateString,
  addDays,
  joinDateTime,
  splitDateTime,
  meetingTime,
  formatTime,
  maskPhone,
};
