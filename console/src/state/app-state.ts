// App state in one factory, provided through context: components read signals and call actions. The live grid's
// split and cameras are kept per user in the browser and come back after a reload.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { signal, computed } from '@preact/signals';
import { api, ApiError, type Profile, type User } from '../api/client.js';
import { isSplit, MAX_TILES, profileFor, type Split } from '../components/grid/layouts.js';
import type { Said } from '../i18n/i18n.js';
import { createEventFeed } from './event-feed.js';
import { bands } from '../components/health/rate.js';

/** TileCamera is what one tile of the grid shows; profile is the stream it opened with (kept across split changes). */
export interface TileCamera {
  id: string;
  name: string;
  profile?: Profile;
}

/** PAGES are the console's views. */
export type Page = 'live' | 'wall' | 'rooms' | 'cases' | 'health' | 'map' | 'events' | 'import' | 'onboard' | 'cameras' | 'grants' | 'users' | 'audit';

/** Source is a unit dropped on the grid: its cameras fill the tiles a page at a time. */
export interface Source {
  unit: { code: string; name: string };
  total: number;
  /** page is the page shown (0-based); pages hold as many cameras as the grid has tiles from the drop tile on. */
  page: number;
  from: number;
}

const GRID_KEY = (user: number) => `seg.grid.${user}`;
const empty = (): Array<TileCamera | null> => Array(MAX_TILES).fill(null);

