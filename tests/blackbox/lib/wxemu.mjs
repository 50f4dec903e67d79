// wxemu.mjs — starts the WeChat API emulator (the binary named by WXEMU_BIN) on a free port and
// drives its control API, so black-box tests never need the internet. See docs/wxemu.md.
//
//   const wx = await startWxemu({ apps: [{ appid, secret }], latencyMs: 0 });
//   wx.base                          'http://127.0.0.1:PORT' (use as oa.wx.api-base);
//                                    'https://...' when started with tls: {cert, key, ca?}
//   await wx.newCode(appid, user)    a wx.login() code for that user (string)
//   await wx.newLogin(appid, user)   {code, openid, unionid}
//   await wx.expireCode(code)        the code is expired from now on
//   await wx.faults(spec)            queue a fault; spec.path defaults to /sns/jscode2session,
//                                    spec.count to 1; spec.code makes it apply to calls with that
//                                    code only; faults({}) or faults(null) clears them all
//   await wx.stats()                 {'/sns/jscode2session': calls, ...}
//   await wx.calls(path?)            calls made on path (default /sns/jscode2session)
//   await wx.phoneCode(appid, user, phone, opts?)
//                                    a getPhoneNumber code (string); opts: {country_code,
//                                    country_code_as_number, watermark_appid} (camelCase works too)
//   await wx.encrypted(appid, user, kind, opts?)
//                                    legacy encrypted data ('phone' | 'userinfo') made with the user's
//                                    current session_key: {encryptedData, iv[, rawData, signature]}
//   await wx.tokens(appid, action)   'invalidate' (next use: 40001) | 'expire' (next use: 42001)
//   wx.accessToken(params), wx.stableToken(body), wx.phoneNumber(token, body), wx.checkSession(params)
//                                    raw WeChat calls -> {status, headers, text, json}
//   wx.wxacode(token, body, {contentType}?)
//                                    POST /wxa/getwxacodeunlimit -> {status, headers, bytes (a Buffer),
//                                    text, json}; json only when the answer is JSON (an error)
//   await wx.wxacodeSettings(appid, {limitPerMinute, pages}?)
//                                    POST /__emu/wxacode: the app's ration per minute and published
//                                    pages (null: none, every page passes); -> the settings
//   wx.subscribeSend(token, body)    POST /cgi-bin/message/subscribe/send -> {status, headers, text,
//                                    json, msgid}; msgid: the exact msgid as a string (it is above
//                                    2^53, so json.msgid is rounded), undefined when there is none
//   await wx.subscribeTemplates(appid, templates)
//                                    POST /__emu/subscribe/templates: replaces the app's templates,
//                                    [{id, keywords: ['thing1', 'time2', ...]}]; -> {appid, templates}
//   await wx.subscribeAccept(appid, who, templateId, count = 1)
//                                    the user taps 允许 count times: who is a user name, or {user} or
//                                    {openid}; -> {openid, template_id, quota}
//   await wx.subscribeQuota(appid, who, templateId)   the quota now (a number)
//   await wx.subscribeSent(appid?)   the messages sent (of that app), oldest first: [{msgid (exact,
//                                    a string), appid, touser, template_id, page, data,
//                                    miniprogram_state, lang, time}] (absent fields null)
//   await wx.clearSubscribeSent()    forgets them; -> {cleared: N}
//   wx.msgSecCheck(token, body)      POST /wxa/msg_sec_check -> {status, headers, text, json}
//   await wx.seccheck(appid, {risky, review, label, visitWindowSeconds}?)
//                                    POST /__emu/seccheck: the app's words, label and visit window
//                                    (what is given); -> the settings
//   await wx.visit(appid, who, {stale}?)
//                                    POST /__emu/visit: the user opens the mini program now (or, with
//                                    stale: true, has not for longer than the window); -> {openid, visited}
//   wx.mediaCheck(token, body)       POST /wxa/media_check_async -> {status, headers, text, json}
//   await wx.mediaChecks(appid?)     the media checks accepted (of that app), oldest first, the last 256:
//                                    [{appid, openid, media_url (exactly as the server sent it),
//                                    media_type, scene, trace_id, time}]; refused calls are not in it
//   await wx.clearMediaChecks()      forgets them; -> {cleared: N}
//   await wx.pushSettings(appid, {url, token, encodingAesKey, delayMs}?)
//                                    POST /__emu/push: where (and how: plaintext, or safe mode with an
//                                    EncodingAESKey) the app's events are pushed, and after what delay
//                                    (default 1000 ms); url null removes it; -> {appid, url, mode, delay_ms}
//   await wx.pushLog(appid?)         {pending, list: [{appid, trace_id, url, mode, status, answer, error,
//                                    event, time}]}: the pushes attempted, oldest first
//   await wx.waitPushes(appid, n, ms = 5000)
//                                    polls pushLog until the app has n entries and none pending; -> the list
//   await wx.clearPushLog()          -> {cleared: N}
//   await wx.subscribeReject(appid, who, templateId)
//                                    the user sets 拒收 for the template (the quota becomes 0; with a push
//                                    URL a subscribe_msg_change_event is pushed); -> {openid, template_id, quota}
//   await wx.pushEvent(appid, who, event, revokeInfo?)
//                                    POST /__emu/push/event: pushes 'user_authorization_revoke' (revokeInfo
//                                    e.g. '6,8') or 'user_authorization_cancellation'; -> {queued: true}
//   await wx.stop()                  SIGTERM, wait for exit; returns {code, signal}
//   wx.logs()                        everything the process wrote to stdout and stderr
//
// Only node built-ins are used.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const SOURCE_DIR =
  process.env.MEETOA_SOURCE_DIR ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const WXEMU_BIN = process.env.WXEMU_BIN ?? path.join(SOURCE_DIR, 'build/wxemu');
