// pages.test.mjs — the pages' WXML, JSON and WXSS, checked without a server:
//   - app.json lists every page folder, and every listed page has its .js/.json/.wxml/.wxss;
//     the tab bar, sitemap.json and project.config.json agree with it;
//   - every WXML compiles with WeChat's own WXML compiler (wcc, shipped in miniprogram-compiler,
//     which miniprogram-simulate uses), and every WXSS with miniprogram-simulate's WXSS pipeline;
//   - every event binding names a method of the page, every {{expression}} reads only the page's
//     data (a typo renders as nothing on a phone, so it must fail here), and the open-type
//     buttons and the nickname input are wired as WeChat requires;
//   - each page is rendered by miniprogram-simulate (j-component in a jsdom document) in its
//     states, its texts checked, and the events of its buttons dispatched: each must reach the
//     handler it names (a handler that does not exist is silently ignored by WeChat).
// The page code is loaded as it is, with Page() mapped to a component whose methods are spies.

import { before, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { MINIPROGRAM_DIR, appPages, tagsOf, usingComponents } from './harness.mjs';

const require = createRequire(import.meta.url);
const LIFECYCLE = new Set(['onLoad', 'onShow', 'onReady', 'onHide', 'onUnload', 'onPullDownRefresh', 'onReachBottom', 'onShareAppMessage', 'onPageScroll']);

const read = (rel) => readFileSync(path.join(MINIPROGRAM_DIR, rel), 'utf8');
const readJson = (rel) => JSON.parse(read(rel));

/** The mini program's own components: components/NAME/NAME (relative, without extension). */
function ownComponents() {
  const dir = path.join(MINIPROGRAM_DIR, 'components');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((name) => `components/${name}/${name}`);
}

// ---------------------------------------------------------------------------------------------
// A DOM for miniprogram-simulate, and Page() as a component of spies

let simulate;
let compiler;
const spyCalls = [];
let pageOptions = null;

before(() => {
  const { JSDOM } = require('jsdom');
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true });
  globalThis.window = dom.window;
  globalThis.document = dom.window.document;
  // j-component builds events with the global constructors: they must be the DOM's, not Node's.
  for (const k of ['Event', 'CustomEvent', 'Element', 'HTMLElement', 'Node', 'requestAnimationFrame', 'getComputedStyle'])
    globalThis[k] = dom.window[k];
  // The code wcsc generates reads navigator (a global only from Node 21 on).
  if (globalThis.navigator === undefined) globalThis.navigator = dom.window.navigator;
  simulate = require('miniprogram-simulate');
  compiler = require('miniprogram-compiler');
  globalThis.getApp = () => ({ globalData: {} });
  globalThis.getCurrentPages = () => [];
  globalThis.Page = (options) => {
    pageOptions = options;
    const methods = {};
    for (const [name, fn] of Object.entries(options)) {
      if (typeof fn !== 'function' || LIFECYCLE.has(name)) continue;
      methods[name] = function spy(event) {
        spyCalls.push({ method: name, event });
      };
    }
    globalThis.Component({ data: JSON.parse(JSON.stringify(options.data ?? {})), methods });
  };
});

/** Renders `route` with WeChat's compiler; answers {comp, options (the Page() object)}. */
function render(route) {
  pageOptions = null;
  const id = simulate.load(path.join(MINIPROGRAM_DIR, route), 'page', { rootPath: MINIPROGRAM_DIR, compiler: 'official' });
  assert.ok(pageOptions, `${route}.js called Page()`);
  const options = pageOptions;
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return { comp, options };
}

/** Renders the component `rel` (components/...) with its methods as spies; answers the component. */
function renderComponent(rel) {
  const real = globalThis.Component;
  globalThis.Component = (o) => {
    const methods = {};
    for (const name of Object.keys(o.methods ?? {}))
      methods[name] = function spy(event) {
        spyCalls.push({ method: name, event });
      };
    real({ ...o, lifetimes: {}, methods });
  };
  let id;
  try {
    id = simulate.load(path.join(MINIPROGRAM_DIR, rel), 'main', { rootPath: MINIPROGRAM_DIR, compiler: 'official' });
  } finally {
    globalThis.Component = real;
  }
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

const text = (comp, selector) => {
  const node = comp.querySelector(selector);
  return node ? node.dom.textContent.trim() : null;
};

/** Dispatches `event` on `selector` and answers the spy calls it caused. */
async function fire(comp, selector, event, detail = {}) {
  const node = comp.querySelector(selector);
  assert.ok(node, `${selector} is rendered`);
  const n = spyCalls.length;
  node.dispatchEvent(event, { detail });
  await simulate.sleep(0);
  return spyCalls.slice(n);
}

async function assertFires(comp, selector, event, method) {
  const calls = await fire(comp, selector, event);
  assert.deepEqual(calls.map((c) => c.method), [method], `${event} on ${selector} reaches ${method}()`);
  return calls[0].event;
}

// ---------------------------------------------------------------------------------------------
// Static checks of the WXML

const EVENT_ATTR = /^(?:capture-)?(?:bind|catch|mut-bind):?([a-z]+)$/;
const NOT_DATA = new Set(['true', 'false', 'null', 'undefined', 'typeof']);

/** The root names an {{expression}} reads (a.b[c] reads a and c). */
function namesRead(expr) {
  const code = expr.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, '""');
  const names = [];
  for (const m of code.matchAll(/(?<![.\w$])([A-Za-z_$][\w$]*)/g)) if (!NOT_DATA.has(m[1])) names.push(m[1]);
  return names;
}

/** Every {{...}} of a WXML text (attribute values and text). */
function expressionsOf(wxml) {
  return [...wxml.replace(/<!--[\s\S]*?-->/g, '').matchAll(/\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]);
}

// ---------------------------------------------------------------------------------------------

