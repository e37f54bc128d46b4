// The unit picker: a unit chosen by its name, never by its 12-digit code. Typing searches the user's part of the
// tree (name or the start of a code); the browse button opens the tree itself, a level at a time. The chosen unit
// shows with its path.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Children, type SearchUnitT, type UnitT } from '../../api/client.js';
import { useAppState } from '../../state/app-state.js';
import { errorText, t } from '../../i18n/i18n.js';
import './unit-picker.css';

type Step = { code: string; name: string };

/** UnitPicker chooses one unit of the user's part of the tree. */
export function UnitPicker({ value, onChange, testid, exclude, below }: {
  /** value is the chosen unit's code ('' for none). */
  value: string;
  onChange: (code: string, unit?: { code: string; name: string }) => void;
  testid: string;
  /** exclude is a unit that may not be chosen (a grant's own unit). */
  exclude?: string;
  /** below offers only units strictly below the user's own. */
  below?: boolean;
}) {
  const state = useAppState();
  const own = state.user.value!.unit;
  const [chosen, setChosen] = useState<UnitT | null>(null);
  const [text, setText] = useState('');
  const [found, setFound] = useState<SearchUnitT[] | null>(null);
  const [total, setTotal] = useState(0);
  const [active, setActive] = useState(0);
  const [browse, setBrowse] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const timer = useRef<number>();
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!value) { setChosen(null); return; }
    if (chosen?.code === value) return;
    api.unit(value).then(setChosen, (err: unknown) => { setChosen(null); setError(err); });
  }, [value]);

  useEffect(() => {
    const close = (e: MouseEvent) => { if (box.current && !box.current.contains(e.target as Node)) { setFound(null); setBrowse(false); } };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, []);

  const allowed = (code: string) => code !== exclude && !(below && code === own);
  const pick = (u: { code: string; name: string }) => {
    if (!allowed(u.code)) return;
    setText('');
    setFound(null);
    setBrowse(false);
    setError(null);
    onChange(u.code, u);
  };
  const search = (q: string) => {
    setText(q);
    window.clearTimeout(timer.current);
    if (!q.trim()) { setFound(null); return; }
    timer.current = window.setTimeout(() => {
      api.search(q.trim(), { what: 'units', limit: 30 }).then((r) => {
        const units = r.units.filter((u) => allowed(u.code));
        setFound(units);
        setTotal(r.totalUnits);
        setActive(0);
      }, (err: unknown) => setError(err));
    }, 150);
  };
  const onKey = (e: KeyboardEvent) => {
    if (!found || found.length === 0) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); setActive((active + 1) % found.length); }
    if (e.key === 'ArrowUp') { e.preventDefault(); setActive((active - 1 + found.length) % found.length); }
    if (e.key === 'Enter') { e.preventDefault(); pick(found[active]!); }
    if (e.key === 'Escape') setFound(null);
  };

  const pathText = (path: Step[]) => path.map((p) => p.name).join(' › ');
  return (
    <div class="unit-picker" ref={box} data-testid={`${testid}-picker`}>
      {chosen && value && (
        <span class="unit-chosen" data-testid={`${testid}-chosen`} data-code={chosen.code} title={pathText([...chosen.path, chosen])}>
          {chosen.name} <small>{t(`level.${chosen.level}`)}</small>
          <button type="button" class="unit-clear" title={t('picker.clear')} onClick={() => { setChosen(null); onChange(''); }}>×</button>
        </span>
      )}
      <input type="search" value={text} placeholder={chosen && value ? t('picker.change') : t('picker.placeholder')} onInput={(e) => search(e.currentTarget.value)}
        onKeyDown={onKey} data-testid={testid} aria-autocomplete="list" />
      <button type="button" class="link" onClick={() => { setBrowse(!browse); setFound(null); }} data-testid={`${testid}-browse`}>{t('picker.browse')}</button>
      {error !== null && <span class="unit-error" role="alert">{errorText(error)}</span>}
      {found && (
        <ul class="unit-options" role="listbox" data-testid={`${testid}-options`}>
          {found.length === 0 && <li class="unit-none">{t('picker.none')}</li>}
          {found.map((u, i) => (
            <li key={u.code} role="option" aria-selected={i === active} class={i === active ? 'active' : ''} onMouseDown={(e) => { e.preventDefault(); pick(u); }}
              data-testid="unit-option" data-code={u.code}>
              <span class="unit-name">{u.name}</span> <small>{t(`level.${u.level}`)}</small>
              {u.path.length > 0 && <small class="unit-path">{pathText(u.path)}</small>}
            </li>
          ))}
          {total > found.length && <li class="unit-none">{t('picker.more', { shown: found.length, total })}</li>}
        </ul>
      )}
      {browse && (
        <ul class="unit-options unit-browse" data-testid={`${testid}-tree`}>
          <BrowseRow code={own} name={state.user.value!.unitName} depth={0} open allowed={allowed} onPick={pick} />
        </ul>
      )}
    </div>
  );
}

function BrowseRow({ code, name, depth, open: initiallyOpen, allowed, onPick }: {
  code: string; name: string; depth: number; open?: boolean; allowed: (code: string) => boolean; onPick: (u: Step) => void;
}) {
  const [open, setOpen] = useState(!!initiallyOpen);
  const [children, setChildren] = useState<Children['units'] | null>(null);
  useEffect(() => {
    if (open && !children) api.children(code).then((c) => setChildren(c.units), () => setChildren([]));
  }, [open]);
  return (
    <li>
      <span class="unit-row" style={{ paddingLeft: `${depth * 0.9}rem` }}>
        <button type="button" class="unit-caret" onClick={() => setOpen(!open)} aria-expanded={open}>{open ? '▾' : '▸'}</button>
        <button type="button" class="unit-pick" disabled={!allowed(code)} onClick={() => onPick({ code, name })} data-testid="unit-browse-option" data-code={code}>{name}</button>
      </span>
      {open && children && (
        <ul>
          {children.map((u) => <BrowseRow key={u.code} code={u.code} name={u.name} depth={depth + 1} allowed={allowed} onPick={onPick} />)}
        </ul>
      )}
    </li>
  );
}
