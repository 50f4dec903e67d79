// Content checks (docs/api.md "Content checks"), on SQLite and MariaDB, against wxemu's
// POST /wxa/msg_sec_check v2 (its risky and review words):
//   - with oa.wx.content-check a risky meeting title, meeting content (also past WeChat's 2,500
//     characters: checked in pieces), vote option or minutes is refused with 815 naming the
//     field, and nothing is stored;
//   - a text WeChat sends for review is stored and flagged for admins (route, object, field,
//     excerpt, label, trace_id); admins list and resolve flags, members may not (506);
//   - WeChat failing (an errcode, a timeout past oa.wx.timeout-ms) never blocks publishing: the
//     text is stored and flagged "unchecked";
//   - texts reach WeChat with the author's openid and no call is made when the check is off;
//   - nicknames: a risky one is refused by POST /wx/auth/profile (815, 昵称) and left out of a
//     login, which still succeeds; a review (or a failed check) is stored and flagged, on login
//     only when the login created the user (only then is the nickname stored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startWorld, startMeetoa, mergeConfig, APP_ID } from './lib/meetoa.mjs';
import { meetingBody, ok, organization, refused, shiftMeeting } from './lib/org.mjs';

const RISKY = '违禁词甲';
const REVIEW = '待审词乙';
const CHECK = '/wxa/msg_sec_check';

let world, wx, oa, org, admin, host, p1;

before(async () => {
  world = await startWorld({ meetoa: { config: { oa: { wx: { 'content-check': true, 'timeout-ms': 1500 } } } } });
  ({ wx, oa } = world);
  await wx.seccheck(APP_ID, { risky: [RISKY], review: [REVIEW] });
  org = organization(world);
  admin = await org.admin('管理员');
  [host, p1] = await Promise.all(['主持人', '参会人'].map((n) => org.member(n)));
});
after(async () => {
  await world?.stop();
});

const calls = async () => (await wx.stats())[CHECK] ?? 0;
const mine = async () => ok(await host.get('/wx/meeting/list?view=mine')).total;
const openFlags = async () => ok(await admin.get('/wx/content/flags?limit=100')).list;

test('risky texts are refused with 815 naming the field; nothing is stored', async () => {
  const before = await mine();
  const n0 = await calls();
  let r = await host.post('/wx/meeting/create', meetingBody({ title: `季度会 ${RISKY}` }));
  refused(r, 815);
  assert.equal(r.errmsg, '标题含有违规内容，请修改后再提交');
  r = await host.post('/wx/meeting/create', meetingBody({ content: `${'议'.repeat(3000)}${RISKY}` }));
  refused(r, 815, 'the risky word is in the second piece of 2,500 characters');
  assert.equal(r.errmsg, '内容含有违规内容，请修改后再提交');
  assert.equal(await mine(), before, 'nothing stored');
  assert.equal((await calls()) - n0, 2 + 3, 'title and content of the first (2 calls), title and 2 pieces of content');
  // an update is checked too
  const c = ok(await host.post('/wx/meeting/create', meetingBody({ title: '普通会议' })));
  refused(await host.post('/wx/meeting/update', { ...meetingBody({ title: `改成${RISKY}` }), id: c.id, version: c.version }), 815);
  const d = ok(await host.get(`/wx/meeting/detail?id=${c.id}`));
  assert.equal(d.title, '普通会议');
});

