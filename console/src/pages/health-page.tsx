// The online-rate page: a unit's rate, its children ranked worst first, and the cameras of its subtree that are offline.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type OfflineT, type UnitHealthReportT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { percent, Rate, rateClass } from '../components/health/rate.js';

const PAGE = 50;
const REFRESH_MS = 15_000;

function when(ms: number): string {
  return new Date(ms).toLocaleString('zh-CN', { hour12: false });
}

/** HealthPage shows the health of state.healthUnit (the user's own unit by default), refreshed while it is open. */
export function HealthPage() {
  const state = useAppState();
  const code = state.healthUnit.value ?? state.user.value!.unit;
  const [report, setReport] = useState<UnitHealthReportT | null>(null);
  const [offline, setOffline] = useState<OfflineT | null>(null);
  const [refused, setRefused] = useState<OfflineT | null>(null);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [trail, setTrail] = useState<Array<{ code: string; name: string }>>([]);

  useEffect(() => { setOffset(0); }, [code]);
  useEffect(() => {
    let live = true;
    const load = () => {
      Promise.all([api.unitHealth(code), api.offline(code, offset, PAGE), api.offline(code, 0, PAGE, 'credentials')]).then(([r, o, c]) => {
        if (!live) return;
        setReport(r);
        setOffline(o);
        setRefused(c);
        setError(null);
      }, (err: unknown) => {
        state.sessionEnded(err);
        if (live) setError(err instanceof ApiError ? err.message : String(err));
      });
    };
    load();
    const timer = window.setInterval(load, REFRESH_MS);
    return () => { live = false; window.clearInterval(timer); };
  }, [code, offset]);

  const open = (to: { code: string; name: string }) => {
    if (report) setTrail([...trail, { code: report.unit.code, name: report.unit.name }]);
    state.showHealth(to.code);
  };
  const back = (i: number) => {
    const to = trail[i]!;
    setTrail(trail.slice(0, i));
    state.showHealth(to.code);
  };

  if (error && !report) return <section class="health"><p class="health-error" role="alert">{error}</p></section>;
  if (!report || !offline) return <section class="health"><p class="health-facts">加载中…</p></section>;
  const h = report.unit.health;
  const children = [...report.children].sort((a, b) => a.health.rate - b.health.rate || a.code.localeCompare(b.code));
  return (
    <section class="health" data-testid="health-page" data-unit={report.unit.code}>
      {trail.length > 0 && (
        <p class="health-crumbs">{trail.map((t, i) => <span key={t.code}><button onClick={() => back(i)}>{t.name}</button> › </span>)}{report.unit.name}</p>
      )}
      <h2>
        {report.unit.name}
        <span class={`health-big ${rateClass(h)}`} data-testid="health-rate">{h.online + h.offline > 0 ? percent(h.rate) : '—'}</span>
      </h2>
      <p class="health-facts" data-testid="health-facts">
        在线 {h.online} · 离线 {h.offline} · 未检测 {h.unknown} · 共 {h.total} 台
        {h.credentialsRejected > 0 && <> · <span class="rate-warn" data-testid="health-refused">{h.credentialsRejected} 台密码被拒 (在线, 但取不到视频)</span></>}
        {report.sweep && <> · 上次巡检 {when(report.sweep.startedAt)}, 用时 {(report.sweep.durationMs / 1000).toFixed(1)} 秒, 每 {Math.round(report.intervalMs / 1000)} 秒一次</>}
        {!report.sweep && <> · 首次巡检进行中</>}
      </p>
      {error && <p class="health-error" role="alert">{error}</p>}

      {children.length > 0 && (
        <>
          <h3>下级单位 (在线率从低到高)</h3>
          <table data-testid="health-children">
            <thead><tr><th>单位</th><th class="num">在线率</th><th></th><th class="num">在线</th><th class="num">离线</th><th class="num">共</th></tr></thead>
            <tbody>
              {children.map((c) => (
                <tr key={c.code} class="unit-row" onClick={() => open(c)} data-testid="health-child" data-code={c.code}>
                  <td>{c.name}</td>
                  <td class="num"><Rate health={c.health} /></td>
                  <td><span class="bar"><span class={rateClass(c.health)} style={{ width: `${(c.health.rate * 100).toFixed(1)}%` }} /></span></td>
                  <td class="num">{c.health.online}</td>
                  <td class="num">{c.health.offline}</td>
                  <td class="num">{c.health.total}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      {refused && refused.total > 0 && (
        <>
          <h3>密码被拒的摄像机 ({refused.total}) · credentials rejected</h3>
          <table data-testid="refused-list">
            <thead><tr><th>摄像机</th><th>单位</th><th>发现于</th><th>摄像机的回答</th></tr></thead>
            <tbody>
              {refused.items.map((c) => (
                <tr key={c.id} data-testid="refused-camera" data-camera={c.id}>
                  <td><span class="dot dot-refused" /> {c.name}<br /><small class="health-facts">{c.id}</small></td>
                  <td>{c.unitName}</td><td>{when(c.since)}</td><td>{c.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="health-facts">这些摄像机在线, 但拒绝了目录中保存的用户名或密码: 在导入或设备接入中更新其凭据。</p>
        </>
      )}

      <h3>离线摄像机 ({offline.total})</h3>
      {offline.total === 0 ? <p class="health-facts">没有离线的摄像机。</p> : (
        <>
          <table data-testid="offline-list">
            <thead><tr><th>摄像机</th><th>单位</th><th>离线自</th><th>原因</th><th></th></tr></thead>
            <tbody>
              {offline.items.map((c) => (
                <tr key={c.id} data-testid="offline-camera" data-camera={c.id}>
                  <td><span class="dot dot-offline" /> {c.name}<br /><small class="health-facts">{c.id}</small></td>
                  <td>{c.unitName}</td>
                  <td>{when(c.since)}</td>
                  <td>{c.reason ?? ''}</td>
                  <td><button class="link" onClick={() => { state.show({ id: c.id, name: c.name }); state.page.value = 'live'; }}>查看</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="health-pager">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>上一页</button>
            {offset + 1}–{Math.min(offset + PAGE, offline.total)} / {offline.total}
            <button disabled={offset + PAGE >= offline.total} onClick={() => setOffset(offset + PAGE)}>下一页</button>
          </p>
        </>
      )}
    </section>
  );
}
