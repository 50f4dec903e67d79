// Meetings and their approval (docs/api.md "Meetings"), against a real meetoa on SQLite and MariaDB:
//   - the whole flow: room, draft, submit, reject (a reason required), edit, submit, approve,
//     answers (a reason to decline), the six lists, cancel; archive after the end;
//   - stale versions answer 504 and change nothing;
//   - the permission matrix as a table of (caller, action, state) -> errno, each cell run on a
//     fresh meeting in that state, and the detail's `actions` agreeing with it;
//   - who may read the detail (506 for other members);
//   - validation of every field, times in both forms, 808 for non-members, 809 for a past start,
//     803 for actions the state does not allow (nothing changed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startWorld } from './lib/meetoa.mjs';
import { approvedMeeting, cst, cstSeconds, meetingBody, ok, organization, refused, shiftMeeting } from './lib/org.mjs';

let world, oa, org, admin, host, p1, p2, obs, approver, other, visitor, room;

before(async () => {
  world = await startWorld();
  oa = world.oa;
  org = organization(world);
  admin = await org.admin('管理员');
  [host, p1, p2, obs, approver, other] = await Promise.all(
    ['主持人', '参会甲', '参会乙', '列席丙', '审批人', '旁人'].map((n) => org.member(n, '研发')));
  visitor = await org.visitor('访客');
  room = ok(await admin.post('/wx/room/create', { name: '大会议室', capacity: 30 }));
});
after(async () => {
  await world?.stop();
});

const detail = async (who, id) => ok(await who.get(`/wx/meeting/detail?id=${id}`), 'detail');
const list = async (who, view) => ok(await who.get(`/wx/meeting/list?view=${view}&limit=100`), `list ${view}`);
const ids = (page) => page.list.map((m) => m.id);

test('the whole flow: draft, submit, reject, edit, submit, approve, answers, lists, cancel', async () => {
  const start = Date.now() + 3 * 86400e3;
  const body = meetingBody({ roomId: room.id, location: undefined, participantIds: [p1.id, p2.id], observerIds: [obs.id], approverId: approver.id,
    startTime: cst(start), endTime: cst(start + 3600e3), title: '季度评审 🎯' });
  const c = ok(await host.post('/wx/meeting/create', body));
  assert.deepEqual(c, { id: c.id, version: 1 });
  let d = await detail(host, c.id);
  assert.equal(d.state, 1);
  assert.equal(d.stateName, '新建');
  assert.equal(d.title, '季度评审 🎯');
  assert.equal(d.roomName, '大会议室');
  assert.deepEqual(d.approver, { id: approver.id, name: '审批人' });
  assert.deepEqual(d.actions.sort(), ['cancel', 'submit', 'update']);
  assert.ok(!ids(await list(p1, 'all')).includes(c.id), 'a draft is the host\'s alone');
  assert.ok(ids(await list(host, 'mine')).includes(c.id));

  assert.equal(ok(await host.post('/wx/meeting/submit', { id: c.id })).state, 2);
  assert.ok(ids(await list(approver, 'approval')).includes(c.id), 'the approver sees it');
  assert.ok(ids(await list(admin, 'approval')).includes(c.id), 'admins too');
  assert.ok(!ids(await list(p1, 'approval')).includes(c.id));
  refused(await approver.post('/wx/meeting/approve', { id: c.id, approve: false }), 402, 'a reason to reject');
  const rj = ok(await approver.post('/wx/meeting/approve', { id: c.id, approve: false, reason: '议程不完整' }));
  assert.equal(rj.state, 3);
  d = await detail(host, c.id);
  assert.equal(d.reason, '议程不完整');

  const up = ok(await host.post('/wx/meeting/update', { id: c.id, version: rj.version, content: '议程：1. 回顾 2. 计划', participantIds: [p1.id] }));
  assert.equal(up.version, rj.version + 1);
  d = await detail(host, c.id);
  assert.deepEqual(d.attendees.map((a) => [a.userId, a.role]).sort(), [[host.id, 'host'], [p1.id, 'participant'], [obs.id, 'observer']].sort());
  ok(await host.post('/wx/meeting/submit', { id: c.id }));
  assert.equal(ok(await approver.post('/wx/meeting/approve', { id: c.id, approve: true })).state, 4);

  assert.ok(ids(await list(p1, 'notice')).includes(c.id), 'invited, not answered');
  refused(await p1.post('/wx/meeting/feedback', { id: c.id, attend: false }), 402, 'a reason to decline');
  assert.equal(ok(await p1.post('/wx/meeting/feedback', { id: c.id, attend: false, reason: '出差' })).answer, 'decline');
  assert.equal(ok(await obs.post('/wx/meeting/feedback', { id: c.id, attend: true })).answer, 'attend');
  assert.ok(!ids(await list(p1, 'notice')).includes(c.id), 'answered');
  for (const who of [host, p1, obs]) assert.ok(ids(await list(who, 'upcoming')).includes(c.id));
  d = await detail(host, c.id);
  assert.deepEqual(d.answers, { attend: 2, decline: 1, none: 0 });
  assert.equal(d.attendees.find((a) => a.userId === p1.id).reason, '出差');
  assert.deepEqual(d.history.map((h) => [h.from, h.to]), [[1, 1], [1, 2], [2, 3], [3, 2], [2, 4]]);
  const item = (await list(p1, 'all')).list.find((m) => m.id === c.id);
  assert.deepEqual([item.myRole, item.myAnswer, item.stateName, item.hostName, item.roomName], ['participant', 'decline', '待开', '主持人', '大会议室']);

  const cancelled = ok(await host.post('/wx/meeting/cancel', { id: c.id, reason: '领导出差' }));
  assert.equal(cancelled.state, 0);
  assert.ok(!ids(await list(p1, 'upcoming')).includes(c.id));
  assert.ok(ids(await list(p1, 'all')).includes(c.id), 'a cancelled meeting stays in all');
  refused(await host.post('/wx/meeting/archive', { id: c.id }), 803);
});

