// Cameras as they really come, over HTTP with the real simulator: one at its session limit, one that sends RTP over
// UDP only, two with audio, one with B-frames, one read by the ffmpeg fallback. The camera's password reaches no viewer, no log line and no
// process's command line; what each camera sends, and what of it is carried, is said in the stream's info.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, setFaults, SIM_PASSWORD, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
let cookies: Record<string, string>;
beforeAll(async () => {
  gw = await startGateway({ cameras: 2000, keepLogs: true, media: { startTimeoutSeconds: 6 } });
  cookies = {};
  for (const u of ['county-admin', 'village-clerk']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => { await gw?.close(); });

const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
const req = (method: 'GET' | 'POST', url: string, user: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}), headers: { cookie: cookies[user]! } });
/** camera returns the i-th camera of the county outside the clerk's village (whose cameras the first tests use). */
const camera = (i: number) => gw.gateway.access.camerasUnder(unitOf('county-admin')).filter((id) => !gw.gateway.access.tree.contains(unitOf('village-clerk'), gw.gateway.access.unitOf(id)!))[i]!;
/** SECRETS are what no viewer, log line or command line may hold. */
const SECRETS = new RegExp(`${SIM_PASSWORD}|admin:|rtsp://[^\\s"]*@`);

/** commandLines returns the command lines of the gateway's ffmpeg children (what every local user can read). */
function commandLines(): string[] {
  return gw.gateway.hub.childPids().map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
}

describe('secrets stay in the gateway', () => {
  it('a camera at its session limit (DESCRIBE 503) is refused in words, with no password anywhere', async () => {
    const cam = gw.gateway.access.camerasUnder(unitOf('village-clerk'))[0]!;
    await setFaults(gw.simulator, cam, { describeStatus: 503 });
    const ticket = await req('POST', '/api/streams', 'village-clerk', { camera: cam, profile: 'sub' });
    expect(ticket.statusCode).toBe(200);
    const info = await waitFor('the refusal', async () => {
      const i = (await req('GET', `/api/streams/${cam}/sub`, 'village-clerk')).json();
      return i.error?.kind === 'refused' && i;
    }, 15_000);
    expect(info.error).toEqual({ kind: 'refused', message: 'the camera refused the stream (503 Service Unavailable): it may be serving as many clients as it can' });
    const playlist = await req('GET', ticket.json().playlistUrl, 'village-clerk');
    expect(playlist.statusCode).toBe(503);
    for (const text of [JSON.stringify(info), playlist.body, gw.logs.join('\n')]) expect(text).not.toMatch(SECRETS);
    await setFaults(gw.simulator, cam, { describeStatus: null });
  });

  it('plays a camera in the gateway itself: no process to read a password from, and none in any log line', async () => {
    const cam = gw.gateway.access.camerasUnder(unitOf('village-clerk'))[1]!;
    const ticket = (await req('POST', '/api/streams', 'village-clerk', { camera: cam, profile: 'sub' })).json();
    expect((await req('GET', ticket.playlistUrl, 'village-clerk')).statusCode).toBe(200);
    expect(gw.gateway.hub.childPids()).toEqual([]);
    expect(gw.logs.join('\n')).not.toMatch(SECRETS);
  });

  it('plays a camera set to the ffmpeg fallback with no password on ffmpeg\'s command line, nor in any log line', async () => {
    const cam = camera(17);
    gw.gateway.config.media.ffmpegCameras.push(cam);
    const ticket = (await req('POST', '/api/streams', 'county-admin', { camera: cam, profile: 'sub' })).json();
    const playlist = await req('GET', ticket.playlistUrl, 'county-admin');
    expect(playlist.statusCode).toBe(200);
    expect(playlist.body).toMatch(/^seg\d+\.ts\?t=/m);
    const lines = commandLines();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(/-f sdp .*-i pipe:0/);
      expect(line).not.toMatch(/rtsp:|sim-Test-pass|admin/);
    }
    expect(gw.logs.join('\n')).not.toMatch(SECRETS);
  });
});

