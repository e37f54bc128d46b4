// Every reply of the simulator's ONVIF services, faults and WS-Discovery answers included, validated by xmllint (a
// validator no one here wrote) against the ONVIF message and type constraints in test/fixtures/onvif/schema, and the
// captured fixtures with them: a strict client (gSOAP, zeep, Milestone) must accept what the farm says.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../adapters/simulator/simulator.js';
import { digestResponse, parseAuthParams } from '../../../adapters/core/digest.js';
import { OnvifDevice } from '../../../adapters/onvif/onvif-client.js';
import { ROOT, SIM_PASSWORD, SIM_USER, startSimulator, tempDir } from '../../support/harness.js';

const SCHEMA = join(ROOT, 'test/fixtures/onvif/schema/replies.xsd');
const FIXTURES = join(ROOT, 'test/fixtures/onvif');
const tag = randomBytes(3).toString('hex');
const DEFAULT = `SCHEMA-${tag}`;
let sim: Simulator;
const dir = tempDir();
beforeAll(async () => { sim = await startSimulator({ discoverable: [DEFAULT] }); });
afterAll(async () => {
  await sim?.close();
  dir.remove();
});

/** validate runs xmllint on a reply and returns its complaints (empty when the reply is valid). */
function validate(name: string, xml: string): string[] {
  const file = join(dir.path, `${name}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', SCHEMA, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint cannot run (${r.error.message}): install Debian's libxml2-utils (npm test's setup does)`);
  return r.status === 0 ? [] : r.stderr.split('\n').filter((l) => l.includes('error')).map((l) => l.replace(file, name));
}

const ns = {
  tds: 'http://www.onvif.org/ver10/device/wsdl', trt: 'http://www.onvif.org/ver10/media/wsdl', tptz: 'http://www.onvif.org/ver20/ptz/wsdl', tt: 'http://www.onvif.org/ver10/schema',
  timg: 'http://www.onvif.org/ver20/imaging/wsdl',
};

/** soap builds a request as stock clients write it, with a WS-Security UsernameToken (PasswordDigest). */
function soap(body: string, user = SIM_USER, password = SIM_PASSWORD): string {
  const nonce = randomBytes(16);
  const created = new Date().toISOString();
  const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="${ns.tds}" xmlns:trt="${ns.trt}" xmlns:tptz="${ns.tptz}" xmlns:timg="${ns.timg}" xmlns:tt="${ns.tt}">`
    + '<s:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>'
    + `<Username>${user}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>`
    + `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>`
    + `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created></UsernameToken></Security></s:Header>`
    + `<s:Body>${body}</s:Body></s:Envelope>`;
}

async function call(path: string, body: string, user?: string, password?: string): Promise<{ status: number; xml: string }> {
  const res = await fetch(`http://127.0.0.1:${sim.onvif!.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, body: soap(body, user, password) });
  return { status: res.status, xml: await res.text() };
}

