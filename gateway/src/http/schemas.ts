// Route schemas (TypeBox): validated by fastify, published as OpenAPI, and imported as types by the console.
import { Type, type Static } from '@sinclair/typebox';
import { PROFILES } from '../../../adapters/core/types.js';
import { ROLES } from '../access/access-index.js';
import { UNIT_LEVELS } from '../access/org-tree.js';

/** ErrorBody is every error answer. */
export const ErrorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { $id: 'ErrorBody' });

export const CameraId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'camera id (GB/T 28181-style 20 digits in the demo)' });
export const ProfileName = Type.Union(PROFILES.map((p) => Type.Literal(p)));
export const UnitCode = Type.String({ pattern: '^[0-9]{6,20}$', description: 'region code of an org unit' });
export const Level = Type.Union(UNIT_LEVELS.map((l) => Type.Literal(l)));
export const RoleName = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const TransportName = Type.Union(['auto', 'tcp', 'udp'].map((t) => Type.Literal(t)), { description: 'how the camera\'s RTP travels: auto tries TCP (in the RTSP connection), then UDP' });
/** RowId is a stored row's id: a positive integer that SQLite and JavaScript both hold exactly. */
export const RowId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
/** Offset skips entries of a listing; bounded so that no query is asked to skip more than a store can hold. */
export const Offset = Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 });
/** EpochMs is a time in Unix milliseconds, up to the end of year 9999 (what a Date and SQLite hold). */
export const EpochMs = Type.Number({ minimum: 0, maximum: 253_402_300_799_999 });

export const UserBody = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  unit: Type.String(),
  unitName: Type.String(),
  roles: Type.Array(RoleName),
});

export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
}, { additionalProperties: false });

export const LivenessName = Type.Union(['online', 'offline', 'unknown'].map((s) => Type.Literal(s)));
export const UnitHealthBody = Type.Object({
  total: Type.Integer({ description: 'cameras in the whole subtree' }),
  online: Type.Integer(),
  offline: Type.Integer(),
  unknown: Type.Integer({ description: 'not probed yet' }),
  rate: Type.Number({ description: 'online / total (在线率)' }),
  credentialsRejected: Type.Integer({ description: 'cameras that answer but refuse the stored credentials (counted online)' }),
});
export const CredentialStateName = Type.Union(['unknown', 'accepted', 'rejected'].map((s) => Type.Literal(s)));

export const UnitNode = Type.Object({
  code: Type.String(),
  name: Type.String(),
  level: Level,
  parent: Type.Union([Type.String(), Type.Null()]),
  cameraCount: Type.Integer({ description: 'cameras in the whole subtree' }),
  childCount: Type.Integer(),
  health: UnitHealthBody,
});

export const CameraSummaryBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  kind: Type.String(),
  health: Type.Optional(LivenessName),
});

export const CameraBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  unitPath: Type.Array(Type.String()),
  kind: Type.String(),
  latitude: Type.Union([Type.Number(), Type.Null()]),
  longitude: Type.Union([Type.Number(), Type.Null()]),
  profiles: Type.Array(ProfileName),
  onvif: Type.Boolean({ description: 'reachable through ONVIF: PTZ, presets and device snapshots' }),
  mayPtz: Type.Boolean({ description: 'the caller may drive the head' }),
  transport: TransportName,
});

