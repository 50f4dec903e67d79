// utils/vote.js — a meeting's votes (投票, docs/api.md "Votes"): the host (or an admin) adds a
// question, opens and closes it; the host and the participants vote once while it is open
// (observers do not); everyone who may read the meeting sees the results.
//
// Every function resolves the answer's `data` or rejects the Error of utils/util.js. A second
// ballot is refused with 813 (ALREADY_VOTED_ERRNO), a ballot on a question that is not open and
// an open/close that does not fit its state with 814 (VOTE_STATE_ERRNO).

const util = require('./util.js');
const api = require('../config/api.js');

const ALREADY_VOTED_ERRNO = 813;
const VOTE_STATE_ERRNO = 814;

const TITLE_MAX = 100;
const OPTION_MAX = 50;
const OPTIONS_MIN = 2;
const OPTIONS_MAX = 20;

/** The pass rules, in the order of the page's picker. */
const PASS_RULES = [
  { rule: 'none', text: '不设通过规则' },
  { rule: 'majority', text: '过半数通过（按签到人数）' },
  { rule: 'two_thirds', text: '三分之二通过（按签到人数）' },
];
const PASS_RULE_TEXT = { none: '', majority: '过半数通过', two_thirds: '三分之二通过' };
const STATE_TEXT = { draft: '未开始', open: '投票中', closed: '已结束' };

/** GET /wx/vote/list?meetingId=: {meetingId, list: [{id, title, state, multiple, anonymous, passRule, votes}]}. */
function list(meetingId) {
  return util.request(api.VoteList, { meetingId });
}

/** GET /wx/vote/result?id=: the question with its counts (and voters when named). */
function result(id) {
  return util.request(api.VoteResult, { id });
}

/**
 * POST /wx/vote/create {meetingId, title, options, multiple, maxChoices?, anonymous, passRule}:
 * resolves {id, options: [{id, text}], state: "draft"}.
 */
function create(fields) {
  return util.request(api.VoteCreate, fields, 'POST');
}

/** POST /wx/vote/open {id}: draft -> open. */
function open(id) {
  return util.request(api.VoteOpen, { id }, 'POST');
}

/** POST /wx/vote/close {id}: open -> closed. */
function close(id) {
  return util.request(api.VoteClose, { id }, 'POST');
}

/** POST /wx/vote/cast {id, optionIds}: resolves {id, voted: true}. */
function cast(id, optionIds) {
  return util.request(api.VoteCast, { id, optionIds }, 'POST');
}

/**
 * What is wrong with a question the page is about to create (title, option texts), as a toast
 * text, or '' when it may be sent: a title of 1–100 characters, 2–20 distinct options of 1–50.
 */
function checkQuestion(title, options) {
  const t = String(title || '').trim();
  if (t === '' || Array.from(t).length > TITLE_MAX) return '请填写投票标题（1到100个字）';
  if (options.length < OPTIONS_MIN || options.length > OPTIONS_MAX) return '请填写2到20个选项';
  for (const o of options) if (o === '' || Array.from(o).length > OPTION_MAX) return '每个选项须为1到50个字';
  if (new Set(options).size !== options.length) return '选项不能重复';
  return '';
}

/** A result of GET /wx/vote/result as the page shows it. */
function resultView(r) {
  const votes = r.votes || 0;
  const mine = r.myChoices || [];
  const options = (r.options || []).map((o) => ({
    id: o.id,
    text: o.text,
    count: o.count,
    percent: votes > 0 ? Math.round((o.count * 100) / votes) : 0,
    voterNames: (o.voters || []).map((v) => v.name).join('、'),
    passed: o.passed === true,
    mine: mine.indexOf(o.id) >= 0,
  }));
  const rules = [r.multiple ? '多选（最多' + r.maxChoices + '项）' : '单选', r.anonymous ? '匿名' : '实名'];
  if (PASS_RULE_TEXT[r.passRule]) rules.push(PASS_RULE_TEXT[r.passRule]);
  let outcome = '';
  if (r.state === 'closed' && r.passRule !== 'none' && r.passed !== undefined) outcome = r.passed ? 'passed' : 'failed';
  return {
    id: r.id,
    title: r.title,
    state: r.state,
    stateText: STATE_TEXT[r.state] || r.state,
    multiple: !!r.multiple,
    maxChoices: r.maxChoices,
    anonymous: !!r.anonymous,
    passRule: r.passRule,
    rulesText: rules.join(' · '),
    votes,
    present: r.present || 0,
    voted: !!r.voted,
    outcome,
    options,
  };
}

module.exports = {
  ALREADY_VOTED_ERRNO,
  VOTE_STATE_ERRNO,
  OPTIONS_MIN,
  OPTIONS_MAX,
  PASS_RULES,
  PASS_RULE_TEXT,
  STATE_TEXT,
  list,
  result,
  create,
  open,
  close,
  cast,
  checkQuestion,
  resultView,
};
