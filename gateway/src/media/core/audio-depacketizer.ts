// Audio RTP payloads as cameras send them: AAC in RFC 3640 (mpeg4-generic, AAC-hbr) and G.711 A-law/µ-law (RFC 3551).
import type { RtpPacket } from '../../../../adapters/rtsp/rtp-packet.js';
import type { SdpMedia } from '../../../../adapters/rtsp/sdp.js';
import type { AudioParams } from './access-unit.js';
import { MalformedPayload } from './video-depacketizer.js';

/** AudioFrame is one audio access unit: its RTP timestamp (32 bits) and its bytes. */
export interface AudioFrame {
  rtp: number;
  data: Buffer;
  at: number;
}

/** AudioSink receives the frames of one track. */
export interface AudioSink {
  frame(f: AudioFrame): void;
}

/** AudioDepacketizer is what both audio formats offer. */
export interface AudioDepacketizer {
  readonly params: AudioParams;
  readonly stats: { frames: number; malformed: number; dropped: number };
  push(p: RtpPacket, at: number): void;
  lost(): void;
}

/** MAX_AUDIO_FRAME bounds one AAC frame (a frame is at most 6144 bits per channel). */
const MAX_AUDIO_FRAME = 64 * 1024;
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** aacConfig reads the sample rate and channels of an AudioSpecificConfig, or throws RangeError. */
export function aacConfig(config: Buffer): { objectType: number; sampleRate: number; channels: number } {
  if (config.length < 2) throw new RangeError('an AAC config shorter than 2 bytes');
  const objectType = config[0]! >> 3;
  const rateIndex = ((config[0]! & 0x07) << 1) | (config[1]! >> 7);
  let sampleRate = AAC_RATES[rateIndex];
  let channels = (config[1]! >> 3) & 0x0f;
  if (rateIndex === 15) {
    if (config.length < 5) throw new RangeError('an AAC config with an explicit rate shorter than 5 bytes');
    sampleRate = ((config[1]! & 0x7f) << 17) | (config[2]! << 9) | (config[3]! << 1) | (config[4]! >> 7);
    channels = (config[4]! >> 3) & 0x0f;
  }
  if (!sampleRate || objectType === 0) throw new RangeError(`an AAC config with object type ${objectType} and rate index ${rateIndex}`);
  return { objectType, sampleRate, channels: channels || 1 };
}

/** AacDepacketizer reads RFC 3640 AU headers (sizelength, indexlength, indexdeltalength from the SDP). */
export class AacDepacketizer implements AudioDepacketizer {
  readonly params: AudioParams;
  readonly stats = { frames: 0, malformed: 0, dropped: 0 };
  readonly #sink: AudioSink;
  readonly #sizeLength: number;
  readonly #indexLength: number;
  readonly #deltaLength: number;
  /** frameTicks is one AAC frame (1024 samples) in RTP clock ticks. */
  readonly #frameTicks: number;
  /** fragment collects an AU larger than one packet (its header gives the whole size). */
  #fragment: { rtp: number; size: number; parts: Buffer[]; bytes: number } | undefined;

