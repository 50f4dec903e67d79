// Content checks (docs/api.md "Content checks"), on SQLite and MariaDB, against wxemu's
// POST /wxa/msg_sec_check v2 (its risky and review words):
//   - with oa.wx.content-check a risky meeting title, meeting content (also past WeChat's 2,500
//     characters: checked in pieces), vote option or minutes is refused with 815 naming the
//     field, and nothing is stored;
//   - a text WeChat sends for review is stored and flagged for admins (route, object, field,
//     excerpt, label, trace_id); admins list and resolve flags, members may not (506);
//   - WeChat failing (an errcode, a timeout past oa.wx.timeout-ms) never blocks publishing: the
//     text is stored and flagged "unchecked";
//   - texts reach WeChat with the author's openid and no call is made when the check is off.
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
    assert.equal(await calls(), n0);
  } finally {
    await off.stop({ keepDir: true });
  }
});
