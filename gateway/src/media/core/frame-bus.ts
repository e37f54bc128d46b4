// The frame bus of one (camera, profile): access units from one upstream pull, handed to every output (HLS today,
// WebRTC, FLV, the wall and the rooms next). A GOP cache from the last keyframe lets a new consumer start at once with
// a decodable picture; each queued consumer is bounded, and a slow one skips to the next keyframe or is dropped.
import { EventEmitter } from 'node:events';
import type { AccessUnit, TrackParams } from './access-unit.js';

/** BusLimits bound what the bus and each consumer hold. */
export interface BusLimits {
  /** gopBytes bounds the GOP cache; a GOP longer than this is not cached past it (consumers then wait for a keyframe). */
  gopBytes: number;
  /** queueBytes bounds one consumer's queue. */
  queueBytes: number;
  /** maxSkips is how many skips to the next keyframe a consumer is allowed within skipWindowMs before it is dropped. */
  maxSkips: number;
  skipWindowMs: number;
}

export const DEFAULT_BUS_LIMITS: BusLimits = { gopBytes: 24 * 1024 * 1024, queueBytes: 8 * 1024 * 1024, maxSkips: 3, skipWindowMs: 30_000 };

/** BusEvents tell consumers of changes that are not access units. */
export interface BusEvents {
  /** params: a track's codec parameters are new or changed (a resolution change mid-stream). */
  params: [track: number, params: TrackParams];
  /** restart: the upstream began again (reconnect, camera reboot): timestamps start over. */
  restart: [];
  /** unit: every access unit, as it is published (synchronous consumers listen here). */
  unit: [AccessUnit];
  end: [];
}

/** BusTrack is one track on the bus. */
export interface BusTrack {
  index: number;
  params: TrackParams;
}

/** ConsumerEnd says why a queued consumer ended. */
export type ConsumerEnd = 'closed' | 'slow' | 'bus-ended';

/**
 * Consumer is a queued reader of a bus. It starts at the cached GOP's keyframe (or waits for the next one). read()
 * takes what is queued; onReadable is called when the queue goes from empty to not empty.
 */
export class Consumer {
  readonly id: number;
  #bus: FrameBus;
  #queue: AccessUnit[] = [];
  #head = 0;
  #bytes = 0;
  #waitKey = true;
  #skips: number[] = [];
  #ended: ConsumerEnd | undefined;
  /** skipped counts access units left out because the consumer fell behind. */
  skipped = 0;
  onReadable?: () => void;
  onEnd?: (why: ConsumerEnd) => void;

  constructor(bus: FrameBus, id: number) {
    this.#bus = bus;
    this.id = id;
  }

  get ended(): ConsumerEnd | undefined {
    return this.#ended;
  }

