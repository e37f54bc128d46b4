// The state of one wall and the commands that change it, as pure data: no I/O, no rights (walls.ts asks those).
// Every element (a screen's layout, a tile, a window) remembers the wall version that last changed it, so a command
// made against an older version is refused only when it touches something changed since.
import { checkLayout, LayoutError, tileCount, tileRects, profileForArea, type Layout, type Rect } from './wall-layout.js';

/** ProfileChoice is the stream a picture asks for: chosen by its size ('auto'), or fixed by the operator. */
export type ProfileChoice = 'auto' | 'main' | 'sub';

/** Content is what a tile or window shows. */
export interface Content {
  camera: string;
  profile: ProfileChoice;
  /** by is the operator who put it there (0: the gateway, for a schedule or a tour). */
  by: number;
  at: number;
  /** alarm is the id of the alarm that put it there, until acknowledged. */
  alarm?: number;
  /** tour is the id of the tour that put it there. */
  tour?: number;
}

/** ScreenKind says what drives a screen: a display page in a browser, or a hardware decoder pulling RTSP. */
export type ScreenKind = 'browser' | 'decoder';

/** ScreenState is one physical screen. */
export interface ScreenState {
  layout: Layout;
  tiles: Array<Content | null>;
  /** maximized is the tile shown alone on the screen, or null. */
  maximized: number | null;
  kind: ScreenKind;
}

/** WindowState is a roaming window: a rectangle in wall coordinates (one unit is a screen's width or height). */
export interface WindowState {
  id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  z: number;
  content: Content | null;
}

/** WallState is everything a wall shows; it is what presets save. */
export interface WallState {
  screens: ScreenState[];
  windows: WindowState[];
}

/** Target is a place a camera can be put: a tile of a screen, or a window. */
export type Target = { screen: number; tile: number } | { window: number };

/** MAX_WINDOWS bounds the windows open on one wall. */
export const MAX_WINDOWS = 32;
/** MIN_WINDOW is the smallest window side, in screens. */
export const MIN_WINDOW = 0.1;

/** WallError is a command the state cannot take, with a stable reason and what explains it. */
export class WallError extends Error {
  override name = 'WallError';
  readonly reason: string;
  readonly params: Record<string, string | number>;
  readonly kind: 'bad-request' | 'not-found' | 'conflict' | 'forbidden';

  constructor(kind: WallError['kind'], reason: string, message: string, params: Record<string, string | number> = {}) {
    super(message);
    this.kind = kind;
    this.reason = reason;
    this.params = params;
  }
}

/** emptyState is a wall of rows × cols screens, each in a 4 split, nothing shown. */
export function emptyState(rows: number, cols: number, split: 1 | 4 | 9 | 16 = 4): WallState {
  const screens: ScreenState[] = [];
  for (let i = 0; i < rows * cols; i++) screens.push({ layout: { split }, tiles: new Array<Content | null>(split).fill(null), maximized: null, kind: 'browser' });
  return { screens, windows: [] };
}

/** Command is one change of a wall; every command but a recall names the version it was made against. */
export type Command =
  | { op: 'assign'; target: Target; camera: string; profile?: ProfileChoice }
  | { op: 'clear'; target: Target }
  | { op: 'swap'; a: Target; b: Target }
  | { op: 'layout'; screen: number; layout: unknown }
  | { op: 'maximize'; screen: number; tile: number | null }
  | { op: 'window.open'; x: number; y: number; w: number; h: number; camera?: string; profile?: ProfileChoice }
  | { op: 'window.move'; window: number; x: number; y: number; w: number; h: number }
  | { op: 'window.raise'; window: number }
  | { op: 'window.close'; window: number }
  | { op: 'screen.kind'; screen: number; kind: ScreenKind };

/** keyOf names a target's element for the version check. */
export function keyOf(t: Target): string {
  return 'window' in t ? `w${t.window}` : `t${t.screen}.${t.tile}`;
}

/** Geometry is what a wall's state needs of the wall: its grid of screens. */
export interface WallGrid { rows: number; cols: number }

function screenOf(state: WallState, n: unknown): ScreenState {
  const s = Number.isInteger(n) ? state.screens[n as number] : undefined;
  if (!s) throw new WallError('not-found', 'wall-no-screen', `the wall has no screen ${String(n)} (screens are numbered from 0 to ${state.screens.length - 1})`, { screen: String(n) });
  return s;
}

