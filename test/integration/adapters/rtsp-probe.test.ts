// The RTSP probe over real sockets against the simulator.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../adapters/simulator/simulator.js';
import { pingRtsp, probeRtsp, RtspProbeError } from '../../../adapters/rtsp/rtsp-probe.js';
import { freePort, SIM_PASSWORD, SIM_USER, setFaults, startSimulator } from '../../support/harness.js';

let sim: Simulator;
beforeAll(async () => { sim = await startSimulator(); });
afterAll(async () => { await sim.close(); });

const creds = { username: SIM_USER, password: SIM_PASSWORD };

async function failure(p: Promise<unknown>): Promise<RtspProbeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RtspProbeError) return err;
    throw err;
  }
  throw new Error('the probe succeeded');
}

describe('probeRtsp', () => {
  it('reads codec, profile, size and frame rate of both profiles with Digest', async () => {
    const main = await probeRtsp(sim.rtspUrl('p1', 'main'), { credentials: creds });
    expect(main).toMatchObject({ auth: 'digest', server: 'SharpEyes-Simulator/1.0', video: { codec: 'H264', profile: 'High', level: 3.1, width: 1280, height: 720, fps: 25 } });
    expect(main.methods).toContain('DESCRIBE');
    expect(main.latencyMs).toBeLessThan(1000);
    const sub = await probeRtsp(sim.rtspUrl('p1', 'sub').replace('rtsp://', `rtsp://${SIM_USER}:${SIM_PASSWORD}@`));
    expect(sub.video).toMatchObject({ profile: 'Main', width: 640, height: 360 });
    expect(sub.url).not.toContain(SIM_PASSWORD);
  });

  it('classifies every failure and names device and operation, never the password', async () => {
    const wrong = await failure(probeRtsp(sim.rtspUrl('p2', 'main'), { credentials: { username: SIM_USER, password: 'wrong-one' } }));
    expect(wrong).toMatchObject({ kind: 'unauthorized', operation: 'DESCRIBE' });
    expect(wrong.message).toMatch(/\/cam\/p2\/main: DESCRIBE failed: the camera rejected the credentials/);
    expect((await failure(probeRtsp(sim.rtspUrl('p2', 'main')))).message).toMatch(/asks for credentials and none were given/);

    const url = sim.rtspUrl('p3', 'main').replace('rtsp://', `rtsp://${SIM_USER}:secret-in-url@`);
    const withSecret = await failure(probeRtsp(url));
    expect(withSecret.message).not.toContain('secret-in-url');
    expect(withSecret.url).toContain('***');

    const missing = await failure(probeRtsp(sim.rtspUrl('p4', 'main').replace('/cam/', '/nothing/'), { credentials: creds }));
    expect(missing.kind).toBe('not-found');

    await setFaults(sim, 'p5', { offline: true });
    expect(await failure(probeRtsp(sim.rtspUrl('p5', 'main'), { credentials: creds }))).toMatchObject({ kind: 'unreachable', operation: 'OPTIONS' });

    await setFaults(sim, 'p6', { delayMs: 2000 });
    const slow = await failure(probeRtsp(sim.rtspUrl('p6', 'main'), { credentials: creds, timeoutMs: 500 }));
    expect(slow).toMatchObject({ kind: 'timeout', operation: 'OPTIONS' });
    expect(slow.message).toMatch(/no answer within 500 ms/);

    const closed = await failure(probeRtsp(`rtsp://127.0.0.1:${await freePort()}/cam/p7/main`, { timeoutMs: 2000 }));
    expect(closed).toMatchObject({ kind: 'unreachable', operation: 'connect' });
    expect(closed.message).toMatch(/ECONNREFUSED/);

    expect((await failure(probeRtsp('http://example.test/x'))).message).toMatch(/scheme http: is not rtsp:/);
  });

  it('says a server that is not an RTSP camera is one', async () => {
    const http = createServer((s) => s.on('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (http.address() as { port: number }).port;
      const err = await failure(probeRtsp(`rtsp://127.0.0.1:${port}/x`, { timeoutMs: 2000 }));
      expect(err).toMatchObject({ kind: 'protocol', operation: 'OPTIONS' });
      expect(err.message).toMatch(/not an RTSP answer: "HTTP\/1.1 400/);
    } finally {
      http.close();
    }
  });
});

describe('pingRtsp', () => {
  it('answers with OPTIONS alone, credentials or not, and fails like a dead device when the camera is offline', async () => {
    const ok = await pingRtsp(sim.rtspUrl('ping1', 'main'));
    expect(ok.status).toBe(200);
    expect(sim.rtsp.playing).toBe(0);
    await setFaults(sim, 'ping1', { offline: true });
    try {
      const down = await failure(pingRtsp(sim.rtspUrl('ping1', 'main')));
      expect(down).toMatchObject({ kind: 'unreachable', operation: 'OPTIONS' });
      expect(down.detail).toMatch(/^OPTIONS failed: /);
      expect(down.detail).not.toContain('127.0.0.1');
    } finally {
      await setFaults(sim, 'ping1', { offline: null });
    }
  });

  it('gives up when its signal is aborted, and on its own timeout', async () => {
    await setFaults(sim, 'ping2', { delayMs: 2000 });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const t0 = Date.now();
      expect((await failure(pingRtsp(sim.rtspUrl('ping2', 'main'), { signal: controller.signal }))).message).toMatch(/OPTIONS failed: cancelled/);
      expect((await failure(pingRtsp(sim.rtspUrl('ping2', 'main'), { timeoutMs: 100 }))).message).toMatch(/no answer within 100 ms/);
      expect(Date.now() - t0).toBeLessThan(1500);
    } finally {
      await setFaults(sim, 'ping2', { delayMs: null });
    }
  });
});
