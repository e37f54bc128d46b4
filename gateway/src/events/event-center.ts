// The event centre: what happens to cameras, streams, imports and grants, kept in the store, acknowledged by the
// people who see it, pushed to consoles over WebSocket and to other systems by webhook. Events are written in
// batches (a county going dark is thousands of them in one sweep) and kept for a bounded time.
import { EventEmitter } from 'node:events';
import type { Db } from '../store/database.js';

/** EVENT_KINDS are the kinds of event. */
export const EVENT_KINDS = [
  'camera.offline', 'camera.online', 'camera.credentials', 'camera.credentials-ok', 'stream.failed',
  'import.done', 'import.failed', 'grant.received', 'grant.revoked', 'wall.alarm',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** GatewayEvent is one event: the unit it concerns (who may see it follows from it), the camera if any, its parameters. */
export interface GatewayEvent {
  id: number;
  at: number;
  kind: EventKind;
  unit: string;
  camera: string | null;
  params: Record<string, string | number>;
  ackedBy: string | null;
  ackedAt: number | null;
}

export type NewEvent = Pick<GatewayEvent, 'kind' | 'unit' | 'camera' | 'params'> & { at?: number };

/** EventQuery selects events: the units and granted cameras the reader sees, and filters. */
export interface EventQuery {
  units: readonly string[];
  cameras: readonly string[];
  kind?: EventKind;
  unit?: readonly string[];
  acked?: boolean;
  /** before pages back through history (events with a smaller id). */
  before?: number;
  from?: number;
  limit: number;
}

interface Row { id: number; at: number; kind: EventKind; unit: string; camera: string | null; params: string; acked_by: string | null; acked_at: number | null }

function toEvent(r: Row): GatewayEvent {
  return { id: r.id, at: r.at, kind: r.kind, unit: r.unit, camera: r.camera, params: JSON.parse(r.params) as Record<string, string | number>, ackedBy: r.acked_by, ackedAt: r.acked_at };
}

export interface EventCenterOptions {
  /** flushMs is how long events wait to be written and pushed together. */
  flushMs: number;
  /** maxPending bounds the events waiting for a flush; beyond it the oldest waiting are dropped (and counted). */
  maxPending: number;
  retentionDays: number;
}

/**
 * EventCenter stores and publishes events. 'events' is emitted with each stored batch, 'ack' with acknowledged ids.
 */
export class EventCenter extends EventEmitter<{ events: [GatewayEvent[]]; ack: [{ ids: number[]; by: string; at: number }]; error: [Error] }> {
  #db: Db;
  #opts: EventCenterOptions;
  #pending: NewEvent[] = [];
  #timer?: NodeJS.Timeout;
  #insert;
  dropped = 0;

  constructor(db: Db, opts: EventCenterOptions) {
    super();
    this.#db = db;
    this.#opts = opts;
    this.#insert = db.prepare('INSERT INTO events (at, kind, unit, camera, params) VALUES (@at, @kind, @unit, @camera, @params)');
  }

  /** publish queues an event; it is stored and pushed with the next batch. */
  publish(e: NewEvent): void {
    this.#pending.push({ ...e, at: e.at ?? Date.now() });
    if (this.#pending.length > this.#opts.maxPending) {
      this.#pending.shift();
      this.dropped++;
    }
    this.#timer ??= setTimeout(() => this.flush(), this.#opts.flushMs);
  }

  /** flush writes the waiting events in one transaction and emits them. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    try {
      const stored = this.#db.transaction(() => batch.map((e) => {
        const row = { at: e.at!, kind: e.kind, unit: e.unit, camera: e.camera, params: JSON.stringify(e.params) };
        const r = this.#insert.run(row);
        return { id: Number(r.lastInsertRowid), at: row.at, kind: e.kind, unit: e.unit, camera: e.camera, params: e.params, ackedBy: null, ackedAt: null };
      }))();
      this.emit('events', stored);
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /** query reads events a reader sees, newest first. */
  query(q: EventQuery): { events: GatewayEvent[]; unacked: number } {
    const where = ['(unit IN (SELECT value FROM json_each(@units)) OR camera IN (SELECT value FROM json_each(@cameras)))'];
    if (q.kind) where.push('kind = @kind');
    if (q.unit) where.push('unit IN (SELECT value FROM json_each(@unit))');
    if (q.acked !== undefined) where.push(q.acked ? 'acked_at IS NOT NULL' : 'acked_at IS NULL');
    if (q.before !== undefined) where.push('id < @before');
    if (q.from !== undefined) where.push('at >= @from');
    const params = { units: JSON.stringify(q.units), cameras: JSON.stringify(q.cameras), kind: q.kind, unit: q.unit ? JSON.stringify(q.unit) : undefined, before: q.before, from: q.from, limit: q.limit };
    const rows = this.#db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`).all(params) as Row[];
    const unacked = (this.#db.prepare(`SELECT count(*) AS n FROM events WHERE ${where[0]} AND acked_at IS NULL`).get(params) as { n: number }).n;
    return { events: rows.map(toEvent), unacked };
  }

  get(id: number): GatewayEvent | undefined {
    const r = this.#db.prepare('SELECT * FROM events WHERE id = ?').get(id) as Row | undefined;
    return r ? toEvent(r) : undefined;
  }

  /** ack acknowledges events not yet acknowledged; it returns the ids it changed. */
  ack(ids: readonly number[], by: string, at = Date.now()): number[] {
    const changed = this.#db.transaction(() => ids.filter((id) => this.#db.prepare('UPDATE events SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at IS NULL').run(by, at, id).changes > 0))();
    if (changed.length > 0) this.emit('ack', { ids: changed, by, at });
    return changed;
  }

  /** prune deletes events older than the retention. */
  prune(now = Date.now()): number {
    return this.#db.prepare('DELETE FROM events WHERE at < ?').run(now - this.#opts.retentionDays * 86_400_000).changes;
  }

  close(): void {
    this.flush();
  }
}
