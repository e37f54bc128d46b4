// Accounts of the administrator's subtree: create, change roles, disable, set a new password, unlock; open sessions.
import { useEffect, useState } from 'preact/hooks';
import { api, type AccountT, type SessionT } from '../api/client.js';
import { dateTime, errorText, t } from '../i18n/i18n.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { useAppState } from '../state/app-state.js';
import '../components/health/health.css';

const ROLES = ['admin', 'operator', 'viewer', 'mediator'] as const;

/** browserName names a browser and its system from a user agent, as a sessions list does (the whole string on hover). */
export function browserName(ua: string): string {
  const browser = /Edg\/(\d+)/.exec(ua) ? `Edge ${/Edg\/(\d+)/.exec(ua)![1]}` : /Firefox\/(\d+)/.exec(ua) ? `Firefox ${/Firefox\/(\d+)/.exec(ua)![1]}`
    : /Chrom(?:e|ium)\/(\d+)/.exec(ua) ? `Chrome ${/Chrom(?:e|ium)\/(\d+)/.exec(ua)![1]}` : /Version\/(\d+).*Safari/.exec(ua) ? `Safari ${/Version\/(\d+)/.exec(ua)![1]}` : '';
  const system = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return [browser, system].filter(Boolean).join(' · ') || (ua ? '—' : '');
}

