// instances.test.mjs — several meetoa processes on one database (README "Running several
// instances"): a token issued by one works on the others, a logout or a ban made through
// one process (or straight in the database) is refused by every process within
// oa.token.cache-seconds, and concurrent first logins of one openid through different
// processes make exactly one wx_user row.
//
// On MariaDB (a private mariadbd started for this file alone: scripts/mariadb.sh) with two
// pairs of processes, one with the default cache-seconds (5) and one with 1, to show that the
// bound follows the setting; and on SQLite, two processes on one database file (WAL).
// All processes of a pair share one wxemu, one app secret and one data key, and the pair's
// database. The bound is measured: a process must refuse no later than cache-seconds + 1 s
// after the change (the +1 s covers the cache's whole-second clock and the polling).

import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { startMeetoa, sqlite, assertOk, assertErr, newSecret, newDataKey, sqlText, APP_ID, TOKEN_RE } from './lib/meetoa.mjs';
import { startWxemu } from './lib/wxemu.mjs';
import { startMariadb, meetoaDatasource } from './lib/mariadb.mjs';
import { meetingBody, ok, organization } from './lib/org.mjs';

const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
const POLL_MS = 50;

let wx, appSecret, dataKey, mariadb;
const processes = []; // meetoa processes running, stopped (and checked) by stopAll()

before(async () => {
  appSecret = newSecret();
  dataKey = newDataKey();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
  mariadb = await startMariadb();
});

/** Stops every process started so far (SIGTERM); asserts exit 0 and no sanitizer report. */
async function stopAll() {
  const problems = [];
  while (processes.length > 0) {
    const p = processes.pop();
    const exit = await p.stop();
    if (exit.code !== 0 || exit.signal !== null) problems.push(`meetoa on port ${p.port} exited ${JSON.stringify(exit)}`);
    if (SANITIZER_REPORT.test(p.logs())) problems.push(`meetoa on port ${p.port} logged a sanitizer report:\n${p.logs()}`);
  }
  assert.deepEqual(problems, [], 'every meetoa stops with exit 0 on SIGTERM, without a sanitizer report');
}

after(async () => {
  try {
    await stopAll();
  } finally {
    await wx?.stop();
    await mariadb?.stop();
  }
});

/** Two meetoa processes on one database, same app secret and data key, different ports. */
async function startPair({ url, env, cacheSeconds }) {
  const opts = {
    wxemu: wx,
    appSecret,
    dataKey,
    env,
    config: { oa: { datasource: { url }, token: { 'cache-seconds': cacheSeconds } } },
  };
  const a = await startMeetoa(opts);
  processes.push(a);
  const b = await startMeetoa(opts); // after a: a has migrated the database
  processes.push(b);
  assert.notEqual(a.port, b.port, 'the two processes listen on different ports');
  return [a, b];
}

/** A wxemu user's code and openid. */
async function newLogin(user) {
  const l = await wx.newLogin(APP_ID, user);
  assert.match(l.openid, /^[A-Za-z0-9_-]+$/, `openid of ${user}`);
  return l;
}

async function loginVia(oa, user) {
  const l = await newLogin(user);
  const r = await oa.loginWithCode(l.code);
  assertOk(r, `login of ${user} through port ${oa.port}`);
  assert.match(r.data.token, TOKEN_RE);
  return { token: r.data.token, openid: l.openid };
}

/**
 * Polls `check()` (an info/logout answer) every POLL_MS until its errno is not 0 or
 * limitMs passed; returns {r, ms} with ms counted from `since`.
 */
async function pollUntilRefused(check, since, limitMs) {
  for (;;) {
    const r = await check();
    const ms = Date.now() - since;
    if (r.errno !== 0 || ms > limitMs) return { r, ms };
    await sleep(POLL_MS);
  }
}

/** The token checks both ways, and the same user seen by both processes. */
async function checkSharing(a, b, label) {
  const fromA = await loginVia(a, `${label}-shared-a`);
  const fromB = await loginVia(b, `${label}-shared-b`);
  const onB = await b.info(fromA.token);
  assertOk(onB, 'a token issued by A, on B');
  const onA = await a.info(fromB.token);
  assertOk(onA, 'a token issued by B, on A');
  assert.deepEqual(onB.data, (await a.info(fromA.token)).data, "B sees the same user as A for A's token");
  assert.deepEqual(onA.data, (await b.info(fromB.token)).data, "A sees the same user as B for B's token");
  assert.notEqual(onA.data.unionId, onB.data.unionId, 'two different users');
}

