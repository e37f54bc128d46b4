// Saved views of the live grid: a user's own, and those shared within her unit. A view keeps camera ids only; each
// reader sees the cameras she may view, the others are left out and counted.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAuth } from '../auth-plugin.js';
import { RowId, ViewBody, ViewSave } from '../schemas.js';
import type { SavedView, ViewTile } from '../../catalog/view-store.js';
import type { Subject } from '../../access/access-index.js';

/** viewRoutes serves /api/views. */
export async function viewRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const body = (subject: Subject, v: SavedView) => {
    let hidden = 0;
    const tiles = v.tiles.map((t) => {
      if (!t) return null;
      if (!deps.access.may(subject, 'live', t.camera)) { hidden++; return null; }
      return { camera: t.camera, name: deps.catalog.summary(t.camera)?.name ?? t.camera, ...(t.profile ? { profile: t.profile } : {}) };
    });
    return {
      id: v.id, name: v.name, layout: v.layout, tiles, shared: v.shared, mine: v.owner === subject.userId,
      ownerName: deps.catalog.user(v.owner)?.displayName ?? `#${v.owner}`, hidden, updatedAt: v.updatedAt,
    };
  };
  const checked = (subject: Subject, b: { name: string; layout: number; tiles: ViewTile[]; shared: boolean }) => {
    if (b.tiles.length > b.layout) throw new AppError('bad-request', `a ${b.layout} split has ${b.layout} tiles, not ${b.tiles.length}`, { reason: 'invalid-maxItems', field: 'tiles', limit: b.layout });
    const outside = b.tiles.find((t) => t && !deps.access.may(subject, 'live', t.camera));
    if (outside) throw new AppError('not-found', `no camera ${outside.camera} among yours`, { reason: 'camera-unknown', camera: outside.camera });
    return { name: b.name.trim(), layout: b.layout, tiles: b.tiles.map((t) => (t ? { camera: t.camera, ...(t.profile ? { profile: t.profile } : {}) } : null)), shared: b.shared };
  };
  const own = (subject: Subject, id: number) => {
    const v = deps.savedViews.get(id);
    if (!v || (v.owner !== subject.userId && !(v.shared && v.unit === subject.unit))) throw new AppError('not-found', `no view ${id} of yours`, { reason: 'view-unknown' });
    if (v.owner !== subject.userId) throw new AppError('forbidden', 'only the owner changes a view', { reason: 'view-not-yours' });
    return v;
  };

  app.get('/api/views', { schema: { tags: ['views'], response: { 200: Type.Object({ views: Type.Array(ViewBody) }) } } }, async (req) => {
    const { subject } = requireAuth(req);
    return { views: deps.savedViews.visibleTo(subject.userId, subject.unit).map((v) => body(subject, v)) };
  });

  app.post('/api/views', { schema: { tags: ['views'], body: ViewSave, response: { 201: ViewBody } } }, async (req, reply) => {
    const { subject } = requireAuth(req);
    const v = checked(subject, req.body as { name: string; layout: number; tiles: ViewTile[]; shared: boolean });
    if (deps.savedViews.nameTaken(subject.userId, v.name)) throw new AppError('conflict', `you already have a view named ${JSON.stringify(v.name)}`, { reason: 'view-name-taken', name: v.name });
    const saved = deps.savedViews.create({ owner: subject.userId, unit: subject.unit, ...v });
    auditBy(deps, req, 'view.save', { detail: { view: saved.id, name: saved.name, layout: saved.layout, shared: saved.shared } });
    return reply.status(201).send(body(subject, saved));
  });

  app.put('/api/views/:id', { schema: { tags: ['views'], params: Type.Object({ id: RowId }), body: ViewSave, response: { 200: ViewBody } } }, async (req) => {
    const { subject } = requireAuth(req);
    const { id } = req.params as { id: number };
    own(subject, id);
    const v = checked(subject, req.body as { name: string; layout: number; tiles: ViewTile[]; shared: boolean });
    if (deps.savedViews.nameTaken(subject.userId, v.name, id)) throw new AppError('conflict', `you already have a view named ${JSON.stringify(v.name)}`, { reason: 'view-name-taken', name: v.name });
    const saved = deps.savedViews.update(id, v);
    auditBy(deps, req, 'view.save', { detail: { view: id, name: saved.name, layout: saved.layout, shared: saved.shared } });
    return body(subject, saved);
  });

  app.delete('/api/views/:id', { schema: { tags: ['views'], params: Type.Object({ id: RowId }) } }, async (req, reply) => {
    const { subject } = requireAuth(req);
    const { id } = req.params as { id: number };
    const v = own(subject, id);
    deps.savedViews.delete(id);
    auditBy(deps, req, 'view.delete', { detail: { view: id, name: v.name } });
    return reply.status(204).send();
  });
}
