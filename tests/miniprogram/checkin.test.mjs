// checkin.test.mjs — 会议签到 (pages/checkin/index), the page a meeting's sign-in code opens,
// against real meetoa and wxemu: the host's code is fetched from the server and read back as a
// phone would (zbarimg), the page opened with {scene: encodeURIComponent(scene)} as WeChat does;
// a participant who has not opened the mini program before is logged in silently and signed in
// (the server's detail shows the time), a second scan shows 已签到 with the first time, a member
// not on the meeting sees why, a bad scene says the code is invalid.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadMiniprogram, newPhone, startMiniWorld } from './harness.mjs';
import { approvedMeeting, ok, organization } from '../blackbox/lib/org.mjs';

const T = { timeout: 20000 };
let world, org, admin, host, dir;

before(async () => {
  world = await startMiniWorld();
  org = organization(world);
  admin = await org.admin('管理员');
  host = await org.member('主持人');
  dir = mkdtempSync(path.join(tmpdir(), 'meetoa-mp-checkin-'));
});
after(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The scene of the meeting's sign-in code, read from the image. */
async function sceneOf(id) {
  const r = await host.get(`/wx/meeting/checkin-code?id=${id}`);
  assert.equal(r.headers.get('content-type'), 'image/png');
  const file = path.join(dir, `${id}.png`);
  writeFileSync(file, r.body);
  return new Promise((resolve, reject) =>
    execFile('zbarimg', ['--raw', '-q', file], (e, out) => (e ? reject(e) : resolve(out.trim()))));
}

test('a scan signs the participant in, once; others are told why', T, async () => {
  // the participant's phone logs in as the wxemu user the organization helper used
  const carol = await org.member('参会人');
  const m = await approvedMeeting(host, admin, { participantIds: [carol.id] }, { startIn: 10 * 60e3 });
  const scene = await sceneOf(m.id);

  // the page logs in by itself: the phone's wx.login user must be the member's wxemu user
  const phone = newPhone(world, carol.wxUser);
  const mp = loadMiniprogram(phone).activate();
  const page = mp.open('pages/checkin/index', { scene: encodeURIComponent(scene) });
  await page.shown;
  assert.equal(page.data.status, 'done', JSON.stringify(page.data));
  assert.equal(page.data.message, '签到成功');
  const d = ok(await host.get(`/wx/meeting/detail?id=${m.id}`));
  const row = d.attendees.find((a) => a.userId === carol.id);
  assert.equal(row.checkinTime, page.data.checkinTime, 'the server kept the time the page shows');

  const again = mp.open('pages/checkin/index', { scene: encodeURIComponent(scene) });
  await again.shown;
  assert.equal(again.data.status, 'already');
  assert.equal(again.data.checkinTime, page.data.checkinTime);

  const bad = mp.open('pages/checkin/index', { scene: 'NotAScene123' });
  await bad.shown;
  assert.deepEqual([bad.data.status, bad.data.message], ['failed', '签到码无效']);

  const dave = await org.member('旁人');
  const dphone = newPhone(world, dave.wxUser);
  const dmp = loadMiniprogram(dphone).activate();
  const outsider = dmp.open('pages/checkin/index', { scene: encodeURIComponent(scene) });
  await outsider.shown;
  assert.deepEqual([outsider.data.status, outsider.data.message], ['failed', '你不在本次会议的参会名单中']);
});
