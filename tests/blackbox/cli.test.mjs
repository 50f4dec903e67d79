// cli.test.mjs — the meetoa command line and its configuration, seen from outside: --help and
// --version, bad commands, a refused configuration (one stderr line naming the key, never a
// secret), environment overrides the Spring Boot way, `migrate` (fresh, up to date, a newer
// database refused), `user status`, and signals (SIGTERM lets a login in flight finish and
// exits 0; SIGHUP does not stop the server, and reopens the log file of logging.file.name after
// a logrotate-style rename without losing or splitting a line).

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  APP_ID,
  SOURCE_DIR,
  assertErr,
  assertOk,
  defaultConfig,
  eventually,
  jscode2sessionCalls,
  mergeConfig,
  newDataKey,
  newDatabase,
  newSecret,
  runMeetoa,
  sqlText,
  startMeetoa,
  toYaml,
} from './lib/meetoa.mjs';
import { startWxemu } from './lib/wxemu.mjs';

/** A config error must end the process well before a server would have started. */
const QUICK_MS = 5000;

let wx, appSecret, scratch;

before(async () => {
  appSecret = newSecret();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
  scratch = mkdtempSync(path.join(tmpdir(), 'meetoa-cli-'));
});

after(async () => {
  await wx?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A fresh directory under scratch. */
function freshDir() {
  return mkdtempSync(path.join(scratch, 'd-'));
}

/**
 * Writes a valid config (for wxemu, secret given or fresh, fresh data key) with `over`
 * merged in; returns {file, dir, dbPath, secret, dataKey, config}. Its database is a SQLite
 * file unless db (a newDatabase() handle) is given.
 */
function writeConfig(over = {}, { secret = newSecret(), dataKey = newDataKey(), db, dir = freshDir() } = {}) {
  const dbPath = path.join(dir, 'meetoa.db');
  const config = mergeConfig(defaultConfig({ wxBase: wx.base, appSecret: secret, dataKey, dbPath, dbUrl: db?.url }), over);
  const file = path.join(dir, 'application.yml');
  writeFileSync(file, toYaml(config));
  return { file, dir, dbPath, secret, dataKey, config };
}

/** writeConfig() on a fresh database of the backend under test; drop it with c.db.drop(). */
async function writeConfigWithDatabase(over = {}, more = {}) {
  const dir = freshDir();
  const db = await newDatabase({ dir });
  return { ...writeConfig(over, { ...more, db, dir }), db };
}

/** The lines a process wrote on one stream (a trailing newline ends the last one). */
function lines(text) {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}

function show(r) {
  return `exit ${r.code} (signal ${r.signal}) after ${r.ms} ms\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
}

/** No secret value anywhere in what a run printed. */
function assertNoSecrets(r, secrets) {
  for (const s of secrets) {
    assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `a secret value appears in the output:\n${show(r)}`);
  }
}

/** A refused start: non-zero exit (not a crash), within QUICK_MS, exactly one stderr line. Returns that line. */
function assertRefused(r, what) {
  assert.equal(r.signal, null, `${what}: killed instead of exiting\n${show(r)}`);
  assert.equal(typeof r.code, 'number', `${what}: ${show(r)}`);
  assert.notEqual(r.code, 0, `${what}: exit code\n${show(r)}`);
  assert.ok(r.ms < QUICK_MS, `${what}: took ${r.ms} ms (want < ${QUICK_MS})`);
  const err = lines(r.stderr);
  assert.equal(err.length, 1, `${what}: exactly one line on stderr\n${show(r)}`);
  assert.notEqual(err[0].trim(), '', `${what}: an empty line\n${show(r)}`);
  return err[0];
}

/** The version of CMakeLists.txt's project() line. */
function projectVersion() {
  const cmake = readFileSync(path.join(SOURCE_DIR, 'CMakeLists.txt'), 'utf8');
  const m = /^\s*project\s*\(\s*meetoa\s+VERSION\s+([0-9][0-9.]*)/im.exec(cmake);
  assert.ok(m, 'CMakeLists.txt has project(meetoa VERSION x.y.z ...)');
  return m[1];
}

/** A loopback TCP server holding a port; close() frees it. */
async function holdPort() {
  const server = net.createServer((s) => s.destroy());
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}

// ---------------------------------------------------------------------------------------

describe('help, version and bad commands', () => {
  for (const flag of ['--help', '-h']) {
    test(`meetoa ${flag} exits 0 with the usage`, async () => {
      const r = await runMeetoa([flag]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /usage/i, show(r));
      for (const command of ['serve', 'migrate', 'user']) assert.match(r.stdout, new RegExp(`\\b${command}\\b`), `names ${command}\n${show(r)}`);
      assert.match(r.stdout, /--config/, show(r));
    });
  }

  test('meetoa --version prints the version of CMakeLists.txt', async () => {
    const version = projectVersion();
    for (const flag of ['--version', '-V']) {
      const r = await runMeetoa([flag]);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, `meetoa ${version}\n`, show(r));
    }
  });

  test('no command exits 2 with the usage on stderr', async () => {
    const r = await runMeetoa([]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /usage/i, show(r));
    assert.equal(r.stdout, '', 'nothing on stdout');
  });

  test('an unknown command exits 2 and says so', async () => {
    const r = await runMeetoa(['frobnicate']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /unknown command.*frobnicate/i, show(r));
  });

  test('an unknown option exits 2', async () => {
    const r = await runMeetoa(['serve', '--no-such-option']);
    assert.equal(r.code, 2, show(r));
    assert.notEqual(r.stderr, '', show(r));
  });
});

describe('a configuration that is refused', { concurrency: true }, () => {
  test('control: the unchanged config is accepted', async () => {
    const c = await writeConfigWithDatabase();
    try {
      const r = await runMeetoa(['migrate', '--config', c.file]);
      assert.equal(r.code, 0, show(r));
    } finally {
      await c.db.drop();
    }
  });

  // [what, change merged into the valid config, the key the line must name]
  const cases = [
    ['oa.wx.app-id missing', { oa: { wx: { 'app-id': null } } }, 'oa.wx.app-id'],
    ['oa.wx.app-secret missing', { oa: { wx: { 'app-secret': null } } }, 'oa.wx.app-secret'],
    ['oa.security.data-key missing', { oa: { security: { 'data-key': null } } }, 'oa.security.data-key'],
    ['server.port 70000', { server: { port: 70000 } }, 'server.port'],
    ['a data key of 31 bytes', { oa: { security: { 'data-key': randomBytes(31).toString('base64') } } }, 'oa.security.data-key'],
    ['a data key of 33 bytes', { oa: { security: { 'data-key': randomBytes(33).toString('base64') } } }, 'oa.security.data-key'],
    ['a data key that is not base64', { oa: { security: { 'data-key': '!'.repeat(44) } } }, 'oa.security.data-key'],
    ['api-base ftp://x', { oa: { wx: { 'api-base': 'ftp://x' } } }, 'oa.wx.api-base'],
    ['an unknown key under oa', { oa: { colour: 'blue' } }, 'oa.colour'],
    ['an unknown key under oa.token', { oa: { token: { headr: 'X-Other' } } }, 'oa.token.headr'],
    ['a log file in a folder that does not exist', { logging: { file: { name: '/nonexistent-meetoa/x/meetoa.log' } } }, 'logging.file.name'],
  ];
  for (const [what, over, key] of cases) {
    test(`${what}: one line naming ${key}`, async () => {
      const c = writeConfig(over);
      const r = await runMeetoa(['serve', '--config', c.file]);
      const line = assertRefused(r, what);
      assert.ok(line.includes(key), `the line names ${key}: ${JSON.stringify(line)}`);
      const secrets = [c.secret, c.dataKey];
      if (c.config.oa?.security?.['data-key']) secrets.push(c.config.oa.security['data-key']);
      assertNoSecrets(r, secrets);
    });
  }

  test('an invalid value from the environment is refused the same way', async () => {
    const c = writeConfig();
    const bad = randomBytes(16).toString('base64');
    const r = await runMeetoa(['serve', '--config', c.file], { env: { OA_SECURITY_DATA_KEY: bad } });
    const line = assertRefused(r, 'OA_SECURITY_DATA_KEY of 16 bytes');
    assert.ok(line.includes('oa.security.data-key'), `names the key: ${JSON.stringify(line)}`);
    assertNoSecrets(r, [c.secret, c.dataKey, bad]);
  });

  test('OA_WX_APP_SECRET and OA_WX_APPSECRET that disagree are refused', async () => {
    const c = writeConfig();
    const [a, b] = [newSecret(), newSecret()];
    const r = await runMeetoa(['serve', '--config', c.file], { env: { OA_WX_APP_SECRET: a, OA_WX_APPSECRET: b } });
    const line = assertRefused(r, 'two app secrets');
    assert.ok(line.includes('oa.wx.app-secret'), `names the key: ${JSON.stringify(line)}`);
    assertNoSecrets(r, [c.secret, c.dataKey, a, b]);
  });

  test('a config file that does not exist: one line naming the path', async () => {
    const file = path.join(freshDir(), 'no-such-application.yml');
    const r = await runMeetoa(['serve', '--config', file]);
    const line = assertRefused(r, 'missing file');
    assert.ok(line.includes(file), `the line names ${file}: ${JSON.stringify(line)}`);
  });
});

describe('the environment overrides the file', () => {
  test('SERVER_PORT=0 makes it listen elsewhere than the file says', async () => {
    const held = await holdPort(); // the file's port is taken: only the override can start
    try {
      const plain = writeConfig({ server: { port: held.port } });
      const refused = await runMeetoa(['serve', '--config', plain.file]);
      assert.notEqual(refused.code, 0, `control: without the override the file's busy port ${held.port} is used\n${show(refused)}`);

      const oa = await startMeetoa({ wxemu: wx, appSecret, config: { server: { port: held.port } }, env: { SERVER_PORT: '0' } });
      try {
        assert.notEqual(oa.port, held.port, 'listens on another port');
        assertOk(await oa.info(await oa.loginOk('port-user')), 'it answers there');
      } finally {
        assert.equal((await oa.stop()).code, 0);
      }
    } finally {
      await held.close();
    }
  });

  for (const name of ['OA_WX_APP_SECRET', 'OA_WX_APPSECRET']) {
    test(`${name} replaces the file's app secret`, async () => {
      const wrong = newSecret();
      const control = await startMeetoa({ wxemu: wx, appSecret: wrong });
      try {
        const r = await control.login('secret-control');
        assert.notEqual(r.errno, 0, `control: the file's secret is wrong, login must fail; got ${r.text}`);
      } finally {
        await control.stop();
      }

      const oa = await startMeetoa({ wxemu: wx, appSecret: wrong, env: { [name]: appSecret } });
      try {
        const token = await oa.loginOk(`secret-${name}`);
        assertOk(await oa.info(token), 'info');
        for (const s of [wrong, appSecret]) assert.ok(!oa.logs().includes(s), 'no secret in the logs');
      } finally {
        await oa.stop();
      }
    });
  }

  test('OA_TOKEN_HEADER=X-Other changes the header that carries the token', async () => {
    const oa = await startMeetoa({ wxemu: wx, appSecret, env: { OA_TOKEN_HEADER: 'X-Other' } });
    try {
      assert.equal(oa.config.oa.token.header, 'X-OA-Token', 'the file names X-OA-Token');
      const token = await oa.loginOk('header-user');
      assertOk(await oa.info(null, { 'X-Other': token }), 'X-Other');
      assertErr(await oa.info(null, { 'X-OA-Token': token }), 501, 'X-OA-Token is not the header any more');
      assertOk(await oa.logout(null, { 'X-Other': token }), 'logout with X-Other');
      assertErr(await oa.info(null, { 'X-Other': token }), 501, 'after logout');
    } finally {
      await oa.stop();
    }
  });
});

