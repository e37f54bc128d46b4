// A camera no one here wrote: Debian's GStreamer RTSP server (Digest authentication, live x264/x265 encoding, G.711
// audio) onboarded, probed and played through the gateway's HTTP API, every output read back by ffprobe.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** play opens the main stream of a camera and returns its first segment, fetched as a player fetches it. */
async function play(id: string): Promise<Buffer> {
  const ticket = await req('POST', '/api/streams', { camera: id, profile: 'main' });
  expect(ticket.statusCode, ticket.body).toBe(200);
  const playlist = await req('GET', ticket.json().playlistUrl);
  expect(playlist.statusCode, playlist.body).toBe(200);
  const segment = playlist.body.split('\n').find((l) => l.startsWith('seg'))!;
  const res = await req('GET', `/media/hls/${id}/main/${segment}`);
  expect(res.statusCode).toBe(200);
  return res.rawPayload;
}

/** probe is what ffprobe reads in a segment. */
function probe(segment: Buffer): Array<Record<string, unknown>> {
  const file = join(tmpdir(), `gst-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, segment);
  try {
    return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height,has_b_frames', '-of', 'json', file], { encoding: 'utf8' })).streams;
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
    expect(streams.filter((s) => s.codec_type === 'video')).toEqual([expect.objectContaining({ codec_name: 'h264', width: 640, height: 360 })]);
    const info = (await req('GET', '/api/streams/GST-H264/main')).json();
    expect(info).toMatchObject({ state: 'live', transport: 'tcp' });
    expect(info.tracks).toEqual([
      { kind: 'video', codec: 'H264', carried: true },
      { kind: 'audio', codec: 'PCMA', carried: false, note: expect.stringMatching(/PCMA audio is not carried/) },
    ]);
    for (const pid of gw.gateway.hub.childPids()) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toMatch(/rtsp:|gst-Cam-pass9/);
    expect(gw.logs.join('\n')).not.toMatch(SECRETS);
  });

  it('plays over UDP when the camera is set to it', async () => {
    await add('GST-UDP', '/h264', { transport: 'udp' });
    expect(probe(await play('GST-UDP')).find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
    expect((await req('GET', '/api/streams/GST-UDP/main')).json()).toMatchObject({ state: 'live', transport: 'udp' });
  });

  it('carries H.264 with B-frames and H.265 as they come', async () => {
    await add('GST-BFRAMES', '/h264-bframes');
    await add('GST-H265', '/h265');
    const [bframes, hevc] = await Promise.all([play('GST-BFRAMES'), play('GST-H265')]);
    const b = probe(bframes).find((s) => s.codec_type === 'video')!;
    expect(b).toMatchObject({ codec_name: 'h264', width: 640 });
    expect(b.has_b_frames).toBeGreaterThan(0);
    expect(probe(hevc).find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'hevc', width: 640, height: 360 });
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
