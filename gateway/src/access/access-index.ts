// Who may see which camera: the one place that answers it. Default visibility is the subtree of the user's unit.
import type { OrgTree } from './org-tree.js';

/** Role is what a user may do; roles combine. */
export type Role = 'admin' | 'operator' | 'viewer' | 'mediator';

/** ROLES lists every role. */
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer', 'mediator'];

/** Action is what is done to a camera. */
export type Action = 'live' | 'playback' | 'ptz' | 'wall';

/** Subject is the user asking. */
export interface Subject {
  userId: number;
  unit: string;
  roles: readonly Role[];
}

/** CameraPlacement is what the model knows of a camera: where it stands. */
export interface CameraPlacement {
  id: string;
  unit: string;
}

/** Decision explains an answer, so that a refusal can say why. */
export type Decision = { allow: true } | { allow: false; reason: 'unknown-camera' | 'outside-subtree' | 'role' };

const ACTION_ROLES: Record<Action, readonly Role[]> = {
  live: ['admin', 'operator', 'viewer', 'mediator'],
  playback: ['admin', 'operator', 'viewer'],
  ptz: ['admin', 'operator'],
  wall: ['admin', 'operator'],
};

/** AccessIndex answers "may S do A on C" and "which cameras may S see" over the tree and the camera placements. */
export class AccessIndex {
  readonly tree: OrgTree;
  #unitOf = new Map<string, string>();
  /** cameras sorted by the pre-order number of their unit: a subtree's cameras are one contiguous slice. */
  #sorted: Array<{ id: string; order: number }> = [];
  #dirty = true;

  constructor(tree: OrgTree, cameras: Iterable<CameraPlacement>) {
    this.tree = tree;
    for (const c of cameras) this.place(c);
  }

  /** place adds or moves a camera; it throws TypeError for an unknown unit. */
  place(camera: CameraPlacement): void {
    if (!this.tree.get(camera.unit)) throw new TypeError(`camera ${camera.id} names unknown unit ${camera.unit}`);
    this.#unitOf.set(camera.id, camera.unit);
    this.#dirty = true;
  }

  /** remove forgets a camera. */
  remove(id: string): void {
    if (this.#unitOf.delete(id)) this.#dirty = true;
  }

  get size(): number {
    return this.#unitOf.size;
  }

  /** unitOf returns a camera's owner unit. */
  unitOf(id: string): string | undefined {
    return this.#unitOf.get(id);
  }

  /** decide answers whether subject may perform action on camera, with the reason of a refusal. */
  decide(subject: Subject, action: Action, camera: string): Decision {
    const unit = this.#unitOf.get(camera);
    if (unit === undefined) return { allow: false, reason: 'unknown-camera' };
    if (!subject.roles.some((r) => ACTION_ROLES[action].includes(r))) return { allow: false, reason: 'role' };
    if (!this.tree.contains(subject.unit, unit)) return { allow: false, reason: 'outside-subtree' };
    return { allow: true };
  }

  /** may is decide(...).allow. */
  may(subject: Subject, action: Action, camera: string): boolean {
    return this.decide(subject, action, camera).allow;
  }

  /** canSeeUnit says whether subject may browse unit (it lies in her subtree). */
  canSeeUnit(subject: Subject, unit: string): boolean {
    return this.tree.contains(subject.unit, unit);
  }

  /** camerasUnder returns the ids of every camera in the subtree of unit, in tree order. */
  camerasUnder(unit: string): string[] {
    const range = this.tree.range(unit);
    if (!range) return [];
    const sorted = this.#index();
    const out: string[] = [];
    for (let i = lowerBound(sorted, range[0]); i < sorted.length && sorted[i]!.order <= range[1]; i++) out.push(sorted[i]!.id);
    return out;
  }

  /** countUnder counts the cameras in the subtree of unit in O(log n). */
  countUnder(unit: string): number {
    const range = this.tree.range(unit);
    if (!range) return 0;
    const sorted = this.#index();
    return lowerBound(sorted, range[1] + 1) - lowerBound(sorted, range[0]);
  }

  /** visible returns the ids of every camera subject may view live. */
  visible(subject: Subject): string[] {
    if (!subject.roles.some((r) => ACTION_ROLES.live.includes(r))) return [];
    return this.camerasUnder(subject.unit);
  }

  #index(): Array<{ id: string; order: number }> {
    if (this.#dirty) {
      this.#sorted = [...this.#unitOf].map(([id, unit]) => ({ id, order: this.tree.order(unit) }));
      this.#sorted.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.#dirty = false;
    }
    return this.#sorted;
  }
}

function lowerBound(sorted: Array<{ order: number }>, order: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.order < order) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
