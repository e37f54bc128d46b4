// Builds the fastify app: logging without secrets, one error handler, OpenAPI, authentication, routes, console.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CapacityError, ShareError } from '../media/stream-hub.js';
import { NotSupportedError } from '../devices/device-pool.js';
import { DeviceError } from '../../../adapters/core/device-error.js';
import { AppError, ERROR_STATUS } from './errors.js';
import type { HttpDeps } from './deps.js';
import { ErrorBody } from './schemas.js';
import { illFormedPath } from '../store/well-formed.js';
import { authPlugin, bearerOf } from './auth-plugin.js';
import { treeRoutes } from './routes/tree-routes.js';
import { streamRoutes } from './routes/stream-routes.js';
import { mediaRoutes } from './routes/media-routes.js';
import { whepRoutes } from './routes/whep-routes.js';
import { flvRoutes } from './routes/flv-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { catalogRoutes } from './routes/catalog-routes.js';
import { deviceRoutes } from './routes/device-routes.js';
import { onboardingRoutes } from './routes/onboarding-routes.js';
import { accessRoutes } from './routes/access-routes.js';
import { accountRoutes } from './routes/account-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { viewRoutes } from './routes/view-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { upkeepRoutes } from './routes/upkeep-routes.js';
import { wallRoutes } from '../wall/wall-routes.js';
import { roomRoutes } from '../rooms/room-routes.js';
import { caseRoutes } from '../rooms/case-routes.js';

