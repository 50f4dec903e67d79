// login.test.mjs — POST /wx/auth/login_by_weixin, the happy paths: new and returning
// users, profiles (emoji included), concurrent first logins of one user, a double tap of
// one code, and no secret in any answer or log line.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  startWorld,
  APP_ID,
  assertOk,
  jscode2sessionCalls,
  sqlText,
  TOKEN_RE,
  SESSION_KEY_SHAPE,
} from './lib/meetoa.mjs';

let world, oa, wx;
const issuedTokens = []; // every token this file saw, for the log check at the end
const answers = []; // every answer body, for the session_key check at the end

async function login(user, userInfo) {
  const r = await oa.login(user, userInfo);
  answers.push(r.text);
  if (r.data?.token) issuedTokens.push(r.data.token);
  return r;
}

/** The unionid WeChat (the emulator) gives this user: what info must answer as unionId. */
async function unionIdOf(user) {
  const { unionid } = await wx.newLogin(APP_ID, user);
  assert.match(unionid, /^o[A-Za-z0-9_-]{27}$/);
  return unionid;
}

async function info(token) {
  const r = await oa.info(token);
  answers.push(r.text);
  return r;
}

/** The UTC offset in minutes of time zone `zone` at instant ms (e.g. 480 for Asia/Shanghai). */
function zoneOffsetMinutes(zone, ms) {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName').value; // "GMT+08:00" or "GMT"
  const m = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(name);
  return m[1] === undefined ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** "2026-11-24T20:00:00+08:00" style, with the offset of oa.time-zone (default Asia/Shanghai) at that instant. */
function assertLocalIso(text, expectedMs, slackMs) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|([+-])(\d\d):(\d\d))$/.exec(text);
  assert.ok(m, `tokenExpire ${JSON.stringify(text)} is not ISO-8601 with an offset`);
  const ms = Date.parse(text);
  assert.ok(Math.abs(ms - expectedMs) <= slackMs, `tokenExpire ${text} is not within ${slackMs} ms of ${new Date(expectedMs).toISOString()}`);
  const offsetMin = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  assert.equal(offsetMin, zoneOffsetMinutes('Asia/Shanghai', ms), `tokenExpire ${text} is not in oa.time-zone`);
}

before(async () => {
  world = await startWorld();
  ({ oa, wx } = world);
});

after(async () => {
  await world?.stop();
});

test('a new user with a profile gets a token, an expiry and the profile back', async () => {
  const profile = { nickName: 'Alice 🌸', avatarUrl: 'https://example.com/a.png', gender: 2 };
  const before = Date.now();
  const r = await login('alice', { ...profile, language: 'zh_CN', city: 'Guangzhou', province: 'Guangdong', country: 'CN' });
  assertOk(r, 'login');
  assert.match(r.data.token, TOKEN_RE);
  assertLocalIso(r.data.tokenExpire, before + 7200 * 1000, 5000);
  assert.deepEqual(r.data.userInfo, profile);

  const i = await info(r.data.token);
  assertOk(i, 'info');
  assert.deepEqual(i.data, {
    nickName: profile.nickName,
    avatar: profile.avatarUrl,
    gender: 2,
    mobile: '',
    unionId: await unionIdOf('alice'),
  });
});

test('a new user without a profile gets an empty one', async () => {
  const r = await login('bob');
  assertOk(r, 'login');
  assert.match(r.data.token, TOKEN_RE);
  assert.deepEqual(r.data.userInfo, { nickName: '', avatarUrl: '', gender: 0 });

  const i = await info(r.data.token);
  assertOk(i, 'info');
  assert.deepEqual(i.data, { nickName: '', avatar: '', gender: 0, mobile: '', unionId: await unionIdOf('bob') });
});

test('a returning user keeps the first profile and both tokens work', async () => {
  const first = { nickName: 'Carol', avatarUrl: 'https://example.com/c1.png', gender: 2 };
  const second = { nickName: 'Caroline', avatarUrl: 'https://example.com/c2.png', gender: 1 };
  const r1 = await login('carol', first);
  assertOk(r1, 'first login');
  const r2 = await login('carol', second);
  assertOk(r2, 'second login');
  assert.notEqual(r1.data.token, r2.data.token, 'each login mints its own token');

  for (const token of [r1.data.token, r2.data.token]) {
    const i = await info(token);
    assertOk(i, 'info');
    assert.deepEqual(i.data, {
      nickName: first.nickName,
      avatar: first.avatarUrl,
      gender: 2,
      mobile: '',
      unionId: await unionIdOf('carol'),
    });
  }
});

test('two users are two users', async () => {
  const d = await login('dave', { nickName: 'Dave', avatarUrl: '', gender: 1 });
  const e = await login('erin', { nickName: 'Erin', avatarUrl: '', gender: 2 });
  assertOk(d, 'dave');
  assertOk(e, 'erin');
  assert.equal((await info(d.data.token)).data.nickName, 'Dave');
  assert.equal((await info(e.data.token)).data.nickName, 'Erin');
});

test('an emoji nickname round-trips byte for byte', async () => {
  for (const [user, nick] of [
    ['emoji1', '🌸🚀👩‍💻'],
    ['emoji2', '𝒜😀🀄'], // 4-byte characters only
    ['emoji3', '会议室 🏢 A'],
  ]) {
    const r = await login(user, { nickName: nick, avatarUrl: '', gender: 0 });
    assertOk(r, `login ${user}`);
    assert.equal(r.data.userInfo.nickName, nick);
    const i = await info(r.data.token);
    assertOk(i, 'info');
    assert.equal(i.data.nickName, nick);
    assert.ok(i.body.includes(Buffer.from(nick, 'utf8')), `the answer carries ${nick} as raw UTF-8: ${i.text}`);
  }
});

