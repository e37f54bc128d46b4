// Grants over HTTP with a real store, simulator and ffmpeg: what a county pushes to a village is seen through every door,
// and stops at every door once revoked or expired; media URLs guessed, replayed or kept after revocation fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantT } from '../../../gateway/src/http/schemas.js';
import { AccessIndex } from '../../../gateway/src/access/access-index.js';
import { GrantStore } from '../../../gateway/src/catalog/grant-store.js';
import { openDatabase } from '../../../gateway/src/store/database.js';
import { login, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
let cookies: Record<string, string>;
beforeAll(async () => {
  gw = await startGateway({ cameras: 3000 });
  cookies = {};
  for (const u of ['city-admin', 'county-admin', 'township-operator', 'village-clerk', 'village-clerk-2']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => { await gw?.close(); });

const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
const req = (method: 'GET' | 'POST' | 'DELETE', url: string, user?: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}), headers: user ? { cookie: cookies[user]! } : {} });
/** foreign returns cameras of the county that lie outside the clerk's village. */
const foreign = () => gw.gateway.access.camerasUnder(unitOf('county-admin')).filter((id) => !gw.gateway.access.tree.contains(unitOf('village-clerk'), gw.gateway.access.unitOf(id)!));

/** doors lists what the clerk can reach of a camera through each door of the system. */
async function doors(camera: string) {
  const tree = (await req('GET', '/api/tree', 'village-clerk')).json() as { granted: Array<{ id: string }> };
  const search = (await req('GET', `/api/search?q=${camera}`, 'village-clerk')).json() as { cameras: Array<{ id: string }> };
  return {
    tree: tree.granted.some((c) => c.id === camera),
    search: search.cameras.some((c) => c.id === camera),
    details: (await req('GET', `/api/cameras/${camera}`, 'village-clerk')).statusCode,
    stream: (await req('POST', '/api/streams', 'village-clerk', { camera, profile: 'sub' })).statusCode,
    health: (await req('GET', `/api/cameras/${camera}/health`, 'village-clerk')).statusCode,
    snapshot: (await req('GET', `/api/cameras/${camera}/snapshot?profile=sub`, 'village-clerk')).statusCode,
  };
}

