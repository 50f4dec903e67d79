// meetoa.mjs — the black-box harness: starts a real `meetoa serve` against a wxemu and
// talks to it over HTTP, so that every test reads like the scenario it checks.
//
// startMeetoa() writes a YAML config into a fresh temp dir (a fresh database, random app
// secret and data key unless given), starts the binary named by MEETOA_BIN with port 0 and
// learns the port from the "listening on http://HOST:PORT" line on stderr. The returned handle
// keeps every byte the process wrote (logs()), stops it with SIGTERM and removes the dir and
// the database (stop()), or stops and starts it again on the same database (restart()).
//
// The database backend is chosen by the environment, so that every suite runs unchanged on
// both (CTest runs each suite twice):
//   MEETOA_TEST_DB unset or "sqlite"  a SQLite file in the temp dir (oa.sql uses sqlite3)
//   MEETOA_TEST_DB=mysql              a fresh database `meetoa_bb_<random>` on the MariaDB/MySQL
//                                     server of MEETOA_TEST_MYSQL_URL (or of the
//                                     MEETOA_TEST_MYSQL_URL line in the file named by
//                                     MEETOA_TEST_MYSQL_ENV_FILE, as `scripts/mariadb.sh start`
//                                     prints it); oa.sql uses the `mariadb` client
// Test SQL is written once for both: standard SQL ('' inside string literals, `||` concatenates,
// no backslash escapes: the mariadb client's session sets PIPES_AS_CONCAT and
// NO_BACKSLASH_ESCAPES), and for what differs the helpers nowEpochSql() and sqlHex().
//
// The helpers (login, info, logout, post, get, send) return {status, headers, body, json,
// errno, data} so a test asserts the HTTP status and the API envelope in one place.
//
// Only node built-ins are used (node:test runs these files with Node 20, no npm packages).

import { spawn, execFile } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';

import { startWxemu } from './wxemu.mjs';

export const SOURCE_DIR =
  process.env.MEETOA_SOURCE_DIR ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const MEETOA_BIN = process.env.MEETOA_BIN ?? path.join(SOURCE_DIR, 'build/meetoa');

/** The mini program every suite logs into unless it says otherwise. */
export const APP_ID = 'wxtestapp000000001';

/** Servers still running, killed if the test process exits without stopping them. */
const running = new Set();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

const START_DEADLINE_MS = 15000; // ASan builds start slowly on a busy machine
const STOP_DEADLINE_MS = 10000;

/** A fresh random app secret (32 hex characters, like WeChat's). */
export function newSecret() {
  return randomBytes(16).toString('hex');
}

/** A fresh oa.security.data-key: the base64 of 32 random bytes. */
export function newDataKey() {
  return randomBytes(32).toString('base64');
}

// ---------------------------------------------------------------------------------------
// Configuration

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else (and null = delete) replaces. */
export function mergeConfig(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (v === null) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k])) out[k] = mergeConfig(out[k], v);
    else out[k] = v;
  }
  return out;
}

/** Block-style YAML with every string JSON-quoted (valid YAML, no surprises with ':' or '#'). */
export function toYaml(obj, indent = '') {
  let s = '';
  for (const [k, v] of Object.entries(obj)) {
    if (isPlainObject(v)) s += `${indent}${k}:\n${toYaml(v, indent + '  ')}`;
    else if (typeof v === 'string') s += `${indent}${k}: ${JSON.stringify(v)}\n`;
    else s += `${indent}${k}: ${v}\n`;
  }
  return s;
}

/** The config as YAML with the app secret and data key blanked, for failure messages. */
function redacted(config) {
  const over = { oa: { wx: { 'app-secret': '<redacted>' }, security: { 'data-key': '<redacted>' } } };
  if (config.oa?.security?.['previous-data-keys'] != null) over.oa.security['previous-data-keys'] = '<redacted>';
  const url = config.oa?.datasource?.url;
  if (typeof url === 'string') over.oa.datasource = { url: url.replace(/^(mysql:\/\/[^:@/]*:)[^@/]*@/, '$1<redacted>@') };
  return toYaml(mergeConfig(config, over));
}

