// The push-down grant model: table tests of its rules, and property tests over generated trees, users and grant
// histories against an independent reference: nobody ever holds a right outside her subtree plus the grants in force.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessIndex, ROLES, type Action, type GrantRequest, type Role, type Subject } from '../../../gateway/src/access/access-index.js';
import { ACTIONS } from '../../../gateway/src/access/grants.js';
import { OrgTree, type OrgUnit } from '../../../gateway/src/access/org-tree.js';

const units: OrgUnit[] = [
  { code: 'city', parent: null, name: 'City', level: 'city' },
  { code: 'c1', parent: 'city', name: 'County 1', level: 'county' },
  { code: 'c2', parent: 'city', name: 'County 2', level: 'county' },
  { code: 't1', parent: 'c1', name: 'Town 1', level: 'township' },
  { code: 't2', parent: 'c1', name: 'Town 2', level: 'township' },
  { code: 'v1', parent: 't1', name: 'Village 1', level: 'village' },
  { code: 'v2', parent: 't1', name: 'Village 2', level: 'village' },
  { code: 'v3', parent: 't2', name: 'Village 3', level: 'village' },
];
const cameras = [
  { id: 'k-c1', unit: 'c1' }, { id: 'k-c1b', unit: 'c1' }, { id: 'k-c2', unit: 'c2' }, { id: 'k-t2', unit: 't2' },
  { id: 'k-v1', unit: 'v1' }, { id: 'k-v3', unit: 'v3' },
];
const who = (unit: string, roles: Role[], userId = 1): Subject => ({ userId, unit, roles });
const T0 = 1_800_000_000_000;
let nextId = 1;
function grant(index: AccessIndex, by: Subject, req: Partial<GrantRequest> & { toUnit: string; cameras: string[] }, now = T0) {
  const full: GrantRequest = { group: null, actions: ['live'], expiresAt: null, reGrant: false, parent: null, ...req };
  const why = index.checkGrant(by, full, now);
  if (why) return why.text;
  const id = nextId++;
  index.grants.add({ id, grantorUser: by.userId, grantorUnit: by.unit, toUnit: full.toUnit, cameras: full.cameras, group: full.group, actions: full.actions, expiresAt: full.expiresAt, reGrant: full.reGrant, parent: full.parent, createdAt: now });
  return id;
}

