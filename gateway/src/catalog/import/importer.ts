// Bulk import of cameras: reads a file as it arrives, checks every row, writes good rows in batches of one transaction
// each, and reports every rejected row with its line and reason. A crash loses at most the batch being written; the
// catalog never holds half a camera, and importing the same file again finishes the job (rows already there are
// unchanged).
import type { Catalog, NewCamera } from '../catalog.js';
import { checkRow, headerColumns, rowFromCsv, rowFromJson, type Column, type RowContext } from './camera-row.js';
import { csvRecords, jsonRecords, type ImportFormat, type RawRecord, type TextEncodingName } from './records.js';
import type { RejectionSink } from './rejection-file.js';
import { isProblem, problem, ProblemError, type Problem } from '../../problem.js';

/** Rejection is a row that did not land. */
export interface Rejection {
  line: number;
  id?: string;
  /** reason says it in English (logs, the API's message); code and params are what the console says it by. */
  reason: string;
  code: string;
  params?: Record<string, string | number>;
}

/** ImportProgress is reported after each batch. */
export interface ImportProgress {
  bytesRead: number;
  /** bytesTotal is the file's size when known. */
  bytesTotal?: number;
  rows: number;
  added: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

/** ImportReport is the outcome. */
export interface ImportReport extends ImportProgress {
  format: ImportFormat;
  dryRun: boolean;
  /** rejections are the first keepRejections rejected rows, in file order; all of them went to the sink. */
  rejections: Rejection[];
  /** stoppedAt is set when the file had more rows than maxRows: the line reading stopped at, and why. */
  stopped?: { line: number; reason: string };
  /** movedCredentials counts rows whose credentials were written in a URL and were moved to the encrypted store. */
  movedCredentials: number;
  durationMs: number;
}

/** ImportOptions configure one import. */
export interface ImportOptions extends RowContext {
  format: ImportFormat;
  encoding?: TextEncodingName;
  /** dryRun checks every row and writes nothing. */
  dryRun?: boolean;
  batchSize?: number;
  bytesTotal?: number;
  /** ownerOf returns the unit that owns an existing camera (undefined for a new id). */
  ownerOf(id: string): string | undefined;
  onProgress?(p: ImportProgress): void;
  /** signal aborts between batches: what was written stays, the rest is not read. */
  signal?: AbortSignal;
  /** rejectionSink receives every rejected row; the report keeps only the first keepRejections of them. */
  rejectionSink?: RejectionSink;
  /** keepRejections bounds the rejections the report holds in memory (default 1000). */
  keepRejections?: number;
  /** maxRows bounds the rows read (default unbounded): an import of more stops there, saying so. */
  maxRows?: number;
}

/** ImportFileError is a file that cannot be imported at all (a bad header, an unreadable start). */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
  readonly line: number;
  readonly problem: Problem;

  constructor(line: number, p: Problem) {
    super(`line ${line}: ${p.text}`);
    this.line = line;
    this.problem = p;
  }
}

