// redis.test.mjs — oa.redis.url: two meetoa processes on one database and one private
// redis-server (lib/redis.mjs: a temp dir, a free port, no persistence).
//
// With Redis the login rate limits are one bucket for both processes (the Nth attempt across
// both is refused), the buckets are named without the IP or the openid, and a logout,
// logout_session, logout_all, account deletion or a ban by `meetoa user status` reaches the
// other process's session cache within 100 ms (measured) although oa.token.cache-seconds is 60.
// Redis killed while requests are running: every request keeps being answered, the limits
// are per process, one WARN line per process, meetoa_redis_up 0 on /metrics; started again on
// the same port: the shared limits and the invalidations come back by themselves. A stopped
// (SIGSTOP) Redis only delays checks by oa.redis.timeout-ms before the fallback.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

import { APP_ID, assertAnswer, assertErr, assertOk, eventually, newDataKey, newSecret, run, send, startMeetoa } from './lib/meetoa.mjs';
import { startWxemu } from './lib/wxemu.mjs';
import { startRedis } from './lib/redis.mjs';
import { sha1 } from './lib/push.mjs';

const CACHE_SECONDS = 60; // an invalidation seen quickly is the publish, not the cache's expiry
const BOUND_MS = 100;
const LOGIN_IP = 4;
const LOGIN_OPENID = 3;
const UPLOAD_IP = 60; // one token a second: the refill is seen in a test
const TIMEOUT_MS = 200;
const PUSH_TOKEN = 'RedisPushToken1';
const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
const LOST = /WARN .*redis 127\.0\.0\.1:\d+\/0: shared mode (lost|not available)/g;
const BACK = /INFO .*redis 127\.0\.0\.1:\d+\/0: shared mode on/g;

let wx, redis, a, b, appSecret, dataKey;
let nextIp = 1;

/** A fresh client address (behind the trusted proxy 127.0.0.1): its own login-ip bucket. */
const freshIp = () => `10.20.${(nextIp >> 8) & 255}.${nextIp++ & 255}`;
const H = (token) => ({ 'X-OA-Token': token });
const count = (text, re) => (text.match(re) ?? []).length;
/** 429 with Retry-After; an empty bucket of N a minute has its next token in 60/N s (less what refilled since). */
function tooMany(r, what, perMinute) {
  assertAnswer(r, 429, 429, what);
  const retry = Number(r.headers.get('retry-after'));
  const full = 60 / perMinute;
  assert.ok(retry >= full - 2 && retry <= full, `${what}: Retry-After ${retry}, about ${full} s`);
}

async function login(oa, user, ip = freshIp()) {
  const code = await wx.newCode(APP_ID, user);
  return send(oa.base, 'POST', '/wx/auth/login_by_weixin', { code }, { 'X-Forwarded-For': ip });
}
async function loginOk(oa, user) {
  const r = await login(oa, user);
  assertOk(r, `login of ${user} on ${oa.port}`);
  return r.data.token;
}

/** GET /metrics of a process's management listener. */
async function metrics(oa) {
  const r = await send(`http://127.0.0.1:${oa.managementPort}`, 'GET', '/metrics');
  assert.equal(r.status, 200, 'GET /metrics');
  return r.text;
}
const redisUp = async (oa) => Number(/^meetoa_redis_up (\S+)$/m.exec(await metrics(oa))?.[1]);

function managementPortOf(oa) {
  const m = /GET \/metrics at http:\/\/[^\s]+:(\d+)\/metrics/.exec(oa.logs());
  assert.ok(m, 'the management listener logged its port');
  return Number(m[1]);
}

async function startOne(url) {
  const oa = await startMeetoa({
    wxemu: wx,
    appSecret,
    dataKey,
    config: {
      server: { 'trusted-proxies': '127.0.0.1' },
      management: { server: { port: 0 } },
      oa: {
        token: { 'cache-seconds': CACHE_SECONDS },
        wx: { push: { token: PUSH_TOKEN } },
        'rate-limit': { 'login-ip': LOGIN_IP, 'login-openid': LOGIN_OPENID, 'upload-ip': UPLOAD_IP },
        redis: { url: redis.url, 'timeout-ms': TIMEOUT_MS },
        ...(url ? { datasource: { url } } : {}),
      },
    },
  });
  oa.managementPort = managementPortOf(oa);
  return oa;
}

