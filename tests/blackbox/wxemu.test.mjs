// wxemu.test.mjs — the WeChat API emulator, from the outside: code2Session as WeChat answers it
// (every error code MeetOA must handle), access_token (/cgi-bin/token and stable_token),
// getuserphonenumber, checksession, getwxacodeunlimit (a real PNG holding a QR code that zbarimg
// reads back), subscribeMessage.send (templates, one-time quotas, keyword rules, exact msgids above
// 2^53, the record of sent messages), msgSecCheck v2 (verdicts of risky and review words, the
// 2-hour visit rule), mediaCheckAsync v2 and its push to a receiver here (signatures, safe mode
// opened with node:crypto) and the log of accepted checks (GET /__emu/media), the subscription
// message and authorization events pushed the same way (popup, change and sent events,
// user_authorization_revoke / _cancellation), legacy encrypted data that node:crypto decrypts, the
// control API, injected faults, latency that does not serialize requests, the command line, and a
// clean exit on SIGTERM/SIGINT.
//
// Run: WXEMU_BIN=build-wxemu/wxemu node --test tests/blackbox/wxemu.test.mjs

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createDecipheriv, createHash, createHmac } from 'node:crypto';

import {
  startWxemu,
  spawnWxemu,
  waitExit,
  newApp,
  request,
  WXEMU_BIN,
  JSCODE2SESSION,
  TOKEN,
  STABLE_TOKEN,
  PHONE_NUMBER,
  CHECK_SESSION,
  WXACODE,
  SUBSCRIBE_SEND,
  MSG_SEC_CHECK,
  MEDIA_CHECK,
} from './lib/wxemu.mjs';

const APP = newApp('a');
const OTHER = newApp('b');
const OPENID_SHAPE = /^o[A-Za-z0-9_-]{27}$/;

/** True when s is standard base64 of exactly 16 bytes. */
function isSessionKey(s) {
  return typeof s === 'string' && /^[A-Za-z0-9+/]{22}==$/.test(s) && Buffer.from(s, 'base64').length === 16;
}

function assertWxError(r, errcode, what) {
  assert.equal(r.status, 200, `${what}: WeChat answers errors with HTTP 200`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${what}: JSON`);
  assert.equal(r.json?.errcode, errcode, `${what}: ${r.text}`);
  assert.equal(typeof r.json.errmsg, 'string', `${what}: errmsg`);
  assert.ok(r.json.errmsg.length > 0, `${what}: errmsg not empty`);
  assert.equal(r.json.session_key, undefined, `${what}: no session_key`);
}

describe('code2Session', () => {
  let wx;
  const seenSessionKeys = [];
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER], args: ['--log-level', 'debug'] });
  });
  after(async () => {
    const { code } = await wx.stop();
    assert.equal(code, 0, wx.logs());
  });

  const exchange = (code, app = APP) =>
    wx.jscode2session({ appid: app.appid, secret: app.secret, js_code: code, grant_type: 'authorization_code' });

  test('a fresh code gives session_key, openid and unionid', async () => {
    const login = await wx.newLogin(APP.appid, 'alice');
    assert.match(login.code, /^[A-Za-z0-9_-]{32}$/);
    const r = await exchange(login.code);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(isSessionKey(r.json.session_key), `session_key shape: ${r.text}`);
    assert.match(r.json.openid, OPENID_SHAPE);
    assert.match(r.json.unionid, OPENID_SHAPE);
    assert.equal(r.json.openid, login.openid, 'the openid the phone was told');
    assert.equal(r.json.unionid, login.unionid);
    assert.equal(r.json.errcode, undefined);
    seenSessionKeys.push(r.json.session_key);
  });

  test('openid is stable per (app, user), unionid per user; session_key is new each time', async () => {
    const ids = {};
    for (const [key, app, user] of [
      ['a1', APP, 'bob'],
      ['a2', APP, 'bob'],
      ['b1', OTHER, 'bob'],
      ['c1', APP, 'carol'],
    ]) {
      const r = await exchange(await wx.newCode(app.appid, user), app);
      assert.ok(isSessionKey(r.json?.session_key), r.text);
      ids[key] = r.json;
      seenSessionKeys.push(r.json.session_key);
    }
    assert.equal(ids.a1.openid, ids.a2.openid, 'same user, same app: same openid');
    assert.notEqual(ids.a1.session_key, ids.a2.session_key, 'a new session_key per exchange');
    assert.notEqual(ids.a1.openid, ids.b1.openid, 'another app: another openid');
    assert.equal(ids.a1.unionid, ids.b1.unionid, 'one unionid across apps');
    assert.notEqual(ids.a1.openid, ids.c1.openid, 'another user: another openid');
    assert.notEqual(ids.a1.unionid, ids.c1.unionid, 'another user: another unionid');
  });

  test('missing and wrong parameters get WeChat errcodes', async () => {
    const code = await wx.newCode(APP.appid, 'dave');
    const ok = { appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code' };
    const cases = [
      [{ ...ok, appid: undefined }, 41002, 'appid missing'],
      [{ ...ok, appid: '' }, 41002, 'appid empty'],
      [{ ...ok, secret: undefined }, 41004, 'secret missing'],
      [{ ...ok, js_code: undefined }, 41008, 'js_code missing'],
      [{ ...ok, appid: 'wxnosuchapp0000000' }, 40013, 'unknown appid'],
      [{ ...ok, secret: OTHER.secret }, 40125, 'wrong secret'],
      [{ ...ok, grant_type: 'client_credential' }, 40002, 'wrong grant_type'],
      [{ ...ok, grant_type: undefined }, 40002, 'grant_type missing'],
      [{ ...ok, js_code: 'A'.repeat(32) }, 40029, 'unknown code'],
    ];
    for (const [params, errcode, what] of cases) {
      const r = await wx.jscode2session(params);
      assertWxError(r, errcode, what);
      assert.ok(!r.text.includes(APP.secret) && !r.text.includes(OTHER.secret), `${what}: no secret in the answer`);
    }
    const r = await exchange(code);
    assert.ok(isSessionKey(r.json?.session_key), `the failed calls did not spend the code: ${r.text}`);
    seenSessionKeys.push(r.json.session_key);
  });

  test('a code works once: the second use is 40163', async () => {
    const code = await wx.newCode(APP.appid, 'erin');
    const first = await exchange(code);
    assert.ok(isSessionKey(first.json?.session_key), first.text);
    seenSessionKeys.push(first.json.session_key);
    assertWxError(await exchange(code), 40163, 'second use');
  });

  test('an expired code is 40029', async () => {
    const code = await wx.newCode(APP.appid, 'frank');
    assert.deepEqual(await wx.expireCode(code), { expired: true });
    assertWxError(await exchange(code), 40029, 'expired code');
  });

  test("another app's code is 40029 and stays usable in its own app", async () => {
    const code = await wx.newCode(OTHER.appid, 'gina');
    assertWxError(await exchange(code, APP), 40029, 'code of another appid');
    const own = await exchange(code, OTHER);
    assert.ok(isSessionKey(own.json?.session_key), own.text);
    seenSessionKeys.push(own.json.session_key);
  });

  test('percent-encoded parameters are decoded', async () => {
    const code = await wx.newCode(APP.appid, 'hank');
    const q = `appid=${encodeURIComponent(APP.appid).replace(/x/g, '%78')}&secret=${APP.secret}&js_code=${code}&grant_type=authorization%5Fcode`;
    const r = await wx.request('GET', `${JSCODE2SESSION}?${q}`);
    assert.ok(isSessionKey(r.json?.session_key), r.text);
    seenSessionKeys.push(r.json.session_key);
  });

  test('no app secret or session_key appears in the logs', async () => {
    assert.ok(seenSessionKeys.length >= 6);
    const logs = wx.logs();
    assert.match(logs, /jscode2session/, 'requests are logged (path only)');
    for (const s of [APP.secret, OTHER.secret, ...seenSessionKeys]) assert.ok(!logs.includes(s), `${s} is not logged`);
  });
});

describe('control API', () => {
  let wx;
  before(async () => {
    wx = await startWxemu({ apps: [APP] });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('POST /__emu/code refuses unknown apps and bad bodies with HTTP 400 and a JSON error', async () => {
    const cases = [
      [{ appid: 'wxnosuchapp0000000', user: 'ivy' }, 'unknown appid'],
      [{ appid: APP.appid }, 'no user'],
      [{ appid: APP.appid, user: '' }, 'empty user'],
      [{ appid: APP.appid, user: 'u'.repeat(65) }, 'user too long'],
      [{ appid: APP.appid, user: 'ivy', extra: 1 }, 'unknown field'],
      [{ appid: APP.appid, user: 7 }, 'user not a string'],
      ['not json', 'not JSON'],
      ['[1,2]', 'not an object'],
    ];
    for (const [body, what] of cases) {
      const r = await wx.request('POST', '/__emu/code', body);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
      assert.equal(typeof r.json?.error, 'string', `${what}: JSON error`);
    }
    assert.equal(await wx.calls(), 0, 'control calls are not WeChat calls');
  });

  test('POST /__emu/expire of an unknown code is 404', async () => {
    const r = await wx.request('POST', '/__emu/expire', { code: 'B'.repeat(32) });
    assert.equal(r.status, 404, r.text);
  });

  test('codes are distinct and counted in /__emu/state', async () => {
    const before = (await wx.state()).codes;
    const codes = await Promise.all(Array.from({ length: 10 }, () => wx.newCode(APP.appid, 'jack')));
    assert.equal(new Set(codes).size, 10);
    assert.equal((await wx.state()).codes - before, 10);
  });

  test('unknown paths are 404, wrong methods 405', async () => {
    assert.equal((await wx.request('GET', '/nope')).status, 404);
    assert.equal((await wx.request('GET', '/__emu/code')).status, 405);
    assert.equal((await wx.request('POST', JSCODE2SESSION, {})).status, 405);
  });

  test('GET /__emu/stats counts calls per path, DELETE resets', async () => {
    await wx.resetStats();
    assert.deepEqual(await wx.stats(), {
      [JSCODE2SESSION]: 0,
      [TOKEN]: 0,
      [STABLE_TOKEN]: 0,
      [`${STABLE_TOKEN}#force`]: 0,
      [PHONE_NUMBER]: 0,
      [CHECK_SESSION]: 0,
      [WXACODE]: 0,
      [SUBSCRIBE_SEND]: 0,
      [MSG_SEC_CHECK]: 0,
      [MEDIA_CHECK]: 0,
    });
    await wx.jscode2session({ appid: APP.appid });
    await wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: await wx.newCode(APP.appid, 'kim'), grant_type: 'authorization_code' });
    assert.equal(await wx.calls(), 2);
    await wx.resetStats();
    assert.equal(await wx.calls(), 0);
  });

  test('request bodies over 64 KiB are refused', async () => {
    const r = await wx.request('POST', '/__emu/code', { appid: APP.appid, user: 'x', pad: 'p'.repeat(70 * 1024) });
    assert.equal(r.status, 413);
  });
});

describe('faults', () => {
  let wx;
  const ok = async (user = 'lea') => ({
    appid: APP.appid,
    secret: APP.secret,
    js_code: await wx.newCode(APP.appid, user),
    grant_type: 'authorization_code',
  });
  before(async () => {
    wx = await startWxemu({ apps: [APP] });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('errcode with count: the next `count` calls fail, without spending the code', async () => {
    const params = await ok();
    await wx.faults({ errcode: 45011, count: 3 });
    for (let i = 0; i < 3; ++i) assertWxError(await wx.jscode2session(params), 45011, `faulted call ${i}`);
    const r = await wx.jscode2session(params);
    assert.ok(isSessionKey(r.json?.session_key), `fourth call answers normally: ${r.text}`);
  });

  test('count defaults to 1; faults apply in the order they were queued', async () => {
    await wx.faults({ errcode: -1 });
    await wx.faults({ errcode: 40226 });
    const params = await ok();
    assertWxError(await wx.jscode2session(params), -1, 'first fault');
    assertWxError(await wx.jscode2session(params), 40226, 'second fault');
    assert.ok(isSessionKey((await wx.jscode2session(params)).json?.session_key));
  });

  test('errcode 0 with delay_ms answers normally, late', async () => {
    await wx.faults({ errcode: 0, delay_ms: 300 });
    const params = await ok();
    const t0 = Date.now();
    const r = await wx.jscode2session(params);
    const took = Date.now() - t0;
    assert.ok(isSessionKey(r.json?.session_key), r.text);
    assert.ok(took >= 290, `answered after ${took} ms`);
  });

  test('http_status answers that status with a non-JSON body', async () => {
    await wx.faults({ http_status: 500 });
    const r = await wx.jscode2session(await ok());
    assert.equal(r.status, 500);
    assert.equal(r.json, undefined, `not JSON: ${r.text}`);
    assert.ok(r.text.length > 0);
  });

  test('malformed answers 200 with broken JSON', async () => {
    await wx.faults({ malformed: true });
    const r = await wx.jscode2session(await ok());
    assert.equal(r.status, 200);
    assert.ok(r.text.startsWith('{'), r.text);
    assert.throws(() => JSON.parse(r.text));
  });

  test('drop closes the connection without an answer', async () => {
    await wx.resetStats();
    await wx.faults({ drop: true });
    await assert.rejects(wx.jscode2session(await ok()), /fetch failed|socket|closed/i);
    assert.equal(await wx.calls(), 1, 'one call reached wxemu (no client retry hid the drop)');
    const r = await wx.jscode2session(await ok());
    assert.ok(isSessionKey(r.json?.session_key), `the next call is normal: ${r.text}`);
  });

  test('a fault with a code applies to that code only; other calls pass it by', async () => {
    await wx.resetStats();
    const bob = await ok('bob');
    await wx.faults({ code: bob.js_code, errcode: 40226, count: 2 });
    await wx.faults({ errcode: -1 }); // queued behind bob's: the first call without bob's code takes it
    assert.equal((await wx.state()).faults, 2);
    assertWxError(await wx.jscode2session(await ok('amy')), -1, "another code skips bob's fault, takes the next");
    const carl = await wx.jscode2session(await ok('carl'));
    assert.ok(isSessionKey(carl.json?.session_key), `other codes go through: ${carl.text}`);
    assertWxError(await wx.jscode2session(bob), 40226, "bob's code, first");
    const dan = await wx.jscode2session(await ok('dan'));
    assert.ok(isSessionKey(dan.json?.session_key), `still only bob's code: ${dan.text}`);
    assertWxError(await wx.jscode2session(bob), 40226, "bob's code, second: the count was kept for him");
    assert.equal((await wx.state()).faults, 0, 'both faults used up');
    const r = await wx.jscode2session(bob);
    assert.ok(isSessionKey(r.json?.session_key), `bob's code was never spent by the faults: ${r.text}`);
    assert.equal(await wx.calls(), 6, 'every call counted, faulted or not');
  });

  test('code faults for many codes at once, each with its own effect', async () => {
    const users = ['u0', 'u1', 'u2', 'u3'];
    const params = await Promise.all(users.map((u) => ok(u)));
    await wx.faults({ code: params[0].js_code, errcode: 45011 });
    await wx.faults({ code: params[1].js_code, http_status: 502 });
    await wx.faults({ code: params[2].js_code, malformed: true });
    const [r0, r1, r2, r3] = await Promise.all(params.map((p) => wx.jscode2session(p)));
    assertWxError(r0, 45011, 'u0');
    assert.equal(r1.status, 502, `u1: ${r1.text}`);
    assert.equal(r2.status, 200);
    assert.equal(r2.json, undefined, `u2 malformed: ${r2.text}`);
    assert.ok(isSessionKey(r3.json?.session_key), `u3 has no fault: ${r3.text}`);
  });

  test("a code fault on getuserphonenumber matches the body's code", async () => {
    const tokenAnswer = await wx.accessToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret });
    const token = tokenAnswer.json.access_token;
    const mine = await wx.phoneCode(APP.appid, 'pia', '13800138001');
    const theirs = await wx.phoneCode(APP.appid, 'quin', '13800138002');
    await wx.faults({ path: PHONE_NUMBER, code: mine, errcode: 1400001 });
    assert.equal((await wx.phoneNumber(token, { code: theirs })).json?.errcode, 0, 'another phone code');
    assertWxError(await wx.phoneNumber(token, { code: mine }), 1400001, 'the targeted phone code');
    assert.equal((await wx.phoneNumber(token, { code: mine })).json?.errcode, 0, 'the fault did not spend it');
  });

  test('DELETE /__emu/faults clears the queue', async () => {
    await wx.faults({ errcode: 45011, count: 5 });
    assert.deepEqual(await wx.clearFaults(), { cleared: 1 });
    assert.equal((await wx.state()).faults, 0);
    const r = await wx.jscode2session(await ok());
    assert.ok(isSessionKey(r.json?.session_key), r.text);
  });

  test('bad fault specs are refused with 400', async () => {
    const cases = [
      [{ path: '/nowhere', errcode: 1 }, 'unknown path'],
      [{ errcode: 1 }, 'no path'],
      [{ path: JSCODE2SESSION, count: 0 }, 'count 0'],
      [{ path: JSCODE2SESSION, delay_ms: -1 }, 'negative delay'],
      [{ path: JSCODE2SESSION, delay_ms: 600000 }, 'delay too long'],
      [{ path: JSCODE2SESSION, http_status: 99 }, 'bad status'],
      [{ path: JSCODE2SESSION, errcode: '45011' }, 'errcode as a string'],
      [{ path: JSCODE2SESSION, drop: 1 }, 'drop not a boolean'],
      [{ path: JSCODE2SESSION, errcode: 1, typo: true }, 'unknown field'],
      [{ path: JSCODE2SESSION, errcode: 1, code: '' }, 'empty code'],
      [{ path: JSCODE2SESSION, errcode: 1, code: 'c'.repeat(129) }, 'code too long'],
      [{ path: JSCODE2SESSION, errcode: 1, code: 7 }, 'code not a string'],
      [{ path: TOKEN, errcode: 1, code: 'abc' }, 'a code on a path whose calls carry none'],
      [{ path: CHECK_SESSION, errcode: 1, code: 'abc' }, 'a code on checksession'],
    ];
    for (const [body, what] of cases) {
      const r = await wx.request('POST', '/__emu/faults', body);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
    }
    assert.equal((await wx.state()).faults, 0);
  });
});

