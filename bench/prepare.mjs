// bench/prepare.mjs — the data the benchmark scenarios need, made before wrk starts.
//
// Why a separate step: every request that wrk sends must already be valid (a logged-in
// user's token, an unused wx.login() code), and making that data inside wrk would mix its
// cost into the measurement. Node built-ins only (Node 20).
//
//   node bench/prepare.mjs logins --emu URL --server URL --appid ID --users N --prefix P --out FILE
//       logs N distinct users in through MeetOA (a code each from wxemu's /__emu/code, then
//       POST /wx/auth/login_by_weixin with a profile), writes their tokens one per line
//   node bench/prepare.mjs codes --emu URL --appid ID --users N --prefix P --count M --out FILE
//       issues M fresh login codes for N users (round robin), one per line, unused; wxemu
//       keeps them for 5 minutes
//   node bench/prepare.mjs mint --data-key B64 --count N --users U --out-tokens FILE --out-sql FILE
//       mints N tokens the way MeetOA does (32 random bytes, base64url) and writes SQL that
//       inserts their sessions (hash = HMAC-SHA256(HMAC-SHA256(data_key, "meetoa token hash v1"),
//       token), user i % U + 1, valid 2 hours) into wx_session (token line i + 1 is user i % U + 1)
//   node bench/prepare.mjs drive --server URL --tokens FILE --from A --to B [--concurrency C]
//       GET /wx/auth/info once with each token of lines [A, B) of FILE; prints
//       {"requests","errors","seconds"} and exits 1 when any answer was not errno 0
//   node bench/prepare.mjs info --server URL --tokens FILE --sample N
//       GET /wx/auth/info with N tokens of FILE (spread over it) and checks each answer: HTTP 200,
//       errno 0, data with nickName, avatar, mobile, unionId strings and a numeric gender; prints
//       {"checked","errors"} and exits 1 when any answer failed a check (run before and after
//       every timed info run, which reads no answers itself)
//   node bench/prepare.mjs meetings --server URL --tokens FILE --sample N
//       GET /wx/meeting/list?view=upcoming&page=1&limit=20 with N tokens of FILE (spread over it)
//       and checks each answer: errno 0, min(20, total) items, soonest first (by startTime), state
//       4 or 5 (approved, in progress); prints {"checked","errors","full","meanTotal"} and exits 1
//       when any answer failed a check
//   node bench/prepare.mjs verify --server URL --tokens FILE --sample N
//       GET /wx/auth/verify with N tokens of FILE (spread over it) and checks each answer: HTTP
//       200, no body, Cache-Control no-store, a numeric X-OA-User-Id, X-OA-Member-Role member and
//       an X-OA-Member-Name; then one unknown token, which must answer 401 without those headers;
//       prints {"checked","errors"} and exits 1 when any answer failed a check
//   node bench/prepare.mjs votes --server URL --ops FILE --from A --to B --expect fresh|repeat [--sample N]
//       sends the requests of lines [A, B) (or N lines spread over them) of a vote-signin operations file (TOKEN<TAB>PATH<TAB>
//       BODY, bench/lib/vote_signin.lua's), one at a time, and checks each answer: fresh, a sign-in
//       answers errno 0 with already false and a ballot errno 0 with voted true; repeat (the
//       operation was done before), a sign-in answers errno 0 with already true and a ballot 813;
//       prints {"checked","errors"} and exits 1 when any answer failed a check
//
// Every command prints one JSON line on stdout; progress and failures go to stderr.

import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

function need(args, name) {
  if (args[name] === undefined) throw new Error(`missing --${name}`);
  return args[name];
}

