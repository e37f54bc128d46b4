// What the walls keep in the store: each wall's state with its versions, presets, schedules, tours, display devices
// and alarms. Every change of a wall's state is written before it is announced, so a restart shows what was last shown.
import { createHash } from 'node:crypto';
import type { Db } from '../store/database.js';
import type { Target, WallState } from './wall-model.js';

/** WallRecord is a wall as stored. */
export interface WallRecord {
  id: number;
  name: string;
  unit: string;
  rows: number;
  cols: number;
  state: WallState;
  version: number;
  /** versions holds, for each element changed at least once, the wall version that last changed it. */
  versions: Record<string, number>;
  alarmTargets: Target[];
  createdBy: number | null;
  createdAt: number;
  updatedAt: number;
}

/** PresetRecord is a saved state of a wall (预案). */
export interface PresetRecord { id: number; wall: number; name: string; state: WallState; createdBy: number | null; createdAt: number }

/** ScheduleRecord recalls a preset at a minute of the day (0..1439) on the days of a week mask (bit 0 Monday). */
export interface ScheduleRecord { id: number; wall: number; preset: number; minute: number; days: number; lastRun: number | null }

/** TourState is whether a tour runs. */
export type TourState = 'stopped' | 'running' | 'paused';

/** TourRecord rotates cameras (a list, or a unit's) through targets every intervalSeconds (轮巡). */
export interface TourRecord {
  id: number; wall: number; name: string; cameras: string[]; unit: string | null; targets: Target[]; intervalSeconds: number;
  state: TourState; position: number; startedBy: number | null; createdAt: number;
}

/** DisplayRecord is a display device of one screen: a kiosk browser or a decoder, known by its token. */
export interface DisplayRecord { id: number; wall: number; screen: number; name: string; createdBy: number | null; createdAt: number; revokedAt: number | null; lastSeenAt: number | null }

/** AlarmState is where an alarm stands: waiting for a free target, shown, acknowledged. */
export type AlarmState = 'queued' | 'shown' | 'acked';

/** AlarmRecord is an alarm pop-up. */
export interface AlarmRecord {
  id: number; wall: number; camera: string; target: Target | null; preset: string | null; note: string; state: AlarmState;
  /** placed is the target it is shown on; previous what that target showed before. */
  placed: Target | null; previous: unknown;
  raisedBy: number | null; raisedAt: number; ackedBy: string | null; ackedAt: number | null;
}

/** hashToken is how a display token is kept: its SHA-256 (the token itself is 256 random bits). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const json = (v: string | null): unknown => (v === null ? null : JSON.parse(v));

/** WallStore reads and writes the walls' tables. */
export class WallStore {
  #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  walls(): WallRecord[] {
    return (this.#db.prepare('SELECT * FROM walls ORDER BY id').all() as WallRow[]).map(toWall);
  }

  createWall(w: Omit<WallRecord, 'id' | 'createdAt' | 'updatedAt'>, now = Date.now()): WallRecord {
    const r = this.#db.prepare('INSERT INTO walls (name, unit, rows, cols, state, version, versions, alarm_targets, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(w.name, w.unit, w.rows, w.cols, JSON.stringify(w.state), w.version, JSON.stringify(w.versions), JSON.stringify(w.alarmTargets), w.createdBy, now, now);
    return { ...w, id: Number(r.lastInsertRowid), createdAt: now, updatedAt: now };
  }

  /** saveWall writes a wall's name, state, versions and alarm targets. */
  saveWall(w: WallRecord, now = Date.now()): void {
    this.#db.prepare('UPDATE walls SET name = ?, state = ?, version = ?, versions = ?, alarm_targets = ?, updated_at = ? WHERE id = ?')
      .run(w.name, JSON.stringify(w.state), w.version, JSON.stringify(w.versions), JSON.stringify(w.alarmTargets), now, w.id);
    w.updatedAt = now;
  }

  deleteWall(id: number): void {
    this.#db.prepare('DELETE FROM walls WHERE id = ?').run(id);
  }

  presets(wall: number): PresetRecord[] {
    return (this.#db.prepare('SELECT * FROM wall_presets WHERE wall = ? ORDER BY name').all(wall) as PresetRow[]).map(toPreset);
  }

  preset(id: number): PresetRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM wall_presets WHERE id = ?').get(id) as PresetRow | undefined;
    return r ? toPreset(r) : undefined;
  }

