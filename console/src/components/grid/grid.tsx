// The live grid: 1, 4, 9 or 16 tiles; big tiles use the main profile, small ones the sub profile.
import { useAppState, LAYOUTS } from '../../state/app-state.js';
import { Tile } from '../tile/tile.js';
import './grid.css';

/** Grid lays out the tiles and the layout switch. */
export function Grid() {
  const state = useAppState();
  const n = state.layout.value;
  const side = Math.sqrt(n);
  const profile = n <= 4 ? 'main' : 'sub';
  return (
    <section class="grid-area">
      <div class="grid-toolbar">
        {LAYOUTS.map((l) => (
          <button key={l} class={l === n ? 'active' : ''} onClick={() => state.setLayout(l)} data-testid={`layout-${l}`}>{l} 分屏</button>
        ))}
        <span class="grid-hint">点击画面选择窗口, 再点击左侧摄像机 · {profile === 'main' ? '主码流 main' : '子码流 sub'}</span>
      </div>
      <div class="grid" style={{ gridTemplateColumns: `repeat(${side}, 1fr)`, gridTemplateRows: `repeat(${side}, 1fr)` }} data-testid="grid">
        {state.visibleTiles.value.map((camera, i) => (
          <Tile key={i} index={i} camera={camera} profile={profile} selected={state.selectedTile.value === i}
            onSelect={() => { state.selectedTile.value = i; }} onClose={() => state.clear(i)} onSessionEnded={(e) => state.sessionEnded(e)}
            debug={state.user.value?.roles.includes('admin') ?? false} />
        ))}
      </div>
    </section>
  );
}
