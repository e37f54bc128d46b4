// PTZ controls over a tile: hold an arrow or a zoom button to move, release to stop; a speed; presets to go to and to
// save; focus and iris where the camera offers them; the wheel zooms and a click centres where the camera can turn
// by a relative amount. Each move carries a short timeout and is repeated while held, so a lost console cannot leave
// the head turning. The panel is sized by its tile (a 16 split gets a small pad, never one that spills out).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type PtzStateT } from '../../api/client.js';
import { errorOf, t, type Said } from '../../i18n/i18n.js';

const MOVE_TIMEOUT_MS = 1000;
const REPEAT_MS = 600;
/** WHEEL_MS is how long one wheel notch zooms. */
const WHEEL_MS = 350;

type Vector = { pan?: number; tilt?: number; zoom?: number };
const BUTTONS: Array<{ label: string; v: (s: number) => Vector; area: string }> = [
  { label: '▲', v: (s) => ({ tilt: s }), area: 'up' },
  { label: '◀', v: (s) => ({ pan: -s }), area: 'left' },
  { label: '▶', v: (s) => ({ pan: s }), area: 'right' },
  { label: '▼', v: (s) => ({ tilt: -s }), area: 'down' },
  { label: '＋', v: (s) => ({ zoom: s }), area: 'zin' },
  { label: '－', v: (s) => ({ zoom: -s }), area: 'zout' },
];

/**
 * pictureOffset is where a click fell in the picture itself (not the black bars of a letterboxed video), from -1
 * (left, bottom) to 1 (right, top); undefined outside the picture.
 */
export function pictureOffset(video: HTMLVideoElement, clientX: number, clientY: number): { x: number; y: number } | undefined {
  const r = video.getBoundingClientRect();
  const vw = video.videoWidth || r.width;
  const vh = video.videoHeight || r.height;
  const scale = Math.min(r.width / vw, r.height / vh);
  const w = vw * scale;
  const h = vh * scale;
  const left = r.left + (r.width - w) / 2;
  const top = r.top + (r.height - h) / 2;
  const x = ((clientX - left) / w) * 2 - 1;
  const y = 1 - ((clientY - top) / h) * 2;
  return Math.abs(x) <= 1 && Math.abs(y) <= 1 ? { x, y } : undefined;
}

