// Console entry: builds the app state, restores the session, renders login or the live page.
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { AppStateContext, createAppState, useAppState } from './state/app-state.js';
import { Login } from './components/login/login.js';
import { LivePage } from './pages/live-page.js';
import { GuestRoom } from './pages/rooms-page.js';
import { t } from './i18n/i18n.js';
import './global.css';

/** guestLink reads an invite link's room and token (/room/<id>#invite=<token>). */
function guestLink(): { room: string; invite: string } | null {
  const room = /^\/room\/([A-Za-z0-9_-]{8,32})\/?$/.exec(location.pathname)?.[1];
  const invite = /(?:^#|&)invite=(segi_[A-Za-z0-9_-]+)/.exec(location.hash)?.[1];
  return room && invite ? { room, invite } : null;
}
const guest = guestLink();

function App() {
  const state = useAppState();
  if (guest) return <GuestRoom room={guest.room} invite={guest.invite} />;
  useEffect(() => { if (!guest) void state.restore(); }, []);
  if (state.user.value === undefined) return <p class="boot">{t('common.loading')}</p>;
  return state.user.value ? <LivePage /> : <Login />;
}

const state = createAppState();
render(
  <AppStateContext.Provider value={state}>
    <App />
  </AppStateContext.Provider>,
  document.getElementById('app')!,
);
