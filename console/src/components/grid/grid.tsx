// The live grid as the vendor clients have it: 1/4/6/8/9/16/25 splits, cameras and whole units dragged in, a tile
// maximized by a double-click, full screen for the grid or one tile, keyboard shortcuts, saved views. A split change
// keeps the tiles that stay on screen playing: each tile keeps its element and its player.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useAppState } from '../../state/app-state.js';
import { api, type ViewT } from '../../api/client.js';
import { Tile } from '../tile/tile.js';
import { geometry, SPLITS, type Split } from './layouts.js';
import { dropped } from './drag.js';
import { errorOf, errorText, say, t } from '../../i18n/i18n.js';
import './grid.css';

/** NOTICE_MS is how long a notice stays over the grid. */
const NOTICE_MS = 5000;

/** inField tells a key typed into a form field from a shortcut. */
function inField(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}

/** Grid lays out the tiles, the split switch and the grid's tools. */
export function Grid({ active }: { active: boolean }) {
  const state = useAppState();
  const area = useRef<HTMLElement>(null);
  const [full, setFull] = useState(false);
  const [help, setHelp] = useState(false);
  const [views, setViews] = useState<ViewT[]>([]);
  const [viewsOpen, setViewsOpen] = useState(false);
  const [viewName, setViewName] = useState('');
  const [shareView, setShareView] = useState(false);
  const [viewError, setViewError] = useState<unknown>(null);
  /** ptzKey is the arrow key held on the selected tile (its tile's PTZ panel drives the head). */
  const [ptzKey, setPtzKey] = useState<string | null>(null);
  const n = state.layout.value;
  const g = geometry(n);
  const max = state.maximized.value;
  const notice = state.notice.value;

  useEffect(() => {
    if (!notice) return;
    const timer = window.setTimeout(() => { if (state.notice.value === notice) state.notice.value = null; }, NOTICE_MS);
    return () => window.clearTimeout(timer);
  }, [notice]);

  useEffect(() => {
    const onChange = () => setFull(document.fullscreenElement === area.current);
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  const loadViews = () => api.views().then((r) => setViews(r.views), (err: unknown) => setViewError(err));
  useEffect(() => { if (viewsOpen) void loadViews(); }, [viewsOpen]);

  const toggleFull = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void area.current?.requestFullscreen().catch(() => undefined);
  };

  useEffect(() => {
    if (!active) return;
    const down = (e: KeyboardEvent) => {
      if (inField(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const sel = state.selectedTile.value;
      const k = e.key;
      if (/^[1-7]$/.test(k)) { state.setLayout(SPLITS[Number(k) - 1]!); e.preventDefault(); return; }
      if (k === 'PageDown' || k === 'PageUp') { void state.turnPage(k === 'PageDown' ? 1 : -1); e.preventDefault(); return; }
      if (k === 'Delete' || k === 'Backspace') { state.clear(sel); e.preventDefault(); return; }
      if (k === 'Enter') { if (state.tiles.value[sel]) state.toggleMaximize(sel); e.preventDefault(); return; }
      if (k === 'Escape' && state.maximized.value !== null) { state.maximized.value = null; return; }
      if (k === 'f' || k === 'F') { toggleFull(); e.preventDefault(); return; }
      if (k === '?') { setHelp((h) => !h); e.preventDefault(); return; }
      if (k === 'Tab') { state.selectedTile.value = (sel + (e.shiftKey ? n - 1 : 1)) % n; e.preventDefault(); return; }
      if (['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', '+', '-', '='].includes(k)) {
        if (!e.repeat) setPtzKey(k === '=' ? '+' : k);
        e.preventDefault();
      }
    };
    const up = (e: KeyboardEvent) => {
      if (['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', '+', '-', '='].includes(e.key)) setPtzKey(null);
    };
    const blur = () => setPtzKey(null);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', blur);
    return () => { window.removeEventListener('keydown', down); window.removeEventListener('keyup', up); window.removeEventListener('blur', blur); };
  }, [active, n]);

  const onDrop = (index: number, e: DragEvent) => {
    const d = dropped(e);
    if (!d) return;
    e.preventDefault();
    state.selectedTile.value = index;
    if ('camera' in d) state.place(d.camera, index);
    else if ('unit' in d) void state.fillFrom(d.unit, index).catch((err: unknown) => { state.sessionEnded(err); state.notice.value = { ...errorOf(err), at: Date.now() }; });
    else state.moveTile(d.tile, index);
  };

  const saveView = async (existing?: ViewT) => {
    setViewError(null);
    const name = existing?.name ?? viewName.trim();
    if (!name) return;
    try {
      const v = await api.saveView({ name, layout: n, tiles: state.viewTiles(), shared: existing?.shared ?? shareView }, existing?.id);
      state.notice.value = { key: 'grid.viewSaved', params: { name: v.name }, at: Date.now() };
      setViewName('');
      void loadViews();
    } catch (err) {
      state.sessionEnded(err);
      setViewError(err);
    }
  };
  const deleteView = async (v: ViewT) => {
    try {
      await api.deleteView(v.id);
      state.notice.value = { key: 'grid.viewDeleted', params: { name: v.name }, at: Date.now() };
      void loadViews();
    } catch (err) {
      setViewError(err);
    }
  };

  const src = state.source.value;
  const room = src ? n - src.from : 0;
  return (
    <section class={`grid-area ${active ? '' : 'grid-hidden'}`} ref={area} data-testid="grid-area" aria-hidden={!active}>
      <div class="grid-toolbar">
        {SPLITS.map((l) => (
          <button key={l} class={l === n ? 'active' : ''} onClick={() => state.setLayout(l as Split)} data-testid={`layout-${l}`} title={t('grid.split', { n: l })}>
            <SplitIcon n={l as Split} />
          </button>
        ))}
        {src && room > 0 && (
          <span class="grid-page" data-testid="grid-page">
            <button onClick={() => void state.turnPage(-1)} title="PageUp">‹</button>
            {src.unit.name} · {t('grid.page', { page: src.page + 1, pages: Math.max(1, Math.ceil(src.total / room)) })}
            <button onClick={() => void state.turnPage(1)} title="PageDown" data-testid="grid-next-page">›</button>
          </span>
        )}
        <span class="grid-hint">{t('grid.hint')}</span>
        <span class="grid-tools">
          <button onClick={() => setViewsOpen(!viewsOpen)} class={viewsOpen ? 'active' : ''} data-testid="views-open">{t('grid.views')}</button>
          <button onClick={() => state.clearAll()} data-testid="grid-close-all">{t('grid.closeAll')}</button>
          <button onClick={toggleFull} data-testid="grid-fullscreen">{full ? t('grid.exitFullscreen') : t('grid.fullscreen')}</button>
          <button onClick={() => setHelp(!help)} title={t('grid.shortcuts')} data-testid="grid-help">?</button>
        </span>
      </div>
      {viewsOpen && (
        <div class="grid-views" data-testid="views-panel">
          <p>
            <input value={viewName} maxLength={64} placeholder={t('grid.viewName')} onInput={(e) => setViewName(e.currentTarget.value)} data-testid="view-name" />{' '}
            <label><input type="checkbox" checked={shareView} onChange={() => setShareView(!shareView)} data-testid="view-share" /> {t('grid.shareView')}</label>{' '}
            <button disabled={!viewName.trim()} onClick={() => void saveView()} data-testid="view-save">{t('grid.saveView')}</button>
          </p>
          {viewError !== null && <p class="health-error" role="alert">{errorText(viewError)}</p>}
          {views.length === 0 ? <p class="health-facts">{t('grid.noViews')}</p> : (
            <ul>
              {views.map((v) => (
                <li key={v.id} data-testid="view-row" data-name={v.name}>
                  <button class="link" onClick={() => { state.loadView(v); setViewsOpen(false); }} data-testid="view-load">{v.name}</button>
                  <small> · {t('grid.split', { n: v.layout })} · {v.mine ? t('grid.mine') : t('grid.sharedBy', { user: v.ownerName })}{v.shared && v.mine ? ` · ${t('common.share')}` : ''}</small>
                  {v.mine && <>
                    {' '}<button class="link" onClick={() => void saveView(v)} data-testid="view-overwrite">{t('common.save')}</button>
                    {' '}<button class="link" onClick={() => void deleteView(v)} data-testid="view-delete">{t('common.delete')}</button>
                  </>}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div class="grid" style={{ gridTemplateColumns: `repeat(${g.cols}, 1fr)`, gridTemplateRows: `repeat(${g.rows}, 1fr)` }} data-testid="grid" data-split={n}
        data-maximized={max ?? ''}>
        {state.tiles.value.map((camera, i) => {
          const shown = i < n && (max === null || max === i);
          const p = g.places[i];
          const style: Record<string, string> = !shown || !p ? { display: 'none' } : max === i ? { gridColumn: '1 / -1', gridRow: '1 / -1' } : { gridColumn: `${p.col} / span ${p.colSpan}`, gridRow: `${p.row} / span ${p.rowSpan}` };
          return (
            <Tile key={i} index={i} camera={camera} profile={camera?.profile ?? 'sub'} selected={state.selectedTile.value === i} visible={active && shown} style={style}
              maximized={max === i} ptzKey={state.selectedTile.value === i && active ? ptzKey : null}
              onSelect={() => { state.selectedTile.value = i; }} onClose={() => state.clear(i)} onSessionEnded={(e) => state.sessionEnded(e)}
              onToggleMaximize={() => state.toggleMaximize(i)} onDrop={(e) => onDrop(i, e)} onProfile={(p) => state.setProfile(i, p)}
              flash={notice?.tile === i ? notice.at : undefined}
              debug={state.user.value?.roles.includes('admin') ?? false} />
          );
        })}
      </div>
      {notice && <p class="grid-notice" role="status" data-testid="grid-notice">{say(notice)}</p>}
      {help && (
        <div class="grid-help" data-testid="grid-help-panel" onClick={() => setHelp(false)}>
          <h3>{t('grid.shortcuts')}</h3>
          <ul>{(['split', 'page', 'ptz', 'zoom', 'close', 'max', 'full', 'move', 'help'] as const).map((k) => <li key={k}>{t(`grid.shortcutList.${k}`)}</li>)}</ul>
        </div>
      )}
    </section>
  );
}

/** SplitIcon draws a split as the vendor clients' buttons do. */
function SplitIcon({ n }: { n: Split }) {
  const g = geometry(n);
  const u = 16 / g.cols;
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" class="split-icon">
      {g.places.map((p, i) => <rect key={i} x={(p.col - 1) * u + 0.5} y={(p.row - 1) * u + 0.5} width={p.colSpan * u - 1} height={p.rowSpan * u - 1} rx="0.5" />)}
      <title>{t('grid.split', { n })}</title>
    </svg>
  );
}
