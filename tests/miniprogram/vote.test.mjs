// vote.test.mjs — 会议投票 (pages/meeting/vote) against real meetoa and wxemu: the host reaches it
// from 会议详情, adds a question (the checks on the phone first, then the exact body), opens it;
// two participants vote, one of them tapping 投票 twice (one request, one ballot) and again from a
// page read before the ballot (813 shown, the page read again); an observer sees the results and
// no ballot; the host closes it and everyone sees whether it passed (majority of the people signed
// in) and, for a named vote, who chose what. An anonymous multiple-choice question: the maximum
// kept on the phone, counts only, and a two-thirds rule not met.
//
// Every check compares what a page shows with what the server answers (GET /wx/vote/result read
// straight from the server with the user's own token).
//
// The organization: alice (the first admin), bob (the host), carol and dave (participants),
// erin (an observer).

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { startMiniWorld, setRoleByCli } from './harness.mjs';
import { person, as, okCall, serverMe, joinWithCode } from './people.mjs';
import { cst } from '../blackbox/lib/org.mjs';

const T = { timeout: 15000 };

let world;
let alice, bob, carol, dave, erin;
const id = {};
let M; // the meeting

before(async () => {
  world = await startMiniWorld();
  alice = await person(world, 'alice');
  const cli = await setRoleByCli(world, 'alice', 'admin');
  assert.equal(cli.code, 0, cli.stderr);
  const invite = await okCall(world, alice, 'POST', '/wx/member/invite', { maxUses: 10, expireDays: 1 });
  bob = await person(world, 'bob');
  carol = await person(world, 'carol');
  dave = await person(world, 'dave');
  erin = await person(world, 'erin');
  id.alice = (await serverMe(world, alice)).userId;
  id.bob = await joinWithCode(world, bob, invite.code, '王小明', '研发部');
  id.carol = await joinWithCode(world, carol, invite.code, '李四', '市场部');
  id.dave = await joinWithCode(world, dave, invite.code, '赵六', '行政部');
  id.erin = await joinWithCode(world, erin, invite.code, '孙七', '财务部');
  // Approved, starting in ten minutes: sign-in is open (30 minutes before), so is voting.
  const start = Date.now() + 10 * 60e3;
  const c = await okCall(world, bob, 'POST', '/wx/meeting/create', {
    title: '预算评审会',
    startTime: cst(start),
    endTime: cst(start + 3600e3),
    location: '3楼',
    participantIds: [id.carol, id.dave],
    observerIds: [id.erin],
  });
  M = c.id;
  await okCall(world, bob, 'POST', '/wx/meeting/submit', { id: M });
  await okCall(world, alice, 'POST', '/wx/meeting/approve', { id: M, approve: true });
  // Three people signed in (the pass rules count them): bob, carol, dave.
  for (const u of [id.bob, id.carol, id.dave])
    await okCall(world, bob, 'POST', '/wx/meeting/checkin/makeup', { id: M, userId: u, reason: '现场签到' });
});
after(async () => {
  await world?.stop();
});

const serverResult = (p, voteId) => okCall(world, p, 'GET', `/wx/vote/result?id=${voteId}`);
const requestsTo = (p, url) => p.phone.requests.filter((r) => r.url === url);
const ev = (dataset) => ({ currentTarget: { dataset } });
const shown = (page, voteId) => page.data.votes.find((v) => v.id === voteId);
const optionId = (page, voteId, text) => shown(page, voteId).options.find((o) => o.text === text).id;

/** Opens the vote page of M as `p`; answers it, loaded. */
async function votePage(p) {
  const mp = as(p);
  const page = mp.open('pages/meeting/vote/vote', { id: String(M) });
  await page.shown;
  assert.equal(page.data.loaded, true);
  assert.equal(page.data.denied, '');
  return { mp, page };
}

