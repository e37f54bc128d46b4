// A browser's simulcast camera, made once by ffmpeg and replayed without encoding: three VP8 layers (180p, 360p and
// 720p at a browser's bitrates) of one test picture, read from IVF files and cut into RTP payloads (RFC 7741: the
// payload descriptor with a 15-bit picture id, as Chromium sends it), for the room capacity benchmark's senders.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** LAYERS are the simulcast layers as the console's client asks Chromium for them (room-client.ts SIMULCAST). */
export const LAYERS = [
  { rid: 'q', width: 320, height: 180, bitrate: 150_000 },
  { rid: 'h', width: 640, height: 360, bitrate: 500_000 },
  { rid: 'f', width: 1280, height: 720, bitrate: 1_500_000 },
] as const;
export const FPS = 30;
/** PAYLOAD_MAX is the most VP8 bytes in one packet (an RTP packet stays under 1,200 bytes with its headers). */
const PAYLOAD_MAX = 1100;

/** Vp8Packet is one RTP payload of a layer's clip: which frame it belongs to and whether it ends the frame. */
export interface Vp8Packet { frame: number; marker: boolean; key: boolean; payload: Buffer }

/** makeClips encodes the three layers (10 s each, a keyframe every 2 s) into dir, unless they are there already. */
export function makeClips(ffmpegPath: string, dir: string, seconds = 10): string[] {
  mkdirSync(dir, { recursive: true });
  return LAYERS.map((l) => {
    const file = join(dir, `layer-${l.rid}-${l.height}p.ivf`);
    if (!existsSync(file)) {
      execFileSync(ffmpegPath, [
        '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${l.width}x${l.height}:rate=${FPS}`, '-t', String(seconds),
        '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', String(l.bitrate), '-minrate', String(l.bitrate), '-maxrate', String(l.bitrate),
        '-g', String(2 * FPS), '-keyint_min', String(2 * FPS), '-auto-alt-ref', '0', '-lag-in-frames', '0', '-f', 'ivf', file,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    return file;
  });
}

/** readIvf returns the frames of an IVF file (32-byte header, then a 12-byte header per frame). */
export function readIvf(file: string): Buffer[] {
  const b = readFileSync(file);
  if (b.toString('latin1', 0, 4) !== 'DKIF') throw new Error(`${file} is not an IVF file`);
  const frames: Buffer[] = [];
  for (let at = b.readUInt16LE(6); at + 12 <= b.length;) {
    const size = b.readUInt32LE(at);
    frames.push(b.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return frames;
}

/**
 * packetize cuts frames into VP8 RTP payloads. The descriptor's picture id is written by the sender as it goes
 * (bytes 2 and 3, 15 bits with the M bit); here it is left 0.
 */
export function packetize(frames: Buffer[]): Vp8Packet[] {
  const out: Vp8Packet[] = [];
  frames.forEach((f, frame) => {
    const key = (f[0]! & 0x01) === 0;
    for (let at = 0; at < f.length; at += PAYLOAD_MAX) {
      const part = f.subarray(at, Math.min(f.length, at + PAYLOAD_MAX));
      // X=1, S=1 on a frame's first packet, PID 0; I=1; a 15-bit picture id.
      const descriptor = Buffer.from([0x80 | (at === 0 ? 0x10 : 0), 0x80, 0x80, 0x00]);
      out.push({ frame, marker: at + PAYLOAD_MAX >= f.length, key, payload: Buffer.concat([descriptor, part]) });
    }
  });
  return out;
}