function needInt(args, name) {
  const v = Number.parseInt(need(args, name), 10);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} wants a non-negative integer`);
  return v;
}

/** One HTTP request over a keep-alive agent; resolves {status, json}. */
function request(agent, base, method, path, headers, body) {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            /* leave null: the caller counts it as an error */
          }
          resolve({ status: res.statusCode, json, headers: res.headers, text });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** Runs task(i) for i in [0, n) with at most `concurrency` in flight. */
async function pool(n, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

function newAgent(concurrency) {
  return new http.Agent({ keepAlive: true, maxSockets: concurrency });
}

async function issueCode(agent, emu, appid, user) {
  const r = await request(agent, emu, 'POST', '/__emu/code', { 'content-type': 'application/json' },
    JSON.stringify({ appid, user }));
  if (r.status !== 200 || typeof r.json?.code !== 'string') throw new Error(`wxemu /__emu/code answered ${r.status}`);
  return r.json.code;
}

/** The profile a bench user logs in with: realistic sizes, unique per user. */
function profileOf(i) {
  return { nickName: `bench user ${i}`, avatarUrl: `https://example.com/avatar/${i}.png`, gender: i % 3 };
}

async function cmdLogins(args) {
  const emu = need(args, 'emu');
  const server = need(args, 'server');
  const appid = need(args, 'appid');
  const users = needInt(args, 'users');
  const prefix = need(args, 'prefix');
  const concurrency = Number.parseInt(args.concurrency ?? '128', 10);
  const emuAgent = newAgent(32);
  const srvAgent = newAgent(concurrency);
  const tokens = new Array(users);
  const started = Date.now();
  await pool(users, concurrency, async (i) => {
    const code = await issueCode(emuAgent, emu, appid, `${prefix}${i}`);
    const r = await request(srvAgent, server, 'POST', '/wx/auth/login_by_weixin',
      { 'content-type': 'application/json' }, JSON.stringify({ code, userInfo: profileOf(i) }));
    if (r.json?.errno !== 0 || typeof r.json.data?.token !== 'string')
      throw new Error(`login of user ${i} answered HTTP ${r.status} errno ${r.json?.errno}`);
    tokens[i] = r.json.data.token;
  });
  writeFileSync(need(args, 'out'), tokens.join('\n') + '\n');
  emuAgent.destroy();
  srvAgent.destroy();
  return { users, seconds: (Date.now() - started) / 1000 };
}

async function cmdCodes(args) {
  const emu = need(args, 'emu');
  const appid = need(args, 'appid');
  const users = needInt(args, 'users');
  const count = needInt(args, 'count');
  const prefix = need(args, 'prefix');
  const agent = newAgent(64);
  const codes = new Array(count);
  const started = Date.now();
  await pool(count, 64, async (i) => {
    codes[i] = await issueCode(agent, emu, appid, `${prefix}${i % users}`);
  });
  writeFileSync(need(args, 'out'), codes.join('\n') + '\n');
  agent.destroy();
  return { codes: count, users, seconds: (Date.now() - started) / 1000 };
}

function cmdMint(args) {
  const dataKey = Buffer.from(need(args, 'data-key'), 'base64');
  if (dataKey.length !== 32) throw new Error('--data-key must be the base64 of 32 bytes');
  const count = needInt(args, 'count');
  const users = needInt(args, 'users');
  const now = Math.floor(Date.now() / 1000);
  const tokenKey = createHmac('sha256', dataKey).update('meetoa token hash v1').digest();
  const tokens = [];
  const sql = ['BEGIN;'];
  for (let i = 0; i < count; i++) {
    const token = randomBytes(32).toString('base64url');
    const hash = createHmac('sha256', tokenKey).update(token).digest('hex');
    tokens.push(token);
    // The sealed session_key is opened only by phone/check_session: random bytes of the real
    // length (24 characters of base64 + 12 nonce + 16 tag) stand in for it.
    sql.push('INSERT INTO wx_session (token_hash, user_id, created_at, expires_at, session_key_sealed, last_used_at) ' +
      `VALUES (X'${hash}', ${(i % users) + 1}, ${now}, ${now + 7200}, randomblob(52), ${now});`);
  }
  sql.push('COMMIT;');
  writeFileSync(need(args, 'out-tokens'), tokens.join('\n') + '\n');
  writeFileSync(need(args, 'out-sql'), sql.join('\n') + '\n');
  return { tokens: count, users };
}

