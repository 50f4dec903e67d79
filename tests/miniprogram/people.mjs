// people.mjs — several users, each with a phone running the mini program, in one world of
// startMiniWorld() (the organization's suites: member.test, meeting.test).
//
//   const p = await person(world, 'bob')      logged in once (wx.login + login_by_weixin, as 微信登录)
//   const mp = as(p)                          p's mini program owns the globals now; p's counters reset
//   await call(world, p, 'POST', path, body)  straight to the server with p's token: {status, errno, data, ...}
//   await okCall(...)                         the same, asserting errno 0; answers data
//   await serverMe(world, p)                  GET /wx/member/me of p, from the server
//   await joinWithCode(world, p, code, name, department)   POST /wx/member/join, asserting `member`
//   paths(p)                                  "METHOD /wx/..." of every request p's phone made since as(p)
//   wxTime(date)                              a Date as the API's ISO form without milliseconds ("...Z")

import { loadMiniprogram, newPhone } from './harness.mjs';
import { assertOk } from '../blackbox/lib/meetoa.mjs';

export async function person(world, name, userInfo) {
  const phone = newPhone(world, name);
  const mp = loadMiniprogram(phone);
  await mp.user.loginByWeixin(userInfo);
  return { name, phone, mp, token: () => phone.storage.get('token') };
}

export function as(p) {
  p.phone.reset();
  return p.mp.activate();
}

export function call(world, p, method, path, body) {
  return world.oa.send(method, path, body, { [p.mp.api.TokenHeader]: p.token() });
}

export async function okCall(world, p, method, path, body) {
  const r = await call(world, p, method, path, body);
  assertOk(r, `${p.name}: ${method} ${path} ${body === undefined ? '' : JSON.stringify(body)}`);
  return r.data;
}

export function serverMe(world, p) {
  return okCall(world, p, 'GET', '/wx/member/me');
}

export async function joinWithCode(world, p, inviteCode, name, department = '') {
  const data = await okCall(world, p, 'POST', '/wx/member/join', { name, department, inviteCode });
  if (data.membership !== 'member') throw new Error(`${p.name} joined as ${data.membership}`);
  return (await serverMe(world, p)).userId;
}

export function paths(p) {
  return p.phone.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`);
}

export function wxTime(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
