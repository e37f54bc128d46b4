// The kinds a mediation case is told by, as the gateway names them (rooms/cases.ts, rooms/room-store.ts): the
// console's pickers list these, and say each through case.dispute.* and case.outcomes.*.
export const DISPUTE_TYPES = ['neighbour', 'family', 'land', 'labour', 'property', 'traffic', 'consumer', 'other'] as const;
export const OUTCOMES = ['settled', 'not-settled', 'referred'] as const;