test('20 concurrent first logins of one user create one user', async () => {
  const codes = await Promise.all(Array.from({ length: 20 }, () => wx.newCode(APP_ID, 'frank')));
  assert.equal(new Set(codes).size, 20, 'wxemu gives 20 different codes');
  const calls0 = await jscode2sessionCalls(wx);
  const nicks = codes.map((_, i) => `frank-${i}`);
  const rs = await Promise.all(
    codes.map((code, i) => oa.loginWithCode(code, { nickName: nicks[i], avatarUrl: '', gender: 1 })),
  );
  rs.forEach((r, i) => assertOk(r, `login ${i}`));
  rs.forEach((r) => issuedTokens.push(r.data.token));
  assert.equal(new Set(rs.map((r) => r.data.token)).size, 20, '20 different tokens');
  assert.equal((await jscode2sessionCalls(wx)) - calls0, 20, 'one jscode2session call per code');

  // The first insert wins; every token belongs to that one user.
  const seen = new Set();
  for (const r of rs) {
    const i = await info(r.data.token);
    assertOk(i, 'info');
    seen.add(i.data.nickName);
  }
  assert.equal(seen.size, 1, `all tokens show one user, got ${[...seen].join(', ')}`);
  assert.ok(nicks.includes([...seen][0]));

  const rows = await oa.sql(`SELECT count(*), count(DISTINCT weixin_openid) FROM wx_user WHERE nickname IN (${nicks.map(sqlText).join(',')});`);
  assert.deepEqual(rows, [['1', '1']], 'exactly one wx_user row for the user');
  const dup = await oa.sql('SELECT count(*) FROM (SELECT weixin_openid FROM wx_user GROUP BY weixin_openid HAVING count(*) > 1) AS dup;');
  assert.deepEqual(dup, [['0']], 'no openid has two rows');
});

test('two identical codes in flight share one WeChat call and get the same answer', async () => {
  const code = await wx.newCode(APP_ID, 'grace');
  await wx.faults({ delay_ms: 400 }); // keep the first call in flight while the second arrives
  try {
    const calls0 = await jscode2sessionCalls(wx);
    const body = { code, userInfo: { nickName: 'Grace', avatarUrl: '', gender: 2 } };
    const [a, b] = await Promise.all([oa.post('/wx/auth/login_by_weixin', body), oa.post('/wx/auth/login_by_weixin', body)]);
    assertOk(a, 'first');
    assertOk(b, 'second');
    assert.equal((await jscode2sessionCalls(wx)) - calls0, 1, 'one jscode2session call for the two requests');
    assert.equal(a.data.token, b.data.token, 'one login: both taps get the same token');
    assert.equal(a.text, b.text, 'byte for byte the same answer');
    for (const r of [a, b]) {
      issuedTokens.push(r.data.token);
      const i = await info(r.data.token);
      assertOk(i, 'info');
      assert.equal(i.data.nickName, 'Grace');
    }
  } finally {
    await wx.faults({});
  }
  // The code is spent now: a third try is the client's fault.
  const again = await oa.loginWithCode(code);
  assert.equal(again.errno, 711, `reused code: ${again.text}`);
});

test('two identical codes in flight share a WeChat error too', async () => {
  const code = await wx.newCode(APP_ID, 'heidi');
  await wx.faults({ errcode: 45011, delay_ms: 400 });
  try {
    const calls0 = await jscode2sessionCalls(wx);
    const [a, b] = await Promise.all([oa.loginWithCode(code), oa.loginWithCode(code)]);
    assert.equal(a.errno, 713, `first: ${a.text}`);
    assert.equal(b.errno, 713, `second: ${b.text}`);
    assert.equal(a.text, b.text);
    assert.equal((await jscode2sessionCalls(wx)) - calls0, 1, 'one jscode2session call for the two requests');
  } finally {
    await wx.faults({});
  }
  // The fault kept the code unspent, and the flight is over: the code logs in now.
  const ok = await oa.loginWithCode(code);
  assertOk(ok, 'after the shared error');
  issuedTokens.push(ok.data.token);
});

test('no secret, token or session_key appears in any answer or log line', async () => {
  assert.ok(issuedTokens.length >= 20, 'the tests above issued tokens');
  const logs = oa.logs();
  assert.match(logs, /DEBUG/, 'the log is at debug level, so the check covers everything');
  assert.ok(!logs.includes(world.appSecret), 'the app secret is not logged');
  assert.ok(!logs.includes(oa.dataKey), 'the data key is not logged');
  for (const t of issuedTokens) assert.ok(!logs.includes(t), `token ${t.slice(0, 6)}… is not logged`);
  assert.doesNotMatch(logs, SESSION_KEY_SHAPE, 'nothing shaped like a session_key is logged');
  for (const a of answers) {
    assert.doesNotMatch(a, SESSION_KEY_SHAPE, `no session_key in ${a}`);
    assert.ok(!a.includes(world.appSecret) && !/session_?key/i.test(a), `nothing WeChat-internal in ${a}`);
  }
});
