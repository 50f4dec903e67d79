// wx-stub.mjs — a stand-in for the `wx` object of the WeChat client, for running the real
// mini program code (miniprogram/) in Node against real meetoa and wxemu processes.
//
// What it does, API by API (only what the mini program uses; anything else throws, so a call
// the stand-in does not know fails the test instead of passing silently):
//   wx.login            POST {wxemuBase}/__emu/code {appid, user}: the code WeChat would give
//                       this phone's user; fails like WeChat ({errMsg: "login:fail ..."}) when
//                       wxemu cannot be reached
//   wx.checkSession     succeeds once wx.login has succeeded (until expireSession())
//   wx.request          a real HTTP call with fetch; `data` as the query (GET) or a JSON body;
//                       answers {data (parsed JSON), statusCode, header}; a network failure is
//                       fail({errMsg: "request:fail ..."}) as on a phone
//   wx.uploadFile       reads filePath from disk and posts it as multipart/form-data (with formData)
//   wx.downloadFile     a real GET with the header given; the body is written to a temporary file
//                       (tempFilePath) under this phone's directory; answers {tempFilePath,
//                       statusCode, dataLength} (no headers, as WeChat's); the task's
//                       onHeadersReceived(cb) gets {header} first
//   wx.getFileSystemManager().readFileSync(path, encoding?)   reads such a file (or any file)
//   wx.chooseMessageFile answers state.messageFiles ([{path, name, size, type}]) as tempFiles, or
//                       fail({errMsg: "chooseMessageFile:fail cancel"}) when it is null
//   wx.openDocument, wx.previewImage   recorded; openDocument fails for a fileType WeChat does not
//                       open (state.openDocumentFails forces a failure)
//   wx.requestSubscribeMessage   WeChat shows the dialog only from a tap: a call made outside
//                       tap(fn) (below) fails like WeChat's client, {errMsg: "requestSubscribeMessage:
//                       fail can only be invoked by user TAP gesture.", errCode: 10005} (10005:
//                       "Cannot show subscribe message UI", the closest documented code); no
//                       tmplIds fails with 10001, more than 3 with 20003. Otherwise it answers, on a
//                       later turn, {errMsg: "requestSubscribeMessage:ok", [id]: state.subscribe[id]
//                       ?? state.subscribeDefault ("accept")}, or fail(state.subscribeFail) when
//                       that is set (e.g. {errMsg: "...:fail", errCode: 20004}: the switch is off).
//                       Every call is in `subscribeCalls` ({tmplIds, inTap, ok, res}), in order.
//   wx.getPrivacySetting, wx.onNeedPrivacyAuthorization, wx.requirePrivacyAuthorize,
//   wx.openPrivacyContract, and pressButton() (below) for the open-type buttons:
//                       WeChat's privacy consent (see "Privacy" below)
//   wx.shareFileMessage recorded in `sharedFiles` ({filePath, fileName, bytes}); like WeChat it may
//                       be called only from a tap ("限制：仅在点击行为时调用", the API's page):
//                       outside one it fails {errMsg: "shareFileMessage:fail can only be invoked by
//                       user TAP gesture."} (the text of WeChat's other tap-only APIs)
//   wx.*StorageSync     a Map (values copied through JSON, as WeChat stores them)
//   wx.showToast, showLoading, hideLoading, showModal, navigateTo, navigateBack, switchTab,
//   redirectTo, reLaunch, stopPullDownRefresh, setClipboardData, setNavigationBarTitle,
//   getUpdateManager
//                       recorded in `calls`; showModal answers {confirm: modalAnswer}
//
// Hosts: the mini program only knows config/api.js's ApiRootUrl (http://127.0.0.1:8080/wx/).
// `hosts` maps such an origin to where the server really listens, as a phone's DNS would; a URL
// whose origin is not mapped fails like a domain outside the mini program's list.
//
// Counters: calls (every recorded call as {api, args}), count(api), requests (the wx.request,
// wx.uploadFile and wx.downloadFile calls with url, method, header, data), and `intercept`, a
// function that may answer a wx.request instead of the network (to play a server that misbehaves).
// tap(fn) runs fn as the handler of a tap: APIs that WeChat allows only from a user's tap
// (requestSubscribeMessage) see `inTap` while fn runs synchronously, and not after (a callback, a
// resolved promise, a timer): exactly WeChat's rule.
//
// Privacy (用户隐私保护指引; facts from ../shared/wechat-more-apis.md Part 3.3 and the official
// pages it cites: framework/user-privacy/PrivacyAuthorize, api/open-api/privacy/wx.onNeedPrivacy
// Authorization, wx.getPrivacySetting, wx.requirePrivacyAuthorize, wx.openPrivacyContract):
//   - The mini program declares a guide (state.privacyContractName), so a new user must agree:
//     wx.getPrivacySetting answers {needAuthorization: true} until they have (state.privacyAgreed),
//     then false. The check is on (WeChat: for everyone since 2023-10-17; app.json's
//     "__usePrivacyCheck__": true before that).
//   - A privacy API or component used before the agreement is held and fires the listener of
//     wx.onNeedPrivacyAuthorization with (resolve, {referrer}), referrer "button.getPhoneNumber"
//     (the documented example) or "button.chooseAvatar" (by analogy). A later registration
//     replaces the listener (Alipay's page of the same API says so; WeChat's demo2 keeps one
//     listener per page for that reason). resolve({event: 'exposureAuthorization'}) is recorded;
//     resolve({event: 'agree', buttonId}) lets the held call go on only when a button of
//     open-type="agreePrivacyAuthorization" with that id was tapped (the base library checks it),
//     else it fails "...:fail privacy permission is not authorized or buttonId is wrong" (errno 104,
//     as WeChat answered in developers' reports); resolve({event: 'disagree'}) fails it with
//     "...:fail privacy permission is not authorized", errno 104 (the API page gives the text; 104
//     is the errno WeChat gives with it: developer-community threads, staff answer 2023-09-14).
//     Only the first agree/disagree of a request counts.
//   - No listener: WeChat's own privacy pop-up (added 2023-09-14) answers, as
//     state.officialPrivacyAnswer says ('disagree' unless a test sets it): a mini program that
//     forgot its listener fails the agree tests.
//   - Tapping an agreePrivacyAuthorization button records the agreement (the getPrivacySetting
//     page: after that tap "所有隐私接口和组件都可以调用了").
//   Every request is in `privacyRequests` ({referrer, via: 'listener' | 'official' | 'agreed',
//   exposed, answer}), in order.
// pressButton({openType, id, dataset, handler}) is a tap on a <button open-type=...> (harness.mjs finds the
// button in the page's WXML and passes the method it binds): getPhoneNumber goes through the
// privacy check, then WeChat's phone sheet (state.phoneCode: the code it gives — from wxemu's
// phoneCode — or null: the user denies, "getPhoneNumber:fail user deny"), then handler gets
// {type: 'getphonenumber', detail}; a privacy refusal reaches the handler as detail {errMsg:
// "getPhoneNumber:fail privacy permission is not authorized", errno: 104}. chooseAvatar goes
// through the check, then the avatar sheet (state.avatarFile, or null: cancelled); the handler
// gets {type: 'chooseavatar', detail: {avatarUrl}} only when a file was chosen (WeChat documents
// no failure event for it, so a refusal or a cancel calls nothing). agreePrivacyAuthorization
// records the agreement, then calls the handler ({type: 'agreeprivacyauthorization'}). Any other
// button (no open-type) is a plain tap. Handlers run as taps (inTap). It answers a promise of what
// the handler answered (undefined when it was not called).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Parses JSON, or answers the text as it is (wx.request's dataType "json" does the same). */
function parseMaybeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function headersObject(headers) {
  const out = {};
  for (const [k, v] of headers.entries()) out[k] = v;
  return out;
}

