// Runs the camera simulator as a child process for the embedded demo; it exits when the gateway does.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** SimulatorProcessOptions mirror the simulator's CLI flags. */
export interface SimulatorProcessOptions {
  host: string;
  rtspPort: number;
  controlPort: number;
  onvifPort: number;
  discoveryPort: number;
  /** discoverable is how many new devices answer WS-Discovery probes. */
  discoverable: number;
  username: string;
  password: string;
  clipDir: string;
  ffmpegPath: string;
  onLog?: (line: string) => void;
  /** onUnexpectedExit is told when the farm dies after it started, with its last words. */
  onUnexpectedExit?: (code: number | null, signal: string | null, stderr: string) => void;
}

const ENTRY = fileURLToPath(new URL('../../../adapters/simulator/main.ts', import.meta.url));

/** SimulatorProcess is the running child. */
export class SimulatorProcess {
  #child: ChildProcess;
  #stopping = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** start spawns the simulator and resolves once it listens (clips are encoded first when missing). */
  static start(opts: SimulatorProcessOptions): Promise<SimulatorProcess> {
    const child = spawn(process.execPath, [
      '--import', 'tsx', ENTRY, 'serve',
      '--host', opts.host, '--port', String(opts.rtspPort), '--control-port', String(opts.controlPort),
      '--onvif-port', String(opts.onvifPort), '--discovery-port', String(opts.discoveryPort), '--discoverable', String(opts.discoverable),
      '--username', opts.username, '--clip-dir', opts.clipDir, '--ffmpeg', opts.ffmpegPath,
    ], {
      // The password goes by environment, not argv, which every user of the machine can read.
      env: { ...process.env, SIM_PASSWORD: opts.password },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        opts.onLog?.(line);
        if (!line.includes('simulator listening')) return;
        const sim = new SimulatorProcess(child);
        child.once('exit', (code, signal) => {
          if (!sim.#stopping) opts.onUnexpectedExit?.(code, signal, stderr.trim());
        });
        resolve(sim);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`camera simulator exited (code ${code}) before listening: ${stderr.trim() || 'no output'}`)));
    });
  }

  /** stop ends the child; it is idempotent. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.kill('SIGTERM');
      setTimeout(() => this.#child.kill('SIGKILL'), 3000).unref();
    });
  }
}
