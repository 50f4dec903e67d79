// pages/meeting/vote — 会议投票 (?id= of the meeting), opened from 会议详情.
//
// The meeting's questions (GET /wx/vote/list?meetingId=, then GET /wx/vote/result?id= of each),
// each with its rules (单选 or 多选 with a maximum, 实名 or 匿名, the pass rule), its state and:
//   - for the host and the participants, while it is open and they have not voted: its options to
//     choose and 投票 (POST /wx/vote/cast {id, optionIds}). The button is disabled from the tap
//     until the answer, and a second tap meanwhile sends nothing: one tap, one ballot;
//   - otherwise the results: each option's count and share, for a named vote who chose it, the
//     caller's own choice, and for a closed vote with a pass rule whether it passed.
// The host (or an admin) adds a question (新建投票: title, 2–20 options, 单选/多选 and its maximum,
// 实名/匿名, 通过规则 none / more than half / two thirds of the people signed in; POST
// /wx/vote/create), opens it (开始投票, POST /wx/vote/open: only once the meeting is approved) and
// closes it (结束投票, confirmed; POST /wx/vote/close). Who may do what comes from the meeting's
// detail (myRole) and the caller's membership; the server decides anyway (506, 813, 814 are
// shown and the question read again). Every handler returns its promise (the tests await it).

const util = require('../../../utils/util.js');
const org = require('../../../utils/org.js');
const meeting = require('../../../utils/meeting.js');
const vote = require('../../../utils/vote.js');

const TYPE_OPTIONS = ['单选', '多选'];
const NOT_CREATABLE = [0, 6, 7]; // cancelled, ended, archived: no new question
const OPENABLE = [4, 5]; // approved, in progress

/** '最多2项' ... '最多n项' for a question of n options. */
function maxOptionsFor(n) {
  const out = [];
  for (let k = 2; k <= Math.max(2, n); k++) out.push('最多' + k + '项');
  return out;
}

function emptyForm() {
  return {
    formTitle: '',
    formOptions: ['', ''],
    typeIndex: 0,
    maxOptions: maxOptionsFor(2),
    maxIndex: 0,
    anonymous: false,
    ruleIndex: 0,
  };
}

