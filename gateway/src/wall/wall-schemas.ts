// The wall's request and answer shapes (TypeBox): the routes check against them, the console and display pages
// import their types.
import { Type, type Static } from '@sinclair/typebox';
import { CameraId, RowId, UnitCode } from '../http/schemas.js';

const Screen = Type.Integer({ minimum: 0, maximum: 255 });
const Tile = Type.Integer({ minimum: 0, maximum: 63 });
const Coord = Type.Number({ minimum: 0, maximum: 64 });
const Name = Type.String({ minLength: 1, maxLength: 60 });

export const TargetBody = Type.Union([
  Type.Object({ screen: Screen, tile: Tile }, { additionalProperties: false }),
  Type.Object({ window: RowId }, { additionalProperties: false }),
]);
export const ProfileChoiceBody = Type.Union([Type.Literal('auto'), Type.Literal('main'), Type.Literal('sub')]);
const Split = Type.Union([1, 4, 6, 8, 9, 16].map((n) => Type.Literal(n)));
const CellBody = Type.Object({ col: Type.Integer({ minimum: 0, maximum: 7 }), row: Type.Integer({ minimum: 0, maximum: 7 }), colSpan: Type.Integer({ minimum: 1, maximum: 8 }), rowSpan: Type.Integer({ minimum: 1, maximum: 8 }) }, { additionalProperties: false });
export const LayoutBody = Type.Union([
  Type.Object({ split: Split }, { additionalProperties: false }),
  Type.Object({ cols: Type.Integer({ minimum: 1, maximum: 8 }), rows: Type.Integer({ minimum: 1, maximum: 8 }), cells: Type.Array(CellBody, { minItems: 1, maxItems: 16 }) }, { additionalProperties: false }),
]);

export const WallCreate = Type.Object({
  name: Name, unit: UnitCode, rows: Type.Integer({ minimum: 1, maximum: 8 }), cols: Type.Integer({ minimum: 1, maximum: 12 }),
  split: Type.Optional(Type.Union([1, 4, 9, 16].map((n) => Type.Literal(n)))),
}, { additionalProperties: false });
export const WallChange = Type.Object({ name: Type.Optional(Name), alarmTargets: Type.Optional(Type.Array(TargetBody, { maxItems: 32 })) }, { additionalProperties: false });

const Rect4 = { x: Coord, y: Coord, w: Type.Number({ minimum: 0.1, maximum: 64 }), h: Type.Number({ minimum: 0.1, maximum: 64 }) };
export const CommandBody = Type.Union([
  Type.Object({ op: Type.Literal('assign'), target: TargetBody, camera: CameraId, profile: Type.Optional(ProfileChoiceBody) }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('clear'), target: TargetBody }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('swap'), a: TargetBody, b: TargetBody }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('layout'), screen: Screen, layout: LayoutBody }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('maximize'), screen: Screen, tile: Type.Union([Tile, Type.Null()]) }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('window.open'), ...Rect4, camera: Type.Optional(CameraId), profile: Type.Optional(ProfileChoiceBody) }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('window.move'), window: RowId, ...Rect4 }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('window.raise'), window: RowId }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('window.close'), window: RowId }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('screen.kind'), screen: Screen, kind: Type.Union([Type.Literal('browser'), Type.Literal('decoder')]) }, { additionalProperties: false }),
]);
export const CommandRequest = Type.Object({ version: Type.Integer({ minimum: 0 }), command: CommandBody }, { additionalProperties: false });

const RectBody = Type.Object({ x: Type.Number(), y: Type.Number(), w: Type.Number(), h: Type.Number() });
const LabelBody = Type.Object({ camera: Type.String(), name: Type.String(), unit: Type.String(), unitName: Type.String() });
/** PictureBody is one picture of a screen as the console's mini-map and a display draw it. */
export const PictureBody = Type.Object({
  key: Type.String(),
  target: TargetBody,
  rect: RectBody,
  z: Type.Integer(),
  hidden: Type.Boolean(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('empty')]),
  online: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('unknown')]),
  profile: Type.Union([Type.Literal('main'), Type.Literal('sub')]),
  choice: Type.Optional(ProfileChoiceBody),
  label: Type.Optional(LabelBody),
  alarm: Type.Optional(Type.Integer()),
  tour: Type.Optional(Type.Integer()),
  upcoming: Type.Optional(Type.Object({ camera: Type.String(), at: Type.Number() })),
});
const MediaBody = Type.Object({
  camera: Type.String(), profile: Type.Union([Type.Literal('main'), Type.Literal('sub')]), token: Type.String(), tokenExpires: Type.Number(),
  playlistUrl: Type.String(), whepUrl: Type.Optional(Type.String()), rtspUrl: Type.Optional(Type.String()),
});
/** DisplayPictureBody is a picture with what a display needs to play it (a media URL with its token). */
export const DisplayPictureBody = Type.Intersect([PictureBody, Type.Object({ media: Type.Optional(MediaBody), next: Type.Optional(MediaBody) })]);

