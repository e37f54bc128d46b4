// FLV tag bodies to and from the frame bus: what an RTMP push carries (legacy AVC, enhanced-RTMP HEVC as FourCC
// 'hvc1', AAC, G.711), read into access units; and the bus written as FLV tags (the same codecs, the same enhanced
// header for H.265) through node-media-server's FLV muxer. Bodies are untrusted: every length is checked.
import { createRequire } from 'node:module';
import { lengthPrefixed, type AccessUnit, type AudioParams, type TrackParams, type VideoParams } from './core/access-unit.js';
import { h264Params, h265Params } from './core/video-depacketizer.js';
import type { Consumer, FrameBus } from './core/frame-bus.js';

const require = createRequire(import.meta.url);
/** NMS_FLV is node-media-server's FLV muxer (header and tags). */
const NmsFlv = require('node-media-server/src/protocol/flv.js') as {
  createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
  createMessage(p: { codec_type: number; size: number; dts: number; data: Buffer }): Buffer;
};

/** FlvError says what is wrong with a tag. */
export class FlvError extends Error {
  override name = 'FlvError';
}

const HVC1 = Buffer.from('hvc1');
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** FlvTrackEvent is what one tag body gives: new codec parameters, an access unit, or nothing. */
export type FlvRead = { params: TrackParams } | { unit: Omit<AccessUnit, 'track' | 'at'>; kind: 'video' | 'audio' } | undefined;

/** readConfigRecord reads an AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1): SPS, PPS and the NAL length size. */
function avcRecord(b: Buffer): { sps: Buffer; pps: Buffer; lengthSize: number } {
  if (b.length < 7) throw new FlvError('the AVC configuration record is shorter than 7 bytes');
  const lengthSize = (b[4]! & 3) + 1;
  let at = 5;
  const take = (): Buffer => {
    if (at + 2 > b.length) throw new FlvError('the AVC configuration record ends inside a parameter set length');
    const n = b.readUInt16BE(at);
    at += 2;
    if (at + n > b.length || n === 0) throw new FlvError('a parameter set runs past the AVC configuration record');
    const out = Buffer.from(b.subarray(at, at + n));
    at += n;
    return out;
  };
  const nSps = b[at++]! & 0x1f;
  if (nSps < 1) throw new FlvError('the AVC configuration record has no SPS');
  const sps = take();
  for (let i = 1; i < nSps; i++) take();
  if (at >= b.length) throw new FlvError('the AVC configuration record has no PPS count');
  const nPps = b[at++]!;
  if (nPps < 1) throw new FlvError('the AVC configuration record has no PPS');
  const pps = take();
  return { sps, pps, lengthSize };
}

/** hevcRecord reads an HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1): VPS, SPS, PPS and the length size. */
function hevcRecord(b: Buffer): { vps: Buffer; sps: Buffer; pps: Buffer; lengthSize: number } {
  if (b.length < 23) throw new FlvError('the HEVC configuration record is shorter than 23 bytes');
  const lengthSize = (b[21]! & 3) + 1;
  const sets = new Map<number, Buffer>();
  let at = 23;
  for (let a = 0; a < b[22]!; a++) {
    if (at + 3 > b.length) throw new FlvError('the HEVC configuration record ends inside an array header');
    const type = b[at]! & 0x3f;
    const count = b.readUInt16BE(at + 1);
    at += 3;
    for (let i = 0; i < count; i++) {
      if (at + 2 > b.length) throw new FlvError('the HEVC configuration record ends inside a NAL unit length');
      const n = b.readUInt16BE(at);
      at += 2;
      if (at + n > b.length) throw new FlvError('a parameter set runs past the HEVC configuration record');
      if (!sets.has(type)) sets.set(type, Buffer.from(b.subarray(at, at + n)));
      at += n;
    }
  }
  const vps = sets.get(32);
  const sps = sets.get(33);
  const pps = sets.get(34);
  if (!vps || !sps || !pps) throw new FlvError('the HEVC configuration record lacks its VPS, SPS or PPS');
  return { vps, sps, pps, lengthSize };
}

