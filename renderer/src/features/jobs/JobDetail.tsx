import { useId, useState } from 'react';
import type { JobDetailView } from '../../../../preload/contract';
import type { Go } from '../../App';
import { call, hpc } from '../../api';
import { Dialog } from '../../components/Dialog';
import { Field, Form, SubmitButton } from '../../components/Field';
import { Panel } from '../../components/Panel';
import { ProblemText } from '../../components/ProblemText';
import { formatBytes, formatElapsed, formatTime } from '../../lib/format';
import { useAction, usePolled } from '../../lib/hooks';
import { useLive } from '../../lib/live';
import { StateBadge } from './JobsScreen';
import { LogView } from './LogView';
import { MetricsChart } from './MetricsChart';

/** Metrics need one remote read, so they are read on a timer; the detail is read from the local store when the job changes. */
const METRICS_EVERY_MS = 10_000;

export function JobDetail({ jobId, go }: { jobId: string; go: Go }) {
  const detail = useLive(() => call(hpc().jobsDetail(jobId)), (c) => c.jobIds.includes(jobId), jobId);
  const final = detail.value?.job.final ?? false;
  // While it runs, every 10 s; once it ended, once more (the effect restarts when `final` flips).
  const metrics = usePolled(() => call(hpc().jobsMetrics(jobId)), detail.value && !final ? METRICS_EVERY_MS : null, `${jobId}:${String(final)}`);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const cancelling = useAction();
  const d = detail.value;

  async function cancel(): Promise<void> {
    await cancelling.run(async () => {
      try {
        await call(hpc().jobsCancel(jobId));
      } finally {
        setConfirmCancel(false);
      }
      await detail.reload();
    });
  }

  const back = (
    <button type="button" className="link-button back" onClick={() => go({ screen: 'jobs' })}>
      ← All jobs
    </button>
  );
  const title = (
    <>
      Job {jobId}
      {d && <span className="job-name"> · {d.job.name}</span>}
    </>
  );
  const actions = (
    <div className="actions">
      {d && <StateBadge state={d.job.state} />}
      {d && !d.job.final && (
        <button type="button" className="danger" onClick={() => setConfirmCancel(true)}>
          Cancel job…
        </button>
      )}
    </div>
  );

  return (
    <Panel title={title} before={back} actions={actions}>
      {detail.problem && <ProblemText problem={detail.problem} />}
      {cancelling.problem && <ProblemText problem={cancelling.problem} />}
      {d && (
        <>
          <Facts d={d} />
          <SlackThread d={d} />
          <MemoryUse maxRss={d.maxRssBytes} req={d.reqMemBytes} />
          <section className="subsection" aria-label="Metrics">
            <h3>Metrics</h3>
            {metrics.problem && <p className="fix">{metrics.problem.message}</p>}
            {metrics.value ? <MetricsChart series={metrics.value} /> : <p className="muted">Reading metrics…</p>}
          </section>
          <LogView jobId={jobId} live={!d.job.final} />
          {d.submission && <ResubmitForm d={d} go={go} />}
        </>
      )}
      {confirmCancel && d && (
        <Dialog title={`Cancel job ${jobId}?`} onClose={() => setConfirmCancel(false)}>
          <p>
            {d.job.name} ({d.job.state}) stops now. Its output so far stays on the cluster; this cannot be undone.
          </p>
          <div className="actions dialog-actions">
            <button type="button" className="danger" disabled={cancelling.busy} onClick={() => void cancel()}>
              {cancelling.busy ? 'Cancelling…' : 'Cancel the job'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmCancel(false)}>
              Keep it running
            </button>
          </div>
        </Dialog>
      )}
    </Panel>
  );
}

