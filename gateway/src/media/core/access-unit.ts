// What travels on a frame bus: access units of one track, with their timestamps and the codec parameters they need.

/** VideoCodec and AudioCodec are what the core reads from cameras. */
export type VideoCodec = 'H264' | 'H265';
export type AudioCodec = 'AAC' | 'PCMA' | 'PCMU';

/** VideoParams are what a decoder (and an fMP4 init segment) needs before the first picture. */
export interface VideoParams {
  kind: 'video';
  codec: VideoCodec;
  /** vps (H.265 only), sps and pps are NAL units without start codes. */
  vps?: Buffer;
  sps: Buffer;
  pps: Buffer;
  width: number;
  height: number;
  /** codecString is the RFC 6381 name (avc1.64001f, hvc1.1.6.L93.B0). */
  codecString: string;
  /** reorder is how many pictures may come before one they are shown after (B-frames); 0 when there are none. */
  reorder: number;
  /** fps is the frame rate the SPS states, when it states one. */
  fps?: number;
}

/** AudioParams are an audio track's. */
export interface AudioParams {
  kind: 'audio';
  codec: AudioCodec;
  sampleRate: number;
  /**
   * clockRate is the RTP clock of the track's timestamps (the SDP's rtpmap). It is the sample rate as a rule, but a
   * camera may clock AAC differently from what its config says (a Hikvision NVR: 32000 for 16 kHz AAC).
   */
  clockRate: number;
  channels: number;
  /** config is the AAC AudioSpecificConfig (ISO 14496-3 1.6.2.1). */
  config?: Buffer;
  codecString: string;
}

/** TrackParams are a track's codec parameters. */
export type TrackParams = VideoParams | AudioParams;

/**
 * AccessUnit is one picture or one audio frame. Video data is in length-prefixed form (4-byte big-endian sizes before
 * each NAL unit, as MP4 stores it), parameter sets included only when the camera sent them in band.
 */
export interface AccessUnit {
  /** track is the index of the track on its bus. */
  track: number;
  /** pts and dts are in the track's clock (90 kHz video, the sample rate for audio), extended past 32 bits. */
  pts: number;
  dts: number;
  key: boolean;
  data: Buffer;
  /** at is when its last packet arrived (ms, the process clock), for latency figures. */
  at: number;
}

/** TrackInfo says what one track of a camera is and whether outputs carry it. */
export interface TrackInfo {
  kind: 'video' | 'audio' | 'other';
  codec: string;
  carried: boolean;
  /** note says, for a track that is not carried (or carried by some outputs only), why. */
  note?: string;
}

/** annexB turns length-prefixed NAL units into a start-code stream (what ffmpeg's raw h264/hevc readers take). */
export function annexB(data: Buffer): Buffer {
  const out: Buffer[] = [];
  for (const nal of nalUnits(data)) out.push(START_CODE, nal);
  return Buffer.concat(out);
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

/** nalUnits splits length-prefixed data into its NAL units (views, not copies); a size running past the end stops. */
export function* nalUnits(data: Buffer): Generator<Buffer> {
  let at = 0;
  while (at + 4 <= data.length) {
    const size = data.readUInt32BE(at);
    at += 4;
    if (size === 0 || at + size > data.length) return;
    yield data.subarray(at, at + size);
    at += size;
  }
}

/** lengthPrefixed packs NAL units into one buffer with 4-byte sizes. */
export function lengthPrefixed(nals: readonly Buffer[]): Buffer {
  let size = 0;
  for (const n of nals) size += 4 + n.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const n of nals) {
    out.writeUInt32BE(n.length, at);
    n.copy(out, at + 4);
    at += 4 + n.length;
  }
  return out;
}
