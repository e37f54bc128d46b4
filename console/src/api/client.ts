// The typed API client: the gateway's route types, imported as types only.
import type {
  AccountT, AuditPageT, CameraHealthT, CameraT, Children, DiscoverT, ErrorBodyT, GrantT, GroupT, ImportJobT, SessionT, NewCameraT, OfflineT, ProbeT, PtzStateT, SearchCameraT, SearchResult, SearchUnitT, StreamInfoT, StreamTicketT, TokenT, TreeRoot, UnitCamerasT, UnitHealthReportT, UnitHealthT, UnitT, User, ViewSaveT, ViewT, EventT, WebhookT, MapCamerasT, CameraChangeT, CameraConfigT,
} from '../../../gateway/src/http/schemas.js';

export type { AccountT, AuditPageT, CameraHealthT, CameraT, Children, DiscoverT, GrantT, GroupT, ImportJobT, SessionT, NewCameraT, OfflineT, ProbeT, PtzStateT, SearchCameraT, SearchResult, SearchUnitT, StreamInfoT, StreamTicketT, TreeRoot, UnitCamerasT, UnitHealthReportT, UnitHealthT, UnitT, User, ViewSaveT, ViewT, EventT, WebhookT, MapCamerasT, CameraChangeT, CameraConfigT };

import type { WallT, WallSummaryT, CommandT, PresetT, ScheduleT, TourT, AlarmT, DisplayT, TargetT, PictureT } from '../../../gateway/src/wall/wall-schemas.js';

export type { WallT, WallSummaryT, CommandT, PresetT, ScheduleT, TourT, AlarmT, DisplayT, TargetT, PictureT };

/** ConsoleSettings are what the gateway's config says of the console. */
export interface ConsoleSettings { rateGood: number; rateWarn: number; map: { tileUrl: string; attribution: string; maxZoom: number } }

/** SearchOptions narrow a search: what it looks for, a page of cameras, their state and kind. */
export interface SearchOptions {
  limit?: number;
  offset?: number;
  what?: 'all' | 'units' | 'cameras';
  state?: 'online' | 'offline' | 'unknown';
  kind?: string;
}

function searchQuery(q: string, o: SearchOptions): string {
  const p = new URLSearchParams({ q, limit: String(o.limit ?? 50), offset: String(o.offset ?? 0), what: o.what ?? 'all' });
  if (o.state) p.set('state', o.state);
  if (o.kind) p.set('kind', o.kind);
  return p.toString();
}
export type Profile = 'main' | 'sub';

