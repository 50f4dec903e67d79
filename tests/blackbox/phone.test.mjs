// phone.test.mjs — binding a phone number, the server's access_token and check_session.
//
// POST /wx/auth/bindPhone with a getPhoneNumber code (WeChat getuserphonenumber) and with the
// legacy encryptedData + iv (decrypted with the session_key stored for the caller's session);
// a number bound to another user (705, or allowed with oa.phone.allow-shared); one-step phone
// login (login_by_weixin with phoneCode); the access_token: one stable_token call for 100
// concurrent requests, one refresh and one retry when WeChat refuses the token, /cgi-bin/token
// when configured, never in a log; `meetoa wx-token`; GET /wx/auth/check_session.
//
// The phone codes, encrypted data and token controls come from wxemu's control API
// (docs/wxemu.md: /__emu/phone_code, /__emu/encrypted, /__emu/tokens).

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  startWorld,
  startMeetoa,
  runMeetoa,
  defaultConfig,
  toYaml,
  newSecret,
  newDataKey,
  APP_ID,
  assertOk,
  assertErr,
  eventually,
  sqlText,
  TOKEN_RE,
} from './lib/meetoa.mjs';
import { newApp } from './lib/wxemu.mjs';

const PHONE_API = '/wxa/business/getuserphonenumber';
const STABLE = '/cgi-bin/stable_token';
const STABLE_FORCE = '/cgi-bin/stable_token#force';
const TOKEN_API = '/cgi-bin/token';
const CHECKSESSION = '/wxa/checksession';
const OTHER_APP = newApp('other');

let world, oa, wx;
const servers = []; // every meetoa of this file, for the log checks at the end

before(async () => {
  world = await startWorld({ otherApps: [OTHER_APP] });
  ({ oa, wx } = world);
  servers.push(oa);
});

after(async () => {
  for (const s of servers.slice(1)) await s.stop();
  await world?.stop();
});

// ---------------------------------------------------------------------------------------
// wxemu's phone side

let phoneSerial = 0;
/** A fresh mainland number, unique in this file. */
function newPhone() {
  phoneSerial++;
  return `139${String(process.pid % 1000).padStart(3, '0')}${String(phoneSerial).padStart(5, '0')}`;
}

/** The code the getPhoneNumber button gives `user` for `phone` (opts: country_code, ...). */
async function phoneCode(user, phone, opts = {}) {
  const code = await wx.phoneCode(APP_ID, user, phone, opts);
  assert.equal(typeof code, 'string', 'wxemu gave a phone code');
  return code;
}

/** {encryptedData, iv} of the legacy getPhoneNumber, made with user's current session_key. */
async function encryptedPhone(user, opts = {}) {
  const r = await wx.encrypted(APP_ID, user, 'phone', opts);
  for (const k of ['encryptedData', 'iv']) assert.equal(typeof r[k], 'string', `/__emu/encrypted answered no ${k}: ${JSON.stringify(r)}`);
  return r;
}

/** The access_token wxemu currently gives this app through stable_token in normal mode. */
async function currentStableToken() {
  const r = await wx.stableToken({ grant_type: 'client_credential', appid: APP_ID, secret: world.appSecret, force_refresh: false });
  assert.equal(typeof r.json?.access_token, 'string', `stable_token: ${r.text}`);
  return r.json.access_token;
}

/** wxemu's call counters of the given paths (0 for a path never called). */
async function counts(...paths) {
  const s = await wx.stats();
  return Object.fromEntries(paths.map((p) => [p, s[p] ?? 0]));
}

/** How the counters of paths moved while fn ran; returns {result, delta}. */
async function delta(paths, fn) {
  const before = await counts(...paths);
  const result = await fn();
  const after = await counts(...paths);
  return { result, delta: Object.fromEntries(paths.map((p) => [p, after[p] - before[p]])) };
}

// ---------------------------------------------------------------------------------------
// meetoa's side

