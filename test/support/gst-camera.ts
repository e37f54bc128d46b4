// Runs Debian's GStreamer RTSP server (test/support/gst-camera.py) as a camera the project did not write.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./gst-camera.py', import.meta.url));
/** PYTHON is Debian's interpreter: the one whose GObject bindings (python3-gi) the packages install. */
const PYTHON = '/usr/bin/python3';

/** GstCamera is a running GStreamer RTSP server. */
export interface GstCamera {
  port: number;
  /** url returns the RTSP URL of a mount (/h264, /h264-bframes, /h265), without credentials. */
  url(mount: string): string;
  close(): Promise<void>;
}

/** gstMissing names what this machine lacks to run the GStreamer camera, or returns undefined. */
export function gstMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return 'the GStreamer RTSP server (run: bash scripts/setup.sh --browser, or apt-get install -y gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)';
}

/** startGstCamera starts the server, asking for Digest credentials when given; it resolves once it listens. */
export function startGstCamera(opts: { username?: string; password?: string; width?: number; height?: number } = {}): Promise<GstCamera> {
  const missing = gstMissing();
  if (missing) return Promise.reject(new Error(`missing ${missing}`));
  const args = [SCRIPT, '--width', String(opts.width ?? 1280), '--height', String(opts.height ?? 720), ...(opts.username ? ['--user', opts.username] : [])];
  // The password goes by the environment, not the command line.
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CAMERA_PASSWORD: opts.password ?? '' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the GStreamer camera did not listen within 20 s: ${stderr}`)); }, 20_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the GStreamer camera exited (${code}): ${stderr}`)); });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const port = Number(m[1]);
      resolve({
        port,
        url: (mount) => `rtsp://127.0.0.1:${port}${mount}`,
        close: () => new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          // Closing stdin asks it to stop; a server that does not is killed.
          child.stdin.end();
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        }),
      });
    });
  });
}
