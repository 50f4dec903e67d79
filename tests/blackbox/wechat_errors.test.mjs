// wechat_errors.test.mjs — what each WeChat failure becomes: code errors (710/711), WeChat's
// own troubles (712-715), our misconfiguration (502, logged at error level without the
// secret). Every attempt makes exactly one jscode2session call (never a retry), and after
// each failure a fresh login of the same user works: nothing was half-written. Then all of
// those failures at once, each aimed at one user's code (wxemu's per-code faults), while
// other users log in: each failure still gets its errno within oa.wx.timeout-ms, the others'
// logins succeed and do not wait for the slow one, and no wx_user / wx_session row is left
// for a failed login, not even after WeChat's late answer to a timed-out call.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  startWorld,
  startMeetoa,
  APP_ID,
  assertOk,
  assertErr,
  jscode2sessionCalls,
  newSecret,
  sqlText,
  SESSION_KEY_SHAPE,
} from './lib/meetoa.mjs';

const OTHER_APP = { appid: 'wxotherapp00000002', secret: newSecret() };
const TIMEOUT_MS = 1000; // oa.wx.timeout-ms of the main meetoa
let world, oa, wx;

before(async () => {
  world = await startWorld({ otherApps: [OTHER_APP], meetoa: { config: { oa: { wx: { 'timeout-ms': TIMEOUT_MS } } } } });
  ({ oa, wx } = world);
});

after(async () => {
  await world?.stop();
});

/** Queues one fault for the next jscode2session call. */
async function fault(spec) {
  await wx.faults({ path: '/sns/jscode2session', count: 1, ...spec });
}

/** Runs fn and checks it made exactly `n` jscode2session calls. Returns fn's result. */
async function withCalls(n, what, fn) {
  const before = await jscode2sessionCalls(wx);
  const r = await fn();
  assert.equal((await jscode2sessionCalls(wx)) - before, n, `${what}: ${n} jscode2session call(s)`);
  return r;
}

/** The user logs in with a fresh code and gets a working token with the expected nickname. */
async function freshLoginWorks(server, user, nick) {
  const r = await withCalls(1, `fresh login of ${user}`, () => server.login(user, { nickName: nick, avatarUrl: '', gender: 1 }));
  assertOk(r, `fresh login of ${user}`);
  const i = await server.info(r.data.token);
  assertOk(i, 'info');
  assert.equal(i.data.nickName, nick, 'the profile of the first successful login');
  const rows = await server.sql(`SELECT count(*) FROM wx_user WHERE nickname = ${sqlText(nick)};`);
  assert.deepEqual(rows, [['1']], `one wx_user row for ${user}`);
}

describe('bad codes', () => {
  test('a reused code -> 711', async () => {
    const code = await wx.newCode(APP_ID, 'rita');
    assertOk(await withCalls(1, 'first use', () => oa.loginWithCode(code, { nickName: 'Rita', avatarUrl: '', gender: 2 })), 'first use');
    assertErr(await withCalls(1, 'second use', () => oa.loginWithCode(code)), 711, 'second use');
    await freshLoginWorks(oa, 'rita', 'Rita');
  });

  test('an expired code -> 710', async () => {
    const code = await wx.newCode(APP_ID, 'sam');
    await wx.expireCode(code);
    assertErr(await withCalls(1, 'expired', () => oa.loginWithCode(code, { nickName: 'Sam', avatarUrl: '', gender: 1 })), 710, 'expired code');
    await freshLoginWorks(oa, 'sam', 'Sam');
  });

  test("another mini program's code -> 710", async () => {
    const code = await wx.newCode(OTHER_APP.appid, 'tina');
    assertErr(await withCalls(1, 'other app', () => oa.loginWithCode(code, { nickName: 'Tina', avatarUrl: '', gender: 2 })), 710, 'other app');
    await freshLoginWorks(oa, 'tina', 'Tina');
  });

  test('a code WeChat never issued -> 710', async () => {
    assertErr(await withCalls(1, 'unknown code', () => oa.loginWithCode('0'.repeat(32))), 710, 'unknown code');
  });
});

// [WeChat's answer (a fault spec), errno, is it our configuration's fault]
const FAILURES = [
    [{ errcode: 40029 }, 710],
    [{ errcode: 40163 }, 711],
    [{ errcode: -1 }, 712],
    [{ errcode: 45011 }, 713],
    [{ errcode: 40226 }, 714],
    [{ errcode: 40013 }, 502, true],
    [{ errcode: 40125 }, 502, true],
    [{ errcode: 41002 }, 502, true],
    [{ errcode: 41004 }, 502, true],
    [{ errcode: 41008 }, 502, true],
    [{ errcode: 40002 }, 502, true],
    [{ errcode: 48001 }, 715], // an errcode MeetOA does not know
    [{ http_status: 500 }, 715],
    [{ http_status: 404 }, 715],
    [{ malformed: true }, 715],
  [{ drop: true }, 715],
];