  /** queuedBytes is what waits in the queue now. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** read returns the next access unit, or undefined when none waits. */
  read(): AccessUnit | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const au = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as AccessUnit;
    this.#bytes -= au.data.length;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return au;
  }

  close(): void {
    this.#end('closed');
  }

  /** offer is the bus handing an access unit over. */
  offer(au: AccessUnit, video: boolean, now: number): void {
    if (this.#ended) return;
    if (this.#waitKey) {
      // Audio before the first picture would start the output on sound alone: it waits with the picture.
      if (!(video && au.key)) return;
      this.#waitKey = false;
    }
    if (this.#bytes + au.data.length > this.#bus.limits.queueBytes) {
      // Behind by more than the queue may hold: what is queued is dropped and the consumer goes on at the next keyframe.
      this.#skips = this.#skips.filter((t) => now - t < this.#bus.limits.skipWindowMs);
      this.#skips.push(now);
      this.skipped += this.queued + 1;
      this.#queue = [];
      this.#head = 0;
      this.#bytes = 0;
      if (this.#skips.length > this.#bus.limits.maxSkips) return this.#end('slow');
      this.#waitKey = true;
      if (video && au.key) this.#waitKey = false;
      else return;
    }
    const wasEmpty = this.queued === 0;
    this.#queue.push(au);
    this.#bytes += au.data.length;
    if (wasEmpty) this.onReadable?.();
  }

  /** restartAtKey makes the consumer wait for a keyframe again (the upstream restarted). */
  restartAtKey(): void {
    this.#waitKey = true;
  }

  end(why: ConsumerEnd): void {
    this.#end(why);
  }

  #end(why: ConsumerEnd): void {
    if (this.#ended) return;
    this.#ended = why;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#bus.detach(this);
    this.onEnd?.(why);
  }
}

/** FrameBus carries the access units of one stream's tracks. */
export class FrameBus extends EventEmitter<BusEvents> {
  readonly limits: BusLimits;
  #tracks: BusTrack[] = [];
  #video = -1;
  #gop: AccessUnit[] = [];
  #gopBytes = 0;
  /** gopComplete is false when the GOP outgrew the cache: it no longer starts with its keyframe and is not offered. */
  #gopComplete = false;
  #consumers = new Set<Consumer>();
  #nextId = 1;
  #ended = false;
  /** units counts what was published. */
  units = 0;
  /** run counts upstream starts (1 for the first). */
  run = 0;

  constructor(limits: Partial<BusLimits> = {}) {
    super();
    this.limits = { ...DEFAULT_BUS_LIMITS, ...limits };
    this.setMaxListeners(0);
  }

  get tracks(): readonly BusTrack[] {
    return this.#tracks;
  }

  /** videoTrack is the index of the video track, or -1. */
  get videoTrack(): number {
    return this.#video;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** consumers counts the queued consumers attached now. */
  get consumers(): number {
    return this.#consumers.size;
  }

  /** hasKeyframe says whether a consumer would start at once (the cache holds a GOP from its keyframe). */
  get hasKeyframe(): boolean {
    return this.#gopComplete && this.#gop.length > 0;
  }

  /** gopCache returns the cached GOP, from its keyframe, or nothing when the cache holds none. */
  gopCache(): readonly AccessUnit[] {
    return this.#gopComplete ? this.#gop : [];
  }

  /** lastKeyframe returns the cached keyframe (snapshots decode it), or undefined. */
  lastKeyframe(): { unit: AccessUnit; params: TrackParams } | undefined {
    if (!this.#gopComplete) return undefined;
    const key = this.#gop.find((u) => u.track === this.#video && u.key);
    return key ? { unit: key, params: this.#tracks[this.#video]!.params } : undefined;
  }

  /** begin starts a run of the upstream: tracks as described; a run after the first is a restart. */
  begin(params: TrackParams[]): void {
    this.run++;
    const restart = this.run > 1;
    this.#tracks = params.map((p, index) => ({ index, params: p }));
    this.#video = params.findIndex((p) => p.kind === 'video');
    this.#gop = [];
    this.#gopBytes = 0;
    this.#gopComplete = false;
    if (restart) {
      for (const c of this.#consumers) c.restartAtKey();
      this.emit('restart');
    }
  }

  /** setParams changes a track's codec parameters (in-band parameter sets that differ). */
  setParams(track: number, params: TrackParams): void {
    const t = this.#tracks[track];
    if (!t) throw new RangeError(`no track ${track} on the bus`);
    t.params = params;
    this.emit('params', track, params);
  }

  publish(au: AccessUnit): void {
    if (this.#ended) return;
    const video = au.track === this.#video;
    this.units++;
    if (video && au.key) {
      this.#gop = [];
      this.#gopBytes = 0;
      this.#gopComplete = true;
    }
    if (this.#gopComplete) {
      if (this.#gopBytes + au.data.length > this.limits.gopBytes) {
        this.#gop = [];
        this.#gopBytes = 0;
        this.#gopComplete = false;
      } else {
        this.#gop.push(au);
        this.#gopBytes += au.data.length;
      }
    }
    this.emit('unit', au);
    const now = Date.now();
    for (const c of this.#consumers) c.offer(au, video, now);
  }

  /** subscribe attaches a queued consumer; it gets the cached GOP first, so it starts at a keyframe at once. */
  subscribe(): Consumer {
    if (this.#ended) throw new Error('the bus has ended');
    const c = new Consumer(this, this.#nextId++);
    const now = Date.now();
    for (const au of this.gopCache()) c.offer(au, au.track === this.#video, now);
    this.#consumers.add(c);
    return c;
  }

  /** detach is a consumer leaving. */
  detach(c: Consumer): void {
    this.#consumers.delete(c);
  }

  /** end closes the bus: consumers end, nothing more is published. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const c of [...this.#consumers]) c.end('bus-ended');
    this.#gop = [];
    this.#gopBytes = 0;
    this.emit('end');
  }
}
