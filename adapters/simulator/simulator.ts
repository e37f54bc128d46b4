// The camera farm process: clips, RTSP server and control endpoint, started and stopped as one.
import type { Server } from 'node:http';
import type { Profile } from '../core/types.js';
import { CameraFarm } from './camera-farm.js';
import { loadAudioClip, loadClip, type AudioClip, type Clip } from './clip.js';
import { readFile } from 'node:fs/promises';
import { AUDIO_SPECS, BFRAME_SPEC, CLIP_SPECS, COUNTER_SPEC, ensureAudio, ensureBframeClip, ensureClips, ensureCounterClip, ensureHevcClips, ensureSnapshots, HEVC_SPECS } from './clip-maker.js';
import { OnvifServer } from './onvif-server.js';
import { createControlServer } from './control-server.js';
import { RtspServer } from './rtsp-server.js';

/** SimulatorOptions configure a farm. */
export interface SimulatorOptions {
  host: string;
  rtspPort: number;
  /** controlPort serves the fault knobs over HTTP; undefined means no control endpoint. */
  controlPort?: number;
  /** onvifPort serves the ONVIF services of every camera; undefined means none. */
  onvifPort?: number;
  /** discovery answers WS-Discovery probes (UDP 3702 on a real network) for these cameras. */
  discovery?: { port: number; cameras: string[] };
  username: string;
  password: string;
  clipDir: string;
  ffmpegPath?: string;
  /** sessionTimeoutS is what the RTSP server announces; UDP sessions without keep-alives end after it (default 60). */
  sessionTimeoutS?: number;
  progress?: (line: string) => void;
}

/** Simulator is a running camera farm. */
export class Simulator {
  readonly farm: CameraFarm;
  readonly rtsp: RtspServer;
  onvif?: OnvifServer;
  #control?: Server;
  #opts: SimulatorOptions;

  private constructor(opts: SimulatorOptions, farm: CameraFarm) {
    this.#opts = opts;
    this.farm = farm;
    this.rtsp = new RtspServer({ host: opts.host, port: opts.rtspPort, farm, ...(opts.sessionTimeoutS ? { sessionTimeoutS: opts.sessionTimeoutS } : {}) });
  }

  /** start encodes missing clips, loads them and listens. */
  static async start(opts: SimulatorOptions): Promise<Simulator> {
    const paths = await ensureClips(opts.clipDir, opts.ffmpegPath, opts.progress);
    const clips = {} as Record<Profile, Clip>;
    for (const [profile, path] of Object.entries(paths) as Array<[Profile, string]>) {
      clips[profile] = await loadClip(path, CLIP_SPECS[profile]);
    }
    const bf = await ensureBframeClip(opts.clipDir, opts.ffmpegPath);
    const bframeClip = await loadClip(bf.path, BFRAME_SPEC, 1400, bf.order);
    const hevcPaths = await ensureHevcClips(opts.clipDir, opts.ffmpegPath, opts.progress);
    const hevcClips = {} as Record<Profile, Clip>;
    for (const [profile, path] of Object.entries(hevcPaths) as Array<[Profile, string]>) hevcClips[profile] = await loadClip(path, HEVC_SPECS[profile], 1400, undefined, 'H265');
    const counterClip = await loadClip(await ensureCounterClip(opts.clipDir, opts.ffmpegPath), COUNTER_SPEC);
    const audioPaths = await ensureAudio(opts.clipDir, opts.ffmpegPath);
    const audio: Partial<Record<keyof typeof AUDIO_SPECS, AudioClip>> = {};
    for (const [name, spec] of Object.entries(AUDIO_SPECS) as Array<[keyof typeof AUDIO_SPECS, (typeof AUDIO_SPECS)[keyof typeof AUDIO_SPECS]]>) {
      audio[name] = await loadAudioClip(audioPaths[name], spec.codec, spec.rate);
    }
    const sim = new Simulator(opts, new CameraFarm({ username: opts.username, password: opts.password, clips, bframeClip, hevcClips, counterClip, audio }));
    await sim.rtsp.listen();
    if (opts.onvifPort !== undefined) {
      const shots = await ensureSnapshots(opts.clipDir, opts.ffmpegPath);
      const onvif = new OnvifServer({
        host: opts.host, port: opts.onvifPort, farm: sim.farm, rtspPort: () => sim.rtsp.address().port,
        syncPoint: (camera, profile) => sim.rtsp.syncPoint(camera, profile),
        snapshots: { main: await readFile(shots.main), sub: await readFile(shots.sub) }, discovery: opts.discovery,
      });
      try {
        await onvif.listen();
      } catch (err) {
        await sim.rtsp.close();
        throw err;
      }
      sim.onvif = onvif;
    }
    if (opts.controlPort !== undefined) {
      const control = createControlServer(sim.farm, sim.rtsp);
      await new Promise<void>((resolve, reject) => {
        control.once('error', reject);
        control.listen(opts.controlPort, opts.host, () => resolve());
      });
      sim.#control = control;
    }
    return sim;
  }

  /** rtspUrl returns the URL of a camera profile. */
  rtspUrl(camera: string, profile: Profile): string {
    const { port } = this.rtsp.address();
    return `rtsp://${this.#opts.host}:${port}/cam/${camera}/${profile}`;
  }

  /** onvifUrl returns the device service address of a camera. */
  onvifUrl(camera: string): string {
    if (!this.onvif) throw new Error('the simulator runs without ONVIF (no onvifPort)');
    return this.onvif.deviceUrl(camera);
  }

  /** controlUrl returns the base URL of the fault endpoint. */
  controlUrl(): string | undefined {
    const a = this.#control?.address();
    return a && typeof a !== 'string' ? `http://${this.#opts.host}:${a.port}` : undefined;
  }

  /** close stops everything; it is idempotent. */
  async close(): Promise<void> {
    const control = this.#control;
    this.#control = undefined;
    if (control) {
      control.closeAllConnections();
      await new Promise<void>((resolve) => control.close(() => resolve()));
    }
    await this.onvif?.close();
    await this.rtsp.close();
  }
}