describe('latency', () => {
  const LATENCY = 200;
  let wx;
  before(async () => {
    wx = await startWxemu({ apps: [APP], latencyMs: LATENCY });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('every WeChat answer waits --latency-ms; control calls do not', async () => {
    let t0 = Date.now();
    const code = await wx.newCode(APP.appid, 'mia');
    assert.ok(Date.now() - t0 < LATENCY, 'the control API is not delayed');
    t0 = Date.now();
    const r = await wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code' });
    assert.ok(isSessionKey(r.json?.session_key), r.text);
    assert.ok(Date.now() - t0 >= LATENCY - 10, `answered after ${Date.now() - t0} ms`);
  });

  test('20 concurrent calls wait together, not one after another', async () => {
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => wx.newCode(APP.appid, `user${i}`)));
    const t0 = Date.now();
    const answers = await Promise.all(
      codes.map((js_code) => wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code, grant_type: 'authorization_code' })),
    );
    const took = Date.now() - t0;
    for (const r of answers) assert.ok(isSessionKey(r.json?.session_key), r.text);
    assert.ok(took >= LATENCY - 10, `took ${took} ms`);
    assert.ok(took < 1500, `20 x ${LATENCY} ms took ${took} ms: the waits overlapped`);
  });

  test('a fault delay adds to the latency', async () => {
    await wx.faults({ errcode: 45011, delay_ms: 300 });
    const t0 = Date.now();
    assertWxError(await wx.jscode2session({ appid: APP.appid }), 45011, 'delayed fault');
    assert.ok(Date.now() - t0 >= LATENCY + 300 - 10, `answered after ${Date.now() - t0} ms`);
  });
});

// ---- access_token, phone number, checksession, legacy encrypted data ----------------------------

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,512}$/;
const PHONE = '13800138000';

function assertToken(r, what) {
  assert.equal(r.status, 200, what);
  assert.match(r.json?.access_token ?? '', TOKEN_SHAPE, `${what}: ${r.text}`);
  assert.equal(typeof r.json.expires_in, 'number', `${what}: expires_in`);
  assert.equal(r.json.errcode, undefined, `${what}: no errcode`);
}

/** AES-128-CBC/PKCS#7 with key = base64-decode(sessionKey): the plaintext text (throws on bad padding). */
function decrypt(sessionKey, { encryptedData, iv }) {
  const d = createDecipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(iv, 'base64'));
  return Buffer.concat([d.update(Buffer.from(encryptedData, 'base64')), d.final()]).toString('utf8');
}

/** The decrypted JSON, or undefined when the key does not open it (bad padding or not JSON). */
function tryDecrypt(sessionKey, data) {
  try {
    return JSON.parse(decrypt(sessionKey, data));
  } catch {
    return undefined;
  }
}

const hmacSig = (sessionKey) => createHmac('sha256', Buffer.from(sessionKey, 'ascii')).update('').digest('hex');

describe('access_token', () => {
  let wx;
  const seen = [];
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER], args: ['--log-level', 'debug'] });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  const token = (app = APP) =>
    wx.accessToken({ grant_type: 'client_credential', appid: app.appid, secret: app.secret });
  const stable = (force_refresh = false, app = APP) =>
    wx.stableToken({ grant_type: 'client_credential', appid: app.appid, secret: app.secret, force_refresh });
  /** The errcode a token gets from an API that needs one (40029 = the token passed, the code did not). */
  const probe = async (t) => (await wx.phoneNumber(t, { code: 'X'.repeat(32) })).json?.errcode;

  test('GET /cgi-bin/token mints a new token per call; the previous one keeps working (grace)', async () => {
    const a = await token();
    assertToken(a, 'first');
    assert.equal(a.json.expires_in, 7200);
    const b = await token();
    assertToken(b, 'second');
    assert.notEqual(a.json.access_token, b.json.access_token);
    assert.equal(await probe(a.json.access_token), 40029, 'the superseded token is still accepted');
    assert.equal(await probe(b.json.access_token), 40029, 'the new token is accepted');
    seen.push(a.json.access_token, b.json.access_token);
  });

  test('GET /cgi-bin/token errors', async () => {
    const ok = { grant_type: 'client_credential', appid: APP.appid, secret: APP.secret };
    const cases = [
      [{ ...ok, appid: undefined }, 41002, 'appid missing'],
      [{ ...ok, secret: undefined }, 41004, 'secret missing'],
      [{ ...ok, appid: 'wxnosuchapp0000000' }, 40013, 'unknown appid'],
      [{ ...ok, secret: OTHER.secret }, 40001, 'wrong secret'],
      [{ ...ok, grant_type: 'authorization_code' }, 40002, 'wrong grant_type'],
      [{ ...ok, grant_type: undefined }, 40002, 'grant_type missing'],
    ];
    for (const [params, errcode, what] of cases) {
      const r = await wx.accessToken(params);
      assertWxError(r, errcode, what);
      assert.equal(r.json.access_token, undefined, `${what}: no token`);
    }
  });

  test('stable_token: one token for every caller, expires_in counting down, independent of /cgi-bin/token', async () => {
    const a = await stable();
    assertToken(a, 'first');
    assert.ok(a.json.expires_in <= 7200 && a.json.expires_in > 7100, `expires_in ${a.json.expires_in}`);
    await token(); // minting at /cgi-bin/token does not disturb it
    const b = await stable();
    assertToken(b, 'second');
    assert.equal(b.json.access_token, a.json.access_token, 'the same token');
    assert.ok(b.json.expires_in <= a.json.expires_in, 'counting down');
    const c = await stable(false, OTHER);
    assert.notEqual(c.json.access_token, a.json.access_token, 'per app');
    seen.push(a.json.access_token, c.json.access_token);
  });

  test('stable_token force_refresh: a new token, the old one in its grace, at most one per 30 s (45011)', async () => {
    await wx.resetStats();
    const old = (await stable()).json.access_token;
    const forced = await stable(true);
    assertToken(forced, 'forced');
    assert.notEqual(forced.json.access_token, old);
    assert.equal(forced.json.expires_in, 7200);
    assert.equal((await stable()).json.access_token, forced.json.access_token, 'normal mode now gives the new one');
    assert.equal(await probe(old), 40029, 'the replaced token still works for 5 minutes');
    assertWxError(await stable(true), 45011, 'a second force within 30 s');
    const stats = await wx.stats();
    assert.equal(stats[STABLE_TOKEN], 4);
    assert.equal(stats[`${STABLE_TOKEN}#force`], 2, 'force_refresh calls are counted apart, refused ones too');
    seen.push(forced.json.access_token);
  });

  test('stable_token errors', async () => {
    const ok = { grant_type: 'client_credential', appid: APP.appid, secret: APP.secret };
    const cases = [
      ['{"appid":', 47001, 'not JSON'],
      ['[1]', 47001, 'not an object'],
      [{ ...ok, force_refresh: 'yes' }, 47001, 'force_refresh not a boolean'],
      [{ ...ok, appid: 7 }, 47001, 'appid not a string'],
      [{ ...ok, appid: undefined }, 41002, 'appid missing'],
      [{ ...ok, secret: '' }, 41004, 'secret empty'],
      [{ ...ok, appid: 'wxnosuchapp0000000' }, 40013, 'unknown appid'],
      [{ ...ok, secret: OTHER.secret }, 40125, 'wrong secret'],
      [{ ...ok, grant_type: 'authorization_code' }, 40002, 'wrong grant_type'],
    ];
    for (const [body, errcode, what] of cases) assertWxError(await wx.stableToken(body), errcode, what);
    assert.equal((await wx.request('GET', STABLE_TOKEN)).status, 405);
  });

  test('POST /__emu/tokens: invalidate -> 40001, expire -> 42001, for both token APIs', async () => {
    const t = (await token()).json.access_token;
    const s = (await stable()).json.access_token;
    const other = (await token(OTHER)).json.access_token;
    const expired = await wx.tokens(APP.appid, 'expire');
    assert.ok(expired.expired >= 2, JSON.stringify(expired));
    assert.equal(await probe(t), 42001);
    assert.equal(await probe(s), 42001);
    assert.equal(await probe(other), 40029, "another app's token is untouched");
    const renewed = (await stable()).json.access_token;
    assert.notEqual(renewed, s, 'stable_token replaces an expired token');
    assert.equal(await probe(renewed), 40029);
    const invalidated = await wx.tokens(APP.appid, 'invalidate');
    assert.ok(invalidated.invalidated >= 3, JSON.stringify(invalidated));
    assert.equal(await probe(t), 40001);
    assert.equal(await probe(renewed), 40001);
    for (const [body, what] of [
      [{ appid: APP.appid, action: 'explode' }, 'unknown action'],
      [{ appid: 'wxnosuchapp0000000', action: 'expire' }, 'unknown app'],
      [{ appid: APP.appid }, 'no action'],
    ]) {
      const r = await wx.request('POST', '/__emu/tokens', body);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
    }
    seen.push(t, s, other, renewed);
  });

  test('no app secret or access_token appears in the logs', async () => {
    const logs = wx.logs();
    assert.match(logs, /cgi-bin\/stable_token/, 'requests are logged (path only)');
    assert.ok(seen.length >= 8);
    for (const x of [APP.secret, OTHER.secret, ...seen]) assert.ok(!logs.includes(x), `${x} is not logged`);
  });
});

describe('access_token lifetime (--token-ttl-seconds)', () => {
  test('a token expires after the configured lifetime: 42001', async () => {
    const wx = await startWxemu({ apps: [APP], tokenTtlSeconds: 1 });
    try {
      const r = await wx.accessToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret });
      assert.equal(r.json?.expires_in, 1, r.text);
      const t = r.json.access_token;
      assert.equal((await wx.phoneNumber(t, { code: 'X'.repeat(32) })).json?.errcode, 40029, 'fresh: accepted');
      await new Promise((res) => setTimeout(res, 1100));
      assertWxError(await wx.phoneNumber(t, { code: 'X'.repeat(32) }), 42001, 'after its lifetime');
    } finally {
      assert.equal((await wx.stop()).code, 0, wx.logs());
    }
  });

  test('a bad --token-ttl-seconds exits 2', async () => {
    for (const v of ['0', '-1', 'x', '86401']) {
      const p = spawn(WXEMU_BIN, ['--token-ttl-seconds', v], { stdio: 'ignore' });
      assert.equal((await waitExit(p)).code, 2, v);
    }
  });
});

describe('getuserphonenumber', () => {
  let wx, token;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER], args: ['--log-level', 'debug'] });
    token = (await wx.accessToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('a phone code gives phone_info with a string countryCode and our watermark, once', async () => {
    const login = await wx.newLogin(APP.appid, 'pam');
    const code = await wx.phoneCode(APP.appid, 'pam', PHONE);
    const before = Math.floor(Date.now() / 1000);
    const r = await wx.phoneNumber(token, { code, openid: login.openid });
    assert.equal(r.status, 200);
    assert.equal(r.json?.errcode, 0, r.text);
    assert.equal(r.json.errmsg, 'ok');
    const info = r.json.phone_info;
    assert.equal(info.phoneNumber, PHONE);
    assert.equal(info.purePhoneNumber, PHONE);
    assert.equal(info.countryCode, '86');
    assert.equal(info.watermark.appid, APP.appid);
    assert.ok(Math.abs(info.watermark.timestamp - before) <= 5, `timestamp ${info.watermark.timestamp}`);
    assertWxError(await wx.phoneNumber(token, { code }), 40029, 'the code again');
  });

  test('countryCode as a number, another country, a foreign watermark appid', async () => {
    let code = await wx.phoneCode(APP.appid, 'quin', PHONE, { country_code_as_number: true });
    let info = (await wx.phoneNumber(token, { code })).json?.phone_info;
    assert.equal(info?.countryCode, 86);
    code = await wx.phoneCode(APP.appid, 'quin', '4155550100', { countryCode: '1', watermarkAppid: OTHER.appid });
    info = (await wx.phoneNumber(token, { code })).json?.phone_info;
    assert.equal(info?.phoneNumber, '+1 4155550100');
    assert.equal(info.purePhoneNumber, '4155550100');
    assert.equal(info.countryCode, '1');
    assert.equal(info.watermark.appid, OTHER.appid);
  });

  test('the access_token is checked first (41001, 40001), before the body (47001)', async () => {
    const code = await wx.phoneCode(APP.appid, 'rob', PHONE);
    assertWxError(await wx.phoneNumber(undefined, { code }), 41001, 'no token');
    assertWxError(await wx.phoneNumber('', { code }), 41001, 'empty token');
    assertWxError(await wx.phoneNumber('A'.repeat(128), { code }), 40001, 'unknown token');
    assertWxError(await wx.phoneNumber(undefined, 'not json'), 41001, 'no token and a bad body');
    assertWxError(await wx.phoneNumber(token, 'not json'), 47001, 'a bad body');
    const r = await wx.phoneNumber(token, { code });
    assert.equal(r.json?.errcode, 0, `none of them spent the code: ${r.text}`);
  });

  test('bad codes: unknown, a wx.login() code, another app, another user, missing: 40029 / 41008', async () => {
    const loginCode = await wx.newCode(APP.appid, 'sue');
    const otherApp = await wx.phoneCode(OTHER.appid, 'sue', PHONE);
    const sues = await wx.phoneCode(APP.appid, 'sue', PHONE);
    const tims = await wx.newLogin(APP.appid, 'tim');
    assertWxError(await wx.phoneNumber(token, { code: 'Z'.repeat(32) }), 40029, 'unknown');
    assertWxError(await wx.phoneNumber(token, { code: loginCode }), 40029, 'a wx.login() code');
    assertWxError(await wx.phoneNumber(token, { code: otherApp }), 40029, 'a code of another app');
    assertWxError(await wx.phoneNumber(token, { code: sues, openid: tims.openid }), 40029, "sue's code, tim's openid");
    assertWxError(await wx.phoneNumber(token, {}), 41008, 'no code');
    assert.equal((await wx.phoneNumber(token, { code: sues })).json?.errcode, 0, 'the refusals spent nothing');
    const j = await wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: sues, grant_type: 'authorization_code' });
    assertWxError(j, 40029, 'a phone code at jscode2session');
  });

  test('faults: 40001 then a retry with the same code works; 1400001', async () => {
    await wx.resetStats();
    const code = await wx.phoneCode(APP.appid, 'uma', PHONE);
    await wx.faults({ path: PHONE_NUMBER, errcode: 40001 });
    assertWxError(await wx.phoneNumber(token, { code }), 40001, 'faulted');
    assert.equal((await wx.phoneNumber(token, { code })).json?.errcode, 0, 'the retry');
    await wx.faults({ path: PHONE_NUMBER, errcode: 1400001 });
    const quota = await wx.phoneNumber(token, { code: await wx.phoneCode(APP.appid, 'uma', PHONE) });
    assertWxError(quota, 1400001, 'quota');
    assert.equal(await wx.calls(PHONE_NUMBER), 3);
  });

  test('faults work on every new path', async () => {
    const calls = {
      [TOKEN]: () => wx.accessToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret }),
      [STABLE_TOKEN]: () => wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret }),
      [PHONE_NUMBER]: () => wx.phoneNumber(token, { code: 'Z'.repeat(32) }),
      [CHECK_SESSION]: () => wx.checkSession({ access_token: token }),
    };
    for (const [p, call] of Object.entries(calls)) {
      await wx.faults({ path: p, errcode: -1 });
      assertWxError(await call(), -1, `${p} errcode`);
      await wx.faults({ path: p, http_status: 503 });
      const h = await call();
      assert.equal(h.status, 503, `${p} http_status`);
      assert.equal(h.json, undefined);
      await wx.faults({ path: p, malformed: true });
      const m = await call();
      assert.equal(m.status, 200);
      assert.equal(m.json, undefined, `${p} malformed: ${m.text}`);
      await wx.faults({ path: p, drop: true });
      await assert.rejects(call(), /fetch failed|socket|closed/i, `${p} drop`);
      await wx.faults({ path: p, delay_ms: 200 });
      const t0 = Date.now();
      await call();
      assert.ok(Date.now() - t0 >= 190, `${p} delay`);
    }
    assert.equal((await wx.state()).faults, 0);
  });
});

