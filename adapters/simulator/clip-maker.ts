// Generates the clips the farm replays, with ffmpeg, once per machine: encoded as real cameras encode.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
  /** bframes is the number of B-frames between references (0: none, as most cameras encode). */
  bframes?: number;
}

/** CLIP_SPECS are the profiles a simulated camera offers: 720p High 2 Mbps with a 2 s GOP, and a 360p sub stream. */
export const CLIP_SPECS: Record<Profile, ClipSpec> = {
  main: { profile: 'main', width: 1280, height: 720, fps: 25, h264Profile: 'high', bitrateKbps: 2000, gopFrames: 50, seconds: 10 },
  sub: { profile: 'sub', width: 640, height: 360, fps: 25, h264Profile: 'main', bitrateKbps: 512, gopFrames: 50, seconds: 10 },
};

/** BFRAME_SPEC is the main profile as some cameras encode it: with two B-frames between references. */
export const BFRAME_SPEC: ClipSpec = { ...CLIP_SPECS.main, bframes: 2 };

/** HEVC_SPECS are the same profiles encoded in H.265 (Main profile), as newer cameras send them. */
export const HEVC_SPECS: Record<Profile, ClipSpec> = {
  main: { ...CLIP_SPECS.main, h264Profile: 'main' },
  sub: { ...CLIP_SPECS.sub },
};

/**
 * COUNTER_SPEC is a clip whose every picture shows its own index: eight blocks across the top, white for a 1 bit
 * (least significant on the left), so that a page can read which picture it shows and, with the simulator's send
 * times, how long it took from the camera to the glass. 250 pictures (10 s) loop, so the index is never ambiguous.
 */
export const COUNTER_SPEC: ClipSpec = { profile: 'sub', width: 640, height: 360, fps: 25, h264Profile: 'main', bitrateKbps: 800, gopFrames: 50, seconds: 10 };
/** COUNTER_BAND is the height of the index band, and COUNTER_BITS its blocks (80 pixels wide each). */
export const COUNTER_BAND = 120;
export const COUNTER_BITS = 8;

/** AUDIO_SPECS are the audio tracks a camera sends: G.711 at 8 kHz, and AAC-LC at 16 kHz, mono, a 1 kHz tone. */
export const AUDIO_SPECS = {
  pcma: { codec: 'PCMA', rate: 8000, file: 'audio-pcma-8000-v1.raw', args: ['-c:a', 'pcm_alaw', '-f', 'alaw'] },
  pcmu: { codec: 'PCMU', rate: 8000, file: 'audio-pcmu-8000-v1.raw', args: ['-c:a', 'pcm_mulaw', '-f', 'mulaw'] },
  aac: { codec: 'AAC', rate: 16000, file: 'audio-aac-16000-v1.adts', args: ['-c:a', 'aac', '-b:a', '32k', '-f', 'adts'] },
} as const;

/** clipPath returns where the clip of a spec (a profile's by default) lives in dir. */
export function clipPath(dir: string, profile: Profile, spec: ClipSpec = CLIP_SPECS[profile]): string {
  const s = spec;
  return join(dir, `${profile}-${s.width}x${s.height}-${s.fps}fps-${s.h264Profile}-${s.bitrateKbps}k${s.bframes ? `-bf${s.bframes}` : ''}-v1.h264`);
}

/**
 * ensureBframeClip encodes the B-frame clip once, with the presentation order of its pictures beside it (a JSON list
 * of frame numbers in decode order): a raw H.264 stream carries no timestamps, and RTP must send each picture's own.
 * The order comes from ffmpeg's own timestamps (through Matroska), not from a parser of ours.
 */
export async function ensureBframeClip(dir: string, ffmpegPath = 'ffmpeg'): Promise<{ path: string; order: number[] }> {
  await mkdir(dir, { recursive: true });
  const path = clipPath(dir, 'main', BFRAME_SPEC);
  const orderPath = `${path}.order.json`;
  if (!(await stat(path).then((s) => s.size > 0, () => false)) || !(await stat(orderPath).then((s) => s.size > 0, () => false))) {
    const mkv = `${path}.mkv`;
    await encode(BFRAME_SPEC, mkv, ffmpegPath, 'matroska');
    await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', '-i', mkv, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', `${path}.tmp`], 'the B-frame clip');
    const crc = await output(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-i', mkv, '-c', 'copy', '-f', 'framecrc', '-'], 'the B-frame clip timestamps');
    // framecrc lines: stream, dts, pts, duration, size, crc (in the stream time base); packets in decode order.
    const rows = crc.split('\n').filter((l) => /^0,/.test(l)).map((l) => l.split(',').map((x) => x.trim()));
    const pts = rows.map((r) => Number(r[2]));
    const duration = Number(rows[0]?.[3]);
    if (pts.length === 0 || !(duration > 0)) throw new Error('ffmpeg gave no timestamps for the B-frame clip');
    const first = Math.min(...pts);
    await writeFile(orderPath, JSON.stringify(pts.map((p) => Math.round((p - first) / duration))));
    await rename(`${path}.tmp`, path);
    await rm(mkv, { force: true });
  }
  return { path, order: JSON.parse(await readFile(orderPath, 'utf8')) as number[] };
}

