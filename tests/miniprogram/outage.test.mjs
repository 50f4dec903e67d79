// outage.test.mjs — the mini program when things are down: a clear error after one attempt,
// never a loop. WeChat's login unreachable while the token is dead (one wx.login, no retry),
// an answer that is not MeetOA's (a proxy's HTML error page), then MeetOA itself stopped.
// The suite stops its own processes on purpose, so its tests run in this order.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';

import { loadMiniprogram, newPhone, startMiniWorld } from './harness.mjs';
import { assertOk } from '../blackbox/lib/meetoa.mjs';

// A client that loops (retrying forever) fails on this bound instead of hanging the run.
const T = { timeout: 10000 };
const NETWORK_TEXT = '无法连接服务器，请检查网络后重试';
const WX_LOGIN_TEXT = '微信登录失败，请稍后重试';

let world;
let phone;
let mp;
before(async () => {
  world = await startMiniWorld();
  phone = newPhone(world, 'victor');
  mp = loadMiniprogram(phone);
  await mp.user.loginByWeixin({ nickName: 'Victor', avatarUrl: '', gender: 1 });
  phone.reset();
});
after(async () => {
  await world?.stop();
});

function assertFailure(err, errno, message) {
  assert.ok(err instanceof Error, `an Error, got ${err}`);
  assert.equal(err.errno, errno);
  assert.equal(err.message, message);
  return true;
}

test('an answer that is not MeetOA\'s envelope: a clear error, no retry, no login', T, async () => {
  phone.state.intercept = () => ({ statusCode: 502, data: '<html><body>502 Bad Gateway</body></html>' });
  try {
    await assert.rejects(mp.util.request(mp.api.AuthInfo), (err) => assertFailure(err, mp.util.BAD_ANSWER_ERRNO, '服务器应答异常（HTTP 502）'));
    assert.equal(phone.count('request'), 1);
    assert.equal(phone.count('login'), 0);
  } finally {
    phone.state.intercept = null;
    phone.reset();
  }
});

test('WeChat unreachable while the token is dead: one wx.login attempt, then a clear error', T, async () => {
  const token = phone.storage.get('token');
  const profile = phone.storage.get('userInfo');
  assertOk(await world.oa.logout(token));
  await world.wx.stop();
  await assert.rejects(mp.util.request(mp.api.AuthInfo), (err) => assertFailure(err, mp.util.WX_LOGIN_ERRNO, WX_LOGIN_TEXT));
  assert.equal(phone.count('login'), 1);
  assert.equal(phone.count('request'), 1, 'no login_by_weixin without a code, no retry');
  assert.equal(phone.storage.has('token'), false, 'the refused token is forgotten');

  // 我的 opened with that dead login: the error once, then it shows nobody logged in.
  phone.storage.set('token', token);
  phone.storage.set('userInfo', profile);
  phone.reset();
  const ucenter = mp.open('pages/ucenter/ucenter');
  await ucenter.shown;
  assert.deepEqual(phone.toasts(), [WX_LOGIN_TEXT]);
  assert.equal(phone.count('login'), 1);
  assert.equal(phone.count('request'), 1);
  assert.equal(ucenter.data.hasLogin, false, 'the refused login was cleared');
});

test('MeetOA stopped: each call fails once with the network error; no wx.login, no retry', T, async () => {
  // A stored login (its token need not be valid: nobody answers any more).
  await world.oa.stop();
  phone.reset();
  phone.storage.set('token', 'A'.repeat(43));
  phone.storage.set('userInfo', { nickName: 'Victor', avatarUrl: '', gender: 1 });

  const t0 = Date.now();
  await assert.rejects(mp.util.request(mp.api.AuthInfo), (err) => assertFailure(err, mp.util.NETWORK_ERRNO, NETWORK_TEXT));
  assert.ok(Date.now() - t0 < 5000, 'fails at once, not after retries');
  assert.equal(phone.count('request'), 1);
  assert.equal(phone.count('login'), 0);
  assert.equal(phone.storage.get('token'), 'A'.repeat(43), 'a network failure does not drop the login');

  // Three at once: three attempts, three errors, still no login.
  phone.reset();
  const results = await Promise.allSettled([
    mp.util.request(mp.api.AuthInfo),
    mp.util.request(mp.api.AuthProfile, { gender: 2 }, 'POST'),
    mp.user.bindPhone('somecode'),
  ]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assertFailure(r.reason, mp.util.NETWORK_ERRNO, NETWORK_TEXT);
  }
  assert.equal(phone.count('request'), 3);
  assert.equal(phone.count('login'), 0);
});

test('MeetOA stopped: the pages show the error once and keep what they showed', T, async () => {
  phone.reset();
  const index = mp.open('pages/index/index');
  await index.shown;
  assert.equal(index.data.hasLogin, true);
  assert.equal(index.data.nickName, 'Victor');
  assert.deepEqual(phone.toasts(), [NETWORK_TEXT]);
  assert.equal(phone.count('request'), 1);

  // Logging out still forgets the login on the phone (the server could not be told).
  phone.reset();
  assert.equal(await mp.user.logout(), false);
  assert.equal(phone.count('request'), 1);
  assert.equal(phone.storage.has('token'), false);
});

test('MeetOA stopped: 微信登录 gets a code, fails once, and says so', T, async () => {
  // wxemu is down too by now: bring up a phone whose wx.login works against a fresh wxemu.
  const { startWxemu } = await import('../blackbox/lib/wxemu.mjs');
  const { APP_ID } = await import('./harness.mjs');
  const wx2 = await startWxemu({ apps: [{ appid: APP_ID, secret: world.appSecret }] });
  try {
    const p2 = newPhone({ wx: wx2, oa: world.oa }, 'wendy');
    const mp2 = loadMiniprogram(p2);
    const login = mp2.open('pages/login/login');
    await login.onLogin();
    assert.equal(p2.count('login'), 1);
    assert.equal(p2.count('request'), 1);
    assert.equal(login.data.loading, false);
    assert.equal(login.data.step, 'login');
    assert.deepEqual(p2.toasts(), [NETWORK_TEXT]);
    assert.equal(p2.count('hideLoading'), 1, 'the loading mask is taken down');
    assert.equal(p2.storage.has('token'), false);
  } finally {
    await wx2.stop();
  }
});
