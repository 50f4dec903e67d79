// The booking rule under a race (docs/api.md "State changes"; docs/schema.md "No double
// booking"): no two meetings in states 2, 4, 5 hold one room at overlapping times. Through two
// meetoa processes on one MariaDB database (a private mariadbd), and two processes on one
// SQLite file: 40 drafts of overlapping times in one room submitted at once, half through each
// process, end with exactly one submitted meeting and errno 801 for the 39 others, in the
// answers and in the database; 12 back-to-back drafts (half-open intervals) submitted at once
// all succeed. Runs once (it starts its own databases), not per backend.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { newDataKey, newSecret, sqlite, startMeetoa, APP_ID } from './lib/meetoa.mjs';
import { meetoaDatasource, mysqlQuery, startMariadb } from './lib/mariadb.mjs';
import { cst, meetingBody, ok, organization } from './lib/org.mjs';
import { startWxemu } from './lib/wxemu.mjs';

const RACERS = 40;
const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

let wx, appSecret, dataKey, mariadb;
const processes = [];
const dirs = [];

before(async () => {
  appSecret = newSecret();
  dataKey = newDataKey();
  wx = await startWxemu({ apps: [{ appid: APP_ID, secret: appSecret }] });
  mariadb = await startMariadb();
});

after(async () => {
  const problems = [];
  for (const p of processes) {
    const exit = await p.stop();
    if (exit.code !== 0) problems.push(`meetoa on port ${p.port} exited ${JSON.stringify(exit)}`);
    if (SANITIZER_REPORT.test(p.logs())) problems.push(`meetoa on port ${p.port}:\n${p.logs()}`);
  }
  await wx?.stop();
  await mariadb?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  assert.deepEqual(problems, []);
});

async function startPair(url, env) {
  const opts = { wxemu: wx, appSecret, dataKey, env, config: { oa: { datasource: { url } } } };
  const a = await startMeetoa(opts);
  processes.push(a);
  const b = await startMeetoa(opts);
  processes.push(b);
  return [a, b];
}

/** The race on instances a and b of one database; sql(query) reads that database. */
async function race(a, b, sql, env) {
  const orgA = organization({ wx, oa: a }, a, { env });
  const admin = await orgA.admin('管理员');
  const room = ok(await admin.post('/wx/room/create', { name: '抢手会议室' }));
  // members alternately logged in through a and b (tokens work on both: one database)
  const orgB = organization({ wx, oa: b }, b);
  orgB.firstAdmin = admin;
  const people = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? orgB : orgA).member(`成员${i}`)));
  const start = Date.now() + 86400e3;
  const drafts = [];
  for (let i = 0; i < RACERS; i++) {
    const host = people[i % people.length];
    const body = { ...meetingBody(), location: undefined, roomId: room.id, startTime: cst(start + i * 60e3), endTime: cst(start + 3600e3 + i * 60e3) };
    drafts.push({ host, id: ok(await host.post('/wx/meeting/create', body), 'create').id });
  }
  const answers = await Promise.all(drafts.map((d) => d.host.post('/wx/meeting/submit', { id: d.id })));
  const errnos = answers.map((r) => r.errno);
  assert.equal(errnos.filter((e) => e === 0).length, 1, `one winner: ${JSON.stringify(errnos)}`);
  assert.equal(errnos.filter((e) => e === 801).length, RACERS - 1, 'errno 801 for the others');
  const held = await sql(`SELECT count(*) FROM oa_meeting WHERE room_id = ${room.id} AND state IN (2, 4)`);
  assert.deepEqual(held, [['1']], 'one meeting holds the room in the database');

  // back to back: [k h, k+1 h) never overlap: all of them at once succeed
  const later = start + 7 * 86400e3;
  const chain = [];
  for (let i = 0; i < 12; i++) {
    const host = people[i % people.length];
    const body = { ...meetingBody(), location: undefined, roomId: room.id, startTime: cst(later + i * 3600e3), endTime: cst(later + (i + 1) * 3600e3) };
    chain.push({ host, id: ok(await host.post('/wx/meeting/create', body)).id });
  }
  const submitted = await Promise.all(chain.map((d) => d.host.post('/wx/meeting/submit', { id: d.id })));
  assert.deepEqual(submitted.map((r) => r.errno), Array(12).fill(0));
}

describe('two instances on one MariaDB database', () => {
  test(`${RACERS} concurrent bookings of one slot: exactly one wins`, async () => {
    const db = await mariadb.createDatabase();
    const ds = meetoaDatasource(db.url);
    const [a, b] = await startPair(ds.url, ds.env);
    await race(a, b, (q) => mysqlQuery(db.url, q), ds.env);
  });
});

describe('two processes on one SQLite file', () => {
  test(`${RACERS} concurrent bookings of one slot: exactly one wins`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-race-'));
    dirs.push(dir); // removed once the processes are stopped
    const file = path.join(dir, 'shared.db');
    const [a, b] = await startPair(`sqlite:${file}`);
    await race(a, b, (q) => sqlite(file, q));
  });
});
