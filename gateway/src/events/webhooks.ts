// Webhooks: the event centre's events for other systems (a command platform, a ticketing system), POSTed as JSON and
// signed with a secret only the receiver and the gateway hold: X-SEG-Signature is "sha256=" and the HMAC-SHA256 of
// "<X-SEG-Timestamp>.<body>". Each hook gets the events of its unit's subtree and the kinds it asked for; deliveries
// are bounded in time and in number, retried with backoff, and never hold up the gateway.
import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../store/database.js';
import { CredentialCipher } from '../secrets/credential-cipher.js';
import type { EventKind, GatewayEvent } from './event-center.js';

/** Webhook is a stored hook, without its secret. */
export interface Webhook {
  id: number;
  unit: string;
  url: string;
  kinds: EventKind[];
  createdBy: number | null;
  createdAt: number;
  lastStatus: string | null;
  lastAt: number | null;
  failures: number;
}

interface Row { id: number; unit: string; url: string; kinds: string; secret: Buffer; created_by: number | null; created_at: number; last_status: string | null; last_at: number | null; failures: number }

function toHook(r: Row): Webhook {
  return { id: r.id, unit: r.unit, url: r.url, kinds: JSON.parse(r.kinds) as EventKind[], createdBy: r.created_by, createdAt: r.created_at, lastStatus: r.last_status, lastAt: r.last_at, failures: r.failures };
}

/** sign is the signature of a delivery, as the receiver computes it to check one. */
export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookOptions {
  timeoutMs: number;
  /** retries after the first attempt, with a backoff doubling from retryMs. */
  retries: number;
  retryMs: number;
  /** maxQueued bounds the deliveries waiting per hook; beyond it the oldest are dropped (and counted). */
  maxQueued: number;
  /** inSubtree says whether a unit is in the subtree of another (the hook's unit). */
  inSubtree: (ancestor: string, unit: string) => boolean;
  log: { warn: (o: object, msg: string) => void };
}

/** Webhooks keeps the hooks and delivers events to them. */
export class Webhooks {
  #db: Db;
  #cipher: CredentialCipher;
  #opts: WebhookOptions;
  #queues = new Map<number, { busy: boolean; items: GatewayEvent[][] }>();
  dropped = 0;

  constructor(db: Db, key: Buffer, opts: WebhookOptions) {
    this.#db = db;
    this.#cipher = new CredentialCipher(key);
    this.#opts = opts;
  }

  /** list gives the hooks of the units a reader manages. */
  list(units: readonly string[]): Webhook[] {
    return (this.#db.prepare('SELECT * FROM webhooks WHERE unit IN (SELECT value FROM json_each(?)) ORDER BY id').all(JSON.stringify(units)) as Row[]).map(toHook);
  }

  get(id: number): Webhook | undefined {
    const r = this.#db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as Row | undefined;
    return r ? toHook(r) : undefined;
  }

  /** create stores a hook and returns it with its secret, which is never shown again. */
  create(h: { unit: string; url: string; kinds: EventKind[]; createdBy: number }, now = Date.now()): Webhook & { secret: string } {
    const secret = randomBytes(24).toString('base64url');
    const r = this.#db.prepare('INSERT INTO webhooks (unit, url, kinds, secret, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(h.unit, h.url, JSON.stringify(h.kinds), Buffer.alloc(0), h.createdBy, now);
    const id = Number(r.lastInsertRowid);
    // The secret is sealed with the hook's id as associated data: a sealed secret cannot be moved to another hook.
    this.#db.prepare('UPDATE webhooks SET secret = ? WHERE id = ?').run(this.#cipher.seal(`webhook-${id}`, secret), id);
    return { ...this.get(id)!, secret };
  }

  delete(id: number): void {
    this.#db.prepare('DELETE FROM webhooks WHERE id = ?').run(id);
    this.#queues.delete(id);
  }

  /** deliver hands a batch of events to every hook that wants some of them. */
  deliver(events: GatewayEvent[]): void {
    const hooks = (this.#db.prepare('SELECT * FROM webhooks').all() as Row[]).map(toHook);
    for (const h of hooks) {
      const wanted = events.filter((e) => h.kinds.includes(e.kind) && this.#opts.inSubtree(h.unit, e.unit));
      if (wanted.length === 0) continue;
      const q = this.#queues.get(h.id) ?? { busy: false, items: [] };
      this.#queues.set(h.id, q);
      q.items.push(wanted);
      while (q.items.length > this.#opts.maxQueued) { q.items.shift(); this.dropped++; }
      if (!q.busy) void this.#drain(h.id, q);
    }
  }

  /** idle resolves when no delivery is waiting or in flight (tests, shutdown). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.#queues.values()].some((q) => q.busy || q.items.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  async #drain(id: number, q: { busy: boolean; items: GatewayEvent[][] }): Promise<void> {
    q.busy = true;
    try {
      for (let batch = q.items.shift(); batch; batch = q.items.shift()) await this.#send(id, batch);
    } finally {
      q.busy = false;
    }
  }

  async #send(id: number, events: GatewayEvent[]): Promise<void> {
    const row = this.#db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as Row | undefined;
    if (!row) return;
    let secret: string;
    try {
      secret = this.#cipher.open(`webhook-${id}`, row.secret);
    } catch {
      this.#record(id, 'secret-unreadable', true);
      return;
    }
    const body = JSON.stringify({ events: events.map((e) => ({ id: e.id, at: e.at, kind: e.kind, unit: e.unit, camera: e.camera, params: e.params })) });
    for (let attempt = 0; attempt <= this.#opts.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.#opts.retryMs * 2 ** (attempt - 1)));
      if (!this.get(id)) return;
      const timestamp = String(Date.now());
      let status: string;
      try {
        const res = await fetch(row.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'sharp-eyes-gateway', 'x-seg-event': events.map((e) => e.kind).filter((k, i, a) => a.indexOf(k) === i).join(','), 'x-seg-timestamp': timestamp, 'x-seg-signature': sign(secret, timestamp, body) },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.#opts.timeoutMs),
        });
        await res.body?.cancel().catch(() => undefined);
        status = String(res.status);
        if (res.ok) { this.#record(id, status, false); return; }
      } catch (err) {
        status = (err as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable';
      }
      // The receiver's address stays out of the log line's message; the hook's id says which.
      this.#opts.log.warn({ webhook: id, status, attempt }, 'webhook delivery failed');
      this.#record(id, status, true);
    }
  }

  #record(id: number, status: string, failed: boolean): void {
    this.#db.prepare(`UPDATE webhooks SET last_status = ?, last_at = ?, failures = ${failed ? 'failures + 1' : '0'} WHERE id = ?`).run(status, Date.now(), id);
  }
}
