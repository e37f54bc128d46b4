// The in-process media core: N main streams read by the gateway itself (RTSP, depacketizers, frame bus, LL-HLS in
// memory) side by side with one plain ffmpeg per camera writing HLS; event-loop delay with every stream live; time to
// first frame in hls.js; glass-to-glass latency of LL-HLS and plain HLS, read off the pictures of the counter clip.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { glassState, playCounter } from '../support/glass-page.js';
import { CHROMIUM_ARGS, openConsole, ROOT } from '../support/harness.js';
import { bar, fixed as f, log, machineLine, quantiles } from './bench-util.js';
import { cameraIds, firstFrameRun, measure, openLive, plainFfmpegRun, session, setWindow, startGateway, type Measure } from './hls-bench.js';
import { children, memoryKb } from './proc-stats.js';

const TOKEN = 'bench-metrics-token-0123456789';
const PASSWORD = 'Demo#2026';

/** CoreBenchOptions choose the sizes, the CPU window and the samples. */
export interface CoreBenchOptions {
  sizes: number[];
  windowS: number;
  samples: number;
  /** glassS is how long glass-to-glass latency is sampled for each protocol. */
  glassS: number;
}

/** eventLoopP99 reads the gateway's event-loop delay p99 since the last read (prom-client resets it on each). */
async function eventLoopP99(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const m = /^sge_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
  if (!m) throw new Error('the gateway did not report its event-loop delay');
  return Number(m[1]) * 1000;
}

/** HLS_DIR is where the gateway writes finished segments in this benchmark: tmpfs, measured apart from the process. */
const HLS_DIR = `/dev/shm/seg-bench-core-${process.pid}`;
// The health sweep of the 33,000 demo cameras is not media work: it is off, and the idle gateway's CPU is subtracted.
const CORE_ENV = {
  SEG__MEDIA__ENGINE: 'core', SEG__METRICS__BEARER_TOKEN: TOKEN, SEG__MEDIA__MAX_STREAMS_PER_USER: '1000', SEG__MEDIA__MAX_STREAMS_PER_UNIT: '1000',
  SEG__HEALTH__ENABLED: 'false', SEG__MEDIA__HLS_DIR: HLS_DIR,
};

/** tmpfsKb is what the gateway's finished segments take on tmpfs now. */
function tmpfsKb(): number {
  try {
    return Number(execFileSync('du', ['-sk', HLS_DIR], { encoding: 'utf8' }).split(/\s+/)[0]);
  } catch {
    return 0;
  }
}

async function coreRun(n: number): Promise<Measure & { allLiveS: number; eventLoopP99Ms: number; processes: number; idleCpuS: number; tmpfsMbPerStream: number }> {
  const gw = await startGateway(CORE_ENV);
  try {
    const cookie = await session(gw.base, 'city-admin');
    const ids = await cameraIds(gw.base, cookie, n);
    // What the gateway costs with nothing live, over the same window: the per-stream figures are what streams add.
    const idle = await measure(gw.child.pid!, () => [], 1);
    const baseline = memoryKb(gw.child.pid!);
    const t0 = performance.now();
    let done = 0;
    bar(`media core, ${n} streams live`, 0, n);
    // Opened a few at a time, as tiles and walls open them; each waits for its playlist.
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(ids.slice(i, i + 25).map((id) => openLive(gw.base, cookie, id).then(() => bar(`media core, ${n} streams live`, ++done, n))));
    }
    const allLiveS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const processes = children(gw.child.pid!).filter((c) => c.cmd.startsWith('ffmpeg')).length;
    await eventLoopP99(gw.base);
    const m = await measure(gw.child.pid!, () => [], n, baseline, gw.simulatorPid);
    const eventLoopP99Ms = await eventLoopP99(gw.base);
    const tmpfsMbPerStream = tmpfsKb() / 1024 / n;
    return { ...m, cpuPerStreamPerS: m.cpuPerStreamPerS - idle.cpuPerStreamPerS / n, allLiveS, eventLoopP99Ms, processes, idleCpuS: idle.cpuPerStreamPerS, tmpfsMbPerStream };
  } finally {
    await gw.stop();
  }
}