/** importCameras runs an import from a byte stream into the catalog. */
export async function importCameras(catalog: Pick<Catalog, 'upsertCameras'>, source: AsyncIterable<Uint8Array>, opts: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const batchSize = opts.batchSize ?? 1000;
  const report: ImportReport = {
    format: opts.format, dryRun: !!opts.dryRun, bytesRead: 0, bytesTotal: opts.bytesTotal, rows: 0,
    added: 0, updated: 0, unchanged: 0, rejected: 0, rejections: [], movedCredentials: 0, durationMs: 0,
  };
  const counted = countBytes(source, (n) => { report.bytesRead += n; });
  const records: AsyncIterable<RawRecord> = opts.format === 'csv' ? csvRecords(counted, opts.encoding) : jsonRecords(counted, opts.encoding);
  const firstLine = new Map<string, number>();
  let batch: Array<{ line: number; camera: NewCamera }> = [];
  let columns: Column[] | undefined;
  const keep = opts.keepRejections ?? 1000;
  const reject = (line: number, p: Problem, id?: string) => {
    report.rejected++;
    const r: Rejection = { line, reason: p.text, code: p.reason, ...(p.params ? { params: p.params } : {}), ...(id ? { id } : {}) };
    if (report.rejections.length < keep) report.rejections.push(r);
    opts.rejectionSink?.add(r);
  };
  const flush = () => {
    if (batch.length === 0) return;
    if (!opts.dryRun) {
      const r = catalog.upsertCameras(batch.map((b) => b.camera));
      report.added += r.added.length;
      report.updated += r.updated.length;
      report.unchanged += r.unchanged;
    }
    batch = [];
    opts.onProgress?.({ ...progressOf(report) });
  };

  let lastProgress = 0;
  for await (const rec of records) {
    if (opts.maxRows !== undefined && report.rows >= opts.maxRows && (columns || opts.format === 'json')) {
      report.stopped = { line: rec.line, reason: `the file has more than ${opts.maxRows} rows (imports.maxRows): reading stopped at line ${rec.line}; import the rest as another file` };
      break;
    }
    // A file of bad rows writes no batch: progress is still reported as it is read.
    if (report.rows - lastProgress >= batchSize) {
      lastProgress = report.rows;
      opts.onProgress?.({ ...progressOf(report) });
      await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) break;
    }
    if ('error' in rec) {
      if (opts.format === 'csv' && !columns) throw new ImportFileError(rec.line, problem('header-unreadable', `the header cannot be read: ${rec.error}`));
      report.rows++;
      reject(rec.line, problem('row-unreadable', rec.error));
      continue;
    }
    let row: ReturnType<typeof rowFromCsv>;
    if ('fields' in rec) {
      if (!columns) {
        try {
          columns = headerColumns(rec.fields);
        } catch (err) {
          throw new ImportFileError(rec.line, err instanceof ProblemError ? err.problem : problem('header-unreadable', (err as Error).message));
        }
        continue;
      }
      row = rowFromCsv(columns, rec.fields);
    } else {
      row = rowFromJson(rec.value);
    }
    report.rows++;
    if (isProblem(row)) {
      reject(rec.line, row);
      continue;
    }
    const checked = checkRow(row, opts);
    const id = row.id?.trim();
    if ('problem' in checked) {
      reject(rec.line, checked.problem, id);
      continue;
    }
    const c = checked.camera;
    const seen = firstLine.get(c.id);
    if (seen !== undefined) {
      reject(rec.line, problem('row-duplicate', `duplicate id ${c.id}: it was first given on line ${seen}`, { first: seen }), c.id);
      continue;
    }
    firstLine.set(c.id, rec.line);
    const owner = opts.ownerOf(c.id);
    if (owner !== undefined && !opts.mayUse(owner)) {
      reject(rec.line, problem('camera-owner-outside', `camera ${c.id} belongs to a unit outside your part of the tree`), c.id);
      continue;
    }
    if (checked.credentialsInUrl) report.movedCredentials++;
    // A dry run compares nothing: it counts new ids as added and known ones as updated.
    if (opts.dryRun && owner === undefined) report.added++;
    else if (opts.dryRun) report.updated++;
    batch.push({ line: rec.line, camera: c });
    if (batch.length >= batchSize) {
      flush();
      if (opts.signal?.aborted) break;
    }
  }
  if (opts.format === 'csv' && !columns) throw new ImportFileError(1, problem('file-empty', 'the file is empty: it needs a header line and rows'));
  if (!opts.signal?.aborted) flush();
  report.durationMs = Date.now() - started;
  return report;
}

/** progressOf is the progress part of a report. */
export function progressOf(r: ImportReport): ImportProgress {
  return { bytesRead: r.bytesRead, bytesTotal: r.bytesTotal, rows: r.rows, added: r.added, updated: r.updated, unchanged: r.unchanged, rejected: r.rejected };
}

async function* countBytes(source: AsyncIterable<Uint8Array>, add: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    add(chunk.byteLength);
    yield chunk;
  }
}
