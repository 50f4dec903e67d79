// faults.test.mjs — MeetOA when its own process or its database fails under it:
//
// - kill -9 during a login storm (both backends): after a restart on the same database and
//   data key the database is intact (SQLite: PRAGMA integrity_check through the sqlite3 CLI;
//   MariaDB: CHECK TABLE), every login that was answered with a token still works, and there is
//   one wx_user row per openid: logging in again finds the same user id.
// - SQLite only (the MariaDB outage is outage.test.mjs's):
//   - the database file locked by another process (sqlite3 holding BEGIN EXCLUSIVE): logins
//     answer 502 within the busy timeout, reads keep working, and once the lock is gone logins
//     work again in the same process;
//   - the disk full (RLIMIT_FSIZE lowered on the running process with prlimit): logins answer
//     502 and leave no wx_user row (a login is one transaction), the process stays up and
//     answers the rest, and once the limit is raised logins work again in the same process;
//     the database is intact afterwards.
// WeChat's failures are in wechat_errors.test.mjs.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { startWxemu } from './lib/wxemu.mjs';
import { APP_ID, DB_DIALECT, assertErr, assertOk, eventually, holdWriteLock, newSecret, run, send, sqlText, startMeetoa } from './lib/meetoa.mjs';

const SQLITE_BUSY_TIMEOUT_MS = 5000; // store_sqlite.c's busy timeout
const MARGIN_MS = 3000; // an ASan build on a busy machine

let wx;
const appSecret = newSecret();
const servers = new Set(); // every meetoa started here, stopped in after()

before(async () => {
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
});

after(async () => {
  for (const oa of servers) await oa.stop();
  await wx?.stop();
});

/** A meetoa on a fresh database that checks every token against the database (no cache). */
async function freshMeetoa() {
  const oa = await startMeetoa({ wxemu: wx, appSecret, config: { oa: { token: { 'cache-seconds': 0 } } } });
  servers.add(oa);
  return oa;
}

/** oa.restart(), keeping `servers` up to date. */
async function restarted(oa) {
  servers.delete(oa);
  const next = await oa.restart();
  servers.add(next);
  return next;
}

/** A login with a fresh code for user: {user, openid, r (or error: the request failed), ms}. */
async function loginOf(oa, user, prepared) {
  const login = prepared ?? (await wx.newLogin(APP_ID, user));
  const t0 = Date.now();
  try {
    const r = await oa.loginWithCode(login.code);
    return { user, openid: login.openid, r, ms: Date.now() - t0 };
  } catch (error) {
    return { user, openid: login.openid, error, ms: Date.now() - t0 };
  }
}

const rowsOf = async (oa, openid) => (await oa.sql(`SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`)).map((r) => r[0]);

/** The database is consistent: integrity check, no duplicate openid, no session without its user. */
async function assertDatabaseIntact(oa, what) {
  if (oa.dialect === 'sqlite') {
    assert.deepEqual(await oa.sql('PRAGMA integrity_check;'), [['ok']], `${what}: PRAGMA integrity_check`);
    assert.deepEqual(await oa.sql('PRAGMA foreign_key_check;'), [], `${what}: PRAGMA foreign_key_check`);
  } else {
    for (const row of await oa.sql('CHECK TABLE wx_user, wx_session;'))
      assert.equal(row.at(-1), 'OK', `${what}: CHECK TABLE ${row.join(' ')}`);
  }
  assert.deepEqual(
    await oa.sql('SELECT weixin_openid, count(*) FROM wx_user GROUP BY weixin_openid HAVING count(*) > 1;'),
    [],
    `${what}: one wx_user row per openid`,
  );
  assert.deepEqual(
    await oa.sql('SELECT count(*) FROM wx_session s LEFT JOIN wx_user u ON u.id = s.user_id WHERE u.id IS NULL;'),
    [['0']],
    `${what}: no session without its user`,
  );
}