export const TreeRootBody = Type.Object({
  root: UnitNode,
  path: Type.Array(Type.Object({ code: Type.String(), name: Type.String() })),
  granted: Type.Array(CameraSummaryBody, { description: 'cameras outside your subtree pushed down to your unit' }),
});
export const ChildrenBody = Type.Object({ units: Type.Array(UnitNode), cameras: Type.Array(CameraSummaryBody) });
export const SearchQuery = Type.Object({
  q: Type.String({ maxLength: 64, default: '', description: 'part of a name, or the start of a code or id; empty with a state or kind lists them all' }),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'skips this many cameras (pages through them; units come with the first page)' }),
  state: Type.Optional(Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('unknown')])),
  kind: Type.Optional(Type.String({ pattern: '^[a-z-]{1,32}$', description: 'camera kind (junction, square, road...)' })),
  what: Type.Union([Type.Literal('all'), Type.Literal('units'), Type.Literal('cameras')], { default: 'all' }),
});
export const PathStep = Type.Object({ code: Type.String(), name: Type.String() });
export const SearchCamera = Type.Intersect([CameraSummaryBody, Type.Object({
  path: Type.Array(PathStep, { description: 'units from the caller\'s own down to the camera\'s (empty for a camera pushed down from outside)' }),
  granted: Type.Boolean({ description: 'pushed down to the caller\'s unit from outside her subtree' }),
})]);
export const SearchUnit = Type.Intersect([UnitNode, Type.Object({ path: Type.Array(PathStep, { description: 'units from the caller\'s own down to this one\'s parent' }) })]);
export const SearchBody = Type.Object({
  units: Type.Array(SearchUnit),
  totalUnits: Type.Integer(),
  cameras: Type.Array(SearchCamera),
  totalCameras: Type.Integer({ description: 'all matching cameras, of which limit from offset are returned' }),
  offset: Type.Integer(),
});
export const UnitBody = Type.Intersect([UnitNode, Type.Object({ path: Type.Array(PathStep) })]);
export const UnitCamerasQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
});
export const UnitCamerasBody = Type.Object({
  total: Type.Integer({ description: 'cameras of the whole subtree the caller may view' }),
  cameras: Type.Array(CameraSummaryBody),
});

/** LayoutSplit is a split of the live grid. */
export const LayoutSplit = Type.Union([1, 4, 6, 8, 9, 16, 25].map((n) => Type.Literal(n)));
export const ViewTileBody = Type.Union([Type.Object({ camera: CameraId, profile: Type.Optional(ProfileName) }, { additionalProperties: false }), Type.Null()]);
export const ViewSave = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  layout: LayoutSplit,
  tiles: Type.Array(ViewTileBody, { maxItems: 25 }),
  shared: Type.Boolean({ default: false }),
}, { additionalProperties: false });
export const ViewBody = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  layout: Type.Integer(),
  tiles: Type.Array(Type.Union([Type.Object({ camera: Type.String(), name: Type.String(), profile: Type.Optional(ProfileName) }), Type.Null()])),
  shared: Type.Boolean(),
  mine: Type.Boolean(),
  ownerName: Type.String(),
  hidden: Type.Integer({ description: 'cameras of the view the caller may not view (left out)' }),
  updatedAt: Type.Number(),
});

export const StreamStateName = Type.Union(['starting', 'live', 'offline', 'failed', 'stopped'].map((s) => Type.Literal(s)));
export const StreamInfoBody = Type.Object({
  camera: Type.String(),
  profile: ProfileName,
  state: StreamStateName,
  viewers: Type.Integer(),
  since: Type.Number(),
  attempts: Type.Integer(),
  retryAt: Type.Optional(Type.Number()),
  liveAt: Type.Optional(Type.Number()),
  error: Type.Optional(Type.Object({ kind: Type.String(), message: Type.String() })),
  frames: Type.Optional(Type.Number()),
  fps: Type.Optional(Type.Number({ description: 'frame rate ffmpeg last reported' })),
  transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')], { description: 'how the camera\'s RTP arrives' })),
  tracks: Type.Optional(Type.Array(Type.Object({
    kind: Type.Union([Type.Literal('video'), Type.Literal('audio'), Type.Literal('other')]),
    codec: Type.String(),
    carried: Type.Boolean({ description: 'this stream carries the track' }),
    note: Type.Optional(Type.String({ description: 'why a track is not carried' })),
  }), { description: 'what the camera sends, and what of it is carried' })),
});
export const StreamRequest = Type.Object({ camera: CameraId, profile: ProfileName }, { additionalProperties: false });
export const StreamTicket = Type.Object({
  stream: StreamInfoBody,
  playlistUrl: Type.String({ description: 'HLS playlist URL, carrying the media token' }),
  whepUrl: Type.Optional(Type.String({ description: 'WHEP endpoint (WebRTC), carrying the media token; absent when WebRTC is off' })),
  flvUrl: Type.Optional(Type.String({ description: 'HTTP-FLV URL (and WebSocket-FLV at the same path), carrying the media token' })),
  rtspUrl: Type.Optional(Type.String({ description: 'RTSP URL (TCP interleaved) for decoders and platforms, carrying the media token; absent when the RTSP output is off' })),
  token: Type.String(),
  tokenExpires: Type.Number(),
});
export const TokenBody = Type.Object({ token: Type.String(), tokenExpires: Type.Number() });

