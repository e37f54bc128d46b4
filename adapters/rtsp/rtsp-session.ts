// An RTSP client session (RFC 2326) as cameras need it: DESCRIBE, SETUP and PLAY with Digest or Basic credentials,
// RTP interleaved over the RTSP connection (the default) or over UDP port pairs, keep-alives within the session
// timeout, RTCP receiver reports, redirects, and TEARDOWN. Credentials stay in this process: nothing here hands a URL
// with a password to anyone, and no error says the address or the password.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DeviceError } from '../core/device-error.js';
import { answerChallenge } from '../core/digest.js';
import { redactUrl, type SourceCredentials } from '../core/types.js';
import { parseSenderReports, ReceptionStats, receiverReport } from './rtcp.js';
import { parseRtp, RtpError, type RtpPacket } from './rtp-packet.js';
import { RtspConnection, RtspProtocolError, type RtspResponse } from './rtsp-connection.js';
import { controlUrl, parseSessionDescription, SdpError, type SdpMedia, type SessionDescription } from './sdp.js';

/** RtspTransportChoice is how RTP travels: in the RTSP connection, over UDP, or TCP first and UDP if the camera refuses. */
export type RtspTransportChoice = 'tcp' | 'udp' | 'auto';

/** RtspFailure classifies why a session could not be opened or ended. */
export type RtspFailure = 'unreachable' | 'timeout' | 'unauthorized' | 'not-found' | 'refused' | 'unsupported-transport' | 'protocol' | 'closed' | 'stopped';

/** RtspError names the operation and what went wrong; its detail never holds the address or the credentials. */
export class RtspError extends DeviceError {
  override name = 'RtspError';
  readonly kind: RtspFailure;
  readonly operation: string;
  /** status is the camera's answer, when it gave one. */
  readonly status?: number;

  constructor(kind: RtspFailure, url: string, operation: string, detail: string, status?: number) {
    super(`${redactUrl(url)}: ${operation} failed: ${detail}`, `${operation} failed: ${detail}`);
    this.kind = kind;
    this.operation = operation;
    this.status = status;
  }
}

/** RtspSessionOptions open a session. */
export interface RtspSessionOptions {
  /** url is the stream address; credentials written in it are used (and never repeated) when none are given. */
  url: string;
  credentials?: SourceCredentials;
  transport?: RtspTransportChoice;
  /** timeoutMs bounds the connection and every answer (default 5 s). */
  timeoutMs?: number;
  /** select picks the media sections to play (default: the first video one). */
  select?: (media: readonly SdpMedia[]) => SdpMedia[];
  signal?: AbortSignal;
  /**
   * sink receives every packet from the first on. RTP can arrive in the same read as the PLAY answer, before open()
   * resolves and anyone could listen to 'rtp': a camera's first keyframe goes there, so it is not lost.
   */
  sink?: { rtp(track: number, packet: Buffer, parsed: RtpPacket): void; rtcp?(track: number, packet: Buffer): void };
  /** beforePlay runs once every track is set up, before PLAY: where the packets will go is made ready there. */
  beforePlay?: (tracks: readonly RtspTrack[]) => Promise<void>;
}

/** RtspTrack is one media section being played. */
export interface RtspTrack {
  media: SdpMedia;
  /** index is the track's place among the played ones (the first is 0). */
  index: number;
  stats: ReceptionStats;
}

/** RtspSessionEvents are what a playing session reports; the packet buffers are valid during the call only. */
export interface RtspSessionEvents {
  rtp: [track: number, packet: Buffer];
  rtcp: [track: number, packet: Buffer];
  end: [error: RtspError | undefined];
}

/** DescribeResult is a camera's answer to DESCRIBE over an open, authenticated connection. */
export interface DescribeResult {
  conn: RtspConnection;
  /** url is where the stream was found (after redirects), without credentials. */
  url: string;
  base: string;
  sdp: SessionDescription;
  server?: string;
  methods: string[];
  auth: 'none' | 'digest' | 'basic';
  /** authorize returns the Authorization header of a request of this connection (nc counts on), or nothing. */
  authorize(method: string, uri: string): Record<string, string>;
  latencyMs: number;
}

