// The audit trail: an append-only record of logins, views, PTZ, snapshots, grants, imports and account changes. Each
// entry carries the SHA-256 of the one before and of itself, so an entry changed or removed in the database (around
// the triggers that refuse it) breaks the chain, and verify() says where.
import { createHash } from 'node:crypto';
import type { Db } from '../store/database.js';

/** AuditEvent is what a part of the gateway records. */
export interface AuditEvent {
  userId: number | null;
  username: string;
  unit: string | null;
  action: string;
  camera?: string | null;
  cameraUnit?: string | null;
  detail?: Record<string, unknown>;
  remote?: string | null;
}

/** AuditEntry is a stored event. */
export interface AuditEntry {
  id: number;
  at: number;
  userId: number | null;
  username: string;
  unit: string | null;
  action: string;
  camera: string | null;
  cameraUnit: string | null;
  detail: Record<string, unknown>;
  remote: string | null;
  hash: string;
}

interface Row {
  id: number; at: number; user_id: number | null; username: string; unit: string | null; action: string; camera: string | null;
  camera_unit: string | null; detail: string; remote: string | null; prev_hash: string; hash: string;
}

const GENESIS = '0'.repeat(64);

/** entryHash is the chain link: the previous hash and every field of the entry, in a fixed order. */
function entryHash(prev: string, e: { at: number; user_id: number | null; username: string; unit: string | null; action: string; camera: string | null; camera_unit: string | null; detail: string; remote: string | null }): string {
  return createHash('sha256').update(JSON.stringify([prev, e.at, e.user_id, e.username, e.unit, e.action, e.camera, e.camera_unit, e.detail, e.remote])).digest('hex');
}

/** AuditQuery filters a listing. */
export interface AuditQuery {
  /** units limits entries to those by a user of these units or about a camera of these units. */
  units: readonly string[];
  /** unattributed adds entries tied to no unit (failed logins of unknown names): for the top of the tree. */
  unattributed?: boolean;
  from?: number;
  to?: number;
  action?: string;
  camera?: string;
  username?: string;
  limit: number;
  offset: number;
}

/** AuditLog appends and reads entries. Appends are synchronous: an event is on disk before the request answers. */
export class AuditLog {
  #db: Db;
  #last: string;
  #insert;

  constructor(db: Db) {
    this.#db = db;
    this.#last = (db.prepare('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { hash: string } | undefined)?.hash ?? GENESIS;
    this.#insert = db.prepare(`INSERT INTO audit_log (at, user_id, username, unit, action, camera, camera_unit, detail, remote, prev_hash, hash)
      VALUES (@at, @user_id, @username, @unit, @action, @camera, @camera_unit, @detail, @remote, @prev_hash, @hash)`);
  }

  /** record appends an event and returns its id. */
  record(e: AuditEvent, at = Date.now()): number {
    const row = {
      at, user_id: e.userId, username: e.username, unit: e.unit, action: e.action, camera: e.camera ?? null, camera_unit: e.cameraUnit ?? null,
      detail: JSON.stringify(e.detail ?? {}), remote: e.remote ?? null,
    };
    const hash = entryHash(this.#last, row);
    const r = this.#insert.run({ ...row, prev_hash: this.#last, hash });
    this.#last = hash;
    return Number(r.lastInsertRowid);
  }

  /** query lists entries newest first, with the total that match. */
  query(q: AuditQuery): { total: number; entries: AuditEntry[] } {
    const where = [`(unit IN (SELECT value FROM json_each(@units)) OR camera_unit IN (SELECT value FROM json_each(@units))${q.unattributed ? ' OR (unit IS NULL AND camera_unit IS NULL)' : ''})`];
    if (q.from !== undefined) where.push('at >= @from');
    if (q.to !== undefined) where.push('at < @to');
    if (q.action) where.push('action = @action');
    if (q.camera) where.push('camera = @camera');
    if (q.username) where.push('username = @username');
    const params = { units: JSON.stringify(q.units), from: q.from, to: q.to, action: q.action, camera: q.camera, username: q.username, limit: q.limit, offset: q.offset };
    const clause = where.join(' AND ');
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM audit_log WHERE ${clause}`).get(params) as { n: number }).n;
    const rows = this.#db.prepare(`SELECT * FROM audit_log WHERE ${clause} ORDER BY id DESC LIMIT @limit OFFSET @offset`).all(params) as Row[];
    return { total, entries: rows.map(toEntry) };
  }

  /** verify walks the whole chain; it returns the number of entries, and the first entry that does not hold. */
  verify(): { entries: number; broken?: { id: number; reason: string } } {
    let prev = GENESIS;
    let n = 0;
    let expectId: number | undefined;
    for (const r of this.#db.prepare('SELECT * FROM audit_log ORDER BY id').iterate() as IterableIterator<Row>) {
      n++;
      if (expectId !== undefined && r.id !== expectId) return { entries: n, broken: { id: r.id, reason: `entries ${expectId}..${r.id - 1} are missing` } };
      if (r.prev_hash !== prev) return { entries: n, broken: { id: r.id, reason: 'it does not follow the entry before it (an entry before it was removed or changed)' } };
      if (entryHash(prev, r) !== r.hash) return { entries: n, broken: { id: r.id, reason: 'its content does not match its hash (it was changed)' } };
      prev = r.hash;
      expectId = r.id + 1;
    }
    return { entries: n };
  }
}

function toEntry(r: Row): AuditEntry {
  let detail: Record<string, unknown> = {};
  try {
    detail = JSON.parse(r.detail) as Record<string, unknown>;
  } catch {
    detail = { unreadable: r.detail };
  }
  return { id: r.id, at: r.at, userId: r.user_id, username: r.username, unit: r.unit, action: r.action, camera: r.camera, cameraUnit: r.camera_unit, detail, remote: r.remote, hash: r.hash };
}
