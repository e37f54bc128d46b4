// Grants and camera groups in the store. The access model checks a request; this writes it and keeps the model's
// grant book in step. Revoked grants stay in the table (with who revoked them and when) for the record.
import type { Action, AccessIndex, GrantRequest, Subject } from '../access/access-index.js';
import type { CameraGroup, GrantRecord } from '../access/grants.js';
import type { Db } from '../store/database.js';
import { problem, type Problem } from '../problem.js';

/** GrantRow is a grant as listings show it, live or not. */
export interface GrantRow extends GrantRecord {
  revokedAt: number | null;
  revokedBy: number | null;
}

interface Row {
  id: number; grantor_user: number; grantor_unit: string; to_unit: string; group_id: number | null; actions: string;
  expires_at: number | null; regrant: number; parent: number | null; created_at: number; revoked_at: number | null; revoked_by: number | null;
}

/** GrantError is a refused request: its reason, parameters and words. */
export class GrantError extends Error {
  override name = 'GrantError';
  readonly reason: string;
  readonly params?: Record<string, string | number>;

  constructor(p: Problem) {
    super(p.text);
    this.reason = p.reason;
    this.params = p.params;
  }
}

/** GrantStore persists grants and groups and feeds them to the access model. */
export class GrantStore {
  #db: Db;
  #access: AccessIndex;

  constructor(db: Db, access: AccessIndex) {
    this.#db = db;
    this.#access = access;
  }

  /** load puts every group and every grant not revoked into the model (parents before children). */
  load(): void {
    const members = new Map<number, string[]>();
    for (const m of this.#db.prepare('SELECT group_id, camera FROM camera_group_members').iterate() as IterableIterator<{ group_id: number; camera: string }>) {
      const list = members.get(m.group_id);
      if (list) list.push(m.camera);
      else members.set(m.group_id, [m.camera]);
    }
    for (const g of this.#db.prepare('SELECT id, name, owner_unit FROM camera_groups').iterate() as IterableIterator<{ id: number; name: string; owner_unit: string }>) {
      this.#access.grants.setGroup({ id: g.id, name: g.name, ownerUnit: g.owner_unit, cameras: members.get(g.id) ?? [] });
    }
    const cams = new Map<number, string[]>();
    for (const c of this.#db.prepare('SELECT gc.grant_id, gc.camera FROM grant_cameras gc JOIN grants g ON g.id = gc.grant_id WHERE g.revoked_at IS NULL').iterate() as IterableIterator<{ grant_id: number; camera: string }>) {
      const list = cams.get(c.grant_id);
      if (list) list.push(c.camera);
      else cams.set(c.grant_id, [c.camera]);
    }
    for (const r of this.#db.prepare('SELECT * FROM grants WHERE revoked_at IS NULL ORDER BY id').iterate() as IterableIterator<Row>) {
      this.#access.grants.add(this.#record(r, cams.get(r.id) ?? []));
    }
  }

