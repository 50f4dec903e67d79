// restart.test.mjs — tokens live in the database, not in the process: they survive a
// restart on the same database and data key, and die with a different data key.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';

import { startWorld, assertOk, assertErr, newDataKey, nowEpochSql } from './lib/meetoa.mjs';

let world, wx;
let oa; // the current meetoa process; replaced by each restart

before(async () => {
  world = await startWorld();
  ({ oa, wx } = world);
});

after(async () => {
  await oa?.stop();
  await wx?.stop();
});

test('SIGTERM stops meetoa with exit code 0', async () => {
  const token = await oa.loginOk('ada', { nickName: 'Ada', avatarUrl: '', gender: 2 });
  oa = await oa.restart();
  assert.deepEqual(oa.previousExit, { code: 0, signal: null }, 'exit status after SIGTERM');
  assertOk(await oa.info(token), 'the token works after the restart');
});

test('a token survives a restart on the same database and data key; logout still works', async () => {
  const keep = await oa.loginOk('ben', { nickName: 'Ben 🚲', avatarUrl: 'https://example.com/b.png', gender: 1 });
  const drop = await oa.loginOk('ben');
  oa = await oa.restart();
  assert.equal(oa.previousExit.code, 0);

  const i = await oa.info(keep);
  assertOk(i, 'info after restart');
  assert.deepEqual({ ...i.data, unionId: undefined }, {
    nickName: 'Ben 🚲',
    avatar: 'https://example.com/b.png',
    gender: 1,
    mobile: '',
    unionId: undefined,
  });
  assert.match(i.data.unionId, /^o[A-Za-z0-9_-]{27}$/, 'the unionid WeChat gave survives the restart');

  assertOk(await oa.logout(drop), 'logout after restart');
  assertErr(await oa.info(drop), 501, 'the logged-out token');
  assertOk(await oa.info(keep), 'the other token');

  // A logout is durable too.
  oa = await oa.restart();
  assertErr(await oa.info(drop), 501, 'the logged-out token after another restart');
  assertOk(await oa.info(keep), 'the kept token after another restart');

  // And the user is still the same user: a new login finds the profile.
  const again = await oa.loginOk('ben');
  assert.equal((await oa.info(again)).data.nickName, 'Ben 🚲');
});

test('with a different data key old tokens are refused', async () => {
  const token = await oa.loginOk('cleo', { nickName: 'Cleo', avatarUrl: '', gender: 2 });
  const oldKey = oa.dataKey;
  oa = await oa.restart({ dataKey: newDataKey() });
  assert.notEqual(oa.dataKey, oldKey);
  assertErr(await oa.info(token), 501, 'info with a token of the old key');
  assertErr(await oa.logout(token), 501, 'logout with a token of the old key');

  // The new process works: logins succeed, and the existing user keeps its profile.
  const fresh = await oa.loginOk('cleo');
  const i = await oa.info(fresh);
  assertOk(i, 'info with a fresh token');
  assert.equal(i.data.nickName, 'Cleo');
});

test('expired sessions are deleted from the database when the server starts (and every 10 minutes)', async () => {
  const live = await oa.loginOk('eve');
  const dead = await oa.loginOk('frank');
  assertOk(await oa.info(dead), 'alive before');
  const count = async () => Number((await oa.sql('SELECT count(*) FROM wx_session;'))[0][0]);
  const before = await count();
  // Age frank's only session: frank is the newest user.
  await oa.sql(
    `UPDATE wx_session SET expires_at = ${nowEpochSql(oa)} - 10 ` +
      'WHERE user_id = (SELECT max(id) FROM wx_user);',
  );
  oa = await oa.restart();
  const deadline = Date.now() + 5000;
  while ((await count()) !== before - 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await count(), before - 1, 'exactly the expired row is gone');
  assertErr(await oa.info(dead), 501, 'the expired token');
  assertOk(await oa.info(live), 'the live token');
  assert.match(oa.logs(), /deleted 1 expired sessions/);
});