describe('WeChat errcodes', () => {
  const cases = FAILURES;
  cases.forEach(([spec, errno, ours], i) => {
    test(`WeChat answers ${JSON.stringify(spec)} -> ${errno}`, async () => {
      const user = `fault-${i}`;
      const nick = `Fault ${i}`;
      // A login just before keeps a connection to WeChat open, as in production: a failure on
      // a reused connection must not be retried either.
      assertOk(await oa.login(`${user}-warm`), 'warm-up login');
      const logLen = oa.logs().length;
      await fault(spec);
      const r = await withCalls(1, 'failed login', () => oa.login(user, { nickName: nick, avatarUrl: '', gender: 1 }));
      assertErr(r, errno, JSON.stringify(spec));
      if (ours) {
        const fresh = oa.logs().slice(logLen);
        const line = fresh.split('\n').find((l) => /\bERROR\b/.test(l));
        assert.ok(line, `an error-level log line for a configuration fault; got:\n${fresh}`);
        assert.match(line, /config|app.?id|secret|oa\.wx/i, 'the line points at the configuration');
        assert.ok(!fresh.includes(world.appSecret), 'without the secret');
      }
      await freshLoginWorks(oa, user, nick);
    });
  });
});

describe('WeChat too slow or away', () => {
  test(`no answer within timeout-ms (${TIMEOUT_MS} ms) -> 715 in time, no retry`, async () => {
    await fault({ delay_ms: TIMEOUT_MS + 1500 });
    const before = await jscode2sessionCalls(wx);
    const t0 = Date.now();
    const r = await oa.login('uma', { nickName: 'Uma', avatarUrl: '', gender: 2 });
    const took = Date.now() - t0;
    assertErr(r, 715, 'timeout');
    assert.ok(took >= TIMEOUT_MS - 100, `answered after ${took} ms, not before the timeout`);
    assert.ok(took <= TIMEOUT_MS + 1500, `answered after ${took} ms`);
    assert.equal((await jscode2sessionCalls(wx)) - before, 1, 'one call, not retried');
    await freshLoginWorks(oa, 'uma', 'Uma');
  });

  test('WeChat unreachable -> 715', async () => {
    const away = await startMeetoa({ wxBase: 'http://127.0.0.1:1', appSecret: world.appSecret, wxemu: wx });
    try {
      const code = await wx.newCode(APP_ID, 'vic');
      assertErr(await away.loginWithCode(code), 715, 'unreachable');
      // The code never reached WeChat, so the real server can still use it.
      assertOk(await oa.loginWithCode(code), 'the same code on a server that reaches WeChat');
    } finally {
      await away.stop();
    }
  });
});

describe('our configuration is wrong', () => {
  for (const [what, conf, wxerr] of [
    ['a wrong app secret', { appSecret: newSecret() }, 40125],
    ['an unknown app id', { appId: 'wxunknownapp000003' }, 40013],
  ]) {
    test(`${what} (WeChat ${wxerr}) -> 502, logged at error level without the secret`, async () => {
      const bad = await startMeetoa({ wxemu: wx, appSecret: world.appSecret, ...conf });
      try {
        const code = await wx.newCode(APP_ID, 'wendy');
        const before = await jscode2sessionCalls(wx);
        assertErr(await bad.loginWithCode(code), 502, what);
        assert.equal((await jscode2sessionCalls(wx)) - before, 1, 'one call');
        const logs = bad.logs();
        assert.match(logs, /\bERROR\b.*(config|app.?id|secret|oa\.wx)/i, 'an error-level line about the configuration');
        assert.ok(!logs.includes(bad.appSecret), 'the configured secret is not logged');
        assert.ok(!logs.includes(world.appSecret), 'nor the real one');
        // WeChat refused the request, so the code is still good on a well-configured server.
        assertOk(await oa.loginWithCode(code), 'the code on the right server');
      } finally {
        await bad.stop();
      }
    });
  }
});

