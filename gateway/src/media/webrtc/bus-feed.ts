// A frame bus into mediasoup: the bus's access units cut into RTP again and sent into producers on a DirectTransport
// of one router, without ffmpeg. One feed per (camera, profile, codec) however many watch; viewers consume from it.
import { EventEmitter } from 'node:events';
import type * as ms from 'mediasoup/node/lib/types.js';
import type { AccessUnit, TrackParams, VideoParams } from '../core/access-unit.js';
import type { FrameBus } from '../core/frame-bus.js';
import { RtpClock, RtpPacketizer } from '../core/rtp-packetizer.js';
import type { WorkerSlot } from './workers.js';
import { OpusAudio } from './opus-audio.js';

interface Track {
  index: number;
  params: TrackParams;
  producer: ms.Producer;
  packetizer: RtpPacketizer;
  clock: RtpClock;
}

/** BusFeedEvents: a keyframe was asked for (a viewer joined or lost packets); the feed ended (bus or codec change). */
export interface BusFeedEvents {
  keyframe: [];
  /** error: a part of the feed failed (the Opus transcode), the feed goes on without it. */
  error: [Error];
  closed: [reason: 'bus-ended' | 'codec-changed' | 'worker-died' | 'closed'];
}

/** isKeyframeRequest says whether an RTCP compound packet holds a PLI or a FIR (RFC 4585, RFC 5104). */
export function isKeyframeRequest(rtcp: Buffer): boolean {
  let at = 0;
  while (at + 4 <= rtcp.length) {
    const fmt = rtcp[at]! & 0x1f;
    const pt = rtcp[at + 1]!;
    if (pt === 206 && (fmt === 1 || fmt === 4)) return true;
    const words = rtcp.readUInt16BE(at + 2);
    at += (words + 1) * 4;
  }
  return false;
}

/** BusFeed sends one bus into mediasoup producers. */
export class BusFeed extends EventEmitter<BusFeedEvents> {
  readonly slot: WorkerSlot;
  readonly router: ms.Router;
  readonly bus: FrameBus;
  readonly video: ms.Producer;
  readonly audio?: ms.Producer;
  /** codec is the video codec the producer carries. */
  readonly codec: VideoParams['codec'];
  #transport: ms.DirectTransport;
  #tracks: Track[];
  #closed = false;
  #onUnit = (au: AccessUnit) => this.#send(au);
  #onRestart = () => {
    for (const t of this.#tracks) t.clock.restart();
  };
  #onParams = (track: number, params: TrackParams) => {
    const t = this.#tracks.find((x) => x.index === track);
    if (!t) return;
    if (t.params.codec !== params.codec) return this.close('codec-changed');
    t.params = params;
  };
  #onEnd = () => this.close('bus-ended');

  private constructor(slot: WorkerSlot, router: ms.Router, bus: FrameBus, transport: ms.DirectTransport, tracks: Track[]) {
    super();
    this.slot = slot;
    this.router = router;
    this.bus = bus;
    this.#transport = transport;
    this.#tracks = tracks;
    this.video = tracks[0]!.producer;
    this.audio = tracks[1]?.producer;
    this.codec = (tracks[0]!.params as VideoParams).codec;
    transport.on('rtcp', (packet) => {
      if (isKeyframeRequest(packet)) this.emit('keyframe');
    });
    transport.observer.on('close', () => this.close('worker-died'));
    bus.on('unit', this.#onUnit);
    bus.on('restart', this.#onRestart);
    bus.on('params', this.#onParams);
    bus.once('end', this.#onEnd);
  }

  /** create opens a feed of a live bus on a router of slot, with the producer codecs chosen for it. */
  static async create(slot: WorkerSlot, router: ms.Router, bus: FrameBus, codecs: { video: ms.RtpCodecParameters; audio?: ms.RtpCodecParameters; opus?: { ffmpegPath: string } }): Promise<BusFeed> {
    const vt = bus.tracks[bus.videoTrack];
    if (!vt || vt.params.kind !== 'video') throw new Error('the stream has no video track yet');
    const transport = await router.createDirectTransport({ maxMessageSize: 262144 });
    const tracks: Track[] = [];
    try {
      const vParams = vt.params;
      const vCodec = codecs.video;
      const vPacketizer = new RtpPacketizer(vCodec.payloadType);
      const video = await transport.produce({ kind: 'video', rtpParameters: { codecs: [vCodec], encodings: [{ ssrc: vPacketizer.ssrc }] } });
      tracks.push({ index: vt.index, params: vParams, producer: video, packetizer: vPacketizer, clock: new RtpClock(90000) });
      const at = bus.tracks.find((t) => t.params.kind === 'audio');
      const aCodec = codecs.audio;
      if (at && aCodec) {
        const aPacketizer = new RtpPacketizer(aCodec.payloadType);
        const audio = await transport.produce({ kind: 'audio', rtpParameters: { codecs: [aCodec], encodings: [{ ssrc: aPacketizer.ssrc }] } });
        tracks.push({ index: at.index, params: at.params, producer: audio, packetizer: aPacketizer, clock: new RtpClock(aCodec.clockRate) });
      }
    } catch (err) {
      transport.close();
      throw err;
    }
    const feed = new BusFeed(slot, router, bus, transport, tracks);
    if (codecs.opus && !feed.audio) {
      // AAC: Opus made for this feed's lifetime, that is while viewers of the stream are there.
      // Without it the viewer gets the picture alone; why is the feed's error to report.
      feed.#opus = await OpusAudio.start(router, bus, codecs.opus.ffmpegPath, (why) => feed.emit('error', new Error(why))).catch((err: Error) => {
        feed.emit('error', err);
        return undefined;
      });
    }
    return feed;
  }

  #opus?: OpusAudio;

  /** audioProducer is the producer viewers' audio consumes (G.711 as it is, or Opus made from AAC). */
  get audioProducer(): ms.Producer | undefined {
    return this.audio ?? this.#opus?.producer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(reason: 'bus-ended' | 'codec-changed' | 'worker-died' | 'closed' = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.bus.off('unit', this.#onUnit);
    this.bus.off('restart', this.#onRestart);
    this.bus.off('params', this.#onParams);
    this.bus.off('end', this.#onEnd);
    if (!this.#transport.closed) this.#transport.close();
    this.#opus?.close();
    this.emit('closed', reason);
  }

  /** #arrivals remembers, for the last pictures sent, their RTP time and when they reached the gateway. */
  #arrivals: Array<[rtp: number, at: number]> = [];

  /** arrivalOf says when the picture of RTP time rtp (or the one before it) reached the gateway, for latency figures. */
  arrivalOf(rtp: number): number | undefined {
    let best: [number, number] | undefined;
    for (const a of this.#arrivals) {
      const d = (rtp - a[0]) >>> 0;
      if (d < 90_000 * 10 && (!best || d < ((rtp - best[0]) >>> 0))) best = a;
    }
    return best?.[1];
  }

  #send(au: AccessUnit): void {
    const t = this.#tracks[0]!.index === au.track ? this.#tracks[0]! : this.#tracks[1]?.index === au.track ? this.#tracks[1] : undefined;
    if (!t || t.producer.closed) return;
    const ts = t.clock.rtp(au.pts);
    if (t === this.#tracks[0]) {
      this.#arrivals.push([ts, au.at]);
      if (this.#arrivals.length > 256) this.#arrivals.splice(0, 64);
    }
    t.packetizer.packetize(au, t.params, ts, (packet) => t.producer.send(packet));
  }
}
