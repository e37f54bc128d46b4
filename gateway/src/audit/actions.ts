// Every action the audit trail records: the console offers each in its filter and says each in the user's language.

/** AUDIT_ACTIONS are the actions of audit entries, grouped as the filter lists them. */
export const AUDIT_ACTIONS = [
  'login', 'login.failed', 'login.refused', 'logout', 'session.end', 'refused',
  'view.start', 'view.end', 'snapshot', 'ptz.move', 'ptz.stop', 'ptz.preset.set', 'ptz.preset.goto',
  'grant.create', 'grant.revoke', 'grant.withdraw', 'group.create',
  'account.create', 'account.change', 'account.password',
  'camera.add', 'camera.change', 'camera.move', 'camera.delete', 'catalog.import', 'catalog.export',
  'view.save', 'view.delete', 'event.ack', 'webhook.change',
  'wall.change', 'wall.assign', 'wall.clear', 'wall.swap', 'wall.layout', 'wall.window', 'wall.preset', 'wall.tour',
  'wall.alarm', 'wall.alarm.ack', 'wall.display',
  'room.create', 'room.invite', 'room.join', 'room.mute', 'room.remove', 'room.camera', 'room.admit', 'room.lock', 'room.host', 'room.broadcast', 'room.end', 'room.share', 'room.leave', 'room.record', 'room.recording.file', 'recording.verify', 'case.create', 'case.update', 'case.confirm', 'case.export',
  'audit.flood', 'audit.keyed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
