// json_logs.test.mjs — logging.format: json (common/log.h): every line a running server writes
// on stderr is one JSON object with exactly time, level, thread and message, and no secret is in
// any of them.
//
// A meetoa at level debug (every WeChat call logged) goes through logins (one failed by WeChat:
// a WARN line), info, a phone binding, a profile with a newline in the nickname, a logout, a
// refused token, a SIGHUP with nothing to reopen, and a stop; then each line of its output is
// parsed. Secrets known to the test (app secret, data key, tokens, session_keys, the phone code)
// appear in none. A second one at level warn still tells its port on stderr as a JSON line.
// Both backends (the harness's database).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { startWorld, SESSION_KEY_SHAPE, APP_ID, eventually } from './lib/meetoa.mjs';

const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/;

/** LeakSanitizer's "Suppressions used" table (tests/lsan.supp), written by the sanitizer runtime
 * at exit under ASan builds: not a line of meetoa's. */
const LSAN_SUPPRESSIONS = /^-+\nSuppressions used:\n(?:.*\n)*?-+\n\n?/m;

/** Every line of text parsed: [{time, level, thread, message}]. */
function parseLines(text) {
  const lines = text.replace(LSAN_SUPPRESSIONS, '').split('\n');
  assert.equal(lines.pop(), '', 'the output ends with a newline');
  return lines.map((line) => {
    let o;
    assert.doesNotThrow(() => (o = JSON.parse(line)), `not JSON: ${line}`);
    assert.deepEqual(Object.keys(o), ['time', 'level', 'thread', 'message'], line);
    assert.match(o.time, TIME, line);
    assert.ok(['ERROR', 'WARN', 'INFO', 'DEBUG'].includes(o.level), line);
    assert.match(o.thread, /^[\w-]{1,15}$/, line);
    assert.equal(typeof o.message, 'string');
    return o;
  });
}

test('every line is one JSON object with the four fields, and no secret is in any', async () => {
  const world = await startWorld({ meetoa: { config: { logging: { level: 'debug', format: 'json' } } } });
  const { wx, oa } = world;
  const secrets = [oa.appSecret, oa.dataKey];
  try {
    const token = await oa.loginOk('jason', { nickName: 'J', avatarUrl: '', gender: 1 });
    secrets.push(token);
    assert.equal((await oa.info(token)).errno, 0);
    const phone = await wx.phoneCode(APP_ID, 'jason', '13800138000');
    secrets.push(phone);
    assert.equal((await oa.bindPhone(token, { code: phone })).errno, 0);
    assert.equal((await oa.profile(token, { nickname: 'line\nbreak "quoted"' })).errno, 0);
    await wx.faults({ errcode: -1 }); // the next code2session fails: a WARN line
    const failed = await oa.login('jason2');
    assert.notEqual(failed.errno, 0);
    await wx.faults({});
    assert.equal((await oa.info('x'.repeat(43))).errno, 501);
    assert.equal((await oa.logout(token)).errno, 0);
    oa.proc.kill('SIGHUP');
    assert.ok(await eventually(() => oa.logs().includes('SIGHUP'), 5000));
  } finally {
    const exit = await oa.stop();
    await wx.stop();
    assert.equal(exit.code, 0, oa.logs());
  }
  const text = oa.logs();
  assert.doesNotMatch(text, SANITIZER_REPORT);
  const lines = parseLines(text);
  const messages = lines.map((l) => l.message);
  assert.ok(messages.some((m) => /^listening on http:\/\/127\.0\.0\.1:\d+/.test(m)), 'the port line');
  assert.ok(lines.some((l) => l.level === 'WARN'), 'a WARN line');
  assert.ok(lines.some((l) => l.level === 'DEBUG'), 'a DEBUG line');
  assert.ok(lines.some((l) => /^loop-\d+$/.test(l.thread)), 'a loop thread');
  assert.equal(messages.at(-1), 'stopped');
  for (const s of secrets) assert.ok(!text.includes(s), `a secret is in the log`);
  for (const m of messages) assert.doesNotMatch(m, SESSION_KEY_SHAPE);
});

test('at level warn the port still reaches stderr as a JSON line', async () => {
  const world = await startWorld({ meetoa: { config: { logging: { level: 'warn', format: 'JSON' } } } });
  const { oa } = world;
  try {
    assert.equal((await oa.get('/healthz')).status, 200);
  } finally {
    await world.stop();
  }
  const lines = parseLines(oa.logs());
  assert.ok(lines.some((l) => l.level === 'INFO' && /^listening on http:\/\/127\.0\.0\.1:\d+ \(log lines at level warn\)$/.test(l.message)), oa.logs());
});
