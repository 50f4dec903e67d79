// Image checks (docs/api.md "Content checks"), on SQLite and MariaDB: with oa.wx.content-check an
// uploaded avatar goes to WeChat's media_check_async (wxemu) with its public URL, and the verdict
// comes back through the message push, signed and in safe mode, to meetoa's /wx/wechat/push:
//   - risky: the file is deleted and taken off the user's avatar;
//   - review: kept, and flagged for admins;
//   - pass: kept, nothing flagged; a re-sent verdict changes nothing;
//   - WeChat refusing the call: the upload works, flagged "unchecked";
//   - with the check off no call is made;
//   - a meeting attachment's image goes to WeChat through a signed, expiring link (attachments are
//     never public): the link serves the bytes, a forged or stretched one does not; risky deletes
//     the attachment and its file, review flags it, a refused call flags it unchecked; a PDF is
//     not sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { APP_ID, eventually, multipart, startMeetoa, mergeConfig, startWorld } from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';
import { approvedMeeting, ok, organization, refused, shiftMeeting } from './lib/org.mjs';

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

// ---- meeting attachments ----

/** An ended meeting of a new host; returns {host, id}. */
async function endedMeeting(name) {
  const host = await org.member(name);
  const m = await approvedMeeting(host, admin);
  await shiftMeeting(oa, m.id, -3 * 3600);
  return { host, id: m.id };
}

async function attach(host, id, data, filename) {
  const form = multipart([{ name: 'id', data: String(id) }, { name: 'file', filename, type: 'application/octet-stream', data }]);
  const r = await oa.send('POST', '/wx/meeting/attachment', form.body, {
    'content-type': form.contentType, [oa.config.oa.token.header]: host.token,
  });
  return ok(r, 'attachment upload');
}

/** The one media check wxemu got since it was cleared: {...its entry, file (KEY), url}. */
async function lastMediaCheck() {
  let list = [];
  assert.ok(await eventually(async () => (list = await wx.mediaChecks(APP_ID)).length > 0, 5000), 'a media check');
  assert.equal(list.length, 1);
  const url = new URL(list[0].media_url);
  const m = url.pathname.match(/^\/wx\/storage\/signed\/attachments\/([A-Za-z0-9]{32}\.png)$/);
  assert.ok(m, list[0].media_url);
  return { ...list[0], file: m[1], url };
}

const attachments = async (host, id) => ok(await host.get(`/wx/meeting/minutes?id=${id}`)).attachments;

test('an attachment image to review: sent through a signed link that works for WeChat only', async () => {
  await wx.seccheck(APP_ID, { risky: [], review: ['/attachments/'] });
  await wx.clearPushLog();
  await wx.clearMediaChecks();
  const { host, id } = await endedMeeting('附件审核');
  const png = tinyPng({ text: '附件图' });
  const a = await attach(host, id, png, '白板.png');
  const check = await lastMediaCheck();
  assert.equal(check.openid, host.openid, 'the uploader');
  assert.equal(check.media_type, 2);
  assert.equal(check.scene, 3);
  assert.ok(existsSync(path.join(storageDir, 'attachments', check.file)));

  // the link: the bytes, privately cached; forged, stretched or cut ones answer 404
  const r = await fetch(check.url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.equal(r.headers.get('cache-control'), 'private, no-store');
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), png);
  const exp = Number(check.url.searchParams.get('exp'));
  const now = Math.floor(Date.now() / 1000);
  assert.ok(exp > now + 3000 && exp <= now + 3600 + 5, `expires in about an hour (${exp - now} s)`);
  const sig = check.url.searchParams.get('sig');
  const forged = (q) => fetch(`${check.url.origin}${check.url.pathname}?${q}`);
  assert.equal((await forged(`exp=${exp + 86400}&sig=${sig}`)).status, 404, 'a stretched expiry');
  assert.equal((await forged(`exp=${exp}&sig=${sig.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`)).status, 404, 'a changed signature');
  assert.equal((await forged(`exp=${exp}`)).status, 404, 'no signature');
  assert.equal((await fetch(`${oa.base}/wx/storage/fetch/${check.file}`)).status, 404, 'never public');
  const other = check.url.pathname.replace(/[A-Za-z0-9](\.png)$/, (c, ext) => (c[0] === 'a' ? 'b' : 'a') + ext);
  assert.equal((await fetch(`${check.url.origin}${other}${check.url.search}`)).status, 404, 'another file');

  await wx.waitPushes(APP_ID, 1, 8000);
  let f;
  assert.ok(await eventually(async () => (f = (await flags()).find((x) => x.excerpt === check.file)) !== undefined, 5000), 'flagged');
  assert.equal(f.route, '/wx/meeting/attachment');
  assert.equal(f.field, 'file');
  assert.equal(f.verdict, 'review');
  assert.equal(f.objectId, a.id);
  assert.equal(f.userId, host.id);
  assert.deepEqual((await attachments(host, id)).map((x) => x.id), [a.id], 'kept');
});

test('a risky attachment image: the attachment and its file deleted', async () => {
  await wx.seccheck(APP_ID, { risky: ['/attachments/'], review: [] });
  await wx.clearPushLog();
  await wx.clearMediaChecks();
  const { host, id } = await endedMeeting('附件违规');
  const a = await attach(host, id, tinyPng({ text: '违规图' }), 'x.png');
  const check = await lastMediaCheck();
  const pushes = await wx.waitPushes(APP_ID, 1, 8000);
  assert.equal(pushes[0].answer, 'success');
  assert.ok(await eventually(async () => (await attachments(host, id)).length === 0, 5000), 'taken off the meeting');
  refused(await host.get(`/wx/meeting/attachment?id=${a.id}`), 804);
  assert.equal(existsSync(path.join(storageDir, 'attachments', check.file)), false, 'the file is deleted');
  assert.equal((await fetch(check.url)).status, 404, 'the link finds nothing');
  assert.ok(!(await flags()).some((x) => x.excerpt === check.file), 'not flagged: gone');
});

test('attachments: a refused check flags the image unchecked; a PDF is not sent', async () => {
  await wx.seccheck(APP_ID, { risky: [], review: [] });
  await wx.clearMediaChecks();
  const { host, id } = await endedMeeting('附件繁忙');
  const n0 = (await wx.stats())[CHECK] ?? 0;
  await attach(host, id, Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n'), '纪要.pdf');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await wx.stats())[CHECK] ?? 0, n0, 'no check of a PDF');

  await wx.faults({ path: CHECK, errcode: -1 });
  const a = await attach(host, id, tinyPng({ text: '忙' }), 'y.png');
  let f;
  assert.ok(await eventually(async () => (f = (await flags()).find((x) => x.route === '/wx/meeting/attachment' && x.userId === host.id)) !== undefined, 5000));
  assert.equal(f.verdict, 'unchecked');
  assert.equal(f.errcode, -1);
  assert.match(f.excerpt, /^[A-Za-z0-9]{32}\.png$/);
  await wx.clearFaults();
  assert.deepEqual((await attachments(host, id)).map((x) => x.name).sort(), ['y.png', '纪要.pdf'], 'both kept');
  assert.ok(a.id > 0);
});