function windowOf(state: WallState, id: unknown): WindowState {
  const w = state.windows.find((x) => x.id === id);
  if (!w) throw new WallError('not-found', 'wall-no-window', `the wall has no window ${String(id)} (it was closed)`, { window: String(id) });
  return w;
}

/** contentAt returns what a target shows, checking that the target exists. */
export function contentAt(state: WallState, t: Target): Content | null {
  if ('window' in t) return windowOf(state, t.window).content;
  const s = screenOf(state, t.screen);
  if (!Number.isInteger(t.tile) || t.tile < 0 || t.tile >= s.tiles.length) {
    throw new WallError('not-found', 'wall-no-tile', `screen ${t.screen} has no tile ${t.tile} in its layout of ${s.tiles.length}`, { screen: t.screen, tile: t.tile });
  }
  return s.tiles[t.tile] ?? null;
}

/** setAt puts content (or nothing) on a target. */
export function setAt(state: WallState, t: Target, c: Content | null): void {
  contentAt(state, t);
  if ('window' in t) windowOf(state, t.window).content = c;
  else state.screens[t.screen]!.tiles[t.tile] = c;
}

function inside(x: number, y: number, r: Rect): boolean {
  return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
}

function checkRect(grid: WallGrid, r: { x: number; y: number; w: number; h: number }): void {
  const finite = [r.x, r.y, r.w, r.h].every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!finite || r.w < MIN_WINDOW || r.h < MIN_WINDOW || r.x < 0 || r.y < 0 || r.x + r.w > grid.cols + 1e-9 || r.y + r.h > grid.rows + 1e-9) {
    throw new WallError('bad-request', 'wall-window-outside', `a window lies on the wall (0 to ${grid.cols} across, 0 to ${grid.rows} down, in screens) and is at least ${MIN_WINDOW} of a screen on each side`, { cols: grid.cols, rows: grid.rows });
  }
}

/** Applied is what a command changed: the elements (for the version check) and what the audit trail says. */
export interface Applied {
  touched: string[];
  /** cameras are the cameras newly put on the wall (their rights are checked before the command is applied). */
  cameras: string[];
  /** window is the id of a window just opened. */
  window?: number;
}

/**
 * touchedBy names the elements a command would change and the cameras it would put up, without changing anything:
 * walls.ts checks versions and rights against it before apply().
 */
export function touchedBy(state: WallState, cmd: Command): Applied {
  switch (cmd.op) {
    case 'assign': contentAt(state, cmd.target); return { touched: [keyOf(cmd.target)], cameras: [cmd.camera] };
    case 'clear': contentAt(state, cmd.target); return { touched: [keyOf(cmd.target)], cameras: [] };
    case 'swap': contentAt(state, cmd.a); contentAt(state, cmd.b); return { touched: [keyOf(cmd.a), keyOf(cmd.b)], cameras: [] };
    case 'layout': {
      const s = screenOf(state, cmd.screen);
      return { touched: [`s${cmd.screen}`, ...s.tiles.map((_, i) => `t${cmd.screen}.${i}`)], cameras: [] };
    }
    case 'maximize': screenOf(state, cmd.screen); return { touched: [`s${cmd.screen}`], cameras: [] };
    case 'screen.kind': screenOf(state, cmd.screen); return { touched: [`s${cmd.screen}`], cameras: [] };
    case 'window.open': return { touched: [], cameras: cmd.camera ? [cmd.camera] : [] };
    case 'window.move': case 'window.raise': case 'window.close': windowOf(state, cmd.window); return { touched: [`w${cmd.window}`], cameras: [] };
  }
}

/**
 * apply changes the state by one command (already checked by touchedBy, versions and rights), with `by` the
 * operator and `now` the time; it returns what it changed. A layout change keeps the tiles that still fit (the first
 * ones) and clears the rest; a maximized tile that no longer exists is let go.
 */