export const JSCODE2SESSION = '/sns/jscode2session';
export const TOKEN = '/cgi-bin/token';
export const STABLE_TOKEN = '/cgi-bin/stable_token';
export const PHONE_NUMBER = '/wxa/business/getuserphonenumber';
export const CHECK_SESSION = '/wxa/checksession';
export const WXACODE = '/wxa/getwxacodeunlimit';
export const SUBSCRIBE_SEND = '/cgi-bin/message/subscribe/send';
export const MSG_SEC_CHECK = '/wxa/msg_sec_check';
export const MEDIA_CHECK = '/wxa/media_check_async';

const START_DEADLINE_MS = 15000; // ASan builds start slowly on a busy machine
const STOP_DEADLINE_MS = 10000;
const LISTENING = /wxemu listening on (https?:\/\/[^\s]+)/;

/** Processes still running, killed if the test process exits without stopping them. */
const running = new Set();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Resolves with {code, signal} when proc exits; SIGKILLs it after ms. */
export function waitExit(proc, ms = STOP_DEADLINE_MS) {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Spawns WXEMU_BIN with args and resolves once it prints its listening line, with
 * {proc, base, port, logs()}. Rejects (and kills it) if it exits or is silent for too long.
 */
export function spawnWxemu(args, { env } = {}) {
  const proc = spawn(WXEMU_BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let output = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`wxemu ${why}; output:\n${output}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${START_DEADLINE_MS} ms`), START_DEADLINE_MS);
    proc.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    proc.once('error', (e) => fail(`could not start ${WXEMU_BIN}: ${e.message}`));
    proc.stdout.on('data', (d) => {
      output += d;
      const m = LISTENING.exec(output);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        const base = m[1];
        resolve({ proc, base, port: Number(new URL(base).port), logs: () => output });
      }
    });
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One HTTPS request with node:https (fetch cannot be given a CA): resolves {status, headers
 * (a Headers), text}. ca: PEM text to verify the server's chain against; without it the
 * certificate is not checked. The host name is never checked: the helper talks to the wxemu it
 * started, whose certificate may be made for another name on purpose.
 */
