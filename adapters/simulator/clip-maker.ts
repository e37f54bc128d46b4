// Generates the clips the farm replays, with ffmpeg, once per machine: encoded as real cameras encode.
import { spawn } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Profile } from '../core/types.js';
import type { ClipInfo } from './clip.js';

/** ClipSpec describes one profile's encoding. */
export interface ClipSpec extends ClipInfo {
  profile: Profile;
  h264Profile: 'high' | 'main' | 'baseline';
  bitrateKbps: number;
  gopFrames: number;
  seconds: number;
}

/** CLIP_SPECS are the profiles a simulated camera offers: 720p High 2 Mbps with a 2 s GOP, and a 360p sub stream. */
export const CLIP_SPECS: Record<Profile, ClipSpec> = {
  main: { profile: 'main', width: 1280, height: 720, fps: 25, h264Profile: 'high', bitrateKbps: 2000, gopFrames: 50, seconds: 10 },
  sub: { profile: 'sub', width: 640, height: 360, fps: 25, h264Profile: 'main', bitrateKbps: 512, gopFrames: 50, seconds: 10 },
};

/** clipPath returns where the clip of a profile lives in dir. */
export function clipPath(dir: string, profile: Profile): string {
  const s = CLIP_SPECS[profile];
  return join(dir, `${profile}-${s.width}x${s.height}-${s.fps}fps-${s.h264Profile}-${s.bitrateKbps}k-v1.h264`);
}

/** ensureClips encodes the missing clips in dir and returns their paths; progress receives a line per clip. */
export async function ensureClips(dir: string, ffmpegPath = 'ffmpeg', progress: (line: string) => void = () => {}): Promise<Record<Profile, string>> {
  await mkdir(dir, { recursive: true });
  const out = {} as Record<Profile, string>;
  for (const spec of Object.values(CLIP_SPECS)) {
    const path = clipPath(dir, spec.profile);
    out[spec.profile] = path;
    if (await stat(path).then((s) => s.size > 0, () => false)) continue;
    progress(`encoding ${spec.profile} clip ${spec.width}x${spec.height} ${spec.h264Profile} ${spec.bitrateKbps} kbps`);
    await encode(spec, `${path}.tmp`, ffmpegPath);
    await rename(`${path}.tmp`, path);
  }
  return out;
}

/** snapshotPath returns where the JPEG snapshot of a profile lives in dir. */
export function snapshotPath(dir: string, profile: Profile): string {
  const s = CLIP_SPECS[profile];
  return join(dir, `${profile}-${s.width}x${s.height}-snapshot-v1.jpg`);
}

/** ensureSnapshots makes the JPEG each profile's snapshot URI returns: the clip's first picture, as a camera encodes it. */
export async function ensureSnapshots(dir: string, ffmpegPath = 'ffmpeg'): Promise<Record<Profile, string>> {
  await mkdir(dir, { recursive: true });
  const out = {} as Record<Profile, string>;
  for (const spec of Object.values(CLIP_SPECS)) {
    const path = snapshotPath(dir, spec.profile);
    out[spec.profile] = path;
    if (await stat(path).then((s) => s.size > 0, () => false)) continue;
    await run(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`,
      '-frames:v', '1', '-q:v', '4', '-f', 'mjpeg', `${path}.tmp`,
    ], `the ${spec.profile} snapshot`);
    await rename(`${path}.tmp`, path);
  }
  return out;
}

function encode(spec: ClipSpec, path: string, ffmpegPath: string): Promise<void> {
  const kbps = `${spec.bitrateKbps}k`;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`,
    '-t', String(spec.seconds), '-an',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', spec.h264Profile, '-pix_fmt', 'yuv420p',
    '-b:v', kbps, '-maxrate', kbps, '-bufsize', kbps,
    '-g', String(spec.gopFrames), '-keyint_min', String(spec.gopFrames), '-sc_threshold', '0', '-bf', '0',
    '-x264-params', 'repeat-headers=1:aud=0',
    '-f', 'h264', path,
  ];
  return run(ffmpegPath, args, `the ${spec.profile} clip`);
}

function run(ffmpegPath: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => reject(new Error(`cannot run ${ffmpegPath}: ${e.message} (install ffmpeg: apt-get install -y ffmpeg)`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed encoding ${what} (exit ${code}): ${err.trim()}`))));
  });
}
