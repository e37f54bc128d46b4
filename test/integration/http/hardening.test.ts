// What an attacker tried, over HTTP with a real store, simulator and ffmpeg: each door answers 4xx in words, tells
// nothing of what the caller may not know, keeps no secret readable, and records the refusal without flooding.
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPageT } from '../../../gateway/src/http/schemas.js';
import { DEMO_PASSWORD, login, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
let cookies: Record<string, string>;
beforeAll(async () => {
  gw = await startGateway({
    cameras: 2000, http: { requestTimeoutSeconds: 3, idleTimeoutSeconds: 1 }, audit: { repeatWindowSeconds: 1 }, media: { maxStreamsPerUser: 3 },
    auth: { lockoutFailures: 3, addressFailures: 20, accountFailures: 6, accountDelaySeconds: 30 },
  });
  cookies = {};
  for (const u of ['city-admin', 'county-admin', 'township-operator', 'village-clerk', 'village-clerk-2']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => { await gw?.close(); });

type Method = 'GET' | 'POST' | 'DELETE' | 'PATCH';
const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
const req = (method: Method, url: string, user?: string, payload?: unknown, headers: Record<string, string> = {}, remoteAddress?: string) =>
  gw.gateway.http.inject({
    method, url, ...(payload !== undefined ? { payload: payload as object } : {}), ...(remoteAddress ? { remoteAddress } : {}),
    headers: { ...(user ? { cookie: cookies[user]! } : {}), ...headers },
  });
const audit = async (query = '') => (await req('GET', `/api/audit?limit=1000${query}`, 'city-admin')).json() as AuditPageT;
const otherCounty = () => gw.gateway.access.tree.children(unitOf('city-admin')).find((u) => u.code !== unitOf('county-admin'))!.code;

describe('malformed requests answer 4xx in words, never 500', () => {
  it('refuses an Origin that is null, empty or not a URL on a state change', async () => {
    for (const origin of ['null', '', 'not a url', 'javascript:alert(1)', 'http://evil.example']) {
      const res = await req('POST', '/api/streams', 'village-clerk', { camera: gw.gateway.access.camerasUnder(unitOf('village-clerk'))[0], profile: 'sub' }, { origin });
      expect(res.statusCode, origin).toBe(403);
      expect(res.json()).toMatchObject({ code: 'forbidden', message: 'cross-site request refused' });
    }
    expect((await req('POST', '/api/auth/logout', 'village-clerk-2', undefined, { origin: 'http://localhost' })).statusCode).toBe(204);
    cookies['village-clerk-2'] = await login(gw, 'village-clerk-2');
  });

  it('refuses numbers no store or clock can hold: offsets, times, ids', async () => {
    const village = unitOf('village-clerk');
    const cam = gw.gateway.access.camerasUnder(village)[0]!;
    const cases: Array<[Method, string, unknown?]> = [
      ['GET', `/api/health/units/${village}/offline?offset=1e300`],
      ['GET', '/api/audit?offset=1e300'],
      ['GET', '/api/audit?from=1e300'],
      ['GET', '/api/audit?to=-5'],
      ['POST', '/api/grants', { toUnit: village, cameras: [cam], actions: ['live'], expiresAt: 1e300 }],
      ['DELETE', '/api/grants/1e300'],
      ['PATCH', '/api/users/1e300', { displayName: 'x' }],
      ['POST', '/api/cameras', { id: 'LATLON-1', name: 'x', unit: village, mainUrl: 'rtsp://10.0.0.1/a', latitude: 1e300, longitude: 1 }],
    ];
    for (const [method, url, body] of cases) {
      const res = await req(method, url, method === 'GET' && url.startsWith('/api/health') ? 'village-clerk' : 'city-admin', body);
      expect(res.statusCode, `${method} ${url}`).toBe(400);
      expect(res.json().code).toBe('bad-request');
    }
  });

  it('refuses text the store cannot keep as it came (a lone surrogate), naming the field; the audit chain holds', async () => {
    const res = await gw.gateway.http.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"username":"ab\\ud800cd","password":"x"}' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('body username holds text that is not valid Unicode (a lone surrogate)');
    const made = await req('PATCH', `/api/users/${(await req('GET', '/api/users', 'city-admin')).json().users.find((u: { username: string }) => u.username === 'village-clerk').id}`, 'city-admin',
      undefined, { 'content-type': 'application/json' });
    expect(made.statusCode).toBe(400);
    expect(gw.gateway.audit.verify().broken).toBeUndefined();
  });

  it('answers a failed snapshot of a camera without ONVIF with 502 in words, without its address', async () => {
    const unit = unitOf('village-clerk');
    gw.gateway.catalog.upsertCameras([{ id: 'PLAIN-RTSP-1', name: '无ONVIF', unit, kind: 'road', latitude: null, longitude: null, mainUrl: 'rtsp://127.0.0.1:1/none', subUrl: null, onvifUrl: null, username: 'admin', password: 'Secret-123' }]);
    gw.gateway.syncCatalog();
    const res = await req('GET', '/api/cameras/PLAIN-RTSP-1/snapshot', 'village-clerk');
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'device-error', message: expect.stringMatching(/^the camera did not do it: snapshot failed/) });
    expect(res.body).not.toMatch(/127\.0\.0\.1|rtsp:|Secret-123/);
  });

  it('closes a connection whose body trickles in, and keeps serving', async () => {
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    const errors: string[] = [];
    // Writes after the server hung up fail with EPIPE: that is the hang-up this test waits for.
    socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const started = Date.now();
    // One byte every 800 ms: each resets the idle timer (1 s), the request timeout (3 s) still ends it.
    const drip = setInterval(() => socket.write(' '), 800);
    try {
      await new Promise((r) => socket.once('close', r));
    } finally {
      clearInterval(drip);
    }
    expect(Date.now() - started).toBeLessThan(8000);
    expect(errors.every((e) => e === 'EPIPE' || e === 'ECONNRESET')).toBe(true);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});

describe('what the caller may not know of, she is not told', () => {
  it('answers PTZ on a camera out of reach exactly as on one that does not exist', async () => {
    const foreign = gw.gateway.access.camerasUnder(otherCounty())[0]!;
    const own = gw.gateway.access.camerasUnder(unitOf('village-clerk'))[0]!;
    for (const user of ['village-clerk', 'township-operator']) {
      const out = await req('GET', `/api/cameras/${foreign}/ptz`, user);
      const none = await req('GET', '/api/cameras/00000000000000000000/ptz', user);
      expect([out.statusCode, none.statusCode], user).toEqual([404, 404]);
      expect(out.json().message.replace(foreign, 'X')).toBe(none.json().message.replace('00000000000000000000', 'X'));
    }
    // Her own camera, which she may know of: the role is what she lacks, and she is told so.
    expect((await req('GET', `/api/cameras/${own}/ptz`, 'village-clerk')).json()).toMatchObject({ code: 'forbidden', message: 'your roles do not include PTZ control' });
  });

  it('refuses another county\'s GB/T 28181 id by its digits, whether or not it exists there', async () => {
    const foreign = gw.gateway.access.camerasUnder(otherCounty())[0]!;
    const madeUp = `${otherCounty().slice(0, 6)}01001329999999`;
    const answers = [];
    for (const id of [foreign, madeUp]) {
      const res = await req('POST', '/api/cameras', 'county-admin', { id, name: 'x', unit: unitOf('county-admin'), mainUrl: 'rtsp://10.0.0.1/a' });
      answers.push([res.statusCode, res.json().message.replace(id, 'X')]);
    }
    expect(answers[0]).toEqual([400, 'id X names region ' + otherCounty().slice(0, 6) + ' (GB/T 28181), outside your part of the tree']);
    expect(answers[1]).toEqual(answers[0]);
  });

  it('gives the sweep totals of the whole city to the top of the tree only', async () => {
    gw.gateway.health.start();
    try {
      await waitFor('a sweep', () => gw.gateway.health.lastSweep, 60_000);
      const village = (await req('GET', `/api/health/units/${unitOf('village-clerk')}`, 'village-clerk')).json();
      expect(Object.keys(village.sweep).sort()).toEqual(['durationMs', 'startedAt']);
      const city = (await req('GET', `/api/health/units/${unitOf('city-admin')}`, 'city-admin')).json();
      expect(city.sweep).toMatchObject({ online: expect.any(Number), offline: expect.any(Number), due: 2001 });
    } finally {
      await gw.gateway.health.stop();
    }
  });
});

describe('media URLs belong to the login that opened them', () => {
  it('refuses a URL replayed from another login, and audits a cookie-less replay with its own address', async () => {
    const cam = gw.gateway.access.camerasUnder(unitOf('village-clerk'))[1]!;
    const ticket = (await req('POST', '/api/streams', 'village-clerk', { camera: cam, profile: 'sub' })).json();
    expect((await req('GET', ticket.playlistUrl, 'village-clerk')).statusCode).toBe(200);
    // Another user of the same village, logged in, replays the clerk's URL: refused, and the refusal is recorded.
    const replay = await req('GET', ticket.playlistUrl, 'township-operator');
    expect(replay.statusCode).toBe(403);
    expect(replay.json().message).toMatch(/another login session/);
    // A player without the cookie (a decoder) holds the token alone: it plays, and its view carries its own address.
    expect((await req('GET', ticket.playlistUrl, undefined, undefined, {}, '10.7.7.7')).statusCode).toBe(200);
    const starts = await waitFor('both views recorded', async () => {
      const e = (await audit(`&action=view.start&camera=${cam}`)).entries;
      return e.length >= 2 && e;
    });
    expect(starts.map((e) => e.remote).sort()).toEqual(['10.7.7.7', '127.0.0.1']);
    const refused = (await audit(`&action=refused&camera=${cam}`)).entries;
    expect(refused.some((e) => e.username === '' && e.detail.code === 'forbidden' && /another login session/.test(String(e.detail.message)) && e.detail.reason === 'other-session')).toBe(true);
  });
});

describe('the node is shared fairly', () => {
  it('refuses a user her fourth stream (maxStreamsPerUser 3) in words, and audits it', async () => {
    const cams = gw.gateway.access.camerasUnder(unitOf('township-operator')).slice(20, 24);
    for (const cam of cams.slice(0, 3)) expect((await req('POST', '/api/streams', 'township-operator', { camera: cam, profile: 'sub' })).statusCode).toBe(200);
    const fourth = await req('POST', '/api/streams', 'township-operator', { camera: cams[3], profile: 'sub' });
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json()).toMatchObject({ code: 'share-exceeded', details: { scope: 'user', limit: 3 } });
    expect(fourth.json().message).toMatch(/media.maxStreamsPerUser/);
    // Another user of the same unit is not held back by her share.
    expect((await req('POST', '/api/streams', 'city-admin', { camera: cams[3], profile: 'sub' })).statusCode).toBe(200);
    const refused = await waitFor('the refusal audited', async () => (await audit(`&action=refused&camera=${cams[3]}`)).entries.find((e) => e.detail.code === 'share-exceeded'));
    expect(refused.username).toBe('township-operator');
  });
});

describe('every refusal is audited, a flood of them is not', () => {
  it('records a refused request once, and its repeats as one summary', async () => {
    const foreign = gw.gateway.access.camerasUnder(otherCounty())[3]!;
    for (let i = 0; i < 25; i++) expect((await req('GET', `/api/cameras/${foreign}`, 'village-clerk')).statusCode).toBe(404);
    const entries = await waitFor('the summary', async () => {
      const e = (await audit(`&action=refused&camera=${foreign}`)).entries;
      return e.length >= 2 && e;
    }, 10_000);
    expect(entries).toHaveLength(2);
    const [summary, first] = entries as [AuditPageT['entries'][number], AuditPageT['entries'][number]];
    expect(first).toMatchObject({ username: 'village-clerk', camera: foreign, detail: { method: 'GET', route: '/api/cameras/:id', status: 404 } });
    expect(summary.detail).toMatchObject({ repeats: 24 });
  });

  it('writes throttled logins of an address as one entry and a count, not a row each', async () => {
    const before = (await audit('&action=login.refused')).total;
    const from = '10.9.9.9';
    for (let i = 0; i < 20; i++) await req('POST', '/api/auth/login', undefined, { username: `nobody-${i}`, password: 'wrong-Pass-1' }, {}, from);
    for (let i = 0; i < 200; i++) expect((await req('POST', '/api/auth/login', undefined, { username: `flood-${i}`, password: 'x' }, {}, from)).statusCode).toBe(429);
    const rows = await waitFor('the summary', async () => {
      const e = (await audit('&action=login.refused')).entries.filter((x) => x.remote === from);
      return e.length >= 2 && e;
    }, 10_000);
    expect((await audit('&action=login.refused')).total - before).toBe(2);
    expect(rows[0]!.detail).toMatchObject({ why: 'throttled', repeats: 199 });
  });
});

describe('accounts: one name whatever its case, no lock-anyone, peers do not manage each other', () => {
  it('keeps usernames unique without regard to case, and counts a case twin as the same account', async () => {
    const made = await req('POST', '/api/users', 'county-admin', { username: 'sec-vict', displayName: '受害者', unit: unitOf('township-operator'), roles: ['operator'], password: 'Strong#Pass-2026' });
    expect(made.statusCode).toBe(201);
    const twin = await req('POST', '/api/users', 'county-admin', { username: 'SEC-VICT', displayName: '孪生', unit: unitOf('township-operator'), roles: ['operator'], password: 'Strong#Pass-2026' });
    expect(twin.statusCode).toBe(409);
    // Wrong passwords under every spelling count for the one account.
    for (const name of ['sec-vict', 'SEC-VICT', 'Sec-Vict']) expect((await req('POST', '/api/auth/login', undefined, { username: name, password: 'wrong-Pass-1' }, {}, '10.1.1.1')).statusCode).toBe(401);
    expect((await req('POST', '/api/auth/login', undefined, { username: 'sec-vict', password: 'Strong#Pass-2026' }, {}, '10.1.1.1')).statusCode).toBe(429);
  });

  it('wrong passwords from other addresses do not lock the administrator out of hers; many of them slow strangers only', async () => {
    const home = '10.2.0.1';
    expect((await req('POST', '/api/auth/login', undefined, { username: 'city-admin', password: DEMO_PASSWORD }, {}, home)).statusCode).toBe(200);
    // Three wrong passwords (lockoutFailures) lock the account for that address only.
    for (let a = 0; a < 2; a++) {
      for (let i = 0; i < 3; i++) expect((await req('POST', '/api/auth/login', undefined, { username: 'city-admin', password: 'wrong-Pass-1' }, {}, `10.3.0.${a}`)).statusCode).toBe(401);
      expect((await req('POST', '/api/auth/login', undefined, { username: 'city-admin', password: DEMO_PASSWORD }, {}, `10.3.0.${a}`)).statusCode).toBe(429);
    }
    // Six failures from elsewhere (accountFailures): her own address is not held up; a new one may try once per turn.
    expect((await req('POST', '/api/auth/login', undefined, { username: 'city-admin', password: DEMO_PASSWORD }, {}, home)).statusCode).toBe(200);
    expect((await req('POST', '/api/auth/login', undefined, { username: 'city-admin', password: DEMO_PASSWORD }, {}, '10.4.0.1')).statusCode).toBe(200);
    const slowed = await req('POST', '/api/auth/login', undefined, { username: 'city-admin', password: DEMO_PASSWORD }, {}, '10.4.0.2');
    expect(slowed.statusCode).toBe(429);
    expect(slowed.json().details).toMatchObject({ why: 'slowed' });
    expect((await req('POST', '/api/auth/login', undefined, { username: 'city-admin', password: DEMO_PASSWORD }, {}, home)).statusCode).toBe(200);
  });

  it('administrators of one unit do not manage each other; both manage those below and their unit\'s non-administrators', async () => {
    const county = unitOf('county-admin');
    const peer = await req('POST', '/api/users', 'city-admin', { username: 'county-admin-b', displayName: '副管理员', unit: county, roles: ['admin'], password: 'Strong#Pass-2026' });
    expect(peer.statusCode).toBe(201);
    const peerId = peer.json().id as number;
    const users = (await req('GET', '/api/users', 'county-admin')).json().users as Array<{ id: number; username: string; manageable: boolean }>;
    const me = users.find((u) => u.username === 'county-admin')!;
    expect(users.find((u) => u.id === peerId)!.manageable).toBe(false);
    for (const change of [{ password: 'Other#Pass-2026' }, { roles: ['viewer'] }, { disabled: true }, { unlock: true }]) {
      const res = await req('PATCH', `/api/users/${peerId}`, 'county-admin', change);
      expect(res.statusCode, JSON.stringify(change)).toBe(403);
      expect(res.json().message).toMatch(/only an administrator above manages that account/);
    }
    const peerCookie = await login(gw, 'county-admin-b', 'Strong#Pass-2026');
    expect((await gw.gateway.http.inject({ method: 'PATCH', url: `/api/users/${me.id}`, payload: { password: 'Other#Pass-2026' }, headers: { cookie: peerCookie } })).statusCode).toBe(403);
    // Nor may one make a new peer; below, anything.
    expect((await req('POST', '/api/users', 'county-admin', { username: 'county-admin-c', displayName: 'c', unit: county, roles: ['admin'], password: 'Strong#Pass-2026' })).statusCode).toBe(403);
    const below = await req('POST', '/api/users', 'county-admin', { username: 'town-admin-x', displayName: 'x', unit: unitOf('township-operator'), roles: ['admin'], password: 'Strong#Pass-2026' });
    expect(below.statusCode).toBe(201);
    expect((await req('PATCH', `/api/users/${below.json().id}`, 'county-admin', { password: 'Other#Pass-2026' })).statusCode).toBe(200);
    // The one above manages both peers.
    expect((await req('PATCH', `/api/users/${peerId}`, 'city-admin', { displayName: '副管理员 B' })).statusCode).toBe(200);
    // Each changes her own password herself, knowing the current one.
    expect((await gw.gateway.http.inject({ method: 'POST', url: '/api/auth/password', payload: { current: 'wrong', password: 'Newer#Pass-2026' }, headers: { cookie: peerCookie } })).statusCode).toBe(401);
    expect((await gw.gateway.http.inject({ method: 'POST', url: '/api/auth/password', payload: { current: 'Strong#Pass-2026', password: 'Newer#Pass-2026' }, headers: { cookie: peerCookie } })).statusCode).toBe(204);
  });
});

describe('secrets at rest', () => {
  it('keeps the store, its journal and the key readable by the gateway\'s user alone', async () => {
    const path = gw.gateway.config.store.path;
    for (const f of [path, `${path}-wal`, `${path}-shm`, gw.gateway.config.secrets.keyFile]) {
      expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    }
  });

  it('answers /metrics to nobody while no scrape token is set', async () => {
    const res = await req('GET', '/metrics');
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toMatch(/metrics.bearerToken/);
  });
});

describe('exports cannot carry spreadsheet formulas', () => {
  it('guards camera names and usernames that start as a formula, and an exported file imports back unchanged', async () => {
    const unit = unitOf('village-clerk');
    const names = ['=HYPERLINK("http://evil.example","点我")', '+1+cmd|" /C calc"!A0', '-2+3', '@SUM(A1)', "'=already guarded"];
    gw.gateway.catalog.upsertCameras(names.map((name, i) => ({ id: `FORMULA-${i}`, name, unit, kind: 'road' as const, latitude: null, longitude: null, mainUrl: `rtsp://10.0.0.${i}/a`, subUrl: null, onvifUrl: null, username: null })));
    gw.gateway.syncCatalog();
    const csv = (await req('GET', `/api/catalog/export?unit=${unit}&format=csv`, 'county-admin')).body;
    const lines = csv.split('\n').filter((l) => l.startsWith('FORMULA-'));
    expect(lines).toHaveLength(names.length);
    for (const line of lines) expect(line.split(',')[1]).toMatch(/^"?'/);
    const job = (await gw.gateway.http.inject({ method: 'POST', url: '/api/catalog/imports?format=csv', payload: csv, headers: { cookie: cookies['county-admin']!, 'content-type': 'text/csv' } })).json();
    const done = await waitFor('the import', async () => {
      const j = (await req('GET', `/api/catalog/imports/${job.id}`, 'county-admin')).json();
      return j.state !== 'running' && j;
    });
    expect(done.progress).toMatchObject({ rejected: 0, updated: 0 });
    expect(names.map((_, i) => gw.gateway.catalog.camera(`FORMULA-${i}`)!.name)).toEqual(names);

    await req('POST', '/api/auth/login', undefined, { username: '=1+2', password: 'wrong-Pass-1' });
    const auditCsv = (await req('GET', '/api/audit.csv?action=login.failed', 'city-admin')).body;
    const row = auditCsv.split('\n').find((l) => l.includes('1+2'))!;
    expect(row.split(',')[2]).toBe("'=1+2");
  });
});

describe('the audit chain is keyed', () => {
  it('finds an entry rewritten with every later link recomputed, and a stripped seal, without the key', async () => {
    expect(gw.gateway.audit.verify().broken).toBeUndefined();
    const copy = `${gw.gateway.config.store.path}.copy`;
    const live = new Database(gw.gateway.config.store.path);
    await live.backup(copy);
    live.close();
    const db = new Database(copy);
    try {
      db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
      // The attacker knows the scheme but not the key: SHA-256 links recomputed from entry 5 on.
      const { createHash } = await import('node:crypto');
      db.prepare("UPDATE audit_log SET username = 'someone-else' WHERE id = 5").run();
      let prev = (db.prepare('SELECT hash FROM audit_log WHERE id = 4').get() as { hash: string }).hash;
      for (const r of db.prepare('SELECT * FROM audit_log WHERE id >= 5 ORDER BY id').all() as Array<Record<string, unknown>>) {
        const hash = createHash('sha256').update(JSON.stringify([prev, r.at, r.user_id, r.username, r.unit, r.action, r.camera, r.camera_unit, r.detail, r.remote])).digest('hex');
        db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?').run(prev, hash, r.id);
        prev = hash;
      }
      const { AuditLog } = await import('../../../gateway/src/audit/audit-log.js');
      const { MasterKey } = await import('../../../gateway/src/secrets/master-key.js');
      const key = MasterKey.load(gw.gateway.config.secrets.keyFile).derive('audit-chain');
      expect(new AuditLog(db, key, { readOnly: true }).verify().broken?.id).toBe(5);
      // Stripping the seal to pass the whole trail off as unkeyed fails too.
      db.prepare("DELETE FROM audit_log WHERE action = 'audit.keyed'").run();
      expect(new AuditLog(db, key, { readOnly: true }).verify().broken).toBeDefined();
    } finally {
      db.close();
    }
  });
});