/**
 * Logout through `doer`: `doer` refuses the token at once, `other` (which accepted it right
 * before, so had it cached) within cacheSeconds + 1 s. Returns the measured delay in ms.
 */
async function checkLogoutBound(doer, other, cacheSeconds, user) {
  const { token } = await loginVia(doer, user);
  assertOk(await other.info(token), 'the other process accepts the token right before the logout (now cached there)');
  const t0 = Date.now();
  assertOk(await doer.logout(token), 'logout');
  assertErr(await doer.info(token), 501, 'the process that logged out refuses the token at once');
  const limit = (cacheSeconds + 1) * 1000;
  const { r, ms } = await pollUntilRefused(() => other.info(token), t0, limit + 2000);
  assertErr(r, 501, `the other process refuses the logged-out token (after ${ms} ms)`);
  assert.ok(ms <= limit, `the other process refused the logged-out token after ${ms} ms; bound ${limit} ms (cache-seconds ${cacheSeconds} + 1 s)`);
  assertErr(await doer.info(token), 501, 'still refused where it was logged out');
  return ms;
}

/**
 * A user with live tokens cached in both processes is disabled by `ban(openid)` (the CLI or
 * an UPDATE, from outside both processes): both refuse it with 720 within cacheSeconds + 1 s;
 * a new login is refused at once. Returns the slowest measured delay in ms.
 */
async function checkBanBound(a, b, cacheSeconds, user, ban) {
  const viaA = await loginVia(a, user); // cached in A by the login
  const l = await newLogin(user);
  const rB = await b.loginWithCode(l.code);
  assertOk(rB, 'second login through B');
  const viaB = { token: rB.data.token };
  const pairs = [
    [a, viaA.token, 'A, token of A'],
    [a, viaB.token, 'A, token of B'],
    [b, viaA.token, 'B, token of A'],
    [b, viaB.token, 'B, token of B'],
  ];
  for (const [p, token, what] of pairs) assertOk(await p.info(token), `${what}: accepted before the ban (now cached)`);

  await ban(viaA.openid);
  const t0 = Date.now();
  const limit = (cacheSeconds + 1) * 1000;
  const results = await Promise.all(pairs.map(([p, token]) => pollUntilRefused(() => p.info(token), t0, limit + 2000)));
  let slowest = 0;
  results.forEach(({ r, ms }, i) => {
    assertErr(r, 720, `${pairs[i][2]}: refused as disabled (after ${ms} ms)`);
    assert.ok(ms <= limit, `${pairs[i][2]}: refused after ${ms} ms; bound ${limit} ms (cache-seconds ${cacheSeconds} + 1 s)`);
    slowest = Math.max(slowest, ms);
  });
  for (const p of [a, b]) {
    const again = await p.loginWithCode((await newLogin(user)).code);
    assertErr(again, 720, `a new login of the disabled user through port ${p.port}`);
  }
  return slowest;
}

/** 10 codes of one new user, half through each process, all at once: one wx_user row. */
async function checkConcurrentFirstLogin(a, b, sql, user) {
  const logins = [];
  for (let i = 0; i < 10; i++) logins.push(await newLogin(user));
  const openid = logins[0].openid;
  for (const l of logins) assert.equal(l.openid, openid, 'wxemu gives one openid per user');
  assert.deepEqual(await sql(`SELECT count(*) FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`), [['0']], 'a new user');

  const answers = await Promise.all(logins.map((l, i) => (i % 2 === 0 ? a : b).loginWithCode(l.code)));
  answers.forEach((r, i) => assertOk(r, `concurrent first login ${i} through ${i % 2 === 0 ? 'A' : 'B'}`));
  const tokens = answers.map((r) => r.data.token);
  assert.equal(new Set(tokens).size, 10, 'ten different tokens');

  const rows = await sql(`SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`);
  assert.equal(rows.length, 1, `exactly one wx_user row for the openid; got ${JSON.stringify(rows)}`);
  const sessions = await sql(`SELECT count(*) FROM wx_session WHERE user_id = ${Number(rows[0][0])};`);
  assert.deepEqual(sessions, [['10']], 'one session per login, all on that row');
  const seen = new Set();
  for (const t of tokens) {
    for (const p of [a, b]) {
      const i = await p.info(t);
      assertOk(i, 'every token works on both processes');
      seen.add(i.data.unionId);
    }
  }
  assert.equal(seen.size, 1, 'every token is the same user');
}