const MAX_REDIRECTS = 3;
const RTCP_INTERVAL_MS = 5000;
/** MAX_PACKET bounds a UDP datagram we accept. */
const MAX_PACKET = 64 * 1024;

/** toFailure maps a socket error or a parse error into an RtspError for operation. */
function toFailure(url: string, operation: string, err: unknown, timedOut: boolean, timeoutMs: number): RtspError {
  if (err instanceof RtspError) return err;
  if (timedOut) return new RtspError('timeout', url, operation, `no answer within ${timeoutMs} ms`);
  if (err instanceof SdpError || err instanceof RtspProtocolError || err instanceof RtpError) return new RtspError('protocol', url, operation, err.message);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ABORT_ERR') return new RtspError('stopped', url, operation, 'cancelled');
  if (code) return new RtspError('unreachable', url, operation, code);
  const message = (err as Error).message ?? String(err);
  // A camera that hangs up before answering is as good as unreachable (a dead encoder behind a live network stack).
  return new RtspError(/closed the connection/.test(message) ? 'unreachable' : 'protocol', url, operation, message);
}

/** statusFailure says in words why a camera answered a request with an error status. */
function statusFailure(url: string, operation: string, res: RtspResponse): RtspError {
  const s = res.status;
  const said = `${s}${res.reason ? ` ${res.reason}` : ''}`;
  if (s === 401 || s === 403) return new RtspError('unauthorized', url, operation, `the camera rejected the credentials (${said})`, s);
  if (s === 404) return new RtspError('not-found', url, operation, `the camera has no such stream (${said})`, s);
  if (s === 461) return new RtspError('unsupported-transport', url, operation, `the camera does not offer this transport (${said})`, s);
  if (s === 453 || s === 503) return new RtspError('refused', url, operation, `the camera refused the stream (${said}): it may be serving as many clients as it can`, s);
  return new RtspError('refused', url, operation, `the camera answered ${said}`, s);
}

/**
 * describeStream connects, asks OPTIONS and DESCRIBE (answering a Digest or Basic challenge, following up to three
 * redirects) and returns the open connection with the camera's SDP. Credentials follow a redirect to the same host
 * only. The caller closes the connection.
 */
