// A WHEP client (RFC 9725) for one tile: recvonly video and audio, the offer POSTed with the media token, the
// answer set; DELETE on close. The gateway is ICE-lite: no candidate needs to be trickled to it.

/** WhepError is the gateway's refusal of an offer, with its HTTP status and stable error code. */
export class WhepError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(status: number, body: { code?: string; message?: string; details?: Record<string, unknown> } | undefined) {
    super(body?.message ?? `WHEP ${status}`);
    this.status = status;
    this.code = body?.code ?? 'internal';
    this.details = body?.details;
  }
}

/** WhepSession is one connected (or connecting) view. */
export interface WhepSession {
  pc: RTCPeerConnection;
  codec: string | null;
  /** alive asks the gateway whether it still holds the view (false: it ended it, say a worker died). */
  alive(): Promise<boolean>;
  /**
   * glassDelay is how long the picture shown now took from the gateway to the screen (ms): the gateway says when the
   * picture of that RTP time reached it, and its clock, read against this one across the request.
   */
  glassDelay(): Promise<number | undefined>;
  close(): void;
}

/** whepSupported says whether this browser can play WebRTC at all. */
export function whepSupported(): boolean {
  return typeof RTCPeerConnection === 'function';
}

/** whepConnect offers to url and plays what comes into video; it rejects with WhepError on a refusal. */
export async function whepConnect(url: string, video: HTMLVideoElement): Promise<WhepSession> {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  let resource: string | null = null;
  const close = () => {
    pc.close();
    if (resource) void fetch(resource, { method: 'DELETE' }).catch(() => undefined);
    resource = null;
  };
  try {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.ontrack = (e) => {
      stream.addTrack(e.track);
      if (video.srcObject !== stream) video.srcObject = stream;
    };
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    if (res.status !== 201) {
      throw new WhepError(res.status, await res.json().catch(() => undefined) as { code?: string; message?: string } | undefined);
    }
    resource = res.headers.get('location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    const at = resource;
    const alive = async () => {
      if (!at) return true;
      const r = await fetch(at, { cache: 'no-store' }).catch(() => undefined);
      return r === undefined || r.status !== 404;
    };
    const glassDelay = async () => {
      const receiver = pc.getReceivers().find((r) => r.track.kind === 'video');
      const src = receiver?.getSynchronizationSources()[0];
      if (!at || !src) return undefined;
      // The time it was played out: epoch milliseconds in some browsers, the page's time origin in others.
      const playedAt = src.timestamp > 1e12 ? src.timestamp : performance.timeOrigin + src.timestamp;
      const sent = Date.now();
      const r = await fetch(`${at}?rtp=${src.rtpTimestamp >>> 0}`, { cache: 'no-store' }).catch(() => undefined);
      if (!r?.ok) return undefined;
      const back = Date.now();
      const j = (await r.json()) as { now: number; arrivedAt?: number };
      if (j.arrivedAt === undefined) return undefined;
      const offset = j.now - (sent + back) / 2;
      return Math.max(0, Math.round(playedAt + offset - j.arrivedAt));
    };
    return { pc, codec: res.headers.get('x-stream-codec'), alive, glassDelay, close };
  } catch (err) {
    close();
    throw err;
  }
}
