import { useId } from 'react';
import type { ReactNode } from 'react';

/**
 * A screen: a region named by its heading, which takes the focus when the screen opens (App
 * focuses the h2, tabIndex -1), a line saying what the screen is for, and actions on the right.
 */
export function Panel({ title, intro, before, actions, children }: {
  title: ReactNode;
  /** The muted line under the heading. */
  intro?: ReactNode;
  /** Above the heading (a way back). */
  before?: ReactNode;
  /** Right of the heading: buttons, a filter. */
  actions?: ReactNode;
  children?: ReactNode;
}) {
  const headingId = useId();
  return (
    <section className="panel" aria-labelledby={headingId}>
      <div className="panel-header">
        <div>
          {before}
          <h2 id={headingId} tabIndex={-1}>
            {title}
          </h2>
          {intro !== undefined && <p className="muted">{intro}</p>}
        </div>
        {actions}
      </div>
      {children}
    </section>
  );
}
