// Full-jitter exponential backoff: retries of many failing cameras spread out instead of marching in step.

/** BackoffOptions bound the delays. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/** fullJitterDelay returns a delay uniformly drawn from [0, min(max, base * 2^attempt)). */
export function fullJitterDelay(attempt: number, opts: BackoffOptions): number {
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor((opts.random ?? Math.random)() * cap);
}
