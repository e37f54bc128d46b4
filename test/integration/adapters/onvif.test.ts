// The ONVIF adapter against the simulator's ONVIF services over real sockets (HTTP, SOAP, WS-Security, multicast).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../adapters/simulator/simulator.js';
import { discover, OnvifDevice, OnvifError } from '../../../adapters/onvif/onvif-client.js';
import { fetchSnapshot, SnapshotError } from '../../../adapters/onvif/snapshot.js';
import { probeRtsp } from '../../../adapters/rtsp/rtsp-probe.js';
import { SIM_PASSWORD, SIM_USER, setFaults, startSimulator } from '../../support/harness.js';

let sim: Simulator;
// Unique ids: other simulators on this machine may answer the same multicast probe.
const tag = randomBytes(3).toString('hex');
const discoverable = [`disc-${tag}-1`, `disc-${tag}-2`, `disc-${tag}-3`];
beforeAll(async () => { sim = await startSimulator({ discoverable }); });
afterAll(async () => { await sim.close(); });

const creds = { username: SIM_USER, password: SIM_PASSWORD };
async function failure(p: Promise<unknown>): Promise<OnvifError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OnvifError) return err;
    throw err;
  }
  throw new Error('the call succeeded');
}

describe('OnvifDevice', () => {
  it('reads device information and maps the media profiles to main and sub streams', async () => {
    const d = await OnvifDevice.connect({ url: sim.onvifUrl('o1'), credentials: creds });
    expect(await d.deviceInformation()).toEqual({ manufacturer: 'SharpEyes', model: 'SE-SIM-D1', firmwareVersion: expect.any(String), serialNumber: 'o1', hardwareId: 'SE-SIM' });
    const p = await d.streamProfiles();
    expect(p.main).toMatchObject({ token: 'Profile_1', encoding: 'H264', width: 1280, height: 720, fps: 25, ptz: true });
    expect(p.sub).toMatchObject({ token: 'Profile_2', width: 640, height: 360 });
    // The stream address it gives is one the RTSP adapter can read.
    const uri = await d.streamUri(p.sub!.token);
    expect(uri).toBe(sim.rtspUrl('o1', 'sub'));
    expect((await probeRtsp(uri, { credentials: creds })).video).toMatchObject({ width: 640, height: 360 });
    const shot = await fetchSnapshot(await d.snapshotUri(p.main!.token), creds);
    expect(shot.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('drives the head: a continuous move changes the position, stop holds it, presets come back', async () => {
    const d = await OnvifDevice.connect({ url: sim.onvifUrl('o2'), credentials: creds });
    const token = (await d.streamProfiles()).main!.token;
    expect(await d.status(token)).toEqual({ pan: 0, tilt: 0, zoom: 0, moving: { panTilt: false, zoom: false } });
    await d.continuousMove(token, { pan: 1, tilt: -0.5, zoom: 0.5 });
    await new Promise((r) => setTimeout(r, 400));
    const moving = await d.status(token);
    expect(moving.moving).toEqual({ panTilt: true, zoom: true });
    await d.stop(token);
    const held = await d.status(token);
    expect(held.pan).toBeGreaterThan(0.15);
    expect(held.tilt).toBeLessThan(-0.07);
    expect(held.zoom).toBeGreaterThan(0.04);
    expect(held.moving).toEqual({ panTilt: false, zoom: false });
    await new Promise((r) => setTimeout(r, 200));
    expect((await d.status(token)).pan).toBe(held.pan);

    const gate = await d.setPreset(token, '东门 <gate> & "北"');
    await d.continuousMove(token, { pan: -1 }, 300);
    await new Promise((r) => setTimeout(r, 500));
    expect((await d.status(token)).pan).toBeLessThan(held.pan - 0.1);
    expect(await d.presets(token)).toEqual([{ token: gate, name: '东门 <gate> & "北"' }]);
    await d.gotoPreset(token, gate);
    expect((await d.status(token)).pan).toBeCloseTo(held.pan, 3);
    expect((await failure(d.gotoPreset(token, '999'))).message).toMatch(/GotoPreset failed: .*no preset "999"/);
  });

  it('names the device and the operation in every failure, never the password', async () => {
    const wrong = await failure(OnvifDevice.connect({ url: sim.onvifUrl('o3'), credentials: { username: SIM_USER, password: 'wrong-password' } }).then((d) => d.deviceInformation()));
    expect(wrong).toMatchObject({ kind: 'unauthorized', operation: 'GetDeviceInformation' });
    expect(wrong.message).toMatch(/^ONVIF device 127\.0\.0\.1:\d+\/onvif\/o3\/device_service: GetDeviceInformation failed/);
    expect(wrong.message).not.toContain('wrong-password');

    await setFaults(sim, 'o4', { offline: true });
    const down = await failure(OnvifDevice.connect({ url: sim.onvifUrl('o4'), credentials: creds }));
    expect(down).toMatchObject({ kind: 'unreachable', operation: 'GetSystemDateAndTime' });
    await setFaults(sim, 'o4', { offline: null, delayMs: 1500 });
    const slow = await failure(OnvifDevice.connect({ url: sim.onvifUrl('o4'), credentials: creds, timeoutMs: 300 }));
    expect(slow).toMatchObject({ kind: 'timeout', operation: 'GetSystemDateAndTime' });
    await setFaults(sim, 'o4', { delayMs: null });

    const d = await OnvifDevice.connect({ url: sim.onvifUrl('o5'), credentials: creds });
    expect((await failure(d.streamUri('Profile_9'))).message).toMatch(/GetStreamUri failed: .*no media profile "Profile_9"/);
    expect((await failure(d.streamUri('a"b'))).message).toMatch(/token "a\\"b" is not/);
    expect((await failure(d.continuousMove('Profile_1', { pan: 2 }))).message).toMatch(/outside \[-1, 1\]/);
    await expect(fetchSnapshot((await d.snapshotUri('Profile_1')), { username: SIM_USER, password: 'nope' })).rejects.toThrow(SnapshotError);
  });
});

describe('discover', () => {
  it('finds the farm\'s devices by WS-Discovery multicast, with their service addresses', async () => {
    const found = (await discover({ timeoutMs: 1500 })).filter((d) => d.name?.includes(tag));
    expect(found.map((d) => d.name).sort()).toEqual(discoverable.map((c) => `SharpEyes_${c}`).sort());
    const one = found.find((d) => d.name === `SharpEyes_${discoverable[0]}`)!;
    expect(one.endpoint).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(one.xaddrs).toEqual([sim.onvifUrl(discoverable[0]!)]);
    expect(one.hardware).toBe('SE-SIM-D1');
    // A device switched off does not answer.
    await setFaults(sim, discoverable[1]!, { offline: true });
    const again = (await discover({ timeoutMs: 1000 })).filter((d) => d.name?.includes(tag));
    expect(again).toHaveLength(2);
    await setFaults(sim, discoverable[1]!, { offline: null });
  });
});
