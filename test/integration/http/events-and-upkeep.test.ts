// The event centre (history, acknowledgement, the WebSocket push, signed webhooks), camera upkeep (edit, move,
// delete with the checks of an import), the map's cameras and saved views, over the real HTTP server.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, setFaults, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
const cookies: Record<string, string> = {};

beforeAll(async () => {
  gw = await startGateway({ cameras: 3000, health: { enabled: true, intervalSeconds: 1, retryDelaySeconds: 0.2, backoffMaxSeconds: 1, timeoutSeconds: 2 } });
  for (const u of ['city-admin', 'county-admin', 'township-operator', 'village-clerk', 'village-clerk-2']) cookies[u] = await login(gw, u);
  // The tests below take a few cameras of each village.
  expect(gw.gateway.access.camerasUnder(unitOf('village-clerk')).length).toBeGreaterThanOrEqual(2);
  expect(gw.gateway.access.camerasUnder(unitOf('village-clerk-2')).length).toBeGreaterThanOrEqual(2);
  // Every camera has been seen once: what follows are changes, not first probes.
  await waitFor('the first sweep', () => gw.gateway.health.lastSweep !== undefined, 20_000);
});

afterAll(async () => {
  await gw?.close();
});

const unitOf = (u: string) => gw.gateway.catalog.userWithHash(u)!.user.unit;
const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, headers: { cookie: cookies[who]! }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
type Ev = { id: number; kind: string; camera: string | null; params: Record<string, string | number>; ackedBy: string | null; ackedAt: number | null; cameraName: string | null };
const eventsOf = async (who: string, query = '') => (await req('GET', `/api/events?limit=500${query}`, who)).json<{ events: Ev[]; unacked: number }>();

