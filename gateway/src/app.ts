// The composition root: config → store → catalog → access → media → http. Nothing else builds real objects.
import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { Profile, StreamSourceSpec } from '../../adapters/core/types.js';
import { AccessIndex } from './access/access-index.js';
import { MediaTokens } from './auth/media-token.js';
import { SessionStore } from './auth/session-store.js';
import { Catalog } from './catalog/catalog.js';
import type { DemoAccount } from './catalog/demo-catalog.js';
import { listDemoAccounts, seedDemo } from './demo/seed-demo.js';
import { buildServer } from './http/server.js';
import { AppError } from './http/errors.js';
import { StreamHub } from './media/stream-hub.js';
import { WorkerPool } from './media/webrtc/workers.js';
import { WebRtcService } from './media/webrtc/webrtc-service.js';
import { Transcodes } from './media/transcode.js';
import { RtspOut } from './media/rtsp-out.js';
import { isPushUrl, PushPipeline, RtmpIngest } from './media/rtmp-in.js';
import { authorizeMedia, liveView, refuseMedia } from './http/media-guard.js';
import { subjectOf } from './http/auth-plugin.js';
import type { AuditEvent } from './audit/audit-log.js';
import type { Viewer } from './audit/view-tracker.js';
import { HealthMonitor, ProbeFailed, type CredentialState } from './health/health-monitor.js';
import { HealthStore } from './health/health-store.js';
import { createMetrics } from './health/metrics.js';
import { pingRtsp, probeRtsp, RtspProbeError } from '../../adapters/rtsp/rtsp-probe.js';
import { ImportJobs } from './catalog/import/import-jobs.js';
import { GrantStore } from './catalog/grant-store.js';
import { ViewStore } from './catalog/view-store.js';
import { EventCenter } from './events/event-center.js';
import { Webhooks } from './events/webhooks.js';
import { AuditLog } from './audit/audit-log.js';
import { ViewTracker } from './audit/view-tracker.js';
import { RepeatFilter } from './audit/repeat-filter.js';
import { LoginGuard } from './auth/login-guard.js';
import { DevicePool, NotSupportedError } from './devices/device-pool.js';
import { discoverDevices, probeDevice } from './devices/onboarding.js';
import { grabFrame } from './media/frame-grab.js';
import { decodeKeyframe } from './media/core/keyframe-snapshot.js';
import { pingOnvif } from '../../adapters/onvif/onvif-ping.js';
import { OnvifDevice, OnvifError } from '../../adapters/onvif/onvif-client.js';
import { CredentialCipher } from './secrets/credential-cipher.js';
import { MasterKey } from './secrets/master-key.js';
import { openDatabase, type Db } from './store/database.js';
import { accessRights, Walls } from './wall/walls.js';
import { WallStore } from './wall/wall-store.js';
import { Rooms } from './rooms/rooms.js';
import { RoomStore } from './rooms/room-store.js';
import { RoomRecordings } from './rooms/recordings.js';
import { RoomMedia } from './media/webrtc/room-media.js';

/**
 * defaultHlsDir puts live segments in memory when the machine has /dev/shm: they live seconds, and a disk only adds
 * I/O and wear. The folder is named after the store, so two gateways on one machine never share (and reap) it.
 */
export function defaultHlsDir(storePath: string): string {
  if (!existsSync('/dev/shm')) return 'var/hls';
  const key = createHash('sha256').update(resolve(storePath)).digest('hex').slice(0, 12);
  return join('/dev/shm', `sharp-eyes-${key}`, 'hls');
}

/** GatewayOptions are what the CLI or a test adds to the config. */
export interface GatewayOptions {
  config: Config;
  logger: Logger;
  consoleDir?: string;
}

/** Gateway is a running gateway. */
export class Gateway {
  readonly config: Config;
  readonly catalog: Catalog;
  readonly access: AccessIndex;
  readonly hub: StreamHub;
  readonly health: HealthMonitor;
  readonly http: FastifyInstance;
  readonly demoAccounts: DemoAccount[];
  readonly imports: ImportJobs;
  readonly devices: DevicePool;
  readonly audit: AuditLog;
  readonly grants: GrantStore;
  readonly events: EventCenter;
  readonly webhooks: Webhooks;
  readonly walls: Walls;
  /** roomMedia carries the rooms' media, undefined when WebRTC is off. */
  readonly roomMedia: RoomMedia | undefined;
  /** recordings makes the rooms' recordings, undefined when WebRTC is off. */
  readonly recordings: RoomRecordings | undefined;
  /** webrtc is undefined when WebRTC is off or its workers could not start. */
  readonly webrtc: WebRtcService | undefined;
  /** rtsp is the RTSP output, undefined when it is off. */
  readonly rtsp: RtspOut | undefined;
  /** ingest takes RTMP pushes, undefined when it is off. */
  readonly ingest: RtmpIngest | undefined;
  #views: ViewTracker;
  #refusals: RepeatFilter;
  #db: Db;
  #healthTargets: Map<string, HealthTarget>;
  #lastSync = Date.now();
  #closed = false;

