// The geometry of a screen: the splits the monitoring room's walls offer (1, 4, 6, 8, 9, 16, as on the vendors'
// decoders), custom layouts of merged cells, and which stream a tile of a given size takes. The gateway computes it
// once; the console and the display pages draw the rectangles they are sent.

/** SPLITS are the standard layouts of a screen. */
export const WALL_SPLITS = [1, 4, 6, 8, 9, 16] as const;
export type WallSplit = (typeof WALL_SPLITS)[number];

/** MAX_CUSTOM_SIDE bounds a custom layout's grid (8×8 cells). */
export const MAX_CUSTOM_SIDE = 8;
/** MAX_SCREEN_TILES is the most tiles a screen has (a 16 split, or a custom layout of at most this many cells). */
export const MAX_SCREEN_TILES = 16;

/** Cell is a tile of a custom layout: its first column and row (0-based) and how many it spans. */
export interface Cell { col: number; row: number; colSpan: number; rowSpan: number }

/** Layout is a screen's layout: a standard split, or cells of a grid. */
export type Layout = { split: WallSplit } | { cols: number; rows: number; cells: Cell[] };

/** Rect is a rectangle in fractions of a screen (x, y from the top left; w, h its size). */
export interface Rect { x: number; y: number; w: number; h: number }

/** LayoutError says what is wrong with a layout. */
export class LayoutError extends TypeError {
  override name = 'LayoutError';
}

function even(side: number): { cols: number; rows: number; cells: Cell[] } {
  const cells: Cell[] = [];
  for (let i = 0; i < side * side; i++) cells.push({ col: i % side, row: Math.floor(i / side), colSpan: 1, rowSpan: 1 });
  return { cols: side, rows: side, cells };
}

/** oneLarge is a side×side grid whose first tile spans (side-1)² cells, the others around it. */
function oneLarge(side: number): { cols: number; rows: number; cells: Cell[] } {
  const big = side - 1;
  const cells: Cell[] = [{ col: 0, row: 0, colSpan: big, rowSpan: big }];
  for (let r = 0; r < big; r++) cells.push({ col: big, row: r, colSpan: 1, rowSpan: 1 });
  for (let c = 0; c < side; c++) cells.push({ col: c, row: big, colSpan: 1, rowSpan: 1 });
  return { cols: side, rows: side, cells };
}

/** gridOf returns a layout's grid and cells. */
export function gridOf(layout: Layout): { cols: number; rows: number; cells: Cell[] } {
  if ('split' in layout) {
    if (layout.split === 6) return oneLarge(3);
    if (layout.split === 8) return oneLarge(4);
    return even(Math.sqrt(layout.split));
  }
  return layout;
}

/**
 * checkLayout returns a layout made of what a request or the store said, or throws LayoutError naming what is wrong:
 * an unknown split, a grid larger than MAX_CUSTOM_SIDE, a cell outside the grid, two cells on one place, more than
 * MAX_SCREEN_TILES tiles. Cells need not cover the grid (a gap stays black, as on a decoder).
 */
export function checkLayout(input: unknown): Layout {
  if (typeof input !== 'object' || input === null) throw new LayoutError('a layout is { split } or { cols, rows, cells }');
  const o = input as Record<string, unknown>;
  if ('split' in o) {
    if (!(WALL_SPLITS as readonly unknown[]).includes(o.split)) throw new LayoutError(`split ${String(o.split)} is not one of ${WALL_SPLITS.join(', ')}`);
    return { split: o.split as WallSplit };
  }
  const { cols, rows, cells } = o;
  const side = (v: unknown, name: string) => {
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_CUSTOM_SIDE) throw new LayoutError(`${name} is a whole number from 1 to ${MAX_CUSTOM_SIDE}`);
    return v as number;
  };
  const c = side(cols, 'cols');
  const r = side(rows, 'rows');
  if (!Array.isArray(cells) || cells.length < 1 || cells.length > MAX_SCREEN_TILES) throw new LayoutError(`cells are 1 to ${MAX_SCREEN_TILES} tiles`);
  const taken = new Set<number>();
  const out: Cell[] = cells.map((cell: unknown, i) => {
    const x = cell as Record<string, unknown>;
    const ok = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
    if (typeof cell !== 'object' || cell === null || !ok(x.col, 0, c - 1) || !ok(x.row, 0, r - 1) || !ok(x.colSpan, 1, c) || !ok(x.rowSpan, 1, r)) {
      throw new LayoutError(`cells[${i}] is not { col, row, colSpan, rowSpan } inside the ${c}×${r} grid`);
    }
    const cc = x as unknown as Cell;
    if (cc.col + cc.colSpan > c || cc.row + cc.rowSpan > r) throw new LayoutError(`cells[${i}] runs off the ${c}×${r} grid`);
    for (let yy = cc.row; yy < cc.row + cc.rowSpan; yy++) {
      for (let xx = cc.col; xx < cc.col + cc.colSpan; xx++) {
        if (taken.has(yy * c + xx)) throw new LayoutError(`cells[${i}] overlaps another cell at column ${xx}, row ${yy}`);
        taken.add(yy * c + xx);
      }
    }
    return { col: cc.col, row: cc.row, colSpan: cc.colSpan, rowSpan: cc.rowSpan };
  });
  return { cols: c, rows: r, cells: out };
}

/** tileCount is how many tiles a layout has. */
export function tileCount(layout: Layout): number {
  return gridOf(layout).cells.length;
}

/** tileRects are the tiles of a layout as fractions of the screen, in tile order. */
export function tileRects(layout: Layout): Rect[] {
  const g = gridOf(layout);
  return g.cells.map((c) => ({ x: c.col / g.cols, y: c.row / g.rows, w: c.colSpan / g.cols, h: c.rowSpan / g.rows }));
}

/** MAIN_AREA is the share of a screen from which a tile or a window takes the main stream (a quarter, as vendors do). */
export const MAIN_AREA = 0.25 - 1e-9;

/** profileForArea picks the stream of a picture covering `area` screens: main from a quarter of a screen up, else sub. */
export function profileForArea(area: number): 'main' | 'sub' {
  return area >= MAIN_AREA ? 'main' : 'sub';
}
