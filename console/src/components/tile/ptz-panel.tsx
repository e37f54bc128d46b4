// PTZ controls over a tile: hold an arrow or a zoom button to move, release to stop; presets to go to and to save.
// Each move carries a short timeout and is repeated while held, so a lost console cannot leave the head turning.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type PtzStateT } from '../../api/client.js';

const MOVE_TIMEOUT_MS = 1000;
const REPEAT_MS = 600;
const SPEED = 0.6;

type Vector = { pan?: number; tilt?: number; zoom?: number };
const BUTTONS: Array<{ label: string; title: string; v: Vector; area: string }> = [
  { label: '▲', title: '上 up', v: { tilt: SPEED }, area: 'up' },
  { label: '◀', title: '左 left', v: { pan: -SPEED }, area: 'left' },
  { label: '▶', title: '右 right', v: { pan: SPEED }, area: 'right' },
  { label: '▼', title: '下 down', v: { tilt: -SPEED }, area: 'down' },
  { label: '＋', title: '放大 zoom in', v: { zoom: SPEED }, area: 'zin' },
  { label: '－', title: '缩小 zoom out', v: { zoom: -SPEED }, area: 'zout' },
];

/** PtzPanel drives the head of one camera. */
export function PtzPanel({ camera, onError }: { camera: string; onError: (err: unknown) => void }) {
  const [state, setState] = useState<PtzStateT | null>(null);
  const [name, setName] = useState('');
  const repeat = useRef<number>();

  const refresh = () => api.ptz(camera).then(setState, onError);
  useEffect(() => {
    void refresh();
    return () => window.clearInterval(repeat.current);
  }, [camera]);

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

  return (
    <div class="ptz" data-testid="ptz-panel" onClick={(e) => e.stopPropagation()}>
      <div class="ptz-pad">
        {BUTTONS.map((b) => (
          <button key={b.area} class={`ptz-${b.area}`} title={b.title} data-testid={`ptz-${b.area}`}
            onPointerDown={(e) => { (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId); start(b.v); }}
            onPointerUp={stop} onPointerCancel={stop} onLostPointerCapture={stop}>{b.label}</button>
        ))}
      </div>
      {state && (
        <p class="ptz-pos" data-testid="ptz-position" data-pan={state.status.pan} data-zoom={state.status.zoom}>
          P {state.status.pan.toFixed(2)} · T {state.status.tilt.toFixed(2)} · Z {state.status.zoom.toFixed(2)}
        </p>
      )}
      <div class="ptz-presets">
        <select data-testid="ptz-presets" onChange={(e) => {
          const token = e.currentTarget.value;
          if (token) api.gotoPreset(camera, token).then(refresh, onError);
          e.currentTarget.value = '';
        }}>
          <option value="">预置位 presets ({state?.presets.length ?? 0})</option>
          {state?.presets.map((p) => <option key={p.token} value={p.token}>{p.name}</option>)}
        </select>
        <input value={name} maxLength={64} placeholder="新预置位名称" onInput={(e) => setName(e.currentTarget.value)} data-testid="ptz-preset-name" />
        <button onClick={() => void save()} disabled={!name.trim()} data-testid="ptz-preset-save">保存</button>
      </div>
    </div>
  );
}

/** ptzError turns a failed call into words for the tile. */
export function ptzError(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}
