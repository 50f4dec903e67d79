// profile.test.mjs — the user's profile: POST /wx/auth/profile (nickname, avatar, gender, as
// today's mini programs collect them), the legacy profiles a login may carry (rawData +
// signature, encryptedData + iv, checked with the session_key of that login), and the unionId
// that info answers.
//
// Emoji (4-byte UTF-8) go in and come back byte for byte, in the answer, in info and in the
// database; an avatar is an https URL or a file uploaded here (its url, path or key, kept as its url);
// everything else is refused with the errno docs/api.md gives, and a refused login creates no
// user. The legacy data comes from wxemu's /__emu/encrypted (docs/wxemu.md), made with the
// session_key of the user's latest wx.login() code, as the phone does.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startWorld, APP_ID, assertOk, assertErr, sqlHex, sqlText, TOKEN_RE } from './lib/meetoa.mjs';
import { newApp } from './lib/wxemu.mjs';
import { tinyPng } from './lib/png.mjs';

const OTHER_APP = newApp('other');
let world, oa, wx, storageDir;

before(async () => {
  storageDir = mkdtempSync(path.join(tmpdir(), 'meetoa-profile-'));
  world = await startWorld({ otherApps: [OTHER_APP], meetoa: { config: { oa: { storage: { dir: storageDir } } } } });
  ({ oa, wx } = world);
});

