// Camera health: the online rate of a unit and its children, the offline list of a unit, one camera's history.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { requireAuth } from '../auth-plugin.js';
import { CameraHealthBody, CameraId, OfflineBody, OfflineQuery, UnitCode, UnitHealthReport } from '../schemas.js';
import { unitNode } from './tree-routes.js';

/** healthRoutes serves /api/health/units/:code, /api/health/units/:code/offline and /api/cameras/:id/health. */
export async function healthRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const visibleUnit = (req: Parameters<typeof requireAuth>[0]) => {
    const { subject } = requireAuth(req);
    const { code } = req.params as { code: string };
    if (!deps.access.canSeeUnit(subject, code)) throw new AppError('not-found', `no unit ${code} in your part of the tree`, { reason: 'unit-unknown', unit: code });
    return { subject, code };
  };

  app.get('/api/health/units/:code', {
    schema: { tags: ['health'], params: Type.Object({ code: UnitCode }), response: { 200: UnitHealthReport } },
  }, async (req) => {
    const { subject, code } = visibleUnit(req);
    const tree = deps.access.tree;
    const last = deps.health.lastSweep;
    // A sweep covers the whole tree: its totals are for those who see the whole tree; others learn when it ran.
    const sweep = last && (subject.unit === tree.root.code ? last : { startedAt: last.startedAt, durationMs: last.durationMs });
    return {
      unit: unitNode(deps, tree.get(code)!),
      children: tree.children(code).map((u) => unitNode(deps, u)),
      intervalMs: deps.health.intervalMs,
      ...(sweep ? { sweep } : {}),
    };
  });

  app.get('/api/health/units/:code/offline', {
    schema: { tags: ['health'], params: Type.Object({ code: UnitCode }), querystring: OfflineQuery, response: { 200: OfflineBody } },
  }, async (req) => {
    const { subject, code } = visibleUnit(req);
    const { offset, limit, problem } = req.query as { offset: number; limit: number; problem: 'offline' | 'credentials' };
    const offline: Array<{ id: string; since: number; reason?: string; reasonKind?: string }> = [];
    for (const id of deps.access.camerasUnder(code)) {
      const h = deps.health.camera(id);
      if (!h || !deps.access.may(subject, 'live', id)) continue;
      if (problem === 'offline' && h.state === 'offline') offline.push({ id, since: h.since, ...(h.reason ? { reason: h.reason, reasonKind: h.reasonKind ?? 'other' } : {}) });
      if (problem === 'credentials' && h.credentials === 'rejected') offline.push({ id, since: h.credentialsAt, ...(h.credentialsReason ? { reason: h.credentialsReason } : {}), reasonKind: 'unauthorized' });
    }
    // The newest outages first: they are the ones someone can still act on today.
    offline.sort((a, b) => b.since - a.since || (a.id < b.id ? -1 : 1));
    return {
      total: offline.length,
      items: offline.slice(offset, offset + limit).map((o) => {
        const c = deps.catalog.summary(o.id)!;
        return { ...o, name: c.name, unit: c.unit, unitName: deps.catalog.unitName(c.unit) ?? c.unit };
      }),
    };
  });

  app.get('/api/cameras/:id/health', {
    schema: { tags: ['health'], params: Type.Object({ id: CameraId }), querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }) }), response: { 200: CameraHealthBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { id } = req.params as { id: string };
    const { limit } = req.query as { limit: number };
    const h = deps.access.may(subject, 'live', id) ? deps.health.camera(id) : undefined;
    if (!h) throw new AppError('not-found', `no camera ${id} among yours`, { reason: 'camera-unknown', camera: id });
    return {
      camera: id, state: h.state, failures: h.failures,
      ...(h.since ? { since: h.since } : {}),
      ...(h.checkedAt ? { checkedAt: h.checkedAt } : {}),
      ...(h.latencyMs !== undefined ? { latencyMs: h.latencyMs } : {}),
      ...(h.reason && h.state === 'offline' ? { reason: h.reason, reasonKind: h.reasonKind ?? 'other' } : {}),
      ...(h.nextDue > Date.now() ? { nextProbeAt: h.nextDue } : {}),
      credentials: h.credentials,
      ...(h.credentialsAt ? { credentialsCheckedAt: h.credentialsAt } : {}),
      ...(h.credentials === 'rejected' && h.credentialsReason ? { credentialsReason: h.credentialsReason } : {}),
      history: deps.health.history(id, limit),
    };
  });
}
