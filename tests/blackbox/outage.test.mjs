// outage.test.mjs — MeetOA on MariaDB when the database goes away and comes back, and when
// the database's schema is newer or older than the binary.
//
// A private mariadbd (scripts/mariadb.sh, this file's alone: it is SIGKILLed on purpose) and
// one meetoa on it. While three clients log in in a loop, the server is killed, left down for
// about 2 s, and resumed on the same data and port, without touching meetoa:
//   - while it is down, logins and token checks that need the database answer 502 quickly
//     (within the 5 s connect timeout + a margin: no hang), and meetoa logs an error line;
//   - afterwards logins succeed again within seconds, meetoa never crashed (SIGTERM exits 0,
//     no sanitizer report);
//   - no acknowledged login is lost: each one's token works and its user has exactly one row.
// Then: a database whose schema_version is newer than the binary is refused by `serve` and
// `migrate` with a clear message; a version-1 database (built with step 1's own SQL, read from
// src/store/migrations.c, as an older meetoa left it) is upgraded in place by `meetoa migrate`,
// its rows kept.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  startMeetoa,
  runMeetoa,
  defaultConfig,
  mergeConfig,
  toYaml,
  assertOk,
  assertErr,
  newSecret,
  newDataKey,
  sqlText,
  APP_ID,
  TOKEN_RE,
} from './lib/meetoa.mjs';
import { startWxemu } from './lib/wxemu.mjs';
import { startMariadb, meetoaDatasource, mysqlMigrationSql } from './lib/mariadb.mjs';

const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
const MAX_ANSWER_MS = 7000; // the store's 5 s connect timeout + 2 s
const CLIENTS = 3;
const USERS_PER_CLIENT = 4; // each client cycles through its users: first and returning logins

let wx, appSecret, dataKey, mariadb, db, ds, oa;
const scratch = []; // temp folders of hand-written configs

before(async () => {
  appSecret = newSecret();
  dataKey = newDataKey();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
  mariadb = await startMariadb();
  db = await mariadb.createDatabase();
  ds = meetoaDatasource(db.url);
  oa = await startMeetoa({ wxemu: wx, appSecret, dataKey, env: ds.env, config: { oa: { datasource: { url: ds.url } } } });
});

after(async () => {
  try {
    await oa?.stop();
    await wx?.stop();
  } finally {
    await mariadb?.stop(); // also when a test failed with the server killed
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  }
});

/** One login through oa with a fresh code of `user`: {user, openid, t0, t1, ms, status, errno, token}. */
async function timedLogin(user) {
  const l = await wx.newLogin(APP_ID, user);
  const t0 = Date.now();
  const r = await oa.loginWithCode(l.code);
  const t1 = Date.now();
  return { user, openid: l.openid, t0, t1, ms: t1 - t0, status: r.status, errno: r.errno, token: r.data?.token, text: r.text };
}

/** One token check, timed: {t0, t1, ms, r}. */
async function timedInfo(token) {
  const t0 = Date.now();
  const r = await oa.info(token);
  return { t0, t1: Date.now(), ms: Date.now() - t0, r };
}

function describeLogin(x) {
  return `${x.user} at +${x.t0} (${x.ms} ms): HTTP ${x.status} ${x.text.slice(0, 200)}`;
}