export const ScreenBody = Type.Object({
  index: Type.Integer(), kind: Type.Union([Type.Literal('browser'), Type.Literal('decoder')]), layout: Type.Unknown(), layoutName: Type.String(),
  maximized: Type.Union([Type.Integer(), Type.Null()]), pictures: Type.Array(PictureBody),
});
export const AlarmBody = Type.Object({
  id: Type.Integer(), camera: Type.String(), cameraName: Type.String(), target: Type.Union([TargetBody, Type.Null()]), placed: Type.Union([TargetBody, Type.Null()]),
  preset: Type.Union([Type.String(), Type.Null()]), note: Type.String(), state: Type.String(), raisedAt: Type.Number(), ackedBy: Type.Union([Type.String(), Type.Null()]),
});
export const TourBody = Type.Object({
  id: Type.Integer(), name: Type.String(), cameras: Type.Array(Type.String()), unit: Type.Union([Type.String(), Type.Null()]), targets: Type.Array(TargetBody),
  intervalSeconds: Type.Integer(), state: Type.String(), position: Type.Integer(), nextAt: Type.Union([Type.Number(), Type.Null()]),
});
export const WallBody = Type.Object({
  id: Type.Integer(), name: Type.String(), unit: Type.String(), unitName: Type.String(), rows: Type.Integer(), cols: Type.Integer(), version: Type.Integer(),
  alarmTargets: Type.Array(TargetBody),
  screens: Type.Array(ScreenBody),
  windows: Type.Array(Type.Object({ id: Type.Integer(), x: Type.Number(), y: Type.Number(), w: Type.Number(), h: Type.Number(), z: Type.Integer(), picture: PictureBody })),
  alarms: Type.Array(AlarmBody),
  tours: Type.Array(TourBody),
});
export const WallSummaryBody = Type.Object({ id: Type.Integer(), name: Type.String(), unit: Type.String(), unitName: Type.String(), rows: Type.Integer(), cols: Type.Integer(), version: Type.Integer() });
export const PresetBody = Type.Object({ id: Type.Integer(), name: Type.String(), createdAt: Type.Number(), cameras: Type.Integer() });
export const ScheduleBody = Type.Object({ id: Type.Integer(), preset: Type.Integer(), minute: Type.Integer(), days: Type.Integer(), lastRun: Type.Union([Type.Number(), Type.Null()]) });
export const ScheduleCreate = Type.Object({ preset: RowId, minute: Type.Integer({ minimum: 0, maximum: 1439 }), days: Type.Integer({ minimum: 1, maximum: 127 }) }, { additionalProperties: false });
export const TourCreate = Type.Object({
  name: Name, cameras: Type.Optional(Type.Array(CameraId, { minItems: 1, maxItems: 1000 })), unit: Type.Optional(UnitCode),
  targets: Type.Array(TargetBody, { minItems: 1, maxItems: 64 }), intervalSeconds: Type.Integer({ minimum: 5, maximum: 3600 }),
}, { additionalProperties: false });
export const AlarmCreate = Type.Object({
  camera: CameraId, target: Type.Optional(TargetBody), preset: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })),
  note: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false });
export const DisplayCreate = Type.Object({ screen: Screen, name: Name }, { additionalProperties: false });
export const DisplayBody = Type.Object({
  id: Type.Integer(), screen: Type.Integer(), name: Type.String(), createdAt: Type.Number(), revokedAt: Type.Union([Type.Number(), Type.Null()]), lastSeenAt: Type.Union([Type.Number(), Type.Null()]),
  online: Type.Boolean(),
});
/** DisplayStateBody is what a display of one screen is sent. */
export const DisplayStateBody = Type.Object({
  wall: Type.Object({ id: Type.Integer(), name: Type.String(), rows: Type.Integer(), cols: Type.Integer() }),
  screen: Type.Integer(), kind: Type.Union([Type.Literal('browser'), Type.Literal('decoder')]), version: Type.Integer(), display: Type.String(),
  pictures: Type.Array(DisplayPictureBody),
});

export type WallT = Static<typeof WallBody>;
export type WallSummaryT = Static<typeof WallSummaryBody>;
export type PictureT = Static<typeof PictureBody>;
export type DisplayPictureT = Static<typeof DisplayPictureBody>;
export type DisplayStateT = Static<typeof DisplayStateBody>;
export type CommandT = Static<typeof CommandBody>;
export type TargetT = Static<typeof TargetBody>;
export type PresetT = Static<typeof PresetBody>;
export type ScheduleT = Static<typeof ScheduleBody>;
export type TourT = Static<typeof TourBody>;
export type AlarmT = Static<typeof AlarmBody>;
export type DisplayT = Static<typeof DisplayBody>;
export type LayoutT = Static<typeof LayoutBody>;
