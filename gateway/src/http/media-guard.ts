// The one check every media URL passes (HLS, WHEP, RTSP, FLV): a signed token, the login session behind it still
// open, its user still enabled and still holding the right to the camera. Long-lived views (WebRTC, RTSP, FLV) ask
// stillAllowed again every second, so that a revoked right or an ended login ends them too.
import type { Profile } from '../../../adapters/core/types.js';
import type { MediaGrant } from '../auth/media-token.js';
import { MediaTokenError } from '../auth/media-token.js';
import { hashSessionId } from '../auth/session-store.js';
import type { User } from '../catalog/catalog.js';
import type { AuditEvent } from '../audit/audit-log.js';
import type { ViewerRef } from '../media/stream.js';
import type { AuditView, HttpDeps } from './deps.js';
import { viewerOf } from './routes/stream-routes.js';
import { AppError } from './errors.js';
import { subjectOf } from './auth-plugin.js';

/** MediaViewer is who a media token speaks for, checked. */
export interface MediaViewer {
  grant: MediaGrant;
  user: User;
}

/**
 * WallDisplays is what the guard asks of the walls for a display's tokens (their session is "wall:<display id>"): the
 * display is still registered and the camera is (or is about to be) on its screen, which the wall may still show.
 */
export interface WallDisplays {
  displayViewer(display: number, camera: string): User | undefined;
}

/**
 * RoomViewers is what the guard asks of the rooms for a participant's tokens of a camera brought in (their session is
 * "room:<room>:<participant>"): she is still in the room, the camera still in it, and who brought it may still view it.
 */
export interface RoomViewers {
  roomViewer(room: string, participant: string, camera: string): User | undefined;
}

type GuardDeps = Pick<HttpDeps, 'tokens' | 'sessions' | 'catalog' | 'access'> & { displays?: WallDisplays; roomViewers?: RoomViewers };

const WALL_SESSION = /^wall:(\d{1,12})$/;
const ROOM_SESSION = /^room:([A-Za-z0-9_-]{8,32}):([A-Za-z0-9_-]{8,32})$/;

/**
 * authorizeMedia checks a media token for (camera, profile); cookie, when the client sent the session cookie, must be
 * the token's own login. It throws AppError('forbidden') saying what is wrong.
 */
export function authorizeMedia(deps: GuardDeps, token: string | undefined, camera: string, profile: string, cookie?: string): MediaViewer {
  let grant: MediaGrant;
  try {
    grant = deps.tokens.verify(token, camera, profile);
  } catch (err) {
    if (err instanceof MediaTokenError) throw new AppError('forbidden', err.message, { reason: 'token' });
    throw err;
  }
  // A browser sends its session cookie with every media request: a URL replayed from another login is refused.
  // Players without the cookie (a decoder, VLC) hold the token alone; their views are audited with their address.
  const display = WALL_SESSION.test(grant.session) || ROOM_SESSION.test(grant.session);
  if (!display && cookie !== undefined && hashSessionId(cookie) !== grant.session) {
    throw new AppError('forbidden', 'this media URL belongs to another login session: open the stream yourself', { reason: 'other-session' });
  }
  const user = viewerUser(deps, grant, camera);
  if (!user && ROOM_SESSION.test(grant.session)) throw new AppError('forbidden', 'this camera is no longer in the room (or you are not)', { reason: 'room-camera-gone' });
  if (!user && display) throw new AppError('forbidden', 'this display was revoked, or the camera is no longer on its screen', { reason: 'wall-not-on-screen' });
  if (!user) throw new AppError('forbidden', 'the session behind this media token has ended', { reason: 'session-ended' });
  // A room's participant views through the right of whoever brought the camera in (roomViewer asked it).
  if (!ROOM_SESSION.test(grant.session) && !deps.access.may(subjectOf(user), grant.action, camera)) {
    throw new AppError('forbidden', 'you no longer hold the right to view this camera', { reason: 'revoked' });
  }
  return { grant, user };
}

/** stillAllowed asks again what authorizeMedia asked, but the token's expiry (a long view outlives its token). */
export function stillAllowed(deps: GuardDeps, grant: MediaGrant, camera: string): boolean {
  const user = viewerUser(deps, grant, camera);
  if (user && ROOM_SESSION.test(grant.session)) return true;
  return user !== undefined && deps.access.may(subjectOf(user), grant.action, camera);
}

function viewerUser(deps: GuardDeps, grant: MediaGrant, camera: string): User | undefined {
  const wall = WALL_SESSION.exec(grant.session);
  if (wall) return grant.userId === 0 ? deps.displays?.displayViewer(Number(wall[1]), camera) : undefined;
  const room = ROOM_SESSION.exec(grant.session);
  if (room) return grant.userId === 0 ? deps.roomViewers?.roomViewer(room[1]!, room[2]!, camera) : undefined;
  const session = deps.sessions.findByHash(grant.session);
  const user = session && session.userId === grant.userId ? deps.catalog.user(grant.userId) : undefined;
  return user && !user.disabled ? user : undefined;
}

/** LiveView is a checked viewer of a long-lived view (WebRTC, RTSP, FLV) of one camera profile. */
export interface LiveView {
  /** viewer is how the stream hub counts her. */
  viewer: ViewerRef;
  /** touch keeps her view open in the audit trail. */
  touch: () => void;
  /** allowed asks again whether she may watch, and keeps the view audited while she may. */
  allowed: () => boolean;
}

/** liveView makes the view of a checked viewer, seen from remote. */
export function liveView(deps: GuardDeps & { audit: Pick<AuditView, 'touchView'> }, checked: MediaViewer, camera: string, profile: Profile, remote: string): LiveView {
  const { grant, user } = checked;
  const who = { userId: user.id, username: user.username, unit: user.unit, session: grant.session, remote };
  const touch = () => deps.audit.touchView(who, camera, profile);
  return {
    // A display is counted as itself (its fair share is its own, not that of every display together).
    viewer: WALL_SESSION.test(grant.session) || ROOM_SESSION.test(grant.session) ? { key: grant.session, user: grant.session, unit: user.unit } : viewerOf({ userId: user.id, session: grant.session, unit: user.unit }),
    touch,
    allowed: () => {
      const ok = stillAllowed(deps, grant, camera);
      if (ok) touch();
      return ok;
    },
  };
}

/**
 * refuseMedia audits a refusal no HTTP error handler sees (an RTSP DESCRIBE, an RTMP push, a WebSocket upgrade): who
 * asked (an address), which camera, through which output, and why. Repeats of one are summarised as others are.
 */
export function refuseMedia(refuse: (key: string, e: AuditEvent) => void, r: { route: 'rtsp' | 'rtmp' | 'ws-flv'; remote: string; camera: string | null; message: string; reason?: string; method?: string; status?: number; cameraUnit?: string | null }): void {
  refuse(`refused\u0000a${r.remote}\u0000${r.route}\u0000${r.camera ?? ''}`, {
    userId: null, username: '', unit: null, action: 'refused', camera: r.camera,
    ...(r.cameraUnit !== undefined ? { cameraUnit: r.cameraUnit } : {}),
    detail: { ...(r.method ? { method: r.method } : {}), route: r.route, ...(r.status ? { status: r.status } : {}), code: 'forbidden', ...(r.reason ? { reason: r.reason } : {}), message: r.message },
    remote: r.remote,
  });
}
