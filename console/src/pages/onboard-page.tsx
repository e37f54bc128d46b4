// Onboarding for administrators: discover devices on the network, probe one, add it under a unit of the tree.
import { useState } from 'preact/hooks';
import { api, ApiError, type DiscoverT, type ProbeT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import '../components/health/health.css';

const KINDS = ['junction', 'square', 'road', 'entrance', 'school', 'market', 'river', 'other'];

/** OnboardPage is the device onboarding page. */
export function OnboardPage() {
  const state = useAppState();
  const [found, setFound] = useState<DiscoverT['devices'] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [url, setUrl] = useState('');
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [probe, setProbe] = useState<ProbeT | null>(null);
  const [form, setForm] = useState({ id: '', name: '', unit: state.user.value!.unit, kind: 'junction', transport: 'auto' as 'auto' | 'tcp' | 'udp' });
  const [units, setUnits] = useState<Array<{ code: string; name: string }>>([]);
  const [added, setAdded] = useState<string | null>(null);

  const run = async <T,>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(what);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      state.sessionEnded(err);
      setError(err instanceof ApiError ? err.message : String(err));
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

  const findUnits = (q: string) => {
    if (q.trim().length < 1) return;
    api.search(q.trim(), 20).then((r) => setUnits(r.units.map((u) => ({ code: u.code, name: u.name }))), () => undefined);
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
      <h2>设备接入 Onboarding</h2>
      <p class="health-facts">发现网络上的 ONVIF 设备, 探测其能力与码流, 加入到本单位或下级单位.</p>
      {error && <p class="health-error" role="alert" data-testid="onboard-error">{error}</p>}

      <h3>1. 发现设备 <button class="link" disabled={busy !== null} onClick={() => void run('discover', () => api.discover().then((r) => setFound(r.devices)))} data-testid="onboard-discover">{busy === 'discover' ? '搜索中…' : '搜索 WS-Discovery'}</button></h3>
      {found && (
        <table data-testid="onboard-found">
          <thead><tr><th>名称</th><th>型号</th><th>地址</th><th></th></tr></thead>
          <tbody>
            {found.map((d) => (
              <tr key={d.endpoint} data-testid="onboard-device" data-name={d.name ?? ''}>
                <td>{d.name ?? d.endpoint}</td><td>{d.hardware ?? ''}</td><td>{d.xaddrs[0] ?? d.address}</td>
                <td>{d.cameraId ? <span class="health-facts">已接入 {d.cameraId}</span>
                  : <button class="link" onClick={() => { setUrl(d.xaddrs[0] ?? ''); setProbe(null); }} data-testid="onboard-pick">选择</button>}</td>
              </tr>
            ))}
            {found.length === 0 && <tr><td colSpan={4} class="health-facts">没有设备应答 (组播不可达时, 直接输入地址)</td></tr>}
          </tbody>
        </table>
      )}

      <h3>2. 探测</h3>
      <p>
        <input size={52} placeholder="http://设备/onvif/device_service 或 rtsp://..." value={url} onInput={(e) => setUrl(e.currentTarget.value)} data-testid="onboard-url" />{' '}
        <input size={10} placeholder="用户名" value={username} onInput={(e) => setUsername(e.currentTarget.value)} data-testid="onboard-username" />{' '}
        <input size={14} type="password" placeholder="密码" value={password} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="onboard-password" />{' '}
        <button class="link" disabled={!url || busy !== null} onClick={() => void doProbe()} data-testid="onboard-probe">{busy === 'probe' ? '探测中…' : '探测'}</button>
      </p>
      {probe && (
        <div data-testid="onboard-probe-result">
          {probe.device && <p class="health-facts">{probe.device.manufacturer} {probe.device.model} · 固件 {probe.device.firmwareVersion} · 序列号 {probe.device.serialNumber}{probe.ptz ? ' · 云台' : ''}</p>}
          <table>
            <thead><tr><th>码流</th><th>编码</th><th>分辨率</th><th>帧率</th><th>探测</th></tr></thead>
            <tbody>
              {probe.streams.map((s) => (
                <tr key={s.profile} data-testid="onboard-stream" data-profile={s.profile}>
                  <td>{s.profile === 'main' ? '主码流' : '子码流'}</td><td>{s.encoding ?? ''}</td><td>{s.width && s.height ? `${s.width}×${s.height}` : ''}</td><td>{s.fps ?? ''}</td>
                  <td>{s.probe ? `可用, ${s.probe.latencyMs} ms` : s.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>

          <h3>3. 加入目录</h3>
          <p>
            <label>编号 <input value={form.id} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} data-testid="onboard-id" /></label>{' '}
            <label>名称 <input value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} data-testid="onboard-name" /></label>{' '}
            <label>单位 <input list="onboard-units" value={form.unit} onInput={(e) => { setForm({ ...form, unit: e.currentTarget.value }); findUnits(e.currentTarget.value); }} data-testid="onboard-unit" /></label>
            <datalist id="onboard-units">{units.map((u) => <option key={u.code} value={u.code}>{u.name}</option>)}</datalist>{' '}
            <label>类型 <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}>{KINDS.map((k) => <option key={k} value={k}>{k}</option>)}</select></label>{' '}
            <label title="RTP 传输方式 transport">传输 <select value={form.transport} onChange={(e) => setForm({ ...form, transport: e.currentTarget.value as 'auto' | 'tcp' | 'udp' })} data-testid="onboard-transport">
              <option value="auto">自动 (先 TCP, 再 UDP)</option><option value="tcp">TCP (RTSP 内)</option><option value="udp">UDP</option>
            </select></label>{' '}
            <button class="link" disabled={busy !== null || !form.id || !form.name} onClick={() => void add()} data-testid="onboard-add">加入</button>
          </p>
          {added && (
            <p data-testid="onboard-added">已加入 {added}. <button class="link" onClick={() => { state.show({ id: added, name: form.name }); state.page.value = 'live'; }}>查看实时视频</button></p>
          )}
        </div>
      )}
    </section>
  );
}
