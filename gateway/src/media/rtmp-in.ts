// RTMP in: 4G deployable cameras (布控球), body cameras and drones push rtmp://gateway:port/live/<camera>?key=<push
// key>. node-media-server speaks RTMP (handshake, chunks, AMF, publish) and holds each push's broadcast; the gateway
// decides who may push (the camera's own key, compared in constant time), refuses every RTMP play (viewers go through
// the gateway's authorised outputs), and reads each push into the camera's frame bus like any pulled camera.
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Pipeline, PipelineEvents, PipelineExit, PipelineStats } from './pipeline.js';
import type { AccessUnit, TrackParams } from './core/access-unit.js';
import type { FrameBus } from './core/frame-bus.js';
import { FlvError, FlvReader, tagTime } from './flv.js';

const require = createRequire(import.meta.url);
interface NmsSession {
  id: string;
  ip: string;
  socket: Socket;
  streamApp?: string;
  streamName?: string;
  streamPath?: string;
  streamQuery?: Record<string, unknown>;
  onPush: () => void;
  onPlay: () => void;
  run: () => void;
}
interface NmsBroadcast {
  publisher: NmsSession | null;
  postPlay(s: unknown): string | null;
  donePlay(s: unknown): void;
  getPublishStatus(): 'publishing' | 'reconnecting' | 'idle';
}
const RtmpSession = require('node-media-server/src/session/rtmp_session.js') as new (socket: Socket) => NmsSession;
const NmsContext = require('node-media-server/src/core/context.js') as { config: Record<string, unknown>; sessions: Map<string, unknown>; broadcasts: Map<string, NmsBroadcast> };
const nmsLogger = require('node-media-server/src/core/logger.js') as { level: string; log: (message: string, level?: string) => void };

/** PUSH_SCHEME marks a camera whose stream is pushed to the gateway (its main address in the catalog). */
export const PUSH_SCHEME = 'rtmp-push:';

/** PUSH_USER is the user name a push camera's credentials carry: its password is the push key. */
export const PUSH_USER = 'rtmp-push';

/** isPushUrl says whether a catalog address is a push camera's. */
export function isPushUrl(url: string | null | undefined): boolean {
  return typeof url === 'string' && url.startsWith(PUSH_SCHEME);
}

