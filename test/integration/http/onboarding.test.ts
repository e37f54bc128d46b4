// Onboarding over the API against the simulator: discover by WS-Discovery, probe ONVIF and RTSP, add a camera known by
// its ONVIF endpoint alone, and watch it stream; administrators only, inside their own subtree.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoverT, ProbeT } from '../../../gateway/src/http/schemas.js';
import { login, SIM_PASSWORD, SIM_USER, startGateway, type TestGateway } from '../../support/harness.js';

const tag = randomBytes(3).toString('hex');
const fresh = [`NEW-${tag}-1`, `NEW-${tag}-2`];
let gw: TestGateway;
let cookies: Record<string, string>;
beforeAll(async () => {
  gw = await startGateway({ cameras: 2000, discoverable: fresh });
  cookies = {};
  for (const u of ['city-admin', 'county-admin', 'village-clerk']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => { await gw?.close(); });

const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
const post = (url: string, user: string, payload: unknown = {}) => gw.gateway.http.inject({ method: 'POST', url, payload: payload as object, headers: { cookie: cookies[user]! } });

describe('onboarding', () => {
  it('discovers new devices, probes one, adds it by its ONVIF endpoint and streams it', async () => {
    const found = (await post('/api/devices/discover', 'county-admin', { timeoutMs: 1500 })).json() as DiscoverT;
    const ours = found.devices.filter((d) => d.name?.includes(tag));
    expect(ours.map((d) => d.name).sort()).toEqual(fresh.map((f) => `SharpEyes_${f}`));
    expect(ours.every((d) => d.cameraId === null)).toBe(true);
    const onvifUrl = ours[0]!.xaddrs[0]!;

    const probe = (await post('/api/devices/probe', 'county-admin', { url: onvifUrl, username: SIM_USER, password: SIM_PASSWORD })).json() as ProbeT;
    expect(probe).toMatchObject({ kind: 'onvif', ptz: true, device: { manufacturer: 'SharpEyes', serialNumber: fresh[0] }, suggested: { id: fresh[0], onvifUrl } });
    expect(probe.streams.map((s) => [s.profile, s.width, s.height, s.probe?.video?.width])).toEqual([['main', 1280, 720, 1280], ['sub', 640, 360, 640]]);
    expect(JSON.stringify(probe)).not.toContain(SIM_PASSWORD);

    const village = gw.gateway.access.tree.units().find((u) => u.level === 'village' && gw.gateway.access.tree.contains(unitOf('county-admin'), u.code))!.code;
    const added = await post('/api/cameras', 'county-admin', { id: fresh[0], name: '新接入 球机', unit: village, kind: 'junction', onvifUrl, username: SIM_USER, password: SIM_PASSWORD });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toMatchObject({ id: fresh[0], unit: village, onvif: true, mayPtz: true });
    expect(gw.gateway.catalog.camera(fresh[0]!)).toMatchObject({ mainUrl: null, onvifUrl });
    expect(gw.gateway.health.camera(fresh[0]!)).toBeDefined();

    // The stream address comes from the device when the stream starts.
    const ticket = await post('/api/streams', 'county-admin', { camera: fresh[0], profile: 'sub' });
    expect(ticket.statusCode).toBe(200);
    expect((await gw.gateway.hub.waitLive(fresh[0]!, 'sub', 15_000))?.state).toBe('live');

    const again = (await post('/api/devices/discover', 'county-admin', { timeoutMs: 1000 })).json() as DiscoverT;
    expect(again.devices.find((d) => d.name === `SharpEyes_${fresh[0]}`)?.cameraId).toBe(fresh[0]);
  });

  it('probes an RTSP address alone, and says why a probe fails', async () => {
    const rtsp = gw.simulator.rtspUrl('probe-me', 'main');
    const ok = (await post('/api/devices/probe', 'city-admin', { url: rtsp, username: SIM_USER, password: SIM_PASSWORD })).json() as ProbeT;
    expect(ok).toMatchObject({ kind: 'rtsp', streams: [{ profile: 'main', width: 1280, height: 720, fps: 25, encoding: 'H264' }], suggested: { mainUrl: rtsp } });
    const wrong = await post('/api/devices/probe', 'city-admin', { url: gw.simulator.onvifUrl('x1'), username: SIM_USER, password: 'not-it' });
    expect(wrong.statusCode).toBe(502);
    expect(wrong.json().message).toMatch(/refused the credentials/);
    expect(wrong.body).not.toContain('not-it');
    expect((await post('/api/devices/probe', 'city-admin', { url: 'ftp://example.com/x' })).json().message).toMatch(/give an ONVIF device address/);
  });

  it('keeps others out: no viewer, no unit outside the subtree, no second camera with an id', async () => {
    expect((await post('/api/devices/discover', 'village-clerk')).statusCode).toBe(403);
    expect((await post('/api/devices/probe', 'village-clerk', { url: gw.simulator.rtspUrl('a', 'main') })).statusCode).toBe(403);
    const other = gw.gateway.access.tree.children(unitOf('city-admin')).find((u) => u.code !== unitOf('county-admin'))!.code;
    const outside = await post('/api/cameras', 'county-admin', { id: `X-${tag}`, name: 'x', unit: other, mainUrl: gw.simulator.rtspUrl('x', 'main') });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().message).toBe(`unit ${other} is outside your part of the tree`);
    const existing = gw.gateway.access.camerasUnder(unitOf('county-admin'))[0]!;
    const dup = await post('/api/cameras', 'county-admin', { id: existing, name: 'x', unit: unitOf('county-admin'), mainUrl: gw.simulator.rtspUrl('x', 'main') });
    expect(dup.statusCode).toBe(409);
  });
});
