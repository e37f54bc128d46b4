// Imports started over the API run as jobs: the upload is spooled to a private file as it arrives (never held in
// memory), answered at once, and run one at a time; the console follows the progress. Every rejected row goes to a
// file beside it, so a file of a million bad rows costs disk, not memory. How much a job may read, keep and queue is
// set by imports.* in the configuration.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Catalog } from '../catalog.js';
import { importCameras, ImportFileError, progressOf, type ImportOptions, type ImportProgress, type ImportReport } from './importer.js';
import { RejectionFile } from './rejection-file.js';

/** ImportJob is one import and where it stands. */
export interface ImportJob {
  id: string;
  owner: number;
  state: 'queued' | 'running' | 'done' | 'failed';
  startedAt: number;
  progress: ImportProgress;
  report?: ImportReport;
  /** error says in English why the file could not be imported at all; errorCode and errorParams are its reason. */
  error?: string;
  errorCode?: string;
  errorParams?: Record<string, string | number>;
}

/** ImportLimits bound what imports may cost. */
export interface ImportLimits {
  /** dir holds the spooled uploads and the rejection reports (created 0700). */
  dir: string;
  /** maxBytes bounds one upload. */
  maxBytes: number;
  /** maxRows bounds the rows one import reads. */
  maxRows: number;
  /** keepRejections bounds the rejected rows a job's report holds in memory (all of them are in its file). */
  keepRejections: number;
  /** maxQueued bounds the jobs waiting or running at once, per gateway; maxPerUser per user. */
  maxQueued: number;
  maxPerUser: number;
  /** keepMs is how long a finished job and its files are kept. */
  keepMs: number;
}

/** ImportRefused says why an upload was not taken (a limit): it names the limit and what to do. */
export class ImportRefused extends Error {
  override name = 'ImportRefused';
  readonly kind: 'too-large' | 'busy';
  readonly params?: Record<string, string | number>;

  constructor(kind: 'too-large' | 'busy', message: string, params?: Record<string, string | number>) {
    super(message);
    this.kind = kind;
    this.params = params;
  }
}

/** SpooledUpload is an upload on disk. */
export interface SpooledUpload {
  path: string;
  bytes: number;
}

interface Entry {
  job: ImportJob;
  upload: string;
  rejections: string;
}

/** ImportJobs runs imports one at a time (the store has one writer) and keeps their reports for keepMs. */
export class ImportJobs {
  #catalog: Pick<Catalog, 'upsertCameras'>;
  #onChanged: (cameras: number) => void;
  /** onFinished hears of every import that ended, done or failed (the event centre says so). */
  onFinished?: (job: ImportJob) => void;
  #limits: ImportLimits;
  #jobs = new Map<string, Entry>();
  #queue: Promise<void> = Promise.resolve();

  constructor(catalog: Pick<Catalog, 'upsertCameras'>, onChanged: (cameras: number) => void, limits: ImportLimits) {
    this.#catalog = catalog;
    this.#onChanged = onChanged;
    this.#limits = limits;
    // What a previous run left (its jobs are gone with it) is removed.
    mkdirSync(limits.dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(limits.dir)) if (/^(upload|rejections)-[0-9a-f-]{36}\.(bin|csv)$/.test(f)) rmSync(join(limits.dir, f), { force: true });
  }

  /** spool writes an upload to a private file as it arrives, refusing it once it passes maxBytes. */
  async spool(owner: number, body: Readable): Promise<SpooledUpload> {
    this.#expire();
    this.#checkRoom(owner);
    const path = join(this.#limits.dir, `upload-${randomUUID()}.bin`);
    let bytes = 0;
    const limit = this.#limits.maxBytes;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > limit) done(new ImportRefused('too-large', `the file is larger than ${limit} bytes (imports.maxMegabytes): split it, or import it with the command line`, { megabytes: Math.round(limit / 1048576) }));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(path, { mode: 0o600 }));
    } catch (err) {
      rmSync(path, { force: true });
      throw err;
    }
    return { path, bytes };
  }

