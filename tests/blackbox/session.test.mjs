// session.test.mjs — what a token opens and when it stops: missing, unknown and malformed
// tokens, the two ways to send one (configured header, Authorization: Bearer), a custom
// header name, logout, expiry, and users disabled, closed or deleted behind a live token.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { startWorld, startMeetoa, APP_ID, assertOk, assertErr, eventually, nowEpochSql, sqlText, TOKEN_RE } from './lib/meetoa.mjs';

const CACHE_SECONDS = 1;
let world, oa, wx;

before(async () => {
  world = await startWorld({ meetoa: { config: { oa: { token: { 'cache-seconds': CACHE_SECONDS } } } } });
  ({ oa, wx } = world);
});

after(async () => {
  await world?.stop();
});

/** A token-shaped string that no server ever issued. */
function unknownToken() {
  return randomBytes(32).toString('base64url');
}

/** The openid WeChat gives user (wxemu derives it from appid and user). */
async function openidOf(user) {
  return (await wx.newLogin(APP_ID, user)).openid;
}

async function setStatus(openid, status) {
  const r = await oa.setUserStatus(openid, status);
  assert.equal(r.code, 0, `meetoa user status ${status}: ${r.stderr}`);
}

describe('tokens that open nothing', () => {
  let token;
  before(async () => {
    token = await oa.loginOk('ivan', { nickName: 'Ivan', avatarUrl: '', gender: 1 });
  });

  const cases = [
    ['no header at all', () => ({})],
    ['an empty header', () => ({ 'X-OA-Token': '' })],
    ['an unknown well-formed token', () => ({ 'X-OA-Token': unknownToken() })],
    ['a token one character short', (t) => ({ 'X-OA-Token': t.slice(0, 42) })],
    ['a token one character long', (t) => ({ 'X-OA-Token': t + 'A' })],
    ['a token with a character changed', (t) => ({ 'X-OA-Token': (t[0] === 'A' ? 'B' : 'A') + t.slice(1) })],
    ['a token with standard-base64 characters', () => ({ 'X-OA-Token': '+/' + unknownToken().slice(2) })],
    ['a token with padding', (t) => ({ 'X-OA-Token': t + '=' })],
    ['43 spaces', () => ({ 'X-OA-Token': ' '.repeat(43) })],
    ['a 4 KB header', () => ({ 'X-OA-Token': 'a'.repeat(4096) })],
    ['Bearer without a token', () => ({ Authorization: 'Bearer ' })],
    ['Bearer with an unknown token', () => ({ Authorization: `Bearer ${unknownToken()}` })],
    ['Basic instead of Bearer', (t) => ({ Authorization: `Basic ${t}` })],
    ['the bare token in Authorization', (t) => ({ Authorization: t })],
    ['the configured header wrong, Bearer right', (t) => ({ 'X-OA-Token': unknownToken(), Authorization: `Bearer ${t}` })],
  ];
  for (const [what, headers] of cases) {
    test(`info with ${what} -> 501`, async () => {
      assertErr(await oa.info(null, headers(token)), 501, what);
    });
  }

  test('the real token still works after all that', async () => {
    assertOk(await oa.info(token), 'info');
  });

  test('logout without a token -> 501', async () => {
    assertErr(await oa.logout(null, {}), 501, 'logout');
  });
});

describe('sending the token', () => {
  test('in the configured header and as Authorization: Bearer', async () => {
    const token = await oa.loginOk('judy', { nickName: 'Judy', avatarUrl: '', gender: 2 });
    assert.match(token, TOKEN_RE);
    for (const headers of [{ 'X-OA-Token': token }, { 'x-oa-token': token }, { Authorization: `Bearer ${token}` }]) {
      const r = await oa.info(null, headers);
      assertOk(r, JSON.stringify(Object.keys(headers)));
      assert.equal(r.data.nickName, 'Judy');
    }
  });

  test('the configured header wins over Authorization', async () => {
    const token = await oa.loginOk('judy');
    const r = await oa.info(null, { 'X-OA-Token': token, Authorization: `Bearer ${unknownToken()}` });
    assertOk(r, 'configured header right, Bearer wrong');
  });

  test('a custom header name from the config', async () => {
    const custom = await startMeetoa({
      wxemu: wx,
      appSecret: world.appSecret,
      config: { oa: { token: { header: 'X-Custom-Token' } } },
    });
    try {
      const token = await custom.loginOk('kate', { nickName: 'Kate', avatarUrl: '', gender: 2 });
      const ok = await custom.info(null, { 'X-Custom-Token': token });
      assertOk(ok, 'X-Custom-Token');
      assert.equal(ok.data.nickName, 'Kate');
      assertOk(await custom.info(null, { Authorization: `Bearer ${token}` }), 'Bearer');
      assertErr(await custom.info(null, { 'X-OA-Token': token }), 501, 'X-OA-Token is not the header any more');
      assertOk(await custom.logout(null, { 'X-Custom-Token': token }), 'logout');
      assertErr(await custom.info(null, { 'X-Custom-Token': token }), 501, 'after logout');
    } finally {
      await custom.stop();
    }
  });
});

