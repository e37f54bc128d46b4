// npm run bench [-- core|webrtc|hls|simulator|console|wall|rooms|room-capacity|import|import-flood|sweep|storm|access] [--cameras 33000 --minutes 60 --searches 40] [--viewers 50,100,250,500] [--streams 20] [--parts glass,ttff,worker,gateway] [--mb 50 --files 1] [--sizes 10,50,100] [--samples 5] [--window 15]
// [--glass 20]: benchmarks that print figures. With no name, core and simulator run (the others take minutes each: name
// them; hls is the ffmpeg fallback's path).
import { parseArgs } from 'node:util';
import { runHlsBench } from './hls-bench.js';
import { runCoreBench } from './core-bench.js';
import { runSimulatorBench } from './simulator-bench.js';
import { runImportBench, runStormBench, runSweepBench } from './devices-bench.js';
import { runAccessBench } from './access-bench.js';
import { runImportFloodBench } from './import-flood-bench.js';
import { runWebRtcBench } from './webrtc-bench.js';
import { runConsoleBench } from './console-bench.js';
import { runWallBench } from './wall-bench.js';
import { runRoomsBench } from './rooms-bench.js';
import { runRoomCapacityBench } from './room-capacity-bench.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    sizes: { type: 'string' },
    samples: { type: 'string', default: '5' },
    window: { type: 'string', default: '15' },
    storm: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '15' },
    'backoff-max': { type: 'string', default: '60' },
    down: { type: 'string', default: '20' },
    mb: { type: 'string', default: '50' },
    files: { type: 'string', default: '1' },
    glass: { type: 'string', default: '20' },
    viewers: { type: 'string', default: '50,100,250,500' },
    streams: { type: 'string', default: '20' },
    parts: { type: 'string', default: 'glass,ttff,worker,gateway' },
    cameras: { type: 'string', default: '33000' },
    minutes: { type: 'string', default: '5' },
    searches: { type: 'string', default: '40' },
    steps: { type: 'string', default: '5' },
    receivers: { type: 'string', default: '10' },
    simulcast: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
  },
});
const command = positionals[0] ?? 'all';
const windowS = Number(values.window);
const sizes = (fallback: string) => (values.sizes ?? fallback).split(',').filter(Boolean).map(Number);

if (command === 'core' || command === 'all') {
  await runCoreBench({ sizes: sizes('50,100,300'), samples: Number(values.samples === '5' ? '20' : values.samples), windowS, glassS: Number(values.glass) });
}
if (command === 'hls') {
  await runHlsBench({ sizes: sizes('10,50,100'), samples: Number(values.samples), windowS });
}
if (command === 'simulator' || command === 'all') {
  const counts = sizes('100,500,1000');
  await runSimulatorBench({ sizes: [...counts.map((n) => ({ n, profile: 'sub' as const })), { n: 100, profile: 'main' as const }], windowS });
}
if (command === 'webrtc') {
  await runWebRtcBench({ viewers: values.viewers.split(',').map(Number), windowS, samples: Number(values.samples === '5' ? '10' : values.samples), glassS: Number(values.glass), streams: Number(values.streams), parts: values.parts.split(',') });
}
if (command === 'console') {
  const parts = values.parts === 'glass,ttff,worker,gateway' ? ['login', 'search', 'tree', 'fill', 'memory'] : values.parts.split(',');
  await runConsoleBench({ cameras: Number(values.cameras), minutes: Number(values.minutes), searches: Number(values.searches), parts });
}
if (command === 'wall') {
  const parts = values.parts === 'glass,ttff,worker,gateway' ? ['command', 'tour', 'wall'] : values.parts.split(',');
  await runWallBench({ samples: Number(values.samples === '5' ? '20' : values.samples), windowS: Number(values.window), steps: Number(values.steps), parts });
}
if (command === 'rooms') {
  await runRoomsBench({ samples: Number(values.samples === '5' ? '10' : values.samples), receivers: Number(values.receivers), windowS: Number(values.window), simulcast: values.simulcast === true });
}
if (command === 'room-capacity') await runRoomCapacityBench({ sizes: sizes('5,10,15,20,25,30,40,50,64'), windowS: Number(values.window), workers: Number(values.workers) });
if (command === 'import') await runImportBench();
if (command === 'access') await runAccessBench();
if (command === 'import-flood') await runImportFloodBench({ sizeMb: Number(values.mb), files: Number(values.files) });
if (command === 'sweep') await runSweepBench(sizes('100,200,500'));
if (command === 'storm') {
  await runStormBench({ storm: Number(values.storm), intervalS: Number(values.interval), backoffMaxS: Number(values['backoff-max']), downS: Number(values.down) });
}
if (!['core', 'webrtc', 'hls', 'simulator', 'all', 'import', 'import-flood', 'sweep', 'storm', 'access', 'console', 'wall', 'rooms', 'room-capacity'].includes(command)) {
  process.stderr.write(`bench: unknown benchmark ${JSON.stringify(command)} (use: core | webrtc | hls | simulator | console | wall | rooms | room-capacity | import | import-flood | sweep | storm | access, or nothing for core and simulator)\n`);
  process.exit(2);
}
