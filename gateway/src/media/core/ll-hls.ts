// HLS made from a frame bus: fMP4 fragments of about a third of a second (LL-HLS partial segments) that make up
// segments cut at keyframes. One set of fragments serves both playlists: the low-latency one (EXT-X-PART,
// EXT-X-PRELOAD-HINT, blocking reload) and the plain one. The segment being made is in memory (its bytes are the bus's
// own); a finished one is written to the stream's folder (tmpfs by default) and served from there, its parts as byte
// ranges of it. The playlist goes on across upstream restarts and codec changes with EXT-X-DISCONTINUITY and a
// continuous media sequence.
import { mkdirSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessUnit, AudioParams, TrackInfo, VideoParams } from './access-unit.js';
import { fragment, initSegment, type Mp4Sample, type Mp4Track } from './fmp4.js';
import type { FrameBus } from './frame-bus.js';

/** HlsOutputOptions size the output. */
export interface HlsOutputOptions {
  /** partTargetMs is the partial segment duration aimed at (LL-HLS says 200-333 ms; parts never exceed it by much). */
  partTargetMs: number;
  /** segmentSeconds is the least a segment lasts: it ends at the first keyframe after. */
  segmentSeconds: number;
  /** windowSegments is how many whole segments the playlist keeps. */
  windowSegments: number;
  /** maxBytes bounds what the window holds (a camera sending huge pictures shortens its window). */
  maxBytes: number;
  /**
   * dir, when given, is where finished segments are written (the output owns it and removes it on close); without it
   * the whole window stays in memory.
   */
  dir?: string;
  /** onError is told when a segment cannot be written (it is then kept in memory). */
  onError?: (err: Error) => void;
}

/** MediaBytes is where a segment's or a part's bytes are: in memory, or a byte range of a file (end inclusive). */
export type MediaBytes = { chunks: Buffer[] } | { path: string; start: number; end: number };

/** Part is one partial segment: a complete moof + mdat, its chunks shared with the segment it belongs to. */
interface Part {
  /** chunks are its bytes while in memory; once the segment is written, they are dropped. */
  chunks?: Buffer[];
  /** offset is where it starts in its segment. */
  offset: number;
  bytes: number;
  duration: number;
  independent: boolean;
}

/** Segment is a run of parts from a keyframe. */
interface Segment {
  msn: number;
  parts: Part[];
  duration: number;
  bytes: number;
  /** discontinuity marks the first segment after a restart or a codec change. */
  discontinuity: boolean;
  init: number;
  /** programTime is when its first picture arrived (ms since the epoch). */
  programTime: number;
  done: boolean;
  /** file is where the segment was written, once it was. */
  file?: string;
}

