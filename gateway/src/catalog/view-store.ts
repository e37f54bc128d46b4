// Saved views of the live grid: a named split with its cameras, kept per user and shareable within the user's unit.
import type { Db } from '../store/database.js';

/** MAX_VIEW_TILES is the largest split (5×5). */
export const MAX_VIEW_TILES = 25;

/** ViewTile is one tile of a view: a camera and the stream it plays, or an empty tile. */
export type ViewTile = { camera: string; profile?: 'main' | 'sub' } | null;

/** SavedView is one stored view. */
export interface SavedView {
  id: number;
  owner: number;
  unit: string;
  name: string;
  layout: number;
  tiles: ViewTile[];
  shared: boolean;
  createdAt: number;
  updatedAt: number;
}

interface Row { id: number; owner: number; unit: string; name: string; layout: number; tiles: string; shared: number; created_at: number; updated_at: number }

function toView(r: Row): SavedView {
  return { id: r.id, owner: r.owner, unit: r.unit, name: r.name, layout: r.layout, tiles: JSON.parse(r.tiles) as ViewTile[], shared: r.shared === 1, createdAt: r.created_at, updatedAt: r.updated_at };
}

/** ViewStore keeps the saved views. */
export class ViewStore {
  #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** visibleTo lists a user's own views and those shared within her unit, her own first. */
  visibleTo(user: number, unit: string): SavedView[] {
    return (this.#db.prepare('SELECT * FROM saved_views WHERE owner = ? OR (unit = ? AND shared = 1) ORDER BY owner <> ?, name').all(user, unit, user) as Row[]).map(toView);
  }

  get(id: number): SavedView | undefined {
    const r = this.#db.prepare('SELECT * FROM saved_views WHERE id = ?').get(id) as Row | undefined;
    return r ? toView(r) : undefined;
  }

  /** nameTaken says whether the owner already has another view of that name. */
  nameTaken(owner: number, name: string, except?: number): boolean {
    return this.#db.prepare('SELECT 1 FROM saved_views WHERE owner = ? AND name = ? AND id <> ?').get(owner, name, except ?? 0) !== undefined;
  }

  create(v: Omit<SavedView, 'id' | 'createdAt' | 'updatedAt'>, now = Date.now()): SavedView {
    const r = this.#db.prepare('INSERT INTO saved_views (owner, unit, name, layout, tiles, shared, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(v.owner, v.unit, v.name, v.layout, JSON.stringify(v.tiles), v.shared ? 1 : 0, now, now);
    return this.get(Number(r.lastInsertRowid))!;
  }

  update(id: number, v: Pick<SavedView, 'name' | 'layout' | 'tiles' | 'shared'>, now = Date.now()): SavedView {
    this.#db.prepare('UPDATE saved_views SET name = ?, layout = ?, tiles = ?, shared = ?, updated_at = ? WHERE id = ?').run(v.name, v.layout, JSON.stringify(v.tiles), v.shared ? 1 : 0, now, id);
    return this.get(id)!;
  }

  delete(id: number): void {
    this.#db.prepare('DELETE FROM saved_views WHERE id = ?').run(id);
  }
}
