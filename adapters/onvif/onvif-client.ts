// The ONVIF client: the `onvif` package wrapped once in promises. Every call has a timeout and fails with an OnvifError
// that names the device (never its password) and the operation. Calls to one device run one at a time, and a device
// whose answer the package cannot digest fails that call instead of throwing out of a callback.
import onvif from 'onvif';
import type { Cam } from 'onvif';
import { parseStringPromise, processors } from 'xml2js';
import type { Profile, SourceCredentials } from '../core/types.js';
import { escapeXml } from '../core/xml.js';
import { DeviceError } from '../core/device-error.js';

/** OnvifFailure classifies a failed call. */
export type OnvifFailure = 'unreachable' | 'timeout' | 'unauthorized' | 'fault' | 'protocol' | 'unsupported';

/** OnvifError names the device and the operation. */
export class OnvifError extends DeviceError {
  override name = 'OnvifError';
  readonly kind: OnvifFailure;
  readonly device: string;
  readonly operation: string;

  constructor(kind: OnvifFailure, device: string, operation: string, detail: string) {
    super(`ONVIF device ${device}: ${operation} failed: ${detail}`, `${operation} failed: ${detail}`);
    this.kind = kind;
    this.device = device;
    this.operation = operation;
  }
}

/** DeviceInformation is what GetDeviceInformation says. */
export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

/** MediaProfile is one media profile of a device. */
export interface MediaProfile {
  token: string;
  name: string;
  encoding?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  /** ptz says whether the profile carries a PTZ configuration, i.e. the head can be driven through it. */
  ptz: boolean;
  /** sourceToken is the video source the profile takes its picture from (the Imaging service's lens). */
  sourceToken?: string;
}

/** PtzCapabilities are what a head and its lens offer beyond continuous moves and presets. */
export interface PtzCapabilities {
  relative: boolean;
  focus: boolean;
  iris: boolean;
  irisRange?: { min: number; max: number };
}

/** PtzStatus is where the head points, in ONVIF's generic spaces. */
export interface PtzStatus {
  pan: number;
  tilt: number;
  zoom: number;
  moving: { panTilt: boolean; zoom: boolean };
}

/** PtzPreset is a stored position. */
export interface PtzPreset {
  token: string;
  name: string;
}

/** OnvifTarget is a device service address with its credentials. */
export interface OnvifTarget {
  /** url is the device service, e.g. http://192.168.1.64/onvif/device_service. */
  url: string;
  credentials?: SourceCredentials;
  timeoutMs?: number;
}

const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;
/** MAX_REPLY_CHARS bounds a reply this client parses itself (a camera's 256 presets take a few tens of kB). */
const MAX_REPLY_CHARS = 4 * 1024 * 1024;

/** textOf is an element's text as xml2js gives it (a string, or an object with _ when it carries attributes). */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { _?: unknown })._ === 'string') return (v as { _: string })._;
  return '';
}

function num(v: unknown): number | undefined {
  const n = Number(v);
  return v === undefined || v === null || v === '' || !Number.isFinite(n) ? undefined : n;
}

type Callback = (err: Error | null, ...rest: unknown[]) => void;
type RequestFn = (options: unknown, callback: (...args: unknown[]) => void) => void;

/** OnvifDevice is a connected device. */
export class OnvifDevice {
  readonly url: string;
  readonly #label: string;
  #cam: Cam;
  #timeoutMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  #failCurrent?: (err: Error) => void;

  private constructor(target: OnvifTarget, cam: Cam, label: string) {
    this.url = target.url;
    this.#label = label;
    this.#cam = cam;
    this.#timeoutMs = target.timeoutMs ?? 5000;
    // The package parses answers inside its callbacks and throws when a device answers in a shape it does not
    // expect; caught here, that fails the call under way instead of the process.
    const raw = cam as unknown as { _request: RequestFn };
    const original = raw._request.bind(cam);
    raw._request = (options, callback) => original(options, (...args: unknown[]) => {
      try {
        callback(...args);
      } catch (err) {
        this.#failCurrent?.(err as Error);
      }
    });
  }

