// The governance tree of the user's reach, coloured by online rate: children load when a unit opens and refresh
// while it stays open. Search pages through every match (units and cameras, with their path and state, filtered by
// state and kind) and jumps to a camera's place in the tree. Cameras and units are dragged from here onto the grid.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Children, type SearchResult, type TreeRoot } from '../../api/client.js';
import { useAppState, type TileCamera } from '../../state/app-state.js';
import { Rate } from '../health/rate.js';
import { errorText, num, t } from '../../i18n/i18n.js';
import { CAMERA_DRAG, UNIT_DRAG } from '../grid/drag.js';
import './tree.css';

/** REFRESH_MS is how often open units reload their children's online rates. */
const REFRESH_MS = 30_000;
/** PAGE is how many cameras one page of search results holds. */
const PAGE = 100;
/** KINDS are the camera kinds the filter offers. */
const KINDS = ['junction', 'square', 'road', 'entrance', 'school', 'market', 'river', 'other'];

type UnitNode = TreeRoot['root'];

function dragCamera(e: DragEvent, c: TileCamera) {
  e.dataTransfer?.setData(CAMERA_DRAG, JSON.stringify(c));
  e.dataTransfer?.setData('text/plain', c.name);
  if (e.dataTransfer) e.dataTransfer.effectAllowed = 'copy';
}

function CameraRow({ c, depth, granted }: { c: { id: string; name: string; health?: string }; depth: number; granted?: boolean }) {
  const state = useAppState();
  const ref = useRef<HTMLButtonElement>(null);
  const revealed = state.reveal.value?.camera === c.id;
  useEffect(() => {
    if (revealed) ref.current?.scrollIntoView({ block: 'center' });
  }, [revealed]);
  const health = c.health ?? 'unknown';
  return (
    <li>
      <button ref={ref} class={`tree-camera ${revealed ? 'tree-revealed' : ''}`} style={{ paddingLeft: `${depth * 0.9 + 0.8}rem` }}
        draggable onDragStart={(e) => dragCamera(e, { id: c.id, name: c.name })}
        onClick={() => state.choose({ id: c.id, name: c.name })} onDblClick={() => state.show({ id: c.id, name: c.name })}
        data-testid="tree-camera" data-camera={c.id} data-health={health} {...(granted ? { 'data-granted': 'true' } : {})}
        title={`${c.id} · ${t(`health.state.${health}`)}`}>
        <span class={`dot dot-${health}`} /> {c.name}
      </button>
    </li>
  );
}

