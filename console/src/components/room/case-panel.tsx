// A mediation's case beside its room: the mediator writes the minutes, the agreement and the outcome as the session
// goes; each party reads the agreement as it stands and confirms that text (a changed text needs confirming again).
import { useEffect, useState } from 'preact/hooks';
import type { RoomClient, RoomState } from './room-client.js';
import { t } from '../../i18n/i18n.js';
import { OUTCOMES } from './case-kinds.js';

type Summary = NonNullable<RoomState['case']>;
interface Draft { minutes: string; agreement: string; outcome: string }

/** CasePanel shows the case of the room; `host` edits it, a party confirms its agreement. */
export function CasePanel({ client, room, me, host, summary, onError }: { client: RoomClient; room: string; me: RoomState['participants'][number]; host: boolean; summary: Summary; onError: (err: unknown) => void }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!host) return;
    // The mediator's form starts from the case as stored.
    client.act('GET', `/api/cases/${summary.id}`).then((r) => {
      const c = (r as { case: { minutes: string; agreement: string; outcome: string | null } }).case;
      setDraft({ minutes: c.minutes, agreement: c.agreement, outcome: c.outcome ?? '' });
    }, onError);
  }, [host, summary.id]);
  const confirmed = summary.confirmedBy.includes(me.name);
  return (
    <section class="room-case" data-testid="room-case">
      <h4>{t('case.title')} {summary.caseNo}</h4>
      {host && draft && (
        <form onSubmit={(e) => {
          e.preventDefault();
          client.act('PATCH', `/api/cases/${summary.id}`, { minutes: draft.minutes, agreement: draft.agreement, outcome: draft.outcome || null }).then(() => setSaved(true), onError);
        }}>
          <label>{t('case.minutes')}<textarea rows={4} maxLength={20000} value={draft.minutes} onInput={(e) => { setSaved(false); setDraft({ ...draft, minutes: (e.target as HTMLTextAreaElement).value }); }} data-testid="case-minutes" /></label>
          <label>{t('case.agreement')}<textarea rows={4} maxLength={20000} value={draft.agreement} onInput={(e) => { setSaved(false); setDraft({ ...draft, agreement: (e.target as HTMLTextAreaElement).value }); }} data-testid="case-agreement" /></label>
          <label>{t('case.outcome')}
            <select value={draft.outcome} onChange={(e) => { setSaved(false); setDraft({ ...draft, outcome: (e.target as HTMLSelectElement).value }); }} data-testid="case-outcome">
              <option value="">{t('case.outcomes.none')}</option>
              {OUTCOMES.map((o) => <option key={o} value={o}>{t(`case.outcomes.${o}`)}</option>)}
            </select>
          </label>
          <button type="submit" data-testid="case-save">{t('case.save')}</button> {saved && <span data-testid="case-saved">{t('case.saved')}</span>}
        </form>
      )}
      {!host && (
        <div>
          <p class="room-case-agreement" data-testid="case-agreement-text">{summary.agreement || t('case.noAgreement')}</p>
          {me.role === 'party' && summary.agreement && (confirmed
            ? <p data-testid="case-confirmed">✔ {t('case.youConfirmed')}</p>
            : <button onClick={() => { if (window.confirm(t('case.confirmAsk'))) client.act('POST', `/api/rooms/${room}/participants/${me.id}/confirm`, { agreementSha256: summary.agreementSha256 }).catch(onError); }} data-testid="case-confirm">{t('case.confirm')}</button>)}
        </div>
      )}
      <p data-testid="case-confirmed-by">{t('case.confirmedBy')}: {summary.confirmedBy.join('、') || t('case.nobody')}</p>
    </section>
  );
}
