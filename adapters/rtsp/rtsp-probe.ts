// Probes an RTSP URL the cheap way: OPTIONS and DESCRIBE over one connection, no media, no process.
import { performance } from 'node:perf_hooks';
import { redactUrl, type SourceCredentials } from '../core/types.js';
import { DeviceError } from '../core/device-error.js';
import { parseSps } from './h264-sps.js';
import { RtspConnection, RtspProtocolError } from './rtsp-connection.js';
import { SdpError, type SdpMedia } from './sdp.js';
import { describeStream, RtspError, type DescribeResult } from './rtsp-session.js';

/** ProbeOptions bound a probe. */
export interface ProbeOptions {
  credentials?: SourceCredentials;
  /** timeoutMs bounds the whole probe (connect and every answer). */
  timeoutMs?: number;
}

/** VideoInfo describes the video track. */
export interface VideoInfo {
  codec: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  fps?: number;
}

/** ProbeResult is what a reachable camera said about itself. */
export interface ProbeResult {
  url: string;
  latencyMs: number;
  server?: string;
  auth: 'none' | 'digest' | 'basic';
  methods: string[];
  video?: VideoInfo;
  audio?: { codec: string; clockRate: number };
}

/** ProbeFailure classifies why a probe failed. */
export type ProbeFailure = 'unreachable' | 'timeout' | 'unauthorized' | 'not-found' | 'refused' | 'protocol';

/** RtspProbeError names the device (without its password), the operation and what went wrong. */
export class RtspProbeError extends DeviceError {
  override name = 'RtspProbeError';
  readonly kind: ProbeFailure;
  readonly url: string;
  readonly operation: string;

  constructor(kind: ProbeFailure, url: string, operation: string, detail: string) {
    super(`${redactUrl(url)}: ${operation} failed: ${detail}`, `${operation} failed: ${detail}`);
    this.kind = kind;
    this.url = redactUrl(url);
    this.operation = operation;
  }
}

function describeVideo(media: SdpMedia): VideoInfo {
  const info: VideoInfo = { codec: media.codec || `payload type ${media.payloadType}` };
  if (media.codec === 'H264') {
    const sprop = media.fmtp['sprop-parameter-sets']?.split(',')[0];
    if (sprop) {
      try {
        Object.assign(info, parseSps(Buffer.from(sprop, 'base64')));
        delete (info as { profileIdc?: number }).profileIdc;
      } catch {
        // A camera that sends a broken SPS still streams; the probe reports what the SDP alone says.
      }
    }
  }
  info.fps ??= media.framerate;
  return info;
}

/** PingResult is what a cheap reachability check learned. */
export interface PingResult {
  latencyMs: number;
  status: number;
}

/**
 * withRtsp parses url, connects and runs fn within timeoutMs, turning every failure into an RtspProbeError that names
 * the operation under way (fn reports it through setOperation). The connection is always closed.
 */
async function withRtsp<T>(url: string, timeoutMs: number, signal: AbortSignal | undefined, fn: (conn: RtspConnection, target: { uri: string; url: URL }, setOperation: (op: string) => void) => Promise<T>): Promise<T> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RtspProbeError('protocol', url, 'parse', 'not a URL');
  }
  if (u.protocol !== 'rtsp:') throw new RtspProbeError('protocol', url, 'parse', `scheme ${u.protocol} is not rtsp:`);
  const userinfo = new URL(u);
  u.username = '';
  u.password = '';
  const controller = new AbortController();
  let operation = 'connect';
  let conn: RtspConnection | undefined;
  const stop = () => { controller.abort(); conn?.close(); };
  const timer = setTimeout(stop, timeoutMs);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted) throw new RtspProbeError('timeout', url, operation, 'cancelled');
    conn = await RtspConnection.open(u.hostname, Number(u.port || 554), controller.signal);
    return await fn(conn, { uri: u.toString(), url: userinfo }, (op) => { operation = op; });
  } catch (err) {
    if (err instanceof RtspProbeError) throw err;
    if (signal?.aborted) throw new RtspProbeError('timeout', url, operation, 'cancelled');
    if (controller.signal.aborted) throw new RtspProbeError('timeout', url, operation, `no answer within ${timeoutMs} ms`);
    if (err instanceof SdpError || err instanceof RtspProtocolError) throw new RtspProbeError('protocol', url, operation, err.message);
    const code = (err as NodeJS.ErrnoException).code;
    throw new RtspProbeError('unreachable', url, operation, code ? `${code} (${(err as Error).message})` : (err as Error).message);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
    conn?.close();
  }
}

/**
 * pingRtsp is the health check: connect and OPTIONS, nothing else. Any RTSP answer means the device is up (many cameras
 * answer OPTIONS without credentials, some with 401); no answer, a refused or dropped connection means it is not.
 */
export function pingRtsp(url: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<PingResult> {
  return withRtsp(url, opts.timeoutMs ?? 3000, opts.signal, async (conn, { uri }, setOperation) => {
    const started = performance.now();
    setOperation('OPTIONS');
    const res = await conn.request('OPTIONS', uri, {});
    return { latencyMs: Math.round(performance.now() - started), status: res.status };
  });
}

/** probeRtsp connects, asks OPTIONS and DESCRIBE (authenticating as the camera asks) and reads the stream's codecs. */
export async function probeRtsp(url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  let d: DescribeResult;
  try {
    d = await describeStream({ url, credentials: opts.credentials, timeoutMs: opts.timeoutMs ?? 5000 });
  } catch (err) {
    if (err instanceof RtspError) throw new RtspProbeError(err.kind === 'refused' ? 'refused' : err.kind === 'stopped' || err.kind === 'closed' || err.kind === 'unsupported-transport' ? 'protocol' : err.kind, url, err.operation, err.detail.replace(/^\S+ failed: /, ''));
    throw err;
  }
  d.conn.close();
  const video = d.sdp.media.find((m) => m.kind === 'video');
  const audio = d.sdp.media.find((m) => m.kind === 'audio');
  return {
    url: redactUrl(d.url), latencyMs: d.latencyMs, server: d.server, auth: d.auth, methods: d.methods,
    video: video && describeVideo(video),
    audio: audio && { codec: audio.codec, clockRate: audio.clockRate },
  };
}
