// A participant's page follows her room over a WebSocket: her state comes at once and again as it changes (a hand
// raised, the host's mute), only to who she is (a guest by her secret in the first message, an account by her
// cookie from this origin); a socket that cannot say it is hers is refused and audited, and a participant removed has
// her socket closed.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startGateway, waitFor, type TestGateway } from '../../support/harness.js';

let gw: TestGateway;
const cookies: Record<string, string> = {};
beforeAll(async () => {
  gw = await startGateway({ cameras: 200 });
  for (const u of ['county-admin', 'township-operator']) cookies[u] = await login(gw, u);
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

const req = (method: 'GET' | 'POST' | 'DELETE', url: string, who: string, payload?: unknown) =>
  gw.gateway.http.inject({ method, url, headers: { cookie: cookies[who]! }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

interface Pushed { type: string; reason?: string; room?: { participants: Array<{ id: string; muted: boolean; hand: number | null }>; receiving: string[] } }

/** follow opens a participant's socket and keeps every message; closed resolves with the close code. */
function follow(room: string, participant: string, o: { cookie?: string; origin?: string; secret?: string }) {
  const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/api/rooms/${room}/participants/${participant}/ws`, { headers: { ...(o.cookie ? { cookie: o.cookie } : {}), origin: o.origin ?? gw.url } });
  const got: Pushed[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => { ws.on('open', () => resolve()); ws.on('error', reject); });
  ws.on('message', (d) => got.push(JSON.parse(String(d)) as Pushed));
  void opened.then(() => ws.send(JSON.stringify({ type: 'hello', ...(o.secret ? { secret: o.secret } : {}) })), () => undefined);
  return { ws, got, closed, opened };
}

describe("a room's state pushed to its participants", () => {
  it('comes at once and as it changes, to her alone; a socket not hers is refused, a removed participant is closed', async () => {
    const made = await req('POST', '/api/rooms', 'county-admin', { kind: 'mediation', title: '推送', members: [{ username: 'township-operator', role: 'party' }] });
    const room = made.json<{ id: string }>().id;
    const host = (await req('POST', `/api/rooms/${room}/join`, 'county-admin')).json<{ participant: string }>().participant;
    const party = (await req('POST', `/api/rooms/${room}/join`, 'township-operator')).json<{ participant: string }>().participant;
    const invite = (await req('POST', `/api/rooms/${room}/invites`, 'county-admin', { name: '王某', role: 'party', minutes: 5 })).json<{ token: string }>();
    const g = (await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/guests`, payload: { token: invite.token } })).json<{ participant: string; secret: string }>();

    const guest = follow(room, g.participant, { secret: g.secret });
    const op = follow(room, party, { cookie: cookies['township-operator']! });
    const first = await waitFor('her state', () => guest.got.find((m) => m.type === 'room'), 5000, 20);
    expect(first.room!.participants.map((p) => p.id).sort()).toEqual([host, party, g.participant].sort());
    expect(first.room!.receiving).toEqual([]);
    await waitFor("the party's state", () => op.got.find((m) => m.type === 'room'), 5000, 20);

    // The party raises her hand: the guest hears of it within a second, without asking.
    const before = guest.got.length;
    const t0 = Date.now();
    expect((await req('POST', `/api/rooms/${room}/participants/${party}/hand`, 'township-operator', { raised: true })).statusCode).toBe(204);
    const raised = await waitFor('the hand pushed', () => guest.got.slice(before).find((m) => m.room?.participants.find((p) => p.id === party)?.hand != null), 5000, 10);
    expect(raised).toBeDefined();
    expect(Date.now() - t0).toBeLessThan(1000);
    // The host mutes the guest: she is told.
    expect((await req('POST', `/api/rooms/${room}/participants/${g.participant}/mute`, 'county-admin', { muted: true })).statusCode).toBe(204);
    await waitFor('her mute pushed', () => guest.got.find((m) => m.room?.participants.find((p) => p.id === g.participant)?.muted === true), 5000, 10);
    // Nothing changed, nothing sent: a quiet room costs no messages.
    const settled = guest.got.length;
    await waitFor('a second of quiet', async () => { await new Promise((r) => setTimeout(r, 1000)); return true; }, 3000, 0);
    expect(guest.got.length).toBe(settled);

    // Not hers: another participant's id with her secret, an account's socket without a cookie, a cross-site page.
    const wrong = follow(room, party, { secret: g.secret });
    expect(await wrong.closed).toBe(4401);
    expect(wrong.got).toEqual([{ type: 'refused', code: 'unauthenticated', reason: 'room-not-you' }]);
    const anonymous = follow(room, party, {});
    expect(await anonymous.closed).toBe(4401);
    const crossSite = follow(room, party, { cookie: cookies['township-operator']!, origin: 'http://evil.example' });
    await expect(crossSite.opened).rejects.toThrow(/403/);
    await waitFor('the refusal audited', () => gw.gateway.audit.query({ units: [], unattributed: true, action: 'refused', limit: 20, offset: 0 }).entries.find((e) => e.detail.route === '/api/rooms/:id/participants/:participant/ws'), 5000, 50);

    // One participant holds a few sockets at most (a reload, a second tab): the oldest gives way to the newest.
    const tabs = [1, 2, 3, 4].map(() => follow(room, party, { cookie: cookies['township-operator']! }));
    expect(await op.closed).toBe(4409);
    for (const t of tabs) await waitFor('a tab followed', () => t.got.find((m) => m.type === 'room'), 5000, 20);
    const last = tabs.at(-1)!;

    // Removed by the host, the guest's socket is closed; the room ended, the party's too.
    expect((await req('DELETE', `/api/rooms/${room}/participants/${g.participant}`, 'county-admin')).statusCode).toBe(204);
    expect(await guest.closed).toBe(4401);
    expect((await req('POST', `/api/rooms/${room}/end`, 'county-admin')).statusCode).toBe(204);
    expect(await last.closed).toBe(4401);
  });
});

describe('a forged session cookie on a socket', () => {
  it('is no session: the event stream, a wall and a room refuse it, and the gateway goes on serving', async () => {
    const made = await req('POST', '/api/rooms', 'county-admin', { kind: 'mediation', title: '伪造', members: [{ username: 'township-operator', role: 'party' }] });
    const room = made.json<{ id: string }>().id;
    const party = (await req('POST', `/api/rooms/${room}/join`, 'township-operator')).json<{ participant: string }>().participant;
    // Not well-formed percent-encoding: it once threw out of the upgrade handlers.
    const forged = 'seg_session=%E0%A4%A';
    const status = (path: string) => new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}${path}`, { headers: { cookie: forged, origin: gw.url } });
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error(`${path} was opened`)));
      ws.on('error', () => undefined);
    });
    expect(await status('/api/events/ws')).toBe(401);
    expect(await status('/api/walls/1/ws')).toBe(401);
    const r = follow(room, party, { cookie: forged });
    expect(await r.closed).toBe(4401);
    expect(r.got).toEqual([{ type: 'refused', code: 'unauthenticated', reason: 'room-not-you' }]);
    const alive = await fetch(`${gw.url}/api/rooms/${room}`, { headers: { cookie: cookies['county-admin']! } });
    expect(alive.status).toBe(200);
  });
});
