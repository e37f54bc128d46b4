// Authentication: session cookie (or bearer) on every /api route unless it is marked public; login and logout.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Subject } from '../access/access-index.js';
import { DUMMY_HASH, verifyPassword } from '../auth/password-hash.js';
import type { SessionRecord } from '../auth/session-store.js';
import type { User } from '../catalog/catalog.js';
import type { HttpDeps } from './deps.js';
import { AppError } from './errors.js';
import { LoginBody, UserBody } from './schemas.js';

/** COOKIE is the session cookie's name. */
export const COOKIE = 'seg_session';

/** Authenticated is what a route knows of its caller. */
export interface Authenticated {
  user: User;
  session: SessionRecord;
  subject: Subject;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: Authenticated;
  }
  interface FastifyContextConfig {
    /** public routes need no session. */
    public?: boolean;
  }
}

/** bearerOf returns the token of an "Authorization: Bearer <token>" header; the scheme is case-insensitive (RFC 9110 11.1). */
export function bearerOf(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}

const COOKIE_PATTERN = new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]+)`);

/**
 * sessionCookieOf reads the session cookie from a Cookie header, as the routes outside fastify's cookie parser need
 * it (WebSocket upgrades): undefined when there is none, or when its value is not well-formed percent-encoding (a
 * forged header is no session, and does not throw out of an upgrade handler).
 */
export function sessionCookieOf(header: string | string[] | undefined): string | undefined {
  const raw = COOKIE_PATTERN.exec(String(header ?? ''))?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * sameOrigin says whether an Origin header names this server. "null" (sandboxed or privacy-sensitive contexts), an
 * empty value and anything that is not a URL are not our origin.
 */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!origin || origin === 'null' || !host) return false;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  // Compared as URL hosts, so that a default port written in one and left out of the other still matches.
  try {
    return u.host === new URL(`${u.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** subjectOf is how the access model sees a user. */
export function subjectOf(user: User): Subject {
  return { userId: user.id, unit: user.unit, roles: user.roles };
}

/** requireAuth returns the caller or throws unauthenticated (for routes under the hook, it is always set). */
export function requireAuth(req: FastifyRequest): Authenticated {
  if (!req.auth) throw new AppError('unauthenticated', 'log in first', { reason: 'login-first' });
  return req.auth;
}

/** requireAdmin returns the caller when she is an administrator; `what` completes "only administrators ..." otherwise. */
export function requireAdmin(req: FastifyRequest, what: string): Authenticated {
  const auth = requireAuth(req);
  if (!auth.subject.roles.includes('admin')) throw new AppError('forbidden', `only administrators ${what}`, { reason: 'admin-only' });
  return auth;
}

/** auditBy records an action of the caller, with the camera it concerns and what else says what was done. */
export function auditBy(deps: HttpDeps, req: FastifyRequest, action: string, about: { camera?: string; detail?: Record<string, unknown> } = {}): void {
  const u = requireAuth(req).user;
  deps.audit.record({ userId: u.id, username: u.username, unit: u.unit, action, ...about, remote: req.ip });
}

function userBody(deps: HttpDeps, user: User) {
  return { id: user.id, username: user.username, displayName: user.displayName, unit: user.unit, unitName: deps.catalog.unitName(user.unit) ?? user.unit, roles: user.roles };
}

async function plugin(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  app.decorateRequest('auth', undefined);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/') || req.routeOptions.config?.public) return;
    const bearer = bearerOf(req.headers.authorization);
    const secret = bearer ?? req.cookies[COOKIE];
    const session = secret ? deps.sessions.find(secret) : undefined;
    if (!session) throw new AppError('unauthenticated', secret ? 'your session has ended: log in again' : 'log in first', { reason: secret ? 'session-ended' : 'login-first' });
    const user = deps.catalog.user(session.userId);
    if (!user || user.disabled) throw new AppError('unauthenticated', 'this account is disabled', { reason: 'account-disabled' });
    // Cookies ride along on cross-site requests: a state change must come from our own origin.
    if (!bearer && req.method !== 'GET' && req.method !== 'HEAD' && req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host)) {
      throw new AppError('forbidden', 'cross-site request refused', { reason: 'cross-site' });
    }
    req.auth = { user, session, subject: subjectOf(user) };
  });

  app.post('/api/auth/login', {
    config: { public: true },
    schema: { tags: ['auth'], body: LoginBody, response: { 200: UserBody, 401: { $ref: 'ErrorBody#' } } },
  }, async (req, reply) => {
    const { username, password } = req.body as { username: string; password: string };
    const refused = deps.loginGuard.check(username, req.ip);
    if (refused) {
      const minutes = Math.max(1, Math.ceil(refused.retryAfterMs / 60_000));
      const seconds = Math.max(1, Math.ceil(refused.retryAfterMs / 1000));
      reply.header('retry-after', String(seconds));
      // A throttled address may keep trying: its refusals are counted, one entry per address and window.
      deps.audit.refuse(`login.refused\u0000${req.ip}\u0000${refused.kind}\u0000${refused.kind === 'locked' ? username.toLowerCase() : ''}`, { userId: null, username, unit: null, action: 'login.refused', detail: { why: refused.kind }, remote: req.ip });
      throw new AppError('too-many-attempts', refused.kind === 'locked'
        ? `too many wrong passwords for this account from your address: try again in ${minutes} min, or ask an administrator to unlock it`
        : refused.kind === 'slowed'
          ? `this account is under attack and is slowed down for new addresses: try again in ${seconds} s`
          : `too many failed logins from your address: try again in ${minutes} min`, { reason: `login-${refused.kind}`, why: refused.kind, retryAfterSeconds: seconds, minutes });
    }
    const found = deps.catalog.userWithHash(username);
    // Verify against a dummy hash for unknown names, so the answer time does not reveal which names exist.
    const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH);
    if (!found || !ok || found.user.disabled) {
      const locked = deps.loginGuard.failed(username, req.ip);
      req.log.info({ username, locked }, 'login refused');
      deps.audit.record({ userId: found?.user.id ?? null, username, unit: found?.user.unit ?? null, action: 'login.failed', detail: { locked, ...(found?.user.disabled ? { disabled: true } : {}) }, remote: req.ip });
      throw new AppError('bad-credentials', 'wrong username or password', { reason: 'wrong-password' });
    }
    deps.loginGuard.succeeded(username, req.ip);
    const { secret, record } = deps.sessions.create(found.user.id, req.ip, req.headers['user-agent'] ?? null);
    reply.setCookie(COOKIE, secret, {
      path: '/', httpOnly: true, sameSite: 'strict', secure: deps.secureCookies,
      expires: new Date(record.expiresAt),
    });
    req.log.info({ userId: found.user.id }, 'login');
    deps.audit.record({ userId: found.user.id, username: found.user.username, unit: found.user.unit, action: 'login', detail: { userAgent: req.headers['user-agent'] ?? null }, remote: req.ip });
    return userBody(deps, found.user);
  });

  app.post('/api/auth/logout', { schema: { tags: ['auth'], response: { 204: { type: 'null' } } } }, async (req, reply) => {
    deps.sessions.end(requireAuth(req).session.idHash);
    auditBy(deps, req, 'logout');
    reply.clearCookie(COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  app.get('/api/auth/me', { schema: { tags: ['auth'], response: { 200: UserBody } } }, async (req) => userBody(deps, requireAuth(req).user));
}

/** authPlugin installs the hook at the app's root (not encapsulated) so every route is covered. */
export const authPlugin = fp(plugin, { name: 'auth', dependencies: ['@fastify/cookie'] });
