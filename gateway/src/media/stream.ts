// One (camera, profile) stream: a shared pull with viewers, a state, retries with backoff and an idle linger.
import { EventEmitter } from 'node:events';
import type { Profile, StreamSourceSpec } from '../../../adapters/core/types.js';
import { fullJitterDelay, type BackoffOptions } from './backoff.js';
import type { ExitKind, Pipeline, PipelineExit } from './pipeline.js';
import type { TrackInfo } from './camera-input.js';

/** StreamState is what a viewer sees on a tile's badge. */
export type StreamState = 'starting' | 'live' | 'offline' | 'failed' | 'stopped';

/** StreamInfo is a stream's state as the API shows it. */
export interface StreamInfo {
  camera: string;
  profile: Profile;
  state: StreamState;
  viewers: number;
  since: number;
  startedAt?: number;
  liveAt?: number;
  attempts: number;
  retryAt?: number;
  error?: { kind: ExitKind; message: string };
  frames?: number;
  fps?: number;
  /** transport is how the camera's RTP arrives (tcp: in the RTSP connection, udp). */
  transport?: 'tcp' | 'udp';
  /** tracks say what the camera sends and what of it this stream carries. */
  tracks?: TrackInfo[];
}

/** ViewerRef names who watches: one login session (key), its user and the user's unit, for each one's fair share. */
export interface ViewerRef {
  key: string;
  user: string;
  unit: string;
}

/** StreamEvents are emitted on every state change. */
export interface StreamEvents {
  state: [StreamInfo];
}

/** StreamDeps are what a stream needs from its hub. */
export interface StreamDeps {
  resolveSource: () => Promise<StreamSourceSpec>;
  /** startGate resolves when this stream may spawn its pipeline. */
  startGate: () => Promise<void>;
  createPipeline: (source: StreamSourceSpec, runId: number) => Pipeline;
  backoff: BackoffOptions;
  /** viewerWindowMs is how long a viewer counts after its last request. */
  viewerWindowMs: number;
  onError?: (err: unknown) => void;
}

/** STABLE_MS is how long a run must stay live before its failure counts as a first failure again. */
const STABLE_MS = 30_000;

/** Stream drives one pipeline at a time. */
export class Stream extends EventEmitter<StreamEvents> {
  readonly camera: string;
  readonly profile: Profile;
  #deps: StreamDeps;
  #state: StreamState = 'starting';
  #since = Date.now();
  #viewers = new Map<string, { at: number; user: string; unit: string }>();
  #lastAccess = Date.now();
  #holds = 0;
  #pipeline?: Pipeline;
  #runId = 0;
  #attempts = 0;
  #retryTimer?: NodeJS.Timeout;
  #retryAt?: number;
  #startedAt?: number;
  #liveAt?: number;
  #error?: { kind: ExitKind; message: string };
  /** tracks are those of the last run, kept while a retry is pending. */
  #tracks?: TrackInfo[];
  #closed = false;

  constructor(camera: string, profile: Profile, deps: StreamDeps) {
    super();
    this.camera = camera;
    this.profile = profile;
    this.#deps = deps;
  }

  get state(): StreamState {
    return this.#state;
  }

  get lastAccess(): number {
    return this.#lastAccess;
  }

  /** pipeline is the current run, for serving its files. */
  get pipeline(): Pipeline | undefined {
    return this.#pipeline;
  }

  /** touch records a viewer's request. */
  touch(viewer: ViewerRef, now = Date.now()): void {
    this.#lastAccess = now;
    this.#viewers.set(viewer.key, { at: now, user: viewer.user, unit: viewer.unit });
  }

  /**
   * hold marks someone waiting on the stream (a playlist request waiting for it to go live): a held stream is in use
   * however long its start takes. The returned release counts as an access.
   */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#lastAccess = Date.now();
    };
  }

  /** held says whether a request waits on the stream now. */
  get held(): boolean {
    return this.#holds > 0;
  }

  /** viewers counts distinct viewers seen within the viewer window. */
  viewers(now = Date.now()): number {
    for (const [v, e] of this.#viewers) if (now - e.at > this.#deps.viewerWindowMs) this.#viewers.delete(v);
    return this.#viewers.size;
  }

  /** watchedBy says whether a user, or a unit's users, watched the stream within the viewer window. */
  watchedBy(who: { user?: string; unit?: string }, now = Date.now()): boolean {
    for (const e of this.#viewers.values()) {
      if (now - e.at > this.#deps.viewerWindowMs) continue;
      if ((who.user !== undefined && e.user === who.user) || (who.unit !== undefined && e.unit === who.unit)) return true;
    }
    return false;
  }

  info(): StreamInfo {
    const stats = this.#pipeline?.stats();
    return {
      camera: this.camera, profile: this.profile, state: this.#state, viewers: this.viewers(), since: this.#since,
      startedAt: this.#startedAt, liveAt: this.#liveAt, attempts: this.#attempts, retryAt: this.#retryAt, error: this.#error,
      frames: stats?.frames, fps: stats?.fps, transport: stats?.transport, tracks: stats?.tracks ?? this.#tracks,
    };
  }

  /** start begins the first run; later runs follow failures with backoff. */
  start(): void {
    if (this.#closed) throw new Error(`stream ${this.camera}/${this.profile} is closed`);
    if (this.#pipeline || this.#retryTimer) return;
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#retryTimer = undefined;
    this.#retryAt = undefined;
    if (this.#closed) return;
    this.#set('starting');
    let source: StreamSourceSpec;
    try {
      source = await this.#deps.resolveSource();
    } catch (err) {
      this.#failed({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
      return;
    }
    await this.#deps.startGate();
    if (this.#closed) return;
    const pipeline = this.#deps.createPipeline(source, ++this.#runId);
    this.#pipeline = pipeline;
    this.#startedAt = Date.now();
    pipeline.on('live', () => {
      if (this.#pipeline !== pipeline) return;
      this.#liveAt = Date.now();
      this.#error = undefined;
      this.#set('live');
    });
    pipeline.on('exit', (exit) => {
      if (this.#pipeline !== pipeline) return;
      this.#tracks = pipeline.stats().tracks ?? this.#tracks;
      this.#pipeline = undefined;
      const wasStable = this.#liveAt !== undefined && this.#liveAt >= (this.#startedAt ?? 0) && Date.now() - this.#liveAt > STABLE_MS;
      void pipeline.stop().catch((err: unknown) => this.#deps.onError?.(err));
      if (exit.kind === 'stopped' || this.#closed) return;
      if (wasStable) this.#attempts = 0;
      this.#failed(exit);
    });
    pipeline.start();
  }

  #failed(exit: PipelineExit): void {
    this.#error = { kind: exit.kind, message: exit.message };
    const delay = fullJitterDelay(this.#attempts++, this.#deps.backoff);
    this.#retryAt = Date.now() + delay;
    this.#set(exit.kind === 'offline' || exit.kind === 'stalled' ? 'offline' : 'failed');
    this.#retryTimer = setTimeout(() => void this.#run(), delay);
  }

  #set(state: StreamState): void {
    if (this.#state !== state) this.#since = Date.now();
    this.#state = state;
    this.emit('state', this.info());
  }

  /** retryNow tries a stream waiting out its backoff at once (a pushing device came back). */
  retryNow(): void {
    if (this.#closed || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#run();
  }

  /** close stops the stream for good; it is idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const p = this.#pipeline;
    this.#pipeline = undefined;
    await p?.stop();
    this.#set('stopped');
  }
}
