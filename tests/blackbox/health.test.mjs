// health.test.mjs — GET /healthz and GET /readyz (src/health/health_api.h, docs/api.md "Health").
//
// On both backends (the harness's database):
//   - /healthz answers 200 {"status":"ok"} and /readyz 200 with every check "ok", without a
//     token, as JSON, never cached; another method is 405;
//   - WeChat unobtainable (wxemu refuses every stable_token call): /readyz 503 names "wechat"
//     with WeChat's errcode, /healthz stays 200; a burst of checks does not become a burst of
//     token fetches; ready again once WeChat gives a token;
//   - a migration missing from schema_version: /readyz 503 names "migrations"; ready again when
//     it is back.
// On MariaDB (a private mariadbd of this suite, since it is killed and frozen on purpose):
//   - killed: /readyz 503 names "database" (and "migrations" unknown) and answers quickly,
//     /healthz stays 200; ready again after the server is back;
//   - frozen (SIGSTOP: connections open, no answers): /readyz answers 503 "no answer within
//     1000 ms" within its timeout (the loop never waits for the database), /healthz stays 200 meanwhile;
//     once more checks than HEALTH_DB_JOBS_MAX are late, the next answers "busy" without queueing;
//     ready again after SIGCONT. meetoa exits 0 with no sanitizer report.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { startMeetoa, send, eventually, newSecret, APP_ID, DB_DIALECT } from './lib/meetoa.mjs';
import { startWxemu, STABLE_TOKEN } from './lib/wxemu.mjs';
import { startMariadb, meetoaDatasource } from './lib/mariadb.mjs';

const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
const READY_TIMEOUT_MS = 1000; // HEALTH_READY_TIMEOUT_MS
const ANSWER_BOUND_MS = READY_TIMEOUT_MS + 2500; // the timeout, plus a slow (sanitized) machine's margin

let wx, appSecret;

before(async () => {
  appSecret = newSecret();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
});

after(async () => {
  await wx?.stop();
});

async function timed(fn) {
  const t0 = Date.now();
  const r = await fn();
  r.ms = Date.now() - t0;
  return r;
}

function assertHealthy(r) {
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'ok' });
}

function assertReady(r) {
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.deepEqual(r.json, { status: 'ready', checks: { database: 'ok', migrations: 'ok', wechat: 'ok' } });
}

/** A 503 whose failed list is exactly `failed`; returns the checks. */
function assertNotReady(r, failed) {
  assert.equal(r.status, 503, r.text);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.json.status, 'not ready', r.text);
  assert.deepEqual(r.json.failed, failed, r.text);
  for (const name of ['database', 'migrations', 'wechat'])
    assert.equal(r.json.checks[name] === 'ok', !failed.includes(name), `${name}: ${r.text}`);
  return r.json.checks;
}

async function stopClean(oa) {
  const exit = await oa.stop();
  assert.equal(exit.code, 0, oa.logs());
  assert.doesNotMatch(oa.logs(), SANITIZER_REPORT);
}

test('healthz and readyz answer without a token, as JSON, not under /wx/', async () => {
  const oa = await startMeetoa({ wxemu: wx, appSecret });
  try {
    const h = await oa.get('/healthz');
    assertHealthy(h);
    assert.match(h.headers.get('content-type'), /^application\/json/);
    assert.equal(h.headers.get('cache-control'), 'no-store');
    assertReady(await oa.get('/readyz'));
    // with a bad token too: no token check there
    assertReady(await oa.get('/readyz', { 'X-OA-Token': 'x'.repeat(43) }));
    const post = await oa.post('/healthz', {});
    assert.equal(post.status, 405);
    assert.equal((await oa.get('/wx/healthz')).status, 404);
  } finally {
    await stopClean(oa);
  }
});

test('readyz names wechat while no access_token can be got, healthz stays 200, and recovers', async () => {
  await wx.faults({});
  await wx.faults({ path: STABLE_TOKEN, errcode: 40164, count: 100000 }); // "invalid ip, not in whitelist"
  const oa = await startMeetoa({ wxemu: wx, appSecret });
  try {
    const r = await oa.get('/readyz');
    const checks = assertNotReady(r, ['wechat']);
    assert.equal(checks.wechat, 'no access_token: errcode 40164');
    assertHealthy(await oa.get('/healthz'));

    // A burst of checks shares the token fetches: far fewer fetches than checks.
    const before = (await wx.stats())[STABLE_TOKEN];
    const burst = await Promise.all(Array.from({ length: 30 }, () => oa.get('/readyz')));
    for (const b of burst) assert.equal(assertNotReady(b, ['wechat']).wechat, 'no access_token: errcode 40164');
    const fetched = (await wx.stats())[STABLE_TOKEN] - before;
    assert.ok(fetched < 10, `30 checks made ${fetched} token fetches`);

    await wx.faults({});
    const back = await eventually(async () => {
      const x = await oa.get('/readyz');
      return x.status === 200 ? x : null;
    }, 10000);
    assert.ok(back, 'readyz did not recover after WeChat came back');
    assertReady(back);
    assert.doesNotMatch(oa.logs(), new RegExp(appSecret));
  } finally {
    await wx.faults({});
    await stopClean(oa);
  }
});

