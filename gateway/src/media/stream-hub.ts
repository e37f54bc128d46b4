// The stream hub: pull each (camera, profile) once, share it with every viewer, stop it when nobody watches.
import ffmpeg from 'fluent-ffmpeg';
import { EventEmitter } from 'node:events';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import type { Profile, StreamSourceSpec } from '../../../adapters/core/types.js';
import { HlsPipeline, PLAYLIST, withRun } from './hls-pipeline.js';
import { StartGate } from './start-gate.js';
import { Stream, type StreamInfo, type ViewerRef } from './stream.js';
import { CorePipeline } from './core/core-pipeline.js';
import { FrameBus } from './core/frame-bus.js';
import { HLS_FILE, HlsOutput } from './core/ll-hls.js';
import { isPushUrl } from './rtmp-in.js';
import type { Pipeline } from './pipeline.js';

/** StreamHubOptions configure the hub (the media slice of the config, in milliseconds). */
export interface StreamHubOptions {
  hlsDir: string;
  ffmpegPath: string;
  segmentSeconds: number;
  playlistSegments: number;
  idleLingerMs: number;
  startTimeoutMs: number;
  stallTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxStreams: number;
  /**
   * maxStreamsPerUser and maxStreamsPerUnit are each one's fair share: how many streams one user, or the users of
   * one unit together, may hold open at once (a stream others already watch counts too: it is held by each).
   */
  maxStreamsPerUser: number;
  maxStreamsPerUnit: number;
  /** maxStartsPerSecond paces ffmpeg starts (each is a burst of CPU). */
  maxStartsPerSecond: number;
  /** resolveSource returns where a camera profile is pulled from (URL and decrypted credentials). */
  resolveSource: (camera: string, profile: Profile) => Promise<StreamSourceSpec>;
  /** onRemuxerLog receives ffmpeg's last words when a remuxer fails, for the operator's log. */
  onRemuxerLog?: (camera: string, profile: Profile, lines: string[]) => void;
  /**
   * engine says who reads a camera: the in-process media core (the default), or ffmpeg (a fallback for a source the
   * core cannot read), for every camera or for the cameras it names.
   */
  engine?: (camera: string) => 'core' | 'ffmpeg';
  /** partTargetMs is the LL-HLS partial segment duration aimed at. */
  partTargetMs?: number;
  /** maxWindowBytes bounds one stream's HLS window in memory. */
  maxWindowBytes?: number;
  /** push makes the pipeline of a camera that pushes its stream (a source address of the push scheme). */
  push?: (camera: string, bus: FrameBus) => Pipeline;
}

/** PLAIN_PLAYLIST is the playlist without partial segments, for players without Low-Latency HLS. */
export const PLAIN_PLAYLIST = 'plain.m3u8';

/** HlsFile is what the hub serves for a file name: bytes in memory (the media core) or a file (the ffmpeg fallback). */
export type HlsFile = { type: string; chunks: Buffer[] } | { type: string; path: string; start?: number; end?: number };

/** PlaylistRequest asks for a playlist, possibly blocking until a part exists (LL-HLS _HLS_msn and _HLS_part). */
export interface PlaylistRequest {
  lowLatency: boolean;
  msn?: number;
  part?: number;
  waitMs: number;
}

/** Channel is a stream's bus and HLS output: they outlive its runs, so the playlist goes on across restarts. */
interface Channel {
  bus: FrameBus;
  hls: HlsOutput;
}

/** StreamHubEvents report state changes and internal errors. */
export interface StreamHubEvents {
  state: [StreamInfo];
  error: [Error];
}

/** CapacityError is thrown when the node already pulls as many streams as it may. */
export class CapacityError extends Error {
  override name = 'CapacityError';
}

/** ShareError is thrown when a user, or her unit, already holds her fair share of streams. */
export class ShareError extends Error {
  override name = 'ShareError';
  readonly scope: 'user' | 'unit';
  readonly limit: number;

  constructor(scope: 'user' | 'unit', limit: number) {
    super(scope === 'user'
      ? `you already hold ${limit} streams open (media.maxStreamsPerUser): close a tile you no longer need`
      : `the users of your unit already hold ${limit} streams open together (media.maxStreamsPerUnit): close tiles no longer needed`);
    this.scope = scope;
    this.limit = limit;
  }
}

/** SEGMENT_NAME matches the only files the hub serves besides the playlist. */
export const SEGMENT_NAME = /^seg\d{1,20}\.ts$/;

const PID_FILE = 'ffmpeg.pids';
const run = promisify(execFile);
const VIEWER_WINDOW_MS = 10_000;

