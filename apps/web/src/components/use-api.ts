import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/http';

export type Loadable<T> =
  | { state: 'loading'; data?: T }
  | { state: 'ready'; data: T }
  | { state: 'error'; error: ApiError; data?: T };

/**
 * Loads `fetcher()` on mount and whenever `deps` change; `reload()` fetches again keeping the last
 * data on screen (so a refresh does not flash). A call that is overtaken by a newer one is dropped.
 */
export function useApi<T>(fetcher: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): [Loadable<T>, () => Promise<void>] {
  const [value, setValue] = useState<Loadable<T>>({ state: 'loading' });
  const generation = useRef(0);
  const latest = useRef(fetcher);
  latest.current = fetcher;

  const run = useCallback(async () => {
    const mine = ++generation.current;
    const ctrl = new AbortController();
    setValue((v) => ({ state: 'loading', data: v.data }));
    try {
      const data = await latest.current(ctrl.signal);
      if (mine === generation.current) setValue({ state: 'ready', data });
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      const error = err instanceof ApiError ? err : new ApiError(0, 'CLIENT', (err as Error).message);
      if (mine === generation.current) setValue((v) => ({ state: 'error', error, data: v.data }));
    }
  }, []);

  useEffect(() => {
    void run();
    return () => {
      generation.current++;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller lists what the fetcher depends on
  }, deps);

  return [value, run];
}
