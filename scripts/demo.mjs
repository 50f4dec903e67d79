#!/usr/bin/env node
// scripts/demo.mjs — `make demo`: the mini program's login flow, then the meeting OA (joining the
// organization, publishing, approving and answering a meeting), walked through step by step
// against the servers of `make run` (meetoa on MEETOA_PORT, default 8080; wxemu on WXEMU_PORT,
// default 9101; appid wx0123456789abcdef, as scripts/run.sh configures them).
//
// The organization's part has three people, each with a phone: an admin (made with
// `meetoa user --config .run/application.yml role OPENID admin`, the binary of MEETOA_BIN or
// build/meetoa, the config of MEETOA_CONFIG or .run/application.yml), the demo user (joins with
// an invite code the admin makes on 成员审批, publishes a meeting) and a colleague (asks to join,
// the admin approves, then answers the invitation). The admin adds a room through the API (the
// mini program has no room page); its name carries the run's time, so runs do not clash.
//
// It runs the real code of miniprogram/ (app, pages, utils) in Node with the `wx` stand-in of
// tests/miniprogram (wx.login asks wxemu for the phone's code, wx.request and wx.uploadFile are
// real HTTP calls), drives the pages as a user would and prints each step and each call the
// mini program made. A fresh user (demo-<time>, or DEMO_USER) and a fresh phone number are used
// so that every run shows a first login. Exit status 0 when every step did what it should.
// Tokens are secrets: only their length is printed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createWx } from '../tests/miniprogram/wx-stub.mjs';
import { loadMiniprogram, apiConfig, SAMPLE_AVATAR } from '../tests/miniprogram/harness.mjs';

