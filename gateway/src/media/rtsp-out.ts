// RTSP out of the frame bus (RFC 2326, RTP over TCP interleaved): what a hardware wall decoder, an NVR or an
// upper-level platform pulls. rtsp://host:port/live/<camera>/<profile>/<token>: the token (the same short-lived media
// token as HLS and WHEP, bound to user, camera and action) is checked at DESCRIBE; the right behind it is asked again
// every second, and a view whose right ends is cut off.
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Profile } from '../../../adapters/core/types.js';
import { formatResponse, RtspMessageReader, RtspParseError, type RtspRequest } from '../../../adapters/rtsp/rtsp-request.js';
import { senderReport } from '../../../adapters/rtsp/rtcp.js';
import type { AccessUnit, TrackParams } from './core/access-unit.js';
import type { Consumer, FrameBus } from './core/frame-bus.js';
import { RtpClock, RtpPacketizer } from './core/rtp-packetizer.js';
import type { StreamInfo, ViewerRef } from './stream.js';

/** RtspViewer is who a token speaks for, with the re-check of her right. */
export interface RtspViewer {
  viewer: ViewerRef;
  /** allowed is asked every recheckMs while she plays: false cuts the connection. */
  allowed: () => boolean;
}

/** RtspOutOptions configure the server. */
export interface RtspOutOptions {
  host: string;
  port: number;
  maxConnections: number;
  recheckMs: number;
  liveWaitMs: number;
  hub: {
    open(camera: string, profile: Profile, viewer: ViewerRef): StreamInfo;
    touch(camera: string, profile: Profile, viewer: ViewerRef): StreamInfo | undefined;
    waitLive(camera: string, profile: Profile, timeoutMs: number): Promise<StreamInfo | undefined>;
    bus(camera: string, profile: Profile): FrameBus | undefined;
  };
  /** authorize checks a token for a camera profile; it throws an Error whose message says why not. */
  authorize: (token: string | undefined, camera: string, profile: Profile, remote: string) => RtspViewer;
  onError?: (err: Error) => void;
  onSession?: (e: { camera: string; profile: Profile; remote: string; event: 'play' | 'end'; reason?: string }) => void;
}

/** MAX_BACKLOG_BYTES is how far a reader may fall behind before pictures are held back for it. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
const SR_EVERY_MS = 5000;
/** IDLE_MS ends a connection that has not started to play within it (or sends nothing at all). */
const IDLE_MS = 30_000;

/** rtspPath is the path of a camera profile's RTSP URL, the token in it. */
export function rtspPath(camera: string, profile: Profile, token: string): string {
  return `/live/${encodeURIComponent(camera)}/${profile}/${encodeURIComponent(token)}`;
}

interface OutTrack {
  index: number;
  channel: number;
  params: TrackParams;
  packetizer: RtpPacketizer;
  clock: RtpClock;
  control: string;
}

interface Target {
  camera: string;
  profile: Profile;
  token?: string;
  track?: number;
}

/** parseTarget reads /live/<camera>/<profile>[/<token>][/trackID=N][?t=<token>] from a request URI. */
export function parseTarget(uri: string): Target | undefined {
  let path: string;
  let query = '';
  try {
    const u = new URL(uri);
    path = u.pathname;
    query = u.search;
  } catch {
    return undefined;
  }
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return '\u0000';
    }
  });
  if (parts[0] !== 'live' || parts.length < 3 || parts.length > 5) return undefined;
  const camera = parts[1]!;
  const profile = parts[2];
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(camera) || (profile !== 'main' && profile !== 'sub')) return undefined;
  const t: Target = { camera, profile };
  for (const p of parts.slice(3)) {
    const m = /^trackID=(\d{1,2})$/.exec(p);
    if (m) t.track = Number(m[1]);
    else if (t.token === undefined && p.length <= 1024) t.token = p;
    else return undefined;
  }
  const q = new URLSearchParams(query).get('t');
  if (q) t.token ??= q;
  return t;
}

