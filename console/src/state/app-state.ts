// App state in one factory, provided through context: components read signals and call actions.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { signal, computed } from '@preact/signals';
import { api, ApiError, type User } from '../api/client.js';

/** TileCamera is what one tile of the grid shows. */
export interface TileCamera {
  id: string;
  name: string;
}

/** LAYOUTS are the grid splits the console offers. */
export const LAYOUTS = [1, 4, 9, 16] as const;
export type Layout = (typeof LAYOUTS)[number];

/** PAGES are the console's views. */
export type Page = 'live' | 'health' | 'import' | 'onboard' | 'grants' | 'users' | 'audit';

/** createAppState builds the console's state and actions. */
export function createAppState() {
  const user = signal<User | null | undefined>(undefined);
  const layout = signal<Layout>(4);
  const tiles = signal<Array<TileCamera | null>>(Array(16).fill(null));
  const selectedTile = signal(0);
  const banner = signal<string | null>(null);
  const visibleTiles = computed(() => tiles.value.slice(0, layout.value));
  const page = signal<Page>('live');
  /** healthUnit is the unit the health page shows (undefined: the user's own). */
  const healthUnit = signal<string | undefined>(undefined);
  /** picked are the cameras chosen for a grant (the tree adds to them while the grants page is open). */
  const picked = signal<TileCamera[]>([]);

  return {
    user, layout, tiles, selectedTile, banner, visibleTiles, page, healthUnit, picked,
    async restore() {
      try {
        user.value = await api.me();
      } catch {
        user.value = null;
      }
    },
    async login(username: string, password: string) {
      user.value = await api.login(username, password);
    },
    async logout() {
      await api.logout().catch(() => undefined);
      user.value = null;
      tiles.value = Array(16).fill(null);
      page.value = 'live';
      healthUnit.value = undefined;
    },
    /** showHealth opens the health page on a unit. */
    showHealth(code?: string) {
      healthUnit.value = code;
      page.value = 'health';
    },
    setLayout(n: Layout) {
      layout.value = n;
      if (selectedTile.value >= n) selectedTile.value = 0;
    },
    /** choose is what a click on a camera in the tree does: pick it for a grant on the grants page, else show it. */
    choose(camera: TileCamera) {
      if (page.value === 'grants') {
        if (!picked.value.some((c) => c.id === camera.id)) picked.value = [...picked.value, camera];
        return;
      }
      this.show(camera);
    },
    /** show puts a camera in the selected tile, then selects the next tile, as operators fill a wall. */
    show(camera: TileCamera) {
      const next = [...tiles.value];
      next[selectedTile.value] = camera;
      tiles.value = next;
      selectedTile.value = (selectedTile.value + 1) % layout.value;
    },
    clear(index: number) {
      const next = [...tiles.value];
      next[index] = null;
      tiles.value = next;
    },
    /** sessionEnded sends the user back to the login page with a reason. */
    sessionEnded(err: unknown) {
      if (err instanceof ApiError && err.status === 401) {
        banner.value = err.message;
        user.value = null;
      }
    },
  };
}

export type AppState = ReturnType<typeof createAppState>;

export const AppStateContext = createContext<AppState | null>(null);

/** useAppState returns the provided state. */
export function useAppState(): AppState {
  const state = useContext(AppStateContext);
  if (!state) throw new Error('AppStateContext is not provided');
  return state;
}
