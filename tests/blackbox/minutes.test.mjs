// Minutes (会议纪要) and attachments (docs/api.md "Minutes"), on SQLite and MariaDB:
//   - the host writes minutes once the meeting has ended (803 before, and after archiving);
//     participants read them, other members get 506; 20,000 characters at most;
//   - attachments judged by their bytes: a PDF, a DOCX (a real ZIP made here) and a PNG are
//     kept and downloaded back byte for byte by people on the meeting with their type and a
//     Content-Disposition carrying the UTF-8 name; a renamed text file (740), a file over
//     oa.minutes.max-attachment-bytes (741), one more than oa.minutes.max-attachments (402)
//     are refused; deleting one removes its file;
//   - archiving needs the minutes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { multipart, startWorld } from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';
import { approvedMeeting, ok, organization, refused, shiftMeeting } from './lib/org.mjs';

let world, oa, org, admin, host, p1, other, meeting;
const storageDir = mkdtempSync(path.join(tmpdir(), 'meetoa-minutes-'));

before(async () => {
  world = await startWorld({ meetoa: { config: { oa: { storage: { dir: storageDir }, minutes: { 'max-attachment-bytes': 4096, 'max-attachments': 3 } } } } });
  oa = world.oa;
  org = organization(world);
  admin = await org.admin('管理员');
  [host, p1, other] = await Promise.all(['主持人', '参会人', '旁人'].map((n) => org.member(n)));
  meeting = await approvedMeeting(host, admin, { participantIds: [p1.id] });
});
after(async () => {
  await world?.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

/** A stored ZIP holding the named files (enough for an Office package's directory). */
function zip(files) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, data] of Object.entries(files)) {
    const n = Buffer.from(name), d = Buffer.from(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4);
    local.writeUInt32LE(d.length, 18); local.writeUInt32LE(d.length, 22); local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt32LE(d.length, 20); central.writeUInt32LE(d.length, 24); central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, d);
    centrals.push(central, n);
    offset += 30 + n.length + d.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(centrals.length / 2, 8); end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const DOCX = zip({ '[Content_Types].xml': '<Types/>', '_rels/.rels': '<Relationships/>', 'word/document.xml': '<w:document/>' });

function upload(who, id, data, filename) {
  const form = multipart([{ name: 'id', data: String(id) }, { name: 'file', filename, type: 'application/octet-stream', data }]);
  return oa.send('POST', '/wx/meeting/attachment', form.body, {
    'content-type': form.contentType, [oa.config.oa.token.header]: who.token,
  });
}

test('minutes: written by the host once the meeting ended, read by the people on it', async () => {
  refused(await host.post('/wx/meeting/minutes', { id: meeting.id, text: '太早' }), 803, 'before the end');
  await shiftMeeting(oa, meeting.id, -3 * 3600);
  refused(await p1.post('/wx/meeting/minutes', { id: meeting.id, text: 'x' }), 506, 'a participant');
  refused(await host.post('/wx/meeting/minutes', { id: meeting.id, text: 'x'.repeat(20001) }), 402);
  const text = '一、决议：预算通过 ✅\n二、待办：\t张三跟进';
  ok(await host.post('/wx/meeting/minutes', { id: meeting.id, text: 'x'.repeat(20000) }), '20,000 characters');
  ok(await host.post('/wx/meeting/minutes', { id: meeting.id, text }), 'rewritten');
  const read = ok(await p1.get(`/wx/meeting/minutes?id=${meeting.id}`));
  assert.equal(read.text, text, 'newlines, tabs and emoji kept');
  assert.equal(read.authorName, '主持人');
  assert.deepEqual(read.attachments, []);
  refused(await other.get(`/wx/meeting/minutes?id=${meeting.id}`), 506, 'not on the meeting');
  refused(await p1.get('/wx/meeting/minutes?id=999999'), 804);
});

test('attachments: judged by their bytes, downloaded back, limits, deletion', async () => {
  const pdf = ok(await upload(host, meeting.id, PDF, '../../会议 纪要.pdf'), 'pdf');
  assert.deepEqual([pdf.name, pdf.contentType, pdf.size], ['会议 纪要.pdf', 'application/pdf', PDF.length], 'the path is dropped from the name');
  const docx = ok(await upload(host, meeting.id, DOCX, '方案.docx'), 'docx');
  assert.equal(docx.contentType, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
  refused(await upload(host, meeting.id, Buffer.from('<html><script>alert(1)</script></html>'), 'evil.pdf'), 740, 'renamed text');
  refused(await upload(host, meeting.id, Buffer.concat([PDF, Buffer.alloc(5000)]), 'big.pdf'), 741, 'over max-attachment-bytes');
  refused(await upload(p1, meeting.id, PDF, 'p1.pdf'), 506, 'a participant may not attach');
  ok(await upload(host, meeting.id, tinyPng(), 'photo.png'), 'png');
  refused(await upload(host, meeting.id, PDF, 'fourth.pdf'), 402, 'over max-attachments');

  const listed = ok(await p1.get(`/wx/meeting/minutes?id=${meeting.id}`)).attachments;
  assert.deepEqual(listed.map((a) => a.name), ['会议 纪要.pdf', '方案.docx', 'photo.png']);
  const got = await p1.get(`/wx/meeting/attachment?id=${pdf.id}`);
  assert.equal(got.status, 200);
  assert.ok(got.body.equals(PDF), 'the same bytes');
  assert.equal(got.headers.get('content-type'), 'application/pdf');
  assert.equal(got.headers.get('content-disposition'), `attachment; filename*=UTF-8''${encodeURIComponent('会议 纪要.pdf').replace(/%20/g, '%20')}`);
  assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
  refused(await other.get(`/wx/meeting/attachment?id=${pdf.id}`), 506);
  refused(await oa.get(`/wx/meeting/attachment?id=${pdf.id}`), 501, 'not public');

  const dir = path.join(storageDir, 'attachments');
  const before = readdirSync(dir).length;
  assert.equal(before, 3, 'one file per attachment kept');
  ok(await host.post('/wx/meeting/attachment/delete', { id: docx.id }));
  refused(await p1.get(`/wx/meeting/attachment?id=${docx.id}`), 804);
  assert.equal(readdirSync(dir).length, before - 1, 'the file is gone');
});

test('archiving needs the minutes, and freezes them', async () => {
  const m = await approvedMeeting(host, admin, { participantIds: [p1.id] });
  await shiftMeeting(oa, m.id, -3 * 3600);
  refused(await host.post('/wx/meeting/archive', { id: m.id }), 803);
  ok(await host.post('/wx/meeting/minutes', { id: m.id, text: '纪要' }));
  ok(await host.post('/wx/meeting/archive', { id: m.id }));
  refused(await host.post('/wx/meeting/minutes', { id: m.id, text: '改' }), 803, 'archived');
  refused(await upload(host, m.id, PDF, 'late.pdf'), 803, 'archived');
});
