import { useId, useState } from 'react';
import type { MonitorKind, MonitorView } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { Dialog } from '../../components/Dialog';
import { ProblemText } from '../../components/ProblemText';
import { formatTime, relativeTime } from '../../lib/format';
import { problemOf, usePolled } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';

const KINDS: { id: MonitorKind; label: string; help: string }[] = [
  { id: 'digest', label: 'Digest', help: 'a summary of your jobs (costs nothing)' },
  { id: 'heartbeat', label: 'Heartbeat', help: 'long-running jobs are still alive' },
  { id: 'prompt', label: 'Prompt', help: 'asks the agent (uses the model)' },
];

/** Cron monitors: their next run and last outcome; create, pause, resume, remove. */
export function MonitorsScreen({ highlight }: { highlight: string | null }) {
  const monitors = usePolled(() => call(hpc().monitorsList()), 10_000);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [removing, setRemoving] = useState<MonitorView | null>(null);
  const headingId = useId();

  async function act(what: () => Promise<unknown>): Promise<void> {
    setProblem(null);
    try {
      await what();
      await monitors.reload();
    } catch (e) {
      setProblem(problemOf(e));
    }
  }

  return (
    <section className="panel" aria-labelledby={headingId}>
      <div className="panel-header">
        <div>
          <h2 id={headingId} tabIndex={-1}>
            Monitors
          </h2>
          <p className="muted">Scheduled reports. A run missed while the laptop slept runs once on wake; older misses are recorded, never replayed in a burst.</p>
        </div>
      </div>
      {(problem ?? monitors.problem) && <ProblemText problem={(problem ?? monitors.problem) as Problem} />}
      {monitors.value && monitors.value.length === 0 && <p className="empty">No monitors yet.</p>}
      {monitors.value && monitors.value.length > 0 && (
        <table className="monitors" aria-label="Monitors">
          <thead>
            <tr>
              <th scope="col">Monitor</th>
              <th scope="col">Schedule</th>
              <th scope="col">Goes to</th>
              <th scope="col">Next run</th>
              <th scope="col">Last outcome</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {monitors.value.map((m) => (
              <tr key={m.id} data-monitor-id={m.id} className={m.id === highlight ? 'highlight' : undefined}>
                <td>
                  <span className="name">{m.name}</span>
                  <span className="muted"> · #{m.id} · {m.kind}</span>
                  {m.costPerRun && <div className="muted">{m.costPerRun}</div>}
                </td>
                <td>
                  {m.description}
                  <div className="muted">{m.timezone}</div>
                </td>
                <td>{m.targetDescription}</td>
                <td>
                  {m.status === 'paused' ? <span className="badge state-cancelled">paused</span> : m.status === 'finished' ? 'finished' : m.nextRunAt ? `${formatTime(m.nextRunAt)} (${relativeTime(m.nextRunAt)})` : '—'}
                </td>
                <td className={m.lastOutcome?.startsWith('failed') ? 'outcome bad' : 'outcome'}>
                  {m.lastOutcome ?? 'not run yet'}
                  {m.lastRunAt && <div className="muted">{formatTime(m.lastRunAt)}</div>}
                </td>
                <td>
                  <div className="row-actions">
                    {m.status === 'active' && (
                      <button type="button" className="secondary small" aria-label={`Pause ${m.name}`} onClick={() => void act(() => call(hpc().monitorsPause(m.id)))}>
                        Pause
                      </button>
                    )}
                    {m.status === 'paused' && (
                      <button type="button" className="secondary small" aria-label={`Resume ${m.name}`} onClick={() => void act(() => call(hpc().monitorsResume(m.id)))}>
                        Resume
                      </button>
                    )}
                    <button type="button" className="secondary small" aria-label={`Remove ${m.name}`} onClick={() => setRemoving(m)}>
                      Remove
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CreateMonitor onCreated={() => void monitors.reload()} />
      {removing && (
        <Dialog title={`Remove “${removing.name}”?`} onClose={() => setRemoving(null)}>
          <p>It stops running and its history goes with it.</p>
          <div className="actions dialog-actions">
            <button
              type="button"
              className="danger"
              onClick={() => {
                const id = removing.id;
                setRemoving(null);
                void act(() => call(hpc().monitorsRemove(id)));
              }}
            >
              Remove
            </button>
            <button type="button" className="secondary" onClick={() => setRemoving(null)}>
              Keep it
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}

function CreateMonitor({ onCreated }: { onCreated: () => void }) {
  const [v, setV] = useState({ schedule: '', kind: 'digest' as MonitorKind, to: 'slack', name: '', prompt: '' });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { heading: useId(), schedule: useId(), scheduleHelp: useId(), kind: useId(), to: useId(), toHelp: useId(), name: useId(), prompt: useId(), err: useId() };

  async function create(): Promise<void> {
    setBusy(true);
    setProblem(null);
    try {
      await call(
        hpc().monitorsCreate({
          schedule: v.schedule,
          kind: v.kind,
          to: v.to,
          ...(v.name.trim() ? { name: v.name.trim() } : {}),
          ...(v.kind === 'prompt' ? { prompt: v.prompt } : {}),
        }),
      );
      setV({ ...v, schedule: '', name: '', prompt: '' });
      onCreated();
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="subsection" aria-labelledby={ids.heading}>
      <h3 id={ids.heading}>New monitor</h3>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div className="field-row">
          <div className="field">
            <label htmlFor={ids.schedule}>Schedule</label>
            <input
              id={ids.schedule}
              value={v.schedule}
              placeholder="every 30m"
              spellCheck={false}
              aria-describedby={problem ? `${ids.scheduleHelp} ${ids.err}` : ids.scheduleHelp}
              aria-invalid={problem ? true : undefined}
              onChange={(e) => setV({ ...v, schedule: e.target.value })}
            />
            <p id={ids.scheduleHelp} className="hint">
              every 5m, hourly, daily at 9am, weekdays at 18:00, or a cron expression.
            </p>
          </div>
          <div className="field">
            <label htmlFor={ids.kind}>Kind</label>
            <select id={ids.kind} value={v.kind} onChange={(e) => setV({ ...v, kind: e.target.value as MonitorKind })}>
              {KINDS.map((k) => (
                <option key={k.id} value={k.id}>
                  {k.label}: {k.help}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.to}>Goes to</label>
            <input id={ids.to} value={v.to} spellCheck={false} aria-describedby={ids.toHelp} onChange={(e) => setV({ ...v, to: e.target.value })} />
            <p id={ids.toHelp} className="hint">
              slack (home channel), dm:U012ABCDEF, tray, or file:PATH.
            </p>
          </div>
          <div className="field">
            <label htmlFor={ids.name}>Name (optional)</label>
            <input id={ids.name} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />
          </div>
        </div>
        {v.kind === 'prompt' && (
          <div className="field">
            <label htmlFor={ids.prompt}>Prompt</label>
            <textarea id={ids.prompt} rows={3} value={v.prompt} onChange={(e) => setV({ ...v, prompt: e.target.value })} />
          </div>
        )}
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create monitor'}
          </button>
        </div>
      </form>
      {problem && <ProblemText problem={problem} id={ids.err} />}
    </section>
  );
}
