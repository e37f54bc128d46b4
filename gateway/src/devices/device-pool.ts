// Connected ONVIF devices, kept while in use: PTZ, presets, snapshot and stream addresses of catalog cameras. A device
// that fails is dropped and reconnected on the next call; idle ones are closed.
import type { Profile, SourceCredentials } from '../../../adapters/core/types.js';
import { OnvifDevice, OnvifError, type MediaProfile, type PtzCapabilities, type PtzPreset, type PtzStatus } from '../../../adapters/onvif/onvif-client.js';
import { fetchSnapshot } from '../../../adapters/onvif/snapshot.js';

/** DeviceAddress is how the pool reaches a camera's ONVIF services. */
export interface DeviceAddress {
  onvifUrl: string;
  credentials?: SourceCredentials;
}

/** NotSupportedError says the camera cannot do what was asked (no ONVIF endpoint, no PTZ). */
export class NotSupportedError extends Error {
  override name = 'NotSupportedError';
}

interface Entry {
  connecting: Promise<{ device: OnvifDevice; profiles: Partial<Record<Profile, MediaProfile>> }>;
  usedAt: number;
  /** capabilities are asked once per connection. */
  capabilities?: Promise<PtzCapabilities>;
}

/**
 * centreTranslation is how far to turn the head so that a point of the picture (x, y in [-1, 1] from its centre)
 * comes to the middle, in the generic translation spaces, taking a typical 20x dome: pan's [-1, 1] is its whole turn
 * (360°), tilt's is 90°, and the picture is 60° by 34° wide open, narrowing with zoom to a twentieth of that.
 */
export function centreTranslation(x: number, y: number, zoom: number): { pan: number; tilt: number } {
  const narrowing = 1 + 19 * Math.min(1, Math.max(0, zoom));
  const clamp = (v: number) => Math.min(1, Math.max(-1, v));
  return { pan: clamp((x * 30) / 180 / narrowing), tilt: clamp((y * 17) / 45 / narrowing) };
}

/** DevicePoolOptions configure the pool. */
export interface DevicePoolOptions {
  /** address returns the ONVIF address of a camera, or undefined when it has none. */
  address(camera: string): DeviceAddress | undefined;
  timeoutMs: number;
  idleMs: number;
  /** maxDevices bounds the connections kept (least recently used go first). */
  maxDevices: number;
  /** fallbackSnapshot takes a picture of a camera without ONVIF (from its stream). */
  fallbackSnapshot(camera: string, profile: Profile): Promise<Buffer>;
  /**
   * liveSnapshot decodes the keyframe of a stream the gateway already pulls, or gives undefined when it pulls none:
   * asked first, so that an open stream costs the camera no second connection.
   */
  liveSnapshot?(camera: string, profile: Profile): Promise<Buffer | undefined>;
}

/** DevicePool is the gateway's one way to a camera's ONVIF services. */
export class DevicePool {
  #opts: DevicePoolOptions;
  #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout;

  constructor(opts: DevicePoolOptions) {
    this.#opts = opts;
    this.#timer = setInterval(() => this.#expire(), Math.min(60_000, opts.idleMs)).unref();
  }

  /** hasOnvif says whether a camera is reachable through ONVIF at all. */
  hasOnvif(camera: string): boolean {
    return this.#opts.address(camera) !== undefined;
  }

  /** forgetAll drops every connection (addresses or credentials changed). */
  forgetAll(): void {
    this.#entries.clear();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#entries.clear();
  }

  /** streamUrl asks the device for the RTSP address of a profile (the sub stream falls back to main). */
  async streamUrl(camera: string, profile: Profile): Promise<string> {
    return this.#use(camera, async ({ device, profiles }) => device.streamUri((profiles[profile] ?? profiles.main)!.token));
  }

  /** keyframe asks the camera for a keyframe in a profile's stream now (a new WebRTC viewer need not wait a GOP). */
  async keyframe(camera: string, profile: Profile): Promise<void> {
    await this.#use(camera, async ({ device, profiles }) => device.syncPoint((profiles[profile] ?? profiles.main)!.token));
  }

