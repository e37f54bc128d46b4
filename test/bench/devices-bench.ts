// Devices at city scale: importing 33,000 cameras, a full health sweep of 33,000 simulated devices, and a reconnect
// storm (1,000 cameras drop at once and come back). The farm runs in its own process; the gateway's parts run here,
// so that the figures are the gateway's own.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pingRtsp } from '../../adapters/rtsp/rtsp-probe.js';
import { OrgTree } from '../../gateway/src/access/org-tree.js';
import { generateDemoCatalog } from '../../gateway/src/catalog/demo-catalog.js';
import { HealthMonitor, type SweepReport } from '../../gateway/src/health/health-monitor.js';
import { CLIP_DIR, ROOT, freePort, tempDir, waitFor } from '../support/harness.js';
import { bar, fixed, log, machineLine, quantiles } from './bench-util.js';
import { cpuSeconds, memoryKb } from './proc-stats.js';

const USER = 'admin';
const PASSWORD = 'bench-pass';
const CAMERAS = 33_000;

async function startFarm(): Promise<{ child: ChildProcess; rtspPort: number; controlUrl: string }> {
  const rtspPort = await freePort();
  const controlPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'adapters/simulator/main.ts', 'serve', '--port', String(rtspPort), '--control-port', String(controlPort),
    '--onvif-port', String(await freePort()), '--discoverable', '0', '--clip-dir', CLIP_DIR], {
    cwd: ROOT, env: { ...process.env, SIM_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  await waitFor('the simulator to listen', () => out.includes('simulator listening'), 60_000);
  return { child, rtspPort, controlUrl: `http://127.0.0.1:${controlPort}` };
}

function demo(rtspPort: number) {
  return generateDemoCatalog(2026, CAMERAS, { host: '127.0.0.1', rtspPort, onvifPort: 1, username: USER, password: PASSWORD });
}

/** runImportBench imports a 33,000-row CSV through the CLI into a fresh store, twice, and a JSON export of it. */
export async function runImportBench(): Promise<void> {
  log(`machine: ${machineLine()}`);
  const dir = tempDir('seg-bench-import-');
  try {
    const env = { ...process.env, SEG_LANG: 'en', SEG__STORE__PATH: join(dir.path, 'g.db'), SEG__SECRETS__KEY_FILE: join(dir.path, 'k'), SEG__LOG__LEVEL: 'silent' };
    const d = demo(8554);
    // The tree comes first (the gateway seeds it); the cameras come from the file.
    const seed = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { openDatabase } = await import('./gateway/src/store/database.ts');
      const { generateDemoCatalog } = await import('./gateway/src/catalog/demo-catalog.ts');
      const db = openDatabase(process.env.SEG__STORE__PATH);
      const d = generateDemoCatalog(2026, 1, { host: '127.0.0.1', rtspPort: 8554, onvifPort: 8556, username: 'a', password: 'b' });
      const ins = db.prepare('INSERT INTO units (code, parent, name, level) VALUES (@code, @parent, @name, @level)');
      db.transaction(() => { for (const u of d.units) ins.run(u); })();
      db.close();`], { cwd: ROOT, env, stdio: 'inherit' });
    await new Promise((r) => seed.once('exit', r));
    const csv = join(dir.path, 'cameras.csv');
    const lines = ['id,name,unit,kind,latitude,longitude,main_url,sub_url,onvif_url,username,password'];
    for (const c of d.cameras) lines.push([c.id, c.name, c.unit, c.kind, c.latitude, c.longitude, c.mainUrl, c.subUrl, c.onvifUrl, c.username, `pw-${c.id.slice(-6)}`].join(','));
    writeFileSync(csv, lines.join('\n') + '\n');
    const rows: string[] = ['', 'import of 33,000 cameras (CLI, fresh store) | wall s | rows/s | peak RSS MB | result'];
    const run = async (label: string, file: string) => {
      const t0 = performance.now();
      const child = spawn('/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, '--import', 'tsx', 'gateway/src/main.ts', 'import', file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (x: Buffer) => { out += x.toString(); });
      child.stderr!.on('data', (x: Buffer) => { err += x.toString(); });
      await new Promise((r) => child.once('exit', r));
      const secs = (performance.now() - t0) / 1000;
      const rss = Number(/MAXRSS (\d+)/.exec(err)?.[1] ?? 0) / 1024;
      const summary = /(\d+ rows in [\d.]+ s: .*)/.exec(out)?.[1] ?? out.trim();
      rows.push(`${label} | ${fixed(secs, 1)} | ${Math.round(CAMERAS / secs)} | ${fixed(rss, 0)} | ${summary}`);
      log(`${label}: ${summary} (${fixed(secs, 1)} s wall, ${fixed(rss, 0)} MB peak)`);
    };
    await run('CSV, first import', csv);
    await run('CSV, same file again', csv);
    const json = join(dir.path, 'cameras.json');
    const exp = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'export', json], { cwd: ROOT, env, stdio: 'ignore' });
    await new Promise((r) => exp.once('exit', r));
    await run('JSON export imported back', json);
    for (const r of rows) process.stdout.write(`${r}\n`);
  } finally {
    dir.remove();
  }
}

function monitorFor(d: ReturnType<typeof demo>, opts: { intervalMs: number; backoffMaxMs: number; concurrency: number }): HealthMonitor {
  const urls = new Map(d.cameras.map((c) => [c.id, c.mainUrl!]));
  const m = new HealthMonitor(new OrgTree(d.units), {
    intervalMs: opts.intervalMs, concurrency: opts.concurrency, retryDelayMs: 2000, backoffMaxMs: opts.backoffMaxMs,
    probe: (camera, signal) => pingRtsp(urls.get(camera)!, { timeoutMs: 3000, signal }),
  });
  for (const c of d.cameras) m.add(c.id, c.unit);
  return m;
}

/** runSweepBench times full sweeps of 33,000 simulated devices at several concurrencies. */
export async function runSweepBench(concurrencies: number[]): Promise<void> {
  log(`machine: ${machineLine()}`);
  const farm = await startFarm();
  const rows = ['', `health sweep of ${CAMERAS} devices (RTSP OPTIONS) | concurrency | sweep s | probes/s | gateway CPU s | farm CPU s | loop delay p99 ms | max ms | gateway RSS MB`];
  try {
    const d = demo(farm.rtspPort);
    for (const concurrency of concurrencies) {
      const m = monitorFor(d, { intervalMs: 60_000, backoffMaxMs: 600_000, concurrency });
      const loop = monitorEventLoopDelay({ resolution: 10 });
      const cpu0 = process.cpuUsage();
      const farm0 = cpuSeconds(farm.child.pid!);
      loop.enable();
      const ticker = setInterval(() => bar(`sweep at concurrency ${concurrency}`, m.unit(d.units[0]!.code).online, CAMERAS), 500);
      const r: SweepReport = await m.sweep();
      clearInterval(ticker);
      loop.disable();
      bar(`sweep at concurrency ${concurrency}`, r.online, CAMERAS);
      const cpu = process.cpuUsage(cpu0);
      const gwCpu = (cpu.user + cpu.system) / 1e6;
      const farmCpu = cpuSeconds(farm.child.pid!) - farm0;
      rows.push(`| ${concurrency} | ${fixed(r.durationMs / 1000, 1)} | ${Math.round(r.probes / (r.durationMs / 1000))} | ${fixed(gwCpu, 1)} | ${fixed(farmCpu, 1)} | ${fixed(loop.percentile(99) / 1e6, 1)} | ${fixed(loop.max / 1e6, 1)} | ${fixed(memoryKb(process.pid).rss / 1024, 0)}`);
      log(`concurrency ${concurrency}: ${r.online} online, ${r.offline} offline in ${fixed(r.durationMs / 1000, 1)} s`);
      await m.stop();
    }
    for (const r of rows) process.stdout.write(`${r}\n`);
  } finally {
    farm.child.kill('SIGTERM');
  }
}

/**
 * runStormBench: 33,000 devices are watched on a short schedule; 1,000 of them go offline at once for a while and come
 * back at once. Prints how fast the monitor saw them come back (peak comebacks per second, time until 99% online), and
 * the event loop's delay meanwhile.
 */
export async function runStormBench(opts: { storm: number; intervalS: number; backoffMaxS: number; downS: number }): Promise<void> {
  log(`machine: ${machineLine()}`);
  const farm = await startFarm();
  try {
    const d = demo(farm.rtspPort);
    const m = monitorFor(d, { intervalMs: opts.intervalS * 1000, backoffMaxMs: opts.backoffMaxS * 1000, concurrency: 100 });
    const root = d.units[0]!.code;
    const victims = d.cameras.filter((_, i) => i % Math.floor(CAMERAS / opts.storm) === 0).slice(0, opts.storm).map((c) => c.id);
    const setOffline = async (offline: boolean | null) => {
      const res = await fetch(`${farm.controlUrl}/faults`, { method: 'PUT', body: JSON.stringify({ cameras: victims, faults: { offline } }) });
      if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
    };
    log(`first sweep of ${CAMERAS} devices...`);
    m.start();
    await waitFor('all online', () => m.unit(root).online === CAMERAS, 300_000, 200);
    await setOffline(true);
    log(`${opts.storm} devices dropped at once; waiting until the monitor has seen all of them go`);
    await waitFor('the drop seen', () => m.unit(root).offline === opts.storm, 300_000, 200);
    await new Promise((r) => setTimeout(r, opts.downS * 1000));
    const comebacks: number[] = [];
    m.on('transition', (t) => { if (t.state === 'online') comebacks.push(performance.now()); });
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await setOffline(null);
    log(`${opts.storm} devices back at once`);
    const need = Math.ceil(opts.storm * 0.99);
    await waitFor('99% back online', () => comebacks.length >= need, 600_000, 100);
    const t99 = (performance.now() - t0) / 1000;
    await waitFor('all back online', () => comebacks.length >= opts.storm, 600_000, 100);
    const tAll = (performance.now() - t0) / 1000;
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    await m.stop();
    const perSecond = new Map<number, number>();
    for (const t of comebacks) perSecond.set(Math.floor((t - t0) / 1000), (perSecond.get(Math.floor((t - t0) / 1000)) ?? 0) + 1);
    const peak = Math.max(...perSecond.values());
    const q = quantiles([...perSecond.values()]);
    process.stdout.write([
      '',
      `reconnect storm: ${opts.storm} of ${CAMERAS} devices down ${opts.downS} s, back at once (interval ${opts.intervalS} s, backoff cap ${opts.backoffMaxS} s, concurrency 100)`,
      '| time to 99% online s | to 100% s | peak comebacks/s | median comebacks/s (seconds with any) | loop delay p99 ms | max ms | gateway CPU s |',
      `| ${fixed(t99, 1)} | ${fixed(tAll, 1)} | ${peak} | ${q.median} | ${fixed(loop.percentile(99) / 1e6, 1)} | ${fixed(loop.max / 1e6, 1)} | ${fixed((cpu.user + cpu.system) / 1e6, 1)} |`,
      '',
    ].join('\n'));
  } finally {
    farm.child.kill('SIGTERM');
  }
}
