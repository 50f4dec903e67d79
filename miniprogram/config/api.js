// config/api.js — where MeetOA answers, and the paths of the endpoints the mini program calls.
//
// ApiRootUrl is the one setting to change for a deployment: the /wx/ root of the MeetOA server
// (`make run` serves it on http://127.0.0.1:8080; in production an https:// domain that is listed
// as a "request 合法域名" of the mini program). Every URL below is built from it, so nothing else
// names a host. TokenHeader must match the server's oa.token.header.

const ApiRootUrl = 'http://127.0.0.1:8080/wx/';

module.exports = {
  ApiRootUrl,
  TokenHeader: 'X-OA-Token',

  AuthLoginByWeixin: ApiRootUrl + 'auth/login_by_weixin', // {code, userInfo?} -> {token, tokenExpire, userInfo}
  AuthInfo: ApiRootUrl + 'auth/info', // -> {nickName, avatar, gender, mobile}
  AuthLogout: ApiRootUrl + 'auth/logout',
  AuthBindPhone: ApiRootUrl + 'auth/bindPhone', // {code} of the getPhoneNumber button
  AuthProfile: ApiRootUrl + 'auth/profile', // any of {nickname, avatar, gender}
  AuthCheckSession: ApiRootUrl + 'auth/check_session',
  StorageUpload: ApiRootUrl + 'storage/upload', // multipart field `file` (chooseAvatar)
};
