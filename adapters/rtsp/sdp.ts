// Reads the media sections of an SDP (RFC 4566) the way a probe needs them: codec, clock, fmtp, control.

/** SdpMedia is one m= section. */
export interface SdpMedia {
  kind: string;
  payloadType: number;
  codec: string;
  clockRate: number;
  fmtp: Record<string, string>;
  control?: string;
  framerate?: number;
}

/** SdpError names the line that could not be read. */
export class SdpError extends Error {
  override name = 'SdpError';
}

/** parseSdp returns the media sections; it throws SdpError when the text is not an SDP. */
export function parseSdp(text: string): SdpMedia[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== 'v=0') throw new SdpError(`not an SDP: first line ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  const media: SdpMedia[] = [];
  let current: SdpMedia | undefined;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('m=')) {
      const m = /^m=(\w+) \d+(?:\/\d+)? \S+ (\d+)/.exec(line);
      if (!m) throw new SdpError(`line ${i + 1}: malformed media line ${JSON.stringify(line.slice(0, 60))}`);
      current = { kind: m[1]!, payloadType: Number(m[2]), codec: '', clockRate: 0, fmtp: {} };
      media.push(current);
      continue;
    }
    if (!current) continue;
    const rtpmap = /^a=rtpmap:(\d+) ([\w.-]+)\/(\d+)/.exec(line);
    if (rtpmap && Number(rtpmap[1]) === current.payloadType) {
      current.codec = rtpmap[2]!.toUpperCase();
      current.clockRate = Number(rtpmap[3]);
    }
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp && Number(fmtp[1]) === current.payloadType) {
      for (const part of fmtp[2]!.split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0) current.fmtp[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
      }
    }
    if (line.startsWith('a=control:')) current.control = line.slice(10);
    const fr = /^a=framerate:([\d.]+)/.exec(line);
    if (fr) current.framerate = Number(fr[1]);
  }
  // Static payload types need no rtpmap (RFC 3551).
  for (const m of media) if (!m.codec && m.payloadType === 26) [m.codec, m.clockRate] = ['JPEG', 90000];
  return media;
}