/** Every oa.rate-limit.* key off: the suites log many users in from 127.0.0.1 (rate_limit.test.mjs turns them on). */
export const RATE_LIMITS_OFF = {
  'login-ip': 0,
  'login-openid': 0,
  'phone-ip': 0,
  'phone-openid': 0,
  'upload-ip': 0,
  'upload-openid': 0,
};

function baseConfig({ wxBase, appId, appSecret, dataKey, dbPath, dbUrl }) {
  return {
    server: { host: '127.0.0.1', port: 0, threads: 2, 'max-body-bytes': 65536 },
    logging: { level: 'debug' },
    oa: {
      wx: { 'app-id': appId, 'app-secret': appSecret, 'api-base': wxBase, 'timeout-ms': 1000 },
      token: { header: 'X-OA-Token', 'expire-seconds': 7200, 'cache-seconds': 5 },
      datasource: { url: dbUrl ?? `sqlite:${dbPath}` },
      security: { 'data-key': dataKey },
      'rate-limit': { ...RATE_LIMITS_OFF },
    },
  };
}

/**
 * The config startMeetoa would write, as an object, for suites that write their own file:
 * {appSecret, dataKey} and dbPath (a SQLite file) or dbUrl (any oa.datasource.url, e.g. the
 * url of newDatabase()) required; wxBase defaults to a closed port, appId to APP_ID.
 * Change it with mergeConfig (null deletes a key) and write it with toYaml.
 */
export function defaultConfig({ wxBase = 'http://127.0.0.1:9', appId = APP_ID, appSecret, dataKey, dbPath, dbUrl }) {
  return baseConfig({ wxBase, appId, appSecret, dataKey, dbPath, dbUrl });
}

// The caller's environment must not change the config we wrote (env wins over the file).
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(SERVER|OA|LOGGING)_/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------
// Process handling

function waitExit(proc, ms) {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
    }, ms);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Starts `meetoa serve --config FILE`.
 *   wxemu    the handle of startWxemu() (its base becomes oa.wx.api-base)
 *   appId    oa.wx.app-id (default APP_ID)
 *   appSecret oa.wx.app-secret (default: a fresh random one; give wxemu the same)
 *   dataKey  oa.security.data-key (default: a fresh random one)
 *   config   overrides merged into the generated config (null deletes a key)
 *   env      extra environment variables
 *   dir      reuse this directory (database and config) instead of a fresh one; on MySQL the
 *            database recorded in it is reused (as the SQLite file in it would be)
 * Returns a handle; see the top of this file.
 */
export async function startMeetoa(opts = {}) {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'meetoa-bb-'));
  const db = await openDatabase(dir);
  try {
    return await launchMeetoa(opts, dir, db);
  } catch (e) {
    if (opts.dir === undefined) {
      await db.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
    throw e;
  }
}

