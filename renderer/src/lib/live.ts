/**
 * Screens that show what main announces (jobs, approvals) read again when main says it changed
 * (`data:changed`), and otherwise only every fallback interval, in case an event was missed.
 */
import { createContext, useContext, useEffect, useRef } from 'react';
import type { DataChanged } from '../../../preload/contract';
import { hpc } from '../api';
import { usePolled } from './hooks';
import type { Loaded } from './hooks';

/** The fallback poll when main does not say (app:info's refreshFallbackMs). */
export const DEFAULT_FALLBACK_MS = 30_000;

/** The fallback poll interval, from app:info (App provides it). */
export const FallbackContext = createContext(DEFAULT_FALLBACK_MS);

/** Calls `then` whenever main says something changed that `matches`. */
export function useChanges(matches: (change: DataChanged) => boolean, then: () => void): void {
  const ref = useRef({ matches, then });
  useEffect(() => {
    ref.current = { matches, then };
  });
  useEffect(
    () =>
      hpc().onDataChanged((change) => {
        if (ref.current.matches(change)) ref.current.then();
      }),
    [],
  );
}

/** Loads now, again whenever a change `matches`, and every fallback interval. `key` restarts it. */
export function useLive<T>(load: () => Promise<T>, matches: (change: DataChanged) => boolean, key: string = ''): Loaded<T> {
  const loaded = usePolled(load, useContext(FallbackContext), key);
  useChanges(matches, () => void loaded.reload());
  return loaded;
}

/** Some job's state changed. */
export const anyJob = (c: DataChanged): boolean => c.jobIds.length > 0;
/** An approval opened, was decided or expired. */
export const approvalsChanged = (c: DataChanged): boolean => c.approvals;
