// metrics.test.mjs — GET /metrics on the management listener (management.server.port): only
// there (not on the API's port, nothing else on it), counts that match what the test did
// (logins, info by route and errno, unmatched paths, WeChat calls, database jobs, the session
// cache), no token, openid or raw path in any label, `promtool check metrics` without a single
// lint problem, and a real Prometheus (Debian's, private data dir, free port, 1 s scrape
// interval, config written here) that scrapes meetoa and answers the login count through its
// HTTP API's PromQL query, and evaluates every query of docs/grafana-dashboard.json.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { setTimeout as sleep } from 'node:timers/promises';

import { startWorld, startMeetoa, APP_ID, SOURCE_DIR, assertAnswer, assertOk, assertErr } from './lib/meetoa.mjs';
import { freePort } from './lib/ports.mjs';

const LOGINS = 3;
let world, oa, wx, mport;
const tokens = [];
const openids = [];

async function scrape(p = '/metrics', method = 'GET') {
  const r = await fetch(`http://127.0.0.1:${mport}${p}`, { method });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

/** The value of one series line `name{labels} value` (exact series text); undefined when absent. */
function sample(text, series) {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

/** Runs fn until it does not throw (every `every` ms) or `ms` passed (then its last error). */
async function until(fn, ms, every) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() >= end) throw e;
    }
    await sleep(every);
  }
}

before(async () => {
  world = await startWorld({ meetoa: { config: { management: { server: { port: 0 } } } } });
  ({ oa, wx } = world);
  const m = /management endpoint GET \/metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(oa.logs());
  assert.ok(m, `no management line in:\n${oa.logs()}`);
  mport = Number(m[1]);
  for (let i = 0; i < LOGINS; i++) {
    const r = await oa.login(`metrics-user-${i}`);
    assertOk(r, 'login');
    tokens.push(r.data.token);
    openids.push((await wx.newLogin(APP_ID, `metrics-user-${i}`)).openid);
  }
  for (const t of tokens) assertOk(await oa.info(t), 'info');
  assertErr(await oa.info('not-a-token'), 501, 'bad token');
  // A raw path with a token in it must never become a label value.
  await oa.get(`/wx/nothing/${tokens[0]}`);
});

after(async () => {
  await world?.stop();
});

