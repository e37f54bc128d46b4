// Login sessions: a random secret in the cookie, only its SHA-256 in the store, so a leaked database opens no session.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../store/database.js';

/** SessionRecord is a stored session (idHash is the SHA-256 of the cookie secret). */
export interface SessionRecord {
  idHash: string;
  userId: number;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  remote: string | null;
  userAgent: string | null;
}

/** hashSessionId returns the stored form of a session secret. */
export function hashSessionId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** SessionStore creates, finds and ends sessions. */
export class SessionStore {
  #db: Db;
  #ttlMs: number;
  #lastPrune = 0;

  constructor(db: Db, ttlMs: number) {
    this.#db = db;
    this.#ttlMs = ttlMs;
  }

  /** create starts a session and returns the secret for the cookie. */
  create(userId: number, remote: string | null, userAgent: string | null): { secret: string; record: SessionRecord } {
    const secret = randomBytes(32).toString('base64url');
    const now = Date.now();
    const record: SessionRecord = { idHash: hashSessionId(secret), userId, createdAt: now, expiresAt: now + this.#ttlMs, lastSeenAt: now, remote, userAgent: userAgent?.slice(0, 200) ?? null };
    this.#db.prepare('INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at, remote, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(record.idHash, userId, now, record.expiresAt, now, remote, record.userAgent);
    this.#prune(now);
    return { secret, record };
  }

  /** findByHash returns a live session by its hash. */
  findByHash(idHash: string, now = Date.now()): SessionRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?').get(idHash, now) as
      { id_hash: string; user_id: number; created_at: number; expires_at: number; last_seen_at: number; remote: string | null; user_agent: string | null } | undefined;
    return r && { idHash: r.id_hash, userId: r.user_id, createdAt: r.created_at, expiresAt: r.expires_at, lastSeenAt: r.last_seen_at, remote: r.remote, userAgent: r.user_agent };
  }

  /** find returns a live session by its cookie secret and marks it seen. */
  find(secret: string, now = Date.now()): SessionRecord | undefined {
    if (secret.length < 20 || secret.length > 100) return undefined;
    const record = this.findByHash(hashSessionId(secret), now);
    if (record && now - record.lastSeenAt > 60_000) {
      this.#db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, record.idHash);
    }
    return record;
  }

  /** end deletes a session. */
  end(idHash: string): void {
    this.#db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  /** endAllOf deletes every session of a user (account disabled or password changed). */
  endAllOf(userId: number): number {
    return this.#db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes;
  }

  /** list returns the open sessions of some users, newest activity first. */
  list(userIds: readonly number[], now = Date.now()): SessionRecord[] {
    const rows = this.#db.prepare(`SELECT * FROM sessions WHERE expires_at > ? AND user_id IN (SELECT value FROM json_each(?)) ORDER BY last_seen_at DESC LIMIT 1000`)
      .all(now, JSON.stringify(userIds)) as Array<{ id_hash: string; user_id: number; created_at: number; expires_at: number; last_seen_at: number; remote: string | null; user_agent: string | null }>;
    return rows.map((r) => ({ idHash: r.id_hash, userId: r.user_id, createdAt: r.created_at, expiresAt: r.expires_at, lastSeenAt: r.last_seen_at, remote: r.remote, userAgent: r.user_agent }));
  }

  #prune(now: number): void {
    if (now - this.#lastPrune < 3600_000) return;
    this.#lastPrune = now;
    this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
  }
}
