// What plays in one tile: the stream ticket, hls.js, the media token kept fresh, and a watchdog on the picture itself.
// The badge follows the picture, not the player's opinion of it: "live" only while frames are shown, "stalled" as
// soon as they stop, and a frozen player is thrown away and loaded again (a camera that restarts its stream leaves
// hls.js holding a timeline the new stream does not continue).
import Hls from 'hls.js';
import { api, ApiError, type Profile, type StreamInfoT, type StreamTicketT } from '../../api/client.js';
import { whepConnect, WhepError, whepSupported, type WhepSession } from './whep.js';
import { errorOf, type Said } from '../../i18n/i18n.js';

/** Transport is how a tile receives its picture: WebRTC (a fifth of a second), Low-Latency HLS (about a second). */
export type Transport = 'webrtc' | 'll-hls';

/** LATENCY_CLASS names what a viewer can expect of each transport. */
export const LATENCY_CLASS: Record<Transport, string> = { webrtc: '< 0.5 s', 'll-hls': '≈ 1 s' };

/** WEBRTC_CONNECT_MS is how long WebRTC may take to connect before the tile falls back to LL-HLS. */
const WEBRTC_CONNECT_MS = 5000;

/** TileStatus is the badge of a tile. */
export type TileStatus = 'connecting' | 'starting' | 'live' | 'stalled' | 'reconnecting' | 'offline' | 'failed' | 'denied' | 'error';

/** TileView is what the tile shows: its badge, a line of explanation, and how long the first picture took. */
export interface TileView {
  status: TileStatus;
  message: Said | null;
  /** detail is what the gateway or the player said in technical words (shown on hover, never as the message). */
  detail?: string;
  firstFrameMs?: number;
  transport?: Transport;
  /** fallback says why the tile plays LL-HLS instead of WebRTC. */
  fallback?: Said;
}

/** FROZEN_MS is how long the picture may stand still before the badge says so (a segment is 1 s, frames 40 ms apart). */
export const FROZEN_MS = 2000;
/** RELOAD_MS is how long a frozen picture waits for the player to recover on its own before it is loaded again. */
const RELOAD_MS = 6000;
/** MAX_RELOAD_MS caps the wait between reloads of a picture that stays frozen. */
const MAX_RELOAD_MS = 30_000;
const WATCH_EVERY_MS = 500;
const STATE_EVERY_MS = 3000;

/** retrySaid says when the gateway tries the camera again. */
export function retrySaid(info: StreamInfoT | undefined): Said {
  if (!info?.retryAt) return { key: 'common.empty' };
  const s = Math.round((info.retryAt - Date.now()) / 1000);
  return s > 0 ? { key: 'tile.retryIn', params: { s } } : { key: 'tile.retryNow' };
}

/** explain says what the gateway met on the camera (its stream's failure kind), and when it tries again. */
function explain(info: StreamInfoT | undefined, fallback: Said): Said {
  if (!info?.error) return fallback;
  return { key: 'tile.streamProblem', params: { what: { key: `streamKind.${info.error.kind}` }, retry: retrySaid(info) } };
}

