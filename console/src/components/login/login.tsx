// The login form.
import { useState } from 'preact/hooks';
import { ApiError } from '../../api/client.js';
import { useAppState } from '../../state/app-state.js';
import './login.css';

/** Login asks for a username and password and shows why a login failed. */
export function Login() {
  const state = useAppState();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(state.banner.value);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await state.login(username, password);
      state.banner.value = null;
    } catch (err) {
      setError(err instanceof ApiError ? (err.code === 'bad-credentials' ? '用户名或密码错误 (wrong username or password)' : err.message) : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} data-testid="login-form">
        <h1>雪亮工程视频网关</h1>
        <p class="login-sub">Sharp Eyes Gateway · 综治中心视频监控</p>
        <label>
          用户名 Username
          <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required />
        </label>
        <label>
          密码 Password
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
        </label>
        {error && <p class="login-error" role="alert" data-testid="login-error">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? '登录中…' : '登录 Log in'}</button>
      </form>
    </main>
  );
}