test('in progress, ended, archived: states follow the clock; history', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id] });
  await shiftMeeting(oa, m.id, -3600 - 60); // started a minute ago
  let d = await detail(p1, m.id);
  assert.deepEqual([d.state, d.stateName], [5, '进行中']);
  assert.ok(d.actions.includes('feedback'));
  refused(await host.post('/wx/meeting/archive', { id: m.id }), 803, 'not ended yet');
  await shiftMeeting(oa, m.id, -3600);
  d = await detail(host, m.id);
  assert.deepEqual([d.state, d.actions], [6, ['archive']]);
  assert.ok(ids(await list(p1, 'history')).includes(m.id));
  assert.ok(!ids(await list(p1, 'upcoming')).includes(m.id));
  refused(await host.post('/wx/meeting/cancel', { id: m.id, reason: 'x' }), 803, 'after the end');
  refused(await p1.post('/wx/meeting/feedback', { id: m.id, attend: true }), 803, 'after the end');
  const noMinutes = await host.post('/wx/meeting/archive', { id: m.id });
  refused(noMinutes, 803, 'archiving needs the minutes');
  assert.equal(noMinutes.errmsg, '归档前请先填写会议纪要');
  assert.equal(d.hasMinutes, false);
  ok(await host.post('/wx/meeting/minutes', { id: m.id, text: '纪要：决定了三件事。' }));
  assert.equal((await detail(host, m.id)).hasMinutes, true);
  assert.equal(ok(await host.post('/wx/meeting/archive', { id: m.id })).state, 7);
  assert.ok(ids(await list(p1, 'history')).includes(m.id));
});

