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

export const UnitNode = Type.Object({
  code: Type.String(),
  name: Type.String(),
  level: Level,
  parent: Type.Union([Type.String(), Type.Null()]),
  cameraCount: Type.Integer({ description: 'cameras in the whole subtree' }),
  childCount: Type.Integer(),
});

export const CameraSummaryBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  kind: Type.String(),
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
});

export const TreeRootBody = Type.Object({ root: UnitNode, path: Type.Array(Type.Object({ code: Type.String(), name: Type.String() })) });
export const ChildrenBody = Type.Object({ units: Type.Array(UnitNode), cameras: Type.Array(CameraSummaryBody) });
export const SearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: 64 }),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
});
export const SearchBody = Type.Object({
  units: Type.Array(UnitNode),
  cameras: Type.Array(CameraSummaryBody),
  totalCameras: Type.Integer({ description: 'all matching cameras, of which the first limit are returned' }),
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
});
export const StreamRequest = Type.Object({ camera: CameraId, profile: ProfileName }, { additionalProperties: false });
export const StreamTicket = Type.Object({
  stream: StreamInfoBody,
  playlistUrl: Type.String({ description: 'HLS playlist URL, carrying the media token' }),
  token: Type.String(),
  tokenExpires: Type.Number(),
});
export const TokenBody = Type.Object({ token: Type.String(), tokenExpires: Type.Number() });

export type User = Static<typeof UserBody>;
export type UnitNodeT = Static<typeof UnitNode>;
export type CameraSummaryT = Static<typeof CameraSummaryBody>;
export type CameraT = Static<typeof CameraBody>;
export type TreeRoot = Static<typeof TreeRootBody>;
export type Children = Static<typeof ChildrenBody>;
export type SearchResult = Static<typeof SearchBody>;
export type StreamInfoT = Static<typeof StreamInfoBody>;
export type StreamTicketT = Static<typeof StreamTicket>;
export type TokenT = Static<typeof TokenBody>;
export type ErrorBodyT = Static<typeof ErrorBody>;
