// The media of mediation and conference rooms: a room's publications go to its router on the least loaded worker;
// each participant publishes her camera and microphone (a sending offer: producers) and receives each other
// participant (a receiving offer: consumers of that participant's producers). A room grows over the machine's
// workers: a viewer is placed on the least loaded one, and what she receives is piped there from the room's first
// router once per worker (mediasoup's pipe transports), so one large room uses every core, not one. rooms/ asks
// this; only media/ touches mediasoup.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type * as ms from 'mediasoup/node/lib/types.js';
import type { FrameBus } from '../core/frame-bus.js';
import type { WorkerPool, WorkerSlot } from './workers.js';
import { parseOffer, writeAnswer, SdpError, type AnswerConsumer } from './whep-sdp.js';
import { parsePublish, writePublishAnswer } from './publish-sdp.js';
import { RoomRecorder, RecorderError, type TrackFile } from './room-recorder.js';

/** ROOM_CODECS are what a room's router takes and sends: Opus, VP8 and Constrained Baseline H.264 (every browser). */
export const ROOM_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 111 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96 },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, preferredPayloadType: 102, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } },
];

/** Quality is the simulcast layer a viewer asks for: low (180p), mid (360p), high (720p) of a 720p camera. */
export type Quality = 'low' | 'mid' | 'high';
const QUALITY_LAYER: Record<Quality, number> = { low: 0, mid: 1, high: 2 };

/** Source is what a participant sends: her camera and microphone, or her shared screen. */
export type Source = 'camera' | 'screen';