/** Waiter is a blocked playlist or part request. */
interface Waiter {
  ready: () => boolean;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

const VIDEO_TIMESCALE = 90_000;
const VIDEO_ID = 1;
const AUDIO_ID = 2;
/** AAC_FRAME is the samples of one AAC-LC frame. */
const AAC_FRAME = 1024;
/** MAX_PART_SAMPLES bounds one part (video stalled while audio goes on, or a flood of tiny pictures). */
const MAX_PART_SAMPLES = 600;

/** MAX_WAITERS bounds the requests one stream holds waiting for a part (a few per viewer are enough). */
const MAX_WAITERS = 2000;

/** HLS_FILE names what an output serves. */
export const HLS_FILE = /^(?:init-(\d{1,9})\.mp4|seg-(\d{1,12})\.m4s|part-(\d{1,12})-(\d{1,4})\.m4s)$/;

/** carriedInHls says which tracks HLS carries: H.264/H.265 video, AAC audio (G.711 stays on the bus for WebRTC). */
export function hlsTrackInfo(params: readonly (VideoParams | AudioParams)[], extra: TrackInfo[] = []): TrackInfo[] {
  const out: TrackInfo[] = [];
  let video = false;
  let audio = false;
  for (const p of params) {
    if (p.kind === 'video') {
      out.push(video ? { kind: 'video', codec: p.codec, carried: false, note: 'a second video track is not carried' } : { kind: 'video', codec: p.codec, carried: true });
      video = true;
    } else if (p.codec === 'AAC' && !audio) {
      out.push({ kind: 'audio', codec: 'AAC', carried: true });
      audio = true;
    } else {
      out.push({ kind: 'audio', codec: p.codec, carried: false, note: p.codec === 'AAC' ? 'a second audio track is not carried' : `${p.codec === 'PCMA' ? 'G.711 A-law' : 'G.711 µ-law'} audio is not carried in HLS (browsers do not play it from MP4); WebRTC carries it` });
    }
  }
  return [...out, ...extra];
}

/** HlsOutput listens to a bus and keeps the window of segments and the playlists. */
export class HlsOutput {
  readonly #bus: FrameBus;
  readonly #o: HlsOutputOptions;
  #segments: Segment[] = [];
  #current: Segment | undefined;
  #nextMsn = 1;
  /** discontinuitySequence counts discontinuities that slid out of the window (RFC 8216 4.3.3.3). */
  #discontinuitySequence = 0;
  #inits: Map<number, Buffer> = new Map();
  #init = 0;
  #bytes = 0;
  #targetDuration: number;
  #waiters = new Set<Waiter>();
  #cache: { ll?: string; plain?: string } = {};
  #fragmentSeq = 1;
  // The current run's tracks and timeline.
  #videoTrack = -1;
  #audioTrack = -1;
  #audioRate = 0;
  #audioFrame = AAC_FRAME;
  #needKey = true;
  #needDiscontinuity = false;
  #needInit = true;
  /** origin maps the bus's video clock onto the playlist's continuous timeline (offset added to dts). */
  #videoOffset: number | undefined;
  #audioOffset: number | undefined;
  #firstVideoAt = 0;
  #firstVideoPts = 0;
  /** timeline is the end of what was written, in video ticks: where a new run starts. */
  #timeline = 0;
  #pending: { dts: number; pts: number; key: boolean; data: Buffer; at: number } | undefined;
  #frameTicks = 3600;
  #part: { video: Mp4Sample[]; audio: Mp4Sample[]; videoBase: number; audioBase: number; duration: number; independent: boolean } | undefined;
  #audioNext: number | undefined;
  #closed = false;
  #dirMade = false;
  /** shortFirst is set at the start of a run: its first segment ends with its first part. */
  #shortFirst = false;
  readonly #listeners: { unit: (au: AccessUnit) => void; restart: () => void; params: () => void };

