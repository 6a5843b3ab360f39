import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, setToken, setUnauthorizedHandler } from './api/http';
import type { Login } from './api/types';

export interface Session {
  token: string;
  role: 'customer' | 'operator';
  /** Customer id, or `operator`. */
  sub: string;
}

interface SessionContextValue {
  session: Session | undefined;
  signIn(username: string, password: string): Promise<Session>;
  signOut(): void;
}

const KEY = 'saga-shop.session';
const SessionContext = createContext<SessionContextValue | undefined>(undefined);

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    const s = raw ? (JSON.parse(raw) as Session) : undefined;
    return s && typeof s.token === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Who is signed in (token kept in sessionStorage: it ends with the tab). */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(() => {
    const s = load();
    setToken(s?.token);
    return s;
  });

  const signOut = useCallback(() => {
    sessionStorage.removeItem(KEY);
    setToken(undefined);
    setSession(undefined);
  }, []);

  useEffect(() => setUnauthorizedHandler(signOut), [signOut]);

  const signIn = useCallback(async (username: string, password: string) => {
    const login = await api<Login>('POST', '/api/auth/login', { username, password });
    const s: Session = { token: login.token, role: login.role, sub: login.sub };
    sessionStorage.setItem(KEY, JSON.stringify(s));
    setToken(s.token);
    setSession(s);
    return s;
  }, []);

  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}
