/**
 * A job list with each job array folded into one entry (its tasks `123_0` … `123_99` as
 * `123_[0-99]`, their states counted, the longest elapsed, the best key metric by its goal): how
 * Slack's `status` and `hpc-relay jobs` show arrays, so a 100-task sweep is one line.
 */
import { keyMetric } from '../slurm/metrics-parser.js';
import type { BestMetric } from './job-types.js';

/** What folding reads of a job. */
export interface Foldable {
  jobId: string;
  state: string;
  elapsedSec: number | null;
  best?: BestMetric;
}

export type ListEntry<T extends Foldable> =
  | { kind: 'job'; job: T }
  | { kind: 'array'; id: string; baseId: string; tasks: T[]; state: string; elapsedSec: number | null; best: BestMetric | undefined };

/** `0-3,7,9-10` from task indexes. */
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

/** `3 running, 1 pending`, in the order the states first appear. */
export function countStates(states: readonly string[]): string {
  const n = new Map<string, number>();
  for (const s of states) n.set(s, (n.get(s) ?? 0) + 1);
  return [...n].map(([s, c]) => `${c} ${s.toLowerCase()}`).join(', ');
}

/** The best value among the tasks of the key metric they share (val_acc highest, a loss lowest). */
function bestOf(tasks: readonly Foldable[]): BestMetric | undefined {
  const all = tasks.flatMap((t) => (t.best ? [t.best] : []));
  const key = keyMetric(all.map((b) => b.series));
  if (!key) return undefined;
  return all.filter((b) => b.series === key.name).reduce<BestMetric | undefined>((acc, b) => (acc === undefined || (key.goal === 'max' ? b.value > acc.value : b.value < acc.value) ? b : acc), undefined);
}

const TASK = /^(\d+)_(\d+)$/;

/** Entries in the list's order; an array (2 or more of its tasks in the list) stands where its first task was. */
export function foldArrays<T extends Foldable>(list: readonly T[]): ListEntry<T>[] {
  const arrays = new Map<string, T[]>();
  for (const j of list) {
    const base = TASK.exec(j.jobId)?.[1];
    if (base) arrays.set(base, [...(arrays.get(base) ?? []), j]);
  }
  const out: ListEntry<T>[] = [];
  const done = new Set<string>();
  for (const j of list) {
    const base = TASK.exec(j.jobId)?.[1];
    const tasks = base ? arrays.get(base) ?? [] : [];
    if (!base || tasks.length < 2) {
      out.push({ kind: 'job', job: j });
      continue;
    }
    if (done.has(base)) continue;
    done.add(base);
    const elapsed = tasks.map((t) => t.elapsedSec).filter((e): e is number => e !== null);
    const states = new Set(tasks.map((t) => t.state));
    out.push({
      kind: 'array',
      id: `${base}_[${taskRanges(tasks.map((t) => Number(t.jobId.slice(base.length + 1))))}]`,
      baseId: base,
      tasks,
      state: states.size === 1 ? j.state : countStates(tasks.map((t) => t.state)),
      elapsedSec: elapsed.length > 0 ? Math.max(...elapsed) : null,
      best: bestOf(tasks),
    });
  }
  return out;
}
