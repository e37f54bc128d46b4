// The HLS media path: N cameras through the gateway against one plain ffmpeg each; time to first frame in hls.js.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CLIP_DIR, ROOT, freePort, openConsole, tempDir, waitFor } from '../support/harness.js';
import { children, cpuSeconds, memoryKb } from './proc-stats.js';
import { bar, fixed as f, log, machineLine, quantiles as stats } from './bench-util.js';
import { chromium } from 'playwright-core';

let dir: ReturnType<typeof tempDir> | undefined;
let WINDOW_S = 15;
let SAMPLES = 5;
const PASSWORD = 'Demo#2026';


export interface RunningGateway {
  child: ChildProcess;
  base: string;
  rtspPort: number;
  simulatorPid: number;
  controlPort: number;
  stop(): Promise<void>;
}

/** setWindow sets the CPU measuring window of measure(), in seconds. */
export function setWindow(seconds: number): void {
  WINDOW_S = seconds;
}

/** simulatorPort is chosen once per run: the seeded store keeps camera URLs with this port across gateway restarts. */
let simulatorPort = 0;

/** startGateway runs the gateway (and its embedded simulator) as a child process; env adds settings. */
export async function startGateway(extra: Record<string, string> = {}): Promise<RunningGateway> {
  const port = await freePort();
  dir ??= tempDir('seg-bench-');
  simulatorPort ||= await freePort();
  const rtspPort = simulatorPort;
  const controlPort = await freePort();
  const env = {
    ...process.env,
    SEG__HTTP__PORT: String(port), SEG__STORE__PATH: join(dir.path, 'bench.db'), SEG__SECRETS__KEY_FILE: join(dir.path, 'master.key'),
SEG__MEDIA__IDLE_LINGER_SECONDS: '600', SEG__MEDIA__MAX_STREAMS: '1000',
    SEG__DEMO__SIMULATOR__RTSP_PORT: String(rtspPort), SEG__DEMO__SIMULATOR__CONTROL_PORT: String(controlPort), SEG__DEMO__SIMULATOR__ONVIF_PORT: String(await freePort()), SEG__DEMO__SIMULATOR__DISCOVERABLE: '0',
    SEG__DEMO__SIMULATOR__CLIP_DIR: CLIP_DIR, SEG__LOG__LEVEL: 'info',
    ...extra,
  };
  // BENCH_NODE_ARGS adds flags for the gateway's node (--cpu-prof, which NODE_OPTIONS may not carry).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // --initial-old-space-size as scripts/start.sh runs the gateway.
  const child = spawn(process.execPath, ['--initial-old-space-size=256', ...nodeArgs, '--import', 'tsx', 'gateway/src/main.ts', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logFile = join(ROOT, 'var/bench', `gateway-${Date.now()}.log`);
  mkdirSync(join(ROOT, 'var/bench'), { recursive: true });
  const keep = (d: Buffer) => { out += d.toString(); appendFileSync(logFile, d); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await waitFor(`the gateway to start (${out})`, () => out.includes('Sharp Eyes Gateway is running'), 120_000, 200);
  const sim = children(child.pid!).find((c) => c.cmd.includes('simulator/main.ts'));
  if (!sim) throw new Error('the simulator child was not found');
  return {
    child, base: `http://127.0.0.1:${port}`, rtspPort, simulatorPid: sim.pid, controlPort,
    async stop() {
      const t0 = performance.now();
      child.kill('SIGTERM');
      try {
        await waitFor('the gateway to exit', () => child.exitCode !== null || child.signalCode !== null, 20_000);
      } catch {
        log(`the gateway did not exit within 20 s of SIGTERM (see ${logFile}); killing it`);
        child.kill('SIGKILL');
        await waitFor('the gateway to die', () => child.signalCode !== null || child.exitCode !== null, 5000);
      }
      if (performance.now() - t0 > 5000) log(`note: the gateway took ${Math.round(performance.now() - t0)} ms to stop`);
    },
  };
}

export async function session(base: string, username: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
  if (!res.ok) throw new Error(`login failed: ${res.status}`);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

export async function cameraIds(base: string, cookie: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const tree = await (await fetch(`${base}/api/tree`, { headers: { cookie } })).json() as { root: { code: string } };
  const queue = [tree.root.code];
  while (ids.length < count && queue.length > 0) {
    const c = await (await fetch(`${base}/api/units/${queue.shift()}/children`, { headers: { cookie } })).json() as { units: Array<{ code: string }>; cameras: Array<{ id: string }> };
    ids.push(...c.cameras.map((x) => x.id));
    queue.push(...c.units.map((u) => u.code));
  }
  return ids.slice(0, count);
}

export async function openLive(base: string, cookie: string, camera: string, profile: 'main' | 'sub' = 'main'): Promise<string> {
  const ticket = await (await fetch(`${base}/api/streams`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ camera, profile }) })).json() as { playlistUrl: string };
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await fetch(`${base}${ticket.playlistUrl}`);
    if (res.ok) return ticket.playlistUrl;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`camera ${camera} did not go live`);
}

