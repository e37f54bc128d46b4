// Onboarding for administrators: discover devices on the network, probe one, add it under a unit of the tree.
import { useState } from 'preact/hooks';
import { api, type DiscoverT, type ProbeT } from '../api/client.js';
import { errorText, t } from '../i18n/i18n.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { useAppState } from '../state/app-state.js';
import '../components/health/health.css';

const KINDS = ['junction', 'square', 'road', 'entrance', 'school', 'market', 'river', 'other'];

/** OnboardPage is the device onboarding page. */
export function OnboardPage() {
  const state = useAppState();
  const [found, setFound] = useState<DiscoverT['devices'] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [url, setUrl] = useState('');
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [probe, setProbe] = useState<ProbeT | null>(null);
  const [form, setForm] = useState({ id: '', name: '', unit: state.user.value!.unit, kind: 'junction', transport: 'auto' as 'auto' | 'tcp' | 'udp' });
  const [added, setAdded] = useState<string | null>(null);

  const run = async <T,>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(what);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      state.sessionEnded(err);
      setError(err);
      return undefined;
    } finally {
      setBusy(null);
    }
  };

  const doProbe = async () => {
    setProbe(null);
    setAdded(null);
    const p = await run('probe', () => api.probe(url, username || undefined, password || undefined));
    if (!p) return;
    setProbe(p);
    setForm({ ...form, id: p.suggested.id ?? form.id, name: p.suggested.name ?? form.name });
  };

  const add = async () => {
    if (!probe) return;
    const cam = await run('add', () => api.addCamera({
      id: form.id, name: form.name, unit: form.unit, kind: form.kind,
      ...(probe.kind === 'onvif' ? { onvifUrl: probe.suggested.onvifUrl } : { mainUrl: probe.suggested.mainUrl }),
      ...(username ? { username, password } : {}),
      transport: form.transport,
    }));
    if (cam) setAdded(cam.id);
  };

  return (
    <section class="health" data-testid="onboard-page">
      <h2>{t('onboard.title')}</h2>
      <p class="health-facts">{t('onboard.help')}</p>
      {error !== null && <p class="health-error" role="alert" data-testid="onboard-error">{errorText(error)}</p>}

      <h3>{t('onboard.step1')} <button class="link" disabled={busy !== null} onClick={() => void run('discover', () => api.discover().then((r) => setFound(r.devices)))} data-testid="onboard-discover">{busy === 'discover' ? t('onboard.discovering') : t('onboard.discover')}</button></h3>
      {found && (
        <table data-testid="onboard-found">
          <thead><tr><th>{t('onboard.col.name')}</th><th>{t('onboard.col.model')}</th><th>{t('onboard.col.address')}</th><th></th></tr></thead>
          <tbody>
            {found.map((d) => (
              <tr key={d.endpoint} data-testid="onboard-device" data-name={d.name ?? ''}>
                <td>{d.name ?? d.endpoint}</td><td>{d.hardware ?? ''}</td><td>{d.xaddrs[0] ?? d.address}</td>
                <td>{d.cameraId ? <span class="health-facts">{t('onboard.already', { camera: d.cameraId })}</span>
                  : <button class="link" onClick={() => { setUrl(d.xaddrs[0] ?? ''); setProbe(null); }} data-testid="onboard-pick">{t('common.choose')}</button>}</td>
              </tr>
            ))}
            {found.length === 0 && <tr><td colSpan={4} class="health-facts">{t('onboard.noneAnswered')}</td></tr>}
          </tbody>
        </table>
      )}

      <h3>{t('onboard.step2')}</h3>
      <p>
        <input size={52} placeholder={t('onboard.urlPlaceholder')} value={url} onInput={(e) => setUrl(e.currentTarget.value)} data-testid="onboard-url" />{' '}
        <input size={10} placeholder={t('login.username')} value={username} onInput={(e) => setUsername(e.currentTarget.value)} data-testid="onboard-username" />{' '}
        <input size={14} type="password" placeholder={t('login.password')} value={password} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="onboard-password" />{' '}
        <button class="link" disabled={!url || busy !== null} onClick={() => void doProbe()} data-testid="onboard-probe">{busy === 'probe' ? t('onboard.probing') : t('onboard.probe')}</button>
      </p>
      {probe && (
        <div data-testid="onboard-probe-result">
          {probe.device && <p class="health-facts">{probe.device.manufacturer} {probe.device.model} · {t('onboard.firmware')} {probe.device.firmwareVersion} · {t('onboard.serial')} {probe.device.serialNumber}{probe.ptz ? ` · ${t('onboard.hasPtz')}` : ''}</p>}
          <table>
            <thead><tr><th>{t('onboard.col.stream')}</th><th>{t('onboard.col.codec')}</th><th>{t('onboard.col.size')}</th><th>{t('onboard.col.fps')}</th><th>{t('onboard.col.probe')}</th></tr></thead>
            <tbody>
              {probe.streams.map((s) => (
                <tr key={s.profile} data-testid="onboard-stream" data-profile={s.profile}>
                  <td>{t(`profile.${s.profile}`)}</td><td>{s.encoding ?? ''}</td><td>{s.width && s.height ? `${s.width}×${s.height}` : ''}</td><td>{s.fps ?? ''}</td>
                  <td title={s.error}>{s.probe ? t('onboard.usable', { ms: s.probe.latencyMs }) : s.error ? t('onboard.unusable') : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>

          <h3>{t('onboard.step3')}</h3>
          <p>
            <label>{t('onboard.id')} <input value={form.id} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} data-testid="onboard-id" /></label>{' '}
            <label>{t('onboard.col.name')} <input value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} data-testid="onboard-name" /></label>{' '}
            <label>{t('onboard.unit')} </label><UnitPicker value={form.unit} onChange={(code) => setForm({ ...form, unit: code })} testid="onboard-unit" />{' '}
            <label>{t('onboard.kind')} <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}>{KINDS.map((k) => <option key={k} value={k}>{t(`kind.${k}`)}</option>)}</select></label>{' '}
            <label title={t('onboard.transportHelp')}>{t('onboard.transport')} <select value={form.transport} onChange={(e) => setForm({ ...form, transport: e.currentTarget.value as 'auto' | 'tcp' | 'udp' })} data-testid="onboard-transport">
              <option value="auto">{t('transport.auto')}</option><option value="tcp">{t('transport.tcp')}</option><option value="udp">UDP</option>
            </select></label>{' '}
            <button class="link" disabled={busy !== null || !form.id || !form.name || !form.unit} onClick={() => void add()} data-testid="onboard-add">{t('onboard.add')}</button>
          </p>
          {added && (
            <p data-testid="onboard-added">{t('onboard.added', { camera: added })} <button class="link" onClick={() => { state.show({ id: added, name: form.name }); state.page.value = 'live'; }}>{t('onboard.watch')}</button></p>
          )}
        </div>
      )}
    </section>
  );
}
