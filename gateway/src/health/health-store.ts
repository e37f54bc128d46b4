// Camera health in the store: the current state of each camera and the history of its transitions.
import type { Db } from '../store/database.js';
import type { CredentialChange, HealthRecorder, SavedHealth, Transition } from './health-monitor.js';

/** HealthEvent is one transition in a camera's history. */
export interface HealthEvent {
  at: number;
  state: 'online' | 'offline';
  reason: string | null;
  reasonKind: string | null;
}

/** HealthStore writes transitions in batches, one transaction each. */
export class HealthStore implements HealthRecorder {
  #db: Db;
  #upsert;
  #insert;
  #upsertCredentials;
  #insertCredentials;

  constructor(db: Db) {
    this.#db = db;
    this.#upsert = db.prepare(`INSERT INTO camera_status (camera, state, since, reason, reason_kind) VALUES (@camera, @state, @at, @reason, @reasonKind)
      ON CONFLICT(camera) DO UPDATE SET state = excluded.state, since = excluded.since, reason = excluded.reason, reason_kind = excluded.reason_kind`);
    this.#insert = db.prepare('INSERT INTO camera_events (camera, at, state, reason, reason_kind) VALUES (@camera, @at, @state, @reason, @reasonKind)');
    this.#upsertCredentials = db.prepare(`INSERT INTO camera_status (camera, state, since, credentials, credentials_at, credentials_reason) VALUES (@camera, 'unknown', 0, @result, @at, @reason)
      ON CONFLICT(camera) DO UPDATE SET credentials = excluded.credentials, credentials_at = excluded.credentials_at, credentials_reason = excluded.credentials_reason`);
    this.#insertCredentials = db.prepare('INSERT INTO camera_credential_events (camera, at, result, reason) VALUES (@camera, @at, @result, @reason)');
  }

  /** recordCredentials keeps the cameras' new credential states and their history, one transaction per batch. */
  recordCredentials(changes: CredentialChange[]): void {
    this.#db.transaction(() => {
      for (const c of changes) {
        const row = { camera: c.camera, at: c.at, result: c.result, reason: c.reason ?? null };
        try {
          this.#upsertCredentials.run(row);
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') continue;
          throw err;
        }
        this.#insertCredentials.run(row);
      }
    })();
  }

  /** credentialHistory returns a camera's credential changes, newest first. */
  credentialHistory(camera: string, limit: number): Array<{ at: number; result: 'accepted' | 'rejected'; reason: string | null }> {
    return this.#db.prepare('SELECT at, result, reason FROM camera_credential_events WHERE camera = ? ORDER BY at DESC, id DESC LIMIT ?').all(camera, limit) as Array<{ at: number; result: 'accepted' | 'rejected'; reason: string | null }>;
  }

  /** load returns the saved state of every camera that was ever probed. */
  load(): Map<string, SavedHealth> {
    const out = new Map<string, SavedHealth>();
    const rows = this.#db.prepare('SELECT camera, state, since, reason, reason_kind, credentials, credentials_at, credentials_reason FROM camera_status').iterate() as IterableIterator<{
      camera: string; state: 'online' | 'offline' | 'unknown'; since: number; reason: string | null; reason_kind: string | null; credentials: 'accepted' | 'rejected' | null; credentials_at: number | null; credentials_reason: string | null;
    }>;
    for (const r of rows) {
      out.set(r.camera, {
        state: r.state, since: r.since, ...(r.reason ? { reason: r.reason, ...(r.reason_kind ? { reasonKind: r.reason_kind } : {}) } : {}),
        ...(r.credentials ? { credentials: r.credentials, credentialsAt: r.credentials_at ?? 0, ...(r.credentials_reason ? { credentialsReason: r.credentials_reason } : {}) } : {}),
      });
    }
    return out;
  }

  record(transitions: Transition[]): void {
    this.#db.transaction(() => {
      for (const t of transitions) {
        const row = { camera: t.camera, state: t.state, at: t.at, reason: t.reason ?? null, reasonKind: t.reasonKind ?? null };
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
    return this.#db.prepare('SELECT at, state, reason, reason_kind AS reasonKind FROM camera_events WHERE camera = ? ORDER BY at DESC, id DESC LIMIT ?').all(camera, limit) as HealthEvent[];
  }

  /** prune deletes transitions older than before and returns how many went. */
  prune(before: number): number {
    return this.#db.prepare('DELETE FROM camera_events WHERE at < ?').run(before).changes;
  }
}