test('vote options and minutes are checked', async () => {
  const m = ok(await host.post('/wx/meeting/create', meetingBody({ participantIds: [p1.id] })));
  ok(await host.post('/wx/meeting/submit', { id: m.id }));
  ok(await admin.post('/wx/meeting/approve', { id: m.id, approve: true }));
  const r = await host.post('/wx/vote/create', { meetingId: m.id, title: '方案选择', options: ['方案一', `方案${RISKY}`], passRule: 'none' });
  refused(r, 815);
  assert.equal(r.errmsg, '选项含有违规内容，请修改后再提交');
  ok(await host.post('/wx/vote/create', { meetingId: m.id, title: '方案选择', options: ['方案一', '方案二'], passRule: 'none' }));
  await shiftMeeting(oa, m.id, -3 * 3600); // it has ended: minutes may be written
  const w = await host.post('/wx/meeting/minutes', { id: m.id, text: `纪要：${RISKY}` });
  refused(w, 815);
  assert.equal(w.errmsg, '会议纪要含有违规内容，请修改后再提交');
  ok(await host.post('/wx/meeting/minutes', { id: m.id, text: '纪要：一切正常' }));
});

test('a text for review is stored and flagged; admins list and resolve flags', async () => {
  const c = ok(await host.post('/wx/meeting/create', meetingBody({ title: `讨论${REVIEW}的会议` })));
  const flag = (await openFlags()).find((f) => f.objectId === c.id && f.route === '/wx/meeting/create');
  assert.ok(flag, 'flagged');
  assert.equal(flag.field, 'title');
  assert.equal(flag.verdict, 'review');
  assert.equal(flag.userId, host.id);
  assert.equal(flag.userName, '主持人');
  assert.equal(flag.excerpt, `讨论${REVIEW}的会议`);
  assert.equal(flag.label, 20001);
  assert.match(flag.traceId, /^\S+$/);
  assert.equal(flag.resolved, false);
  assert.equal(ok(await host.get(`/wx/meeting/detail?id=${c.id}`)).title, `讨论${REVIEW}的会议`, 'stored');
  refused(await host.get('/wx/content/flags'), 506);
  refused(await host.post('/wx/content/flags/resolve', { id: flag.id }), 506);
  ok(await admin.post('/wx/content/flags/resolve', { id: flag.id }));
  refused(await admin.post('/wx/content/flags/resolve', { id: flag.id }), 804, 'resolved already');
  assert.ok(!(await openFlags()).some((f) => f.id === flag.id));
  const all = ok(await admin.get('/wx/content/flags?all=true&limit=100')).list;
  assert.equal(all.find((f) => f.id === flag.id).resolved, true);
});

test('WeChat failing or slow never blocks publishing: stored and flagged unchecked', async () => {
  await wx.faults({ path: CHECK, errcode: -1, count: 2 });
  const a = ok(await host.post('/wx/meeting/create', meetingBody({ title: '系统繁忙时的会议' })));
  let flags = (await openFlags()).filter((f) => f.objectId === a.id);
  assert.deepEqual(flags.map((f) => [f.field, f.verdict, f.errcode]).sort(), [['content', 'unchecked', -1], ['title', 'unchecked', -1]]);
  // slower than oa.wx.timeout-ms (1.5 s): answered after the timeout, stored, flagged
  await wx.faults({ path: CHECK, delay_ms: 4000, count: 2 });
  const t0 = Date.now();
  const b = ok(await host.post('/wx/meeting/create', meetingBody({ title: '超时的会议' })));
  assert.ok(Date.now() - t0 < 3500, `answered after the timeout, not after WeChat (${Date.now() - t0} ms)`);
  flags = (await openFlags()).filter((f) => f.objectId === b.id);
  assert.equal(flags.length, 2);
  assert.ok(flags.every((f) => f.verdict === 'unchecked' && f.errcode === -3));
  await wx.clearFaults();
});

test('the author\'s openid goes to WeChat (61010 when they have not visited: stored, flagged)', async () => {
  await wx.visit(APP_ID, { openid: p1.openid }, { stale: true });
  const c = ok(await p1.post('/wx/meeting/create', meetingBody({ title: '久未访问者的会议' })));
  const flags = (await openFlags()).filter((f) => f.objectId === c.id);
  assert.ok(flags.length > 0 && flags.every((f) => f.verdict === 'unchecked' && f.errcode === 61010));
});

