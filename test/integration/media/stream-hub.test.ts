// The stream hub with real ffmpeg against the real simulator.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../adapters/simulator/simulator.js';
import { ShareError, StreamHub, type StreamHubOptions } from '../../../gateway/src/media/stream-hub.js';
import type { StreamInfo } from '../../../gateway/src/media/stream.js';
import { bytesOf, SIM_PASSWORD, SIM_USER, setFaults, startSimulator, tempDir, waitFor } from '../../support/harness.js';

let sim: Simulator;
const dir = tempDir();
beforeAll(async () => { sim = await startSimulator(); });
afterAll(async () => { await sim.close(); dir.remove(); });

function makeHub(over: Partial<StreamHubOptions> = {}): StreamHub {
  return new StreamHub({
    hlsDir: join(dir.path, `hls-${Math.random().toString(36).slice(2)}`), ffmpegPath: 'ffmpeg', segmentSeconds: 1, playlistSegments: 6,
    idleLingerMs: 60_000, startTimeoutMs: 8000, stallTimeoutMs: 3000, retryBaseMs: 400, retryMaxMs: 3000, maxStreams: 20, maxStreamsPerUser: 20, maxStreamsPerUnit: 20, maxStartsPerSecond: 20,
    resolveSource: async (camera, profile) => ({ url: sim.rtspUrl(camera, profile), credentials: { username: SIM_USER, password: SIM_PASSWORD } }),
    ...over,
  });
}

/** viewer is a viewer of its own name, in unit u1. */
const viewer = (name: string) => ({ key: name, user: name, unit: 'u1' });
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

