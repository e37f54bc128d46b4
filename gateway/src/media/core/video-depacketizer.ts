// H.264 (RFC 6184) and H.265 (RFC 7798) RTP payloads back into pictures: NAL units reassembled from aggregation and
// fragmentation packets, grouped by timestamp into access units, parameter sets kept from the SDP and from the stream.
// A lost packet drops its picture and every one after it until the next keyframe: nothing corrupt goes on.
import type { RtpPacket } from '../../../../adapters/rtsp/rtp-packet.js';
import type { SdpMedia } from '../../../../adapters/rtsp/sdp.js';
import { avcCodecString, BitReader, parseSps, unescapeRbsp } from '../../../../adapters/rtsp/h264-sps.js';
import { hevcCodecString, parseHevcSps } from '../../../../adapters/rtsp/h265-sps.js';
import type { VideoCodec, VideoParams } from './access-unit.js';

/** Picture is one reassembled access unit, before it gets its decode timestamp. */
export interface Picture {
  /** rtp is the RTP timestamp as it came (32 bits). */
  rtp: number;
  key: boolean;
  /** data is the picture in length-prefixed form (4-byte sizes), in one buffer of its own. */
  data: Buffer;
  /** nals are its NAL units: views into data. */
  nals: Buffer[];
  at: number;
}

/** VideoSink receives pictures, and new codec parameters before the first picture that needs them. */
export interface VideoSink {
  params(p: VideoParams): void;
  picture(p: Picture): void;
}

/** DepacketizerStats count what was received and what was dropped, and why. */
export interface DepacketizerStats {
  pictures: number;
  keyframes: number;
  /** dropped counts pictures left out: damaged by loss, waiting for a keyframe, or without parameter sets. */
  dropped: number;
  /** malformed counts packets whose payload could not be read (garbage, lengths past the end, unknown types). */
  malformed: number;
  /** oversized counts pictures larger than MAX_PICTURE_BYTES. */
  oversized: number;
}

/** MAX_PICTURE_BYTES bounds one picture (a 4K keyframe is a few MB). */
export const MAX_PICTURE_BYTES = 16 * 1024 * 1024;
/** MAX_NALS bounds the NAL units of one picture. */
const MAX_NALS = 512;

/** VideoDepacketizer is the part H.264 and H.265 share; each codec reads its own NAL headers. */
abstract class VideoDepacketizer {
  readonly stats: DepacketizerStats = { pictures: 0, keyframes: 0, dropped: 0, malformed: 0, oversized: 0 };
  protected readonly sink: VideoSink;
  /**
   * current is the picture being read: each NAL unit as the pieces it came in (views into the packets, which live
   * until the picture is complete and is copied once into a buffer of its own).
   */
  protected current: { rtp: number; nals: Buffer[][]; bytes: number; key: boolean; damaged: boolean; at: number; slices: number } | undefined;
  /** ppsIds are the picture parameter set ids known (from the SDP and in band): a slice naming another is not read. */
  protected ppsIds = new Set<number>();
  /** fragment is a NAL unit being reassembled from fragmentation units. */
  protected fragment: { parts: Buffer[]; bytes: number } | undefined;
  /** needKey is set at the start and after a loss: pictures wait for the next keyframe. */
  #needKey = true;
  protected params: VideoParams | undefined;
  /** pending parameter sets seen in band, applied with the picture they arrive with. */
  protected inband: Map<string, Buffer> = new Map();

  constructor(sink: VideoSink) {
    this.sink = sink;
  }

  /** lost tells that packets were lost before the next one: the picture being read, and what follows, are dropped. */
  lost(): void {
    if (this.current) this.current.damaged = true;
    this.fragment = undefined;
    this.#needKey = true;
  }

  push(p: RtpPacket, at: number): void {
    if (this.current && this.current.rtp !== p.timestamp) this.#finish();
    if (!this.current) this.current = { rtp: p.timestamp, nals: [], bytes: 0, key: false, damaged: false, at, slices: 0 };
    this.current.at = at;
    try {
      this.readPayload(p.payload);
    } catch (err) {
      if (!(err instanceof MalformedPayload)) throw err;
      this.stats.malformed++;
      this.current.damaged = true;
      this.fragment = undefined;
    }
    if (p.marker) this.#finish();
  }

