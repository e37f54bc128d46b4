// The camera farm process: clips, RTSP server and control endpoint, started and stopped as one.
import type { Server } from 'node:http';
import type { Profile } from '../core/types.js';
import { CameraFarm } from './camera-farm.js';
import { loadClip, type Clip } from './clip.js';
import { CLIP_SPECS, ensureClips } from './clip-maker.js';
import { createControlServer } from './control-server.js';
import { RtspServer } from './rtsp-server.js';

/** SimulatorOptions configure a farm. */
export interface SimulatorOptions {
  host: string;
  rtspPort: number;
  /** controlPort serves the fault knobs over HTTP; undefined means no control endpoint. */
  controlPort?: number;
  username: string;
  password: string;
  clipDir: string;
  ffmpegPath?: string;
  progress?: (line: string) => void;
}

/** Simulator is a running camera farm. */
export class Simulator {
  readonly farm: CameraFarm;
  readonly rtsp: RtspServer;
  #control?: Server;
  #opts: SimulatorOptions;

  private constructor(opts: SimulatorOptions, farm: CameraFarm) {
    this.#opts = opts;
    this.farm = farm;
    this.rtsp = new RtspServer({ host: opts.host, port: opts.rtspPort, farm });
  }

  /** start encodes missing clips, loads them and listens. */
  static async start(opts: SimulatorOptions): Promise<Simulator> {
    const paths = await ensureClips(opts.clipDir, opts.ffmpegPath, opts.progress);
    const clips = {} as Record<Profile, Clip>;
    for (const [profile, path] of Object.entries(paths) as Array<[Profile, string]>) {
      clips[profile] = await loadClip(path, CLIP_SPECS[profile]);
    }
    const sim = new Simulator(opts, new CameraFarm({ username: opts.username, password: opts.password, clips }));
    await sim.rtsp.listen();
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
    await this.rtsp.close();
  }
}
