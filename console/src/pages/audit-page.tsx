// The audit trail of the administrator's subtree: every action in the filter, a unit, a user, a camera and a date
// range; each entry with the camera's name beside its id and its details in words; CSV export of the same selection.
import { useEffect, useState } from 'preact/hooks';
import { api, type AuditPageT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { dateTime, errorText, has, t } from '../i18n/i18n.js';
import { browserName } from './users-page.js';
import '../components/health/health.css';

const PAGE = 100;

/** fromLocal reads a datetime-local field as epoch milliseconds (undefined when empty). */
function fromLocal(v: string): number | undefined {
  const ms = v ? new Date(v).getTime() : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** actionText says an audit action in words (an action this console does not know is shown as it is). */
export function actionText(action: string): string {
  return has(`audit.action.${action}`) ? t(`audit.action.${action}`) : action;
}

/** objectText says a nested detail without its JSON: a list as a list, an object by its name (or its id). */
function objectText(v: unknown): string {
  if (v === null) return '—';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? objectText(x) : String(x))).join(t('common.listSep'));
  const o = v as Record<string, unknown>;
  return typeof o.name === 'string' ? o.name : o.id !== undefined ? `#${String(o.id)}` : Object.values(o).map(String).join(' ');
}

/** placeText says a place on a wall (t<screen>.<tile>, w<window>) in words. */
export function placeText(key: string): string {
  const tile = /^t(\d+)\.(\d+)$/.exec(key);
  if (tile) return t('wall.tileAt', { screen: Number(tile[1]) + 1, tile: Number(tile[2]) + 1 });
  const win = /^w(\d+)$/.exec(key);
  return win ? t('wall.windowAt', { n: win[1] }) : key;
}

/** layoutText says a screen's layout: a split, or a custom layout (custom-<cols>x<rows>-<tiles>). */
export function layoutText(name: string): string {
  const custom = /^custom-(\d+)x(\d+)-(\d+)$/.exec(name);
  if (custom) return t('wall.customLayout', { cols: custom[1], rows: custom[2], n: custom[3] });
  return /^\d+$/.test(name) ? t('grid.split', { n: name }) : name;
}

/** detailText says an entry's details: each known key by its label, values as recorded. */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail).filter(([k]) => k !== 'message').map(([k, v]) => {
    // A refusal's reason and code are said as the console says errors; its English message stays in the tooltip.
    if (k === 'reason' && typeof v === 'string' && has(`errors.reason.${v}`)) return t(`errors.reason.${v}`, detail);
    if (k === 'code' && typeof v === 'string' && has(`errors.code.${v}`)) return `${t('audit.detail.code')}: ${t(`errors.code.${v}`, detail)}`;
    const label = has(`audit.detail.${k}`) ? t(`audit.detail.${k}`) : k;
    const value = k === 'userAgent' && typeof v === 'string' ? browserName(v)
      : typeof v === 'boolean' ? t(v ? 'common.yes' : 'common.no')
        : k === 'expiresAt' && typeof v === 'number' ? dateTime(v)
          : k === 'actions' && Array.isArray(v) ? v.map((a) => t(`actions.${String(a)}`)).join(t('common.listSep'))
            : k === 'roles' && Array.isArray(v) ? v.map((r) => t(`roles.${String(r)}`)).join(t('common.listSep'))
              : (k === 'at' || k === 'a' || k === 'b' || k === 'targets' || k === 'alarmTargets') && typeof v === 'string' ? v.split(',').map(placeText).join(t('common.listSep'))
                : k === 'layout' && typeof v === 'string' ? layoutText(v)
                  : k === 'minute' && typeof v === 'number' ? `${String(Math.floor(v / 60)).padStart(2, '0')}:${String(v % 60).padStart(2, '0')}`
                    : k === 'days' && typeof v === 'number' ? [0, 1, 2, 3, 4, 5, 6].filter((d) => v & (1 << d)).map((d) => t(`wall.day.${d}`)).join('')
                      : typeof v === 'string' && has(`audit.value.${v}`) ? t(`audit.value.${v}`) : typeof v === 'object' ? objectText(v) : String(v);
    return `${label}: ${value}`;
  }).join(' · ').slice(0, 240);
}

