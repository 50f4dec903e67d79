// rate_limit.test.mjs — oa.rate-limit.* and server.trusted-proxies, seen from outside.
//
// Over a limit the answer is HTTP 429, errno 429 with its errmsg, no data, and a Retry-After
// header of whole seconds; the refused request calls no WeChat API and writes nothing. Login,
// bindPhone and upload are limited per client IP (checked first, so every attempt counts, even
// a malformed or unauthenticated one) and per openid (login: once WeChat named the user;
// bindPhone and upload: the caller's). X-Forwarded-For is believed only from a trusted proxy:
// a client that sends it directly cannot dodge its limit, while behind a trusted proxy each
// forwarded address (an IPv6 one by its /64) has its own bucket. Other routes (info) are not
// limited, and buckets refill with time.
//
// Two servers share one wxemu: TRUSTED (127.0.0.1 a trusted proxy, every limit small; each
// test uses its own forwarded addresses and users, so their buckets are its own) and PLAIN
// (no trusted proxy, login 2 a minute per IP, bindPhone 60 a minute per IP for the refill).

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { startMeetoa, startWorld, assertAnswer, assertOk, assertErr, sqlText, APP_ID } from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';

const PHONE_API = '/wxa/business/getuserphonenumber';
const JSCODE2SESSION = '/sns/jscode2session';
const TOKEN_HEADER = 'X-OA-Token';

const LIMITS = {
  'login-ip': 3,
  'login-openid': 2,
  'phone-ip': 3,
  'phone-openid': 2,
  'upload-ip': 3,
  'upload-openid': 2,
};

let world, wx, trusted, plain, storageDir;

before(async () => {
  storageDir = mkdtempSync(path.join(tmpdir(), 'meetoa-rate-'));
  world = await startWorld({
    meetoa: {
      config: {
        server: { 'trusted-proxies': '127.0.0.1, ::1' },
        oa: { 'rate-limit': LIMITS, storage: { dir: storageDir } },
      },
    },
  });
  ({ wx, oa: trusted } = world);
  plain = await startMeetoa({
    wxemu: wx,
    appSecret: world.appSecret,
    config: { oa: { 'rate-limit': { 'login-ip': 2, 'phone-ip': 60 } } },
  });
});