// checked OUT ERRORS: a check's summary; with errors it is printed and the command fails.
function checked(out, errors) {
  if (errors > 0) {
    console.log(JSON.stringify(out));
    process.exit(1);
  }
  return out;
}

async function cmdDrive(args) {
  const server = need(args, 'server');
  const all = readFileSync(need(args, 'tokens'), 'utf8').split('\n').filter((l) => l.length > 0);
  const from = needInt(args, 'from');
  const to = Math.min(needInt(args, 'to'), all.length);
  const concurrency = Number.parseInt(args.concurrency ?? '64', 10);
  const agent = newAgent(concurrency);
  let errors = 0;
  const started = Date.now();
  await pool(to - from, concurrency, async (i) => {
    try {
      const r = await request(agent, server, 'GET', '/wx/auth/info', { 'x-oa-token': all[from + i] });
      if (r.status !== 200 || r.json?.errno !== 0) errors++;
    } catch {
      errors++;
    }
  });
  agent.destroy();
  const out = { requests: to - from, errors, seconds: (Date.now() - started) / 1000 };
  return checked(out, errors);
}

async function cmdInfo(args) {
  const server = need(args, 'server');
  const all = readFileSync(need(args, 'tokens'), 'utf8').split('\n').filter((l) => l.length > 0);
  const sample = Math.min(needInt(args, 'sample'), all.length);
  const agent = newAgent(16);
  let errors = 0;
  await pool(sample, 16, async (n) => {
    const i = Math.floor((n * all.length) / sample);
    const r = await request(agent, server, 'GET', '/wx/auth/info', { 'x-oa-token': all[i] });
    const d = r.json?.data;
    const shaped = d !== null && typeof d === 'object' && typeof d.gender === 'number' &&
      ['nickName', 'avatar', 'mobile', 'unionId'].every((k) => typeof d[k] === 'string');
    if (r.status !== 200 || r.json?.errno !== 0 || !shaped) {
      if (errors++ < 5) console.error(`prepare.mjs info: token ${i}: HTTP ${r.status} errno ${r.json?.errno}`);
    }
  });
  agent.destroy();
  const out = { checked: sample, errors };
  return checked(out, errors);
}

async function cmdMeetings(args) {
  const server = need(args, 'server');
  const all = readFileSync(need(args, 'tokens'), 'utf8').split('\n').filter((l) => l.length > 0);
  const sample = Math.min(needInt(args, 'sample'), all.length);
  const agent = newAgent(16);
  let errors = 0;
  let full = 0;
  let totals = 0;
  const fail = (i, why) => {
    if (errors++ < 5) console.error(`prepare.mjs meetings: token ${i}: ${why}`);
  };
  await pool(sample, 16, async (n) => {
    const i = Math.floor((n * all.length) / sample);
    const r = await request(agent, server, 'GET', '/wx/meeting/list?view=upcoming&page=1&limit=20',
      { 'x-oa-token': all[i] });
    const d = r.json?.data;
    if (r.status !== 200 || r.json?.errno !== 0 || !Array.isArray(d?.list)) {
      fail(i, `HTTP ${r.status} errno ${r.json?.errno}`);
      return;
    }
    totals += d.total;
    if (d.list.length !== Math.min(20, d.total)) return fail(i, `${d.list.length} items of ${d.total}`);
    if (d.list.length === 20) full++;
    for (let k = 0; k < d.list.length; k++) {
      const it = d.list[k];
      if (it.state !== 4 && it.state !== 5) return fail(i, `item ${k} in state ${it.state}`);
      if (k > 0 && it.startTime < d.list[k - 1].startTime) return fail(i, `item ${k} starts before item ${k - 1}`);
    }
  });
  agent.destroy();
  const out = { checked: sample, errors, full, meanTotal: sample > 0 ? Math.round(totals / sample) : 0 };
  return checked(out, errors);
}

