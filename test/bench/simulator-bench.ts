// The camera farm under load: one simulator process serving N cameras to cheap RTSP readers (no ffmpeg).
import { spawn } from 'node:child_process';
import { CLIP_DIR, ROOT, freePort, waitFor } from '../support/harness.js';
import { playInterleaved, type RtspConnection } from '../support/rtsp-client.js';
import { bar, fixed, log, machineLine } from './bench-util.js';
import { cpuSeconds, memoryKb } from './proc-stats.js';

const USER = 'admin';
const PASSWORD = 'bench-pass';

/** runSimulatorBench prints CPU and memory of the farm per camera, and the bitrate each reader really got. */
export async function runSimulatorBench(opts: { sizes: Array<{ n: number; profile: 'main' | 'sub' }>; windowS: number }): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'adapters/simulator/main.ts', 'serve', '--port', String(port), '--control-port', String(await freePort()), '--clip-dir', CLIP_DIR], {
    cwd: ROOT, env: { ...process.env, SIM_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d.toString(); });
  await waitFor('the simulator to listen', () => out.includes('simulator listening'), 60_000);
  log(`machine: ${machineLine()}`);
  const lines = ['', 'simulator (one process) | cameras | CPU s/camera/s | CPU of one core | RSS MB (total) | delivered kbps/camera (clip bitrate)'];
  try {
    let offset = 0;
    for (const { n, profile } of opts.sizes) {
      const clients: RtspConnection[] = [];
      let opened = 0;
      for (let i = 0; i < n; i += 50) {
        const batch = Array.from({ length: Math.min(50, n - i) }, (_, k) => playInterleaved(port, `/cam/bench${offset + i + k}/${profile}`, USER, PASSWORD));
        clients.push(...await Promise.all(batch));
        opened += batch.length;
        bar(`${n} ${profile} cameras playing`, opened, n);
      }
      offset += n;
      await new Promise((r) => setTimeout(r, 3000));
      const cpu0 = cpuSeconds(child.pid!);
      const bytes0 = clients.reduce((s, c) => s + c.receivedBytes, 0);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, opts.windowS * 1000));
      const secs = (performance.now() - t0) / 1000;
      const cpu = (cpuSeconds(child.pid!) - cpu0) / secs;
      const kbps = ((clients.reduce((s, c) => s + c.receivedBytes, 0) - bytes0) * 8) / secs / 1000 / n;
      const mem = memoryKb(child.pid!);
      lines.push(`${profile.padStart(23)} | ${String(n).padStart(7)} | ${fixed(cpu / n, 5).padStart(14)} | ${fixed(cpu * 100, 1).padStart(14)}% | ${fixed(mem.rss / 1024, 0).padStart(14)} | ${fixed(kbps, 0).padStart(9)} (${profile === 'main' ? 2000 : 512})`);
      log(`${n} ${profile}: ${fixed(cpu / n, 5)} CPU s/camera/s, ${fixed(kbps, 0)} kbps delivered per camera`);
      clients.forEach((c) => c.close());
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    child.kill('SIGTERM');
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}
