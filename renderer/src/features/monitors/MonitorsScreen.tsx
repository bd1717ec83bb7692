import { useId, useState } from 'react';
import type { MonitorKind, MonitorView } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { Dialog } from '../../components/Dialog';
import { Field, Form, SubmitButton } from '../../components/Field';
import { Loadable } from '../../components/Loadable';
import { Panel } from '../../components/Panel';
import { ProblemText } from '../../components/ProblemText';
import { formatTime, relativeTime } from '../../lib/format';
import { useAction, usePolled } from '../../lib/hooks';

const KINDS: { id: MonitorKind; label: string; help: string }[] = [
  { id: 'digest', label: 'Digest', help: 'a summary of your jobs (costs nothing)' },
  { id: 'heartbeat', label: 'Heartbeat', help: 'long-running jobs are still alive' },
  { id: 'prompt', label: 'Prompt', help: 'asks the agent (uses the model)' },
];

/** Cron monitors: their next run and last outcome; create, pause, resume, remove. */
export function MonitorsScreen({ highlight }: { highlight: string | null }) {
  const monitors = usePolled(() => call(hpc().monitorsList()), 10_000);
  const action = useAction();
  const [removing, setRemoving] = useState<MonitorView | null>(null);

  /** Pause, resume, remove: then the list again. */
  const act = (what: () => Promise<unknown>): Promise<boolean> =>
    action.run(async () => {
      await what();
      await monitors.reload();
    });

  return (
    <Panel title="Monitors" intro="Scheduled reports. A run missed while the laptop slept runs once on wake; older misses are recorded, never replayed in a burst.">
      <Loadable loaded={monitors} problem={action.problem} empty="No monitors yet." isEmpty={(list) => list.length === 0}>
        {(list) => (
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
              {list.map((m) => (
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
      </Loadable>
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
    </Panel>
  );
}

function CreateMonitor({ onCreated }: { onCreated: () => void }) {
  const [v, setV] = useState({ schedule: '', kind: 'digest' as MonitorKind, to: 'slack', name: '', prompt: '' });
  const creating = useAction();
  const ids = { heading: useId(), err: useId() };
  const problem = creating.problem;

  async function create(): Promise<void> {
    await creating.run(async () => {
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
    });
  }

  return (
    <section className="subsection" aria-labelledby={ids.heading}>
      <h3 id={ids.heading}>New monitor</h3>
      <Form onSubmit={() => void create()}>
        <div className="field-row">
          {/* The core's sentence about a schedule it cannot read shows under the form; the field points to it. */}
          <Field label="Schedule" help="every 5m, hourly, daily at 9am, weekdays at 18:00, or a cron expression." describedBy={problem ? ids.err : undefined} invalid={problem !== null}>
            {(control) => <input {...control} value={v.schedule} placeholder="every 30m" spellCheck={false} onChange={(e) => setV({ ...v, schedule: e.target.value })} />}
          </Field>
          <Field label="Kind">
            {(control) => (
              <select {...control} value={v.kind} onChange={(e) => setV({ ...v, kind: e.target.value as MonitorKind })}>
                {KINDS.map((k) => (
                  <option key={k.id} value={k.id}>
                    {k.label}: {k.help}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Goes to" help="slack (home channel), dm:U012ABCDEF, tray, or file:PATH.">
            {(control) => <input {...control} value={v.to} spellCheck={false} onChange={(e) => setV({ ...v, to: e.target.value })} />}
          </Field>
          <Field label="Name (optional)">{(control) => <input {...control} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}</Field>
        </div>
        {v.kind === 'prompt' && (
          <Field label="Prompt">{(control) => <textarea {...control} rows={3} value={v.prompt} onChange={(e) => setV({ ...v, prompt: e.target.value })} />}</Field>
        )}
        <div className="actions">
          <SubmitButton busy={creating.busy} busyLabel="Creating…">
            Create monitor
          </SubmitButton>
        </div>
      </Form>
      {problem && <ProblemText problem={problem} id={ids.err} />}
    </section>
  );
}
