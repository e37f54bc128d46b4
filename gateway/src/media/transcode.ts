// H.265 to H.264 for browsers that do not decode H.265: one ffmpeg (libx264, low-latency settings) per stream, fed the
// stream's pictures from its frame bus and read back into a frame bus of its own, shared by every such viewer. The
// number running at once is capped by a budget; a request over it gets a clear refusal.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { annexB, lengthPrefixed, type AccessUnit, type VideoParams } from './core/access-unit.js';
import { FrameBus, type Consumer } from './core/frame-bus.js';
import { h264Params } from './core/video-depacketizer.js';
import { splitAnnexB } from '../../../adapters/rtsp/annex-b.js';
import type { Profile } from '../../../adapters/core/types.js';

/** TranscodeBudgetError is a transcode refused because the budget is spent. */
export class TranscodeBudgetError extends Error {
  override name = 'TranscodeBudgetError';
  readonly budget: number;

  constructor(budget: number) {
    super(`all ${budget} H.265 to H.264 transcodes of this node are in use (media.webrtc.transcodeBudget): play the sub stream, or over a browser that decodes H.265`);
    this.budget = budget;
  }
}

/** TranscodeOptions configure the transcodes. */
export interface TranscodeOptions {
  ffmpegPath: string;
  budget: number;
  /** lingerMs keeps a transcode nobody watches running a while for the next viewer. */
  lingerMs: number;
  onSpawn?: (pid: number) => void;
  onReap?: (pid: number) => void;
  onError?: (err: Error) => void;
}

/** MAX_PENDING_BYTES bounds what waits to be written to one ffmpeg (a slow encoder skips to the next keyframe). */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** MAX_OUTPUT_BYTES bounds what ffmpeg may write before a picture ends (a runaway output is cut off). */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

interface Job {
  key: string;
  source: FrameBus;
  bus: FrameBus;
  users: number;
  idleSince?: number;
  proc?: ChildProcessWithoutNullStreams;
  consumer?: Consumer;
  pts: number[];
  out: Buffer[];
  outBytes: number;
  params?: VideoParams;
  onRestart: () => void;
}

/** Transcodes runs the H.264 transcodes of H.265 streams. */
export class Transcodes {
  #opts: TranscodeOptions;
  #jobs = new Map<string, Job>();
  #timer: NodeJS.Timeout;

  constructor(opts: TranscodeOptions) {
    this.#opts = opts;
    this.#timer = setInterval(() => this.#sweep(), 1000);
    this.#timer.unref();
  }

  /** running counts the transcodes that hold a share of the budget. */
  get running(): number {
    return this.#jobs.size;
  }

