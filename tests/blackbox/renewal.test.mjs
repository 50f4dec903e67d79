// renewal.test.mjs — token renewal (oa.token.renew-threshold-seconds, docs/api.md "Token renewal"):
// a valid token nearer its expiry than the threshold gets X-OA-Token-Renewed (a new token of the
// same user, its session_key carried over) and X-OA-Token-Expire; the old token keeps working for
// its grace (60 s at most, never past its own expiry) and never renews again; requests near the
// threshold at once, on one process or on two, all succeed and make exactly one new token; logout
// never renews; 0 turns it off; a threshold over half the lifetime is refused at start.
//
// Two ways to reach the threshold: tokens that live 6 s with a threshold of 3 s on a process that
// trusts its cache for a minute (the check answered from memory), waited for from the login's
// tokenExpire; and tokens of the default 7200 s whose expiry is moved near in the database, on
// processes that read the database for every check (cache-seconds 0). SQLite and MariaDB.

import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { startMeetoa, assertOk, assertErr, newSecret, newDataKey, nowEpochSql, sqlText, TOKEN_RE, APP_ID } from './lib/meetoa.mjs';
import { startWxemu } from './lib/wxemu.mjs';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;
const SHORT = { 'expire-seconds': 6, 'renew-threshold-seconds': 3, 'cache-seconds': 60 };

let wx, appSecret, dataKey, short, db, db2;

before(async () => {
  appSecret = newSecret();
  dataKey = newDataKey();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
  short = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { token: SHORT } } });
  db = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { token: { 'cache-seconds': 0 } } } });
  const url = db.config.oa.datasource.url;
  db2 = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { token: { 'cache-seconds': 0 }, datasource: { url } } } });
});

after(async () => {
  await db2?.stop();
  await db?.stop();
  await short?.stop();
  await wx?.stop();
});

const renewedOf = (r) => r.headers.get('x-oa-token-renewed');
const expireOf = (r) => r.headers.get('x-oa-token-expire');

// (asked of wxemu once per user, before their first login: a wxemu login after the server's would
// give the user a new session_key, and check_session would then see the carried one as stale)
const openids = new Map();
async function openidOf(user) {
  if (!openids.has(user)) openids.set(user, (await wx.newLogin(APP_ID, user)).openid);
  return openids.get(user);
}

async function userIdOf(oa, user) {
  const openid = await openidOf(user);
  return Number((await oa.sql(`SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`))[0][0]);
}

/** Logs user in on the short-lived process and waits until the token is inside the threshold. */
async function nearThreshold(user) {
  const r = await short.login(user);
  assertOk(r, `login of ${user}`);
  const expire = Date.parse(r.data.tokenExpire); // whole seconds: login time + 6 s
  // inside the threshold once the server's clock reads login + 4 s (6 - 4 < 3); 1.75 s left then
  await sleep(Math.max(0, expire - 2000 + 250 - Date.now()));
  return r.data.token;
}

/** Moves user's sessions' expiry to 100 s from now in the database (the default threshold is 1800 s). */
async function expireSoon(oa, user) {
  await oa.sql(`UPDATE wx_session SET expires_at = ${nowEpochSql(oa)} + 100 WHERE user_id = ${await userIdOf(oa, user)};`);
}

describe('a token answered from the cache', () => {
  test('renewed near its expiry; the new token works, the old one lives out its grace without renewing again', async () => {
    const old = await nearThreshold('ada');
    const t0 = Date.now();
    const r = await short.info(old);
    assertOk(r, 'the request that renews');
    const fresh = renewedOf(r);
    assert.match(fresh ?? '', TOKEN_RE, 'X-OA-Token-Renewed');
    assert.notEqual(fresh, old);
    assert.match(expireOf(r) ?? '', ISO, 'X-OA-Token-Expire like tokenExpire');
    const expire = Date.parse(expireOf(r));
    assert.ok(Math.abs(expire - (t0 + 6000)) <= 1500, `the new token lives expire-seconds (${expireOf(r)})`);

    const again = await short.info(old);
    assertOk(again, 'the old token still works');
    assert.equal(renewedOf(again), null, 'and is not renewed twice');
    const withFresh = await short.info(fresh);
    assertOk(withFresh, 'the new token works');
    assert.equal(renewedOf(withFresh), null, 'a fresh token is not renewed');
    assert.equal(withFresh.data.nickName, r.data.nickName, 'same user');
  });

  test('five requests at once near the threshold: all succeed, exactly one new token', async () => {
    const old = await nearThreshold('bea');
    const answers = await Promise.all(Array.from({ length: 5 }, () => short.info(old)));
    for (const a of answers) assertOk(a, 'every request succeeds');
    const tokens = answers.map(renewedOf).filter((t) => t !== null);
    assert.equal(tokens.length, 1, `one renewal (${tokens.length})`);
    assertOk(await short.info(tokens[0]), 'the new token works');
    assertOk(await short.info(old), 'the old one too, in its grace');
  });
});

