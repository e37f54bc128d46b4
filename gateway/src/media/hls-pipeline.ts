// One camera stream remuxed to HLS: the gateway's RTSP session pulls the camera, ffmpeg reads its video from a
// loopback relay (never the camera's address or credentials) and writes MPEG-TS segments cut at keyframes, without
// re-encoding. Watched for liveness at both ends: the camera sending, and ffmpeg producing.
import ffmpeg from 'fluent-ffmpeg';
import { EventEmitter } from 'node:events';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StreamSourceSpec } from '../../../adapters/core/types.js';
import { CameraInputError, openCameraInput, type CameraInput } from './camera-input.js';
import { classifyFfmpegError, type Pipeline, type PipelineEvents, type PipelineExit, type PipelineStats } from './pipeline.js';

/** HlsPipelineOptions configure one pipeline. */
export interface HlsPipelineOptions {
  source: StreamSourceSpec;
  dir: string;
  ffmpegPath: string;
  segmentSeconds: number;
  playlistSegments: number;
  startTimeoutMs: number;
  stallTimeoutMs: number;
  /**
   * discontinuity is this run's discontinuity sequence number: greater than every earlier run's of the stream, so that
   * a player that goes on reading the playlist across a restart knows the timestamps start again (see withRun).
   */
  discontinuity: number;
  /** onSpawn and onReap let the hub keep the list of live child pids (so none outlives the gateway). */
  onSpawn?: (pid: number) => void;
  onReap?: (pid: number) => void;
  /** onLog receives ffmpeg's own last words when it fails, for the operator's log (never for viewers). */
  onLog?: (lines: string[]) => void;
}

/** PLAYLIST is the name of the media playlist in a pipeline's folder. */
export const PLAYLIST = 'index.m3u8';

/**
 * withRun marks a run's playlist with its discontinuity sequence number. Each run is a new ffmpeg whose timestamps
 * start again; a player that kept the old run's timeline would place the new segments in the past and freeze (hls.js
 * stops with bufferAppendNoProgress). A new number makes it take a new timeline (RFC 8216, 4.3.3.3).
 */
export function withRun(playlist: string, discontinuity: number): string {
  if (playlist.includes('#EXT-X-DISCONTINUITY-SEQUENCE:')) return playlist;
  const tag = `#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuity}`;
  const at = playlist.indexOf('\n#EXTINF');
  const sequence = /^#EXT-X-MEDIA-SEQUENCE:\d+$/m.exec(playlist);
  if (sequence) return `${playlist.slice(0, sequence.index + sequence[0].length)}\n${tag}${playlist.slice(sequence.index + sequence[0].length)}`;
  return at < 0 ? `${playlist.trimEnd()}\n${tag}\n` : `${playlist.slice(0, at)}\n${tag}${playlist.slice(at)}`;
}

/** HlsPipeline runs one camera session and one ffmpeg: RTP in, HLS out. */
export class HlsPipeline extends EventEmitter<PipelineEvents> implements Pipeline {
  readonly dir: string;
  readonly discontinuity: number;
  #opts: HlsPipelineOptions;
  #input?: CameraInput;
  #command?: ffmpeg.FfmpegCommand;
  #pid?: number;
  #stderr: string[] = [];
  #frames = 0;
  #fps?: number;
  #lastProgressAt?: number;
  #live = false;
  #ended = false;
  #stopping = false;
  #started = false;
  #abort = new AbortController();
  #exitPromise?: Promise<void>;
  #watchdog?: NodeJS.Timeout;
  #watcher?: FSWatcher;
  #poll?: NodeJS.Timeout;
  #startedAt = 0;
  /** pendingExit is the reason the pipeline ended itself, reported instead of ffmpeg's own last words. */
  #pendingExit?: PipelineExit;

  constructor(opts: HlsPipelineOptions) {
    super();
    this.#opts = opts;
    this.dir = opts.dir;
    this.discontinuity = opts.discontinuity;
  }

  stats(): PipelineStats {
    return {
      pid: this.#pid, frames: this.#frames, fps: this.#fps, lastProgressAt: this.#lastProgressAt,
      transport: this.#input?.session.transport, tracks: this.#input?.tracks, packets: this.#input?.session.packets,
    };
  }

