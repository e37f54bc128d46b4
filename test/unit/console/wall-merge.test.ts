// Merging tiles of a wall's screen into a custom layout: the block of cells holding the chosen tiles, refused where it
// would cut through another tile; the gateway then keeps each camera where it stood.
import { describe, expect, it } from 'vitest';
import { mergedLayout } from '../../../console/src/components/wall/merge.js';
import { apply, emptyState, placeScreen } from '../../../gateway/src/wall/wall-model.js';
import type { PictureT } from '../../../gateway/src/wall/wall-schemas.js';

const grid = { rows: 1, cols: 1 };
function pictures(split: 4 | 9 | 16): { pics: PictureT[]; state: ReturnType<typeof emptyState> } {
  const state = emptyState(1, 1, split);
  for (let i = 0; i < split; i++) apply(state, grid, { op: 'assign', target: { screen: 0, tile: i }, camera: `c${i}` }, 1, i);
  const pics = placeScreen(state, grid, 0).map((p) => ({ key: 'k', target: p.target, rect: p.rect, z: p.z, hidden: p.hidden, status: 'ok' as const, online: 'online' as const, profile: p.profile }));
  return { pics, state };
}

describe('merging wall tiles', () => {
  it('merges the top-left four tiles of a 16 split into one large tile, the twelve others kept, each camera where it was', () => {
    const { pics, state } = pictures(16);
    const merged = mergedLayout(pics, [0, 1, 4, 5])!;
    expect(merged.cols).toBe(4);
    expect(merged.cells).toHaveLength(13);
    expect(merged.cells[0]).toEqual({ col: 0, row: 0, colSpan: 2, rowSpan: 2 });
    apply(state, grid, { op: 'layout', screen: 0, layout: merged }, 1, 99);
    const shown = placeScreen(state, grid, 0);
    // The large tile shows the first of the merged cameras, on the main stream; the others stay in their places.
    expect(shown[0]).toMatchObject({ content: { camera: 'c0' }, profile: 'main', rect: { x: 0, y: 0, w: 0.5, h: 0.5 } });
    const at = (x: number, y: number) => shown.find((p) => Math.abs(p.rect.x - x) < 1e-9 && Math.abs(p.rect.y - y) < 1e-9)!.content?.camera;
    expect(at(0.5, 0)).toBe('c2');
    expect(at(0, 0.5)).toBe('c8');
    expect(at(0.75, 0.75)).toBe('c15');
  });

  it('takes the block around tiles that are not side by side, and refuses one that cuts through a merged tile', () => {
    const { pics, state } = pictures(9);
    // Tiles 0 and 4 (a diagonal) take the block of 0, 1, 3, 4.
    const merged = mergedLayout(pics, [0, 4])!;
    expect(merged.cells[0]).toEqual({ col: 0, row: 0, colSpan: 2, rowSpan: 2 });
    expect(merged.cells).toHaveLength(6);
    apply(state, grid, { op: 'layout', screen: 0, layout: merged }, 1, 1);
    const again = placeScreen(state, grid, 0).map((p) => ({ key: 'k', target: p.target, rect: p.rect, z: 0, hidden: false, status: 'ok' as const, online: 'online' as const, profile: p.profile }));
    const at = (x: number, y: number) => again.findIndex((p) => Math.abs(p.rect.x - x) < 1e-9 && Math.abs(p.rect.y - y) < 1e-9);
    // Top right and bottom middle: their block (columns 2-3, rows 1-3) would cut through the large tile.
    expect(mergedLayout(again, [at(2 / 3, 0), at(1 / 3, 2 / 3)])).toBeUndefined();
    // The large tile and the one below its right half: a block that holds the large tile whole.
    expect(mergedLayout(again, [0, at(1 / 3, 2 / 3)])!.cells[0]).toEqual({ col: 0, row: 0, colSpan: 2, rowSpan: 3 });
    // One tile alone is no merge.
    expect(mergedLayout(again, [0])).toBeUndefined();
  });
});
