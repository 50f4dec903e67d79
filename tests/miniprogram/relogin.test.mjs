// relogin.test.mjs — the silent re-login of utils/util.js against a real meetoa whose tokens
// live 2 s (oa.token.expire-seconds: 2, cache-seconds: 0): an expired token, and a token logged
// out elsewhere, are replaced by one wx.login() + login_by_weixin and the call is retried once,
// with no toast and no login page; calls failing together share one login; a server that keeps
// answering 501 gets exactly one retry; logout never logs in.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';

import { loadMiniprogram, newPhone, startMiniWorld, SAMPLE_AVATAR } from './harness.mjs';
import { assertOk, assertErr, TOKEN_RE, eventually } from '../blackbox/lib/meetoa.mjs';

// A client that loops (retrying forever) fails on this bound instead of hanging the run.
const T = { timeout: 10000 };
const TOKEN_SECONDS = 2;

// Users whose tokens are left to expire: logged in first, then one wait for all of them.
const EXPIRING = ['erin', 'frank', 'ivan', 'mallory'];
const expired = new Map();

let world;
before(async () => {
  world = await startMiniWorld({ oa: { token: { 'expire-seconds': TOKEN_SECONDS, 'cache-seconds': 0 } } });
  for (const user of EXPIRING) expired.set(user, await loggedIn(user));
  for (const { token } of expired.values()) await waitExpired(token);
});
after(async () => {
  await world?.stop();
});

/** `user`'s phone of before(), its token expired: the mini program loaded afresh on it. */
function withExpiredToken(user) {
  const { phone, token } = expired.get(user);
  const mp = loadMiniprogram(phone);
  phone.reset();
  return { phone, mp, token };
}

/** A phone of `user`, logged in through util/user.js, with its counters reset. */
async function loggedIn(user) {
  const phone = newPhone(world, user);
  const mp = loadMiniprogram(phone);
  await mp.user.loginByWeixin({ nickName: `${user} 🙂`, avatarUrl: '', gender: 0 });
  const token = phone.storage.get('token');
  assert.match(token, TOKEN_RE);
  phone.reset();
  return { phone, mp, token };
}

/** Waits until meetoa refuses `token` (it expires within TOKEN_SECONDS of its login). */
async function waitExpired(token) {
  const dead = await eventually(async () => (await world.oa.info(token)).errno === 501, TOKEN_SECONDS * 1000 + 2000, 100);
  assert.ok(dead, 'the token expired on the server');
}

