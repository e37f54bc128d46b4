// The H.265 policy over WebRTC in a browser that reports no H.265 decoding (headless Chromium here): one shared
// libx264 transcode per stream for every such viewer, within a budget; over it, the sub stream where that is H.264,
// else a clear refusal.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glassState, playWhep, waitPictures } from '../support/glass-page.js';
import { launchChromium, openConsole, setFaults, startGateway, waitFor, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  gw = await startGateway({ cameras: 100, withConsole: true, media: { webrtc: { workers: 1, port: 0, transcodeBudget: 1 } } });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const cameras = () => gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code);

async function viewer(camera: string, profile: 'main' | 'sub'): Promise<{ page: Page; whepUrl: string }> {
  const page = await openConsole(browser, gw.url, 'city-admin');
  await page.waitForSelector('[data-testid=tree-search]');
  const { whepUrl } = await page.evaluate(async ([c, p]) => {
    const res = await fetch('/api/streams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ camera: c, profile: p }) });
    return (await res.json()) as { whepUrl: string };
  }, [camera, profile] as const);
  return { page, whepUrl };
}

describe('H.265 cameras over WebRTC', () => {
  it('plays an H.265 camera in a browser without H.265 through one transcode that two viewers share', async () => {
    const camera = cameras()[30]!;
    await setFaults(gw.simulator, camera, { codec: 'h265' });
    const caps = await browser.newPage().then(async (p) => {
      const c = await p.evaluate(() => RTCRtpReceiver.getCapabilities('video')!.codecs.map((x) => x.mimeType));
      await p.close();
      return c;
    });
    // The premise: this browser does not take H.265 over WebRTC.
    expect(caps.some((m) => /h265/i.test(m))).toBe(false);
    const a = await viewer(camera, 'sub');
    const b = await viewer(camera, 'sub');
    for (const v of [a, b]) await playWhep(v.page, { whepUrl: v.whepUrl, controlUrl: gw.simulator.controlUrl()!, camera });
    for (const v of [a, b]) {
      const s = await waitPictures(v.page, 'transcoded pictures', 25);
      expect([s.width, s.height]).toEqual([640, 360]);
      expect(s.codecHeader).toBe('H264; transcoded');
    }
    const views = gw.gateway.webrtc!.sessions.filter((s) => s.camera === camera);
    expect(views).toHaveLength(2);
    for (const v of views) expect(v).toMatchObject({ codec: 'H264', transcoded: true });
    // One ffmpeg for both.
    expect(gw.gateway.webrtc!.transcoder!.pids()).toHaveLength(1);

    // The budget (1) is spent: another H.265 camera's sub stream (H.265 as well) is refused, saying why.
    const other = cameras()[31]!;
    await setFaults(gw.simulator, other, { codec: 'h265' });
    const c = await viewer(other, 'sub');
    await playWhep(c.page, { whepUrl: c.whepUrl, controlUrl: gw.simulator.controlUrl()!, camera: other });
    const refused = await waitFor('the refusal', async () => (await glassState(c.page)).whepStatus, 30_000, 100);
    expect(refused).toBe(503);
    expect((await glassState(c.page)).errors.join(' ')).toMatch(/"code":"capacity".*"reason":"transcode-budget"/);
    await c.page.close();

    // A camera whose main profile is H.265 and sub H.264: over budget, its main is answered with the sub stream.
    const mixed = cameras()[32]!;
    await setFaults(gw.simulator, mixed, { codec: 'h265-main' });
    const d = await viewer(mixed, 'main');
    await playWhep(d.page, { whepUrl: d.whepUrl, controlUrl: gw.simulator.controlUrl()!, camera: mixed });
    const sub = await waitFor('the sub stream instead', async () => { const st = await glassState(d.page); return st.frames > 10 && st; }, 30_000, 250);
    expect([sub.width, sub.height]).toEqual([640, 360]);
    expect(sub.codecHeader).toBe('H264');
    expect(gw.gateway.webrtc!.sessions.find((s) => s.camera === mixed)).toMatchObject({ profile: 'sub', transcoded: false });
    await d.page.close();

    // The viewers leave: the transcode stops after its linger, and frees the budget.
    await a.page.close();
    await b.page.close();
    await waitFor('the transcode to stop', () => gw.gateway.webrtc!.transcoder!.pids().length === 0, 45_000, 250);
  });
});