/** socket opens the event stream as a console page of the gateway's own origin would. */
function socket(who: string, origin = gw.url): Promise<{ ws: WebSocket; messages: Array<{ type: string; events?: Ev[]; ids?: number[] }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/api/events/ws`, { headers: { cookie: cookies[who]!, origin } });
    const messages: Array<{ type: string; events?: Ev[]; ids?: number[] }> = [];
    ws.on('message', (m) => messages.push(JSON.parse(String(m)) as { type: string }));
    ws.on('open', () => resolve({ ws, messages }));
    ws.on('unexpected-response', (_r, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('the event centre', () => {
  it('records a camera going offline and back, shows it to its unit and not to a neighbour, pushes it and its acknowledgement', async () => {
    const camera = gw.gateway.access.camerasUnder(unitOf('village-clerk'))[0]!;
    const clerk = await socket('village-clerk');
    const other = await socket('village-clerk-2');
    await setFaults(gw.simulator, camera, { offline: true });
    const offline = await waitFor('the offline event', async () => (await eventsOf('village-clerk')).events.find((e) => e.kind === 'camera.offline' && e.camera === camera), 15_000, 200);
    expect(offline.params.why).toMatch(/^(unreachable|refused|timeout)$/);
    expect(offline.cameraName).toBe(gw.gateway.catalog.summary(camera)!.name);
    // Pushed to the clerk's console as it happened; the neighbouring village hears nothing of it.
    await waitFor('the push', () => clerk.messages.some((m) => m.type === 'events' && m.events!.some((e) => e.id === offline.id)));
    expect(other.messages.some((m) => m.events?.some((e) => e.id === offline.id))).toBe(false);
    expect((await eventsOf('village-clerk-2')).events.some((e) => e.id === offline.id)).toBe(false);
    // The township and the city see it too.
    expect((await eventsOf('city-admin', '&kind=camera.offline')).events.some((e) => e.id === offline.id)).toBe(true);

    // An acknowledgement by the township is kept and pushed to the clerk.
    expect((await req('POST', '/api/events/ack', 'township-operator', { ids: [offline.id] })).json()).toEqual({ acked: [offline.id] });
    await waitFor('the ack push', () => clerk.messages.some((m) => m.type === 'ack' && m.ids!.includes(offline.id)));
    const kept = (await eventsOf('village-clerk')).events.find((e) => e.id === offline.id)!;
    expect(kept.ackedBy).toBe(gw.gateway.catalog.userWithHash('township-operator')!.user.displayName);
    // A neighbour cannot acknowledge what she cannot see.
    expect((await req('POST', '/api/events/ack', 'village-clerk-2', { ids: [offline.id] })).statusCode).toBe(404);

    await setFaults(gw.simulator, camera, {});
    await fetch(`${gw.simulator.controlUrl()}/cameras/${camera}/faults`, { method: 'DELETE' });
    await waitFor('the online event', async () => (await eventsOf('village-clerk')).events.find((e) => e.kind === 'camera.online' && e.camera === camera && e.id > offline.id), 15_000, 200);
    clerk.ws.close();
    other.ws.close();
  });

  it('refuses the stream to a page of another origin and to no session', async () => {
    await expect(socket('village-clerk', 'http://evil.example')).rejects.toThrow(/refused 403/);
    await expect(new Promise((resolve, reject) => {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/api/events/ws`, { headers: { origin: gw.url } });
      ws.on('unexpected-response', (_r, res) => reject(new Error(`refused ${res.statusCode}`)));
      ws.on('open', resolve);
    })).rejects.toThrow(/refused 401/);
  });

  it('delivers events to a webhook with a signature the receiver checks, and keeps the secret sealed', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const receiver = createServer((r, res) => {
      let body = '';
      r.on('data', (c: Buffer) => { body += c.toString(); });
      r.on('end', () => { received.push({ headers: r.headers, body }); res.end('ok'); });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      // Only administrators; a URL that is not http(s) is refused in words.
      expect((await req('POST', '/api/webhooks', 'township-operator', { url, kinds: ['camera.offline'] })).statusCode).toBe(403);
      const bad = await req('POST', '/api/webhooks', 'county-admin', { url: 'file:///etc/passwd', kinds: ['camera.offline'] });
      expect(bad.json()).toMatchObject({ code: 'bad-request', details: { reason: 'webhook-url' } });
      const made = await req('POST', '/api/webhooks', 'county-admin', { url, kinds: ['camera.offline'] });
      expect(made.statusCode).toBe(201);
      const { secret, id } = made.json<{ secret: string; id: number }>();
      expect(secret.length).toBeGreaterThanOrEqual(24);
      expect(JSON.stringify((await req('GET', '/api/webhooks', 'county-admin')).json())).not.toContain(secret);
      const db = new Database(gw.gateway.config.store.path, { readonly: true });
      try {
        const row = db.prepare('SELECT secret FROM webhooks WHERE id = ?').get(id) as { secret: Buffer };
        expect(row.secret.length).toBeGreaterThan(28);
        expect(row.secret.toString('latin1')).not.toContain(secret);
      } finally {
        db.close();
      }

      const camera = gw.gateway.access.camerasUnder(unitOf('county-admin'))[5]!;
      await setFaults(gw.simulator, camera, { offline: true });
      const hit = await waitFor('the delivery', () => received.find((r) => r.body.includes(camera)), 15_000, 100);
      const expected = `sha256=${createHmac('sha256', secret).update(`${hit.headers['x-seg-timestamp']}.${hit.body}`).digest('hex')}`;
      expect(hit.headers['x-seg-signature']).toBe(expected);
      expect(hit.headers['x-seg-event']).toBe('camera.offline');
      const body = JSON.parse(hit.body) as { events: Array<{ kind: string; camera: string; params: { why: string } }> };
      expect(body.events.find((e) => e.camera === camera)).toMatchObject({ kind: 'camera.offline' });
      await fetch(`${gw.simulator.controlUrl()}/cameras/${camera}/faults`, { method: 'DELETE' });
      // The camera coming back is not a kind this hook asked for.
      await waitFor('the camera back online', async () => (await eventsOf('county-admin')).events.some((e) => e.kind === 'camera.online' && e.camera === camera), 15_000, 200);
      await gw.gateway.webhooks.idle();
      expect(received.some((r) => r.body.includes('camera.online'))).toBe(false);
      expect((await req('DELETE', `/api/webhooks/${id}`, 'county-admin')).statusCode).toBe(204);
    } finally {
      receiver.close();
    }
  });
});