/** Both processes in shared mode (each logged "shared mode on" at least `times` times). */
async function shared(times = 1) {
  for (const oa of [a, b])
    assert.ok(await eventually(() => count(oa.logs(), BACK) >= times, 10000, 50), `port ${oa.port} in shared mode (${times})`);
}

before(async () => {
  appSecret = newSecret();
  dataKey = newDataKey();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
  redis = await startRedis();
  a = await startOne();
  b = await startOne(a.config.oa.datasource.url); // after a: a has migrated the database
  await shared();
});

after(async () => {
  const problems = [];
  for (const oa of [b, a]) {
    if (!oa) continue;
    const exit = await oa.stop();
    if (exit.code !== 0 || exit.signal !== null) problems.push(`meetoa on ${oa.port} exited ${JSON.stringify(exit)}`);
    if (SANITIZER_REPORT.test(oa.logs())) problems.push(`meetoa on ${oa.port}: sanitizer report:\n${oa.logs()}`);
    if (/WARN .*shared mode lost \(stopping\)/.test(oa.logs())) problems.push(`meetoa on ${oa.port} warned about Redis when it stopped`);
  }
  await wx?.stop();
  await redis?.stop();
  assert.deepEqual(problems, []);
});

/** Logins of one client address alternating a, b: the first LOGIN_IP pass, the next are 429 on both. */
async function checkSharedIpLimit(label) {
  const ip = freshIp();
  for (let i = 0; i < LOGIN_IP; i++)
    assertOk(await login(i % 2 ? b : a, `${label}-ip-${i}`, ip), `attempt ${i + 1} of ${ip}`);
  for (const oa of [a, b]) {
    tooMany(await login(oa, `${label}-ip-over`, ip), `attempt ${LOGIN_IP + 1} of ${ip} on ${oa.port}: the bucket is shared`, LOGIN_IP);
  }
}

/** One user's logins alternating a, b (fresh addresses): LOGIN_OPENID pass, then 429 on both. */
async function checkSharedOpenidLimit(user) {
  for (let i = 0; i < LOGIN_OPENID; i++) assertOk(await login(i % 2 ? b : a, user), `login ${i + 1} of ${user}`);
  tooMany(await login(a, user), `login ${LOGIN_OPENID + 1} of ${user} on a`, LOGIN_OPENID);
  tooMany(await login(b, user), `login ${LOGIN_OPENID + 2} of ${user} on b`, LOGIN_OPENID);
}

/**
 * A token cached by `other` (it answered info with it), then `end()` through the other
 * process or the CLI: `other` refuses it within BOUND_MS of end()'s answer. Returns the ms.
 */
async function refusedWithin(other, tokens, end, errno = 501) {
  for (const t of tokens) assertOk(await other.info(t), 'cached by the other process before');
  await end();
  const t0 = Date.now();
  for (;;) {
    const answers = await Promise.all(tokens.map((t) => other.info(t)));
    const ms = Date.now() - t0;
    if (answers.every((r) => r.errno === errno)) return ms;
    assert.ok(ms <= BOUND_MS, `still accepted ${ms} ms after the end (bound ${BOUND_MS} ms): ${answers.map((r) => r.errno)}`);
    await sleep(5);
  }
}

