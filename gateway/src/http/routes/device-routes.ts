// A camera's device from the console: a snapshot, and the PTZ head (moves, stop, status, presets), each with its right.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Profile } from '../../../../adapters/core/types.js';
import type { Action } from '../../access/access-index.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy } from '../auth-plugin.js';
import { requireCameraRight } from '../camera-access.js';
import { CameraId, FocusBody, IrisBody, PresetName, ProfileName, PtzCentreBody, PtzMoveBody, PtzPresetBody, PtzStateBody } from '../schemas.js';

const params = Type.Object({ id: CameraId });

/** deviceRoutes serves /api/cameras/:id/snapshot and /api/cameras/:id/ptz/*. */
export async function deviceRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  // A held arrow repeats its move every ~600 ms: the audit keeps the first of a run, not every repeat.
  const lastMove = new Map<string, number>();
  const audit = (req: FastifyRequest, action: string, camera: string, detail: Record<string, unknown> = {}) => auditBy(deps, req, action, { camera, detail });
  const authorize = (req: FastifyRequest, action: Action): string => {
    const { id } = req.params as { id: string };
    requireCameraRight(deps, req, action, id);
    if (action === 'ptz' && !deps.devices.hasOnvif(id)) throw new AppError('not-supported', 'this camera has no ONVIF endpoint: PTZ needs one', { reason: 'no-onvif' });
    return id;
  };

  app.get('/api/cameras/:id/snapshot', {
    schema: { tags: ['devices'], params, querystring: Type.Object({ profile: Type.Optional(ProfileName) }), produces: ['image/jpeg'] },
  }, async (req, reply) => {
    const id = authorize(req, 'live');
    const profile = ((req.query as { profile?: Profile }).profile) ?? 'main';
    const jpeg = await deps.devices.snapshot(id, profile);
    audit(req, 'snapshot', id, { profile, bytes: jpeg.length });
    return reply.type('image/jpeg').header('cache-control', 'no-store')
      .header('content-disposition', `inline; filename="${id}-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg"`).send(jpeg);
  });

  app.get('/api/cameras/:id/ptz', { schema: { tags: ['devices'], params, response: { 200: PtzStateBody } } }, async (req) => {
    const id = authorize(req, 'ptz');
    const status = await deps.devices.status(id);
    const caps = await deps.devices.capabilities(id);
    const imaging = await deps.devices.imaging(id).catch(() => undefined);
    return { status, presets: await deps.devices.presets(id), capabilities: { relative: caps.relative, focus: caps.focus, iris: caps.iris }, ...(imaging ? { imaging } : {}) };
  });

  app.post('/api/cameras/:id/ptz/move', { schema: { tags: ['devices'], params, body: PtzMoveBody, response: { 204: { type: 'null' } } } }, async (req, reply) => {
    const id = authorize(req, 'ptz');
    const { pan, tilt, zoom, timeoutMs } = req.body as { pan?: number; tilt?: number; zoom?: number; timeoutMs: number };
    if (pan === undefined && tilt === undefined && zoom === undefined) throw new AppError('bad-request', 'give pan, tilt or zoom (each in [-1, 1])', { reason: 'ptz-vector' });
    await deps.devices.move(id, { pan, tilt, zoom }, timeoutMs);
    const key = `${req.auth!.user.id}:${id}:${pan ?? ''}:${tilt ?? ''}:${zoom ?? ''}`;
    const now = Date.now();
    if ((lastMove.get(key) ?? 0) < now - 5000) audit(req, 'ptz.move', id, { pan, tilt, zoom });
    lastMove.set(key, now);
    if (lastMove.size > 10_000) lastMove.clear();
    return reply.status(204).send();
  });

  app.post('/api/cameras/:id/ptz/stop', { schema: { tags: ['devices'], params, response: { 204: { type: 'null' } } } }, async (req, reply) => {
    const id = authorize(req, 'ptz');
    await deps.devices.stop(id);
    audit(req, 'ptz.stop', id);
    return reply.status(204).send();
  });

  // Click-to-centre: the point clicked (x, y from the picture's centre) is turned to the middle.
  app.post('/api/cameras/:id/ptz/centre', { schema: { tags: ['devices'], params, body: PtzCentreBody, response: { 204: { type: 'null' } } } }, async (req, reply) => {
    const id = authorize(req, 'ptz');
    const { x, y } = req.body as { x: number; y: number };
    await deps.devices.centre(id, x, y);
    audit(req, 'ptz.move', id, { centre: `${x.toFixed(2)},${y.toFixed(2)}` });
    return reply.status(204).send();
  });

  app.post('/api/cameras/:id/ptz/focus', { schema: { tags: ['devices'], params, body: FocusBody, response: { 204: { type: 'null' } } } }, async (req, reply) => {
    const id = authorize(req, 'ptz');
    const { speed, timeoutMs } = req.body as { speed: number; timeoutMs: number };
    if (speed === 0) throw new AppError('bad-request', 'give a focus speed other than 0 (stop with /focus/stop)', { reason: 'ptz-vector' });
    await deps.devices.focus(id, speed, timeoutMs);
    const key = `${req.auth!.user.id}:${id}:focus:${Math.sign(speed)}`;
    if ((lastMove.get(key) ?? 0) < Date.now() - 5000) audit(req, 'ptz.move', id, { focus: speed });
    lastMove.set(key, Date.now());
    return reply.status(204).send();
  });

  app.post('/api/cameras/:id/ptz/focus/stop', { schema: { tags: ['devices'], params, response: { 204: { type: 'null' } } } }, async (req, reply) => {
    const id = authorize(req, 'ptz');
    await deps.devices.focusStop(id);
    return reply.status(204).send();
  });

  app.post('/api/cameras/:id/ptz/iris', { schema: { tags: ['devices'], params, body: IrisBody, response: { 200: Type.Object({ iris: Type.Number() }) } } }, async (req) => {
    const id = authorize(req, 'ptz');
    const { step } = req.body as { step: 1 | -1 };
    const iris = await deps.devices.iris(id, step);
    audit(req, 'ptz.move', id, { iris });
    return { iris };
  });

  app.post('/api/cameras/:id/ptz/presets', { schema: { tags: ['devices'], params, body: PresetName, response: { 200: PtzPresetBody } } }, async (req) => {
    const id = authorize(req, 'ptz');
    const { name } = req.body as { name: string };
    const token = await deps.devices.setPreset(id, name);
    audit(req, 'ptz.preset.set', id, { preset: token, name });
    return { token, name };
  });

  app.post('/api/cameras/:id/ptz/presets/:token/goto', {
    schema: { tags: ['devices'], params: Type.Object({ id: CameraId, token: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }) }), response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    const id = authorize(req, 'ptz');
    await deps.devices.gotoPreset(id, (req.params as { token: string }).token);
    audit(req, 'ptz.preset.goto', id, { preset: (req.params as { token: string }).token });
    return reply.status(204).send();
  });
}