export interface Measure {
  cpuPerStreamPerS: number;
  rssMbPerStream: number;
  pssMbPerStream: number;
  simulatorCpuPerStreamPerS?: number;
}

/** measure samples CPU over the window and memory at its end, for a parent and its ffmpeg children. */
export async function measure(parentPid: number | undefined, ffmpegPids: () => number[], streams: number, baseline = { rss: 0, pss: 0 }, simulatorPid?: number): Promise<Measure> {
  const pids = () => [...(parentPid ? [parentPid] : []), ...ffmpegPids()];
  const cpu0 = pids().reduce((s, p) => s + cpuSeconds(p), 0);
  const sim0 = simulatorPid ? cpuSeconds(simulatorPid) : 0;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const cpu1 = pids().reduce((s, p) => s + cpuSeconds(p), 0);
  const sim1 = simulatorPid ? cpuSeconds(simulatorPid) : 0;
  const secs = (performance.now() - t0) / 1000;
  const mem = pids().map((p) => ({ pid: p, ...memoryKb(p) }));
  const rss = mem.reduce((s, m) => s + m.rss, 0) - baseline.rss;
  const pss = mem.reduce((s, m) => s + m.pss, 0) - baseline.pss;
  return {
    cpuPerStreamPerS: (cpu1 - cpu0) / secs / streams,
    rssMbPerStream: rss / 1024 / streams,
    pssMbPerStream: pss / 1024 / streams,
    simulatorCpuPerStreamPerS: simulatorPid ? (sim1 - sim0) / secs / streams : undefined,
  };
}

async function gatewayRun(n: number): Promise<Measure & { allLiveS: number }> {
  const gw = await startGateway({ SEG__MEDIA__ENGINE: 'ffmpeg' });
  try {
    const cookie = await session(gw.base, 'city-admin');
    const ids = await cameraIds(gw.base, cookie, n);
    const baseline = memoryKb(gw.child.pid!);
    const t0 = performance.now();
    let done = 0;
    bar(`gateway, ${n} streams live`, 0, n);
    await Promise.all(ids.map((id) => openLive(gw.base, cookie, id).then(() => bar(`gateway, ${n} streams live`, ++done, n))));
    const allLiveS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const ffmpegs = () => children(gw.child.pid!).filter((c) => c.cmd.startsWith('ffmpeg')).map((c) => c.pid);
    if (ffmpegs().length !== n) throw new Error(`expected ${n} ffmpeg children, found ${ffmpegs().length}`);
    const m = await measure(gw.child.pid!, ffmpegs, n, baseline, gw.simulatorPid);
    return { ...m, allLiveS };
  } finally {
    await gw.stop();
  }
}

