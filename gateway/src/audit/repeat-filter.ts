// Repeated audit events are written once, then as one summary: a flood of refusals (a throttled address hammering the
// login, a client retrying a forbidden URL) costs one row per window, never one row per request.
import type { AuditEvent } from './audit-log.js';

/** RepeatFilterOptions bound the filter. */
export interface RepeatFilterOptions {
  /** windowMs is how long repeats of one event are counted before their summary is written. */
  windowMs: number;
  /** maxKeys bounds the distinct events counted at once; beyond it, repeats are counted under one overflow entry. */
  maxKeys: number;
}

interface Pending {
  event: AuditEvent;
  first: number;
  last: number;
  repeats: number;
}

const OVERFLOW = '\u0000overflow';

/**
 * RepeatFilter writes the first event of a key at once and counts the repeats that follow within the window; when the
 * window ends, one entry says how many there were and from when to when.
 */
export class RepeatFilter {
  #record: (e: AuditEvent, at?: number) => void;
  #opts: RepeatFilterOptions;
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout;

  constructor(record: (e: AuditEvent, at?: number) => void, opts: RepeatFilterOptions) {
    this.#record = record;
    this.#opts = opts;
    this.#timer = setInterval(() => this.flush(), Math.max(100, Math.min(opts.windowMs, 10_000))).unref();
  }

  /** note records event under key: written now if it is the first within the window, counted otherwise. */
  note(key: string, event: AuditEvent, now = Date.now()): void {
    const p = this.#pending.get(key);
    if (p) {
      p.repeats++;
      p.last = now;
      return;
    }
    if (this.#pending.size >= this.#opts.maxKeys) {
      const o = this.#pending.get(OVERFLOW);
      if (o) {
        o.repeats++;
        o.last = now;
      } else {
        this.#pending.set(OVERFLOW, { event: { userId: null, username: '', unit: null, action: 'audit.flood', detail: { note: 'more distinct repeated events than the filter counts one by one' } }, first: now, last: now, repeats: 1 });
      }
      return;
    }
    this.#pending.set(key, { event, first: now, last: now, repeats: 0 });
    this.#record(event, now);
  }

  /** flush writes the summaries of windows that have ended (all of them when all is set). */
  flush(now = Date.now(), all = false): void {
    for (const [key, p] of this.#pending) {
      if (!all && now - p.first < this.#opts.windowMs) continue;
      this.#pending.delete(key);
      if (p.repeats === 0) continue;
      this.#record({ ...p.event, detail: { ...p.event.detail, repeats: p.repeats, from: p.first, to: p.last } }, now);
    }
  }

  /** close writes every pending summary and stops the timer. */
  close(): void {
    clearInterval(this.#timer);
    this.flush(Date.now(), true);
  }
}
