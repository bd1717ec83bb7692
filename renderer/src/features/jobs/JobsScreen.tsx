import { useId, useMemo, useState } from 'react';
import type { JobSummaryView } from '../../../../preload/contract';
import type { Go } from '../../App';
import { call, hpc } from '../../api';
import { Loadable } from '../../components/Loadable';
import { Panel } from '../../components/Panel';
import { formatElapsed, formatMetric, stateGroup } from '../../lib/format';
import type { StateGroup } from '../../lib/format';
import { useAction } from '../../lib/hooks';
import { anyJob, useLive } from '../../lib/live';
import { foldJobArrays, stateCountsText } from './job-groups';
import type { JobArrayGroup, JobListItem } from './job-groups';
import { JobDetail } from './JobDetail';
import { SubmitDialog } from './SubmitDialog';

type Filter = 'all' | StateGroup;

const FILTERS: { id: Filter; label: string }[] = [
  { id: 'all', label: 'All states' },
  { id: 'active', label: 'Pending or running' },
  { id: 'done', label: 'Completed' },
  { id: 'failed', label: 'Failed' },
  { id: 'cancelled', label: 'Cancelled' },
];

export function JobsScreen({ jobId, go }: { jobId: string | null; go: Go }) {
  if (jobId) return <JobDetail key={jobId} jobId={jobId} go={go} />;
  return <JobList go={go} />;
}

function JobList({ go }: { go: Go }) {
  // Read from the local store (no cluster call) whenever a job changes: the job service keeps it current.
  const jobs = useLive(() => call(hpc().jobsList()), anyJob);
  const [filter, setFilter] = useState<Filter>('all');
  const [text, setText] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const refresh = useAction();
  const ids = { filter: useId(), text: useId() };
  // The job arrays shown open, by array id: kept here, so a group stays open while the list reloads
  // or the filters change (even to nothing and back).
  const [openArrays, setOpenArrays] = useState<ReadonlySet<string>>(() => new Set());
  const toggleArray = (baseId: string) =>
    setOpenArrays((prev) => {
      const next = new Set(prev);
      if (!next.delete(baseId)) next.add(baseId);
      return next;
    });

  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    return (jobs.value ?? []).filter(
      (j) =>
        (filter === 'all' || stateGroup(j.state) === filter) &&
        (!needle || [j.jobId, j.name, j.templateId ?? '', j.partition ?? '', j.state].some((v) => v.toLowerCase().includes(needle))),
    );
  }, [jobs.value, filter, text]);

  const actions = (
    <div className="actions">
      <button
        type="button"
        className="secondary"
        onClick={() =>
          void refresh.run(async () => {
            await call(hpc().jobsRefresh());
            await jobs.reload();
          })
        }
        disabled={refresh.busy}
      >
        {refresh.busy ? 'Checking…' : 'Check the cluster now'}
      </button>
      <button type="button" onClick={() => setSubmitting(true)}>
        Submit a job…
      </button>
    </div>
  );

  return (
    <Panel title="Jobs" intro="Your SLURM jobs, kept current by the events file and one squeue + sacct per poll." actions={actions}>
      <div className="toolbar" role="search" aria-label="Filter jobs">
        <label htmlFor={ids.filter} className="visually-hidden">
          State
        </label>
        <select id={ids.filter} value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
          {FILTERS.map((f) => (
            <option key={f.id} value={f.id}>
              {f.label}
            </option>
          ))}
        </select>
        <label htmlFor={ids.text} className="visually-hidden">
          Search
        </label>
        <input id={ids.text} type="search" placeholder="Search id, name, template…" value={text} onChange={(e) => setText(e.target.value)} />
        <span className="muted" aria-live="polite">
          {jobs.value ? `${shown.length} of ${jobs.value.length}` : ''}
        </span>
      </div>
      <Loadable loaded={jobs} problem={refresh.problem} empty="No jobs yet. Submit one, or run one from Slack or `hpc-relay submit`." isEmpty={(all) => all.length === 0}>
        {() => shown.length > 0 && <JobTable jobs={shown} go={go} open={openArrays} toggle={toggleArray} />}
      </Loadable>
      {submitting && (
        <SubmitDialog
          onClose={() => setSubmitting(false)}
          onSubmitted={(id) => {
            setSubmitting(false);
            void jobs.reload();
            go({ screen: 'jobs', jobId: id });
          }}
        />
      )}
    </Panel>
  );
}