  /** start queues an import of a spooled upload for user owner and returns its job at once. */
  start(owner: number, upload: SpooledUpload, opts: Omit<ImportOptions, 'onProgress' | 'bytesTotal' | 'rejectionSink' | 'keepRejections' | 'maxRows'>): ImportJob {
    try {
      this.#checkRoom(owner);
    } catch (err) {
      rmSync(upload.path, { force: true });
      throw err;
    }
    const id = randomUUID();
    const job: ImportJob = {
      id, owner, state: 'queued', startedAt: Date.now(),
      progress: { bytesRead: 0, bytesTotal: upload.bytes, rows: 0, added: 0, updated: 0, unchanged: 0, rejected: 0 },
    };
    const entry: Entry = { job, upload: upload.path, rejections: join(this.#limits.dir, `rejections-${id}.csv`) };
    this.#jobs.set(id, entry);
    const run = async () => {
      job.state = 'running';
      const sink = new RejectionFile(entry.rejections);
      try {
        job.report = await importCameras(this.#catalog, createReadStream(upload.path, { highWaterMark: 256 * 1024 }), {
          ...opts, bytesTotal: upload.bytes, rejectionSink: sink, keepRejections: this.#limits.keepRejections, maxRows: this.#limits.maxRows,
          onProgress: (p) => { job.progress = p; },
        });
        job.progress = progressOf(job.report);
        job.state = 'done';
        const written = job.report.dryRun ? 0 : job.report.added + job.report.updated;
        if (written > 0) this.#onChanged(written);
        this.onFinished?.(job);
      } catch (err) {
        job.state = 'failed';
        job.error = err instanceof ImportFileError ? err.message : `the import failed: ${(err as Error).message}`;
        job.errorCode = err instanceof ImportFileError ? err.problem.reason : 'import-failed';
        job.errorParams = err instanceof ImportFileError ? { ...err.problem.params, line: err.line } : undefined;
        this.onFinished?.(job);
      } finally {
        sink.close();
        rmSync(upload.path, { force: true });
      }
    };
    this.#queue = this.#queue.then(run);
    return job;
  }

  /** get returns a job of owner's (another user's job does not exist for her). */
  get(id: string, owner: number): ImportJob | undefined {
    const e = this.#jobs.get(id);
    return e && e.job.owner === owner ? e.job : undefined;
  }

  /** rejections streams the whole rejections report of a finished job of owner's, or returns undefined. */
  rejections(id: string, owner: number): Readable | undefined {
    const e = this.#jobs.get(id);
    if (!e || e.job.owner !== owner || (e.job.state !== 'done' && e.job.state !== 'failed')) return undefined;
    try {
      statSync(e.rejections);
    } catch {
      return undefined;
    }
    return createReadStream(e.rejections);
  }

  /** idle resolves when every queued import has finished. */
  idle(): Promise<void> {
    return this.#queue;
  }

  #checkRoom(owner: number): void {
    const open = [...this.#jobs.values()].filter((e) => e.job.state === 'queued' || e.job.state === 'running');
    if (open.length >= this.#limits.maxQueued) {
      throw new ImportRefused('busy', `${open.length} imports are already waiting or running (imports.maxQueued): try again when one has finished`, { count: open.length });
    }
    if (open.filter((e) => e.job.owner === owner).length >= this.#limits.maxPerUser) {
      throw new ImportRefused('busy', `you already have ${this.#limits.maxPerUser} imports waiting or running (imports.maxPerUser): wait for them to finish`, { count: this.#limits.maxPerUser });
    }
  }

  #expire(): void {
    const before = Date.now() - this.#limits.keepMs;
    for (const [id, e] of this.#jobs) {
      if ((e.job.state === 'done' || e.job.state === 'failed') && e.job.startedAt < before) {
        this.#jobs.delete(id);
        rmSync(e.rejections, { force: true });
      }
    }
  }
}
