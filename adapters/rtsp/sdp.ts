// Reads the media sections of an SDP (RFC 4566) the way a probe needs them: codec, clock, fmtp, control.

/** SdpMedia is one m= section. */
export interface SdpMedia {
  /** index is the section's place in the SDP (0 for the first m= line). */
  index: number;
  kind: string;
  payloadType: number;
  codec: string;
  clockRate: number;
  /** channels is the audio channel count of the rtpmap (1 when absent). */
  channels: number;
  fmtp: Record<string, string>;
  control?: string;
  framerate?: number;
  /** lines are the section's attribute and bandwidth lines as the camera wrote them (rtpmap, fmtp, ...). */
  lines: string[];
}

/** SessionDescription is an SDP with its session-level control URL. */
export interface SessionDescription {
  control?: string;
  media: SdpMedia[];
}

/** MAX_SDP_CHARS bounds what is parsed (a camera's SDP is a few hundred bytes). */
const MAX_SDP_CHARS = 64 * 1024;
/** MAX_MEDIA bounds the sections a session may have. */
const MAX_MEDIA = 16;

/** SdpError names the line that could not be read. */
export class SdpError extends Error {
  override name = 'SdpError';
}

/** parseSdp returns the media sections; it throws SdpError when the text is not an SDP. */
export function parseSdp(text: string): SdpMedia[] {
  return parseSessionDescription(text).media;
}

/** parseSessionDescription reads an SDP (RFC 4566); it throws SdpError naming the line that cannot be read. */
export function parseSessionDescription(text: string): SessionDescription {
  if (text.length > MAX_SDP_CHARS) throw new SdpError(`the SDP is longer than ${MAX_SDP_CHARS} characters`);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== 'v=0') throw new SdpError(`not an SDP: first line ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  const session: SessionDescription = { media: [] };
  let current: SdpMedia | undefined;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('m=')) {
      const m = /^m=(\w+) \d+(?:\/\d+)? \S+ (\d+)/.exec(line);
      if (!m) throw new SdpError(`line ${i + 1}: malformed media line ${JSON.stringify(line.slice(0, 60))}`);
      if (session.media.length >= MAX_MEDIA) throw new SdpError(`line ${i + 1}: more than ${MAX_MEDIA} media sections`);
      const payloadType = Number(m[2]);
      if (payloadType > 127) throw new SdpError(`line ${i + 1}: payload type ${payloadType} is not 0-127`);
      current = { index: session.media.length, kind: m[1]!, payloadType, codec: '', clockRate: 0, channels: 1, fmtp: {}, lines: [] };
      session.media.push(current);
      continue;
    }
    if (!current) {
      if (line.startsWith('a=control:')) session.control = line.slice(10).trim();
      continue;
    }
    if (line.startsWith('a=') || line.startsWith('b=')) current.lines.push(line);
    const rtpmap = /^a=rtpmap:(\d+) ([\w.-]+)\/(\d+)(?:\/(\d+))?/.exec(line);
    if (rtpmap && Number(rtpmap[1]) === current.payloadType) {
      current.codec = rtpmap[2]!.toUpperCase();
      current.clockRate = Number(rtpmap[3]);
      if (rtpmap[4]) current.channels = Number(rtpmap[4]);
    }
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp && Number(fmtp[1]) === current.payloadType) {
      for (const part of fmtp[2]!.split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0) current.fmtp[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
      }
    }
    if (line.startsWith('a=control:')) current.control = line.slice(10).trim();
    const fr = /^a=framerate:([\d.]+)/.exec(line);
    if (fr) current.framerate = Number(fr[1]);
  }
  // Static payload types need no rtpmap (RFC 3551).
  const STATIC: Record<number, [string, number]> = { 0: ['PCMU', 8000], 8: ['PCMA', 8000], 26: ['JPEG', 90000], 14: ['MPA', 90000], 32: ['MPV', 90000], 33: ['MP2T', 90000] };
  for (const m of session.media) if (!m.codec && STATIC[m.payloadType]) [m.codec, m.clockRate] = STATIC[m.payloadType]!;
  return session;
}

/**
 * controlUrl resolves a track's control attribute against the session's base (RFC 2326 C.1.1): "*" or nothing is
 * the base itself, an absolute rtsp:// URL stands as it is, anything else is appended to the base after a slash, as
 * cameras and other clients (ffmpeg, live555) expect whether or not the base ends with one.
 */
export function controlUrl(base: string, control: string | undefined): string {
  if (!control || control === '*') return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  return base.endsWith('/') ? base + control : `${base}/${control}`;
}
