// The health monitor: sweeps every camera with a cheap probe on a schedule, never a stream pull, and keeps the online
// rate of every unit. Failing devices back off (full jitter) so that dead ones do not eat the sweep.
import { EventEmitter, setMaxListeners } from 'node:events';
import type { OrgTree } from '../access/org-tree.js';
import { fullJitterDelay } from '../media/backoff.js';
import { OnlineRates, type Liveness, type UnitHealth } from './online-rates.js';

/** CameraHealth is what the monitor knows of one camera. */
export interface CameraHealth {
  unit: string;
  state: Liveness;
  /** since is when the current state began (0 while unknown). */
  since: number;
  /** checkedAt is the time of the last probe (0 before the first). */
  checkedAt: number;
  latencyMs?: number;
  /** reason says, for an offline camera, what the last probe met; reasonKind is its stable kind (ProbeFailureKind). */
  reason?: string;
  reasonKind?: string;
  /** failures counts consecutive failed probes. */
  failures: number;
  /** nextDue is the earliest time the next probe may run: later than now while a failing device backs off. */
  nextDue: number;
  /** credentials says whether the camera accepts the stored credentials (an online camera may refuse them). */
  credentials: CredentialState;
  /**
   * credentialsAt is when they were last tried (0: never). credentialsDue, when not 0, asks for a try at the next
   * sweep: the time the camera was added or changed (the latest go first), 1 for one never tried.
   */
  credentialsAt: number;
  credentialsDue: number;
  credentialsReason?: string;
}

/** CredentialState is what the last authenticated request to a camera said of its stored credentials. */
export type CredentialState = 'unknown' | 'accepted' | 'rejected';

/** CredentialChange is a camera's credentials found accepted or rejected where they were otherwise. */
export interface CredentialChange {
  camera: string;
  unit: string;
  result: 'accepted' | 'rejected';
  /** from is what was known before (unknown: never tried since the camera was added). */
  from: CredentialState;
  at: number;
  reason?: string;
}

/** CredentialCheck tries the stored credentials (an authenticated request); 'unknown' when it could not tell. */
export type CredentialCheck = (camera: string, signal: AbortSignal) => Promise<{ result: CredentialState; reason?: string }>;

/** Transition is a camera going online or offline. */
export interface Transition {
  camera: string;
  unit: string;
  state: 'online' | 'offline';
  /** from is the state before (unknown: the camera's first probe). */
  from: Liveness;
  at: number;
  reason?: string;
  reasonKind?: string;
}

/** SavedHealth is a camera's state as the store kept it across a restart. */
export interface SavedHealth {
  state: 'online' | 'offline' | 'unknown';
  since: number;
  reason?: string;
  reasonKind?: string;
  credentials?: 'accepted' | 'rejected';
  credentialsAt?: number;
  credentialsReason?: string;
}

/** PROBE_FAILURE_KINDS are the stable kinds of a failed probe, which the console says in the user's words. */
export const PROBE_FAILURE_KINDS = ['unreachable', 'timeout', 'unauthorized', 'not-found', 'refused', 'protocol', 'fault', 'unsupported', 'no-address', 'not-pushing', 'other'] as const;
export type ProbeFailureKind = (typeof PROBE_FAILURE_KINDS)[number];

/** ProbeFailed is a failed probe: its kind, and in its message what the device did (never its address). */
export class ProbeFailed extends Error {
  override name = 'ProbeFailed';
  readonly kind: ProbeFailureKind;

  constructor(kind: string, message: string) {
    super(message);
    this.kind = (PROBE_FAILURE_KINDS as readonly string[]).includes(kind) ? kind as ProbeFailureKind : 'other';
  }
}

/** HealthProbe checks one camera; it resolves when the device answered and rejects (with the reason) when not. */
export type HealthProbe = (camera: string, signal: AbortSignal) => Promise<{ latencyMs: number }>;

/** HealthRecorder keeps transitions (the store); record receives them in batches. */
export interface HealthRecorder {
  record(transitions: Transition[]): void;
  /** recordCredentials keeps changes of cameras' credential state. */
  recordCredentials?(changes: CredentialChange[]): void;
}

