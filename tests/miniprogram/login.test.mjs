// login.test.mjs — the login flow of the real mini program against real meetoa and wxemu:
// first login through the login page (微信登录, then avatar upload and nickname), a returning
// login on a new phone, who the home page shows, checkLogin, and logout from 我的.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { loadMiniprogram, newPhone, startMiniWorld, SAMPLE_AVATAR } from './harness.mjs';
import { assertOk, assertErr, TOKEN_RE } from '../blackbox/lib/meetoa.mjs';

let world;
before(async () => {
  world = await startMiniWorld();
});
after(async () => {
  await world?.stop();
});

/** The token header of a recorded request (case as the mini program wrote it). */
function tokenOf(req, api) {
  return req.header[api.TokenHeader];
}

describe('first login', () => {
  let phone;
  let mp;
  let index;
  let login;
  let token;

  test('the app launches logged out and the home page asks nothing of the server', async () => {
    phone = newPhone(world, 'alice');
    mp = loadMiniprogram(phone);
    assert.equal(await mp.launch(), false);
    assert.equal(mp.app.globalData.hasLogin, false);
    index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.hasLogin, false);
    assert.equal(phone.requests.length, 0);
    index.goLogin();
    assert.deepEqual(phone.callsOf('navigateTo').map((c) => c.args.url), ['/pages/login/login']);
  });

  test('微信登录: one wx.login, one login_by_weixin with its code and no token; then the profile step', async () => {
    const jsBefore = await world.wx.calls('/sns/jscode2session');
    login = mp.open('pages/login/login');
    assert.equal(login.data.step, 'login');
    await login.onLogin();

    assert.equal(phone.count('login'), 1);
    assert.equal((await world.wx.calls('/sns/jscode2session')) - jsBefore, 1);
    assert.equal(phone.requests.length, 1);
    const [req] = phone.requests;
    assert.equal(req.url, mp.api.AuthLoginByWeixin);
    assert.equal(req.method, 'POST');
    assert.deepEqual(Object.keys(req.data), ['code']);
    assert.equal(tokenOf(req, mp.api), undefined, 'no token is sent to log in');

    token = phone.storage.get('token');
    assert.match(token, TOKEN_RE);
    assert.match(phone.storage.get('tokenExpire'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    assert.equal(phone.storage.get('userInfo').nickName, '', 'a new user has no nickname yet');
    assert.equal(login.data.step, 'profile', 'a new user is asked for an avatar and a nickname');
    assert.equal(login.data.loading, false);
    assert.deepEqual(phone.toasts(), []);

    const info = await world.oa.info(token);
    assertOk(info, 'info with the stored token');
    assert.equal(info.data.nickName, '');
  });

  test('chooseAvatar: the file is uploaded with the token and becomes the avatar', async () => {
    await login.onChooseAvatar({ detail: { avatarUrl: SAMPLE_AVATAR } });
    const upload = phone.requests.find((r) => r.api === 'uploadFile');
    assert.ok(upload, 'wx.uploadFile was called');
    assert.equal(upload.url, mp.api.StorageUpload);
    assert.equal(tokenOf(upload, mp.api), token);
    const profile = phone.requests.at(-1);
    assert.equal(profile.url, mp.api.AuthProfile);
    assert.equal(tokenOf(profile, mp.api), token);

    assert.match(login.data.avatarUrl, /\/wx\/storage\/fetch\/[0-9a-f]{32}\.png$/);
    const info = await world.oa.info(token);
    assertOk(info);
    assert.equal(info.data.avatar, login.data.avatarUrl, 'the server keeps the uploaded avatar');
    const served = await fetch(info.data.avatar);
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), readFileSync(SAMPLE_AVATAR));
    assert.equal(phone.storage.get('userInfo').avatarUrl, login.data.avatarUrl);
    assert.deepEqual(phone.toasts(), []);
  });

  test('nickname: the form value (trimmed, emoji kept) is saved, then back to the home page', async () => {
    const navBefore = phone.count('navigateBack');
    await login.onSubmitProfile({ detail: { value: { nickname: '  Alice 🌸 ' } } });
    const info = await world.oa.info(token);
    assertOk(info);
    assert.equal(info.data.nickName, 'Alice 🌸');
    assert.equal(phone.storage.get('userInfo').nickName, 'Alice 🌸');
    assert.deepEqual(phone.toasts(), ['已保存']);
    assert.equal(phone.count('navigateBack') - navBefore, 1, 'the login page closes');
    mp.stack.pop();

    await mp.show(index);
    assert.equal(index.data.hasLogin, true);
    assert.equal(index.data.nickName, 'Alice 🌸');
    assert.equal(index.data.avatarUrl, info.data.avatar);
    // The home page refreshes the profile, then asks who the user is in the organization.
    const [refresh, me] = phone.requests.slice(-2);
    assert.equal(refresh.url, mp.api.AuthInfo);
    assert.equal(tokenOf(refresh, mp.api), token);
    assert.equal(me.url, mp.api.MemberMe);
    assert.equal(tokenOf(me, mp.api), token);
    assert.equal(index.data.membership, 'none', 'a new user is a visitor');
  });

  test('an empty nickname is refused on the phone, without a request', async () => {
    const page = mp.open('pages/login/login', { mode: 'profile' });
    assert.equal(page.data.step, 'profile');
    assert.equal(page.data.nickName, 'Alice 🌸', 'the profile step shows the stored nickname');
    const n = phone.requests.length;
    await page.onSubmitProfile({ detail: { value: { nickname: '   ' } } });
    assert.equal(phone.requests.length, n);
    assert.equal(phone.toasts().at(-1), '请填写昵称');
    mp.stack.pop();
  });

  test('every call after the login carried the token; wx.login ran once in all', () => {
    const authed = phone.requests.filter((r) => r.url !== mp.api.AuthLoginByWeixin);
    assert.ok(authed.length >= 4);
    for (const r of authed) assert.equal(tokenOf(r, mp.api), token, `${r.method} ${r.url}`);
    assert.equal(phone.count('login'), 1);
  });

  test('checkLogin: true while the token is stored and WeChat\'s session lives', async () => {
    assert.equal(await mp.user.checkLogin(), true);
    assert.equal(await mp.app.onShow(), true);
    assert.equal(mp.app.globalData.hasLogin, true);
    phone.expireSession();
    assert.equal(await mp.user.checkSession(), false);
    assert.equal(await mp.user.checkLogin(), false);
  });
});

