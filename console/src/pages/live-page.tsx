// The monitoring page: header, tree, live grid.
import { useAppState } from '../state/app-state.js';
import { Tree } from '../components/tree/tree.js';
import { Grid } from '../components/grid/grid.js';

/** LivePage is what a logged-in user works in. */
export function LivePage() {
  const state = useAppState();
  const user = state.user.value!;
  return (
    <div class="shell">
      <header class="topbar">
        <strong>雪亮工程视频网关</strong>
        <span class="topbar-unit" data-testid="user-unit">{user.unitName}</span>
        <span class="topbar-user" data-testid="user-name">{user.displayName} ({user.username} · {user.roles.join(', ')})</span>
        <button onClick={() => void state.logout()} data-testid="logout">退出 Log out</button>
      </header>
      <div class="workspace">
        <Tree />
        <Grid />
      </div>
    </div>
  );
}