/** glassRun samples glass-to-glass latency of one counter camera, LL-HLS and plain, with background streams live. */
async function glassRun(background: number, seconds: number): Promise<{ ll: number[]; plain: number[]; llTarget?: number }> {
  const gw = await startGateway(CORE_ENV);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const cookie = await session(gw.base, 'city-admin');
    const ids = await cameraIds(gw.base, cookie, background + 2);
    for (let i = 0; i < background; i += 25) await Promise.all(ids.slice(i, i + 25).map((id) => openLive(gw.base, cookie, id)));
    const out: { ll: number[]; plain: number[]; llTarget?: number } = { ll: [], plain: [] };
    for (const [k, lowLatency] of [['ll', true], ['plain', false]] as const) {
      const camera = ids[background + (lowLatency ? 0 : 1)]!;
      const put = await fetch(`http://127.0.0.1:${gw.controlPort}/cameras/${camera}/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ counter: true }) });
      if (!put.ok) throw new Error(`the simulator refused the counter clip: ${put.status}`);
      const page = await openConsole(browser, gw.base, 'city-admin', PASSWORD, { width: 1280, height: 800 });
      await page.waitForSelector('[data-testid=tree-search]');
      // A string: a function would reach the page as the runner compiled it, with helpers the page lacks.
      let url = await page.evaluate(`fetch('/api/streams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ camera: ${JSON.stringify(camera)}, profile: 'sub' }) }).then((r) => r.json()).then((j) => j.playlistUrl)`) as string;
      if (!lowLatency) url = url.replace('/index.m3u8', '/plain.m3u8');
      await playCounter(page, { playlistUrl: url, lowLatency, controlUrl: `http://127.0.0.1:${gw.controlPort}`, camera, sampleEveryMs: 200 });
      // hls.js settles on its target latency first (it speeds up to reach it): samples are taken after.
      await new Promise((r) => setTimeout(r, 8000));
      const before = (await glassState(page)).samples.length;
      bar(`glass-to-glass ${lowLatency ? 'LL-HLS' : 'plain HLS'}`, 0, seconds);
      for (let s = 1; s <= seconds; s++) {
        await new Promise((r) => setTimeout(r, 1000));
        bar(`glass-to-glass ${lowLatency ? 'LL-HLS' : 'plain HLS'}`, s, seconds);
      }
      const state = await glassState(page);
      if (state.errors.length > 0) log(`glass page said: ${state.errors.join('; ')}`);
      out[k] = state.samples.slice(before).flatMap((x) => (x.latencyMs === undefined ? [] : [x.latencyMs]));
      if (lowLatency) out.llTarget = state.targetLatency;
      await page.close();
    }
    return out;
  } finally {
    await browser.close();
    await gw.stop();
  }
}

/** runCoreBench prints and saves the figures of the media core. */
export async function runCoreBench(opts: CoreBenchOptions): Promise<void> {
  setWindow(opts.windowS);
  const machine = machineLine();
  log(`machine: ${machine}`);
  log(`clip: main 1280x720 H.264 High 2 Mbps 25 fps, 2 s GOP; LL-HLS parts of 0.3 s, segments cut at keyframes (2 s); CPU window ${opts.windowS} s`);
  // The first start seeds the demo store (33,000 cameras): its garbage is not to weigh on the first size's baseline.
  await (await startGateway(CORE_ENV)).stop();
  const rows: Array<{ streams: number; core: Awaited<ReturnType<typeof coreRun>>; plainHls: Measure }> = [];
  for (const n of opts.sizes) {
    log(`${n} cameras through the media core (no process per stream)`);
    const core = await coreRun(n);
    log(`${n} cameras through plain "ffmpeg -c copy -f hls" to tmpfs, one per camera (reference)`);
    const plainHls = await plainFfmpegRun(n, 'hls');
    rows.push({ streams: n, core, plainHls });
    log(`N=${n}: core CPU ${f(core.cpuPerStreamPerS, 4)} s/stream/s over an idle ${f(core.idleCpuS, 3)} s/s (plain ffmpeg to HLS ${f(plainHls.cpuPerStreamPerS, 4)}); RSS ${f(core.rssMbPerStream, 2)} MB/stream (plain ${f(plainHls.rssMbPerStream, 1)}); PSS ${f(core.pssMbPerStream, 2)} MB/stream (plain ${f(plainHls.pssMbPerStream, 1)}); finished segments on tmpfs ${f(core.tmpfsMbPerStream, 2)} MB/stream; event loop p99 ${f(core.eventLoopP99Ms, 1)} ms; ffmpeg processes ${core.processes}; all live in ${f(core.allLiveS, 1)} s`);
  }
  log(`time to first frame in hls.js (Chromium console tile, click to first decoded frame, 10 other streams live, ${opts.samples} samples each)`);
  const ttff = await firstFrameRun(CORE_ENV, opts.samples);
  log(`glass-to-glass latency (counter clip 640x360, 50 other streams live, ${opts.glassS} s each)`);
  const glass = await glassRun(50, opts.glassS);
  const live = quantiles(ttff.live);
  const cold = quantiles(ttff.cold);
  const ll = quantiles(glass.ll);
  const plain = quantiles(glass.plain);
  const lines = [
    '',
    `media core benchmark — ${new Date().toISOString()}`,
    `machine: ${machine}`,
    '',
    'CPU in s per stream per s (the gateway process over its idle self, segments included; no child processes); memory in MB per stream over the idle gateway;',
    'tmpfs: the finished segments of the HLS window, written as ffmpeg writes its own (plain ffmpeg\'s are on tmpfs too, not counted in its RSS either)',
    'streams | core CPU | plain HLS CPU | core RSS | plain RSS | core PSS | plain PSS | core tmpfs | event loop p99 (ms) | all live (s)',
    ...rows.map((r) => `${String(r.streams).padStart(7)} | ${f(r.core.cpuPerStreamPerS, 4).padStart(8)} | ${f(r.plainHls.cpuPerStreamPerS, 4).padStart(13)} | ${f(r.core.rssMbPerStream, 2).padStart(8)} | ${f(r.plainHls.rssMbPerStream, 1).padStart(9)} | ${f(r.core.pssMbPerStream, 2).padStart(8)} | ${f(r.plainHls.pssMbPerStream, 1).padStart(9)} | ${f(r.core.tmpfsMbPerStream, 2).padStart(10)} | ${f(r.core.eventLoopP99Ms, 1).padStart(19)} | ${f(r.core.allLiveS, 1).padStart(12)}`),
    '',
    `time to first frame, live stream: median ${live.median} ms, p90 ${live.p90} ms, p95 ${live.p95} ms, max ${live.max} ms (n=${ttff.live.length}; goal p95 < 500)`,
    `time to first frame, cold stream: median ${cold.median} ms, p90 ${cold.p90} ms, p95 ${cold.p95} ms, max ${cold.max} ms (n=${ttff.cold.length}; goal < GOP 2000 + 500)`,
    `glass-to-glass, LL-HLS: median ${ll.median} ms, p95 ${ll.p95} ms (n=${glass.ll.length}; hls.js target latency ${glass.llTarget} s; goal p95 < 1500)`,
    `glass-to-glass, plain HLS: median ${plain.median} ms, p95 ${plain.p95} ms (n=${glass.plain.length})`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  mkdirSync(join(ROOT, 'var/bench'), { recursive: true });
  const file = join(ROOT, 'var/bench', `core-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, windowS: opts.windowS, rows, ttff, glass }, null, 2));
  log(`saved ${file}`);
  rmSync(HLS_DIR, { recursive: true, force: true });
}
