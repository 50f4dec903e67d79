// subscribe.test.mjs — subscription reminders (订阅消息) from the mini program's side, against real
// meetoa (oa.subscribe.* configured for three kinds; `invitation` left off) and wxemu:
//   - the template ids are fetched once per launch (GET /wx/subscribe/templates) into globalData;
//   - 提交审核 (发布会议 and 会议详情) asks wx.requestSubscribeMessage for the approval and
//     starting-soon templates, 参加 / 不参加 for starting-soon and changed (invitation is null: not
//     asked), from the tap itself (the stand-in refuses a call made outside a tap, as WeChat does),
//     before the main request; the success object is reported as it is (POST /wx/subscribe/report
//     {results}) and the server's quotas follow;
//   - a reject, a failed dialog (the user's switch off), a call outside a tap and a report that
//     fails never stop the action; a form stopped on the phone asks nothing.
// The suite waits for the server: it is skipped (saying so) when meetoa has no /wx/subscribe or
// does not know oa.subscribe.* (a server from before reminders).

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { startMiniWorld, setRoleByCli, loadMiniprogram } from './harness.mjs';
import { person, as, call, okCall, joinWithCode } from './people.mjs';
import { cst } from '../blackbox/lib/org.mjs';

const T = { timeout: 15000 };
const TPL = { approval: 'TplApproval_002', starting: 'TplStarting-003', changed: 'TplChanged_004' };

let world;
let alice, bob, carol, dave;
const id = {};
let waiting = ''; // why the suite cannot run yet

/** The day after tomorrow in the organization's time zone, "YYYY-MM-DD". */
const day = cst(Date.now() + 2 * 86400e3).slice(0, 10);

before(async () => {
  try {
    world = await startMiniWorld({
      oa: {
        subscribe: {
          approval: { 'template-id': TPL.approval, data: 'thing1=title, phrase2=result, thing3=reason' },
          starting: { 'template-id': TPL.starting, data: 'thing1=title, time2=start, thing3=place' },
          changed: { 'template-id': TPL.changed, data: 'thing1=title, phrase2=result, thing3=reason' },
        },
      },
    });
  } catch (e) {
    // A meetoa from before reminders refuses the configuration it does not know.
    if (!/oa\.subscribe\.[a-z.-]+: unknown key/.test(String(e && e.message))) throw e;
    waiting = 'meetoa does not know oa.subscribe.* yet (the server side of reminders)';
    return;
  }
  alice = await person(world, 'alice');
  const probe = await call(world, alice, 'GET', '/wx/subscribe/templates');
  if (probe.status === 404 || probe.errno === 404) {
    waiting = 'meetoa has no GET /wx/subscribe/templates yet (the server side of reminders)';
    return;
  }
  const cli = await setRoleByCli(world, 'alice', 'admin');
  assert.equal(cli.code, 0, cli.stderr);
  const invite = await okCall(world, alice, 'POST', '/wx/member/invite', { maxUses: 10, expireDays: 1 });
  bob = await person(world, 'bob');
  carol = await person(world, 'carol');
  dave = await person(world, 'dave');
  id.bob = await joinWithCode(world, bob, invite.code, '王小明', '研发部');
  id.carol = await joinWithCode(world, carol, invite.code, '李四', '市场部');
  id.dave = await joinWithCode(world, dave, invite.code, '赵六', '行政部');
});
after(async () => {
  await world?.stop();
});

const requestsTo = (p, url) => p.phone.requests.filter((r) => r.url === url);
const serverDetail = (p, m) => okCall(world, p, 'GET', `/wx/meeting/detail?id=${m}`);

/** Index in p's recorded wx calls of the first wx.request to `url` (-1 when none). */
const requestIndex = (p, url) => p.phone.calls.findIndex((c) => c.api === 'request' && c.args.url === url);
const subscribeIndex = (p) => p.phone.calls.findIndex((c) => c.api === 'requestSubscribeMessage');

/** An approved meeting of bob's with carol and dave as participants, two days from now. */
async function approvedMeeting(title, hour) {
  const c = await okCall(world, bob, 'POST', '/wx/meeting/create', {
    title,
    startTime: `${day} ${hour}:00:00`,
    endTime: `${day} ${hour}:30:00`,
    location: '线上',
    participantIds: [id.carol, id.dave],
  });
  await okCall(world, bob, 'POST', '/wx/meeting/submit', { id: c.id });
  await okCall(world, alice, 'POST', '/wx/meeting/approve', { id: c.id, approve: true });
  return c.id;
}

