// WebRTC viewers: a WHEP offer answered with a WebRtcTransport that consumes the stream's feed. Each viewer is held
// to its right: every second the service asks whether the viewer may still watch, and ends the view when not.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type * as ms from 'mediasoup/node/lib/types.js';
import type { Profile } from '../../../../adapters/core/types.js';
import type { FrameBus } from '../core/frame-bus.js';
import type { VideoCodec } from '../core/access-unit.js';
import type { StreamInfo, ViewerRef } from '../stream.js';
import { BusFeed } from './bus-feed.js';
import { TranscodeBudgetError } from '../transcode.js';
import { chooseCodecs, type CodecChoice } from './codec-choice.js';
import { parseOffer, writeAnswer, type AnswerConsumer, type ParsedOffer } from './whep-sdp.js';
import { codecsKey, routerFor, type WorkerPool, type WorkerSlot } from './workers.js';

/** QUIET_LOOK_MS spaces the looks at what a browser sent (a view that sent nothing since is gone). */
const QUIET_LOOK_MS = 4000;

/** WebRtcError is a refusal with a stable code for the console. */
export class WebRtcError extends Error {
  override name = 'WebRtcError';
  readonly code: 'stream-unavailable' | 'codec-unsupported' | 'capacity' | 'not-found' | 'transcode-budget';
  readonly details?: Record<string, unknown>;