/** The page's view of a question equals the server's result for the same user. */
function assertSameAsServer(page, r) {
  const v = shown(page, r.id);
  assert.equal(v.state, r.state);
  assert.equal(v.votes, r.votes);
  assert.equal(v.present, r.present);
  assert.deepEqual(
    v.options.map((o) => [o.id, o.text, o.count, o.mine, o.passed]),
    r.options.map((o) => [o.id, o.text, o.count, r.myChoices.includes(o.id), o.passed === true]),
  );
  assert.deepEqual(
    v.options.map((o) => o.voterNames),
    r.options.map((o) => (o.voters ?? []).map((x) => x.name).join('、')),
  );
}

describe('a named single-choice question with a majority rule', () => {
  let V;

  test('会议详情 links to the votes; the host sees no question yet and may add one', T, async () => {
    const mp = as(bob);
    const detail = mp.open('pages/meeting/detail/detail', { id: String(M) });
    await detail.shown;
    mp.tap(detail, 'onVotes');
    assert.equal(bob.phone.callsOf('navigateTo').at(-1).args.url, `/pages/meeting/vote/vote?id=${M}`);
    const { page } = await votePage(bob);
    assert.equal(page.data.meetingTitle, '预算评审会');
    assert.deepEqual([page.data.canManage, page.data.canVote, page.data.canCreate, page.data.canOpen], [true, true, true, true]);
    assert.deepEqual(page.data.votes, []);
    assert.deepEqual((await okCall(world, bob, 'GET', `/wx/vote/list?meetingId=${M}`)).list, []);
  });

  test('新建投票: the checks on the phone, then the exact body; the question is listed as not started', T, async () => {
    const { mp, page } = await votePage(bob);
    page.onToggleForm();
    assert.equal(page.data.showForm, true);
    bob.phone.reset();
    await page.onCreate();
    assert.equal(bob.phone.toasts().at(-1), '请填写投票标题（1到100个字）');
    page.onFormTitleInput({ detail: { value: '预算方案是否通过' } });
    page.onOptionInput({ ...ev({ index: 0 }), detail: { value: '同意' } });
    await page.onCreate();
    assert.equal(bob.phone.toasts().at(-1), '每个选项须为1到50个字');
    page.onOptionInput({ ...ev({ index: 1 }), detail: { value: '同意' } });
    await page.onCreate();
    assert.equal(bob.phone.toasts().at(-1), '选项不能重复');
    page.onRemoveOption(ev({ index: 0 }));
    assert.equal(page.data.formOptions.length, 2, 'never fewer than two options');
    assert.equal(bob.phone.toasts().at(-1), '至少2个选项');
    page.onAddOption();
    page.onOptionInput({ ...ev({ index: 1 }), detail: { value: '反对' } });
    page.onOptionInput({ ...ev({ index: 2 }), detail: { value: '弃权' } });
    page.onRuleChange({ detail: { value: '1' } }); // 过半数
    assert.equal(bob.phone.requests.length, 0, 'nothing sent while the form is wrong');

    await page.onCreate();
    const sent = requestsTo(bob, mp.api.VoteCreate);
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].data, { meetingId: M, title: '预算方案是否通过', options: ['同意', '反对', '弃权'], multiple: false, anonymous: false, passRule: 'majority' });
    assert.equal(bob.phone.toasts().at(-1), '已添加投票');
    const list = (await okCall(world, bob, 'GET', `/wx/vote/list?meetingId=${M}`)).list;
    assert.equal(list.length, 1);
    V = list[0].id;
    assert.deepEqual(page.data.votes.map((v) => [v.id, v.state, v.stateText]), [[V, 'draft', '未开始']]);
    assert.equal(shown(page, V).rulesText, '单选 · 实名 · 过半数通过');
    assert.equal(page.data.showForm, false);
    assert.deepEqual(page.data.formOptions, ['', ''], 'the form is emptied');
    assertSameAsServer(page, await serverResult(bob, V));
  });

  test('开始投票 opens it: the host may vote now', T, async () => {
    const { mp, page } = await votePage(bob);
    await page.onOpenVote(ev({ vote: V }));
    assert.deepEqual(requestsTo(bob, mp.api.VoteOpen).map((r) => r.data), [{ id: V }]);
    assert.equal((await serverResult(bob, V)).state, 'open');
    assert.equal(shown(page, V).state, 'open');
    assert.equal(shown(page, V).choosing, true, 'the host votes too');
    assert.equal(bob.phone.toasts().at(-1), '投票已开始');
  });

  test('a participant taps 投票 twice: one request, one ballot; a page read before it gets 813', T, async () => {
    const { mp, page } = await votePage(carol);
    const stalePage = mp.open('pages/meeting/vote/vote', { id: String(M) }); // another screen, read now
    await stalePage.shown;
    assert.equal(shown(page, V).choosing, true);
    await page.onCast(ev({ vote: V }));
    assert.equal(requestsTo(carol, mp.api.VoteCast).length, 0, 'nothing chosen: nothing sent');
    assert.equal(carol.phone.toasts().at(-1), '请先选择');

    const agree = optionId(page, V, '同意');
    page.onOptionTap(ev({ vote: V, option: optionId(page, V, '反对') }));
    page.onOptionTap(ev({ vote: V, option: agree })); // single choice: the last one tapped
    assert.deepEqual(shown(page, V).options.filter((o) => o.chosen).map((o) => o.id), [agree]);
    carol.phone.reset();
    const first = mp.tap(page, 'onCast', ev({ vote: V }));
    assert.equal(page.data.casting, V, 'disabled from the tap on');
    const second = mp.tap(page, 'onCast', ev({ vote: V }));
    await Promise.all([first, second]);
    const casts = requestsTo(carol, mp.api.VoteCast);
    assert.equal(casts.length, 1, 'one tap too many sent nothing');
    assert.deepEqual(casts[0].data, { id: V, optionIds: [agree] });
    assert.deepEqual(carol.phone.toasts(), ['投票成功']);
    assert.equal(page.data.casting, 0);
    const r = await serverResult(carol, V);
    assert.equal(r.votes, 1, 'one ballot');
    assert.deepEqual(r.myChoices, [agree]);
    assert.equal(shown(page, V).voted, true);
    assert.equal(shown(page, V).choosing, false, 'the results now');
    assertSameAsServer(page, r);

    // The other screen still offers the ballot: the server refuses the second one (813).
    stalePage.onOptionTap(ev({ vote: V, option: optionId(stalePage, V, '反对') }));
    carol.phone.reset();
    await stalePage.onCast(ev({ vote: V }));
    assert.deepEqual(carol.phone.toasts(), ['您已投过票']);
    assert.equal((await serverResult(carol, V)).votes, 1);
    assert.equal(shown(stalePage, V).voted, true, 'read again');
    assert.deepEqual(shown(stalePage, V).options.filter((o) => o.mine).map((o) => o.id), [agree]);
  });

  test('the second participant votes; the observer sees the counts and no ballot', T, async () => {
    const { page } = await votePage(dave);
    page.onOptionTap(ev({ vote: V, option: optionId(page, V, '同意') }));
    await page.onCast(ev({ vote: V }));
    const r = await serverResult(dave, V);
    assert.equal(r.votes, 2);
    assertSameAsServer(page, r);

    const { page: obs } = await votePage(erin);
    assert.equal(obs.data.canVote, false);
    assert.equal(obs.data.canManage, false);
    assert.equal(obs.data.canCreate, false);
    assert.equal(shown(obs, V).choosing, false, 'observers do not vote');
    assertSameAsServer(obs, await serverResult(erin, V));
    assert.equal(shown(obs, V).options.find((o) => o.text === '同意').count, 2);
  });

  test('结束投票 (confirmed) closes it: passed, with who chose what', T, async () => {
    const { mp, page } = await votePage(bob);
    bob.phone.state.modalAnswer = false;
    await page.onCloseVote(ev({ vote: V }));
    assert.equal(requestsTo(bob, mp.api.VoteClose).length, 0, 'not confirmed: nothing sent');
    bob.phone.state.modalAnswer = true;
    await page.onCloseVote(ev({ vote: V }));
    assert.deepEqual(requestsTo(bob, mp.api.VoteClose).map((r) => r.data), [{ id: V }]);
    const r = await serverResult(bob, V);
    assert.equal(r.state, 'closed');
    assert.equal(r.present, 3);
    assert.equal(r.passed, true, '2 of 3 signed in: more than half');
    assert.equal(shown(page, V).outcome, 'passed');
    assertSameAsServer(page, r);
    assert.equal(shown(page, V).options.find((o) => o.text === '同意').voterNames.split('、').sort().join('、'), ['李四', '赵六'].sort().join('、'));
    assert.equal(shown(page, V).options.find((o) => o.text === '同意').passed, true);

    const { page: c } = await votePage(carol);
    assert.equal(shown(c, V).outcome, 'passed');
    assert.equal(shown(c, V).choosing, false);
  });
});

