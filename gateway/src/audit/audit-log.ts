// The audit trail: an append-only record of logins, views, PTZ, snapshots, grants, imports and account changes. Each
// entry carries a MAC (HMAC-SHA256 with a key derived from the master key, which the database does not hold) over the
// entry and the MAC of the one before, so an entry changed, inserted or removed in the database (around the triggers
// that refuse it) breaks the chain even for someone who recomputes every later link; verify() says where. Trails that
// began before the chain was keyed keep their SHA-256 links; a seal entry, keyed, closes them.
import { createHash, createHmac } from 'node:crypto';
import type { Db } from '../store/database.js';
import { wellFormed, wellFormedDeep } from '../store/well-formed.js';

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

/** SEAL_ACTION is the entry that starts the keyed chain; it says how many unkeyed entries came before it. */
export const SEAL_ACTION = 'audit.keyed';

type Linked = { at: number; user_id: number | null; username: string; unit: string | null; action: string; camera: string | null; camera_unit: string | null; detail: string; remote: string | null };

function canonical(prev: string, e: Linked): string {
  return JSON.stringify([prev, e.at, e.user_id, e.username, e.unit, e.action, e.camera, e.camera_unit, e.detail, e.remote]);
}

/** legacyHash is the link of trails written before the chain was keyed: SHA-256 over the previous link and the entry. */
function legacyHash(prev: string, e: Linked): string {
  return createHash('sha256').update(canonical(prev, e)).digest('hex');
}

/** entryMac is the keyed link: HMAC-SHA256 over the previous link and every field of the entry, in a fixed order. */
function entryMac(key: Buffer, prev: string, e: Linked): string {
  return createHmac('sha256', key).update(canonical(prev, e)).digest('hex');
}

/** AuditVerdict is what verify() found. */
export interface AuditVerdict {
  entries: number;
  /** unkeyed counts the entries written before the chain was keyed (closed by the seal). */
  unkeyed: number;
  broken?: { id: number; reason: string };
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
  #key: Buffer;
  #last: string;
  #insert;

  /**
   * The key is the audit purpose key of the master key. A trail without a seal (new, or written by an earlier version)
   * is sealed now: later entries are keyed. readOnly opens a trail for verify() alone and never writes the seal.
   */
  constructor(db: Db, key: Buffer, opts: { readOnly?: boolean } = {}) {
    this.#db = db;
    this.#key = key;
    this.#last = (db.prepare('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { hash: string } | undefined)?.hash ?? GENESIS;
    this.#insert = db.prepare(`INSERT INTO audit_log (at, user_id, username, unit, action, camera, camera_unit, detail, remote, prev_hash, hash)
      VALUES (@at, @user_id, @username, @unit, @action, @camera, @camera_unit, @detail, @remote, @prev_hash, @hash)`);
    if (!opts.readOnly && !db.prepare('SELECT 1 FROM audit_log WHERE action = ? LIMIT 1').get(SEAL_ACTION)) {
      const before = (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
      this.record({ userId: null, username: '', unit: null, action: SEAL_ACTION, detail: { unkeyedBefore: before, head: this.#last } });
    }
  }

  /**
   * record appends an event and returns its id. What is hashed is what the store keeps: text that SQLite cannot hold
   * as it came (a lone surrogate in a username someone typed) is made well-formed first, so it reads back the same.
   */
  record(e: AuditEvent, at = Date.now()): number {
    const text = (v: string | null | undefined) => (v === null || v === undefined ? null : wellFormed(v));
    const row = {
      at, user_id: e.userId, username: wellFormed(e.username), unit: text(e.unit), action: wellFormed(e.action), camera: text(e.camera), camera_unit: text(e.cameraUnit),
      detail: JSON.stringify(wellFormedDeep(e.detail ?? {})), remote: text(e.remote),
    };
    const hash = entryMac(this.#key, this.#last, row);
    const r = this.#insert.run({ ...row, prev_hash: this.#last, hash });
    this.#last = hash;
    return Number(r.lastInsertRowid);
  }

  /** entry returns one entry by its id (a recording's file names the entry that holds its fingerprint). */
  entry(id: number): AuditEntry | undefined {
    const r = this.#db.prepare('SELECT * FROM audit_log WHERE id = ?').get(id) as Row | undefined;
    return r ? toEntry(r) : undefined;
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

  /**
   * verify walks the whole chain: unkeyed links up to the seal, keyed ones after it. It returns the number of entries
   * and the first that does not hold. A trail with no seal, or a seal whose count does not match, is broken: someone
   * stripped the keyed part to rewrite it unkeyed.
   */
  verify(): AuditVerdict {
    let prev = GENESIS;
    let n = 0;
    let sealed = false;
    let unkeyed = 0;
    let expectId: number | undefined;
    for (const r of this.#db.prepare('SELECT * FROM audit_log ORDER BY id').iterate() as IterableIterator<Row>) {
      n++;
      const broken = (reason: string) => ({ entries: n, unkeyed, broken: { id: r.id, reason } });
      if (expectId !== undefined && r.id !== expectId) return broken(`entries ${expectId}..${r.id - 1} are missing`);
      if (r.prev_hash !== prev) return broken('it does not follow the entry before it (an entry before it was removed or changed)');
      if (!sealed && r.action === SEAL_ACTION && entryMac(this.#key, prev, r) === r.hash) {
        let before: unknown;
        try {
          before = (JSON.parse(r.detail) as { unkeyedBefore?: unknown }).unkeyedBefore;
        } catch {
          before = undefined;
        }
        if (before !== n - 1) return broken(`the seal says ${String(before)} unkeyed entries came before it, the trail holds ${n - 1}`);
        sealed = true;
      } else if (sealed) {
        if (entryMac(this.#key, prev, r) !== r.hash) return broken('its content does not match its MAC (it was changed, or this is not the key of this trail)');
      } else {
        // Before the seal: an unkeyed link, as written by a version that did not key the chain.
        if (legacyHash(prev, r) !== r.hash) return broken(entryMac(this.#key, prev, r) === r.hash ? 'a keyed entry comes before the seal (the seal was removed)' : 'its content does not match its hash (it was changed)');
        unkeyed++;
      }
      prev = r.hash;
      expectId = r.id + 1;
    }
    if (!sealed && n > 0) return { entries: n, unkeyed, broken: { id: expectId! - 1, reason: 'the trail carries no keyed seal: its keyed part was removed, or it was never opened by a gateway that keys it' } };
    return { entries: n, unkeyed };
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
