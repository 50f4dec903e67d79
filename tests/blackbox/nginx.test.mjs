// nginx.test.mjs — GET /wx/auth/verify, and a real nginx in front of meetoa and a small upstream
// with the auth_request configuration of docs/nginx.md (read from that file, so the document is
// what is tested).
//
// Directly against meetoa: 401 with no body for no, malformed, unknown and logged-out tokens;
// 200 with no body and X-OA-User-Id / X-OA-Member-Role / X-OA-Member-Name for a valid one (the
// configured header and Authorization: Bearer); it never renews a token that info would renew.
// Through nginx (Debian's nginx-light, with private prefix, config and temp folders on a free
// loopback port, master_process off so it runs as the test's user):
//   - no token, a bad one, a logged-out one: 401 for the client, the upstream never hears of it;
//   - a good one: the upstream gets exactly MeetOA's identity (id, role, the member's name
//     percent-encoded) and neither the token nor Authorization;
//   - a client-forged X-OA-User-Id / role / name (any case, twice) never reaches the upstream:
//     with a good token it is replaced, with a bad one the request is refused.
// Both backends (the harness's database).

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { startWorld, send, runMeetoa, SOURCE_DIR, nowEpochSql } from './lib/meetoa.mjs';
import { organization } from './lib/org.mjs';
import { freePort } from './lib/ports.mjs';

const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync('test', ['-x', p]).status === 0) ?? 'nginx';

let world, oa, upstream, nginx;
const seen = []; // the requests the upstream got: {url, headers, raw}

/** The http-level block of docs/nginx.md with this test's addresses. */
function docConfig(meetoaPort, upstreamPort, listenPort) {
  const doc = readFileSync(path.join(SOURCE_DIR, 'docs/nginx.md'), 'utf8');
  const m = /```nginx\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, 'docs/nginx.md has no ```nginx block');
  let conf = m[1];
  for (const [from, to] of [
    ['server 127.0.0.1:8080;', `server 127.0.0.1:${meetoaPort};`],
    ['server 127.0.0.1:9000;', `server 127.0.0.1:${upstreamPort};`],
    ['listen 80;', `listen 127.0.0.1:${listenPort};`],
  ]) {
    assert.ok(conf.includes(from), `docs/nginx.md's block has no "${from}"`);
    conf = conf.replace(from, to);
  }
  return conf;
}

