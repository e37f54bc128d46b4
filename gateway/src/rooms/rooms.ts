// Mediation and conference rooms: a room with a host and its invited accounts (and guests by invite link), who join
// as participants and send and receive through the room's media (media/webrtc/room-media.ts). The open rooms are
// held in memory; their records, recordings and cases in the store (room-store.ts).
import { createHash, randomBytes } from 'node:crypto';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
/** INVITE_PREFIX and GUEST_PREFIX mark an invite link's token and a guest participant's own secret. */
export const INVITE_PREFIX = 'segi_';
export const GUEST_PREFIX = 'segg_';
/** MAX_INVITE_MS is the longest an invite link lives (a day). */
export const MAX_INVITE_MS = 24 * 3600_000;

/** RoomKind is what a room is for. */
export type RoomKind = 'mediation' | 'conference' | 'training';
export const ROOM_KINDS: readonly RoomKind[] = ['mediation', 'conference', 'training'];

/** ParticipantRole is what a participant may do: the host leads, a party speaks, an observer only watches and listens. */
export type ParticipantRole = 'host' | 'party' | 'observer';

/** Participant is one person in a room. */
export interface Participant {
  id: string;
  /** userId is the account, or 0 for a guest who joined by an invite link. */
  userId: number;
  /** secretHash is a guest's secret (what she sends instead of a login), hashed. */
  secretHash?: string;
  name: string;
  unit: string;
  role: ParticipantRole;
  joinedAt: number;
  /** muted is set by the host: her microphone is not heard. */
  muted: boolean;
  /** admitted is false while she waits in the waiting room. */
  admitted: boolean;
  /** hand is when she raised her hand, or null. */
  hand: number | null;
}

/** Invite is an invite link for someone without an account (a party in another province). */
export interface Invite {
  name: string;
  role: 'party' | 'observer';
  expiresAt: number;
  /** usedBy is the participant the link made (it is spent), or null. */
  usedBy: string | null;
}

/** Room is one session. */
export interface Room {
  id: string;
  kind: RoomKind;
  title: string;
  unit: string;
  host: number;
  /** members are the accounts invited, with the role each joins in. */
  members: Map<number, ParticipantRole>;
  participants: Map<string, Participant>;
  /** removed are accounts the host removed: they cannot join again. */
  removed: Set<number>;
  /** invites are the invite links, by the hash of their token: single use, expiring. */
  invites: Map<string, Invite>;
  /** cameras are the surveillance cameras brought in, each by an account that may view it (while she may). */
  cameras: Map<string, { by: number; participant: string; at: number }>;
  /** locked rooms take no one new; waiting rooms hold newcomers until the host admits them. */
  locked: boolean;
  waiting: boolean;
  /** broadcast: only the host is heard (a conference's address, a training). */
  broadcast: boolean;
  /** invitedUnits are the units a conference convened (for its roll call). */
  invitedUnits: string[];
  createdAt: number;
  endedAt: number | null;
}

/** RoomError is a refusal with a stable reason. */
export class RoomError extends Error {
  override name = 'RoomError';
  readonly kind: 'not-found' | 'forbidden' | 'conflict' | 'bad-request';
  readonly reason: string;
  constructor(kind: RoomError['kind'], reason: string, message: string) {
    super(message);
    this.kind = kind;
    this.reason = reason;
  }
}

/** MAX_ROOMS bounds the rooms open on one node; MAX_PARTICIPANTS those in one room. */
export const MAX_ROOMS = 200;
export const MAX_PARTICIPANTS = 64;

/** Rooms holds the open rooms. */
export class Rooms {
  readonly #rooms = new Map<string, Room>();

