// Reminders by WeChat subscription messages (docs/api.md "Reminders"), on SQLite and MariaDB,
// against wxemu's POST /cgi-bin/message/subscribe/send (its templates, keyword rules and
// one-time quotas), with two meetoa processes on one database:
//   - GET /wx/subscribe/templates and POST /wx/subscribe/report (accepts add one each; reject,
//     ban, filter and unknown ids add nothing; bad bodies 401/402);
//   - an approval sends the invitation to each participant who subscribed and the result to the
//     host, exactly once although both processes poll; values cut to their keyword's rules;
//     msgid kept exactly (above 2^53);
//   - quotas: no subscription, no message (skipped 43101); a server quota WeChat does not have
//     ends 43101 and the quota 0; a new accept sends again;
//   - a starting-soon reminder due while every process is stopped is sent once after a restart,
//     and nothing sent before is sent again;
//   - a cancellation drops what was pending and tells the participants; a refusal that is our
//     configuration's (47003) is logged once, not per message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { startWorld, startMeetoa, eventually, mergeConfig } from './lib/meetoa.mjs';
import { APP_ID } from './lib/meetoa.mjs';
import { cst, meetingBody, ok, organization, refused } from './lib/org.mjs';

const T = { invitation: 'TPL_INVITE_0001', approval: 'TPL_APPROVAL_01', starting: 'TPL_START_00001', changed: 'TPL_CHANGE_0001' };
const SUBSCRIBE = {
  oa: {
    subscribe: {
      invitation: { 'template-id': T.invitation, data: 'thing1=title, time2=time, thing3=place, name4=host' },
      approval: { 'template-id': T.approval, data: 'thing1=title, phrase2=result, thing3=reason' },
      starting: { 'template-id': T.starting, data: 'thing1=title, time2=start, thing3=place' },
      changed: { 'template-id': T.changed, data: 'thing1=title, phrase2=result, thing3=reason' },
      'poll-ms': 200,
      'miniprogram-state': 'trial',
    },
  },
};
// WeChat's side: the templates as registered in the app (changed has a keyword our data lacks:
// WeChat answers 47003 for every such message, our configuration's fault)
const TEMPLATES = [
  { id: T.invitation, keywords: ['thing1', 'time2', 'thing3', 'name4'] },
  { id: T.approval, keywords: ['thing1', 'phrase2', 'thing3'] },
  { id: T.starting, keywords: ['thing1', 'time2', 'thing3'] },
  { id: T.changed, keywords: ['thing1', 'phrase2', 'thing3', 'thing4'] },
];

let world, wx, oa, oa2, org, admin, host, p1, p2;

async function startSecond() {
  return startMeetoa({ wxemu: wx, appSecret: world.appSecret, dataKey: oa.dataKey, dir: oa.dir, config: mergeConfig(oa.config, {}) });
}

before(async () => {
  world = await startWorld({ meetoa: { config: SUBSCRIBE } });
  ({ wx, oa } = world);
  oa2 = await startSecond();
  await wx.subscribeTemplates(APP_ID, TEMPLATES);
  org = organization(world);
  admin = await org.admin('管理员');
  [host, p1, p2] = await Promise.all(['主持人', '参会甲', '参会乙'].map((n) => org.member(n)));
});
after(async () => {
  // oa2 shares oa's folder and database: oa's stop removes them
  await oa2?.stop({ keepDir: true });
  try {
    await oa?.stop();
  } finally {
    await wx?.stop();
  }
});

/** The person subscribes on their phone (wxemu) and the mini program reports it (meetoa). */
async function subscribe(person, ...ids) {
  for (const id of ids) await wx.subscribeAccept(APP_ID, { openid: person.openid }, id);
  const results = Object.fromEntries(ids.map((id) => [id, 'accept']));
  return ok(await person.post('/wx/subscribe/report', { results: { ...results, errMsg: 'requestSubscribeMessage:ok' } })).quotas;
}

const sentTo = (list, person, template) => list.filter((m) => m.touser === person.openid && m.template_id === template);
const reminders = async (who, id) => ok(await who.get(`/wx/subscribe/reminders?meetingId=${id}`)).list;

/** Waits until the meeting's reminders are all out of pending/claimed; returns them. */
async function settled(id) {
  let list = [];
  await eventually(async () => {
    list = await reminders(host, id);
    return list.length > 0 && list.every((r) => r.state !== 'pending' && r.state !== 'claimed');
  }, 10000);
  return list;
}

