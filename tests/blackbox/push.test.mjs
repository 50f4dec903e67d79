// WeChat's message push (消息推送) at /wx/wechat/push, against a real meetoa (docs/api.md
// "Message push"). The packets are made here with Node's own crypto, an implementation
// independent of the server's:
//   - URL verification: echostr answered as plain text for a good signature, 403 otherwise
//     (a forged signature, another token, a missing one);
//   - safe mode: a user_authorization_revoke packet (RevokeInfo 8) clears the phone number, one
//     with RevokeInfo 6 the nickname and avatar; the previous EncodingAESKey still opens packets;
//     packets with a forged msg_signature, another appid, another key, a stale timestamp or in
//     plaintext while a key is configured are refused and change nothing;
//   - a re-sent packet (the same Event, FromUserName, CreateTime and content) is acknowledged and not redone;
//   - XML packets work as JSON ones do;
//   - plaintext mode (no key configured): user_authorization_cancellation closes the user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { APP_ID, assertOk, send, startMeetoa, startWorld } from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';
import { aesKeyText, pushSafe as pushAs, sha1 } from './lib/push.mjs';

const TOKEN = 'PushToken' + randomBytes(4).toString('hex');
const KEY = aesKeyText();
const PREVIOUS = aesKeyText();

const now = () => String(Math.floor(Date.now() / 1000));
let createTime = 1714036504;

/** POSTs msg (an object) in safe mode; `over` changes one part to forge or break it. */
const pushSafe = (oa, msg, over = {}) => pushAs(oa, TOKEN, KEY, msg, over);

function revoke(openid, info) {
  return { ToUserName: 'gh_1', FromUserName: openid, CreateTime: createTime++, MsgType: 'event',
    Event: 'user_authorization_revoke', OpenID: openid, AppID: APP_ID, RevokeInfo: info };
}

let world;
let oa;
const storageDir = mkdtempSync(path.join(tmpdir(), 'meetoa-push-'));

