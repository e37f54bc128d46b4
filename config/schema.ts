// The gateway's configuration: one schema with defaults; every part receives its own slice from app.ts.
import { Type, type Static } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

/** ConfigSchema is the whole configuration, with the embedded defaults. */
export const ConfigSchema = Type.Object({
  http: Type.Object({
    host: Type.String({ default: '127.0.0.1', minLength: 1 }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
    /** publicUrl is printed for people; it defaults to http://host:port. */
    publicUrl: Type.Optional(Type.String({ format: 'uri' })),
    secureCookies: Type.Boolean({ default: false }),
    /** requestTimeoutSeconds bounds the whole of a request, body included (an import upload is the largest). */
    requestTimeoutSeconds: Type.Number({ default: 120, minimum: 1, maximum: 3600 }),
    /** idleTimeoutSeconds closes a connection that sends nothing for that long (a body trickled byte by byte). */
    idleTimeoutSeconds: Type.Number({ default: 20, minimum: 1, maximum: 3600 }),
  }, { default: {}, ...strict }),
  store: Type.Object({
    driver: Type.Literal('sqlite', { default: 'sqlite' }),
    path: Type.String({ default: 'var/gateway.db', minLength: 1 }),
  }, { default: {}, ...strict }),
  secrets: Type.Object({
    /** keyFile holds the 32-byte master key (created 0600 when missing): media tokens and credential encryption. */
    keyFile: Type.String({ default: 'var/master.key', minLength: 1 }),
  }, { default: {}, ...strict }),
  auth: Type.Object({
    sessionTtlHours: Type.Number({ default: 12, exclusiveMinimum: 0, maximum: 720 }),
    mediaTokenTtlSeconds: Type.Integer({ default: 120, minimum: 10, maximum: 3600 }),
    /** lockoutFailures wrong passwords in a row lock an account for lockoutMinutes, for the address they came from. */
    lockoutFailures: Type.Integer({ default: 5, minimum: 1, maximum: 100 }),
    lockoutMinutes: Type.Number({ default: 15, minimum: 0.01, maximum: 1440 }),
    /** addressFailures failed logins from one address within ten minutes refuse further attempts from it. */
    addressFailures: Type.Integer({ default: 30, minimum: 1, maximum: 10000 }),
    /**
     * accountFailures failed logins of one account from all addresses within ten minutes slow it down: an address it
     * never logged in from may try it once every accountDelaySeconds. Nobody can lock another out for good.
     */
    accountFailures: Type.Integer({ default: 50, minimum: 1, maximum: 100000 }),
    accountDelaySeconds: Type.Number({ default: 5, minimum: 0.1, maximum: 600 }),
  }, { default: {}, ...strict }),
  media: Type.Object({
    ffmpegPath: Type.String({ default: 'ffmpeg', minLength: 1 }),
    /** hlsDir holds live segments; empty means memory (/dev/shm) when the machine has it, else var/hls. */
    hlsDir: Type.String({ default: '' }),
    segmentSeconds: Type.Number({ default: 1, minimum: 0.5, maximum: 10 }),
    playlistSegments: Type.Integer({ default: 6, minimum: 3, maximum: 30 }),
    idleLingerSeconds: Type.Number({ default: 20, minimum: 0, maximum: 3600 }),
    startTimeoutSeconds: Type.Number({ default: 12, minimum: 1, maximum: 120 }),
    stallTimeoutSeconds: Type.Number({ default: 10, minimum: 2, maximum: 120 }),
    retryBaseSeconds: Type.Number({ default: 1, minimum: 0.1, maximum: 60 }),
    retryMaxSeconds: Type.Number({ default: 60, minimum: 1, maximum: 3600 }),
    maxStreams: Type.Integer({ default: 300, minimum: 1, maximum: 10000 }),
    /**
     * maxStreamsPerUser and maxStreamsPerUnit are fair shares of the node: the streams one user (a 64-tile wall), or
     * all users of one unit together, may hold open at once; beyond, a new tile is refused saying which share is full.
     */
    maxStreamsPerUser: Type.Integer({ default: 64, minimum: 1, maximum: 10000 }),
    maxStreamsPerUnit: Type.Integer({ default: 150, minimum: 1, maximum: 10000 }),
    /**
     * maxStartsPerSecond paces ffmpeg starts: each costs ~0.1 CPU-second before it reads a byte, and while the CPU is
     * saturated every spawn also stalls the event loop. 0 means 3 per CPU core, which keeps each start as fast as an
     * unloaded one.
     */
    maxStartsPerSecond: Type.Number({ default: 0, minimum: 0, maximum: 1000 }),
    /**
     * engine says who reads cameras: the in-process media core ('core': RTSP, depacketizers, frame bus, LL-HLS in
     * memory), or ffmpeg ('ffmpeg': one process per stream, MPEG-TS segments on disk). ffmpegCameras names cameras
     * read by ffmpeg whatever the engine: the fallback for a source the core cannot read.
     */
    engine: Type.Union([Type.Literal('core'), Type.Literal('ffmpeg')], { default: 'core' }),
    ffmpegCameras: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { default: [], maxItems: 100_000 }),
    /** partSeconds is the LL-HLS partial segment duration aimed at (200-333 ms is what Low-Latency HLS asks). */
    partSeconds: Type.Number({ default: 0.3, minimum: 0.1, maximum: 1 }),
    /** windowMegabytes bounds what one stream's HLS window holds in memory. */
    windowMegabytes: Type.Integer({ default: 64, minimum: 4, maximum: 1024 }),
    /**
     * rtsp: the gateway's own RTSP output (TCP interleaved), for hardware wall decoders, NVRs and other platforms:
     * rtsp://host:port/live/<camera>/<profile>/<media token>. host empty means http.host; announcedHost is the name
     * put in the URLs the gateway hands out (empty: the host the request came to).
     */
    rtsp: Type.Object({
      enabled: Type.Boolean({ default: true }),
      host: Type.String({ default: '', maxLength: 64 }),
      port: Type.Integer({ default: 8554, minimum: 0, maximum: 65535 }),
      announcedHost: Type.String({ default: '', maxLength: 253 }),
      maxConnections: Type.Integer({ default: 500, minimum: 1, maximum: 100_000 }),
    }, { default: {}, ...strict }),
    /**
     * rtmp: devices that push (4G deployable cameras, body cameras, drones) push to
     * rtmp://host:port/live/<camera>?key=<push key>; host empty means http.host.
     */
    rtmp: Type.Object({
      enabled: Type.Boolean({ default: true }),
      host: Type.String({ default: '', maxLength: 64 }),
      port: Type.Integer({ default: 1935, minimum: 0, maximum: 65535 }),
      announcedHost: Type.String({ default: '', maxLength: 253 }),
    }, { default: {}, ...strict }),
    /** webrtc: live views over WebRTC (WHEP), from mediasoup workers fed by the frame bus. */
    webrtc: Type.Object({
      enabled: Type.Boolean({ default: true }),
      /** workers: mediasoup workers, one per core when 0. */
      workers: Type.Integer({ default: 0, minimum: 0, maximum: 64 }),
      /**
       * listenIp is where browsers' ICE reaches the gateway (the monitoring room's LAN address; 0.0.0.0 needs
       * announcedIp); announcedIp is the address the answer gives instead (a NAT's public address for remote parties).
       */
      listenIp: Type.String({ default: '127.0.0.1', minLength: 2, maxLength: 64 }),
      announcedIp: Type.String({ default: '', maxLength: 64 }),
      /** port: worker i listens on port + i, UDP and TCP (ICE over TCP for networks that let only TCP through); 0 picks free ports. */
      port: Type.Integer({ default: 40000, minimum: 0, maximum: 65000 }),
      /** udp false offers ICE over TCP alone (a site whose firewalls let no UDP through). */
      udp: Type.Boolean({ default: true }),
      maxViewers: Type.Integer({ default: 2000, minimum: 1, maximum: 100_000 }),
      /** recheckSeconds: how often each view's right is asked again (a revoked right ends the view within it). */
      recheckSeconds: Type.Number({ default: 1, minimum: 0.2, maximum: 5 }),
      /**
       * transcodeBudget caps concurrent H.265 to H.264 transcodes (ffmpeg libx264, about half a core each at 720p) for
       * browsers that do not decode H.265; one transcode serves every such viewer of a stream.
       */
      transcodeBudget: Type.Integer({ default: 2, minimum: 0, maximum: 256 }),
    }, { default: {}, ...strict }),
  }, { default: {}, ...strict }),
  health: Type.Object({
    /** enabled runs the sweep of every camera (RTSP OPTIONS, never a stream pull). */
    enabled: Type.Boolean({ default: true }),
    intervalSeconds: Type.Number({ default: 60, minimum: 1, maximum: 86400 }),
    /** concurrency bounds the probes in flight at once. */
    concurrency: Type.Integer({ default: 100, minimum: 1, maximum: 5000 }),
    timeoutSeconds: Type.Number({ default: 3, minimum: 0.1, maximum: 60 }),
    /** retryDelaySeconds: a failed probe is repeated this long after the sweep began before the camera counts as offline. */
    retryDelaySeconds: Type.Number({ default: 2, minimum: 0, maximum: 600 }),
    /** backoffMaxSeconds caps the full-jitter backoff of a failing device (its base is one interval). */
    backoffMaxSeconds: Type.Number({ default: 600, minimum: 1, maximum: 86400 }),
    historyDays: Type.Integer({ default: 90, minimum: 1, maximum: 3650 }),
    /**
     * credentialsIntervalSeconds: every reachable camera's stored credentials are tried with an authenticated DESCRIBE
     * (or ONVIF GetDeviceInformation) this often, spread over the sweeps, and at once when it is added or changed.
     */
    credentialsIntervalSeconds: Type.Number({ default: 21_600, minimum: 10, maximum: 30 * 86_400 }),
  }, { default: {}, ...strict }),
  devices: Type.Object({
    /** timeoutSeconds bounds every ONVIF call and snapshot fetch. */
    timeoutSeconds: Type.Number({ default: 5, minimum: 0.5, maximum: 60 }),
    /** idleSeconds closes a device connection unused that long. */
    idleSeconds: Type.Number({ default: 300, minimum: 10, maximum: 86400 }),
    maxConnections: Type.Integer({ default: 2000, minimum: 1, maximum: 100000 }),
    /** snapshotTimeoutSeconds bounds a picture taken from the stream of a camera without ONVIF (it waits for a key frame). */
    snapshotTimeoutSeconds: Type.Number({ default: 8, minimum: 1, maximum: 60 }),
  }, { default: {}, ...strict }),
  imports: Type.Object({
    /** dir holds uploads while they wait and the rejection reports of finished imports; empty: beside the store. */
    dir: Type.String({ default: '' }),
    /** maxMegabytes bounds one uploaded file: 33,000 cameras take about 7 MB of CSV. */
    maxMegabytes: Type.Number({ default: 100, minimum: 1, maximum: 10_000 }),
    /** maxRows bounds the rows one import reads; more stop there, saying so. */
    maxRows: Type.Integer({ default: 500_000, minimum: 1, maximum: 10_000_000 }),
    /** keepRejections is how many rejected rows a report shows; every one of them is in its rejections file. */
    keepRejections: Type.Integer({ default: 1000, minimum: 1, maximum: 100_000 }),
    /** maxQueued bounds the imports waiting or running at once; maxPerUser those of one user. */
    maxQueued: Type.Integer({ default: 4, minimum: 1, maximum: 100 }),
    maxPerUser: Type.Integer({ default: 2, minimum: 1, maximum: 100 }),
    /** keepMinutes is how long a finished import's report stays readable. */
    keepMinutes: Type.Number({ default: 60, minimum: 1, maximum: 10_080 }),
  }, { default: {}, ...strict }),
  audit: Type.Object({
    /** viewIdleSeconds ends a recorded view when no media request of it came for that long. */
    viewIdleSeconds: Type.Number({ default: 15, minimum: 0.5, maximum: 3600 }),
    /** repeatWindowSeconds: a refusal repeated within it (same caller, route and reason) is counted into one entry. */
    repeatWindowSeconds: Type.Number({ default: 60, minimum: 0.1, maximum: 3600 }),
  }, { default: {}, ...strict }),
  events: Type.Object({
    /** retentionDays keeps events (camera offline/online, stream failures, imports, grants) this long. */
    retentionDays: Type.Integer({ default: 90, minimum: 1, maximum: 3650 }),
    /** flushMs gathers events this long before they are written and pushed together. */
    flushMs: Type.Integer({ default: 250, minimum: 10, maximum: 10_000 }),
    /** maxPending bounds the events waiting for a flush (the oldest beyond it are dropped and counted). */
    maxPending: Type.Integer({ default: 50_000, minimum: 100, maximum: 1_000_000 }),
    /** webhookTimeoutSeconds bounds one delivery; webhookRetries are tried after it with a doubling backoff. */
    webhookTimeoutSeconds: Type.Number({ default: 5, minimum: 0.5, maximum: 60 }),
    webhookRetries: Type.Integer({ default: 3, minimum: 0, maximum: 10 }),
  }, { default: {}, ...strict }),
  console: Type.Object({
    /** rateGood and rateWarn colour an online rate: green from rateGood, amber from rateWarn, red below. */
    rateGood: Type.Number({ default: 0.98, minimum: 0, maximum: 1 }),
    rateWarn: Type.Number({ default: 0.9, minimum: 0, maximum: 1 }),
    map: Type.Object({
      /**
       * tileUrl is the base map's tile server, {z}/{x}/{y} in it (an intranet map service, say
       * "http://map.gov.local/tiles/{z}/{x}/{y}.png"); empty: no base map, units and cameras on a plain background.
       */
      tileUrl: Type.String({ default: '', maxLength: 512 }),
      attribution: Type.String({ default: '', maxLength: 200 }),
      maxZoom: Type.Integer({ default: 18, minimum: 1, maximum: 22 }),
    }, { default: {}, ...strict }),
  }, { default: {}, ...strict }),
  metrics: Type.Object({
    /** enabled serves Prometheus metrics at /metrics. */
    enabled: Type.Boolean({ default: true }),
    /** bearerToken is what scrapers send (Authorization: Bearer ...); while it is empty /metrics answers 403 to everyone. */
    bearerToken: Type.Union([Type.Literal(''), Type.String({ minLength: 16 })], { default: '' }),
    /** unitLevels are the levels whose units get an online-rate series (every village would be ~1,600 series). */
    unitLevels: Type.Array(Type.Union((['province', 'city', 'county', 'township', 'village', 'grid'] as const).map((l) => Type.Literal(l))), { default: ['province', 'city', 'county', 'township'] }),
  }, { default: {}, ...strict }),
  rooms: Type.Object({
    /** recordingDir holds the rooms' recordings (a folder per room, one per recording); empty: beside the store. */
    recordingDir: Type.String({ default: '' }),
  }, { default: {}, ...strict }),
  demo: Type.Object({
    /** enabled seeds the generated governance tree and camera catalog into an empty store and runs the simulator. */
    enabled: Type.Boolean({ default: true }),
    seed: Type.Integer({ default: 2026 }),
    /** wall seeds a demo video wall (2×2 screens at the city, four cameras on the first) into a store without walls. */
    wall: Type.Boolean({ default: true }),
    cameras: Type.Integer({ default: 33000, minimum: 1, maximum: 200000 }),
    password: Type.String({ default: 'Demo#2026', minLength: 8 }),
    simulator: Type.Object({
      host: Type.String({ default: '127.0.0.1' }),
      rtspPort: Type.Integer({ default: 8554, minimum: 0, maximum: 65535 }),
      controlPort: Type.Integer({ default: 8555, minimum: 0, maximum: 65535 }),
      onvifPort: Type.Integer({ default: 8556, minimum: 0, maximum: 65535 }),
      /** discoveryPort answers WS-Discovery probes: 3702 is where ONVIF clients send them. */
      discoveryPort: Type.Integer({ default: 3702, minimum: 0, maximum: 65535 }),
      /** discoverable is how many not-yet-onboarded devices answer WS-Discovery, to try onboarding with. */
      discoverable: Type.Integer({ default: 8, minimum: 0, maximum: 1000 }),
      username: Type.String({ default: 'admin' }),
      password: Type.String({ default: 'sim-Passw0rd' }),
      clipDir: Type.String({ default: 'var/clips' }),
    }, { default: {}, ...strict }),
  }, { default: {}, ...strict }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
    pretty: Type.Boolean({ default: false }),
  }, { default: {}, ...strict }),
}, strict);

/** Config is the validated configuration. */
export type Config = Static<typeof ConfigSchema>;