/** sameKey compares push keys in constant time. */
export function sameKey(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** RtmpIngestOptions configure the RTMP listener. */
export interface RtmpIngestOptions {
  host: string;
  port: number;
  /** pushKey returns the camera's push key, or undefined when it is not a push camera. */
  pushKey: (camera: string) => string | undefined;
  onRefused?: (e: { camera: string; remote: string; reason: string }) => void;
  onPublish?: (e: { camera: string; remote: string }) => void;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** RtmpIngest listens for RTMP pushes. */
export class RtmpIngest extends EventEmitter<{ publish: [camera: string] }> {
  #opts: RtmpIngestOptions;
  #server: Server;
  #sockets = new Set<Socket>();

  constructor(opts: RtmpIngestOptions) {
    super();
    this.#opts = opts;
    // node-media-server keeps its state in one context: the gateway gives it no auth of its own (the gateway checks
    // keys) and its log lines go to the gateway's log, push keys masked.
    NmsContext.config = { ...NmsContext.config, auth: { play: false, publish: false } };
    nmsLogger.level = 'warn';
    nmsLogger.log = (message, level = 'info') => {
      const l = level === 'error' ? 'error' : level === 'warn' ? 'warn' : level === 'info' ? 'info' : 'debug';
      if (l === 'debug' || l === 'info') return;
      opts.log?.(l, String(message).replace(/([?&]key=)[^&\s]*/gi, '$1***'));
    };
    this.#server = createServer((socket) => this.#accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((ok, fail) => {
      this.#server.once('error', fail);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', fail);
        ok();
      });
    });
    return this.port;
  }

  get port(): number {
    const a = this.#server.address();
    return a && typeof a !== 'string' ? a.port : this.#opts.port;
  }

  /** isPublishing says whether a camera pushes now. */
  isPublishing(camera: string): boolean {
    return NmsContext.broadcasts.get(`/live/${camera}`)?.getPublishStatus() === 'publishing';
  }

  /**
   * attach reads a camera's push: every tag (the cached header and GOP first) is given to onTag. It returns the
   * detach function, or undefined when the camera does not push now.
   */
  attach(camera: string, onTag: (type: number, ms: number, body: Buffer) => void): (() => void) | undefined {
    const broadcast = NmsContext.broadcasts.get(`/live/${camera}`);
    if (!broadcast || broadcast.getPublishStatus() !== 'publishing') return undefined;
    // An internal subscriber (no address: node-media-server neither authenticates nor counts it) that receives FLV.
    const sub = {
      id: randomBytes(8).toString('hex'), ip: '', protocol: 'flv', streamPath: `/live/${camera}`,
      sendBuffer: (b: Buffer) => {
        if (b.length < 15 || b[0] === 0x46) return; // the FLV file header
        const size = b.readUIntBE(1, 3);
        if (11 + size > b.length) return;
        onTag(b[0]!, tagTime(b), b.subarray(11, 11 + size));
      },
    };
    broadcast.postPlay(sub);
    return () => broadcast.donePlay(sub);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    const remote = socket.remoteAddress ?? '';
    const session = new RtmpSession(socket);
    NmsContext.sessions.set(session.id, session);
    socket.on('close', () => NmsContext.sessions.delete(session.id));
    const push = session.onPush;
    session.onPush = () => {
      const camera = session.streamName ?? '';
      const given = typeof session.streamQuery?.key === 'string' ? session.streamQuery.key : '';
      const expected = session.streamApp === 'live' ? this.#opts.pushKey(camera) : undefined;
      const why = session.streamApp !== 'live' ? 'the push path is not /live/<camera>'
        : expected === undefined ? 'no push camera has this id'
          : !given ? 'the push carries no key (?key=...)'
            : !sameKey(given, expected) ? 'the push key is wrong' : undefined;
      if (why) {
        this.#opts.onRefused?.({ camera, remote, reason: why });
        socket.destroy();
        return;
      }
      push();
      this.#opts.onPublish?.({ camera, remote });
      this.emit('publish', camera);
    };
    // Nobody plays RTMP from the gateway: viewers go through its authorised outputs.
    session.onPlay = () => {
      this.#opts.onRefused?.({ camera: session.streamName ?? '', remote, reason: 'RTMP play is not served: use the gateway\'s HLS, WebRTC, RTSP or FLV' });
      socket.destroy();
    };
    session.run();
  }
}

/** PushPipelineOptions configure one run of a pushed camera. */
export interface PushPipelineOptions {
  camera: string;
  ingest: RtmpIngest;
  bus: FrameBus;
  startTimeoutMs: number;
  stallTimeoutMs: number;
}

/**
 * AUDIO_GRACE_MS is how long after the first keyframe the bus waits for the audio's sequence header before it begins
 * with video alone: an encoder may send the audio header just after its first picture, and a bus begun without the
 * track would never carry it. MAX_HELD bounds what is held meanwhile.
 */
const AUDIO_GRACE_MS = 500;
const MAX_HELD = 120;

/** PushPipeline reads one push into the camera's frame bus; it ends when the push stops, like a camera that does. */
export class PushPipeline extends EventEmitter<PipelineEvents> implements Pipeline {
  #o: PushPipelineOptions;
  #reader = new FlvReader();
  #detach?: () => void;
  #watchdog?: NodeJS.Timeout;
  #begun = false;
  #live = false;
  #ended = false;
  #frames = 0;
  #lastAt = 0;
  #startedAt = 0;
  #tracks: number[] = [];
  #malformed = 0;
  /** #held are the units read from the first keyframe on while the bus waits for the audio's header. */
  #held: Array<{ kind: 'video' | 'audio'; unit: Omit<AccessUnit, 'track' | 'at'> }> = [];
  #firstKeyAt = 0;

  constructor(o: PushPipelineOptions) {
    super();
    this.#o = o;
  }