/** Logs `user` in on server s (default: the world's); returns {token, openid}. */
async function loginUser(user, s = oa) {
  const { code, openid } = await wx.newLogin(APP_ID, user);
  const r = await s.loginWithCode(code);
  assertOk(r, `login of ${user}`);
  assert.match(r.data.token, TOKEN_RE);
  return { token: r.data.token, openid };
}

async function mobileOf(token, s = oa) {
  const r = await s.info(token);
  assertOk(r, 'info');
  return r.data.mobile;
}

async function usersWithOpenid(openid, s = oa) {
  return Number((await s.sql(`SELECT count(*) FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`))[0][0]);
}

/** The answer of a successful bind: the number as WeChat gave it (wxemu: the bare number for
 * +86), the country code a string. */
function assertBound(r, phone, what) {
  assertOk(r, what);
  assert.deepEqual(r.data, { phone, purePhoneNumber: phone, countryCode: '86' }, what);
}

// ---------------------------------------------------------------------------------------

describe('bindPhone with a getPhoneNumber code', () => {
  let pat;
  before(async () => {
    pat = await loginUser('pat');
  });

  test('the code binds the number; info shows it; the code cannot be used twice', async () => {
    const phone = newPhone();
    const code = await phoneCode('pat', phone);
    const { result: r, delta: d } = await delta([PHONE_API], () => oa.bindPhone(pat.token, { code }));
    assertBound(r, phone, 'bindPhone');
    assert.equal(d[PHONE_API], 1, 'one getuserphonenumber call');
    assert.equal(await mobileOf(pat.token), phone, 'info shows the mobile');
    assert.deepEqual(await oa.sql(`SELECT mobile FROM wx_user WHERE weixin_openid = ${sqlText(pat.openid)};`), [[phone]]);

    assertErr(await oa.bindPhone(pat.token, { code }), 730, 'the same phone code again');
    assert.equal(await mobileOf(pat.token), phone, 'the mobile is unchanged');
  });

  test('countryCode sent by WeChat as a number is still answered as the string "86"', async () => {
    const phone = newPhone();
    // what WeChat answers for such a code (checked on a second code, since a code works once)
    const probe = await wx.phoneNumber(await currentStableToken(), { code: await phoneCode('pat', phone, { country_code_as_number: true }) });
    assert.equal(probe.json?.phone_info?.countryCode, 86, `wxemu sends a number: ${probe.text}`);
    const code = await phoneCode('pat', phone, { country_code_as_number: true });
    assertBound(await oa.bindPhone(pat.token, { code }), phone, 'numeric countryCode');
    assert.equal(await mobileOf(pat.token), phone);
  });

  test('the wx.login code instead of the phone code -> 730, which says so', async () => {
    const before = await mobileOf(pat.token);
    const loginCode = await wx.newCode(APP_ID, 'pat');
    const r = await oa.bindPhone(pat.token, { code: loginCode });
    assertErr(r, 730, 'a wx.login code');
    assert.match(r.errmsg, /getPhoneNumber/);
    assert.match(r.errmsg, /不是 wx\.login 的 code/);
    assert.equal(await mobileOf(pat.token), before, 'nothing bound');
  });

  test("a number watermarked for another mini program -> 732, nothing bound", async () => {
    const before = await mobileOf(pat.token);
    const code = await phoneCode('pat', newPhone(), { watermark_appid: OTHER_APP.appid });
    assertErr(await oa.bindPhone(pat.token, { code }), 732, 'foreign watermark');
    assert.equal(await mobileOf(pat.token), before, 'nothing bound');
  });

  test('quota used up (1400001) -> 731 and an error-level log line; the code works afterwards', async () => {
    const before = await mobileOf(pat.token);
    const phone = newPhone();
    const code = await phoneCode('pat', phone);
    const logLen = oa.logs().length;
    await wx.faults({ path: PHONE_API, errcode: 1400001 });
    assertErr(await oa.bindPhone(pat.token, { code }), 731, 'quota');
    const line = await eventually(() => oa.logs().slice(logLen).split('\n').find((l) => /\bERROR\b/.test(l)), 2000);
    assert.ok(line, `an error-level log line; got:\n${oa.logs().slice(logLen)}`);
    assert.match(line, /1400001|quota|额度/i, 'the line says what WeChat refused');
    assert.equal(await mobileOf(pat.token), before, 'nothing bound');
    // WeChat refused the call, so the code was not spent.
    assertBound(await oa.bindPhone(pat.token, { code }), phone, 'the code once the quota is back');
  });

  test('no token -> 501, and WeChat is not asked', async () => {
    const code = await phoneCode('pat', newPhone());
    const { result, delta: d } = await delta([PHONE_API], () => oa.bindPhone(null, { code }));
    assertErr(result, 501, 'no token');
    assertErr(await oa.bindPhone('A'.repeat(43), { code }), 501, 'an unknown token');
    assert.equal(d[PHONE_API], 0);
  });
});