test('the login limits are one bucket for both processes, named without the IP or the openid', async () => {
  await checkSharedIpLimit('share');
  const l = await wx.newLogin(APP_ID, 'share-openid'); // the same WeChat user logs in again with fresh codes
  await checkSharedOpenidLimit('share-openid');
  const keys = await redis.command(['KEYS', '*']);
  const limitKeys = keys.filter((k) => k.startsWith('meetoa:rl:'));
  assert.ok(limitKeys.some((k) => /^meetoa:rl:login-ip:[0-9a-f]{32}$/.test(k)), `a login-ip bucket: ${keys}`);
  assert.ok(limitKeys.some((k) => /^meetoa:rl:login-openid:[0-9a-f]{32}$/.test(k)), `a login-openid bucket: ${keys}`);
  assert.deepEqual(keys.filter((k) => !/^meetoa:rl:(login-ip|login-openid):[0-9a-f]{32}$/.test(k)), [], 'no other keys');
  for (const k of limitKeys) {
    assert.ok(!k.includes('10.20.') && !k.includes(l.openid), `${k} names no IP and no openid`);
    const ttl = await redis.command(['PTTL', k]);
    assert.ok(ttl > 0 && ttl <= 60000, `${k} expires within a minute (${ttl} ms)`);
    const h = await redis.command(['HGETALL', k]);
    assert.deepEqual(h.filter((_, i) => i % 2 === 0).sort(), ['a', 'l'], 'a bucket holds its level and time only');
  }
  // a flushed script cache (as after a restart): NOSCRIPT, then EVAL loads it again; still shared
  assert.equal(await redis.command(['SCRIPT', 'FLUSH']), 'OK');
  await checkSharedIpLimit('flushed');
  assert.equal(await redisUp(a), 1, 'meetoa_redis_up 1');
  assert.match(await metrics(a), /^meetoa_redis_limit_checks_total\{answered_by="redis"\} [1-9]/m);
});

test('a shared bucket refills on Redis\' clock: 60 a minute is one more request a second, across both processes', async () => {
  // upload-ip is checked before the token: an upload without one costs a token and is then 501
  const ip = freshIp();
  const upload = (oa) => send(oa.base, 'POST', '/wx/storage/upload', 'x', { 'X-Forwarded-For': ip, 'Content-Type': 'text/plain' });
  const t0 = Date.now();
  const burst = await Promise.all(Array.from({ length: UPLOAD_IP + 8 }, (_, i) => upload(i % 2 ? b : a)));
  const ms = Date.now() - t0;
  const passed = burst.filter((r) => r.errno === 501).length;
  const refused = burst.filter((r) => r.status === 429 && r.errno === 429).length;
  assert.equal(passed + refused, burst.length, 'each one passed the limit (then 501) or was refused (429)');
  assert.ok(passed >= UPLOAD_IP && passed <= UPLOAD_IP + Math.floor(ms / 1000), `${passed} passed in ${ms} ms: the bucket's ${UPLOAD_IP} plus what refilled`);
  tooMany(await upload(a), 'empty', UPLOAD_IP);
  await sleep(1100);
  assertErr(await upload(b), 501, 'a second later: one token back (then no token: 501)');
  tooMany(await upload(a), 'and only one', UPLOAD_IP);
});

