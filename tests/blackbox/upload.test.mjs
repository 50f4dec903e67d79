// upload.test.mjs — avatar upload and download: POST /wx/storage/upload (logged in,
// multipart/form-data field `file`) and GET /wx/storage/fetch/KEY.
//
// Real PNG, JPEG and WebP files go up and come back byte for byte with their image type and
// the cache headers; the type is judged by the bytes, never by the name or the claimed
// Content-Type; text, HTML, SVG and GIF are refused (740); a file over oa.storage.max-bytes
// is refused (741) and a body over the route limit gets HTTP 413; keys that are not exactly
// 32 hex digits and an image extension (../, %2e%2e, unknown names, planted symlinks) are
// 404; what is served is never HTML to a browser; files land in oa.storage.dir, 0644, under
// a random name, with no temporary file left behind.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startWorld, startMeetoa, assertOk, assertErr, assertAnswer, rawRequest, multipart } from './lib/meetoa.mjs';
import { tinyPng } from './lib/png.mjs';

const MAX_BYTES = 4096; // oa.storage.max-bytes of this suite
const KEY_RE = /^[0-9a-f]{32}\.(png|jpg|webp)$/;
const IMAGE_TYPES = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp' };

// ---------------------------------------------------------------------------------------
// Sample files

/** A valid 1x1 RGBA PNG, padded with a tEXt comment to exactly `size` bytes when given. */
function makePng(size) {
  if (size === undefined) return tinyPng();
  const textLen = size - tinyPng().length - 12 - 'Comment\0'.length; // a chunk adds 12 bytes of framing
  assert.ok(textLen > 0, `a PNG cannot be ${size} bytes`);
  const png = tinyPng({ text: 'x'.repeat(textLen) });
  assert.equal(png.length, size);
  return png;
}

/** A 1x1 greyscale baseline JPEG: SOI, APP0 JFIF, DQT, SOF0, two DHT, SOS, one block, EOI. */
const JPEG = Buffer.concat([
  Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb004300', 'hex'),
  Buffer.alloc(64, 1),
  Buffer.from('ffc0000b080001000101011100', 'hex'),
  Buffer.from('ffc40014000100000000000000000000000000000000', 'hex'),
  Buffer.from('ffc40014100100000000000000000000000000000000', 'hex'),
  Buffer.from('ffda0008010100003f003fffd9', 'hex'),
]);
/** Google's 1x1 WebP samples (WebP FAQ): lossy and lossless. */
const WEBP_LOSSY = Buffer.from('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA', 'base64');
const WEBP_LOSSLESS = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n');
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="1"/></svg>\n');
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

// ---------------------------------------------------------------------------------------
// Requests the fetch() API would not send as written



// ---------------------------------------------------------------------------------------

let world, oa, token, storageRoot, storageDir;

before(async () => {
  storageRoot = mkdtempSync(path.join(tmpdir(), 'meetoa-upload-'));
  storageDir = path.join(storageRoot, 'not', 'yet', 'there'); // created by the first upload
  world = await startWorld({ meetoa: { config: { oa: { storage: { dir: storageDir, 'max-bytes': MAX_BYTES } } } } });
  oa = world.oa;
  token = await oa.loginOk('avatar-user', { nickName: 'Ava', avatarUrl: '', gender: 2 });
});

after(async () => {
  await world?.stop();
  if (storageRoot) rmSync(storageRoot, { recursive: true, force: true });
});

/** Uploads bytes that must be accepted; returns the key after checking the answer's shape. */
async function uploadOk(bytes, filename, contentType, ext) {
  const r = await oa.upload(token, bytes, filename, contentType);
  assertOk(r, `upload of ${filename}`);
  assert.deepEqual(Object.keys(r.data).sort(), ['key', 'url']);
  assert.match(r.data.key, KEY_RE);
  assert.ok(r.data.key.endsWith(`.${ext}`), `key ${r.data.key} should end in .${ext}`);
  assert.equal(r.data.url, `${oa.base}/wx/storage/fetch/${r.data.key}`);
  return r.data.key;
}

