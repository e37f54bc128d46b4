// The simulator's RTSP server: one listening socket serving every simulated camera at /cam/<id>/<main|sub>.
import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Profile } from '../core/types.js';
import { CAMERA_ID, type CameraFarm } from './camera-farm.js';
import { DigestAuth } from './digest.js';
import { PlaySession, type RtpTransport } from './play-session.js';
import { Pacer } from './pacer.js';
import { formatResponse, RtspMessageReader, RtspParseError, type RtspRequest } from '../rtsp/rtsp-request.js';
import { describeSdp } from './sdp.js';

/** RtspServerOptions configure the listener. */
export interface RtspServerOptions {
  host: string;
  port: number;
  farm: CameraFarm;
  /** sessionTimeoutS is announced in Session headers; UDP sessions without keep-alive end after it. */
  sessionTimeoutS?: number;
}

/** RtspServerEvents are emitted for logs and stats. */
export interface RtspServerEvents {
  play: [{ camera: string; profile: Profile; transport: 'tcp' | 'udp' }];
  teardown: [{ camera: string; profile: Profile }];
  clientError: [{ remote: string; message: string }];
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER';

interface Target {
  camera: string;
  profile: Profile;
  base: string;
}

interface ServerSession {
  id: string;
  target: Target;
  play: PlaySession;
  lastSeen: number;
}

/** parseTarget maps a request URI to a camera profile, or undefined when it names none. */
export function parseTarget(uri: string): Target | undefined {
  let path: string;
  try {
    path = new URL(uri).pathname;
  } catch {
    return undefined;
  }
  const m = /^\/cam\/([^/]+)\/(main|sub)(?:\/.*)?$/.exec(path);
  if (!m || !CAMERA_ID.test(m[1]!)) return undefined;
  const base = uri.replace(/\/trackID=\d+$/, '').replace(/\/$/, '');
  return { camera: m[1]!, profile: m[2] as Profile, base };
}

/** RtspServer serves the farm's cameras. */
export class RtspServer extends EventEmitter<RtspServerEvents> {
  #opts: Required<RtspServerOptions>;
  #server: Server;
  #udpRtp?: UdpSocket;
  #udpRtcp?: UdpSocket;
  #auth = new DigestAuth('SharpEyesSim');
  #pacer = new Pacer();
  #sessions = new Map<string, ServerSession>();
  #sockets = new Set<Socket>();
  #reaper?: NodeJS.Timeout;
  #closed = false;

  constructor(opts: RtspServerOptions) {
    super();
    this.#opts = { sessionTimeoutS: 60, ...opts };
    this.#server = createServer((socket) => this.#onConnection(socket));
  }

  /** receiverReports counts the RTCP receiver reports clients sent (over TCP or UDP): proof that a client keeps them. */
  receiverReports = 0;
  /** keepAlives counts GET_PARAMETER and in-session OPTIONS requests. */
  keepAlives = 0;

  /** playing counts sessions that are sending media. */
  get playing(): number {
    return this.#pacer.size;
  }

  /** address returns the bound host and port. */
  address(): { host: string; port: number } {
    const a = this.#server.address();
    if (!a || typeof a === 'string') throw new Error('RTSP server is not listening');
    return { host: this.#opts.host, port: a.port };
  }

  /** listen binds the RTSP socket and the shared UDP pair. */
  async listen(): Promise<void> {
    this.#udpRtp = createSocket('udp4');
    this.#udpRtcp = createSocket('udp4');
    await Promise.all([this.#udpRtp, this.#udpRtcp].map((s) => new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, this.#opts.host, () => resolve());
    })));
    // RTCP receiver reports are read and dropped; an error on a send must not end the process.
    for (const s of [this.#udpRtp, this.#udpRtcp]) s.on('error', (err) => this.emit('clientError', { remote: 'udp', message: err.message }));
    this.#udpRtcp.on('message', (m) => { if (m.length >= 8 && m[1] === 201) this.receiverReports++; });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => resolve());
    });
    this.#reaper = setInterval(() => this.#reap(), 5000);
  }

