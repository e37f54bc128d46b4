// The wall's pure parts: layouts checked (each fault named), the stream a tile takes by its size, what a screen shows
// of windows reaching over it, commands and the elements they touch, a stored state read back (or refused), and
// the schedule's last due time across days of the week.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkLayout, LayoutError, profileForArea, tileCount, tileRects, WALL_SPLITS } from '../../../gateway/src/wall/wall-layout.js';
import { apply, checkState, emptyState, placeScreen, touchedBy, WallError, type Command } from '../../../gateway/src/wall/wall-model.js';
import { lastDue } from '../../../gateway/src/wall/walls.js';

describe('wall layouts', () => {
  it('lays out every split with its tiles covering the screen once', () => {
    for (const split of WALL_SPLITS) {
      const rects = tileRects({ split });
      expect(rects).toHaveLength(split);
      expect(rects.reduce((a, r) => a + r.w * r.h, 0)).toBeCloseTo(1, 9);
    }
    // 6 and 8 have one large tile, taking the main stream; the others the sub stream.
    expect(tileRects({ split: 6 }).map((r) => profileForArea(r.w * r.h))).toEqual(['main', 'sub', 'sub', 'sub', 'sub', 'sub']);
    expect(tileRects({ split: 4 }).map((r) => profileForArea(r.w * r.h))).toEqual(['main', 'main', 'main', 'main']);
    expect(tileRects({ split: 9 }).every((r) => profileForArea(r.w * r.h) === 'sub')).toBe(true);
  });

  it.each([
    [{ split: 5 }, /split 5 is not one of/],
    [{ cols: 9, rows: 2, cells: [{ col: 0, row: 0, colSpan: 1, rowSpan: 1 }] }, /cols is a whole number from 1 to 8/],
    [{ cols: 2, rows: 2, cells: [] }, /cells are 1 to 16 tiles/],
    [{ cols: 2, rows: 2, cells: [{ col: 1, row: 0, colSpan: 2, rowSpan: 1 }] }, /cells\[0\] runs off the 2×2 grid/],
    [{ cols: 2, rows: 2, cells: [{ col: 0, row: 0, colSpan: 2, rowSpan: 2 }, { col: 1, row: 1, colSpan: 1, rowSpan: 1 }] }, /cells\[1\] overlaps another cell at column 1, row 1/],
    [{ cols: 2, rows: 2, cells: [{ col: 'a', row: 0, colSpan: 1, rowSpan: 1 }] }, /cells\[0\] is not/],
    ['4', /a layout is/],
  ])('refuses %j naming what is wrong', (layout, message) => {
    expect(() => checkLayout(layout)).toThrow(LayoutError);
    expect(() => checkLayout(layout)).toThrow(message);
  });

  it('takes any custom layout of cells that do not overlap (generated)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), (cols, rows) => {
      // One cell per column, each as tall as the grid: never overlapping, always inside.
      const cells = Array.from({ length: Math.min(cols, 16) }, (_, c) => ({ col: c, row: 0, colSpan: 1, rowSpan: rows }));
      const l = checkLayout({ cols, rows, cells });
      expect(tileCount(l)).toBe(cells.length);
      expect(tileRects(l).every((r) => r.x >= 0 && r.x + r.w <= 1 + 1e-9 && r.h === 1)).toBe(true);
    }));
  });
});