/** person's calls through process oa (tokens are valid on every process of the database). */
function via(oa, person) {
  const header = { [oa.config.oa.token.header]: person.token };
  return { get: (p) => oa.get(p, header), post: (p, body) => oa.post(p, body, header) };
}

/**
 * Meeting-list pages are kept by the process that answered them (oa.meeting.list-cache-bytes),
 * and a cached page may be answered on the loop for a member whose list generation a worker read
 * less than oa.token.cache-seconds ago (meeting/list_cache.h): a change made through the other
 * process — an answer, a room's new name, a cancellation — is in A's pages within
 * cache-seconds (+1 s for the polling and the whole-second clocks), never later; a change made
 * through A itself is in A's very next page.
 */
async function checkListPages(a, b, label, cacheSeconds, env = {}) {
  const org = organization({ wx, oa: a }, a, { env });
  const admin = await org.admin(`${label}-管理员`);
  const host = await org.member(`${label}-主持`);
  const guest = await org.member(`${label}-参会`);
  const room = ok(await admin.post('/wx/room/create', { name: `${label} 会议室` }), 'room');
  const body = meetingBody({ location: undefined, roomId: room.id, participantIds: [guest.id] });
  const page = async (oa, view = 'upcoming') => ok(await via(oa, guest).get(`/wx/meeting/list?view=${view}&page=1&limit=20`), `${view} on ${oa.port}`);
  const bound = (cacheSeconds + 1) * 1000;
  /** Polls A's page until check(page) holds; asserts it did within the bound. */
  async function within(view, check, what) {
    const t0 = Date.now();
    for (;;) {
      const p = await page(a, view);
      if (check(p)) return Date.now() - t0;
      assert.ok(Date.now() - t0 < bound, `${what}: not in A's ${view} page within ${bound} ms: ${JSON.stringify(p.list)}`);
      await sleep(POLL_MS);
    }
  }
  const m = ok(await host.post('/wx/meeting/create', body), 'create');
  ok(await host.post('/wx/meeting/submit', { id: m.id }), 'submit');
  ok(await via(b, admin).post('/wx/meeting/approve', { id: m.id, approve: true }), 'approve through B');
  await within('upcoming', (p) => p.total === 1, 'the approval');
  for (let i = 0; i < 2; i++) { // the second read of each is the cached page
    for (const oa of [a, b]) {
      const up = await page(oa);
      assert.equal(up.total, 1);
      assert.equal(up.list[0].myAnswer, 'none');
      assert.equal((await page(oa, 'notice')).total, 1);
    }
  }
  ok(await via(b, guest).post('/wx/meeting/feedback', { id: m.id, attend: true }), 'feedback through B');
  await within('upcoming', (p) => p.list[0]?.myAnswer === 'attend', 'the answer made through B');
  await within('notice', (p) => p.total === 0, 'the answered meeting leaving notice');
  ok(await via(b, admin).post('/wx/room/update', { id: room.id, name: `${label} 大会议室` }), 'rename through B');
  await within('upcoming', (p) => p.list[0]?.roomName === `${label} 大会议室`, "the room's new name");
  // through A itself: at once (A's write epoch moved: nothing read before is trusted)
  const m2 = ok(await host.post('/wx/meeting/create', { ...body, startTime: body.endTime, endTime: meetingBody({}, { startIn: 3 * 3600e3 }).endTime }), 'create 2');
  ok(await host.post('/wx/meeting/submit', { id: m2.id }), 'submit 2');
  assert.equal((await page(a)).total, 1, 'cached in A');
  ok(await via(a, admin).post('/wx/meeting/approve', { id: m2.id, approve: true }), 'approve through A');
  assert.equal((await page(a)).total, 2, "A's next page shows A's own change");
  ok(await via(a, host).post('/wx/meeting/cancel', { id: m2.id, reason: '改期' }), 'cancel through A');
  assert.equal((await page(a)).total, 1, "A's next page shows A's own cancellation");
  ok(await via(b, host).post('/wx/meeting/cancel', { id: m.id, reason: '改期' }), 'cancel through B');
  await within('upcoming', (p) => p.total === 0 && p.list.length === 0, 'the cancellation made through B');
}