test('GET /metrics answers the text format with the counts of what happened', async () => {
  const r = await scrape();
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
  const t = r.text;
  assert.equal(sample(t, 'meetoa_logins_total'), LOGINS);
  assert.equal(sample(t, 'meetoa_http_requests_total{route="/wx/auth/login_by_weixin",errno="0"}'), LOGINS);
  assert.equal(sample(t, 'meetoa_http_requests_total{route="/wx/auth/info",errno="0"}'), LOGINS);
  assert.equal(sample(t, 'meetoa_http_requests_total{route="/wx/auth/info",errno="501"}'), 1);
  assert.equal(sample(t, 'meetoa_http_requests_total{route="unmatched",errno="404"}'), 1);
  assert.equal(sample(t, 'meetoa_http_request_duration_seconds_count{route="/wx/auth/info"}'), LOGINS + 1);
  assert.equal(sample(t, 'meetoa_wechat_calls_total{api="/sns/jscode2session",outcome="ok"}'), LOGINS);
  assert.equal(sample(t, 'meetoa_wechat_call_duration_seconds_count{api="/sns/jscode2session"}'), LOGINS);
  // Each login stores its user and session through the pool, queued by the login route.
  assert.ok(sample(t, 'meetoa_db_job_duration_seconds_count{operation="/wx/auth/login_by_weixin"}') >= LOGINS);
  assert.equal(sample(t, 'meetoa_db_jobs_queued'), 0);
  // The logins put their sessions in the cache: the info calls hit it; the bad token missed.
  assert.ok(sample(t, 'meetoa_session_cache_lookups_total{result="hit"}') >= LOGINS);
  assert.ok(sample(t, 'meetoa_session_cache_entries') >= LOGINS);
  assert.equal(sample(t, 'meetoa_http_requests_in_flight'), 0);
  assert.ok(sample(t, 'meetoa_http_connections') >= 0);
  assert.equal(sample(t, 'meetoa_login_refusals_total{reason="wx_code_used"}'), 0);
  assert.match(t, /^meetoa_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
  assert.ok(sample(t, 'process_resident_memory_bytes') > 1e6);
  assert.ok(sample(t, 'process_open_fds') > 3);
  const start = sample(t, 'process_start_time_seconds');
  assert.ok(Math.abs(start - Date.now() / 1000) < 600, `start time ${start}`);
  assert.ok(sample(t, 'process_cpu_seconds_total') >= 0);
  // Bounded labels: no token, no openid, no raw path, no address.
  for (const tok of tokens) assert.ok(!t.includes(tok), 'a token in the metrics');
  for (const id of openids.filter(Boolean)) assert.ok(!t.includes(id), 'an openid in the metrics');
  assert.ok(!t.includes('/wx/nothing'), 'a raw path in the metrics');
  assert.ok(!t.includes('127.0.0.1'), 'an address in the metrics');
});

test('the management listener serves only /metrics, and the API port does not serve it', async () => {
  assert.equal((await scrape('/wx/auth/info')).status, 404);
  assert.equal((await scrape('/')).status, 404);
  assert.equal((await scrape('/metrics', 'POST')).status, 405);
  const head = await scrape('/metrics', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal((await scrape('/metrics?x=1')).status, 200);
  const api = await oa.get('/metrics');
  assert.equal(api.status, 404);
});

test('requests refused by a rate limit are counted by limit', async () => {
  const limited = await startMeetoa({
    wxemu: wx,
    appSecret: world.appSecret,
    config: { management: { server: { port: 0 } }, oa: { 'rate-limit': { 'login-ip': 1 } } },
  });
  try {
    const port = /management endpoint GET \/metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(limited.logs())[1];
    assertOk(await limited.login('metrics-limited-1'), 'first login');
    assertAnswer(await limited.login('metrics-limited-2'), 429, 429, 'second login over login-ip 1/min');
    const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.equal(sample(t, 'meetoa_rate_limited_total{limit="login-ip"}'), 1);
    assert.equal(sample(t, 'meetoa_rate_limited_total{limit="login-openid"}'), 0);
    assert.equal(sample(t, 'meetoa_http_requests_total{route="/wx/auth/login_by_weixin",errno="429"}'), 1);
  } finally {
    await limited.stop();
  }
});

test('promtool check metrics finds no problem', async () => {
  const { text } = await scrape();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.error, undefined, `promtool: ${r.error}`);
  assert.equal(r.status, 0, `promtool check metrics failed:\n${r.stdout}${r.stderr}`);
  assert.equal((r.stdout + r.stderr).trim(), '', `promtool lint output:\n${r.stdout}${r.stderr}`);
});

test('a real Prometheus scrapes meetoa and answers the login count by PromQL', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-prom-'));
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      'scrape_configs:',
      '  - job_name: meetoa',
      '    scrape_interval: 1s',
      '    scrape_timeout: 900ms',
      `    static_configs: [{targets: ["127.0.0.1:${mport}"]}]`,
      '',
    ].join('\n'),
  );
  let log = '';
  const prom = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prom.stdout.on('data', (d) => (log += d));
  prom.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    const query = async (q) => {
      const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
      const j = await r.json();
      assert.equal(j.status, 'success', JSON.stringify(j));
      return j.data.result;
    };
    await until(async () => {
      const r = await fetch(`${base}/-/ready`).catch(() => null);
      assert.equal(r?.status, 200, `prometheus not ready; its log:\n${log}`);
    }, 20000, 100);
    // One more login after Prometheus started: the query must see it, not only the first ones.
    assertOk(await oa.login('metrics-user-late'), 'late login');
    await until(async () => {
      const result = await query('meetoa_logins_total{job="meetoa"}');
      assert.equal(result.length, 1, `result ${JSON.stringify(result)}; log:\n${log}`);
      assert.equal(result[0].value[1], String(LOGINS + 1));
    }, 20000, 250);
    const up = await query('up{job="meetoa"}');
    assert.equal(up[0].value[1], '1');
    const rate = await query('sum(meetoa_http_requests_total{route="/wx/auth/login_by_weixin",errno="0"})');
    assert.equal(rate[0].value[1], String(LOGINS + 1));
    // Every query of docs/grafana-dashboard.json is valid PromQL that Prometheus evaluates.
    const dashboard = JSON.parse(readFileSync(path.join(SOURCE_DIR, 'docs/grafana-dashboard.json'), 'utf8'));
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length >= 14, `${exprs.length} dashboard queries`);
    for (const e of exprs) await query(e.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*'));
    // The logins panel's rate has a series once two scrapes are in.
    const loginsExpr = dashboard.panels.find((p) => p.title === 'Logins and refusals').targets[0].expr;
    await until(async () => {
      const logins = await query(loginsExpr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*'));
      assert.equal(logins.length, 1, 'the logins panel has a series');
      assert.ok(Number(logins[0].value[1]) >= 0);
    }, 10000, 250);
  } finally {
    prom.kill('SIGTERM');
    await new Promise((resolve) => (prom.exitCode !== null ? resolve() : prom.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
});
