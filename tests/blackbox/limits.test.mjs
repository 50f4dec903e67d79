// limits.test.mjs — every limit of docs/limits.md, crossed on purpose: request header size and
// count, body size, JSON nesting depth, the length of each string field not already proved by
// bad_input.test.mjs / profile.test.mjs, open connections, and the request and idle timeouts
// (a slowloris client is cut off and never holds up anyone else).
//
// Two meetoa processes with small limits so that the suite is fast: `world` (request timeout
// 1.5 s, idle timeout 3 s, body limit 16 KiB, with a wxemu for the field checks that need a
// login) and `crowd` (8 connections at most). Raw sockets (node:net) stand in for clients
// that misbehave in ways fetch() never would.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { startWorld, startMeetoa, APP_ID, assertAnswer, assertErr, jscode2sessionCalls } from './lib/meetoa.mjs';

const MAX_BODY = 16384;
const REQUEST_TIMEOUT_MS = 1500;
const IDLE_TIMEOUT_MS = 3000;
const MAX_CONNECTIONS = 8;
const MAX_REQLEN = 8192 + 4096 * 100; // H2O_MAX_REQLEN of libh2o 2.2.5: request line + headers
const MAX_HEADERS = 100; // H2O_MAX_HEADERS
const JSON_MAX_DEPTH = 32; // HTTP_JSON_MAX_DEPTH
const SLACK_MS = 2500; // how late a timeout may fire on a busy machine under ASan
const EARLY_MS = 250; // how early it may seem to fire (our clock starts when node gets to it)
const LOGIN = '/wx/auth/login_by_weixin';

let world, oa, wx, crowd;

before(async () => {
  world = await startWorld({
    meetoa: {
      config: {
        server: { 'max-body-bytes': MAX_BODY, 'request-timeout-ms': REQUEST_TIMEOUT_MS, 'idle-timeout-ms': IDLE_TIMEOUT_MS },
      },
    },
  });
  ({ oa, wx } = world);
  crowd = await startMeetoa({ config: { server: { 'max-connections': MAX_CONNECTIONS, 'idle-timeout-ms': 60000 } } });
});

after(async () => {
  // Exit status 0: a clean SIGTERM stop with connections still open, and (under ASan) no leak.
  const exits = [await crowd?.stop(), await world?.oa.stop()];
  await world?.stop();
  for (const e of exits) if (e) assert.deepEqual(e, { code: 0, signal: null }, 'meetoa exit');
});

// ---------------------------------------------------------------------------------------
// A raw HTTP/1.1 client

/**
 * A TCP connection to port that records what comes back: `text()` (all bytes so far as
 * latin1), `closed` (a promise of the ms from `t0` to the end of the stream), `response()`
 * (the next complete response: {status, headers, body, json}).
 */
function connect(port) {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.on('error', () => {}); // a peer that hung up on us is what several tests want
  const c = { sock, data: Buffer.alloc(0), t0: Date.now(), endedAt: null, waiters: [] };
  const wake = () => c.waiters.splice(0).forEach((w) => w());
  sock.on('data', (d) => {
    c.data = Buffer.concat([c.data, d]);
    wake();
  });
  c.closed = new Promise((resolve) =>
    sock.once('close', () => {
      c.endedAt = Date.now();
      wake();
      resolve(c.endedAt - c.t0);
    }),
  );
  c.ready = new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  c.text = () => c.data.toString('latin1');
  c.write = (s) => new Promise((resolve) => sock.write(s, () => resolve()));
  /** The next response, parsed (Content-Length bodies only, as meetoa and h2o send). */
  c.response = async (ms = 10000) => {
    const end = Date.now() + ms;
    for (;;) {
      const r = parseResponse(c.data);
      if (r) {
        c.data = c.data.subarray(r.size);
        return r;
      }
      if (c.endedAt !== null) throw new Error(`connection closed before a whole response; got ${JSON.stringify(c.text())}`);
      if (Date.now() >= end) throw new Error(`no whole response within ${ms} ms; got ${JSON.stringify(c.text().slice(0, 200))}`);
      let timer;
      await new Promise((r) => {
        c.waiters.push(r);
        timer = setTimeout(r, Math.max(1, end - Date.now()));
      });
      clearTimeout(timer);
    }
  };
  c.close = () => sock.destroy();
  return c;
}

