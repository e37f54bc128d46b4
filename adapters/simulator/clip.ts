// A pre-encoded H.264 clip, split and packetized once, so that every simulated camera replays it for almost no CPU.
import { readFile } from 'node:fs/promises';
import { groupAccessUnits, groupHevcAccessUnits, hevcNalType, nalType, NalType, profileLevelId } from './h264.js';
import { splitAnnexB } from '../rtsp/annex-b.js';
import { packetizeHevcNalu, packetizeNalu } from './rtp.js';

/** ClipFrame is one picture as RTP payloads, ready to be given a header per session. */
export interface ClipFrame {
  key: boolean;
  payloads: Buffer[];
  bytes: number;
}

/** Clip describes and holds one looping clip. */
export interface Clip {
  codec: 'H264' | 'H265';
  width: number;
  height: number;
  fps: number;
  bitrate: number;
  profileLevelId: string;
  /** vps (H.265 only), sps and pps are the clip's parameter sets, for the SDP. */
  vps?: Buffer;
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
export async function loadClip(path: string, info: ClipInfo, mtu = 1400, order?: number[], codec: 'H264' | 'H265' = 'H264'): Promise<Clip> {
  const clip = codec === 'H265' ? parseHevcClip(await readFile(path), info, mtu, path) : parseClip(await readFile(path), info, mtu, path);
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
  return { codec: 'H264', ...info, bitrate, profileLevelId: profileLevelId(sps), sps, pps, frames };
}

/** parseHevcClip packetizes an H.265 Annex B buffer (RFC 7798 single NAL units and FUs). */
export function parseHevcClip(data: Buffer, info: ClipInfo, mtu = 1400, source = 'clip'): Clip {
  const units = groupHevcAccessUnits(splitAnnexB(data));
  if (units.length === 0) throw new Error(`${source}: no H.265 pictures found`);
  const first = units[0]!;
  if (!first.key) throw new Error(`${source}: does not start with an IRAP picture`);
  const find = (t: number) => first.nalus.find((n) => hevcNalType(n) === t);
  const [vps, sps, pps] = [find(32), find(33), find(34)];
  if (!vps || !sps || !pps) throw new Error(`${source}: first IRAP picture carries no VPS/SPS/PPS (encode with repeat-headers)`);
  const frames: ClipFrame[] = units.map((u) => {
    const payloads = u.nalus.flatMap((n) => packetizeHevcNalu(n, mtu));
    return { key: u.key, payloads, bytes: payloads.reduce((s, p) => s + p.length, 0) };
  });
  const totalBytes = frames.reduce((s, f) => s + f.bytes, 0);
  const bitrate = Math.round((totalBytes * 8 * info.fps) / frames.length);
  return { codec: 'H265', ...info, bitrate, profileLevelId: '', vps, sps, pps, frames };
}

/** AudioClip is a looping audio track: frames of frameSamples samples each, at rate. */
export interface AudioClip {
  codec: 'PCMA' | 'PCMU' | 'AAC';
  rate: number;
  frameSamples: number;
  frames: Buffer[];
}

/** parseAdts splits an ADTS stream into raw AAC frames (ISO/IEC 13818-7 6.2), headers left out. */
export function parseAdts(data: Buffer, source = 'AAC clip'): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  while (at + 7 <= data.length) {
    if (data[at] !== 0xff || (data[at + 1]! & 0xf6) !== 0xf0) throw new Error(`${source}: no ADTS sync word at byte ${at}`);
    const protectionAbsent = data[at + 1]! & 1;
    const length = ((data[at + 3]! & 0x03) << 11) | (data[at + 4]! << 3) | (data[at + 5]! >> 5);
    const header = protectionAbsent ? 7 : 9;
    if (length < header || at + length > data.length) throw new Error(`${source}: an ADTS frame runs past the end at byte ${at}`);
    frames.push(data.subarray(at + header, at + length));
    at += length;
  }
  if (frames.length === 0) throw new Error(`${source}: no AAC frames`);
  return frames;
}

/** loadAudioClip reads an ADTS AAC file, or raw G.711 cut into 20 ms frames. */
export async function loadAudioClip(path: string, codec: AudioClip['codec'], rate: number): Promise<AudioClip> {
  const data = await readFile(path);
  if (codec === 'AAC') return { codec, rate, frameSamples: 1024, frames: parseAdts(data, path) };
  const frameSamples = rate / 50;
  const frames: Buffer[] = [];
  for (let at = 0; at + frameSamples <= data.length; at += frameSamples) frames.push(data.subarray(at, at + frameSamples));
  if (frames.length === 0) throw new Error(`${path}: no G.711 samples`);
  return { codec, rate, frameSamples, frames };
}
