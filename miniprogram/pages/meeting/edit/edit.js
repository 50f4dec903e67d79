// pages/meeting/edit — 发布会议 (new) and 编辑会议 (?id= of a draft or rejected meeting the caller hosts).
//
// The form: 标题, 内容, the start and end (picker mode=date and mode=time; sent as
// "YYYY-MM-DD HH:MM:SS"), 地点 (a room of GET /wx/room/schedule?date= showing the times each
// room is already held that day, or a free-text location), 提前提醒, 参会人 (searched with
// GET /wx/member/list?keyword=, each a participant or, tapped again, an observer) and an optional
// 审批人 (else any admin approves). The host (the caller) is never offered as an attendee.
//   保存草稿   POST /wx/meeting/create (the first time) or /wx/meeting/update {id, version, ...}
//   提交审核   the same, then POST /wx/meeting/submit; then the detail page replaces this one
// An update with a stale version is refused with 504: the page says the meeting was changed
// meanwhile and loads it again (the user's unsaved edits are dropped: what is shown is what the
// server has). 801 (the room is taken: the errmsg names the clashing time) reloads the room
// schedule. 提交审核 first asks for the subscription reminders of publishing (utils/subscribe.js).
// Every handler returns its promise (the tests await it).

const util = require('../../../utils/util.js');
const org = require('../../../utils/org.js');
const meeting = require('../../../utils/meeting.js');
const subscribe = require('../../../utils/subscribe.js');

const REMIND_OPTIONS = [0, 5, 15, 30, 60, 120, 1440];
const REMIND_DEFAULT = 2; // 15 minutes, the server's default
const TITLE_MAX = 100;
const CONTENT_MAX = 5000;
const SEARCH_LIMIT = 20;
const DAY_MS = 86400000;

/** Milliseconds between two "YYYY-MM-DD HH:MM:SS" (no time zone: both are the organization's). */
function spanMs(start, end) {
  const ms = (t) => Date.UTC(+t.slice(0, 4), +t.slice(5, 7) - 1, +t.slice(8, 10), +t.slice(11, 13), +t.slice(14, 16));
  return ms(end) - ms(start);
}

/** The rooms of a schedule as the page shows them: busy times as text, and whether [start, end) clashes. */
function roomsOf(schedule, start, end, selfId) {
  return schedule.list.map((r) => {
    const busy = (r.busy || [])
      .filter((b) => b.meetingId !== selfId)
      .map((b) => ({ meetingId: b.meetingId, title: b.title, text: util.meetingTime(b.startTime, b.endTime) }));
    const clash = (r.busy || []).some((b) => b.meetingId !== selfId && b.startTime < end && start < b.endTime);
    const info = [r.location, r.capacity ? r.capacity + '人' : ''].filter((s) => s).join(' · ');
    return { id: r.id, name: r.name, info, busy, clash };
  });
}

