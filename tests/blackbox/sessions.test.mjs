// sessions.test.mjs — the user's own sessions and login log (docs/api.md "Sessions"):
// GET /wx/auth/sessions (live sessions, newest first, this one marked current, no token or hash
// in the answer), POST /wx/auth/logout_session {id} (one of them: refused at once; 804 for an
// unknown id or another user's), POST /wx/auth/logout_all (every one: refused at once here and,
// on a second meetoa on the same database, within oa.token.cache-seconds), the last use recorded
// at most once a minute, the login log (login, phone, logout, logout_all, refused with its errno;
// pages, newest first) and its sweep (rows older than oa.auth.login-log-days, at start).
// Runs on SQLite and MariaDB (MEETOA_TEST_DB) like every suite.

import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMeetoa, assertOk, assertErr, eventually, newSecret, newDataKey, nowEpochSql, sqlText, sqlHex, APP_ID } from './lib/meetoa.mjs';
import { startWxemu } from './lib/wxemu.mjs';

const CACHE_SECONDS = 2;
const SQL_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

let wx, a, b, appSecret, dataKey;

before(async () => {
  appSecret = newSecret();
  dataKey = newDataKey();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
  const config = { oa: { token: { 'cache-seconds': CACHE_SECONDS } } };
  a = await startMeetoa({ wxemu: wx, appSecret, dataKey, config });
  // b: a second process on a's database (after a: a has migrated it)
  b = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { ...config.oa, datasource: { url: a.config.oa.datasource.url } } } });
});

after(async () => {
  await b?.stop();
  await a?.stop();
  await wx?.stop();
});

const H = (token) => ({ 'X-OA-Token': token });

/** errno 804 (API_NO_SUCH_OBJECT, 数据不存在; not in the shared ERRMSG table). */
function assertNoSuch(r, what) {
  assert.equal(r.errno, 804, `${what}: ${r.text}`);
  assert.equal(r.errmsg, '数据不存在', what);
}
const sessions = (oa, token) => oa.get('/wx/auth/sessions', H(token));
const logoutAll = (oa, token) => oa.post('/wx/auth/logout_all', {}, H(token));
const logoutSession = (oa, token, id) => oa.post('/wx/auth/logout_session', { id }, H(token));
const loginLog = (oa, token, query = '') => oa.get(`/wx/auth/login_log${query}`, H(token));

async function openidOf(user) {
  return (await wx.newLogin(APP_ID, user)).openid;
}

async function userIdOf(user) {
  const rows = await a.sql(`SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(await openidOf(user))};`);
  return Number(rows[0][0]);
}

describe('the sessions list', () => {
  test('every live session of the caller, newest first, this one marked, nothing secret', async () => {
    const first = await a.loginOk('lisa');
    await a.sql(`UPDATE wx_session SET created_at = created_at - 10 WHERE user_id = ${await userIdOf('lisa')};`);
    const second = await a.loginOk('lisa');
    const other = await a.loginOk('lisa-neighbour');

    const r = await sessions(a, first);
    assertOk(r, 'sessions');
    assert.deepEqual(Object.keys(r.data).sort(), ['limit', 'list', 'page', 'pages', 'total']);
    assert.equal(r.data.total, 2, 'two sessions of lisa, not the neighbour\'s');
    assert.equal(r.data.page, 1);
    assert.equal(r.data.limit, 2);
    assert.equal(r.data.pages, 1);
    const [newest, oldest] = r.data.list;
    assert.equal(newest.current, false, 'the newest is the second login');
    assert.equal(oldest.current, true, 'the caller\'s own is marked');
    for (const s of r.data.list) {
      assert.match(s.id, /^[0-9a-f]{16}$/);
      for (const k of ['createdAt', 'lastUsedAt', 'expireTime']) assert.match(s[k], SQL_TIME, k);
      assert.equal(s.ip, '127.0.0.1');
      assert.equal(s.loginIp, '127.0.0.1');
    }
    assert.ok(oldest.createdAt < newest.createdAt, 'newest first');
    for (const t of [first, second, other]) assert.ok(!r.text.includes(t), 'no token in the answer');
    const hashes = await a.sql(`SELECT ${sqlHex('token_hash')} FROM wx_session;`);
    for (const [h] of hashes) {
      assert.ok(!r.text.includes(h), 'no token hash in the answer');
      assert.ok(!r.text.includes(h.slice(0, 16)), 'not even a piece of one');
    }

    // the same list from the other session: the ids are stable, the mark moves
    const r2 = await sessions(a, second);
    assertOk(r2);
    assert.deepEqual(r2.data.list.map((s) => s.id), r.data.list.map((s) => s.id));
    assert.deepEqual(r2.data.list.map((s) => s.current), [true, false]);
    assertErr(await sessions(a, 'x'.repeat(43)), 501, 'not without a valid token');
  });

  test('the last use: recorded when a minute old, not before (no write per request)', async () => {
    const token = await a.loginOk('mona');
    const user = await userIdOf('mona');
    const touched = async () => Number((await a.sql(`SELECT ${nowEpochSql(a)} - last_used_at FROM wx_session WHERE user_id = ${user};`))[0][0]);
    // 30 s ago: too recent to write again, whatever the traffic
    await a.sql(`UPDATE wx_session SET last_used_at = ${nowEpochSql(a)} - 30, last_ip = '' WHERE user_id = ${user};`);
    assertOk(await b.info(token), 'b reads the row (its cache has never seen it)');
    assert.ok((await touched()) >= 29, 'not written');
    // 120 s ago: the next database read of the session writes it
    await a.sql(`UPDATE wx_session SET last_used_at = ${nowEpochSql(a)} - 120 WHERE user_id = ${user};`);
    const c = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { datasource: { url: a.config.oa.datasource.url } } } });
    try {
      assertOk(await c.info(token));
    } finally {
      await c.stop();
    }
    assert.ok((await touched()) <= 5, 'written now');
    const r = await sessions(a, token);
    assert.equal(r.data.list[0].ip, '127.0.0.1', 'from where');
  });
});