export const SweepBody = Type.Object({
  startedAt: Type.Number(),
  durationMs: Type.Number(),
  // The counts cover the whole tree: they are given to users of its top unit only.
  due: Type.Optional(Type.Integer()),
  probes: Type.Optional(Type.Integer()),
  streaming: Type.Optional(Type.Integer({ description: 'cameras a live stream proved online without a probe' })),
  backingOff: Type.Optional(Type.Integer({ description: 'failing cameras skipped until their backoff ends' })),
  online: Type.Optional(Type.Integer()),
  offline: Type.Optional(Type.Integer()),
  transitions: Type.Optional(Type.Integer()),
}, { description: 'the last sweep; its counts (of the whole tree) for users of the top unit only' });
export const UnitHealthReport = Type.Object({
  unit: UnitNode,
  children: Type.Array(UnitNode),
  intervalMs: Type.Number({ description: 'time between sweeps' }),
  sweep: Type.Optional(SweepBody),
});
export const OfflineQuery = Type.Object({
  offset: Offset,
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  problem: Type.Union([Type.Literal('offline'), Type.Literal('credentials')], { default: 'offline', description: 'offline cameras, or cameras that refuse their stored credentials' }),
});
export const OfflineBody = Type.Object({
  total: Type.Integer(),
  items: Type.Array(Type.Object({
    id: Type.String(),
    name: Type.String(),
    unit: Type.String(),
    unitName: Type.String(),
    since: Type.Number(),
    reason: Type.Optional(Type.String()),
    reasonKind: Type.Optional(Type.String({ description: 'stable kind of the failure (unreachable, timeout, unauthorized, ...), which the console says in words' })),
  })),
});
export const CameraHealthBody = Type.Object({
  camera: Type.String(),
  state: LivenessName,
  since: Type.Optional(Type.Number()),
  checkedAt: Type.Optional(Type.Number()),
  latencyMs: Type.Optional(Type.Number()),
  reason: Type.Optional(Type.String()),
  reasonKind: Type.Optional(Type.String()),
  failures: Type.Integer({ description: 'consecutive failed probes' }),
  nextProbeAt: Type.Optional(Type.Number({ description: 'set while a failing camera backs off' })),
  credentials: CredentialStateName,
  credentialsCheckedAt: Type.Optional(Type.Number({ description: 'when the stored credentials were last tried' })),
  credentialsReason: Type.Optional(Type.String({ description: 'what the camera said when it refused them' })),
  history: Type.Array(Type.Object({ at: Type.Number(), state: LivenessName, reason: Type.Union([Type.String(), Type.Null()]), reasonKind: Type.Union([Type.String(), Type.Null()]) })),
});

export const ImportQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')], { description: 'default: from the Content-Type' })),
  encoding: Type.Union([Type.Literal('utf-8'), Type.Literal('gb18030')], { default: 'utf-8', description: 'gb18030 also reads GBK files' }),
  dryRun: Type.Boolean({ default: false, description: 'check every row, write nothing' }),
});
export const ImportProgressBody = Type.Object({
  bytesRead: Type.Integer(),
  bytesTotal: Type.Optional(Type.Integer()),
  rows: Type.Integer(),
  added: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  rejected: Type.Integer(),
});
export const RejectionBody = Type.Object({
  line: Type.Integer(), id: Type.Optional(Type.String()), reason: Type.String(),
  code: Type.String({ description: 'stable reason key the console says the rejection by' }),
  params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
});
export const ImportJobBody = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  startedAt: Type.Number(),
  progress: ImportProgressBody,
  error: Type.Optional(Type.String({ description: 'why the file could not be imported at all' })),
  errorCode: Type.Optional(Type.String({ description: 'stable reason of error, which the console says in words' })),
  errorParams: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
  report: Type.Optional(Type.Object({
    format: Type.String(),
    dryRun: Type.Boolean(),
    durationMs: Type.Number(),
    movedCredentials: Type.Integer({ description: 'rows whose credentials were written in a URL and were moved to the encrypted store' }),
    rejections: Type.Array(RejectionBody, { description: 'the first imports.keepRejections rejected rows; all of them at /rejections.csv' }),
    stopped: Type.Optional(Type.Object({ line: Type.Integer(), reason: Type.String() }, { description: 'set when the file had more rows than imports.maxRows' })),
  })),
});
export const ExportQuery = Type.Object({
  format: Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' }),
  unit: Type.Optional(UnitCode),
});

