// minutes.test.mjs — 会议纪要 and attachments on 会议详情 against real meetoa and wxemu: nothing
// before the meeting ends; after it, 归档 refused without minutes (the server's errmsg shown), the
// host writes the minutes (too long: stopped on the phone; typed text kept across a reload) and
// uploads attachments (wx.chooseMessageFile, then wx.uploadFile with the meeting's id and the
// token header; a file that is no document refused with the server's errmsg; a cancelled choice
// sends nothing), deletes one; a participant sees no editor, reads the minutes, and opens the
// attachments (wx.downloadFile with the token, then wx.openDocument, or wx.previewImage for an
// image; the bytes opened are the bytes uploaded); an error answered instead of a file is an
// error; archived, the minutes are read-only.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startMiniWorld, setRoleByCli, SAMPLE_AVATAR } from './harness.mjs';
import { person, as, call, okCall, joinWithCode } from './people.mjs';
import { cst, shiftMeeting } from '../blackbox/lib/org.mjs';

const T = { timeout: 15000 };

let world, dir;
let alice, bob, carol;
const id = {};
let M;
let pdfPath, textPath;
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

before(async () => {
  world = await startMiniWorld();
  dir = mkdtempSync(path.join(tmpdir(), 'meetoa-mp-minutes-'));
  pdfPath = path.join(dir, '季度预算.pdf');
  writeFileSync(pdfPath, PDF);
  textPath = path.join(dir, '说明.pdf'); // named .pdf, but text: judged by its bytes
  writeFileSync(textPath, '这不是PDF文件，只是文字。\n'.repeat(4));
  alice = await person(world, 'alice');
  const cli = await setRoleByCli(world, 'alice', 'admin');
  assert.equal(cli.code, 0, cli.stderr);
  const invite = await okCall(world, alice, 'POST', '/wx/member/invite', { maxUses: 10, expireDays: 1 });
  bob = await person(world, 'bob');
  carol = await person(world, 'carol');
  id.bob = await joinWithCode(world, bob, invite.code, '王小明', '研发部');
  id.carol = await joinWithCode(world, carol, invite.code, '李四', '市场部');
  const start = Date.now() + 3600e3;
  const c = await okCall(world, bob, 'POST', '/wx/meeting/create', {
    title: '季度预算会',
    startTime: cst(start),
    endTime: cst(start + 3600e3),
    location: '3楼',
    participantIds: [id.carol],
  });
  M = c.id;
  await okCall(world, bob, 'POST', '/wx/meeting/submit', { id: M });
  await okCall(world, alice, 'POST', '/wx/meeting/approve', { id: M, approve: true });
});
after(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const serverMinutes = (p) => okCall(world, p, 'GET', `/wx/meeting/minutes?id=${M}`);
const serverDetail = (p) => okCall(world, p, 'GET', `/wx/meeting/detail?id=${M}`);
const requestsTo = (p, url) => p.phone.requests.filter((r) => r.url === url);

async function detailOf(p) {
  const mp = as(p);
  const page = mp.open('pages/meeting/detail/detail', { id: String(M) });
  await page.shown;
  assert.equal(page.data.loaded, true);
  return { mp, page };
}

describe('minutes and attachments', () => {
  test('before the end: no minutes part, nothing asked', T, async () => {
    const { mp, page } = await detailOf(bob);
    assert.equal(page.data.m.state, 4);
    assert.equal(page.data.hasMinutesPart, false);
    assert.equal(page.data.canWriteMinutes, false);
    assert.equal(requestsTo(bob, mp.api.MeetingMinutes).length, 0);
  });

  test('ended: 归档 without minutes is refused with the server\'s errmsg; the host has the editor', T, async () => {
    await shiftMeeting(world.oa, M, -3 * 3600); // it ended an hour ago
    const { page } = await detailOf(bob);
    assert.equal(page.data.m.state, 6);
    assert.equal(page.data.hasMinutesPart, true);
    assert.equal(page.data.canWriteMinutes, true);
    assert.equal(page.data.minutes.text, '');
    assert.deepEqual(page.data.minutes.attachments, []);
    assert.equal(page.data.m.hasMinutes, false);
    assert.equal(page.data.can.archive, true);

    const direct = await call(world, bob, 'POST', '/wx/meeting/archive', { id: M });
    assert.equal(direct.errno, 803);
    bob.phone.reset();
    await page.onArchive();
    assert.deepEqual(bob.phone.toasts(), [direct.errmsg]);
    assert.match(direct.errmsg, /纪要/);
    assert.equal((await serverDetail(bob)).state, 6, 'not archived');
    assert.equal(page.data.m.state, 6);
  });

  test('the host writes the minutes: too long is stopped on the phone; typing survives a reload; saved as typed', T, async () => {
    const { mp, page } = await detailOf(bob);
    page.onMinutesInput({ detail: { value: '纪'.repeat(20001) } });
    bob.phone.reset();
    await page.onSaveMinutes();
    assert.equal(requestsTo(bob, mp.api.MeetingMinutes).length, 0);
    assert.equal(bob.phone.toasts().at(-1), '会议纪要最多20000个字');

    const text = '一、预算通过 ✅\n二、分工：\n\t李四 跟进供应商\n' + '备注'.repeat(9980); // 20,000 characters with the rest
    assert.ok(Array.from(text).length <= 20000);
    page.onMinutesInput({ detail: { value: text } });
    await mp.show(page); // back from another screen: what is typed stays
    assert.equal(page.data.minutesDraft, text);
    assert.equal(page.data.minutesDirty, true);

    bob.phone.reset();
    await page.onSaveMinutes();
    const sent = requestsTo(bob, mp.api.MeetingMinutes).filter((r) => r.method === 'POST');
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].data, { id: M, text });
    assert.equal(bob.phone.toasts().at(0), '纪要已保存');
    const server = await serverMinutes(bob);
    assert.equal(server.text, text, 'stored as typed (newlines, tab, emoji)');
    assert.equal(server.authorName, '王小明');
    assert.equal(page.data.minutes.text, text);
    assert.equal(page.data.minutes.updateTime, server.updateTime);
    assert.equal(page.data.minutesDirty, false);
    assert.equal(page.data.m.hasMinutes, true, 'the detail was read again');
  });

  test('上传附件: chooseMessageFile, then uploadFile with the id and the token; listed', T, async () => {
    const { mp, page } = await detailOf(bob);
    bob.phone.state.messageFiles = null; // the user cancels the choice
    bob.phone.reset();
    await mp.tap(page, 'onUpload');
    assert.equal(bob.phone.count('chooseMessageFile'), 1);
    assert.equal(bob.phone.count('uploadFile'), 0, 'cancelled: nothing sent');

    bob.phone.state.messageFiles = [{ path: pdfPath, name: '季度预算.pdf', size: PDF.length }];
    bob.phone.reset();
    await mp.tap(page, 'onUpload');
    const choose = bob.phone.callsOf('chooseMessageFile')[0].args;
    assert.equal(choose.count, 1);
    assert.equal(choose.type, 'file');
    const up = bob.phone.callsOf('uploadFile')[0].args;
    assert.equal(up.url, mp.api.MeetingAttachment);
    assert.equal(up.filePath, pdfPath);
    assert.equal(up.name, 'file');
    assert.deepEqual(up.formData, { id: String(M) });
    assert.equal(up.header[mp.api.TokenHeader], bob.token(), 'the token header, as the avatar upload');
    assert.deepEqual(bob.phone.toasts(), ['已上传']);
    const server = await serverMinutes(bob);
    assert.deepEqual(server.attachments.map((a) => [a.name, a.contentType, a.size]), [['季度预算.pdf', 'application/pdf', PDF.length]]);
    assert.deepEqual(page.data.minutes.attachments.map((a) => [a.id, a.name]), server.attachments.map((a) => [a.id, a.name]));
    assert.equal(page.data.minutes.attachments[0].sizeText, `${PDF.length} B`);

    // A text file named .pdf: refused by its bytes (740), with the server's errmsg; not listed.
    bob.phone.state.messageFiles = [{ path: textPath, name: '说明.pdf', size: 100 }];
    bob.phone.reset();
    await mp.tap(page, 'onUpload');
    assert.equal(bob.phone.toasts().length, 1);
    assert.match(bob.phone.toasts()[0], /PDF/);
    assert.equal((await serverMinutes(bob)).attachments.length, 1);
    assert.equal(page.data.uploading, false);

    // An image too.
    bob.phone.state.messageFiles = [{ path: SAMPLE_AVATAR, name: 'default-avatar.png', size: 1 }];
    await mp.tap(page, 'onUpload');
    assert.deepEqual(page.data.minutes.attachments.map((a) => a.contentType), ['application/pdf', 'image/png']);
  });

  test('a participant: no editor, the minutes to read, the attachments opened with the token', T, async () => {
    const { mp, page } = await detailOf(carol);
    assert.equal(page.data.m.myRole, 'participant');
    assert.equal(page.data.canWriteMinutes, false, 'no editor for a non-host');
    const server = await serverMinutes(carol);
    assert.equal(page.data.minutes.text, server.text);
    assert.deepEqual(page.data.minutes.attachments.map((a) => a.id), server.attachments.map((a) => a.id));

    const [pdf, png] = server.attachments;
    carol.phone.reset();
    await page.onOpenAttachment({ currentTarget: { dataset: { id: pdf.id } } });
    const dl = carol.phone.callsOf('downloadFile')[0].args;
    assert.equal(dl.url, `${mp.api.MeetingAttachment}?id=${pdf.id}`);
    assert.equal(dl.header[mp.api.TokenHeader], carol.token());
    const open = carol.phone.callsOf('openDocument');
    assert.equal(open.length, 1);
    assert.equal(open[0].args.fileType, 'pdf');
    assert.deepEqual(readFileSync(open[0].args.filePath), PDF, 'the bytes uploaded');
    assert.deepEqual(carol.phone.toasts(), []);
    assert.equal(page.data.opening, 0);

    await page.onOpenAttachment({ currentTarget: { dataset: { id: png.id } } });
    const preview = carol.phone.callsOf('previewImage');
    assert.equal(preview.length, 1, 'an image is previewed, not opened as a document');
    assert.deepEqual(readFileSync(preview[0].args.urls[0]), readFileSync(SAMPLE_AVATAR));
    assert.equal(carol.phone.count('openDocument'), 1);

    // An error answered instead of a file (the envelope, HTTP 200) is an error, not a document.
    await assert.rejects(mp.util.downloadFile(mp.api.MeetingAttachment, { id: 987654 }), (e) => e.errno === 804);
  });

  test('the host deletes an attachment (confirmed), then archives; archived, the minutes are read-only', T, async () => {
    const { mp, page } = await detailOf(bob);
    const png = page.data.minutes.attachments.find((a) => a.contentType === 'image/png');
    bob.phone.state.modalAnswer = false;
    await page.onDeleteAttachment({ currentTarget: { dataset: { id: png.id } } });
    assert.equal(requestsTo(bob, mp.api.MeetingAttachmentDelete).length, 0);
    bob.phone.state.modalAnswer = true;
    await page.onDeleteAttachment({ currentTarget: { dataset: { id: png.id } } });
    assert.deepEqual(requestsTo(bob, mp.api.MeetingAttachmentDelete).map((r) => r.data), [{ id: png.id }]);
    const server = await serverMinutes(bob);
    assert.deepEqual(server.attachments.map((a) => a.name), ['季度预算.pdf']);
    assert.deepEqual(page.data.minutes.attachments.map((a) => a.name), ['季度预算.pdf']);

    await page.onArchive();
    assert.equal((await serverDetail(bob)).state, 7);
    assert.equal(page.data.m.state, 7);
    assert.equal(page.data.canWriteMinutes, false, 'archived: read-only');
    assert.equal(page.data.hasMinutesPart, true);
    assert.equal(page.data.minutes.text, server.text);
  });
});
