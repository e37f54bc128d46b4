// What the tree, the search and the tiles drag: a camera, a unit (which fills tiles), or a tile (moved to another).

/** CAMERA_DRAG carries {id, name} of a camera. */
export const CAMERA_DRAG = 'application/x-seg-camera';
/** UNIT_DRAG carries {code, name} of a unit. */
export const UNIT_DRAG = 'application/x-seg-unit';
/** TILE_DRAG carries the index of a tile. */
export const TILE_DRAG = 'application/x-seg-tile';

/** Dropped is what a drop onto a tile brings. */
export type Dropped = { camera: { id: string; name: string } } | { unit: { code: string; name: string } } | { tile: number } | null;

/** carries tells whether a drag brings something a tile takes (the data itself is readable only at the drop). */
export function carries(e: DragEvent): boolean {
  const types = e.dataTransfer?.types ?? [];
  return types.includes(CAMERA_DRAG) || types.includes(UNIT_DRAG) || types.includes(TILE_DRAG);
}

/** dropped reads a drop, checking its shape (a drag may come from another page). */
export function dropped(e: DragEvent): Dropped {
  const dt = e.dataTransfer;
  if (!dt) return null;
  try {
    const cam = dt.getData(CAMERA_DRAG);
    if (cam) {
      const c = JSON.parse(cam) as { id?: unknown; name?: unknown };
      if (typeof c.id === 'string' && typeof c.name === 'string') return { camera: { id: c.id, name: c.name } };
    }
    const unit = dt.getData(UNIT_DRAG);
    if (unit) {
      const u = JSON.parse(unit) as { code?: unknown; name?: unknown };
      if (typeof u.code === 'string' && typeof u.name === 'string') return { unit: { code: u.code, name: u.name } };
    }
    const tile = dt.getData(TILE_DRAG);
    if (tile && /^\d{1,2}$/.test(tile)) return { tile: Number(tile) };
  } catch { /* not ours */ }
  return null;
}