before(async () => {
  world = await startWorld({ meetoa: { config: { oa: { storage: { dir: storageDir }, wx: { push: { token: TOKEN, 'aes-key': KEY, 'previous-aes-key': PREVIOUS } } } } } });
  oa = world.oa;
});
after(async () => {
  await world?.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

async function userWithPhone(name) {
  const login = await world.wx.newLogin(APP_ID, name);
  const r = await oa.loginWithCode(login.code, { nickName: `Nick ${name}`, avatarUrl: 'https://example.com/a.png' });
  assertOk(r, 'login');
  await oa.sql(`UPDATE wx_user SET mobile = '13800138000' WHERE weixin_openid = '${login.openid}'`);
  return login.openid;
}

const row = async (openid) =>
  (await oa.sql(`SELECT nickname, avatar, mobile, status FROM wx_user WHERE weixin_openid = '${openid}'`))[0];

test('URL verification answers echostr as plain text only for a good signature', async () => {
  const ts = now(), nonce = '486452656', echostr = 'echo-' + randomBytes(6).toString('hex');
  const good = await send(oa.base, 'GET', `/wx/wechat/push?signature=${sha1(TOKEN, ts, nonce)}&timestamp=${ts}&nonce=${nonce}&echostr=${echostr}`);
  assert.equal(good.status, 200);
  assert.equal(good.text, echostr);
  assert.match(good.headers.get('content-type'), /^text\/plain/);
  for (const sig of [sha1('other', ts, nonce), '0'.repeat(40), '']) {
    const bad = await send(oa.base, 'GET', `/wx/wechat/push?signature=${sig}&timestamp=${ts}&nonce=${nonce}&echostr=${echostr}`);
    assert.equal(bad.status, 403, `signature ${sig}`);
    assert.ok(!bad.text.includes(echostr));
  }
});

test('safe mode: a revocation of the phone number clears it; of the profile, nickname and avatar', async () => {
  const openid = await userWithPhone('push-phone');
  const r = await pushSafe(oa, revoke(openid, 8));
  assert.equal(r.status, 200);
  assert.equal(r.text, 'success');
  assert.deepEqual(await row(openid), [`Nick push-phone`, 'https://example.com/a.png', '', '0']);
  const r2 = await pushSafe(oa, revoke(openid, 6), { xml: true }); // an XML envelope
  assert.equal(r2.text, 'success');
  assert.deepEqual(await row(openid), ['', '', '', '0']);
});

test('revoking the profile also deletes the uploaded avatar file', async () => {
  const login = await world.wx.newLogin(APP_ID, 'push-avatar');
  const token = (await oa.loginWithCode(login.code)).data.token;
  const up = await oa.upload(token, tinyPng());
  assertOk(up, 'upload');
  assertOk(await oa.profile(token, { avatar: up.data.url }), 'profile');
  const file = path.join(storageDir, up.data.key);
  assert.ok(existsSync(file));
  assert.equal((await pushSafe(oa, revoke(login.openid, 6))).text, 'success');
  assert.ok(!existsSync(file), 'the file is gone');
  assert.deepEqual((await row(login.openid)).slice(0, 2), ['', '']);
});

test('the previous EncodingAESKey still opens packets', async () => {
  const openid = await userWithPhone('push-previous');
  const r = await pushSafe(oa, revoke(openid, 8), { key: PREVIOUS });
  assert.equal(r.text, 'success');
  assert.equal((await row(openid))[2], '');
});

test('forged, foreign, stale and plaintext packets are refused and change nothing', async () => {
  const openid = await userWithPhone('push-forged');
  const cases = [
    ['a forged msg_signature', { msgSignature: sha1('x', '1', '2', '3') }],
    ['a forged signature', { signature: sha1('x', '1', '2') }],
    ['another key', { key: aesKeyText() }],
    ['another appid', { appId: 'wx0000000000000000' }],
    ['a timestamp 10 minutes old', { timestamp: String(Math.floor(Date.now() / 1000) - 600) }],
    ['garbage for Encrypt', { encrypt: 'bm90IGEgcGFja2V0' }],
  ];
  for (const [what, over] of cases) {
    const r = await pushSafe(oa, revoke(openid, 8), over);
    assert.equal(r.status, 403, what);
    assert.notEqual(r.text, 'success', what);
  }
  // plaintext while a key is configured
  const ts = now(), nonce = '1';
  const plain = await send(oa.base, 'POST', `/wx/wechat/push?signature=${sha1(TOKEN, ts, nonce)}&timestamp=${ts}&nonce=${nonce}`,
    JSON.stringify(revoke(openid, 8)));
  assert.equal(plain.status, 403);
  assert.equal((await row(openid))[2], '13800138000', 'the phone number is still there');
  assert.ok(!oa.logs().includes(TOKEN), 'the token is never logged');
  assert.ok(!oa.logs().includes(KEY), 'the key is never logged');
});

test('a re-sent packet is acknowledged once more and not redone', async () => {
  const openid = await userWithPhone('push-resend');
  const msg = revoke(openid, 8);
  assert.equal((await pushSafe(oa, msg)).text, 'success');
  await oa.sql(`UPDATE wx_user SET mobile = '13900139000' WHERE weixin_openid = '${openid}'`); // bound again since
  assert.equal((await pushSafe(oa, msg)).text, 'success'); // the same packet again
  assert.equal((await row(openid))[2], '13900139000', 'the re-send did not clear the new number');
});

test('plaintext mode: a cancellation closes the user', async () => {
  const plain = await startMeetoa({ wxemu: world.wx, appSecret: world.appSecret, config: { oa: { wx: { push: { token: TOKEN } } } } });
  try {
    const login = await world.wx.newLogin(APP_ID, 'push-cancel');
    assertOk(await plain.loginWithCode(login.code), 'login');
    const ts = now(), nonce = '7';
    const msg = { FromUserName: login.openid, CreateTime: createTime++, MsgType: 'event', Event: 'user_authorization_cancellation', OpenID: login.openid };
    const r = await send(plain.base, 'POST', `/wx/wechat/push?signature=${sha1(TOKEN, ts, nonce)}&timestamp=${ts}&nonce=${nonce}`, JSON.stringify(msg));
    assert.equal(r.text, 'success');
    assert.deepEqual(await plain.sql(`SELECT status FROM wx_user WHERE weixin_openid = '${login.openid}'`), [['2']]);
    const other = await send(plain.base, 'POST', `/wx/wechat/push?signature=${sha1(TOKEN, ts, nonce)}&timestamp=${ts}&nonce=${nonce}`,
      JSON.stringify({ Event: 'wxa_media_check', trace_id: 't-1', CreateTime: createTime++ }));
    assert.equal(other.text, 'success', 'events MeetOA does not act on are acknowledged');
  } finally {
    await plain.stop();
  }
});

test('without oa.wx.push.token the endpoint refuses everything', async () => {
  const none = await startMeetoa({ wxemu: world.wx, appSecret: world.appSecret });
  try {
    const ts = now();
    const r = await send(none.base, 'GET', `/wx/wechat/push?signature=${sha1('', ts, '1')}&timestamp=${ts}&nonce=1&echostr=x`);
    assert.equal(r.status, 403);
  } finally {
    await none.stop();
  }
});