/** The calls the phone made, as "METHOD path" lines. */
function trace(phone) {
  return phone.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`);
}

test('an expired token: one silent wx.login, the call retried, the answer as if nothing happened', T, async () => {
  const { phone, mp, token } = withExpiredToken('erin');
  const jsBefore = await world.wx.calls('/sns/jscode2session');

  const info = await mp.util.request(mp.api.AuthInfo);
  assert.equal(info.nickName, 'erin 🙂');
  assert.equal(phone.count('login'), 1, 'wx.login once');
  assert.equal((await world.wx.calls('/sns/jscode2session')) - jsBefore, 1);
  assert.deepEqual(trace(phone), ['GET /wx/auth/info', 'POST /wx/auth/login_by_weixin', 'GET /wx/auth/info']);
  const fresh = phone.storage.get('token');
  assert.match(fresh, TOKEN_RE);
  assert.notEqual(fresh, token);
  assert.equal(phone.requests[0].header[mp.api.TokenHeader], token);
  assert.equal(phone.requests[1].header[mp.api.TokenHeader], undefined, 'the login carries no token');
  assert.equal(phone.requests[2].header[mp.api.TokenHeader], fresh, 'the retry carries the new token');
  assert.equal(phone.storage.get('userInfo').nickName, 'erin 🙂', 'the stored profile is the server\'s');
  assert.equal(phone.count('showToast') + phone.count('showModal') + phone.count('navigateTo'), 0, 'the user sees nothing');
});

test('pages: 我的 after the token expired shows the profile, no toast, no login page', T, async () => {
  const { phone, mp, token } = withExpiredToken('frank');
  const ucenter = mp.open('pages/ucenter/ucenter');
  await ucenter.shown;
  assert.equal(ucenter.data.hasLogin, true);
  assert.equal(ucenter.data.nickName, 'frank 🙂');
  assert.equal(phone.count('login'), 1);
  assert.deepEqual(phone.toasts(), []);
  assert.equal(phone.count('navigateTo'), 0);
});

test('logged out elsewhere (the token ended through the API): silent re-login, same user', T, async () => {
  const { phone, mp, token } = await loggedIn('grace');
  assertOk(await world.oa.logout(token));
  const index = mp.open('pages/index/index');
  await index.shown;
  assert.equal(index.data.hasLogin, true);
  assert.equal(index.data.nickName, 'grace 🙂');
  assert.equal(phone.count('login'), 1);
  assert.deepEqual(phone.toasts(), []);
  const fresh = phone.storage.get('token');
  assert.notEqual(fresh, token);
  assertOk(await world.oa.info(fresh));
  assertErr(await world.oa.info(token), 501);
});

test('three calls refused together share one wx.login and are each retried once', T, async () => {
  const { phone, mp, token } = await loggedIn('heidi');
  assertOk(await world.oa.logout(token));
  const answers = await Promise.all([
    mp.util.request(mp.api.AuthInfo),
    mp.util.request(mp.api.AuthProfile, { gender: 2 }, 'POST'),
    mp.util.request(mp.api.AuthInfo),
  ]);
  assert.equal(answers[0].nickName, 'heidi 🙂');
  assert.equal(answers[1].gender, 2);
  assert.equal(phone.count('login'), 1);
  assert.equal(trace(phone).filter((t) => t === 'POST /wx/auth/login_by_weixin').length, 1);
  assert.equal(phone.requests.length, 3 + 1 + 3);
});

test('a call refused after another call already renewed the login: retried, no second login', T, async () => {
  const { phone, mp, token } = await loggedIn('nora');
  assertOk(await world.oa.logout(token));
  // The profile call's refusal arrives late: after the info call has logged in again.
  phone.state.intercept = async ({ url, header }) => {
    if (url !== mp.api.AuthProfile || header[mp.api.TokenHeader] !== token) return undefined;
    const renewed = await eventually(() => phone.storage.get('token') && phone.storage.get('token') !== token, 5000, 5);
    assert.ok(renewed, 'the other call logged in again');
    return { statusCode: 200, data: { errno: 501, errmsg: '请登录' } };
  };
  const [info, profile] = await Promise.all([
    mp.util.request(mp.api.AuthInfo),
    mp.util.request(mp.api.AuthProfile, { gender: 1 }, 'POST'),
  ]);
  assert.equal(info.nickName, 'nora 🙂');
  assert.equal(profile.gender, 1);
  assert.equal(phone.count('login'), 1, 'one silent login for both');
  const fresh = phone.storage.get('token');
  assertOk(await world.oa.info(fresh), 'the stored token is the live one');
  const retry = phone.requests.filter((r) => r.url === mp.api.AuthProfile).at(-1);
  assert.equal(retry.header[mp.api.TokenHeader], fresh);
});

test('an avatar upload with an expired token: re-login, upload retried', T, async () => {
  const { phone, mp, token } = withExpiredToken('ivan');
  const info = await mp.user.updateAvatar(SAMPLE_AVATAR);
  assert.match(info.avatarUrl, /\/wx\/storage\/fetch\/[0-9a-f]{32}\.png$/);
  assert.equal(phone.count('login'), 1);
  assert.deepEqual(trace(phone), [
    'POST /wx/storage/upload',
    'POST /wx/auth/login_by_weixin',
    'POST /wx/storage/upload',
    'POST /wx/auth/profile',
  ]);
});

test('a server that keeps answering 501: one re-login, one retry, then the error (no loop)', T, async () => {
  const { phone, mp } = await loggedIn('judy');
  phone.state.intercept = ({ url }) =>
    url === mp.api.AuthInfo ? { statusCode: 200, data: { errno: 501, errmsg: '请登录' } } : undefined;
  await assert.rejects(mp.util.request(mp.api.AuthInfo), (err) => {
    assert.equal(err.errno, 501);
    assert.equal(err.message, '请登录');
    return true;
  });
  assert.equal(phone.count('login'), 1);
  assert.deepEqual(trace(phone), ['GET /wx/auth/info', 'POST /wx/auth/login_by_weixin', 'GET /wx/auth/info']);

  // The page shows that error once, and stays put.
  phone.reset();
  const ucenter = mp.open('pages/ucenter/ucenter');
  await ucenter.shown;
  assert.deepEqual(phone.toasts(), ['请登录']);
  assert.equal(phone.count('login'), 1);
  assert.equal(phone.requests.length, 3);
});

test('errors other than 501 are not retried and do not log in', T, async () => {
  const { phone, mp } = await loggedIn('kate');
  await assert.rejects(mp.util.request(mp.api.AuthProfile, { gender: 7 }, 'POST'), (err) => {
    assert.equal(err.errno, 402);
    assert.equal(err.message, '参数值不对');
    return true;
  });
  assert.equal(phone.count('login'), 0);
  assert.equal(phone.requests.length, 1);
});

test('no login at all: the first authenticated call logs in silently', T, async () => {
  const phone = newPhone(world, 'leo');
  const mp = loadMiniprogram(phone);
  const info = await mp.util.request(mp.api.AuthInfo);
  assert.equal(info.nickName, '');
  assert.equal(phone.count('login'), 1);
  assert.match(phone.storage.get('token'), TOKEN_RE);
});

test('logout with an expired token does not log in again', T, async () => {
  const { phone, mp, token } = withExpiredToken('mallory');
  assert.equal(await mp.user.logout(), true);
  assert.equal(phone.count('login'), 0);
  assert.deepEqual(trace(phone), ['POST /wx/auth/logout']);
  assert.equal(phone.storage.has('token'), false);
});
