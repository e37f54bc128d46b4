// The console as an operator's daily tool, in Chromium: every page in Chinese (and in English when switched), the
// live grid of the vendor clients (drag a camera or a unit in, maximize and back, change the split while tiles keep
// playing, saved views, the layout back after a reload), and screenshots of each page at two screen sizes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, login, openConsole, setFaults, startGateway, waitFor, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
let browser: Browser;
const SHOTS = join('var', 'screenshots');

beforeAll(async () => {
  gw = await startGateway({ cameras: 3000, withConsole: true, health: { enabled: true, intervalSeconds: 2, retryDelaySeconds: 0.2, backoffMaxSeconds: 2 } });
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
  // A wall of the city centre, a few cameras on it, for the wall page's pictures.
  const cookie = await login(gw, 'city-admin');
  const made = await gw.gateway.http.inject({ method: 'POST', url: '/api/walls', headers: { cookie }, payload: { name: '市综治中心大屏', unit: gw.gateway.access.tree.root.code, rows: 2, cols: 3, split: 4 } });
  expect(made.statusCode, made.body).toBe(201);
  const wall = made.json<{ id: number; version: number }>();
  let version = wall.version;
  for (const [i, camera] of gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code).slice(0, 3).entries()) {
    const r = await gw.gateway.http.inject({ method: 'POST', url: `/api/walls/${wall.id}/commands`, headers: { cookie }, payload: { version, command: { op: 'assign', target: { screen: i, tile: 0 }, camera } } });
    version = r.json<{ version: number }>().version;
  }
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const unitOf = (username: string) => gw.gateway.catalog.userWithHash(username)!.user.unit;
const PAGES = ['live', 'wall', 'rooms', 'map', 'events', 'health', 'grants', 'users', 'audit', 'cameras', 'onboard', 'import'] as const;

/**
 * visibleStrings lists the text a person sees on the page: text nodes of rendered elements, placeholders, the
 * chosen option of each select, and titles of buttons (shown on hover).
 */
function visibleStrings(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const shown = (el: Element | null): boolean => {
      for (let e = el; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.display === 'none' || s.visibility === 'hidden') return false;
      }
      return true;
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      if (!parent || ['SCRIPT', 'STYLE', 'OPTION', 'TITLE'].includes(parent.tagName)) continue;
      const text = n.textContent?.trim();
      if (text && shown(parent)) out.push(text);
    }
    for (const el of Array.from(document.querySelectorAll<HTMLInputElement>('input[placeholder]'))) if (shown(el)) out.push(el.placeholder);
    for (const el of Array.from(document.querySelectorAll<HTMLSelectElement>('select'))) if (shown(el) && el.selectedOptions[0]) out.push(el.selectedOptions[0].text);
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('button[title], a[title]'))) if (shown(el) && el.title) out.push(el.title);
    return out;
  });
}

/** NAMES_AND_CODES are words that stay as they are in every language: protocols, formats, shortcuts, units of measure. */
const NAMES_AND_CODES = new Set(['WebRTC', 'LL-HLS', 'HLS', 'ONVIF', 'RTSP', 'RTMP', 'TCP', 'UDP', 'CSV', 'JSON', 'UTF-8', 'GBK', 'GB18030', 'WS-Discovery', 'ms', 'English',
  'PageDown', 'PageUp', 'Delete', 'Enter', 'Tab', 'Ctrl', 'F', 'Webhook', 'kbps', 'fps', 'H264', 'H265', 'id', 'name', 'unit', 'kind', 'latitude', 'longitude', 'main_url', 'sub_url', 'onvif_url',
  'username', 'password', 'http', 'https', 'rtsp', 'onvif', 'device_service', 'SharpEyes', 'RTP',
  // Browsers and systems in the sessions list are names.
  'Chrome', 'Firefox', 'Edge', 'Safari', 'Linux', 'Windows', 'macOS', 'Android', 'iOS']);