function parseResponse(buf) {
  const head = buf.indexOf('\r\n\r\n');
  if (head < 0) return null;
  const lines = buf.subarray(0, head).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const len = Number(headers['content-length'] ?? 0);
  if (buf.length < head + 4 + len) return null;
  const body = buf.subarray(head + 4, head + 4 + len).toString('utf8');
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status, headers, body, json, size: head + 4 + len };
}

/** A whole GET /wx/auth/info (answered 501: no token; touches neither WeChat nor the database). */
const INFO = 'GET /wx/auth/info HTTP/1.1\r\nHost: meetoa\r\n\r\n';

function assertEnvelope(r, status, errno, what) {
  assert.equal(r.status, status, `${what}: HTTP status; got ${r.status} ${r.body.slice(0, 200)}`);
  assert.match(r.headers['content-type'] ?? '', /^application\/json/i, `${what}: content-type`);
  assert.equal(r.json?.errno, errno, `${what}: errno; got ${r.body.slice(0, 200)}`);
}

/** One whole request on a fresh connection; its response and how the connection ended. */
async function once(port, request) {
  const c = connect(port);
  await c.ready;
  await c.write(request);
  const r = await c.response();
  return { r, c };
}

/** The server still answers an ordinary request on a new connection. */
async function stillServes(m, what) {
  const { r, c } = await once(m.port, INFO);
  c.close();
  assertEnvelope(r, 200, 501, `${what}: an ordinary request afterwards`);
}

// ---------------------------------------------------------------------------------------

describe('request headers (h2o: at most H2O_MAX_REQLEN bytes and H2O_MAX_HEADERS fields)', () => {
  const withPad = (total) => {
    const start = 'GET /wx/auth/info HTTP/1.1\r\nHost: meetoa\r\nX-Pad: ';
    const end = '\r\n\r\n';
    return start + 'p'.repeat(total - start.length - end.length) + end;
  };

  test(`a request of exactly ${MAX_REQLEN} bytes of headers is served`, async () => {
    const req = withPad(MAX_REQLEN);
    assert.equal(req.length, MAX_REQLEN);
    const { r, c } = await once(oa.port, req);
    c.close();
    assertEnvelope(r, 200, 501, 'at the limit');
  });

  test('one byte more -> 400 Bad Request (plain text from h2o), connection closed', async () => {
    // Sent without its final CRLF CRLF: h2o gives up once it holds MAX_REQLEN bytes, and has
    // then read all we sent (so it closes cleanly, and the answer is not lost to a reset).
    const c = connect(oa.port);
    await c.ready;
    await c.write(withPad(MAX_REQLEN + 4).slice(0, MAX_REQLEN));
    const r = await c.response();
    assert.equal(r.status, 400, `status; got ${r.status}`);
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.body, 'Bad Request');
    await c.closed;
    await stillServes(oa, 'after the big header');
  });

  const withHeaders = (n) => {
    let s = 'GET /wx/auth/info HTTP/1.1\r\nHost: meetoa\r\n';
    for (let i = 1; i < n; i++) s += `X-H${i}: ${i}\r\n`;
    return s + '\r\n';
  };

  test(`${MAX_HEADERS} header fields are served`, async () => {
    const { r, c } = await once(oa.port, withHeaders(MAX_HEADERS));
    c.close();
    assertEnvelope(r, 200, 501, `${MAX_HEADERS} fields`);
  });

  test(`${MAX_HEADERS + 1} header fields -> 400 Bad Request, connection closed`, async () => {
    const { r, c } = await once(oa.port, withHeaders(MAX_HEADERS + 1));
    assert.equal(r.status, 400, `status; got ${r.status}`);
    assert.equal(r.body, 'Bad Request');
    await c.closed;
    await stillServes(oa, 'after too many headers');
  });
});

describe('request bodies', () => {
  test(`a JSON body over server.max-body-bytes (${MAX_BODY}) -> 413 envelope`, async () => {
    const body = JSON.stringify({ code: 'x', pad: 'p'.repeat(MAX_BODY) });
    assertAnswer(await oa.post(LOGIN, body), 413, 413, 'body over the limit');
  });

  test(`a body of exactly ${MAX_BODY} bytes is read (and judged on its fields)`, async () => {
    const json = JSON.stringify({ code: '' });
    const body = json.slice(0, -1) + ' '.repeat(MAX_BODY - json.length) + '}';
    assert.equal(body.length, MAX_BODY);
    assertErr(await oa.post(LOGIN, body), 402, 'empty code in a body at the limit');
  });

  test('a Content-Length over 4x the largest route limit -> h2o 413 before any byte of the body', async () => {
    const c = connect(oa.port);
    await c.ready;
    await c.write(`POST ${LOGIN} HTTP/1.1\r\nHost: meetoa\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n`);
    const r = await c.response();
    assert.equal(r.status, 413, `status; got ${r.status} ${r.body}`);
    assert.equal(r.headers.connection, 'close');
    await c.closed;
    await stillServes(oa, 'after a huge Content-Length');
  });
});

