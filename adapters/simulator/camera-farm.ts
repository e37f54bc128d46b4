// The simulated cameras: any id is a camera; each may carry fault knobs that tests and operators flip at run time.
import type { Profile } from '../core/types.js';
import type { AudioClip, Clip } from './clip.js';

/** CameraFaults are the knobs of one camera. */
export interface CameraFaults {
  /** offline drops every connection that asks for the camera, as a dead device behind a router would. */
  offline?: boolean;
  /** password replaces the farm password for this camera: clients that use the farm's get 401. */
  password?: string;
  /** stallAfterMs stops sending media that long after PLAY while keeping the connection open. */
  stallAfterMs?: number;
  /** delayMs delays every RTSP answer. */
  delayMs?: number;
  /** describeStatus answers DESCRIBE with this RTSP status (503: a camera at its session limit). */
  describeStatus?: number;
  /** udpOnly refuses RTP over the RTSP connection (461 Unsupported Transport), as some cameras and NVRs do. */
  udpOnly?: boolean;
  /** audio offers an audio track in the SDP as Chinese cameras send it: G.711 A-law or µ-law, or AAC. */
  audio?: 'pcma' | 'pcmu' | 'aac';
  /** bframes serves the main profile from a clip encoded with B-frames (RTP timestamps out of order). */
  bframes?: boolean;
  /** redirectTo answers DESCRIBE with 302 to the same profile of another camera id. */
  redirectTo?: string;
  /** codec serves the camera's profiles in H.264 (the default) or H.265, or the main profile alone in H.265 ('h265-main'). */
  codec?: 'h264' | 'h265' | 'h265-main';
  /** counter serves the clip whose every picture shows its own index, with each picture's send time kept. */
  counter?: boolean;
  /** lossPercent drops that share of RTP packets, at random. */
  lossPercent?: number;
  /** reorderPercent sends that share of UDP packets after the one that follows them. */
  reorderPercent?: number;
  /** garbagePercent replaces that share of RTP payloads with random bytes (the RTP header stays valid). */
  garbagePercent?: number;
  /** sdpCodec is what the SDP says the video is, whatever is sent: a camera that lies about its codec. */
  sdpCodec?: 'h264' | 'h265';
  /** resolutionChangeAfterMs switches to the other profile's picture size at the first keyframe that long after PLAY. */
  resolutionChangeAfterMs?: number;
  /** timestampJumpAfterMs makes the RTP timestamps jump an hour ahead, once, that long after PLAY. */
  timestampJumpAfterMs?: number;
}

/** KNOWN_FAULTS lists the knobs, for the error that names an unknown one. */
const KNOWN_FAULTS = 'offline, password, stallAfterMs, delayMs, describeStatus, udpOnly, audio, bframes, redirectTo, codec, counter, lossPercent, reorderPercent, garbagePercent, sdpCodec, resolutionChangeAfterMs, timestampJumpAfterMs';

/** CAMERA_ID matches the ids the farm serves. */
export const CAMERA_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** CameraFarmOptions configure the farm. */
export interface CameraFarmOptions {
  username: string;
  password: string;
  clips: Record<Profile, Clip>;
  /** bframeClip is the main profile with B-frames, for cameras whose bframes knob is set. */
  bframeClip?: Clip;
  /** hevcClips are the profiles in H.265, for cameras whose codec knob says h265. */
  hevcClips?: Record<Profile, Clip>;
  /** counterClip shows each picture's index (the counter knob). */
  counterClip?: Clip;
  /** audio are the audio tracks a camera with the audio knob sends. */
  audio?: Partial<Record<'pcma' | 'pcmu' | 'aac', AudioClip>>;
}

/** CameraFarm answers what each camera is and how it misbehaves. */
export class CameraFarm {
  readonly username: string;
  readonly clips: Record<Profile, Clip>;
  readonly bframeClip?: Clip;
  readonly hevcClips?: Record<Profile, Clip>;
  readonly counterClip?: Clip;
  readonly audio: Partial<Record<'pcma' | 'pcmu' | 'aac', AudioClip>>;
  #password: string;
  #faults = new Map<string, CameraFaults>();

  constructor(opts: CameraFarmOptions) {
    this.username = opts.username;
    this.#password = opts.password;
    this.clips = opts.clips;
    this.bframeClip = opts.bframeClip;
    this.hevcClips = opts.hevcClips;
    this.counterClip = opts.counterClip;
    this.audio = opts.audio ?? {};
  }