describe('camera upkeep', () => {
  it('edits and moves a camera with the checks of an import, audits both, and refuses what is outside or wrong', async () => {
    // A camera of the second clerk's village, renamed and then moved into the first clerk's.
    const v1 = { code: unitOf('village-clerk-2') };
    const v2 = { code: unitOf('village-clerk') };
    const camera = gw.gateway.access.camerasUnder(v1.code)[0]!;
    const renamed = await req('PATCH', `/api/cameras/${camera}`, 'county-admin', { name: '村口东侧', latitude: 28.1, longitude: 112.9 });
    expect(renamed.statusCode).toBe(200);
    expect(gw.gateway.catalog.camera(camera)).toMatchObject({ name: '村口东侧', latitude: 28.1, longitude: 112.9 });
    // Moved: the clerk of the village it left no longer sees it; the clerk of the village it joined does.
    const moved = await req('PATCH', `/api/cameras/${camera}`, 'county-admin', { unit: v2.code });
    expect(moved.json()).toMatchObject({ unit: v2.code });
    expect(gw.gateway.access.unitOf(camera)).toBe(v2.code);
    expect((await req('GET', `/api/cameras/${camera}`, 'village-clerk-2')).statusCode).toBe(404);
    expect((await req('GET', `/api/cameras/${camera}`, 'village-clerk')).statusCode).toBe(200);
    const audit = (await req('GET', `/api/audit?camera=${camera}`, 'county-admin')).json<{ entries: Array<{ action: string; detail: Record<string, unknown> }> }>().entries;
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['camera.change', 'camera.move']));
    expect(audit.find((e) => e.action === 'camera.move')!.detail).toMatchObject({ from: v1.code, to: v2.code });

    const elsewhere = gw.gateway.access.tree.children(gw.gateway.access.tree.root.code).find((u) => u.code !== unitOf('county-admin'))!;
    expect((await req('PATCH', `/api/cameras/${camera}`, 'county-admin', { unit: elsewhere.code })).json()).toMatchObject({ details: { reason: 'camera-move-outside' } });
    expect((await req('PATCH', `/api/cameras/${camera}`, 'county-admin', { mainUrl: 'http://not-rtsp/' })).json()).toMatchObject({ details: { reason: 'url-scheme', field: 'main_url' } });
    expect((await req('PATCH', `/api/cameras/${camera}`, 'county-admin', { name: '' })).json()).toMatchObject({ details: { reason: 'invalid-minLength', field: 'name' } });
    expect((await req('PATCH', `/api/cameras/${camera}`, 'township-operator', { name: 'x' })).statusCode).toBe(403);
    // Its configuration shows addresses, never a password.
    const config = (await req('GET', `/api/cameras/${camera}/config`, 'county-admin')).json<Record<string, unknown>>();
    expect(config).toMatchObject({ id: camera, unit: v2.code, hasPassword: true });
    expect(JSON.stringify(config)).not.toMatch(/password"?:"|Sim#|sim-pass/i);
  });

  it('deletes a camera from the catalog, the tree, the search, the health watch and the map', async () => {
    const village = unitOf('village-clerk');
    const camera = gw.gateway.access.camerasUnder(village).at(-1)!;
    expect((await req('DELETE', `/api/cameras/${camera}`, 'village-clerk')).statusCode).toBe(403);
    expect((await req('DELETE', `/api/cameras/${camera}`, 'county-admin')).statusCode).toBe(204);
    expect(gw.gateway.catalog.camera(camera)).toBeUndefined();
    expect(gw.gateway.access.unitOf(camera)).toBeUndefined();
    expect(gw.gateway.health.camera(camera)).toBeUndefined();
    expect((await req('GET', `/api/search?q=${camera}`, 'county-admin')).json()).toMatchObject({ totalCameras: 0 });
    const map = (await req('GET', '/api/map/cameras', 'village-clerk')).json<{ cameras: Array<[string]> }>();
    expect(map.cameras.some((c) => c[0] === camera)).toBe(false);
    expect((await req('GET', `/api/audit?camera=${camera}&action=camera.delete`, 'county-admin')).json()).toMatchObject({ total: 1 });
  });

  it('gives the map a clerk\'s cameras only, and the offline list of a unit as CSV', async () => {
    const mine = new Set(gw.gateway.access.visible({ userId: 0, unit: unitOf('village-clerk'), roles: ['viewer'] }));
    const map = (await req('GET', '/api/map/cameras', 'village-clerk')).json<{ cameras: Array<[string, string, number, number, number]>; units: Array<{ code: string }> }>();
    expect(map.cameras.length).toBe(mine.size);
    expect(map.cameras.every((c) => mine.has(c[0]))).toBe(true);
    expect(map.units.map((u) => u.code)).toEqual([unitOf('village-clerk')]);
    const camera = gw.gateway.access.camerasUnder(unitOf('village-clerk'))[1]!;
    await setFaults(gw.simulator, camera, { offline: true });
    await waitFor('the camera offline', () => gw.gateway.health.camera(camera)?.state === 'offline', 15_000, 200);
    const csv = (await req('GET', `/api/health/units/${unitOf('village-clerk')}/offline.csv`, 'village-clerk')).body;
    expect(csv.split('\n')[0]).toBe('\ufeffid,name,unit,unit_name,offline_since,reason_kind,reason');
    expect(csv).toContain(camera);
    expect((await req('GET', `/api/health/units/${unitOf('village-clerk-2')}/offline.csv`, 'village-clerk')).statusCode).toBe(404);
    await fetch(`${gw.simulator.controlUrl()}/cameras/${camera}/faults`, { method: 'DELETE' });
  });
});