test('logins under load while MariaDB is killed and resumed: 502 fast, no crash, recovery, nothing lost', async (t) => {
  // A token this process has never seen (issued by a second process on the same database),
  // so checking it needs the database.
  const helper = await startMeetoa({ wxemu: wx, appSecret, dataKey, env: ds.env, config: { oa: { datasource: { url: ds.url } } } });
  let outsider;
  try {
    outsider = await helper.loginOk('outage-outsider');
  } finally {
    const exit = await helper.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, 'the helper process stops cleanly');
  }

  const records = [];
  let stopAt = Infinity;
  const T0 = Date.now();
  const client = async (c) => {
    for (let i = 0; Date.now() < stopAt; i++) {
      const x = await timedLogin(`outage-c${c}-u${i % USERS_PER_CLIENT}`);
      x.client = c;
      x.t0 -= T0;
      x.t1 -= T0;
      records.push(x);
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));

  // ~1.5 s of normal service, then the crash.
  await sleep(1500);
  const killStart = Date.now() - T0;
  await mariadb.kill();
  const killDone = Date.now() - T0;

  // Down: token checks that need the database answer 502, quickly.
  const downChecks = [
    ['a valid token this process never cached', await timedInfo(outsider)],
    ['an unknown well-formed token', await timedInfo(randomBytes(32).toString('base64url'))],
  ];
  for (const [what, x] of downChecks) {
    assertErr(x.r, 502, `info with ${what} while the database is down`);
    assert.ok(x.ms < MAX_ANSWER_MS, `info with ${what} answered after ${x.ms} ms; limit ${MAX_ANSWER_MS}`);
  }

  await sleep(2000);
  const resumeStart = Date.now() - T0;
  await mariadb.resume();
  const resumeDone = Date.now() - T0;
  await sleep(3000); // logins go on against the resumed server
  stopAt = Date.now();
  await Promise.all(clients);
  t.diagnostic(
    `${records.length} logins; kill at +${killStart}..${killDone} ms, resume at +${resumeStart}..${resumeDone} ms; ` +
      `answers: ${JSON.stringify(records.reduce((m, x) => ({ ...m, [x.errno]: (m[x.errno] ?? 0) + 1 }), {}))}; ` +
      `slowest ${Math.max(...records.map((x) => x.ms))} ms`,
  );

  // Every answer is a success or a server fault, never a hang or anything else.
  for (const x of records) {
    assert.equal(x.status, 200, `HTTP status of ${describeLogin(x)}`);
    assert.ok(x.errno === 0 || x.errno === 502, `errno 0 or 502: ${describeLogin(x)}`);
    assert.ok(x.ms < MAX_ANSWER_MS, `answered within ${MAX_ANSWER_MS} ms: ${describeLogin(x)}`);
    if (x.errno === 0) assert.match(x.token ?? '', TOKEN_RE, `a token: ${describeLogin(x)}`);
    else assert.equal(x.token, undefined, `no token with a 502: ${describeLogin(x)}`);
  }
  const before = records.filter((x) => x.t1 < killStart);
  const down = records.filter((x) => x.t0 > killDone && x.t1 < resumeStart);
  const afterResume = records.filter((x) => x.t0 > resumeDone);
  assert.ok(before.some((x) => x.errno === 0), 'logins succeeded before the crash');
  assert.ok(down.length >= CLIENTS, `logins were sent while the database was down (${down.length})`);
  for (const x of down) assert.equal(x.errno, 502, `a login while the database is down: ${describeLogin(x)}`);

  // Recovery without restarting meetoa: within a few seconds, and for good. Each of the pool's
  // connections may fail one more request (it finds its connection dropped, then reconnects).
  const firstOk = afterResume.find((x) => x.errno === 0);
  assert.ok(firstOk, `a login succeeded after the resume; got ${afterResume.map(describeLogin).join('\n')}`);
  assert.ok(firstOk.t1 - resumeDone < 3000, `first success ${firstOk.t1 - resumeDone} ms after the resume`);
  const failuresAfter = afterResume.filter((x) => x.t0 > firstOk.t1 && x.errno !== 0);
  assert.ok(failuresAfter.length <= 4, `at most one failure per pooled connection after recovery; got ${failuresAfter.map(describeLogin).join('\n')}`);
  for (let c = 0; c < CLIENTS; c++) {
    const last = records.filter((x) => x.client === c).at(-1);
    assert.equal(last.errno, 0, `the last login of client ${c} succeeded: ${describeLogin(last)}`);
  }

  // meetoa said what happened, at error level, without the password; and it is still up.
  const logs = oa.logs();
  const errorLines = logs.split('\n').filter((l) => /\bERROR\b.*database unavailable/.test(l));
  assert.ok(errorLines.length > 0, 'an error line names the unavailable database');
  t.diagnostic(`${errorLines.length} error lines, e.g.: ${errorLines[0]} | ${errorLines.at(-1)}`);
  assert.ok(!logs.includes(ds.env.MEETOA_DB_PASSWORD), 'the database password is not logged');
  assert.equal(oa.proc.exitCode, null, 'meetoa is still running');
  assert.equal(oa.proc.signalCode, null, 'meetoa was not killed by a signal');

  // Nothing acknowledged was lost: every token works, every user has exactly one row.
  assertOk(await oa.info(outsider), 'the token issued before the crash by another process');
  const acked = records.filter((x) => x.errno === 0);
  for (const x of acked) assertOk(await oa.info(x.token), `token of the acknowledged login ${describeLogin(x)}`);
  const ackedOpenids = new Set(acked.map((x) => x.openid));
  const triedOpenids = new Set(records.map((x) => x.openid));
  const rows = await db.sql(`SELECT weixin_openid, count(*) FROM wx_user GROUP BY weixin_openid;`);
  const counted = new Map(rows.map(([openid, n]) => [openid, Number(n)]));
  for (const openid of ackedOpenids) assert.equal(counted.get(openid), 1, `one wx_user row for acknowledged user ${openid}`);
  for (const [openid, n] of counted) assert.equal(n, 1, `one row per openid (${openid})`);
  const loadRows = [...counted.keys()].filter((o) => triedOpenids.has(o)).length;
  assert.ok(loadRows >= ackedOpenids.size && loadRows <= triedOpenids.size, `rows of the load's users: ${loadRows}`);
  const sessions = await db.sql(`SELECT count(*) FROM wx_session;`);
  assert.ok(Number(sessions[0][0]) >= acked.length + 1, `a session row per acknowledged login; got ${sessions[0][0]}`);
});

