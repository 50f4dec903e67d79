// app.js — the MeetOA mini program (会议OA): the App() instance.
//
// Nothing happens at launch but a check of the stored login: pages ask utils/util.js who is
// logged in, and any page that calls the server logs in again silently when its token has
// expired (see utils/util.js), so there is no login page for an expired token. The privacy
// listener (utils/privacy.js) is registered at launch, before any page can use the phone or avatar.

const user = require('./utils/user.js');
const privacy = require('./utils/privacy.js');

App({
  globalData: {
    // Whether the stored login looked valid at the last launch or return to the foreground.
    // Pages read the stored login itself (utils/util.js), which is always current.
    hasLogin: false,
    // Subscription reminders (utils/subscribe.js): the template ids of GET /wx/subscribe/templates,
    // fetched once per launch by the first page that may ask for them (发布会议, 会议详情), the
    // fetch in flight, and the quotas of the last report.
    subscribeTemplates: null,
    subscribePending: null,
    subscribeQuotas: null,
  },

  onLaunch() {
    // The one onNeedPrivacyAuthorization listener: it hands WeChat's privacy requests to the
    // dialog of the page on top (utils/privacy.js, components/privacy).
    privacy.listen();
    if (typeof wx.getUpdateManager === 'function') {
      const updateManager = wx.getUpdateManager();
      updateManager.onUpdateReady(() => {
        wx.showModal({
          title: '更新提示',
          content: '新版本已经准备好，是否重启应用？',
          success: (res) => {
            if (res.confirm) updateManager.applyUpdate();
          },
        });
      });
    }
  },

  onShow() {
    return user.checkLogin().then((ok) => {
      this.globalData.hasLogin = ok;
      return ok;
    });
  },
});
