// The video wall over the real HTTP server: the rights of operators and of the wall's unit, state versions between two
// operators, layouts and the stream each tile takes, roaming windows over two screens, presets, tours started ahead,
// alarm pop-ups and their queue, display devices (their own tokens, their media, a decoder's RTSP read by ffprobe),
// a right revoked while on the wall, and the state coming back after a restart.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startGateway, waitFor, type TestGateway } from '../../support/harness.js';
import type { DisplayStateT, WallT } from '../../../gateway/src/wall/wall-schemas.js';

const run = promisify(execFile);
let gw: TestGateway;
const cookies: Record<string, string> = {};

beforeAll(async () => {
  gw = await startGateway({ cameras: 400 });
  for (const u of ['city-admin', 'county-admin', 'township-operator', 'village-clerk']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

const unitOf = (u: string) => gw.gateway.catalog.userWithHash(u)!.user.unit;
const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, headers: { cookie: cookies[who]! }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
const township = () => unitOf('township-operator');
const auditEntries = (limit: number) => gw.gateway.audit.query({ units: gw.gateway.access.tree.subtree(gw.gateway.access.tree.root.code).map((u) => u.code), unattributed: true, limit, offset: 0 }).entries;
const townshipCameras = () => gw.gateway.access.camerasUnder(township());

async function makeWall(rows = 1, cols = 2, split = 4): Promise<WallT> {
  const res = await req('POST', '/api/walls', 'county-admin', { name: `墙${Math.random().toString(36).slice(2, 6)}`, unit: township(), rows, cols, split });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<WallT>();
}
async function wallOf(id: number, who = 'township-operator'): Promise<WallT> {
  const res = await req('GET', `/api/walls/${id}`, who);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<WallT>();
}
async function command(id: number, version: number, cmd: Record<string, unknown>, who = 'township-operator') {
  return req('POST', `/api/walls/${id}/commands`, who, { version, command: cmd });
}
async function ok(id: number, cmd: Record<string, unknown>, who = 'township-operator'): Promise<number> {
  const w = await wallOf(id, who);
  const res = await command(id, w.version, cmd, who);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ version: number }>().version;
}
async function display(id: number, screen: number): Promise<{ token: string; url: string; id: number }> {
  const res = await req('POST', `/api/walls/${id}/displays`, 'county-admin', { screen, name: `屏${screen + 1}` });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ token: string; url: string; id: number }>();
}
const displayState = async (token: string) => {
  const res = await gw.gateway.http.inject({ method: 'GET', url: '/api/display/state', headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json<DisplayStateT>() };
};

/** follow opens a display's WebSocket (its token in the first message) and keeps every state it is sent. */
function follow(token: string): Promise<{ ws: WebSocket; states: DisplayStateT[]; closed: () => number | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/api/display/ws`);
    const states: DisplayStateT[] = [];
    let code: number | undefined;
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m)) as { type: string; state?: DisplayStateT };
      if (msg.type === 'state') states.push(msg.state!);
    });
    ws.on('open', () => { ws.send(JSON.stringify({ type: 'hello', token })); resolve({ ws, states, closed: () => code }); });
    ws.on('close', (c) => { code = c; });
    ws.on('error', reject);
  });
}

describe('walls: who may drive them and put what on them', () => {
  it('lets the township operator drive her unit\'s wall; a village viewer and the API without the right are refused', async () => {
    const w = await makeWall();
    expect(w.screens).toHaveLength(2);
    expect(w.screens[0]!.pictures).toHaveLength(4);
    // Operators only make walls through an administrator.
    expect((await req('POST', '/api/walls', 'township-operator', { name: 'x', unit: township(), rows: 1, cols: 1 })).json()).toMatchObject({ details: { reason: 'wall-admin' } });
    expect((await req('GET', `/api/walls/${w.id}`, 'village-clerk')).statusCode).toBe(404);
    expect((await req('GET', '/api/walls', 'village-clerk')).json<{ walls: unknown[] }>().walls.some((x) => (x as { id: number }).id === w.id)).toBe(false);
    const mine = townshipCameras()[0]!;
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 0 }, camera: mine });
    // A camera outside her township: as if it did not exist.
    const outside = gw.gateway.access.camerasUnder(unitOf('county-admin')).find((c) => !gw.gateway.access.tree.contains(township(), gw.gateway.access.unitOf(c)!))!;
    const far = await command(w.id, (await wallOf(w.id)).version, { op: 'assign', target: { screen: 0, tile: 1 }, camera: outside });
    expect(far.statusCode).toBe(404);
    expect(far.json()).toMatchObject({ details: { reason: 'camera-unknown' } });
    // The county administrator sees it, but the township's wall may not show it.
    const county = await command(w.id, (await wallOf(w.id, 'county-admin')).version, { op: 'assign', target: { screen: 0, tile: 1 }, camera: outside }, 'county-admin');
    expect(county.statusCode).toBe(403);
    expect(county.json()).toMatchObject({ details: { reason: 'wall-unit-lacks' } });
    // Every change and every refusal is in the audit trail, with who, which camera and where.
    const audit = auditEntries(50);
    expect(audit.find((e) => e.action === 'wall.assign' && e.camera === mine)).toMatchObject({ username: 'township-operator', detail: expect.objectContaining({ wall: w.id, at: 't0.0' }) });
    expect(audit.some((e) => e.action === 'refused' && e.camera === outside)).toBe(true);
  });

  it('resolves two operators in one order: a command against an older version is refused only where the wall changed since', async () => {
    const w = await makeWall();
    const [a, b, c] = townshipCameras();
    const v0 = w.version;
    const first = await command(w.id, v0, { op: 'assign', target: { screen: 0, tile: 0 }, camera: a }, 'township-operator');
    expect(first.statusCode).toBe(200);
    // The county operator saw v0 too: the same tile is refused, naming the version now; another tile is taken.
    const clash = await command(w.id, v0, { op: 'assign', target: { screen: 0, tile: 0 }, camera: b }, 'county-admin');
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'conflict', details: { reason: 'wall-stale', version: first.json<{ version: number }>().version } });
    expect((await command(w.id, v0, { op: 'assign', target: { screen: 0, tile: 1 }, camera: b }, 'county-admin')).statusCode).toBe(200);
    // A layout change of the screen makes every older command on its tiles stale.
    const v = (await wallOf(w.id)).version;
    await ok(w.id, { op: 'layout', screen: 0, layout: { split: 9 } });
    expect((await command(w.id, v, { op: 'assign', target: { screen: 0, tile: 2 }, camera: c })).statusCode).toBe(409);
    const after = await wallOf(w.id);
    expect(after.screens[0]!.pictures).toHaveLength(9);
    expect(after.screens[0]!.pictures.slice(0, 2).map((p) => p.label?.camera)).toEqual([a, b]);
  });

  it('gives big tiles the main stream and small ones the sub stream; a maximized tile takes the main', async () => {
    const w = await makeWall(1, 1, 1);
    const cam = townshipCameras()[1]!;
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 0 }, camera: cam });
    expect((await wallOf(w.id)).screens[0]!.pictures[0]!.profile).toBe('main');
    await ok(w.id, { op: 'layout', screen: 0, layout: { split: 16 } });
    expect((await wallOf(w.id)).screens[0]!.pictures[0]).toMatchObject({ profile: 'sub', label: { camera: cam } });
    await ok(w.id, { op: 'maximize', screen: 0, tile: 0 });
    const max = (await wallOf(w.id)).screens[0]!.pictures;
    expect(max[0]).toMatchObject({ profile: 'main', rect: { x: 0, y: 0, w: 1, h: 1 }, hidden: false });
    expect(max[1]!.hidden).toBe(true);
    // A custom layout: one wide tile over two rows of three; cells that overlap are refused naming the cell.
    await ok(w.id, { op: 'maximize', screen: 0, tile: null });
    await ok(w.id, { op: 'layout', screen: 0, layout: { cols: 3, rows: 3, cells: [{ col: 0, row: 0, colSpan: 3, rowSpan: 2 }, { col: 0, row: 2, colSpan: 1, rowSpan: 1 }, { col: 1, row: 2, colSpan: 2, rowSpan: 1 }] } });
    expect((await wallOf(w.id)).screens[0]!.pictures.map((p) => p.profile)).toEqual(['main', 'sub', 'sub']);
    const bad = await command(w.id, (await wallOf(w.id)).version, { op: 'layout', screen: 0, layout: { cols: 2, rows: 2, cells: [{ col: 0, row: 0, colSpan: 2, rowSpan: 1 }, { col: 1, row: 0, colSpan: 1, rowSpan: 1 }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ details: { reason: 'wall-layout' } });
    expect(bad.json<{ message: string }>().message).toMatch(/cells\[1\] overlaps/);
  });
});

describe('windows, presets, tours and alarms', () => {
  it('opens a roaming window across two screens: each display is sent its part; moved, raised and closed', async () => {
    const w = await makeWall(1, 2, 4);
    const d0 = await display(w.id, 0);
    const d1 = await display(w.id, 1);
    const cam = townshipCameras()[2]!;
    const opened = await command(w.id, w.version, { op: 'window.open', x: 0.5, y: 0.25, w: 1, h: 0.5, camera: cam });
    expect(opened.statusCode, opened.body).toBe(200);
    const win = opened.json<{ window: number }>().window;
    const s0 = (await displayState(d0.token)).body.pictures.find((p) => p.key === `w${win}`)!;
    const s1 = (await displayState(d1.token)).body.pictures.find((p) => p.key === `w${win}`)!;
    expect(s0.rect).toEqual({ x: 0.5, y: 0.25, w: 1, h: 0.5 });
    expect(s1.rect).toEqual({ x: -0.5, y: 0.25, w: 1, h: 0.5 });
    expect(s0.z).toBeGreaterThan(0);
    expect(s0.media?.camera).toBe(cam);
    await ok(w.id, { op: 'window.move', window: win, x: 1.2, y: 0, w: 0.5, h: 0.5 });
    expect((await displayState(d0.token)).body.pictures.some((p) => p.key === `w${win}`)).toBe(false);
    expect((await wallOf(w.id)).windows[0]).toMatchObject({ id: win, x: 1.2, w: 0.5 });
    const off = await command(w.id, (await wallOf(w.id)).version, { op: 'window.move', window: win, x: 1.8, y: 0, w: 0.5, h: 0.5 });
    expect(off.json()).toMatchObject({ details: { reason: 'wall-window-outside' } });
    await ok(w.id, { op: 'window.close', window: win });
    expect((await wallOf(w.id)).windows).toEqual([]);
  });

  it('saves the wall as a preset and recalls it in one action; a schedule recalls it at its minute', async () => {
    const w = await makeWall(1, 2, 4);
    const [a, b, c] = townshipCameras();
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 0 }, camera: a });
    await ok(w.id, { op: 'assign', target: { screen: 1, tile: 3 }, camera: b });
    await ok(w.id, { op: 'layout', screen: 1, layout: { split: 9 } });
    const saved = await req('POST', `/api/walls/${w.id}/presets`, 'township-operator', { name: '白班' });
    expect(saved.statusCode, saved.body).toBe(201);
    const preset = saved.json<{ id: number; cameras: number }>();
    expect(preset.cameras).toBe(2);
    // Change everything, then recall.
    await ok(w.id, { op: 'layout', screen: 0, layout: { split: 1 } });
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 0 }, camera: c });
    const recalled = await req('POST', `/api/walls/${w.id}/presets/${preset.id}/recall`, 'township-operator');
    expect(recalled.json()).toMatchObject({ skipped: 0 });
    const back = await wallOf(w.id);
    expect(back.screens.map((s) => s.layoutName)).toEqual(['4', '9']);
    expect(back.screens[0]!.pictures[0]!.label?.camera).toBe(a);
    expect(back.screens[1]!.pictures[3]!.label?.camera).toBe(b);
    // A schedule for this very minute runs at the next check (the timer is at each minute; it is asked here directly).
    await ok(w.id, { op: 'clear', target: { screen: 0, tile: 0 } });
    const now = new Date();
    const s = await req('POST', `/api/walls/${w.id}/schedules`, 'township-operator', { preset: preset.id, minute: now.getHours() * 60 + now.getMinutes(), days: 127 });
    expect(s.statusCode, s.body).toBe(201);
    expect(gw.gateway.walls.runDueSchedules()).toBeGreaterThanOrEqual(1);
    expect((await wallOf(w.id)).screens[0]!.pictures[0]!.label?.camera).toBe(a);
    // Once per due time.
    expect(gw.gateway.walls.runDueSchedules()).toBe(0);
  });

  it('runs a tour: the next cameras are announced to the display before their turn, then shown; pause and stop', async () => {
    const w = await makeWall(1, 1, 4);
    const d = await display(w.id, 0);
    const cams = townshipCameras().slice(0, 4);
    const made = await req('POST', `/api/walls/${w.id}/tours`, 'township-operator', { name: '巡逻', cameras: cams, targets: [{ screen: 0, tile: 0 }, { screen: 0, tile: 1 }], intervalSeconds: 5 });
    expect(made.statusCode, made.body).toBe(201);
    const tour = made.json<{ id: number }>().id;
    // A tour over a unit above her own is refused as a unit she does not know.
    const far = await req('POST', `/api/walls/${w.id}/tours`, 'township-operator', { name: 'x', unit: unitOf('county-admin'), targets: [{ screen: 0, tile: 2 }], intervalSeconds: 5 });
    expect(far.statusCode).toBe(404);
    expect(far.json()).toMatchObject({ details: { reason: 'unit-unknown' } });
    const follower = await follow(d.token);
    expect((await req('POST', `/api/walls/${w.id}/tours/${tour}/start`, 'township-operator')).statusCode).toBe(200);
    const tile = (s: DisplayStateT, i: number) => s.pictures.find((p) => p.key === `t0.${i}`)!;
    await waitFor('the first step', () => follower.states.some((s) => tile(s, 0).label?.camera === cams[0] && tile(s, 1).label?.camera === cams[1]), 10_000);
    // Before the second step the display is told what comes next, with a media URL for it.
    const ahead = await waitFor('the next cameras announced', () => follower.states.find((s) => tile(s, 0).next?.camera === cams[2]), 10_000);
    expect(tile(ahead, 0).label?.camera).toBe(cams[0]);
    expect(tile(ahead, 1).next?.camera).toBe(cams[3]);
    expect(tile(ahead, 0).upcoming!.at).toBeGreaterThan(Date.now() - 1000);
    await waitFor('the second step', () => follower.states.some((s) => tile(s, 0).label?.camera === cams[2]), 10_000);
    const paused = await req('POST', `/api/walls/${w.id}/tours/${tour}/pause`, 'township-operator');
    expect(paused.json()).toMatchObject({ state: 'paused', nextAt: null });
    expect((await req('POST', `/api/walls/${w.id}/tours/${tour}/pause`, 'township-operator')).json()).toMatchObject({ details: { reason: 'wall-tour-state' } });
    expect((await req('POST', `/api/walls/${w.id}/tours/${tour}/stop`, 'township-operator')).json()).toMatchObject({ state: 'stopped' });
    follower.ws.close();
    expect(auditEntries(20).some((e) => e.action === 'wall.tour' && (e.detail as Record<string, unknown>).start === true)).toBe(true);
  });

  it('pops an alarm camera onto the alarm tile until acknowledged; a second waits in the queue; PTZ turns to the preset', async () => {
    const w = await makeWall(1, 1, 4);
    const [normal, first, second] = townshipCameras();
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 3 }, camera: normal });
    expect((await req('POST', `/api/walls/${w.id}/alarms`, 'township-operator', { camera: first })).json()).toMatchObject({ details: { reason: 'wall-no-alarm-target' } });
    expect((await req('PATCH', `/api/walls/${w.id}`, 'county-admin', { alarmTargets: [{ screen: 0, tile: 3 }] })).statusCode).toBe(200);
    // The alarm's PTZ preset is where the head is now; then the head is turned away.
    const pan = async () => (await req('GET', `/api/cameras/${first}/ptz`, 'township-operator')).json<{ status: { pan: number } }>().status.pan;
    const saved = await req('POST', `/api/cameras/${first}/ptz/presets`, 'township-operator', { name: '路口' });
    expect(saved.statusCode, saved.body).toBe(200);
    const home = await pan();
    expect((await req('POST', `/api/cameras/${first}/ptz/centre`, 'township-operator', { x: 0.95, y: 0.5 })).statusCode).toBe(204);
    await waitFor('the head turned away', async () => Math.abs((await pan()) - home) > 0.01);
    const a1 = await req('POST', `/api/walls/${w.id}/alarms`, 'township-operator', { camera: first, note: '人员聚集', preset: saved.json<{ token: string }>().token });
    expect(a1.statusCode, a1.body).toBe(201);
    expect(a1.json()).toMatchObject({ state: 'shown', placed: { screen: 0, tile: 3 } });
    await waitFor('the head back at the preset', async () => Math.abs((await pan()) - home) < 0.01);
    const a2 = await req('POST', `/api/walls/${w.id}/alarms`, 'township-operator', { camera: second });
    expect(a2.json()).toMatchObject({ state: 'queued', placed: null });
    const shown = await wallOf(w.id);
    expect(shown.screens[0]!.pictures[3]).toMatchObject({ label: { camera: first }, alarm: a1.json<{ id: number }>().id });
    // The alarm's tile is held: an operator acknowledges first.
    expect((await command(w.id, shown.version, { op: 'assign', target: { screen: 0, tile: 3 }, camera: normal })).json()).toMatchObject({ details: { reason: 'wall-alarm-tile' } });
    // The event centre tells the unit.
    await waitFor('the alarm event', () => gw.gateway.events.query({ units: [township()], cameras: [], limit: 20 }).events.find((e) => e.kind === 'wall.alarm' && e.camera === first));
    const acked = await req('POST', `/api/walls/${w.id}/alarms/${a1.json<{ id: number }>().id}/ack`, 'township-operator');
    expect(acked.json()).toMatchObject({ state: 'acked', ackedBy: 'township-operator' });
    // The queued one takes the tile; acknowledged, the tile returns to what it showed before any alarm.
    const next = await wallOf(w.id);
    expect(next.screens[0]!.pictures[3]).toMatchObject({ label: { camera: second }, alarm: a2.json<{ id: number }>().id });
    expect(next.alarms.map((a) => a.state)).toEqual(['shown']);
    await req('POST', `/api/walls/${w.id}/alarms/${a2.json<{ id: number }>().id}/ack`, 'township-operator');
    const after = await wallOf(w.id);
    expect(after.screens[0]!.pictures[3]!.label?.camera).toBe(normal);
    expect(after.screens[0]!.pictures[3]!.alarm).toBeUndefined();
    const audit = auditEntries(30);
    expect(audit.filter((e) => e.action === 'wall.alarm.ack')).toHaveLength(2);
  });
});

describe('display devices', () => {
  it('reads its screen with its own token, plays only what is on it, and is cut off when revoked', async () => {
    const w = await makeWall(1, 2, 4);
    const d = await display(w.id, 1);
    expect(d.url).toBe(`/wall/${w.id}/screen/2#token=${d.token}`);
    const [cam, other] = townshipCameras() as [string, string];
    await ok(w.id, { op: 'assign', target: { screen: 1, tile: 0 }, camera: cam });
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 0 }, camera: other });
    const s = await displayState(d.token);
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ screen: 1, wall: { id: w.id }, kind: 'browser' });
    const pic = s.body.pictures[0]!;
    expect(pic).toMatchObject({ status: 'ok', label: { camera: cam, name: gw.gateway.catalog.summary(cam)!.name } });
    // Its media token plays the camera of its screen (the HLS playlist, the stream started for it)...
    const playlist = await gw.gateway.http.inject({ method: 'GET', url: pic.media!.playlistUrl });
    expect(playlist.statusCode, playlist.body).toBe(200);
    expect(playlist.body).toContain('#EXTM3U');
    // ...and nothing else: a token for the other screen's camera is refused, and so are login routes.
    expect((await gw.gateway.http.inject({ method: 'POST', url: '/api/display/token', headers: { authorization: `Bearer ${d.token}` }, payload: { camera: other, profile: 'sub' } })).statusCode).toBe(403);
    expect((await gw.gateway.http.inject({ method: 'GET', url: '/api/tree', headers: { authorization: `Bearer ${d.token}` } })).statusCode).toBe(401);
    // The camera taken off the screen: its media URL no longer plays.
    await ok(w.id, { op: 'clear', target: { screen: 1, tile: 0 } });
    expect((await gw.gateway.http.inject({ method: 'GET', url: pic.media!.playlistUrl })).statusCode).toBe(403);
    const ws = await follow(d.token);
    await waitFor('the first state', () => ws.states.length > 0);
    expect((await req('DELETE', `/api/walls/${w.id}/displays/${d.id}`, 'county-admin')).statusCode).toBe(204);
    expect((await displayState(d.token)).status).toBe(401);
    await waitFor('the socket closed', () => ws.closed() === 4401);
    // A token of no display says nothing more.
    const wrong = await follow('segd_not-a-token');
    await waitFor('refused', () => wrong.closed() === 4401);
  });

  it('hands a decoder RTSP URLs with tokens for its tiles: ffprobe reads them', async () => {
    const w = await makeWall(1, 1, 4);
    const d = await display(w.id, 0);
    await ok(w.id, { op: 'screen.kind', screen: 0, kind: 'decoder' }, 'county-admin');
    const cam = townshipCameras()[5]!;
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 0 }, camera: cam });
    const s = (await displayState(d.token)).body;
    expect(s.kind).toBe('decoder');
    const url = s.pictures[0]!.media!.rtspUrl!;
    // A quarter of the screen takes the main stream.
    expect(url).toMatch(/^rtsp:\/\/.+\/live\/.+\/main\//);
    const probed = JSON.parse((await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', url], { timeout: 20_000 })).stdout) as { streams: Array<{ codec_type: string; codec_name: string; width?: number }> };
    expect(probed.streams.find((x) => x.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280 });
    // The operator sees no difference: the console's wall shows the tile as any other.
    expect((await wallOf(w.id)).screens[0]!.pictures[0]).toMatchObject({ status: 'ok', label: { camera: cam } });
  });

  it('turns a tile into the placeholder within 5 s of the wall\'s unit losing the camera, and its media ends', async () => {
    const w = await makeWall(1, 1, 4);
    const d = await display(w.id, 0);
    // A camera of the county outside the township, pushed down to the township with live and wall.
    const access = gw.gateway.access;
    const cam = access.camerasUnder(unitOf('county-admin')).find((c) => !access.tree.contains(township(), access.unitOf(c)!))!;
    const grant = await req('POST', '/api/grants', 'county-admin', { toUnit: township(), cameras: [cam], actions: ['live', 'wall'], reGrant: false });
    expect(grant.statusCode, grant.body).toBe(201);
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 2 }, camera: cam });
    const follower = await follow(d.token);
    const before = await waitFor('the tile shown', () => follower.states.find((s) => s.pictures[2]!.status === 'ok'));
    const media = before.pictures[2]!.media!;
    expect((await gw.gateway.http.inject({ method: 'GET', url: media.playlistUrl })).statusCode).toBe(200);
    const t0 = Date.now();
    expect((await req('DELETE', `/api/grants/${grant.json<{ id: number }>().id}`, 'county-admin')).statusCode).toBe(200);
    const denied = await waitFor('the placeholder', () => follower.states.find((s) => s.pictures[2]!.status === 'denied'), 5000, 50);
    expect(Date.now() - t0).toBeLessThan(5000);
    // The placeholder names nothing and carries no media.
    expect(denied.pictures[2]!.label).toBeUndefined();
    expect(denied.pictures[2]!.media).toBeUndefined();
    expect((await gw.gateway.http.inject({ method: 'GET', url: media.playlistUrl })).statusCode).toBe(403);
    follower.ws.close();
  });
});