Page({
  data: Object.assign(
    {
      id: 0,
      loaded: false,
      denied: '',
      meetingTitle: '',
      stateName: '',
      canManage: false,
      canVote: false,
      canCreate: false,
      canOpen: false,
      votes: [],
      casting: 0,
      moving: 0,
      showForm: false,
      creating: false,
      typeOptions: TYPE_OPTIONS,
      ruleOptions: vote.PASS_RULES.map((r) => r.text),
    },
    emptyForm(),
  ),

  onLoad(options) {
    this.setData({ id: Number(options && options.id) || 0 });
  },

  onShow() {
    return this.load();
  },

  onPullDownRefresh() {
    return this.load().then(() => wx.stopPullDownRefresh());
  },

  /** Is the caller an admin (the stored /wx/member/me, else asked once)? */
  isAdmin() {
    const stored = org.storedMe();
    if (stored && stored.membership) return Promise.resolve(stored.membership === 'admin');
    return org.me().then((me) => me.membership === 'admin');
  },

  /** The meeting (the caller's role, its state), then its questions and each one's result. */
  load() {
    if (!this.data.id) {
      this.setData({ loaded: true, denied: 'missing' });
      return Promise.resolve();
    }
    return Promise.all([meeting.detail(this.data.id), this.isAdmin()])
      .then(([m, admin]) => {
        const canManage = m.myRole === 'host' || admin;
        this.setData({
          meetingTitle: m.title,
          stateName: m.stateName || meeting.STATE_NAMES[m.state] || '',
          canManage,
          canVote: m.myRole === 'host' || m.myRole === 'participant',
          canCreate: canManage && NOT_CREATABLE.indexOf(m.state) < 0,
          canOpen: canManage && OPENABLE.indexOf(m.state) >= 0,
        });
        return vote.list(this.data.id);
      })
      .then((page) => Promise.all(page.list.map((v) => vote.result(v.id))))
      .then((results) => this.setData({ loaded: true, denied: '', votes: results.map((r) => this.viewOf(r)) }))
      .catch((err) => {
        this.setData({ loaded: true });
        if (err.errno === meeting.NO_PERMISSION_ERRNO) this.setData({ denied: 'permission' });
        else if (err.errno === 804) this.setData({ denied: 'missing' });
        else if (err.errno === org.NOT_MEMBER_ERRNO) this.setData({ denied: 'member' });
        else util.showError(err);
      });
  },

  /** A result as shown: whether the caller chooses now (`choosing`), the options' `chosen` marks. */
  viewOf(r) {
    const v = vote.resultView(r);
    v.choosing = v.state === 'open' && this.data.canVote && !v.voted;
    v.options = v.options.map((o) => Object.assign(o, { chosen: false }));
    return v;
  },

  /** Reads one question again (after a ballot, an open or a close). */
  reloadVote(voteId) {
    return vote.result(voteId).then((r) => {
      const i = this.data.votes.findIndex((v) => v.id === voteId);
      if (i >= 0) this.setData({ ['votes[' + i + ']']: this.viewOf(r) });
    });
  },

  indexOfVote(e) {
    const id = Number(e.currentTarget.dataset.vote);
    return this.data.votes.findIndex((v) => v.id === id);
  },

  // --- voting -----------------------------------------------------------------------------

  /** Chooses an option: the only one (单选), or one more / one less (多选, up to maxChoices). */
  onOptionTap(e) {
    const i = this.indexOfVote(e);
    if (i < 0) return;
    const v = this.data.votes[i];
    if (!v.choosing || this.data.casting) return;
    const optionId = Number(e.currentTarget.dataset.option);
    const chosenNow = v.options.filter((o) => o.chosen).length;
    const options = v.options.map((o) => {
      if (!v.multiple) return Object.assign({}, o, { chosen: o.id === optionId });
      return o.id === optionId ? Object.assign({}, o, { chosen: !o.chosen }) : o;
    });
    const target = v.options.find((o) => o.id === optionId);
    if (v.multiple && target && !target.chosen && chosenNow >= v.maxChoices) {
      util.showErrorToast('最多选择' + v.maxChoices + '项');
      return;
    }
    this.setData({ ['votes[' + i + '].options']: options });
  },

  /** 投票: one ballot per tap; the button is disabled (and a second tap ignored) until the answer. */
  onCast(e) {
    if (this.data.casting) return Promise.resolve();
    const i = this.indexOfVote(e);
    if (i < 0) return Promise.resolve();
    const v = this.data.votes[i];
    const optionIds = v.options.filter((o) => o.chosen).map((o) => o.id);
    if (optionIds.length === 0) {
      util.showErrorToast('请先选择');
      return Promise.resolve();
    }
    this.setData({ casting: v.id });
    return vote
      .cast(v.id, optionIds)
      .then(() => {
        wx.showToast({ title: '投票成功', icon: 'success' });
        return this.reloadVote(v.id);
      })
      .catch((err) => {
        util.showError(err);
        if (err.errno === vote.ALREADY_VOTED_ERRNO || err.errno === vote.VOTE_STATE_ERRNO) return this.reloadVote(v.id).catch(() => undefined);
        return undefined;
      })
      .then(() => this.setData({ casting: 0 }));
  },

  // --- the host's questions ---------------------------------------------------------------

  /** 开始投票 / 结束投票 (after a confirmation). */
  move(e, send, done) {
    if (this.data.moving) return Promise.resolve();
    const i = this.indexOfVote(e);
    if (i < 0) return Promise.resolve();
    const voteId = this.data.votes[i].id;
    this.setData({ moving: voteId });
    return send(voteId)
      .then(() => {
        wx.showToast({ title: done, icon: 'success' });
        return this.reloadVote(voteId);
      })
      .catch((err) => {
        util.showError(err);
        if (err.errno === vote.VOTE_STATE_ERRNO) return this.reloadVote(voteId).catch(() => undefined);
        return undefined;
      })
      .then(() => this.setData({ moving: 0 }));
  },

  onOpenVote(e) {
    return this.move(e, (id) => vote.open(id), '投票已开始');
  },

  onCloseVote(e) {
    const i = this.indexOfVote(e);
    if (i < 0) return Promise.resolve();
    const title = this.data.votes[i].title;
    return new Promise((resolve) => {
      wx.showModal({
        title: '结束投票',
        content: '确定结束「' + title + '」吗？结束后不能再投票。',
        success: (res) => resolve(res.confirm === true),
        fail: () => resolve(false),
      });
    }).then((confirmed) => (confirmed ? this.move(e, (id) => vote.close(id), '投票已结束') : undefined));
  },

  // --- 新建投票 ---------------------------------------------------------------------------

  onToggleForm() {
    this.setData({ showForm: !this.data.showForm });
  },

  onFormTitleInput(e) {
    this.setData({ formTitle: e.detail.value });
  },

  onOptionInput(e) {
    const i = Number(e.currentTarget.dataset.index);
    this.setData({ ['formOptions[' + i + ']']: e.detail.value });
  },

  /** The options changed in number: the maximum's choices follow (kept when still possible). */
  setOptions(formOptions) {
    const maxOptions = maxOptionsFor(formOptions.length);
    const maxIndex = Math.min(this.data.maxIndex, maxOptions.length - 1);
    this.setData({ formOptions, maxOptions, maxIndex });
  },

  onAddOption() {
    if (this.data.formOptions.length >= vote.OPTIONS_MAX) {
      util.showErrorToast('最多20个选项');
      return;
    }
    const wasAll = this.data.maxIndex === this.data.maxOptions.length - 1;
    this.setOptions(this.data.formOptions.concat(['']));
    if (wasAll) this.setData({ maxIndex: this.data.maxOptions.length - 1 });
  },

  onRemoveOption(e) {
    if (this.data.formOptions.length <= vote.OPTIONS_MIN) {
      util.showErrorToast('至少2个选项');
      return;
    }
    const i = Number(e.currentTarget.dataset.index);
    this.setOptions(this.data.formOptions.filter((_, k) => k !== i));
  },

  onTypeChange(e) {
    const typeIndex = Number(e.detail.value);
    const changes = { typeIndex };
    if (typeIndex === 1) changes.maxIndex = this.data.maxOptions.length - 1; // default: all
    this.setData(changes);
  },

  onMaxChange(e) {
    this.setData({ maxIndex: Number(e.detail.value) });
  },

  onAnonymousTap(e) {
    this.setData({ anonymous: e.currentTarget.dataset.value === 'anonymous' });
  },

  onRuleChange(e) {
    this.setData({ ruleIndex: Number(e.detail.value) });
  },

  /** The body of POST /wx/vote/create, or null (and a toast) when the form is not complete. */
  question() {
    const d = this.data;
    const title = String(d.formTitle || '').trim();
    const options = d.formOptions.map((o) => String(o || '').trim());
    const wrong = vote.checkQuestion(title, options);
    if (wrong) {
      util.showErrorToast(wrong);
      return null;
    }
    const body = {
      meetingId: d.id,
      title,
      options,
      multiple: d.typeIndex === 1,
      anonymous: d.anonymous,
      passRule: vote.PASS_RULES[d.ruleIndex].rule,
    };
    if (body.multiple) body.maxChoices = d.maxIndex + 2;
    return body;
  },

  onCreate() {
    if (this.data.creating) return Promise.resolve();
    const body = this.question();
    if (body === null) return Promise.resolve();
    this.setData({ creating: true });
    return vote
      .create(body)
      .then(() => {
        this.setData(Object.assign({ creating: false, showForm: false }, emptyForm()));
        wx.showToast({ title: '已添加投票', icon: 'success' });
        return this.load();
      })
      .catch((err) => {
        this.setData({ creating: false });
        util.showError(err);
      });
  },
});