describe('push-down grants', () => {
  const countyAdmin = who('c1', ['admin']);
  const clerk = who('v1', ['viewer']);
  const townOperator = who('t1', ['operator']);

  it('a county pushes a camera to a village: its clerk sees and plays it, and nothing more', () => {
    const index = new AccessIndex(new OrgTree(units), cameras);
    expect(index.may(clerk, 'live', 'k-c1')).toBe(false);
    const id = grant(index, countyAdmin, { toUnit: 'v1', cameras: ['k-c1'], actions: ['live', 'playback'] });
    expect(typeof id).toBe('number');
    expect(index.decide(clerk, 'live', 'k-c1')).toEqual({ allow: true, grant: id });
    expect(index.may(clerk, 'playback', 'k-c1')).toBe(true);
    expect(index.may(clerk, 'ptz', 'k-c1')).toBe(false);
    expect(index.may(clerk, 'live', 'k-c1b')).toBe(false);
    // The village's parent township does not inherit what was pushed to the village.
    expect(index.may(townOperator, 'live', 'k-c1')).toBe(false);
    expect(index.visible(clerk)).toEqual(['k-v1', 'k-c1']);
    expect(index.granted(clerk)).toEqual(['k-c1']);
  });

  it.each([
    [{ toUnit: 'c2', cameras: ['k-c1'] }, /not below your unit/],
    [{ toUnit: 'c1', cameras: ['k-c1'] }, /not below your unit/],
    [{ toUnit: 'v1', cameras: ['k-c2'] }, /outside your part of the tree/],
    [{ toUnit: 'v1', cameras: ['k-v1'] }, /already belongs to unit v1/],
    [{ toUnit: 'v1', cameras: ['nope'] }, /no camera nope/],
    [{ toUnit: 'v1', cameras: [] }, /at least one camera/],
    [{ toUnit: 'v1', cameras: ['k-c1'], actions: [] }, /at least one action/],
    [{ toUnit: 'v1', cameras: ['k-c1'], expiresAt: T0 - 1 }, /in the past/],
  ])('refuses %j', (req, reason) => {
    const index = new AccessIndex(new OrgTree(units), cameras);
    expect(grant(index, countyAdmin, req as { toUnit: string; cameras: string[] })).toMatch(reason);
  });

  it('only administrators push down', () => {
    const index = new AccessIndex(new OrgTree(units), cameras);
    expect(grant(index, who('c1', ['operator']), { toUnit: 'v1', cameras: ['k-c1'] })).toMatch(/only administrators/);
  });

  it('re-grants never exceed the parent, and revoking the parent revokes them', () => {
    const index = new AccessIndex(new OrgTree(units), cameras);
    const townAdmin = who('t1', ['admin'], 2);
    const noOnward = grant(index, countyAdmin, { toUnit: 't1', cameras: ['k-c1'], actions: ['live'] }) as number;
    expect(grant(index, townAdmin, { toUnit: 'v1', cameras: ['k-c1'], parent: noOnward })).toMatch(/does not allow granting onward/);
    const end = T0 + 3600_000;
    const parent = grant(index, countyAdmin, { toUnit: 't1', cameras: ['k-c1', 'k-c1b'], actions: ['live', 'ptz'], expiresAt: end, reGrant: true }) as number;
    expect(grant(index, townAdmin, { toUnit: 'v1', cameras: ['k-c1'], actions: ['live', 'wall'], expiresAt: end, parent })).toMatch(/not wall/);
    expect(grant(index, townAdmin, { toUnit: 'v1', cameras: ['k-c1'], expiresAt: null, parent })).toMatch(/cannot last longer/);
    expect(grant(index, townAdmin, { toUnit: 'v1', cameras: ['k-c2'], expiresAt: end, parent })).toMatch(/not in grant/);
    expect(grant(index, townAdmin, { toUnit: 'v1', cameras: ['k-c1'], expiresAt: end })).toMatch(/outside your part of the tree/);
    const child = grant(index, townAdmin, { toUnit: 'v1', cameras: ['k-c1'], actions: ['live'], expiresAt: end, reGrant: true, parent }) as number;
    expect(index.may(clerk, 'live', 'k-c1')).toBe(true);
    expect(index.may(clerk, 'live', 'k-c1', end)).toBe(false);
    expect(index.grants.revoke(parent)).toEqual([child, parent]);
    expect(index.may(clerk, 'live', 'k-c1')).toBe(false);
    expect(index.may(who('t1', ['viewer']), 'live', 'k-c1b')).toBe(false);
    expect(index.may(who('t1', ['viewer']), 'live', 'k-c1')).toBe(true);
  });

  it('withdrawing one camera takes it from the grant and from what was passed on; an emptied grant ends', () => {
    const index = new AccessIndex(new OrgTree(units), cameras);
    const townAdmin = who('t1', ['admin'], 2);
    const parent = grant(index, countyAdmin, { toUnit: 't1', cameras: ['k-c1', 'k-c1b'], reGrant: true }) as number;
    const onlyC1 = grant(index, townAdmin, { toUnit: 'v1', cameras: ['k-c1'], parent }) as number;
    const both = grant(index, townAdmin, { toUnit: 'v2', cameras: ['k-c1', 'k-c1b'], parent }) as number;
    expect(index.grants.withdraw(parent, 'k-c1')).toEqual({ shrunk: [parent, both], ended: [onlyC1] });
    expect(index.may(who('t1', ['viewer']), 'live', 'k-c1')).toBe(false);
    expect(index.may(who('t1', ['viewer']), 'live', 'k-c1b')).toBe(true);
    expect(index.may(clerk, 'live', 'k-c1')).toBe(false);
    expect(index.grants.get(onlyC1)).toBeUndefined();
    expect(index.grants.get(both)!.cameras).toEqual(['k-c1b']);
    expect(index.grants.withdraw(parent, 'k-c1')).toEqual({ shrunk: [], ended: [] });
  });

  it('a group grant follows the group\'s members', () => {
    const index = new AccessIndex(new OrgTree(units), cameras);
    index.grants.setGroup({ id: 7, name: 'junctions', ownerUnit: 'c1', cameras: ['k-c1'] });
    const id = grant(index, countyAdmin, { toUnit: 'v1', cameras: ['k-c1'], group: 7 }) as number;
    expect(index.may(clerk, 'live', 'k-c1')).toBe(true);
    index.grants.setGroup({ id: 7, name: 'junctions', ownerUnit: 'c1', cameras: ['k-c1b'] });
    expect(index.may(clerk, 'live', 'k-c1')).toBe(false);
    expect(index.may(clerk, 'live', 'k-c1b')).toBe(true);
    index.grants.revoke(id);
    expect(index.may(clerk, 'live', 'k-c1b')).toBe(false);
  });

  it('a role the action needs is still needed: a viewer given PTZ cannot drive the head', () => {
    const index = new AccessIndex(new OrgTree(units), cameras);
    grant(index, countyAdmin, { toUnit: 'v1', cameras: ['k-c1'], actions: ['live', 'ptz'] });
    expect(index.decide(clerk, 'ptz', 'k-c1')).toEqual({ allow: false, reason: 'role' });
    expect(index.may(who('v1', ['operator']), 'ptz', 'k-c1')).toBe(true);
  });
});

