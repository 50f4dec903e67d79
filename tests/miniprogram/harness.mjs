// harness.mjs — runs the real mini program (miniprogram/, CommonJS as WeChat loads it) in Node.
//
// loadMiniprogram(phone) defines the globals the mini program expects (wx: the stand-in of
// wx-stub.mjs; App, getApp, Page, getCurrentPages), requires a fresh copy of miniprogram/app.js
// and of every page listed in app.json (so module state such as a silent login in flight starts
// anew), and answers {app, api, util, user, pageOptions, open(route, query), stack}.
// open() makes a page instance the way WeChat does (a deep copy of `data`, the options' methods
// with `this` = the instance, setData with "a.b[0]" paths), pushes it on the page stack, runs
// onLoad(query), onShow() and onReady(), and keeps onShow's promise in `page.shown` (onReady's in
// `page.ready`). tap(page, method, event) runs a handler as a user's tap (what
// wx.requestSubscribeMessage requires: wx-stub.mjs). press(instance, id) taps the <button id=...>
// of a page's or component's WXML as WeChat would: its open-type decides what happens before the
// method it binds is called (wx-stub.mjs pressButton: the privacy check, the phone and avatar
// sheets, the privacy agree button).
//
// Custom components (the page JSON's usingComponents, e.g. components/privacy): each tag of the
// page's WXML naming one, with an id, becomes an instance made the way WeChat makes them (data,
// properties' defaults, methods on the instance, setData, triggerEvent to the page's
// bind:EVENT="method", getPageId() the page's), attached before the page's onLoad, its
// pageLifetimes.show after each onShow; page.selectComponent('#id') answers it. mp.close(page)
// takes a page off the stack (its components detached), as navigateBack does.
//
// newPhone(world, user) is a stand-in for `user`'s phone in a world of startWorld() (the black-box
// harness in tests/blackbox/lib): wx.login asks that wxemu, and the host of config/api.js's
// ApiRootUrl is mapped to that meetoa. startMiniWorld() is startWorld() with the options these
// suites use. Only one mini program is loaded at a time per process (the globals are global):
// suites with several users load one per phone and switch with mp.activate().
// setRoleByCli(world, user, role) runs `meetoa user role` on the world's config (the first admin).

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createWx } from './wx-stub.mjs';
import { startWorld, runMeetoa, APP_ID } from '../blackbox/lib/meetoa.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MINIPROGRAM_DIR = path.resolve(here, '../../miniprogram');
/** A real PNG of the mini program, used as the file chooseAvatar gives. */
export const SAMPLE_AVATAR = path.join(MINIPROGRAM_DIR, 'images/default-avatar.png');

const require = createRequire(import.meta.url);

export { APP_ID };

/** config/api.js of the mini program (read without wx: it needs none). */
export function apiConfig() {
  return require(path.join(MINIPROGRAM_DIR, 'config/api.js'));
}

/** The pages of app.json. */
export function appPages() {
  return JSON.parse(readFileSync(path.join(MINIPROGRAM_DIR, 'app.json'), 'utf8')).pages;
}

