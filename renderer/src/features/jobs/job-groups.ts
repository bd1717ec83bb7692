/**
 * The Jobs list folds a job array (tasks `800_0` … `800_99`) into one row: `800_[0-99]`, its
 * states counted, the longest elapsed, the best key metric by its goal. Pure, so it is unit-tested
 * (test/unit/renderer-job-groups.test.ts); JobsScreen renders what it returns.
 */
import type { JobSummaryView } from '../../../../preload/contract.js';

const TASK_ID = /^(\d+)_(\d+)$/;

export interface JobArrayGroup {
  /** The array's job id: `800`. */
  baseId: string;
  /** `800_[0-3,7]`. */
  label: string;
  /** The first task's name (untrusted text). */
  name: string;
  /** The tasks, by task index. */
  tasks: JobSummaryView[];
  /** The one state all tasks share, or null when they differ (then see `stateCounts`). */
  state: string | null;
  /** Each state with its count, in the order the states first appear in the list. */
  stateCounts: { state: string; count: number }[];
  /** The tasks' partitions, each once, in order (usually one). */
  partitions: string[];
  /** The longest task elapsed, or null when no task has one. */
  elapsedSec: number | null;
  /** The best task's key metric (highest accuracy, lowest loss), or null. */
  keyMetric: JobSummaryView['keyMetric'];
}

export type JobListItem = { kind: 'job'; job: JobSummaryView } | { kind: 'array'; group: JobArrayGroup };

/** `0-3,7,9-10` from task indexes (sorted, duplicates dropped). */
export function taskRanges(tasks: readonly number[]): string {
  const sorted = [...new Set(tasks)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i] as number;
    let end = start;
    while (sorted[i + 1] === end + 1) end = sorted[++i] as number;
    parts.push(end === start ? String(start) : `${start}-${end}`);
  }
  return parts.join(',');
}

/** `4 running, 6 completed, 90 pending`. */
export function stateCountsText(counts: readonly { state: string; count: number }[]): string {
  return counts.map((c) => `${c.count} ${c.state.toLowerCase()}`).join(', ');
}

/**
 * The best of the tasks' key metrics, by the goal the core gave each (accuracy up, loss down): an
 * accuracy is preferred over a loss when tasks differ, and only that series is compared; a value
 * that is NaN (null) loses to any number. Null when no task has a metric whose goal is known.
 */
export function bestKeyMetric(tasks: readonly JobSummaryView[]): JobSummaryView['keyMetric'] {
  const metrics = tasks.map((t) => t.keyMetric).filter((m): m is NonNullable<JobSummaryView['keyMetric']> => m !== null && m.goal !== null);
  const key = metrics.find((m) => m.goal === 'max') ?? metrics[0];
  if (!key) return null;
  let best: JobSummaryView['keyMetric'] = null;
  for (const m of metrics) {
    if (m.series !== key.series) continue;
    if (best === null || (m.value !== null && (best.value === null || (key.goal === 'max' ? m.value > best.value : m.value < best.value)))) best = m;
  }
  return best;
}

function arrayGroup(baseId: string, tasks: readonly JobSummaryView[]): JobArrayGroup {
  const index = (t: JobSummaryView) => Number(TASK_ID.exec(t.jobId)?.[2]);
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const stateCounts = [...counts].map(([state, count]) => ({ state, count }));
  const elapsed = tasks.map((t) => t.elapsedSec).filter((e): e is number => e !== null && Number.isFinite(e));
  return {
    baseId,
    label: `${baseId}_[${taskRanges(tasks.map(index))}]`,
    name: tasks[0]?.name ?? '',
    tasks: [...tasks].sort((a, b) => index(a) - index(b)),
    state: stateCounts.length === 1 ? (stateCounts[0]?.state ?? null) : null,
    stateCounts,
    partitions: [...new Set(tasks.map((t) => t.partition).filter((p): p is string => p !== null))],
    elapsedSec: elapsed.length > 0 ? Math.max(...elapsed) : null,
    keyMetric: bestKeyMetric(tasks),
  };
}

/**
 * The list's rows: each array with 2 or more tasks in `jobs` as one group, standing where its first
 * task was; every other job (and an array's lone task) as itself, in order. Fold the already
 * filtered list, so a group holds only the tasks that match.
 */
export function foldJobArrays(jobs: readonly JobSummaryView[]): JobListItem[] {
  const arrays = new Map<string, JobSummaryView[]>();
  for (const j of jobs) {
    const base = TASK_ID.exec(j.jobId)?.[1];
    if (base === undefined) continue;
    const tasks = arrays.get(base);
    if (tasks) tasks.push(j);
    else arrays.set(base, [j]);
  }
  const items: JobListItem[] = [];
  const placed = new Set<string>();
  for (const j of jobs) {
    const base = TASK_ID.exec(j.jobId)?.[1];
    const tasks = base === undefined ? [] : (arrays.get(base) ?? []);
    if (base === undefined || tasks.length < 2) {
      items.push({ kind: 'job', job: j });
      continue;
    }
    if (placed.has(base)) continue;
    placed.add(base);
    items.push({ kind: 'array', group: arrayGroup(base, tasks) });
  }
  return items;
}
