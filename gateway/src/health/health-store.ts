// Camera health in the store: the current state of each camera and the history of its transitions.
import type { Db } from '../store/database.js';
import type { HealthRecorder, SavedHealth, Transition } from './health-monitor.js';

/** HealthEvent is one transition in a camera's history. */
export interface HealthEvent {
  at: number;
  state: 'online' | 'offline';
  reason: string | null;
}

/** HealthStore writes transitions in batches, one transaction each. */
export class HealthStore implements HealthRecorder {
  #db: Db;
  #upsert;
  #insert;

  constructor(db: Db) {
    this.#db = db;
    this.#upsert = db.prepare(`INSERT INTO camera_status (camera, state, since, reason) VALUES (@camera, @state, @at, @reason)
      ON CONFLICT(camera) DO UPDATE SET state = excluded.state, since = excluded.since, reason = excluded.reason`);
    this.#insert = db.prepare('INSERT INTO camera_events (camera, at, state, reason) VALUES (@camera, @at, @state, @reason)');
  }

  /** load returns the saved state of every camera that was ever probed. */
  load(): Map<string, SavedHealth> {
    const out = new Map<string, SavedHealth>();
    const rows = this.#db.prepare('SELECT camera, state, since, reason FROM camera_status').iterate() as IterableIterator<{ camera: string; state: 'online' | 'offline'; since: number; reason: string | null }>;
    for (const r of rows) out.set(r.camera, { state: r.state, since: r.since, ...(r.reason ? { reason: r.reason } : {}) });
    return out;
  }

  record(transitions: Transition[]): void {
    this.#db.transaction(() => {
      for (const t of transitions) {
        const row = { camera: t.camera, state: t.state, at: t.at, reason: t.reason ?? null };
        // A camera deleted while its probe was in flight has no status row to keep.
        try {
          this.#upsert.run(row);
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') continue;
          throw err;
        }
        this.#insert.run(row);
      }
    })();
  }

  /** history returns a camera's transitions, newest first. */
  history(camera: string, limit: number): HealthEvent[] {
    return this.#db.prepare('SELECT at, state, reason FROM camera_events WHERE camera = ? ORDER BY at DESC, id DESC LIMIT ?').all(camera, limit) as HealthEvent[];
  }

  /** prune deletes transitions older than before and returns how many went. */
  prune(before: number): number {
    return this.#db.prepare('DELETE FROM camera_events WHERE at < ?').run(before).changes;
  }
}