/** AuditPage reads the audit trail. */
export function AuditPage() {
  const state = useAppState();
  const [actions, setActions] = useState<string[]>([]);
  const [filters, setFilters] = useState({ action: '', username: '', camera: '', unit: '', from: '', to: '' });
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<AuditPageT | null>(null);
  const [error, setError] = useState<unknown>(null);
  const set = (change: Partial<typeof filters>) => { setOffset(0); setFilters({ ...filters, ...change }); };
  const query = () => {
    const from = fromLocal(filters.from);
    const to = fromLocal(filters.to);
    return new URLSearchParams({
      limit: String(PAGE), offset: String(offset),
      ...(filters.action ? { action: filters.action } : {}), ...(filters.username ? { username: filters.username } : {}),
      ...(filters.camera ? { camera: filters.camera } : {}), ...(filters.unit ? { unit: filters.unit } : {}),
      ...(from !== undefined ? { from: String(from) } : {}), ...(to !== undefined ? { to: String(to) } : {}),
    }).toString();
  };
  useEffect(() => { api.auditActions().then((r) => setActions(r.actions), () => undefined); }, []);
  useEffect(() => {
    api.audit(query()).then((p) => { setPage(p); setError(null); }, (err: unknown) => { state.sessionEnded(err); setError(err); });
  }, [filters, offset]);

  return (
    <section class="health" data-testid="audit-page">
      <h2>{t('audit.title')}</h2>
      <p class="audit-filters">
        <select value={filters.action} onChange={(e) => set({ action: e.currentTarget.value })} data-testid="audit-action">
          <option value="">{t('audit.allActions')}</option>
          {actions.map((a) => <option key={a} value={a}>{actionText(a)}</option>)}
        </select>{' '}
        <UnitPicker value={filters.unit} onChange={(unit) => set({ unit })} testid="audit-unit" />{' '}
        <input placeholder={t('login.username')} value={filters.username} onChange={(e) => set({ username: e.currentTarget.value })} data-testid="audit-username" />{' '}
        <input placeholder={t('audit.cameraId')} value={filters.camera} onChange={(e) => set({ camera: e.currentTarget.value })} data-testid="audit-camera" />{' '}
        <label>{t('audit.from')} <input type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.currentTarget.value })} data-testid="audit-from" /></label>{' '}
        <label>{t('audit.to')} <input type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.currentTarget.value })} data-testid="audit-to" /></label>{' '}
        <a class="link" href={`/api/audit.csv?${query()}`} data-testid="audit-csv">{t('audit.exportCsv')}</a>
      </p>
      {error !== null && <p class="health-error" role="alert">{errorText(error)}</p>}
      {page && (
        <>
          <table data-testid="audit-table">
            <thead><tr><th>#</th><th>{t('audit.col.time')}</th><th>{t('audit.col.user')}</th><th>{t('audit.col.action')}</th><th>{t('audit.col.camera')}</th><th>{t('audit.col.detail')}</th><th>{t('audit.col.address')}</th></tr></thead>
            <tbody>
              {page.entries.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                  <td>{e.id}</td><td>{dateTime(e.at)}</td><td>{e.username}</td><td data-testid="audit-action-text">{actionText(e.action)}</td>
                  <td data-testid="audit-camera-cell">{e.camera ? <>{e.cameraName ?? ''} <small class="health-facts">{e.camera}</small></> : ''}</td>
                  <td title={JSON.stringify(e.detail)}>{detailText(e.detail)}</td><td>{e.remote ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="health-pager">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>{t('common.prev')}</button>
            {page.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, page.total)} / {page.total}
            <button disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>{t('common.next')}</button>
          </p>
        </>
      )}
    </section>
  );
}
