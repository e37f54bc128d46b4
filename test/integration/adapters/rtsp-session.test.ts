// The RTSP client session against the simulator over real sockets: TCP-interleaved and UDP play, the fall-back from
// TCP to UDP, keep-alives and receiver reports, redirects, and every failure named without address or password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../adapters/simulator/simulator.js';
import { RtspError, RtspSession } from '../../../adapters/rtsp/rtsp-session.js';
import { parseRtp } from '../../../adapters/rtsp/rtp-packet.js';
import { CLIP_DIR, SIM_PASSWORD, SIM_USER, setFaults, waitFor } from '../../support/harness.js';
import { Simulator as Farm } from '../../../adapters/simulator/simulator.js';

let sim: Simulator;
// A short session timeout: a client that does not keep its UDP session alive loses it within seconds.
beforeAll(async () => { sim = await Farm.start({ host: '127.0.0.1', rtspPort: 0, controlPort: 0, username: SIM_USER, password: SIM_PASSWORD, clipDir: CLIP_DIR, sessionTimeoutS: 4 }); });
afterAll(async () => { await sim.close(); });

const creds = { username: SIM_USER, password: SIM_PASSWORD };
async function failure(p: Promise<unknown>): Promise<RtspError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RtspError) return err;
    throw err;
  }
  throw new Error('the session opened');
}

/** play opens a session and counts its RTP packets until closed. */
async function play(camera: string, opts: Partial<Parameters<typeof RtspSession.open>[0]> = {}) {
  const s = await RtspSession.open({ url: sim.rtspUrl(camera, 'sub'), credentials: creds, ...opts });
  const seen = { packets: 0, keyframes: 0, ssrc: new Set<number>() };
  s.on('rtp', (_t, packet) => {
    const p = parseRtp(packet);
    seen.packets++;
    seen.ssrc.add(p.ssrc);
    // An IDR slice alone, or the start of an FU-A carrying one.
    const nal = p.payload[0]! & 0x1f;
    if (nal === 5 || (nal === 28 && (p.payload[1]! & 0x1f) === 5 && (p.payload[1]! & 0x80) !== 0)) seen.keyframes++;
  });
  return { s, seen };
}

describe('RtspSession', () => {
  it('plays over the RTSP connection: Digest, SETUP interleaved, PLAY, RTP and a keyframe, TEARDOWN', async () => {
    const { s, seen } = await play('s1');
    try {
      expect(s.transport).toBe('tcp');
      expect(s.tracks.map((t) => t.media.codec)).toEqual(['H264']);
      await waitFor('RTP with a keyframe', () => seen.packets > 20 && seen.keyframes > 0, 10_000);
      expect(seen.ssrc.size).toBe(1);
    } finally {
      await s.close();
    }
    await waitFor('the server to drop the session', () => sim.rtsp.playing === 0, 5000);
  });

  it('plays over UDP when asked, keeps the session alive and sends receiver reports', async () => {
    const reports = sim.rtsp.receiverReports;
    const keepAlives = sim.rtsp.keepAlives;
    const opened = Date.now();
    const { s, seen } = await play('s2', { transport: 'udp' });
    try {
      expect(s.transport).toBe('udp');
      await waitFor('UDP RTP', () => seen.packets > 20, 10_000);
      // Past the 4 s session timeout and the server's 5 s reaper: without keep-alives it would have ended the session.
      await waitFor('keep-alives, a receiver report, 10 s', () => sim.rtsp.keepAlives >= keepAlives + 2 && sim.rtsp.receiverReports > reports && Date.now() - opened > 10_000, 20_000);
      const before = seen.packets;
      await waitFor('RTP still flowing', () => seen.packets > before + 20, 5000);
    } finally {
      await s.close();
    }
  });

  it('falls back from TCP to UDP for a camera that refuses RTP over RTSP (transport auto)', async () => {
    await setFaults(sim, 's3', { udpOnly: true });
    expect(await failure(RtspSession.open({ url: sim.rtspUrl('s3', 'sub'), credentials: creds, transport: 'tcp' }))).toMatchObject({ kind: 'unsupported-transport', operation: 'SETUP', status: 461 });
    const { s, seen } = await play('s3', { transport: 'auto' });
    try {
      expect(s.transport).toBe('udp');
      await waitFor('UDP RTP', () => seen.packets > 20, 10_000);
    } finally {
      await s.close();
    }
  });

  it('follows a redirect, keeping the credentials on the same host', async () => {
    await setFaults(sim, 's4', { redirectTo: 's4b' });
    const { s, seen } = await play('s4');
    try {
      expect(s.url).toContain('/cam/s4b/sub');
      await waitFor('RTP', () => seen.packets > 5, 10_000);
    } finally {
      await s.close();
    }
  });

  it('names each failure in words, never the address or the password', async () => {
    await setFaults(sim, 's5', { describeStatus: 503 });
    const busy = await failure(RtspSession.open({ url: sim.rtspUrl('s5', 'sub').replace('rtsp://', `rtsp://${SIM_USER}:${SIM_PASSWORD}@`) }));
    expect(busy).toMatchObject({ kind: 'refused', operation: 'DESCRIBE', status: 503 });
    expect(busy.detail).toBe('DESCRIBE failed: the camera refused the stream (503 Service Unavailable): it may be serving as many clients as it can');
    const wrong = await failure(RtspSession.open({ url: sim.rtspUrl('s6', 'sub'), credentials: { username: SIM_USER, password: 'wrong-Secret-9' } }));
    expect(wrong).toMatchObject({ kind: 'unauthorized', operation: 'DESCRIBE' });
    for (const e of [busy, wrong]) {
      expect(e.detail).not.toMatch(/127\.0\.0\.1|rtsp:|wrong-Secret-9|sim-Test-pass/);
      expect(e.message).not.toMatch(/wrong-Secret-9|sim-Test-pass/);
    }
    await setFaults(sim, 's7', { offline: true });
    expect(await failure(RtspSession.open({ url: sim.rtspUrl('s7', 'sub'), credentials: creds }))).toMatchObject({ kind: 'unreachable' });
  });

  it('ends with an error when the camera drops the session, and says so once', async () => {
    const { s, seen } = await play('s8');
    const ends: Array<RtspError | undefined> = [];
    s.on('end', (e) => ends.push(e));
    await waitFor('RTP', () => seen.packets > 5, 10_000);
    await fetch(`${sim.controlUrl()}/cameras/s8/sessions`, { method: 'DELETE' });
    await waitFor('the end', () => ends.length > 0, 5000);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ kind: 'closed' });
    await s.close();
    expect(ends).toHaveLength(1);
  });
});
