// Paces process starts: each ffmpeg start is a burst of CPU, and a burst of starts (a wall preset, cameras coming
// back together) must not starve the streams already running or push new ones past their start timeout.

/** StartGate lets starts through in arrival order, no more than perSecond each second. */
export class StartGate {
  #intervalMs: number;
  #next = 0;

  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new TypeError(`starts per second must be > 0, got ${perSecond}`);
    this.#intervalMs = 1000 / perSecond;
  }

  /** pass resolves when the caller may start. */
  async pass(now = Date.now()): Promise<void> {
    const at = Math.max(now, this.#next);
    this.#next = at + this.#intervalMs;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }
}