function UnitRow({ unit, depth, initiallyOpen }: { unit: UnitNode; depth: number; initiallyOpen?: boolean }) {
  const state = useAppState();
  const [open, setOpen] = useState(!!initiallyOpen);
  const [children, setChildren] = useState<Children | null>(null);
  const [error, setError] = useState<unknown>(null);
  const onPath = state.reveal.value?.path.includes(unit.code) ?? false;
  useEffect(() => { if (onPath) setOpen(true); }, [onPath, state.reveal.value]);

  useEffect(() => {
    if (!open) return;
    const load = () => api.children(unit.code).then(setChildren, (err: unknown) => {
      state.sessionEnded(err);
      setError(err);
    });
    if (!children) void load();
    const timer = window.setInterval(load, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [open]);

  return (
    <li>
      <button class="tree-unit" style={{ paddingLeft: `${depth * 0.9 + 0.3}rem` }} onClick={() => setOpen(!open)}
        draggable onDragStart={(e) => {
          e.dataTransfer?.setData(UNIT_DRAG, JSON.stringify({ code: unit.code, name: unit.name }));
          e.dataTransfer?.setData('text/plain', unit.name);
          if (e.dataTransfer) e.dataTransfer.effectAllowed = 'copy';
        }}
        data-testid="tree-unit" data-code={unit.code} aria-expanded={open}>
        <span class="tree-caret">{unit.childCount > 0 || unit.cameraCount > 0 ? (open ? '▾' : '▸') : '·'}</span>
        <span class="tree-name">{unit.name}</span>
        <span class="tree-level">{t(`level.${unit.level}`)}</span>
        <span class="tree-count" data-testid="unit-camera-count" data-count={unit.cameraCount}>{unit.cameraCount}</span>
        <Rate health={unit.health} />
      </button>
      {open && (
        <ul>
          {error !== null && <li class="tree-error">{errorText(error)}</li>}
          {!children && error === null && <li class="tree-loading" style={{ paddingLeft: `${depth + 1.5}rem` }}>{t('common.loading')}</li>}
          {children?.units.map((u) => <UnitRow key={u.code} unit={u} depth={depth + 1} />)}
          {children?.cameras.map((c) => <CameraRow key={c.id} c={c} depth={depth + 1} />)}
        </ul>
      )}
    </li>
  );
}

type Filters = { state: '' | 'online' | 'offline' | 'unknown'; kind: string };

/** Tree shows the user's part of the governance tree, with search. */
export function Tree() {
  const state = useAppState();
  const [root, setRoot] = useState<TreeRoot | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [query, setQuery] = useState('');
  const [filters, setFilters] = useState<Filters>({ state: '', kind: '' });
  const [offset, setOffset] = useState(0);
  const [results, setResults] = useState<SearchResult | null>(null);
  const timer = useRef<number>();
  const asked = useRef(0);

  useEffect(() => {
    const load = () => api.tree().then(setRoot, (err: unknown) => {
      state.sessionEnded(err);
      setError(err);
    });
    void load();
    const timer = window.setInterval(load, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);

  const run = (q: string, f: Filters, from: number, wait: number) => {
    window.clearTimeout(timer.current);
    if (!q.trim() && !f.state && !f.kind) { setResults(null); return; }
    const n = ++asked.current;
    timer.current = window.setTimeout(() => {
      api.search(q.trim(), { limit: PAGE, offset: from, ...(f.state ? { state: f.state } : {}), ...(f.kind ? { kind: f.kind } : {}) }).then((r) => {
        if (n === asked.current) { setResults(r); setError(null); }
      }, (err: unknown) => setError(err));
    }, wait);
  };
  const onSearch = (q: string) => { setQuery(q); setOffset(0); run(q, filters, 0, 150); };
  const onFilter = (f: Filters) => { setFilters(f); setOffset(0); run(query, f, 0, 0); };
  const page = (to: number) => { setOffset(to); run(query, filters, to, 0); };
  const reveal = (c: SearchResult['cameras'][number]) => {
    state.reveal.value = { path: c.path.map((p) => p.code), camera: c.id };
    setQuery('');
    setFilters({ state: '', kind: '' });
    setResults(null);
  };

  const total = results?.totalCameras ?? 0;
  return (
    <aside class="tree" data-testid="tree">
      <input class="tree-search" type="search" placeholder={t('tree.search')} value={query} onInput={(e) => onSearch(e.currentTarget.value)} data-testid="tree-search" />
      <div class="tree-filters">
        <select value={filters.state} onChange={(e) => onFilter({ ...filters, state: e.currentTarget.value as Filters['state'] })} data-testid="tree-filter-state">
          <option value="">{t('tree.anyState')}</option>
          {(['online', 'offline', 'unknown'] as const).map((s) => <option key={s} value={s}>{t(`health.state.${s}`)}</option>)}
        </select>
        <select value={filters.kind} onChange={(e) => onFilter({ ...filters, kind: e.currentTarget.value })} data-testid="tree-filter-kind">
          <option value="">{t('tree.anyKind')}</option>
          {KINDS.map((k) => <option key={k} value={k}>{t(`kind.${k}`)}</option>)}
        </select>
      </div>
      {error !== null && <p class="tree-error" role="alert">{errorText(error)}</p>}
      {root && root.path.length > 0 && <p class="tree-path">{root.path.map((p) => p.name).join(' › ')}</p>}
      {results ? (
        <ul class="tree-results" data-testid="search-results" data-total={total}>
          <li class="tree-hint" data-testid="search-summary">{t('tree.found', { units: num(results.totalUnits), cameras: num(total) })}</li>
          {results.units.map((u) => (
            <li key={u.code} class="tree-result-unit">
              <ul><UnitRow unit={u} depth={0} /></ul>
              {u.path.length > 0 && <p class="tree-result-path">{u.path.map((p) => p.name).join(' › ')}</p>}
            </li>
          ))}
          {results.cameras.map((c) => (
            <li key={c.id} class="tree-result">
              <button class="tree-camera" draggable onDragStart={(e) => dragCamera(e, { id: c.id, name: c.name })}
                onClick={() => state.choose({ id: c.id, name: c.name })} onDblClick={() => state.show({ id: c.id, name: c.name })}
                data-testid="tree-camera" data-camera={c.id} data-health={c.health ?? 'unknown'}>
                <span class={`dot dot-${c.health ?? 'unknown'}`} title={t(`health.state.${c.health ?? 'unknown'}`)} />
                <span class="tree-name">{c.name}</span>
                <span class="tree-level">{t(`kind.${c.kind}`, { defaultValue: c.kind })}</span>
              </button>
              <p class="tree-result-path">
                {c.granted ? t('tree.grantedPath') : c.path.map((p) => p.name).join(' › ')}
                {!c.granted && <button class="link" onClick={() => reveal(c)} data-testid="search-reveal" data-camera={c.id}>{t('tree.reveal')}</button>}
              </p>
            </li>
          ))}
          {total > PAGE && (
            <li class="tree-pager" data-testid="search-pager">
              <button disabled={offset === 0} onClick={() => page(Math.max(0, offset - PAGE))} data-testid="search-prev">{t('common.prev')}</button>
              <span>{num(offset + 1)}–{num(Math.min(offset + PAGE, total))} / {num(total)}</span>
              <button disabled={offset + PAGE >= total} onClick={() => page(offset + PAGE)} data-testid="search-next">{t('common.next')}</button>
            </li>
          )}
        </ul>
      ) : (
        root && (
          <ul class="tree-root" data-testid="tree-root">
            {root.granted.length > 0 && (
              <li data-testid="tree-granted">
                <p class="tree-hint">{t('tree.granted', { n: root.granted.length })}</p>
                <ul>{root.granted.map((c) => <CameraRow key={c.id} c={c} depth={0} granted />)}</ul>
              </li>
            )}
            <UnitRow unit={root.root} depth={0} initiallyOpen />
          </ul>
        )
      )}
    </aside>
  );
}