  /** faults returns the knobs of camera id (empty when healthy). */
  faults(id: string): CameraFaults {
    return this.#faults.get(id) ?? {};
  }

  /** setFaults merges knobs into camera id; a knob set to null or undefined is cleared. */
  setFaults(id: string, faults: Record<string, unknown>): CameraFaults {
    if (!CAMERA_ID.test(id)) throw new TypeError(`invalid camera id ${JSON.stringify(id)}`);
    const next: CameraFaults = { ...this.faults(id) };
    for (const [key, value] of Object.entries(faults)) {
      if (value === null || value === undefined) {
        delete next[key as keyof CameraFaults];
        continue;
      }
      switch (key) {
        case 'offline':
          if (typeof value !== 'boolean') throw new TypeError('offline must be a boolean');
          next.offline = value;
          break;
        case 'password':
          if (typeof value !== 'string' || value.length === 0) throw new TypeError('password must be a non-empty string');
          next.password = value;
          break;
        case 'stallAfterMs':
        case 'delayMs':
        case 'resolutionChangeAfterMs':
        case 'timestampJumpAfterMs':
          if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${key} must be a number >= 0`);
          next[key] = value;
          break;
        case 'describeStatus':
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 300 || value > 599) throw new TypeError('describeStatus must be an RTSP status from 300 to 599');
          next.describeStatus = value;
          break;
        case 'lossPercent':
        case 'reorderPercent':
        case 'garbagePercent':
          if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) throw new TypeError(`${key} must be a number from 0 to 100`);
          next[key] = value;
          break;
        case 'codec':
          if (value !== 'h264' && value !== 'h265' && value !== 'h265-main') throw new TypeError('codec must be "h264", "h265" or "h265-main"');
          if (value !== 'h264' && !this.hevcClips) throw new TypeError('this farm has no H.265 clips');
          next[key] = value;
          break;
        case 'sdpCodec':
          if (value !== 'h264' && value !== 'h265') throw new TypeError(`${key} must be "h264" or "h265"`);
          next[key] = value;
          break;
        case 'udpOnly':
        case 'bframes':
        case 'counter':
          if (typeof value !== 'boolean') throw new TypeError(`${key} must be a boolean`);
          next[key] = value;
          break;
        case 'redirectTo':
          if (typeof value !== 'string' || !CAMERA_ID.test(value)) throw new TypeError('redirectTo must be a camera id');
          next.redirectTo = value;
          break;
        case 'audio':
          if (value !== 'pcma' && value !== 'pcmu' && value !== 'aac') throw new TypeError('audio must be "pcma", "pcmu" or "aac"');
          next.audio = value;
          break;
        default:
          throw new TypeError(`unknown fault ${JSON.stringify(key)} (known: ${KNOWN_FAULTS})`);
      }
    }
    if (Object.keys(next).length === 0) this.#faults.delete(id);
    else this.#faults.set(id, next);
    return next;
  }

  /** clearFaults makes camera id healthy again. */
  clearFaults(id: string): void {
    this.#faults.delete(id);
  }

  /** faulty lists every camera that carries a knob. */
  faulty(): Array<{ id: string; faults: CameraFaults }> {
    return [...this.#faults].map(([id, faults]) => ({ id, faults }));
  }

  /** clipOf returns the clip a camera profile replays. */
  clipOf(id: string, profile: Profile): Clip {
    const f = this.faults(id);
    if (f.counter && this.counterClip) return this.counterClip;
    if ((f.codec === 'h265' || (f.codec === 'h265-main' && profile === 'main')) && this.hevcClips) return this.hevcClips[profile];
    return profile === 'main' && f.bframes && this.bframeClip ? this.bframeClip : this.clips[profile];
  }

  /** otherSizeOf returns the clip a resolution change switches to: the other profile's, in the same codec. */
  otherSizeOf(id: string, profile: Profile): Clip {
    const other: Profile = profile === 'main' ? 'sub' : 'main';
    const codec = this.faults(id).codec;
    return (codec === 'h265' || (codec === 'h265-main' && other === 'main')) && this.hevcClips ? this.hevcClips[other] : this.clips[other];
  }

  /** passwordOf returns the password camera id accepts. */
  passwordOf(id: string): string {
    return this.faults(id).password ?? this.#password;
  }
}