  /**
   * snapshot decodes the live stream's cached keyframe when the gateway pulls it, else fetches a JPEG through the device's
   * snapshot address, or from the stream of a camera without ONVIF.
   */
  async snapshot(camera: string, profile: Profile): Promise<Buffer> {
    const live = await this.#opts.liveSnapshot?.(camera, profile).catch(() => undefined);
    if (live) return live;
    const address = this.#opts.address(camera);
    if (!address) return this.#opts.fallbackSnapshot(camera, profile);
    const uri = await this.#use(camera, async ({ device, profiles }) => device.snapshotUri((profiles[profile] ?? profiles.main)!.token));
    return fetchSnapshot(uri, address?.credentials, this.#opts.timeoutMs);
  }

  async move(camera: string, v: { pan?: number; tilt?: number; zoom?: number }, timeoutMs: number): Promise<void> {
    await this.#ptz(camera, (d, token) => d.continuousMove(token, v, timeoutMs));
  }

  async stop(camera: string): Promise<void> {
    await this.#ptz(camera, (d, token) => d.stop(token));
  }

  async status(camera: string): Promise<PtzStatus> {
    return this.#ptz(camera, (d, token) => d.status(token));
  }

  async presets(camera: string): Promise<PtzPreset[]> {
    return this.#ptz(camera, (d, token) => d.presets(token));
  }

  async gotoPreset(camera: string, preset: string): Promise<void> {
    await this.#ptz(camera, (d, token) => d.gotoPreset(token, preset));
  }

  async setPreset(camera: string, name: string): Promise<string> {
    return this.#ptz(camera, (d, token) => d.setPreset(token, name));
  }

  /** capabilities says what the head and lens offer beyond continuous moves (asked once per connection). */
  async capabilities(camera: string): Promise<PtzCapabilities> {
    return this.#ptz(camera, async (d) => {
      const entry = this.#entries.get(camera)!;
      const source = [(await entry.connecting).profiles.main, (await entry.connecting).profiles.sub].find((p) => p?.sourceToken)?.sourceToken;
      entry.capabilities ??= d.capabilities(source);
      return entry.capabilities;
    });
  }

  /** centre turns the head so that a point of the picture comes to the middle; NotSupportedError where it cannot. */
  async centre(camera: string, x: number, y: number): Promise<void> {
    if (!(await this.capabilities(camera)).relative) throw new NotSupportedError('this head cannot turn by a relative amount (no RelativeMove)');
    const { zoom } = await this.status(camera);
    const t = centreTranslation(x, y, zoom);
    await this.#ptz(camera, (d, token) => d.relativeMove(token, t));
  }

  #focusStops = new Map<string, NodeJS.Timeout>();

  /**
   * focus moves the lens continuously; ONVIF's Imaging Move carries no timeout, so the pool stops it itself after
   * timeoutMs unless asked again (a console that vanishes cannot leave the lens hunting).
   */
  async focus(camera: string, speed: number, timeoutMs: number): Promise<void> {
    if (!(await this.capabilities(camera)).focus) throw new NotSupportedError('this lens does not focus continuously');
    await this.#lens(camera, (d, source) => d.focusMove(source, speed));
    clearTimeout(this.#focusStops.get(camera));
    this.#focusStops.set(camera, setTimeout(() => {
      this.#focusStops.delete(camera);
      void this.focusStop(camera).catch(() => undefined);
    }, timeoutMs).unref());
  }

  async focusStop(camera: string): Promise<void> {
    clearTimeout(this.#focusStops.get(camera));
    this.#focusStops.delete(camera);
    await this.#lens(camera, (d, source) => d.focusStop(source));
  }

  /** iris opens (1) or closes (-1) the iris by one dB step, within the device's range. */
  async iris(camera: string, step: 1 | -1): Promise<number> {
    const caps = await this.capabilities(camera);
    if (!caps.iris) throw new NotSupportedError('this camera offers no iris setting');
    return this.#lens(camera, async (d, source) => {
      const now = (await d.imagingSettings(source)).iris ?? 0;
      const next = Math.min(caps.irisRange?.max ?? 0, Math.max(caps.irisRange?.min ?? -22, now + step));
      await d.setIris(source, next);
      return next;
    });
  }

  /** imaging reads the lens's focus position and iris, where offered. */
  async imaging(camera: string): Promise<{ focus?: number; iris?: number } | undefined> {
    const caps = await this.capabilities(camera);
    if (!caps.focus && !caps.iris) return undefined;
    return this.#lens(camera, async (d, source) => ({
      ...(caps.focus ? { focus: await d.focusPosition(source).catch(() => undefined) } : {}),
      ...(caps.iris ? { iris: (await d.imagingSettings(source)).iris } : {}),
    }));
  }

  async #lens<T>(camera: string, fn: (d: OnvifDevice, source: string) => Promise<T>): Promise<T> {
    return this.#use(camera, async ({ device, profiles }) => {
      const source = [profiles.main, profiles.sub].find((p) => p?.sourceToken)?.sourceToken;
      if (!source) throw new NotSupportedError('this camera names no video source for its lens');
      return fn(device, source);
    });
  }

  async #ptz<T>(camera: string, fn: (d: OnvifDevice, token: string) => Promise<T>): Promise<T> {
    return this.#use(camera, async ({ device, profiles }) => {
      const p = [profiles.main, profiles.sub].find((x) => x?.ptz);
      if (!device.hasPtz || !p) throw new NotSupportedError('this camera has no pan-tilt-zoom head');
      return fn(device, p.token);
    });
  }

  async #use<T>(camera: string, fn: (e: Awaited<Entry['connecting']>) => Promise<T>): Promise<T> {
    let entry = this.#entries.get(camera);
    if (!entry) {
      const address = this.#opts.address(camera);
      if (!address) throw new NotSupportedError('this camera has no ONVIF endpoint in the catalog');
      const connecting = (async () => {
        const device = await OnvifDevice.connect({ url: address.onvifUrl, credentials: address.credentials, timeoutMs: this.#opts.timeoutMs });
        return { device, profiles: await device.streamProfiles() };
      })();
      entry = { connecting, usedAt: Date.now() };
      this.#entries.set(camera, entry);
      if (this.#entries.size > this.#opts.maxDevices) this.#evictOldest();
    }
    entry.usedAt = Date.now();
    try {
      return await fn(await entry.connecting);
    } catch (err) {
      // A device that cannot be reached or refuses us is asked afresh next time (it may have rebooted or changed).
      if (err instanceof OnvifError && ['unreachable', 'timeout', 'unauthorized', 'protocol'].includes(err.kind) && this.#entries.get(camera) === entry) this.#entries.delete(camera);
      throw err;
    }
  }

  #evictOldest(): void {
    let oldest: [string, Entry] | undefined;
    for (const e of this.#entries) if (!oldest || e[1].usedAt < oldest[1].usedAt) oldest = e;
    if (oldest) this.#entries.delete(oldest[0]);
  }

  #expire(): void {
    const before = Date.now() - this.#opts.idleMs;
    for (const [camera, e] of this.#entries) if (e.usedAt < before) this.#entries.delete(camera);
  }
}