  /** h264 returns the H.264 bus of a stream's H.265 source (a new viewer of it); it throws TranscodeBudgetError. */
  h264(camera: string, profile: Profile, source: FrameBus): FrameBus {
    const key = `${camera}/${profile}`;
    let job = this.#jobs.get(key);
    if (job && job.source !== source) {
      this.#stop(job);
      job = undefined;
    }
    if (!job) {
      if (this.#jobs.size >= this.#opts.budget) throw new TranscodeBudgetError(this.#opts.budget);
      job = { key, source, bus: new FrameBus(), users: 0, pts: [], out: [], outBytes: 0, onRestart: () => this.#restart(job!) };
      this.#jobs.set(key, job);
      source.on('restart', job.onRestart);
      this.#start(job);
    }
    job.users++;
    job.idleSince = undefined;
    return job.bus;
  }

  /** release says one viewer of a transcode left. */
  release(camera: string, profile: Profile): void {
    const job = this.#jobs.get(`${camera}/${profile}`);
    if (!job) return;
    job.users = Math.max(0, job.users - 1);
    if (job.users === 0) job.idleSince = Date.now();
  }

  /** pids lists the ffmpeg processes running now. */
  pids(): number[] {
    return [...this.#jobs.values()].flatMap((j) => (j.proc?.pid ? [j.proc.pid] : []));
  }

  close(): void {
    clearInterval(this.#timer);
    for (const job of [...this.#jobs.values()]) this.#stop(job);
  }

  #sweep(): void {
    const now = Date.now();
    for (const job of [...this.#jobs.values()]) {
      if (job.source.ended || (job.idleSince !== undefined && now - job.idleSince >= this.#opts.lingerMs)) this.#stop(job);
    }
  }

  #start(job: Job): void {
    // Pictures in, pictures out, one for one: no B-frames, no lookahead, no frame threads in the decoder, so that
    // each output picture is the next input one and takes its timestamp.
    const proc = spawn(this.#opts.ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-fflags', '+nobuffer', '-flags', 'low_delay', '-probesize', '32', '-analyzeduration', '0',
      '-threads', '1', '-f', 'hevc', '-i', 'pipe:0',
      '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
      '-g', '50', '-bf', '0', '-x264-params', 'aud=1:repeat-headers=1', '-fps_mode', 'passthrough', '-f', 'h264', 'pipe:1',
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    job.proc = proc;
    if (proc.pid) this.#opts.onSpawn?.(proc.pid);
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-2000);
    });
    proc.stdin.on('error', () => undefined);
    proc.stdout.on('data', (d: Buffer) => this.#output(job, d));
    proc.on('exit', (code, signal) => {
      if (proc.pid) this.#opts.onReap?.(proc.pid);
      if (job.proc !== proc) return;
      job.proc = undefined;
      job.consumer?.close();
      job.consumer = undefined;
      if (this.#jobs.get(job.key) !== job) return;
      this.#opts.onError?.(new Error(`the H.264 transcode of ${job.key} ended (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
      // Started again at the source's next keyframe; a source that has ended ends the job at the next sweep.
      if (!job.source.ended) this.#start(job);
    });
    const consumer = job.source.subscribe();
    job.consumer = consumer;
    let waitKey = false;
    const feed = () => {
      for (let au = consumer.read(); au; au = consumer.read()) {
        if (au.track !== job.source.videoTrack) continue;
        const params = job.source.tracks[au.track]!.params as VideoParams;
        if (waitKey && !au.key) continue;
        waitKey = false;
        const data = au.key ? Buffer.concat([annexB(lengthPrefixed([...(params.vps ? [params.vps] : []), params.sps, params.pps])), annexB(au.data)]) : annexB(au.data);
        if (proc.stdin.writableLength > MAX_PENDING_BYTES) {
          // The encoder is behind: what waits is written, the rest skips to the next keyframe.
          waitKey = true;
          continue;
        }
        job.pts.push(au.pts);
        if (job.pts.length > 512) job.pts.shift();
        proc.stdin.write(data);
      }
    };
    consumer.onReadable = feed;
    feed();
  }

  /** #output cuts ffmpeg's Annex B stream into pictures at its access unit delimiters. */
  #output(job: Job, chunk: Buffer): void {
    job.out.push(chunk);
    job.outBytes += chunk.length;
    if (job.outBytes > MAX_OUTPUT_BYTES) {
      job.out = [];
      job.outBytes = 0;
      return;
    }
    let buf = job.out.length === 1 ? job.out[0]! : Buffer.concat(job.out);
    // Each picture begins with an AUD (00 00 00 01 09): a picture is complete when the next one begins.
    let start = buf.indexOf(AUD);
    if (start < 0) {
      job.out = [buf];
      return;
    }
    for (;;) {
      const next = buf.indexOf(AUD, start + AUD.length);
      if (next < 0) break;
      this.#picture(job, buf.subarray(start, next));
      start = next;
    }
    buf = buf.subarray(start);
    job.out = [Buffer.from(buf)];
    job.outBytes = buf.length;
  }

  #picture(job: Job, annex: Buffer): void {
    const nals = splitAnnexB(annex).filter((n) => (n[0]! & 0x1f) !== 9);
    let sps: Buffer | undefined;
    let pps: Buffer | undefined;
    let key = false;
    for (const n of nals) {
      const type = n[0]! & 0x1f;
      if (type === 7) sps = n;
      else if (type === 8) pps = n;
      else if (type === 5) key = true;
    }
    if (sps && pps && (!job.params || !job.params.sps.equals(sps) || !job.params.pps.equals(pps))) {
      // x264 here makes no B-frames: nothing is reordered whatever the SPS says.
      const params: VideoParams = { ...h264Params(Buffer.from(sps), Buffer.from(pps)), reorder: 0 };
      if (!job.params) job.bus.begin([params]);
      else job.bus.setParams(0, params);
      job.params = params;
    }
    if (!job.params) return;
    const pts = job.pts.shift() ?? 0;
    const au: AccessUnit = { track: 0, pts, dts: pts, key, data: lengthPrefixed(nals.filter((n) => ![7, 8].includes(n[0]! & 0x1f))), at: Date.now() };
    job.bus.publish(au);
  }

  /** #restart follows a restart of the source (its timestamps start over): the encoder starts over too. */
  #restart(job: Job): void {
    job.pts = [];
    job.out = [];
    job.outBytes = 0;
    const params = job.params;
    job.params = undefined;
    if (params) job.bus.begin([params]);
    job.params = params;
    const proc = job.proc;
    job.proc = undefined;
    job.consumer?.close();
    job.consumer = undefined;
    proc?.kill('SIGKILL');
    this.#start(job);
  }

  #stop(job: Job): void {
    this.#jobs.delete(job.key);
    job.source.off('restart', job.onRestart);
    job.consumer?.close();
    job.consumer = undefined;
    const proc = job.proc;
    job.proc = undefined;
    proc?.kill('SIGKILL');
    job.bus.end();
  }
}

const AUD = Buffer.from([0, 0, 0, 1, 9]);
