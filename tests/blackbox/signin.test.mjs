// Sign-in (签到) by the meeting's mini program code (docs/api.md "Sign-in"), on SQLite and MariaDB:
//   - the host's code is a real PNG whose QR code (read by zbarimg, as a phone would) is the
//     scene; 20 views at once cost one WeChat call; only the host or an admin gets it;
//   - a scan signs in once (a second answers the first time), late after the start; outsiders
//     506, visitors 802, outside the window 812, unknown scenes 810;
//   - 50 concurrent scans of one person make one sign-in;
//   - rotating codes: the previous window's scene works during the overlap and not after (811),
//     the bare code of a rotating meeting is refused (the tokens are made here from the data key);
//   - make-up sign-in, the detail's attendance, the CSV sheet (BOM, header, escaped formulas);
//   - a WeChat failure answers the envelope, no image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { APP_ID, startWorld } from './lib/meetoa.mjs';
import { approvedMeeting, ok, organization, refused, shiftMeeting } from './lib/org.mjs';

const ROTATE = 10, OVERLAP = 3;
let world, oa, org, admin, host, p1, p2, outsider, tmp;

before(async () => {
  world = await startWorld({ meetoa: { config: { oa: { checkin: { 'rotate-seconds': ROTATE, 'overlap-seconds': OVERLAP, 'open-minutes': 30 } } } } });
  oa = world.oa;
  org = organization(world);
  admin = await org.admin('管理员');
  [host, p1, p2, outsider] = await Promise.all(['主持人', '=SUM(A1)', '参会乙', '旁人'].map((n) => org.member(n)));
  tmp = mkdtempSync(path.join(tmpdir(), 'meetoa-signin-'));
});
after(async () => {
  await world?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The scene of an image answer, read back from its QR code. */
function scan(bytes) {
  const file = path.join(tmp, `code-${Math.random().toString(36).slice(2)}.png`);
  writeFileSync(file, bytes);
  return new Promise((resolve, reject) =>
    execFile('zbarimg', ['--raw', '-q', file], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))));
}

const code = (who, id) => who.get(`/wx/meeting/checkin-code?id=${id}`);
const checkin = (who, scene) => who.post('/wx/meeting/checkin', { scene });
const calls = async () => (await world.wx.stats())['/wxa/getwxacodeunlimit'] ?? 0;

/** A rotating scene's token for window w (src/meeting/checkin_scene.c). */
function token(codeText, window) {
  const mac = createHmac('sha256', Buffer.from(oa.dataKey, 'base64')).update(`checkin:${codeText}:${window}`).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 8 }, (_, i) => alphabet[mac.readUInt32BE(4 * i) % 62]).join('');
}

test('the code: a real QR image of the scene, cached, for the host and admins only', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id] });
  const before = await calls();
  const views = await Promise.all(Array.from({ length: 20 }, () => code(host, m.id)));
  for (const v of views) assert.equal(v.status, 200);
  assert.equal(views[0].headers.get('content-type'), 'image/png');
  assert.ok(views.every((v) => v.body.equals(views[0].body)), 'one image');
  assert.equal((await calls()) - before, 1, 'one WeChat call for 20 views');
  const scene = await scan(views[0].body);
  assert.match(scene, /^[A-Za-z0-9]{12}$/);
  assert.ok(!scene.includes(String(m.id)) || scene.length === 12);
  assert.equal((await scan((await code(admin, m.id)).body)), scene, 'admins get the same code');
  refused(await code(p1, m.id), 506);
  const draft = ok(await host.post('/wx/meeting/create', { title: '草稿', startTime: '2030-01-01 09:00:00', endTime: '2030-01-01 10:00:00', location: 'A', participantIds: [] }));
  refused(await code(host, draft.id), 803, 'a draft has no sign-in');
});

test('scans: once, late after the start, outsiders and visitors refused, the window', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id, p2.id] }, { startIn: 10 * 60e3 });
  const scene = await scan((await code(host, m.id)).body);
  const first = ok(await checkin(p1, scene));
  assert.deepEqual([first.meetingId, first.userId, first.late, first.already], [m.id, p1.id, false, false]);
  const again = ok(await checkin(p1, scene));
  assert.deepEqual([again.already, again.checkinTime], [true, first.checkinTime]);
  refused(await checkin(outsider, scene), 506, 'not on the meeting');
  refused(await checkin(await org.visitor('访客'), scene), 802);
  refused(await checkin(p1, 'NoSuchScene1'), 810);
  refused(await checkin(p1, 'x'.repeat(40)), 402, 'over 32 characters');
  await shiftMeeting(oa, m.id, -15 * 60); // started 5 minutes ago
  assert.equal(ok(await checkin(p2, scene)).late, true);
  await shiftMeeting(oa, m.id, -2 * 3600); // ended
  refused(await checkin(host, scene), 812, 'after the end');
  const later = await approvedMeeting(host, admin, { participantIds: [p1.id] }, { startIn: 2 * 3600e3 });
  const s2 = await scan((await code(host, later.id)).body);
  refused(await checkin(p1, s2), 812, 'more than 30 minutes before the start');
});

