// Image checks (docs/api.md "Content checks"), on SQLite and MariaDB: with oa.wx.content-check an
// uploaded avatar goes to WeChat's media_check_async (wxemu) with its public URL, and the verdict
// comes back through the message push, signed and in safe mode, to meetoa's /wx/wechat/push:
//   - risky: the file is deleted and taken off the user's avatar;
//   - review: kept, and flagged for admins;
//   - pass: kept, nothing flagged; a re-sent verdict changes nothing;
//   - WeChat refusing the call: the upload works, flagged "unchecked";
//   - with the check off no call is made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { APP_ID, eventually, startMeetoa, mergeConfig, startWorld } from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';
import { ok, organization } from './lib/org.mjs';

const TOKEN = 'PushToken' + randomBytes(4).toString('hex');
const KEY = Array.from(randomBytes(43), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
const CHECK = '/wxa/media_check_async';

let world, wx, oa, org, admin;
const storageDir = mkdtempSync(path.join(tmpdir(), 'meetoa-media-'));

before(async () => {
  world = await startWorld({
    meetoa: { config: { oa: { storage: { dir: storageDir }, wx: { 'content-check': true, push: { token: TOKEN, 'aes-key': KEY } } } } },
  });
  ({ wx, oa } = world);
  await wx.pushSettings(APP_ID, { url: `${oa.base}/wx/wechat/push`, token: TOKEN, encodingAesKey: KEY, delayMs: 100 });
  org = organization(world);
  admin = await org.admin('管理员');
});
after(async () => {
  await world?.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

/** A person uploads an avatar and sets it; returns {person, key, url}. */
async function avatar(name) {
  const person = await org.person(name);
  const up = await oa.upload(person.token, tinyPng({ text: name }), 'a.png', 'image/png');
  assert.equal(up.errno, 0, JSON.stringify(up.json));
  ok(await oa.profile(person.token, { avatar: up.data.url }));
  return { person, key: up.data.key, url: up.data.url };
}
const avatarOf = async (person) => ok(await oa.info(person.token)).avatar;
const flags = async () => ok(await admin.get('/wx/content/flags?limit=100')).list;

test('a risky image: deleted and taken off the avatar, through a safe-mode push', async () => {
  await wx.seccheck(APP_ID, { risky: ['.png'], review: [] });
  await wx.clearPushLog();
  const n0 = (await wx.stats())[CHECK] ?? 0;
  const { person, key, url } = await avatar('冒险者');
  assert.equal((await wx.stats())[CHECK] - n0, 1, 'one media check for the upload');
  const pushes = await wx.waitPushes(APP_ID, 1, 8000);
  assert.equal(pushes.length, 1);
  assert.equal(pushes[0].mode, 'safe');
  assert.equal(pushes[0].status, 200);
  assert.equal(pushes[0].answer, 'success');
  assert.ok(await eventually(async () => (await avatarOf(person)) === '', 5000), 'the avatar was taken off');
  assert.equal(existsSync(path.join(storageDir, key)), false, 'the file is deleted');
  const r = await fetch(url);
  assert.equal(r.status, 404);
});

test('an image to review: kept and flagged; a passed one kept, not flagged', async () => {
  await wx.seccheck(APP_ID, { risky: [], review: ['.png'] });
  await wx.clearPushLog();
  const a = await avatar('待审者');
  await wx.waitPushes(APP_ID, 1, 8000);
  let f;
  assert.ok(await eventually(async () => (f = (await flags()).find((x) => x.excerpt === a.key)) !== undefined, 5000), 'flagged');
  assert.equal(f.route, '/wx/storage/upload');
  assert.equal(f.verdict, 'review');
  assert.equal(f.userId, a.person.id);
  assert.match(f.traceId, /\S/);
  assert.equal(await avatarOf(a.person), a.url, 'kept');
  assert.ok(existsSync(path.join(storageDir, a.key)));

  await wx.seccheck(APP_ID, { risky: [], review: [] });
  await wx.clearPushLog();
  const b = await avatar('正常者');
  const pushes = await wx.waitPushes(APP_ID, 1, 8000);
  assert.equal(pushes[0].answer, 'success');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await avatarOf(b.person), b.url);
  assert.ok(existsSync(path.join(storageDir, b.key)));
  assert.ok(!(await flags()).some((x) => x.excerpt === b.key));
});

test('WeChat refusing the call: the upload still works, flagged unchecked', async () => {
  await wx.faults({ path: CHECK, errcode: -1 });
  const a = await avatar('繁忙时');
  let f;
  assert.ok(await eventually(async () => (f = (await flags()).find((x) => x.excerpt === a.key)) !== undefined, 5000));
  assert.equal(f.verdict, 'unchecked');
  assert.equal(f.errcode, -1);
  assert.equal(await avatarOf(a.person), a.url);
  await wx.clearFaults();
});

test('no media check when the check is off', async () => {
  const off = await startMeetoa({ wxemu: wx, appSecret: world.appSecret, dataKey: oa.dataKey, dir: oa.dir, config: mergeConfig(oa.config, { oa: { wx: { 'content-check': false } } }) });
  try {
    const person = await org.person('关闭者');
    const n0 = (await wx.stats())[CHECK] ?? 0;
    const up = await off.upload(person.token, tinyPng({ text: 'off' }), 'a.png', 'image/png');
    assert.equal(up.errno, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await wx.stats())[CHECK] ?? 0, n0);
  } finally {
    await off.stop({ keepDir: true });
  }
});
