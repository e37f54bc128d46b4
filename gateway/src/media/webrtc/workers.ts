// mediasoup workers: one per core, each with one WebRtcServer (every viewer's ICE on one UDP and one TCP
// port). A worker that dies is replaced, with a backoff, without restarting the gateway; what ran on it is told so
// that its viewers can reconnect.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { arch } from 'node:process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as ms from 'mediasoup/node/lib/types.js';
import { fullJitterDelay } from '../backoff.js';

/** WorkerOptions configure the pool (media.webrtc in the config). */
export interface WorkerOptions {
  workers: number;
  /** listenIp is where ICE listens; announcedIp what the answer tells browsers (a NAT's public address). */
  listenIp: string;
  announcedIp?: string;
  /** port is the first worker's WebRtcServer port (UDP and TCP); worker i listens on port + i (0: each a free one). */
  port: number;
  /** udp false listens for ICE over TCP alone. */
  udp?: boolean;
  logLevel?: ms.WorkerLogLevel;
}

/** WorkerSlot is one worker with its WebRtcServer and the routers made on it. */
export interface WorkerSlot {
  index: number;
  worker: ms.Worker;
  server: ms.WebRtcServer;
  /** load counts the consumers placed on the slot. */
  load: number;
  /** routers are the slot's routers by codec signature (see routerFor). */
  routers: Map<string, Promise<ms.Router>>;
}

/** codecsKey names a set of router codecs with their payload types (routers and feeds are found by it). */
export function codecsKey(codecs: ms.RtpCodecCapability[]): string {
  return codecs.map((c) => `${c.mimeType}/${c.preferredPayloadType}/${JSON.stringify(c.parameters ?? {})}`).join('|');
}

/**
 * routerFor returns the slot's router for a set of codecs with their payload types, making it the first time. A
 * browser that makes the offer chooses the payload types, and mediasoup sends a consumer's packets with its router's:
 * so each set of payload types in use (one per browser family, as a rule) has its router, fed by its own feeds.
 */
export function routerFor(slot: WorkerSlot, codecs: ms.RtpCodecCapability[]): Promise<ms.Router> {
  const key = codecsKey(codecs);
  let router = slot.routers.get(key);
  if (!router) {
    router = slot.worker.createRouter({ mediaCodecs: codecs });
    slot.routers.set(key, router);
    router.catch(() => slot.routers.delete(key));
  }
  return router;
}

/**
 * workerBinary finds mediasoup's worker: MEDIASOUP_WORKER_BIN, or the one scripts/setup.sh built from source and
 * cached (with its one change: see scripts/build-mediasoup-worker.sh), or mediasoup's own (where its postinstall ran;
 * WebRTC views of the gateway's own producers then need header extension ids the browser happens to share).
 */
export function workerBinary(): string | undefined {
  if (process.env.MEDIASOUP_WORKER_BIN) return process.env.MEDIASOUP_WORKER_BIN;
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('mediasoup/package.json');
  const version = (require(pkgFile) as { version: string }).version;
  const machine = arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : arch;
  const cached = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sharp-eyes', `mediasoup-worker-${version}-${machine}-p1`);
  if (existsSync(cached)) return cached;
  const own = join(dirname(pkgFile), 'worker', 'out', 'Release', 'mediasoup-worker');
  return existsSync(own) ? own : undefined;
}

/** loadMediasoup imports mediasoup with its worker binary set; it throws saying how to build the worker. */
export async function loadMediasoup(): Promise<typeof import('mediasoup')> {
  const bin = workerBinary();
  if (!bin) throw new Error("mediasoup's worker is not built: run `npm run setup` (it builds it from source in about 2 minutes)");
  process.env.MEDIASOUP_WORKER_BIN = bin;
  return import('mediasoup');
}

/** WorkerPoolEvents: a slot's worker died (its routers and transports are gone), or a new one took its place. */
export interface WorkerPoolEvents {
  died: [index: number, error: Error];
  replaced: [WorkerSlot];
}