  start(): void {
    this.#startedAt = Date.now();
    this.#lastAt = this.#startedAt;
    const detach = this.#o.ingest.attach(this.#o.camera, (type, ms, body) => this.#tag(type, ms, body));
    if (!detach) {
      // The device is not pushing: like a camera that does not answer, tried again after the backoff.
      setImmediate(() => this.#exit({ kind: 'offline', message: 'the device is not pushing its stream (RTMP) to the gateway' }));
      return;
    }
    this.#detach = detach;
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      if (!this.#live && now - this.#startedAt > this.#o.startTimeoutMs) this.#exit({ kind: 'stalled', message: 'the push sent no picture the gateway can read' });
      else if (this.#live && now - this.#lastAt > this.#o.stallTimeoutMs) this.#exit({ kind: 'stalled', message: `the push stopped sending for ${Math.round((now - this.#lastAt) / 1000)} s` });
      else if (!this.#o.ingest.isPublishing(this.#o.camera)) this.#exit({ kind: 'offline', message: 'the device stopped pushing' });
    }, 500);
  }

  async stop(): Promise<void> {
    this.#exit({ kind: 'stopped', message: 'stopped' });
  }

  stats(): PipelineStats {
    return { frames: this.#frames, lastProgressAt: this.#lastAt, tracks: this.#reader.video ? [{ kind: 'video', codec: this.#reader.video.codec, carried: true }, ...(this.#reader.audio ? [{ kind: 'audio' as const, codec: this.#reader.audio.codec, carried: true }] : [])] : [] };
  }

  #tag(type: number, ms: number, body: Buffer): void {
    if (this.#ended) return;
    let read;
    try {
      read = type === 9 ? this.#reader.readVideo(body, ms) : type === 8 ? this.#reader.readAudio(body, ms) : undefined;
    } catch (err) {
      if (!(err instanceof FlvError)) throw err;
      // A damaged tag is left out; a push that sends nothing but damage stalls and ends.
      this.#malformed++;
      return;
    }
    if (!read) return;
    if ('params' in read) {
      if (this.#begun) this.#paramsChanged(read.params);
      // The audio's header came while the first pictures wait: the bus begins with both tracks now.
      else if (this.#firstKeyAt && this.#reader.audio) this.#begin();
      return;
    }
    if (!this.#begun) {
      if (read.kind === 'video' && !this.#firstKeyAt) {
        if (!read.unit.key) return;
        this.#firstKeyAt = Date.now();
      }
      if (!this.#firstKeyAt) return;
      this.#held.push({ kind: read.kind, unit: read.unit });
      if (this.#reader.audio || Date.now() - this.#firstKeyAt >= AUDIO_GRACE_MS || this.#held.length >= MAX_HELD) this.#begin();
      return;
    }
    this.#publish(read.kind, read.unit);
  }

  /** #begin starts the bus with the tracks known now (video, and audio when its header came) and sends what was held. */
  #begin(): void {
    const params: TrackParams[] = [this.#reader.video!, ...(this.#reader.audio ? [this.#reader.audio] : [])];
    this.#o.bus.begin(params);
    this.#tracks = params.map((p) => (p.kind === 'video' ? 0 : 1));
    this.#begun = true;
    const held = this.#held;
    this.#held = [];
    for (const h of held) this.#publish(h.kind, h.unit);
  }

  #publish(kind: 'video' | 'audio', unit: Omit<AccessUnit, 'track' | 'at'>): void {
    const track = kind === 'video' ? 0 : this.#tracks.indexOf(1);
    if (track < 0) return;
    this.#lastAt = Date.now();
    this.#o.bus.publish({ ...unit, track, at: this.#lastAt });
    if (kind === 'video') {
      this.#frames++;
      if (!this.#live && this.#frames >= 2) {
        this.#live = true;
        this.emit('live');
      }
    }
  }

  #paramsChanged(p: TrackParams): void {
    const index = p.kind === 'video' ? 0 : this.#tracks.indexOf(1);
    if (index < 0) return;
    const before = this.#o.bus.tracks[index]?.params;
    if (before && before.codec !== p.codec) return this.#exit({ kind: 'failed', message: 'the push changed its codec: read again' });
    this.#o.bus.setParams(index, p);
  }

  #exit(e: PipelineExit): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#watchdog);
    this.#detach?.();
    this.emit('exit', e);
  }
}