describe(`JSON nesting (at most ${JSON_MAX_DEPTH} levels, the body's object being the first)`, () => {
  /** {"code":"","x":[[...1...]]} nested `depth` levels deep in all. */
  const nested = (depth) => `{"code":"","x":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}}`;

  test(`${JSON_MAX_DEPTH} levels are parsed: the empty code is what is refused (402)`, async () => {
    assertErr(await oa.post(LOGIN, nested(JSON_MAX_DEPTH)), 402, `${JSON_MAX_DEPTH} levels`);
  });

  test(`${JSON_MAX_DEPTH + 1} levels -> 401, as malformed JSON`, async () => {
    assertErr(await oa.post(LOGIN, nested(JSON_MAX_DEPTH + 1)), 401, `${JSON_MAX_DEPTH + 1} levels`);
  });

  test('objects count as arrays do', async () => {
    const objects = (depth) => `{"code":"","x":${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth - 1)}}`;
    assertErr(await oa.post(LOGIN, objects(JSON_MAX_DEPTH)), 402, 'objects at the limit');
    assertErr(await oa.post(LOGIN, objects(JSON_MAX_DEPTH + 1)), 401, 'objects over the limit');
  });

  test('8000 levels -> 401', async () => {
    const body = `{"x":${'['.repeat(8000)}${']'.repeat(8000)}}`;
    assert.ok(body.length <= MAX_BODY);
    assertErr(await oa.post(LOGIN, body), 401, '8000 levels');
  });

  test('brackets inside strings (escaped quotes too) do not count', async () => {
    const deepText = '[{'.repeat(100) + '\\"' + '['.repeat(100);
    assertErr(await oa.post(LOGIN, `{"code":"","x":"${deepText}"}`), 402, 'brackets in a string');
  });

  test('a key given twice -> 401 (JSON_REJECT_DUPLICATES)', async () => {
    assertErr(await oa.post(LOGIN, '{"code":"a","code":"b"}'), 401, 'duplicate key');
  });

  test('an integer beyond 64 bits -> 401', async () => {
    assertErr(await oa.post(LOGIN, '{"code":"","n":123456789012345678901234567890}'), 401, 'huge integer');
  });
});

// ---------------------------------------------------------------------------------------

