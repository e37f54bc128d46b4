// The gateway's RTSP output read by players no one here wrote: ffprobe and ffmpeg (libavformat's RTSP client) and
// GStreamer's rtspsrc (Debian's VLC is built without live555 and reads no RTSP), over TCP interleaved, with the media token in the URL; refused without a right, and cut off within
// 5 s when the right is revoked.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantToVillage, login, ROOT, setFaults, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

const run = promisify(execFile);
let gw: TestGateway;
let admin: string;
beforeAll(async () => {
  gw = await startGateway({ cameras: 200 });
  admin = await login(gw, 'city-admin');
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

const cameras = () => gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code);

async function rtspUrl(cookie: string, camera: string, profile: 'main' | 'sub'): Promise<string> {
  const res = await gw.gateway.http.inject({ method: 'POST', url: '/api/streams', headers: { cookie }, payload: { camera, profile } });
  expect(res.statusCode).toBe(200);
  const url = res.json<{ rtspUrl?: string }>().rtspUrl;
  expect(url).toMatch(/^rtsp:\/\/(localhost|127\.0\.0\.1):\d+\/live\//);
  return url!;
}

interface Probed { streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string }> }

async function ffprobe(url: string): Promise<Probed> {
  return JSON.parse((await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_type,codec_name,width,height,sample_rate', '-of', 'json', url], { timeout: 20_000 })).stdout) as Probed;
}

/** decoded has ffmpeg decode seconds of the stream and counts the pictures. */
async function decoded(url: string, seconds: number): Promise<{ frames: number; errors: string }> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-stats', '-rtsp_transport', 'tcp', '-i', url, '-t', String(seconds), '-map', '0:v', '-f', 'null', '-'], { timeout: 30_000 });
  const m = [...stderr.matchAll(/frame=\s*(\d+)/g)].at(-1);
  return { frames: Number(m?.[1] ?? 0), errors: stderr.split('\n').filter((l) => l && !/frame=|^\s*$/.test(l)).join('\n') };
}

describe('RTSP out', () => {
  it('serves the main (High-profile H.264) and sub profiles: ffprobe reads them, ffmpeg decodes 2 s of pictures from the first', async () => {
    const camera = cameras()[3]!;
    const main = await rtspUrl(admin, camera, 'main');
    const probedMain = await ffprobe(main);
    expect(probedMain.streams.filter((s) => s.codec_type === 'video')).toEqual([expect.objectContaining({ codec_name: 'h264', width: 1280, height: 720 })]);
    const sub = await rtspUrl(admin, camera, 'sub');
    expect((await ffprobe(sub)).streams[0]).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    const d = await decoded(sub, 2);
    expect(d.frames).toBeGreaterThanOrEqual(45);
    expect(d.errors).toBe('');
    // Both readers and the HLS/WebRTC viewers share the one pull of each profile.
    expect(gw.gateway.hub.list().filter((s) => s.camera === camera)).toHaveLength(2);
  });

  it('serves H.265 and AAC audio as the camera sends them', async () => {
    const camera = cameras()[4]!;
    await setFaults(gw.simulator, camera, { codec: 'h265', audio: 'aac' });
    const probed = await ffprobe(await rtspUrl(admin, camera, 'sub'));
    expect(probed.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'hevc']);
    expect(probed.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 640, height: 360 });
  });

  it('is read by GStreamer\'s rtspsrc, an RTSP client that is not libavformat', async () => {
    const camera = cameras()[5]!;
    const url = await rtspUrl(admin, camera, 'main');
    const { stdout } = await run('/usr/bin/python3', [join(ROOT, 'test/support/gst-rtsp-read.py'), url, '3'], { timeout: 30_000 });
    const got = JSON.parse(stdout) as { pictures: number; keyframes: number; width: number; height: number; codec: string; error: string | null };
    expect(got.error).toBeNull();
    expect(got).toMatchObject({ codec: 'H264', width: 1280, height: 720 });
    // From the cached keyframe on: the first picture is a keyframe, and three seconds hold about 75.
    expect(got.keyframes).toBeGreaterThanOrEqual(1);
    expect(got.pictures).toBeGreaterThanOrEqual(50);
  });

  it('refuses a forged or foreign token with 403, and audits the refusal', async () => {
    const camera = cameras()[6]!;
    const url = await rtspUrl(admin, camera, 'sub');
    const forged = url.replace(/\/[^/]+$/, '/AAAA.BBBB');
    await expect(ffprobe(forged)).rejects.toThrow(/403|Forbidden/);
    // A token for another camera does not open this one.
    const other = url.replace(`/live/${camera}/`, `/live/${cameras()[7]}/`);
    await expect(ffprobe(other)).rejects.toThrow(/403|Forbidden/);
    await waitFor('the refusal in the audit trail', async () => {
      const res = await gw.gateway.http.inject({ method: 'GET', url: '/api/audit?action=refused&limit=50', headers: { cookie: admin } });
      return res.json<{ entries: Array<{ detail: { route?: string } | null }> }>().entries.some((e) => e.detail?.route === 'rtsp');
    }, 15_000, 250);
  });

  it('cuts a reader off within 5 s when her right is revoked', async () => {
    const { camera, revoke } = await grantToVillage(gw);
    const clerk = await login(gw, 'village-clerk');
    const url = await rtspUrl(clerk, camera, 'sub');
    const reader = spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-map', '0:v', '-f', 'null', '-']);
    const exited = new Promise<number>((done) => reader.on('exit', () => done(Date.now())));
    await waitFor('the clerk\'s reader to play', () => gw.gateway.rtsp!.sessions.some((s) => s.camera === camera), 20_000, 100);
    expect(await revoke()).toBe(200);
    const at = Date.now();
    await waitFor('the reader to be cut off', () => !gw.gateway.rtsp!.sessions.some((s) => s.camera === camera), 5000, 50);
    expect(Date.now() - at).toBeLessThan(5000);
    // ffmpeg sees its input end (it exits by itself within its own timeout).
    const end = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(0), 15_000))]);
    reader.kill('SIGKILL');
    expect(end).toBeGreaterThan(0);
    // And the same URL is refused from now on.
    await expect(ffprobe(url)).rejects.toThrow(/403|Forbidden/);
  });

  it('answers garbage with 400 and closes, and keeps serving others', async () => {
    const { createConnection } = await import('node:net');
    const port = gw.gateway.rtsp!.port;
    const answer = await new Promise<string>((done) => {
      const s = createConnection(port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      let text = '';
      s.on('data', (d) => { text += d.toString(); });
      s.on('close', () => done(text));
    });
    expect(answer).toMatch(/^RTSP\/1\.0 400/);
    const camera = cameras()[8]!;
    expect((await ffprobe(await rtspUrl(admin, camera, 'sub'))).streams[0]).toMatchObject({ codec_name: 'h264' });
  });
});
