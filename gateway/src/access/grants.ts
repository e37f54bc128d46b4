// Push-down grants (分级权限推送): an upper unit gives chosen cameras, or a camera group, to a unit below it, with
// actions and an optional expiry. A grant may allow re-granting onward; a re-grant never exceeds its parent, and
// revoking a grant revokes everything granted from it. Pure: no I/O, the store feeds it.
import type { Action } from './access-index.js';

/** ACTIONS lists every action a grant can carry. */
export const ACTIONS: readonly Action[] = ['live', 'playback', 'ptz', 'wall'];

/** GrantRecord is one grant as the store keeps it. */
export interface GrantRecord {
  id: number;
  grantorUser: number;
  grantorUnit: string;
  toUnit: string;
  /** cameras are the granted cameras; empty when the grant is of a group. */
  cameras: readonly string[];
  group: number | null;
  actions: readonly Action[];
  expiresAt: number | null;
  reGrant: boolean;
  /** parent is the grant this one was re-granted from. */
  parent: number | null;
  createdAt: number;
}

/** CameraGroup is a named set of cameras of one unit's subtree, pushed as one (e.g. "county road junctions"). */
export interface CameraGroup {
  id: number;
  name: string;
  ownerUnit: string;
  cameras: readonly string[];
}

const BIT: Record<Action, number> = { live: 1, playback: 2, ptz: 4, wall: 8 };

/** actionMask packs actions into bits. */
export function actionMask(actions: readonly Action[]): number {
  let m = 0;
  for (const a of actions) m |= BIT[a];
  return m;
}

/**
 * GrantBook holds the live grants and indexes them by receiving unit and camera, so that "does unit U hold action A
 * on camera C now" is two map lookups and a scan of the (one or two) grants that give C to U.
 */
export class GrantBook {
  #grants = new Map<number, GrantRecord>();
  #masks = new Map<number, number>();
  #children = new Map<number, Set<number>>();
  #groups = new Map<number, CameraGroup>();
  #byGroup = new Map<number, Set<number>>();
  /** #received: unit → camera → ids of the grants that give the camera to the unit. */
  #received = new Map<string, Map<string, Set<number>>>();

  get size(): number {
    return this.#grants.size;
  }

  get(id: number): GrantRecord | undefined {
    return this.#grants.get(id);
  }

  group(id: number): CameraGroup | undefined {
    return this.#groups.get(id);
  }

  groups(): IterableIterator<CameraGroup> {
    return this.#groups.values();
  }

  /** all iterates every live grant. */
  all(): IterableIterator<GrantRecord> {
    return this.#grants.values();
  }

  /** camerasOf returns the cameras a grant gives (a group's current members for a group grant). */
  camerasOf(g: GrantRecord): readonly string[] {
    return g.group !== null ? this.#groups.get(g.group)?.cameras ?? [] : g.cameras;
  }