async function cmdVerify(args) {
  const server = need(args, 'server');
  const all = readFileSync(need(args, 'tokens'), 'utf8').split('\n').filter((l) => l.length > 0);
  const sample = Math.min(needInt(args, 'sample'), all.length);
  const agent = newAgent(16);
  let errors = 0;
  const fail = (what, why) => {
    if (errors++ < 5) console.error(`prepare.mjs verify: ${what}: ${why}`);
  };
  await pool(sample, 16, async (n) => {
    const i = Math.floor((n * all.length) / sample);
    const r = await request(agent, server, 'GET', '/wx/auth/verify', { 'x-oa-token': all[i] });
    const h = r.headers;
    if (r.status !== 200 || r.text !== '' || h['cache-control'] !== 'no-store' ||
        !/^[1-9][0-9]*$/.test(h['x-oa-user-id'] ?? '') || h['x-oa-member-role'] !== 'member' ||
        !(h['x-oa-member-name']?.length > 0))
      fail(`token ${i}`, `HTTP ${r.status}, user ${h['x-oa-user-id']}, role ${h['x-oa-member-role']}, ${r.text.length} bytes`);
  });
  const bad = await request(agent, server, 'GET', '/wx/auth/verify',
    { 'x-oa-token': randomBytes(32).toString('base64url') });
  if (bad.status !== 401 || bad.headers['x-oa-user-id'] !== undefined) fail('an unknown token', `HTTP ${bad.status}`);
  agent.destroy();
  const out = { checked: sample + 1, errors };
  return checked(out, errors);
}

async function cmdVotes(args) {
  const server = need(args, 'server');
  const lines = readFileSync(need(args, 'ops'), 'utf8').split('\n').filter((l) => l.length > 0);
  const from = needInt(args, 'from');
  const to = Math.min(needInt(args, 'to'), lines.length);
  const expect = need(args, 'expect');
  if (expect !== 'fresh' && expect !== 'repeat') throw new Error('--expect is fresh or repeat');
  const sample = Math.min(args.sample === undefined ? to - from : needInt(args, 'sample'), to - from);
  const agent = newAgent(1);
  let errors = 0;
  for (let n = 0; n < sample; n++) {
    const i = from + Math.floor((n * (to - from)) / sample);
    const [token, path, body] = lines[i].split('\t');
    const r = await request(agent, server, 'POST', path,
      { 'content-type': 'application/json', 'x-oa-token': token }, body);
    const j = r.json;
    let ok;
    if (path === '/wx/meeting/checkin')
      ok = j?.errno === 0 && j.data?.already === (expect === 'repeat') && typeof j.data?.checkinTime === 'string';
    else if (expect === 'fresh') ok = j?.errno === 0 && j.data?.voted === true;
    else ok = j?.errno === 813;
    if (r.status !== 200 || !ok) {
      if (errors++ < 5) console.error(`prepare.mjs votes: line ${i} (${path}, ${expect}): HTTP ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
  agent.destroy();
  const out = { checked: sample, errors };
  return checked(out, errors);
}

const commands = {
  logins: cmdLogins, codes: cmdCodes, mint: cmdMint, drive: cmdDrive, info: cmdInfo, meetings: cmdMeetings,
  verify: cmdVerify, votes: cmdVotes,
};

async function main() {
  const [name, ...rest] = process.argv.slice(2);
  const cmd = commands[name];
  if (cmd === undefined) {
    console.error('usage: prepare.mjs logins|codes|mint|drive|info|meetings|verify|votes --option value ...');
    process.exit(2);
  }
  console.log(JSON.stringify(await cmd(parseArgs(rest))));
}

main().catch((e) => {
  console.error(`prepare.mjs: ${e.message}`);
  process.exit(1);
});
