// The small interfaces http/ needs; app.ts hands in the real objects.
import type { Profile } from '../../../adapters/core/types.js';
import type { AccessIndex } from '../access/access-index.js';
import type { MediaTokens } from '../auth/media-token.js';
import type { SessionStore } from '../auth/session-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type { StreamInfo, ViewerRef } from '../media/stream.js';
import type { HlsFile, PlaylistRequest } from '../media/stream-hub.js';
import type { FrameBus } from '../media/core/frame-bus.js';
import type { CameraHealth, SweepReport } from '../health/health-monitor.js';
import type { HealthEvent } from '../health/health-store.js';
import type { UnitHealth } from '../health/online-rates.js';
import type { Registry } from 'prom-client';
import type { DiscoveredDevice } from '../../../adapters/onvif/onvif-client.js';
import type { SourceCredentials } from '../../../adapters/core/types.js';
import type { DeviceProbe } from '../devices/onboarding.js';
import type { NewCamera } from '../catalog/catalog.js';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import type { Viewer } from '../audit/view-tracker.js';
import type { GrantStore } from '../catalog/grant-store.js';
import type { ViewStore } from '../catalog/view-store.js';
import type { EventCenter } from '../events/event-center.js';
import type { Webhooks } from '../events/webhooks.js';
import type { LoginGuard } from '../auth/login-guard.js';
import type { ImportJobs } from '../catalog/import/import-jobs.js';
import type { SessionInfo, ViewRequest } from '../media/webrtc/webrtc-service.js';
import type { Walls } from '../wall/walls.js';
import type { RoomViewers, WallDisplays } from './media-guard.js';
import type { Rooms } from '../rooms/rooms.js';
import type { RoomStore } from '../rooms/room-store.js';
import type { RoomRecordings } from '../rooms/recordings.js';
import type { RoomMedia } from '../media/webrtc/room-media.js';

/** MediaHub is what routes ask of the stream hub. */
export interface MediaHub {
  open(camera: string, profile: Profile, viewer: ViewerRef): StreamInfo;
  touch(camera: string, profile: Profile, viewer: ViewerRef): StreamInfo | undefined;
  info(camera: string, profile: Profile): StreamInfo | undefined;
  list(): StreamInfo[];
  waitLive(camera: string, profile: Profile, timeoutMs: number): Promise<StreamInfo | undefined>;
  playlist(camera: string, profile: Profile, req?: PlaylistRequest): Promise<string | undefined | 'timeout' | 'too-far'>;
  file(camera: string, profile: Profile, name: string, waitMs: number): Promise<HlsFile | undefined>;
  /** bus is an open stream's frame bus (FLV reads it). */
  bus(camera: string, profile: Profile): FrameBus | undefined;
}

/** WebRtcView is what the WHEP routes ask of the WebRTC service. */
export interface WebRtcView {
  view(req: ViewRequest): Promise<{ id: string; answer: string; info: SessionInfo }>;
  leave(id: string): boolean;
  session(id: string): SessionInfo | undefined;
  arrivalOf(id: string, rtp: number): number | undefined;
}

/** HealthView is what routes ask of the health monitor and its history. */
export interface HealthView {
  unit(code: string): UnitHealth;
  camera(id: string): Readonly<CameraHealth> | undefined;
  history(id: string, limit: number): HealthEvent[];
  readonly lastSweep: SweepReport | undefined;
  readonly intervalMs: number;
}

/** DeviceView is what routes ask of cameras' devices: snapshots and the PTZ head. */
export interface DeviceView {
  /** hasOnvif says whether the camera has an ONVIF endpoint (PTZ and presets go through it). */
  hasOnvif(camera: string): boolean;
  snapshot(camera: string, profile: Profile): Promise<Buffer>;
  move(camera: string, v: { pan?: number; tilt?: number; zoom?: number }, timeoutMs: number): Promise<void>;
  stop(camera: string): Promise<void>;
  status(camera: string): Promise<{ pan: number; tilt: number; zoom: number; moving: { panTilt: boolean; zoom: boolean } }>;
  presets(camera: string): Promise<Array<{ token: string; name: string }>>;
  gotoPreset(camera: string, token: string): Promise<void>;
  setPreset(camera: string, name: string): Promise<string>;
  capabilities(camera: string): Promise<{ relative: boolean; focus: boolean; iris: boolean }>;
  centre(camera: string, x: number, y: number): Promise<void>;
  focus(camera: string, speed: number, timeoutMs: number): Promise<void>;
  focusStop(camera: string): Promise<void>;
  iris(camera: string, step: 1 | -1): Promise<number>;
  imaging(camera: string): Promise<{ focus?: number; iris?: number } | undefined>;
}

