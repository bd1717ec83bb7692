/**
 * The `status` reply: one row per job, and one row per job array (its tasks folded: `123_[0-99]`,
 * their states counted, the longest elapsed, the best key metric), so a 100-task array is one
 * line on a phone instead of forty rows and "…and 60 more".
 */
import type { JobSummary } from './jobs-api.js';
import { keyMetric } from '../slurm/metrics-parser.js';
import { clipText, codeBlock, formatDuration, table } from './format.js';
import { metricText } from '../notify/sweep-messages.js';

export const MAX_STATUS_ROWS = 40;

interface StatusRow {
  id: string;
  state: string;
  elapsedSec: number | null;
  best: JobSummary['best'] | undefined;
  name: string;
  where: string;
}

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

/** `3 running, 1 pending` in the order the states first appear. */
export function countStates(states: readonly string[]): string {
  const n = new Map<string, number>();
  for (const s of states) n.set(s, (n.get(s) ?? 0) + 1);
  return [...n].map(([s, c]) => `${c} ${s.toLowerCase()}`).join(', ');
}

function bestOf(tasks: readonly JobSummary[]): JobSummary['best'] | undefined {
  const withBest = tasks.filter((t) => t.best);
  const key = keyMetric(withBest.map((t) => t.best?.series ?? ''));
  if (!key) return undefined;
  const same = withBest.map((t) => t.best).filter((b): b is NonNullable<JobSummary['best']> => b?.series === key.name);
  return same.reduce<JobSummary['best'] | undefined>((acc, b) => (acc === undefined || (key.goal === 'max' ? b.value > acc.value : b.value < acc.value) ? b : acc), undefined);
}

/** Rows in the list's order; an array's row stands where its first task was. */
export function statusRows(list: readonly JobSummary[]): StatusRow[] {
  const arrays = new Map<string, JobSummary[]>();
  for (const j of list) {
    const m = /^(\d+)_(\d+)$/.exec(j.jobId);
    if (m) arrays.set(m[1] as string, [...(arrays.get(m[1] as string) ?? []), j]);
  }
  const rows: StatusRow[] = [];
  const done = new Set<string>();
  for (const j of list) {
    const base = /^(\d+)_\d+$/.exec(j.jobId)?.[1];
    const tasks = base ? arrays.get(base) ?? [] : [];
    if (!base || tasks.length < 2) {
      rows.push({ id: j.jobId, state: j.state, elapsedSec: j.elapsedSec, best: j.best, name: j.name, where: j.where ?? '' });
      continue;
    }
    if (done.has(base)) continue;
    done.add(base);
    const ids = tasks.map((t) => Number(t.jobId.slice(base.length + 1)));
    const elapsed = tasks.map((t) => t.elapsedSec).filter((e): e is number => e !== null);
    const states = new Set(tasks.map((t) => t.state));
    rows.push({
      id: `${base}_[${taskRanges(ids)}]`,
      state: states.size === 1 ? j.state : countStates(tasks.map((t) => t.state)),
      elapsedSec: elapsed.length > 0 ? Math.max(...elapsed) : null,
      best: bestOf(tasks),
      name: j.name,
      where: `${tasks.length} tasks`,
    });
  }
  return rows;
}

/** The whole reply text: a heading with the counts by state, then the table. */
export function statusText(list: readonly JobSummary[]): string {
  if (list.length === 0) return 'No tracked jobs.';
  const all = statusRows(list);
  const shown = all.slice(0, MAX_STATUS_ROWS);
  // The BEST column (the key metric's best value, e.g. `val_acc 0.8731`) only when a row has one.
  const withBest = shown.some((r) => r.best);
  const rows = shown.map((r) => [
    clipText(r.id, 40), clipText(r.state, 60), formatDuration(r.elapsedSec), ...(withBest ? [r.best ? `${clipText(r.best.series, 24)} ${metricText(r.best.value)}` : ''] : []), clipText(r.name, 40), clipText(r.where, 40),
  ]);
  const more = all.length > MAX_STATUS_ROWS ? `\n…and ${all.length - MAX_STATUS_ROWS} more.` : '';
  const head = `*${list.length} job${list.length === 1 ? '' : 's'}* (${countStates(list.map((j) => j.state))})`;
  return `${head}\n${codeBlock(table(['JOB', 'STATE', 'ELAPSED', ...(withBest ? ['BEST'] : []), 'NAME', 'WHERE'], rows))}${more}`;
}