/** WorkerPool keeps one mediasoup worker per slot running. */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  #opts: WorkerOptions;
  #ms!: typeof import('mediasoup');
  #slots: Array<WorkerSlot | undefined> = [];
  #closed = false;
  #failures: number[] = [];
  #timers = new Set<NodeJS.Timeout>();

  constructor(opts: WorkerOptions) {
    super();
    this.#opts = opts;
  }

  async start(): Promise<void> {
    this.#ms = await loadMediasoup();
    for (let i = 0; i < this.#opts.workers; i++) this.#slots.push(await this.#spawn(i));
  }

  /** slots lists the running slots. */
  get slots(): WorkerSlot[] {
    return this.#slots.filter((s): s is WorkerSlot => s !== undefined);
  }

  /** slot returns slot i when its worker runs. */
  slot(index: number): WorkerSlot | undefined {
    return this.#slots[index];
  }

  /** pick returns the least loaded running slot. */
  pick(): WorkerSlot {
    let best: WorkerSlot | undefined;
    for (const s of this.slots) if (!best || s.load < best.load) best = s;
    if (!best) throw new Error('no mediasoup worker is running (one is being replaced)');
    return best;
  }

  /** ready resolves once a worker runs (at once, unless every one is being replaced), false after timeoutMs. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.slots.length > 0) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((done) => {
      const onReplaced = () => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.off('replaced', onReplaced);
        done(ok);
      };
      this.on('replaced', onReplaced);
    });
  }

  /** udp says whether ICE over UDP is offered. */
  get udp(): boolean {
    return this.#opts.udp !== false;
  }

  /** pids lists the workers' process ids. */
  pids(): number[] {
    return this.slots.map((s) => s.worker.pid);
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    for (const s of this.slots) s.worker.close();
    this.#slots = [];
  }

  async #spawn(index: number): Promise<WorkerSlot> {
    const o = this.#opts;
    const worker = await this.#ms.createWorker({ logLevel: o.logLevel ?? 'error' });
    const port = o.port === 0 ? 0 : o.port + index;
    try {
      const listen = { ip: o.listenIp, ...(o.announcedIp ? { announcedIp: o.announcedIp } : {}), port };
      const server = await worker.createWebRtcServer({ listenInfos: [...(o.udp === false ? [] : [{ protocol: 'udp' as const, ...listen }]), { protocol: 'tcp', ...listen }] });
      const slot: WorkerSlot = { index, worker, server, load: 0, routers: new Map() };
      worker.on('died', (err) => this.#died(slot, err));
      return slot;
    } catch (err) {
      worker.close();
      throw new Error(`mediasoup worker ${index} could not listen on ${o.listenIp}:${port} (media.webrtc.port): ${(err as Error).message}`);
    }
  }

  #died(slot: WorkerSlot, err: Error): void {
    if (this.#slots[slot.index] !== slot) return;
    this.#slots[slot.index] = undefined;
    this.emit('died', slot.index, err);
    if (this.#closed) return;
    const now = Date.now();
    this.#failures = this.#failures.filter((t) => now - t < 60_000);
    this.#failures.push(now);
    // The first replacement is at once; a worker that keeps dying is replaced ever more slowly.
    const delay = this.#failures.length <= 1 ? 0 : fullJitterDelay(this.#failures.length - 1, { baseMs: 500, maxMs: 30_000 });
    const retry = (attempt: number) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (this.#closed) return;
        this.#spawn(slot.index).then((fresh) => {
          if (this.#closed) return fresh.worker.close();
          this.#slots[slot.index] = fresh;
          this.emit('replaced', fresh);
        }, () => retry(attempt + 1));
      }, attempt === 0 ? delay : fullJitterDelay(attempt, { baseMs: 500, maxMs: 30_000 }));
      this.#timers.add(t);
    };
    retry(0);
  }
}
