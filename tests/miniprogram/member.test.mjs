// member.test.mjs — joining the organization through the real pages, against real meetoa and
// wxemu: a visitor's home page (the join prompt), the first admin made with `meetoa user role`,
// an invite code made on 成员审批 and used on 加入组织, a request by name that the admin approves
// or refuses (the reason reaching the visitor), a bad code, a member who is not an admin on the
// admin's page, and the member search of 发布会议. What the pages show is checked against what
// the server stored (GET /wx/member/me with the user's own token, straight to the server).

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { loadMiniprogram, newPhone, startMiniWorld, setRoleByCli } from './harness.mjs';
import { assertOk } from '../blackbox/lib/meetoa.mjs';

const T = { timeout: 10000 };

let world;
before(async () => {
  world = await startMiniWorld();
});
after(async () => {
  await world?.stop();
});

/** A user with a phone and the mini program on it, logged in once (as 微信登录 does). */
async function person(name) {
  const phone = newPhone(world, name);
  const mp = loadMiniprogram(phone);
  await mp.user.loginByWeixin();
  return { name, phone, mp, token: () => phone.storage.get('token') };
}

/** Switches the globals to `p`'s phone (one mini program runs at a time) and answers its mp. */
function as(p) {
  p.phone.reset();
  return p.mp.activate();
}

/** GET /wx/member/me with p's token, straight to the server. */
async function serverMe(p) {
  const r = await world.oa.get('/wx/member/me', { [p.mp.api.TokenHeader]: p.token() });
  assertOk(r, `member/me of ${p.name}`);
  return r.data;
}