  /** readPayload splits one packet's payload into NAL units (addNal) or fragments of one. */
  protected abstract readPayload(payload: Buffer): void;
  /** classify says what a NAL unit is: a parameter set (its name), a keyframe slice, or something kept as is. */
  protected abstract classify(nal: Buffer): 'vps' | 'sps' | 'pps' | 'key' | 'slice' | 'drop' | 'keep';
  /** makeParams builds the parameters from the parameter sets, or throws RangeError when they cannot be read. */
  protected abstract makeParams(sets: Map<string, Buffer>): VideoParams;
  protected abstract readonly needed: string[];
  /**
   * checkSlice reads the start of a slice header and throws MalformedPayload when it cannot be one of this stream's
   * (a slice type out of range, another parameter set, a picture not starting at its first slice): garbage that
   * happens to carry a slice's NAL type is not taken for a picture.
   */
  protected abstract checkSlice(nal: Buffer, first: boolean): void;
  /** headerBytes is the size of the codec's NAL unit header (1 for H.264, 2 for H.265). */
  protected abstract readonly headerBytes: number;

  /** ppsId reads the id of a picture parameter set (its first field after the header), or undefined. */
  protected ppsId(pps: Buffer): number | undefined {
    try {
      return new BitReader(unescapeRbsp(pps.subarray(this.headerBytes, this.headerBytes + 6))).ue();
    } catch {
      return undefined;
    }
  }

  /** checkPps refuses a slice that names a picture parameter set the camera never sent. */
  protected checkPps(pps: number): void {
    if (this.ppsIds.size > 0 && !this.ppsIds.has(pps)) throw new MalformedPayload(`a slice naming picture parameter set ${pps}, which the camera never sent`);
  }

  /** addNal takes one NAL unit, given as the pieces it came in (the first begins with its header). */
  protected addNal(pieces: Buffer[], size: number): void {
    const cur = this.current!;
    if (size === 0 || pieces[0]!.length === 0) throw new MalformedPayload('an empty NAL unit');
    // Its first bytes, enough for the NAL and slice headers (a copy only when they span pieces).
    const nal = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, Math.min(size, 32));
    const kind = this.classify(nal);
    if (kind === 'drop') return;
    if (kind === 'vps' || kind === 'sps' || kind === 'pps') {
      // Parameter sets live in the track's parameters, not in the samples (avc1/hvc1).
      const set = Buffer.concat(pieces, size);
      this.inband.set(kind, set);
      if (kind === 'pps') {
        const id = this.ppsId(set);
        if (id !== undefined) this.ppsIds.add(id);
      }
      return;
    }
    if (kind === 'key' || kind === 'slice') {
      this.checkSlice(nal, cur.slices === 0);
      cur.slices++;
    }
    if (kind === 'key') cur.key = true;
    if (cur.nals.length >= MAX_NALS) throw new MalformedPayload(`more than ${MAX_NALS} NAL units in one picture`);
    cur.bytes += size;
    if (cur.bytes > MAX_PICTURE_BYTES) {
      this.stats.oversized++;
      throw new MalformedPayload(`a picture larger than ${MAX_PICTURE_BYTES} bytes`);
    }
    cur.nals.push(pieces);
  }

  protected addFragment(start: boolean, end: boolean, header: Buffer, data: Buffer): void {
    if (start) this.fragment = { parts: [header, data], bytes: header.length + data.length };
    else if (!this.fragment) throw new MalformedPayload('a fragment without its start');
    else {
      this.fragment.parts.push(data);
      this.fragment.bytes += data.length;
    }
    if (this.fragment.bytes > MAX_PICTURE_BYTES) {
      this.fragment = undefined;
      this.stats.oversized++;
      throw new MalformedPayload('a fragmented NAL unit larger than a picture may be');
    }
    if (end) {
      const { parts, bytes } = this.fragment;
      this.fragment = undefined;
      this.addNal(parts, bytes);
    }
  }

  #finish(): void {
    const cur = this.current;
    this.current = undefined;
    this.fragment = undefined;
    if (!cur) return;
    if (this.inband.size > 0) this.#applyInband();
    if (cur.damaged) {
      this.stats.dropped++;
      this.#needKey = true;
      return;
    }
    if (cur.nals.length === 0) return;
    if (!this.params || (this.#needKey && !cur.key)) {
      this.stats.dropped++;
      return;
    }
    if (cur.key) {
      this.#needKey = false;
      this.stats.keyframes++;
    }
    this.stats.pictures++;
    // The one copy: the packets' bytes are views into socket reads that must not be kept alive by a picture.
    const data = Buffer.allocUnsafe(4 * cur.nals.length + cur.bytes);
    const nals: Buffer[] = [];
    let at = 0;
    for (const pieces of cur.nals) {
      const start = at + 4;
      at = start;
      for (const piece of pieces) at += piece.copy(data, at);
      data.writeUInt32BE(at - start, start - 4);
      nals.push(data.subarray(start, at));
    }
    this.sink.picture({ rtp: cur.rtp, key: cur.key, data, nals, at: cur.at });
  }

  /** #applyInband makes new parameters when the camera sent parameter sets that differ from the current ones. */
  #applyInband(): void {
    const sets = new Map<string, Buffer>();
    if (this.params) {
      if (this.params.vps) sets.set('vps', this.params.vps);
      sets.set('sps', this.params.sps);
      sets.set('pps', this.params.pps);
    }
    let changed = false;
    for (const [k, v] of this.inband) {
      if (!sets.get(k)?.equals(v)) changed = true;
      sets.set(k, v);
    }
    this.inband.clear();
    if (!changed || !this.needed.every((k) => sets.has(k))) return;
    try {
      this.params = this.makeParams(sets);
      this.sink.params(this.params);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.stats.malformed++;
    }
  }

  /** fromSdp takes the parameter sets the SDP gives (sprop-parameter-sets, sprop-vps/sps/pps). */
  protected fromSdp(sets: Map<string, Buffer>): void {
    const pps = sets.get('pps');
    const id = pps ? this.ppsId(pps) : undefined;
    if (id !== undefined) this.ppsIds.add(id);
    if (!this.needed.every((k) => sets.has(k))) return;
    try {
      this.params = this.makeParams(sets);
      this.sink.params(this.params);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      // A lying SDP: the parameter sets in band decide.
      this.stats.malformed++;
    }
  }
}