/** english finds the Latin words of the strings that are not names, codes, the users' own names or addresses. */
function english(strings: string[], data: Set<string>): string[] {
  const out = new Set<string>();
  for (const s of strings) {
    if (data.has(s)) continue;
    const bare = s.replace(/https?:\/\/\S+|rtsps?:\/\/\S+|\b[\w.-]+@[\w.-]+\b|\b[0-9a-f]{8,}\b/g, ' ');
    // A word is a run of letters, digits, - and _ with two letters or more (UTF-8 and H264 are words; 1280 is not).
    for (const w of bare.split(/[^A-Za-z0-9_-]+/).map((x) => x.replace(/^-+|-+$/g, ''))) {
      if ((w.match(/[A-Za-z]/g) ?? []).length >= 2 && !NAMES_AND_CODES.has(w) && !data.has(w)) out.add(`${w} (in "${s.slice(0, 60)}")`);
    }
  }
  return [...out];
}

/** chinese finds the strings with Chinese characters left once the data (unit, camera and person names) is taken out. */
function chinese(strings: string[], data: Set<string>): string[] {
  const names = [...data].filter((n) => /[\u4e00-\u9fff]/.test(n)).sort((x, y) => y.length - x.length);
  return [...new Set(strings.filter((s) => {
    if (!/[\u4e00-\u9fff]/.test(s)) return false;
    let rest = s;
    for (const n of names) if (rest.includes(n)) rest = rest.split(n).join(' ');
    return /[\u4e00-\u9fff]/.test(rest);
  }))];
}

async function visit(page: Page, p: (typeof PAGES)[number]): Promise<void> {
  await page.click(`[data-testid=nav-${p}]`);
  const ready: Record<string, string> = {
    live: '[data-testid=grid]', map: '[data-testid=map-page][data-cameras]:not([data-cameras=""])', events: '[data-testid=events-page]', cameras: '[data-testid=cameras-page]', health: '[data-testid=health-page]', grants: '[data-testid=grants-page]', users: '[data-testid=users-table]',
    audit: '[data-testid=audit-table]', onboard: '[data-testid=onboard-page]', import: '[data-testid=import-page]', wall: '[data-testid=mini-map] [data-testid=mini-pic]', rooms: '[data-testid=rooms-page]',
  };
  await page.waitForSelector(ready[p]!);
}

/** dataNames are the names the catalog holds: they are the users' data, in whatever language they were written. */
function dataNames(): Set<string> {
  const names = new Set<string>();
  const units = gw.gateway.access.tree.units();
  for (const u of units) names.add(u.name);
  for (const c of gw.gateway.catalog.summaries()) names.add(c.name);
  for (const u of gw.gateway.catalog.usersIn(units.map((x) => x.code))) { names.add(u.displayName); names.add(u.username); }
  for (const w of gw.gateway.walls.list({ userId: 0, unit: gw.gateway.access.tree.root.code, roles: ['admin'] })) names.add(w.name);
  return names;
}

describe('the console speaks the user\'s language', () => {
  it('shows every page in Chinese with no English left, and in English when switched; screenshots at 1600×900 and 1366×768', async () => {
    const data = dataNames();
    for (const viewport of [{ width: 1600, height: 900 }, { width: 1366, height: 768 }]) {
      const page = await openConsole(browser, gw.url, 'city-admin', undefined, viewport);
      try {
        await page.waitForSelector('[data-testid=tree-unit]');
        for (const p of PAGES) {
          await visit(page, p);
          // The layout holds: nothing runs off the right edge of the screen.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow, `page ${p} at ${viewport.width}×${viewport.height} is wider than the screen`).toBeLessThanOrEqual(0);
          expect(english(await visibleStrings(page), data), `English on page ${p}`).toEqual([]);
          await page.screenshot({ path: join(SHOTS, `${p}-${viewport.width}x${viewport.height}-zh.png`) });
        }
        await page.selectOption('[data-testid=lang-switch]', 'en');
        for (const p of PAGES) {
          await visit(page, p);
          expect(chinese(await visibleStrings(page), data), `Chinese on page ${p} in English`).toEqual([]);
          await page.screenshot({ path: join(SHOTS, `${p}-${viewport.width}x${viewport.height}-en.png`) });
        }
        // The choice is kept: the login page of the next visit speaks English too.
        await page.click('[data-testid=user-menu]');
        await page.click('[data-testid=logout]');
        await page.waitForSelector('[data-testid=login-form]');
        expect(await page.textContent('[data-testid=login-form] button[type=submit]')).toBe('Log in');
        await page.selectOption('[data-testid=lang-switch]', 'zh-CN');
        expect(await page.textContent('[data-testid=login-form] button[type=submit]')).toBe('登录');
        await page.screenshot({ path: join(SHOTS, `login-${viewport.width}x${viewport.height}.png`) });
      } finally {
        await page.close();
      }
    }
  });
});

