// pages/member/join — 加入组织: a visitor gives a real name (姓名), optionally a department and an
// invite code. With a valid code they are a member at once; without one the request waits for an
// admin (membership `pending`; sending again updates the request). Opened as
// /pages/member/join/join?code=XXXX (a shared invite) the code is filled in.
//
// POST /wx/member/join {name, department?, inviteCode?}; the page first shows GET /wx/member/me
// (pending: the request as sent; a refused request: its reason; already a member: says so).
// Every handler returns its promise (the tests await it).

const util = require('../../../utils/util.js');
const org = require('../../../utils/org.js');

const NAME_MAX = 20;
const DEPARTMENT_MAX = 50;

Page({
  data: {
    hasLogin: false,
    loaded: false,
    membership: '',
    name: '',
    department: '',
    inviteCode: '',
    rejectReason: '',
    submitting: false,
  },

  onLoad(options) {
    if (options && options.code) this.setData({ inviteCode: String(options.code) });
  },

  onShow() {
    if (!util.hasLogin()) {
      this.setData({ hasLogin: false, loaded: true });
      return Promise.resolve();
    }
    this.setData({ hasLogin: true });
    return org
      .me()
      .then((me) => this.showMe(me))
      .catch((err) => {
        this.setData({ loaded: true });
        util.showError(err);
      });
  },

  showMe(me) {
    const changes = { loaded: true, membership: me.membership, rejectReason: me.rejectReason || '' };
    if (me.membership !== 'none') {
      changes.name = me.name || '';
      changes.department = me.department || '';
    }
    this.setData(changes);
  },

  goLogin() {
    wx.navigateTo({ url: '/pages/login/login' });
  },

  /** The form: {name, department, inviteCode}. */
  onSubmit(e) {
    const value = (e && e.detail && e.detail.value) || {};
    const name = String(value.name || '').trim();
    const department = String(value.department || '').trim();
    const inviteCode = String(value.inviteCode || '').trim();
    if (name === '' || Array.from(name).length > NAME_MAX) {
      util.showErrorToast('请填写姓名（1到20个字）');
      return Promise.resolve();
    }
    if (Array.from(department).length > DEPARTMENT_MAX) {
      util.showErrorToast('部门最多50个字');
      return Promise.resolve();
    }
    if (this.data.submitting) return Promise.resolve();
    this.setData({ submitting: true, name, department, inviteCode });
    return org
      .join({ name, department, inviteCode })
      .then((answer) => {
        this.setData({ submitting: false, membership: answer.membership, rejectReason: '' });
        if (org.isMember(answer.membership)) {
          wx.showToast({ title: '已加入组织', icon: 'success' });
          wx.switchTab({ url: '/pages/index/index' });
        } else {
          wx.showToast({ title: '申请已提交', icon: 'success' });
        }
      })
      .catch((err) => {
        this.setData({ submitting: false });
        if (err.errno === org.ALREADY_MEMBER_ERRNO) {
          // Joined meanwhile (an admin approved, another phone used a code): show it.
          util.showErrorToast(err.message);
          return org.me().then((me) => this.showMe(me), () => undefined);
        }
        util.showError(err);
        return undefined;
      });
  },

  goHome() {
    wx.switchTab({ url: '/pages/index/index' });
  },
});