// ---- Property tests ---------------------------------------------------------------------------------------------

interface World {
  units: OrgUnit[];
  cameras: Array<{ id: string; unit: string }>;
  subjects: Subject[];
}

/** world generates a tree of up to 5 levels, cameras on its units and users with combinations of roles. */
const world: fc.Arbitrary<World> = fc.record({
  shape: fc.array(fc.nat(), { minLength: 3, maxLength: 24 }),
  cams: fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
  users: fc.array(fc.record({ unit: fc.nat(), roles: fc.subarray([...ROLES], { minLength: 1 }) }), { minLength: 1, maxLength: 12 }),
}).map(({ shape, cams, users }) => {
  const us: OrgUnit[] = [{ code: 'u0', parent: null, name: 'u0', level: 'city' }];
  const depth = new Map([['u0', 0]]);
  for (const [i, p] of shape.entries()) {
    const candidates = us.filter((u) => depth.get(u.code)! < 4);
    const parent = candidates[p % candidates.length]!;
    const code = `u${i + 1}`;
    depth.set(code, depth.get(parent.code)! + 1);
    us.push({ code, parent: parent.code, name: code, level: (['city', 'county', 'township', 'village', 'grid'] as const)[depth.get(code)!]! });
  }
  return {
    units: us,
    cameras: cams.map((n, i) => ({ id: `cam${i}`, unit: us[n % us.length]!.code })),
    // Random users, and an administrator in every unit, so that grants received are often passed on.
    subjects: [
      ...users.map((u, i) => ({ userId: i + 1, unit: us[u.unit % us.length]!.code, roles: u.roles })),
      ...us.map((u, i) => ({ userId: 100 + i, unit: u.code, roles: ['admin'] as Role[] })),
    ],
  };
});

type Op =
  | { kind: 'grant'; by: number; to: number; cams: number[]; actions: Action[]; ttl: number | null; reGrant: boolean; parent: number | null }
  | { kind: 'revoke'; by: number; which: number }
  | { kind: 'withdraw'; by: number; which: number; camera: number }
  | { kind: 'time'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('grant' as const), by: fc.nat(), to: fc.nat(), cams: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), actions: fc.subarray([...ACTIONS], { minLength: 1 }), ttl: fc.option(fc.integer({ min: 1, max: 10_000 })), reGrant: fc.integer({ min: 0, max: 3 }).map((n) => n !== 0), parent: fc.option(fc.nat()) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), by: fc.nat(), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), by: fc.nat(), which: fc.nat(), camera: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 1, max: 6000 }) }) },
);