test('logout, logout_session, logout_all, account deletion, a ban and a cancellation pushed by WeChat reach the other process within 100 ms', async (t) => {
  const sub = await redis.subscribe('meetoa:sessions');
  const took = {};
  try {
    // logout through a, seen by b, and the other way
    let token = await loginOk(a, 'bus-logout');
    took.logout = await refusedWithin(b, [token], async () => assertOk(await a.logout(token)));
    token = await loginOk(b, 'bus-logout-back');
    took.logoutBack = await refusedWithin(a, [token], async () => assertOk(await b.logout(token)));

    // logout_session of another session of the same user
    const keep = await loginOk(a, 'bus-session');
    const end = await loginOk(a, 'bus-session');
    const list = (await a.get('/wx/auth/sessions', H(keep))).data.list;
    const id = list.find((s) => !s.current).id;
    took.logoutSession = await refusedWithin(b, [end], async () => assertOk(await a.post('/wx/auth/logout_session', { id }, H(keep))));
    assertOk(await b.info(keep), 'the session kept lives on');

    // logout_all
    const all = [await loginOk(a, 'bus-all'), await loginOk(b, 'bus-all')];
    took.logoutAll = await refusedWithin(b, all, async () => assertOk(await a.post('/wx/auth/logout_all', {}, H(all[0]))));

    // account deletion
    const gone = await loginOk(a, 'bus-delete');
    took.deleteAccount = await refusedWithin(b, [gone], async () =>
      assertOk(await a.post('/wx/auth/delete_account', { code: await wx.newCode(APP_ID, 'bus-delete') }, H(gone))));

    // a ban by the command line (its config names the same Redis)
    const banned = await wx.newLogin(APP_ID, 'bus-ban');
    const bt = (await send(a.base, 'POST', '/wx/auth/login_by_weixin', { code: banned.code }, { 'X-Forwarded-For': freshIp() })).data.token;
    const tokens = [bt];
    took.ban = await refusedWithin(b, tokens, async () => {
      const r = await a.setUserStatus(banned.openid, 1);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /status 1 \(the instances see it at once \(published through Redis\)\)/);
    }, 720);
    assertErr(await a.info(bt), 720, 'and on a');
    assert.equal((await a.setUserStatus(banned.openid, 0)).code, 0);
    assertOk(await b.info(bt), 'lifted again, at once too');

    // WeChat's user_authorization_cancellation pushed to a (plaintext mode): closed on both
    const cancelled = await wx.newLogin(APP_ID, 'bus-cancel');
    const ct = (await send(a.base, 'POST', '/wx/auth/login_by_weixin', { code: cancelled.code }, { 'X-Forwarded-For': freshIp() })).data.token;
    assertOk(await a.info(ct), 'cached by a too');
    took.cancellation = await refusedWithin(b, [ct], async () => {
      const ts = String(Math.floor(Date.now() / 1000));
      const msg = { FromUserName: cancelled.openid, CreateTime: Number(ts), MsgType: 'event', Event: 'user_authorization_cancellation', OpenID: cancelled.openid };
      const r = await send(a.base, 'POST', `/wx/wechat/push?signature=${sha1(PUSH_TOKEN, ts, '9')}&timestamp=${ts}&nonce=9`, JSON.stringify(msg));
      assert.equal(r.text, 'success');
    }, 721);
    assertErr(await a.info(ct), 721, 'and at once on a, where it was pushed');

    t.diagnostic(`refused by the other process after (ms): ${JSON.stringify(took)}`);
    await eventually(() => sub.messages().length >= 8, 1000, 20);
    const msgs = sub.messages();
    for (const m of msgs) assert.match(m, /^(s [0-9a-f]{64} [0-9a-f]{16}|u \d+ ([0-9a-f]{16}|cli))$/, `message shape: ${m}`);
    for (const tok of [token, end, ...all, gone, bt, ct]) assert.ok(!msgs.some((m) => m.includes(tok)), 'no token on the channel');
  } finally {
    sub.close();
  }
  assert.match(await metrics(a), /^meetoa_redis_session_messages_total\{way="published"\} [1-9]/m);
  assert.match(await metrics(b), /^meetoa_redis_session_messages_total\{way="received"\} [1-9]/m);
  const text = await metrics(a);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.error, undefined, `promtool: ${r.error}`);
  assert.equal(r.status, 0, `promtool check metrics with the Redis metrics:\n${r.stdout}${r.stderr}`);
  assert.equal((r.stdout + r.stderr).trim(), '', `promtool lint output:\n${r.stdout}${r.stderr}`);
});

/** Requests on both processes until stop() is called; every answer recorded. */
function load() {
  const answers = [];
  let running = true;
  const tokens = {};
  const loop = async (oa, name) => {
    tokens[name] = await loginOk(oa, `load-${name}`);
    let i = 0;
    while (running) {
      const r = i++ % 5 === 0 ? await login(oa, `load-${name}-${i}`) : await oa.info(tokens[name]);
      answers.push([oa.port, r.status, r.errno]);
    }
  };
  const done = Promise.all([loop(a, 'a'), loop(b, 'b')]);
  return {
    answers,
    async stop() {
      running = false;
      await done;
    },
  };
}

