// Bulk import and export for administrators: upload a CSV or JSON file, follow its progress, read every rejected row.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type ImportJobT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { errorText, say, t } from '../i18n/i18n.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import '../components/health/health.css';

const POLL_MS = 300;

/** upload sends a file with XMLHttpRequest, which reports upload progress (fetch does not). */
function upload(file: File, query: string, onProgress: (fraction: number) => void): Promise<ImportJobT> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/catalog/imports?${query}`);
    xhr.setRequestHeader('content-type', /\.csv$/i.test(file.name) ? 'text/csv' : 'application/json');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      const body = (() => { try { return JSON.parse(xhr.responseText) as unknown; } catch { return {}; } })();
      if (xhr.status === 202) resolve(body as ImportJobT);
      else reject(new ApiError(xhr.status, body as { code?: string; message?: string; details?: Record<string, unknown> }));
    };
    xhr.onerror = () => reject(new ApiError(0, { code: 'network', message: 'the gateway cannot be reached' }));
    xhr.send(file);
  });
}

/**
 * downloadRejections saves every rejected row in the user's language: the gateway's file holds the stable reason of
 * each row, and its sentence is written here (a spreadsheet opens the BOM-marked UTF-8 as it is).
 */
async function downloadRejections(job: string): Promise<void> {
  const res = await fetch(`/api/catalog/imports/${encodeURIComponent(job)}/rejections.csv`, { credentials: 'same-origin' });
  if (!res.ok) return;
  const lines = (await res.text()).split('\n').filter(Boolean);
  const head = parseCsvLine(lines[0] ?? '');
  const at = (name: string) => head.indexOf(name);
  const out = [[t('import.col.line'), t('import.col.id'), t('import.col.reason')]];
  for (const line of lines.slice(1)) {
    const f = parseCsvLine(line);
    const code = f[at('code')] ?? '';
    const params = (() => { try { return JSON.parse(f[at('params')] || '{}') as Record<string, string | number>; } catch { return {}; } })();
    out.push([f[at('line')] ?? '', f[at('id')] ?? '', code ? say({ key: `errors.reason.${code}`, params: rowParams(params) }) : f[at('reason')] ?? '']);
  }
  const csv = '\ufeff' + out.map((r) => r.map((v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',')).join('\r\n') + '\r\n';
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  a.download = `rejections-${job}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** parseCsvLine reads one line of the gateway's CSV (quoted fields, doubled quotes). */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** rowParams says a rejection's field by its label. */
function rowParams(params: Record<string, string | number> | undefined): Record<string, unknown> | undefined {
  if (!params) return undefined;
  return { ...params, ...(typeof params.field === 'string' ? { field: t(`import.column.${params.field}`, { defaultValue: params.field }) } : {}) };
}

