/// <reference lib="dom" />
// The online rate and the bulk import in the console, in Chromium: a camera switched off in the simulator turns red in
// the tree, lowers the rate of its village, township, county and city, and is listed among the offline cameras of each;
// an administrator imports a file, follows its progress and reads the rejected rows, and onboards a discovered device.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { launchChromium, openConsole, pickUnit, setFaults, SIM_PASSWORD, startGateway, waitFor, type TestGateway } from '../support/harness.js';

const tag = randomBytes(3).toString('hex');

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  gw = await startGateway({ cameras: 3000, withConsole: true, discoverable: [`UI-${tag}`], health: { enabled: true, intervalSeconds: 2, retryDelaySeconds: 0.2, backoffMaxSeconds: 2 } });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const unitOf = (username: string) => gw.gateway.demoAccounts.find((a) => a.username === username)!.unit;
/** untilState waits, with a bound, for the health monitor to see a camera in a state (backoff may take a few sweeps). */
const untilState = (id: string, state: 'online' | 'offline') =>
  waitFor(`${id} ${state}`, () => gw.gateway.health.camera(id)?.state === state, 30_000);

describe('online rate in the console', () => {
  it('colours the tree and lists the offline cameras of a unit, down from the city', async () => {
    const village = unitOf('village-clerk');
    const down = gw.gateway.access.camerasUnder(village)[0]!;
    await setFaults(gw.simulator, down, { offline: true });
    await untilState(down, 'offline');
    const page = await openConsole(browser, gw.url, 'city-admin');
    try {

      // The tree's root carries the city's rate: one camera of 3,000 down.
      const rootRate = page.locator(`[data-testid=tree-unit][data-code="${unitOf('city-admin')}"] [data-testid=unit-rate]`);
      await expect.poll(() => rootRate.getAttribute('data-offline'), { timeout: 10_000 }).toBe('1');
      expect(await rootRate.textContent()).toBe('100.0%');
      expect(await rootRate.getAttribute('class')).toContain('rate-good');

      // The health page: the city's rate, its counties worst first, the offline camera with its reason.
      await page.click('[data-testid=nav-health]');
      await page.waitForSelector('[data-testid=health-page]');
      expect(await page.textContent('[data-testid=health-facts]')).toMatch(/离线 1 .*共 3000 台/);
      await page.waitForSelector(`[data-testid=offline-camera][data-camera="${down}"]`);
      const reason = `[data-testid=offline-camera][data-camera="${down}"] [data-testid=offline-reason]`;
      // The reason is said by its kind in words; what the device did is kept for the tooltip.
      expect(await page.getAttribute(reason, 'data-kind')).toBe('unreachable');
      expect(await page.textContent(reason)).toBe('网络不通 (设备无法连接)');
      expect(await page.getAttribute(reason, 'title')).toMatch(/OPTIONS failed|connect failed/);
      const counties = await page.$$eval('[data-testid=health-child]', (rows) => rows.map((r) => r.getAttribute('data-code')));
      const county = unitOf('county-admin');
      expect(counties[0]).toBe(county);

      // Drill down county → township → village: each level lists the same camera.
      const path = gw.gateway.access.tree.path(village).map((u) => u.code);
      for (const code of path.slice(1)) {
        await page.click(`[data-testid=health-child][data-code="${code}"]`);
        await page.waitForSelector(`[data-testid=health-page][data-unit="${code}"]`);
        await page.waitForSelector(`[data-testid=offline-camera][data-camera="${down}"]`);
      }

      // Back in the camera's village in the tree, its dot is red; it turns green once the sweep sees it back.
      await setFaults(gw.simulator, down, { offline: null });
      await untilState(down, 'online');
      await page.click('[data-testid=nav-live]');
      for (const code of path.slice(1)) await page.click(`[data-testid=tree-unit][data-code="${code}"]`);
      await page.waitForSelector(`[data-testid=tree-camera][data-camera="${down}"][data-health=online]`, { timeout: 10_000 });
    } finally {
      await page.close();
    }
  });
});

