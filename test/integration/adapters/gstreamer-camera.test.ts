// A camera no one here wrote: Debian's GStreamer RTSP server (Digest authentication, live x264/x265 encoding, G.711 and
// AAC audio) onboarded, probed and played through the gateway's HTTP API and its in-process media core, every output
// read back by ffprobe.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGstCamera, type GstCamera } from '../../support/gst-camera.js';
import { login, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

const USER = 'admin';
const PASSWORD = 'gst-Cam-pass9';

let gst: GstCamera;
let gw: TestGateway;
let cookie: string;
beforeAll(async () => {
  // 640×360: each client gets its own live x264/x265 encoder, which must keep up on a busy 2-core machine.
  gst = await startGstCamera({ username: USER, password: PASSWORD, width: 640, height: 360 });
  gw = await startGateway({ cameras: 200, keepLogs: true, media: { startTimeoutSeconds: 12 } });
  cookie = await login(gw, 'county-admin');
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await gst?.close();
});

const county = () => gw.gateway.demoAccounts.find((a) => a.username === 'county-admin')!.unit;
const req = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}), headers: { cookie } });

/** add onboards a GStreamer mount as a camera of the county, through the API. */
async function add(id: string, mount: string, over: Record<string, unknown> = {}): Promise<void> {
  const res = await req('POST', '/api/cameras', { id, name: `GStreamer ${mount}`, unit: county(), mainUrl: gst.url(mount), username: USER, password: PASSWORD, ...over });
  expect(res.statusCode, res.body).toBe(201);
}

/** play opens the main stream of a camera and returns its init segment and first whole-GOP segment, fetched as a player does. */
async function play(id: string): Promise<Buffer> {
  const ticket = await req('POST', '/api/streams', { camera: id, profile: 'main' });
  expect(ticket.statusCode, ticket.body).toBe(200);
  const playlist = await waitFor(`a whole segment of ${id}`, async () => {
    const res = await req('GET', ticket.json().playlistUrl);
    expect(res.statusCode, res.body).toBe(200);
    // The third segment is the first whole GOP (a run's first one is split to start players at once).
    return (res.body.match(/^seg-\d+\.m4s/gm) ?? []).length >= 3 && res.body;
  }, 20_000);
  const base = `/media/hls/${id}/main/`;
  const init = await req('GET', base + /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!);
  const segment = await req('GET', base + playlist.split('\n').filter((l) => l.startsWith('seg-'))[2]!);
  expect(init.statusCode).toBe(200);
  expect(segment.statusCode).toBe(200);
  return Buffer.concat([init.rawPayload, segment.rawPayload]);
}

