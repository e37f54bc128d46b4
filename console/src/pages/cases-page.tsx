// Mediation records (调解记录): the cases of the user's part of the tree, searched by any word (case number, parties,
// minutes, agreement), by outcome and dispute type; a case with its confirmations and its recordings, played here,
// checked against their fingerprints in the audit trail, and exported as a PDF.
import { useEffect, useState } from 'preact/hooks';
import { errorText, t } from '../i18n/i18n.js';
import { ApiError } from '../api/client.js';
import '../components/room/room.css';
import { DISPUTE_TYPES, OUTCOMES } from '../components/room/case-kinds.js';

interface CaseRow {
  id: number; caseNo: string; unitName: string; title: string; disputeType: string; mediatorName: string; parties: string[]; startedAt: number; endedAt: number | null;
  outcome: string | null; minutes: string; agreement: string; agreementSha256: string; confirmations: Array<{ party: string; at: number; current: boolean }>;
}
interface Recording { id: string; startedAt: number; stoppedAt: number | null; durationMs: number | null; state: string; progress: number; files: Array<{ name: string; kind: string; participantName?: string; bytes: number; sha256: string }> }
interface Verdict { ok: boolean; chain: boolean; files: Array<{ name: string; ok: boolean; fault?: string }> }

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin' });
  const data = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) throw new ApiError(res.status, data as { code?: string; message?: string });
  return data as T;
}
const when = (ms: number | null) => (ms === null ? t('case.open') : new Date(ms).toLocaleString());

