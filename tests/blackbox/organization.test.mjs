// The organization (docs/api.md "Members", "Rooms"), against a real meetoa on SQLite and MariaDB:
//   - the first admin by `meetoa user role`; joins by invite code (at once) and by request
//     (pending, approved or rejected with a reason that member/me shows);
//   - invite codes: unknown, revoked, expired and used-up ones refused (805) with nothing stored;
//     maxUses held under 12 concurrent joins; codes random and listed;
//   - roles and removal, the last admin kept (807); already a member (806);
//   - the member list: keyword, paging shape, never phones, openids or nicknames;
//   - access: every organization endpoint answers 802 to a visitor, every admin endpoint 506 to a member;
//   - rooms: names unique, disabled rooms hidden from members, the day's schedule, a room a
//     meeting holds not deletable (801);
//   - bad input for every field (401 missing or wrong type, 402 bad value).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startWorld } from './lib/meetoa.mjs';
import { approvedMeeting, cst, ok, organization, refused } from './lib/org.mjs';

let world, oa, org, admin;

before(async () => {
  world = await startWorld();
  oa = world.oa;
  org = organization(world);
  admin = await org.admin('管理员');
});
after(async () => {
  await world?.stop();
});

test('the CLI makes the first admin; member/me tells each membership', async () => {
  const me = ok(await admin.get('/wx/member/me'));
  assert.equal(me.membership, 'admin');
  assert.equal(me.role, 'admin');
  assert.equal(me.name, '管理员');
  const v = await org.visitor('路人');
  const vm = ok(await v.get('/wx/member/me'));
  assert.deepEqual([vm.membership, vm.name, vm.role], ['none', '', '']);
});

test('join by request: pending, then approved; or rejected with a reason', async () => {
  const a = await org.visitor('申请人A');
  const b = await org.visitor('申请人B');
  assert.equal(ok(await a.post('/wx/member/join', { name: '张三 🌸', department: '研发部' })).membership, 'pending');
  assert.equal(ok(await b.post('/wx/member/join', { name: '李四' })).membership, 'pending');
  assert.equal(ok(await a.get('/wx/member/me')).membership, 'pending');
  refused(await a.get('/wx/member/list'), 802, 'a pending request is no member yet');
  const requests = ok(await admin.get('/wx/member/requests'));
  const ids = requests.list.map((r) => r.userId);
  assert.ok(ids.indexOf(a.id) >= 0 && ids.indexOf(a.id) < ids.indexOf(b.id), 'oldest first');
  const ra = requests.list.find((r) => r.userId === a.id);
  assert.equal(ra.name, '张三 🌸', 'emoji kept');
  assert.equal(ra.department, '研发部');
  assert.deepEqual(ok(await admin.post('/wx/member/approve', { userId: a.id, approve: true })), { userId: a.id, membership: 'member' });
  assert.equal(ok(await admin.post('/wx/member/approve', { userId: b.id, approve: false, reason: '非本单位人员' })).membership, 'none');
  refused(await admin.post('/wx/member/approve', { userId: b.id, approve: true }), 804, 'no pending request any more');
  assert.equal(ok(await a.get('/wx/member/me')).membership, 'member');
  const bm = ok(await b.get('/wx/member/me'));
  assert.deepEqual([bm.membership, bm.rejectReason], ['none', '非本单位人员']);
  // asked again after a refusal: pending again
  assert.equal(ok(await b.post('/wx/member/join', { name: '李四' })).membership, 'pending');
  refused(await a.post('/wx/member/join', { name: '张三' }), 806, 'already a member');
});

test('invite codes: random, listed, and refused when unknown, revoked, expired or used up', async () => {
  const one = ok(await admin.post('/wx/member/invite', { maxUses: 1, expireDays: 1 }));
  const two = ok(await admin.post('/wx/member/invite', { maxUses: 1, expireDays: 1 }));
  assert.match(one.code, /^[A-Za-z0-9]{16}$/);
  assert.notEqual(one.code, two.code);
  assert.equal(one.used, 0);
  const listed = ok(await admin.get('/wx/member/invites?limit=100')).list;
  assert.ok(listed.some((i) => i.id === one.id && i.creatorName === '管理员'));
  const expired = ok(await admin.post('/wx/member/invite', { maxUses: 5, expireDays: 1 }));
  await oa.sql(`UPDATE oa_invite SET expires_at = 1 WHERE id = ${expired.id}`);
  ok(await admin.post('/wx/member/invite/revoke', { id: two.id }));
  refused(await admin.post('/wx/member/invite/revoke', { id: 999999 }), 804);
  const first = await org.visitor('持码人');
  ok(await first.post('/wx/member/join', { name: '持码人', inviteCode: one.code }));
  for (const [what, code] of [['used up', one.code], ['revoked', two.code], ['expired', expired.code], ['unknown', 'NoSuchCode000000']]) {
    const v = await org.visitor(`被拒-${what}`);
    refused(await v.post('/wx/member/join', { name: '被拒', inviteCode: code }), 805, what);
    assert.equal(ok(await v.get('/wx/member/me')).membership, 'none', `${what}: nothing stored`);
  }
  assert.deepEqual(await oa.sql(`SELECT used FROM oa_invite WHERE id = ${one.id}`), [['1']]);
});