test('no call to WeChat when the check is off', async () => {
  const off = await startMeetoa({ wxemu: wx, appSecret: world.appSecret, dataKey: oa.dataKey, dir: oa.dir, config: mergeConfig(oa.config, { oa: { wx: { 'content-check': false } } }) });
  try {
    const header = oa.config.oa.token.header;
    const n0 = await calls();
    const r = await off.post('/wx/meeting/create', meetingBody({ title: `关闭检查 ${RISKY}` }), { [header]: host.token });
    ok(r, 'not checked: stored');
    const login = await wx.newLogin(APP_ID, `off-${Math.random().toString(36).slice(2, 8)}`);
    assert.equal(ok(await off.loginWithCode(login.code, { nickName: `关闭${RISKY}` })).userInfo.nickName, `关闭${RISKY}`, 'a nickname neither');
    assert.equal(await calls(), n0);
  } finally {
    await off.stop({ keepDir: true });
  }
});

// ---- nicknames ----

const header = () => oa.config.oa.token.header;
const info = async (token) => ok(await oa.get('/wx/auth/info', { [header()]: token }));
const userId = async (token) => ok(await oa.get('/wx/member/me', { [header()]: token })).userId;
/** A new wxemu user's first login with userInfo {nickName, avatarUrl, gender}; {r, user, token}. */
async function loginAs(nickName) {
  const user = `nick-${Math.random().toString(36).slice(2, 8)}`;
  const login = await wx.newLogin(APP_ID, user);
  const r = await oa.loginWithCode(login.code, { nickName, avatarUrl: 'https://example.com/a.png', gender: 1 });
  return { r, user, token: r.data?.token };
}

test('POST /wx/auth/profile: a risky nickname is refused with 815 and nothing is stored', async () => {
  const v = await org.visitor('改名者');
  const n0 = await calls();
  const r = await v.post('/wx/auth/profile', { nickname: `昵称${RISKY}`, gender: 2 });
  refused(r, 815);
  assert.equal(r.errmsg, '昵称含有违规内容，请修改后再提交');
  assert.equal((await calls()) - n0, 1, 'one check');
  const me = await info(v.token);
  assert.equal(me.nickName, '改名者', 'nickname unchanged');
  assert.equal(me.gender, 0, 'nothing of the request stored');
  // a clean nickname goes through, and a request without one makes no call
  assert.equal(ok(await v.post('/wx/auth/profile', { nickname: '新名字' })).nickName, '新名字');
  const n1 = await calls();
  assert.equal(ok(await v.post('/wx/auth/profile', { gender: 1 })).gender, 1);
  assert.equal(await calls(), n1, 'no nickname: no check');
});

test('POST /wx/auth/profile: a nickname for review is stored and flagged; a failed check too', async () => {
  const v = await org.visitor('待审者');
  const nick = `叫我${REVIEW}`;
  assert.equal(ok(await v.post('/wx/auth/profile', { nickname: nick })).nickName, nick);
  assert.equal((await info(v.token)).nickName, nick, 'stored');
  let flags = (await openFlags()).filter((f) => f.userId === v.id && f.route === '/wx/auth/profile');
  assert.equal(flags.length, 1);
  assert.equal(flags[0].field, 'nickname');
  assert.equal(flags[0].objectId, v.id, 'the object is the user');
  assert.equal(flags[0].verdict, 'review');
  assert.equal(flags[0].excerpt, nick);
  assert.equal(flags[0].userName, nick, 'not a member: the nickname');
  assert.equal(flags[0].label, 20001);
  await wx.faults({ path: CHECK, code: v.openid, errcode: -1 });
  ok(await v.post('/wx/auth/profile', { nickname: '繁忙时改名' }));
  assert.equal((await info(v.token)).nickName, '繁忙时改名', 'stored');
  flags = (await openFlags()).filter((f) => f.userId === v.id && f.route === '/wx/auth/profile' && f.verdict === 'unchecked');
  assert.deepEqual(flags.map((f) => [f.field, f.errcode, f.excerpt]), [['nickname', -1, '繁忙时改名']]);
});

