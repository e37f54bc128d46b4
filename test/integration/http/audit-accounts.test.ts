// The audit trail, login lockout, accounts and sessions over HTTP with a real store.
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPageT } from '../../../gateway/src/http/schemas.js';
import { DEMO_PASSWORD, login, ROOT, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
let cookies: Record<string, string>;
beforeAll(async () => {
  gw = await startGateway({ cameras: 2000, audit: { viewIdleSeconds: 1 }, auth: { lockoutFailures: 3, lockoutMinutes: 10 } });
  cookies = {};
  for (const u of ['city-admin', 'county-admin', 'township-operator', 'village-clerk']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => { await gw?.close(); });

const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
const req = (method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, user?: string, payload?: unknown, cookie?: string) =>
  gw.gateway.http.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}), headers: cookie ? { cookie } : user ? { cookie: cookies[user]! } : {} });
const audit = async (user: string, query = '') => (await req('GET', `/api/audit?limit=1000${query}`, user)).json() as AuditPageT;

describe('audit trail', () => {
  it('records logins, views from when to when, PTZ and grants, and each admin reads her own subtree', async () => {
    const cam = gw.gateway.access.camerasUnder(unitOf('township-operator'))[0]!;
    const ticket = (await req('POST', '/api/streams', 'township-operator', { camera: cam, profile: 'sub' })).json() as { playlistUrl: string };
    await waitFor('the playlist', async () => (await req('GET', ticket.playlistUrl)).statusCode === 200, 20_000, 300);
    await req('POST', `/api/cameras/${cam}/ptz/move`, 'township-operator', { pan: 0.5, timeoutMs: 200 });
    await req('POST', `/api/cameras/${cam}/ptz/move`, 'township-operator', { pan: 0.5, timeoutMs: 200 });
    // The view ends when no media request came for viewIdleSeconds.
    const end = await waitFor('the view to end', async () => (await audit('county-admin', `&action=view.end&camera=${cam}`)).entries[0], 10_000, 300);
    expect(end).toMatchObject({ username: 'township-operator', unit: unitOf('township-operator'), camera: cam, detail: { profile: 'sub', from: expect.any(Number), to: expect.any(Number) } });
    const county = await audit('county-admin');
    const actions = county.entries.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['login', 'view.start', 'view.end', 'ptz.move']));
    // A held arrow repeats its move: one entry, not one per repeat.
    expect(county.entries.filter((e) => e.action === 'ptz.move' && e.camera === cam)).toHaveLength(1);
    // The county admin does not read the city admin's own entries (the city is above her); the city reads everything.
    expect(county.entries.some((e) => e.username === 'city-admin')).toBe(false);
    expect((await audit('city-admin')).entries.some((e) => e.username === 'city-admin' && e.action === 'login')).toBe(true);
    expect((await req('GET', '/api/audit', 'village-clerk')).statusCode).toBe(403);

    const csv = (await req('GET', `/api/audit.csv?camera=${cam}`, 'county-admin')).body.split('\n');
    expect(csv[0]).toBe('id,time,username,unit,action,camera,camera_unit,detail,remote,hash');
    expect(csv.filter((l) => l.includes('view.start'))).toHaveLength(1);
  });

  it('cannot be edited through the store without the chain saying where', async () => {
    expect(gw.gateway.audit.verify().broken).toBeUndefined();
    const db = new Database(gw.gateway.config.store.path);
    try {
      expect(() => db.prepare('UPDATE audit_log SET username = ? WHERE id = 2').run('someone-else')).toThrow(/cannot be changed/);
      expect(() => db.prepare('DELETE FROM audit_log WHERE id = 2').run()).toThrow(/cannot be deleted/);
      // Someone with the database file drops the trigger and rewrites history: the chain notices.
      db.exec('DROP TRIGGER audit_no_update');
      db.prepare("UPDATE audit_log SET detail = '{}' WHERE id = 3").run();
    } finally {
      db.close();
    }
    expect(gw.gateway.audit.verify().broken).toEqual({ id: 3, reason: 'its content does not match its MAC (it was changed, or this is not the key of this trail)' });
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'audit-verify'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEG__STORE__PATH: gw.gateway.config.store.path, SEG__SECRETS__KEY_FILE: gw.gateway.config.secrets.keyFile },
    });
    expect(cli.status).toBe(4);
    expect(cli.stdout).toMatch(/audit trail BROKEN at entry 3/);
  });
});