const APPID = 'wx0123456789abcdef';
const oaBase = `http://127.0.0.1:${process.env.MEETOA_PORT || 8080}`;
const emuBase = `http://127.0.0.1:${process.env.WXEMU_PORT || 9101}`;
const user = process.env.DEMO_USER || `demo-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
const phoneNumber = '139' + String(Math.floor(Math.random() * 1e8)).padStart(8, '0');

let step = 0;
function title(text) {
  step++;
  console.log(`\n${step}. ${text}`);
}
const say = (text) => console.log(`   ${text}`);
const callLog = (line) => console.log(`   · ${line}`);

async function reachable(url, what) {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
  } catch {
    console.error(`demo: ${what} does not answer at ${url}. Start the servers first: make run (in another terminal).`);
    process.exit(2);
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const meetoaBin = process.env.MEETOA_BIN || path.join(root, 'build/meetoa');
const meetoaConfig = process.env.MEETOA_CONFIG || path.join(root, '.run/application.yml');

/** A call straight to the server with `token` (what the server thinks); resolves the envelope. */
async function server(token, method, p, body) {
  const res = await fetch(`${oaBase}${p}`, {
    method,
    headers: { [apiConfig().TokenHeader]: token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

/** A path relative to the checkout when it is inside it. */
function shortPath(p) {
  const rel = path.relative(root, path.resolve(p));
  return rel.startsWith('..') ? p : rel;
}

/** "YYYY-MM-DD" in the organization's time zone (Asia/Shanghai, make run's default), `days` from today. */
function orgDate(days) {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(Date.now() + days * 86400000),
  );
}

/** GET /wx/auth/info with `token`, straight to the server (what the server thinks). */
async function serverInfo(token) {
  const res = await fetch(`${oaBase}/wx/auth/info`, { headers: { [apiConfig().TokenHeader]: token } });
  return res.json();
}

async function main() {
  await reachable(`${oaBase}/wx/auth/info`, 'MeetOA');
  await reachable(`${emuBase}/__emu/state`, 'The WeChat emulator (wxemu)');

  const origin = new URL(apiConfig().ApiRootUrl).origin;
  const phone = createWx({ appid: APPID, user, wxemuBase: emuBase, hosts: { [origin]: oaBase }, log: callLog });
  const mp = loadMiniprogram(phone);

  console.log('MeetOA mini program walk-through: the code of miniprogram/ running in Node');
  console.log(`  MeetOA ${oaBase}, WeChat emulator ${emuBase}, appid ${APPID}, WeChat user "${user}"`);
  console.log(`  (config/api.js says ${apiConfig().ApiRootUrl}; the stand-in sends ${origin} to ${oaBase})`);

  title('打开小程序 — the home page, nobody logged in yet');
  await mp.launch();
  const index = mp.open('pages/index/index');
  await index.shown;
  assert.equal(index.data.hasLogin, false);
  say(`首页: ${index.data.hasLogin ? index.data.nickName : '未登录'} (the page asked the server nothing)`);

  title('登录页 — tap 微信登录');
  index.goLogin();
  const login = mp.open('pages/login/login');
  await login.onLogin();
  const token = phone.storage.get('token');
  assert.ok(token, 'logged in');
  say(`logged in: a token of ${token.length} characters is stored, valid until ${mp.util.formatTime(phone.storage.get('tokenExpire'))}`);
  assert.equal(login.data.step, 'profile');
  say('a new user: the page now asks for an avatar and a nickname');

  title('头像 — <button open-type="chooseAvatar"> gives a picture; it is uploaded and saved');
  await login.onChooseAvatar({ detail: { avatarUrl: SAMPLE_AVATAR } });
  assert.ok(login.data.avatarUrl, 'avatar uploaded');
  say(`avatar: ${login.data.avatarUrl}`);

  title('昵称 — <input type="nickname">, then 保存');
  await login.onSubmitProfile({ detail: { value: { nickname: '演示用户 🌸' } } });
  mp.stack.pop();
  say(`saved; the login page closes (${phone.toasts().join(', ')})`);

  title('首页 — who is logged in');
  await mp.show(index);
  assert.equal(index.data.nickName, '演示用户 🌸');
  say(`${index.data.greeting}，${index.data.nickName}`);

  await organization(mp, phone, origin, index);
  mp.activate();

  title(`我的 — 绑定手机号 with the getPhoneNumber button (number ${phoneNumber})`);
  const ucenter = mp.open('pages/ucenter/ucenter');
  await ucenter.shown;
  const res = await fetch(`${emuBase}/__emu/phone_code`, {
    method: 'POST',
    body: JSON.stringify({ appid: APPID, user, phone: phoneNumber }),
  });
  const { code } = await res.json();
  say('the button gives a one-time phone code (from the emulator)');
  await ucenter.onGetPhoneNumber({ detail: { code, errMsg: 'getPhoneNumber:ok' } });
  assert.equal(ucenter.data.mobile, phoneNumber);
  say(`手机号: ${ucenter.data.maskedMobile} (${phone.toasts().at(-1)})`);

  title('the session ends elsewhere (the token is logged out on the server directly)');
  await fetch(`${oaBase}/wx/auth/logout`, { method: 'POST', headers: { [apiConfig().TokenHeader]: token } });
  say(`the server now answers errno ${(await serverInfo(token)).errno} for the old token`);
  const logins = phone.count('login');
  const toasts = phone.toasts().length;
  await mp.show(ucenter);
  assert.equal(phone.count('login'), logins + 1, 'one silent wx.login');
  assert.equal(phone.toasts().length, toasts, 'no error shown');
  assert.equal(ucenter.data.nickName, '演示用户 🌸');
  say(`我的 still shows ${ucenter.data.nickName} and ${ucenter.data.maskedMobile}: a silent wx.login, a new token, the call retried once, no error shown`);

  title('我的 — 退出登录');
  const fresh = phone.storage.get('token');
  await ucenter.onLogout();
  assert.equal(ucenter.data.hasLogin, false);
  assert.equal((await serverInfo(fresh)).errno, 501);
  say(`logged out: nothing stored on the phone, and the server refuses the token (errno 501)`);

  console.log(`\nDone: ${step} steps, ${phone.requests.length} calls to MeetOA, ${phone.count('login')} wx.login().`);
}

/** Another person with a phone, logged in once; `mp.activate()` switches the globals to them. */
async function colleague(name, nickName, origin) {
  const phone = createWx({ appid: APPID, user: name, wxemuBase: emuBase, hosts: { [origin]: oaBase }, log: callLog });
  const mp = loadMiniprogram(phone);
  await mp.user.loginByWeixin({ nickName, avatarUrl: '', gender: 0 });
  return { phone, mp, token: () => phone.storage.get('token') };
}

/** The organization: join, 成员审批, 发布会议, 我的审批, 会议通知 and the answers. */
async function organization(mp, phone, origin, index) {
  title('首页 — a visitor of the organization sees the join prompt (the same visit, GET /wx/member/me)');
  assert.equal(index.data.membership, 'none');
  say(`membership: ${index.data.membership} — "你还不是组织成员", with a 加入组织 button`);

  title('the first admin: `meetoa user role OPENID admin` on the command line');
  const admin = await colleague(`${user}-admin`, '张经理', origin);
  const openid = (await (await fetch(`${emuBase}/__emu/code`, { method: 'POST', body: JSON.stringify({ appid: APPID, user: `${user}-admin` }) })).json()).openid;
  if (!existsSync(meetoaBin) || !existsSync(meetoaConfig)) throw new Error(`need ${meetoaBin} and ${meetoaConfig} (make run) to make the first admin`);
  const out = execFileSync(meetoaBin, ['user', '--config', meetoaConfig, 'role', openid, 'admin'], { encoding: 'utf8' }).trim();
  say(`${shortPath(meetoaBin)} user --config ${shortPath(meetoaConfig)} role ${openid.slice(0, 6)}… admin → ${out.replace(openid, openid.slice(0, 6) + '…')}`);
  const adminMe = await server(admin.token(), 'GET', '/wx/member/me');
  assert.equal(adminMe.data.membership, 'admin');
  say(`张经理 is now ${adminMe.data.membership} (name "${adminMe.data.name}", from the nickname)`);

  title('成员审批 (admin) — 生成邀请码');
  admin.mp.activate();
  const requests = admin.mp.open('pages/member/requests/requests');
  await requests.shown;
  await requests.onCreateInvite();
  const code = requests.data.newCode;
  assert.match(code, /^[A-Za-z0-9]{16}$/);
  say(`invite code ${code} (${requests.data.inviteUses[requests.data.usesIndex]} uses, ${requests.data.inviteDays[requests.data.daysIndex]} days)`);

  title('加入组织 (the demo user) — name, department and the invite code: a member at once');
  mp.activate();
  const join = mp.open('pages/member/join/join', { code });
  await join.shown;
  await join.onSubmit({ detail: { value: { name: '王小明', department: '研发部', inviteCode: code } } });
  assert.equal(join.data.membership, 'member');
  say(`membership: ${join.data.membership} (${phone.toasts().at(-1)})`);
  mp.stack.pop();

  title('加入组织 (a colleague, 李四) — without a code: a request for the admin');
  const guest = await colleague(`${user}-guest`, '李四', origin);
  const guestJoin = guest.mp.open('pages/member/join/join');
  await guestJoin.shown;
  await guestJoin.onSubmit({ detail: { value: { name: '李四', department: '市场部', inviteCode: '' } } });
  assert.equal(guestJoin.data.membership, 'pending');
  say(`membership: ${guestJoin.data.membership} — "申请已提交，等待管理员审核"`);

  title('成员审批 (admin) — 通过');
  admin.mp.activate();
  await admin.mp.show(requests);
  const request = requests.data.requests.find((r) => r.name === '李四');
  assert.ok(request, 'the request is listed');
  say(`requests: ${requests.data.requests.map((r) => `${r.name}（${r.department}）`).join(', ')}`);
  await requests.onApprove({ currentTarget: { dataset: { id: request.userId } } });
  const guestMe = await server(guest.token(), 'GET', '/wx/member/me');
  assert.equal(guestMe.data.membership, 'member');
  say(`李四 is now a ${guestMe.data.membership}`);

  const roomName = `演示会议室 ${new Date().toISOString().slice(11, 19)}`;
  const room = await server(admin.token(), 'POST', '/wx/room/create', { name: roomName, location: '3楼', capacity: 12, equipment: '投影' });
  assert.equal(room.errno, 0, room.errmsg);
  say(`(the admin adds the room "${roomName}" with POST /wx/room/create)`);

  const day = orgDate(2);
  title(`发布会议 (the demo user) — ${day} 10:00–11:00, the room, 李四 as a participant, 提交审核`);
  mp.activate();
  const edit = mp.open('pages/meeting/edit/edit');
  await edit.shown;
  await edit.onStartDateChange({ detail: { value: day } });
  await edit.onStartTimeChange({ detail: { value: '10:00' } });
  await edit.onEndTimeChange({ detail: { value: '11:00' } });
  const shownRoom = edit.data.rooms.find((r) => r.id === room.data.id);
  assert.ok(shownRoom, 'the room is offered');
  say(`rooms on ${day}: ${edit.data.rooms.length}; "${shownRoom.name}" ${shownRoom.busy.length ? 'busy ' + shownRoom.busy.map((b) => b.text).join(', ') : '全天空闲'}`);
  edit.onTitleInput({ detail: { value: '产品评审会 📋' } });
  edit.onContentInput({ detail: { value: '1. 需求回顾\n2. 排期' } });
  edit.onRoomTap({ currentTarget: { dataset: { id: room.data.id } } });
  edit.onKeywordInput({ detail: { value: '李四' } });
  await edit.onSearch();
  edit.onAddPerson({ currentTarget: { dataset: { id: request.userId } } });
  say(`search "李四": ${edit.data.results.length} found, added as ${edit.data.people.map((p) => `${p.name}（${p.role === 'observer' ? '列席' : '参与'}）`).join(', ')}`);
  await edit.onPublish();
  const meetingId = edit.data.id;
  assert.ok(meetingId > 0);
  say(`create + submit: meeting ${meetingId} (${phone.toasts().at(-1)})`);
  mp.stack.pop();

  title('我的审批 (admin) — the meeting waits; 会议详情 → 通过');
  admin.mp.activate();
  const adminList = admin.mp.open('pages/meeting/list/list');
  await adminList.shown;
  await adminList.onTabTap({ currentTarget: { dataset: { view: 'approval' } } });
  assert.ok(adminList.data.list.some((m) => m.id === meetingId));
  say(`我的审批: ${adminList.data.list.map((m) => `${m.title} [${m.stateName}]`).join(', ')}`);
  const adminDetail = admin.mp.open('pages/meeting/detail/detail', { id: String(meetingId) });
  await adminDetail.shown;
  say(`buttons: ${Object.keys(adminDetail.data.can).filter((k) => adminDetail.data.can[k]).join(', ')}`);
  await adminDetail.onApprove();
  assert.equal(adminDetail.data.m.state, 4);
  say(`state: ${adminDetail.data.m.stateName}`);

  title('会议通知 (李四) — the invitation; 会议详情 → 参加');
  guest.mp.activate();
  const guestList = guest.mp.open('pages/meeting/list/list');
  await guestList.shown;
  await guestList.onTabTap({ currentTarget: { dataset: { view: 'notice' } } });
  assert.ok(guestList.data.list.some((m) => m.id === meetingId));
  say(`会议通知: ${guestList.data.list.map((m) => `${m.title} ${m.timeText} @ ${m.place}`).join(', ')}`);
  const guestDetail = guest.mp.open('pages/meeting/detail/detail', { id: String(meetingId) });
  await guestDetail.shown;
  await guestDetail.onAttend();
  assert.equal(guestDetail.data.myAnswer, 'attend');
  say(`answered: ${guestDetail.data.myAnswerText}`);

  title('首页 and 会议详情 (the demo user) — the next meeting, who answered what, its history');
  mp.activate();
  await mp.show(index);
  assert.ok(index.data.meetings.some((m) => m.id === meetingId));
  say(`我的待开会议: ${index.data.meetings.map((m) => `${m.title} ${m.timeText}`).join(', ')}`);
  const detail = mp.open('pages/meeting/detail/detail', { id: String(meetingId) });
  await detail.shown;
  const a = detail.data.answers;
  say(`参会人: ${detail.data.attendees.map((x) => `${x.name}（${x.roleText}，${x.answerText}）`).join(', ')} — 参加 ${a.attend}, 不参加 ${a.decline}, 未答复 ${a.none}`);
  say(`流转记录: ${detail.data.history.map((h) => `${h.fromName ? h.fromName + '→' : ''}${h.toName} by ${h.userName}`).join('; ')}`);
  mp.stack.pop();
}

main().catch((err) => {
  console.error(`\ndemo failed at step ${step}: ${err.message}`);
  process.exit(1);
});