test('login: a risky nickname never refuses the login; it is not stored', async () => {
  const n0 = await calls();
  const a = await loginAs(`坏名${RISKY}`);
  const data = ok(a.r, 'login');
  assert.equal((await calls()) - n0, 1, 'checked');
  assert.equal(data.userInfo.nickName, '', 'a new user: no nickname');
  assert.equal(data.userInfo.avatarUrl, 'https://example.com/a.png', 'the rest of the profile is stored');
  assert.equal(data.userInfo.gender, 1);
  assert.equal((await info(a.token)).nickName, '');
  // a returning user keeps the nickname they have
  const b = await loginAs('原来的名字');
  ok(b.r);
  const again = await wx.newLogin(APP_ID, b.user);
  const r = await oa.loginWithCode(again.code, { nickName: `新${RISKY}` });
  assert.equal(ok(r).userInfo.nickName, '原来的名字');
  // two requests of one code in flight share the login and its answer
  const c = await wx.newLogin(APP_ID, `nick-flight-${Math.random().toString(36).slice(2, 8)}`);
  await wx.faults({ path: CHECK, code: c.openid, delay_ms: 400 }); // keep the check in flight
  const body = { nickName: `同码${RISKY}` };
  const [x, y] = await Promise.all([oa.loginWithCode(c.code, body), oa.loginWithCode(c.code, body)]);
  assert.equal(ok(x).token, ok(y).token, 'one login');
  assert.equal(x.data.userInfo.nickName, '');
  const none = (await openFlags()).filter((f) => f.route === '/wx/auth/login_by_weixin' && f.excerpt.includes(RISKY));
  assert.equal(none.length, 0, 'risky: not stored, so not flagged');
});

test('login: a nickname for review (or a failed check) is stored and flagged when the login creates the user', async () => {
  const nick = `审核${REVIEW}`;
  const a = await loginAs(nick);
  assert.equal(ok(a.r).userInfo.nickName, nick, 'stored');
  const id = await userId(a.token);
  const mine = async () => (await openFlags()).filter((f) => f.userId === id && f.route === '/wx/auth/login_by_weixin');
  let flags = await mine();
  assert.equal(flags.length, 1);
  assert.equal(flags[0].field, 'nickname');
  assert.equal(flags[0].objectId, id);
  assert.equal(flags[0].verdict, 'review');
  assert.equal(flags[0].excerpt, nick);
  assert.equal(flags[0].userName, nick);
  assert.match(flags[0].traceId, /^\S+$/);
  // the same user logs in again: the nickname is not stored again, so no new flag
  const again = await wx.newLogin(APP_ID, a.user);
  ok(await oa.loginWithCode(again.code, { nickName: nick }));
  assert.equal((await mine()).length, 1);
  // WeChat failing: the login goes on, the nickname is stored and flagged unchecked
  const b = await wx.newLogin(APP_ID, `nick-busy-${Math.random().toString(36).slice(2, 8)}`);
  await wx.faults({ path: CHECK, code: b.openid, errcode: -1 });
  const r = await oa.loginWithCode(b.code, { nickName: '繁忙时登录' });
  assert.equal(ok(r).userInfo.nickName, '繁忙时登录');
  const bid = await userId(r.data.token);
  flags = (await openFlags()).filter((f) => f.userId === bid);
  assert.deepEqual(flags.map((f) => [f.route, f.field, f.verdict, f.errcode]), [['/wx/auth/login_by_weixin', 'nickname', 'unchecked', -1]]);
});

test('no checked text appears in the log', () => {
  const log = oa.logs();
  for (const word of [RISKY, REVIEW, '繁忙时登录', '繁忙时改名'])
    assert.ok(!log.includes(word), `"${word}" logged`);
});

test('the server stops cleanly: exit 0, no sanitizer report', async () => {
  const exit = await oa.stop({ keepDir: true });
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(!/Sanitizer/.test(oa.logs()), oa.logs().slice(-3000));
});
