import type { ReactNode } from 'react';
import type { Loaded, Problem } from '../lib/hooks';
import { ProblemText } from './ProblemText';

/**
 * What a screen shows of something it loads: the problem (an action's, else the load's) as text,
 * a sentence when there is nothing to show, else `children` with the value. Nothing before the
 * first answer.
 */
export function Loadable<T>({ loaded, problem = null, empty, isEmpty, children }: {
  loaded: Loaded<T>;
  /** A failed action on the screen: shown instead of the load's problem. */
  problem?: Problem | null;
  /** Said when `isEmpty` holds for the value. */
  empty?: ReactNode;
  isEmpty?: (value: T) => boolean;
  children: (value: T) => ReactNode;
}) {
  const shown = problem ?? loaded.problem;
  const value = loaded.value;
  const nothing = value !== null && empty !== undefined && (isEmpty?.(value) ?? false);
  return (
    <>
      {shown && <ProblemText problem={shown} />}
      {nothing && <p className="empty">{empty}</p>}
      {value !== null && !nothing && children(value)}
    </>
  );
}
