import { describe, expect, it } from 'vitest';
import { AccessIndex, type Role, type Subject } from '../../../gateway/src/access/access-index.js';
import { OrgTree, type OrgUnit } from '../../../gateway/src/access/org-tree.js';

const units: OrgUnit[] = [
  { code: 'city', parent: null, name: 'City', level: 'city' },
  { code: 'c1', parent: 'city', name: 'County 1', level: 'county' },
  { code: 'c2', parent: 'city', name: 'County 2', level: 'county' },
  { code: 't1', parent: 'c1', name: 'Town 1', level: 'township' },
  { code: 'v1', parent: 't1', name: 'Village 1', level: 'village' },
  { code: 'v2', parent: 't1', name: 'Village 2', level: 'village' },
];
const cameras = [
  { id: 'cam-city', unit: 'city' }, { id: 'cam-c1', unit: 'c1' }, { id: 'cam-c2', unit: 'c2' },
  { id: 'cam-t1', unit: 't1' }, { id: 'cam-v1a', unit: 'v1' }, { id: 'cam-v1b', unit: 'v1' }, { id: 'cam-v2', unit: 'v2' },
];
const index = new AccessIndex(new OrgTree(units), cameras);
const who = (unit: string, roles: Role[] = ['viewer']): Subject => ({ userId: 1, unit, roles });

describe('OrgTree', () => {
  it('answers containment both ways and gives paths', () => {
    expect(index.tree.contains('city', 'v2')).toBe(true);
    expect(index.tree.contains('v2', 'city')).toBe(false);
    expect(index.tree.contains('c2', 'v1')).toBe(false);
    expect(index.tree.contains('v1', 'v1')).toBe(true);
    expect(index.tree.path('v2').map((u) => u.code)).toEqual(['city', 'c1', 't1', 'v2']);
    expect(index.tree.subtree('t1').map((u) => u.code)).toEqual(['t1', 'v1', 'v2']);
  });

  it.each([
    ['two roots', [...units, { code: 'x', parent: null, name: 'X', level: 'city' }], /two roots/],
    ['a dangling parent', [...units, { code: 'x', parent: 'nowhere', name: 'X', level: 'village' }], /unknown parent nowhere/],
    ['a duplicate', [...units, units[1]!], /duplicate unit code c1/],
    ['a cycle', [...units, { code: 'a', parent: 'b', name: 'A', level: 'grid' }, { code: 'b', parent: 'a', name: 'B', level: 'grid' }], /not reachable/],
  ] as Array<[string, OrgUnit[], RegExp]>)('rejects %s', (_n, bad, message) => {
    expect(() => new OrgTree(bad)).toThrow(message);
  });
});

describe('AccessIndex', () => {
  it.each([
    ['city', ['cam-city', 'cam-c1', 'cam-t1', 'cam-v1a', 'cam-v1b', 'cam-v2', 'cam-c2']],
    ['c1', ['cam-c1', 'cam-t1', 'cam-v1a', 'cam-v1b', 'cam-v2']],
    ['c2', ['cam-c2']],
    ['v1', ['cam-v1a', 'cam-v1b']],
  ])('a viewer of %s sees exactly her subtree', (unit, want) => {
    expect(index.visible(who(unit)).sort()).toEqual([...want].sort());
    expect(index.countUnder(unit)).toBe(want.length);
  });

  it.each([
    ['v1', 'live', 'cam-v1a', true],
    ['v1', 'live', 'cam-v2', false],
    ['v1', 'live', 'cam-t1', false],
    ['t1', 'live', 'cam-v2', true],
    ['c2', 'live', 'cam-v1a', false],
    ['v1', 'ptz', 'cam-v1a', false],
    ['v1', 'live', 'no-such', false],
  ] as const)('%s %s %s → %s', (unit, action, camera, allow) => {
    expect(index.may(who(unit), action, camera)).toBe(allow);
  });

  it('explains refusals and lets operators move PTZ', () => {
    expect(index.decide(who('v1'), 'live', 'cam-v2')).toEqual({ allow: false, reason: 'outside-subtree' });
    expect(index.decide(who('v1'), 'ptz', 'cam-v1a')).toEqual({ allow: false, reason: 'role' });
    expect(index.decide(who('v1'), 'live', 'zzz')).toEqual({ allow: false, reason: 'unknown-camera' });
    expect(index.may(who('v1', ['operator']), 'ptz', 'cam-v1a')).toBe(true);
  });

  it('agrees with a naive walk up the tree on a random city', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const gen: OrgUnit[] = [{ code: 'u0', parent: null, name: 'root', level: 'city' }];
    for (let i = 1; i < 400; i++) gen.push({ code: `u${i}`, parent: `u${Math.floor(rand() * i)}`, name: `n${i}`, level: 'village' });
    const cams = Array.from({ length: 3000 }, (_, i) => ({ id: `k${i}`, unit: `u${Math.floor(rand() * 400)}` }));
    const idx = new AccessIndex(new OrgTree(gen), cams);
    const parent = new Map(gen.map((u) => [u.code, u.parent]));
    const above = (a: string, u: string | null): boolean => u !== null && (u === a || above(a, parent.get(u) ?? null));
    for (let k = 0; k < 60; k++) {
      const unit = `u${Math.floor(rand() * 400)}`;
      const naive = cams.filter((c) => above(unit, c.unit)).map((c) => c.id).sort();
      expect(idx.visible(who(unit)).sort()).toEqual(naive);
      expect(idx.countUnder(unit)).toBe(naive.length);
    }
    idx.place({ id: 'k0', unit: 'u0' });
    expect(idx.unitOf('k0')).toBe('u0');
    expect(() => idx.place({ id: 'x', unit: 'nope' })).toThrow(/unknown unit nope/);
  });
});
