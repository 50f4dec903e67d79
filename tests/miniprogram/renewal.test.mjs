// renewal.test.mjs — utils/util.js keeps the token the server renews (X-OA-Token-Renewed and
// X-OA-Token-Expire, docs/api.md "Token renewal") against a real meetoa whose tokens live 6 s with
// a renewal threshold of 3 s: a call made inside the threshold stores the new token and its expiry
// in place of the old one, with no wx.login and nothing shown; the next call carries it; calls in
// flight together all succeed and the stored token ends up the renewed one; a user who keeps using
// the mini program keeps one login past the first token's expiry.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { loadMiniprogram, newPhone, startMiniWorld } from './harness.mjs';
import { TOKEN_RE } from '../blackbox/lib/meetoa.mjs';

const T = { timeout: 20000 };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;

let world;
before(async () => {
  world = await startMiniWorld({ oa: { token: { 'expire-seconds': 6, 'renew-threshold-seconds': 3, 'cache-seconds': 60 } } });
});
after(async () => {
  await world?.stop();
});

/** A phone of `user`, logged in through utils/user.js, with its counters reset. */
async function loggedIn(user) {
  const phone = newPhone(world, user);
  const mp = loadMiniprogram(phone);
  await mp.user.loginByWeixin({ nickName: user, avatarUrl: '', gender: 0 });
  assert.match(phone.storage.get('token'), TOKEN_RE);
  phone.reset();
  return { phone, mp };
}

/** Waits until the stored token is inside the threshold (the server's clock at expiry - 2 s). */
async function untilThreshold(phone) {
  const expire = Date.parse(phone.storage.get('tokenExpire'));
  assert.ok(Number.isFinite(expire), `tokenExpire ${phone.storage.get('tokenExpire')}`);
  await sleep(Math.max(0, expire - 2000 + 250 - Date.now()));
}

test('a call near the expiry stores the renewed token and its expiry; the next call carries it', T, async () => {
  const { phone, mp } = await loggedIn('ursula');
  const old = phone.storage.get('token');
  const oldExpire = phone.storage.get('tokenExpire');
  await untilThreshold(phone);

  const info = await mp.util.request(mp.api.AuthInfo);
  assert.equal(info.nickName, 'ursula');
  const fresh = phone.storage.get('token');
  assert.match(fresh, TOKEN_RE);
  assert.notEqual(fresh, old, 'the renewed token is stored');
  assert.match(phone.storage.get('tokenExpire'), ISO);
  assert.ok(Date.parse(phone.storage.get('tokenExpire')) > Date.parse(oldExpire), 'with its later expiry');
  assert.equal(phone.storage.get('userInfo').nickName, 'ursula', 'the profile is kept');

  await mp.util.request(mp.api.AuthInfo);
  assert.equal(phone.requests[0].header[mp.api.TokenHeader], old);
  assert.equal(phone.requests[1].header[mp.api.TokenHeader], fresh, 'the next call carries the new token');
  assert.equal(phone.count('login'), 0, 'no wx.login');
  assert.equal(phone.count('showToast') + phone.count('showModal') + phone.count('navigateTo'), 0, 'the user sees nothing');
});

test('calls in flight together near the expiry all succeed; the renewed token is kept', T, async () => {
  const { phone, mp } = await loggedIn('vera');
  const old = phone.storage.get('token');
  await untilThreshold(phone);
  const answers = await Promise.all([
    mp.util.request(mp.api.AuthInfo),
    mp.util.request(mp.api.AuthProfile, { gender: 2 }, 'POST'),
    mp.util.request(mp.api.AuthInfo),
  ]);
  assert.equal(answers[0].nickName, 'vera');
  assert.equal(answers[1].gender, 2);
  const fresh = phone.storage.get('token');
  assert.notEqual(fresh, old);
  assert.equal((await world.oa.info(fresh)).errno, 0, 'the stored token is a live one');
  assert.equal(phone.count('login'), 0);
  assert.equal(phone.requests.length, 3, 'no retry');
});

test('a user who keeps using it keeps one login past the first token\'s lifetime', T, async () => {
  const { phone, mp } = await loggedIn('wanda');
  const first = phone.storage.get('token');
  const firstExpire = Date.parse(phone.storage.get('tokenExpire'));
  await untilThreshold(phone);
  await mp.util.request(mp.api.AuthInfo); // renewed here
  await sleep(Math.max(0, firstExpire + 1000 - Date.now())); // the first token has expired by now
  assert.equal((await world.oa.info(first)).errno, 501, 'the first token is over');
  const info = await mp.util.request(mp.api.AuthInfo);
  assert.equal(info.nickName, 'wanda');
  assert.equal(phone.count('login'), 0, 'never logged in again');
});
