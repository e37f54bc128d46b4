// Imports started over the API run as jobs: the upload is answered at once, and the console follows the progress.
import { randomUUID } from 'node:crypto';
import type { Catalog } from '../catalog.js';
import { importCameras, ImportFileError, progressOf, type ImportOptions, type ImportProgress, type ImportReport } from './importer.js';

/** ImportJob is one import and where it stands. */
export interface ImportJob {
  id: string;
  owner: number;
  state: 'running' | 'done' | 'failed';
  startedAt: number;
  progress: ImportProgress;
  report?: ImportReport;
  error?: string;
}

/** KEEP_MS is how long a finished job stays readable. */
const KEEP_MS = 3600_000;

/** ImportJobs runs imports one at a time (the store has one writer) and keeps their reports for an hour. */
export class ImportJobs {
  #catalog: Pick<Catalog, 'upsertCameras'>;
  #onChanged: (cameras: number) => void;
  #jobs = new Map<string, ImportJob>();
  #queue: Promise<void> = Promise.resolve();

  constructor(catalog: Pick<Catalog, 'upsertCameras'>, onChanged: (cameras: number) => void) {
    this.#catalog = catalog;
    this.#onChanged = onChanged;
  }

  /** start queues an import of body for user owner and returns its job at once. */
  start(owner: number, body: Buffer, opts: Omit<ImportOptions, 'onProgress' | 'bytesTotal'>): ImportJob {
    this.#expire();
    const job: ImportJob = {
      id: randomUUID(), owner, state: 'running', startedAt: Date.now(),
      progress: { bytesRead: 0, bytesTotal: body.length, rows: 0, added: 0, updated: 0, unchanged: 0, rejected: 0 },
    };
    this.#jobs.set(job.id, job);
    const run = async () => {
      try {
        job.report = await importCameras(this.#catalog, chunksOf(body), {
          ...opts, bytesTotal: body.length, onProgress: (p) => { job.progress = p; },
        });
        job.progress = progressOf(job.report);
        job.state = 'done';
        const written = job.report.dryRun ? 0 : job.report.added + job.report.updated;
        if (written > 0) this.#onChanged(written);
      } catch (err) {
        job.state = 'failed';
        job.error = err instanceof ImportFileError ? err.message : `the import failed: ${(err as Error).message}`;
      }
    };
    this.#queue = this.#queue.then(run);
    return job;
  }

  /** get returns a job of owner's (another user's job does not exist for her). */
  get(id: string, owner: number): ImportJob | undefined {
    const job = this.#jobs.get(id);
    return job && job.owner === owner ? job : undefined;
  }

  /** idle resolves when every queued import has finished. */
  idle(): Promise<void> {
    return this.#queue;
  }

  #expire(): void {
    const before = Date.now() - KEEP_MS;
    for (const [id, job] of this.#jobs) if (job.state !== 'running' && job.startedAt < before) this.#jobs.delete(id);
  }
}

/** chunksOf feeds a buffer to the importer in pieces, yielding to the event loop between them. */
async function* chunksOf(body: Buffer, size = 256 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < body.length; i += size) {
    yield body.subarray(i, i + size);
    await new Promise((r) => setImmediate(r));
  }
}