  start(): void {
    if (this.#started) throw new Error('pipeline already started');
    this.#started = true;
    this.#startedAt = Date.now();
    this.#exitPromise = this.#run().catch((err: unknown) => {
      this.#finish(err instanceof CameraInputError ? err.exit : { kind: 'failed', message: `the stream could not start: ${(err as Error).message}` });
    });
  }

  async #run(): Promise<void> {
    const o = this.#opts;
    await mkdir(this.dir, { recursive: true });
    // Connecting and setting up is bounded by the start timeout, and by a stop that comes first.
    const input = await openCameraInput(o.source, { timeoutMs: Math.min(o.startTimeoutMs, 10_000), signal: this.#abort.signal });
    if (this.#stopping) {
      await input.close();
      this.#finish({ kind: 'stopped', message: 'stopped' });
      return;
    }
    this.#input = input;
    input.session.once('end', (err) => {
      if (this.#stopping || this.#ended) return;
      this.#endWith(err ? { kind: 'offline', message: `the camera ended the stream (${err.detail})` } : { kind: 'offline', message: 'the camera ended the stream' });
    });
    await new Promise<void>((resolve) => {
      const command = ffmpeg(Readable.from([input.relay.sdp]))
        .setFfmpegPath(o.ffmpegPath)
        .inputFormat('sdp')
        .inputOptions([
          // stderr carries errors only: parsing per-second stats of every stream costs the gateway more than remuxing.
          '-loglevel', 'error', '-nostats',
          // The SDP on stdin names loopback UDP ports, and nothing else may be opened.
          '-protocol_whitelist', 'pipe,udp,rtp',
          // Room for a keyframe's burst of packets while ffmpeg is busy; the kernel may cap it (rmem_max).
          '-buffer_size', String(4 * 1024 * 1024),
          '-reorder_queue_size', '500',
          '-fflags', '+genpts',
          '-analyzeduration', '1000000',
          '-probesize', '1000000',
        ])
        .output(join(this.dir, PLAYLIST))
        .outputOptions([
          '-map', '0:v:0',
          '-c:v', 'copy',
          '-f', 'hls',
          '-hls_time', String(o.segmentSeconds),
          '-hls_list_size', String(o.playlistSegments),
          '-hls_flags', 'delete_segments+omit_endlist+independent_segments+temp_file+program_date_time',
          '-hls_start_number_source', 'epoch',
          '-hls_segment_filename', join(this.dir, 'seg%d.ts'),
          // Progress goes to a pipe every 2 s: it tells the watchdog ffmpeg still produces, and if the gateway is
          // killed outright, ffmpeg's next write hits EPIPE and it dies with it.
          '-progress', 'pipe:1',
          '-stats_period', '2',
        ]);
      this.#command = command;
      command.on('start', () => {
        const proc = (command as unknown as { ffmpegProc?: { pid?: number; stdout?: NodeJS.ReadableStream } }).ffmpegProc;
        this.#pid = proc?.pid;
        if (this.#pid) o.onSpawn?.(this.#pid);
        proc?.stdout?.on('data', (chunk: Buffer) => this.#onProgress(chunk.toString('latin1')));
        // What the camera sent while ffmpeg started (its first keyframe) goes once ffmpeg listens.
        void input.relay.flushWhenListening(o.startTimeoutMs);
        this.#watchPlaylist();
        this.#watchdog = setInterval(() => this.#check(), 500);
      });
      command.on('stderr', (line: string) => {
        // Nothing ffmpeg says should name a camera (it reads a loopback relay), but an address is hidden all the same.
        this.#stderr.push(line.replace(/rtsps?:\/\/\S+/gi, '<camera>'));
        if (this.#stderr.length > 30) this.#stderr.shift();
      });
      const done = (exit: PipelineExit) => {
        if (this.#pid) o.onReap?.(this.#pid);
        if (exit.kind !== 'stopped' && !this.#pendingExit && this.#stderr.length > 0) o.onLog?.([...this.#stderr]);
        this.#finish(exit);
        resolve();
      };
      command.on('end', () => done(this.#pendingExit ?? { kind: this.#stopping ? 'stopped' : 'failed', message: this.#stopping ? 'stopped' : 'the remuxer ended the stream' }));
      command.on('error', (err: Error & { code?: number }) => {
        if (this.#stopping) return done({ kind: 'stopped', message: 'stopped' });
        if (/Cannot find ffmpeg|ENOENT/.test(err.message)) return done({ kind: 'failed', message: `ffmpeg not found at ${o.ffmpegPath} (install it: apt-get install -y ffmpeg)` });
        const code = /exited with code (\d+)/.exec(err.message)?.[1];
        done(this.#pendingExit ?? classifyFfmpegError(this.#stderr, code === undefined ? undefined : Number(code)));
      });
      command.run();
    });
  }

  /** onProgress reads ffmpeg's key=value progress blocks: frame count, frame rate, and that it still produces. */
  #onProgress(text: string): void {
    const frame = /(?:^|\n)frame=(\d+)/.exec(text);
    if (frame) {
      const frames = Number(frame[1]);
      // A block arrives every period even when nothing is remuxed: only a growing frame count is progress.
      if (frames > this.#frames || this.#lastProgressAt === undefined) this.#lastProgressAt = Date.now();
      this.#frames = frames;
    }
    const fps = /(?:^|\n)fps=([\d.]+)/.exec(text);
    if (fps) this.#fps = Number(fps[1]);
  }

  #watchPlaylist(): void {
    const playlist = join(this.dir, PLAYLIST);
    const check = () => {
      if (this.#live || this.#ended || !existsSync(playlist)) return;
      this.#live = true;
      this.#watcher?.close();
      clearInterval(this.#poll);
      this.emit('live');
    };
    try {
      // ffmpeg writes the playlist by renaming a temp file into place: a rename event tells us at once.
      this.#watcher = watch(this.dir, () => check());
      this.#watcher.on('error', () => this.#watcher?.close());
    } catch {
      this.#watcher = undefined;
    }
    this.#poll = setInterval(check, 250);
  }

  #check(): void {
    const now = Date.now();
    const o = this.#opts;
    const session = this.#input?.session;
    const sending = session !== undefined && session.lastPacketAt > 0 && now - session.lastPacketAt < o.stallTimeoutMs;
    if (session && session.lastPacketAt > 0 && now - session.lastPacketAt > o.stallTimeoutMs) {
      this.#endWith({ kind: 'stalled', message: `the camera stopped sending video for ${Math.round(o.stallTimeoutMs / 1000)} s` });
    } else if (!this.#live && now - this.#startedAt > o.startTimeoutMs) {
      this.#endWith(sending
        ? { kind: 'unsupported', message: `video arrives but no segment came of it within ${Math.round(o.startTimeoutMs / 1000)} s: the remuxer cannot carry it` }
        : { kind: 'offline', message: `no video within ${Math.round(o.startTimeoutMs / 1000)} s of connecting` });
    } else if (this.#live && now - session!.lastPacketAt < 1000 && this.#lastProgressAt !== undefined && now - this.#lastProgressAt > o.stallTimeoutMs + 2000) {
      // The camera sends right now, yet ffmpeg (which reports every 2 s) has remuxed nothing for the whole window.
      this.#endWith({ kind: 'failed', message: `the camera sends, but the remuxer made nothing of it for ${Math.round(o.stallTimeoutMs / 1000)} s` });
    }
  }

  /** #endWith ends the pipeline for a reason of its own: ffmpeg is killed and the reason reported. */
  #endWith(exit: PipelineExit): void {
    if (this.#pendingExit || this.#ended) return;
    this.#pendingExit = exit;
    this.#command?.kill('SIGKILL');
  }

  #finish(exit: PipelineExit): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#watchdog);
    clearInterval(this.#poll);
    this.#watcher?.close();
    void this.#input?.close();
    this.emit('exit', exit);
  }

  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#abort.abort();
      // SIGTERM lets ffmpeg close its outputs; a stuck one is killed outright.
      this.#command?.kill('SIGTERM');
      const hard = setTimeout(() => this.#command?.kill('SIGKILL'), 2000);
      await this.#exitPromise;
      clearTimeout(hard);
      await this.#input?.close();
    }
    await this.#exitPromise;
    await rm(this.dir, { recursive: true, force: true });
  }
}
