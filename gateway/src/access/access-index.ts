// Who may see which camera: the one place that answers it. Default visibility is the subtree of the user's unit;
// push-down grants add cameras from elsewhere, with their actions and expiry.
import type { OrgTree } from './org-tree.js';
import { GrantBook, type GrantRecord } from './grants.js';
import { problem, type Problem } from '../problem.js';

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
export type Decision = { allow: true; grant?: number } | { allow: false; reason: DenialReason };

/**
 * DenialReason says why: 'unknown-camera' and 'outside-subtree' are for cameras the subject may not know of (callers
 * answer as if they did not exist); 'role' and 'not-granted' for cameras she knows, whose action she lacks.
 */
export type DenialReason = 'unknown-camera' | 'outside-subtree' | 'role' | 'not-granted';

/** GrantRequest is what an administrator asks to push down. */
export interface GrantRequest {
  toUnit: string;
  /** cameras are the cameras given (those of the group for a group grant). */
  cameras: readonly string[];
  group: number | null;
  actions: readonly Action[];
  expiresAt: number | null;
  reGrant: boolean;
  /** parent is the received grant this one passes on; null gives cameras of the grantor's own subtree. */
  parent: number | null;
}

/** roleAllows says whether any of the roles may perform the action at all. */
export function roleAllows(roles: readonly Role[], action: Action): boolean {
  return roles.some((r) => ACTION_ROLES[action].includes(r));
}

const ACTION_ROLES: Record<Action, readonly Role[]> = {
  live: ['admin', 'operator', 'viewer', 'mediator'],
  playback: ['admin', 'operator', 'viewer'],
  ptz: ['admin', 'operator'],
  wall: ['admin', 'operator'],
};

/** AccessIndex answers "may S do A on C" and "which cameras may S see" over the tree and the camera placements. */
export class AccessIndex {
  readonly tree: OrgTree;
  /** grants are the push-down grants in force. */
  readonly grants = new GrantBook();
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

  /**
   * decide answers whether subject may perform action on camera at time now: her role must allow the action, and the
   * camera must lie in her unit's subtree or be given to her unit by a grant in force that carries the action. A camera
   * she cannot know of at all is refused as unknown before anything else, so that no answer tells it exists.
   */
  decide(subject: Subject, action: Action, camera: string, now = Date.now()): Decision {
    const unit = this.#unitOf.get(camera);
    if (unit === undefined) return { allow: false, reason: 'unknown-camera' };
    const own = this.tree.contains(subject.unit, unit);
    if (!own && !this.grants.holdsAny(subject.unit, camera, now)) return { allow: false, reason: 'outside-subtree' };
    if (!roleAllows(subject.roles, action)) return { allow: false, reason: 'role' };
    if (own) return { allow: true };
    const grant = this.grants.holder(subject.unit, camera, action, now);
    if (grant !== undefined) return { allow: true, grant };
    return { allow: false, reason: 'not-granted' };
  }

  /** may is decide(...).allow. */
  may(subject: Subject, action: Action, camera: string, now = Date.now()): boolean {
    return this.decide(subject, action, camera, now).allow;
  }

