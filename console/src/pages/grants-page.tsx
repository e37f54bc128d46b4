// Push-down grants for administrators: pick cameras (from the tree, a search, or a group), push them to a unit below with actions and
// an expiry, see what each unit holds and from whom, revoke; pass on what the own unit received when allowed.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type GrantT, type GroupT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import '../components/health/health.css';

const ACTION_LABEL: Record<string, string> = { live: '实时', playback: '回放', ptz: '云台', wall: '上墙' };
const STATE_LABEL: Record<string, string> = { active: '有效', expired: '已过期', revoked: '已撤销' };

/** GrantsPage is the grants page of an administrator. */
export function GrantsPage() {
  const state = useAppState();
  const me = state.user.value!;
  const [grants, setGrants] = useState<GrantT[]>([]);
  const [groups, setGroups] = useState<GroupT[]>([]);
  const [showEnded, setShowEnded] = useState(false);
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Array<{ id: string; name: string }>>([]);
  const picked = state.picked.value;
  const setPicked = (v: Array<{ id: string; name: string }>) => { state.picked.value = v; };
  const [groupName, setGroupName] = useState('');
  const [group, setGroup] = useState<number | null>(null);
  const [parent, setParent] = useState<GrantT | null>(null);
  const [toUnit, setToUnit] = useState('');
  const [units, setUnits] = useState<Array<{ code: string; name: string; level: string }>>([]);
  const [actions, setActions] = useState<string[]>(['live']);
  const [expires, setExpires] = useState('');
  const [reGrant, setReGrant] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = () => {
    api.grants(showEnded).then((r) => setGrants(r.grants), (err: unknown) => { state.sessionEnded(err); setError(err instanceof ApiError ? err.message : String(err)); });
    api.groups().then((r) => setGroups(r.groups), () => undefined);
  };
  useEffect(load, [showEnded]);

  const search = (text: string) => {
    setQ(text);
    if (!text.trim()) return setFound([]);
    api.search(text.trim(), 50).then((r) => {
      setFound(r.cameras.map((c) => ({ id: c.id, name: c.name })));
      setUnits(r.units.filter((u) => u.code !== me.unit).map((u) => ({ code: u.code, name: u.name, level: u.level })));
    }, () => undefined);
  };
  const findUnits = (text: string) => {
    setToUnit(text);
    if (text.trim()) api.search(text.trim(), 30).then((r) => setUnits(r.units.filter((u) => u.code !== me.unit).map((u) => ({ code: u.code, name: u.name, level: u.level }))), () => undefined);
  };
  const toggle = (c: { id: string; name: string }) => setPicked(picked.some((p) => p.id === c.id) ? picked.filter((p) => p.id !== c.id) : [...picked, c]);

  const push = async () => {
    setError(null);
    setDone(null);
    try {
      const g = await api.createGrant({
        toUnit, actions, reGrant,
        ...(group !== null ? { group } : { cameras: picked.map((p) => p.id) }),
        ...(expires ? { expiresAt: new Date(expires).getTime() } : {}),
        ...(parent ? { parent: parent.id } : {}),
      });
      setDone(`已推送 ${g.cameras.length} 台摄像机到 ${g.toUnitName} (授权 #${g.id})`);
      setPicked([]);
      setGroup(null);
      setParent(null);
      load();
    } catch (err) {
      state.sessionEnded(err);
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const revoke = async (g: GrantT) => {
    try {
      const r = await api.revokeGrant(g.id);
      setDone(`已撤销授权 ${r.revoked.map((x) => `#${x}`).join(', ')}`);
      load();
    } catch (err) {
      state.sessionEnded(err);
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const withdraw = async (g: GrantT, camera: { id: string; name: string }) => {
    try {
      const r = await api.withdrawCamera(g.id, camera.id);
      setDone(`已从授权 #${g.id} 撤回 ${camera.name}${r.ended.length > 0 ? ` (授权 ${r.ended.map((x) => `#${x}`).join(', ')} 已无摄像机, 已结束)` : ''}`);
      load();
    } catch (err) {
      state.sessionEnded(err);
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const passOn = (g: GrantT) => {
    setParent(g);
    setGroup(g.group?.id ?? null);
    setPicked(g.group ? [] : g.cameras);
    setActions(g.actions);
  };

  const received = grants.filter((g) => g.toUnit === me.unit);
  const given = grants.filter((g) => g.toUnit !== me.unit);
  return (
    <section class="health" data-testid="grants-page">
      <h2>权限推送 Push-down grants</h2>
      {error && <p class="health-error" role="alert" data-testid="grants-error">{error}</p>}
      {done && <p class="health-facts" data-testid="grants-done">{done}</p>}

      <h3>1. 选择摄像机 {parent && <span class="health-facts">(转授授权 #{parent.id} <button class="link" onClick={() => { setParent(null); setPicked([]); setGroup(null); }}>取消</button>)</span>}</h3>
      {!parent && (
        <p>
          <input placeholder="搜索摄像机名称或编号" value={q} onInput={(e) => search(e.currentTarget.value)} data-testid="grants-search" />{' '}
          或分组 <select value={group ?? ''} onChange={(e) => { const v = e.currentTarget.value; setGroup(v ? Number(v) : null); }} data-testid="grants-group">
            <option value="">—</option>
            {groups.map((g) => <option key={g.id} value={g.id}>{g.name} ({g.cameras.length})</option>)}
          </select>
        </p>
      )}
      {!parent && found.length > 0 && group === null && (
        <ul class="grants-found" data-testid="grants-found">
          {found.map((c) => (
            <li key={c.id}><label><input type="checkbox" checked={picked.some((p) => p.id === c.id)} onChange={() => toggle(c)} data-testid="grants-pick" data-camera={c.id} /> {c.name} <small class="health-facts">{c.id}</small></label></li>
          ))}
        </ul>
      )}
      {!parent && <p class="health-facts">也可在左侧目录树中点击摄像机加入所选.</p>}
      {picked.length > 0 && (
        <p class="health-facts" data-testid="grants-picked">
          已选 {picked.length}: {picked.map((p) => p.name).join('、')} <button class="link" onClick={() => setPicked([])}>清空</button>{' '}
          {!parent && <>
            <input placeholder="存为分组: 名称" value={groupName} onInput={(e) => setGroupName(e.currentTarget.value)} data-testid="grants-group-name" />{' '}
            <button class="link" disabled={!groupName.trim()} data-testid="grants-group-save" onClick={() => {
              api.createGroup({ name: groupName.trim(), ownerUnit: me.unit, cameras: picked.map((p) => p.id) }).then((g) => {
                setDone(`已存为分组 ${g.name}`);
                setGroupName('');
                load();
              }, (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
            }}>保存分组</button>
          </>}
        </p>
      )}

      <h3>2. 推送到</h3>
      <p>
        <label>单位 <input list="grants-units" value={toUnit} placeholder="乡镇或村的编码/名称" onInput={(e) => findUnits(e.currentTarget.value)} data-testid="grants-unit" /></label>
        <datalist id="grants-units">{units.map((u) => <option key={u.code} value={u.code}>{u.name}</option>)}</datalist>{' '}
        {(['live', 'playback', 'ptz', 'wall'] as const).map((a) => (
          <label key={a}><input type="checkbox" checked={actions.includes(a)} disabled={parent !== null && !parent.actions.includes(a)}
            onChange={() => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a])} data-testid={`grants-action-${a}`} /> {ACTION_LABEL[a]} </label>
        ))}
        <label>到期 <input type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} data-testid="grants-expires" /></label>{' '}
        <label><input type="checkbox" checked={reGrant} onChange={() => setReGrant(!reGrant)} data-testid="grants-regrant" /> 允许转授</label>{' '}
        <button class="link" disabled={!toUnit || actions.length === 0 || (picked.length === 0 && group === null)} onClick={() => void push()} data-testid="grants-push">推送</button>
      </p>

      <h3>各单位持有的授权 <label class="health-facts"><input type="checkbox" checked={showEnded} onChange={() => setShowEnded(!showEnded)} /> 含已撤销/过期</label></h3>
      <GrantTable grants={given} onRevoke={(g) => void revoke(g)} onWithdraw={(g, c) => void withdraw(g, c)} testid="grants-given" />
      {received.length > 0 && (
        <>
          <h3>本单位收到的授权</h3>
          <GrantTable grants={received} onPassOn={passOn} testid="grants-received" />
        </>
      )}
    </section>
  );
}

function GrantTable({ grants, onRevoke, onWithdraw, onPassOn, testid }: {
  grants: GrantT[];
  onRevoke?: (g: GrantT) => void;
  onWithdraw?: (g: GrantT, camera: { id: string; name: string }) => void;
  onPassOn?: (g: GrantT) => void;
  testid: string;
}) {
  if (grants.length === 0) return <p class="health-facts">无</p>;
  return (
    <table data-testid={testid}>
      <thead><tr><th>#</th><th>摄像机</th><th>持有单位</th><th>来自</th><th>权限</th><th>到期</th><th>状态</th><th></th></tr></thead>
      <tbody>
        {grants.map((g) => (
          <tr key={g.id} data-testid="grant-row" data-grant={g.id} data-state={g.state}>
            <td>{g.id}{g.parent ? ` ← #${g.parent}` : ''}</td>
            <td>
              {g.group ? `分组 ${g.group.name}: ` : ''}
              {g.cameras.slice(0, 8).map((c) => (
                <span key={c.id} class="grant-camera" data-testid="grant-camera" data-camera={c.id}>
                  {c.name}
                  {onWithdraw && !g.group && g.state === 'active' && <button class="grant-withdraw" title="撤回这台摄像机" onClick={() => onWithdraw(g, c)} data-testid="grant-withdraw">×</button>}
                </span>
              ))}
              {g.cameras.length > 8 ? ` 等 ${g.cameras.length} 台` : ''}
            </td>
            <td>{g.toUnitName}</td>
            <td>{g.grantorName} · {g.grantorUnitName}</td>
            <td>{g.actions.map((a) => ACTION_LABEL[a] ?? a).join(' ')}{g.reGrant ? ' · 可转授' : ''}</td>
            <td>{g.expiresAt ? new Date(g.expiresAt).toLocaleString('zh-CN', { hour12: false }) : '长期'}</td>
            <td>{STATE_LABEL[g.state]}</td>
            <td>
              {onRevoke && g.state === 'active' && <button class="link" onClick={() => onRevoke(g)} data-testid="grant-revoke">撤销</button>}
              {onPassOn && g.state === 'active' && g.reGrant && <button class="link" onClick={() => onPassOn(g)} data-testid="grant-pass-on">转授</button>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
