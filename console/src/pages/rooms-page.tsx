// Rooms (视频调解 · 视频会议 · 视频培训): the user's open rooms, a new one (accounts by name, whole units convened, a
// waiting room), and the room joined.
import { useEffect, useState } from 'preact/hooks';
import { useAppState } from '../state/app-state.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { RoomClient } from '../components/room/room-client.js';
import { RoomView } from '../components/room/room-view.js';
import { errorText, t } from '../i18n/i18n.js';
import { ApiError } from '../api/client.js';
import { DISPUTE_TYPES } from '../components/room/case-kinds.js';

interface RoomSummary { id: string; kind: string; title: string; participants: unknown[] }

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, { method, credentials: 'same-origin', headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) throw new ApiError(res.status, data as { code?: string; message?: string });
  return data as T;
}

/** RoomsPage lists the user's rooms and holds the one joined. */
export function RoomsPage() {
  const state = useAppState();
  const roles = state.user.value!.roles;
  const may = roles.some((r) => r === 'mediator' || r === 'admin' || r === 'operator');
  const [rooms, setRooms] = useState<RoomSummary[]>([]);
  const [client, setClient] = useState<RoomClient | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState({ kind: 'mediation', title: '', members: '', unit: '', waiting: false, disputeType: 'other', parties: '' });
  const load = () => call<{ rooms: RoomSummary[] }>('GET', '/api/rooms').then((r) => setRooms(r.rooms), setError);
  useEffect(() => { void load(); }, []);
  const enter = (id: string) => {
    const c = new RoomClient(id);
    c.join().then(() => setClient(c), (err: unknown) => setError(err));
  };
  if (client) return <RoomView client={client} onLeave={() => { setClient(null); void load(); }} />;
  return (
    <section class="room" data-testid="rooms-page">
      <h3>{t('room.title')}</h3>
      {error !== null && <div class="room-notice">{errorText(error)}</div>}
      <ul>
        {rooms.map((r) => (
          <li key={r.id} data-testid="room-item" data-title={r.title}>{t(`room.kind.${r.kind}`)} · {r.title} ({r.participants.length}) <button onClick={() => enter(r.id)} data-testid="room-enter">{t('room.enter')}</button></li>
        ))}
        {rooms.length === 0 && <li>{t('room.none')}</li>}
      </ul>
      {may && (
        <form class="room-form" data-testid="room-form" onSubmit={(e) => {
          e.preventDefault();
          const members = form.members.split(/[\s,，、]+/).filter(Boolean).map((username) => ({ username, role: 'party' }));
          const parties = form.parties.split(/[,，、]+/).map((x) => x.trim()).filter(Boolean);
          const mediation = form.kind === 'mediation' ? { disputeType: form.disputeType, ...(parties.length ? { parties } : {}) } : {};
          call<{ id: string }>('POST', '/api/rooms', { kind: form.kind, title: form.title, members, ...(form.unit ? { units: [form.unit] } : {}), waiting: form.waiting, ...mediation })
            .then((r) => { void load(); enter(r.id); }, setError);
        }}>
          <select value={form.kind} onChange={(e) => setForm({ ...form, kind: (e.target as HTMLSelectElement).value })}>
            {['mediation', 'conference', 'training'].map((k) => <option key={k} value={k}>{t(`room.kind.${k}`)}</option>)}
          </select>
          <input placeholder={t('room.titlePlaceholder')} value={form.title} required maxLength={100} onInput={(e) => setForm({ ...form, title: (e.target as HTMLInputElement).value })} data-testid="room-form-title" />
          <input placeholder={t('room.membersPlaceholder')} value={form.members} onInput={(e) => setForm({ ...form, members: (e.target as HTMLInputElement).value })} data-testid="room-form-members" />
          {form.kind === 'mediation' && (
            <>
              <select value={form.disputeType} title={t('case.disputeOption')} onChange={(e) => setForm({ ...form, disputeType: (e.target as HTMLSelectElement).value })} data-testid="room-form-dispute">
                {DISPUTE_TYPES.map((d) => <option key={d} value={d}>{t(`case.dispute.${d}`)}</option>)}
              </select>
              <input placeholder={t('case.partiesPlaceholder')} value={form.parties} maxLength={400} onInput={(e) => setForm({ ...form, parties: (e.target as HTMLInputElement).value })} data-testid="room-form-parties" />
            </>
          )}
          <UnitPicker value={form.unit} onChange={(code) => setForm({ ...form, unit: code })} testid="room-form-unit" />
          <label><input type="checkbox" checked={form.waiting} onChange={() => setForm({ ...form, waiting: !form.waiting })} />{t('room.waitingOption')}</label>
          <button type="submit" disabled={!form.title} data-testid="room-form-submit">{t('room.create')}</button>
        </form>
      )}
    </section>
  );
}

/** GuestRoom is the page of an invite link (/room/<id>#invite=<token>): no login, the link is the key. */
export function GuestRoom({ room, invite }: { room: string; invite: string }) {
  const [client, setClient] = useState<RoomClient | null>(null);
  const [error, setError] = useState('');
  const [left, setLeft] = useState(false);
  useEffect(() => {
    // The token leaves the address bar at once; it is spent as the guest joins.
    history.replaceState(null, '', location.pathname);
    const c = new RoomClient(room);
    c.join(invite).then(() => setClient(c), (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    return () => c.close();
  }, []);
  if (left) return <p class="boot">{t('room.left')}</p>;
  if (error) return <p class="boot" data-testid="guest-error">{t('room.linkRefused')}</p>;
  if (!client) return <p class="boot">{t('common.loading')}</p>;
  return <div class="shell"><RoomView client={client} onLeave={() => setLeft(true)} /></div>;
}