export async function describeStream(opts: RtspSessionOptions, setOperation: (op: string) => void = () => undefined): Promise<DescribeResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  let target: URL;
  try {
    target = new URL(opts.url);
  } catch {
    throw new RtspError('protocol', '<unparsable url>', 'parse', 'the stream address is not a URL');
  }
  if (target.protocol !== 'rtsp:') throw new RtspError('protocol', opts.url, 'parse', `scheme ${target.protocol} is not rtsp:`);
  let creds = opts.credentials ?? (target.username ? { username: decodeURIComponent(target.username), password: decodeURIComponent(target.password) } : undefined);
  const originalHost = target.hostname;
  target.username = '';
  target.password = '';
  for (let hop = 0; ; hop++) {
    const url = target.toString();
    let operation = 'connect';
    const step = (op: string) => { operation = op; setOperation(op); };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); conn?.close(); }, timeoutMs);
    const onAbort = () => { controller.abort(); conn?.close(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let conn: RtspConnection | undefined;
    try {
      if (opts.signal?.aborted) throw new RtspError('stopped', url, operation, 'cancelled');
      const started = performance.now();
      conn = await RtspConnection.open(target.hostname, Number(target.port || 554), controller.signal);
      step('OPTIONS');
      const options = await conn.request('OPTIONS', url, {});
      const latencyMs = Math.round(performance.now() - started);
      step('DESCRIBE');
      let auth: DescribeResult['auth'] = 'none';
      let challenge: string | undefined;
      let nc = 0;
      const authorize = (method: string, uri: string): Record<string, string> => {
        if (!challenge || !creds) return {};
        const a = answerChallenge(challenge, creds, method, uri, ++nc);
        return a ? { Authorization: a.header } : {};
      };
      let res = await conn.request('DESCRIBE', url, { Accept: 'application/sdp' });
      if (res.status === 401) {
        if (!creds) throw new RtspError('unauthorized', url, operation, 'the camera asks for credentials and none were given', 401);
        challenge = pickChallenge(res);
        if (!challenge || !answerChallenge(challenge, creds, 'DESCRIBE', url)) throw new RtspError('protocol', url, operation, `unsupported authentication ${JSON.stringify((res.headers['www-authenticate'] ?? '').slice(0, 40))}`);
        auth = /^digest/i.test(challenge) ? 'digest' : 'basic';
        res = await conn.request('DESCRIBE', url, { Accept: 'application/sdp', ...authorize('DESCRIBE', url) });
        if (res.status === 401 && /stale\s*=\s*"?true/i.test(res.headers['www-authenticate'] ?? '')) {
          // A stale nonce: the same credentials, answered to the fresh challenge.
          challenge = pickChallenge(res);
          nc = 0;
          res = await conn.request('DESCRIBE', url, { Accept: 'application/sdp', ...authorize('DESCRIBE', url) });
        }
      }
      if (res.status >= 300 && res.status < 400 && res.headers.location) {
        if (hop >= MAX_REDIRECTS) throw new RtspError('protocol', url, operation, `more than ${MAX_REDIRECTS} redirects`, res.status);
        let next: URL;
        try {
          next = new URL(res.headers.location, url);
        } catch {
          throw new RtspError('protocol', url, operation, 'the camera redirects to something that is not a URL', res.status);
        }
        if (next.protocol !== 'rtsp:') throw new RtspError('protocol', url, operation, `the camera redirects to a ${next.protocol} address`, res.status);
        // Credentials are for the camera they were stored for: never handed to another host by a redirect.
        if (next.hostname !== originalHost) creds = undefined;
        next.username = '';
        next.password = '';
        target = next;
        conn.close();
        continue;
      }
      if (res.status !== 200) throw statusFailure(url, operation, res);
      if (!/application\/sdp/i.test(res.headers['content-type'] ?? 'application/sdp')) throw new RtspError('protocol', url, operation, `the answer is ${res.headers['content-type']}, not an SDP`);
      const sdp = parseSessionDescription(res.body);
      const base = res.headers['content-base'] ?? res.headers['content-location'] ?? url;
      let baseUrl: string;
      try {
        const b = new URL(base, url);
        b.username = '';
        b.password = '';
        baseUrl = b.toString();
      } catch {
        baseUrl = url;
      }
      return {
        conn, url, base: baseUrl, sdp, server: res.headers.server ?? options.headers.server, auth, authorize, latencyMs,
        methods: (options.headers.public ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean),
      };
    } catch (err) {
      conn?.close();
      if (opts.signal?.aborted) throw new RtspError('stopped', url, operation, 'cancelled');
      throw toFailure(url, operation, err, timedOut, timeoutMs);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** pickChallenge prefers Digest among the challenges a camera offers (Basic sends the password as it is). */
function pickChallenge(res: RtspResponse): string | undefined {
  const header = res.headers['www-authenticate'];
  if (!header) return undefined;
  // Headers of one name arrive joined; a camera offering both writes "Digest ..., Basic realm=...".
  const digest = /(digest\s[^]*?)(?=,\s*basic\s|$)/i.exec(header)?.[1];
  return digest ?? header;
}

interface UdpPair {
  rtp: UdpSocket;
  rtcp: UdpSocket;
  port: number;
}

/** bindUdpPair binds an even port and the odd one after it, as RTP and RTCP need (RFC 3550 11). */
async function bindUdpPair(): Promise<UdpPair> {
  for (let attempt = 0; attempt < 32; attempt++) {
    const port = 2 * randomInt(10_000, 30_000);
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    const bind = (s: UdpSocket, p: number) => new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(p, () => resolve(true));
    });
    if (await bind(rtp, port) && await bind(rtcp, port + 1)) {
      for (const s of [rtp, rtcp]) {
        s.removeAllListeners('error');
        try {
          s.setRecvBufferSize(4 * 1024 * 1024);
        } catch {
          // The kernel caps it (net.core.rmem_max): what it allows is used.
          s.setRecvBufferSize(s.getRecvBufferSize());
        }
      }
      return { rtp, rtcp, port };
    }
    rtp.close();
    rtcp.close();
  }
  throw new Error('no free UDP port pair for RTP');
}

/** RtspSession is a playing session; it emits 'rtp' and 'rtcp' per track and 'end' once. */
export class RtspSession extends EventEmitter<RtspSessionEvents> {
  readonly url: string;
  readonly tracks: RtspTrack[];
  readonly sdp: SessionDescription;
  /** transport is how RTP arrives. */
  readonly transport: 'tcp' | 'udp';
  readonly server?: string;
  #conn: RtspConnection;
  #id: string;
  #authorize: DescribeResult['authorize'];
  #aggregate: string;
  #keepAlive?: NodeJS.Timeout;
  #rtcpTimer?: NodeJS.Timeout;
  #udp: UdpPair[] = [];
  #serverRtcp: Array<{ address: string; port: number } | undefined> = [];
  #ssrc = randomInt(1, 0xffffffff);
  #ended = false;
  #timeoutMs: number;
  /** packets and bytes count what arrived; lastPacketAt is when the last RTP packet did. */
  packets = 0;
  bytes = 0;
  lastPacketAt = 0;

  private constructor(d: DescribeResult, parts: { tracks: RtspTrack[]; transport: 'tcp' | 'udp'; id: string; aggregate: string; udp: UdpPair[]; serverRtcp: Array<{ address: string; port: number } | undefined>; timeoutMs: number }) {
    super();
    this.url = d.url;
    this.sdp = d.sdp;
    this.server = d.server;
    this.tracks = parts.tracks;
    this.transport = parts.transport;
    this.#conn = d.conn;
    this.#id = parts.id;
    this.#authorize = d.authorize;
    this.#aggregate = parts.aggregate;
    this.#udp = parts.udp;
    this.#serverRtcp = parts.serverRtcp;
    this.#timeoutMs = parts.timeoutMs;
  }

  /** open describes, sets up every selected track and plays; it rejects with an RtspError that names what failed. */
  static async open(opts: RtspSessionOptions): Promise<RtspSession> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    let operation = 'connect';
    const d = await describeStream(opts, (op) => { operation = op; });
    const url = d.url;
    const udp: UdpPair[] = [];
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const bounded = async <T>(p: Promise<T>): Promise<T> => {
      timer = setTimeout(() => { timedOut = true; d.conn.close(); }, timeoutMs);
      try {
        return await p;
      } finally {
        clearTimeout(timer);
      }
    };
    const onAbort = () => d.conn.close();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const chosen = (opts.select ?? ((m) => m.filter((x) => x.kind === 'video').slice(0, 1)))(d.sdp.media);
      if (chosen.length === 0) throw new RtspError('protocol', url, 'DESCRIBE', `the SDP offers no ${opts.select ? 'track this stream needs' : 'video track'} (${d.sdp.media.map((m) => `${m.kind} ${m.codec || m.payloadType}`).join(', ') || 'no media at all'})`);
      let transport: 'tcp' | 'udp' = opts.transport === 'udp' ? 'udp' : 'tcp';
      const cameraAddress = await resolveHost(new URL(url).hostname);
      let session: string | undefined;
      let sessionTimeoutS = 60;
      const serverRtcp: Array<{ address: string; port: number } | undefined> = [];
      const tracks: RtspTrack[] = [];
      for (const [index, media] of chosen.entries()) {
        const uri = controlUrl(d.base, media.control);
        for (;;) {
          operation = 'SETUP';
          let pair: UdpPair | undefined;
          let header: string;
          if (transport === 'tcp') header = `RTP/AVP/TCP;unicast;interleaved=${index * 2}-${index * 2 + 1}`;
          else {
            pair = await bindUdpPair();
            header = `RTP/AVP;unicast;client_port=${pair.port}-${pair.port + 1}`;
          }
          const res = await bounded(d.conn.request('SETUP', uri, { Transport: header, ...(session ? { Session: session } : {}), ...d.authorize('SETUP', uri) }));
          if (res.status === 461 && transport === 'tcp' && opts.transport === 'auto' && index === 0) {
            // The camera will not put RTP in the RTSP connection: UDP, as 'auto' allows.
            transport = 'udp';
            continue;
          }
          if (res.status !== 200) {
            if (pair) {
              closeQuietly(pair.rtp);
              closeQuietly(pair.rtcp);
            }
            throw statusFailure(url, 'SETUP', res);
          }
          const sessionHeader = res.headers.session;
          if (!sessionHeader && !session) throw new RtspError('protocol', url, 'SETUP', 'the answer carries no Session header');
          if (sessionHeader) {
            const [id, ...params] = sessionHeader.split(';').map((p) => p.trim());
            session = id;
            const t = params.map((p) => /^timeout\s*=\s*(\d+)$/i.exec(p)?.[1]).find(Boolean);
            if (t) sessionTimeoutS = Math.max(5, Math.min(3600, Number(t)));
          }
          const answered = res.headers.transport ?? '';
          if (pair) {
            udp.push(pair);
            const server = /server_port=(\d+)(?:-(\d+))?/i.exec(answered);
            const source = /source=([^;]+)/i.exec(answered)?.[1];
            serverRtcp[index] = server ? { address: source && isIP(source) ? source : cameraAddress, port: Number(server[2] ?? Number(server[1]) + 1) } : undefined;
          } else {
            const il = /interleaved=(\d+)(?:-(\d+))?/i.exec(answered);
            if (il && Number(il[1]) !== index * 2) throw new RtspError('protocol', url, 'SETUP', `the camera chose interleaved channel ${il[1]} where ${index * 2} was asked`);
          }
          tracks.push({ media, index, stats: new ReceptionStats(media.clockRate || 90000) });
          break;
        }
      }
      const aggregate = controlUrl(d.base, d.sdp.control);
      const s = new RtspSession(d, { tracks, transport, id: session!, aggregate, udp, serverRtcp, timeoutMs });
      s.#listen(cameraAddress, opts.sink);
      await opts.beforePlay?.(tracks);
      operation = 'PLAY';
      const play = await bounded(d.conn.request('PLAY', aggregate, { Session: session!, Range: 'npt=0.000-', ...d.authorize('PLAY', aggregate) }));
      if (play.status !== 200) throw statusFailure(url, 'PLAY', play);
      s.#startTimers(sessionTimeoutS, d.methods.includes('GET_PARAMETER'));
      return s;
    } catch (err) {
      d.conn.onClose = undefined;
      d.conn.close();
      for (const p of udp) {
        closeQuietly(p.rtp);
        closeQuietly(p.rtcp);
      }
      if (opts.signal?.aborted) throw new RtspError('stopped', url, operation, 'cancelled');
      throw toFailure(url, operation, err, timedOut, timeoutMs);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  #listen(cameraAddress: string, sink: RtspSessionOptions['sink']): void {
    const rtp = (track: number, packet: Buffer) => {
      const t = this.tracks[track];
      if (!t) return;
      let p;
      try {
        p = parseRtp(packet);
      } catch {
        return; // Not RTP: dropped, as a receiver drops what it cannot read.
      }
      const now = Date.now();
      this.packets++;
      this.bytes += packet.length;
      this.lastPacketAt = now;
      t.stats.packet(p.ssrc, p.sequence, p.timestamp, now);
      sink?.rtp(track, packet, p);
      this.emit('rtp', track, packet);
    };
    const rtcp = (track: number, packet: Buffer) => {
      const t = this.tracks[track];
      if (!t) return;
      for (const sr of parseSenderReports(packet)) if (sr.ssrc === t.stats.ssrc) t.stats.senderReport(sr, Date.now());
      sink?.rtcp?.(track, packet);
      this.emit('rtcp', track, packet);
    };
    this.#conn.onInterleaved = (channel, payload) => (channel % 2 === 0 ? rtp(channel / 2, payload) : rtcp((channel - 1) / 2, payload));
    this.#conn.onClose = (err) => this.#end(new RtspError('closed', this.url, 'PLAY', err ? `the connection failed (${(err as NodeJS.ErrnoException).code ?? err.message})` : 'the camera closed the connection'));
    this.#udp.forEach((pair, track) => {
      // Only the camera's own address is listened to: a datagram from anyone else is not its media.
      pair.rtp.on('message', (m, rinfo) => { if (rinfo.address === cameraAddress && m.length <= MAX_PACKET) rtp(track, m); });
      pair.rtcp.on('message', (m, rinfo) => { if (rinfo.address === cameraAddress && m.length <= MAX_PACKET) rtcp(track, m); });
      pair.rtp.on('error', (err) => this.#end(new RtspError('closed', this.url, 'PLAY', `UDP receive failed (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
    });
  }

  #startTimers(sessionTimeoutS: number, getParameter: boolean): void {
    // Keep-alives at half the session timeout: GET_PARAMETER where the camera offers it, OPTIONS otherwise.
    this.#keepAlive = setInterval(() => {
      const method = getParameter ? 'GET_PARAMETER' : 'OPTIONS';
      const timer = setTimeout(() => this.#end(new RtspError('timeout', this.url, method, `no answer to the keep-alive within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      this.#conn.request(method, this.#aggregate, { Session: this.#id, ...this.#authorize(method, this.#aggregate) }).then((res) => {
        clearTimeout(timer);
        if (res.status === 454) this.#end(new RtspError('closed', this.url, method, 'the camera ended the session (454 Session Not Found)', 454));
      }, () => clearTimeout(timer));
    }, (sessionTimeoutS * 1000) / 2);
    this.#rtcpTimer = setInterval(() => this.#sendReports(), RTCP_INTERVAL_MS);
  }

  #sendReports(): void {
    const now = Date.now();
    this.tracks.forEach((t, i) => {
      const block = t.stats.block(now);
      if (!block) return;
      const report = receiverReport(this.#ssrc, [block], `sharp-eyes@${process.pid}`);
      if (this.transport === 'tcp') this.#conn.sendInterleaved(i * 2 + 1, report);
      else {
        const to = this.#serverRtcp[i];
        if (to) this.#udp[i]?.rtcp.send(report, to.port, to.address);
      }
    });
  }

  #end(err: RtspError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#keepAlive);
    clearInterval(this.#rtcpTimer);
    this.#conn.onInterleaved = undefined;
    this.#conn.onClose = undefined;
    this.#conn.close();
    for (const p of this.#udp) {
      closeQuietly(p.rtp);
      closeQuietly(p.rtcp);
    }
    this.emit('end', err);
  }

  /** close sends TEARDOWN (waiting for its answer a moment at most) and ends the session; it is idempotent. */
  async close(): Promise<void> {
    if (this.#ended) return;
    clearInterval(this.#keepAlive);
    clearInterval(this.#rtcpTimer);
    this.#conn.onClose = undefined;
    if (!this.#conn.closed) {
      await Promise.race([
        this.#conn.request('TEARDOWN', this.#aggregate, { Session: this.#id, ...this.#authorize('TEARDOWN', this.#aggregate) }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
    }
    this.#end(undefined);
  }
}

/** resolveHost gives the address datagrams from a camera come from. */
async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    return host;
  }
}

/** closeQuietly closes a socket that may already be closed. */
function closeQuietly(s: UdpSocket): void {
  try {
    s.close();
  } catch {
    // ERR_SOCKET_DGRAM_NOT_RUNNING: it was closed already, which is what was wanted.
    return;
  }
}