Page({
  data: {
    id: 0,
    version: 0,
    loaded: false,
    denied: '',
    stale: false,
    title: '',
    content: '',
    startDate: '',
    startTime: '09:00',
    endDate: '',
    endTime: '10:00',
    today: '',
    placeMode: 'room', // 'room' | 'location'
    roomId: 0,
    location: '',
    rooms: [],
    roomsDate: '',
    remindOptions: REMIND_OPTIONS,
    remindIndex: REMIND_DEFAULT,
    keyword: '',
    results: [],
    searched: false,
    people: [], // [{id, name, department, role: 'participant' | 'observer'}]
    approver: null, // {id, name} or null: any admin
    hadApprover: false,
    saving: '',
  },

  onLoad(options) {
    const today = util.dateString(new Date());
    const tomorrow = util.addDays(today, 1);
    this.setData({ id: Number(options && options.id) || 0, today, startDate: tomorrow, endDate: tomorrow });
    if (this.data.id) wx.setNavigationBarTitle({ title: '编辑会议' });
  },

  onShow() {
    subscribe.prepare();
    if (this.data.loaded) return Promise.resolve();
    return this.load();
  },

  /** The caller's userId (the host), then the meeting being edited (if any), then the rooms of its day. */
  load() {
    return this.myUserId()
      .then(() => (this.data.id ? meeting.detail(this.data.id).then((m) => this.fill(m)) : undefined))
      .then(() => this.loadRooms())
      .then(() => this.setData({ loaded: true }))
      .catch((err) => {
        this.setData({ loaded: true });
        if (err.errno === org.NOT_MEMBER_ERRNO) this.setData({ denied: 'member' });
        else if (err.errno === meeting.NO_PERMISSION_ERRNO || err.errno === 804) this.setData({ denied: 'permission' });
        else util.showError(err);
      });
  },

  myUserId() {
    const stored = org.storedMe();
    if (stored && stored.userId && org.isMember(stored.membership)) {
      this.hostId = stored.userId;
      return Promise.resolve(stored.userId);
    }
    return org.me().then((me) => {
      if (!org.isMember(me.membership)) throw Object.assign(new Error('请先加入组织'), { errno: org.NOT_MEMBER_ERRNO, errmsg: '请先加入组织' });
      this.hostId = me.userId;
      return me.userId;
    });
  },

  /** Puts a meeting of GET /wx/meeting/detail into the form. */
  fill(m) {
    if (!(m.actions || []).includes('update')) {
      this.setData({ denied: 'state' });
      return;
    }
    const s = util.splitDateTime(m.startTime);
    const e = util.splitDateTime(m.endTime);
    const people = (m.attendees || [])
      .filter((a) => a.role === 'participant' || a.role === 'observer')
      .map((a) => ({ id: a.userId, name: a.name, department: a.department || '', role: a.role }));
    const remindIndex = REMIND_OPTIONS.indexOf(m.remindMinutes);
    this.setData({
      version: m.version,
      state: m.state,
      title: m.title,
      content: m.content || '',
      startDate: s.date,
      startTime: s.time,
      endDate: e.date,
      endTime: e.time,
      placeMode: m.roomId ? 'room' : 'location',
      roomId: m.roomId || 0,
      location: m.roomId ? '' : m.location || '',
      remindIndex: remindIndex >= 0 ? remindIndex : REMIND_DEFAULT,
      people,
      approver: m.approver ? { id: m.approver.id, name: m.approver.name } : null,
      hadApprover: !!m.approver,
      denied: '',
    });
  },

  startText() {
    return util.joinDateTime(this.data.startDate, this.data.startTime);
  },

  endText() {
    return util.joinDateTime(this.data.endDate, this.data.endTime);
  },

  /** GET /wx/room/schedule for the start's day (kept, so a change of time on that day asks nothing). */
  loadRooms() {
    const date = this.data.startDate;
    return org.roomSchedule(date).then((schedule) => {
      if (date !== this.data.startDate) return;
      this.schedule = schedule;
      this.setData({ rooms: roomsOf(schedule, this.startText(), this.endText(), this.data.id), roomsDate: date });
    });
  },

  /** The rooms' clash marks after a change of time: the same day's schedule, or the new day's. */
  remark() {
    if (this.schedule && this.data.roomsDate === this.data.startDate) {
      this.setData({ rooms: roomsOf(this.schedule, this.startText(), this.endText(), this.data.id) });
      return Promise.resolve();
    }
    return this.loadRooms().catch((err) => util.showError(err));
  },

  // --- the fields -------------------------------------------------------------------------

  onTitleInput(e) {
    this.setData({ title: e.detail.value });
  },

  onContentInput(e) {
    this.setData({ content: e.detail.value });
  },

  onStartDateChange(e) {
    const startDate = e.detail.value;
    const changes = { startDate };
    if (this.data.endDate < startDate || this.data.endDate === this.data.startDate) changes.endDate = startDate;
    this.setData(changes);
    return this.remark();
  },

  onStartTimeChange(e) {
    this.setData({ startTime: e.detail.value });
    return this.remark();
  },

  onEndDateChange(e) {
    this.setData({ endDate: e.detail.value });
    return this.remark();
  },

  onEndTimeChange(e) {
    this.setData({ endTime: e.detail.value });
    return this.remark();
  },

  onRemindChange(e) {
    this.setData({ remindIndex: Number(e.detail.value) });
  },

  onPlaceModeTap(e) {
    this.setData({ placeMode: e.currentTarget.dataset.mode });
  },

  onRoomTap(e) {
    const id = Number(e.currentTarget.dataset.id);
    this.setData({ roomId: this.data.roomId === id ? 0 : id });
  },

  onLocationInput(e) {
    this.setData({ location: e.detail.value });
  },

  // --- people -----------------------------------------------------------------------------

  onKeywordInput(e) {
    this.setData({ keyword: e.detail.value });
  },

  /** GET /wx/member/list?keyword=: the members to pick from (not the host). */
  onSearch() {
    const keyword = String(this.data.keyword || '').trim();
    return org
      .memberList({ keyword, page: 1, limit: SEARCH_LIMIT })
      .then((page) => {
        const results = page.list
          .filter((u) => u.id !== this.hostId)
          .map((u) => ({ id: u.id, name: u.name, department: u.department || '', avatar: u.avatar || '' }));
        this.setData({ results, searched: true });
      })
      .catch((err) => util.showError(err));
  },

  onAddPerson(e) {
    const id = Number(e.currentTarget.dataset.id);
    if (this.data.people.some((p) => p.id === id)) return;
    const u = this.data.results.find((r) => r.id === id);
    if (!u) return;
    const changes = { people: this.data.people.concat([{ id: u.id, name: u.name, department: u.department, role: 'participant' }]) };
    if (this.data.approver && this.data.approver.id === id) changes.approver = null;
    this.setData(changes);
  },

  /** participant <-> observer */
  onToggleRole(e) {
    const id = Number(e.currentTarget.dataset.id);
    this.setData({
      people: this.data.people.map((p) => (p.id === id ? Object.assign({}, p, { role: p.role === 'participant' ? 'observer' : 'participant' }) : p)),
    });
  },

  onRemovePerson(e) {
    const id = Number(e.currentTarget.dataset.id);
    this.setData({ people: this.data.people.filter((p) => p.id !== id) });
  },

  onSetApprover(e) {
    const id = Number(e.currentTarget.dataset.id);
    const u = this.data.results.find((r) => r.id === id);
    if (!u) return;
    this.setData({ approver: { id: u.id, name: u.name }, people: this.data.people.filter((p) => p.id !== id) });
  },

  onClearApprover() {
    this.setData({ approver: null });
  },

  // --- saving -----------------------------------------------------------------------------

  /** The body of create/update, or null (and a toast) when the form is not complete. */
  fields() {
    const d = this.data;
    const title = String(d.title || '').trim();
    if (title === '' || Array.from(title).length > TITLE_MAX) return this.refuse('请填写标题（1到100个字）');
    if (Array.from(d.content || '').length > CONTENT_MAX) return this.refuse('内容最多5000个字');
    const startTime = this.startText();
    const endTime = this.endText();
    const span = spanMs(startTime, endTime);
    if (!(span > 0)) return this.refuse('结束时间须晚于开始时间');
    if (span > DAY_MS) return this.refuse('会议最长24小时');
    const body = {
      title,
      content: d.content || '',
      startTime,
      endTime,
      participantIds: d.people.filter((p) => p.role === 'participant').map((p) => p.id),
      observerIds: d.people.filter((p) => p.role === 'observer').map((p) => p.id),
      remindMinutes: REMIND_OPTIONS[d.remindIndex],
    };
    if (d.placeMode === 'room') {
      if (!d.roomId) return this.refuse('请选择会议室');
      body.roomId = d.roomId;
    } else {
      const location = String(d.location || '').trim();
      if (location === '') return this.refuse('请填写会议地点');
      body.location = location;
    }
    if (d.approver) body.approverId = d.approver.id;
    else if (d.id && d.hadApprover) body.approverId = null;
    return body;
  },

  refuse(text) {
    util.showErrorToast(text);
    return null;
  },

  /** create or update; resolves {id, version}. */
  save(body) {
    if (!this.data.id)
      return meeting.create(body).then((r) => {
        this.setData({ id: r.id, version: r.version, hadApprover: !!body.approverId });
        return r;
      });
    return meeting.update(this.data.id, this.data.version, body).then((r) => {
      this.setData({ version: r.version, hadApprover: !!body.approverId });
      return r;
    });
  },

  onSaveDraft() {
    const body = this.fields();
    if (body === null || this.data.saving) return Promise.resolve();
    this.setData({ saving: 'draft' });
    return this.save(body)
      .then(() => {
        this.setData({ saving: '', stale: false });
        wx.showToast({ title: '已保存草稿', icon: 'success' });
      })
      .catch((err) => this.failed(err));
  },

  /**
   * 提交审核: asks for the approval and starting-soon reminders (from the tap, before anything
   * asynchronous: utils/subscribe.js), then, whatever the answer, saves and submits.
   */
  onPublish() {
    if (this.data.saving) return Promise.resolve();
    const body = this.fields();
    if (body === null) return Promise.resolve();
    this.setData({ saving: 'submit' });
    return subscribe.around(subscribe.PUBLISH_KINDS, () =>
      this.save(body)
        .then((r) => meeting.submit(r.id, r.version))
        .then((r) => {
          this.setData({ saving: '', stale: false });
          wx.showToast({ title: '已提交审核', icon: 'success' });
          wx.redirectTo({ url: '/pages/meeting/detail/detail?id=' + r.id });
        })
        .catch((err) => this.failed(err)),
    );
  },

  failed(err) {
    this.setData({ saving: '' });
    if (err.errno === meeting.STALE_ERRNO) {
      // Changed by someone else since this page read it: show what the server has now.
      util.showErrorToast('会议已被他人修改，已重新加载');
      this.setData({ stale: true });
      return meeting
        .detail(this.data.id)
        .then((m) => this.fill(m))
        .then(() => this.loadRooms())
        .catch((e) => util.showError(e));
    }
    util.showError(err);
    if (err.errno === meeting.ROOM_BUSY_ERRNO) return this.loadRooms().catch(() => undefined);
    return undefined;
  },
});
