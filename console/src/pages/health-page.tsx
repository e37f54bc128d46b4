// The online-rate page: a unit's rate, its children ranked worst first, and the cameras of its subtree that are offline.
import { useEffect, useState } from 'preact/hooks';
import { api, type OfflineT, type UnitHealthReportT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { percent, Rate, rateClass } from '../components/health/rate.js';
import { dateTime, errorText, t } from '../i18n/i18n.js';

const PAGE = 50;
const REFRESH_MS = 15_000;

const when = dateTime;

/** reasonText says why a camera is offline (or refuses its credentials) by the gateway's stable kind of it. */
function reasonText(kind: string | undefined): string {
  return t(`offlineKind.${kind ?? 'other'}`);
}

/** HealthPage shows the health of state.healthUnit (the user's own unit by default), refreshed while it is open. */
export function HealthPage() {
  const state = useAppState();
  const code = state.healthUnit.value ?? state.user.value!.unit;
  // What the device itself said (its own words, often English) is for administrators, on hover.
  const admin = state.user.value!.roles.includes('admin');
  const [report, setReport] = useState<UnitHealthReportT | null>(null);
  const [offline, setOffline] = useState<OfflineT | null>(null);
  const [refused, setRefused] = useState<OfflineT | null>(null);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<unknown>(null);
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
        if (live) setError(err);
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

  if (error && !report) return <section class="health"><p class="health-error" role="alert">{errorText(error)}</p></section>;
  if (!report || !offline) return <section class="health"><p class="health-facts">{t('common.loading')}</p></section>;
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
        {t('health.facts', { online: h.online, offline: h.offline, unknown: h.unknown, total: h.total })}
        {h.credentialsRejected > 0 && <> · <span class="rate-warn" data-testid="health-refused">{t('health.refusedCount', { n: h.credentialsRejected })}</span></>}
        {report.sweep && <> · {t('health.lastSweep', { at: when(report.sweep.startedAt), s: (report.sweep.durationMs / 1000).toFixed(1), every: Math.round(report.intervalMs / 1000) })}</>}
        {!report.sweep && <> · {t('health.firstSweep')}</>}
      </p>
      {error !== null && <p class="health-error" role="alert">{errorText(error)}</p>}

      {children.length > 0 && (
        <>
          <h3>{t('health.children')}</h3>
          <table data-testid="health-children">
            <thead><tr><th>{t('health.col.unit')}</th><th class="num">{t('health.col.rate')}</th><th></th><th class="num">{t('health.col.online')}</th><th class="num">{t('health.col.offline')}</th><th class="num">{t('health.col.total')}</th></tr></thead>
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
          <h3>{t('health.refusedTitle', { n: refused.total })}</h3>
          <table data-testid="refused-list">
            <thead><tr><th>{t('health.col.camera')}</th><th>{t('health.col.unit')}</th><th>{t('health.col.foundAt')}</th><th>{t('health.col.answer')}</th></tr></thead>
            <tbody>
              {refused.items.map((c) => (
                <tr key={c.id} data-testid="refused-camera" data-camera={c.id}>
                  <td><span class="dot dot-refused" /> {c.name}<br /><small class="health-facts">{c.id}</small></td>
                  <td>{c.unitName}</td><td>{when(c.since)}</td><td title={admin ? c.reason : undefined}>{reasonText(c.reasonKind)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="health-facts">{t('health.refusedHint')}</p>
        </>
      )}

      <h3>{t('health.offlineTitle', { n: offline.total })} {offline.total > 0 && <a class="link" href={api.offlineCsvUrl(report.unit.code)} data-testid="offline-csv">{t('health.exportOffline')}</a>}</h3>
      {offline.total === 0 ? <p class="health-facts">{t('health.noneOffline')}</p> : (
        <>
          <table data-testid="offline-list">
            <thead><tr><th>{t('health.col.camera')}</th><th>{t('health.col.unit')}</th><th>{t('health.col.since')}</th><th>{t('health.col.reason')}</th><th></th></tr></thead>
            <tbody>
              {offline.items.map((c) => (
                <tr key={c.id} data-testid="offline-camera" data-camera={c.id}>
                  <td><span class="dot dot-offline" /> {c.name}<br /><small class="health-facts">{c.id}</small></td>
                  <td>{c.unitName}</td>
                  <td>{when(c.since)}</td>
                  <td title={admin ? c.reason : undefined} data-testid="offline-reason" data-kind={c.reasonKind ?? ''}>{reasonText(c.reasonKind)}</td>
                  <td><button class="link" onClick={() => { state.show({ id: c.id, name: c.name }); state.page.value = 'live'; }}>{t('common.view')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="health-pager">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>{t('common.prev')}</button>
            {offset + 1}–{Math.min(offset + PAGE, offline.total)} / {offline.total}
            <button disabled={offset + PAGE >= offline.total} onClick={() => setOffset(offset + PAGE)}>{t('common.next')}</button>
          </p>
        </>
      )}
    </section>
  );
}