function fmtp(p: TrackParams): string {
  if (p.kind === 'video' && p.codec === 'H264') {
    const id = p.sps.subarray(1, 4).toString('hex');
    return `packetization-mode=1;profile-level-id=${id};sprop-parameter-sets=${p.sps.toString('base64')},${p.pps.toString('base64')}`;
  }
  if (p.kind === 'video') {
    return `${p.vps ? `sprop-vps=${p.vps.toString('base64')};` : ''}sprop-sps=${p.sps.toString('base64')};sprop-pps=${p.pps.toString('base64')}`;
  }
  if (p.codec === 'AAC') {
    return `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${p.config?.toString('hex') ?? ''}`;
  }
  return '';
}

/** describe writes the SDP of a live bus: each video and audio track the core carries. */
export function describe(bus: FrameBus, host: string, name: string): { sdp: string; tracks: Array<{ index: number; pt: number; clock: number; params: TrackParams }> } {
  const lines = ['v=0', `o=- ${Date.now()} 1 IN IP4 ${host}`, `s=${name}`, 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*', 'a=range:npt=now-'];
  const tracks: Array<{ index: number; pt: number; clock: number; params: TrackParams }> = [];
  for (const t of bus.tracks) {
    const p = t.params;
    if (p.kind === 'video') {
      lines.push('m=video 0 RTP/AVP 96', `a=rtpmap:96 ${p.codec}/90000`, `a=fmtp:96 ${fmtp(p)}`, `a=control:trackID=${t.index}`);
      if (p.fps) lines.push(`a=framerate:${p.fps}`);
      tracks.push({ index: t.index, pt: 96, clock: 90000, params: p });
    } else if (p.codec === 'AAC') {
      lines.push('m=audio 0 RTP/AVP 97', `a=rtpmap:97 MPEG4-GENERIC/${p.sampleRate}/${p.channels}`, `a=fmtp:97 ${fmtp(p)}`, `a=control:trackID=${t.index}`);
      tracks.push({ index: t.index, pt: 97, clock: p.sampleRate, params: p });
    } else {
      const pt = p.codec === 'PCMA' ? 8 : 0;
      lines.push(`m=audio 0 RTP/AVP ${pt}`, `a=rtpmap:${pt} ${p.codec}/8000/1`, `a=control:trackID=${t.index}`);
      tracks.push({ index: t.index, pt, clock: 8000, params: p });
    }
  }
  return { sdp: lines.join('\r\n') + '\r\n', tracks };
}

class Connection {
  readonly socket: Socket;
  readonly remote: string;
  #out: RtspOut;
  #reader = new RtspMessageReader();
  #target?: Target;
  #viewer?: RtspViewer;
  #bus?: FrameBus;
  #described?: ReturnType<typeof describe>;
  #tracks = new Map<number, OutTrack>();
  #session = randomBytes(8).toString('hex');
  #consumer?: Consumer;
  #lastSr = 0;
  #idle: NodeJS.Timeout;
  #busy = Promise.resolve();
  closed = false;
  playing = false;

  constructor(out: RtspOut, socket: Socket) {
    this.#out = out;
    this.socket = socket;
    this.remote = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    this.#idle = setTimeout(() => this.close('idle'), IDLE_MS);
    socket.on('data', (d) => this.#data(d));
    socket.on('close', () => this.close('closed'));
    socket.on('error', () => this.close('socket error'));
    socket.on('drain', () => this.#pump());
  }

  get target(): Target | undefined {
    return this.#target;
  }

  get viewer(): RtspViewer | undefined {
    return this.#viewer;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#idle);
    this.#consumer?.close();
    this.socket.destroy();
    this.#out.ended(this, reason);
  }

  #data(d: Buffer): void {
    let requests: RtspRequest[];
    try {
      requests = this.#reader.push(d);
    } catch (err) {
      if (err instanceof RtspParseError) {
        this.socket.write(formatResponse(400, undefined, {}, undefined, SERVER));
        return this.close(`bad request: ${err.message}`);
      }
      throw err;
    }
    for (const r of requests) this.#busy = this.#busy.then(() => this.#handle(r)).catch((err: Error) => {
      this.#out.error(err);
      this.close('internal error');
    });
  }

  #reply(r: RtspRequest, status: number, headers: Record<string, string | number> = {}, body?: string): void {
    if (!this.closed) this.socket.write(formatResponse(status, r.headers.cseq, headers, body, SERVER));
  }

  async #handle(r: RtspRequest): Promise<void> {
    if (this.closed) return;
    switch (r.method) {
      case 'OPTIONS':
        return this.#reply(r, 200, { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
      case 'DESCRIBE':
        return this.#describe(r);
      case 'SETUP':
        return this.#setup(r);
      case 'PLAY':
        return this.#play(r);
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return this.#reply(r, 200, this.#described ? { Session: this.#session } : {});
      case 'TEARDOWN':
        this.#reply(r, 200, { Session: this.#session });
        return this.close('teardown');
      default:
        return this.#reply(r, 405, { Allow: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
    }
  }

  async #describe(r: RtspRequest): Promise<void> {
    const t = parseTarget(r.uri);
    if (!t) return this.#reply(r, 404);
    let viewer: RtspViewer;
    try {
      viewer = this.#out.opts.authorize(t.token, t.camera, t.profile, this.remote);
    } catch (err) {
      // A decoder shows nothing but the status: 403, with the reason in a header an operator can read in its log.
      this.#reply(r, 403, { 'X-Reason': String((err as Error).message).replace(/[\r\n]/g, ' ').slice(0, 200) });
      return this.close('refused');
    }
    const hub = this.#out.opts.hub;
    try {
      if (!hub.touch(t.camera, t.profile, viewer.viewer)) hub.open(t.camera, t.profile, viewer.viewer);
    } catch (err) {
      this.#reply(r, 503, { 'X-Reason': (err as Error).message.slice(0, 200) });
      return this.close('capacity');
    }
    const live = await hub.waitLive(t.camera, t.profile, this.#out.opts.liveWaitMs);
    const bus = hub.bus(t.camera, t.profile);
    if (this.closed) return;
    if (live?.state !== 'live' || !bus || bus.videoTrack < 0) {
      this.#reply(r, 503, { 'X-Reason': live?.error?.message.slice(0, 200) ?? `the stream is ${live?.state ?? 'stopped'}` });
      return this.close('unavailable');
    }
    this.#target = t;
    this.#viewer = viewer;
    this.#bus = bus;
    this.#described = describe(bus, this.#out.opts.host, `Sharp Eyes ${t.camera} ${t.profile}`);
    const base = `rtsp://${r.headers.host ?? `${this.#out.opts.host}`}${new URL(r.uri).pathname.replace(/\/?$/, '/')}`;
    this.#reply(r, 200, { 'Content-Type': 'application/sdp', 'Content-Base': base }, this.#described.sdp);
  }

  #setup(r: RtspRequest): void {
    const t = parseTarget(r.uri);
    if (!this.#described || !this.#target || !t || t.camera !== this.#target.camera || t.profile !== this.#target.profile) {
      return this.#reply(r, 455);
    }
    const track = this.#described.tracks.find((x) => x.index === (t.track ?? this.#described!.tracks[0]!.index));
    if (!track) return this.#reply(r, 404);
    const transport = r.headers.transport ?? '';
    const m = /interleaved=(\d{1,3})(?:-(\d{1,3}))?/.exec(transport);
    if (!/RTP\/AVP\/TCP/i.test(transport)) {
      // UDP is not offered: a reader asked for it tries TCP next (ffmpeg and VLC do).
      return this.#reply(r, 461);
    }
    const channel = m ? Number(m[1]) : this.#tracks.size * 2;
    if (channel > 254) return this.#reply(r, 400);
    this.#tracks.set(track.index, {
      index: track.index, channel, params: track.params, packetizer: new RtpPacketizer(track.pt), clock: new RtpClock(track.clock),
      control: `trackID=${track.index}`,
    });
    this.#reply(r, 200, { Transport: `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}`, Session: `${this.#session};timeout=60` });
  }

  #play(r: RtspRequest): void {
    if (!this.#bus || this.#tracks.size === 0) return this.#reply(r, 455);
    if (this.playing) return this.#reply(r, 200, { Session: this.#session, Range: 'npt=now-' });
    const base = `rtsp://${r.headers.host ?? this.#out.opts.host}${new URL(r.uri).pathname.replace(/\/?$/, '/')}`;
    // The first packet of each track: its sequence number and RTP time (the RtpClock starts at its base).
    const info = [...this.#tracks.values()].map((t) => `url=${base}${t.control};seq=${t.packetizer.sequence};rtptime=${t.clock.base}`).join(',');
    this.#reply(r, 200, { Session: this.#session, Range: 'npt=now-', 'RTP-Info': info });
    clearTimeout(this.#idle);
    this.playing = true;
    const bus = this.#bus;
    // The consumer starts at the cached keyframe: a decoder shows a picture at once.
    const consumer = bus.subscribe();
    this.#consumer = consumer;
    consumer.onReadable = () => this.#pump();
    consumer.onEnd = (why) => this.close(why === 'slow' ? 'too slow' : 'stream ended');
    bus.on('restart', this.#onRestart);
    this.#out.started(this);
    this.#pump();
  }

  #onRestart = (): void => {
    for (const t of this.#tracks.values()) t.clock.restart();
  };

  #pump(): void {
    const c = this.#consumer;
    if (!c || this.closed) return;
    while (this.socket.writableLength < MAX_BACKLOG_BYTES) {
      const au = c.read();
      if (!au) break;
      this.#send(au);
    }
    const now = Date.now();
    if (now - this.#lastSr >= SR_EVERY_MS) {
      this.#lastSr = now;
      for (const t of this.#tracks.values()) {
        if (t.packetizer.packets === 0) continue;
        this.#frame(t.channel + 1, senderReport(t.packetizer.ssrc, now, t.clock.last, t.packetizer.packets, t.packetizer.octets));
      }
    }
  }

  #send(au: AccessUnit): void {
    const t = this.#tracks.get(au.track);
    if (!t) return;
    const params = this.#bus!.tracks[au.track]?.params ?? t.params;
    t.packetizer.packetize(au, params, t.clock.rtp(au.pts), (p) => this.#frame(t.channel, p));
  }

  #frame(channel: number, packet: Buffer): void {
    const head = Buffer.allocUnsafe(4);
    head[0] = 0x24;
    head[1] = channel;
    head.writeUInt16BE(packet.length, 2);
    this.socket.write(head);
    this.socket.write(packet);
  }

  detach(): void {
    this.#bus?.off('restart', this.#onRestart);
  }
}

