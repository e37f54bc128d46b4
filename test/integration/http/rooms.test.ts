// Rooms over HTTP, the host's controls: a conference convened by unit with a waiting room, admission, roll call by
// unit, lock, raised hands, broadcast, hosting handed over; each audited, and refusals said by reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startGateway, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
const cookies: Record<string, string> = {};
beforeAll(async () => {
  gw = await startGateway({ cameras: 200 });
  for (const u of ['county-admin', 'township-operator', 'village-clerk', 'village-clerk-2']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

const unitOf = (u: string) => gw.gateway.catalog.userWithHash(u)!.user.unit;
const req = (method: 'GET' | 'POST' | 'DELETE', url: string, who: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, headers: { cookie: cookies[who]! }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
type RoomT = { id: string; host: number; locked: boolean; broadcast: boolean; participants: Array<{ id: string; name: string; role: string; admitted: boolean; hand: number | null }> };

describe('a conference across levels', () => {
  it('convenes units, holds newcomers in the waiting room, calls the roll by unit, locks, hands over', async () => {
    const made = await req('POST', '/api/rooms', 'county-admin', { kind: 'conference', title: '综治工作例会', members: [], units: [unitOf('township-operator'), unitOf('village-clerk')], waiting: true });
    expect(made.statusCode, made.body).toBe(201);
    const room = made.json<RoomT>().id;
    // A village outside those convened is not in it; one of a unit above her is refused.
    expect((await req('POST', `/api/rooms/${room}/join`, 'village-clerk-2')).statusCode).toBe(404);
    expect((await req('POST', '/api/rooms', 'township-operator', { kind: 'conference', title: 'x', members: [], units: [unitOf('county-admin')] })).json()).toMatchObject({ details: { reason: 'unit-unknown' } });

    const host = (await req('POST', `/api/rooms/${room}/join`, 'county-admin')).json<{ participant: string }>().participant;
    let op = (await req('POST', `/api/rooms/${room}/join`, 'township-operator')).json<{ participant: string }>().participant;
    const state = async () => (await req('GET', `/api/rooms/${room}`, 'county-admin')).json<RoomT>();
    expect((await state()).participants.find((p) => p.id === op)!.admitted).toBe(false);
    // Waiting, she may neither send nor receive.
    const early = await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/participants/${op}/send`, headers: { cookie: cookies['township-operator']!, 'content-type': 'application/sdp' }, payload: 'v=0' });
    expect(early.json()).toMatchObject({ details: { reason: 'room-waiting' } });
    expect((await req('POST', `/api/rooms/${room}/participants/${op}/admit`, 'township-operator')).json()).toMatchObject({ details: { reason: 'room-host-only' } });
    expect((await req('POST', `/api/rooms/${room}/participants/${op}/admit`, 'county-admin')).statusCode).toBe(204);
    expect((await state()).participants.find((p) => p.id === op)!.admitted).toBe(true);
    // She leaves by herself (audited) and may come back: her account is not removed.
    expect((await req('POST', `/api/rooms/${room}/participants/${op}/leave`, 'township-operator')).statusCode).toBe(204);
    expect((await state()).participants.some((p) => p.id === op)).toBe(false);
    expect(gw.gateway.audit.query({ units: [unitOf('county-admin')], action: 'room.leave', limit: 5, offset: 0 }).entries[0]).toMatchObject({ username: 'township-operator', detail: { room } });
    op = (await req('POST', `/api/rooms/${room}/join`, 'township-operator')).json<{ participant: string }>().participant;
    expect((await req('POST', `/api/rooms/${room}/participants/${op}/admit`, 'county-admin')).statusCode).toBe(204);

    // The roll: the township present, the village's clerk absent.
    const roll = (await req('GET', `/api/rooms/${room}/rollcall`, 'county-admin')).json<{ units: Array<{ unit: string; present: string[]; absent: string[] }> }>().units;
    const name = (u: string) => gw.gateway.catalog.userWithHash(u)!.user.displayName;
    expect(roll.find((x) => x.unit === unitOf('township-operator'))!.present).toContain(name('township-operator'));
    expect(roll.find((x) => x.unit === unitOf('village-clerk'))!.absent).toContain(name('village-clerk'));

    // Locked: no one new comes in, not even by an invite link; unlocked, the clerk joins and raises her hand.
    expect((await req('POST', `/api/rooms/${room}/lock`, 'county-admin', { locked: true })).statusCode).toBe(204);
    expect((await req('POST', `/api/rooms/${room}/join`, 'village-clerk')).json()).toMatchObject({ details: { reason: 'room-locked' } });
    const invite = (await req('POST', `/api/rooms/${room}/invites`, 'county-admin', { name: '律师', role: 'observer', minutes: 5 })).json<{ token: string }>();
    const guest = await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/guests`, payload: { token: invite.token } });
    expect(guest.json()).toMatchObject({ details: { reason: 'room-locked' } });
    await req('POST', `/api/rooms/${room}/lock`, 'county-admin', { locked: false });
    const clerk = (await req('POST', `/api/rooms/${room}/join`, 'village-clerk')).json<{ participant: string }>().participant;
    await req('POST', `/api/rooms/${room}/participants/${clerk}/admit`, 'county-admin');
    expect((await req('POST', `/api/rooms/${room}/participants/${clerk}/hand`, 'village-clerk', { raised: true })).statusCode).toBe(204);
    // Her hand is hers to raise: not another's.
    expect((await req('POST', `/api/rooms/${room}/participants/${op}/hand`, 'village-clerk', { raised: true })).json()).toMatchObject({ details: { reason: 'room-not-you' } });
    expect((await state()).participants.find((p) => p.id === clerk)!.hand).toBeGreaterThan(0);

    expect((await req('POST', `/api/rooms/${room}/broadcast`, 'county-admin', { on: true })).statusCode).toBe(204);
    expect((await state()).broadcast).toBe(true);
    // Hosting handed over: the township operator leads, the county administrator is a party.
    expect((await req('POST', `/api/rooms/${room}/host`, 'county-admin', { participant: op })).statusCode).toBe(204);
    const after = await state();
    expect(after.host).toBe(gw.gateway.catalog.userWithHash('township-operator')!.user.id);
    expect(after.participants.find((p) => p.id === host)!.role).toBe('party');
    expect((await req('POST', `/api/rooms/${room}/lock`, 'county-admin', { locked: true })).json()).toMatchObject({ details: { reason: 'room-host-only' } });
    expect((await req('POST', `/api/rooms/${room}/end`, 'township-operator')).statusCode).toBe(204);
    const actions = gw.gateway.audit.query({ units: gw.gateway.access.tree.subtree(gw.gateway.access.tree.root.code).map((u) => u.code), limit: 100, offset: 0 }).entries.map((e) => e.action);
    for (const a of ['room.admit', 'room.lock', 'room.broadcast', 'room.host', 'room.end']) expect(actions).toContain(a);
  });
});