/** ensureHevcClips encodes the H.265 clips once (libx265, a closed 2 s GOP, parameter sets before each IRAP). */
export async function ensureHevcClips(dir: string, ffmpegPath = 'ffmpeg', progress: (line: string) => void = () => {}): Promise<Record<Profile, string>> {
  await mkdir(dir, { recursive: true });
  const out = {} as Record<Profile, string>;
  for (const spec of Object.values(HEVC_SPECS)) {
    const path = join(dir, `${spec.profile}-${spec.width}x${spec.height}-${spec.fps}fps-hevc-${spec.bitrateKbps}k-v1.hevc`);
    out[spec.profile] = path;
    if (await stat(path).then((st) => st.size > 0, () => false)) continue;
    progress(`encoding ${spec.profile} H.265 clip ${spec.width}x${spec.height} ${spec.bitrateKbps} kbps`);
    await run(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`,
      '-t', String(spec.seconds), '-an', '-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', `${spec.bitrateKbps}k`,
      '-x265-params', `keyint=${spec.gopFrames}:min-keyint=${spec.gopFrames}:scenecut=0:repeat-headers=1:bframes=0:open-gop=0:log-level=error`,
      '-f', 'hevc', `${path}.tmp`,
    ], `the ${spec.profile} H.265 clip`);
    await rename(`${path}.tmp`, path);
  }
  return out;
}

/** ensureCounterClip encodes the clip whose pictures show their own index (COUNTER_SPEC). */
export async function ensureCounterClip(dir: string, ffmpegPath = 'ffmpeg'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const s = COUNTER_SPEC;
  const path = join(dir, `counter-${s.width}x${s.height}-${s.fps}fps-${s.bitrateKbps}k-v1.h264`);
  if (await stat(path).then((st) => st.size > 0, () => false)) return path;
  const w = s.width / COUNTER_BITS;
  const band = (inside: string, outside: string) => `if(lt(Y\\,${COUNTER_BAND})\\,${inside}\\,${outside})`;
  const filter = `testsrc2=size=${s.width}x${s.height}:rate=${s.fps},format=yuv420p,`
    + `geq=lum='${band(`255*bitand(floor(N/pow(2\\,floor(X/${w})))\\,1)`, 'lum(X\\,Y)')}':cb='${band('128', 'cb(X\\,Y)')}':cr='${band('128', 'cr(X\\,Y)')}'`;
  await run(ffmpegPath, [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', filter,
    '-t', String(s.seconds), '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', s.h264Profile, '-pix_fmt', 'yuv420p',
    '-b:v', `${s.bitrateKbps}k`, '-g', String(s.gopFrames), '-keyint_min', String(s.gopFrames), '-sc_threshold', '0', '-bf', '0',
    '-x264-params', 'repeat-headers=1:aud=0', '-f', 'h264', `${path}.tmp`,
  ], 'the counter clip');
  await rename(`${path}.tmp`, path);
  return path;
}

/** ensureAudio encodes the audio tracks once: 10 s of a 1 kHz tone in each format. */
export async function ensureAudio(dir: string, ffmpegPath = 'ffmpeg'): Promise<Record<keyof typeof AUDIO_SPECS, string>> {
  await mkdir(dir, { recursive: true });
  const out = {} as Record<keyof typeof AUDIO_SPECS, string>;
  for (const [name, spec] of Object.entries(AUDIO_SPECS) as Array<[keyof typeof AUDIO_SPECS, (typeof AUDIO_SPECS)[keyof typeof AUDIO_SPECS]]>) {
    const path = join(dir, spec.file);
    out[name] = path;
    if (await stat(path).then((st) => st.size > 0, () => false)) continue;
    await run(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=${spec.rate}`, '-t', '10', '-ac', '1',
      ...spec.args, `${path}.tmp`,
    ], `the ${name} audio`);
    await rename(`${path}.tmp`, path);
  }
  return out;
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

function encode(spec: ClipSpec, path: string, ffmpegPath: string, container: 'h264' | 'matroska' = 'h264'): Promise<void> {
  const kbps = `${spec.bitrateKbps}k`;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`,
    '-t', String(spec.seconds), '-an',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', spec.h264Profile, '-pix_fmt', 'yuv420p',
    '-b:v', kbps, '-maxrate', kbps, '-bufsize', kbps,
    '-g', String(spec.gopFrames), '-keyint_min', String(spec.gopFrames), '-sc_threshold', '0', '-bf', String(spec.bframes ?? 0),
    // A closed GOP: each IDR starts pictures that never refer back, as cameras encode.
    ...(spec.bframes ? ['-flags', '+cgop', '-b_strategy', '0'] : []),
    '-x264-params', 'repeat-headers=1:aud=0',
    '-f', container, path,
  ];
  return run(ffmpegPath, args, `the ${spec.profile} clip`);
}

function output(ffmpegPath: string, args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => reject(new Error(`cannot run ${ffmpegPath}: ${e.message} (install ffmpeg: apt-get install -y ffmpeg)`)));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`ffmpeg failed reading ${what} (exit ${code}): ${err.trim()}`))));
  });
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
