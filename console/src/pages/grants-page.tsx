// Push-down grants for administrators: pick cameras (from the tree, a search, or a group), push them to a unit below with actions and
// an expiry, see what each unit holds and from whom, revoke; pass on what the own unit received when allowed.
import { useEffect, useState } from 'preact/hooks';
import { api, type AccountT, type GrantT, type GroupT } from '../api/client.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { dateTime, errorText, t } from '../i18n/i18n.js';
import { useAppState } from '../state/app-state.js';
import '../components/health/health.css';

const ACTIONS = ['live', 'playback', 'ptz', 'wall'] as const;
/** ROLE_ACTIONS are the roles each action needs (the gateway's rule, said ahead of a grant that would do nothing). */
const ROLE_ACTIONS: Record<string, string[]> = { live: ['admin', 'operator', 'viewer', 'mediator'], playback: ['admin', 'operator', 'viewer'], ptz: ['admin', 'operator'], wall: ['admin', 'operator'] };

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
  const [accounts, setAccounts] = useState<AccountT[]>([]);
  const [actions, setActions] = useState<string[]>(['live']);
  const [expires, setExpires] = useState('');
  const [reGrant, setReGrant] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = () => {
    api.grants(showEnded).then((r) => setGrants(r.grants), (err: unknown) => { state.sessionEnded(err); setError(err); });
    api.groups().then((r) => setGroups(r.groups), () => undefined);
    api.users().then((r) => setAccounts(r.users), () => undefined);
  };
  useEffect(load, [showEnded]);

  const search = (text: string) => {
    setQ(text);
    if (!text.trim()) return setFound([]);
    api.search(text.trim(), { what: 'cameras', limit: 50 }).then((r) => setFound(r.cameras.map((c) => ({ id: c.id, name: c.name }))), () => undefined);
  };
  // The actions asked for that no account of the chosen unit could use: said before the grant is pushed.
  const toAccounts = accounts.filter((a) => !a.disabled && (a.unit === toUnit));
  const idle = toUnit && accounts.length > 0 ? actions.filter((a) => !toAccounts.some((u) => u.roles.some((r) => ROLE_ACTIONS[a]!.includes(r)))) : [];
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
      setDone(t('grants.pushed', { n: g.cameras.length, unit: g.toUnitName, id: g.id }) + (g.unusable.length > 0 ? ` ${t('grants.unusable', { actions: g.unusable.map((a) => t(`actions.${a}`)).join(t('common.listSep')) })}` : ''));
      setPicked([]);
      setGroup(null);
      setParent(null);
      load();
    } catch (err) {
      state.sessionEnded(err);
      setError(err);
    }
  };
  const revoke = async (g: GrantT) => {
    try {
      const r = await api.revokeGrant(g.id);
      setDone(t('grants.revoked', { ids: r.revoked.map((x) => `#${x}`).join(', ') }));
      load();
    } catch (err) {
      state.sessionEnded(err);
      setError(err);
    }
  };
  const withdraw = async (g: GrantT, camera: { id: string; name: string }) => {
    try {
      const r = await api.withdrawCamera(g.id, camera.id);
      setDone(t('grants.withdrawn', { id: g.id, camera: camera.name }) + (r.ended.length > 0 ? ` ${t('grants.endedEmpty', { ids: r.ended.map((x) => `#${x}`).join(', ') })}` : ''));
      load();
    } catch (err) {
      state.sessionEnded(err);
      setError(err);
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
      <h2>{t('grants.title')}</h2>
      {error !== null && <p class="health-error" role="alert" data-testid="grants-error">{errorText(error)}</p>}
      {done && <p class="health-facts" data-testid="grants-done">{done}</p>}

      <h3>{t('grants.step1')} {parent && <span class="health-facts">({t('grants.passingOn', { id: parent.id })} <button class="link" onClick={() => { setParent(null); setPicked([]); setGroup(null); }}>{t('common.cancel')}</button>)</span>}</h3>
      {!parent && (
        <p>
          <input placeholder={t('grants.searchCameras')} value={q} onInput={(e) => search(e.currentTarget.value)} data-testid="grants-search" />{' '}
          {t('grants.orGroup')} <select value={group ?? ''} onChange={(e) => { const v = e.currentTarget.value; setGroup(v ? Number(v) : null); }} data-testid="grants-group">
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
      {!parent && <p class="health-facts">{t('grants.treeHint')}</p>}
      {picked.length > 0 && (
        <p class="health-facts" data-testid="grants-picked">
          {t('grants.picked', { n: picked.length })}: {picked.map((p) => p.name).join(t('common.listSep'))} <button class="link" onClick={() => setPicked([])}>{t('common.clear')}</button>{' '}
          {!parent && <>
            <input placeholder={t('grants.groupName')} value={groupName} onInput={(e) => setGroupName(e.currentTarget.value)} data-testid="grants-group-name" />{' '}
            <button class="link" disabled={!groupName.trim()} data-testid="grants-group-save" onClick={() => {
              api.createGroup({ name: groupName.trim(), ownerUnit: me.unit, cameras: picked.map((p) => p.id) }).then((g) => {
                setDone(t('grants.groupSaved', { name: g.name }));
                setGroupName('');
                load();
              }, (err: unknown) => setError(err));
            }}>{t('grants.saveGroup')}</button>
          </>}
        </p>
      )}

      <h3>{t('grants.step2')}</h3>
      <p>
        <label>{t('grants.unit')} </label><UnitPicker value={toUnit} onChange={(code) => setToUnit(code)} below testid="grants-unit" />{' '}
        {ACTIONS.map((a) => (
          <label key={a}><input type="checkbox" checked={actions.includes(a)} disabled={parent !== null && !parent.actions.includes(a)}
            onChange={() => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a])} data-testid={`grants-action-${a}`} /> {t(`actions.${a}`)} </label>
        ))}
        <label>{t('grants.expires')} <input type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} data-testid="grants-expires" /></label>{' '}
        <label><input type="checkbox" checked={reGrant} onChange={() => setReGrant(!reGrant)} data-testid="grants-regrant" /> {t('grants.allowRegrant')}</label>{' '}
        <button class="link" disabled={!toUnit || actions.length === 0 || (picked.length === 0 && group === null)} onClick={() => void push()} data-testid="grants-push">{t('grants.push')}</button>
      </p>
      {idle.length > 0 && <p class="rate-warn" role="status" data-testid="grants-idle">{t('grants.idleWarning', { actions: idle.map((a) => t(`actions.${a}`)).join(t('common.listSep')) })}</p>}

      <h3>{t('grants.given')} <label class="health-facts"><input type="checkbox" checked={showEnded} onChange={() => setShowEnded(!showEnded)} /> {t('grants.showEnded')}</label></h3>
      <GrantTable grants={given} onRevoke={(g) => void revoke(g)} onWithdraw={(g, c) => void withdraw(g, c)} testid="grants-given" />
      {received.length > 0 && (
        <>
          <h3>{t('grants.received')}</h3>
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
  if (grants.length === 0) return <p class="health-facts">{t('common.none')}</p>;
  return (
    <table data-testid={testid}>
      <thead><tr><th>#</th><th>{t('grants.col.cameras')}</th><th>{t('grants.col.holder')}</th><th>{t('grants.col.from')}</th><th>{t('grants.col.actions')}</th><th>{t('grants.col.expires')}</th><th>{t('grants.col.state')}</th><th></th></tr></thead>
      <tbody>
        {grants.map((g) => (
          <tr key={g.id} data-testid="grant-row" data-grant={g.id} data-state={g.state}>
            <td>{g.id}{g.parent ? ` ← #${g.parent}` : ''}</td>
            <td>
              {g.group ? `${t('grants.group', { name: g.group.name })}: ` : ''}
              {g.cameras.slice(0, 8).map((c) => (
                <span key={c.id} class="grant-camera" data-testid="grant-camera" data-camera={c.id}>
                  {c.name}
                  {onWithdraw && !g.group && g.state === 'active' && <button class="grant-withdraw" title={t('grants.withdraw')} onClick={() => onWithdraw(g, c)} data-testid="grant-withdraw">×</button>}
                </span>
              ))}
              {g.cameras.length > 8 ? ` ${t('grants.andMore', { n: g.cameras.length })}` : ''}
            </td>
            <td>{g.toUnitName}</td>
            <td>{g.grantorName} · {g.grantorUnitName}</td>
            <td>{g.actions.map((a) => t(`actions.${a}`)).join(' ')}{g.reGrant ? ` · ${t('grants.mayRegrant')}` : ''}
              {g.unusable.length > 0 && g.state === 'active' && <span class="rate-warn" data-testid="grant-unusable" title={t('grants.unusable', { actions: g.unusable.map((a) => t(`actions.${a}`)).join(t('common.listSep')) })}> ⚠ {g.unusable.map((a) => t(`actions.${a}`)).join(' ')}</span>}</td>
            <td>{g.expiresAt ? dateTime(g.expiresAt) : t('grants.forever')}</td>
            <td>{t(`grants.state.${g.state}`)}</td>
            <td>
              {onRevoke && g.state === 'active' && <button class="link" onClick={() => onRevoke(g)} data-testid="grant-revoke">{t('grants.revoke')}</button>}
              {onPassOn && g.state === 'active' && g.reGrant && <button class="link" onClick={() => onPassOn(g)} data-testid="grant-pass-on">{t('grants.passOn')}</button>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