/** MalformedPayload is a packet whose payload breaks its format: the picture it belongs to is dropped. */
export class MalformedPayload extends Error {
  override name = 'MalformedPayload';
}

/** H264Depacketizer reads RFC 6184 payloads: single NAL units, STAP-A and FU-A (non-interleaved mode). */
export class H264Depacketizer extends VideoDepacketizer {
  protected readonly needed = ['sps', 'pps'];
  protected readonly headerBytes = 1;

  constructor(sink: VideoSink, media?: SdpMedia) {
    super(sink);
    const sprop = media?.fmtp['sprop-parameter-sets'];
    if (sprop) {
      const sets = new Map<string, Buffer>();
      for (const b64 of sprop.split(',')) {
        const nal = Buffer.from(b64.trim(), 'base64');
        if (nal.length === 0) continue;
        const t = nal[0]! & 0x1f;
        if (t === 7) sets.set('sps', nal);
        if (t === 8 && !sets.has('pps')) sets.set('pps', nal);
      }
      this.fromSdp(sets);
    }
  }

  protected readPayload(b: Buffer): void {
    if (b.length < 1) throw new MalformedPayload('an empty payload');
    if ((b[0]! & 0x80) !== 0) throw new MalformedPayload('the forbidden bit is set');
    const type = b[0]! & 0x1f;
    if (type >= 1 && type <= 23) return this.addNal([b], b.length);
    if (type === 24) {
      // STAP-A: 16-bit sizes, then NAL units.
      let at = 1;
      while (at < b.length) {
        if (at + 2 > b.length) throw new MalformedPayload('a STAP-A size runs past the packet');
        const size = b.readUInt16BE(at);
        at += 2;
        if (size === 0 || at + size > b.length) throw new MalformedPayload('a STAP-A unit runs past the packet');
        this.addNal([b.subarray(at, at + size)], size);
        at += size;
      }
      return;
    }
    if (type === 28) {
      if (b.length < 3) throw new MalformedPayload('a FU-A shorter than its headers');
      const fu = b[1]!;
      const start = (fu & 0x80) !== 0;
      const end = (fu & 0x40) !== 0;
      if (start && end) throw new MalformedPayload('a FU-A marked both start and end');
      const header = Buffer.from([(b[0]! & 0xe0) | (fu & 0x1f)]);
      return this.addFragment(start, end, header, b.subarray(2));
    }
    // STAP-B, MTAP and FU-B belong to the interleaved mode, which cameras do not use; 0 and 30-31 are reserved.
    throw new MalformedPayload(`NAL unit type ${type} is not read (interleaved or reserved)`);
  }

