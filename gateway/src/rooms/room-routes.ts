// Rooms over HTTP: a mediator (or an operator, an administrator) opens a room and invites accounts of
// her part of the tree; each joins, sends her camera and microphone (a sending SDP offer) and receives the others
// (a receiving offer per participant); the host mutes and removes, and ends the room. Every step is audited.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HttpDeps } from '../http/deps.js';
import { AppError } from '../http/errors.js';
import { auditBy, bearerOf, COOKIE, requireAuth, sameOrigin, subjectOf } from '../http/auth-plugin.js';
import { playlistUrl } from '../http/routes/stream-routes.js';
import { whepUrl } from '../http/routes/whep-routes.js';
import { CameraId, ProfileName, UnitCode } from '../http/schemas.js';
import type { Profile } from '../../../adapters/core/types.js';
import { SdpError, MAX_OFFER_BYTES } from '../media/webrtc/whep-sdp.js';
import { RoomMediaError } from '../media/webrtc/room-media.js';
import { agreementHash, DISPUTE_TYPES, type DisputeType } from './cases.js';
import { roomSockets } from './room-socket.js';
import { GUEST_PREFIX, ROOM_KINDS, RoomError, type Participant, type ParticipantRole, type Room, type RoomKind } from './rooms.js';

const Id = Type.String({ minLength: 8, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' });
const RoomCreate = Type.Object({
  kind: Type.Union(ROOM_KINDS.map((k) => Type.Literal(k))),
  title: Type.String({ minLength: 1, maxLength: 100 }),
  members: Type.Array(Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), role: Type.Union([Type.Literal('party'), Type.Literal('observer')]) }, { additionalProperties: false }), { maxItems: 63 }),
  /** units convene every account of these units as parties (a conference across levels). */
  units: Type.Optional(Type.Array(UnitCode, { maxItems: 64 })),
  /** waiting holds newcomers in a waiting room until the host admits them. */
  waiting: Type.Optional(Type.Boolean()),
  /** disputeType and parties open a mediation's case (its number is given by the gateway). */
  disputeType: Type.Optional(Type.Union(DISPUTE_TYPES.map((k) => Type.Literal(k)))),
  parties: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 60 }), { maxItems: 20 })),
}, { additionalProperties: false });
const ParticipantBody = Type.Object({
  id: Type.String(), name: Type.String(), unit: Type.String(), role: Type.String(), joinedAt: Type.Number(), muted: Type.Boolean(), sending: Type.Array(Type.String()),
  admitted: Type.Boolean(), hand: Type.Union([Type.Number(), Type.Null()]), guest: Type.Boolean(), sharing: Type.Boolean(),
});
const RoomCameraBody = Type.Object({ camera: Type.String(), name: Type.String(), by: Type.String(), at: Type.Number() });
const CaseSummary = Type.Object({ id: Type.Integer(), caseNo: Type.String(), agreement: Type.String(), agreementSha256: Type.String(), confirmedBy: Type.Array(Type.String()) });
const RoomBody = Type.Object({
  recording: Type.Union([Type.Object({ id: Type.String(), since: Type.Number() }), Type.Null()]), case: Type.Union([CaseSummary, Type.Null()]),
  receiving: Type.Optional(Type.Array(Type.String())), id: Type.String(), kind: Type.String(), title: Type.String(), unit: Type.String(), host: Type.Integer(), createdAt: Type.Number(), participants: Type.Array(ParticipantBody), cameras: Type.Array(RoomCameraBody), locked: Type.Boolean(), waiting: Type.Boolean(), broadcast: Type.Boolean() });
/** REVIEW_MS is how often the rights behind the cameras brought into rooms are asked again. */
const REVIEW_MS = 1000;

