// CLI of the camera farm: `clips` encodes the clips; `serve` runs the farm until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { ensureBframeClip, ensureClips } from './clip-maker.js';
import { Simulator } from './simulator.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8554' },
    'control-port': { type: 'string', default: '8555' },
    'onvif-port': { type: 'string', default: '8556' },
    'discovery-port': { type: 'string', default: '3702' },
    discoverable: { type: 'string', default: '8' },
    username: { type: 'string', default: 'admin' },
    password: { type: 'string', default: process.env.SIM_PASSWORD ?? 'sim-Passw0rd' },
    'clip-dir': { type: 'string', default: 'var/clips' },
    ffmpeg: { type: 'string', default: process.env.FFMPEG_PATH ?? 'ffmpeg' },
  },
});

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`simulator: --${name} must be a port number 0-65535, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

/** DISCOVERABLE_PREFIX starts the ids of the devices that answer WS-Discovery: cameras not in any catalog yet. */
export const DISCOVERABLE_PREFIX = '36990000001320';

const command = positionals[0] ?? 'serve';
const log = (line: string) => process.stdout.write(`${JSON.stringify({ time: Date.now(), msg: line })}\n`);

if (command === 'clips') {
  const paths = await ensureClips(values['clip-dir'], values.ffmpeg, log);
  const bframes = await ensureBframeClip(values['clip-dir'], values.ffmpeg);
  log(`clips ready: ${[...Object.values(paths), bframes.path].join(', ')}`);
} else if (command === 'serve') {
  const discoverable = Math.max(0, Math.min(1000, Number(values.discoverable) || 0));
  const sim = await Simulator.start({
    host: values.host,
    rtspPort: port('port', values.port),
    controlPort: port('control-port', values['control-port']),
    onvifPort: port('onvif-port', values['onvif-port']),
    ...(discoverable > 0 ? {
      discovery: { port: port('discovery-port', values['discovery-port']), cameras: Array.from({ length: discoverable }, (_, i) => `${DISCOVERABLE_PREFIX}${String(i + 1).padStart(6, '0')}`) },
    } : {}),
    username: values.username,
    password: values.password,
    clipDir: values['clip-dir'],
    ffmpegPath: values.ffmpeg,
    progress: log,
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
      process.stderr.write(`simulator: cannot listen on ${values.host}, port ${err.message.split(':').pop()}: ${err.code === 'EADDRINUSE' ? 'already in use' : 'permission denied'} (choose others with --port, --control-port, --onvif-port and --discovery-port)\n`);
      process.exit(1);
    }
    throw err;
  });
  sim.rtsp.on('clientError', (e) => log(`client error from ${e.remote}: ${e.message}`));
  log(`simulator listening: rtsp://${values.host}:${sim.rtsp.address().port}/cam/<id>/<main|sub>, onvif ${sim.onvifUrl('<id>')}, control ${sim.controlUrl()}`);
  const stop = () => void sim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Started by the gateway with an IPC channel: when the gateway goes, so does the farm.
  if (process.send) process.once('disconnect', stop);
} else {
  process.stderr.write(`simulator: unknown command ${JSON.stringify(command)} (use: clips | serve)\n`);
  process.exit(2);
}
