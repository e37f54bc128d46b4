// The audit trail's chain over text the store changes, its key, the repeat filter, and the login guard: table and
// property tests on the real classes with an in-memory SQLite.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditLog, SEAL_ACTION } from '../../../gateway/src/audit/audit-log.js';
import { RepeatFilter } from '../../../gateway/src/audit/repeat-filter.js';
import type { AuditEvent } from '../../../gateway/src/audit/audit-log.js';
import { LoginGuard } from '../../../gateway/src/auth/login-guard.js';
import { guardFormula, unguardFormula } from '../../../gateway/src/catalog/import/csv-formula.js';
import { csvField } from '../../../gateway/src/catalog/import/exporter.js';
import { MasterKey } from '../../../gateway/src/secrets/master-key.js';
import { openDatabase } from '../../../gateway/src/store/database.js';
import { illFormedPath, wellFormed } from '../../../gateway/src/store/well-formed.js';

const KEY = new MasterKey(Buffer.alloc(32, 3)).derive('audit-chain');
const event = (username: string, detail: Record<string, unknown> = {}): AuditEvent => ({ userId: null, username, unit: null, action: 'login.failed', detail, remote: '10.0.0.1' });

describe('the audit chain over what the store keeps', () => {
  it('holds after entries whose text SQLite cannot keep as it came (lone surrogates anywhere)', () => {
    const db = openDatabase(':memory:');
    const log = new AuditLog(db, KEY);
    log.record(event('ab\ud800cd', { note: 'x\udfffy', ['k\ud801']: ['\ud83d'] }));
    log.record({ ...event('ok'), camera: 'c\udc00', unit: '\ud800', remote: '\udbff' });
    expect(log.verify()).toEqual({ entries: 3, unkeyed: 0 });
    const row = db.prepare('SELECT username FROM audit_log WHERE id = 2').get() as { username: string };
    expect(row.username).toBe('ab\ufffdcd');
    db.close();
  });

  it('holds for any text at all (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), { minLength: 1, maxLength: 8 }), (pairs) => {
      const db = openDatabase(':memory:');
      const log = new AuditLog(db, KEY);
      for (const [name, note] of pairs) log.record(event(name, { note }));
      const ok = log.verify().broken === undefined;
      db.close();
      return ok;
    }), { numRuns: 100 });
  });

  it('is sealed once, keyed after the seal, and refused under another key', () => {
    const db = openDatabase(':memory:');
    new AuditLog(db, KEY).record(event('a'));
    new AuditLog(db, KEY).record(event('b'));
    expect((db.prepare('SELECT count(*) AS n FROM audit_log WHERE action = ?').get(SEAL_ACTION) as { n: number }).n).toBe(1);
    expect(new AuditLog(db, KEY, { readOnly: true }).verify()).toEqual({ entries: 3, unkeyed: 0 });
    const other = new MasterKey(Buffer.alloc(32, 4)).derive('audit-chain');
    expect(new AuditLog(db, other, { readOnly: true }).verify().broken).toMatchObject({ id: 1 });
    db.close();
  });
});

describe('CSV cells never run as formulas, and read back as written', () => {
  it('guards what a spreadsheet runs: = + - @ tab CR, after any apostrophes', () => {
    expect(['=1+2', '+1', '-A1', '@SUM(A1)', '\tx', '\rx', "'=x", "''+y"].map(guardFormula)).toEqual(["'=1+2", "'+1", "'-A1", "'@SUM(A1)", "'\tx", "'\rx", "''=x", "'''+y"]);
    expect(['东门', "Tom's", "'quoted", '1-2', ''].map(guardFormula)).toEqual(['东门', "Tom's", "'quoted", '1-2', '']);
    expect(csvField(-33.5)).toBe('-33.5');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
  });

  it('gives back exactly the text, whatever it is (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => unguardFormula(guardFormula(s)) === s), { numRuns: 2000 });
  });
});