test('templates and reports: accepts count, the rest does not', async () => {
  const t = ok(await p1.get('/wx/subscribe/templates'));
  assert.deepEqual(t, T);
  const visitor = await org.visitor('访客');
  assert.deepEqual(ok(await visitor.get('/wx/subscribe/templates')), T, 'anyone logged in');
  const q = ok(
    await visitor.post('/wx/subscribe/report', {
      results: { [T.invitation]: 'accept', [T.approval]: 'reject', [T.starting]: 'acceptWithAudio', [T.changed]: 'filter', OTHER: 'accept', errMsg: 'requestSubscribeMessage:ok' },
    }),
  ).quotas;
  assert.deepEqual(q, { [T.invitation]: 1, [T.approval]: 0, [T.starting]: 1, [T.changed]: 0 });
  const q2 = ok(await visitor.post('/wx/subscribe/report', { results: { [T.invitation]: 'accept', [T.changed]: 'ban' } })).quotas;
  assert.equal(q2[T.invitation], 2, 'accepts add up');
  assert.equal(q2[T.changed], 0);
  refused(await visitor.post('/wx/subscribe/report', {}), 401);
  refused(await visitor.post('/wx/subscribe/report', { results: 'accept' }), 402);
  refused(await visitor.post('/wx/subscribe/report', { results: [T.invitation] }), 402);
  const r = await oa.post('/wx/subscribe/report', { results: {} });
  assert.equal(r.errno, 501, 'logged in only');
});

test('an approval: invitations and the result sent once through two processes, values cut to their keywords', async () => {
  await wx.clearSubscribeSent();
  await subscribe(p1, T.invitation);
  await subscribe(host, T.approval);
  const title = '二〇二六年第四季度经营分析与明年预算编制工作会议'; // 24 characters: thing keeps 19 and '…'
  const c = ok(await host.post('/wx/meeting/create', meetingBody({ title, participantIds: [p1.id, p2.id], remindMinutes: 0 })));
  ok(await host.post('/wx/meeting/submit', { id: c.id }));
  // approved through the second process: both poll the same database
  const oa2admin = { post: (p, b) => oa2.post(p, b, { [oa.config.oa.token.header]: admin.token }) };
  ok(await oa2admin.post('/wx/meeting/approve', { id: c.id, approve: true }));
  const list = await settled(c.id);
  const byUser = Object.fromEntries(list.map((r) => [`${r.kind}:${r.userId}`, r]));
  assert.equal(byUser[`invitation:${p1.id}`].state, 'sent');
  assert.equal(byUser[`invitation:${p2.id}`].state, 'skipped', 'p2 never subscribed');
  assert.equal(byUser[`invitation:${p2.id}`].errcode, 43101);
  assert.equal(byUser[`approval:${host.id}`].state, 'sent');
  assert.equal(list.length, 3);
  await sleep(600); // three more polls of each process: still nothing sent twice
  const sent = await wx.subscribeSent(APP_ID);
  assert.equal(sentTo(sent, p1, T.invitation).length, 1);
  assert.equal(sentTo(sent, p2, T.invitation).length, 0);
  assert.equal(sentTo(sent, host, T.approval).length, 1);
  assert.equal(sent.length, 2);
  const inv = sentTo(sent, p1, T.invitation)[0];
  assert.equal(inv.page, `pages/meeting/detail/detail?id=${c.id}`);
  assert.equal(inv.miniprogram_state, 'trial');
  assert.equal(inv.lang, 'zh_CN');
  assert.equal(inv.data.thing1.value, `${[...title].slice(0, 19).join('')}…`);
  assert.match(inv.data.time2.value, /^\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}~(\d{4}年\d{2}月\d{2}日 )?\d{2}:\d{2}$/);
  assert.equal(inv.data.thing3.value, '3楼');
  assert.equal(inv.data.name4.value, '主持人');
  const apr = sentTo(sent, host, T.approval)[0];
  assert.equal(apr.data.phrase2.value, '已通过');
  assert.equal(apr.data.thing3.value, '无', 'an empty value is never sent');
  // msgid exactly as WeChat gave it (above 2^53: kept as a 64-bit integer, answered as text)
  assert.equal(byUser[`invitation:${p1.id}`].msgid, inv.msgid);
  assert.ok(BigInt(inv.msgid) > 2n ** 53n);
  // quotas spent on both sides
  assert.equal(await wx.subscribeQuota(APP_ID, { openid: p1.openid }, T.invitation), 0);
  assert.equal(ok(await p1.post('/wx/subscribe/report', { results: {} })).quotas[T.invitation], 0);
  // only the host and admins read the reminders
  refused(await p1.get(`/wx/subscribe/reminders?meetingId=${c.id}`), 506);
  assert.equal((await reminders(admin, c.id)).length, 3);
});

test('quota: used up, a quota WeChat does not have (43101), a new accept', async () => {
  await wx.clearSubscribeSent();
  await subscribe(p1, T.invitation); // one for two meetings
  const approve = async () => {
    const c = ok(await host.post('/wx/meeting/create', meetingBody({ participantIds: [p1.id], remindMinutes: 0 })));
    ok(await host.post('/wx/meeting/submit', { id: c.id }));
    ok(await admin.post('/wx/meeting/approve', { id: c.id, approve: true }));
    return (await settled(c.id)).find((r) => r.kind === 'invitation');
  };
  assert.equal((await approve()).state, 'sent');
  const second = await approve();
  assert.equal(second.state, 'skipped');
  assert.equal(second.errcode, 43101);
  // the client reports an accept that WeChat never counted: WeChat refuses, the quota is 0
  ok(await p1.post('/wx/subscribe/report', { results: { [T.invitation]: 'accept' } }));
  const third = await approve();
  assert.equal(third.state, 'failed');
  assert.equal(third.errcode, 43101);
  assert.equal(ok(await p1.post('/wx/subscribe/report', { results: {} })).quotas[T.invitation], 0);
  // subscribing again sends again
  await subscribe(p1, T.invitation);
  assert.equal((await approve()).state, 'sent');
  assert.equal(sentTo(await wx.subscribeSent(APP_ID), p1, T.invitation).length, 2);
});

