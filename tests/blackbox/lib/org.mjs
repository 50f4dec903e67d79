// org.mjs — the organization on top of the harness (meetoa.mjs): an admin made by the CLI,
// members joined by invite code or by request, visitors, meetings in a given state, and the
// checks of the organization's answers (errnos 8xx carry errmsgs of their own, so only the
// errno and the envelope are checked here).
import assert from 'node:assert/strict';

import { APP_ID, MEETOA_BIN, run } from './meetoa.mjs';

/** "YYYY-MM-DD HH:MM:SS" in Asia/Shanghai (the default oa.time-zone) of epoch ms. */
export function cst(ms) {
  return new Date(ms + 8 * 3600e3).toISOString().replace('T', ' ').slice(0, 19);
}

/** The epoch seconds of a "YYYY-MM-DD HH:MM:SS" Asia/Shanghai text. */
export function cstSeconds(text) {
  return Date.parse(text.replace(' ', 'T') + '+08:00') / 1000;
}

/** errno 0 (HTTP 200, the envelope); returns data. */
export function ok(r, what = '') {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text?.slice(0, 300)}`);
  assert.equal(r.errno, 0, `${what}: errno ${r.errno} ${r.errmsg}`);
  return r.data;
}

/** An error answer: HTTP 200, that errno, an errmsg, no data. */
export function refused(r, errno, what = '') {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text?.slice(0, 300)}`);
  assert.equal(r.errno, errno, `${what}: errno ${r.errno} (${r.errmsg}), expected ${errno}`);
  assert.ok(typeof r.errmsg === 'string' && r.errmsg.length > 0, `${what}: an errmsg`);
  assert.equal(r.data, undefined, `${what}: no data`);
}

/**
 * The organization of a world (startWorld's): people log in through wxemu; `admin()` makes the
 * first admin with `meetoa user role`, `member()` joins by an invite code, `visitor()` only logs in.
 * Each person is {name, token, id, openid, get(path), post(path, body)}. env: extra environment
 * of the CLI (a database password the config leaves out).
 */
export function organization(world, oa = world.oa, { env = {} } = {}) {
  let invite = null;
  const header = oa.config.oa.token.header;
  async function person(name, nickName = name) {
    const wxUser = `${name}-${Math.random().toString(36).slice(2, 8)}`;
    const login = await world.wx.newLogin(APP_ID, wxUser);
    const r = await oa.loginWithCode(login.code, { nickName });
    ok(r, `login of ${name}`);
    const token = r.data.token;
    const me = ok(await oa.get('/wx/member/me', { [header]: token }), 'member/me');
    return {
      name,
      wxUser, // the wxemu user: a phone that logs in as them (the mini program suites)
      token,
      id: me.userId,
      openid: login.openid,
      get: (p) => oa.get(p, { [header]: token }),
      post: (p, body) => oa.post(p, body, { [header]: token }),
    };
  }
  const org = {
    person,
    async visitor(name) {
      return person(name);
    },
    async admin(name = 'admin') {
      const p = await person(name);
      const r = await run(MEETOA_BIN, ['user', '--config', oa.configPath, 'role', p.openid, 'admin'], { ...process.env, ...env });
      assert.equal(r.code, 0, `meetoa user role: ${r.stderr}`);
      org.firstAdmin ??= p;
      return p;
    },
    async member(name, department = '') {
      assert.ok(org.firstAdmin, 'an admin first');
      if (invite === null)
        invite = ok(await org.firstAdmin.post('/wx/member/invite', { maxUses: 10000, expireDays: 30 }), 'invite').code;
      const p = await person(name);
      const j = ok(await p.post('/wx/member/join', { name, department, inviteCode: invite }), `join of ${name}`);
      assert.equal(j.membership, 'member');
      return p;
    },
  };
  return org;
}

/** A meeting hosted by host, an hour or `startIn` ms from now, for `minutes`; its create body merged with `over`. */
export function meetingBody(over = {}, { startIn = 3600e3, minutes = 60 } = {}) {
  const start = Date.now() + startIn;
  return { title: '周例会 🗓️', content: '议程', startTime: cst(start), endTime: cst(start + minutes * 60e3), location: '3楼', participantIds: [], ...over };
}

/** Creates, submits and (by approver) approves a meeting; returns {id, version}. */
export async function approvedMeeting(host, approver, over = {}, when = {}) {
  const c = ok(await host.post('/wx/meeting/create', meetingBody(over, when)), 'create');
  ok(await host.post('/wx/meeting/submit', { id: c.id }), 'submit');
  const a = ok(await approver.post('/wx/meeting/approve', { id: c.id, approve: true }), 'approve');
  return { id: c.id, version: a.version };
}

/**
 * Moves meeting id by `seconds` (start and end, and the attendees' copies): for "it has
 * started/ended". Like every edit by hand, it bumps the list generation of the people on it
 * (docs/schema.md oa_member.list_gen), or their cached pages would still show the old times.
 */
export async function shiftMeeting(oa, id, seconds) {
  await oa.sql(`UPDATE oa_meeting SET start_at = start_at + (${seconds}), end_at = end_at + (${seconds}) WHERE id = ${id}`);
  await oa.sql(`UPDATE oa_attendee SET m_start = m_start + (${seconds}), m_end = m_end + (${seconds}) WHERE meeting_id = ${id}`);
  await oa.sql(`UPDATE oa_member SET list_gen = list_gen + 1 WHERE user_id IN (SELECT user_id FROM oa_attendee WHERE meeting_id = ${id})`);
}