/** checkFfmpeg runs ffmpeg once and checks it can demux RTSP and mux HLS; it throws saying what to install. */
export async function checkFfmpeg(path: string): Promise<void> {
  let formats: string;
  try {
    formats = (await run(path, ['-hide_banner', '-formats'], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 })).stdout;
  } catch (err) {
    throw new Error(`ffmpeg at ${path} cannot run: ${(err as Error).message.split('\n')[0]} (install it: apt-get install -y ffmpeg)`);
  }
  const has = (flags: RegExp, name: string) => formats.split('\n').some((l) => flags.test(l.slice(0, 4)) && l.slice(4).trim().split(/\s+/)[0]!.split(',').includes(name));
  if (!has(/D/, 'rtsp') || !has(/E/, 'hls')) throw new Error(`ffmpeg at ${path} lacks the rtsp demuxer or the hls muxer (install Debian's ffmpeg)`);
}

/** StreamHub owns every stream and every ffmpeg process of the gateway. */
export class StreamHub extends EventEmitter<StreamHubEvents> {
  #opts: StreamHubOptions;
  #streams = new Map<string, Stream>();
  #channels = new Map<Stream, Channel>();
  #channelSeq = 0;
  #pids = new Set<number>();
  #sweeper?: NodeJS.Timeout;
  #gate: StartGate;
  #lastDiscontinuity = 0;
  #closed = false;
  #exitHandler = () => this.#killAllSync();

  constructor(opts: StreamHubOptions) {
    super();
    this.#opts = { ...opts, hlsDir: resolve(opts.hlsDir) };
    this.#gate = new StartGate(opts.maxStartsPerSecond);
  }

