// The video wall, measured: an operator's command to the first decoded frame in the display's tile (the camera
// already live, and cold); tour steps (was the next camera playing behind before its turn, and how long from the old
// picture's last frame to the new one's first); a 4-screen × 16-tile wall on sub streams (gateway, mediasoup worker
// and display browsers' CPU and memory, and the frame rate the displays show).
import type { Browser, Page } from 'playwright-core';
import { launchChromium, login, startGateway, waitFor, type TestGateway } from '../support/harness.js';
import { children, cpuSeconds, memoryKb } from './proc-stats.js';
import { fixed, log, machineLine, quantiles } from './bench-util.js';
import type { ScreenStats } from '../../console/src/display/display-screen.js';

export interface WallBenchOptions {
  samples: number;
  /** windowS is how long the 64-tile wall is measured. */
  windowS: number;
  /** steps is how many tour steps are watched. */
  steps: number;
  parts: string[];
}

interface Rig { gw: TestGateway; browser: Browser; cookie: string; unit: string }

async function command(r: Rig, wall: number, cmd: Record<string, unknown>): Promise<void> {
  const version = r.gw.gateway.walls.get(wall)!.version;
  const res = await r.gw.gateway.http.inject({ method: 'POST', url: `/api/walls/${wall}/commands`, headers: { cookie: r.cookie }, payload: { version, command: cmd } });
  if (res.statusCode !== 200) throw new Error(`wall command failed: ${res.statusCode} ${res.body}`);
}

async function makeWall(r: Rig, rows: number, cols: number, split: number): Promise<{ id: number; pages: Page[] }> {
  const res = await r.gw.gateway.http.inject({ method: 'POST', url: '/api/walls', headers: { cookie: r.cookie }, payload: { name: `bench ${rows}x${cols}x${split}`, unit: r.unit, rows, cols, split } });
  const id = res.json<{ id: number }>().id;
  const pages: Page[] = [];
  for (let screen = 0; screen < rows * cols; screen++) {
    const d = await r.gw.gateway.http.inject({ method: 'POST', url: `/api/walls/${id}/displays`, headers: { cookie: r.cookie }, payload: { screen, name: `s${screen}` } });
    const ctx = await r.browser.newContext({ viewport: { width: 960, height: 540 } });
    const page = await ctx.newPage();
    await page.goto(r.gw.url + d.json<{ url: string }>().url);
    pages.push(page);
  }
  return { id, pages };
}

const stats = (page: Page): Promise<ScreenStats> => page.evaluate(() => (window as unknown as { __display: { stats: () => ScreenStats } }).__display.stats());

/** firstFrame waits for tile key to show camera and answers when its first frame was shown (epoch ms). */
async function firstFrame(page: Page, key: string, camera: string): Promise<number> {
  const p = await waitFor(`${key} shows ${camera}`, async () => {
    const x = (await stats(page)).pictures.find((q) => q.key === key);
    return x && x.camera === camera && x.firstFrameAt !== null ? x : undefined;
  }, 30_000, 20);
  return p.firstFrameAt!;
}

/** commandToFrame: a camera put on a tile (the previous one cleared first), to its first frame on the display. */
async function commandToFrame(r: Rig, o: WallBenchOptions): Promise<void> {
  const { id, pages } = await makeWall(r, 1, 1, 4);
  const page = pages[0]!;
  const cams = r.gw.gateway.access.camerasUnder(r.unit).filter((c) => !r.gw.gateway.catalog.camera(c)?.mainUrl?.startsWith('rtmp-push:'));
  const viewer = { key: 'bench-holder', user: 'bench', unit: r.unit };
  for (const mode of ['live', 'cold'] as const) {
    const times: number[] = [];
    for (let i = 0; i < o.samples; i++) {
      const camera = cams[(mode === 'live' ? 0 : o.samples) + i]!;
      if (mode === 'live') {
        // Already live in the gateway (another viewer holds its main stream, as a busy centre's cameras are).
        r.gw.gateway.hub.open(camera, 'main', viewer);
        await r.gw.gateway.hub.waitLive(camera, 'main', 20_000);
      }
      await command(r, id, { op: 'clear', target: { screen: 0, tile: 0 } });
      await waitFor('cleared', async () => (await stats(page)).pictures.find((q) => q.key === 't0.0')?.camera === null, 10_000, 20);
      const t0 = Date.now();
      await command(r, id, { op: 'assign', target: { screen: 0, tile: 0 }, camera });
      times.push((await firstFrame(page, 't0.0', camera)) - t0);
    }
    const q = quantiles(times);
    log(`command to first decoded frame on the display, camera ${mode === 'live' ? 'already live' : 'cold (not pulled yet)'}: p50 ${fixed(q.median, 0)} ms, p95 ${fixed(q.p95, 0)} ms, max ${fixed(q.max, 0)} ms (${times.length} commands, a quarter tile on the main stream, the simulator's GOP is 2 s)`);
  }
  await Promise.all(pages.map((p) => p.context().close()));
}

