// pages/checkin/index — 会议签到: the page a meeting's sign-in code (小程序码) opens. WeChat passes
// the code's scene as query.scene (URL-encoded); the page logs in silently when needed (wx.login,
// as 微信登录 does), then POST /wx/meeting/checkin {scene} and shows the outcome: signed in (late or
// on time), already signed in (with the first time), or why not: 810 a code that is no meeting's,
// 811 a rotating code that expired (scan the code on the screen again), 812 outside the window,
// 506 not on the meeting, 802 not a member. Every handler returns its promise (the tests await it).

const util = require('../../utils/util.js');
const user = require('../../utils/user.js');
const meeting = require('../../utils/meeting.js');

const REASONS = {
  810: '签到码无效',
  811: '签到码已过期，请重新扫描屏幕上的签到码',
  812: '不在签到时间内',
  506: '你不在本次会议的参会名单中',
  802: '请先加入组织',
};

Page({
  data: { scene: '', status: 'loading', title: '', checkinTime: '', late: false, message: '' },

  onLoad(query) {
    const raw = (query && query.scene) || '';
    let scene = '';
    try {
      scene = decodeURIComponent(raw);
    } catch (e) {
      scene = '';
    }
    this.setData({ scene });
  },

  onShow() {
    if (this.data.status !== 'loading') return Promise.resolve();
    return this.signIn();
  },

  /** Logs in when needed, then signs in with the scene. */
  signIn() {
    if (!this.data.scene) {
      this.setData({ status: 'failed', message: REASONS[810] });
      return Promise.resolve();
    }
    const login = util.hasLogin() ? Promise.resolve() : user.loginByWeixin();
    return login
      .then(() => meeting.checkin(this.data.scene))
      .then((r) =>
        this.setData({
          status: r.already ? 'already' : 'done',
          title: r.title,
          checkinTime: r.checkinTime,
          late: !!r.late,
          message: r.already ? '你已签到' : r.late ? '签到成功（迟到）' : '签到成功',
        }),
      )
      .catch((err) => {
        const message = REASONS[err && err.errno] || (err && err.errmsg) || '签到失败，请稍后重试';
        this.setData({ status: 'failed', message });
        if (!REASONS[err && err.errno]) util.showError(err);
      });
  },

  retry() {
    this.setData({ status: 'loading', message: '' });
    return this.signIn();
  },

  goHome() {
    wx.switchTab({ url: '/pages/index/index' });
  },
});