describe('meetoa migrate', () => {
  test('migrates a new database, is then up to date, and refuses a newer one', async () => {
    const c = await writeConfigWithDatabase();
    try {
      await migrateUpToDateNewer(c);
    } finally {
      await c.db.drop();
    }
  });

  async function migrateUpToDateNewer(c) {
    const first = await runMeetoa(['migrate', '--config', c.file]);
    assert.equal(first.code, 0, show(first));
    const m = /migrated from version (\d+) to (\d+)/.exec(first.stdout);
    assert.ok(m, `says it migrated\n${show(first)}`);
    const [from, latest] = [Number(m[1]), Number(m[2])];
    assert.equal(from, 0, 'a new database starts at version 0');
    assert.ok(latest > from, `migrated to a later version\n${show(first)}`);
    assert.deepEqual(await c.db.sql('SELECT max(version) FROM schema_version;'), [[String(latest)]], 'schema_version');

    const second = await runMeetoa(['migrate', '--config', c.file]);
    assert.equal(second.code, 0, show(second));
    assert.match(second.stdout, new RegExp(`up to date \\(version ${latest}\\)`), show(second));
    assert.deepEqual(await c.db.sql('SELECT max(version) FROM schema_version;'), [[String(latest)]], 'unchanged');

    // A database written by a later meetoa.
    const newer = latest + 1;
    await c.db.sql(`INSERT INTO schema_version (version, applied_at) VALUES (${newer}, '2030-01-01 00:00:00');`);
    const refused = await runMeetoa(['migrate', '--config', c.file]);
    assert.equal(refused.code, 1, show(refused));
    assert.match(refused.stderr, /newer/i, show(refused));
    assert.ok(refused.stderr.includes(String(newer)), `names version ${newer}\n${show(refused)}`);
    assertNoSecrets(refused, [c.secret, c.dataKey]);

    const serve = await runMeetoa(['serve', '--config', c.file]);
    const line = assertRefused(serve, 'serve on a newer database');
    assert.equal(serve.code, 1, show(serve));
    assert.match(line, /newer/i, show(serve));
    assertNoSecrets(serve, [c.secret, c.dataKey]);
    assert.deepEqual(await c.db.sql('SELECT max(version) FROM schema_version;'), [[String(newer)]], 'left alone');
  }
});

