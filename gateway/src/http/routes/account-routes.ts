// Accounts and sessions: administrators manage the users of their own subtree; everyone sees and ends her sessions.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Role } from '../../access/access-index.js';
import { hashPassword, verifyPassword } from '../../auth/password-hash.js';
import type { User } from '../../catalog/catalog.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAdmin, requireAuth, type Authenticated } from '../auth-plugin.js';
import { AccountBody, AccountChange, AccountCreate, PasswordChange, SessionBody, RowId } from '../schemas.js';
import { problem, type Problem } from '../../problem.js';

/** passwordProblem says what a new password lacks, or undefined. */
export function passwordProblem(password: string, username: string): Problem | undefined {
  if (password.length < 10) return problem('password-short', 'a password has at least 10 characters', { min: 10 });
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) return problem('password-classes', 'a password mixes at least three of: lower case, upper case, digits, symbols');
  if (password.toLowerCase().includes(username.toLowerCase())) return problem('password-has-username', 'a password must not contain the username');
  return undefined;
}

/** accountRoutes serves /api/users and /api/sessions. */
export async function accountRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const manages = (auth: Authenticated, u: User) => deps.access.managesAccount(auth.subject, { userId: u.id, unit: u.unit, roles: u.roles });
  const body = (auth: Authenticated, u: User) => {
    const lock = deps.loginGuard.lockOf(u.username);
    return {
      id: u.id, username: u.username, displayName: u.displayName, unit: u.unit, unitName: deps.catalog.unitName(u.unit) ?? u.unit, roles: u.roles, disabled: u.disabled,
      ...(lock ? { lock } : {}),
      manageable: manages(auth, u),
    };
  };
  const managed = (auth: Authenticated, id: number): User => {
    const u = deps.catalog.user(id);
    if (!u || !deps.access.canSeeUnit(auth.subject, u.unit)) throw new AppError('not-found', `no account ${id} in your part of the tree`, { reason: 'account-unknown' });
    if (u.id === auth.user.id) throw new AppError('forbidden', 'you cannot change your own roles or state: change your password under your account, the rest is done from above', { reason: 'own-account' });
    // Administrators of one unit are peers: neither manages the other (someone above does).
    if (!manages(auth, u)) throw new AppError('forbidden', `${u.username} is an administrator of your own unit: only an administrator above manages that account`, { reason: 'peer-admin', username: u.username });
    return u;
  };

  app.get('/api/users', { schema: { tags: ['accounts'], response: { 200: Type.Object({ users: Type.Array(AccountBody) }) } } }, async (req) => {
    const auth = requireAdmin(req, 'manage accounts');
    return { users: deps.accounts.usersIn(deps.access.tree.subtree(auth.subject.unit).map((u) => u.code)).map((u) => body(auth, u)) };
  });

  app.post('/api/users', { schema: { tags: ['accounts'], body: AccountCreate, response: { 201: AccountBody } } }, async (req, reply) => {
    const auth = requireAdmin(req, 'manage accounts');
    const b = req.body as { username: string; displayName: string; unit: string; roles: Role[]; password: string };
    if (!deps.access.canSeeUnit(auth.subject, b.unit)) throw new AppError('bad-request', `unit ${b.unit} is outside your part of the tree`, { reason: 'unit-outside', unit: b.unit });
    if (!deps.access.mayAssignRoles(auth.subject, b.unit, b.roles)) throw new AppError('forbidden', 'an administrator of your own unit is appointed from above: give the admin role in units below yours', { reason: 'admin-from-above' });
    const problem = passwordProblem(b.password, b.username);
    if (problem) throw new AppError('bad-request', problem.text, { reason: problem.reason, ...problem.params });
    if (deps.catalog.userWithHash(b.username)) throw new AppError('conflict', `the username ${b.username} is taken`, { reason: 'username-taken', username: b.username });
    const id = deps.accounts.addUser({ username: b.username, displayName: b.displayName, unit: b.unit, roles: b.roles }, await hashPassword(b.password));
    auditBy(deps, req, 'account.create', { detail: { account: id, username: b.username, unit: b.unit, roles: b.roles } });
    return reply.status(201).send(body(auth, deps.catalog.user(id)!));
  });

  app.patch('/api/users/:id', {
    schema: { tags: ['accounts'], params: Type.Object({ id: RowId }), body: AccountChange, response: { 200: AccountBody } },
  }, async (req) => {
    const auth = requireAdmin(req, 'manage accounts');
    const { id } = req.params as { id: number };
    const u = managed(auth, id);
    const b = req.body as { displayName?: string; roles?: Role[]; disabled?: boolean; password?: string; unlock?: boolean };
    if (b.roles !== undefined && !deps.access.mayAssignRoles(auth.subject, u.unit, b.roles)) {
      throw new AppError('forbidden', 'an administrator of your own unit is appointed from above: give the admin role in units below yours', { reason: 'admin-from-above' });
    }
    if (b.password !== undefined) {
      const problem = passwordProblem(b.password, u.username);
      if (problem) throw new AppError('bad-request', problem.text, { reason: problem.reason, ...problem.params });
    }
    deps.accounts.updateUser(id, { displayName: b.displayName, roles: b.roles, disabled: b.disabled, ...(b.password !== undefined ? { passwordHash: await hashPassword(b.password) } : {}) });
    // A disabled account or a new password ends every open session of the account.
    const ended = b.disabled === true || b.password !== undefined ? deps.sessions.endAllOf(id) : 0;
    if (b.unlock) deps.loginGuard.unlock(u.username);
    auditBy(deps, req, 'account.change', { detail: { account: id, username: u.username, ...(b.displayName !== undefined ? { displayName: b.displayName } : {}), ...(b.roles ? { roles: b.roles } : {}), ...(b.disabled !== undefined ? { disabled: b.disabled } : {}), ...(b.password !== undefined ? { password: 'changed' } : {}), ...(b.unlock ? { unlock: true } : {}), sessionsEnded: ended } });
    return body(auth, deps.catalog.user(id)!);
  });

  app.post('/api/auth/password', { schema: { tags: ['accounts'], body: PasswordChange, response: { 204: { type: 'null' } } } }, async (req, reply) => {
    const auth = requireAuth(req);
    const { current, password } = req.body as { current: string; password: string };
    const found = deps.catalog.userWithHash(auth.user.username);
    if (!found || !(await verifyPassword(current, found.passwordHash))) throw new AppError('bad-credentials', 'your current password is not that one', { reason: 'wrong-current-password' });
    const problem = passwordProblem(password, auth.user.username);
    if (problem) throw new AppError('bad-request', problem.text, { reason: problem.reason, ...problem.params });
    deps.accounts.updateUser(auth.user.id, { passwordHash: await hashPassword(password) });
    // Every other session of the account ends: whoever knew the old password is out.
    const others = deps.sessions.list([auth.user.id]).filter((s) => s.idHash !== auth.session.idHash);
    for (const s of others) deps.sessions.end(s.idHash);
    auditBy(deps, req, 'account.password', { detail: { account: auth.user.id, sessionsEnded: others.length } });
    return reply.status(204).send();
  });

  app.get('/api/sessions', {
    schema: { tags: ['accounts'], querystring: Type.Object({ scope: Type.Union([Type.Literal('mine'), Type.Literal('subtree')], { default: 'mine' }) }), response: { 200: Type.Object({ sessions: Type.Array(SessionBody) }) } },
  }, async (req) => {
    const auth = requireAuth(req);
    const { scope } = req.query as { scope: 'mine' | 'subtree' };
    if (scope === 'subtree' && !auth.subject.roles.includes('admin')) throw new AppError('forbidden', 'only administrators see the sessions of others', { reason: 'admin-only' });
    const users = scope === 'mine' ? [auth.user] : deps.accounts.usersIn(deps.access.tree.subtree(auth.subject.unit).map((u) => u.code));
    const names = new Map(users.map((u) => [u.id, u.username]));
    return {
      sessions: deps.sessions.list(users.map((u) => u.id)).map((s) => ({
        id: s.idHash, userId: s.userId, username: names.get(s.userId) ?? '', createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, expiresAt: s.expiresAt,
        remote: s.remote, userAgent: s.userAgent, current: s.idHash === auth.session.idHash,
      })),
    };
  });

  app.delete('/api/sessions/:id', {
    schema: { tags: ['accounts'], params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{64}$' }) }), response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    const auth = requireAuth(req);
    const { id } = req.params as { id: string };
    const s = deps.sessions.findByHash(id);
    const owner = s ? deps.catalog.user(s.userId) : undefined;
    const allowed = s && owner && (s.userId === auth.user.id || manages(auth, owner));
    if (!allowed) throw new AppError('not-found', 'no such session of yours or of your part of the tree', { reason: 'session-unknown' });
    deps.sessions.end(id);
    auditBy(deps, req, 'session.end', { detail: { account: s.userId, username: owner.username } });
    return reply.status(204).send();
  });
}
