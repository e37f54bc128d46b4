// npm run bench [-- hls|simulator] [--sizes 10,50,100] [--samples 5] [--window 15]: benchmarks that print figures.
import { parseArgs } from 'node:util';
import { runHlsBench } from './hls-bench.js';
import { runSimulatorBench } from './simulator-bench.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    sizes: { type: 'string' },
    samples: { type: 'string', default: '5' },
    window: { type: 'string', default: '15' },
  },
});
const command = positionals[0] ?? 'all';
const windowS = Number(values.window);
const sizes = (fallback: string) => (values.sizes ?? fallback).split(',').filter(Boolean).map(Number);

if (command === 'hls' || command === 'all') {
  await runHlsBench({ sizes: sizes('10,50,100'), samples: Number(values.samples), windowS });
}
if (command === 'simulator' || command === 'all') {
  const counts = sizes('100,500,1000');
  await runSimulatorBench({ sizes: [...counts.map((n) => ({ n, profile: 'sub' as const })), { n: 100, profile: 'main' as const }], windowS });
}
if (!['hls', 'simulator', 'all'].includes(command)) {
  process.stderr.write(`bench: unknown benchmark ${JSON.stringify(command)} (use: hls | simulator, or nothing for both)\n`);
  process.exit(2);
}
