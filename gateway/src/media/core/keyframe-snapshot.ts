// A snapshot of a stream the gateway already pulls: ffmpeg decodes the keyframe cached on its frame bus, given on stdin
// with its parameter sets. No second pull of the camera, and ffmpeg sees no address, only the picture's bytes.
import { spawn } from 'node:child_process';
import { annexB, lengthPrefixed, type VideoParams } from './access-unit.js';
import type { FrameBus } from './frame-bus.js';

/** MAX_JPEG_BYTES bounds what is read from ffmpeg. */
const MAX_JPEG_BYTES = 16 * 1024 * 1024;

/** keyframeStream returns a decodable Annex B picture: the parameter sets, then the cached keyframe. */
export function keyframeStream(bus: FrameBus): { data: Buffer; params: VideoParams } | undefined {
  const key = bus.lastKeyframe();
  if (!key || key.params.kind !== 'video') return undefined;
  const p = key.params;
  const sets = p.codec === 'H265' ? [p.vps!, p.sps, p.pps] : [p.sps, p.pps];
  return { data: Buffer.concat([annexB(lengthPrefixed(sets)), annexB(key.unit.data)]), params: p };
}

/** decodeKeyframe turns the bus's cached keyframe into a JPEG with ffmpeg, within timeoutMs; undefined when none is cached. */
export async function decodeKeyframe(ffmpegPath: string, bus: FrameBus, timeoutMs: number): Promise<Buffer | undefined> {
  const picture = keyframeStream(bus);
  if (!picture) return undefined;
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-f', picture.params.codec === 'H265' ? 'hevc' : 'h264', '-i', 'pipe:0',
      '-frames:v', '1', '-q:v', '4', '-f', 'mjpeg', 'pipe:1',
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdin.on('error', () => undefined);
    child.stdin.end(picture.data);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_JPEG_BYTES) child.kill('SIGKILL');
      else chunks.push(d);
    });
    child.stderr.resume();
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${ffmpegPath} (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(chunks);
      if (code === 0 && jpeg[0] === 0xff && jpeg[1] === 0xd8) resolve(jpeg);
      else reject(new Error(`the cached keyframe could not be decoded (ffmpeg exit ${code})`));
    });
  });
}