test('maxUses holds under concurrent joins', async () => {
  const code = ok(await admin.post('/wx/member/invite', { maxUses: 3, expireDays: 1 })).code;
  const people = await Promise.all(Array.from({ length: 12 }, (_, i) => org.visitor(`并发${i}`)));
  const answers = await Promise.all(people.map((p) => p.post('/wx/member/join', { name: p.name, inviteCode: code })));
  assert.equal(answers.filter((r) => r.errno === 0).length, 3);
  assert.equal(answers.filter((r) => r.errno === 805).length, 9);
  assert.deepEqual(await oa.sql(`SELECT used, max_uses FROM oa_invite WHERE code = '${code}'`), [['3', '3']]);
});

test('roles and removal keep at least one admin', async () => {
  refused(await admin.post('/wx/member/role', { userId: admin.id, role: 'member' }), 807, 'the last admin');
  refused(await admin.post('/wx/member/remove', { userId: admin.id }), 807, 'the last admin');
  const m = await org.member('副管理员');
  assert.deepEqual(ok(await admin.post('/wx/member/role', { userId: m.id, role: 'admin' })), { userId: m.id, role: 'admin' });
  assert.equal(ok(await m.get('/wx/member/me')).membership, 'admin');
  ok(await m.post('/wx/member/role', { userId: m.id, role: 'member' }), 'two admins: one may step down');
  const gone = await org.member('离职员工');
  assert.equal(ok(await admin.post('/wx/member/remove', { userId: gone.id })).membership, 'none');
  refused(await gone.get('/wx/member/list'), 802, 'removed: a visitor again');
  refused(await admin.post('/wx/member/remove', { userId: gone.id }), 804, 'no longer a member');
  const v = await org.visitor('外人');
  refused(await admin.post('/wx/member/role', { userId: v.id, role: 'admin' }), 804, 'not a member');
});

test('the member list: keyword, pages, and no private fields', async () => {
  const m = await org.member('王五', '财务部');
  await oa.sql(`UPDATE wx_user SET mobile = '13800138000' WHERE id = ${m.id}`);
  const page = ok(await m.get('/wx/member/list?keyword=' + encodeURIComponent('财务') + '&page=1&limit=5'));
  assert.deepEqual(Object.keys(page).sort(), ['limit', 'list', 'page', 'pages', 'total']);
  assert.equal(page.total, 1);
  assert.deepEqual(Object.keys(page.list[0]).sort(), ['avatar', 'department', 'id', 'name', 'role']);
  assert.equal(page.list[0].name, '王五');
  const text = (await m.get('/wx/member/list?limit=100')).text;
  assert.ok(!text.includes('13800138000') && !text.includes(m.openid), 'no phone numbers, no openids');
  const all = ok(await m.get('/wx/member/list?limit=2'));
  assert.equal(all.list.length, 2);
  assert.equal(all.pages, Math.ceil(all.total / 2));
  const names = ok(await m.get('/wx/member/list?limit=100')).list.map((x) => x.name);
  if (oa.dialect === 'sqlite') // byte order there; MariaDB orders by its utf8mb4_unicode_ci collation
    assert.deepEqual(names, [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), 'by name');
  assert.equal(ok(await m.get('/wx/member/list?keyword=%25')).total, 0, '% is a character, not a wildcard');
});

test('visitors get 802 from the organization; members 506 from its admin endpoints', async () => {
  const v = await org.visitor('访客');
  const m = await org.member('普通成员');
  const memberCalls = [
    ['GET', '/wx/member/list'], ['GET', '/wx/room/list'], ['GET', '/wx/room/schedule?date=2030-01-01'],
    ['POST', '/wx/meeting/create', {}], ['GET', '/wx/meeting/list'], ['GET', '/wx/meeting/detail?id=1'],
  ];
  const adminCalls = [
    ['GET', '/wx/member/requests'], ['POST', '/wx/member/approve', { userId: 1, approve: true }],
    ['POST', '/wx/member/role', { userId: 1, role: 'member' }], ['POST', '/wx/member/remove', { userId: 1 }],
    ['POST', '/wx/member/invite', { maxUses: 1, expireDays: 1 }], ['GET', '/wx/member/invites'],
    ['POST', '/wx/member/invite/revoke', { id: 1 }], ['POST', '/wx/room/create', { name: 'x' }],
    ['POST', '/wx/room/update', { id: 1 }], ['POST', '/wx/room/delete', { id: 1 }],
  ];
  const call = (p, [method, path, body]) => (method === 'GET' ? p.get(path) : p.post(path, body));
  for (const c of [...memberCalls, ...adminCalls]) refused(await call(v, c), 802, `visitor ${c[1]}`);
  for (const c of adminCalls) refused(await call(m, c), 506, `member ${c[1]}`);
  const nobody = await oa.get('/wx/member/me');
  assert.equal(nobody.errno, 501, 'no token: please log in');
});

