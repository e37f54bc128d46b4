// Fragmented MP4 (ISO/IEC 14496-12, CMAF-style) as HLS carries it: an init segment that describes the tracks (avc1 with
// avcC, hvc1 with hvcC, mp4a with esds) and fragments of moof + mdat. A fragment's sample bytes are the bus's own
// buffers, handed on as they are: nothing is copied into a segment.
import { parseHevcSps } from '../../../../adapters/rtsp/h265-sps.js';
import type { AudioParams, TrackParams, VideoParams } from './access-unit.js';

/** Mp4Track is one track of an init segment: its id (1-based), timescale and codec parameters. */
export interface Mp4Track {
  id: number;
  timescale: number;
  params: TrackParams;
}

/** Mp4Sample is one sample of a fragment, in its track's timescale. */
export interface Mp4Sample {
  duration: number;
  /** cto is pts - dts. */
  cto: number;
  key: boolean;
  data: Buffer;
}

/** FragmentTrack is one track's run of samples in a fragment, from baseDts on. */
export interface FragmentTrack {
  id: number;
  baseDts: number;
  samples: Mp4Sample[];
}

function box(type: string, ...parts: Buffer[]): Buffer {
  let size = 8;
  for (const p of parts) size += p.length;
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...parts], size);
}

function full(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  const vf = Buffer.allocUnsafe(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...parts);
}

function u8(...v: number[]): Buffer {
  return Buffer.from(v);
}

function u16(...v: number[]): Buffer {
  const b = Buffer.allocUnsafe(2 * v.length);
  v.forEach((x, i) => b.writeUInt16BE(x & 0xffff, 2 * i));
  return b;
}

function u32(...v: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * v.length);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, 4 * i));
  return b;
}

function u64(v: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(v))), 0);
  return b;
}

const MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

/** avcC is the AVC decoder configuration record (ISO/IEC 14496-15 5.3.3.1). */
export function avcC(p: VideoParams): Buffer {
  const sps = p.sps;
  const parts = [u8(1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1), u16(sps.length), sps, u8(1), u16(p.pps.length), p.pps];
  // High profiles carry their chroma format and bit depths (4:2:0, 8 bits: what cameras send).
  if ([100, 110, 122, 144].includes(sps[1]!)) parts.push(u8(0xfc | 1, 0xf8, 0xf8, 0));
  return box('avcC', ...parts);
}

/** hvcC is the HEVC decoder configuration record (ISO/IEC 14496-15 8.3.3.1). */
export function hvcC(p: VideoParams): Buffer {
  const info = parseHevcSps(p.sps);
  const arrays: Buffer[] = [];
  for (const [type, nal] of [[32, p.vps!], [33, p.sps], [34, p.pps]] as const) {
    arrays.push(u8(0x80 | type), u16(1), u16(nal.length), nal);
  }
  const layers = (Math.min(info.maxSubLayers, 7) & 7) << 3;
  return box('hvcC',
    u8(1), info.ptl, u16(0xf000), u8(0xfc, 0xfc | (info.chromaFormatIdc & 3), 0xf8 | ((info.bitDepthLuma - 8) & 7), 0xf8 | ((info.bitDepthChroma - 8) & 7)),
    u16(0), u8(layers | (info.temporalIdNested ? 4 : 0) | 3), u8(3), ...arrays);
}

/** esds is the MPEG-4 elementary stream descriptor of an AAC track (ISO/IEC 14496-1 7.2.6.5). */
export function esds(p: AudioParams): Buffer {
  const config = p.config ?? Buffer.alloc(0);
  const desc = (tag: number, body: Buffer) => Buffer.concat([u8(tag, 0x80, 0x80, 0x80, body.length & 0x7f), body]);
  const decSpecific = desc(0x05, config);
  const decConfig = desc(0x04, Buffer.concat([u8(0x40, 0x15), u8(0, 0, 0), u32(0, 0), decSpecific]));
  const es = desc(0x03, Buffer.concat([u16(0), u8(0), decConfig, desc(0x06, u8(0x02))]));
  return full('esds', 0, 0, es);
}

function sampleEntry(t: Mp4Track): Buffer {
  const p = t.params;
  if (p.kind === 'video') {
    const compressor = Buffer.alloc(32);
    return box(p.codec === 'H265' ? 'hvc1' : 'avc1',
      Buffer.alloc(6), u16(1), u16(0, 0), u32(0, 0, 0), u16(p.width, p.height), u32(0x00480000, 0x00480000, 0), u16(1),
      compressor, u16(0x0018, 0xffff), p.codec === 'H265' ? hvcC(p) : avcC(p));
  }
  return box('mp4a', Buffer.alloc(6), u16(1), u32(0, 0), u16(p.channels, 16), u16(0, 0), u32(Math.min(p.sampleRate, 65535) * 65536), esds(p));
}