describe('two processes on one MariaDB database', () => {
  let a5, b5, a1, b1, db5, db1;

  before(async () => {
    db5 = await mariadb.createDatabase();
    db1 = await mariadb.createDatabase();
    const ds5 = meetoaDatasource(db5.url);
    const ds1 = meetoaDatasource(db1.url);
    [a5, b5] = await startPair({ url: ds5.url, env: ds5.env, cacheSeconds: 5 });
    [a1, b1] = await startPair({ url: ds1.url, env: ds1.env, cacheSeconds: 1 });
  });

  after(stopAll);

  test('a token issued by one process is accepted by the other, both ways', async () => {
    await checkSharing(a5, b5, 'my5');
    await checkSharing(a1, b1, 'my1');
  });

  test('logout: refused at once where it was made, by the other process within cache-seconds (5, and 1)', async (t) => {
    const [ms5, ms1] = await Promise.all([
      checkLogoutBound(a5, b5, 5, 'my5-logout'),
      checkLogoutBound(b1, a1, 1, 'my1-logout'), // the other way round
    ]);
    t.diagnostic(`logout seen by the other process after ${ms5} ms (cache-seconds 5), ${ms1} ms (cache-seconds 1)`);
  });

  test('a user disabled in the database is refused (720) by both processes within cache-seconds', async (t) => {
    const [ms5, ms1] = await Promise.all([
      checkBanBound(a5, b5, 5, 'my5-ban', async (openid) => {
        const r = await a5.setUserStatus(openid, 1); // `meetoa user status`, a third process
        assert.equal(r.code, 0, `meetoa user status: ${r.stderr}`);
        assert.match(r.stdout, /status 1/);
      }),
      checkBanBound(a1, b1, 1, 'my1-ban', (openid) => db1.sql(`UPDATE wx_user SET status = 1 WHERE weixin_openid = ${sqlText(openid)};`)),
    ]);
    t.diagnostic(`ban seen by both processes after at most ${ms5} ms (cache-seconds 5), ${ms1} ms (cache-seconds 1)`);
  });

  test('concurrent first logins of one openid through both processes make one wx_user row', async () => {
    await checkConcurrentFirstLogin(a5, b5, db5.sql, 'my5-crowd');
  });

  test('a meeting-list page cached by one process shows a change made through the other within cache-seconds, its own at once', async () => {
    await checkListPages(a1, b1, 'my', 1, meetoaDatasource(db1.url).env);
  });

  test('the database password is in no log line', () => {
    const { env } = meetoaDatasource(db5.url);
    for (const p of [a5, b5, a1, b1]) assert.ok(!p.logs().includes(env.MEETOA_DB_PASSWORD), `log of port ${p.port}`);
  });
});

describe('two processes on one SQLite file', () => {
  const CACHE = 2;
  let a, b, dir, dbPath;
  const sql = (query) => sqlite(dbPath, query);

  before(async () => {
    // The file is this suite's own (whatever backend the harness defaults to), in WAL mode.
    dir = mkdtempSync(path.join(tmpdir(), 'meetoa-instances-'));
    dbPath = path.join(dir, 'shared.db');
    const opts = { wxemu: wx, appSecret, dataKey, config: { oa: { token: { 'cache-seconds': CACHE }, datasource: { url: `sqlite:${dbPath}` } } } };
    a = await startMeetoa(opts);
    processes.push(a);
    b = await startMeetoa(opts);
    processes.push(b);
    assert.notEqual(a.port, b.port);
    assert.deepEqual(await sql('PRAGMA journal_mode;'), [['wal']], 'the shared file is in WAL mode');
  });

  after(async () => {
    try {
      await stopAll(); // before the file goes
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a token issued by one process is accepted by the other, both ways', async () => {
    await checkSharing(a, b, 'sq');
  });

  test(`logout: refused by the other process within cache-seconds (${CACHE})`, async (t) => {
    const ms = await checkLogoutBound(a, b, CACHE, 'sq-logout');
    t.diagnostic(`logout seen by the other process after ${ms} ms`);
  });

  test(`a user disabled in the database is refused by both within cache-seconds (${CACHE})`, async (t) => {
    const ms = await checkBanBound(a, b, CACHE, 'sq-ban', (openid) => sql(`UPDATE wx_user SET status = 1 WHERE weixin_openid = ${sqlText(openid)};`));
    t.diagnostic(`ban seen after at most ${ms} ms`);
  });

  test('concurrent first logins of one openid through both processes make one wx_user row', async () => {
    await checkConcurrentFirstLogin(a, b, sql, 'sq-crowd');
  });

  test('a meeting-list page cached by one process shows a change made through the other within cache-seconds, its own at once', async () => {
    await checkListPages(a, b, 'sq', CACHE);
  });
});