async function launchMeetoa(opts, dir, db) {
  const dbPath = db.dbPath;
  const appSecret = opts.appSecret ?? newSecret();
  const dataKey = opts.dataKey ?? newDataKey();
  const config = mergeConfig(
    baseConfig({
      wxBase: opts.wxBase ?? opts.wxemu?.base ?? 'http://127.0.0.1:9',
      appId: opts.appId ?? APP_ID,
      appSecret,
      dataKey,
      dbUrl: db.url,
    }),
    opts.config,
  );
  const configPath = path.join(dir, 'application.yml');
  writeFileSync(configPath, toYaml(config));

  const proc = spawn(MEETOA_BIN, ['serve', '--config', configPath], {
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let output = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));

  const port = await new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      proc.stderr.off('data', onData);
      proc.off('exit', onExit);
      proc.kill('SIGKILL');
      reject(new Error(`meetoa ${why}; its output:\n${output}\nconfig (secrets redacted):\n${redacted(config)}`));
    };
    const onData = () => {
      const m = /listening on http:\/\/[^\s:]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        proc.stderr.off('data', onData);
        proc.off('exit', onExit);
        resolve(Number(m[1]));
      }
    };
    const onExit = (code, signal) => fail(`exited (code ${code}, signal ${signal}) before listening`);
    const timer = setTimeout(() => fail(`did not log "listening on" within ${START_DEADLINE_MS} ms`), START_DEADLINE_MS);
    proc.stderr.on('data', onData);
    proc.on('exit', onExit);
    proc.on('error', (e) => fail(`could not be started (${e.message}); MEETOA_BIN=${MEETOA_BIN}`));
  });

  const base = `http://127.0.0.1:${port}`;
  const tokenHeader = config.oa.token.header;
  const m = {
    base,
    port,
    proc,
    dir,
    /** The SQLite file (null on MySQL). */
    dbPath,
    /** 'sqlite' or 'mysql': the backend this process runs on. */
    dialect: db.dialect,
    /** The database handle (see newDatabase()). */
    db,
    configPath,
    config,
    appSecret,
    dataKey,
    wxemu: opts.wxemu,
    /** Everything the process wrote on stdout and stderr so far. */
    logs: () => output,
    /**
     * SIGTERM, wait for the exit, remove the dir and the database unless keepDir. Returns
     * {code, signal}. Safe to call twice.
     */
    async stop({ keepDir = false } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const r = await waitExit(proc, STOP_DEADLINE_MS);
      if (!keepDir) {
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
      return r;
    },
    /** Stops (keeping the database) and starts again; opts as startMeetoa (config merges on top). */
    async restart(more = {}) {
      const exit = await m.stop({ keepDir: true });
      const next = await startMeetoa({
        ...opts,
        dir,
        appSecret,
        dataKey,
        ...more,
        config: mergeConfig(opts.config ?? {}, more.config ?? {}),
      });
      next.previousExit = exit;
      return next;
    },
    // --- HTTP helpers -------------------------------------------------------------------
    send: (method, p, body, headers) => send(base, method, p, body, headers),
    post: (p, body, headers) => send(base, 'POST', p, body, headers),
    get: (p, headers) => send(base, 'GET', p, undefined, headers),
    /** POST /wx/auth/login_by_weixin with {code, userInfo}; userInfo omitted when undefined. */
    loginWithCode: (code, userInfo, headers) =>
      send(base, 'POST', '/wx/auth/login_by_weixin', userInfo === undefined ? { code } : { code, userInfo }, headers),
    /** A fresh wxemu code for `user`, then login_by_weixin. */
    async login(user, userInfo, { appId = opts.appId ?? APP_ID } = {}) {
      const code = await opts.wxemu.newCode(appId, user);
      const r = await m.loginWithCode(code, userInfo);
      r.code = code;
      return r;
    },
    /** login() that must succeed; returns the token. */
    async loginOk(user, userInfo) {
      const r = await m.login(user, userInfo);
      assertOk(r, `login of ${user}`);
      return r.data.token;
    },
    /** GET /wx/auth/info with the token in the configured header (or `headers` as given). */
    info: (token, headers) => send(base, 'GET', '/wx/auth/info', undefined, headers ?? { [tokenHeader]: token }),
    logout: (token, headers) => send(base, 'POST', '/wx/auth/logout', undefined, headers ?? { [tokenHeader]: token }),
    /** POST /wx/auth/bindPhone with body (JSON, or a string/Buffer as is); no token header when token is null. */
    bindPhone: (token, body) => send(base, 'POST', '/wx/auth/bindPhone', body, token == null ? {} : { [tokenHeader]: token }),
    /** POST /wx/auth/profile with body (JSON, or a string/Buffer as is); no token header when token is null. */
    profile: (token, body) => send(base, 'POST', '/wx/auth/profile', body, token == null ? {} : { [tokenHeader]: token }),
    /** GET /wx/auth/check_session; no token header when token is null. */
    checkSession: (token) => send(base, 'GET', '/wx/auth/check_session', undefined, token == null ? {} : { [tokenHeader]: token }),
    /** POST /wx/storage/upload of bytes as the multipart field `file`; see upload() below. */
    upload: (token, bytes, filename, contentType, more) => upload(base, tokenHeader, token, bytes, filename, contentType, more),
    // --- database helpers ---------------------------------------------------------------
    /** `meetoa user --config FILE status OPENID STATUS` (0 active, 1 disabled, 2 closed). */
    setUserStatus: (openid, status) =>
      run(MEETOA_BIN, ['user', '--config', configPath, 'status', openid, String(status)], cleanEnv(opts.env)),
    /**
     * Runs SQL on the database (sqlite3 or mariadb client); returns the rows as arrays of
     * strings. Write it for both backends (see the top of this file).
     */
    sql: (query) => db.sql(query),
  };
  return m;
}

