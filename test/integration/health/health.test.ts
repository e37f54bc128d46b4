// The health monitor against the simulator over real sockets: outages and recoveries reach the online rate within
// bounded time, at every level, in the API and in /metrics, and each user sees the health of her own subtree only.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepReport } from '../../../gateway/src/health/health-monitor.js';
import { login, setFaults, SIM_PASSWORD, SIM_USER, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
let cookies: Record<string, string>;
const CAMERAS = 3000;
const METRICS_TOKEN = 'scrape-token-0123456789abcdef';
beforeAll(async () => {
  gw = await startGateway({ cameras: CAMERAS, metrics: { bearerToken: METRICS_TOKEN }, health: { enabled: true, intervalSeconds: 1, retryDelaySeconds: 0.2, backoffMaxSeconds: 1, timeoutSeconds: 2 } });
  cookies = {};
  for (const u of ['city-admin', 'county-admin', 'village-clerk']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => { await gw?.close(); });

const get = (url: string, user?: string, headers: Record<string, string> = {}) =>
  gw.gateway.http.inject({ method: 'GET', url, headers: { ...(user ? { cookie: cookies[user]! } : {}), ...headers } });
const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
/** nextSweep resolves with the first sweep that begins after now: it saw every change made before the call. */
async function nextSweep(): Promise<SweepReport> {
  const after = Date.now();
  for (;;) {
    const [report] = (await once(gw.gateway.health, 'sweep')) as [SweepReport];
    if (report.startedAt >= after) return report;
  }
}
/**
 * untilState waits until every camera has the state, with a bound: a failing camera backs off (full jitter), so a
 * busy machine may need more than one sweep to see it come back; what matters is that it does, in bounded time.
 */
function untilState(ids: readonly string[], state: 'online' | 'offline', timeoutMs = 20_000): Promise<true> {
  return waitFor(`${ids.join(', ')} ${state}`, () => ids.every((id) => gw.gateway.health.camera(id)?.state === state), timeoutMs);
}

describe('health sweep', () => {
  it('finds every camera of the city online with OPTIONS alone, no stream pulled', async () => {
    await untilState(gw.gateway.access.camerasUnder(unitOf('city-admin')), 'online', 60_000);
    await waitFor('a sweep that found every camera online', () => gw.gateway.health.lastSweep?.online === CAMERAS, 30_000);
    const city = (await get(`/api/health/units/${unitOf('city-admin')}`, 'city-admin')).json();
    expect(city.unit.health).toEqual({ total: CAMERAS, online: CAMERAS, offline: 0, unknown: 0, rate: 1, credentialsRejected: 0 });
    expect(city.children.reduce((n: number, c: { health: { online: number } }) => n + c.health.online, 0)).toBe(CAMERAS);
    expect(city.sweep).toMatchObject({ offline: 0, online: CAMERAS });
    expect(gw.simulator.rtsp.playing).toBe(0);
  });

  it('shows cameras switched offline, and back, in the online rate of every level', async () => {
    const village = unitOf('village-clerk');
    const mine = gw.gateway.access.camerasUnder(village);
    const down = mine.slice(0, 2);
    for (const id of down) await setFaults(gw.simulator, id, { offline: true });
    await untilState(down, 'offline');
    for (const [user, unit] of [['village-clerk', village], ['county-admin', unitOf('county-admin')], ['city-admin', unitOf('city-admin')]] as const) {
      const h = (await get(`/api/health/units/${unit}`, user)).json().unit.health;
      expect(h.offline, `${user}'s unit`).toBe(2);
      expect(h.online).toBe(h.total - 2);
    }
    const offline = (await get(`/api/health/units/${village}/offline`, 'village-clerk')).json();
    expect(offline.total).toBe(2);
    expect(offline.items.map((i: { id: string }) => i.id).sort()).toEqual([...down].sort());
    expect(offline.items[0].reason).toMatch(/OPTIONS failed|connect failed/);
    expect(offline.items[0].reason).not.toMatch(/127\.0\.0\.1|rtsp:/);
    const children = (await get(`/api/units/${village}/children`, 'village-clerk')).json();
    expect(children.cameras.filter((c: { health: string }) => c.health === 'offline').map((c: { id: string }) => c.id).sort()).toEqual([...down].sort());

    for (const id of down) await setFaults(gw.simulator, id, { offline: null });
    await untilState(down, 'online');
    expect((await get(`/api/health/units/${village}`, 'village-clerk')).json().unit.health).toMatchObject({ offline: 0, online: mine.length });
    // Transitions reach the store when their sweep ends.
    const history = await waitFor('the history to hold the return', async () => {
      const h = (await get(`/api/cameras/${down[0]}/health`, 'village-clerk')).json();
      return h.history.length >= 3 && h;
    });
    expect(history.state).toBe('online');
    expect(history.history.map((e: { state: string }) => e.state).slice(0, 3)).toEqual(['online', 'offline', 'online']);
  });

  it('backs a dead device off instead of probing it every sweep', async () => {
    const id = gw.gateway.access.camerasUnder(unitOf('county-admin'))[5]!;
    await setFaults(gw.simulator, id, { offline: true });
    try {
      await untilState([id], 'offline');
      // Each failure doubles the ceiling of the next wait (capped by backoffMaxSeconds=1 here); a failing camera is never probed more than once a sweep plus its retry.
      const before = gw.gateway.health.camera(id)!.failures;
      await nextSweep();
      await nextSweep();
      const after = gw.gateway.health.camera(id)!.failures;
      expect(after - before).toBeLessThanOrEqual(2);
      expect(after).toBeGreaterThanOrEqual(1);
    } finally {
      await setFaults(gw.simulator, id, { offline: null });
      await waitFor('the camera back online', () => gw.gateway.health.camera(id)!.state === 'online', 10_000);
    }
  });
});

describe('credentials the camera refuses', () => {
  it('are their own state: the camera stays online, its credentials show rejected until they are right again', async () => {
    const village = unitOf('village-clerk');
    const id = gw.gateway.access.camerasUnder(village)[1]!;
    const before = gw.gateway.health.unit(village);
    // The camera's password was changed on the device: OPTIONS still answers, DESCRIBE refuses the stored one.
    await setFaults(gw.simulator, id, { password: 'changed-on-site' });
    gw.gateway.health.markCredentialsDue(id);
    await waitFor('the rejection', () => gw.gateway.health.camera(id)?.credentials === 'rejected', 20_000);
    const h = (await get(`/api/cameras/${id}/health`, 'village-clerk')).json();
    expect(h).toMatchObject({ state: 'online', credentials: 'rejected', credentialsReason: expect.stringMatching(/rejected the credentials/) });
    const unit = (await get(`/api/health/units/${village}`, 'village-clerk')).json().unit.health;
    expect(unit).toMatchObject({ online: before.online, offline: before.offline, credentialsRejected: 1 });
    const list = (await get(`/api/health/units/${village}/offline?problem=credentials`, 'village-clerk')).json();
    expect(list.items.map((i: { id: string }) => i.id)).toEqual([id]);
    const metrics = (await get('/metrics', undefined, { authorization: `Bearer ${METRICS_TOKEN}` })).body;
    expect(metrics).toMatch(/sge_cameras_credentials_rejected [1-9]/);
    // Put right on the device: the next try finds them accepted.
    await setFaults(gw.simulator, id, { password: null });
    gw.gateway.health.markCredentialsDue(id);
    await waitFor('the acceptance', () => gw.gateway.health.camera(id)?.credentials === 'accepted', 20_000);
    expect(gw.gateway.health.unit(village).credentialsRejected).toBe(0);
  });

  it('are tried when a camera is added or its password changes in the catalog', async () => {
    const unit = unitOf('village-clerk');
    gw.gateway.catalog.upsertCameras([{
      id: 'CRED-NEW-1', name: 'wrong password from the start', unit, kind: 'road', latitude: null, longitude: null,
      mainUrl: gw.simulator.rtspUrl('CRED-NEW-1', 'main'), subUrl: null, onvifUrl: null, username: SIM_USER, password: 'typo-in-import',
    }]);
    gw.gateway.syncCatalog();
    await waitFor('the rejection of the new camera', () => gw.gateway.health.camera('CRED-NEW-1')?.credentials === 'rejected', 20_000);
    expect(gw.gateway.health.camera('CRED-NEW-1')!.state).toBe('online');
    const c = gw.gateway.catalog.camera('CRED-NEW-1')!;
    gw.gateway.catalog.upsertCameras([{ ...c, password: SIM_PASSWORD }]);
    gw.gateway.syncCatalog();
    await waitFor('the fixed password accepted', () => gw.gateway.health.camera('CRED-NEW-1')?.credentials === 'accepted', 20_000);
  });
});

describe('cameras known by their ONVIF endpoint alone', () => {
  it('are probed with GetSystemDateAndTime, and go offline and back like the others', async () => {
    const unit = unitOf('village-clerk');
    gw.gateway.catalog.upsertCameras([{
      id: 'ONVIF-ONLY-1', name: 'ONVIF only', unit, kind: 'road', latitude: null, longitude: null,
      mainUrl: null, subUrl: null, onvifUrl: gw.simulator.onvifUrl('ONVIF-ONLY-1'), username: SIM_USER, password: SIM_PASSWORD,
    }]);
    gw.gateway.syncCatalog();
    await untilState(['ONVIF-ONLY-1'], 'online');
    await setFaults(gw.simulator, 'ONVIF-ONLY-1', { offline: true });
    try {
      await untilState(['ONVIF-ONLY-1'], 'offline');
      expect(gw.gateway.health.camera('ONVIF-ONLY-1')).toMatchObject({ state: 'offline', reason: expect.stringMatching(/^GetSystemDateAndTime failed/) });
    } finally {
      await setFaults(gw.simulator, 'ONVIF-ONLY-1', { offline: null });
    }
    await waitFor('back online', () => gw.gateway.health.camera('ONVIF-ONLY-1')!.state === 'online', 10_000);
  });
});

describe('who sees which health', () => {
  it('answers 404 for a unit or a camera outside the caller\'s subtree', async () => {
    const other = gw.gateway.access.tree.children(unitOf('city-admin')).find((u) => u.code !== unitOf('county-admin'))!;
    expect((await get(`/api/health/units/${other.code}`, 'county-admin')).statusCode).toBe(404);
    expect((await get(`/api/health/units/${other.code}/offline`, 'village-clerk')).statusCode).toBe(404);
    const foreign = gw.gateway.access.camerasUnder(other.code)[0]!;
    expect((await get(`/api/cameras/${foreign}/health`, 'village-clerk')).statusCode).toBe(404);
    expect((await get(`/api/health/units/${unitOf('village-clerk')}`)).statusCode).toBe(401);
  });
});

describe('/metrics', () => {
  it('serves the online rate of the upper units to a scraper with the token, the scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await get('/metrics', undefined, { authorization: `${scheme} ${METRICS_TOKEN}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/plain/);
      expect(res.body).toMatch(new RegExp(`sge_unit_online_ratio\\{unit="${unitOf('city-admin')}",name="[^"]+",level="city"\\} 1`));
      expect(res.body).toMatch(new RegExp(`sge_cameras\\{state="online"\\} ${gw.gateway.health.unit(unitOf('city-admin')).online}\n`));
      expect(res.body).toMatch(/sge_health_sweeps_total [1-9]/);
      expect(res.body).not.toMatch(/level="village"/);
    }
  });

  it('refuses a scraper without the token or with a wrong one, loopback included', async () => {
    // inject() comes from 127.0.0.1: every local user of the machine reaches loopback.
    expect((await get('/metrics')).statusCode).toBe(401);
    expect((await get('/metrics', undefined, { authorization: `Bearer ${METRICS_TOKEN}x` })).statusCode).toBe(401);
    expect((await get('/metrics', undefined, { authorization: `Basic ${METRICS_TOKEN}` })).statusCode).toBe(401);
    const remote = await gw.gateway.http.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(401);
    expect(remote.json().message).toMatch(/metrics.bearerToken/);
  });
});