export const PtzMoveBody = Type.Object({
  pan: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
  tilt: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
  zoom: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
  timeoutMs: Type.Integer({ minimum: 100, maximum: 10_000, default: 1000, description: 'the head stops by itself after this: a console that vanishes cannot leave it turning' }),
}, { additionalProperties: false });
export const PtzStatusBody = Type.Object({
  pan: Type.Number(), tilt: Type.Number(), zoom: Type.Number(),
  moving: Type.Object({ panTilt: Type.Boolean(), zoom: Type.Boolean() }),
});
export const PtzPresetBody = Type.Object({ token: Type.String(), name: Type.String() });
export const PtzCapabilitiesBody = Type.Object({
  relative: Type.Boolean({ description: 'the head turns by a relative amount (RelativeMove): click-to-centre' }),
  focus: Type.Boolean({ description: 'the lens focuses continuously (Imaging Move)' }),
  iris: Type.Boolean({ description: 'the iris is set in the exposure settings' }),
});
export const PtzStateBody = Type.Object({
  status: PtzStatusBody, presets: Type.Array(PtzPresetBody), capabilities: PtzCapabilitiesBody,
  imaging: Type.Optional(Type.Object({ focus: Type.Optional(Type.Number()), iris: Type.Optional(Type.Number()) })),
});
export const PtzCentreBody = Type.Object({
  x: Type.Number({ minimum: -1, maximum: 1, description: 'where the click fell across the picture: -1 left edge, 1 right edge' }),
  y: Type.Number({ minimum: -1, maximum: 1, description: '-1 bottom edge, 1 top edge' }),
}, { additionalProperties: false });
export const FocusBody = Type.Object({
  speed: Type.Number({ minimum: -1, maximum: 1, description: 'negative: nearer, positive: farther' }),
  timeoutMs: Type.Integer({ minimum: 100, maximum: 10_000, default: 1000, description: 'the lens stops by itself after this' }),
}, { additionalProperties: false });
export const IrisBody = Type.Object({ step: Type.Union([Type.Literal(1), Type.Literal(-1)], { description: '1 opens the iris one step, -1 closes it' }) }, { additionalProperties: false });
export const PresetName = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const DiscoverBody = Type.Object({
  devices: Type.Array(Type.Object({
    endpoint: Type.String(),
    xaddrs: Type.Array(Type.String()),
    name: Type.Optional(Type.String()),
    hardware: Type.Optional(Type.String()),
    address: Type.String(),
    cameraId: Type.Union([Type.String(), Type.Null()], { description: 'the catalog camera with this ONVIF endpoint, if any' }),
  })),
});
export const ProbeRequest = Type.Object({
  url: Type.String({ minLength: 8, maxLength: 1024, description: 'ONVIF device service (http://...) or RTSP stream (rtsp://...)' }),
  username: Type.Optional(Type.String({ maxLength: 64 })),
  password: Type.Optional(Type.String({ maxLength: 128 })),
}, { additionalProperties: false });
const StreamProbe = Type.Object({
  profile: ProfileName, url: Type.String(), token: Type.Optional(Type.String()),
  width: Type.Optional(Type.Number()), height: Type.Optional(Type.Number()), fps: Type.Optional(Type.Number()), encoding: Type.Optional(Type.String()),
  probe: Type.Optional(Type.Object({ latencyMs: Type.Number(), auth: Type.String(), server: Type.Optional(Type.String()), video: Type.Optional(Type.Record(Type.String(), Type.Unknown())) })),
  error: Type.Optional(Type.String()),
});
export const ProbeBody = Type.Object({
  kind: Type.Union([Type.Literal('onvif'), Type.Literal('rtsp')]),
  device: Type.Optional(Type.Object({ manufacturer: Type.String(), model: Type.String(), firmwareVersion: Type.String(), serialNumber: Type.String(), hardwareId: Type.String() })),
  ptz: Type.Optional(Type.Boolean()),
  streams: Type.Array(StreamProbe),
  suggested: Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()), mainUrl: Type.Optional(Type.String()), subUrl: Type.Optional(Type.String()), onvifUrl: Type.Optional(Type.String()) }),
});
export const NewCameraBody = Type.Object({
  id: CameraId,
  name: Type.String({ minLength: 1, maxLength: 128 }),
  unit: UnitCode,
  kind: Type.Optional(Type.String({ maxLength: 16 })),
  latitude: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  longitude: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  mainUrl: Type.Optional(Type.String({ maxLength: 1024 })),
  subUrl: Type.Optional(Type.String({ maxLength: 1024 })),
  onvifUrl: Type.Optional(Type.String({ maxLength: 1024 })),
  username: Type.Optional(Type.String({ maxLength: 64 })),
  password: Type.Optional(Type.String({ maxLength: 128 })),
  transport: Type.Optional(TransportName),
}, { additionalProperties: false });