// ---------------------------------------------------------------------------------------
// HTTP

/**
 * One request. body: undefined (none), a string or Buffer (sent as is), anything else
 * (JSON-encoded). Returns {status, headers, body (Buffer), text, json (or undefined),
 * errno, errmsg, data}.
 */
export async function send(base, method, p, body, headers = {}) {
  let payload;
  if (body === undefined) payload = undefined;
  else if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
  else payload = JSON.stringify(body);
  const res = await fetch(base + p, {
    method,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return readResponse(res);
}

/**
 * One request with node:http, path and headers exactly as given (fetch() would normalise the
 * path and refuse some headers). Host is sent unless headers has one. Same result as send().
 */
export function rawRequest(port, method, rawPath, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers, setHost: !('Host' in headers) });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve(
          readResponse({
            status: res.statusCode,
            headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
            arrayBuffer: async () => buf,
          }),
        );
      });
    });
    req.end(body);
  });
}

/**
 * A multipart/form-data body written by hand, bytes and all (fetch's FormData would clean
 * names and types). parts: {name, filename?, type?, data}; the part headers are encoded as
 * `encoding`; `close: false` leaves out the closing boundary.
 */
export function multipart(parts, { boundary = `----meetoa${randomBytes(8).toString('hex')}`, close = true, encoding = 'utf8' } = {}) {
  const chunks = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type !== undefined) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(head + '\r\n', encoding), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The result shape of send() from a fetch() Response. */
export async function readResponse(res) {
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    headers: res.headers,
    body: buf,
    text,
    json,
    errno: json?.errno,
    errmsg: json?.errmsg,
    data: json?.data,
  };
}

/**
 * POST /wx/storage/upload as multipart/form-data built by fetch's own FormData (as a real
 * client does): one field `field` (default "file") holding bytes as a Blob named filename
 * with the given content type. token goes in tokenHeader unless null. Same result as send().
 */
export async function upload(base, tokenHeader, token, bytes, filename = 'avatar.png', contentType = 'image/png', { field = 'file', headers = {} } = {}) {
  const form = new FormData();
  form.append(field, new Blob([bytes], { type: contentType }), filename);
  const h = token == null ? { ...headers } : { [tokenHeader]: token, ...headers };
  const res = await fetch(base + '/wx/storage/upload', { method: 'POST', headers: h, body: form });
  return readResponse(res);
}

/** The errmsg of each errno, from docs/api.md. */
export const ERRMSG = {
  0: '成功',
  401: '参数不对',
  402: '参数值不对',
  404: '接口不存在',
  405: '请求方法不支持',
  413: '请求体过大',
  429: '请求过于频繁，请稍后再试',
  501: '请登录',
  502: '系统内部错误',
  710: '登录凭证 code 无效或已过期，请重新调用 wx.login 获取',
  711: '登录凭证 code 已被使用，请重新调用 wx.login 获取',
  712: '微信系统繁忙，请重新获取 code 后重试',
  713: '登录过于频繁，请稍后重新获取 code 再试',
  714: '该微信用户存在风险，已被微信拦截登录',
  715: '微信服务暂时不可用，请重新获取 code 后重试',
  720: '账号已被禁用',
  721: '账号已注销',
  705: '手机号已注册',
  730: '手机号获取凭证 code 无效或已过期，请使用手机号按钮（getPhoneNumber）返回的 code 重试，不是 wx.login 的 code',
  731: '手机号快速验证额度已用完，请联系管理员',
  732: '数据不属于本小程序',
  733: '登录状态已失效，请重新登录后再试',
  734: '用户数据签名校验失败',
  740: '只能上传 PNG、JPEG 或 WebP 图片',
  741: '文件过大',
};

