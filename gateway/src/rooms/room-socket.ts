// A participant's page follows her room over a WebSocket: the gateway sends her state (what GET .../room answers)
// whenever it changes (someone joins, the host mutes her, a recording starts, a hand goes up), within a fraction of a
// second, instead of her page asking every second. She says who she is in her first message (a guest by her secret:
// a browser cannot set headers on a WebSocket, and a secret in the URL would be written to logs on the way; an
// account by her session cookie, from a page of this origin); she is asked again on every look, and a participant
// who is no longer in the room (removed, the room ended, her login ended) has her socket closed.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HttpDeps } from '../http/deps.js';
import { sameOrigin, sessionCookieOf } from '../http/auth-plugin.js';
import { helloField, refuseHello, refuseUpgrade } from '../http/upgrade.js';
import { GUEST_PREFIX, type Participant, type Room, type Rooms } from './rooms.js';

/** LOOK_MS is how often the rooms followed are looked at for changes. */
const LOOK_MS = 200;
/** HELLO_MS is how long a socket may stay without saying who it is. */
const HELLO_MS = 5000;
/** MAX_SOCKETS bounds the sockets open at once (a room holds 64 participants, a node 200 rooms). */
const MAX_SOCKETS = 2000;
/** PER_PARTICIPANT bounds one participant's sockets (a page, its reload, a second tab): the oldest gives way. */
const PER_PARTICIPANT = 4;
/** MAX_BUFFERED is what may wait unsent to one page before it is dropped as too slow. */
const MAX_BUFFERED = 1 << 20;
const PATH = /^\/api\/rooms\/([A-Za-z0-9_-]{8,32})\/participants\/([A-Za-z0-9_-]{8,32})\/ws$/;

interface Follower {
  ws: WebSocket;
  room: string;
  participant: string;
  /** guest is her secret (a guest); cookie is her session's (an account). */
  guest?: string;
  cookie?: string;
  last: string;
}

/**
 * roomSockets serves /api/rooms/:id/participants/:participant/ws. bodyOf is the room as everyone in it sees it,
 * receivingOf what one participant receives now: together, her state.
 */
export function roomSockets(app: FastifyInstance, deps: HttpDeps, o: { registry: Rooms; bodyOf: (room: Room) => object; receivingOf: (room: Room, p: Participant) => string[] }): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const followers = new Set<Follower>();
  let open = 0;

  /** whose says whether the follower is still that participant of that open room. */
  const whose = (f: Pick<Follower, 'room' | 'participant' | 'guest' | 'cookie'>): { room: Room; p: Participant } | undefined => {
    if (f.guest) {
      const g = o.registry.guest(f.room, f.guest);
      return g && g.participant.id === f.participant ? { room: g.room, p: g.participant } : undefined;
    }
    const session = f.cookie ? deps.sessions.find(f.cookie) : undefined;
    const user = session ? deps.catalog.user(session.userId) : undefined;
    const room = o.registry.openRoom(f.room);
    const p = room?.participants.get(f.participant);
    return user && !user.disabled && room && p && p.userId === user.id ? { room, p } : undefined;
  };

  const look = setInterval(() => {
    const bodies = new Map<string, string>();
    for (const f of followers) {
      const w = whose(f);
      if (!w) { f.ws.close(4401, 'no longer in this room'); followers.delete(f); continue; }
      if (f.ws.bufferedAmount > MAX_BUFFERED) { f.ws.close(4408, 'too slow'); followers.delete(f); continue; }
      let body = bodies.get(w.room.id);
      if (body === undefined) {
        body = JSON.stringify(o.bodyOf(w.room));
        bodies.set(w.room.id, body);
      }
      const state = `{"type":"room","room":${body.slice(0, -1)},"receiving":${JSON.stringify(o.receivingOf(w.room, w.p))}}}`;
      if (state === f.last) continue;
      f.last = state;
      f.ws.send(state);
    }
  }, LOOK_MS);
  look.unref();
  // Open sockets are ended before the server waits for its connections to close (an upgraded one never would).
  app.addHook('preClose', async () => {
    clearInterval(look);
    for (const f of followers) f.ws.terminate();
  });

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const m = PATH.exec((req.url ?? '').split('?')[0]!);
    if (!m) return;
    if (open >= MAX_SOCKETS) return refuseUpgrade(socket, 503, 'capacity', 'room-sockets-full', 'too many pages follow rooms on this node: the page asks every second instead');
    // A cookie travels with a page of any site: an account's socket must come from this origin's pages.
    const cookie = sessionCookieOf(req.headers.cookie);
    if (cookie && (!req.headers.origin || !sameOrigin(req.headers.origin, req.headers.host))) return refuseUpgrade(socket, 403, 'forbidden', 'cross-site', 'only this origin\'s pages may follow a room');
    open++;
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const hello = setTimeout(() => ws.close(4401, 'say hello first'), HELLO_MS);
      let entry: Follower | undefined;
      ws.on('close', () => { clearTimeout(hello); open--; if (entry) followers.delete(entry); });
      ws.on('error', () => ws.terminate());
      ws.once('message', (data) => {
        clearTimeout(hello);
        const secret = helloField(data, 'secret');
        const f: Follower = { ws, room: m[1]!, participant: m[2]!, last: '' };
        if (typeof secret === 'string' && secret.startsWith(GUEST_PREFIX) && secret.length <= 200) f.guest = secret;
        else if (cookie) f.cookie = cookie;
        if (!whose(f)) {
          refuseHello(deps.audit, ws, { remote: req.socket.remoteAddress, key: 'room-ws', route: '/api/rooms/:id/participants/:participant/ws', reason: 'room-not-you', message: 'not a participant of this room' });
          return;
        }
        entry = f;
        const hers = [...followers].filter((x) => x.room === f.room && x.participant === f.participant);
        for (const old of hers.slice(0, Math.max(0, hers.length - PER_PARTICIPANT + 1))) { followers.delete(old); old.ws.close(4409, 'opened again elsewhere'); }
        followers.add(f);
        ws.on('message', () => undefined);
      });
    });
  });
}
