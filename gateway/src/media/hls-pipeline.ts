// One ffmpeg process pulling RTSP and remuxing H.264 to HLS (never re-encoding), watched for liveness and stalls.
import ffmpeg from 'fluent-ffmpeg';
import { EventEmitter } from 'node:events';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { withCredentials, type StreamSourceSpec } from '../../../adapters/core/types.js';
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
  /** onSpawn and onReap let the hub keep the list of live child pids (so none outlives the gateway). */
  onSpawn?: (pid: number) => void;
  onReap?: (pid: number) => void;
}

/** PLAYLIST is the name of the media playlist in a pipeline's folder. */
export const PLAYLIST = 'index.m3u8';

/** HlsPipeline runs ffmpeg: RTSP in, HLS (MPEG-TS segments cut at keyframes) out. */
export class HlsPipeline extends EventEmitter<PipelineEvents> implements Pipeline {
  readonly dir: string;
  #opts: HlsPipelineOptions;
  #command?: ffmpeg.FfmpegCommand;
  #pid?: number;
  #stderr: string[] = [];
  #frames = 0;
  #fps?: number;
  #lastProgressAt?: number;
  #live = false;
  #ended = false;
  #stopping = false;
  #exitPromise?: Promise<void>;
  #watchdog?: NodeJS.Timeout;
  #watcher?: FSWatcher;
  #poll?: NodeJS.Timeout;
  #startedAt = 0;
  /** pendingExit is the reason the watchdog killed ffmpeg, reported instead of ffmpeg's own last words. */
  #pendingExit?: PipelineExit;

  constructor(opts: HlsPipelineOptions) {
    super();
    this.#opts = opts;
    this.dir = opts.dir;
  }

  stats(): PipelineStats {
    return { pid: this.#pid, frames: this.#frames, fps: this.#fps, lastProgressAt: this.#lastProgressAt };
  }

  start(): void {
    if (this.#command) throw new Error('pipeline already started');
    this.#startedAt = Date.now();
    this.#exitPromise = mkdir(this.dir, { recursive: true }).then(() => this.#run()).catch((err: unknown) => {
      this.#finish({ kind: 'failed', message: `cannot prepare ${this.dir}: ${(err as Error).message}` });
    });
  }

  #run(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#stopping) {
        this.#finish({ kind: 'stopped', message: 'stopped' });
        return resolve();
      }
      const o = this.#opts;
      const url = withCredentials(o.source.url, o.source.credentials);
      const command = ffmpeg(url)
        .setFfmpegPath(o.ffmpegPath)
        .inputOptions([
          // stderr carries errors only: parsing per-second stats of every stream costs the gateway more than remuxing.
          '-loglevel', 'error', '-nostats',
          '-rtsp_transport', o.source.transport ?? 'tcp',
          // Socket I/O timeout (µs): a camera that stops sending ends the pull instead of hanging it.
          '-timeout', String(o.stallTimeoutMs * 1000),
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
          // Progress goes to a pipe every 2 s: it tells the watchdog the camera still sends, and if the gateway is
          // killed outright, ffmpeg's next write hits EPIPE and it dies with it.
          '-progress', 'pipe:1',
          '-stats_period', '2',
        ]);
      this.#command = command;
      command.on('start', () => {
        const proc = (command as unknown as { ffmpegProc?: { pid?: number; stdout?: NodeJS.ReadableStream } }).ffmpegProc;
        this.#pid = proc?.pid;
        if (this.#pid) this.#opts.onSpawn?.(this.#pid);
        proc?.stdout?.on('data', (chunk: Buffer) => this.#onProgress(chunk.toString('latin1')));
        this.#watchPlaylist();
        this.#watchdog = setInterval(() => this.#check(), 500);
      });
      command.on('stderr', (line: string) => {
        this.#stderr.push(line);
        if (this.#stderr.length > 30) this.#stderr.shift();
      });
      const done = (exit: PipelineExit) => {
        if (this.#pid) this.#opts.onReap?.(this.#pid);
        this.#finish(exit);
        resolve();
      };
      command.on('end', () => done({ kind: this.#stopping ? 'stopped' : 'offline', message: this.#stopping ? 'stopped' : 'the camera ended the stream' }));
      command.on('error', (err: Error) => {
        if (this.#stopping) return done({ kind: 'stopped', message: 'stopped' });
        if (/Cannot find ffmpeg|ENOENT/.test(err.message)) return done({ kind: 'failed', message: `ffmpeg not found at ${o.ffmpegPath} (install it: apt-get install -y ffmpeg)` });
        done(this.#pendingExit ?? classifyFfmpegError(this.#stderr.length ? this.#stderr : [err.message]));
      });
      command.run();
    });
  }

  /** onProgress reads ffmpeg's key=value progress blocks: frame count, frame rate, and that the source still flows. */
  #onProgress(text: string): void {
    const frame = /(?:^|\n)frame=(\d+)/.exec(text);
    if (frame) {
      const frames = Number(frame[1]);
      // A block arrives every period even when the camera sends nothing: only a growing frame count is progress.
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
    if (!this.#live && now - this.#startedAt > this.#opts.startTimeoutMs) {
      this.#abort({ kind: 'offline', message: `no video within ${Math.round(this.#opts.startTimeoutMs / 1000)} s of connecting` });
    } else if (this.#live && this.#lastProgressAt !== undefined && now - this.#lastProgressAt > this.#opts.stallTimeoutMs) {
      this.#abort({ kind: 'stalled', message: `the camera stopped sending video for ${Math.round(this.#opts.stallTimeoutMs / 1000)} s` });
    }
  }

  #abort(exit: PipelineExit): void {
    this.#pendingExit = exit;
    this.#command?.kill('SIGKILL');
  }

  #finish(exit: PipelineExit): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#watchdog);
    clearInterval(this.#poll);
    this.#watcher?.close();
    this.emit('exit', exit);
  }

  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      // SIGTERM lets ffmpeg close its outputs; a stuck one is killed outright.
      this.#command?.kill('SIGTERM');
      const hard = setTimeout(() => this.#command?.kill('SIGKILL'), 2000);
      await this.#exitPromise;
      clearTimeout(hard);
    }
    await this.#exitPromise;
    await rm(this.dir, { recursive: true, force: true });
  }
}