describe('bindPhone with legacy encryptedData + iv', () => {
  test('data made with the session_key of the caller\'s login binds the number', async () => {
    const { token } = await loginUser('lena');
    const phone = newPhone();
    const e = await encryptedPhone('lena', { phone });
    assertBound(await oa.bindPhone(token, { encryptedData: e.encryptedData, iv: e.iv }), phone, 'legacy bind');
    assert.equal(await mobileOf(token), phone);
  });

  test('after another login the session_key has rotated: old data or old session -> 733, nothing bound', async () => {
    const first = await loginUser('leo');
    const phoneOld = newPhone();
    const madeWithOld = await encryptedPhone('leo', { phone: phoneOld });
    const second = await loginUser('leo'); // a new jscode2session: a new session_key
    const phoneNew = newPhone();
    const madeWithNew = await encryptedPhone('leo', { phone: phoneNew });

    const r1 = await oa.bindPhone(first.token, { encryptedData: madeWithNew.encryptedData, iv: madeWithNew.iv });
    assertErr(r1, 733, 'data of the new key with the old session');
    assert.match(r1.errmsg, /重新登录/, 'the message says: log in again');
    const r2 = await oa.bindPhone(second.token, { encryptedData: madeWithOld.encryptedData, iv: madeWithOld.iv });
    assertErr(r2, 733, 'data of the old key with the new session');
    assert.equal(await mobileOf(second.token), '', 'nothing (no garbage) was bound');
    assert.deepEqual(await oa.sql(`SELECT 'mobile:' || mobile FROM wx_user WHERE weixin_openid = ${sqlText(first.openid)};`), [['mobile:']]);

    // The data and the session of the same login match.
    assertBound(await oa.bindPhone(second.token, { encryptedData: madeWithNew.encryptedData, iv: madeWithNew.iv }), phoneNew, 'matching key');
  });

  test('spaces where form decoding ate the "+" are repaired', async () => {
    const { token } = await loginUser('liam');
    const phone = newPhone();
    let e;
    for (let i = 0; i < 50; i++) {
      e = await encryptedPhone('liam', { phone });
      if ((e.encryptedData + e.iv).includes('+')) break;
    }
    assert.ok((e.encryptedData + e.iv).includes('+'), 'wxemu gave data with a "+" in 50 tries');
    const body = { encryptedData: e.encryptedData.replaceAll('+', ' '), iv: e.iv.replaceAll('+', ' ') };
    assert.ok((body.encryptedData + body.iv).includes(' '));
    assertBound(await oa.bindPhone(token, body), phone, 'spaces for "+"');
    assert.equal(await mobileOf(token), phone);
  });

  test('data watermarked for another mini program -> 732', async () => {
    const { token } = await loginUser('lola');
    const e = await encryptedPhone('lola', { phone: newPhone(), watermark_appid: OTHER_APP.appid });
    assertErr(await oa.bindPhone(token, { encryptedData: e.encryptedData, iv: e.iv }), 732, 'foreign watermark');
    assert.equal(await mobileOf(token), '');
  });

  test('malformed base64 -> 402; no iv -> 401', async () => {
    const { token } = await loginUser('luca');
    const e = await encryptedPhone('luca', { phone: newPhone() });
    assertErr(await oa.bindPhone(token, { encryptedData: '***not base64***', iv: e.iv }), 402, 'bad encryptedData');
    assertErr(await oa.bindPhone(token, { encryptedData: e.encryptedData, iv: '%%%%%%%%%%%%%%%%%%%%%%%%' }), 402, 'bad iv');
    assertErr(await oa.bindPhone(token, { encryptedData: e.encryptedData }), 401, 'no iv');
    assert.equal(await mobileOf(token), '');
  });
});

