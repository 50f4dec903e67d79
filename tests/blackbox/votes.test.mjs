// Votes (docs/api.md "Votes"), on SQLite and MariaDB:
//   - the host creates, opens and closes; observers do not vote (506); draft and closed refuse
//     ballots (814); bad input 401/402;
//   - 100 concurrent ballots of one person count once (813 for the others);
//   - 200 people voting at once give exact totals;
//   - named votes show who chose what; anonymous ones keep nothing linking a choice to a person,
//     neither in the answers (admins included) nor in the database;
//   - pass rules judged on those signed in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startWorld } from './lib/meetoa.mjs';
import { approvedMeeting, ok, organization, refused } from './lib/org.mjs';

let world, oa, org, admin, host, p1, obs, crowd, meeting;

before(async () => {
  world = await startWorld();
  oa = world.oa;
  org = organization(world);
  admin = await org.admin('管理员');
  [host, p1, obs] = await Promise.all(['主持人', '参会人', '列席人'].map((n) => org.member(n)));
  crowd = [];
  for (let i = 0; i < 200; i += 20) crowd.push(...(await Promise.all(Array.from({ length: 20 }, (_, k) => org.member(`投票人${i + k}`)))));
  meeting = await approvedMeeting(host, admin, { participantIds: [p1.id, ...crowd.map((c) => c.id)], observerIds: [obs.id] });
});
after(async () => {
  await world?.stop();
});

const create = (who, over = {}) =>
  who.post('/wx/vote/create', { meetingId: meeting.id, title: '预算是否通过', options: ['同意', '反对', '弃权'], passRule: 'majority', ...over });
const cast = (who, id, optionIds) => who.post('/wx/vote/cast', { id, optionIds });

test('the host manages a vote; who may vote; states; bad input', async () => {
  refused(await create(p1), 506, 'only the host or an admin creates');
  const v = ok(await create(host));
  assert.deepEqual(v.options.map((o) => o.text), ['同意', '反对', '弃权']);
  refused(await cast(p1, v.id, [v.options[0].id]), 814, 'a draft');
  ok(await host.post('/wx/vote/open', { id: v.id }));
  refused(await host.post('/wx/vote/open', { id: v.id }), 814, 'open already');
  refused(await cast(obs, v.id, [v.options[0].id]), 506, 'observers do not vote');
  refused(await cast(p1, v.id, [v.options[0].id, v.options[1].id]), 402, 'single choice');
  refused(await cast(p1, v.id, [999999]), 402, 'not its option');
  refused(await cast(p1, v.id, []), 402);
  ok(await cast(p1, v.id, [v.options[1].id]));
  ok(await host.post('/wx/vote/close', { id: v.id }));
  refused(await cast(host, v.id, [v.options[0].id]), 814, 'closed');
  for (const [body, errno] of [
    [{ options: ['只有一个'] }, 402], [{ options: Array.from({ length: 21 }, (_, i) => `选项${i}`) }, 402],
    [{ options: ['同', '同'] }, 402], [{ options: 'a,b' }, 401], [{ title: '' }, 402], [{ passRule: 'most' }, 402],
    [{ multiple: false, maxChoices: 2 }, 402], [{ multiple: true, maxChoices: 4 }, 402], [{ options: ['', 'b'] }, 402],
  ])
    refused(await create(host, body), errno, JSON.stringify(body));
  const list = ok(await obs.get(`/wx/vote/list?meetingId=${meeting.id}`)).list;
  assert.ok(list.some((x) => x.id === v.id && x.state === 'closed' && x.votes === 1));
});

test('100 concurrent ballots of one person count once', async () => {
  const v = ok(await create(host));
  ok(await host.post('/wx/vote/open', { id: v.id }));
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => cast(p1, v.id, [v.options[i % 3].id])));
  assert.equal(answers.filter((r) => r.errno === 0).length, 1);
  assert.equal(answers.filter((r) => r.errno === 813).length, 99);
  const r = ok(await p1.get(`/wx/vote/result?id=${v.id}`));
  assert.equal(r.votes, 1);
  assert.equal(r.options.reduce((s, o) => s + o.count, 0), 1);
  assert.equal(r.myChoices.length, 1);
});