describe('well-formed text', () => {
  it('names the first field holding a lone surrogate, and replaces them as the store would', () => {
    expect(illFormedPath({ a: 'ok', b: [{ c: 'x\ud800' }] })).toBe('b[0].c');
    expect(illFormedPath({ ['k\udc00']: 1 })).toBe('k\udc00');
    expect(illFormedPath({ a: '😀 ok' })).toBeUndefined();
    expect(wellFormed('a\ud800b😀')).toBe('a\ufffdb😀');
  });
});

describe('RepeatFilter', () => {
  it('writes the first event at once, its repeats as one summary when the window ends, and bounds what it counts', () => {
    const written: Array<{ e: AuditEvent; at?: number }> = [];
    const f = new RepeatFilter((e, at) => written.push({ e, at }), { windowMs: 1000, maxKeys: 3 });
    try {
      for (let i = 0; i < 50; i++) f.note('k', event('x'), 100 + i);
      expect(written).toHaveLength(1);
      f.flush(500);
      expect(written).toHaveLength(1);
      f.flush(1200);
      expect(written).toHaveLength(2);
      expect(written[1]!.e.detail).toEqual({ repeats: 49, from: 100, to: 149 });
      // A new window starts afresh.
      f.note('k', event('x'), 1300);
      expect(written).toHaveLength(3);
      // More distinct keys than maxKeys: counted under one overflow entry, never one row each.
      for (let i = 0; i < 1000; i++) f.note(`flood-${i}`, event(`u${i}`), 1400);
      expect(written.length).toBeLessThanOrEqual(6);
      f.flush(5000, true);
      expect(written.some((w) => w.e.action === 'audit.flood' && (w.e.detail?.repeats as number) > 900)).toBe(true);
    } finally {
      f.close();
    }
  });
});

describe('LoginGuard', () => {
  const opts = { maxFailures: 3, lockMs: 60_000, maxPerAddress: 100, windowMs: 600_000, accountFailures: 10, accountDelayMs: 5000 };

  it('locks an account for the address its failures came from, in any case of its name', () => {
    const g = new LoginGuard(opts);
    for (const name of ['Admin', 'ADMIN', 'admin']) g.failed(name, 'A', 1000);
    expect(g.check('admin', 'A', 1001)).toMatchObject({ kind: 'locked' });
    expect(g.check('aDmIn', 'A', 1001)).toMatchObject({ kind: 'locked' });
    expect(g.check('admin', 'B', 1001)).toBeUndefined();
    expect(g.check('admin', 'A', 61_001)).toBeUndefined();
  });

  it('slows an account failing from everywhere for unfamiliar addresses only', () => {
    const g = new LoginGuard(opts);
    g.succeeded('boss', 'HOME');
    for (let i = 0; i < 10; i++) g.failed('boss', `bot-${i}`, 1000 + i);
    expect(g.check('boss', 'HOME', 2000)).toBeUndefined();
    expect(g.check('boss', 'NEW-1', 2000)).toBeUndefined();
    expect(g.check('boss', 'NEW-2', 2001)).toMatchObject({ kind: 'slowed', retryAfterMs: 4999 });
    expect(g.check('boss', 'NEW-2', 7001)).toBeUndefined();
    g.unlock('BOSS');
    expect(g.check('boss', 'NEW-3', 7002)).toBeUndefined();
    expect(g.check('boss', 'NEW-4', 7003)).toBeUndefined();
  });

  it('refuses an address that keeps failing, whatever names it tries', () => {
    const g = new LoginGuard({ ...opts, maxPerAddress: 5 });
    for (let i = 0; i < 5; i++) g.failed(`user-${i}`, 'X', 1000);
    expect(g.check('anyone', 'X', 1001)).toMatchObject({ kind: 'throttled' });
    expect(g.check('anyone', 'Y', 1001)).toBeUndefined();
  });
});