/** plainFfmpegRun runs one plain ffmpeg per camera against the same simulator: to /dev/null, or to HLS on tmpfs. */
export async function plainFfmpegRun(n: number, output: 'null' | 'hls'): Promise<Measure> {
  const gw = await startGateway(); // only for its simulator, which needs the gateway's seeded credentials
  const procs: ChildProcess[] = [];
  const out = join('/dev/shm', `seg-bench-plain-${process.pid}`);
  try {
    const cookie = await session(gw.base, 'city-admin');
    const ids = await cameraIds(gw.base, cookie, n);
    for (const id of ids) {
      const input = ['-nostdin', '-loglevel', 'error', '-nostats', '-rtsp_transport', 'tcp', '-i', `rtsp://admin:sim-Passw0rd@127.0.0.1:${gw.rtspPort}/cam/${id}/main`, '-map', '0:v:0', '-c', 'copy'];
      const args = output === 'null'
        ? [...input, '-f', 'mpegts', '-y', '/dev/null']
        : [...input, '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_flags', 'delete_segments+temp_file', '-hls_segment_filename', join(out, id, 'seg%d.ts'), join(out, id, 'index.m3u8')];
      if (output === 'hls') mkdirSync(join(out, id), { recursive: true });
      procs.push(spawn('ffmpeg', args, { stdio: 'ignore' }));
      await new Promise((r) => setTimeout(r, 100)); // the same pace as the gateway's start gate, so starts do not pile up
    }
    await new Promise((r) => setTimeout(r, 5000));
    return await measure(undefined, () => procs.map((p) => p.pid!).filter(Boolean), n);
  } finally {
    procs.forEach((p) => p.kill('SIGKILL'));
    rmSync(out, { recursive: true, force: true });
    await gw.stop();
  }
}

export async function firstFrameRun(extra: Record<string, string> = {}, samples = SAMPLES): Promise<{ live: number[]; cold: number[] }> {
  SAMPLES = samples;
  const gw = await startGateway(extra);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const cookie = await session(gw.base, 'city-admin');
    const ids = await cameraIds(gw.base, cookie, 10 + 2 * SAMPLES);
    // Background load: 10 streams already live, as in a monitoring room.
    await Promise.all(ids.slice(0, 10).map((id) => openLive(gw.base, cookie, id)));
    const page = await openConsole(browser, gw.base, 'city-admin', PASSWORD, { width: 1280, height: 800 });
    await page.waitForSelector('[data-testid=tree-search]');
    await page.click('[data-testid=layout-1]');
    const sample = async (camera: string) => {
      await page.fill('[data-testid=tree-search]', camera);
      await page.waitForSelector(`[data-testid=search-results] [data-camera="${camera}"]`);
      await page.click(`[data-testid=search-results] [data-camera="${camera}"]`);
      await page.waitForSelector(`[data-testid=tile][data-camera="${camera}"][data-first-frame-ms]:not([data-first-frame-ms=""])`, { timeout: 20_000 });
      return Number(await page.getAttribute('[data-testid=tile][data-index="0"]', 'data-first-frame-ms'));
    };
    const live: number[] = [];
    const cold: number[] = [];
    let done = 0;
    bar('time to first frame samples', 0, 2 * SAMPLES);
    for (let i = 0; i < SAMPLES; i++) {
      const coldCam = ids[10 + i]!;
      cold.push(await sample(coldCam));
      bar('time to first frame samples', ++done, 2 * SAMPLES);
      const liveCam = ids[i % 10]!;
      live.push(await sample(liveCam));
      bar('time to first frame samples', ++done, 2 * SAMPLES);
    }
    return { live, cold };
  } catch (err) {
    log(`first-frame run failed: ${(err as Error).stack}`);
    throw err;
  } finally {
    await browser.close();
    await gw.stop();
  }
}

/** HlsBenchOptions choose the sizes and the measuring windows. */
export interface HlsBenchOptions {
  sizes: number[];
  samples: number;
  windowS: number;
}