/** SweepReport describes one sweep. */
export interface SweepReport {
  startedAt: number;
  durationMs: number;
  /** cameras whose turn it was (not backing off). */
  due: number;
  /** probes sent, retries included. */
  probes: number;
  /** cameras a live stream proved online without a probe. */
  streaming: number;
  /** cameras skipped because they are backing off. */
  backingOff: number;
  /** credentialChecks counts the authenticated requests made to try stored credentials. */
  credentialChecks: number;
  online: number;
  offline: number;
  transitions: number;
  /** cancelled is true when stop() cut the sweep short. */
  cancelled: boolean;
}

/** HealthMonitorOptions configure the monitor. */
export interface HealthMonitorOptions {
  intervalMs: number;
  /** concurrency bounds the probes in flight. */
  concurrency: number;
  /** retryDelayMs: a camera whose probe failed is probed again at the end of the sweep, at least this much later, before it counts as offline. */
  retryDelayMs: number;
  /** backoffMaxMs caps how long a failing device may wait between probes (the base is one interval). */
  backoffMaxMs: number;
  probe: HealthProbe;
  /** isStreaming says whether a live stream of the camera is flowing, which proves it online without a probe. */
  isStreaming?: (camera: string) => boolean;
  recorder?: HealthRecorder;
  /**
   * credentials, when set, tries each reachable camera's stored credentials: at the first sweep after it is added or
   * changed (markCredentialsDue), and again every intervalMs, a share of the cameras per sweep.
   */
  credentials?: { check: CredentialCheck; intervalMs: number };
  now?: () => number;
  random?: () => number;
}

/**
 * HealthMonitor owns the liveness of every camera. Events: 'transition' (Transition), 'sweep' (SweepReport),
 * 'error' (a recorder failure: the monitor keeps running).
 */
export class HealthMonitor extends EventEmitter {
  #opts: HealthMonitorOptions;
  #now: () => number;
  #cameras = new Map<string, CameraHealth>();
  #rates: OnlineRates;
  #root: string;
  #pending: Transition[] = [];
  #pendingCredentials: CredentialChange[] = [];
  #abort = new AbortController();
  #loop?: Promise<void>;
  #wake?: () => void;
  #lastSweep?: SweepReport;
  #current: Promise<void> = Promise.resolve();
  #sweeps = 0;
  #probes = { ok: 0, failed: 0 };

