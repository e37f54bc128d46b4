// Live streams: open one (a ticket with a signed playlist URL), renew its token, read states.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Profile } from '../../../../adapters/core/types.js';
import type { StreamInfo, ViewerRef } from '../../media/stream.js';
import type { HttpDeps } from '../deps.js';
import { requireAuth, type Authenticated } from '../auth-plugin.js';
import { requireCameraRight } from '../camera-access.js';
import { whepUrl } from './whep-routes.js';
import { rtspPath } from '../../media/rtsp-out.js';
import { flvPath } from './flv-routes.js';
import { CameraId, ProfileName, StreamInfoBody, StreamRequest, StreamTicket, TokenBody } from '../schemas.js';

/** viewerOf names a viewer for the hub's count (one per login session), with her user and unit for the fair shares. */
export function viewerOf(auth: { userId: number; session: string; unit: string }): ViewerRef {
  return { key: `${auth.userId}:${auth.session.slice(0, 16)}`, user: String(auth.userId), unit: auth.unit };
}

/** playlistUrl is where the HLS playlist of a stream is served. */
export function playlistUrl(camera: string, profile: Profile, token: string): string {
  return `/media/hls/${encodeURIComponent(camera)}/${profile}/index.m3u8?t=${encodeURIComponent(token)}`;
}

function stopped(camera: string, profile: Profile): StreamInfo {
  return { camera, profile, state: 'stopped', viewers: 0, since: Date.now(), attempts: 0 };
}

/** streamRoutes serves /api/streams. */
export async function streamRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const authorize = (req: FastifyRequest): { auth: Authenticated; camera: string; profile: Profile } => {
    const { camera, profile } = (req.body ?? req.params) as { camera: string; profile: Profile };
    return { auth: requireCameraRight(deps, req, 'live', camera), camera, profile };
  };
  const sign = (auth: Authenticated, camera: string, profile: Profile) =>
    deps.tokens.sign({ userId: auth.user.id, session: auth.session.idHash, camera, profile, action: 'live' });

  app.post('/api/streams', {
    schema: { tags: ['streams'], body: StreamRequest, response: { 200: StreamTicket } },
  }, async (req) => {
    const { auth, camera, profile } = authorize(req);
    const stream = deps.hub.open(camera, profile, viewerOf({ userId: auth.user.id, session: auth.session.idHash, unit: auth.user.unit }));
    const { token, expires } = sign(auth, camera, profile);
    req.log.info({ userId: auth.user.id, camera, profile }, 'stream opened');
    const rtspUrl = deps.rtsp ? `rtsp://${deps.rtsp.announcedHost || req.hostname.replace(/:\d+$/, '')}:${deps.rtsp.port}${rtspPath(camera, profile, token)}` : undefined;
    return {
      stream, playlistUrl: playlistUrl(camera, profile, token), ...(deps.webrtc ? { whepUrl: whepUrl(camera, profile, token) } : {}),
      ...(rtspUrl ? { rtspUrl } : {}), flvUrl: flvPath(camera, profile, token), token, tokenExpires: expires,
    };
  });

  app.post('/api/streams/token', {
    schema: { tags: ['streams'], body: StreamRequest, response: { 200: TokenBody } },
  }, async (req) => {
    const { auth, camera, profile } = authorize(req);
    const { token, expires } = sign(auth, camera, profile);
    return { token, tokenExpires: expires };
  });

  app.get('/api/streams', { schema: { tags: ['streams'], response: { 200: Type.Array(StreamInfoBody) } } }, async (req) => {
    const { subject } = requireAuth(req);
    return deps.hub.list().filter((s) => deps.access.may(subject, 'live', s.camera));
  });

  app.get('/api/streams/:camera/:profile', {
    schema: { tags: ['streams'], params: Type.Object({ camera: CameraId, profile: ProfileName }), response: { 200: StreamInfoBody } },
  }, async (req) => {
    const { camera, profile } = authorize(req);
    return deps.hub.info(camera, profile) ?? stopped(camera, profile);
  });
}
