// The video walls: their state held here and in the store, every change checked (the operator's right to the wall
// and to each camera, the version she saw), written, audited and announced; presets and their schedules, tours and
// alarm pop-ups run here. Who may still be shown on a wall is reviewed every second: a right withdrawn turns the
// tile into a placeholder, and a display's media ends with it.
import { EventEmitter } from 'node:events';
import type { AccessIndex, Action, Subject } from '../access/access-index.js';
import {
  apply, checkState, contentAt, emptyState, keyOf, placeScreen, setAt, touchedBy, WallError,
  type Command, type Content, type Placed, type Target, type WallState,
} from './wall-model.js';
import { tileCount } from './wall-layout.js';
import type { AlarmRecord, DisplayRecord, PresetRecord, ScheduleRecord, TourRecord, WallRecord, WallStore } from './wall-store.js';

/** Actor is who changes a wall: an operator (with her subject for the rights), or the gateway itself (a schedule, a tour). */
export interface Actor {
  subject: Subject | null;
  userId: number | null;
  username: string;
  unit: string | null;
  remote?: string;
}

/** WallRights are the questions the walls ask of the access model. */
export interface WallRights {
  /** mayDrive says whether subject may drive the walls of unit: an operator or administrator of it or above it. */
  mayDrive(subject: Subject, unit: string): boolean;
  /** refusePut says why subject may not put camera on a wall of unit, or undefined when she may. */
  refusePut(subject: Subject, unit: string, camera: string): WallError | undefined;
  /** wallMayShow says whether a wall of unit may (still) show camera. */
  wallMayShow(unit: string, camera: string): boolean;
  /** camerasOf lists the cameras of a unit's subtree, in tree order (a tour over a unit). */
  camerasOf(unit: string): string[];
  /** unitKnown says whether a unit exists. */
  unitKnown(unit: string): boolean;
}

/** wallSubject is how the access model sees a wall of unit: an operator of that unit. */
export function wallSubject(unit: string): Subject {
  return { userId: 0, unit, roles: ['operator'] };
}

/** accessRights answers the walls' questions from the access index. */
export function accessRights(access: AccessIndex): WallRights {
  const refuse = (subject: Subject, action: Action, camera: string): WallError | undefined => {
    const d = access.decide(subject, action, camera);
    if (d.allow) return undefined;
    if (d.reason === 'role') return new WallError('forbidden', 'role', `your roles do not include ${action === 'wall' ? 'putting cameras on the wall' : 'live viewing'}`, { action });
    if (d.reason === 'not-granted') return new WallError('forbidden', 'not-granted', `your unit was not given ${action} on camera ${camera}`, { action, camera });
    return new WallError('not-found', 'camera-unknown', `no camera ${camera} among yours`, { camera });
  };
  const wallMayShow = (unit: string, camera: string) => access.may(wallSubject(unit), 'live', camera) && access.may(wallSubject(unit), 'wall', camera);
  return {
    mayDrive: (subject, unit) => subject.roles.some((r) => r === 'admin' || r === 'operator') && access.tree.contains(subject.unit, unit),
    refusePut: (subject, unit, camera) => refuse(subject, 'live', camera) ?? refuse(subject, 'wall', camera) ?? (wallMayShow(unit, camera)
      ? undefined
      : new WallError('forbidden', 'wall-unit-lacks', `the wall's unit may not show camera ${camera}: give it the camera (live and wall) first`, { camera })),
    wallMayShow,
    camerasOf: (unit) => access.camerasUnder(unit),
    unitKnown: (unit) => access.tree.get(unit) !== undefined,
  };
}

/** PictureStatus is what a display shows of a picture besides its video. */
export type PictureStatus = 'ok' | 'denied' | 'empty';

/** WallDeps are what the walls need. */
export interface WallDeps {
  store: WallStore;
  rights: WallRights;
  /** online says what the health monitor knows of a camera. */
  online(camera: string): 'online' | 'offline' | 'unknown';
  /** audit records an action on a wall. */
  audit(actor: Actor, action: string, detail: Record<string, unknown>, camera?: string): void;
  /** gotoPreset turns a camera to a PTZ preset (an alarm's). */
  gotoPreset?(camera: string, token: string): Promise<void>;
  /** alarmRaised tells the event centre. */
  alarmRaised?(wall: WallRecord, alarm: AlarmRecord): void;
  /** log reports what failed in the background (a schedule, a tour step, an alarm's preset). */
  log(level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void;
  /** reviewMs is how often rights and health are reviewed (1 s). */
  reviewMs?: number;
  /** preloadMs is how long before a tour step its next cameras are started (4 s). */
  preloadMs?: number;
  now?: () => number;
}

/** Change says what changed on a wall, for its viewers. */
export type Change = { wall: number; kind: 'state' | 'status' | 'upcoming' | 'alarms' | 'tours' | 'deleted' | 'displays' };

/** WallEvents are what the walls announce. */
export interface WallEvents {
  change: [Change];
}

/** Upcoming is a camera a tour puts on a target soon: displays start it beforehand, so the switch shows no black. */
export interface Upcoming { camera: string; at: number }

/** TourRun is a running tour's timing. */
interface TourRun { nextAt: number; step?: NodeJS.Timeout; preload?: NodeJS.Timeout }

const MINUTES_PER_DAY = 1440;

/** Walls holds every wall. */
export class Walls extends EventEmitter<WallEvents> {
  #d: WallDeps;
  #walls = new Map<number, WallRecord>();
  #tours = new Map<number, TourRecord>();
  #runs = new Map<number, TourRun>();
  #upcoming = new Map<number, Map<string, Upcoming>>();
  #status = new Map<number, Map<string, PictureStatus>>();
  #review?: NodeJS.Timeout;
  #schedule?: NodeJS.Timeout;
  #closed = false;

