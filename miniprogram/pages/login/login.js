// pages/login — "微信登录", then the user fills in an avatar and a nickname.
//
// WeChat no longer gives the profile (wx.getUserProfile answers a grey avatar and "微信用户"
// since 2022-10-25), so after logging in a new user picks an avatar with
// <button open-type="chooseAvatar"> (a temporary file, uploaded to /wx/storage/upload and saved
// with /wx/auth/profile) and a nickname with <input type="nickname"> (collected by a form
// submit, after WeChat's content check). A returning user with a nickname goes straight back.
// Opened with ?mode=profile (from 我的 -> 编辑资料) it shows the profile step at once.
//
// Privacy (utils/privacy.js): the avatar button and the nickname input are privacy components.
// When the profile step shows and wx.getPrivacySetting says the user has not agreed to the
// privacy guide, the page's <privacy-dialog> asks at once (WeChat makes the nickname input a
// plain text input until then). Declined, the step stays usable: a tap on 头像 makes WeChat ask
// again through the same dialog, and declining that leaves the avatar as it was (the user is
// logged in all along; 保存 and 跳过 work).
//
// Every handler returns its promise (WeChat ignores it; the tests await it).

const util = require('../../utils/util.js');
const user = require('../../utils/user.js');

const DEFAULT_AVATAR = '/images/default-avatar.png';

Page({
  data: {
    step: 'login', // 'login': the 微信登录 button; 'profile': avatar and nickname
    loading: false,
    saving: false,
    avatarUrl: '',
    nickName: '',
    defaultAvatar: DEFAULT_AVATAR,
  },

  onLoad(options) {
    if (options && options.mode === 'profile' && util.hasLogin()) this.showProfileStep(false);
  },

  /** The page's components are ready: the profile step opened by ?mode=profile asks for consent now. */
  onReady() {
    if (this.data.step === 'profile') return this.askPrivacy();
    return Promise.resolve(false);
  },

  /** The avatar and nickname step; with `ask` (not from onLoad) the privacy dialog too, when needed. */
  showProfileStep(ask = true) {
    const info = util.getUserInfo() || {};
    this.setData({ step: 'profile', avatarUrl: info.avatarUrl || '', nickName: info.nickName || '' });
    return ask ? this.askPrivacy() : Promise.resolve(false);
  },

  /** Shows the privacy dialog when wx.getPrivacySetting says it is needed; resolves whether it did. */
  askPrivacy() {
    const dialog = this.selectComponent('#privacy');
    return dialog ? dialog.showIfNeeded('avatar') : Promise.resolve(false);
  },

  /** The 微信登录 button. */
  onLogin() {
    if (this.data.loading) return Promise.resolve();
    this.setData({ loading: true });
    wx.showLoading({ title: '登录中', mask: true });
    return user
      .loginByWeixin()
      .then((data) => {
        wx.hideLoading();
        this.setData({ loading: false });
        if (data.userInfo && data.userInfo.nickName) return this.finish();
        return this.showProfileStep().then(() => undefined);
      })
      .catch((err) => {
        wx.hideLoading();
        this.setData({ loading: false });
        util.showErrorToast(err.message);
      });
  },

  /** <button open-type="chooseAvatar">: e.detail.avatarUrl is a temporary local file. */
  onChooseAvatar(e) {
    const filePath = e && e.detail && e.detail.avatarUrl;
    if (!filePath) return Promise.resolve();
    wx.showLoading({ title: '上传中', mask: true });
    return user
      .updateAvatar(filePath)
      .then((info) => {
        wx.hideLoading();
        this.setData({ avatarUrl: info.avatarUrl });
      })
      .catch((err) => {
        wx.hideLoading();
        util.showErrorToast(err.message);
      });
  },

  /** The form around <input type="nickname" name="nickname">. */
  onSubmitProfile(e) {
    const value = (e && e.detail && e.detail.value) || {};
    const nickname = String(value.nickname || '').trim();
    if (nickname === '') {
      util.showErrorToast('请填写昵称');
      return Promise.resolve();
    }
    this.setData({ saving: true });
    return user
      .updateProfile({ nickname })
      .then((info) => {
        this.setData({ saving: false, nickName: info.nickName });
        wx.showToast({ title: '已保存', icon: 'success' });
        return this.finish();
      })
      .catch((err) => {
        this.setData({ saving: false });
        util.showErrorToast(err.message);
      });
  },

  /** 跳过: keep WeChat's defaults for now. */
  onSkip() {
    return this.finish();
  },

  /** Back to where the user came from, or to the home page. */
  finish() {
    const pages = getCurrentPages();
    if (pages.length > 1) wx.navigateBack({ delta: 1 });
    else wx.switchTab({ url: '/pages/index/index' });
  },
});