function trak(t: Mp4Track): Buffer {
  const video = t.params.kind === 'video';
  const w = video ? (t.params as VideoParams).width : 0;
  const h = video ? (t.params as VideoParams).height : 0;
  const tkhd = full('tkhd', 0, 3, u32(0, 0, t.id, 0, 0, 0, 0), u16(0, 0, video ? 0 : 0x0100, 0), MATRIX, u32(w * 65536, h * 65536));
  const mdhd = full('mdhd', 0, 0, u32(0, 0, t.timescale, 0), u16(0x55c4, 0));
  const hdlr = full('hdlr', 0, 0, u32(0), Buffer.from(video ? 'vide' : 'soun', 'latin1'), u32(0, 0, 0), Buffer.from(video ? 'Sharp Eyes video\0' : 'Sharp Eyes audio\0', 'latin1'));
  const mhd = video ? full('vmhd', 0, 1, u16(0, 0, 0, 0)) : full('smhd', 0, 0, u16(0, 0));
  const dinf = box('dinf', full('dref', 0, 0, u32(1), full('url ', 0, 1)));
  const stbl = box('stbl', full('stsd', 0, 0, u32(1), sampleEntry(t)), full('stts', 0, 0, u32(0)), full('stsc', 0, 0, u32(0)), full('stsz', 0, 0, u32(0, 0)), full('stco', 0, 0, u32(0)));
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mhd, dinf, stbl)));
}

/** initSegment writes ftyp and moov for the tracks. */
export function initSegment(tracks: readonly Mp4Track[]): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32(0), Buffer.from('iso6cmfcisommp41', 'latin1'));
  const mvhd = full('mvhd', 0, 0, u32(0, 0, 1000, 0, 0x00010000), u16(0x0100, 0), u32(0, 0), MATRIX, Buffer.alloc(24), u32(tracks.length + 1));
  const mvex = box('mvex', ...tracks.map((t) => full('trex', 0, 0, u32(t.id, 1, 0, 0, 0))));
  return Buffer.concat([ftyp, box('moov', mvhd, ...tracks.map(trak), mvex)]);
}

const KEY_FLAGS = 0x02000000;
const DELTA_FLAGS = 0x01010000;
/** TRUN_FLAGS: data offset, and each sample's duration, size, flags and composition offset. */
const TRUN_FLAGS = 0x000f01;

/**
 * fragment writes one moof + mdat for the tracks' samples. It returns the chunks to send in order: the boxes written
 * here, then the samples' own buffers.
 */
export function fragment(sequence: number, tracks: readonly FragmentTrack[]): { chunks: Buffer[]; bytes: number } {
  const present = tracks.filter((t) => t.samples.length > 0);
  // The moof's size is known before the data offsets: each traf's size depends only on its sample count.
  const trafSize = (n: number) => 8 + 16 + 20 + (8 + 12 + 16 * n);
  const moofSize = 8 + 16 + present.reduce((s, t) => s + trafSize(t.samples.length), 0);
  let dataBytes = 0;
  for (const t of present) for (const s of t.samples) dataBytes += s.data.length;
  let offset = moofSize + 8;
  const trafs: Buffer[] = [];
  for (const t of present) {
    const entries = Buffer.allocUnsafe(16 * t.samples.length);
    let bytes = 0;
    t.samples.forEach((s, i) => {
      entries.writeUInt32BE(s.duration >>> 0, 16 * i);
      entries.writeUInt32BE(s.data.length, 16 * i + 4);
      entries.writeUInt32BE(s.key ? KEY_FLAGS : DELTA_FLAGS, 16 * i + 8);
      entries.writeInt32BE(Math.max(-0x80000000, Math.min(0x7fffffff, s.cto)), 16 * i + 12);
      bytes += s.data.length;
    });
    const tfhd = full('tfhd', 0, 0x020000, u32(t.id));
    const tfdt = full('tfdt', 1, 0, u64(t.baseDts));
    const trun = full('trun', 1, TRUN_FLAGS, u32(t.samples.length, offset), entries);
    trafs.push(box('traf', tfhd, tfdt, trun));
    offset += bytes;
  }
  const moof = box('moof', full('mfhd', 0, 0, u32(sequence)), ...trafs);
  if (moof.length !== moofSize) throw new Error(`moof size ${moof.length}, expected ${moofSize}`);
  const mdat = Buffer.allocUnsafe(8);
  mdat.writeUInt32BE(8 + dataBytes, 0);
  mdat.write('mdat', 4, 'latin1');
  const chunks = [moof, mdat];
  for (const t of present) for (const s of t.samples) chunks.push(s.data);
  return { chunks, bytes: moofSize + 8 + dataBytes };
}
