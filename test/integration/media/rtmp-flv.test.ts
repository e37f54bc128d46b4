// RTMP in and FLV out: a device pushing with ffmpeg (-f flv) to its camera's key becomes a live camera under its
// unit, on the same frame bus, health and rights as pulled cameras; a wrong key is refused and audited. Any camera is
// served as HTTP-FLV and WebSocket-FLV behind tokens; ffprobe reads both; a revoked viewer's FLV ends within 5 s.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_DIR, grantToVillage, login, startGateway, waitFor, type TestGateway } from '../../support/harness.js';
import { FlvReader } from '../../../gateway/src/media/flv.js';

const run = promisify(execFile);
let gw: TestGateway;
let admin: string;
const pushers: ChildProcess[] = [];
beforeAll(async () => {
  gw = await startGateway({ cameras: 200, health: { enabled: true, intervalSeconds: 2 } });
  admin = await login(gw, 'city-admin');
}, 60_000);
afterAll(async () => {
  for (const p of pushers) p.kill('SIGKILL');
  await gw?.close();
});

const village = () => gw.gateway.demoAccounts.find((a) => a.username === 'village-clerk')!.unit;

/** push starts ffmpeg pushing the simulator's sub clip (H.264) and AAC as FLV over RTMP to url, looping. */
function push(url: string, loop = true): ChildProcess & { said: () => string } {
  const p = spawn('ffmpeg', loop ? [
    '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-framerate', '25', '-f', 'h264', '-i', join(CLIP_DIR, 'sub-640x360-25fps-main-512k-v1.h264'),
    '-re', '-stream_loop', '-1', '-f', 'aac', '-i', join(CLIP_DIR, 'audio-aac-16000-v1.adts'),
    '-map', '0:v', '-map', '1:a', '-c', 'copy', '-f', 'flv', url,
  ] : [
    // A short push of the clip as it is (a refused device needs no more).
    '-hide_banner', '-loglevel', 'error', '-re', '-framerate', '25', '-f', 'h264', '-i', join(CLIP_DIR, 'sub-640x360-25fps-main-512k-v1.h264'), '-t', '5', '-c', 'copy', '-f', 'flv', url,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  p.stderr!.on('data', (d: Buffer) => { said += d.toString(); });
  pushers.push(p);
  return Object.assign(p, { said: () => said });
}

async function ticket(cookie: string, camera: string, profile: 'main' | 'sub' = 'sub'): Promise<{ flvUrl: string; token: string }> {
  const res = await gw.gateway.http.inject({ method: 'POST', url: '/api/streams', headers: { cookie }, payload: { camera, profile } });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('RTMP push cameras', () => {
  it('makes a push camera under a unit; its device pushes with ffmpeg; it goes live on the bus and online in health', async () => {
    const unit = village();
    const id = `${unit.slice(0, 6)}0013${String(Date.now()).slice(-10)}`;
    const made = await gw.gateway.http.inject({ method: 'POST', url: '/api/cameras/push', headers: { cookie: admin }, payload: { id, name: '布控球 1', unit } });
    expect(made.statusCode).toBe(201);
    const { pushUrl, key } = made.json<{ pushUrl: string; key: string }>();
    expect(pushUrl).toMatch(new RegExp(`^rtmp://(localhost|127\\.0\\.0\\.1):\\d+/live/${id}\\?key=`));
    expect(key.length).toBeGreaterThanOrEqual(32);
    // The catalog holds it under the unit; its key is sealed like a password, never answered again.
    const cam = await gw.gateway.http.inject({ method: 'GET', url: `/api/cameras/${id}`, headers: { cookie: admin } });
    expect(cam.statusCode).toBe(200);
    expect(cam.body).not.toContain(key);
    expect(gw.gateway.access.unitOf(id)).toBe(unit);

    push(pushUrl.replace('localhost', '127.0.0.1'));
    await waitFor('the push to be accepted', () => gw.gateway.ingest!.isPublishing(id), 15_000, 100);
    // Watched like any camera: opened, live from the push, its bus carrying the camera's own picture size and AAC.
    gw.gateway.hub.open(id, 'main', { key: 't', user: '1', unit });
    const live = await gw.gateway.hub.waitLive(id, 'main', 15_000);
    expect(live?.state).toBe('live');
    const bus = gw.gateway.hub.bus(id, 'main')!;
    // The pushed audio's first tag may come a little after the first video frame (seen on a loaded machine).
    await waitFor('the pushed audio on the bus', () => bus.tracks.length >= 2, 10_000, 50);
    expect(bus.tracks.map((t) => t.params.kind === 'video' ? `${t.params.codec} ${t.params.width}x${t.params.height}` : t.params.codec)).toEqual(['H264 640x360', 'AAC']);
    // ffprobe reads it back out as FLV, through the gateway.
    const { flvUrl } = await ticket(admin, id, 'main');
    const probed = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${gw.url}${flvUrl}`], { timeout: 20_000 })).stdout) as { streams: Array<{ codec_name: string; width?: number }> };
    expect(probed.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // Health says online once the sweep has looked.
    await waitFor('the camera online in health', async () => {
      const h = await gw.gateway.http.inject({ method: 'GET', url: `/api/cameras/${id}/health`, headers: { cookie: admin } });
      return h.statusCode === 200 && h.json<{ state: string }>().state === 'online';
    }, 20_000, 250);
  });

  it('refuses a push with a wrong key, or to a camera that is not a push camera, and audits both', async () => {
    const unit = village();
    const id = `${unit.slice(0, 6)}0013${String(Date.now() + 7).slice(-10)}`;
    const made = await gw.gateway.http.inject({ method: 'POST', url: '/api/cameras/push', headers: { cookie: admin }, payload: { id, name: '执法记录仪', unit } });
    const { pushUrl } = made.json<{ pushUrl: string }>();
    const refusedFor = async (reason: string) => waitFor(`the refusal (${reason}) in the audit trail`, async () => {
      const res = await gw.gateway.http.inject({ method: 'GET', url: '/api/audit?action=refused&limit=100', headers: { cookie: admin } });
      return res.json<{ entries: Array<{ detail: { route?: string; message?: string; reason?: string } | null }> }>().entries.some((e) => e.detail?.route === 'rtmp' && e.detail.message === reason && e.detail.reason === 'push-refused');
    }, 15_000, 250);
    // Each is cut off at its publish, and its refusal is in the audit trail with its reason.
    const wrong = push(pushUrl.replace('localhost', '127.0.0.1').replace(/key=.*/, 'key=not-the-key'), false);
    await refusedFor('the push key is wrong');
    const pulled = gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code).find((c) => !gw.gateway.catalog.camera(c)!.mainUrl!.startsWith('rtmp-push:'))!;
    const foreign = push(pushUrl.replace('localhost', '127.0.0.1').replace(id, pulled), false);
    await refusedFor('no push camera has this id').catch((err: Error) => { throw new Error(`${err.message}; ffmpeg said ${JSON.stringify(foreign.said())} (exit ${foreign.exitCode}); url ${pushUrl.replace(id, pulled)}`); });
    expect(wrong.said()).not.toMatch(/key=not-the-key.*published/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(gw.gateway.ingest!.isPublishing(id)).toBe(false);
    expect(gw.gateway.ingest!.isPublishing(pulled)).toBe(false);
  });
});

describe('FLV out', () => {
  it('serves a pulled camera as HTTP-FLV and WebSocket-FLV, both read by ffprobe', async () => {
    const camera = gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code).filter((c) => !gw.gateway.catalog.camera(c)!.mainUrl!.startsWith('rtmp-push:'))[10]!;
    const { flvUrl } = await ticket(admin, camera);
    const probed = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${gw.url}${flvUrl}`], { timeout: 20_000 })).stdout) as { streams: Array<{ codec_name: string; width?: number; height?: number }> };
    expect(probed.streams).toEqual([expect.objectContaining({ codec_name: 'h264', width: 640, height: 360 })]);
    // WebSocket-FLV: the same bytes in messages; two seconds of them are a file ffprobe reads, and our own reader too.
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}${flvUrl}`);
    const chunks: Buffer[] = [];
    ws.on('message', (d: Buffer) => chunks.push(Buffer.from(d)));
    await waitFor('two seconds of WebSocket-FLV', () => Buffer.concat(chunks).length > 100_000, 15_000, 100);
    ws.close();
    const file = Buffer.concat(chunks);
    expect(file.subarray(0, 3).toString()).toBe('FLV');
    const ff = spawn('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', '-i', 'pipe:0']);
    let out = '';
    ff.stdout.on('data', (d) => { out += d; });
    ff.stdin.end(file);
    await new Promise((done) => ff.on('exit', done));
    const frames = JSON.parse(out) as { streams: Array<{ codec_name: string; nb_read_frames: string }> };
    expect(frames.streams[0]!.codec_name).toBe('h264');
    expect(Number(frames.streams[0]!.nb_read_frames)).toBeGreaterThan(25);
    // The first tag after the header is the AVC sequence header, and our reader takes it.
    const r = new FlvReader();
    const first = r.readVideo(file.subarray(13 + 11, 13 + 11 + file.readUIntBE(13 + 1, 3)), 0);
    expect(first && 'params' in first && first.params).toMatchObject({ codec: 'H264', width: 640, height: 360 });
  });

  it('refuses a forged token, and ends a revoked viewer\'s HTTP-FLV and WebSocket-FLV within 5 s', async () => {
    const { camera, revoke } = await grantToVillage(gw);
    const clerk = await login(gw, 'village-clerk');
    const { flvUrl } = await ticket(clerk, camera);
    expect((await fetch(`${gw.url}${flvUrl.replace(/t=[^&]+/, 't=AAAA.BBBB')}`)).status).toBe(403);
    const res = await fetch(`${gw.url}${flvUrl}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/x-flv');
    const reader = res.body!.getReader();
    let httpEnded = 0;
    void (async () => {
      for (;;) {
        const { done } = await reader.read().catch(() => ({ done: true }));
        if (done) { httpEnded = Date.now(); return; }
      }
    })();
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}${flvUrl}`);
    let wsClosed = 0;
    let wsCode = 0;
    ws.on('close', (code) => { wsClosed = Date.now(); wsCode = code; });
    ws.on('message', () => undefined);
    await new Promise((done) => ws.on('open', done));
    await new Promise((r) => setTimeout(r, 500));
    expect(httpEnded).toBe(0);
    expect(await revoke()).toBe(200);
    const at = Date.now();
    await waitFor('both FLV views to end', () => httpEnded > 0 && wsClosed > 0, 5000, 50);
    expect(Math.max(httpEnded, wsClosed) - at).toBeLessThan(5000);
    expect(wsCode).toBe(4403);
  });
});