describe('app.json and the project files', () => {
  test('project.config.json, app.json and sitemap.json are valid JSON for the developer tools', () => {
    const project = readJson('project.config.json');
    assert.equal(project.compileType, 'miniprogram');
    assert.match(project.appid, /^wx[0-9a-f]{16}$/);
    assert.equal(project.setting.urlCheck, false, 'the local server is http://127.0.0.1');
    const app = readJson('app.json');
    assert.ok(Array.isArray(app.pages) && app.pages.length > 0);
    assert.ok(existsSync(path.join(MINIPROGRAM_DIR, app.sitemapLocation)), 'sitemap.json exists');
    readJson(app.sitemapLocation);
    for (const f of ['app.js', 'app.wxss', 'config/api.js', 'utils/util.js', 'utils/user.js']) assert.ok(existsSync(path.join(MINIPROGRAM_DIR, f)), f);
  });

  test('every page of app.json has its four files; every page folder is listed in app.json', () => {
    const pages = appPages();
    assert.deepEqual([...pages].sort(), [
      'pages/account/account',
      'pages/checkin/index',
      'pages/index/index',
      'pages/login/login',
      'pages/meeting/detail/detail',
      'pages/meeting/edit/edit',
      'pages/meeting/list/list',
      'pages/meeting/vote/vote',
      'pages/member/join/join',
      'pages/member/requests/requests',
      'pages/ucenter/ucenter',
    ]);
    for (const route of pages) for (const ext of ['js', 'json', 'wxml', 'wxss']) assert.ok(existsSync(path.join(MINIPROGRAM_DIR, `${route}.${ext}`)), `${route}.${ext}`);
    // Every .wxml under pages/ (at any depth) is a page of app.json.
    let found = 0;
    const walk = (rel) => {
      for (const name of readdirSync(path.join(MINIPROGRAM_DIR, rel))) {
        const child = `${rel}/${name}`;
        if (statSync(path.join(MINIPROGRAM_DIR, child)).isDirectory()) walk(child);
        else if (name.endsWith('.wxml')) {
          found++;
          const route = child.slice(0, -5);
          assert.ok(pages.includes(route), `${route} is a page folder missing from app.json`);
        }
      }
    };
    walk('pages');
    assert.equal(found, pages.length);
    assert.equal(pages[0], 'pages/index/index', 'the home page opens first');
  });

  test('the tab bar names pages of app.json; page JSON files are valid', () => {
    const app = readJson('app.json');
    const tabs = app.tabBar.list.map((t) => t.pagePath);
    assert.deepEqual(tabs, ['pages/index/index', 'pages/meeting/list/list', 'pages/ucenter/ucenter']);
    assert.deepEqual(app.tabBar.list.map((t) => t.text), ['首页', '会议', '我的']);
    for (const t of app.tabBar.list) assert.ok(t.text, 'a tab has a text');
    const own = ownComponents().map((c) => path.join(MINIPROGRAM_DIR, c));
    for (const route of appPages()) {
      const json = readJson(`${route}.json`);
      assert.equal(typeof json.navigationBarTitleText, 'string', `${route}.json has a title`);
      for (const [tag, file] of Object.entries(usingComponents(route)))
        assert.ok(own.includes(file), `${route}.json: <${tag}> is one of components/ (no third-party component)`);
    }
  });

  test('each component of components/ has its four files and is a component', () => {
    const comps = ownComponents();
    assert.deepEqual(comps, ['components/privacy/privacy']);
    for (const c of comps) {
      for (const ext of ['js', 'json', 'wxml', 'wxss']) assert.ok(existsSync(path.join(MINIPROGRAM_DIR, `${c}.${ext}`)), `${c}.${ext}`);
      assert.equal(readJson(`${c}.json`).component, true, `${c}.json says "component": true`);
      assert.deepEqual(usingComponents(c), {}, `${c} uses no other component`);
    }
  });

  test('privacy: app.json turns the check on; the pages with privacy components carry the dialog', () => {
    assert.equal(readJson('app.json').__usePrivacyCheck__, true);
    for (const route of ['pages/login/login', 'pages/ucenter/ucenter', 'pages/account/account']) {
      assert.equal(usingComponents(route)['privacy-dialog'], path.join(MINIPROGRAM_DIR, 'components/privacy/privacy'), route);
      const tag = tagsOf(read(`${route}.wxml`)).find((t) => t.tag === 'privacy-dialog');
      assert.equal(tag?.attrs.id, 'privacy', `${route}.wxml: <privacy-dialog id="privacy">`);
    }
    assert.match(read('app.js'), /privacy\.listen\(\)/, 'app.js registers the listener at launch');
  });

  test('the code only navigates to pages of app.json, with switchTab for tab pages', () => {
    const pages = appPages();
    const tabs = readJson('app.json').tabBar.list.map((t) => t.pagePath);
    for (const route of pages) {
      const js = read(`${route}.js`);
      for (const m of js.matchAll(/wx\.(navigateTo|redirectTo|switchTab|reLaunch)\(\{\s*url:\s*'([^']+)'/g)) {
        const target = m[2].replace(/^\//, '').replace(/\?.*$/, '');
        assert.ok(pages.includes(target), `${route}.js: ${m[2]} is a page`);
        // switchTab opens only tab pages, navigateTo and redirectTo only other pages; reLaunch either.
        if (m[1] !== 'reLaunch') assert.equal(tabs.includes(target), m[1] === 'switchTab', `${route}.js: ${m[1]} to ${target}`);
      }
      for (const m of js.matchAll(/url: '([^']+)'/g)) assert.ok(pages.includes(m[1].replace(/^\//, '').replace(/\?.*$/, '')), `${route}.js: ${m[1]}`);
    }
  });
});

describe('WXML and WXSS compile', () => {
  test('WeChat\'s WXML compiler (wcc) compiles every page', () => {
    const gwx = new Function(compiler.wxmlToJs(MINIPROGRAM_DIR))();
    for (const route of appPages()) assert.equal(typeof gwx(`${route}.wxml`), 'function', `${route}.wxml compiled`);
  });

  test('WeChat\'s WXSS compiler (wcsc) compiles app.wxss and every page\'s WXSS', () => {
    const styleOf = new Function(compiler.wxssToJs(MINIPROGRAM_DIR))();
    for (const f of ['app.wxss', ...appPages().map((r) => `${r}.wxss`), ...ownComponents().map((c) => `${c}.wxss`)]) assert.notEqual(styleOf(f), undefined, `${f} compiled`);
  });

  test('wcc compiles every component of components/', () => {
    const gwx = new Function(compiler.wxmlToJs(MINIPROGRAM_DIR))();
    for (const c of ownComponents()) assert.equal(typeof gwx(`${c}.wxml`), 'function', `${c}.wxml compiled`);
  });

  test('no UI library: styles and markup use WeChat\'s built-in components and components/ only', () => {
    const builtins = new Set(['view', 'text', 'image', 'button', 'input', 'form', 'block', 'navigator', 'scroll-view', 'icon', 'picker', 'textarea']);
    for (const rel of [...appPages(), ...ownComponents()]) {
      const own = usingComponents(rel);
      for (const { tag } of tagsOf(read(`${rel}.wxml`))) assert.ok(builtins.has(tag) || own[tag] !== undefined, `${rel}.wxml: <${tag}>`);
    }
  });
});

describe('bindings', () => {
  for (const route of appPages()) {
    test(`${route}: every event names a page method, every {{}} reads page data`, () => {
      const { options } = render(route);
      const wxml = read(`${route}.wxml`);
      const tags = tagsOf(wxml);
      let handlers = 0;
      for (const { tag, attrs } of tags) {
        for (const [name, value] of Object.entries(attrs)) {
          if (!EVENT_ATTR.test(name)) continue;
          handlers++;
          assert.equal(typeof options[value], 'function', `${route}.wxml <${tag} ${name}="${value}">: no such method`);
          assert.ok(attrs.id, `${route}.wxml <${tag} ${name}="${value}"> has an id (the test dispatches to it)`);
        }
      }
      assert.ok(handlers > 0);
      const scope = new Set(Object.keys(options.data));
      for (const { attrs } of tags) {
        if ('wx:for' in attrs) {
          scope.add(attrs['wx:for-item'] ?? 'item');
          scope.add(attrs['wx:for-index'] ?? 'index');
        }
      }
      for (const expr of expressionsOf(wxml)) for (const name of namesRead(expr)) assert.ok(scope.has(name), `${route}.wxml {{${expr}}}: "${name}" is not page data`);
    });
  }

  for (const c of ownComponents()) {
    test(`${c}: every event names a component method, every {{}} reads component data`, () => {
      let options = null;
      const saved = globalThis.Component;
      globalThis.Component = (o) => {
        options = o;
      };
      try {
        delete require.cache[require.resolve(path.join(MINIPROGRAM_DIR, `${c}.js`))];
        require(path.join(MINIPROGRAM_DIR, `${c}.js`));
      } finally {
        globalThis.Component = saved;
      }
      assert.ok(options, `${c}.js called Component()`);
      const tags = tagsOf(read(`${c}.wxml`));
      let handlers = 0;
      for (const { tag, attrs } of tags) {
        for (const [name, value] of Object.entries(attrs)) {
          if (!EVENT_ATTR.test(name)) continue;
          handlers++;
          assert.equal(typeof options.methods?.[value], 'function', `${c}.wxml <${tag} ${name}="${value}">: no such method`);
          assert.ok(attrs.id, `${c}.wxml <${tag} ${name}="${value}"> has an id`);
        }
      }
      assert.ok(handlers > 0);
      const scope = new Set([...Object.keys(options.data ?? {}), ...Object.keys(options.properties ?? {})]);
      for (const expr of expressionsOf(read(`${c}.wxml`))) for (const name of namesRead(expr)) assert.ok(scope.has(name), `${c}.wxml {{${expr}}}: "${name}" is not component data`);
    });
  }

  test('the open-type buttons and the nickname input are wired as WeChat requires', () => {
    const login = tagsOf(read('pages/login/login.wxml'));
    const avatar = login.find((t) => t.attrs['open-type'] === 'chooseAvatar');
    assert.ok(avatar && avatar.tag === 'button', '<button open-type="chooseAvatar">');
    assert.equal(avatar.attrs['bind:chooseavatar'], 'onChooseAvatar');
    const nickname = login.find((t) => t.attrs.type === 'nickname');
    assert.ok(nickname && nickname.tag === 'input', '<input type="nickname">');
    assert.equal(nickname.attrs.name, 'nickname', 'the form submit carries it as "nickname"');
    assert.equal(login.find((t) => t.tag === 'form')?.attrs.bindsubmit, 'onSubmitProfile');
    assert.equal(login.find((t) => t.attrs['form-type'] === 'submit')?.tag, 'button');
    const ucenter = tagsOf(read('pages/ucenter/ucenter.wxml'));
    const phone = ucenter.find((t) => t.attrs['open-type'] === 'getPhoneNumber');
    assert.ok(phone && phone.tag === 'button', '<button open-type="getPhoneNumber">');
    assert.equal(phone.attrs.bindgetphonenumber, 'onGetPhoneNumber');
    // The privacy dialog's agree button: open-type agreePrivacyAuthorization, the id given to resolve().
    const dialog = tagsOf(read('components/privacy/privacy.wxml'));
    const agree = dialog.find((t) => t.attrs['open-type'] === 'agreePrivacyAuthorization');
    assert.ok(agree && agree.tag === 'button', '<button open-type="agreePrivacyAuthorization">');
    assert.equal(agree.attrs.id, 'agree-btn', 'utils/privacy.js resolves with buttonId agree-btn');
    assert.equal(agree.attrs.bindagreeprivacyauthorization, 'onAgree');
    assert.equal(dialog.find((t) => t.attrs.id === 'disagree-btn')?.attrs.bindtap, 'onDisagree');
  });
});

describe('pages rendered by miniprogram-simulate', () => {
  test('index: a guest sees 去登录; a user sees the greeting and the nickname; the menu', async () => {
    const { comp } = render('pages/index/index');
    assert.equal(text(comp, '#welcome'), null);
    assert.match(text(comp, '#guest'), /未登录/);
    assert.equal(text(comp, '#login-button'), '去登录');
    await assertFires(comp, '#login-button', 'tap', 'goLogin');
    for (const id of ['meetings', 'publish', 'votes', 'ucenter']) assert.ok(comp.querySelector(`#menu-${id}`), `menu ${id}`);
    assert.equal(text(comp, '#menu-ucenter'), '个' + '个人中心', 'the icon (first character), then the label');
    const ev = await assertFires(comp, '#menu-ucenter', 'tap', 'onMenuTap');
    assert.equal(ev.currentTarget.dataset.id, 'ucenter', 'data-id reaches the handler');

    comp.setData({ hasLogin: true, nickName: 'Alice 🌸', avatarUrl: 'https://example.com/a.png', greeting: '上午好' });
    assert.equal(text(comp, '#guest'), null);
    assert.equal(text(comp, '#nickname'), 'Alice 🌸');
    assert.match(text(comp, '#welcome'), /^上午好，\s*Alice 🌸$/);
  });

  test('login: 微信登录, then avatar, nickname, 保存 and 跳过', async () => {
    const { comp } = render('pages/login/login');
    assert.equal(text(comp, '#login-button'), '微信登录');
    assert.equal(comp.querySelector('#avatar-button'), undefined);
    await assertFires(comp, '#login-button', 'tap', 'onLogin');

    comp.setData({ step: 'profile', nickName: '旧昵称' });
    assert.equal(comp.querySelector('#login-button'), undefined);
    assert.ok(comp.querySelector('#nickname-input'));
    assert.equal(text(comp, '#save-button'), '保存');
    assert.equal(text(comp, '#skip-button'), '跳过');
    const ev = await fire(comp, '#avatar-button', 'chooseavatar', { avatarUrl: 'http://tmp/a.png' });
    assert.deepEqual(ev.map((c) => c.method), ['onChooseAvatar']);
    await assertFires(comp, '#skip-button', 'tap', 'onSkip');
    const submit = await fire(comp, '#profile-form', 'submit', { value: { nickname: 'x' } });
    assert.deepEqual(submit.map((c) => c.method), ['onSubmitProfile']);
  });

  test('ucenter: 点击登录 for a guest; profile, 绑定手机号 or the masked number, 退出登录', async () => {
    const { comp } = render('pages/ucenter/ucenter');
    assert.match(text(comp, '#login-card'), /点击登录/);
    assert.equal(comp.querySelector('#logout-button'), undefined);
    assert.equal(comp.querySelector('#phone-button'), undefined, 'no phone button before a login');
    await assertFires(comp, '#login-card', 'tap', 'goLogin');

    comp.setData({ hasLogin: true, nickName: 'Alice 🌸', mobile: '', maskedMobile: '' });
    assert.equal(text(comp, '#nickname'), 'Alice 🌸');
    assert.equal(text(comp, '#phone-button'), '绑定手机号');
    assert.equal(text(comp, '#logout-button'), '退出登录');
    const ev = await fire(comp, '#phone-button', 'getphonenumber', { code: 'abc' });
    assert.deepEqual(ev.map((c) => c.method), ['onGetPhoneNumber']);
    assert.equal(ev[0].event.detail.code, 'abc');
    await assertFires(comp, '#logout-button', 'tap', 'onLogout');
    await assertFires(comp, '#profile-card', 'tap', 'editProfile');
    assert.match(text(comp, '#account-link'), /隐私与账号/);
    await assertFires(comp, '#account-link', 'tap', 'goAccount');

    comp.setData({ mobile: '13800138000', maskedMobile: '138****8000' });
    assert.equal(comp.querySelector('#phone-button'), undefined);
    assert.equal(text(comp, '#mobile'), '138****8000');
  });
});

describe('隐私与账号 rendered by miniprogram-simulate', () => {
  test('account: the login prompt; the guide, devices, log, export, the hosted meetings, 注销', async () => {
    const { comp } = render('pages/account/account');
    assert.match(text(comp, '#need-login'), /请先登录/);
    await assertFires(comp, '#login-button', 'tap', 'goLogin');
    assert.equal(comp.querySelector('#delete-button'), undefined);

    comp.setData({
      hasLogin: true,
      privacyNeeded: true,
      contractName: '《会议OA小程序隐私保护指引》',
      sessionsLoaded: true,
      sessions: [
        { id: 'a1', current: true, ip: '127.0.0.1', createdText: '2026-12-07 09:00', lastUsedText: '2026-12-07 09:30' },
        { id: 'b2', current: false, ip: '10.0.0.2', createdText: '2026-12-06 08:00', lastUsedText: '2026-12-06 08:05' },
      ],
      log: [
        { id: 9, text: '登录', time: '2026-12-07 09:00:00', ip: '127.0.0.1' },
        { id: 8, text: '登录被拒绝（错误 710）', time: '2026-12-06 07:59:00', ip: '10.0.0.2' },
      ],
      logPage: 1,
      logPages: 2,
    });
    assert.equal(text(comp, '#contract-name'), '《会议OA小程序隐私保护指引》');
    await assertFires(comp, '#contract-cell', 'tap', 'onOpenContract');
    assert.equal(text(comp, '#privacy-state'), '未同意（手机号、头像不可用）');
    await assertFires(comp, '#privacy-button', 'tap', 'onAskPrivacy');
    assert.match(text(comp, '#session-0'), /^本机 · 127\.0\.0\.1\s*登录于 2026-12-07 09:00 · 最近使用 2026-12-07 09:30$/);
    assert.equal(comp.querySelector('#end-session-0'), undefined, 'this phone has no 下线');
    assert.match(text(comp, '#session-1'), /^其他设备 · 10\.0\.0\.2[\s\S]*下线$/);
    const end = await assertFires(comp, '#end-session-1', 'tap', 'onEndSession');
    assert.equal(end.currentTarget.dataset.id, 'b2');
    await assertFires(comp, '#end-all-button', 'tap', 'onEndAll');
    assert.match(text(comp, '#log-8'), /登录被拒绝（错误 710）\s*2026-12-06 07:59:00 · 10\.0\.0\.2/);
    await assertFires(comp, '#more-log', 'tap', 'onMoreLog');
    assert.equal(comp.querySelector('#share-button'), undefined, 'nothing to send before an export');
    await assertFires(comp, '#export-button', 'tap', 'onExport');
    await assertFires(comp, '#delete-button', 'tap', 'onDeleteAccount');
    assert.equal(comp.querySelector('#hosted'), undefined);

    comp.setData({
      privacyNeeded: false,
      logPage: 2,
      exported: { fileName: 'meetoa-export.json', sizeText: '2.1 KB', summary: [{ key: 'sessions', count: 2 }] },
      hosted: [{ id: 5, title: '周例会', timeText: '12-08 09:00' }],
    });
    assert.equal(text(comp, '#privacy-state'), '已同意');
    assert.equal(comp.querySelector('#privacy-button'), undefined);
    assert.equal(comp.querySelector('#more-log'), undefined, 'the last page of the log');
    assert.match(text(comp, '#export-result'), /meetoa-export\.json · 2\.1 KB\s*sessions：2/);
    await assertFires(comp, '#share-button', 'tap', 'onShareExport');
    assert.match(text(comp, '#hosted'), /请先移交或取消[\s\S]*周例会\s*12-08 09:00/);
    assert.equal((await assertFires(comp, '#hosted-5', 'tap', 'onHostedTap')).currentTarget.dataset.id, 5);

    comp.setData({ sessions: [], log: [] });
    assert.equal(text(comp, '#no-sessions'), '暂无登录设备');
    assert.equal(text(comp, '#no-log'), '暂无记录');
  });
});

describe('components rendered by miniprogram-simulate', () => {
  test('privacy: hidden until shown; the purpose, the guide\'s name, 不同意 and 同意', async () => {
    const comp = renderComponent('components/privacy/privacy');
    assert.equal(comp.querySelector('#privacy-dialog'), undefined, 'hidden at first');
    comp.setData({ show: true, purposeText: '绑定手机号需要你同意隐私保护指引', contractName: '《会议OA小程序隐私保护指引》' });
    assert.equal(text(comp, '#privacy-purpose'), '绑定手机号需要你同意隐私保护指引');
    assert.equal(text(comp, '#contract-link'), '《会议OA小程序隐私保护指引》');
    assert.equal(text(comp, '#agree-btn'), '同意');
    assert.equal(text(comp, '#disagree-btn'), '不同意');
    await assertFires(comp, '#contract-link', 'tap', 'onOpenContract');
    await assertFires(comp, '#disagree-btn', 'tap', 'onDisagree');
    await assertFires(comp, '#agree-btn', 'agreeprivacyauthorization', 'onAgree');
    assert.deepEqual(await fire(comp, '#agree-btn', 'tap'), [], 'a plain tap on 同意 is not the agreement event');
  });
});

describe('the organization\'s pages rendered by miniprogram-simulate', () => {
  test('index: a visitor sees the join prompt; a member the next meetings; an admin 成员审批', async () => {
    const { comp } = render('pages/index/index');
    comp.setData({ hasLogin: true, nickName: 'A', membership: 'none', isMember: false });
    assert.match(text(comp, '#join-prompt'), /你还不是组织成员/);
    assert.equal(text(comp, '#join-button'), '加入组织');
    await assertFires(comp, '#join-button', 'tap', 'goJoin');
    assert.equal(comp.querySelector('#next-meetings'), undefined);

    comp.setData({ membership: 'pending', rejectReason: '' });
    assert.match(text(comp, '#join-prompt'), /等待管理员审核/);
    assert.equal(text(comp, '#join-button'), '修改申请');
    comp.setData({ membership: 'none', rejectReason: '请用真名' });
    assert.equal(text(comp, '#reject-reason'), '上次申请未通过：请用真名');

    comp.setData({
      membership: 'member',
      isMember: true,
      meetings: [{ id: 7, title: '周例会', timeText: '12-07 09:00–10:00', place: '301', state: 4, stateName: '待开' }],
    });
    assert.equal(text(comp, '#join-prompt'), null);
    assert.match(text(comp, '#meeting-7'), /周例会\s*12-07 09:00–10:00 · 301\s*待开/);
    const ev = await assertFires(comp, '#meeting-7', 'tap', 'onMeetingTap');
    assert.equal(ev.currentTarget.dataset.id, 7);
    await assertFires(comp, '#more-meetings', 'tap', 'goMeetings');
    comp.setData({ meetings: [] });
    assert.equal(text(comp, '#no-meetings'), '暂无待开会议');
    comp.setData({ menu: [{ id: 'requests', text: '成员审批', url: '/pages/member/requests/requests' }] });
    assert.equal(text(comp, '#menu-requests'), '成' + '成员审批');
  });

  test('meeting/list: six tabs, the rows, paging hints, the visitor\'s and the guest\'s prompts', async () => {
    const { comp } = render('pages/meeting/list/list');
    assert.match(text(comp, '#need-login'), /登录后查看会议/);
    await assertFires(comp, '#login-button', 'tap', 'goLogin');
    for (const [view, label] of [['mine', '我的会议'], ['approval', '我的审批'], ['notice', '会议通知'], ['upcoming', '待开会议'], ['history', '历史会议'], ['all', '所有会议']])
      assert.equal(text(comp, `#tab-${view}`), label);
    const tab = await assertFires(comp, '#tab-history', 'tap', 'onTabTap');
    assert.equal(tab.currentTarget.dataset.view, 'history');
    assert.match(comp.querySelector('#tab-upcoming').dom.className, /tabs__item--on/, 'the current tab is marked');

    comp.setData({ hasLogin: true, notMember: true });
    assert.match(text(comp, '#join-prompt'), /加入组织后才能查看会议/);
    await assertFires(comp, '#join-button', 'tap', 'goJoin');

    comp.setData({
      notMember: false,
      loaded: true,
      total: 21,
      hasMore: true,
      list: [{ id: 3, title: '评审会', timeText: '12-08 14:00–15:00', place: '线上', hostName: '张三', attendeeCount: 4, state: 2, stateName: '待审核' }],
    });
    assert.equal(text(comp, '#total'), '共 21 个会议');
    assert.match(text(comp, '#meeting-3'), /评审会[\s\S]*主持人 张三 · 4 人[\s\S]*待审核/);
    assert.equal(text(comp, '#more'), '上拉加载更多');
    const row = await assertFires(comp, '#meeting-3', 'tap', 'onItemTap');
    assert.equal(row.currentTarget.dataset.id, 3);
    await assertFires(comp, '#publish-button', 'tap', 'goPublish');
    comp.setData({ hasMore: false });
    assert.equal(text(comp, '#no-more'), '没有更多了');
    comp.setData({ list: [], total: 0 });
    assert.equal(text(comp, '#empty'), '暂无会议');
  });

  test('meeting/edit: the fields, pickers, rooms with busy times, people, approver, the two buttons', async () => {
    const { comp } = render('pages/meeting/edit/edit');
    assert.equal(comp.querySelector('#title-input'), undefined, 'nothing before the page has loaded');
    comp.setData({
      loaded: true,
      startDate: '2026-12-08',
      endDate: '2026-12-08',
      roomsDate: '2026-12-08',
      rooms: [
        { id: 1, name: '301', info: '3楼 · 20人', busy: [], clash: false },
        { id: 2, name: '502', info: '', busy: [{ meetingId: 9, title: '周会', text: '12-08 09:00–10:00' }], clash: true },
      ],
      people: [{ id: 5, name: '李四', department: '市场部', role: 'observer' }],
      results: [{ id: 6, name: '王五', department: '', avatar: '' }],
      roomId: 1,
    });
    for (const id of ['#title-input', '#content-input', '#location-input'].slice(0, 2)) assert.ok(comp.querySelector(id), id);
    assert.equal(text(comp, '#start-date-picker'), '2026-12-08');
    assert.equal(text(comp, '#start-time-picker'), '09:00');
    assert.equal(text(comp, '#remind-picker'), '15 分钟');
    assert.match(text(comp, '#room-1'), /301 · 3楼 · 20人\s*2026-12-08 全天空闲\s*已选/);
    assert.match(text(comp, '#room-2'), /已占用 12-08 09:00–10:00 周会\s*时间冲突/);
    assert.match(text(comp, '#person-5'), /李四 · 列席者\s*移除/);
    assert.equal(text(comp, '#approver'), '任一管理员');
    assert.equal(text(comp, '#publish-button'), '提交审核');
    assert.equal(text(comp, '#draft-button'), '保存草稿');

    const pick = await fire(comp, '#start-date-picker', 'change', { value: '2026-12-09' });
    assert.deepEqual(pick.map((c) => c.method), ['onStartDateChange']);
    assert.equal(pick[0].event.detail.value, '2026-12-09');
    for (const [sel, method] of [['#start-time-picker', 'onStartTimeChange'], ['#end-date-picker', 'onEndDateChange'], ['#end-time-picker', 'onEndTimeChange'], ['#remind-picker', 'onRemindChange']])
      assert.deepEqual((await fire(comp, sel, 'change', { value: '1' })).map((c) => c.method), [method]);
    for (const [sel, method] of [['#title-input', 'onTitleInput'], ['#content-input', 'onContentInput'], ['#keyword-input', 'onKeywordInput']])
      assert.deepEqual((await fire(comp, sel, 'input', { value: 'x' })).map((c) => c.method), [method]);
    assert.deepEqual((await fire(comp, '#keyword-input', 'confirm', { value: 'x' })).map((c) => c.method), ['onSearch']);
    const room = await assertFires(comp, '#room-2', 'tap', 'onRoomTap');
    assert.equal(room.currentTarget.dataset.id, 2);
    await assertFires(comp, '#search-button', 'tap', 'onSearch');
    assert.equal((await assertFires(comp, '#add-6', 'tap', 'onAddPerson')).currentTarget.dataset.id, 6);
    assert.equal((await assertFires(comp, '#approver-6', 'tap', 'onSetApprover')).currentTarget.dataset.id, 6);
    assert.equal((await assertFires(comp, '#role-5', 'tap', 'onToggleRole')).currentTarget.dataset.id, 5);
    assert.equal((await assertFires(comp, '#remove-5', 'tap', 'onRemovePerson')).currentTarget.dataset.id, 5);
    await assertFires(comp, '#publish-button', 'tap', 'onPublish');
    await assertFires(comp, '#draft-button', 'tap', 'onSaveDraft');
    assert.equal((await assertFires(comp, '#mode-location', 'tap', 'onPlaceModeTap')).currentTarget.dataset.mode, 'location');

    comp.setData({ placeMode: 'location', approver: { id: 6, name: '王五' } });
    assert.equal(comp.querySelector('#rooms'), undefined);
    assert.deepEqual((await fire(comp, '#location-input', 'input', { value: '线上' })).map((c) => c.method), ['onLocationInput']);
    assert.equal(text(comp, '#approver'), '王五');
    await assertFires(comp, '#clear-approver', 'tap', 'onClearApprover');
    comp.setData({ stale: true });
    assert.match(text(comp, '#stale'), /已被他人修改/);
    comp.setData({ denied: 'state' });
    assert.equal(text(comp, '#not-editable'), '该会议当前状态不可编辑');
  });

  test('meeting/detail: fields, attendees with answers, history, and only the buttons of `actions`', async () => {
    const { comp } = render('pages/meeting/detail/detail');
    comp.setData({
      loaded: true,
      m: { title: '周例会', state: 3, stateName: '驳回', reason: '时间冲突', timeText: '12-07 09:00–10:00', place: '301（3楼）', hostName: '张三', approverName: '任一管理员', remindMinutes: 15, content: '议程', myRoleText: '主持人' },
      attendees: [
        { userId: 1, name: '张三', roleText: '主持人', department: '', answer: 'attend', answerText: '参加', reason: '' },
        { userId: 2, name: '李四', roleText: '参与者', department: '市场部', answer: 'decline', answerText: '不参加', reason: '出差' },
      ],
      answers: { attend: 1, decline: 1, none: 0 },
      history: [{ fromName: '新建', toName: '待审核', userName: '张三', time: '2026-12-06 10:00:00', reason: '' }],
      can: { update: true, submit: true, cancel: true },
      needsReason: true,
    });
    assert.equal(text(comp, '#title'), '周例会');
    assert.equal(text(comp, '#state'), '驳回');
    assert.equal(text(comp, '#reason'), '驳回原因：时间冲突');
    assert.equal(text(comp, '#time'), '12-07 09:00–10:00');
    assert.equal(text(comp, '#place'), '301（3楼）');
    assert.equal(text(comp, '#approver'), '任一管理员');
    assert.equal(text(comp, '#answers'), '参会人（参加 1 · 不参加 1 · 未答复 0）');
    assert.match(text(comp, '#attendee-2'), /李四 · 参与者 · 市场部\s*原因：出差\s*不参加/);
    assert.match(text(comp, '#history-0'), /新建 → 待审核 · 张三\s*2026-12-06 10:00:00/);
    for (const id of ['edit', 'submit', 'cancel']) assert.ok(comp.querySelector(`#${id}-button`), id);
    for (const id of ['approve', 'reject', 'attend', 'decline', 'archive']) assert.equal(comp.querySelector(`#${id}-button`), undefined, `no ${id} button`);
    await assertFires(comp, '#edit-button', 'tap', 'onEdit');
    await assertFires(comp, '#submit-button', 'tap', 'onSubmit');
    await assertFires(comp, '#cancel-button', 'tap', 'onCancel');
    assert.deepEqual((await fire(comp, '#reason-input', 'input', { value: 'x' })).map((c) => c.method), ['onReasonInput']);

    comp.setData({ can: { approve: true, reject: true }, 'm.state': 2, 'm.reason': '' });
    assert.equal(text(comp, '#reason'), null);
    await assertFires(comp, '#approve-button', 'tap', 'onApprove');
    await assertFires(comp, '#reject-button', 'tap', 'onReject');
    assert.equal(comp.querySelector('#edit-button'), undefined);
    comp.setData({ can: { feedback: true, archive: true } });
    await assertFires(comp, '#attend-button', 'tap', 'onAttend');
    await assertFires(comp, '#decline-button', 'tap', 'onDecline');
    await assertFires(comp, '#archive-button', 'tap', 'onArchive');
    comp.setData({ can: {}, needsReason: false });
    assert.equal(comp.querySelector('#reason-input'), undefined, 'no reason box without an action that needs one');
    comp.setData({ denied: 'permission' });
    assert.equal(text(comp, '#denied'), '你不在该会议中，无权查看');
  });

  test('meeting/detail: 投票 entry; minutes: the host\'s editor and uploads, a reader\'s text and attachments', async () => {
    const { comp } = render('pages/meeting/detail/detail');
    comp.setData({ loaded: true, m: { title: '周例会', state: 4, stateName: '待开' }, can: {} });
    await assertFires(comp, '#votes-link', 'tap', 'onVotes');
    assert.equal(comp.querySelector('#attachments'), undefined, 'no minutes before the end');

    comp.setData({
      'm.state': 6,
      'm.hasMinutes': false,
      can: { archive: true },
      hasMinutesPart: true,
      canWriteMinutes: true,
      minutesDraft: '一、议定事项',
      minutesDirty: true,
      minutes: { text: '', authorName: '', updateTime: '', attachments: [{ id: 3, name: '预算.pdf', contentType: 'application/pdf', sizeText: '12.5 KB', addTime: '2026-12-07 11:00:00' }] },
    });
    assert.ok(comp.querySelector('#minutes-input'), 'the host\'s editor');
    assert.equal(text(comp, '#minutes-count'), '未保存 · 最多 20000 字');
    assert.equal(text(comp, '#minutes-needed'), '归档前请先填写并保存会议纪要');
    assert.deepEqual((await fire(comp, '#minutes-input', 'input', { value: 'x' })).map((c) => c.method), ['onMinutesInput']);
    await assertFires(comp, '#save-minutes-button', 'tap', 'onSaveMinutes');
    await assertFires(comp, '#upload-button', 'tap', 'onUpload');
    assert.match(text(comp, '#attachment-3'), /预算\.pdf\s*12\.5 KB · 2026-12-07 11:00:00\s*删除/);
    assert.equal((await assertFires(comp, '#attachment-3', 'tap', 'onOpenAttachment')).currentTarget.dataset.id, 3);
    const del = await fire(comp, '#delete-attachment-3', 'tap');
    assert.deepEqual(del.map((c) => c.method), ['onDeleteAttachment'], 'catchtap: deleting does not also open it');
    assert.equal(text(comp, '#no-minutes'), null);

    comp.setData({
      canWriteMinutes: false,
      can: {},
      'm.hasMinutes': true,
      minutes: { text: '纪要正文\n第二行', authorName: '张三', updateTime: '2026-12-07 11:05:00', attachments: [] },
    });
    assert.equal(comp.querySelector('#minutes-input'), undefined, 'a reader has no editor');
    assert.equal(comp.querySelector('#upload-button'), undefined);
    assert.equal(comp.querySelector('#minutes-needed'), undefined);
    assert.match(text(comp, '#minutes-text'), /纪要正文\s*第二行/);
    assert.equal(text(comp, '#minutes-meta'), '张三 · 2026-12-07 11:05:00');
    assert.equal(text(comp, '#no-attachments'), '暂无附件');
    comp.setData({ 'minutes.text': '' });
    assert.equal(text(comp, '#no-minutes'), '暂无会议纪要');
  });

  test('meeting/vote: choosing and 投票, results with voters, the outcome, the host\'s buttons and form', async () => {
    const { comp } = render('pages/meeting/vote/vote');
    assert.equal(comp.querySelector('#no-votes'), undefined, 'nothing before the page has loaded');
    const options = [
      { id: 11, text: '同意', count: 2, percent: 67, voterNames: '李四、赵六', passed: true, mine: true, chosen: false },
      { id: 12, text: '反对', count: 1, percent: 33, voterNames: '王五', passed: false, mine: false, chosen: true },
    ];
    comp.setData({
      loaded: true,
      meetingTitle: '周例会',
      stateName: '进行中',
      canVote: true,
      votes: [
        { id: 1, title: '预算方案', state: 'open', stateText: '投票中', rulesText: '单选 · 实名 · 过半数通过', votes: 0, present: 3, choosing: true, multiple: false, anonymous: false, voted: false, outcome: '', options },
        { id: 2, title: '年会地点', state: 'closed', stateText: '已结束', rulesText: '单选 · 实名 · 过半数通过', votes: 3, present: 3, choosing: false, multiple: false, anonymous: false, voted: true, outcome: 'passed', options },
        { id: 3, title: '匿名评议', state: 'closed', stateText: '已结束', rulesText: '单选 · 匿名 · 三分之二通过', votes: 3, present: 3, choosing: false, multiple: false, anonymous: true, voted: true, outcome: 'failed', options },
      ],
    });
    assert.equal(text(comp, '#meeting-title'), '周例会');
    assert.equal(text(comp, '#vote-rules-1'), '单选 · 实名 · 过半数通过 · 已投 0 票 · 签到 3 人');
    assert.equal(text(comp, '#option-1-11'), '同意');
    assert.equal(text(comp, '#option-1-12'), '✓反对', 'the chosen option is marked');
    const opt = await assertFires(comp, '#option-1-12', 'tap', 'onOptionTap');
    assert.deepEqual([opt.currentTarget.dataset.vote, opt.currentTarget.dataset.option], [1, 12]);
    assert.equal(text(comp, '#cast-1'), '投票');
    assert.equal((await assertFires(comp, '#cast-1', 'tap', 'onCast')).currentTarget.dataset.vote, 1);
    assert.equal(comp.querySelector('#result-1-11'), undefined, 'no results while choosing');
    assert.match(text(comp, '#result-2-11'), /同意（我的选择）\s*2 票 · 67%\s*通过\s*李四、赵六/);
    assert.equal(text(comp, '#outcome-2'), '表决结果：通过');
    assert.equal(text(comp, '#voted-2'), '你已投票');
    assert.doesNotMatch(text(comp, '#result-3-11'), /李四/, 'an anonymous vote names nobody');
    assert.equal(text(comp, '#outcome-3'), '表决结果：未通过');
    assert.match(text(comp, '#voted-3'), /匿名/);
    assert.equal(comp.querySelector('#open-1'), undefined, 'a participant has no host buttons');
    assert.equal(comp.querySelector('#new-vote-button'), undefined);

    // miniprogram-simulate drops built-in components' attributes: the button's disabled binding
    // is checked in the source (while a ballot is in flight every 投票 button is disabled).
    const cast = tagsOf(read('pages/meeting/vote/vote.wxml')).find((t) => t.attrs.bindtap === 'onCast');
    assert.equal(cast.tag, 'button');
    assert.equal(cast.attrs.disabled, '{{casting !== 0}}');
    const textarea = tagsOf(read('pages/meeting/detail/detail.wxml')).find((t) => t.attrs.id === 'minutes-input');
    assert.equal(textarea.attrs.maxlength, '{{minutesMax}}', 'a textarea holds 140 characters unless told');

    comp.setData({
      casting: 0,
      canManage: true,
      canOpen: true,
      canCreate: true,
      votes: [
        { id: 4, title: '草稿', state: 'draft', stateText: '未开始', rulesText: '单选 · 实名', votes: 0, present: 0, choosing: false, options: [] },
        { id: 5, title: '进行中', state: 'open', stateText: '投票中', rulesText: '单选 · 实名', votes: 0, present: 0, choosing: false, options: [] },
      ],
    });
    assert.equal((await assertFires(comp, '#open-4', 'tap', 'onOpenVote')).currentTarget.dataset.vote, 4);
    assert.equal((await assertFires(comp, '#close-5', 'tap', 'onCloseVote')).currentTarget.dataset.vote, 5);
    assert.equal(comp.querySelector('#close-4'), undefined);
    assert.equal(comp.querySelector('#open-5'), undefined);
    comp.setData({ canOpen: false });
    assert.equal(comp.querySelector('#open-4'), undefined, 'not before the meeting is approved');
    assert.match(text(comp, '#vote-4'), /会议通过审批后才能开始投票/);

    await assertFires(comp, '#new-vote-button', 'tap', 'onToggleForm');
    comp.setData({ showForm: true, formOptions: ['同意', '反对', '弃权'], maxOptions: ['最多2项', '最多3项'], maxIndex: 1 });
    assert.equal(comp.querySelector('#new-vote-button'), undefined);
    assert.deepEqual((await fire(comp, '#vote-title-input', 'input', { value: 'x' })).map((c) => c.method), ['onFormTitleInput']);
    const input = await fire(comp, '#option-input-2', 'input', { value: 'x' });
    assert.deepEqual([input.map((c) => c.method), input[0].event.currentTarget.dataset.index], [['onOptionInput'], 2]);
    assert.equal((await assertFires(comp, '#remove-option-1', 'tap', 'onRemoveOption')).currentTarget.dataset.index, 1);
    await assertFires(comp, '#add-option', 'tap', 'onAddOption');
    assert.equal(text(comp, '#type-picker'), '单选');
    assert.equal(comp.querySelector('#max-picker'), undefined, 'no maximum for a single choice');
    assert.deepEqual((await fire(comp, '#type-picker', 'change', { value: '1' })).map((c) => c.method), ['onTypeChange']);
    comp.setData({ typeIndex: 1 });
    assert.equal(text(comp, '#max-picker'), '最多3项');
    assert.deepEqual((await fire(comp, '#max-picker', 'change', { value: '0' })).map((c) => c.method), ['onMaxChange']);
    assert.equal(text(comp, '#rule-picker'), '不设通过规则');
    assert.deepEqual((await fire(comp, '#rule-picker', 'change', { value: '1' })).map((c) => c.method), ['onRuleChange']);
    assert.equal((await assertFires(comp, '#anonymous-chip', 'tap', 'onAnonymousTap')).currentTarget.dataset.value, 'anonymous');
    assert.match(comp.querySelector('#named-chip').dom.className, /chip--on/);
    await assertFires(comp, '#create-vote-button', 'tap', 'onCreate');
    await assertFires(comp, '#cancel-form-button', 'tap', 'onToggleForm');
    comp.setData({ formOptions: ['a', 'b'] });
    assert.equal(comp.querySelector('#remove-option-0'), undefined, 'two options cannot lose one');

    comp.setData({ votes: [], showForm: false });
    assert.equal(text(comp, '#no-votes'), '暂无投票');
    comp.setData({ denied: 'permission' });
    assert.equal(text(comp, '#denied'), '你不在该会议中，无权查看投票');
  });

  test('member/join: the form; pending and refused notices; a member is told so', async () => {
    const { comp } = render('pages/member/join/join');
    assert.match(text(comp, '#need-login'), /请先登录/);
    await assertFires(comp, '#login-button', 'tap', 'goLogin');
    comp.setData({ hasLogin: true, membership: 'none' });
    for (const id of ['#name-input', '#department-input', '#invite-input']) assert.ok(comp.querySelector(id), id);
    assert.equal(text(comp, '#submit-button'), '加入组织');
    const submit = await fire(comp, '#join-form', 'submit', { value: { name: 'x' } });
    assert.deepEqual(submit.map((c) => c.method), ['onSubmit']);
    comp.setData({ membership: 'pending' });
    assert.match(text(comp, '#pending'), /等待管理员审核/);
    assert.equal(text(comp, '#submit-button'), '重新提交');
    comp.setData({ membership: 'none', rejectReason: '请用真名' });
    assert.equal(text(comp, '#reject-reason'), '上次申请未通过：请用真名');
    comp.setData({ membership: 'member', name: '李四' });
    assert.equal(text(comp, '#already-member'), '你已是组织成员：李四');
    assert.equal(comp.querySelector('#name-input'), undefined);
    await assertFires(comp, '#home-button', 'tap', 'goHome');
  });

  test('member/requests: requests with 通过/驳回, the invite form and codes; the non-admin notice', async () => {
    const { comp } = render('pages/member/requests/requests');
    comp.setData({
      loaded: true,
      total: 1,
      requests: [{ userId: 4, name: '李四', department: '市场部', nickName: 'li', avatar: '', requestText: '12-06 10:00' }],
      invites: [{ id: 1, code: 'AbCdEfGhIjKlMnOp', used: 2, maxUses: 10, expireTime: '2026-12-13 10:00:00', revoked: false }],
      newCode: 'AbCdEfGhIjKlMnOp',
    });
    assert.match(text(comp, '#request-4'), /李四 · 市场部\s*li 申请于 12-06 10:00\s*通过\s*驳回/);
    assert.equal((await assertFires(comp, '#approve-4', 'tap', 'onApprove')).currentTarget.dataset.id, 4);
    assert.equal((await assertFires(comp, '#reject-4', 'tap', 'onReject')).currentTarget.dataset.id, 4);
    assert.deepEqual((await fire(comp, '#reason-input', 'input', { value: 'x' })).map((c) => c.method), ['onReasonInput']);
    assert.equal(text(comp, '#uses-picker'), '50 次');
    assert.equal(text(comp, '#days-picker'), '7 天');
    assert.deepEqual((await fire(comp, '#uses-picker', 'change', { value: '0' })).map((c) => c.method), ['onUsesChange']);
    assert.deepEqual((await fire(comp, '#days-picker', 'change', { value: '0' })).map((c) => c.method), ['onDaysChange']);
    await assertFires(comp, '#invite-button', 'tap', 'onCreateInvite');
    assert.equal(text(comp, '#new-code'), '新邀请码：AbCdEfGhIjKlMnOp');
    assert.match(text(comp, '#invite-1'), /AbCdEfGhIjKlMnOp\s*已用 2\/10 · 至 2026-12-13 10:00:00/);
    assert.equal((await assertFires(comp, '#invite-1', 'tap', 'onCopyCode')).currentTarget.dataset.code, 'AbCdEfGhIjKlMnOp');
    comp.setData({ requests: [], total: 0 });
    assert.equal(text(comp, '#no-requests'), '没有待审批的申请');
    comp.setData({ denied: 'admin' });
    assert.equal(text(comp, '#denied'), '仅管理员可以审批成员');
    assert.equal(comp.querySelector('#request-list'), undefined);
  });
});
