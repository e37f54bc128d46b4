/// <reference lib="dom" />
// The built console in Debian's Chromium against a real gateway with the 33,000-camera demo city.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openConsole, setFaults, startGateway, waitFor, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  // The production stall timeout: a tile must see a still picture before the gateway calls the camera offline.
  gw = await startGateway({ cameras: 33_000, withConsole: true, media: { stallTimeoutSeconds: 10 } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const loginAs = (username: string, password?: string): Promise<Page> => openConsole(browser, gw.url, username, password);

const unitOf = (username: string) => gw.gateway.demoAccounts.find((a) => a.username === username)!.unit;

async function videoProgress(page: Page, index: number) {
  return page.$eval(`[data-testid=tile][data-index="${index}"] video`, (v) => {
    const video = v as HTMLVideoElement;
    return { time: video.currentTime, frames: video.getVideoPlaybackQuality().totalVideoFrames, width: video.videoWidth };
  });
}

/**
 * watchTile watches a tile from inside the page: the badge's states in order, how long the picture had stood still
 * when the badge last changed, and every moment the badge said live while the picture had not moved for 4 s (what a
 * viewer would call a lie; the tile says so after 2 s).
 */
async function watchTile(page: Page, tile: string): Promise<void> {
  await page.evaluate((sel) => {
    const w = window as unknown as { lastFrame: number; lies: number; states: string[]; stillFor: number };
    const v = document.querySelector(`${sel} video`) as HTMLVideoElement;
    w.lastFrame = performance.now();
    w.lies = 0;
    w.states = [];
    w.stillFor = 0;
    const onFrame = () => { w.lastFrame = performance.now(); v.requestVideoFrameCallback(onFrame); };
    v.requestVideoFrameCallback(onFrame);
    const look = () => {
      const state = document.querySelector(sel)?.getAttribute('data-state') ?? '';
      if (w.states[w.states.length - 1] !== state) {
        w.states.push(state);
        w.stillFor = performance.now() - w.lastFrame;
      }
    };
    new MutationObserver(look).observe(document.querySelector(sel)!, { attributes: true, attributeFilter: ['data-state'] });
    look();
    // Sampled apart from the changes: the tile turns live in the same frame callback round as ours, just before it.
    setInterval(() => {
      look();
      if (document.querySelector(sel)?.getAttribute('data-state') === 'live' && performance.now() - w.lastFrame > 4000) w.lies++;
    }, 200);
  }, tile);
}

/** watched returns what watchTile saw. */
function watched(page: Page): Promise<{ lies: number; states: string[]; stillFor: number }> {
  return page.evaluate(() => {
    const w = window as unknown as { lies: number; states: string[]; stillFor: number };
    return { lies: w.lies, states: [...w.states], stillFor: w.stillFor };
  });
}

describe('console in Chromium', () => {
  it('shows a wrong password in words', async () => {
    const page = await loginAs('village-clerk', 'not-the-password');
    await expect(page.textContent('[data-testid=login-error]')).resolves.toBe('用户名或密码错误');
    await page.close();
  });

  it('a village clerk sees only her village, and her camera plays', async () => {
    const page = await loginAs('village-clerk');
    await page.waitForSelector('[data-testid=tree-camera]');
    const shown = await page.$$eval('[data-testid=tree-camera]', (els) => els.map((e) => e.getAttribute('data-camera')!));
    const own = gw.gateway.access.camerasUnder(unitOf('village-clerk'));
    expect(shown.sort()).toEqual([...own].sort());
    expect(await page.textContent('[data-testid=unit-camera-count]')).toBe(String(own.length));

    // A neighbour's camera cannot be found by search either.
    const neighbour = gw.gateway.access.camerasUnder(unitOf('village-clerk-2'))[0]!;
    await page.fill('[data-testid=tree-search]', neighbour);
    await page.waitForSelector('[data-testid=search-results]');
    await page.waitForSelector('[data-testid=search-results][data-total="0"]');
    expect(await page.$$('[data-testid=search-results] [data-testid=tree-camera]')).toHaveLength(0);
    await page.fill('[data-testid=tree-search]', '');

    await page.click(`[data-testid=tree-camera][data-camera="${own[0]}"]`);
    await page.waitForSelector('[data-testid=tile][data-index="0"][data-state=live]', { timeout: 20_000 });
    const a = await videoProgress(page, 0);
    await page.waitForTimeout(2500);
    const b = await videoProgress(page, 0);
    expect(b.width).toBe(1280);
    expect(b.frames).toBeGreaterThan(a.frames);
    expect(b.frames).toBeGreaterThan(25);
    expect(b.time - a.time).toBeGreaterThan(1.5);
    const firstFrameMs = Number(await page.getAttribute('[data-testid=tile][data-index="0"]', 'data-first-frame-ms'));
    expect(firstFrameMs).toBeGreaterThan(0);
    await page.close();
  });

  it('a city administrator sees all 33,000 cameras and browses down the tree', async () => {
    const page = await loginAs('city-admin');
    await page.waitForSelector('[data-testid=tree-unit]');
    expect(await page.textContent('[data-testid=tree-unit] >> nth=0 >> [data-testid=unit-camera-count]')).toBe('33000');
    const counties = await page.$$('[data-testid=tree-root] > li > ul > li > [data-testid=tree-unit]');
    expect(counties).toHaveLength(6);
    await counties[0]!.click();
    await page.waitForSelector('[data-testid=tree-camera]');
    await page.fill('[data-testid=tree-search]', '村口');
    await page.waitForSelector('[data-testid=search-results] [data-testid=tree-camera]');
    expect(Number(await page.getAttribute('[data-testid=search-results]', 'data-total'))).toBeGreaterThan(100);
    expect(await page.textContent('[data-testid=search-summary]')).toMatch(/个单位, [\d,]{3,} 台摄像机/);
    await page.close();
  });

  it('an offline camera shows its state and reason on the tile, next to a playing one', async () => {
    const own = gw.gateway.access.camerasUnder(unitOf('village-clerk-2'));
    await setFaults(gw.simulator, own[1]!, { offline: true });
    const page = await loginAs('village-clerk-2');
    await page.waitForSelector('[data-testid=tree-camera]');
    await page.click(`[data-testid=tree-camera][data-camera="${own[0]}"]`);
    await page.click(`[data-testid=tree-camera][data-camera="${own[1]}"]`);
    await page.waitForSelector('[data-testid=tile][data-index="1"][data-state=offline]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid=tile][data-index="1"] [data-testid=tile-message]')).toMatch(/^摄像机无应答/);
    await page.waitForSelector('[data-testid=tile][data-index="0"][data-state=live]', { timeout: 20_000 });
    await page.close();
  });

  it('a playing tile notices a frozen picture when the camera restarts its stream, says so, and plays again by itself', async () => {
    const cam = gw.gateway.access.camerasUnder(unitOf('township-operator'))[7]!;
    const page = await loginAs('township-operator');
    await page.fill('[data-testid=tree-search]', cam);
    await page.click(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${cam}"]`);
    const tile = '[data-testid=tile][data-index="0"]';
    await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 20_000 });
    await watchTile(page, tile);
    const dropped = Date.now();
    expect((await fetch(`${gw.simulator.controlUrl()}/cameras/${cam}/sessions`, { method: 'DELETE' })).status).toBe(200);
    await waitFor('the gateway to pull the camera again', () => (gw.gateway.hub.info(cam, 'main')?.liveAt ?? 0) > dropped, 30_000);
    const after = await videoProgress(page, 0);
    // The tile plays the new stream: frames and time move on again, and the badge says live.
    const moving = await waitFor('the tile to play the restarted stream', async () => {
      const now = await videoProgress(page, 0);
      return now.frames > after.frames + 25 && now.time > after.time + 1 && now;
    }, 45_000, 500);
    expect(moving.width).toBeGreaterThan(0);
    await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 10_000 });
    expect((await watched(page)).lies).toBe(0);
    await page.close();
  });

  it('a tile whose camera freezes (connection open, no video) says so within seconds, and plays again when it sends', async () => {
    const cam = gw.gateway.access.camerasUnder(unitOf('township-operator'))[8]!;
    const page = await loginAs('township-operator');
    await page.fill('[data-testid=tree-search]', cam);
    await page.click(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${cam}"]`);
    const tile = '[data-testid=tile][data-index="0"]';
    await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 20_000 });
    await watchTile(page, tile);
    await setFaults(gw.simulator, cam, { stallAfterMs: 1 });
    // The player plays out what it holds, then the picture stands still: the badge says so within seconds, long
    // before the gateway's stall timeout calls the camera offline.
    await page.waitForSelector(`${tile}[data-state=stalled]`, { timeout: 15_000 });
    const atStall = await watched(page);
    expect(atStall.states).toEqual(['live', 'stalled']);
    expect(atStall.stillFor).toBeLessThan(4000);
    expect(await page.textContent(`${tile} [data-testid=tile-badge]`)).toBe('卡顿');
    expect(await page.textContent(`${tile} [data-testid=tile-message]`)).toMatch(/画面已停止 \d+ 秒/);
    // Then the gateway calls the camera offline and tries it again: the tile says which, and why.
    await page.waitForSelector(`${tile}[data-state=offline], ${tile}[data-state=reconnecting]`, { timeout: 30_000 });
    expect(await page.textContent(`${tile} [data-testid=tile-message]`)).toMatch(/^(摄像机停止发送视频|摄像机无应答)/);
    expect((await fetch(`${gw.simulator.controlUrl()}/cameras/${cam}/faults`, { method: 'DELETE' })).status).toBe(200);
    await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 45_000 });
    const a = await videoProgress(page, 0);
    const b = await waitFor('the picture to move again', async () => {
      const now = await videoProgress(page, 0);
      return now.frames > a.frames + 25 && now;
    }, 20_000, 500);
    expect(b.time).toBeGreaterThan(a.time);
    expect(await page.$(`${tile} [data-testid=tile-message]`)).toBeNull();
    expect((await watched(page)).lies).toBe(0);
    await page.close();
  });

  it('an operator drives a dome from its tile and takes a snapshot; a viewer gets no PTZ controls', async () => {
    const cam = gw.gateway.access.camerasUnder(unitOf('township-operator'))[0]!;
    const page = await loginAs('township-operator');
    await page.fill('[data-testid=tree-search]', cam);
    await page.click(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${cam}"]`);
    const tile = '[data-testid=tile][data-index="0"]';
    await page.click(`${tile} [data-testid=tile-ptz]`);
    await page.waitForSelector(`${tile} [data-testid=ptz-position]`);
    // Hold the right arrow: the head pans while the button is down and stops when it is released.
    const right = page.locator(`${tile} [data-testid=ptz-right]`);
    await right.hover();
    await page.mouse.down();
    await page.waitForTimeout(900);
    await page.mouse.up();
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-pan')) > 0.1, `${tile} [data-testid=ptz-position]`);
    const head = gw.simulator.onvif!.head(cam);
    const pan = head.position().pan;
    expect(head.moving().panTilt).toBe(false);
    await page.waitForTimeout(300);
    expect(head.position().pan).toBe(pan);
    await page.fill(`${tile} [data-testid=ptz-preset-name]`, '路口全景');
    await page.click(`${tile} [data-testid=ptz-preset-save]`);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('路口全景'), `${tile} [data-testid=ptz-presets]`);
    expect(head.presets().map((p) => p.name)).toContain('路口全景');
    // The snapshot link answers a JPEG to this session.
    const shot = await page.evaluate(async (href) => {
      const r = await fetch(href);
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get('content-type'), magic: [b[0], b[1]] };
    }, (await page.getAttribute(`${tile} [data-testid=tile-snapshot]`, 'href'))!);
    expect(shot).toEqual({ status: 200, type: 'image/jpeg', magic: [0xff, 0xd8] });
    await page.close();

    const clerk = await loginAs('village-clerk');
    const mine = gw.gateway.access.camerasUnder(unitOf('village-clerk'))[0]!;
    await clerk.waitForSelector('[data-testid=tree-camera]');
    await clerk.click(`[data-testid=tree-camera][data-camera="${mine}"]`);
    await clerk.waitForSelector(`${tile} [data-testid=tile-snapshot]`);
    await clerk.waitForTimeout(500);
    expect(await clerk.$(`${tile} [data-testid=tile-ptz]`)).toBeNull();
    await clerk.close();
  });
});
