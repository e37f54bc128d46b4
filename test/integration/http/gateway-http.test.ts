// The gateway over HTTP with a real store, simulator and ffmpeg: who sees what, and what the media URLs allow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, setFaults, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
let cookies: Record<string, string>;
beforeAll(async () => {
  gw = await startGateway({ cameras: 8000 });
  cookies = {};
  for (const u of ['city-admin', 'county-admin', 'township-operator', 'village-clerk', 'village-clerk-2']) cookies[u] = await login(gw, u);
});
afterAll(async () => { await gw?.close(); });

const get = (url: string, user?: string) => gw.gateway.http.inject({ method: 'GET', url, headers: user ? { cookie: cookies[user]! } : {} });
const post = (url: string, payload: unknown, user?: string, headers: Record<string, string> = {}) =>
  gw.gateway.http.inject({ method: 'POST', url, payload: payload as object, headers: { ...(user ? { cookie: cookies[user]! } : {}), ...headers } });
const accountUnit = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
const ownCameras = (u: string) => gw.gateway.access.camerasUnder(accountUnit(u));

describe('login', () => {
  it('refuses a wrong password in words, and an unknown user the same way', async () => {
    for (const username of ['village-clerk', 'nobody']) {
      const res = await post('/api/auth/login', { username, password: 'wrong-password' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ code: 'bad-credentials', message: 'wrong username or password', details: { reason: 'wrong-password' } });
    }
  });

  it('sets an HttpOnly SameSite=Strict cookie and needs it everywhere under /api', async () => {
    const res = await post('/api/auth/login', { username: 'village-clerk', password: 'Demo#2026' });
    const c = res.cookies.find((x) => x.name === 'seg_session')!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Strict');
    for (const url of ['/api/tree', '/api/search?q=a', '/api/streams', `/api/cameras/${ownCameras('village-clerk')[0]}`]) {
      expect((await get(url)).statusCode).toBe(401);
    }
    expect((await get('/api/auth/me', 'village-clerk')).json()).toMatchObject({ username: 'village-clerk', roles: ['viewer'] });
  });

  it('refuses a cross-site state change carried by the cookie', async () => {
    const res = await post('/api/streams', { camera: ownCameras('village-clerk')[0], profile: 'sub' }, 'village-clerk', { origin: 'http://evil.example' });
    expect(res.statusCode).toBe(403);
  });

  it('rejects malformed bodies with the field that is wrong', async () => {
    const res = await post('/api/auth/login', { username: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/password/);
  });
});

describe('visibility: a user sees exactly the cameras of her subtree', () => {
  it('the city sees all, the village only hers', async () => {
    expect(ownCameras('village-clerk').length).toBeGreaterThanOrEqual(4);
    const city = (await get('/api/tree', 'city-admin')).json();
    expect(city.root.cameraCount).toBe(8000);
    const village = (await get('/api/tree', 'village-clerk')).json();
    expect(village.root.code).toBe(accountUnit('village-clerk'));
    expect(village.root.cameraCount).toBe(ownCameras('village-clerk').length);
    const children = (await get(`/api/units/${village.root.code}/children`, 'village-clerk')).json();
    expect(children.cameras.map((c: { id: string }) => c.id).sort()).toEqual([...ownCameras('village-clerk')].sort());
  });

  it('refuses every door to a neighbour village camera: children, search, details, stream, token', async () => {
    const theirs = ownCameras('village-clerk-2');
    const mine = new Set(ownCameras('village-clerk'));
    expect((await get(`/api/units/${accountUnit('village-clerk-2')}/children`, 'village-clerk')).statusCode).toBe(404);
    const found = (await get(`/api/search?q=${encodeURIComponent(theirs[0]!)}&limit=200`, 'village-clerk')).json();
    expect(found.cameras).toEqual([]);
    const everything = (await get('/api/search?q=0&limit=200', 'village-clerk')).json();
    expect(everything.cameras.length).toBeGreaterThan(0);
    expect(everything.cameras.every((c: { id: string }) => mine.has(c.id))).toBe(true);
    expect((await get(`/api/cameras/${theirs[0]}`, 'village-clerk')).statusCode).toBe(404);
    expect((await post('/api/streams', { camera: theirs[0], profile: 'sub' }, 'village-clerk')).statusCode).toBe(404);
    expect((await post('/api/streams/token', { camera: theirs[0], profile: 'sub' }, 'village-clerk')).statusCode).toBe(404);
    expect((await get(`/api/streams/${theirs[0]}/sub`, 'village-clerk')).statusCode).toBe(404);
    // ...while the township above both sees both.
    expect((await get(`/api/cameras/${theirs[0]}`, 'township-operator')).statusCode).toBe(200);
  });

  it('search stays fast over the whole city', async () => {
    const t0 = performance.now();
    const res = (await get(`/api/search?q=${encodeURIComponent('村口')}&limit=50`, 'city-admin')).json();
    expect(res.totalCameras).toBeGreaterThan(50);
    expect(res.cameras).toHaveLength(50);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('publishes an OpenAPI document with schemas for every route', async () => {
    const doc = (await get('/api/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/api/auth/login', '/api/tree', '/api/units/{code}/children', '/api/search', '/api/streams', '/media/hls/{camera}/{profile}/{file}']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});

describe('media URLs', () => {
  it('plays HLS behind a token bound to user, camera and profile', async () => {
    const camera = ownCameras('village-clerk')[0]!;
    const ticket = (await post('/api/streams', { camera, profile: 'main' }, 'village-clerk')).json();
    expect(ticket.playlistUrl).toMatch(new RegExp(`^/media/hls/${camera}/main/index\\.m3u8\\?t=`));
    const playlist = await get(ticket.playlistUrl);
    expect(playlist.statusCode).toBe(200);
    expect(playlist.headers['content-type']).toMatch(/mpegurl/);
    // Every URI the playlist names carries the token: the init segment, the parts, the preload hint, the segments.
    const uris = [...playlist.body.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(playlist.body.split('\n').filter((l) => l && !l.startsWith('#')));
    expect(uris.length).toBeGreaterThan(2);
    for (const uri of uris) expect(uri).toMatch(/\?t=/);
    const base = `/media/hls/${camera}/main/`;
    const init = await gw.gateway.http.inject({ method: 'GET', url: base + /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist.body)![1]! });
    expect(init.statusCode).toBe(200);
    expect(init.rawPayload.toString('latin1', 4, 8)).toBe('ftyp');
    const part = await gw.gateway.http.inject({ method: 'GET', url: base + /#EXT-X-PART:[^\n]*URI="([^"]+)"/.exec(playlist.body)![1]! });
    expect(part.statusCode).toBe(200);
    expect(part.rawPayload.toString('latin1', 4, 8)).toBe('moof');
    // A blocking reload for the part the preload hint names returns once that part exists, and lists it.
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-(\d+)-(\d+)\.m4s/.exec(playlist.body)!;
    const blocked = await get(`${ticket.playlistUrl}&_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
    expect(blocked.statusCode).toBe(200);
    expect(blocked.body).toContain(`part-${hint[1]}-${hint[2]}.m4s`);
    expect((await get(`${ticket.playlistUrl}&_HLS_msn=${Number(hint[1]) + 50}`)).statusCode).toBe(400);
    expect((await get(`${ticket.playlistUrl}&_HLS_part=1`)).statusCode).toBe(400);
    // The plain playlist has the same segments without parts, for players without Low-Latency HLS.
    const plain = await get(ticket.playlistUrl.replace('index.m3u8', 'plain.m3u8'));
    expect(plain.statusCode).toBe(200);
    expect(plain.body).not.toMatch(/EXT-X-PART/);
    // Guessed or altered URLs fail.
    const token = ticket.token as string;
    const other = ownCameras('village-clerk')[1]!;
    expect((await get(`/media/hls/${other}/main/index.m3u8?t=${encodeURIComponent(token)}`)).json().message).toMatch(/another stream/);
    expect((await get(`/media/hls/${camera}/sub/index.m3u8?t=${encodeURIComponent(token)}`)).statusCode).toBe(403);
    expect((await get(`/media/hls/${camera}/main/index.m3u8?t=${encodeURIComponent(token.slice(0, -3) + 'AAA')}`)).statusCode).toBe(403);
    expect((await get(`/media/hls/${camera}/main/index.m3u8`)).statusCode).toBe(400);
    expect((await get(`/media/hls/${camera}/main/..%2F..%2Fgateway.db?t=${encodeURIComponent(token)}`)).statusCode).toBe(400);
    expect((await get(`/media/hls/${camera}/main/seg99999999.ts?t=${encodeURIComponent(token)}`)).statusCode).toBe(404);
    expect((await get(`/media/hls/${camera}/main/seg-99999999.m4s?t=${encodeURIComponent(token)}`)).statusCode).toBe(404);
    expect((await get(`/media/hls/${camera}/main/init-7.mp4?t=${encodeURIComponent(token)}`)).statusCode).toBe(404);
    // Both viewers share one pull.
    await post('/api/streams', { camera, profile: 'main' }, 'city-admin');
    const info = (await get(`/api/streams/${camera}/main`, 'city-admin')).json();
    expect(info).toMatchObject({ state: 'live', viewers: 2 });
    expect(gw.gateway.hub.list().filter((s) => s.camera === camera)).toHaveLength(1);
  });

  it('ends a token with its session: after logout the same URL is refused', async () => {
    const cookie = await login(gw, 'village-clerk');
    const camera = ownCameras('village-clerk')[2]!;
    const ticket = (await gw.gateway.http.inject({ method: 'POST', url: '/api/streams', payload: { camera, profile: 'sub' }, headers: { cookie } })).json();
    expect((await get(ticket.playlistUrl)).statusCode).toBe(200);
    await gw.gateway.http.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    const after = await get(ticket.playlistUrl);
    expect(after.statusCode).toBe(403);
    expect(after.json().message).toMatch(/session .* has ended/);
  });

  it('an offline camera answers 503 in words while other streams keep playing', async () => {
    const [broken, fine] = ownCameras('village-clerk-2');
    await setFaults(gw.simulator, broken!, { offline: true });
    const ok = (await post('/api/streams', { camera: fine, profile: 'sub' }, 'village-clerk-2')).json();
    const bad = (await post('/api/streams', { camera: broken, profile: 'sub' }, 'village-clerk-2')).json();
    const res = await get(bad.playlistUrl);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'stream-unavailable', message: expect.stringMatching(/does not answer/), details: { state: 'offline' } });
    expect((await get(ok.playlistUrl)).statusCode).toBe(200);
    const state = await waitFor('state offline', async () => {
      const s = (await get(`/api/streams/${broken}/sub`, 'village-clerk-2')).json();
      return s.state === 'offline' ? s : undefined;
    });
    expect(state.error.message).toMatch(/does not answer/);
    expect(state.retryAt).toBeGreaterThan(Date.now() - 1000);
  });

  it('a camera whose password changed shows failed with the reason', async () => {
    const cam = ownCameras('village-clerk-2')[3]!;
    await setFaults(gw.simulator, cam, { password: 'changed-on-device' });
    const ticket = (await post('/api/streams', { camera: cam, profile: 'sub' }, 'village-clerk-2')).json();
    const res = await get(ticket.playlistUrl);
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toBe('the camera rejected the stored credentials (401 Unauthorized)');
  });
});

describe('capacity', () => {
  it('answers 503 with the reason when the node pulls as many streams as it may', async () => {
    const small = await startGateway({ cameras: 300, media: { maxStreams: 1 } });
    try {
      const cookie = await login(small, 'city-admin');
      const [a, b] = small.gateway.access.camerasUnder(small.gateway.access.tree.root.code);
      const open = (camera: string) => small.gateway.http.inject({ method: 'POST', url: '/api/streams', payload: { camera, profile: 'sub' }, headers: { cookie } });
      expect((await open(a!)).statusCode).toBe(200);
      const refused = await open(b!);
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toEqual({ code: 'capacity', message: 'this node already pulls 1 streams (media.maxStreams): try again when a stream has stopped', details: { reason: 'pull-capacity' } });
    } finally {
      await small.close();
    }
  });
});
