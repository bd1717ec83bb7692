import { useState } from 'react';
import type { DoctorCheck } from '../../../../preload/contract';
import type { Go } from '../../App';
import { HpcError, call, hpc } from '../../api';
import { Panel } from '../../components/Panel';

type PanelState =
  | { kind: 'idle' }
  | { kind: 'running' }
  | { kind: 'done'; checks: DoctorCheck[] }
  | { kind: 'failed'; message: string; fix: string | null };

/** What one click can do about a failed check: reset settings, or open the setup step that fixes it. */
interface QuickFix {
  label: string;
  run: () => Promise<void> | void;
}

/**
 * Runs the doctor checks and lists them: ✓/⚠/✗, the title, what was found, and the fix — with a
 * button where one click can apply it. Check messages can quote remote output, so every string
 * is rendered as React text (escaped), never as HTML.
 */
export function DoctorPanel({ go }: { go?: Go }) {
  const [state, setState] = useState<PanelState>({ kind: 'idle' });
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

  function quickFix(check: DoctorCheck): QuickFix | null {
    if (check.ok) return null;
    const id = check.id;
    if (id === 'settings.valid') {
      return {
        label: 'Reset the invalid settings',
        run: async () => {
          const view = await call(hpc().settingsGet());
          for (const key of new Set(view.problems.map((p) => p.key))) {
            await call(hpc().settingsUnset(key)).catch(() => undefined);
          }
          await runChecks();
        },
      };
    }
    if (!go) return null;
    if (id === 'ssh' || /^(ssh|slurm|cluster)\./.test(id)) return { label: 'Open cluster setup', run: () => go({ screen: 'setup', step: 'cluster' }) };
    if (id.startsWith('slack.')) return { label: 'Open Slack setup', run: () => go({ screen: 'setup', step: 'slack' }) };
    if (id.startsWith('model.') || id.startsWith('llm.')) return { label: 'Open model setup', run: () => go({ screen: 'setup', step: 'model' }) };
    if (id === 'secrets.present') return { label: 'Open setup', run: () => go({ screen: 'setup', step: 'slack' }) };
    return null;
  }

  return (
    <Panel
      title="Doctor"
      intro="Checks that everything HPC Relay relies on is in place, with a fix for each problem."
      actions={
        <button type="button" onClick={() => void runChecks()} disabled={running} aria-busy={running}>
          {running ? 'Running…' : 'Run checks'}
        </button>
      }
    >
      <p className="summary" role="status" aria-live="polite">
        {summary(state)}
      </p>
      {state.kind === 'done' && state.checks.length > 0 && (
        <ul className="checks" aria-label="Check results">
          {state.checks.map((check) => (
            <CheckRow key={check.id} check={check} quickFix={quickFix(check)} />
          ))}
        </ul>
      )}
      {state.kind === 'failed' && state.fix && <p className="fix">{state.fix}</p>}
    </Panel>
  );
}

function CheckRow({ check, quickFix }: { check: DoctorCheck; quickFix: QuickFix | null }) {
  const [busy, setBusy] = useState(false);
  // A warning passed, with something worth reading: ⚠ with its message and fix.
  const warning = check.ok && check.warning === true;
  return (
    <li className={warning ? 'check warning' : check.ok ? 'check ok' : 'check failed'} data-check-id={check.id}>
      <span className="check-mark" role="img" aria-label={warning ? 'passed with a warning' : check.ok ? 'passed' : 'failed'}>
        {warning ? '⚠' : check.ok ? '✓' : '✗'}
      </span>
      <div className="check-text">
        {check.title && <p className="check-title">{check.title}</p>}
        <p className="check-message">{check.message}</p>
        {(!check.ok || warning) && check.fix && (
          <p className="fix">
            <span className="fix-label">Fix: </span>
            {check.fix}
          </p>
        )}
        {quickFix && (
          <button
            type="button"
            className="secondary small"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              void Promise.resolve(quickFix.run()).finally(() => setBusy(false));
            }}
          >
            {quickFix.label}
          </button>
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
      const warned = state.checks.filter((c) => c.ok && c.warning === true).length;
      const warnings = warned === 0 ? '' : ` ${warned === 1 ? 'One has' : `${warned} have`} a warning.`;
      if (failed === 0) return `${total === 1 ? 'The check passed.' : `All ${total} checks passed.`}${warnings}`;
      return `${failed} of ${total} ${total === 1 ? 'check' : 'checks'} failed.${warnings}`;
    }
  }
}
