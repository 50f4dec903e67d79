// pages/meeting/list — the 会议 tab: the caller's six lists as tabs (我的会议 mine, 我的审批
// approval, 会议通知 notice, 待开会议 upcoming, 历史会议 history, 所有会议 all), each
// GET /wx/meeting/list?view=&page=&limit= in litemall's page shape {list, total, page, limit,
// pages}. onShow and pull-down reload the current tab from page 1; reaching the bottom loads the
// next page. A visitor (802) sees a prompt to join, someone logged out a login button.
// Tapping a meeting opens its detail; 发布 opens the edit page.
// Every handler returns its promise (the tests await it).

const util = require('../../../utils/util.js');
const org = require('../../../utils/org.js');
const meeting = require('../../../utils/meeting.js');

const LIMIT = 20;

Page({
  data: {
    tabs: meeting.VIEWS,
    view: 'upcoming',
    hasLogin: false,
    notMember: false,
    loaded: false,
    loading: false,
    list: [],
    total: 0,
    page: 0,
    pages: 0,
    hasMore: false,
  },

  onLoad(options) {
    if (options && meeting.VIEWS.some((v) => v.view === options.view)) this.setData({ view: options.view });
  },

  onShow() {
    return this.reload();
  },

  onPullDownRefresh() {
    return this.reload().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    if (!this.data.hasMore || this.data.loading) return Promise.resolve();
    return this.load(this.data.page + 1);
  },

  onTabTap(e) {
    const view = e.currentTarget.dataset.view;
    if (view === this.data.view) return Promise.resolve();
    this.setData({ view, list: [], total: 0, page: 0, pages: 0, hasMore: false, loaded: false });
    return this.reload();
  },

  reload() {
    if (!util.hasLogin()) {
      this.setData({ hasLogin: false, loaded: true, list: [], total: 0, page: 0, pages: 0, hasMore: false });
      return Promise.resolve();
    }
    this.setData({ hasLogin: true });
    return this.load(1);
  },

  /** Loads page `page` of the current view (page 1 replaces the list, later pages append). */
  load(page) {
    const view = this.data.view;
    this.setData({ loading: true });
    return meeting
      .list(view, page, LIMIT)
      .then((answer) => {
        if (view !== this.data.view) return; // the user switched tabs meanwhile
        const rows = answer.list.map(meeting.listItem);
        const list = page === 1 ? rows : this.data.list.concat(rows);
        this.setData({
          notMember: false,
          loaded: true,
          loading: false,
          list,
          total: answer.total,
          page: answer.page,
          pages: answer.pages,
          hasMore: answer.page < answer.pages,
        });
      })
      .catch((err) => {
        this.setData({ loading: false, loaded: true });
        if (err.errno === org.NOT_MEMBER_ERRNO) {
          this.setData({ notMember: true, list: [], total: 0, page: 0, pages: 0, hasMore: false });
          return;
        }
        if (!util.hasLogin()) this.setData({ hasLogin: false });
        util.showError(err);
      });
  },

  onItemTap(e) {
    wx.navigateTo({ url: '/pages/meeting/detail/detail?id=' + e.currentTarget.dataset.id });
  },

  goPublish() {
    wx.navigateTo({ url: '/pages/meeting/edit/edit' });
  },

  goJoin() {
    wx.navigateTo({ url: '/pages/member/join/join' });
  },

  goLogin() {
    wx.navigateTo({ url: '/pages/login/login' });
  },
});
