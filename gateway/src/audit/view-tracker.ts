// Who watched which camera from when to when: media requests (playlists and segments) keep a view open; a view no
// request has touched for idleMs is closed, and both ends are written to the audit log.
import type { AuditEvent } from './audit-log.js';

/** Viewer is who a media request comes from. */
export interface Viewer {
  userId: number;
  username: string;
  unit: string;
  session: string;
  remote: string | null;
}

interface View {
  viewer: Viewer;
  camera: string;
  cameraUnit: string | null;
  profile: string;
  startedAt: number;
  lastAt: number;
}

/** ViewTracker turns a stream of media requests into view records. */
export class ViewTracker {
  #views = new Map<string, View>();
  #record: (e: AuditEvent, at?: number) => void;
  #idleMs: number;
  #timer: NodeJS.Timeout;

  constructor(record: (e: AuditEvent, at?: number) => void, idleMs = 15_000) {
    this.#record = record;
    this.#idleMs = idleMs;
    this.#timer = setInterval(() => this.sweep(), Math.min(5000, idleMs)).unref();
  }

  /** touch notes a media request; the first one of a view records its start. */
  touch(viewer: Viewer, camera: string, cameraUnit: string | null, profile: string, now = Date.now()): void {
    // The address is part of a view: the same media URL used from elsewhere is another view, recorded with its address.
    const key = `${viewer.userId}\u0000${viewer.session}\u0000${viewer.remote ?? ''}\u0000${camera}\u0000${profile}`;
    const v = this.#views.get(key);
    if (v) {
      v.lastAt = now;
      return;
    }
    this.#views.set(key, { viewer, camera, cameraUnit, profile, startedAt: now, lastAt: now });
    this.#record({ userId: viewer.userId, username: viewer.username, unit: viewer.unit, action: 'view.start', camera, cameraUnit, detail: { profile }, remote: viewer.remote }, now);
  }

  /** sweep closes the views idle for longer than idleMs (all of them when all is set). */
  sweep(now = Date.now(), all = false): void {
    for (const [key, v] of this.#views) {
      if (!all && now - v.lastAt < this.#idleMs) continue;
      this.#views.delete(key);
      this.#record({
        userId: v.viewer.userId, username: v.viewer.username, unit: v.viewer.unit, action: 'view.end', camera: v.camera, cameraUnit: v.cameraUnit,
        detail: { profile: v.profile, from: v.startedAt, to: v.lastAt, seconds: Math.round((v.lastAt - v.startedAt) / 1000) }, remote: v.viewer.remote,
      }, now);
    }
  }

  /** close ends every open view (at shutdown). */
  close(): void {
    clearInterval(this.#timer);
    this.sweep(Date.now(), true);
  }

}
