#!/usr/bin/env node
// scripts/demo.mjs — `make demo`: the mini program's login flow, walked through step by step
// against the servers of `make run` (meetoa on MEETOA_PORT, default 8080; wxemu on WXEMU_PORT,
// default 9101; appid wx0123456789abcdef, as scripts/run.sh configures them).
//
// It runs the real code of miniprogram/ (app, pages, utils) in Node with the `wx` stand-in of
// tests/miniprogram (wx.login asks wxemu for the phone's code, wx.request and wx.uploadFile are
// real HTTP calls), drives the pages as a user would and prints each step and each call the
// mini program made. A fresh user (demo-<time>, or DEMO_USER) and a fresh phone number are used
// so that every run shows a first login. Exit status 0 when every step did what it should.
// Tokens are secrets: only their length is printed.

import assert from 'node:assert/strict';

import { createWx } from '../tests/miniprogram/wx-stub.mjs';
import { loadMiniprogram, apiConfig, SAMPLE_AVATAR } from '../tests/miniprogram/harness.mjs';

const APPID = 'wx0123456789abcdef';
const oaBase = `http://127.0.0.1:${process.env.MEETOA_PORT || 8080}`;
const emuBase = `http://127.0.0.1:${process.env.WXEMU_PORT || 9101}`;
const user = process.env.DEMO_USER || `demo-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
const phoneNumber = '139' + String(Math.floor(Math.random() * 1e8)).padStart(8, '0');

let step = 0;
function title(text) {
  step++;
  console.log(`\n${step}. ${text}`);
}
const say = (text) => console.log(`   ${text}`);
const callLog = (line) => console.log(`   · ${line}`);

async function reachable(url, what) {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
  } catch {
    console.error(`demo: ${what} does not answer at ${url}. Start the servers first: make run (in another terminal).`);
    process.exit(2);
  }
}

/** GET /wx/auth/info with `token`, straight to the server (what the server thinks). */
async function serverInfo(token) {
  const res = await fetch(`${oaBase}/wx/auth/info`, { headers: { [apiConfig().TokenHeader]: token } });
  return res.json();
}

async function main() {
  await reachable(`${oaBase}/wx/auth/info`, 'MeetOA');
  await reachable(`${emuBase}/__emu/state`, 'The WeChat emulator (wxemu)');

  const origin = new URL(apiConfig().ApiRootUrl).origin;
  const phone = createWx({ appid: APPID, user, wxemuBase: emuBase, hosts: { [origin]: oaBase }, log: callLog });
  const mp = loadMiniprogram(phone);

  console.log('MeetOA mini program walk-through: the code of miniprogram/ running in Node');
  console.log(`  MeetOA ${oaBase}, WeChat emulator ${emuBase}, appid ${APPID}, WeChat user "${user}"`);
  console.log(`  (config/api.js says ${apiConfig().ApiRootUrl}; the stand-in sends ${origin} to ${oaBase})`);

  title('打开小程序 — the home page, nobody logged in yet');
  await mp.launch();
  const index = mp.open('pages/index/index');
  await index.shown;
  assert.equal(index.data.hasLogin, false);
  say(`首页: ${index.data.hasLogin ? index.data.nickName : '未登录'} (the page asked the server nothing)`);

  title('登录页 — tap 微信登录');
  index.goLogin();
  const login = mp.open('pages/login/login');
  await login.onLogin();
  const token = phone.storage.get('token');
  assert.ok(token, 'logged in');
  say(`logged in: a token of ${token.length} characters is stored, valid until ${mp.util.formatTime(phone.storage.get('tokenExpire'))}`);
  assert.equal(login.data.step, 'profile');
  say('a new user: the page now asks for an avatar and a nickname');

  title('头像 — <button open-type="chooseAvatar"> gives a picture; it is uploaded and saved');
  await login.onChooseAvatar({ detail: { avatarUrl: SAMPLE_AVATAR } });
  assert.ok(login.data.avatarUrl, 'avatar uploaded');
  say(`avatar: ${login.data.avatarUrl}`);

  title('昵称 — <input type="nickname">, then 保存');
  await login.onSubmitProfile({ detail: { value: { nickname: '演示用户 🌸' } } });
  mp.stack.pop();
  say(`saved; the login page closes (${phone.toasts().join(', ')})`);

  title('首页 — who is logged in');
  await mp.show(index);
  assert.equal(index.data.nickName, '演示用户 🌸');
  say(`${index.data.greeting}，${index.data.nickName}`);

  title(`我的 — 绑定手机号 with the getPhoneNumber button (number ${phoneNumber})`);
  const ucenter = mp.open('pages/ucenter/ucenter');
  await ucenter.shown;
  const res = await fetch(`${emuBase}/__emu/phone_code`, {
    method: 'POST',
    body: JSON.stringify({ appid: APPID, user, phone: phoneNumber }),
  });
  const { code } = await res.json();
  say('the button gives a one-time phone code (from the emulator)');
  await ucenter.onGetPhoneNumber({ detail: { code, errMsg: 'getPhoneNumber:ok' } });
  assert.equal(ucenter.data.mobile, phoneNumber);
  say(`手机号: ${ucenter.data.maskedMobile} (${phone.toasts().at(-1)})`);

  title('the session ends elsewhere (the token is logged out on the server directly)');
  await fetch(`${oaBase}/wx/auth/logout`, { method: 'POST', headers: { [apiConfig().TokenHeader]: token } });
  say(`the server now answers errno ${(await serverInfo(token)).errno} for the old token`);
  const logins = phone.count('login');
  const toasts = phone.toasts().length;
  await mp.show(ucenter);
  assert.equal(phone.count('login'), logins + 1, 'one silent wx.login');
  assert.equal(phone.toasts().length, toasts, 'no error shown');
  assert.equal(ucenter.data.nickName, '演示用户 🌸');
  say(`我的 still shows ${ucenter.data.nickName} and ${ucenter.data.maskedMobile}: a silent wx.login, a new token, the call retried once, no error shown`);

  title('我的 — 退出登录');
  const fresh = phone.storage.get('token');
  await ucenter.onLogout();
  assert.equal(ucenter.data.hasLogin, false);
  assert.equal((await serverInfo(fresh)).errno, 501);
  say(`logged out: nothing stored on the phone, and the server refuses the token (errno 501)`);

  console.log(`\nDone: ${step} steps, ${phone.requests.length} calls to MeetOA, ${phone.count('login')} wx.login().`);
}

main().catch((err) => {
  console.error(`\ndemo failed at step ${step}: ${err.message}`);
  process.exit(1);
});
