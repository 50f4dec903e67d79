// deploy.test.mjs — `meetoa check-config` and deploy/meetoa.service.
//
// check-config: a valid configuration exits 0 and prints every key once with its effective value
// and where it came from (file line, environment, default; "(not set)"), secrets masked (app
// secret, data keys, the DB URL's password, the push token and keys, a Redis URL's password):
// none of their values appears in stdout or stderr; an invalid one exits 1 with the one-line error
// naming the key; no database is opened (a database that does not exist is not created).
// The unit file: parsed, it has the hardening the README promises (dedicated user,
// ProtectSystem=strict, ProtectHome, NoNewPrivileges, PrivateTmp, no capabilities), the only
// writable paths are the database and uploads folders, ExecReload sends SIGHUP; its ExecStart,
// with `serve` turned into `check-config` and the application.yml its comment recommends, is
// accepted by this meetoa, and those folders are the writable ones. systemd-analyze verify accepts
// it without a warning, and its offline security exposure is at most 2.0 ("OK").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SOURCE_DIR, MEETOA_BIN, runMeetoa, toYaml, newSecret, newDataKey } from './lib/meetoa.mjs';

const UNIT = path.join(SOURCE_DIR, 'deploy/meetoa.service');

function scratch() {
  return mkdtempSync(path.join(tmpdir(), 'meetoa-deploy-'));
}

