// Connected ONVIF devices, kept while in use: PTZ, presets, snapshot and stream addresses of catalog cameras. A device
// that fails is dropped and reconnected on the next call; idle ones are closed.
import type { Profile, SourceCredentials } from '../../../adapters/core/types.js';
import { OnvifDevice, OnvifError, type MediaProfile, type PtzPreset, type PtzStatus } from '../../../adapters/onvif/onvif-client.js';
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
