// Accounts of the administrator's subtree: create, change roles, disable, set a new password, unlock; open sessions.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type AccountT, type SessionT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import '../components/health/health.css';

const ROLE_LABEL: Record<string, string> = { admin: '管理员', operator: '操作员', viewer: '查看', mediator: '调解员' };

/** UsersPage manages accounts and sessions. */
export function UsersPage() {
  const state = useAppState();
  const me = state.user.value!;
  const [users, setUsers] = useState<AccountT[]>([]);
  const [sessions, setSessions] = useState<SessionT[]>([]);
  const [form, setForm] = useState({ username: '', displayName: '', unit: me.unit, roles: ['viewer'], password: '' });
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const fail = (err: unknown) => { state.sessionEnded(err); setError(err instanceof ApiError ? err.message : String(err)); };
  const load = () => {
    api.users().then((r) => setUsers(r.users), fail);
    api.sessions('subtree').then((r) => setSessions(r.sessions), fail);
  };
  useEffect(load, []);
  const act = (p: Promise<unknown>, message: string) => p.then(() => { setError(null); setDone(message); load(); }, fail);

  return (
    <section class="health" data-testid="users-page">
      <h2>用户与会话 Accounts and sessions</h2>
      {error && <p class="health-error" role="alert" data-testid="users-error">{error}</p>}
      {done && <p class="health-facts" data-testid="users-done">{done}</p>}
      <h3>新建用户</h3>
      <p>
        <input placeholder="用户名" value={form.username} onInput={(e) => setForm({ ...form, username: e.currentTarget.value })} data-testid="user-username" />{' '}
        <input placeholder="姓名" value={form.displayName} onInput={(e) => setForm({ ...form, displayName: e.currentTarget.value })} data-testid="user-name" />{' '}
        <input placeholder="单位编码" value={form.unit} onInput={(e) => setForm({ ...form, unit: e.currentTarget.value })} data-testid="user-unit" />{' '}
        {Object.entries(ROLE_LABEL).map(([r, label]) => (
          <label key={r}><input type="checkbox" checked={form.roles.includes(r)} onChange={() => setForm({ ...form, roles: form.roles.includes(r) ? form.roles.filter((x) => x !== r) : [...form.roles, r] })} /> {label} </label>
        ))}
        <input type="password" placeholder="初始密码 (≥10 位, 三类字符)" value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} data-testid="user-password" />{' '}
        <button class="link" onClick={() => void act(api.createUser(form), `已创建 ${form.username}`)} data-testid="user-create">创建</button>
      </p>
      <table data-testid="users-table">
        <thead><tr><th>用户名</th><th>姓名</th><th>单位</th><th>角色</th><th>状态</th><th></th></tr></thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-testid="user-row" data-username={u.username}>
              <td>{u.username}</td><td>{u.displayName}</td><td>{u.unitName}</td>
              <td>{u.roles.map((r) => ROLE_LABEL[r] ?? r).join('、')}</td>
              <td>{u.disabled ? '已停用' : '正常'}</td>
              <td>{u.manageable && <>
                {u.id !== me.id && <button class="link" onClick={() => void act(api.changeUser(u.id, { disabled: !u.disabled }), `${u.username} 已${u.disabled ? '启用' : '停用'}`)} data-testid="user-toggle">{u.disabled ? '启用' : '停用'}</button>}{' '}
                <button class="link" onClick={() => void act(api.changeUser(u.id, { unlock: true }), `${u.username} 已解锁`)}>解锁</button>{' '}
                <button class="link" onClick={() => {
                  const password = window.prompt(`${u.username} 的新密码 (≥10 位, 三类字符)`);
                  if (password) void act(api.changeUser(u.id, { password }), `${u.username} 的密码已更改, 其会话已结束`);
                }}>重设密码</button>
              </>}{!u.manageable && u.id !== me.id && <span title="同级管理员由上级管理">由上级管理</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>在线会话 ({sessions.length})</h3>
      <table data-testid="sessions-table">
        <thead><tr><th>用户</th><th>登录于</th><th>最近活动</th><th>地址</th><th>浏览器</th><th></th></tr></thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id} data-testid="session-row" data-username={s.username}>
              <td>{s.username}{s.current ? ' (本会话)' : ''}</td>
              <td>{new Date(s.createdAt).toLocaleString('zh-CN', { hour12: false })}</td>
              <td>{new Date(s.lastSeenAt).toLocaleString('zh-CN', { hour12: false })}</td>
              <td>{s.remote ?? ''}</td><td>{(s.userAgent ?? '').slice(0, 40)}</td>
              <td>{!s.current && <button class="link" onClick={() => void act(api.endSession(s.id), `已结束 ${s.username} 的会话`)} data-testid="session-end">结束</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
