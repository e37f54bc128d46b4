// The splits of the live grid, as the vendor clients offer them: even grids, and 6 and 8 with one large tile.

/** SPLITS are the splits the console offers, in the order of the keys 1 to 7. */
export const SPLITS = [1, 4, 6, 8, 9, 16, 25] as const;
export type Split = (typeof SPLITS)[number];

/** MAX_TILES is the most tiles a split has. */
export const MAX_TILES = 25;

/** Place is where a tile sits in the CSS grid (1-based lines). */
export interface Place { col: number; row: number; colSpan: number; rowSpan: number }

/** Geometry is a split's grid and where each of its tiles sits. */
export interface Geometry { cols: number; rows: number; places: Place[] }

function even(side: number): Geometry {
  const places: Place[] = [];
  for (let i = 0; i < side * side; i++) places.push({ col: (i % side) + 1, row: Math.floor(i / side) + 1, colSpan: 1, rowSpan: 1 });
  return { cols: side, rows: side, places };
}

/** oneLarge is a side×side grid whose first tile spans (side-1)² cells, the others around it. */
function oneLarge(side: number): Geometry {
  const big = side - 1;
  const places: Place[] = [{ col: 1, row: 1, colSpan: big, rowSpan: big }];
  for (let r = 1; r <= big; r++) places.push({ col: side, row: r, colSpan: 1, rowSpan: 1 });
  for (let c = 1; c <= side; c++) places.push({ col: c, row: side, colSpan: 1, rowSpan: 1 });
  return { cols: side, rows: side, places };
}

/** geometry lays out a split. */
export function geometry(split: Split): Geometry {
  if (split === 6) return oneLarge(3);
  if (split === 8) return oneLarge(4);
  return even(Math.sqrt(split));
}

/** isSplit tells a split from any other number (a restored or shared layout). */
export function isSplit(n: unknown): n is Split {
  return typeof n === 'number' && (SPLITS as readonly number[]).includes(n);
}

/** profileFor picks the stream a tile opens a camera with: the main stream for tiles a quarter of the grid or more. */
export function profileFor(split: Split, index: number): 'main' | 'sub' {
  if (split <= 4) return 'main';
  return (split === 6 || split === 8) && index === 0 ? 'main' : 'sub';
}