describe('checksession', () => {
  let wx, token;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER] });
    token = (await wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  const login = async (app, user) =>
    (
      await wx.jscode2session({
        appid: app.appid,
        secret: app.secret,
        js_code: await wx.newCode(app.appid, user),
        grant_type: 'authorization_code',
      })
    ).json;

  test('the signature of the current session_key passes; after a new login it is stale (87009)', async () => {
    const first = await login(APP, 'vic');
    const check = (signature, extra = {}) =>
      wx.checkSession({ access_token: token, openid: first.openid, signature, sig_method: 'hmac_sha256', ...extra });
    let r = await check(hmacSig(first.session_key));
    assert.deepEqual(r.json, { errcode: 0, errmsg: 'ok' }, r.text);
    const second = await login(APP, 'vic');
    assertWxError(await check(hmacSig(first.session_key)), 87009, 'the old key');
    r = await check(hmacSig(second.session_key));
    assert.equal(r.json?.errcode, 0, r.text);
    const keyBytes = createHmac('sha256', Buffer.from(second.session_key, 'base64')).update('').digest('hex');
    assertWxError(await check(keyBytes), 87009, 'keyed with the decoded bytes instead of the text');
    assertWxError(await check(hmacSig(second.session_key), { sig_method: 'md5' }), 87008, 'sig_method');
    assertWxError(await check(hmacSig(second.session_key), { sig_method: undefined }), 87008, 'no sig_method');
    assertWxError(await check(hmacSig(second.session_key), { openid: undefined }), 41009, 'no openid');
    assertWxError(await check(hmacSig(second.session_key), { access_token: undefined }), 41001, 'no token');
    assertWxError(await check(hmacSig(second.session_key), { access_token: 'B'.repeat(128) }), 40001, 'bad token');
    const otherToken = (await wx.accessToken({ grant_type: 'client_credential', appid: OTHER.appid, secret: OTHER.secret }))
      .json.access_token;
    assertWxError(await check(hmacSig(second.session_key), { access_token: otherToken }), 87009, "another app's token");
  });
});

