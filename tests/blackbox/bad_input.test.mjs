// bad_input.test.mjs — every malformed request gets its errno and changes nothing:
// WeChat is not called (wxemu counts no jscode2session), no user row appears, and the
// code a rejected request carried can still be used afterwards.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { startWorld, APP_ID, assertAnswer, assertOk, jscode2sessionCalls } from './lib/meetoa.mjs';

const MAX_BODY = 65536;
const LOGIN = '/wx/auth/login_by_weixin';
let world, oa, wx;

before(async () => {
  world = await startWorld({ meetoa: { config: { server: { 'max-body-bytes': MAX_BODY } } } });
  ({ oa, wx } = world);
});

after(async () => {
  await world?.stop();
});

const profile = (over) => ({ nickName: 'Pat', avatarUrl: 'https://example.com/p.png', gender: 1, ...over });
/** A body as raw bytes: the JSON text around the given bytes, for text that is not UTF-8. */
const bytes = (before, raw, after) => Buffer.concat([Buffer.from(before), Buffer.from(raw), Buffer.from(after)]);
const emoji = (n) => '😀'.repeat(n);

// [what, body given the fresh code (undefined = none), errno]; all POST to login_by_weixin, HTTP 200.
const LOGIN_CASES = [
  ['malformed JSON', (c) => `{"code": "${c}"`, 401],
  ['JSON with a trailing comma', (c) => `{"code": "${c}",}`, 401],
  ['an empty body', () => '', 401],
  ['no body', () => undefined, 401],
  ['whitespace only', () => ' \n', 401],
  ['a JSON array', (c) => JSON.stringify([{ code: c }]), 401],
  ['a JSON string', (c) => JSON.stringify(c), 401],
  ['a JSON number', () => '42', 401],
  ['JSON null', () => 'null', 401],
  ['two JSON objects', (c) => `{"code":"${c}"}{"code":"${c}"}`, 401],
  ['no code', () => ({ userInfo: profile() }), 401],
  ['code: a number', () => ({ code: 12345 }), 401],
  ['code: null', () => ({ code: null }), 401],
  ['code: an object', (c) => ({ code: { code: c } }), 401],
  ['code: an array', (c) => ({ code: [c] }), 401],
  ['code: true', () => ({ code: true }), 401],
  ['code: empty', () => ({ code: '' }), 402],
  ['code: 129 characters', () => ({ code: 'a'.repeat(129) }), 402],
  ['code: a control character', (c) => ({ code: c + '\u0001' }), 402],
  ['code: a newline', (c) => ({ code: c + '\n' }), 402],
  ['code: a tab', (c) => ({ code: '\t' + c }), 402],
  ['code: DEL', (c) => ({ code: c + '\u007f' }), 402],
  ['code: \\u0000', (c) => ({ code: c + '\u0000' }), 402],
  ['code: non-ASCII', (c) => ({ code: c + 'é' }), 402],
  ['code: invalid UTF-8', (c) => bytes(`{"code":"${c}`, [0xff], '"}'), 402],
  ['userInfo: a string', (c) => ({ code: c, userInfo: 'Pat' }), 401],
  ['userInfo: an array', (c) => ({ code: c, userInfo: [profile()] }), 401],
  ['userInfo: a number', (c) => ({ code: c, userInfo: 1 }), 401],
  ['nickName: a number', (c) => ({ code: c, userInfo: profile({ nickName: 7 }) }), 401],
  ['nickName: an object', (c) => ({ code: c, userInfo: profile({ nickName: {} }) }), 401],
  ['nickName: 64 characters', (c) => ({ code: c, userInfo: profile({ nickName: 'n'.repeat(64) }) }), 402],
  ['nickName: 64 emoji', (c) => ({ code: c, userInfo: profile({ nickName: emoji(64) }) }), 402],
  ['nickName: byte 0xff', (c) => bytes(`{"code":"${c}","userInfo":{"nickName":"a`, [0xff], '"}}'), 402],
  ['nickName: overlong 0xc0 0xaf', (c) => bytes(`{"code":"${c}","userInfo":{"nickName":"a`, [0xc0, 0xaf], '"}}'), 402],
  ['nickName: a truncated emoji', (c) => bytes(`{"code":"${c}","userInfo":{"nickName":"a`, [0xf0, 0x9f, 0x98], '"}}'), 402],
  ['nickName: a UTF-8 surrogate', (c) => bytes(`{"code":"${c}","userInfo":{"nickName":"a`, [0xed, 0xa0, 0x80], '"}}'), 402],
  ['nickName: a lone surrogate escape', (c) => `{"code":"${c}","userInfo":{"nickName":"a\\ud800"}}`, 402],
  ['nickName: \\u0000', (c) => `{"code":"${c}","userInfo":{"nickName":"a\\u0000b"}}`, 402],
  ['gender: 3', (c) => ({ code: c, userInfo: profile({ gender: 3 }) }), 402],
  ['gender: -1', (c) => ({ code: c, userInfo: profile({ gender: -1 }) }), 402],
  ['gender: "1"', (c) => ({ code: c, userInfo: profile({ gender: '1' }) }), 401],
  ['gender: true', (c) => ({ code: c, userInfo: profile({ gender: true }) }), 401],
  ['avatarUrl: 256 characters', (c) => ({ code: c, userInfo: profile({ avatarUrl: 'h'.repeat(256) }) }), 402],
  ['avatarUrl: a number', (c) => ({ code: c, userInfo: profile({ avatarUrl: 1 }) }), 401],
  ['language: 64 characters', (c) => ({ code: c, userInfo: profile({ language: 'l'.repeat(64) }) }), 402],
  ['city: a number', (c) => ({ code: c, userInfo: profile({ city: 1 }) }), 401],
];