/** runHlsBench prints and saves the figures of the HLS path. */
export async function runHlsBench(opts: HlsBenchOptions): Promise<void> {
  WINDOW_S = opts.windowS;
  const SIZES = opts.sizes;
  SAMPLES = opts.samples;
  WINDOW_S = opts.windowS;
  dir = tempDir('seg-bench-');
  simulatorPort = 0;
  const machine = machineLine();
  log(`machine: ${machine}`);
  log(`clip: main 1280x720 H.264 High 2 Mbps 25 fps, 2 s GOP; HLS 1 s target (segments cut at keyframes: 2 s); CPU window ${WINDOW_S} s`);
  const rows: Array<Record<string, unknown>> = [];
  for (const n of SIZES) {
    log(`${n} cameras through the gateway (one ffmpeg remux to HLS each)`);
    const g = await gatewayRun(n);
    log(`${n} cameras through plain "ffmpeg -c copy -f mpegts /dev/null", one per camera (reference)`);
    const p = await plainFfmpegRun(n, 'null');
    log(`${n} cameras through plain "ffmpeg -c copy -f hls" to tmpfs, one per camera (same output as the gateway)`);
    const h = await plainFfmpegRun(n, 'hls');
    rows.push({ streams: n, gateway: g, plain: p, plainHls: h });
    log(`N=${n}: gateway CPU ${f(g.cpuPerStreamPerS, 4)} s/stream/s (plain ffmpeg to /dev/null ${f(p.cpuPerStreamPerS, 4)}, to HLS ${f(h.cpuPerStreamPerS, 4)}); RSS ${f(g.rssMbPerStream, 1)} MB/stream (plain ${f(p.rssMbPerStream, 1)}); PSS ${f(g.pssMbPerStream, 1)} MB/stream (plain ${f(p.pssMbPerStream, 1)}); all live in ${f(g.allLiveS, 1)} s; simulator ${f(g.simulatorCpuPerStreamPerS ?? 0, 4)} s/camera/s`);
  }
  log('time to first frame in hls.js (Chromium, click to first decoded frame, 10 other streams live)');
  const ttff = await firstFrameRun();
  const live = stats(ttff.live);
  const cold = stats(ttff.cold);

  const lines = [
    '',
    `HLS media path benchmark — ${new Date().toISOString()}`,
    `machine: ${machine}`,
    '',
    'CPU in s per stream per s; memory in MB per stream; plain = one "ffmpeg -c copy" per camera to /dev/null, plain HLS = the same writing HLS to tmpfs',
    'streams | gateway CPU | plain CPU | plain HLS CPU | gateway RSS | plain RSS | gateway PSS | plain PSS | all live (s)',
    ...rows.map((r) => {
      const g = r.gateway as Measure & { allLiveS: number };
      const p = r.plain as Measure;
      const h = r.plainHls as Measure;
      return `${String(r.streams).padStart(7)} | ${f(g.cpuPerStreamPerS, 4).padStart(11)} | ${f(p.cpuPerStreamPerS, 4).padStart(9)} | ${f(h.cpuPerStreamPerS, 4).padStart(13)} | ${f(g.rssMbPerStream, 1).padStart(11)} | ${f(p.rssMbPerStream, 1).padStart(9)} | ${f(g.pssMbPerStream, 1).padStart(11)} | ${f(p.pssMbPerStream, 1).padStart(9)} | ${f(g.allLiveS, 1).padStart(12)}`;
    }),
    '',
    `time to first frame, live stream: median ${live.median} ms, p90 ${live.p90} ms, max ${live.max} ms (n=${ttff.live.length}; target < 2000)`,
    `time to first frame, cold stream: median ${cold.median} ms, p90 ${cold.p90} ms, max ${cold.max} ms (n=${ttff.cold.length}; target < 3000)`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  mkdirSync(join(ROOT, 'var/bench'), { recursive: true });
  const file = join(ROOT, 'var/bench', `hls-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, windowS: WINDOW_S, rows, ttff }, null, 2));
  log(`saved ${file}`);
  dir?.remove();
  dir = undefined;
}
