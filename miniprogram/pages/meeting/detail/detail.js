// pages/meeting/detail — 会议详情 (?id=): the meeting's fields, its attendees with their answers,
// its history of states, and the buttons of what the caller may do now. The buttons come from
// the `actions` of GET /wx/meeting/detail, never from guessing roles on the phone:
//   update    编辑 (the host, draft or rejected)            -> pages/meeting/edit?id=
//   submit    提交审核 (the host)                            -> POST /wx/meeting/submit
//   approve   通过 (the approver or an admin)                -> POST /wx/meeting/approve {approve: true}
//   reject    驳回 (idem; the reason typed on the page)      -> POST /wx/meeting/approve {approve: false, reason}
//   cancel    取消会议 (host or admin; reason; confirmed)     -> POST /wx/meeting/cancel
//   archive   归档 (host or admin, an ended meeting)         -> POST /wx/meeting/archive
//   feedback  参加 / 不参加 (participants and observers; a reason to decline) -> POST /wx/meeting/feedback
// Every change sends the version the page shows; errno 504 (someone changed the meeting since)
// and 803 (its state no longer allows it) reload the meeting and say so. After each change the
// page reloads. Every handler returns its promise (the tests await it).

const util = require('../../../utils/util.js');
const org = require('../../../utils/org.js');
const meeting = require('../../../utils/meeting.js');

const REASON_MAX = 200;

function viewOf(m, myUserId) {
  const attendees = (m.attendees || []).map((a) =>
    Object.assign({}, a, {
      roleText: meeting.ROLE_TEXT[a.role] || a.role,
      answerText: meeting.ANSWER_TEXT[a.answer] || a.answer,
      me: myUserId !== undefined && a.userId === myUserId,
    }),
  );
  const mine = attendees.find((a) => a.me);
  const history = (m.history || []).map((h) =>
    Object.assign({}, h, {
      // The creation is recorded as 1 -> 1: shown as the state alone (新建).
      fromName: h.from === null || h.from === undefined || h.from === h.to ? '' : meeting.STATE_NAMES[h.from],
      toName: meeting.STATE_NAMES[h.to],
    }),
  );
  const actions = m.actions || [];
  const can = {};
  for (const a of ['update', 'submit', 'approve', 'reject', 'cancel', 'archive', 'feedback']) can[a] = actions.includes(a);
  return {
    m: Object.assign({}, m, {
      timeText: util.meetingTime(m.startTime, m.endTime),
      place: m.roomName ? m.roomName + (m.location ? '（' + m.location + '）' : '') : m.location || '',
      approverName: m.approver ? m.approver.name : '任一管理员',
      hostName: m.host ? m.host.name : '',
      myRoleText: meeting.ROLE_TEXT[m.myRole] || '',
    }),
    attendees,
    history,
    answers: m.answers || { attend: 0, decline: 0, none: 0 },
    myAnswer: mine ? mine.answer : '',
    myAnswerText: mine ? mine.answerText : '',
    can,
    needsReason: can.reject || can.cancel || can.feedback,
  };
}

Page({
  data: {
    id: 0,
    loaded: false,
    denied: '',
    m: {},
    attendees: [],
    history: [],
    answers: { attend: 0, decline: 0, none: 0 },
    myAnswer: '',
    myAnswerText: '',
    can: {},
    needsReason: false,
    reason: '',
    acting: '',
  },

  onLoad(options) {
    this.setData({ id: Number(options && options.id) || 0 });
  },

  onShow() {
    return this.load();
  },

  onPullDownRefresh() {
    return this.load().then(() => wx.stopPullDownRefresh());
  },

  /** GET /wx/meeting/detail; the caller's own row is found by their userId (GET /wx/member/me once). */
  load() {
    if (!this.data.id) {
      this.setData({ loaded: true, denied: 'missing' });
      return Promise.resolve();
    }
    return meeting
      .detail(this.data.id)
      .then((m) => {
        const stored = org.storedMe();
        if (stored && stored.userId) return [m, stored.userId];
        return org.me().then((me) => [m, me.userId]);
      })
      .then(([m, myUserId]) => this.setData(Object.assign({ loaded: true, denied: '' }, viewOf(m, myUserId))))
      .catch((err) => {
        this.setData({ loaded: true });
        if (err.errno === meeting.NO_PERMISSION_ERRNO) this.setData({ denied: 'permission' });
        else if (err.errno === 804) this.setData({ denied: 'missing' });
        else if (err.errno === org.NOT_MEMBER_ERRNO) this.setData({ denied: 'member' });
        else util.showError(err);
      });
  },

  onReasonInput(e) {
    this.setData({ reason: e.detail.value });
  },

  /** The typed reason, or null (and a toast) when one is needed and missing or too long. */
  reasonOrNull(what) {
    const reason = String(this.data.reason || '').trim();
    if (reason === '' || Array.from(reason).length > REASON_MAX) {
      util.showErrorToast('请填写' + what + '（1到200个字）');
      return null;
    }
    return reason;
  },

  /** Runs one change (`send` answers a promise), then reloads; 504 and 803 reload and say so. */
  act(name, done, send) {
    if (this.data.acting) return Promise.resolve();
    this.setData({ acting: name });
    return send()
      .then(() => {
        this.setData({ acting: '', reason: '' });
        wx.showToast({ title: done, icon: 'success' });
        return this.load();
      })
      .catch((err) => {
        this.setData({ acting: '' });
        if (err.errno === meeting.STALE_ERRNO) {
          util.showErrorToast('会议已被他人修改，已刷新，请确认后重试');
          return this.load();
        }
        util.showError(err);
        if (err.errno === meeting.BAD_STATE_ERRNO || err.errno === meeting.NO_PERMISSION_ERRNO) return this.load();
        return undefined;
      });
  },

  onEdit() {
    wx.navigateTo({ url: '/pages/meeting/edit/edit?id=' + this.data.id });
  },

  onSubmit() {
    return this.act('submit', '已提交审核', () => meeting.submit(this.data.id, this.data.m.version));
  },

  onApprove() {
    return this.act('approve', '已通过', () => meeting.approve(this.data.id, true, '', this.data.m.version));
  },

  onReject() {
    const reason = this.reasonOrNull('驳回原因');
    if (reason === null) return Promise.resolve();
    return this.act('reject', '已驳回', () => meeting.approve(this.data.id, false, reason, this.data.m.version));
  },

  onCancel() {
    const reason = this.reasonOrNull('取消原因');
    if (reason === null) return Promise.resolve();
    return new Promise((resolve) => {
      wx.showModal({
        title: '取消会议',
        content: '确定取消「' + this.data.m.title + '」吗？参会人将看到会议已取消。',
        confirmColor: '#fa5151',
        success: (res) => resolve(res.confirm === true),
        fail: () => resolve(false),
      });
    }).then((confirmed) => {
      if (!confirmed) return undefined;
      return this.act('cancel', '已取消', () => meeting.cancel(this.data.id, reason, this.data.m.version));
    });
  },

  onArchive() {
    return this.act('archive', '已归档', () => meeting.archive(this.data.id, this.data.m.version));
  },

  onAttend() {
    return this.act('attend', '已答复参加', () => meeting.feedback(this.data.id, true));
  },

  onDecline() {
    const reason = this.reasonOrNull('不参加的原因');
    if (reason === null) return Promise.resolve();
    return this.act('decline', '已答复不参加', () => meeting.feedback(this.data.id, false, reason));
  },
});