describe('string fields at their limit pass, one over is refused (402)', () => {
  // Fields whose limits bad_input.test.mjs already proves (code 128/129, nickName 63/64,
  // avatarUrl 255/256, language 63/64) and profile.test.mjs (profile nickname and avatar)
  // are not repeated here. A value at its limit passes the field check and fails later for
  // another reason (WeChat does not know it, the signature is wrong): that errno shows it
  // got through.
  const b64 = (chars) => randomBytes((chars / 4) * 3).toString('base64');
  const iv = () => randomBytes(16).toString('base64'); // 24 characters, '==' included
  assert.equal(b64(8192).length, 8192);
  assert.equal(iv().length, 24);
  const hex40 = 'ab'.repeat(20);

  // [what, extra login fields, errno at the limit] and [what, extra login fields] one over.
  const AT_LIMIT = [
    ['phoneCode of 128 characters', { phoneCode: 'p'.repeat(128) }, 730],
    ['rawData of 4096 characters', { rawData: 'r'.repeat(4096), signature: hex40 }, 734],
    ['encryptedData of 8192 characters with a 24-character iv', { encryptedData: b64(8192), iv: iv() }, 733],
  ];
  const OVER = [
    ['phoneCode of 129 characters', { phoneCode: 'p'.repeat(129) }],
    ['rawData of 4097 characters', { rawData: 'r'.repeat(4097), signature: hex40 }],
    ['a signature of 39 characters', { rawData: '{}', signature: hex40.slice(1) }],
    ['a signature of 41 characters', { rawData: '{}', signature: hex40 + 'a' }],
    ['encryptedData of 8193 characters', { encryptedData: b64(8192) + 'A', iv: iv() }],
    ['an iv of 25 characters', { encryptedData: b64(64), iv: iv() + 'A' }],
    ['userInfo.city of 64 characters', { userInfo: { city: 'c'.repeat(64) } }],
    ['userInfo.province of 64 characters', { userInfo: { province: 'p'.repeat(64) } }],
    ['userInfo.country of 64 characters', { userInfo: { country: 'k'.repeat(64) } }],
  ];

  AT_LIMIT.forEach(([what, fields, errno], i) => {
    test(`login with ${what} -> past the check (${errno})`, async () => {
      const code = await wx.newCode(APP_ID, `at-limit-${i}`);
      assertErr(await oa.post(LOGIN, { code, ...fields }), errno, what);
    });
  });

  OVER.forEach(([what, fields], i) => {
    test(`login with ${what} -> 402, WeChat not called`, async () => {
      const code = await wx.newCode(APP_ID, `over-limit-${i}`);
      const calls = await jscode2sessionCalls(wx);
      assertErr(await oa.post(LOGIN, { code, ...fields }), 402, what);
      assert.equal(await jscode2sessionCalls(wx), calls, 'no jscode2session call');
    });
  });

  describe('bindPhone', () => {
    let token;
    before(async () => {
      const r = await oa.login('limits-phone');
      assertAnswer(r, 200, 0, 'login');
      token = r.data.token;
    });
    const CASES = [
      ['a code of 128 characters', { code: 'p'.repeat(128) }, 730],
      ['a code of 129 characters', { code: 'p'.repeat(129) }, 402],
      ['encryptedData of 8192 characters', { encryptedData: b64(8192), iv: iv() }, 733],
      ['encryptedData of 8193 characters', { encryptedData: b64(8192) + 'A', iv: iv() }, 402],
      ['an iv of 25 characters', { encryptedData: b64(64), iv: iv() + 'A' }, 402],
    ];
    for (const [what, body, errno] of CASES) {
      test(`${what} -> ${errno}`, async () => {
        assertErr(await oa.bindPhone(token, body), errno, what);
      });
    }
  });
});

// ---------------------------------------------------------------------------------------

describe(`connections (server.max-connections = ${MAX_CONNECTIONS})`, () => {
  test(`${MAX_CONNECTIONS} idle connections: the next waits until one closes, then it is served`, async () => {
    const held = [];
    try {
      for (let i = 0; i < MAX_CONNECTIONS; i++) {
        const { r, c } = await once(crowd.port, INFO);
        held.push(c);
        assertEnvelope(r, 200, 501, `connection ${i + 1}`);
      }
      const extra = connect(crowd.port);
      held.push(extra);
      await extra.ready; // the kernel completes the handshake: it waits in the backlog
      await extra.write(INFO);
      await sleep(1000);
      assert.equal(extra.text(), '', `connection ${MAX_CONNECTIONS + 1} must not be served while ${MAX_CONNECTIONS} are open`);
      assert.equal(extra.endedAt, null, `connection ${MAX_CONNECTIONS + 1} must not be closed either`);

      held[0].close();
      const t0 = Date.now();
      const r = await extra.response(5000);
      assertEnvelope(r, 200, 501, `connection ${MAX_CONNECTIONS + 1} after one closed`);
      assert.ok(Date.now() - t0 < 3000, `served ${Date.now() - t0} ms after a slot freed`);
      assert.match(crowd.logs(), /server\.max-connections \(8\) reached/, 'the limit is logged');
    } finally {
      held.forEach((c) => c.close());
    }
  });

  test('the slots come back when the connections close', async () => {
    await sleep(300);
    const conns = [];
    try {
      for (let i = 0; i < MAX_CONNECTIONS; i++) {
        const { r, c } = await once(crowd.port, INFO);
        conns.push(c);
        assertEnvelope(r, 200, 501, `connection ${i + 1} of a second round`);
      }
    } finally {
      conns.forEach((c) => c.close());
    }
  });
});

