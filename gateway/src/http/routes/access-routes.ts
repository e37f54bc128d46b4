// Push-down grants and camera groups: administrators give cameras of their reach to units below, see what each unit
// holds and from whom, and revoke (with everything re-granted from it).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { roleAllows, type Action } from '../../access/access-index.js';
import type { GrantRow } from '../../catalog/grant-store.js';
import { GrantError } from '../../catalog/grant-store.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAdmin, requireAuth } from '../auth-plugin.js';
import { CameraId, GrantBody, GrantCreate, GroupBody, GroupCreate, UnitCode, RowId } from '../schemas.js';

/** accessRoutes serves /api/grants and /api/groups. */
export async function accessRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const unitName = (code: string) => deps.catalog.unitName(code) ?? code;
  /** unusable lists the actions of a grant that no enabled account of the receiving unit has a role for. */
  const unusable = (g: GrantRow) => {
    const accounts = deps.accounts.usersIn([g.toUnit]).filter((u) => !u.disabled);
    return g.actions.filter((a) => !accounts.some((u) => roleAllows(u.roles, a)));
  };
  const body = (g: GrantRow, now = Date.now()) => {
    const group = g.group !== null ? deps.access.grants.group(g.group) : undefined;
    const cameras = g.group !== null ? group?.cameras ?? [] : g.cameras;
    return {
      id: g.id, grantorUser: g.grantorUser, grantorName: deps.catalog.user(g.grantorUser)?.displayName ?? `#${g.grantorUser}`,
      grantorUnit: g.grantorUnit, grantorUnitName: unitName(g.grantorUnit), toUnit: g.toUnit, toUnitName: unitName(g.toUnit),
      cameras: cameras.map((id) => ({ id, name: deps.catalog.summary(id)?.name ?? id })),
      group: group ? { id: group.id, name: group.name } : null,
      actions: [...g.actions], expiresAt: g.expiresAt, reGrant: g.reGrant, parent: g.parent, createdAt: g.createdAt,
      state: g.revokedAt !== null ? 'revoked' as const : g.expiresAt !== null && g.expiresAt <= now ? 'expired' as const : 'active' as const,
      revokedAt: g.revokedAt,
      unusable: unusable(g),
    };
  };

  app.get('/api/grants', {
    schema: { tags: ['grants'], querystring: Type.Object({ toUnit: Type.Optional(UnitCode), ended: Type.Boolean({ default: false }) }), response: { 200: Type.Object({ grants: Type.Array(GrantBody) }) } },
  }, async (req) => {
    const auth = requireAuth(req);
    const { toUnit, ended } = req.query as { toUnit?: string; ended: boolean };
    // Everyone may see what her own unit received; administrators see the grants of their whole subtree.
    const admin = auth.subject.roles.includes('admin');
    if (toUnit && !deps.access.canSeeUnit(auth.subject, toUnit)) throw new AppError('not-found', `no unit ${toUnit} in your part of the tree`, { reason: 'unit-unknown', unit: toUnit });
    const rows = admin
      ? deps.grants.list(auth.subject.unit, { toUnit, includeEnded: ended })
      : deps.grants.list(auth.subject.unit, { toUnit: auth.subject.unit, includeEnded: ended });
    return { grants: rows.map((g) => body(g)) };
  });

  app.post('/api/grants', { schema: { tags: ['grants'], body: GrantCreate, response: { 201: GrantBody } } }, async (req, reply) => {
    const auth = requireAdmin(req, 'manage grants');
    const b = req.body as { toUnit: string; cameras?: string[]; group?: number; actions: Action[]; expiresAt?: number | null; reGrant: boolean; parent?: number };
    if ((b.cameras === undefined) === (b.group === undefined)) throw new AppError('bad-request', 'give either cameras or a group', { reason: 'cameras-or-group' });
    let cameras = b.cameras ?? [];
    if (b.group !== undefined) {
      const group = deps.access.grants.group(b.group);
      // A group is pushed by an administrator above its owner, or passed on by one whose unit received it.
      if (!group || (b.parent === undefined && !deps.access.canSeeUnit(auth.subject, group.ownerUnit))) throw new AppError('not-found', `no group ${b.group} among yours`, { reason: 'group-unknown', group: b.group });
      cameras = [...group.cameras];
    }
    try {
      const g = deps.grants.create(auth.subject, {
        toUnit: b.toUnit, cameras, group: b.group ?? null, actions: b.actions, expiresAt: b.expiresAt ?? null, reGrant: b.reGrant, parent: b.parent ?? null,
      });
      auditBy(deps, req, 'grant.create', { detail: { grant: g.id, toUnit: g.toUnit, cameras: cameras.length, group: g.group, actions: g.actions, expiresAt: g.expiresAt, reGrant: g.reGrant, parent: g.parent } });
      deps.events.publish({ kind: 'grant.received', unit: g.toUnit, camera: null, params: { grant: g.id, n: cameras.length, from: unitName(g.grantorUnit), unit: unitName(g.toUnit), actions: g.actions.join(',') } });
      return reply.status(201).send(body({ ...g, revokedAt: null, revokedBy: null }));
    } catch (err) {
      if (err instanceof GrantError) throw new AppError('bad-request', err.message, { reason: err.reason, ...err.params });
      throw err;
    }
  });

  app.delete('/api/grants/:id', {
    schema: { tags: ['grants'], params: Type.Object({ id: RowId }), response: { 200: Type.Object({ revoked: Type.Array(Type.Integer()) }) } },
  }, async (req) => {
    const auth = requireAdmin(req, 'manage grants');
    const { id } = req.params as { id: number };
    try {
      const held = new Map(deps.access.grants.descendants(id).map((x) => [x, deps.access.grants.get(x)?.toUnit]));
      const revoked = deps.grants.revoke(auth.subject, id);
      auditBy(deps, req, 'grant.revoke', { detail: { grant: id, revoked } });
      for (const x of revoked) {
        const unit = held.get(x);
        if (unit) deps.events.publish({ kind: 'grant.revoked', unit, camera: null, params: { grant: x, unit: unitName(unit) } });
      }
      return { revoked };
    } catch (err) {
      if (err instanceof GrantError) throw new AppError('not-found', err.message, { reason: err.reason, ...err.params });
      throw err;
    }
  });

  app.delete('/api/grants/:id/cameras/:camera', {
    schema: {
      tags: ['grants'], params: Type.Object({ id: RowId, camera: CameraId }),
      response: { 200: Type.Object({ shrunk: Type.Array(Type.Integer()), ended: Type.Array(Type.Integer()) }) },
    },
  }, async (req) => {
    const auth = requireAdmin(req, 'manage grants');
    const { id, camera } = req.params as { id: number; camera: string };
    try {
      const r = deps.grants.withdraw(auth.subject, id, camera);
      auditBy(deps, req, 'grant.withdraw', { camera, detail: { grant: id, ...r } });
      return r;
    } catch (err) {
      if (err instanceof GrantError) throw new AppError('not-found', err.message, { reason: err.reason, ...err.params });
      throw err;
    }
  });

  app.get('/api/groups', { schema: { tags: ['grants'], response: { 200: Type.Object({ groups: Type.Array(GroupBody) }) } } }, async (req) => {
    const auth = requireAdmin(req, 'manage grants');
    return { groups: [...deps.access.grants.groups()].filter((g) => deps.access.canSeeUnit(auth.subject, g.ownerUnit)).map((g) => ({ ...g, cameras: [...g.cameras] })) };
  });

  app.post('/api/groups', { schema: { tags: ['grants'], body: GroupCreate, response: { 201: GroupBody } } }, async (req, reply) => {
    const auth = requireAdmin(req, 'manage grants');
    const b = req.body as { name: string; ownerUnit: string; cameras: string[] };
    try {
      const g = deps.grants.createGroup(auth.subject, b.name, b.ownerUnit, b.cameras);
      auditBy(deps, req, 'group.create', { detail: { group: g.id, name: g.name, ownerUnit: g.ownerUnit, cameras: g.cameras.length } });
      return reply.status(201).send({ ...g, cameras: [...g.cameras] });
    } catch (err) {
      if (err instanceof GrantError) throw new AppError('bad-request', err.message, { reason: err.reason, ...err.params });
      throw err;
    }
  });
}
