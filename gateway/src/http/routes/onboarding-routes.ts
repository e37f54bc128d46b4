// Onboarding by administrators: discover devices on the network, probe an address, add a camera under a unit.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { checkRow } from '../../catalog/import/camera-row.js';
import { idFitsReach } from '../../catalog/camera-id.js';
import { ProbeFailedError } from '../../devices/onboarding.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAdmin } from '../auth-plugin.js';
import { CameraBody, DiscoverBody, NewCameraBody, ProbeBody, ProbeRequest } from '../schemas.js';

/** onboardingRoutes serves /api/devices/discover, /api/devices/probe and POST /api/cameras. */
export async function onboardingRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  app.post('/api/devices/discover', {
    schema: { tags: ['onboarding'], body: Type.Optional(Type.Object({ timeoutMs: Type.Integer({ minimum: 500, maximum: 10_000, default: 3000 }) }, { additionalProperties: false })), response: { 200: DiscoverBody } },
  }, async (req) => {
    requireAdmin(req, 'discover devices');
    const { timeoutMs = 3000 } = (req.body ?? {}) as { timeoutMs?: number };
    const devices = await deps.onboarding.discover(timeoutMs);
    req.log.info({ found: devices.length }, 'WS-Discovery probe');
    return { devices };
  });

  app.post('/api/devices/probe', { schema: { tags: ['onboarding'], body: ProbeRequest, response: { 200: ProbeBody } } }, async (req) => {
    requireAdmin(req, 'probe devices');
    const { url, username, password } = req.body as { url: string; username?: string; password?: string };
    try {
      return await deps.onboarding.probe(url, username ? { username, password: password ?? '' } : undefined);
    } catch (err) {
      if (err instanceof ProbeFailedError) throw new AppError('device-error', err.message);
      throw err;
    }
  });

  app.post('/api/cameras', { schema: { tags: ['onboarding'], body: NewCameraBody, response: { 201: CameraBody } } }, async (req, reply) => {
    const auth = requireAdmin(req, 'add cameras');
    const b = req.body as Record<string, string | number | undefined>;
    const tree = deps.access.tree;
    const str = (v: string | number | undefined) => (v === undefined ? undefined : String(v));
    const checked = checkRow({
      id: str(b.id), name: str(b.name), unit: str(b.unit), kind: str(b.kind), latitude: str(b.latitude), longitude: str(b.longitude),
      main_url: str(b.mainUrl), sub_url: str(b.subUrl), onvif_url: str(b.onvifUrl), username: str(b.username), password: str(b.password), transport: str(b.transport),
    }, { unitExists: (code) => tree.get(code) !== undefined, mayUse: (code) => tree.contains(auth.subject.unit, code), mayUseId: (id) => idFitsReach(tree, auth.subject.unit, id) });
    if ('reason' in checked) throw new AppError('bad-request', checked.reason);
    if (deps.access.unitOf(checked.camera.id) !== undefined || deps.catalog.camera(checked.camera.id)) {
      throw new AppError('conflict', `camera ${checked.camera.id} is already in the catalog`);
    }
    deps.onboarding.add(checked.camera);
    auditBy(deps, req, 'camera.add', { camera: checked.camera.id, detail: { name: checked.camera.name } });
    const c = deps.catalog.camera(checked.camera.id)!;
    return reply.status(201).send({
      id: c.id, name: c.name, unit: c.unit, kind: c.kind, latitude: c.latitude, longitude: c.longitude,
      unitPath: tree.path(c.unit).map((u) => u.name), profiles: c.subUrl || c.onvifUrl ? ['main', 'sub'] : ['main'],
      onvif: c.onvifUrl !== null, mayPtz: c.onvifUrl !== null && deps.access.may(auth.subject, 'ptz', c.id), transport: c.transport,
    });
  });
}