  constructor(code: WebRtcError['code'], message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** WebRtcHub is what the service asks of the stream hub. */
export interface WebRtcHub {
  touch(camera: string, profile: Profile, viewer: ViewerRef): StreamInfo | undefined;
  waitLive(camera: string, profile: Profile, timeoutMs: number): Promise<StreamInfo | undefined>;
  bus(camera: string, profile: Profile): FrameBus | undefined;
}

/** Transcoder gives an H.264 bus made from an H.265 one (shared, within a budget), or throws TranscodeBudgetError. */
export interface Transcoder {
  h264(camera: string, profile: Profile, source: FrameBus): FrameBus;
  /** release says one viewer of the transcode left. */
  release(camera: string, profile: Profile): void;
  pids(): number[];
  close(): void;
}

/** WebRtcOptions configure the service. */
export interface WebRtcOptions {
  /** recheckMs is how often each viewer's right is asked again (a revoked right ends the view within it). */
  recheckMs: number;
  liveWaitMs: number;
  maxSessions: number;
  /** connectTimeoutMs ends a view whose browser never connected; a connected one that goes quiet ends after it too. */
  connectTimeoutMs: number;
  /** requestKeyframe asks the camera for a keyframe now (a new viewer), where it can be asked. */
  requestKeyframe?: (camera: string, profile: Profile) => void;
  transcoder?: Transcoder;
  /** ffmpegPath runs the AAC to Opus transcode of streams whose viewers offer audio. */
  ffmpegPath?: string;
  onError?: (err: Error) => void;
}

/** ViewRequest is one WHEP offer with who makes it. */
export interface ViewRequest {
  camera: string;
  profile: Profile;
  offer: string;
  viewer: ViewerRef;
  userId: number;
  /** allowed is asked every recheckMs: false ends the view (a revoked right, an ended login). */
  allowed: () => boolean;
}

/** EndReason says why a view ended. */
export type EndReason = 'left' | 'revoked' | 'worker-died' | 'stream-ended' | 'disconnected' | 'closed';

/** SessionInfo describes a WebRTC view. */
export interface SessionInfo {
  id: string;
  camera: string;
  profile: Profile;
  userId: number;
  codec: VideoCodec;
  transcoded: boolean;
  worker: number;
  since: number;
  connected: boolean;
}

interface Session extends SessionInfo {
  transport: ms.WebRtcTransport;
  feed: BusFeed;
  viewer: ViewerRef;
  allowed: () => boolean;
  slot: WorkerSlot;
  consumers: ms.Consumer[];
  quietSince: number;
  /** rxBytes is what the browser had sent (RTCP, ICE consent) at the last look, rxAt when that last grew. */
  rxBytes: number;
  rxAt: number;
  ended?: EndReason;
}

/** WebRtcServiceEvents report views ending (the console's player reconnects on worker-died and stream-ended). */
export interface WebRtcServiceEvents {
  ended: [SessionInfo, EndReason];
}

/** WebRtcService answers WHEP offers and holds the views. */
export class WebRtcService extends EventEmitter<WebRtcServiceEvents> {
  readonly pool: WorkerPool;
  readonly transcoder?: Transcoder;
  #hub: WebRtcHub;
  #opts: WebRtcOptions;
  #sessions = new Map<string, Session>();
  #feeds = new Map<string, Promise<BusFeed>>();
  #keyframeAsked = new Map<string, number>();
  #idleFeeds = new Map<BusFeed, number>();
  #timer?: NodeJS.Timeout;

  constructor(pool: WorkerPool, hub: WebRtcHub, opts: WebRtcOptions) {
    super();
    this.pool = pool;
    this.transcoder = opts.transcoder;
    this.#hub = hub;
    this.#opts = opts;
    pool.on('died', (index, err) => {
      this.#opts.onError?.(new Error(`mediasoup worker ${index} died (${err.message}); it is being replaced and its viewers reconnect`));
      for (const s of this.#sessions.values()) if (s.slot.index === index) this.#end(s, 'worker-died');
    });
  }

  start(): void {
    this.#timer = setInterval(() => this.#recheck(), this.#opts.recheckMs);
    this.#timer.unref();
  }

  get sessions(): SessionInfo[] {
    return [...this.#sessions.values()].map(info);
  }

  session(id: string): SessionInfo | undefined {
    const s = this.#sessions.get(id);
    return s && info(s);
  }

  /** view answers an offer: it resolves with the session id and the SDP answer, or throws WebRtcError or SdpError. */
  async view(req: ViewRequest): Promise<{ id: string; answer: string; info: SessionInfo }> {
    const offer = parseOffer(req.offer);
    if (this.#sessions.size >= this.#opts.maxSessions) {
      throw new WebRtcError('capacity', `this node already serves ${this.#sessions.size} WebRTC viewers (media.webrtc.maxViewers)`);
    }
    if (!(await this.pool.ready(5000))) throw new WebRtcError('capacity', 'no mediasoup worker is running (one is being replaced): try again', { reason: 'worker-restarting' });
    const live = await this.#hub.waitLive(req.camera, req.profile, this.#opts.liveWaitMs);
    if (live?.state !== 'live') {
      throw new WebRtcError('stream-unavailable', live?.error?.message ?? `the stream is ${live?.state ?? 'stopped'}`, { state: live?.state ?? 'stopped', retryAt: live?.retryAt });
    }
    const source = this.#hub.bus(req.camera, req.profile);
    if (!source) throw new WebRtcError('stream-unavailable', 'this camera is read by the ffmpeg fallback, which has no WebRTC output: play it over HLS', { reason: 'no-bus' });
    const vt = source.tracks[source.videoTrack];
    if (!vt || vt.params.kind !== 'video') throw new WebRtcError('stream-unavailable', 'the stream has no video', { reason: 'no-video' });
    const cameraCodec = vt.params.codec;
    let bus = source;
    let transcoded = false;
    if (!offer.videoCodecs.has(cameraCodec)) {
      if (cameraCodec === 'H265' && offer.videoCodecs.has('H264') && this.#opts.transcoder) {
        try {
          bus = this.#opts.transcoder.h264(req.camera, req.profile, source);
        } catch (err) {
          if (err instanceof TranscodeBudgetError) throw new WebRtcError('transcode-budget', err.message, { budget: err.budget, codec: cameraCodec });
          throw err;
        }
        transcoded = true;
      } else {
        throw new WebRtcError('codec-unsupported', `the browser decodes none of this stream's video (${cameraCodec})`, { codec: cameraCodec });
      }
    }
    let session: Session | undefined;
    try {
      const codec: VideoCodec = transcoded ? 'H264' : cameraCodec;
      // A transcode just started has no picture yet: its first one is waited for (a keyframe of the camera and an
      // encoder start, well under a GOP when the camera is asked for a keyframe).
      if (transcoded && bus.videoTrack < 0) {
        this.#opts.requestKeyframe?.(req.camera, req.profile);
        await firstUnit(bus, this.#opts.liveWaitMs);
      }
      const busVideo = bus.tracks[bus.videoTrack]?.params;
      if (!busVideo || busVideo.kind !== 'video') throw new WebRtcError('stream-unavailable', 'the transcode has not begun yet', { reason: 'no-video' });
      const busAudio = bus.tracks.find((t) => t.params.kind === 'audio')?.params;
      const choice = chooseCodecs(offer.rtpCapabilities.codecs ?? [], busVideo, busAudio?.kind === 'audio' ? busAudio : undefined);
      if (!choice) throw new WebRtcError('codec-unsupported', `the browser offers no ${codec} it can take in one packetization the gateway sends`, { codec });
      const feed = await this.#feed(req.camera, req.profile, bus, choice);
      const slot = feed.slot;
      const transport = await feed.router.createWebRtcTransport({
        webRtcServer: slot.server, enableUdp: this.pool.udp, enableTcp: true, preferUdp: this.pool.udp, initialAvailableOutgoingBitrate: 3_000_000,
      });
      session = {
        id: randomBytes(16).toString('base64url'), camera: req.camera, profile: req.profile, userId: req.userId, codec, transcoded,
        worker: slot.index, since: Date.now(), connected: false, transport, viewer: req.viewer, allowed: req.allowed, slot,
        consumers: [], quietSince: Date.now(), rxBytes: 0, rxAt: Date.now(), feed,
      };
      this.#sessions.set(session.id, session);
      const s = session;
      transport.on('dtlsstatechange', (state) => {
        if (state === 'connected') {
          s.connected = true;
          s.quietSince = Number.POSITIVE_INFINITY;
        }
        if (state === 'closed' || state === 'failed') this.#end(s, 'disconnected');
      });
      transport.on('icestatechange', (state) => {
        if (state === 'disconnected') s.quietSince = Date.now();
        else if (state === 'connected' || state === 'completed') s.quietSince = s.connected ? Number.POSITIVE_INFINITY : s.quietSince;
      });
      transport.observer.once('close', () => this.#end(s, 'worker-died'));
      feed.once('closed', (why) => this.#end(s, why === 'worker-died' ? 'worker-died' : 'stream-ended'));
      await transport.connect({ dtlsParameters: offer.dtlsParameters });
      const answerConsumers = await this.#consume(s, feed, offer);
      this.#opts.requestKeyframe?.(req.camera, req.profile);
      const answer = writeAnswer(offer, {
        iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters,
        remoteRole: offer.dtlsParameters.role!,
      }, answerConsumers, `gw-${s.id.slice(0, 8)}`, `cam-${req.camera}`);
      return { id: s.id, answer, info: info(s) };
    } catch (err) {
      if (session) this.#end(session, 'closed');
      else if (transcoded) this.#opts.transcoder?.release(req.camera, req.profile);
      throw err;
    }
  }

  /** arrivalOf says when the picture of RTP time rtp of a view reached the gateway (the console's latency figure). */
  arrivalOf(id: string, rtp: number): number | undefined {
    return this.#sessions.get(id)?.feed.arrivalOf(rtp);
  }

  /** leave ends a view (WHEP DELETE). */
  leave(id: string, reason: EndReason = 'left'): boolean {
    const s = this.#sessions.get(id);
    if (!s) return false;
    this.#end(s, reason);
    return true;
  }

  /** endWhere ends the views a predicate picks (a user disabled, a grant revoked: the re-check does it too). */
  endWhere(pick: (s: SessionInfo) => boolean, reason: EndReason): number {
    let n = 0;
    for (const s of [...this.#sessions.values()]) {
      if (pick(info(s))) {
        this.#end(s, reason);
        n++;
      }
    }
    return n;
  }

  close(): void {
    clearInterval(this.#timer);
    for (const s of [...this.#sessions.values()]) this.#end(s, 'closed');
    for (const f of this.#feeds.values()) void f.then((feed) => feed.close(), () => undefined);
    this.#feeds.clear();
  }

  async #consume(s: Session, feed: BusFeed, offer: ParsedOffer): Promise<AnswerConsumer[]> {
    const out: AnswerConsumer[] = [];
    // No RTP header extension is negotiated: mediasoup writes extensions under its own ids, which the browser made
    // the offer and would read by its own map. The feed's packets carry none (scripts/build-mediasoup-worker.sh).
    offer = { ...offer, rtpCapabilities: { codecs: offer.rtpCapabilities.codecs, headerExtensions: [] } };
    const videoMid = offer.sections.find((x) => x.kind === 'video' && x.receives)!.mid;
    const router = feed.router;
    if (!router.canConsume({ producerId: feed.video.id, rtpCapabilities: offer.rtpCapabilities })) {
      throw new WebRtcError('codec-unsupported', `the browser's ${feed.codec} profiles do not match the stream's`, { codec: feed.codec });
    }
    const producers: Array<{ kind: 'video' | 'audio'; producer: ms.Producer; mid: string }> = [{ kind: 'video', producer: feed.video, mid: videoMid }];
    const audioMid = offer.sections.find((x) => x.kind === 'audio' && x.receives)?.mid;
    const audio = feed.audioProducer;
    if (audio && audioMid && router.canConsume({ producerId: audio.id, rtpCapabilities: offer.rtpCapabilities })) {
      producers.push({ kind: 'audio', producer: audio, mid: audioMid });
    }
    for (const p of producers) {
      // No RTX: its payload type would be the router's choice, not the browser's; NACKed packets are sent again as they were.
      const consumer = await s.transport.consume({ producerId: p.producer.id, rtpCapabilities: offer.rtpCapabilities, mid: p.mid, paused: false, enableRtx: false });
      s.consumers.push(consumer);
      s.slot.load++;
      out.push({ mid: p.mid, kind: p.kind, rtpParameters: consumer.rtpParameters });
    }
    return out;
  }

  /**
   * #feed returns the stream's feed for a codec choice (its payload types), creating it on the least loaded worker
   * when there is none.
   */
  #feed(camera: string, profile: Profile, bus: FrameBus, choice: CodecChoice): Promise<BusFeed> {
    const key = `${camera}/${profile}/${codecsKey(choice.routerCodecs)}/${JSON.stringify(choice.video.parameters)}`;
    const existing = this.#feeds.get(key);
    if (existing) {
      return existing.then((feed) => {
        if (!feed.closed && feed.bus === bus && this.pool.slot(feed.slot.index) === feed.slot) return feed;
        if (this.#feeds.get(key) === existing) this.#feeds.delete(key);
        return this.#feed(camera, profile, bus, choice);
      });
    }
    const slot = this.pool.pick();
    const codecs = { video: choice.video, audio: choice.audio, ...(choice.opus && this.#opts.ffmpegPath ? { opus: { ffmpegPath: this.#opts.ffmpegPath } } : {}) };
    const made = routerFor(slot, choice.routerCodecs).then((router) => BusFeed.create(slot, router, bus, codecs)).then((feed) => {
      feed.on('keyframe', () => this.#askKeyframe(camera, profile));
      feed.on('error', (err) => this.#opts.onError?.(err));
      feed.once('closed', () => {
        this.#idleFeeds.delete(feed);
        if (this.#feeds.get(key) === made) this.#feeds.delete(key);
      });
      return feed;
    });
    this.#feeds.set(key, made);
    made.catch(() => {
      if (this.#feeds.get(key) === made) this.#feeds.delete(key);
    });
    return made;
  }

  #askKeyframe(camera: string, profile: Profile): void {
    const key = `${camera}/${profile}`;
    const now = Date.now();
    // A camera is asked at most once a second, however many viewers join or lose packets.
    if (now - (this.#keyframeAsked.get(key) ?? 0) < 1000) return;
    this.#keyframeAsked.set(key, now);
    this.#opts.requestKeyframe?.(camera, profile);
  }

  #recheck(): void {
    const now = Date.now();
    for (const s of [...this.#sessions.values()]) {
      let ok: boolean;
      try {
        ok = s.allowed();
      } catch (err) {
        this.#opts.onError?.(err as Error);
        ok = false;
      }
      if (!ok) {
        this.#end(s, 'revoked');
        continue;
      }
      if (now - s.quietSince > this.#opts.connectTimeoutMs) {
        this.#end(s, 'disconnected');
        continue;
      }
      this.#hub.touch(s.camera, s.profile, s.viewer);
      if (s.connected) this.#checkQuiet(s, now);
    }
    // A feed nobody consumes is kept a while for the next viewer, then closed.
    for (const [key, made] of this.#feeds) {
      void made.then((feed) => {
        const used = [...this.#sessions.values()].some((s) => s.consumers.some((c) => c.producerId === feed.video.id));
        if (used) return this.#idleFeeds.delete(feed);
        const since = this.#idleFeeds.get(feed) ?? now;
        this.#idleFeeds.set(feed, since);
        if (now - since >= this.#opts.connectTimeoutMs && this.#feeds.get(key) === made) {
          this.#feeds.delete(key);
          this.#idleFeeds.delete(feed);
          feed.close();
        }
      }, () => undefined);
    }
  }

  /**
   * #checkQuiet ends a view whose browser went away without leaving (a closed tab): a browser sends RTCP reports every
   * second or so and ICE consent checks every few seconds; nothing from it for connectTimeoutMs means it is gone.
   */
  #checkQuiet(s: Session, now: number): void {
    if (now - s.rxAt < QUIET_LOOK_MS) return;
    s.transport.getStats().then((stats) => {
      const rx = stats.reduce((n, x) => n + (x.bytesReceived ?? 0), 0);
      const at = Date.now();
      if (rx !== s.rxBytes) {
        s.rxBytes = rx;
        s.rxAt = at;
      } else if (at - s.rxAt > this.#opts.connectTimeoutMs) {
        this.#end(s, 'disconnected');
      }
    }, () => undefined);
  }

  #end(s: Session, reason: EndReason): void {
    if (s.ended) return;
    s.ended = reason;
    this.#sessions.delete(s.id);
    s.slot.load -= s.consumers.length;
    if (!s.transport.closed) s.transport.close();
    if (s.transcoded) this.#opts.transcoder?.release(s.camera, s.profile);
    this.emit('ended', info(s), reason);
  }
}

/** firstUnit resolves when a bus publishes (or has published) its first access unit, or after timeoutMs. */
function firstUnit(bus: FrameBus, timeoutMs: number): Promise<void> {
  if (bus.units > 0) return Promise.resolve();
  return new Promise((done) => {
    const finish = () => {
      clearTimeout(timer);
      bus.off('unit', finish);
      bus.off('end', finish);
      done();
    };
    const timer = setTimeout(finish, timeoutMs);
    bus.on('unit', finish);
    bus.on('end', finish);
  });
}

function info(s: Session): SessionInfo {
  return { id: s.id, camera: s.camera, profile: s.profile, userId: s.userId, codec: s.codec, transcoded: s.transcoded, worker: s.worker, since: s.since, connected: s.connected };
}