describe('meetoa user status', () => {
  let oa, openid;
  before(async () => {
    oa = await startMeetoa({ wxemu: wx, appSecret });
    await oa.loginOk('admin-target');
    openid = (await wx.newLogin(APP_ID, 'admin-target')).openid;
  });
  after(async () => {
    await oa?.stop();
  });

  const user = (...args) => runMeetoa(['user', '--config', oa.configPath, ...args]);
  const status = async () => oa.sql(`SELECT status FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`);

  test('an existing user: prints, exits 0, and the status is set', async () => {
    const r = await user('status', openid, '1');
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes(openid), `prints the openid\n${show(r)}`);
    assert.deepEqual(await status(), [['1']]);
    assertErr(await oa.login('admin-target'), 720, 'a disabled user cannot log in');

    const back = await user('status', openid, '0');
    assert.equal(back.code, 0, show(back));
    assert.deepEqual(await status(), [['0']]);
    await oa.loginOk('admin-target');
  });

  test('an unknown openid exits 1', async () => {
    const unknown = `o${randomBytes(12).toString('hex')}`;
    const r = await user('status', unknown, '1');
    assert.equal(r.code, 1, show(r));
    assert.ok(r.stderr.includes(unknown), `names the openid\n${show(r)}`);
    assert.deepEqual(await oa.sql(`SELECT count(*) FROM wx_user WHERE weixin_openid = ${sqlText(unknown)};`), [['0']], 'no row created');
  });

  const badArgs = [
    ['no arguments', []],
    ['no status', ['status', 'OPENID']],
    ['status 3', ['status', 'OPENID', '3']],
    ['status -1', ['status', 'OPENID', '-1']],
    ['status 10', ['status', 'OPENID', '10']],
    ['status x', ['status', 'OPENID', 'x']],
    ['an unknown subcommand', ['promote', 'OPENID', '1']],
    ['an extra argument', ['status', 'OPENID', '1', 'more']],
  ];
  for (const [what, args] of badArgs) {
    test(`bad arguments (${what}) exit 2 and change nothing`, async () => {
      const r = await user(...args.map((a) => (a === 'OPENID' ? openid : a)));
      assert.equal(r.code, 2, show(r));
      assert.notEqual(r.stderr, '', show(r));
      assert.deepEqual(await status(), [['0']], 'status unchanged');
    });
  }
});

