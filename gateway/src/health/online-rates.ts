// Online rate (在线率) per org unit at every level, kept up to date one transition at a time.
import type { OrgTree } from '../access/org-tree.js';

/** Liveness is what the health monitor last concluded about a camera. */
export type Liveness = 'online' | 'offline' | 'unknown';

/** UnitHealth counts the cameras of a unit's whole subtree. */
export interface UnitHealth {
  total: number;
  online: number;
  offline: number;
  unknown: number;
  /** rate is online / total (0 for a unit without cameras): the figure a centre is judged on. */
  rate: number;
  /** credentialsRejected counts cameras that answer but refuse the stored credentials (online all the same). */
  credentialsRejected: number;
}

/**
 * OnlineRates holds, for every unit, how many cameras of its subtree are online and offline. A transition walks the
 * camera's unit and its ancestors (at most six levels), so a sweep of 33,000 cameras costs nothing to aggregate and a
 * query for any unit is a lookup.
 */
export class OnlineRates {
  #tree: OrgTree;
  #total = new Map<string, number>();
  #online = new Map<string, number>();
  #offline = new Map<string, number>();
  #rejected = new Map<string, number>();

  constructor(tree: OrgTree) {
    this.#tree = tree;
  }

  /** add counts a camera of unit in the given state; it throws TypeError for an unknown unit. */
  add(unit: string, state: Liveness): void {
    this.#walk(unit, (u) => this.#total.set(u, (this.#total.get(u) ?? 0) + 1));
    this.#count(unit, state, 1);
  }

  /** remove forgets a camera of unit that was in state. */
  remove(unit: string, state: Liveness): void {
    this.#walk(unit, (u) => this.#total.set(u, (this.#total.get(u) ?? 0) - 1));
    this.#count(unit, state, -1);
  }

  /** move records that a camera of unit went from one state to another. */
  move(unit: string, from: Liveness, to: Liveness): void {
    if (from === to) return;
    this.#count(unit, from, -1);
    this.#count(unit, to, 1);
  }

  /** rejected counts (+1) or uncounts (-1) a camera of unit whose credentials are refused. */
  rejected(unit: string, delta: 1 | -1): void {
    this.#walk(unit, (u) => this.#rejected.set(u, (this.#rejected.get(u) ?? 0) + delta));
  }

  /** of returns the counts of unit's subtree. */
  of(unit: string): UnitHealth {
    const total = this.#total.get(unit) ?? 0;
    const online = this.#online.get(unit) ?? 0;
    const offline = this.#offline.get(unit) ?? 0;
    return { total, online, offline, unknown: total - online - offline, rate: total === 0 ? 0 : online / total, credentialsRejected: this.#rejected.get(unit) ?? 0 };
  }

  #count(unit: string, state: Liveness, delta: number): void {
    if (state === 'unknown') return;
    const map = state === 'online' ? this.#online : this.#offline;
    this.#walk(unit, (u) => map.set(u, (map.get(u) ?? 0) + delta));
  }

  #walk(unit: string, fn: (code: string) => void): void {
    let cur = this.#tree.get(unit);
    if (!cur) throw new TypeError(`unknown unit ${unit}`);
    for (;;) {
      fn(cur.code);
      if (cur.parent === null) return;
      cur = this.#tree.get(cur.parent)!;
    }
  }
}