/** ApiError carries the gateway's error code and its message in words. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(status: number, body: Partial<ErrorBodyT>) {
    super(body.message ?? `request failed (${status})`);
    this.status = status;
    this.code = body.code ?? 'unknown';
    this.details = body.details;
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: 'network', message: 'the gateway cannot be reached' });
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) throw new ApiError(res.status, data as Partial<ErrorBodyT>);
  return data as T;
}

/** api lists the calls the console makes. */
export const api = {
  login: (username: string, password: string) => call<User>('POST', '/api/auth/login', { username, password }),
  logout: () => call<void>('POST', '/api/auth/logout'),
  me: () => call<User>('GET', '/api/auth/me'),
  changePassword: (current: string, password: string) => call<void>('POST', '/api/auth/password', { current, password }),
  tree: () => call<TreeRoot>('GET', '/api/tree'),
  children: (code: string) => call<Children>('GET', `/api/units/${encodeURIComponent(code)}/children`),
  search: (q: string, o: SearchOptions = {}) => call<SearchResult>('GET', `/api/search?${searchQuery(q, o)}`),
  unit: (code: string) => call<UnitT>('GET', `/api/units/${encodeURIComponent(code)}`),
  unitCameras: (code: string, offset: number, limit: number) => call<UnitCamerasT>('GET', `/api/units/${encodeURIComponent(code)}/cameras?offset=${offset}&limit=${limit}`),
  views: () => call<{ views: ViewT[] }>('GET', '/api/views'),
  saveView: (v: ViewSaveT, id?: number) => (id === undefined ? call<ViewT>('POST', '/api/views', v) : call<ViewT>('PUT', `/api/views/${id}`, v)),
  deleteView: (id: number) => call<void>('DELETE', `/api/views/${id}`),
  events: (q: { kind?: string; unit?: string; acked?: boolean; before?: number; limit?: number }) => {
    const p = new URLSearchParams({ limit: String(q.limit ?? 100) });
    if (q.kind) p.set('kind', q.kind);
    if (q.unit) p.set('unit', q.unit);
    if (q.acked !== undefined) p.set('acked', String(q.acked));
    if (q.before !== undefined) p.set('before', String(q.before));
    return call<{ events: EventT[]; unacked: number }>('GET', `/api/events?${p.toString()}`);
  },
  ackEvents: (ids: number[]) => call<{ acked: number[] }>('POST', '/api/events/ack', { ids }),
  webhooks: () => call<{ webhooks: WebhookT[] }>('GET', '/api/webhooks'),
  createWebhook: (h: { url: string; kinds: string[]; unit?: string }) => call<WebhookT & { secret: string }>('POST', '/api/webhooks', h),
  deleteWebhook: (id: number) => call<void>('DELETE', `/api/webhooks/${id}`),
  settings: () => call<ConsoleSettings>('GET', '/api/console/settings'),
  mapCameras: (unit?: string) => call<MapCamerasT>('GET', `/api/map/cameras${unit ? `?unit=${encodeURIComponent(unit)}` : ''}`),
  updateCamera: (id: string, change: CameraChangeT) => call<CameraT>('PATCH', `/api/cameras/${encodeURIComponent(id)}`, change),
  cameraConfig: (id: string) => call<CameraConfigT>('GET', `/api/cameras/${encodeURIComponent(id)}/config`),
  deleteCamera: (id: string) => call<void>('DELETE', `/api/cameras/${encodeURIComponent(id)}`),
  offlineCsvUrl: (unit: string) => `/api/health/units/${encodeURIComponent(unit)}/offline.csv`,
  auditActions: () => call<{ actions: string[] }>('GET', '/api/audit/actions'),
  openStream: (camera: string, profile: Profile) => call<StreamTicketT>('POST', '/api/streams', { camera, profile }),
  renewToken: (camera: string, profile: Profile) => call<TokenT>('POST', '/api/streams/token', { camera, profile }),
  unitHealth: (code: string) => call<UnitHealthReportT>('GET', `/api/health/units/${encodeURIComponent(code)}`),
  offline: (code: string, offset: number, limit: number, problem: 'offline' | 'credentials' = 'offline') => call<OfflineT>('GET', `/api/health/units/${encodeURIComponent(code)}/offline?offset=${offset}&limit=${limit}&problem=${problem}`),
  cameraHealth: (camera: string) => call<CameraHealthT>('GET', `/api/cameras/${encodeURIComponent(camera)}/health`),
  importJob: (id: string) => call<ImportJobT>('GET', `/api/catalog/imports/${encodeURIComponent(id)}`),
  camera: (id: string) => call<CameraT>('GET', `/api/cameras/${encodeURIComponent(id)}`),
  ptz: (id: string) => call<PtzStateT>('GET', `/api/cameras/${encodeURIComponent(id)}/ptz`),
  ptzMove: (id: string, v: { pan?: number; tilt?: number; zoom?: number }, timeoutMs: number) => call<void>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/move`, { ...v, timeoutMs }),
  ptzStop: (id: string) => call<void>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/stop`),
  ptzCentre: (id: string, at: { x: number; y: number }) => call<void>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/centre`, at),
  focus: (id: string, speed: number, timeoutMs: number) => call<void>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/focus`, { speed, timeoutMs }),
  focusStop: (id: string) => call<void>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/focus/stop`),
  iris: (id: string, step: 1 | -1) => call<{ iris: number }>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/iris`, { step }),
  savePreset: (id: string, name: string) => call<{ token: string; name: string }>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/presets`, { name }),
  gotoPreset: (id: string, token: string) => call<void>('POST', `/api/cameras/${encodeURIComponent(id)}/ptz/presets/${encodeURIComponent(token)}/goto`),
  snapshotUrl: (id: string, profile: Profile) => `/api/cameras/${encodeURIComponent(id)}/snapshot?profile=${profile}`,
  discover: () => call<DiscoverT>('POST', '/api/devices/discover', { timeoutMs: 3000 }),
  probe: (url: string, username?: string, password?: string) => call<ProbeT>('POST', '/api/devices/probe', { url, ...(username ? { username, password: password ?? '' } : {}) }),
  addCamera: (camera: NewCameraT) => call<CameraT>('POST', '/api/cameras', camera),
  grants: (ended = false) => call<{ grants: GrantT[] }>('GET', `/api/grants?ended=${ended}`),
  createGrant: (g: { toUnit: string; cameras?: string[]; group?: number; actions: string[]; expiresAt?: number; reGrant: boolean; parent?: number }) => call<GrantT>('POST', '/api/grants', g),
  revokeGrant: (id: number) => call<{ revoked: number[] }>('DELETE', `/api/grants/${id}`),
  withdrawCamera: (id: number, camera: string) => call<{ shrunk: number[]; ended: number[] }>('DELETE', `/api/grants/${id}/cameras/${encodeURIComponent(camera)}`),
  groups: () => call<{ groups: GroupT[] }>('GET', '/api/groups'),
  createGroup: (g: { name: string; ownerUnit: string; cameras: string[] }) => call<GroupT>('POST', '/api/groups', g),
  users: () => call<{ users: AccountT[] }>('GET', '/api/users'),
  createUser: (u: { username: string; displayName: string; unit: string; roles: string[]; password: string }) => call<AccountT>('POST', '/api/users', u),
  changeUser: (id: number, change: { displayName?: string; roles?: string[]; disabled?: boolean; password?: string; unlock?: boolean }) => call<AccountT>('PATCH', `/api/users/${id}`, change),
  sessions: (scope: 'mine' | 'subtree') => call<{ sessions: SessionT[] }>('GET', `/api/sessions?scope=${scope}`),
  endSession: (id: string) => call<void>('DELETE', `/api/sessions/${id}`),
  audit: (query: string) => call<AuditPageT>('GET', `/api/audit?${query}`),
  walls: () => call<{ walls: WallSummaryT[] }>('GET', '/api/walls'),
  wall: (id: number) => call<WallT>('GET', `/api/walls/${id}`),
  createWall: (w: { name: string; unit: string; rows: number; cols: number; split?: number }) => call<WallT>('POST', '/api/walls', w),
  changeWall: (id: number, change: { name?: string; alarmTargets?: TargetT[] }) => call<WallT>('PATCH', `/api/walls/${id}`, change),
  deleteWall: (id: number) => call<void>('DELETE', `/api/walls/${id}`),
  wallCommand: (id: number, version: number, command: CommandT) => call<{ version: number; window?: number }>('POST', `/api/walls/${id}/commands`, { version, command }),
  presets: (id: number) => call<{ presets: PresetT[] }>('GET', `/api/walls/${id}/presets`),
  savePresetOf: (id: number, name: string) => call<PresetT>('POST', `/api/walls/${id}/presets`, { name }),
  recallPreset: (id: number, preset: number) => call<{ version: number; skipped: number }>('POST', `/api/walls/${id}/presets/${preset}/recall`),
  deletePreset: (id: number, preset: number) => call<void>('DELETE', `/api/walls/${id}/presets/${preset}`),
  schedules: (id: number) => call<{ schedules: ScheduleT[] }>('GET', `/api/walls/${id}/schedules`),
  addSchedule: (id: number, s: { preset: number; minute: number; days: number }) => call<ScheduleT>('POST', `/api/walls/${id}/schedules`, s),
  deleteSchedule: (id: number, schedule: number) => call<void>('DELETE', `/api/walls/${id}/schedules/${schedule}`),
  createTour: (id: number, tour: { name: string; cameras?: string[]; unit?: string; targets: TargetT[]; intervalSeconds: number }) => call<TourT>('POST', `/api/walls/${id}/tours`, tour),
  tourControl: (id: number, tour: number, what: 'start' | 'pause' | 'resume' | 'stop') => call<TourT>('POST', `/api/walls/${id}/tours/${tour}/${what}`),
  deleteTour: (id: number, tour: number) => call<void>('DELETE', `/api/walls/${id}/tours/${tour}`),
  raiseAlarm: (id: number, a: { camera: string; target?: TargetT; preset?: string; note?: string }) => call<AlarmT>('POST', `/api/walls/${id}/alarms`, a),
  ackAlarm: (id: number, alarm: number) => call<AlarmT>('POST', `/api/walls/${id}/alarms/${alarm}/ack`),
  displays: (id: number) => call<{ displays: DisplayT[] }>('GET', `/api/walls/${id}/displays`),
  addDisplay: (id: number, d: { screen: number; name: string }) => call<DisplayT & { token: string; url: string }>('POST', `/api/walls/${id}/displays`, d),
  revokeDisplay: (id: number, display: number) => call<void>('DELETE', `/api/walls/${id}/displays/${display}`),
  streamInfo: (camera: string, profile: Profile) => call<StreamInfoT>('GET', `/api/streams/${encodeURIComponent(camera)}/${profile}`),
};