function Facts({ d }: { d: JobDetailView }) {
  const j = d.job;
  const rows: [string, string][] = [
    ['Elapsed', `${formatElapsed(j.elapsedSec)}${d.timeLimitSec ? ` of ${formatElapsed(d.timeLimitSec)}` : ''}`],
    ['Partition', j.partition ?? '—'],
    [j.state === 'PENDING' ? 'Reason' : 'Node', (j.state === 'PENDING' ? j.where : d.nodeList) ?? '—'],
    ['Exit', j.exitCode ?? (j.final ? '—' : 'still running')],
    ['Source', d.submission ? `${d.submission.kind === 'template' ? 'template' : 'script'} ${d.submission.source}` : j.adopted ? 'submitted outside HPC Relay' : '—'],
    ['Submitted', d.submission ? formatTime(d.submission.submittedAt) : '—'],
  ];
  if (d.failureClass && j.final && j.state !== 'COMPLETED') rows.push(['Failure', d.failureClass]);
  if (d.submission?.resubmitOf) rows.push(['Resubmit of', d.submission.resubmitOf]);
  return (
    <dl className="facts">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * The job's report thread in Slack, opened in the browser (main asks Slack for its link and opens
 * only an https slack.com one). Without a report there is no thread yet: the reason says when one comes.
 */
function SlackThread({ d }: { d: JobDetailView }) {
  const opening = useAction();
  const reasonId = useId();

  return (
    <div className="slack-thread">
      {d.slackThread ? (
        <button type="button" className="secondary small" disabled={opening.busy} onClick={() => void opening.run(() => call(hpc().jobsOpenSlackThread(d.job.jobId)))}>
          {opening.busy ? 'Opening…' : 'Open the Slack thread'}
        </button>
      ) : (
        <>
          <button type="button" className="secondary small" disabled aria-describedby={reasonId}>
            Open the Slack thread
          </button>
          <span className="muted" id={reasonId}>
            {' '}
            No Slack thread yet: a report is posted there when the job ends, while Slack is on.
          </span>
        </>
      )}
      {opening.problem && <ProblemText problem={opening.problem} />}
    </div>
  );
}

/** sacct's MaxRSS against the memory asked for: how close the job came to being killed. */
function MemoryUse({ maxRss, req }: { maxRss: number | null; req: number | null }) {
  if (maxRss === null && req === null) return null;
  const pct = maxRss !== null && req ? Math.round((maxRss / req) * 100) : null;
  return (
    <div className="memory">
      <span className="memory-label">Memory (MaxRSS vs requested)</span>
      {req !== null && maxRss !== null && (
        <meter min={0} max={req} low={req * 0.75} high={req * 0.95} optimum={req * 0.4} value={Math.min(maxRss, req)} aria-label="Peak memory use against the memory requested" />
      )}
      <span>
        {formatBytes(maxRss)} of {formatBytes(req)} requested{pct !== null ? ` (${pct}%)` : ''}
        {maxRss === null ? ' · peak known once sacct reports it' : ''}
      </span>
    </div>
  );
}

/** The same job again with other resources: memory, time limit, partition. */
function ResubmitForm({ d, go }: { d: JobDetailView; go: Go }) {
  const sub = d.submission;
  const initial = {
    mem: sub?.mem ?? (typeof sub?.params['mem'] === 'string' ? sub.params['mem'] : ''),
    time: sub?.time ?? (typeof sub?.params['time'] === 'string' ? sub.params['time'] : ''),
    partition: d.job.partition ?? '',
  };
  const [v, setV] = useState(initial);
  const resubmitting = useAction();
  const headingId = useId();

  async function resubmit(): Promise<void> {
    const changes: { mem?: string; time?: string; partition?: string } = {};
    for (const k of ['mem', 'time', 'partition'] as const) if (v[k].trim() && v[k].trim() !== initial[k]) changes[k] = v[k].trim();
    await resubmitting.run(async () => {
      const r = await call(hpc().jobsResubmit(d.job.jobId, changes));
      go({ screen: 'jobs', jobId: r.jobId });
    });
  }

  const fields = [
    { key: 'mem', label: 'Memory', placeholder: '8G' },
    { key: 'time', label: 'Time limit', placeholder: '04:00:00' },
    { key: 'partition', label: 'Partition', placeholder: undefined },
  ] as const;

  return (
    <section className="subsection" aria-labelledby={headingId}>
      <h3 id={headingId}>Resubmit</h3>
      <Form onSubmit={() => void resubmit()}>
        <div className="field-row">
          {fields.map((f) => (
            <Field key={f.key} label={f.label}>
              {(control) => <input {...control} value={v[f.key]} placeholder={f.placeholder} spellCheck={false} onChange={(e) => setV({ ...v, [f.key]: e.target.value })} />}
            </Field>
          ))}
          <div className="field field-button">
            <SubmitButton busy={resubmitting.busy} busyLabel="Resubmitting…">
              Resubmit
            </SubmitButton>
          </div>
        </div>
      </Form>
      {resubmitting.problem && <ProblemText problem={resubmitting.problem} />}
    </section>
  );
}
