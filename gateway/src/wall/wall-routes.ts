// The walls over HTTP: operators drive them (REST commands, a WebSocket of the whole wall's state), administrators
// make them and their display devices; display devices (a kiosk browser or a decoder, each with its own token) read
// their screen's pictures with media URLs signed for them, and follow every change over a WebSocket.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Profile } from '../../../adapters/core/types.js';
import type { HttpDeps } from '../http/deps.js';
import { AppError } from '../http/errors.js';
import { bearerOf, requireAuth, sameOrigin, sessionCookieOf, subjectOf } from '../http/auth-plugin.js';
import { helloField, refuseHello, refuseUpgrade } from '../http/upgrade.js';
import { playlistUrl } from '../http/routes/stream-routes.js';
import { whepUrl } from '../http/routes/whep-routes.js';
import { rtspPath } from '../media/rtsp-out.js';
import { CameraId, ProfileName, RowId, StreamInfoBody, TokenBody } from '../http/schemas.js';
import { layoutName, type Actor, type Walls } from './walls.js';
import { keyOf, WallError, type Command, type Content, type Target } from './wall-model.js';
import type { AlarmRecord, WallRecord } from './wall-store.js';
import {
  AlarmBody, AlarmCreate, CommandRequest, DisplayBody, DisplayCreate, DisplayStateBody, PresetBody, ScheduleBody, ScheduleCreate,
  TourBody, TourCreate, WallBody, WallChange, WallCreate, WallSummaryBody,
  type DisplayPictureT, type DisplayStateT, type PictureT, type WallT,
} from './wall-schemas.js';

/** DISPLAY_TOKEN_PREFIX marks a display token (it is never a login session's secret). */
const DISPLAY_TOKEN_PREFIX = 'segd_';
/** HELLO_MS is how long a display's socket may wait before it says who it is. */
const HELLO_MS = 5000;
/** RECHECK_MS is how often an open socket's session or display is checked again. */
const RECHECK_MS = 5000;
const MAX_BUFFERED = 1 << 20;
/** MAX_UNNAMED bounds the sockets open that have not yet said which display they are. */
const MAX_UNNAMED = 64;

/** wallSession is the session a display's media tokens carry (the media guard knows it by this). */
export function wallSession(display: number): string {
  return `wall:${display}`;
}

type WallDeps = HttpDeps & { walls: Walls };

/** toAppError says a wall's refusal in the table's codes. */
function toAppError(err: unknown): unknown {
  if (!(err instanceof WallError)) return err;
  return new AppError(err.kind, err.message, { reason: err.reason, ...err.params });
}