  private constructor(parts: { config: Config; db: Db; catalog: Catalog; access: AccessIndex; hub: StreamHub; health: HealthMonitor; healthTargets: Map<string, HealthTarget>; imports: ImportJobs; devices: DevicePool; audit: AuditLog; grants: GrantStore; events: EventCenter; webhooks: Webhooks; walls: Walls; roomMedia?: RoomMedia; recordings?: RoomRecordings; views: ViewTracker; refusals: RepeatFilter; http: FastifyInstance; demoAccounts: DemoAccount[]; webrtc?: WebRtcService; rtsp?: RtspOut; ingest?: RtmpIngest }) {
    this.config = parts.config;
    this.#db = parts.db;
    this.catalog = parts.catalog;
    this.access = parts.access;
    this.hub = parts.hub;
    this.health = parts.health;
    this.#healthTargets = parts.healthTargets;
    this.imports = parts.imports;
    this.devices = parts.devices;
    this.audit = parts.audit;
    this.grants = parts.grants;
    this.events = parts.events;
    this.webhooks = parts.webhooks;
    this.walls = parts.walls;
    this.roomMedia = parts.roomMedia;
    this.recordings = parts.recordings;
    this.#views = parts.views;
    this.#refusals = parts.refusals;
    this.http = parts.http;
    this.demoAccounts = parts.demoAccounts;
    this.webrtc = parts.webrtc;
    this.rtsp = parts.rtsp;
    this.ingest = parts.ingest;
  }