/** redactQuery hides media tokens and any password-like parameter in a logged URL. */
export function redactQuery(url: string): string {
  return url.replace(/([?&](?:t|token|password|pass|secret)=)[^&#]*/gi, '$1***');
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * auditRefusal records that a request was refused: who (the caller, or only her address), what route, which camera and
 * why. Repeats of one refusal are counted and written as one summary (a client retrying must not flood the trail).
 */
function auditRefusal(deps: HttpDeps, req: FastifyRequest, err: AppError): void {
  const user = req.auth?.user;
  const route = req.routeOptions.url ?? req.url.split('?')[0]!;
  const camera = (req.params as { camera?: unknown; id?: unknown } | undefined)?.camera
    ?? (route.startsWith('/api/cameras/:id') ? (req.params as { id?: unknown }).id : undefined)
    ?? (req.body as { camera?: unknown } | undefined)?.camera
    // A wall command carries its camera inside the command.
    ?? (req.body as { command?: { camera?: unknown } } | undefined)?.command?.camera;
  const who = user ? `u${user.id}` : `a${req.ip}`;
  deps.audit.refuse(`refused\u0000${who}\u0000${req.method}\u0000${route}\u0000${String(camera ?? '')}\u0000${err.code}`, {
    userId: user?.id ?? null, username: user?.username ?? '', unit: user?.unit ?? null, action: 'refused',
    camera: typeof camera === 'string' ? camera : null,
    detail: { method: req.method, route, status: err.status, code: err.code, ...(typeof err.details?.reason === 'string' ? { reason: err.details.reason } : {}), message: err.message },
    remote: req.ip,
  });
}

/** buildServer creates the app; call listen() on it, or inject() in tests. */
export async function buildServer(deps: HttpDeps, logger?: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger.child({}, { serializers: { req: (req: FastifyRequest) => ({ method: req.method, url: redactQuery(req.url), remote: req.ip }) } }) } : { logger: false }),
    bodyLimit: 64 * 1024,
    // Slow clients are cut: a request has requestTimeoutMs in all, and a connection that sends nothing for idleTimeoutMs
    // is closed, so that a body trickled a byte at a time cannot hold a connection for ever.
    // Node honours its request timeouts only when they are given as the server is made (set later, they are ignored).
    requestTimeout: deps.requestTimeoutMs,
    http: {
      requestTimeout: deps.requestTimeoutMs,
      headersTimeout: Math.min(deps.requestTimeoutMs, 20_000),
      connectionsCheckingInterval: Math.min(1000, deps.requestTimeoutMs / 2),
    },
    connectionTimeout: deps.idleTimeoutMs,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });
  app.addSchema(ErrorBody);
  // Text the store cannot keep as it came (a lone UTF-16 surrogate) is refused at the door, naming the field.
  app.addHook('preValidation', async (req) => {
    for (const [part, value] of [['body', req.body], ['querystring', req.query], ['params', req.params]] as const) {
      const at = illFormedPath(value);
      if (at) throw new AppError('bad-request', `${part} ${at} holds text that is not valid Unicode (a lone surrogate)`, { reason: 'bad-unicode', where: part }, { refusal: false });
    }
  });

  app.setErrorHandler((err: Error & { validation?: unknown; validationContext?: string; statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof AppError) {
      if (err.refusal) auditRefusal(deps, req, err);
      return reply.status(err.status).send({ code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) });
    }
    if (err instanceof NotSupportedError) {
      return reply.status(ERROR_STATUS['not-supported']).send({ code: 'not-supported', message: err.message, details: { reason: 'device-lacks' } });
    }
    if (err instanceof DeviceError) {
      // The device's address stays in the log; the caller learns what failed.
      req.log.warn({ err: err.message }, 'device call failed');
      return reply.status(ERROR_STATUS['device-error']).send({ code: 'device-error', message: `the camera did not do it: ${err.detail}`, details: { reason: 'device-failed' } });
    }
    if (err instanceof ShareError) {
      auditRefusal(deps, req, new AppError('share-exceeded', err.message));
      return reply.status(ERROR_STATUS['share-exceeded']).send({ code: 'share-exceeded', message: err.message, details: { reason: `share-${err.scope}`, scope: err.scope, limit: err.limit } });
    }
    if (err instanceof CapacityError) {
      auditRefusal(deps, req, new AppError('capacity', err.message));
      return reply.status(ERROR_STATUS.capacity).send({ code: 'capacity', message: `${err.message}: try again when a stream has stopped`, details: { reason: 'pull-capacity' } });
    }
    if (err.validation) {
      return reply.status(400).send({
        code: 'bad-request',
        message: `${err.validationContext ?? 'request'} ${err.message.replace(/^(body|querystring|params)\/?\s*/, '')}`.trim(),
        details: validationDetails(err.validation, err.validationContext),
      });
    }
    const status = err.statusCode ?? 500;
    if (status === 413) return reply.status(413).send({ code: 'too-large', message: err.message, details: { reason: 'body-too-large' } });
    if (status < 500) return reply.status(status).send({ code: 'bad-request', message: err.message, details: { reason: 'malformed' } });
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ code: 'internal', message: 'internal error: the gateway logged the details' });
  });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/') || req.url.startsWith('/media/') || req.method !== 'GET') {
      return reply.status(404).send({ code: 'not-found', message: `no route ${req.method} ${req.url.split('?')[0]}`, details: { reason: 'no-route' } });
    }
    // A wall's screens run the display page; its token rides in the fragment, which browsers never send.
    if (/^\/wall\/\d{1,12}\/screen\/\d{1,3}\/?(\?.*)?$/.test(req.url) && deps.consoleDir && existsSync(join(deps.consoleDir, 'wall.html'))) {
      return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').sendFile('wall.html');
    }
    // The console is a single-page app: its routes all load index.html.
    if (deps.consoleDir && existsSync(join(deps.consoleDir, 'index.html'))) return reply.sendFile('index.html');
    return reply.status(503).type('text/plain').send('The console is not built. Run: npm run build:console');
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Sharp Eyes Gateway', version: '0.1.0', description: 'Cameras, governance tree, live streams and media URLs.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'seg_session' }, bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ session: [] }, { bearer: [] }],
    },
  });
  await app.register(cookie);
  await app.register(authPlugin, deps);
  await app.register(treeRoutes, deps);
  await app.register(streamRoutes, deps);
  await app.register(mediaRoutes, deps);
  await app.register(whepRoutes, deps);
  await app.register(flvRoutes, deps);
  await app.register(healthRoutes, deps);
  await app.register(catalogRoutes, deps);
  await app.register(deviceRoutes, deps);
  await app.register(onboardingRoutes, deps);
  await app.register(accessRoutes, deps);
  await app.register(accountRoutes, deps);
  await app.register(auditRoutes, deps);
  await app.register(viewRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(upkeepRoutes, deps);
  await app.register(wallRoutes, deps);
  await app.register(roomRoutes, deps);
  await app.register(caseRoutes, deps);

  if (deps.metrics) {
    const { registry, token } = deps.metrics;
    app.get('/metrics', { schema: { hide: true }, config: { public: true } }, async (req, reply) => {
      // Every local user can reach loopback: the tree's figures are given to whoever holds the token, from anywhere.
      if (!token) throw new AppError('forbidden', 'metrics need a scrape token: set metrics.bearerToken and send "Authorization: Bearer <token>"', { reason: 'metrics-token' });
      if (!sameSecret(bearerOf(req.headers.authorization) ?? '', token)) throw new AppError('unauthenticated', 'send the scrape token as "Authorization: Bearer <metrics.bearerToken>"', { reason: 'metrics-token' });
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  }

  app.get('/api/openapi.json', { schema: { hide: true }, config: { public: true } }, () => app.swagger());
  app.get('/healthz', { schema: { hide: true }, config: { public: true } }, () => ({ ok: true }));

  if (deps.consoleDir && existsSync(deps.consoleDir)) {
    await app.register(fastifyStatic, { root: deps.consoleDir, prefix: '/', index: ['index.html'], wildcard: false, maxAge: 0 });
  }
  return app;
}

/** VALIDATION_RULES are the schema keywords the console has a sentence for; others are said as "invalid". */
const VALIDATION_RULES = new Set(['required', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'type', 'enum', 'anyOf', 'const', 'additionalProperties', 'minItems', 'maxItems', 'format']);

/**
 * validationDetails turns the first schema failure of a request into a stable reason and its parameters: the field
 * (a JSON pointer, or the missing or unknown property) and the limit the rule sets, never the schema's text.
 */
export function validationDetails(validation: unknown, context: string | undefined): Record<string, string | number> {
  const first = (Array.isArray(validation) ? validation[0] : undefined) as { instancePath?: string; keyword?: string; params?: Record<string, unknown> } | undefined;
  const keyword = first?.keyword ?? '';
  const p = first?.params ?? {};
  const prop = typeof p.missingProperty === 'string' ? p.missingProperty : typeof p.additionalProperty === 'string' ? p.additionalProperty : '';
  const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const field = [path, prop].filter(Boolean).join('.').slice(0, 100);
  const rule = keyword === 'const' || keyword === 'anyOf' ? 'enum' : keyword;
  return {
    reason: VALIDATION_RULES.has(keyword) ? `invalid-${rule}` : 'invalid',
    where: context ?? 'request',
    field,
    ...(typeof p.limit === 'number' ? { limit: p.limit } : {}),
  };
}