test('a stale version answers 504 and changes nothing', async () => {
  const c = ok(await host.post('/wx/meeting/create', meetingBody()));
  const v2 = ok(await host.post('/wx/meeting/update', { id: c.id, version: 1, title: '第二版' })).version;
  refused(await host.post('/wx/meeting/update', { id: c.id, version: 1, title: '旧页面' }), 504);
  refused(await host.post('/wx/meeting/submit', { id: c.id, version: 1 }), 504);
  const d = await detail(host, c.id);
  assert.deepEqual([d.title, d.version, d.state], ['第二版', v2, 1]);
  // two edits of one version at once: one wins
  const both = await Promise.all([1, 2].map((i) => host.post('/wx/meeting/update', { id: c.id, version: v2, title: `并发${i}` })));
  assert.deepEqual(both.map((r) => r.errno).sort(), [0, 504]);
});

/*
 * The permission matrix: caller x action x state -> errno (0 allowed). States: 1 draft, 2
 * submitted, 3 rejected, 4 approved (future), 6 ended, 0 cancelled, 7 archived.
 */
const ACTIONS = {
  update: (who, m) => who.post('/wx/meeting/update', { id: m.id, version: m.version, title: '改' }),
  submit: (who, m) => who.post('/wx/meeting/submit', { id: m.id }),
  approve: (who, m) => who.post('/wx/meeting/approve', { id: m.id, approve: true }),
  reject: (who, m) => who.post('/wx/meeting/approve', { id: m.id, approve: false, reason: '不行' }),
  cancel: (who, m) => who.post('/wx/meeting/cancel', { id: m.id, reason: '取消' }),
  archive: (who, m) => who.post('/wx/meeting/archive', { id: m.id }),
  feedback: (who, m) => who.post('/wx/meeting/feedback', { id: m.id, attend: true }),
  detail: (who, m) => who.get(`/wx/meeting/detail?id=${m.id}`),
};
const STATES = [1, 2, 3, 4, 6, 0, 7];
// each row: the errno of the action in each state of STATES; P = 506, S = 803, V = 802
const MATRIX = {
  host: { update: '0S0SSSS', submit: '0S0SSSS', approve: 'PPPPPPP', reject: 'PPPPPPP', cancel: '0000SSS', archive: 'SSSS0SS', feedback: 'PPPPPPP', detail: '0000000' },
  participant: { update: 'PPPPPPP', submit: 'PPPPPPP', approve: 'PPPPPPP', reject: 'PPPPPPP', cancel: 'PPPPPPP', archive: 'PPPPPPP', feedback: 'SSS0SSS', detail: '0000000' },
  observer: { update: 'PPPPPPP', submit: 'PPPPPPP', approve: 'PPPPPPP', reject: 'PPPPPPP', cancel: 'PPPPPPP', archive: 'PPPPPPP', feedback: 'SSS0SSS', detail: '0000000' },
  approver: { update: 'PPPPPPP', submit: 'PPPPPPP', approve: 'S0SSSSS', reject: 'S0SSSSS', cancel: 'PPPPPPP', archive: 'PPPPPPP', feedback: 'PPPPPPP', detail: '0000000' },
  admin: { update: 'PPPPPPP', submit: 'PPPPPPP', approve: 'S0SSSSS', reject: 'S0SSSSS', cancel: '0000SSS', archive: 'SSSS0SS', feedback: 'PPPPPPP', detail: '0000000' },
  other: { update: 'PPPPPPP', submit: 'PPPPPPP', approve: 'PPPPPPP', reject: 'PPPPPPP', cancel: 'PPPPPPP', archive: 'PPPPPPP', feedback: 'PPPPPPP', detail: 'PPPPPPP' },
  visitor: { update: 'VVVVVVV', submit: 'VVVVVVV', approve: 'VVVVVVV', reject: 'VVVVVVV', cancel: 'VVVVVVV', archive: 'VVVVVVV', feedback: 'VVVVVVV', detail: 'VVVVVVV' },
};
const ERRNO = { 0: 0, P: 506, S: 803, V: 802 };