describe('an anonymous multiple-choice question with a two-thirds rule', () => {
  let W;

  test('the maximum is kept on the phone; counts only, nobody named; not passed', { timeout: 20000 }, async () => {
    let { mp, page } = await votePage(bob);
    page.onToggleForm();
    page.onFormTitleInput({ detail: { value: '年会地点（可多选）' } });
    page.onOptionInput({ ...ev({ index: 0 }), detail: { value: '杭州' } });
    page.onOptionInput({ ...ev({ index: 1 }), detail: { value: '苏州' } });
    page.onAddOption();
    page.onOptionInput({ ...ev({ index: 2 }), detail: { value: '南京' } });
    page.onTypeChange({ detail: { value: '1' } });
    assert.deepEqual(page.data.maxOptions, ['最多2项', '最多3项']);
    page.onMaxChange({ detail: { value: '0' } }); // at most 2
    page.onAnonymousTap(ev({ value: 'anonymous' }));
    page.onRuleChange({ detail: { value: '2' } }); // 三分之二
    await page.onCreate();
    assert.deepEqual(requestsTo(bob, mp.api.VoteCreate)[0].data, {
      meetingId: M,
      title: '年会地点（可多选）',
      options: ['杭州', '苏州', '南京'],
      multiple: true,
      anonymous: true,
      passRule: 'two_thirds',
      maxChoices: 2,
    });
    W = page.data.votes.find((v) => v.title === '年会地点（可多选）').id;
    assert.equal(shown(page, W).rulesText, '多选（最多2项） · 匿名 · 三分之二通过');
    await page.onOpenVote(ev({ vote: W }));

    ({ mp, page } = await votePage(carol));
    page.onOptionTap(ev({ vote: W, option: optionId(page, W, '杭州') }));
    page.onOptionTap(ev({ vote: W, option: optionId(page, W, '苏州') }));
    page.onOptionTap(ev({ vote: W, option: optionId(page, W, '南京') }));
    assert.equal(carol.phone.toasts().at(-1), '最多选择2项');
    assert.deepEqual(shown(page, W).options.filter((o) => o.chosen).map((o) => o.text), ['杭州', '苏州']);
    page.onOptionTap(ev({ vote: W, option: optionId(page, W, '苏州') })); // tapped again: not chosen
    page.onOptionTap(ev({ vote: W, option: optionId(page, W, '南京') }));
    await page.onCast(ev({ vote: W }));
    assert.deepEqual(requestsTo(carol, mp.api.VoteCast).at(-1).data.optionIds, [optionId(page, W, '杭州'), optionId(page, W, '南京')]);
    const mine = await serverResult(carol, W);
    assert.equal(mine.voted, true);
    assert.deepEqual(mine.myChoices, [], 'anonymous: no link to the voter');
    assert.equal(shown(page, W).voted, true);
    assertSameAsServer(page, mine);

    ({ page } = await votePage(dave));
    page.onOptionTap(ev({ vote: W, option: optionId(page, W, '苏州') }));
    await page.onCast(ev({ vote: W }));

    ({ page } = await votePage(bob));
    await page.onCloseVote(ev({ vote: W }));
    const r = await serverResult(bob, W);
    assert.equal(r.passed, false, 'no option has two thirds of 3');
    assert.deepEqual(r.options.map((o) => o.count), [1, 1, 1]);
    assert.equal(shown(page, W).outcome, 'failed');
    assertSameAsServer(page, r);
    assert.ok(shown(page, W).options.every((o) => o.voterNames === ''), 'nobody named');
    assert.equal(page.data.votes.find((v) => v.title === '预算方案是否通过').outcome, 'passed', 'the first question is still shown, passed');
  });
});