  /**
   * checkGrant says why an administrator may not push cameras down as asked, or undefined when she may: only to a unit
   * strictly below her own; only cameras she holds (her subtree's, or a received grant that allows re-granting); never
   * more actions or a later expiry than she holds; never a camera the receiving unit already sees.
   */
  checkGrant(grantor: Subject, req: GrantRequest, now = Date.now()): Problem | undefined {
    if (!grantor.roles.includes('admin')) return problem('admin-only', 'only administrators push cameras down');
    if (!this.tree.get(req.toUnit)) return problem('unit-unknown', `unit ${req.toUnit} is not in the governance tree`, { unit: req.toUnit });
    if (req.toUnit === grantor.unit || !this.tree.contains(grantor.unit, req.toUnit)) return problem('grant-not-below', `unit ${req.toUnit} is not below your unit: grants are pushed down`, { unit: req.toUnit });
    if (req.actions.length === 0) return problem('grant-no-action', 'a grant needs at least one action (live, playback, ptz, wall)');
    if (req.expiresAt !== null && req.expiresAt <= now) return problem('grant-expiry-past', 'the expiry is in the past');
    if (req.cameras.length === 0) return problem('grant-no-camera', 'a grant needs at least one camera');
    let parent: GrantRecord | undefined;
    if (req.parent !== null) {
      parent = this.grants.get(req.parent);
      if (!parent || parent.toUnit !== grantor.unit || (parent.expiresAt !== null && parent.expiresAt <= now)) return problem('grant-not-held', `grant ${req.parent} is not one your unit holds`, { grant: req.parent });
      if (!parent.reGrant) return problem('grant-no-regrant', `grant ${req.parent} does not allow granting onward`, { grant: req.parent });
      const extra = req.actions.find((a) => !parent!.actions.includes(a));
      if (extra) return problem('grant-action-not-held', `you hold ${parent.actions.join(', ')} on these cameras, not ${extra}`, { extra });
      if (parent.expiresAt !== null && (req.expiresAt === null || req.expiresAt > parent.expiresAt)) return problem('grant-outlasts', `your grant ends ${new Date(parent.expiresAt).toISOString()}: a re-grant cannot last longer`, { until: parent.expiresAt });
      if (req.group !== null && req.group !== parent.group) return problem('grant-group-changed', 'a re-grant passes on the group it received');
      const held = new Set(this.grants.camerasOf(parent));
      const missing = req.cameras.find((c) => !held.has(c));
      if (missing) return problem('grant-camera-not-held', `camera ${missing} is not in grant ${req.parent}`, { camera: missing, grant: req.parent });
    }
    for (const c of req.cameras) {
      const unit = this.#unitOf.get(c);
      if (unit === undefined) return problem('camera-unknown', `no camera ${c}`, { camera: c });
      if (!parent && !this.tree.contains(grantor.unit, unit)) return problem('camera-outside', `camera ${c} is outside your part of the tree (pass on a grant you received instead)`, { camera: c });
      if (this.tree.contains(req.toUnit, unit)) return problem('grant-already-sees', `camera ${c} already belongs to unit ${req.toUnit}'s part of the tree`, { camera: c, unit: req.toUnit });
    }
    return undefined;
  }

  /** mayRevoke says whether an administrator may revoke a grant: its grantor's unit lies in her subtree. */
  mayRevoke(subject: Subject, grant: GrantRecord): boolean {
    return subject.roles.includes('admin') && this.tree.contains(subject.unit, grant.grantorUnit);
  }

  /**
   * managesAccount says whether an administrator manages an account (its password, roles, state and sessions): every
   * account of the units strictly below hers, and the non-administrator accounts of her own unit. Administrators of
   * one unit are peers: each is managed from above, never by the other.
   */
  managesAccount(admin: Subject, account: { userId: number; unit: string; roles: readonly Role[] }): boolean {
    if (!admin.roles.includes('admin') || account.userId === admin.userId) return false;
    if (account.unit === admin.unit) return !account.roles.includes('admin');
    return this.tree.contains(admin.unit, account.unit);
  }

  /** mayAssignRoles says whether an administrator may give these roles to an account of unit: no peer administrators. */
  mayAssignRoles(admin: Subject, unit: string, roles: readonly Role[]): boolean {
    if (!admin.roles.includes('admin') || !this.tree.contains(admin.unit, unit)) return false;
    return unit !== admin.unit || !roles.includes('admin');
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

  /** visible returns the ids of every camera subject may view live: her subtree's, then those granted to her unit. */
  visible(subject: Subject, now = Date.now()): string[] {
    if (!roleAllows(subject.roles, 'live')) return [];
    const out = this.camerasUnder(subject.unit);
    for (const c of this.granted(subject, now)) out.push(c);
    return out;
  }

  /** granted returns the cameras outside subject's subtree that grants let her view live. */
  granted(subject: Subject, now = Date.now()): string[] {
    if (!roleAllows(subject.roles, 'live')) return [];
    return [...this.grants.received(subject.unit, 'live', now)].filter((c) => {
      const unit = this.#unitOf.get(c);
      return unit !== undefined && !this.tree.contains(subject.unit, unit);
    });
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