  /** create builds every part and seeds the demo when the store is empty; it does not listen yet. */
  static async create(opts: GatewayOptions): Promise<Gateway> {
    const { config, logger } = opts;
    const db = openDatabase(config.store.path);
    try {
      const key = MasterKey.loadOrCreate(config.secrets.keyFile);
      const catalog = new Catalog(db, new CredentialCipher(key.derive('camera-credentials')));
      catalog.load();
      let demoAccounts: DemoAccount[] = [];
      if (config.demo.enabled) {
        if (catalog.isEmpty) {
          const t0 = Date.now();
          const sim = config.demo.simulator;
          demoAccounts = await seedDemo(catalog, {
            seed: config.demo.seed, cameras: config.demo.cameras, password: config.demo.password,
            source: { host: sim.host, rtspPort: sim.rtspPort, onvifPort: sim.onvifPort, username: sim.username, password: sim.password },
          });
          logger.info({ units: catalog.tree().size, cameras: config.demo.cameras, ms: Date.now() - t0 }, 'demo catalog seeded');
        } else {
          demoAccounts = listDemoAccounts(catalog);
        }
      }
      if (catalog.isEmpty) throw new Error('the catalog is empty: enable demo.enabled or import a governance tree');
      const access = new AccessIndex(catalog.tree(), catalog.summaries());
      const grants = new GrantStore(db, access);
      grants.load();
      const audit = new AuditLog(db, key.derive('audit-chain'));
      const unitOfCamera = (camera: string) => access.unitOf(camera) ?? null;
      const views = new ViewTracker((e, at) => audit.record(e, at), config.audit.viewIdleSeconds * 1000);
      const refusals = new RepeatFilter((e, at) => audit.record(e, at), { windowMs: config.audit.repeatWindowSeconds * 1000, maxKeys: 10_000 });
      const m = config.media;
      const dc = config.devices;
      // Parts made later are reached through this late binding (the hub's events, the gateway for the import jobs).
      const late: { gateway?: Gateway; health?: HealthMonitor; hub?: StreamHub } = {};
      const devices = new DevicePool({
        timeoutMs: dc.timeoutSeconds * 1000, idleMs: dc.idleSeconds * 1000, maxDevices: dc.maxConnections,
        address: (camera) => {
          const c = catalog.camera(camera);
          return c?.onvifUrl ? { onvifUrl: c.onvifUrl, credentials: catalog.credentials(camera) } : undefined;
        },
        liveSnapshot: async (camera, profile) => {
          const bus = late.hub?.bus(camera, profile) ?? late.hub?.bus(camera, profile === 'main' ? 'sub' : 'main');
          return bus ? decodeKeyframe(m.ffmpegPath, bus, dc.snapshotTimeoutSeconds * 1000) : undefined;
        },
        fallbackSnapshot: async (camera, profile) => {
          const c = catalog.camera(camera);
          const url = (profile === 'sub' ? c?.subUrl : undefined) ?? c?.mainUrl;
          if (!url) throw new NotSupportedError('this camera has neither an ONVIF endpoint nor a stream address to take a picture from');
          return grabFrame(m.ffmpegPath, { url, credentials: catalog.credentials(camera), transport: c?.transport ?? 'tcp' }, dc.snapshotTimeoutSeconds * 1000);
        },
      });

      const ingest = m.rtmp.enabled ? new RtmpIngest({
        host: m.rtmp.host || config.http.host, port: m.rtmp.port,
        pushKey: (camera) => (isPushUrl(catalog.camera(camera)?.mainUrl) ? catalog.credentials(camera)?.password : undefined),
        onRefused: (e) => {
          logger.warn({ part: 'rtmp', ...e }, 'rtmp push refused');
          refuseMedia((key, ev) => refusals.note(key, ev), {
            route: 'rtmp', remote: e.remote, camera: /^[A-Za-z0-9_-]{1,128}$/.test(e.camera) ? e.camera : null, cameraUnit: unitOfCamera(e.camera), message: e.reason, reason: 'push-refused',
          });
        },
        onPublish: (e) => {
          logger.info({ part: 'rtmp', ...e }, 'rtmp push accepted');
          late.hub?.retryNow(e.camera);
        },
        log: (level, message) => logger[level]({ part: 'rtmp' }, message),
      }) : undefined;
      if (ingest) {
        try {
          await ingest.listen();
        } catch (err) {
          throw new Error(`the RTMP ingest cannot listen on ${m.rtmp.host || config.http.host}:${m.rtmp.port} (media.rtmp.port): ${(err as Error).message}`);
        }
      }
      const hub = new StreamHub({
        push: ingest ? (camera, bus) => new PushPipeline({ camera, ingest, bus, startTimeoutMs: m.startTimeoutSeconds * 1000, stallTimeoutMs: m.stallTimeoutSeconds * 1000 }) : undefined,
        hlsDir: m.hlsDir || defaultHlsDir(config.store.path), ffmpegPath: m.ffmpegPath, segmentSeconds: m.segmentSeconds, playlistSegments: m.playlistSegments,
        idleLingerMs: m.idleLingerSeconds * 1000, startTimeoutMs: m.startTimeoutSeconds * 1000, stallTimeoutMs: m.stallTimeoutSeconds * 1000,
        retryBaseMs: m.retryBaseSeconds * 1000, retryMaxMs: m.retryMaxSeconds * 1000, maxStreams: m.maxStreams,
        maxStreamsPerUser: m.maxStreamsPerUser, maxStreamsPerUnit: m.maxStreamsPerUnit, maxStartsPerSecond: m.maxStartsPerSecond || 3 * availableParallelism(),
        onRemuxerLog: (camera, profile, lines) => logger.warn({ camera, profile, ffmpeg: lines.slice(-5) }, 'remuxer failed'),
        // Read as each stream starts: the list is short, and it may be changed while the gateway runs.
        engine: (camera) => (!isPushUrl(catalog.camera(camera)?.mainUrl) && (m.engine === 'ffmpeg' || m.ffmpegCameras.includes(camera)) ? 'ffmpeg' : 'core'),
        partTargetMs: m.partSeconds * 1000, maxWindowBytes: m.windowMegabytes * 1024 * 1024,
        resolveSource: async (camera: string, profile: Profile): Promise<StreamSourceSpec> => {
          const c = catalog.camera(camera);
          if (!c) throw new Error(`camera ${camera} is not in the catalog`);
          let url = profile === 'sub' ? c.subUrl ?? c.mainUrl : c.mainUrl;
          // A camera known by its ONVIF endpoint alone is asked where its streams are.
          if (!url && c.onvifUrl) url = await devices.streamUrl(camera, profile);
          if (!url) throw new Error(`camera ${camera} has neither a stream address nor an ONVIF endpoint`);
          return { url, credentials: catalog.credentials(camera), transport: c.transport };
        },
      });
      hub.on('state', (s) => {
        const fields = { camera: s.camera, profile: s.profile, state: s.state, error: s.error?.message, attempts: s.attempts };
        if (s.state === 'offline' || s.state === 'failed') logger.warn(fields, 'stream state');
        else logger.info(fields, 'stream state');
        // A stream says what the camera thinks of its credentials as well as any sweep.
        if (s.state === 'live') late.health?.credentialResult(s.camera, 'accepted');
        if (s.state === 'failed' && s.error?.kind === 'unauthorized') late.health?.credentialResult(s.camera, 'rejected', s.error.message);
      });
      hub.on('error', (err) => logger.error({ err }, 'stream hub error'));
      late.hub = hub;
      await hub.start();
      const webrtc = await startWebRtc(config, hub, devices, logger.child({ part: 'webrtc' }));
      const health = createHealthMonitor(config, db, catalog, access, hub, logger.child({ part: 'health' }), ingest);
      late.health = health.monitor;
      const importLog = logger.child({ part: 'import' });

      const ic = config.imports;
      const imports = new ImportJobs(catalog, (cameras) => {
        importLog.info({ cameras }, 'import changed cameras');
        late.gateway?.syncCatalog();
      }, {
        dir: ic.dir || join(dirname(resolve(config.store.path)), 'imports'), maxBytes: ic.maxMegabytes * 1024 * 1024, maxRows: ic.maxRows,
        keepRejections: ic.keepRejections, maxQueued: ic.maxQueued, maxPerUser: ic.maxPerUser, keepMs: ic.keepMinutes * 60_000,
      });
      const { events, webhooks } = createEvents(config, db, key.derive('webhook-secrets'), { access, catalog, hub, health: health.monitor, imports }, logger.child({ part: 'events' }));
      const sessions = new SessionStore(db, config.auth.sessionTtlHours * 3600_000);
      const tokens = new MediaTokens(key.derive('media-token'), config.auth.mediaTokenTtlSeconds * 1000);
      const auditView = {
        record: (e: AuditEvent) => audit.record({ ...e, cameraUnit: e.cameraUnit ?? (e.camera ? unitOfCamera(e.camera) : null) }),
        refuse: (key: string, e: AuditEvent) => refusals.note(key, { ...e, cameraUnit: e.cameraUnit ?? (e.camera ? unitOfCamera(e.camera) : null) }),
        touchView: (viewer: Viewer, camera: string, profile: Profile) => views.touch(viewer, camera, unitOfCamera(camera), profile),
        query: (q: Parameters<AuditLog['query']>[0]) => audit.query(q),
      };
      const roomMedia = webrtc ? new RoomMedia(webrtc.pool, { maxSessions: config.media.webrtc.maxViewers }) : undefined;
      const rooms = webrtc ? new Rooms() : undefined;
      const roomStore = new RoomStore(db);
      // Rooms live in this process: those a stopped gateway left open ended with it.
      roomStore.closeOpenRooms(Date.now());
      const recordings = roomMedia ? new RoomRecordings({
        store: roomStore, media: roomMedia, audit, ffmpegPath: config.media.ffmpegPath,
        dir: config.rooms.recordingDir || join(dirname(resolve(config.store.path)), 'recordings'), log: (msg) => logger.warn({ part: 'rooms' }, msg),
        cameras: recordedCameras(hub, catalog, access),
      }) : undefined;
      const walls = createWalls(db, { access, catalog, health: health.monitor, devices, events, audit: auditView }, logger.child({ part: 'wall' }), config.demo.enabled && config.demo.wall);
      const displays = { displayViewer: (display: number, camera: string) => walls.displayViewer(display, camera) };
      const rtsp = config.media.rtsp.enabled
        ? await startRtspOut(config, hub, { tokens, sessions, catalog, access, displays }, auditView, logger.child({ part: 'rtsp' }))
        : undefined;
      const http = await buildServer({
        catalog, access,
        sessions,
        tokens,
        hub,
        webrtc,
        rtsp: rtsp ? { port: rtsp.port, announcedHost: config.media.rtsp.announcedHost } : undefined,
        rtmp: ingest ? { port: ingest.port, announcedHost: m.rtmp.announcedHost } : undefined,
        imports,
        devices,
        audit: auditView,
        grants,
        savedViews: new ViewStore(db),
        walls,
        displays,
        ...(rooms ? { rooms: { registry: rooms, media: roomMedia!, store: roomStore, recordings: recordings! }, roomViewers: roomViewersOf(rooms, catalog, access) } : {}),
        events,
        webhooks,
        consoleSettings: { rateGood: config.console.rateGood, rateWarn: config.console.rateWarn, map: { ...config.console.map } },
        loginGuard: new LoginGuard({
          maxFailures: config.auth.lockoutFailures, lockMs: config.auth.lockoutMinutes * 60_000, maxPerAddress: config.auth.addressFailures, windowMs: 10 * 60_000,
          accountFailures: config.auth.accountFailures, accountDelayMs: config.auth.accountDelaySeconds * 1000,
        }),
        accounts: catalog,
        onboarding: {
          discover: (timeoutMs) => discoverDevices(timeoutMs, (url) => catalog.cameraByOnvifUrl(url)),
          probe: (url, credentials) => probeDevice(url, credentials, dc.timeoutSeconds * 1000),
          add: (camera) => {
            catalog.upsertCameras([camera]);
            late.gateway?.syncCatalog();
          },
          remove: (camera) => {
            catalog.deleteCamera(camera);
            late.gateway?.syncCatalog();
          },
        },
        health: {
          unit: (code) => health.monitor.unit(code),
          camera: (id) => health.monitor.camera(id),
          history: (id, limit) => health.store.history(id, limit),
          get lastSweep() { return health.monitor.lastSweep; },
          intervalMs: config.health.intervalSeconds * 1000,
        },
        metrics: config.metrics.enabled ? {
          registry: createMetrics({ tree: access.tree, health: health.monitor, streams: () => hub.list(), unitLevels: config.metrics.unitLevels }),
          token: config.metrics.bearerToken,
        } : undefined,
        consoleDir: opts.consoleDir,
        secureCookies: config.http.secureCookies,
        playlistWaitMs: m.startTimeoutSeconds * 1000,
        requestTimeoutMs: config.http.requestTimeoutSeconds * 1000,
        idleTimeoutMs: config.http.idleTimeoutSeconds * 1000,
      }, logger.child({ part: 'http' }));
      if (config.health.enabled) health.monitor.start();
      const gateway = new Gateway({ config, db, catalog, access, hub, health: health.monitor, healthTargets: health.targets, imports, devices, audit, grants, events, webhooks, walls, roomMedia, recordings, views, refusals, http, demoAccounts, webrtc, rtsp, ingest });
      late.gateway = gateway;
      return gateway;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * syncCatalog brings what the gateway holds in memory (camera summaries, the access index, the health watch list)
   * up to date with the store, after an import here or in another process (the CLI signals SIGHUP).
   */
  syncCatalog(): { added: number; moved: number; removed: number } {
    const { catalog, access, health } = this;
    const since = this.#lastSync;
    this.#lastSync = Date.now();
    catalog.load();
    const counts = { added: 0, moved: 0, removed: 0 };
    const present = new Set<string>();
    for (const c of catalog.summaries()) {
      present.add(c.id);
      const before = access.unitOf(c.id);
      if (before === c.unit) continue;
      access.place(c);
      const h = health.camera(c.id);
      health.add(c.id, c.unit, h && h.state !== 'unknown' ? { state: h.state, since: h.since, reason: h.reason } : undefined);
      if (before === undefined) counts.added++;
      else counts.moved++;
    }
    for (const id of access.camerasUnder(access.tree.root.code)) {
      if (present.has(id)) continue;
      access.remove(id);
      health.remove(id);
      counts.removed++;
    }
    loadHealthTargets(catalog, this.#healthTargets);
    // A camera added or changed (its address or password) has its credentials tried at the next sweep.
    for (const id of catalog.updatedSince(since)) health.markCredentialsDue(id);
    // Addresses or credentials may have changed: devices are asked afresh.
    this.devices.forgetAll();
    return counts;
  }

  /** listen binds the HTTP port and returns the base URL. */
  async listen(): Promise<string> {
    await this.http.listen({ host: this.config.http.host, port: this.config.http.port });
    const a = this.http.server.address();
    const port = a && typeof a !== 'string' ? a.port : this.config.http.port;
    return this.config.http.publicUrl ?? `http://${this.config.http.host}:${port}`;
  }

  /** close stops accepting requests, ends every stream (and its ffmpeg) and closes the store; it is idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Closing the hub at once answers playlist requests still waiting for a stream, so the HTTP close is not held up.
    this.devices.close();
    this.walls.close();
    // A recording running is finished (its tracks kept, marked interrupted) before the media under it closes.
    await this.recordings?.close();
    this.roomMedia?.close();
    this.#views.close();
    this.#refusals.close();
    this.webrtc?.close();
    this.webrtc?.pool.close();
    this.webrtc?.transcoder?.close();
    await this.rtsp?.close();
    await this.ingest?.close();
    await Promise.all([this.http.close(), this.hub.close(), this.health.stop(), this.imports.idle()]);
    this.events.close();
    this.#db.close();
  }
}

/**
 * createEvents makes the event centre and its webhooks, and feeds it: cameras going offline and back (not a first
 * probe), credentials refused and accepted again, streams failing, imports ending. Events are kept for
 * events.retentionDays (pruned hourly).
 */
function createEvents(
  config: Config, db: Db, key: Buffer,
  parts: { access: AccessIndex; catalog: Catalog; hub: StreamHub; health: HealthMonitor; imports: ImportJobs }, logger: Logger,
): { events: EventCenter; webhooks: Webhooks } {
  const e = config.events;
  const events = new EventCenter(db, { flushMs: e.flushMs, maxPending: e.maxPending, retentionDays: e.retentionDays });
  const webhooks = new Webhooks(db, key, {
    timeoutMs: e.webhookTimeoutSeconds * 1000, retries: e.webhookRetries, retryMs: 1000, maxQueued: 100,
    inSubtree: (ancestor, unit) => parts.access.tree.contains(ancestor, unit), log: logger,
  });
  events.on('events', (batch) => webhooks.deliver(batch));
  events.on('error', (err) => logger.error({ err }, 'events could not be stored'));
  const name = (camera: string) => parts.catalog.summary(camera)?.name ?? camera;
  parts.health.on('transition', (t) => {
    if (t.state === 'offline') events.publish({ kind: 'camera.offline', unit: t.unit, camera: t.camera, params: { name: name(t.camera), why: t.reasonKind ?? 'other' } });
    else if (t.from === 'offline') events.publish({ kind: 'camera.online', unit: t.unit, camera: t.camera, params: { name: name(t.camera) } });
  });
  parts.health.on('credentials', (c) => {
    if (c.result === 'rejected') events.publish({ kind: 'camera.credentials', unit: c.unit, camera: c.camera, params: { name: name(c.camera) } });
    else if (c.from === 'rejected') events.publish({ kind: 'camera.credentials-ok', unit: c.unit, camera: c.camera, params: { name: name(c.camera) } });
  });
  const last = new Map<string, string>();
  parts.hub.on('state', (s) => {
    const k = `${s.camera}/${s.profile}`;
    const before = last.get(k);
    if (s.state === 'stopped') last.delete(k);
    else last.set(k, s.state);
    const unit = parts.access.unitOf(s.camera);
    if (s.state === 'failed' && before !== 'failed' && unit) {
      events.publish({ kind: 'stream.failed', unit, camera: s.camera, params: { name: name(s.camera), profile: s.profile, why: s.error?.kind ?? 'failed' } });
    }
  });
  parts.imports.onFinished = (job) => {
    const unit = parts.catalog.user(job.owner)?.unit;
    if (!unit) return;
    const p = job.progress;
    events.publish(job.state === 'done'
      ? { kind: 'import.done', unit, camera: null, params: { job: job.id, added: p.added, updated: p.updated, rejected: p.rejected, rows: p.rows } }
      : { kind: 'import.failed', unit, camera: null, params: { job: job.id, ...(job.errorCode ? { why: job.errorCode } : {}) } });
  };
  const prune = setInterval(() => {
    try { events.prune(); } catch (err) { logger.error({ err }, 'events could not be pruned'); }
  }, 3600_000);
  prune.unref();
  return { events, webhooks };
}

/**
 * createWalls loads the video walls and starts their tours, schedules and the review of their rights. A wall's change
 * is audited as the operator's; an alarm raised is an event of the wall's unit.
 */
function createWalls(
  db: Db, parts: { access: AccessIndex; catalog: Catalog; health: HealthMonitor; devices: DevicePool; events: EventCenter; audit: { record: (e: AuditEvent) => void } }, logger: Logger,
  demoWall = false,
): Walls {
  const walls = new Walls({
    store: new WallStore(db),
    rights: accessRights(parts.access),
    online: (camera) => parts.health.camera(camera)?.state ?? 'unknown',
    audit: (actor, action, detail, camera) => parts.audit.record({
      // The gateway's own changes (a schedule) are the wall's unit's to read.
      userId: actor.userId, username: actor.username, unit: actor.unit ?? (typeof detail.wall === 'number' ? walls.get(detail.wall)?.unit ?? null : null),
      action, ...(camera ? { camera } : {}), detail, remote: actor.remote ?? null,
    }),
    gotoPreset: (camera, token) => parts.devices.gotoPreset(camera, token),
    alarmRaised: (wall, alarm) => parts.events.publish({
      kind: 'wall.alarm', unit: wall.unit, camera: alarm.camera,
      params: { name: parts.catalog.summary(alarm.camera)?.name ?? alarm.camera, wall: wall.name, alarm: alarm.id, state: alarm.state },
    }),
    log: (level, fields, message) => logger[level](fields, message),
  });
  walls.start();
  if (demoWall && walls.list({ userId: 0, unit: parts.access.tree.root.code, roles: ['admin'] }).length === 0) {
    // The demo's monitoring room: a wall of the city centre with four cameras up, for the console's wall page.
    const root = parts.access.tree.root.code;
    const actor = { subject: { userId: 0, unit: root, roles: ['admin', 'operator'] as Array<'admin' | 'operator'> }, userId: null, username: 'demo', unit: root };
    const w = walls.create(actor, { name: `${parts.catalog.unitName(root) ?? root}综治中心大屏`, unit: root, rows: 2, cols: 2, split: 4 });
    for (const [i, camera] of parts.access.camerasUnder(root).slice(0, 4).entries()) {
      walls.command(actor, w.id, w.version, { op: 'assign', target: { screen: 0, tile: i }, camera });
    }
    logger.info({ wall: w.id }, 'demo wall seeded: administrators issue its display links on the console\'s wall page');
  }
  return walls;
}

/**
 * roomViewersOf answers the media guard for a room participant's view of a camera brought in: she is in the room,
 * the camera is, and the account that brought it may still view it.
 */
function roomViewersOf(rooms: Rooms, catalog: Catalog, access: AccessIndex) {
  return {
    roomViewer: (roomId: string, participant: string, camera: string) => {
      const room = rooms.openRoom(roomId);
      const p = room?.participants.get(participant);
      const brought = room?.cameras.get(camera);
      const by = brought ? catalog.user(brought.by) : undefined;
      if (!room || !p || !by || by.disabled || !access.may(subjectOf(by), 'live', camera)) return undefined;
      return { id: 0, username: `room:${p.name}`, displayName: p.name, unit: room.unit, roles: ['viewer' as const], disabled: false };
    },
  };
}

/**
 * recordedCameras give a room's recording the frame bus of each camera brought in: the sub stream the room's tiles
 * show (the media core's one pull), opened as a viewer of its own while the account that brought it still may view it.
 */
function recordedCameras(hub: StreamHub, catalog: Catalog, access: AccessIndex) {
  return {
    feed: (camera: string, by: number, key: string) => {
      const user = catalog.user(by);
      if (!user || user.disabled || !access.may(subjectOf(user), 'live', camera)) return undefined;
      const info = hub.open(camera, 'sub', { key, user: key, unit: user.unit });
      return info.state === 'live' ? hub.bus(camera, 'sub') : undefined;
    },
    name: (camera: string) => catalog.summary(camera)?.name ?? camera,
  };
}

/** startRtspOut serves the frame buses over RTSP, each reader checked as every media URL is. */
async function startRtspOut(
  config: Config, hub: StreamHub, guard: Parameters<typeof authorizeMedia>[0],
  audit: { refuse: (key: string, e: AuditEvent) => void; touchView: (v: Viewer, camera: string, profile: Profile) => void }, logger: Logger,
): Promise<RtspOut> {
  const r = config.media.rtsp;
  const out = new RtspOut({
    host: r.host || config.http.host, port: r.port, maxConnections: r.maxConnections,
    recheckMs: config.media.webrtc.recheckSeconds * 1000, liveWaitMs: config.media.startTimeoutSeconds * 1000, hub,
    authorize: (token, camera, profile, remote) => {
      let checked;
      try {
        checked = authorizeMedia(guard, token, camera, profile);
      } catch (err) {
        refuseMedia(audit.refuse, { route: 'rtsp', method: 'DESCRIBE', status: 403, remote, camera, message: (err as Error).message, ...(err instanceof AppError && typeof err.details?.reason === 'string' ? { reason: err.details.reason } : {}) });
        throw err;
      }
      const live = liveView({ ...guard, audit }, checked, camera, profile, remote);
      live.touch();
      return { viewer: live.viewer, allowed: live.allowed };
    },
    onError: (err) => logger.error({ err }, 'rtsp output'),
    onSession: (e) => logger.info(e, `rtsp ${e.event}`),
  });
  try {
    await out.listen();
  } catch (err) {
    throw new Error(`the RTSP output cannot listen on ${r.host || config.http.host}:${r.port} (media.rtsp.port): ${(err as Error).message}`);
  }
  logger.info({ port: out.port }, 'rtsp output listening');
  return out;
}

/**
 * startWebRtc starts the mediasoup workers and the WHEP service. Without a worker (not built), the gateway serves HLS
 * and says what to run.
 */
async function startWebRtc(config: Config, hub: StreamHub, devices: DevicePool, logger: Logger): Promise<WebRtcService | undefined> {
  const w = config.media.webrtc;
  if (!w.enabled) return undefined;
  const pool = new WorkerPool({
    workers: w.workers || availableParallelism(), listenIp: w.listenIp, announcedIp: w.announcedIp || undefined, port: w.port, udp: w.udp,
  });
  try {
    await pool.start();
  } catch (err) {
    pool.close();
    logger.error({ err: (err as Error).message }, 'WebRTC is off: browsers play over HLS');
    return undefined;
  }
  pool.on('replaced', (slot) => logger.info({ worker: slot.index, pid: slot.worker.pid }, 'mediasoup worker replaced'));
  const transcoder = new Transcodes({
    ffmpegPath: config.media.ffmpegPath, budget: w.transcodeBudget, lingerMs: 10_000,
    onError: (err) => logger.warn({ err: err.message }, 'transcode'),
  });
  const service = new WebRtcService(pool, hub, {
    transcoder,
    ffmpegPath: config.media.ffmpegPath,
    recheckMs: w.recheckSeconds * 1000, liveWaitMs: config.media.startTimeoutSeconds * 1000, maxSessions: w.maxViewers,
    connectTimeoutMs: 15_000,
    // A joining viewer would wait for the camera's next keyframe (up to a GOP, 2-4 s): the camera is asked for one at
    // once where it speaks ONVIF; elsewhere the viewer starts at the next keyframe.
    requestKeyframe: (camera, profile) => {
      if (!devices.hasOnvif(camera)) return;
      devices.keyframe(camera, profile).catch((err: Error) => logger.debug({ camera, profile, err: err.message }, 'keyframe request failed'));
    },
    onError: (err) => logger.warn({ err: err.message }, 'webrtc'),
  });
  service.on('ended', (s, reason) => logger.info({ camera: s.camera, profile: s.profile, userId: s.userId, reason, session: s.id.slice(0, 8) }, 'webrtc view ended'));
  service.start();
  logger.info({ workers: pool.slots.length, pids: pool.pids() }, 'mediasoup workers started');
  return service;
}

/**
 * createHealthMonitor watches every camera of the catalog from its saved state: an RTSP OPTIONS to the main stream's
 * address, skipped while a live stream of the camera already proves it online.
 */
function createHealthMonitor(config: Config, db: Db, catalog: Catalog, access: AccessIndex, hub: StreamHub, logger: Logger, ingest?: RtmpIngest): { monitor: HealthMonitor; store: HealthStore; targets: Map<string, HealthTarget> } {
  const h = config.health;
  const store = new HealthStore(db);
  const pruned = store.prune(Date.now() - h.historyDays * 86_400_000);
  if (pruned > 0) logger.info({ pruned }, 'old health events pruned');
  const targets = loadHealthTargets(catalog, new Map());
  const monitor = new HealthMonitor(access.tree, {
    intervalMs: h.intervalSeconds * 1000, concurrency: h.concurrency, retryDelayMs: h.retryDelaySeconds * 1000, backoffMaxMs: h.backoffMaxSeconds * 1000,
    recorder: store,
    credentials: {
      intervalMs: h.credentialsIntervalSeconds * 1000,
      check: (camera, signal) => checkCredentials(catalog, camera, h.timeoutSeconds * 1000, signal),
    },
    isStreaming: (camera) => hub.info(camera, 'main')?.state === 'live' || hub.info(camera, 'sub')?.state === 'live',
    probe: async (camera, signal) => {
      const target = targets.get(camera);
      if (!target) throw new ProbeFailed('no-address', 'neither a stream address nor an ONVIF endpoint in the catalog');
      // A pushing device is online while it pushes: nothing is asked of it.
      if (isPushUrl(target.url)) {
        if (ingest?.isPublishing(camera)) return { latencyMs: 0, status: 200 };
        throw new ProbeFailed('not-pushing', 'the device is not pushing its stream (RTMP)');
      }
      try {
        return target.kind === 'rtsp'
          ? await pingRtsp(target.url, { timeoutMs: h.timeoutSeconds * 1000, signal })
          : await pingOnvif(target.url, { timeoutMs: h.timeoutSeconds * 1000, signal });
      } catch (err) {
        // The reason is shown to everyone who may see the camera: it names what failed, not the device's address.
        throw err instanceof RtspProbeError || err instanceof OnvifError ? new ProbeFailed(err.kind, err.detail) : new ProbeFailed('other', String(err));
      }
    },
  });
  const saved = store.load();
  for (const c of catalog.summaries()) monitor.add(c.id, c.unit, saved.get(c.id));
  monitor.on('transition', (t) => {
    if (t.state === 'offline') logger.debug({ camera: t.camera, reason: t.reason }, 'camera offline');
    else logger.debug({ camera: t.camera }, 'camera online');
  });
  monitor.on('sweep', (r) => logger.info({ ...r, cancelled: undefined }, 'health sweep'));
  monitor.on('error', (err) => logger.error({ err }, 'health monitor could not record transitions'));
  return { monitor, store, targets };
}

/**
 * checkCredentials tries a camera's stored credentials with an authenticated request: DESCRIBE of its main stream, or
 * GetDeviceInformation of a camera known by its ONVIF endpoint alone. 'unknown' when the camera did not tell.
 */
async function checkCredentials(catalog: Catalog, camera: string, timeoutMs: number, signal: AbortSignal): Promise<{ result: CredentialState; reason?: string }> {
  const c = catalog.camera(camera);
  if (!c || signal.aborted) return { result: 'unknown' };
  const credentials = catalog.credentials(camera);
  // A push camera's secret is its push key: the ingest checks it at every push.
  if (isPushUrl(c.mainUrl)) return { result: 'unknown' };
  try {
    if (c.mainUrl) await probeRtsp(c.mainUrl, { credentials, timeoutMs });
    else if (c.onvifUrl) await (await OnvifDevice.connect({ url: c.onvifUrl, credentials, timeoutMs })).deviceInformation();
    else return { result: 'unknown' };
    return { result: 'accepted' };
  } catch (err) {
    if ((err instanceof RtspProbeError || err instanceof OnvifError) && err.kind === 'unauthorized') return { result: 'rejected', reason: err.detail };
    return { result: 'unknown' };
  }
}

/** HealthTarget is what the sweep probes: the main stream with RTSP OPTIONS, else the ONVIF device service. */
interface HealthTarget {
  kind: 'rtsp' | 'onvif';
  url: string;
}

function loadHealthTargets(catalog: Catalog, into: Map<string, HealthTarget>): Map<string, HealthTarget> {
  into.clear();
  for (const { id, mainUrl, onvifUrl } of catalog.probeTargets()) {
    if (mainUrl) into.set(id, { kind: 'rtsp', url: mainUrl });
    else if (onvifUrl) into.set(id, { kind: 'onvif', url: onvifUrl });
  }
  return into;
}