  protected classify(nal: Buffer): 'vps' | 'sps' | 'pps' | 'key' | 'slice' | 'drop' | 'keep' {
    const t = nal[0]! & 0x1f;
    if (t === 7) return 'sps';
    if (t === 8) return 'pps';
    if (t === 5) return 'key';
    if (t === 1) return 'slice';
    // Access unit delimiters, end of sequence/stream and filler carry nothing a decoder of MP4 samples needs.
    if (t === 9 || t === 10 || t === 11 || t === 12) return 'drop';
    return 'keep';
  }

  protected checkSlice(nal: Buffer, first: boolean): void {
    let firstMb: number;
    let sliceType: number;
    let pps: number;
    try {
      const r = new BitReader(unescapeRbsp(nal.subarray(1, 24)));
      firstMb = r.ue();
      sliceType = r.ue();
      pps = r.ue();
    } catch {
      throw new MalformedPayload('a slice header that cannot be read');
    }
    if (sliceType > 9) throw new MalformedPayload(`slice type ${sliceType} is out of range`);
    if ((nal[0]! & 0x1f) === 5 && ![2, 4, 7, 9].includes(sliceType)) throw new MalformedPayload(`an IDR slice of type ${sliceType}`);
    if (first && firstMb !== 0) throw new MalformedPayload(`a picture whose first slice starts at macroblock ${firstMb}`);
    this.checkPps(pps);
  }

  protected makeParams(sets: Map<string, Buffer>): VideoParams {
    return h264Params(sets.get('sps')!, sets.get('pps')!);
  }

}

/** H265Depacketizer reads RFC 7798 payloads: single NAL units, aggregation packets and fragmentation units. */
export class H265Depacketizer extends VideoDepacketizer {
  protected readonly needed = ['vps', 'sps', 'pps'];
  protected readonly headerBytes = 2;
  /** donl: with sprop-max-don-diff above 0, every unit carries a 16-bit decoding order number first. */
  readonly #donl: boolean;

  constructor(sink: VideoSink, media?: SdpMedia) {
    super(sink);
    this.#donl = Number(media?.fmtp['sprop-max-don-diff'] ?? 0) > 0;
    const sets = new Map<string, Buffer>();
    for (const k of ['vps', 'sps', 'pps']) {
      const b64 = media?.fmtp[`sprop-${k}`];
      if (b64) sets.set(k, Buffer.from(b64.split(',')[0]!.trim(), 'base64'));
    }
    this.fromSdp(sets);
  }