export const ActionName = Type.Union(['live', 'playback', 'ptz', 'wall'].map((a) => Type.Literal(a)));
export const GrantCreate = Type.Object({
  toUnit: UnitCode,
  cameras: Type.Optional(Type.Array(CameraId, { minItems: 1, maxItems: 5000 })),
  group: Type.Optional(RowId),
  actions: Type.Array(ActionName, { minItems: 1, uniqueItems: true }),
  expiresAt: Type.Optional(Type.Union([EpochMs, Type.Null()], { description: 'Unix ms; absent or null: no expiry' })),
  reGrant: Type.Boolean({ default: false, description: 'the receiving unit may push these cameras further down' }),
  parent: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'a grant your unit received, passed on' })),
}, { additionalProperties: false });
export const GrantBody = Type.Object({
  id: Type.Integer(),
  grantorUser: Type.Integer(),
  grantorName: Type.String(),
  grantorUnit: Type.String(),
  grantorUnitName: Type.String(),
  toUnit: Type.String(),
  toUnitName: Type.String(),
  cameras: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  group: Type.Union([Type.Object({ id: Type.Integer(), name: Type.String() }), Type.Null()]),
  actions: Type.Array(ActionName),
  expiresAt: Type.Union([Type.Number(), Type.Null()]),
  reGrant: Type.Boolean(),
  parent: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Number(),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  revokedAt: Type.Union([Type.Number(), Type.Null()]),
  unusable: Type.Array(ActionName, { description: 'actions no account of the receiving unit has a role for (a PTZ grant to a unit of viewers does nothing)' }),
});
export const GroupCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  ownerUnit: UnitCode,
  cameras: Type.Array(CameraId, { minItems: 1, maxItems: 5000 }),
}, { additionalProperties: false });
export const GroupBody = Type.Object({ id: Type.Integer(), name: Type.String(), ownerUnit: Type.String(), cameras: Type.Array(Type.String()) });
export const AccountBody = Type.Object({
  id: Type.Integer(), username: Type.String(), displayName: Type.String(), unit: Type.String(), unitName: Type.String(),
  roles: Type.Array(RoleName), disabled: Type.Boolean(),
  lock: Type.Optional(Type.Object({
    addresses: Type.Integer({ description: 'addresses locked out after too many wrong passwords' }),
    until: Type.Number({ description: 'when the last of those locks ends (0: none)' }),
    slowed: Type.Boolean({ description: 'the account is under attack: new addresses are slowed down' }),
  })),
  manageable: Type.Boolean({ description: 'the caller may change this account (accounts below her unit, and the non-administrators of her own)' }),
});
export const PasswordChange = Type.Object({
  current: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.String({ minLength: 10, maxLength: 256 }),
}, { additionalProperties: false });
export const AccountCreate = Type.Object({
  username: Type.String({ pattern: '^[a-zA-Z0-9._-]{3,64}$' }),
  displayName: Type.String({ minLength: 1, maxLength: 64 }),
  unit: UnitCode,
  roles: Type.Array(RoleName, { minItems: 1, uniqueItems: true }),
  password: Type.String({ minLength: 10, maxLength: 256 }),
}, { additionalProperties: false });
export const AccountChange = Type.Object({
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  roles: Type.Optional(Type.Array(RoleName, { minItems: 1, uniqueItems: true })),
  disabled: Type.Optional(Type.Boolean()),
  password: Type.Optional(Type.String({ minLength: 10, maxLength: 256 })),
  unlock: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export const SessionBody = Type.Object({
  id: Type.String({ description: 'the session\'s stored hash, not its secret' }),
  userId: Type.Integer(), username: Type.String(), createdAt: Type.Number(), lastSeenAt: Type.Number(), expiresAt: Type.Number(),
  remote: Type.Union([Type.String(), Type.Null()]), userAgent: Type.Union([Type.String(), Type.Null()]), current: Type.Boolean(),
});
export const AuditQueryBody = Type.Object({
  from: Type.Optional(EpochMs), to: Type.Optional(EpochMs),
  action: Type.Optional(Type.String({ maxLength: 32 })), camera: Type.Optional(CameraId), username: Type.Optional(Type.String({ maxLength: 64 })),
  unit: Type.Optional(UnitCode),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }), offset: Offset,
});
export const AuditEntryBody = Type.Object({
  id: Type.Integer(), at: Type.Number(), userId: Type.Union([Type.Integer(), Type.Null()]), username: Type.String(),
  unit: Type.Union([Type.String(), Type.Null()]), action: Type.String(), camera: Type.Union([Type.String(), Type.Null()]),
  cameraUnit: Type.Union([Type.String(), Type.Null()]), detail: Type.Record(Type.String(), Type.Unknown()), remote: Type.Union([Type.String(), Type.Null()]), hash: Type.String(),
  cameraName: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export const AuditActionsBody = Type.Object({ actions: Type.Array(Type.String()) });
export const AuditPage = Type.Object({ total: Type.Integer(), entries: Type.Array(AuditEntryBody) });

const EventKindName = Type.Union(['camera.offline', 'camera.online', 'camera.credentials', 'camera.credentials-ok', 'stream.failed', 'import.done', 'import.failed', 'grant.received', 'grant.revoked'].map((k) => Type.Literal(k)));
export const EventQueryBody = Type.Object({
  kind: Type.Optional(EventKindName),
  unit: Type.Optional(UnitCode),
  acked: Type.Optional(Type.Boolean()),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'events older than this id (pages back through history)' })),
  from: Type.Optional(EpochMs),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
});
export const EventBody = Type.Object({
  id: Type.Integer(), at: Type.Number(), kind: Type.String(), unit: Type.String(), unitName: Type.String(),
  camera: Type.Union([Type.String(), Type.Null()]), cameraName: Type.Union([Type.String(), Type.Null()]),
  params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
  ackedBy: Type.Union([Type.String(), Type.Null()]), ackedAt: Type.Union([Type.Number(), Type.Null()]),
});
export const WebhookCreate = Type.Object({
  url: Type.String({ minLength: 8, maxLength: 512 }),
  kinds: Type.Array(EventKindName, { minItems: 1, maxItems: 16 }),
  unit: Type.Optional(UnitCode),
}, { additionalProperties: false });
export const WebhookBody = Type.Object({
  id: Type.Integer(), unit: Type.String(), unitName: Type.String(), url: Type.String(), kinds: Type.Array(Type.String()),
  createdAt: Type.Number(), lastStatus: Type.Union([Type.String(), Type.Null()]), lastAt: Type.Union([Type.Number(), Type.Null()]), failures: Type.Integer(),
});