test('rooms: unique names, hidden when disabled, the schedule, and no deletion while booked', async () => {
  const m = await org.member('订会议室的人');
  const room = ok(await admin.post('/wx/room/create', { name: '301 会议室', location: '3楼东', capacity: 12, equipment: '投影' }));
  assert.deepEqual(room, { id: room.id, name: '301 会议室', location: '3楼东', capacity: 12, equipment: '投影', enabled: true });
  refused(await admin.post('/wx/room/create', { name: '301 会议室' }), 402, 'the name is taken');
  const hidden = ok(await admin.post('/wx/room/create', { name: '装修中', enabled: false }));
  const memberRooms = ok(await m.get('/wx/room/list')).list.map((r) => r.id);
  assert.ok(memberRooms.includes(room.id) && !memberRooms.includes(hidden.id));
  assert.ok(ok(await admin.get('/wx/room/list')).list.some((r) => r.id === hidden.id), 'admins see disabled rooms');
  refused(await admin.post('/wx/room/update', { id: 999999, name: 'x' }), 804);
  assert.equal(ok(await admin.post('/wx/room/update', { id: room.id, capacity: 20 })).capacity, 20);

  const start = Date.now() + 2 * 86400e3;
  const meeting = await approvedMeeting(m, admin, { roomId: room.id, location: undefined, startTime: cst(start), endTime: cst(start + 3600e3) });
  const day = cst(start).slice(0, 10);
  const sched = ok(await m.get(`/wx/room/schedule?date=${day}`));
  assert.equal(sched.date, day);
  const busy = sched.list.find((r) => r.id === room.id).busy;
  assert.deepEqual(busy.map((b) => [b.meetingId, b.startTime, b.state]), [[meeting.id, cst(start), 4]]);
  assert.ok(!sched.list.some((r) => r.id === hidden.id), 'disabled rooms are not in the schedule');
  refused(await admin.post('/wx/room/delete', { id: room.id }), 801, 'a meeting holds it');
  ok(await m.post('/wx/meeting/cancel', { id: meeting.id, reason: '改期' }));
  ok(await admin.post('/wx/room/delete', { id: room.id }), 'free again');
  refused(await admin.post('/wx/room/delete', { id: room.id }), 804, 'deleted');
});

test('bad input for every field answers 401 or 402 and stores nothing', async () => {
  const v = await org.visitor('坏输入');
  const cases = [
    [v, '/wx/member/join', {}, 401],
    [v, '/wx/member/join', { name: 7 }, 401],
    [v, '/wx/member/join', { name: '' }, 402],
    [v, '/wx/member/join', { name: 'x'.repeat(21) }, 402],
    [v, '/wx/member/join', { name: '有\u0000空字符' }, 402],
    [v, '/wx/member/join', { name: 'ok', department: 'x'.repeat(51) }, 402],
    [v, '/wx/member/join', { name: 'ok', inviteCode: 5 }, 401],
    [admin, '/wx/member/approve', { userId: 'x', approve: true }, 402],
    [admin, '/wx/member/approve', { userId: 1 }, 401],
    [admin, '/wx/member/approve', { userId: 0, approve: true }, 402],
    [admin, '/wx/member/approve', { userId: 1, approve: 'maybe' }, 402],
    [admin, '/wx/member/role', { userId: 1, role: 'boss' }, 402],
    [admin, '/wx/member/role', { userId: 1 }, 401],
    [admin, '/wx/member/invite', { maxUses: 0, expireDays: 1 }, 402],
    [admin, '/wx/member/invite', { maxUses: 10001, expireDays: 1 }, 402],
    [admin, '/wx/member/invite', { maxUses: 1, expireDays: 366 }, 402],
    [admin, '/wx/member/invite', { maxUses: 1 }, 401],
    [admin, '/wx/room/create', {}, 401],
    [admin, '/wx/room/create', { name: 'x'.repeat(51) }, 402],
    [admin, '/wx/room/create', { name: 'r', capacity: -1 }, 402],
    [admin, '/wx/room/create', { name: 'r', capacity: 'ten' }, 402],
    [admin, '/wx/room/create', { name: 'r', location: 'x'.repeat(101) }, 402],
    [admin, '/wx/room/create', { name: 'r', equipment: 'x'.repeat(201) }, 402],
    [admin, '/wx/room/create', { name: 'r', enabled: 'yes' }, 402],
  ];
  const before = await oa.sql('SELECT count(*) FROM oa_member');
  for (const [who, path, body, errno] of cases) refused(await who.post(path, body), errno, `${path} ${JSON.stringify(body).slice(0, 60)}`);
  for (const q of ['page=0', 'limit=101', 'limit=x', 'keyword=' + 'x'.repeat(21), 'page=%zz'])
    refused(await admin.get(`/wx/member/list?${q}`), 402, q);
  for (const d of ['2030-02-30', '2030-1-1', 'tomorrow'])
    refused(await admin.get(`/wx/room/schedule?date=${d}`), 402, d);
  refused(await admin.get('/wx/room/schedule'), 401, 'no date');
  assert.deepEqual(await oa.sql('SELECT count(*) FROM oa_member'), before, 'nothing stored');
});
