// The live mini-map of a wall (回显): its screens as they stand in the room, each with its tiles and the roaming
// windows over them. The selected screen plays small live pictures; the others show what is on them by name. Cameras
// are dropped from the tree onto a tile or window, tiles dragged onto each other swap, windows are dragged and
// resized; each action is a command with the version the operator sees.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CommandT, PictureT, TargetT, WallT } from '../../api/client.js';
import { TilePlayer, type TileView } from '../tile/tile-player.js';
import { dropped } from '../grid/drag.js';
import { t } from '../../i18n/i18n.js';
import './wall.css';

/** PICTURE_DRAG carries the target of a picture dragged onto another (a swap). */
const PICTURE_DRAG = 'application/x-seg-wall-target';

/** sameTarget compares two targets. */
export function sameTarget(a: TargetT | null | undefined, b: TargetT | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** MiniVideo plays a camera's sub stream small, for the selected screen's pictures. */
function MiniVideo({ camera }: { camera: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [view, setView] = useState<TileView>({ status: 'connecting', message: null });
  useEffect(() => {
    const p = new TilePlayer(video.current!, camera, 'sub', { onView: setView, onSessionEnded: () => undefined });
    p.start();
    return () => p.dispose();
  }, [camera]);
  return <video ref={video} muted autoplay playsInline class="mini-video" data-status={view.status} data-testid="mini-video" />;
}

/** Picture is one tile or window of the mini-map. */
function Picture({ p, live, selected, onSelect, onDrop, onSwap }: {
  p: PictureT; live: boolean; selected: boolean;
  onSelect: (t: TargetT, add: boolean) => void; onDrop: (t: TargetT, camera: string) => void; onSwap: (a: TargetT, b: TargetT) => void;
}) {
  const [over, setOver] = useState(false);
  const r = p.rect;
  const cls = ['mini-pic', p.status, selected ? 'selected' : '', p.alarm !== undefined ? 'alarm' : '', over ? 'over' : '', p.online === 'offline' ? 'offline' : ''].join(' ');
  return (
    <div class={cls} data-testid="mini-pic" data-key={p.key} data-camera={p.label?.camera ?? ''} data-profile={p.profile}
      style={{ left: `${r.x * 100}%`, top: `${r.y * 100}%`, width: `${r.w * 100}%`, height: `${r.h * 100}%`, zIndex: p.z, display: p.hidden ? 'none' : undefined }}
      draggable={p.status === 'ok'}
      onDragStart={(e) => e.dataTransfer?.setData(PICTURE_DRAG, JSON.stringify(p.target))}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        e.stopPropagation();
        setOver(false);
        const from = e.dataTransfer?.getData(PICTURE_DRAG);
        if (from) {
          try { onSwap(JSON.parse(from) as TargetT, p.target); } catch { /* not ours */ }
          return;
        }
        const d = dropped(e);
        if (d && 'camera' in d) onDrop(p.target, d.camera.id);
      }}
      onClick={(e) => { e.stopPropagation(); onSelect(p.target, e.ctrlKey || e.shiftKey || e.metaKey); }}
      title={p.label ? `${p.label.name} · ${p.label.unitName}` : ''}>
      {live && p.status === 'ok' && p.label && <MiniVideo camera={p.label.camera} />}
      <span class="mini-label">
        {p.alarm !== undefined && <b>{t('wall.alarmBadge')} </b>}
        {p.status === 'denied' ? t('display.denied') : p.label?.name ?? ''}
        {p.tour !== undefined && <i> · {t('wall.touring')}</i>}
        {p.profile === 'main' && p.status === 'ok' && <i> · {t('profile.main')}</i>}
      </span>
    </div>
  );
}