const camera = 'sch-1';
const at = (service: string) => `/onvif/${camera}/${service}`;
const REQUESTS: Array<[string, string, string]> = [
  ['GetSystemDateAndTime', at('device_service'), '<tds:GetSystemDateAndTime/>'],
  ['GetDeviceInformation', at('device_service'), '<tds:GetDeviceInformation/>'],
  ['GetCapabilities', at('device_service'), '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>'],
  ['GetServices', at('device_service'), '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>'],
  ['GetProfiles', at('media_service'), '<trt:GetProfiles/>'],
  ['GetVideoSources', at('media_service'), '<trt:GetVideoSources/>'],
  ['GetStreamUri', at('media_service'), '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>Profile_2</trt:ProfileToken></trt:GetStreamUri>'],
  ['GetSnapshotUri', at('media_service'), '<trt:GetSnapshotUri><trt:ProfileToken>Profile_1</trt:ProfileToken></trt:GetSnapshotUri>'],
  ['ContinuousMove', at('ptz_service'), '<tptz:ContinuousMove><tptz:ProfileToken>Profile_1</tptz:ProfileToken><tptz:Velocity><tt:PanTilt x="0.5" y="0"/></tptz:Velocity><tptz:Timeout>PT1S</tptz:Timeout></tptz:ContinuousMove>'],
  ['Stop', at('ptz_service'), '<tptz:Stop><tptz:ProfileToken>Profile_1</tptz:ProfileToken></tptz:Stop>'],
  ['GetStatus', at('ptz_service'), '<tptz:GetStatus><tptz:ProfileToken>Profile_1</tptz:ProfileToken></tptz:GetStatus>'],
  ['SetPreset', at('ptz_service'), '<tptz:SetPreset><tptz:ProfileToken>Profile_1</tptz:ProfileToken><tptz:PresetName>东门</tptz:PresetName></tptz:SetPreset>'],
  ['GetPresets', at('ptz_service'), '<tptz:GetPresets><tptz:ProfileToken>Profile_1</tptz:ProfileToken></tptz:GetPresets>'],
  ['GotoPreset', at('ptz_service'), '<tptz:GotoPreset><tptz:ProfileToken>Profile_1</tptz:ProfileToken><tptz:PresetToken>1</tptz:PresetToken></tptz:GotoPreset>'],
  ['RelativeMove', at('ptz_service'), '<tptz:RelativeMove><tptz:ProfileToken>Profile_1</tptz:ProfileToken><tptz:Translation><tt:PanTilt x="0.1" y="-0.05"/><tt:Zoom x="0"/></tptz:Translation></tptz:RelativeMove>'],
  ['GetNodes', at('ptz_service'), '<tptz:GetNodes/>'],
  ['GetImagingSettings', at('imaging_service'), '<timg:GetImagingSettings><timg:VideoSourceToken>VideoSource_1</timg:VideoSourceToken></timg:GetImagingSettings>'],
  ['SetImagingSettings', at('imaging_service'), '<timg:SetImagingSettings><timg:VideoSourceToken>VideoSource_1</timg:VideoSourceToken><timg:ImagingSettings><tt:Exposure><tt:Mode>MANUAL</tt:Mode><tt:Iris>0</tt:Iris></tt:Exposure></timg:ImagingSettings></timg:SetImagingSettings>'],
  ['GetMoveOptions', at('imaging_service'), '<timg:GetMoveOptions><timg:VideoSourceToken>VideoSource_1</timg:VideoSourceToken></timg:GetMoveOptions>'],
  ['Move', at('imaging_service'), '<timg:Move><timg:VideoSourceToken>VideoSource_1</timg:VideoSourceToken><timg:Focus><tt:Continuous><tt:Speed>0.5</tt:Speed></tt:Continuous></timg:Focus></timg:Move>'],
  ['ImagingGetStatus', at('imaging_service'), '<timg:GetStatus><timg:VideoSourceToken>VideoSource_1</timg:VideoSourceToken></timg:GetStatus>'],
  ['ImagingStop', at('imaging_service'), '<timg:Stop><timg:VideoSourceToken>VideoSource_1</timg:VideoSourceToken></timg:Stop>'],
];

