// Device upkeep for administrators: find a camera (in the tree or by search), change its name, kind, place, addresses,
// credentials or transport, move it to another unit, or delete it. The gateway checks each change as an import row.
import { useEffect, useState } from 'preact/hooks';
import { api, type CameraConfigT, type SearchCameraT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { errorText, t } from '../i18n/i18n.js';
import '../components/health/health.css';

const KINDS = ['junction', 'square', 'road', 'entrance', 'school', 'market', 'river', 'other'];

type Form = { name: string; unit: string; kind: string; latitude: string; longitude: string; mainUrl: string; subUrl: string; onvifUrl: string; username: string; password: string; transport: 'auto' | 'tcp' | 'udp' };

function formOf(c: CameraConfigT): Form {
  return {
    name: c.name, unit: c.unit, kind: c.kind, latitude: c.latitude === null ? '' : String(c.latitude), longitude: c.longitude === null ? '' : String(c.longitude),
    mainUrl: c.mainUrl ?? '', subUrl: c.subUrl ?? '', onvifUrl: c.onvifUrl ?? '', username: c.username ?? '', password: '', transport: c.transport as Form['transport'],
  };
}

/** CamerasPage edits, moves and deletes cameras. */
export function CamerasPage() {
  const state = useAppState();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<SearchCameraT[]>([]);
  const [camera, setCamera] = useState<CameraConfigT | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const picked = state.editing.value;

  const open = (id: string) => {
    setError(null);
    api.cameraConfig(id).then((c) => { setCamera(c); setForm(formOf(c)); }, (err: unknown) => { state.sessionEnded(err); setError(err); setCamera(null); setForm(null); });
  };
  useEffect(() => { if (picked) open(picked.id); }, [picked?.id]);

  const search = (text: string) => {
    setQ(text);
    if (!text.trim()) { setFound([]); return; }
    api.search(text.trim(), { what: 'cameras', limit: 20 }).then((r) => setFound(r.cameras), () => undefined);
  };
  const save = async () => {
    if (!camera || !form) return;
    setError(null);
    setDone(null);
    const num = (v: string) => (v.trim() === '' ? null : Number(v));
    const change = camera.push
      ? { name: form.name, unit: form.unit, kind: form.kind, latitude: num(form.latitude), longitude: num(form.longitude) }
      : {
          name: form.name, unit: form.unit, kind: form.kind, latitude: num(form.latitude), longitude: num(form.longitude),
          mainUrl: form.mainUrl || null, subUrl: form.subUrl || null, onvifUrl: form.onvifUrl || null, username: form.username || null,
          ...(form.password ? { password: form.password } : {}), transport: form.transport,
        };
    try {
      const c = await api.updateCamera(camera.id, change);
      setDone(c.unit !== camera.unit ? t('cameras.moved', { name: c.name, unit: c.unitPath.at(-1) ?? c.unit }) : t('cameras.saved', { name: c.name }));
      open(camera.id);
    } catch (err) {
      state.sessionEnded(err);
      setError(err);
    }
  };
  const remove = async () => {
    if (!camera || !window.confirm(t('cameras.deleteConfirm', { name: camera.name, id: camera.id }))) return;
    try {
      await api.deleteCamera(camera.id);
      setDone(t('cameras.deleted', { name: camera.name }));
      setCamera(null);
      setForm(null);
      state.editing.value = null;
    } catch (err) {
      setError(err);
    }
  };

  const field = (key: keyof Form, label: string, size = 40, type = 'text') => (
    <label class="form-row"><span>{label}</span>
      <input type={type} size={size} value={form![key]} onInput={(e) => setForm({ ...form!, [key]: e.currentTarget.value })} data-testid={`camera-${key}`} />
    </label>
  );
  return (
    <section class="health" data-testid="cameras-page">
      <h2>{t('cameras.title')}</h2>
      <p>
        <input size={40} placeholder={t('cameras.search')} value={q} onInput={(e) => search(e.currentTarget.value)} data-testid="cameras-search" />{' '}
        <span class="health-facts">{t('cameras.pick')}</span>
      </p>
      {found.length > 0 && (
        <ul class="grants-found" data-testid="cameras-found">
          {found.map((c) => (
            <li key={c.id}><button class="link" onClick={() => { setFound([]); setQ(''); open(c.id); }} data-testid="cameras-pick" data-camera={c.id}>{c.name}</button> <small class="health-facts">{c.path.map((p) => p.name).join(' › ')} · {c.id}</small></li>
          ))}
        </ul>
      )}
      {error !== null && <p class="health-error" role="alert" data-testid="cameras-error">{errorText(error)}</p>}
      {done && <p class="health-facts" data-testid="cameras-done">{done}</p>}
      {camera && form && (
        <div class="camera-form" data-testid="camera-form" data-camera={camera.id}>
          <h3>{camera.name} <small class="health-facts">{camera.id}</small></h3>
          {field('name', t('cameras.name'))}
          <label class="form-row"><span>{t('cameras.unit')}</span><UnitPicker value={form.unit} onChange={(unit) => setForm({ ...form, unit })} testid="camera-unit" /></label>
          <label class="form-row"><span>{t('cameras.kind')}</span>
            <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })} data-testid="camera-kind">{KINDS.map((k) => <option key={k} value={k}>{t(`kind.${k}`)}</option>)}</select>
          </label>
          {field('latitude', t('cameras.latitude'), 12)}
          {field('longitude', t('cameras.longitude'), 12)}
          {!camera.push && <>
            {field('mainUrl', t('cameras.mainUrl'), 60)}
            {field('subUrl', t('cameras.subUrl'), 60)}
            {field('onvifUrl', t('cameras.onvifUrl'), 60)}
            {field('username', t('cameras.username'), 20)}
            {field('password', t('cameras.password'), 20, 'password')}
            <label class="form-row"><span>{t('cameras.transport')}</span>
              <select value={form.transport} onChange={(e) => setForm({ ...form, transport: e.currentTarget.value as Form['transport'] })} data-testid="camera-transport">
                <option value="auto">{t('transport.auto')}</option><option value="tcp">{t('transport.tcp')}</option><option value="udp">UDP</option>
              </select>
            </label>
          </>}
          <p>
            <button class="link" onClick={() => void save()} data-testid="camera-save">{t('common.save')}</button>{' '}
            <button class="link" onClick={() => setForm(formOf(camera))}>{t('common.cancel')}</button>{' '}
            <button class="link link-danger" onClick={() => void remove()} data-testid="camera-delete">{t('cameras.delete')}</button>
          </p>
        </div>
      )}
    </section>
  );
}
