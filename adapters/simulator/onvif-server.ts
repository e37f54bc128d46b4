// The farm's ONVIF side (Profile S): Device, Media and PTZ services over SOAP 1.2 with WS-UsernameToken, snapshots over
// HTTP Digest, and answers to WS-Discovery probes. Each camera has its own service paths, /onvif/<id>/<service>; the
// PTZ commands move a head whose position GetStatus reports.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Profile } from '../core/types.js';
import { CAMERA_ID, type CameraFarm } from './camera-farm.js';
import { CLIP_SPECS } from './clip-maker.js';
import { DigestAuth } from './digest.js';
import { MAX_PRESETS, PtzHead } from './ptz-state.js';
import { IRIS_RANGE, Lens } from './imaging-state.js';
import { escapeXml } from '../core/xml.js';
import { attr, deepField, envelope, faultEnvelope, field, MAX_SOAP_BYTES, NS, parseSoap, passwordDigest, sameDigest, SoapFault, type SoapRequest } from './soap.js';

/** WS_DISCOVERY is the multicast group and port of WS-Discovery. */
export const WS_DISCOVERY = { address: '239.255.255.250', port: 3702 };

/** PROFILE_TOKENS are the media profile tokens, as a common Chinese camera names them: not "main" and "sub". */
export const PROFILE_TOKENS: Record<Profile, string> = { main: 'Profile_1', sub: 'Profile_2' };
const PROFILE_OF: Record<string, Profile> = { Profile_1: 'main', Profile_2: 'sub' };

/** PRE_AUTH operations answer without credentials (ONVIF Core, access class PRE_AUTH). */
const PRE_AUTH = new Set(['GetSystemDateAndTime', 'GetCapabilities', 'GetServices', 'GetServiceCapabilities', 'GetWsdlUrl', 'GetEndpointReference']);
/** CLOCK_SKEW_MS is how far a UsernameToken's Created may be from the device clock. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** OnvifServerOptions configure the server. */
export interface OnvifServerOptions {
  host: string;
  port: number;
  farm: CameraFarm;
  /** rtspPort is where the farm's RTSP server listens (known once it listens). */
  rtspPort: () => number;
  /** syncPoint asks the camera's sessions of a profile for a keyframe now (SetSynchronizationPoint). */
  syncPoint?: (camera: string, profile: Profile) => void;
  /** snapshots are the JPEG each profile returns. */
  snapshots: Record<Profile, Buffer>;
  /** discovery answers WS-Discovery probes on this UDP port (3702 for the real thing) for these camera ids. */
  discovery?: { port: number; cameras: string[] };
  /** defaultCamera answers at the stock paths (/onvif/device_service, ...): the first discoverable one by default. */
  defaultCamera?: string;
  now?: () => number;
}

/** OnvifServer serves the ONVIF services of every camera of the farm. Events are not emitted: it is a device. */
export class OnvifServer {
  #opts: OnvifServerOptions;
  #http: Server;
  #udp?: UdpSocket;
  #sockets = new Set<Socket>();
  #heads = new Map<string, PtzHead>();
  #lenses = new Map<string, Lens>();
  #nonces = new Map<string, number>();
  // HTTP Digest as RFC 7616 writes it for snapshots: qop=auth offered.
  #digest = new DigestAuth('SharpEyes-Simulator', { qop: true });
  #now: () => number;
  #defaultCamera: string;
  #bootId = Math.floor(Date.now() / 1000) >>> 0;
  #messageNumber = 0;

