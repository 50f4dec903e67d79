// The user's own account (docs/api.md "Account"), on SQLite and MariaDB, with two meetoa
// processes on one database:
//   - POST /wx/auth/delete_account needs a fresh wx.login() code of the same WeChat user (none:
//     401, another user's: 506, WeChat's refusals: the login's errnos) and closes the account:
//     both of the user's tokens refused at once on this process and within cache-seconds on the
//     other; the row a tombstone with every personal field erased; the uploaded avatar file
//     deleted; "已注销用户" in the meeting's attendee list; the user's named vote no longer names
//     them (the count stays); a later login with the same WeChat account is a new, empty user;
//   - refused while the user hosts a meeting that has not ended (816 with the list; after the
//     cancel it works) and for the last admin (807);
//   - GET /wx/auth/export: a JSON file with the caller's profile, membership, sessions (this one
//     current), login log, meetings with role and sign-in, named and anonymous ballots and
//     uploads, and nothing of anybody else;
//   - `meetoa user delete OPENID` does the same for operators.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { APP_ID, MEETOA_BIN, eventually, multipart, run, startMeetoa, startWorld } from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';
import { approvedMeeting, ok, organization, refused, shiftMeeting } from './lib/org.mjs';

const CACHE_SECONDS = 1;
let world, wx, oa, other, org, admin, host;
const storageDir = mkdtempSync(path.join(tmpdir(), 'meetoa-account-'));

