// utils/subscribe.js — subscription reminders (订阅消息): the one-time subscriptions a user grants
// with wx.requestSubscribeMessage, so that MeetOA may send them a message about a meeting.
//
//   prepare()           GET /wx/subscribe/templates once per app launch (a page's onShow calls it):
//                       {invitation, approval, starting, changed}, each a template id or null (not
//                       configured), kept in getApp().globalData.subscribeTemplates. Failures are
//                       silent (asked again at the next prepare()): reminders are a bonus.
//   around(kinds, run)  for a tap handler: asks the user for the templates of `kinds` (those not
//                       null, at most MAX_IDS, WeChat's older limit) with wx.requestSubscribeMessage,
//                       called synchronously from the handler (WeChat shows the dialog only from a
//                       tap: "can only be invoked by user TAP gesture"); once the user has answered
//                       (or the call failed, or there was nothing to ask) runs run(), the main
//                       action, and reports the answer with POST /wx/subscribe/report {results: res}
//                       (res: the success object as WeChat gave it) at the same time. A reject, a
//                       failure or a report that fails never stops the main action. Resolves what
//                       run() resolved, after the report has been answered too.
//
// The kinds: invitation (a meeting I am invited to was approved), approval (my meeting was
// approved or rejected), starting (a meeting of mine starts soon), changed (one I am on was
// cancelled). Publishing asks PUBLISH_KINDS, answering an invitation FEEDBACK_KINDS.

const util = require('./util.js');
const api = require('../config/api.js');

const KINDS = ['invitation', 'approval', 'starting', 'changed'];
const PUBLISH_KINDS = ['approval', 'starting'];
const FEEDBACK_KINDS = ['invitation', 'starting', 'changed'];
const MAX_IDS = 3;

function globalData() {
  const app = typeof getApp === 'function' ? getApp() : null;
  if (!app) return {};
  if (!app.globalData) app.globalData = {};
  return app.globalData;
}

/** The template ids fetched at this launch, or null when not (yet) known. */
function templates() {
  return globalData().subscribeTemplates || null;
}

/** Fetches the template ids once per launch (shared while in flight); resolves them or null, never rejects. */
function prepare() {
  const g = globalData();
  if (g.subscribeTemplates) return Promise.resolve(g.subscribeTemplates);
  if (g.subscribePending) return g.subscribePending;
  if (!util.hasLogin()) return Promise.resolve(null);
  g.subscribePending = util
    .request(api.SubscribeTemplates)
    .then((data) => {
      const t = {};
      for (const k of KINDS) t[k] = data && typeof data[k] === 'string' && data[k] !== '' ? data[k] : null;
      g.subscribeTemplates = t;
      return t;
    })
    .catch(() => null)
    .then((t) => {
      g.subscribePending = null;
      return t;
    });
  return g.subscribePending;
}

/** The template ids of `kinds` to ask for: known, not null, each once, at most MAX_IDS. */
function idsFor(kinds) {
  const t = templates();
  if (!t) return [];
  const ids = [];
  for (const k of kinds) if (t[k] && ids.indexOf(t[k]) < 0) ids.push(t[k]);
  return ids.slice(0, MAX_IDS);
}

/**
 * Calls wx.requestSubscribeMessage now (synchronously: from the tap) for `kinds`. Answers
 * {decided, reported}: `decided` resolves when the user has answered (the success object, or null
 * when nothing was asked or the call failed), `reported` when the server has answered the report
 * ({quotas} or null). Neither rejects.
 */
function ask(kinds) {
  const tmplIds = idsFor(kinds);
  if (tmplIds.length === 0) return { decided: Promise.resolve(null), reported: Promise.resolve(null) };
  let report;
  const reported = new Promise((resolve) => {
    report = resolve;
  });
  const decided = new Promise((resolve) => {
    try {
      wx.requestSubscribeMessage({
        tmplIds,
        success: (res) => {
          report(
            util
              .request(api.SubscribeReport, { results: res }, 'POST')
              .then((data) => {
                globalData().subscribeQuotas = (data && data.quotas) || null;
                return data;
              })
              .catch(() => null),
          );
          resolve(res);
        },
        fail: () => {
          report(null);
          resolve(null);
        },
      });
    } catch (e) {
      // A base library without the API: nothing to ask.
      report(null);
      resolve(null);
    }
  });
  return { decided, reported };
}

/** See the top of this file. Call it from the tap handler, before anything asynchronous. */
function around(kinds, run) {
  const asked = ask(kinds);
  return asked.decided.then(() => {
    const done = Promise.resolve().then(run);
    return Promise.all([done, asked.reported]).then(([value]) => value);
  });
}

module.exports = {
  KINDS,
  PUBLISH_KINDS,
  FEEDBACK_KINDS,
  MAX_IDS,
  templates,
  prepare,
  idsFor,
  ask,
  around,
};