/** toLengthPrefixed rewrites NAL units with lengthSize-byte lengths as 4-byte ones (what the bus carries). */
function toLengthPrefixed(b: Buffer, lengthSize: number): Buffer {
  if (lengthSize === 4) {
    // Checked as the bus would read it: sizes that run past the end are refused, not carried.
    let at = 0;
    while (at < b.length) {
      if (at + 4 > b.length) throw new FlvError('a NAL unit length runs past the tag');
      const n = b.readUInt32BE(at);
      if (n === 0 || at + 4 + n > b.length) throw new FlvError('a NAL unit runs past the tag');
      at += 4 + n;
    }
    return Buffer.from(b);
  }
  const nals: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    if (at + lengthSize > b.length) throw new FlvError('a NAL unit length runs past the tag');
    const n = b.readUIntBE(at, lengthSize);
    at += lengthSize;
    if (n === 0 || at + n > b.length) throw new FlvError('a NAL unit runs past the tag');
    nals.push(b.subarray(at, at + n));
    at += n;
  }
  return lengthPrefixed(nals);
}

/** FlvReader turns the tag bodies of one push into parameters and access units. */
export class FlvReader {
  #lengthSize = 4;
  #video?: VideoParams;
  #audio?: AudioParams;

  get video(): VideoParams | undefined {
    return this.#video;
  }

  get audio(): AudioParams | undefined {
    return this.#audio;
  }