test('200 people at once: exact totals; a named vote shows who chose what', async () => {
  const v = ok(await create(host));
  ok(await host.post('/wx/vote/open', { id: v.id }));
  const answers = await Promise.all(crowd.map((c, i) => cast(c, v.id, [v.options[i % 3].id])));
  assert.ok(answers.every((r) => r.errno === 0), JSON.stringify(answers.filter((r) => r.errno !== 0).map((r) => r.errno)));
  ok(await host.post('/wx/vote/close', { id: v.id }));
  const r = ok(await admin.get(`/wx/vote/result?id=${v.id}`));
  assert.equal(r.votes, 200);
  assert.deepEqual(r.options.map((o) => o.count), [67, 67, 66]);
  assert.deepEqual(r.options.map((o) => o.voters.length), [67, 67, 66]);
  assert.ok(r.options[0].voters.some((x) => x.userId === crowd[0].id));
  assert.equal(r.passed, false, 'a tie for the lead, and nobody signed in');
});

test('ballots group-committed with refused ones: each person counted once, every refusal 813', async () => {
  // Ballots share transactions (group commit); a refused one rolls its batch back and every
  // ballot of it runs again alone: nothing may be lost or counted twice on the way.
  const v = ok(await create(host));
  ok(await host.post('/wx/vote/open', { id: v.id }));
  const people = crowd.slice(0, 100);
  const answers = await Promise.all(people.flatMap((c, i) => [0, 1].map((k) => cast(c, v.id, [v.options[(i + k) % 3].id]))));
  assert.equal(answers.filter((r) => r.errno === 0).length, 100);
  assert.equal(answers.filter((r) => r.errno === 813).length, 100);
  for (let i = 0; i < people.length; i++) {
    const mine = answers.slice(2 * i, 2 * i + 2);
    assert.equal(mine.filter((r) => r.errno === 0).length, 1, `person ${i}: ${JSON.stringify(mine)}`);
  }
  const r = ok(await host.get(`/wx/vote/result?id=${v.id}`));
  assert.equal(r.votes, 100);
  assert.equal(r.options.reduce((s, o) => s + o.count, 0), 100);
  assert.equal(r.options.reduce((s, o) => s + o.voters.length, 0), 100);
});

test('anonymous votes keep no link between a choice and a person', async () => {
  const v = ok(await create(host, { anonymous: true, multiple: true, maxChoices: 2 }));
  ok(await host.post('/wx/vote/open', { id: v.id }));
  ok(await cast(p1, v.id, [v.options[0].id, v.options[2].id]));
  for (const who of [p1, host, admin]) {
    const r = ok(await who.get(`/wx/vote/result?id=${v.id}`));
    assert.deepEqual(r.options.map((o) => o.count), [1, 0, 1]);
    assert.ok(r.options.every((o) => o.voters === undefined), 'no voters');
    assert.deepEqual(r.myChoices, [], 'not even the voter reads their choice back');
  }
  assert.equal(ok(await p1.get(`/wx/vote/result?id=${v.id}`)).voted, true);
  assert.deepEqual(await oa.sql(`SELECT count(*) FROM oa_vote_choice WHERE vote_id = ${v.id}`), [['0']]);
  refused(await cast(p1, v.id, [v.options[1].id]), 813);
});

test('pass rules count those signed in', async () => {
  const v = ok(await create(host, { options: ['同意', '反对'], passRule: 'two_thirds' }));
  ok(await host.post('/wx/vote/open', { id: v.id }));
  // three people signed in (set directly: sign-in itself is signin.test's subject)
  const three = [crowd[0], crowd[1], crowd[2]].map((c) => c.id).join(', ');
  await oa.sql(`UPDATE oa_attendee SET checkin_at = 1 WHERE meeting_id = ${meeting.id} AND user_id IN (${three})`);
  ok(await cast(crowd[0], v.id, [v.options[0].id]));
  ok(await cast(crowd[1], v.id, [v.options[0].id]));
  ok(await cast(crowd[2], v.id, [v.options[1].id]));
  const open = ok(await host.get(`/wx/vote/result?id=${v.id}`));
  assert.equal(open.passed, undefined, 'not judged while open');
  ok(await host.post('/wx/vote/close', { id: v.id }));
  const r = ok(await host.get(`/wx/vote/result?id=${v.id}`));
  assert.equal(r.present, 3);
  assert.deepEqual([r.passed, r.options[0].passed, r.options[1].passed], [true, true, false], '2 of 3 is two thirds');
});