/** Reference is an independent, naive statement of the rules. */
class Reference {
  readonly grants: Array<{ id: number; grantorUnit: string; toUnit: string; cameras: Set<string>; actions: Set<Action>; expiresAt: number | null; reGrant: boolean; parent: number | null; live: boolean }> = [];
  constructor(private w: World) {}
  parentOf(code: string): string | null {
    return this.w.units.find((u) => u.code === code)!.parent;
  }
  within(ancestor: string, unit: string): boolean {
    for (let cur: string | null = unit; cur !== null; cur = this.parentOf(cur)) if (cur === ancestor) return true;
    return false;
  }
  unitOf(camera: string): string {
    return this.w.cameras.find((c) => c.id === camera)!.unit;
  }
  revoke(id: number): void {
    const g = this.grants.find((x) => x.id === id);
    if (!g || !g.live) return;
    g.live = false;
    for (const c of this.grants) if (c.parent === id) this.revoke(c.id);
  }
  /** withdraw takes a camera out of a grant and of every live grant passed on from it; emptied grants end. */
  withdraw(id: number, camera: string): void {
    const g = this.grants.find((x) => x.id === id);
    if (!g || !g.live || !g.cameras.has(camera)) return;
    g.cameras.delete(camera);
    for (const c of this.grants) if (c.parent === id && c.live) this.withdraw(c.id, camera);
    if (g.cameras.size === 0) this.revoke(id);
  }
  may(s: Subject, a: Action, camera: string, now: number): boolean {
    const roles: Record<Action, Role[]> = { live: ['admin', 'operator', 'viewer', 'mediator'], playback: ['admin', 'operator', 'viewer'], ptz: ['admin', 'operator'], wall: ['admin', 'operator'] };
    if (!s.roles.some((r) => roles[a].includes(r))) return false;
    if (this.within(s.unit, this.unitOf(camera))) return true;
    return this.grants.some((g) => g.live && g.toUnit === s.unit && g.cameras.has(camera) && g.actions.has(a) && (g.expiresAt === null || g.expiresAt > now));
  }
}

