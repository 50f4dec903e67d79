// wxemu.test.mjs — the WeChat API emulator, from the outside: code2Session as WeChat answers it
// (every error code MeetOA must handle), the control API, injected faults, latency that does not
// serialize requests, the command line, and a clean exit on SIGTERM/SIGINT.
//
// Run: WXEMU_BIN=build-wxemu/wxemu node --test tests/blackbox/wxemu.test.mjs

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';

import { startWxemu, spawnWxemu, waitExit, newApp, request, WXEMU_BIN, JSCODE2SESSION } from './lib/wxemu.mjs';

const APP = newApp('a');
const OTHER = newApp('b');
const OPENID_SHAPE = /^o[A-Za-z0-9_-]{27}$/;

/** True when s is standard base64 of exactly 16 bytes. */
function isSessionKey(s) {
  return typeof s === 'string' && /^[A-Za-z0-9+/]{22}==$/.test(s) && Buffer.from(s, 'base64').length === 16;
}

function assertWxError(r, errcode, what) {
  assert.equal(r.status, 200, `${what}: WeChat answers errors with HTTP 200`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${what}: JSON`);
  assert.equal(r.json?.errcode, errcode, `${what}: ${r.text}`);
  assert.equal(typeof r.json.errmsg, 'string', `${what}: errmsg`);
  assert.ok(r.json.errmsg.length > 0, `${what}: errmsg not empty`);
  assert.equal(r.json.session_key, undefined, `${what}: no session_key`);
}

describe('code2Session', () => {
  let wx;
  const seenSessionKeys = [];
  before(async () => {
    wx = await startWxemu({ apps: [APP, OTHER], args: ['--log-level', 'debug'] });
  });
  after(async () => {
    const { code } = await wx.stop();
    assert.equal(code, 0, wx.logs());
  });

  const exchange = (code, app = APP) =>
    wx.jscode2session({ appid: app.appid, secret: app.secret, js_code: code, grant_type: 'authorization_code' });

  test('a fresh code gives session_key, openid and unionid', async () => {
    const login = await wx.newLogin(APP.appid, 'alice');
    assert.match(login.code, /^[A-Za-z0-9_-]{32}$/);
    const r = await exchange(login.code);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(isSessionKey(r.json.session_key), `session_key shape: ${r.text}`);
    assert.match(r.json.openid, OPENID_SHAPE);
    assert.match(r.json.unionid, OPENID_SHAPE);
    assert.equal(r.json.openid, login.openid, 'the openid the phone was told');
    assert.equal(r.json.unionid, login.unionid);
    assert.equal(r.json.errcode, undefined);
    seenSessionKeys.push(r.json.session_key);
  });

  test('openid is stable per (app, user), unionid per user; session_key is new each time', async () => {
    const ids = {};
    for (const [key, app, user] of [
      ['a1', APP, 'bob'],
      ['a2', APP, 'bob'],
      ['b1', OTHER, 'bob'],
      ['c1', APP, 'carol'],
    ]) {
      const r = await exchange(await wx.newCode(app.appid, user), app);
      assert.ok(isSessionKey(r.json?.session_key), r.text);
      ids[key] = r.json;
      seenSessionKeys.push(r.json.session_key);
    }
    assert.equal(ids.a1.openid, ids.a2.openid, 'same user, same app: same openid');
    assert.notEqual(ids.a1.session_key, ids.a2.session_key, 'a new session_key per exchange');
    assert.notEqual(ids.a1.openid, ids.b1.openid, 'another app: another openid');
    assert.equal(ids.a1.unionid, ids.b1.unionid, 'one unionid across apps');
    assert.notEqual(ids.a1.openid, ids.c1.openid, 'another user: another openid');
    assert.notEqual(ids.a1.unionid, ids.c1.unionid, 'another user: another unionid');
  });

  test('missing and wrong parameters get WeChat errcodes', async () => {
    const code = await wx.newCode(APP.appid, 'dave');
    const ok = { appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code' };
    const cases = [
      [{ ...ok, appid: undefined }, 41002, 'appid missing'],
      [{ ...ok, appid: '' }, 41002, 'appid empty'],
      [{ ...ok, secret: undefined }, 41004, 'secret missing'],
      [{ ...ok, js_code: undefined }, 41008, 'js_code missing'],
      [{ ...ok, appid: 'wxnosuchapp0000000' }, 40013, 'unknown appid'],
      [{ ...ok, secret: OTHER.secret }, 40125, 'wrong secret'],
      [{ ...ok, grant_type: 'client_credential' }, 40002, 'wrong grant_type'],
      [{ ...ok, grant_type: undefined }, 40002, 'grant_type missing'],
      [{ ...ok, js_code: 'A'.repeat(32) }, 40029, 'unknown code'],
    ];
    for (const [params, errcode, what] of cases) {
      const r = await wx.jscode2session(params);
      assertWxError(r, errcode, what);
      assert.ok(!r.text.includes(APP.secret) && !r.text.includes(OTHER.secret), `${what}: no secret in the answer`);
    }
    const r = await exchange(code);
    assert.ok(isSessionKey(r.json?.session_key), `the failed calls did not spend the code: ${r.text}`);
    seenSessionKeys.push(r.json.session_key);
  });

  test('a code works once: the second use is 40163', async () => {
    const code = await wx.newCode(APP.appid, 'erin');
    const first = await exchange(code);
    assert.ok(isSessionKey(first.json?.session_key), first.text);
    seenSessionKeys.push(first.json.session_key);
    assertWxError(await exchange(code), 40163, 'second use');
  });

  test('an expired code is 40029', async () => {
    const code = await wx.newCode(APP.appid, 'frank');
    assert.deepEqual(await wx.expireCode(code), { expired: true });
    assertWxError(await exchange(code), 40029, 'expired code');
  });

  test("another app's code is 40029 and stays usable in its own app", async () => {
    const code = await wx.newCode(OTHER.appid, 'gina');
    assertWxError(await exchange(code, APP), 40029, 'code of another appid');
    const own = await exchange(code, OTHER);
    assert.ok(isSessionKey(own.json?.session_key), own.text);
    seenSessionKeys.push(own.json.session_key);
  });

  test('percent-encoded parameters are decoded', async () => {
    const code = await wx.newCode(APP.appid, 'hank');
    const q = `appid=${encodeURIComponent(APP.appid).replace(/x/g, '%78')}&secret=${APP.secret}&js_code=${code}&grant_type=authorization%5Fcode`;
    const r = await wx.request('GET', `${JSCODE2SESSION}?${q}`);
    assert.ok(isSessionKey(r.json?.session_key), r.text);
    seenSessionKeys.push(r.json.session_key);
  });

  test('no app secret or session_key appears in the logs', async () => {
    assert.ok(seenSessionKeys.length >= 6);
    const logs = wx.logs();
    assert.match(logs, /jscode2session/, 'requests are logged (path only)');
    for (const s of [APP.secret, OTHER.secret, ...seenSessionKeys]) assert.ok(!logs.includes(s), `${s} is not logged`);
  });
});

describe('control API', () => {
  let wx;
  before(async () => {
    wx = await startWxemu({ apps: [APP] });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('POST /__emu/code refuses unknown apps and bad bodies with HTTP 400 and a JSON error', async () => {
    const cases = [
      [{ appid: 'wxnosuchapp0000000', user: 'ivy' }, 'unknown appid'],
      [{ appid: APP.appid }, 'no user'],
      [{ appid: APP.appid, user: '' }, 'empty user'],
      [{ appid: APP.appid, user: 'u'.repeat(65) }, 'user too long'],
      [{ appid: APP.appid, user: 'ivy', extra: 1 }, 'unknown field'],
      [{ appid: APP.appid, user: 7 }, 'user not a string'],
      ['not json', 'not JSON'],
      ['[1,2]', 'not an object'],
    ];
    for (const [body, what] of cases) {
      const r = await wx.request('POST', '/__emu/code', body);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
      assert.equal(typeof r.json?.error, 'string', `${what}: JSON error`);
    }
    assert.equal(await wx.calls(), 0, 'control calls are not WeChat calls');
  });

  test('POST /__emu/expire of an unknown code is 404', async () => {
    const r = await wx.request('POST', '/__emu/expire', { code: 'B'.repeat(32) });
    assert.equal(r.status, 404, r.text);
  });

  test('codes are distinct and counted in /__emu/state', async () => {
    const before = (await wx.state()).codes;
    const codes = await Promise.all(Array.from({ length: 10 }, () => wx.newCode(APP.appid, 'jack')));
    assert.equal(new Set(codes).size, 10);
    assert.equal((await wx.state()).codes - before, 10);
  });

  test('unknown paths are 404, wrong methods 405', async () => {
    assert.equal((await wx.request('GET', '/nope')).status, 404);
    assert.equal((await wx.request('GET', '/__emu/code')).status, 405);
    assert.equal((await wx.request('POST', JSCODE2SESSION, {})).status, 405);
  });

  test('GET /__emu/stats counts calls per path, DELETE resets', async () => {
    await wx.resetStats();
    assert.deepEqual(await wx.stats(), { [JSCODE2SESSION]: 0 });
    await wx.jscode2session({ appid: APP.appid });
    await wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: await wx.newCode(APP.appid, 'kim'), grant_type: 'authorization_code' });
    assert.equal(await wx.calls(), 2);
    await wx.resetStats();
    assert.equal(await wx.calls(), 0);
  });

  test('request bodies over 64 KiB are refused', async () => {
    const r = await wx.request('POST', '/__emu/code', { appid: APP.appid, user: 'x', pad: 'p'.repeat(70 * 1024) });
    assert.equal(r.status, 413);
  });
});

describe('faults', () => {
  let wx;
  const ok = async (user = 'lea') => ({
    appid: APP.appid,
    secret: APP.secret,
    js_code: await wx.newCode(APP.appid, user),
    grant_type: 'authorization_code',
  });
  before(async () => {
    wx = await startWxemu({ apps: [APP] });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('errcode with count: the next `count` calls fail, without spending the code', async () => {
    const params = await ok();
    await wx.faults({ errcode: 45011, count: 3 });
    for (let i = 0; i < 3; ++i) assertWxError(await wx.jscode2session(params), 45011, `faulted call ${i}`);
    const r = await wx.jscode2session(params);
    assert.ok(isSessionKey(r.json?.session_key), `fourth call answers normally: ${r.text}`);
  });

  test('count defaults to 1; faults apply in the order they were queued', async () => {
    await wx.faults({ errcode: -1 });
    await wx.faults({ errcode: 40226 });
    const params = await ok();
    assertWxError(await wx.jscode2session(params), -1, 'first fault');
    assertWxError(await wx.jscode2session(params), 40226, 'second fault');
    assert.ok(isSessionKey((await wx.jscode2session(params)).json?.session_key));
  });

  test('errcode 0 with delay_ms answers normally, late', async () => {
    await wx.faults({ errcode: 0, delay_ms: 300 });
    const params = await ok();
    const t0 = Date.now();
    const r = await wx.jscode2session(params);
    const took = Date.now() - t0;
    assert.ok(isSessionKey(r.json?.session_key), r.text);
    assert.ok(took >= 290, `answered after ${took} ms`);
  });

  test('http_status answers that status with a non-JSON body', async () => {
    await wx.faults({ http_status: 500 });
    const r = await wx.jscode2session(await ok());
    assert.equal(r.status, 500);
    assert.equal(r.json, undefined, `not JSON: ${r.text}`);
    assert.ok(r.text.length > 0);
  });

  test('malformed answers 200 with broken JSON', async () => {
    await wx.faults({ malformed: true });
    const r = await wx.jscode2session(await ok());
    assert.equal(r.status, 200);
    assert.ok(r.text.startsWith('{'), r.text);
    assert.throws(() => JSON.parse(r.text));
  });

  test('drop closes the connection without an answer', async () => {
    await wx.resetStats();
    await wx.faults({ drop: true });
    await assert.rejects(wx.jscode2session(await ok()), /fetch failed|socket|closed/i);
    assert.equal(await wx.calls(), 1, 'one call reached wxemu (no client retry hid the drop)');
    const r = await wx.jscode2session(await ok());
    assert.ok(isSessionKey(r.json?.session_key), `the next call is normal: ${r.text}`);
  });

  test('DELETE /__emu/faults clears the queue', async () => {
    await wx.faults({ errcode: 45011, count: 5 });
    assert.deepEqual(await wx.clearFaults(), { cleared: 1 });
    assert.equal((await wx.state()).faults, 0);
    const r = await wx.jscode2session(await ok());
    assert.ok(isSessionKey(r.json?.session_key), r.text);
  });

  test('bad fault specs are refused with 400', async () => {
    const cases = [
      [{ path: '/nowhere', errcode: 1 }, 'unknown path'],
      [{ errcode: 1 }, 'no path'],
      [{ path: JSCODE2SESSION, count: 0 }, 'count 0'],
      [{ path: JSCODE2SESSION, delay_ms: -1 }, 'negative delay'],
      [{ path: JSCODE2SESSION, delay_ms: 600000 }, 'delay too long'],
      [{ path: JSCODE2SESSION, http_status: 99 }, 'bad status'],
      [{ path: JSCODE2SESSION, errcode: '45011' }, 'errcode as a string'],
      [{ path: JSCODE2SESSION, drop: 1 }, 'drop not a boolean'],
      [{ path: JSCODE2SESSION, errcode: 1, typo: true }, 'unknown field'],
    ];
    for (const [body, what] of cases) {
      const r = await wx.request('POST', '/__emu/faults', body);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
    }
    assert.equal((await wx.state()).faults, 0);
  });
});

describe('latency', () => {
  const LATENCY = 200;
  let wx;
  before(async () => {
    wx = await startWxemu({ apps: [APP], latencyMs: LATENCY });
  });
  after(async () => {
    assert.equal((await wx.stop()).code, 0, wx.logs());
  });

  test('every WeChat answer waits --latency-ms; control calls do not', async () => {
    let t0 = Date.now();
    const code = await wx.newCode(APP.appid, 'mia');
    assert.ok(Date.now() - t0 < LATENCY, 'the control API is not delayed');
    t0 = Date.now();
    const r = await wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code' });
    assert.ok(isSessionKey(r.json?.session_key), r.text);
    assert.ok(Date.now() - t0 >= LATENCY - 10, `answered after ${Date.now() - t0} ms`);
  });

  test('20 concurrent calls wait together, not one after another', async () => {
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => wx.newCode(APP.appid, `user${i}`)));
    const t0 = Date.now();
    const answers = await Promise.all(
      codes.map((js_code) => wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code, grant_type: 'authorization_code' })),
    );
    const took = Date.now() - t0;
    for (const r of answers) assert.ok(isSessionKey(r.json?.session_key), r.text);
    assert.ok(took >= LATENCY - 10, `took ${took} ms`);
    assert.ok(took < 1500, `20 x ${LATENCY} ms took ${took} ms: the waits overlapped`);
  });

  test('a fault delay adds to the latency', async () => {
    await wx.faults({ errcode: 45011, delay_ms: 300 });
    const t0 = Date.now();
    assertWxError(await wx.jscode2session({ appid: APP.appid }), 45011, 'delayed fault');
    assert.ok(Date.now() - t0 >= LATENCY + 300 - 10, `answered after ${Date.now() - t0} ms`);
  });
});

describe('process', () => {
  test('--port-file holds the bound port', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wxemu-bb-'));
    try {
      const file = path.join(dir, 'port');
      const { proc, port } = await spawnWxemu(['--port', '0', '--app', `${APP.appid}:${APP.secret}`, '--port-file', file]);
      assert.equal(readFileSync(file, 'utf8').trim(), String(port));
      const r = await request(`http://127.0.0.1:${port}`, 'GET', '/__emu/stats');
      assert.equal(r.status, 200);
      proc.kill('SIGTERM');
      assert.deepEqual(await waitExit(proc), { code: 0, signal: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const run = (args) =>
    new Promise((resolve) => {
      const p = spawn(WXEMU_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('exit', (code) => resolve({ code, out }));
    });

  test('--help prints the usage and exits 0; bad arguments exit 2', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /--latency-ms/);
    for (const args of [['--port', 'x'], ['--app', 'nocolon'], ['--latency-ms', '-5'], ['--bogus'], ['--app', 'a:b', '--app', 'a:c']]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    }
    const dup = await run(['--app', 'wxdup:topsecret1', '--app', 'wxdup:topsecret2']);
    assert.ok(!dup.out.includes('topsecret'), 'the error does not show the secret');
  });

  test('SIGTERM with idle and in-flight connections: answers, then exit 0', async () => {
    const wx = await startWxemu({ apps: [APP], latencyMs: 5000 });
    await wx.stats(); // leaves an idle keep-alive connection
    const code = await wx.newCode(APP.appid, 'nina');
    const inflight = wx.jscode2session({ appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code' });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const exit = await wx.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, wx.logs());
    assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms, without waiting out the latency`);
    const r = await inflight;
    assert.ok(isSessionKey(r.json?.session_key), `the delayed request got its answer: ${r.text}`);
    await assert.rejects(fetch(`${wx.base}/__emu/stats`), 'no longer listening');
  });

  test('SIGINT exits 0 too', async () => {
    const wx = await startWxemu({ apps: [APP] });
    await wx.stats();
    assert.deepEqual(await wx.stop('SIGINT'), { code: 0, signal: null }, wx.logs());
  });
});
