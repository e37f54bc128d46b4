/// <reference lib="dom" />
// Push-down grants end to end in Chromium: a county admin pushes two cameras to a village; the village clerk sees and
// plays them; the admin revokes one; the clerk's open stream of it stops within 5 s; guessed and replayed media URLs fail.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openConsole, pickUnit, startGateway, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  gw = await startGateway({ cameras: 3000, withConsole: true });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;

async function loginAs(username: string): Promise<Page> {
  const page = await openConsole(browser, gw.url, username);
  await page.waitForSelector('[data-testid=tree-root]');
  return page;
}

/** push picks one camera on the grants page by its search and another from the tree on the left, and pushes both. */
async function push(admin: Page, bySearch: string, byTree: string, village: string): Promise<number> {
  await admin.fill('[data-testid=grants-search]', bySearch);
  await admin.click(`[data-testid=grants-pick][data-camera="${bySearch}"]`);
  await admin.fill('[data-testid=tree-search]', byTree);
  await admin.click(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${byTree}"]`);
  await admin.waitForFunction(() => document.querySelector('[data-testid=grants-picked]')?.textContent?.includes('已选 2'));
  await pickUnit(admin, 'grants-unit', village);
  await admin.click('[data-testid=grants-push]');
  const done = await admin.waitForSelector('[data-testid=grants-done]');
  return Number(/#(\d+)/.exec((await done.textContent())!)![1]);
}

describe('push-down grants in the console', () => {
  it('pushes two cameras, the clerk plays them, one is revoked and its stream stops within 5 s', async () => {
    const village = unitOf('village-clerk');
    const county = unitOf('county-admin');
    const [a, b] = gw.gateway.access.camerasUnder(county).filter((id) => !gw.gateway.access.tree.contains(village, gw.gateway.access.unitOf(id)!)).slice(0, 2);
    const admin = await loginAs('county-admin');
    await admin.click('[data-testid=nav-grants]');
    const grant = await push(admin, a!, b!, village);
    const row = `[data-testid=grants-given] [data-testid=grant-row][data-grant="${grant}"]`;
    await admin.waitForSelector(row);
    expect((await admin.$$eval(`${row} [data-testid=grant-camera]`, (els) => els.map((e) => e.getAttribute('data-camera')))).sort()).toEqual([a, b].sort());

    const clerk = await loginAs('village-clerk');
    const granted = await clerk.$$eval('[data-testid=tree-granted] [data-testid=tree-camera]', (els) => els.map((e) => e.getAttribute('data-camera')));
    expect(granted.sort()).toEqual([a, b].sort());
    // Capture the media URL the tile uses (its WHEP endpoint: tiles play WebRTC), to replay it later.
    const urls: string[] = [];
    clerk.on('request', (r) => { if (r.url().includes(`/media/whep/${a}/`) || r.url().includes(`/media/hls/${a}/`)) urls.push(r.url()); });
    await clerk.click(`[data-testid=tree-granted] [data-testid=tree-camera][data-camera="${a}"]`);
    await clerk.click(`[data-testid=tree-granted] [data-testid=tree-camera][data-camera="${b}"]`);
    await clerk.waitForSelector('[data-testid=tile][data-index="0"][data-state=live]', { timeout: 25_000 });
    await clerk.waitForSelector('[data-testid=tile][data-index="1"][data-state=live]', { timeout: 25_000 });

    await admin.click(`${row} [data-testid=grant-camera][data-camera="${a}"] [data-testid=grant-withdraw]`);
    const revokedAt = Date.now();
    await clerk.waitForSelector('[data-testid=tile][data-index="0"][data-state=denied]', { timeout: 5000 });
    const stoppedMs = Date.now() - revokedAt;
    expect(stoppedMs).toBeLessThan(5000);
    // The other camera keeps playing.
    await clerk.waitForTimeout(1500);
    expect(await clerk.getAttribute('[data-testid=tile][data-index="1"]', 'data-state')).toBe('live');

    // Replaying the captured URL, or guessing a token, gets nothing: over WebRTC and over HLS alike.
    const whep = urls.find((u) => u.includes('/media/whep/'))!;
    expect(whep).toBeDefined();
    const hls = whep.replace(/\/media\/whep\/(\w+)\/(main|sub)\?/, '/media/hls/$1/$2/index.m3u8?');
    const statuses = await clerk.evaluate(async ([replay, other, playlist]) => {
      const guessed = other!.replace(/t=[^&]+/, 't=AAAA.BBBB');
      const offer = { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' };
      return [(await fetch(replay!, offer)).status, (await fetch(guessed, offer)).status, (await fetch(playlist!)).status];
    }, [whep, whep.replace(a!, b!), hls]);
    expect(statuses).toEqual([403, 403, 403]);
    await admin.close();
    await clerk.close();
  });
});