/** A fresh meeting in state s (host hosts, p1 participates, obs observes, approver approves). */
async function inState(s) {
  const body = meetingBody({ participantIds: [p1.id], observerIds: [obs.id], approverId: approver.id });
  const c = ok(await host.post('/wx/meeting/create', body));
  const m = { id: c.id, version: 1 };
  const step = async (r) => { m.version = ok(await r).version; };
  if (s === 1) return m;
  await step(host.post('/wx/meeting/submit', { id: m.id }));
  if (s === 2) return m;
  if (s === 3) {
    await step(approver.post('/wx/meeting/approve', { id: m.id, approve: false, reason: '重写' }));
    return m;
  }
  await step(approver.post('/wx/meeting/approve', { id: m.id, approve: true }));
  if (s === 4) return m;
  if (s === 0) {
    await step(host.post('/wx/meeting/cancel', { id: m.id, reason: '取消' }));
    return m;
  }
  await shiftMeeting(oa, m.id, -3 * 3600); // ended
  ok(await host.post('/wx/meeting/minutes', { id: m.id, text: '纪要' }), 'minutes'); // archiving needs them
  if (s === 6) return m;
  await step(host.post('/wx/meeting/archive', { id: m.id }));
  return m;
}

test('the permission matrix: (caller, action, state) -> errno, and detail.actions agree', async () => {
  const people = { host, participant: p1, observer: obs, approver, admin, other, visitor };
  const failures = [];
  for (const [si, s] of STATES.entries()) {
    const base = await inState(s);
    for (const [role, row] of Object.entries(MATRIX)) {
      // the actions a caller may take, as the detail lists them, must be the ones that work
      if (row.detail[si] === '0') {
        const d = await detail(people[role], base.id);
        const allowed = Object.keys(ACTIONS).filter((a) => a !== 'detail' && row[a][si] === '0').sort();
        if (JSON.stringify([...d.actions].sort()) !== JSON.stringify(allowed))
          failures.push(`${role} in state ${s}: actions ${JSON.stringify(d.actions)}, expected ${JSON.stringify(allowed)}`);
      }
      for (const [action, run] of Object.entries(ACTIONS)) {
        const expected = ERRNO[row[action][si]];
        const m = expected === 0 && action !== 'detail' ? await inState(s) : base; // a change needs its own meeting
        const r = await run(people[role], m);
        if (r.errno !== expected) failures.push(`${role} ${action} in state ${s}: errno ${r.errno} (${r.errmsg}), expected ${expected}`);
        if (expected !== 0) {
          const after = await detail(host, m.id);
          if (after.version !== m.version) failures.push(`${role} ${action} in state ${s}: refused but the version moved`);
        }
      }
    }
  }
  assert.deepEqual(failures, []);
});

