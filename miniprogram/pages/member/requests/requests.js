// pages/member/requests — 成员审批 (admins): the pending join requests, oldest first, each
// approved (通过) or refused (驳回, with the optional reason typed above the list), and the invite
// codes (生成邀请码: maxUses and expireDays; the newest codes listed with their use count).
//
// GET /wx/member/requests, POST /wx/member/approve, POST /wx/member/invite, GET /wx/member/invites.
// A member who is not an admin gets 506 from the server: the page says so instead of a list.
// Paged by onReachBottom (litemall's {list, total, page, limit, pages}); pull down reloads.
// Every handler returns its promise (the tests await it).

const util = require('../../../utils/util.js');
const org = require('../../../utils/org.js');

const NO_PERMISSION_ERRNO = 506;
const LIMIT = 20;
const INVITE_USES = [1, 10, 50, 200];
const INVITE_DAYS = [1, 7, 30];

Page({
  data: {
    loaded: false,
    denied: '', // '' | 'admin' (506) | 'member' (802)
    requests: [],
    total: 0,
    page: 0,
    pages: 0,
    reason: '',
    deciding: 0, // userId being decided
    invites: [],
    inviteUses: INVITE_USES,
    inviteDays: INVITE_DAYS,
    usesIndex: 2,
    daysIndex: 1,
    newCode: '',
    inviting: false,
  },

  onShow() {
    return this.reload();
  },

  onPullDownRefresh() {
    return this.reload().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    if (this.data.page >= this.data.pages) return Promise.resolve();
    return this.loadRequests(this.data.page + 1).catch((err) => util.showError(err));
  },

  reload() {
    return this.loadRequests(1)
      .then(() => this.loadInvites())
      .then(() => this.setData({ loaded: true, denied: '' }))
      .catch((err) => {
        this.setData({ loaded: true });
        if (err.errno === NO_PERMISSION_ERRNO) this.setData({ denied: 'admin' });
        else if (err.errno === org.NOT_MEMBER_ERRNO) this.setData({ denied: 'member' });
        else util.showError(err);
      });
  },

  loadRequests(page) {
    return org.requests({ page, limit: LIMIT }).then((answer) => {
      const rows = answer.list.map((r) => Object.assign({}, r, { requestText: util.meetingTime(r.requestTime) }));
      this.setData({
        requests: page === 1 ? rows : this.data.requests.concat(rows),
        total: answer.total,
        page: answer.page,
        pages: answer.pages,
      });
    });
  },

  loadInvites() {
    return org.invites({ page: 1, limit: 5 }).then((answer) => this.setData({ invites: answer.list }));
  },

  onReasonInput(e) {
    this.setData({ reason: e.detail.value });
  },

  onApprove(e) {
    return this.decide(Number(e.currentTarget.dataset.id), true);
  },

  onReject(e) {
    return this.decide(Number(e.currentTarget.dataset.id), false);
  },

  decide(userId, approve) {
    if (this.data.deciding) return Promise.resolve();
    this.setData({ deciding: userId });
    const reason = approve ? '' : String(this.data.reason || '').trim();
    return org
      .decide(userId, approve, reason)
      .then(() => {
        wx.showToast({ title: approve ? '已通过' : '已驳回', icon: 'success' });
        this.setData({
          deciding: 0,
          reason: approve ? this.data.reason : '',
          requests: this.data.requests.filter((r) => r.userId !== userId),
          total: Math.max(0, this.data.total - 1),
        });
      })
      .catch((err) => {
        this.setData({ deciding: 0 });
        util.showError(err);
        // Decided elsewhere meanwhile (804): the list is stale.
        return this.loadRequests(1).catch(() => undefined);
      });
  },

  onUsesChange(e) {
    this.setData({ usesIndex: Number(e.detail.value) });
  },

  onDaysChange(e) {
    this.setData({ daysIndex: Number(e.detail.value) });
  },

  onCreateInvite() {
    if (this.data.inviting) return Promise.resolve();
    this.setData({ inviting: true });
    return org
      .createInvite(INVITE_USES[this.data.usesIndex], INVITE_DAYS[this.data.daysIndex])
      .then((invite) => {
        this.setData({ inviting: false, newCode: invite.code });
        return this.loadInvites();
      })
      .catch((err) => {
        this.setData({ inviting: false });
        util.showError(err);
      });
  },

  onCopyCode(e) {
    const code = e.currentTarget.dataset.code;
    return new Promise((resolve) => {
      wx.setClipboardData({ data: code, success: () => resolve(true), fail: () => resolve(false) });
    });
  },
});
