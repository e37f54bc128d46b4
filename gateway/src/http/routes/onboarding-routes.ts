// Onboarding by administrators: discover devices on the network, probe an address, add a camera under a unit.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { checkRow } from '../../catalog/import/camera-row.js';
import { idFitsReach } from '../../catalog/camera-id.js';
import { ProbeFailedError } from '../../devices/onboarding.js';
import { cameraBody } from './tree-routes.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAdmin } from '../auth-plugin.js';
import { CameraBody, DiscoverBody, NewCameraBody, ProbeBody, ProbeRequest } from '../schemas.js';
import { randomBytes } from 'node:crypto';
import { PUSH_SCHEME, PUSH_USER } from '../../media/rtmp-in.js';

/** pushUrl is where a push camera's device pushes (its key included: shown once, to the administrator who made it). */
function pushUrl(deps: HttpDeps, host: string, camera: string, key: string): string {
  return `rtmp://${deps.rtmp!.announcedHost || host}:${deps.rtmp!.port}/live/${camera}?key=${key}`;
}

/** onboardingRoutes serves /api/devices/discover, /api/devices/probe, POST /api/cameras and push cameras. */
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
      if (err instanceof ProbeFailedError) throw new AppError('device-error', err.message, { reason: 'probe-failed' });
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
    if ('problem' in checked) throw new AppError('bad-request', checked.problem.text, { reason: checked.problem.reason, ...checked.problem.params });
    if (deps.access.unitOf(checked.camera.id) !== undefined || deps.catalog.camera(checked.camera.id)) {
      throw new AppError('conflict', `camera ${checked.camera.id} is already in the catalog`, { reason: 'camera-exists', camera: checked.camera.id });
    }
    deps.onboarding.add(checked.camera);
    auditBy(deps, req, 'camera.add', { camera: checked.camera.id, detail: { name: checked.camera.name } });
    return reply.status(201).send(cameraBody(deps, auth.subject, deps.catalog.camera(checked.camera.id)!));
  });

  // A device that pushes RTMP (a 4G deployable camera, a body camera, a drone) becomes a camera of the catalog with a
  // push key of its own; the key is answered once and kept sealed like camera passwords.
  app.post('/api/cameras/push', {
    schema: {
      tags: ['onboarding'],
      body: Type.Object({
        id: Type.String({ minLength: 1, maxLength: 64 }), name: Type.String({ minLength: 1, maxLength: 128 }), unit: Type.String({ minLength: 1, maxLength: 32 }),
        kind: Type.Optional(Type.String({ maxLength: 32 })), latitude: Type.Optional(Type.Number()), longitude: Type.Optional(Type.Number()),
      }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const auth = requireAdmin(req, 'add push cameras');
    if (!deps.rtmp) throw new AppError('not-supported', 'the RTMP ingest is off on this gateway (media.rtmp.enabled)', { reason: 'rtmp-off' });
    const b = req.body as { id: string; name: string; unit: string; kind?: string; latitude?: number; longitude?: number };
    const tree = deps.access.tree;
    const str = (v: string | number | undefined) => (v === undefined ? undefined : String(v));
    // The same checks as any camera (id, unit, reach); its address is the push scheme, not a URL it is pulled from.
    const checked = checkRow({
      id: b.id, name: b.name, unit: b.unit, kind: b.kind, latitude: str(b.latitude), longitude: str(b.longitude), main_url: 'rtsp://push.invalid/',
    }, { unitExists: (code) => tree.get(code) !== undefined, mayUse: (code) => tree.contains(auth.subject.unit, code), mayUseId: (id) => idFitsReach(tree, auth.subject.unit, id) });
    if ('problem' in checked) throw new AppError('bad-request', checked.problem.text, { reason: checked.problem.reason, ...checked.problem.params });
    if (deps.access.unitOf(checked.camera.id) !== undefined || deps.catalog.camera(checked.camera.id)) {
      throw new AppError('conflict', `camera ${checked.camera.id} is already in the catalog`, { reason: 'camera-exists', camera: checked.camera.id });
    }
    const key = randomBytes(24).toString('base64url');
    deps.onboarding.add({ ...checked.camera, mainUrl: `${PUSH_SCHEME}${checked.camera.id}`, subUrl: null, onvifUrl: null, username: PUSH_USER, password: key, transport: 'tcp' });
    auditBy(deps, req, 'camera.add', { camera: checked.camera.id, detail: { name: checked.camera.name, push: 'rtmp' } });
    return reply.status(201).send({ camera: checked.camera.id, pushUrl: pushUrl(deps, req.hostname.replace(/:\d+$/, ''), checked.camera.id, key), key });
  });
}