function describe(r) {
  return `HTTP ${r.status} ${r.text.slice(0, 300)}`;
}

/** Asserts the API envelope: HTTP status, JSON content type, errno and its errmsg. */
export function assertAnswer(r, status, errno, what = '') {
  const where = what ? `${what}: ` : '';
  assert.equal(r.status, status, `${where}HTTP status; got ${describe(r)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json;\s*charset=utf-8$/i, `${where}content-type`);
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `${where}JSON object body; got ${describe(r)}`);
  assert.equal(r.errno, errno, `${where}errno; got ${describe(r)}`);
  assert.equal(r.errmsg, ERRMSG[errno], `${where}errmsg of ${errno}`);
}

/** errno 0 with HTTP 200. */
export function assertOk(r, what) {
  assertAnswer(r, 200, 0, what);
}

/** An API error answered with HTTP 200 (the endpoint exists). */
export function assertErr(r, errno, what) {
  assertAnswer(r, 200, errno, what);
  assert.equal(r.data, undefined, `${what ?? ''}: an error carries no data; got ${describe(r)}`);
}

/** The token shape: 43 characters of base64url (32 bytes, no padding). */
export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** Polls fn() every `every` ms until it returns truthy or `ms` passed; returns the last value. */
export async function eventually(fn, ms, every = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= end) return v;
    await sleep(every);
  }
}

// ---------------------------------------------------------------------------------------
// Child programs

/** Runs a program; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
export function run(file, args, env = process.env, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, timeout: 15000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(new Error(`${file} ${args.join(' ')}: ${err.message}`));
      else resolve({ code: err ? err.code : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/**
 * Runs `meetoa ...args` to its exit, with the caller's SERVER_*, OA_* and LOGGING_* variables
 * removed and `env` added (as startMeetoa does). A process still running after timeoutMs is
 * SIGKILLed. Resolves {code (null when killed), signal, stdout, stderr, ms (wall time)}.
 */
export function runMeetoa(args, { env, timeoutMs = 15000 } = {}) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const opts = { env: cleanEnv(env), timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' };
    execFile(MEETOA_BIN, args, opts, (err, stdout, stderr) => {
      const ms = Date.now() - t0;
      if (err && typeof err.code !== 'number' && !err.signal)
        reject(new Error(`meetoa ${args.join(' ')}: ${err.message}; MEETOA_BIN=${MEETOA_BIN}`));
      else
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, signal: err?.signal ?? null, stdout, stderr, ms });
    });
  });
}

/** SQL through the sqlite3 CLI (waits up to 5 s for the server's locks). Rows of strings. */
export async function sqlite(dbPath, query) {
  const r = await run('sqlite3', ['-batch', '-noheader', '-separator', '\t', '-cmd', '.timeout 5000', dbPath], process.env, query + '\n');
  if (r.code !== 0) throw new Error(`sqlite3 ${dbPath}: ${query}: exit ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/**
 * An SQL string literal, the same on both backends: '' for a quote, a backslash as is (the
 * mariadb client sessions of this file run with NO_BACKSLASH_ESCAPES).
 */
export function sqlText(s) {
  return `'${String(s).replaceAll("'", "''")}'`;
}

// ---------------------------------------------------------------------------------------
// Database backends

/** 'sqlite' or 'mysql': the backend of this test run (MEETOA_TEST_DB). */
export const DB_DIALECT = (() => {
  const v = (process.env.MEETOA_TEST_DB ?? '').trim().toLowerCase();
  if (v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'mysql' || v === 'mariadb') return 'mysql';
  throw new Error(`MEETOA_TEST_DB=${process.env.MEETOA_TEST_DB}: want sqlite or mysql`);
})();

function dialectOf(x) {
  const d = typeof x === 'string' ? x : (x?.dialect ?? DB_DIALECT);
  if (d !== 'sqlite' && d !== 'mysql') throw new Error(`unknown SQL dialect ${d}`);
  return d;
}

/** SQL for the current time in epoch seconds (an integer), for oa (a handle) or a dialect. */
export function nowEpochSql(oa) {
  return dialectOf(oa) === 'mysql' ? 'UNIX_TIMESTAMP()' : "CAST(strftime('%s','now') AS INTEGER)";
}

/** SQL for the bytes of expr as lower-case hex, the same on both backends. */
export function sqlHex(expr) {
  return `lower(hex(${expr}))`;
}

const MYSQL_DB_FILE = 'mysql-database'; // in a meetoa dir: the name of its MySQL database

/**
 * The MariaDB/MySQL server of the tests: MEETOA_TEST_MYSQL_URL, else that line of the file
 * MEETOA_TEST_MYSQL_ENV_FILE (the output of `scripts/mariadb.sh start`). Parsed once.
 */
let mysqlServer;
function testMysqlServer() {
  if (mysqlServer) return mysqlServer;
  let url = process.env.MEETOA_TEST_MYSQL_URL;
  const file = process.env.MEETOA_TEST_MYSQL_ENV_FILE;
  if (!url && file) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`MEETOA_TEST_MYSQL_ENV_FILE=${file}: ${e.message} (did scripts/mariadb.sh start run?)`);
    }
    url = /^MEETOA_TEST_MYSQL_URL=(.*)$/m.exec(text)?.[1]?.trim();
    if (!url) throw new Error(`${file} has no MEETOA_TEST_MYSQL_URL line`);
  }
  if (!url) throw new Error('MEETOA_TEST_DB=mysql needs MEETOA_TEST_MYSQL_URL or MEETOA_TEST_MYSQL_ENV_FILE (see scripts/mariadb.sh)');
  const m = /^mysql:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?]*)(?::(\d+))?(?:\/[^?]*)?(?:\?(.*))?$/.exec(url);
  if (!m) throw new Error('MEETOA_TEST_MYSQL_URL is not mysql://user:password@host:port/db');
  const query = new URLSearchParams(m[5] ?? '');
  mysqlServer = {
    user: decodeURIComponent(m[1] ?? ''),
    password: m[2] === undefined ? undefined : decodeURIComponent(m[2]),
    host: m[3] || 'localhost',
    port: m[4] ? Number(m[4]) : 3306,
    socket: query.get('socket') ?? undefined,
    /** The URL of database `name` on this server (the test URL with its path replaced). */
    urlOf: (name) => url.replace(/^(mysql:\/\/[^/?]*)(?:\/[^?]*)?/, `$1/${name}`),
  };
  return mysqlServer;
}