/** frames reads a tile's decoded frame count, and whether its video element is still the one marked earlier. */
function frames(page: Page, index: number): Promise<{ frames: number; marked: boolean }> {
  return page.$eval(`[data-testid=tile][data-index="${index}"] video`, (v) => ({
    frames: (v as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames,
    marked: (v as HTMLVideoElement & { seMark?: boolean }).seMark === true,
  }));
}

describe('the live grid', () => {
  it('takes a camera and a whole unit by drag and drop, maximizes a tile and back, and refuses a camera twice with a notice', async () => {
    const page = await openConsole(browser, gw.url, 'township-operator');
    try {
      const township = unitOf('township-operator');
      const first = gw.gateway.access.tree.children(township)[0]!;
      await page.waitForSelector(`[data-testid=tree-unit][data-code="${township}"]`);
      await page.click(`[data-testid=tree-unit][data-code="${first.code}"]`);
      const camera = gw.gateway.access.camerasUnder(first.code)[0]!;
      await page.dragAndDrop(`[data-testid=tree-camera][data-camera="${camera}"]`, '[data-testid=tile][data-index="3"]');
      await page.waitForSelector(`[data-testid=tile][data-index="3"][data-camera="${camera}"][data-state=live]`, { timeout: 20_000 });

      // The same camera onto another tile: refused, with a notice naming where it plays.
      await page.dragAndDrop(`[data-testid=tree-camera][data-camera="${camera}"]`, '[data-testid=tile][data-index="1"]');
      await page.waitForSelector('[data-testid=grid-notice]');
      expect(await page.textContent('[data-testid=grid-notice]')).toMatch(/已在窗口 4 播放$/);
      expect(await page.getAttribute('[data-testid=tile][data-index="1"]', 'data-camera')).toBe('');

      // The whole township onto the first tile of a 9 split fills the tiles in the tree's order, and PageDown shows
      // the next nine.
      await page.click('[data-testid=layout-9]');
      await page.dragAndDrop(`[data-testid=tree-unit][data-code="${township}"]`, '[data-testid=tile][data-index="0"]');
      const all = gw.gateway.access.camerasUnder(township);
      expect(all.length).toBeGreaterThan(18);
      const tilesShow = (want: string[]) => waitFor(`the tiles to show ${want.join(',')}`, async () => {
        const shown = await page.$$eval('[data-testid=tile]', (els) => els.slice(0, 9).map((e) => e.getAttribute('data-camera')));
        return JSON.stringify(shown) === JSON.stringify(want);
      });
      await tilesShow(all.slice(0, 9));
      await page.click('[data-testid=tile][data-index="4"]');
      await page.keyboard.press('PageDown');
      await tilesShow(all.slice(9, 18));
      await page.keyboard.press('PageUp');
      await tilesShow(all.slice(0, 9));
      await page.waitForSelector('[data-testid=tile][data-index="0"][data-state=live]', { timeout: 20_000 });

      // Double-click maximizes a tile (the others are hidden, not stopped), double-click again brings the grid back.
      await page.dblclick('[data-testid=tile][data-index="0"] video');
      await page.waitForSelector('[data-testid=grid][data-maximized="0"]');
      expect(await page.getAttribute('[data-testid=tile][data-index="1"]', 'data-visible')).toBe('false');
      const box = (await (await page.$('[data-testid=tile][data-index="0"]'))!.boundingBox())!;
      const grid = (await (await page.$('[data-testid=grid]'))!.boundingBox())!;
      expect(box.width).toBeGreaterThan(grid.width * 0.95);
      await page.dblclick('[data-testid=tile][data-index="0"] video');
      await page.waitForSelector('[data-testid=grid][data-maximized=""]');
      expect(await page.getAttribute('[data-testid=tile][data-index="1"]', 'data-visible')).toBe('true');
      // The keyboard: Enter maximizes the selected tile, Escape restores it, Delete closes it.
      await page.click('[data-testid=tile][data-index="2"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid=grid][data-maximized="2"]');
      await page.keyboard.press('Escape');
      await page.waitForSelector('[data-testid=grid][data-maximized=""]');
      await page.keyboard.press('Delete');
      await page.waitForSelector('[data-testid=tile][data-index="2"][data-camera=""]');
      await page.keyboard.press('5');
      await page.waitForSelector('[data-testid=grid][data-split="9"]');
      await page.keyboard.press('6');
      await page.waitForSelector('[data-testid=grid][data-split="16"]');
    } finally {
      await page.close();
    }
  });

  it('changes the split without restarting a playing tile: the same player, frames going on, no new WebRTC view', async () => {
    const page = await openConsole(browser, gw.url, 'city-admin');
    try {
      const camera = gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code)[42]!;
      await page.waitForSelector('[data-testid=tree-search]');
      await page.click('[data-testid=layout-4]');
      await page.fill('[data-testid=tree-search]', camera);
      await page.dblclick(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${camera}"]`);
      const tile = `[data-testid=tile][data-camera="${camera}"]`;
      await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 20_000 });
      const index = Number(await page.getAttribute(tile, 'data-index'));
      await page.$eval(`${tile} video`, (v) => { (v as HTMLVideoElement & { seMark?: boolean }).seMark = true; });
      const views = () => gw.gateway.webrtc!.sessions.filter((s) => s.camera === camera).map((s) => s.id).sort();
      const before = views();
      expect(before).toHaveLength(1);
      for (const split of [9, 16, 6, 25, 8, 4]) {
        const a = await frames(page, index);
        await page.click(`[data-testid=layout-${split}]`);
        await page.waitForSelector(`[data-testid=grid][data-split="${split}"]`);
        const b = await waitFor(`frames to go on after the change to ${split}`, async () => {
          const f = await frames(page, index);
          return f.frames > a.frames + 5 && f;
        }, 10_000, 100);
        expect(b.marked, `the tile's video element was replaced at split ${split}`).toBe(true);
        expect(await page.getAttribute(tile, 'data-state')).toBe('live');
      }
      expect(views()).toEqual(before);
      // Other pages and back: the tile played on meanwhile (the same element and WebRTC view, more frames).
      const a = await frames(page, index);
      await page.click('[data-testid=nav-health]');
      await page.waitForSelector('[data-testid=health-page]');
      await waitFor('frames decoded while the grid is away', async () => (await frames(page, index)).frames > a.frames + 10, 10_000, 100);
      await page.click('[data-testid=nav-live]');
      await page.waitForSelector(`${tile}[data-state=live]`);
      const back = await frames(page, index);
      expect(back.marked).toBe(true);
      expect(views()).toEqual(before);
    } finally {
      await page.close();
    }
  });

  it('saves a named view, restores the last layout after a reload, and recalls the view; a shared view reaches the unit only', async () => {
    const cams: string[] = [];
    const page = await openConsole(browser, gw.url, 'township-operator');
    try {
      cams.push(...gw.gateway.access.camerasUnder(unitOf('township-operator')).slice(10, 13));
      await page.waitForSelector('[data-testid=tree-search]');
      await page.click('[data-testid=grid-close-all]');
      await page.click('[data-testid=layout-6]');
      for (const [i, c] of cams.entries()) {
        await page.fill('[data-testid=tree-search]', c);
        await page.dragAndDrop(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${c}"]`, `[data-testid=tile][data-index="${i * 2}"]`);
        await page.waitForSelector(`[data-testid=tile][data-index="${i * 2}"][data-camera="${c}"]`);
      }
      await page.fill('[data-testid=tree-search]', '');
      const name = `路口巡查 ${Date.now() % 10_000}`;
      await page.click('[data-testid=views-open]');
      await page.fill('[data-testid=view-name]', name);
      await page.click('[data-testid=view-share]');
      await page.click('[data-testid=view-save]');
      await page.waitForSelector(`[data-testid=view-row][data-name="${name}"]`);

      // After a reload the grid comes back as it was left.
      await page.reload();
      await page.waitForSelector('[data-testid=grid][data-split="6"]');
      for (const [i, c] of cams.entries()) await page.waitForSelector(`[data-testid=tile][data-index="${i * 2}"][data-camera="${c}"]`);

      // Another split, other cameras; then the view brings its own back.
      await page.click('[data-testid=grid-close-all]');
      await page.click('[data-testid=layout-16]');
      await page.click('[data-testid=views-open]');
      await page.click(`[data-testid=view-row][data-name="${name}"] [data-testid=view-load]`);
      await page.waitForSelector('[data-testid=grid][data-split="6"]');
      for (const [i, c] of cams.entries()) await page.waitForSelector(`[data-testid=tile][data-index="${i * 2}"][data-camera="${c}"][data-state=live]`, { timeout: 20_000 });
    } finally {
      await page.close();
    }
    // Shared within the unit: a colleague of the same township sees it; a village clerk below does not.
    const admin = await login(gw, 'county-admin');
    const made = await gw.gateway.http.inject({
      method: 'POST', url: '/api/users', headers: { cookie: admin },
      payload: { username: 'township-colleague', displayName: '同镇值班员', unit: unitOf('township-operator'), roles: ['operator'], password: 'Colleague#2026x' },
    });
    expect(made.statusCode).toBe(201);
    const viewsOf = async (username: string) => (await gw.gateway.http.inject({ method: 'GET', url: '/api/views', headers: { cookie: await login(gw, username, username === 'township-colleague' ? 'Colleague#2026x' : undefined) } }))
      .json<{ views: Array<{ name: string; mine: boolean; tiles: Array<{ camera: string } | null> }> }>().views;
    expect((await viewsOf('village-clerk')).filter((v) => v.name.startsWith('路口巡查'))).toEqual([]);
    const shared = (await viewsOf('township-colleague')).filter((v) => v.name.startsWith('路口巡查'));
    expect(shared).toHaveLength(1);
    expect(shared[0]!.mine).toBe(false);
    expect(shared[0]!.tiles.filter((t) => t).map((t) => t!.camera)).toEqual(cams);
  });
});

