// The governance tree as each user may see it: her unit as root, lazy children, search, camera details.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { OrgUnit } from '../../access/org-tree.js';
import type { Subject } from '../../access/access-index.js';
import type { Camera } from '../../catalog/catalog.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { requireAuth } from '../auth-plugin.js';
import { CameraBody, CameraId, ChildrenBody, SearchBody, SearchQuery, TreeRootBody, UnitBody, UnitCamerasBody, UnitCamerasQuery, UnitCode } from '../schemas.js';

/** unitNode is how a unit is shown: counts, and the online rate of its subtree. */
export function unitNode(deps: HttpDeps, u: OrgUnit) {
  return {
    code: u.code, name: u.name, level: u.level, parent: u.parent,
    cameraCount: deps.access.countUnder(u.code), childCount: deps.access.tree.children(u.code).length,
    health: deps.health.unit(u.code),
  };
}

/** cameraBody is a camera as the API answers it to a subject (her PTZ right included). */
export function cameraBody(deps: HttpDeps, subject: Subject, c: Camera) {
  return {
    id: c.id, name: c.name, unit: c.unit, kind: c.kind, latitude: c.latitude, longitude: c.longitude,
    unitPath: deps.access.tree.path(c.unit).map((u) => u.name),
    profiles: c.subUrl || c.onvifUrl ? ['main' as const, 'sub' as const] : ['main' as const],
    onvif: c.onvifUrl !== null,
    mayPtz: c.onvifUrl !== null && deps.access.may(subject, 'ptz', c.id),
    transport: c.transport,
  };
}

/** treeRoutes serves /api/tree, /api/units/:code/children, /api/search and /api/cameras/:id. */
export async function treeRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const node = (u: OrgUnit) => unitNode(deps, u);

  app.get('/api/tree', { schema: { tags: ['tree'], response: { 200: TreeRootBody } } }, async (req) => {
    const { subject } = requireAuth(req);
    const tree = deps.access.tree;
    const root = tree.get(subject.unit);
    if (!root) throw new AppError('not-found', `your unit ${subject.unit} is not in the tree`, { reason: 'own-unit-missing', unit: subject.unit });
    const granted = deps.access.granted(subject).map((id) => deps.catalog.summary(id)).filter((c) => c !== undefined)
      .map((c) => ({ ...c, health: deps.health.camera(c.id)?.state ?? 'unknown' }));
    return { root: node(root), path: tree.path(subject.unit).slice(0, -1).map((u) => ({ code: u.code, name: u.name })), granted };
  });

  app.get('/api/units/:code/children', {
    schema: { tags: ['tree'], params: Type.Object({ code: UnitCode }), response: { 200: ChildrenBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { code } = req.params as { code: string };
    if (!deps.access.canSeeUnit(subject, code)) throw new AppError('not-found', `no unit ${code} in your part of the tree`, { reason: 'unit-unknown', unit: code });
    return {
      units: deps.access.tree.children(code).map(node),
      cameras: deps.catalog.camerasOf(code).filter((c) => deps.access.may(subject, 'live', c.id)).map((c) => ({ ...c, health: deps.health.camera(c.id)?.state ?? 'unknown' })),
    };
  });

  /** pathFrom lists the units from the caller's own unit down to code (inclusive). */
  const pathFrom = (own: string, code: string) => {
    const full = deps.access.tree.path(code);
    const at = full.findIndex((u) => u.code === own);
    return at < 0 ? [] : full.slice(at).map((u) => ({ code: u.code, name: u.name }));
  };

  app.get('/api/search', { schema: { tags: ['tree'], querystring: SearchQuery, response: { 200: SearchBody } } }, async (req) => {
    const { subject } = requireAuth(req);
    const { q, limit, offset, state, kind, what } = req.query as { q: string; limit: number; offset: number; state?: string; kind?: string; what: 'all' | 'units' | 'cameras' };
    const needle = q.trim().toLowerCase();
    const units = [];
    let totalUnits = 0;
    if (what !== 'cameras' && needle && !state && !kind) {
      for (const u of deps.access.tree.subtree(subject.unit)) {
        if (!(u.name.toLowerCase().includes(needle) || u.code.startsWith(needle))) continue;
        totalUnits++;
        if (units.length < limit) units.push({ ...node(u), path: pathFrom(subject.unit, u.code).slice(0, -1) });
      }
    }
    const cameras = [];
    let totalCameras = 0;
    if (what !== 'units' && (needle || state || kind)) {
      for (const id of deps.access.visible(subject)) {
        const c = deps.catalog.summary(id);
        if (!c || (needle && !(c.name.toLowerCase().includes(needle) || c.id.includes(needle)))) continue;
        if (kind && c.kind !== kind) continue;
        const health = deps.health.camera(id)?.state ?? 'unknown';
        if (state && health !== state) continue;
        totalCameras++;
        if (totalCameras > offset && cameras.length < limit) {
          const inside = deps.access.tree.contains(subject.unit, c.unit);
          cameras.push({ ...c, health, granted: !inside, path: inside ? pathFrom(subject.unit, c.unit) : [] });
        }
      }
    }
    return { units, totalUnits, cameras, totalCameras, offset };
  });

  app.get('/api/units/:code', {
    schema: { tags: ['tree'], params: Type.Object({ code: UnitCode }), response: { 200: UnitBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { code } = req.params as { code: string };
    const u = deps.access.canSeeUnit(subject, code) ? deps.access.tree.get(code) : undefined;
    if (!u) throw new AppError('not-found', `no unit ${code} in your part of the tree`, { reason: 'unit-unknown', unit: code });
    return { ...node(u), path: pathFrom(subject.unit, code).slice(0, -1) };
  });

  app.get('/api/units/:code/cameras', {
    schema: { tags: ['tree'], params: Type.Object({ code: UnitCode }), querystring: UnitCamerasQuery, response: { 200: UnitCamerasBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { code } = req.params as { code: string };
    const { limit, offset } = req.query as { limit: number; offset: number };
    if (!deps.access.canSeeUnit(subject, code)) throw new AppError('not-found', `no unit ${code} in your part of the tree`, { reason: 'unit-unknown', unit: code });
    // Every camera of the subtree in tree order (a township fills the grid village by village).
    const ids = deps.access.camerasUnder(code).filter((id) => deps.access.may(subject, 'live', id));
    const cameras = ids.slice(offset, offset + limit).map((id) => deps.catalog.summary(id)).filter((c) => c !== undefined)
      .map((c) => ({ ...c, health: deps.health.camera(c.id)?.state ?? 'unknown' }));
    return { total: ids.length, cameras };
  });

  app.get('/api/cameras/:id', {
    schema: { tags: ['cameras'], params: Type.Object({ id: CameraId }), response: { 200: CameraBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { id } = req.params as { id: string };
    // A camera outside the caller's reach answers as if it did not exist: its id tells nothing.
    if (!deps.access.may(subject, 'live', id)) throw new AppError('not-found', `no camera ${id} among yours`, { reason: 'camera-unknown', camera: id });
    const c = deps.catalog.camera(id);
    if (!c) throw new AppError('not-found', `no camera ${id} among yours`, { reason: 'camera-unknown', camera: id });
    return cameraBody(deps, subject, c);
  });
}
