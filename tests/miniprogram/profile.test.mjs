// profile.test.mjs — 我的 and the profile step of the real mini program against real meetoa
// and wxemu: binding the phone with the getPhoneNumber button's code (and the ways that fails),
// changing the nickname and the avatar later, and what the pages show afterwards.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadMiniprogram, newPhone, startMiniWorld, SAMPLE_AVATAR, APP_ID } from './harness.mjs';
import { assertOk, ERRMSG } from '../blackbox/lib/meetoa.mjs';

let world;
let tmp;
before(async () => {
  world = await startMiniWorld();
  tmp = mkdtempSync(path.join(tmpdir(), 'meetoa-mp-'));
});
after(async () => {
  await world?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `user`'s phone with the mini program loaded and logged in, 我的 open; counters reset. */
async function openUcenter(user) {
  const phone = newPhone(world, user);
  const mp = loadMiniprogram(phone);
  await mp.user.loginByWeixin();
  const ucenter = mp.open('pages/ucenter/ucenter');
  await ucenter.shown;
  phone.reset();
  return { phone, mp, ucenter, token: phone.storage.get('token') };
}

describe('phone binding (getPhoneNumber button)', () => {
  test('the button\'s code binds the number; 我的 shows it masked', async () => {
    const { phone, mp, ucenter, token } = await openUcenter('nina');
    assert.equal(ucenter.data.mobile, '', 'nothing bound yet: the button is shown');
    const code = await world.wx.phoneCode(APP_ID, 'nina', '13800138000');
    await ucenter.onGetPhoneNumber({ detail: { code, errMsg: 'getPhoneNumber:ok' } });

    assert.equal(phone.requests.length, 1);
    const [req] = phone.requests;
    assert.equal(req.url, mp.api.AuthBindPhone);
    assert.equal(req.method, 'POST');
    assert.deepEqual(req.data, { code });
    assert.equal(req.header[mp.api.TokenHeader], token);
    assert.equal(ucenter.data.mobile, '13800138000');
    assert.equal(ucenter.data.maskedMobile, '138****8000');
    assert.equal(ucenter.data.binding, false);
    assert.deepEqual(phone.toasts(), ['绑定成功']);
    assert.equal(phone.storage.get('userInfo').mobile, '13800138000');

    const info = await world.oa.info(token);
    assertOk(info);
    assert.equal(info.data.mobile, '13800138000', 'bound on the server');

    // A fresh 我的 (another launch) shows it from the server.
    const again = loadMiniprogram(phone);
    const page = again.open('pages/ucenter/ucenter');
    await page.shown;
    assert.equal(page.data.maskedMobile, '138****8000');
  });

  test('the user refuses: a toast, no request', async () => {
    const { phone, ucenter } = await openUcenter('oscar');
    await ucenter.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
    assert.equal(phone.requests.length, 0);
    assert.deepEqual(phone.toasts(), ['未授权手机号，未绑定']);
    assert.equal(ucenter.data.mobile, '');
  });

  test('a wx.login code sent by mistake: the server\'s 730 text is shown, nothing bound', async () => {
    const { phone, ucenter, token } = await openUcenter('peggy');
    const loginCode = await world.wx.newCode(APP_ID, 'peggy');
    await ucenter.onGetPhoneNumber({ detail: { code: loginCode } });
    assert.deepEqual(phone.toasts(), [ERRMSG[730]]);
    assert.equal(phone.count('login'), 0, 'a phone error is not a login error');
    assert.equal(ucenter.data.mobile, '');
    assert.equal(ucenter.data.binding, false);
    assert.equal((await world.oa.info(token)).data.mobile, '');
  });

  test('a number bound to another user: 手机号已注册', async () => {
    const { phone, ucenter } = await openUcenter('quinn');
    const code = await world.wx.phoneCode(APP_ID, 'quinn', '13800138000');
    await ucenter.onGetPhoneNumber({ detail: { code } });
    assert.deepEqual(phone.toasts(), [ERRMSG[705]]);
    assert.equal(ucenter.data.mobile, '');
  });

  test('logged out elsewhere before tapping: silent re-login, then the same code binds', async () => {
    const { phone, ucenter, token } = await openUcenter('rita');
    assertOk(await world.oa.logout(token));
    const code = await world.wx.phoneCode(APP_ID, 'rita', '13900139000');
    await ucenter.onGetPhoneNumber({ detail: { code } });
    assert.equal(phone.count('login'), 1);
    assert.deepEqual(phone.toasts(), ['绑定成功']);
    const fresh = phone.storage.get('token');
    assert.notEqual(fresh, token);
    assert.equal((await world.oa.info(fresh)).data.mobile, '13900139000');
  });
});

describe('nickname and avatar', () => {
  test('编辑资料 opens the profile step with the stored profile; both can be changed', async () => {
    const { phone, mp, ucenter, token } = await openUcenter('sam');
    ucenter.editProfile();
    assert.deepEqual(phone.callsOf('navigateTo').map((c) => c.args.url), ['/pages/login/login?mode=profile']);
    const page = mp.open('pages/login/login', { mode: 'profile' });
    assert.equal(page.data.step, 'profile');
    assert.equal(page.data.avatarUrl, '');

    await page.onChooseAvatar({ detail: { avatarUrl: SAMPLE_AVATAR } });
    const first = page.data.avatarUrl;
    assert.match(first, /\/wx\/storage\/fetch\/[0-9a-f]{32}\.png$/);
    await page.onSubmitProfile({ detail: { value: { nickname: '山姆 🚀' } } });
    assert.equal(phone.count('navigateBack'), 1, 'back to 我的');
    mp.stack.pop();

    await mp.show(ucenter);
    assert.equal(ucenter.data.nickName, '山姆 🚀');
    assert.equal(ucenter.data.avatarUrl, first);

    // A second avatar replaces the first.
    const again = mp.open('pages/login/login', { mode: 'profile' });
    assert.equal(again.data.avatarUrl, first);
    assert.equal(again.data.nickName, '山姆 🚀');
    await again.onChooseAvatar({ detail: { avatarUrl: SAMPLE_AVATAR } });
    assert.notEqual(again.data.avatarUrl, first);
    const info = await world.oa.info(token);
    assert.equal(info.data.avatar, again.data.avatarUrl);
    assert.equal(info.data.nickName, '山姆 🚀');
    assert.deepEqual(phone.toasts(), ['已保存']);
  });

  test('a file that is not an image: the server\'s 740 text, the avatar unchanged', async () => {
    const { phone, mp, token } = await openUcenter('tina');
    const fake = path.join(tmp, 'avatar.png');
    writeFileSync(fake, '<html>not a picture</html>\n');
    const page = mp.open('pages/login/login', { mode: 'profile' });
    await page.onChooseAvatar({ detail: { avatarUrl: fake } });
    assert.deepEqual(phone.toasts(), [ERRMSG[740]]);
    assert.equal(page.data.avatarUrl, '');
    assert.equal((await world.oa.info(token)).data.avatar, '');
    assert.equal(phone.requests.length, 1, 'no profile call after a refused upload');
  });

  test('a nickname over the server\'s limit: its 402 text, nothing saved, the page stays', async () => {
    const { phone, mp, token } = await openUcenter('ursula');
    const page = mp.open('pages/login/login', { mode: 'profile' });
    await page.onSubmitProfile({ detail: { value: { nickname: 'x'.repeat(64) } } });
    assert.deepEqual(phone.toasts(), [ERRMSG[402]]);
    assert.equal(page.data.saving, false);
    assert.equal(phone.count('navigateBack') + phone.count('switchTab'), 0);
    assert.equal((await world.oa.info(token)).data.nickName, '');
  });
});