export const CameraChange = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  unit: Type.Optional(UnitCode),
  kind: Type.Optional(Type.String({ maxLength: 16 })),
  latitude: Type.Optional(Type.Union([Type.Number({ minimum: -90, maximum: 90 }), Type.Null()])),
  longitude: Type.Optional(Type.Union([Type.Number({ minimum: -180, maximum: 180 }), Type.Null()])),
  mainUrl: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  subUrl: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  onvifUrl: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  username: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  password: Type.Optional(Type.String({ maxLength: 128, description: 'empty or absent keeps the stored one' })),
  transport: Type.Optional(TransportName),
}, { additionalProperties: false });
export const CameraConfigBody = Type.Object({
  id: Type.String(), name: Type.String(), unit: Type.String(), unitName: Type.String(), kind: Type.String(),
  latitude: Type.Union([Type.Number(), Type.Null()]), longitude: Type.Union([Type.Number(), Type.Null()]),
  mainUrl: Type.Union([Type.String(), Type.Null()]), subUrl: Type.Union([Type.String(), Type.Null()]), onvifUrl: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]), hasPassword: Type.Boolean(), transport: TransportName, push: Type.Boolean(),
});
export const ConsoleSettingsBody = Type.Object({
  rateGood: Type.Number(), rateWarn: Type.Number(),
  map: Type.Object({ tileUrl: Type.String(), attribution: Type.String(), maxZoom: Type.Integer() }),
});
export const MapCamerasBody = Type.Object({
  cameras: Type.Array(Type.Tuple([Type.String(), Type.String(), Type.Number(), Type.Number(), Type.Integer()]), { description: '[id, name, latitude, longitude, state: 0 online, 1 offline, 2 not checked]' }),
  withoutPosition: Type.Integer(),
  units: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), level: Type.String(), latitude: Type.Number(), longitude: Type.Number(), cameras: Type.Integer() })),
});