  /** create checks a request against the model, writes it and returns the grant. */
  create(grantor: Subject, req: GrantRequest, now = Date.now()): GrantRecord {
    const why = this.#access.checkGrant(grantor, req, now);
    if (why) throw new GrantError(why);
    const id = this.#db.transaction(() => {
      const r = this.#db.prepare(`INSERT INTO grants (grantor_user, grantor_unit, to_unit, group_id, actions, expires_at, regrant, parent, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(grantor.userId, grantor.unit, req.toUnit, req.group, req.actions.join(','), req.expiresAt, req.reGrant ? 1 : 0, req.parent, now);
      const grantId = Number(r.lastInsertRowid);
      if (req.group === null) {
        const ins = this.#db.prepare('INSERT INTO grant_cameras (grant_id, camera) VALUES (?, ?)');
        for (const c of new Set(req.cameras)) ins.run(grantId, c);
      }
      return grantId;
    })();
    const record: GrantRecord = {
      id, grantorUser: grantor.userId, grantorUnit: grantor.unit, toUnit: req.toUnit, cameras: req.group === null ? [...new Set(req.cameras)] : [],
      group: req.group, actions: [...req.actions], expiresAt: req.expiresAt, reGrant: req.reGrant, parent: req.parent, createdAt: now,
    };
    this.#access.grants.add(record);
    return record;
  }

  /** revoke ends a grant and everything granted from it; it returns the ids ended. */
  revoke(by: Subject, id: number, now = Date.now()): number[] {
    const g = this.#access.grants.get(id);
    if (!g || !this.#access.mayRevoke(by, g)) throw new GrantError(problem('grant-unknown', `no grant ${id} you may revoke`, { grant: id }));
    const ids = this.#access.grants.descendants(id);
    this.#db.transaction(() => {
      const upd = this.#db.prepare('UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL');
      for (const x of ids) upd.run(now, by.userId, x);
    })();
    return this.#access.grants.revoke(id);
  }

  /**
   * withdraw takes one camera out of a grant (and out of what was passed on from it); a grant left with no camera
   * ends. It returns what changed.
   */
  withdraw(by: Subject, id: number, camera: string, now = Date.now()): { shrunk: number[]; ended: number[] } {
    const g = this.#access.grants.get(id);
    if (!g || !this.#access.mayRevoke(by, g)) throw new GrantError(problem('grant-unknown', `no grant ${id} you may change`, { grant: id }));
    if (g.group !== null) throw new GrantError(problem('grant-is-group', 'a group grant gives the whole group: change the group or revoke the grant'));
    const plan = this.#access.grants.planWithdraw(id, camera);
    if (plan.shrunk.length === 0 && plan.ended.length === 0) throw new GrantError(problem('grant-camera-not-held', `grant ${id} does not give camera ${camera}`, { grant: id, camera }));
    this.#db.transaction(() => {
      const del = this.#db.prepare('DELETE FROM grant_cameras WHERE grant_id = ? AND camera = ?');
      for (const x of plan.shrunk) del.run(x, camera);
      const end = this.#db.prepare('UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL');
      for (const x of plan.ended) end.run(now, by.userId, x);
    })();
    return this.#access.grants.withdraw(id, camera);
  }

  /** createGroup makes a group of cameras of the owner's subtree. */
  createGroup(by: Subject, name: string, ownerUnit: string, cameras: readonly string[], now = Date.now()): CameraGroup {
    if (!by.roles.includes('admin')) throw new GrantError(problem('admin-only', 'only administrators make camera groups'));
    if (!this.#access.tree.contains(by.unit, ownerUnit)) throw new GrantError(problem('unit-outside', `unit ${ownerUnit} is outside your part of the tree`, { unit: ownerUnit }));
    const outside = cameras.find((c) => { const u = this.#access.unitOf(c); return u === undefined || !this.#access.tree.contains(ownerUnit, u); });
    if (outside) throw new GrantError(problem('group-camera-outside', `camera ${outside} is not in unit ${ownerUnit}'s part of the tree`, { camera: outside, unit: ownerUnit }));
    if (this.#db.prepare('SELECT 1 FROM camera_groups WHERE owner_unit = ? AND name = ?').get(ownerUnit, name)) throw new GrantError(problem('group-name-taken', `unit ${ownerUnit} already has a group named ${JSON.stringify(name)}`, { unit: ownerUnit, name }));
    const id = this.#db.transaction(() => {
      const r = this.#db.prepare('INSERT INTO camera_groups (name, owner_unit, created_by, created_at) VALUES (?, ?, ?, ?)').run(name, ownerUnit, by.userId, now);
      const gid = Number(r.lastInsertRowid);
      const ins = this.#db.prepare('INSERT INTO camera_group_members (group_id, camera) VALUES (?, ?)');
      for (const c of new Set(cameras)) ins.run(gid, c);
      return gid;
    })();
    const group = { id, name, ownerUnit, cameras: [...new Set(cameras)] };
    this.#access.grants.setGroup(group);
    return group;
  }

  /** list returns the grants (live and ended) given to units of a subtree or by them, newest first. */
  list(scopeUnit: string, opts: { toUnit?: string; includeEnded?: boolean; limit?: number } = {}): GrantRow[] {
    const tree = this.#access.tree;
    const units = JSON.stringify(tree.subtree(scopeUnit).map((u) => u.code));
    const rows = this.#db.prepare(`SELECT * FROM grants WHERE (to_unit IN (SELECT value FROM json_each(?)) OR grantor_unit IN (SELECT value FROM json_each(?)))
      ${opts.toUnit ? 'AND to_unit = ?' : ''} ${opts.includeEnded ? '' : 'AND revoked_at IS NULL'} ORDER BY id DESC LIMIT ?`)
      .all(...[units, units, ...(opts.toUnit ? [opts.toUnit] : []), opts.limit ?? 500]) as Row[];
    const cams = this.#db.prepare('SELECT camera FROM grant_cameras WHERE grant_id = ?');
    return rows.map((r) => ({ ...this.#record(r, r.group_id === null ? (cams.all(r.id) as Array<{ camera: string }>).map((c) => c.camera) : []), revokedAt: r.revoked_at, revokedBy: r.revoked_by }));
  }

  #record(r: Row, cameras: string[]): GrantRecord {
    return {
      id: r.id, grantorUser: r.grantor_user, grantorUnit: r.grantor_unit, toUnit: r.to_unit, cameras, group: r.group_id,
      actions: r.actions.split(',').filter(Boolean) as Action[], expiresAt: r.expires_at, reGrant: r.regrant === 1, parent: r.parent, createdAt: r.created_at,
    };
  }
}
