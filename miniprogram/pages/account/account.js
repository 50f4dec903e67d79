// pages/account — 隐私与账号 (from 我的): the privacy guide, the devices logged in (登录设备),
// the login log (登录记录), the data export (导出我的数据) and the account deletion (注销账号).
//
// - 隐私保护指引: its name and whether the user has agreed (wx.getPrivacySetting); 查看 opens it
//   (wx.openPrivacyContract); 去同意 shows the page's <privacy-dialog> (utils/privacy.js).
// - 登录设备: GET /wx/auth/sessions, newest first, this phone marked 本机; 下线 ends another one
//   (POST /wx/auth/logout_session {id}, after a confirmation); 退出全部设备 ends every session,
//   this one too (POST /wx/auth/logout_all, confirmed), then 我的 shows the user logged out.
// - 登录记录: GET /wx/auth/login_log, 20 rows a page, 加载更多 while there are more.
// - 导出我的数据: the JSON file of GET /wx/auth/export, downloaded with the token (never a public
//   URL); the page shows what it holds (its top-level parts and their sizes) and 发送到聊天
//   sends the file with wx.shareFileMessage (a tap of its own: WeChat allows it only from one),
//   the only way a user can take a file out of a mini program. wx.openDocument does not open
//   JSON, and wx.saveFile keeps it in the mini program's own storage, out of the user's reach.
// - 注销账号: a wx.showModal saying what is deleted and what stays, then a fresh wx.login() code
//   and POST /wx/auth/delete_account {code} (utils/account.js). Done: the stored login is gone and
//   the login page opens alone (wx.reLaunch). 816: the meetings the user hosts are listed (tap:
//   会议详情), to hand over or cancel first; 807 (the last admin) and other refusals: a toast.
// Every handler returns its promise (the tests await it).

const util = require('../../utils/util.js');
const account = require('../../utils/account.js');
const privacy = require('../../utils/privacy.js');
const meeting = require('../../utils/meeting.js');

const LOG_LIMIT = 20;

/** A confirmation dialog as a promise of the user's answer. */
function confirm(options) {
  return new Promise((resolve) => {
    wx.showModal(Object.assign({ confirmColor: '#fa5151' }, options, {
      success: (res) => resolve(res.confirm === true),
      fail: () => resolve(false),
    }));
  });
}