test('validation of every field', async () => {
  const start = Date.now() + 86400e3;
  const t = (ms) => cst(ms);
  const good = meetingBody({ participantIds: [p1.id] });
  const cases = [
    [{ title: undefined }, 401], [{ title: '' }, 402], [{ title: 'x'.repeat(101) }, 402], [{ title: 5 }, 401],
    [{ title: '坏\u0007字' }, 402], [{ content: 'x'.repeat(5001) }, 402],
    [{ startTime: undefined }, 401], [{ startTime: '2030-13-01 09:00:00' }, 402], [{ startTime: 'soon' }, 402],
    [{ startTime: t(start), endTime: t(start) }, 402], [{ startTime: t(start), endTime: t(start - 60e3) }, 402],
    [{ startTime: t(start), endTime: t(start + 24 * 3600e3 + 1000) }, 402],
    [{ location: undefined }, 402], [{ roomId: room.id }, 402], [{ location: '' }, 402], [{ location: 'x'.repeat(101) }, 402],
    [{ participantIds: undefined }, 401], [{ participantIds: 'all' }, 401], [{ participantIds: ['1'] }, 401],
    [{ participantIds: [p1.id, p1.id] }, 402], [{ participantIds: [host.id] }, 402], [{ participantIds: [p1.id], observerIds: [p1.id] }, 402],
    [{ participantIds: Array.from({ length: 500 }, (_, i) => i + 100000) }, 402],
    [{ participantIds: [visitor.id] }, 808], [{ participantIds: [999999] }, 808], [{ approverId: visitor.id }, 808],
    [{ approverId: host.id }, 402], [{ remindMinutes: 1441 }, 402], [{ remindMinutes: -1 }, 402],
  ];
  const before = await oa.sql('SELECT count(*) FROM oa_meeting');
  for (const [over, errno] of cases) refused(await host.post('/wx/meeting/create', { ...good, ...over }), errno, JSON.stringify(over).slice(0, 80));
  assert.deepEqual(await oa.sql('SELECT count(*) FROM oa_meeting'), before, 'nothing stored');
  refused(await host.post('/wx/meeting/create', { ...good, roomId: 999999, location: undefined }), 804, 'unknown room');

  // both time forms mean the same instant; emoji kept byte for byte
  const iso = new Date(start).toISOString().replace(/\.\d+Z$/, 'Z');
  const a = ok(await host.post('/wx/meeting/create', { ...good, title: '😀👍🏽 会议', startTime: iso, endTime: t(start + 3600e3) }));
  const d = await detail(host, a.id);
  assert.equal(d.title, '😀👍🏽 会议');
  assert.equal(cstSeconds(d.startTime), Math.floor(start / 1000));
  const plus8 = ok(await host.post('/wx/meeting/create', { ...good, startTime: cst(start).replace(' ', 'T') + '+08:00', endTime: t(start + 3600e3) }));
  assert.equal((await detail(host, plus8.id)).startTime, d.startTime);
  // 500 people with the host is the limit
  const ok500 = await host.post('/wx/meeting/create', { ...good, participantIds: Array.from({ length: 499 }, (_, i) => i + 100000) });
  refused(ok500, 808, '499 unknown ids are 499 non-members, but not too many people');

  // submit needs a future start
  const past = ok(await host.post('/wx/meeting/create', meetingBody({}, { startIn: -60e3 })));
  refused(await host.post('/wx/meeting/submit', { id: past.id }), 809);
  assert.equal((await detail(host, past.id)).state, 1);
  refused(await host.get('/wx/meeting/list?view=everything'), 402);
  refused(await host.get('/wx/meeting/detail?id=abc'), 402);
  refused(await host.get('/wx/meeting/detail?id=999999'), 804);
});

test('the room is taken at submit: an overlap answers 801 naming the clash, back to back is fine', async () => {
  const start = Date.now() + 5 * 86400e3;
  const at = (h, m = 0) => cst(start + h * 3600e3 + m * 60e3);
  const a = ok(await host.post('/wx/meeting/create', { ...meetingBody(), location: undefined, roomId: room.id, startTime: at(0), endTime: at(1) }));
  const b = ok(await p1.post('/wx/meeting/create', { ...meetingBody(), location: undefined, roomId: room.id, startTime: at(0, 59), endTime: at(2) }));
  const c = ok(await p2.post('/wx/meeting/create', { ...meetingBody(), location: undefined, roomId: room.id, startTime: at(1), endTime: at(2) }));
  ok(await host.post('/wx/meeting/submit', { id: a.id }));
  const clash = await p1.post('/wx/meeting/submit', { id: b.id });
  refused(clash, 801);
  assert.ok(clash.errmsg.includes(at(0)) && clash.errmsg.includes(at(1)), `the clash is named: ${clash.errmsg}`);
  ok(await p2.post('/wx/meeting/submit', { id: c.id }), 'half-open intervals: [0,1) and [1,2) do not overlap');
  ok(await host.post('/wx/meeting/cancel', { id: a.id, reason: '让出' }));
  refused(await p1.post('/wx/meeting/submit', { id: b.id }), 801, 'still overlaps c');
});
