// The video wall page (电视墙): choose a wall, see all its screens live on the mini-map, put cameras on it from the
// tree, change layouts, open and move windows, recall and schedule presets, run tours, pop and acknowledge alarms;
// administrators make walls and issue their screens' display links. Every operator driving the wall sees the same
// state, pushed over a WebSocket; a command made against an older state is refused and said.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type CommandT, type DisplayT, type PresetT, type ScheduleT, type TargetT, type WallSummaryT, type WallT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { MiniMap, sameTarget } from '../components/wall/mini-map.js';
import { mergedLayout } from '../components/wall/merge.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { dropped } from '../components/grid/drag.js';
import { dateTime, errorText, t } from '../i18n/i18n.js';

const LAYOUTS = [1, 4, 6, 8, 9, 16] as const;
const DAYS = [0, 1, 2, 3, 4, 5, 6];

/** WallPage lists the walls of the user's part of the tree and drives the chosen one. */
export function WallPage() {
  const state = useAppState();
  const admin = state.user.value!.roles.includes('admin');
  const [walls, setWalls] = useState<WallSummaryT[]>([]);
  const [chosen, setChosen] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [making, setMaking] = useState(false);
  const [form, setForm] = useState({ name: '', unit: '', rows: 2, cols: 2, split: 4 });
  const load = () => api.walls().then((r) => {
    setWalls(r.walls);
    setChosen((c) => (c !== null && r.walls.some((w) => w.id === c) ? c : r.walls[0]?.id ?? null));
  }, setError);
  useEffect(() => { void load(); }, []);

  return (
    <section class="wall-page" data-testid="wall-page">
      <div class="wall-bar">
        <label>{t('wall.choose')}{' '}
          <select value={chosen ?? ''} onChange={(e) => setChosen(Number((e.target as HTMLSelectElement).value))} data-testid="wall-select">
            {walls.map((w) => <option key={w.id} value={w.id}>{w.name} · {w.unitName} ({w.rows}×{w.cols})</option>)}
          </select>
        </label>
        {walls.length === 0 && <span>{t('wall.none')}</span>}
        {admin && <button onClick={() => setMaking(!making)} data-testid="wall-new">{t('wall.new')}</button>}
        {admin && chosen !== null && (
          <button onClick={() => {
            const w = walls.find((x) => x.id === chosen);
            if (w && window.confirm(t('wall.deleteConfirm', { name: w.name }))) api.deleteWall(w.id).then(() => { setChosen(null); void load(); }, setError);
          }} data-testid="wall-delete">{t('common.delete')}</button>
        )}
        {error !== null && <span class="wall-notice">{errorText(error)}</span>}
      </div>
      {making && (
        <form class="wall-bar" data-testid="wall-form" onSubmit={(e) => {
          e.preventDefault();
          api.createWall({ name: form.name, unit: form.unit, rows: form.rows, cols: form.cols, split: form.split }).then((w) => {
            setMaking(false);
            setChosen(w.id);
            void load();
          }, setError);
        }}>
          <input placeholder={t('wall.name')} value={form.name} required maxLength={60} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} data-testid="wall-form-name" />
          <UnitPicker value={form.unit} onChange={(code) => setForm({ ...form, unit: code })} testid="wall-form-unit" />
          <label>{t('wall.rows')} <input type="number" min={1} max={8} value={form.rows} onInput={(e) => setForm({ ...form, rows: Number((e.target as HTMLInputElement).value) })} /></label>
          <label>{t('wall.cols')} <input type="number" min={1} max={12} value={form.cols} onInput={(e) => setForm({ ...form, cols: Number((e.target as HTMLInputElement).value) })} /></label>
          <label>{t('wall.split')} <select value={form.split} onChange={(e) => setForm({ ...form, split: Number((e.target as HTMLSelectElement).value) })}>
            {[1, 4, 9, 16].map((n) => <option key={n} value={n}>{t('grid.split', { n })}</option>)}
          </select></label>
          <button type="submit" disabled={!form.unit || !form.name} data-testid="wall-form-submit">{t('common.save')}</button>
        </form>
      )}
      {chosen !== null && <WallView key={chosen} id={chosen} admin={admin} onGone={() => { void load(); }} />}
    </section>
  );
}