describe('a number bound to another user', () => {
  test('-> 705, unless oa.phone.allow-shared', async () => {
    const phone = newPhone();
    const a = await loginUser('ann');
    const b = await loginUser('ben');
    assertBound(await oa.bindPhone(a.token, { code: await phoneCode('ann', phone) }), phone, 'ann binds');
    assertErr(await oa.bindPhone(b.token, { code: await phoneCode('ben', phone) }), 705, 'ben binds the same number');
    assert.equal(await mobileOf(b.token), '');
    assert.equal(await mobileOf(a.token), phone, 'ann keeps it');
    // The same user binding the number again is fine.
    assertBound(await oa.bindPhone(a.token, { code: await phoneCode('ann', phone) }), phone, 'ann again');

    const shared = await startMeetoa({ wxemu: wx, appSecret: world.appSecret, config: { oa: { phone: { 'allow-shared': true } } } });
    servers.push(shared);
    const a2 = await loginUser('ann', shared);
    const b2 = await loginUser('ben', shared);
    assertBound(await shared.bindPhone(a2.token, { code: await phoneCode('ann', phone) }), phone, 'shared: ann');
    assertBound(await shared.bindPhone(b2.token, { code: await phoneCode('ben', phone) }), phone, 'shared: ben');
    assert.equal(await mobileOf(a2.token, shared), phone);
    assert.equal(await mobileOf(b2.token, shared), phone);
  });
});

describe('one-step phone login (login_by_weixin with phoneCode)', () => {
  test('a new user gets a token and the number at once', async () => {
    const phone = newPhone();
    const { code, openid } = await wx.newLogin(APP_ID, 'olga');
    const r = await oa.post('/wx/auth/login_by_weixin', { code, phoneCode: await phoneCode('olga', phone) });
    assertOk(r, 'phone login');
    assert.match(r.data.token, TOKEN_RE);
    assert.equal(await mobileOf(r.data.token), phone);
    assert.equal(await usersWithOpenid(openid), 1);
  });

  test('a bad phoneCode -> 730, no token, no user', async () => {
    const { code, openid } = await wx.newLogin(APP_ID, 'oscar');
    const r = await oa.post('/wx/auth/login_by_weixin', { code, phoneCode: 'not-a-phone-code-0123456789' });
    assertErr(r, 730, 'bad phoneCode');
    assert.equal(r.json.data?.token, undefined);
    assert.equal(await usersWithOpenid(openid), 0, 'no wx_user row');
  });

  test('a number bound to someone else -> 705, no token and no user', async () => {
    const phone = newPhone();
    const owner = await loginUser('omar');
    assertBound(await oa.bindPhone(owner.token, { code: await phoneCode('omar', phone) }), phone, 'omar binds');
    const { code, openid } = await wx.newLogin(APP_ID, 'otto');
    const r = await oa.post('/wx/auth/login_by_weixin', { code, phoneCode: await phoneCode('otto', phone) });
    assertErr(r, 705, 'otto logs in with omar\'s number');
    assert.equal(r.json.data?.token, undefined);
    // The login is one transaction: the refused number takes the new user's row with it.
    assert.equal(await usersWithOpenid(openid), 0, 'no wx_user row for otto');
    assert.equal(await mobileOf(owner.token), phone, 'omar keeps the number');
  });
});