function JobTable({ jobs, go, open, toggle }: { jobs: JobSummaryView[]; go: Go; open: ReadonlySet<string>; toggle: (baseId: string) => void }) {
  // Job arrays fold into one row each (job-groups.ts), from the filtered list.
  const segments = useMemo(() => tableSegments(foldJobArrays(jobs)), [jobs]);
  const openJob = (jobId: string) => go({ screen: 'jobs', jobId });
  return (
    <table className="jobs" aria-label="Jobs">
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Name</th>
          <th scope="col">State</th>
          <th scope="col">Elapsed</th>
          <th scope="col">Partition</th>
          <th scope="col">Key metric</th>
          <th scope="col">Node / reason</th>
        </tr>
      </thead>
      {segments.map((s) =>
        s.kind === 'jobs' ? (
          <tbody key={`jobs-${s.jobs[0]?.jobId ?? ''}`}>
            {s.jobs.map((j) => (
              <JobRow key={j.jobId} job={j} open={() => openJob(j.jobId)} />
            ))}
          </tbody>
        ) : (
          <ArrayRows key={`array-${s.group.baseId}`} group={s.group} expanded={open.has(s.group.baseId)} toggle={() => toggle(s.group.baseId)} openJob={openJob} />
        ),
      )}
    </table>
  );
}

type Segment = { kind: 'jobs'; jobs: JobSummaryView[] } | { kind: 'array'; group: JobArrayGroup };

/** Runs of plain jobs share a <tbody>; each array gets its own, and one more for its tasks (what its disclosure controls). */
function tableSegments(items: readonly JobListItem[]): Segment[] {
  const out: Segment[] = [];
  for (const item of items) {
    const last = out.at(-1);
    if (item.kind === 'array') out.push(item);
    else if (last?.kind === 'jobs') last.jobs.push(item.job);
    else out.push({ kind: 'jobs', jobs: [item.job] });
  }
  return out;
}

function ArrayRows({ group, expanded, toggle, openJob }: { group: JobArrayGroup; expanded: boolean; toggle: () => void; openJob: (jobId: string) => void }) {
  const tasksId = useId();
  const n = group.tasks.length;
  return (
    <>
      <tbody className="job-array">
        <tr data-array-id={group.baseId}>
          <td>
            <button type="button" className="link-button disclosure" aria-expanded={expanded} aria-controls={tasksId} onClick={toggle}>
              <span className="disclosure-mark" aria-hidden="true">
                {expanded ? '▾' : '▸'}
              </span>
              <span className="visually-hidden">{`Show the ${n} tasks of array `}</span>
              {group.label}
            </button>
          </td>
          <td className="name">{group.name}</td>
          <td>{group.state !== null ? <StateBadge state={group.state} /> : <span className="state-counts">{stateCountsText(group.stateCounts)}</span>}</td>
          <td>{formatElapsed(group.elapsedSec)}</td>
          <td>{group.partitions.length > 0 ? group.partitions.join(', ') : '—'}</td>
          <td>{metricText(group.keyMetric)}</td>
          <td className="muted where">{`${n} tasks`}</td>
        </tr>
      </tbody>
      <tbody id={tasksId} className="job-array-tasks">
        {expanded && group.tasks.map((j) => <JobRow key={j.jobId} job={j} open={() => openJob(j.jobId)} />)}
      </tbody>
    </>
  );
}

function metricText(m: JobSummaryView['keyMetric']): string {
  return m ? `${m.series} ${formatMetric(m.value)}` : '—';
}

function JobRow({ job, open }: { job: JobSummaryView; open: () => void }) {
  return (
    <tr data-job-id={job.jobId}>
      <td>
        <button type="button" className="link-button" onClick={open} aria-label={`Open job ${job.jobId}`}>
          {job.jobId}
        </button>
      </td>
      <td className="name">{job.name}</td>
      <td>
        <StateBadge state={job.state} />
      </td>
      <td>{formatElapsed(job.elapsedSec)}</td>
      <td>{job.partition ?? '—'}</td>
      <td>{metricText(job.keyMetric)}</td>
      <td className="muted where">{job.where ?? ''}</td>
    </tr>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${stateGroup(state)}`}>{state}</span>;
}