/** follow keeps a wall's state as the gateway pushes it; it reconnects after a cut. */
function useWall(id: number, onGone: () => void): WallT | null {
  const [wall, setWall] = useState<WallT | null>(null);
  useEffect(() => {
    let ws: WebSocket | null = null;
    let stopped = false;
    let retry = 0;
    const open = () => {
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/walls/${id}/ws`);
      ws.onmessage = (e) => {
        const msg = JSON.parse(String(e.data)) as { type: string; wall?: WallT };
        if (msg.type === 'wall' && msg.wall) setWall(msg.wall);
      };
      ws.onclose = (e) => {
        if (stopped) return;
        if (e.code === 4404 || e.code === 4403) return onGone();
        retry = window.setTimeout(open, 2000);
      };
    };
    open();
    return () => { stopped = true; window.clearTimeout(retry); ws?.close(); };
  }, [id]);
  return wall;
}

function WallView({ id, admin, onGone }: { id: number; admin: boolean; onGone: () => void }) {
  const wall = useWall(id, onGone);
  const [screen, setScreen] = useState(0);
  const [selected, setSelected] = useState<TargetT[]>([]);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    if (!notice) return;
    const timer = window.setTimeout(() => setNotice(''), 6000);
    return () => window.clearTimeout(timer);
  }, [notice]);
  if (!wall) return <p>{t('common.loading')}</p>;
  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.details?.reason === 'wall-stale') setNotice(t('wall.stale'));
    else setNotice(errorText(err));
  };
  const send = (c: CommandT) => { api.wallCommand(id, wall.version, c).then(() => undefined, fail); };
  const select = (tg: TargetT, add: boolean) => {
    if ('screen' in tg) setScreen(tg.screen);
    setSelected((s) => (add ? (s.some((x) => sameTarget(x, tg)) ? s.filter((x) => !sameTarget(x, tg)) : [...s, tg]) : [tg]));
  };
  const s = wall.screens[screen] ?? wall.screens[0]!;
  const one = selected.length === 1 ? selected[0]! : null;
  const pictureOf = (tg: TargetT) => ('window' in tg ? wall.windows.find((w) => w.id === tg.window)?.picture : wall.screens[tg.screen]?.pictures[tg.tile]);
  const onePic = one ? pictureOf(one) : undefined;
  const sx = s.index % wall.cols;
  const sy = Math.floor(s.index / wall.cols);
  return (
    <div class="wall-body" data-testid="wall-view" data-wall={wall.id} data-version={wall.version}>
      <div class="wall-main">
        <div class="wall-bar">
          <strong>{wall.name}</strong>
          <span>{t('wall.screenNo', { n: s.index + 1 })}</span>
          {LAYOUTS.map((n) => (
            <button key={n} class={s.layoutName === String(n) ? 'active' : ''} onClick={() => send({ op: 'layout', screen: s.index, layout: { split: n } })} data-testid={`wall-layout-${n}`} title={t('grid.split', { n })}>{n}</button>
          ))}
          {(() => {
            const mine = selected.filter((x): x is { screen: number; tile: number } => 'screen' in x && x.screen === s.index).map((x) => x.tile);
            const merged = mergedLayout(s.pictures, mine);
            return (
              <button disabled={!merged} onClick={() => { if (merged) { send({ op: 'layout', screen: s.index, layout: merged }); setSelected([]); } }} data-testid="wall-merge" title={t('wall.mergeHint')}>
                {t('wall.merge')}
              </button>
            );
          })()}
          <button disabled={!onePic?.label} onClick={() => one && send({ op: 'clear', target: one })} data-testid="wall-clear">{t('common.clear')}</button>
          <button disabled={!one || 'window' in one} onClick={() => one && 'screen' in one && send({ op: 'maximize', screen: one.screen, tile: s.maximized === one.tile ? null : one.tile })} data-testid="wall-maximize">
            {one && 'screen' in one && s.maximized === one.tile ? t('wall.restore') : t('wall.maximize')}
          </button>
          <button onClick={() => send({ op: 'window.open', x: sx + 0.25, y: sy + 0.25, w: 0.5, h: 0.5, ...(onePic?.label ? { camera: onePic.label.camera } : {}) })} data-testid="wall-open-window">{t('wall.openWindow')}</button>
          {one && 'window' in one && <button onClick={() => send({ op: 'window.raise', window: one.window })} data-testid="wall-raise">{t('wall.raise')}</button>}
          <select value={onePic?.choice ?? 'auto'} disabled={!onePic?.label} data-testid="wall-profile"
            onChange={(e) => one && onePic?.label && send({ op: 'assign', target: one, camera: onePic.label.camera, profile: (e.target as HTMLSelectElement).value as 'auto' | 'main' | 'sub' })}>
            <option value="auto">{t('wall.profileAuto')}</option><option value="main">{t('profile.main')}</option><option value="sub">{t('profile.sub')}</option>
          </select>
          {admin && <button onClick={() => send({ op: 'screen.kind', screen: s.index, kind: s.kind === 'decoder' ? 'browser' : 'decoder' })} data-testid="wall-kind">{s.kind === 'decoder' ? t('wall.toBrowser') : t('wall.toDecoder')}</button>}
          <span title={t('wall.versionHint')} data-testid="wall-version">v{wall.version}</span>
        </div>
        {notice && <div class="wall-notice" data-testid="wall-notice">{notice}</div>}
        <MiniMap wall={wall} screen={s.index} selected={selected} onScreen={(n) => setScreen(n)} onSelect={select} onCommand={send} />
        <p class="hint">{t('wall.hint')}</p>
      </div>
      <div class="wall-side">
        <Alarms wall={wall} selected={one} admin={admin} selectedAll={selected} fail={fail} />
        <Presets wall={wall} fail={fail} />
        <Tours wall={wall} selected={selected} fail={fail} />
        {admin && <Displays wall={wall} fail={fail} />}
      </div>
    </div>
  );
}

function Alarms({ wall, selected, selectedAll, admin, fail }: { wall: WallT; selected: TargetT | null; selectedAll: TargetT[]; admin: boolean; fail: (e: unknown) => void }) {
  const [over, setOver] = useState(false);
  const [note, setNote] = useState('');
  return (
    <section data-testid="wall-alarms">
      <h4>{t('wall.alarms')} ({wall.alarms.length})</h4>
      <div class={`wall-drop ${over ? 'over' : ''}`} data-testid="wall-alarm-drop"
        onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          const d = dropped(e);
          if (d && 'camera' in d) api.raiseAlarm(wall.id, { camera: d.camera.id, ...(selected ? { target: selected } : {}), ...(note ? { note } : {}) }).then(() => setNote(''), fail);
        }}>
        {selected ? t('wall.alarmDropHere') : t('wall.alarmDrop')}
      </div>
      <input placeholder={t('wall.alarmNote')} value={note} maxLength={500} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      {admin && <button disabled={selectedAll.length === 0} onClick={() => api.changeWall(wall.id, { alarmTargets: selectedAll }).then(() => undefined, fail)} data-testid="wall-alarm-targets">{t('wall.setAlarmTargets', { n: selectedAll.length })}</button>}
      <span class="hint"> {t('wall.alarmTargets', { n: wall.alarmTargets.length })}</span>
      <ul>
        {wall.alarms.map((a) => (
          <li key={a.id} data-testid="wall-alarm" data-state={a.state}>
            <span title={a.note}>{a.state === 'queued' ? t('wall.queued') : t('wall.shown')} · {a.cameraName}{a.note ? ` · ${a.note}` : ''} · {dateTime(a.raisedAt)}</span>
            <button onClick={() => api.ackAlarm(wall.id, a.id).then(() => undefined, fail)} data-testid="wall-alarm-ack">{t('wall.ack')}</button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Presets({ wall, fail }: { wall: WallT; fail: (e: unknown) => void }) {
  const [presets, setPresets] = useState<PresetT[]>([]);
  const [schedules, setSchedules] = useState<ScheduleT[]>([]);
  const [name, setName] = useState('');
  const [plan, setPlan] = useState({ preset: 0, time: '08:00', days: 127 });
  const load = () => {
    api.presets(wall.id).then((r) => setPresets(r.presets), fail);
    api.schedules(wall.id).then((r) => setSchedules(r.schedules), fail);
  };
  useEffect(load, [wall.id]);
  const nameOf = (id: number) => presets.find((p) => p.id === id)?.name ?? String(id);
  return (
    <section data-testid="wall-presets">
      <h4>{t('wall.presets')}</h4>
      <ul>
        {presets.map((p) => (
          <li key={p.id} data-testid="wall-preset">
            <span>{p.name} ({t('wall.cameras', { n: p.cameras })})</span>
            <button onClick={() => api.recallPreset(wall.id, p.id).then((r) => { if (r.skipped > 0) fail(new ApiError(200, { code: 'forbidden', details: { reason: 'wall-preset-skipped', n: r.skipped } })); }, fail)} data-testid="wall-preset-recall">{t('wall.recall')}</button>
            <button onClick={() => api.deletePreset(wall.id, p.id).then(load, fail)}>{t('common.delete')}</button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => { e.preventDefault(); api.savePresetOf(wall.id, name).then(() => { setName(''); load(); }, fail); }}>
        <input placeholder={t('wall.presetName')} value={name} required maxLength={60} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="wall-preset-name" />
        <button type="submit" disabled={!name} data-testid="wall-preset-save">{t('wall.savePreset')}</button>
      </form>
      <h4>{t('wall.schedules')}</h4>
      <ul>
        {schedules.map((s) => (
          <li key={s.id}>
            <span>{String(Math.floor(s.minute / 60)).padStart(2, '0')}:{String(s.minute % 60).padStart(2, '0')} · {nameOf(s.preset)} · {DAYS.filter((d) => s.days & (1 << d)).map((d) => t(`wall.day.${d}`)).join('')}</span>
            <button onClick={() => api.deleteSchedule(wall.id, s.id).then(load, fail)}>{t('common.delete')}</button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => {
        e.preventDefault();
        const [h, m] = plan.time.split(':').map(Number);
        api.addSchedule(wall.id, { preset: plan.preset, minute: (h ?? 0) * 60 + (m ?? 0), days: plan.days }).then(load, fail);
      }}>
        <select value={plan.preset} onChange={(e) => setPlan({ ...plan, preset: Number((e.target as HTMLSelectElement).value) })}>
          <option value={0}>{t('wall.choosePreset')}</option>
          {presets.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
        <input type="time" value={plan.time} onInput={(e) => setPlan({ ...plan, time: (e.target as HTMLInputElement).value })} />
        {DAYS.map((d) => (
          <label key={d}><input type="checkbox" checked={(plan.days & (1 << d)) !== 0} onChange={() => setPlan({ ...plan, days: plan.days ^ (1 << d) })} />{t(`wall.day.${d}`)}</label>
        ))}
        <button type="submit" disabled={!plan.preset || !plan.days}>{t('wall.addSchedule')}</button>
      </form>
    </section>
  );
}

function Tours({ wall, selected, fail }: { wall: WallT; selected: TargetT[]; fail: (e: unknown) => void }) {
  const [form, setForm] = useState({ name: '', unit: '', interval: 15 });
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const control = (tour: number, what: 'start' | 'pause' | 'resume' | 'stop') => api.tourControl(wall.id, tour, what).then(() => undefined, fail);
  return (
    <section data-testid="wall-tours">
      <h4>{t('wall.tours')}</h4>
      <ul>
        {wall.tours.map((tr) => (
          <li key={tr.id} data-testid="wall-tour" data-state={tr.state}>
            <span>{tr.name} · {t(`wall.tourState.${tr.state}`)}{tr.nextAt ? ` · ${t('wall.nextIn', { s: Math.max(0, Math.round((tr.nextAt - now) / 1000)) })}` : ''}</span>
            {tr.state !== 'running' && <button onClick={() => control(tr.id, tr.state === 'paused' ? 'resume' : 'start')} data-testid="wall-tour-start">{tr.state === 'paused' ? t('wall.resume') : t('wall.start')}</button>}
            {tr.state === 'running' && <button onClick={() => control(tr.id, 'pause')} data-testid="wall-tour-pause">{t('wall.pause')}</button>}
            {tr.state !== 'stopped' && <button onClick={() => control(tr.id, 'stop')}>{t('wall.stop')}</button>}
            <button onClick={() => api.deleteTour(wall.id, tr.id).then(() => undefined, fail)}>{t('common.delete')}</button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => {
        e.preventDefault();
        api.createTour(wall.id, { name: form.name, unit: form.unit, targets: selected, intervalSeconds: form.interval }).then(() => setForm({ ...form, name: '' }), fail);
      }}>
        <input placeholder={t('wall.tourName')} value={form.name} required maxLength={60} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} data-testid="wall-tour-name" />
        <UnitPicker value={form.unit} onChange={(code) => setForm({ ...form, unit: code })} testid="wall-tour-unit" />
        <label>{t('wall.interval')} <input type="number" min={5} max={3600} value={form.interval} onInput={(e) => setForm({ ...form, interval: Number((e.target as HTMLInputElement).value) })} data-testid="wall-tour-interval" /></label>
        <button type="submit" disabled={!form.name || !form.unit || selected.length === 0} data-testid="wall-tour-create">{t('wall.createTour', { n: selected.length })}</button>
      </form>
    </section>
  );
}

function Displays({ wall, fail }: { wall: WallT; fail: (e: unknown) => void }) {
  const [displays, setDisplays] = useState<DisplayT[]>([]);
  const [form, setForm] = useState({ screen: 0, name: '' });
  const [link, setLink] = useState('');
  const load = () => api.displays(wall.id).then((r) => setDisplays(r.displays), fail);
  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), 5000);
    return () => window.clearInterval(timer);
  }, [wall.id]);
  return (
    <section data-testid="wall-displays">
      <h4>{t('wall.displays')}</h4>
      <ul>
        {displays.filter((d) => d.revokedAt === null).map((d) => (
          <li key={d.id} data-testid="wall-display">
            <span>{t('wall.screenNo', { n: d.screen + 1 })} · {d.name} · {d.online ? t('health.state.online') : t('health.state.offline')}{d.lastSeenAt ? ` · ${dateTime(d.lastSeenAt)}` : ''}</span>
            <button onClick={() => { if (window.confirm(t('wall.revokeConfirm', { name: d.name }))) api.revokeDisplay(wall.id, d.id).then(load, fail); }}>{t('wall.revoke')}</button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => {
        e.preventDefault();
        api.addDisplay(wall.id, form).then((d) => { setLink(new URL(d.url, location.href).toString()); setForm({ ...form, name: '' }); void load(); }, fail);
      }}>
        <select value={form.screen} onChange={(e) => setForm({ ...form, screen: Number((e.target as HTMLSelectElement).value) })} data-testid="wall-display-screen">
          {wall.screens.map((s) => <option key={s.index} value={s.index}>{t('wall.screenNo', { n: s.index + 1 })}</option>)}
        </select>
        <input placeholder={t('wall.displayName')} value={form.name} required maxLength={60} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} data-testid="wall-display-name" />
        <button type="submit" disabled={!form.name} data-testid="wall-display-issue">{t('wall.issue')}</button>
      </form>
      {link && <><p class="hint">{t('wall.linkOnce')}</p><div class="wall-link" data-testid="wall-display-link">{link}</div></>}
    </section>
  );
}