describe('push-down grants over HTTP', () => {
  it('a county admin pushes two cameras to a village; the clerk reaches them through every door; revoked, through none', async () => {
    const [a, b] = foreign();
    expect(await doors(a!)).toEqual({ tree: false, search: false, details: 404, stream: 404, health: 404, snapshot: 404 });
    const created = await req('POST', '/api/grants', 'county-admin', { toUnit: unitOf('village-clerk'), cameras: [a, b], actions: ['live', 'playback'] });
    expect(created.statusCode, created.body).toBe(201);
    const g = created.json() as GrantT;
    expect(g).toMatchObject({ toUnit: unitOf('village-clerk'), actions: ['live', 'playback'], state: 'active', grantorUnit: unitOf('county-admin') });
    expect(await doors(a!)).toEqual({ tree: true, search: true, details: 200, stream: 200, health: 200, snapshot: 200 });
    // The neighbour village got nothing; PTZ was not given.
    expect((await req('GET', `/api/cameras/${a}`, 'village-clerk-2')).statusCode).toBe(404);
    expect((await req('POST', `/api/cameras/${a}/ptz/move`, 'village-clerk', { pan: 1 })).statusCode).toBe(403);
    // What the village holds, and from whom, as the clerk and as the county see it.
    const held = (await req('GET', '/api/grants', 'village-clerk')).json().grants as GrantT[];
    expect(held.map((x) => [x.id, x.grantorName, x.cameras.map((c) => c.id).sort()])).toEqual([[g.id, expect.any(String), [a, b].sort()]]);
    expect(((await req('GET', `/api/grants?toUnit=${unitOf('village-clerk')}`, 'county-admin')).json().grants as GrantT[]).map((x) => x.id)).toContain(g.id);

    // The grant is in the store: a gateway starting on it holds it too.
    const db = openDatabase(gw.gateway.config.store.path);
    try {
      const fresh = new AccessIndex(gw.gateway.access.tree, gw.gateway.catalog.summaries());
      new GrantStore(db, fresh).load();
      const clerk = { userId: 0, unit: unitOf('village-clerk'), roles: ['viewer' as const] };
      expect([fresh.may(clerk, 'live', a!), fresh.may(clerk, 'playback', b!), fresh.may(clerk, 'ptz', a!)]).toEqual([true, true, false]);
    } finally {
      db.close();
    }

    expect((await req('DELETE', `/api/grants/${g.id}`, 'village-clerk')).statusCode).toBe(403);
    expect((await req('DELETE', `/api/grants/${g.id}`, 'county-admin')).json()).toEqual({ revoked: [g.id] });
    expect(await doors(a!)).toEqual({ tree: false, search: false, details: 404, stream: 404, health: 404, snapshot: 404 });
    const ended = (await req('GET', '/api/grants?ended=true', 'county-admin')).json().grants as GrantT[];
    expect(ended.find((x) => x.id === g.id)).toMatchObject({ state: 'revoked', revokedAt: expect.any(Number) });
  });

  it('a revoked right stops the clerk\'s open stream within 5 s, and guessed or replayed media URLs fail', async () => {
    const cam = foreign()[5]!;
    const g = (await req('POST', '/api/grants', 'county-admin', { toUnit: unitOf('village-clerk'), cameras: [cam], actions: ['live'] })).json() as GrantT;
    const ticket = (await req('POST', '/api/streams', 'village-clerk', { camera: cam, profile: 'sub' })).json() as { playlistUrl: string; token: string };
    const playlist = await waitFor('the playlist', async () => {
      const r = await req('GET', ticket.playlistUrl);
      return r.statusCode === 200 && r.body;
    }, 20_000, 300);
    const segment = playlist.split('\n').find((l) => l && !l.startsWith('#'))!;
    const segUrl = ticket.playlistUrl.replace(/index\.m3u8\?.*$/, segment);
    expect((await req('GET', segUrl)).statusCode).toBe(200);

    // A guessed token, another camera's URL with this token, and the same URL without it all fail.
    expect((await req('GET', ticket.playlistUrl.replace(/t=[^&]+/, 't=guess'))).statusCode).toBe(403);
    expect((await req('GET', ticket.playlistUrl.replace(cam, foreign()[6]!))).statusCode).toBe(403);
    expect((await req('GET', ticket.playlistUrl.split('?')[0]!)).statusCode).toBe(400);

    const revokedAt = Date.now();
    await req('DELETE', `/api/grants/${g.id}`, 'county-admin');
    // The player asks for the playlist and a segment about every second: the next request is refused.
    const refusedAfter = await waitFor('the stream refused', async () => {
      const p = await req('GET', ticket.playlistUrl);
      const s = await req('GET', segUrl);
      return p.statusCode === 403 && s.statusCode === 403 && Date.now() - revokedAt;
    }, 5000, 100);
    expect(refusedAfter).toBeLessThan(5000);
    expect((await req('GET', ticket.playlistUrl)).json().message).toMatch(/no longer hold the right/);
    // The same URL replayed by someone else's session does not help either: the token is bound to its session.
    const replay = await gw.gateway.http.inject({ method: 'GET', url: ticket.playlistUrl, headers: { cookie: cookies['county-admin']! } });
    expect(replay.statusCode).toBe(403);
  });

  it('an expired grant gives nothing and is listed as expired', async () => {
    const cams = foreign().slice(10, 12);
    const township = unitOf('township-operator');
    const soon = Date.now() + 3000;
    const parent = (await req('POST', '/api/grants', 'county-admin', { toUnit: township, cameras: cams, actions: ['live', 'ptz'], reGrant: true, expiresAt: soon })).json() as GrantT;
    expect(parent.state).toBe('active');
    expect((await req('GET', `/api/cameras/${cams[0]}`, 'township-operator')).statusCode).toBe(200);
    await waitFor('the grant to expire', async () => Date.now() > soon && (await req('GET', `/api/cameras/${cams[0]}`, 'township-operator')).statusCode === 404, 10_000);
    const listed = (await req('GET', '/api/grants', 'county-admin')).json().grants as GrantT[];
    expect(listed.find((x) => x.id === parent.id)?.state).toBe('expired');
  });

  it('refuses grants that push up or sideways, or give what the grantor does not hold, naming why', async () => {
    const otherCounty = gw.gateway.access.tree.children(unitOf('city-admin')).find((u) => u.code !== unitOf('county-admin'))!.code;
    const outside = gw.gateway.access.camerasUnder(otherCounty)[0]!;
    const sideways = await req('POST', '/api/grants', 'county-admin', { toUnit: otherCounty, cameras: [foreign()[0]], actions: ['live'] });
    expect(sideways.statusCode).toBe(400);
    expect(sideways.json().message).toMatch(/not below your unit/);
    const notHeld = await req('POST', '/api/grants', 'county-admin', { toUnit: unitOf('village-clerk'), cameras: [outside], actions: ['live'] });
    expect(notHeld.json().message).toMatch(/outside your part of the tree/);
    expect((await req('POST', '/api/grants', 'township-operator', { toUnit: unitOf('village-clerk'), cameras: [foreign()[0]], actions: ['live'] })).statusCode).toBe(403);
    expect((await req('POST', '/api/grants', 'county-admin', { toUnit: unitOf('village-clerk'), actions: ['live'] })).json().message).toMatch(/either cameras or a group/);
  });

  it('withdraws one camera of a grant: the clerk keeps the other', async () => {
    const [x, y] = foreign().slice(30, 32);
    const g = (await req('POST', '/api/grants', 'county-admin', { toUnit: unitOf('village-clerk'), cameras: [x, y], actions: ['live'] })).json() as GrantT;
    expect((await req('DELETE', `/api/grants/${g.id}/cameras/${x}`, 'village-clerk')).statusCode).toBe(403);
    expect((await req('DELETE', `/api/grants/${g.id}/cameras/${x}`, 'county-admin')).json()).toEqual({ shrunk: [g.id], ended: [] });
    expect((await req('GET', `/api/cameras/${x}`, 'village-clerk')).statusCode).toBe(404);
    expect((await req('GET', `/api/cameras/${y}`, 'village-clerk')).statusCode).toBe(200);
    const after = ((await req('GET', '/api/grants', 'village-clerk')).json().grants as GrantT[]).find((z) => z.id === g.id)!;
    expect(after.cameras.map((c) => c.id)).toEqual([y]);
    expect((await req('DELETE', `/api/grants/${g.id}/cameras/${x}`, 'county-admin')).json().message).toMatch(/does not give camera/);
    expect((await req('DELETE', `/api/grants/${g.id}/cameras/${y}`, 'county-admin')).json()).toEqual({ shrunk: [], ended: [g.id] });
    expect((await req('GET', `/api/cameras/${y}`, 'village-clerk')).statusCode).toBe(404);
  });

  it('pushes a camera group as one', async () => {
    const members = foreign().slice(20, 23);
    const group = await req('POST', '/api/groups', 'county-admin', { name: '县道路口', ownerUnit: unitOf('county-admin'), cameras: members });
    expect(group.statusCode, group.body).toBe(201);
    const g = (await req('POST', '/api/grants', 'county-admin', { toUnit: unitOf('village-clerk-2'), group: group.json().id, actions: ['live'] })).json() as GrantT;
    expect(g.group).toEqual({ id: group.json().id, name: '县道路口' });
    for (const m of members) expect((await req('GET', `/api/cameras/${m}`, 'village-clerk-2')).statusCode).toBe(200);
    await req('DELETE', `/api/grants/${g.id}`, 'county-admin');
    expect((await req('GET', `/api/cameras/${members[0]}`, 'village-clerk-2')).statusCode).toBe(404);
  });
});