  /** start clears what a previous run left behind (its ffmpeg children and files) and checks that ffmpeg runs. */
  async start(): Promise<void> {
    // Live pictures are for authorised viewers through the gateway, not for every local user of the machine.
    mkdirSync(this.#opts.hlsDir, { recursive: true, mode: 0o700 });
    this.#reapStale();
    rmSync(join(this.#opts.hlsDir, 'streams'), { recursive: true, force: true });
    await checkFfmpeg(this.#opts.ffmpegPath);
    // Before each run fluent-ffmpeg asks ffmpeg for its formats and encoders until it has cached both: filling the
    // cache now keeps two extra ffmpeg runs off every start (50 cold starts at once otherwise cost seconds each).
    const probe = ffmpeg().setFfmpegPath(this.#opts.ffmpegPath);
    await new Promise<void>((ok, fail) => probe.getAvailableFormats((err) => (err ? fail(err) : ok())));
    await new Promise<void>((ok, fail) => probe.getAvailableEncoders((err) => (err ? fail(err) : ok())));
    process.on('exit', this.#exitHandler);
    this.#sweeper = setInterval(() => this.#sweep(), 1000);
  }

  /**
   * open returns the stream of (camera, profile), starting its pull if needed, and counts viewer. A stream the viewer
   * does not hold yet must fit her fair share and her unit's (ShareError), and a new pull the node's capacity.
   */
  open(camera: string, profile: Profile, viewer: ViewerRef): StreamInfo {
    if (this.#closed) throw new Error('the stream hub is closed');
    const key = `${camera}/${profile}`;
    let stream = this.#streams.get(key);
    if (!stream?.watchedBy({ user: viewer.user })) this.#checkShare(viewer, stream);
    if (!stream) {
      if (this.#streams.size >= this.#opts.maxStreams) throw new CapacityError(`this node already pulls ${this.#streams.size} streams (media.maxStreams)`);
      stream = this.#create(camera, profile);
      this.#streams.set(key, stream);
      stream.start();
    }
    stream.touch(viewer);
    return stream.info();
  }

  /** touch records that viewer still watches; it returns undefined when the stream is not open. */
  touch(camera: string, profile: Profile, viewer: ViewerRef): StreamInfo | undefined {
    const stream = this.#streams.get(`${camera}/${profile}`);
    stream?.touch(viewer);
    return stream?.info();
  }

  /** info returns the state of a stream, or undefined when it is not open. */
  info(camera: string, profile: Profile): StreamInfo | undefined {
    return this.#streams.get(`${camera}/${profile}`)?.info();
  }

  /** list returns every open stream. */
  list(): StreamInfo[] {
    return [...this.#streams.values()].map((s) => s.info());
  }

  /** waitLive resolves with the stream's info once it is live, or with its state when timeoutMs passes or it fails. */
  waitLive(camera: string, profile: Profile, timeoutMs: number): Promise<StreamInfo | undefined> {
    const stream = this.#streams.get(`${camera}/${profile}`);
    if (!stream) return Promise.resolve(undefined);
    if (stream.state === 'live') return Promise.resolve(stream.info());
    // A request waiting for the stream holds it: however long the camera takes, the idle sweep leaves it be.
    const release = stream.hold();
    return new Promise((done) => {
      const onState = (info: StreamInfo) => {
        if (info.state === 'starting') return;
        finish(info);
      };
      const timer = setTimeout(() => finish(stream.info()), timeoutMs);
      const finish = (info: StreamInfo) => {
        clearTimeout(timer);
        stream.off('state', onState);
        release();
        done(info);
      };
      stream.on('state', onState);
    });
  }

  /**
   * playlist returns the stream's media playlist, marked with its discontinuity sequence, or undefined between runs
   * (and when a blocking request's part did not come within its wait: 'timeout').
   */
  async playlist(camera: string, profile: Profile, req: PlaylistRequest = { lowLatency: true, waitMs: 0 }): Promise<string | undefined | 'timeout' | 'too-far'> {
    const stream = this.#streams.get(`${camera}/${profile}`);
    const channel = stream && this.#channels.get(stream);
    const pipeline = stream?.pipeline;
    if (pipeline instanceof HlsPipeline) {
      const text = await readFile(join(pipeline.dir, PLAYLIST), 'utf8').catch(() => undefined);
      return text === undefined ? undefined : withRun(text, pipeline.discontinuity);
    }
    if (!channel) return undefined;
    if (!channel.hls.ready && !(await channel.hls.waitReady(Math.max(req.waitMs, 2000)))) return undefined;
    if (req.lowLatency && req.msn !== undefined) {
      if (req.msn > channel.hls.lastMsn + 2) return 'too-far';
      const ok = await channel.hls.waitPart(req.msn, req.part ?? -1, req.waitMs);
      if (!ok) return 'timeout';
    }
    return channel.hls.ready ? channel.hls.playlist(req.lowLatency) : undefined;
  }

  /**
   * file returns an init segment, segment or part of a live stream, waiting up to waitMs for a part announced by the
   * preload hint; names are matched, never joined raw.
   */
  async file(camera: string, profile: Profile, name: string, waitMs: number): Promise<HlsFile | undefined> {
    const stream = this.#streams.get(`${camera}/${profile}`);
    if (!stream) return undefined;
    if (SEGMENT_NAME.test(name)) {
      const path = this.filePath(camera, profile, name);
      return path ? { type: 'video/mp2t', path } : undefined;
    }
    const channel = this.#channels.get(stream);
    const m = HLS_FILE.exec(name);
    if (!channel || !m) return undefined;
    const hls = channel.hls;
    if (m[1] !== undefined) {
      const init = hls.init(Number(m[1]));
      return init ? { type: 'video/mp4', chunks: [init] } : undefined;
    }
    // A segment (part index -1) or a part, waited for when it is the next to come.
    const msn = Number(m[2] ?? m[3]);
    const index = m[2] !== undefined ? -1 : Number(m[4]);
    const find = () => (index < 0 ? hls.segment(msn) : hls.part(msn, index));
    if (!find() && msn <= hls.lastMsn + 1 && waitMs > 0) await hls.waitPart(msn, index, waitMs);
    const where = find();
    return where ? { type: 'video/iso.segment', ...where } : undefined;
  }

  /** filePath returns the path of a playlist or segment of an ffmpeg-run stream, or undefined; names are checked, never joined raw. */
  filePath(camera: string, profile: Profile, name: string): string | undefined {
    if (name !== PLAYLIST && !SEGMENT_NAME.test(name)) return undefined;
    const pipeline = this.#streams.get(`${camera}/${profile}`)?.pipeline;
    if (!(pipeline instanceof HlsPipeline)) return undefined;
    return join(pipeline.dir, name);
  }

  /** bus returns the frame bus of an open stream run by the media core (outputs and snapshots read it). */
  bus(camera: string, profile: Profile): FrameBus | undefined {
    const stream = this.#streams.get(`${camera}/${profile}`);
    return stream ? this.#channels.get(stream)?.bus : undefined;
  }

  /** retryNow tries a camera's streams waiting out their backoff at once (its device began to push). */
  retryNow(camera: string): void {
    for (const p of ['main', 'sub'] as const) this.#streams.get(`${camera}/${p}`)?.retryNow();
  }

  /** childPids lists the ffmpeg processes the hub runs now. */
  childPids(): number[] {
    return [...this.#pids];
  }

  /** close stops every stream and waits for every ffmpeg to exit; it is idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    await Promise.all(streams.map((s) => this.#closeStream(s)));
    this.#killAllSync();
    rmSync(join(this.#opts.hlsDir, PID_FILE), { force: true });
    process.off('exit', this.#exitHandler);
  }

  /**
   * #nextDiscontinuity numbers runs: milliseconds since the epoch, and always more than the last, so that a run's number
   * exceeds every earlier one's of the same camera, in this process or the one before it.
   */
  #nextDiscontinuity(): number {
    this.#lastDiscontinuity = Math.max(this.#lastDiscontinuity + 1, Date.now());
    return this.#lastDiscontinuity;
  }

  /** #checkShare refuses a stream beyond the user's or her unit's fair share. */
  #checkShare(viewer: ViewerRef, stream: Stream | undefined): void {
    const now = Date.now();
    let byUser = 0;
    let byUnit = 0;
    for (const s of this.#streams.values()) {
      if (s === stream) continue;
      if (s.watchedBy({ user: viewer.user }, now)) byUser++;
      if (s.watchedBy({ unit: viewer.unit }, now)) byUnit++;
    }
    if (byUser >= this.#opts.maxStreamsPerUser) throw new ShareError('user', this.#opts.maxStreamsPerUser);
    // A stream others of the unit already hold costs the unit nothing more.
    if (byUnit >= this.#opts.maxStreamsPerUnit && !stream?.watchedBy({ unit: viewer.unit }, now)) throw new ShareError('unit', this.#opts.maxStreamsPerUnit);
  }

  #create(camera: string, profile: Profile): Stream {
    const o = this.#opts;
    // ffmpeg cannot read a push: those cameras are the media core's whatever the engine.
    const engine = o.engine?.(camera) ?? 'core';
    let channel: Channel | undefined;
    if (engine === 'core') {
      const bus = new FrameBus();
      channel = {
        bus,
        hls: new HlsOutput(bus, {
          partTargetMs: o.partTargetMs ?? 300, segmentSeconds: o.segmentSeconds, windowSegments: o.playlistSegments,
          maxBytes: o.maxWindowBytes ?? 64 * 1024 * 1024,
          // Finished segments go to the hub's folder (tmpfs by default): only the segment being made stays in memory.
          dir: join(o.hlsDir, 'streams', `${camera}-${profile}-${process.pid}-${++this.#channelSeq}`),
          onError: (err) => this.emit('error', err),
        }),
      };
    }
    const stream = new Stream(camera, profile, {
      resolveSource: () => o.resolveSource(camera, profile),
      startGate: () => this.#gate.pass(),
      backoff: { baseMs: o.retryBaseMs, maxMs: o.retryMaxMs },
      viewerWindowMs: VIEWER_WINDOW_MS,
      onError: (err) => this.emit('error', err instanceof Error ? err : new Error(String(err))),
      createPipeline: (source, runId) => channel && isPushUrl(source.url) && o.push ? o.push(camera, channel.bus) : channel ? new CorePipeline({
        source, bus: channel.bus, startTimeoutMs: o.startTimeoutMs, stallTimeoutMs: o.stallTimeoutMs,
      }) : new HlsPipeline({
        source,
        dir: join(o.hlsDir, 'streams', `${camera}-${profile}-${process.pid}-${runId}`),
        ffmpegPath: o.ffmpegPath,
        segmentSeconds: o.segmentSeconds,
        playlistSegments: o.playlistSegments,
        startTimeoutMs: o.startTimeoutMs,
        stallTimeoutMs: o.stallTimeoutMs,
        discontinuity: this.#nextDiscontinuity(),
        onSpawn: (pid) => this.#track(pid, true),
        onReap: (pid) => this.#track(pid, false),
        onLog: (lines) => o.onRemuxerLog?.(camera, profile, lines),
      }),
    });
    stream.on('state', (info) => this.emit('state', info));
    if (channel) this.#channels.set(stream, channel);
    return stream;
  }

  async #closeStream(stream: Stream): Promise<void> {
    try {
      await stream.close();
    } catch (err) {
      this.emit('error', err as Error);
    }
    const channel = this.#channels.get(stream);
    this.#channels.delete(stream);
    channel?.hls.close();
    channel?.bus.end();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, stream] of this.#streams) {
      if (!stream.held && now - stream.lastAccess > this.#opts.idleLingerMs) {
        this.#streams.delete(key);
        void this.#closeStream(stream);
      }
    }
  }

  #track(pid: number, alive: boolean): void {
    if (alive) this.#pids.add(pid);
    else this.#pids.delete(pid);
    try {
      writeFileSync(join(this.#opts.hlsDir, PID_FILE), [...this.#pids].join('\n'));
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /** reapStale kills ffmpeg children a crashed previous run left, recognised by their output folder. */
  #reapStale(): void {
    const file = join(this.#opts.hlsDir, PID_FILE);
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const pid = Number(line);
      if (!Number.isInteger(pid) || pid <= 1) continue;
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmdline.includes(this.#opts.hlsDir)) process.kill(pid, 'SIGKILL');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
    rmSync(file, { force: true });
  }

  #killAllSync(): void {
    for (const pid of this.#pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
    this.#pids.clear();
  }
}