/** RoomMediaError is a refusal with a stable code. */
export class RoomMediaError extends Error {
  override name = 'RoomMediaError';
  readonly code: 'capacity' | 'not-found' | 'bad-request';
  constructor(code: RoomMediaError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

interface Session {
  id: string;
  room: string;
  participant: string;
  direction: 'send' | 'receive';
  /** source is what a publication carries: her camera and microphone, or her screen (a document, a map). */
  source: Source;
  /** from is the participant received (receive sessions). */
  from?: string;
  transport: ms.WebRtcTransport;
  producers: ms.Producer[];
  consumers: ms.Consumer[];
  /** slot is the worker the session's transport is on (its consumers count on its load). */
  slot: WorkerSlot;
}

interface Room {
  /** slot and router are where the room's publications are; routers holds the room's router on each worker used. */
  slot: WorkerSlot;
  router: Promise<ms.Router>;
  routers: Map<WorkerSlot, Promise<ms.Router>>;
  /** piped are the producers piped to another worker's router, by "<producer>/<worker index>". */
  piped: Map<string, Promise<void>>;
  sessions: Map<string, Session>;
}

/** Placement is where a viewer of a room receives: a router of the room on one worker, and how to bring a producer there. */
export interface Placement {
  slot: WorkerSlot;
  router: ms.Router;
  /** take makes a producer of the room consumable on this router (piped from the room's first router when elsewhere). */
  take: (producerId: string) => Promise<void>;
}

/** RoomMediaEvents say what changed: a participant began or stopped sending, a session ended. */
export interface RoomMediaEvents {
  publishing: [{ room: string; participant: string; kinds: Array<'audio' | 'video'> }];
  ended: [{ room: string; session: string; participant: string; reason: 'left' | 'disconnected' | 'worker-died' | 'closed' }];
  /** recordingFault: a publication could not be recorded (the recording goes on with the others). */
  recordingFault: [{ room: string; message: string }];
}

/** RoomMedia holds every room's router and sessions. */
export class RoomMedia extends EventEmitter<RoomMediaEvents> {
  readonly #pool: WorkerPool;
  readonly #rooms = new Map<string, Room>();
  readonly #sessions = new Map<string, Session>();
  readonly #maxSessions: number;
  readonly #recorders = new Map<string, RoomRecorder>();

  constructor(pool: WorkerPool, opts: { maxSessions: number }) {
    super();
    this.#pool = pool;
    this.#maxSessions = opts.maxSessions;
  }

  #room(room: string): Room {
    let r = this.#rooms.get(room);
    if (!r) {
      let slot: WorkerSlot;
      try {
        slot = this.#pool.pick();
      } catch {
        throw new RoomMediaError('capacity', 'no mediasoup worker is running (one is being replaced): try again');
      }
      const router = slot.worker.createRouter({ mediaCodecs: ROOM_CODECS });
      r = { slot, router, routers: new Map([[slot, router]]), piped: new Map(), sessions: new Map() };
      this.#rooms.set(room, r);
      const made = r;
      made.router.then((router) => router.observer.once('close', () => {
        // The worker died: every session of the room ends, and its participants join again (on another worker).
        for (const s of [...made.sessions.values()]) this.#end(s, 'worker-died');
        if (this.#rooms.get(room) === made) this.#rooms.delete(room);
        for (const [other, x] of made.routers) if (other !== slot) void x.then((y) => y.close(), () => undefined);
      }), () => this.#rooms.delete(room));
    }
    return r;
  }

  /**
   * #routerOn returns the room's router on a worker, made when the room first places a viewer there; a worker that
   * dies ends the sessions on it (they are made again elsewhere) and the room forgets its router.
   */
  #routerOn(r: Room, slot: WorkerSlot): Promise<ms.Router> {
    let router = r.routers.get(slot);
    if (router) return router;
    router = slot.worker.createRouter({ mediaCodecs: ROOM_CODECS });
    r.routers.set(slot, router);
    const made = router;
    made.then((x) => x.observer.once('close', () => {
      if (r.routers.get(slot) === made) r.routers.delete(slot);
      for (const k of [...r.piped.keys()]) if (k.endsWith(`/${slot.index}`)) r.piped.delete(k);
      for (const s of [...r.sessions.values()]) if (s.slot === slot) this.#end(s, 'worker-died');
    }), () => r.routers.delete(slot));
    return made;
  }

  /** place picks where a new viewer of a room receives: the least loaded worker, the room's router on it. */
  async place(room: string): Promise<Placement> {
    const r = this.#rooms.get(room);
    if (!r) throw new RoomMediaError('not-found', 'nothing is sent in this room now');
    let slot: WorkerSlot;
    try {
      slot = this.#pool.pick();
    } catch {
      slot = r.slot;
    }
    // The room's own worker unless another is less loaded by more than a viewer's worth.
    if (slot !== r.slot && this.#pool.slot(r.slot.index) === r.slot && r.slot.load <= slot.load + 2) slot = r.slot;
    const router = await this.#routerOn(r, slot);
    const first = await r.router;
    return {
      slot, router,
      take: async (producerId: string) => {
        if (router === first) return;
        const key = `${producerId}/${slot.index}`;
        let piped = r.piped.get(key);
        if (!piped) {
          piped = first.pipeToRouter({ producerId, router, enableRtx: true }).then(() => undefined);
          r.piped.set(key, piped);
          piped.catch(() => { if (r.piped.get(key) === piped) r.piped.delete(key); });
        }
        await piped;
      },
    };
  }

  /** sendRouter is the room's first router, where its publications are (made with the room). */
  async sendRouter(room: string): Promise<ms.Router> {
    return this.#room(room).router;
  }

  async #transport(slot: WorkerSlot, router: ms.Router): Promise<ms.WebRtcTransport> {
    if (this.#sessions.size >= this.#maxSessions) throw new RoomMediaError('capacity', `this node already holds ${this.#sessions.size} room sessions`);
    return router.createWebRtcTransport({ webRtcServer: slot.server, enableUdp: this.#pool.udp, enableTcp: true, preferUdp: this.#pool.udp, initialAvailableOutgoingBitrate: 1_500_000 });
  }

  #track(s: Session, r: Room): void {
    this.#sessions.set(s.id, s);
    r.sessions.set(s.id, s);
    s.transport.on('dtlsstatechange', (state) => { if (state === 'failed' || state === 'closed') this.#end(s, 'disconnected'); });
    s.transport.observer.once('close', () => this.#end(s, 'closed'));
  }

  /** publish takes a participant's sending offer: her earlier publication ends, the new one's producers begin. */
  async publish(room: string, participant: string, offerText: string, source: Source = 'camera'): Promise<{ id: string; answer: string; kinds: Array<'audio' | 'video'> }> {
    const r = this.#room(room);
    const router = await r.router;
    const offer = parsePublish(offerText, router.rtpCapabilities);
    if (source === 'screen' && offer.sections.some((x) => x.kind !== 'video')) throw new RoomMediaError('bad-request', 'a shared screen is one video section');
    for (const old of [...r.sessions.values()]) if (old.participant === participant && old.direction === 'send' && old.source === source) this.#end(old, 'left');
    const transport = await this.#transport(r.slot, router);
    const s: Session = { id: randomBytes(16).toString('base64url'), room, participant, direction: 'send', source, transport, producers: [], consumers: [], slot: r.slot };
    this.#track(s, r);
    try {
      await transport.connect({ dtlsParameters: offer.dtlsParameters });
      for (const section of offer.sections) {
        s.producers.push(await transport.produce({ kind: section.kind, rtpParameters: section.rtpParameters, appData: { participant } }));
      }
    } catch (err) {
      this.#end(s, 'closed');
      if (err instanceof SdpError) throw err;
      throw new RoomMediaError('bad-request', `the offer cannot be received: ${(err as Error).message}`);
    }
    const answer = writePublishAnswer(offer, transport, offer.sections.map((x) => x.mid));
    const kinds = s.producers.map((p) => p.kind);
    this.#recorders.get(room)?.add(s.id, source === 'screen' ? `${participant}-screen` : participant, router, s.producers).catch((err: Error) => this.emit('recordingFault', { room, message: err.message }));
    this.emit('publishing', { room, participant, kinds });
    return { id: s.id, answer, kinds };
  }

  /** subscribe takes a receiving offer for what `from` sends (her audio and video, each to the offer's first section of its kind). */
  async subscribe(room: string, participant: string, from: string, offerText: string, what: Source = 'camera', quality: Quality = 'high'): Promise<{ id: string; answer: string }> {
    const r = this.#rooms.get(room);
    const source = r ? [...r.sessions.values()].find((x) => x.participant === from && x.direction === 'send' && x.source === what) : undefined;
    if (!r || !source) throw new RoomMediaError('not-found', `${from} sends nothing in this room now`);
    const offer = parseOffer(offerText);
    // A participant receiving the same source again (her network dropped and her page made a new connection) ends the old one.
    for (const old of [...r.sessions.values()]) if (old.direction === 'receive' && old.participant === participant && old.from === from && old.source === what) this.#end(old, 'left');
    const place = await this.place(room);
    const router = place.router;
    const transport = await this.#transport(place.slot, router);
    const s: Session = { id: randomBytes(16).toString('base64url'), room, participant, from, direction: 'receive', source: what, transport, producers: [], consumers: [], slot: place.slot };
    this.#track(s, r);
    const answered: AnswerConsumer[] = [];
    try {
      await transport.connect({ dtlsParameters: offer.dtlsParameters });
      const free = offer.sections.filter((x) => x.receives);
      for (const p of source.producers) {
        const section = free.find((x) => x.kind === p.kind && !answered.some((a) => a.mid === x.mid));
        if (!section) continue;
        await place.take(p.id);
        if (!router.canConsume({ producerId: p.id, rtpCapabilities: offer.rtpCapabilities })) continue;
        // A simulcast sender: the layer the viewer's tile needs (360p in a grid of many, 720p large), lower when her bandwidth falls.
        const layers = p.rtpParameters.encodings?.length ?? 1;
        const spatialLayer = Math.min(layers - 1, QUALITY_LAYER[quality]);
        const c = await transport.consume({ producerId: p.id, rtpCapabilities: offer.rtpCapabilities, mid: section.mid, ...(p.kind === 'video' && layers > 1 ? { preferredLayers: { spatialLayer } } : {}) });
        s.consumers.push(c);
        place.slot.load++;
        c.observer.once('close', () => { if (s.consumers.every((x) => x.closed)) this.#end(s, 'left'); });
        answered.push({ mid: section.mid, kind: p.kind, rtpParameters: c.rtpParameters });
        if (p.kind === 'video') await c.requestKeyFrame().catch(() => undefined);
      }
    } catch (err) {
      this.#end(s, 'closed');
      throw new RoomMediaError('bad-request', `the offer cannot be served: ${(err as Error).message}`);
    }
    if (answered.length === 0) {
      this.#end(s, 'closed');
      throw new RoomMediaError('bad-request', 'the browser takes none of the codecs this participant sends');
    }
    return { id: s.id, answer: writeAnswer(offer, { iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters, remoteRole: offer.dtlsParameters.role! }, answered, `room-${s.id.slice(0, 8)}`, `p-${from}`) };
  }

  /** session says who a session belongs to, or undefined once it ended. */
  session(id: string): Pick<Session, 'id' | 'room' | 'participant' | 'direction' | 'from' | 'source'> | undefined {
    const s = this.#sessions.get(id);
    return s ? { id: s.id, room: s.room, participant: s.participant, direction: s.direction, from: s.from, source: s.source } : undefined;
  }

  /** publishing lists who sends in a room, and what. */
  publishing(room: string, source: Source = 'camera'): Array<{ participant: string; kinds: Array<'audio' | 'video'> }> {
    const r = this.#rooms.get(room);
    return r ? [...r.sessions.values()].filter((s) => s.direction === 'send' && s.source === source).map((s) => ({ participant: s.participant, kinds: s.producers.map((p) => p.kind) })) : [];
  }

  /** workersOf lists the workers (their indices) a room's sessions are on now, each once, in order. */
  workersOf(room: string): number[] {
    const r = this.#rooms.get(room);
    return [...new Set([...(r?.sessions.values() ?? [])].map((s) => s.slot.index))].sort((a, b) => a - b);
  }

  /** layersSent lists the simulcast layers (rids) a participant's camera sends now, with their bitrates (bits/s). */
  async layersSent(room: string, participant: string): Promise<Array<{ rid: string; bitrate: number }>> {
    const s = [...(this.#rooms.get(room)?.sessions.values() ?? [])].find((x) => x.participant === participant && x.direction === 'send' && x.source === 'camera');
    const video = s?.producers.find((p) => p.kind === 'video');
    if (!video) return [];
    return (await video.getStats()).filter((x) => x.rid).map((x) => ({ rid: x.rid!, bitrate: x.bitrate }));
  }

  /** receiving lists whom a participant receives now (her receive sessions alive on the gateway). */
  receiving(room: string, participant: string): string[] {
    const r = this.#rooms.get(room);
    // A shared screen received is said as "<participant>:screen".
    return r ? [...r.sessions.values()].filter((s) => s.participant === participant && s.direction === 'receive').map((s) => (s.source === 'screen' ? `${s.from!}:screen` : s.from!)) : [];
  }

  /** setAudio pauses (false) or resumes a participant's microphone for everyone (the host's mute). */
  async setAudio(room: string, participant: string, on: boolean): Promise<number> {
    let n = 0;
    for (const s of this.#rooms.get(room)?.sessions.values() ?? []) {
      if (s.participant !== participant || s.direction !== 'send') continue;
      for (const p of s.producers) if (p.kind === 'audio') { await (on ? p.resume() : p.pause()); n++; }
    }
    return n;
  }

  /**
   * startRecording records the room into dir from now on: every publication now and to come gets its own track file
   * (room-recorder.ts) until stopRecording, which returns the tracks for composing.
   */
  async startRecording(room: string, opts: { dir: string; ffmpegPath: string; log?: (msg: string) => void }): Promise<number> {
    if (this.#recorders.has(room)) throw new RoomMediaError('bad-request', 'this room is being recorded already');
    const rec = new RoomRecorder({ dir: opts.dir, ffmpegPath: opts.ffmpegPath, ...(opts.log ? { log: opts.log } : {}) });
    this.#recorders.set(room, rec);
    const r = this.#rooms.get(room);
    const router = r ? await r.router.catch(() => undefined) : undefined;
    for (const s of r && router ? [...r.sessions.values()] : []) {
      if (s.direction === 'send') await rec.add(s.id, s.source === 'screen' ? `${s.participant}-screen` : s.participant, router!, s.producers).catch((err: Error) => this.emit('recordingFault', { room, message: err.message }));
    }
    return rec.startedAt;
  }

  /**
   * recordCamera writes a camera brought into a room (its frame bus: the media core's one pull) into the room's
   * recording as a track of its own; false when the room is not being recorded or the camera has no picture yet.
   */
  recordCamera(room: string, camera: string, bus: FrameBus): boolean {
    return this.#recorders.get(room)?.addBus(`camera:${camera}`, camera, bus) ?? false;
  }

  /** endCamera finishes a camera's track (it left the room). */
  async endCamera(room: string, camera: string): Promise<void> {
    await this.#recorders.get(room)?.end(`camera:${camera}`);
  }

  /** recording says whether a room is being recorded (since when), or undefined. */
  recording(room: string): number | undefined {
    return this.#recorders.get(room)?.startedAt;
  }

  /** stopRecording ends a room's recording: every track file is finished and listed. */
  async stopRecording(room: string): Promise<{ durationMs: number; tracks: TrackFile[] }> {
    const rec = this.#recorders.get(room);
    if (!rec) throw new RecorderError('this room is not being recorded');
    this.#recorders.delete(room);
    return rec.stop();
  }

  /** leave ends one session. */
  leave(id: string): boolean {
    const s = this.#sessions.get(id);
    if (!s) return false;
    this.#end(s, 'left');
    return true;
  }

  /** removeParticipant ends every session of a participant in a room (removed, or gone). */
  removeParticipant(room: string, participant: string): number {
    const r = this.#rooms.get(room);
    let n = 0;
    for (const s of [...(r?.sessions.values() ?? [])]) {
      if (s.participant === participant || s.from === participant) { this.#end(s, 'closed'); n++; }
    }
    return n;
  }

  /** closeRoom ends a room's sessions and its router. */
  closeRoom(room: string): void {
    const r = this.#rooms.get(room);
    if (!r) return;
    this.#rooms.delete(room);
    for (const s of [...r.sessions.values()]) this.#end(s, 'closed');
    for (const router of r.routers.values()) void router.then((x) => x.close(), () => undefined);
  }

  #end(s: Session, reason: 'left' | 'disconnected' | 'worker-died' | 'closed'): void {
    if (!this.#sessions.delete(s.id)) return;
    s.slot.load = Math.max(0, s.slot.load - s.consumers.length);
    this.#rooms.get(s.room)?.sessions.delete(s.id);
    if (!s.transport.closed) s.transport.close();
    if (s.direction === 'send') {
      void this.#recorders.get(s.room)?.end(s.id);
      // Her producers, piped to other workers, are piped no more (their pipe producers closed with them).
      const piped = this.#rooms.get(s.room)?.piped;
      for (const k of [...(piped?.keys() ?? [])]) if (s.producers.some((p) => k.startsWith(`${p.id}/`))) piped!.delete(k);
      // Those receiving her end with her publication.
      for (const other of [...(this.#rooms.get(s.room)?.sessions.values() ?? [])]) if (other.from === s.participant && other.source === s.source) this.#end(other, reason === 'worker-died' ? reason : 'closed');
      if (s.source === 'camera') this.emit('publishing', { room: s.room, participant: s.participant, kinds: [] });
    }
    this.emit('ended', { room: s.room, session: s.id, participant: s.participant, reason });
  }

  close(): void {
    for (const room of [...this.#rooms.keys()]) this.closeRoom(room);
  }
}