/** [['1'], ['2'], ... [String(n)]]: the rows of versions 1..n. */
function oneTo(n) {
  return Array.from({ length: n }, (_, i) => [String(i + 1)]);
}

/** A config file for `meetoa` on database `url` (password through env), in a scratch folder. */
function writeConfig(url) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-outage-'));
  scratch.push(dir);
  const config = mergeConfig(defaultConfig({ wxBase: wx.base, appSecret, dataKey, dbPath: path.join(dir, 'unused.db') }), {
    oa: { datasource: { url } },
  });
  const file = path.join(dir, 'application.yml');
  writeFileSync(file, toYaml(config));
  return file;
}

test('a database newer than this meetoa is refused by serve and migrate, and left alone', async () => {
  const newer = await mariadb.createDatabase();
  const nds = meetoaDatasource(newer.url);
  const config = writeConfig(nds.url);
  const first = await runMeetoa(['migrate', '--config', config], { env: nds.env });
  assert.equal(first.code, 0, `migrate of a fresh database: ${first.stderr}`);
  const m = /database schema migrated from version 0 to (\d+)/.exec(first.stdout);
  assert.ok(m, `migrate says what it did: ${first.stdout}`);
  const latest = Number(m[1]);
  assert.deepEqual(await newer.sql('SELECT max(version) FROM schema_version;'), [[String(latest)]]);

  await newer.sql(`INSERT INTO schema_version (version, applied_at) VALUES (${latest + 1}, NOW());`);
  const message = `database schema version ${latest + 1} is newer than this meetoa (${latest}); upgrade meetoa`;
  for (const command of ['serve', 'migrate']) {
    const r = await runMeetoa([command, '--config', config], { env: nds.env, timeoutMs: 20000 });
    assert.equal(r.signal, null, `meetoa ${command} exits by itself (took ${r.ms} ms)`);
    assert.equal(r.code, 1, `meetoa ${command} on a newer database fails; stdout ${r.stdout}, stderr ${r.stderr}`);
    assert.ok(r.stderr.includes(message), `meetoa ${command} says why: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /listening on/, `meetoa ${command} never listened`);
    assert.ok(!r.stderr.includes(nds.env.MEETOA_DB_PASSWORD), 'no password in the message');
    assert.doesNotMatch(r.stderr, SANITIZER_REPORT);
  }
  const versions = await newer.sql('SELECT version FROM schema_version ORDER BY version;');
  assert.deepEqual(versions, oneTo(latest + 1), 'versions untouched');
});

test('meetoa migrate upgrades a version-1 database in place, keeping its rows', async () => {
  const old = await mariadb.createDatabase();
  const ods = meetoaDatasource(old.url);
  // What a meetoa of schema version 1 left behind: the same SQL, step 1 only, and a user.
  const { bootstrap, steps } = await mysqlMigrationSql(1);
  const v1 = [bootstrap, ...steps[0]].map((s) => s + ';').join('\n');
  const l = await wx.newLogin(APP_ID, 'outage-oldtimer');
  await old.sql(
    `${v1}\nINSERT INTO schema_version (version, applied_at) VALUES (1, NOW());\n` +
      `INSERT INTO wx_user (username, nickname, mobile, gender, weixin_openid, status, add_time, update_time) VALUES ` +
      `(${sqlText(l.openid)}, 'Old Timer 🕰️', '13800138000', 1, ${sqlText(l.openid)}, 0, '2020-01-02 03:04:05', '2020-01-02 03:04:05');`,
  );
  assert.deepEqual(await old.sql("SHOW COLUMNS FROM wx_user LIKE 'unionid';"), [], 'a v1 table has no unionid');
  assert.deepEqual(await old.sql("SHOW TABLES LIKE 'wx_session';"), [], 'a v1 database has no wx_session');
  const [[id]] = await old.sql(`SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(l.openid)};`);

  const config = writeConfig(ods.url);
  const up = await runMeetoa(['migrate', '--config', config], { env: ods.env });
  assert.equal(up.code, 0, `migrate: ${up.stderr}`);
  const m = /database schema migrated from version 1 to (\d+)/.exec(up.stdout);
  assert.ok(m && Number(m[1]) >= 2, `migrate says it upgraded from version 1: ${up.stdout}`);
  const latest = Number(m[1]);
  assert.deepEqual(await old.sql('SELECT version FROM schema_version ORDER BY version;'), oneTo(latest), 'one row per step');
  assert.equal((await old.sql("SHOW COLUMNS FROM wx_user LIKE 'unionid';")).length, 1, 'unionid added');
  assert.deepEqual(await old.sql("SHOW TABLES LIKE 'wx_session';"), [['wx_session']], 'wx_session created');
  assert.deepEqual(
    await old.sql(`SELECT id, nickname, mobile, add_time, unionid FROM wx_user WHERE weixin_openid = ${sqlText(l.openid)};`),
    [[id, 'Old Timer 🕰️', '13800138000', '2020-01-02 03:04:05', '']],
    'the row is kept (unionid defaults to empty)',
  );
  const again = await runMeetoa(['migrate', '--config', config], { env: ods.env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`database schema is up to date \\(version ${latest}\\)`));

  // The upgraded database serves: the old user logs in and keeps its profile and id.
  const server = await startMeetoa({ wxemu: wx, appSecret, dataKey, env: ods.env, config: { oa: { datasource: { url: ods.url } } } });
  try {
    const r = await server.loginWithCode(l.code);
    assertOk(r, 'login of the user of the old database');
    const i = await server.info(r.data.token);
    assertOk(i);
    assert.equal(i.data.nickName, 'Old Timer 🕰️');
    assert.equal(i.data.mobile, '13800138000');
    assert.deepEqual(await old.sql(`SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(l.openid)};`), [[id]], 'same row');
  } finally {
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.doesNotMatch(server.logs(), SANITIZER_REPORT);
  }
});

test('meetoa outlived the outage: SIGTERM exits 0 without a sanitizer report', async () => {
  assertOk(await oa.info(await oa.loginOk('outage-last')), 'still serving');
  const exit = await oa.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, `exit status; log tail:\n${oa.logs().slice(-2000)}`);
  assert.doesNotMatch(oa.logs(), SANITIZER_REPORT, 'no sanitizer report');
});
