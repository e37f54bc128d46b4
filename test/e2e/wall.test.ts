// The video wall in Chromium: an operator's console and two display pages (each screen a browser of its own, with its
// own display token). Assign, swap, a layout change, a roaming window across both screens, a preset recalled and a
// tour step each appear on the displays with their video decoded; a gateway stopped and started again is followed by
// the displays on their own; a camera the operator may not see is refused by the console, and a right withdrawn turns
// the tile into the placeholder within 5 s.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, login, openConsole, startGateway, waitFor, type TestGateway } from '../support/harness.js';
import type { ScreenStats } from '../../console/src/display/display-screen.js';

let gw: TestGateway;
let browser: Browser;
let admin: string;
let wallId: number;
const displays: Array<{ ctx: BrowserContext; page: Page }> = [];
let operator: Page;

const unitOf = (u: string) => gw.gateway.catalog.userWithHash(u)!.user.unit;
const township = () => unitOf('township-operator');
const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, headers: { cookie: admin }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

beforeAll(async () => {
  gw = await startGateway({ cameras: 200, withConsole: true });
  browser = await launchChromium();
  admin = await login(gw, 'county-admin');
  const made = await api('POST', '/api/walls', { name: '乡镇监控大屏', unit: township(), rows: 1, cols: 2, split: 4 });
  expect(made.statusCode, made.body).toBe(201);
  wallId = made.json<{ id: number }>().id;
  for (const screen of [0, 1]) {
    const d = await api('POST', `/api/walls/${wallId}/displays`, { screen, name: screen === 0 ? '左屏' : '右屏' });
    expect(d.statusCode, d.body).toBe(201);
    // A display is a browser of its own: no login, no cookie of the operator's.
    const ctx = await browser.newContext({ viewport: { width: 640, height: 360 } });
    const page = await ctx.newPage();
    await page.goto(gw.url + d.json<{ url: string }>().url);
    displays.push({ ctx, page });
  }
  operator = await openConsole(browser, gw.url, 'township-operator');
  await operator.click('[data-testid=nav-wall]');
  await operator.waitForSelector('[data-testid=mini-map]');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const stats = (screen: number): Promise<ScreenStats | undefined> => displays[screen]!.page.evaluate(() => (window as unknown as { __display?: { stats: () => ScreenStats } }).__display?.stats());
/** playing waits until the display's picture `key` shows camera with frames going on (counted twice, apart). */
async function playing(screen: number, key: string, camera: string, timeoutMs = 20_000): Promise<ScreenStats['pictures'][number]> {
  const first = await waitFor(`screen ${screen} ${key} playing ${camera}`, async () => {
    const p = (await stats(screen))?.pictures.find((x) => x.key === key);
    return p && p.camera === camera && p.live && p.frames > 0 ? p : undefined;
  }, timeoutMs);
  return waitFor(`screen ${screen} ${key} frames going on`, async () => {
    const p = (await stats(screen))?.pictures.find((x) => x.key === key);
    return p && p.camera === camera && p.frames > first.frames + 5 ? p : undefined;
  }, 10_000);
}
const version = async () => Number(await operator.getAttribute('[data-testid=wall-view]', 'data-version'));

describe('the video wall in Chromium', () => {
  it('puts a camera on a tile, swaps it, changes the layout: the display shows each, its video decoded', async () => {
    const village = gw.gateway.access.tree.children(township())[0]!.code;
    const cams = gw.gateway.access.camerasUnder(village);
    await operator.click(`[data-testid=tree-unit][data-code="${village}"]`);
    await operator.dragAndDrop(`[data-testid=tree-camera][data-camera="${cams[0]}"]`, '[data-testid=mini-screen][data-screen="0"] [data-testid=mini-pic][data-key="t0.0"]');
    await playing(0, 't0.0', cams[0]!);
    // The operator's mini-map shows it live too.
    await operator.waitForSelector(`[data-testid=mini-pic][data-key="t0.0"][data-camera="${cams[0]}"] [data-testid=mini-video][data-status=live]`, { timeout: 20_000 });
    const label = (await stats(0))!.pictures.find((p) => p.key === 't0.0')!.label;
    expect(label).toContain(gw.gateway.catalog.summary(cams[0]!)!.name);

    await operator.dragAndDrop('[data-testid=mini-pic][data-key="t0.0"]', '[data-testid=mini-pic][data-key="t0.3"]');
    await playing(0, 't0.3', cams[0]!);
    await waitFor('tile 0 emptied', async () => (await stats(0))!.pictures.find((p) => p.key === 't0.0')!.camera === null);

    await operator.click('[data-testid=mini-screen][data-screen="0"]');
    await operator.click('[data-testid=wall-layout-9]');
    await waitFor('nine pictures', async () => (await stats(0))!.pictures.filter((p) => p.key.startsWith('t')).length === 9);
    // The camera stays on its tile, now a ninth of the screen on the sub stream, switched without a gap: the main
    // stream's player goes on until the sub stream's, started behind it, shows frames (on a busy machine, a while).
    await waitFor('t0.3 on the sub stream', async () => (await stats(0))!.pictures.find((x) => x.key === 't0.3')?.profile === 'sub' || undefined, 20_000);
    const p = await playing(0, 't0.3', cams[0]!);
    expect(p.profile).toBe('sub');
    const sw = (await stats(0))!.switches.filter((s) => s.key === 't0.3').at(-1)!;
    expect(sw.ready).toBe(true);

    // The bottom two tiles of the second screen merged into one (a custom layout): that display shows three tiles.
    await operator.click('[data-testid=mini-pic][data-key="t1.2"]');
    await operator.click('[data-testid=mini-pic][data-key="t1.3"]', { modifiers: ['Control'] });
    await operator.click('[data-testid=wall-merge]');
    await waitFor('three tiles on screen 2', async () => (await stats(1))!.pictures.filter((p) => p.key.startsWith('t')).length === 3);
    expect(await displays[1]!.page.evaluate(() => (document.querySelector('[data-key="t1.2"]') as HTMLElement).style.width)).toBe('100%');
  });

  it('opens a roaming window and drags it across to the second screen: each display shows its part', async () => {
    const cam = gw.gateway.access.camerasUnder(township())[1]!;
    const v = await version();
    const opened = await api('POST', `/api/walls/${wallId}/commands`, { version: v, command: { op: 'window.open', x: 0.25, y: 0.25, w: 0.5, h: 0.5, camera: cam } });
    expect(opened.statusCode, opened.body).toBe(200);
    const win = opened.json<{ window: number }>().window;
    await playing(0, `w${win}`, cam);
    await operator.waitForSelector(`[data-testid=mini-window][data-window="${win}"]`);
    // Dragged right by half a screen's width in the mini-map: it ends over both screens.
    const box = (await operator.locator('[data-testid=mini-map]').boundingBox())!;
    const w = (await operator.locator(`[data-testid=mini-window][data-window="${win}"]`).boundingBox())!;
    await operator.mouse.move(w.x + w.width / 2, w.y + w.height / 2);
    await operator.mouse.down();
    await operator.mouse.move(w.x + w.width / 2 + box.width / 4, w.y + w.height / 2, { steps: 8 });
    await operator.mouse.up();
    await playing(1, `w${win}`, cam);
    await playing(0, `w${win}`, cam);
    const moved = gw.gateway.walls.get(wallId)!.state.windows.find((x) => x.id === win)!;
    expect(moved.x).toBeGreaterThan(0.6);
    expect(moved.x).toBeLessThan(1);
    await operator.click(`[data-testid=mini-window][data-window="${win}"] [data-testid=window-close]`);
    await waitFor('window closed on both', async () => !(await stats(0))!.pictures.some((p) => p.key === `w${win}`) && !(await stats(1))!.pictures.some((p) => p.key === `w${win}`));
  });

  it('saves a preset, recalls it after changes, and a tour step switches with its next camera already playing', async () => {
    const cams = gw.gateway.access.camerasUnder(township());
    await operator.fill('[data-testid=wall-preset-name]', '白班');
    await operator.click('[data-testid=wall-preset-save]');
    await operator.waitForSelector('[data-testid=wall-preset]');
    await operator.click('[data-testid=mini-screen][data-screen="0"]');
    await operator.click('[data-testid=wall-layout-1]');
    await waitFor('one picture', async () => (await stats(0))!.pictures.filter((p) => p.key.startsWith('t')).length === 1);
    await operator.click('[data-testid=wall-preset-recall]');
    await waitFor('nine again', async () => (await stats(0))!.pictures.filter((p) => p.key.startsWith('t')).length === 9);
    await playing(0, 't0.3', gw.gateway.access.camerasUnder(gw.gateway.access.tree.children(township())[0]!.code)[0]!);

    // A tour through three cameras on screen 2's first tile, every 6 s.
    const tour = await api('POST', `/api/walls/${wallId}/tours`, { name: '巡', cameras: cams.slice(4, 7), targets: [{ screen: 1, tile: 0 }], intervalSeconds: 6 });
    expect(tour.statusCode, tour.body).toBe(201);
    await operator.waitForSelector('[data-testid=wall-tour]');
    await operator.click('[data-testid=wall-tour-start]');
    await playing(1, 't1.0', cams[4]!);
    // Before the next step the next camera plays behind; at the step it takes the tile at once.
    await waitFor('the next camera started ahead', async () => (await stats(1))!.pictures.find((p) => p.key === 't1.0')!.next === cams[5], 10_000);
    await playing(1, 't1.0', cams[5]!, 12_000);
    const sw = (await stats(1))!.switches.filter((s) => s.key === 't1.0' && s.camera === cams[5]).at(-1)!;
    expect(sw.ready).toBe(true);
    expect(sw.gapMs).not.toBeNull();
    expect(sw.gapMs!).toBeLessThan(500);
    await operator.click('[data-testid=wall-tour-pause]');
    await operator.waitForSelector('[data-testid=wall-tour][data-state=paused]');
  });

  it('refuses, in the console, a camera the operator may not see; a right withdrawn turns the tile into the placeholder within 5 s', async () => {
    const access = gw.gateway.access;
    const outside = access.camerasUnder(unitOf('county-admin')).find((c) => !access.tree.contains(township(), access.unitOf(c)!))!;
    // A drop of a camera she may not see (as another page's drag would bring it): the gateway refuses it, the console says so.
    await operator.evaluate(([camera]) => {
      const dt = new DataTransfer();
      dt.setData('application/x-seg-camera', JSON.stringify({ id: camera, name: 'x' }));
      const target = document.querySelector('[data-testid=mini-pic][data-key="t1.1"]')!;
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [outside]);
    await operator.waitForSelector('[data-testid=wall-notice]');
    expect(await operator.textContent('[data-testid=wall-notice]')).toBe('找不到该摄像机, 或您无权查看');
    expect(gw.gateway.walls.get(wallId)!.state.screens[1]!.tiles[1]).toBeNull();

    // Pushed down to the township, put on the wall, then withdrawn.
    const grant = await api('POST', '/api/grants', { toUnit: township(), cameras: [outside], actions: ['live', 'wall'], reGrant: false });
    expect(grant.statusCode, grant.body).toBe(201);
    await api('POST', `/api/walls/${wallId}/commands`, { version: gw.gateway.walls.get(wallId)!.version, command: { op: 'assign', target: { screen: 1, tile: 1 }, camera: outside } });
    await playing(1, 't1.1', outside);
    const t0 = Date.now();
    expect((await api('DELETE', `/api/grants/${grant.json<{ id: number }>().id}`)).statusCode).toBe(200);
    await displays[1]!.page.waitForSelector('[data-key="t1.1"][data-status=denied]', { timeout: 5000 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await displays[1]!.page.textContent('[data-key="t1.1"] .pic-placeholder')).toBe('无权查看 (权限已收回)');
    expect((await stats(1))!.pictures.find((p) => p.key === 't1.1')!.camera).toBeNull();
  });

  it('comes back by itself after the gateway is stopped and started again (wall-kill.test.ts kills its process): the same pictures, playing', async () => {
    const before = await Promise.all([stats(0), stats(1)]);
    const shown = before.map((s) => s!.pictures.filter((p) => p.camera).map((p) => [p.key, p.camera!] as const));
    expect(shown[0]!.length).toBeGreaterThan(0);
    await gw.restart();
    for (const [screen, list] of shown.entries()) {
      for (const [key, camera] of list) await playing(screen, key, camera, 30_000);
    }
    // The operator's console follows again too.
    await operator.waitForSelector('[data-testid=mini-map]');
  }, 90_000);
});