describe('login throttling', () => {
  it('locks an account after repeated wrong passwords, for known and unknown names alike, until an admin unlocks it', async () => {
    for (const username of ['village-clerk-2', 'no-such-user']) {
      for (let i = 0; i < 3; i++) expect((await req('POST', '/api/auth/login', undefined, { username, password: 'wrong-Pass-1' })).statusCode).toBe(401);
      const locked = await req('POST', '/api/auth/login', undefined, { username, password: DEMO_PASSWORD });
      expect(locked.statusCode).toBe(429);
      expect(locked.json().message).toMatch(/too many wrong passwords for this account from your address: try again in 10 min/);
      expect(locked.headers['retry-after']).toBe('600');
    }
    const clerk2 = (await req('GET', '/api/users', 'city-admin')).json().users.find((u: { username: string }) => u.username === 'village-clerk-2');
    expect((await req('PATCH', `/api/users/${clerk2.id}`, 'city-admin', { unlock: true })).statusCode).toBe(200);
    expect((await req('POST', '/api/auth/login', undefined, { username: 'village-clerk-2', password: DEMO_PASSWORD })).statusCode).toBe(200);
    const entries = (await audit('city-admin', '&action=login.failed')).entries;
    expect(entries.filter((e) => e.username === 'no-such-user')).toHaveLength(3);
    expect(JSON.stringify(entries)).not.toContain('wrong-Pass-1');
  });
});

describe('accounts and sessions', () => {
  it('an admin manages accounts of her subtree only; disabling one ends its sessions', async () => {
    const village = unitOf('village-clerk');
    const otherCounty = gw.gateway.access.tree.children(unitOf('city-admin')).find((u) => u.code !== unitOf('county-admin'))!.code;
    expect((await req('POST', '/api/users', 'county-admin', { username: 'clerk-new', displayName: '新文员', unit: village, roles: ['viewer'], password: 'short' })).statusCode).toBe(400);
    expect((await req('POST', '/api/users', 'county-admin', { username: 'clerk-new', displayName: '新文员', unit: village, roles: ['viewer'], password: 'alllowercaseletters' })).json().message).toMatch(/three of/);
    expect((await req('POST', '/api/users', 'county-admin', { username: 'clerk-x', displayName: 'x', unit: otherCounty, roles: ['viewer'], password: 'Strong#Pass-2026' })).json().message).toMatch(/outside your part/);
    const made = await req('POST', '/api/users', 'county-admin', { username: 'clerk-new', displayName: '新文员', unit: village, roles: ['viewer'], password: 'Strong#Pass-2026' });
    expect(made.statusCode, made.body).toBe(201);
    const id = made.json().id;
    const cookie = await login(gw, 'clerk-new', 'Strong#Pass-2026');
    expect((await req('GET', '/api/tree', undefined, undefined, cookie)).statusCode).toBe(200);
    const sessions = (await req('GET', '/api/sessions?scope=subtree', 'county-admin')).json().sessions as Array<{ username: string; id: string }>;
    expect(sessions.some((s) => s.username === 'clerk-new')).toBe(true);
    expect((await req('GET', '/api/sessions?scope=subtree', 'village-clerk')).statusCode).toBe(403);
    expect((await req('PATCH', `/api/users/${id}`, 'county-admin', { disabled: true })).json()).toMatchObject({ disabled: true });
    expect((await req('GET', '/api/tree', undefined, undefined, cookie)).statusCode).toBe(401);
    expect((await req('POST', '/api/auth/login', undefined, { username: 'clerk-new', password: 'Strong#Pass-2026' })).statusCode).toBe(401);
    const me = (await req('GET', '/api/users', 'county-admin')).json().users.find((u: { username: string }) => u.username === 'county-admin');
    expect((await req('PATCH', `/api/users/${me.id}`, 'county-admin', { disabled: true })).statusCode).toBe(403);
    const cityAdmin = (await req('GET', '/api/users', 'city-admin')).json().users.find((u: { username: string }) => u.username === 'city-admin');
    expect((await req('PATCH', `/api/users/${cityAdmin.id}`, 'county-admin', { roles: ['viewer'] })).statusCode).toBe(404);
  });

  it('a user lists her sessions and ends one of them', async () => {
    const other = await login(gw, 'village-clerk');
    const list = (await req('GET', '/api/sessions', undefined, undefined, other)).json().sessions as Array<{ id: string; current: boolean }>;
    expect(list.filter((s) => s.current)).toHaveLength(1);
    const first = list.find((s) => !s.current)!;
    expect((await req('DELETE', `/api/sessions/${first.id}`, undefined, undefined, other)).statusCode).toBe(204);
    expect((await req('DELETE', `/api/sessions/${first.id}`, 'township-operator')).statusCode).toBe(404);
  });
});