/** CasesPage searches the cases and shows one. */
export function CasesPage() {
  const [q, setQ] = useState({ text: '', outcome: '', disputeType: '' });
  const [found, setFound] = useState<{ total: number; cases: CaseRow[] } | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const search = () => {
    const params = new URLSearchParams();
    if (q.text.trim()) params.set('q', q.text.trim());
    if (q.outcome) params.set('outcome', q.outcome);
    if (q.disputeType) params.set('disputeType', q.disputeType);
    get<{ total: number; cases: CaseRow[] }>(`/api/cases?${params.toString()}`).then((r) => { setFound(r); setError(null); }, setError);
  };
  useEffect(search, []);
  if (open !== null) return <CaseView id={open} onBack={() => { setOpen(null); search(); }} />;
  return (
    <section class="room" data-testid="cases-page">
      <h3>{t('case.records')}</h3>
      <form class="room-form" onSubmit={(e) => { e.preventDefault(); search(); }}>
        <input placeholder={t('case.searchPlaceholder')} value={q.text} maxLength={100} onInput={(e) => setQ({ ...q, text: (e.target as HTMLInputElement).value })} data-testid="cases-q" />
        <select value={q.outcome} onChange={(e) => setQ({ ...q, outcome: (e.target as HTMLSelectElement).value })} data-testid="cases-outcome">
          <option value="">{t('case.anyOutcome')}</option>
          {OUTCOMES.map((o) => <option key={o} value={o}>{t(`case.outcomes.${o}`)}</option>)}
        </select>
        <select value={q.disputeType} onChange={(e) => setQ({ ...q, disputeType: (e.target as HTMLSelectElement).value })}>
          <option value="">{t('case.anyDispute')}</option>
          {DISPUTE_TYPES.map((d) => <option key={d} value={d}>{t(`case.dispute.${d}`)}</option>)}
        </select>
        <button type="submit" data-testid="cases-search">{t('case.search')}</button>
      </form>
      {error !== null && <div class="room-notice">{errorText(error)}</div>}
      {found && <p>{t('case.found', { n: found.total })}</p>}
      <table class="cases">
        <thead><tr><th>{t('case.caseNo')}</th><th>{t('case.subject')}</th><th>{t('case.unit')}</th><th>{t('case.disputeType')}</th><th>{t('case.parties')}</th><th>{t('case.mediator')}</th><th>{t('case.started')}</th><th>{t('case.outcome')}</th></tr></thead>
        <tbody>
          {found?.cases.map((c) => (
            <tr key={c.id} data-testid="case-row" data-case={c.caseNo} onClick={() => setOpen(c.id)} style={{ cursor: 'pointer' }}>
              <td>{c.caseNo}</td><td>{c.title}</td><td>{c.unitName}</td><td>{t(`case.dispute.${c.disputeType}`)}</td><td>{c.parties.join('、')}</td><td>{c.mediatorName}</td><td>{when(c.startedAt)}</td>
              <td>{t(`case.outcomes.${c.outcome ?? 'none'}`)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function CaseView({ id, onBack }: { id: number; onBack: () => void }) {
  const [data, setData] = useState<{ case: CaseRow; recordings: Recording[] } | null>(null);
  const [verdicts, setVerdicts] = useState<Record<string, Verdict>>({});
  const [error, setError] = useState<unknown>(null);
  const load = () => get<{ case: CaseRow; recordings: Recording[] }>(`/api/cases/${id}`).then(setData, setError);
  useEffect(() => { void load(); }, [id]);
  // A recording still being composed shows its progress until it is ready.
  useEffect(() => {
    if (!data?.recordings.some((r) => r.state === 'composing' || r.state === 'recording')) return;
    const timer = window.setTimeout(() => void load(), 2000);
    return () => window.clearTimeout(timer);
  }, [data]);
  if (!data) return <section class="room">{error !== null ? <div class="room-notice">{errorText(error)}</div> : t('common.loading')}</section>;
  const c = data.case;
  return (
    <section class="room" data-testid="case-view" data-case={c.caseNo}>
      <p><button onClick={onBack}>{t('case.back')}</button> <a href={`/api/cases/${c.id}/pdf`} download data-testid="case-pdf">{t('case.exportPdf')}</a> · <a href={`/api/cases/${c.id}/pdf?lang=en`} download>{t('case.exportPdfEn')}</a></p>
      <h3>{t('case.title')} {c.caseNo}</h3>
      <dl class="case-fields">
        <dt>{t('case.subject')}</dt><dd>{c.title}</dd>
        <dt>{t('case.unit')}</dt><dd>{c.unitName}</dd>
        <dt>{t('case.disputeType')}</dt><dd>{t(`case.dispute.${c.disputeType}`)}</dd>
        <dt>{t('case.mediator')}</dt><dd>{c.mediatorName}</dd>
        <dt>{t('case.parties')}</dt><dd>{c.parties.join('、')}</dd>
        <dt>{t('case.started')}</dt><dd>{when(c.startedAt)}</dd>
        <dt>{t('case.ended')}</dt><dd>{when(c.endedAt)}</dd>
        <dt>{t('case.outcome')}</dt><dd data-testid="case-view-outcome">{t(`case.outcomes.${c.outcome ?? 'none'}`)}</dd>
      </dl>
      <h4>{t('case.minutes')}</h4><p class="room-case-agreement">{c.minutes || '—'}</p>
      <h4>{t('case.agreement')}</h4><p class="room-case-agreement">{c.agreement || '—'}</p>
      <h4>{t('case.confirmedBy')}</h4>
      <ul>{c.confirmations.map((x) => <li key={x.party + x.at}>{x.party} · {when(x.at)} {x.current ? '' : t('case.staleConfirmation')}</li>)}</ul>
      <h4>{t('case.recordings')}</h4>
      {data.recordings.length === 0 && <p>{t('case.noRecordings')}</p>}
      {data.recordings.map((r) => {
        const composed = r.files.find((f) => f.kind === 'composed');
        const v = verdicts[r.id];
        return (
          <div key={r.id} class="case-recording" data-testid="case-recording" data-state={r.state}>
            <p>{when(r.startedAt)} – {when(r.stoppedAt)} · {t(`case.recState.${r.state}`, { pct: Math.round(r.progress * 100) })}</p>
            {composed && <video controls preload="metadata" src={`/api/recordings/${r.id}/files/${composed.name}`} data-testid="case-recording-video" style={{ maxWidth: '640px', width: '100%' }} />}
            <ul>{r.files.map((f) => <li key={f.name}><a href={`/api/recordings/${r.id}/files/${f.name}`} download>{f.kind === 'composed' ? t('case.composed') : t('case.track', { name: f.participantName ?? '' })}</a> · {Math.round(f.bytes / 1024)} KB · <code>{f.sha256}</code></li>)}</ul>
            <button onClick={() => get<Verdict>(`/api/recordings/${r.id}/verify`).then((x) => setVerdicts({ ...verdicts, [r.id]: x }), setError)} data-testid="case-verify">{t('case.verify')}</button>
            {v && <span data-testid="case-verdict" data-ok={String(v.ok)}> {v.ok ? t('case.verified') : t('case.notVerified', { files: v.files.filter((f) => !f.ok).map((f) => `${f.name} (${t(`case.fault.${f.fault ?? 'altered'}`)})`).join(', ') || t('case.chainBroken') })}</span>}
          </div>
        );
      })}
    </section>
  );
}