test('readyz names migrations while a step is missing from schema_version', async () => {
  const oa = await startMeetoa({ wxemu: wx, appSecret });
  try {
    assertReady(await oa.get('/readyz'));
    const [[latest]] = await oa.sql('SELECT max(version) FROM schema_version;');
    const [[appliedAt]] = await oa.sql(`SELECT applied_at FROM schema_version WHERE version = ${latest};`);
    await oa.sql(`DELETE FROM schema_version WHERE version = ${latest};`);
    const checks = assertNotReady(await oa.get('/readyz'), ['migrations']);
    assert.equal(checks.migrations, `pending: database at ${latest - 1}, this binary needs ${latest}`);
    assertHealthy(await oa.get('/healthz'));
    await oa.sql(`INSERT INTO schema_version (version, applied_at) VALUES (${latest}, '${appliedAt}');`);
    assertReady(await oa.get('/readyz'));
  } finally {
    await stopClean(oa);
  }
});

if (DB_DIALECT === 'mysql') {
  test('MariaDB killed and frozen: readyz 503 within its timeout, healthz 200, ready again after', async () => {
    const mariadb = await startMariadb();
    let oa;
    try {
      const db = await mariadb.createDatabase();
      const ds = meetoaDatasource(db.url);
      oa = await startMeetoa({ wxemu: wx, appSecret, env: ds.env, config: { oa: { datasource: { url: ds.url } } } });
      assertReady(await oa.get('/readyz'));

      // killed
      await mariadb.kill();
      const down = await timed(() => oa.get('/readyz'));
      const checks = assertNotReady(down, ['database', 'migrations']);
      assert.ok(['error', `no answer within ${READY_TIMEOUT_MS} ms`].includes(checks.database), down.text);
      assert.equal(checks.migrations, 'unknown');
      assert.ok(down.ms < ANSWER_BOUND_MS, `readyz took ${down.ms} ms`);
      assertHealthy(await oa.get('/healthz'));
      await mariadb.resume();
      const up = await eventually(async () => ((await oa.get('/readyz')).status === 200 ? true : null), 15000);
      assert.ok(up, 'readyz did not recover after MariaDB came back');
      assertReady(await oa.get('/readyz'));

      // frozen: the connections stay open, nothing answers
      const pid = Number(readFileSync(path.join(mariadb.dir, 'server.pid'), 'utf8').trim());
      process.kill(pid, 'SIGSTOP');
      try {
        const checksDuring = await Promise.all(
          Array.from({ length: 6 }, () => timed(() => oa.get('/readyz'))),
        );
        const health = await timed(() => oa.get('/healthz'));
        assertHealthy(health);
        assert.ok(health.ms < 1000, `healthz took ${health.ms} ms while the database hung`);
        const late = `no answer within ${READY_TIMEOUT_MS} ms`;
        for (const r of checksDuring) {
          assert.equal(assertNotReady(r, ['database', 'migrations']).database, late);
          assert.ok(r.ms < ANSWER_BOUND_MS, `readyz took ${r.ms} ms`);
        }
        // 6 late jobs (more than HEALTH_DB_JOBS_MAX): the next check queues none and says so
        const busy = await timed(() => oa.get('/readyz'));
        assert.equal(assertNotReady(busy, ['database', 'migrations']).database, 'busy: earlier checks still waiting');
        assert.ok(busy.ms < READY_TIMEOUT_MS, `a busy readyz took ${busy.ms} ms`);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const thawed = await eventually(async () => ((await oa.get('/readyz')).status === 200 ? true : null), 15000);
      assert.ok(thawed, 'readyz did not recover after MariaDB was resumed');
      await stopClean(oa);
      oa = undefined;
    } finally {
      await oa?.stop();
      await mariadb.stop();
    }
  });
}