  /** create opens a room led by its maker, with invited accounts. */
  create(r: { kind: RoomKind; title: string; unit: string; host: number; members: Array<{ userId: number; role: ParticipantRole }>; waiting?: boolean; invitedUnits?: string[] }, now = Date.now()): Room {
    if ([...this.#rooms.values()].filter((x) => x.endedAt === null).length >= MAX_ROOMS) throw new RoomError('conflict', 'room-capacity', `this node holds ${MAX_ROOMS} open rooms`);
    const room: Room = {
      id: randomBytes(9).toString('base64url'), kind: r.kind, title: r.title, unit: r.unit, host: r.host,
      members: new Map(r.members.filter((m) => m.userId !== r.host).map((m) => [m.userId, m.role])), participants: new Map(), removed: new Set(), invites: new Map(), cameras: new Map(),
      locked: false, waiting: r.waiting ?? false, broadcast: false, invitedUnits: r.invitedUnits ?? [], createdAt: now, endedAt: null,
    };
    room.members.set(r.host, 'host');
    this.#rooms.set(room.id, room);
    return room;
  }

  /** get returns an open room the account belongs to, or throws not-found (as for a room that does not exist). */
  forMember(id: string, userId: number): Room {
    const room = this.#rooms.get(id);
    if (!room || room.endedAt !== null || !room.members.has(userId)) throw new RoomError('not-found', 'room-unknown', 'no such room among yours (or it has ended)');
    return room;
  }

  /** list returns the open rooms an account belongs to. */
  list(userId: number): Room[] {
    return [...this.#rooms.values()].filter((r) => r.endedAt === null && r.members.has(userId));
  }

  /** join makes a participant of an account (one per account: joining again replaces her earlier place). */
  join(id: string, user: { id: number; name: string; unit: string }, now = Date.now()): { room: Room; participant: Participant; replaced?: string } {
    const room = this.forMember(id, user.id);
    if (room.removed.has(user.id)) throw new RoomError('forbidden', 'room-removed', 'the host removed you from this room');
    const before0 = [...room.participants.values()].find((p) => p.userId === user.id);
    if (room.locked && !before0 && user.id !== room.host) throw new RoomError('forbidden', 'room-locked', 'the host has locked the room');
    const before = [...room.participants.values()].find((p) => p.userId === user.id);
    if (!before && room.participants.size >= MAX_PARTICIPANTS) throw new RoomError('conflict', 'room-full', `a room holds ${MAX_PARTICIPANTS} participants`);
    if (before) room.participants.delete(before.id);
    const participant: Participant = {
      id: randomBytes(9).toString('base64url'), userId: user.id, name: user.name, unit: user.unit, role: room.members.get(user.id)!, joinedAt: now,
      muted: before?.muted ?? false, admitted: before?.admitted ?? (!room.waiting || user.id === room.host), hand: null,
    };
    room.participants.set(participant.id, participant);
    return { room, participant, ...(before ? { replaced: before.id } : {}) };
  }

  /** invite makes an invite link's token for a guest (shown once: only its hash is kept). */
  invite(room: Room, i: { name: string; role: 'party' | 'observer'; ttlMs: number }, now = Date.now()): { token: string; expiresAt: number } {
    if (room.invites.size >= MAX_PARTICIPANTS * 2) throw new RoomError('conflict', 'room-full', `a room holds ${MAX_PARTICIPANTS} participants`);
    const token = INVITE_PREFIX + randomBytes(24).toString('base64url');
    const expiresAt = now + Math.min(Math.max(60_000, i.ttlMs), MAX_INVITE_MS);
    room.invites.set(hash(token), { name: i.name, role: i.role, expiresAt, usedBy: null });
    return { token, expiresAt };
  }

  /** redeem spends an invite link: the guest becomes a participant and gets her own secret for the session. */
  redeem(id: string, token: string, now = Date.now()): { room: Room; participant: Participant; secret: string } {
    const room = this.#rooms.get(id);
    const inv = room && room.endedAt === null ? room.invites.get(hash(token)) : undefined;
    if (!room || !inv) throw new RoomError('forbidden', 'room-invite-unknown', 'this invite link is not valid (or the room has ended)');
    if (inv.usedBy !== null) throw new RoomError('forbidden', 'room-invite-used', 'this invite link was used already: ask the host for a new one');
    if (inv.expiresAt <= now) throw new RoomError('forbidden', 'room-invite-expired', 'this invite link has expired: ask the host for a new one');
    if (room.locked) throw new RoomError('forbidden', 'room-locked', 'the host has locked the room');
    if (room.participants.size >= MAX_PARTICIPANTS) throw new RoomError('conflict', 'room-full', `a room holds ${MAX_PARTICIPANTS} participants`);
    const secret = GUEST_PREFIX + randomBytes(24).toString('base64url');
    const participant: Participant = { id: randomBytes(9).toString('base64url'), userId: 0, secretHash: hash(secret), name: inv.name, unit: room.unit, role: inv.role, joinedAt: now, muted: false, admitted: !room.waiting, hand: null };
    inv.usedBy = participant.id;
    room.participants.set(participant.id, participant);
    return { room, participant, secret };
  }

  /** guest finds the participant a guest's secret speaks for, in an open room. */
  guest(id: string, secret: string): { room: Room; participant: Participant } | undefined {
    const room = this.#rooms.get(id);
    if (!room || room.endedAt !== null) return undefined;
    const h = hash(secret);
    const participant = [...room.participants.values()].find((p) => p.secretHash === h);
    return participant ? { room, participant } : undefined;
  }

  /** participant returns a participant of a room that belongs to the account, or throws. */
  own(room: Room, participant: string, userId: number): Participant {
    const p = room.participants.get(participant);
    if (!p || p.userId !== userId) throw new RoomError('forbidden', 'room-not-you', 'that participant is not you');
    return p;
  }

  /** hostOf checks that the account leads the room. */
  hostOf(room: Room, userId: number): void {
    if (room.host !== userId) throw new RoomError('forbidden', 'room-host-only', 'only the host does that');
  }

  /** remove takes a participant out of a room; she cannot join again. */
  remove(room: Room, participant: string): Participant {
    const p = room.participants.get(participant);
    if (!p) throw new RoomError('not-found', 'room-participant-unknown', 'no such participant in the room');
    if (p.userId === room.host) throw new RoomError('conflict', 'room-host-stays', 'the host ends the room instead');
    room.participants.delete(participant);
    room.removed.add(p.userId);
    return p;
  }

  /** leave takes a participant out at her own wish: an account may join again, a guest's spent link stays spent. */
  leave(room: Room, participant: string): Participant {
    const p = room.participants.get(participant);
    if (!p) throw new RoomError('not-found', 'room-participant-unknown', 'no such participant in the room');
    room.participants.delete(participant);
    return p;
  }

  /** admit lets a participant in from the waiting room. */
  admit(room: Room, participant: string): Participant {
    const p = room.participants.get(participant);
    if (!p) throw new RoomError('not-found', 'room-participant-unknown', 'no such participant in the room');
    p.admitted = true;
    return p;
  }

  /** handOver makes another participant with an account the host; the old host stays as a party. */
  handOver(room: Room, participant: string): Participant {
    const p = room.participants.get(participant);
    if (!p || !p.admitted) throw new RoomError('not-found', 'room-participant-unknown', 'no such participant in the room');
    if (p.userId === 0) throw new RoomError('conflict', 'room-host-guest', 'a guest cannot host: hand over to an account');
    const old = [...room.participants.values()].find((x) => x.userId === room.host);
    if (old) old.role = 'party';
    room.members.set(room.host, 'party');
    room.host = p.userId;
    room.members.set(p.userId, 'host');
    p.role = 'host';
    return p;
  }

  /** rollCall lists who of the convened units is present (admitted), by unit: a conference's 点名. */
  rollCall(room: Room, accountsOf: (unit: string) => Array<{ id: number; name: string }>): Array<{ unit: string; present: string[]; absent: string[] }> {
    const here = new Set([...room.participants.values()].filter((p) => p.admitted).map((p) => p.userId));
    return room.invitedUnits.map((unit) => {
      const people = accountsOf(unit).filter((a) => room.members.has(a.id));
      return { unit, present: people.filter((a) => here.has(a.id)).map((a) => a.name), absent: people.filter((a) => !here.has(a.id)).map((a) => a.name) };
    });
  }

  /** MAX_CAMERAS bounds the cameras brought into one room. */
  static readonly MAX_CAMERAS = 8;

  /** bring adds a camera to a room, brought by a participant with an account (her right is checked by the caller). */
  bring(room: Room, camera: string, p: Participant, now = Date.now()): boolean {
    if (p.userId === 0) throw new RoomError('forbidden', 'room-camera-guest', 'a guest cannot bring cameras in');
    if (room.cameras.has(camera)) return false;
    if (room.cameras.size >= Rooms.MAX_CAMERAS) throw new RoomError('conflict', 'room-camera-full', `a room shows at most ${Rooms.MAX_CAMERAS} cameras`);
    room.cameras.set(camera, { by: p.userId, participant: p.id, at: now });
    return true;
  }

  /** open lists the open rooms (the review of brought cameras goes through them). */
  open(): Room[] {
    return [...this.#rooms.values()].filter((r) => r.endedAt === null);
  }

  /** room returns an open room by id, whoever asks (the media guard, which checks the participant itself). */
  openRoom(id: string): Room | undefined {
    const r = this.#rooms.get(id);
    return r && r.endedAt === null ? r : undefined;
  }

  /** end closes a room for everyone. */
  end(room: Room, now = Date.now()): void {
    room.endedAt = now;
    room.participants.clear();
    room.cameras.clear();
  }
}
