// The gateway as a process: a bad config stops it with the key named; no child outlives it, and with the ffmpeg
// fallback no ffmpeg outlives it, even after SIGKILL.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIP_DIR, ROOT, freePort, tempDir, waitFor } from '../../support/harness.js';

const run = promisify(execFile);
const dir = tempDir();
afterAll(() => dir.remove());

/** allProcesses lists every process with its command line, from /proc. */
function allProcesses(): Array<{ pid: number; cmd: string }> {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      return [{ pid: Number(e), cmd: readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ') }];
    } catch {
      return []; // ended while being read
    }
  });
}

/** descendants lists the pids below pid, from /proc. */
function descendants(pid: number): Array<{ pid: number; cmd: string }> {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmd.set(Number(e), readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      continue; // the process ended while we read it
    }
  }
  const out: Array<{ pid: number; cmd: string }> = [];
  const walk = (p: number) => { for (const [c, pp] of parent) if (pp === p) { out.push({ pid: c, cmd: cmd.get(c)! }); walk(c); } };
  walk(pid);
  return out;
}

const alive = (pid: number) => { try { return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); } catch { return false; } };

async function startProcess(tag: string, extra: Record<string, string> = {}): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const env = {
    ...process.env,
    SEG__HTTP__PORT: String(port), SEG__STORE__PATH: join(dir.path, `${tag}.db`), SEG__SECRETS__KEY_FILE: join(dir.path, `${tag}.key`),
    SEG__MEDIA__HLS_DIR: join(dir.path, `${tag}-hls`), SEG__DEMO__CAMERAS: '300', SEG__DEMO__SIMULATOR__RTSP_PORT: String(await freePort()),
    SEG__DEMO__SIMULATOR__CONTROL_PORT: String(await freePort()), SEG__DEMO__SIMULATOR__ONVIF_PORT: String(await freePort()), SEG__DEMO__SIMULATOR__DISCOVERABLE: '0',
    SEG__DEMO__SIMULATOR__CLIP_DIR: CLIP_DIR, SEG__LOG__LEVEL: 'warn',
    ...extra,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d.toString(); });
  child.stderr!.on('data', (d) => { out += d.toString(); });
  await waitFor(`the gateway to print its URL (output so far: ${out})`, () => out.includes('Sharp Eyes Gateway is running'), 60_000);
  expect(out).toMatch(/village-clerk\s+viewer/);
  return { child, base: `http://127.0.0.1:${port}` };
}

async function openLiveStream(base: string): Promise<void> {
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'village-clerk', password: 'Demo#2026' }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const tree = await (await fetch(`${base}/api/tree`, { headers: { cookie } })).json() as { root: { code: string } };
  const children = await (await fetch(`${base}/api/units/${tree.root.code}/children`, { headers: { cookie } })).json() as { cameras: Array<{ id: string }> };
  const ticket = await (await fetch(`${base}/api/streams`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ camera: children.cameras[0]!.id, profile: 'sub' }) })).json() as { playlistUrl: string };
  expect((await fetch(`${base}${ticket.playlistUrl}`)).status).toBe(200);
}

describe('the gateway process', () => {
  it('stops at start on a bad config, naming key, value and expectation', async () => {
    const file = join(dir.path, 'bad.json');
    writeFileSync(file, JSON.stringify({ http: { port: 'eighty' }, media: { segmentSecond: 1 } }));
    const err = await run(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'serve', '--config', file], { cwd: ROOT }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain('http.port: "eighty" — expected integer');
    expect(err?.stderr).toContain('media.segmentSecond: 1 — no such key: did you mean media.segmentSeconds?');
  });

  it('says which port is taken and how to choose another, and leaves no simulator behind', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const env = {
        ...process.env, SEG__HTTP__PORT: String(port), SEG__STORE__PATH: join(dir.path, 'busy.db'), SEG__SECRETS__KEY_FILE: join(dir.path, 'busy.key'),
        SEG__MEDIA__HLS_DIR: join(dir.path, 'busy-hls'), SEG__DEMO__CAMERAS: '50', SEG__DEMO__SIMULATOR__RTSP_PORT: String(await freePort()),
        SEG__DEMO__SIMULATOR__CONTROL_PORT: String(await freePort()), SEG__DEMO__SIMULATOR__ONVIF_PORT: String(await freePort()), SEG__DEMO__SIMULATOR__DISCOVERABLE: '0',
    SEG__DEMO__SIMULATOR__CLIP_DIR: CLIP_DIR, SEG__LOG__LEVEL: 'warn',
      };
      const err = await run(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'serve'], { cwd: ROOT, env, timeout: 60_000 })
        .then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(err?.code).toBe(1);
      expect(err?.stderr).toContain(`127.0.0.1:${port} is already in use (another gateway running?); choose another port with SEG__HTTP__PORT`);
      // An orphan would be re-parented to init, so look at every process, not our own descendants.
      const simulatorOnPort = () => allProcesses().filter((p) => p.cmd.includes('simulator/main.ts') && p.cmd.includes(`--port ${env.SEG__DEMO__SIMULATOR__RTSP_PORT} `));
      await waitFor('the simulator to exit with the gateway', () => simulatorOnPort().length === 0, 5000);
    } finally {
      blocker.close();
    }
  });

  it('plays a stream with no child process but its simulator, shuts down on SIGTERM and leaves no child behind', async () => {
    const { child, base } = await startProcess('term');
    await openLiveStream(base);
    const kids = descendants(child.pid!);
    // The media core reads the camera in the gateway's own process.
    expect(kids.some((k) => k.cmd.startsWith('ffmpeg'))).toBe(false);
    expect(kids.some((k) => k.cmd.includes('simulator/main.ts'))).toBe(true);
    child.kill('SIGTERM');
    await waitFor('exit', () => child.exitCode !== null, 15_000);
    expect(child.exitCode).toBe(0);
    await waitFor('children gone', () => kids.every((k) => !alive(k.pid)), 10_000);
  });

  it('with the ffmpeg fallback, leaves no ffmpeg behind even when killed outright (SIGKILL)', async () => {
    const { child, base } = await startProcess('kill', { SEG__MEDIA__ENGINE: 'ffmpeg' });
    await openLiveStream(base);
    const kids = descendants(child.pid!);
    const ffmpegs = kids.filter((k) => k.cmd.startsWith('ffmpeg'));
    expect(ffmpegs.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    // The relay falls silent: ffmpeg's RTP reader gives up after 10 s without a packet, and its next progress write to
    // the dead gateway's pipe fails; the simulator sees its IPC channel close.
    await waitFor('every child to end after SIGKILL', () => kids.every((k) => !alive(k.pid)), 25_000);
  });
});