/** ImportPage is the catalog page of an administrator. */
export function ImportPage() {
  const state = useAppState();
  const user = state.user.value!;
  const [file, setFile] = useState<File | null>(null);
  const [dryRun, setDryRun] = useState(false);
  const [encoding, setEncoding] = useState<'utf-8' | 'gb18030'>('utf-8');
  const [uploaded, setUploaded] = useState<number | null>(null);
  const [job, setJob] = useState<ImportJobT | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [exportUnit, setExportUnit] = useState({ code: user.unit, name: user.unitName });
  const timer = useRef<number>();

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const follow = (id: string) => {
    api.importJob(id).then((j) => {
      setJob(j);
      if (j.state === 'running' || j.state === 'queued') timer.current = window.setTimeout(() => follow(id), POLL_MS);
    }, (err: unknown) => {
      state.sessionEnded(err);
      setError(err);
    });
  };

  const start = async () => {
    if (!file) return;
    setError(null);
    setJob(null);
    setUploaded(0);
    try {
      const format = /\.csv$/i.test(file.name) ? 'csv' : 'json';
      const j = await upload(file, `format=${format}&encoding=${encoding}&dryRun=${dryRun}`, setUploaded);
      setUploaded(1);
      setJob(j);
      follow(j.id);
    } catch (err) {
      state.sessionEnded(err);
      setError(err);
      setUploaded(null);
    }
  };

  const p = job?.progress;
  const fraction = p?.bytesTotal ? p.bytesRead / p.bytesTotal : 0;
  return (
    <section class="health" data-testid="import-page">
      <h2>{t('import.title')}</h2>
      <p class="health-facts">{t('import.help', { columns: 'id, name, unit, kind, latitude, longitude, main_url, sub_url, onvif_url, username, password' })}</p>
      <p>
        <input type="file" accept=".csv,.json,.jsonl,.ndjson" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} data-testid="import-file" />
        {' '}<label><input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} data-testid="import-dry-run" /> {t('import.dryRun')}</label>
        {' '}<label>{t('import.encoding')} <select value={encoding} onChange={(e) => setEncoding(e.currentTarget.value as 'utf-8' | 'gb18030')}>
          <option value="utf-8">UTF-8</option><option value="gb18030">GBK / GB18030</option>
        </select></label>
        {' '}<button class="link" disabled={!file || job?.state === 'running' || job?.state === 'queued'} onClick={() => void start()} data-testid="import-start">{t('import.start')}</button>
      </p>
      {error !== null && <p class="health-error" role="alert" data-testid="import-error">{errorText(error)}</p>}
      {uploaded !== null && uploaded < 1 && <p class="health-facts">{t('import.uploading', { pct: (uploaded * 100).toFixed(0) })}</p>}
      {job && p && (
        <div data-testid="import-status" data-state={job.state}>
          <p>
            <span class="bar" style={{ width: '20rem', display: 'inline-block' }}><span class={job.state === 'failed' ? 'rate-bad' : 'rate-good'} style={{ width: `${(fraction * 100).toFixed(1)}%` }} /></span>
            {' '}{t(`import.state.${job.state}`, { pct: (fraction * 100).toFixed(0) })}
          </p>
          <p class="health-facts" data-testid="import-counts">
            {t('import.counts', { rows: p.rows, added: p.added, updated: p.updated, unchanged: p.unchanged, rejected: p.rejected })}
            {job.report?.dryRun && t('import.dryRunNote')}
            {job.report && t('import.took', { s: (job.report.durationMs / 1000).toFixed(1) })}
          </p>
          {job.error && <p class="health-error" role="alert" title={job.error}>{job.errorCode ? say({ key: `errors.reason.${job.errorCode}`, params: job.errorParams }) : t('import.failed')}</p>}
          {job.report?.stopped && <p class="health-error" role="alert" data-testid="import-stopped" title={job.report.stopped.reason}>{t('import.stopped', { line: job.report.stopped.line })}</p>}
          {job.report && job.report.rejections.length > 0 && (
            <>
              <h3>{t('import.rejectedTitle', { n: p.rejected })} <button class="link" onClick={() => void downloadRejections(job.id)} data-testid="import-rejections-csv">{t('import.downloadRejections')}</button></h3>
              <table data-testid="import-rejections">
                <thead><tr><th class="num">{t('import.col.line')}</th><th>{t('import.col.id')}</th><th>{t('import.col.reason')}</th></tr></thead>
                <tbody>
                  {job.report.rejections.map((r) => <tr key={`${r.line}`} data-testid="import-rejection" data-line={r.line}><td class="num">{r.line}</td><td>{r.id ?? ''}</td><td title={r.reason}>{say({ key: `errors.reason.${r.code}`, params: rowParams(r.params) })}</td></tr>)}
                </tbody>
              </table>
            </>
          )}
        </div>
      )}
      <h3>{t('import.exportTitle', { unit: exportUnit.name })}</h3>
      <p>
        <label>{t('import.exportUnit')} </label><UnitPicker value={exportUnit.code} onChange={(code, u) => setExportUnit(code ? { code, name: u?.name ?? code } : { code: user.unit, name: user.unitName })} testid="export-unit" />{' '}
        <a class="link" href={`/api/catalog/export?format=csv&unit=${encodeURIComponent(exportUnit.code)}`} data-testid="export-csv">CSV</a>{' '}
        <a class="link" href={`/api/catalog/export?format=json&unit=${encodeURIComponent(exportUnit.code)}`} data-testid="export-json">JSON</a>
      </p>
    </section>
  );
}