/** probe is what ffprobe reads in a segment (with its init segment): streams with their decoded frame counts. */
function probe(segment: Buffer): Array<Record<string, unknown>> {
  const file = join(tmpdir(), `gst-${process.pid}-${Math.random().toString(36).slice(2)}.mp4`);
  writeFileSync(file, segment);
  try {
    // Every frame decodes without a word from the decoder.
    expect(execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe('');
    const dts = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=dts', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split('\n').map(Number);
    for (let i = 1; i < dts.length; i++) expect(dts[i]).toBeGreaterThan(dts[i - 1]!);
    return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,codec_type,width,height,has_b_frames,nb_read_frames,sample_rate', '-of', 'json', file], { encoding: 'utf8' })).streams;
  } finally {
    rmSync(file, { force: true });
  }
}

const SECRETS = new RegExp(`${PASSWORD}|${USER}:|rtsp://[^\\s"]*@`);

describe('the GStreamer RTSP server as a camera', () => {
  it('is probed over RTSP with Digest: its video and audio tracks named', async () => {
    const res = await req('POST', '/api/devices/probe', { url: gst.url('/h264'), username: USER, password: PASSWORD });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.kind).toBe('rtsp');
    expect(body.streams[0]).toMatchObject({ encoding: 'H264', probe: { auth: 'digest' } });
    const wrong = await req('POST', '/api/devices/probe', { url: gst.url('/h264'), username: USER, password: 'not-it' });
    expect(JSON.stringify(wrong.json())).toMatch(/401|credentials/i);
    expect(JSON.stringify(wrong.json())).not.toMatch(SECRETS);
  });

  it('plays H.264 over TCP: segments ffprobe reads at 640×360, its A-law audio said not carried, no secret anywhere', async () => {
    await add('GST-H264', '/h264');
    const streams = probe(await play('GST-H264'));
    // A 1 s GOP at 25 fps: a whole segment is one GOP of 25 pictures; G.711 is not in HLS.
    expect(streams).toEqual([expect.objectContaining({ codec_name: 'h264', codec_type: 'video', width: 640, height: 360, nb_read_frames: '25' })]);
    const info = (await req('GET', '/api/streams/GST-H264/main')).json();
    expect(info).toMatchObject({ state: 'live', transport: 'tcp' });
    expect(info.tracks).toEqual([
      { kind: 'video', codec: 'H264', carried: true },
      { kind: 'audio', codec: 'PCMA', carried: false, note: expect.stringMatching(/G\.711 A-law audio is not carried in HLS/) },
    ]);
    // The media core reads the camera in the gateway: no process runs for it.
    expect(gw.gateway.hub.childPids()).toEqual([]);
    expect(gw.logs.join('\n')).not.toMatch(SECRETS);
  });

  it('plays over UDP when the camera is set to it', async () => {
    await add('GST-UDP', '/h264', { transport: 'udp' });
    expect(probe(await play('GST-UDP')).find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
    expect((await req('GET', '/api/streams/GST-UDP/main')).json()).toMatchObject({ state: 'live', transport: 'udp' });
  });

  it('carries H.264 with B-frames, and H.265 with AAC audio, as they come', async () => {
    await add('GST-BFRAMES', '/h264-bframes');
    await add('GST-H265', '/h265');
    const [bframes, hevc] = await Promise.all([play('GST-BFRAMES'), play('GST-H265')]);
    const b = probe(bframes).find((s) => s.codec_type === 'video')!;
    expect(b).toMatchObject({ codec_name: 'h264', width: 640, nb_read_frames: '25' });
    expect(b.has_b_frames).toBeGreaterThan(0);
    const h = probe(hevc);
    expect(h.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'hevc', width: 640, height: 360, nb_read_frames: '25' });
    const aac = h.find((s) => s.codec_type === 'audio')!;
    expect(aac).toMatchObject({ codec_name: 'aac', sample_rate: '16000' });
    // One second of 16 kHz AAC is 15.6 frames of 1024 samples.
    expect(Number(aac.nb_read_frames)).toBeGreaterThanOrEqual(13);
    expect(Number(aac.nb_read_frames)).toBeLessThanOrEqual(18);
    expect((await req('GET', '/api/streams/GST-H265/main')).json().tracks).toEqual([
      { kind: 'video', codec: 'H265', carried: true },
      { kind: 'audio', codec: 'AAC', carried: true },
    ]);
  });

  it('says its credentials were rejected when the stored password is wrong', async () => {
    await add('GST-WRONG', '/h264', { password: 'not-the-password' });
    expect((await req('POST', '/api/streams', { camera: 'GST-WRONG', profile: 'main' })).statusCode).toBe(200);
    const info = await waitFor('the refusal', async () => {
      const i = (await req('GET', '/api/streams/GST-WRONG/main')).json();
      return i.error?.kind === 'unauthorized' && i;
    }, 20_000);
    expect(info.error.message).toMatch(/rejected the stored credentials/);
    expect(JSON.stringify(info)).not.toMatch(SECRETS);
    // Health answers for it as for any camera: reachable, and its credentials rejected; the right ones accepted.
    gw.gateway.health.start();
    const health = (id: string) => gw.gateway.health.camera(id);
    await waitFor('the sweep and the credentials check', () => health('GST-WRONG')?.state === 'online' && health('GST-WRONG')?.credentials === 'rejected' && health('GST-H264')?.credentials === 'accepted', 30_000);
    expect(health('GST-WRONG')!.credentialsReason).toMatch(/rejected the (stored )?credentials/);
  });
});