/** Splits "a.b[0].c" into ['a', 'b', 0, 'c']. */
function pathOf(key) {
  const out = [];
  for (const part of key.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new Error(`setData: bad key ${key}`);
    if (m[1] !== '') out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** The start tags of a WXML text: [{tag, attrs: {name: value}}] (comments left out). */
export function tagsOf(wxml) {
  const tags = [];
  const src = wxml.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of src.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*\/?>/g)) {
    const attrs = {};
    for (const a of m[2].matchAll(/([^\s=>/]+)(?:="([^"]*)")?/g)) attrs[a[1]] = a[2] ?? '';
    tags.push({ tag: m[1], attrs });
  }
  return tags;
}

/** The file (without extension) a usingComponents path names, from the JSON file at `fromRel`. */
export function componentFile(fromRel, ref) {
  if (ref.startsWith('/')) return path.join(MINIPROGRAM_DIR, ref);
  return path.resolve(path.join(MINIPROGRAM_DIR, path.dirname(fromRel)), ref);
}

/** The usingComponents of `rel` (a page or component, without extension): {tag: absolute file}. */
export function usingComponents(rel) {
  const json = JSON.parse(readFileSync(path.join(MINIPROGRAM_DIR, `${rel}.json`), 'utf8'));
  const out = {};
  for (const [tag, ref] of Object.entries(json.usingComponents ?? {})) out[tag] = componentFile(rel, ref);
  return out;
}

/** The method `tag` binds for `event` (bindEVENT, bind:EVENT, catchEVENT, catch:EVENT), or null. */
function boundMethod(attrs, event) {
  for (const prefix of ['bind', 'bind:', 'catch', 'catch:']) if (attrs[prefix + event] !== undefined) return attrs[prefix + event];
  return null;
}

function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/** setData of a page or component: "a.b[0]" paths, values copied as WeChat copies them. */
function setData(changes, cb) {
  for (const [key, value] of Object.entries(changes)) {
    const p = pathOf(key);
    let obj = this.data;
    for (let i = 0; i < p.length - 1; i++) {
      if (obj[p[i]] === null || typeof obj[p[i]] !== 'object') obj[p[i]] = typeof p[i + 1] === 'number' ? [] : {};
      obj = obj[p[i]];
    }
    obj[p[p.length - 1]] = clone(value);
  }
  if (typeof cb === 'function') cb();
}

let pageSeq = 0;

function makePage(route, options, query) {
  const page = { route, options: { ...query }, data: clone(options.data ?? {}) };
  for (const [k, v] of Object.entries(options)) {
    if (k === 'data') continue;
    page[k] = typeof v === 'function' ? v : clone(v);
  }
  page.setData = setData;
  const pageId = `pageId:${++pageSeq}`;
  page.getPageId = () => pageId;
  page.components = new Map(); // '#id' -> component instance
  page.selectComponent = (selector) => page.components.get(selector) ?? null;
  return page;
}

/** A component instance of `options` (what Component() got) on `page`, for the tag's `attrs`. */
function makeComponent(file, options, page, attrs) {
  const data = clone(options.data ?? {});
  for (const [name, prop] of Object.entries(options.properties ?? {})) {
    const def = prop && typeof prop === 'object' ? prop.value : undefined;
    data[name] = attrs[name] !== undefined && !attrs[name].includes('{{') ? attrs[name] : def ?? null;
  }
  const comp = { is: file, id: attrs.id, data };
  for (const [k, fn] of Object.entries(options.methods ?? {})) comp[k] = fn;
  comp.setData = setData;
  comp.getPageId = page.getPageId;
  comp.triggerEvent = (name, detail = {}) => {
    const method = boundMethod(attrs, name);
    if (method === null) return;
    if (typeof page[method] !== 'function') throw new Error(`${page.route}: <${attrs.id}> bind:${name}="${method}" names no page method`);
    page[method]({ type: name, detail, currentTarget: { id: attrs.id, dataset: {} } });
  };
  comp.lifetime = (name) => {
    const fn = options.lifetimes?.[name] ?? options[name];
    return typeof fn === 'function' ? fn.call(comp) : undefined;
  };
  comp.pageLifetime = (name) => {
    const fn = options.pageLifetimes?.[name];
    return typeof fn === 'function' ? fn.call(comp) : undefined;
  };
  return comp;
}

/** Loads the mini program with `phone.wx` as `wx`; see the top of this file. */
export function loadMiniprogram(phone) {
  for (const k of Object.keys(require.cache)) if (k.startsWith(MINIPROGRAM_DIR + path.sep)) delete require.cache[k];

  let app = null;
  let registered = null;
  const stack = [];
  globalThis.wx = phone.wx;
  globalThis.App = (options) => {
    if (app !== null) throw new Error('App() called twice');
    app = options;
  };
  globalThis.getApp = () => app;
  globalThis.Page = (options) => {
    if (registered !== null) throw new Error('Page() called twice by one page');
    registered = options;
  };
  globalThis.getCurrentPages = () => stack.slice();
  let registeredComponent = null;
  globalThis.Component = (options) => {
    if (registeredComponent !== null) throw new Error('Component() called twice by one component');
    registeredComponent = options;
  };
  const componentOptions = new Map(); // absolute file -> Component() options
  const loadComponent = (file) => {
    if (!componentOptions.has(file)) {
      registeredComponent = null;
      require(`${file}.js`);
      if (registeredComponent === null) throw new Error(`${file}.js did not call Component()`);
      componentOptions.set(file, registeredComponent);
    }
    return componentOptions.get(file);
  };
  /** The custom component tags with an id of a page's WXML: [{file, attrs}]. */
  const pageComponents = new Map();

  require(path.join(MINIPROGRAM_DIR, 'app.js'));
  if (app === null) throw new Error('miniprogram/app.js did not call App()');

  const pageOptions = new Map();
  for (const route of appPages()) {
    registered = null;
    require(path.join(MINIPROGRAM_DIR, `${route}.js`));
    if (registered === null) throw new Error(`${route}.js did not call Page()`);
    pageOptions.set(route, registered);
    const used = usingComponents(route);
    const tags = [];
    for (const { tag, attrs } of tagsOf(readFileSync(path.join(MINIPROGRAM_DIR, `${route}.wxml`), 'utf8'))) {
      if (used[tag] === undefined) continue;
      if (!attrs.id) throw new Error(`${route}.wxml: <${tag}> has no id (the tests select it by its id)`);
      tags.push({ file: used[tag], attrs });
      loadComponent(used[tag]);
    }
    pageComponents.set(route, tags);
  }

  /** The WXML start tags of a page or component instance (its file). */
  const wxmlOf = (instance) => {
    const file = instance.is ?? path.join(MINIPROGRAM_DIR, instance.route);
    return tagsOf(readFileSync(`${file}.wxml`, 'utf8'));
  };
  const showComponents = (page) => {
    for (const comp of page.components.values()) comp.pageLifetime('show');
  };

  const mp = {
    app,
    stack,
    pageOptions,
    api: require(path.join(MINIPROGRAM_DIR, 'config/api.js')),
    util: require(path.join(MINIPROGRAM_DIR, 'utils/util.js')),
    user: require(path.join(MINIPROGRAM_DIR, 'utils/user.js')),
    /** Launches the app: onLaunch, then onShow (its promise is returned). */
    launch() {
      app.onLaunch?.({ path: appPages()[0], query: {} });
      return Promise.resolve(app.onShow?.({ path: appPages()[0], query: {} }));
    },
    /** Opens `route` (e.g. 'pages/login/login') on top of the stack; see the top of this file. */
    open(route, query = {}) {
      const options = pageOptions.get(route);
      if (!options) throw new Error(`${route} is not a page of app.json`);
      const page = makePage(route, options, query);
      stack.push(page);
      for (const { file, attrs } of pageComponents.get(route)) {
        const comp = makeComponent(file, componentOptions.get(file), page, attrs);
        page.components.set(`#${attrs.id}`, comp);
        comp.lifetime('created');
        comp.lifetime('attached');
      }
      page.onLoad?.({ ...query });
      page.shown = Promise.resolve(page.onShow?.());
      showComponents(page);
      page.ready = Promise.resolve(page.onReady?.());
      return page;
    },
    /** Takes `page` off the stack (navigateBack): its onUnload, its components detached. */
    close(page) {
      const i = stack.indexOf(page);
      if (i < 0) throw new Error(`${page.route} is not on the stack`);
      stack.splice(i, 1);
      page.onUnload?.();
      for (const comp of page.components.values()) comp.lifetime('detached');
    },
    /**
     * Taps the <button id="ID"> of `instance` (a page, or a component from page.selectComponent)
     * as WeChat does: what its open-type asks for first (wx-stub.mjs pressButton), then the
     * method it binds. Answers a promise of what the method answered.
     */
    press(instance, id) {
      const tag = wxmlOf(instance).find((t) => t.attrs.id === id);
      if (!tag) throw new Error(`${instance.is ?? instance.route}.wxml has no element with id "${id}"`);
      const openType = tag.attrs['open-type'];
      const event = { getPhoneNumber: 'getphonenumber', chooseAvatar: 'chooseavatar', agreePrivacyAuthorization: 'agreeprivacyauthorization' }[openType] ?? 'tap';
      const method = boundMethod(tag.attrs, event);
      if (method === null) throw new Error(`<${tag.tag} id="${id}"> binds no ${event} handler`);
      if (typeof instance[method] !== 'function') throw new Error(`<${tag.tag} id="${id}"> binds ${method}, which is not a method`);
      // The element's static data-* attributes (an {{expression}} is not evaluated: call such a
      // handler with its event instead, as the other suites do).
      const dataset = {};
      for (const [name, value] of Object.entries(tag.attrs))
        if (name.startsWith('data-') && !value.includes('{{')) dataset[name.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = value;
      return phone.pressButton({ openType, id, dataset, handler: (ev) => instance[method](ev) });
    },
    /**
     * Makes this mini program the one the globals (wx, getApp, getCurrentPages) belong to again,
     * after another phone's was loaded: suites with several users switch between them with it.
     * Returns this.
     */
    activate() {
      globalThis.wx = phone.wx;
      globalThis.getApp = () => app;
      globalThis.getCurrentPages = () => stack.slice();
      return mp;
    },
    /**
     * Taps: runs page[method](event) as WeChat runs a bindtap handler (APIs allowed only from a
     * tap, such as wx.requestSubscribeMessage, work while it runs synchronously); answers its
     * return value (the handler's promise).
     */
    tap(page, method, event = {}) {
      if (typeof page[method] !== 'function') throw new Error(`${page.route} has no method ${method}`);
      return phone.tap(() => page[method](event));
    },
    /** Shows `page` again (a return to it): runs onShow and returns its promise. */
    show(page) {
      page.shown = Promise.resolve(page.onShow?.());
      showComponents(page);
      return page.shown;
    },
  };
  return mp;
}

/** A phone of `user` in `world` (startWorld's {wx, oa}); see the top of this file. */
export function newPhone(world, user, { log } = {}) {
  const origin = new URL(apiConfig().ApiRootUrl).origin;
  return createWx({ appid: APP_ID, user, wxemuBase: world.wx.base, hosts: { [origin]: world.oa.base }, log });
}

/** startWorld() (wxemu + meetoa on a fresh database); meetoaConfig is merged into meetoa's config. */
export function startMiniWorld(meetoaConfig = {}) {
  return startWorld({ meetoa: { config: meetoaConfig } });
}

/** The openid wxemu gives `user` of APP_ID (the username of their wx_user row). */
export async function openidOf(world, user) {
  const { openid } = await world.wx.newLogin(APP_ID, user);
  return openid;
}

/**
 * `meetoa user --config <the world's config> role OPENID admin|member`: how the first admin is
 * made. The user must have logged in once. Resolves the CLI's {code, stdout, stderr}.
 */
export async function setRoleByCli(world, user, role) {
  return runMeetoa(['user', '--config', world.oa.configPath, 'role', await openidOf(world, user), role]);
}
