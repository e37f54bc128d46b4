// A room's recordings: started and stopped by the host (everyone sees the notice while it runs), each publication
// written to its own track, then composed into one MP4; every file's SHA-256 goes into the audit trail (whose chain
// of keyed links shows it unaltered since) and beside the file in the store, and verify() recomputes both.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import { privateDir } from '../store/private-files.js';
import { compose, COMPOSED, reapRecorders, type TrackFile } from '../media/webrtc/room-recorder.js';
import type { RoomMedia } from '../media/webrtc/room-media.js';
import type { FrameBus } from '../media/core/frame-bus.js';
import type { RecordingFile, RecordingRecord, RoomStore } from './room-store.js';
import { RoomError, type Room } from './rooms.js';

/** sha256Of streams a file through SHA-256. */
export function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/** Who is a person acting, as the audit trail names her. */
export interface Actor { userId: number | null; username: string; unit: string | null; remote?: string | null }

/** FileCheck is what verify found for one file. */
export interface FileCheck { name: string; ok: boolean; fault?: 'missing' | 'altered' | 'audit-mismatch'; sha256?: string }

/**
 * CameraFeeds give a recording the frame bus of a camera brought into a room, through the media core's one pull of
 * its sub stream (what the room's tiles show): feed(camera, by, key) opens or keeps the stream for the recording, as
 * a viewer of the account that brought it, and answers its bus once live (undefined until then, or when it cannot).
 */
export interface CameraFeeds {
  feed(camera: string, by: number, key: string): FrameBus | undefined;
  name(camera: string): string;
}

/** CAMERA_SYNC_MS is how often a recording looks at the room's cameras (brought in, taken out, still live). */
const CAMERA_SYNC_MS = 1000;

