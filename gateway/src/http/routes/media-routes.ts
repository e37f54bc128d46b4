// HLS playlists and segments, each request checked: signed token, live session, current right to the camera.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Profile } from '../../../../adapters/core/types.js';
import type { MediaGrant } from '../../auth/media-token.js';
import { PLAYLIST } from '../../media/hls-pipeline.js';
import { PLAIN_PLAYLIST, SEGMENT_NAME } from '../../media/stream-hub.js';
import { HLS_FILE } from '../../media/core/ll-hls.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { COOKIE } from '../auth-plugin.js';
import { authorizeMedia } from '../media-guard.js';
import { viewerOf } from './stream-routes.js';
import { CameraId, ProfileName } from '../schemas.js';

const Params = Type.Object({
  camera: CameraId,
  profile: ProfileName,
  // The same names the hub serves: the playlists, the media core's init segments, segments and parts, or a segment
  // of the ffmpeg fallback.
  file: Type.String({ maxLength: 64, pattern: `^(${PLAYLIST.replace('.', '\\.')}|${PLAIN_PLAYLIST.replace('.', '\\.')}|${SEGMENT_NAME.source.slice(1, -1)}|${HLS_FILE.source.slice(1, -1)})$` }),
});
const Query = Type.Object({
  t: Type.String({ minLength: 1, maxLength: 1024 }),
  // LL-HLS blocking playlist reload (RFC 8216bis 6.2.5.2).
  _HLS_msn: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12 })),
  _HLS_part: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  _HLS_skip: Type.Optional(Type.String({ maxLength: 8 })),
});

/**
 * rewritePlaylist appends the token to every URI (segment lines, and the URI attributes of EXT-X-MAP, EXT-X-PART and
 * EXT-X-PRELOAD-HINT), so that everything a playlist names is as protected as the playlist.
 */
export function rewritePlaylist(text: string, token: string): string {
  const t = encodeURIComponent(token);
  return text.split('\n').map((line) => {
    if (line && !line.startsWith('#')) return `${line}?t=${t}`;
    if (line.startsWith('#EXT') && line.includes('URI="')) return line.replace(/URI="([^"?]*)"/g, (_m, uri: string) => `URI="${uri}?t=${t}"`);
    return line;
  }).join('\n');
}

/** BLOCK_MS bounds a blocking playlist reload or a part announced by the preload hint (three part targets and more). */
const BLOCK_MS = 3000;

/** mediaRoutes serves /media/hls/:camera/:profile/:file. */
export async function mediaRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const check = (req: FastifyRequest): { grant: MediaGrant; unit: string } => {
    const { camera, profile } = req.params as { camera: string; profile: Profile };
    const { grant, user } = authorizeMedia(deps, (req.query as { t?: string }).t, camera, profile, req.cookies[COOKIE]);
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
    if (file === PLAYLIST || file === PLAIN_PLAYLIST) {
      // A viewer who comes back after the idle linger restarts the stream; a starting one is waited for.
      let info = deps.hub.touch(camera, profile, viewer) ?? deps.hub.open(camera, profile, viewer);
      if (info.state !== 'live') info = (await deps.hub.waitLive(camera, profile, deps.playlistWaitMs)) ?? info;
      if (info.state !== 'live') {
        throw new AppError('stream-unavailable', info.error?.message ?? `the stream is ${info.state}`, { reason: 'stream-state', state: info.state, kind: info.error?.kind, retryAt: info.retryAt });
      }
      const q = req.query as { t: string; _HLS_msn?: number; _HLS_part?: number };
      if (q._HLS_part !== undefined && q._HLS_msn === undefined) throw new AppError('bad-request', '_HLS_part needs _HLS_msn', { reason: 'hls-query' });
      let text = await deps.hub.playlist(camera, profile, { lowLatency: file === PLAYLIST, msn: q._HLS_msn, part: q._HLS_part, waitMs: BLOCK_MS });
      if (text === 'too-far') throw new AppError('bad-request', `_HLS_msn ${q._HLS_msn} is more than two segments past the live edge`, { reason: 'hls-query' });
      // A part that did not come in time: the playlist as it is, for the player to ask again.
      if (text === 'timeout') text = await deps.hub.playlist(camera, profile, { lowLatency: file === PLAYLIST, waitMs: 0 });
      if (text === undefined || text === 'timeout' || text === 'too-far') {
        // Live, but no part made yet (the first keyframe is being cut): the player retries.
        throw new AppError('stream-unavailable', 'the stream is starting', { reason: 'stream-state', state: 'starting' });
      }
      return reply.type('application/vnd.apple.mpegurl').send(rewritePlaylist(text, q.t));
    }
    deps.hub.touch(camera, profile, viewer);
    const found = await deps.hub.file(camera, profile, file, BLOCK_MS);
    if (!found) throw new AppError('not-found', `${file} is not in the stream's window (rotated out, or the stream is not running)`, { reason: 'segment-gone' }, { refusal: false });
    if ('chunks' in found) {
      let length = 0;
      for (const c of found.chunks) length += c.length;
      reply.header('content-length', length);
      return reply.type(found.type).send(Readable.from(found.chunks, { objectMode: false }));
    }
    const path = found.path;
    const stream = createReadStream(path, found.start !== undefined ? { start: found.start, end: found.end } : {});
    if (found.start !== undefined && found.end !== undefined) reply.header('content-length', found.end - found.start + 1);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new AppError('not-found', `segment ${file} has rotated out of the playlist`, { reason: 'segment-gone' }, { refusal: false });
      throw err;
    });
    return reply.type(found.type).send(stream);
  });
}
