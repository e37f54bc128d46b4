// Merging tiles of a screen into one, as the vendors' clients let operators draw a custom layout.
import type { PictureT } from '../../api/client.js';

/** Cell is a tile of a custom layout, in cells of its grid. */
export type Cell = { col: number; row: number; colSpan: number; rowSpan: number };

/**
 * mergedLayout is the screen's layout with the selected tiles merged into one (the smallest block of cells holding
 * them), as a custom layout; undefined when the block would cut through another tile.
 */
export function mergedLayout(pictures: PictureT[], selected: number[]): { cols: number; rows: number; cells: Cell[] } | undefined {
  const tiles = pictures.filter((p) => 'screen' in p.target);
  if (selected.length < 2 || tiles.length === 0) return undefined;
  const cols = Math.round(1 / Math.min(...tiles.map((p) => p.rect.w)));
  const rows = Math.round(1 / Math.min(...tiles.map((p) => p.rect.h)));
  if (cols > 8 || rows > 8) return undefined;
  const cells: Cell[] = tiles.map((p) => ({ col: Math.round(p.rect.x * cols), row: Math.round(p.rect.y * rows), colSpan: Math.round(p.rect.w * cols), rowSpan: Math.round(p.rect.h * rows) }));
  const chosen = cells.filter((_, i) => selected.includes(i));
  const col = Math.min(...chosen.map((c) => c.col));
  const row = Math.min(...chosen.map((c) => c.row));
  const box: Cell = { col, row, colSpan: Math.max(...chosen.map((c) => c.col + c.colSpan)) - col, rowSpan: Math.max(...chosen.map((c) => c.row + c.rowSpan)) - row };
  const meets = (c: Cell) => c.col < box.col + box.colSpan && box.col < c.col + c.colSpan && c.row < box.row + box.rowSpan && box.row < c.row + c.rowSpan;
  const within = (c: Cell) => c.col >= box.col && c.row >= box.row && c.col + c.colSpan <= box.col + box.colSpan && c.row + c.rowSpan <= box.row + box.rowSpan;
  if (cells.some((c) => meets(c) && !within(c))) return undefined;
  const rest = cells.filter((c) => !meets(c));
  return { cols, rows, cells: [box, ...rest].sort((a, b) => a.row - b.row || a.col - b.col) };
}

