// One run of the in-process media core: the gateway's RTSP session pulls the camera, its RTP is put back in order,
// depacketized into pictures and audio frames, given decode timestamps and published on the stream's frame bus. No
// other process reads the camera. Watched for liveness: the camera sending, and pictures coming of what it sends.
import { EventEmitter } from 'node:events';
import type { StreamSourceSpec } from '../../../../adapters/core/types.js';
import type { RtpPacket } from '../../../../adapters/rtsp/rtp-packet.js';
import { RtspError, RtspSession } from '../../../../adapters/rtsp/rtsp-session.js';
import type { SdpMedia } from '../../../../adapters/rtsp/sdp.js';
import { exitOfRtspError } from '../camera-input.js';
import type { Pipeline, PipelineEvents, PipelineExit, PipelineStats } from '../pipeline.js';
import { type AudioParams, type TrackInfo, type TrackParams, type VideoParams } from './access-unit.js';
import { audioDepacketizer, type AudioDepacketizer } from './audio-depacketizer.js';
import { DtsDeriver } from './dts.js';
import type { FrameBus } from './frame-bus.js';
import { hlsTrackInfo } from './ll-hls.js';
import { Reorderer, TimestampExtender } from './rtp-order.js';
import { videoDepacketizer, type H264Depacketizer, type H265Depacketizer, type Picture } from './video-depacketizer.js';

/** CorePipelineOptions configure one run. */
export interface CorePipelineOptions {
  source: StreamSourceSpec;
  bus: FrameBus;
  startTimeoutMs: number;
  stallTimeoutMs: number;
}

/** CORE_VIDEO are the video codecs the core reads. */
export const CORE_VIDEO = new Set(['H264', 'H265']);
const CORE_AUDIO = new Set(['MPEG4-GENERIC', 'PCMA', 'PCMU']);
/** JUMP_FORWARD and JUMP_BACK (seconds) tell a timestamp jump from B-frame reordering and jitter. */
const JUMP_FORWARD = 10;
/** PROBE_PACKETS bounds how long the stream is also read as the other codec (a few GOPs of a main stream). */
const PROBE_PACKETS = 3000;
const JUMP_BACK = 2;

/** dtsDeriver makes the decode-time deriver of a video track: its reorder depth, one frame at its stated rate. */
function dtsDeriver(p: VideoParams): DtsDeriver {
  return new DtsDeriver(p.reorder, p.fps ? Math.round(90_000 / p.fps) : 3600);
}

/** selectTracks picks what the core plays: the first video section, and the first audio section it can read. */
export function selectTracks(media: readonly SdpMedia[]): SdpMedia[] {
  const video = media.find((m) => m.kind === 'video');
  const audio = media.find((m) => m.kind === 'audio' && CORE_AUDIO.has(m.codec));
  return [video, audio].filter((m): m is SdpMedia => m !== undefined);
}

/** CorePipeline is one upstream run feeding a bus that outlives it. */
export class CorePipeline extends EventEmitter<PipelineEvents> implements Pipeline {
  readonly #o: CorePipelineOptions;
  #session?: RtspSession;
  #abort = new AbortController();
  #started = false;
  #stopping = false;
  #ended = false;
  #live = false;
  #startedAt = 0;
  #watchdog?: NodeJS.Timeout;
  #run?: Promise<void>;
  // The tracks of this run.
  #video?: { media: SdpMedia; reorder: Reorderer; ext: TimestampExtender; depack: H264Depacketizer | H265Depacketizer; ssrc?: number };
  #audio?: { media: SdpMedia; reorder: Reorderer; ext: TimestampExtender; depack: AudioDepacketizer; ssrc?: number; index: number };
  #videoParams?: VideoParams;
  #begun = false;
  #dts?: DtsDeriver;
  #lastPts?: number;
  #tracks: TrackInfo[] = [];
  #extraTracks: TrackInfo[] = [];
  #frames = 0;
  #lastPictureAt = 0;
  #fpsWindow: number[] = [];
  #sawKey = false;
  /** probe is the reading of the stream as the other codec, while the SDP's codec has shown no keyframe. */
  #probe: { depack: H264Depacketizer | H265Depacketizer; packets: number } | undefined;
  /** sdpCodec is what the SDP said, once the stream proved to be another codec. */
  #sdpCodec: string | undefined;

