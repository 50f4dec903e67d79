// privacy.test.mjs — the privacy consent (用户隐私保护指引) of the real mini program against real
// meetoa and wxemu, with WeChat's flow played by wx-stub.mjs ("Privacy" at its top): the listener
// registered at launch, <privacy-dialog> shown when 绑定手机号 (getPhoneNumber) or 头像
// (chooseAvatar) is tapped before the user agreed, 同意 letting the held tap go on (the number
// bound, the avatar uploaded), 不同意 leaving the user logged in without them and told so; the
// profile step asking first when wx.getPrivacySetting says so; one agreement for everything.

import { before, after, test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { loadMiniprogram, newPhone, startMiniWorld, SAMPLE_AVATAR, APP_ID } from './harness.mjs';
import { assertOk } from '../blackbox/lib/meetoa.mjs';

let world;
before(async () => {
  world = await startMiniWorld();
});
after(async () => {
  await world?.stop();
});

/** A few turns of the event loop (WeChat's callbacks come on later turns). */
async function settle(turns = 5) {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** wx.getPrivacySetting as the mini program on `phone` sees it. */
function privacySetting(phone) {
  return new Promise((resolve) => phone.wx.getPrivacySetting({ success: resolve }));
}

/** `user`'s phone, the app launched and logged in, 我的 open; counters reset. */
async function openUcenter(user) {
  const phone = newPhone(world, user);
  const mp = loadMiniprogram(phone);
  await mp.launch();
  await mp.user.loginByWeixin();
  const ucenter = mp.open('pages/ucenter/ucenter');
  await ucenter.shown;
  phone.reset();
  return { phone, mp, ucenter, dialog: ucenter.selectComponent('#privacy'), token: phone.storage.get('token') };
}

describe('绑定手机号 before the user agreed (getPhoneNumber)', () => {
  test('the launch registers the listener; the tap waits for the dialog; 同意 binds the number', async () => {
    const { phone, mp, ucenter, dialog, token } = await openUcenter('pia');
    assert.ok(phone.hasPrivacyListener(), 'app.js registered onNeedPrivacyAuthorization');
    assert.equal((await privacySetting(phone)).needAuthorization, true);
    phone.state.phoneCode = await world.wx.phoneCode(APP_ID, 'pia', '13800138001');

    const tapped = mp.press(ucenter, 'phone-button');
    assert.equal(dialog.data.show, true, 'the dialog is up at once');
    assert.equal(dialog.data.purpose, 'phone');
    assert.match(dialog.data.purposeText, /手机号/);
    await settle();
    assert.equal(dialog.data.contractName, phone.state.privacyContractName, 'the guide\'s name from wx.getPrivacySetting');
    assert.deepEqual(phone.privacyRequests, [{ referrer: 'button.getPhoneNumber', via: 'listener', exposed: true, answer: null }]);
    assert.equal(phone.requests.length, 0, 'nothing is sent while the user reads');

    // The guide's name opens the guide.
    await dialog.onOpenContract();
    assert.equal(phone.count('openPrivacyContract'), 1);

    await mp.press(dialog, 'agree-btn');
    await tapped;
    assert.equal(dialog.data.show, false);
    assert.equal(phone.privacyRequests[0].answer, 'agree');
    assert.equal(phone.requests.length, 1);
    assert.equal(phone.requests[0].url, mp.api.AuthBindPhone);
    assert.deepEqual(phone.toasts(), ['绑定成功']);
    assert.equal(ucenter.data.maskedMobile, '138****8001');
    assert.equal((await world.oa.info(token)).data.mobile, '13800138001');
    assert.equal((await privacySetting(phone)).needAuthorization, false, 'the agreement is recorded');

    // One agreement covers the avatar too: no dialog on the profile step or the avatar tap.
    phone.reset();
    const page = mp.open('pages/login/login', { mode: 'profile' });
    assert.equal(await page.ready, false, 'nothing to ask');
    phone.state.avatarFile = SAMPLE_AVATAR;
    await mp.press(page, 'avatar-button');
    assert.equal(page.selectComponent('#privacy').data.show, false);
    assert.deepEqual(phone.privacyRequests, [{ referrer: 'button.chooseAvatar', via: 'agreed', exposed: false, answer: null }]);
    assert.match(page.data.avatarUrl, /\/wx\/storage\/fetch\/[0-9a-f]{32}\.png$/);
  });

  test('不同意: no request, one clear message, still logged in; a later tap asks again and 同意 binds', async () => {
    const { phone, mp, ucenter, dialog, token } = await openUcenter('quentin');
    phone.state.phoneCode = await world.wx.phoneCode(APP_ID, 'quentin', '13800138002');

    const tapped = mp.press(ucenter, 'phone-button');
    assert.equal(dialog.data.show, true);
    await mp.press(dialog, 'disagree-btn');
    await tapped;
    assert.equal(dialog.data.show, false);
    assert.equal(phone.privacyRequests[0].answer, 'disagree');
    // The handler got WeChat's refusal and added nothing to the dialog's message.
    const handled = phone.callsOf('pressButton').map((c) => c.args.id);
    assert.deepEqual(handled, ['phone-button', 'disagree-btn']);
    assert.deepEqual(phone.toasts(), ['未同意隐私保护指引，手机号未绑定']);
    assert.equal(phone.requests.length, 0, 'no bindPhone');
    assert.equal(ucenter.data.mobile, '');
    assert.equal(ucenter.data.binding, false);

    // Still logged in: the same token, 我的 shows the user, the server answers.
    assert.equal(phone.storage.get('token'), token);
    assert.equal(ucenter.data.hasLogin, true);
    assertOk(await world.oa.info(token));
    assert.equal(phone.count('login'), 0);
    await mp.show(ucenter);
    assert.equal(ucenter.data.hasLogin, true);
    assert.equal((await privacySetting(phone)).needAuthorization, true, 'still not agreed');

    // Asked again on the next tap; this time 同意.
    phone.reset();
    const again = mp.press(ucenter, 'phone-button');
    assert.equal(dialog.data.show, true);
    await mp.press(dialog, 'agree-btn');
    await again;
    assert.deepEqual(phone.toasts(), ['绑定成功']);
    assert.equal((await world.oa.info(token)).data.mobile, '13800138002');
  });

  test('同意 then the phone sheet denied: the usual 未授权手机号 message, the agreement kept', async () => {
    const { phone, mp, ucenter, dialog } = await openUcenter('rosa');
    phone.state.phoneCode = null; // the user closes WeChat's phone sheet
    const tapped = mp.press(ucenter, 'phone-button');
    await mp.press(dialog, 'agree-btn');
    await tapped;
    assert.deepEqual(phone.toasts(), ['未授权手机号，未绑定']);
    assert.equal(phone.requests.length, 0);
    assert.equal((await privacySetting(phone)).needAuthorization, false);
  });

  test('我的 closed while the dialog is up: the held tap fails, nothing is sent', async () => {
    const { phone, mp, ucenter, dialog } = await openUcenter('sven');
    phone.state.phoneCode = await world.wx.phoneCode(APP_ID, 'sven', '13800138003');
    const tapped = mp.press(ucenter, 'phone-button');
    assert.equal(dialog.data.show, true);
    mp.close(ucenter);
    await tapped;
    assert.equal(phone.privacyRequests[0].answer, 'disagree');
    assert.equal(phone.requests.length, 0);
  });

  test('the stand-in is strict: 同意 without a tap on the agree button does not count', async () => {
    const { phone, mp, ucenter, dialog } = await openUcenter('tove');
    phone.state.phoneCode = await world.wx.phoneCode(APP_ID, 'tove', '13800138004');
    const tapped = mp.press(ucenter, 'phone-button');
    dialog.onAgree(); // what a page would do if it resolved from a plain tap
    await tapped;
    assert.equal(phone.requests.length, 0, 'WeChat checks the button was tapped');
    assert.equal((await privacySetting(phone)).needAuthorization, true);
  });
});

describe('头像 and 昵称 before the user agreed (chooseAvatar)', () => {
  /** A new user's first login on the login page: resolves {phone, mp, login, dialog}. */
  async function firstLogin(user) {
    const phone = newPhone(world, user);
    const mp = loadMiniprogram(phone);
    await mp.launch();
    const login = mp.open('pages/login/login');
    await login.ready;
    const dialog = login.selectComponent('#privacy');
    assert.equal(dialog.data.show, false, 'nothing is asked before the profile step');
    await mp.press(login, 'login-button');
    assert.equal(login.data.step, 'profile');
    phone.state.avatarFile = SAMPLE_AVATAR;
    return { phone, mp, login, dialog, token: phone.storage.get('token') };
  }

  test('the profile step asks first (getPrivacySetting); 同意, then the avatar uploads without asking again', async () => {
    const { phone, mp, login, dialog, token } = await firstLogin('uma');
    assert.equal(dialog.data.show, true, 'wx.getPrivacySetting said the user must agree');
    assert.equal(dialog.data.purpose, 'avatar');
    assert.ok(phone.count('getPrivacySetting') >= 1);
    assert.deepEqual(phone.privacyRequests, [], 'asked by the page, not by a held component');

    await mp.press(dialog, 'agree-btn');
    assert.equal(dialog.data.show, false);
    assert.equal((await privacySetting(phone)).needAuthorization, false);

    phone.reset();
    await mp.press(login, 'avatar-button');
    assert.deepEqual(phone.privacyRequests.map((r) => r.via), ['agreed']);
    const upload = phone.requests.find((r) => r.api === 'uploadFile');
    assert.ok(upload, 'uploaded');
    assert.match(login.data.avatarUrl, /\/wx\/storage\/fetch\/[0-9a-f]{32}\.png$/);
    assert.equal((await world.oa.info(token)).data.avatar, login.data.avatarUrl);
  });

  test('不同意 twice: no upload, the message each time, the nickname still saved, logged in; 同意 later uploads', async () => {
    const { phone, mp, login, dialog, token } = await firstLogin('vera');
    assert.equal(dialog.data.show, true);
    await mp.press(dialog, 'disagree-btn');
    assert.deepEqual(phone.toasts(), ['未同意隐私保护指引，头像未设置']);
    assert.equal(login.data.step, 'profile', 'the step stays');

    // The avatar tap makes WeChat ask through the same dialog; declined again.
    phone.reset();
    const tapped = mp.press(login, 'avatar-button');
    assert.equal(dialog.data.show, true);
    assert.deepEqual(phone.privacyRequests.map((r) => [r.referrer, r.via]), [['button.chooseAvatar', 'listener']]);
    await mp.press(dialog, 'disagree-btn');
    await tapped;
    assert.deepEqual(phone.toasts(), ['未同意隐私保护指引，头像未设置']);
    assert.equal(phone.requests.length, 0, 'nothing uploaded');
    assert.equal(login.data.avatarUrl, '');

    // Logged in all along: the nickname is saved.
    await login.onSubmitProfile({ detail: { value: { nickname: '维拉' } } });
    assert.equal(phone.storage.get('token'), token);
    const info = await world.oa.info(token);
    assertOk(info);
    assert.equal(info.data.nickName, '维拉');
    assert.equal(info.data.avatar, '');

    // 编辑资料 later: the dialog again (still not agreed); 同意 and the avatar uploads.
    phone.reset();
    const edit = mp.open('pages/login/login', { mode: 'profile' });
    assert.equal(await edit.ready, true, 'asked again on the profile step');
    const editDialog = edit.selectComponent('#privacy');
    await mp.press(editDialog, 'agree-btn');
    await mp.press(edit, 'avatar-button');
    assert.match(edit.data.avatarUrl, /\/wx\/storage\/fetch\/[0-9a-f]{32}\.png$/);
    assert.equal((await world.oa.info(token)).data.avatar, edit.data.avatarUrl);
  });

  test('only the dialog of the page on top answers: 我的 under the login page stays closed', async () => {
    const { phone, mp, ucenter, dialog } = await openUcenter('wanda');
    const edit = mp.open('pages/login/login', { mode: 'profile' });
    await edit.ready;
    const editDialog = edit.selectComponent('#privacy');
    assert.equal(editDialog.data.show, true);
    await mp.press(editDialog, 'disagree-btn');
    phone.state.avatarFile = SAMPLE_AVATAR;
    const tapped = mp.press(edit, 'avatar-button');
    assert.equal(editDialog.data.show, true);
    assert.equal(dialog.data.show, false, '我的 is not on top');
    await mp.press(editDialog, 'agree-btn');
    await tapped;
    assert.match(edit.data.avatarUrl, /\/wx\/storage\/fetch\//);
    assert.equal(ucenter.data.hasLogin, true);
  });
});
