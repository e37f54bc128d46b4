// What a hostile or careless import costs the gateway: files of bad rows uploaded as dry runs, one after another, to
// a gateway running as its own process (demo city, simulator), with its resident memory sampled throughout.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLIP_DIR, DEMO_PASSWORD, ROOT, freePort, tempDir, waitFor } from '../support/harness.js';
import { log, machineLine } from './bench-util.js';
import { memoryKb } from './proc-stats.js';

/** badCsv is a file of rows that all fail their checks (an unknown unit), sizeMb megabytes long. */
function badCsv(sizeMb: number): Buffer {
  const header = 'id,name,unit,kind,latitude,longitude,main_url,sub_url,onvif_url,username,password\n';
  const rows: string[] = [header];
  let size = header.length;
  for (let i = 0; size < sizeMb * 1024 * 1024; i++) {
    const line = `BAD-${i},坏摄像机 ${i},999999999999,road,,,rtsp://10.0.${i % 250}.${i % 200}/main,,,admin,x\n`;
    rows.push(line);
    size += Buffer.byteLength(line);
  }
  return Buffer.from(rows.join(''));
}

/** runImportFloodBench uploads `files` dry runs of `sizeMb` MB each and prints the gateway's peak RSS. */
export async function runImportFloodBench(opts: { sizeMb: number; files: number }): Promise<void> {
  log(`machine: ${machineLine()}`);
  const dir = tempDir('seg-bench-flood-');
  const port = await freePort();
  const env = {
    ...process.env, SEG__HTTP__PORT: String(port), SEG__STORE__PATH: join(dir.path, 'g.db'), SEG__SECRETS__KEY_FILE: join(dir.path, 'k'),
    SEG__DEMO__CAMERAS: '2000', SEG__HEALTH__ENABLED: 'false', SEG__LOG__LEVEL: 'warn',
    SEG__DEMO__SIMULATOR__RTSP_PORT: String(await freePort()), SEG__DEMO__SIMULATOR__CONTROL_PORT: String(await freePort()),
    SEG__DEMO__SIMULATOR__ONVIF_PORT: String(await freePort()), SEG__DEMO__SIMULATOR__DISCOVERABLE: '0', SEG__DEMO__SIMULATOR__CLIP_DIR: CLIP_DIR,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    await waitFor('the gateway to start', () => out.includes('Sharp Eyes Gateway is running'), 120_000, 200);
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'city-admin', password: DEMO_PASSWORD }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const idle = memoryKb(child.pid!).rss;
    let peak = idle;
    const sampler = setInterval(() => { peak = Math.max(peak, memoryKb(child.pid!).rss); }, 50);
    const body = badCsv(opts.sizeMb);
    log(`gateway idle RSS ${(idle / 1024).toFixed(0)} MB; uploading ${opts.files} dry run(s) of ${(body.length / 1048576).toFixed(1)} MB of bad rows`);
    const t0 = performance.now();
    const jobs: string[] = [];
    for (let i = 0; i < opts.files; i++) {
      const res = await fetch(`${base}/api/catalog/imports?format=csv&dryRun=true`, { method: 'POST', headers: { cookie, 'content-type': 'text/csv' }, body: new Uint8Array(body) });
      const text = await res.text();
      if (res.status !== 202) {
        log(`  upload ${i + 1}: ${res.status} ${text.slice(0, 200)}`);
        continue;
      }
      jobs.push((JSON.parse(text) as { id: string }).id);
    }
    let rejected = 0;
    let reportBytes = 0;
    for (const id of jobs) {
      const job = await waitFor(`import ${id}`, async () => {
        const j = await (await fetch(`${base}/api/catalog/imports/${id}`, { headers: { cookie } })).json() as { state: string; progress: { rejected: number }; report?: { rejections: unknown[] } };
        return j.state !== 'running' && j;
      }, 600_000, 500);
      rejected += job.progress.rejected;
      const csv = await fetch(`${base}/api/catalog/imports/${id}/rejections.csv`, { headers: { cookie } });
      reportBytes += (await csv.arrayBuffer()).byteLength;
    }
    clearInterval(sampler);
    log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${rejected} rejected rows reported, rejection reports ${(reportBytes / 1048576).toFixed(1)} MB in all`);
    log(`gateway peak RSS ${(peak / 1024).toFixed(0)} MB (idle ${(idle / 1024).toFixed(0)} MB, growth ${((peak - idle) / 1024).toFixed(0)} MB); still serving: ${(await fetch(`${base}/healthz`)).status === 200}`);
  } finally {
    child.kill('SIGTERM');
    await waitFor('the gateway to exit', () => child.exitCode !== null || child.signalCode !== null, 30_000).catch(() => child.kill('SIGKILL'));
    dir.remove();
  }
}