before(async () => {
  world = await startWorld({ meetoa: { config: { oa: { storage: { dir: storageDir }, token: { 'cache-seconds': CACHE_SECONDS } } } } });
  ({ wx, oa } = world);
  // a second process on the same database (after the first: it has migrated it)
  other = await startMeetoa({
    wxemu: wx, appSecret: world.appSecret, dataKey: oa.dataKey,
    config: { oa: { storage: { dir: storageDir }, token: { 'cache-seconds': CACHE_SECONDS }, datasource: { url: oa.config.oa.datasource.url } } },
  });
  org = organization(world);
  admin = await org.admin('管理员');
  host = await org.member('主持人');
});
after(async () => {
  await other?.stop({ keepDir: true });
  await world?.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

const H = (token) => ({ [oa.config.oa.token.header]: token });
const closeAccount = async (who, code, on = oa) => on.post('/wx/auth/delete_account', code === undefined ? {} : { code }, H(who.token));
const freshCode = (who) => wx.newCode(APP_ID, who.wxUser);
const row = async (id) => (await oa.sql(`SELECT status, deleted, nickname, avatar, mobile, unionid, weixin_openid, username, last_login_ip FROM wx_user WHERE id = ${id}`))[0];
const count = async (sql) => Number((await oa.sql(sql))[0][0]);

test('closing needs a fresh code of the same WeChat user', async () => {
  const p = await org.member('确认者');
  refused(await closeAccount(p), 401, 'no code');
  refused(await closeAccount(p, await freshCode(host)), 506, "another user's code");
  refused(await closeAccount(p, 'not-a-code-of-wechat'), 710, 'a code WeChat does not know');
  const code = await freshCode(p);
  await oa.loginWithCode(code, { nickName: '确认者' }); // the code is used by a login first
  refused(await closeAccount(p, code), 711, 'a used code');
  refused(await oa.post('/wx/auth/delete_account', { code: await freshCode(p) }), 501, 'no token');
  assert.equal((await row(p.id))[0], '0', 'still open');
  ok(await p.get('/wx/auth/info'));
});

test('a closed account: tombstone, tokens refused on both instances, avatar file gone, named vote anonymous', async () => {
  const p = await org.member('将注销');
  // a second session, used on the other process (so that process has it cached)
  const second = ok(await oa.loginWithCode(await freshCode(p), { nickName: '将注销' })).token;
  ok(await other.get('/wx/auth/info', H(second)));
  // an avatar of ours, a phone number, a named and an anonymous ballot on the host's meeting
  const up = await oa.upload(p.token, tinyPng({ text: 'avatar' }), 'a.png', 'image/png');
  assert.equal(up.errno, 0, up.text);
  ok(await oa.profile(p.token, { avatar: up.data.url, nickName: '将注销' }));
  await oa.sql(`UPDATE wx_user SET mobile = '13800138000', unionid = 'union-of-p' WHERE id = ${p.id}`);
  const m = await approvedMeeting(host, admin, { participantIds: [p.id] });
  const named = ok(await host.post('/wx/vote/create', { meetingId: m.id, title: '具名表决', options: ['同意', '反对'], passRule: 'none' }));
  const secret = ok(await host.post('/wx/vote/create', { meetingId: m.id, title: '无记名表决', options: ['同意', '反对'], anonymous: true, passRule: 'none' }));
  for (const v of [named, secret]) {
    ok(await host.post('/wx/vote/open', { id: v.id }));
    ok(await p.post('/wx/vote/cast', { id: v.id, optionIds: [v.options[1].id] }));
  }
  const voters = async () => ok(await host.get(`/wx/vote/result?id=${named.id}`)).options[1];
  assert.deepEqual((await voters()).voters.map((x) => x.userId), [p.id]);

  ok(await closeAccount(p, await freshCode(p)));

  // both tokens: refused here at once, on the other process within cache-seconds (+1 s of clock)
  refused(await oa.info(p.token), 501, 'first token, this process');
  refused(await oa.info(second), 501, 'second token, this process');
  const t0 = Date.now();
  assert.ok(await eventually(async () => (await other.get('/wx/auth/info', H(second))).errno === 501, (CACHE_SECONDS + 1) * 1000 + 500, 50),
    'the other process refuses within cache-seconds');
  assert.ok(Date.now() - t0 <= (CACHE_SECONDS + 1) * 1000 + 500);
  assert.equal(await count(`SELECT count(*) FROM wx_session WHERE user_id = ${p.id}`), 0, 'no session left');

  // the tombstone
  const [status, deleted, nickname, avatar, mobile, unionid, openid, username, ip] = await row(p.id);
  assert.deepEqual([status, deleted, nickname, avatar, mobile, unionid, ip], ['2', '1', '', '', '', '', '']);
  assert.equal(openid, `deleted:${p.id}`);
  assert.equal(username, `deleted:${p.id}`);
  assert.equal(existsSync(path.join(storageDir, up.data.key)), false, 'the avatar file is deleted');
  assert.equal((await fetch(up.data.url)).status, 404);

  // the meeting keeps a "已注销用户"; the named vote keeps the count, not the voter
  const detail = ok(await host.get(`/wx/meeting/detail?id=${m.id}`));
  const stone = detail.attendees.find((a) => a.userId === p.id);
  assert.ok(stone, JSON.stringify(detail.attendees));
  assert.equal(stone.name, '已注销用户');
  assert.equal(stone.avatar, '');
  const after = await voters();
  assert.equal(after.count, 1, 'the count stays');
  assert.deepEqual(after.voters, [], 'nobody named');
  assert.equal(ok(await host.get(`/wx/vote/result?id=${secret.id}`)).votes, 1);
  assert.equal(await count(`SELECT count(*) FROM oa_vote_choice WHERE user_id = ${p.id}`), 0);

  // the same WeChat account later: a new, empty user
  const again = ok(await oa.loginWithCode(await freshCode(p)));
  const me = ok(await oa.get('/wx/member/me', H(again.token)));
  assert.notEqual(me.userId, p.id);
  assert.equal(me.membership, 'none');
  assert.equal(ok(await oa.info(again.token)).mobile, '');
  refused(await closeAccount({ token: second }, await freshCode(p)), 501, 'the old token closes nothing');
});

test('refused while hosting a meeting that has not ended, and for the last admin', async () => {
  const h = await org.member('忙碌主持');
  const m = await approvedMeeting(h, admin, {}, { startIn: 2 * 3600e3 });
  const past = await approvedMeeting(h, admin, {});
  await shiftMeeting(oa, past.id, -3 * 3600); // ended: no obstacle
  const r = await closeAccount(h, await freshCode(h));
  assert.equal(r.errno, 816, r.text);
  assert.equal(r.errmsg, '您还主持着未结束的会议，请先取消后再注销');
  assert.deepEqual(r.data.list.map((x) => x.id), [m.id]);
  assert.equal(r.data.list[0].title, '周例会 🗓️');
  assert.match(r.data.list[0].startTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.equal((await row(h.id))[0], '0', 'nothing written');
  ok(await h.post('/wx/meeting/cancel', { id: m.id, reason: '注销前取消' }));
  ok(await closeAccount(h, await freshCode(h)));

  refused(await closeAccount(admin, await freshCode(admin)), 807, 'the last admin');
  assert.equal((await row(admin.id))[0], '0');
});

test('export: everything about the caller, nothing about anybody else', async () => {
  const p = await org.member('导出者', '研发部');
  const bystander = await org.member('旁观者');
  const m = await approvedMeeting(host, admin, { participantIds: [p.id, bystander.id] });
  const v = ok(await host.post('/wx/vote/create', { meetingId: m.id, title: '导出表决', options: ['甲', '乙'], passRule: 'none' }));
  ok(await host.post('/wx/vote/open', { id: v.id }));
  ok(await p.post('/wx/vote/cast', { id: v.id, optionIds: [v.options[0].id] }));
  ok(await bystander.post('/wx/vote/cast', { id: v.id, optionIds: [v.options[1].id] }));
  await shiftMeeting(oa, m.id, -3 * 3600);
  const form = multipart([{ name: 'id', data: String(m.id) }, { name: 'file', filename: '白板.png', type: 'image/png', data: tinyPng({ text: 'wb' }) }]);
  // the host's upload: in the host's export, not p's
  ok(await oa.send('POST', '/wx/meeting/attachment', form.body, { 'content-type': form.contentType, ...H(host.token) }));

  const r = await oa.get('/wx/auth/export', H(p.token));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(r.headers.get('content-disposition'), 'attachment; filename="meetoa-export.json"');
  const x = JSON.parse(r.text);
  assert.equal(x.format, 'meetoa-export');
  assert.equal(x.version, 1);
  assert.equal(x.profile.id, p.id);
  assert.equal(x.profile.openid, p.openid);
  assert.equal(x.profile.nickName, '导出者');
  assert.deepEqual([x.membership.name, x.membership.department, x.membership.status, x.membership.role], ['导出者', '研发部', 'active', 'member']);
  assert.equal(x.sessions.length, 1);
  assert.equal(x.sessions[0].current, true);
  assert.match(x.sessions[0].id, /^[0-9a-f]{16}$/);
  assert.ok(x.loginLog.some((e) => e.event === 'login'));
  assert.deepEqual(x.meetings.map((e) => [e.id, e.role]), [[m.id, 'participant']]);
  assert.deepEqual(x.votes, [{ voteId: v.id, meetingId: m.id, title: '导出表决', anonymous: false, choices: ['甲'] }]);
  assert.deepEqual(x.uploads.attachments, []);
  for (const s of [bystander.openid, '旁观者', bystander.token, host.openid, p.token, '乙'])
    assert.ok(!r.text.includes(s), `nothing of anybody else, no token: ${s}`);

  const hx = JSON.parse((await oa.get('/wx/auth/export', H(host.token))).text);
  assert.deepEqual(hx.uploads.attachments.map((a) => a.name), ['白板.png']);
  assert.ok(hx.meetings.some((e) => e.id === m.id && e.role === 'host'));
  refused(await oa.get('/wx/auth/export'), 501);
});

test('meetoa user delete OPENID closes an account for operators', async () => {
  const p = await org.member('运维注销');
  const r = await run(MEETOA_BIN, ['user', '--config', oa.configPath, 'delete', p.openid]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /account closed/);
  assert.equal((await row(p.id))[0], '2');
  assert.ok(await eventually(async () => (await oa.info(p.token)).errno === 501, (CACHE_SECONDS + 1) * 1000 + 500, 50),
    'refused within cache-seconds');
  const again = await run(MEETOA_BIN, ['user', '--config', oa.configPath, 'delete', p.openid]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no open account/);
  const busy = await org.member('运维主持');
  const m = await approvedMeeting(busy, admin);
  const refusedRun = await run(MEETOA_BIN, ['user', '--config', oa.configPath, 'delete', busy.openid]);
  assert.equal(refusedRun.code, 1);
  assert.match(refusedRun.stderr, new RegExp(`meeting ${m.id} at .*周例会`));
  assert.equal((await row(busy.id))[0], '0');
});

test('the last admin closes once there is another admin', async () => {
  const next = await org.member('接任管理员');
  const made = await run(MEETOA_BIN, ['user', '--config', oa.configPath, 'role', next.openid, 'admin']);
  assert.equal(made.code, 0, made.stderr);
  ok(await closeAccount(admin, await freshCode(admin)));
  assert.equal((await row(admin.id))[0], '2');
  assert.equal(ok(await next.get('/wx/member/me')).role, 'admin');
});
