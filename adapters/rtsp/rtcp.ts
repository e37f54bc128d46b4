// RTCP as a receiver speaks it (RFC 3550 6.4, 6.5, A.3, A.8): what the sender's reports say, what has been received of
// each source, and the receiver report (with SDES CNAME) sent back so that the camera keeps the session alive.

/** SenderReport is what an SR tells a receiver: the sender's clock at an RTP timestamp. */
export interface SenderReport {
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
}

/** parseSenderReports returns the SRs of a compound RTCP packet; anything else in it is skipped, nothing throws. */
export function parseSenderReports(b: Buffer): SenderReport[] {
  const out: SenderReport[] = [];
  let offset = 0;
  while (offset + 4 <= b.length) {
    if (b[offset]! >> 6 !== 2) break;
    const length = (b.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + length > b.length) break;
    if (b[offset + 1] === 200 && length >= 28) {
      out.push({ ssrc: b.readUInt32BE(offset + 4), ntpSeconds: b.readUInt32BE(offset + 8), ntpFraction: b.readUInt32BE(offset + 12), rtpTimestamp: b.readUInt32BE(offset + 16) });
    }
    offset += length;
  }
  return out;
}

/** ReceptionStats tracks one source for its receiver report block. */
export class ReceptionStats {
  readonly clockRate: number;
  ssrc?: number;
  received = 0;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #jitter = 0;
  #lastTransit?: number;
  #lastSr?: { middle: number; at: number };

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  /** packet notes a packet: its sequence number and RTP timestamp, arrived at arrivalMs. */
  packet(ssrc: number, seq: number, timestamp: number, arrivalMs: number): void {
    if (this.ssrc !== ssrc) {
      // A new source (the camera restarted its encoder): counting starts again.
      this.ssrc = ssrc;
      this.#baseSeq = seq;
      this.#maxSeq = seq;
      this.#cycles = 0;
      this.received = 0;
      this.#expectedPrior = 0;
      this.#receivedPrior = 0;
      this.#jitter = 0;
      this.#lastTransit = undefined;
    }
    this.received++;
    const delta = (seq - this.#maxSeq) & 0xffff;
    if (delta < 0x8000 && delta !== 0) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
    }
    const arrival = Math.floor((arrivalMs * this.clockRate) / 1000);
    const transit = (arrival - timestamp) | 0;
    if (this.#lastTransit !== undefined) {
      const d = Math.abs((transit - this.#lastTransit) | 0);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#lastTransit = transit;
  }

  /** senderReport notes an SR of the source, for the LSR and DLSR of the next report. */
  senderReport(sr: SenderReport, arrivalMs: number): void {
    this.#lastSr = { middle: ((sr.ntpSeconds & 0xffff) << 16 | (sr.ntpFraction >>> 16)) >>> 0, at: arrivalMs };
  }

  /** block writes the 24-byte report block of this source, or undefined before its first packet. */
  block(nowMs: number): Buffer | undefined {
    if (this.ssrc === undefined) return undefined;
    const extendedMax = this.#cycles + this.#maxSeq;
    const expected = extendedMax - this.#baseSeq + 1;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    const b = Buffer.alloc(24);
    b.writeUInt32BE(this.ssrc >>> 0, 0);
    b.writeUInt32BE((((fraction & 0xff) << 24) | (lost & 0xffffff)) >>> 0, 4);
    b.writeUInt32BE(extendedMax >>> 0, 8);
    b.writeUInt32BE(Math.floor(this.#jitter) >>> 0, 12);
    if (this.#lastSr) {
      b.writeUInt32BE(this.#lastSr.middle, 16);
      b.writeUInt32BE(Math.floor(((nowMs - this.#lastSr.at) / 1000) * 65536) >>> 0, 20);
    }
    return b;
  }
}

/** receiverReport builds a compound RTCP packet: RR with the given blocks, then SDES with our CNAME (RFC 3550 6.1). */
export function receiverReport(ssrc: number, blocks: Buffer[], cname: string): Buffer {
  const rr = Buffer.alloc(8);
  rr[0] = 0x80 | Math.min(31, blocks.length);
  rr[1] = 201;
  rr.writeUInt16BE(1 + blocks.length * 6, 2);
  rr.writeUInt32BE(ssrc >>> 0, 4);
  const name = Buffer.from(cname.slice(0, 255), 'utf8');
  // SDES: one chunk (SSRC, CNAME item, end of items), padded to a 32-bit boundary.
  const chunkLength = 4 + 2 + name.length + 1;
  const padded = Math.ceil(chunkLength / 4) * 4;
  const sdes = Buffer.alloc(4 + padded);
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes.writeUInt16BE(padded / 4, 2);
  sdes.writeUInt32BE(ssrc >>> 0, 4);
  sdes[8] = 1;
  sdes[9] = name.length;
  name.copy(sdes, 10);
  return Buffer.concat([rr, ...blocks.slice(0, 31), sdes]);
}

/** senderReport builds an RTCP SR (RFC 3550 6.4.1) without report blocks. */
export function senderReport(ssrc: number, wallMs: number, rtpTs: number, packets: number, octets: number): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(ssrc >>> 0, 4);
  const ntpSeconds = Math.floor(wallMs / 1000) + 2208988800;
  const ntpFraction = Math.floor(((wallMs % 1000) / 1000) * 0x100000000);
  sr.writeUInt32BE(ntpSeconds >>> 0, 8);
  sr.writeUInt32BE(ntpFraction >>> 0, 12);
  sr.writeUInt32BE(rtpTs >>> 0, 16);
  sr.writeUInt32BE(packets >>> 0, 20);
  sr.writeUInt32BE(octets >>> 0, 24);
  return sr;
}
