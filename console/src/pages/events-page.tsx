// The event centre: what happened to the cameras, streams, imports and grants the user sees, newest first, pushed as
// it happens; filtered by kind and unit, acknowledged one by one or all at once, with history further back, and
// (for administrators) the webhooks that pass the same events to other systems.
import { useEffect, useState } from 'preact/hooks';
import { api, type EventT, type WebhookT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { dateTime, errorText, has, t } from '../i18n/i18n.js';
import '../components/health/health.css';

/** KINDS are the kinds of event, in the order the filter lists them. */
const KINDS = ['camera.offline', 'camera.online', 'camera.credentials', 'camera.credentials-ok', 'stream.failed', 'import.done', 'import.failed', 'grant.received', 'grant.revoked', 'wall.alarm'];
const PAGE = 100;

/** eventText says an event in words: its kind's sentence, the camera by name and the reason by its kind. */
export function eventText(e: EventT): string {
  const p = e.params;
  const why = typeof p.why === 'string'
    ? (e.kind === 'stream.failed' ? (has(`streamKind.${p.why}`) ? t(`streamKind.${p.why}`) : p.why)
      : e.kind === 'import.failed' ? (has(`errors.reason.${p.why}`) ? t(`errors.reason.${p.why}`) : '') : has(`offlineKind.${p.why}`) ? t(`offlineKind.${p.why}`) : p.why)
    : '';
  return t(`events.text.${e.kind}`, { ...p, camera: e.cameraName ?? e.camera ?? '', unit: p.unit ?? e.unitName, why });
}

/** EventsPage is the event centre. */
export function EventsPage() {
  const state = useAppState();
  const feed = state.events;
  const admin = state.user.value!.roles.includes('admin');
  const [kind, setKind] = useState('');
  const [unit, setUnit] = useState('');
  const [onlyUnacked, setOnlyUnacked] = useState(false);
  const [older, setOlder] = useState<EventT[]>([]);
  const [filtered, setFiltered] = useState<EventT[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  // With a filter the page asks the gateway (its history holds more than the feed); without one it shows the feed.
  const filtering = kind !== '' || unit !== '' || onlyUnacked;
  useEffect(() => {
    setOlder([]);
    if (!filtering) { setFiltered(null); return; }
    api.events({ ...(kind ? { kind } : {}), ...(unit ? { unit } : {}), ...(onlyUnacked ? { acked: false } : {}), limit: PAGE })
      .then((r) => { setFiltered(r.events); setError(null); }, (err: unknown) => { state.sessionEnded(err); setError(err); });
  }, [kind, unit, onlyUnacked, feed.recent.value.length > 0 ? feed.recent.value[0]!.id : 0]);

  const live = filtered ?? feed.recent.value;
  const shown = [...live, ...older.filter((o) => !live.some((e) => e.id === o.id))]
    .map((e) => feed.recent.value.find((r) => r.id === e.id) ?? e);
  const unackedShown = shown.filter((e) => e.ackedAt === null).map((e) => e.id);
  const more = () => {
    const last = shown.at(-1);
    if (!last) return;
    api.events({ ...(kind ? { kind } : {}), ...(unit ? { unit } : {}), ...(onlyUnacked ? { acked: false } : {}), before: last.id, limit: PAGE })
      .then((r) => setOlder([...older, ...r.events]), (err: unknown) => setError(err));
  };
  const ack = (ids: number[]) => {
    feed.ack(ids.slice(0, 500)).then(() => {
      // The acknowledgement comes back over the socket; the filtered list is asked again to show it.
      if (filtering) setFiltered((f) => f?.map((e) => (ids.includes(e.id) ? { ...e, ackedAt: Date.now(), ackedBy: state.user.value!.displayName } : e)) ?? null);
      setOlder((o) => o.map((e) => (ids.includes(e.id) ? { ...e, ackedAt: Date.now(), ackedBy: state.user.value!.displayName } : e)));
    }, (err: unknown) => { state.sessionEnded(err); setError(err); });
  };

  return (
    <section class="health" data-testid="events-page">
      <h2>{t('events.title')} <small class="health-facts" data-testid="events-connection" data-connected={feed.connected.value ? 'true' : 'false'}>{feed.connected.value ? t('events.connected') : t('events.disconnected')}</small></h2>
      <p class="audit-filters">
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value)} data-testid="events-kind">
          <option value="">{t('events.anyKind')}</option>
          {KINDS.map((k) => <option key={k} value={k}>{t(`events.kind.${k}`)}</option>)}
        </select>{' '}
        <UnitPicker value={unit} onChange={setUnit} testid="events-unit" />{' '}
        <label><input type="checkbox" checked={onlyUnacked} onChange={() => setOnlyUnacked(!onlyUnacked)} data-testid="events-unacked" /> {t('events.unacked')}</label>{' '}
        <label><input type="checkbox" checked={feed.sound.value} onChange={() => feed.setSound(!feed.sound.value)} data-testid="events-sound" /> {t('events.sound')}</label>{' '}
        <button class="link" disabled={unackedShown.length === 0} onClick={() => ack(unackedShown)} data-testid="events-ack-all">{t('events.ackAll')}</button>
        <span class="health-facts" data-testid="events-unacked-count"> {t('events.badge', { n: feed.unacked.value })}</span>
      </p>
      {error !== null && <p class="health-error" role="alert">{errorText(error)}</p>}
      {shown.length === 0 ? <p class="health-facts">{t('events.none')}</p> : (
        <table data-testid="events-table">
          <thead><tr><th>{t('audit.col.time')}</th><th>{t('events.anyKind')}</th><th>{t('audit.col.detail')}</th><th>{t('health.col.unit')}</th><th></th></tr></thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.id} data-testid="event-row" data-event={e.id} data-kind={e.kind} data-camera={e.camera ?? ''} data-acked={e.ackedAt !== null ? 'true' : 'false'} class={e.ackedAt === null ? 'event-new' : ''}>
                <td>{dateTime(e.at)}</td>
                <td><span class={`event-kind event-${e.kind.replace('.', '-')}`}>{t(`events.kind.${e.kind}`)}</span></td>
                <td>{eventText(e)}</td>
                <td>{e.unitName}</td>
                <td>
                  {e.ackedAt === null
                    ? <button class="link" onClick={() => ack([e.id])} data-testid="event-ack">{t('events.ack')}</button>
                    : <small class="health-facts" data-testid="event-acked">{t('events.ackedBy', { user: e.ackedBy ?? '', at: dateTime(e.ackedAt) })}</small>}
                  {e.camera && e.kind.startsWith('camera') && <> <button class="link" onClick={() => state.show({ id: e.camera!, name: e.cameraName ?? e.camera! })}>{t('common.view')}</button></>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown.length > 0 && <p class="health-pager"><button onClick={more} data-testid="events-more">{t('events.history')}</button></p>}
      {admin && <Webhooks />}
    </section>
  );
}

/** Webhooks lists and adds the webhooks of the administrator's part of the tree. */
function Webhooks() {
  const [hooks, setHooks] = useState<WebhookT[]>([]);
  const [url, setUrl] = useState('');
  const [kinds, setKinds] = useState<string[]>(['camera.offline', 'camera.online']);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api.webhooks().then((r) => setHooks(r.webhooks), (err: unknown) => setError(err));
  useEffect(() => { void load(); }, []);
  return (
    <>
      <h3>{t('events.webhooks')}</h3>
      <p>
        <input size={40} placeholder={t('events.webhookUrl')} value={url} onInput={(e) => setUrl(e.currentTarget.value)} data-testid="webhook-url" />{' '}
        {KINDS.map((k) => (
          <label key={k}><input type="checkbox" checked={kinds.includes(k)} onChange={() => setKinds(kinds.includes(k) ? kinds.filter((x) => x !== k) : [...kinds, k])} /> {t(`events.kind.${k}`)} </label>
        ))}
        <button class="link" disabled={!url || kinds.length === 0} data-testid="webhook-add" onClick={() => {
          api.createWebhook({ url, kinds }).then((h) => { setSecret(h.secret); setUrl(''); setError(null); void load(); }, (err: unknown) => setError(err));
        }}>{t('events.webhookAdd')}</button>
      </p>
      {secret && <p class="rate-warn" data-testid="webhook-secret"><code>{t('events.webhookSecret', { secret })}</code></p>}
      {error !== null && <p class="health-error" role="alert">{errorText(error)}</p>}
      {hooks.length > 0 && (
        <table data-testid="webhooks-table">
          <tbody>
            {hooks.map((h) => (
              <tr key={h.id}>
                <td>{h.url}</td><td>{h.unitName}</td><td>{h.kinds.map((k) => t(`events.kind.${k}`)).join(t('common.listSep'))}</td>
                <td>{h.lastAt ? t('events.webhookLast', { status: h.lastStatus ?? '', at: dateTime(h.lastAt) }) : t('events.webhookNever')}</td>
                <td><button class="link" onClick={() => { void api.deleteWebhook(h.id).then(load); }}>{t('events.webhookDelete')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
