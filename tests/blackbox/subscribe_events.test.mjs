// Subscription events of WeChat's message push (docs/api.md "Reminders" and "Message push"), on
// SQLite and MariaDB, with wxemu pushing them to meetoa in safe mode as WeChat does:
//   - an accept reaches meetoa twice, reported by the client and pushed by WeChat
//     (subscribe_msg_popup_event), in either order: it counts once; an accept only pushed (a
//     client that does not report) counts too; a re-sent packet is not counted again;
//   - 拒收 under 服务通知 (subscribe_msg_change_event) ends the quota: the next reminder is skipped;
//   - subscribe_msg_sent_event: delivered (ErrorCode 0) leaves the reminder sent; not delivered
//     fails it with the event's ErrorCode, and a refusal by the user ends the quota;
//   - wxemu's revocation event reaches meetoa and deletes the phone number.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { APP_ID, eventually, startWorld } from './lib/meetoa.mjs';
import { meetingBody, ok, organization } from './lib/org.mjs';
import { aesKeyText, pushSafe } from './lib/push.mjs';

const TOKEN = 'PushToken' + randomBytes(4).toString('hex');
const KEY = aesKeyText();
const T = { invitation: 'TPL_INVITE_0001', approval: 'TPL_APPROVAL_01' };
const CONFIG = {
  oa: {
    subscribe: {
      invitation: { 'template-id': T.invitation, data: 'thing1=title, time2=time, thing3=place, name4=host' },
      approval: { 'template-id': T.approval, data: 'thing1=title, phrase2=result, thing3=reason' },
      'poll-ms': 200,
    },
    wx: { push: { token: TOKEN, 'aes-key': KEY } },
  },
};
const TEMPLATES = [
  { id: T.invitation, keywords: ['thing1', 'time2', 'thing3', 'name4'] },
  { id: T.approval, keywords: ['thing1', 'phrase2', 'thing3'] },
];

let world, wx, oa, org, admin, host;

before(async () => {
  world = await startWorld({ meetoa: { config: CONFIG } });
  ({ wx, oa } = world);
  await wx.subscribeTemplates(APP_ID, TEMPLATES);
  await wx.pushSettings(APP_ID, { url: `${oa.base}/wx/wechat/push`, token: TOKEN, encodingAesKey: KEY, delayMs: 50 });
  org = organization(world);
  admin = await org.admin('管理员');
  host = await org.member('主持人');
});
after(async () => {
  await world?.stop();
});

const quota = async (person, template = T.invitation) =>
  ok(await person.post('/wx/subscribe/report', { results: {} })).quotas[template];
const report = (person, template = T.invitation) =>
  person.post('/wx/subscribe/report', { results: { [template]: 'accept', errMsg: 'requestSubscribeMessage:ok' } });

/** Waits until wxemu's pushes of event have all been answered "success" by meetoa; returns them. */
async function pushed(event, n) {
  let list = [];
  const done = await eventually(async () => {
    const log = await wx.pushLog(APP_ID);
    list = log.list.filter((e) => e.event?.Event === event);
    return log.pending === 0 && list.length >= n;
  }, 8000);
  assert.ok(done, `${n} pushes of ${event} (${list.length} seen)`);
  for (const e of list) assert.equal(e.answer, 'success', JSON.stringify(e));
  return list;
}

/** Waits for the next wall-clock second: WeChat's events of one user carry CreateTime in seconds,
 * and two taps of one person are never in one second on a phone. */