describe('kill -9 during a login storm', () => {
  const USERS = 48;

  test(`${USERS} concurrent first logins, SIGKILL with some in flight, restart on the same database`, async () => {
    let oa = await freshMeetoa();
    // Every third user's WeChat answer comes late (a per-code delay), so those logins are
    // surely still in flight at the kill; the others arrive one every few ms and pass
    // through the database while it happens.
    const logins = [];
    for (let i = 0; i < USERS; i++) {
      const login = await wx.newLogin(APP_ID, `storm-${i}`);
      if (i % 3 === 0) await wx.faults({ code: login.code, delay_ms: 400 + (i % 7) * 50 });
      logins.push(login);
    }
    let answered = 0;
    const storm = logins.map(async (login, i) => {
      await sleep(i * 6);
      const res = await loginOf(oa, `storm-${i}`, login);
      if (res.r?.errno === 0) answered++;
      return res;
    });
    assert.ok(await eventually(() => answered >= USERS / 4, 20000, 2), `${USERS / 4} logins answered before the kill`);
    oa.proc.kill('SIGKILL');
    const results = await Promise.all(storm);
    await wx.clearFaults();

    const ok = results.filter((x) => x.r?.errno === 0);
    const lost = results.filter((x) => x.error !== undefined);
    for (const x of results) {
      if (x.r !== undefined && x.r.errno !== 0) assert.fail(`${x.user}: an answer that is neither a token nor a lost connection: ${x.r.text}`);
    }
    assert.ok(ok.length >= USERS / 4, `${ok.length} logins got a token`);
    assert.ok(lost.length > 0, 'some logins were in flight at the kill (their connection was lost)');

    oa = await restarted(oa);
    assert.deepEqual(oa.previousExit, { code: null, signal: 'SIGKILL' }, 'the first process was killed');
    await assertDatabaseIntact(oa, 'after the kill');

    // Every token that was answered still works.
    for (const x of ok) assertOk(await oa.info(x.r.data.token), `the token of ${x.user}, answered before the kill`);
    // A user whose login was answered has one row; logging in again finds it (same id), and
    // every storm user, answered or not, ends with exactly one row.
    for (const x of results) {
      const before = await rowsOf(oa, x.openid);
      if (x.r?.errno === 0) assert.equal(before.length, 1, `${x.user}: one wx_user row for an answered login`);
      assert.ok(before.length <= 1, `${x.user}: at most one row (${before.length})`);
      const again = await loginOf(oa, x.user);
      assertOk(again.r, `${x.user} logs in again after the restart`);
      const afterRows = await rowsOf(oa, x.openid);
      assert.equal(afterRows.length, 1, `${x.user}: one wx_user row after logging in again`);
      if (before.length === 1) assert.equal(afterRows[0], before[0], `${x.user}: the same user id`);
      assertOk(await oa.info(again.r.data.token), `${x.user}: the new token`);
    }
    await assertDatabaseIntact(oa, 'after logging everybody in again');
  });
});

// ---------------------------------------------------------------------------------------
// SQLite only: another process's lock, a full disk.

/** prlimit --pid pid --fsize=soft:unlimited (soft "unlimited" lifts it again). */
async function setFileSizeLimit(pid, soft) {
  const r = await run('prlimit', ['--pid', String(pid), `--fsize=${soft}:unlimited`]);
  assert.equal(r.code, 0, `prlimit: ${r.stderr}`);
}