  constructor(tree: OrgTree, opts: HealthMonitorOptions) {
    super();
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#rates = new OnlineRates(tree);
    this.#root = tree.root.code;
    // Every probe in flight listens to the one abort signal.
    setMaxListeners(0, this.#abort.signal);
  }

  /** add starts watching a camera of unit, from its saved state if the store had one. */
  add(camera: string, unit: string, saved?: SavedHealth): void {
    this.remove(camera);
    const h: CameraHealth = {
      unit, state: saved?.state ?? 'unknown', since: saved?.since ?? 0, checkedAt: 0, failures: 0, nextDue: 0, reason: saved?.reason, reasonKind: saved?.reasonKind,
      credentials: saved?.credentials ?? 'unknown', credentialsAt: saved?.credentialsAt ?? 0, credentialsDue: saved?.credentials === undefined ? 1 : 0, credentialsReason: saved?.credentialsReason,
    };
    this.#rates.add(unit, h.state);
    if (h.credentials === 'rejected') this.#rates.rejected(unit, 1);
    this.#cameras.set(camera, h);
  }

  /** markCredentialsDue asks for a camera's credentials to be tried at the next sweep (added or changed). */
  markCredentialsDue(camera: string): void {
    const h = this.#cameras.get(camera);
    if (h) h.credentialsDue = this.#now();
  }

  /**
   * credentialResult records what a request to the camera said of its credentials (a stream that played, or one
   * refused with 401): the sweep's own tries and the streams' answers keep one state.
   */
  credentialResult(camera: string, result: 'accepted' | 'rejected', reason?: string): void {
    const h = this.#cameras.get(camera);
    if (!h) return;
    const now = this.#now();
    h.credentialsAt = now;
    h.credentialsDue = 0;
    if (h.credentials === result) return;
    const from = h.credentials;
    if (h.credentials === 'rejected') this.#rates.rejected(h.unit, -1);
    if (result === 'rejected') this.#rates.rejected(h.unit, 1);
    h.credentials = result;
    h.credentialsReason = result === 'rejected' ? reason : undefined;
    const change: CredentialChange = { camera, unit: h.unit, result, from, at: now, ...(reason && result === 'rejected' ? { reason } : {}) };
    this.#pendingCredentials.push(change);
    this.emit('credentials', change);
  }

  /** remove stops watching a camera. */
  remove(camera: string): void {
    const h = this.#cameras.get(camera);
    if (!h) return;
    this.#rates.remove(h.unit, h.state);
    if (h.credentials === 'rejected') this.#rates.rejected(h.unit, -1);
    this.#cameras.delete(camera);
  }

  get size(): number {
    return this.#cameras.size;
  }

  /** camera returns what is known of one camera. */
  camera(id: string): Readonly<CameraHealth> | undefined {
    return this.#cameras.get(id);
  }

  /** unit returns the counts and online rate of a unit's subtree. */
  unit(code: string): UnitHealth {
    return this.#rates.of(code);
  }

  /** lastSweep is the report of the last finished sweep. */
  get lastSweep(): SweepReport | undefined {
    return this.#lastSweep;
  }

  /** stats are running totals, for metrics. */
  get stats(): { sweeps: number; probesOk: number; probesFailed: number } {
    return { sweeps: this.#sweeps, probesOk: this.#probes.ok, probesFailed: this.#probes.failed };
  }

  /** start runs a sweep now and then one every interval (measured start to start; a slow sweep is followed at once). */
  start(): void {
    if (this.#loop) return;
    this.#loop = (async () => {
      while (!this.#abort.signal.aborted) {
        const started = this.#now();
        await this.sweep();
        const wait = started + this.#opts.intervalMs - this.#now();
        if (wait > 0 && !this.#abort.signal.aborted) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.#wake = () => { clearTimeout(timer); resolve(); };
          });
          this.#wake = undefined;
        }
      }
    })();
  }

  /** stop cancels the sweep under way (probes in flight are aborted) and ends the schedule. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    this.#flush();
  }

  /** sweep probes every camera whose turn it is, with bounded concurrency; a sweep asked for during another runs after it. */
  sweep(): Promise<SweepReport> {
    const run = this.#current.then(() => this.#sweep());
    this.#current = run.then(() => undefined, () => undefined);
    return run;
  }

  async #sweep(): Promise<SweepReport> {
    const signal = this.#abort.signal;
    const startedAt = this.#now();
    const report: SweepReport = { startedAt, durationMs: 0, due: 0, probes: 0, streaming: 0, backingOff: 0, credentialChecks: 0, online: 0, offline: 0, transitions: 0, cancelled: false };
    const due: string[] = [];
    for (const [id, h] of this.#cameras) {
      if (h.nextDue <= startedAt) due.push(id);
      else report.backingOff++;
    }
    report.due = due.length;
    const flusher = setInterval(() => this.#flush(), 1000);
    try {
      const retry: string[] = [];
      await this.#pool(due, signal, async (id) => {
        const outcome = await this.#check(id, signal, report);
        if (outcome === 'failed') retry.push(id);
      });
      const firstPassEnd = this.#now();
      if (retry.length > 0 && !signal.aborted) {
        const wait = startedAt + this.#opts.retryDelayMs - firstPassEnd;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await this.#pool(retry, signal, async (id) => {
          const h = this.#cameras.get(id);
          const outcome = await this.#check(id, signal, report);
          if (outcome === 'failed' && h && this.#cameras.get(id) === h) this.#markOffline(id, h, report);
        });
      }
      if (!signal.aborted) await this.#tryCredentials(signal, report);
    } finally {
      clearInterval(flusher);
      this.#flush();
    }
    report.cancelled = signal.aborted;
    report.durationMs = this.#now() - startedAt;
    const all = this.#rates.of(this.#root);
    report.online = all.online;
    report.offline = all.offline;
    if (!report.cancelled) {
      this.#sweeps++;
      this.#lastSweep = report;
      this.emit('sweep', report);
    }
    return report;
  }

  /** #check probes one camera: 'ok' (online now), 'failed' (to be retried), or 'skipped'. */
  async #check(id: string, signal: AbortSignal, report: SweepReport): Promise<'ok' | 'failed' | 'skipped'> {
    const h = this.#cameras.get(id);
    if (!h || signal.aborted) return 'skipped';
    if (this.#opts.isStreaming?.(id)) {
      report.streaming++;
      this.#markOnline(id, h, report);
      return 'ok';
    }
    report.probes++;
    try {
      const r = await this.#opts.probe(id, signal);
      this.#probes.ok++;
      if (this.#cameras.get(id) !== h) return 'skipped';
      h.latencyMs = r.latencyMs;
      this.#markOnline(id, h, report);
      return 'ok';
    } catch (err) {
      if (signal.aborted) return 'skipped';
      this.#probes.failed++;
      h.checkedAt = this.#now();
      h.reason = err instanceof Error ? err.message : String(err);
      h.reasonKind = err instanceof ProbeFailed ? err.kind : 'other';
      return 'failed';
    }
  }

  /**
   * #tryCredentials tries the stored credentials of reachable cameras: those added or changed first, then those tried
   * longest ago, as many per sweep as spreads every camera over the credentials interval (at least one pool's worth).
   */
  async #tryCredentials(signal: AbortSignal, report: SweepReport): Promise<void> {
    const c = this.#opts.credentials;
    if (!c) return;
    const now = this.#now();
    const budget = Math.max(this.#opts.concurrency, Math.ceil((this.#cameras.size * this.#opts.intervalMs * 1.5) / c.intervalMs));
    const due = [...this.#cameras].filter(([, h]) => h.state === 'online' && (h.credentialsDue > 0 || now - h.credentialsAt >= c.intervalMs))
      .sort(([, a], [, b]) => b.credentialsDue - a.credentialsDue || a.credentialsAt - b.credentialsAt)
      .slice(0, budget).map(([id]) => id);
    await this.#pool(due, signal, async (id) => {
      const h = this.#cameras.get(id);
      if (!h || signal.aborted) return;
      report.credentialChecks++;
      let r: { result: CredentialState; reason?: string };
      try {
        r = await c.check(id, signal);
      } catch {
        r = { result: 'unknown' };
      }
      if (this.#cameras.get(id) !== h || signal.aborted) return;
      if (r.result === 'unknown') {
        // Not told (the camera timed out between probe and check): tried again at a later sweep.
        h.credentialsDue = 0;
        h.credentialsAt = this.#now() - c.intervalMs + this.#opts.intervalMs * 5;
        return;
      }
      this.credentialResult(id, r.result, r.reason);
    });
  }

  #markOnline(id: string, h: CameraHealth, report: SweepReport): void {
    const now = this.#now();
    h.checkedAt = now;
    h.failures = 0;
    h.nextDue = 0;
    if (h.state !== 'online') {
      this.#transition(id, h, 'online', now, undefined, report);
      h.reason = undefined;
      h.reasonKind = undefined;
    }
  }

  #markOffline(id: string, h: CameraHealth, report: SweepReport): void {
    const now = this.#now();
    h.failures++;
    h.nextDue = now + fullJitterDelay(h.failures - 1, { baseMs: this.#opts.intervalMs, maxMs: this.#opts.backoffMaxMs, random: this.#opts.random });
    if (h.state !== 'offline') this.#transition(id, h, 'offline', now, h.reason, report);
  }

  #transition(id: string, h: CameraHealth, state: 'online' | 'offline', at: number, reason: string | undefined, report: SweepReport): void {
    this.#rates.move(h.unit, h.state, state);
    const from = h.state;
    h.state = state;
    h.since = at;
    report.transitions++;
    const t: Transition = { camera: id, unit: h.unit, state, from, at, ...(reason ? { reason, ...(h.reasonKind ? { reasonKind: h.reasonKind } : {}) } : {}) };
    this.#pending.push(t);
    this.emit('transition', t);
  }

  #flush(): void {
    const batch = this.#pending;
    const credentials = this.#pendingCredentials;
    this.#pending = [];
    this.#pendingCredentials = [];
    const recorder = this.#opts.recorder;
    if (!recorder) return;
    try {
      if (batch.length > 0) recorder.record(batch);
      if (credentials.length > 0) recorder.recordCredentials?.(credentials);
    } catch (err) {
      this.emit('error', err);
    }
  }

  async #pool(ids: string[], signal: AbortSignal, fn: (id: string) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !signal.aborted) await fn(ids[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.#opts.concurrency, ids.length) }, worker));
  }
}