/** RoomRecordings starts, stops, composes and checks recordings. */
export class RoomRecordings {
  readonly #store: RoomStore;
  readonly #media: RoomMedia;
  readonly #audit: AuditLog;
  readonly #dir: string;
  readonly #ffmpegPath: string;
  readonly #log: (msg: string) => void;
  /** #active is the recording running in each room. */
  readonly #active = new Map<string, { id: string; since: number; dir: string; room: Room; cameras: Set<string> }>();
  readonly #composing = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();
  readonly #feeds: CameraFeeds | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(o: { store: RoomStore; media: RoomMedia; audit: AuditLog; dir: string; ffmpegPath: string; log: (msg: string) => void; cameras?: CameraFeeds }) {
    this.#store = o.store;
    this.#media = o.media;
    this.#audit = o.audit;
    this.#dir = o.dir;
    this.#ffmpegPath = o.ffmpegPath;
    this.#log = o.log;
    this.#feeds = o.cameras;
    this.#timer = setInterval(() => this.#syncCameras(), CAMERA_SYNC_MS);
    this.#timer.unref();
    // What a stopped gateway left recording or composing is kept as it is, marked interrupted; the ffmpeg processes a
    // killed one left writing there are ended.
    const reaped = reapRecorders(this.#dir);
    if (reaped > 0) this.#log(`ended ${reaped} recording processes a stopped gateway left running`);
    for (const r of this.#store.unfinished()) this.#store.updateRecording(r.id, { state: 'interrupted', error: 'the gateway stopped while it was being made' });
  }

  /** active says which recording runs in a room (and since when). */
  active(room: string): { id: string; since: number } | undefined {
    const a = this.#active.get(room);
    return a ? { id: a.id, since: a.since } : undefined;
  }

  async start(room: Room, by: Actor): Promise<{ id: string; since: number }> {
    if (this.#active.has(room.id)) throw new RoomError('conflict', 'room-recording-on', 'the room is being recorded already');
    const id = randomBytes(9).toString('base64url');
    const dir = join(this.#dir, room.id, id);
    privateDir(dir);
    this.#active.set(room.id, { id, since: Date.now(), dir, room, cameras: new Set() });
    let since: number;
    try {
      since = await this.#media.startRecording(room.id, { dir, ffmpegPath: this.#ffmpegPath, log: this.#log });
    } catch (err) {
      this.#active.delete(room.id);
      throw err;
    }
    this.#active.get(room.id)!.since = since;
    this.#syncCameras();
    this.#store.addRecording({ id, room: room.id, unit: room.unit, startedBy: by.userId, startedAt: since });
    this.#audit.record({ ...by, action: 'room.record', detail: { room: room.id, recording: id, on: true } });
    return { id, since };
  }

  /**
   * #syncCameras follows each recorded room's cameras: one brought in gets a track from the moment its picture is
   * there, one taken out (or whose right was withdrawn) has its track finished, the others' streams are kept open.
   */
  #syncCameras(): void {
    if (!this.#feeds) return;
    for (const a of this.#active.values()) {
      for (const camera of [...a.cameras]) {
        if (a.room.cameras.has(camera)) continue;
        a.cameras.delete(camera);
        void this.#media.endCamera(a.room.id, camera);
      }
      for (const [camera, c] of a.room.cameras) {
        let bus: FrameBus | undefined;
        try {
          bus = this.#feeds.feed(camera, c.by, `room-recording:${a.id}`);
        } catch (err) {
          this.#log(`recording ${a.id}: camera ${camera} cannot be recorded now: ${(err as Error).message}`);
          continue;
        }
        if (!a.cameras.has(camera) && bus && this.#media.recordCamera(a.room.id, camera, bus)) a.cameras.add(camera);
      }
    }
  }

  /** stop ends the room's recording; its tracks are fingerprinted and composed in the background. */
  async stop(room: Room, by: Actor | null, interrupted = false): Promise<RecordingRecord> {
    const a = this.#active.get(room.id);
    if (!a) throw new RoomError('conflict', 'room-recording-off', 'the room is not being recorded');
    this.#active.delete(room.id);
    const { durationMs, tracks } = await this.#media.stopRecording(room.id);
    const stoppedAt = a.since + durationMs;
    this.#store.updateRecording(a.id, { stoppedAt, durationMs, state: interrupted ? 'interrupted' : 'composing' });
    this.#audit.record({ ...(by ?? { userId: null, username: '', unit: room.unit }), action: 'room.record', detail: { room: room.id, recording: a.id, on: false, durationMs, tracks: tracks.length } });
    const names = new Map([...room.participants.values()].map((p) => [p.id, p.name]));
    const work = this.#finish(a.id, a.dir, room, tracks.filter((t) => existsSync(join(a.dir, t.name)) && statSync(join(a.dir, t.name)).size > 0), durationMs, names, interrupted)
      .catch((err: Error) => this.#log(`recording ${a.id}: ${err.message}`))
      .finally(() => this.#composing.delete(a.id));
    this.#composing.set(a.id, work);
    return this.#store.recording(a.id)!;
  }

  /** settled resolves once a recording's files are composed and fingerprinted (tests and shutdown wait on it). */
  async settled(id: string): Promise<void> {
    await this.#composing.get(id);
  }

  async #finish(id: string, dir: string, room: Room, tracks: TrackFile[], durationMs: number, names: Map<string, string>, interrupted: boolean): Promise<void> {
    const files: RecordingFile[] = [];
    // A shared screen's track is "<participant>-screen".
    const nameOf = (p: string) => {
      if (p.startsWith('camera:')) return this.#feeds?.name(p.slice(7)) ?? p.slice(7);
      const m = /^(.{12})-screen$/.exec(p);
      return m ? `${names.get(m[1]!) ?? ''} (screen)` : names.get(p) ?? '';
    };
    const fingerprint = async (f: Omit<RecordingFile, 'bytes' | 'sha256' | 'auditId'>) => {
      const path = join(dir, f.name);
      const sha256 = await sha256Of(path);
      const bytes = statSync(path).size;
      const auditId = this.#audit.record({ userId: null, username: '', unit: room.unit, action: 'room.recording.file', detail: { room: room.id, recording: id, file: f.name, kind: f.kind, bytes, sha256 } });
      files.push({ ...f, bytes, sha256, auditId });
      this.#store.updateRecording(id, { files });
    };
    for (const t of tracks) await fingerprint({ name: t.name, kind: 'track', participant: t.participant, participantName: nameOf(t.participant), kinds: t.kinds, startMs: t.startMs, endMs: t.endMs });
    if (interrupted) return;
    if (tracks.length === 0) {
      this.#store.updateRecording(id, { state: 'failed', error: 'nothing was sent while the room was recorded' });
      return;
    }
    let last = 0;
    try {
      await compose(dir, tracks, durationMs, this.#ffmpegPath, (fraction) => {
        // Progress is kept for the console, a few times a second at most.
        if (fraction - last < 0.05) return;
        last = fraction;
        this.#store.updateRecording(id, { progress: fraction });
      }, this.#abort.signal);
    } catch (err) {
      this.#store.updateRecording(id, { state: this.#abort.signal.aborted ? 'interrupted' : 'failed', error: (err as Error).message.slice(0, 500) });
      return;
    }
    await fingerprint({ name: COMPOSED, kind: 'composed', startMs: 0, endMs: durationMs });
    files.unshift(files.pop()!);
    this.#store.updateRecording(id, { files, state: 'ready', progress: 1 });
  }

  /** pathOf is where a recording's file lies, if the recording lists it. */
  pathOf(rec: RecordingRecord, name: string): string | undefined {
    return rec.files.some((f) => f.name === name) ? join(this.#dir, rec.room, rec.id, name) : undefined;
  }

  /**
   * verify recomputes each file's SHA-256 and compares it with the store and with the audit entry that holds it;
   * chain says whether the audit trail's keyed links are unbroken (no entry since changed or removed).
   */
  async verify(rec: RecordingRecord): Promise<{ files: FileCheck[]; chain: boolean }> {
    const out: FileCheck[] = [];
    for (const f of rec.files) {
      const path = join(this.#dir, rec.room, rec.id, f.name);
      if (!existsSync(path)) { out.push({ name: f.name, ok: false, fault: 'missing' }); continue; }
      const sha256 = await sha256Of(path);
      const entry = this.#audit.entry(f.auditId);
      const audited = entry?.action === 'room.recording.file' && entry.detail.sha256 === f.sha256 && entry.detail.file === f.name && entry.detail.recording === rec.id;
      if (sha256 !== f.sha256) out.push({ name: f.name, ok: false, fault: 'altered', sha256 });
      else if (!audited) out.push({ name: f.name, ok: false, fault: 'audit-mismatch', sha256 });
      else out.push({ name: f.name, ok: true, sha256 });
    }
    return { files: out, chain: this.#audit.verify().broken === undefined };
  }

  /** close stops every running recording (tracks kept, marked interrupted) and any composing. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#abort.abort();
    await Promise.all([...this.#active.values()].map((a) => this.stop(a.room, null, true).catch(() => undefined)));
    await Promise.all([...this.#composing.values()]);
  }
}
