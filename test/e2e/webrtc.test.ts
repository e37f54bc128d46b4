// WebRTC over WHEP in Chromium: the frame bus into mediasoup, decoded pictures of the right size, a High-profile
// camera, a WHEP player no one here wrote, and views that end when they should.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glassState, playWhep } from '../support/glass-page.js';
import { CHROMIUM_ARGS, openConsole, setFaults, startGateway, waitFor, type TestGateway } from '../support/harness.js';
import { chromium } from 'playwright-core';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  gw = await startGateway({ cameras: 200, withConsole: true, media: { webrtc: { workers: 1, port: 0 } } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, '--allow-loopback-in-peer-connection'] });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const cameras = () => gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code);

/** ticketIn asks for a stream from inside the page, as the console does (its session cookie). */
async function ticketIn(page: Page, camera: string, profile: 'main' | 'sub'): Promise<{ whepUrl: string; playlistUrl: string }> {
  return page.evaluate(async ([c, p]) => {
    const res = await fetch('/api/streams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ camera: c, profile: p }) });
    return (await res.json()) as { whepUrl: string; playlistUrl: string };
  }, [camera, profile] as const);
}

async function loggedIn(user = 'city-admin'): Promise<Page> {
  const page = await openConsole(browser, gw.url, user);
  await page.waitForSelector('[data-testid=tree-search]');
  return page;
}

describe('WebRTC (WHEP) from the frame bus', () => {
  for (const profile of ['sub', 'main'] as const) {
    it(`plays the ${profile} profile (${profile === 'main' ? 'High' : 'Main'}-profile H.264): pictures decoded at the camera's size, the camera's own`, async () => {
      const camera = cameras()[profile === 'main' ? 10 : 11]!;
      if (profile === 'sub') await setFaults(gw.simulator, camera, { counter: true });
      const page = await loggedIn();
      const { whepUrl } = await ticketIn(page, camera, profile);
      expect(whepUrl).toMatch(/^\/media\/whep\//);
      await playWhep(page, { whepUrl, controlUrl: gw.simulator.controlUrl()!, camera });
      const state = await waitFor('two seconds of WebRTC pictures', async () => {
        const s = await glassState(page);
        if (s.errors.length) throw new Error(s.errors.join('; '));
        return s.frames > 50 && s;
      }, 30_000, 250);
      expect(state.whepStatus).toBe(201);
      expect(state.location).toMatch(/^\/media\/whep\/sessions\/[\w-]{16,}$/);
      expect(state.pc).toBe('connected');
      expect([state.width, state.height]).toEqual(profile === 'main' ? [1280, 720] : [640, 360]);
      const sessions = gw.gateway.webrtc!.sessions.filter((s) => s.camera === camera);
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatchObject({ profile, codec: 'H264', transcoded: false, connected: true });
      if (profile === 'sub') {
        const latencies = await waitFor('latencies of eight pictures', async () => {
          const l = (await glassState(page)).samples.flatMap((x) => (x.latencyMs === undefined ? [] : [x.latencyMs]));
          return l.length >= 8 && l.sort((a, b) => a - b);
        }, 15_000, 250);
        console.log(`WebRTC glass-to-glass on this run: median ${latencies[Math.floor(latencies.length / 2)]} ms over ${latencies.length} pictures`);
        for (const l of latencies) expect(l).toBeGreaterThan(0);
      }
      // Leaving (WHEP DELETE) ends the session on the gateway.
      const status = await page.evaluate(async (loc) => (await fetch(loc!, { method: 'DELETE' })).status, state.location);
      expect(status).toBe(200);
      await waitFor('the session to end', () => gw.gateway.webrtc!.sessions.every((s) => s.camera !== camera), 5000);
      await page.close();
    });
  }

  it('plays in the Eyevinn WebRTC player, a WHEP client no one here wrote', async () => {
    const camera = cameras()[12]!;
    const page = await loggedIn();
    const { whepUrl } = await ticketIn(page, camera, 'sub');
    await playWhep(page, { whepUrl, controlUrl: gw.simulator.controlUrl()!, camera, player: 'eyevinn' });
    const state = await waitFor('pictures in the Eyevinn player', async () => {
      const s = await glassState(page);
      if (s.errors.length) throw new Error(s.errors.join('; '));
      return s.frames > 25 && s;
    }, 30_000, 250);
    expect([state.width, state.height]).toEqual([640, 360]);
    await page.close();
    // Closing the page without a DELETE: the view ends on its own once the browser is gone.
    await waitFor('the abandoned view to end', () => gw.gateway.webrtc!.sessions.every((s) => s.camera !== camera), 40_000, 250);
  });

  it('refuses a bad token, a malformed offer and an offer without video, with clear codes', async () => {
    const camera = cameras()[13]!;
    const page = await loggedIn();
    const { whepUrl } = await ticketIn(page, camera, 'sub');
    const post = (url: string, body: string, type = 'application/sdp') => page.evaluate(async ([u, b, t]) => {
      const r = await fetch(u, { method: 'POST', headers: { 'content-type': t }, body: b });
      return { status: r.status, body: await r.json().catch(() => undefined) as { code?: string; message?: string; details?: Record<string, unknown> } | undefined };
    }, [url, body, type] as const);
    const forged = await post(whepUrl.replace(/t=[^&]+/, 't=abc.def'), 'v=0\r\n');
    expect(forged.status).toBe(403);
    const junk = await post(whepUrl, 'hello');
    expect(junk.status).toBe(400);
    expect(junk.body?.message).toMatch(/v=0/);
    const audioOnly = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const o = await pc.createOffer();
      pc.close();
      return o.sdp!;
    });
    const noVideo = await post(whepUrl, audioOnly);
    expect(noVideo.status).toBe(400);
    expect(noVideo.body?.message).toMatch(/no video section/);
    expect(noVideo.body?.details).toMatchObject({ reason: 'sdp' });
    await page.close();
  });
});