// [what, method, path, body, HTTP status = errno, Allow must list]
const ROUTE_CASES = [
  ['an unknown path', 'GET', '/wx/auth/nothing', undefined, 404],
  ['an unknown path, POST', 'POST', '/wx/nothing', '{}', 404],
  ['the root', 'GET', '/', undefined, 404],
  ['a path outside /wx', 'POST', '/auth/login_by_weixin', '{}', 404],
  ['a trailing slash', 'POST', `${LOGIN}/`, '{}', 404],
  ['GET on login_by_weixin', 'GET', LOGIN, undefined, 405, 'POST'],
  ['PUT on login_by_weixin', 'PUT', LOGIN, '{}', 405, 'POST'],
  ['DELETE on login_by_weixin', 'DELETE', LOGIN, undefined, 405, 'POST'],
  ['POST on info', 'POST', '/wx/auth/info', '{}', 405, 'GET'],
  ['GET on logout', 'GET', '/wx/auth/logout', undefined, 405, 'POST'],
];

describe('rejected requests', () => {
  const codes = []; // the fresh code each rejected login request carried
  let calls0, users0;

  before(async () => {
    calls0 = await jscode2sessionCalls(wx);
    users0 = await oa.sql('SELECT count(*) FROM wx_user;');
  });

  for (const [what, body, errno] of LOGIN_CASES) {
    test(`login with ${what} -> ${errno}`, async () => {
      const code = await wx.newCode(APP_ID, `bad-${codes.length}`);
      codes.push(code);
      const r = await oa.send('POST', LOGIN, body(code));
      assertAnswer(r, 200, errno, what);
      assert.equal(r.data, undefined, 'no data in an error');
    });
  }

  for (const [what, method, path, body, status, allow] of ROUTE_CASES) {
    test(`${what} -> HTTP ${status}`, async () => {
      const r = await oa.send(method, path, body);
      assertAnswer(r, status, status, what);
      if (allow) assert.match(r.headers.get('allow') ?? '', new RegExp(`\\b${allow}\\b`), 'Allow header');
    });
  }

  test(`a body over ${MAX_BODY} bytes -> HTTP 413`, async () => {
    const code = await wx.newCode(APP_ID, 'bad-big');
    codes.push(code);
    const big = JSON.stringify({ code, userInfo: profile({ city: 'x'.repeat(MAX_BODY) }) });
    const r = await oa.post(LOGIN, big);
    assertAnswer(r, 413, 413, 'big body');
  });

  test('the query string does not change the route', async () => {
    const r = await oa.get('/wx/auth/info?token=x');
    assertAnswer(r, 200, 501, 'info with a query string');
  });

  test('none of that called WeChat or created a user', async () => {
    assert.equal(await jscode2sessionCalls(wx), calls0, 'no jscode2session call');
    assert.deepEqual(await oa.sql('SELECT count(*) FROM wx_user;'), users0, 'no wx_user row');
  });

  test('every code a rejected request carried still logs in', async () => {
    assert.equal(codes.length, LOGIN_CASES.length + 1);
    for (const code of codes) assertOk(await oa.loginWithCode(code), `login with ${code}`);
    assert.equal(await jscode2sessionCalls(wx), calls0 + codes.length, 'one call per login');
  });
});

describe('values at the limit are accepted', () => {
  const cases = [
    ['a 63-character nickname', { nickName: 'n'.repeat(63) }],
    ['a 63-emoji nickname', { nickName: emoji(63) }],
    ['a 255-character avatarUrl', { avatarUrl: 'https://example.com/' + 'a'.repeat(255 - 20) }],
    ['gender 0', { gender: 0 }],
    ['gender 2', { gender: 2 }],
    ['63-character language, city, province, country', { language: 'l'.repeat(63), city: 'c'.repeat(63), province: 'p'.repeat(63), country: 'k'.repeat(63) }],
  ];
  cases.forEach(([what, over], i) => {
    test(what, async () => {
      const r = await oa.login(`limit-${i}`, profile(over));
      assertOk(r, what);
      const info = await oa.info(r.data.token);
      assertOk(info, 'info');
      if (over.nickName) assert.equal(info.data.nickName, over.nickName);
      if (over.avatarUrl) assert.equal(info.data.avatar, over.avatarUrl);
      if (over.gender !== undefined) assert.equal(info.data.gender, over.gender);
    });
  });

  test('a 128-character code goes to WeChat (which does not know it: 710)', async () => {
    const calls = await jscode2sessionCalls(wx);
    const r = await oa.loginWithCode('c'.repeat(128));
    assertAnswer(r, 200, 710, '128-character code');
    assert.equal(await jscode2sessionCalls(wx), calls + 1);
  });

  test(`a body of exactly ${MAX_BODY} bytes is read`, async () => {
    const code = await wx.newCode(APP_ID, 'limit-body');
    const json = JSON.stringify({ code });
    const body = json.slice(0, -1) + ' '.repeat(MAX_BODY - json.length) + '}';
    assert.equal(Buffer.byteLength(body), MAX_BODY);
    assertOk(await oa.post(LOGIN, body), 'login');
  });
});
