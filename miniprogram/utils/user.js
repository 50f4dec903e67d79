// utils/user.js — the user's login, profile and phone, as promises for the pages.
//
// Logging in is wx.login() -> POST /wx/auth/login_by_weixin {code} -> a token kept in storage
// (utils/util.js keeps it and sends it). Every function here resolves or rejects a promise;
// rejections are the Error objects of util.js ({errno, errmsg, message}).
//
// Who is logged in is what storage says (util.hasLogin / util.getUserInfo), never a copy in
// getApp().globalData, so a silent re-login or a logout is seen by every page at once.
//
// The stored profile is normalised to {nickName, avatarUrl, gender, mobile}: login answers
// `avatarUrl`, /wx/auth/info and /wx/auth/profile answer `avatar`.

const util = require('./util.js');
const api = require('../config/api.js');

/** wx.checkSession(): resolves true when WeChat still holds the session of the last wx.login(), else false. */
function checkSession() {
  return new Promise((resolve) => {
    wx.checkSession({
      success: () => resolve(true),
      fail: () => resolve(false),
    });
  });
}

/** wx.login(): resolves {code, errMsg}; rejects (errno -3) when WeChat gives no code. */
function login() {
  return util.wxLogin();
}

/**
 * Logs in with WeChat: wx.login(), then login_by_weixin. userInfo ({nickName, avatarUrl,
 * gender}) is optional and only used by the server for a new user. Stores the login; resolves
 * {token, tokenExpire, userInfo}.
 */
function loginByWeixin(userInfo) {
  return util.loginWithWeixin(userInfo);
}

/**
 * Is someone logged in? Resolves true when a token and profile are stored and WeChat's session
 * is alive (wx.checkSession), false otherwise. Never calls the server: a token the server has
 * dropped meanwhile is found out (and replaced silently) by the next request.
 */
function checkLogin() {
  if (!util.hasLogin() || !util.getUserInfo()) return Promise.resolve(false);
  return checkSession();
}

/** The profile as this app stores it, from an answer of info or profile. */
function normalise(data, previous) {
  const out = Object.assign({}, previous || {});
  if (data.nickName !== undefined) out.nickName = data.nickName;
  if (data.avatar !== undefined) out.avatarUrl = data.avatar;
  if (data.avatarUrl !== undefined) out.avatarUrl = data.avatarUrl;
  if (data.gender !== undefined) out.gender = data.gender;
  if (data.mobile !== undefined) out.mobile = data.mobile;
  return out;
}

/** GET /wx/auth/info: refreshes and resolves the stored profile. */
function refreshUserInfo() {
  return util.request(api.AuthInfo).then((data) => {
    const info = normalise(data, util.getUserInfo());
    util.setUserInfo(info);
    return info;
  });
}

/**
 * Binds the phone number of the getPhoneNumber button's `code` (e.detail.code, not a wx.login
 * code). Resolves {phone, purePhoneNumber, countryCode} and stores the number in the profile.
 */
function bindPhone(code) {
  if (!code) return Promise.reject(Object.assign(new Error('未获取到手机号授权'), { errno: 402, errmsg: '未获取到手机号授权' }));
  return util.request(api.AuthBindPhone, { code }, 'POST').then((data) => {
    util.setUserInfo(normalise({ mobile: data.purePhoneNumber }, util.getUserInfo()));
    return data;
  });
}

/** POST /wx/auth/profile with any of {nickname, avatar, gender}; stores and resolves the profile. */
function updateProfile(changes) {
  return util.request(api.AuthProfile, changes, 'POST').then((data) => {
    const info = normalise(data, util.getUserInfo());
    util.setUserInfo(info);
    return info;
  });
}

/** Uploads a chooseAvatar file and makes it the avatar; resolves the profile. */
function updateAvatar(filePath) {
  return util.uploadFile(api.StorageUpload, filePath, 'file').then((upload) => updateProfile({ avatar: upload.url }));
}

/**
 * Logs out: asks the server to end the session (no silent re-login for this call), then forgets
 * the stored login whatever the server said. Resolves true when the server ended the session
 * (or had ended it already), false when it could not be reached.
 */
function logout() {
  if (!util.hasLogin()) {
    util.clearLogin();
    return Promise.resolve(true);
  }
  return util.request(api.AuthLogout, {}, 'POST', { relogin: false }).then(
    () => {
      util.clearLogin();
      return true;
    },
    (err) => {
      util.clearLogin();
      return err.errno === util.NOT_LOGGED_IN_ERRNO;
    },
  );
}

module.exports = {
  checkSession,
  login,
  loginByWeixin,
  checkLogin,
  refreshUserInfo,
  bindPhone,
  updateProfile,
  updateAvatar,
  logout,
};
