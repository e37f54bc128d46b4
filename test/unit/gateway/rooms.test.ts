// The rooms' registry: membership, invite links (single use, expiring, bounded in life), guests' own secrets, removal.
import { describe, expect, it } from 'vitest';
import { MAX_INVITE_MS, Rooms, RoomError } from '../../../gateway/src/rooms/rooms.js';

describe('rooms', () => {
  const make = () => {
    const rooms = new Rooms();
    const room = rooms.create({ kind: 'mediation', title: 't', unit: '360100', host: 1, members: [{ userId: 2, role: 'party' }, { userId: 3, role: 'observer' }] }, 0);
    return { rooms, room };
  };

  it('lets members join in their roles, others not; a removed account cannot come back', () => {
    const { rooms, room } = make();
    expect(rooms.join(room.id, { id: 1, name: 'h', unit: 'u' }, 1).participant.role).toBe('host');
    const party = rooms.join(room.id, { id: 2, name: 'p', unit: 'u' }, 1).participant;
    expect(() => rooms.join(room.id, { id: 9, name: 'x', unit: 'u' })).toThrow(/no such room among yours/);
    rooms.remove(room, party.id);
    expect(() => rooms.join(room.id, { id: 2, name: 'p', unit: 'u' })).toThrow(expect.objectContaining({ reason: 'room-removed' }));
    expect(() => rooms.remove(room, [...room.participants.values()][0]!.id)).toThrow(expect.objectContaining({ reason: 'room-host-stays' }));
  });

  it('spends an invite link once, refuses it expired, and bounds its life to a day', () => {
    const { rooms, room } = make();
    const a = rooms.invite(room, { name: '张某', role: 'party', ttlMs: 10 * 60_000 }, 0);
    expect(a.token).toMatch(/^segi_[A-Za-z0-9_-]{32}$/);
    const g = rooms.redeem(room.id, a.token, 1000);
    expect(g.participant).toMatchObject({ userId: 0, name: '张某', role: 'party' });
    expect(rooms.guest(room.id, g.secret)?.participant.id).toBe(g.participant.id);
    expect(rooms.guest(room.id, 'segg_other')).toBeUndefined();
    expect(() => rooms.redeem(room.id, a.token, 2000)).toThrow(expect.objectContaining({ reason: 'room-invite-used' }));
    const b = rooms.invite(room, { name: 'b', role: 'observer', ttlMs: 60_000 }, 0);
    expect(() => rooms.redeem(room.id, b.token, 60_001)).toThrow(expect.objectContaining({ reason: 'room-invite-expired' }));
    expect(rooms.invite(room, { name: 'c', role: 'party', ttlMs: 10 * MAX_INVITE_MS }, 0).expiresAt).toBe(MAX_INVITE_MS);
    expect(() => rooms.redeem('nope', a.token)).toThrow(RoomError);
    // Removed, her secret speaks for nobody.
    rooms.remove(room, g.participant.id);
    expect(rooms.guest(room.id, g.secret)).toBeUndefined();
    // An ended room takes no link.
    const c = rooms.invite(room, { name: 'd', role: 'party', ttlMs: 60_000 }, 0);
    rooms.end(room);
    expect(() => rooms.redeem(room.id, c.token, 1)).toThrow(expect.objectContaining({ reason: 'room-invite-unknown' }));
  });
});
