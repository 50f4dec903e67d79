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
// and 803 (its state no longer allows it) reload the meeting and say so (归档 without minutes is
// such an 803: its errmsg 归档前请先填写会议纪要 is shown). After each change the page reloads.
//
// 投票 opens pages/meeting/vote?id=. Once the meeting has ended (6) or is archived (7), the page
// reads its minutes (GET /wx/meeting/minutes?id=): the host (or an admin) of an ended meeting
// writes them (保存纪要, POST /wx/meeting/minutes {id, text}, up to 20,000 characters) and adds
// attachments (上传附件: wx.chooseMessageFile, then wx.uploadFile to /wx/meeting/attachment with
// formData {id} and the token header, as the avatar upload does) or deletes them; everyone on the
// meeting reads them and opens an attachment (wx.downloadFile with the token, then
// wx.openDocument, or wx.previewImage for an image). Minutes being typed are kept across a
// reload (the page is shown again after chooseMessageFile).
//
// Subscription reminders (utils/subscribe.js): 提交审核 asks for the approval and starting-soon
// templates, 参加 / 不参加 for invitation, starting-soon and changed, from the tap itself; the
// action follows whatever the user answered. The template ids are fetched by onShow.
// Every handler returns its promise (the tests await it).

const util = require('../../../utils/util.js');
const org = require('../../../utils/org.js');
const meeting = require('../../../utils/meeting.js');
const subscribe = require('../../../utils/subscribe.js');

const REASON_MAX = 200;
const ENDED = 6;
const ARCHIVED = 7;

