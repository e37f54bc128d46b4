// Rooms, measured: join time (an invite link opened to the first remote frame on the guest's page), and a 1-to-N
// conference (the host sending simulcast from a fake camera, 720p on top, N pages receiving its 360p layer): the
// mediasoup worker's and the gateway's CPU, and the frame rate and picture size the receivers show.
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, login, startGateway, waitFor, type TestGateway } from '../support/harness.js';
import { children, cpuSeconds, memoryKb } from './proc-stats.js';
import { fixed, log, machineLine, quantiles } from './bench-util.js';

export interface RoomsBenchOptions { samples: number; receivers: number; windowS: number; simulcast?: boolean }

async function hostRoom(gw: TestGateway, cookie: string): Promise<{ room: string; host: string }> {
  const made = await gw.gateway.http.inject({ method: 'POST', url: '/api/rooms', headers: { cookie }, payload: { kind: 'mediation', title: 'bench', members: [] } });
  const room = made.json<{ id: string }>().id;
  const host = (await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/join`, headers: { cookie } })).json<{ participant: string }>().participant;
  return { room, host };
}

async function invite(gw: TestGateway, cookie: string, room: string): Promise<string> {
  const r = await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/invites`, headers: { cookie }, payload: { name: 'guest', role: 'observer', minutes: 60 } });
  return r.json<{ url: string }>().url;
}

/** hostPage logs the host in and has her room page send her fake camera (720p). */
async function hostPage(gw: TestGateway, browser: Browser, room: string, simulcast: boolean): Promise<Page> {
  const page = await browser.newPage();
  // The console's client reads this switch before it sends (RoomClient.simulcast).
  if (simulcast) await page.addInitScript(() => { (window as unknown as { __roomSimulcast: boolean }).__roomSimulcast = true; });
  await page.goto(gw.url);
  await page.fill('input[name=username]', 'county-admin');
  await page.fill('input[name=password]', 'Demo#2026');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=nav-rooms]');
  await page.click('[data-testid=nav-rooms]');
  await page.click('[data-testid=room-item] [data-testid=room-enter]', { timeout: 10_000 }).catch(async (err: unknown) => {
    await page.screenshot({ path: '/tmp/rooms-bench.png' });
    throw err;
  });
  await page.waitForSelector(`[data-testid=room-view][data-room="${room}"]`);
  return page;
}

const remoteFrames = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid=room-remote] video')).reduce((n, v) => n + v.getVideoPlaybackQuality().totalVideoFrames, 0));

/** runRoomsBench runs the rooms' benchmarks. */
export async function runRoomsBench(o: RoomsBenchOptions): Promise<void> {
  log(`rooms benchmark on ${machineLine()}`);
  const gw = await startGateway({ cameras: 200, withConsole: true, media: { webrtc: { workers: 1, port: 0, maxViewers: 500 } } });
  let hostBrowser: Browser | undefined;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  try {
    const cookie = await login(gw, 'county-admin');
    const { room } = await hostRoom(gw, cookie);
    // The host has a browser of her own (her own computer): the receivers' decoding does not starve her encoder's process.
    hostBrowser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
    const host = await hostPage(gw, hostBrowser, room, o.simulcast ?? false);
    await waitFor('the host sending', () => gw.gateway.roomMedia!.publishing(room).length > 0 ? true : undefined, 20_000);
    // Join time: each guest opens a fresh link in a browser of its own, to the host's first frame decoded.
    const times: number[] = [];
    for (let i = 0; i < o.samples; i++) {
      const url = await invite(gw, cookie, room);
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      const t0 = Date.now();
      await page.goto(gw.url + url);
      await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid=room-remote] video')).some((v) => v.getVideoPlaybackQuality().totalVideoFrames > 0), undefined, { timeout: 30_000, polling: 20 });
      times.push(Date.now() - t0);
      await ctx.close();
    }
    const q = quantiles(times);
    log(`join time (invite link opened to the host's first decoded frame, the page loaded cold): p50 ${fixed(q.median, 0)} ms, p95 ${fixed(q.p95, 0)} ms, max ${fixed(q.max, 0)} ms (${times.length} guests)`);

    // 1-to-N: N observers receiving the host; CPU over a window.
    const pages: Page[] = [];
    for (let i = 0; i < o.receivers; i++) {
      const page = await (await browser.newContext({ viewport: { width: 640, height: 360 } })).newPage();
      await page.goto(gw.url + await invite(gw, cookie, room), { timeout: 120_000 });
      pages.push(page);
    }
    await Promise.all(pages.map((p) => p.waitForFunction(() => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid=room-remote] video')).some((v) => v.getVideoPlaybackQuality().totalVideoFrames > 10), undefined, { timeout: 60_000, polling: 250 })));
    const worker = gw.gateway.webrtc!.pool.pids()[0]!;
    const browserPid = children(process.pid).find((c) => /chrom/i.test(c.cmd))?.pid;
    void browserPid;
    const f0 = await Promise.all(pages.map(remoteFrames));
    const w0 = cpuSeconds(worker);
    const n0 = process.cpuUsage();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, o.windowS * 1000));
    const secs = (Date.now() - t0) / 1000;
    const f1 = await Promise.all(pages.map(remoteFrames));
    const w1 = cpuSeconds(worker);
    const n1 = process.cpuUsage(n0);
    const fps = f1.map((f, i) => (f - f0[i]!) / secs);
    const fq = quantiles(fps);
    const sizes = await Promise.all(pages.map((p) => p.evaluate(() => { const v = document.querySelector<HTMLVideoElement>('[data-testid=room-remote] video'); return v ? `${v.videoWidth}x${v.videoHeight}` : '-'; })));
    const bySize = [...new Set(sizes)].map((z) => `${sizes.filter((x) => x === z).length} at ${z}`).join(', ');
    const layers = await gw.gateway.roomMedia!.layersSent(room, (await host.getAttribute('[data-testid=room-view]', 'data-me')) ?? '');
    log(o.simulcast
      ? `1-to-${o.receivers} conference (the host's fake camera in simulcast, 720p on top, to ${o.receivers} receiving pages, each given the 360p layer a grid tile needs) over ${fixed(secs, 0)} s:`
      : `1-to-${o.receivers} conference (the host's fake 720p camera as one stream to ${o.receivers} receiving pages) over ${fixed(secs, 0)} s:`);
    log(`  pictures received: ${bySize}; the host sends ${layers.map((l) => `${l.rid} ${fixed(l.bitrate / 1000, 0)} kb/s`).join(', ') || '(layers not read)'}`);
    log(`  mediasoup worker ${fixed((w1 - w0) / secs, 3)} CPU-s/s, RSS ${fixed(memoryKb(worker).rss / 1024, 0)} MB; gateway process ${fixed((n1.user + n1.system) / 1e6 / secs, 3)} CPU-s/s`);
    log(`  receivers' frame rate: p50 ${fixed(fq.median, 1)} fps, min ${fixed(Math.min(...fps), 1)} fps${browserPid ? ' (all the pages in one headless Chromium on this machine)' : ''}`);
    void host;
  } finally {
    await hostBrowser?.close();
    await browser.close();
    await gw.close();
  }
}