describe('a restart', () => {
  it('keeps every wall as it was: its state, its displays\' tokens, its running tour', async () => {
    const w = await makeWall(1, 2, 4);
    const d = await display(w.id, 0);
    const [a, b] = townshipCameras();
    await ok(w.id, { op: 'assign', target: { screen: 0, tile: 1 }, camera: a });
    await ok(w.id, { op: 'layout', screen: 1, layout: { split: 9 } });
    await ok(w.id, { op: 'window.open', x: 0.2, y: 0.2, w: 0.6, h: 0.6, camera: b });
    const before = await wallOf(w.id);
    const tour = await req('POST', `/api/walls/${w.id}/tours`, 'township-operator', { name: 't', unit: township(), targets: [{ screen: 1, tile: 8 }], intervalSeconds: 60 });
    await req('POST', `/api/walls/${w.id}/tours/${tour.json<{ id: number }>().id}/start`, 'township-operator');
    await gw.restart();
    for (const u of Object.keys(cookies)) cookies[u] = await login(gw, u);
    const after = await wallOf(w.id);
    expect(after.screens.map((s) => s.pictures.map((p) => p.label?.camera ?? null))).toEqual((await wallOf(w.id)).screens.map((s) => s.pictures.map((p) => p.label?.camera ?? null)));
    expect(after.screens[0]!.pictures[1]!.label?.camera).toBe(a);
    expect(after.screens[1]!.layoutName).toBe('9');
    expect(after.windows.map((x) => x.picture.label?.camera)).toEqual([b]);
    expect(after.version).toBeGreaterThanOrEqual(before.version);
    expect(after.tours[0]).toMatchObject({ state: 'running' });
    expect((await displayState(d.token)).body.pictures[1]!.label?.camera).toBe(a);
  }, 60_000);
});