/** MiniMap draws a wall. */
export function MiniMap({ wall, screen, selected, onScreen, onSelect, onCommand }: {
  wall: WallT; screen: number; selected: TargetT[];
  onScreen: (n: number) => void; onSelect: (t: TargetT, add: boolean) => void;
  onCommand: (c: CommandT) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  /** moving is a window being dragged or resized: its rectangle as shown until the command is sent. */
  const [moving, setMoving] = useState<{ id: number; x: number; y: number; w: number; h: number } | null>(null);
  const isSel = (tg: TargetT) => selected.some((s) => sameTarget(s, tg));
  const drop = (target: TargetT, camera: string) => onCommand({ op: 'assign', target, camera });
  const swap = (a: TargetT, b: TargetT) => { if (!sameTarget(a, b)) onCommand({ op: 'swap', a, b }); };

  const drag = (e: PointerEvent, win: WallT['windows'][number], mode: 'move' | 'resize') => {
    e.preventDefault();
    e.stopPropagation();
    const rect = box.current!.getBoundingClientRect();
    const unitX = rect.width / wall.cols;
    const unitY = rect.height / wall.rows;
    const start = { px: e.clientX, py: e.clientY, ...win };
    let last = { id: win.id, x: win.x, y: win.y, w: win.w, h: win.h };
    const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
    const onMove = (ev: PointerEvent) => {
      const dx = (ev.clientX - start.px) / unitX;
      const dy = (ev.clientY - start.py) / unitY;
      if (mode === 'move') {
        last = { ...last, x: clamp(start.x + dx, 0, wall.cols - start.w), y: clamp(start.y + dy, 0, wall.rows - start.h) };
      } else {
        last = { ...last, w: clamp(start.w + dx, 0.1, wall.cols - start.x), h: clamp(start.h + dy, 0.1, wall.rows - start.y) };
      }
      setMoving(last);
    };
    const onUp = () => {
      window.removeEventListener('pointermove', onMove);
      window.removeEventListener('pointerup', onUp);
      setMoving(null);
      const round = (v: number) => Math.round(v * 1000) / 1000;
      if (last.x !== win.x || last.y !== win.y || last.w !== win.w || last.h !== win.h) {
        onCommand({ op: 'window.move', window: win.id, x: round(last.x), y: round(last.y), w: round(last.w), h: round(last.h) });
      }
    };
    window.addEventListener('pointermove', onMove);
    window.addEventListener('pointerup', onUp);
  };

  return (
    <div class="mini-map" ref={box} data-testid="mini-map" data-version={wall.version}
      style={{ gridTemplateColumns: `repeat(${wall.cols}, 1fr)`, aspectRatio: `${wall.cols * 16} / ${wall.rows * 9}` }}>
      {wall.screens.map((s) => (
        <div key={s.index} class={`mini-screen ${s.index === screen ? 'current' : ''}`} data-testid="mini-screen" data-screen={s.index} data-layout={s.layoutName}
          onClick={() => onScreen(s.index)}>
          <span class="mini-screen-no">{s.index + 1}{s.kind === 'decoder' ? ` · ${t('wall.decoder')}` : ''}</span>
          {s.pictures.map((p) => (
            <Picture key={p.key} p={p} live={s.index === screen} selected={isSel(p.target)} onSelect={onSelect} onDrop={drop} onSwap={swap} />
          ))}
        </div>
      ))}
      {wall.windows.map((w) => {
        const r = moving?.id === w.id ? moving : w;
        const p = { ...w.picture, rect: { x: r.x / wall.cols, y: r.y / wall.rows, w: r.w / wall.cols, h: r.h / wall.rows } };
        return (
          <div key={w.id} class="mini-window" data-testid="mini-window" data-window={w.id}
            style={{ left: `${p.rect.x * 100}%`, top: `${p.rect.y * 100}%`, width: `${p.rect.w * 100}%`, height: `${p.rect.h * 100}%`, zIndex: 10 + w.z }}
            onPointerDown={(e) => { if ((e.target as HTMLElement).dataset.handle) return; drag(e, w, 'move'); }}>
            <Picture p={{ ...p, rect: { x: 0, y: 0, w: 1, h: 1 }, z: 0 }} live={Math.floor(w.y) * wall.cols + Math.floor(w.x) === screen} selected={isSel(p.target)} onSelect={onSelect} onDrop={drop} onSwap={swap} />
            <button class="mini-window-close" onPointerDown={(e) => e.stopPropagation()} onClick={(e) => { e.stopPropagation(); onCommand({ op: 'window.close', window: w.id }); }} title={t('wall.closeWindow')} data-testid="window-close">✕</button>
            <span class="mini-window-resize" data-handle="resize" data-testid="window-resize" onPointerDown={(e) => drag(e, w, 'resize')} />
          </div>
        );
      })}
    </div>
  );
}
