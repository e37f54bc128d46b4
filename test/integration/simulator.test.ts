// The simulator read by real ffprobe/ffmpeg and by a hand-written RTSP client.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../adapters/simulator/simulator.js';
import { digestResponse, parseAuthParams } from '../../adapters/core/digest.js';
import { SIM_PASSWORD, SIM_USER, setFaults, startSimulator } from '../support/harness.js';
import { openRtsp } from '../support/rtsp-client.js';

const run = promisify(execFile);
let sim: Simulator;
beforeAll(async () => { sim = await startSimulator(); });
afterAll(async () => { await sim.close(); });

const authed = (camera: string, profile: 'main' | 'sub', password = SIM_PASSWORD) =>
  sim.rtspUrl(camera, profile).replace('rtsp://', `rtsp://${SIM_USER}:${encodeURIComponent(password)}@`);

async function probe(url: string, transport: 'tcp' | 'udp') {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-rtsp_transport', transport, '-show_entries', 'stream=codec_name,profile,width,height,r_frame_rate', '-of', 'json', url], { timeout: 20_000 });
  return (JSON.parse(stdout) as { streams: Array<Record<string, unknown>> }).streams[0];
}

describe('the simulator as ffprobe sees it', () => {
  it('serves main as 1280x720 H.264 High and sub as 640x360, over TCP and UDP', async () => {
    expect(await probe(authed('3601', 'main'), 'tcp')).toMatchObject({ codec_name: 'h264', profile: 'High', width: 1280, height: 720, r_frame_rate: '25/1' });
    expect(await probe(authed('3601', 'sub'), 'udp')).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
  });

  it('refuses wrong credentials with 401 and drops an offline camera', async () => {
    await expect(probe(authed('3602', 'main', 'wrong'), 'tcp')).rejects.toThrow(/401 Unauthorized/);
    await setFaults(sim, '3603', { offline: true });
    await expect(probe(authed('3603', 'main'), 'tcp')).rejects.toThrow();
    await setFaults(sim, '3603', { offline: null });
    expect(await probe(authed('3603', 'main'), 'tcp')).toMatchObject({ codec_name: 'h264' });
  });

  it('paces in real time with timestamps advancing 3600 (90 kHz / 25 fps) per picture, decoding without error', async () => {
    const started = Date.now();
    const { stdout, stderr } = await run('ffprobe', [
      '-v', 'error', '-rtsp_transport', 'tcp', '-read_intervals', '%+4', '-select_streams', 'v:0',
      '-show_entries', 'packet=pts,flags', '-of', 'csv=p=0', authed('3604', 'main'),
    ], { timeout: 30_000 });
    const wall = (Date.now() - started) / 1000;
    const packets = stdout.split('\n').filter((l) => l.trim()).map((l) => l.split(','));
    // The first packet has no pts until ffmpeg has synchronised the RTP clock.
    const pts = packets.map((p) => Number(p[0])).filter((v) => Number.isFinite(v));
    const deltas = new Set(pts.slice(1).map((v, i) => v - pts[i]!));
    expect([...deltas]).toEqual([3600]);
    expect(packets[0]![1]).toMatch(/K/);
    expect(packets.filter((p) => p[1]!.includes('K')).length).toBeGreaterThanOrEqual(2); // 2 s GOP over 4 s
    expect(packets.length).toBeGreaterThanOrEqual(95);
    expect(wall).toBeGreaterThan(3.5); // real time, not as fast as the socket allows
    expect(stderr).toBe('');
  });

  it('stops sending after stallAfterMs, so a reader times out', async () => {
    await setFaults(sim, '3605', { stallAfterMs: 1000 });
    const res = await run('ffmpeg', ['-v', 'error', '-rtsp_transport', 'tcp', '-timeout', '2000000', '-i', authed('3605', 'main'), '-c', 'copy', '-f', 'null', '-'], { timeout: 20_000 })
      .then(({ stderr }) => stderr, (err: { stderr: string }) => err.stderr);
    expect(res).toMatch(/timed out|End of file|Invalid data/i);
  });

  it('answers slowly when asked to', async () => {
    await setFaults(sim, '3606', { delayMs: 400 });
    const t0 = Date.now();
    await probe(authed('3606', 'sub'), 'tcp');
    expect(Date.now() - t0).toBeGreaterThan(5 * 400); // OPTIONS, DESCRIBE (401), DESCRIBE, SETUP, PLAY
  });

  it('rejects bad knobs on the control endpoint with the reason', async () => {
    const res = await fetch(`${sim.controlUrl()}/cameras/3607/faults`, { method: 'PUT', body: '{"offline": "soon"}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'offline must be a boolean' });
  });
});

describe('the RTSP methods, by hand', () => {
  it('runs OPTIONS, Digest DESCRIBE, SETUP (interleaved), PLAY, GET_PARAMETER, PAUSE and TEARDOWN', async () => {
    const { port } = sim.rtsp.address();
    const uri = `rtsp://127.0.0.1:${port}/cam/3610/main`;
    const c = await openRtsp(port);
    try {
      const options = await c.request('OPTIONS', uri);
      expect(options.headers.public).toContain('GET_PARAMETER');
      const challenge = await c.request('DESCRIBE', uri);
      expect(challenge.status).toBe(401);
      const { realm, nonce } = parseAuthParams(challenge.headers['www-authenticate']!.slice(7));
      const auth = (method: string, u: string) => ({ Authorization: digestResponse({ username: SIM_USER, password: SIM_PASSWORD, realm: realm!, nonce: nonce!, method, uri: u }) });
      const describe = await c.request('DESCRIBE', uri, { ...auth('DESCRIBE', uri), Accept: 'application/sdp' });
      expect(describe.status).toBe(200);
      expect(describe.body).toMatch(/a=rtpmap:96 H264\/90000/);
      expect(describe.body).toMatch(/profile-level-id=64/);
      expect(describe.body).toMatch(/sprop-parameter-sets=Z[^,]+,aO/);
      const track = `${describe.headers['content-base']}trackID=0`;
      const setup = await c.request('SETUP', track, { ...auth('SETUP', track), Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      expect(setup.headers.transport).toMatch(/interleaved=0-1/);
      const session = setup.headers.session!.split(';')[0]!;
      expect(setup.headers.session).toMatch(/timeout=60/);
      const play = await c.request('PLAY', uri, { ...auth('PLAY', uri), Session: session });
      expect(play.headers['rtp-info']).toMatch(/seq=\d+;rtptime=\d+/);
      await new Promise((r) => setTimeout(r, 600));
      const keep = await c.request('GET_PARAMETER', uri, { ...auth('GET_PARAMETER', uri), Session: session });
      expect(keep.status).toBe(200);
      expect(c.interleavedFrames).toBeGreaterThan(10);
      expect((await c.request('PAUSE', uri, { ...auth('PAUSE', uri), Session: session })).status).toBe(200);
      expect((await c.request('PLAY', uri, { ...auth('PLAY', uri), Session: 'nope' })).status).toBe(454);
      expect((await c.request('TEARDOWN', uri, { ...auth('TEARDOWN', uri), Session: session })).status).toBe(200);
      expect((await c.request('SETUP', track, { ...auth('SETUP', track), Transport: 'RTP/AVP;multicast' })).status).toBe(461);
      expect((await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/nothing`, auth('DESCRIBE', 'x'))).status).toBe(404);
    } finally {
      c.close();
    }
  });

  it('answers garbage with 400 and keeps serving others', async () => {
    const { port } = sim.rtsp.address();
    const reply = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      let text = '';
      s.on('data', (d) => { text += d.toString(); });
      s.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^RTSP\/1\.0 400 Bad Request/);
    expect(await probe(authed('3611', 'sub'), 'tcp')).toMatchObject({ codec_name: 'h264' });
  });
});
