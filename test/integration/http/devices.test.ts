// Snapshots and PTZ through the gateway, against the simulator's ONVIF devices: each needs its right, a head really
// moves, presets come back, a camera without ONVIF still gives a picture from its stream, and device failures are told
// in words without the device's address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, setFaults, SIM_PASSWORD, SIM_USER, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
let cookies: Record<string, string>;
beforeAll(async () => {
  gw = await startGateway({ cameras: 2000 });
  cookies = {};
  for (const u of ['township-operator', 'village-clerk', 'city-admin']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => { await gw?.close(); });

const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
const own = (u: string) => gw.gateway.access.camerasUnder(unitOf(u));
const get = (url: string, user: string) => gw.gateway.http.inject({ method: 'GET', url, headers: { cookie: cookies[user]! } });
const post = (url: string, user: string, payload: unknown = {}) => gw.gateway.http.inject({ method: 'POST', url, payload: payload as object, headers: { cookie: cookies[user]! } });

describe('PTZ', () => {
  it('an operator pans, stops, stores a preset and returns to it; the head is really moved', async () => {
    const cam = own('township-operator')[0]!;
    expect((await get(`/api/cameras/${cam}`, 'township-operator')).json()).toMatchObject({ onvif: true, mayPtz: true });
    expect((await post(`/api/cameras/${cam}/ptz/move`, 'township-operator', { pan: 1, timeoutMs: 2000 })).statusCode).toBe(204);
    await new Promise((r) => setTimeout(r, 400));
    expect((await post(`/api/cameras/${cam}/ptz/stop`, 'township-operator')).statusCode).toBe(204);
    const state = (await get(`/api/cameras/${cam}/ptz`, 'township-operator')).json();
    expect(state.status.pan).toBeGreaterThan(0.1);
    expect(state.status.moving).toEqual({ panTilt: false, zoom: false });
    expect(gw.simulator.onvif!.head(cam).position().pan).toBeCloseTo(state.status.pan, 3);

    const saved = (await post(`/api/cameras/${cam}/ptz/presets`, 'township-operator', { name: '学校大门' })).json();
    expect(saved).toEqual({ token: expect.any(String), name: '学校大门' });
    await post(`/api/cameras/${cam}/ptz/move`, 'township-operator', { pan: -1, zoom: 1, timeoutMs: 300 });
    await new Promise((r) => setTimeout(r, 500));
    expect((await post(`/api/cameras/${cam}/ptz/presets/${saved.token}/goto`, 'township-operator')).statusCode).toBe(204);
    const back = (await get(`/api/cameras/${cam}/ptz`, 'township-operator')).json();
    expect(back.status.pan).toBeCloseTo(state.status.pan, 3);
    expect(back.presets).toContainEqual(saved);
  });

  it('centres a clicked point, focuses while asked (and stops by itself), and steps the iris, where the device offers them', async () => {
    const cam = own('township-operator')[3]!;
    const state = (await get(`/api/cameras/${cam}/ptz`, 'township-operator')).json();
    expect(state.capabilities).toEqual({ relative: true, focus: true, iris: true });
    expect(state.imaging).toMatchObject({ focus: 0.5, iris: -6 });
    const head = gw.simulator.onvif!.head(cam);
    const before = head.position();
    // A click at the right edge, half way up: the head turns right and up by half a picture (wide open: 30° of 360°).
    expect((await post(`/api/cameras/${cam}/ptz/centre`, 'township-operator', { x: 1, y: 0.5 })).statusCode).toBe(204);
    const after = head.position();
    expect(after.pan - before.pan).toBeCloseTo(30 / 180, 3);
    expect(after.tilt - before.tilt).toBeCloseTo((0.5 * 17) / 45, 3);
    // Zoomed in, the same click turns the head a twentieth as far.
    await post(`/api/cameras/${cam}/ptz/move`, 'township-operator', { zoom: 1, timeoutMs: 6000 });
    await waitFor('the lens at full zoom', () => head.position().zoom === 1, 10_000, 50);
    await post(`/api/cameras/${cam}/ptz/stop`, 'township-operator');
    const zoomed = head.position();
    await post(`/api/cameras/${cam}/ptz/centre`, 'township-operator', { x: -1, y: 0 });
    expect(zoomed.pan - head.position().pan).toBeCloseTo(30 / 180 / 20, 4);
    expect((await post(`/api/cameras/${cam}/ptz/centre`, 'township-operator', { x: 2, y: 0 })).statusCode).toBe(400);

    // Focus moves the lens while asked and stops by itself after the move's timeout.
    const lens = gw.simulator.onvif!.lens(cam);
    expect((await post(`/api/cameras/${cam}/ptz/focus`, 'township-operator', { speed: 1, timeoutMs: 300 })).statusCode).toBe(204);
    expect(lens.moving()).toBe(true);
    // Nobody stops it: the gateway does, after the move's 300 ms.
    await waitFor('the focus to stop by itself', () => !lens.moving(), 3000, 20);
    expect(lens.focus()).toBeGreaterThan(0.6);
    expect((await post(`/api/cameras/${cam}/ptz/focus`, 'township-operator', { speed: 0 })).statusCode).toBe(400);
    // The iris opens a step at a time up to fully open (0 dB, which a lax client would fail to send).
    let iris = lens.iris();
    for (let i = 0; i < 8; i++) iris = (await post(`/api/cameras/${cam}/ptz/iris`, 'township-operator', { step: 1 })).json<{ iris: number }>().iris;
    expect(iris).toBe(0);
    expect(lens.iris()).toBe(0);
    expect((await post(`/api/cameras/${cam}/ptz/iris`, 'township-operator', { step: -1 })).json()).toEqual({ iris: -1 });
    // Each is the PTZ right: a viewer is refused.
    const clerkCam = own('village-clerk')[1]!;
    expect((await post(`/api/cameras/${clerkCam}/ptz/centre`, 'village-clerk', { x: 0.5, y: 0 })).statusCode).toBe(403);
    expect((await post(`/api/cameras/${clerkCam}/ptz/iris`, 'village-clerk', { step: 1 })).statusCode).toBe(403);
  });

  it('refuses a viewer, a camera outside the caller\'s reach, and bad input', async () => {
    const clerkCam = own('village-clerk')[0]!;
    expect((await get(`/api/cameras/${clerkCam}`, 'village-clerk')).json()).toMatchObject({ onvif: true, mayPtz: false });
    const viewer = await post(`/api/cameras/${clerkCam}/ptz/move`, 'village-clerk', { pan: 1 });
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().message).toMatch(/PTZ/);
    const foreign = gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code).find((id) => !own('township-operator').includes(id))!;
    expect((await post(`/api/cameras/${foreign}/ptz/move`, 'township-operator', { pan: 1 })).statusCode).toBe(404);
    expect((await get(`/api/cameras/${foreign}/ptz`, 'township-operator')).statusCode).toBe(404);
    const cam = own('township-operator')[1]!;
    expect((await post(`/api/cameras/${cam}/ptz/move`, 'township-operator', { pan: 3 })).statusCode).toBe(400);
    expect((await post(`/api/cameras/${cam}/ptz/move`, 'township-operator', {})).json().message).toMatch(/give pan, tilt or zoom/);
    expect((await post(`/api/cameras/${cam}/ptz/presets/a%22b/goto`, 'township-operator')).statusCode).toBe(400);
  });

  it('says in words when the device fails, without its address', async () => {
    const cam = own('township-operator')[2]!;
    await setFaults(gw.simulator, cam, { password: 'changed-on-the-device' });
    try {
      const res = await get(`/api/cameras/${cam}/ptz`, 'township-operator');
      expect(res.statusCode).toBe(502);
      expect(res.json()).toEqual({ code: 'device-error', message: expect.stringMatching(/^the camera did not do it: \w+ failed: the device refused the credentials$/), details: { reason: 'device-failed' } });
      expect(res.body).not.toMatch(/127\.0\.0\.1|onvif\//);
    } finally {
      await setFaults(gw.simulator, cam, { password: null });
    }
    // The pool dropped the failed device: the next call connects afresh and works.
    expect((await get(`/api/cameras/${cam}/ptz`, 'township-operator')).statusCode).toBe(200);
  });
});

describe('snapshots', () => {
  it('gives a viewer a JPEG of her camera through ONVIF, and nothing of others', async () => {
    const cam = own('village-clerk')[0]!;
    const res = await get(`/api/cameras/${cam}/snapshot?profile=sub`, 'village-clerk');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.rawPayload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const foreign = own('township-operator').find((id) => !own('village-clerk').includes(id))!;
    expect((await get(`/api/cameras/${foreign}/snapshot`, 'village-clerk')).statusCode).toBe(404);
  });

  it('takes the picture from the stream of a camera without ONVIF, which has no PTZ', async () => {
    gw.gateway.catalog.upsertCameras([{
      id: 'RTSP-ONLY-1', name: 'RTSP only', unit: unitOf('village-clerk'), kind: 'road', latitude: null, longitude: null,
      mainUrl: gw.simulator.rtspUrl('RTSP-ONLY-1', 'main'), subUrl: null, onvifUrl: null, username: SIM_USER, password: SIM_PASSWORD,
    }]);
    gw.gateway.syncCatalog();
    const res = await get('/api/cameras/RTSP-ONLY-1/snapshot', 'village-clerk');
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    expect(res.rawPayload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect((await get('/api/cameras/RTSP-ONLY-1', 'city-admin')).json()).toMatchObject({ onvif: false, mayPtz: false });
    const ptz = await post('/api/cameras/RTSP-ONLY-1/ptz/move', 'city-admin', { pan: 1 });
    expect(ptz.statusCode).toBe(409);
    expect(ptz.json().message).toMatch(/no ONVIF endpoint/);
  });
});