  /** video reads a video tag body at timestamp ms (the tag's, a decode time). */
  readVideo(body: Buffer, ms: number): FlvRead {
    if (body.length < 5) throw new FlvError('a video tag shorter than 5 bytes');
    const ex = (body[0]! & 0x80) !== 0;
    const frameType = (body[0]! >> 4) & 7;
    if (ex) {
      const packetType = body[0]! & 0x0f;
      if (!body.subarray(1, 5).equals(HVC1)) throw new FlvError(`an enhanced-RTMP video codec ${JSON.stringify(body.subarray(1, 5).toString('latin1'))} the gateway does not carry (H.265 is 'hvc1')`);
      if (packetType === 0) {
        const r = hevcRecord(body.subarray(5));
        this.#lengthSize = r.lengthSize;
        this.#video = h265Params(r.vps, r.sps, r.pps);
        return { params: this.#video };
      }
      if (packetType !== 1 && packetType !== 3) return undefined;
      if (!this.#video || this.#video.codec !== 'H265') return undefined;
      const cts = packetType === 1 ? body.readIntBE(5, 3) : 0;
      const data = toLengthPrefixed(body.subarray(packetType === 1 ? 8 : 5), this.#lengthSize);
      return { kind: 'video', unit: { pts: (ms + cts) * 90, dts: ms * 90, key: frameType === 1, data } };
    }
    const codec = body[0]! & 0x0f;
    if (codec !== 7) throw new FlvError(`FLV video codec ${codec} is not one the gateway carries (7, AVC; H.265 over enhanced RTMP)`);
    const packetType = body[1]!;
    if (packetType === 0) {
      const r = avcRecord(body.subarray(5));
      this.#lengthSize = r.lengthSize;
      this.#video = h264Params(r.sps, r.pps);
      return { params: this.#video };
    }
    if (packetType !== 1 || !this.#video || this.#video.codec !== 'H264') return undefined;
    const cts = body.readIntBE(2, 3);
    const data = toLengthPrefixed(body.subarray(5), this.#lengthSize);
    return { kind: 'video', unit: { pts: (ms + cts) * 90, dts: ms * 90, key: frameType === 1, data } };
  }

  /** audio reads an audio tag body at timestamp ms; pts are in the sample rate. */
  readAudio(body: Buffer, ms: number): FlvRead {
    if (body.length < 2) throw new FlvError('an audio tag shorter than 2 bytes');
    const format = body[0]! >> 4;
    if (format === 10) {
      if (body[1] === 0) {
        const config = Buffer.from(body.subarray(2));
        if (config.length < 2) throw new FlvError('the AAC AudioSpecificConfig is shorter than 2 bytes');
        const rateIndex = ((config[0]! & 7) << 1) | (config[1]! >> 7);
        const rate = AAC_RATES[rateIndex];
        if (!rate) throw new FlvError(`AAC sample rate index ${rateIndex} is out of range`);
        const channels = (config[1]! >> 3) & 0x0f;
        this.#audio = { kind: 'audio', codec: 'AAC', sampleRate: rate, clockRate: rate, channels: channels || 1, config, codecString: `mp4a.40.${config[0]! >> 3}` };
        return { params: this.#audio };
      }
      if (!this.#audio) return undefined;
      const t = Math.round((ms * this.#audio.sampleRate) / 1000);
      return { kind: 'audio', unit: { pts: t, dts: t, key: true, data: Buffer.from(body.subarray(2)) } };
    }
    if (format === 7 || format === 8) {
      const codec = format === 7 ? 'PCMA' : 'PCMU';
      if (this.#audio?.codec !== codec) {
        this.#audio = { kind: 'audio', codec, sampleRate: 8000, clockRate: 8000, channels: 1, codecString: codec === 'PCMA' ? 'alaw' : 'ulaw' };
        return { params: this.#audio };
      }
      const t = ms * 8;
      return { kind: 'audio', unit: { pts: t, dts: t, key: true, data: Buffer.from(body.subarray(1)) } };
    }
    return undefined;
  }
}

/** flvHeader is the FLV file header of a stream with the tracks given. */
export function flvHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  return NmsFlv.createHeader(hasAudio, hasVideo);
}

/** clockPerMs is a track's timestamp units in a millisecond. */
function clockPerMs(p: TrackParams): number {
  return p.kind === 'video' ? 90 : p.sampleRate / 1000;
}

/** tagTime reads an FLV tag's timestamp (24 bits and an extension byte, FLV 1.0 E.4.1). */
export function tagTime(tag: Buffer): number {
  return ((tag[7]! << 24) | (tag[4]! << 16) | (tag[5]! << 8) | tag[6]!) >>> 0;
}

function tag(type: 8 | 9, ms: number, body: Buffer): Buffer {
  return NmsFlv.createMessage({ codec_type: type, size: body.length, dts: ms >>> 0, data: body });
}

/** FlvWriter writes the tracks of a bus as FLV tags, each parameters change as a new sequence header. */
export class FlvWriter {
  #base: number | undefined;
  /** lastMs is the time of the last unit written. */
  lastMs = 0;

  /** sequenceHeader is the configuration tag of a track. */
  sequenceHeader(p: TrackParams, ms: number): Buffer | undefined {
    if (p.kind === 'video' && p.codec === 'H264') {
      const rec = Buffer.concat([
        Buffer.from([1, p.sps[1]!, p.sps[2]!, p.sps[3]!, 0xff, 0xe1]), u16(p.sps.length), p.sps, Buffer.from([1]), u16(p.pps.length), p.pps,
      ]);
      return tag(9, ms, Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), rec]));
    }
    if (p.kind === 'video') {
      // Enhanced RTMP: a key frame, packet type SequenceStart, FourCC hvc1, the HEVCDecoderConfigurationRecord.
      const profile = p.sps.subarray(3, 15);
      const rec = Buffer.concat([
        Buffer.from([1]), p.sps.length >= 15 ? profile : Buffer.alloc(12), Buffer.from([0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 3]),
        ...([[32, p.vps!], [33, p.sps], [34, p.pps]] as Array<[number, Buffer]>).map(([type, nal]) => Buffer.concat([Buffer.from([0x80 | type]), u16(1), u16(nal.length), nal])),
      ]);
      return tag(9, ms, Buffer.concat([Buffer.from([0x90]), HVC1, rec]));
    }
    if (p.codec === 'AAC' && p.config) return tag(8, ms, Buffer.concat([Buffer.from([0xaf, 0]), p.config]));
    return undefined;
  }

  /** unit is the tag of an access unit; times are made relative to the first unit written. */
  unit(au: AccessUnit, p: TrackParams): Buffer | undefined {
    const clock = clockPerMs(p);
    const dtsMs = Math.round(au.dts / clock);
    this.#base ??= dtsMs;
    const ms = Math.max(0, dtsMs - this.#base);
    this.lastMs = ms;
    if (p.kind === 'video') {
      const cts = Math.round((au.pts - au.dts) / clock);
      const key = au.key ? 1 : 2;
      if (p.codec === 'H264') {
        const head = Buffer.from([(key << 4) | 7, 1, (cts >> 16) & 0xff, (cts >> 8) & 0xff, cts & 0xff]);
        return tag(9, ms, Buffer.concat([head, au.data]));
      }
      const head = Buffer.from([0x80 | (key << 4) | 1, ...HVC1, (cts >> 16) & 0xff, (cts >> 8) & 0xff, cts & 0xff]);
      return tag(9, ms, Buffer.concat([head, au.data]));
    }
    if (p.codec === 'AAC') return tag(8, ms, Buffer.concat([Buffer.from([0xaf, 1]), au.data]));
    return tag(8, ms, Buffer.concat([Buffer.from([p.codec === 'PCMA' ? 0x72 : 0x82]), au.data]));
  }

  /** restart makes au, the first unit of a new upstream run, follow the last one written, gapMs later. */
  restart(au: AccessUnit, p: TrackParams, gapMs = 40): void {
    this.#base = Math.round(au.dts / clockPerMs(p)) - (this.lastMs + gapMs);
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** FlvSession writes one bus as an FLV stream to one reader (HTTP-FLV or WebSocket-FLV). */
export class FlvSession {
  #bus: FrameBus;
  #consumer: Consumer;
  #write: (b: Buffer) => boolean;
  #writer = new FlvWriter();
  #rebase = false;
  #blocked = false;
  #closed = false;
  #onEnd: (reason: string) => void;

  constructor(bus: FrameBus, write: (b: Buffer) => boolean, onEnd: (reason: string) => void) {
    this.#bus = bus;
    this.#write = write;
    this.#onEnd = onEnd;
    const hasAudio = bus.tracks.some((t) => t.params.kind === 'audio' && (t.params.codec !== 'AAC' || t.params.config));
    write(flvHeader(hasAudio, true));
    for (const t of bus.tracks) {
      const h = this.#writer.sequenceHeader(t.params, 0);
      if (h) write(h);
    }
    // The reader starts at the cached keyframe: a picture at once.
    this.#consumer = bus.subscribe();
    this.#consumer.onReadable = () => this.#pump();
    this.#consumer.onEnd = (why) => this.close(why === 'slow' ? 'too slow' : 'stream ended');
    bus.on('params', this.#onParams);
    bus.on('restart', this.#onRestart);
    this.#pump();
  }

  /** drain is the reader ready for more (its socket drained). */
  drain(): void {
    this.#blocked = false;
    this.#pump();
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#consumer.close();
    this.#bus.off('params', this.#onParams);
    this.#bus.off('restart', this.#onRestart);
    this.#onEnd(reason);
  }

  #onParams = (_track: number, p: TrackParams) => {
    const h = this.#writer.sequenceHeader(p, this.#writer.lastMs);
    if (h && !this.#closed) this.#write(h);
  };

  #onRestart = () => {
    this.#rebase = true;
  };

  #pump(): void {
    while (!this.#closed && !this.#blocked) {
      const au = this.#consumer.read();
      if (!au) return;
      const p = this.#bus.tracks[au.track]?.params;
      if (!p) continue;
      if (this.#rebase) {
        // A new upstream run: its times go on from the last one written, a frame later.
        this.#rebase = false;
        this.#writer.restart(au, p);
      }
      const t = this.#writer.unit(au, p);
      if (!t) continue;
      if (!this.#write(t)) this.#blocked = true;
    }
  }
}
