// pages/ucenter — 我的: avatar, nickname, the bound phone number, 隐私与账号, logout.
//
// On show it displays the stored profile at once, then refreshes it from /wx/auth/info (an
// expired token is replaced silently by utils/util.js). The phone is bound with
// <button open-type="getPhoneNumber">: its e.detail.code (a phone code, not a wx.login code)
// goes to /wx/auth/bindPhone. Before the user has agreed to the privacy guide, WeChat holds that
// button's tap and asks the page's privacy dialog (<privacy-dialog>, utils/privacy.js) first; a
// 不同意 there ends as a getPhoneNumber failure with errno 104, which the dialog has already
// explained: the user stays logged in, without a phone number. 隐私与账号 opens pages/account
// (the privacy guide, devices, login log, export, deletion).
// Every handler returns its promise (the tests await it).

const util = require('../../utils/util.js');
const user = require('../../utils/user.js');
const privacy = require('../../utils/privacy.js');

const DEFAULT_AVATAR = '/images/default-avatar.png';

function viewOf(info) {
  return {
    hasLogin: true,
    nickName: info.nickName || '微信用户',
    avatarUrl: info.avatarUrl || '',
    mobile: info.mobile || '',
    maskedMobile: util.maskPhone(info.mobile),
  };
}

const LOGGED_OUT = { hasLogin: false, nickName: '', avatarUrl: '', mobile: '', maskedMobile: '' };

Page({
  data: Object.assign({ defaultAvatar: DEFAULT_AVATAR, binding: false }, LOGGED_OUT),

  onShow() {
    if (!util.hasLogin()) {
      this.setData(LOGGED_OUT);
      return Promise.resolve();
    }
    this.setData(viewOf(util.getUserInfo() || {}));
    return user
      .refreshUserInfo()
      .then((info) => this.setData(viewOf(info)))
      .catch((err) => {
        // A refused login that could not be renewed (WeChat unreachable) was cleared.
        if (!util.hasLogin()) this.setData(LOGGED_OUT);
        util.showErrorToast(err.message);
      });
  },

  onPullDownRefresh() {
    return this.onShow().then(() => wx.stopPullDownRefresh());
  },

  goLogin() {
    wx.navigateTo({ url: '/pages/login/login' });
  },

  editProfile() {
    wx.navigateTo({ url: '/pages/login/login?mode=profile' });
  },

  goAccount() {
    wx.navigateTo({ url: '/pages/account/account' });
  },

  /** <button open-type="getPhoneNumber">: e.detail.code when the user allowed it. */
  onGetPhoneNumber(e) {
    const detail = (e && e.detail) || {};
    // The privacy guide was declined: the dialog has said what that means.
    if (!detail.code && privacy.isNotAuthorized(detail)) return Promise.resolve();
    if (!detail.code) {
      // The user refused (errMsg "getPhoneNumber:fail user deny") or WeChat gave nothing.
      util.showErrorToast('未授权手机号，未绑定');
      return Promise.resolve();
    }
    this.setData({ binding: true });
    return user
      .bindPhone(detail.code)
      .then((phone) => {
        this.setData({ binding: false, mobile: phone.purePhoneNumber, maskedMobile: util.maskPhone(phone.purePhoneNumber) });
        wx.showToast({ title: '绑定成功', icon: 'success' });
      })
      .catch((err) => {
        this.setData({ binding: false });
        util.showErrorToast(err.message);
      });
  },

  /** 退出登录, after a confirmation. */
  onLogout() {
    return new Promise((resolve) => {
      wx.showModal({
        title: '退出登录',
        content: '确定要退出登录吗？',
        confirmColor: '#fa5151',
        success: (res) => resolve(res.confirm === true),
        fail: () => resolve(false),
      });
    }).then((confirmed) => {
      if (!confirmed) return undefined;
      return user.logout().then(() => {
        this.setData(LOGGED_OUT);
        wx.showToast({ title: '已退出登录', icon: 'none' });
      });
    });
  },
});