describe('ending sessions', () => {
  test('logout_session ends that one at once; the caller\'s own session lives on', async () => {
    const keep = await a.loginOk('nina');
    const end = await a.loginOk('nina');
    assertOk(await a.info(end), 'cached on a');
    const list = (await sessions(a, keep)).data.list;
    const target = list.find((s) => !s.current);
    assertOk(await logoutSession(a, keep, target.id), 'logout_session');
    assertErr(await a.info(end), 501, 'refused at once on this process');
    assertOk(await a.info(keep));
    const after = (await sessions(a, keep)).data;
    assert.equal(after.total, 1);
    assert.equal(after.list[0].current, true);
    assertNoSuch(await logoutSession(a, keep, target.id), 'gone already');
  });

  test('logout_session refuses ids that are not one of the caller\'s sessions', async () => {
    const mine = await a.loginOk('olga');
    const theirs = await a.loginOk('olga-neighbour');
    const theirId = (await sessions(a, theirs)).data.list[0].id;
    assertNoSuch(await logoutSession(a, mine, theirId), 'another user\'s session');
    assertOk(await a.info(theirs), 'and it lives on');
    assertNoSuch(await logoutSession(a, mine, '0123456789abcdef'), 'an unknown id');
    assertNoSuch(await logoutSession(a, mine, 'notanid'), 'not even an id\'s shape');
    assertErr(await a.post('/wx/auth/logout_session', {}, H(mine)), 401, 'no id');
    assertErr(await a.post('/wx/auth/logout_session', { id: 5 }, H(mine)), 401, 'not a string');
  });

  test('logout_session of the caller\'s own session logs it out', async () => {
    const token = await a.loginOk('paula');
    const id = (await sessions(a, token)).data.list[0].id;
    assertOk(await logoutSession(a, token, id));
    assertErr(await a.info(token), 501);
  });

  test('logout_all: every session refused at once here, and by the other process within cache-seconds', async () => {
    const one = await a.loginOk('quinn');
    const two = await a.loginOk('quinn');
    const bystander = await a.loginOk('quinn-neighbour');
    for (const t of [one, two]) {
      assertOk(await a.info(t), 'cached on a');
      assertOk(await b.info(t), 'cached on b');
    }
    const t0 = Date.now();
    const r = await logoutAll(a, one);
    assertOk(r, 'logout_all');
    assert.deepEqual(r.data, { ended: 2 });
    for (const t of [one, two]) assertErr(await a.info(t), 501, 'refused at once on a');
    const refused = await eventually(async () => (await b.info(one)).errno === 501 && (await b.info(two)).errno === 501, (CACHE_SECONDS + 1) * 1000, 50);
    assert.ok(refused, 'refused on b');
    assert.ok(Date.now() - t0 <= (CACHE_SECONDS + 1) * 1000 + 500, `b refused within cache-seconds + 1 s (${Date.now() - t0} ms)`);
    assertOk(await b.info(bystander), 'nobody else is logged out');
    assertOk(await a.info(bystander));
    const rows = await a.sql(`SELECT count(*) FROM wx_session WHERE user_id = ${await userIdOf('quinn')};`);
    assert.equal(rows[0][0], '0', 'no row left');
  });
});

