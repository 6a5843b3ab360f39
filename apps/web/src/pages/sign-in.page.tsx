import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/http';
import { ErrorNotice, PageTitle } from '../components/ui';
import { navigate, PATHS } from '../routes';
import { useSession } from '../session';

const DEMO = [
  { username: 'CUS_0001', password: 'cus_0001-pass', note: 'wallet 5,000.00' },
  { username: 'CUS_0004', password: 'cus_0004-pass', note: 'wallet 100.00 (too poor for a laptop)' },
  { username: 'operator', password: 'operator-pass', note: 'saga explorer and dead letters' },
];

export function SignInPage() {
  const { signIn } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const s = await signIn(username.trim(), password);
      navigate(s.role === 'operator' ? PATHS.sagas : PATHS.shop, true);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err)));
      setBusy(false);
    }
  };

  return (
    <section className="narrow">
      <PageTitle>Sign in</PageTitle>
      <form className="card form" onSubmit={submit} aria-describedby="sign-in-help">
        <label htmlFor="username">Customer id or user name</label>
        <input id="username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error ? <ErrorNotice title="Could not sign in." error={error} /> : null}
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <div className="card" id="sign-in-help">
        <h2>Demo logins</h2>
        <ul className="plain">
          {DEMO.map((d) => (
            <li key={d.username}>
              <button
                type="button"
                className="button button-link"
                onClick={() => {
                  setUsername(d.username);
                  setPassword(d.password);
                }}
              >
                Use {d.username}
              </button>{' '}
              <span className="muted">{d.note}</span>
            </li>
          ))}
        </ul>
        <p className="muted">Customers CUS_0001 … CUS_0005 sign in with the password <code>cus_000N-pass</code>.</p>
      </div>
    </section>
  );
}