export function apply(state: WallState, grid: WallGrid, cmd: Command, by: number, now: number): Applied {
  const made = (camera: string, profile?: ProfileChoice): Content => ({ camera, profile: profile ?? 'auto', by, at: now });
  const t = touchedBy(state, cmd);
  switch (cmd.op) {
    case 'assign': setAt(state, cmd.target, made(cmd.camera, cmd.profile)); break;
    case 'clear': setAt(state, cmd.target, null); break;
    case 'swap': {
      const a = contentAt(state, cmd.a);
      const b = contentAt(state, cmd.b);
      setAt(state, cmd.a, b);
      setAt(state, cmd.b, a);
      break;
    }
    case 'layout': {
      let layout: Layout;
      try {
        layout = checkLayout(cmd.layout);
      } catch (err) {
        if (err instanceof LayoutError) throw new WallError('bad-request', 'wall-layout', err.message);
        throw err;
      }
      const s = state.screens[cmd.screen]!;
      const n = tileCount(layout);
      const tiles = new Array<Content | null>(n).fill(null);
      if ('split' in layout) {
        // A standard split keeps the first tiles, in order, as the vendors' clients do.
        for (let i = 0; i < Math.min(n, s.tiles.length); i++) tiles[i] = s.tiles[i] ?? null;
      } else {
        // A custom layout (tiles merged or split) keeps each camera where it stood: a new tile takes the first camera
        // of the old tiles whose centre lies in it.
        const before = tileRects(s.layout);
        const after = tileRects(layout);
        const used = new Set<number>();
        after.forEach((r, i) => {
          const j = before.findIndex((b, k) => !used.has(k) && s.tiles[k] && inside(b.x + b.w / 2, b.y + b.h / 2, r));
          if (j >= 0) { tiles[i] = s.tiles[j]!; used.add(j); }
        });
      }
      s.layout = layout;
      s.tiles = tiles;
      if (s.maximized !== null && s.maximized >= n) s.maximized = null;
      break;
    }
    case 'maximize': {
      const s = state.screens[cmd.screen]!;
      if (cmd.tile !== null && (!Number.isInteger(cmd.tile) || cmd.tile < 0 || cmd.tile >= s.tiles.length)) {
        throw new WallError('not-found', 'wall-no-tile', `screen ${cmd.screen} has no tile ${cmd.tile}`, { screen: cmd.screen, tile: cmd.tile });
      }
      s.maximized = cmd.tile;
      break;
    }
    case 'screen.kind': state.screens[cmd.screen]!.kind = cmd.kind; break;
    case 'window.open': {
      if (state.windows.length >= MAX_WINDOWS) throw new WallError('conflict', 'wall-too-many-windows', `a wall holds at most ${MAX_WINDOWS} windows: close one first`, { max: MAX_WINDOWS });
      checkRect(grid, cmd);
      const id = state.windows.reduce((m, w) => Math.max(m, w.id), 0) + 1;
      const z = state.windows.reduce((m, w) => Math.max(m, w.z), 0) + 1;
      state.windows.push({ id, x: cmd.x, y: cmd.y, w: cmd.w, h: cmd.h, z, content: cmd.camera ? made(cmd.camera, cmd.profile) : null });
      return { touched: [`w${id}`], cameras: t.cameras, window: id };
    }
    case 'window.move': {
      checkRect(grid, cmd);
      const w = windowOf(state, cmd.window);
      Object.assign(w, { x: cmd.x, y: cmd.y, w: cmd.w, h: cmd.h });
      break;
    }
    case 'window.raise': windowOf(state, cmd.window).z = state.windows.reduce((m, w) => Math.max(m, w.z), 0) + 1; break;
    case 'window.close': state.windows = state.windows.filter((w) => w.id !== cmd.window); break;
  }
  return t;
}