test('50 concurrent scans of one person make one sign-in', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id] }, { startIn: 5 * 60e3 });
  const scene = await scan((await code(host, m.id)).body);
  const answers = await Promise.all(Array.from({ length: 50 }, () => checkin(p1, scene)));
  assert.ok(answers.every((r) => r.errno === 0));
  assert.equal(answers.filter((r) => !r.data.already).length, 1);
  assert.equal(new Set(answers.map((r) => r.data.checkinTime)).size, 1);
  assert.deepEqual(await oa.sql(`SELECT count(*) FROM oa_attendee WHERE meeting_id = ${m.id} AND checkin_at <> 0`), [['1']]);
});

test('rotating codes: the previous scene within the overlap only', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id, p2.id], checkinRotating: true }, { startIn: 5 * 60e3 });
  const scene = await scan((await code(host, m.id)).body);
  assert.match(scene, /^[A-Za-z0-9]{12}\.[A-Za-z0-9]{8}$/);
  const codeText = scene.slice(0, 12);
  const now = Math.floor(Date.now() / 1000), w = Math.floor(now / ROTATE);
  // make the checks independent of where in its window the clock is: wait out the overlap edge
  const into = now - w * ROTATE;
  if (into >= OVERLAP - 1 && into < OVERLAP + 1) await new Promise((r) => setTimeout(r, 2000));
  const t = Math.floor(Date.now() / 1000), win = Math.floor(t / ROTATE), inOverlap = t - win * ROTATE < OVERLAP;
  const previous = `${codeText}.${token(codeText, win - 1)}`;
  const older = `${codeText}.${token(codeText, win - 2)}`;
  if (inOverlap) ok(await checkin(p1, previous), 'the previous scene during the overlap');
  else refused(await checkin(p1, previous), 811, 'the previous scene after the overlap');
  refused(await checkin(p2, older), 811, 'two windows old');
  refused(await checkin(p2, codeText), 811, 'the bare code of a rotating meeting');
  ok(await checkin(p2, `${codeText}.${token(codeText, win)}`), 'the current scene');
  const r = await code(host, m.id);
  assert.ok(Number(r.headers.get('x-oa-checkin-refresh')) <= ROTATE);
});

test('make-up sign-in, attendance on the detail, the CSV sheet', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id, p2.id] }, { startIn: 5 * 60e3 });
  const scene = await scan((await code(host, m.id)).body);
  ok(await checkin(host, scene));
  refused(await p1.post('/wx/meeting/checkin/makeup', { id: m.id, userId: p2.id, reason: '忘带手机' }), 506);
  refused(await host.post('/wx/meeting/checkin/makeup', { id: m.id, userId: p2.id }), 401);
  refused(await host.post('/wx/meeting/checkin/makeup', { id: m.id, userId: outsider.id, reason: 'x' }), 804);
  const mk = ok(await host.post('/wx/meeting/checkin/makeup', { id: m.id, userId: p2.id, reason: '忘带手机' }));
  assert.deepEqual([mk.makeup, mk.late], [true, false]);
  const d = ok(await host.get(`/wx/meeting/detail?id=${m.id}`));
  assert.deepEqual(d.attendance, { expected: 3, present: 2, late: 0, absent: 1, rate: 0.667 });
  const a2 = d.attendees.find((a) => a.userId === p2.id);
  assert.equal(a2.makeup, true);
  assert.equal(d.attendees.find((a) => a.userId === p1.id).checkinTime, '');
  const csv = await host.get(`/wx/meeting/attendance.csv?id=${m.id}`);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.deepEqual([...csv.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the BOM');
  const lines = csv.body.subarray(3).toString('utf8').trim().split('\r\n');
  assert.equal(lines[0], '姓名,部门,角色,状态,签到时间,补签原因');
  assert.equal(lines.length, 4);
  assert.ok(lines.some((l) => l.startsWith('"\'=SUM(A1)"') && l.includes('未签到')), `a formula is escaped: ${lines.join(' | ')}`);
  assert.ok(lines.some((l) => l.startsWith('"参会乙"') && l.includes('"补签"') && l.endsWith('"忘带手机"')));
  refused(await p1.get(`/wx/meeting/attendance.csv?id=${m.id}`), 506);
});

test('a WeChat failure answers the envelope, and the next view asks again', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id] }, { startIn: 5 * 60e3 });
  await world.wx.wxacodeSettings(APP_ID, { limitPerMinute: 1 });
  try {
    const other = await approvedMeeting(host, admin, { participantIds: [p1.id] }, { startIn: 6 * 60e3 });
    await code(host, other.id); // spends the ration
    const r = await code(host, m.id);
    assert.equal(r.status, 200);
    assert.equal(r.errno, 713, `WeChat's 45009: ${r.text.slice(0, 200)}`);
  } finally {
    await world.wx.wxacodeSettings(APP_ID, { limitPerMinute: 5000 });
  }
  const again = await code(host, m.id);
  assert.equal(again.headers.get('content-type'), 'image/png', 'a failure is not cached');
});