describe('failures aimed at some users while others log in', () => {
  const LATE_MS = TIMEOUT_MS + 1500; // WeChat answers the timed-out call this late (normally)
  const MARGIN_MS = 1500; // an ASan build on a busy machine
  const BYSTANDERS = 24;

  /** {openid, ms, r} of one login with a code made beforehand. */
  async function timedLogin(code, nick) {
    const t0 = Date.now();
    const r = await oa.loginWithCode(code, { nickName: nick, avatarUrl: '', gender: 1 });
    return { r, ms: Date.now() - t0, end: Date.now() };
  }

  const rowsOf = async (openid) =>
    Number((await oa.sql(`SELECT count(*) FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`))[0][0]);
  const sessionsOf = async (openid) =>
    Number(
      (
        await oa.sql(
          `SELECT count(*) FROM wx_session s JOIN wx_user u ON u.id = s.user_id WHERE u.weixin_openid = ${sqlText(openid)};`,
        )
      )[0][0],
    );

  test(`${FAILURES.length} failures and a timeout, each on one code, amid ${BYSTANDERS} good logins`, async () => {
    await wx.clearFaults();
    const cases = [...FAILURES, [{ delay_ms: LATE_MS }, 715, false, 'timeout']];
    const victims = [];
    for (const [i, [spec, errno]] of cases.entries()) {
      const login = await wx.newLogin(APP_ID, `victim-${i}`);
      await wx.faults({ path: '/sns/jscode2session', code: login.code, ...spec });
      victims.push({ ...login, user: `victim-${i}`, spec, errno, nick: `Victim ${i}` });
    }
    const bystanders = [];
    for (let i = 0; i < BYSTANDERS; i++) bystanders.push({ ...(await wx.newLogin(APP_ID, `bystander-${i}`)), nick: `Bystander ${i}` });
    const callsBefore = await jscode2sessionCalls(wx);

    // The slow one first, then everybody at once, victims and bystanders interleaved.
    const all = [victims.at(-1), ...victims.slice(0, -1).flatMap((v, i) => [v, ...bystanders.slice(i * 2, i * 2 + 2)])];
    for (const b of bystanders) if (!all.includes(b)) all.push(b);
    assert.equal(all.length, victims.length + bystanders.length);
    const t0 = Date.now();
    const results = await Promise.all(all.map((u) => timedLogin(u.code, u.nick).then((res) => Object.assign(u, res))));
    assert.equal(results.length, all.length);

    for (const v of victims) {
      const what = `${JSON.stringify(v.spec)} on one code`;
      assertErr(v.r, v.errno, what);
      assert.ok(v.ms <= TIMEOUT_MS + MARGIN_MS, `${what}: answered after ${v.ms} ms (timeout-ms ${TIMEOUT_MS})`);
    }
    const slow = victims.at(-1);
    assert.ok(slow.ms >= TIMEOUT_MS - 100, `the timed-out login waited the timeout (${slow.ms} ms)`);
    for (const b of bystanders) {
      assertOk(b.r, `bystander ${b.nick}`);
      assert.ok(b.end < slow.end, `${b.nick} answered (after ${b.ms} ms) before the timed-out login, not behind it`);
    }
    assert.equal((await jscode2sessionCalls(wx)) - callsBefore, all.length, 'one jscode2session call per login, no retry');
    assert.equal((await wx.state()).faults, 0, 'every per-code fault was used by its own login');

    // The bystanders' tokens work and each has one row; the victims have none.
    for (const b of bystanders) {
      const i = await oa.info(b.r.data.token);
      assertOk(i, `info of ${b.nick}`);
      assert.equal(i.data.nickName, b.nick, `${b.nick} got their own profile`);
      assert.equal(await rowsOf(b.openid), 1, `one wx_user row for ${b.nick}`);
    }
    // Wait for WeChat's late answer to the timed-out call: it must not write anything either.
    await sleep(Math.max(0, t0 + LATE_MS + 500 - Date.now()));
    for (const v of victims) {
      assert.equal(await rowsOf(v.openid), 0, `no wx_user row after ${JSON.stringify(v.spec)}`);
      assert.equal(await sessionsOf(v.openid), 0, `no wx_session row after ${JSON.stringify(v.spec)}`);
    }
    // Each victim can then log in with a fresh code: one row, their first profile.
    for (const v of victims) {
      await freshLoginWorks(oa, v.user, v.nick);
      assert.equal(await sessionsOf(v.openid), 1, `one session for ${v.nick} after the fresh login`);
    }
  });
});

test('the logs hold no secret after all those failures', () => {
  const logs = oa.logs();
  assert.ok(!logs.includes(world.appSecret), 'app secret');
  assert.ok(!logs.includes(OTHER_APP.secret), 'the other app secret');
  assert.ok(!logs.includes(oa.dataKey), 'data key');
  assert.doesNotMatch(logs, SESSION_KEY_SHAPE, 'session_key');
});