describe('wall state and commands', () => {
  const grid = { rows: 1, cols: 2 };

  it('names what each command touches and the cameras it puts up, refusing a target that is not there', () => {
    const s = emptyState(1, 2, 4);
    expect(touchedBy(s, { op: 'assign', target: { screen: 1, tile: 2 }, camera: 'c1' })).toEqual({ touched: ['t1.2'], cameras: ['c1'] });
    expect(touchedBy(s, { op: 'layout', screen: 0, layout: { split: 1 } }).touched).toEqual(['s0', 't0.0', 't0.1', 't0.2', 't0.3']);
    expect(() => touchedBy(s, { op: 'assign', target: { screen: 2, tile: 0 }, camera: 'c1' })).toThrow(/no screen 2/);
    expect(() => touchedBy(s, { op: 'clear', target: { screen: 0, tile: 4 } })).toThrow(/no tile 4 in its layout of 4/);
    expect(() => touchedBy(s, { op: 'window.close', window: 9 })).toThrow(WallError);
  });

  it('keeps the first tiles through a layout change, lets a maximized tile go when it no longer exists, and swaps', () => {
    const s = emptyState(1, 2, 9);
    apply(s, grid, { op: 'assign', target: { screen: 0, tile: 0 }, camera: 'a' }, 1, 1);
    apply(s, grid, { op: 'assign', target: { screen: 0, tile: 8 }, camera: 'b' }, 1, 2);
    apply(s, grid, { op: 'maximize', screen: 0, tile: 8 }, 1, 3);
    apply(s, grid, { op: 'layout', screen: 0, layout: { split: 4 } }, 1, 4);
    expect(s.screens[0]!.tiles.map((c) => c?.camera ?? null)).toEqual(['a', null, null, null]);
    expect(s.screens[0]!.maximized).toBeNull();
    apply(s, grid, { op: 'swap', a: { screen: 0, tile: 0 }, b: { screen: 1, tile: 3 } }, 2, 5);
    expect(s.screens[0]!.tiles[0]).toBeNull();
    expect(s.screens[1]!.tiles[3]).toMatchObject({ camera: 'a', by: 1 });
  });

  it('shows each screen the part of a window over it, in the screen\'s own coordinates, above the tiles', () => {
    const s = emptyState(1, 2, 4);
    const w = apply(s, grid, { op: 'window.open', x: 0.5, y: 0, w: 1, h: 0.5, camera: 'c' }, 1, 1).window!;
    const left = placeScreen(s, grid, 0).find((p) => 'window' in p.target)!;
    const right = placeScreen(s, grid, 1).find((p) => 'window' in p.target)!;
    expect(left).toMatchObject({ target: { window: w }, rect: { x: 0.5, y: 0, w: 1, h: 0.5 }, profile: 'main' });
    expect(right.rect.x).toBe(-0.5);
    expect(left.z).toBeGreaterThan(Math.max(...placeScreen(s, grid, 0).filter((p) => !('window' in p.target)).map((p) => p.z)));
    // Off the wall, or too small: refused.
    for (const bad of [{ x: 1.6, y: 0, w: 0.5, h: 0.5 }, { x: 0, y: 0, w: 0.05, h: 0.5 }, { x: -0.1, y: 0, w: 0.5, h: 0.5 }, { x: Number.NaN, y: 0, w: 0.5, h: 0.5 }]) {
      expect(() => apply(s, grid, { op: 'window.move', window: w, ...bad } as Command, 1, 2)).toThrow(/lies on the wall/);
    }
    // A raised window goes above the others.
    const w2 = apply(s, grid, { op: 'window.open', x: 0, y: 0, w: 0.5, h: 0.5 }, 1, 3).window!;
    apply(s, grid, { op: 'window.raise', window: w }, 1, 4);
    expect(s.windows.find((x) => x.id === w)!.z).toBeGreaterThan(s.windows.find((x) => x.id === w2)!.z);
  });

  it('reads a stored state back, and refuses one that does not fit the wall, naming why', () => {
    const s = emptyState(1, 2, 4);
    apply(s, grid, { op: 'assign', target: { screen: 1, tile: 1 }, camera: 'c' }, 1, 1);
    expect(checkState(JSON.parse(JSON.stringify(s)), grid)).toEqual(s);
    expect(() => checkState(s, { rows: 2, cols: 2 })).toThrow(/it has 2 screens, the wall 4/);
    expect(() => checkState({ screens: s.screens, windows: [{ id: 1, x: 5, y: 0, w: 1, h: 1 }] }, grid)).toThrow(/window 0 does not lie on the wall/);
    expect(() => checkState({ ...s, screens: [{ ...s.screens[0], tiles: [{ camera: '../x' }] }, s.screens[1]] }, grid)).toThrow(/screen 0 tile 0 names no camera/);
    expect(() => checkState('x', grid)).toThrow(WallError);
  });
});

describe('schedules', () => {
  it('finds the last due time on the chosen days of the week', () => {
    // Tuesday 1 December 2026, 10:30 local time.
    const now = new Date(2026, 11, 1, 10, 30).getTime();
    const monday = 1 << 0;
    const tuesday = 1 << 1;
    expect(lastDue({ minute: 8 * 60, days: tuesday }, now)).toBe(new Date(2026, 11, 1, 8, 0).getTime());
    // 20:00 has not come yet today: yesterday's, if Monday is chosen; else last Tuesday's.
    expect(lastDue({ minute: 20 * 60, days: monday | tuesday }, now)).toBe(new Date(2026, 10, 30, 20, 0).getTime());
    expect(lastDue({ minute: 20 * 60, days: tuesday }, now)).toBe(new Date(2026, 10, 24, 20, 0).getTime());
  });
});