Page({
  data: {
    hasLogin: false,
    privacyNeeded: false,
    contractName: '',
    sessions: [],
    sessionsLoaded: false,
    ending: '', // the id of the session being ended
    endingAll: false,
    log: [],
    logPage: 0,
    logPages: 0,
    loadingLog: false,
    exporting: false,
    exported: null, // {fileName, sizeText, summary: [{key, count}]}
    deleting: false,
    hosted: [], // 816: [{id, title, timeText}]
  },

  onShow() {
    if (!util.hasLogin()) {
      this.setData({ hasLogin: false });
      return Promise.resolve();
    }
    this.setData({ hasLogin: true });
    return this.loadPrivacy()
      .then(() => this.loadSessions())
      .then(() => this.loadLog(1))
      .catch((err) => util.showError(err));
  },

  onPullDownRefresh() {
    return this.onShow().then(() => wx.stopPullDownRefresh());
  },

  goLogin() {
    wx.navigateTo({ url: '/pages/login/login' });
  },

  // -------------------------------------------------------------------------------------------
  // 隐私保护指引

  loadPrivacy() {
    return privacy.getSetting().then((s) => this.setData({ privacyNeeded: s.needAuthorization, contractName: s.privacyContractName }));
  },

  onOpenContract() {
    return privacy.openContract();
  },

  /** 去同意: the dialog, as the pages that need the agreement show it. */
  onAskPrivacy() {
    const dialog = this.selectComponent('#privacy');
    return dialog ? dialog.showIfNeeded('other') : Promise.resolve(false);
  },

  /** bind:agree of the dialog. */
  onPrivacyAgreed() {
    return this.loadPrivacy();
  },

  // -------------------------------------------------------------------------------------------
  // 登录设备

  loadSessions() {
    return account.sessions().then((list) => this.setData({ sessions: list, sessionsLoaded: true }));
  },

  /** 下线 of another device (data-id). */
  onEndSession(e) {
    const id = e && e.currentTarget && e.currentTarget.dataset.id;
    if (!id || this.data.ending) return Promise.resolve();
    return confirm({ title: '下线该设备', content: '该设备需要重新登录才能继续使用。', confirmText: '下线' }).then((yes) => {
      if (!yes) return undefined;
      this.setData({ ending: id });
      return account
        .logoutSession(id)
        .then(() => {
          this.setData({ ending: '' });
          wx.showToast({ title: '已下线', icon: 'success' });
          return this.loadSessions();
        })
        .catch((err) => {
          this.setData({ ending: '' });
          util.showError(err);
          return this.loadSessions().catch(() => undefined);
        });
    });
  },

  /** 退出全部设备: every session ends, this phone's too. */
  onEndAll() {
    if (this.data.endingAll) return Promise.resolve();
    return confirm({ title: '退出全部设备', content: '所有设备（包括本机）都将退出登录。', confirmText: '全部退出' }).then((yes) => {
      if (!yes) return undefined;
      this.setData({ endingAll: true });
      return account
        .logoutAll()
        .then(() => {
          this.setData({ endingAll: false, hasLogin: false, sessions: [], log: [] });
          wx.showToast({ title: '已退出全部设备', icon: 'none' });
          wx.switchTab({ url: '/pages/ucenter/ucenter' });
        })
        .catch((err) => {
          this.setData({ endingAll: false });
          util.showError(err);
        });
    });
  },

  // -------------------------------------------------------------------------------------------
  // 登录记录

  loadLog(page) {
    this.setData({ loadingLog: true });
    return account.loginLog(page, LOG_LIMIT).then(
      (res) => this.setData({ log: page === 1 ? res.list : this.data.log.concat(res.list), logPage: res.page, logPages: res.pages, loadingLog: false }),
      (err) => {
        this.setData({ loadingLog: false });
        throw err;
      },
    );
  },

  onMoreLog() {
    if (this.data.loadingLog || this.data.logPage >= this.data.logPages) return Promise.resolve();
    return this.loadLog(this.data.logPage + 1).catch((err) => util.showError(err));
  },

  // -------------------------------------------------------------------------------------------
  // 导出我的数据

  onExport() {
    if (this.data.exporting) return Promise.resolve();
    this.setData({ exporting: true });
    wx.showLoading({ title: '正在导出', mask: true });
    return account
      .exportData()
      .then((file) => {
        wx.hideLoading();
        this.exportPath = file.tempFilePath;
        this.setData({ exporting: false, exported: { fileName: file.fileName, sizeText: meeting.sizeText(file.bytes), summary: file.summary } });
      })
      .catch((err) => {
        wx.hideLoading();
        this.setData({ exporting: false });
        util.showError(err);
      });
  },

  /** 发送到聊天: WeChat's own file sharing, from this tap. */
  onShareExport() {
    if (!this.exportPath || !this.data.exported) return;
    wx.shareFileMessage({
      filePath: this.exportPath,
      fileName: this.data.exported.fileName,
      fail: (res) => {
        if (!/cancel/.test((res && res.errMsg) || '')) util.showErrorToast('发送失败，请重新导出后再试');
      },
    });
  },

  // -------------------------------------------------------------------------------------------
  // 注销账号

  onDeleteAccount() {
    if (this.data.deleting) return Promise.resolve();
    return confirm({
      title: '注销账号',
      content: '注销后，你的昵称、头像、手机号和全部登录设备将被删除，且无法恢复；会议和投票中你将显示为“已注销用户”。确定注销吗？',
      confirmText: '注销',
    }).then((yes) => {
      if (!yes) return undefined;
      this.setData({ deleting: true, hosted: [] });
      wx.showLoading({ title: '正在注销', mask: true });
      return account
        .deleteAccount()
        .then(() => {
          wx.hideLoading();
          this.setData({ deleting: false, hasLogin: false });
          wx.showToast({ title: '账号已注销', icon: 'none' });
          wx.reLaunch({ url: '/pages/login/login' });
        })
        .catch((err) => {
          wx.hideLoading();
          this.setData({ deleting: false });
          if (err.errno === account.HOSTS_MEETINGS_ERRNO) {
            const list = (err.data && err.data.list) || [];
            this.setData({ hosted: list.map((m) => ({ id: m.id, title: m.title, timeText: util.meetingTime(m.startTime) })) });
            util.showErrorToast(err.message);
            return;
          }
          util.showError(err);
        });
    });
  },

  /** A meeting of the 816 list: its 会议详情, to hand it over or cancel it. */
  onHostedTap(e) {
    const id = e && e.currentTarget && e.currentTarget.dataset.id;
    if (id) wx.navigateTo({ url: '/pages/meeting/detail/detail?id=' + id });
  },
});