describe('bulk import in the console', () => {
  it('uploads a file, shows the progress and every rejected row; a clerk has no import page', async () => {
    const villages = gw.gateway.access.tree.units().filter((u) => u.level === 'village').map((u) => u.code);
    const lines = ['id,name,unit,kind,latitude,longitude,main_url,sub_url,username,password'];
    for (let i = 0; i < 5000; i++) lines.push(`UI${String(i).padStart(5, '0')},界面导入 ${i},${villages[i % villages.length]},road,,,rtsp://10.30.${i >> 8 & 255}.${i & 255}/main,,admin,pw-${i}`);
    lines.splice(101, 0, 'UI-BAD-1,坏行,999999999999,road,,,rtsp://10.30.0.1/main,,,');
    lines.splice(202, 0, 'UI00005,重复,' + villages[0] + ',road,,,rtsp://10.30.0.1/main,,,');
    const page = await openConsole(browser, gw.url, 'city-admin');
    try {
      await page.click('[data-testid=nav-import]');
      await page.setInputFiles('[data-testid=import-file]', { name: 'cameras.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
      await page.click('[data-testid=import-start]');
      await page.waitForSelector('[data-testid=import-status][data-state=done]', { timeout: 30_000 });
      expect(await page.textContent('[data-testid=import-counts]')).toMatch(/5002 行: 新增 5000, 更新 0, 未变 0, 拒绝 2/);
      const rejected = await page.$$eval('[data-testid=import-rejection]', (rows) => rows.map((r) => r.textContent));
      expect(rejected).toEqual([
        '102UI-BAD-1找不到该单位, 或不在您的管辖范围',
        '203UI00005编号重复: 第 7 行已有',
      ]);
      expect(gw.gateway.access.unitOf('UI04999')).toBe(villages[4999 % villages.length]);
    } finally {
      await page.close();
    }
    const clerk = await openConsole(browser, gw.url, 'village-clerk');
    try {
      await clerk.waitForSelector('[data-testid=nav-health]');
      expect(await clerk.$('[data-testid=nav-import]')).toBeNull();
    } finally {
      await clerk.close();
    }
  });
});

describe('onboarding in the console', () => {
  it('discovers a device, probes it, adds it under a village and plays it', async () => {
    const village = gw.gateway.demoAccounts.find((a) => a.username === 'village-clerk')!.unit;
    const page = await openConsole(browser, gw.url, 'city-admin');
    try {
      await page.click('[data-testid=nav-onboard]');
      await page.click('[data-testid=onboard-discover]');
      const row = `[data-testid=onboard-device][data-name="SharpEyes_UI-${tag}"]`;
      await page.waitForSelector(row, { timeout: 10_000 });
      await page.click(`${row} [data-testid=onboard-pick]`);
      expect(await page.inputValue('[data-testid=onboard-url]')).toBe(gw.simulator.onvifUrl(`UI-${tag}`));
      await page.fill('[data-testid=onboard-password]', SIM_PASSWORD);
      await page.click('[data-testid=onboard-probe]');
      await page.waitForSelector('[data-testid=onboard-stream][data-profile=sub]');
      expect(await page.textContent('[data-testid=onboard-stream][data-profile=main]')).toMatch(/H264.*1280×720.*25.*可用/);
      expect(await page.inputValue('[data-testid=onboard-id]')).toBe(`UI-${tag}`);
      await page.fill('[data-testid=onboard-name]', '界面接入球机');
      await pickUnit(page, 'onboard-unit', village);
      await page.click('[data-testid=onboard-add]');
      await page.waitForSelector('[data-testid=onboard-added]');
      expect(gw.gateway.access.unitOf(`UI-${tag}`)).toBe(village);
      await page.click('[data-testid=onboard-added] button');
      await page.waitForSelector(`[data-testid=tile][data-camera="UI-${tag}"][data-state=live]`, { timeout: 20_000 });
    } finally {
      await page.close();
    }
  });
});
