// A pre-encoded H.264 clip, split and packetized once, so that every simulated camera replays it for almost no CPU.
import { readFile } from 'node:fs/promises';
import { groupAccessUnits, nalType, NalType, profileLevelId, splitAnnexB } from './h264.js';
import { packetizeNalu } from './rtp.js';

/** ClipFrame is one picture as RTP payloads, ready to be given a header per session. */
export interface ClipFrame {
  key: boolean;
  payloads: Buffer[];
  bytes: number;
}

/** Clip describes and holds one looping clip. */
export interface Clip {
  width: number;
  height: number;
  fps: number;
  bitrate: number;
  profileLevelId: string;
  sps: Buffer;
  pps: Buffer;
  frames: ClipFrame[];
  /** order gives the presentation number of each picture, in decode order (B-frames come after what they need). */
  order?: number[];
}

/** ClipInfo is what the clip's maker knows about it (the bitstream does not say its frame rate reliably). */
export interface ClipInfo {
  width: number;
  height: number;
  fps: number;
}

/** loadClip reads an Annex B file and packetizes it with the given MTU; order is the presentation order, if not 0, 1, 2... */
export async function loadClip(path: string, info: ClipInfo, mtu = 1400, order?: number[]): Promise<Clip> {
  const clip = parseClip(await readFile(path), info, mtu, path);
  if (order) {
    if (order.length !== clip.frames.length) throw new Error(`${path}: ${order.length} presentation times for ${clip.frames.length} pictures`);
    clip.order = order;
  }
  return clip;
}

/** parseClip packetizes an Annex B buffer; source names it in errors. */
export function parseClip(data: Buffer, info: ClipInfo, mtu = 1400, source = 'clip'): Clip {
  const units = groupAccessUnits(splitAnnexB(data));
  if (units.length === 0) throw new Error(`${source}: no H.264 pictures found`);
  const first = units[0]!;
  if (!first.key) throw new Error(`${source}: does not start with an IDR picture`);
  const sps = first.nalus.find((n) => nalType(n) === NalType.sps);
  const pps = first.nalus.find((n) => nalType(n) === NalType.pps);
  if (!sps || !pps) throw new Error(`${source}: first IDR carries no SPS/PPS (encode with repeat-headers)`);
  const frames: ClipFrame[] = units.map((u) => {
    const payloads = u.nalus.flatMap((n) => packetizeNalu(n, mtu));
    return { key: u.key, payloads, bytes: payloads.reduce((s, p) => s + p.length, 0) };
  });
  const totalBytes = frames.reduce((s, f) => s + f.bytes, 0);
  const bitrate = Math.round((totalBytes * 8 * info.fps) / frames.length);
  return { ...info, bitrate, profileLevelId: profileLevelId(sps), sps, pps, frames };
}
