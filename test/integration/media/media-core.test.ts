// The in-process media core against the simulator: every codec, audio and transport a camera sends, read by ffprobe
// segment by segment; faults a camera shows on a bad day; a camera sending garbage while twenty others play on.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../../adapters/core/types.js';
import type { Simulator } from '../../../adapters/simulator/simulator.js';
import { COUNTER_BAND, COUNTER_BITS, COUNTER_SPEC } from '../../../adapters/simulator/clip-maker.js';
import { decodeKeyframe } from '../../../gateway/src/media/core/keyframe-snapshot.js';
import { StreamHub, type StreamHubOptions } from '../../../gateway/src/media/stream-hub.js';
import { bytesOf, SIM_PASSWORD, SIM_USER, setFaults, startSimulator, waitFor } from '../../support/harness.js';

const run = promisify(execFile);
let sim: Simulator;
let hub: StreamHub;
const dir = mkdtempSync(join(tmpdir(), 'core-'));
const transports = new Map<string, 'tcp' | 'udp'>();

function makeHub(over: Partial<StreamHubOptions> = {}): StreamHub {
  return new StreamHub({
    hlsDir: join(dir, `hls-${Math.random().toString(36).slice(2)}`), ffmpegPath: 'ffmpeg', segmentSeconds: 1, playlistSegments: 8,
    idleLingerMs: 120_000, startTimeoutMs: 8000, stallTimeoutMs: 4000, retryBaseMs: 500, retryMaxMs: 3000, maxStreams: 60, maxStreamsPerUser: 60, maxStreamsPerUnit: 60, maxStartsPerSecond: 30,
    resolveSource: async (camera, profile) => ({ url: sim.rtspUrl(camera, profile), credentials: { username: SIM_USER, password: SIM_PASSWORD }, transport: transports.get(camera) ?? 'tcp' }),
    ...over,
  });
}