/** sameSaid compares two texts to be said. */
function sameSaid(a: Said | null | undefined, b: Said | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** withToken replaces the t= parameter of a media URL with the current token. */
export function withToken(url: string, token: string): string {
  const u = new URL(url, location.href);
  u.searchParams.set('t', token);
  return u.toString();
}

/** PlaybackStats are what the debug overlay shows of a tile's playback (latency it adds, what it receives). */
export interface PlaybackStats {
  transport?: Transport;
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  kbps?: number;
  /** delayMs is the receiver's own delay: WebRTC jitter buffer and decoding; for HLS, how far behind the live edge it plays. */
  delayMs?: number;
  rttMs?: number;
  lost?: number;
  /** glassMs is how long the picture shown took from the gateway to the screen (WebRTC). */
  glassMs?: number;
}

/**
 * StreamSource is where a player gets its stream ticket, fresh tokens and the stream's state: the console asks with
 * its login, a wall display with its own token.
 */
export interface StreamSource {
  open(camera: string, profile: Profile): Promise<Pick<StreamTicketT, 'stream' | 'token' | 'tokenExpires' | 'playlistUrl' | 'whepUrl'>>;
  renew(camera: string, profile: Profile): Promise<{ token: string }>;
  info(camera: string, profile: Profile): Promise<StreamInfoT>;
}

/** CONSOLE_SOURCE asks the gateway with the console's login. */
export const CONSOLE_SOURCE: StreamSource = { open: api.openStream, renew: api.renewToken, info: api.streamInfo };

/** TilePlayer plays one camera profile into a video element until disposed. */
export class TilePlayer {
  readonly #el: HTMLVideoElement;
  readonly #camera: string;
  readonly #profile: Profile;
  readonly #onView: (view: TileView) => void;
  readonly #onSessionEnded: (err: unknown) => void;
  readonly #source: StreamSource;
  #view: TileView = { status: 'connecting', message: null };
  #disposed = false;
  #hls: Hls | null = null;
  #rtc: WhepSession | null = null;
  #token = '';
  #playlistUrl = '';
  #whepUrl = '';
  /** #useHls is set once WebRTC could not connect: the tile plays LL-HLS from then on. */
  #useHls = false;
  #timers: number[] = [];
  #reloadTimer?: number;
  #t0 = performance.now();
  /** lastFrameAt is when a frame was last shown, or when the current player was loaded. */
  #lastFrameAt = performance.now();
  #loadedAt = performance.now();
  #reloadAfter = RELOAD_MS;
  #aliveAskedAt = 0;
  /** lastSn is the newest segment the playlist has listed; snAtFrame what it listed when a frame was last shown. */
  #lastSn = -1;
  #snAtFrame = -1;

  constructor(el: HTMLVideoElement, camera: string, profile: Profile, hooks: { onView: (v: TileView) => void; onSessionEnded: (err: unknown) => void; source?: StreamSource }) {
    this.#el = el;
    this.#source = hooks.source ?? CONSOLE_SOURCE;
    this.#camera = camera;
    this.#profile = profile;
    this.#onView = hooks.onView;
    this.#onSessionEnded = hooks.onSessionEnded;
  }

  start(): void {
    this.#show({ status: 'connecting', message: null });
    // A decoded frame, not a 'playing' event, is what tells a viewer the picture is there; every one is counted.
    const onFrame = () => {
      if (this.#disposed) return;
      // A frame with no player behind it is the last one of a source torn down (a closed WebRTC view presents one as
      // it ends): not a sign of life.
      if (this.#hls || this.#rtc) this.#frame();
      this.#el.requestVideoFrameCallback(onFrame);
    };
    this.#el.requestVideoFrameCallback(onFrame);
    document.addEventListener('visibilitychange', this.#onVisibility);
    void this.#open();
  }

  dispose(): void {
    this.#disposed = true;
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.#timers.forEach((t) => { window.clearInterval(t); window.clearTimeout(t); });
    window.clearTimeout(this.#reloadTimer);
    this.#hls?.destroy();
    this.#hls = null;
    this.#rtc?.close();
    this.#rtc = null;
    this.#el.srcObject = null;
    this.#el.removeAttribute('src');
    this.#el.load();
  }

  #visible = true;

  /**
   * setVisible says whether the tile is on screen. A hidden video presents no frames: while hidden the picture is
   * not judged (no stall, no reload), and shown again it is given time to move before it is.
   */
  setVisible(visible: boolean): void {
    if (visible && !this.#visible) this.#lastFrameAt = Math.max(this.#lastFrameAt, performance.now());
    this.#visible = visible;
  }

  #lastBytes?: { bytes: number; at: number };

  /** stats reads the playback figures now (the debug overlay asks every second). */
  async stats(): Promise<PlaybackStats> {
    const out: PlaybackStats = { transport: this.#view.transport, width: this.#el.videoWidth || undefined, height: this.#el.videoHeight || undefined };
    if (this.#hls) {
      const latency = this.#hls.latency;
      if (Number.isFinite(latency)) out.delayMs = Math.round(latency * 1000);
      return out;
    }
    const pc = this.#rtc?.pc;
    if (!pc) return out;
    const report = await pc.getStats();
    report.forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        const emitted = Number(r.jitterBufferEmittedCount ?? 0);
        const decoded = Number(r.framesDecoded ?? 0);
        const jitter = emitted > 0 ? (Number(r.jitterBufferDelay ?? 0) / emitted) * 1000 : 0;
        const decode = decoded > 0 ? (Number(r.totalDecodeTime ?? 0) / decoded) * 1000 : 0;
        out.delayMs = Math.round(jitter + decode);
        out.fps = r.framesPerSecond === undefined ? undefined : Number(r.framesPerSecond);
        out.lost = Number(r.packetsLost ?? 0);
        const bytes = Number(r.bytesReceived ?? 0);
        const now = performance.now();
        if (this.#lastBytes && now > this.#lastBytes.at) out.kbps = Math.round(((bytes - this.#lastBytes.bytes) * 8) / (now - this.#lastBytes.at));
        this.#lastBytes = { bytes, at: now };
      }
      if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined) out.rttMs = Math.round(Number(r.currentRoundTripTime) * 1000);
    });
    out.codec = this.#rtc?.codec ?? undefined;
    out.glassMs = await this.#rtc?.glassDelay().catch(() => undefined);
    return out;
  }

  #show(next: Partial<TileView>): void {
    if (this.#disposed) return;
    const view = { ...this.#view, ...next };
    if (view.status === this.#view.status && sameSaid(view.message, this.#view.message) && view.firstFrameMs === this.#view.firstFrameMs
      && view.transport === this.#view.transport && sameSaid(view.fallback, this.#view.fallback) && view.detail === this.#view.detail) return;
    this.#view = view;
    this.#onView(view);
  }

  #fail(err: unknown): void {
    if (this.#disposed) return;
    this.#onSessionEnded(err);
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) {
      // The right is gone (or never was): nothing more is tried.
      this.#stopPlayer();
      this.#timers.forEach((t) => { window.clearInterval(t); window.clearTimeout(t); });
      window.clearTimeout(this.#reloadTimer);
      this.#show({ status: 'denied', message: errorOf(err), detail: err.message });
      return;
    }
    this.#show({ status: 'error', message: errorOf(err), detail: err instanceof Error ? err.message : undefined });
    // A full node, a full share or a lost network passes: the ticket is asked for again.
    this.#scheduleReload(Math.min(this.#reloadAfter, MAX_RELOAD_MS));
    this.#reloadAfter = Math.min(this.#reloadAfter * 2, MAX_RELOAD_MS);
  }

  async #open(): Promise<void> {
    let ticket;
    try {
      ticket = await this.#source.open(this.#camera, this.#profile);
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (this.#disposed) return;
    this.#token = ticket.token;
    this.#playlistUrl = ticket.playlistUrl;
    this.#whepUrl = ticket.whepUrl ?? '';
    if (!this.#whepUrl || !whepSupported()) this.#useHls = true;
    const state = ticket.stream.state;
    if (this.#view.status !== 'live') this.#show({ status: state === 'offline' || state === 'failed' ? state : 'starting' });
    if (this.#useHls && !Hls.isSupported()) {
      this.#show({ status: 'error', message: { key: 'tile.noMse' } });
      return;
    }
    // Renew the token at half its life: playlists and segments stay authorised while the tile plays.
    const renewEvery = Math.max(5000, (ticket.tokenExpires - Date.now()) / 2);
    this.#timers.push(window.setInterval(() => {
      this.#source.renew(this.#camera, this.#profile).then((t) => { this.#token = t.token; }, (err: unknown) => this.#fail(err));
    }, renewEvery));
    this.#timers.push(window.setInterval(() => void this.#refreshState(), STATE_EVERY_MS));
    this.#timers.push(window.setInterval(() => this.#watch(), WATCH_EVERY_MS));
    this.#load();
  }

  /** #load makes a new player (a frozen or failed one is thrown away first): WebRTC, or LL-HLS once that failed. */
  #load(): void {
    if (this.#disposed) return;
    this.#stopPlayer();
    if (!this.#useHls) {
      void this.#loadWebRtc();
      return;
    }
    this.#show({ transport: 'll-hls' });
    this.#loadedAt = performance.now();
    this.#lastFrameAt = Math.max(this.#lastFrameAt, this.#loadedAt);
    const player = new Hls({
      // Low-Latency HLS: the gateway cuts parts of about 300 ms and holds playlist requests until the next one exists;
      // the player stays the server's PART-HOLD-BACK behind the live edge and speeds up a little to get back there.
      // (No liveSync setting here: hls.js would take it over PART-HOLD-BACK. A playlist without parts, from the ffmpeg
      // fallback, is played three segments behind its edge.)
      lowLatencyMode: true,
      maxLiveSyncPlaybackRate: 1.5,
      maxBufferLength: 8,
      backBufferLength: 10,
      manifestLoadingTimeOut: 15000,
      manifestLoadingMaxRetry: 0,
      xhrSetup: (xhr, url) => xhr.open('GET', withToken(url, this.#token), true),
    });
    this.#hls = player;
    player.on(Hls.Events.LEVEL_UPDATED, (_e, data) => {
      if (this.#hls === player) this.#lastSn = Math.max(this.#lastSn, data.details.endSN);
    });
    player.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal || this.#disposed || this.#hls !== player) return;
      this.#stopPlayer();
      if (data.response?.code === 403) {
        this.#fail(new ApiError(403, { code: 'forbidden', message: 'the media URL was refused', details: { reason: 'revoked' } }));
        return;
      }
      void this.#refreshState().then((info) => {
        if (this.#disposed) return;
        if (!info || (info.state !== 'offline' && info.state !== 'failed')) this.#show({ status: 'error', message: explain(info, { key: 'tile.playbackFailed' }), detail: data.details });
        // Try again after the gateway's own retry, so that a camera that comes back shows up by itself.
        const wait = info?.retryAt ? Math.max(2000, info.retryAt - Date.now() + 500) : 4000;
        this.#scheduleReload(Math.min(wait, MAX_RELOAD_MS));
      });
    });
    player.loadSource(this.#playlistUrl);
    player.attachMedia(this.#el);
    this.#el.muted = true;
    void this.#el.play().catch(() => undefined);
  }

  #stopPlayer(): void {
    this.#hls?.destroy();
    this.#hls = null;
    if (this.#rtc) {
      this.#rtc.close();
      this.#rtc = null;
      this.#el.srcObject = null;
    }
  }

  /**
   * #loadWebRtc plays the camera over WHEP. A refusal of the right ends the tile; any other failure to connect within
   * WEBRTC_CONNECT_MS (a network that blocks WebRTC, a gateway without it, a codec the browser lacks) falls back to
   * LL-HLS. A view that connected and then dropped (a mediasoup worker replaced, the camera's stream restarted) is
   * offered again at once.
   */
  async #loadWebRtc(): Promise<void> {
    this.#loadedAt = performance.now();
    this.#lastFrameAt = Math.max(this.#lastFrameAt, this.#loadedAt);
    this.#show({ transport: 'webrtc' });
    let session: WhepSession;
    try {
      session = await whepConnect(withToken(this.#whepUrl, this.#token), this.#el);
    } catch (err) {
      if (this.#disposed) return;
      if (err instanceof WhepError && err.status === 403) return this.#fail(new ApiError(403, { message: err.message, code: err.code, details: err.details }));
      if (err instanceof WhepError && err.status === 503 && (err.details?.state !== undefined || err.details?.reason === 'worker-restarting')) {
        // The camera is not there yet (starting, offline): WebRTC is fine, the stream is not; try again with it.
        void this.#refreshState();
        this.#scheduleReload(3000);
        return;
      }
      if (err instanceof WhepError && err.details?.reason === 'transcode-budget') {
        // An H.265 camera, a browser without H.265, and every transcode in use: HLS would not play it either.
        this.#show({ status: 'error', message: { key: 'errors.reason.transcode-budget' }, detail: err.message });
        this.#scheduleReload(15_000);
        return;
      }
      return this.#fallBack(err instanceof WhepError ? errorOf(err) : { key: 'tile.webrtcUnavailable' });
    }
    if (this.#disposed) return session.close();
    this.#rtc = session;
    const pc = session.pc;
    let connected = false;
    const giveUp = window.setTimeout(() => {
      if (!connected && this.#rtc === session) this.#fallBack({ key: 'tile.webrtcNoConnect' });
    }, WEBRTC_CONNECT_MS);
    this.#timers.push(giveUp);
    pc.addEventListener('connectionstatechange', () => {
      if (this.#rtc !== session || this.#disposed) return;
      if (pc.connectionState === 'connected') connected = true;
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed' || (connected && pc.connectionState === 'disconnected')) {
        this.#stopPlayer();
        if (!connected) return this.#fallBack({ key: 'tile.webrtcFailed' });
        // Dropped after it played: offered again (a refused right answers 403 and ends the tile).
        this.#show({ status: 'reconnecting', message: { key: 'tile.webrtcDropped' } });
        this.#scheduleReload(300);
      }
    });
    this.#el.muted = true;
    void this.#el.play().catch(() => undefined);
  }

  #fallBack(why: Said): void {
    if (this.#disposed || this.#useHls) return;
    this.#rtc?.close();
    this.#rtc = null;
    this.#useHls = true;
    this.#show({ transport: 'll-hls', fallback: why });
    this.#load();
  }

  #scheduleReload(ms: number): void {
    if (this.#disposed) return;
    window.clearTimeout(this.#reloadTimer);
    this.#reloadTimer = window.setTimeout(() => {
      this.#reloadTimer = undefined;
      if (this.#playlistUrl) this.#load();
      else void this.#open();
    }, ms);
  }

  #frame(): void {
    const now = performance.now();
    this.#lastFrameAt = now;
    this.#snAtFrame = this.#lastSn;
    if (this.#view.firstFrameMs === undefined) this.#show({ firstFrameMs: Math.round(now - this.#t0) });
    if (this.#view.status !== 'live') {
      this.#reloadAfter = RELOAD_MS;
      this.#show({ status: 'live', message: null, detail: undefined });
    }
  }

  /** #watch looks at the picture every half second: frozen, it says so, and a player that does not recover is reloaded. */
  #watch(): void {
    // A hidden page shows no frames, and the browser may suspend its video: nothing is judged then.
    if (this.#disposed || document.visibilityState !== 'visible' || !this.#visible) return;
    const now = performance.now();
    const still = now - this.#lastFrameAt;
    if (this.#view.status === 'live' && still > FROZEN_MS) {
      this.#show({ status: 'stalled', message: { key: 'tile.frozen', params: { s: Math.round(still / 1000) } } });
    } else if (this.#view.status === 'stalled') {
      const s = Math.round(still / 1000);
      this.#show({ message: { key: this.#hls || this.#rtc ? 'tile.frozen' : 'tile.frozenReloading', params: { s } } });
    }
    // A player that has shown nothing for a while although the playlist went on (new segments it does not play) is
    // stuck: it is loaded afresh. When the playlist stands still too, the camera is what stopped: a new player would
    // only replay its last seconds as if live, and the gateway's own retry brings the picture back.
    const playlistMoved = this.#lastSn > this.#snAtFrame;
    if (this.#rtc && this.#view.status === 'stalled' && this.#reloadTimer === undefined && now - this.#aliveAskedAt > 1000) {
      // A frozen WebRTC picture: is the view still held? A gateway that ended it (a worker replaced) is offered again.
      this.#aliveAskedAt = now;
      const rtc = this.#rtc;
      void rtc.alive().then((alive) => {
        if (alive || this.#rtc !== rtc || this.#disposed) return;
        this.#stopPlayer();
        this.#show({ status: 'reconnecting', message: { key: 'tile.webrtcDropped' } });
        this.#scheduleReload(100);
      });
    }
    if (this.#rtc && this.#reloadTimer === undefined && still > this.#reloadAfter && now - this.#loadedAt > this.#reloadAfter
      && this.#view.status === 'stalled') {
      // WebRTC that shows nothing although connected: offered again.
      this.#reloadAfter = Math.min(this.#reloadAfter * 2, MAX_RELOAD_MS);
      this.#load();
    }
    if (this.#hls && playlistMoved && this.#reloadTimer === undefined && still > this.#reloadAfter && now - this.#loadedAt > this.#reloadAfter) {
      this.#reloadAfter = Math.min(this.#reloadAfter * 2, MAX_RELOAD_MS);
      this.#load();
    }
  }

  async #refreshState(): Promise<StreamInfoT | undefined> {
    try {
      const info = await this.#source.info(this.#camera, this.#profile);
      if (this.#disposed) return info;
      if (info.state === 'offline' || info.state === 'failed') {
        this.#show({ status: info.state, message: explain(info, { key: `streamState.${info.state}` }), detail: info.error?.message });
      } else if (info.state === 'starting' && info.error && this.#view.status !== 'live') {
        // The gateway pulls the camera again after a failure: the picture is gone until it is back.
        this.#show({ status: 'reconnecting', message: { key: 'tile.reconnectingAfter', params: { what: { key: `streamKind.${info.error.kind}` } } }, detail: info.error.message });
      } else if (info.state === 'starting' && this.#view.status !== 'live' && this.#view.status !== 'stalled') {
        this.#show({ status: 'starting' });
      }
      return info;
    } catch (err) {
      this.#fail(err);
      return undefined;
    }
  }

  #onVisibility = (): void => {
    // Back in view: the picture is given time to move before it is judged.
    if (document.visibilityState === 'visible') this.#lastFrameAt = Math.max(this.#lastFrameAt, performance.now());
  };
}
