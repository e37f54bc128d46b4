// Bulk import and export for administrators: upload a CSV or JSON file, follow its progress, read every rejected row.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type ImportJobT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
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
      else reject(new ApiError(xhr.status, body as { code?: string; message?: string }));
    };
    xhr.onerror = () => reject(new ApiError(0, { code: 'network', message: '无法连接网关 (the gateway cannot be reached)' }));
    xhr.send(file);
  });
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
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<number>();

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const follow = (id: string) => {
    api.importJob(id).then((j) => {
      setJob(j);
      if (j.state === 'running' || j.state === 'queued') timer.current = window.setTimeout(() => follow(id), POLL_MS);
    }, (err: unknown) => {
      state.sessionEnded(err);
      setError(err instanceof ApiError ? err.message : String(err));
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
      setError(err instanceof ApiError ? err.message : String(err));
      setUploaded(null);
    }
  };

  const p = job?.progress;
  const fraction = p?.bytesTotal ? p.bytesRead / p.bytesTotal : 0;
  return (
    <section class="health" data-testid="import-page">
      <h2>摄像机导入导出 Import and export</h2>
      <p class="health-facts">
        CSV 或 JSON; 列: id, name, unit, kind, latitude, longitude, main_url, sub_url, onvif_url, username, password.
        同一文件导入两次不会改变任何内容; 密码加密保存, 导出时不含密码 (留空即保留原密码).
      </p>
      <p>
        <input type="file" accept=".csv,.json,.jsonl,.ndjson" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} data-testid="import-file" />
        {' '}<label><input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} data-testid="import-dry-run" /> 仅检查 (dry run)</label>
        {' '}<label>编码 <select value={encoding} onChange={(e) => setEncoding(e.currentTarget.value as 'utf-8' | 'gb18030')}>
          <option value="utf-8">UTF-8</option><option value="gb18030">GBK / GB18030</option>
        </select></label>
        {' '}<button class="link" disabled={!file || job?.state === 'running' || job?.state === 'queued'} onClick={() => void start()} data-testid="import-start">导入 Import</button>
      </p>
      {error && <p class="health-error" role="alert" data-testid="import-error">{error}</p>}
      {uploaded !== null && uploaded < 1 && <p class="health-facts">上传中 {(uploaded * 100).toFixed(0)}%</p>}
      {job && p && (
        <div data-testid="import-status" data-state={job.state}>
          <p>
            <span class="bar" style={{ width: '20rem', display: 'inline-block' }}><span class={job.state === 'failed' ? 'rate-bad' : 'rate-good'} style={{ width: `${(fraction * 100).toFixed(1)}%` }} /></span>
            {' '}{job.state === 'queued' ? '排队中 (等待前一个导入完成)' : job.state === 'running' ? `导入中 ${(fraction * 100).toFixed(0)}%` : job.state === 'done' ? '完成' : '失败'}
          </p>
          <p class="health-facts" data-testid="import-counts">
            {p.rows} 行: 新增 {p.added}, 更新 {p.updated}, 未变 {p.unchanged}, 拒绝 {p.rejected}
            {job.report?.dryRun && ' (仅检查, 未写入)'}
            {job.report && ` · 用时 ${(job.report.durationMs / 1000).toFixed(1)} 秒`}
          </p>
          {job.error && <p class="health-error" role="alert">{job.error}</p>}
          {job.report?.stopped && <p class="health-error" role="alert" data-testid="import-stopped">第 {job.report.stopped.line} 行起未读取: 文件超过行数上限 · {job.report.stopped.reason}</p>}
          {job.report && job.report.rejections.length > 0 && (
            <>
              <h3>被拒绝的行 ({p.rejected}) <a href={`/api/catalog/imports/${job.id}/rejections.csv`} class="link">下载全部 CSV</a></h3>
              <table data-testid="import-rejections">
                <thead><tr><th class="num">行</th><th>编号</th><th>原因</th></tr></thead>
                <tbody>
                  {job.report.rejections.map((r) => <tr key={`${r.line}`} data-testid="import-rejection" data-line={r.line}><td class="num">{r.line}</td><td>{r.id ?? ''}</td><td>{r.reason}</td></tr>)}
                </tbody>
              </table>
            </>
          )}
        </div>
      )}
      <h3>导出 {user.unitName} 的摄像机</h3>
      <p>
        <a class="link" href="/api/catalog/export?format=csv" data-testid="export-csv">CSV</a>{' '}
        <a class="link" href="/api/catalog/export?format=json" data-testid="export-json">JSON</a>
      </p>
    </section>
  );
}