test('Redis killed under load: requests keep working per process, one WARN, up 0; restarted: shared again by itself', async () => {
  const warnsBefore = [a, b].map((oa) => count(oa.logs(), LOST));
  const backBefore = [a, b].map((oa) => count(oa.logs(), BACK));
  const l = load();
  await sleep(300);
  await redis.kill();
  await sleep(1500); // requests go on while it is gone
  await l.stop();
  const bad = l.answers.filter(([, status, errno]) => status !== 200 || errno !== 0);
  assert.deepEqual(bad, [], `every request answered 200/0 (of ${l.answers.length})`);
  assert.ok(l.answers.length > 20, `requests ran (${l.answers.length})`);
  for (const [i, oa] of [a, b].entries()) {
    assert.ok(await eventually(() => count(oa.logs(), LOST) === warnsBefore[i] + 1, 5000, 50), `one WARN on ${oa.port}`);
    assert.equal(await redisUp(oa), 0, 'meetoa_redis_up 0');
  }

  // down: each process counts its own bucket
  const ip = freshIp(); // one client address: a bucket in each process
  for (const oa of [a, b]) {
    for (let i = 0; i < LOGIN_IP; i++) assertOk(await login(oa, `down-${oa.port}-${i}`, ip), `attempt ${i + 1} on ${oa.port} alone`);
    tooMany(await login(oa, `down-${oa.port}-over`, ip), 'over the per-process limit', LOGIN_IP);
  }
  // ... and session ends are not published: the other process still trusts its cache
  const token = await loginOk(a, 'down-logout');
  assertOk(await b.info(token));
  assertOk(await a.logout(token));
  assertErr(await a.info(token), 501);
  assertOk(await b.info(token), 'b trusts its cache up to cache-seconds while Redis is down');
  assert.match(await metrics(a), /^meetoa_redis_limit_checks_total\{answered_by="process"\} [1-9]/m);
  assert.match(await metrics(a), /^meetoa_redis_session_messages_total\{way="unpublished"\} [1-9]/m);
  for (const [i, oa] of [a, b].entries()) assert.equal(count(oa.logs(), LOST), warnsBefore[i] + 1, 'still one WARN');

  await redis.start(); // same port, empty
  await shared(backBefore[0] + 1);
  assertErr(await b.info(token), 501, 'resubscribed: the cache was emptied, the logout seen');
  for (const oa of [a, b]) assert.equal(await redisUp(oa), 1, 'meetoa_redis_up 1 again');
  await checkSharedIpLimit('again');
  await checkSharedOpenidLimit('again-openid');
  const t2 = await loginOk(b, 'again-logout');
  const ms = await refusedWithin(a, [t2], async () => assertOk(await b.logout(t2)));
  assert.ok(ms <= BOUND_MS);
});

test('Redis stopped (SIGSTOP): checks wait at most the timeout, then per process; back after SIGCONT', async () => {
  const warnsBefore = [a, b].map((oa) => count(oa.logs(), LOST));
  const backBefore = [a, b].map((oa) => count(oa.logs(), BACK));
  redis.pause();
  try {
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) assertOk(await login(i % 2 ? b : a, `paused-${i}`), `login ${i + 1} while Redis is stopped`);
    const ms = Date.now() - t0;
    assert.ok(ms < 6 * 150 + 4 * TIMEOUT_MS + 2000, `six logins took ${ms} ms`);
    for (const [i, oa] of [a, b].entries())
      assert.ok(await eventually(() => count(oa.logs(), LOST) === warnsBefore[i] + 1, 5000, 50), `one WARN on ${oa.port}`);
  } finally {
    redis.resume();
  }
  for (const [i, oa] of [a, b].entries())
    assert.ok(await eventually(() => count(oa.logs(), BACK) >= backBefore[i] + 1, 10000, 50), `shared again on ${oa.port}`);
  await checkSharedIpLimit('resumed');
});

test('without oa.redis.url: no Redis thread, no redis log line, no redis metric', async () => {
  const plain = await startMeetoa({ wxemu: wx, appSecret, config: { management: { server: { port: 0 } } } });
  try {
    assertOk(await plain.info(await plain.loginOk('plain')));
    const threads = (await run('sh', ['-c', `cat /proc/${plain.proc.pid}/task/*/comm`])).stdout;
    assert.doesNotMatch(threads, /redis/, `threads: ${threads}`);
    assert.doesNotMatch(plain.logs(), /redis/i);
    plain.managementPort = managementPortOf(plain);
    assert.doesNotMatch(await metrics(plain), /meetoa_redis_/);
  } finally {
    await plain.stop();
  }
});
