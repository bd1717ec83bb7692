import { useCallback, useEffect, useRef, useState } from 'react';
import type { SettingEntry } from '../../../preload/contract';
import { HpcError, call, hpc } from '../api';

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
  /** Loads again now (after an action, or when main said it changed). */
  reload: () => Promise<void>;
}

/**
 * Loads `load()` now, then every `everyMs` while mounted (null: once). `key` restarts it (a
 * different job). A timed read still running when the next is due is not doubled; a reload asked
 * for while a read runs (the data changed since it started) reads once more after it.
 */
export function usePolled<T>(load: () => Promise<T>, everyMs: number | null, key: string = ''): Loaded<T> {
  const [value, setValue] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  const busy = useRef<Promise<void> | null>(null);
  const queued = useRef<Promise<void> | null>(null);
  const live = useRef(true);

  useEffect(() => {
    loadRef.current = load;
  });

  /** One read, now. */
  const read = useCallback((): Promise<void> => {
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

  /** A read: joins one under way, unless `fresh` asks for data newer than its start (then one more read after it). */
  const run = useCallback(
    (fresh: boolean): Promise<void> => {
      if (!busy.current) return read();
      if (!fresh) return busy.current;
      queued.current ??= busy.current.then(() => {
        queued.current = null;
        return busy.current ?? read();
      });
      return queued.current;
    },
    [read],
  );

  const reload = useCallback(() => run(true), [run]);

  useEffect(() => {
    live.current = true;
    void run(true);
    const timer = everyMs === null ? undefined : window.setInterval(() => void run(false), everyMs);
    return () => {
      live.current = false;
      window.clearInterval(timer);
    };
  }, [run, everyMs, key]);

  return { value, problem, loading, reload };
}

export interface Action {
  busy: boolean;
  problem: Problem | null;
  setProblem: (p: Problem | null) => void;
  /** Runs `what` (clearing the last problem first); true when it succeeded, else its problem is kept. */
  run: (what: () => Promise<unknown>) => Promise<boolean>;
}

/** A button's action: busy while it runs, and what went wrong as a problem to show. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const run = useCallback(async (what: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setProblem(null);
    try {
      await what();
      return true;
    } catch (e) {
      setProblem(problemOf(e));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, problem, setProblem, run };
}

/**
 * Reads the settings once, when mounted, and hands `apply` a lookup by key: a form starts from
 * what is configured. When they cannot be read the form starts empty (the screen says why elsewhere).
 */
/**
 * A state update for a form field that takes `stored` only while the field is still empty: what
 * settings load fills in must not overwrite (or join) what the user typed before it arrived.
 */
export function unlessTyped(stored: string): (current: string) => string {
  return (current) => (current === '' ? stored : current);
}

export function useSettingsOnce(apply: (get: (key: string) => SettingEntry | undefined) => void): void {
  const applyRef = useRef(apply);
  useEffect(() => {
    applyRef.current = apply;
  });
  useEffect(() => {
    let live = true;
    call(hpc().settingsGet())
      .then((s) => {
        if (live) applyRef.current((k) => s.entries.find((e) => e.key === k));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
}
