// The ONVIF adapter against captured device replies (test/fixtures/onvif), served by a plain HTTP server, and against
// replies no device should send: each fails the one call with a named error and the process carries on.
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnvifDevice, OnvifError } from '../../../adapters/onvif/onvif-client.js';
import { ROOT } from '../../support/harness.js';

const DIR = join(ROOT, 'test/fixtures/onvif');
const fixtures = Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.xml')).map((f) => [f.replace(/\.xml$/, ''), readFileSync(join(DIR, f), 'utf8')]));
/** overrides replaces the answer to an operation (status and body) for one test. */
const overrides = new Map<string, { status: number; body: string }>();
const seen: string[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      const op = /<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)/.exec(body)?.[1] ?? '';
      seen.push(op);
      const o = overrides.get(op);
      if (o) return res.writeHead(o.status, { 'content-type': 'application/soap+xml' }).end(o.body);
      const f = fixtures[op];
      if (!f) return res.writeHead(400, { 'content-type': 'application/soap+xml' }).end(fixtures['Fault-NoProfile']);
      res.writeHead(200, { 'content-type': 'application/soap+xml' }).end(f);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/onvif/device_service`;
});
afterAll(async () => { await new Promise((r) => server.close(r)); });

const connect = () => OnvifDevice.connect({ url, credentials: { username: 'admin', password: 'x' }, timeoutMs: 2000 });

describe('captured replies', () => {
  it('reads every answer the adapter relies on', async () => {
    const d = await connect();
    expect(d.hasPtz).toBe(true);
    expect(await d.deviceInformation()).toMatchObject({ manufacturer: 'SharpEyes', serialNumber: 'CAM1' });
    const p = await d.streamProfiles();
    expect([p.main?.token, p.sub?.token]).toEqual(['Profile_1', 'Profile_2']);
    expect(await d.streamUri('Profile_1')).toBe('rtsp://192.168.1.64:80/cam/CAM1/main');
    expect(await d.snapshotUri('Profile_1')).toBe('http://192.168.1.64:80/snapshot/CAM1/main.jpg');
    expect(await d.status('Profile_1')).toEqual({ pan: 0.05, tilt: 0, zoom: 0, moving: { panTilt: false, zoom: false } });
    expect(await d.presets('Profile_1')).toEqual([{ token: '1', name: '东门' }]);
    expect(await d.setPreset('Profile_1', '北门')).toBe('2');
    await d.continuousMove('Profile_1', { pan: 0.5 });
    await d.stop('Profile_1');
    await d.gotoPreset('Profile_1', '1');
    expect(seen).toEqual(expect.arrayContaining(['GetSystemDateAndTime', 'GetCapabilities', 'GetProfiles', 'ContinuousMove', 'Stop', 'GotoPreset']));
  });

  it('turns a SOAP fault into an error that says what the device said', async () => {
    overrides.set('GetDeviceInformation', { status: 400, body: fixtures['Fault-NotAuthorized']! });
    try {
      const err = await connect().then((d) => d.deviceInformation()).catch((e: unknown) => e as OnvifError);
      expect(err).toBeInstanceOf(OnvifError);
      expect(err).toMatchObject({ kind: 'unauthorized', operation: 'GetDeviceInformation' });
    } finally {
      overrides.clear();
    }
  });
});

/** envelopeOf wraps a body as a device writes its answers (namespaces declared on the envelope). */
const envelopeOf = (body: string) => '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
  + 'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">'
  + `<env:Body>${body}</env:Body></env:Envelope>`;

describe('what a real dome camera answers', () => {
  it('keeps every preset, in order, whatever their names: shared, empty, digits, a leading zero', async () => {
    // A typical Chinese dome camera: 46 presets, tokens 1..46 with one written "05", several named alike or unnamed.
    const names = Array.from({ length: 46 }, (_, i) => (i < 10 ? `预置点${i + 1}` : i < 20 ? '巡航点' : i < 30 ? '' : i < 40 ? '01' : `门口 ${i}`));
    const tokens = names.map((_, i) => (i === 4 ? '05' : String(i + 1)));
    const presets = names.map((n, i) => `<tptz:Preset token="${tokens[i]}">${n === '' ? '<tt:Name></tt:Name>' : `<tt:Name>${n}</tt:Name>`}`
      + '<tt:PTZPosition><tt:PanTilt x="0.1" y="0.2"/><tt:Zoom x="0"/></tt:PTZPosition></tptz:Preset>').join('');
    overrides.set('GetPresets', { status: 200, body: envelopeOf(`<tptz:GetPresetsResponse>${presets}</tptz:GetPresetsResponse>`) });
    try {
      const got = await (await connect()).presets('Profile_1');
      expect(got).toHaveLength(46);
      expect(got).toEqual(names.map((name, i) => ({ token: tokens[i], name })));
    } finally {
      overrides.clear();
    }
  });

  it('keeps profile tokens as written: "001" is not 1', async () => {
    overrides.set('GetProfiles', { status: 200, body: fixtures.GetProfiles!.replaceAll('Profile_1', '001').replaceAll('Profile_2', '002') });
    try {
      const p = await (await connect()).streamProfiles();
      expect([p.main?.token, p.sub?.token]).toEqual(['001', '002']);
      expect(p.main).toMatchObject({ width: 1280, height: 720, encoding: 'H264', fps: 25 });
    } finally {
      overrides.clear();
    }
  });

  it('reads a 20-digit GB/T 28181 serial number digit for digit (two devices, two serials)', async () => {
    const info = (serial: string) => envelopeOf('<tds:GetDeviceInformationResponse><tds:Manufacturer>HIKVISION</tds:Manufacturer><tds:Model>DS-2DE4425IW-DE</tds:Model>'
      + `<tds:FirmwareVersion>V5.7.3 build 220112</tds:FirmwareVersion><tds:SerialNumber>${serial}</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>`);
    const d = await connect();
    try {
      const seen = [];
      for (const serial of ['34020000001320000001', '34020000001320000002']) {
        overrides.set('GetDeviceInformation', { status: 200, body: info(serial) });
        seen.push(await d.deviceInformation());
      }
      expect(seen.map((x) => x.serialNumber)).toEqual(['34020000001320000001', '34020000001320000002']);
      expect(seen[0]).toEqual({ manufacturer: 'HIKVISION', model: 'DS-2DE4425IW-DE', firmwareVersion: 'V5.7.3 build 220112', serialNumber: '34020000001320000001', hardwareId: '88' });
    } finally {
      overrides.clear();
    }
  });
});

describe('replies no device should send', () => {
  it.each([
    ['GetProfiles', 200, fixtures.GetStatus!, /GetProfiles failed/],
    ['GetProfiles', 200, '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><GetProfilesResponse/></env:Body></env:Envelope>', /GetProfiles failed: the answer is not in the shape ONVIF defines/],
    ['GetDeviceInformation', 200, '<html><body>Login</body></html>', /GetDeviceInformation failed/],
    ['GetStreamUri', 200, '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><GetStreamUriRes', /GetStreamUri failed/],
    ['GetStreamUri', 200, fixtures.GetStreamUri!.replace('rtsp://', 'ftp://'), /GetStreamUri failed: the answer holds no rtsp:\/\/ address/],
  ])('%s answered with %s and a broken body fails that call only', async (op, status, body, message) => {
    const d = await connect();
    overrides.set(op, { status, body });
    try {
      const call = op === 'GetProfiles' ? d.profiles() : op === 'GetStreamUri' ? d.streamUri('Profile_1') : d.deviceInformation();
      await expect(call).rejects.toThrow(message);
    } finally {
      overrides.clear();
    }
    // The same device keeps answering the next call.
    expect((await d.status('Profile_1')).pan).toBe(0.05);
  });
});
