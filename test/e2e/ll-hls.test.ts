// hls.js in Chromium plays the media core's output both ways: Low-Latency HLS (parts, blocking reloads) and plain HLS
// (whole segments), from the same fragments; each decoded picture is the one the camera sent, read by its index.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glassState, playCounter } from '../support/glass-page.js';
import { launchChromium, openConsole, setFaults, startGateway, waitFor, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  gw = await startGateway({ cameras: 200, withConsole: true });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/** ticketIn asks for a stream from inside the page, as the console does (its session cookie). */
async function ticketIn(page: Page, camera: string): Promise<string> {
  return page.evaluate(async (c) => {
    const res = await fetch('/api/streams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ camera: c, profile: 'sub' }) });
    return ((await res.json()) as { playlistUrl: string }).playlistUrl;
  }, camera);
}

describe('hls.js against the media core', () => {
  for (const lowLatency of [true, false]) {
    it(`plays ${lowLatency ? 'Low-Latency' : 'plain'} HLS: pictures decoded in order, each the camera's own`, async () => {
      const camera = gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code)[lowLatency ? 3 : 4]!;
      await setFaults(gw.simulator, camera, { counter: true });
      const page = await openConsole(browser, gw.url, 'city-admin');
      await page.waitForSelector('[data-testid=tree-search]');
      const requests: string[] = [];
      page.on('request', (r) => { if (r.url().includes('/media/hls/')) requests.push(new URL(r.url()).pathname.split('/').pop()! + new URL(r.url()).search.replace(/t=[^&]*&?/, '')); });
      let url = await ticketIn(page, camera);
      if (!lowLatency) url = url.replace('/index.m3u8', '/plain.m3u8');
      await playCounter(page, { playlistUrl: url, lowLatency, controlUrl: gw.simulator.controlUrl()!, camera });
      const state = await waitFor('three seconds of pictures with their latency', async () => {
        const s = await glassState(page);
        return s.frames > 75 && s.samples.filter((x) => x.latencyMs !== undefined).length >= 8 && s;
      }, 30_000, 250);
      expect(state.errors).toEqual([]);
      // The indexes read off the pictures advance as the camera sends them (25 a second, looping at 250).
      const indexes = state.samples.map((s) => s.index);
      let forward = 0;
      for (let i = 1; i < indexes.length; i++) if (((indexes[i]! - indexes[i - 1]! + 250) % 250) > 0 && ((indexes[i]! - indexes[i - 1]! + 250) % 250) < 40) forward++;
      expect(forward).toBeGreaterThanOrEqual(indexes.length - 2);
      for (const s of state.samples) if (s.latencyMs !== undefined) expect(s.latencyMs).toBeGreaterThan(0);
      const latencies = state.samples.flatMap((s) => (s.latencyMs === undefined ? [] : [s.latencyMs])).sort((a, b) => a - b);
      console.log(`${lowLatency ? 'LL-HLS' : 'plain HLS'} glass-to-glass on this run: median ${latencies[Math.floor(latencies.length / 2)]} ms over ${latencies.length} pictures; hls.js latency ${state.hlsLatency}, target ${state.targetLatency}, buffer ahead ${state.bufferAhead}, rate ${state.playbackRate}, t ${state.currentTime}`);
      if (lowLatency) {
        // Blocking playlist reloads and parts: the low-latency protocol, not segment polling.
        expect(requests.some((r) => /index\.m3u8.*_HLS_msn=\d+&_HLS_part=\d+/.test(r))).toBe(true);
        expect(requests.some((r) => /^part-\d+-\d+\.m4s/.test(r))).toBe(true);
      } else {
        expect(requests.some((r) => /^seg-\d+\.m4s/.test(r))).toBe(true);
        expect(requests.some((r) => /part-|_HLS_msn/.test(r))).toBe(false);
      }
      await page.close();
    });
  }
});
