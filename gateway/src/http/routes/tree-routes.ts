// The governance tree as each user may see it: her unit as root, lazy children, search, camera details.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { OrgUnit } from '../../access/org-tree.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { requireAuth } from '../auth-plugin.js';
import { CameraBody, CameraId, ChildrenBody, SearchBody, SearchQuery, TreeRootBody, UnitCode } from '../schemas.js';

/** unitNode is how a unit is shown: counts, and the online rate of its subtree. */
export function unitNode(deps: HttpDeps, u: OrgUnit) {
  return {
    code: u.code, name: u.name, level: u.level, parent: u.parent,
    cameraCount: deps.access.countUnder(u.code), childCount: deps.access.tree.children(u.code).length,
    health: deps.health.unit(u.code),
  };
}

/** treeRoutes serves /api/tree, /api/units/:code/children, /api/search and /api/cameras/:id. */
export async function treeRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const node = (u: OrgUnit) => unitNode(deps, u);

  app.get('/api/tree', { schema: { tags: ['tree'], response: { 200: TreeRootBody } } }, async (req) => {
    const { subject } = requireAuth(req);
    const tree = deps.access.tree;
    const root = tree.get(subject.unit);
    if (!root) throw new AppError('not-found', `your unit ${subject.unit} is not in the tree`);
    const granted = deps.access.granted(subject).map((id) => deps.catalog.summary(id)).filter((c) => c !== undefined)
      .map((c) => ({ ...c, health: deps.health.camera(c.id)?.state ?? 'unknown' }));
    return { root: node(root), path: tree.path(subject.unit).slice(0, -1).map((u) => ({ code: u.code, name: u.name })), granted };
  });

  app.get('/api/units/:code/children', {
    schema: { tags: ['tree'], params: Type.Object({ code: UnitCode }), response: { 200: ChildrenBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { code } = req.params as { code: string };
    if (!deps.access.canSeeUnit(subject, code)) throw new AppError('not-found', `no unit ${code} in your part of the tree`);
    return {
      units: deps.access.tree.children(code).map(node),
      cameras: deps.catalog.camerasOf(code).filter((c) => deps.access.may(subject, 'live', c.id)).map((c) => ({ ...c, health: deps.health.camera(c.id)?.state ?? 'unknown' })),
    };
  });

  app.get('/api/search', { schema: { tags: ['tree'], querystring: SearchQuery, response: { 200: SearchBody } } }, async (req) => {
    const { subject } = requireAuth(req);
    const { q, limit } = req.query as { q: string; limit: number };
    const needle = q.trim().toLowerCase();
    const units = [];
    for (const u of deps.access.tree.subtree(subject.unit)) {
      if (units.length >= limit) break;
      if (u.name.toLowerCase().includes(needle) || u.code.startsWith(needle)) units.push(node(u));
    }
    const cameras = [];
    let totalCameras = 0;
    for (const id of deps.access.visible(subject)) {
      const c = deps.catalog.summary(id);
      if (!c || !(c.name.toLowerCase().includes(needle) || c.id.includes(needle))) continue;
      totalCameras++;
      if (cameras.length < limit) cameras.push(c);
    }
    return { units, cameras, totalCameras };
  });

  app.get('/api/cameras/:id', {
    schema: { tags: ['cameras'], params: Type.Object({ id: CameraId }), response: { 200: CameraBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { id } = req.params as { id: string };
    // A camera outside the caller's reach answers as if it did not exist: its id tells nothing.
    if (!deps.access.may(subject, 'live', id)) throw new AppError('not-found', `no camera ${id} among yours`);
    const c = deps.catalog.camera(id);
    if (!c) throw new AppError('not-found', `no camera ${id} among yours`);
    return {
      id: c.id, name: c.name, unit: c.unit, kind: c.kind, latitude: c.latitude, longitude: c.longitude,
      unitPath: deps.access.tree.path(c.unit).map((u) => u.name),
      profiles: c.subUrl || c.onvifUrl ? ['main', 'sub'] : ['main'],
      onvif: c.onvifUrl !== null,
      mayPtz: c.onvifUrl !== null && deps.access.may(subject, 'ptz', id),
      transport: c.transport,
    };
  });
}