describe('the access_token', () => {
  let fresh;
  before(async () => {
    fresh = await startMeetoa({ wxemu: wx, appSecret: world.appSecret });
    servers.push(fresh);
  });

  test('100 concurrent bindPhone on a fresh server -> one stable_token call', async () => {
    const N = 100;
    const users = Array.from({ length: N }, (_, i) => `crowd-${i}`);
    const tokens = [];
    for (let i = 0; i < N; i += 20)
      tokens.push(...(await Promise.all(users.slice(i, i + 20).map(async (u) => (await loginUser(u, fresh)).token))));
    const phones = users.map(() => newPhone());
    const codes = await Promise.all(users.map((u, i) => phoneCode(u, phones[i])));

    const { result, delta: d } = await delta([STABLE, STABLE_FORCE, TOKEN_API, PHONE_API], () =>
      Promise.all(tokens.map((t, i) => fresh.bindPhone(t, { code: codes[i] }))),
    );
    result.forEach((r, i) => assertBound(r, phones[i], `bindPhone ${i}`));
    assert.deepEqual(d, { [STABLE]: 1, [STABLE_FORCE]: 0, [TOKEN_API]: 0, [PHONE_API]: N }, 'one token fetch for all');
    assert.equal(await mobileOf(tokens[N - 1], fresh), phones[N - 1]);
  });

  test('a token WeChat invalidated -> refreshed once, the call retried once, success', async () => {
    const { token } = await loginUser('ivy', fresh);
    const phone = newPhone();
    const code = await phoneCode('ivy', phone);
    await wx.tokens(APP_ID, 'invalidate');
    const { result, delta: d } = await delta([STABLE, STABLE_FORCE, TOKEN_API, PHONE_API], () => fresh.bindPhone(token, { code }));
    assertBound(result, phone, 'after invalidation');
    assert.deepEqual(d, { [STABLE]: 1, [STABLE_FORCE]: 0, [TOKEN_API]: 0, [PHONE_API]: 2 }, 'refused once (40001), one refresh, one retry');
  });

  test('40001 twice in a row -> 715 after exactly one retry; the code still works after', async () => {
    const own = await startMeetoa({ wxemu: wx, appSecret: world.appSecret });
    servers.push(own);
    const { token } = await loginUser('tess', own);
    const phone = newPhone();
    const code = await phoneCode('tess', phone);
    assertBound(await own.bindPhone(token, { code: await phoneCode('tess', phone) }), phone, 'a token in hand');
    await wx.faults({ path: PHONE_API, errcode: 40001, count: 2 });
    const { result, delta: d } = await delta([PHONE_API], () => own.bindPhone(token, { code }));
    assertErr(result, 715, 'token refused twice');
    assert.equal(d[PHONE_API], 2, 'the first call and one retry, no more');
    await wx.clearFaults();
    assertBound(await own.bindPhone(token, { code }), phone, 'the unspent code afterwards');
  });

  test('two instances on stable_token share WeChat\'s one token and never evict each other', async () => {
    const a = await startMeetoa({ wxemu: wx, appSecret: world.appSecret });
    const b = await startMeetoa({ wxemu: wx, appSecret: world.appSecret });
    servers.push(a, b);
    const bind = async (server, user) => {
      const { token } = await loginUser(user, server);
      const phone = newPhone();
      assertBound(await server.bindPhone(token, { code: await phoneCode(user, phone) }), phone, `${user} on its instance`);
    };
    const { delta: d } = await delta([STABLE, STABLE_FORCE, PHONE_API], async () => {
      await bind(a, 'una');
      await bind(b, 'vic'); // b fetches the token too: with stable_token it is the same one
      await bind(a, 'wes'); // a's cached token still works: nobody was evicted
      await bind(b, 'xia');
    });
    assert.deepEqual(d, { [STABLE]: 2, [STABLE_FORCE]: 0, [PHONE_API]: 4 }, 'one fetch each, no force, no retry');
  });

  test('oa.wx.token-api: token -> GET /cgi-bin/token, not stable_token', async () => {
    const classic = await startMeetoa({ wxemu: wx, appSecret: world.appSecret, config: { oa: { wx: { 'token-api': 'token' } } } });
    servers.push(classic);
    const { token } = await loginUser('tom', classic);
    const phone = newPhone();
    const code = await phoneCode('tom', phone);
    const { result, delta: d } = await delta([STABLE, STABLE_FORCE, TOKEN_API, PHONE_API], () => classic.bindPhone(token, { code }));
    assertBound(result, phone, 'bind with /cgi-bin/token');
    assert.deepEqual(d, { [STABLE]: 0, [STABLE_FORCE]: 0, [TOKEN_API]: 1, [PHONE_API]: 1 });
  });
});

