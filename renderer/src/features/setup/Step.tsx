import type { ReactNode } from 'react';

/** One setup step: its heading, what it is for, and its form. */
export function Step({ title, intro, children }: { title: string; intro: ReactNode; children: ReactNode }) {
  return (
    <div className="step">
      <h3>{title}</h3>
      <p className="muted">{intro}</p>
      {children}
    </div>
  );
}

/** A step's buttons: its own (the submit first), then on to the next step, which says "Skip this step" until the step is done. */
export function StepActions({ next, done, doneLabel, children }: { next: () => void; done: boolean; doneLabel: string; children: ReactNode }) {
  return (
    <div className="actions">
      {children}
      <button type="button" className="secondary" onClick={next}>
        {done ? doneLabel : 'Skip this step'}
      </button>
    </div>
  );
}
