// The governance tree as an index: pre/post-order numbers make "is A above B" one comparison.

/** UnitLevel is a level of the governance tree, top to bottom. */
export type UnitLevel = 'province' | 'city' | 'county' | 'township' | 'village' | 'grid';

/** UNIT_LEVELS lists the levels from the top. */
export const UNIT_LEVELS: readonly UnitLevel[] = ['province', 'city', 'county', 'township', 'village', 'grid'];

/** OrgUnit is one node of the tree; code is its region code (GB/T 2260 style, 12 digits down to village). */
export interface OrgUnit {
  code: string;
  parent: string | null;
  name: string;
  level: UnitLevel;
}

interface Node {
  unit: OrgUnit;
  children: string[];
  pre: number;
  post: number;
  depth: number;
}

/** OrgTree indexes units; it throws TypeError on a forest, a cycle or a dangling parent. */
export class OrgTree {
  readonly root: OrgUnit;
  #nodes = new Map<string, Node>();
  #preorder: OrgUnit[] = [];

  constructor(units: Iterable<OrgUnit>) {
    let root: OrgUnit | undefined;
    for (const unit of units) {
      if (this.#nodes.has(unit.code)) throw new TypeError(`duplicate unit code ${unit.code}`);
      this.#nodes.set(unit.code, { unit, children: [], pre: -1, post: -1, depth: 0 });
    }
    for (const node of this.#nodes.values()) {
      const parent = node.unit.parent;
      if (parent === null) {
        if (root) throw new TypeError(`two roots: ${root.code} and ${node.unit.code}`);
        root = node.unit;
        continue;
      }
      const p = this.#nodes.get(parent);
      if (!p) throw new TypeError(`unit ${node.unit.code} names unknown parent ${parent}`);
      p.children.push(node.unit.code);
    }
    if (!root) throw new TypeError('the tree has no root unit');
    this.root = root;
    for (const node of this.#nodes.values()) node.children.sort();
    // Iterative DFS: a deep or degenerate tree must not overflow the stack.
    let counter = 0;
    const stack: Array<{ code: string; depth: number; next: number }> = [{ code: root.code, depth: 0, next: 0 }];
    this.#nodes.get(root.code)!.pre = counter++;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const node = this.#nodes.get(top.code)!;
      if (top.next < node.children.length) {
        const child = node.children[top.next++]!;
        const c = this.#nodes.get(child)!;
        c.pre = counter++;
        c.depth = top.depth + 1;
        stack.push({ code: child, depth: top.depth + 1, next: 0 });
      } else {
        node.post = counter - 1;
        stack.pop();
      }
    }
    const orphan = [...this.#nodes.values()].find((n) => n.pre < 0);
    if (orphan) throw new TypeError(`unit ${orphan.unit.code} is not reachable from the root (cycle?)`);
    this.#preorder = new Array<OrgUnit>(this.#nodes.size);
    for (const n of this.#nodes.values()) this.#preorder[n.pre] = n.unit;
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** get returns a unit, or undefined. */
  get(code: string): OrgUnit | undefined {
    return this.#nodes.get(code)?.unit;
  }

  /** children returns the child units of code, sorted by code. */
  children(code: string): OrgUnit[] {
    return (this.#nodes.get(code)?.children ?? []).map((c) => this.#nodes.get(c)!.unit);
  }

  /** contains says whether unit lies in the subtree of ancestor (a unit contains itself). */
  contains(ancestor: string, unit: string): boolean {
    const a = this.#nodes.get(ancestor);
    const u = this.#nodes.get(unit);
    return !!a && !!u && a.pre <= u.pre && u.pre <= a.post;
  }

  /** range returns the pre-order interval [from, to] of the subtree of code. */
  range(code: string): [number, number] | undefined {
    const n = this.#nodes.get(code);
    return n ? [n.pre, n.post] : undefined;
  }

  /** order returns the pre-order number of code (-1 when unknown). */
  order(code: string): number {
    return this.#nodes.get(code)?.pre ?? -1;
  }

  /** path returns the units from the root down to code. */
  path(code: string): OrgUnit[] {
    const out: OrgUnit[] = [];
    let cur = this.#nodes.get(code)?.unit;
    while (cur) {
      out.unshift(cur);
      cur = cur.parent === null ? undefined : this.#nodes.get(cur.parent)?.unit;
    }
    return out;
  }

  /** units returns every unit in pre-order. */
  units(): readonly OrgUnit[] {
    return this.#preorder;
  }

  /** subtree returns the units of the subtree of code (itself first), in pre-order. */
  subtree(code: string): OrgUnit[] {
    const n = this.#nodes.get(code);
    return n ? this.#preorder.slice(n.pre, n.post + 1) : [];
  }
}
