// account.test.mjs — 我的 → 隐私与账号 (pages/account) of the real mini program against real meetoa
// and wxemu: the privacy guide's state, the devices logged in (this phone marked, 下线 of another
// one: its token refused by the server; 退出全部设备: every token refused, the phone logged out),
// the login log as the server keeps it, the data export (downloaded with the token, the same bytes
// the server sends, 发送到聊天 from a tap), and 注销账号 (the confirmation, a fresh wx.login code,
// the refusal 816 with the meetings the user hosts, 807 for the last admin, and the deletion:
// logged out, the old token refused, a new login making a new user).
//
// Every check compares what the page shows or sends with what the server answers when asked
// directly with the user's token.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { startMiniWorld, setRoleByCli, APP_ID } from './harness.mjs';
import { person, as, call, okCall, serverMe, joinWithCode, paths } from './people.mjs';
import { cst } from '../blackbox/lib/org.mjs';

const T = { timeout: 15000 };

let world;
before(async () => {
  world = await startMiniWorld();
});
after(async () => {
  await world?.stop();
});

const ev = (dataset) => ({ currentTarget: { dataset } });

/** An export without its clock (exportTime: two exports a moment apart may differ by a second). */
function clockless(exported) {
  assert.match(exported.exportTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  const { exportTime, ...rest } = exported;
  return rest;
}

/** Opens 隐私与账号 as `p`; answers {mp, page}, shown. */
async function accountPage(p) {
  const mp = as(p);
  const page = mp.open('pages/account/account');
  await page.shown;
  return { mp, page };
}

/** The server's own list of p's sessions. */
const serverSessions = async (p) => (await okCall(world, p, 'GET', '/wx/auth/sessions')).list;

describe('the way in', () => {
  test('我的 opens it; logged out it asks for a login and calls nothing', T, async () => {
    const p = await person(world, 'amy');
    const mp = as(p);
    const ucenter = mp.open('pages/ucenter/ucenter');
    await ucenter.shown;
    p.phone.reset();
    await mp.press(ucenter, 'account-link');
    assert.deepEqual(p.phone.callsOf('navigateTo').map((c) => c.args.url), ['/pages/account/account']);

    p.mp.util.clearLogin();
    p.phone.reset();
    const page = mp.open('pages/account/account');
    await page.shown;
    assert.equal(page.data.hasLogin, false);
    assert.equal(p.phone.requests.length, 0);
  });

  test('the privacy guide: its name and state from wx.getPrivacySetting; 查看 opens it; 去同意 shows the dialog', T, async () => {
    const p = await person(world, 'ben');
    const { mp, page } = await accountPage(p);
    assert.equal(page.data.contractName, p.phone.state.privacyContractName);
    assert.equal(page.data.privacyNeeded, true);
    await mp.press(page, 'contract-cell');
    assert.equal(p.phone.count('openPrivacyContract'), 1);
    await mp.press(page, 'privacy-button');
    const dialog = page.selectComponent('#privacy');
    assert.equal(dialog.data.show, true);
    await mp.press(dialog, 'agree-btn');
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(page.data.privacyNeeded, false, 'bind:agree read the setting again');
  });
});

describe('登录设备 and 登录记录', () => {
  test('two phones: both listed as the server lists them, this one 本机; 下线 the other: its token refused', T, async () => {
    const phone1 = await person(world, 'cleo');
    const phone2 = await person(world, 'cleo'); // the same WeChat user on a second phone
    const { mp, page } = await accountPage(phone1);
    assert.equal(page.data.sessionsLoaded, true);
    const server = await serverSessions(phone1);
    assert.equal(server.length, 2);
    assert.deepEqual(page.data.sessions.map((s) => [s.id, s.current]), server.map((s) => [s.id, s.current]));
    assert.deepEqual(page.data.sessions.map((s) => s.current).sort(), [false, true]);
    const mine = page.data.sessions.find((s) => s.current);
    assert.equal(mine.createdText, server.find((s) => s.current).createdAt.slice(0, 16));
    assert.equal(mine.ip, server.find((s) => s.current).ip);
    assert.deepEqual(paths(phone1).slice(0, 2), ['GET /wx/auth/sessions', 'GET /wx/auth/login_log']);
    for (const r of phone1.phone.requests) assert.equal(r.header[mp.api.TokenHeader], phone1.token());

    const other = page.data.sessions.find((s) => !s.current);
    // Cancelled: nothing sent.
    phone1.phone.reset();
    phone1.phone.state.modalAnswer = false;
    await page.onEndSession(ev({ id: other.id }));
    assert.equal(phone1.phone.requests.length, 0);
    phone1.phone.state.modalAnswer = true;

    await page.onEndSession(ev({ id: other.id }));
    assert.deepEqual(paths(phone1), ['POST /wx/auth/logout_session', 'GET /wx/auth/sessions']);
    assert.deepEqual(phone1.phone.requests[0].data, { id: other.id });
    assert.deepEqual(phone1.phone.toasts(), ['已下线']);
    assert.deepEqual(page.data.sessions.map((s) => s.current), [true]);
    assert.equal((await call(world, phone2, 'GET', '/wx/auth/info')).errno, 501, 'the other phone\'s token is refused');
    assert.equal((await call(world, phone1, 'GET', '/wx/auth/info')).errno, 0, 'this one still works');
  });

  test('a session ended meanwhile: the server\'s 804 text, the list read again', T, async () => {
    const phone1 = await person(world, 'dina');
    const phone2 = await person(world, 'dina');
    const { page } = await accountPage(phone1);
    const other = page.data.sessions.find((s) => !s.current);
    await okCall(world, phone2, 'POST', '/wx/auth/logout');
    phone1.phone.reset();
    await page.onEndSession(ev({ id: other.id }));
    const refused = await call(world, phone1, 'POST', '/wx/auth/logout_session', { id: other.id });
    assert.equal(refused.errno, 804);
    assert.deepEqual(phone1.phone.toasts(), [refused.errmsg]);
    assert.deepEqual(page.data.sessions.map((s) => s.current), [true]);
  });

  test('登录记录: the rows of the server\'s login_log, in its order, with the page\'s words; 加载更多', T, async () => {
    const p = await person(world, 'emil');
    // More than a page: 21 more logins and logouts of the same user on the server.
    for (let i = 0; i < 11; i++) {
      const token = await world.oa.loginOk('emil');
      await world.oa.logout(token);
    }
    const { page } = await accountPage(p);
    const server = await okCall(world, p, 'GET', '/wx/auth/login_log?page=1&limit=20');
    assert.ok(server.total > 20, `total ${server.total}`);
    assert.deepEqual(page.data.log.map((r) => r.id), server.list.map((r) => r.id));
    const words = { login: '登录', logout: '退出登录' };
    assert.deepEqual(page.data.log.map((r) => r.text), server.list.map((r) => words[r.event]));
    assert.deepEqual(page.data.log.map((r) => r.time), server.list.map((r) => r.time));
    assert.equal(page.data.logPages, server.pages);

    p.phone.reset();
    await page.onMoreLog();
    const second = await okCall(world, p, 'GET', '/wx/auth/login_log?page=2&limit=20');
    assert.deepEqual(page.data.log.map((r) => r.id), [...server.list, ...second.list].map((r) => r.id));
    assert.deepEqual(p.phone.requests.map((r) => r.data), [{ page: 2, limit: 20 }]);
  });

  test('退出全部设备: confirmed, every token refused, this phone logged out without a wx.login', T, async () => {
    const phone1 = await person(world, 'fay');
    const phone2 = await person(world, 'fay');
    const { page } = await accountPage(phone1);
    const token1 = phone1.token();
    phone1.phone.reset();
    phone1.phone.state.modalAnswer = false;
    await page.onEndAll();
    assert.equal(phone1.phone.requests.length, 0, 'cancelled: nothing sent');
    phone1.phone.state.modalAnswer = true;

    await page.onEndAll();
    assert.deepEqual(paths(phone1), ['POST /wx/auth/logout_all']);
    assert.equal(phone1.phone.count('login'), 0);
    assert.equal(phone1.phone.storage.get('token'), undefined, 'the stored login is gone');
    assert.deepEqual(phone1.phone.toasts(), ['已退出全部设备']);
    assert.deepEqual(phone1.phone.callsOf('switchTab').map((c) => c.args.url), ['/pages/ucenter/ucenter']);
    assert.equal(page.data.hasLogin, false);
    assert.equal((await world.oa.info(token1)).errno, 501);
    assert.equal((await call(world, phone2, 'GET', '/wx/auth/info')).errno, 501);
  });
});

describe('导出我的数据', () => {
  test('downloaded with the token; the page shows its parts; 发送到聊天 sends the server\'s bytes, only from a tap', T, async () => {
    const p = await person(world, 'gus');
    const { mp, page } = await accountPage(p);
    p.phone.reset();
    await mp.press(page, 'export-button');
    assert.deepEqual(p.phone.requests.map((r) => [r.api, new URL(r.url).pathname, r.header[mp.api.TokenHeader]]), [['downloadFile', '/wx/auth/export', p.token()]]);
    const server = await call(world, p, 'GET', '/wx/auth/export');
    assert.equal(server.status, 200);
    assert.match(server.headers.get('content-type'), /^application\/json/);
    assert.match(server.headers.get('content-disposition') ?? '', /attachment/);
    const data = JSON.parse(server.body.toString('utf8'));
    assert.equal(page.data.exported.fileName, 'meetoa-export.json');
    const parts = Object.keys(data).filter((k) => data[k] !== null && typeof data[k] === 'object');
    assert.deepEqual(page.data.exported.summary.map((s) => s.key), parts);
    assert.deepEqual(p.phone.toasts(), []);

    // Not from a tap: WeChat refuses; from the button's tap: the file goes to the chat.
    p.phone.reset();
    page.onShareExport();
    await new Promise((r) => setImmediate(r));
    assert.equal(p.phone.sharedFiles.length, 0);
    await mp.press(page, 'share-button');
    await new Promise((r) => setImmediate(r));
    assert.equal(p.phone.sharedFiles.length, 1);
    const [shared] = p.phone.sharedFiles;
    assert.equal(shared.fileName, 'meetoa-export.json');
    assert.deepEqual(clockless(JSON.parse(shared.bytes.toString('utf8'))), clockless(data), 'what the server exports');
  });

  test('through util.downloadFile: the JSON attachment is a file (its bytes, type, length); an envelope of the same URL is still an error', T, async () => {
    const p = await person(world, 'gil');
    const mp = as(p);
    const file = await mp.util.downloadFile(mp.api.AuthExport);
    const server = await call(world, p, 'GET', '/wx/auth/export');
    assert.equal(file.contentType, server.headers.get('content-type'));
    assert.match(file.contentType, /^application\/json/);
    const bytes = readFileSync(file.tempFilePath);
    assert.equal(file.dataLength, bytes.length);
    const mine = JSON.parse(bytes.toString('utf8'));
    assert.equal(mine.format, 'meetoa-export');
    assert.deepEqual(clockless(mine), clockless(JSON.parse(server.body.toString('utf8'))));
    assert.equal(p.phone.count('login'), 0);

    // The same URL refusing the token answers the envelope (application/json, no attachment).
    const old = p.token();
    assert.equal((await world.oa.logout(old)).errno, 0);
    const refused = await call(world, p, 'GET', '/wx/auth/export');
    assert.equal(refused.headers.get('content-disposition'), null);
    p.phone.reset();
    await assert.rejects(mp.util.downloadFile(mp.api.AuthExport, {}, { relogin: false }), (err) => {
      assert.equal(err.errno, 501);
      assert.equal(err.message, refused.errmsg);
      assert.equal('data' in err, false, 'a refusal without data carries none');
      return true;
    });
    assert.deepEqual(paths(p), ['GET /wx/auth/export']);
    assert.equal(p.phone.count('login'), 0);
  });

  test('a refused token: renewed once silently, then exported', T, async () => {
    const p = await person(world, 'hana');
    const { mp, page } = await accountPage(p);
    const old = p.token();
    assert.equal((await world.oa.logout(old)).errno, 0);
    p.phone.reset();
    await mp.press(page, 'export-button');
    assert.equal(p.phone.count('login'), 1, 'one silent login');
    assert.notEqual(p.token(), old);
    // util.downloadFile's own re-login: no detour through another endpoint.
    assert.deepEqual(paths(p), ['GET /wx/auth/export', 'POST /wx/auth/login_by_weixin', 'GET /wx/auth/export']);
    assert.equal(p.phone.requests[0].header[mp.api.TokenHeader], old);
    assert.equal(p.phone.requests[2].header[mp.api.TokenHeader], p.token(), 'retried with the new token');
    assert.ok(page.data.exported);
    assert.deepEqual(p.phone.toasts(), []);
  });
});

describe('注销账号', () => {
  test('cancelled: nothing sent; confirmed: a fresh wx.login code, deleted, logged out, the login page alone', T, async () => {
    const p = await person(world, 'ivy');
    const { page } = await accountPage(p);
    const token = p.token();
    const before = (await serverMe(world, p)).userId;
    p.phone.reset();
    p.phone.state.modalAnswer = false;
    await page.onDeleteAccount();
    assert.equal(p.phone.requests.length, 0);
    assert.equal(p.phone.count('login'), 0);
    p.phone.state.modalAnswer = true;

    await page.onDeleteAccount();
    const modal = p.phone.callsOf('showModal').at(-1).args;
    assert.equal(modal.title, '注销账号');
    assert.match(modal.content, /无法恢复/);
    assert.equal(p.phone.count('login'), 1, 'one wx.login for the confirmation code');
    assert.deepEqual(paths(p), ['POST /wx/auth/delete_account']);
    const [req] = p.phone.requests;
    assert.equal(req.header[p.mp.api.TokenHeader], token);
    assert.deepEqual(Object.keys(req.data), ['code']);
    assert.equal(p.phone.storage.get('token'), undefined);
    assert.deepEqual(p.phone.toasts(), ['账号已注销']);
    assert.deepEqual(p.phone.callsOf('reLaunch').map((c) => c.args.url), ['/pages/login/login']);
    assert.equal((await world.oa.info(token)).errno, 501, 'the old token is refused');

    // The same WeChat account logs in again: a new, empty user.
    const again = await world.oa.loginOk('ivy');
    const info = await world.oa.info(again);
    assert.equal(info.data.nickName, '');
    assert.equal(info.data.mobile, '');
    assert.notEqual((await call(world, { mp: p.mp, token: () => again }, 'GET', '/wx/member/me')).data?.userId, before);
  });

  test('a refused token (501): no silent login and deletion, one wx.login (the code), the login page; nothing deleted', T, async () => {
    const p = await person(world, 'jon');
    const { page } = await accountPage(p); // shown with a live token
    const old = p.token();
    const before = (await serverMe(world, p)).userId;
    assert.equal((await world.oa.logout(old)).errno, 0); // ended elsewhere meanwhile
    p.phone.reset();
    await page.onDeleteAccount();
    assert.equal(p.phone.count('login'), 1, 'only the confirmation code');
    assert.deepEqual(paths(p), ['POST /wx/auth/delete_account']);
    assert.equal(p.phone.requests[0].header[p.mp.api.TokenHeader], old);
    assert.deepEqual(p.phone.callsOf('navigateTo').map((c) => c.args.url), ['/pages/login/login']);
    assert.equal(p.phone.callsOf('reLaunch').length, 0);
    assert.equal(page.data.deleting, false);
    // The account is still there: the same WeChat user logs in to the same user.
    const again = await world.oa.loginOk('jon');
    assert.equal((await call(world, { mp: p.mp, token: () => again }, 'GET', '/wx/member/me')).data?.userId, before);
  });

  test('807: the only admin is told so, nothing deleted', T, async () => {
    const admin = await person(world, 'lea');
    const cli = await setRoleByCli(world, 'lea', 'admin');
    assert.equal(cli.code, 0, cli.stderr);
    const { page } = await accountPage(admin);
    const token = admin.token();
    admin.phone.reset();
    await page.onDeleteAccount();
    assert.deepEqual(paths(admin), ['POST /wx/auth/delete_account']);
    const refused = await call(world, admin, 'POST', '/wx/auth/delete_account', { code: await world.wx.newCode(APP_ID, 'lea') });
    assert.equal(refused.errno, 807);
    assert.deepEqual(admin.phone.toasts(), [refused.errmsg]);
    assert.deepEqual(page.data.hosted, []);
    assert.equal(admin.phone.storage.get('token'), token, 'still logged in');
    assert.equal((await world.oa.info(token)).errno, 0);
    assert.equal(admin.phone.callsOf('reLaunch').length, 0);
  });

  test('816: the meetings the user hosts are listed as the server lists them (tap: 会议详情), nothing deleted', T, async () => {
    const admin = await person(world, 'lea');
    const invite = await okCall(world, admin, 'POST', '/wx/member/invite', { maxUses: 5, expireDays: 1 });
    const host = await person(world, 'kim');
    await joinWithCode(world, host, invite.code, '金', '研发部');
    const start = Date.now() + 24 * 3600e3;
    const m = await okCall(world, host, 'POST', '/wx/meeting/create', { title: '交接会', startTime: cst(start), endTime: cst(start + 3600e3), location: '3楼', participantIds: [] });
    await okCall(world, host, 'POST', '/wx/meeting/submit', { id: m.id });

    const { page } = await accountPage(host);
    const token = host.token();
    host.phone.reset();
    await page.onDeleteAccount();
    assert.deepEqual(paths(host), ['POST /wx/auth/delete_account']);
    const refused = await call(world, host, 'POST', '/wx/auth/delete_account', { code: await world.wx.newCode(APP_ID, 'kim') });
    assert.equal(refused.errno, 816);
    assert.deepEqual(page.data.hosted.map((h) => [h.id, h.title]), refused.data.list.map((h) => [h.id, h.title]));
    assert.deepEqual(page.data.hosted.map((h) => h.id), [m.id]);
    assert.equal(page.data.hosted[0].timeText, host.mp.util.meetingTime(refused.data.list[0].startTime));
    assert.deepEqual(host.phone.toasts(), [refused.errmsg]);
    assert.equal(host.phone.storage.get('token'), token, 'still logged in');
    assert.equal((await world.oa.info(token)).errno, 0);
    page.onHostedTap(ev({ id: m.id }));
    assert.deepEqual(host.phone.callsOf('navigateTo').map((c) => c.args.url), [`/pages/meeting/detail/detail?id=${m.id}`]);

    // util.request itself hands a refusal's data to the caller, as the server sent it.
    const code = await world.wx.newCode(APP_ID, 'kim');
    await assert.rejects(host.mp.util.request(host.mp.api.AuthDeleteAccount, { code }, 'POST', { relogin: false }), (err) => {
      assert.equal(err.errno, 816);
      assert.equal(err.message, refused.errmsg);
      assert.deepEqual(err.data, refused.data);
      return true;
    });
    // One without data (804: no such session) carries none.
    await assert.rejects(host.mp.util.request(host.mp.api.AuthLogoutSession, { id: '0123456789abcdef' }, 'POST'), (err) => {
      assert.equal(err.errno, 804);
      assert.equal('data' in err, false);
      return true;
    });
  });
});