const apiPaths = (p) => p.phone.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`);

describe('joining the organization', () => {
  let alice; // the first admin
  let bob; // joins with an invite code
  let carol; // joins by request, approved
  let erin; // joins by request, refused
  let code;

  test('a visitor\'s home page shows the join prompt, and asks no meeting list', T, async () => {
    alice = await person('alice');
    const mp = as(alice);
    const index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.membership, 'none');
    assert.equal(index.data.isMember, false);
    assert.deepEqual(apiPaths(alice), ['GET /wx/auth/info', 'GET /wx/member/me']);
    assert.deepEqual(alice.phone.toasts(), []);
    assert.equal((await serverMe(alice)).membership, 'none');
    index.goJoin();
    assert.deepEqual(alice.phone.callsOf('navigateTo').map((c) => c.args.url), ['/pages/member/join/join']);
  });

  test('`meetoa user role OPENID admin` makes the first admin; the home page offers 成员审批', T, async () => {
    const r = await setRoleByCli(world, 'alice', 'admin');
    assert.equal(r.code, 0, r.stderr);
    const me = await serverMe(alice);
    assert.equal(me.membership, 'admin');
    assert.equal(me.role, 'admin');
    const mp = as(alice);
    const index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.membership, 'admin');
    assert.equal(index.data.isAdmin, true);
    assert.ok(index.data.menu.some((m) => m.id === 'requests' && m.url === '/pages/member/requests/requests'));
    index.onMenuTap({ currentTarget: { dataset: { id: 'requests' } } });
    assert.equal(alice.phone.callsOf('navigateTo').at(-1).args.url, '/pages/member/requests/requests');
  });

  test('成员审批: no requests yet; 生成邀请码 makes a code the server lists', T, async () => {
    const mp = as(alice);
    const page = mp.open('pages/member/requests/requests');
    await page.shown;
    assert.equal(page.data.denied, '');
    assert.equal(page.data.loaded, true);
    assert.deepEqual(page.data.requests, []);
    assert.equal(page.data.total, 0);

    page.onUsesChange({ detail: { value: '1' } }); // 10 uses
    page.onDaysChange({ detail: { value: '0' } }); // 1 day
    await page.onCreateInvite();
    code = page.data.newCode;
    assert.match(code, /^[A-Za-z0-9]{16}$/);
    const body = alice.phone.requests.find((r) => r.url === mp.api.MemberInvite).data;
    assert.deepEqual(body, { maxUses: 10, expireDays: 1 });
    const invites = await world.oa.get('/wx/member/invites', { [mp.api.TokenHeader]: alice.token() });
    assertOk(invites);
    assert.deepEqual(invites.data.list.map((i) => [i.code, i.maxUses, i.used]), [[code, 10, 0]]);
    assert.deepEqual(page.data.invites.map((i) => i.code), [code], 'the page lists the new code');
    await page.onCopyCode({ currentTarget: { dataset: { code } } });
    assert.equal(alice.phone.callsOf('setClipboardData')[0].args.data, code);
  });

  test('加入组织 with the invite code: a member at once, back to the home page', T, async () => {
    bob = await person('bob');
    const mp = as(bob);
    const join = mp.open('pages/member/join/join', { code });
    assert.equal(join.data.inviteCode, code, 'a shared link fills the code in');
    await join.shown;
    assert.equal(join.data.membership, 'none');
    await join.onSubmit({ detail: { value: { name: ' 王小明 ', department: '研发部', inviteCode: code } } });
    const body = bob.phone.requests.find((r) => r.url === mp.api.MemberJoin).data;
    assert.deepEqual(body, { name: '王小明', department: '研发部', inviteCode: code });
    assert.equal(join.data.membership, 'member');
    assert.deepEqual(bob.phone.toasts(), ['已加入组织']);
    assert.deepEqual(bob.phone.callsOf('switchTab').map((c) => c.args.url), ['/pages/index/index']);
    const me = await serverMe(bob);
    assert.equal(me.membership, 'member');
    assert.equal(me.name, '王小明');
    assert.equal(me.department, '研发部');

    // Opened again, the page says so instead of showing the form.
    const again = mp.open('pages/member/join/join');
    await again.shown;
    assert.equal(again.data.membership, 'member');
    assert.equal(again.data.name, '王小明');
  });

  test('a wrong invite code: the server\'s errmsg, nothing stored', T, async () => {
    const dave = await person('dave');
    const mp = as(dave);
    const join = mp.open('pages/member/join/join');
    await join.shown;
    await join.onSubmit({ detail: { value: { name: '赵六', department: '', inviteCode: 'NOSUCHCODE000000' } } });
    assert.deepEqual(dave.phone.toasts(), ['邀请码无效或已失效']);
    assert.equal(join.data.membership, 'none');
    assert.equal((await serverMe(dave)).membership, 'none');
  });

  test('an empty name is refused on the phone, without a request', T, async () => {
    const dave = await person('dave');
    const mp = as(dave);
    const join = mp.open('pages/member/join/join');
    await join.shown;
    const n = dave.phone.requests.length;
    await join.onSubmit({ detail: { value: { name: '  ', department: '销售部' } } });
    assert.equal(dave.phone.requests.length, n);
    assert.match(dave.phone.toasts().at(-1), /姓名/);
  });

  test('加入组织 without a code: pending; the home page says the request waits', T, async () => {
    carol = await person('carol');
    let mp = as(carol);
    const join = mp.open('pages/member/join/join');
    await join.shown;
    await join.onSubmit({ detail: { value: { name: '李四', department: '市场部', inviteCode: '' } } });
    assert.deepEqual(carol.phone.requests.find((r) => r.url === mp.api.MemberJoin).data, { name: '李四', department: '市场部' });
    assert.equal(join.data.membership, 'pending');
    assert.deepEqual(carol.phone.toasts(), ['申请已提交']);
    assert.equal(carol.phone.count('switchTab'), 0, 'the page stays');
    assert.equal((await serverMe(carol)).membership, 'pending');

    const index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.membership, 'pending');
    assert.equal(index.data.isMember, false);

    erin = await person('erin');
    mp = as(erin);
    const join2 = mp.open('pages/member/join/join');
    await join2.shown;
    await join2.onSubmit({ detail: { value: { name: '孙七', department: '' } } });
    assert.equal(join2.data.membership, 'pending');
  });

  test('成员审批 lists the requests oldest first; 通过 makes a member, 驳回 sends the reason', T, async () => {
    const mp = as(alice);
    const page = mp.open('pages/member/requests/requests');
    await page.shown;
    assert.deepEqual(page.data.requests.map((r) => [r.name, r.department]), [['李四', '市场部'], ['孙七', '']]);
    assert.equal(page.data.total, 2);
    const carolId = (await serverMe(carol)).userId;
    const erinId = (await serverMe(erin)).userId;
    assert.deepEqual(page.data.requests.map((r) => r.userId), [carolId, erinId]);

    await page.onApprove({ currentTarget: { dataset: { id: carolId } } });
    assert.deepEqual(alice.phone.requests.at(-1).data, { userId: carolId, approve: true });
    assert.equal((await serverMe(carol)).membership, 'member');
    assert.deepEqual(page.data.requests.map((r) => r.userId), [erinId]);

    page.onReasonInput({ detail: { value: '请使用真实姓名' } });
    await page.onReject({ currentTarget: { dataset: { id: erinId } } });
    assert.deepEqual(alice.phone.requests.at(-1).data, { userId: erinId, approve: false, reason: '请使用真实姓名' });
    assert.deepEqual(alice.phone.toasts(), ['已通过', '已驳回']);
    assert.deepEqual(page.data.requests, []);
    const erinMe = await serverMe(erin);
    assert.equal(erinMe.membership, 'none');
    assert.equal(erinMe.rejectReason, '请使用真实姓名');

    // The server agrees: no request is left.
    const left = await world.oa.get('/wx/member/requests', { [mp.api.TokenHeader]: alice.token() });
    assertOk(left);
    assert.equal(left.data.total, 0);
  });

  test('the refused visitor sees the reason on the home page and on 加入组织, and may ask again', T, async () => {
    const mp = as(erin);
    const index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.membership, 'none');
    assert.equal(index.data.rejectReason, '请使用真实姓名');
    const join = mp.open('pages/member/join/join');
    await join.shown;
    assert.equal(join.data.rejectReason, '请使用真实姓名');
    await join.onSubmit({ detail: { value: { name: '孙七七', department: '' } } });
    assert.equal(join.data.membership, 'pending');
    assert.equal((await serverMe(erin)).membership, 'pending');
  });

  test('a member who is not an admin: 成员审批 says it is for admins', T, async () => {
    const mp = as(bob);
    const page = mp.open('pages/member/requests/requests');
    await page.shown;
    assert.equal(page.data.denied, 'admin');
    assert.deepEqual(bob.phone.toasts(), [], 'no toast: the page explains');
  });

  test('发布会议\'s member search: by name or department, never the host', T, async () => {
    const mp = as(bob);
    const edit = mp.open('pages/meeting/edit/edit');
    await edit.shown;
    edit.onKeywordInput({ detail: { value: '' } });
    await edit.onSearch();
    const listed = await world.oa.get('/wx/member/list?limit=100', { [mp.api.TokenHeader]: bob.token() });
    assertOk(listed);
    const bobId = (await serverMe(bob)).userId;
    assert.ok(listed.data.list.some((u) => u.id === bobId), 'the server lists bob');
    assert.deepEqual(
      edit.data.results.map((r) => r.id),
      listed.data.list.filter((u) => u.id !== bobId).map((u) => u.id),
      'the members the server lists, in its order, without the host',
    );
    assert.ok(edit.data.results.some((r) => r.name === '李四'));
    assert.ok(!edit.data.results.some((r) => r.name === '孙七七'), 'a pending request is no member');

    edit.onKeywordInput({ detail: { value: '市场' } });
    await edit.onSearch();
    assert.deepEqual(edit.data.results.map((r) => r.name), ['李四']);
    const search = bob.phone.requests.filter((r) => r.url === mp.api.MemberList).at(-1);
    assert.equal(search.data.keyword, '市场');

    edit.onKeywordInput({ detail: { value: '没有这个人' } });
    await edit.onSearch();
    assert.deepEqual(edit.data.results, []);
    assert.equal(edit.data.searched, true);
  });
});
