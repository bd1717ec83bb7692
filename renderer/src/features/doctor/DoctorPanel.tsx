import { useId, useState } from 'react';
import type { DoctorCheck } from '../../../../preload/contract';
import { HpcError, call, hpc } from '../../api';

type PanelState =
  | { kind: 'idle' }
  | { kind: 'running' }
  | { kind: 'done'; checks: DoctorCheck[] }
  | { kind: 'failed'; message: string; fix: string | null };

/**
 * Runs the doctor checks and lists them. Check messages can quote remote output, so every
 * string is rendered as React text (escaped), never as HTML.
 */
export function DoctorPanel() {
  const [state, setState] = useState<PanelState>({ kind: 'idle' });
  const headingId = useId();
  const running = state.kind === 'running';

  async function runChecks(): Promise<void> {
    setState({ kind: 'running' });
    try {
      setState({ kind: 'done', checks: await call(hpc().doctorRun()) });
    } catch (e) {
      const fix = e instanceof HpcError ? e.fix : null;
      setState({ kind: 'failed', message: e instanceof Error ? e.message : String(e), fix });
    }
  }

  return (
    <section className="panel" aria-labelledby={headingId}>
      <div className="panel-header">
        <div>
          <h2 id={headingId}>Doctor</h2>
          <p className="muted">Checks that everything HPC Relay relies on is in place, with a fix for each problem.</p>
        </div>
        <button type="button" onClick={() => void runChecks()} disabled={running} aria-busy={running}>
          {running ? 'Running…' : 'Run checks'}
        </button>
      </div>
      <p className="summary" role="status" aria-live="polite">
        {summary(state)}
      </p>
      {state.kind === 'done' && state.checks.length > 0 && (
        <ul className="checks" aria-label="Check results">
          {state.checks.map((check) => (
            <CheckRow key={check.id} check={check} />
          ))}
        </ul>
      )}
      {state.kind === 'failed' && state.fix && <p className="fix">{state.fix}</p>}
    </section>
  );
}

function CheckRow({ check }: { check: DoctorCheck }) {
  return (
    <li className={check.ok ? 'check ok' : 'check failed'} data-check-id={check.id}>
      <span className="check-mark" role="img" aria-label={check.ok ? 'passed' : 'failed'}>
        {check.ok ? '✓' : '✗'}
      </span>
      <div className="check-text">
        <p className="check-message">{check.message}</p>
        {!check.ok && check.fix && (
          <p className="fix">
            <span className="fix-label">Fix: </span>
            {check.fix}
          </p>
        )}
      </div>
    </li>
  );
}

function summary(state: PanelState): string {
  switch (state.kind) {
    case 'idle':
      return 'Not run yet.';
    case 'running':
      return 'Running checks…';
    case 'failed':
      return `The checks could not run: ${state.message}`;
    case 'done': {
      const failed = state.checks.filter((c) => !c.ok).length;
      const total = state.checks.length;
      if (total === 0) return 'There are no checks to run.';
      if (failed === 0) return total === 1 ? 'The check passed.' : `All ${total} checks passed.`;
      return `${failed} of ${total} ${total === 1 ? 'check' : 'checks'} failed.`;
    }
  }
}