/** UsersPage manages accounts and sessions. */
export function UsersPage() {
  const state = useAppState();
  const me = state.user.value!;
  const [users, setUsers] = useState<AccountT[]>([]);
  const [sessions, setSessions] = useState<SessionT[]>([]);
  const [form, setForm] = useState({ username: '', displayName: '', unit: me.unit, roles: ['viewer'], password: '' });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [lockedOnly, setLockedOnly] = useState(false);
  const [editing, setEditing] = useState<{ id: number; roles: string[] } | null>(null);

  const fail = (err: unknown) => { state.sessionEnded(err); setError(err); };
  const load = () => {
    api.users().then((r) => setUsers(r.users), fail);
    api.sessions('subtree').then((r) => setSessions(r.sessions), fail);
  };
  useEffect(load, []);
  const act = (p: Promise<unknown>, message: string) => p.then(() => { setError(null); setDone(message); load(); }, fail);

  return (
    <section class="health" data-testid="users-page">
      <h2>{t('users.title')}</h2>
      {error !== null && <p class="health-error" role="alert" data-testid="users-error">{errorText(error)}</p>}
      {done && <p class="health-facts" data-testid="users-done">{done}</p>}
      <h3>{t('users.create')}</h3>
      <p>
        <input placeholder={t('login.username')} value={form.username} onInput={(e) => setForm({ ...form, username: e.currentTarget.value })} data-testid="user-username" />{' '}
        <input placeholder={t('users.displayName')} value={form.displayName} onInput={(e) => setForm({ ...form, displayName: e.currentTarget.value })} data-testid="user-name" />{' '}
        <UnitPicker value={form.unit} onChange={(code) => setForm({ ...form, unit: code })} testid="user-unit" />{' '}
        {ROLES.map((r) => (
          <label key={r}><input type="checkbox" checked={form.roles.includes(r)} onChange={() => setForm({ ...form, roles: form.roles.includes(r) ? form.roles.filter((x) => x !== r) : [...form.roles, r] })} /> {t(`roles.${r}`)} </label>
        ))}
        <input type="password" placeholder={t('users.initialPassword')} value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} data-testid="user-password" />{' '}
        <button class="link" onClick={() => void act(api.createUser(form), t('users.created', { username: form.username }))} data-testid="user-create">{t('users.createButton')}</button>
      </p>
      <p class="health-facts">
        <label><input type="checkbox" checked={lockedOnly} onChange={() => setLockedOnly(!lockedOnly)} data-testid="users-locked-only" /> {t('users.lockedOnly', { n: users.filter((u) => u.lock).length })}</label>
      </p>
      <table data-testid="users-table">
        <thead><tr><th>{t('login.username')}</th><th>{t('users.displayName')}</th><th>{t('users.col.unit')}</th><th>{t('users.col.roles')}</th><th>{t('users.col.state')}</th><th></th></tr></thead>
        <tbody>
          {users.filter((u) => !lockedOnly || u.lock).map((u) => (
            <tr key={u.id} data-testid="user-row" data-username={u.username} data-locked={u.lock ? 'true' : 'false'}>
              <td>{u.username}</td><td>{u.displayName}</td><td>{u.unitName}</td>
              <td>
                {editing?.id === u.id ? (
                  <span data-testid="user-roles-edit">
                    {ROLES.map((r) => (
                      <label key={r}><input type="checkbox" checked={editing.roles.includes(r)} data-testid={`user-role-${r}`}
                        onChange={() => setEditing({ id: u.id, roles: editing.roles.includes(r) ? editing.roles.filter((x) => x !== r) : [...editing.roles, r] })} /> {t(`roles.${r}`)} </label>
                    ))}
                    <button class="link" disabled={editing.roles.length === 0} data-testid="user-roles-save"
                      onClick={() => { void act(api.changeUser(u.id, { roles: editing.roles }), t('users.rolesChanged', { username: u.username })); setEditing(null); }}>{t('common.save')}</button>{' '}
                    <button class="link" onClick={() => setEditing(null)}>{t('common.cancel')}</button>
                  </span>
                ) : u.roles.map((r) => t(`roles.${r}`)).join(t('common.listSep'))}
              </td>
              <td>
                {u.disabled ? t('users.disabled') : t('users.enabled')}
                {u.lock && <span class="rate-warn" data-testid="user-lock"> · {u.lock.addresses > 0 ? t('users.locked', { n: u.lock.addresses, until: dateTime(u.lock.until) }) : ''}{u.lock.slowed ? ` ${t('users.slowed')}` : ''}</span>}
              </td>
              <td>{u.manageable && <>
                {u.id !== me.id && <button class="link" onClick={() => void act(api.changeUser(u.id, { disabled: !u.disabled }), t(u.disabled ? 'users.wasEnabled' : 'users.wasDisabled', { username: u.username }))} data-testid="user-toggle">{u.disabled ? t('users.enable') : t('users.disable')}</button>}{' '}
                {u.id !== me.id && editing?.id !== u.id && <button class="link" onClick={() => setEditing({ id: u.id, roles: [...u.roles] })} data-testid="user-roles">{t('users.editRoles')}</button>}{' '}
                {u.lock && <button class="link" onClick={() => void act(api.changeUser(u.id, { unlock: true }), t('users.unlocked', { username: u.username }))} data-testid="user-unlock">{t('users.unlock')}</button>}{' '}
                <button class="link" onClick={() => {
                  const password = window.prompt(t('users.newPasswordFor', { username: u.username }));
                  if (password) void act(api.changeUser(u.id, { password }), t('users.passwordReset', { username: u.username }));
                }}>{t('users.resetPassword')}</button>
              </>}{!u.manageable && u.id !== me.id && <span title={t('users.peerHint')}>{t('users.fromAbove')}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t('users.sessions', { n: sessions.length })}</h3>
      <table data-testid="sessions-table">
        <thead><tr><th>{t('users.col.user')}</th><th>{t('users.col.loggedIn')}</th><th>{t('users.col.lastSeen')}</th><th>{t('users.col.address')}</th><th>{t('users.col.browser')}</th><th></th></tr></thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id} data-testid="session-row" data-username={s.username}>
              <td>{s.username}{s.current ? ` ${t('users.thisSession')}` : ''}</td>
              <td>{dateTime(s.createdAt)}</td>
              <td>{dateTime(s.lastSeenAt)}</td>
              <td>{s.remote ?? ''}</td><td title={s.userAgent ?? ''}>{browserName(s.userAgent ?? '')}</td>
              <td>{!s.current && <button class="link" onClick={() => void act(api.endSession(s.id), t('users.sessionEnded', { username: s.username }))} data-testid="session-end">{t('users.endSession')}</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
