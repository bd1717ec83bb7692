import { useCallback, useEffect, useRef, useState } from 'react';
import { HpcError } from '../api';

export interface Problem {
  message: string;
  fix: string | null;
}

export function problemOf(e: unknown): Problem {
  if (e instanceof HpcError) return { message: e.message, fix: e.fix };
  return { message: e instanceof Error ? e.message : String(e), fix: null };
}

export interface Loaded<T> {
  value: T | null;
  problem: Problem | null;
  loading: boolean;
  /** Loads again now (after an action). */
  reload: () => Promise<void>;
}

/**
 * Loads `load()` now, then every `everyMs` while mounted (null: once). `key` restarts it (a
 * different job). A call still running when the next is due is not doubled.
 */
export function usePolled<T>(load: () => Promise<T>, everyMs: number | null, key: string = ''): Loaded<T> {
  const [value, setValue] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  const busy = useRef<Promise<void> | null>(null);
  const live = useRef(true);

  useEffect(() => {
    loadRef.current = load;
  });

  const run = useCallback(async (): Promise<void> => {
    if (busy.current) return busy.current;
    const p = (async () => {
      try {
        const v = await loadRef.current();
        if (!live.current) return;
        setValue(v);
        setProblem(null);
      } catch (e) {
        if (live.current) setProblem(problemOf(e));
      } finally {
        if (live.current) setLoading(false);
        busy.current = null;
      }
    })();
    busy.current = p;
    return p;
  }, []);

  useEffect(() => {
    live.current = true;
    void run();
    const timer = everyMs === null ? undefined : window.setInterval(() => void run(), everyMs);
    return () => {
      live.current = false;
      window.clearInterval(timer);
    };
  }, [run, everyMs, key]);

  return { value, problem, loading, reload: run };
}