/**
 * Runs SQL with the `mariadb` client on database `name` (none when null) of the test server.
 * The password goes in MYSQL_PWD, never on the command line. Rows of strings, like sqlite():
 * tab-separated, batch escapes (\n, \t, \0, \\) undone, NULL as "NULL", empty lines dropped.
 */
export async function mysqlQuery(name, query) {
  const s = testMysqlServer();
  const args = [
    '--no-defaults',
    '--batch',
    '--skip-column-names',
    '--default-character-set=utf8mb4',
    `--user=${s.user}`,
    "--init-command=SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'PIPES_AS_CONCAT,NO_BACKSLASH_ESCAPES')",
  ];
  if (s.socket) args.push(`--socket=${s.socket}`);
  else args.push(`--host=${s.host}`, `--port=${s.port}`, '--protocol=TCP');
  if (name) args.push(`--database=${name}`);
  const env = { ...process.env, MYSQL_PWD: s.password ?? '' };
  const r = await run('mariadb', args, env, query + '\n');
  if (r.code !== 0) throw new Error(`mariadb ${name ?? ''}: ${query}: exit ${r.code}: ${r.stderr}`);
  const unescape = (f) => f.replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', 0: '\0', '\\': '\\' })[c] ?? c);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t').map(unescape));
}

function sqliteDatabase(dir) {
  const dbPath = path.join(dir, 'meetoa.db');
  return {
    dialect: 'sqlite',
    name: dbPath,
    dbPath,
    url: `sqlite:${dbPath}`,
    sql: (query) => sqlite(dbPath, query),
    drop: async () => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbPath + suffix, { force: true });
    },
  };
}