describe('a token read from the database', () => {
  test('renewed: the old row cut to the grace and marked, the new one carries the login', async () => {
    await openidOf('cleo');
    const old = await db.loginOk('cleo');
    const user = await userIdOf(db, 'cleo');
    const [[createdBefore]] = await db.sql(`SELECT created_at FROM wx_session WHERE user_id = ${user};`);
    assertOk(await db.info(old), 'far from its expiry: no renewal');
    await expireSoon(db, 'cleo');
    const r = await db.info(old);
    assertOk(r);
    const fresh = renewedOf(r);
    assert.match(fresh ?? '', TOKEN_RE);
    const rows = await db.sql(
      `SELECT renewed_at > 0, expires_at - ${nowEpochSql(db)}, created_at FROM wx_session WHERE user_id = ${user} ORDER BY renewed_at DESC;`,
    );
    assert.equal(rows.length, 2);
    const [oldRow, newRow] = rows;
    assert.equal(oldRow[0], '1', 'the old session is marked renewed');
    assert.ok(Number(oldRow[1]) <= 60 && Number(oldRow[1]) >= 55, `its expiry cut to the 60 s grace (${oldRow[1]})`);
    assert.equal(newRow[0], '0');
    assert.ok(Number(newRow[1]) >= 7190, `the new one lives expire-seconds (${newRow[1]})`);
    assert.equal(newRow[2], createdBefore, 'the login time carried over');

    const check = await db.checkSession(fresh);
    assertOk(check, 'check_session with the new token: its session_key was carried over');
    assert.equal(check.data.valid, true);
    const list = await db.get('/wx/auth/sessions', { 'X-OA-Token': fresh });
    assert.equal(list.data.total, 1, 'the replaced session is not listed');
    assert.equal(list.data.list[0].current, true);

    const inGrace = await db.info(old);
    assertOk(inGrace, 'the old token in its grace');
    assert.equal(renewedOf(inGrace), null, 'never renewed twice');
    await db.sql(`UPDATE wx_session SET expires_at = ${nowEpochSql(db)} - 1 WHERE user_id = ${user} AND renewed_at > 0;`);
    assertErr(await db.info(old), 501, 'after the grace the old token is refused');
    assertOk(await db.info(fresh));
  });

  test('requests at once on two processes of one database: all succeed, exactly one new token', async () => {
    const old = await db.loginOk('dora');
    await expireSoon(db, 'dora');
    const answers = await Promise.all([db, db2, db, db2, db, db2].map((oa) => oa.info(old)));
    for (const a of answers) assertOk(a, 'every request succeeds');
    const tokens = answers.map(renewedOf).filter((t) => t !== null);
    assert.equal(tokens.length, 1, `one renewal (${tokens.length})`);
    assertOk(await db2.info(tokens[0]));
    const [[n]] = await db.sql(`SELECT count(*) FROM wx_session WHERE user_id = ${await userIdOf(db, 'dora')};`);
    assert.equal(n, '2', 'the old session and one new one');
  });

  test('logout never renews (no session is left behind)', async () => {
    const old = await db.loginOk('erna');
    await expireSoon(db, 'erna');
    const r = await db.logout(old);
    assertOk(r);
    assert.equal(renewedOf(r), null);
    const [[n]] = await db.sql(`SELECT count(*) FROM wx_session WHERE user_id = ${await userIdOf(db, 'erna')};`);
    assert.equal(n, '0');
    const other = await db.loginOk('erna');
    await expireSoon(db, 'erna');
    const all = await db.post('/wx/auth/logout_all', {}, { 'X-OA-Token': other });
    assertOk(all);
    assert.equal(renewedOf(all), null);
    assert.deepEqual(all.data, { ended: 1 });
  });
});

describe('the setting', () => {
  test('0 turns renewal off', async () => {
    const off = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { token: { 'cache-seconds': 0, 'renew-threshold-seconds': 0 } } } });
    try {
      const token = await off.loginOk('fay');
      await expireSoon(off, 'fay');
      const r = await off.info(token);
      assertOk(r);
      assert.equal(renewedOf(r), null);
    } finally {
      await off.stop();
    }
  });

  test('a threshold over half of expire-seconds is refused at start', async () => {
    await assert.rejects(
      startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { token: { 'expire-seconds': 7200, 'renew-threshold-seconds': 3601 } } } }),
      /oa\.token\.renew-threshold-seconds: at most half of oa\.token\.expire-seconds \(3600\)/,
    );
  });
});
