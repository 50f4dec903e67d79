// pages/index — the meeting-OA home: who is logged in, and the OA's entries.
//
// Shows the stored profile at once and refreshes it from /wx/auth/info when logged in (an
// expired token is replaced silently by utils/util.js). Not logged in: a 去登录 button. The
// meeting entries belong to later releases of the OA and say so. Handlers return promises.

const util = require('../../utils/util.js');
const user = require('../../utils/user.js');

const DEFAULT_AVATAR = '/images/default-avatar.png';

const MENU = [
  { id: 'meetings', text: '会议列表', url: '' },
  { id: 'publish', text: '发布会议', url: '' },
  { id: 'votes', text: '投票', url: '' },
  { id: 'ucenter', text: '个人中心', url: '/pages/ucenter/ucenter', tab: true },
];

function greetingAt(hour) {
  if (hour < 6) return '夜深了';
  if (hour < 12) return '上午好';
  if (hour < 18) return '下午好';
  return '晚上好';
}

Page({
  data: {
    hasLogin: false,
    nickName: '',
    avatarUrl: '',
    greeting: '',
    menu: MENU,
    defaultAvatar: DEFAULT_AVATAR,
  },

  onShow() {
    const greeting = greetingAt(new Date().getHours());
    if (!util.hasLogin()) {
      this.setData({ hasLogin: false, nickName: '', avatarUrl: '', greeting });
      return Promise.resolve();
    }
    this.showUser(util.getUserInfo() || {}, greeting);
    return user
      .refreshUserInfo()
      .then((info) => this.showUser(info, greeting))
      .catch((err) => {
        // A refused login that could not be renewed (WeChat unreachable) was cleared.
        if (!util.hasLogin()) this.setData({ hasLogin: false, nickName: '', avatarUrl: '' });
        util.showErrorToast(err.message);
      });
  },

  showUser(info, greeting) {
    this.setData({ hasLogin: true, nickName: info.nickName || '微信用户', avatarUrl: info.avatarUrl || '', greeting });
  },

  goLogin() {
    wx.navigateTo({ url: '/pages/login/login' });
  },

  onMenuTap(e) {
    const id = e.currentTarget.dataset.id;
    const item = MENU.find((m) => m.id === id);
    if (!item || !item.url) {
      wx.showToast({ title: '功能开发中', icon: 'none' });
      return;
    }
    if (item.tab) wx.switchTab({ url: item.url });
    else wx.navigateTo({ url: item.url });
  },
});