describe('PTZ from a tile', () => {
  it('fits a panel inside a 16-split tile, centres a clicked point, zooms with the wheel and steers with the arrow keys', async () => {
    const page = await openConsole(browser, gw.url, 'township-operator');
    try {
      const cam = gw.gateway.access.camerasUnder(unitOf('township-operator'))[2]!;
      await page.waitForSelector('[data-testid=tree-search]');
      await page.click('[data-testid=grid-close-all]');
      await page.click('[data-testid=layout-16]');
      await page.fill('[data-testid=tree-search]', cam);
      await page.dragAndDrop(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${cam}"]`, '[data-testid=tile][data-index="5"]');
      const tile = '[data-testid=tile][data-index="5"]';
      await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 20_000 });
      await page.click(`${tile} video`);
      await page.click(`${tile} [data-testid=tile-ptz]`);
      await page.waitForSelector(`${tile} [data-testid=ptz-centre]`);
      const t = (await (await page.$(tile))!.boundingBox())!;
      const p = (await (await page.$(`${tile} [data-testid=ptz-panel]`))!.boundingBox())!;
      expect(p.x).toBeGreaterThanOrEqual(t.x);
      expect(p.y).toBeGreaterThanOrEqual(t.y);
      expect(p.x + p.width).toBeLessThanOrEqual(t.x + t.width + 0.5);
      expect(p.y + p.height).toBeLessThanOrEqual(t.y + t.height + 0.5);

      const head = gw.simulator.onvif!.head(cam);
      const before = head.position();
      await page.click(`${tile} [data-testid=ptz-centre]`);
      // The tile takes clicks as places to centre once it shows the crosshair.
      await page.waitForSelector(`${tile}.tile-centring`);
      // A click on the picture's left part, on its middle line: the head turns left.
      const v = (await (await page.$(`${tile} video`))!.boundingBox())!;
      await page.mouse.click(v.x + v.width * 0.1, v.y + v.height / 2);
      // About 0.8 of half a picture to the left: 24° of the head's 360° at wide angle, less as the lens zooms in.
      const expected = (0.8 * 30) / 180 / (1 + 19 * before.zoom);
      await waitFor(`the head to turn left from ${JSON.stringify(before)}`, () => head.position().pan < before.pan - expected / 2, 5000, 50);
      expect(await page.getAttribute(tile, 'data-camera')).toBe(cam);
      // The wheel zooms in.
      await page.mouse.move(v.x + v.width / 2, v.y + v.height / 2);
      await page.mouse.wheel(0, -200);
      await waitFor('the lens to zoom in', () => head.position().zoom > before.zoom, 5000, 50);
      // An arrow key held on the selected tile pans; released, the head stops.
      await page.click(`${tile} [data-testid=ptz-centre]`);
      const pan0 = head.position().pan;
      await page.keyboard.down('ArrowRight');
      await waitFor('the head to pan right', () => head.position().pan > pan0 + 0.05, 5000, 50);
      await page.keyboard.up('ArrowRight');
      await waitFor('the head to stop', () => !head.moving().panTilt, 5000, 50);
    } finally {
      await page.close();
    }
  });
});