/** wallRoutes serves /api/walls, /api/display and their WebSockets. */
export async function wallRoutes(app: FastifyInstance, deps: WallDeps): Promise<void> {
  const walls = deps.walls;
  const actorOf = (req: FastifyRequest): Actor => {
    const { user, subject } = requireAuth(req);
    return { subject, userId: user.id, username: user.username, unit: user.unit, remote: req.ip };
  };
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw toAppError(err);
    }
  };
  const label = (camera: string) => {
    const s = deps.catalog.summary(camera);
    return s ? { camera, name: s.name, unit: s.unit, unitName: deps.catalog.unitName(s.unit) ?? s.unit } : { camera, name: camera, unit: '', unitName: '' };
  };
  const picture = (p: ReturnType<Walls['placed']>[number]): PictureT => ({
    key: keyOf(p.target), target: p.target, rect: p.rect, z: p.z, hidden: p.hidden, status: p.status, online: p.online, profile: p.profile,
    ...(p.content ? { choice: p.content.profile } : {}),
    // A camera the wall may no longer show is not named on it.
    ...(p.content && p.status === 'ok' ? { label: label(p.content.camera) } : {}),
    ...(p.content?.alarm !== undefined ? { alarm: p.content.alarm } : {}), ...(p.content?.tour !== undefined ? { tour: p.content.tour } : {}),
    ...(p.upcoming ? { upcoming: p.upcoming } : {}),
  });
  const alarmBody = (a: AlarmRecord) => ({
    id: a.id, camera: a.camera, cameraName: deps.catalog.summary(a.camera)?.name ?? a.camera, target: a.target, placed: a.placed, preset: a.preset,
    note: a.note, state: a.state, raisedAt: a.raisedAt, ackedBy: a.ackedBy,
  });
  /** wallBody is the whole wall as consoles draw it (the caller checked the reader may drive it). */
  const wallBody = (w: WallRecord): WallT => {
    const screens = w.state.screens.map((s, i) => ({
      index: i, kind: s.kind, layout: s.layout, layoutName: layoutName(s.layout), maximized: s.maximized,
      pictures: walls.placed(w, i).filter((p) => !('window' in p.target)).map((p) => picture(p)),
    }));
    const windows = w.state.windows.map((win) => {
      const p = walls.placed(w, Math.min(w.state.screens.length - 1, Math.floor(win.y) * w.cols + Math.floor(win.x))).find((x) => 'window' in x.target && x.target.window === win.id);
      const base: PictureT = p ? picture(p) : { key: `w${win.id}`, target: { window: win.id }, rect: { x: 0, y: 0, w: win.w, h: win.h }, z: 10 + win.z, hidden: false, status: win.content ? 'ok' : 'empty', online: 'unknown', profile: 'sub' };
      return { id: win.id, x: win.x, y: win.y, w: win.w, h: win.h, z: win.z, picture: base };
    });
    return {
      id: w.id, name: w.name, unit: w.unit, unitName: deps.catalog.unitName(w.unit) ?? w.unit, rows: w.rows, cols: w.cols, version: w.version,
      alarmTargets: w.alarmTargets, screens, windows,
      alarms: walls.openAlarms(w.id).map(alarmBody),
      tours: walls.toursOf(w.id),
    };
  };
  const summary = (w: WallRecord) => ({ id: w.id, name: w.name, unit: w.unit, unitName: deps.catalog.unitName(w.unit) ?? w.unit, rows: w.rows, cols: w.cols, version: w.version });
  const idParams = Type.Object({ id: RowId });

  app.get('/api/walls', { schema: { tags: ['walls'], response: { 200: Type.Object({ walls: Type.Array(WallSummaryBody) }) } } }, async (req) => {
    const { subject } = requireAuth(req);
    return { walls: walls.list(subject).map(summary) };
  });

  app.post('/api/walls', { schema: { tags: ['walls'], body: WallCreate, response: { 201: WallBody } } }, async (req, reply) => {
    const actor = actorOf(req);
    const w = guard(() => walls.create(actor, req.body as { name: string; unit: string; rows: number; cols: number; split?: 1 | 4 | 9 | 16 }));
    return reply.status(201).send(wallBody(w));
  });

  app.get('/api/walls/:id', { schema: { tags: ['walls'], params: idParams, response: { 200: WallBody } } }, async (req) => {
    const { subject } = requireAuth(req);
    return guard(() => wallBody(walls.wallFor(subject, (req.params as { id: number }).id)));
  });

  app.patch('/api/walls/:id', { schema: { tags: ['walls'], params: idParams, body: WallChange, response: { 200: WallBody } } }, async (req) => {
    const actor = actorOf(req);
    return guard(() => wallBody(walls.update(actor, (req.params as { id: number }).id, req.body as { name?: string; alarmTargets?: Target[] })));
  });

  app.delete('/api/walls/:id', { schema: { tags: ['walls'], params: idParams } }, async (req, reply) => {
    const actor = actorOf(req);
    guard(() => walls.remove(actor, (req.params as { id: number }).id));
    return reply.status(204).send();
  });

  app.post('/api/walls/:id/commands', {
    schema: { tags: ['walls'], params: idParams, body: CommandRequest, response: { 200: Type.Object({ version: Type.Integer(), window: Type.Optional(Type.Integer()) }) } },
  }, async (req) => {
    const actor = actorOf(req);
    const { version, command } = req.body as { version: number; command: Command };
    return guard(() => walls.command(actor, (req.params as { id: number }).id, version, command));
  });

  // Presets (预案) and their schedules.
  app.get('/api/walls/:id/presets', { schema: { tags: ['walls'], params: idParams, response: { 200: Type.Object({ presets: Type.Array(PresetBody) }) } } }, async (req) => {
    const { subject } = requireAuth(req);
    return guard(() => ({
      presets: walls.presets(subject, (req.params as { id: number }).id).map((p) => ({
        id: p.id, name: p.name, createdAt: p.createdAt,
        cameras: p.state.screens.reduce((n, s) => n + s.tiles.filter(Boolean).length, 0) + p.state.windows.filter((w) => w.content).length,
      })),
    }));
  });
  app.post('/api/walls/:id/presets', {
    schema: { tags: ['walls'], params: idParams, body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false }), response: { 201: PresetBody } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const p = guard(() => walls.savePreset(actor, (req.params as { id: number }).id, (req.body as { name: string }).name));
    return reply.status(201).send({ id: p.id, name: p.name, createdAt: p.createdAt, cameras: p.state.screens.reduce((n, s) => n + s.tiles.filter(Boolean).length, 0) + p.state.windows.filter((w) => w.content).length });
  });
  const presetParams = Type.Object({ id: RowId, preset: RowId });
  app.post('/api/walls/:id/presets/:preset/recall', {
    schema: { tags: ['walls'], params: presetParams, response: { 200: Type.Object({ version: Type.Integer(), skipped: Type.Integer() }) } },
  }, async (req) => {
    const actor = actorOf(req);
    const { id, preset } = req.params as { id: number; preset: number };
    return guard(() => walls.recall(actor, id, preset));
  });
  app.delete('/api/walls/:id/presets/:preset', { schema: { tags: ['walls'], params: presetParams } }, async (req, reply) => {
    const actor = actorOf(req);
    const { id, preset } = req.params as { id: number; preset: number };
    guard(() => walls.deletePreset(actor, id, preset));
    return reply.status(204).send();
  });
  app.get('/api/walls/:id/schedules', { schema: { tags: ['walls'], params: idParams, response: { 200: Type.Object({ schedules: Type.Array(ScheduleBody) }) } } }, async (req) => {
    const { subject } = requireAuth(req);
    return guard(() => ({ schedules: walls.schedules(subject, (req.params as { id: number }).id) }));
  });
  app.post('/api/walls/:id/schedules', { schema: { tags: ['walls'], params: idParams, body: ScheduleCreate, response: { 201: ScheduleBody } } }, async (req, reply) => {
    const actor = actorOf(req);
    return reply.status(201).send(guard(() => walls.addSchedule(actor, (req.params as { id: number }).id, req.body as { preset: number; minute: number; days: number })));
  });
  app.delete('/api/walls/:id/schedules/:schedule', { schema: { tags: ['walls'], params: Type.Object({ id: RowId, schedule: RowId }) } }, async (req, reply) => {
    const actor = actorOf(req);
    const { id, schedule } = req.params as { id: number; schedule: number };
    guard(() => walls.deleteSchedule(actor, id, schedule));
    return reply.status(204).send();
  });

  // Tours (轮巡).
  app.get('/api/walls/:id/tours', { schema: { tags: ['walls'], params: idParams, response: { 200: Type.Object({ tours: Type.Array(TourBody) }) } } }, async (req) => {
    const { subject } = requireAuth(req);
    return guard(() => ({ tours: walls.tours(subject, (req.params as { id: number }).id) }));
  });
  app.post('/api/walls/:id/tours', { schema: { tags: ['walls'], params: idParams, body: TourCreate, response: { 201: TourBody } } }, async (req, reply) => {
    const actor = actorOf(req);
    const t = guard(() => walls.createTour(actor, (req.params as { id: number }).id, req.body as { name: string; cameras?: string[]; unit?: string; targets: Target[]; intervalSeconds: number }));
    return reply.status(201).send({ ...t, nextAt: null });
  });
  app.post('/api/walls/:id/tours/:tour/:what', {
    schema: {
      tags: ['walls'], params: Type.Object({ id: RowId, tour: RowId, what: Type.Union(['start', 'pause', 'resume', 'stop'].map((w) => Type.Literal(w))) }),
      response: { 200: TourBody },
    },
  }, async (req) => {
    const actor = actorOf(req);
    const { id, tour, what } = req.params as { id: number; tour: number; what: 'start' | 'pause' | 'resume' | 'stop' };
    return guard(() => walls.tourControl(actor, id, tour, what));
  });
  app.delete('/api/walls/:id/tours/:tour', { schema: { tags: ['walls'], params: Type.Object({ id: RowId, tour: RowId }) } }, async (req, reply) => {
    const actor = actorOf(req);
    const { id, tour } = req.params as { id: number; tour: number };
    guard(() => walls.tourControl(actor, id, tour, 'delete'));
    return reply.status(204).send();
  });

  // Alarm pop-ups.
  app.get('/api/walls/:id/alarms', { schema: { tags: ['walls'], params: idParams, response: { 200: Type.Object({ alarms: Type.Array(AlarmBody) }) } } }, async (req) => {
    const { subject } = requireAuth(req);
    return guard(() => ({ alarms: walls.alarms(subject, (req.params as { id: number }).id).map(alarmBody) }));
  });
  app.post('/api/walls/:id/alarms', { schema: { tags: ['walls'], params: idParams, body: AlarmCreate, response: { 201: AlarmBody } } }, async (req, reply) => {
    const actor = actorOf(req);
    const a = guard(() => walls.raise(actor, (req.params as { id: number }).id, req.body as { camera: string; target?: Target; preset?: string; note?: string }));
    return reply.status(201).send(alarmBody(a));
  });
  app.post('/api/walls/:id/alarms/:alarm/ack', { schema: { tags: ['walls'], params: Type.Object({ id: RowId, alarm: RowId }), response: { 200: AlarmBody } } }, async (req) => {
    const actor = actorOf(req);
    const { id, alarm } = req.params as { id: number; alarm: number };
    return alarmBody(guard(() => walls.ack(actor, id, alarm)));
  });

  // Display devices: an administrator issues a token for a screen (shown once) and may revoke it.
  const online = new Map<number, number>();
  app.get('/api/walls/:id/displays', { schema: { tags: ['walls'], params: idParams, response: { 200: Type.Object({ displays: Type.Array(DisplayBody) }) } } }, async (req) => {
    const actor = actorOf(req);
    return guard(() => ({ displays: walls.displays(actor, (req.params as { id: number }).id).map((d) => ({ ...d, online: (online.get(d.id) ?? 0) > 0 })) }));
  });
  app.post('/api/walls/:id/displays', {
    schema: { tags: ['walls'], params: idParams, body: DisplayCreate, response: { 201: Type.Intersect([DisplayBody, Type.Object({ token: Type.String(), url: Type.String() })]) } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const id = (req.params as { id: number }).id;
    const token = DISPLAY_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const d = guard(() => walls.addDisplay(actor, id, { ...(req.body as { screen: number; name: string }), token }));
    // The token rides in the fragment: browsers never send it, so it stays out of every request line and log.
    return reply.status(201).header('cache-control', 'no-store').send({ ...d, online: false, token, url: `/wall/${id}/screen/${d.screen + 1}#token=${token}` });
  });
  app.delete('/api/walls/:id/displays/:display', { schema: { tags: ['walls'], params: Type.Object({ id: RowId, display: RowId }) } }, async (req, reply) => {
    const actor = actorOf(req);
    const { id, display } = req.params as { id: number; display: number };
    guard(() => walls.revokeDisplay(actor, id, display));
    for (const s of displaySockets) if (s.display === display) s.ws.close(4401, 'display revoked');
    return reply.status(204).send();
  });

  // ---- what a display device asks, with its own token ----------------------------------------------------------
  const requireDisplay = (req: FastifyRequest) => {
    const token = bearerOf(req.headers.authorization);
    const found = token?.startsWith(DISPLAY_TOKEN_PREFIX) ? walls.display(token) : undefined;
    // A display token refused is audited (repeats folded into one entry): a revoked screen still trying, or a guess.
    if (!found) throw new AppError('unauthenticated', 'this display is not (or no longer) registered: ask an administrator for a display link', { reason: 'display-token' }, { refusal: true });
    return found;
  };
  const publicHost = (host: string | undefined) => (host ?? '127.0.0.1').replace(/:\d+$/, '');
  const media = (display: number, camera: string, profile: Profile, host: string | undefined) => {
    const { token, expires } = deps.tokens.sign({ userId: 0, session: wallSession(display), camera, profile, action: 'wall' });
    return {
      camera, profile, token, tokenExpires: expires, playlistUrl: playlistUrl(camera, profile, token),
      ...(deps.webrtc ? { whepUrl: whepUrl(camera, profile, token) } : {}),
      ...(deps.rtsp ? { rtspUrl: `rtsp://${deps.rtsp.announcedHost || publicHost(host)}:${deps.rtsp.port}${rtspPath(camera, profile, token)}` } : {}),
    };
  };
  const displayState = (found: { display: { id: number; screen: number; name: string }; wall: WallRecord }, host: string | undefined): DisplayStateT => {
    const { display, wall } = found;
    const screen = wall.state.screens[display.screen]!;
    const pictures: DisplayPictureT[] = walls.placed(wall, display.screen).map((p) => {
      const base = picture(p);
      const c: Content | null = p.content;
      return {
        ...base,
        ...(c && p.status === 'ok' && !p.hidden ? { media: media(display.id, c.camera, p.profile, host) } : {}),
        ...(p.upcoming ? { next: media(display.id, p.upcoming.camera, p.profile, host) } : {}),
      };
    });
    return { wall: { id: wall.id, name: wall.name, rows: wall.rows, cols: wall.cols }, screen: display.screen, kind: screen.kind, version: wall.version, display: display.name, pictures };
  };

  app.get('/api/display/state', { config: { public: true }, schema: { tags: ['display'], response: { 200: DisplayStateBody } } }, async (req, reply) => {
    const found = requireDisplay(req);
    walls.seen(found.display.id);
    reply.header('cache-control', 'no-store');
    return displayState(found, req.headers.host);
  });
  const onMyScreen = (req: FastifyRequest) => {
    const found = requireDisplay(req);
    const { camera } = (req.body ?? req.params) as { camera: string };
    if (!walls.onScreen(found.wall, found.display.screen, camera)) {
      throw new AppError('forbidden', 'this camera is not on this display\'s screen (or the wall may no longer show it)', { reason: 'wall-not-on-screen' });
    }
    return found;
  };
  app.post('/api/display/token', {
    config: { public: true }, schema: { tags: ['display'], body: Type.Object({ camera: CameraId, profile: ProfileName }, { additionalProperties: false }), response: { 200: TokenBody } },
  }, async (req) => {
    const found = onMyScreen(req);
    const { camera, profile } = req.body as { camera: string; profile: Profile };
    const m = media(found.display.id, camera, profile, req.headers.host);
    return { token: m.token, tokenExpires: m.tokenExpires };
  });
  app.get('/api/display/streams/:camera/:profile', {
    config: { public: true }, schema: { tags: ['display'], params: Type.Object({ camera: CameraId, profile: ProfileName }), response: { 200: StreamInfoBody } },
  }, async (req) => {
    onMyScreen(req);
    const { camera, profile } = req.params as { camera: string; profile: Profile };
    return deps.hub.info(camera, profile) ?? { camera, profile, state: 'stopped', viewers: 0, since: Date.now(), attempts: 0 };
  });

  // ---- WebSockets ------------------------------------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const operatorSockets = new Set<{ ws: WebSocket; wall: number; secret: string; subject: ReturnType<typeof subjectOf> }>();
  const displaySockets = new Set<{ ws: WebSocket; display: number; wall: number; host: string | undefined }>();
  const pending = new Set<number>();
  let unnamed = 0;
  const flush = () => {
    const ids = [...pending];
    pending.clear();
    for (const id of ids) {
      const w = walls.get(id);
      // One body for every console of the wall, made only if one follows it.
      let text: string | undefined;
      for (const s of operatorSockets) {
        if (s.wall !== id) continue;
        if (!w) { s.ws.close(4404, 'wall deleted'); continue; }
        if (s.ws.bufferedAmount > MAX_BUFFERED) { s.ws.close(4408, 'too slow'); continue; }
        try {
          walls.wallFor(s.subject, id);
        } catch {
          // Her rights to the wall ended: the socket ends with them.
          s.ws.close(4403, 'no longer yours');
          continue;
        }
        text ??= JSON.stringify({ type: 'wall', wall: wallBody(w) });
        s.ws.send(text);
      }
      for (const s of displaySockets) {
        if (s.wall !== id) continue;
        const found = walls.displayById(s.display);
        if (!found) { s.ws.close(4401, 'display revoked'); continue; }
        if (s.ws.bufferedAmount > MAX_BUFFERED) { s.ws.close(4408, 'too slow'); continue; }
        s.ws.send(JSON.stringify({ type: 'state', state: displayState(found, s.host) }));
      }
    }
  };
  walls.on('change', (c) => {
    if (pending.size === 0) setImmediate(flush);
    pending.add(c.wall);
  });
  const recheck = setInterval(() => {
    for (const s of operatorSockets) {
      // Her session, her account and her right to the wall are asked again: a role taken away ends the socket.
      const session = deps.sessions.find(s.secret);
      const user = session ? deps.catalog.user(session.userId) : undefined;
      if (!session || !user || user.disabled) { s.ws.close(4401, 'session ended'); continue; }
      s.subject = subjectOf(user);
      try { walls.wallFor(s.subject, s.wall); } catch { s.ws.close(4403, 'no longer yours'); }
    }
    for (const s of displaySockets) if (!walls.displayById(s.display)) s.ws.close(4401, 'display revoked');
  }, RECHECK_MS);
  recheck.unref();
  // Open sockets are ended before the server waits for its connections to close (an upgraded one never would).
  app.addHook('preClose', async () => {
    clearInterval(recheck);
    for (const s of operatorSockets) s.ws.terminate();
    for (const s of displaySockets) s.ws.terminate();
  });

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0]!;
    const op = /^\/api\/walls\/(\d{1,12})\/ws$/.exec(path);
    if (op) {
      const secret = sessionCookieOf(req.headers.cookie);
      const session = secret ? deps.sessions.find(secret) : undefined;
      const user = session ? deps.catalog.user(session.userId) : undefined;
      if (!session || !user || user.disabled) return refuseUpgrade(socket, 401, 'unauthenticated', 'login-first', 'the wall\'s state is for logged-in consoles');
      if (!req.headers.origin || !sameOrigin(req.headers.origin, req.headers.host)) return refuseUpgrade(socket, 403, 'forbidden', 'cross-site', 'only this origin\'s pages may follow a wall');
      const subject = subjectOf(user);
      let w: WallRecord;
      try {
        w = walls.wallFor(subject, Number(op[1]));
      } catch {
        return refuseUpgrade(socket, 404, 'not-found', 'wall-unknown', `no wall ${op[1]} among yours`);
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const entry = { ws, wall: w.id, secret: secret!, subject };
        operatorSockets.add(entry);
        ws.on('close', () => operatorSockets.delete(entry));
        ws.on('error', () => operatorSockets.delete(entry));
        ws.on('message', () => undefined);
        ws.send(JSON.stringify({ type: 'wall', wall: wallBody(w) }));
      });
      return;
    }
    if (path !== '/api/display/ws') return;
    if (unnamed >= MAX_UNNAMED) return refuseUpgrade(socket, 403, 'busy', 'display-hello-busy', 'too many displays are saying hello at once: try again');
    unnamed++;
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // The display says who it is in its first message (a browser cannot set headers on a WebSocket, and a token in
      // the URL would be written to logs on the way).
      let named = false;
      const hello = setTimeout(() => ws.close(4401, 'say hello first'), HELLO_MS);
      ws.once('close', () => { if (!named) { named = true; unnamed--; clearTimeout(hello); } });
      ws.once('message', (data) => {
        clearTimeout(hello);
        if (!named) { named = true; unnamed--; }
        const token = helloField(data, 'token');
        const found = typeof token === 'string' && token.startsWith(DISPLAY_TOKEN_PREFIX) ? walls.display(token) : undefined;
        if (!found) {
          refuseHello(deps.audit, ws, { remote: req.socket.remoteAddress, key: 'display-ws', route: '/api/display/ws', reason: 'display-token', message: 'display token refused' });
          return;
        }
        const entry = { ws, display: found.display.id, wall: found.wall.id, host: req.headers.host };
        displaySockets.add(entry);
        online.set(entry.display, (online.get(entry.display) ?? 0) + 1);
        walls.seen(entry.display);
        walls.emit('change', { wall: entry.wall, kind: 'displays' });
        const gone = () => {
          if (!displaySockets.delete(entry)) return;
          online.set(entry.display, Math.max(0, (online.get(entry.display) ?? 1) - 1));
          walls.emit('change', { wall: entry.wall, kind: 'displays' });
        };
        ws.on('close', gone);
        ws.on('error', gone);
        ws.send(JSON.stringify({ type: 'state', state: displayState(found, req.headers.host) }));
      });
    });
  });
}

/** isDisplayToken says whether a bearer token is a display's (the session check leaves those to the wall). */
export function isDisplayToken(token: string | undefined): boolean {
  return token?.startsWith(DISPLAY_TOKEN_PREFIX) ?? false;
}

export type { Target };
