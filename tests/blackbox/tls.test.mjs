// tls.test.mjs — MeetOA's HTTPS path to WeChat and its certificate checks, end to end: wxemu
// speaks HTTPS with certificates made here by the `openssl` command-line tool, and a real
// meetoa logs a user in through it.
//
// The PKI (fresh per run, in a temp dir): a private CA; a server certificate for 127.0.0.1
// (subjectAltName IP:127.0.0.1, DNS:localhost) signed by it; a certificate signed by the same
// CA for example.com only (right chain, wrong name); and an unrelated second CA.
//
// Scenarios (one meetoa each, oa.wx.api-base = https://127.0.0.1:PORT):
//   - oa.wx.ca-file = the private CA                    -> login errno 0, one jscode2session call;
//   - no ca-file (the system store)                     -> errno 715;
//   - ca-file = the unrelated CA                        -> errno 715;
//   - ca-file = the private CA, wxemu serving the
//     example.com certificate                           -> errno 715 (the host name check).
// A refusal must happen before any request is sent: wxemu answered no jscode2session call and
// the code is still unspent afterwards; meetoa logged curl's reason (never the secret). An
// untrusted chain fails inside the handshake (wxemu logs a failed handshake); libcurl checks
// the host name once the handshake is complete, so then wxemu sees a connection that closes
// without a request.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  startMeetoa,
  APP_ID,
  newSecret,
  assertOk,
  assertErr,
  jscode2sessionCalls,
  eventually,
  run,
  TOKEN_RE,
} from './lib/meetoa.mjs';
import { startWxemu } from './lib/wxemu.mjs';

const OPENSSL = process.env.OPENSSL ?? 'openssl';
const HANDSHAKE_FAILED = /TLS handshake failed/g;
// libcurl's (OpenSSL backend) messages for an untrusted chain and for a name mismatch.
const CHAIN_REFUSED = /SSL certificate problem/i;
const NAME_REFUSED = /subject name does not match|no alternative certificate subject name matches/i;

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[test_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ip]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
[server_other_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:example.com
authorityKeyIdentifier = keyid
`;

const appSecret = newSecret();
let dir;
let pki; // file paths
let wxGood; // serves the 127.0.0.1 certificate
let wxOtherHost; // serves the example.com certificate, same CA

async function openssl(...args) {
  const r = await run(OPENSSL, args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r;
}

const file = (name) => path.join(dir, name);
const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed CA: {cert, key}. */
async function makeCa(name, cn) {
  const ca = { cert: file(`${name}.pem`), key: file(`${name}.key`) };
  await openssl('req', '-x509', '-config', file('openssl.cnf'), '-extensions', 'test_ca', ...keyArgs,
    '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${cn}`);
  return ca;
}