function httpsRequest(url, { method, headers = {}, body }, ca) {
  const tls = ca !== undefined ? { ca, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, agent: false, ...tls }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({ status: res.statusCode, headers: h, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * fetch + JSON: {status, headers, text, json} (json undefined when the body is not JSON).
 * An https:// base goes through node:https; tls.ca (PEM text) is then the CA to trust.
 */
export async function request(base, method, p, body, tls = {}) {
  const init = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  if (base.startsWith('https:')) {
    const res = await httpsRequest(base + p, init, tls.ca);
    return { ...res, json: parseJson(res.text) };
  }
  const res = await fetch(base + p, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseJson(text) };
}

/**
 * Like request(), for answers that may be binary (an image): resolves {status, headers, bytes
 * (a Buffer), text, json}; json is set only when the Content-Type is JSON. A string body is sent as
 * it is, an object as JSON; contentType overrides the request's Content-Type (default
 * application/json).
 */
export async function requestBytes(base, method, p, body, { contentType } = {}, tls = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = contentType ?? 'application/json';
  }
  let status, headers, bytes;
  if (base.startsWith('https:')) {
    const t = tls.ca !== undefined ? { ca: tls.ca, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    ({ status, headers, bytes } = await new Promise((resolve, reject) => {
      const req = https.request(base + p, { method, headers: init.headers, agent: false, ...t }, (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : String(v));
          resolve({ status: res.statusCode, headers: h, bytes: Buffer.concat(chunks) });
        });
      });
      req.on('error', reject);
      req.end(init.body);
    }));
  } else {
    const res = await fetch(base + p, init);
    ({ status, headers } = res);
    bytes = Buffer.from(await res.arrayBuffer());
  }
  const text = bytes.toString('utf8');
  const json = /^application\/json/.test(headers.get('content-type') ?? '') ? parseJson(text) : undefined;
  return { status, headers, bytes, text, json };
}

/**
 * JSON.parse of an answer whose "msgid" members are integers above 2^53: they become strings of
 * their exact digits (JSON.parse would round them). undefined when text is not JSON.
 */
export function parseExactMsgids(text) {
  return parseJson(text.replace(/"msgid":(-?\d+)/g, '"msgid":"$1"'));
}

/** The exact digits of the first "msgid" member of a JSON text, undefined when there is none. */
export function exactMsgid(text) {
  return /"msgid":(-?\d+)/.exec(text)?.[1];
}

/** The control API's {user} or {openid} of who: a user name, or an object with one of them. */
function whoOf(who) {
  if (typeof who === 'string') return { user: who };
  const out = {};
  if (who?.user !== undefined) out.user = who.user;
  if (who?.openid !== undefined) out.openid = who.openid;
  return out;
}

/** A fresh app {appid, secret} with a WeChat-like appid and a 32-hex-character secret. */
export function newApp(prefix = 'wxemu') {
  return { appid: `wx${prefix}${randomBytes(8).toString('hex')}`.slice(0, 18), secret: randomBytes(16).toString('hex') };
}

/** A query string of params, undefined values left out. */
function queryOf(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, v);
  return q.toString();
}

/** The control API's snake_case names for the phone-code options (camelCase accepted too). */
function phoneOptions(opts) {
  const names = { countryCode: 'country_code', countryCodeAsNumber: 'country_code_as_number', watermarkAppid: 'watermark_appid' };
  const out = {};
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) out[names[k] ?? k] = v;
  return out;
}

/**
 * Starts wxemu. apps: [{appid, secret}] (default: one fresh app); latencyMs: --latency-ms;
 * tokenTtlSeconds: --token-ttl-seconds (access_token lifetime, default 7200);
 * args: extra command-line arguments; env: extra environment; tls: {cert, key} (PEM file
 * paths) to speak HTTPS, plus optionally ca (a PEM file path) that the helper's own calls
 * verify wxemu's chain against (without it they do not check the certificate; they never
 * check the host name). Returns the handle described above.
 */