/** The minutes of GET /wx/meeting/minutes as shown. */
function minutesView(r) {
  return {
    text: r.text || '',
    authorName: r.authorName || '',
    updateTime: r.text ? r.updateTime || '' : '',
    attachments: (r.attachments || []).map((a) => ({
      id: a.id,
      name: a.name,
      contentType: a.contentType,
      sizeText: meeting.sizeText(a.size),
      addTime: a.addTime || '',
    })),
  };
}

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
    hasMinutesPart: false,
    minutes: null,
    canWriteMinutes: false,
    minutesDraft: '',
    minutesDirty: false,
    minutesMax: meeting.MINUTES_MAX,
    savingMinutes: false,
    uploading: false,
    opening: 0,
  },

  onLoad(options) {
    this.setData({ id: Number(options && options.id) || 0 });
  },

  onShow() {
    subscribe.prepare();
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
      .then(([m, myUserId]) => {
        this.setData(Object.assign({ loaded: true, denied: '' }, viewOf(m, myUserId)));
        return this.loadMinutes(m);
      })
      .catch((err) => {
        this.setData({ loaded: true });
        if (err.errno === meeting.NO_PERMISSION_ERRNO) this.setData({ denied: 'permission' });
        else if (err.errno === 804) this.setData({ denied: 'missing' });
        else if (err.errno === org.NOT_MEMBER_ERRNO) this.setData({ denied: 'member' });
        else util.showError(err);
      });
  },

  /** The minutes of an ended or archived meeting; the editor for its host or an admin while it is ended. */
  loadMinutes(m) {
    if (m.state !== ENDED && m.state !== ARCHIVED) {
      this.setData({ hasMinutesPart: false, minutes: null, canWriteMinutes: false });
      return undefined;
    }
    const stored = org.storedMe();
    const admin = !!stored && stored.membership === 'admin';
    const canWriteMinutes = m.state === ENDED && (m.myRole === 'host' || admin);
    return meeting.minutes(this.data.id).then((r) => {
      const changes = { hasMinutesPart: true, minutes: minutesView(r), canWriteMinutes };
      if (!this.data.minutesDirty) changes.minutesDraft = r.text || '';
      this.setData(changes);
    });
  },

  onVotes() {
    wx.navigateTo({ url: '/pages/meeting/vote/vote?id=' + this.data.id });
  },

  onMinutesInput(e) {
    this.setData({ minutesDraft: e.detail.value, minutesDirty: true });
  },

  /** 保存纪要: POST /wx/meeting/minutes {id, text}; then the page (and hasMinutes) is read again. */
  onSaveMinutes() {
    if (this.data.savingMinutes) return Promise.resolve();
    const text = String(this.data.minutesDraft || '');
    if (Array.from(text).length > meeting.MINUTES_MAX) {
      util.showErrorToast('会议纪要最多20000个字');
      return Promise.resolve();
    }
    this.setData({ savingMinutes: true });
    return meeting
      .saveMinutes(this.data.id, text)
      .then(() => {
        this.setData({ savingMinutes: false, minutesDirty: false });
        wx.showToast({ title: '纪要已保存', icon: 'success' });
        return this.load();
      })
      .catch((err) => {
        this.setData({ savingMinutes: false });
        util.showError(err);
        if (err.errno === meeting.BAD_STATE_ERRNO || err.errno === meeting.NO_PERMISSION_ERRNO) return this.load();
        return undefined;
      });
  },

  /** 上传附件: a file of a chat (wx.chooseMessageFile), then wx.uploadFile with the meeting's id. */
  onUpload() {
    if (this.data.uploading) return Promise.resolve();
    return new Promise((resolve) => {
      wx.chooseMessageFile({
        count: 1,
        type: 'file',
        extension: ['pdf', 'png', 'jpg', 'jpeg', 'docx', 'xlsx', 'pptx'],
        success: (res) => resolve((res.tempFiles && res.tempFiles[0]) || null),
        fail: () => resolve(null), // cancelled
      });
    }).then((file) => {
      if (!file) return undefined;
      this.setData({ uploading: true });
      return meeting
        .uploadAttachment(this.data.id, file.path)
        .then(() => {
          this.setData({ uploading: false });
          wx.showToast({ title: '已上传', icon: 'success' });
          return meeting.minutes(this.data.id).then((r) => this.setData({ minutes: minutesView(r) }));
        })
        .catch((err) => {
          this.setData({ uploading: false });
          util.showError(err);
        });
    });
  },

  /** Opens an attachment: downloaded with the token, then wx.openDocument (wx.previewImage for an image). */
  onOpenAttachment(e) {
    const id = Number(e.currentTarget.dataset.id);
    const a = ((this.data.minutes && this.data.minutes.attachments) || []).find((x) => x.id === id);
    if (!a || this.data.opening) return Promise.resolve();
    this.setData({ opening: id });
    wx.showLoading({ title: '正在打开' });
    return meeting
      .downloadAttachment(id)
      .then((file) => {
        wx.hideLoading();
        const fileType = meeting.documentType(file.contentType || a.contentType, a.name);
        if (fileType === '') {
          wx.previewImage({ urls: [file.tempFilePath], current: file.tempFilePath });
          return undefined;
        }
        return new Promise((resolve) => {
          wx.openDocument({
            filePath: file.tempFilePath,
            fileType,
            showMenu: true,
            success: () => resolve(),
            fail: () => {
              util.showErrorToast('无法打开该文件');
              resolve();
            },
          });
        });
      })
      .catch((err) => {
        wx.hideLoading();
        util.showError(err);
      })
      .then(() => this.setData({ opening: 0 }));
  },

  /** 删除 an attachment (confirmed): POST /wx/meeting/attachment/delete. */
  onDeleteAttachment(e) {
    const id = Number(e.currentTarget.dataset.id);
    const a = ((this.data.minutes && this.data.minutes.attachments) || []).find((x) => x.id === id);
    if (!a) return Promise.resolve();
    return new Promise((resolve) => {
      wx.showModal({
        title: '删除附件',
        content: '确定删除「' + a.name + '」吗？',
        confirmColor: '#fa5151',
        success: (res) => resolve(res.confirm === true),
        fail: () => resolve(false),
      });
    }).then((confirmed) => {
      if (!confirmed) return undefined;
      return meeting
        .deleteAttachment(id)
        .then(() => {
          wx.showToast({ title: '已删除', icon: 'success' });
          return meeting.minutes(this.data.id).then((r) => this.setData({ minutes: minutesView(r) }));
        })
        .catch((err) => util.showError(err));
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

  /**
   * Runs one change (`send` answers a promise), then reloads; 504 and 803 reload and say so. With
   * `kinds`, the subscription templates of those kinds are asked for first (from the tap: act is
   * called synchronously by the handlers), and the change follows whatever the user answered.
   */
  act(name, done, send, kinds) {
    if (this.data.acting) return Promise.resolve();
    this.setData({ acting: name });
    const run = () => this.change(done, send);
    return kinds ? subscribe.around(kinds, run) : run();
  },

  change(done, send) {
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
    return this.act('submit', '已提交审核', () => meeting.submit(this.data.id, this.data.m.version), subscribe.PUBLISH_KINDS);
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
    return this.act('attend', '已答复参加', () => meeting.feedback(this.data.id, true), subscribe.FEEDBACK_KINDS);
  },

  onDecline() {
    const reason = this.reasonOrNull('不参加的原因');
    if (reason === null) return Promise.resolve();
    return this.act('decline', '已答复不参加', () => meeting.feedback(this.data.id, false, reason), subscribe.FEEDBACK_KINDS);
  },
});