/** Fetches an uploaded key and checks bytes, type and headers. */
async function assertServed(key, bytes) {
  const ext = key.split('.')[1];
  const r = await oa.get(`/wx/storage/fetch/${key}`);
  assert.equal(r.status, 200, `fetch ${key}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  assert.equal(r.headers.get('content-type'), IMAGE_TYPES[ext]);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('content-length'), String(bytes.length));
  assert.ok(r.body.equals(bytes), `fetch ${key}: the bytes differ from what was uploaded`);
}

describe('real images go up and come back', () => {
  const cases = [
    ['a 1x1 PNG', () => makePng(), 'avatar.png', 'image/png', 'png'],
    ['a 1x1 JPEG', () => JPEG, 'avatar.jpg', 'image/jpeg', 'jpg'],
    ['a lossy WebP', () => WEBP_LOSSY, 'avatar.webp', 'image/webp', 'webp'],
    ['a lossless WebP', () => WEBP_LOSSLESS, 'tmp_1a2b.webp', 'image/webp', 'webp'],
    ['a PNG of exactly oa.storage.max-bytes', () => makePng(MAX_BYTES), 'big.png', 'image/png', 'png'],
    // The type comes from the bytes: a JPEG named and labelled PNG is stored and served as JPEG.
    ['a JPEG that claims to be a PNG', () => JPEG, 'avatar.png', 'image/png', 'jpg'],
    ['a PNG sent as application/octet-stream', () => makePng(), 'wxfile://tmp_abc', 'application/octet-stream', 'png'],
  ];
  for (const [what, bytes, filename, type, ext] of cases) {
    test(what, async () => {
      const data = bytes();
      const key = await uploadOk(data, filename, type, ext);
      await assertServed(key, data);
      const file = path.join(storageDir, key);
      assert.ok(readFileSync(file).equals(data), 'the stored file holds the uploaded bytes');
      assert.equal(statSync(file).mode & 0o777, 0o644, 'file mode');
    });
  }

  test('the storage directory was created 0755 and holds only finished, randomly named files', async () => {
    assert.equal(statSync(storageDir).mode & 0o777, 0o755);
    const names = readdirSync(storageDir);
    assert.ok(names.length >= 7, `files: ${names}`);
    for (const n of names) assert.match(n, KEY_RE, 'no temporary or other file is left behind');
  });

  test('the same bytes twice get two different keys', async () => {
    const png = makePng();
    const a = await uploadOk(png, 'a.png', 'image/png', 'png');
    const b = await uploadOk(png, 'a.png', 'image/png', 'png');
    assert.notEqual(a, b);
  });

  test('ten uploads at once all succeed with distinct keys', async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, () => oa.upload(token, makePng(), 'x.png', 'image/png')));
    for (const r of rs) assertOk(r, 'concurrent upload');
    assert.equal(new Set(rs.map((r) => r.data.key)).size, 10);
  });

  test('a hand-written body with preamble, other fields and an epilogue', async () => {
    const png = makePng();
    const { body, contentType } = multipart([
      { name: 'nickName', data: 'Ava' },
      { name: 'file', filename: 'avatar.png', type: 'image/png', data: png },
    ]);
    const framed = Buffer.concat([Buffer.from('preamble\r\n'), body, Buffer.from('epilogue')]);
    const r = await oa.post('/wx/storage/upload', framed, { 'content-type': contentType, 'X-OA-Token': token });
    assertOk(r, 'upload');
    await assertServed(r.data.key, png);
  });
});

describe('what is not a PNG, JPEG or WebP is refused (740)', () => {
  const cases = [
    ['a text file renamed .png', Buffer.from('just some text, really\n'), 'avatar.png', 'image/png'],
    ['an HTML file claiming image/png', HTML, 'avatar.png', 'image/png'],
    ['an HTML file sent as text/html', HTML, 'index.html', 'text/html'],
    ['an SVG image', SVG, 'avatar.svg', 'image/svg+xml'],
    ['a GIF image', GIF, 'avatar.gif', 'image/gif'],
    ['a PNG signature followed by HTML', Buffer.concat([makePng().subarray(0, 8), HTML]), 'a.png', 'image/png'],
    ['a PNG with HTML appended', Buffer.concat([makePng(), HTML]), 'a.png', 'image/png'],
    ['a truncated PNG', makePng().subarray(0, 40), 'a.png', 'image/png'],
    ['a JPEG start followed by HTML', Buffer.concat([JPEG.subarray(0, 4), HTML]), 'a.jpg', 'image/jpeg'],
  ];
  for (const [what, bytes, filename, type] of cases) {
    test(what, async () => {
      const before = readdirSync(storageDir).length;
      assertErr(await oa.upload(token, bytes, filename, type), 740, what);
      assert.equal(readdirSync(storageDir).length, before, 'nothing was stored');
    });
  }
});

describe('sizes', () => {
  test('a valid PNG one byte over oa.storage.max-bytes -> 741', async () => {
    assertErr(await oa.upload(token, makePng(MAX_BYTES + 1), 'big.png', 'image/png'), 741, 'upload');
  });

  test('a valid 5000-byte PNG -> 741', async () => {
    assertErr(await oa.upload(token, makePng(5000), 'big.png', 'image/png'), 741, 'upload');
  });

  test('an empty file -> 402', async () => {
    assertErr(await oa.upload(token, Buffer.alloc(0), 'empty.png', 'image/png'), 402, 'upload');
  });

  test('a body far over the route limit -> HTTP 413', async () => {
    // The route allows oa.storage.max-bytes + 64 KiB of body; this is about three times that.
    const r = await oa.upload(token, randomBytes(200 * 1024), 'huge.png', 'image/png');
    assert.equal(r.status, 413, `HTTP ${r.status} ${r.text.slice(0, 200)}`);
    if (r.json !== undefined) assert.equal(r.errno, 413);
  });
});

describe('requests that are not uploads', () => {
  test('no token -> 501', async () => {
    assertErr(await oa.upload(null, makePng(), 'a.png', 'image/png'), 501, 'upload');
  });

  test('an unknown token -> 501', async () => {
    assertErr(await oa.upload(randomBytes(32).toString('base64url'), makePng(), 'a.png', 'image/png'), 501, 'upload');
  });

  test('after logout -> 501', async () => {
    const other = await oa.loginOk('leaving-user');
    assertOk(await oa.logout(other), 'logout');
    assertErr(await oa.upload(other, makePng(), 'a.png', 'image/png'), 501, 'upload');
  });

  const badBodies = [
    ['a JSON body', () => ({ body: JSON.stringify({ file: 'x' }), contentType: 'application/json' })],
    ['no body at all', () => ({ body: undefined, contentType: undefined })],
    ['a form without the file field', () => multipart([{ name: 'avatar', filename: 'a.png', type: 'image/png', data: makePng() }])],
    ['a form without a closing delimiter', () => multipart([{ name: 'file', filename: 'a.png', data: makePng() }], { close: false })],
    ['multipart without a boundary', () => ({ ...multipart([{ name: 'file', data: makePng() }]), contentType: 'multipart/form-data' })],
    ['the right body under another boundary', () => ({ ...multipart([{ name: 'file', data: makePng() }]), contentType: 'multipart/form-data; boundary=other' })],
    ['a url-encoded form', () => ({ body: 'file=abc', contentType: 'application/x-www-form-urlencoded' })],
    ['the file field twice', () => multipart([{ name: 'file', filename: 'a.png', data: makePng() }, { name: 'file', filename: 'b.png', data: makePng() }])],
  ];
  for (const [what, make] of badBodies) {
    test(`${what} -> 401`, async () => {
      const { body, contentType } = make();
      const headers = { 'X-OA-Token': token };
      if (contentType !== undefined) headers['content-type'] = contentType;
      assertErr(await oa.send('POST', '/wx/storage/upload', body, headers), 401, what);
    });
  }

  test('GET on the upload route -> 405', async () => {
    assertAnswer(await oa.get('/wx/storage/upload', { 'X-OA-Token': token }), 405, 405, 'GET upload');
  });
});

describe('the URL answered', () => {
  test('a Host header that is not a plain host[:port] gives a relative URL', async () => {
    const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', type: 'image/png', data: makePng() }]);
    const r = await rawRequest(oa.port, 'POST', '/wx/storage/upload', {
      Host: 'evil.example"><script>',
      'Content-Type': contentType,
      'Content-Length': String(body.length),
      'X-OA-Token': token,
    }, body);
    assertOk(r, 'upload');
    assert.equal(r.data.url, `/wx/storage/fetch/${r.data.key}`);
  });

  test('oa.storage.base-url replaces the Host', async () => {
    const other = await startMeetoa({
      wxemu: world.wx,
      appSecret: world.appSecret,
      config: { oa: { storage: { dir: storageDir, 'base-url': 'https://cdn.example.com/oa/' } } },
    });
    try {
      const t = await other.loginOk('cdn-user');
      const r = await other.upload(t, makePng(), 'a.png', 'image/png');
      assertOk(r, 'upload');
      assert.equal(r.data.url, `https://cdn.example.com/oa/wx/storage/fetch/${r.data.key}`);
      // Both servers share the directory: the file is there for the first one too.
      await assertServed(r.data.key, makePng());
    } finally {
      const exit = await other.stop();
      assert.doesNotMatch(other.logs(), /Sanitizer|runtime error/);
      assert.deepEqual(exit, { code: 0, signal: null });
    }
  });
});

