// meeting.test.mjs — a meeting's life through the real pages, against real meetoa and wxemu:
// 发布会议 (the rooms of the day with their busy times, the member search, create then submit),
// the approver's 我的审批 and 驳回 with a reason, the host's edit of the rejected meeting (a stale
// version refused with 504 and the page reloaded), submit again, 通过, the attendees' 会议通知
// and their answers (参加, 不参加 with a reason), the home page's next meetings, a clashing room
// refused with 801, the six lists and their paging and pull-down refresh, 取消会议, 归档 of an
// ended meeting, and what a visitor and a member who is not on a meeting see.
//
// Every check compares what a page shows with what the server stored or answers (read straight
// from the server with the user's own token), never with numbers written into the test.
//
// The organization: alice (the first admin, made with `meetoa user role`), bob (the host),
// carol (a participant), dave (an observer), all members through an invite code; erin a visitor.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { startMiniWorld, setRoleByCli } from './harness.mjs';
import { person, as, call, okCall, serverMe, joinWithCode, paths, wxTime } from './people.mjs';

const T = { timeout: 15000 };

/** "YYYY-MM-DD" in the organization's time zone (oa.time-zone's default), `days` from today. */
function orgDate(days) {
  const d = new Date(Date.now() + days * 86400000);
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

let world;
let alice, bob, carol, dave, erin;
const id = {}; // userIds
let room301, room502;
const D = orgDate(2); // the day of the meetings

before(async () => {
  world = await startMiniWorld();
  alice = await person(world, 'alice', { nickName: '张经理', avatarUrl: '', gender: 0 });
  const cli = await setRoleByCli(world, 'alice', 'admin');
  assert.equal(cli.code, 0, cli.stderr);
  id.alice = (await serverMe(world, alice)).userId;
  const invite = await okCall(world, alice, 'POST', '/wx/member/invite', { maxUses: 10, expireDays: 1 });
  bob = await person(world, 'bob');
  carol = await person(world, 'carol');
  dave = await person(world, 'dave');
  erin = await person(world, 'erin');
  id.bob = await joinWithCode(world, bob, invite.code, '王小明', '研发部');
  id.carol = await joinWithCode(world, carol, invite.code, '李四', '市场部');
  id.dave = await joinWithCode(world, dave, invite.code, '赵六', '行政部');
  room301 = await okCall(world, alice, 'POST', '/wx/room/create', { name: '301', location: '3楼', capacity: 20, equipment: '投影' });
  room502 = await okCall(world, alice, 'POST', '/wx/room/create', { name: '502', location: '5楼', capacity: 8 });
});
after(async () => {
  await world?.stop();
});

/** GET /wx/meeting/detail as `p`, from the server. */
const serverDetail = (p, meetingId) => okCall(world, p, 'GET', `/wx/meeting/detail?id=${meetingId}`);
/** GET /wx/meeting/list as `p`, from the server. */
const serverList = (p, view, page = 1, limit = 20) => okCall(world, p, 'GET', `/wx/meeting/list?view=${view}&page=${page}&limit=${limit}`);
const requestsTo = (p, url) => p.phone.requests.filter((r) => r.url === url);

describe('a meeting from publishing to its answers', () => {
  let X; // the meeting bob publishes
  let edit;

  test('发布会议: the rooms of the chosen day, all free, from the room schedule', T, async () => {
    const mp = as(bob);
    edit = mp.open('pages/meeting/edit/edit');
    await edit.shown;
    assert.equal(edit.data.loaded, true);
    assert.equal(edit.data.denied, '');
    await edit.onStartDateChange({ detail: { value: D } });
    assert.equal(edit.data.startDate, D);
    assert.equal(edit.data.endDate, D, 'the end follows the start\'s day');
    const schedule = requestsTo(bob, mp.api.RoomSchedule).at(-1);
    assert.deepEqual(schedule.data, { date: D });
    const server = await okCall(world, bob, 'GET', `/wx/room/schedule?date=${D}`);
    assert.deepEqual(edit.data.rooms.map((r) => [r.id, r.name, r.busy.length, r.clash]), server.list.map((r) => [r.id, r.name, 0, false]));
    assert.ok(edit.data.rooms.some((r) => r.id === room301.id && r.info === '3楼 · 20人'));
  });

  test('发布会议: what is missing or wrong is said on the phone, nothing sent', T, async () => {
    const mp = as(bob);
    await edit.onPublish();
    assert.equal(bob.phone.requests.length, 0);
    assert.match(bob.phone.toasts().at(-1), /标题/);
    edit.onTitleInput({ detail: { value: '季度评审会 📊' } });
    await edit.onStartTimeChange({ detail: { value: '10:00' } });
    await edit.onEndTimeChange({ detail: { value: '09:00' } });
    await edit.onPublish();
    assert.equal(bob.phone.toasts().at(-1), '结束时间须晚于开始时间');
    await edit.onStartTimeChange({ detail: { value: '09:00' } });
    await edit.onEndTimeChange({ detail: { value: '10:00' } });
    await edit.onPublish();
    assert.equal(bob.phone.toasts().at(-1), '请选择会议室');
    assert.equal(bob.phone.requests.filter((r) => r.url !== mp.api.RoomSchedule).length, 0);
  });

  test('发布会议: room, people found by search (a participant, an observer), create then submit', T, async () => {
    const mp = as(bob);
    edit.onContentInput({ detail: { value: '1. 回顾\n2. 计划' } });
    edit.onRoomTap({ currentTarget: { dataset: { id: room301.id } } });
    assert.equal(edit.data.roomId, room301.id);
    edit.onKeywordInput({ detail: { value: '李四' } });
    await edit.onSearch();
    assert.deepEqual(edit.data.results.map((r) => r.id), [id.carol]);
    edit.onAddPerson({ currentTarget: { dataset: { id: id.carol } } });
    edit.onKeywordInput({ detail: { value: '行政' } });
    await edit.onSearch();
    assert.deepEqual(edit.data.results.map((r) => r.id), [id.dave]);
    edit.onAddPerson({ currentTarget: { dataset: { id: id.dave } } });
    edit.onAddPerson({ currentTarget: { dataset: { id: id.dave } } }); // twice: still once
    edit.onToggleRole({ currentTarget: { dataset: { id: id.dave } } });
    assert.deepEqual(edit.data.people.map((p) => [p.id, p.role]), [[id.carol, 'participant'], [id.dave, 'observer']]);
    edit.onRemindChange({ detail: { value: '3' } }); // 30 minutes

    bob.phone.reset();
    await edit.onPublish();
    assert.deepEqual(paths(bob), ['POST /wx/meeting/create', 'POST /wx/meeting/submit']);
    const [create, submit] = bob.phone.requests;
    assert.deepEqual(create.data, {
      title: '季度评审会 📊',
      content: '1. 回顾\n2. 计划',
      startTime: `${D} 09:00:00`,
      endTime: `${D} 10:00:00`,
      participantIds: [id.carol],
      observerIds: [id.dave],
      remindMinutes: 30,
      roomId: room301.id,
    });
    X = edit.data.id;
    assert.ok(X > 0, 'the page keeps the new id');
    assert.equal(submit.data.id, X);
    assert.deepEqual(bob.phone.toasts(), ['已提交审核']);
    assert.deepEqual(bob.phone.callsOf('redirectTo').map((c) => c.args.url), [`/pages/meeting/detail/detail?id=${X}`]);

    const m = await serverDetail(bob, X);
    assert.equal(m.state, 2);
    assert.equal(m.title, '季度评审会 📊');
    assert.equal(m.content, '1. 回顾\n2. 计划');
    assert.equal(m.startTime, `${D} 09:00:00`);
    assert.equal(m.endTime, `${D} 10:00:00`);
    assert.equal(m.roomId, room301.id);
    assert.equal(m.remindMinutes, 30);
    assert.equal(m.approver, null, 'any admin approves');
    assert.deepEqual(
      m.attendees.map((a) => [a.userId, a.role]).sort((a, b) => a[0] - b[0]),
      [[id.bob, 'host'], [id.carol, 'participant'], [id.dave, 'observer']].sort((a, b) => a[0] - b[0]),
    );
  });

  test('会议详情 for the host: the fields, the attendees, the history, and 取消 as the only action', T, async () => {
    const mp = as(bob);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await detail.shown;
    const m = await serverDetail(bob, X);
    assert.equal(detail.data.m.title, m.title);
    assert.equal(detail.data.m.stateName, m.stateName);
    assert.equal(detail.data.m.timeText, `${D.slice(5)} 09:00–10:00`);
    assert.equal(m.roomName, '301');
    assert.equal(detail.data.m.place, m.location ? `${m.roomName}（${m.location}）` : m.roomName);
    assert.equal(detail.data.m.hostName, '王小明');
    assert.equal(detail.data.m.approverName, '任一管理员');
    assert.deepEqual(detail.data.attendees.map((a) => [a.userId, a.answer]), m.attendees.map((a) => [a.userId, a.answer]));
    assert.deepEqual(detail.data.history.map((h) => [h.from, h.to]), m.history.map((h) => [h.from, h.to]));
    assert.ok(detail.data.history.some((h) => h.to === 2 && h.toName === '待审核' && h.fromName === '新建'));
    assert.deepEqual(
      detail.data.history.map((h) => h.fromName === ''),
      m.history.map((h) => h.from === h.to),
      'a record without a change of state (the creation) shows the state alone',
    );
    assert.deepEqual(Object.keys(detail.data.can).filter((k) => detail.data.can[k]).sort(), [...m.actions].sort());
    assert.deepEqual(m.actions, ['cancel'], 'a submitted meeting: its host (no admin) may only cancel it');
    assert.equal(detail.data.can.approve, false, 'the host does not approve');
  });

  test('the approver: 我的审批 lists it; 驳回 without a reason is stopped; with one the meeting is rejected', T, async () => {
    const mp = as(alice);
    const list = mp.open('pages/meeting/list/list');
    await list.shown;
    assert.equal(list.data.view, 'upcoming');
    await list.onTabTap({ currentTarget: { dataset: { view: 'approval' } } });
    const server = await serverList(alice, 'approval');
    assert.ok(server.list.some((m) => m.id === X));
    assert.deepEqual(list.data.list.map((m) => m.id), server.list.map((m) => m.id));
    assert.equal(list.data.total, server.total);
    assert.deepEqual(requestsTo(alice, mp.api.MeetingList).at(-1).data, { view: 'approval', page: 1, limit: 20 });
    const row = list.data.list.find((m) => m.id === X);
    assert.equal(row.stateName, '待审核');
    assert.equal(row.hostName, '王小明');
    assert.equal(row.place, '301');
    list.onItemTap({ currentTarget: { dataset: { id: X } } });
    assert.equal(alice.phone.callsOf('navigateTo').at(-1).args.url, `/pages/meeting/detail/detail?id=${X}`);

    const detail = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await detail.shown;
    assert.equal(detail.data.can.approve, true);
    assert.equal(detail.data.can.reject, true);
    assert.equal(detail.data.needsReason, true);
    alice.phone.reset();
    await detail.onReject();
    assert.equal(alice.phone.requests.length, 0);
    assert.match(alice.phone.toasts()[0], /驳回原因/);
    detail.onReasonInput({ detail: { value: '与年会时间冲突' } });
    await detail.onReject();
    const sent = requestsTo(alice, mp.api.MeetingApprove)[0].data;
    assert.equal(sent.approve, false);
    assert.equal(sent.reason, '与年会时间冲突');
    const m = await serverDetail(alice, X);
    assert.equal(m.state, 3);
    assert.equal(m.reason, '与年会时间冲突');
    assert.equal(detail.data.m.state, 3, 'the page reloaded');
    assert.equal(detail.data.m.reason, '与年会时间冲突');
    assert.equal(detail.data.can.approve, false);
    assert.equal(detail.data.reason, '', 'the reason box is emptied');
    assert.ok(m.history.some((h) => h.from === 2 && h.to === 3 && h.reason === '与年会时间冲突'));
    assert.equal(alice.phone.toasts().at(-1), '已驳回');
  });

  test('the host edits the rejected meeting; a version changed meanwhile is refused (504) and reloaded', T, async () => {
    const mp = as(bob);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await detail.shown;
    assert.equal(detail.data.m.reason, '与年会时间冲突');
    assert.equal(detail.data.can.update, true);
    detail.onEdit();
    assert.equal(bob.phone.callsOf('navigateTo').at(-1).args.url, `/pages/meeting/edit/edit?id=${X}`);

    const page = mp.open('pages/meeting/edit/edit', { id: String(X) });
    await page.shown;
    assert.equal(bob.phone.callsOf('setNavigationBarTitle').at(-1).args.title, '编辑会议');
    const before = await serverDetail(bob, X);
    assert.equal(page.data.title, before.title);
    assert.equal(page.data.content, before.content);
    assert.equal(page.data.version, before.version);
    assert.deepEqual([page.data.startDate, page.data.startTime, page.data.endDate, page.data.endTime], [D, '09:00', D, '10:00']);
    assert.equal(page.data.roomId, room301.id);
    assert.equal(page.data.remindIndex, page.data.remindOptions.indexOf(30));
    assert.deepEqual(page.data.people.map((p) => [p.id, p.role]).sort(), [[id.carol, 'participant'], [id.dave, 'observer']].sort());
    const self = page.data.rooms.find((r) => r.id === room301.id);
    assert.equal(self.clash, false, 'the meeting does not clash with itself');

    // Someone changes it meanwhile (the host on another phone).
    const other = await okCall(world, bob, 'POST', '/wx/meeting/update', { id: X, version: before.version, title: '季度评审会（第二版）' });
    assert.notEqual(other.version, before.version);

    bob.phone.reset();
    page.onTitleInput({ detail: { value: '这次修改会被拒绝' } });
    await page.onSaveDraft();
    const upd = requestsTo(bob, mp.api.MeetingUpdate);
    assert.equal(upd.length, 1);
    assert.equal(upd[0].data.version, before.version, 'the page sent the version it had read');
    assert.deepEqual(bob.phone.toasts(), ['会议已被他人修改，已重新加载']);
    assert.equal(page.data.stale, true);
    assert.equal(page.data.title, '季度评审会（第二版）', 'the page now shows the server\'s meeting');
    assert.equal(page.data.version, other.version);
    assert.equal((await serverDetail(bob, X)).title, '季度评审会（第二版）', 'nothing was overwritten');

    page.onTitleInput({ detail: { value: '季度评审会 📊' } });
    await page.onSaveDraft();
    const after = await serverDetail(bob, X);
    assert.equal(after.title, '季度评审会 📊');
    assert.equal(after.state, 3, 'saving keeps it rejected until it is submitted');
    assert.equal(page.data.version, after.version);
    assert.equal(bob.phone.toasts().at(-1), '已保存草稿');
  });

  test('提交审核 from the detail page, then the admin approves (通过)', T, async () => {
    let mp = as(bob);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await detail.shown;
    assert.equal(detail.data.can.submit, true);
    const shownVersion = detail.data.m.version;
    await detail.onSubmit();
    assert.deepEqual(requestsTo(bob, mp.api.MeetingSubmit)[0].data, { id: X, version: shownVersion }, 'the version the page showed');
    assert.equal((await serverDetail(bob, X)).state, 2);
    assert.equal(detail.data.m.state, 2);

    mp = as(alice);
    const a = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await a.shown;
    await a.onApprove();
    assert.deepEqual(requestsTo(alice, mp.api.MeetingApprove).map((r) => r.data.approve), [true]);
    const m = await serverDetail(alice, X);
    assert.equal(m.state, 4);
    assert.equal(a.data.m.state, 4);
    assert.equal(a.data.m.stateName, m.stateName);
    assert.equal(alice.phone.toasts().at(-1), '已通过');
    const approval = await serverList(alice, 'approval');
    assert.ok(!approval.list.some((x) => x.id === X), 'no longer waiting for approval');
  });

  test('a participant: the home page\'s next meetings and 会议通知 list it; 参加 answers and leaves 会议通知', T, async () => {
    const mp = as(carol);
    const index = mp.open('pages/index/index');
    await index.shown;
    const upcoming = await serverList(carol, 'upcoming', 1, 5);
    assert.ok(upcoming.list.some((m) => m.id === X));
    assert.deepEqual(index.data.meetings.map((m) => m.id), upcoming.list.map((m) => m.id));
    assert.equal(index.data.meetingsTotal, upcoming.total);
    const row = index.data.meetings.find((m) => m.id === X);
    assert.equal(row.timeText, `${D.slice(5)} 09:00–10:00`);
    assert.deepEqual(carol.phone.toasts(), []);

    const list = mp.open('pages/meeting/list/list');
    await list.shown;
    await list.onTabTap({ currentTarget: { dataset: { view: 'notice' } } });
    assert.ok(list.data.list.some((m) => m.id === X));
    assert.deepEqual(list.data.list.map((m) => m.id), (await serverList(carol, 'notice')).list.map((m) => m.id));

    const detail = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await detail.shown;
    assert.equal(detail.data.m.myRole, 'participant');
    assert.equal(detail.data.can.feedback, true);
    assert.equal(detail.data.can.cancel, false);
    assert.equal(detail.data.myAnswer, 'none');
    await detail.onAttend();
    assert.deepEqual(requestsTo(carol, mp.api.MeetingFeedback)[0].data, { id: X, attend: true });
    const m = await serverDetail(carol, X);
    assert.equal(m.attendees.find((a) => a.userId === id.carol).answer, 'attend');
    assert.equal(detail.data.myAnswer, 'attend');
    assert.equal(carol.phone.toasts().at(-1), '已答复参加');

    await mp.show(list);
    assert.ok(!list.data.list.some((m) => m.id === X), '会议通知 lists only what is not answered');
    assert.equal(list.data.view, 'notice');
  });

  test('an observer declines: a reason is required, then it is stored and shown to the host', T, async () => {
    let mp = as(dave);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await detail.shown;
    assert.equal(detail.data.m.myRole, 'observer');
    await detail.onDecline();
    assert.equal(requestsTo(dave, mp.api.MeetingFeedback).length, 0);
    assert.match(dave.phone.toasts().at(-1), /不参加的原因/);
    detail.onReasonInput({ detail: { value: '当天出差' } });
    await detail.onDecline();
    assert.deepEqual(requestsTo(dave, mp.api.MeetingFeedback)[0].data, { id: X, attend: false, reason: '当天出差' });
    const m = await serverDetail(dave, X);
    const row = m.attendees.find((a) => a.userId === id.dave);
    assert.equal(row.answer, 'decline');
    assert.equal(row.reason, '当天出差');

    mp = as(bob);
    const host = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await host.shown;
    assert.deepEqual(host.data.answers, m.answers);
    const shown = host.data.attendees.find((a) => a.userId === id.dave);
    assert.equal(shown.answerText, '不参加');
    assert.equal(shown.reason, '当天出差');
    assert.equal(host.data.attendees.find((a) => a.userId === id.carol).answerText, '参加');
  });

  test('the room\'s schedule shows the meeting; a clashing publish is refused (801) and stays a draft', T, async () => {
    const mp = as(carol);
    const page = mp.open('pages/meeting/edit/edit');
    await page.shown;
    await page.onStartDateChange({ detail: { value: D } });
    const busy = page.data.rooms.find((r) => r.id === room301.id).busy;
    assert.deepEqual(busy.map((b) => [b.meetingId, b.title, b.text]), [[X, '季度评审会 📊', `${D.slice(5)} 09:00–10:00`]]);
    await page.onStartTimeChange({ detail: { value: '09:30' } });
    await page.onEndTimeChange({ detail: { value: '10:30' } });
    assert.equal(page.data.rooms.find((r) => r.id === room301.id).clash, true, 'marked as clashing');
    assert.equal(page.data.rooms.find((r) => r.id === room502.id).clash, false);
    page.onTitleInput({ detail: { value: '市场周会' } });
    page.onRoomTap({ currentTarget: { dataset: { id: room301.id } } });
    carol.phone.reset();
    await page.onPublish();
    assert.deepEqual(paths(carol).slice(0, 2), ['POST /wx/meeting/create', 'POST /wx/meeting/submit']);
    const refused = carol.phone.toasts()[0];
    assert.match(refused, /^会议室已被占用/);
    assert.ok(refused.includes(`${D} 09:00:00`), `the toast names the clashing start: ${refused}`);
    assert.equal(carol.phone.count('redirectTo'), 0, 'the page stays');
    const draft = page.data.id;
    assert.ok(draft > 0);
    assert.equal((await serverDetail(carol, draft)).state, 1, 'created, not submitted');
    const mine = await serverList(carol, 'mine');
    assert.equal(mine.list.find((m) => m.id === draft).state, 1);

    // Another room: the same draft is updated (not created again) and submitted.
    page.onRoomTap({ currentTarget: { dataset: { id: room502.id } } });
    carol.phone.reset();
    await page.onPublish();
    assert.deepEqual(paths(carol), ['POST /wx/meeting/update', 'POST /wx/meeting/submit']);
    const m = await serverDetail(carol, draft);
    assert.equal(m.state, 2);
    assert.equal(m.roomId, room502.id);
    assert.equal(carol.phone.callsOf('redirectTo')[0].args.url, `/pages/meeting/detail/detail?id=${draft}`);
  });

  test('a named approver: chosen by search, cleared and chosen again; their 我的审批 and 通过', T, async () => {
    let mp = as(bob);
    const page = mp.open('pages/meeting/edit/edit');
    await page.shown;
    page.onTitleInput({ detail: { value: '预算讨论' } });
    page.onPlaceModeTap({ currentTarget: { dataset: { mode: 'location' } } });
    page.onLocationInput({ detail: { value: '线上会议' } });
    await page.onStartDateChange({ detail: { value: D } });
    await page.onStartTimeChange({ detail: { value: '14:00' } });
    await page.onEndTimeChange({ detail: { value: '15:00' } });
    page.onKeywordInput({ detail: { value: '赵六' } });
    await page.onSearch();
    page.onAddPerson({ currentTarget: { dataset: { id: id.dave } } });
    page.onSetApprover({ currentTarget: { dataset: { id: id.dave } } });
    assert.deepEqual(page.data.approver, { id: id.dave, name: '赵六' });
    assert.deepEqual(page.data.people, [], 'the approver is not also an attendee');
    await page.onSaveDraft();
    const created = requestsTo(bob, mp.api.MeetingCreate)[0].data;
    assert.equal(created.approverId, id.dave);
    assert.equal(created.location, '线上会议');
    assert.equal(created.roomId, undefined);
    const M = page.data.id;
    assert.equal((await serverDetail(bob, M)).approver.id, id.dave);

    page.onClearApprover();
    await page.onSaveDraft();
    assert.equal(requestsTo(bob, mp.api.MeetingUpdate).at(-1).data.approverId, null, 'cleared: null is sent');
    assert.equal((await serverDetail(bob, M)).approver, null);
    page.onKeywordInput({ detail: { value: '赵六' } });
    await page.onSearch();
    page.onSetApprover({ currentTarget: { dataset: { id: id.dave } } });
    await page.onPublish();
    const m = await serverDetail(bob, M);
    assert.equal(m.state, 2);
    assert.equal(m.approver.id, id.dave);
    assert.equal(m.location, '线上会议');

    mp = as(dave);
    const list = mp.open('pages/meeting/list/list');
    await list.shown;
    await list.onTabTap({ currentTarget: { dataset: { view: 'approval' } } });
    assert.deepEqual(list.data.list.map((x) => x.id), (await serverList(dave, 'approval')).list.map((x) => x.id));
    assert.ok(list.data.list.some((x) => x.id === M), 'the named approver sees it');
    const detail = mp.open('pages/meeting/detail/detail', { id: String(M) });
    await detail.shown;
    assert.equal(detail.data.m.myRole, 'approver');
    assert.equal(detail.data.m.approverName, '赵六');
    assert.equal(detail.data.m.place, '线上会议');
    await detail.onApprove();
    assert.equal((await serverDetail(dave, M)).state, 4);
    const carolApproval = await serverList(carol, 'approval');
    assert.ok(!carolApproval.list.some((x) => x.id === M), 'another member never saw it to approve');
  });

  test('the lists: each tab shows the server\'s page; paging appends; pull-down starts again', { timeout: 30000 }, async () => {
    // Enough drafts for two pages of 我的会议.
    for (let i = 0; i < 21; i++)
      await okCall(world, bob, 'POST', '/wx/meeting/create', {
        title: `草稿 ${i}`,
        startTime: `${orgDate(3 + (i % 5))} ${String(8 + (i % 10)).padStart(2, '0')}:00:00`,
        endTime: `${orgDate(3 + (i % 5))} ${String(9 + (i % 10)).padStart(2, '0')}:00:00`,
        location: '线上',
        participantIds: [],
      });
    const mp = as(bob);
    const list = mp.open('pages/meeting/list/list');
    await list.shown;
    for (const view of ['upcoming', 'all', 'history', 'notice', 'approval', 'mine']) {
      await list.onTabTap({ currentTarget: { dataset: { view } } });
      const server = await serverList(bob, view);
      assert.equal(list.data.view, view);
      assert.deepEqual(list.data.list.map((m) => m.id), server.list.map((m) => m.id), `tab ${view}`);
      assert.equal(list.data.total, server.total, `tab ${view}`);
      assert.equal(list.data.hasMore, server.pages > 1, `tab ${view}`);
    }
    const p1 = await serverList(bob, 'mine', 1);
    const p2 = await serverList(bob, 'mine', 2);
    assert.ok(p1.pages >= 2);
    assert.equal(list.data.list.length, p1.list.length);
    bob.phone.reset();
    await list.onReachBottom();
    assert.deepEqual(requestsTo(bob, mp.api.MeetingList)[0].data, { view: 'mine', page: 2, limit: 20 });
    assert.deepEqual(list.data.list.map((m) => m.id), [...p1.list, ...p2.list].map((m) => m.id));
    assert.equal(list.data.hasMore, p2.page < p2.pages);
    const n = bob.phone.requests.length;
    if (!list.data.hasMore) {
      await list.onReachBottom();
      assert.equal(bob.phone.requests.length, n, 'nothing more is asked after the last page');
    }
    await list.onPullDownRefresh();
    assert.equal(bob.phone.count('stopPullDownRefresh'), 1);
    assert.deepEqual(list.data.list.map((m) => m.id), p1.list.map((m) => m.id));
    const x = [...p1.list, ...p2.list].find((m) => m.id === X);
    assert.ok(x, 'bob\'s published meeting is among 我的会议');
    assert.equal(x.myRole, 'host');
  });

  test('a member not on a meeting cannot read it; a visitor\'s 会议 tab asks them to join', T, async () => {
    let mp = as(carol);
    const mine = await serverList(bob, 'mine');
    const draft = mine.list.find((m) => m.state === 1);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(draft.id) });
    await detail.shown;
    assert.equal(detail.data.denied, 'permission');
    assert.equal((await call(world, carol, 'GET', `/wx/meeting/detail?id=${draft.id}`)).errno, 506);
    assert.deepEqual(carol.phone.toasts(), []);

    mp = as(erin);
    const list = mp.open('pages/meeting/list/list');
    await list.shown;
    assert.equal(list.data.notMember, true);
    assert.equal((await call(world, erin, 'GET', '/wx/meeting/list')).errno, 802);
    assert.deepEqual(erin.phone.toasts(), [], 'the page explains instead of a toast');
    list.goJoin();
    assert.equal(erin.phone.callsOf('navigateTo')[0].args.url, '/pages/member/join/join');
    const index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.isMember, false);
    assert.equal(paths(erin).filter((p) => p === 'GET /wx/meeting/list').length, 1, 'the 会议 tab asked once; the home page asks no list of a visitor');
  });

  test('取消会议: a reason, a confirmation; then cancelled for everyone', T, async () => {
    let mp = as(bob);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await detail.shown;
    assert.equal(detail.data.can.cancel, true);
    await detail.onCancel();
    assert.equal(requestsTo(bob, mp.api.MeetingCancel).length, 0);
    assert.match(bob.phone.toasts().at(-1), /取消原因/);
    detail.onReasonInput({ detail: { value: '客户临时改期' } });
    bob.phone.state.modalAnswer = false;
    await detail.onCancel();
    assert.equal(bob.phone.count('showModal'), 1);
    assert.equal(requestsTo(bob, mp.api.MeetingCancel).length, 0, 'not confirmed: nothing sent');
    assert.equal((await serverDetail(bob, X)).state, 4);
    bob.phone.state.modalAnswer = true;
    await detail.onCancel();
    assert.deepEqual(requestsTo(bob, mp.api.MeetingCancel)[0].data.reason, '客户临时改期');
    const m = await serverDetail(bob, X);
    assert.equal(m.state, 0);
    assert.equal(m.reason, '客户临时改期');
    assert.equal(detail.data.m.state, 0);
    assert.equal(detail.data.can.cancel, false);
    assert.equal(bob.phone.toasts().at(-1), '已取消');

    mp = as(carol);
    const index = mp.open('pages/index/index');
    await index.shown;
    assert.ok(!index.data.meetings.some((x) => x.id === X), 'gone from the next meetings');
    const c = mp.open('pages/meeting/detail/detail', { id: String(X) });
    await c.shown;
    assert.equal(c.data.m.stateName, m.stateName);
    assert.equal(c.data.m.reason, '客户临时改期');
    assert.equal(c.data.can.feedback, false);
  });

  test('an ended meeting: 归档 by the host, then in 历史会议', { timeout: 30000 }, async () => {
    const start = new Date(Date.now() + 4000); // time to submit and approve first (ASan builds are slow)
    const end = new Date(Date.now() + 6000);
    const created = await okCall(world, bob, 'POST', '/wx/meeting/create', {
      title: '站会',
      startTime: wxTime(start),
      endTime: wxTime(end),
      location: '走廊',
      participantIds: [id.carol],
    });
    await okCall(world, bob, 'POST', '/wx/meeting/submit', { id: created.id });
    await okCall(world, alice, 'POST', '/wx/meeting/approve', { id: created.id, approve: true });
    await new Promise((r) => setTimeout(r, Math.max(0, end.getTime() + 1200 - Date.now())));
    await okCall(world, bob, 'POST', '/wx/meeting/minutes', { id: created.id, text: '纪要：站会照常。' }); // archiving needs them
    const mp = as(bob);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(created.id) });
    await detail.shown;
    const ended = await serverDetail(bob, created.id);
    assert.equal(ended.state, 6);
    assert.equal(detail.data.m.state, 6);
    assert.equal(detail.data.can.archive, true);
    await detail.onArchive();
    assert.equal((await serverDetail(bob, created.id)).state, 7);
    assert.equal(detail.data.m.state, 7);
    const list = mp.open('pages/meeting/list/list');
    await list.shown;
    await list.onTabTap({ currentTarget: { dataset: { view: 'history' } } });
    const history = await serverList(bob, 'history');
    assert.ok(history.list.some((m) => m.id === created.id));
    assert.deepEqual(list.data.list.map((m) => m.id), history.list.map((m) => m.id));
  });
});
