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

  it('keeps playing by itself across a camera restart: the same player, a discontinuity, pictures going on', async () => {
    const camera = gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code)[5]!;
    await setFaults(gw.simulator, camera, { counter: true });
    const page = await openConsole(browser, gw.url, 'city-admin');
    await page.waitForSelector('[data-testid=tree-search]');
    await playCounter(page, { playlistUrl: await ticketIn(page, camera), lowLatency: true, controlUrl: gw.simulator.controlUrl()!, camera });
    const before = await waitFor('two seconds of pictures', async () => { const s = await glassState(page); return s.frames > 50 && s; }, 30_000, 250);
    const liveAt = gw.gateway.hub.info(camera, 'sub')!.liveAt!;
    // The camera restarts its stream: its RTP numbering and timestamps start again, and so does the counter clip.
    expect((await fetch(`${gw.simulator.controlUrl()}/cameras/${camera}/sessions`, { method: 'DELETE' })).status).toBe(200);
    await waitFor('the gateway to pull the camera again', () => (gw.gateway.hub.info(camera, 'sub')?.liveAt ?? 0) > liveAt, 20_000);
    const after = await waitFor('pictures of the new run', async () => {
      const s = await glassState(page);
      return s.frames > before.frames + 75 && s.samples.length > before.samples.length + 8 && s;
    }, 30_000, 250);
    expect(after.errors).toEqual([]);
    expect(after.currentTime).toBeGreaterThan(before.currentTime + 2);
    // The pictures shown after the restart are the new run's (its counter started again) and they advance.
    const late = after.samples.slice(-6).map((x) => x.index);
    let forward = 0;
    for (let i = 1; i < late.length; i++) if (((late[i]! - late[i - 1]! + 250) % 250) > 0 && ((late[i]! - late[i - 1]! + 250) % 250) < 40) forward++;
    expect(forward).toBeGreaterThanOrEqual(late.length - 2);
    // Each is a picture the camera sent moments ago (the simulator's send time of that index is recent).
    const recent = await waitFor('the latest pictures matched with their send times', async () => {
      const s = (await glassState(page)).samples.slice(-10, -2);
      return s.every((x) => x.latencyMs !== undefined) && s;
    }, 10_000, 250);
    for (const x of recent) expect(x.latencyMs!).toBeLessThan(5000);
    const playlist = await gw.gateway.hub.playlist(camera, 'sub', { lowLatency: false, waitMs: 0 });
    expect(playlist).toMatch(/#EXT-X-DISCONTINUITY\n/);
    await page.close();
  });
});
