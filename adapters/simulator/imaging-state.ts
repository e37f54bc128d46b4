// The lens of a simulated dome, as the ONVIF Imaging service (ver20) shows it: focus moved continuously at a speed
// until stopped (or at its ends), and an iris set in the exposure settings.

/** FOCUS_SPEED is how far focus travels per second at speed 1 (the whole range in 2 s). */
export const FOCUS_SPEED = 0.5;
/** IRIS_RANGE is the iris attenuation in dB: 0 is fully open, MIN the most closed. */
export const IRIS_RANGE = { min: -22, max: 0 };

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Lens integrates the focus speed over time lazily, as the PTZ head does its velocity. */
export class Lens {
  #at: number;
  #focus = 0.5;
  #speed = 0;
  #iris = -6;
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#at = now();
  }

  #advance(): void {
    const t = this.#now();
    this.#focus = clamp(this.#focus + this.#speed * FOCUS_SPEED * ((t - this.#at) / 1000), 0, 1);
    if (this.#focus === 0 || this.#focus === 1) this.#speed = 0;
    this.#at = t;
  }

  /** focus is the focus position in [0, 1] (0 near, 1 far). */
  focus(): number {
    this.#advance();
    return this.#focus;
  }

  moving(): boolean {
    this.#advance();
    return this.#speed !== 0;
  }

  /** move focuses continuously at speed in [-1, 1] until stop(). */
  move(speed: number): void {
    this.#advance();
    this.#speed = clamp(speed, -1, 1);
  }

  stop(): void {
    this.#advance();
    this.#speed = 0;
  }

  iris(): number {
    return this.#iris;
  }

  /** setIris sets the attenuation; outside the range it throws (the device answers a fault). */
  setIris(db: number): void {
    if (!Number.isFinite(db) || db < IRIS_RANGE.min || db > IRIS_RANGE.max) throw new RangeError(`iris ${db} dB is outside [${IRIS_RANGE.min}, ${IRIS_RANGE.max}]`);
    this.#iris = db;
  }
}