describe('legacy encrypted data (/__emu/encrypted)', () => {
  let wx;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER], args: ['--log-level', 'debug'] });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  const login = async (user) =>
    (
      await wx.jscode2session({
        appid: APP.appid,
        secret: APP.secret,
        js_code: await wx.newCode(APP.appid, user),
        grant_type: 'authorization_code',
      })
    ).json;

  test('userinfo decrypts with the current session_key; rawData is signed with SHA-1(rawData + key)', async () => {
    const s = await login('wes');
    const before = Math.floor(Date.now() / 1000);
    const e = await wx.encrypted(APP.appid, 'wes', 'userinfo', { nickName: '小王 🐱', gender: 1, avatarUrl: 'https://x/a.png' });
    assert.equal(Buffer.from(e.iv, 'base64').length, 16);
    const plain = JSON.parse(decrypt(s.session_key, e));
    assert.equal(plain.openId, s.openid);
    assert.equal(plain.unionId, s.unionid);
    assert.equal(plain.nickName, '小王 🐱');
    assert.equal(plain.gender, 1);
    assert.equal(plain.avatarUrl, 'https://x/a.png');
    assert.equal(plain.watermark.appid, APP.appid);
    assert.ok(Math.abs(plain.watermark.timestamp - before) <= 5);
    const raw = JSON.parse(e.rawData);
    assert.deepEqual(Object.keys(raw).sort(), ['avatarUrl', 'city', 'country', 'gender', 'language', 'nickName', 'province']);
    for (const k of Object.keys(raw)) assert.deepEqual(raw[k], plain[k], `rawData.${k} matches`);
    assert.equal(e.signature, createHash('sha1').update(e.rawData + s.session_key).digest('hex'));
  });

  test('phone decrypts to phoneNumber/purePhoneNumber/countryCode/watermark; watermark_appid is honoured; signed rawData', async () => {
    const s = await login('xia');
    const e = await wx.encrypted(APP.appid, 'xia', 'phone', { phone: '13912345678', watermark_appid: OTHER.appid });
    const plain = JSON.parse(decrypt(s.session_key, e));
    assert.equal(plain.phoneNumber, '13912345678');
    assert.equal(plain.purePhoneNumber, '13912345678');
    assert.equal(plain.countryCode, '86');
    assert.equal(plain.watermark.appid, OTHER.appid);
    const { watermark, ...number } = plain;
    assert.deepEqual(JSON.parse(e.rawData), number, 'rawData: the number without its watermark');
    assert.equal(e.signature, createHash('sha1').update(e.rawData + s.session_key).digest('hex'));
  });

  test('after another login the old data no longer opens with the new key, and the new data only with it', async () => {
    const first = await login('yan');
    const old = await wx.encrypted(APP.appid, 'yan', 'userinfo');
    assert.equal(tryDecrypt(first.session_key, old)?.openId, first.openid);
    const second = await login('yan');
    assert.notEqual(second.session_key, first.session_key);
    assert.equal(tryDecrypt(second.session_key, old)?.openId, undefined, 'old data, new key');
    const fresh = await wx.encrypted(APP.appid, 'yan', 'phone', { phone: PHONE });
    assert.equal(tryDecrypt(second.session_key, fresh)?.purePhoneNumber, PHONE);
    assert.equal(tryDecrypt(first.session_key, fresh)?.purePhoneNumber, undefined, 'new data, old key');
    const signed = await wx.encrypted(APP.appid, 'yan', 'userinfo');
    assert.notEqual(signed.signature, createHash('sha1').update(signed.rawData + first.session_key).digest('hex'));
  });

  test('wx.login() rotates the key: data made right after it opens with the key its exchange answers', async () => {
    const before = await login('abe');
    const { code, openid } = await wx.newLogin(APP.appid, 'abe'); // the phone's wx.login()
    const e = await wx.encrypted(APP.appid, 'abe', 'userinfo'); // the phone's getUserInfo()
    assert.equal(tryDecrypt(before.session_key, e), undefined, 'not with the key of the earlier login');
    const s = (await wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code' })).json;
    assert.notEqual(s.session_key, before.session_key);
    assert.equal(tryDecrypt(s.session_key, e)?.openId, openid, 'the server, exchanging the code, can open it');
  });

  test('refused: no session yet, unknown app, bad kind or fields (HTTP 400); no key in the logs', async () => {
    const s = await login('zed');
    const cases = [
      [{ appid: APP.appid, user: 'nobody-logged-in', kind: 'userinfo' }, /session_key/],
      [{ appid: OTHER.appid, user: 'zed', kind: 'userinfo' }, /session_key/],
      [{ appid: 'wxnosuchapp0000000', user: 'zed', kind: 'phone' }, /appid/],
      [{ appid: APP.appid, user: 'zed', kind: 'email' }, /kind/],
      [{ appid: APP.appid, user: 'zed', kind: 'phone', phone: '12-34' }, /phone/],
      [{ appid: APP.appid, user: 'zed', kind: 'phone', nickName: 'x' }, /userinfo/],
      [{ appid: APP.appid, user: 'zed', kind: 'userinfo', gender: 3 }, /gender/],
      [{ appid: APP.appid, user: 'zed', kind: 'userinfo', typo: 1 }, /bad body/],
    ];
    for (const [body, why] of cases) {
      const r = await wx.request('POST', '/__emu/encrypted', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.json?.error ?? '', why);
      assert.ok(!r.text.includes(s.session_key));
    }
    assert.ok(!wx.logs().includes(s.session_key), 'the session_key is not logged');
  });

  test('POST /__emu/phone_code refuses bad input with 400', async () => {
    for (const body of [
      { appid: APP.appid, user: 'a' },
      { appid: APP.appid, user: 'a', phone: 'abc' },
      { appid: APP.appid, user: 'a', phone: PHONE, country_code: '+86' },
      { appid: APP.appid, user: 'a', phone: PHONE, country_code_as_number: 'yes' },
      { appid: 'wxnosuchapp0000000', user: 'a', phone: PHONE },
    ]) {
      const r = await wx.request('POST', '/__emu/phone_code', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
  });
});

describe('process', () => {
  test('--port-file holds the bound port', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wxemu-bb-'));
    try {
      const file = path.join(dir, 'port');
      const { proc, port } = await spawnWxemu(['--port', '0', '--app', `${APP.appid}:${APP.secret}`, '--port-file', file]);
      assert.equal(readFileSync(file, 'utf8').trim(), String(port));
      const r = await request(`http://127.0.0.1:${port}`, 'GET', '/__emu/stats');
      assert.equal(r.status, 200);
      proc.kill('SIGTERM');
      assert.deepEqual(await waitExit(proc), { code: 0, signal: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const run = (args) =>
    new Promise((resolve) => {
      const p = spawn(WXEMU_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('exit', (code) => resolve({ code, out }));
    });

  test('--help prints the usage and exits 0; bad arguments exit 2', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /--latency-ms/);
    for (const args of [['--port', 'x'], ['--app', 'nocolon'], ['--latency-ms', '-5'], ['--bogus'], ['--app', 'a:b', '--app', 'a:c']]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    }
    const dup = await run(['--app', 'wxdup:topsecret1', '--app', 'wxdup:topsecret2']);
    assert.ok(!dup.out.includes('topsecret'), 'the error does not show the secret');
  });

  test('SIGTERM with idle and in-flight connections: answers, then exit 0', async () => {
    const wx = await startWxemu({ apps: [APP], latencyMs: 5000 });
    await wx.stats(); // leaves an idle keep-alive connection
    const code = await wx.newCode(APP.appid, 'nina');
    const inflight = wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code' });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const exit = await wx.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, wx.logs());
    assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms, without waiting out the latency`);
    const r = await inflight;
    assert.ok(isSessionKey(r.json?.session_key), `the delayed request got its answer: ${r.text}`);
    await assert.rejects(fetch(`${wx.base}/__emu/stats`), 'no longer listening');
  });

  test('SIGINT exits 0 too', async () => {
    const wx = await startWxemu({ apps: [APP] });
    await wx.stats();
    assert.deepEqual(await wx.stop('SIGINT'), { code: 0, signal: null }, wx.logs());
  });
});

// ---- getwxacodeunlimit --------------------------------------------------------------------------

const WXACODE_JSON = 'application/json; encoding=utf-8';
const SCENE_SPECIALS = "!#$&'()*+,/:;=?@-._~";
const SCENE_32 = `${SCENE_SPECIALS}Az09Qx7kLm3P`; // every special character, letters and digits: 32

/** CRC-32 of PNG, written here independently of wxemu's. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Parses a PNG strictly: signature, every chunk's CRC, IHDR first and IEND last, the IDAT zlib
 * stream inflated (node checks its Adler-32). -> {width, height, bitDepth, colorType, chunks: {type:
 * data}, raw (the inflated scanlines)}.
 */
function parsePng(buf) {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const chunks = {};
  const order = [];
  const idat = [];
  let off = 8;
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    assert.equal(buf.readUInt32BE(off + 8 + len), crc32(buf.subarray(off + 4, off + 8 + len)), `${type} CRC`);
    order.push(type);
    if (type === 'IDAT') idat.push(data);
    else chunks[type] = data;
    off += 12 + len;
  }
  assert.equal(off, buf.length, 'nothing after the last chunk');
  assert.equal(order[0], 'IHDR');
  assert.equal(order.at(-1), 'IEND');
  const ihdr = chunks.IHDR;
  const png = { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), bitDepth: ihdr[8], colorType: ihdr[9], chunks };
  png.raw = inflateSync(Buffer.concat(idat));
  const stride = Math.ceil((png.width * png.bitDepth) / 8);
  assert.equal(png.raw.length, png.height * (1 + stride), 'one filter byte and one row per scanline');
  return png;
}

/** What zbarimg reads in the PNG bytes (its stdout without the final newline), or null when nothing. */
function zbar(bytes) {
  const dir = mkdtempSync(path.join(tmpdir(), 'wxemu-qr-'));
  try {
    const file = path.join(dir, 'code.png');
    writeFileSync(file, bytes);
    const r = spawnSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return r.status === 0 ? r.stdout.replace(/\n$/, '') : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertCodeError(r, errcode, what) {
  assert.equal(r.status, 200, `${what}: errors are HTTP 200`);
  assert.equal(r.headers.get('content-type'), WXACODE_JSON, `${what}: WeChat's JSON content type`);
  assert.equal(r.json?.errcode, errcode, `${what}: ${r.text.slice(0, 200)}`);
  assert.equal(typeof r.json.errmsg, 'string', `${what}: errmsg`);
  assert.ok(r.json.errmsg.length > 0);
}

function assertImage(r, what) {
  assert.equal(r.status, 200, what);
  assert.equal(r.headers.get('content-type'), 'image/png', `${what}: ${r.text.slice(0, 200)}`);
  assert.equal(Number(r.headers.get('content-length')), r.bytes.length, `${what}: content-length`);
  return parsePng(r.bytes);
}

describe('getwxacodeunlimit', () => {
  let wx, token, otherToken;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER] });
    token = (await wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
    otherToken = (await wx.accessToken({ grant_type: 'client_credential', appid: OTHER.appid, secret: OTHER.secret }))
      .json.access_token;
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('a scene of 32 allowed characters: a real PNG of a QR code that zbarimg reads back exactly', async () => {
    assert.equal(SCENE_32.length, 32);
    const r = await wx.wxacode(token, { scene: SCENE_32, page: 'pages/checkin/index', check_path: false });
    const png = assertImage(r, 'the code');
    assert.equal(png.width, 430, 'default width');
    assert.equal(png.height, 430, 'square');
    assert.equal(zbar(r.bytes), SCENE_32);
  });

  test('only the scene is required: default page, check_path true, release', async () => {
    const r = await wx.wxacode(token, { scene: 'm=42&t=Zx9' });
    assertImage(r, 'defaults');
    assert.equal(zbar(r.bytes), 'm=42&t=Zx9');
    for (const env_version of ['release', 'trial', 'develop']) {
      const e = await wx.wxacode(token, { scene: 'e1', env_version });
      assertImage(e, env_version);
    }
  });

  test('widths 280 and 1280 give images of those sizes; outside the bounds they are clamped', async () => {
    for (const [width, side] of [
      [280, 280],
      [1280, 1280],
      [600, 600],
      [100, 280],
      [5000, 1280],
      [430.7, 430],
    ]) {
      const r = await wx.wxacode(token, { scene: 'w', width });
      const png = assertImage(r, `width ${width}`);
      assert.equal(png.width, side, `width ${width}`);
      assert.equal(png.height, side, `width ${width}`);
      assert.equal(zbar(r.bytes), 'w', `width ${width} reads back`);
    }
  });

  test('line_color (numbers or WxJava strings), auto_color and is_hyaline', async () => {
    let r = await wx.wxacode(token, { scene: 'c1', line_color: { r: 200, g: 10, b: 30 } });
    let png = assertImage(r, 'line_color');
    assert.deepEqual([...png.chunks.PLTE], [255, 255, 255, 200, 10, 30], 'white background, the line colour');
    assert.equal(png.chunks.tRNS, undefined, 'opaque');
    assert.equal(zbar(r.bytes), 'c1');
    r = await wx.wxacode(token, { scene: 'c2', auto_color: false, line_color: { r: '0', g: '0', b: '128' } });
    assert.deepEqual([...assertImage(r, 'string colours').chunks.PLTE].slice(3), [0, 0, 128]);
    r = await wx.wxacode(token, { scene: 'c3', auto_color: true, line_color: { r: 255, g: 0, b: 0 } });
    assert.deepEqual([...assertImage(r, 'auto_color').chunks.PLTE].slice(3), [0, 0, 0], 'auto_color: black here');
    r = await wx.wxacode(token, { scene: 'c4', is_hyaline: true });
    png = assertImage(r, 'is_hyaline');
    assert.deepEqual([...png.chunks.tRNS], [0], 'the background palette entry is transparent');
    assert.equal(zbar(r.bytes), 'c4');
  });

  test('40169: scene missing, empty, over 32 characters, not a string, or a body that is not JSON', async () => {
    const cases = [
      [undefined, 'no body'],
      [{}, 'no scene'],
      [{ scene: '' }, 'empty scene'],
      [{ scene: `${SCENE_32}x` }, '33 characters'],
      [{ scene: 12345 }, 'scene a number'],
      [{ scene: null }, 'scene null'],
      ['not json', 'not JSON'],
      ['{"scene":"abc"', 'truncated JSON'],
      ['["abc"]', 'an array'],
    ];
    for (const [body, what] of cases) assertCodeError(await wx.wxacode(token, body), 40169, what);
  });

  test('40129: a scene character outside the allowed set', async () => {
    for (const scene of ['a b', 'a%20b', '签到', 'a\\b', 'a"b', 'a<b>', 'a^b', 'a`b', 'a|b', 'a{b}', 'é']) {
      assertCodeError(await wx.wxacode(token, { scene }), 40129, JSON.stringify(scene));
    }
    assertCodeError(await wx.wxacode(token, { scene: '签'.repeat(33) }), 40169, '33 Chinese characters: length first');
  });

  test('41030: a page with a leading / or a query, whatever check_path', async () => {
    for (const check_path of [true, false]) {
      for (const page of ['/pages/index/index', 'pages/index/index?x=1', 'p'.repeat(129)]) {
        assertCodeError(await wx.wxacode(token, { scene: 'p', page, check_path }), 41030, `${page} ${check_path}`);
      }
    }
  });

  test('published pages: with check_path only those (the first is the home page); without, any page', async () => {
    try {
      const s = await wx.wxacodeSettings(APP.appid, { pages: ['pages/home/home', 'pages/checkin/index'] });
      assert.deepEqual(s.pages, ['pages/home/home', 'pages/checkin/index']);
      assert.equal(s.home, 'pages/home/home');
      assertImage(await wx.wxacode(token, { scene: 'p', page: 'pages/checkin/index' }), 'a published page');
      assertImage(await wx.wxacode(token, { scene: 'p' }), 'the home page');
      assertImage(await wx.wxacode(token, { scene: 'p', page: '' }), 'an empty page is the home page');
      assertCodeError(await wx.wxacode(token, { scene: 'p', page: 'pages/new/new' }), 41030, 'not published');
      assertImage(await wx.wxacode(token, { scene: 'p', page: 'pages/new/new', check_path: false }), 'check_path false');
      assertImage(await wx.wxacode(otherToken, { scene: 'p', page: 'pages/new/new' }), 'another app has no list');
      await wx.wxacodeSettings(APP.appid, { pages: [] }); // an app that was never published
      assertCodeError(await wx.wxacode(token, { scene: 'p' }), 41030, 'unpublished app, check_path true');
      assertImage(await wx.wxacode(token, { scene: 'p', check_path: false }), 'unpublished app, check_path false');
    } finally {
      const s = await wx.wxacodeSettings(APP.appid, { pages: null });
      assert.equal(s.pages, null);
      assert.equal(s.home, 'pages/index/index');
    }
    assertImage(await wx.wxacode(token, { scene: 'p', page: 'pages/any/where' }), 'no list: any well-formed page');
  });

  test('40097: env_version "" or unknown', async () => {
    assertCodeError(await wx.wxacode(token, { scene: 'e', env_version: '' }), 40097, 'empty');
    assertCodeError(await wx.wxacode(token, { scene: 'e', env_version: 'prod' }), 40097, 'unknown');
  });

  test('47001: a form post, or a member of the wrong type', async () => {
    const form = { contentType: 'application/x-www-form-urlencoded' };
    assertCodeError(await wx.wxacode(token, 'scene=abc&width=430', form), 47001, 'urlencoded form');
    const multipart = '--XyZ\r\nContent-Disposition: form-data; name="scene"\r\n\r\nabc\r\n--XyZ--\r\n';
    assertCodeError(
      await wx.wxacode(token, multipart, { contentType: 'multipart/form-data; boundary=XyZ' }),
      47001,
      'multipart form',
    );
    for (const [extra, what] of [
      [{ width: '430' }, 'width a string'],
      [{ check_path: 'false' }, 'check_path a string'],
      [{ page: 7 }, 'page a number'],
      [{ env_version: true }, 'env_version a boolean'],
      [{ is_hyaline: 1 }, 'is_hyaline a number'],
      [{ line_color: 'red' }, 'line_color a string'],
      [{ line_color: { r: 256, g: 0, b: 0 } }, 'line_color out of range'],
    ]) {
      assertCodeError(await wx.wxacode(token, { scene: 'abc', ...extra }), 47001, what);
    }
  });

  test('the access_token is checked first, as the other APIs do: 41001, 40001, 42001', async () => {
    const { appid, secret } = OTHER;
    const fresh = async () => (await wx.accessToken({ grant_type: 'client_credential', appid, secret })).json.access_token;
    assertCodeError(await wx.wxacode(undefined, { scene: 'abc' }), 41001, 'no token');
    assertCodeError(await wx.wxacode('', { scene: 'abc' }), 41001, 'empty token');
    assertCodeError(await wx.wxacode(undefined, 'not json'), 41001, 'no token and a bad body');
    assertCodeError(await wx.wxacode('A'.repeat(128), { scene: 'abc' }), 40001, 'unknown token');
    let t = await fresh();
    await wx.tokens(appid, 'expire');
    assertCodeError(await wx.wxacode(t, { scene: 'abc' }), 42001, 'expired token');
    t = await fresh();
    await wx.tokens(appid, 'invalidate');
    assertCodeError(await wx.wxacode(t, { scene: 'abc' }), 40001, 'invalidated token');
    otherToken = await fresh();
    assertImage(await wx.wxacode(otherToken, { scene: 'abc' }), 'a fresh token');
  });

  test('45009 past the ration per minute, set through /__emu/wxacode; per app; refused calls not counted', async () => {
    try {
      let s = await wx.wxacodeSettings(APP.appid, { limitPerMinute: 3 });
      assert.equal(s.limit_per_minute, 3);
      assert.equal(s.calls_this_minute, 0, 'setting the limit starts a new window');
      assertImage(await wx.wxacode(token, { scene: 'r1' }), 'call 1');
      assertCodeError(await wx.wxacode(token, { scene: '' }), 40169, 'call 2, an error, still counts');
      assertImage(await wx.wxacode(token, { scene: 'r3' }), 'call 3');
      assertCodeError(await wx.wxacode(token, { scene: 'r4' }), 45009, 'call 4');
      assertCodeError(await wx.wxacode(token, { scene: 'r5' }), 45009, 'call 5');
      assert.equal((await wx.wxacodeSettings(APP.appid)).calls_this_minute, 3, 'the refused calls were not counted');
      assertCodeError(await wx.wxacode(undefined, { scene: 'r6' }), 41001, 'the token still comes first');
      assertImage(await wx.wxacode(otherToken, { scene: 'r7' }), 'another app has its own ration');
      s = await wx.wxacodeSettings(APP.appid, { limitPerMinute: 3 });
      assert.equal(s.calls_this_minute, 0);
      assertImage(await wx.wxacode(token, { scene: 'r8' }), 'a new window');
    } finally {
      assert.equal((await wx.wxacodeSettings(APP.appid, { limitPerMinute: 5000 })).limit_per_minute, 5000);
    }
  });

  test('/__emu/wxacode refuses bad bodies with 400', async () => {
    for (const body of [
      { appid: 'wxnosuchapp0000000', limit_per_minute: 1 },
      { appid: APP.appid, limit_per_minute: 0 },
      { appid: APP.appid, limit_per_minute: 1000001 },
      { appid: APP.appid, limit_per_minute: '5' },
      { appid: APP.appid, pages: ['/pages/index/index'] },
      { appid: APP.appid, pages: ['pages/index/index?a=1'] },
      { appid: APP.appid, pages: [''] },
      { appid: APP.appid, pages: [7] },
      { appid: APP.appid, pages: 'pages/index/index' },
      { appid: APP.appid, pages: Array.from({ length: 33 }, (_, i) => `pages/p${i}/index`) },
      { appid: APP.appid, typo: 1 },
      { limit_per_minute: 1 },
    ]) {
      const r = await wx.request('POST', '/__emu/wxacode', body);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(typeof r.json?.error, 'string');
    }
    const s = await wx.wxacodeSettings(APP.appid);
    assert.equal(s.limit_per_minute, 5000, 'nothing changed');
    assert.equal(s.pages, null);
  });

  test('stats count every call, errors and faults included', async () => {
    await wx.resetStats();
    await wx.wxacode(token, { scene: 's1' });
    await wx.wxacode(token, { scene: 's1' });
    await wx.wxacode(token, { scene: '' });
    await wx.wxacode(undefined, { scene: 's2' });
    await wx.faults({ path: WXACODE, errcode: -1 });
    await wx.wxacode(token, { scene: 's3' });
    const stats = await wx.stats();
    assert.equal(stats[WXACODE], 5);
    assert.equal(stats[PHONE_NUMBER], 0);
  });

  test('faults: errcode (JSON of this API), http_status, malformed, drop, delay, and a scene filter', async () => {
    await wx.faults({ path: WXACODE, errcode: 45009 });
    assertCodeError(await wx.wxacode(token, { scene: 'f' }), 45009, 'errcode fault');
    await wx.faults({ path: WXACODE, http_status: 502 });
    const h = await wx.wxacode(token, { scene: 'f' });
    assert.equal(h.status, 502);
    assert.equal(h.json, undefined);
    await wx.faults({ path: WXACODE, malformed: true });
    const m = await wx.wxacode(token, { scene: 'f' });
    assert.equal(m.status, 200);
    assert.throws(() => JSON.parse(m.text), 'malformed');
    await wx.faults({ path: WXACODE, drop: true });
    await assert.rejects(wx.wxacode(token, { scene: 'f' }), /fetch failed|socket|closed/i, 'drop');
    await wx.faults({ path: WXACODE, delay_ms: 200 });
    const t0 = Date.now();
    assertImage(await wx.wxacode(token, { scene: 'late' }), 'delayed');
    assert.ok(Date.now() - t0 >= 190, 'delay');
    await wx.faults({ path: WXACODE, code: 'm=7', errcode: -1 });
    assertImage(await wx.wxacode(token, { scene: 'm=8' }), 'another scene passes the fault by');
    assertCodeError(await wx.wxacode(token, { scene: 'm=7' }), -1, 'the targeted scene');
    assertImage(await wx.wxacode(token, { scene: 'm=7' }), 'once');
    assert.equal((await wx.state()).faults, 0);
  });

  test('20 large codes at once are all whole and readable', async () => {
    const scenes = Array.from({ length: 20 }, (_, i) => `c=${i}&k=${'Q'.repeat(i)}`);
    const answers = await Promise.all(scenes.map((scene) => wx.wxacode(token, { scene, width: 1280 })));
    answers.forEach((r, i) => {
      assert.equal(assertImage(r, scenes[i]).width, 1280);
      assert.equal(zbar(r.bytes), scenes[i]);
    });
  });
});

// ---- subscribeMessage.send ----------------------------------------------------------------------

const MSGID_FIRST = '1988810812324364291';
const T_MEETING = 'tplMeetingNotice-0123456789abcdefghijklmnopq';
const T_OTHER = 'tplSomethingElse';
const T_ALL = 'tplEveryKeywordType';
const ALL_KEYWORDS = [
  'thing1',
  'number2',
  'letter3',
  'symbol4',
  'character_string5',
  'time6',
  'date7',
  'amount8',
  'phone_number9',
  'car_number10',
  'name11',
  'phrase12',
  'enum13',
];
/** A valid value of every keyword of T_ALL. */
const ALL_GOOD = {
  thing1: '一二三四五六七八九十一二三四五六七八九十', // 20 characters (60 bytes)
  number2: '3.14',
  letter3: 'abcXYZ',
  symbol4: '！？',
  character_string5: 'AB-2025/06_01#7',
  time6: '2025年06月01日 14:00~15:30',
  date7: '2019-10-01',
  amount8: '¥100.50',
  phone_number9: '+86-0766-66888866',
  car_number10: '粤B12345',
  name11: '欧阳娜娜',
  phrase12: '已取消',
  enum13: '线上',
};
/** A value breaking each keyword's rule. */
const ALL_BAD = {
  thing1: '一二三四五六七八九十一二三四五六七八九十一', // 21 characters
  number2: '3.1.4',
  letter3: 'abc1',
  symbol4: '!!!!!!',
  character_string5: '会议1',
  time6: '25:00',
  date7: '15:01',
  amount8: '1.234',
  phone_number9: '138-0013-8000-1234',
  car_number10: '粤A-12345',
  name11: '张三 Zhang Sanfeng',
  phrase12: 'ok',
  enum13: 'tab\there',
};

const dataOf = (values) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }]));
const MEETING_DATA = dataOf({ thing1: '周例会', time2: '2025年06月01日 14:00~15:30', phrase3: '已变更' });

/** Control bodies of APP whose (app, user, template) target is refused (400) by accept and reject:
 * alice is her openid in APP, carol an openid of another app. */
const badSubTargets = (templateId, alice, carol) => [
  { appid: 'wxnosuchapp0000000', user: 'alice', template_id: templateId },
  { appid: APP.appid, user: 'alice', template_id: 'tplNope' },
  { appid: APP.appid, user: 'neverLoggedIn', template_id: templateId },
  { appid: APP.appid, openid: carol, template_id: templateId },
  { appid: APP.appid, openid: 'short', template_id: templateId },
  { appid: APP.appid, user: 'alice', openid: alice, template_id: templateId },
  { appid: APP.appid, template_id: templateId },
];

describe('subscribeMessage.send', () => {
  let wx, token, alice, bob, carol;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER] });
    token = (await wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
    alice = (await wx.newLogin(APP.appid, 'alice')).openid;
    bob = (await wx.newLogin(APP.appid, 'bob')).openid;
    carol = (await wx.newLogin(OTHER.appid, 'carol')).openid;
    const t = await wx.subscribeTemplates(APP.appid, [
      { id: T_MEETING, keywords: ['thing1', 'time2', 'phrase3'] },
      { id: T_OTHER, keywords: ['thing1'] },
      { id: T_ALL, keywords: ALL_KEYWORDS },
    ]);
    assert.deepEqual(t.templates[0], { id: T_MEETING, keywords: ['thing1', 'time2', 'phrase3'] });
    assert.equal(t.templates.length, 3);
    await wx.subscribeTemplates(OTHER.appid, [{ id: 'tplOfOtherApp', keywords: ['thing1'] }]);
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  /** subscribe/send with body and this suite's token, or the token given (undefined: none). */
  const send = (body, ...t) => wx.subscribeSend(t.length > 0 ? t[0] : token, body);
  const meeting = (extra = {}) => ({ touser: alice, template_id: T_MEETING, data: MEETING_DATA, ...extra });
  const assertArg = (r, what, errmsg) => {
    assertWxError(r, 47003, what);
    assert.ok(r.json.errmsg.startsWith(errmsg), `${what}: errmsg ${r.json.errmsg}`);
  };

  test('each accept adds one send; each send spends one; msgids are exact integers above 2^53, counting up', async () => {
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), 0);
    assert.deepEqual(await wx.subscribeAccept(APP.appid, 'alice', T_MEETING), {
      openid: alice,
      template_id: T_MEETING,
      quota: 1,
    });
    assert.equal((await wx.subscribeAccept(APP.appid, { openid: alice }, T_MEETING, 2)).quota, 3, 'accepts add up');
    assert.equal(await wx.subscribeQuota(APP.appid, { openid: alice }, T_MEETING), 3);

    const first = await send(meeting({ page: 'pages/meeting/detail?id=7', miniprogram_state: 'trial', lang: 'zh_CN' }));
    assert.equal(first.status, 200);
    assert.equal(first.json?.errcode, 0, first.text);
    assert.equal(first.json.errmsg, 'ok');
    assert.equal(first.msgid, MSGID_FIRST, 'the first msgid, exactly');
    assert.match(first.text, new RegExp(`"msgid":${MSGID_FIRST}[,}]`), 'an integer in the JSON text, not a string');
    assert.ok(BigInt(first.msgid) > 2n ** 53n);
    assert.notEqual(String(first.json.msgid), first.msgid, 'JSON.parse would have rounded it');
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), 2);

    const second = await send(meeting());
    const third = await send(meeting({ data: { ...MEETING_DATA, thing1: { value: '季度评审会' } } }));
    assert.equal(BigInt(second.msgid), BigInt(first.msgid) + 1n, 'fresh and unique');
    assert.equal(BigInt(third.msgid), BigInt(first.msgid) + 2n);
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), 0);

    const refused = await send(meeting());
    assertWxError(refused, 43101, 'quota spent');
    assert.ok(refused.json.errmsg.startsWith('user refuse to accept the msg'), refused.json.errmsg);
    assert.equal(refused.msgid, undefined);
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), 0, 'a refusal does not go below 0');
    assert.equal((await wx.subscribeAccept(APP.appid, 'alice', T_MEETING)).quota, 1, 'accept again');
    assert.equal((await send(meeting())).json?.errcode, 0);
  });

  test('every accepted message is recorded as sent, in send order, per app; DELETE clears', async () => {
    const sent = await wx.subscribeSent(APP.appid);
    assert.equal(sent.length, 4);
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual({ ...sent[0], time: undefined }, {
      msgid: MSGID_FIRST,
      appid: APP.appid,
      touser: alice,
      template_id: T_MEETING,
      page: 'pages/meeting/detail?id=7',
      data: MEETING_DATA,
      miniprogram_state: 'trial',
      lang: 'zh_CN',
      time: undefined,
    });
    assert.ok(Math.abs(sent[0].time - now) <= 60, `time ${sent[0].time}`);
    assert.equal(sent[1].page, null, 'absent fields are null');
    assert.equal(sent[1].miniprogram_state, null);
    assert.equal(sent[1].lang, null);
    assert.equal(sent[2].data.thing1.value, '季度评审会');
    assert.deepEqual(
      sent.map((m) => BigInt(m.msgid) - BigInt(MSGID_FIRST)),
      [0n, 1n, 2n, 3n],
      'in send order, exact msgids',
    );
    assert.deepEqual(await wx.subscribeSent(OTHER.appid), [], 'per app');
    assert.equal((await wx.subscribeSent()).length, 4, 'every app without appid');
    assert.deepEqual(await wx.clearSubscribeSent(), { cleared: 4 });
    assert.deepEqual(await wx.subscribeSent(APP.appid), []);
  });

  test('data is recorded as sent: numbers stay numbers, unknown members of an entry are kept', async () => {
    await wx.subscribeAccept(APP.appid, 'bob', T_ALL);
    const data = { ...dataOf(ALL_GOOD), number2: { value: 42 }, thing1: { value: '短', color: '#173177' } };
    const r = await send({ touser: bob, template_id: T_ALL, data });
    assert.equal(r.json?.errcode, 0, r.text);
    const [m] = await wx.subscribeSent(APP.appid);
    assert.equal(m.msgid, r.msgid);
    assert.deepEqual(m.data, data);
    await wx.clearSubscribeSent();
  });

  test('the access_token is checked first: 41001, 40001, 42001', async () => {
    const { appid, secret } = OTHER;
    const fresh = async () => (await wx.accessToken({ grant_type: 'client_credential', appid, secret })).json.access_token;
    assertWxError(await send(meeting(), undefined), 41001, 'no token');
    assertWxError(await send(meeting(), ''), 41001, 'empty token');
    assertWxError(await send('not json', undefined), 41001, 'no token and a bad body');
    assertWxError(await send(meeting(), 'A'.repeat(128)), 40001, 'unknown token');
    let t = await fresh();
    await wx.tokens(appid, 'expire');
    assertWxError(await send({ touser: carol, template_id: 'tplOfOtherApp' }, t), 42001, 'expired token');
    t = await fresh();
    await wx.tokens(appid, 'invalidate');
    assertWxError(await send({ touser: carol, template_id: 'tplOfOtherApp' }, t), 40001, 'invalidated token');
  });

  test('errcodes in the order they are checked; no refused call spends the quota or is recorded', async () => {
    await wx.subscribeAccept(APP.appid, 'alice', T_MEETING, 5);
    const quota = await wx.subscribeQuota(APP.appid, 'alice', T_MEETING);
    const otherToken = (await wx.accessToken({ grant_type: 'client_credential', appid: OTHER.appid, secret: OTHER.secret }))
      .json.access_token;

    // 47001: the body is not a JSON object, or a member has the wrong type
    for (const [body, what] of [
      ['not json', 'not JSON'],
      ['[1]', 'an array'],
      [undefined, 'no body'],
      [meeting({ touser: 7 }), 'touser a number'],
      [meeting({ template_id: ['x'] }), 'template_id an array'],
      [meeting({ page: true }), 'page a boolean'],
      [meeting({ data: 'thing1' }), 'data a string'],
      [meeting({ lang: 1 }), 'lang a number'],
    ]) {
      assertWxError(await send(body), 47001, what);
    }
    // 40003 before 40037: touser
    for (const [body, what] of [
      [{ template_id: 'nope', data: MEETING_DATA }, 'no touser'],
      [meeting({ touser: '', template_id: 'nope' }), 'empty touser'],
      [meeting({ touser: 'oNeverIssued000000000000000' }), 'an openid wxemu never issued'],
      [meeting({ touser: carol }), 'an openid of another app'],
    ]) {
      const r = await send(body);
      assertWxError(r, 40003, what);
      assert.ok(r.json.errmsg.startsWith('invalid openid'), r.json.errmsg);
    }
    assertWxError(await send(meeting({ touser: carol, template_id: 'tplOfOtherApp' })), 40003, "another app's user");
    assertWxError(await send(meeting(), otherToken), 40003, "this app's user with another app's token");
    // 40037: template_id
    for (const [body, what] of [
      [meeting({ template_id: undefined }), 'no template_id'],
      [meeting({ template_id: 'tplNope' }), 'unknown template'],
      [meeting({ template_id: 'tplOfOtherApp' }), "another app's template"],
      [meeting({ template_id: '', page: '/bad' }), 'empty template_id, before the page'],
    ]) {
      const r = await send(body);
      assertWxError(r, 40037, what);
      assert.ok(r.json.errmsg.startsWith('invalid template_id'), r.json.errmsg);
    }
    // 41030: a page with a leading '/' (before the argument checks)
    const page = await send(meeting({ page: '/pages/index/index', lang: 'fr_FR' }));
    assertWxError(page, 41030, 'leading /');
    assert.ok(page.json.errmsg.startsWith('invalid page'));
    // 47003: miniprogram_state, lang, data, then each keyword in the template's order, then unknown keys
    assertArg(await send(meeting({ miniprogram_state: 'release' })), 'state', 'argument invalid! miniprogram_state invalid');
    assertArg(await send(meeting({ miniprogram_state: '' })), 'empty state', 'argument invalid! miniprogram_state invalid');
    assertArg(await send(meeting({ lang: 'fr_FR' })), 'lang', 'argument invalid! lang invalid');
    assertArg(await send(meeting({ data: undefined })), 'no data', 'argument invalid! data is emtpy');
    const d = (changes) => {
      const data = { ...MEETING_DATA, ...changes };
      for (const [k, v] of Object.entries(data)) if (v === undefined) delete data[k];
      return meeting({ data });
    };
    for (const [changes, errmsg, what] of [
      [{ thing1: { value: '' } }, 'argument invalid! data.thing1.value is emtpy', 'an empty value'],
      [{ time2: undefined }, 'argument invalid! data.time2.value is emtpy', 'a keyword missing'],
      [{ time2: {} }, 'argument invalid! data.time2.value is emtpy', 'an entry without value'],
      [{ time2: { value: null } }, 'argument invalid! data.time2.value is emtpy', 'a null value'],
      [{ time2: '15:00' }, 'argument invalid! data.time2.value is emtpy', 'an entry that is not an object'],
      [{ phrase3: { value: true } }, 'argument invalid! data.phrase3.value invalid', 'a boolean value'],
      [{ phrase3: { value: 'cancelled' } }, 'argument invalid! data.phrase3.value invalid', 'a phrase not Chinese'],
      [{ thing1: { value: '' }, time2: { value: 'x' } }, 'argument invalid! data.thing1.value is emtpy', 'template order'],
      [{ time2: { value: 'x' }, thing1: { value: 'y'.repeat(21) } }, 'argument invalid! data.thing1.value invalid', 'order'],
      [{ thing9: { value: 'extra' } }, 'argument invalid! data.thing9', 'a key that is not a keyword'],
    ]) {
      assertArg(await send(d(changes)), what, errmsg);
    }
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), quota, 'no refused call spent the quota');
    assert.deepEqual(await wx.subscribeSent(APP.appid), [], 'nor was recorded');
    // a page with a query and no leading '/', every state and lang, and "" as no page, are fine
    for (const [miniprogram_state, lang] of [
      ['developer', 'en_US'],
      ['trial', 'zh_HK'],
      ['formal', 'zh_TW'],
    ]) {
      const r = await send(meeting({ page: 'pages/index/index?foo=bar', miniprogram_state, lang }));
      assert.equal(r.json?.errcode, 0, r.text);
    }
    assert.equal((await send(meeting({ page: '' }))).json?.errcode, 0);
    assert.equal((await wx.subscribeSent(APP.appid)).at(-1).page, null, 'an empty page is recorded as none');
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), quota - 4);
    await wx.clearSubscribeSent();
  });

  test('keyword value rules: a good value of every type passes, a bad one is data.<key>.value invalid', async () => {
    await wx.subscribeAccept(APP.appid, 'alice', T_ALL, 2);
    const ok = await send({ touser: alice, template_id: T_ALL, data: dataOf(ALL_GOOD) });
    assert.equal(ok.json?.errcode, 0, ok.text);
    for (const key of ALL_KEYWORDS) {
      const r = await send({ touser: alice, template_id: T_ALL, data: dataOf({ ...ALL_GOOD, [key]: ALL_BAD[key] }) });
      assertArg(r, `${key}: ${ALL_BAD[key]}`, `argument invalid! data.${key}.value invalid`);
    }
    for (const [key, value] of [
      ['number2', 42],
      ['number2', 0.5],
      ['time6', '15:01'],
      ['time6', '2019年10月1日 15:01'],
      ['date7', '2019年10月1日~2019年10月3日'],
      ['amount8', '100元'],
      ['name11', 'Alexander Hamilton J'],
    ]) {
      const r = await send({ touser: alice, template_id: T_ALL, data: dataOf({ ...ALL_GOOD, [key]: value }) });
      assert.notEqual(r.json?.errcode, 47003, `${key} = ${value}: ${r.text}`);
    }
    const numberBad = await send({ touser: alice, template_id: T_ALL, data: dataOf({ ...ALL_GOOD, number2: -1 }) });
    assertArg(numberBad, 'a negative number', 'argument invalid! data.number2.value invalid');
    await wx.clearSubscribeSent();
  });

  test('quotas are per (app, openid, template)', async () => {
    await wx.subscribeAccept(APP.appid, 'alice', T_OTHER);
    assertWxError(await send(meeting({ touser: bob })), 43101, "bob has no quota, whatever alice's");
    const otherTpl = { touser: bob, template_id: T_OTHER, data: dataOf({ thing1: 'x' }) };
    assertWxError(await send(otherTpl), 43101, "bob's other template");
    await wx.subscribeAccept(APP.appid, 'bob', T_OTHER);
    assert.equal((await send(otherTpl)).json?.errcode, 0);
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_OTHER), 1, "alice's is untouched");
    assert.equal(await wx.subscribeQuota(APP.appid, 'bob', T_MEETING), 0);
  });

  test('templates can be replaced; a template taken away is 40037, its quota comes back with it', async () => {
    const before = await wx.subscribeQuota(APP.appid, 'alice', T_OTHER);
    assert.ok(before >= 1);
    const all = [
      { id: T_MEETING, keywords: ['thing1', 'time2', 'phrase3'] },
      { id: T_OTHER, keywords: ['thing1'] },
      { id: T_ALL, keywords: ALL_KEYWORDS },
    ];
    try {
      const r = await wx.subscribeTemplates(APP.appid, [all[0]]);
      assert.deepEqual(r, { appid: APP.appid, templates: [all[0]] });
      assertWxError(await send({ touser: alice, template_id: T_OTHER, data: dataOf({ thing1: 'x' }) }), 40037, 'gone');
      const q = await wx.request('GET', `/__emu/subscribe/quota?appid=${APP.appid}&user=alice&template_id=${T_OTHER}`);
      assert.equal(q.status, 400, q.text);
    } finally {
      await wx.subscribeTemplates(APP.appid, all);
    }
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_OTHER), before);
  });

  test('the control API refuses bad bodies with 400 (or a quota read of an unknown target)', async () => {
    for (const body of [
      { appid: 'wxnosuchapp0000000', templates: [] },
      { appid: APP.appid },
      { appid: APP.appid, templates: 'x' },
      { appid: APP.appid, templates: [{ id: 'T', keywords: ['color1'] }] },
      { appid: APP.appid, templates: [{ id: 'T', keywords: ['thing'] }] },
      { appid: APP.appid, templates: [{ id: 'T', keywords: ['thing1', 'thing1'] }] },
      { appid: APP.appid, templates: [{ id: 'T', keywords: [] }] },
      { appid: APP.appid, templates: [{ id: 'T', keywords: [1] }] },
      { appid: APP.appid, templates: [{ id: '', keywords: ['thing1'] }] },
      { appid: APP.appid, templates: [{ id: 'has space', keywords: ['thing1'] }] },
      { appid: APP.appid, templates: [{ id: 'T', keywords: ['thing1'] }, { id: 'T', keywords: ['thing2'] }] },
      { appid: APP.appid, templates: [{ id: 'T', keywords: ['thing1'], typo: 1 }] },
      { appid: APP.appid, templates: Array.from({ length: 33 }, (_, i) => ({ id: `T${i}`, keywords: ['thing1'] })) },
      { appid: APP.appid, templates: [], typo: 1 },
    ]) {
      const r = await wx.request('POST', '/__emu/subscribe/templates', body);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 100)}: ${r.text}`);
      assert.equal(typeof r.json?.error, 'string');
    }
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING) >= 0, true, 'the templates are unchanged');
    for (const body of [
      ...badSubTargets(T_MEETING, alice, carol),
      { appid: APP.appid, user: 'alice', template_id: T_MEETING, count: 0 },
      { appid: APP.appid, user: 'alice', template_id: T_MEETING, count: 1000001 },
      { appid: APP.appid, user: 'alice', template_id: T_MEETING, count: '1' },
      { appid: APP.appid, user: 'alice', template_id: T_MEETING, typo: 1 },
      { appid: APP.appid, user: 'alice' },
    ]) {
      const r = await wx.request('POST', '/__emu/subscribe/accept', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
    for (const q of [
      `appid=wxnosuchapp0000000&user=alice&template_id=${T_MEETING}`,
      `appid=${APP.appid}&user=alice&template_id=tplNope`,
      `appid=${APP.appid}&user=neverLoggedIn&template_id=${T_MEETING}`,
      `appid=${APP.appid}&template_id=${T_MEETING}`,
      `appid=${APP.appid}&user=alice`,
    ]) {
      const r = await wx.request('GET', `/__emu/subscribe/quota?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
    }
    assert.equal((await wx.request('GET', '/__emu/subscribe/sent?appid=wxnosuchapp0000000')).status, 400);
    assert.equal((await wx.request('POST', '/__emu/subscribe/sent', {})).status, 405);
  });

  test('stats count every call; faults apply (errcode, http_status, malformed, drop, delay, one touser)', async () => {
    await wx.resetStats();
    await wx.subscribeAccept(APP.appid, 'alice', T_MEETING, 10);
    const quota = await wx.subscribeQuota(APP.appid, 'alice', T_MEETING);
    await send(meeting());
    await send(meeting({ touser: 'x' }));
    await send(meeting(), undefined);
    await wx.faults({ path: SUBSCRIBE_SEND, errcode: -1 });
    const f = await send(meeting());
    assertWxError(f, -1, 'a queued -1');
    assert.ok(f.json.errmsg.startsWith('system error'), f.json.errmsg);
    assert.equal((await wx.stats())[SUBSCRIBE_SEND], 4, 'errors and faulted calls counted');
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), quota - 1, 'the faulted call spent nothing');
    await wx.faults({ path: SUBSCRIBE_SEND, http_status: 503 });
    assert.equal((await send(meeting())).status, 503);
    await wx.faults({ path: SUBSCRIBE_SEND, malformed: true });
    assert.equal((await send(meeting())).json, undefined);
    await wx.faults({ path: SUBSCRIBE_SEND, drop: true });
    await assert.rejects(send(meeting()), /fetch failed|socket|closed/i, 'drop');
    await wx.faults({ path: SUBSCRIBE_SEND, delay_ms: 200 });
    const t0 = Date.now();
    const late = await send(meeting());
    assert.equal(late.json?.errcode, 0, late.text);
    assert.ok(Date.now() - t0 >= 190, 'a timeout-like delay, then the answer');
    await wx.faults({ path: SUBSCRIBE_SEND, code: bob, errcode: 43101, count: 2 });
    assert.equal((await send(meeting())).json?.errcode, 0, "alice passes bob's fault by");
    assertWxError(await send(meeting({ touser: bob })), 43101, "bob's fault");
    assert.equal((await wx.state()).faults, 1, "one of bob's two left");
    await wx.clearFaults();
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_MEETING), quota - 3);
    await wx.clearSubscribeSent();
  });
});