// These wait for timers: they run side by side.
describe(`timeouts (request ${REQUEST_TIMEOUT_MS} ms, idle ${IDLE_TIMEOUT_MS} ms)`, { concurrency: true }, () => {
  /** Writes text one byte every `every` ms until the connection closes or the text ends. */
  async function trickle(c, text, every) {
    for (const ch of text) {
      if (c.endedAt !== null) return;
      c.sock.write(ch);
      await sleep(every);
    }
  }

  test('slowloris: header bytes every 300 ms are cut off after the request timeout, nobody waits meanwhile', async () => {
    const header = 'GET /wx/auth/info HTTP/1.1\r\nHost: meetoa\r\nX-Slow: ' + 's'.repeat(200);
    const slow = [];
    for (let i = 0; i < 4; i++) {
      const c = connect(oa.port);
      await c.ready;
      c.t0 = Date.now(); // from the first byte
      trickle(c, header, 300);
      slow.push(c);
    }
    await sleep(500);
    const t0 = Date.now();
    const r = await oa.get('/wx/auth/info');
    assertAnswer(r, 200, 501, 'an ordinary request while the slow ones trickle');
    assert.ok(Date.now() - t0 < 1000, `answered in ${Date.now() - t0} ms`);

    const lasted = await Promise.all(slow.map((c) => c.closed));
    for (const [i, ms] of lasted.entries()) {
      assert.ok(ms >= REQUEST_TIMEOUT_MS - EARLY_MS, `slow client ${i} cut after ${ms} ms: not before the timeout`);
      assert.ok(ms <= REQUEST_TIMEOUT_MS + SLACK_MS, `slow client ${i} cut after ${ms} ms`);
      assert.equal(slow[i].text(), '', 'no answer to a request that never arrived');
    }
  });

  test('a body trickling after its headers is cut off the same way', async () => {
    const c = connect(oa.port);
    await c.ready;
    c.t0 = Date.now();
    await c.write(`POST ${LOGIN} HTTP/1.1\r\nHost: meetoa\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`);
    trickle(c, '{"code":"' + 'c'.repeat(89) + '"}', 300);
    const ms = await c.closed;
    assert.ok(ms >= REQUEST_TIMEOUT_MS - EARLY_MS && ms <= REQUEST_TIMEOUT_MS + SLACK_MS, `cut after ${ms} ms`);
    assert.equal(c.text(), '', 'no answer');
  });

  test('the request timeout counts from the first byte, not from the connection', async () => {
    const c = connect(oa.port);
    await c.ready;
    await sleep(1000); // idle first: that is the idle timeout's business
    c.t0 = Date.now();
    trickle(c, INFO.slice(0, -2), 300);
    const ms = await c.closed;
    assert.ok(ms >= REQUEST_TIMEOUT_MS - EARLY_MS && ms <= REQUEST_TIMEOUT_MS + SLACK_MS, `cut ${ms} ms after the first byte`);
    assert.equal(c.text(), '', 'no answer');
  });

  test('a request arriving in pieces within the timeout is served', async () => {
    const c = connect(oa.port);
    await c.ready;
    for (let i = 0; i < INFO.length; i += 6) {
      c.sock.write(INFO.slice(i, i + 6));
      await sleep(80);
    }
    assertEnvelope(await c.response(), 200, 501, 'a request sent in pieces');
    c.close();
  });

  test('a keep-alive connection idle for longer than the request timeout still serves', async () => {
    const { r, c } = await once(oa.port, INFO);
    assertEnvelope(r, 200, 501, 'first request');
    await sleep(REQUEST_TIMEOUT_MS + 500);
    assert.equal(c.endedAt, null, 'still open');
    await c.write(INFO);
    assertEnvelope(await c.response(), 200, 501, 'second request on the same connection');
    c.close();
  });

  test('a keep-alive connection with no request is closed after the idle timeout', async () => {
    const { r, c } = await once(oa.port, INFO);
    assertEnvelope(r, 200, 501, 'the request');
    c.t0 = Date.now();
    const ms = await c.closed;
    assert.ok(ms >= IDLE_TIMEOUT_MS - EARLY_MS && ms <= IDLE_TIMEOUT_MS + SLACK_MS, `closed after ${ms} ms idle`);
  });

  test('a connection that never sends a byte is closed after the idle timeout', async () => {
    const c = connect(oa.port);
    await c.ready;
    c.t0 = Date.now();
    const ms = await c.closed;
    assert.ok(ms >= IDLE_TIMEOUT_MS - EARLY_MS && ms <= IDLE_TIMEOUT_MS + SLACK_MS, `closed after ${ms} ms`);
    assert.equal(c.text(), '');
  });

  test('h2c (HTTP/2 without TLS) is not served: the preface is refused, Upgrade: h2c ignored', async () => {
    const { r, c } = await once(oa.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    assert.equal(r.status, 400);
    c.close();
    const upgrade = await once(
      oa.port,
      'GET /wx/auth/info HTTP/1.1\r\nHost: meetoa\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    );
    upgrade.c.close();
    assertEnvelope(upgrade.r, 200, 501, 'a request asking for h2c is answered in HTTP/1.1');
  });
});