  /** connect asks the device its clock (for WS-Security timestamps) and its service addresses. */
  static async connect(target: OnvifTarget): Promise<OnvifDevice> {
    let u: URL;
    try {
      u = new URL(target.url);
    } catch {
      throw new OnvifError('protocol', JSON.stringify(target.url), 'connect', 'the device address is not a URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OnvifError('protocol', target.url, 'connect', `scheme ${u.protocol} is not http: or https:`);
    const label = `${u.host}${u.pathname}`;
    const cam = new onvif.Cam({
      hostname: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), path: u.pathname, useSecure: u.protocol === 'https:',
      username: target.credentials?.username, password: target.credentials?.password,
      timeout: target.timeoutMs ?? 5000, autoconnect: false, preserveAddress: true,
    });
    const device = new OnvifDevice(target, cam, label);
    await device.systemDateAndTime();
    await device.#call<unknown>('GetCapabilities', (cb) => cam.getCapabilities(cb));
    const uri = (cam as unknown as { uri?: Record<string, unknown> }).uri;
    if (!uri?.media) throw new OnvifError('unsupported', label, 'GetCapabilities', 'the device offers no Media service');
    return device;
  }

  /** systemDateAndTime is the cheapest call a device answers (without credentials): the health probe. */
  async systemDateAndTime(): Promise<Date> {
    return this.#call<Date>('GetSystemDateAndTime', (cb) => this.#cam.getSystemDateAndTime(cb as never));
  }

  /** hasPtz says whether the device advertised a PTZ service. */
  get hasPtz(): boolean {
    return !!(this.#cam as unknown as { uri?: Record<string, unknown> }).uri?.ptz;
  }

  /**
   * deviceInformation reads the identity of the device from the reply as written: the package turns text that looks
   * like a number into one, and a 20-digit serial number (GB/T 28181 ids are such) would lose its last digits.
   */
  async deviceInformation(): Promise<DeviceInformation> {
    const { xml } = await this.#callRaw('GetDeviceInformation', (cb) => this.#cam.getDeviceInformation(cb as never));
    const info = (await this.#body(xml, 'GetDeviceInformation')).GetDeviceInformationResponse?.[0] as Record<string, unknown[]> | undefined;
    if (!info) throw new OnvifError('protocol', this.#label, 'GetDeviceInformation', 'the answer holds no GetDeviceInformationResponse');
    const text = (name: string) => textOf(info[name]?.[0]);
    return {
      manufacturer: text('Manufacturer'), model: text('Model'), firmwareVersion: text('FirmwareVersion'),
      serialNumber: text('SerialNumber'), hardwareId: text('HardwareId'),
    };
  }

  /** profiles lists the media profiles with their video encoding, tokens read as written ("001" stays "001"). */
  async profiles(): Promise<MediaProfile[]> {
    const { value, xml } = await this.#callRaw<unknown[]>('GetProfiles', (cb) => this.#cam.getProfiles(cb as never));
    // The package's own result also tells a reply it could not digest (no list at all).
    if (!Array.isArray(value)) throw new OnvifError('protocol', this.#label, 'GetProfiles', 'the answer holds no profile list');
    const first = (await this.#body(xml, 'GetProfiles')).GetProfilesResponse?.[0];
    const response = typeof first === 'object' ? first as { Profiles?: unknown[] } : undefined;
    type Node = Record<string, unknown[] | undefined> & { $?: Record<string, unknown> };
    const child = (n: Node | undefined, name: string) => n?.[name]?.[0] as Node | undefined;
    return (response?.Profiles ?? []).map((p) => {
      const profile = p as Node;
      const enc = child(profile, 'VideoEncoderConfiguration');
      const res = child(enc, 'Resolution');
      const rate = child(enc, 'RateControl');
      const encoding = textOf(enc?.Encoding?.[0]);
      const source = textOf(child(profile, 'VideoSourceConfiguration')?.SourceToken?.[0]);
      return {
        token: String(profile.$?.token ?? ''), name: textOf(profile.Name?.[0]),
        encoding: encoding || undefined,
        width: num(textOf(res?.Width?.[0])), height: num(textOf(res?.Height?.[0])),
        fps: num(textOf(rate?.FrameRateLimit?.[0])), bitrateKbps: num(textOf(rate?.BitrateLimit?.[0])),
        ptz: profile.PTZConfiguration !== undefined,
        ...(source ? { sourceToken: source } : {}),
      };
    }).filter((p) => p.token !== '');
  }

  /** streamProfiles maps the device's video profiles to main (the largest picture) and sub (the next one). */
  async streamProfiles(): Promise<Partial<Record<Profile, MediaProfile>>> {
    const video = (await this.profiles()).filter((p) => p.width && p.height);
    video.sort((a, b) => b.width! * b.height! - a.width! * a.height!);
    if (video.length === 0) throw new OnvifError('unsupported', this.#label, 'GetProfiles', 'the device has no video profile');
    return { main: video[0], ...(video[1] ? { sub: video[1] } : {}) };
  }

  /** streamUri asks the RTSP address of a profile (RTP over RTSP over TCP). */
  async streamUri(profileToken: string): Promise<string> {
    this.#token(profileToken, 'GetStreamUri');
    const r = await this.#call<{ uri?: unknown }>('GetStreamUri', (cb) => this.#cam.getStreamUri({ protocol: 'RTSP', profileToken } as never, cb as never));
    if (typeof r?.uri !== 'string' || !/^rtsps?:\/\//.test(r.uri)) throw new OnvifError('protocol', this.#label, 'GetStreamUri', `the answer holds no rtsp:// address (${JSON.stringify(r?.uri)})`);
    return r.uri;
  }

  /** snapshotUri asks the HTTP address of a profile's JPEG snapshot. */
  /** syncPoint asks the device for a keyframe in a profile's stream now (Media SetSynchronizationPoint). */
  async syncPoint(profileToken: string): Promise<void> {
    this.#token(profileToken, 'SetSynchronizationPoint');
    await this.#call('SetSynchronizationPoint', (cb) => this.#cam.setSynchronizationPoint({ profileToken } as never, cb as never));
  }

  async snapshotUri(profileToken: string): Promise<string> {
    this.#token(profileToken, 'GetSnapshotUri');
    const r = await this.#call<{ uri?: unknown }>('GetSnapshotUri', (cb) => this.#cam.getSnapshotUri({ profileToken }, cb as never));
    if (typeof r?.uri !== 'string' || !/^https?:\/\//.test(r.uri)) throw new OnvifError('protocol', this.#label, 'GetSnapshotUri', `the answer holds no http:// address (${JSON.stringify(r?.uri)})`);
    return r.uri;
  }

  /** continuousMove moves the head at a velocity in [-1, 1] per axis until stop() or timeoutMs. */
  async continuousMove(profileToken: string, v: { pan?: number; tilt?: number; zoom?: number }, timeoutMs?: number): Promise<void> {
    this.#ptz(profileToken, 'ContinuousMove');
    for (const [axis, value] of Object.entries(v)) {
      if (value !== undefined && (!Number.isFinite(value) || value < -1 || value > 1)) throw new OnvifError('protocol', this.#label, 'ContinuousMove', `${axis} velocity ${value} is outside [-1, 1]`);
    }
    // The package sends PanTilt only when both axes are given; a pan-only move still sends y=0.
    const pt = v.pan !== undefined || v.tilt !== undefined ? { x: v.pan ?? 0, y: v.tilt ?? 0 } : {};
    await this.#call('ContinuousMove', (cb) => this.#cam.continuousMove({ profileToken, ...pt, ...(v.zoom !== undefined ? { zoom: v.zoom } : {}), ...(timeoutMs ? { timeout: timeoutMs } : {}) } as never, cb as never));
  }

  /** relativeMove turns the head by a translation in the generic spaces (pan, tilt and zoom each in [-1, 1]). */
  async relativeMove(profileToken: string, t: { pan?: number; tilt?: number; zoom?: number }): Promise<void> {
    this.#ptz(profileToken, 'RelativeMove');
    for (const [axis, value] of Object.entries(t)) {
      if (value !== undefined && (!Number.isFinite(value) || value < -1 || value > 1)) throw new OnvifError('protocol', this.#label, 'RelativeMove', `${axis} translation ${value} is outside [-1, 1]`);
    }
    await this.#call('RelativeMove', (cb) => this.#cam.relativeMove({ profileToken, x: t.pan ?? 0, y: t.tilt ?? 0, zoom: t.zoom ?? 0 } as never, cb as never));
  }

  /**
   * capabilities asks the head for its spaces (GetNodes: a relative pan-tilt translation space means it can turn by an
   * amount) and the lens for its moves and exposure (Imaging GetMoveOptions, GetImagingSettings). A service the device
   * lacks, or refuses, is a capability it does not offer.
   */
  async capabilities(sourceToken: string | undefined): Promise<PtzCapabilities> {
    let relative = false;
    try {
      const { xml } = await this.#callRaw('GetNodes', (cb) => this.#cam.getNodes(cb as never));
      const nodes = (await this.#body(xml, 'GetNodes')).GetNodesResponse?.[0] as { PTZNode?: Array<{ SupportedPTZSpaces?: Array<Record<string, unknown>> }> } | undefined;
      relative = (nodes?.PTZNode ?? []).some((n) => (n.SupportedPTZSpaces ?? []).some((s) => typeof s === 'object' && s.RelativePanTiltTranslationSpace !== undefined));
    } catch { /* no nodes answered: no relative moves */ }
    const imaging = !!(this.#cam as unknown as { uri?: Record<string, unknown> }).uri?.imaging;
    if (!imaging || !sourceToken) return { relative, focus: false, iris: false };
    this.#token(sourceToken, 'GetMoveOptions');
    let focus = false;
    try {
      const { xml } = await this.#callRaw('GetMoveOptions', (cb) => this.#cam.imagingGetMoveOptions({ token: sourceToken } as never, cb as never));
      const opts = (await this.#body(xml, 'GetMoveOptions')).GetMoveOptionsResponse?.[0] as { MoveOptions?: Array<Record<string, unknown>> } | undefined;
      focus = opts?.MoveOptions?.[0]?.Continuous !== undefined;
    } catch { /* no continuous focus */ }
    let iris: { min: number; max: number } | undefined;
    try {
      const settings = await this.imagingSettings(sourceToken);
      if (settings.iris !== undefined) iris = { min: settings.minIris ?? -22, max: settings.maxIris ?? 0 };
    } catch { /* no exposure settings */ }
    return { relative, focus, iris: iris !== undefined, ...(iris ? { irisRange: iris } : {}) };
  }

  /** imagingSettings reads the exposure's iris (dB, 0 fully open) and its range, read from the reply as written. */
  async imagingSettings(sourceToken: string): Promise<{ iris?: number; minIris?: number; maxIris?: number }> {
    this.#token(sourceToken, 'GetImagingSettings');
    const { xml } = await this.#callRaw('GetImagingSettings', (cb) => this.#cam.getImagingSettings({ token: sourceToken } as never, cb as never));
    const r = (await this.#body(xml, 'GetImagingSettings')).GetImagingSettingsResponse?.[0] as { ImagingSettings?: Array<{ Exposure?: Array<Record<string, unknown[]>> }> } | undefined;
    const e = r?.ImagingSettings?.[0]?.Exposure?.[0];
    return { iris: num(textOf(e?.Iris?.[0])), minIris: num(textOf(e?.MinIris?.[0])), maxIris: num(textOf(e?.MaxIris?.[0])) };
  }

  /** focusMove focuses continuously at a speed in [-1, 1] (negative nearer) until focusStop. */
  async focusMove(sourceToken: string, speed: number): Promise<void> {
    this.#token(sourceToken, 'Move');
    if (!Number.isFinite(speed) || speed < -1 || speed > 1 || speed === 0) throw new OnvifError('protocol', this.#label, 'Move', `focus speed ${speed} is outside [-1, 1] or 0`);
    await this.#call('Move', (cb) => this.#cam.imagingMove({ token: sourceToken, continuous: { speed } } as never, cb as never));
  }

  async focusStop(sourceToken: string): Promise<void> {
    this.#token(sourceToken, 'Stop');
    await this.#call('Stop', (cb) => this.#cam.imagingStop({ token: sourceToken } as never, cb as never));
  }

  /** focusPosition reads where the lens is focused (Imaging GetStatus), when the device says. */
  async focusPosition(sourceToken: string): Promise<number | undefined> {
    this.#token(sourceToken, 'GetStatus');
    const { xml } = await this.#callRaw('GetStatus', (cb) => this.#cam.imagingGetStatus({ token: sourceToken } as never, cb as never));
    const r = (await this.#body(xml, 'GetStatus')).GetStatusResponse?.[0] as { Status?: Array<{ FocusStatus20?: Array<{ Position?: unknown[] }> }> } | undefined;
    return num(textOf(r?.Status?.[0]?.FocusStatus20?.[0]?.Position?.[0]));
  }

  /**
   * setIris sets the exposure to manual with an iris (dB). The package leaves out a zero (fully open), so the request
   * is written here, numbers only.
   */
  async setIris(sourceToken: string, db: number): Promise<void> {
    this.#token(sourceToken, 'SetImagingSettings');
    if (!Number.isFinite(db) || db > 0 || db < -100) throw new OnvifError('protocol', this.#label, 'SetImagingSettings', `iris ${db} dB is outside [-100, 0]`);
    const cam = this.#cam as unknown as { _request: (o: { service: string; body: string }, cb: Callback) => void; _envelopeHeader: () => string; _envelopeFooter: () => string };
    const body = `${cam._envelopeHeader()}<SetImagingSettings xmlns="http://www.onvif.org/ver20/imaging/wsdl"><VideoSourceToken>${escapeXml(sourceToken)}</VideoSourceToken>`
      + `<ImagingSettings><Exposure xmlns="http://www.onvif.org/ver10/schema"><Mode>MANUAL</Mode><Iris>${db}</Iris></Exposure></ImagingSettings>`
      + `<ForcePersistence>false</ForcePersistence></SetImagingSettings>${cam._envelopeFooter()}`;
    await this.#call('SetImagingSettings', (cb) => cam._request({ service: 'imaging', body }, cb));
  }

  /** stop halts pan/tilt and zoom. */
  async stop(profileToken: string): Promise<void> {
    this.#ptz(profileToken, 'Stop');
    await this.#call('Stop', (cb) => this.#cam.stop({ profileToken, panTilt: true, zoom: true } as never, cb as never));
  }

  /** status reads the head's position and motion. */
  async status(profileToken: string): Promise<PtzStatus> {
    this.#ptz(profileToken, 'GetStatus');
    const s = await this.#call<{ position?: { x?: unknown; y?: unknown; zoom?: unknown }; moveStatus?: { panTilt?: unknown; zoom?: unknown } }>('GetStatus', (cb) => this.#cam.getStatus({ profileToken }, cb as never));
    return {
      pan: num(s?.position?.x) ?? 0, tilt: num(s?.position?.y) ?? 0, zoom: num(s?.position?.zoom) ?? 0,
      moving: { panTilt: s?.moveStatus?.panTilt === 'MOVING', zoom: s?.moveStatus?.zoom === 'MOVING' },
    };
  }

  /**
   * presets lists the stored positions in the device's order, read from the reply as written: the package keys its
   * result by preset name, so presets that share a name (or have none) would collapse into one.
   */
  async presets(profileToken: string): Promise<PtzPreset[]> {
    this.#ptz(profileToken, 'GetPresets');
    const { xml } = await this.#callRaw('GetPresets', (cb) => this.#cam.getPresets({ profileToken }, cb as never));
    const body = await this.#body(xml, 'GetPresets');
    if (!body.GetPresetsResponse) throw new OnvifError('protocol', this.#label, 'GetPresets', 'the answer holds no GetPresetsResponse');
    // An empty response element (no presets) reads as text, not as an element with children.
    const response = body.GetPresetsResponse[0] as { Preset?: unknown[] } | string;
    return ((typeof response === 'object' ? response.Preset : undefined) ?? []).map((p) => {
      const node = p as { $?: { token?: unknown }; Name?: unknown[] };
      return { token: String(node.$?.token ?? ''), name: textOf(node.Name?.[0]) };
    }).filter((p) => p.token !== '');
  }

  /** #body parses a reply's SOAP Body without the package's number and date guessing; names lose their prefixes. */
  async #body(xml: string, operation: string): Promise<Record<string, unknown[]>> {
    if (typeof xml !== 'string' || xml.length > MAX_REPLY_CHARS) throw new OnvifError('protocol', this.#label, operation, 'the answer is missing or too large');
    if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new OnvifError('protocol', this.#label, operation, 'the answer carries a DTD, which SOAP forbids');
    let doc: { Envelope?: { Body?: Array<Record<string, unknown[]>> } };
    try {
      doc = await parseStringPromise(xml, { tagNameProcessors: [processors.stripPrefix], attrNameProcessors: [processors.stripPrefix] }) as typeof doc;
    } catch (err) {
      throw new OnvifError('protocol', this.#label, operation, `the answer is not well-formed XML (${(err as Error).message.split('\n')[0]})`);
    }
    const body = doc?.Envelope?.Body?.[0];
    if (!body || typeof body !== 'object') throw new OnvifError('protocol', this.#label, operation, 'the answer is not a SOAP envelope with a Body');
    return body;
  }

  /** gotoPreset moves to a stored position. */
  async gotoPreset(profileToken: string, presetToken: string): Promise<void> {
    this.#ptz(profileToken, 'GotoPreset');
    this.#token(presetToken, 'GotoPreset');
    await this.#call('GotoPreset', (cb) => this.#cam.gotoPreset({ profileToken, preset: presetToken } as never, cb as never));
  }

  /** setPreset stores the current position under a name (a new preset, or presetToken's) and returns its token. */
  async setPreset(profileToken: string, name: string, presetToken?: string): Promise<string> {
    this.#ptz(profileToken, 'SetPreset');
    if (presetToken !== undefined) this.#token(presetToken, 'SetPreset');
    if (name.length < 1 || name.length > 64) throw new OnvifError('protocol', this.#label, 'SetPreset', 'a preset name is 1-64 characters');
    // The package writes the name into the XML as it is: escaped here.
    const r = await this.#call<unknown>('SetPreset', (cb) => this.#cam.setPreset({ profileToken, presetName: escapeXml(name), ...(presetToken ? { presetToken } : {}) } as never, cb as never));
    const token = (r as Array<{ setPresetResponse?: Array<{ presetToken?: unknown[] }> }>)?.[0]?.setPresetResponse?.[0]?.presetToken?.[0];
    if (token === undefined) throw new OnvifError('protocol', this.#label, 'SetPreset', 'the answer holds no preset token');
    return String(token);
  }

  #ptz(profileToken: string, operation: string): void {
    this.#token(profileToken, operation);
    if (!this.hasPtz) throw new OnvifError('unsupported', this.#label, operation, 'the device has no PTZ service');
  }

  #token(token: string, operation: string): void {
    if (!TOKEN.test(token)) throw new OnvifError('protocol', this.#label, operation, `token ${JSON.stringify(token)} is not 1-64 letters, digits, _ . : -`);
  }

  /** #call runs one call after the ones before it, within the timeout, and classifies its failure. */
  async #call<T>(operation: string, start: (cb: Callback) => void): Promise<T> {
    return (await this.#callRaw<T>(operation, start)).value;
  }

  /** #callRaw is #call that also gives the raw reply the package parsed. */
  #callRaw<T>(operation: string, start: (cb: Callback) => void): Promise<{ value: T; xml: string }> {
    const run = () => new Promise<{ value: T; xml: string }>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null, value?: T, xml?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#failCurrent = undefined;
        if (err) reject(this.#classify(operation, err, typeof xml === 'string' ? xml : undefined));
        else resolve({ value: value as T, xml: typeof xml === 'string' ? xml : '' });
      };
      const timer = setTimeout(() => settle(new OnvifError('timeout', this.#label, operation, `no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      this.#failCurrent = (err) => settle(new OnvifError('protocol', this.#label, operation, `the answer is not in the shape ONVIF defines (${err.message})`));
      try {
        start((err, value, xml) => settle(err, value as T, xml));
      } catch (err) {
        settle(err as Error);
      }
    });
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #classify(operation: string, err: Error, xml?: string): OnvifError {
    if (err instanceof OnvifError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    const m = err.message ?? String(err);
    // A SOAP fault names what went wrong in its subcodes (ter:InvalidArgVal / ter:NoProfile): they are what to go by.
    const subcodes = xml ? faultSubcodes(xml) : [];
    if (subcodes.length > 0) {
      const reason = m.replace(/^ONVIF SOAP Fault:\s*/, '').split('\n')[0]!.trim();
      const detail = `the device answered ${subcodes.join(' / ')}${reason ? ` (${reason})` : ''}`;
      if (subcodes.includes('ter:NotAuthorized')) return new OnvifError('unauthorized', this.#label, operation, 'the device refused the credentials');
      if (subcodes.some((s) => /ActionNotSupported|NotSupported$/.test(s))) return new OnvifError('unsupported', this.#label, operation, detail);
      return new OnvifError('fault', this.#label, operation, detail);
    }
    if (code && /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE/.test(code)) return new OnvifError('unreachable', this.#label, operation, `${code}`);
    if (/timeout/i.test(m)) return new OnvifError('timeout', this.#label, operation, `no answer within ${this.#timeoutMs} ms`);
    if (/not ?authori[sz]ed|401|authentication/i.test(m)) return new OnvifError('unauthorized', this.#label, operation, 'the device refused the credentials');
    if (/Wrong ONVIF SOAP response|Non-whitespace|Unexpected|Unclosed|Invalid character/i.test(m)) return new OnvifError('protocol', this.#label, operation, `the answer is not SOAP (${m.split('\n')[0]})`);
    if (/ActionNotSupported|not supported/i.test(m)) return new OnvifError('unsupported', this.#label, operation, m.split('\n')[0]!);
    return new OnvifError('fault', this.#label, operation, m.split('\n')[0]!);
  }
}

/** faultSubcodes reads the subcodes of a SOAP 1.2 fault, from general to particular (prefixes as the device wrote them). */
export function faultSubcodes(xml: string): string[] {
  const code = /<(?:[\w-]+:)?Code\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?Code>/.exec(xml.slice(0, 64 * 1024))?.[1];
  if (!code) return [];
  const values = [...code.matchAll(/<(?:[\w-]+:)?Value\b[^>]*>\s*([^<\s]{1,128})\s*<\//g)].map((v) => v[1]!);
  return values.slice(1);
}

/** DiscoveredDevice is a device that answered a WS-Discovery probe. */
export interface DiscoveredDevice {
  /** endpoint is the device's stable WS-Discovery address (urn:uuid:...). */
  endpoint: string;
  /** xaddrs are its device service addresses. */
  xaddrs: string[];
  scopes: string[];
  name?: string;
  hardware?: string;
  /** address is where the answer came from. */
  address: string;
}

/**
 * discover sends a WS-Discovery probe to the multicast group (239.255.255.250:3702) and gathers the answers for
 * timeoutMs. Devices behind a router that does not forward multicast are added by address instead.
 */
export function discover(opts: { timeoutMs?: number } = {}): Promise<DiscoveredDevice[]> {
  return new Promise((resolve, reject) => {
    const found: DiscoveredDevice[] = [];
    const onDevice = (data: unknown, rinfo: { address: string }) => {
      const match = (data as { probeMatches?: { probeMatch?: unknown } })?.probeMatches?.probeMatch;
      for (const m of (Array.isArray(match) ? match : [match]) as Array<{ endpointReference?: { address?: unknown }; XAddrs?: unknown; scopes?: unknown } | undefined>) {
        const endpoint = m?.endpointReference?.address;
        if (typeof endpoint !== 'string' || found.some((f) => f.endpoint === endpoint)) continue;
        const scopes = typeof m?.scopes === 'string' ? m.scopes.split(/\s+/).filter(Boolean) : [];
        const scope = (kind: string) => {
          const s = scopes.find((x) => x.startsWith(`onvif://www.onvif.org/${kind}/`));
          return s ? decodeURIComponent(s.slice(`onvif://www.onvif.org/${kind}/`.length)) : undefined;
        };
        found.push({
          endpoint, scopes, address: rinfo.address,
          xaddrs: typeof m?.XAddrs === 'string' ? m.XAddrs.split(/\s+/).filter((x) => /^https?:\/\//.test(x)) : [],
          name: scope('name'), hardware: scope('hardware'),
        });
      }
    };
    onvif.Discovery.on('device', onDevice);
    const discovery = onvif.Discovery as unknown as { removeListener(e: string, f: unknown): void; listenerCount(e: string): number; on(e: string, f: unknown): void };
    // The package emits 'error' for every answer it cannot read; without a listener that would throw.
    const onError = () => undefined;
    discovery.on('error', onError);
    onvif.Discovery.probe({ timeout: opts.timeoutMs ?? 3000, resolve: false }, (err: unknown) => {
      discovery.removeListener('device', onDevice);
      discovery.removeListener('error', onError);
      // Unreadable answers are not a failed probe; a socket that cannot send is.
      if (err && !Array.isArray(err)) reject(new Error(`WS-Discovery probe failed: ${(err as Error).message ?? String(err)}`));
      else resolve(found);
    });
  });
}