export type User = Static<typeof UserBody>;
export type CameraChangeT = Static<typeof CameraChange>;
export type CameraConfigT = Static<typeof CameraConfigBody>;
export type MapCamerasT = Static<typeof MapCamerasBody>;
export type EventT = Static<typeof EventBody>;
export type WebhookT = Static<typeof WebhookBody>;
export type UnitNodeT = Static<typeof UnitNode>;
export type CameraSummaryT = Static<typeof CameraSummaryBody>;
export type CameraT = Static<typeof CameraBody>;
export type TreeRoot = Static<typeof TreeRootBody>;
export type Children = Static<typeof ChildrenBody>;
export type SearchResult = Static<typeof SearchBody>;
export type SearchCameraT = Static<typeof SearchCamera>;
export type SearchUnitT = Static<typeof SearchUnit>;
export type UnitT = Static<typeof UnitBody>;
export type ViewT = Static<typeof ViewBody>;
export type ViewSaveT = Static<typeof ViewSave>;
export type UnitCamerasT = Static<typeof UnitCamerasBody>;
export type StreamInfoT = Static<typeof StreamInfoBody>;
export type StreamTicketT = Static<typeof StreamTicket>;
export type TokenT = Static<typeof TokenBody>;
export type UnitHealthT = Static<typeof UnitHealthBody>;
export type UnitHealthReportT = Static<typeof UnitHealthReport>;
export type OfflineT = Static<typeof OfflineBody>;
export type CameraHealthT = Static<typeof CameraHealthBody>;
export type ImportJobT = Static<typeof ImportJobBody>;
export type PtzStateT = Static<typeof PtzStateBody>;
export type DiscoverT = Static<typeof DiscoverBody>;
export type ProbeT = Static<typeof ProbeBody>;
export type NewCameraT = Static<typeof NewCameraBody>;
export type GrantT = Static<typeof GrantBody>;
export type GroupT = Static<typeof GroupBody>;
export type AccountT = Static<typeof AccountBody>;
export type SessionT = Static<typeof SessionBody>;
export type AuditPageT = Static<typeof AuditPage>;
export type ErrorBodyT = Static<typeof ErrorBody>;