  constructor(deps: WallDeps) {
    super();
    this.#d = deps;
  }

  #now(): number {
    return this.#d.now ? this.#d.now() : Date.now();
  }

  /** start loads the walls, resumes their running tours and begins the reviews and schedules. */
  start(): void {
    for (const w of this.#d.store.walls()) {
      try {
        w.state = checkState(w.state, w);
      } catch (err) {
        // A damaged state is shown empty and said once; the stored row is kept for whoever repairs it.
        this.#d.log('warn', { wall: w.id, err: (err as Error).message }, 'wall state unreadable: shown empty');
        w.state = emptyState(w.rows, w.cols);
      }
      this.#walls.set(w.id, w);
      this.#status.set(w.id, this.#statusOf(w));
    }
    for (const t of this.#d.store.tours()) {
      this.#tours.set(t.id, t);
      if (t.state === 'running' && this.#walls.has(t.wall)) this.#runTour(t, 0);
    }
    const every = this.#d.reviewMs ?? 1000;
    this.#review = setInterval(() => this.review(), every);
    this.#review.unref();
    this.#planSchedules();
  }

  /** close stops every timer; the state is already stored. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#review);
    clearTimeout(this.#schedule);
    for (const r of this.#runs.values()) { clearTimeout(r.step); clearTimeout(r.preload); }
    this.#runs.clear();
  }

  // ---- walls -----------------------------------------------------------------------------------------------------

  /** list returns the walls a subject may drive (those of her subtree). */
  list(subject: Subject): WallRecord[] {
    return [...this.#walls.values()].filter((w) => this.#d.rights.mayDrive(subject, w.unit));
  }

  /** get returns a wall, or undefined. */
  get(id: number): WallRecord | undefined {
    return this.#walls.get(id);
  }

  /** wallFor returns a wall the subject may drive, or throws not-found as for one that does not exist. */
  wallFor(subject: Subject, id: number): WallRecord {
    const w = this.#walls.get(id);
    if (!w || !this.#d.rights.mayDrive(subject, w.unit)) throw new WallError('not-found', 'wall-unknown', `no wall ${id} among yours`, { wall: id });
    return w;
  }

  /** create makes a wall of rows × cols screens for a unit (an administrator of it or above). */
  create(actor: Actor, w: { name: string; unit: string; rows: number; cols: number; split?: 1 | 4 | 9 | 16 }): WallRecord {
    const s = this.#actorSubject(actor);
    if (!this.#d.rights.unitKnown(w.unit) || !s.roles.includes('admin') || !this.#d.rights.mayDrive(s, w.unit)) {
      throw new WallError('forbidden', 'wall-admin', 'only administrators of the unit or above make its walls');
    }
    const made = this.#d.store.createWall({
      name: w.name, unit: w.unit, rows: w.rows, cols: w.cols, state: emptyState(w.rows, w.cols, w.split ?? 4), version: 1, versions: {}, alarmTargets: [], createdBy: actor.userId,
    }, this.#now());
    this.#walls.set(made.id, made);
    this.#status.set(made.id, new Map());
    this.#d.audit(actor, 'wall.change', { wall: made.id, name: made.name, unit: made.unit, rows: made.rows, cols: made.cols, made: true });
    return made;
  }

  /** update renames a wall or sets its alarm targets. */
  update(actor: Actor, id: number, change: { name?: string; alarmTargets?: Target[] }): WallRecord {
    const w = this.#admin(actor, id);
    if (change.alarmTargets) for (const t of change.alarmTargets) contentAt(w.state, t);
    if (change.name !== undefined) w.name = change.name;
    if (change.alarmTargets) w.alarmTargets = change.alarmTargets;
    this.#bump(w, []);
    this.#d.audit(actor, 'wall.change', { wall: id, ...(change.name !== undefined ? { name: change.name } : {}), ...(change.alarmTargets ? { alarmTargets: change.alarmTargets.map(keyOf).join(',') } : {}) });
    this.emit('change', { wall: id, kind: 'state' });
    this.#placeAlarms(w);
    return w;
  }

  /** remove deletes a wall with its presets, tours, displays and alarms. */
  remove(actor: Actor, id: number): void {
    const w = this.#admin(actor, id);
    for (const t of [...this.#tours.values()].filter((x) => x.wall === id)) { this.#stopRun(t.id); this.#tours.delete(t.id); }
    this.#d.store.deleteWall(id);
    this.#walls.delete(id);
    this.#status.delete(id);
    this.#upcoming.delete(id);
    this.#d.audit(actor, 'wall.change', { wall: id, name: w.name, deleted: true });
    this.emit('change', { wall: id, kind: 'deleted' });
  }

  // ---- commands --------------------------------------------------------------------------------------------------

  /**
   * command applies one operator command made against `base` (the version she saw): refused with 'wall-stale' when
   * something it touches changed since, and for every camera it puts up unless she and the wall may show it.
   */
  command(actor: Actor, id: number, base: number, cmd: Command): { version: number; window?: number } {
    const subject = this.#actorSubject(actor);
    const w = this.wallFor(subject, id);
    const t = touchedBy(w.state, cmd);
    const changedSince = (key: string) => Math.max(w.versions[key] ?? 0, w.versions['*'] ?? 0);
    const check = new Set(t.touched);
    for (const k of t.touched) { const m = /^t(\d+)\./.exec(k); if (m) check.add(`s${m[1]}`); }
    const stale = [...check].find((k) => changedSince(k) > base);
    if (stale !== undefined) {
      throw new WallError('conflict', 'wall-stale', `the wall changed since version ${base} (now ${w.version}): look again and repeat the command`, { version: w.version, base, element: stale });
    }
    for (const camera of t.cameras) {
      const no = this.#d.rights.refusePut(subject, w.unit, camera);
      if (no) throw no;
    }
    for (const target of cmd.op === 'assign' || cmd.op === 'clear' ? [cmd.target] : cmd.op === 'swap' ? [cmd.a, cmd.b] : []) {
      const held = this.#safeContent(w.state, target)?.alarm;
      if (held !== undefined) throw new WallError('conflict', 'wall-alarm-tile', `alarm ${held} holds this tile: acknowledge it first`, { alarm: held });
    }
    const done = apply(w.state, w, cmd, actor.userId ?? 0, this.#now());
    this.#bump(w, done.touched);
    const detail: Record<string, unknown> = { wall: id, version: w.version };
    // Places are recorded by their keys (t<screen>.<tile>, w<window>): the console says them in the reader's language.
    const where = keyOf;
    switch (cmd.op) {
      case 'assign': this.#d.audit(actor, 'wall.assign', { ...detail, at: where(cmd.target), ...(cmd.profile && cmd.profile !== 'auto' ? { profile: cmd.profile } : {}) }, cmd.camera); break;
      case 'clear': this.#d.audit(actor, 'wall.clear', { ...detail, at: where(cmd.target) }); break;
      case 'swap': this.#d.audit(actor, 'wall.swap', { ...detail, a: where(cmd.a), b: where(cmd.b) }); break;
      case 'layout': this.#d.audit(actor, 'wall.layout', { ...detail, screen: cmd.screen, layout: layoutName(w.state.screens[cmd.screen]!.layout) }); break;
      case 'maximize': this.#d.audit(actor, 'wall.layout', { ...detail, screen: cmd.screen, maximized: cmd.tile ?? false }); break;
      case 'screen.kind': this.#d.audit(actor, 'wall.layout', { ...detail, screen: cmd.screen, kind: cmd.kind }); break;
      default: this.#d.audit(actor, 'wall.window', { ...detail, op: cmd.op.slice(7), window: done.window ?? (cmd as { window: number }).window, ...(cmd.op === 'window.open' || cmd.op === 'window.move' ? { x: cmd.x, y: cmd.y, w: cmd.w, h: cmd.h } : {}) }, cmd.op === 'window.open' ? cmd.camera : undefined);
    }
    this.emit('change', { wall: id, kind: 'state' });
    if (cmd.op === 'layout' || cmd.op === 'window.close') this.#placeAlarms(w);
    return { version: w.version, ...(done.window !== undefined ? { window: done.window } : {}) };
  }

  #bump(w: WallRecord, touched: string[]): void {
    w.version++;
    for (const k of touched) w.versions[k] = w.version;
    // Keys of elements that no longer exist are dropped, so the map stays the size of the wall.
    const live = new Set<string>(['*']);
    w.state.screens.forEach((s, i) => { live.add(`s${i}`); s.tiles.forEach((_, j) => live.add(`t${i}.${j}`)); });
    for (const win of w.state.windows) live.add(`w${win.id}`);
    for (const k of Object.keys(w.versions)) if (!live.has(k)) delete w.versions[k];
    this.#d.store.saveWall(w, this.#now());
    this.#status.set(w.id, this.#statusOf(w));
  }

  #actorSubject(actor: Actor): Subject {
    if (!actor.subject) throw new WallError('forbidden', 'wall-operator', 'only operators drive walls');
    return actor.subject;
  }

  #admin(actor: Actor, id: number): WallRecord {
    const s = this.#actorSubject(actor);
    const w = this.wallFor(s, id);
    if (!s.roles.includes('admin')) throw new WallError('forbidden', 'wall-admin', 'only administrators of the unit or above change walls and their displays');
    return w;
  }

  // ---- what displays and consoles see ------------------------------------------------------------------------------

  /** placed lays out screen n of a wall, each picture with its status. */
  placed(w: WallRecord, n: number): Array<Placed & { status: PictureStatus; online: 'online' | 'offline' | 'unknown'; upcoming?: Upcoming }> {
    const status = this.#status.get(w.id) ?? new Map<string, PictureStatus>();
    const upcoming = this.#upcoming.get(w.id);
    return placeScreen(w.state, w, n).map((p) => {
      const k = keyOf(p.target);
      const up = upcoming?.get(k);
      return {
        ...p, status: status.get(k) ?? (p.content ? 'ok' : 'empty'), online: p.content ? this.#d.online(p.content.camera) : 'unknown',
        ...(up && this.#d.rights.wallMayShow(w.unit, up.camera) ? { upcoming: up } : {}),
      };
    });
  }

  /** onScreen says whether a display of screen n may play camera: it is shown there (or about to be), and allowed. */
  onScreen(w: WallRecord, n: number, camera: string): boolean {
    if (!this.#d.rights.wallMayShow(w.unit, camera)) return false;
    return this.placed(w, n).some((p) => p.content?.camera === camera || p.upcoming?.camera === camera);
  }

  #statusOf(w: WallRecord): Map<string, PictureStatus> {
    const out = new Map<string, PictureStatus>();
    const each = (k: string, c: Content | null) => out.set(k, !c ? 'empty' : this.#d.rights.wallMayShow(w.unit, c.camera) ? 'ok' : 'denied');
    w.state.screens.forEach((s, i) => s.tiles.forEach((c, j) => each(`t${i}.${j}`, c)));
    for (const win of w.state.windows) each(`w${win.id}`, win.content);
    return out;
  }

  /** review asks again whether every wall may show what it shows; a change is announced. */
  review(): void {
    for (const w of this.#walls.values()) {
      const before = this.#status.get(w.id);
      const now = this.#statusOf(w);
      let changed = !before || before.size !== now.size;
      if (!changed) for (const [k, v] of now) if (before!.get(k) !== v) { changed = true; break; }
      if (changed) {
        this.#status.set(w.id, now);
        this.emit('change', { wall: w.id, kind: 'status' });
      }
    }
  }

  // ---- presets and schedules ---------------------------------------------------------------------------------------

  presets(subject: Subject, id: number): PresetRecord[] {
    this.wallFor(subject, id);
    return this.#d.store.presets(id);
  }

  /** savePreset saves the whole wall as it is now under a name (replacing the preset of that name). */
  savePreset(actor: Actor, id: number, name: string): PresetRecord {
    const w = this.wallFor(this.#actorSubject(actor), id);
    const state = structuredClone(w.state);
    // Alarms are not part of a plan: a tile showing one is saved with what it showed before.
    for (const a of this.#d.store.openAlarms(id)) {
      if (a.state === 'shown' && a.placed && this.#shows(state, a.placed, a.id)) setAt(state, a.placed, (a.previous as Content | null) ?? null);
    }
    const p = this.#d.store.savePreset({ wall: id, name, state, createdBy: actor.userId }, this.#now());
    this.#d.audit(actor, 'wall.preset', { wall: id, preset: p.id, name, saved: true });
    return p;
  }

  deletePreset(actor: Actor, id: number, preset: number): void {
    this.wallFor(this.#actorSubject(actor), id);
    const p = this.#d.store.preset(preset);
    if (!p || p.wall !== id) throw new WallError('not-found', 'wall-preset-unknown', `the wall has no preset ${preset}`);
    this.#d.store.deletePreset(preset);
    this.#d.audit(actor, 'wall.preset', { wall: id, preset, name: p.name, deleted: true });
  }

  /**
   * recall shows a preset on the whole wall in one step. Cameras the recalling operator (or, for a schedule, the wall's
   * unit) may not show are left out and counted; shown alarms stay where they are.
   */
  recall(actor: Actor, id: number, preset: number): { version: number; skipped: number } {
    const w = actor.subject ? this.wallFor(actor.subject, id) : this.#walls.get(id);
    if (!w) throw new WallError('not-found', 'wall-unknown', `no wall ${id}`);
    const p = this.#d.store.preset(preset);
    if (!p || p.wall !== id) throw new WallError('not-found', 'wall-preset-unknown', `the wall has no preset ${preset}`);
    let state: WallState;
    try {
      state = checkState(p.state, w);
    } catch (err) {
      throw err instanceof WallError ? new WallError('conflict', 'wall-preset-unfit', `preset ${p.name} no longer fits the wall: ${err.message}`) : err;
    }
    let skipped = 0;
    const now = this.#now();
    const keep = (c: Content | null): Content | null => {
      if (!c) return null;
      const ok = actor.subject ? !this.#d.rights.refusePut(actor.subject, w.unit, c.camera) : this.#d.rights.wallMayShow(w.unit, c.camera);
      if (!ok) { skipped++; return null; }
      return { camera: c.camera, profile: c.profile, by: actor.userId ?? 0, at: now };
    };
    for (const s of state.screens) s.tiles = s.tiles.map(keep);
    for (const win of state.windows) win.content = keep(win.content);
    // Shown alarms keep their tiles; what the preset puts there is what they return to when acknowledged.
    const alarms = this.#d.store.openAlarms(id).filter((a) => a.state === 'shown' && a.placed);
    for (const a of alarms) {
      const tgt = a.placed!;
      let back: Content | null = null;
      try { back = contentAt(state, tgt); } catch { back = null; }
      try {
        setAt(state, tgt, contentAt(w.state, tgt));
        a.previous = back;
        this.#d.store.saveAlarm(a);
      } catch {
        // The preset has no such tile: the alarm is shown again wherever a target is free.
        a.state = 'queued';
        a.placed = null;
        this.#d.store.saveAlarm(a);
      }
    }
    w.state = state;
    // Tours put their cameras on tiles a preset has replaced: they stop there.
    for (const t of this.#tours.values()) if (t.wall === id && t.state !== 'stopped') this.#setTourState(t, 'stopped', null);
    w.versions['*'] = w.version + 1;
    this.#bump(w, []);
    this.#d.audit(actor, 'wall.preset', { wall: id, preset, name: p.name, recalled: true, skipped, version: w.version });
    this.emit('change', { wall: id, kind: 'state' });
    this.emit('change', { wall: id, kind: 'tours' });
    this.#placeAlarms(w);
    return { version: w.version, skipped };
  }

  schedules(subject: Subject, id: number): ScheduleRecord[] {
    this.wallFor(subject, id);
    return this.#d.store.schedules(id);
  }

  /** addSchedule recalls a preset every day of `days` (bit 0 Monday … bit 6 Sunday) at minute of the day (local time). */
  addSchedule(actor: Actor, id: number, s: { preset: number; minute: number; days: number }): ScheduleRecord {
    this.wallFor(this.#actorSubject(actor), id);
    const p = this.#d.store.preset(s.preset);
    if (!p || p.wall !== id) throw new WallError('not-found', 'wall-preset-unknown', `the wall has no preset ${s.preset}`);
    const made = this.#d.store.addSchedule({ wall: id, preset: s.preset, minute: s.minute, days: s.days });
    this.#d.audit(actor, 'wall.preset', { wall: id, preset: s.preset, name: p.name, schedule: made.id, minute: s.minute, days: s.days });
    this.#planSchedules();
    return made;
  }

  deleteSchedule(actor: Actor, id: number, schedule: number): void {
    this.wallFor(this.#actorSubject(actor), id);
    if (!this.#d.store.schedules(id).some((s) => s.id === schedule)) throw new WallError('not-found', 'wall-schedule-unknown', `the wall has no schedule ${schedule}`);
    this.#d.store.deleteSchedule(schedule);
    this.#d.audit(actor, 'wall.preset', { wall: id, schedule, deleted: true });
    this.#planSchedules();
  }

  /** runDueSchedules recalls each schedule whose last due time (in the last day) has not run yet; it returns how many ran. */
  runDueSchedules(): number {
    const now = this.#now();
    let ran = 0;
    for (const s of this.#d.store.schedules()) {
      const due = lastDue(s, now);
      if (due === undefined || (s.lastRun !== null && s.lastRun >= due) || now - due > 60_000 * 5) continue;
      this.#d.store.scheduleRan(s.id, now);
      try {
        const r = this.recall({ subject: null, userId: null, username: 'schedule', unit: null }, s.wall, s.preset);
        this.#d.log('info', { wall: s.wall, preset: s.preset, schedule: s.id, skipped: r.skipped }, 'scheduled preset recalled');
        ran++;
      } catch (err) {
        this.#d.log('warn', { wall: s.wall, preset: s.preset, schedule: s.id, err: (err as Error).message }, 'scheduled preset not recalled');
      }
    }
    return ran;
  }

  #planSchedules(): void {
    clearTimeout(this.#schedule);
    if (this.#closed) return;
    // Checked at every minute's turn: a schedule is a minute of the day.
    const now = this.#now();
    this.#schedule = setTimeout(() => { this.runDueSchedules(); this.#planSchedules(); }, 60_000 - (now % 60_000) + 50);
    this.#schedule.unref();
  }

  // ---- tours -------------------------------------------------------------------------------------------------------

  tours(subject: Subject, id: number): Array<TourRecord & { nextAt: number | null }> {
    this.wallFor(subject, id);
    return this.toursOf(id);
  }

  /** createTour defines a tour of cameras (a list, or a unit's cameras) through targets of the wall. */
  createTour(actor: Actor, id: number, t: { name: string; cameras?: string[]; unit?: string; targets: Target[]; intervalSeconds: number }): TourRecord {
    const subject = this.#actorSubject(actor);
    const w = this.wallFor(subject, id);
    if (!t.cameras?.length === !t.unit) throw new WallError('bad-request', 'wall-tour-source', 'a tour goes through a list of cameras or the cameras of a unit: one of them');
    for (const target of t.targets) contentAt(w.state, target);
    // A unit's cameras are toured only from the operator's own part of the tree (and shown only where the wall may).
    if (t.unit && (!this.#d.rights.unitKnown(t.unit) || !this.#d.rights.mayDrive(subject, t.unit))) throw new WallError('not-found', 'unit-unknown', `no unit ${t.unit} in your part of the tree`, { unit: t.unit });
    for (const c of t.cameras ?? []) { const no = this.#d.rights.refusePut(subject, w.unit, c); if (no) throw no; }
    const made = this.#d.store.createTour({ wall: id, name: t.name, cameras: t.cameras ?? [], unit: t.unit ?? null, targets: t.targets, intervalSeconds: t.intervalSeconds }, this.#now());
    this.#tours.set(made.id, made);
    this.#d.audit(actor, 'wall.tour', { wall: id, tour: made.id, name: t.name, made: true, cameras: t.cameras?.length ?? 0, unit: t.unit ?? '', targets: t.targets.map(keyOf).join(','), interval: t.intervalSeconds });
    this.emit('change', { wall: id, kind: 'tours' });
    return made;
  }

  /** tourControl starts, pauses, resumes, stops or deletes a tour. */
  tourControl(actor: Actor, id: number, tour: number, what: 'start' | 'pause' | 'resume' | 'stop' | 'delete'): TourRecord & { nextAt: number | null } {
    this.wallFor(this.#actorSubject(actor), id);
    const t = this.#tours.get(tour);
    if (!t || t.wall !== id) throw new WallError('not-found', 'wall-tour-unknown', `the wall has no tour ${tour}`);
    if (what === 'delete') {
      this.#stopRun(tour);
      this.#d.store.deleteTour(tour);
      this.#tours.delete(tour);
    } else if (what === 'start') {
      t.position = 0;
      this.#setTourState(t, 'running', actor.userId);
      this.#runTour(t, 0);
    } else if (what === 'resume') {
      if (t.state !== 'paused') throw new WallError('conflict', 'wall-tour-state', `tour ${t.name} is ${t.state}, not paused`, { state: t.state });
      this.#setTourState(t, 'running', t.startedBy);
      this.#runTour(t, t.intervalSeconds * 1000);
    } else if (what === 'pause') {
      if (t.state !== 'running') throw new WallError('conflict', 'wall-tour-state', `tour ${t.name} is ${t.state}, not running`, { state: t.state });
      this.#setTourState(t, 'paused', t.startedBy);
    } else {
      this.#setTourState(t, 'stopped', null);
    }
    this.#d.audit(actor, 'wall.tour', { wall: id, tour, name: t.name, [what]: true });
    this.emit('change', { wall: id, kind: 'tours' });
    return { ...t, nextAt: this.#runs.get(tour)?.nextAt ?? null };
  }

  #setTourState(t: TourRecord, state: TourRecord['state'], by: number | null): void {
    if (state !== 'running') this.#stopRun(t.id);
    t.state = state;
    t.startedBy = by;
    this.#d.store.saveTourRun(t);
  }

  #stopRun(tour: number): void {
    const r = this.#runs.get(tour);
    if (r) { clearTimeout(r.step); clearTimeout(r.preload); }
    this.#runs.delete(tour);
    const t = this.#tours.get(tour);
    const up = t ? this.#upcoming.get(t.wall) : undefined;
    if (t && up) for (const target of t.targets) up.delete(keyOf(target));
  }

  /** #cycle is a tour's cameras the wall may show now. */
  #cycle(t: TourRecord, w: WallRecord): string[] {
    return (t.unit ? this.#d.rights.camerasOf(t.unit) : t.cameras).filter((c) => this.#d.rights.wallMayShow(w.unit, c));
  }

  /** #camerasAt says which camera each target shows at a position of the tour (the cameras go round k at a time). */
  #camerasAt(t: TourRecord, cycle: string[], position: number): string[] {
    const k = t.targets.length;
    return t.targets.map((_, i) => cycle[(position * k + i) % cycle.length]!);
  }

  #runTour(t: TourRecord, delayMs: number): void {
    this.#stopRun(t.id);
    if (this.#closed) return;
    const run: TourRun = { nextAt: this.#now() + delayMs };
    this.#runs.set(t.id, run);
    const w = this.#walls.get(t.wall);
    if (!w) return;
    const preloadMs = Math.min(this.#d.preloadMs ?? 4000, t.intervalSeconds * 1000 - 1000);
    if (delayMs > preloadMs) {
      run.preload = setTimeout(() => this.#preloadTour(t), delayMs - preloadMs);
      run.preload.unref();
    } else if (delayMs > 0) this.#preloadTour(t);
    run.step = setTimeout(() => {
      if (this.#runs.get(t.id) !== run || t.state !== 'running') return;
      try {
        this.#stepTour(t, w);
      } catch (err) {
        this.#d.log('warn', { wall: t.wall, tour: t.id, err: (err as Error).message }, 'tour step failed');
      }
      if (this.#runs.get(t.id) === run) this.#runTour(t, t.intervalSeconds * 1000);
    }, delayMs);
    run.step.unref();
  }

  #preloadTour(t: TourRecord): void {
    const w = this.#walls.get(t.wall);
    const run = this.#runs.get(t.id);
    if (!w || !run || t.state !== 'running') return;
    const cycle = this.#cycle(t, w);
    if (cycle.length === 0) return;
    const up = this.#upcoming.get(w.id) ?? new Map<string, Upcoming>();
    this.#upcoming.set(w.id, up);
    const next = this.#camerasAt(t, cycle, t.position);
    t.targets.forEach((target, i) => {
      const now = this.#safeContent(w.state, target);
      if (now === undefined || (now && now.tour !== t.id) || now?.camera === next[i]) return;
      up.set(keyOf(target), { camera: next[i]!, at: run.nextAt });
    });
    this.emit('change', { wall: w.id, kind: 'upcoming' });
  }

  #safeContent(state: WallState, t: Target): Content | null | undefined {
    try { return contentAt(state, t); } catch { return undefined; }
  }

  /** #stepTour puts the tour's next cameras up. Targets an operator has since taken over (or an alarm) are skipped. */
  #stepTour(t: TourRecord, w: WallRecord): void {
    const cycle = this.#cycle(t, w);
    const up = this.#upcoming.get(w.id);
    for (const target of t.targets) up?.delete(keyOf(target));
    if (cycle.length === 0) return;
    const cams = this.#camerasAt(t, cycle, t.position);
    const touched: string[] = [];
    const now = this.#now();
    t.targets.forEach((target, i) => {
      const c = this.#safeContent(w.state, target);
      if (c === undefined || (c !== null && c.tour !== t.id)) return;
      setAt(w.state, target, { camera: cams[i]!, profile: 'auto', by: t.startedBy ?? 0, at: now, tour: t.id });
      touched.push(keyOf(target));
    });
    t.position = (t.position + 1) % Math.max(1, Math.ceil(cycle.length / t.targets.length));
    this.#d.store.saveTourRun(t);
    if (touched.length === 0) return;
    this.#bump(w, touched);
    this.emit('change', { wall: w.id, kind: 'state' });
  }

  // ---- alarms ------------------------------------------------------------------------------------------------------

  alarms(subject: Subject, id: number): AlarmRecord[] {
    this.wallFor(subject, id);
    return this.openAlarms(id);
  }

  /** openAlarms are a wall's alarms not yet acknowledged (for callers that checked the reader's right). */
  openAlarms(id: number): AlarmRecord[] {
    return this.#d.store.openAlarms(id);
  }

  /** toursOf are a wall's tours with their next step (for callers that checked the reader's right). */
  toursOf(id: number): Array<TourRecord & { nextAt: number | null }> {
    return [...this.#tours.values()].filter((t) => t.wall === id).map((t) => ({ ...t, nextAt: this.#runs.get(t.id)?.nextAt ?? null }));
  }

  /**
   * raise pushes a camera onto a target (or the wall's first free alarm target) marked as an alarm, turning its PTZ to
   * a preset when asked; with every target busy with an alarm, it waits in the queue.
   */
  raise(actor: Actor, id: number, a: { camera: string; target?: Target; preset?: string; note?: string }): AlarmRecord {
    const subject = this.#actorSubject(actor);
    const w = this.wallFor(subject, id);
    const no = this.#d.rights.refusePut(subject, w.unit, a.camera);
    if (no) throw no;
    if (a.target) contentAt(w.state, a.target);
    else if (w.alarmTargets.length === 0) throw new WallError('bad-request', 'wall-no-alarm-target', 'the wall has no alarm tiles: name a target, or set the wall\'s alarm targets');
    const made = this.#d.store.addAlarm({ wall: id, camera: a.camera, target: a.target ?? null, preset: a.preset ?? null, note: a.note ?? '', raisedBy: actor.userId }, this.#now());
    this.#d.audit(actor, 'wall.alarm', { wall: id, alarm: made.id, ...(a.target ? { at: keyOf(a.target) } : {}), ...(a.preset ? { preset: a.preset } : {}), ...(a.note ? { note: a.note.slice(0, 200) } : {}) }, a.camera);
    this.#placeAlarms(w);
    this.emit('change', { wall: id, kind: 'alarms' });
    const placed = this.#d.store.alarm(made.id)!;
    this.#d.alarmRaised?.(w, placed);
    return placed;
  }

  /** ack acknowledges an alarm: its tile returns to what it showed, and the next queued alarm takes a free target. */
  ack(actor: Actor, id: number, alarm: number): AlarmRecord {
    const w = this.wallFor(this.#actorSubject(actor), id);
    const a = this.#d.store.alarm(alarm);
    if (!a || a.wall !== id) throw new WallError('not-found', 'wall-alarm-unknown', `the wall has no alarm ${alarm}`);
    if (a.state === 'acked') throw new WallError('conflict', 'wall-alarm-acked', `alarm ${alarm} was acknowledged by ${a.ackedBy ?? ''}`, { by: a.ackedBy ?? '' });
    if (a.state === 'shown' && a.placed && this.#shows(w.state, a.placed, a.id)) {
      const back = a.previous as Content | null;
      setAt(w.state, a.placed, back && this.#d.rights.wallMayShow(w.unit, back.camera) ? back : null);
      this.#bump(w, [keyOf(a.placed)]);
      this.emit('change', { wall: id, kind: 'state' });
    }
    a.state = 'acked';
    a.ackedBy = actor.username;
    a.ackedAt = this.#now();
    this.#d.store.saveAlarm(a);
    this.#d.audit(actor, 'wall.alarm.ack', { wall: id, alarm }, a.camera);
    this.#placeAlarms(w);
    this.emit('change', { wall: id, kind: 'alarms' });
    return a;
  }

  #shows(state: WallState, t: Target, alarm: number): boolean {
    return this.#safeContent(state, t)?.alarm === alarm;
  }

  /** #placeAlarms shows queued alarms, oldest first, on free targets (one not showing another alarm). */
  #placeAlarms(w: WallRecord): void {
    const open = this.#d.store.openAlarms(w.id);
    const busy = new Set(open.filter((a) => a.state === 'shown' && a.placed && this.#shows(w.state, a.placed, a.id)).map((a) => keyOf(a.placed!)));
    const touched: string[] = [];
    for (const a of open) {
      if (a.state === 'shown' && a.placed && this.#shows(w.state, a.placed, a.id)) continue;
      const choices = a.target ? [a.target] : w.alarmTargets;
      const free = choices.find((t) => this.#safeContent(w.state, t) !== undefined && !busy.has(keyOf(t)));
      if (!free) {
        if (a.state !== 'queued') { a.state = 'queued'; a.placed = null; this.#d.store.saveAlarm(a); }
        continue;
      }
      a.previous = this.#safeContent(w.state, free) ?? null;
      if ((a.previous as Content | null)?.alarm) a.previous = null;
      setAt(w.state, free, { camera: a.camera, profile: 'auto', by: a.raisedBy ?? 0, at: this.#now(), alarm: a.id });
      a.state = 'shown';
      a.placed = free;
      this.#d.store.saveAlarm(a);
      busy.add(keyOf(free));
      touched.push(keyOf(free));
      if (a.preset && this.#d.gotoPreset) {
        this.#d.gotoPreset(a.camera, a.preset).catch((err: Error) => this.#d.log('warn', { wall: w.id, alarm: a.id, camera: a.camera, err: err.message }, 'alarm PTZ preset failed'));
      }
    }
    if (touched.length > 0) {
      this.#bump(w, touched);
      this.emit('change', { wall: w.id, kind: 'state' });
      this.emit('change', { wall: w.id, kind: 'alarms' });
    }
  }

  // ---- displays ----------------------------------------------------------------------------------------------------

  displays(actor: Actor, id: number): DisplayRecord[] {
    this.#admin(actor, id);
    return this.#d.store.displays(id);
  }

  /** addDisplay registers a display device for a screen; the token is made by the caller and only its hash kept. */
  addDisplay(actor: Actor, id: number, d: { screen: number; name: string; token: string }): DisplayRecord {
    const w = this.#admin(actor, id);
    if (!Number.isInteger(d.screen) || d.screen < 0 || d.screen >= w.state.screens.length) throw new WallError('not-found', 'wall-no-screen', `the wall has no screen ${d.screen}`, { screen: d.screen });
    const made = this.#d.store.addDisplay({ wall: id, screen: d.screen, name: d.name, token: d.token, createdBy: actor.userId }, this.#now());
    this.#d.audit(actor, 'wall.display', { wall: id, display: made.id, screen: d.screen, name: d.name, issued: true });
    this.emit('change', { wall: id, kind: 'displays' });
    return made;
  }

  revokeDisplay(actor: Actor, id: number, display: number): void {
    this.#admin(actor, id);
    const d = this.#d.store.display(display);
    if (!d || d.wall !== id) throw new WallError('not-found', 'wall-display-unknown', `the wall has no display ${display}`);
    this.#d.store.revokeDisplay(display, this.#now());
    this.#d.audit(actor, 'wall.display', { wall: id, display, screen: d.screen, name: d.name, revoked: true });
    this.emit('change', { wall: id, kind: 'displays' });
  }

  /** display finds an active display by its token. */
  display(token: string): { display: DisplayRecord; wall: WallRecord } | undefined {
    const d = this.#d.store.displayByToken(token);
    const w = d ? this.#walls.get(d.wall) : undefined;
    if (!d || !w || d.revokedAt !== null || d.screen >= w.state.screens.length) return undefined;
    return { display: d, wall: w };
  }

  /** displayById finds an active display (the media guard asks by the id its tokens carry). */
  displayById(id: number): { display: DisplayRecord; wall: WallRecord } | undefined {
    const d = this.#d.store.display(id);
    const w = d ? this.#walls.get(d.wall) : undefined;
    if (!d || !w || d.revokedAt !== null || d.screen >= w.state.screens.length) return undefined;
    return { display: d, wall: w };
  }

  /**
   * displayViewer is who a display's media token speaks for, while the display is registered and the camera is (or is
   * about to be) on its screen: the wall's unit, as an operator, named after the display.
   */
  displayViewer(display: number, camera: string): { id: number; username: string; displayName: string; unit: string; roles: Array<'operator'>; disabled: boolean } | undefined {
    const found = this.displayById(display);
    if (!found || !this.onScreen(found.wall, found.display.screen, camera)) return undefined;
    const name = `${found.wall.name} #${found.display.screen + 1} ${found.display.name}`;
    return { id: 0, username: `display:${found.display.id}`, displayName: name, unit: found.wall.unit, roles: ['operator'], disabled: false };
  }

  seen(display: number): void {
    this.#d.store.displaySeen(display, this.#now());
  }
}

/** layoutName names a layout for the audit trail and the console: "9", or "custom-3x3-5" (cols, rows, tiles). */
export function layoutName(l: WallState['screens'][number]['layout']): string {
  return 'split' in l ? String(l.split) : `custom-${l.cols}x${l.rows}-${tileCount(l)}`;
}

/** lastDue is the most recent time (epoch ms) at or before now when a schedule was due, within the last 8 days. */
export function lastDue(s: Pick<ScheduleRecord, 'minute' | 'days'>, now: number): number | undefined {
  const d = new Date(now);
  for (let back = 0; back < 8; back++) {
    const day = new Date(d.getFullYear(), d.getMonth(), d.getDate() - back, Math.floor(s.minute / 60), s.minute % 60, 0, 0);
    const weekday = (day.getDay() + 6) % 7;
    if (day.getTime() <= now && (s.days & (1 << weekday)) !== 0) return day.getTime();
  }
  return undefined;
}

export { MINUTES_PER_DAY };