/** roomRoutes serves /api/rooms. */
export async function roomRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const rooms = deps.rooms;
  const need = () => {
    if (!rooms) throw new AppError('stream-unavailable', 'rooms need WebRTC, which is off on this gateway (media.webrtc)', { reason: 'webrtc-off' });
    return rooms;
  };
  const guard = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RoomError) throw new AppError(err.kind, err.message, { reason: err.reason });
      if (err instanceof SdpError) throw new AppError('bad-request', err.message, { reason: 'sdp' });
      if (err instanceof RoomMediaError) throw new AppError(err.code === 'capacity' ? 'capacity' : err.code, err.message, { reason: `room-media-${err.code}` });
      throw err;
    }
  };
  /** remember writes the room's record: who was invited (the right to its recordings and case), and when it ended. */
  const remember = (room: Room) => need().store.saveRoom({ id: room.id, kind: room.kind, title: room.title, unit: room.unit, host: room.host, members: [...room.members.keys()], createdAt: room.createdAt, endedAt: room.endedAt });
  const caseOf = (room: Room) => {
    const c = room.kind === 'mediation' ? need().store.caseOfRoom(room.id) : undefined;
    return c ? { id: c.id, caseNo: c.caseNo, agreement: c.agreement, agreementSha256: agreementHash(c.agreement), confirmedBy: c.confirmations.filter((x) => x.agreementSha256 === agreementHash(c.agreement)).map((x) => x.party) } : null;
  };
  const body = (room: Room) => {
    const sending = new Map(need().media.publishing(room.id).map((p) => [p.participant, p.kinds]));
    const sharing = new Set(need().media.publishing(room.id, 'screen').map((p) => p.participant));
    return {
      recording: need().recordings.active(room.id) ?? null, case: caseOf(room),
      id: room.id, kind: room.kind, title: room.title, unit: room.unit, host: room.host, createdAt: room.createdAt,
      locked: room.locked, waiting: room.waiting, broadcast: room.broadcast,
      participants: [...room.participants.values()].map((p) => ({
        id: p.id, name: p.name, unit: p.unit, role: p.role, joinedAt: p.joinedAt, muted: p.muted, sending: sending.get(p.id) ?? [], admitted: p.admitted, hand: p.hand, guest: p.userId === 0, sharing: sharing.has(p.id),
      })),
      cameras: [...room.cameras.entries()].map(([camera, c]) => ({ camera, name: deps.catalog.summary(camera)?.name ?? camera, by: room.participants.get(c.participant)?.name ?? '', at: c.at })),
    };
  };
  const sdpBody = (req: FastifyRequest): string => {
    if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/sdp') || typeof req.body !== 'string') {
      throw new AppError('bad-request', 'an offer is sent as application/sdp', { reason: 'sdp' });
    }
    return req.body;
  };
  /**
   * me is the participant a request speaks for: a guest by her own secret (from her invite link), or an account by
   * its login, which must be that participant. Routes that guests use are public to the login hook and ask here.
   */
  const me = async (req: FastifyRequest, roomId: string, participant: string): Promise<{ room: Room; me: Participant }> => {
    const r = need();
    const bearer = bearerOf(req.headers.authorization);
    if (bearer?.startsWith(GUEST_PREFIX)) {
      const g = r.registry.guest(roomId, bearer);
      if (!g) throw new AppError('unauthenticated', 'you are no longer in this room (removed, or the room ended)', { reason: 'room-guest-ended' });
      if (g.participant.id !== participant) throw new AppError('forbidden', 'that participant is not you', { reason: 'room-not-you' });
      return { room: g.room, me: g.participant };
    }
    const secret = bearer ?? req.cookies[COOKIE];
    const session = secret ? deps.sessions.find(secret) : undefined;
    const user = session ? deps.catalog.user(session.userId) : undefined;
    if (!user || user.disabled) throw new AppError('unauthenticated', 'log in first, or open your invite link', { reason: 'login-first' });
    if (!bearer && req.method !== 'GET' && req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host)) {
      throw new AppError('forbidden', 'cross-site request refused', { reason: 'cross-site' });
    }
    const room = await guard(() => r.registry.forMember(roomId, user.id));
    return { room, me: await guard(() => r.registry.own(room, participant, user.id)) };
  };

  /** auditParticipant records a participant's own step: an account by her username, a guest as guest:<name>. */
  const auditParticipant = (p: Participant, room: Room, req: FastifyRequest, e: { action: string; camera?: string; detail: Record<string, unknown> }) => {
    deps.audit.record({ userId: p.userId || null, username: p.userId ? deps.catalog.user(p.userId)?.username ?? '' : `guest:${p.name}`, unit: room.unit, ...e, remote: req.ip });
  };
  const actorOf = (req: FastifyRequest) => {
    const { user } = requireAuth(req);
    return { userId: user.id, username: user.username, unit: user.unit, remote: req.ip };
  };
  const admitted = (p: Participant) => {
    if (!p.admitted) throw new AppError('forbidden', 'you are in the waiting room: the host lets you in', { reason: 'room-waiting' });
  };
  /** hostRoom returns a room the caller hosts. */
  const hostRoom = async (req: FastifyRequest) => {
    const { user } = requireAuth(req);
    const room = await guard(() => need().registry.forMember((req.params as { id: string }).id, user.id));
    await guard(() => need().registry.hostOf(room, user.id));
    return room;
  };

  app.addContentTypeParser('application/sdp', { parseAs: 'string', bodyLimit: MAX_OFFER_BYTES }, (_req, b, done) => done(null, b));

  app.post('/api/rooms', { schema: { tags: ['rooms'], body: RoomCreate, response: { 201: RoomBody } } }, async (req, reply) => {
    const { user, subject } = requireAuth(req);
    const r = need();
    if (!subject.roles.some((x) => x === 'mediator' || x === 'admin' || x === 'operator')) throw new AppError('forbidden', 'only mediators, operators and administrators open rooms', { reason: 'role' });
    const b = req.body as { kind: RoomKind; title: string; members: Array<{ username: string; role: ParticipantRole }> };
    if (b.members.length + ((req.body as { units?: string[] }).units?.length ?? 0) === 0 && b.kind === 'conference') throw new AppError('bad-request', 'a conference convenes accounts or units', { reason: 'room-no-members' });
    const members = b.members.map((m) => {
      const found = deps.catalog.userWithHash(m.username)?.user;
      // Accounts of her own part of the tree only; another answers as if it did not exist.
      if (!found || found.disabled || !deps.access.tree.contains(user.unit, found.unit)) throw new AppError('not-found', `no account ${m.username} in your part of the tree`, { reason: 'account-unknown' });
      return { userId: found.id, role: m.role };
    });
    const units = (req.body as { units?: string[] }).units ?? [];
    for (const u of units) {
      if (!deps.access.canSeeUnit(subject, u)) throw new AppError('not-found', `no unit ${u} in your part of the tree`, { reason: 'unit-unknown', unit: u });
      for (const a of deps.accounts.usersIn([u])) if (!a.disabled && a.unit === u && a.id !== user.id && !members.some((m) => m.userId === a.id)) members.push({ userId: a.id, role: 'party' });
    }
    const room = await guard(() => r.registry.create({ kind: b.kind, title: b.title, unit: user.unit, host: user.id, members, waiting: (req.body as { waiting?: boolean }).waiting ?? false, invitedUnits: units }));
    remember(room);
    if (room.kind === 'mediation') {
      // A mediation opens its case: numbered by unit and year, the host its mediator.
      const cb = req.body as { disputeType?: DisputeType; parties?: string[] };
      const made = r.store.addCase({
        caseNo: r.store.nextCaseNo(room.unit, new Date(room.createdAt).getFullYear()), room: room.id, unit: room.unit, title: room.title, disputeType: cb.disputeType ?? 'other',
        mediator: user.id, mediatorName: user.displayName || user.username, parties: cb.parties ?? members.filter((m) => m.role === 'party').map((m) => { const a = deps.catalog.user(m.userId); return a?.displayName || a?.username || ''; }).filter(Boolean), startedAt: room.createdAt, endedAt: null, outcome: null, minutes: '', agreement: '', confirmations: [], updatedAt: room.createdAt,
      });
      auditBy(deps, req, 'case.create', { detail: { case: made.caseNo, room: room.id } });
    }
    auditBy(deps, req, 'room.create', { detail: { room: room.id, kind: room.kind, title: room.title, members: members.length } });
    return reply.status(201).send(body(room));
  });

  app.get('/api/rooms', { schema: { tags: ['rooms'], response: { 200: Type.Object({ rooms: Type.Array(RoomBody) }) } } }, async (req) => {
    const { user } = requireAuth(req);
    return { rooms: rooms ? rooms.registry.list(user.id).map(body) : [] };
  });

  app.get('/api/rooms/:id', { schema: { tags: ['rooms'], params: Type.Object({ id: Id }), response: { 200: RoomBody } } }, async (req) => {
    const { user } = requireAuth(req);
    return guard(() => body(need().registry.forMember((req.params as { id: string }).id, user.id)));
  });

  app.post('/api/rooms/:id/join', { schema: { tags: ['rooms'], params: Type.Object({ id: Id }), response: { 200: Type.Object({ participant: Type.String(), role: Type.String() }) } } }, async (req) => {
    const { user } = requireAuth(req);
    const r = need();
    const { room, participant, replaced } = await guard(() => r.registry.join((req.params as { id: string }).id, { id: user.id, name: user.displayName || user.username, unit: user.unit }));
    if (replaced) r.media.removeParticipant(room.id, replaced);
    remember(room);
    auditBy(deps, req, 'room.join', { detail: { room: room.id, role: participant.role } });
    return { participant: participant.id, role: participant.role };
  });

  const pParams = Type.Object({ id: Id, participant: Id });
  app.post('/api/rooms/:id/participants/:participant/send', { config: { public: true }, schema: { tags: ['rooms'], params: pParams } }, async (req, reply) => {
    const r = need();
    const { id, participant } = req.params as { id: string; participant: string };
    const { room, me: p } = await me(req, id, participant);
    admitted(p);
    if (p.role === 'observer') throw new AppError('forbidden', 'observers watch and listen: they send nothing', { reason: 'room-observer' });
    const made = await guard(() => r.media.publish(room.id, p.id, sdpBody(req)));
    if (p.muted || (room.broadcast && p.role !== 'host')) await r.media.setAudio(room.id, p.id, false);
    return reply.code(201).header('location', `/api/rooms/${room.id}/participants/${p.id}/sessions/${made.id}`).header('cache-control', 'no-store').type('application/sdp').send(made.answer);
  });

  // A shared screen (a document, a map): one at a time in a room, by a participant who sends.
  app.post('/api/rooms/:id/participants/:participant/share', { config: { public: true }, schema: { tags: ['rooms'], params: pParams } }, async (req, reply) => {
    const r = need();
    const { id, participant } = req.params as { id: string; participant: string };
    const { room, me: p } = await me(req, id, participant);
    admitted(p);
    if (p.role === 'observer') throw new AppError('forbidden', 'observers watch and listen: they send nothing', { reason: 'room-observer' });
    const other = r.media.publishing(room.id, 'screen').find((x) => x.participant !== p.id);
    if (other) throw new AppError('conflict', `${room.participants.get(other.participant)?.name ?? ''} is sharing a screen: one at a time`, { reason: 'room-share-busy' });
    const made = await guard(() => r.media.publish(room.id, p.id, sdpBody(req), 'screen'));
    auditParticipant(p, room, req, { action: 'room.share', detail: { room: room.id, participant: p.name } });
    return reply.code(201).header('location', `/api/rooms/${room.id}/participants/${p.id}/sessions/${made.id}`).header('cache-control', 'no-store').type('application/sdp').send(made.answer);
  });

  app.post('/api/rooms/:id/participants/:participant/receive/:from', {
    config: { public: true }, schema: { tags: ['rooms'], params: Type.Object({ id: Id, participant: Id, from: Id }), querystring: Type.Object({ source: Type.Optional(Type.Union([Type.Literal('camera'), Type.Literal('screen')])), quality: Type.Optional(Type.Union([Type.Literal('low'), Type.Literal('mid'), Type.Literal('high')])) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const r = need();
    const { id, participant, from } = req.params as { id: string; participant: string; from: string };
    const { room, me: p } = await me(req, id, participant);
    admitted(p);
    if (!room.participants.has(from)) throw new AppError('not-found', 'no such participant in the room', { reason: 'room-participant-unknown' });
    const q = req.query as { source?: 'camera' | 'screen'; quality?: 'low' | 'mid' | 'high' };
    // Unsaid, a camera comes at 360p once the grid holds more than four pictures (the tiles are small), else at 720p.
    const quality = q.quality ?? ([...room.participants.values()].filter((x) => x.admitted).length > 4 ? 'mid' : 'high');
    const made = await guard(() => r.media.subscribe(room.id, p.id, from, sdpBody(req), q.source ?? 'camera', q.source === 'screen' ? 'high' : quality));
    return reply.code(201).header('location', `/api/rooms/${room.id}/participants/${p.id}/sessions/${made.id}`).header('cache-control', 'no-store').type('application/sdp').send(made.answer);
  });

  app.post('/api/rooms/:id/participants/:participant/leave', { config: { public: true }, schema: { tags: ['rooms'], params: pParams } }, async (req, reply) => {
    const r = need();
    const { id, participant } = req.params as { id: string; participant: string };
    const { room, me: p } = await me(req, id, participant);
    await guard(() => r.registry.leave(room, p.id));
    r.media.removeParticipant(room.id, p.id);
    auditParticipant(p, room, req, { action: 'room.leave', detail: { room: room.id, participant: p.name } });
    return reply.code(204).send();
  });

  app.get('/api/rooms/:id/participants/:participant/room', { config: { public: true }, schema: { tags: ['rooms'], params: pParams, response: { 200: RoomBody } } }, async (req) => {
    const { id, participant } = req.params as { id: string; participant: string };
    const { room, me: p } = await me(req, id, participant);
    // What she receives now, as the gateway sees it: a view it ended (a worker died) is offered again by her page.
    return { ...body(room), receiving: need().media.receiving(room.id, p.id) };
  });

  app.delete('/api/rooms/:id/participants/:participant/sessions/:session', {
    config: { public: true }, schema: { tags: ['rooms'], params: Type.Object({ id: Id, participant: Id, session: Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }) },
  }, async (req, reply) => {
    const r = need();
    const { id, participant, session } = req.params as { id: string; participant: string; session: string };
    const { room, me: p } = await me(req, id, participant);
    const s = r.media.session(session);
    if (!s || s.room !== room.id || s.participant !== p.id) throw new AppError('not-found', 'no such session of yours', { reason: 'room-session-unknown' }, { refusal: false });
    r.media.leave(session);
    return reply.code(204).send();
  });

  // Surveillance cameras brought into the room: by an account that may view the camera, seen by every participant
  // through the media core's one pull of it (a WHEP or HLS URL signed for the participant), while that right holds.
  app.post('/api/rooms/:id/participants/:participant/cameras', {
    config: { public: true }, schema: { tags: ['rooms'], params: pParams, body: Type.Object({ camera: CameraId }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const r = need();
    const { id, participant } = req.params as { id: string; participant: string };
    const { room, me: p } = await me(req, id, participant);
    const { camera } = req.body as { camera: string };
    const user = p.userId ? deps.catalog.user(p.userId) : undefined;
    const d = user ? deps.access.decide(subjectOf(user), 'live', camera) : undefined;
    if (user && d && !d.allow) {
      if (d.reason === 'role' || d.reason === 'not-granted') throw new AppError('forbidden', 'you may not view this camera', { reason: d.reason, action: 'live' });
      throw new AppError('not-found', `no camera ${camera} among yours`, { reason: 'camera-unknown', camera });
    }
    const added = await guard(() => r.registry.bring(room, camera, p));
    if (added) deps.audit.record({ userId: user?.id ?? null, username: user?.username ?? '', unit: user?.unit ?? room.unit, action: 'room.camera', camera, detail: { room: room.id, added: true }, remote: req.ip });
    return reply.code(204).send();
  });

  app.delete('/api/rooms/:id/participants/:participant/cameras/:camera', { config: { public: true }, schema: { tags: ['rooms'], params: Type.Object({ id: Id, participant: Id, camera: CameraId }) } }, async (req, reply) => {
    const { id, participant, camera } = req.params as { id: string; participant: string; camera: string };
    const { room, me: p } = await me(req, id, participant);
    const c = room.cameras.get(camera);
    if (!c) throw new AppError('not-found', 'that camera is not in the room', { reason: 'room-camera-gone' }, { refusal: false });
    if (c.participant !== p.id && room.host !== p.userId) throw new AppError('forbidden', 'only the host or who brought it takes a camera out', { reason: 'room-host-only' });
    room.cameras.delete(camera);
    auditParticipant(p, room, req, { action: 'room.camera', camera, detail: { room: room.id, removed: true } });
    return reply.code(204).send();
  });

  app.get('/api/rooms/:id/participants/:participant/cameras/:camera/media', {
    config: { public: true },
    schema: {
      tags: ['rooms'], params: Type.Object({ id: Id, participant: Id, camera: CameraId }), querystring: Type.Object({ profile: Type.Optional(ProfileName) }),
      response: { 200: Type.Object({ token: Type.String(), tokenExpires: Type.Number(), playlistUrl: Type.String(), whepUrl: Type.Optional(Type.String()) }) },
    },
  }, async (req, reply) => {
    const { id, participant, camera } = req.params as { id: string; participant: string; camera: string };
    const profile = ((req.query as { profile?: Profile }).profile ?? 'sub') as Profile;
    const { room, me: p } = await me(req, id, participant);
    if (!room.cameras.has(camera)) throw new AppError('forbidden', 'that camera is not in the room', { reason: 'room-camera-gone' });
    const { token, expires } = deps.tokens.sign({ userId: 0, session: `room:${room.id}:${p.id}`, camera, profile, action: 'live' });
    reply.header('cache-control', 'no-store');
    return { token, tokenExpires: expires, playlistUrl: playlistUrl(camera, profile, token), ...(deps.webrtc ? { whepUrl: whepUrl(camera, profile, token) } : {}) };
  });

  // The right behind each camera brought in is asked again every second: withdrawn, the camera leaves the room
  // (and the media guard ends every participant's view of it).
  const review = setInterval(() => {
    if (!rooms) return;
    for (const room of rooms.registry.open()) {
      for (const [camera, c] of room.cameras) {
        const by = deps.catalog.user(c.by);
        if (by && !by.disabled && deps.access.may(subjectOf(by), 'live', camera)) continue;
        room.cameras.delete(camera);
        deps.audit.record({ userId: null, username: '', unit: room.unit, action: 'room.camera', camera, detail: { room: room.id, removed: true, reason: 'revoked' } });
      }
    }
  }, REVIEW_MS);
  review.unref();
  app.addHook('preClose', async () => clearInterval(review));

  // The host's controls: admit from the waiting room, lock, hand over, broadcast; everyone's raised hand; roll call.
  app.post('/api/rooms/:id/participants/:participant/admit', { schema: { tags: ['rooms'], params: pParams } }, async (req, reply) => {
    const room = await hostRoom(req);
    const p = await guard(() => need().registry.admit(room, (req.params as { participant: string }).participant));
    auditBy(deps, req, 'room.admit', { detail: { room: room.id, participant: p.name } });
    return reply.code(204).send();
  });
  app.post('/api/rooms/:id/lock', { schema: { tags: ['rooms'], params: Type.Object({ id: Id }), body: Type.Object({ locked: Type.Boolean() }, { additionalProperties: false }) } }, async (req, reply) => {
    const room = await hostRoom(req);
    room.locked = (req.body as { locked: boolean }).locked;
    auditBy(deps, req, 'room.lock', { detail: { room: room.id, locked: room.locked } });
    return reply.code(204).send();
  });
  app.post('/api/rooms/:id/host', { schema: { tags: ['rooms'], params: Type.Object({ id: Id }), body: Type.Object({ participant: Id }, { additionalProperties: false }) } }, async (req, reply) => {
    const room = await hostRoom(req);
    const p = await guard(() => need().registry.handOver(room, (req.body as { participant: string }).participant));
    remember(room);
    auditBy(deps, req, 'room.host', { detail: { room: room.id, participant: p.name } });
    return reply.code(204).send();
  });
  app.post('/api/rooms/:id/broadcast', { schema: { tags: ['rooms'], params: Type.Object({ id: Id }), body: Type.Object({ on: Type.Boolean() }, { additionalProperties: false }) } }, async (req, reply) => {
    const room = await hostRoom(req);
    room.broadcast = (req.body as { on: boolean }).on;
    // Only the host is heard while it is on; off, everyone the host has not muted is heard again.
    for (const p of room.participants.values()) if (p.role !== 'host') await need().media.setAudio(room.id, p.id, !room.broadcast && !p.muted);
    auditBy(deps, req, 'room.broadcast', { detail: { room: room.id, on: room.broadcast } });
    return reply.code(204).send();
  });
  app.post('/api/rooms/:id/participants/:participant/hand', {
    config: { public: true }, schema: { tags: ['rooms'], params: pParams, body: Type.Object({ raised: Type.Boolean() }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const { id, participant } = req.params as { id: string; participant: string };
    const { me: p } = await me(req, id, participant);
    p.hand = (req.body as { raised: boolean }).raised ? Date.now() : null;
    return reply.code(204).send();
  });
  app.get('/api/rooms/:id/rollcall', {
    schema: { tags: ['rooms'], params: Type.Object({ id: Id }), response: { 200: Type.Object({ units: Type.Array(Type.Object({ unit: Type.String(), unitName: Type.String(), present: Type.Array(Type.String()), absent: Type.Array(Type.String()) })) }) } },
  }, async (req) => {
    const room = await hostRoom(req);
    const list = need().registry.rollCall(room, (u) => deps.accounts.usersIn([u]).filter((a) => a.unit === u).map((a) => ({ id: a.id, name: a.displayName || a.username })));
    return { units: list.map((x) => ({ ...x, unitName: deps.catalog.unitName(x.unit) ?? x.unit })) };
  });

  // Invite links: the host makes one for a party without an account (shown once, single use, expiring).
  app.post('/api/rooms/:id/invites', {
    schema: {
      tags: ['rooms'], params: Type.Object({ id: Id }),
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 60 }), role: Type.Union([Type.Literal('party'), Type.Literal('observer')]), minutes: Type.Integer({ minimum: 1, maximum: 1440 }) }, { additionalProperties: false }),
      response: { 201: Type.Object({ token: Type.String(), url: Type.String(), expiresAt: Type.Number() }) },
    },
  }, async (req, reply) => {
    const { user } = requireAuth(req);
    const r = need();
    const room = await guard(() => r.registry.forMember((req.params as { id: string }).id, user.id));
    await guard(() => r.registry.hostOf(room, user.id));
    const b = req.body as { name: string; role: 'party' | 'observer'; minutes: number };
    const made = await guard(() => r.registry.invite(room, { name: b.name, role: b.role, ttlMs: b.minutes * 60_000 }));
    auditBy(deps, req, 'room.invite', { detail: { room: room.id, name: b.name, role: b.role, expiresAt: made.expiresAt } });
    // The token rides in the fragment: browsers never send it in a request line.
    return reply.status(201).header('cache-control', 'no-store').send({ token: made.token, url: `/room/${room.id}#invite=${made.token}`, expiresAt: made.expiresAt });
  });

  app.post('/api/rooms/:id/guests', {
    config: { public: true },
    schema: {
      tags: ['rooms'], params: Type.Object({ id: Id }), body: Type.Object({ token: Type.String({ minLength: 10, maxLength: 100, pattern: '^segi_[A-Za-z0-9_-]+$' }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ participant: Type.String(), role: Type.String(), name: Type.String(), secret: Type.String() }) },
    },
  }, async (req, reply) => {
    const r = need();
    let made;
    try {
      made = await guard(() => r.registry.redeem((req.params as { id: string }).id, (req.body as { token: string }).token));
    } catch (err) {
      // A refused link is audited as any refusal (by the error handler), with its address.
      throw err instanceof AppError ? new AppError(err.code, err.message, err.details, { refusal: true }) : err;
    }
    const c = made.room.kind === 'mediation' && made.participant.role === 'party' ? r.store.caseOfRoom(made.room.id) : undefined;
    if (c && !c.parties.includes(made.participant.name)) r.store.updateCase(c.id, { parties: [...c.parties, made.participant.name] });
    deps.audit.record({ userId: null, username: `guest:${made.participant.name}`, unit: made.room.unit, action: 'room.join', detail: { room: made.room.id, role: made.participant.role, guest: true }, remote: req.ip });
    reply.header('cache-control', 'no-store');
    return { participant: made.participant.id, role: made.participant.role, name: made.participant.name, secret: made.secret };
  });

  app.post('/api/rooms/:id/participants/:participant/mute', {
    schema: { tags: ['rooms'], params: pParams, body: Type.Object({ muted: Type.Boolean() }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const { user } = requireAuth(req);
    const r = need();
    const { id, participant } = req.params as { id: string; participant: string };
    const room = await guard(() => r.registry.forMember(id, user.id));
    await guard(() => r.registry.hostOf(room, user.id));
    const p = room.participants.get(participant);
    if (!p) throw new AppError('not-found', 'no such participant in the room', { reason: 'room-participant-unknown' });
    p.muted = (req.body as { muted: boolean }).muted;
    await r.media.setAudio(room.id, p.id, !p.muted);
    auditBy(deps, req, 'room.mute', { detail: { room: room.id, participant: p.name, muted: p.muted } });
    return reply.code(204).send();
  });

  app.delete('/api/rooms/:id/participants/:participant', { schema: { tags: ['rooms'], params: pParams } }, async (req, reply) => {
    const { user } = requireAuth(req);
    const r = need();
    const { id, participant } = req.params as { id: string; participant: string };
    const room = await guard(() => r.registry.forMember(id, user.id));
    await guard(() => r.registry.hostOf(room, user.id));
    const p = await guard(() => r.registry.remove(room, participant));
    r.media.removeParticipant(room.id, p.id);
    auditBy(deps, req, 'room.remove', { detail: { room: room.id, participant: p.name } });
    return reply.code(204).send();
  });

  // Recording: the host starts and stops it; every participant's page shows the notice while it runs.
  app.post('/api/rooms/:id/recording', {
    schema: { tags: ['rooms'], params: Type.Object({ id: Id }), body: Type.Object({ on: Type.Boolean() }, { additionalProperties: false }), response: { 200: Type.Object({ id: Type.String(), state: Type.String() }) } },
  }, async (req) => {
    const room = await hostRoom(req);
    const r = need();
    if ((req.body as { on: boolean }).on) {
      const made = await guard(() => r.recordings.start(room, actorOf(req)));
      return { id: made.id, state: 'recording' };
    }
    const rec = await guard(() => r.recordings.stop(room, actorOf(req)));
    return { id: rec.id, state: rec.state };
  });

  // A party confirms the agreement as it stands (bound to its text by SHA-256): a changed text needs confirming again.
  app.post('/api/rooms/:id/participants/:participant/confirm', {
    config: { public: true }, schema: { tags: ['rooms'], params: pParams, body: Type.Object({ agreementSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const { id, participant } = req.params as { id: string; participant: string };
    const { room, me: p } = await me(req, id, participant);
    admitted(p);
    if (p.role !== 'party') throw new AppError('forbidden', 'the parties confirm the agreement', { reason: 'case-party-only' });
    const r = need();
    const c = room.kind === 'mediation' ? r.store.caseOfRoom(room.id) : undefined;
    if (!c || c.agreement.trim() === '') throw new AppError('conflict', 'there is no agreement text to confirm yet', { reason: 'case-no-agreement' });
    const sha = agreementHash(c.agreement);
    if ((req.body as { agreementSha256: string }).agreementSha256 !== sha) throw new AppError('conflict', 'the agreement was changed since you read it: read it again', { reason: 'case-agreement-changed' });
    const confirmations = [...c.confirmations.filter((x) => x.participant !== p.id), { party: p.name, participant: p.id, userId: p.userId || null, at: Date.now(), agreementSha256: sha }];
    r.store.updateCase(c.id, { confirmations });
    auditParticipant(p, room, req, { action: 'case.confirm', detail: { case: c.caseNo, room: room.id, party: p.name, agreementSha256: sha } });
    return reply.code(204).send();
  });

  app.post('/api/rooms/:id/end', { schema: { tags: ['rooms'], params: Type.Object({ id: Id }) } }, async (req, reply) => {
    const { user } = requireAuth(req);
    const r = need();
    const room = await guard(() => r.registry.forMember((req.params as { id: string }).id, user.id));
    await guard(() => r.registry.hostOf(room, user.id));
    // A recording running stops with the room (and is composed); the case keeps when the session ended.
    if (r.recordings.active(room.id)) await guard(() => r.recordings.stop(room, actorOf(req)));
    r.registry.end(room);
    r.media.closeRoom(room.id);
    remember(room);
    const c = room.kind === 'mediation' ? r.store.caseOfRoom(room.id) : undefined;
    if (c && c.endedAt === null) r.store.updateCase(c.id, { endedAt: room.endedAt });
    auditBy(deps, req, 'room.end', { detail: { room: room.id } });
    return reply.code(204).send();
  });

  // Her page follows the room over a WebSocket: her state sent as it changes (room-socket.ts).
  if (rooms) roomSockets(app, deps, { registry: rooms.registry, bodyOf: body, receivingOf: (room, p) => rooms.media.receiving(room.id, p.id) });
}
