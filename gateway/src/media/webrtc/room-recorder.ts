// Recording a room: each participant's publication (her camera and microphone) is consumed onto loopback plain
// RTP transports and written by ffmpeg as it arrives, codecs copied, into a Matroska track of its own; when the
// recording stops, the tracks are composed into one MP4 (a grid of the participants' pictures, their voices mixed,
// each placed at the moment it began). A surveillance camera brought into the room is written from the media core's
// frame bus (its one pull, as everyone in the room sees it) into a fragmented MP4 of its own, no process and no copy of
// the picture. rooms/ keeps the record of the files; only media/ touches mediasoup and ffmpeg.
import { createSocket } from 'node:dgram';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type * as ms from 'mediasoup/node/lib/types.js';
import type { AccessUnit } from '../core/access-unit.js';
import type { Consumer as BusConsumer, FrameBus } from '../core/frame-bus.js';
import { fragment, initSegment, type Mp4Sample } from '../core/fmp4.js';

/** TrackFile is one participant's publication as recorded: a Matroska file with her audio, her video, or both. */
export interface TrackFile {
  name: string;
  participant: string;
  kinds: Array<'audio' | 'video'>;
  /** startMs and endMs are milliseconds from the recording's start. */
  startMs: number;
  endMs: number;
}

/** RecorderError is a recording that could not be made, with what ffmpeg last said. */
export class RecorderError extends Error {
  override name = 'RecorderError';
}

/** KEYFRAME_ASKS are when (ms after ffmpeg starts) a track asks the sender for a keyframe: its file starts on one. */
const KEYFRAME_ASKS = [300, 1000, 2000, 4000];
/** STOP_GRACE_MS is how long ffmpeg gets to finish its file after SIGINT before it is killed. */
const STOP_GRACE_MS = 5000;

/** freePortPair finds an even loopback UDP port whose successor is free too (RTP and RTCP, as ffmpeg listens). */
async function freePortPair(): Promise<number> {
  const bind = (port: number) => new Promise<ReturnType<typeof createSocket> | undefined>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => { s.close(); resolve(undefined); });
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 15000);
    const a = await bind(port);
    if (!a) continue;
    const b = await bind(port + 1);
    a.close();
    if (!b) continue;
    b.close();
    return port;
  }
  throw new RecorderError('no free loopback UDP port pair for a recording track');
}

