// restart.test.mjs — tokens live in the database, not in the process: they survive a
// restart on the same database and data key, and die with a different data key, unless the
// old key is kept in oa.security.previous-data-keys (a data-key rotation): then the old
// tokens and their sealed session_keys keep working until the old key is removed.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  startWorld,
  assertOk,
  assertErr,
  newDataKey,
  newSecret,
  nowEpochSql,
  runMeetoa,
  defaultConfig,
  mergeConfig,
  toYaml,
  APP_ID,
} from './lib/meetoa.mjs';

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

let phoneSerial = 0;
/** A fresh mainland number, unique in this file. */
function newPhone() {
  phoneSerial++;
  return `137${String(process.pid % 1000).padStart(3, '0')}${String(phoneSerial).padStart(5, '0')}`;
}

/** bindPhone with legacy encryptedData made by wxemu with user's current session_key: the
 * server must open the session_key it sealed for token's session to read the number. */
async function legacyBind(token, user) {
  const phone = newPhone();
  const e = await wx.encrypted(APP_ID, user, 'phone', { phone });
  return { phone, r: await oa.bindPhone(token, { encryptedData: e.encryptedData, iv: e.iv }) };
}

function assertBound({ phone, r }, what) {
  assertOk(r, what);
  assert.equal(r.data.purePhoneNumber, phone, what);
}

test('data-key rotation: old sessions live on while the old key is in previous-data-keys, and end when it is removed', async () => {
  const k1 = oa.dataKey;
  const old = await oa.loginOk('rosa', { nickName: 'Rosa', avatarUrl: '', gender: 2 });
  assertBound(await legacyBind(old, 'rosa'), 'legacy bindPhone under the first key');

  // Rotation: K2 becomes the data key, K1 stays as a previous one.
  const k2 = newDataKey();
  oa = await oa.restart({ dataKey: k2, config: { oa: { security: { 'previous-data-keys': k1 } } } });
  assert.equal(oa.previousExit.code, 0);
  const i = await oa.info(old);
  assertOk(i, 'info with a token of the previous key');
  assert.equal(i.data.nickName, 'Rosa');
  const bound = await legacyBind(old, 'rosa'); // rosa has not logged in again: her session_key is the K1-sealed one
  assertBound(bound, 'legacy bindPhone: the session_key sealed under the previous key opens');
  assert.equal((await oa.info(old)).data.mobile, bound.phone);
  const check = await oa.checkSession(old);
  assertOk(check, 'check_session signs with the session_key sealed under the previous key');
  assert.deepEqual(check.data, { valid: true });

  // New logins are hashed and sealed under K2.
  const fresh = await oa.loginOk('sven', { nickName: 'Sven', avatarUrl: '', gender: 1 });
  assertOk(await oa.info(fresh), 'info with a token made after the rotation');
  assertBound(await legacyBind(fresh, 'sven'), 'legacy bindPhone with a token made after the rotation');

  // The operator removes K1 after oa.token.expire-seconds: the old sessions end, the new live on.
  oa = await oa.restart({ config: { oa: { security: { 'previous-data-keys': null } } } });
  assert.equal(oa.dataKey, k2);
  assert.equal(oa.config.oa.security['previous-data-keys'], undefined);
  assertErr(await oa.info(old), 501, 'info with a token of the removed key');
  assertErr((await legacyBind(old, 'rosa')).r, 501, 'bindPhone with a token of the removed key');
  assertErr(await oa.checkSession(old), 501, 'check_session with a token of the removed key');
  assertErr(await oa.logout(old), 501, 'logout with a token of the removed key');
  assertOk(await oa.info(fresh), 'info with a token of the current key');
  assertBound(await legacyBind(fresh, 'sven'), 'legacy bindPhone with a token of the current key');

  // Without K1 among the keys, the old token is refused whatever else is listed.
  oa = await oa.restart({ config: { oa: { security: { 'previous-data-keys': `${newDataKey()}, ${newDataKey()}` } } } });
  assertErr(await oa.info(old), 501, 'info with unrelated previous keys');
  assertOk(await oa.info(fresh), 'the current key still works with previous keys listed');
});

test('a bad oa.security.previous-data-keys stops the start with one line naming the key, never a key', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-rotation-'));
  try {
    const good = newDataKey();
    const dataKey = newDataKey();
    const cases = [
      [`${good},${Buffer.alloc(24, 7).toString('base64')}`, /entry 2 must be the base64 of 32 bytes/],
      [`${good},`, /entry 2 must be the base64 of 32 bytes/],
      [`${good}, ${good}`, /entry 2 repeats entry 1/],
      [dataKey, /entry 1 is oa\.security\.data-key itself/],
      [[1, 2, 3, 4, 5].map(() => newDataKey()).join(','), /at most 4 keys/],
    ];
    for (const [value, why] of cases) {
      const config = mergeConfig(defaultConfig({ appSecret: newSecret(), dataKey, dbPath: path.join(dir, 'db') }), {
        oa: { security: { 'previous-data-keys': value } },
      });
      const file = path.join(dir, 'application.yml');
      writeFileSync(file, toYaml(config));
      const r = await runMeetoa(['serve', '--config', file]);
      assert.notEqual(r.code, 0, `${value}: refused`);
      assert.match(r.stderr, /oa\.security\.previous-data-keys: /, r.stderr);
      assert.match(r.stderr, why, r.stderr);
      for (const key of [good, dataKey, ...value.split(',')].map((k) => k.trim()).filter((k) => k.length > 8)) {
        assert.ok(!r.stderr.includes(key) && !r.stdout.includes(key), `a key is shown: ${r.stderr}`);
        assert.ok(!r.stderr.includes(Buffer.from(key, 'base64').toString('hex')), 'a key is shown in hex');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