/** Onboarding is what routes ask to bring new devices in. */
export interface Onboarding {
  discover(timeoutMs: number): Promise<Array<DiscoveredDevice & { cameraId: string | null }>>;
  probe(url: string, credentials: SourceCredentials | undefined): Promise<DeviceProbe>;
  /** add writes one new camera (already checked) and makes it known to every part of the gateway. */
  add(camera: NewCamera): void;
  /** remove deletes a camera from the catalog (its grants' lists, health and groups with it) and from every part. */
  remove(camera: string): void;
}

/** AuditView is what routes record and read. */
export interface AuditView {
  record(e: AuditEvent): void;
  /** refuse records a refusal; repeats of one key within a while are written as one summary. */
  refuse(key: string, e: AuditEvent): void;
  /** touchView keeps a viewer's view of a camera open (media requests call it). */
  touchView(viewer: Viewer, camera: string, profile: Profile): void;
  query: AuditLog['query'];
}

/** HttpDeps are everything the routes use. */
export interface HttpDeps {
  catalog: Pick<Catalog, 'tree' | 'summary' | 'summaries' | 'camera' | 'camerasOf' | 'user' | 'userWithHash' | 'unitName'>;
  access: AccessIndex;
  sessions: SessionStore;
  tokens: MediaTokens;
  hub: MediaHub;
  /** webrtc is undefined when WebRTC is off (media.webrtc.enabled) or its worker could not start. */
  webrtc?: WebRtcView;
  /** rtsp says where the RTSP output listens, when it is on. */
  rtsp?: { port: number; announcedHost: string };
  /** rtmp says where devices push, when the RTMP ingest is on. */
  rtmp?: { port: number; announcedHost: string };
  health: HealthView;
  devices: DeviceView;
  onboarding: Onboarding;
  audit: AuditView;
  grants: Pick<GrantStore, 'create' | 'revoke' | 'withdraw' | 'createGroup' | 'list'>;
  savedViews: ViewStore;
  /** walls are the video walls; displays answers the media guard for their display devices. */
  walls: Walls;
  displays: WallDisplays;
  /** rooms are the mediation and conference rooms, undefined when WebRTC is off. */
  rooms?: { registry: Rooms; media: RoomMedia; store: RoomStore; recordings: RoomRecordings };
  /** roomViewers answers the media guard for the cameras brought into rooms. */
  roomViewers?: RoomViewers;
  events: EventCenter;
  webhooks: Webhooks;
  /** consoleSettings are what the console needs of the config (colours of rates, the base map). */
  consoleSettings: { rateGood: number; rateWarn: number; map: { tileUrl: string; attribution: string; maxZoom: number } };
  loginGuard: LoginGuard;
  accounts: Pick<Catalog, 'usersIn' | 'updateUser' | 'addUser'>;
  imports: Pick<ImportJobs, 'spool' | 'start' | 'get' | 'rejections'>;
  /** metrics is served at /metrics when set; metricsToken, when non-empty, is the bearer token scrapers must send. */
  metrics?: { registry: Registry; token: string };
  /** consoleDir holds the built console; undefined serves a page saying how to build it. */
  consoleDir?: string;
  secureCookies: boolean;
  /** playlistWaitMs is how long a playlist request waits for a starting stream. */
  playlistWaitMs: number;
  /** requestTimeoutMs bounds a whole request; idleTimeoutMs a connection that sends nothing. */
  requestTimeoutMs: number;
  idleTimeoutMs: number;
}
