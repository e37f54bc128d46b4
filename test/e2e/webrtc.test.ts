// WebRTC over WHEP in Chromium: the frame bus into mediasoup, decoded pictures of the right size, a High-profile
// camera, a WHEP player no one here wrote, and views that end when they should.
import type { Browser, Page } from 'playwright-core';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glassState, playWhep, waitPictures } from '../support/glass-page.js';
import { children } from '../bench/proc-stats.js';
import { CLIP_DIR, grantToVillage, launchChromium, login, openConsole, setFaults, startGateway, waitFor, type TestGateway } from '../support/harness.js';

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

const cameras = () => gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code).filter((c) => !gw.gateway.catalog.camera(c)?.mainUrl?.startsWith('rtmp-push:'));

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
      const state = await waitPictures(page, 'two seconds of WebRTC pictures', 50);
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

  for (const [audio, codec] of [['aac', 'audio/opus'], ['pcma', 'audio/PCMA']] as const) {
    it(`carries the camera's ${audio === 'aac' ? 'AAC as Opus (transcoded while the view lasts)' : 'G.711 A-law as it is'}`, async () => {
      const camera = cameras()[audio === 'aac' ? 14 : 15]!;
      await setFaults(gw.simulator, camera, { audio });
      const page = await loggedIn();
      const { whepUrl } = await ticketIn(page, camera, 'sub');
      await playWhep(page, { whepUrl, controlUrl: gw.simulator.controlUrl()!, camera });
      const got = await waitFor(`${codec} packets`, async () => {
        const r = await page.evaluate(`(async () => {
          const out = { packets: 0, codec: '' };
          const stats = await window.glassPc.getStats();
          const codecs = {};
          stats.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
          stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') { out.packets = s.packetsReceived; out.codec = codecs[s.codecId] || ''; } });
          return out;
        })()`) as { packets: number; codec: string };
        return r.packets > 50 && r;
      }, 30_000, 250);
      expect(got.codec.toLowerCase()).toBe(codec.toLowerCase());
      const opus = () => children(process.pid).filter((c) => c.cmd.includes('libopus')).length;
      if (audio === 'aac') expect(opus()).toBe(1);
      await page.close();
      // Nobody listens any more: the transcode ends with the stream's feed.
      if (audio === 'aac') await waitFor('the Opus transcode to end', () => opus() === 0, 45_000, 250);
    });
  }

  it('plays in the Eyevinn WebRTC player, a WHEP client no one here wrote', async () => {
    const camera = cameras()[12]!;
    const page = await loggedIn();
    const { whepUrl } = await ticketIn(page, camera, 'sub');
    await playWhep(page, { whepUrl, controlUrl: gw.simulator.controlUrl()!, camera, player: 'eyevinn' });
    const state = await waitPictures(page, 'pictures in the Eyevinn player', 25);
    expect([state.width, state.height]).toEqual([640, 360]);
    await page.close();
    // Closing the page without a DELETE: the view ends on its own once the browser is gone.
    await waitFor('the abandoned view to end', () => gw.gateway.webrtc!.sessions.every((s) => s.camera !== camera), 40_000, 250);
  });

  it('connects over ICE-TCP where UDP is not let through (the WebRtcServer\'s one TCP port)', async () => {
    // A site whose firewalls pass no UDP: the gateway offers its TCP candidate alone (media.webrtc.udp false).
    const tcpOnly = await startGateway({ cameras: 50, withConsole: true, media: { webrtc: { workers: 1, port: 0, udp: false } } });
    try {
      const camera = tcpOnly.gateway.access.camerasUnder(tcpOnly.gateway.access.tree.root.code)[3]!;
      const page = await openConsole(browser, tcpOnly.url, 'city-admin');
      await page.waitForSelector('[data-testid=tree-search]');
      const { whepUrl } = await ticketIn(page, camera, 'sub');
      await playWhep(page, { whepUrl, controlUrl: tcpOnly.simulator.controlUrl()!, camera });
      await waitFor('pictures over TCP', async () => (await glassState(page)).frames > 25, 30_000, 250);
      const protocol = await page.evaluate(`(async () => {
        const stats = await window.glassPc.getStats();
        let pair; stats.forEach((s) => { if (s.type === 'transport') pair = stats.get(s.selectedCandidatePairId); });
        return pair ? stats.get(pair.remoteCandidateId).protocol : undefined;
      })()`);
      expect(protocol).toBe('tcp');
      await page.close();
    } finally {
      await tcpOnly.close();
    }
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

  it('ends a revoked viewer\'s WebRTC view within 5 s, and refuses her next offer', async () => {
    const { camera, revoke } = await grantToVillage(gw);
    const page = await loggedIn('village-clerk');
    const { whepUrl } = await ticketIn(page, camera, 'sub');
    await playWhep(page, { whepUrl, controlUrl: gw.simulator.controlUrl()!, camera });
    await waitFor('the clerk\'s pictures', async () => (await glassState(page)).frames > 25, 30_000, 250);
    expect(await revoke()).toBe(200);
    const at = Date.now();
    await waitFor('the view to end on the gateway', () => gw.gateway.webrtc!.sessions.every((x) => x.camera !== camera), 5000, 50);
    const framesAtEnd = (await glassState(page)).frames;
    const endedMs = Date.now() - at;
    expect(endedMs).toBeLessThan(5000);
    // The browser is told (DTLS closed): its connection leaves 'connected', and no picture comes after.
    await waitFor('the browser to see the end', async () => (await glassState(page)).pc !== 'connected', 10_000, 100);
    await page.waitForTimeout(1000);
    expect((await glassState(page)).frames).toBeLessThanOrEqual(framesAtEnd + 2);
    const again = await page.evaluate(async (u) => (await fetch(u, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' })).status, whepUrl);
    expect(again).toBe(403);
    await page.close();
  });
});

describe('a device that pushes RTMP', () => {
  it('appears as a camera and plays over WebRTC', async () => {
    const village = gw.gateway.demoAccounts.find((a) => a.username === 'village-clerk')!.unit;
    const id = `${village.slice(0, 6)}0013${String(Date.now()).slice(-10)}`;
    const admin = await login(gw, 'city-admin');
    const made = await gw.gateway.http.inject({ method: 'POST', url: '/api/cameras/push', headers: { cookie: admin }, payload: { id, name: '无人机 1', unit: village } });
    expect(made.statusCode).toBe(201);
    const pusher = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-framerate', '25', '-f', 'h264', '-i', join(CLIP_DIR, 'sub-640x360-25fps-main-512k-v1.h264'),
      '-c', 'copy', '-f', 'flv', made.json<{ pushUrl: string }>().pushUrl.replace('localhost', '127.0.0.1')], { stdio: 'ignore' });
    try {
      await waitFor('the push', () => gw.gateway.ingest!.isPublishing(id), 15_000, 100);
      const page = await loggedIn('village-clerk');
      const { whepUrl } = await ticketIn(page, id, 'main');
      await playWhep(page, { whepUrl, controlUrl: gw.simulator.controlUrl()!, camera: id });
      const state = await waitPictures(page, 'pictures of the pushed camera', 25);
      expect([state.width, state.height]).toEqual([640, 360]);
      await page.close();
    } finally {
      pusher.kill('SIGKILL');
    }
  });
});

describe('the console plays WebRTC', () => {
  /** openTile logs in and opens camera in the first tile. */
  async function openTile(b: Browser, camera: string): Promise<Page> {
    const page = await openConsole(b, gw.url, 'city-admin');
    await page.waitForSelector('[data-testid=tree-search]');
    await page.fill('[data-testid=tree-search]', camera);
    await page.click(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${camera}"]`);
    await page.waitForSelector('[data-testid=tile][data-index="0"][data-state=live]', { timeout: 30_000 });
    return page;
  }

  it('by default, says so on the tile with its latency class, and plays again within 5 s after its mediasoup worker is killed', async () => {
    const camera = cameras()[20]!;
    const page = await openTile(browser, camera);
    const tile = '[data-testid=tile][data-index="0"]';
    expect(await page.getAttribute(tile, 'data-transport')).toBe('webrtc');
    expect(await page.textContent(`${tile} [data-testid=tile-transport]`)).toMatch(/WebRTC\s*< 0\.5 s/);
    // An administrator's debug overlay shows what the receiver adds (jitter buffer and decoding) and what it gets.
    await page.click(`${tile} [data-testid=tile-debug]`);
    const stats = await page.waitForSelector(`${tile} [data-testid=tile-stats][data-delay-ms]:not([data-delay-ms=""])`, { timeout: 10_000 });
    expect(Number(await stats.getAttribute('data-delay-ms'))).toBeGreaterThanOrEqual(0);
    expect(await stats.textContent()).toMatch(/WebRTC.*1280×720.*接收延迟 \d+ ms/s);
    // And how long the picture shown took from the gateway to the glass (one machine here: well under a second).
    const glassMs = Number(await (await page.waitForSelector(`${tile} [data-testid=tile-stats]:not([data-glass-ms=""])`, { timeout: 10_000 })).getAttribute('data-glass-ms'));
    expect(glassMs).toBeGreaterThanOrEqual(0);
    expect(glassMs).toBeLessThan(1000);
    const pids = gw.gateway.webrtc!.pool.pids();
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, 'SIGKILL');
    const killedAt = Date.now();
    const seen: string[] = [];
    await waitFor('the tile to lose its picture', async () => {
      const st = `${await page.getAttribute(tile, 'data-state')}/${await page.getAttribute(tile, 'data-transport')}`;
      if (seen.at(-1)?.split('@')[0] !== st) seen.push(`${st}@${Date.now() - killedAt}`);
      return !st.startsWith('live/');
    }, 10_000, 50).catch((err: Error) => { throw new Error(`${err.message}; states ${seen.join(' ')}; sessions ${JSON.stringify(gw.gateway.webrtc!.sessions.map((x) => ({ ...x, since: x.since - killedAt })))}`); });
    await page.waitForSelector(`${tile}[data-state=live][data-transport=webrtc]`, { timeout: 10_000 });
    const backMs = Date.now() - killedAt;
    console.log(`WebRTC tile playing again ${backMs} ms after its worker was killed`);
    expect(backMs).toBeLessThan(5000);
    expect(gw.gateway.webrtc!.pool.pids()[0]).not.toBe(pids[0]);
    await page.close();
  });

  it('falls back to LL-HLS by itself where WebRTC cannot connect, and says why', async () => {
    // The gateway announces an address no browser reaches (a NAT set up wrong, a firewall that lets only HTTP
    // through): the offer is answered, ICE never connects.
    const walled = await startGateway({ cameras: 50, withConsole: true, media: { webrtc: { workers: 1, port: 0, announcedIp: '192.0.2.1' } } });
    try {
      const camera = walled.gateway.access.camerasUnder(walled.gateway.access.tree.root.code)[3]!;
      const page = await openConsole(browser, walled.url, 'city-admin');
      await page.waitForSelector('[data-testid=tree-search]');
      await page.fill('[data-testid=tree-search]', camera);
      await page.click(`[data-testid=search-results] [data-testid=tree-camera][data-camera="${camera}"]`);
      const tile = '[data-testid=tile][data-index="0"]';
      await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 30_000 });
      expect(await page.getAttribute(tile, 'data-transport')).toBe('ll-hls');
      expect(await page.textContent(`${tile} [data-testid=tile-transport]`)).toMatch(/LL-HLS/);
      expect(await page.getAttribute(`${tile} [data-testid=tile-transport]`, 'title')).toMatch(/^已改用 LL-HLS: WebRTC 未能连接$/);
      await page.close();
    } finally {
      await walled.close();
    }
  });

  it('shows a camera that dies as offline, not as a frozen picture', async () => {
    const camera = cameras()[22]!;
    const page = await openTile(browser, camera);
    const tile = '[data-testid=tile][data-index="0"]';
    await setFaults(gw.simulator, camera, { offline: true });
    expect((await fetch(`${gw.simulator.controlUrl()}/cameras/${camera}/sessions`, { method: 'DELETE' })).status).toBe(200);
    await waitFor('the tile to say the camera is gone', async () => {
      const state = await page.getAttribute(tile, 'data-state');
      return state === 'stalled' || state === 'reconnecting' || state === 'offline' ? state : undefined;
    }, 15_000, 100);
    await setFaults(gw.simulator, camera, { offline: false });
    await page.waitForSelector(`${tile}[data-state=live]`, { timeout: 30_000 });
    await page.close();
  });
});
