import { useId, useState } from 'react';
import type { JobDetailView } from '../../../../preload/contract';
import type { Go } from '../../App';
import { call, hpc } from '../../api';
import { Dialog } from '../../components/Dialog';
import { ProblemText } from '../../components/ProblemText';
import { formatBytes, formatElapsed, formatTime } from '../../lib/format';
import { problemOf, usePolled } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';
import { StateBadge } from './JobsScreen';
import { LogView } from './LogView';
import { MetricsChart } from './MetricsChart';

/** The detail is read from the local store; metrics need one remote read, so less often. */
const DETAIL_EVERY_MS = 2000;
const METRICS_EVERY_MS = 10_000;

export function JobDetail({ jobId, go }: { jobId: string; go: Go }) {
  const detail = usePolled(() => call(hpc().jobsDetail(jobId)), DETAIL_EVERY_MS, jobId);
  const final = detail.value?.job.final ?? false;
  // While it runs, every 10 s; once it ended, once more (the effect restarts when `final` flips).
  const metrics = usePolled(() => call(hpc().jobsMetrics(jobId)), detail.value && !final ? METRICS_EVERY_MS : null, `${jobId}:${String(final)}`);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const headingId = useId();
  const d = detail.value;

  async function cancel(): Promise<void> {
    setCancelling(true);
    setActionProblem(null);
    try {
      await call(hpc().jobsCancel(jobId));
      setConfirmCancel(false);
      await detail.reload();
    } catch (e) {
      setActionProblem(problemOf(e));
      setConfirmCancel(false);
    } finally {
      setCancelling(false);
    }
  }

  return (
    <section className="panel" aria-labelledby={headingId}>
      <div className="panel-header">
        <div>
          <button type="button" className="link-button back" onClick={() => go({ screen: 'jobs' })}>
            ← All jobs
          </button>
          <h2 id={headingId} tabIndex={-1}>
            Job {jobId}
            {d && <span className="job-name"> · {d.job.name}</span>}
          </h2>
        </div>
        <div className="actions">
          {d && <StateBadge state={d.job.state} />}
          {d && !d.job.final && (
            <button type="button" className="danger" onClick={() => setConfirmCancel(true)}>
              Cancel job…
            </button>
          )}
        </div>
      </div>
      {detail.problem && <ProblemText problem={detail.problem} />}
      {actionProblem && <ProblemText problem={actionProblem} />}
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
            <button type="button" className="danger" disabled={cancelling} onClick={() => void cancel()}>
              {cancelling ? 'Cancelling…' : 'Cancel the job'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmCancel(false)}>
              Keep it running
            </button>
          </div>
        </Dialog>
      )}
    </section>
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
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const reasonId = useId();

  async function open(): Promise<void> {
    setBusy(true);
    setProblem(null);
    try {
      await call(hpc().jobsOpenSlackThread(d.job.jobId));
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="slack-thread">
      {d.slackThread ? (
        <button type="button" className="secondary small" disabled={busy} onClick={() => void open()}>
          {busy ? 'Opening…' : 'Open the Slack thread'}
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
      {problem && <ProblemText problem={problem} />}
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
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const ids = { mem: useId(), time: useId(), partition: useId(), heading: useId() };

  async function resubmit(): Promise<void> {
    setBusy(true);
    setProblem(null);
    const changes: { mem?: string; time?: string; partition?: string } = {};
    for (const k of ['mem', 'time', 'partition'] as const) if (v[k].trim() && v[k].trim() !== initial[k]) changes[k] = v[k].trim();
    try {
      const r = await call(hpc().jobsResubmit(d.job.jobId, changes));
      go({ screen: 'jobs', jobId: r.jobId });
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="subsection" aria-labelledby={ids.heading}>
      <h3 id={ids.heading}>Resubmit</h3>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void resubmit();
        }}
      >
        <div className="field-row">
          <div className="field">
            <label htmlFor={ids.mem}>Memory</label>
            <input id={ids.mem} value={v.mem} placeholder="8G" spellCheck={false} onChange={(e) => setV({ ...v, mem: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={ids.time}>Time limit</label>
            <input id={ids.time} value={v.time} placeholder="04:00:00" spellCheck={false} onChange={(e) => setV({ ...v, time: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={ids.partition}>Partition</label>
            <input id={ids.partition} value={v.partition} spellCheck={false} onChange={(e) => setV({ ...v, partition: e.target.value })} />
          </div>
          <div className="field field-button">
            <button type="submit" disabled={busy}>
              {busy ? 'Resubmitting…' : 'Resubmit'}
            </button>
          </div>
        </div>
      </form>
      {problem && <ProblemText problem={problem} />}
    </section>
  );
}