async function startNginx(meetoaPort, upstreamPort) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-nginx-'));
  for (const d of ['logs', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) mkdirSync(path.join(dir, d), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = `
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log info;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log ${dir}/logs/access.log;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
${docConfig(meetoaPort, upstreamPort, port)}
}
`;
    writeFileSync(path.join(dir, 'nginx.conf'), conf);
    const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs/error.log'), '-g', 'daemon off; master_process off;'], { encoding: 'utf8' });
    assert.equal(check.status, 0, `nginx -t refused the configuration:\n${check.stderr}\n${conf}`);
    const proc = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs/error.log'), '-g', 'daemon off; master_process off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const up = await new Promise((resolve) => {
      const deadline = Date.now() + 10000;
      const tryConnect = () => {
        if (proc.exitCode !== null) return resolve(false);
        const c = net.connect(port, '127.0.0.1');
        c.once('connect', () => {
          c.destroy();
          resolve(true);
        });
        c.once('error', () => (Date.now() > deadline ? resolve(false) : setTimeout(tryConnect, 50)));
      };
      tryConnect();
    });
    if (up) {
      return {
        base: `http://127.0.0.1:${port}`,
        dir,
        errors: () => readFileSync(path.join(dir, 'logs/error.log'), 'utf8'),
        async stop() {
          if (proc.exitCode === null) {
            const exited = new Promise((r) => proc.once('exit', r));
            proc.kill('SIGQUIT');
            await Promise.race([exited, sleep(5000)]);
            if (proc.exitCode === null) proc.kill('SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    proc.kill('SIGKILL');
    if (attempt >= 3) throw new Error(`nginx did not start: ${output}\n${readFileSync(path.join(dir, 'logs/error.log'), 'utf8')}`);
  }
}

before(async () => {
  world = await startWorld({ meetoa: { config: { oa: { token: { 'cache-seconds': 0, 'renew-threshold-seconds': 3600 } } } } });
  oa = world.oa;
  upstream = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers, raw: req.rawHeaders });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('report');
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  nginx = await startNginx(oa.port, upstream.address().port);
});

after(async () => {
  await nginx?.stop();
  await new Promise((r) => (upstream ? upstream.close(r) : r()));
  if (world) {
    const exit = await oa.stop();
    await world.wx.stop();
    assert.equal(exit.code, 0, oa.logs());
    assert.doesNotMatch(oa.logs(), SANITIZER_REPORT);
  }
});

const TOKEN = 'X-OA-Token';

async function userId(openid) {
  const [[id]] = await oa.sql(`SELECT id FROM wx_user WHERE weixin_openid = '${openid}';`);
  return id;
}

async function loginUser(name) {
  const l = await world.wx.newLogin('wxtestapp000000001', name);
  const r = await oa.loginWithCode(l.code);
  assert.equal(r.errno, 0, r.text);
  return { token: r.data.token, openid: l.openid, id: await userId(l.openid) };
}

/** A request through nginx; returns {status, text, upstream: the requests the upstream got during it}. */
async function viaNginx(p, headers = {}) {
  const before = seen.length;
  const r = await send(nginx.base, 'GET', p, undefined, headers);
  return { ...r, upstream: seen.slice(before) };
}

/** The values the upstream got for a header name (every occurrence, any case). */
function rawValues(reqSeen, name) {
  const out = [];
  for (let i = 0; i < reqSeen.raw.length; i += 2) if (reqSeen.raw[i].toLowerCase() === name) out.push(reqSeen.raw[i + 1]);
  return out;
}

function assertIdentity(reqSeen, { id, role, name }) {
  assert.deepEqual(rawValues(reqSeen, 'x-oa-user-id'), [String(id)]);
  assert.deepEqual(rawValues(reqSeen, 'x-oa-member-role'), [role]);
  if (name === undefined) assert.deepEqual(rawValues(reqSeen, 'x-oa-member-name'), []);
  else {
    const v = rawValues(reqSeen, 'x-oa-member-name');
    assert.equal(v.length, 1);
    assert.equal(decodeURIComponent(v[0]), name);
  }
  assert.deepEqual(rawValues(reqSeen, 'x-oa-token'), []);
  assert.deepEqual(rawValues(reqSeen, 'authorization'), []);
}

test('verify against meetoa: 401 with no body unless the token is valid, then the identity headers', async () => {
  for (const headers of [{}, { [TOKEN]: 'short' }, { [TOKEN]: 'A'.repeat(43) }, { Authorization: 'Bearer ' + 'B'.repeat(43) }]) {
    const r = await oa.get('/wx/auth/verify', headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.get('x-oa-user-id'), null);
  }
  const u = await loginUser('vera');
  for (const headers of [{ [TOKEN]: u.token }, { Authorization: `Bearer ${u.token}` }]) {
    const r = await oa.get('/wx/auth/verify', headers);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.get('x-oa-user-id'), String(u.id));
    assert.equal(r.headers.get('x-oa-member-role'), 'none');
    assert.equal(r.headers.get('x-oa-member-name'), null);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  }
  // a disabled user: 401
  const d = await loginUser('dora');
  assert.equal((await runMeetoa(['user', '--config', oa.configPath, 'status', d.openid, '1'], { env: undefined })).code, 0);
  assert.equal((await oa.get('/wx/auth/verify', { [TOKEN]: d.token })).status, 401);
});

test('verify never renews a token (info would)', async () => {
  const u = await loginUser('rene');
  // 10 minutes left: below oa.token.renew-threshold-seconds (3600); cache-seconds 0 reads it back
  await oa.sql(`UPDATE wx_session SET expires_at = ${nowEpochSql(oa)} + 600 WHERE user_id = ${u.id};`);
  const v = await oa.get('/wx/auth/verify', { [TOKEN]: u.token });
  assert.equal(v.status, 200);
  assert.equal(v.headers.get('x-oa-token-renewed'), null);
  const [[sessions]] = await oa.sql(`SELECT count(*) FROM wx_session WHERE user_id = ${u.id};`);
  assert.equal(sessions, '1');
  const i = await oa.info(u.token);
  assert.equal(i.errno, 0);
  assert.match(i.headers.get('x-oa-token-renewed') ?? '', /^[A-Za-z0-9_-]{43}$/, 'the setup would renew');
});

test('nginx: no token, a bad one or a logged-out one never reaches the upstream', async () => {
  for (const headers of [{}, { [TOKEN]: 'A'.repeat(43) }, { Authorization: 'Bearer nonsense' }]) {
    const r = await viaNginx('/reports/q1', headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.upstream.length, 0);
  }
  const u = await loginUser('lou');
  assert.equal((await viaNginx('/reports/x', { [TOKEN]: u.token })).upstream.length, 1);
  assert.equal((await oa.logout(u.token)).errno, 0);
  const r = await viaNginx('/reports/x', { [TOKEN]: u.token });
  assert.equal(r.status, 401);
  assert.equal(r.upstream.length, 0);
});

test('nginx: a good token reaches the upstream with MeetOA identity, never the token', async () => {
  const visitor = await loginUser('vic');
  const r = await viaNginx('/reports/2026?x=1', { [TOKEN]: visitor.token });
  assert.equal(r.status, 200);
  assert.equal(r.text, 'report');
  assert.equal(r.upstream.length, 1);
  assert.equal(r.upstream[0].url, '/reports/2026?x=1');
  assertIdentity(r.upstream[0], { id: visitor.id, role: 'none' });

  // an admin whose name is not ASCII (the name `meetoa user role` gives: the nickname, else 管理员)
  const admin = await loginUser('ada');
  assert.equal((await runMeetoa(['user', '--config', oa.configPath, 'role', admin.openid, 'admin'])).code, 0);
  const [[name]] = await oa.sql(`SELECT name FROM oa_member WHERE user_id = ${admin.id};`);
  const a = await viaNginx('/reports/all', { Authorization: `Bearer ${admin.token}` });
  assert.equal(a.status, 200);
  assertIdentity(a.upstream[0], { id: admin.id, role: 'admin', name });
  assert.equal(name, '管理员');
  assert.deepEqual(rawValues(a.upstream[0], 'x-oa-member-name'), ['%E7%AE%A1%E7%90%86%E5%91%98']);
});

test('nginx: a client-forged identity never reaches the upstream', async () => {
  const forged = {
    'X-OA-User-Id': '1',
    'x-oa-member-role': 'admin',
    'X-OA-MEMBER-NAME': '%E8%80%81%E6%9D%BF',
  };
  // with a bad token: refused, nothing reaches the upstream
  const bad = await viaNginx('/reports/', { ...forged, [TOKEN]: 'C'.repeat(43) });
  assert.equal(bad.status, 401);
  assert.equal(bad.upstream.length, 0);
  // with no token
  const none = await viaNginx('/reports/', forged);
  assert.equal(none.status, 401);
  assert.equal(none.upstream.length, 0);
  // with a good token: MeetOA's values only, the forged ones gone (a visitor has no name header at all)
  const u = await loginUser('mallory');
  const good = await viaNginx('/reports/', { ...forged, [TOKEN]: u.token });
  assert.equal(good.status, 200);
  assertIdentity(good.upstream[0], { id: u.id, role: 'none' });
  // the same header twice, raw
  const twice = await new Promise((resolve, reject) => {
    const before = seen.length;
    const req = http.request(
      nginx.base + '/reports/twice',
      { headers: { [TOKEN]: u.token, 'X-OA-User-Id': ['1', '2'], 'X-OA-Member-Role': 'admin' } }, // two X-OA-User-Id lines
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, upstream: seen.slice(before) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(twice.status, 200);
  assertIdentity(twice.upstream[0], { id: u.id, role: 'none' });
  assert.doesNotMatch(nginx.errors(), /\[(emerg|alert|crit)\]/);
});

test('verify with cached memberships (cache-seconds 5): changes made through this instance show at once', async () => {
  const w = await startWorld();
  try {
    const org = organization(w);
    const admin = await org.admin('管理员甲');
    const p = await org.visitor('zhang');
    const header = w.oa.config.oa.token.header;
    const verify = async (who) => {
      const r = await w.oa.get('/wx/auth/verify', { [header]: who.token });
      assert.equal(r.status, 200);
      return [r.headers.get('x-oa-member-role'), r.headers.get('x-oa-member-name')];
    };
    assert.deepEqual(await verify(p), ['none', null]); // now cached
    assert.deepEqual(await verify(p), ['none', null]);
    const invite = (await admin.post('/wx/member/invite', { maxUses: 5, expireDays: 1 })).data.code;
    assert.equal((await p.post('/wx/member/join', { name: '张三', inviteCode: invite })).data.membership, 'member');
    assert.deepEqual(await verify(p), ['member', '%E5%BC%A0%E4%B8%89']);
    assert.equal((await admin.post('/wx/member/role', { userId: p.id, role: 'admin' })).errno, 0);
    assert.deepEqual(await verify(p), ['admin', '%E5%BC%A0%E4%B8%89']);
    assert.equal((await admin.post('/wx/member/remove', { userId: p.id })).errno, 0);
    assert.deepEqual(await verify(p), ['none', null]);
    assert.equal((await verify(admin))[0], 'admin');
  } finally {
    await w.stop();
  }
});
