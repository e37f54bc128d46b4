// The login form.
import { useState } from 'preact/hooks';
import { useAppState } from '../../state/app-state.js';
import { errorText, t } from '../../i18n/i18n.js';
import { LangSwitch } from '../lang/lang-switch.js';
import './login.css';

/** Login asks for a username and password and shows why a login failed. */
export function Login() {
  const state = useAppState();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(state.banner.value);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await state.login(username, password);
      state.banner.value = null;
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} data-testid="login-form">
        <LangSwitch />
        <h1>{t('app.title')}</h1>
        <p class="login-sub">{t('app.subtitle')}</p>
        <label>
          {t('login.username')}
          <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
        </label>
        {error !== null && error !== undefined && <p class="login-error" role="alert" data-testid="login-error">{errorText(error)}</p>}
        <button type="submit" disabled={busy}>{busy ? t('login.busy') : t('login.submit')}</button>
      </form>
    </main>
  );
}