  constructor(media: SdpMedia, sink: AudioSink) {
    this.#sink = sink;
    const f = media.fmtp;
    const config = Buffer.from(f['config'] ?? '', 'hex');
    const info = aacConfig(config);
    const mode = (f['mode'] ?? '').toLowerCase();
    this.#sizeLength = Number(f['sizelength'] ?? (mode === 'aac-hbr' ? 13 : 0));
    this.#indexLength = Number(f['indexlength'] ?? (mode === 'aac-hbr' ? 3 : 0));
    this.#deltaLength = Number(f['indexdeltalength'] ?? (mode === 'aac-hbr' ? 3 : 0));
    if (!(this.#sizeLength >= 1 && this.#sizeLength <= 16) || this.#indexLength > 8 || this.#deltaLength > 8) {
      throw new RangeError(`AAC AU headers of sizelength ${this.#sizeLength}, indexlength ${this.#indexLength} are not read (AAC-hbr is)`);
    }
    const objectType = info.objectType;
    const clockRate = media.clockRate > 0 ? media.clockRate : info.sampleRate;
    this.params = { kind: 'audio', codec: 'AAC', sampleRate: info.sampleRate, clockRate, channels: info.channels, config, codecString: `mp4a.40.${objectType}` };
    this.#frameTicks = Math.round((1024 * clockRate) / info.sampleRate);
  }

  lost(): void {
    this.#fragment = undefined;
  }

  push(p: RtpPacket, at: number): void {
    try {
      this.#read(p, at);
    } catch (err) {
      if (!(err instanceof MalformedPayload)) throw err;
      this.stats.malformed++;
      this.#fragment = undefined;
    }
  }

  #read(p: RtpPacket, at: number): void {
    const b = p.payload;
    if (b.length < 2) throw new MalformedPayload('an AAC payload shorter than its header length');
    const headerBits = b.readUInt16BE(0);
    const headerBytes = Math.ceil(headerBits / 8);
    if (2 + headerBytes > b.length) throw new MalformedPayload('AAC AU headers run past the packet');
    const sizes: number[] = [];
    let bit = 0;
    const read = (n: number) => {
      let v = 0;
      for (let i = 0; i < n; i++) {
        const byte = b[2 + ((bit + i) >> 3)]!;
        v = (v << 1) | ((byte >> (7 - ((bit + i) & 7))) & 1);
      }
      bit += n;
      return v;
    };
    while (bit + this.#sizeLength <= headerBits) {
      sizes.push(read(this.#sizeLength));
      read(sizes.length === 1 ? this.#indexLength : this.#deltaLength);
    }
    let at2 = 2 + headerBytes;
    if (this.#fragment) {
      // The rest of an AU begun in an earlier packet (same timestamp, one AU header giving the whole size).
      if (p.timestamp !== this.#fragment.rtp || sizes.length !== 1) throw new MalformedPayload('an AAC fragment that does not continue its frame');
      this.#fragment.parts.push(b.subarray(at2));
      this.#fragment.bytes += b.length - at2;
      if (this.#fragment.bytes >= this.#fragment.size || p.marker) this.#emit(this.#fragment.rtp, Buffer.concat(this.#fragment.parts).subarray(0, this.#fragment.size), at);
      return;
    }
    for (const [i, size] of sizes.entries()) {
      if (size === 0 || size > MAX_AUDIO_FRAME) throw new MalformedPayload(`an AAC frame of ${size} bytes`);
      const rtp = (p.timestamp + i * this.#frameTicks) >>> 0;
      if (at2 + size > b.length) {
        if (sizes.length !== 1 || p.marker) throw new MalformedPayload('an AAC frame runs past the packet');
        this.#fragment = { rtp, size, parts: [Buffer.from(b.subarray(at2))], bytes: b.length - at2 };
        return;
      }
      this.#emit(rtp, Buffer.from(b.subarray(at2, at2 + size)), at);
      at2 += size;
    }
  }

  #emit(rtp: number, data: Buffer, at: number): void {
    this.#fragment = undefined;
    this.stats.frames++;
    this.#sink.frame({ rtp, data, at });
  }
}

/** G711Depacketizer passes G.711 packets on as they are: each packet is one frame of 8-bit samples. */
export class G711Depacketizer implements AudioDepacketizer {
  readonly params: AudioParams;
  readonly stats = { frames: 0, malformed: 0, dropped: 0 };
  readonly #sink: AudioSink;

  constructor(media: SdpMedia, sink: AudioSink) {
    this.#sink = sink;
    const codec = media.codec === 'PCMU' ? 'PCMU' : 'PCMA';
    const rate = media.clockRate || 8000;
    this.params = { kind: 'audio', codec, sampleRate: rate, clockRate: rate, channels: media.channels || 1, codecString: codec === 'PCMA' ? 'alaw' : 'ulaw' };
  }

  lost(): void {
    // Each packet stands alone.
  }

  push(p: RtpPacket, at: number): void {
    if (p.payload.length === 0 || p.payload.length > MAX_AUDIO_FRAME) {
      this.stats.malformed++;
      return;
    }
    this.stats.frames++;
    this.#sink.frame({ rtp: p.timestamp, data: Buffer.from(p.payload), at });
  }
}

/** audioDepacketizer makes the depacketizer of an SDP audio section, or undefined for a codec the core does not read. */
export function audioDepacketizer(media: SdpMedia, sink: AudioSink): AudioDepacketizer | undefined {
  if (media.codec === 'PCMA' || media.codec === 'PCMU') return new G711Depacketizer(media, sink);
  if (media.codec === 'MPEG4-GENERIC') return new AacDepacketizer(media, sink);
  return undefined;
}