after(async () => {
  await world?.stop();
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Helpers

/** A valid 1x1 RGBA PNG. */
function makePng() {
  return tinyPng({ pixel: [0xab, 0xcd, 0xef, 0xff] });
}

/** {encryptedData, iv, rawData, signature} made by wxemu with user's current session_key. */
async function encrypted(user, kind, opts = {}) {
  const r = await wx.encrypted(APP_ID, user, kind, opts);
  for (const k of ['encryptedData', 'iv', 'rawData', 'signature'])
    assert.equal(typeof r[k], 'string', `/__emu/encrypted answered no ${k}: ${JSON.stringify(r)}`);
  return r;
}

async function infoOf(token) {
  const r = await oa.info(token);
  assertOk(r, 'info');
  return r.data;
}

/** The wx_user row's nickname as hex of its bytes, avatar and gender. */
async function row(openid) {
  return oa.sql(`SELECT ${sqlHex('nickname')}, avatar, gender FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`);
}

const hexOf = (s) => Buffer.from(s, 'utf8').toString('hex');

/** The profile answer: exactly {nickName, avatar, gender}. */
function assertProfile(r, expected, what) {
  assertOk(r, what);
  assert.deepEqual(r.data, expected, what);
}

// ---------------------------------------------------------------------------------------

describe('POST /wx/auth/profile', () => {
  let token, openid;
  const state = { nickName: '', avatar: '', gender: 0 }; // what the profile is now
  before(async () => {
    const login = await wx.newLogin(APP_ID, 'pia');
    openid = login.openid;
    const r = await oa.loginWithCode(login.code);
    assertOk(r, 'login');
    token = r.data.token;
  });

  /** Changes fields, checks the answer, info and the row. */
  async function change(body, what, storedAvatar = body.avatar) {
    const r = await oa.profile(token, body);
    if (body.nickname !== undefined) state.nickName = body.nickname;
    if (body.avatar !== undefined) state.avatar = storedAvatar;
    if (body.gender !== undefined) state.gender = body.gender;
    assertProfile(r, state, what);
    const i = await infoOf(token);
    assert.deepEqual({ nickName: i.nickName, avatar: i.avatar, gender: i.gender }, state, `${what}: info`);
    assert.deepEqual(await row(openid), [[hexOf(state.nickName), state.avatar, String(state.gender)]], `${what}: the row`);
    return r;
  }

  /** A refused change: the errno, and nothing changed. */
  async function refused(body, errno, what, headers) {
    const r = headers ? await oa.send('POST', '/wx/auth/profile', body, headers) : await oa.profile(token, body);
    assertErr(r, errno, what);
    const i = await infoOf(token);
    assert.deepEqual({ nickName: i.nickName, avatar: i.avatar, gender: i.gender }, state, `${what}: unchanged`);
  }

  test('a nickname with 4-byte emoji round-trips byte for byte', async () => {
    const nick = 'Pía 🌸🐼😀 会议';
    const r = await change({ nickname: nick }, 'emoji nickname');
    assert.ok(Buffer.from(r.data.nickName, 'utf8').equals(Buffer.from(nick, 'utf8')), 'the answer\'s bytes');
    assert.ok(Buffer.from((await infoOf(token)).nickName, 'utf8').equals(Buffer.from(nick, 'utf8')), 'info\'s bytes');
  });

  test('63 emoji are 63 characters: accepted', async () => {
    await change({ nickname: '🐼'.repeat(63) }, '63 emoji');
  });

  test('gender alone', async () => {
    await change({ gender: 1 }, 'gender 1');
  });

  test('an https avatar alone', async () => {
    await change({ avatar: 'https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132' }, 'https avatar');
  });

  test('the url and the bare key of an uploaded avatar', async () => {
    const png = makePng();
    const up = await oa.upload(token, png, 'avatar.png', 'image/png');
    assertOk(up, 'upload');
    await change({ avatar: up.data.url }, 'uploaded url');
    const fetched = await oa.get(new URL(up.data.url).pathname);
    assert.equal(fetched.status, 200);
    assert.ok(fetched.body.equals(png), 'the avatar url serves the upload');

    // A bare key or path is kept as the full URL the upload answered, so clients can show it.
    const up2 = await oa.upload(token, makePng(), 'second.png', 'image/png');
    assertOk(up2, 'second upload');
    await change({ avatar: up2.data.key, nickname: 'Pia', gender: 2 }, 'uploaded key, with the rest', up2.data.url);
    const up3 = await oa.upload(token, makePng(), 'third.png', 'image/png');
    assertOk(up3, 'third upload');
    await change({ avatar: new URL(up3.data.url).pathname }, 'uploaded path', up3.data.url);
  });

  test('the key of a file that was never uploaded -> 402', async () => {
    await refused({ avatar: `${'0'.repeat(32)}.png` }, 402, 'never uploaded key');
    await refused({ avatar: `/wx/storage/fetch/${'ab'.repeat(16)}.webp` }, 402, 'never uploaded path');
  });

  test('an http URL on another host, shaped like one of our uploads -> 402', async () => {
    const up = await oa.upload(token, makePng(), 'avatar.png', 'image/png');
    assertOk(up, 'upload');
    try {
      await refused({ avatar: `http://evil.example/wx/storage/fetch/${up.data.key}` }, 402, 'foreign http host');
    } finally {
      // put the profile back, so a failure here does not spill into the next tests
      await oa.profile(token, { nickname: state.nickName, avatar: state.avatar, gender: state.gender });
    }
  });

  test('refused values -> 402 and nothing changes', async () => {
    await refused({ nickname: 'a'.repeat(64) }, 402, '64 characters');
    await refused({ nickname: '🐼'.repeat(64) }, 402, '64 emoji');
    await refused({ nickname: '' }, 402, 'empty nickname');
    await refused({ gender: 3 }, 402, 'gender 3');
    await refused({ gender: -1 }, 402, 'gender -1');
    await refused({ avatar: 'http://example.com/a.png' }, 402, 'http avatar not ours');
    await refused({ avatar: 'javascript:alert(document.cookie)' }, 402, 'javascript: avatar');
    await refused({ avatar: 'https://' }, 402, 'https:// alone');
    await refused({ nickname: 'ok', avatar: 'javascript:alert(1)' }, 402, 'a good nickname with a bad avatar');
    await refused({ avatar: `https://example.com/${'a'.repeat(256)}` }, 402, 'avatar over 255 characters');
  });

  test('invalid UTF-8 in the body -> 402', async () => {
    const bodies = [
      Buffer.concat([Buffer.from('{"nickname":"ab'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"nickname":"'), Buffer.from([0xed, 0xa0, 0xbd]), Buffer.from('"}')]), // a surrogate
      Buffer.concat([Buffer.from('{"nickname":"'), Buffer.from([0xf0, 0x9f, 0x8c]), Buffer.from('"}')]), // cut emoji
    ];
    for (const [i, body] of bodies.entries()) await refused(body, 402, `invalid UTF-8 #${i}`);
  });

  test('nothing to change -> 401; wrong types -> 401', async () => {
    await refused({}, 401, 'empty object');
    await refused({ nickName: 'the login spelling' }, 401, 'only an unknown field');
    await refused({ gender: '1' }, 401, 'gender as a string');
    await refused({ nickname: 7 }, 401, 'nickname as a number');
  });

  test('no token -> 501', async () => {
    await refused({ nickname: 'nobody' }, 501, 'no token', {});
    await refused({ nickname: 'nobody' }, 501, 'unknown token', { 'X-OA-Token': 'A'.repeat(43) });
  });
});

describe('legacy profiles at login', () => {
  // wx.login() makes the session_key (wxemu: when the code is issued); the phone then signs or
  // encrypts the profile with it and sends it along with that code.

  async function usersWithOpenid(openid) {
    return Number((await oa.sql(`SELECT count(*) FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`))[0][0]);
  }

  test('rawData + signature: the profile is taken from rawData', async () => {
    const profile = { nickName: 'Rory 🦊', avatarUrl: 'https://example.com/rory.png', gender: 1 };
    const { code, openid } = await wx.newLogin(APP_ID, 'rory');
    const e = await encrypted('rory', 'userinfo', profile);
    assert.equal(JSON.parse(e.rawData).nickName, profile.nickName, 'wxemu put the profile in rawData');
    const r = await oa.post('/wx/auth/login_by_weixin', { code, rawData: e.rawData, signature: e.signature });
    assertOk(r, 'login with rawData');
    assert.match(r.data.token, TOKEN_RE);
    assert.deepEqual(r.data.userInfo, profile);
    const i = await infoOf(r.data.token);
    assert.deepEqual({ nickName: i.nickName, avatar: i.avatar, gender: i.gender }, { nickName: profile.nickName, avatar: profile.avatarUrl, gender: 1 });
    assert.deepEqual(await row(openid), [[hexOf(profile.nickName), profile.avatarUrl, '1']]);
  });

  test('a signature with one hex digit changed -> 734, no user created', async () => {
    const { code, openid } = await wx.newLogin(APP_ID, 'sam');
    const e = await encrypted('sam', 'userinfo', { nickName: 'Sam', gender: 1 });
    const i = 17;
    const bad = e.signature.slice(0, i) + (e.signature[i] === '0' ? '1' : '0') + e.signature.slice(i + 1);
    const r = await oa.post('/wx/auth/login_by_weixin', { code, rawData: e.rawData, signature: bad });
    assertErr(r, 734, 'bad signature');
    assert.equal(await usersWithOpenid(openid), 0, 'no wx_user row');
    // the untouched signature is good: the 734 was the changed digit
    const { code: again } = await wx.newLogin(APP_ID, 'sam');
    const good = await encrypted('sam', 'userinfo', { nickName: 'Sam', gender: 1 });
    assertOk(await oa.post('/wx/auth/login_by_weixin', { code: again, rawData: good.rawData, signature: good.signature }), 'good signature');
  });

  test('rawData changed after signing -> 734, no user created', async () => {
    const { code, openid } = await wx.newLogin(APP_ID, 'sue');
    const e = await encrypted('sue', 'userinfo', { nickName: 'Sue', gender: 2 });
    const forged = e.rawData.replace('"Sue"', '"Admin"');
    assert.notEqual(forged, e.rawData);
    assertErr(await oa.post('/wx/auth/login_by_weixin', { code, rawData: forged, signature: e.signature }), 734, 'forged rawData');
    assert.equal(await usersWithOpenid(openid), 0, 'no wx_user row');
  });

  test("encryptedData + iv of the user's profile: taken from it (over userInfo)", async () => {
    const profile = { nickName: 'Eve 🐝', avatarUrl: 'https://example.com/eve.png', gender: 2 };
    const { code, openid } = await wx.newLogin(APP_ID, 'eve');
    const e = await encrypted('eve', 'userinfo', profile);
    const r = await oa.post('/wx/auth/login_by_weixin', {
      code,
      encryptedData: e.encryptedData,
      iv: e.iv,
      userInfo: { nickName: 'not this one', avatarUrl: '', gender: 0 },
    });
    assertOk(r, 'login with encryptedData');
    assert.deepEqual(r.data.userInfo, profile);
    assert.deepEqual(await row(openid), [[hexOf(profile.nickName), profile.avatarUrl, '2']]);
  });

  test('encryptedData watermarked for another mini program -> 732, no user created', async () => {
    const { code, openid } = await wx.newLogin(APP_ID, 'wally');
    const e = await encrypted('wally', 'userinfo', { nickName: 'Wally', watermark_appid: OTHER_APP.appid });
    const r = await oa.post('/wx/auth/login_by_weixin', { code, encryptedData: e.encryptedData, iv: e.iv });
    assertErr(r, 732, 'foreign watermark');
    assert.equal(await usersWithOpenid(openid), 0, 'no wx_user row');
  });

  test('encryptedData made before a newer wx.login (stale session_key) -> 733, no user created', async () => {
    await wx.newLogin(APP_ID, 'stan');
    const e = await encrypted('stan', 'userinfo', { nickName: 'Stan', gender: 1 });
    const { code, openid } = await wx.newLogin(APP_ID, 'stan'); // wx.login() again: a new key
    const r = await oa.post('/wx/auth/login_by_weixin', { code, encryptedData: e.encryptedData, iv: e.iv });
    assertErr(r, 733, 'stale encryptedData');
    assert.match(r.errmsg, /重新登录/, 'the message says: log in again');
    assert.equal(await usersWithOpenid(openid), 0, 'no wx_user row');
  });
});

test('info answers the unionId WeChat gives the user', async () => {
  const { code, unionid } = await wx.newLogin(APP_ID, 'una');
  assert.match(unionid, /^o[A-Za-z0-9_-]{27}$/);
  const r = await oa.loginWithCode(code);
  assertOk(r, 'login');
  assert.equal((await infoOf(r.data.token)).unionId, unionid);
  // the same person in another mini program has the same unionid
  const other = await wx.newLogin(OTHER_APP.appid, 'una');
  assert.equal(other.unionid, unionid);
});

test('the server stops cleanly: exit 0, no sanitizer report', async () => {
  const exit = await oa.stop({ keepDir: true });
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(!/Sanitizer/.test(oa.logs()), oa.logs().slice(-3000));
});