describe('the event centre and the map', () => {
  it('shows a camera going offline within a sweep, with its badge; the acknowledgement is kept after a reload', async () => {
    const page = await openConsole(browser, gw.url, 'township-operator');
    try {
      await page.waitForSelector('[data-testid=nav-events]');
      await page.click('[data-testid=nav-events]');
      await page.waitForSelector('[data-testid=events-connection][data-connected=true]');
      const camera = gw.gateway.access.camerasUnder(unitOf('township-operator')).at(-2)!;
      await waitFor('the camera online', () => gw.gateway.health.camera(camera)?.state === 'online', 20_000, 200);
      const t0 = Date.now();
      await setFaults(gw.simulator, camera, { offline: true });
      const row = `[data-testid=event-row][data-kind="camera.offline"][data-camera="${camera}"]`;
      // A sweep every 2 s and one retry 0.2 s later: the event is on the page within two sweeps of the fault.
      await page.waitForSelector(row, { timeout: 10_000 });
      console.log(`camera offline in the event centre ${Date.now() - t0} ms after the fault (sweep every 2 s)`);
      expect(await page.textContent(`${row} td:nth-child(3)`)).toMatch(/离线: (网络不通|设备无应答|设备拒绝了请求)/);
      expect(Number(await page.textContent('[data-testid=events-badge]'))).toBeGreaterThanOrEqual(1);
      await page.click(`${row} [data-testid=event-ack]`);
      await page.waitForSelector(`${row}[data-acked=true]`);
      await page.reload();
      await page.click('[data-testid=nav-events]');
      await page.waitForSelector(`${row}[data-acked=true] [data-testid=event-acked]`);
      expect(await page.textContent(`${row} [data-testid=event-acked]`)).toMatch(/值班员 确认于/);
    } finally {
      await page.close();
      await fetch(`${gw.simulator.controlUrl()}/cameras/${gw.gateway.access.camerasUnder(unitOf('township-operator')).at(-2)!}/faults`, { method: 'DELETE' });
    }
  });

  it('shows the clerk only her cameras on the map, on a plain background, and opens one on click', async () => {
    const mine = gw.gateway.access.camerasUnder(unitOf('village-clerk'));
    const page = await openConsole(browser, gw.url, 'village-clerk');
    try {
      await page.waitForSelector('[data-testid=nav-map]');
      await page.click('[data-testid=nav-map]');
      await page.waitForSelector(`[data-testid=map-page][data-cameras="${mine.length}"]`);
      expect(await page.getAttribute('[data-testid=map-page]', 'data-tiles')).toBe('false');
      await page.waitForSelector('[data-testid=map-no-tiles]');
      // Every marker on the map is one of hers, and together they count all of hers.
      const onMap = await waitFor('the markers', async () => {
        const singles = await page.$$eval('[data-testid=map-camera]', (els) => els.map((e) => e.getAttribute('data-camera')!));
        const clustered = await page.$$eval('[data-testid=map-cluster]', (els) => els.reduce((n, e) => n + Number(e.getAttribute('data-count')), 0));
        return singles.length + clustered === mine.length && singles;
      });
      expect(onMap.every((id) => mine.includes(id))).toBe(true);
      // Nothing was asked of any host but the gateway's own.
      const hosts = await page.evaluate(() => [...new Set(performance.getEntriesByType('resource').map((r) => new URL(r.name).host))]);
      expect(hosts).toEqual([new URL(gw.url).host]);
      if (onMap.length === 0) {
        await page.click('[data-testid=map-cluster]');
        await page.waitForSelector('[data-testid=map-camera]');
      }
      await page.click('[data-testid=map-camera] >> nth=0');
      await page.click('[data-testid=map-open]');
      await page.waitForSelector('[data-testid=tile][data-index="0"][data-state=live]', { timeout: 20_000 });
    } finally {
      await page.close();
    }
  });
});

