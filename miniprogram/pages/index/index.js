// pages/index — the meeting-OA home: who is logged in, the caller's next meetings, the OA's entries.
//
// Shows the stored profile at once and refreshes it from /wx/auth/info when logged in (an
// expired token is replaced silently by utils/util.js); then asks /wx/member/me who the caller
// is in the organization. A member sees their next meetings (/wx/meeting/list?view=upcoming, the
// first NEXT_LIMIT); a visitor (membership none or pending) sees a prompt to join instead (with
// the reason of a refused request). Not logged in: a 去登录 button, and nothing is asked of the
// server. The calls are made one after another, so a server that is down shows one toast.
// Handlers return promises (the tests await them).

const util = require('../../utils/util.js');
const user = require('../../utils/user.js');
const org = require('../../utils/org.js');
const meeting = require('../../utils/meeting.js');

const DEFAULT_AVATAR = '/images/default-avatar.png';
const NEXT_LIMIT = 5;

const MENU = [
  { id: 'meetings', text: '会议列表', url: '/pages/meeting/list/list', tab: true },
  { id: 'publish', text: '发布会议', url: '/pages/meeting/edit/edit' },
  { id: 'votes', text: '投票', url: '' },
  { id: 'ucenter', text: '个人中心', url: '/pages/ucenter/ucenter', tab: true },
];
const ADMIN_MENU = [{ id: 'requests', text: '成员审批', url: '/pages/member/requests/requests' }];

function greetingAt(hour) {
  if (hour < 6) return '夜深了';
  if (hour < 12) return '上午好';
  if (hour < 18) return '下午好';
  return '晚上好';
}

const NO_ORG = { membership: '', isMember: false, isAdmin: false, memberName: '', rejectReason: '', meetings: [], meetingsTotal: 0, menu: MENU };

Page({
  data: Object.assign(
    {
      hasLogin: false,
      nickName: '',
      avatarUrl: '',
      greeting: '',
      defaultAvatar: DEFAULT_AVATAR,
    },
    NO_ORG,
  ),

  onShow() {
    const greeting = greetingAt(new Date().getHours());
    if (!util.hasLogin()) {
      this.setData(Object.assign({ hasLogin: false, nickName: '', avatarUrl: '', greeting }, NO_ORG));
      return Promise.resolve();
    }
    this.showUser(util.getUserInfo() || {}, greeting);
    return user
      .refreshUserInfo()
      .then((info) => {
        this.showUser(info, greeting);
        return this.loadOrg();
      })
      .catch((err) => {
        // A refused login that could not be renewed (WeChat unreachable) was cleared.
        if (!util.hasLogin()) this.setData(Object.assign({ hasLogin: false, nickName: '', avatarUrl: '' }, NO_ORG));
        util.showErrorToast(err.message);
      });
  },

  onPullDownRefresh() {
    return this.onShow().then(() => wx.stopPullDownRefresh());
  },

  showUser(info, greeting) {
    this.setData({ hasLogin: true, nickName: info.nickName || '微信用户', avatarUrl: info.avatarUrl || '', greeting });
  },

  /** The caller's membership, then (for members) their next meetings. */
  loadOrg() {
    return org.me().then((me) => {
      const isMember = org.isMember(me.membership);
      const isAdmin = me.membership === 'admin';
      this.setData({
        membership: me.membership,
        isMember,
        isAdmin,
        memberName: me.name || '',
        rejectReason: me.rejectReason || '',
        menu: isAdmin ? MENU.concat(ADMIN_MENU) : MENU,
      });
      if (!isMember) {
        this.setData({ meetings: [], meetingsTotal: 0 });
        return undefined;
      }
      return meeting.list('upcoming', 1, NEXT_LIMIT).then((page) => {
        this.setData({ meetings: page.list.map(meeting.listItem), meetingsTotal: page.total });
      });
    });
  },

  goLogin() {
    wx.navigateTo({ url: '/pages/login/login' });
  },

  goJoin() {
    wx.navigateTo({ url: '/pages/member/join/join' });
  },

  goMeetings() {
    wx.switchTab({ url: '/pages/meeting/list/list' });
  },

  onMeetingTap(e) {
    const id = e.currentTarget.dataset.id;
    wx.navigateTo({ url: '/pages/meeting/detail/detail?id=' + id });
  },

  onMenuTap(e) {
    const id = e.currentTarget.dataset.id;
    const item = this.data.menu.find((m) => m.id === id);
    if (!item || !item.url) {
      wx.showToast({ title: '功能开发中', icon: 'none' });
      return;
    }
    if (item.tab) wx.switchTab({ url: item.url });
    else wx.navigateTo({ url: item.url });
  },
});