function mysqlDatabase(name) {
  let dropped = false;
  return {
    dialect: 'mysql',
    name,
    dbPath: null,
    url: testMysqlServer().urlOf(name),
    sql: (query) => mysqlQuery(name, query),
    async drop() {
      if (dropped) return;
      await mysqlQuery(null, `DROP DATABASE IF EXISTS \`${name}\`;`);
      dropped = true;
    },
  };
}

/**
 * A fresh, empty database of the backend under test (DB_DIALECT):
 *   sqlite  the file DIR/meetoa.db (dir required)
 *   mysql   CREATE DATABASE meetoa_bb_<random> CHARACTER SET utf8mb4 on the test server; its
 *           name is recorded in DIR (when given) so that a meetoa started on DIR again uses it
 * Returns {dialect, name, dbPath (SQLite only, else null), url (for oa.datasource.url),
 * sql(query) (rows of strings), drop() (idempotent)}.
 */
export async function newDatabase({ dir } = {}) {
  if (DB_DIALECT === 'sqlite') {
    if (!dir) throw new Error('newDatabase: a SQLite database needs a dir');
    return sqliteDatabase(dir);
  }
  const name = `meetoa_bb_${randomBytes(8).toString('hex')}`;
  await mysqlQuery(null, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`);
  if (dir) writeFileSync(path.join(dir, MYSQL_DB_FILE), name + '\n');
  return mysqlDatabase(name);
}

/** The database of a meetoa dir: the one recorded there (MySQL) or its file, else a new one. */
async function openDatabase(dir) {
  if (DB_DIALECT === 'sqlite') return sqliteDatabase(dir);
  const file = path.join(dir, MYSQL_DB_FILE);
  if (existsSync(file)) return mysqlDatabase(readFileSync(file, 'utf8').trim());
  return newDatabase({ dir });
}

/** The shape of a WeChat session_key (base64 of 16 bytes) anywhere in a text. */
export const SESSION_KEY_SHAPE = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{22}==(?![A-Za-z0-9+/=])/;

// ---------------------------------------------------------------------------------------
// wxemu + meetoa together

/**
 * Starts a wxemu that knows APP_ID (plus `otherApps`, each {appid, secret}) and a meetoa
 * configured for APP_ID with the same secret. opts.meetoa goes to startMeetoa.
 * Returns {wx, oa, appSecret, stop()}.
 */
export async function startWorld({ otherApps = [], latencyMs = 0, meetoa = {} } = {}) {
  const appSecret = newSecret();
  const wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }, ...otherApps], latencyMs });
  let oa;
  try {
    oa = await startMeetoa({ wxemu: wx, appSecret, ...meetoa });
  } catch (e) {
    await wx.stop();
    throw e;
  }
  return {
    wx,
    oa,
    appSecret,
    async stop() {
      try {
        await oa.stop();
      } finally {
        await wx.stop();
      }
    },
  };
}

/** How many jscode2session calls wxemu has answered so far. */
export async function jscode2sessionCalls(wx) {
  const s = await wx.stats();
  assert.ok(s && typeof s === 'object', `wxemu stats(): ${JSON.stringify(s)}`);
  const n = s['/sns/jscode2session'] ?? 0; // a path appears once it is called
  assert.equal(typeof n, 'number', `wxemu stats(): ${JSON.stringify(s)}`);
  return n;
}

/**
 * The sqlite3 CLI holding the database's write lock (BEGIN EXCLUSIVE; in WAL mode readers
 * still read). Resolves once the lock is held; release() rolls back and ends the CLI.
 */
export async function holdWriteLock(dbPath) {
  const proc = spawn('sqlite3', ['-batch', dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  proc.stdin.write(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'lock ' || 'held';\n");
  const held = await eventually(() => out.includes('lock held') || proc.exitCode !== null, 15000, 20);
  if (!held || !out.includes('lock held')) {
    proc.kill('SIGKILL');
    throw new Error(`sqlite3 could not take the lock: ${out}`);
  }
  return {
    async release() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((resolve) => {
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
        proc.once('exit', () => resolve(clearTimeout(timer)));
      });
      proc.stdin.end('ROLLBACK;\n.quit\n');
      await exited;
    },
  };
}