describe('StreamHub', () => {
  it('pulls once for many viewers into the media core, serves LL-HLS from memory, runs no ffmpeg, and stops after the idle linger', async () => {
    const hub = makeHub({ idleLingerMs: 4000 });
    await hub.start();
    try {
      expect(hub.open('c1', 'main', viewer('alice')).state).toBe('starting');
      hub.open('c1', 'main', viewer('bob'));
      hub.open('c1', 'main', viewer('carol'));
      const live = await hub.waitLive('c1', 'main', 10_000);
      expect(live?.state).toBe('live');
      expect(live?.viewers).toBe(3);
      // One upstream session for three viewers, and no process: the camera is read in the gateway.
      expect(sim.rtsp.sessionsOf('c1')).toBe(1);
      expect(hub.childPids()).toEqual([]);
      const figures = await waitFor('frame figures', () => { const i = hub.info('c1', 'main'); return (i?.frames ?? 0) > 50 && i?.fps ? i : undefined; }, 8000);
      expect(figures.fps).toBeGreaterThan(15);
      expect(figures.fps).toBeLessThan(40);
      const text = await waitFor('two segments', async () => { const t = await hub.playlist('c1', 'main'); return typeof t === 'string' && /seg-2\.m4s/.test(t) && t; }, 10_000);
      expect(text).toMatch(/#EXT-X-PART-INF:PART-TARGET=0\.300/);
      expect(text).toMatch(/#EXT-X-MAP:URI="init-1\.mp4"/);
      const part = /URI="(part-\d+-\d+\.m4s)"/.exec(text)![1]!;
      for (const name of ['init-1.mp4', 'seg-1.m4s', part]) {
        const file = await hub.file('c1', 'main', name, 0);
        expect(file && bytesOf(file).length).toBeGreaterThan(100);
      }
      // A finished segment was written to the stream's folder, and its parts are served as byte ranges of it.
      const seg1 = await hub.file('c1', 'main', 'seg-1.m4s', 0);
      expect(seg1 && 'path' in seg1 && seg1.path.startsWith(dir.path)).toBe(true);
      const parts = [...text.matchAll(/URI="(part-1-\d+\.m4s)"/g)].map((m) => m[1]!);
      const joined = Buffer.concat(await Promise.all(parts.map(async (p) => bytesOf((await hub.file('c1', 'main', p, 0))!))));
      expect(joined.equals(bytesOf(seg1!))).toBe(true);
      for (const bad of ['../../etc/passwd', 'seg-1.m4s.tmp', 'init-1.mp4/x', 'seg1.ts']) expect(await hub.file('c1', 'main', bad, 0)).toBeUndefined();
      // Nobody touches the stream: it lingers, then stops, and its camera session ends.
      await waitFor('the idle stream to stop', () => hub.info('c1', 'main') === undefined, 10_000);
      await waitFor('the camera session to end', () => sim.rtsp.sessionsOf('c1') === 0, 5000);
    } finally {
      await hub.close();
    }
  });

  it('with the ffmpeg fallback: pulls once for many viewers, serves MPEG-TS HLS, and stops after the idle linger', async () => {
    const hub = makeHub({ idleLingerMs: 4000, engine: () => 'ffmpeg' });
    await hub.start();
    try {
      expect(hub.open('h1', 'main', viewer('alice')).state).toBe('starting');
      hub.open('h1', 'main', viewer('bob'));
      hub.open('h1', 'main', viewer('carol'));
      const live = await hub.waitLive('h1', 'main', 10_000);
      expect(live?.state).toBe('live');
      expect(live?.viewers).toBe(3);
      expect(hub.childPids()).toHaveLength(1);
      // ffmpeg's progress reaches the API: frames counted, at about the camera's 25 fps.
      const figures = await waitFor('progress figures', () => { const i = hub.info('h1', 'main'); return (i?.frames ?? 0) > 50 && i?.fps ? i : undefined; }, 8000);
      expect(figures.fps).toBeGreaterThan(15);
      expect(figures.fps).toBeLessThan(40);
      const playlist = readFileSync(hub.filePath('h1', 'main', 'index.m3u8')!, 'utf8');
      expect(playlist).toMatch(/#EXT-X-TARGETDURATION:2/);
      const segment = playlist.split('\n').find((l) => l.endsWith('.ts'))!;
      expect(existsSync(hub.filePath('h1', 'main', segment)!)).toBe(true);
      expect(await hub.file('h1', 'main', segment, 0)).toMatchObject({ type: 'video/mp2t' });
      expect(hub.filePath('h1', 'main', '../../etc/passwd')).toBeUndefined();
      expect(hub.filePath('h1', 'main', 'seg1.ts.tmp')).toBeUndefined();
      const [pid] = hub.childPids();
      // Nobody touches the stream: it lingers, then stops, and its ffmpeg goes.
      await waitFor('the idle stream to stop', () => hub.info('h1', 'main') === undefined, 10_000);
      await waitFor('ffmpeg to exit', () => !alive(pid!), 5000);
      expect(hub.childPids()).toEqual([]);
    } finally {
      await hub.close();
    }
  });

  it('goes on with the same playlist when the camera restarts its stream: a discontinuity, the media sequence continuous', async () => {
    const hub = makeHub();
    await hub.start();
    try {
      hub.open('r1', 'sub', viewer('alice'));
      await hub.waitLive('r1', 'sub', 10_000);
      const first = await waitFor('a segment', async () => { const t = await hub.playlist('r1', 'sub'); return typeof t === 'string' && /seg-1\.m4s/.test(t) && t; }, 10_000);
      expect(first).not.toMatch(/#EXT-X-DISCONTINUITY\n/);
      const liveAt = hub.info('r1', 'sub')!.liveAt!;
      expect((await fetch(`${sim.controlUrl()}/cameras/r1/sessions`, { method: 'DELETE' })).status).toBe(200);
      await waitFor('the next run to be live', () => (hub.info('r1', 'sub')?.liveAt ?? 0) > liveAt, 15_000);
      const second = await waitFor('a segment of the new run', async () => {
        const t = await hub.playlist('r1', 'sub', { lowLatency: false, waitMs: 0 });
        return typeof t === 'string' && /#EXT-X-DISCONTINUITY\n[^]*seg-\d+\.m4s/.test(t) && t;
      }, 15_000);
      const msns = [...second.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
      expect(msns[0]).toBe(1);
      expect(msns).toEqual(msns.map((_, i) => 1 + i));
      expect(second).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-2\.mp4"/);
    } finally {
      await hub.close();
    }
  });

  it('with the ffmpeg fallback: starts a new discontinuity sequence when the camera restarts its stream', async () => {
    const hub = makeHub({ engine: () => 'ffmpeg' });
    await hub.start();
    try {
      hub.open('r2', 'sub', viewer('alice'));
      await hub.waitLive('r2', 'sub', 10_000);
      const first = await hub.playlist('r2', 'sub') as string;
      const sequence = (text: string | undefined) => Number(/^#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)$/m.exec(text ?? '')?.[1]);
      expect(sequence(first)).toBeGreaterThan(0);
      // The tag comes before the first segment, as RFC 8216 requires.
      expect(first.indexOf('#EXT-X-DISCONTINUITY-SEQUENCE')).toBeLessThan(first.indexOf('#EXTINF'));
      const liveAt = hub.info('r2', 'sub')!.liveAt!;
      expect((await fetch(`${sim.controlUrl()}/cameras/r2/sessions`, { method: 'DELETE' })).status).toBe(200);
      await waitFor('the next run to be live', () => (hub.info('r2', 'sub')?.liveAt ?? 0) > liveAt, 15_000);
      const second = await hub.playlist('r2', 'sub') as string;
      expect(sequence(second)).toBeGreaterThan(sequence(first));
    } finally {
      await hub.close();
    }
  });

  it('keeps a stream a request waits on, however longer than the idle linger its camera takes to start', async () => {
    const hub = makeHub({ idleLingerMs: 1000 });
    await hub.start();
    try {
      // Every RTSP answer comes 700 ms late: DESCRIBE, SETUP and PLAY alone outlast the linger.
      await setFaults(sim, 'slow1', { delayMs: 700 });
      hub.open('slow1', 'sub', viewer('alice'));
      const info = await hub.waitLive('slow1', 'sub', 15_000);
      expect(info?.state).toBe('live');
      expect(Date.now() - info!.startedAt!).toBeGreaterThan(1000);
    } finally {
      await setFaults(sim, 'slow1', { delayMs: null });
      await hub.close();
    }
  });

  it('reports an offline camera in words and retries with growing, jittered delays', async () => {
    await setFaults(sim, 'h2', { offline: true });
    const hub = makeHub();
    const states: StreamInfo[] = [];
    hub.on('state', (s) => { if (s.camera === 'h2') states.push(s); });
    await hub.start();
    try {
      hub.open('h2', 'main', viewer('v'));
      await waitFor('three failed attempts', () => (hub.info('h2', 'main')?.attempts ?? 0) >= 3, 20_000);
      const info = hub.info('h2', 'main')!;
      expect(info.state === 'offline' || info.state === 'starting').toBe(true);
      const failures = states.filter((s) => s.state === 'offline');
      expect(failures[0]!.error?.message).toMatch(/does not answer/);
      for (const f of failures) expect(f.retryAt! - f.since).toBeLessThan(3000);
      // The camera comes back: the next retry goes live without anyone asking again.
      await setFaults(sim, 'h2', { offline: null });
      await waitFor('the camera to come back live', () => hub.info('h2', 'main')?.state === 'live', 15_000);
      expect(hub.info('h2', 'main')!.error).toBeUndefined();
    } finally {
      await hub.close();
    }
  });

  it('says the camera rejected the credentials, and never spins', async () => {
    await setFaults(sim, 'h3', { password: 'rotated' });
    const hub = makeHub({ retryBaseMs: 1000, retryMaxMs: 1000 });
    await hub.start();
    let starts = 0;
    hub.on('state', (s) => { if (s.camera === 'h3' && s.state === 'starting') starts++; });
    try {
      hub.open('h3', 'sub', viewer('v'));
      await waitFor('the failure', () => hub.info('h3', 'sub')?.state === 'failed', 10_000);
      expect(hub.info('h3', 'sub')!.error).toEqual({ kind: 'unauthorized', message: 'the camera rejected the stored credentials (401 Unauthorized)' });
      await new Promise((r) => setTimeout(r, 3000));
      expect(starts).toBeLessThanOrEqual(12); // delays drawn from [0, 1 s): a tight loop would start hundreds of times
    } finally {
      await hub.close();
    }
  });

  it('detects a camera that stalls mid-stream and marks it offline', async () => {
    await setFaults(sim, 'h4', { stallAfterMs: 2500 });
    const hub = makeHub();
    await hub.start();
    try {
      hub.open('h4', 'sub', viewer('v'));
      await waitFor('live', () => hub.info('h4', 'sub')?.state === 'live', 10_000);
      const info = await waitFor('the stall', () => { const i = hub.info('h4', 'sub'); return i?.state === 'offline' ? i : undefined; }, 15_000);
      expect(info.error!.message).toMatch(/stopped sending video|does not answer|timed out/i);
    } finally {
      await hub.close();
    }
  });

  it('refuses streams beyond capacity with a reason, and close() leaves no ffmpeg behind', async () => {
    const hub = makeHub({ maxStreams: 2, engine: () => 'ffmpeg' });
    await hub.start();
    hub.open('h5', 'sub', viewer('v'));
    hub.open('h6', 'sub', viewer('v'));
    expect(() => hub.open('h7', 'sub', viewer('v'))).toThrow(/already pulls 2 streams/);
    await waitFor('both live', () => hub.list().every((s) => s.state === 'live') && hub.childPids().length === 2, 10_000);
    const pids = hub.childPids();
    await hub.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(() => hub.open('h5', 'sub', viewer('v'))).toThrow(/closed/);
  });

  it('gives each user and each unit a fair share of the node, and says which share is full', async () => {
    const hub = makeHub({ maxStreamsPerUser: 2, maxStreamsPerUnit: 3 });
    await hub.start();
    const a = { key: 'a:1', user: 'alice', unit: 'township' };
    const b = { key: 'b:1', user: 'bob', unit: 'township' };
    const c = { key: 'c:1', user: 'carol', unit: 'township' };
    const d = { key: 'd:1', user: 'dave', unit: 'village' };
    try {
      hub.open('f1', 'sub', a);
      hub.open('f2', 'sub', a);
      // Alice's own share is full; a stream she already holds costs her nothing more.
      expect(() => hub.open('f3', 'sub', a)).toThrow(ShareError);
      expect(() => hub.open('f3', 'sub', a)).toThrow(/you already hold 2 streams open \(media.maxStreamsPerUser\)/);
      hub.open('f2', 'sub', { ...a, key: 'a:2' });
      hub.open('f3', 'sub', b);
      // The township holds three: Carol may join one of them, not start a fourth; another unit is not held back.
      expect(() => hub.open('f4', 'sub', c)).toThrow(/users of your unit already hold 3 streams/);
      expect(hub.open('f1', 'sub', c).viewers).toBe(2);
      hub.open('f4', 'sub', d);
      expect(hub.list()).toHaveLength(4);
    } finally {
      await hub.close();
    }
  });

  it('fails to start with a clear message when ffmpeg is missing', async () => {
    const hub = makeHub({ ffmpegPath: '/nonexistent/ffmpeg' });
    await expect(hub.start()).rejects.toThrow(/ffmpeg at \/nonexistent\/ffmpeg cannot run.*apt-get install -y ffmpeg/);
    await expect(makeHub({ ffmpegPath: '/bin/true' }).start()).rejects.toThrow(/lacks the rtsp demuxer or the hls muxer/);
  });
});