  /** children returns the grants re-granted directly from a grant. */
  children(id: number): number[] {
    return [...(this.#children.get(id) ?? [])];
  }

  /** add indexes a grant (its parent, when it has one, must be known). */
  add(g: GrantRecord): void {
    if (this.#grants.has(g.id)) this.#unindex(g.id);
    this.#grants.set(g.id, g);
    this.#masks.set(g.id, actionMask(g.actions));
    if (g.parent !== null) {
      let c = this.#children.get(g.parent);
      if (!c) this.#children.set(g.parent, c = new Set());
      c.add(g.id);
    }
    if (g.group !== null) {
      let s = this.#byGroup.get(g.group);
      if (!s) this.#byGroup.set(g.group, s = new Set());
      s.add(g.id);
    }
    this.#index(g);
  }

  /** descendants returns a grant and everything re-granted from it, parents first. */
  descendants(id: number): number[] {
    const out: number[] = [];
    const stack = [id];
    while (stack.length > 0) {
      const cur = stack.pop()!;
      if (!this.#grants.has(cur)) continue;
      out.push(cur);
      for (const c of this.#children.get(cur) ?? []) stack.push(c);
    }
    return out;
  }

  /** revoke removes a grant and every grant derived from it; it returns the ids removed. */
  revoke(id: number): number[] {
    const ids = this.descendants(id);
    for (const x of ids.reverse()) this.#unindex(x);
    return ids;
  }

  /**
   * planWithdraw says what taking one camera out of a grant changes: the grant and every grant passed on from it that
   * gives the camera lose it; those left with no camera end (with their own descendants). It changes nothing.
   */
  planWithdraw(id: number, camera: string): { shrunk: number[]; ended: number[] } {
    const g = this.#grants.get(id);
    if (!g || g.group !== null || !g.cameras.includes(camera)) return { shrunk: [], ended: [] };
    const shrunk: number[] = [];
    const ended: number[] = [];
    for (const x of this.descendants(id)) {
      if (ended.includes(x)) continue;
      const r = this.#grants.get(x)!;
      if (r.group !== null || !r.cameras.includes(camera)) continue;
      if (r.cameras.length === 1) ended.push(...this.descendants(x).filter((d) => !ended.includes(d)));
      else shrunk.push(x);
    }
    return { shrunk: shrunk.filter((x) => !ended.includes(x)), ended };
  }

  /** withdraw takes one camera out of a grant as planWithdraw says, and returns the plan. */
  withdraw(id: number, camera: string): { shrunk: number[]; ended: number[] } {
    const plan = this.planWithdraw(id, camera);
    for (const x of plan.shrunk) {
      const r = this.#grants.get(x)!;
      this.#unindexCameras(r);
      const next = { ...r, cameras: r.cameras.filter((c) => c !== camera) };
      this.#grants.set(x, next);
      this.#index(next);
    }
    for (const x of [...plan.ended].reverse()) this.#unindex(x);
    return plan;
  }

  /** setGroup adds or changes a group: the grants of the group follow its members. */
  setGroup(group: CameraGroup): void {
    const grants = [...(this.#byGroup.get(group.id) ?? [])];
    for (const id of grants) this.#unindexCameras(this.#grants.get(id)!);
    this.#groups.set(group.id, group);
    for (const id of grants) this.#index(this.#grants.get(id)!);
  }

  /** holder returns the id of a grant that gives unit the action on camera at time now, or undefined. */
  holder(unit: string, camera: string, action: Action, now: number): number | undefined {
    const ids = this.#received.get(unit)?.get(camera);
    if (!ids) return undefined;
    const bit = BIT[action];
    for (const id of ids) {
      const g = this.#grants.get(id)!;
      if ((this.#masks.get(id)! & bit) !== 0 && (g.expiresAt === null || g.expiresAt > now)) return id;
    }
    return undefined;
  }

  /** holdsAny says whether a grant in force gives unit any action on camera at time now. */
  holdsAny(unit: string, camera: string, now: number): boolean {
    const ids = this.#received.get(unit)?.get(camera);
    if (!ids) return false;
    for (const id of ids) {
      const g = this.#grants.get(id)!;
      if (this.#masks.get(id)! !== 0 && (g.expiresAt === null || g.expiresAt > now)) return true;
    }
    return false;
  }

  /** received iterates the cameras unit holds the action on at time now. */
  *received(unit: string, action: Action, now: number): Generator<string> {
    const byCamera = this.#received.get(unit);
    if (!byCamera) return;
    for (const camera of byCamera.keys()) if (this.holder(unit, camera, action, now) !== undefined) yield camera;
  }

  /** memoryEntries counts the (unit, camera, grant) entries of the index, for sizing. */
  get entries(): number {
    let n = 0;
    for (const m of this.#received.values()) for (const s of m.values()) n += s.size;
    return n;
  }

  #index(g: GrantRecord): void {
    let byCamera = this.#received.get(g.toUnit);
    if (!byCamera) this.#received.set(g.toUnit, byCamera = new Map());
    for (const camera of this.camerasOf(g)) {
      let ids = byCamera.get(camera);
      if (!ids) byCamera.set(camera, ids = new Set());
      ids.add(g.id);
    }
  }

  #unindexCameras(g: GrantRecord): void {
    const byCamera = this.#received.get(g.toUnit);
    if (!byCamera) return;
    for (const camera of this.camerasOf(g)) {
      const ids = byCamera.get(camera);
      if (!ids) continue;
      ids.delete(g.id);
      if (ids.size === 0) byCamera.delete(camera);
    }
    if (byCamera.size === 0) this.#received.delete(g.toUnit);
  }

  #unindex(id: number): void {
    const g = this.#grants.get(id);
    if (!g) return;
    this.#unindexCameras(g);
    this.#grants.delete(id);
    this.#masks.delete(id);
    if (g.parent !== null) this.#children.get(g.parent)?.delete(id);
    if (g.group !== null) this.#byGroup.get(g.group)?.delete(id);
    this.#children.delete(id);
  }
}