/** PtzPanel drives the head of one camera. */
export function PtzPanel({ camera, video, onError }: { camera: string; video: HTMLVideoElement | null; onError: (err: unknown) => void }) {
  const [state, setState] = useState<PtzStateT | null>(null);
  const [name, setName] = useState('');
  const [speed, setSpeed] = useState(0.6);
  const [centring, setCentring] = useState(false);
  const repeat = useRef<number>();
  const wheelTimer = useRef<number>();

  const refresh = () => api.ptz(camera).then(setState, onError);
  useEffect(() => {
    void refresh();
    return () => window.clearInterval(repeat.current);
  }, [camera]);

  // The wheel over the picture zooms; a click (when centring is on) turns the camera to the place clicked.
  useEffect(() => {
    if (!video) return;
    const tile = video.parentElement!;
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      window.clearTimeout(wheelTimer.current);
      api.ptzMove(camera, { zoom: e.deltaY < 0 ? speed : -speed }, WHEEL_MS).catch(onError);
      wheelTimer.current = window.setTimeout(() => { api.ptzStop(camera).then(refresh, onError); }, WHEEL_MS);
    };
    const click = (e: MouseEvent) => {
      if (!centring || (e.target as HTMLElement).closest('.ptz, .tile-bar')) return;
      const at = pictureOffset(video, e.clientX, e.clientY);
      if (!at) return;
      e.stopPropagation();
      api.ptzCentre(camera, at).then(refresh, onError);
    };
    tile.addEventListener('wheel', wheel, { passive: false });
    tile.addEventListener('click', click, true);
    tile.classList.toggle('tile-centring', centring);
    return () => {
      tile.removeEventListener('wheel', wheel);
      tile.removeEventListener('click', click, true);
      tile.classList.remove('tile-centring');
    };
  }, [video, camera, speed, centring]);

  const start = (v: Vector) => {
    window.clearInterval(repeat.current);
    const send = () => api.ptzMove(camera, v, MOVE_TIMEOUT_MS).catch(onError);
    void send();
    repeat.current = window.setInterval(send, REPEAT_MS);
  };
  const stop = () => {
    if (repeat.current === undefined) return;
    window.clearInterval(repeat.current);
    repeat.current = undefined;
    api.ptzStop(camera).then(refresh, onError);
  };
  /** hold runs an imaging move (focus) while a button is held. */
  const hold = (run: () => Promise<void>) => {
    window.clearInterval(repeat.current);
    void run().catch(onError);
    repeat.current = window.setInterval(() => void run().catch(onError), REPEAT_MS);
  };
  const release = () => {
    if (repeat.current === undefined) return;
    window.clearInterval(repeat.current);
    repeat.current = undefined;
    api.focusStop(camera).catch(onError);
  };
  const save = async () => {
    if (!name.trim()) return;
    try {
      await api.savePreset(camera, name.trim());
      setName('');
      await refresh();
    } catch (err) {
      onError(err);
    }
  };
  const caps = state?.capabilities;

  return (
    <div class="ptz" data-testid="ptz-panel" onClick={(e) => e.stopPropagation()} onDblClick={(e) => e.stopPropagation()}>
      <div class="ptz-pad">
        {BUTTONS.map((b) => (
          <button key={b.area} class={`ptz-${b.area}`} title={t(`ptz.${b.area}`)} data-testid={`ptz-${b.area}`}
            onPointerDown={(e) => { (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId); start(b.v(speed)); }}
            onPointerUp={stop} onPointerCancel={stop} onLostPointerCapture={stop}>{b.label}</button>
        ))}
        {caps?.relative && (
          <button class={`ptz-centre ${centring ? 'ptz-on' : ''}`} title={centring ? t('ptz.clickCentreOn') : t('ptz.clickCentre')} data-testid="ptz-centre"
            aria-pressed={centring} onClick={() => setCentring(!centring)}>⊕</button>
        )}
      </div>
      <label class="ptz-speed" title={t('ptz.speed')}>
        <span>{t('ptz.speed')}</span>
        <input type="range" min="0.1" max="1" step="0.1" value={speed} onInput={(e) => setSpeed(Number(e.currentTarget.value))} data-testid="ptz-speed" />
      </label>
      {(caps?.focus || caps?.iris) && (
        <div class="ptz-extra">
          {caps.focus && <>
            <button title={t('ptz.focusNear')} data-testid="ptz-focus-near" onPointerDown={(e) => { (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId); hold(() => api.focus(camera, -speed, MOVE_TIMEOUT_MS)); }}
              onPointerUp={release} onPointerCancel={release} onLostPointerCapture={release}>{t('ptz.focusNear')}</button>
            <button title={t('ptz.focusFar')} data-testid="ptz-focus-far" onPointerDown={(e) => { (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId); hold(() => api.focus(camera, speed, MOVE_TIMEOUT_MS)); }}
              onPointerUp={release} onPointerCancel={release} onLostPointerCapture={release}>{t('ptz.focusFar')}</button>
          </>}
          {caps.iris && <>
            <button title={t('ptz.irisOpen')} data-testid="ptz-iris-open" onClick={() => { api.iris(camera, 1).then(refresh, onError); }}>{t('ptz.irisOpen')}</button>
            <button title={t('ptz.irisClose')} data-testid="ptz-iris-close" onClick={() => { api.iris(camera, -1).then(refresh, onError); }}>{t('ptz.irisClose')}</button>
          </>}
        </div>
      )}
      {state && (
        <p class="ptz-pos" data-testid="ptz-position" data-pan={state.status.pan} data-tilt={state.status.tilt} data-zoom={state.status.zoom}
          {...(state.imaging ? { 'data-focus': state.imaging.focus ?? '', 'data-iris': state.imaging.iris ?? '' } : {})}>
          P {state.status.pan.toFixed(2)} · T {state.status.tilt.toFixed(2)} · Z {state.status.zoom.toFixed(2)}
        </p>
      )}
      <div class="ptz-presets">
        <select data-testid="ptz-presets" onChange={(e) => {
          const token = e.currentTarget.value;
          if (token) api.gotoPreset(camera, token).then(refresh, onError);
          e.currentTarget.value = '';
        }}>
          <option value="">{t('ptz.presets', { n: state?.presets.length ?? 0 })}</option>
          {state?.presets.map((p) => <option key={p.token} value={p.token}>{p.name}</option>)}
        </select>
        <input value={name} maxLength={64} placeholder={t('ptz.newPreset')} onInput={(e) => setName(e.currentTarget.value)} data-testid="ptz-preset-name" />
        <button onClick={() => void save()} disabled={!name.trim()} data-testid="ptz-preset-save">{t('common.save')}</button>
      </div>
    </div>
  );
}

/** ptzError turns a failed call into words for the tile. */
export function ptzError(err: unknown): Said {
  return errorOf(err);
}
