// What the rooms keep in the store (migration 12): each room as a record (who was invited and joined: the right to
// its recordings and its case), its recordings with each file's SHA-256 and the audit entry that holds it, and the
// mediation cases (调解案件) with the agreement each party confirmed.
import type { Db } from '../store/database.js';

/** RoomRecord is a room as remembered after it ends. */
export interface RoomRecord { id: string; kind: string; title: string; unit: string; host: number | null; members: number[]; createdAt: number; endedAt: number | null }

/** RecordingState: recording, composing (the composed file being made), ready, failed, interrupted (the gateway stopped). */
export type RecordingState = 'recording' | 'composing' | 'ready' | 'failed' | 'interrupted';

/** RecordingFile is one file of a recording, with its fingerprint and the audit entry that holds that fingerprint. */
export interface RecordingFile {
  name: string;
  kind: 'composed' | 'track';
  participant?: string;
  participantName?: string;
  kinds?: Array<'audio' | 'video'>;
  startMs?: number;
  endMs?: number;
  bytes: number;
  sha256: string;
  auditId: number;
}

/** RecordingRecord is one recording of a room. */
export interface RecordingRecord {
  id: string; room: string; unit: string; startedBy: number | null; startedAt: number; stoppedAt: number | null; durationMs: number | null;
  state: RecordingState; progress: number; error: string | null; files: RecordingFile[];
}