describe('subscription reminders', () => {
  test('the template ids: fetched once per launch, kept in globalData', T, async (t) => {
    if (waiting) return t.skip(waiting);
    assert.deepEqual(await okCall(world, bob, 'GET', '/wx/subscribe/templates'), { invitation: null, ...TPL });
    const mp = as(bob);
    const edit = mp.open('pages/meeting/edit/edit');
    await edit.shown;
    const detail = mp.open('pages/meeting/detail/detail', { id: '1' });
    await detail.shown;
    await mp.app.globalData.subscribePending;
    assert.equal(requestsTo(bob, mp.api.SubscribeTemplates).length, 1, 'two pages, one fetch');
    assert.deepEqual(mp.app.globalData.subscribeTemplates, { invitation: null, ...TPL });
    await mp.show(edit);
    assert.equal(requestsTo(bob, mp.api.SubscribeTemplates).length, 1, 'not again in this launch');

    // A new launch of the mini program on the same phone asks again.
    const relaunched = loadMiniprogram(bob.phone).activate();
    bob.phone.reset();
    const again = relaunched.open('pages/meeting/edit/edit');
    await again.shown;
    await relaunched.app.globalData.subscribePending;
    assert.equal(requestsTo(bob, mp.api.SubscribeTemplates).length, 1);
    bob.mp.activate();
  });

  test('发布会议 → 提交审核 asks for approval and starting-soon from the tap, before publishing; the result is reported', T, async (t) => {
    if (waiting) return t.skip(waiting);
    const mp = as(bob);
    const edit = mp.open('pages/meeting/edit/edit');
    await edit.shown;
    edit.onTitleInput({ detail: { value: '周例会' } });
    edit.onPlaceModeTap({ currentTarget: { dataset: { mode: 'location' } } });
    edit.onLocationInput({ detail: { value: '线上' } });
    await edit.onStartDateChange({ detail: { value: day } });

    // A form stopped on the phone asks nothing.
    edit.onTitleInput({ detail: { value: '' } });
    bob.phone.reset();
    await mp.tap(edit, 'onPublish');
    assert.equal(bob.phone.count('requestSubscribeMessage'), 0);
    edit.onTitleInput({ detail: { value: '周例会' } });

    bob.phone.reset();
    await mp.tap(edit, 'onPublish');
    assert.deepEqual(bob.phone.subscribeCalls.map((c) => [c.tmplIds, c.inTap, c.ok]), [[[TPL.approval, TPL.starting], true, true]]);
    const res = bob.phone.subscribeCalls[0].res;
    assert.deepEqual(res, { errMsg: 'requestSubscribeMessage:ok', [TPL.approval]: 'accept', [TPL.starting]: 'accept' });
    assert.ok(subscribeIndex(bob) < requestIndex(bob, mp.api.MeetingCreate), 'the dialog before the main request');
    const report = requestsTo(bob, mp.api.SubscribeReport);
    assert.equal(report.length, 1);
    assert.deepEqual(report[0].data, { results: res }, 'exactly the success object');
    assert.equal(report[0].header[mp.api.TokenHeader], bob.token());
    assert.deepEqual(mp.app.globalData.subscribeQuotas, { [TPL.approval]: 1, [TPL.starting]: 1, [TPL.changed]: 0 });
    const published = edit.data.id;
    assert.equal((await serverDetail(bob, published)).state, 2, 'published');
    assert.deepEqual(bob.phone.toasts(), ['已提交审核']);
  });

  test('a call that is not from a tap is refused by WeChat; the meeting is published anyway, nothing reported', T, async (t) => {
    if (waiting) return t.skip(waiting);
    const mp = as(bob);
    const edit = mp.open('pages/meeting/edit/edit');
    await edit.shown;
    edit.onTitleInput({ detail: { value: '预算会' } });
    edit.onPlaceModeTap({ currentTarget: { dataset: { mode: 'location' } } });
    edit.onLocationInput({ detail: { value: '线上' } });
    await edit.onStartDateChange({ detail: { value: day } });
    await edit.onStartTimeChange({ detail: { value: '14:00' } });
    await edit.onEndTimeChange({ detail: { value: '15:00' } });
    bob.phone.reset();
    await edit.onPublish(); // not a tap
    assert.deepEqual(bob.phone.subscribeCalls.map((c) => [c.inTap, c.ok, c.res.errCode]), [[false, false, 10005]]);
    assert.match(bob.phone.subscribeCalls[0].res.errMsg, /TAP gesture/);
    assert.equal(requestsTo(bob, mp.api.SubscribeReport).length, 0);
    assert.equal((await serverDetail(bob, edit.data.id)).state, 2);
  });

  test('会议详情 → 提交审核 asks for the same two; a rejected dialog is reported and the meeting submitted', T, async (t) => {
    if (waiting) return t.skip(waiting);
    const draft = await okCall(world, bob, 'POST', '/wx/meeting/create', {
      title: '草稿会',
      startTime: `${day} 16:00:00`,
      endTime: `${day} 17:00:00`,
      location: '线上',
      participantIds: [],
    });
    const mp = as(bob);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(draft.id) });
    await detail.shown;
    bob.phone.state.subscribe = { [TPL.approval]: 'reject', [TPL.starting]: 'reject' };
    bob.phone.reset();
    await mp.tap(detail, 'onSubmit');
    bob.phone.state.subscribe = {};
    assert.deepEqual(bob.phone.subscribeCalls.map((c) => c.tmplIds), [[TPL.approval, TPL.starting]]);
    assert.ok(subscribeIndex(bob) < requestIndex(bob, mp.api.MeetingSubmit));
    assert.deepEqual(requestsTo(bob, mp.api.SubscribeReport)[0].data.results, { errMsg: 'requestSubscribeMessage:ok', [TPL.approval]: 'reject', [TPL.starting]: 'reject' });
    assert.equal(mp.app.globalData.subscribeQuotas[TPL.approval], 1, 'a reject adds nothing (the accept before counts)');
    assert.equal((await serverDetail(bob, draft.id)).state, 2, 'submitted anyway');
    assert.equal(detail.data.m.state, 2);
  });

  test('参加 asks for starting-soon and changed (invitation is not configured); partly rejected; answered', T, async (t) => {
    if (waiting) return t.skip(waiting);
    const M = await approvedMeeting('答复测试会', '10');
    const mp = as(carol);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(M) });
    await detail.shown;
    await mp.app.globalData.subscribePending;
    carol.phone.state.subscribe = { [TPL.starting]: 'acceptWithAudio', [TPL.changed]: 'reject' };
    carol.phone.reset();
    await mp.tap(detail, 'onAttend');
    assert.deepEqual(carol.phone.subscribeCalls.map((c) => [c.tmplIds, c.inTap]), [[[TPL.starting, TPL.changed], true]], 'null ids are skipped');
    assert.ok(subscribeIndex(carol) < requestIndex(carol, mp.api.MeetingFeedback));
    const res = carol.phone.subscribeCalls[0].res;
    assert.deepEqual(requestsTo(carol, mp.api.SubscribeReport)[0].data, { results: res });
    assert.deepEqual(mp.app.globalData.subscribeQuotas, { [TPL.approval]: 0, [TPL.starting]: 1, [TPL.changed]: 0 }, 'acceptWithAudio is an accept');
    const m = await serverDetail(carol, M);
    assert.equal(m.attendees.find((a) => a.userId === id.carol).answer, 'attend');
    assert.equal(carol.phone.toasts().at(-1), '已答复参加');

    // 不参加 without a reason is stopped on the phone: no dialog.
    carol.phone.reset();
    await mp.tap(detail, 'onDecline');
    assert.equal(carol.phone.count('requestSubscribeMessage'), 0);
    assert.equal(requestsTo(carol, mp.api.MeetingFeedback).length, 0);
  });

  test('a failed dialog (the switch is off) and a report that fails: the answer is sent all the same', T, async (t) => {
    if (waiting) return t.skip(waiting);
    const M = await approvedMeeting('失败测试会', '11');
    let mp = as(dave);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(M) });
    await detail.shown;
    await mp.app.globalData.subscribePending;
    dave.phone.state.subscribeFail = { errMsg: 'requestSubscribeMessage:fail 用户关闭了主开关，无法进行订阅', errCode: 20004 };
    detail.onReasonInput({ detail: { value: '出差' } });
    dave.phone.reset();
    await mp.tap(detail, 'onDecline');
    dave.phone.state.subscribeFail = null;
    assert.equal(dave.phone.subscribeCalls.length, 1);
    assert.equal(dave.phone.subscribeCalls[0].ok, false);
    assert.equal(requestsTo(dave, mp.api.SubscribeReport).length, 0, 'nothing to report');
    const row = (await serverDetail(dave, M)).attendees.find((a) => a.userId === id.dave);
    assert.deepEqual([row.answer, row.reason], ['decline', '出差']);
    assert.deepEqual(dave.phone.toasts(), ['已答复不参加'], 'no error shown for the dialog');

    // The report fails (a proxy's error page): the answer is changed all the same, silently.
    mp = as(dave);
    dave.phone.state.intercept = ({ url }) => (url === mp.api.SubscribeReport ? { statusCode: 502, data: '<html>502 Bad Gateway</html>' } : undefined);
    dave.phone.reset();
    await mp.tap(detail, 'onAttend');
    dave.phone.state.intercept = null;
    assert.equal(requestsTo(dave, mp.api.SubscribeReport).length, 1);
    assert.equal((await serverDetail(dave, M)).attendees.find((a) => a.userId === id.dave).answer, 'attend');
    assert.deepEqual(dave.phone.toasts(), ['已答复参加']);
  });
});