describe('the login log', () => {
  test('logins, a number bound, a refused login with its errno, logouts: newest first, in pages', async () => {
    const openid = await openidOf('rita');
    const first = await a.loginOk('rita');
    const phone = await wx.phoneCode(APP_ID, 'rita', '13900001111');
    assertOk(await a.bindPhone(first, { code: phone }), 'bindPhone');
    assertOk(await a.logout(first), 'logout');
    assert.equal((await a.setUserStatus(openid, 1)).code, 0);
    assertErr(await a.login('rita'), 720, 'a disabled user is refused');
    assert.equal((await a.setUserStatus(openid, 0)).code, 0);
    const token = await a.loginOk('rita');
    assertOk(await logoutAll(a, token));
    const last = await a.loginOk('rita');

    const r = await loginLog(a, last);
    assertOk(r, 'login_log');
    const events = r.data.list.map((e) => [e.event, e.errno]);
    assert.deepEqual(events, [
      ['login', 0],
      ['logout_all', 0],
      ['login', 0],
      ['refused', 720],
      ['logout', 0],
      ['phone', 0],
      ['login', 0],
    ]);
    assert.equal(r.data.total, 7);
    assert.equal(r.data.page, 1);
    assert.equal(r.data.limit, 20);
    for (const e of r.data.list) {
      assert.deepEqual(Object.keys(e).sort(), ['errno', 'event', 'id', 'ip', 'time']);
      assert.equal(e.ip, '127.0.0.1');
      assert.match(e.time, SQL_TIME);
    }
    const ids = r.data.list.map((e) => e.id);
    assert.deepEqual([...ids].sort((x, y) => y - x), ids, 'newest first');

    const p2 = await loginLog(a, last, '?page=2&limit=3');
    assertOk(p2);
    assert.deepEqual(p2.data.list.map((e) => e.id), ids.slice(3, 6));
    assert.equal(p2.data.total, 7);
    assert.equal(p2.data.pages, 3);
    assertErr(await loginLog(a, last, '?limit=0'), 402);
    assertErr(await loginLog(a, last, '?limit=101'), 402);
    assertErr(await loginLog(a, last, '?page=x'), 402);

    const others = await loginLog(a, await a.loginOk('rita-neighbour'));
    assert.deepEqual(others.data.list.map((e) => e.event), ['login'], 'only the caller\'s own rows');
  });

  test('the phone number a login binds is logged with the login', async () => {
    const code = await wx.newCode(APP_ID, 'sara');
    const r = await a.post('/wx/auth/login_by_weixin', { code, phoneCode: await wx.phoneCode(APP_ID, 'sara', '13900002222') });
    assertOk(r, 'login with phoneCode');
    const log = await loginLog(a, r.data.token);
    assert.deepEqual(log.data.list.map((e) => e.event), ['phone', 'login']);
  });

  test('rows older than oa.auth.login-log-days are swept (at start, and every 10 minutes)', async () => {
    const token = await a.loginOk('tina');
    const user = await userIdOf('tina');
    const day = 86400;
    await a.sql(
      `INSERT INTO oa_login_log (user_id, event, errno, ip, created_at) VALUES ` +
        `(${user}, 'login', 0, '10.0.0.1', ${nowEpochSql(a)} - 200 * ${day}), ` +
        `(${user}, 'login', 0, '10.0.0.2', ${nowEpochSql(a)} - 170 * ${day}), ` +
        `(${user}, 'login', 0, '10.0.0.3', ${nowEpochSql(a)} - 40 * ${day});`,
    );
    const ips = async () => (await loginLog(a, token)).data.list.map((e) => e.ip).sort();
    assert.deepEqual(await ips(), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '127.0.0.1']);
    // a process with the default (180 days) sweeps the 200-day-old row at its start
    const c = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { datasource: { url: a.config.oa.datasource.url } } } });
    try {
      assert.ok(await eventually(() => /deleted \d+ login log rows older than 180 days/.test(c.logs()), 5000, 50), c.logs());
      assert.deepEqual(await ips(), ['10.0.0.2', '10.0.0.3', '127.0.0.1']);
    } finally {
      await c.stop();
    }
    // one with 30 days sweeps the others but today's
    const d = await startMeetoa({ wxemu: wx, appSecret, dataKey, config: { oa: { auth: { 'login-log-days': 30 }, datasource: { url: a.config.oa.datasource.url } } } });
    try {
      assert.ok(await eventually(() => /deleted \d+ login log rows older than 30 days/.test(d.logs()), 5000, 50), d.logs());
      assert.deepEqual(await ips(), ['127.0.0.1']);
    } finally {
      await d.stop();
    }
  });
});