/** The code of a fetch failure (ECONNREFUSED, ...) for errMsg. */
function failureText(e) {
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(e);
}

/**
 * Creates a stand-in. opts:
 *   appid, user    whose phone this is (user: the wxemu user name)
 *   wxemuBase      http://127.0.0.1:PORT of wxemu (its control API)
 *   hosts          { 'http://127.0.0.1:8080': 'http://127.0.0.1:PORT' } origin map
 *   log            optional function(line) called for every network call (the demo prints them)
 */
export function createWx({ appid, user, wxemuBase, hosts = {}, log } = {}) {
  const storage = new Map();
  const calls = [];
  const requests = [];
  let sessionAlive = false;
  let inTap = false;
  let tempDir = null;
  let tempSeq = 0;
  const subscribeCalls = [];
  const state = {
    modalAnswer: true,
    intercept: null,
    messageFiles: null, // what chooseMessageFile answers: [{path, name, size, type}], null = cancelled
    subscribe: {}, // requestSubscribeMessage: template id -> 'accept' | 'reject' | 'ban' | 'filter' | ...
    subscribeDefault: 'accept',
    subscribeFail: null, // a fail result for every call (the user's switch is off, ...)
    openDocumentFails: false,
    privacyAgreed: false, // has this user agreed to the mini program's privacy guide?
    privacyContractName: '《会议OA小程序隐私保护指引》',
    officialPrivacyAnswer: 'disagree', // WeChat's own pop-up, used when no listener is registered
    phoneCode: null, // what the getPhoneNumber sheet gives: a phone code, or null (the user denies)
    avatarFile: null, // what the chooseAvatar sheet gives: a file path, or null (cancelled)
  };
  const privacyRequests = [];
  const sharedFiles = [];
  let privacyListener = null;
  const agreeButtonsTapped = new Set();

  /** A new temporary file path of this phone (as WeChat's wxfile://tmp_...). */
  function tempPath(ext) {
    if (tempDir === null) {
      const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-wx-'));
      tempDir = dir;
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
    tempSeq += 1;
    return path.join(tempDir, `tmp_${tempSeq}${ext ? '.' + ext : ''}`);
  }

  const record = (api, args) => calls.push({ api, args });
  const done = (opts, ok, res) => {
    if (ok) opts.success?.(res);
    else opts.fail?.(res);
    opts.complete?.(res);
  };

  function mapUrl(url) {
    const u = new URL(url);
    const target = hosts[u.origin];
    if (target === undefined) return null;
    return target + u.pathname + u.search;
  }

  async function doRequest(opts) {
    const method = (opts.method ?? 'GET').toUpperCase();
    const header = { ...(opts.header ?? {}) };
    requests.push({ api: 'request', url: opts.url, method, header, data: opts.data });
    if (state.intercept) {
      const fake = await state.intercept({ url: opts.url, method, header, data: opts.data });
      if (fake !== undefined) return { ok: true, res: { errMsg: 'request:ok', ...fake } };
    }
    let target = mapUrl(opts.url);
    if (target === null) return { ok: false, res: { errMsg: `request:fail url not in domain list: ${opts.url}` } };
    let body;
    if (method === 'GET' || method === 'HEAD') {
      const data = opts.data ?? {};
      const q = new URLSearchParams();
      if (typeof data === 'object') for (const [k, v] of Object.entries(data)) q.append(k, String(v));
      const qs = q.toString();
      if (qs) target += (target.includes('?') ? '&' : '?') + qs;
    } else if (opts.data !== undefined) {
      body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data);
    }
    log?.(`wx.request ${method} ${opts.url}`);
    try {
      const res = await fetch(target, {
        method,
        headers: header,
        body,
        signal: AbortSignal.timeout(opts.timeout ?? 60000),
      });
      const text = await res.text();
      const data = (opts.dataType ?? 'json') === 'json' ? parseMaybeJson(text) : text;
      return { ok: true, res: { data, statusCode: res.status, header: headersObject(res.headers), errMsg: 'request:ok' } };
    } catch (e) {
      return { ok: false, res: { errMsg: `request:fail ${failureText(e)}` } };
    }
  }

  async function doUpload(opts) {
    requests.push({ api: 'uploadFile', url: opts.url, method: 'POST', header: { ...(opts.header ?? {}) }, data: opts.filePath });
    const target = mapUrl(opts.url);
    if (target === null) return { ok: false, res: { errMsg: `uploadFile:fail url not in domain list: ${opts.url}` } };
    let bytes;
    try {
      bytes = readFileSync(opts.filePath);
    } catch (e) {
      return { ok: false, res: { errMsg: `uploadFile:fail file not found: ${opts.filePath}` } };
    }
    const form = new FormData();
    for (const [k, v] of Object.entries(opts.formData ?? {})) form.append(k, String(v));
    form.append(opts.name, new Blob([bytes]), path.basename(opts.filePath));
    log?.(`wx.uploadFile POST ${opts.url} (${bytes.length} bytes)`);
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: opts.header ?? {},
        body: form,
        signal: AbortSignal.timeout(opts.timeout ?? 60000),
      });
      // wx.uploadFile answers the body as a string, never parsed.
      return { ok: true, res: { data: await res.text(), statusCode: res.status, errMsg: 'uploadFile:ok' } };
    } catch (e) {
      return { ok: false, res: { errMsg: `uploadFile:fail ${failureText(e)}` } };
    }
  }

  async function doDownload(opts, task) {
    const header = { ...(opts.header ?? {}) };
    requests.push({ api: 'downloadFile', url: opts.url, method: 'GET', header, data: undefined });
    const target = mapUrl(opts.url);
    if (target === null) return { ok: false, res: { errMsg: `downloadFile:fail url not in domain list: ${opts.url}` } };
    log?.(`wx.downloadFile GET ${opts.url}`);
    try {
      const res = await fetch(target, { method: 'GET', headers: header, signal: AbortSignal.timeout(opts.timeout ?? 60000) });
      const head = headersObject(res.headers);
      for (const cb of task.headerListeners) cb({ header: head });
      const bytes = Buffer.from(await res.arrayBuffer());
      const file = tempPath('');
      writeFileSync(file, bytes);
      // As WeChat's: no headers in the success result (only the task's onHeadersReceived has them).
      return { ok: true, res: { tempFilePath: file, statusCode: res.status, dataLength: bytes.length, errMsg: 'downloadFile:ok' } };
    } catch (e) {
      return { ok: false, res: { errMsg: `downloadFile:fail ${failureText(e)}` } };
    }
  }

  /** wx.requestSubscribeMessage: see the top of this file. */
  function requestSubscribeMessage(opts = {}) {
    record('requestSubscribeMessage', opts);
    const tmplIds = Array.isArray(opts.tmplIds) ? [...opts.tmplIds] : [];
    const entry = { tmplIds, inTap, ok: false, res: null };
    subscribeCalls.push(entry);
    let ok = false;
    let res;
    if (!inTap) res = { errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.', errCode: 10005 };
    else if (tmplIds.length === 0) res = { errMsg: "requestSubscribeMessage:fail TmplIds can't be empty", errCode: 10001 };
    else if (tmplIds.length > 3) res = { errMsg: 'requestSubscribeMessage:fail Templates count out of max bounds', errCode: 20003 };
    else if (state.subscribeFail) res = { ...state.subscribeFail };
    else {
      ok = true;
      res = { errMsg: 'requestSubscribeMessage:ok' };
      for (const id of tmplIds) res[id] = state.subscribe[id] ?? state.subscribeDefault;
    }
    entry.ok = ok;
    entry.res = res;
    setImmediate(() => done(opts, ok, res));
  }

  const PRIVACY_FAIL = 'privacy permission is not authorized';
  const PRIVACY_ERRNO = 104;

  /**
   * The privacy check of a privacy API or component (`referrer` as WeChat names it, `api` for its
   * errMsg): resolves {ok: true} when it may go on, {ok: false, res: {errMsg, errno}} when not.
   * See "Privacy" at the top of this file.
   */
  function privacyCheck(referrer, api) {
    const entry = { referrer, via: 'agreed', exposed: false, answer: null };
    privacyRequests.push(entry);
    if (state.privacyAgreed) return Promise.resolve({ ok: true });
    const refused = (text) => ({ ok: false, res: { errMsg: `${api}:fail ${text}`, errno: PRIVACY_ERRNO } });
    if (privacyListener === null) {
      entry.via = 'official';
      entry.answer = state.officialPrivacyAnswer;
      record('privacyPopup', { referrer });
      if (state.officialPrivacyAnswer === 'agree') state.privacyAgreed = true;
      return new Promise((resolve) => setImmediate(() => resolve(state.privacyAgreed ? { ok: true } : refused(PRIVACY_FAIL))));
    }
    entry.via = 'listener';
    return new Promise((settle) => {
      let settled = false;
      const resolve = (arg = {}) => {
        if (settled) return;
        if (arg.event === 'exposureAuthorization') {
          entry.exposed = true;
          return;
        }
        if (arg.event !== 'agree' && arg.event !== 'disagree') throw new TypeError(`resolve: unknown event ${arg.event}`);
        settled = true;
        entry.answer = arg.event;
        if (arg.event === 'disagree') settle(refused(PRIVACY_FAIL));
        else if (agreeButtonsTapped.has(arg.buttonId) && state.privacyAgreed) settle({ ok: true });
        else settle(refused(`${PRIVACY_FAIL} or buttonId is wrong`));
      };
      privacyListener(resolve, { referrer });
    });
  }

  /** A tap on a <button open-type=...>: see "Privacy" at the top of this file. */
  async function pressButton({ openType, id, dataset = {}, handler }) {
    const run = (event) => {
      inTap = true;
      try {
        return handler({ currentTarget: { id, dataset: { ...dataset } }, target: { id, dataset: { ...dataset } }, ...event });
      } finally {
        inTap = false;
      }
    };
    record('pressButton', { openType, id });
    switch (openType ?? '') {
      case '':
        return run({ type: 'tap', detail: {} });
      case 'agreePrivacyAuthorization':
        agreeButtonsTapped.add(id);
        state.privacyAgreed = true;
        return run({ type: 'agreeprivacyauthorization', detail: {} });
      case 'getPhoneNumber': {
        const check = await privacyCheck('button.getPhoneNumber', 'getPhoneNumber');
        if (!check.ok) return run({ type: 'getphonenumber', detail: check.res });
        const detail = state.phoneCode ? { code: state.phoneCode, errMsg: 'getPhoneNumber:ok' } : { errMsg: 'getPhoneNumber:fail user deny' };
        return run({ type: 'getphonenumber', detail });
      }
      case 'chooseAvatar': {
        const check = await privacyCheck('button.chooseAvatar', 'chooseAvatar');
        if (!check.ok || !state.avatarFile) return undefined;
        return run({ type: 'chooseavatar', detail: { avatarUrl: state.avatarFile } });
      }
      default:
        throw new TypeError(`pressButton: open-type "${openType}" is not emulated (tests/miniprogram/wx-stub.mjs)`);
    }
  }

  async function doLogin() {
    log?.(`wx.login (wxemu: code for ${user})`);
    try {
      const res = await fetch(`${wxemuBase}/__emu/code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appid, user }),
      });
      const json = parseMaybeJson(await res.text());
      if (res.status !== 200 || typeof json?.code !== 'string') return { ok: false, res: { errMsg: `login:fail HTTP ${res.status}` } };
      sessionAlive = true;
      return { ok: true, res: { code: json.code, errMsg: 'login:ok' } };
    } catch (e) {
      return { ok: false, res: { errMsg: `login:fail ${failureText(e)}` } };
    }
  }

  /** Runs an async implementation and calls the callbacks on a later turn, as WeChat does. */
  const async_ = (api, impl) => (opts = {}) => {
    record(api, opts);
    impl(opts).then(
      ({ ok, res }) => done(opts, ok, res),
      (e) => done(opts, false, { errMsg: `${api}:fail ${e.message}` }),
    );
  };
  /** A UI call: recorded, answers success on a later turn. */
  const ui = (api, res = {}) => (opts = {}) => {
    record(api, opts);
    setImmediate(() => done(opts, true, { errMsg: `${api}:ok`, ...(typeof res === 'function' ? res() : res) }));
  };

  const copy = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

  const wx = {
    login: async_('login', doLogin),
    checkSession: async_('checkSession', async () =>
      sessionAlive ? { ok: true, res: { errMsg: 'checkSession:ok' } } : { ok: false, res: { errMsg: 'checkSession:fail session time out, need relogin' } },
    ),
    request: async_('request', doRequest),
    uploadFile: async_('uploadFile', doUpload),
    downloadFile: (opts = {}) => {
      record('downloadFile', opts);
      const task = { headerListeners: [], onHeadersReceived: (cb) => void task.headerListeners.push(cb), abort() {} };
      // The task is returned before anything happens (listeners are added on the same turn).
      setImmediate(() =>
        doDownload(opts, task).then(
          ({ ok, res }) => done(opts, ok, res),
          (e) => done(opts, false, { errMsg: `downloadFile:fail ${e.message}` }),
        ),
      );
      return task;
    },
    getFileSystemManager: () => ({
      readFileSync: (file, encoding) => (encoding ? readFileSync(file, encoding) : readFileSync(file)),
    }),
    chooseMessageFile: (opts = {}) => {
      record('chooseMessageFile', opts);
      const files = state.messageFiles;
      setImmediate(() =>
        files ? done(opts, true, { errMsg: 'chooseMessageFile:ok', tempFiles: files.map((f) => ({ type: 'file', ...f })) }) : done(opts, false, { errMsg: 'chooseMessageFile:fail cancel' }),
      );
    },
    openDocument: (opts = {}) => {
      record('openDocument', opts);
      const known = ['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'pdf'].includes(opts.fileType);
      const ok = known && !state.openDocumentFails;
      setImmediate(() => done(opts, ok, { errMsg: ok ? 'openDocument:ok' : 'openDocument:fail filetype not supported' }));
    },
    previewImage: ui('previewImage'),
    requestSubscribeMessage,
    shareFileMessage: (opts = {}) => {
      record('shareFileMessage', opts);
      let ok = false;
      let res;
      if (!inTap) res = { errMsg: 'shareFileMessage:fail can only be invoked by user TAP gesture.' };
      else {
        try {
          const bytes = readFileSync(opts.filePath);
          sharedFiles.push({ filePath: opts.filePath, fileName: opts.fileName ?? path.basename(opts.filePath), bytes });
          ok = true;
          res = { errMsg: 'shareFileMessage:ok' };
        } catch {
          res = { errMsg: `shareFileMessage:fail file not found: ${opts.filePath}` };
        }
      }
      setImmediate(() => done(opts, ok, res));
    },

    getPrivacySetting: (opts = {}) => {
      record('getPrivacySetting', opts);
      const res = { needAuthorization: !state.privacyAgreed, privacyContractName: state.privacyContractName, errMsg: 'getPrivacySetting:ok' };
      setImmediate(() => done(opts, true, res));
    },
    onNeedPrivacyAuthorization: (listener) => {
      record('onNeedPrivacyAuthorization', {});
      if (typeof listener !== 'function') throw new TypeError('onNeedPrivacyAuthorization: listener is not a function');
      privacyListener = listener;
    },
    requirePrivacyAuthorize: (opts = {}) => {
      record('requirePrivacyAuthorize', opts);
      privacyCheck('requirePrivacyAuthorize', 'requirePrivacyAuthorize').then(({ ok, res }) => done(opts, ok, ok ? { errMsg: 'requirePrivacyAuthorize:ok' } : res));
    },
    openPrivacyContract: ui('openPrivacyContract'),

    getStorageSync: (key) => (storage.has(key) ? copy(storage.get(key)) : ''),
    setStorageSync: (key, value) => void storage.set(key, copy(value)),
    removeStorageSync: (key) => void storage.delete(key),
    clearStorageSync: () => storage.clear(),

    showToast: ui('showToast'),
    showLoading: ui('showLoading'),
    hideLoading: ui('hideLoading'),
    showModal: ui('showModal', () => ({ confirm: state.modalAnswer, cancel: !state.modalAnswer })),
    navigateTo: ui('navigateTo'),
    navigateBack: ui('navigateBack'),
    switchTab: ui('switchTab'),
    redirectTo: ui('redirectTo'),
    reLaunch: ui('reLaunch'),
    stopPullDownRefresh: ui('stopPullDownRefresh'),
    setClipboardData: ui('setClipboardData'),
    setNavigationBarTitle: ui('setNavigationBarTitle'),
    getUpdateManager: () => ({ onUpdateReady() {}, onCheckForUpdate() {}, onUpdateFailed() {}, applyUpdate() {} }),
  };

  const control = {
    storage,
    calls,
    requests,
    state,
    subscribeCalls,
    privacyRequests,
    sharedFiles,
    pressButton,
    /** Is an onNeedPrivacyAuthorization listener registered? */
    hasPrivacyListener: () => privacyListener !== null,
    /** Runs fn as a tap's handler (see the top of this file); answers what fn answered. */
    tap(fn) {
      inTap = true;
      try {
        return fn();
      } finally {
        inTap = false;
      }
    },
    /** How many times `api` was called. */
    count: (api) => calls.filter((c) => c.api === api).length,
    /** The recorded calls of `api`. */
    callsOf: (api) => calls.filter((c) => c.api === api),
    /** The titles of the toasts shown so far. */
    toasts: () => calls.filter((c) => c.api === 'showToast').map((c) => c.args.title),
    /** Forget the counters (not the storage). */
    reset() {
      calls.length = 0;
      requests.length = 0;
      subscribeCalls.length = 0;
      privacyRequests.length = 0;
      sharedFiles.length = 0;
    },
    /** WeChat's session of the last wx.login() is over (wx.checkSession fails until the next login). */
    expireSession() {
      sessionAlive = false;
    },
  };

  // Anything the stand-in does not implement throws, naming the API.
  const proxy = new Proxy(wx, {
    get(target, prop) {
      if (prop === '__stub') return control;
      if (typeof prop === 'symbol' || prop in target) return target[prop];
      throw new TypeError(`wx.${String(prop)} is not implemented by the test stand-in (tests/miniprogram/wx-stub.mjs)`);
    },
  });
  return { wx: proxy, ...control };
}
