// Console entry: builds the app state, restores the session, renders login or the live page.
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { AppStateContext, createAppState, useAppState } from './state/app-state.js';
import { Login } from './components/login/login.js';
import { LivePage } from './pages/live-page.js';
import { t } from './i18n/i18n.js';
import './global.css';

function App() {
  const state = useAppState();
  useEffect(() => { void state.restore(); }, []);
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