/** check-config's lines as {key: {value, where}} (where null for "(not set)"). */
function parseReport(stdout) {
  const lines = stdout.split('\n').filter((l) => l !== '');
  assert.match(lines[0], /^# .*: valid; the effective configuration/);
  const out = {};
  for (const line of lines.slice(1)) {
    const m = /^(\S+) +(.*?)(?:  \((.+)\))?$/.exec(line);
    assert.ok(m, `not a key line: ${line}`);
    assert.ok(!(m[1] in out), `${m[1]} twice`);
    out[m[1]] = { value: m[2], where: m[3] ?? null };
  }
  return out;
}

test('check-config prints every key with its value and source, secrets masked', async () => {
  const dir = scratch();
  try {
    const secret = newSecret();
    const dataKey = newDataKey();
    const oldKey = newDataKey();
    const pushToken = 'PushTok' + newSecret().slice(0, 8);
    const aesKey = 'A'.repeat(20) + newSecret().replace(/[^A-Za-z0-9]/g, 'x').slice(0, 23);
    const dbPassword = 'Db' + newSecret().slice(0, 12);
    const dbPath = path.join(dir, 'never-created.db');
    const file = path.join(dir, 'application.yml');
    writeFileSync(
      file,
      toYaml({
        server: { port: 18080, 'trusted-proxies': '127.0.0.1, 10.0.0.0/8' },
        logging: { level: 'WARN', format: 'json' },
        oa: {
          wx: { 'app-id': 'wxdeploy0000000001', 'app-secret': secret, push: { token: pushToken, 'aes-key': aesKey } },
          security: { 'data-key': dataKey, 'previous-data-keys': oldKey },
          datasource: { url: `sqlite:${dbPath}` },
          token: { 'expire-seconds': 4000 },
        },
      }),
    );
    const env = { OA_DATASOURCE_URL: `mysql://meetoa:${dbPassword}@127.0.0.1:3306/meetoa`, SERVER_THREADS: '3' };
    const r = await runMeetoa(['check-config', '--config', file], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const keys = parseReport(r.stdout);
    const portLine = readFileSync(file, 'utf8').split('\n').findIndex((l) => /^\s*port: 18080$/.test(l)) + 1;
    assert.ok(portLine > 0);
    assert.deepEqual(keys['server.port'], { value: '18080', where: `${file} line ${portLine}` });
    assert.deepEqual(keys['server.threads'], { value: '3', where: 'environment SERVER_THREADS' });
    assert.deepEqual(keys['server.host'], { value: '127.0.0.1', where: 'default' });
    assert.equal(keys['server.trusted-proxies'].value, '127.0.0.1, 10.0.0.0/8');
    assert.equal(keys['logging.level'].value, 'warn');
    assert.equal(keys['logging.format'].value, 'json');
    assert.deepEqual(keys['logging.file.name'], { value: '(not set)', where: null });
    assert.equal(keys['oa.wx.app-id'].value, 'wxdeploy0000000001');
    assert.equal(keys['oa.wx.app-secret'].value, '********');
    assert.equal(keys['oa.security.data-key'].value, '******** (32 bytes)');
    assert.equal(keys['oa.security.previous-data-keys'].value, '******** (1 keys)');
    assert.deepEqual(keys['oa.datasource.url'], {
      value: 'mysql://meetoa:****@127.0.0.1:3306/meetoa',
      where: 'environment OA_DATASOURCE_URL',
    });
    assert.equal(keys['oa.wx.push.token'].value, '********');
    assert.equal(keys['oa.wx.push.aes-key'].value, '********');
    // a value the rules computed: a quarter of expire-seconds
    assert.deepEqual(keys['oa.token.renew-threshold-seconds'], { value: '1000', where: 'default' });
    for (const s of [secret, dataKey, oldKey, pushToken, aesKey, dbPassword])
      assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'a secret was printed');
    // every key of README's table is listed
    const readme = readFileSync(path.join(SOURCE_DIR, 'README.md'), 'utf8');
    for (const key of ['oa.wx.timeout-ms', 'oa.storage.dir', 'oa.rate-limit.login-ip', 'oa.meeting.list-cache-bytes'])
      assert.ok(readme.includes('`' + key + '`') && key in keys, key);
    assert.ok(!existsSync(dbPath), 'check-config opened the database');

    // a SQLite URL is shown as it is, a Redis URL's password masked when R's key is there
    const r2 = await runMeetoa(['check-config', '--config', file], {
      env: { ...(('oa.redis.url' in keys) ? { OA_REDIS_URL: `redis://:${dbPassword}@127.0.0.1:6379/0` } : {}) },
    });
    assert.equal(r2.code, 0, r2.stderr);
    const k2 = parseReport(r2.stdout);
    assert.equal(k2['oa.datasource.url'].value, `sqlite:${dbPath}`);
    if ('oa.redis.url' in k2) assert.equal(k2['oa.redis.url'].value, 'redis://:****@127.0.0.1:6379/0');
    assert.ok(!r2.stdout.includes(dbPassword));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check-config refuses an invalid configuration with exit 1 and the key named', async () => {
  const dir = scratch();
  try {
    const secret = newSecret();
    const file = path.join(dir, 'application.yml');
    writeFileSync(file, toYaml({ logging: { format: 'xml' }, oa: { wx: { 'app-id': 'wx1', 'app-secret': secret }, security: { 'data-key': newDataKey() } } }));
    const r = await runMeetoa(['check-config', '--config', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^meetoa: logging\.format: must be text or json, got "xml"\n$/);
    writeFileSync(file, toYaml({ oa: { wx: { 'app-id': 'wx1', 'app-secret': secret }, security: { 'data-key': 'short' } } }));
    const r2 = await runMeetoa(['check-config', '--config', file]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /^meetoa: oa\.security\.data-key: must be the base64 of 32 bytes/);
    assert.ok(!r2.stderr.includes(secret));
    const r3 = await runMeetoa(['check-config', '--config', path.join(dir, 'missing.yml')]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /missing\.yml: cannot open/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The unit file as {section: [[key, value], ...]} (comments and blank lines dropped). */
function parseUnit(text) {
  const out = {};
  let section = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      section = s[1];
      out[section] = [];
      continue;
    }
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(m && section, `not a directive: ${raw}`);
    out[section].push([m[1], m[2]]);
  }
  return out;
}

function values(unit, section, key) {
  return (unit[section] ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

function one(unit, section, key) {
  const v = values(unit, section, key);
  assert.equal(v.length, 1, `${section}.${key}: ${JSON.stringify(v)}`);
  return v[0];
}

test('deploy/meetoa.service: hardening, writable paths, reload, and an ExecStart meetoa accepts', async () => {
  const text = readFileSync(UNIT, 'utf8');
  const unit = parseUnit(text);
  assert.deepEqual(Object.keys(unit), ['Unit', 'Service', 'Install']);
  for (const [key, want] of Object.entries({
    User: 'meetoa',
    Group: 'meetoa',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    PrivateDevices: 'yes',
    CapabilityBoundingSet: '',
    AmbientCapabilities: '',
    ExecReload: '/bin/kill -HUP $MAINPID',
  }))
    assert.equal(one(unit, 'Service', key), want, key);
  assert.deepEqual(values(unit, 'Service', 'DynamicUser'), []);
  // the only writable paths: the database's and the uploads' folders
  const writable = one(unit, 'Service', 'ReadWritePaths').split(/\s+/);
  assert.deepEqual(writable, ['/var/lib/meetoa/db', '/var/lib/meetoa/uploads']);
  assert.deepEqual(one(unit, 'Service', 'StateDirectory').split(/\s+/).map((d) => '/var/lib/' + d), writable);
  for (const key of ['LogsDirectory', 'CacheDirectory', 'RuntimeDirectory', 'ConfigurationDirectory', 'BindPaths'])
    assert.deepEqual(values(unit, 'Service', key), [], `${key} would add a writable path`);

  // ExecStart: meetoa serve --config FILE; the same line as check-config, with the recommended config
  const exec = one(unit, 'Service', 'ExecStart').split(/\s+/);
  assert.deepEqual(exec.slice(1, 3), ['serve', '--config']);
  assert.equal(exec.length, 4);
  const recommended = /^#\s+(oa: \{datasource: .*\})$/m.exec(text);
  assert.ok(recommended, 'the unit file recommends the application.yml paths');
  const dir = scratch();
  try {
    const file = path.join(dir, path.basename(exec[3]));
    writeFileSync(
      file,
      `${recommended[1].replace(/^oa: \{/, `oa: {wx: {app-id: wxunit, app-secret: ${newSecret()}}, security: {data-key: "${newDataKey()}"}, `)}\n`,
    );
    const r = await runMeetoa(['check-config', ...exec.slice(2, 3), file]);
    assert.equal(r.code, 0, r.stderr);
    const keys = parseReport(r.stdout);
    const db = /^sqlite:(.*)$/.exec(keys['oa.datasource.url'].value);
    assert.ok(db, keys['oa.datasource.url'].value);
    assert.ok(writable.includes(path.dirname(db[1])), `the database ${db[1]} is not in a writable folder`);
    assert.ok(writable.includes(keys['oa.storage.dir'].value), `uploads ${keys['oa.storage.dir'].value} not writable`);
    assert.equal(one(unit, 'Service', 'WorkingDirectory'), '/var/lib/meetoa');

    // systemd's own checks, on a copy that starts this build's binary
    const copy = path.join(dir, 'meetoa.service');
    writeFileSync(copy, text.replaceAll(exec[0], MEETOA_BIN));
    const verify = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    assert.equal(verify.error, undefined, 'systemd-analyze is missing (Debian package systemd)');
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr, '', 'systemd-analyze verify warned');
    const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', copy], { encoding: 'utf8' });
    assert.equal(security.status, 0, security.stderr);
    const level = /Overall exposure level for meetoa\.service: ([\d.]+)/.exec(security.stdout + security.stderr);
    assert.ok(level, security.stdout);
    assert.ok(Number(level[1]) <= 2.0, `exposure ${level[1]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