  /** close ends every session and stops listening; it is idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reaper);
    this.#pacer.close();
    for (const s of this.#sockets) s.destroy();
    this.#udpRtp?.close();
    this.#udpRtcp?.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** sessionsOf counts the sessions of a camera that are sending media now. */
  sessionsOf(camera: string): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (s.target.camera === camera && s.play.playing) n++;
    return n;
  }

  /** syncPoint makes every session of a camera profile send a keyframe next (ONVIF SetSynchronizationPoint). */
  syncPoint(camera: string, profile: Profile): number {
    let n = 0;
    for (const s of this.#sessions.values()) {
      if (s.target.camera === camera && s.target.profile === profile && s.play.playing) {
        s.play.syncPoint();
        n++;
      }
    }
    return n;
  }

  /** sentAt returns when picture index of a camera's clip was last sent by any of its sessions (ms since the epoch), or 0. */
  sentAt(camera: string, index: number): number {
    let at = 0;
    for (const s of this.#sessions.values()) if (s.target.camera === camera) at = Math.max(at, s.play.sentAt[index] ?? 0);
    return at;
  }

  /** dropCamera ends every session of a camera at once (used when it is switched offline). */
  dropCamera(camera: string): void {
    for (const s of [...this.#sessions.values()]) {
      if (s.target.camera !== camera) continue;
      const t = s.play.transport;
      this.#endSession(s);
      if (t?.kind === 'tcp') t.socket.destroy();
    }
  }

  #onConnection(socket: Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    const reader = new RtspMessageReader();
    reader.onInterleaved = (_channel, payload) => { if (payload.length >= 8 && payload[1] === 201) this.receiverReports++; };
    const owned = new Set<ServerSession>();
    let queue = Promise.resolve();
    socket.on('data', (chunk) => {
      let requests: RtspRequest[];
      try {
        requests = reader.push(chunk);
      } catch (err) {
        const message = err instanceof RtspParseError ? err.message : String(err);
        this.emit('clientError', { remote: `${socket.remoteAddress}:${socket.remotePort}`, message });
        socket.end(formatResponse(400, undefined, {}));
        return;
      }
      // Requests on one connection are answered in order, even when a fault knob delays one of them.
      for (const req of requests) queue = queue.then(() => this.#handle(socket, req, owned)).catch((err: unknown) => {
        this.emit('clientError', { remote: `${socket.remoteAddress}`, message: err instanceof Error ? err.message : String(err) });
        if (!socket.destroyed) socket.write(formatResponse(500, req.headers.cseq, {}));
      });
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#sockets.delete(socket);
      for (const s of owned) this.#endSession(s);
    });
  }

  async #handle(socket: Socket, req: RtspRequest, owned: Set<ServerSession>): Promise<void> {
    if (socket.destroyed) return;
    const cseq = req.headers.cseq;
    const reply = (status: number, headers: Record<string, string | number> = {}, body?: string) => {
      if (!socket.destroyed) socket.write(formatResponse(status, cseq, headers, body));
    };
    const target = parseTarget(req.uri);
    if (target) {
      const faults = this.#opts.farm.faults(target.camera);
      if (faults.offline) {
        socket.destroy();
        return;
      }
      if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
      if (socket.destroyed) return;
    }
    if (req.method === 'OPTIONS') {
      // Any request that names a session keeps it alive (RFC 2326 12.37): OPTIONS is what many clients send.
      const s = req.headers.session ? this.#sessions.get(req.headers.session.split(';')[0]!.trim()) : undefined;
      if (s) {
        s.lastSeen = Date.now();
        this.keepAlives++;
      }
      return reply(200, { Public: PUBLIC });
    }
    if (!target) return reply(404);
    if (!['DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER'].includes(req.method)) {
      return reply(501, { Public: PUBLIC });
    }
    const farm = this.#opts.farm;
    if (!this.#auth.verify(req.headers.authorization, req.method, farm.username, farm.passwordOf(target.camera))) {
      return reply(401, { 'WWW-Authenticate': this.#auth.challenge() });
    }
    const clip = farm.clipOf(target.camera, target.profile);
    const faults = farm.faults(target.camera);
    const sessionHeader = () => (req.headers.session ?? '').split(';')[0]!.trim();
    const findSession = () => {
      const s = this.#sessions.get(sessionHeader());
      if (s) s.lastSeen = Date.now();
      return s;
    };
    switch (req.method) {
      case 'DESCRIBE': {
        // A camera at its session limit (or otherwise unwilling) answers DESCRIBE with an error status.
        if (faults.describeStatus) return reply(faults.describeStatus);
        // A camera behind a load-balancing NVR sends its clients to another address.
        if (faults.redirectTo) return reply(302, { Location: target.base.replace(`/cam/${target.camera}/`, `/cam/${faults.redirectTo}/`) });
        const sdp = describeSdp(clip, { host: this.#opts.host, sessionId: String(Date.now()), name: `Sharp Eyes simulated camera ${target.camera} ${target.profile}`, audio: faults.audio, says: faults.sdpCodec });
        return reply(200, { 'Content-Type': 'application/sdp', 'Content-Base': `${target.base}/` }, sdp);
      }
      case 'SETUP': {
        const existing = req.headers.session ? findSession() : undefined;
        if (req.headers.session && !existing) return reply(454);
        const transport = req.headers.transport ?? '';
        const audioTrack = /\/trackID=1$/.test(req.uri);
        // A second SETUP in a session is the audio track's, when the camera has one; nothing else is aggregated.
        if (existing && !(audioTrack && faults.audio)) return reply(459);
        if (!existing && audioTrack) return reply(455);
        const audioClip = faults.audio ? farm.audio[faults.audio] : undefined;
        if (existing && !audioClip) return reply(453);
        const id = existing?.id ?? randomBytes(8).toString('hex');
        const play = existing?.play ?? new PlaySession(id, clip, () => farm.faults(target.camera), farm.otherSizeOf(target.camera, target.profile));
        let answer: string;
        let chosen: RtpTransport;
        const ssrcOf = () => (existing ? play.setAudio(audioClip!, chosen).ssrc : play.ssrc).toString(16).padStart(8, '0');
        const interleaved = /interleaved=(\d+)-(\d+)/.exec(transport);
        const clientPort = /client_port=(\d+)-(\d+)/.exec(transport);
        if (/RTP\/AVP\/TCP/i.test(transport) && faults.udpOnly) return reply(461);
        if (/RTP\/AVP\/TCP/i.test(transport)) {
          const rtp = interleaved ? Number(interleaved[1]) : existing ? 2 : 0;
          const rtcp = interleaved ? Number(interleaved[2]) : existing ? 3 : 1;
          if (rtp > 255 || rtcp > 255) return reply(461);
          chosen = { kind: 'tcp', socket, rtpChannel: rtp, rtcpChannel: rtcp };
          answer = `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp};ssrc=${ssrcOf()}`;
        } else if (clientPort && !/multicast/i.test(transport) && this.#udpRtp && this.#udpRtcp) {
          const rtpPort = Number(clientPort[1]);
          const rtcpPort = Number(clientPort[2]);
          if (rtpPort < 1 || rtpPort > 65535 || rtcpPort < 1 || rtcpPort > 65535) return reply(461);
          const address = (socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
          chosen = { kind: 'udp', rtp: this.#udpRtp, rtcp: this.#udpRtcp, address, rtpPort, rtcpPort };
          const sp = `${(this.#udpRtp.address()).port}-${(this.#udpRtcp.address()).port}`;
          answer = `RTP/AVP;unicast;client_port=${rtpPort}-${rtcpPort};server_port=${sp};ssrc=${ssrcOf()}`;
        } else {
          return reply(461);
        }
        if (existing) return reply(200, { Transport: answer, Session: `${id};timeout=${this.#opts.sessionTimeoutS}` });
        play.transport = chosen;
        const session: ServerSession = { id, target, play, lastSeen: Date.now() };
        this.#sessions.set(id, session);
        owned.add(session);
        return reply(200, { Transport: answer, Session: `${id};timeout=${this.#opts.sessionTimeoutS}` });
      }
      case 'PLAY': {
        const s = findSession();
        if (!s) return reply(454);
        const info = s.play.rtpInfo();
        reply(200, {
          Range: 'npt=0.000-',
          'RTP-Info': `url=${s.target.base}/trackID=0;seq=${info.seq};rtptime=${info.rtptime}`,
          Session: `${s.id};timeout=${this.#opts.sessionTimeoutS}`,
        });
        if (!s.play.playing) {
          this.#pacer.add(s.play);
          this.emit('play', { camera: s.target.camera, profile: s.target.profile, transport: s.play.transport!.kind });
        }
        return;
      }
      case 'PAUSE': {
        const s = findSession();
        if (!s) return reply(454);
        s.play.pause();
        this.#pacer.remove(s.play);
        return reply(200, { Session: s.id });
      }
      case 'GET_PARAMETER': {
        if (req.headers.session && !findSession()) return reply(454);
        this.keepAlives++;
        return reply(200, req.headers.session ? { Session: sessionHeader() } : {});
      }
      case 'TEARDOWN': {
        const s = findSession();
        if (!s) return reply(454);
        this.#endSession(s);
        owned.delete(s);
        return reply(200, { Session: s.id });
      }
    }
  }

  #endSession(s: ServerSession): void {
    if (!this.#sessions.delete(s.id)) return;
    s.play.pause();
    this.#pacer.remove(s.play);
    this.emit('teardown', { camera: s.target.camera, profile: s.target.profile });
  }

  #reap(): void {
    const limit = Date.now() - this.#opts.sessionTimeoutS * 1000;
    for (const s of [...this.#sessions.values()]) {
      // TCP sessions live as long as their connection; UDP ones need keep-alives, as RFC 2326 says.
      if (s.play.transport?.kind === 'udp' && s.lastSeen < limit) this.#endSession(s);
    }
  }
}
