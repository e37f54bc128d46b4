// WHEP (RFC 9725): POST an SDP offer to a camera's endpoint, get 201 with the answer and the session's Location;
// DELETE the session to leave; PATCH it with trickled ICE (taken and acknowledged: the gateway is ICE-lite and learns
// the browser's addresses from its checks). The same media tokens and rights as HLS, asked again every second.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Profile } from '../../../../adapters/core/types.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { COOKIE, bearerOf } from '../auth-plugin.js';
import { authorizeMedia, liveView } from '../media-guard.js';
import { CameraId, ProfileName } from '../schemas.js';
import { SdpError, MAX_OFFER_BYTES } from '../../media/webrtc/whep-sdp.js';
import { WebRtcError } from '../../media/webrtc/webrtc-service.js';

const SessionId = Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

/** sessionUrl is a WHEP session's resource (its id is 128 random bits: only its viewer knows it). */
export function sessionUrl(id: string): string {
  return `/media/whep/sessions/${id}`;
}

/** whepUrl is where a camera's WHEP endpoint is. */
export function whepUrl(camera: string, profile: Profile, token: string): string {
  return `/media/whep/${encodeURIComponent(camera)}/${profile}?t=${encodeURIComponent(token)}`;
}

/** whepRoutes serves /media/whep. */
export async function whepRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  app.addContentTypeParser(['application/sdp', 'application/trickle-ice-sdpfrag'], { parseAs: 'string', bodyLimit: MAX_OFFER_BYTES }, (_req, body, done) => done(null, body));

  app.post('/media/whep/:camera/:profile', {
    schema: {
      tags: ['media'], params: Type.Object({ camera: CameraId, profile: ProfileName }),
      querystring: Type.Object({ t: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) }),
    },
  }, async (req: FastifyRequest, reply) => {
    const webrtc = deps.webrtc;
    const { camera, profile } = req.params as { camera: string; profile: Profile };
    const token = (req.query as { t?: string }).t ?? bearerOf(req.headers.authorization);
    const checked = authorizeMedia(deps, token, camera, profile, req.cookies[COOKIE]);
    const { user } = checked;
    if (!webrtc) throw new AppError('stream-unavailable', 'WebRTC is off on this gateway (media.webrtc): play over HLS', { reason: 'webrtc-off' });
    if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/sdp') || typeof req.body !== 'string') {
      throw new AppError('bad-request', 'a WHEP offer is sent as application/sdp', { reason: 'sdp' });
    }
    const attempt = (p: Profile) => {
      const live = liveView(deps, checked, camera, p, req.ip);
      if (!deps.hub.touch(camera, p, live.viewer)) deps.hub.open(camera, p, live.viewer);
      return webrtc.view({ camera, profile: p, offer: req.body as string, viewer: live.viewer, userId: user.id, allowed: live.allowed }).then((v) => {
        live.touch();
        return v;
      });
    };
    let view;
    let served: Profile = profile;
    try {
      try {
        view = await attempt(profile);
      } catch (err) {
        // Every transcode in use: the sub stream instead, when the camera's is one the browser takes as it is.
        if (!(err instanceof WebRtcError && err.code === 'transcode-budget' && profile === 'main')) throw err;
        view = await attempt('sub').catch(() => { throw err; });
        served = 'sub';
        reply.header('x-stream-notice', 'transcode-budget');
      }
    } catch (err) {
      if (err instanceof SdpError) throw new AppError('bad-request', err.message, { reason: 'sdp' });
      if (err instanceof WebRtcError) {
        if (err.code === 'codec-unsupported') throw new AppError('not-supported', err.message, { reason: 'codec', ...err.details });
        if (err.code === 'transcode-budget') throw new AppError('capacity', err.message, { reason: 'transcode-budget', ...err.details });
        throw new AppError(err.code, err.message, { reason: err.code === 'stream-unavailable' ? 'stream-state' : `webrtc-${err.code}`, ...err.details });
      }
      throw err;
    }
    reply.header('x-stream-profile', served);
    req.log.info({ userId: user.id, camera, profile: served, session: view.id.slice(0, 8), codec: view.info.codec, transcoded: view.info.transcoded }, 'webrtc view opened');
    reply.code(201).header('location', sessionUrl(view.id)).header('cache-control', 'no-store')
      .header('x-stream-codec', view.info.codec + (view.info.transcoded ? '; transcoded' : ''))
      .type('application/sdp');
    return view.answer;
  });

  // The session's state, for a player that sees its picture stop and asks whether the gateway ended the view.
  // ?rtp=<RTP time of the picture shown> also answers when that picture reached the gateway, and the gateway's clock:
  // the console's overlay tells administrators how long pictures take from the gateway to the glass.
  app.get('/media/whep/sessions/:id', {
    schema: { tags: ['media'], params: Type.Object({ id: SessionId }), querystring: Type.Object({ rtp: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })) }) },
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const s = deps.webrtc?.session(id);
    if (!s) throw new AppError('not-found', 'no such WebRTC session (it has ended)', { reason: 'whep-session-gone' }, { refusal: false });
    reply.header('cache-control', 'no-store');
    const rtp = (req.query as { rtp?: number }).rtp;
    const arrivedAt = rtp === undefined ? undefined : deps.webrtc!.arrivalOf(id, rtp);
    return { camera: s.camera, profile: s.profile, codec: s.codec, transcoded: s.transcoded, connected: s.connected, since: s.since, now: Date.now(), ...(arrivedAt !== undefined ? { arrivedAt } : {}) };
  });

  app.patch('/media/whep/sessions/:id', { schema: { tags: ['media'], params: Type.Object({ id: SessionId }) } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!deps.webrtc?.session(id)) throw new AppError('not-found', 'no such WebRTC session (it has ended)', { reason: 'whep-session-gone' }, { refusal: false });
    if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/trickle-ice-sdpfrag')) {
      throw new AppError('bad-request', 'trickled ICE is sent as application/trickle-ice-sdpfrag', { reason: 'sdp' });
    }
    return reply.code(204).send();
  });

  app.delete('/media/whep/sessions/:id', { schema: { tags: ['media'], params: Type.Object({ id: SessionId }) } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!deps.webrtc?.leave(id)) throw new AppError('not-found', 'no such WebRTC session (it has ended)', { reason: 'whep-session-gone' }, { refusal: false });
    return reply.code(200).send();
  });
}
