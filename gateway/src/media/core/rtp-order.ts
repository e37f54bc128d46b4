// RTP in sequence order (RFC 3550): packets reordered within a small window, losses counted and reported, and RTP
// timestamps extended past their 32 bits.
import type { RtpPacket } from '../../../../adapters/rtsp/rtp-packet.js';

/** OrderedSink receives packets in sequence order, and the count of those given up for lost before each gap. */
export interface OrderedSink {
  packet(p: RtpPacket, at: number): void;
  lost(count: number): void;
}

/** ReorderOptions bound the window: packets held at most, and for how long. */
export interface ReorderOptions {
  maxPackets: number;
  maxDelayMs: number;
}

/** RESYNC is a jump in sequence numbers taken for a new start (the camera restarted its encoder), not a loss. */
const RESYNC = 3000;

/** seqDiff is b - a in 16-bit sequence arithmetic, in -32768..32767. */
export function seqDiff(a: number, b: number): number {
  return ((b - a + 0x8000) & 0xffff) - 0x8000;
}

/**
 * Reorderer puts packets back in sequence order. Over TCP (interleaved) they never come out of order, and the window
 * is 0: every packet passes at once. Over UDP a gap is waited for until maxPackets are held or the oldest has waited
 * maxDelayMs; then what is missing counts as lost and the rest goes on.
 */
export class Reorderer {
  readonly #sink: OrderedSink;
  readonly #opts: ReorderOptions;
  #expected: number | undefined;
  #held = new Map<number, { p: RtpPacket; at: number }>();
  /** received, lost, late and duplicate count what came and what did not, for the stream's figures. */
  received = 0;
  lostPackets = 0;
  late = 0;

  constructor(sink: OrderedSink, opts: ReorderOptions) {
    this.#sink = sink;
    this.#opts = opts;
  }

  push(p: RtpPacket, at: number): void {
    this.received++;
    if (this.#expected === undefined) this.#expected = p.sequence;
    const d = seqDiff(this.#expected, p.sequence);
    if (d < 0) {
      if (d < -RESYNC) return this.#resync(p, at);
      this.late++;
      return;
    }
    if (d > RESYNC) return this.#resync(p, at);
    if (d === 0 && this.#held.size === 0) {
      this.#expected = (p.sequence + 1) & 0xffff;
      this.#sink.packet(p, at);
      return;
    }
    if (this.#held.has(p.sequence)) {
      this.late++;
      return;
    }
    this.#held.set(p.sequence, { p, at });
    this.#drain();
    this.flush(at);
  }

  /** flush gives up on a gap that has waited long enough (called on every packet and by the source's timer). */
  flush(now: number): void {
    while (this.#held.size > 0 && this.#expected !== undefined) {
      let oldest = Infinity;
      let nearest = Infinity;
      for (const [seq, h] of this.#held) {
        oldest = Math.min(oldest, h.at);
        nearest = Math.min(nearest, seqDiff(this.#expected, seq));
      }
      if (this.#held.size < this.#opts.maxPackets && now - oldest < this.#opts.maxDelayMs) return;
      // The gap is given up: what is missing up to the nearest held packet is lost.
      this.lostPackets += nearest;
      this.#sink.lost(nearest);
      this.#expected = (this.#expected + nearest) & 0xffff;
      this.#drain();
    }
  }

  #drain(): void {
    for (;;) {
      const next = this.#held.get(this.#expected!);
      if (!next) return;
      this.#held.delete(this.#expected!);
      this.#expected = (this.#expected! + 1) & 0xffff;
      this.#sink.packet(next.p, next.at);
    }
  }

  #resync(p: RtpPacket, at: number): void {
    // Whatever is held belongs to the old numbering: it goes first, in order, then the new start.
    const held = [...this.#held.values()].sort((a, b) => seqDiff(b.p.sequence, a.p.sequence));
    this.#held.clear();
    for (const h of held) this.#sink.packet(h.p, h.at);
    this.#sink.lost(0);
    this.#expected = (p.sequence + 1) & 0xffff;
    this.#sink.packet(p, at);
  }
}

/** TimestampExtender turns 32-bit RTP timestamps into a number that goes on past the wrap (and back a little). */
export class TimestampExtender {
  #last32: number | undefined;
  #ext = 0;

  extend(ts: number): number {
    if (this.#last32 === undefined) {
      this.#last32 = ts;
      this.#ext = ts;
      return ts;
    }
    // The signed 32-bit difference: a wrap forward reads as a small step, a reordered packet as a small step back.
    const diff = (ts - this.#last32) | 0;
    this.#last32 = ts >>> 0;
    this.#ext += diff;
    return this.#ext;
  }
}