  protected readPayload(b: Buffer): void {
    if (b.length < 3) throw new MalformedPayload('a payload shorter than its header');
    if ((b[0]! & 0x80) !== 0) throw new MalformedPayload('the forbidden bit is set');
    const type = (b[0]! >> 1) & 0x3f;
    const skip = this.#donl ? 2 : 0;
    if (type < 48) return this.addNal([b], b.length);
    if (type === 48) {
      // Aggregation packet: (DONL/DOND), 16-bit sizes, NAL units.
      let at = 2 + skip;
      let first = true;
      while (at < b.length) {
        if (!first && this.#donl) at += 1;
        first = false;
        if (at + 2 > b.length) throw new MalformedPayload('an aggregation size runs past the packet');
        const size = b.readUInt16BE(at);
        at += 2;
        if (size < 2 || at + size > b.length) throw new MalformedPayload('an aggregated unit runs past the packet');
        this.addNal([b.subarray(at, at + size)], size);
        at += size;
      }
      return;
    }
    if (type === 49) {
      const fu = b[2]!;
      const start = (fu & 0x80) !== 0;
      const end = (fu & 0x40) !== 0;
      if (start && end) throw new MalformedPayload('a fragmentation unit marked both start and end');
      const header = Buffer.from([(b[0]! & 0x81) | ((fu & 0x3f) << 1), b[1]!]);
      const data = b.subarray(3 + (start ? skip : 0));
      return this.addFragment(start, end, header, data);
    }
    // PACI (50) and the reserved types carry nothing this reads.
    throw new MalformedPayload(`payload type ${type} is not read`);
  }

  protected classify(nal: Buffer): 'vps' | 'sps' | 'pps' | 'key' | 'slice' | 'drop' | 'keep' {
    if (nal.length < 3) throw new MalformedPayload('a NAL unit shorter than its header');
    const t = (nal[0]! >> 1) & 0x3f;
    const layer = ((nal[0]! & 1) << 5) | (nal[1]! >> 3);
    if ((nal[1]! & 7) === 0) throw new MalformedPayload('a NAL unit with temporal id 0 (nuh_temporal_id_plus1 is 0)');
    // Layers above the base one (scalable or multi-view extensions) are not carried.
    if (layer !== 0) return 'drop';
    if (t === 32) return 'vps';
    if (t === 33) return 'sps';
    if (t === 34) return 'pps';
    // IRAP pictures (BLA, IDR, CRA) start a decodable sequence.
    if (t >= 16 && t <= 21) return 'key';
    if (t <= 9) return 'slice';
    if (t < 32) throw new MalformedPayload(`reserved VCL NAL unit type ${t}`);
    // Access unit delimiter, end of sequence/bitstream, filler.
    if (t >= 35 && t <= 38) return 'drop';
    return 'keep';
  }

  protected checkSlice(nal: Buffer, first: boolean): void {
    const t = (nal[0]! >> 1) & 0x3f;
    let firstInPic: number;
    let pps: number;
    try {
      const r = new BitReader(unescapeRbsp(nal.subarray(2, 24)));
      firstInPic = r.bit();
      if (t >= 16 && t <= 23) r.bit(); // no_output_of_prior_pics_flag
      pps = r.ue();
    } catch {
      throw new MalformedPayload('a slice segment header that cannot be read');
    }
    if (pps > 63) throw new MalformedPayload(`slice picture parameter set ${pps} is out of range`);
    if (first && firstInPic !== 1) throw new MalformedPayload('a picture that does not start with its first slice segment');
    this.checkPps(pps);
  }

  protected makeParams(sets: Map<string, Buffer>): VideoParams {
    return h265Params(sets.get('vps')!, sets.get('sps')!, sets.get('pps')!);
  }

}

/** h264Params are an H.264 track's parameters from its SPS and PPS; it throws RangeError when they cannot be read. */
export function h264Params(sps: Buffer, pps: Buffer): VideoParams {
  const info = parseSps(sps);
  if (info.width <= 0 || info.height <= 0 || info.width > 16_384 || info.height > 16_384) throw new RangeError(`SPS picture size ${info.width}x${info.height} is out of range`);
  // Without a stated reorder depth, Baseline pictures are never reordered; other profiles may have B-frames.
  const reorder = info.reorder ?? (info.profileIdc === 66 ? 0 : 2);
  return { kind: 'video', codec: 'H264', sps, pps, width: info.width, height: info.height, codecString: avcCodecString(sps), reorder, fps: info.fps };
}

/** h265Params are an H.265 track's parameters from its VPS, SPS and PPS. */
export function h265Params(vps: Buffer, sps: Buffer, pps: Buffer): VideoParams {
  const info = parseHevcSps(sps);
  return { kind: 'video', codec: 'H265', vps, sps, pps, width: info.width, height: info.height, codecString: hevcCodecString(info), reorder: info.reorder };
}

/** videoDepacketizer makes the depacketizer of an SDP media section, or undefined for a codec the core cannot read. */
export function videoDepacketizer(media: SdpMedia, sink: VideoSink): H264Depacketizer | H265Depacketizer | undefined {
  const codec = media.codec as VideoCodec;
  if (codec === 'H264') return new H264Depacketizer(sink, media);
  if (codec === 'H265') return new H265Depacketizer(sink, media);
  return undefined;
}
