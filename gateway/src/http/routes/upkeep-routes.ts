// Upkeep from the console: edit a camera, move it to another unit, delete it (the checks of an import, within the
// administrator's part of the tree, each audited); the console's settings; the map's cameras; an offline list as CSV.
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { checkRow } from '../../catalog/import/camera-row.js';
import { csvField } from '../../catalog/import/exporter.js';
import { cameraBody } from './tree-routes.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAdmin, requireAuth } from '../auth-plugin.js';
import { CameraBody, CameraChange, CameraConfigBody, CameraId, ConsoleSettingsBody, MapCamerasBody, UnitCode } from '../schemas.js';
import { isPushUrl } from '../../media/rtmp-in.js';

/** upkeepRoutes serves PATCH/DELETE /api/cameras/:id, /api/console/settings, /api/map/cameras, offline.csv. */
export async function upkeepRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const tree = deps.access.tree;
  /** managed finds a camera an administrator may change: in her part of the tree (a camera pushed down to her is not). */
  const managed = (unit: string, id: string) => {
    const c = deps.catalog.camera(id);
    if (!c || !tree.contains(unit, c.unit)) throw new AppError('not-found', `no camera ${id} in your part of the tree`, { reason: 'camera-unknown', camera: id });
    return c;
  };

  app.patch('/api/cameras/:id', { schema: { tags: ['cameras'], params: Type.Object({ id: CameraId }), body: CameraChange, response: { 200: CameraBody } } }, async (req) => {
    const auth = requireAdmin(req, 'change cameras');
    const { id } = req.params as { id: string };
    const c = managed(auth.subject.unit, id);
    const b = req.body as Record<string, string | number | null | undefined>;
    if (b.unit !== undefined && !tree.contains(auth.subject.unit, String(b.unit))) throw new AppError('bad-request', `unit ${String(b.unit)} is outside your part of the tree`, { reason: 'camera-move-outside', unit: String(b.unit) });
    const pick = (key: string, now: string | number | null) => {
      const v = key in b ? b[key] : now;
      return v === null || v === undefined ? undefined : String(v);
    };
    // The change is checked as an import row would be: the camera as it would be afterwards. A push camera keeps its
    // push address and key; only its name, kind, unit and place change.
    const push = isPushUrl(c.mainUrl);
    if (push && ['mainUrl', 'subUrl', 'onvifUrl', 'username', 'password', 'transport'].some((k) => k in b)) {
      throw new AppError('bad-request', 'a push camera keeps its push address and key', { reason: 'invalid', field: 'mainUrl' });
    }
    const checked = checkRow({
      id, name: pick('name', c.name), unit: pick('unit', c.unit), kind: pick('kind', c.kind), latitude: pick('latitude', c.latitude), longitude: pick('longitude', c.longitude),
      main_url: push ? 'rtsp://push.invalid/' : pick('mainUrl', c.mainUrl), sub_url: pick('subUrl', c.subUrl), onvif_url: pick('onvifUrl', c.onvifUrl), username: pick('username', c.username),
      password: typeof b.password === 'string' && b.password ? b.password : undefined, transport: pick('transport', c.transport),
    }, { unitExists: (code) => tree.get(code) !== undefined, mayUse: (code) => tree.contains(auth.subject.unit, code) });
    if ('problem' in checked) throw new AppError('bad-request', checked.problem.text, { reason: checked.problem.reason, ...checked.problem.params });
    deps.onboarding.add(push ? { ...checked.camera, mainUrl: c.mainUrl, subUrl: null, onvifUrl: null, username: c.username, password: undefined, transport: c.transport } : checked.camera);
    const moved = checked.camera.unit !== c.unit;
    const changed = ['name', 'kind', 'latitude', 'longitude', 'mainUrl', 'subUrl', 'onvifUrl', 'username', 'transport'].filter((k) => k in b);
    if (typeof b.password === 'string' && b.password) changed.push('password');
    auditBy(deps, req, moved ? 'camera.move' : 'camera.change', { camera: id, detail: { ...(moved ? { from: c.unit, to: checked.camera.unit } : {}), ...(changed.length ? { changed: changed.join(',') } : {}) } });
    return cameraBody(deps, auth.subject, deps.catalog.camera(id)!);
  });

  app.get('/api/cameras/:id/config', { schema: { tags: ['cameras'], params: Type.Object({ id: CameraId }), response: { 200: CameraConfigBody } } }, async (req) => {
    const auth = requireAdmin(req, 'change cameras');
    const { id } = req.params as { id: string };
    const c = managed(auth.subject.unit, id);
    // Addresses as stored (credentials are never in them); the password itself is never answered.
    return {
      id: c.id, name: c.name, unit: c.unit, unitName: deps.catalog.unitName(c.unit) ?? c.unit, kind: c.kind, latitude: c.latitude, longitude: c.longitude,
      mainUrl: isPushUrl(c.mainUrl) ? null : c.mainUrl, subUrl: c.subUrl, onvifUrl: c.onvifUrl, username: isPushUrl(c.mainUrl) ? null : c.username,
      hasPassword: c.hasPassword, transport: c.transport, push: isPushUrl(c.mainUrl),
    };
  });

  app.delete('/api/cameras/:id', { schema: { tags: ['cameras'], params: Type.Object({ id: CameraId }) } }, async (req, reply) => {
    const auth = requireAdmin(req, 'delete cameras');
    const { id } = req.params as { id: string };
    const c = managed(auth.subject.unit, id);
    deps.onboarding.remove(id);
    auditBy(deps, req, 'camera.delete', { camera: id, detail: { name: c.name, unit: c.unit } });
    return reply.status(204).send();
  });

  app.get('/api/console/settings', { schema: { tags: ['console'], response: { 200: ConsoleSettingsBody } } }, async (req) => {
    requireAuth(req);
    return deps.consoleSettings;
  });

  // The map's cameras in a compact form (33,000 of them are one answer): [id, name, latitude, longitude, state]
  // with state 0 online, 1 offline, 2 not checked; the units' points are the middle of their cameras.
  app.get('/api/map/cameras', {
    schema: { tags: ['map'], querystring: Type.Object({ unit: Type.Optional(UnitCode) }), response: { 200: MapCamerasBody } },
  }, async (req) => {
    const { subject } = requireAuth(req);
    const { unit } = req.query as { unit?: string };
    if (unit && !deps.access.canSeeUnit(subject, unit)) throw new AppError('not-found', `no unit ${unit} in your part of the tree`, { reason: 'unit-unknown', unit });
    const ids = unit ? deps.access.camerasUnder(unit).filter((id) => deps.access.may(subject, 'live', id)) : deps.access.visible(subject);
    const cameras: Array<[string, string, number, number, number]> = [];
    let withoutPosition = 0;
    const sums = new Map<string, { lat: number; lon: number; n: number }>();
    const levelOf = new Map<string, string>();
    for (const id of ids) {
      const c = deps.catalog.camera(id);
      if (!c) continue;
      if (c.latitude === null || c.longitude === null) { withoutPosition++; continue; }
      const h = deps.health.camera(id)?.state;
      cameras.push([id, c.name, c.latitude, c.longitude, h === 'online' ? 0 : h === 'offline' ? 1 : 2]);
      // Each camera counts towards the units above it, up to the reader's own.
      for (const u of tree.path(c.unit)) {
        if (!deps.access.canSeeUnit(subject, u.code)) continue;
        const s = sums.get(u.code) ?? { lat: 0, lon: 0, n: 0 };
        s.lat += c.latitude; s.lon += c.longitude; s.n++;
        sums.set(u.code, s);
        levelOf.set(u.code, u.level);
      }
    }
    const units = [...sums].map(([code, s]) => ({ code, name: deps.catalog.unitName(code) ?? code, level: levelOf.get(code)!, latitude: s.lat / s.n, longitude: s.lon / s.n, cameras: s.n }));
    return { cameras, withoutPosition, units };
  });

  app.get('/api/health/units/:code/offline.csv', { schema: { tags: ['health'], params: Type.Object({ code: UnitCode }) } }, async (req, reply) => {
    const { subject } = requireAuth(req);
    const { code } = req.params as { code: string };
    if (!deps.access.canSeeUnit(subject, code)) throw new AppError('not-found', `no unit ${code} in your part of the tree`, { reason: 'unit-unknown', unit: code });
    const rows = (function* () {
      yield '\ufeffid,name,unit,unit_name,offline_since,reason_kind,reason\n';
      for (const id of deps.access.camerasUnder(code)) {
        const h = deps.health.camera(id);
        if (!h || h.state !== 'offline' || !deps.access.may(subject, 'live', id)) continue;
        const c = deps.catalog.summary(id)!;
        yield [id, c.name, c.unit, deps.catalog.unitName(c.unit) ?? c.unit, new Date(h.since).toISOString(), h.reasonKind ?? 'other', h.reason ?? ''].map((v) => csvField(v)).join(',') + '\n';
      }
    })();
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="offline-${code}.csv"`).send(Readable.from(rows));
  });
}