  constructor(opts: CorePipelineOptions) {
    super();
    this.#o = opts;
  }

  stats(): PipelineStats {
    const now = Date.now();
    this.#fpsWindow = this.#fpsWindow.filter((t) => now - t < 2000);
    return {
      frames: this.#frames, fps: this.#fpsWindow.length / 2, lastProgressAt: this.#lastPictureAt || undefined,
      transport: this.#session?.transport, tracks: this.#tracks, packets: this.#session?.packets,
    };
  }

  start(): void {
    if (this.#started) throw new Error('pipeline already started');
    this.#started = true;
    this.#startedAt = Date.now();
    this.#run = this.#open().catch((err: unknown) => {
      this.#finish(err instanceof RtspError ? exitOfRtspError(err) : { kind: 'failed', message: `the stream could not start: ${(err as Error).message}` });
    });
  }

  async #open(): Promise<void> {
    const o = this.#o;
    const session = await RtspSession.open({
      url: o.source.url, credentials: o.source.credentials, transport: o.source.transport ?? 'tcp',
      timeoutMs: Math.min(o.startTimeoutMs, 10_000), signal: this.#abort.signal,
      select: selectTracks,
      sink: { rtp: (track, _raw, p) => this.#onRtp(track, p) },
      beforePlay: async (tracks) => this.#prepare(tracks.map((t) => t.media)),
    });
    if (this.#stopping) {
      await session.close();
      return this.#finish({ kind: 'stopped', message: 'stopped' });
    }
    this.#session = session;
    this.#extraTracks = [...this.#extraTracks, ...session.sdp.media.filter((m) => !session.tracks.some((t) => t.media === m)).map((m) => ({
      kind: (m.kind === 'video' || m.kind === 'audio' ? m.kind : 'other') as TrackInfo['kind'], codec: m.codec || `payload type ${m.payloadType}`, carried: false,
      note: m.kind === 'video' ? 'a second video track is not carried' : m.kind === 'audio' ? `${m.codec || 'this'} audio is not read by the media core` : `${m.kind} tracks are not carried`,
    }))];
    this.#describe();
    if (!this.#video) {
      await session.close();
      const v = session.sdp.media.find((m) => m.kind === 'video');
      return this.#finish({ kind: 'unsupported', message: v ? `the camera sends ${v.codec || `payload type ${v.payloadType}`} video, which the media core cannot read (H.264 or H.265 are)` : 'the camera offers no video track' });
    }
    session.once('end', (err) => {
      if (this.#stopping || this.#ended) return;
      this.#finish(err ? { kind: 'offline', message: `the camera ended the stream (${err.detail})` } : { kind: 'offline', message: 'the camera ended the stream' });
    });
    this.#watchdog = setInterval(() => this.#check(), 500);
  }

  /** #prepare makes the depacketizers once the camera said what it sends, before PLAY: no packet finds nobody. */
  #prepare(media: SdpMedia[]): void {
    const tcp = (this.#o.source.transport ?? 'tcp') === 'tcp';
    // Interleaved RTP comes in order; over UDP a gap is waited for a little.
    const window = tcp ? { maxPackets: 1, maxDelayMs: 0 } : { maxPackets: 128, maxDelayMs: 150 };
    // Audio first: the video's parameters (from the SDP) begin the bus at once, with every track known.
    const a = media.find((m) => m.kind === 'audio');
    if (a) {
      try {
        const ext = new TimestampExtender();
        const index = 1;
        const depack = audioDepacketizer(a, { frame: (f) => this.#onAudio(f.rtp, f.data, f.at) });
        if (depack) {
          const reorder = new Reorderer({ packet: (p) => depack.push(p, Date.now()), lost: () => depack.lost() }, window);
          this.#audio = { media: a, reorder, ext, depack, index };
        }
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        this.#extraTracks.push({ kind: 'audio', codec: a.codec, carried: false, note: `the audio track cannot be read: ${err.message}` });
      }
    }
    const v = media[0]?.kind === 'video' ? media[0] : undefined;
    if (v && CORE_VIDEO.has(v.codec)) {
      const depack = videoDepacketizer(v, { params: (p) => this.#onParams(p), picture: (p) => this.#onPicture(p) })!;
      const ext = new TimestampExtender();
      const reorder = new Reorderer({
        packet: (p) => {
          const at = Date.now();
          this.#video!.depack.push(p, at);
          this.#probe?.depack.push(p, at);
        },
        lost: () => {
          this.#video!.depack.lost();
          this.#probe?.depack.lost();
        },
      }, window);
      this.#video = { media: v, reorder, ext, depack };
      this.#startProbe(v);
    }
  }

  /**
   * #startProbe reads the first packets as the other codec too: some cameras' SDPs name H.265 for an H.264 stream
   * (an Ezviz C6N does) or the other way round. When the other reading finds its parameter sets and a keyframe while
   * the SDP's finds none, it takes over, and the stream's info says so.
   */
  #startProbe(v: SdpMedia): void {
    const other = v.codec === 'H264' ? 'H265' : 'H264';
    // The other codec's reader gets no SDP parameters (they would be the lying codec's): the stream's own decide.
    const media: SdpMedia = { ...v, codec: other, fmtp: {} };
    let params: VideoParams | undefined;
    let switched = false;
    const depack = videoDepacketizer(media, {
      params: (p) => {
        if (switched) this.#onParams(p);
        else params = p;
      },
      picture: (pic) => {
        if (switched) return this.#onPicture(pic);
        if (!this.#probe || !pic.key || !params || this.#sawKey) return;
        // The SDP's codec gave no keyframe; this reading did: it is the stream's codec, and reads on alone.
        switched = true;
        this.#probe = undefined;
        this.#video!.depack = depack;
        this.#video!.media = media;
        this.#sdpCodec = v.codec;
        this.#onParams(params);
        this.#onPicture(pic);
      },
    })!;
    this.#probe = { depack, packets: 0 };
  }

  #describe(): void {
    const params: Array<VideoParams | AudioParams> = [];
    if (this.#videoParams) params.push(this.#videoParams);
    else if (this.#video) params.push({ kind: 'video', codec: this.#video.media.codec as 'H264', sps: Buffer.alloc(0), pps: Buffer.alloc(0), width: 0, height: 0, codecString: '', reorder: 0 });
    if (this.#audio) params.push(this.#audio.depack.params);
    this.#tracks = hlsTrackInfo(params, this.#extraTracks);
    const video = this.#tracks[0];
    if (this.#sdpCodec && video?.kind === 'video') video.note = `the camera's SDP says ${this.#sdpCodec}, but it sends ${video.codec}: read as it is sent`;
  }

  #onRtp(track: number, p: RtpPacket): void {
    const t = track === 0 ? this.#video : this.#audio;
    if (!t || p.payloadType !== t.media.payloadType) return;
    const probe = this.#probe;
    if (track === 0 && probe && (this.#sawKey || ++probe.packets > PROBE_PACKETS)) this.#probe = undefined;
    if (t.ssrc === undefined) t.ssrc = p.ssrc;
    else if (p.ssrc !== t.ssrc) {
      // A new source: the camera restarted its encoder. Its numbering and clock start again.
      t.ssrc = p.ssrc;
      t.ext = new TimestampExtender();
      if (t === this.#video) this.#restartTimeline();
    }
    t.reorder.push(p, Date.now());
  }

  #onParams(p: VideoParams): void {
    const changed = this.#videoParams !== undefined;
    this.#videoParams = p;
    if (!this.#dts || this.#dts.reorder !== p.reorder) this.#dts = dtsDeriver(p);
    if (!this.#begun) {
      this.#begun = true;
      this.#o.bus.begin(this.#trackParams(p));
    } else if (changed) this.#o.bus.setParams(0, p);
    this.#describe();
  }

  /** #restartTimeline starts the bus's timeline again (a timestamp jump or a new source). */
  #restartTimeline(): void {
    this.#lastPts = undefined;
    if (this.#videoParams) this.#dts = dtsDeriver(this.#videoParams);
    if (this.#audio) this.#audio.ext = new TimestampExtender();
    if (this.#begun && this.#videoParams) this.#o.bus.begin(this.#trackParams(this.#videoParams));
  }

  /** #trackParams lists the bus's tracks: the video, then the audio when there is one. */
  #trackParams(video: VideoParams): TrackParams[] {
    return this.#audio ? [video, this.#audio.depack.params] : [video];
  }

  #onPicture(pic: Picture): void {
    const v = this.#video!;
    let pts = v.ext.extend(pic.rtp);
    if (this.#lastPts !== undefined) {
      const step = (pts - this.#lastPts) / 90_000;
      if (step > JUMP_FORWARD || step < -JUMP_BACK) {
        this.#restartTimeline();
        v.ext = new TimestampExtender();
        pts = v.ext.extend(pic.rtp);
      }
    }
    this.#lastPts = pts;
    const dts = this.#dts!.next(pts);
    this.#frames++;
    this.#lastPictureAt = pic.at;
    this.#fpsWindow.push(pic.at);
    if (this.#fpsWindow.length > 240) this.#fpsWindow.shift();
    this.#o.bus.publish({ track: 0, pts, dts, key: pic.key, data: pic.data, at: pic.at });
    // Live is pictures flowing: a keyframe, and a picture after it (a camera that sends one and stops is not live;
    // and a player can start once the first part of a third of a second is cut, a few pictures later).
    if (!this.#live && !this.#ended) {
      if (this.#sawKey && !pic.key) {
        this.#live = true;
        this.emit('live');
      } else if (pic.key) this.#sawKey = true;
    }
  }

  #onAudio(rtp: number, data: Buffer, at: number): void {
    if (!this.#begun || !this.#audio) return;
    const pts = this.#audio.ext.extend(rtp);
    this.#o.bus.publish({ track: this.#audio.index, pts, dts: pts, key: true, data, at });
  }

  #check(): void {
    const now = Date.now();
    const o = this.#o;
    const s = this.#session;
    if (!s) return;
    this.#video?.reorder.flush(now);
    this.#audio?.reorder.flush(now);
    const stats = this.#video?.depack.stats;
    if (s.lastPacketAt > 0 && now - s.lastPacketAt > o.stallTimeoutMs) {
      this.#finish({ kind: 'stalled', message: `the camera stopped sending video for ${Math.round(o.stallTimeoutMs / 1000)} s` });
    } else if (!this.#live && now - this.#startedAt > o.startTimeoutMs) {
      this.#finish(s.packets > 0 ? { kind: 'unsupported', message: this.#whyNoPicture() } : { kind: 'offline', message: `no video within ${Math.round(o.startTimeoutMs / 1000)} s of connecting` });
    } else if (this.#live && now - s.lastPacketAt < 1000 && now - this.#lastPictureAt > o.stallTimeoutMs) {
      this.#finish({ kind: 'failed', message: `the camera sends, but no picture could be read of it for ${Math.round(o.stallTimeoutMs / 1000)} s${stats && stats.malformed > 0 ? ` (${stats.malformed} malformed packets)` : ''}` });
    }
  }

  /** #whyNoPicture says why packets arrived but no keyframe came of them. */
  #whyNoPicture(): string {
    const st = this.#video?.depack.stats;
    const codec = this.#video?.media.codec ?? 'video';
    if (!this.#videoParams) {
      return st && st.malformed > 0
        ? `video packets arrive but cannot be read as ${codec} (${st.malformed} malformed): the camera may send another codec than its SDP says`
        : `video arrives without its codec parameters (no ${codec === 'H265' ? 'VPS/SPS/PPS' : 'SPS/PPS'} in the SDP or the stream)`;
    }
    if (st && st.keyframes === 0) return `video arrives but no keyframe came within ${Math.round(this.#o.startTimeoutMs / 1000)} s (the camera's keyframe interval is too long, or packets are lost)`;
    return 'video arrives but no picture could be read of it';
  }

  #finish(exit: PipelineExit): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#watchdog);
    void this.#session?.close();
    this.emit('exit', exit);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    await this.#run;
    this.#finish({ kind: 'stopped', message: 'stopped' });
    await this.#session?.close();
  }
}
