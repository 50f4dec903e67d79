// security.test.mjs — the threats of docs/security.md, each as a scenario against the real
// binaries (on both backends):
//   - secrets: no session_key, app secret, access_token, token or data key (current and
//     previous; base64, base64url and hex) in any log line at any level, nor in any answer
//     (a token only in the answer of the login that made it), through every flow and failure;
//   - tokens: one minted by another instance with another data key on the same database is
//     refused; any alteration of a token is refused, on every logged-in endpoint; a disabled,
//     closed or deleted user's live token opens no endpoint (session.test.mjs checks login and
//     info for these, and missing / Bearer / malformed tokens);
//   - injection: SQL meta-characters in every string field are stored verbatim or refused, never
//     executed; NUL bytes (JSON \u0000, %00, raw in headers and multipart names) are refused,
//     never stored truncated; WeChat query parameters cannot be smuggled in a code;
//   - uploads: HTML or SVG is refused whatever its name or type; a PNG carrying HTML is served
//     only as image/png with nosniff and a sandboxing CSP; no path reaches outside the upload
//     folder (upload.test.mjs covers the accepted types and more names).
// A recording proxy between meetoa and wxemu sees every session_key and access_token that
// WeChat gave, so the secret checks look for exactly those.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  startWorld,
  startMeetoa,
  newDataKey,
  APP_ID,
  assertOk,
  assertErr,
  assertAnswer,
  rawRequest,
  multipart,
  eventually,
  sqlText,
  sqlHex,
  TOKEN_RE,
} from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';

const CACHE_SECONDS = 1;
const KEY_RE = /^[0-9a-f]{32}\.(png|jpg|webp)$/;

let world, oa, wx, storageRoot, storageDir;

before(async () => {
  storageRoot = mkdtempSync(path.join(tmpdir(), 'meetoa-security-'));
  storageDir = path.join(storageRoot, 'uploads');
  world = await startWorld({
    meetoa: { config: { oa: { token: { 'cache-seconds': CACHE_SECONDS }, storage: { dir: storageDir } } } },
  });
  ({ oa, wx } = world);
  mkdirSync(storageDir);
});

after(async () => {
  await world?.stop();
  if (storageRoot) rmSync(storageRoot, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Helpers



const HTML = '<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n';
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="1"/></svg>\n';

/**
 * Raw HTTP/1.1 over a socket, bytes exactly as given (NUL included, no normalisation of the
 * path). Resolves {status, head, body} (status 0 when the server closed without answering).
 */
function rawHttp(port, bytes) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => (e.code === 'ECONNRESET' ? sock.destroy() : reject(e)));
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = split < 0 ? all.toString('latin1') : all.subarray(0, split).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: split < 0 ? Buffer.alloc(0) : all.subarray(split + 4) });
    });
    sock.end(bytes);
  });
}



/**
 * A recording proxy in front of wxemu: meetoa talks to WeChat through it, and it keeps every
 * session_key and access_token WeChat answered, so that the tests know the real secrets.
 */