describe('logout', () => {
  test('refuses the token at once, and only that token', async () => {
    const t1 = await oa.loginOk('liam', { nickName: 'Liam', avatarUrl: '', gender: 1 });
    const t2 = await oa.loginOk('liam');
    assertOk(await oa.info(t1), 'info before logout');

    const out = await oa.logout(t1);
    assertOk(out, 'logout');
    assert.equal(out.data, undefined, 'logout returns no data');
    assertErr(await oa.info(t1), 501, 'info right after logout');
    assertErr(await oa.logout(t1), 501, 'a second logout');
    assertErr(await oa.info(null, { Authorization: `Bearer ${t1}` }), 501, 'Bearer after logout');

    const other = await oa.info(t2);
    assertOk(other, 'the other session of the same user lives on');
    assert.equal(other.data.nickName, 'Liam');
  });

  test('ignores its body', async () => {
    const t = await oa.loginOk('mia');
    assertOk(await oa.post('/wx/auth/logout', '{not json', { 'X-OA-Token': t }), 'logout with a broken body');
    assertErr(await oa.info(t), 501, 'info after logout');
  });
});

test('an expired token is refused', async () => {
  const short = await startMeetoa({
    wxemu: wx,
    appSecret: world.appSecret,
    config: { oa: { token: { 'expire-seconds': 1, 'cache-seconds': 0 } } },
  });
  try {
    const t0 = Date.now();
    const r = await short.login('nora', { nickName: 'Nora', avatarUrl: '', gender: 2 });
    assertOk(r, 'login');
    const expire = Date.parse(r.data.tokenExpire);
    assert.ok(Math.abs(expire - (t0 + 1000)) <= 1500, `tokenExpire ${r.data.tokenExpire} is about one second away`);
    assertOk(await short.info(r.data.token), 'info while alive');
    await sleep(Math.max(0, expire + 1100 - Date.now()));
    assertErr(await short.info(r.data.token), 501, 'info after expiry');
    assertErr(await short.logout(r.data.token), 501, 'logout after expiry');
    // Logging in again is the way out.
    assertOk(await short.info(await short.loginOk('nora')), 'a fresh login');
  } finally {
    await short.stop();
  }
});

test('a session whose stored expiry has passed is refused within cache-seconds', async () => {
  const token = await oa.loginOk('nick', { nickName: 'Nick', avatarUrl: '', gender: 1 });
  const other = await oa.loginOk('nick');
  assertOk(await oa.info(token), 'info while alive');
  // Age every session of the user but keep one: the expiry is checked per session.
  const openid = await openidOf('nick');
  const user = `(SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(openid)})`;
  const rows = await oa.sql(`SELECT count(*) FROM wx_session WHERE user_id = ${user};`);
  assert.deepEqual(rows, [['2']], 'one wx_session row per login');
  await oa.sql(`UPDATE wx_session SET expires_at = ${nowEpochSql(oa)} - 1 WHERE user_id = ${user};`);
  const changed = Date.now();
  const gone = await eventually(
    async () => (await oa.info(token)).errno === 501,
    changed + (CACHE_SECONDS + 1) * 1000 - Date.now(),
  );
  assert.ok(gone, `refused within ${CACHE_SECONDS + 1} s`);
  assertErr(await oa.info(token), 501, 'info');
  assertErr(await oa.info(other), 501, 'the other expired session');
  assertOk(await oa.info(await oa.loginOk('nick')), 'a fresh login');
});

describe('users that may not log in', () => {
  // [status set by `meetoa user status`, errno of login and of live tokens]
  for (const [label, status, errno] of [
    ['disabled', 1, 720],
    ['closed', 2, 721],
  ]) {
    test(`a ${label} user (status ${status}) gets ${errno}, on login and on a live token`, async () => {
      const user = `blocked-${status}`;
      const nick = `Blocked ${status}`;
      const token = await oa.loginOk(user, { nickName: nick, avatarUrl: '', gender: 0 });
      const openid = await openidOf(user);

      await setStatus(openid, status);
      const changed = Date.now();
      const again = await oa.login(user);
      assertErr(again, errno, 'login');

      // Within cache-seconds + 1 s of the change, the live token is refused too.
      const last = await eventually(async () => {
        const r = await oa.info(token);
        return r.errno === errno ? r : null;
      }, changed + (CACHE_SECONDS + 1) * 1000 - Date.now());
      assert.ok(last, `the live token gets ${errno} within ${CACHE_SECONDS + 1} s`);
      assertErr(last, errno, 'info');

      // Re-activated, the user logs in again.
      await setStatus(openid, 0);
      assertOk(await oa.info(await oa.loginOk(user)), 're-activated');
    });
  }

  test('a deleted user gets 721', async () => {
    const token = await oa.loginOk('olga', { nickName: 'Olga', avatarUrl: '', gender: 2 });
    const openid = await openidOf('olga');
    await oa.sql(`UPDATE wx_user SET deleted = 1 WHERE weixin_openid = ${sqlText(openid)};`);
    const changed = Date.now();
    assertErr(await oa.login('olga'), 721, 'login');
    const last = await eventually(
      async () => (await oa.info(token)).errno === 721,
      changed + (CACHE_SECONDS + 1) * 1000 - Date.now(),
    );
    assert.ok(last, 'the live token gets 721');
    assertErr(await oa.info(token), 721, 'info');
    const rows = await oa.sql(`SELECT count(*) FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`);
    assert.deepEqual(rows, [['1']], 'no second row is created for a deleted user');
  });
});
