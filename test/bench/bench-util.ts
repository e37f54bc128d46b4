// Shared output helpers of the benchmarks: log lines, a progress bar, the machine, quantiles.
import { cpus, totalmem } from 'node:os';

/** log prints one benchmark line. */
export const log = (line: string): void => void process.stdout.write(`[bench] ${line}\n`);

/** bar shows progress: a redrawn bar on a terminal, one line at the end otherwise. */
export function bar(label: string, done: number, total: number): void {
  if (!process.stdout.isTTY) {
    if (done === total) log(`${label}: ${done}/${total}`);
    return;
  }
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stdout.write(`\r[bench] ${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
}

/** machineLine describes the machine the figures come from. */
export function machineLine(): string {
  return `${cpus().length} x ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

/** quantiles returns the median, p90 and maximum of xs. */
export function quantiles(xs: number[]): { median: number; p90: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p90: q(0.9), p95: q(0.95), max: s[s.length - 1]! };
}

/** fixed formats a figure with d decimals. */
export const fixed = (n: number, d = 3): string => n.toFixed(d);