const SERVER = 'SharpEyes-Gateway/1.0';

/** RtspOut serves the frame buses over RTSP. */
export class RtspOut {
  readonly opts: RtspOutOptions;
  #server: Server;
  #connections = new Set<Connection>();
  #timer?: NodeJS.Timeout;

  constructor(opts: RtspOutOptions) {
    this.opts = opts;
    this.#server = createServer((socket) => {
      if (this.#connections.size >= opts.maxConnections) {
        socket.end(formatResponse(503, undefined, { 'X-Reason': 'the gateway serves as many RTSP readers as it may (media.rtsp.maxConnections)' }, undefined, SERVER));
        return;
      }
      this.#connections.add(new Connection(this, socket));
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((ok, fail) => {
      this.#server.once('error', fail);
      this.#server.listen(this.opts.port, this.opts.host, () => {
        this.#server.off('error', fail);
        ok();
      });
    });
    this.#timer = setInterval(() => this.#recheck(), this.opts.recheckMs);
    this.#timer.unref();
    return this.port;
  }

  get port(): number {
    const a = this.#server.address();
    return a && typeof a !== 'string' ? a.port : this.opts.port;
  }

  /** sessions lists the readers that play now. */
  get sessions(): Array<{ camera: string; profile: Profile; remote: string }> {
    return [...this.#connections].filter((c) => c.playing).map((c) => ({ camera: c.target!.camera, profile: c.target!.profile, remote: c.remote }));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const c of [...this.#connections]) c.close('gateway closing');
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  started(c: Connection): void {
    const t = c.target!;
    this.opts.onSession?.({ camera: t.camera, profile: t.profile, remote: c.remote, event: 'play' });
  }

  ended(c: Connection, reason: string): void {
    this.#connections.delete(c);
    c.detach();
    const t = c.target;
    if (c.playing && t) this.opts.onSession?.({ camera: t.camera, profile: t.profile, remote: c.remote, event: 'end', reason });
  }

  error(err: Error): void {
    this.opts.onError?.(err);
  }

  #recheck(): void {
    for (const c of [...this.#connections]) {
      const v = c.viewer;
      const t = c.target;
      if (!c.playing || !v || !t) continue;
      let ok = false;
      try {
        ok = v.allowed();
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
      if (!ok) c.close('revoked');
      else this.opts.hub.touch(t.camera, t.profile, v.viewer);
    }
  }
}