describe('signals', () => {
  test('SIGTERM lets a login waiting on a slow WeChat finish, then exits 0', async () => {
    let oa = await startMeetoa({ wxemu: wx, appSecret, config: { oa: { wx: { 'timeout-ms': 3000 } } } });
    try {
      const code = await wx.newCode(APP_ID, 'slow-user');
      const callsBefore = await jscode2sessionCalls(wx);
      await wx.faults({ delay_ms: 1500, count: 1 });
      const started = Date.now();
      const pending = oa.loginWithCode(code, { nickName: 'Slow', avatarUrl: '', gender: 1 });
      const arrived = await eventually(async () => (await jscode2sessionCalls(wx)) > callsBefore, 3000, 20);
      assert.ok(arrived, 'the login reached wxemu');

      const exited = new Promise((resolve) => oa.proc.once('exit', (c, s) => resolve({ code: c, signal: s, at: Date.now() })));
      oa.proc.kill('SIGTERM');
      const killedAt = Date.now();
      const r = await pending;
      const answeredAt = Date.now();
      assertOk(r, 'the login in flight');
      assert.ok(answeredAt - started >= 1400, `answered after WeChat's delay (${answeredAt - started} ms)`);
      assert.ok(answeredAt - killedAt >= 500, `SIGTERM came while the login waited (${answeredAt - killedAt} ms before its answer)`);

      const exit = await exited;
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, 'graceful exit');
      assert.ok(exit.at - answeredAt < 5000, 'exits soon after the last answer');

      // The login was completed, not cut short: its token works after a restart.
      oa = await oa.restart();
      assertOk(await oa.info(r.data.token), 'the token of the login in flight');
    } finally {
      await wx.clearFaults();
      await oa.stop();
    }
  });

  test('SIGHUP without a log file: nothing to reopen, the server keeps serving', async () => {
    const oa = await startMeetoa({ wxemu: wx, appSecret });
    try {
      const token = await oa.loginOk('hup-user');
      oa.proc.kill('SIGHUP');
      await sleep(300);
      oa.proc.kill('SIGHUP');
      assert.ok(await eventually(() => (oa.logs().match(/SIGHUP: nothing to reopen/g) ?? []).length === 2, 5000), `two SIGHUP lines:\n${oa.logs()}`);
      assert.equal(oa.proc.exitCode, null, 'still running');
      assert.equal(oa.proc.signalCode, null, 'not killed');
      assertOk(await oa.info(token), 'the old token');
      assertOk(await oa.info(await oa.loginOk('hup-user')), 'a new login');
      assert.deepEqual(await oa.stop(), { code: 0, signal: null }, 'SIGTERM still stops it with 0');
    } finally {
      await oa.stop();
    }
  });

  test('logging.file.name: lines in the file, the port on stderr; SIGHUP after a rename: a new file, no line lost or split', async () => {
    const logDir = freshDir();
    const logFile = path.join(logDir, 'meetoa.log');
    const rotated = `${logFile}.1`;
    const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:[+-]\d\d:\d\d|Z) (?:ERROR|WARN|INFO|DEBUG) \[[^\]]+\] \S/;
    const WX_CALL = /\] wx: GET \/sns\/jscode2session -> HTTP 200\b/; // one debug line per login
    const oa = await startMeetoa({ wxemu: wx, appSecret, config: { logging: { level: 'debug', file: { name: logFile } } } });
    try {
      const stderrAtStart = oa.logs();
      assert.match(stderrAtStart, /listening on http:\/\/127\.0\.0\.1:\d+/, 'the port still reaches stderr');
      assert.doesNotMatch(stderrAtStart, / (?:INFO|DEBUG|WARN|ERROR) \[/, `no log line on stderr:\n${stderrAtStart}`);
      const st = statSync(logFile);
      assert.equal(st.mode & 0o137, 0, `mode ${(st.mode & 0o777).toString(8)}: no execute, no group write, nothing for others`);
      assert.equal(st.mode & 0o600, 0o600, 'owner read and write');
      assert.match(readFileSync(logFile, 'utf8'), /\] meetoa \S+ ready/, 'the start-up lines are in the file');

      const token = await oa.loginOk('rot-0');
      // Four clients log in one after another; after the 8th login the file is renamed (as
      // logrotate does) and SIGHUP sent, while the clients go on.
      const PER_CLIENT = 12;
      let done = 0;
      const client = async (c) => {
        for (let i = 0; i < PER_CLIENT; i++) {
          assertOk(await oa.login(`rot-${c}-${i}`), `login ${c}/${i}`);
          if (++done === 8) {
            renameSync(logFile, rotated);
            oa.proc.kill('SIGHUP');
          }
        }
      };
      await Promise.all([0, 1, 2, 3].map(client));
      assert.ok(await eventually(() => existsSync(logFile) && /SIGHUP: log file reopened/.test(readFileSync(logFile, 'utf8')), 5000), 'the new file says it was reopened');
      assertOk(await oa.login('rot-after'), 'a login after the reopen');

      const oldText = readFileSync(rotated, 'utf8');
      const newText = await eventually(() => {
        const t = readFileSync(logFile, 'utf8');
        return t.split('\n').filter((l) => WX_CALL.test(l)).length > 0 && t;
      }, 5000);
      assert.ok(newText, 'the login after the reopen is logged in the new file');
      for (const [name, text] of [[rotated, oldText], [logFile, newText]]) {
        assert.ok(text.endsWith('\n'), `${name} ends with a whole line`);
        for (const l of lines(text)) assert.match(l, LINE, `${name}: a whole, well-formed line`);
      }
      assert.doesNotMatch(oldText, /SIGHUP/, 'the old file ends before the reopen');
      const calls = (t) => lines(t).filter((l) => WX_CALL.test(l)).length;
      const logins = 1 + 4 * PER_CLIENT + 1;
      assert.equal(calls(oldText) + calls(newText), logins, `one jscode2session line per login across both files (old ${calls(oldText)}, new ${calls(newText)})`);
      assert.equal(oa.logs(), stderrAtStart, 'nothing more on stderr');
      assertOk(await oa.info(token), 'still serving the token of before');
      assert.deepEqual(await oa.stop({ keepDir: true }), { code: 0, signal: null }, 'SIGTERM stops it with 0');
      assert.match(readFileSync(logFile, 'utf8'), /\] stopped\n$/, 'the last line in the new file');
    } finally {
      await oa.stop();
    }
  });
});
