// HLS playlists and segments, each request checked: signed token, live session, current right to the camera.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { createReadStream } from 'node:fs';
import type { Profile } from '../../../../adapters/core/types.js';
import { MediaTokenError, type MediaGrant } from '../../auth/media-token.js';
import { PLAYLIST } from '../../media/hls-pipeline.js';
import { SEGMENT_NAME } from '../../media/stream-hub.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { COOKIE, subjectOf } from '../auth-plugin.js';
import { hashSessionId } from '../../auth/session-store.js';
import { viewerOf } from './stream-routes.js';
import { CameraId, ProfileName } from '../schemas.js';

const Params = Type.Object({
  camera: CameraId,
  profile: ProfileName,
  // The same names the hub serves: the playlist, or a segment as SEGMENT_NAME matches it.
  file: Type.String({ pattern: `^(${PLAYLIST.replace('.', '\\.')}|${SEGMENT_NAME.source.slice(1, -1)})$` }),
});
const Query = Type.Object({ t: Type.String({ minLength: 1, maxLength: 1024 }) });

/** rewritePlaylist appends the token to every segment URI, so that segments are as protected as the playlist. */
export function rewritePlaylist(text: string, token: string): string {
  const t = encodeURIComponent(token);
  return text.split('\n').map((line) => (line && !line.startsWith('#') ? `${line}?t=${t}` : line)).join('\n');
}

/** mediaRoutes serves /media/hls/:camera/:profile/:file. */
export async function mediaRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const check = (req: FastifyRequest): { grant: MediaGrant; unit: string } => {
    const { camera, profile } = req.params as { camera: string; profile: Profile };
    let grant: MediaGrant;
    try {
      grant = deps.tokens.verify((req.query as { t?: string }).t, camera, profile);
    } catch (err) {
      if (err instanceof MediaTokenError) throw new AppError('forbidden', err.message);
      throw err;
    }
    // A browser sends its session cookie with every media request: a URL replayed from another login is refused.
    // Players without the cookie (a decoder, VLC) hold the token alone; their views are audited with their address.
    const cookie = req.cookies[COOKIE];
    if (cookie !== undefined && hashSessionId(cookie) !== grant.session) {
      throw new AppError('forbidden', 'this media URL belongs to another login session: open the stream yourself');
    }
    // The token is not enough: the session must still be open and the right still held (revocation is immediate).
    const session = deps.sessions.findByHash(grant.session);
    const user = session && session.userId === grant.userId ? deps.catalog.user(grant.userId) : undefined;
    if (!user || user.disabled) throw new AppError('forbidden', 'the session behind this media token has ended');
    if (!deps.access.may(subjectOf(user), grant.action, camera)) {
      throw new AppError('forbidden', 'you no longer hold the right to view this camera');
    }
    deps.audit.touchView({ userId: user.id, username: user.username, unit: user.unit, session: grant.session, remote: req.ip }, camera, profile);
    return { grant, unit: user.unit };
  };

  app.get('/media/hls/:camera/:profile/:file', {
    schema: { tags: ['media'], params: Params, querystring: Query },
  }, async (req, reply: FastifyReply) => {
    const { grant, unit } = check(req);
    const { camera, profile, file } = req.params as { camera: string; profile: Profile; file: string };
    const viewer = viewerOf({ userId: grant.userId, session: grant.session, unit });
    reply.header('cache-control', 'no-store');
    if (file === PLAYLIST) {
      // A viewer who comes back after the idle linger restarts the stream; a starting one is waited for.
      let info = deps.hub.touch(camera, profile, viewer) ?? deps.hub.open(camera, profile, viewer);
      if (info.state !== 'live') info = (await deps.hub.waitLive(camera, profile, deps.playlistWaitMs)) ?? info;
      if (info.state !== 'live') {
        throw new AppError('stream-unavailable', info.error?.message ?? `the stream is ${info.state}`, { state: info.state, retryAt: info.retryAt });
      }
      const text = await deps.hub.playlist(camera, profile);
      if (text === undefined) throw new AppError('stream-unavailable', 'the stream is restarting', { state: 'starting' });
      return reply.type('application/vnd.apple.mpegurl').send(rewritePlaylist(text, (req.query as { t: string }).t));
    }
    deps.hub.touch(camera, profile, viewer);
    const path = deps.hub.filePath(camera, profile, file);
    if (!path) throw new AppError('not-found', 'no such segment (the stream is not running)', undefined, { refusal: false });
    const stream = createReadStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new AppError('not-found', `segment ${file} has rotated out of the playlist`, undefined, { refusal: false });
      throw err;
    });
    return reply.type('video/mp2t').send(stream);
  });
}
