// HTTP-FLV and WebSocket-FLV for legacy players and decoders: /media/flv/<camera>/<profile>.flv?t=<media token>, the
// same token and rights as every media URL, asked again every second; a view whose right ends is cut off.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Profile } from '../../../../adapters/core/types.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { COOKIE, sessionCookieOf } from '../auth-plugin.js';
import { authorizeMedia, liveView, refuseMedia, type MediaViewer } from '../media-guard.js';
import { CameraId } from '../schemas.js';
import { FlvSession } from '../../media/flv.js';
import type { ViewerRef } from '../../media/stream.js';

/** flvPath is where a camera profile's HTTP-FLV (and WebSocket-FLV) is served. */
export function flvPath(camera: string, profile: Profile, token: string): string {
  return `/media/flv/${encodeURIComponent(camera)}/${profile}.flv?t=${encodeURIComponent(token)}`;
}

const PATH = /^\/media\/flv\/([A-Za-z0-9_.-]{1,128})\/(main|sub)\.flv(?:\?|$)/;
/** MAX_BUFFERED bounds what waits for one slow reader before pictures are held back for it. */
const MAX_BUFFERED = 4 * 1024 * 1024;

interface View {
  camera: string;
  profile: Profile;
  viewer: ViewerRef;
  allowed: () => boolean;
  end: (reason: string) => void;
}

/** flvRoutes serves /media/flv. */
export async function flvRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const views = new Set<View>();
  const timer = setInterval(() => {
    for (const v of [...views]) {
      let ok = false;
      try {
        ok = v.allowed();
      } catch {
        ok = false;
      }
      if (!ok) v.end('revoked');
      else deps.hub.touch(v.camera, v.profile, v.viewer);
    }
  }, 1000);
  timer.unref();
  app.addHook('preClose', async () => {
    clearInterval(timer);
    for (const v of [...views]) v.end('gateway closing');
  });

  /** open checks the viewer, opens the stream and waits for it to be live; it returns its bus. */
  const open = async (checked: MediaViewer, camera: string, profile: Profile, remote: string) => {
    const live = liveView(deps, checked, camera, profile, remote);
    const viewer = live.viewer;
    let info = deps.hub.touch(camera, profile, viewer) ?? deps.hub.open(camera, profile, viewer);
    if (info.state !== 'live') info = (await deps.hub.waitLive(camera, profile, deps.playlistWaitMs)) ?? info;
    const bus = deps.hub.bus(camera, profile);
    if (info.state !== 'live' || !bus || bus.videoTrack < 0) {
      throw new AppError('stream-unavailable', info.error?.message ?? `the stream is ${info.state}`, { reason: 'stream-state', state: info.state, kind: info.error?.kind, retryAt: info.retryAt });
    }
    live.touch();
    return { bus, viewer, allowed: live.allowed };
  };

  app.get('/media/flv/:camera/:file', {
    schema: {
      tags: ['media'],
      params: Type.Object({ camera: CameraId, file: Type.String({ pattern: '^(main|sub)\\.flv$' }) }),
      querystring: Type.Object({ t: Type.String({ minLength: 1, maxLength: 1024 }) }),
    },
  }, async (req: FastifyRequest, reply) => {
    const { camera, file } = req.params as { camera: string; file: string };
    const profile = file.slice(0, -4) as Profile;
    const checked = authorizeMedia(deps, (req.query as { t: string }).t, camera, profile, req.cookies[COOKIE]);
    const { bus, viewer, allowed } = await open(checked, camera, profile, req.ip);
    const out = new PassThrough({ highWaterMark: MAX_BUFFERED });
    const view: View = {
      camera, profile, viewer, allowed,
      end: (reason) => {
        views.delete(view);
        session.close(reason);
        out.end();
      },
    };
    const session = new FlvSession(bus, (b) => out.write(b), () => {
      views.delete(view);
      out.end();
    });
    out.on('drain', () => session.drain());
    req.raw.on('close', () => view.end('left'));
    views.add(view);
    req.log.info({ userId: checked.user.id, camera, profile }, 'flv view opened');
    return reply.header('cache-control', 'no-store').type('video/x-flv').send(out);
  });

  // WebSocket-FLV: the same stream in binary messages, for players in pages (flv.js, mpegts.js).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const m = PATH.exec(req.url ?? '');
    if (!m) return;
    const refuse = (status: number, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Service Unavailable'}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ code: status === 403 ? 'forbidden' : 'stream-unavailable', message })}`);
    };
    const url = new URL(req.url!, 'http://gateway');
    const camera = m[1]!;
    const profile = m[2] as Profile;
    const cookie = sessionCookieOf(req.headers.cookie);
    const remote = req.socket.remoteAddress ?? '';
    let checked: MediaViewer;
    try {
      checked = authorizeMedia(deps, url.searchParams.get('t') ?? undefined, camera, profile, cookie);
    } catch (err) {
      const e = err as AppError;
      refuseMedia((key, ev) => deps.audit.refuse(key, ev), { route: 'ws-flv', method: 'GET', status: 403, remote, camera, message: e.message, ...(e instanceof AppError && typeof e.details?.reason === 'string' ? { reason: e.details.reason } : {}) });
      return refuse(403, e.message);
    }
    void open(checked, camera, profile, remote).then(({ bus, viewer, allowed }) => {
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const view: View = {
          camera, profile, viewer, allowed,
          end: (reason) => {
            views.delete(view);
            // A revoked view is closed with 4403 (the WebSocket code for "forbidden"), before the stream's own end.
            if (ws.readyState === ws.OPEN) ws.close(reason === 'revoked' ? 4403 : 1000, reason);
            session.close(reason);
          },
        };
        const session = new FlvSession(bus, (b) => {
          ws.send(b);
          if (ws.bufferedAmount > MAX_BUFFERED) {
            // Checked again when the socket has sent what it holds.
            const wait = setInterval(() => {
              if (ws.readyState !== ws.OPEN) return clearInterval(wait);
              if (ws.bufferedAmount < MAX_BUFFERED / 2) {
                clearInterval(wait);
                session.drain();
              }
            }, 50);
            return false;
          }
          return true;
        }, () => {
          views.delete(view);
          if (ws.readyState === ws.OPEN) ws.close(1000, 'stream ended');
        });
        ws.on('close', () => view.end('left'));
        ws.on('message', () => undefined);
        views.add(view);
      });
    }, (err: Error) => refuse(503, err.message));
  });
}
