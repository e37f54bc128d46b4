// Every rejected row of an import, written to a file as it is found: the report of a file of a million bad rows costs
// disk, not memory, and is read back as a stream.
import { closeSync, openSync, writeSync } from 'node:fs';
import { csvField } from './exporter.js';
import type { Rejection } from './importer.js';

/** REJECTIONS_HEADER is the first line of every rejections report. */
export const REJECTIONS_HEADER = 'line,id,reason,code,params\n';

/** rejectionLine is one row of the report. */
export function rejectionLine(r: Rejection): string {
  return [r.line, r.id ?? null, r.reason, r.code, r.params ? JSON.stringify(r.params) : null].map((v) => csvField(v)).join(',') + '\n';
}

/** RejectionSink receives every rejected row of an import, in file order. */
export interface RejectionSink {
  add(r: Rejection): void;
}

/** RejectionFile appends rejections to a CSV file (mode 0600), buffered and written in blocks. */
export class RejectionFile implements RejectionSink {
  readonly path: string;
  #fd: number;
  #pending: string[] = [];
  #pendingChars = 0;
  #closed = false;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'w', 0o600);
    writeSync(this.#fd, REJECTIONS_HEADER);
  }

  add(r: Rejection): void {
    if (this.#closed) throw new Error(`the rejections file ${this.path} is closed`);
    const line = rejectionLine(r);
    this.#pending.push(line);
    this.#pendingChars += line.length;
    if (this.#pendingChars > 256 * 1024) this.flush();
  }

  /** flush writes what is buffered. */
  flush(): void {
    if (this.#pending.length === 0) return;
    writeSync(this.#fd, this.#pending.join(''));
    this.#pending = [];
    this.#pendingChars = 0;
  }

  /** close flushes and closes the file; it is idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    closeSync(this.#fd);
    this.#closed = true;
  }
}