describe('meetoa wx-token', () => {
  let dir;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'meetoa-wxtoken-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints that a token can be had, and its expiry, never the token', async () => {
    const { result: r, delta: d } = await delta([STABLE, TOKEN_API], () => runMeetoa(['wx-token', '--config', oa.configPath]));
    assert.equal(r.code, 0, `exit code; stdout ${r.stdout} stderr ${r.stderr}`);
    assert.match(r.stdout, /access_token: ok via stable_token, expires \S+/);
    assert.deepEqual(d, { [STABLE]: 1, [TOKEN_API]: 0 });
    const current = await currentStableToken();
    assert.ok(!(r.stdout + r.stderr).includes(current), 'the token is not printed');
    assert.ok(!(r.stdout + r.stderr).includes(world.appSecret), 'nor the secret');
  });

  test('a wrong app secret -> exit 1 and FAILED', async () => {
    const secret = newSecret();
    const config = defaultConfig({ wxBase: wx.base, appSecret: secret, dataKey: newDataKey(), dbPath: path.join(dir, 'db') });
    const file = path.join(dir, 'wrong.yml');
    writeFileSync(file, toYaml(config));
    const r = await runMeetoa(['wx-token', '--config', file]);
    assert.equal(r.code, 1, `exit code; stdout ${r.stdout} stderr ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /FAILED/);
    assert.ok(!(r.stdout + r.stderr).includes(secret), 'the secret is not printed');
  });
});

describe('check_session', () => {
  test('valid right after login; invalid once the user logged in elsewhere; 501 without a token', async () => {
    const { token } = await loginUser('cleo');
    const r = await oa.checkSession(token);
    assertOk(r, 'check_session');
    assert.deepEqual(r.data, { valid: true });
    // (the first call may have renewed an access_token that earlier tests killed; the second may not)
    const { result: again, delta: d } = await delta([CHECKSESSION, STABLE], () => oa.checkSession(token));
    assert.deepEqual(again.data, { valid: true });
    assert.deepEqual(d, { [CHECKSESSION]: 1, [STABLE]: 0 }, 'WeChat was asked, with the token in hand');

    // cleo logs in on another server: a new jscode2session rotates her session_key
    const elsewhere = await wx.jscode2session({
      appid: APP_ID,
      secret: world.appSecret,
      js_code: await wx.newCode(APP_ID, 'cleo'),
      grant_type: 'authorization_code',
    });
    assert.equal(typeof elsewhere.json?.session_key, 'string', elsewhere.text);
    const stale = await oa.checkSession(token);
    assertOk(stale, 'check_session after a login elsewhere');
    assert.deepEqual(stale.data, { valid: false });

    const { token: relogged } = await loginUser('cleo');
    assert.deepEqual((await oa.checkSession(relogged)).data, { valid: true }, 'the new session is valid');

    assertErr(await oa.checkSession(null), 501, 'no token');
  });
});

test('the access_token never appears in meetoa\'s logs', async () => {
  const current = await currentStableToken();
  assert.ok(current.length >= 16, `a real token: ${current.length} characters`);
  for (const s of servers) {
    const logs = s.logs();
    assert.ok(!logs.includes(current), `server on port ${s.port}: the access_token is in its logs`);
    assert.ok(!/access_token=[^&\s*]{8,}/.test(logs), `server on port ${s.port}: a URL with an access_token is logged`);
    assert.ok(!logs.includes(world.appSecret), `server on port ${s.port}: the app secret is logged`);
  }
});

test('every server of this file stops cleanly: exit 0, no sanitizer report', async () => {
  for (const s of servers) {
    const exit = await s.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, `server on port ${s.port} exited ${JSON.stringify(exit)}`);
    assert.ok(!/Sanitizer/.test(s.logs()), `server on port ${s.port}: a sanitizer report:\n${s.logs().slice(-3000)}`);
  }
});
