// The governance tree of the user's reach, coloured by online rate: children load when a unit opens and refresh
// while it stays open; search asks the gateway.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Children, type SearchResult, type TreeRoot } from '../../api/client.js';
import { useAppState } from '../../state/app-state.js';
import { Rate } from '../health/rate.js';
import './tree.css';

/** REFRESH_MS is how often open units reload their children's online rates. */
const REFRESH_MS = 30_000;

type UnitNode = TreeRoot['root'];
const HEALTH_LABEL: Record<string, string> = { online: '在线', offline: '离线', unknown: '未检测' };
const LEVEL_LABEL: Record<string, string> = { province: '省', city: '市', county: '县区', township: '乡镇', village: '村社', grid: '网格' };

function UnitRow({ unit, depth, initiallyOpen }: { unit: UnitNode; depth: number; initiallyOpen?: boolean }) {
  const state = useAppState();
  const [open, setOpen] = useState(!!initiallyOpen);
  const [children, setChildren] = useState<Children | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    const load = () => api.children(unit.code).then(setChildren, (err: unknown) => {
      state.sessionEnded(err);
      setError(err instanceof ApiError ? err.message : String(err));
    });
    if (!children) void load();
    const timer = window.setInterval(load, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [open]);

  return (
    <li>
      <button class="tree-unit" style={{ paddingLeft: `${depth * 0.9 + 0.3}rem` }} onClick={() => setOpen(!open)}
        data-testid="tree-unit" data-code={unit.code} aria-expanded={open}>
        <span class="tree-caret">{unit.childCount > 0 || unit.cameraCount > 0 ? (open ? '▾' : '▸') : '·'}</span>
        <span class="tree-name">{unit.name}</span>
        <span class="tree-level">{LEVEL_LABEL[unit.level] ?? unit.level}</span>
        <span class="tree-count" data-testid="unit-camera-count">{unit.cameraCount}</span>
        <Rate health={unit.health} />
      </button>
      {open && (
        <ul>
          {error && <li class="tree-error">{error}</li>}
          {!children && !error && <li class="tree-loading" style={{ paddingLeft: `${depth + 1.5}rem` }}>加载中…</li>}
          {children?.units.map((u) => <UnitRow key={u.code} unit={u} depth={depth + 1} />)}
          {children?.cameras.map((c) => (
            <li key={c.id}>
              <button class="tree-camera" style={{ paddingLeft: `${(depth + 1) * 0.9 + 0.8}rem` }} onClick={() => state.choose({ id: c.id, name: c.name })}
                data-testid="tree-camera" data-camera={c.id} data-health={c.health} title={`${c.id} · ${HEALTH_LABEL[c.health ?? 'unknown']}`}>
                <span class={`dot dot-${c.health ?? 'unknown'}`} /> {c.name}
              </button>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** Tree shows the user's part of the governance tree, with search. */
export function Tree() {
  const state = useAppState();
  const [root, setRoot] = useState<TreeRoot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<SearchResult | null>(null);
  const timer = useRef<number>();

  useEffect(() => {
    const load = () => api.tree().then(setRoot, (err: unknown) => {
      state.sessionEnded(err);
      setError(err instanceof ApiError ? err.message : String(err));
    });
    void load();
    const timer = window.setInterval(load, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);

  const onSearch = (q: string) => {
    setQuery(q);
    window.clearTimeout(timer.current);
    if (!q.trim()) return setResults(null);
    timer.current = window.setTimeout(() => {
      api.search(q.trim()).then(setResults, (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
    }, 200);
  };

  return (
    <aside class="tree">
      <input class="tree-search" type="search" placeholder="搜索单位或摄像机 Search" value={query} onInput={(e) => onSearch(e.currentTarget.value)} data-testid="tree-search" />
      {error && <p class="tree-error" role="alert">{error}</p>}
      {root && root.path.length > 0 && <p class="tree-path">{root.path.map((p) => p.name).join(' › ')}</p>}
      {results ? (
        <ul class="tree-results" data-testid="search-results">
          <li class="tree-hint">{results.units.length} 个单位, {results.totalCameras} 台摄像机{results.totalCameras > results.cameras.length ? ` (显示前 ${results.cameras.length})` : ''}</li>
          {results.units.map((u) => <UnitRow key={u.code} unit={u} depth={0} />)}
          {results.cameras.map((c) => (
            <li key={c.id}>
              <button class="tree-camera" onClick={() => state.choose({ id: c.id, name: c.name })} data-testid="tree-camera" data-camera={c.id}>◉ {c.name}</button>
            </li>
          ))}
        </ul>
      ) : (
        root && (
          <ul class="tree-root" data-testid="tree-root">
            {root.granted.length > 0 && (
              <li data-testid="tree-granted">
                <p class="tree-hint">上级推送 · pushed to your unit ({root.granted.length})</p>
                <ul>
                  {root.granted.map((c) => (
                    <li key={c.id}>
                      <button class="tree-camera" style={{ paddingLeft: '1.1rem' }} onClick={() => state.choose({ id: c.id, name: c.name })}
                        data-testid="tree-camera" data-camera={c.id} data-granted="true" data-health={c.health} title={c.id}>
                        <span class={`dot dot-${c.health ?? 'unknown'}`} /> {c.name}
                      </button>
                    </li>
                  ))}
                </ul>
              </li>
            )}
            <UnitRow unit={root.root} depth={0} initiallyOpen />
          </ul>
        )
      )}
    </aside>
  );
}
