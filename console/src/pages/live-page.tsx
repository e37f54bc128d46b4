// The console's frame: header with the views, the tree, and the live grid or the online-rate page.
import { useState } from 'preact/hooks';
import { useAppState, type Page } from '../state/app-state.js';
import { errorText, t } from '../i18n/i18n.js';
import { LangSwitch } from '../components/lang/lang-switch.js';
import { api } from '../api/client.js';
import { Tree } from '../components/tree/tree.js';
import { Grid } from '../components/grid/grid.js';
import { HealthPage } from './health-page.js';
import { ImportPage } from './import-page.js';
import { OnboardPage } from './onboard-page.js';
import { GrantsPage } from './grants-page.js';
import { UsersPage } from './users-page.js';
import { AuditPage } from './audit-page.js';
import { EventsPage } from './events-page.js';
import { MapPage } from './map-page.js';
import { CamerasPage } from './cameras-page.js';
import { WallPage } from './wall-page.js';
import { RoomsPage } from './rooms-page.js';
import { CasesPage } from './cases-page.js';

/** LivePage is what a logged-in user works in. */
export function LivePage() {
  const state = useAppState();
  const user = state.user.value!;
  const [menu, setMenu] = useState(false);
  const nav = (p: Page, label: string, go?: () => void) => (
    <button class={state.page.value === p ? 'active' : ''} onClick={go ?? (() => { state.page.value = p; })} data-testid={`nav-${p}`}>{label}</button>
  );
  return (
    <div class="shell">
      <header class="topbar">
        <strong>{t('app.title')}</strong>
        <span class="topbar-unit" data-testid="user-unit">{user.unitName}</span>
        <nav class="topbar-nav">
          {nav('live', t('nav.live'))}
          {(user.roles.includes('operator') || user.roles.includes('admin')) && nav('wall', t('nav.wall'))}
          {nav('rooms', t('nav.rooms'))}
          {nav('cases', t('nav.cases'))}
          {nav('map', t('nav.map'))}
          <button class={state.page.value === 'events' ? 'active' : ''} onClick={() => { state.page.value = 'events'; }} data-testid="nav-events"
            title={t('events.badge', { n: state.events.unacked.value })}>
            {t('nav.events')}{state.events.unacked.value > 0 && <span class="nav-badge" data-testid="events-badge">{state.events.unacked.value > 999 ? '999+' : state.events.unacked.value}</span>}
          </button>
          {nav('health', t('nav.health'), () => state.showHealth())}
          {user.roles.includes('admin') && (
            <>
              {nav('grants', t('nav.grants'))}
              {nav('users', t('nav.users'))}
              {nav('audit', t('nav.audit'))}
              {nav('cameras', t('nav.cameras'))}
              {nav('onboard', t('nav.onboard'))}
              {nav('import', t('nav.import'))}
            </>
          )}
        </nav>
        <LangSwitch />
        <span class="topbar-menu">
          <button class="topbar-user" onClick={() => setMenu(!menu)} aria-expanded={menu} data-testid="user-menu" title={`${user.displayName} (${user.username})`}>
            <span data-testid="user-name">{user.displayName}</span> ▾
          </button>
          {menu && (
            <span class="topbar-dropdown" onClick={() => setMenu(false)}>
              <span class="topbar-who">{user.username} · {user.roles.map((r) => t(`roles.${r}`)).join(t('common.listSep'))}</span>
              <button onClick={() => {
                const current = window.prompt(t('account.currentPassword'));
                const next = current ? window.prompt(t('account.newPassword')) : null;
                if (current && next) api.changePassword(current, next).then(() => window.alert(t('account.passwordChanged')), (err: unknown) => window.alert(errorText(err)));
              }} data-testid="change-password">{t('account.changePassword')}</button>
              <button onClick={() => void state.logout()} data-testid="logout">{t('account.logout')}</button>
            </span>
          )}
        </span>
      </header>
      <div class="workspace">
        <Tree />
        {/* The grid stays mounted on every page: its video keeps playing, and coming back shows it at once. */}
        <Grid active={state.page.value === 'live'} />
        {{ health: <HealthPage />, import: <ImportPage />, onboard: <OnboardPage />, grants: <GrantsPage />, users: <UsersPage />, audit: <AuditPage />, live: null, wall: <WallPage />, rooms: <RoomsPage />, cases: <CasesPage />, map: <MapPage />, events: <EventsPage />, cameras: <CamerasPage /> }[state.page.value]}
      </div>
    </div>
  );
}