after(async () => {
  await plain?.stop();
  await world?.stop();
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Helpers

let serial = 0;
/** A user name of its own for each call. */
function newUser(what) {
  serial++;
  return `rl-${what}-${process.pid}-${serial}`;
}

/** The number of calls wxemu answered on path so far. */
async function calls(p) {
  return (await wx.stats())[p] ?? 0;
}

/** Runs fn and returns {result, delta} with delta the calls it made on path p. */
async function counting(p, fn) {
  const before = await calls(p);
  const result = await fn();
  return { result, delta: (await calls(p)) - before };
}

/** A login of user on server with X-Forwarded-For xff (none when undefined). */
async function login(server, user, xff) {
  const code = await wx.newCode(APP_ID, user);
  return server.loginWithCode(code, undefined, xff === undefined ? {} : { 'x-forwarded-for': xff });
}

async function loginOk(server, user, xff) {
  const r = await login(server, user, xff);
  assertOk(r, `login of ${user} from ${xff}`);
  return r.data.token;
}

/** Asserts a refusal by a rate limit: 429 / 429, no data, Retry-After in [1, max] seconds. */
function assertLimited(r, maxSeconds, what) {
  assertAnswer(r, 429, 429, what);
  assert.equal(r.data, undefined, `${what}: no data`);
  assert.equal(r.json.data, undefined, `${what}: no data key`);
  const retry = r.headers.get('retry-after');
  assert.match(retry ?? '', /^[1-9][0-9]*$/, `${what}: Retry-After`);
  assert.ok(Number(retry) <= maxSeconds, `${what}: Retry-After ${retry} > ${maxSeconds}`);
  return Number(retry);
}

function bindPhone(token, body, xff) {
  const headers = { 'x-forwarded-for': xff };
  if (token) headers[TOKEN_HEADER] = token;
  return trusted.send('POST', '/wx/auth/bindPhone', body, headers);
}

let phoneSerial = 0;
function newPhone() {
  phoneSerial++;
  return `137${String(process.pid % 1000).padStart(3, '0')}${String(phoneSerial).padStart(5, '0')}`;
}

async function phoneBody(user) {
  return { code: await wx.phoneCode(APP_ID, user, newPhone()) };
}


/** A valid 1x1 PNG. */
const PNG = tinyPng();

function upload(token, xff) {
  return trusted.upload(token, PNG, 'a.png', 'image/png', { headers: { 'x-forwarded-for': xff } });
}

function storedFiles() {
  try {
    return readdirSync(storageDir).length;
  } catch {
    return 0;
  }
}

async function userCount(server) {
  const rows = await server.sql('SELECT COUNT(*) FROM wx_user');
  return Number(rows[0][0]);
}

async function sessionsOf(server, openid) {
  const rows = await server.sql(
    `SELECT COUNT(*) FROM wx_session s JOIN wx_user u ON u.id = s.user_id WHERE u.weixin_openid = ${sqlText(openid)}`,
  );
  return Number(rows[0][0]);
}

// ---------------------------------------------------------------------------------------
// Login

test('login per IP: the 4th attempt of 3 a minute is 429 with Retry-After, without a WeChat call or a user row', async () => {
  const ip = '198.51.100.1';
  for (let i = 0; i < 3; i++) await loginOk(trusted, newUser('ip'), ip);
  const usersBefore = await userCount(trusted);
  const { result, delta } = await counting(JSCODE2SESSION, () => login(trusted, newUser('ip'), ip));
  const retry = assertLimited(result, 20, 'the 4th login'); // 3 a minute: a token every 20 s
  assert.ok(retry >= 10, `Retry-After ${retry}: the next token is about 20 s away`);
  assert.equal(delta, 0, 'no jscode2session call for a refused login');
  assert.equal(await userCount(trusted), usersBefore, 'no user row');
  // every attempt counts before any parsing: a malformed body is refused the same way
  assertLimited(await trusted.post('/wx/auth/login_by_weixin', '{not json', { 'x-forwarded-for': ip }), 20, 'malformed');
});

test('login per IP: bad attempts count too', async () => {
  const ip = '198.51.100.10';
  for (let i = 0; i < 3; i++)
    assertErr(await trusted.post('/wx/auth/login_by_weixin', { code: '' }, { 'x-forwarded-for': ip }), 402, 'empty code');
  const { result, delta } = await counting(JSCODE2SESSION, () => login(trusted, newUser('bad'), ip));
  assertLimited(result, 20, 'a good login after 3 bad ones');
  assert.equal(delta, 0);
});

test('X-Forwarded-For from a peer that is not a trusted proxy is ignored: the limit cannot be dodged', async () => {
  await loginOk(plain, newUser('plain'), '203.0.113.1');
  await loginOk(plain, newUser('plain'), '203.0.113.2');
  const { result, delta } = await counting(JSCODE2SESSION, () => login(plain, newUser('plain'), '203.0.113.3'));
  assertLimited(result, 30, 'a third login from 127.0.0.1 claiming another address'); // 2 a minute
  assert.equal(delta, 0);
  assertLimited(await login(plain, newUser('plain')), 30, 'without the header');
});

test('behind a trusted proxy each forwarded address has its own bucket; what the client prepends is not believed', async () => {
  const a = '198.51.100.20';
  const b = '198.51.100.21';
  for (let i = 0; i < 3; i++) await loginOk(trusted, newUser('fwd'), a);
  assertLimited(await login(trusted, newUser('fwd'), a), 20, 'a is spent');
  // b is another client: its own 3
  for (let i = 0; i < 3; i++) await loginOk(trusted, newUser('fwd'), b);
  // a client of address a writing another address in front: the proxy appended a, a counts
  assertLimited(await login(trusted, newUser('fwd'), `198.51.100.99, ${a}`), 20, 'prepended address');
  // a second trusted hop (::1 is trusted too) is skipped
  assertLimited(await login(trusted, newUser('fwd'), `${a}, ::1`), 20, 'through two proxies');
  // the address recorded for the user is the forwarded one
  const user = newUser('fwd');
  const { code, openid } = await wx.newLogin(APP_ID, user);
  assertOk(await trusted.loginWithCode(code, undefined, { 'x-forwarded-for': '198.51.100.22' }));
  const rows = await trusted.sql(`SELECT last_login_ip FROM wx_user WHERE weixin_openid = ${sqlText(openid)}`);
  assert.deepEqual(rows, [['198.51.100.22']]);
});

test('IPv6 clients are limited by their /64', async () => {
  for (let i = 0; i < 3; i++) await loginOk(trusted, newUser('v6'), `2001:db8:aa:1::${i + 1}`);
  assertLimited(await login(trusted, newUser('v6'), '2001:db8:aa:1:ffff:ffff:ffff:ffff'), 20, 'same /64');
  await loginOk(trusted, newUser('v6'), '2001:db8:aa:2::1');
});

test('login per openid: a third code of one user in a minute is 429 before any database write; others still log in', async () => {
  const user = newUser('openid');
  let openid;
  for (let i = 0; i < 2; i++) {
    const r = await wx.newLogin(APP_ID, user);
    openid = r.openid;
    assertOk(await trusted.loginWithCode(r.code, undefined, { 'x-forwarded-for': `198.51.100.${30 + i}` }));
  }
  assert.equal(await sessionsOf(trusted, openid), 2);
  const { code } = await wx.newLogin(APP_ID, user);
  const { result, delta } = await counting(JSCODE2SESSION, () =>
    trusted.loginWithCode(code, undefined, { 'x-forwarded-for': '198.51.100.32' }),
  );
  assertLimited(result, 30, 'third login of one openid'); // 2 a minute: a token every 30 s
  assert.equal(delta, 1, 'the openid is known only from jscode2session');
  assert.equal(await sessionsOf(trusted, openid), 2, 'no session made');
  await loginOk(trusted, newUser('openid'), '198.51.100.33');
});

// ---------------------------------------------------------------------------------------
// bindPhone

test('bindPhone per openid: the third in a minute is 429 without a getuserphonenumber call', async () => {
  const user = newUser('phone');
  const token = await loginOk(trusted, user, '198.51.100.40');
  for (let i = 0; i < 2; i++) assertOk(await bindPhone(token, await phoneBody(user), `198.51.100.${41 + i}`), `bind ${i + 1}`);
  const body = await phoneBody(user);
  const { result, delta } = await counting(PHONE_API, () => bindPhone(token, body, '198.51.100.43'));
  assertLimited(result, 30, 'third bindPhone');
  assert.equal(delta, 0);
  // another user is not affected
  const other = newUser('phone');
  assertOk(await bindPhone(await loginOk(trusted, other, '198.51.100.44'), await phoneBody(other), '198.51.100.44'));
});

test('bindPhone per IP: counted before the token check; another address is not affected', async () => {
  const ip = '198.51.100.50';
  assertErr(await bindPhone(null, { code: 'x' }, ip), 501, 'no token');
  for (let i = 0; i < 2; i++) {
    const user = newUser('phoneip');
    assertOk(await bindPhone(await loginOk(trusted, user, '198.51.100.51'), await phoneBody(user), ip));
  }
  const user = newUser('phoneip');
  const token = await loginOk(trusted, user, '198.51.100.51');
  const body = await phoneBody(user);
  const { result, delta } = await counting(PHONE_API, () => bindPhone(token, body, ip));
  assertLimited(result, 20, 'the 4th from one address');
  assert.equal(delta, 0);
  assertLimited(await bindPhone(null, { code: 'x' }, ip), 20, 'without a token too');
  assertOk(await bindPhone(token, body, '198.51.100.52'), 'the same request from another address');
});

// ---------------------------------------------------------------------------------------
// Upload

test('upload per openid: the third in a minute is 429 and writes no file', async () => {
  const user = newUser('up');
  const token = await loginOk(trusted, user, '198.51.100.60');
  for (let i = 0; i < 2; i++) assertOk(await upload(token, `198.51.100.${61 + i}`), `upload ${i + 1}`);
  const files = storedFiles();
  assertLimited(await upload(token, '198.51.100.63'), 30, 'third upload');
  assert.equal(storedFiles(), files, 'no file written');
  assertOk(await upload(await loginOk(trusted, newUser('up'), '198.51.100.64'), '198.51.100.64'), 'another user');
});

test('upload per IP: the 4th from one address is 429, before the token check', async () => {
  const ip = '198.51.100.70';
  for (let i = 0; i < 3; i++) assertOk(await upload(await loginOk(trusted, newUser('upip'), '198.51.100.71'), ip));
  const token = await loginOk(trusted, newUser('upip'), '198.51.100.73');
  const files = storedFiles();
  assertLimited(await upload(token, ip), 20, 'the 4th upload from one address');
  assertLimited(await upload(null, ip), 20, 'without a token');
  assert.equal(storedFiles(), files);
  assertOk(await upload(token, '198.51.100.72'), 'from another address');
});

// ---------------------------------------------------------------------------------------
// Not limited, and refilled

test('info is not limited, also for an address and a user that are over their limits', async () => {
  const ip = '198.51.100.80';
  const user = newUser('info');
  const token = await loginOk(trusted, user, ip);
  await loginOk(trusted, user, ip);
  await loginOk(trusted, newUser('info'), ip);
  assertLimited(await login(trusted, user, ip), 30, 'login over both limits');
  for (let i = 0; i < 20; i++) assertOk(await trusted.info(token, { [TOKEN_HEADER]: token, 'x-forwarded-for': ip }), `info ${i}`);
});

test('a bucket refills with time: 60 a minute is one more request a second', async () => {
  // bindPhone without a token on PLAIN: counted per IP (60 a minute), then 501: no WeChat call
  const t0 = Date.now();
  let allowed = 0;
  let r;
  for (;;) {
    r = await plain.bindPhone(null, { code: 'x' });
    if (r.status === 429) break;
    assertErr(r, 501, `request ${allowed + 1}`);
    allowed++;
    assert.ok(allowed <= 200, 'never limited');
  }
  const seconds = Math.ceil((Date.now() - t0) / 1000);
  assert.ok(allowed >= 60 && allowed <= 60 + seconds, `${allowed} allowed in ${seconds} s`);
  assert.equal(assertLimited(r, 1, 'over 60 a minute'), 1);
  // the bucket held less than one token when it refused: 1.2 s later, one or two more
  await sleep(1200);
  assertErr(await plain.bindPhone(null, { code: 'x' }), 501, 'a token came back');
  let more = 0;
  while ((r = await plain.bindPhone(null, { code: 'x' })).status !== 429) {
    assertErr(r, 501);
    more++;
    assert.ok(more <= 2, 'not a full bucket after 1.2 s');
  }
  assertLimited(r, 1, 'spent again');
});