/** checkState reads a stored or preset state, throwing WallError naming what is wrong; it must fit the wall's grid. */
export function checkState(input: unknown, grid: WallGrid): WallState {
  const bad = (what: string) => new WallError('bad-request', 'wall-state', `the wall's state is malformed: ${what}`);
  const o = input as { screens?: unknown; windows?: unknown };
  if (typeof o !== 'object' || o === null || !Array.isArray(o.screens) || !Array.isArray(o.windows)) throw bad('screens and windows are lists');
  if (o.screens.length !== grid.rows * grid.cols) throw bad(`it has ${o.screens.length} screens, the wall ${grid.rows * grid.cols}`);
  const content = (c: unknown, where: string): Content | null => {
    if (c === null || c === undefined) return null;
    const x = c as Record<string, unknown>;
    if (typeof x.camera !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(x.camera)) throw bad(`${where} names no camera`);
    const profile = x.profile === 'main' || x.profile === 'sub' ? x.profile : 'auto';
    return {
      camera: x.camera, profile, by: Number.isInteger(x.by) ? x.by as number : 0, at: typeof x.at === 'number' ? x.at : 0,
      ...(Number.isInteger(x.alarm) ? { alarm: x.alarm as number } : {}), ...(Number.isInteger(x.tour) ? { tour: x.tour as number } : {}),
    };
  };
  const screens = o.screens.map((s: unknown, i): ScreenState => {
    const x = s as Record<string, unknown>;
    let layout: Layout;
    try {
      layout = checkLayout(x?.layout);
    } catch (err) {
      throw bad(`screen ${i}: ${(err as Error).message}`);
    }
    const n = tileCount(layout);
    const tiles = Array.isArray(x.tiles) ? x.tiles.slice(0, n).map((c, j) => content(c, `screen ${i} tile ${j}`)) : [];
    while (tiles.length < n) tiles.push(null);
    const maximized = Number.isInteger(x.maximized) && (x.maximized as number) >= 0 && (x.maximized as number) < n ? x.maximized as number : null;
    return { layout, tiles, maximized, kind: x.kind === 'decoder' ? 'decoder' : 'browser' };
  });
  if (o.windows.length > MAX_WINDOWS) throw bad(`more than ${MAX_WINDOWS} windows`);
  const windows = o.windows.map((w: unknown, i): WindowState => {
    const x = w as Record<string, unknown>;
    const r = { x: Number(x?.x), y: Number(x?.y), w: Number(x?.w), h: Number(x?.h) };
    try {
      checkRect(grid, r);
    } catch {
      throw bad(`window ${i} does not lie on the wall`);
    }
    if (!Number.isInteger(x.id) || (x.id as number) < 1) throw bad(`window ${i} has no id`);
    return { id: x.id as number, ...r, z: Number.isInteger(x.z) ? x.z as number : i + 1, content: content(x.content, `window ${i}`) };
  });
  if (new Set(windows.map((w) => w.id)).size !== windows.length) throw bad('two windows have one id');
  return { screens, windows };
}

/** Placed is a picture of the wall as a screen draws it: where on the screen, which camera, which stream. */
export interface Placed {
  target: Target;
  /** rect is in fractions of the screen; a window reaching over the screen's edge runs past 0..1 and is clipped. */
  rect: Rect;
  content: Content | null;
  /** profile is the stream it takes: the operator's choice, or by its size. */
  profile: 'main' | 'sub';
  z: number;
  /** hidden marks the tiles under a maximized one (kept, not shown). */
  hidden: boolean;
}

/** placeScreen lays out what screen n shows: its tiles (a maximized one over the whole screen), then the windows over it. */
export function placeScreen(state: WallState, grid: WallGrid, n: number): Placed[] {
  const s = state.screens[n];
  if (!s) return [];
  const pick = (c: Content | null, area: number) => (c?.profile === 'main' || c?.profile === 'sub' ? c.profile : profileForArea(area));
  const rects = tileRects(s.layout);
  const out: Placed[] = rects.map((rect, i) => {
    const max = s.maximized === i;
    const r = max ? { x: 0, y: 0, w: 1, h: 1 } : rect;
    const c = s.tiles[i] ?? null;
    return { target: { screen: n, tile: i }, rect: r, content: c, profile: pick(c, r.w * r.h), z: max ? 1 : 0, hidden: s.maximized !== null && !max };
  });
  const sx = n % grid.cols;
  const sy = Math.floor(n / grid.cols);
  for (const w of [...state.windows].sort((a, b) => a.z - b.z)) {
    // The part of the window on this screen, if any.
    if (w.x >= sx + 1 || w.x + w.w <= sx || w.y >= sy + 1 || w.y + w.h <= sy) continue;
    out.push({ target: { window: w.id }, rect: { x: w.x - sx, y: w.y - sy, w: w.w, h: w.h }, content: w.content, profile: pick(w.content, w.w * w.h), z: 10 + w.z, hidden: false });
  }
  return out;
}