beforeAll(async () => {
  sim = await startSimulator();
  hub = makeHub();
  await hub.start();
}, 120_000);
afterAll(async () => {
  await hub?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const viewer = { key: 'v', user: 'v', unit: 'u' };

/** playlistOf waits for the plain playlist to list at least n whole segments, and returns it. */
async function playlistOf(camera: string, profile: Profile, n: number, timeoutMs = 20_000): Promise<string> {
  return waitFor(`${n} segments of ${camera}`, async () => {
    const text = await hub.playlist(camera, profile, { lowLatency: false, waitMs: 0 });
    return typeof text === 'string' && [...text.matchAll(/^seg-\d+\.m4s$/gm)].length >= n && text;
  }, timeoutMs, 200);
}

interface Probed {
  streams: Array<{ codec_name: string; codec_tag_string: string; width?: number; height?: number; sample_rate?: string; nb_read_frames: string }>;
  /** dts of each stream's packets, in seconds, in file order. */
  dts: Map<number, number[]>;
  /** errors is what ffmpeg said while decoding every frame ('' when nothing). */
  errors: string;
}

/** probe writes segment msn with its init segment to a file, as a player gets them, and has ffprobe and ffmpeg read it. */
async function probe(camera: string, profile: Profile, playlist: string, msn: number): Promise<Probed> {
  let init = '';
  for (const line of playlist.split('\n')) {
    const m = /URI="(init-\d+\.mp4)"/.exec(line);
    if (m) init = m[1]!;
    if (line === `seg-${msn}.m4s`) break;
  }
  const i = await hub.file(camera, profile, init, 0);
  const s = await hub.file(camera, profile, `seg-${msn}.m4s`, 0);
  if (!i || !s) throw new Error(`segment ${msn} or ${init} of ${camera} is gone`);
  const file = join(dir, `${camera}-${msn}.mp4`);
  writeFileSync(file, Buffer.concat([bytesOf(i), bytesOf(s)]));
  const info = JSON.parse((await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,codec_tag_string,width,height,sample_rate,nb_read_frames', '-of', 'json', file])).stdout) as Probed;
  const packets = (await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,dts_time', '-of', 'csv=p=0', file])).stdout.trim().split('\n');
  const dts = new Map<number, number[]>();
  for (const line of packets) {
    const [index, t] = line.split(',');
    dts.set(Number(index), [...(dts.get(Number(index)) ?? []), Number(t)]);
  }
  const decoded = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  rmSync(file, { force: true });
  return { streams: info.streams, dts, errors: decoded.stderr.trim() };
}

/** filter runs a command with input on stdin and returns its stdout. */
function filter(cmd: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} exited with ${code}`))));
    child.stdin.end(input);
  });
}

const monotonic = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
/** independentSegments lists the whole segments of an LL playlist whose first part starts with a keyframe. */
function independentSegments(text: string): number[] {
  const out: number[] = [];
  let first: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PART:') && first === undefined) first = line;
    const seg = /^seg-(\d+)\.m4s$/.exec(line);
    if (seg) {
      if (first?.includes('INDEPENDENT=YES')) out.push(Number(seg[1]));
      first = undefined;
    }
  }
  return out;
}

const segmentNumbers = (text: string) => [...text.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));

describe('media core against the simulator', () => {
  const matrix: Array<{ camera: string; codec: 'h264' | 'h265'; audio: 'aac' | 'pcma'; transport: 'tcp' | 'udp' }> = [
    { camera: 'm264aac', codec: 'h264', audio: 'aac', transport: 'tcp' },
    { camera: 'm264pcma', codec: 'h264', audio: 'pcma', transport: 'udp' },
    { camera: 'm265aac', codec: 'h265', audio: 'aac', transport: 'udp' },
    { camera: 'm265pcma', codec: 'h265', audio: 'pcma', transport: 'tcp' },
  ];

  it.each(matrix)('$codec with $audio over $transport: segments ffprobe decodes, 2 s of pictures each, timestamps growing', async ({ camera, codec, audio, transport }) => {
    await setFaults(sim, camera, { codec, audio });
    transports.set(camera, transport);
    hub.open(camera, 'main', viewer);
    // The first two segments of a run split its first GOP (a short one to start players at once): the next two are whole.
    const text = await playlistOf(camera, 'main', 4);
    const info = hub.info(camera, 'main')!;
    expect(info.transport).toBe(transport);
    expect(info.tracks?.[0]).toEqual({ kind: 'video', codec: codec.toUpperCase(), carried: true });
    expect(info.tracks?.[1]).toMatchObject({ kind: 'audio', codec: audio === 'aac' ? 'AAC' : 'PCMA', carried: audio === 'aac' });
    const [, , first, second] = segmentNumbers(text);
    const a = await probe(camera, 'main', text, first!);
    const b = await probe(camera, 'main', text, second!);
    for (const p of [a, b]) {
      expect(p.errors).toBe('');
      const video = p.streams[0]!;
      expect(video).toMatchObject({ codec_name: codec === 'h264' ? 'h264' : 'hevc', codec_tag_string: codec === 'h264' ? 'avc1' : 'hvc1', width: 1280, height: 720 });
      // A 2 s GOP at 25 fps: every segment holds one GOP of 50 pictures.
      expect(Number(video.nb_read_frames)).toBe(50);
      expect(monotonic(p.dts.get(0)!)).toBe(true);
      if (audio === 'aac') {
        expect(p.streams[1]).toMatchObject({ codec_name: 'aac', sample_rate: '16000' });
        // 2 s of 16 kHz AAC is 31.25 frames of 1024 samples.
        expect(Number(p.streams[1]!.nb_read_frames)).toBeGreaterThanOrEqual(28);
        expect(Number(p.streams[1]!.nb_read_frames)).toBeLessThanOrEqual(34);
        expect(monotonic(p.dts.get(1)!)).toBe(true);
      } else {
        expect(p.streams).toHaveLength(1);
      }
    }
    // The second segment starts where the first ends.
    expect(b.dts.get(0)![0]!).toBeCloseTo(a.dts.get(0)!.at(-1)! + 0.04, 2);
  });

  it('keeps every segment that starts at a keyframe decodable through packet loss and reordering over UDP', async () => {
    await setFaults(sim, 'lossy', { lossPercent: 0.3, reorderPercent: 5 });
    transports.set('lossy', 'udp');
    hub.open('lossy', 'sub', viewer);
    // Every segment that starts with a keyframe (its first part INDEPENDENT) decodes on its own. A run's second
    // segment goes on from its first, and a busy machine's losses can start a new run: those are left out.
    const text = await waitFor('three independent segments', async () => {
      const t = await hub.playlist('lossy', 'sub', { lowLatency: true, waitMs: 0 });
      return typeof t === 'string' && independentSegments(t).length >= 3 && t;
    }, 40_000, 200);
    for (const msn of independentSegments(text).slice(0, 3)) {
      const p = await probe('lossy', 'sub', text, msn);
      expect(p.errors).toBe('');
      expect(Number(p.streams[0]!.nb_read_frames)).toBeGreaterThan(0);
      expect(monotonic(p.dts.get(0)!)).toBe(true);
    }
  });

  it('follows a resolution change mid-stream with a new init segment after a discontinuity', async () => {
    await setFaults(sim, 'resize', { resolutionChangeAfterMs: 1000 });
    hub.open('resize', 'main', viewer);
    const text = await waitFor('the new size in the playlist', async () => {
      const t = await hub.playlist('resize', 'main', { lowLatency: false, waitMs: 0 });
      return typeof t === 'string' && /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-2\.mp4"[^]*seg-\d+\.m4s/.test(t) && t;
    }, 20_000);
    const msns = segmentNumbers(text);
    expect(msns).toEqual(msns.map((_, i) => msns[0]! + i));
    // The first segment of each run starts at its keyframe: one before the change, one after it.
    const firstAfter = Number(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-2\.mp4"\n(?:#EXT[^\n]*\n)*seg-(\d+)\.m4s/.exec(text)![1]);
    const before = await probe('resize', 'main', text, msns[0]!);
    const after = await probe('resize', 'main', text, firstAfter);
    expect(before.streams[0]).toMatchObject({ width: 1280, height: 720 });
    expect(after.streams[0]).toMatchObject({ width: 640, height: 360 });
    expect(after.errors).toBe('');
  });

  it('goes on across an RTP timestamp jump: a discontinuity, the sequence continuous, the timeline going on', async () => {
    await setFaults(sim, 'jumpy', { timestampJumpAfterMs: 1500 });
    hub.open('jumpy', 'sub', viewer);
    const text = await waitFor('the jump in the playlist', async () => {
      const t = await hub.playlist('jumpy', 'sub', { lowLatency: false, waitMs: 0 });
      return typeof t === 'string' && /#EXT-X-DISCONTINUITY\n[^]*seg-\d+\.m4s/.test(t) && t;
    }, 20_000);
    const msns = segmentNumbers(text);
    expect(msns).toEqual(msns.map((_, i) => msns[0]! + i));
    const firstAfter = Number(/#EXT-X-DISCONTINUITY\n(?:#EXT[^\n]*\n)*seg-(\d+)\.m4s/.exec(text)![1]);
    const last = await probe('jumpy', 'sub', text, firstAfter);
    expect(last.errors).toBe('');
    // The new run's timestamps continue the playlist's timeline rather than jumping an hour ahead.
    expect(last.dts.get(0)![0]!).toBeLessThan(60);
    expect(hub.info('jumpy', 'sub')!.state).toBe('live');
  });

  it('reads a camera whose SDP names the other codec as it really sends, and says so (an Ezviz C6N does this)', async () => {
    await setFaults(sim, 'liar264', { sdpCodec: 'h265' });
    await setFaults(sim, 'liar265', { sdpCodec: 'h264', codec: 'h265' });
    hub.open('liar264', 'sub', viewer);
    hub.open('liar265', 'main', viewer);
    for (const [camera, profile, codec, says] of [['liar264', 'sub', 'H264', 'H265'], ['liar265', 'main', 'H265', 'H264']] as const) {
      const text = await playlistOf(camera, profile, 3);
      expect(hub.info(camera, profile)!.tracks![0]).toEqual({ kind: 'video', codec, carried: true, note: `the camera's SDP says ${says}, but it sends ${codec}: read as it is sent` });
      const p = await probe(camera, profile, text, segmentNumbers(text)[2]!);
      expect(p.errors).toBe('');
      expect(p.streams[0]).toMatchObject({ codec_name: codec === 'H264' ? 'h264' : 'hevc', nb_read_frames: '50' });
    }
  });

  it('ends a camera sending garbage in a named state while twenty others keep playing', async () => {
    const others = Array.from({ length: 20 }, (_, i) => `calm${i}`);
    for (const c of others) hub.open(c, 'sub', viewer);
    await waitFor('twenty live', () => others.every((c) => hub.info(c, 'sub')?.state === 'live'), 30_000);
    const before = new Map<string, number>();
    for (const c of others) before.set(c, hub.bus(c, 'sub')!.units);
    await setFaults(sim, 'garbage', { garbagePercent: 100 });
    hub.open('garbage', 'sub', viewer);
    const info = await waitFor('the garbage camera to be named', () => { const i = hub.info('garbage', 'sub'); return i?.error && i; }, 20_000);
    expect(info.state).toBe('failed');
    // Garbage that never makes a picture is unsupported; a rare random packet that passes for a keyframe makes the
    // stream live for a moment, and then the pictures that do not come fail it: both say what is wrong.
    expect(['unsupported', 'failed']).toContain(info.error!.kind);
    expect(info.error!.message).toMatch(/cannot be read|no picture could be read|without its codec parameters|no keyframe/);
    // Every other stream went on all along: pictures on each bus, and live.
    await waitFor('the others to go on', () => others.every((c) => hub.bus(c, 'sub')!.units > before.get(c)! + 25), 15_000);
    for (const c of others) expect(hub.info(c, 'sub')!.state).toBe('live');
  });

  it('takes a snapshot from the keyframe on the bus: the picture the camera sent, without a second pull', async () => {
    await setFaults(sim, 'shot', { counter: true });
    hub.open('shot', 'sub', viewer);
    await waitFor('a keyframe on the bus', () => hub.bus('shot', 'sub')?.hasKeyframe, 15_000);
    expect(sim.rtsp.sessionsOf('shot')).toBe(1);
    const jpeg = (await decodeKeyframe('ffmpeg', hub.bus('shot', 'sub')!, 10_000))!;
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(sim.rtsp.sessionsOf('shot')).toBe(1);
    // The picture shows its index in the counter clip's band: a keyframe's, a multiple of the 50-picture GOP.
    const gray = await filter('ffmpeg', ['-v', 'error', '-f', 'mjpeg', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], jpeg);
    const width = COUNTER_SPEC.width;
    let index = 0;
    for (let bit = 0; bit < COUNTER_BITS; bit++) {
      const x = Math.round((bit + 0.5) * (width / COUNTER_BITS));
      if (gray[Math.round(COUNTER_BAND / 2) * width + x]! > 128) index |= 1 << bit;
    }
    expect(index % 50).toBe(0);
  });
});