  constructor(opts: OnvifServerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#defaultCamera = opts.defaultCamera ?? opts.discovery?.cameras[0] ?? 'SIM-DEFAULT';
    this.#http = createServer((req, res) => void this.#onRequest(req, res));
    this.#http.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** listen opens the HTTP port and, when configured, the discovery socket. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#opts.port, this.#opts.host, () => resolve());
    });
    const d = this.#opts.discovery;
    if (d) {
      const udp = createSocket({ type: 'udp4', reuseAddr: true });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(d.port, () => resolve());
      });
      try {
        udp.addMembership(WS_DISCOVERY.address);
      } catch {
        // Without a multicast route the farm still answers probes sent to it directly.
      }
      udp.on('message', (msg, rinfo) => void this.#onProbe(msg, rinfo.address, rinfo.port));
      udp.on('error', () => undefined);
      this.#udp = udp;
    }
  }

  /** port is the HTTP port. */
  get port(): number {
    const a = this.#http.address();
    return a && typeof a !== 'string' ? a.port : this.#opts.port;
  }

  /** deviceUrl is a camera's device service address. */
  deviceUrl(camera: string): string {
    return `http://${this.#opts.host}:${this.port}/onvif/${camera}/device_service`;
  }

  /** lens returns the lens (focus and iris) of a camera. */
  lens(camera: string): Lens {
    let l = this.#lenses.get(camera);
    if (!l) {
      l = new Lens(this.#now);
      this.#lenses.set(camera, l);
    }
    return l;
  }

  /** #source checks an Imaging request's VideoSourceToken: the device has one video source. */
  #source(req: SoapRequest): void {
    const token = field(req.body, 'VideoSourceToken');
    if (token !== 'VideoSource_1') throw new SoapFault(400, 'env:Sender', ['ter:InvalidArgVal', 'ter:NoSource'], `no video source ${JSON.stringify(token ?? '')}`);
  }

  /** head returns the PTZ head of a camera. */
  head(camera: string): PtzHead {
    let h = this.#heads.get(camera);
    if (!h) {
      h = new PtzHead(this.#now);
      this.#heads.set(camera, h);
    }
    return h;
  }

  /** close stops listening and ends every connection. */
  async close(): Promise<void> {
    this.#udp?.close();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    // A camera's own services are at /onvif/<id>/<service>; the paths every stock client tries first
    // (/onvif/device_service, ...) are those of the farm's default device, as a real camera has only one.
    const stock = /^\/onvif\/(device_service|media_service|ptz_service|imaging_service)$/.exec(path);
    const m = stock ? ['', 'onvif', this.#defaultCamera, stock[1]!] as const : /^\/(onvif|snapshot)\/([^/]+)\/([^/?]+)$/.exec(path);
    const camera = m?.[2];
    if (!m || !camera || !CAMERA_ID.test(camera)) {
      res.writeHead(404).end();
      return;
    }
    const faults = this.#opts.farm.faults(camera);
    if (faults.offline) {
      req.socket.destroy();
      return;
    }
    if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
    if (m[1] === 'snapshot') return this.#snapshot(req, res, camera, m[3]!);
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof SoapFault) return this.#fault(res, err);
      req.socket.destroy();
      return;
    }
    try {
      const request = await parseSoap(body);
      this.#authorize(camera, request);
      const answer = this.#dispatch(m[3]!, camera, request);
      res.writeHead(200, { 'content-type': 'application/soap+xml; charset=utf-8' }).end(envelope(answer));
    } catch (err) {
      if (err instanceof SoapFault) return this.#fault(res, err);
      return this.#fault(res, new SoapFault(500, 'env:Receiver', 'ter:Action', 'the device failed to do it'));
    }
  }

  #fault(res: ServerResponse, f: SoapFault): void {
    if (!res.headersSent) res.writeHead(f.status, { 'content-type': 'application/soap+xml; charset=utf-8' }).end(faultEnvelope(f));
  }

  #authorize(camera: string, req: SoapRequest): void {
    if (PRE_AUTH.has(req.operation)) return;
    const t = req.token;
    // One answer for every refusal, as ONVIF Core says: it must not tell an unknown user from a wrong password.
    const notAuthorized = () => new SoapFault(400, 'env:Sender', 'ter:NotAuthorized', 'Sender not Authorized');
    if (!t) throw notAuthorized();
    const farm = this.#opts.farm;
    const password = farm.passwordOf(camera);
    // The digest is checked even for an unknown user, so that timing tells nothing either.
    const known = t.username === farm.username;
    if (t.passwordType === 'text') {
      if (!sameDigest(t.password, password) || !known) throw notAuthorized();
      return;
    }
    if (!t.nonce || !t.created) throw notAuthorized();
    const created = Date.parse(t.created);
    if (!Number.isFinite(created) || Math.abs(created - this.#now()) > CLOCK_SKEW_MS) throw notAuthorized();
    if (!sameDigest(t.password, passwordDigest(t.nonce, t.created, password)) || !known) throw notAuthorized();
    // A nonce is accepted once: a replayed request is refused.
    const key = `${camera}:${t.nonce}`;
    this.#pruneNonces();
    if (this.#nonces.has(key)) throw notAuthorized();
    this.#nonces.set(key, this.#now() + CLOCK_SKEW_MS * 2);
  }

  #pruneNonces(): void {
    if (this.#nonces.size < 10_000) return;
    const now = this.#now();
    for (const [k, until] of this.#nonces) if (until < now) this.#nonces.delete(k);
  }

  #dispatch(service: string, camera: string, req: SoapRequest): string {
    const base = camera === this.#defaultCamera ? `http://${this.#opts.host}:${this.port}/onvif` : `http://${this.#opts.host}:${this.port}/onvif/${camera}`;
    const profile = () => {
      const token = field(req.body, 'ProfileToken');
      const p = token === undefined ? undefined : PROFILE_OF[token];
      if (!p) throw new SoapFault(400, 'env:Sender', ['ter:InvalidArgVal', 'ter:NoProfile'], `no media profile ${JSON.stringify(token ?? '')}`);
      return p;
    };
    switch (`${service}:${req.operation}`) {
      case 'device_service:GetSystemDateAndTime': {
        const d = new Date(this.#now());
        return `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>`
          + `<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>`
          + `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`;
      }
      case 'device_service:GetDeviceInformation':
        return `<tds:GetDeviceInformationResponse><tds:Manufacturer>SharpEyes</tds:Manufacturer><tds:Model>SE-SIM-D1</tds:Model>`
          + `<tds:FirmwareVersion>V1.0.0 build 261122</tds:FirmwareVersion><tds:SerialNumber>${escapeXml(camera)}</tds:SerialNumber><tds:HardwareId>SE-SIM</tds:HardwareId></tds:GetDeviceInformationResponse>`;
      case 'device_service:GetCapabilities':
        return `<tds:GetCapabilitiesResponse><tds:Capabilities>`
          + `<tt:Device><tt:XAddr>${base}/device_service</tt:XAddr></tt:Device>`
          + `<tt:Imaging><tt:XAddr>${base}/imaging_service</tt:XAddr></tt:Imaging>`
          + `<tt:Media><tt:XAddr>${base}/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>`
          + `<tt:PTZ><tt:XAddr>${base}/ptz_service</tt:XAddr></tt:PTZ>`
          + `</tds:Capabilities></tds:GetCapabilitiesResponse>`;
      case 'device_service:GetServices': {
        const svc = (ns: string, path: string, major: number, minor: number) =>
          `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${base}/${path}</tds:XAddr><tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
        return `<tds:GetServicesResponse>${svc(NS.tds, 'device_service', 2, 60)}${svc(NS.trt, 'media_service', 2, 60)}${svc(NS.tptz, 'ptz_service', 2, 60)}${svc(NS.timg, 'imaging_service', 2, 60)}</tds:GetServicesResponse>`;
      }
      case 'media_service:GetVideoSources':
        return `<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1"><tt:Framerate>25</tt:Framerate><tt:Resolution><tt:Width>1280</tt:Width><tt:Height>720</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;
      case 'media_service:GetProfiles':
        return `<trt:GetProfilesResponse>${(['main', 'sub'] as Profile[]).map((p) => profileXml(p)).join('')}</trt:GetProfilesResponse>`;
      case 'media_service:GetStreamUri': {
        const p = profile();
        return `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://${this.#opts.host}:${this.#opts.rtspPort()}/cam/${escapeXml(camera)}/${p}</tt:Uri>`
          + `<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`;
      }
      case 'media_service:SetSynchronizationPoint': {
        // ONVIF Media (ver10) 5.16: the device inserts an I-frame into the profile's stream as soon as it can.
        this.#opts.syncPoint?.(camera, profile());
        return '<trt:SetSynchronizationPointResponse/>';
      }
      case 'media_service:GetSnapshotUri': {
        const p = profile();
        return `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>http://${this.#opts.host}:${this.port}/snapshot/${escapeXml(camera)}/${p}.jpg</tt:Uri>`
          + `<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`;
      }
      case 'ptz_service:ContinuousMove': {
        profile();
        const num = (path: string[], name: string) => unitAttr(req, path, name, 'ter:InvalidVelocity');
        const timeout = field(req.body, 'Timeout');
        this.head(camera).continuousMove({ pan: num(['Velocity', 'PanTilt'], 'x'), tilt: num(['Velocity', 'PanTilt'], 'y'), zoom: num(['Velocity', 'Zoom'], 'x') }, timeout ? durationMs(timeout) : undefined);
        return '<tptz:ContinuousMoveResponse/>';
      }
      case 'ptz_service:RelativeMove': {
        profile();
        const num = (path: string[], name: string) => unitAttr(req, path, name, 'ter:InvalidTranslation');
        this.head(camera).relativeMove({ pan: num(['Translation', 'PanTilt'], 'x'), tilt: num(['Translation', 'PanTilt'], 'y'), zoom: num(['Translation', 'Zoom'], 'x') });
        return '<tptz:RelativeMoveResponse/>';
      }
      case 'ptz_service:GetNodes': {
        const range = (min: number, max: number) => `<tt:Min>${min}</tt:Min><tt:Max>${max}</tt:Max>`;
        const space = (tag: string, uri: string, y = true) => `<tt:${tag}><tt:URI>${uri}</tt:URI><tt:XRange>${range(-1, 1)}</tt:XRange>${y ? `<tt:YRange>${range(-1, 1)}</tt:YRange>` : ''}</tt:${tag}>`;
        return `<tptz:GetNodesResponse><tptz:PTZNode token="PTZNode_1" FixedHomePosition="false"><tt:Name>PTZ</tt:Name><tt:SupportedPTZSpaces>`
          + space('RelativePanTiltTranslationSpace', 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace')
          + space('RelativeZoomTranslationSpace', 'http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace', false)
          + space('ContinuousPanTiltVelocitySpace', 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace')
          + space('ContinuousZoomVelocitySpace', 'http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace', false)
          + `</tt:SupportedPTZSpaces><tt:MaximumNumberOfPresets>${MAX_PRESETS}</tt:MaximumNumberOfPresets><tt:HomeSupported>false</tt:HomeSupported></tptz:PTZNode></tptz:GetNodesResponse>`;
      }
      case 'imaging_service:GetImagingSettings': {
        this.#source(req);
        const l = this.lens(camera);
        return `<timg:GetImagingSettingsResponse><timg:ImagingSettings><tt:Exposure><tt:Mode>MANUAL</tt:Mode><tt:MinIris>${IRIS_RANGE.min}</tt:MinIris><tt:MaxIris>${IRIS_RANGE.max}</tt:MaxIris>`
          + `<tt:Iris>${l.iris()}</tt:Iris></tt:Exposure><tt:Focus><tt:AutoFocusMode>MANUAL</tt:AutoFocusMode></tt:Focus></timg:ImagingSettings></timg:GetImagingSettingsResponse>`;
      }
      case 'imaging_service:SetImagingSettings': {
        this.#source(req);
        const iris = deepField(req.body, ['ImagingSettings', 'Exposure', 'Iris']);
        if (iris !== undefined) {
          try {
            this.lens(camera).setIris(Number(iris));
          } catch (err) {
            throw new SoapFault(400, 'env:Sender', ['ter:InvalidArgVal', 'ter:SettingsInvalid'], (err as Error).message);
          }
        }
        return '<timg:SetImagingSettingsResponse/>';
      }
      case 'imaging_service:GetMoveOptions':
        this.#source(req);
        return '<timg:GetMoveOptionsResponse><timg:MoveOptions><tt:Continuous><tt:Speed><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:Speed></tt:Continuous></timg:MoveOptions></timg:GetMoveOptionsResponse>';
      case 'imaging_service:Move': {
        this.#source(req);
        const speed = deepField(req.body, ['Focus', 'Continuous', 'Speed']);
        const n = Number(speed);
        if (speed === undefined || !Number.isFinite(n) || n < -1 || n > 1) throw new SoapFault(400, 'env:Sender', ['ter:InvalidArgVal', 'ter:NoImagingForSource'], `Focus/Continuous/Speed ${JSON.stringify(speed ?? '')} is not in [-1, 1] (this lens moves continuously only)`);
        this.lens(camera).move(n);
        return '<timg:MoveResponse/>';
      }
      case 'imaging_service:Stop':
        this.#source(req);
        this.lens(camera).stop();
        return '<timg:StopResponse/>';
      case 'imaging_service:GetStatus': {
        this.#source(req);
        const l = this.lens(camera);
        return `<timg:GetStatusResponse><timg:Status><tt:FocusStatus20><tt:Position>${l.focus().toFixed(4)}</tt:Position><tt:MoveStatus>${l.moving() ? 'MOVING' : 'IDLE'}</tt:MoveStatus></tt:FocusStatus20></timg:Status></timg:GetStatusResponse>`;
      }
      case 'ptz_service:Stop': {
        profile();
        const pt = field(req.body, 'PanTilt');
        const z = field(req.body, 'Zoom');
        this.head(camera).stop(pt === undefined || pt === 'true', z === undefined || z === 'true');
        return '<tptz:StopResponse/>';
      }
      case 'ptz_service:GetStatus': {
        profile();
        const h = this.head(camera);
        const pos = h.position();
        const moving = h.moving();
        return `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position>${positionXml(pos)}</tt:Position>`
          + `<tt:MoveStatus><tt:PanTilt>${moving.panTilt ? 'MOVING' : 'IDLE'}</tt:PanTilt><tt:Zoom>${moving.zoom ? 'MOVING' : 'IDLE'}</tt:Zoom></tt:MoveStatus>`
          + `<tt:UtcTime>${new Date(this.#now()).toISOString()}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`;
      }
      case 'ptz_service:GetPresets': {
        profile();
        return `<tptz:GetPresetsResponse>${this.head(camera).presets().map((p) => `<tptz:Preset token="${escapeXml(p.token)}"><tt:Name>${escapeXml(p.name)}</tt:Name><tt:PTZPosition>${positionXml(p.position)}</tt:PTZPosition></tptz:Preset>`).join('')}</tptz:GetPresetsResponse>`;
      }
      case 'ptz_service:GotoPreset': {
        profile();
        const token = field(req.body, 'PresetToken') ?? '';
        try {
          this.head(camera).gotoPreset(token);
        } catch {
          throw new SoapFault(400, 'env:Sender', ['ter:InvalidArgVal', 'ter:NoToken'], `no preset ${JSON.stringify(token)}`);
        }
        return '<tptz:GotoPresetResponse/>';
      }
      case 'ptz_service:SetPreset': {
        profile();
        const name = field(req.body, 'PresetName') ?? '';
        if (!name || name.length > 64) throw new SoapFault(400, 'env:Sender', ['ter:InvalidArgVal', 'ter:InvalidPresetName'], 'the name must be 1-64 characters');
        try {
          const token = this.head(camera).setPreset(name, field(req.body, 'PresetToken'));
          return `<tptz:SetPresetResponse><tptz:PresetToken>${escapeXml(token)}</tptz:PresetToken></tptz:SetPresetResponse>`;
        } catch (err) {
          const full = /at most/.test((err as Error).message);
          throw new SoapFault(400, full ? 'env:Receiver' : 'env:Sender', full ? ['ter:Action', 'ter:TooManyPresets'] : ['ter:InvalidArgVal', 'ter:NoToken'], (err as Error).message);
        }
      }
      default:
        throw new SoapFault(400, 'env:Receiver', 'ter:ActionNotSupported', `${req.operation} is not supported by the ${service.replace('_service', '')} service of this device`);
    }
  }

  #snapshot(req: IncomingMessage, res: ServerResponse, camera: string, file: string): void {
    const profile = file === 'main.jpg' ? 'main' : file === 'sub.jpg' ? 'sub' : undefined;
    if (!profile || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    const farm = this.#opts.farm;
    if (!this.#digest.verify(req.headers.authorization, 'GET', farm.username, farm.passwordOf(camera))) {
      res.writeHead(401, { 'www-authenticate': this.#digest.challenge() }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': this.#opts.snapshots[profile].length }).end(this.#opts.snapshots[profile]);
  }

  async #onProbe(msg: Buffer, address: string, port: number): Promise<void> {
    const d = this.#opts.discovery;
    if (!d || msg.length > MAX_SOAP_BYTES) return;
    let probe: SoapRequest;
    try {
      probe = await parseSoap(msg.toString('utf8'));
    } catch {
      return; // Not ours to answer: WS-Discovery ignores what it cannot read.
    }
    if (probe.operation !== 'Probe') return;
    const types = field(probe.body, 'Types') ?? '';
    if (types && !/NetworkVideoTransmitter|Device/.test(types)) return;
    for (const camera of d.cameras) {
      if (this.#opts.farm.faults(camera).offline) continue;
      const answer = envelope(
        `<d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference><wsa:Address>${endpointOf(camera)}</wsa:Address></wsa:EndpointReference>`
        + `<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>`
        + `<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/type/ptz onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/hardware/SE-SIM-D1 onvif://www.onvif.org/name/SharpEyes_${escapeXml(camera)} onvif://www.onvif.org/location/country/china</d:Scopes>`
        + `<d:XAddrs>${this.deviceUrl(camera)}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>`,
        `<wsa:MessageID>uuid:${randomish(camera + Date.now())}</wsa:MessageID>${probe.messageId ? `<wsa:RelatesTo>${escapeXml(probe.messageId)}</wsa:RelatesTo>` : ''}`
        + `<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>`
        // WS-Discovery 2005/04, 7.1: a ProbeMatches carries the device's AppSequence (instance, message number).
        + `<d:AppSequence InstanceId="${this.#bootId}" MessageNumber="${++this.#messageNumber}"/>`,
      );
      this.#udp?.send(answer, port, address);
    }
  }
}

function profileXml(p: Profile): string {
  const spec = CLIP_SPECS[p];
  const token = PROFILE_TOKENS[p];
  return `<trt:Profiles token="${token}" fixed="true"><tt:Name>${p === 'main' ? 'MainStream' : 'SubStream'}</tt:Name>`
    + `<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="1280" height="720"/></tt:VideoSourceConfiguration>`
    + `<tt:VideoEncoderConfiguration token="VideoEncoder_${p === 'main' ? 1 : 2}"><tt:Name>VideoEncoder_${p === 'main' ? 1 : 2}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>`
    + `<tt:Resolution><tt:Width>${spec.width}</tt:Width><tt:Height>${spec.height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>`
    + `<tt:RateControl><tt:FrameRateLimit>${spec.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${Math.round(spec.bitrateKbps)}</tt:BitrateLimit></tt:RateControl>`
    + `<tt:H264><tt:GovLength>${spec.fps * 2}</tt:GovLength><tt:H264Profile>${p === 'main' ? 'High' : 'Main'}</tt:H264Profile></tt:H264>`
    // Multicast is required before SessionTimeout even for a camera that streams unicast only (ONVIF Media 5.2).
    + `<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>`
    + `<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>`
    + `<tt:PTZConfiguration token="PTZConfig_1"><tt:Name>PTZConfig_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:NodeToken>PTZNode_1</tt:NodeToken>`
    + `<tt:DefaultContinuousPanTiltVelocitySpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:DefaultContinuousPanTiltVelocitySpace>`
    + `<tt:DefaultContinuousZoomVelocitySpace>http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace</tt:DefaultContinuousZoomVelocitySpace>`
    + `<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout></tt:PTZConfiguration></trt:Profiles>`;
}

/** unitAttr reads a vector's attribute (e.g. Velocity/PanTilt@x) in [-1, 1]; outside it, a fault with the subcode. */
function unitAttr(req: SoapRequest, path: string[], name: string, subcode: string): number | undefined {
  const v = attr(req.body, path, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < -1 || n > 1) throw new SoapFault(400, 'env:Sender', ['ter:InvalidArgVal', subcode], `${path.join('/')}@${name}=${JSON.stringify(v)} is outside [-1, 1]`);
  return n;
}

function positionXml(p: { pan: number; tilt: number; zoom: number }): string {
  return `<tt:PanTilt x="${p.pan.toFixed(4)}" y="${p.tilt.toFixed(4)}" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"/>`
    + `<tt:Zoom x="${p.zoom.toFixed(4)}" space="http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"/>`;
}

/** durationMs reads an xs:duration of the PTnS / PTnMnS kind. */
export function durationMs(d: string): number {
  const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(d);
  if (!m || d === 'PT') throw new SoapFault(400, 'env:Sender', 'ter:InvalidArgVal', `Timeout ${JSON.stringify(d)} is not a duration like PT1.5S`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** endpointOf is a camera's stable WS-Discovery address. */
export function endpointOf(camera: string): string {
  return `urn:uuid:${randomish(camera)}`;
}

function randomish(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SOAP_BYTES) throw new SoapFault(413, 'env:Sender', 'ter:WellFormed', `the request exceeds ${MAX_SOAP_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
