// utils/privacy.js — the user's consent to the mini program's 用户隐私保护指引 (WeChat's privacy
// rules since 2023; app.json has "__usePrivacyCheck__": true, and since 2023-10-17 the check is on
// for every mini program anyway).
//
// How WeChat's flow works (developers.weixin.qq.com/miniprogram/dev/framework/user-privacy/
// PrivacyAuthorize.html and the API pages of wx.onNeedPrivacyAuthorization, wx.getPrivacySetting,
// wx.openPrivacyContract): a privacy API or component used before the user has agreed — here
// <button open-type="getPhoneNumber"> (绑定手机号) and <button open-type="chooseAvatar"> (头像) —
// stays pending and fires the onNeedPrivacyAuthorization listener with a `resolve` function and
// {referrer: "button.getPhoneNumber", ...}. The app shows its own dialog; its agree button must be
// <button open-type="agreePrivacyAuthorization"> (the tap itself records the agreement), after
// whose bindagreeprivacyauthorization event resolve({event: 'agree', buttonId}) lets the pending
// call go on (the base library checks that this button was tapped). resolve({event: 'disagree'})
// makes it fail ("...:fail privacy permission is not authorized", errno 104). One agreement
// covers every API and component the guide declares.
//
// This module registers the one listener (listen(), from app.js onLaunch: a listener registered
// per page would be replaced by the next page's), and hands each request to the dialog of the
// page on top (components/privacy, which every page that uses a privacy component includes and
// which attach()es itself). Requests that come while the dialog is open wait for the same answer.
// A request with no dialog on the top page is refused (the user is told where to agree).
//
// getSetting() is wx.getPrivacySetting as a promise ({needAuthorization, privacyContractName});
// openContract() opens the guide (wx.openPrivacyContract). Both answer "nothing to ask" on a base
// library older than 2.32.3, which has no privacy check.

const util = require('./util.js');

/** The errno of a privacy API or component the user did not agree to (WeChat's 104). */
const NOT_AUTHORIZED_ERRNO = 104;
const AGREE_BUTTON_ID = 'agree-btn';
const DEFAULT_CONTRACT_NAME = '《用户隐私保护指引》';

const dialogs = []; // the attached dialog components, newest last
let waiting = []; // resolve functions of the listener calls the open dialog answers
let listening = false;

/** What the request is for, in the dialog's words, from the listener's referrer. */
function purposeOf(referrer) {
  if (/getPhoneNumber/i.test(referrer || '')) return 'phone';
  if (/chooseAvatar/i.test(referrer || '')) return 'avatar';
  return 'other';
}

/** The id of the page a page or component instance belongs to ('' when the base library has none). */
function pageIdOf(instance) {
  return instance && typeof instance.getPageId === 'function' ? instance.getPageId() : '';
}

/** The dialog of the page on top, or null. */
function activeDialog() {
  const pages = typeof getCurrentPages === 'function' ? getCurrentPages() : [];
  const top = pages.length > 0 ? pages[pages.length - 1] : null;
  const topId = pageIdOf(top);
  for (let i = dialogs.length - 1; i >= 0; i--) if (topId !== '' && pageIdOf(dialogs[i]) === topId) return dialogs[i];
  return null;
}

/** A dialog component (components/privacy) says it is on its page. */
function attach(dialog) {
  if (dialogs.indexOf(dialog) < 0) dialogs.push(dialog);
}

/** A dialog component leaves (its page was closed). */
function detach(dialog) {
  const i = dialogs.indexOf(dialog);
  if (i >= 0) dialogs.splice(i, 1);
}

/** Answers every waiting listener call with `answer` ({event: 'agree', buttonId} or {event: 'disagree'}). */
function answerAll(answer) {
  const list = waiting;
  waiting = [];
  for (const resolve of list) resolve(answer);
}

/** Registers the onNeedPrivacyAuthorization listener once (app.js onLaunch). */
function listen() {
  if (listening || typeof wx.onNeedPrivacyAuthorization !== 'function') return;
  listening = true;
  wx.onNeedPrivacyAuthorization((resolve, eventInfo) => {
    const referrer = (eventInfo && eventInfo.referrer) || '';
    const dialog = activeDialog();
    if (dialog === null) {
      resolve({ event: 'disagree' });
      util.showErrorToast('请先在 我的 → 隐私与账号 中同意隐私保护指引');
      return;
    }
    waiting.push(resolve);
    dialog.open(purposeOf(referrer));
    // Tells WeChat the app's own dialog is on screen (the documented exposureAuthorization).
    resolve({ event: 'exposureAuthorization' });
  });
}

/** The user tapped the dialog's agree button (open-type="agreePrivacyAuthorization", id buttonId). */
function agree(buttonId) {
  answerAll({ event: 'agree', buttonId: buttonId || AGREE_BUTTON_ID });
}

/** The user declined: the waiting calls fail (errno 104), the user stays logged in. */
function disagree() {
  answerAll({ event: 'disagree' });
}

/** wx.getPrivacySetting as a promise: {needAuthorization, privacyContractName}. */
function getSetting() {
  return new Promise((resolve) => {
    if (typeof wx.getPrivacySetting !== 'function') {
      resolve({ needAuthorization: false, privacyContractName: DEFAULT_CONTRACT_NAME });
      return;
    }
    wx.getPrivacySetting({
      success: (res) =>
        resolve({
          needAuthorization: res.needAuthorization === true,
          privacyContractName: res.privacyContractName || DEFAULT_CONTRACT_NAME,
        }),
      // Unknown: the check happens anyway when a privacy component is used.
      fail: () => resolve({ needAuthorization: false, privacyContractName: DEFAULT_CONTRACT_NAME }),
    });
  });
}

/** wx.openPrivacyContract (the guide, as written in the mini program's admin console); resolves true when opened. */
function openContract() {
  return new Promise((resolve) => {
    if (typeof wx.openPrivacyContract !== 'function') {
      resolve(false);
      return;
    }
    wx.openPrivacyContract({
      success: () => resolve(true),
      fail: () => {
        util.showErrorToast('无法打开隐私保护指引，请稍后重试');
        resolve(false);
      },
    });
  });
}

/** Is `detail` (of a privacy component's event) WeChat's "not agreed to the privacy guide"? */
function isNotAuthorized(detail) {
  if (!detail) return false;
  return detail.errno === NOT_AUTHORIZED_ERRNO || /privacy permission is not authorized/.test(detail.errMsg || '');
}

module.exports = {
  NOT_AUTHORIZED_ERRNO,
  AGREE_BUTTON_ID,
  listen,
  attach,
  detach,
  agree,
  disagree,
  getSetting,
  openContract,
  isNotAuthorized,
  purposeOf,
};
