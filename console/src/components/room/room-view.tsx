// A room on screen: every participant's picture (grid, or the speaker large), the cameras brought in, names with
// muted and raised-hand badges; the host's controls (admit, mute, remove, lock, broadcast, invite link, record, end) and
// everyone's (raise hand, leave); the recording's notice while it runs, and a mediation's case (case-panel.tsx).
import { useEffect, useRef, useState } from 'preact/hooks';
import { RoomClient, RoomClientError } from './room-client.js';
import { CasePanel } from './case-panel.js';
import { has, t } from '../../i18n/i18n.js';
import './room.css';

export function say(err: unknown): string {
  if (err instanceof RoomClientError) {
    const reason = typeof err.details?.reason === 'string' ? err.details.reason : '';
    if (reason && has(`errors.reason.${reason}`)) return t(`errors.reason.${reason}`, err.details);
    return has(`errors.code.${err.code}`) ? t(`errors.code.${err.code}`) : t('errors.code.unknown', { status: err.status });
  }
  return t('errors.code.unexpected');
}

function Video({ stream, muted, label, testid }: { stream: MediaStream | null; muted: boolean; label: string; testid: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (v && stream && v.srcObject !== stream) { v.srcObject = stream; void v.play().catch(() => undefined); }
  }, [stream]);
  return (
    <figure class="room-tile" data-testid={testid}>
      <video ref={ref} autoplay playsInline muted={muted} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

/** RoomView shows a room the client has joined. */
export function RoomView({ client, onLeave }: { client: RoomClient; onLeave: () => void }) {
  const [, setTick] = useState(0);
  const [notice, setNotice] = useState('');
  const [speaker, setSpeaker] = useState(false);
  const [link, setLink] = useState('');
  useEffect(() => {
    client.onChange = () => setTick((n) => n + 1);
    client.onError = (err) => setNotice(say(err));
    return () => { client.onChange = () => undefined; };
  }, [client]);
  const s = client.state;
  if (!s) return <p>{t('common.loading')}</p>;
  const me = s.participants.find((p) => p.id === client.participant);
  const host = me?.role === 'host';
  const act = (method: string, path: string, body?: unknown) => { client.act(method, `/api/rooms/${s.id}${path}`, body).then(() => setNotice(''), (err: unknown) => setNotice(say(err))); };
  const others = s.participants.filter((p) => p.id !== client.participant && p.admitted);
  const remote = (key: string) => client.remotes.find((r) => r.key === key)?.stream ?? null;
  const badge = (p: (typeof s.participants)[number]) => [p.role === 'host' ? t('room.role.host') : p.role === 'observer' ? t('room.role.observer') : '', p.muted ? t('room.muted') : '', p.hand ? '✋' : ''].filter(Boolean).join(' · ');
  return (
    <section class="room" data-testid="room-view" data-room={s.id} data-me={client.participant}>
      <header class="room-bar">
        <strong>{s.title}</strong> <span>{t(`room.kind.${s.kind}`)}</span>
        {s.broadcast && <span class="room-flag" data-testid="room-broadcast">{t('room.broadcastOn')}</span>}
        {s.locked && <span class="room-flag">{t('room.lockedOn')}</span>}
        <button onClick={() => setSpeaker(!speaker)}>{speaker ? t('room.gridView') : t('room.speakerView')}</button>
        {me && me.role !== 'observer' && me.admitted && (
          <button onClick={() => { (client.sharing ? client.stopSharing() : client.share()).catch((err: unknown) => setNotice(say(err))); }} data-testid="room-share">{client.sharing ? t('room.stopShare') : t('room.share')}</button>
        )}
        {me && <button onClick={() => act('POST', `/participants/${me.id}/hand`, { raised: !me.hand })} data-testid="room-hand">{me.hand ? t('room.lowerHand') : t('room.raiseHand')}</button>}
        {host && (
          <>
            <button onClick={() => act('POST', '/lock', { locked: !s.locked })} data-testid="room-lock">{s.locked ? t('room.unlock') : t('room.lock')}</button>
            <button onClick={() => act('POST', '/broadcast', { on: !s.broadcast })} data-testid="room-broadcast-toggle">{s.broadcast ? t('room.broadcastOff') : t('room.broadcast')}</button>
            <button onClick={() => {
              client.act('POST', `/api/rooms/${s.id}/invites`, { name: t('room.guest'), role: 'party', minutes: 60 }).then((r) => setLink(new URL((r as { url: string }).url, location.href).toString()), (err: unknown) => setNotice(say(err)));
            }} data-testid="room-invite">{t('room.invite')}</button>
            <button onClick={() => act('POST', '/recording', { on: !s.recording })} data-testid="room-record">{s.recording ? t('room.recordStop') : t('room.recordStart')}</button>
            <button onClick={() => { if (window.confirm(t('room.endConfirm'))) act('POST', '/end'); }}>{t('room.end')}</button>
          </>
        )}
        <button onClick={() => { client.close(); onLeave(); }} data-testid="room-leave">{t('room.leave')}</button>
      </header>
      {s.recording && <div class="room-recording" role="status" data-testid="room-recording">● {t('room.recordingNotice', { time: new Date(s.recording.since).toLocaleTimeString() })}</div>}
      {notice && <div class="room-notice" data-testid="room-notice">{notice}</div>}
      {link && <div class="room-link" data-testid="room-invite-link">{t('room.inviteOnce')} {link}</div>}
      {me && !me.admitted && <p class="room-waiting" data-testid="room-waiting">{t('room.waitingRoom')}</p>}
      {(client.sharing || s.participants.some((p) => p.sharing && p.id !== client.participant)) && (
        <div class="room-screens">
          {client.sharing && <Video stream={client.sharing} muted label={`🖥 ${t('room.yourScreen')}`} testid="room-own-screen" />}
          {s.participants.filter((p) => p.sharing && p.id !== client.participant).map((p) => <Video key={p.id} stream={remote(`s:${p.id}`)} muted label={`🖥 ${t('room.screenOf', { name: p.name })}`} testid="room-screen" />)}
        </div>
      )}
      <div class={`room-grid ${speaker ? 'speaker' : ''}`}>
        {me?.role !== 'observer' && <Video stream={client.local} muted label={`${me?.name ?? ''} (${t('room.you')})`} testid="room-self" />}
        {others.map((p) => (
          <div key={p.id} class="room-cell">
            <Video stream={remote(`p:${p.id}`)} muted={false} label={`${p.name} ${badge(p)}`} testid="room-remote" />
            {host && (
              <span class="room-controls">
                <button onClick={() => act('POST', `/participants/${p.id}/mute`, { muted: !p.muted })}>{p.muted ? t('room.unmute') : t('room.mute')}</button>
                <button onClick={() => act('DELETE', `/participants/${p.id}`)}>{t('room.remove')}</button>
              </span>
            )}
          </div>
        ))}
        {s.cameras.map((c) => <Video key={c.camera} stream={remote(`c:${c.camera}`)} muted label={`📹 ${c.name} (${c.by})`} testid="room-camera" />)}
      </div>
      {s.case && me && <CasePanel client={client} room={s.id} me={me} host={host} summary={s.case} onError={(err) => setNotice(say(err))} />}
      {host && s.participants.some((p) => !p.admitted) && (
        <ul class="room-waiting-list">
          {s.participants.filter((p) => !p.admitted).map((p) => (
            <li key={p.id}>{p.name} <button onClick={() => act('POST', `/participants/${p.id}/admit`)} data-testid="room-admit">{t('room.admit')}</button></li>
          ))}
        </ul>
      )}
    </section>
  );
}
