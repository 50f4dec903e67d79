// single_flight.test.mjs — checks of one token whose cache entry went stale share one database
// read (auth/session_cache.h: single-flight reads): the others wait for it and are answered from
// it, and none of that undoes a logout. Counted by meetoa_session_cache_lookups_total:
// revalidate (a read of a stale entry) and joined (answered by a read under way).
//   - both backends: N concurrent checks of a stale token all answer the user; each was counted
//     once: as a read, as joining one, or as a hit (after the read was back).
//   - SQLite: the read held open (another process holds the write lock, so the read's recording
//     of the last use waits): N checks that come meanwhile make no read of their own; a
//     logout_all of the user (from another, fresh session) while the read is under way is not
//     undone by it.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { startWorld, DB_DIALECT, assertOk, assertErr, eventually, holdWriteLock } from './lib/meetoa.mjs';

const CACHE_SECONDS = 2;
const N = 12;
let world, oa, mport;

before(async () => {
  world = await startWorld({
    meetoa: { config: { management: { server: { port: 0 } }, oa: { token: { 'cache-seconds': CACHE_SECONDS } } } },
  });
  ({ oa } = world);
  const m = /management endpoint GET \/metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(oa.logs());
  assert.ok(m, `no management line in:\n${oa.logs()}`);
  mport = Number(m[1]);
});

after(async () => {
  await world?.stop();
});

/** The lookups counted under result (0 when none yet). */
async function lookups(result) {
  const text = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
  const series = `meetoa_session_cache_lookups_total{result="${result}"} `;
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.slice(series.length));
}

/** Reads of the database by token checks (a stale entry's, or a missing one's: the sweep may have
 * dropped it) and checks that joined a read under way. */
async function counts() {
  return {
    reads: (await lookups('revalidate')) + (await lookups('miss')),
    joined: await lookups('joined'),
    hits: await lookups('hit'),
  };
}

/** Waits until the cache entries confirmed now are too old to answer (the cache's whole-second clock). */
async function untilStale() {
  await sleep(CACHE_SECONDS * 1000 + 1100);
}

async function loginOf(user) {
  const r = await oa.login(user);
  assertOk(r, `login of ${user}`);
  return { token: r.data.token };
}

test('concurrent checks of a stale token all answer, each counted once as a read, joining one or a hit', async () => {
  const { token } = await loginOf('flight-both');
  const nickname = (await oa.info(token)).data.nickName;
  await untilStale();
  const before = await counts();
  const answers = await Promise.all(Array.from({ length: N }, () => oa.info(token)));
  for (const r of answers) {
    assertOk(r, 'a check of the stale token');
    assert.equal(r.data.nickName, nickname);
  }
  const after = await counts();
  const reads = after.reads - before.reads;
  const joined = after.joined - before.joined;
  const hits = after.hits - before.hits; // came after the read was back
  assert.ok(reads >= 1, 'the stale entry was read again');
  assert.equal(reads + joined + hits, N, `every check counted once (${reads} reads, ${joined} joined, ${hits} hits)`);
});

if (DB_DIALECT === 'sqlite')
  test('SQLite: checks that come while the read is under way wait for it; a logout_all meanwhile is not undone', async () => {
    const { token } = await loginOf('flight-held');
    assertOk(await oa.info(token), 'info before');
    // The read records the session's last use when it is a minute old: it writes, and waits for the lock.
    await oa.sql('UPDATE wx_session SET last_used_at = 0');
    await untilStale();
    const { token: fresh } = await loginOf('flight-held'); // another session of the user, in the cache now
    const before = await counts();
    const lock = await holdWriteLock(oa.dbPath);
    let released = false;
    try {
      const first = oa.info(token);
      assert.ok(
        await eventually(async () => (await counts()).reads === before.reads + 1, 10000, 20),
        'the first check reads the stale entry',
      );
      const rest = Array.from({ length: N }, () => oa.info(token));
      assert.ok(
        await eventually(async () => (await lookups('joined')) === before.joined + N, 10000, 20),
        `the ${N} checks that came meanwhile wait for that read`,
      );
      const logoutAll = oa.post('/wx/auth/logout_all', undefined, { 'X-OA-Token': fresh });
      await lock.release();
      released = true;
      for (const r of await Promise.all([first, ...rest])) assertOk(r, 'a check answered from the shared read');
      assertOk(await logoutAll, 'logout_all');
      const after = await counts();
      assert.equal(after.reads - before.reads, 1, 'one database read for all of them');
    } finally {
      if (!released) await lock.release();
    }
    assertErr(await oa.info(token), 501, 'the session ended by logout_all (the read did not put it back)');
    assertErr(await oa.info(fresh), 501, 'the other session too');
  });