test('a starting-soon reminder due while every process is stopped goes out once after the restart', async () => {
  await wx.clearSubscribeSent();
  await subscribe(p1, T.starting);
  await subscribe(host, T.starting);
  // starts in 66 s, reminded a minute before: due in about 6 s
  const start = Date.now() + 66e3;
  const c = ok(
    await host.post('/wx/meeting/create', { ...meetingBody({ participantIds: [p1.id], remindMinutes: 1 }), startTime: cst(start), endTime: cst(start + 1800e3) }),
  );
  ok(await host.post('/wx/meeting/submit', { id: c.id }));
  ok(await admin.post('/wx/meeting/approve', { id: c.id, approve: true }));
  const pending = (await reminders(host, c.id)).filter((r) => r.kind === 'starting');
  assert.equal(pending.length, 2);
  assert.ok(pending.every((r) => r.state === 'pending'));
  const sentBefore = (await wx.subscribeSent(APP_ID)).length;
  // every process stops before it is due, and none runs when it falls due
  const dir = oa.dir;
  // the same ports again: the people's requests go to oa's
  const opts = (p) => ({ wxemu: wx, appSecret: world.appSecret, dataKey: p.dataKey, dir, config: mergeConfig(p.config, { server: { port: p.port } }) });
  const [o1, o2] = [opts(oa), opts(oa2)];
  await oa2.stop({ keepDir: true });
  await oa.stop({ keepDir: true });
  await sleep(Math.max(0, start - 60e3 - Date.now()) + 1500);
  assert.equal((await wx.subscribeSent(APP_ID)).length, sentBefore, 'nothing sent while stopped');
  oa = await startMeetoa(o1);
  oa2 = await startMeetoa(o2);
  const list = (await settled(c.id)).filter((r) => r.kind === 'starting');
  assert.deepEqual(list.map((r) => r.state), ['sent', 'sent']);
  await sleep(600);
  const sent = await wx.subscribeSent(APP_ID);
  assert.equal(sentTo(sent, p1, T.starting).length, 1);
  assert.equal(sentTo(sent, host, T.starting).length, 1);
  assert.equal(sent.length, sentBefore + 2, 'nothing sent before is sent again');
  const msg = sentTo(sent, p1, T.starting)[0];
  assert.match(msg.data.time2.value, /^\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}$/);
});

test('a cancellation drops what is pending and tells the participants; our configuration fault logged once', async () => {
  await wx.clearSubscribeSent();
  await subscribe(p1, T.changed, T.starting);
  await subscribe(p2, T.changed);
  const c = ok(await host.post('/wx/meeting/create', meetingBody({ participantIds: [p1.id, p2.id], remindMinutes: 30 })));
  ok(await host.post('/wx/meeting/submit', { id: c.id }));
  ok(await admin.post('/wx/meeting/approve', { id: c.id, approve: true }));
  ok(await host.post('/wx/meeting/cancel', { id: c.id, reason: '改期' }));
  const list = await settled(c.id);
  assert.deepEqual(
    list.filter((r) => r.kind === 'starting').map((r) => r.state),
    ['dropped', 'dropped', 'dropped'],
    'host, p1 and p2 would have been reminded 30 minutes before',
  );
  const changed = list.filter((r) => r.kind === 'changed');
  assert.equal(changed.length, 2);
  // WeChat's changed template has a keyword (thing4) our data does not fill: 47003, each time
  assert.deepEqual(changed.map((r) => [r.state, r.errcode]), [['failed', 47003], ['failed', 47003]]);
  assert.equal(sentTo(await wx.subscribeSent(APP_ID), p1, T.changed).length, 0);
  // refused before it was sent: the subscriptions are given back
  assert.equal(ok(await p1.post('/wx/subscribe/report', { results: {} })).quotas[T.changed], 1);
  assert.equal(await wx.subscribeQuota(APP_ID, { openid: p1.openid }, T.changed), 1);
  const logs = oa.logs() + oa2.logs();
  const lines = logs.split('\n').filter((l) => /WeChat refuses the changed messages/.test(l));
  assert.ok(lines.length >= 1 && lines.length <= 2, `logged once per process, not per message:\n${lines.join('\n')}`);
  assert.match(lines[0], /errcode 47003/);
  assert.doesNotMatch(logs, new RegExp(p1.openid), 'openids are never logged');
});