describe('saved views', () => {
  it('keeps a user\'s views, changed only by their owner, and refuses cameras she may not see', async () => {
    const own = gw.gateway.access.camerasUnder(unitOf('village-clerk')).slice(0, 2);
    const made = await req('POST', '/api/views', 'village-clerk', { name: '早班', layout: 4, tiles: [{ camera: own[0] }, null, { camera: own[1], profile: 'sub' }], shared: false });
    expect(made.statusCode).toBe(201);
    const v = made.json<{ id: number; tiles: unknown[] }>();
    expect(v.tiles).toEqual([{ camera: own[0], name: expect.any(String) }, null, { camera: own[1], name: expect.any(String), profile: 'sub' }]);
    expect((await req('POST', '/api/views', 'village-clerk', { name: '早班', layout: 4, tiles: [], shared: false })).json()).toMatchObject({ code: 'conflict', details: { reason: 'view-name-taken' } });
    const theirs = gw.gateway.access.camerasUnder(unitOf('village-clerk-2'))[0]!;
    expect((await req('POST', '/api/views', 'village-clerk', { name: '越界', layout: 1, tiles: [{ camera: theirs }], shared: false })).statusCode).toBe(404);
    expect((await req('POST', '/api/views', 'village-clerk', { name: '太多', layout: 1, tiles: [{ camera: own[0] }, { camera: own[1] }], shared: false })).json()).toMatchObject({ details: { reason: 'invalid-maxItems' } });
    expect((await req('DELETE', `/api/views/${v.id}`, 'village-clerk-2')).statusCode).toBe(404);
    expect((await req('DELETE', `/api/views/${v.id}`, 'village-clerk')).statusCode).toBe(204);
  });
});

describe('events of grants and imports', () => {
  it('tells the receiving unit of a grant and of its revocation, says a PTZ grant to viewers does nothing, and tells an import\'s end', async () => {
    const clerkUnit = unitOf('village-clerk');
    const camera = gw.gateway.access.camerasUnder(unitOf('county-admin')).find((c) => !gw.gateway.access.tree.contains(clerkUnit, gw.gateway.access.unitOf(c)!))!;
    const made = await req('POST', '/api/grants', 'county-admin', { toUnit: clerkUnit, cameras: [camera], actions: ['live', 'ptz'], reGrant: false });
    expect(made.statusCode).toBe(201);
    const grant = made.json<{ id: number; unusable: string[] }>();
    // The village's only accounts are viewers: PTZ would do nothing there, and the answer says so.
    expect(grant.unusable).toEqual(['ptz']);
    const received = await waitFor('the grant event', async () => (await eventsOf('village-clerk', '&kind=grant.received')).events.find((e) => e.params.grant === grant.id));
    expect(received.params).toMatchObject({ n: 1, actions: 'live,ptz' });
    expect((await eventsOf('village-clerk-2', '&kind=grant.received')).events.some((e) => e.params.grant === grant.id)).toBe(false);
    expect((await req('DELETE', `/api/grants/${grant.id}`, 'county-admin')).statusCode).toBe(200);
    await waitFor('the revocation event', async () => (await eventsOf('village-clerk', '&kind=grant.revoked')).events.find((e) => e.params.grant === grant.id));

    const file = 'id,name,unit,main_url\nEVT-1,事件导入,' + clerkUnit + ',rtsp://10.0.0.9/a\nbad id,x,' + clerkUnit + ',rtsp://10.0.0.9/b\n';
    const started = await gw.gateway.http.inject({ method: 'POST', url: '/api/catalog/imports?format=csv', payload: file, headers: { cookie: cookies['county-admin']!, 'content-type': 'text/csv' } });
    expect(started.statusCode).toBe(202);
    const done = await waitFor('the import event', async () => (await eventsOf('county-admin', '&kind=import.done')).events.find((e) => e.params.job === started.json<{ id: string }>().id));
    expect(done.params).toMatchObject({ added: 1, rejected: 1, rows: 2 });
    // An import is news for the administrator's part of the tree, not for the units below it.
    expect((await eventsOf('village-clerk', '&kind=import.done')).events).toEqual([]);
  });
});

describe('events of streams', () => {
  it('tells the unit when a stream fails, with its kind', async () => {
    const camera = gw.gateway.access.camerasUnder(unitOf('village-clerk-2'))[0]!;
    await setFaults(gw.simulator, camera, { password: 'changed-on-the-device' });
    try {
      expect((await req('POST', '/api/streams', 'village-clerk-2', { camera, profile: 'sub' })).statusCode).toBeLessThan(500);
      const failed = await waitFor('the stream failure event', async () => (await eventsOf('village-clerk-2', '&kind=stream.failed')).events.find((e) => e.camera === camera), 20_000, 200);
      expect(failed.params).toMatchObject({ profile: 'sub', why: 'unauthorized' });
    } finally {
      await fetch(`${gw.simulator.controlUrl()}/cameras/${camera}/faults`, { method: 'DELETE' });
    }
  });
});