describe('upkeep in the console', () => {
  it('finds a camera in the tree search and jumps to its place; edits it on the devices page; unlocks a locked account; finds both in the audit', async () => {
    const page = await openConsole(browser, gw.url, 'county-admin');
    try {
      const village = unitOf('village-clerk');
      const camera = gw.gateway.access.camerasUnder(village)[0]!;
      await page.waitForSelector('[data-testid=tree-search]');
      await page.fill('[data-testid=tree-search]', camera);
      await page.click(`[data-testid=search-reveal][data-camera="${camera}"]`);
      // The tree opens down to the camera's village and shows it.
      await page.waitForSelector(`[data-testid=tree-root] [data-testid=tree-camera][data-camera="${camera}"].tree-revealed`);
      expect(await page.getAttribute(`[data-testid=tree-unit][data-code="${village}"]`, 'aria-expanded')).toBe('true');

      // A click in the tree while the devices page is open picks the camera to edit.
      await page.click('[data-testid=nav-cameras]');
      await page.click(`[data-testid=tree-root] [data-testid=tree-camera][data-camera="${camera}"]`);
      await page.waitForSelector(`[data-testid=camera-form][data-camera="${camera}"]`);
      await page.fill('[data-testid=camera-name]', '村口北侧');
      await page.click('[data-testid=camera-save]');
      await page.waitForSelector('[data-testid=cameras-done]');
      expect(await page.textContent('[data-testid=cameras-done]')).toBe('已保存 村口北侧');
      expect(gw.gateway.catalog.camera(camera)!.name).toBe('村口北侧');
      // A wrong address is refused in words, and nothing changes.
      await page.fill('[data-testid=camera-mainUrl]', 'http://not-a-stream/');
      await page.click('[data-testid=camera-save]');
      await page.waitForSelector('[data-testid=cameras-error]');
      expect(await page.textContent('[data-testid=cameras-error]')).toBe('主码流地址 须以 rtsp:// rtsps:// 开头');

      // Wrong passwords lock the clerk's account for this address; the users page shows it and unlocks it.
      for (let i = 0; i < 6; i++) await gw.gateway.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'village-clerk-2', password: 'wrong-password' }, remoteAddress: '10.9.9.9' });
      await page.click('[data-testid=nav-users]');
      const row = '[data-testid=user-row][data-username=village-clerk-2]';
      await page.waitForSelector(`${row}[data-locked=true]`);
      expect(await page.textContent(`${row} [data-testid=user-lock]`)).toMatch(/已锁定 \(1 个地址/);
      await page.click(`${row} [data-testid=user-unlock]`);
      await page.waitForSelector(`${row}[data-locked=false]`);

      await page.click('[data-testid=nav-audit]');
      await page.selectOption('[data-testid=audit-action]', 'camera.change');
      await page.waitForSelector(`[data-testid=audit-row][data-action="camera.change"]`);
      expect(await page.textContent('[data-testid=audit-row][data-action="camera.change"] [data-testid=audit-action-text]')).toBe('修改摄像机');
      expect(await page.textContent('[data-testid=audit-row][data-action="camera.change"] [data-testid=audit-camera-cell]')).toContain('村口北侧');
    } finally {
      await page.close();
    }
  });
});