async function nextSecond() {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

/** An approved meeting with the participants: {id, list} with its reminders once settled. */
async function approved(participants) {
  const c = ok(await host.post('/wx/meeting/create', meetingBody({ participantIds: participants.map((p) => p.id), remindMinutes: 0 })));
  ok(await host.post('/wx/meeting/submit', { id: c.id }));
  ok(await admin.post('/wx/meeting/approve', { id: c.id, approve: true }));
  let list = [];
  await eventually(async () => {
    list = ok(await host.get(`/wx/subscribe/reminders?meetingId=${c.id}`)).list;
    return list.length > 0 && list.every((r) => r.state !== 'pending' && r.state !== 'claimed');
  }, 10000);
  return { id: c.id, list };
}

test('an accept reported and pushed counts once, in either order; pushed only, it counts', async () => {
  const p = await org.member('订阅甲');
  await wx.clearPushLog();
  // the tap: WeChat pushes the popup event, then the client reports it
  await wx.subscribeAccept(APP_ID, { openid: p.openid }, T.invitation);
  await pushed('subscribe_msg_popup_event', 1);
  assert.equal(await quota(p), 1, 'pushed first');
  assert.equal(ok(await report(p)).quotas[T.invitation], 1, 'then reported: the same tap');
  // the report comes first this time
  await nextSecond();
  assert.equal(ok(await report(p)).quotas[T.invitation], 2, 'reported first');
  await wx.subscribeAccept(APP_ID, { openid: p.openid }, T.invitation);
  await pushed('subscribe_msg_popup_event', 2);
  assert.equal(await quota(p), 2, 'then pushed: the same tap');
  // an old client that does not report: the push alone counts
  await nextSecond();
  await wx.subscribeAccept(APP_ID, { openid: p.openid }, T.invitation);
  await pushed('subscribe_msg_popup_event', 3);
  assert.ok(await eventually(async () => (await quota(p)) === 3, 3000), 'pushed only');
  // WeChat's quota agrees
  assert.equal(await wx.subscribeQuota(APP_ID, { openid: p.openid }, T.invitation), 3);
});

test('a re-sent popup packet is acknowledged and not counted again; templates not ours are ignored', async () => {
  const p = await org.member('订阅乙');
  const event = {
    ToUserName: 'gh_1', FromUserName: p.openid, CreateTime: Math.floor(Date.now() / 1000), MsgType: 'event',
    Event: 'subscribe_msg_popup_event',
    List: [{ TemplateId: T.approval, SubscribeStatusString: 'accept', PopupScene: '0' },
      { TemplateId: 'NOT_OURS', SubscribeStatusString: 'accept', PopupScene: '0' },
      { TemplateId: T.invitation, SubscribeStatusString: 'reject', PopupScene: '0' }],
  };
  for (let i = 0; i < 2; i++) {
    const r = await pushSafe(oa, TOKEN, KEY, event);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'success');
  }
  const q = ok(await p.post('/wx/subscribe/report', { results: {} })).quotas;
  assert.deepEqual(q, { [T.invitation]: 0, [T.approval]: 1 });
});

test('拒收 under 服务通知 ends the quota: the next invitation is skipped', async () => {
  const p = await org.member('订阅丙');
  await wx.subscribeAccept(APP_ID, { openid: p.openid }, T.invitation);
  ok(await report(p));
  assert.ok(await eventually(async () => (await quota(p)) === 1, 3000));
  await wx.clearPushLog();
  await wx.subscribeReject(APP_ID, { openid: p.openid }, T.invitation);
  await pushed('subscribe_msg_change_event', 1);
  assert.equal(await quota(p), 0);
  const inv = (await approved([p])).list.find((r) => r.kind === 'invitation' && r.userId === p.id);
  assert.equal(inv.state, 'skipped');
  assert.equal(inv.errcode, 43101);
});

test('delivery reports: delivered stays sent; not delivered fails the reminder; refused ends the quota', async () => {
  const p = await org.member('订阅丁');
  for (let i = 0; i < 2; i++) {
    if (i > 0) await nextSecond();
    await wx.subscribeAccept(APP_ID, { openid: p.openid }, T.invitation);
    ok(await report(p));
  }
  assert.ok(await eventually(async () => (await quota(p)) === 2, 3000));
  await wx.clearPushLog();
  const m = await approved([p]);
  const inv = m.list.find((r) => r.kind === 'invitation' && r.userId === p.id);
  assert.equal(inv.state, 'sent');
  const [sentEvent] = await pushed('subscribe_msg_sent_event', 1);
  assert.equal(sentEvent.event.List[0].MsgID, Number(inv.msgid), "the event names the msgid (as a JSON number, read here as a double)");
  const state = async () => ok(await host.get(`/wx/subscribe/reminders?meetingId=${m.id}`)).list.find((r) => r.id === inv.id);
  assert.equal((await state()).state, 'sent', 'delivered');
  assert.equal(await quota(p), 1);
  // WeChat could not deliver it: the user refused to receive it
  const r = await pushSafe(oa, TOKEN, KEY, {
    ToUserName: 'gh_1', FromUserName: p.openid, CreateTime: Math.floor(Date.now() / 1000), MsgType: 'event',
    Event: 'subscribe_msg_sent_event',
    List: { TemplateId: T.invitation, MsgID: inv.msgid, ErrorCode: '10005', ErrorStatus: 'fail: user refuse to accept the msg' },
  });
  assert.equal(r.text, 'success');
  const failed = await state();
  assert.equal(failed.state, 'failed');
  assert.equal(failed.errcode, 10005);
  assert.equal(failed.msgid, inv.msgid, 'msgid kept');
  assert.equal(await quota(p), 0, 'refused: no subscription left');
});

test("wxemu's revocation event deletes the phone number", async () => {
  const p = await org.member('撤回者');
  const mobile = async () =>
    (await oa.sql(`SELECT CASE WHEN mobile = '' THEN 'none' ELSE mobile END FROM wx_user WHERE weixin_openid = '${p.openid}'`))[0][0];
  await oa.sql(`UPDATE wx_user SET mobile = '13800138000' WHERE weixin_openid = '${p.openid}'`);
  assert.equal(await mobile(), '13800138000');
  await wx.clearPushLog();
  await wx.pushEvent(APP_ID, { openid: p.openid }, 'user_authorization_revoke', '8');
  await pushed('user_authorization_revoke', 1);
  assert.equal(await mobile(), 'none');
});