/** createAppState builds the console's state and actions. */
export function createAppState() {
  const user = signal<User | null | undefined>(undefined);
  const layout = signal<Split>(4);
  const tiles = signal<Array<TileCamera | null>>(empty());
  const selectedTile = signal(0);
  /** maximized is the tile shown alone (double-click), or null. */
  const maximized = signal<number | null>(null);
  const banner = signal<unknown>(null);
  /** notice is a short message over the grid (a camera already playing, a unit filled). */
  const notice = signal<(Said & { at: number; tile?: number }) | null>(null);
  const source = signal<Source | null>(null);
  const visibleTiles = computed(() => tiles.value.slice(0, layout.value));
  const page = signal<Page>('live');
  /** healthUnit is the unit the health page shows (undefined: the user's own). */
  const healthUnit = signal<string | undefined>(undefined);
  /** picked are the cameras chosen for a grant (the tree adds to them while the grants page is open). */
  const picked = signal<TileCamera[]>([]);
  /** reveal asks the tree to open the path to a camera and show it. */
  const reveal = signal<{ path: string[]; camera: string } | null>(null);
  /** editing is the camera the devices page edits (a click in the tree chooses it there). */
  const editing = signal<TileCamera | null>(null);
  const events = createEventFeed();
  /** mapUnit is the unit the map opens on (undefined: the user's own). */
  const mapUnit = signal<string | undefined>(undefined);
  const started = (u: User) => {
    events.start();
    api.settings().then((s) => { bands.value = { good: s.rateGood, warn: s.rateWarn }; settings.value = s; }, () => undefined);
    return u;
  };
  const settings = signal<Awaited<ReturnType<typeof api.settings>> | null>(null);

  const say = (s: Said, tile?: number) => { notice.value = { ...s, at: Date.now(), ...(tile !== undefined ? { tile } : {}) }; };
  const save = () => {
    const u = user.value;
    if (!u) return;
    try {
      localStorage.setItem(GRID_KEY(u.id), JSON.stringify({ layout: layout.value, tiles: tiles.value.slice(0, MAX_TILES) }));
    } catch { /* storage full or refused: the grid is not kept */ }
  };
  const restoreGrid = (u: User) => {
    try {
      const saved = JSON.parse(localStorage.getItem(GRID_KEY(u.id)) ?? 'null') as { layout?: unknown; tiles?: unknown } | null;
      if (!saved) return;
      if (isSplit(saved.layout)) layout.value = saved.layout;
      if (Array.isArray(saved.tiles)) {
        const next = empty();
        saved.tiles.slice(0, MAX_TILES).forEach((t: unknown, i) => {
          const c = t as TileCamera | null;
          if (c && typeof c.id === 'string' && typeof c.name === 'string') next[i] = { id: c.id, name: c.name, ...(c.profile === 'main' || c.profile === 'sub' ? { profile: c.profile } : {}) };
        });
        tiles.value = next;
      }
    } catch { /* a damaged entry is ignored */ }
  };
  const setTiles = (next: Array<TileCamera | null>) => {
    tiles.value = next;
    save();
  };
  /** playingAt finds the visible tile that already plays a camera. */
  const playingAt = (id: string, except?: number) => visibleTiles.value.findIndex((t, i) => t?.id === id && i !== except);

  const state = {
    user, layout, tiles, selectedTile, maximized, banner, notice, source, visibleTiles, page, healthUnit, picked, reveal, editing, events, settings, mapUnit,
    async restore() {
      try {
        const u = await api.me();
        restoreGrid(u);
        user.value = started(u);
      } catch {
        user.value = null;
      }
    },
    async login(username: string, password: string) {
      const u = await api.login(username, password);
      restoreGrid(u);
      user.value = started(u);
    },
    async logout() {
      await api.logout().catch(() => undefined);
      events.stop();
      user.value = null;
      tiles.value = empty();
      maximized.value = null;
      source.value = null;
      page.value = 'live';
      healthUnit.value = undefined;
    },
    /** showHealth opens the health page on a unit. */
    showHealth(code?: string) {
      healthUnit.value = code;
      page.value = 'health';
    },
    setLayout(n: Split) {
      layout.value = n;
      maximized.value = null;
      if (selectedTile.value >= n) selectedTile.value = 0;
      save();
    },
    /** choose is what a click on a camera in the tree does: pick it for a grant or for editing on those pages, else show it. */
    choose(camera: TileCamera) {
      if (page.value === 'grants') {
        if (!picked.value.some((c) => c.id === camera.id)) picked.value = [...picked.value, camera];
        return;
      }
      if (page.value === 'cameras') {
        editing.value = camera;
        return;
      }
      state.show(camera);
    },
    /** show puts a camera in the selected tile, then selects the next tile, as operators fill a wall. */
    show(camera: TileCamera) {
      page.value = 'live';
      if (state.place(camera, selectedTile.value)) selectedTile.value = (selectedTile.value + 1) % layout.value;
    },
    /**
     * place puts a camera in a tile. A camera already playing in another tile is not opened twice: the user is told
     * where it plays (and that tile is selected).
     */
    place(camera: TileCamera, index: number): boolean {
      const at = playingAt(camera.id, index);
      if (at >= 0) {
        say({ key: 'grid.duplicate', params: { name: camera.name, n: at + 1 } }, at);
        selectedTile.value = at;
        return false;
      }
      const next = [...tiles.value];
      next[index] = { id: camera.id, name: camera.name, profile: camera.profile ?? profileFor(layout.value, index) };
      setTiles(next);
      return true;
    },
    /** moveTile moves a tile's camera onto another tile (their cameras change places). */
    moveTile(from: number, to: number) {
      if (from === to) return;
      const next = [...tiles.value];
      [next[from], next[to]] = [next[to] ?? null, next[from] ?? null];
      setTiles(next);
      selectedTile.value = to;
    },
    /** setProfile switches the stream a tile plays. */
    setProfile(index: number, profile: Profile) {
      const t = tiles.value[index];
      if (!t || t.profile === profile) return;
      const next = [...tiles.value];
      next[index] = { ...t, profile };
      setTiles(next);
    },
    /**
     * fillFrom puts a unit's cameras in the tiles from index on, a page at a time: the cameras already playing
     * elsewhere in the grid are skipped. PageDown and PageUp go through the pages.
     */
    async fillFrom(unit: { code: string; name: string }, index: number, pageNo = 0) {
      const room = layout.value - index;
      const r = await api.unitCameras(unit.code, pageNo * room, room);
      if (r.total === 0) { say({ key: 'grid.noCameras', params: { unit: unit.name } }); return; }
      const next = [...tiles.value];
      for (let i = 0; i < room; i++) {
        const c = r.cameras[i];
        next[index + i] = c ? { id: c.id, name: c.name, profile: profileFor(layout.value, index + i) } : null;
      }
      setTiles(next);
      source.value = { unit, total: r.total, page: pageNo, from: index };
      say({ key: 'grid.filled', params: { unit: unit.name, shown: r.cameras.length, total: r.total } });
    },
    /** turnPage shows the next (1) or previous (-1) page of the unit last dropped. */
    async turnPage(step: 1 | -1) {
      const s = source.value;
      if (!s) return;
      const room = layout.value - s.from;
      const pages = Math.max(1, Math.ceil(s.total / room));
      const to = (s.page + step + pages) % pages;
      await state.fillFrom(s.unit, s.from, to);
    },
    clear(index: number) {
      const next = [...tiles.value];
      next[index] = null;
      setTiles(next);
      if (maximized.value === index) maximized.value = null;
    },
    clearAll() {
      setTiles(empty());
      maximized.value = null;
      source.value = null;
    },
    /** toggleMaximize shows one tile alone, or the grid again. */
    toggleMaximize(index: number) {
      maximized.value = maximized.value === index ? null : index;
      selectedTile.value = index;
    },
    /** loadView puts a saved view on the grid. */
    loadView(v: { layout: number; tiles: Array<{ camera: string; name: string; profile?: Profile } | null>; hidden: number }) {
      if (!isSplit(v.layout)) return;
      layout.value = v.layout;
      maximized.value = null;
      source.value = null;
      const next = empty();
      v.tiles.slice(0, v.layout).forEach((t, i) => { if (t) next[i] = { id: t.camera, name: t.name, profile: t.profile ?? profileFor(v.layout as Split, i) }; });
      setTiles(next);
      if (v.hidden > 0) say({ key: 'grid.viewHidden', params: { n: v.hidden } });
    },
    /** viewTiles is the grid as a view stores it. */
    viewTiles() {
      return visibleTiles.value.map((t) => (t ? { camera: t.id, ...(t.profile ? { profile: t.profile } : {}) } : null));
    },
    /** sessionEnded sends the user back to the login page with a reason. */
    sessionEnded(err: unknown) {
      if (err instanceof ApiError && err.status === 401) {
        banner.value = err;
        events.stop();
        user.value = null;
      }
    },
  };
  return state;
}

export type AppState = ReturnType<typeof createAppState>;

export const AppStateContext = createContext<AppState | null>(null);

/** useAppState returns the provided state. */
export function useAppState(): AppState {
  const state = useContext(AppStateContext);
  if (!state) throw new Error('AppStateContext is not provided');
  return state;
}