describe('returning login', () => {
  test('on a new phone: same user, profile kept, no profile step', async () => {
    const phone = newPhone(world, 'alice');
    const mp = loadMiniprogram(phone);
    const login = mp.open('pages/login/login');
    await login.onLogin();
    assert.equal(phone.count('login'), 1);
    assert.equal(login.data.step, 'login', 'a user with a nickname is not asked again');
    assert.deepEqual(phone.callsOf('switchTab').map((c) => c.args.url), ['/pages/index/index'], 'alone on the stack: to the home page');
    const stored = phone.storage.get('userInfo');
    assert.equal(stored.nickName, 'Alice 🌸');
    assert.match(stored.avatarUrl, /\/wx\/storage\/fetch\/[0-9a-f]{32}\.png$/);
    const rows = await world.oa.sql('SELECT COUNT(*) FROM wx_user');
    assert.equal(rows[0][0], '1', 'one user row for alice');

    const ucenter = mp.open('pages/ucenter/ucenter');
    await ucenter.shown;
    assert.equal(ucenter.data.hasLogin, true);
    assert.equal(ucenter.data.nickName, 'Alice 🌸');
    assert.equal(ucenter.data.mobile, '');
  });

  test('a user without a nickname is shown as 微信用户 and can skip the profile step', async () => {
    const phone = newPhone(world, 'bob');
    const mp = loadMiniprogram(phone);
    const login = mp.open('pages/login/login');
    await login.onLogin();
    assert.equal(login.data.step, 'profile');
    await login.onSkip();
    assert.equal(phone.count('switchTab'), 1);
    const index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.hasLogin, true);
    assert.equal(index.data.nickName, '微信用户');
  });
});

describe('logout', () => {
  test('退出登录 asks first; cancelling keeps the login', async () => {
    const phone = newPhone(world, 'carol');
    const mp = loadMiniprogram(phone);
    await mp.user.loginByWeixin();
    const token = phone.storage.get('token');
    const ucenter = mp.open('pages/ucenter/ucenter');
    await ucenter.shown;
    phone.state.modalAnswer = false;
    await ucenter.onLogout();
    assert.equal(phone.count('showModal'), 1);
    assert.equal(phone.storage.get('token'), token);
    assertOk(await world.oa.info(token));

    phone.state.modalAnswer = true;
    const before = phone.requests.length;
    await ucenter.onLogout();
    const req = phone.requests.at(-1);
    assert.equal(phone.requests.length - before, 1);
    assert.equal(req.url, mp.api.AuthLogout);
    assert.equal(req.header[mp.api.TokenHeader], token);
    assertErr(await world.oa.info(token), 501, 'the token is dead on the server');
    assert.equal(phone.storage.has('token'), false);
    assert.equal(phone.storage.has('userInfo'), false);
    assert.equal(ucenter.data.hasLogin, false);
    assert.equal(phone.toasts().at(-1), '已退出登录');
    assert.equal(phone.count('login'), 1, 'logging out never logs in');
    assert.equal(await mp.user.checkLogin(), false);

    // The pages now show nobody, and ask the server nothing.
    const n = phone.requests.length;
    await mp.show(ucenter);
    const index = mp.open('pages/index/index');
    await index.shown;
    assert.equal(index.data.hasLogin, false);
    assert.equal(phone.requests.length, n);
  });

  test('logout with a token the server already dropped: still logged out, no wx.login', async () => {
    const phone = newPhone(world, 'dave');
    const mp = loadMiniprogram(phone);
    await mp.user.loginByWeixin();
    const token = phone.storage.get('token');
    assertOk(await world.oa.logout(token));
    assert.equal(await mp.user.logout(), true);
    assert.equal(phone.count('login'), 1);
    assert.equal(phone.storage.has('token'), false);
  });
});
