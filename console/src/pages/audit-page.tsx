// The audit trail of the administrator's subtree: filters, a page of entries, CSV export.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type AuditPageT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import '../components/health/health.css';

const ACTIONS = ['', 'login', 'login.failed', 'login.refused', 'logout', 'view.start', 'view.end', 'ptz.move', 'snapshot', 'grant.create', 'grant.revoke', 'account.create', 'account.change', 'catalog.import', 'camera.add'];
const PAGE = 100;

/** AuditPage reads the audit trail. */
export function AuditPage() {
  const state = useAppState();
  const [filters, setFilters] = useState({ action: '', username: '', camera: '' });
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<AuditPageT | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = () => new URLSearchParams({
    limit: String(PAGE), offset: String(offset),
    ...(filters.action ? { action: filters.action } : {}), ...(filters.username ? { username: filters.username } : {}), ...(filters.camera ? { camera: filters.camera } : {}),
  }).toString();
  useEffect(() => {
    api.audit(query()).then(setPage, (err: unknown) => { state.sessionEnded(err); setError(err instanceof ApiError ? err.message : String(err)); });
  }, [filters, offset]);

  return (
    <section class="health" data-testid="audit-page">
      <h2>审计日志 Audit trail</h2>
      <p>
        <select value={filters.action} onChange={(e) => { setOffset(0); setFilters({ ...filters, action: e.currentTarget.value }); }} data-testid="audit-action">
          {ACTIONS.map((a) => <option key={a} value={a}>{a || '全部操作'}</option>)}
        </select>{' '}
        <input placeholder="用户名" value={filters.username} onChange={(e) => { setOffset(0); setFilters({ ...filters, username: e.currentTarget.value }); }} />{' '}
        <input placeholder="摄像机编号" value={filters.camera} onChange={(e) => { setOffset(0); setFilters({ ...filters, camera: e.currentTarget.value }); }} />{' '}
        <a class="link" href={`/api/audit.csv?${query()}`} data-testid="audit-csv">导出 CSV</a>
      </p>
      {error && <p class="health-error" role="alert">{error}</p>}
      {page && (
        <>
          <table data-testid="audit-table">
            <thead><tr><th>#</th><th>时间</th><th>用户</th><th>操作</th><th>摄像机</th><th>详情</th><th>地址</th></tr></thead>
            <tbody>
              {page.entries.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                  <td>{e.id}</td><td>{new Date(e.at).toLocaleString('zh-CN', { hour12: false })}</td><td>{e.username}</td><td>{e.action}</td>
                  <td>{e.camera ?? ''}</td><td><code>{JSON.stringify(e.detail).slice(0, 120)}</code></td><td>{e.remote ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="health-pager">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>上一页</button>
            {page.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, page.total)} / {page.total}
            <button disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>下一页</button>
          </p>
        </>
      )}
    </section>
  );
}