function sizeOf(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

// Registered on SQLite only: on MariaDB the server's own outage is outage.test.mjs's.
if (DB_DIALECT === 'sqlite') describe('SQLite: the database locked or the disk full', () => {
  test('another process holds the write lock: 502 within the busy timeout, reads work, then recovery', async () => {
    const oa = await freshMeetoa();
    const token = (await loginOf(oa, 'lock-before')).r.data.token;
    const lock = await holdWriteLock(oa.dbPath);
    let released = false;
    try {
      // Two logins at once (each holds a database worker for the busy timeout) and reads meanwhile.
      const logins = [loginOf(oa, 'lock-victim-1'), loginOf(oa, 'lock-victim-2')];
      await sleep(300);
      const t0 = Date.now();
      assertOk(await oa.info(token), 'a read while the write lock is held');
      const readMs = Date.now() - t0;
      assert.ok(readMs < SQLITE_BUSY_TIMEOUT_MS, `the read did not wait for the lock (${readMs} ms)`);
      for (const x of await Promise.all(logins)) {
        assertErr(x.r, 502, `${x.user} while the database is locked`);
        assert.ok(x.ms <= SQLITE_BUSY_TIMEOUT_MS + MARGIN_MS, `${x.user}: answered after ${x.ms} ms`);
        assert.deepEqual(await rowsOf(oa, x.openid), [], `${x.user}: no wx_user row for the failed login`);
      }
      assert.match(oa.logs(), /\bERROR\b.*(busy|lock)/i, 'the failure is logged, naming the lock');
      await lock.release();
      released = true;
    } finally {
      if (!released) await lock.release();
    }
    const pid = oa.proc.pid;
    for (const user of ['lock-victim-1', 'lock-victim-2', 'lock-after']) {
      const x = await loginOf(oa, user);
      assertOk(x.r, `${user} once the lock is gone`);
      assert.equal((await rowsOf(oa, x.openid)).length, 1, `${user}: one row`);
    }
    assert.equal(oa.proc.pid, pid, 'the same process');
    assert.equal(oa.proc.exitCode, null, 'still running');
    assertOk(await oa.info(token), 'the token of before');
    await assertDatabaseIntact(oa, 'after the lock');
  });

  test('the disk is full (RLIMIT_FSIZE): 502, the server stays up, then recovers without a restart', async () => {
    const oa = await freshMeetoa();
    const token = (await loginOf(oa, 'full-before')).r.data.token;
    const pid = oa.proc.pid;
    // Just above what the database files hold now: the next few commits cannot be written.
    const limit = Math.max(sizeOf(oa.dbPath), sizeOf(`${oa.dbPath}-wal`), sizeOf(`${oa.dbPath}-shm`)) + 16 * 1024;
    await setFileSizeLimit(pid, limit);
    let lifted = false;
    const failed = [];
    try {
      for (let i = 0; i < 200 && failed.length < 3; i++) {
        const x = await loginOf(oa, `full-${i}`);
        assert.equal(x.error, undefined, `full-${i}: the request must be answered (${x.error?.message})`);
        if (x.r.errno !== 0) {
          assertErr(x.r, 502, `full-${i} with the disk full`);
          failed.push(x);
        }
      }
      assert.equal(failed.length, 3, 'logins fail once the files cannot grow');
      assert.equal(oa.proc.exitCode, null, 'still running (SIGXFSZ is ignored)');
      assert.equal(oa.proc.signalCode, null, 'not killed');
      assertOk(await oa.info(token), 'a read while writes fail');
      const notFound = await send(oa.base, 'GET', '/wx/no-such-endpoint');
      assert.equal(notFound.errno, 404, 'other requests are answered');
      assert.match(oa.logs(), /\bERROR\b.*not stored.*database file I\/O failed/, 'the failed writes are logged as such');
      await setFileSizeLimit(pid, 'unlimited');
      lifted = true;
    } finally {
      if (!lifted) await setFileSizeLimit(pid, 'unlimited');
    }
    // A login is one transaction: a failed one left no wx_user row behind. Writes work again
    // in the same process; the failed users log in with fresh codes and end with one row each.
    for (const x of failed) assert.deepEqual(await rowsOf(oa, x.openid), [], `${x.user}: no wx_user row for the failed login`);
    for (const x of [...failed, { user: 'full-after' }]) {
      const again = await loginOf(oa, x.user);
      assertOk(again.r, `${x.user} once the disk has room`);
      const rows = await rowsOf(oa, again.openid);
      assert.equal(rows.length, 1, `${x.user}: one row`);
      assertOk(await oa.info(again.r.data.token), `${x.user}: the new token`);
    }
    assert.equal(oa.proc.pid, pid, 'the same process');
    await assertDatabaseIntact(oa, 'after the disk was full');
    // And it survives a restart on that database.
    const next = await restarted(oa);
    assertOk(await next.info(token), 'the token of before, after a restart');
    await assertDatabaseIntact(next, 'after a restart');
  });
});
