// One timer for all sessions: a simulated camera costs a few comparisons per tick, not a timer or a thread.
import { performance } from 'node:perf_hooks';
import type { PlaySession } from './play-session.js';

/** Pacer drives every playing session from one short interval. */
export class Pacer {
  #sessions = new Set<PlaySession>();
  #timer?: NodeJS.Timeout;
  #tickMs: number;

  constructor(tickMs = 5) {
    this.#tickMs = tickMs;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** add starts pacing session now. */
  add(session: PlaySession): void {
    session.start(performance.now());
    this.#sessions.add(session);
    session.pump(performance.now());
    if (!this.#timer) this.#timer = setInterval(() => this.#tick(), this.#tickMs);
  }

  /** remove stops pacing session. */
  remove(session: PlaySession): void {
    this.#sessions.delete(session);
    if (this.#sessions.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    const now = performance.now();
    for (const s of this.#sessions) s.pump(now);
  }

  /** close stops the timer. */
  close(): void {
    this.#sessions.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
