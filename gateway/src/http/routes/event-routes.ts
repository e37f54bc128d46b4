// The event centre over HTTP: history and acknowledgement, a WebSocket that pushes new events and acknowledgements
// to the consoles that may see them, and the webhooks of administrators.
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAdmin, requireAuth, sameOrigin, sessionCookieOf, subjectOf } from '../auth-plugin.js';
import { refuseUpgrade } from '../upgrade.js';
import { EventBody, EventQueryBody, RowId, WebhookBody, WebhookCreate } from '../schemas.js';
import { EVENT_KINDS, type EventKind, type GatewayEvent } from '../../events/event-center.js';
import type { Subject } from '../../access/access-index.js';

/** MAX_BUFFERED is how much a slow console may hold unsent before it is cut off (it reconnects and reads history). */
const MAX_BUFFERED = 1 << 20;
/** RECHECK_MS is how often an open socket's session is checked (a logout or an expiry closes it). */
const RECHECK_MS = 15_000;

/** eventRoutes serves /api/events, /api/events/ws and /api/webhooks. */
export async function eventRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const events = deps.events;
  const reach = (subject: Subject) => ({ units: deps.access.tree.subtree(subject.unit).map((u) => u.code), cameras: deps.access.granted(subject) });
  /** sees says whether a reader may see an event: its unit is in her subtree, or it is about a camera pushed down to her. */
  const sees = (subject: Subject, e: GatewayEvent) => deps.access.canSeeUnit(subject, e.unit) || (e.camera !== null && deps.access.may(subject, 'live', e.camera));
  const body = (e: GatewayEvent) => ({
    ...e,
    unitName: deps.catalog.unitName(e.unit) ?? e.unit,
    cameraName: e.camera ? deps.catalog.summary(e.camera)?.name ?? e.camera : null,
  });

  app.get('/api/events', { schema: { tags: ['events'], querystring: EventQueryBody, response: { 200: Type.Object({ events: Type.Array(EventBody), unacked: Type.Integer() }) } } }, async (req) => {
    const { subject } = requireAuth(req);
    const q = req.query as { kind?: EventKind; unit?: string; acked?: boolean; before?: number; from?: number; limit: number };
    if (q.unit && !deps.access.canSeeUnit(subject, q.unit)) throw new AppError('not-found', `no unit ${q.unit} in your part of the tree`, { reason: 'unit-unknown', unit: q.unit });
    const r = events.query({
      ...reach(subject), limit: q.limit, ...(q.kind ? { kind: q.kind } : {}), ...(q.acked !== undefined ? { acked: q.acked } : {}),
      ...(q.before !== undefined ? { before: q.before } : {}), ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.unit ? { unit: deps.access.tree.subtree(q.unit).map((u) => u.code) } : {}),
    });
    return { events: r.events.map(body), unacked: r.unacked };
  });

  app.post('/api/events/ack', {
    schema: { tags: ['events'], body: Type.Object({ ids: Type.Array(RowId, { minItems: 1, maxItems: 500 }) }, { additionalProperties: false }), response: { 200: Type.Object({ acked: Type.Array(Type.Integer()) }) } },
  }, async (req) => {
    const { subject, user } = requireAuth(req);
    const { ids } = req.body as { ids: number[] };
    const mine = ids.filter((id) => { const e = events.get(id); return e !== undefined && sees(subject, e); });
    if (mine.length < ids.length) throw new AppError('not-found', 'no such event among yours', { reason: 'event-unknown' });
    const acked = events.ack(mine, user.displayName || user.username);
    if (acked.length > 0) auditBy(deps, req, 'event.ack', { detail: { event: acked.length === 1 ? acked[0]! : acked.length } });
    return { acked };
  });

  // Webhooks: an administrator's unit subtree's events, of the kinds she chose.
  app.get('/api/webhooks', { schema: { tags: ['events'], response: { 200: Type.Object({ webhooks: Type.Array(WebhookBody) }) } } }, async (req) => {
    const { subject } = requireAdmin(req, 'manage webhooks');
    return { webhooks: deps.webhooks.list(deps.access.tree.subtree(subject.unit).map((u) => u.code)).map((h) => ({ ...h, unitName: deps.catalog.unitName(h.unit) ?? h.unit })) };
  });

  app.post('/api/webhooks', { schema: { tags: ['events'], body: WebhookCreate, response: { 201: Type.Intersect([WebhookBody, Type.Object({ secret: Type.String() })]) } } }, async (req, reply) => {
    const { subject, user } = requireAdmin(req, 'manage webhooks');
    const b = req.body as { url: string; kinds: EventKind[]; unit?: string };
    let u: URL;
    try { u = new URL(b.url); } catch { throw new AppError('bad-request', 'the receiver URL is not a URL', { reason: 'webhook-url' }); }
    if (!['http:', 'https:'].includes(u.protocol) || u.username || u.password) throw new AppError('bad-request', 'the receiver URL is http:// or https://, without credentials in it', { reason: 'webhook-url' });
    const unit = b.unit ?? subject.unit;
    if (!deps.access.canSeeUnit(subject, unit)) throw new AppError('not-found', `no unit ${unit} in your part of the tree`, { reason: 'unit-unknown', unit });
    const made = deps.webhooks.create({ unit, url: u.toString(), kinds: [...new Set(b.kinds)], createdBy: user.id });
    auditBy(deps, req, 'webhook.change', { detail: { webhook: made.id, unit, kinds: made.kinds.join(','), url: `${u.protocol}//${u.host}` } });
    return reply.status(201).send({ ...made, unitName: deps.catalog.unitName(unit) ?? unit });
  });

  app.delete('/api/webhooks/:id', { schema: { tags: ['events'], params: Type.Object({ id: RowId }) } }, async (req, reply) => {
    const { subject } = requireAdmin(req, 'manage webhooks');
    const { id } = req.params as { id: number };
    const h = deps.webhooks.get(id);
    if (!h || !deps.access.canSeeUnit(subject, h.unit)) throw new AppError('not-found', 'no such webhook among yours', { reason: 'webhook-unknown' });
    deps.webhooks.delete(id);
    auditBy(deps, req, 'webhook.change', { detail: { webhook: id, deleted: true } });
    return reply.status(204).send();
  });

  // The WebSocket: the session cookie (or ?t is not accepted here: events are for logged-in consoles), same origin.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const sockets = new Set<{ ws: WebSocket; subject: Subject; secret: string }>();
  events.on('events', (batch) => {
    for (const s of sockets) {
      const mine = batch.filter((e) => sees(s.subject, e));
      if (mine.length === 0) continue;
      if (s.ws.bufferedAmount > MAX_BUFFERED) { s.ws.close(4408, 'too slow'); continue; }
      s.ws.send(JSON.stringify({ type: 'events', events: mine.map(body) }));
    }
  });
  events.on('ack', (a) => {
    for (const s of sockets) {
      const mine = a.ids.filter((id) => { const e = events.get(id); return e !== undefined && sees(s.subject, e); });
      if (mine.length > 0) s.ws.send(JSON.stringify({ type: 'ack', ids: mine, by: a.by, at: a.at }));
    }
  });
  const recheck = setInterval(() => {
    for (const s of sockets) if (!deps.sessions.find(s.secret)) s.ws.close(4401, 'session ended');
  }, RECHECK_MS);
  recheck.unref();
  // Open sockets are ended before the server waits for its connections to close (an upgraded one never would).
  app.addHook('preClose', async () => {
    clearInterval(recheck);
    for (const s of sockets) s.ws.terminate();
  });

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== '/api/events/ws') return;
    const refuse = (status: number, code: string, reason: string) => refuseUpgrade(socket, status, code, reason, 'the event stream is for logged-in consoles of this origin');
    const secret = sessionCookieOf(req.headers.cookie);
    const session = secret ? deps.sessions.find(secret) : undefined;
    const user = session ? deps.catalog.user(session.userId) : undefined;
    if (!session || !user || user.disabled) return refuse(401, 'unauthenticated', 'login-first');
    // A page of another site could open a socket with the user's cookie: only this origin's pages may.
    if (!req.headers.origin || !sameOrigin(req.headers.origin, req.headers.host)) return refuse(403, 'forbidden', 'cross-site');
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const entry = { ws, subject: subjectOf(user), secret: secret! };
      sockets.add(entry);
      ws.on('close', () => sockets.delete(entry));
      ws.on('error', () => sockets.delete(entry));
      ws.on('message', () => undefined);
      ws.send(JSON.stringify({ type: 'hello', kinds: EVENT_KINDS }));
    });
  });
}