async function startSpy(target) {
  const sessionKeys = new Set();
  const accessTokens = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const headers = req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {};
        const r = await fetch(target.base + req.url, { method: req.method, headers, body });
        const text = await r.text();
        try {
          const json = JSON.parse(text);
          if (typeof json.session_key === 'string') sessionKeys.add(json.session_key);
          if (typeof json.access_token === 'string') accessTokens.add(json.access_token);
        } catch {
          // not JSON (a fault): nothing to record
        }
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
        res.end(text);
      } catch {
        res.destroy(); // wxemu dropped the connection: do the same
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    sessionKeys,
    accessTokens,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The texts under which a secret could leak: itself, and for base64 keys their other forms. */
function forms(secret) {
  const out = [secret];
  if (/^[A-Za-z0-9+/]+=*$/.test(secret) && secret.length >= 16) {
    const bytes = Buffer.from(secret, 'base64');
    out.push(bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64url'));
  }
  if (TOKEN_RE.test(secret)) out.push(Buffer.from(secret, 'base64url').toString('hex'));
  return out;
}

/** Asserts that no 16-character piece of any form of any secret occurs in text. */
function assertNoSecret(text, secrets, where) {
  for (const [name, secret] of secrets) {
    for (const form of forms(secret)) {
      for (let i = 0; i + 16 <= form.length; i += 4) {
        const piece = form.slice(i, i + 16);
        assert.ok(!text.includes(piece), `${where}: a piece of ${name} (${form === secret ? 'as is' : 'another form'}) appears`);
      }
    }
  }
}

function responseText(r) {
  return `${r.status}\n${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.text}`;
}

let serial = 0;
/** A user name unique in this file. */
function newUser(prefix) {
  serial++;
  return `${prefix}-${serial}`;
}

let phoneSerial = 0;
function newPhone() {
  phoneSerial++;
  return `136${String(process.pid % 1000).padStart(3, '0')}${String(phoneSerial).padStart(5, '0')}`;
}

const minted = []; // every token the main server gave in this file, for the last check

/** Logs a fresh user in on server s; returns {token, openid, user}. */
async function loginFresh(s, prefix, userInfo) {
  const user = newUser(prefix);
  const { code, openid } = await wx.newLogin(APP_ID, user);
  const r = await s.loginWithCode(code, userInfo);
  assertOk(r, `login of ${user}`);
  if (s === oa) minted.push(r.data.token);
  return { token: r.data.token, openid, user };
}

/** A fresh login code of a fresh user. */
const freshCode = () => wx.newCode(APP_ID, newUser('code'));

/** Every endpoint a token opens, each called as a client would, with `headers` as the token. */
function loggedInCalls(s, headers) {
  const form = multipart([{ name: 'file', filename: 'a.png', type: 'image/png', data: tinyPng() }], { encoding: 'latin1' });
  return [
    ['info', () => s.get('/wx/auth/info', headers)],
    ['profile', () => s.post('/wx/auth/profile', { nickname: 'Changed' }, headers)],
    ['bindPhone', () => s.post('/wx/auth/bindPhone', { code: 'any-phone-code' }, headers)],
    ['check_session', () => s.get('/wx/auth/check_session', headers)],
    ['upload', () => s.post('/wx/storage/upload', form.body, { ...headers, 'content-type': form.contentType })],
    ['logout', () => s.post('/wx/auth/logout', undefined, headers)],
  ];
}

// ---------------------------------------------------------------------------------------
// Secrets

describe('no secret in any log line or answer, at every log level', () => {
  // [level, a line the flows must log at that level, so that the check has something to read]
  const levels = [
    ['error', /WeChat refused our request/],
    ['warn', /WeChat refused our request/],
    ['info', /login refused by WeChat/],
    ['debug', /login refused by WeChat/],
  ];
  for (const [level, expected] of levels) {
    test(`logging.level ${level}`, async () => {
      const spy = await startSpy(wx);
      const previous = newDataKey();
      const current = newDataKey();
      const answers = []; // [what, response]; login answers carry their own token
      const tokens = [];
      const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-secrets-'));
      let s;
      let logs = '';
      try {
        // Phase 1: sessions made under what becomes the previous key. At error and warn level
        // the port still reaches stderr, so the harness starts meetoa at any level.
        s = await startMeetoa({
          dir,
          wxemu: wx,
          wxBase: spy.base,
          appSecret: world.appSecret,
          dataKey: previous,
          config: { logging: { level }, oa: { storage: { dir: path.join(dir, 'uploads') } } },
        });
        const old = await s.login('secret-old', { nickName: 'Old', avatarUrl: '', gender: 1 });
        assertOk(old);
        answers.push(['login before rotation', old]);
        tokens.push(old.data.token);
        // Phase 2: rotated, on the same database; the old session is used through every flow
        // that opens its session_key.
        const first = s;
        s = await first.restart({ dataKey: current, config: { oa: { security: { 'previous-data-keys': previous } } } });
        assert.deepEqual(s.previousExit, { code: 0, signal: null });
        logs += first.logs();
        const run = async (what, p) => {
          const r = await p;
          answers.push([what, r]);
          return r;
        };
        const oldToken = old.data.token;
        assertOk(await run('info (previous key)', s.info(oldToken)));
        const e = await wx.encrypted(APP_ID, 'secret-old', 'phone', { phone: newPhone() });
        assertOk(await run('legacy bindPhone (previous key)', s.bindPhone(oldToken, { encryptedData: e.encryptedData, iv: e.iv })));
        assertOk(await run('check_session (previous key)', s.checkSession(oldToken)));

        // Logins of every kind under the current key.
        const user = 'secret-user';
        const plain = await run('login', s.login(user, { nickName: 'Sec', avatarUrl: '', gender: 2 }));
        assertOk(plain);
        tokens.push(plain.data.token);
        const token = plain.data.token;
        const raw = await wx.encrypted(APP_ID, user, 'userinfo', { nickName: 'Raw' }); // made with the session_key of the login above
        assertOk(await run('info', s.info(token)));
        const code2 = await wx.newCode(APP_ID, 'secret-raw');
        const rawInfo = await wx.encrypted(APP_ID, 'secret-raw', 'userinfo', { nickName: 'Raw' });
        const rawLogin = await run('login with rawData', s.post('/wx/auth/login_by_weixin', { code: code2, rawData: rawInfo.rawData, signature: rawInfo.signature }));
        assertOk(rawLogin);
        tokens.push(rawLogin.data.token);
        const code3 = await wx.newCode(APP_ID, 'secret-enc');
        const encInfo = await wx.encrypted(APP_ID, 'secret-enc', 'userinfo', { nickName: 'Enc' });
        const encLogin = await run('login with encryptedData', s.post('/wx/auth/login_by_weixin', { code: code3, encryptedData: encInfo.encryptedData, iv: encInfo.iv }));
        assertOk(encLogin);
        tokens.push(encLogin.data.token);
        const phoneLogin = await run('login with phoneCode', s.post('/wx/auth/login_by_weixin', {
          code: await wx.newCode(APP_ID, 'secret-phone'),
          phoneCode: await wx.phoneCode(APP_ID, 'secret-phone', newPhone()),
        }));
        assertOk(phoneLogin);
        tokens.push(phoneLogin.data.token);

        // Logged-in flows.
        assertOk(await run('profile', s.profile(token, { nickname: 'Sec 2', avatar: 'https://example.com/a.png' })));
        assertOk(await run('bindPhone code', s.bindPhone(token, { code: await wx.phoneCode(APP_ID, user, newPhone()) })));
        assertErr(await run('legacy bindPhone with userinfo data', s.bindPhone(token, { encryptedData: raw.encryptedData, iv: raw.iv })), 402);
        const e2 = await wx.encrypted(APP_ID, user, 'phone', { phone: newPhone() });
        assertOk(await run('legacy bindPhone', s.bindPhone(token, { encryptedData: e2.encryptedData, iv: e2.iv })));
        assertOk(await run('check_session', s.checkSession(token)));
        const up = await run('upload', s.upload(token, tinyPng(), 'a.png', 'image/png'));
        assertOk(up);
        assert.equal((await run('fetch', s.get(`/wx/storage/fetch/${up.data.key}`))).status, 200);
        assertErr(await run('upload HTML', s.upload(token, Buffer.from(HTML), 'a.png', 'image/png')), 740);

        // Bad tokens.
        assertErr(await run('unknown token', s.info(randomBytes(32).toString('base64url'))), 501);
        assertErr(await run('tampered token', s.info((token[0] === 'A' ? 'B' : 'A') + token.slice(1))), 501);
        assertErr(await run('malformed token', s.info(`${token}=`)), 501);

        // WeChat failures: user faults, configuration faults, broken answers.
        for (const fault of [
          { errcode: 40029 },
          { errcode: 40163 },
          { errcode: -1 },
          { errcode: 45011 },
          { errcode: 40226 },
          { errcode: 40013 }, // invalid appid: a configuration fault, logged at error level
          { errcode: 40125 }, // invalid secret
          { http_status: 502 },
          { malformed: true },
          { drop: true },
        ]) {
          const code = await wx.newCode(APP_ID, 'secret-fault');
          await wx.faults({ path: '/sns/jscode2session', code, ...fault });
          const r = await run(`login, WeChat fault ${JSON.stringify(fault)}`, s.loginWithCode(code));
          assert.notEqual(r.errno, 0, JSON.stringify(fault));
        }
        await wx.faults({ path: '/wxa/business/getuserphonenumber', errcode: 40029 });
        assertErr(await run('bindPhone, WeChat refuses the code', s.bindPhone(token, { code: await wx.phoneCode(APP_ID, user, newPhone()) })), 730);
        await wx.faults({ path: '/wxa/checksession', errcode: 87009 });
        await run('check_session, WeChat says invalid', s.checkSession(token));
        await wx.tokens(APP_ID, 'invalidate'); // the access_token is refreshed and the call retried
        assertOk(await run('bindPhone after the access_token was invalidated', s.bindPhone(token, { code: await wx.phoneCode(APP_ID, user, newPhone()) })));
        await wx.clearFaults();
        await wx.newCode(APP_ID, user); // the user's next wx.login(): a new session_key at WeChat
        const stale = await wx.encrypted(APP_ID, user, 'phone', { phone: newPhone() });
        assertErr(await run('legacy bindPhone, stale session_key', s.bindPhone(token, { encryptedData: stale.encryptedData, iv: stale.iv })), 733);

        assertOk(await run('logout', s.logout(token)));
        assertErr(await run('info after logout', s.info(token)), 501);
        assertOk(await run('logout (previous key)', s.logout(oldToken)));
      } finally {
        await wx.clearFaults();
        if (s) {
          const exit = await s.stop();
          assert.deepEqual(exit, { code: 0, signal: null });
          logs += s.logs();
        }
        await spy.stop();
        rmSync(dir, { recursive: true, force: true }); /* when the start failed; stop() removed it otherwise */
      }

      assert.ok(spy.sessionKeys.size >= 5, `the spy saw the session_keys (${spy.sessionKeys.size})`);
      assert.ok(spy.accessTokens.size >= 2, `the spy saw the access_tokens (${spy.accessTokens.size})`);
      assert.match(logs, expected, `the ${level} log has the lines the check reads`);
      assert.doesNotMatch(logs, /Sanitizer|runtime error/);
      const secrets = [
        ['the app secret', world.appSecret],
        ['the data key', current],
        ['the previous data key', previous],
        ...[...spy.sessionKeys].map((k) => ['a session_key', k]),
        ...[...spy.accessTokens].map((k) => ['an access_token', k]),
        ...tokens.map((t) => ['a token', t]),
      ];
      assertNoSecret(logs, secrets, `the ${level} log`);
      for (const [what, r] of answers) {
        // A login's answer carries its own token, and nothing else secret.
        const own = r.data?.token;
        assertNoSecret(responseText(r), secrets.filter(([, v]) => v !== own), `the answer of ${what}`);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------
// Tokens

test('a token minted by another instance with another data key on the same database is refused', async () => {
  const other = await startMeetoa({ wxemu: wx, appSecret: world.appSecret, config: { oa: { datasource: { url: oa.db.url } } } });
  try {
    assert.notEqual(other.dataKey, oa.dataKey);
    const sessions = async () => Number((await oa.sql('SELECT count(*) FROM wx_session;'))[0][0]);
    const before = await sessions();
    const theirs = await loginFresh(other, 'mallory', { nickName: 'Mallory', avatarUrl: '', gender: 1 });
    assert.equal(await sessions(), before + 1, 'the other instance wrote its session into our database');
    for (const [what, call] of loggedInCalls(oa, { 'X-OA-Token': theirs.token }))
      assertErr(await call(), 501, `${what} here with a token of the other instance`);
    assertErr(await oa.info(null, { Authorization: `Bearer ${theirs.token}` }), 501, 'as Bearer');
    assertOk(await other.info(theirs.token), 'the token still works where it was made (our logout did not touch it)');

    const ours = await loginFresh(oa, 'alice');
    assertErr(await other.info(ours.token), 501, 'and the other way round');
    assertOk(await oa.info(ours.token));
  } finally {
    await other.stop();
  }
});

describe('an altered token is refused', () => {
  let token;
  before(async () => {
    token = (await loginFresh(oa, 'tamper', { nickName: 'T', avatarUrl: '', gender: 0 })).token;
  });

  test('each of its 43 characters changed, on info', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < token.length; i++) {
      // the next character of the alphabet: for the last one this sets the unused low bits too
      const c = alphabet[(alphabet.indexOf(token[i]) + 1) % 64];
      const altered = token.slice(0, i) + c + token.slice(i + 1);
      assertErr(await oa.info(altered), 501, `character ${i} changed`);
    }
  });

  test('truncated, extended, in another alphabet, re-cased, encoded', async () => {
    const variants = [
      ['truncated to 42', token.slice(0, 42)],
      ['truncated to 1', token.slice(0, 1)],
      ['one character more', `${token}A`],
      ['padded', `${token}=`],
      ['twice', token + token],
      ['standard base64', `+${token.slice(1, 42).replaceAll('-', '+').replaceAll('_', '/')}/`],
      ['upper case', token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase()],
      ['percent-encoded', [...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')],
      ['the hex of its bytes', Buffer.from(token, 'base64url').toString('hex')],
      ['the base64 of its bytes', Buffer.from(token, 'base64url').toString('base64')],
      ['with a quote', `${token.slice(0, 42)}'`],
    ];
    for (const [what, altered] of variants) {
      assert.notEqual(altered, token);
      assertErr(await oa.info(altered), 501, what);
    }
  });

  test('on every logged-in endpoint; the real token still works', async () => {
    const altered = token.slice(0, 20) + (token[20] === 'x' ? 'y' : 'x') + token.slice(21);
    for (const [what, call] of loggedInCalls(oa, { 'X-OA-Token': altered })) assertErr(await call(), 501, what);
    const r = await oa.info(token);
    assertOk(r, 'the real token');
    assert.equal(r.data.nickName, 'T', 'the profile call with the altered token changed nothing');
  });
});

describe('a live token of a user who may no longer act opens no endpoint', () => {
  // session.test.mjs checks that login and info refuse these users within cache-seconds.
  const cases = [
    ['disabled', (openid) => oa.setUserStatus(openid, 1), 720],
    ['closed', (openid) => oa.setUserStatus(openid, 2), 721],
    ['deleted', (openid) => oa.sql(`UPDATE wx_user SET deleted = 1 WHERE weixin_openid = ${sqlText(openid)};`), 721],
  ];
  for (const [label, block, errno] of cases) {
    test(`${label} -> ${errno} everywhere, nothing changed`, async () => {
      const { token, openid } = await loginFresh(oa, label, { nickName: 'Before', avatarUrl: '', gender: 1 });
      assertOk(await oa.info(token));
      const r = await block(openid);
      if (r?.code !== undefined) assert.equal(r.code, 0, r.stderr);
      const changed = Date.now();
      const refused = await eventually(
        async () => (await oa.info(token)).errno === errno,
        changed + (CACHE_SECONDS + 1) * 1000 - Date.now(),
      );
      assert.ok(refused, `info gets ${errno} within ${CACHE_SECONDS + 1} s`);
      const files = readdirSync(storageDir).length;
      for (const [what, call] of loggedInCalls(oa, { 'X-OA-Token': token })) assertErr(await call(), errno, what);
      const row = await oa.sql(`SELECT nickname, mobile FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`);
      assert.deepEqual(row, [['Before', '']], 'no profile or phone change went through');
      assert.equal(readdirSync(storageDir).length, files, 'no upload was stored');
      const sessions = await oa.sql(
        `SELECT count(*) FROM wx_session WHERE user_id = (SELECT id FROM wx_user WHERE weixin_openid = ${sqlText(openid)});`,
      );
      assert.deepEqual(sessions, [['1']], 'the refused logout deleted nothing');
    });
  }
});

// ---------------------------------------------------------------------------------------
// Injection

const SQL_TEXTS = [
  "'",
  '"',
  ';',
  '--',
  '/*',
  '*/',
  '\\',
  '%',
  '_',
  '`',
  "' OR '1'='1",
  "'); DROP TABLE wx_user; --",
  '"); DROP TABLE wx_session; --',
  "\\'; DELETE FROM wx_session; --",
  '`wx_user`; /* x */ --',
  "%' OR nickname LIKE '%",
];

async function tableNames(s) {
  const q =
    s.dialect === 'mysql'
      ? 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1;'
      : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1;";
  return (await s.sql(q)).map((r) => r[0]);
}

async function count(s, table) {
  return Number((await s.sql(`SELECT count(*) FROM ${table};`))[0][0]);
}

async function nicknameHex(openid) {
  const rows = await oa.sql(`SELECT ${sqlHex('nickname')} FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`);
  assert.equal(rows.length, 1, `one row for ${openid}`);
  return rows[0][0] ?? '';
}

const hex = (s) => Buffer.from(s, 'utf8').toString('hex');

describe('SQL meta-characters are data, never SQL', () => {
  let tables, users, sessions;
  before(async () => {
    tables = await tableNames(oa);
    users = await count(oa, 'wx_user');
    sessions = await count(oa, 'wx_session');
  });

  test('in userInfo at login: stored verbatim, read back verbatim', async () => {
    for (const text of SQL_TEXTS) {
      const info = { nickName: `n${text}`, avatarUrl: `https://example.com/${encodeURIComponent(text)}.png`, gender: 1 };
      for (const k of ['language', 'city', 'province', 'country']) info[k] = text;
      const { token, openid } = await loginFresh(oa, 'sqlinfo', info);
      users++;
      sessions++;
      const r = await oa.info(token);
      assertOk(r);
      assert.equal(r.data.nickName, `n${text}`);
      assert.equal(r.data.avatar, info.avatarUrl);
      assert.equal(await nicknameHex(openid), hex(`n${text}`), 'the stored bytes');
    }
  });

  test('in rawData (signed) and in encryptedData userinfo: stored verbatim', async () => {
    for (const text of SQL_TEXTS) {
      for (const kind of ['raw', 'enc']) {
        const user = newUser(`sql${kind}`);
        const { code, openid } = await wx.newLogin(APP_ID, user);
        const e = await wx.encrypted(APP_ID, user, 'userinfo', { nickName: `m${text}` });
        const body = kind === 'raw' ? { code, rawData: e.rawData, signature: e.signature } : { code, encryptedData: e.encryptedData, iv: e.iv };
        const r = await oa.post('/wx/auth/login_by_weixin', body);
        assertOk(r, `${kind} ${text}`);
        users++;
        sessions++;
        assert.equal(r.data.userInfo.nickName, `m${text}`);
        assert.equal(await nicknameHex(openid), hex(`m${text}`));
      }
    }
  });

  test('in the profile endpoint: stored verbatim, or refused (avatar) with 402', async () => {
    const { token, openid } = await loginFresh(oa, 'sqlprofile');
    users++;
    sessions++;
    for (const text of SQL_TEXTS) {
      assertOk(await oa.profile(token, { nickname: `p${text}` }), `nickname ${text}`);
      assert.equal((await oa.info(token)).data.nickName, `p${text}`);
      assert.equal(await nicknameHex(openid), hex(`p${text}`));
      const avatar = `https://example.com/a${text}.png`;
      const r = await oa.profile(token, { avatar });
      if (r.errno === 0) {
        assert.equal((await oa.info(token)).data.avatar, avatar, `avatar ${text} stored verbatim`);
        const rows = await oa.sql(`SELECT ${sqlHex('avatar')} FROM wx_user WHERE weixin_openid = ${sqlText(openid)};`);
        assert.equal(rows[0][0], hex(avatar));
      } else {
        assertErr(r, 402, `avatar ${text}`);
      }
    }
  });

  test('in fields that are not stored: refused (401/402) or a WeChat refusal, never a login', async () => {
    const { token, user } = await loginFresh(oa, 'sqlfields');
    users++;
    sessions++;
    const login = async (body) => oa.post('/wx/auth/login_by_weixin', { code: await freshCode(), ...body });
    for (const text of SQL_TEXTS) {
      const e = await wx.encrypted(APP_ID, user, 'phone', { phone: newPhone() });
      const sig40 = (text + 'a'.repeat(40)).slice(0, 40);
      const cases = [
        ['login code', () => oa.loginWithCode(text), [401, 402, 710]],
        ['rawData', () => login({ rawData: text, signature: 'a'.repeat(40) }), [401, 402, 734]],
        ['signature', () => login({ rawData: '{}', signature: sig40 }), [401, 402, 734]],
        ['login encryptedData', () => login({ encryptedData: text, iv: e.iv }), [401, 402]],
        ['login iv', () => login({ encryptedData: e.encryptedData, iv: text }), [401, 402]],
        ['login phoneCode', () => login({ phoneCode: text }), [401, 402, 730]],
        ['bindPhone code', () => oa.bindPhone(token, { code: text }), [401, 402, 730]],
        ['bindPhone encryptedData', () => oa.bindPhone(token, { encryptedData: text, iv: e.iv }), [401, 402]],
        ['bindPhone iv', () => oa.bindPhone(token, { encryptedData: e.encryptedData, iv: text }), [401, 402]],
      ];
      for (const [what, call, errnos] of cases) {
        const r = await call();
        assert.equal(r.status, 200, `${what} ${text}: HTTP ${r.status}`);
        assert.ok(errnos.includes(r.errno), `${what} ${JSON.stringify(text)}: errno ${r.errno}, want one of ${errnos}`);
      }
      assertErr(await oa.info(null, { 'X-OA-Token': text }), 501, `token header ${text}`);
      assertErr(await oa.info(null, { Authorization: `Bearer ${text}` }), 501, `Bearer ${text}`);
      // An upload's file name is never used: the key is random.
      const up = await oa.upload(token, tinyPng(), `${text}.png`, 'image/png');
      assertOk(up, `upload named ${text}`);
      assert.match(up.data.key, KEY_RE);
    }
  });

  test('a code cannot smuggle WeChat query parameters', async () => {
    const victim = newUser('victim');
    const { code } = await wx.newLogin(APP_ID, victim);
    for (const smuggled of [`x&js_code=${code}`, `${code}&js_code=x`, `x&appid=${APP_ID}&js_code=${code}`, `${code}#`, `${code}%26`]) {
      const r = await oa.loginWithCode(smuggled);
      assert.notEqual(r.errno, 0, `${smuggled} logged in`);
    }
    assertOk(await oa.loginWithCode(code), 'the real code was not spent by any of them');
    users++;
    sessions++;
  });

  test('the tables are intact and hold exactly the rows made', async () => {
    assert.deepEqual(await tableNames(oa), tables);
    assert.ok(tables.includes('wx_user') && tables.includes('wx_session'), tables.join(','));
    assert.equal(await count(oa, 'wx_user'), users);
    assert.equal(await count(oa, 'wx_session'), sessions);
  });
});

describe('NUL bytes are refused, never stored cut short', () => {
  let token, openid, nulUser;
  before(async () => {
    ({ token, openid, user: nulUser } = await loginFresh(oa, 'nul', { nickName: 'Intact', avatarUrl: '', gender: 1 }));
  });

  test('\\u0000 in every JSON string field -> 401/402', async () => {
    const users = await count(oa, 'wx_user');
    const code = await freshCode();
    const e = await wx.encrypted(APP_ID, nulUser, 'phone', { phone: newPhone() });
    const cases = [
      ['login code', () => oa.loginWithCode(`${code}\u0000x`)],
      ['userInfo.nickName', () => oa.loginWithCode(code, { nickName: 'Cut\u0000here', avatarUrl: '', gender: 1 })],
      ['userInfo.avatarUrl', () => oa.loginWithCode(code, { nickName: 'x', avatarUrl: 'https://e.com/\u0000.png', gender: 1 })],
      ['rawData', () => oa.post('/wx/auth/login_by_weixin', { code, rawData: '{"nickName":"a\u0000b"}', signature: 'a'.repeat(40) })],
      ['signature', () => oa.post('/wx/auth/login_by_weixin', { code, rawData: '{}', signature: `${'a'.repeat(39)}\u0000` })],
      ['encryptedData', () => oa.post('/wx/auth/login_by_weixin', { code, encryptedData: `${e.encryptedData}\u0000`, iv: e.iv })],
      ['iv', () => oa.post('/wx/auth/login_by_weixin', { code, encryptedData: e.encryptedData, iv: `${e.iv.slice(0, 23)}\u0000` })],
      ['phoneCode', () => oa.post('/wx/auth/login_by_weixin', { code, phoneCode: 'abc\u0000' })],
      ['bindPhone code', () => oa.bindPhone(token, { code: 'abc\u0000def' })],
      ['bindPhone encryptedData', () => oa.bindPhone(token, { encryptedData: `${e.encryptedData}\u0000`, iv: e.iv })],
      ['bindPhone iv', () => oa.bindPhone(token, { encryptedData: e.encryptedData, iv: `\u0000${e.iv.slice(1)}` })],
      ['profile nickname', () => oa.profile(token, { nickname: 'Cut\u0000here' })],
      ['profile avatar', () => oa.profile(token, { avatar: 'https://example.com/a.png\u0000.html' })],
    ];
    for (const [what, call] of cases) {
      const r = await call();
      assert.equal(r.status, 200, `${what}: HTTP ${r.status}`);
      assert.ok([401, 402].includes(r.errno), `${what}: errno ${r.errno} ${r.text.slice(0, 200)}`);
    }
    assert.equal(await count(oa, 'wx_user'), users, 'no user was created');
    const i = await oa.info(token);
    assert.equal(i.data.nickName, 'Intact');
    assert.equal(i.data.avatar, '');
    assert.equal(i.data.mobile, '');
    assert.equal(await nicknameHex(openid), hex('Intact'));
    const cut = await oa.sql("SELECT count(*) FROM wx_user WHERE nickname IN ('Cut', 'a', 'x');");
    assert.deepEqual(cut, [['0']], 'nothing was stored cut at the NUL');
  });

  test('%00 in a path -> 404', async () => {
    for (const p of ['/wx/auth/info%00', '/wx/auth/info%00.html', '/wx/auth/%00info', '/wx/storage/fetch/%00']) {
      const r = await rawRequest(oa.port, 'GET', p, { 'X-OA-Token': token });
      assertAnswer(r, 404, 404, p);
    }
  });

  test('a raw NUL in a header or in a multipart name is refused', async () => {
    const head = (line) => Buffer.concat([Buffer.from(`GET /wx/auth/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n`), line, Buffer.from('\r\n\r\n')]);
    for (const [what, line] of [
      ['NUL inside the token', Buffer.from(`X-OA-Token: ${token.slice(0, 20)}\0${token.slice(21)}`, 'latin1')],
      ['NUL after the token', Buffer.from(`X-OA-Token: ${token}\0`, 'latin1')],
      ['NUL in the header name', Buffer.from(`X-OA-To\0ken: ${token}`, 'latin1')],
    ]) {
      const r = await rawHttp(oa.port, head(line));
      assert.ok(r.status === 400 || (r.status === 200 && /"errno"\s*:\s*501/.test(r.body.toString())) || r.status === 0, `${what}: ${r.head} ${r.body}`);
      assert.ok(!r.body.toString().includes('Intact'), `${what}: the token opened info`);
    }
    const files = readdirSync(storageDir).length;
    for (const [what, part] of [
      ['NUL in the field name', { name: 'file\0', filename: 'a.png', type: 'image/png', data: tinyPng() }],
      ['NUL in the file name', { name: 'file', filename: 'a\0.html', type: 'image/png', data: tinyPng() }],
      ['NUL in the part content type', { name: 'file', filename: 'a.png', type: 'image/png\0', data: tinyPng() }],
    ]) {
      const { body, contentType } = multipart([part], { encoding: 'latin1' });
      const r = await oa.post('/wx/storage/upload', body, { 'content-type': contentType, 'X-OA-Token': token });
      assertErr(r, 401, what);
    }
    assert.equal(readdirSync(storageDir).length, files, 'nothing was stored');
  });
});

// ---------------------------------------------------------------------------------------
// Uploads

describe('an upload is never served as HTML', () => {
  let token;
  before(async () => {
    token = (await loginFresh(oa, 'uploader')).token;
  });

  test('HTML and SVG are refused whatever the name and the declared type', async () => {
    const contents = [
      ['HTML', HTML],
      ['SVG', SVG],
      ['SVG with an XML prolog', `<?xml version="1.0"?>\n${SVG}`],
      ['HTML after a BOM and spaces', `\ufeff  \n${HTML}`],
      ['XHTML', `<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>`],
    ];
    const labels = [
      ['a.png', 'image/png'],
      ['a.jpg', 'image/jpeg'],
      ['a.webp', 'image/webp'],
      ['a.svg', 'image/svg+xml'],
      ['index.html', 'text/html'],
      ['blob', 'application/octet-stream'],
    ];
    const files = readdirSync(storageDir).length;
    for (const [what, content] of contents)
      for (const [name, type] of labels)
        assertErr(await oa.upload(token, Buffer.from(content), name, type), 740, `${what} as ${name} ${type}`);
    assert.equal(readdirSync(storageDir).length, files, 'nothing was stored');
  });

  test('a valid PNG carrying HTML is served only as image/png, nosniff, sandboxed', async () => {
    const polyglot = tinyPng({ text: HTML });
    const up = await oa.upload(token, polyglot, 'a.html', 'text/html');
    assertOk(up, 'a PNG is a PNG, whatever it says inside');
    assert.match(up.data.key, /\.png$/);
    const r = await oa.get(`/wx/storage/fetch/${up.data.key}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.equal(r.headers.get('content-disposition'), null);
    assert.ok(r.body.equals(polyglot));
  });

  test('a PNG followed by HTML is refused at upload, and served sandboxed if planted', async () => {
    const polyglot = Buffer.concat([tinyPng(), Buffer.from(HTML)]);
    assertErr(await oa.upload(token, polyglot, 'a.png', 'image/png'), 740, 'trailing HTML');
    const name = `${randomBytes(16).toString('hex')}.png`;
    writeFileSync(path.join(storageDir, name), polyglot);
    const r = await oa.get(`/wx/storage/fetch/${name}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    rmSync(path.join(storageDir, name));
  });

  test('no path reads outside the upload folder', async () => {
    // A marker next to the folder, under a name that is a valid key, and one outside the tree.
    const key = `${randomBytes(16).toString('hex')}.png`;
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    writeFileSync(path.join(storageRoot, key), tinyPng({ text: marker }));
    mkdirSync(path.join(storageRoot, 'sub'), { recursive: true });
    writeFileSync(path.join(storageRoot, 'sub', key), tinyPng({ text: marker }));
    const abs = path.join(storageRoot, key);
    const paths = [
      `../${key}`,
      `%2e%2e/${key}`,
      `%2E%2E%2F${key}`,
      `..%2f${key}`,
      `%252e%252e%252f${key}`,
      `..\\${key}`,
      `..%5c${key}`,
      `%5c..%5c${key}`,
      `.%2e/${key}`,
      `../sub/${key}`,
      `..;/${key}`,
      `/${abs}`,
      `${encodeURIComponent(abs)}`,
      `%2f${abs.slice(1).replaceAll('/', '%2f')}`,
      `//etc/passwd`,
      `%2fetc%2fpasswd`,
      `${'a'.repeat(4000)}.png`,
      `${'0'.repeat(4000)}${key}`,
      `${key}%00`,
      `${key}%00.png`,
      `${key.slice(0, 10)}%00${key.slice(10)}`,
      `sub/${key}`,
      `.${key}`,
      `./${key}`,
    ];
    for (const p of paths) {
      const r = await rawRequest(oa.port, 'GET', `/wx/storage/fetch/${p}`);
      assert.ok(r.status === 404 || r.status === 400 || r.status === 414, `${p}: HTTP ${r.status}`);
      assert.ok(!r.body.includes(marker), `${p}: the marker outside the folder was served`);
    }
    const raw = await rawHttp(oa.port, Buffer.from(`GET /wx/storage/fetch/..\0/${key} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 'latin1'));
    assert.ok(!raw.body.includes(marker), 'a raw NUL in the path served the marker');
    assert.notEqual(raw.status, 200);
  });
});

test('the main server (logging at debug) wrote no sanitizer report and none of its tokens', async () => {
  const exit = await oa.stop({ keepDir: true });
  assert.deepEqual(exit, { code: 0, signal: null });
  const logs = oa.logs();
  assert.doesNotMatch(logs, /Sanitizer|runtime error/);
  assert.ok(minted.length > 20, `tokens minted: ${minted.length}`);
  assertNoSecret(logs, minted.map((t) => ['a token', t]), 'the log');
  assertNoSecret(logs, [['the app secret', world.appSecret], ['the data key', oa.dataKey]], 'the log');
});