/** OUTCOMES are how a mediation ends: settled (调解成功), not settled (调解不成), referred (移交/转办). */
export const OUTCOMES = ['settled', 'not-settled', 'referred'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Confirmation is a party's confirmation of the agreement text, bound to that text by its SHA-256. */
export interface Confirmation { party: string; participant: string; userId: number | null; at: number; agreementSha256: string }

/** MediationCase is the record of one mediation. */
export interface MediationCase {
  id: number; caseNo: string; room: string | null; unit: string; title: string; disputeType: string;
  mediator: number | null; mediatorName: string; parties: string[]; startedAt: number; endedAt: number | null;
  outcome: Outcome | null; minutes: string; agreement: string; confirmations: Confirmation[]; updatedAt: number;
}

/** CaseQuery searches cases of some units. */
export interface CaseQuery { units: readonly string[]; q?: string; outcome?: Outcome; disputeType?: string; from?: number; to?: number; limit: number; offset: number }

const parse = <T>(text: string, fallback: T): T => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

interface RecordingRow { id: string; room: string; unit: string; started_by: number | null; started_at: number; stopped_at: number | null; duration_ms: number | null; state: RecordingState; progress: number; error: string | null; files: string }
interface CaseRow {
  id: number; case_no: string; room: string | null; unit: string; title: string; dispute_type: string; mediator: number | null; mediator_name: string; parties: string;
  started_at: number; ended_at: number | null; outcome: Outcome | null; minutes: string; agreement: string; confirmations: string; updated_at: number;
}

const recording = (r: RecordingRow): RecordingRecord => ({
  id: r.id, room: r.room, unit: r.unit, startedBy: r.started_by, startedAt: r.started_at, stoppedAt: r.stopped_at, durationMs: r.duration_ms,
  state: r.state, progress: r.progress, error: r.error, files: parse<RecordingFile[]>(r.files, []),
});
const mediationCase = (r: CaseRow): MediationCase => ({
  id: r.id, caseNo: r.case_no, room: r.room, unit: r.unit, title: r.title, disputeType: r.dispute_type, mediator: r.mediator, mediatorName: r.mediator_name,
  parties: parse<string[]>(r.parties, []), startedAt: r.started_at, endedAt: r.ended_at, outcome: r.outcome, minutes: r.minutes, agreement: r.agreement,
  confirmations: parse<Confirmation[]>(r.confirmations, []), updatedAt: r.updated_at,
});

/** RoomStore reads and writes the rooms' records. */
export class RoomStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  saveRoom(r: RoomRecord): void {
    this.#db.prepare(`INSERT INTO room_records (id, kind, title, unit, host, members, created_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET host = excluded.host, members = excluded.members, ended_at = excluded.ended_at`)
      .run(r.id, r.kind, r.title, r.unit, r.host, JSON.stringify(r.members), r.createdAt, r.endedAt);
  }

  room(id: string): RoomRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM room_records WHERE id = ?').get(id) as { id: string; kind: string; title: string; unit: string; host: number | null; members: string; created_at: number; ended_at: number | null } | undefined;
    return r ? { id: r.id, kind: r.kind, title: r.title, unit: r.unit, host: r.host, members: parse<number[]>(r.members, []), createdAt: r.created_at, endedAt: r.ended_at } : undefined;
  }

  /** closeOpenRooms marks rooms a stopped gateway left open as ended (their sessions ended with it). */
  closeOpenRooms(at: number): number {
    return this.#db.prepare('UPDATE room_records SET ended_at = ? WHERE ended_at IS NULL').run(at).changes;
  }

  addRecording(r: Pick<RecordingRecord, 'id' | 'room' | 'unit' | 'startedBy' | 'startedAt'>): void {
    this.#db.prepare('INSERT INTO room_recordings (id, room, unit, started_by, started_at, state) VALUES (?, ?, ?, ?, ?, \'recording\')').run(r.id, r.room, r.unit, r.startedBy, r.startedAt);
  }

  updateRecording(id: string, patch: Partial<Pick<RecordingRecord, 'stoppedAt' | 'durationMs' | 'state' | 'progress' | 'error' | 'files'>>): void {
    const cols: Record<string, unknown> = {};
    if (patch.stoppedAt !== undefined) cols.stopped_at = patch.stoppedAt;
    if (patch.durationMs !== undefined) cols.duration_ms = patch.durationMs;
    if (patch.state !== undefined) cols.state = patch.state;
    if (patch.progress !== undefined) cols.progress = patch.progress;
    if (patch.error !== undefined) cols.error = patch.error;
    if (patch.files !== undefined) cols.files = JSON.stringify(patch.files);
    const keys = Object.keys(cols);
    if (keys.length === 0) return;
    this.#db.prepare(`UPDATE room_recordings SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...cols, id });
  }

  recording(id: string): RecordingRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM room_recordings WHERE id = ?').get(id) as RecordingRow | undefined;
    return r ? recording(r) : undefined;
  }

  recordingsOf(room: string): RecordingRecord[] {
    return (this.#db.prepare('SELECT * FROM room_recordings WHERE room = ? ORDER BY started_at').all(room) as RecordingRow[]).map(recording);
  }

  /** unfinished lists recordings a stopped gateway left recording or composing. */
  unfinished(): RecordingRecord[] {
    return (this.#db.prepare('SELECT * FROM room_recordings WHERE state IN (\'recording\', \'composing\')').all() as RecordingRow[]).map(recording);
  }

  /** nextCaseNo numbers a unit's cases by year: <unit>-<year>-<0001>. */
  nextCaseNo(unit: string, year: number): string {
    const prefix = `${unit}-${year}-`;
    const last = this.#db.prepare('SELECT case_no FROM mediation_cases WHERE case_no LIKE ? ORDER BY case_no DESC LIMIT 1').get(`${prefix}%`) as { case_no: string } | undefined;
    const n = last ? Number(last.case_no.slice(prefix.length)) + 1 : 1;
    return `${prefix}${String(n).padStart(4, '0')}`;
  }

  addCase(c: Omit<MediationCase, 'id'>): MediationCase {
    const r = this.#db.prepare(`INSERT INTO mediation_cases (case_no, room, unit, title, dispute_type, mediator, mediator_name, parties, started_at, ended_at, outcome, minutes, agreement, confirmations, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(c.caseNo, c.room, c.unit, c.title, c.disputeType, c.mediator, c.mediatorName, JSON.stringify(c.parties), c.startedAt, c.endedAt, c.outcome, c.minutes, c.agreement, JSON.stringify(c.confirmations), c.updatedAt);
    return this.case(Number(r.lastInsertRowid))!;
  }

  updateCase(id: number, patch: Partial<Pick<MediationCase, 'title' | 'disputeType' | 'parties' | 'endedAt' | 'outcome' | 'minutes' | 'agreement' | 'confirmations' | 'mediator' | 'mediatorName'>>, at = Date.now()): MediationCase {
    const cols: Record<string, unknown> = { updated_at: at };
    if (patch.title !== undefined) cols.title = patch.title;
    if (patch.disputeType !== undefined) cols.dispute_type = patch.disputeType;
    if (patch.parties !== undefined) cols.parties = JSON.stringify(patch.parties);
    if (patch.endedAt !== undefined) cols.ended_at = patch.endedAt;
    if (patch.outcome !== undefined) cols.outcome = patch.outcome;
    if (patch.minutes !== undefined) cols.minutes = patch.minutes;
    if (patch.agreement !== undefined) cols.agreement = patch.agreement;
    if (patch.confirmations !== undefined) cols.confirmations = JSON.stringify(patch.confirmations);
    if (patch.mediator !== undefined) cols.mediator = patch.mediator;
    if (patch.mediatorName !== undefined) cols.mediator_name = patch.mediatorName;
    this.#db.prepare(`UPDATE mediation_cases SET ${Object.keys(cols).map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...cols, id });
    return this.case(id)!;
  }

  case(id: number): MediationCase | undefined {
    const r = this.#db.prepare('SELECT * FROM mediation_cases WHERE id = ?').get(id) as CaseRow | undefined;
    return r ? mediationCase(r) : undefined;
  }

  caseOfRoom(room: string): MediationCase | undefined {
    const r = this.#db.prepare('SELECT * FROM mediation_cases WHERE room = ?').get(room) as CaseRow | undefined;
    return r ? mediationCase(r) : undefined;
  }

  /** searchCases finds the cases of some units: words in the case number, title, parties, minutes or agreement. */
  searchCases(q: CaseQuery): { total: number; cases: MediationCase[] } {
    if (q.units.length === 0) return { total: 0, cases: [] };
    const where = [`unit IN (${q.units.map(() => '?').join(',')})`];
    const args: unknown[] = [...q.units];
    if (q.q) {
      where.push('(case_no LIKE ? ESCAPE \'\\\' OR title LIKE ? ESCAPE \'\\\' OR parties LIKE ? ESCAPE \'\\\' OR minutes LIKE ? ESCAPE \'\\\' OR agreement LIKE ? ESCAPE \'\\\' OR mediator_name LIKE ? ESCAPE \'\\\')');
      const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      args.push(like, like, like, like, like, like);
    }
    if (q.outcome) { where.push('outcome = ?'); args.push(q.outcome); }
    if (q.disputeType) { where.push('dispute_type = ?'); args.push(q.disputeType); }
    if (q.from !== undefined) { where.push('started_at >= ?'); args.push(q.from); }
    if (q.to !== undefined) { where.push('started_at < ?'); args.push(q.to); }
    const sql = where.join(' AND ');
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM mediation_cases WHERE ${sql}`).get(...args) as { n: number }).n;
    const rows = this.#db.prepare(`SELECT * FROM mediation_cases WHERE ${sql} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`).all(...args, q.limit, q.offset) as CaseRow[];
    return { total, cases: rows.map(mediationCase) };
  }
}
