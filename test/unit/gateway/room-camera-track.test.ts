// A camera brought into a recorded room is written from its frame bus into a fragmented MP4 of its own: from the
// cached keyframe on, every picture once, its clock from 0 and going on when the camera's starts over, a fragment at
// each keyframe, the file finished when the camera leaves, when its picture changes size, or with the recording.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessUnit, VideoParams } from '../../../gateway/src/media/core/access-unit.js';
import { FrameBus } from '../../../gateway/src/media/core/frame-bus.js';
import { reapRecorders, RoomRecorder } from '../../../gateway/src/media/webrtc/room-recorder.js';

const params = (width = 1280, height = 720): VideoParams => ({
  kind: 'video', codec: 'H264', sps: Buffer.from('Z2QAH6y0AoAt2AiAAAADAIAAABkHjBlQ', 'base64'), pps: Buffer.from('aO88sA==', 'base64'),
  width, height, codecString: 'avc1.64001f', reorder: 0,
});
const unit = (i: number, key: boolean, base = 0): AccessUnit => ({ track: 0, pts: base + i * 3600, dts: base + i * 3600, key, data: Buffer.alloc(200, i & 0xff), at: Date.now() });

/** fragments reads a fragmented MP4: each moof's tfdt and its samples' durations and sizes; the mdat bytes follow. */
function fragments(b: Buffer): { top: string[]; frags: Array<{ base: number; durations: number[]; sizes: number[]; first: number }> } {
  const top: string[] = [];
  const frags: Array<{ base: number; durations: number[]; sizes: number[]; first: number }> = [];
  for (let at = 0; at < b.length;) {
    const size = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    expect(size, `${type} at ${at}`).toBeGreaterThanOrEqual(8);
    expect(at + size).toBeLessThanOrEqual(b.length);
    top.push(type);
    if (type === 'moof') {
      const traf = b.indexOf('traf', at, 'latin1') - 4;
      const tfdt = b.indexOf('tfdt', traf, 'latin1') - 4;
      const trun = b.indexOf('trun', traf, 'latin1') - 4;
      const n = b.readUInt32BE(trun + 12);
      const durations: number[] = [];
      const sizes: number[] = [];
      for (let i = 0; i < n; i++) {
        durations.push(b.readUInt32BE(trun + 20 + 16 * i));
        sizes.push(b.readUInt32BE(trun + 24 + 16 * i));
      }
      frags.push({ base: Number(b.readBigUInt64BE(tfdt + 12)), durations, sizes, first: 0 });
    }
    if (type === 'mdat') frags.at(-1)!.first = b[at + 8]!;
    at += size;
  }
  return { top, frags };
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function recorder(): RoomRecorder {
  const dir = mkdtempSync(join(tmpdir(), 'seg-camtrack-'));
  dirs.push(dir);
  return new RoomRecorder({ dir, ffmpegPath: 'ffmpeg' });
}

describe("a camera's track in a room's recording", () => {
  it('starts at the cached keyframe, keeps every picture once with its length, and goes on across a restart of the camera clock', async () => {
    const rec = recorder();
    const bus = new FrameBus();
    bus.begin([params()]);
    // A GOP and a half before the camera is brought in: the file starts at the second keyframe (picture 25).
    for (let i = 0; i < 30; i++) bus.publish(unit(i, i % 25 === 0, 900_000));
    expect(rec.addBus('camera:c1', 'c1', bus)).toBe(true);
    expect(rec.addBus('camera:c1', 'c1', bus)).toBe(false);
    for (let i = 30; i < 75; i++) bus.publish(unit(i, i % 25 === 0, 900_000));
    // The camera reconnected: its clock starts over near 0, with a keyframe.
    for (let i = 0; i < 20; i++) bus.publish(unit(i, i % 25 === 0, 0));
    const { tracks } = await rec.stop();
    expect(tracks).toHaveLength(1);
    expect(tracks[0]).toMatchObject({ participant: 'camera:c1', kinds: ['video'] });
    expect(tracks[0]!.name).toMatch(/^track-001-camera-c1\.mp4$/);
    const { top, frags } = fragments(readFileSync(join(rec.dir, tracks[0]!.name)));
    expect(top.slice(0, 2)).toEqual(['ftyp', 'moov']);
    expect(top.slice(2).every((t, i) => t === (i % 2 === 0 ? 'moof' : 'mdat'))).toBe(true);
    // 50 pictures of the first run (25..74) and 20 of the second, each written once.
    const durations = frags.flatMap((f) => f.durations);
    expect(durations).toHaveLength(70);
    expect(durations.every((d) => d === 3600)).toBe(true);
    // The clock starts at 0 and runs on without a gap or a step back: each fragment begins where the last ended.
    expect(frags[0]!.base).toBe(0);
    for (let i = 1; i < frags.length; i++) expect(frags[i]!.base).toBe(frags[i - 1]!.base + frags[i - 1]!.durations.reduce((a, b) => a + b, 0));
    // A fragment at each keyframe: its first sample is the keyframe (the data bytes say which picture it is).
    expect(frags.map((f) => f.first)).toEqual([25, 50, 0]);
  });

  it('ends the file when the camera leaves, when its picture changes size, or when the bus ends; the recording goes on', async () => {
    const rec = recorder();
    const a = new FrameBus();
    const b = new FrameBus();
    const c = new FrameBus();
    for (const bus of [a, b, c]) bus.begin([params()]);
    for (const bus of [a, b, c]) bus.publish(unit(0, true));
    expect(rec.addBus('camera:a', 'a', a)).toBe(true);
    expect(rec.addBus('camera:b', 'b', b)).toBe(true);
    expect(rec.addBus('camera:c', 'c', c)).toBe(true);
    for (let i = 1; i < 10; i++) for (const bus of [a, b, c]) bus.publish(unit(i, false));
    await rec.end('camera:a');
    b.setParams(0, params(640, 360));
    c.end();
    for (let i = 10; i < 20; i++) for (const bus of [a, b]) bus.publish(unit(i, i === 10));
    const { tracks } = await rec.stop();
    expect(tracks.map((t) => t.participant).sort()).toEqual(['camera:a', 'camera:b', 'camera:c']);
    for (const t of tracks) {
      const { frags } = fragments(readFileSync(join(rec.dir, t.name)));
      expect(frags.flatMap((f) => f.durations), t.name).toHaveLength(10);
    }
    // A bus with no picture yet, or ended, gives no track.
    const empty = new FrameBus();
    expect(rec.addBus('camera:d', 'd', empty)).toBe(false);
  });
});

describe('recorders a killed gateway left', () => {
  it('are ended by the next start: an ffmpeg writing under the recordings folder, and only that one', async () => {
    const { spawn } = await import('node:child_process');
    const root = mkdtempSync(join(tmpdir(), 'seg-reap-'));
    dirs.push(root);
    const mine = join(root, 'recordings');
    const other = join(root, 'elsewhere');
    const { mkdirSync } = await import('node:fs');
    for (const d of [join(mine, 'room', 'rec'), other]) mkdirSync(d, { recursive: true });
    const run = (out: string) => {
      const p = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'anullsrc', '-f', 'matroska', '-y', out], { stdio: 'ignore' });
      return { p, spawned: new Promise<void>((resolve) => p.once('spawn', () => resolve())), exit: new Promise<string | null>((resolve) => p.once('exit', (_code, signal) => resolve(signal))) };
    };
    const { p: left, spawned: leftUp, exit: leftExit } = run(join(mine, 'room', 'rec', 'track-001-x.mkv'));
    const { p: stranger, spawned: strangerUp } = run(join(other, 'x.mkv'));
    try {
      await Promise.all([leftUp, strangerUp]);
      expect(reapRecorders(mine)).toBe(1);
      expect(await leftExit).toBe('SIGKILL');
      expect(stranger.exitCode).toBeNull();
      expect(reapRecorders(mine)).toBe(0);
    } finally {
      stranger.kill('SIGKILL');
      left.kill('SIGKILL');
    }
  });
});
