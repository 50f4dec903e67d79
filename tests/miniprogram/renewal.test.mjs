// renewal.test.mjs — utils/util.js keeps the token the server renews (X-OA-Token-Renewed and
// X-OA-Token-Expire, docs/api.md "Token renewal") against a real meetoa whose tokens live 6 s with
// a renewal threshold of 3 s: a call made inside the threshold stores the new token and its expiry
// in place of the old one, with no wx.login and nothing shown; the next call carries it; calls in
// flight together all succeed and the stored token ends up the renewed one; a user who keeps using
// the mini program keeps one login past the first token's expiry. 隐私与账号's calls go the same way:
// the export (a file through util.downloadFile) keeps the token it renews, and so does the account
// deletion (util.request) — meetoa renews none on delete_account, so that answer is played by a
// forwarding intercept carrying a real renewal of the same token.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { loadMiniprogram, newPhone, startMiniWorld, setRoleByCli } from './harness.mjs';
import { TOKEN_RE, APP_ID } from '../blackbox/lib/meetoa.mjs';

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

/** 隐私与账号 of a phone just logged in, shown (its calls made before the threshold), counters reset. */
async function accountPage(user) {
  const { phone, mp } = await loggedIn(user);
  const page = mp.open('pages/account/account');
  await page.shown;
  assert.equal(page.data.sessionsLoaded, true);
  phone.reset();
  return { phone, mp, page };
}

test('导出我的数据 near the expiry: the download stores the renewed token and its expiry; the file is the export', T, async () => {
  const { phone, mp, page } = await accountPage('xia');
  const old = phone.storage.get('token');
  const oldExpire = phone.storage.get('tokenExpire');
  await untilThreshold(phone);
  await mp.press(page, 'export-button');
  assert.ok(page.data.exported, 'exported');
  assert.deepEqual(phone.toasts(), []);
  assert.deepEqual(phone.requests.map((r) => [r.api, new URL(r.url).pathname, r.header[mp.api.TokenHeader]]), [['downloadFile', '/wx/auth/export', old]]);
  const fresh = phone.storage.get('token');
  assert.match(fresh, TOKEN_RE);
  assert.notEqual(fresh, old, 'the renewed token is stored');
  assert.ok(Date.parse(phone.storage.get('tokenExpire')) > Date.parse(oldExpire), 'with its later expiry');
  assert.equal((await world.oa.info(fresh)).errno, 0, 'a live token');
  assert.equal(phone.count('login'), 0);
  await mp.util.request(mp.api.AuthInfo);
  assert.equal(phone.requests.at(-1).header[mp.api.TokenHeader], fresh, 'the next call carries it');
});

test('注销账号 near the expiry: meetoa renews no token on delete_account; a renewed one on its answer is kept as on any call', T, async () => {
  const { phone, mp, page } = await accountPage('yoko');
  const cli = await setRoleByCli(world, 'yoko', 'admin'); // the only admin: 807, nothing deleted
  assert.equal(cli.code, 0, cli.stderr);
  const old = phone.storage.get('token');
  await untilThreshold(phone);

  // The server's own answer: refused, and no renewal (the call may end every session).
  await page.onDeleteAccount();
  assert.deepEqual(phone.requests.map((r) => new URL(r.url).pathname), ['/wx/auth/delete_account']);
  assert.equal(phone.requests[0].header[mp.api.TokenHeader], old);
  const direct = await world.oa.send('POST', '/wx/auth/delete_account', { code: await world.wx.newCode(APP_ID, 'yoko') }, { [mp.api.TokenHeader]: old });
  assert.equal(direct.json.errno, 807);
  assert.equal(direct.headers.get('x-oa-token-renewed'), null, 'meetoa renews none on delete_account');
  assert.deepEqual(phone.toasts(), [direct.json.errmsg]);
  assert.equal(phone.storage.get('token'), old, 'nothing to keep');

  // An answer that does carry one (played: forwarded to meetoa, with a real renewal of this token).
  let renewal = null;
  phone.state.intercept = async ({ url, method, header, data }) => {
    if (url !== mp.api.AuthDeleteAccount) return undefined;
    const real = await world.oa.send(method, '/wx/auth/delete_account', data, { [mp.api.TokenHeader]: header[mp.api.TokenHeader] });
    renewal = await world.oa.info(header[mp.api.TokenHeader]);
    assert.match(renewal.headers.get('x-oa-token-renewed') ?? '', TOKEN_RE, 'a real renewal of the token');
    return {
      statusCode: real.status,
      data: real.json,
      header: { 'Content-Type': 'application/json', 'X-OA-Token-Renewed': renewal.headers.get('x-oa-token-renewed'), 'X-OA-Token-Expire': renewal.headers.get('x-oa-token-expire') },
    };
  };
  phone.reset();
  await page.onDeleteAccount();
  phone.state.intercept = null;
  assert.equal(phone.requests.length, 1);
  assert.deepEqual(phone.toasts(), [direct.json.errmsg], 'refused again (807)');
  const fresh = phone.storage.get('token');
  assert.equal(fresh, renewal.headers.get('x-oa-token-renewed'), 'the renewed token is stored');
  assert.equal(phone.storage.get('tokenExpire'), renewal.headers.get('x-oa-token-expire'));
  assert.equal((await world.oa.info(fresh)).errno, 0);
  assert.equal(phone.count('login'), 1, 'only the confirmation code');
});