describe('the simulator\'s ONVIF replies pass the schemas', () => {
  it.each(REQUESTS)('%s', async (name, path, body) => {
    const { status, xml } = await call(path, body);
    expect(status, xml).toBe(200);
    expect(validate(name, xml)).toEqual([]);
  });

  it('faults, with ONVIF subcodes nested as SOAP 1.2 writes them, never run into the reason', async () => {
    const noProfile = await call(at('media_service'), '<trt:GetStreamUri><trt:ProfileToken>nope</trt:ProfileToken></trt:GetStreamUri>');
    expect(noProfile.status).toBe(400);
    expect(validate('NoProfile', noProfile.xml)).toEqual([]);
    expect(noProfile.xml).toMatch(/<env:Code><env:Value>env:Sender<\/env:Value><env:Subcode><env:Value>ter:InvalidArgVal<\/env:Value><env:Subcode><env:Value>ter:NoProfile<\/env:Value><\/env:Subcode><\/env:Subcode><\/env:Code>/);
    expect(/<env:Text[^>]*>([^<]*)</.exec(noProfile.xml)![1]).not.toMatch(/ter:/);
    const unsupported = await call(at('device_service'), '<tds:SystemReboot/>');
    expect(validate('ActionNotSupported', unsupported.xml)).toEqual([]);
    const malformed = await fetch(`http://127.0.0.1:${sim.onvif!.port}${at('device_service')}`, { method: 'POST', body: '<s:Envelope><unclosed' });
    expect(validate('WellFormed', await malformed.text())).toEqual([]);
  });

  it('answers an unknown user and a wrong password with the same fault', async () => {
    const unknown = await call(at('device_service'), '<tds:GetDeviceInformation/>', 'nobody', SIM_PASSWORD);
    const wrong = await call(at('device_service'), '<tds:GetDeviceInformation/>', SIM_USER, 'wrong-password');
    expect([unknown.status, wrong.status]).toEqual([400, 400]);
    expect(validate('NotAuthorized', unknown.xml)).toEqual([]);
    expect(unknown.xml).toBe(wrong.xml);
    expect(unknown.xml).toMatch(/ter:NotAuthorized/);
  });

  it('answers WS-Discovery with a ProbeMatches that passes, AppSequence included', async () => {
    const udp = createSocket('udp4');
    const answer = new Promise<string>((resolve) => udp.on('message', (m) => { if (m.toString().includes(DEFAULT)) resolve(m.toString()); }));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const probe = '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
      + `<s:Header><a:MessageID>uuid:${randomBytes(16).toString('hex')}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>`
      + '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>';
    try {
      udp.send(probe, 3702, '127.0.0.1');
      const xml = await answer;
      expect(validate('ProbeMatches', xml)).toEqual([]);
      expect(xml).toMatch(/<d:AppSequence InstanceId="\d+" MessageNumber="\d+"\/>/);
    } finally {
      udp.close();
    }
  });

  it('serves a device at the paths stock clients use, /onvif/device_service and what it advertises', async () => {
    const d = await OnvifDevice.connect({ url: `http://127.0.0.1:${sim.onvif!.port}/onvif/device_service`, credentials: { username: SIM_USER, password: SIM_PASSWORD } });
    expect((await d.deviceInformation()).serialNumber).toBe(DEFAULT);
    expect((await d.streamProfiles()).main?.token).toBe('Profile_1');
    const caps = await call('/onvif/device_service', '<tds:GetCapabilities/>');
    expect(caps.xml).toContain(`http://127.0.0.1:${sim.onvif!.port}/onvif/media_service`);
    expect(validate('StockGetCapabilities', caps.xml)).toEqual([]);
  });

  it('offers qop="auth" in the snapshot Digest challenge, and serves a client that answers with it', async () => {
    const url = `http://127.0.0.1:${sim.onvif!.port}/snapshot/${camera}/main.jpg`;
    const challenge = (await fetch(url)).headers.get('www-authenticate')!;
    const p = parseAuthParams(challenge.slice(7));
    expect(p.qop).toBe('auth');
    const header = digestResponse({ username: SIM_USER, password: SIM_PASSWORD, realm: p.realm!, nonce: p.nonce!, method: 'GET', uri: `/snapshot/${camera}/main.jpg`, qop: p.qop, cnonce: randomBytes(8).toString('hex') });
    const res = await fetch(url, { headers: { authorization: header } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('gives every device its own serial number, digit for digit', async () => {
    const ids = ['36900201001320000001', '36900201001320000002'];
    const serials = [];
    for (const id of ids) serials.push((await (await OnvifDevice.connect({ url: sim.onvifUrl(id), credentials: { username: SIM_USER, password: SIM_PASSWORD } })).deviceInformation()).serialNumber);
    expect(serials).toEqual(ids);
  });
});

describe('the captured fixtures pass the schemas', () => {
  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')))('%s', (file) => {
    expect(validate(file, readFileSync(join(FIXTURES, file), 'utf8'))).toEqual([]);
  });
});
