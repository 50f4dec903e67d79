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
  };

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