/** A server certificate signed by ca with the extensions of `section`: {cert, key}. */
async function makeServer(name, cn, section, ca) {
  const srv = { cert: file(`${name}.pem`), key: file(`${name}.key`) };
  const csr = file(`${name}.csr`);
  await openssl('req', '-new', '-config', file('openssl.cnf'), ...keyArgs, '-keyout', srv.key, '-out', csr,
    '-subj', `/CN=${cn}`);
  await openssl('x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial',
    `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', file('openssl.cnf'), '-extensions', section,
    '-out', srv.cert);
  return srv;
}

/** `openssl verify` of cert against caFile (optionally for an IP address): true when it passes. */
async function opensslVerifies(caFile, cert, ip) {
  const args = ['verify', '-CAfile', caFile, ...(ip ? ['-verify_ip', ip] : []), cert];
  return (await run(OPENSSL, args)).code === 0;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'meetoa-tls-'));
  writeFileSync(file('openssl.cnf'), OPENSSL_CONFIG);
  const [ca, otherCa] = await Promise.all([makeCa('ca', 'MeetOA test CA'), makeCa('other-ca', 'Unrelated test CA')]);
  const [server, otherHost] = await Promise.all([
    makeServer('server', '127.0.0.1', 'server_ip', ca),
    makeServer('other-host', 'example.com', 'server_other_host', ca),
  ]);
  pki = { ca, otherCa, server, otherHost };
  const apps = [{ appid: APP_ID, secret: appSecret }];
  [wxGood, wxOtherHost] = await Promise.all([
    startWxemu({ apps, tls: { ...server, ca: ca.cert } }),
    startWxemu({ apps, tls: { ...otherHost, ca: ca.cert } }),
  ]);
});

after(async () => {
  const exits = await Promise.all([wxGood?.stop(), wxOtherHost?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  // a clean exit (under ASan: no leak) after TLS connections, failed handshakes included
  for (const e of exits) if (e) assert.deepEqual(e, { code: 0, signal: null }, 'wxemu exits 0 on SIGTERM');
});

/** Runs fn(oa) against a fresh meetoa pointed at wx with this oa.wx.ca-file (undefined: none). */
async function withMeetoa(wx, caFile, fn) {
  const config = caFile === undefined ? {} : { oa: { wx: { 'ca-file': caFile } } };
  const oa = await startMeetoa({ wxemu: wx, appSecret, config });
  try {
    assert.match(oa.config.oa.wx['api-base'], /^https:\/\/127\.0\.0\.1:\d+$/, 'meetoa calls wxemu over HTTPS');
    if (caFile === undefined) assert.equal(oa.config.oa.wx['ca-file'], undefined, 'no oa.wx.ca-file');
    return await fn(oa);
  } finally {
    await oa.stop();
  }
}

const handshakeFailures = (wx) => (wx.logs().match(HANDSHAKE_FAILED) ?? []).length;

/**
 * A login through meetoa that the certificate check refuses: errno 715, no jscode2session call
 * answered by wxemu, `why` in meetoa's log, the code still unspent (WeChat never saw it), and,
 * when handshakeFails, a failed handshake in wxemu's log.
 */
async function assertRefused(wx, caFile, user, { why, handshakeFails }) {
  await withMeetoa(wx, caFile, async (oa) => {
    const calls = await jscode2sessionCalls(wx);
    const failures = handshakeFailures(wx);
    const r = await oa.login(user);
    assertErr(r, 715, `login of ${user}`);
    assert.equal(await jscode2sessionCalls(wx), calls, 'wxemu answered no jscode2session call');
    if (handshakeFails)
      assert.ok(await eventually(() => handshakeFailures(wx) > failures, 3000),
        `wxemu logged a failed TLS handshake; its log:\n${wx.logs()}`);
    const failed = /wx: GET \/sns\/jscode2session failed after \d+ ms: (.*)/.exec(oa.logs());
    assert.ok(failed, `meetoa logged the failed call; its log:\n${oa.logs()}`);
    assert.match(failed[1], why, 'meetoa logged why the call failed');
    assert.ok(!oa.logs().includes(appSecret), 'the app secret is not in meetoa logs');
    const direct = await wx.jscode2session({ appid: APP_ID, secret: appSecret, js_code: r.code, grant_type: 'authorization_code' });
    assert.equal(direct.status, 200);
    assert.equal(direct.json?.errcode, undefined, `the code was never spent: ${direct.text}`);
    assert.match(direct.json?.openid ?? '', /^o/, 'the code still exchanges at wxemu');
  });
}

test('ca-file = the private CA: the login succeeds over HTTPS', async () => {
  assert.match(wxGood.base, /^https:\/\/127\.0\.0\.1:\d+$/, 'wxemu announces https://');
  await withMeetoa(wxGood, pki.ca.cert, async (oa) => {
    const calls = await jscode2sessionCalls(wxGood);
    const r = await oa.login('tls-alice');
    assertOk(r, 'login over HTTPS');
    assert.match(r.data.token, TOKEN_RE);
    assert.equal(await jscode2sessionCalls(wxGood), calls + 1, 'one jscode2session call reached wxemu');
    assertOk(await oa.info(r.data.token), 'the token works');
    assert.ok(!oa.logs().includes(appSecret), 'the app secret is not in meetoa logs');
  });
});

test('no ca-file (the system store): the private CA is not trusted -> 715', async () => {
  await assertRefused(wxGood, undefined, 'tls-bob', { why: CHAIN_REFUSED, handshakeFails: true });
});

test('ca-file = an unrelated CA -> 715', async () => {
  assert.equal(await opensslVerifies(pki.otherCa.cert, pki.server.cert), false, 'the other CA did not sign it');
  await assertRefused(wxGood, pki.otherCa.cert, 'tls-carol', { why: CHAIN_REFUSED, handshakeFails: true });
});

test('a certificate of the trusted CA for another host name -> 715 (host name check)', async () => {
  assert.equal(await opensslVerifies(pki.ca.cert, pki.otherHost.cert), true, 'its chain is valid');
  assert.equal(await opensslVerifies(pki.ca.cert, pki.otherHost.cert, '127.0.0.1'), false, 'not for 127.0.0.1');
  assert.equal(await opensslVerifies(pki.ca.cert, pki.server.cert, '127.0.0.1'), true, 'the good one is');
  await assertRefused(wxOtherHost, pki.ca.cert, 'tls-dave', { why: NAME_REFUSED, handshakeFails: false });
});
