// RTP out of the frame bus: access units cut into RTP packets again, for WebRTC (mediasoup) and RTSP out. H.264 (RFC
// 6184: single NAL unit and FU-A), H.265 (RFC 7798: single NAL unit and FU), G.711 (RFC 3551) and AAC (RFC 3640
// AAC-hbr). Each output has its own sequence numbers and SSRC; timestamps come from an RtpClock, which keeps them going
// on across an upstream restart so that a receiver sees no jump back.
import { randomBytes } from 'node:crypto';
import { nalUnits, type AccessUnit, type TrackParams, type VideoParams } from './access-unit.js';

/** RTP_MTU keeps a packet with its headers (IP, UDP, SRTP, header extensions) inside a 1500-byte Ethernet frame. */
export const RTP_MTU = 1200;

/** RtpClock maps a bus track's timestamps (extended, per run) to 32-bit RTP timestamps that never jump back. */
export class RtpClock {
  readonly rate: number;
  #inBase: number | undefined;
  #outBase: number;
  #lastOut = 0;
  #lastWall = 0;

  constructor(rate: number, start = randomBytes(4).readUInt32BE(0)) {
    this.rate = rate;
    this.#outBase = start;
  }

  /** base is the RTP timestamp the next run's first unit gets (the RTP-Info of a PLAY answer). */
  get base(): number {
    return this.#outBase >>> 0;
  }

  /** last is the RTP timestamp given last (sender reports carry it). */
  get last(): number {
    return this.#lastOut >>> 0;
  }

  /** rtp returns the RTP timestamp of a bus timestamp. */
  rtp(ts: number, now = Date.now()): number {
    if (this.#inBase === undefined) this.#inBase = ts;
    const out = this.#outBase + (ts - this.#inBase);
    this.#lastOut = out;
    this.#lastWall = now;
    return out >>> 0;
  }

  /** restart begins a new upstream run: its first timestamp follows the last one by the wall-clock time between them. */
  restart(now = Date.now()): void {
    if (this.#inBase === undefined) return;
    this.#outBase = this.#lastOut + Math.max(1, Math.round(((now - this.#lastWall) * this.rate) / 1000));
    this.#inBase = undefined;
  }
}

/** header writes a 12-byte RTP header into out. */
function header(out: Buffer, marker: boolean, pt: number, seq: number, ts: number, ssrc: number): void {
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  out.writeUInt16BE(seq & 0xffff, 2);
  out.writeUInt32BE(ts >>> 0, 4);
  out.writeUInt32BE(ssrc >>> 0, 8);
}

/** RtpPacketizer cuts the access units of one track into RTP packets. */
export class RtpPacketizer {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly mtu: number;
  #seq: number;
  /** packets and bytes count what was made (RTCP sender reports carry them). */
  packets = 0;
  octets = 0;

  constructor(payloadType: number, ssrc = randomBytes(4).readUInt32BE(0), mtu = RTP_MTU) {
    this.payloadType = payloadType;
    this.ssrc = ssrc;
    this.mtu = mtu;
    this.#seq = randomBytes(2).readUInt16BE(0);
  }

  /** sequence is the sequence number of the next packet. */
  get sequence(): number {
    return this.#seq;
  }

  /**
   * packetize emits the packets of one access unit at RTP timestamp ts. A keyframe is preceded by its parameter sets
   * (unless the camera sent them in band), so that a receiver joining at it can decode it.
   */
  packetize(au: AccessUnit, params: TrackParams, ts: number, emit: (packet: Buffer) => void): void {
    if (params.kind === 'video') return this.#video(au, params, ts, emit);
    if (params.codec === 'AAC') return this.#aac(au.data, ts, emit);
    this.#packet(true, ts, au.data, emit);
  }

  #video(au: AccessUnit, params: VideoParams, ts: number, emit: (packet: Buffer) => void): void {
    const h265 = params.codec === 'H265';
    const typeOf = h265 ? (b: number) => (b >> 1) & 0x3f : (b: number) => b & 0x1f;
    const nals: Buffer[] = [];
    let hasSps = false;
    for (const nal of nalUnits(au.data)) {
      const type = typeOf(nal[0]!);
      // Access unit delimiters mean nothing once the marker bit ends each picture.
      if (h265 ? type === 35 : type === 9) continue;
      if (h265 ? type === 33 : type === 7) hasSps = true;
      nals.push(nal);
    }
    if (au.key && !hasSps) nals.unshift(...(h265 && params.vps ? [params.vps] : []), params.sps, params.pps);
    for (let i = 0; i < nals.length; i++) {
      const nal = nals[i]!;
      const last = i === nals.length - 1;
      if (nal.length <= this.mtu) {
        this.#packet(last, ts, nal, emit);
        continue;
      }
      // A fragmentation unit: the NAL header is replaced by the FU indicator (H.264) or payload header (H.265) and
      // an FU header carrying start, end and the NAL type.
      const skip = h265 ? 2 : 1;
      const lead = h265 ? 3 : 2;
      const room = this.mtu - lead;
      const type = typeOf(nal[0]!);
      for (let at = skip; at < nal.length; at += room) {
        const end = Math.min(nal.length, at + room);
        const out = Buffer.allocUnsafe(12 + lead + (end - at));
        const fuHeader = (at === skip ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
        if (h265) {
          out[12] = (nal[0]! & 0x81) | (49 << 1);
          out[13] = nal[1]!;
          out[14] = fuHeader;
        } else {
          out[12] = (nal[0]! & 0xe0) | 28;
          out[13] = fuHeader;
        }
        nal.copy(out, 12 + lead, at, end);
        this.#emit(out, last && end === nal.length, ts, emit);
      }
    }
  }

  /** #aac sends each AAC frame in its own packet with an AU header section (RFC 3640 AAC-hbr: 13-bit size, 3-bit index). */
  #aac(frame: Buffer, ts: number, emit: (packet: Buffer) => void): void {
    if (frame.length > 8191) return;
    const out = Buffer.allocUnsafe(12 + 4 + frame.length);
    out.writeUInt16BE(16, 12);
    out.writeUInt16BE(frame.length << 3, 14);
    frame.copy(out, 16);
    this.#emit(out, true, ts, emit);
  }

  #packet(marker: boolean, ts: number, payload: Buffer, emit: (packet: Buffer) => void): void {
    const out = Buffer.allocUnsafe(12 + payload.length);
    payload.copy(out, 12);
    this.#emit(out, marker, ts, emit);
  }

  #emit(out: Buffer, marker: boolean, ts: number, emit: (packet: Buffer) => void): void {
    header(out, marker, this.payloadType, this.#seq, ts, this.ssrc);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.packets++;
    this.octets += out.length - 12;
    emit(out);
  }
}
