// A camera's stream as ffmpeg reads it here: the gateway's own RTSP session pulls it (credentials stay in this
// process), and its video RTP reaches ffmpeg over loopback with an SDP on ffmpeg's stdin. What the camera sends and
// what is carried of it is said in words; failures become exits a person understands, never ffmpeg's or the
// camera's raw words (which may name the address).
import { RtspError, RtspSession } from '../../../adapters/rtsp/rtsp-session.js';
import type { SdpMedia } from '../../../adapters/rtsp/sdp.js';
import type { StreamSourceSpec } from '../../../adapters/core/types.js';
import type { PipelineExit } from './pipeline.js';
import { RtpRelay } from './rtp-relay.js';
import type { TrackInfo } from './core/access-unit.js';

export type { TrackInfo } from './core/access-unit.js';

/** CARRIED_VIDEO are the video codecs an HLS (MPEG-TS) output carries as they come. */
const CARRIED_VIDEO = new Set(['H264', 'H265']);

/** CameraInput is an open camera session relayed to a local port pair. */
export interface CameraInput {
  session: RtspSession;
  relay: RtpRelay;
  video: SdpMedia;
  tracks: TrackInfo[];
  close(): Promise<void>;
}

/** describeTracks says what the camera offers and what of it the HLS output carries. */
export function describeTracks(media: readonly SdpMedia[], video: SdpMedia): TrackInfo[] {
  return media.map((m) => {
    const kind = m.kind === 'video' || m.kind === 'audio' ? m.kind : 'other';
    const codec = m.codec || `payload type ${m.payloadType}`;
    if (m === video) return { kind, codec, carried: true };
    if (kind === 'audio') return { kind, codec, carried: false, note: `${codec} audio is not carried: live HLS is video only until the media core carries audio` };
    return { kind, codec, carried: false, note: kind === 'video' ? 'a second video track is not carried' : `${m.kind} tracks are not carried` };
  });
}

/** exitOfRtspError says in words why a camera session could not start or ended. */
export function exitOfRtspError(err: RtspError): PipelineExit {
  switch (err.kind) {
    case 'unauthorized': return { kind: 'unauthorized', message: 'the camera rejected the stored credentials (401 Unauthorized)' };
    case 'not-found': return { kind: 'not-found', message: 'the camera has no such stream (404 Not Found)' };
    case 'refused': return { kind: 'refused', message: err.detail.replace(/^\w+ failed: /, '') };
    case 'unsupported-transport': return { kind: 'unsupported', message: 'the camera does not send RTP over the transport set for it (461 Unsupported Transport): set its transport to UDP, or to auto' };
    case 'stopped': return { kind: 'stopped', message: 'stopped' };
    case 'protocol': return { kind: 'failed', message: `the camera's answer cannot be read (${err.detail})` };
    default: return { kind: 'offline', message: `the camera does not answer (${err.detail})` };
  }
}

/**
 * openCameraInput opens the camera's session and a relay for its video; RTP and the camera's RTCP flow to the relay
 * until close(). It rejects with a PipelineExit-bearing error (CameraInputError) saying why.
 */
export async function openCameraInput(source: StreamSourceSpec, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<CameraInput> {
  // The relay is made from the SDP once the camera described it, before PLAY: from the first packet on, RTP has a
  // place to go (it is held there until ffmpeg listens).
  let relay: RtpRelay | undefined;
  let relayFailure: Error | undefined;
  let session: RtspSession;
  try {
    session = await RtspSession.open({
      url: source.url, credentials: source.credentials, transport: source.transport ?? 'tcp', timeoutMs: opts.timeoutMs, signal: opts.signal,
      select: (media) => media.filter((m) => m.kind === 'video').slice(0, 1),
      sink: {
        rtp: (track, packet) => { if (track === 0) relay?.send(packet); },
        rtcp: (track, packet) => { if (track === 0) relay?.sendRtcp(packet); },
      },
      beforePlay: async (tracks) => {
        try {
          relay = await RtpRelay.open(tracks[0]!.media);
        } catch (err) {
          relayFailure = err as Error;
        }
      },
    });
  } catch (err) {
    relay?.close();
    if (err instanceof RtspError) throw new CameraInputError(exitOfRtspError(err));
    throw err;
  }
  const video = session.tracks[0]!.media;
  if (!relay) {
    await session.close();
    throw new CameraInputError({ kind: 'failed', message: `no local port for the relay: ${relayFailure?.message ?? 'unknown'}` });
  }
  const tracks = describeTracks(session.sdp.media, video);
  if (!CARRIED_VIDEO.has(video.codec)) {
    await session.close();
    relay.close();
    throw new CameraInputError({ kind: 'unsupported', message: `the camera sends ${video.codec || `payload type ${video.payloadType}`} video, which live HLS cannot carry (H.264 or H.265 are)` });
  }
  const opened = relay;
  return {
    session, relay: opened, video, tracks,
    async close() {
      await session.close();
      opened.close();
    },
  };
}

/** CameraInputError carries the exit of a camera input that could not open. */
export class CameraInputError extends Error {
  override name = 'CameraInputError';
  readonly exit: PipelineExit;

  constructor(exit: PipelineExit) {
    super(exit.message);
    this.exit = exit;
  }
}