export async function startWxemu({ apps = [newApp()], latencyMs = 0, tokenTtlSeconds, args = [], env, tls } = {}) {
  const argv = ['--port', '0', '--host', '127.0.0.1', '--latency-ms', String(latencyMs)];
  if (tokenTtlSeconds !== undefined) argv.push('--token-ttl-seconds', String(tokenTtlSeconds));
  for (const a of apps) argv.push('--app', `${a.appid}:${a.secret}`);
  if (tls) argv.push('--tls-cert', tls.cert, '--tls-key', tls.key);
  const clientTls = tls?.ca !== undefined ? { ca: readFileSync(tls.ca, 'utf8') } : {};
  const { proc, base, port, logs } = await spawnWxemu([...argv, ...args], { env });

  const control = async (method, p, body) => {
    const r = await request(base, method, p, body, clientTls);
    if (r.status !== 200) throw new Error(`wxemu ${method} ${p}: HTTP ${r.status} ${r.text}`);
    return r.json;
  };
  const wx = {
    base,
    port,
    proc,
    apps,
    logs,
    request: (method, p, body) => request(base, method, p, body, clientTls),
    control,
    newLogin: (appid, user) => control('POST', '/__emu/code', { appid, user }),
    newCode: async (appid, user) => (await wx.newLogin(appid, user)).code,
    expireCode: (code) => control('POST', '/__emu/expire', { code }),
    faults(spec) {
      if (spec == null || Object.keys(spec).length === 0) return control('DELETE', '/__emu/faults');
      return control('POST', '/__emu/faults', { path: JSCODE2SESSION, ...spec });
    },
    clearFaults: () => control('DELETE', '/__emu/faults'),
    stats: () => control('GET', '/__emu/stats'),
    async calls(p = JSCODE2SESSION) {
      return (await wx.stats())[p];
    },
    resetStats: () => control('DELETE', '/__emu/stats'),
    state: () => control('GET', '/__emu/state'),
    /** GET /sns/jscode2session with these query parameters (undefined ones left out). */
    jscode2session: (params) => request(base, 'GET', `${JSCODE2SESSION}?${queryOf(params)}`, undefined, clientTls),
    /** A one-time getPhoneNumber code for user's phone (string). */
    phoneCode: async (appid, user, phone, opts = {}) =>
      (await control('POST', '/__emu/phone_code', { appid, user, phone, ...phoneOptions(opts) })).code,
    /** Legacy encrypted data of kind 'phone' or 'userinfo' for user, with their current session_key. */
    encrypted: (appid, user, kind, opts = {}) => control('POST', '/__emu/encrypted', { appid, user, kind, ...opts }),
    /** Kills the app's access_tokens: action 'invalidate' (next use 40001) or 'expire' (42001). */
    tokens: (appid, action) => control('POST', '/__emu/tokens', { appid, action }),
    /** GET /cgi-bin/token with these query parameters (undefined ones left out). */
    accessToken: (params) => request(base, 'GET', `${TOKEN}?${queryOf(params)}`, undefined, clientTls),
    /** POST /cgi-bin/stable_token with this body (an object, or a string sent as it is). */
    stableToken: (body) => request(base, 'POST', STABLE_TOKEN, body, clientTls),
    /** POST /wxa/business/getuserphonenumber?access_token=token (token undefined: left out). */
    phoneNumber: (token, body) =>
      request(base, 'POST', `${PHONE_NUMBER}?${queryOf({ access_token: token })}`, body, clientTls),
    /** GET /wxa/checksession with these query parameters (undefined ones left out). */
    checkSession: (params) => request(base, 'GET', `${CHECK_SESSION}?${queryOf(params)}`, undefined, clientTls),
    /** POST /wxa/getwxacodeunlimit?access_token=token (undefined: left out) with body (object or raw string). */
    wxacode: (token, body, opts = {}) =>
      requestBytes(base, 'POST', `${WXACODE}?${queryOf({ access_token: token })}`, body, opts, clientTls),
    /** POST /__emu/wxacode: sets the app's ration per minute and/or published pages; answers the settings. */
    wxacodeSettings(appid, { limitPerMinute, pages } = {}) {
      const body = { appid };
      if (limitPerMinute !== undefined) body.limit_per_minute = limitPerMinute;
      if (pages !== undefined) body.pages = pages;
      return control('POST', '/__emu/wxacode', body);
    },
    /** POST /cgi-bin/message/subscribe/send?access_token=token (undefined: left out); msgid exact. */
    async subscribeSend(token, body) {
      const r = await request(base, 'POST', `${SUBSCRIBE_SEND}?${queryOf({ access_token: token })}`, body, clientTls);
      return { ...r, msgid: exactMsgid(r.text) };
    },
    /** POST /__emu/subscribe/templates: replaces the app's templates [{id, keywords}]. */
    subscribeTemplates: (appid, templates) => control('POST', '/__emu/subscribe/templates', { appid, templates }),
    /** POST /__emu/subscribe/accept: who (a user name, {user} or {openid}) accepts templateId count times. */
    subscribeAccept: (appid, who, templateId, count) =>
      control('POST', '/__emu/subscribe/accept', {
        appid,
        ...whoOf(who),
        template_id: templateId,
        ...(count !== undefined ? { count } : {}),
      }),
    /** GET /__emu/subscribe/quota: the (app, user, template) quota, a number. */
    async subscribeQuota(appid, who, templateId) {
      const q = queryOf({ appid, ...whoOf(who), template_id: templateId });
      return (await control('GET', `/__emu/subscribe/quota?${q}`)).quota;
    },
    /** GET /__emu/subscribe/sent: the list of sent messages (of appid, when given), msgids exact strings. */
    async subscribeSent(appid) {
      const p = `/__emu/subscribe/sent${appid !== undefined ? `?${queryOf({ appid })}` : ''}`;
      const r = await request(base, 'GET', p, undefined, clientTls);
      if (r.status !== 200) throw new Error(`wxemu GET ${p}: HTTP ${r.status} ${r.text}`);
      return parseExactMsgids(r.text).list;
    },
    clearSubscribeSent: () => control('DELETE', '/__emu/subscribe/sent'),
    /** POST /wxa/msg_sec_check?access_token=token (undefined: left out) with body (object or raw string). */
    msgSecCheck: (token, body) =>
      request(base, 'POST', `${MSG_SEC_CHECK}?${queryOf({ access_token: token })}`, body, clientTls),
    /** POST /__emu/seccheck: sets the app's risky/review words, label, visit window; answers the settings. */
    seccheck(appid, { risky, review, label, visitWindowSeconds } = {}) {
      const body = { appid };
      if (risky !== undefined) body.risky = risky;
      if (review !== undefined) body.review = review;
      if (label !== undefined) body.label = label;
      if (visitWindowSeconds !== undefined) body.visit_window_seconds = visitWindowSeconds;
      return control('POST', '/__emu/seccheck', body);
    },
    /** POST /__emu/visit: who visits now, or (stale: true) has not visited within any window. */
    visit: (appid, who, { stale } = {}) =>
      control('POST', '/__emu/visit', { appid, ...whoOf(who), ...(stale !== undefined ? { stale } : {}) }),
    /** POST /wxa/media_check_async?access_token=token (undefined: left out) with body (object or raw string). */
    mediaCheck: (token, body) =>
      request(base, 'POST', `${MEDIA_CHECK}?${queryOf({ access_token: token })}`, body, clientTls),
    /** POST /__emu/push: the app's push URL, token, EncodingAESKey (safe mode) and delay; answers the settings. */
    pushSettings(appid, { url, token, encodingAesKey, delayMs } = {}) {
      const body = { appid };
      if (url !== undefined) body.url = url;
      if (token !== undefined) body.token = token;
      if (encodingAesKey !== undefined) body.encoding_aes_key = encodingAesKey;
      if (delayMs !== undefined) body.delay_ms = delayMs;
      return control('POST', '/__emu/push', body);
    },
    /** GET /__emu/push/log: {pending, list} of the pushes attempted (of appid, when given). */
    pushLog: (appid) => control('GET', `/__emu/push/log${appid !== undefined ? `?${queryOf({ appid })}` : ''}`),
    /** Polls the push log until appid has n entries and nothing is pending; resolves the list. */
    async waitPushes(appid, n, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const log = await wx.pushLog(appid);
        if (log.list.length >= n && log.pending === 0) return log.list;
        if (Date.now() > deadline) throw new Error(`wxemu: ${log.list.length} of ${n} pushes after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    clearPushLog: () => control('DELETE', '/__emu/push/log'),
    /** GET /__emu/media[?appid=]: the accepted media checks, oldest first; resolves the list. */
    mediaChecks: async (appid) =>
      (await control('GET', `/__emu/media${appid !== undefined ? `?${queryOf({ appid })}` : ''}`)).list,
    clearMediaChecks: () => control('DELETE', '/__emu/media'),
    /** POST /__emu/subscribe/reject: who (a user name, {user} or {openid}) sets 拒收 for templateId. */
    subscribeReject: (appid, who, templateId) =>
      control('POST', '/__emu/subscribe/reject', { appid, ...whoOf(who), template_id: templateId }),
    /** POST /__emu/push/event: pushes an authorization event of who (revokeInfo only for a revoke). */
    pushEvent: (appid, who, event, revokeInfo) =>
      control('POST', '/__emu/push/event', {
        appid,
        ...whoOf(who),
        event,
        ...(revokeInfo !== undefined ? { revoke_info: revokeInfo } : {}),
      }),
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return waitExit(proc);
    },
  };
  return wx;
}