describe('cameras as they come', () => {
  it('plays a camera that sends RTP over UDP only (transport auto), and says how it arrives', async () => {
    const cam = camera(12);
    await setFaults(gw.simulator, cam, { udpOnly: true });
    expect(gw.gateway.catalog.camera(cam)!.transport).toBe('auto');
    const ticket = (await req('POST', '/api/streams', 'county-admin', { camera: cam, profile: 'sub' })).json();
    expect((await req('GET', ticket.playlistUrl, 'county-admin')).statusCode).toBe(200);
    expect((await req('GET', `/api/streams/${cam}/sub`, 'county-admin')).json()).toMatchObject({ state: 'live', transport: 'udp' });
  });

  it('says a camera set to TCP does not offer it, and what to set', async () => {
    const cam = camera(13);
    await setFaults(gw.simulator, cam, { udpOnly: true });
    const c = gw.gateway.catalog.camera(cam)!;
    gw.gateway.catalog.upsertCameras([{ ...c, transport: 'tcp' }]);
    await req('POST', '/api/streams', 'county-admin', { camera: cam, profile: 'sub' });
    const info = await waitFor('the refusal', async () => {
      const i = (await req('GET', `/api/streams/${cam}/sub`, 'county-admin')).json();
      // The error stays while a retry starts: the state may be caught between two attempts.
      return i.error?.kind === 'unsupported' && i;
    }, 15_000);
    expect(info.error).toMatchObject({ kind: 'unsupported', message: expect.stringMatching(/set its transport to UDP, or to auto/) });
    // The camera record is admin business: the transport shows in its details.
    expect((await req('GET', `/api/cameras/${cam}`, 'county-admin')).json().transport).toBe('tcp');
  });

  it('carries AAC audio in HLS, and says G.711 audio is kept for WebRTC rather than dropping it without a word', async () => {
    const aac = camera(14);
    await setFaults(gw.simulator, aac, { audio: 'aac' });
    let ticket = (await req('POST', '/api/streams', 'county-admin', { camera: aac, profile: 'sub' })).json();
    expect((await req('GET', ticket.playlistUrl, 'county-admin')).statusCode).toBe(200);
    expect((await req('GET', `/api/streams/${aac}/sub`, 'county-admin')).json().tracks).toEqual([
      { kind: 'video', codec: 'H264', carried: true },
      { kind: 'audio', codec: 'AAC', carried: true },
    ]);
    const pcma = camera(16);
    await setFaults(gw.simulator, pcma, { audio: 'pcma' });
    ticket = (await req('POST', '/api/streams', 'county-admin', { camera: pcma, profile: 'sub' })).json();
    expect((await req('GET', ticket.playlistUrl, 'county-admin')).statusCode).toBe(200);
    expect((await req('GET', `/api/streams/${pcma}/sub`, 'county-admin')).json().tracks).toEqual([
      { kind: 'video', codec: 'H264', carried: true },
      { kind: 'audio', codec: 'PCMA', carried: false, note: expect.stringMatching(/G\.711 A-law audio is not carried in HLS.*WebRTC carries it/) },
    ]);
  });

  it('carries H.264 with B-frames: segments ffprobe reads, with their reordering', async () => {
    const cam = camera(15);
    await setFaults(gw.simulator, cam, { bframes: true });
    const ticket = (await req('POST', '/api/streams', 'county-admin', { camera: cam, profile: 'main' })).json();
    expect((await req('GET', ticket.playlistUrl, 'county-admin')).statusCode).toBe(200);
    // The segment as a player gets it: named in the playlist, fetched through the media route with its init segment.
    // The third segment is the first whole GOP (a run's first one is split to start players at once).
    const playlist = await waitFor('a whole GOP', async () => {
      const text = (await req('GET', ticket.playlistUrl, 'county-admin')).body;
      return (text.match(/^seg-\d+\.m4s/gm) ?? []).length >= 3 && text;
    }, 15_000);
    const base = `/media/hls/${cam}/main/`;
    const init = await req('GET', base + /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!, 'county-admin');
    const segment = await req('GET', base + playlist.split('\n').filter((l) => l.startsWith('seg-'))[2]!, 'county-admin');
    expect(init.statusCode).toBe(200);
    expect(segment.statusCode).toBe(200);
    expect(segment.headers['content-type']).toMatch(/video\/iso\.segment/);
    const file = join(tmpdir(), `bframes-${process.pid}.mp4`);
    writeFileSync(file, Buffer.concat([init.rawPayload, segment.rawPayload]));
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,has_b_frames,width,height,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' }));
    const packets = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts,dts', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(',').map(Number));
    rmSync(file, { force: true });
    expect(probe.streams[0]).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(probe.streams[0].has_b_frames).toBeGreaterThan(0);
    expect(Number(probe.streams[0].nb_read_frames)).toBe(50);
    // Decode times only grow and never pass presentation times; presentation order differs from decode order.
    for (let i = 1; i < packets.length; i++) expect(packets[i]![1]!).toBeGreaterThan(packets[i - 1]![1]!);
    for (const [pts, dts] of packets) expect(dts!).toBeLessThanOrEqual(pts!);
    expect(packets.some(([pts], i) => i > 0 && pts! < packets[i - 1]![0]!)).toBe(true);
    expect((await req('GET', `/api/streams/${cam}/main`, 'county-admin')).json()).toMatchObject({ state: 'live' });
  });
});