/** sdpFor describes the consumers' RTP, as sent to the ports ffmpeg listens on. */
export function sdpFor(streams: Array<{ kind: 'audio' | 'video'; port: number; codec: ms.RtpCodecParameters }>): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=room track', 'c=IN IP4 127.0.0.1', 't=0 0'];
  for (const s of streams) {
    const c = s.codec;
    const name = c.mimeType.split('/')[1]!;
    lines.push(`m=${s.kind} ${s.port} RTP/AVP ${c.payloadType}`, `a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels && c.channels > 1 ? `/${c.channels}` : ''}`);
    const fmtp = Object.entries(c.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(';');
    if (fmtp) lines.push(`a=fmtp:${c.payloadType} ${fmtp}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Track is one publication being written. */
interface Track {
  file: TrackFile;
  transports: ms.PlainTransport[];
  consumers: ms.Consumer[];
  command: ffmpeg.FfmpegCommand;
  done: Promise<void>;
  timers: NodeJS.Timeout[];
}

/** BusTrack is a camera's picture being written from its frame bus. */
interface BusTrack {
  consumer: BusConsumer;
  /** finish writes what is held back (the last sample, whose length the next one tells) and closes the file. */
  finish: () => Promise<void>;
}

/** FRAGMENT_MS is how much picture one fragment of a camera's track holds at most (it also starts at each keyframe). */
const FRAGMENT_MS = 1000;

/** RoomRecorder records one room while it runs. */
export class RoomRecorder {
  readonly dir: string;
  readonly startedAt: number;
  readonly #ffmpegPath: string;
  readonly #tracks = new Map<string, Track>();
  readonly #buses = new Map<string, BusTrack>();
  readonly #ending = new Set<Promise<void>>();
  readonly #finished: TrackFile[] = [];
  readonly #log: (msg: string) => void;
  #stopped = false;
  #seq = 0;

  constructor(opts: { dir: string; ffmpegPath: string; startedAt?: number; log?: (msg: string) => void }) {
    this.dir = opts.dir;
    this.#ffmpegPath = opts.ffmpegPath;
    this.startedAt = opts.startedAt ?? Date.now();
    this.#log = opts.log ?? (() => undefined);
  }

  /** add records a publication (a send session's producers) until end(session) or stop(). */
  async add(session: string, participant: string, router: ms.Router, producers: ms.Producer[]): Promise<void> {
    if (this.#stopped || this.#tracks.has(session) || producers.length === 0) return;
    const name = `track-${String(++this.#seq).padStart(3, '0')}-${participant}.mkv`;
    const transports: ms.PlainTransport[] = [];
    const consumers: ms.Consumer[] = [];
    const streams: Array<{ kind: 'audio' | 'video'; port: number; codec: ms.RtpCodecParameters }> = [];
    try {
      // Video first: the file's first stream is the picture, as players expect.
      for (const p of [...producers].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1))) {
        const t = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false, comedia: false });
        transports.push(t);
        const port = await freePortPair();
        await t.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
        const c = await t.consume({ producerId: p.id, rtpCapabilities: router.rtpCapabilities, paused: true });
        consumers.push(c);
        const codec = c.rtpParameters.codecs.find((x) => !/\/rtx$/i.test(x.mimeType))!;
        streams.push({ kind: p.kind, port, codec });
      }
    } catch (err) {
      for (const t of transports) t.close();
      throw new RecorderError(`the publication cannot be recorded: ${(err as Error).message}`);
    }
    const file: TrackFile = { name, participant, kinds: streams.map((s) => s.kind), startMs: Date.now() - this.startedAt, endMs: 0 };
    const stderr: string[] = [];
    const command = ffmpeg(Readable.from([sdpFor(streams)]))
      .setFfmpegPath(this.#ffmpegPath)
      .inputFormat('sdp')
      .inputOptions(['-loglevel', 'error', '-nostats', '-protocol_whitelist', 'pipe,udp,rtp', '-reorder_queue_size', '500', '-analyzeduration', '2000000', '-probesize', '2000000'])
      .output(join(this.dir, name))
      .outputOptions(['-map', '0', '-c', 'copy', '-f', 'matroska']);
    const timers: NodeJS.Timeout[] = [];
    const done = new Promise<void>((resolve) => {
      command.on('start', () => {
        // The consumers begin once ffmpeg is listening; the sender is asked for keyframes until one has surely come.
        timers.push(setTimeout(() => {
          void Promise.all(consumers.map((c) => c.resume().catch(() => undefined))).then(() => { file.startMs = Date.now() - this.startedAt; });
        }, 150));
        for (const at of KEYFRAME_ASKS) timers.push(setTimeout(() => { for (const c of consumers) if (c.kind === 'video' && !c.closed) void c.requestKeyFrame().catch(() => undefined); }, at));
      });
      command.on('stderr', (line: string) => { stderr.push(line); if (stderr.length > 20) stderr.shift(); });
      const finish = (err?: Error) => {
        for (const t of timers) clearTimeout(t);
        for (const t of transports) if (!t.closed) t.close();
        file.endMs = Date.now() - this.startedAt;
        if (err && !/signal SIGINT|code 255/.test(err.message)) this.#log(`recording track ${name} ended: ${err.message}; ${stderr.join(' | ')}`);
        this.#finished.push(file);
        resolve();
      };
      command.on('end', () => finish());
      command.on('error', (err: Error) => finish(err));
      command.run();
    });
    const track: Track = { file, transports, consumers, command, done, timers };
    this.#tracks.set(session, track);
    // The publication ends (she left, or her producers closed): so does its file.
    for (const c of consumers) c.observer.once('close', () => { if (consumers.every((x) => x.closed)) void this.end(session); });
  }

  /**
   * addBus records a camera's picture from its frame bus until end(key) or stop(): the bus's cached GOP first (the
   * file starts on a keyframe at once), each unit as the bus publishes it. Timestamps that start over (the camera
   * reconnected) go on from where they were; a camera whose picture changes size ends its file (a new one may follow).
   */
  addBus(key: string, camera: string, bus: FrameBus): boolean {
    if (this.#stopped || this.#buses.has(key) || this.#tracks.has(key) || bus.ended || bus.videoTrack < 0) return false;
    const video = bus.videoTrack;
    const params = bus.tracks[video]!.params;
    if (params.kind !== 'video') return false;
    const name = `track-${String(++this.#seq).padStart(3, '0')}-camera-${camera.replace(/[^A-Za-z0-9_-]/g, '_')}.mp4`;
    const cached = bus.gopCache().filter((u) => u.track === video);
    const spanMs = cached.length > 1 ? (cached[cached.length - 1]!.dts - cached[0]!.dts) / 90 : 0;
    const file: TrackFile = { name, participant: `camera:${camera}`, kinds: ['video'], startMs: Math.max(0, Date.now() - this.startedAt - spanMs), endMs: 0 };
    const out = createWriteStream(join(this.dir, name), { mode: 0o600 });
    out.on('error', (err) => this.#log(`recording track ${name}: ${err.message}`));
    out.write(initSegment([{ id: 1, timescale: 90000, params }]));
    const consumer = bus.subscribe();
    let held: AccessUnit | undefined;
    let offset = 0;
    let lastDts = -1;
    let lastDuration = 3600;
    let samples: Mp4Sample[] = [];
    let baseDts = 0;
    let sequence = 0;
    const flush = () => {
      if (samples.length === 0) return;
      for (const c of fragment(++sequence, [{ id: 1, baseDts, samples }]).chunks) out.write(c);
      samples = [];
    };
    const take = (au: AccessUnit) => {
      if (au.track !== video) return;
      // The file's clock starts at 0 with its first picture.
      if (lastDts < 0) offset = -au.dts;
      let dts = au.dts + offset;
      // The upstream began again: its clock starts over, the file's goes on one frame later.
      if (lastDts >= 0 && dts <= lastDts) { offset += lastDts + lastDuration - dts; dts = lastDts + lastDuration; }
      if (held) {
        const duration = Math.max(1, dts - lastDts);
        lastDuration = duration;
        if (samples.length > 0 && (held.key || (lastDts - baseDts) / 90 >= FRAGMENT_MS)) flush();
        if (samples.length === 0) baseDts = lastDts;
        samples.push({ duration, cto: held.pts - held.dts, key: held.key, data: held.data });
      }
      held = au;
      lastDts = dts;
    };
    const drain = () => { for (let au = consumer.read(); au; au = consumer.read()) take(au); };
    consumer.onReadable = drain;
    let finished: Promise<void> | undefined;
    const finish = () => finished ??= new Promise<void>((resolve) => {
      drain();
      consumer.onReadable = undefined;
      consumer.close();
      if (held) {
        if (samples.length === 0) baseDts = lastDts;
        samples.push({ duration: lastDuration, cto: held.pts - held.dts, key: held.key, data: held.data });
        held = undefined;
      }
      flush();
      file.endMs = Date.now() - this.startedAt;
      this.#finished.push(file);
      out.end(() => resolve());
    });
    consumer.onEnd = () => { if (this.#buses.get(key)?.consumer === consumer) void this.end(key); };
    const onParams = (track: number) => { if (track === video) void this.end(key); };
    bus.on('params', onParams);
    this.#buses.set(key, { consumer, finish: () => { bus.off('params', onParams); return finish(); } });
    drain();
    return true;
  }

  /** end finishes one publication's (or camera's) file; stop() waits for it too. */
  end(session: string): Promise<void> {
    const ending = this.#end(session).finally(() => this.#ending.delete(ending));
    this.#ending.add(ending);
    return ending;
  }

  async #end(session: string): Promise<void> {
    const b = this.#buses.get(session);
    if (b) {
      this.#buses.delete(session);
      await b.finish();
      return;
    }
    const t = this.#tracks.get(session);
    if (!t) return;
    this.#tracks.delete(session);
    t.command.kill('SIGINT');
    const kill = setTimeout(() => t.command.kill('SIGKILL'), STOP_GRACE_MS);
    await t.done;
    clearTimeout(kill);
  }

  /** stop ends every file; it returns the tracks recorded, in the order they began. */
  async stop(): Promise<{ durationMs: number; tracks: TrackFile[] }> {
    this.#stopped = true;
    const durationMs = Date.now() - this.startedAt;
    await Promise.all([...this.#tracks.keys(), ...this.#buses.keys()].map((s) => this.end(s)));
    // Files that were finishing as the recording stopped (a camera taken out, a participant gone) are waited for too.
    await Promise.all([...this.#ending]);
    const tracks = this.#finished.map((f) => ({ ...f, endMs: Math.min(f.endMs, durationMs) })).sort((a, b) => a.startMs - b.startMs);
    return { durationMs, tracks };
  }
}

/**
 * reapRecorders kills the ffmpeg processes a gateway that was killed left writing under dir (its recordings folder):
 * they would listen on their loopback ports and hold their files open for ever. Recognised by their command line,
 * which names a file under dir; it returns how many were killed.
 */
export function reapRecorders(dir: string): number {
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  let killed = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return 0; // no /proc: nothing to look at
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!/ffmpeg$/.test(argv[0] ?? '') || !argv.some((a) => a.startsWith(prefix))) continue;
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      continue; // ended while being read, or not ours to end
    }
  }
  return killed;
}

/** COMPOSED is the composed recording's file name; its size, frame rate and the grid's cells follow. */
export const COMPOSED = 'composed.mp4';
const W = 1280;
const H = 720;

/** gridOf places n pictures in the most even grid: cells of (w, h) at (x, y), sizes even. */
export function gridOf(n: number): Array<{ x: number; y: number; w: number; h: number }> {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const w = Math.floor(W / cols / 2) * 2;
  const h = Math.floor(H / rows / 2) * 2;
  return Array.from({ length: n }, (_, i) => ({ x: (i % cols) * w, y: Math.floor(i / cols) * h, w, h }));
}

/**
 * composeGraph is the filter graph of the composed recording: a black picture of the recording's length, each
 * participant's pictures in her cell from the moment her track began, every voice mixed over silence.
 */
export function composeGraph(tracks: TrackFile[], durationMs: number): { graph: string[]; audio: boolean } {
  const people = [...new Set(tracks.filter((t) => t.kinds.includes('video')).map((t) => t.participant))];
  const cells = gridOf(people.length);
  const d = (durationMs / 1000).toFixed(3);
  const graph = [`color=c=black:s=${W}x${H}:r=25:d=${d}[base]`, `anullsrc=r=48000:cl=stereo,atrim=0:${d}[silence]`];
  let last = 'base';
  const voices: string[] = [];
  tracks.forEach((t, i) => {
    const at = (t.startMs / 1000).toFixed(3);
    if (t.kinds.includes('video')) {
      const c = cells[people.indexOf(t.participant)]!;
      graph.push(`[${i}:v]setpts=PTS-STARTPTS+${at}/TB,scale=${c.w}:${c.h}:force_original_aspect_ratio=decrease,pad=${c.w}:${c.h}:(ow-iw)/2:(oh-ih)/2[v${i}]`);
      graph.push(`[${last}][v${i}]overlay=${c.x}:${c.y}:eof_action=pass[o${i}]`);
      last = `o${i}`;
    }
    if (t.kinds.includes('audio')) {
      graph.push(`[${i}:a]asetpts=PTS-STARTPTS,aresample=48000,adelay=${Math.round(t.startMs)}:all=1[a${i}]`);
      voices.push(`[a${i}]`);
    }
  });
  graph.push(`[${last}]null[vout]`);
  graph.push(`[silence]${voices.join('')}amix=inputs=${voices.length + 1}:duration=first:normalize=0[aout]`);
  return { graph, audio: true };
}

/** compose writes the composed recording of tracks (files in dir); onProgress gets the fraction done. */
export function compose(dir: string, tracks: TrackFile[], durationMs: number, ffmpegPath: string, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<string> {
  const { graph } = composeGraph(tracks, durationMs);
  const stderr: string[] = [];
  return new Promise((resolve, reject) => {
    const command = ffmpeg().setFfmpegPath(ffmpegPath);
    for (const t of tracks) command.input(join(dir, t.name));
    command
      .complexFilter(graph)
      .outputOptions([
        '-map', '[vout]', '-map', '[aout]',
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-pix_fmt', 'yuv420p', '-r', '25', '-g', '50',
        '-c:a', 'aac', '-b:a', '96k',
        '-t', (durationMs / 1000).toFixed(3),
        '-movflags', '+faststart',
      ])
      .output(join(dir, COMPOSED))
      .on('progress', (p: { timemark?: string }) => {
        const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(p.timemark ?? '');
        if (m) onProgress(Math.min(1, ((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000) / Math.max(1, durationMs)));
      })
      .on('stderr', (line: string) => { stderr.push(line); if (stderr.length > 20) stderr.shift(); })
      .on('end', () => resolve(COMPOSED))
      .on('error', (err: Error) => reject(new RecorderError(signal?.aborted ? 'composing was stopped with the gateway' : `composing the recording failed: ${err.message}; ${stderr.slice(-5).join(' | ')}`)))
      .run();
    signal?.addEventListener('abort', () => command.kill('SIGKILL'), { once: true });
  });
}