// ---- msgSecCheck v2 -----------------------------------------------------------------------------

describe('msgSecCheck', () => {
  let wx, token, dora, eli, carol;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER] });
    token = (await wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
    dora = (await wx.newLogin(APP.appid, 'dora')).openid;
    eli = (await wx.newLogin(APP.appid, 'eli')).openid;
    carol = (await wx.newLogin(OTHER.appid, 'carol')).openid;
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  /** msg_sec_check of a valid body changed by extra, with this suite's token or the one given (undefined: none). */
  const check = (extra = {}, ...t) =>
    wx.msgSecCheck(t.length > 0 ? t[0] : token, { content: '周会改到下午三点', version: 2, scene: 2, openid: dora, ...extra });

  function assertVerdict(r, suggest, label, what) {
    assert.equal(r.status, 200, what);
    assert.equal(r.json?.errcode, 0, `${what}: ${r.text}`);
    assert.equal(r.json.errmsg, 'ok');
    assert.match(r.json.trace_id, /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/, `${what}: trace_id`);
    assert.deepEqual(r.json.result, { suggest, label }, what);
    assert.equal(r.json.detail.length, 2, what);
    assert.deepEqual(r.json.detail[0], { strategy: 'content_model', errcode: 0, suggest, label, prob: 90 }, what);
    assert.equal(r.json.detail[1].strategy, 'keyword');
    assert.equal(r.json.detail[1].errcode, 0);
    return r.json.detail[1];
  }

  test('everything passes by default: result pass / 100, a keyword entry without a verdict', async () => {
    const r = await check();
    const keyword = assertVerdict(r, 'pass', 100, 'default');
    assert.deepEqual(keyword, { strategy: 'keyword', errcode: 0 });
    const again = await check();
    assert.notEqual(again.json.trace_id, r.json.trace_id, 'a trace_id per call');
    for (const scene of [1, 2, 3, 4]) assertVerdict(await check({ scene }), 'pass', 100, `scene ${scene}`);
    assertVerdict(await check({ title: 't', nickname: 'n', signature: 's', scene: 1 }), 'pass', 100, 'optional members');
  });

  test('risky and review words (content, title or nickname); risky wins; the label is settable; per app', async () => {
    try {
      const s = await wx.seccheck(APP.appid, { risky: ['赌博', 'scam'], review: ['maybe', 'scam'] });
      assert.deepEqual(s, {
        appid: APP.appid,
        risky: ['赌博', 'scam'],
        review: ['maybe', 'scam'],
        label: 20001,
        visit_window_seconds: 7200,
      });
      let kw = assertVerdict(await check({ content: '周末一起去赌博吧' }), 'risky', 20001, 'a risky word');
      assert.deepEqual(kw, { strategy: 'keyword', errcode: 0, suggest: 'risky', label: 20001, prob: 90, keyword: '赌博' });
      kw = assertVerdict(await check({ content: 'maybe a scam' }), 'risky', 20001, 'risky wins over review');
      assert.equal(kw.keyword, 'scam');
      kw = assertVerdict(await check({ content: 'maybe tomorrow' }), 'review', 20001, 'a review word');
      assert.equal(kw.suggest, 'review');
      assertVerdict(await check({ title: '关于赌博' }), 'risky', 20001, 'in the title');
      assertVerdict(await check({ nickname: 'maybe_bot' }), 'review', 20001, 'in the nickname');
      assertVerdict(await check({ signature: 'scam' }), 'pass', 100, 'the signature is not checked');
      assert.equal((await wx.seccheck(APP.appid, { label: 20006 })).label, 20006);
      assertVerdict(await check({ content: 'scam' }), 'risky', 20006, 'the label set');
      assert.deepEqual((await wx.seccheck(APP.appid)).risky, ['赌博', 'scam'], 'the words stay when not given');
      const otherToken = (await wx.accessToken({ grant_type: 'client_credential', appid: OTHER.appid, secret: OTHER.secret }))
        .json.access_token;
      assertVerdict(await check({ content: 'scam', openid: carol }, otherToken), 'pass', 100, 'another app has no words');
    } finally {
      const s = await wx.seccheck(APP.appid, { risky: [], review: [], label: 20001 });
      assert.deepEqual([s.risky, s.review], [[], []]);
    }
    assertVerdict(await check({ content: 'scam' }), 'pass', 100, 'words cleared');
  });

  test('errcodes in the order they are checked', async () => {
    assertWxError(await check({}, undefined), 41001, 'no token');
    assertWxError(await wx.msgSecCheck(undefined, 'not json'), 41001, 'no token and a bad body');
    assertWxError(await check({}, 'B'.repeat(128)), 40001, 'unknown token');
    for (const [body, what] of [
      ['not json', 'not JSON'],
      ['[1]', 'an array'],
      [undefined, 'no body'],
      [{ content: 'x', scene: 2, openid: dora }, 'no version'],
      [{ content: 'x', version: 1, scene: 2, openid: dora }, 'version 1'],
      [{ content: 'x', version: '2', scene: 2, openid: dora }, 'version a string'],
      [{ content: 7, version: 2, scene: 2, openid: dora }, 'content a number'],
      [{ content: 'x', version: 2, scene: '2', openid: dora }, 'scene a string'],
      [{ content: 'x', version: 2, scene: 2, openid: dora, title: 1 }, 'title a number'],
      [{ content: '字'.repeat(2501), version: 2, scene: 2, openid: dora }, '2501 characters'],
      [{ content: '', version: 1, scene: 9, openid: dora }, 'format before emptiness'],
    ]) {
      assertWxError(await wx.msgSecCheck(token, body), 47001, what);
    }
    assertVerdict(await check({ content: '字'.repeat(2500) }), 'pass', 100, '2500 characters (7500 bytes) pass');
    for (const [extra, what] of [
      [{ content: '' }, 'empty content'],
      [{ content: undefined }, 'no content'],
      [{ openid: undefined }, 'no openid'],
      [{ openid: '' }, 'empty openid'],
      [{ content: '', scene: 9 }, 'emptiness before the scene'],
    ]) {
      assertWxError(await check(extra), 44002, what);
    }
    for (const [extra, what] of [
      [{ scene: 0 }, 'scene 0'],
      [{ scene: 5 }, 'scene 5'],
      [{ scene: undefined }, 'no scene'],
      [{ scene: 9, openid: carol }, 'the scene before the openid'],
    ]) {
      const r = await check(extra);
      assertWxError(r, 40129, what);
      assert.ok(r.json.errmsg.startsWith('invalid scene'), r.json.errmsg);
    }
    for (const [extra, what] of [
      [{ openid: carol }, 'an openid of another app'],
      [{ openid: 'oNeverIssued000000000000000' }, 'never issued'],
      [{ openid: 'garbage' }, 'not an openid'],
    ]) {
      const r = await check(extra);
      assertWxError(r, 40003, what);
      assert.ok(r.json.errmsg.startsWith('invalid openid'), r.json.errmsg);
    }
  });

  test('61010 code is expired: no visit within 2 hours (a stale mark, or a shorter window); a login is a visit', async () => {
    assert.deepEqual(await wx.visit(APP.appid, 'eli', { stale: true }), { openid: eli, visited: false });
    const r = await check({ openid: eli });
    assertWxError(r, 61010, 'stale');
    assert.ok(r.json.errmsg.startsWith('code is expired'), r.json.errmsg);
    assertVerdict(await check(), 'pass', 100, 'another user is not stale');
    assert.equal((await wx.newLogin(APP.appid, 'eli')).openid, eli);
    assertVerdict(await check({ openid: eli }), 'pass', 100, 'a wx.login() code is a visit');
    await wx.visit(APP.appid, { openid: eli }, { stale: true });
    assertWxError(await check({ openid: eli }), 61010, 'stale again');
    assert.deepEqual(await wx.visit(APP.appid, { openid: eli }), { openid: eli, visited: true });
    assertVerdict(await check({ openid: eli }), 'pass', 100, 'a visit through the control API');
    try {
      assert.equal((await wx.seccheck(APP.appid, { visitWindowSeconds: 1 })).visit_window_seconds, 1);
      await wx.visit(APP.appid, 'eli');
      assertVerdict(await check({ openid: eli }), 'pass', 100, 'within the window');
      await new Promise((res) => setTimeout(res, 1100));
      assertWxError(await check({ openid: eli }), 61010, 'the window passed');
    } finally {
      await wx.seccheck(APP.appid, { visitWindowSeconds: 7200 });
    }
    assertVerdict(await check({ openid: eli }), 'pass', 100, 'back to 2 hours');
  });

  test('the control API refuses bad bodies with 400', async () => {
    for (const body of [
      { appid: 'wxnosuchapp0000000' },
      { risky: ['x'] },
      { appid: APP.appid, risky: 'x' },
      { appid: APP.appid, risky: [''] },
      { appid: APP.appid, risky: [1] },
      { appid: APP.appid, review: ['w'.repeat(65)] },
      { appid: APP.appid, risky: Array.from({ length: 33 }, (_, i) => `w${i}`) },
      { appid: APP.appid, label: 0 },
      { appid: APP.appid, label: '20001' },
      { appid: APP.appid, visit_window_seconds: 0 },
      { appid: APP.appid, typo: 1 },
    ]) {
      const r = await wx.request('POST', '/__emu/seccheck', body);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 100)}: ${r.text}`);
    }
    const s = await wx.seccheck(APP.appid);
    assert.deepEqual([s.risky, s.review, s.label], [[], [], 20001], 'nothing changed');
    for (const body of [
      { appid: 'wxnosuchapp0000000', user: 'dora' },
      { appid: APP.appid, user: 'neverLoggedIn' },
      { appid: APP.appid, openid: carol },
      { appid: APP.appid },
      { appid: APP.appid, user: 'dora', stale: 'yes' },
    ]) {
      const r = await wx.request('POST', '/__emu/visit', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
  });

  test('stats count every call; faults apply, also to one openid', async () => {
    await wx.resetStats();
    await check();
    await check({ scene: 0 });
    await check({}, undefined);
    await wx.faults({ path: MSG_SEC_CHECK, errcode: -1 });
    assertWxError(await check(), -1, 'a queued -1');
    await wx.faults({ path: MSG_SEC_CHECK, code: eli, errcode: 61010 });
    assertVerdict(await check(), 'pass', 100, "dora passes eli's fault by");
    assertWxError(await check({ openid: eli }), 61010, "eli's fault");
    await wx.faults({ path: MSG_SEC_CHECK, delay_ms: 200 });
    const t0 = Date.now();
    assertVerdict(await check(), 'pass', 100, 'late');
    assert.ok(Date.now() - t0 >= 190);
    await wx.faults({ path: MSG_SEC_CHECK, drop: true });
    await assert.rejects(check(), /fetch failed|socket|closed/i, 'drop');
    assert.equal((await wx.stats())[MSG_SEC_CHECK], 8);
    assert.equal((await wx.state()).faults, 0);
  });
});

// ---- mediaCheckAsync v2 and the message push ------------------------------------------------------

const PUSH_TOKEN = 'wxemuPushToken42';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'; // 43 characters, last bits not 0

/** An HTTP server that records every request {method, url, query, body} and answers `answer()`. */
async function startReceiver() {
  const got = [];
  const r = { got, status: 200, text: 'success' };
  r.server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const u = new URL(req.url, 'http://x');
      got.push({ method: req.method, path: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers, body });
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.text);
    });
  });
  await new Promise((res) => r.server.listen(0, '127.0.0.1', res));
  r.url = `http://127.0.0.1:${r.server.address().port}`;
  r.close = () => new Promise((res) => r.server.close(res));
  return r;
}

const sha1 = (s) => createHash('sha1').update(s).digest('hex');

/** Resolves once pred() is true (polled every 20 ms); rejects after ms. */
async function eventuallyTrue(pred, ms) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sortedSig = (...parts) => sha1([...parts].sort().join(''));

/** Opens a safe-mode Encrypt as WeChat's receivers do: -> {msg, appid}. */
function openEncrypt(aesKey, encrypt) {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  assert.equal(key.length, 32);
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const padded = Buffer.concat([d.update(Buffer.from(encrypt, 'base64')), d.final()]);
  const pad = padded[padded.length - 1];
  assert.ok(pad >= 1 && pad <= 32, `PKCS#7 to 32 bytes: ${pad}`);
  assert.ok(padded.subarray(padded.length - pad).every((b) => b === pad), 'padding bytes');
  const plain = padded.subarray(0, padded.length - pad);
  const len = plain.readUInt32BE(16);
  return { msg: plain.subarray(20, 20 + len).toString('utf8'), appid: plain.subarray(20 + len).toString('utf8') };
}

describe('mediaCheckAsync and the message push', () => {
  let wx, token, otherToken, fay, carol, rx;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER] });
    rx = await startReceiver();
    token = (await wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
    otherToken = (await wx.stableToken({ grant_type: 'client_credential', appid: OTHER.appid, secret: OTHER.secret }))
      .json.access_token;
    fay = (await wx.newLogin(APP.appid, 'fay')).openid;
    carol = (await wx.newLogin(OTHER.appid, 'carol')).openid;
  });
  after(async () => {
    await rx.close();
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  const media = (extra = {}, ...t) =>
    wx.mediaCheck(t.length > 0 ? t[0] : token, {
      media_url: 'https://oa.example.com/uploads/a.png',
      media_type: 2,
      version: 2,
      scene: 1,
      openid: fay,
      ...extra,
    });
  const accepted = (r, what) => {
    assert.equal(r.status, 200, what);
    assert.equal(r.json?.errcode, 0, `${what}: ${r.text}`);
    assert.equal(r.json.errmsg, 'ok');
    assert.match(r.json.trace_id, /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
    return r.json.trace_id;
  };

  test('plaintext mode: the verdict is POSTed to the push URL, signed sha1(sorted token, timestamp, nonce)', async () => {
    const s = await wx.pushSettings(APP.appid, { url: `${rx.url}/wx/wechat/push?from=wxemu`, token: PUSH_TOKEN, delayMs: 50 });
    assert.deepEqual(s, { appid: APP.appid, url: `${rx.url}/wx/wechat/push?from=wxemu`, mode: 'plaintext', delay_ms: 50 });
    assert.ok(!JSON.stringify(s).includes(PUSH_TOKEN), 'the token is not echoed');
    const before = Math.floor(Date.now() / 1000);
    const trace = accepted(await media(), 'accepted');
    const [entry] = await wx.waitPushes(APP.appid, 1);
    assert.equal(rx.got.length, 1);
    const req = rx.got[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/wx/wechat/push');
    assert.equal(req.query.from, 'wxemu', "the URL's own query is kept");
    assert.equal(req.headers['content-type'], 'application/json');
    assert.ok(Math.abs(Number(req.query.timestamp) - before) <= 5, `timestamp ${req.query.timestamp}`);
    assert.match(req.query.nonce, /^\d+$/);
    assert.equal(req.query.signature, sortedSig(PUSH_TOKEN, req.query.timestamp, req.query.nonce));
    assert.equal(req.query.encrypt_type, undefined);
    const event = JSON.parse(req.body);
    assert.match(event.ToUserName, /^gh_[0-9a-f]{12}$/);
    assert.ok(Math.abs(event.CreateTime - before) <= 5);
    assert.deepEqual({ ...event, ToUserName: undefined, CreateTime: undefined }, {
      ToUserName: undefined,
      FromUserName: fay,
      CreateTime: undefined,
      MsgType: 'event',
      Event: 'wxa_media_check',
      appid: APP.appid,
      trace_id: trace,
      version: 2,
      result: { suggest: 'pass', label: '100' },
      detail: [{ strategy: 'content_model', errcode: 0, suggest: 'pass', label: '100', prob: 90 }],
    });
    assert.equal(entry.trace_id, trace);
    assert.equal(entry.status, 200);
    assert.equal(entry.answer, 'success');
    assert.equal(entry.error, null);
    assert.equal(entry.mode, 'plaintext');
    assert.deepEqual(entry.event, event, 'the log has the event as pushed');
    await wx.clearPushLog();
    rx.got.length = 0;
  });

  test('safe mode: encrypt_type=aes, msg_signature over the four strings, Encrypt opens to the event and appid', async () => {
    try {
      await wx.seccheck(APP.appid, { risky: ['nsfw'], review: ['blurry'] });
      const s = await wx.pushSettings(APP.appid, { encodingAesKey: AES_KEY });
      assert.equal(s.mode, 'safe');
      assert.equal(s.delay_ms, 50, 'settings not given are kept');
      const risky = accepted(await media({ media_url: 'https://x/nsfw.png' }), 'risky');
      const review = accepted(await media({ media_url: 'https://x/blurry.mp3', media_type: 1, scene: 4 }), 'review');
      await wx.waitPushes(APP.appid, 2);
      assert.equal(rx.got.length, 2);
      const events = rx.got.map((req) => {
        const q = req.query;
        assert.equal(q.encrypt_type, 'aes');
        assert.equal(q.signature, sortedSig(PUSH_TOKEN, q.timestamp, q.nonce));
        const outer = JSON.parse(req.body);
        assert.deepEqual(Object.keys(outer).sort(), ['Encrypt', 'ToUserName'], 'ciphertext only');
        assert.match(outer.ToUserName, /^gh_[0-9a-f]{12}$/);
        assert.equal(q.msg_signature, sortedSig(PUSH_TOKEN, q.timestamp, q.nonce, outer.Encrypt));
        const { msg, appid } = openEncrypt(AES_KEY, outer.Encrypt);
        assert.equal(appid, APP.appid, 'the appid trails the message');
        return JSON.parse(msg);
      });
      const byTrace = Object.fromEntries(events.map((e) => [e.trace_id, e]));
      assert.deepEqual(byTrace[risky].result, { suggest: 'risky', label: '20001' });
      assert.deepEqual(byTrace[review].result, { suggest: 'review', label: '20001' });
      assert.equal(byTrace[review].detail[0].suggest, 'review');
      const log = (await wx.pushLog(APP.appid)).list;
      assert.deepEqual(log.map((e) => e.mode), ['safe', 'safe']);
      assert.ok(!JSON.stringify(log).includes(PUSH_TOKEN) && !JSON.stringify(log).includes(AES_KEY), 'no secrets');
    } finally {
      await wx.pushSettings(APP.appid, { encodingAesKey: null });
      await wx.seccheck(APP.appid, { risky: [], review: [] });
      await wx.clearPushLog();
      rx.got.length = 0;
    }
  });

  test('the default delay is 1 s; refused calls push nothing', async () => {
    await wx.pushSettings(OTHER.appid, { url: rx.url, token: PUSH_TOKEN });
    assert.equal((await wx.pushSettings(OTHER.appid)).delay_ms, 1000);
    const t0 = Date.now();
    accepted(await media({ openid: carol }, otherToken), 'other app');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(rx.got.length, 0, 'not before the delay');
    assert.equal((await wx.pushLog(OTHER.appid)).pending, 1);
    await wx.waitPushes(OTHER.appid, 1);
    assert.ok(Date.now() - t0 >= 950, `pushed after ${Date.now() - t0} ms`);
    assert.equal(rx.got[0].path, '/', 'a URL without a path: /');
    assert.equal(JSON.parse(rx.got[0].body).appid, OTHER.appid);
    await wx.clearPushLog();
    rx.got.length = 0;
  });

  test('errcodes in the order they are checked', async () => {
    assertWxError(await media({}, undefined), 41001, 'no token');
    assertWxError(await media({}, 'C'.repeat(128)), 40001, 'unknown token');
    for (const [body, what] of [
      ['not json', 'not JSON'],
      [undefined, 'no body'],
      [{ media_url: 'https://x/a.png', media_type: 2, scene: 1, openid: fay }, 'no version'],
      [{ media_url: 'https://x/a.png', media_type: 2, version: 1, scene: 1, openid: fay }, 'version 1'],
      [{ media_url: 'https://x/a.png', media_type: 3, version: 2, scene: 1, openid: fay }, 'media_type 3'],
      [{ media_url: 'https://x/a.png', version: 2, scene: 1, openid: fay }, 'no media_type'],
      [{ media_url: 7, media_type: 2, version: 2, scene: 1, openid: fay }, 'media_url a number'],
      [{ media_url: '', media_type: 2, version: 2, scene: '1', openid: fay }, 'scene a string'],
    ]) {
      assertWxError(await wx.mediaCheck(token, body), 47001, what);
    }
    assertWxError(await media({ media_url: '' }), 44002, 'empty media_url');
    assertWxError(await media({ openid: undefined }), 44002, 'no openid');
    assertWxError(await media({ scene: 0 }), 40129, 'scene 0');
    assertWxError(await media({ scene: 5, openid: carol }), 40129, 'the scene before the openid');
    assertWxError(await media({ openid: carol }), 40003, "another app's openid");
    await wx.visit(APP.appid, 'fay', { stale: true });
    assertWxError(await media(), 61010, 'not visited within 2 hours');
    await wx.visit(APP.appid, 'fay');
    assert.deepEqual((await wx.pushLog()).list, [], 'no refused call was pushed');
  });

  test('deliveries that fail are logged: an error status, no push URL, nobody listening', async () => {
    rx.status = 500;
    rx.text = 'retry later';
    try {
      accepted(await media(), 'to a failing receiver');
      let [e] = await wx.waitPushes(APP.appid, 1);
      assert.equal(e.status, 500);
      assert.equal(e.answer, 'retry later');
      await wx.clearPushLog();
      await wx.pushSettings(APP.appid, { url: null });
      assert.equal((await wx.pushSettings(APP.appid)).mode, 'none');
      accepted(await media(), 'no push URL: still accepted');
      [e] = await wx.waitPushes(APP.appid, 1);
      assert.equal(e.status, 0);
      assert.equal(e.url, null);
      assert.match(e.error, /no push URL/);
      await wx.clearPushLog();
      const closed = await startReceiver();
      await closed.close(); // a port nobody listens on any more
      await wx.pushSettings(APP.appid, { url: closed.url, token: PUSH_TOKEN });
      accepted(await media(), 'nobody listening');
      [e] = await wx.waitPushes(APP.appid, 1);
      assert.equal(e.status, 0);
      assert.equal(typeof e.error, 'string');
      assert.ok(e.error.length > 0);
    } finally {
      rx.status = 200;
      rx.text = 'success';
      await wx.pushSettings(APP.appid, { url: rx.url, token: PUSH_TOKEN });
      await wx.clearPushLog();
      rx.got.length = 0;
    }
  });

  test('POST /__emu/push refuses bad settings with 400', async () => {
    for (const body of [
      { appid: 'wxnosuchapp0000000', url: rx.url, token: PUSH_TOKEN },
      { appid: APP.appid, url: 'https://127.0.0.1/push', token: PUSH_TOKEN },
      { appid: APP.appid, url: 'http://example.com/push', token: PUSH_TOKEN },
      { appid: APP.appid, url: 'http://', token: PUSH_TOKEN },
      { appid: APP.appid, url: 'http://127.0.0.1:99999/', token: PUSH_TOKEN },
      { appid: APP.appid, url: 'http://127.0.0.1/a b', token: PUSH_TOKEN },
      { appid: APP.appid, url: rx.url },
      { appid: APP.appid, url: rx.url, token: 'ab' },
      { appid: APP.appid, url: rx.url, token: 'has-dash' },
      { appid: APP.appid, url: rx.url, token: PUSH_TOKEN, encoding_aes_key: 'short' },
      { appid: APP.appid, url: rx.url, token: PUSH_TOKEN, encoding_aes_key: `${AES_KEY.slice(1)}+` },
      { appid: APP.appid, delay_ms: 60001 },
      { appid: APP.appid, url: 7, token: PUSH_TOKEN },
      { appid: APP.appid, typo: 1 },
    ]) {
      const r = await wx.request('POST', '/__emu/push', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
    assert.deepEqual(await wx.pushSettings(APP.appid), { appid: APP.appid, url: rx.url, mode: 'plaintext', delay_ms: 50 });
    assert.equal((await wx.request('GET', '/__emu/push/log?appid=wxnosuchapp0000000')).status, 400);
  });

  test('stats count every call; faults apply, also to one openid (a faulted call pushes nothing)', async () => {
    await wx.resetStats();
    await media({ scene: 0 });
    await wx.faults({ path: MEDIA_CHECK, errcode: -1 });
    assertWxError(await media(), -1, 'a queued -1');
    await wx.faults({ path: MEDIA_CHECK, code: fay, http_status: 502 });
    assert.equal((await media()).status, 502);
    accepted(await media(), 'after the faults');
    assert.equal((await wx.stats())[MEDIA_CHECK], 4);
    assert.equal((await wx.waitPushes(APP.appid, 1)).length, 1, 'only the accepted call was pushed');
    await wx.clearPushLog();
  });

  test('a receiver that never answers: the push gives up after 5 s; one in flight at a stop is dropped', async () => {
    const held = [];
    const mute = createNetServer((socket) => held.push(socket)); // accepts, reads, never answers
    await new Promise((res) => mute.listen(0, '127.0.0.1', res));
    const w = await startWxemu({ apps: [APP] });
    try {
      const t = (await w.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
        .access_token;
      const openid = (await w.newLogin(APP.appid, 'hal')).openid;
      await w.pushSettings(APP.appid, { url: `http://127.0.0.1:${mute.address().port}/p`, token: PUSH_TOKEN, delayMs: 0 });
      const body = { media_url: 'https://x/a.png', media_type: 2, version: 2, scene: 1, openid };
      const t0 = Date.now();
      assert.equal((await w.mediaCheck(t, body)).json?.errcode, 0);
      const [e] = await w.waitPushes(APP.appid, 1, 9000);
      assert.ok(Date.now() - t0 >= 4900, `gave up after ${Date.now() - t0} ms`);
      assert.equal(e.status, 0);
      assert.match(e.error, /no answer within 5000 ms/);
      assert.ok(held.length >= 1, 'the receiver was reached');
      assert.equal((await w.mediaCheck(t, body)).json?.errcode, 0);
      await eventuallyTrue(() => held.length >= 2, 3000); // the second exchange is under way
      assert.equal((await w.pushLog()).pending, 1);
    } finally {
      const t0 = Date.now();
      assert.deepEqual(await w.stop(), { code: 0, signal: null }, w.logs());
      assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms`);
      for (const socket of held) socket.destroy();
      await new Promise((res) => mute.close(res));
    }
  });

  test('a push still waiting when wxemu stops is dropped; the exit is clean and quick', async () => {
    const w = await startWxemu({ apps: [APP] });
    const received = rx.got.length;
    try {
      const t = (await w.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
        .access_token;
      const openid = (await w.newLogin(APP.appid, 'gus')).openid;
      await w.pushSettings(APP.appid, { url: rx.url, token: PUSH_TOKEN, delayMs: 30000 });
      const r = await w.mediaCheck(t, { media_url: 'https://x/a.png', media_type: 2, version: 2, scene: 1, openid });
      assert.equal(r.json?.errcode, 0, r.text);
      assert.equal((await w.pushLog()).pending, 1);
    } finally {
      const t0 = Date.now();
      assert.deepEqual(await w.stop(), { code: 0, signal: null }, w.logs());
      assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms`);
    }
    assert.equal(rx.got.length, received, 'nothing was pushed');
  });
});

// ---- the log of accepted media checks (GET/DELETE /__emu/media) ---------------------------------

describe('the media check log: GET /__emu/media, DELETE /__emu/media', () => {
  let wx, token, otherToken, ida, carol;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER] });
    token = (await wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
    otherToken = (await wx.stableToken({ grant_type: 'client_credential', appid: OTHER.appid, secret: OTHER.secret }))
      .json.access_token;
    ida = (await wx.newLogin(APP.appid, 'ida')).openid;
    carol = (await wx.newLogin(OTHER.appid, 'carol')).openid;
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  const check = async (body, t = token) => {
    const r = await wx.mediaCheck(t, { media_type: 2, version: 2, scene: 1, openid: ida, ...body });
    assert.equal(r.json?.errcode, 0, r.text);
    return r.json.trace_id;
  };

  test('each accepted check is logged with the exact fields, oldest first; appid filters', async () => {
    // A signed, expiring URL as the server will send it: its query must come back byte for byte.
    const signed =
      'http://127.0.0.1:8080/api/files/att-7?exp=1767225600&sig=q%2Bv%2F9_-Zx%3D%3D&name=%E4%BC%9A%E8%AE%AE.png';
    const before = Math.floor(Date.now() / 1000);
    const t1 = await check({ media_url: signed });
    const t2 = await check({ media_url: 'https://x/语音 1.mp3', media_type: 1, scene: 4, openid: carol }, otherToken);
    const long = `https://x/${'L'.repeat(2048 - 'https://x/'.length)}`; // EMU_MEDIA_URL_MAX bytes
    const t3 = await check({ media_url: long, scene: 3 });
    const after = Math.floor(Date.now() / 1000);

    const list = await wx.mediaChecks();
    assert.equal(list.length, 3);
    for (const e of list) assert.ok(e.time >= before && e.time <= after, `wall-clock seconds: ${e.time}`);
    const time = list[0].time;
    assert.deepEqual(list.map((e) => ({ ...e, time })), [
      { appid: APP.appid, openid: ida, media_url: signed, media_type: 2, scene: 1, trace_id: t1, time },
      { appid: OTHER.appid, openid: carol, media_url: 'https://x/语音 1.mp3', media_type: 1, scene: 4, trace_id: t2,
        time },
      { appid: APP.appid, openid: ida, media_url: long, media_type: 2, scene: 3, trace_id: t3, time },
    ]);
    assert.deepEqual((await wx.mediaChecks(APP.appid)).map((e) => e.trace_id), [t1, t3]);
    assert.deepEqual((await wx.mediaChecks(OTHER.appid)).map((e) => e.trace_id), [t2]);
    const r = await wx.request('GET', '/__emu/media?appid=wxnosuchapp0000000');
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(await wx.clearMediaChecks(), { cleared: 3 });
    assert.deepEqual(await wx.mediaChecks(), []);
    assert.deepEqual(await wx.clearMediaChecks(), { cleared: 0 });
  });

  test('refused calls are not logged: token, format, argument errcodes and injected faults', async () => {
    const good = { media_url: 'https://x/a.png', media_type: 2, version: 2, scene: 1, openid: ida };
    assertWxError(await wx.mediaCheck(undefined, good), 41001, 'no token');
    assertWxError(await wx.mediaCheck('C'.repeat(128), good), 40001, 'bad token');
    assertWxError(await wx.mediaCheck(token, 'not json'), 47001, 'not JSON');
    assertWxError(await wx.mediaCheck(token, { ...good, version: 1 }), 47001, 'version 1');
    assertWxError(await wx.mediaCheck(token, { ...good, media_type: 3 }), 47001, 'media_type 3');
    const tooLong = `https://x/${'L'.repeat(2039)}`; // EMU_MEDIA_URL_MAX + 1 bytes
    assertWxError(await wx.mediaCheck(token, { ...good, media_url: tooLong }), 47001, '2049 bytes');
    assertWxError(await wx.mediaCheck(token, { ...good, media_url: '' }), 44002, 'empty media_url');
    assertWxError(await wx.mediaCheck(token, { ...good, scene: 5 }), 40129, 'scene 5');
    assertWxError(await wx.mediaCheck(token, { ...good, openid: carol }), 40003, "another app's openid");
    await wx.visit(APP.appid, 'ida', { stale: true });
    assertWxError(await wx.mediaCheck(token, good), 61010, 'not visited');
    await wx.visit(APP.appid, 'ida');
    await wx.faults({ path: MEDIA_CHECK, errcode: -1 });
    assertWxError(await wx.mediaCheck(token, good), -1, 'a queued -1');
    await wx.faults({ path: MEDIA_CHECK, http_status: 502 });
    assert.equal((await wx.mediaCheck(token, good)).status, 502);
    assert.deepEqual(await wx.mediaChecks(), [], 'nothing refused was logged');
    const t = await check({ media_url: 'https://x/a.png' });
    assert.deepEqual((await wx.mediaChecks()).map((e) => e.trace_id), [t], 'the next accepted one is');
    await wx.clearMediaChecks();
  });

  test('the log keeps the last 256 checks, the oldest forgotten first', async () => {
    const traces = [];
    for (let i = 0; i < 256 + 3; ++i) traces.push(await check({ media_url: `https://x/${i}.png` }));
    const list = await wx.mediaChecks();
    assert.equal(list.length, 256);
    assert.deepEqual(list.map((e) => e.media_url), traces.slice(3).map((_, i) => `https://x/${i + 3}.png`));
    assert.deepEqual(list.map((e) => e.trace_id), traces.slice(3));
    assert.deepEqual(await wx.clearMediaChecks(), { cleared: 256 });
  });
});

// ---- subscription message and authorization events pushed to the app ----------------------------

describe('subscription and authorization events pushed to the app', () => {
  let wx, token, rx, alice, bob, carol;
  const T_PUSHED = 'tplPushedEvents';
  const originalId = (appid) => `gh_${createHash('sha256').update(appid).digest('hex').slice(0, 12)}`;
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER] });
    rx = await startReceiver();
    token = (await wx.stableToken({ grant_type: 'client_credential', appid: APP.appid, secret: APP.secret })).json
      .access_token;
    alice = (await wx.newLogin(APP.appid, 'alice')).openid;
    bob = (await wx.newLogin(APP.appid, 'bob')).openid;
    carol = (await wx.newLogin(OTHER.appid, 'carol')).openid;
    await wx.subscribeTemplates(APP.appid, [{ id: T_PUSHED, keywords: ['thing1'] }]);
    await wx.subscribeTemplates(OTHER.appid, [{ id: T_PUSHED, keywords: ['thing1'] }]);
    await wx.pushSettings(APP.appid, { url: `${rx.url}/push`, token: PUSH_TOKEN, delayMs: 20 }); // OTHER has none
  });
  after(async () => {
    await rx.close();
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });
  /** The events the receiver got (parsed), in arrival order; then forgets them and the log. */
  const takeEvents = async (n) => {
    await wx.waitPushes(APP.appid, n);
    await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
    assert.equal(rx.got.length, n, rx.got.map((g) => g.body).join('\n'));
    const bodies = rx.got.map((g) => g.body);
    for (const g of rx.got) assert.equal(g.query.signature, sortedSig(PUSH_TOKEN, g.query.timestamp, g.query.nonce));
    rx.got.length = 0;
    const log = (await wx.pushLog(APP.appid)).list;
    await wx.clearPushLog();
    return { events: bodies.map((b) => JSON.parse(b)), bodies, log };
  };
  /** The common members of an event of openid, CreateTime now; -> the event without them. */
  const own = (event, openid, name, t0) => {
    const { ToUserName, FromUserName, CreateTime, MsgType, Event, ...rest } = event;
    assert.deepEqual({ ToUserName, FromUserName, MsgType, Event }, {
      ToUserName: originalId(APP.appid),
      FromUserName: openid,
      MsgType: 'event',
      Event: name,
    });
    assert.ok(Number.isInteger(CreateTime) && Math.abs(CreateTime - t0) <= 5, `CreateTime ${CreateTime}`);
    return rest;
  };
  const data = { thing1: { value: '周例会' } };
  const send = (touser) => wx.subscribeSend(token, { touser, template_id: T_PUSHED, data });

  test('accept: one subscribe_msg_popup_event per tap; without a push URL nothing is pushed', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    assert.equal((await wx.subscribeAccept(APP.appid, 'alice', T_PUSHED, 3)).quota, 3);
    const { events, log } = await takeEvents(3);
    for (const e of events)
      assert.deepEqual(own(e, alice, 'subscribe_msg_popup_event', t0), {
        List: [{ TemplateId: T_PUSHED, SubscribeStatusString: 'accept', PopupScene: '0' }],
      });
    assert.deepEqual(log.map((x) => x.event.Event), Array(3).fill('subscribe_msg_popup_event'));
    assert.ok(log.every((x) => /^ev-\d+$/.test(x.trace_id) && x.status === 200 && x.mode === 'plaintext'));
    assert.equal(new Set(log.map((x) => x.trace_id)).size, 3, 'three separate pushes');
    assert.equal((await wx.subscribeAccept(APP.appid, { openid: bob }, T_PUSHED)).quota, 1);
    const [tap] = (await takeEvents(1)).events;
    assert.equal(own(tap, bob, 'subscribe_msg_popup_event', t0).List[0].TemplateId, T_PUSHED);

    assert.equal((await wx.subscribeAccept(OTHER.appid, 'carol', T_PUSHED, 1000)).quota, 1000, 'no push URL: no bound');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await wx.pushLog()).list, [], 'nothing pushed for an app without a push URL');
    assert.equal(rx.got.length, 0);
  });

  test('accept with a push URL: count above 100 is a 400 and taps nothing', async () => {
    const before = await wx.subscribeQuota(APP.appid, 'alice', T_PUSHED);
    const body = { appid: APP.appid, user: 'alice', template_id: T_PUSHED, count: 101 };
    const r = await wx.request('POST', '/__emu/subscribe/accept', body);
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error, /100/);
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_PUSHED), before);
    assert.equal((await wx.subscribeAccept(APP.appid, 'alice', T_PUSHED, 100)).quota, before + 100);
    assert.equal((await takeEvents(100)).events.length, 100);
  });

  test('send: a subscribe_msg_sent_event, the exact MsgID a JSON integer; refused sends push nothing', async () => {
    await wx.subscribeReject(APP.appid, 'bob', T_PUSHED); // bob's quota: 0
    await wx.subscribeAccept(APP.appid, 'bob', T_PUSHED, 2);
    await takeEvents(3);
    const t0 = Math.floor(Date.now() / 1000);
    const sent = [await send(bob), await send(bob)]; // within one second, most likely
    for (const r of sent) assert.equal(r.json?.errcode, 0, r.text);
    assert.notEqual(sent[0].msgid, sent[1].msgid);
    assert.equal((await send(bob)).json.errcode, 43101, 'no quota left');
    const { events, bodies } = await takeEvents(2);
    const byMsgid = {};
    for (const [i, e] of events.entries()) {
      const exact = /"MsgID":(\d+)[,}]/.exec(bodies[i])?.[1];
      assert.ok(exact, `MsgID a JSON integer: ${bodies[i]}`);
      byMsgid[exact] = e;
      const rest = own(e, bob, 'subscribe_msg_sent_event', t0);
      assert.deepEqual({ ...rest, List: [{ ...rest.List[0], MsgID: 0 }] }, {
        List: [{ TemplateId: T_PUSHED, MsgID: 0, ErrorCode: 0, ErrorStatus: 'success' }],
      });
    }
    assert.deepEqual(Object.keys(byMsgid).sort(), sent.map((r) => r.msgid).sort(), 'the msgids answered, exactly');
    assert.notEqual(bodies[0], bodies[1], 'two distinct packets');

    const other = { grant_type: 'client_credential', appid: OTHER.appid, secret: OTHER.secret };
    const otherToken = (await wx.stableToken(other)).json.access_token;
    const r = await wx.subscribeSend(otherToken, { touser: carol, template_id: T_PUSHED, data });
    assert.equal(r.json?.errcode, 0, r.text);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual((await wx.pushLog()).list, [], 'no push URL: nothing pushed');
  });

  test('reject: the quota becomes 0 (next send 43101) and a subscribe_msg_change_event is pushed', async () => {
    await wx.subscribeAccept(APP.appid, 'alice', T_PUSHED, 5);
    await takeEvents(5);
    const t0 = Math.floor(Date.now() / 1000);
    const rejected = (openid) => ({ openid, template_id: T_PUSHED, quota: 0 });
    assert.deepEqual(await wx.subscribeReject(APP.appid, 'alice', T_PUSHED), rejected(alice));
    assert.equal(await wx.subscribeQuota(APP.appid, 'alice', T_PUSHED), 0);
    assert.equal((await send(alice)).json.errcode, 43101);
    const { events, log } = await takeEvents(1);
    assert.deepEqual(own(events[0], alice, 'subscribe_msg_change_event', t0), {
      List: [{ TemplateId: T_PUSHED, SubscribeStatusString: 'reject' }],
    });
    assert.equal(log[0].event.Event, 'subscribe_msg_change_event');
    // a user who never accepted, by openid; and an app without a push URL
    assert.deepEqual(await wx.subscribeReject(APP.appid, { openid: bob }, T_PUSHED), rejected(bob));
    await takeEvents(1);
    assert.equal((await wx.subscribeReject(OTHER.appid, 'carol', T_PUSHED)).quota, 0);
    assert.equal(await wx.subscribeQuota(OTHER.appid, 'carol', T_PUSHED), 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await wx.pushLog()).list, []);
    // accepting again gives sends back
    await wx.subscribeAccept(APP.appid, 'alice', T_PUSHED);
    assert.equal((await send(alice)).json.errcode, 0);
    await takeEvents(2);
  });

  test('reject refuses what accept refuses, with 400', async () => {
    for (const body of [
      ...badSubTargets(T_PUSHED, alice, carol),
      { appid: APP.appid, user: 'alice' },
      { appid: APP.appid, user: 'alice', template_id: T_PUSHED, count: 1 },
      { appid: APP.appid, user: 'alice', template_id: 7 },
    ]) {
      const r = await wx.request('POST', '/__emu/subscribe/reject', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(typeof r.json?.error, 'string');
    }
    assert.equal((await wx.request('GET', '/__emu/subscribe/reject')).status, 405);
    assert.deepEqual((await wx.pushLog()).list, [], 'a refused reject pushes nothing');
  });

  test('push/event: user_authorization_revoke with RevokeInfo, user_authorization_cancellation without', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    assert.deepEqual(await wx.pushEvent(APP.appid, 'alice', 'user_authorization_revoke', '6,8'), { queued: true });
    let { events, log } = await takeEvents(1);
    assert.deepEqual(own(events[0], alice, 'user_authorization_revoke', t0), {
      OpenID: alice,
      AppID: APP.appid,
      RevokeInfo: '6,8',
    });
    assert.match(log[0].trace_id, /^ev-\d+$/);
    assert.deepEqual(log[0].event, events[0]);
    const cancelled = await wx.pushEvent(APP.appid, { openid: bob }, 'user_authorization_cancellation');
    assert.deepEqual(cancelled, { queued: true });
    ({ events } = await takeEvents(1));
    assert.deepEqual(own(events[0], bob, 'user_authorization_cancellation', t0), { OpenID: bob, AppID: APP.appid });
    // two of one user in one second: two pushes
    await wx.pushEvent(APP.appid, 'alice', 'user_authorization_revoke', '6');
    await wx.pushEvent(APP.appid, 'alice', 'user_authorization_revoke', '8');
    ({ events } = await takeEvents(2));
    assert.deepEqual(events.map((e) => e.RevokeInfo).sort(), ['6', '8']);
  });

  test('push/event refuses with 400: no push URL, unknown app or user, a bad event or revoke_info', async () => {
    const revoke = (extra) => ({
      appid: APP.appid,
      user: 'alice',
      event: 'user_authorization_revoke',
      revoke_info: '6',
      ...extra,
    });
    for (const body of [
      revoke({ appid: OTHER.appid, user: 'carol' }),
      revoke({ appid: 'wxnosuchapp0000000' }),
      revoke({ user: 'neverLoggedIn' }),
      revoke({ user: undefined, openid: carol }),
      revoke({ user: undefined, openid: 'short' }),
      revoke({ openid: alice }),
      revoke({ user: undefined }),
      revoke({ event: 'user_info_modified' }),
      revoke({ event: undefined }),
      revoke({ event: 7 }),
      revoke({ revoke_info: undefined }),
      revoke({ event: 'user_authorization_cancellation' }),
      ...['', 'a', '6,,8', ',6', '6,', '1234', '6 8', '6;8', `${'1,'.repeat(32)}1`].map((r) =>
        revoke({ revoke_info: r }),
      ),
      revoke({ revoke_info: 6 }),
      revoke({ typo: 1 }),
    ]) {
      const r = await wx.request('POST', '/__emu/push/event', JSON.parse(JSON.stringify(body)));
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(typeof r.json?.error, 'string');
    }
    const r = await wx.request('POST', '/__emu/push/event', revoke({ appid: OTHER.appid, user: 'carol' }));
    assert.match(r.json.error, /no push URL/);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual((await wx.pushLog()).list, [], 'a refused call pushes nothing');
    assert.equal(rx.got.length, 0);
  });

  test('safe mode: the new events are encrypted like the media check push; no secret in the log', async () => {
    try {
      await wx.pushSettings(APP.appid, { encodingAesKey: AES_KEY });
      const t0 = Math.floor(Date.now() / 1000);
      await wx.subscribeReject(APP.appid, 'alice', T_PUSHED);
      await wx.pushEvent(APP.appid, 'alice', 'user_authorization_revoke', '13');
      await wx.waitPushes(APP.appid, 2);
      const events = rx.got.map((req) => {
        const q = req.query;
        assert.equal(q.encrypt_type, 'aes');
        const outer = JSON.parse(req.body);
        assert.deepEqual(Object.keys(outer).sort(), ['Encrypt', 'ToUserName']);
        assert.equal(outer.ToUserName, originalId(APP.appid));
        assert.equal(q.msg_signature, sortedSig(PUSH_TOKEN, q.timestamp, q.nonce, outer.Encrypt));
        const { msg, appid } = openEncrypt(AES_KEY, outer.Encrypt);
        assert.equal(appid, APP.appid);
        return JSON.parse(msg);
      });
      const byEvent = Object.fromEntries(events.map((e) => [e.Event, e]));
      assert.deepEqual(own(byEvent.subscribe_msg_change_event, alice, 'subscribe_msg_change_event', t0).List, [
        { TemplateId: T_PUSHED, SubscribeStatusString: 'reject' },
      ]);
      assert.equal(own(byEvent.user_authorization_revoke, alice, 'user_authorization_revoke', t0).RevokeInfo, '13');
      const log = (await wx.pushLog(APP.appid)).list;
      assert.deepEqual(log.map((e) => e.mode), ['safe', 'safe']);
      assert.ok(!JSON.stringify(log).includes(PUSH_TOKEN) && !JSON.stringify(log).includes(AES_KEY), 'no secrets');
      assert.ok(!wx.logs().includes(PUSH_TOKEN) && !wx.logs().includes(AES_KEY), 'no secrets in the output');
    } finally {
      await wx.pushSettings(APP.appid, { encodingAesKey: null });
      await wx.clearPushLog();
      rx.got.length = 0;
    }
  });
});
