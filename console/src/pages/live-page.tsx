// The console's frame: header with the views, the tree, and the live grid or the online-rate page.
import { useAppState } from '../state/app-state.js';
import { api } from '../api/client.js';
import { Tree } from '../components/tree/tree.js';
import { Grid } from '../components/grid/grid.js';
import { HealthPage } from './health-page.js';
import { ImportPage } from './import-page.js';
import { OnboardPage } from './onboard-page.js';
import { GrantsPage } from './grants-page.js';
import { UsersPage } from './users-page.js';
import { AuditPage } from './audit-page.js';

/** LivePage is what a logged-in user works in. */
export function LivePage() {
  const state = useAppState();
  const user = state.user.value!;
  return (
    <div class="shell">
      <header class="topbar">
        <strong>雪亮工程视频网关</strong>
        <span class="topbar-unit" data-testid="user-unit">{user.unitName}</span>
        <nav class="topbar-nav">
          <button class={state.page.value === 'live' ? 'active' : ''} onClick={() => { state.page.value = 'live'; }} data-testid="nav-live">实时视频 Live</button>
          <button class={state.page.value === 'health' ? 'active' : ''} onClick={() => state.showHealth()} data-testid="nav-health">在线率 Health</button>
          {user.roles.includes('admin') && (
            <>
              <button class={state.page.value === 'grants' ? 'active' : ''} onClick={() => { state.page.value = 'grants'; }} data-testid="nav-grants">权限推送 Grants</button>
              <button class={state.page.value === 'users' ? 'active' : ''} onClick={() => { state.page.value = 'users'; }} data-testid="nav-users">用户 Users</button>
              <button class={state.page.value === 'audit' ? 'active' : ''} onClick={() => { state.page.value = 'audit'; }} data-testid="nav-audit">审计 Audit</button>
              <button class={state.page.value === 'onboard' ? 'active' : ''} onClick={() => { state.page.value = 'onboard'; }} data-testid="nav-onboard">设备接入 Onboard</button>
              <button class={state.page.value === 'import' ? 'active' : ''} onClick={() => { state.page.value = 'import'; }} data-testid="nav-import">导入导出 Import</button>
            </>
          )}
        </nav>
        <span class="topbar-user" data-testid="user-name">{user.displayName} ({user.username} · {user.roles.join(', ')})</span>
        <button onClick={() => {
          const current = window.prompt('当前密码 current password');
          const next = current ? window.prompt('新密码 (≥10 位, 三类字符) new password') : null;
          if (current && next) api.changePassword(current, next).then(() => window.alert('密码已更改, 其他会话已结束 · password changed'), (err: unknown) => window.alert(err instanceof Error ? err.message : String(err)));
        }} data-testid="change-password">改密码</button>
        <button onClick={() => void state.logout()} data-testid="logout">退出 Log out</button>
      </header>
      <div class="workspace">
        <Tree />
        {{ health: <HealthPage />, import: <ImportPage />, onboard: <OnboardPage />, grants: <GrantsPage />, users: <UsersPage />, audit: <AuditPage />, live: <Grid /> }[state.page.value]}
      </div>
    </div>
  );
}