describe('fetch', () => {
  let key;
  before(async () => {
    key = await uploadOk(makePng(), 'a.png', 'image/png', 'png');
  });

  test('needs no login', async () => {
    const r = await oa.get(`/wx/storage/fetch/${key}`);
    assert.equal(r.status, 200);
  });

  test('names that are not exactly a key -> 404', async () => {
    writeFileSync(path.join(storageRoot, 'secret.txt'), 'top secret\n');
    const hex = key.slice(0, 32);
    const paths = [
      '/wx/storage/fetch/../application.yml',
      '/wx/storage/fetch/../../../../etc/passwd',
      '/wx/storage/fetch/%2e%2e/%2e%2e/%2e%2e/secret.txt',
      '/wx/storage/fetch/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt',
      '/wx/storage/fetch/..%2f..%2f..%2fsecret.txt',
      `/wx/storage/fetch/${hex}.png/../../../../secret.txt`,
      `/wx/storage/fetch/${hex.toUpperCase()}.png`,
      `/wx/storage/fetch/${hex}.PNG`,
      `/wx/storage/fetch/${hex}.html`,
      `/wx/storage/fetch/${hex}.svg`,
      `/wx/storage/fetch/${hex}`,
      `/wx/storage/fetch/${hex}.`,
      `/wx/storage/fetch/${hex.slice(1)}.png`,
      `/wx/storage/fetch/${hex}0.png`,
      `/wx/storage/fetch/${hex}.png.png`,
      `/wx/storage/fetch/${hex}.png%00`,
      `/wx/storage/fetch/${hex}.png%00.html`,
      `/wx/storage/fetch/.upload-${key}`,
      `/wx/storage/fetch/x${key}`,
      `/wx/storage/fetch/${'0'.repeat(32)}.png`, // well formed, never uploaded
      '/wx/storage/fetch/',
    ];
    for (const p of paths) {
      const r = await rawRequest(oa.port, 'GET', p);
      assertAnswer(r, 404, 404, p);
      assert.ok(!r.text.includes('top secret'), p);
    }
  });

  test('a query string does not change the key', async () => {
    const r = await oa.get(`/wx/storage/fetch/${key}?x=1.html`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
  });

  test('a symlink planted in the directory is not followed', async () => {
    writeFileSync(path.join(storageRoot, 'secret.txt'), 'top secret\n');
    const name = `${randomBytes(16).toString('hex')}.png`;
    symlinkSync(path.join(storageRoot, 'secret.txt'), path.join(storageDir, name));
    const r = await oa.get(`/wx/storage/fetch/${name}`);
    assertAnswer(r, 404, 404, 'symlink');
    assert.ok(!r.text.includes('top secret'));
    rmSync(path.join(storageDir, name));
  });

  test('HTML planted under an image name is served as an image, never as HTML', async () => {
    const name = `${randomBytes(16).toString('hex')}.png`;
    writeFileSync(path.join(storageDir, name), HTML);
    const r = await oa.get(`/wx/storage/fetch/${name}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.doesNotMatch(r.headers.get('content-type'), /html/i);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(r.body.equals(HTML));
    rmSync(path.join(storageDir, name));
  });

  test('POST on the fetch route -> 405', async () => {
    assertAnswer(await oa.post(`/wx/storage/fetch/${key}`, {}), 405, 405, 'POST fetch');
  });
});

test('the server stops cleanly, with no sanitizer report and no token in its log', async () => {
  const exit = await oa.stop();
  const logs = oa.logs();
  assert.doesNotMatch(logs, /Sanitizer|runtime error/, 'sanitizer report in the log');
  assert.ok(!logs.includes(token), 'the token appears in the log');
  assert.deepEqual(exit, { code: 0, signal: null });
});