  /** savePreset writes a preset, replacing the wall's preset of that name. */
  savePreset(p: Omit<PresetRecord, 'id' | 'createdAt'>, now = Date.now()): PresetRecord {
    this.#db.prepare('INSERT INTO wall_presets (wall, name, state, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (wall, name) DO UPDATE SET state = excluded.state, created_by = excluded.created_by, created_at = excluded.created_at')
      .run(p.wall, p.name, JSON.stringify(p.state), p.createdBy, now);
    return toPreset(this.#db.prepare('SELECT * FROM wall_presets WHERE wall = ? AND name = ?').get(p.wall, p.name) as PresetRow);
  }

  deletePreset(id: number): void {
    this.#db.prepare('DELETE FROM wall_presets WHERE id = ?').run(id);
  }

  schedules(wall?: number): ScheduleRecord[] {
    const rows = (wall === undefined ? this.#db.prepare('SELECT * FROM wall_schedules ORDER BY minute').all() : this.#db.prepare('SELECT * FROM wall_schedules WHERE wall = ? ORDER BY minute').all(wall)) as ScheduleRow[];
    return rows.map((r) => ({ id: r.id, wall: r.wall, preset: r.preset, minute: r.minute, days: r.days, lastRun: r.last_run }));
  }

  addSchedule(s: Omit<ScheduleRecord, 'id' | 'lastRun'>): ScheduleRecord {
    const r = this.#db.prepare('INSERT INTO wall_schedules (wall, preset, minute, days) VALUES (?, ?, ?, ?)').run(s.wall, s.preset, s.minute, s.days);
    return { ...s, id: Number(r.lastInsertRowid), lastRun: null };
  }

  deleteSchedule(id: number): void {
    this.#db.prepare('DELETE FROM wall_schedules WHERE id = ?').run(id);
  }

  scheduleRan(id: number, at: number): void {
    this.#db.prepare('UPDATE wall_schedules SET last_run = ? WHERE id = ?').run(at, id);
  }

  tours(wall?: number): TourRecord[] {
    const rows = (wall === undefined ? this.#db.prepare('SELECT * FROM wall_tours ORDER BY id').all() : this.#db.prepare('SELECT * FROM wall_tours WHERE wall = ? ORDER BY id').all(wall)) as TourRow[];
    return rows.map(toTour);
  }

  createTour(t: Omit<TourRecord, 'id' | 'createdAt' | 'state' | 'position' | 'startedBy'>, now = Date.now()): TourRecord {
    const r = this.#db.prepare("INSERT INTO wall_tours (wall, name, cameras, unit, targets, interval_s, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'stopped', ?)")
      .run(t.wall, t.name, JSON.stringify(t.cameras), t.unit, JSON.stringify(t.targets), t.intervalSeconds, now);
    return { ...t, id: Number(r.lastInsertRowid), state: 'stopped', position: 0, startedBy: null, createdAt: now };
  }

  saveTourRun(t: Pick<TourRecord, 'id' | 'state' | 'position' | 'startedBy'>): void {
    this.#db.prepare('UPDATE wall_tours SET state = ?, position = ?, started_by = ? WHERE id = ?').run(t.state, t.position, t.startedBy, t.id);
  }

  deleteTour(id: number): void {
    this.#db.prepare('DELETE FROM wall_tours WHERE id = ?').run(id);
  }

  displays(wall: number): DisplayRecord[] {
    return (this.#db.prepare('SELECT * FROM wall_displays WHERE wall = ? ORDER BY screen, id').all(wall) as DisplayRow[]).map(toDisplay);
  }

  /** displayByToken finds the display of a token (revoked ones too: the caller says why it is refused). */
  displayByToken(token: string): DisplayRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM wall_displays WHERE token_hash = ?').get(hashToken(token)) as DisplayRow | undefined;
    return r ? toDisplay(r) : undefined;
  }

  display(id: number): DisplayRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM wall_displays WHERE id = ?').get(id) as DisplayRow | undefined;
    return r ? toDisplay(r) : undefined;
  }

  addDisplay(d: { wall: number; screen: number; name: string; token: string; createdBy: number | null }, now = Date.now()): DisplayRecord {
    const r = this.#db.prepare('INSERT INTO wall_displays (wall, screen, name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.wall, d.screen, d.name, hashToken(d.token), d.createdBy, now);
    return this.display(Number(r.lastInsertRowid))!;
  }

  revokeDisplay(id: number, now = Date.now()): void {
    this.#db.prepare('UPDATE wall_displays SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
  }

  displaySeen(id: number, now = Date.now()): void {
    this.#db.prepare('UPDATE wall_displays SET last_seen_at = ? WHERE id = ?').run(now, id);
  }

  /** openAlarms are a wall's alarms not yet acknowledged, oldest first. */
  openAlarms(wall: number): AlarmRecord[] {
    return (this.#db.prepare("SELECT * FROM wall_alarms WHERE wall = ? AND state <> 'acked' ORDER BY id").all(wall) as AlarmRow[]).map(toAlarm);
  }

  alarm(id: number): AlarmRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM wall_alarms WHERE id = ?').get(id) as AlarmRow | undefined;
    return r ? toAlarm(r) : undefined;
  }

  addAlarm(a: { wall: number; camera: string; target: Target | null; preset: string | null; note: string; raisedBy: number | null }, now = Date.now()): AlarmRecord {
    const r = this.#db.prepare("INSERT INTO wall_alarms (wall, camera, target, preset, note, state, raised_by, raised_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)")
      .run(a.wall, a.camera, a.target ? JSON.stringify(a.target) : null, a.preset, a.note, a.raisedBy, now);
    return this.alarm(Number(r.lastInsertRowid))!;
  }

  saveAlarm(a: AlarmRecord): void {
    this.#db.prepare('UPDATE wall_alarms SET state = ?, placed = ?, previous = ?, acked_by = ?, acked_at = ? WHERE id = ?')
      .run(a.state, a.placed ? JSON.stringify(a.placed) : null, a.previous === undefined || a.previous === null ? null : JSON.stringify(a.previous), a.ackedBy, a.ackedAt, a.id);
  }
}

interface WallRow { id: number; name: string; unit: string; rows: number; cols: number; state: string; version: number; versions: string; alarm_targets: string; created_by: number | null; created_at: number; updated_at: number }
interface PresetRow { id: number; wall: number; name: string; state: string; created_by: number | null; created_at: number }
interface ScheduleRow { id: number; wall: number; preset: number; minute: number; days: number; last_run: number | null }
interface TourRow { id: number; wall: number; name: string; cameras: string; unit: string | null; targets: string; interval_s: number; state: TourState; position: number; started_by: number | null; created_at: number }
interface DisplayRow { id: number; wall: number; screen: number; name: string; created_by: number | null; created_at: number; revoked_at: number | null; last_seen_at: number | null }
interface AlarmRow { id: number; wall: number; camera: string; target: string | null; preset: string | null; note: string; state: AlarmState; placed: string | null; previous: string | null; raised_by: number | null; raised_at: number; acked_by: string | null; acked_at: number | null }

function toWall(r: WallRow): WallRecord {
  return {
    id: r.id, name: r.name, unit: r.unit, rows: r.rows, cols: r.cols, state: JSON.parse(r.state) as WallState, version: r.version,
    versions: JSON.parse(r.versions) as Record<string, number>, alarmTargets: JSON.parse(r.alarm_targets) as Target[],
    createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
function toPreset(r: PresetRow): PresetRecord {
  return { id: r.id, wall: r.wall, name: r.name, state: JSON.parse(r.state) as WallState, createdBy: r.created_by, createdAt: r.created_at };
}
function toTour(r: TourRow): TourRecord {
  return {
    id: r.id, wall: r.wall, name: r.name, cameras: JSON.parse(r.cameras) as string[], unit: r.unit, targets: JSON.parse(r.targets) as Target[],
    intervalSeconds: r.interval_s, state: r.state, position: r.position, startedBy: r.started_by, createdAt: r.created_at,
  };
}
function toDisplay(r: DisplayRow): DisplayRecord {
  return { id: r.id, wall: r.wall, screen: r.screen, name: r.name, createdBy: r.created_by, createdAt: r.created_at, revokedAt: r.revoked_at, lastSeenAt: r.last_seen_at };
}
function toAlarm(r: AlarmRow): AlarmRecord {
  return {
    id: r.id, wall: r.wall, camera: r.camera, target: json(r.target) as Target | null, preset: r.preset, note: r.note, state: r.state,
    placed: json(r.placed) as Target | null, previous: json(r.previous), raisedBy: r.raised_by, raisedAt: r.raised_at, ackedBy: r.acked_by, ackedAt: r.acked_at,
  };
}