describe('grants, property-based', () => {
  it('no user ever holds a right outside her subtree plus the grants in force, through any door, after any history', () => {
    const stats = { runs: 0, accepted: 0, regrants: 0, withdrawals: 0 };
    fc.assert(fc.property(world, fc.array(op, { minLength: 10, maxLength: 40 }), (w, ops) => {
      const index = new AccessIndex(new OrgTree(w.units), w.cameras);
      const ref = new Reference(w);
      let now = T0;
      let id = 1;
      for (const o of ops) {
        if (o.kind === 'time') now += o.ms;
        else if (o.kind === 'withdraw') {
          // Mostly a grant that was passed on, so that the withdrawal has to reach the grants made from it.
          const all = [...index.grants.all()];
          const parents = all.filter((g) => index.grants.children(g.id).length > 0);
          const live = o.which % 4 !== 0 && parents.length > 0 ? parents : all;
          if (live.length === 0) continue;
          const g = live[o.which % live.length]!;
          const by = w.subjects.find((x) => x.roles.includes('admin') && x.unit === g.grantorUnit) ?? w.subjects[o.by % w.subjects.length]!;
          if (!index.mayRevoke(by, g) || g.cameras.length === 0) continue;
          const camera = g.cameras[o.camera % g.cameras.length]!;
          index.grants.withdraw(g.id, camera);
          ref.withdraw(g.id, camera);
          stats.withdrawals++;
          for (const x of ref.grants) if (!x.live) expect(index.grants.get(x.id)).toBeUndefined();
        }
        else if (o.kind === 'revoke') {
          const live = [...index.grants.all()];
          if (live.length === 0) continue;
          const g = live[o.which % live.length]!;
          const by = w.subjects[o.by % w.subjects.length]!;
          if (!index.mayRevoke(by, g)) continue;
          const gone = index.grants.revoke(g.id);
          ref.revoke(g.id);
          // Everything re-granted from it went with it.
          for (const x of ref.grants) if (!x.live) expect(index.grants.get(x.id)).toBeUndefined();
          expect(gone).toContain(g.id);
        } else {
          // Two times in three the grantor is the administrator of a unit that received something, passing it on.
          const receivers = [...index.grants.all()].map((g) => g.toUnit);
          const by = o.by % 3 !== 0 && receivers.length > 0
            ? w.subjects.find((x) => x.userId >= 100 && x.unit === receivers[o.by % receivers.length])!
            : w.subjects[o.by % w.subjects.length]!;
          const below = w.units.filter((u) => u.code !== by.unit && ref.within(by.unit, u.code));
          const toUnit = o.to % 3 !== 0 && below.length > 0 ? below[o.to % below.length]!.code : w.units[o.to % w.units.length]!.code;
          const held = [...index.grants.all()].filter((g) => g.toUnit === by.unit);
          const parent = (o.parent !== null || o.by % 3 !== 0) && held.length > 0 ? held[(o.parent ?? o.by) % held.length]! : null;
          // Mostly cameras the grantor holds; now and then any camera, which must be refused.
          const own = w.cameras.filter((c) => ref.within(by.unit, c.unit) && !ref.within(toUnit, c.unit)).map((c) => c.id);
          const pool = parent ? [...index.grants.camerasOf(parent)] : own.length > 0 && o.cams[0]! % 4 !== 0 ? own : w.cameras.map((c) => c.id);
          const cams = [...new Set(o.cams.map((n) => pool[n % pool.length]!))];
          // A re-grant mostly asks within what its parent gives; now and then more, which must be refused.
          const honest = parent !== null && o.cams[0]! % 4 !== 0;
          const actions = honest ? (o.actions.filter((a) => parent.actions.includes(a)).length > 0 ? o.actions.filter((a) => parent.actions.includes(a)) : [...parent.actions]) : o.actions;
          const ttl = o.ttl === null ? null : now + o.ttl;
          const expiresAt = honest && parent.expiresAt !== null ? Math.min(ttl ?? parent.expiresAt, parent.expiresAt) : ttl;
          const req: GrantRequest = { toUnit, cameras: cams, group: null, actions, expiresAt, reGrant: o.reGrant, parent: parent?.id ?? null };
          if (index.checkGrant(by, req, now) !== undefined) continue;
          // An accepted grant never gives more than its grantor holds, and only down the tree.
          expect(by.roles).toContain('admin');
          expect(ref.within(by.unit, toUnit) && by.unit !== toUnit).toBe(true);
          for (const c of cams) {
            for (const a of actions) {
              const holds = ref.within(by.unit, ref.unitOf(c)) || ref.grants.some((g) => g.live && g.id === req.parent && g.reGrant && g.toUnit === by.unit && g.cameras.has(c) && g.actions.has(a) && (g.expiresAt === null || g.expiresAt > now) && (g.expiresAt === null || (req.expiresAt !== null && req.expiresAt <= g.expiresAt)));
              expect(holds).toBe(true);
            }
          }
          index.grants.add({ id, grantorUser: by.userId, grantorUnit: by.unit, toUnit, cameras: cams, group: null, actions, expiresAt: req.expiresAt, reGrant: o.reGrant, parent: req.parent, createdAt: now });
          ref.grants.push({ id, grantorUnit: by.unit, toUnit, cameras: new Set(cams), actions: new Set(actions), expiresAt: req.expiresAt, reGrant: o.reGrant, parent: req.parent, live: true });
          id++;
        }
        // Every door is one of these actions: list, stream, segment and snapshot need live; PTZ ptz; the wall wall.
        for (const s of w.subjects) {
          for (const c of w.cameras) {
            for (const a of ACTIONS) expect(index.may(s, a, c.id, now), `${s.unit} ${s.roles} ${a} ${c.id}`).toBe(ref.may(s, a, c.id, now));
          }
          expect(new Set(index.visible(s, now))).toEqual(new Set(w.cameras.filter((c) => ref.may(s, 'live', c.id, now)).map((c) => c.id)));
        }
      }
      // The histories do exercise the rules: most runs accept grants, many pass one on.
      stats.runs++;
      stats.accepted += id - 1;
      stats.regrants += ref.grants.filter((g) => g.parent !== null).length;
    }), { numRuns: 300 });
    expect(stats.accepted).toBeGreaterThan(stats.runs);
    expect(stats.regrants).toBeGreaterThan(stats.runs / 10);
    expect(stats.withdrawals).toBeGreaterThan(stats.runs / 10);
  });
});