  constructor(bus: FrameBus, opts: HlsOutputOptions) {
    this.#bus = bus;
    this.#o = opts;
    this.#targetDuration = Math.max(1, Math.ceil(opts.segmentSeconds));
    this.#listeners = {
      unit: (au) => this.#onUnit(au),
      restart: () => this.#break(true),
      params: () => this.#break(false),
    };
    bus.on('unit', this.#listeners.unit);
    bus.on('restart', this.#listeners.restart);
    bus.on('params', this.#listeners.params);
    // A bus already carrying pictures starts the output at its cached keyframe.
    for (const au of bus.gopCache()) this.#onUnit(au);
  }

  /** ready says whether the playlist has a whole segment to offer (players need one to start: hls.js does). */
  get ready(): boolean {
    return this.#segments.length > 0;
  }

  /** bytes is what the window holds now. */
  get bytes(): number {
    return this.#bytes;
  }

  get lastMsn(): number {
    return this.#nextMsn - 1;
  }

  /** init returns an init segment still referred to, or undefined. */
  init(n: number): Buffer | undefined {
    return this.#inits.get(n);
  }

  /** segment returns where a complete segment of the window is, or undefined. */
  segment(msn: number): MediaBytes | undefined {
    const s = this.#segments.find((x) => x.msn === msn);
    if (!s?.done) return undefined;
    if (s.file) return { path: s.file, start: 0, end: s.bytes - 1 };
    return { chunks: s.parts.flatMap((p) => p.chunks ?? []) };
  }

  /** part returns where a partial segment is, or undefined when it is not (or no longer) there. */
  part(msn: number, index: number): MediaBytes | undefined {
    const s = msn === this.#current?.msn ? this.#current : this.#segments.find((x) => x.msn === msn);
    const p = s?.parts[index];
    if (!s || !p) return undefined;
    if (p.chunks) return { chunks: p.chunks };
    return s.file ? { path: s.file, start: p.offset, end: p.offset + p.bytes - 1 } : undefined;
  }

  /**
   * waitPart resolves true once segment msn's part index exists (index -1: the whole segment), or false after
   * timeoutMs. A request too far ahead (more than two segments) resolves false at once.
   */
  waitPart(msn: number, index: number, timeoutMs: number): Promise<boolean> {
    const ready = () => this.#closed || (index < 0 ? this.#segments.some((s) => s.msn >= msn && s.done) || msn < (this.#segments[0]?.msn ?? 0)
      : this.#has(msn, index));
    if (!ready() && msn > this.#nextMsn + 1) return Promise.resolve(false);
    return this.#wait(ready, timeoutMs);
  }

  /** waitReady resolves true once the playlist has a whole segment to offer, or false after timeoutMs or on close. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    return (await this.#wait(() => this.#closed || this.ready, timeoutMs)) && !this.#closed;
  }

  /**
   * #wait resolves true as soon as ready() holds (checked now and on every change), or false after timeoutMs. Too
   * many held already: answered at once (the player asks again), so held requests stay bounded.
   */
  #wait(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (this.#waiters.size >= MAX_WAITERS) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w: Waiter = {
        ready,
        resolve: (ok) => {
          clearTimeout(w.timer);
          this.#waiters.delete(w);
          resolve(ok);
        },
        timer: setTimeout(() => w.resolve(false), timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  #has(msn: number, index: number): boolean {
    if (this.#current && msn === this.#current.msn) return this.#current.parts.length > index;
    const s = this.#segments.find((x) => x.msn === msn);
    if (s) return s.parts.length > index || s.done;
    // A segment before the window, or one that ended before reaching that part: the playlist moved past it.
    return msn < (this.#current?.msn ?? this.#nextMsn);
  }

  /** playlist renders the media playlist: low-latency (with parts) or plain. */
  playlist(lowLatency: boolean): string {
    const key = lowLatency ? 'll' : 'plain';
    const cached = this.#cache[key];
    if (cached !== undefined) return cached;
    const all = [...this.#segments, ...(lowLatency && this.#current && this.#current.parts.length > 0 ? [this.#current] : [])];
    const partTarget = this.#o.partTargetMs / 1000;
    const lines = ['#EXTM3U', `#EXT-X-VERSION:${lowLatency ? 9 : 7}`, `#EXT-X-TARGETDURATION:${this.#targetDuration}`];
    if (lowLatency) {
      lines.push(`#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${(partTarget * 3).toFixed(3)}`);
      lines.push(`#EXT-X-PART-INF:PART-TARGET=${partTarget.toFixed(3)}`);
    }
    lines.push(`#EXT-X-MEDIA-SEQUENCE:${all[0]?.msn ?? this.#nextMsn}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${this.#discontinuitySequence}`);
    let init = -1;
    // Parts are listed for the last segments only (within about three target durations of the live edge).
    const partsFrom = all.length - Math.max(2, Math.ceil((3 * this.#targetDuration) / Math.max(0.5, this.#o.segmentSeconds)));
    all.forEach((s, i) => {
      if (s.discontinuity && i > 0) lines.push('#EXT-X-DISCONTINUITY');
      if (s.init !== init) {
        lines.push(`#EXT-X-MAP:URI="init-${s.init}.mp4"`);
        init = s.init;
      }
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programTime).toISOString()}`);
      if (lowLatency && i >= partsFrom) {
        s.parts.forEach((p, j) => lines.push(`#EXT-X-PART:DURATION=${p.duration.toFixed(5)},URI="part-${s.msn}-${j}.m4s"${p.independent ? ',INDEPENDENT=YES' : ''}`));
      }
      if (s.done) lines.push(`#EXTINF:${s.duration.toFixed(5)},`, `seg-${s.msn}.m4s`);
    });
    if (lowLatency && all.length > 0) {
      const cur = this.#current;
      const next = cur ? `part-${cur.msn}-${cur.parts.length}.m4s` : `part-${this.#nextMsn}-0.m4s`;
      lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${next}"`);
    }
    const text = `${lines.join('\n')}\n`;
    this.#cache[key] = text;
    return text;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bus.off('unit', this.#listeners.unit);
    this.#bus.off('restart', this.#listeners.restart);
    this.#bus.off('params', this.#listeners.params);
    for (const w of [...this.#waiters]) w.resolve(false);
    this.#segments = [];
    this.#current = undefined;
    this.#inits.clear();
    this.#bytes = 0;
    // A segment being written may create its file while the folder is emptied (ENOTEMPTY): the removal is tried again
    // at once, and that write, finding the output closed, removes what it wrote.
    if (this.#o.dir) rmSync(this.#o.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 10 });
  }

  /** #break ends the current segment: the upstream restarted (timeline), or a track's parameters changed. */
  #break(restart: boolean): void {
    this.#flushPending(this.#frameTicks);
    this.#closePart();
    this.#closeSegment();
    this.#needKey = true;
    this.#needDiscontinuity = this.#segments.length > 0;
    this.#needInit = true;
    if (restart) {
      this.#videoOffset = undefined;
      this.#audioOffset = undefined;
      this.#audioNext = undefined;
    }
  }

  #onUnit(au: AccessUnit): void {
    if (this.#closed) return;
    const bus = this.#bus;
    const isVideo = au.track === bus.videoTrack;
    if (this.#needKey) {
      if (!isVideo || !au.key) return;
      this.#startRun();
    }
    if (isVideo) this.#onVideo(au);
    else if (au.track === this.#audioTrack) this.#onAudio(au);
  }

  /** #startRun takes the bus's tracks at a keyframe: a new init segment when they differ from the last. */
  #startRun(): void {
    this.#needKey = false;
    this.#shortFirst = true;
    const tracks = this.#bus.tracks;
    this.#videoTrack = this.#bus.videoTrack;
    const audio = tracks.find((t) => t.params.kind === 'audio' && t.params.codec === 'AAC');
    this.#audioTrack = audio?.index ?? -1;
    // The audio track's timescale is its RTP clock; one AAC frame of 1024 samples lasts that many ticks of it.
    this.#audioRate = audio ? (audio.params as AudioParams).clockRate : 0;
    this.#audioFrame = audio ? Math.round((AAC_FRAME * this.#audioRate) / (audio.params as AudioParams).sampleRate) : AAC_FRAME;
    if (this.#needInit || this.#init === 0) {
      const mp4: Mp4Track[] = [{ id: VIDEO_ID, timescale: VIDEO_TIMESCALE, params: tracks[this.#videoTrack]!.params }];
      if (audio) mp4.push({ id: AUDIO_ID, timescale: this.#audioRate, params: audio.params });
      this.#init++;
      this.#inits.set(this.#init, initSegment(mp4));
      this.#needInit = false;
    }
  }

  #onVideo(au: AccessUnit): void {
    if (this.#videoOffset === undefined) {
      // A new run goes on from where the last one ended, a frame later.
      this.#videoOffset = this.#timeline + (this.#timeline > 0 ? this.#frameTicks : 0) - au.dts;
      this.#firstVideoAt = au.at;
      this.#firstVideoPts = au.pts + this.#videoOffset;
    }
    const dts = au.dts + this.#videoOffset;
    const pts = au.pts + this.#videoOffset;
    if (this.#pending) {
      const duration = dts - this.#pending.dts;
      if (duration > 0 && duration < VIDEO_TIMESCALE * 10) this.#frameTicks = duration;
      this.#flushPending(duration > 0 ? duration : this.#frameTicks);
    }
    const partTicks = (this.#o.partTargetMs / 1000) * VIDEO_TIMESCALE;
    if (au.key && this.#current && this.#current.duration + (this.#part?.duration ?? 0) / VIDEO_TIMESCALE >= this.#o.segmentSeconds - 1e-6) {
      this.#closePart();
      this.#closeSegment();
    } else if (this.#part && this.#part.duration + this.#frameTicks > partTicks + 1) {
      this.#closePart();
      // A run's first segment is its first part alone: a player can start a third of a second after the first
      // keyframe instead of a whole GOP later. The next segment goes on to the next keyframe without one of its own
      // (it is not independent, and a player that starts there waits for the keyframe after it).
      if (this.#shortFirst) {
        this.#shortFirst = false;
        this.#closeSegment();
      }
    }
    if (!this.#current) this.#openSegment(au.at);
    if (!this.#part) this.#openPart(dts, au.key);
    this.#pending = { dts, pts, key: au.key, data: au.data, at: au.at };
  }

  #onAudio(au: AccessUnit): void {
    if (this.#audioOffset === undefined) {
      // Audio is placed by when it arrived against the first picture (RTP clocks of two tracks share no origin).
      const seconds = this.#firstVideoPts / VIDEO_TIMESCALE + (au.at - this.#firstVideoAt) / 1000;
      this.#audioOffset = Math.max(0, Math.round(seconds * this.#audioRate)) - au.dts;
    }
    let dts = au.dts + this.#audioOffset;
    // Never back in time: an audio frame that would overlap the one before goes right after it.
    if (this.#audioNext !== undefined && dts < this.#audioNext) dts = this.#audioNext;
    this.#audioNext = dts + this.#audioFrame;
    if (!this.#part) return;
    if (this.#part.audio.length === 0) this.#part.audioBase = dts;
    if (this.#part.audio.length >= MAX_PART_SAMPLES) return;
    this.#part.audio.push({ duration: this.#audioFrame, cto: 0, key: true, data: au.data });
  }

  #flushPending(duration: number): void {
    const p = this.#pending;
    if (!p || !this.#part) return;
    this.#pending = undefined;
    if (this.#part.video.length >= MAX_PART_SAMPLES) return;
    if (this.#part.video.length === 0) this.#part.videoBase = p.dts;
    this.#part.video.push({ duration, cto: p.pts - p.dts, key: p.key, data: p.data });
    this.#part.duration += duration;
    this.#timeline = p.dts + duration;
  }

  #openSegment(at: number): void {
    this.#current = {
      msn: this.#nextMsn++, parts: [], duration: 0, bytes: 0, discontinuity: this.#needDiscontinuity, init: this.#init,
      programTime: at, done: false,
    };
    this.#needDiscontinuity = false;
  }

  #openPart(videoBase: number, independent: boolean): void {
    this.#part = { video: [], audio: [], videoBase, audioBase: 0, duration: 0, independent };
  }

  #closePart(): void {
    const part = this.#part;
    const seg = this.#current;
    this.#part = undefined;
    if (!part || !seg || part.video.length === 0) return;
    const tracks = [{ id: VIDEO_ID, baseDts: part.videoBase, samples: part.video }];
    if (part.audio.length > 0) tracks.push({ id: AUDIO_ID, baseDts: part.audioBase, samples: part.audio });
    const { chunks, bytes } = fragment(this.#fragmentSeq++, tracks);
    seg.parts.push({ chunks, offset: seg.bytes, bytes, duration: part.duration / VIDEO_TIMESCALE, independent: part.independent && part.video[0]!.key });
    seg.duration += part.duration / VIDEO_TIMESCALE;
    seg.bytes += bytes;
    this.#bytes += bytes;
    this.#changed();
  }

  #closeSegment(): void {
    const seg = this.#current;
    this.#current = undefined;
    if (!seg) return;
    if (seg.parts.length === 0) {
      // Nothing was written: its number is given back.
      if (seg.msn === this.#nextMsn - 1) this.#nextMsn--;
      if (seg.discontinuity) this.#needDiscontinuity = true;
      return;
    }
    seg.done = true;
    this.#segments.push(seg);
    const target = Math.ceil(seg.duration - 0.001);
    if (target > this.#targetDuration) this.#targetDuration = target;
    if (this.#o.dir) void this.#write(seg);
    while (this.#segments.length > this.#o.windowSegments || (this.#segments.length > 1 && this.#bytes > this.#o.maxBytes)) {
      const old = this.#segments.shift()!;
      this.#bytes -= old.bytes;
      if (old.file) void unlink(old.file).catch(() => undefined);
      old.file = undefined;
      // A discontinuity leaving the window is counted; the next segment's is then the first listed.
      if (old.discontinuity) this.#discontinuitySequence++;
      if (this.#segments[0] && this.#segments[0].discontinuity) {
        this.#segments[0].discontinuity = false;
        this.#discontinuitySequence++;
      }
    }
    const used = new Set(this.#segments.map((s) => s.init));
    used.add(this.#init);
    for (const n of this.#inits.keys()) if (!used.has(n)) this.#inits.delete(n);
    this.#changed();
  }

  /** #write puts a finished segment in its file, then lets go of its bytes in memory; a failure keeps them there. */
  async #write(seg: Segment): Promise<void> {
    const dir = this.#o.dir!;
    const path = join(dir, `seg-${seg.msn}.m4s`);
    try {
      if (!this.#dirMade) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        this.#dirMade = true;
      }
      const fh = await open(path, 'w', 0o600);
      try {
        const chunks = seg.parts.flatMap((p) => p.chunks ?? []);
        let written = 0;
        while (written < seg.bytes) {
          const { bytesWritten } = await fh.writev(written === 0 ? chunks : [Buffer.concat(chunks).subarray(written)]);
          if (bytesWritten === 0) throw new Error('no byte written');
          written += bytesWritten;
        }
      } finally {
        await fh.close();
      }
    } catch (err) {
      // The output closed (and removed its folder) while the segment was being written: nothing is lost, nothing to say.
      if (this.#closed) return;
      this.#o.onError?.(err as Error);
      return;
    }
    // The segment may have left the window (or the output closed) while it was written.
    if (this.#closed || !this.#segments.includes(seg)) {
      await unlink(path).catch(() => undefined);
      return;
    }
    seg.file = path;
    for (const p of seg.parts) p.chunks = undefined;
  }

  #changed(): void {
    this.#cache = {};
    for (const w of [...this.#waiters]) if (w.ready()) w.resolve(true);
  }
}
