// The pan-tilt-zoom head of a simulated dome: continuous moves change the position with time, presets remember it.

/** PtzPosition is in ONVIF's generic spaces: pan and tilt in [-1, 1], zoom in [0, 1]. */
export interface PtzPosition {
  pan: number;
  tilt: number;
  zoom: number;
}

/** PtzVelocity is in [-1, 1] per axis. */
export interface PtzVelocity {
  pan: number;
  tilt: number;
  zoom: number;
}

/** Preset is a remembered position. */
export interface Preset {
  token: string;
  name: string;
  position: PtzPosition;
}

/** FULL_SPEED is how far an axis travels per second at velocity 1 (pan crosses its range in 4 s). */
export const FULL_SPEED = { pan: 0.5, tilt: 0.5, zoom: 0.25 };
/** MAX_PRESETS is how many presets a head keeps, as real domes cap them. */
export const MAX_PRESETS = 256;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** PtzHead integrates velocity over time lazily: its position is computed when asked. */
export class PtzHead {
  #at: number;
  #position: PtzPosition = { pan: 0, tilt: 0, zoom: 0 };
  #velocity: PtzVelocity = { pan: 0, tilt: 0, zoom: 0 };
  #until = Infinity;
  #presets = new Map<string, Preset>();
  #nextToken = 1;
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#at = now();
  }

  /** position is where the head points now. */
  position(): PtzPosition {
    this.#advance();
    return { ...this.#position };
  }

  /** moving says whether any axis is moving. */
  moving(): { panTilt: boolean; zoom: boolean } {
    this.#advance();
    return { panTilt: this.#velocity.pan !== 0 || this.#velocity.tilt !== 0, zoom: this.#velocity.zoom !== 0 };
  }

  /** continuousMove starts moving; a timeout (ms) stops it by itself. */
  continuousMove(v: Partial<PtzVelocity>, timeoutMs?: number): void {
    this.#advance();
    this.#velocity = { pan: clamp(v.pan ?? 0, -1, 1), tilt: clamp(v.tilt ?? 0, -1, 1), zoom: clamp(v.zoom ?? 0, -1, 1) };
    this.#until = timeoutMs === undefined ? Infinity : this.#now() + timeoutMs;
  }

  /**
   * relativeMove turns the head by a translation in the generic spaces (pan and tilt in [-1, 1], zoom in [-1, 1]),
   * at once: the simulator has no slew time.
   */
  relativeMove(t: Partial<PtzVelocity>): void {
    this.#advance();
    this.#velocity = { pan: 0, tilt: 0, zoom: 0 };
    this.#position = {
      pan: clamp(this.#position.pan + (t.pan ?? 0), -1, 1),
      tilt: clamp(this.#position.tilt + (t.tilt ?? 0), -1, 1),
      zoom: clamp(this.#position.zoom + (t.zoom ?? 0), 0, 1),
    };
  }

  /** stop halts pan/tilt, zoom or both. */
  stop(panTilt = true, zoom = true): void {
    this.#advance();
    if (panTilt) this.#velocity = { ...this.#velocity, pan: 0, tilt: 0 };
    if (zoom) this.#velocity = { ...this.#velocity, zoom: 0 };
  }

  presets(): Preset[] {
    return [...this.#presets.values()];
  }

  /** setPreset stores the current position under a new or existing token and returns the token. */
  setPreset(name: string, token?: string): string {
    if (token !== undefined && !this.#presets.has(token)) throw new RangeError(`no preset ${token}`);
    if (token === undefined && this.#presets.size >= MAX_PRESETS) throw new RangeError(`the head keeps at most ${MAX_PRESETS} presets`);
    const t = token ?? String(this.#nextToken++);
    this.#presets.set(t, { token: t, name, position: this.position() });
    return t;
  }

  /** gotoPreset moves to a preset (at once: the simulator has no slew time). */
  gotoPreset(token: string): void {
    const p = this.#presets.get(token);
    if (!p) throw new RangeError(`no preset ${token}`);
    this.#advance();
    this.#velocity = { pan: 0, tilt: 0, zoom: 0 };
    this.#position = { ...p.position };
  }

  #advance(): void {
    const now = this.#now();
    const end = Math.min(now, this.#until);
    const dt = Math.max(0, end - this.#at) / 1000;
    if (dt > 0) {
      this.#position = {
        pan: clamp(this.#position.pan + this.#velocity.pan * FULL_SPEED.pan * dt, -1, 1),
        tilt: clamp(this.#position.tilt + this.#velocity.tilt * FULL_SPEED.tilt * dt, -1, 1),
        zoom: clamp(this.#position.zoom + this.#velocity.zoom * FULL_SPEED.zoom * dt, 0, 1),
      };
    }
    this.#at = now;
    if (now >= this.#until) {
      this.#velocity = { pan: 0, tilt: 0, zoom: 0 };
      this.#until = Infinity;
    }
  }
}
