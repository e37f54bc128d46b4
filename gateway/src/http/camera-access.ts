// The one way routes ask whether the caller may act on a camera, and the answers they give when she may not.
import type { FastifyRequest } from 'fastify';
import type { Action } from '../access/access-index.js';
import type { HttpDeps } from './deps.js';
import { AppError } from './errors.js';
import { requireAuth, type Authenticated } from './auth-plugin.js';

const ROLE_REFUSAL: Record<Action, string> = {
  live: 'your roles do not include live viewing',
  playback: 'your roles do not include playback',
  ptz: 'your roles do not include PTZ control',
  wall: 'your roles do not include driving the video wall',
};

/**
 * requireCameraRight returns the caller when she may perform action on camera. A camera she may not know of answers
 * 404 exactly as one that does not exist, whatever the action; a camera she knows answers 403 naming what she lacks.
 */
export function requireCameraRight(deps: Pick<HttpDeps, 'access'>, req: FastifyRequest, action: Action, camera: string): Authenticated {
  const auth = requireAuth(req);
  const d = deps.access.decide(auth.subject, action, camera);
  if (d.allow) return auth;
  if (d.reason === 'role') throw new AppError('forbidden', ROLE_REFUSAL[action], { reason: 'role', action });
  if (d.reason === 'not-granted') throw new AppError('forbidden', `your unit was not given ${action} on this camera`, { reason: 'not-granted', action });
  throw new AppError('not-found', `no camera ${camera} among yours`, { reason: 'camera-unknown', camera });
}
