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
//   wx.uploadFile       reads filePath from disk and posts it as multipart/form-data
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
// Counters: calls (every recorded call as {api, args}), count(api), requests (the wx.request
// and wx.uploadFile calls with url, method, header, data), and `intercept`, a function that may
// answer a wx.request instead of the network (to play a server that misbehaves).

import { readFileSync } from 'node:fs';
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
  const state = { modalAnswer: true, intercept: null };

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