/** tourSteps: a tour of cameras through 4 tiles every 6 s; each switch is judged by what the display measured. */
async function tourSteps(r: Rig, o: WallBenchOptions): Promise<void> {
  const { id, pages } = await makeWall(r, 1, 1, 4);
  const page = pages[0]!;
  const cams = r.gw.gateway.access.camerasUnder(r.unit).slice(60, 76);
  const targets = [0, 1, 2, 3].map((tile) => ({ screen: 0, tile }));
  const made = await r.gw.gateway.http.inject({ method: 'POST', url: `/api/walls/${id}/tours`, headers: { cookie: r.cookie }, payload: { name: 'bench', cameras: cams, targets, intervalSeconds: 6 } });
  const tour = made.json<{ id: number }>().id;
  await r.gw.gateway.http.inject({ method: 'POST', url: `/api/walls/${id}/tours/${tour}/start`, headers: { cookie: r.cookie } });
  // The first step starts every tile cold; the steps after it are the ones judged.
  await waitFor('the first step playing', async () => (await stats(page)).pictures.filter((p) => p.live).length === 4, 30_000);
  const from = (await stats(page)).switches.length;
  await waitFor(`${o.steps} steps`, async () => (await stats(page)).switches.length - from >= o.steps * 4 && (await stats(page)).switches.slice(from).every((s) => s.gapMs !== null), (o.steps + 2) * 6_000 + 10_000, 200);
  const sw = (await stats(page)).switches.slice(from);
  const gaps = sw.map((s) => s.gapMs!);
  const q = quantiles(gaps);
  const black = sw.filter((s) => !s.ready).length;
  log(`tour steps: ${sw.length} tile switches (${o.steps} steps × 4 tiles, every 6 s): ${sw.length - black} with the next camera already playing behind, ${black} shown black first; old picture's last frame to the new one's first: p50 ${fixed(q.median, 0)} ms, p95 ${fixed(q.p95, 0)} ms, max ${fixed(q.max, 0)} ms (a frame is 40 ms)`);
  await Promise.all(pages.map((p) => p.context().close()));
}

/** treeCpu sums the CPU seconds of a process and all its descendants. */
function treeCpu(pid: number): number {
  let s = 0;
  try { s += cpuSeconds(pid); } catch { return 0; }
  for (const c of children(pid)) s += treeCpu(c.pid);
  return s;
}
function treeRssMb(pid: number): number {
  let kb = 0;
  try { kb += memoryKb(pid).rss; } catch { return 0; }
  for (const c of children(pid)) kb += treeRssMb(c.pid) * 1024;
  return kb / 1024;
}

/** bigWall: 4 screens of 16 tiles, 64 sub streams, measured over a window. */
async function bigWall(r: Rig, o: WallBenchOptions): Promise<void> {
  const { id, pages } = await makeWall(r, 2, 2, 16);
  const cams = r.gw.gateway.access.camerasUnder(r.unit).filter((c) => !r.gw.gateway.catalog.camera(c)?.mainUrl?.startsWith('rtmp-push:')).slice(100, 164);
  for (let i = 0; i < 64; i++) await command(r, id, { op: 'assign', target: { screen: Math.floor(i / 16), tile: i % 16 }, camera: cams[i]! });
  const t0 = Date.now();
  await waitFor('64 tiles playing', async () => (await Promise.all(pages.map(stats))).every((s) => s.pictures.filter((p) => p.live).length === 16), 120_000, 500);
  log(`4 × 16-tile wall: all 64 tiles playing ${fixed((Date.now() - t0) / 1000, 1)} s after the 64 commands`);
  const worker = r.gw.gateway.webrtc?.pool.pids()[0];
  // Chromium is a child of this process (playwright launched it).
  const browserPid = children(process.pid).find((c) => /chrom/i.test(c.cmd))?.pid;
  const before = { frames: (await Promise.all(pages.map(stats))).map((s) => s.pictures.reduce((n, p) => n + p.frames, 0)), node: process.cpuUsage(), worker: worker ? cpuSeconds(worker) : 0, browser: browserPid ? treeCpu(browserPid) : 0, at: Date.now() };
  await new Promise((res) => setTimeout(res, o.windowS * 1000));
  const after = { frames: (await Promise.all(pages.map(stats))).map((s) => s.pictures.reduce((n, p) => n + p.frames, 0)), node: process.cpuUsage(before.node), worker: worker ? cpuSeconds(worker) : 0, browser: browserPid ? treeCpu(browserPid) : 0, at: Date.now() };
  const secs = (after.at - before.at) / 1000;
  const fps = after.frames.map((f, i) => (f - before.frames[i]!) / secs / 16);
  const mem = process.memoryUsage();
  log(`4 × 16-tile wall over ${fixed(secs, 0)} s: display frame rate per tile ${fps.map((f) => fixed(f, 1)).join(' / ')} fps (screens 1-4; the cameras send 25)`);
  log(`  gateway process (with its simulator, 64 sub streams pulled once each): ${fixed((after.node.user + after.node.system) / 1e6 / secs, 2)} CPU-s/s, RSS ${fixed(mem.rss / 2 ** 20, 0)} MB, heap ${fixed(mem.heapUsed / 2 ** 20, 0)} MB`);
  if (worker) log(`  mediasoup worker (64 WebRTC views): ${fixed((after.worker - before.worker) / secs, 2)} CPU-s/s, RSS ${fixed(memoryKb(worker).rss / 1024, 0)} MB`);
  if (browserPid) log(`  display browsers (4 pages, one Chromium, software decoding): ${fixed((after.browser - before.browser) / secs, 2)} CPU-s/s, RSS ${fixed(treeRssMb(browserPid), 0)} MB`);
  await Promise.all(pages.map((p) => p.context().close()));
}

/** runWallBench runs the wall's benchmarks. */
export async function runWallBench(o: WallBenchOptions): Promise<void> {
  log(`wall benchmark on ${machineLine()}`);
  const gw = await startGateway({ cameras: 400, withConsole: true, media: { maxStreamsPerUser: 200, maxStreamsPerUnit: 300 } });
  const browser = await launchChromium();
  try {
    const rig: Rig = { gw, browser, cookie: await login(gw, 'city-admin'), unit: gw.gateway.access.tree.root.code };
    if (o.parts.includes('command')) await commandToFrame(rig, o);
    if (o.parts.includes('tour')) await tourSteps(rig, o);
    if (o.parts.includes('wall')) await bigWall(rig, o);
  } finally {
    await browser.close();
    await gw.close();
  }
}
